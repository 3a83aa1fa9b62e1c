#!/usr/bin/env bash
# Runs our criterion benchmarks and the same measurements in JAX on this machine, in one run,
# and prints the README's comparison table. JAX 0.10.2 (CPU) is installed into .venv/ from
# PyPI on first use. Usage: bash benches/compare/compare.sh [--quick]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source benches/compare/jax_venv.sh
crit=()
if [ "${1:-}" = "--quick" ]; then crit=(-- --warm-up-time 1 --measurement-time 3); fi
cargo bench -p benches --bench runtime --bench train_step "${crit[@]}"
cargo bench -p hlo-builder --bench record_lower "${crit[@]}"
cargo bench -p hlo-autodiff --bench grad_chain "${crit[@]}"
cargo build --release -p benches --bin step_server
server="${CARGO_TARGET_DIR:-$root/target}/release/step_server"
out="$(mktemp)"
.venv/bin/python benches/compare/jax_reference.py dispatch transfers mlp chain grad \
  "mlp_interleaved=$server" | tee "$out"
# The interleaved steps once more with one intra-op thread in both processes.
PJRT_NPROC=1 .venv/bin/python benches/compare/jax_reference.py "mlp_interleaved=$server" | tee -a "$out"
python3 benches/compare/table.py "$out"
