#!/usr/bin/env bash
# AddressSanitizer and LeakSanitizer over the pjrt crate's unit and runtime tests, once per
# installed CPU plugin. Rust's -Zsanitizer is unstable, so this needs a nightly toolchain
# (rustup toolchain install nightly); without one it says so and exits 2. The build goes to
# target/asan (about 3 minutes the first time). The plugins themselves are not instrumented,
# but ASan replaces malloc/free for the whole process, so their allocations are tracked too.
# Test-only leaks (strings leaked on purpose for 'static lifetimes) are listed in
# scripts/lsan.supp; frame pointers let ASan's fast unwinder see the whole allocation stack
# the suppressions match (its slow unwinder deadlocks against the plugins' loader lock).
# Usage: make asan   (or: bash scripts/asan.sh [cargo test args])
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "make asan needs a nightly toolchain for -Zsanitizer=address; install it with:"
  echo "  rustup toolchain install nightly"
  exit 2
fi
target="$(rustc -vV | sed -n 's/^host: //p')"
# The plugin paths, found with the ordinary build (before the sanitizer flags are set).
plugins=()
for name in cpu-0.81 cpu-0.106 cpu-0.115; do
  plugins+=("$(cargo run --quiet -p pjrt-runtime --bin pjrt-plugins -- path "$name")")
done
export RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes"
export CARGO_TARGET_DIR="$root/target/asan"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
for p in "${plugins[@]}"; do
  echo "== AddressSanitizer: pjrt unit and runtime tests on $(basename "$(dirname "$p")")"
  PJRT_PLUGIN="$p" cargo +nightly test --quiet -p pjrt-runtime --target "$target" --lib --tests "$@"
done
echo "asan: no memory errors or leaks in the pjrt tests on any plugin"
