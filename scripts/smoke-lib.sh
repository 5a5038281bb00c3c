# Shared by the smoke scripts (sourced, not run): the coffer binary, a work directory, result
# counting and assertion helpers, starting and stopping the server, and the summary line.
# The sourcing script sets NAME (its name in the summary) first; KEEP=1 keeps the work dir.
# shellcheck shell=bash
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/debug/coffer}
[ -x "$BIN" ] || cargo build --quiet --bin coffer
PASS=0; FAIL=0
WORK=$(mktemp -d)
PIDS=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
cleanup() {
  for p in "${SERVER:-}" "${PIDS[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

ok()   { PASS=$((PASS+1)); echo "ok   - $1"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/       /'; }
# expect NAME PATTERN CMD...: CMD succeeds and its output matches PATTERN
expect() { local n=$1 p=$2; shift 2; local out; if out=$("$@" 2>&1) && grep -qE -- "$p" <<<"$out"; then ok "$n"; else bad "$n" "$out"; fi; }
# refuse NAME CODE CMD...: CMD fails with the AWS error CODE
refuse() { local n=$1 c=$2; shift 2; local out; if out=$("$@" 2>&1); then bad "$n (succeeded)" "$out"; elif grep -q "($c)" <<<"$out"; then ok "$n"; else bad "$n" "$out"; fi; }
# same NAME WANT CMD...: CMD succeeds and prints exactly WANT (base64 is no regex)
same() { local n=$1 w=$2; shift 2; local out; if out=$("$@" 2>&1) && [ "$out" = "$w" ]; then ok "$n"; else bad "$n" "want $w, got $out"; fi; }
# check NAME CMD...: CMD succeeds
check() { local n=$1; shift; local out; if out=$("$@" 2>&1); then ok "$n"; else bad "$n" "$out"; fi; }

# start_server [extra server flags...]: runs coffer on $PORT with $WORK/data, waits until it
# listens, and gives up the whole script (as one failure) if it does not.
start_server() {
  "$BIN" server "$@" --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" --log warn >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER=$!
  for _ in $(seq 100); do grep -q "^coffer listening" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "^coffer listening" "$WORK/server.out" || { cat "$WORK/server.err"; echo "$NAME: 0 passed, 1 failed"; exit 1; }
}

stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null; SERVER=; }

# pasted CMD: runs the bash command line CMD where nothing is set but PATH, HOME and the
# export lines the server printed for a user to paste (no AWS config file): the quick start.
pasted() {
  env -i PATH="$PATH" HOME="$HOME" AWS_CONFIG_FILE=/dev/null AWS_PAGER= \
    bash -c "$(grep '^export AWS_' "$WORK/server.out"); $1"
}

# summary: the last line of the script; its status is the script's.
summary() { echo "$NAME: $PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; }
