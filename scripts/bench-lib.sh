# Shared by bench.sh and bench-share.sh (sourced from the repository root): builds the
# release binary and starts the bare HTTP floor (127.0.0.1:4599) and a coffer server
# (127.0.0.1:4566) on a fresh data directory, all stopped on exit. Sets BIN, WORK, KEY and
# SECRET (the admin's credentials) and PIDS, to which callers add their own processes.
cargo build --release --locked --quiet --bin coffer
BIN=${CARGO_TARGET_DIR:-target}/release/coffer
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" bench floor --listen 127.0.0.1:4599 >/dev/null & PIDS+=($!)
"$BIN" server --data-dir "$WORK/data" --listen 127.0.0.1:4566 --log error >"$WORK/server.out" & PIDS+=($!)
for _ in $(seq 100); do grep -q "^coffer listening" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
KEY=$(awk -F' = ' '/aws_access_key_id/{print $2}' "$WORK/data/credentials")
SECRET=$(awk -F' = ' '/aws_secret_access_key/{print $2}' "$WORK/data/credentials")
