#!/usr/bin/env bash
# Fuzzes coffer's untrusted-input parsers with libFuzzer (fuzz/fuzz_targets/*).
# Usage: scripts/fuzz.sh [seconds-per-target]   (default 60)
#
# cargo-fuzz wants a nightly toolchain; this machine has stable only. The same coverage
# instrumentation LLVM passes exist in stable rustc, so the targets are built with them
# directly (RUSTC_BOOTSTRAP only unlocks `--cfg fuzzing`-style flags libfuzzer-sys expects;
# no sanitizer, which safe Rust does not need). Crashes are saved under fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECS=${1:-60}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-../target}/fuzz}
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the instrumentation flags away from build scripts.
HOST=$(rustc -vV | sed -n "s/^host: //p")
cargo build --release --locked --bins --target "$HOST"
mkdir -p artifacts
for t in blob_parse decrypt_request envelope_parse; do
  mkdir -p "corpus/$t" "artifacts/$t"
  # A private copy of the checked-in corpus, so runs do not rewrite the repository.
  work=$(mktemp -d); cp "corpus/$t/"* "$work/" 2>/dev/null || true
  echo "== fuzz $t for ${SECS}s"
  "$CARGO_TARGET_DIR/$HOST/release/$t" -max_total_time="$SECS" -artifact_prefix="artifacts/$t/" \
    -print_final_stats=1 "$work" 2>&1 | grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added|==[0-9]+== ERROR|SUMMARY)" || true
  rm -rf "$work"
  if ls "artifacts/$t/"crash-* >/dev/null 2>&1; then echo "fuzz $t: crash found"; exit 1; fi
done
echo "fuzz: no crashes"
