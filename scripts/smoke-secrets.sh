#!/usr/bin/env bash
# Secrets Manager with the unmodified AWS CLI and boto3: create, read, new versions and
# labels, rotation through a webhook rotation function (a small Python server that checks
# coffer's signature and calls back with boto3, as a rotation Lambda would), deletion with
# a recovery window, restore, and a boto3 check of errors and pagination.
# Usage: scripts/smoke-secrets.sh [path/to/coffer]   (default: target/debug/coffer)
set -uo pipefail
NAME=smoke-secrets
source "$(dirname "$0")/smoke-lib.sh"
HOOK_PORT=$(free_port)

# The rotation function: a webhook named `smoke-hook`, its signing secret in a file.
head -c 32 /dev/urandom | base64 >"$WORK/hook.secret"; chmod 600 "$WORK/hook.secret"
cat >"$WORK/coffer.toml" <<EOF
[secretsmanager.rotation-functions.smoke-hook]
url = "http://127.0.0.1:$HOOK_PORT/"
signing-secret-file = "$WORK/hook.secret"
EOF
start_server --test-clock --config "$WORK/coffer.toml"
eval "$(grep '^export AWS_SHARED_CREDENTIALS_FILE' "$WORK/server.out")"
ACCOUNT=$(head -1 "$WORK/data/credentials" | awk '{print $5}')
export AWS_PAGER=""
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_CA_BUNDLE
EP="http://127.0.0.1:$PORT"
S=(aws --endpoint-url "$EP" secretsmanager)

python3 - "$HOOK_PORT" "$EP" "$WORK/hook.secret" "$WORK/steps" <<'PY' &
import hashlib, hmac, json, sys, boto3
from http.server import BaseHTTPRequestHandler, HTTPServer
port, ep, secret_file, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
secret = open(secret_file, "rb").read()
sm = boto3.Session(profile_name="coffer", region_name="us-east-1").client("secretsmanager", endpoint_url=ep)
class Hook(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        ts = self.headers["x-coffer-timestamp"]
        want = "v1=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, self.headers["x-coffer-signature"]):
            self.send_response(401); self.end_headers(); return
        ev = json.loads(body)
        step, arn, token = ev["Step"], ev["SecretId"], ev["ClientRequestToken"]
        open(log, "a").write(step + "\n")
        if step == "createSecret":
            pw = sm.get_random_password(ExcludePunctuation=True)["RandomPassword"]
            sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=pw, VersionStages=["AWSPENDING"])
        elif step == "finishSecret":
            stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
            cur = next(v for v, s in stages.items() if "AWSCURRENT" in s)
            sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=cur)
        self.send_response(200); self.end_headers()
HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
HOOK=$!; PIDS+=("$HOOK")
advance() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="POST")).read()' "$EP/_coffer/clock/advance?seconds=$1"; }

# --- Create, read, new versions ------------------------------------------------------
ARN=$("${S[@]}" create-secret --name smoke/db --secret-string '{"user":"app","password":"first"}' --query ARN --output text)
expect "create-secret: ARN with the 6-character suffix" "^arn:aws:secretsmanager:us-east-1:$ACCOUNT:secret:smoke/db-[A-Za-z0-9]{6}$" echo "$ARN"
same "get-secret-value by name" '{"user":"app","password":"first"}' "${S[@]}" get-secret-value --secret-id smoke/db --query SecretString --output text
same "get-secret-value by ARN" '{"user":"app","password":"first"}' "${S[@]}" get-secret-value --secret-id "$ARN" --query SecretString --output text
check "put-secret-value" "${S[@]}" put-secret-value --secret-id smoke/db --secret-string '{"user":"app","password":"second"}'
same "AWSCURRENT is the new value" '{"user":"app","password":"second"}' "${S[@]}" get-secret-value --secret-id smoke/db --query SecretString --output text
same "AWSPREVIOUS is the old one" '{"user":"app","password":"first"}' "${S[@]}" get-secret-value --secret-id smoke/db --version-stage AWSPREVIOUS --query SecretString --output text
refuse "both string and binary" InvalidParameterException "${S[@]}" create-secret --name smoke/both --secret-string a --secret-binary YQ==
refuse "a name that exists" ResourceExistsException "${S[@]}" create-secret --name smoke/db --secret-string x

# --- Rotation through the webhook ----------------------------------------------------
for _ in $(seq 50); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$HOOK_PORT),1)" 2>/dev/null && break; sleep 0.1; done
LAMBDA="arn:aws:lambda:us-east-1:$ACCOUNT:function:smoke-hook"
check "rotate-secret" "${S[@]}" rotate-secret --secret-id smoke/db --rotation-lambda-arn "$LAMBDA" --rotation-rules '{"ScheduleExpression":"rate(30 days)"}'
same "the function saw the four steps in order" "createSecret setSecret testSecret finishSecret" bash -c "tr '\n' ' ' <'$WORK/steps' | sed 's/ $//'"
NEW=$("${S[@]}" get-secret-value --secret-id smoke/db --query SecretString --output text)
expect "AWSCURRENT is the rotated password" '^[A-Za-z0-9]{32}$' echo "$NEW"
same "AWSPREVIOUS is the value before rotation" '{"user":"app","password":"second"}' "${S[@]}" get-secret-value --secret-id smoke/db --version-stage AWSPREVIOUS --query SecretString --output text
expect "describe-secret shows the rotation" '"RotationEnabled": true' "${S[@]}" describe-secret --secret-id smoke/db
refuse "rate below four hours" InvalidParameterException "${S[@]}" rotate-secret --secret-id smoke/db --rotation-rules '{"ScheduleExpression":"rate(1 hours)"}'

# --- Deletion and restore ------------------------------------------------------------
"${S[@]}" create-secret --name smoke/tmp --secret-string gone-soon >/dev/null
check "delete-secret with a 7-day window" "${S[@]}" delete-secret --secret-id smoke/tmp --recovery-window-in-days 7
refuse "reads refused while scheduled" InvalidRequestException "${S[@]}" get-secret-value --secret-id smoke/tmp
check "restore-secret" "${S[@]}" restore-secret --secret-id smoke/tmp
same "readable again" gone-soon "${S[@]}" get-secret-value --secret-id smoke/tmp --query SecretString --output text
"${S[@]}" delete-secret --secret-id smoke/tmp --recovery-window-in-days 7 >/dev/null
advance $((7 * 86400 + 120))
GONE=no
for _ in $(seq 100); do
  if out=$("${S[@]}" describe-secret --secret-id smoke/tmp 2>&1); then sleep 0.2; else grep -q ResourceNotFoundException <<<"$out" && GONE=yes; break; fi
done
[ "$GONE" = yes ] && ok "purged when the recovery window passed" || bad "not purged" "$out"

# --- boto3 -----------------------------------------------------------------------------
if python3 - "$EP" <<'PY'
import sys, boto3, botocore
sm = boto3.Session(profile_name="coffer", region_name="us-east-1").client("secretsmanager", endpoint_url=sys.argv[1])
for i in range(5):
    sm.create_secret(Name=f"boto/{i}", SecretBinary=bytes([i]) * 10, Tags=[{"Key": "n", "Value": str(i)}])
names = [s["Name"] for p in sm.get_paginator("list_secrets").paginate(
    Filters=[{"Key": "name", "Values": ["boto/"]}], PaginationConfig={"PageSize": 2}) for s in p["SecretList"]]
assert sorted(names) == [f"boto/{i}" for i in range(5)], names
assert sm.get_secret_value(SecretId="boto/3")["SecretBinary"] == b"\x03" * 10
try:
    sm.get_secret_value(SecretId="boto/none")
    raise SystemExit("expected ResourceNotFoundException")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ResourceNotFoundException", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
b = sm.batch_get_secret_value(SecretIdList=["boto/1", "boto/2"])
assert sorted(v["Name"] for v in b["SecretValues"]) == ["boto/1", "boto/2"], b
PY
then ok "boto3: binary secrets, paginated filters, errors, batch reads"; else bad "boto3 Secrets Manager"; fi

stop_server
summary
