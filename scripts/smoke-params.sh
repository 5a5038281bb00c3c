#!/usr/bin/env bash
# SSM Parameter Store with the unmodified AWS CLI and boto3: String and SecureString
# parameters, versions and labels, a hierarchy read back decrypted, and the errors the
# tools show their users.
# Usage: scripts/smoke-params.sh [path/to/coffer]   (default: target/debug/coffer)
set -uo pipefail
NAME=smoke-params
source "$(dirname "$0")/smoke-lib.sh"
start_server --test-clock
eval "$(grep '^export AWS_SHARED_CREDENTIALS_FILE' "$WORK/server.out")"
export AWS_PAGER=""
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_CA_BUNDLE
EP="http://127.0.0.1:$PORT"
S=(aws --endpoint-url "$EP" ssm)

# --- Parameters with the CLI ---------------------------------------------------------
expect "put-parameter String" '"Version": 1' "${S[@]}" put-parameter --name /smoke/app/url --value db-v1.example.test:5432 --type String
expect "put-parameter SecureString" '"Tier": "Standard"' "${S[@]}" put-parameter --name /smoke/app/db/password --value 's3cr3t-smoke' --type SecureString
expect "put-parameter SecureString, advanced tier" '"Tier": "Advanced"' "${S[@]}" put-parameter --name /smoke/app/db/cert --value "$(head -c 3000 /dev/zero | tr '\0' c)" --type SecureString --tier Advanced
same "get-parameter --with-decryption" "s3cr3t-smoke" "${S[@]}" get-parameter --name /smoke/app/db/password --with-decryption --query Parameter.Value --output text
OPAQUE=$("${S[@]}" get-parameter --name /smoke/app/db/password --query Parameter.Value --output text)
[ -n "$OPAQUE" ] && [ "$OPAQUE" != "s3cr3t-smoke" ] && ok "without decryption the value is ciphertext" || bad "SecureString value shown" "$OPAQUE"
same "get-parameters-by-path --recursive --with-decryption" "/smoke/app/db/cert /smoke/app/db/password /smoke/app/url" \
  bash -c "${S[*]} get-parameters-by-path --path /smoke --recursive --with-decryption --query 'sort(Parameters[].Name)' --output text | tr '\t' ' '"
same "the decrypted hierarchy holds the secret" "s3cr3t-smoke" "${S[@]}" get-parameters-by-path --path /smoke/app/db --with-decryption \
  --query "Parameters[?Name=='/smoke/app/db/password'].Value" --output text
refuse "put without --overwrite" ParameterAlreadyExists "${S[@]}" put-parameter --name /smoke/app/url --value x --type String
expect "put --overwrite makes version 2" '"Version": 2' "${S[@]}" put-parameter --name /smoke/app/url --value db-v2.example.test:5432 --overwrite
expect "label-parameter-version" '"ParameterVersion": 1' "${S[@]}" label-parameter-version --name /smoke/app/url --parameter-version 1 --labels stable
same "get by label" "db-v1.example.test:5432" "${S[@]}" get-parameter --name /smoke/app/url:stable --query Parameter.Value --output text
same "get by version" "db-v2.example.test:5432" "${S[@]}" get-parameter --name /smoke/app/url:2 --query Parameter.Value --output text
expect "get-parameter-history" '"Labels": \[' "${S[@]}" get-parameter-history --name /smoke/app/url
refuse "reserved name prefix" ValidationException "${S[@]}" put-parameter --name /aws/mine --value x --type String
refuse "missing parameter" ParameterNotFound "${S[@]}" get-parameter --name /smoke/none
check "delete-parameter" "${S[@]}" delete-parameter --name /smoke/app/url
refuse "deleted parameter is gone" ParameterNotFound "${S[@]}" get-parameter --name /smoke/app/url

# --- boto3 ---------------------------------------------------------------------------------
if python3 - "$EP" <<'PY'
import sys, boto3, botocore
ssm = boto3.Session(profile_name="coffer", region_name="us-east-1").client("ssm", endpoint_url=sys.argv[1])
for i in range(12):
    ssm.put_parameter(Name=f"/boto/p{i:02}", Value=f"v{i}", Type="SecureString")
pages = ssm.get_paginator("get_parameters_by_path").paginate(Path="/boto", WithDecryption=True)
got = sorted(p["Value"] for page in pages for p in page["Parameters"])
assert got == sorted(f"v{i}" for i in range(12)), got
desc = ssm.get_paginator("describe_parameters").paginate(
    ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": ["/boto/p0"]}]
).build_full_result()["Parameters"]
assert len(desc) == 10 and all(d["KeyId"] == "alias/aws/ssm" for d in desc), desc
r = ssm.get_parameters(Names=["/boto/p01", "/boto/nope"], WithDecryption=True)
assert [p["Value"] for p in r["Parameters"]] == ["v1"] and r["InvalidParameters"] == ["/boto/nope"], r
try:
    ssm.put_parameter(Name="/boto/big", Value="x" * 4097, Type="String")
    raise SystemExit("expected ValidationException")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationException", e.response
PY
then ok "boto3: paginated decrypting reads, filters, GetParameters, size limit"; else bad "boto3 SSM"; fi

stop_server
summary
