#!/usr/bin/env bash
# Drives a real coffer server with the unmodified AWS CLI and boto3, over HTTP and HTTPS.
# Usage: scripts/smoke.sh [path/to/coffer]   (default: target/debug/coffer, built if missing)
set -uo pipefail
NAME=smoke
source "$(dirname "$0")/smoke-lib.sh"
start_server

# The server prints the lines a user pastes; use them as a user would.
eval "$(grep '^export AWS_SHARED_CREDENTIALS_FILE' "$WORK/server.out")"
CA="$WORK/data/tls/ca.pem"
ACCOUNT=$(head -1 "$WORK/data/credentials" | awk '{print $5}')
export AWS_PAGER=""
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL

# The README's quick start: the two printed export lines are all the CLI and boto3 need.
expect "quick start: aws sts get-caller-identity" "\"Account\": \"$ACCOUNT\"" pasted "aws sts get-caller-identity"
expect "quick start: boto3 with no arguments" "^$ACCOUNT\$" pasted \
  "python3 -c 'import boto3; print(boto3.client(\"sts\").get_caller_identity()[\"Account\"])'"

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

stop_server
if "$BIN" audit verify --data-dir "$WORK/data" >"$WORK/verify.out" 2>&1; then ok "coffer audit verify after the run"; else bad "coffer audit verify" "$(cat "$WORK/verify.out")"; fi

summary
