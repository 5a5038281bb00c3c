#!/usr/bin/env bash
# The project's test command (README): unit, property, conformance and integration tests,
# the smoke scripts with the real AWS CLI, boto3, the AWS SDK for JavaScript and openssl,
# then a short fuzzing run of the ciphertext and Decrypt parsers (FUZZ_SECONDS per target,
# default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo nextest run --workspace --locked --no-fail-fast
cargo build --locked --bin coffer
bash scripts/smoke.sh "${CARGO_TARGET_DIR:-target}/debug/coffer"
bash scripts/smoke-kms.sh "${CARGO_TARGET_DIR:-target}/debug/coffer"
bash scripts/smoke-secrets.sh "${CARGO_TARGET_DIR:-target}/debug/coffer"
bash scripts/smoke-params.sh "${CARGO_TARGET_DIR:-target}/debug/coffer"
bash scripts/smoke-js.sh "${CARGO_TARGET_DIR:-target}/debug/coffer"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
