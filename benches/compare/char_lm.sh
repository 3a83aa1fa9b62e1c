#!/usr/bin/env bash
# char_lm against its JAX twin (examples/char_lm.py) on this machine, in one run:
#  1. the loss curves of 300 steps from the same initial weights on the same batches;
#  2. the train step's time, ours and JAX's alternating in blocks (interleaved).
# JAX 0.10.2 (CPU) is installed into .venv/ from PyPI on first use, as in compare.sh.
# Usage: bash benches/compare/char_lm.sh [STEPS] [ROUNDS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
steps="${1:-300}"
rounds="${2:-30}"
source benches/compare/jax_venv.sh
cargo build --release --example char_lm
bin="${CARGO_TARGET_DIR:-$root/target}/release/examples/char_lm"
out="$(mktemp -d)"
"$bin" --steps "$steps" --eval-every "$steps" --sample 0 --out "$out" \
  --save-init "$out/init.safetensors" --losses "$out/ours.csv"
.venv/bin/python examples/char_lm.py --init "$out/init.safetensors" --steps "$steps" --losses "$out/jax.csv"
python3 - "$out/ours.csv" "$out/jax.csv" <<'PY'
import csv, sys
ours = [float(r["loss"]) for r in csv.DictReader(open(sys.argv[1]))]
jax = [float(r["loss"]) for r in csv.DictReader(open(sys.argv[2]))]
assert len(ours) == len(jax), (len(ours), len(jax))
d = [abs(a - b) for a, b in zip(ours, jax)]
def mean(v): return sum(v) / len(v)
n = len(ours)
print(f"loss curves over {n} steps: max |ours - jax| {max(d):.4f}, mean {mean(d):.5f}")
for s in sorted({0, 1, 10, 50, 100, n // 2, n - 1}):
    if s < n:
        print(f"  step {s:4d}: ours {ours[s]:.4f}  jax {jax[s]:.4f}")
print(f"  mean of the last 50: ours {mean(ours[-50:]):.4f}  jax {mean(jax[-50:]):.4f}")
PY
.venv/bin/python examples/char_lm.py --init "$out/init.safetensors" --interleave "$bin" --rounds "$rounds"
rm -rf "$out"
