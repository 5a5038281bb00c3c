#!/usr/bin/env bash
# The share of the floor at concurrency 64, measured robustly on a host whose speed drifts:
# alternates the same-request floor and coffer, one level each, N times per scenario, and
# prints every pair's share and the median. bench.sh measures each target once, minutes
# apart from its floor; on the project's VMs the floor alone moved by a third between such
# runs, so one pair says little about whether a target is met.
# Usage: scripts/bench-share.sh [pairs] [seconds] [scenario...]
#        (default 5 pairs of 5 s for sts-get-caller-identity, kms-encrypt, kms-decrypt,
#        kms-generate-data-key, secrets-get and ssm-get-parameter)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5}
DUR=${2:-5}
shift $(($# < 2 ? $# : 2))
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(sts-get-caller-identity kms-encrypt kms-decrypt
  kms-generate-data-key secrets-get ssm-get-parameter)
source scripts/bench-lib.sh

# req/s of one level at concurrency 64 (the setup step always runs on coffer).
rps() { # endpoint scenario
  "$BIN" bench --endpoint "$1" --setup-endpoint http://127.0.0.1:4566 --scenario "$2" \
    --concurrency 64 --duration "$DUR" --warmup 1 --label x --markdown \
    --access-key "$KEY" --secret-key "$SECRET" | awk -F'|' '/^\| x /{gsub(/ /, "", $8); print $8}'
}
echo "| scenario | floor req/s | coffer req/s | share |"
echo "| --- | ---: | ---: | ---: |"
for sc in "${SCENARIOS[@]}"; do
  shares=()
  for _ in $(seq "$N"); do
    floor=$(rps http://127.0.0.1:4599 "$sc")
    coffer=$(rps http://127.0.0.1:4566 "$sc")
    share=$(awk -v c="$coffer" -v f="$floor" 'BEGIN { printf "%.1f", 100 * c / f }')
    shares+=("$share")
    echo "| $sc | $floor | $coffer | $share% |"
  done
  median=$(printf '%s\n' "${shares[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  echo "| $sc | | **median of $N** | **$median%** |"
done
