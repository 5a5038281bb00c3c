#!/usr/bin/env bash
# Drives a real coffer server with the unmodified AWS CLI and boto3, over HTTP and HTTPS.
# Usage: scripts/smoke.sh [path/to/coffer]   (default: target/debug/coffer, built if missing)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/debug/coffer}
[ -x "$BIN" ] || cargo build --quiet --bin coffer
PASS=0; FAIL=0
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

ok()   { PASS=$((PASS+1)); echo "ok   - $1"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/       /'; }
# expect NAME PATTERN CMD...: CMD succeeds and its output matches PATTERN
expect() { local n=$1 p=$2; shift 2; local out; if out=$("$@" 2>&1) && grep -qE -- "$p" <<<"$out"; then ok "$n"; else bad "$n" "$out"; fi; }
# refuse NAME CODE CMD...: CMD fails with the AWS error CODE
refuse() { local n=$1 c=$2; shift 2; local out; if out=$("$@" 2>&1); then bad "$n (succeeded)" "$out"; elif grep -q "($c)" <<<"$out"; then ok "$n"; else bad "$n" "$out"; fi; }

"$BIN" server --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" --log warn >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
for _ in $(seq 100); do grep -q "^coffer listening" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q "^coffer listening" "$WORK/server.out" || { cat "$WORK/server.err"; echo "0 passed, 1 failed"; exit 1; }

# The server prints the lines a user pastes; use them as a user would.
eval "$(grep '^export AWS_SHARED_CREDENTIALS_FILE' "$WORK/server.out")"
CA="$WORK/data/tls/ca.pem"
ACCOUNT=$(head -1 "$WORK/data/credentials" | awk '{print $5}')
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL

for SCHEME in http https; do
  EP="$SCHEME://127.0.0.1:$PORT"
  if [ "$SCHEME" = https ]; then export AWS_CA_BUNDLE=$CA; else unset AWS_CA_BUNDLE; fi
  A=(aws --endpoint-url "$EP")
  U="smoke-$SCHEME"
  expect "$SCHEME: sts get-caller-identity as admin" "\"Account\": \"$ACCOUNT\"" "${A[@]}" sts get-caller-identity
  expect "$SCHEME: iam create-user" "arn:aws:iam::$ACCOUNT:user/$U" "${A[@]}" iam create-user --user-name "$U"
  refuse "$SCHEME: iam create-user twice" EntityAlreadyExists "${A[@]}" iam create-user --user-name "$U"
  KEY=$("${A[@]}" iam create-access-key --user-name "$U" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
  read -r UKEY USECRET <<<"$KEY"
  UA=(env -u AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID="$UKEY" AWS_SECRET_ACCESS_KEY="$USECRET" aws --endpoint-url "$EP")
  expect "$SCHEME: user sees its own identity" "user/$U" "${UA[@]}" sts get-caller-identity
  refuse "$SCHEME: user denied without a policy" AccessDenied "${UA[@]}" iam create-user --user-name "$U-child"
  expect "$SCHEME: iam put-user-policy" "^$" "${A[@]}" iam put-user-policy --user-name "$U" --policy-name p \
    --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","sts:AssumeRole"],"Resource":"*"}]}'
  expect "$SCHEME: iam get-user-policy decodes the document" '"iam:CreateUser"' "${A[@]}" iam get-user-policy --user-name "$U" --policy-name p
  expect "$SCHEME: user allowed once the policy exists" "$U-child" "${UA[@]}" iam create-user --user-name "$U-child"
  refuse "$SCHEME: wrong secret" SignatureDoesNotMatch env -u AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID="$UKEY" AWS_SECRET_ACCESS_KEY="x$USECRET" aws --endpoint-url "$EP" sts get-caller-identity
  refuse "$SCHEME: unknown key" InvalidClientTokenId env -u AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=x aws --endpoint-url "$EP" sts get-caller-identity
  refuse "$SCHEME: malformed policy" MalformedPolicyDocument "${A[@]}" iam put-user-policy --user-name "$U" --policy-name q --policy-document '{"Statement":[{"Effect":"Allow"}]}'
  TRUST="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$ACCOUNT:user/$U\"},\"Action\":\"sts:AssumeRole\"}]}"
  expect "$SCHEME: iam create-role" "role/r-$SCHEME" "${A[@]}" iam create-role --role-name "r-$SCHEME" --assume-role-policy-document "$TRUST"
  expect "$SCHEME: iam get-role" "\"RoleName\": \"r-$SCHEME\"" "${A[@]}" iam get-role --role-name "r-$SCHEME"
  SESS=$("${UA[@]}" sts assume-role --role-arn "arn:aws:iam::$ACCOUNT:role/r-$SCHEME" --role-session-name smoke --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
  read -r SK SS ST <<<"$SESS"
  expect "$SCHEME: assumed-role session works" "assumed-role/r-$SCHEME/smoke" env -u AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID="$SK" AWS_SECRET_ACCESS_KEY="$SS" AWS_SESSION_TOKEN="$ST" aws --endpoint-url "$EP" sts get-caller-identity
  refuse "$SCHEME: admin root cannot assume roles" AccessDenied "${A[@]}" sts assume-role --role-arn "arn:aws:iam::$ACCOUNT:role/r-$SCHEME" --role-session-name smoke
  expect "$SCHEME: cloudtrail lookup-events shows refused calls" '"ErrorCode": "AccessDenied"|\\"errorCode\\": ?\\"AccessDenied\\"' "${A[@]}" cloudtrail lookup-events --max-results 50
  expect "$SCHEME: cloudtrail lookup-events by event name" '"EventName": "CreateRole"' "${A[@]}" cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=CreateRole
done

# boto3, over HTTPS with the generated CA.
if python3 - "$PORT" "$CA" "$ACCOUNT" <<'PY'
import sys, boto3, botocore
port, ca, account = sys.argv[1], sys.argv[2], sys.argv[3]
s = boto3.Session(profile_name="coffer", region_name="us-east-1")
ep = f"https://localhost:{port}"
sts = s.client("sts", endpoint_url=ep, verify=ca)
assert sts.get_caller_identity()["Account"] == account
iam = s.client("iam", endpoint_url=ep, verify=ca)
iam.create_user(UserName="boto-user")
try:
    iam.get_user(UserName="nobody")
    raise SystemExit("expected NoSuchEntity")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "NoSuchEntity", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
ct = s.client("cloudtrail", endpoint_url=ep, verify=ca)
events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetUser"}])["Events"]
assert any(e["EventName"] == "GetUser" for e in events), events
PY
then ok "boto3 over https: sts, iam errors, cloudtrail"; else bad "boto3 over https"; fi

kill "$SERVER"; wait "$SERVER" 2>/dev/null; SERVER=
if "$BIN" audit verify --data-dir "$WORK/data" >"$WORK/verify.out" 2>&1; then ok "coffer audit verify after the run"; else bad "coffer audit verify" "$(cat "$WORK/verify.out")"; fi

echo "smoke: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
