#!/usr/bin/env bash
# Installs what the workspace needs and is missing; idempotent and quick when all is there.
#  - Debian packages for LLVM/MLIR 22 (melior builds against them)
#  - the three CPU PJRT plugins (API 0.81, 0.106, 0.115), from their PyPI wheels, each wheel
#    checked against a pinned SHA-256, the .so unpacked into .plugins/ (ignored by git)
#  - the UCI optical digits data set (inside the scikit-learn wheel), into .data/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf '[setup] %s\n' "$*" >&2; }

# ---- Debian packages -------------------------------------------------------------------
apt_pkgs=(libmlir-22-dev mlir-22-tools llvm-22-dev libclang-22-dev libpolly-22-dev
          libzstd-dev libz3-dev libxml2-dev zlib1g-dev unzip python3-pip)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # python3-pip only matters when no pip is on PATH.
  if command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1; then
    missing=("${missing[@]/python3-pip}")
  fi
  read -r -a missing <<<"${missing[*]}"
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ---- wheels ------------------------------------------------------------------------------
pip_cmd() { if command -v pip3 >/dev/null 2>&1; then pip3 "$@"; else python3 -m pip "$@"; fi; }
cache="$root/.plugins/wheels"
mkdir -p "$cache"

# fetch_wheel SPEC FILE SHA256: download one wheel by package name (no deps) and check it.
fetch_wheel() {
  local spec="$1" file="$2" sha="$3"
  if [ -f "$cache/$file" ] && echo "$sha  $cache/$file" | sha256sum -c --status; then
    return 0
  fi
  say "downloading $spec"
  rm -f "$cache/$file"
  pip_cmd download --no-deps --only-binary=:all: -q -d "$cache" "$spec" >&2
  if ! echo "$sha  $cache/$file" | sha256sum -c --status; then
    say "SHA-256 mismatch for $file (expected $sha); refusing it"
    rm -f "$cache/$file"
    exit 1
  fi
}

# plugin DIR SPEC WHEEL SHA256 MEMBER: unpack MEMBER of the wheel to .plugins/DIR/.
plugin() {
  local dir="$1" spec="$2" wheel="$3" sha="$4" member="$5"
  local dest="$root/.plugins/$dir/$(basename "$member")"
  local stamp="$dest.sha256"
  if [ -f "$dest" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha" ]; then return 0; fi
  fetch_wheel "$spec" "$wheel" "$sha"
  mkdir -p "$root/.plugins/$dir"
  unzip -o -q -j "$cache/$wheel" "$member" -d "$root/.plugins/$dir"
  echo "$sha" > "$stamp"
  say "installed $dest"
}

plugin cpu-0.81 xla-cpu-pjrt==0.0.1 \
  xla_cpu_pjrt-0.0.1-py3-none-manylinux_2_27_x86_64.whl \
  55837b6b7b47daa717f2d9a5a03563ea0ceaa338d06a81a1e2d3f060d960decc \
  xla_plugins/xla_cpu_pjrt/xla_cpu_pjrt.so
# The official 0.81 header ships in the same wheel; the layout test runs bindgen over it.
plugin cpu-0.81 xla-cpu-pjrt==0.0.1 \
  xla_cpu_pjrt-0.0.1-py3-none-manylinux_2_27_x86_64.whl \
  55837b6b7b47daa717f2d9a5a03563ea0ceaa338d06a81a1e2d3f060d960decc \
  xla_plugins/xla_cpu_pjrt/include/pjrt_c_api.h
plugin cpu-0.106 fastatomstruct-xla-cpu==2026.6.23 \
  fastatomstruct_xla_cpu-2026.6.23-py3-none-manylinux_2_27_x86_64.whl \
  88b1c430b341b4bea40a37420311c9c75db6e22b46d2ff95b6986577bee6afe9 \
  fastatomstruct_xla_cpu/libpjrt_cpu.so
plugin cpu-0.115 lammps-jax-pjrt-cpu==0.11.2 \
  lammps_jax_pjrt_cpu-0.11.2-py3-none-manylinux_2_27_x86_64.whl \
  1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1 \
  lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so

# ---- the digits data set -----------------------------------------------------------------
# The wheel's name depends on the Python version, so the data file itself is pinned.
digits_sha=09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22
digits="$root/.data/digits.csv.gz"
if ! { [ -f "$digits" ] && echo "$digits_sha  $digits" | sha256sum -c --status; }; then
  say "downloading scikit-learn==1.9.1 (for its digits.csv.gz)"
  tmp="$(mktemp -d)"
  pip_cmd download --no-deps --only-binary=:all: -q -d "$tmp" scikit-learn==1.9.1 >&2
  mkdir -p "$root/.data"
  unzip -o -q -j "$tmp"/scikit_learn-*.whl sklearn/datasets/data/digits.csv.gz -d "$root/.data"
  rm -rf "$tmp"
  if ! echo "$digits_sha  $digits" | sha256sum -c --status; then
    say "SHA-256 mismatch for digits.csv.gz; refusing it"; rm -f "$digits"; exit 1
  fi
fi

# ---- Rust toolchain check ----------------------------------------------------------------
command -v cargo >/dev/null 2>&1 || { say "cargo not found: install Rust (rustup) first"; exit 1; }
