#!/usr/bin/env bash
# Measures the full coffer pipeline (SigV4, authorization, durable audit) for STS
# GetCallerIdentity over HTTP and HTTPS, beside the bare HTTP floor and moto_server, all
# driven by `coffer bench` in the same run. Prints Markdown tables for BENCHMARKS.md.
# Usage: scripts/bench.sh [seconds-per-level]   (needs: pip install 'moto[server]')
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
cargo build --release --locked --quiet --bin coffer
BIN=${CARGO_TARGET_DIR:-target}/release/coffer
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" bench floor --listen 127.0.0.1:4599 >/dev/null & PIDS+=($!)
moto_server -p 4598 >/dev/null 2>&1 & PIDS+=($!)
"$BIN" server --data-dir "$WORK/data" --listen 127.0.0.1:4566 --log error >"$WORK/server.out" & PIDS+=($!)
for _ in $(seq 100); do grep -q "^coffer listening" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:4598/ && break; sleep 0.1; done
KEY=$(awk -F' = ' '/aws_access_key_id/{print $2}' "$WORK/data/credentials")
SECRET=$(awk -F' = ' '/aws_secret_access_key/{print $2}' "$WORK/data/credentials")

run() { # label endpoint [extra args]
  local label=$1 ep=$2; shift 2
  "$BIN" bench --endpoint "$ep" --scenario sts-get-caller-identity --concurrency 1,16,64 \
    --duration "$DUR" --warmup 1 --label "$label" --markdown "$@"
}
echo "### STS GetCallerIdentity, ${DUR}s per level, $(nproc) cores, $(date -u +%F)"
echo
run floor http://127.0.0.1:4599 --access-key x --secret-key y
run "coffer (http)" http://127.0.0.1:4566 --access-key "$KEY" --secret-key "$SECRET" | tail -n +3
run "coffer (https)" https://localhost:4566 --access-key "$KEY" --secret-key "$SECRET" --ca-bundle "$WORK/data/tls/ca.pem" | tail -n +3
run moto_server http://127.0.0.1:4598 --access-key test --secret-key test | tail -n +3
