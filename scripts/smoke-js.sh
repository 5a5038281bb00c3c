#!/usr/bin/env bash
# Drives a real coffer server with the AWS SDK for JavaScript v3 (versions pinned in
# scripts/smoke-js/package-lock.json, installed with npm ci): a second official SDK beside
# the Rust one of the integration tests, with its own SigV4 signer and protocol codecs.
# Usage: scripts/smoke-js.sh [path/to/coffer]   (default: target/debug/coffer, built if missing)
set -uo pipefail
NAME=smoke-js
source "$(dirname "$0")/smoke-lib.sh"
if ! (cd scripts/smoke-js && npm ci --silent --no-audit --no-fund >"$WORK/npm.log" 2>&1); then
  cat "$WORK/npm.log"; echo "$NAME: 0 passed, 1 failed"; exit 1
fi
start_server
ACCOUNT=$(head -1 "$WORK/data/credentials" | awk '{print $5}')
# Only what the server prints for a user to paste, plus the CA for https.
pasted "NODE_EXTRA_CA_CERTS=$WORK/data/tls/ca.pem SMOKE_HTTPS=https://localhost:$PORT \
  SMOKE_ACCOUNT=$ACCOUNT node --no-warnings scripts/smoke-js/smoke.mjs"
