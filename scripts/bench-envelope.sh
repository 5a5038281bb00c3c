#!/usr/bin/env bash
# Envelope encryption throughput: coffer beside age and aws-encryption-cli, measured in the
# same run, with `openssl speed` as the physical limit. Prints Markdown for BENCHMARKS.md.
#
#   scripts/bench-envelope.sh [size-MiB] [aws-encryption-cli-size-MiB]   (defaults 1024 1024)
#
# 1. openssl speed: AES-256-GCM (and SHA-384, the signing suite's message hash), one core.
# 2. coffer in memory: `coffer bench envelope`, in process, raw AES wrapping key (the
#    keyring runs once per message; with KMS that is one round trip, not what is measured).
# 3. file to file: coffer CLI and aws-encryption-cli with a KMS key on a `coffer server
#    --dev` (one KMS call per file), age with an X25519 identity. Every output is made
#    durable inside the timed command (coffer fsyncs its output itself; the others are
#    followed by `sync FILE`), input files come from the page cache (written just before).
# 4. peak RSS (GNU time) of coffer file to file at two sizes, to show bounded memory.
#
# Installs what it lacks (age and time with apt-get, aws-encryption-sdk-cli with pip),
# builds coffer in release mode, and removes its work directory (on disk, beside the
# repository's target directory) on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-1024}
ESDK_MIB=${2:-$SIZE_MIB}
SMALL_MIB=64

need() { command -v "$1" >/dev/null 2>&1; }
need age || apt-get install -y -qq age >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
need aws-encryption-cli || pip install -q aws-encryption-sdk-cli
need openssl || apt-get install -y -qq openssl >/dev/null

cargo build --release --locked --quiet --bin coffer
BIN=$(realpath "${CARGO_TARGET_DIR:-target}/release/coffer")
# On disk (not tmpfs): file to file should touch a real file system.
WORK=$(mktemp -d "${BENCH_DIR:-$PWD}/.bench-envelope.XXXXXX")
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" server --dev --listen "127.0.0.1:$PORT" --log error >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
for _ in $(seq 100); do grep -q "^coffer listening" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q "^coffer listening" "$WORK/server.out" || { cat "$WORK/server.err"; exit 1; }
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_KMS="http://127.0.0.1:$PORT"
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_CA_BUNDLE
KEY=$(python3 -c 'import boto3; print(boto3.client("kms").create_key()["KeyMetadata"]["Arn"])')
age-keygen -o "$WORK/age.key" 2>/dev/null
AGE_RECIPIENT=$(age-keygen -y "$WORK/age.key")

# timed LABEL CMD...: runs CMD under GNU time; sets SECS, RSS_MIB and CPU (percent). Dirty
# pages of earlier steps are written back first, so no run pays for another's writeback.
timed() {
  local label=$1; shift
  sync
  /usr/bin/time -f "%e %M %P" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" \
    || { echo "$label failed:" >&2; cat "$WORK/err" >&2; exit 1; }
  read -r SECS RSS_KB CPU <"$WORK/time"
  RSS_MIB=$(awk -v k="$RSS_KB" 'BEGIN{printf "%.1f", k/1024}')
}
mbs() { awk -v b="$1" -v s="$2" 'BEGIN{printf "%.0f", b/s/1e6}'; }
row() { # tool op bytes
  echo "| $1 | $2 | $(($3 >> 20)) MiB | $SECS | $(mbs "$3" "$SECS") | $CPU | $RSS_MIB |"
}
check_same() { cmp -s "$1" "$2" || { echo "round trip of $1 differs" >&2; exit 1; }; }

echo "### Envelope encryption, $(nproc) cores, $(date -u +%F), commit $(git rev-parse --short HEAD)"
echo
echo "Load before the run: \`$(uptime | sed 's/.*load average/load average/')\`."
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1)."
echo

echo "#### openssl speed (one core; 1 kB = 1000 bytes)"
echo
echo '```'
openssl version
openssl speed -evp aes-256-gcm 2>/dev/null | tail -2
openssl speed -evp aes-256-gcm -bytes 4096 2>/dev/null | tail -1
openssl speed -evp sha384 -bytes 4096 2>/dev/null | tail -1
echo '```'
echo

echo "#### coffer in memory (\`coffer bench envelope\`, in process, raw AES key, 4096-byte frames, best of 3)"
echo
"$BIN" bench envelope --size "$((SIZE_MIB))MiB" --suites 0x0578,0x0478 --threads 1,0 --runs 3
echo
echo "The same for 0x0478 at 16 MiB, where plaintext and message stay in the CPU caches (as"
echo "openssl speed's 16 kB buffer does; at 1 GiB every copy in and out goes to DRAM):"
echo
"$BIN" bench envelope --size 16MiB --suites 0x0478 --threads 1,0 --runs 5
echo

# File to file. Inputs are random (incompressible is irrelevant here, but honest).
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$WORK/big"
head -c "$((SMALL_MIB << 20))" /dev/urandom >"$WORK/small"
head -c "$((ESDK_MIB << 20))" "$WORK/big" >"$WORK/esdk"
BIG=$((SIZE_MIB << 20)); SMALL=$((SMALL_MIB << 20)); ESDK=$((ESDK_MIB << 20))
CE=("$BIN" encrypt -q -k "$KEY"); CD=("$BIN" decrypt -q -k "$KEY")

echo "#### File to file (output on disk and fsynced, input from the page cache, writeback settled before each run)"
echo
echo "| tool | operation | size | seconds | MB/s | CPU % | peak RSS MiB |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for f in small big; do
  bytes=$([ $f = small ] && echo $SMALL || echo $BIG)
  timed "coffer encrypt" "${CE[@]}" -o "$WORK/$f.coffer" "$WORK/$f"; row "coffer (0x0578)" encrypt "$bytes"
  timed "coffer decrypt" "${CD[@]}" -o "$WORK/$f.coffer.out" "$WORK/$f.coffer"; row "coffer (0x0578)" decrypt "$bytes"
  check_same "$WORK/$f" "$WORK/$f.coffer.out"; rm -f "$WORK/$f.coffer" "$WORK/$f.coffer.out"
done
timed "coffer encrypt 0x0478" "${CE[@]}" --suite 0x0478 -o "$WORK/big.c4" "$WORK/big"; row "coffer (0x0478)" encrypt "$BIG"
timed "coffer decrypt 0x0478" "${CD[@]}" -o "$WORK/big.c4.out" "$WORK/big.c4"; row "coffer (0x0478)" decrypt "$BIG"
check_same "$WORK/big" "$WORK/big.c4.out"; rm -f "$WORK/big.c4" "$WORK/big.c4.out"
timed "coffer encrypt 1 thread" "${CE[@]}" --threads 1 -o "$WORK/big.c1" "$WORK/big"; row "coffer (0x0578, --threads 1)" encrypt "$BIG"
timed "coffer decrypt 1 thread" "${CD[@]}" --threads 1 -o "$WORK/big.c1.out" "$WORK/big.c1"; row "coffer (0x0578, --threads 1)" decrypt "$BIG"
check_same "$WORK/big" "$WORK/big.c1.out"; rm -f "$WORK/big.c1" "$WORK/big.c1.out"
timed "age encrypt" sh -c 'age -r "$1" -o "$2" "$3" && sync "$2"' _ "$AGE_RECIPIENT" "$WORK/big.age" "$WORK/big"
row "age $(age --version)" encrypt "$BIG"
timed "age decrypt" sh -c 'age -d -i "$1" -o "$2" "$3" && sync "$2"' _ "$WORK/age.key" "$WORK/big.age.out" "$WORK/big.age"
row "age $(age --version)" decrypt "$BIG"
check_same "$WORK/big" "$WORK/big.age.out"; rm -f "$WORK/big.age" "$WORK/big.age.out"
ESDK_V=$(aws-encryption-cli --version | sed 's/ .*//')
timed "aws-encryption-cli encrypt" sh -c 'aws-encryption-cli --encrypt -S --input "$2" --output "$3" --wrapping-keys key="$1" --commitment-policy require-encrypt-require-decrypt && sync "$3"' _ "$KEY" "$WORK/esdk" "$WORK/esdk.enc"
row "$ESDK_V (0x0578)" encrypt "$ESDK"
timed "aws-encryption-cli decrypt" sh -c 'aws-encryption-cli --decrypt -S --input "$2" --output "$3" --wrapping-keys key="$1" --commitment-policy require-encrypt-require-decrypt && sync "$3"' _ "$KEY" "$WORK/esdk.enc" "$WORK/esdk.out"
row "$ESDK_V (0x0578)" decrypt "$ESDK"
check_same "$WORK/esdk" "$WORK/esdk.out"
# Interop on the way: coffer decrypts what aws-encryption-cli wrote.
"${CD[@]}" -o "$WORK/esdk.coffer.out" "$WORK/esdk.enc"
check_same "$WORK/esdk" "$WORK/esdk.coffer.out"
echo
echo "Load after the run: \`$(uptime | sed 's/.*load average/load average/')\`."
