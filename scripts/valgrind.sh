#!/usr/bin/env bash
# Runs the create/compile/execute/destroy loop (examples/lifecycle_loop.rs) under valgrind's
# leak checker. Fails if any block is definitely or indirectly lost, or if valgrind reports a
# memory error whose innermost frame is outside the plugin (the CPU plugins' own JIT and
# CPU-feature probing trip "uninitialised value" reports inside the plugin .so; those are
# listed but not ours to fix).
# Usage: make valgrind   (or: ITERATIONS=5 PJRT_PLUGIN=... bash scripts/valgrind.sh)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; exit 1; }
cargo build --release --example lifecycle_loop
log="$(mktemp)"
valgrind --leak-check=full --show-leak-kinds=definite,indirect --num-callers=30 \
  --log-file="$log" target/release/examples/lifecycle_loop "${ITERATIONS:-3}"
grep -E "definitely lost|indirectly lost|possibly lost|still reachable|ERROR SUMMARY" "$log" || true
echo "full log: $log"
status=0
for kind in "definitely lost" "indirectly lost"; do
  bytes="$(grep -E "$kind:" "$log" | sed -E 's/.*lost: ([0-9,]+) bytes.*/\1/' | tr -d ,)"
  if [ -n "$bytes" ] && [ "$bytes" != "0" ]; then
    echo "FAIL: $kind: $bytes bytes"; status=1
  fi
done
# The innermost frame of every memory error (the line after the error's title).
outside="$(awk '/==[0-9]+== (Invalid|Conditional|Use of uninitialised|Syscall param|Mismatched)/ {getline; print}' "$log" \
  | grep -v -E '\.so\)|\.so\.[0-9]' || true)"
if [ -n "$outside" ]; then
  echo "FAIL: memory errors outside the plugin:"; echo "$outside" | sort | uniq -c; status=1
fi
[ "$status" -eq 0 ] && echo "valgrind: no leaks, no memory errors outside the plugin"
exit "$status"
