#!/usr/bin/env bash
# The project's test command (README): unit, property, conformance and integration tests,
# then the smoke script with the real AWS CLI and boto3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo nextest run --workspace --locked --no-fail-fast
cargo build --locked --bin coffer
bash scripts/smoke.sh "${CARGO_TARGET_DIR:-target}/debug/coffer"
