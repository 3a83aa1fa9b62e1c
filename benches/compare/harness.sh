#!/usr/bin/env bash
# The comparison harness: every workload of ours against its JAX twin, interleaved, waiting
# for idle cores before each round; prints the README's table. JAX 0.10.2 (CPU) is installed
# into .venv/ from PyPI on first use, as in compare.sh.
# Usage: bash benches/compare/harness.sh [--rounds N] [--only a,b,...] [--epochs N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source benches/compare/jax_venv.sh
cargo build --release -p benches --bin workload_server
cargo build --release --example train_digits
bin="${CARGO_TARGET_DIR:-$root/target}/release"
.venv/bin/python benches/compare/harness.py "$bin/workload_server" "$bin/examples/train_digits" "$@"
