#!/usr/bin/env bash
# Measures the full coffer pipeline (SigV4, authorization, durable audit) for STS
# GetCallerIdentity over HTTP and HTTPS; KMS Encrypt, Decrypt and GenerateDataKey; and
# Secrets Manager GetSecretValue and Parameter Store GetParameter (SecureString, decrypted)
# over HTTP, beside the bare HTTP floor and moto_server, all driven by `coffer bench` in the
# same run. Prints Markdown tables for BENCHMARKS.md.
# "floor (same request)" is the floor loaded with exactly the signed request coffer gets
# (setup done on coffer with --setup-endpoint), so the load tool's own work (signing,
# sending, parsing) is the same on both rows; "floor (unsigned GET)" is the smallest
# request the load tool can send, kept for comparison with earlier runs.
# Usage: scripts/bench.sh [seconds-per-level] [sts|kms|secrets|all]
#        (needs: pip install 'moto[server]')
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
WHAT=${2:-all}
source scripts/bench-lib.sh
moto_server -p 4598 >/dev/null 2>&1 & PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:4598/ && break; sleep 0.1; done

run() { # scenario label endpoint [extra args]
  local scenario=$1 label=$2 ep=$3; shift 3
  "$BIN" bench --endpoint "$ep" --scenario "$scenario" --concurrency 1,16,64 \
    --duration "$DUR" --warmup 1 --label "$label" --markdown "$@"
}
want() { [ "$WHAT" = all ] || [ "$WHAT" = "$1" ]; }
if want sts; then
  echo "### STS GetCallerIdentity, ${DUR}s per level, $(nproc) cores, $(date -u +%F)"
  echo
  run sts-get-caller-identity "floor (same request)" http://127.0.0.1:4599 --access-key x --secret-key y
  run sts-get-caller-identity "coffer (http)" http://127.0.0.1:4566 --access-key "$KEY" --secret-key "$SECRET" | tail -n +3
  run sts-get-caller-identity "coffer (https)" https://localhost:4566 --access-key "$KEY" --secret-key "$SECRET" --ca-bundle "$WORK/data/tls/ca.pem" | tail -n +3
  run sts-get-caller-identity moto_server http://127.0.0.1:4598 --access-key test --secret-key test | tail -n +3
fi
if want kms; then
  for sc in kms-encrypt kms-decrypt kms-generate-data-key; do
    echo
    echo "### KMS ${sc#kms-} (signed, audited, HTTP keep-alive), ${DUR}s per level, $(nproc) cores, $(date -u +%F)"
    echo
    run floor "floor (unsigned GET)" http://127.0.0.1:4599 --access-key x --secret-key y
    run "$sc" "floor (same request)" http://127.0.0.1:4599 --setup-endpoint http://127.0.0.1:4566 --access-key "$KEY" --secret-key "$SECRET" | tail -n +3
    run "$sc" "coffer (http)" http://127.0.0.1:4566 --access-key "$KEY" --secret-key "$SECRET" | tail -n +3
    run "$sc" moto_server http://127.0.0.1:4598 --access-key test --secret-key test | tail -n +3
  done
fi
if want secrets; then
  for sc in secrets-get ssm-get-parameter; do
    echo
    echo "### $sc (signed, audited, decrypted through KMS, HTTP keep-alive), ${DUR}s per level, $(nproc) cores, $(date -u +%F)"
    echo
    run floor "floor (unsigned GET)" http://127.0.0.1:4599 --access-key x --secret-key y
    run "$sc" "floor (same request)" http://127.0.0.1:4599 --setup-endpoint http://127.0.0.1:4566 --access-key "$KEY" --secret-key "$SECRET" | tail -n +3
    run "$sc" "coffer (http)" http://127.0.0.1:4566 --access-key "$KEY" --secret-key "$SECRET" | tail -n +3
    run "$sc" moto_server http://127.0.0.1:4598 --access-key test --secret-key test | tail -n +3
  done
fi
