#!/usr/bin/env bash
# Fuzzes pst-io's readers (pst-io/examples/fuzz_readers.rs): CASES damaged
# copies of real seeds (netCDF-3/4, Zarr v2/v3, GRIB1/2, every track
# format), each opened and read under a memory limit (prlimit: 1 GiB of
# data) and a per-case time limit. A panic, a hang or an abort fails CI and
# names the case (rerun it with `--only N`); a crash found becomes a test
# in pst-io/tests/hostile.rs.
#   .ci/checks/fuzz.sh [CASES] [FIRST]   (default 20000 cases from case 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
cases=${1:-20000}
first=${2:-1}
cargo build --release -q -p pst-io --example fuzz_readers
bin="${CARGO_TARGET_DIR:-target}/release/examples/fuzz_readers"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
set +e
prlimit --data=$((1 << 30)) -- "$bin" --cases "$cases" --seed "$first" --out "$out" --case-seconds 5
status=$?
set -e
if [ "$status" -ne 0 ]; then
  [ -f "$out/current.case" ] && echo "fuzz: the process died (status $status) on case $(cat "$out/current.case")"
  echo "fuzz: FAILED (status $status)"
  exit 1
fi
echo "fuzz: no panic, hang or abort"
