#!/usr/bin/env bash
# The whole test suite. The pjrt suite runs once per installed CPU plugin (API 0.81, 0.106,
# 0.115); everything else runs on the default plugin.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Where the set-up installed each CPU plugin (the per-user plugin folder; see pjrt-plugins).
plugins=()
for name in cpu-0.81 cpu-0.106 cpu-0.115; do
  plugins+=("$(cargo run --quiet -p pjrt-runtime --bin pjrt-plugins -- path "$name")")
done

echo "== pjrt-sys layout check against the official 0.81 header"
cargo test -p pjrt-abi -p pjrt-sys-layout-test

ran=()
for p in "${plugins[@]}"; do
  v="$(basename "$(dirname "$p")")"
  echo "== pjrt suite on plugin $v ($p)"
  PJRT_PLUGIN="$p" cargo test -p pjrt-runtime --features ndarray,serde
  ran+=("$v")
done

echo "== builder, autodiff, examples and integration tests on the default plugin"
# (tests/Cargo.toml turns on pjrt-runtime/ndarray, hlo-autodiff/serde turns on
# pjrt-runtime/serde: the same pjrt build as the suite above.) The serde feature adds the
# configuration round-trip tests; integration-tests' doc tests are the code of docs/guide.md.
# integration-tests includes the adversarial suite (tests/adversarial: every case in its own
# process, the table of outcomes printed at its end) and the bounded fuzzing of the executable
# envelope and the MLIR-text checks (tests/integration/fuzz.rs, FUZZ_SECONDS per target).
# integration-tests turns on hlo-autodiff/mpi (its multi-process test runs `mpirun -np 2`);
# examples/mpi builds examples/mpi_digits.rs.
cargo test -p hlo-builder -p hlo-autodiff -p examples -p integration-tests --features hlo-autodiff/ndarray,hlo-autodiff/serde,examples/mpi

# Every library crate must package (the published names: pjrt-abi is pjrt_sys, pjrt-runtime
# is pjrt, hlo-autodiff is autodiff). --no-verify: packaging alone, no second build.
echo "== cargo package for the library crates"
cargo package --quiet --no-verify --allow-dirty -p pjrt-abi -p pjrt-runtime -p hlo-builder -p hlo-autodiff-derive -p hlo-autodiff

# Every library crate's documentation must build without a single warning (broken links
# included); its examples run as doc tests above.
doc_crates=(pjrt-abi pjrt-runtime hlo-builder hlo-autodiff-derive hlo-autodiff)
echo "== cargo doc without warnings: ${doc_crates[*]}"
doc_args=()
for c in "${doc_crates[@]}"; do doc_args+=(-p "$c"); done
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --features hlo-autodiff/mpi "${doc_args[@]}"

# The README's line counts (examples' marked regions, rustfmt'd) are current and in limits.
echo "== line counts"
python3 scripts/line_counts.py --check

echo "== pjrt suite ran against: ${ran[*]}"
