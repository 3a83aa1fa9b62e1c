#!/usr/bin/env bash
# The whole test suite. The pjrt suite runs once per installed CPU plugin (API 0.81, 0.106,
# 0.115); everything else runs on the default plugin.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

plugins=(.plugins/cpu-0.81/xla_cpu_pjrt.so .plugins/cpu-0.106/libpjrt_cpu.so
         .plugins/cpu-0.115/pjrt_c_api_cpu_plugin.so)

echo "== pjrt-sys layout check against the official 0.81 header"
cargo test -p pjrt-sys -p pjrt-sys-layout-test

ran=()
for p in "${plugins[@]}"; do
  v="$(basename "$(dirname "$p")")"
  echo "== pjrt suite on plugin $v ($p)"
  PJRT_PLUGIN="$root/$p" cargo test -p pjrt
  ran+=("$v")
done

echo "== builder, autodiff, examples and integration tests on the default plugin"
cargo test -p hlo-builder -p autodiff -p examples -p integration-tests --features autodiff/ndarray

echo "== pjrt suite ran against: ${ran[*]}"
