#!/usr/bin/env bash
# KMS with the unmodified AWS CLI, boto3 and openssl: a realistic key life (create, alias,
# encrypt a file, rotate, disable, schedule deletion, destruction when the window passes),
# cross-account use through a key policy, and cross-checks against openssl.
# Usage: scripts/smoke-kms.sh [path/to/coffer]   (default: target/debug/coffer)
set -uo pipefail
NAME=smoke-kms
source "$(dirname "$0")/smoke-lib.sh"
start() { start_server --test-clock; }
# First start bootstraps the admin account; a second account is then made offline (admin
# commands need the embedded store to themselves), and the server started again.
start
eval "$(grep '^export AWS_SHARED_CREDENTIALS_FILE' "$WORK/server.out")"
kill "$SERVER"; wait "$SERVER" 2>/dev/null
OTHER=222233334444
"$BIN" admin create-account --data-dir "$WORK/data" --account-id "$OTHER" --profile other >"$WORK/other.ini" 2>"$WORK/admin.err" \
  || { cat "$WORK/admin.err"; echo "$NAME: 0 passed, 1 failed"; exit 1; }
start
cat "$WORK/other.ini" >>"$AWS_SHARED_CREDENTIALS_FILE"
ACCOUNT=$(head -1 "$WORK/data/credentials" | awk '{print $5}')
export AWS_PAGER=""
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_CA_BUNDLE
EP="http://127.0.0.1:$PORT"
K=(aws --endpoint-url "$EP" kms)
KO=(aws --profile other --endpoint-url "$EP" kms)
# The test-only clock control (--test-clock, loopback only): moves the server's time forward.
advance() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="POST")).read()' "$EP/_coffer/clock/advance?seconds=$1"; }

# --- A key's life ---------------------------------------------------------------------
KEY=$("${K[@]}" create-key --description smoke --query KeyMetadata.KeyId --output text)
expect "create-key" "^[0-9a-f-]{36}$" echo "$KEY"
check "create-alias" "${K[@]}" create-alias --alias-name alias/smoke --target-key-id "$KEY"
head -c 3000 /dev/urandom >"$WORK/plain.bin"
"${K[@]}" encrypt --key-id alias/smoke --plaintext "fileb://$WORK/plain.bin" --encryption-context app=smoke \
  --query CiphertextBlob --output text | base64 -d >"$WORK/ct1.bin"
"${K[@]}" decrypt --ciphertext-blob "fileb://$WORK/ct1.bin" --encryption-context app=smoke \
  --query Plaintext --output text | base64 -d >"$WORK/back.bin"
check "encrypt a file, decrypt it back byte for byte" cmp "$WORK/plain.bin" "$WORK/back.bin"
refuse "decrypt with the wrong context" InvalidCiphertextException "${K[@]}" decrypt --ciphertext-blob "fileb://$WORK/ct1.bin" --encryption-context app=other
check "rotate-key-on-demand" "${K[@]}" rotate-key-on-demand --key-id "$KEY"
expect "list-key-rotations shows the rotation" '"RotationType": "ON_DEMAND"' "${K[@]}" list-key-rotations --key-id "$KEY"
"${K[@]}" decrypt --ciphertext-blob "fileb://$WORK/ct1.bin" --encryption-context app=smoke \
  --query Plaintext --output text | base64 -d >"$WORK/back2.bin"
check "ciphertext from before the rotation still decrypts" cmp "$WORK/plain.bin" "$WORK/back2.bin"
check "disable-key" "${K[@]}" disable-key --key-id "$KEY"
refuse "encrypt with a disabled key" DisabledException "${K[@]}" encrypt --key-id "$KEY" --plaintext "fileb://$WORK/plain.bin"
check "enable-key" "${K[@]}" enable-key --key-id "$KEY"
expect "schedule-key-deletion" '"KeyState": "PendingDeletion"' "${K[@]}" schedule-key-deletion --key-id "$KEY" --pending-window-in-days 7
refuse "a key pending deletion cannot decrypt" KMSInvalidStateException "${K[@]}" decrypt --ciphertext-blob "fileb://$WORK/ct1.bin" --encryption-context app=smoke
advance $((7 * 86400 + 60))
GONE=no
for _ in $(seq 50); do
  if out=$("${K[@]}" describe-key --key-id "$KEY" 2>&1); then sleep 0.2; else grep -q NotFoundException <<<"$out" && GONE=yes; break; fi
done
[ "$GONE" = yes ] && ok "key and material destroyed when the deletion window passed" || bad "key not destroyed" "$out"
refuse "its ciphertext can never be decrypted again" InvalidCiphertextException "${K[@]}" decrypt --ciphertext-blob "fileb://$WORK/ct1.bin" --encryption-context app=smoke
refuse "its alias went with it" NotFoundException "${K[@]}" describe-key --key-id alias/smoke

# --- Cross-account use through the key policy ------------------------------------------
SHARED=$("${K[@]}" create-key --query KeyMetadata.Arn --output text)
refuse "other account refused without a key policy" AccessDeniedException "${KO[@]}" encrypt --key-id "$SHARED" --plaintext fileb://"$WORK/plain.bin"
POLICY="{\"Version\":\"2012-10-17\",\"Statement\":[
 {\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$ACCOUNT:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},
 {\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$OTHER:root\"},\"Action\":[\"kms:Encrypt\",\"kms:Decrypt\"],\"Resource\":\"*\"}]}"
check "put-key-policy sharing with the other account" "${K[@]}" put-key-policy --key-id "$SHARED" --policy-name default --policy "$POLICY"
expect "other account encrypts with the shared key" "\"KeyId\": \"$SHARED\"" "${KO[@]}" encrypt --key-id "$SHARED" --plaintext fileb://"$WORK/plain.bin"
refuse "other account still cannot describe it" AccessDeniedException "${KO[@]}" describe-key --key-id "$SHARED"

# --- Cross-checks with openssl -----------------------------------------------------------
SIGN=$("${K[@]}" create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --query KeyMetadata.KeyId --output text)
"${K[@]}" get-public-key --key-id "$SIGN" --query PublicKey --output text | base64 -d >"$WORK/sign.der"
printf 'signed by coffer' >"$WORK/msg"
"${K[@]}" sign --key-id "$SIGN" --message "fileb://$WORK/msg" --message-type RAW --signing-algorithm ECDSA_SHA_256 \
  --query Signature --output text | base64 -d >"$WORK/msg.sig"
check "ECDSA signature verifies with openssl" openssl dgst -sha256 -verify "$WORK/sign.der" -keyform DER -signature "$WORK/msg.sig" "$WORK/msg"
RSA=$("${K[@]}" create-key --key-spec RSA_3072 --key-usage SIGN_VERIFY --query KeyMetadata.KeyId --output text)
"${K[@]}" get-public-key --key-id "$RSA" --query PublicKey --output text | base64 -d >"$WORK/rsa.der"
"${K[@]}" sign --key-id "$RSA" --message "fileb://$WORK/msg" --message-type RAW --signing-algorithm RSASSA_PSS_SHA_384 \
  --query Signature --output text | base64 -d >"$WORK/rsa.sig"
check "RSA-PSS signature verifies with openssl" openssl dgst -sha384 -verify "$WORK/rsa.der" -keyform DER \
  -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -signature "$WORK/rsa.sig" "$WORK/msg"
ED=$("${K[@]}" create-key --key-spec ECC_NIST_EDWARDS25519 --key-usage SIGN_VERIFY --query KeyMetadata.KeyId --output text)
"${K[@]}" get-public-key --key-id "$ED" --query PublicKey --output text | base64 -d >"$WORK/ed.der"
"${K[@]}" sign --key-id "$ED" --message "fileb://$WORK/msg" --message-type RAW --signing-algorithm ED25519_SHA_512 \
  --query Signature --output text | base64 -d >"$WORK/ed.sig"
check "Ed25519 signature verifies with openssl" openssl pkeyutl -verify -pubin -keyform DER -inkey "$WORK/ed.der" \
  -rawin -in "$WORK/msg" -sigfile "$WORK/ed.sig"
# Ed25519ph signs a SHA-512 digest; openssl 3.0 lacks it, so PyCryptodome checks it.
openssl dgst -sha512 -binary "$WORK/msg" >"$WORK/msg.sha512"
"${K[@]}" sign --key-id "$ED" --message "fileb://$WORK/msg.sha512" --message-type DIGEST \
  --signing-algorithm ED25519_PH_SHA_512 --query Signature --output text | base64 -d >"$WORK/edph.sig"
check "Ed25519ph signature verifies with PyCryptodome" python3 -c '
import sys
from Crypto.Hash import SHA512
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa
key = ECC.import_key(open(sys.argv[1], "rb").read())
eddsa.new(key, "rfc8032").verify(SHA512.new(open(sys.argv[2], "rb").read()), open(sys.argv[3], "rb").read())
' "$WORK/ed.der" "$WORK/msg" "$WORK/edph.sig"
# ML-DSA (FIPS 204) arrived in OpenSSL 3.5; Python's cryptography (OpenSSL 3.5 or later
# inside) checks the signatures and the public keys.
for ML in ML_DSA_44 ML_DSA_65 ML_DSA_87; do
  MK=$("${K[@]}" create-key --key-spec "$ML" --key-usage SIGN_VERIFY --query KeyMetadata.KeyId --output text)
  "${K[@]}" get-public-key --key-id "$MK" --query PublicKey --output text | base64 -d >"$WORK/ml.der"
  "${K[@]}" sign --key-id "$MK" --message "fileb://$WORK/msg" --message-type RAW --signing-algorithm ML_DSA_SHAKE_256 \
    --query Signature --output text | base64 -d >"$WORK/ml.sig"
  check "$ML signature verifies with Python cryptography" python3 -c '
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa
key = serialization.load_der_public_key(open(sys.argv[1], "rb").read())
want = {"ML_DSA_44": mldsa.MLDSA44PublicKey, "ML_DSA_65": mldsa.MLDSA65PublicKey, "ML_DSA_87": mldsa.MLDSA87PublicKey}
assert isinstance(key, want[sys.argv[4]]), type(key)
key.verify(open(sys.argv[3], "rb").read(), open(sys.argv[2], "rb").read())
' "$WORK/ml.der" "$WORK/msg" "$WORK/ml.sig" "$ML"
done
ENC=$("${K[@]}" create-key --key-spec RSA_2048 --key-usage ENCRYPT_DECRYPT --query KeyMetadata.KeyId --output text)
"${K[@]}" get-public-key --key-id "$ENC" --query PublicKey --output text | base64 -d >"$WORK/enc.der"
printf 'encrypted by openssl' >"$WORK/small"
openssl pkeyutl -encrypt -pubin -keyform DER -inkey "$WORK/enc.der" -pkeyopt rsa_padding_mode:oaep \
  -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in "$WORK/small" -out "$WORK/small.enc"
same "openssl RSA-OAEP ciphertext decrypts with KMS" "$(base64 <"$WORK/small")" "${K[@]}" decrypt --key-id "$ENC" \
  --encryption-algorithm RSAES_OAEP_SHA_256 --ciphertext-blob "fileb://$WORK/small.enc" --query Plaintext --output text
SYM=$("${K[@]}" create-key --query KeyMetadata.KeyId --output text)
"${K[@]}" generate-data-key-pair --key-id "$SYM" --key-pair-spec ECC_NIST_P384 >"$WORK/pair.json"
python3 -c 'import json,base64,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"wb").write(base64.b64decode(d["PrivateKeyPlaintext"])); open(sys.argv[3],"wb").write(base64.b64decode(d["PublicKey"]))' \
  "$WORK/pair.json" "$WORK/pair.key" "$WORK/pair.pub"
openssl pkey -inform DER -in "$WORK/pair.key" -pubout -outform DER -out "$WORK/pair.derived" 2>/dev/null
check "data key pair: the private half matches the public half" cmp "$WORK/pair.pub" "$WORK/pair.derived"
AGREE=$("${K[@]}" create-key --key-spec ECC_NIST_P256 --key-usage KEY_AGREEMENT --query KeyMetadata.KeyId --output text)
"${K[@]}" get-public-key --key-id "$AGREE" --query PublicKey --output text | base64 -d >"$WORK/agree.der"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/peer.pem" 2>/dev/null
openssl pkey -in "$WORK/peer.pem" -pubout -outform DER -out "$WORK/peer.der"
openssl pkeyutl -derive -inkey "$WORK/peer.pem" -peerkey "$WORK/agree.der" -peerform DER -out "$WORK/ossl.secret"
same "DeriveSharedSecret equals openssl's ECDH secret" "$(base64 -w0 <"$WORK/ossl.secret")" "${K[@]}" derive-shared-secret \
  --key-id "$AGREE" --key-agreement-algorithm ECDH --public-key "fileb://$WORK/peer.der" --query SharedSecret --output text
EXT=$("${K[@]}" create-key --origin EXTERNAL --query KeyMetadata.KeyId --output text)
"${K[@]}" get-parameters-for-import --key-id "$EXT" --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_2048 >"$WORK/params.json"
python3 -c 'import json,base64,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"wb").write(base64.b64decode(d["PublicKey"])); open(sys.argv[3],"wb").write(base64.b64decode(d["ImportToken"]))' \
  "$WORK/params.json" "$WORK/wrap.der" "$WORK/token.bin"
head -c 32 /dev/urandom >"$WORK/material.bin"
openssl pkeyutl -encrypt -pubin -keyform DER -inkey "$WORK/wrap.der" -pkeyopt rsa_padding_mode:oaep \
  -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in "$WORK/material.bin" -out "$WORK/material.enc"
check "import key material wrapped by openssl" "${K[@]}" import-key-material --key-id "$EXT" \
  --encrypted-key-material "fileb://$WORK/material.enc" --import-token "fileb://$WORK/token.bin" --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE
"${K[@]}" encrypt --key-id "$EXT" --plaintext "fileb://$WORK/small" --query CiphertextBlob --output text | base64 -d >"$WORK/ext.ct"
same "the imported key encrypts and decrypts" "$(base64 <"$WORK/small")" "${K[@]}" decrypt \
  --ciphertext-blob "fileb://$WORK/ext.ct" --query Plaintext --output text

# --- boto3 ---------------------------------------------------------------------------------
if python3 - "$EP" <<'PY'
import sys, boto3, botocore
kms = boto3.Session(profile_name="coffer", region_name="us-east-1").client("kms", endpoint_url=sys.argv[1])
key = kms.create_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
assert key["MacAlgorithms"] == ["HMAC_SHA_384"], key
mac = kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_384")["Mac"]
assert kms.verify_mac(KeyId=key["KeyId"], Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_384")["MacValid"]
try:
    kms.verify_mac(KeyId=key["KeyId"], Message=b"n", Mac=mac, MacAlgorithm="HMAC_SHA_384")
    raise SystemExit("expected KMSInvalidMacException")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "KMSInvalidMacException", e.response
sym = kms.create_key()["KeyMetadata"]["Arn"]
dk = kms.generate_data_key(KeyId=sym, KeySpec="AES_256", EncryptionContext={"a": "b"})
assert len(dk["Plaintext"]) == 32 and dk["KeyId"] == sym
back = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"a": "b"})
assert back["Plaintext"] == dk["Plaintext"]
aliases = [a["AliasName"] for a in kms.get_paginator("list_aliases").paginate().build_full_result()["Aliases"]]
assert "alias/aws/secretsmanager" in aliases, aliases
PY
then ok "boto3: HMAC keys, data keys, paginated aliases"; else bad "boto3 KMS"; fi

stop_server
summary
