#!/usr/bin/env bash
# Runs the create/compile/execute/destroy loop (examples/lifecycle_loop.rs) under valgrind's
# leak checker and fails if any memory is definitely or indirectly lost.
# Usage: make valgrind   (or: ITERATIONS=5 PJRT_PLUGIN=... bash scripts/valgrind.sh)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; exit 1; }
cargo build --release --example lifecycle_loop
log="$(mktemp)"
# The plugins' own one-time globals (thread pools, LLVM registries) stay reachable at exit;
# only lost blocks count as leaks.
valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=3 --num-callers=30 --log-file="$log" \
  target/release/examples/lifecycle_loop "${ITERATIONS:-3}" || status=$?
grep -E "definitely lost|indirectly lost|possibly lost|still reachable|ERROR SUMMARY" "$log" || true
echo "full log: $log"
exit "${status:-0}"
