#!/usr/bin/env bash
# TRACK 1.5.2 itself, run afresh on the December 2025 msl series by
# benches/track/run_track.sh (the track-pylib 0.4.5 wheel from PyPI; about
# two minutes on one core), must write the committed reference tracks
# (pst-cli/tests/fixtures/track-1.5.2/dec_msl_t5-42_ff_trs.gz) byte for byte,
# and pst with TRACK's settings must give every one of them, point for point.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
CASES=dec bash benches/track/run_track.sh "$dir/scratch" "$dir/out" > "$dir/run.log" 2>&1 \
  || { tail -30 "$dir/run.log"; echo "TRACK did not run"; exit 1; }
fresh="$dir/out/dec/dec_msl_t5-42_ff_trs"
cmp <(gzip -dc pst-cli/tests/fixtures/track-1.5.2/dec_msl_t5-42_ff_trs.gz) "$fresh" \
  || { echo "TRACK's tracks differ from the committed fixture"; exit 1; }
echo "TRACK 1.5.2 December tracks: the committed fixture, byte for byte"
cargo build --release -q -p pst-cli
bin="${CARGO_TARGET_DIR:-target}/release/stormtracker"
"$bin" track -i examples/data/era5_msl_2025-12_2.5x2.5.nc --variable msl -a hodges --track-bands 0,5,42 \
  --spectral-fit least-squares --tied-extrema include --bspline-search track --no-segmentation --no-progress \
  -o "$dir/pst.csv"
"$bin" compare -r "$fresh" -c "$dir/pst.csv" --matching global_assignment | tee "$dir/compare.txt"
grep -q "TP: 1092, FP: 0, FN: 0; Topology-identical pairs: 1092" "$dir/compare.txt" \
  || { echo "pst's tracks are not TRACK's"; exit 1; }
echo "pst with TRACK's settings: all of TRACK's 1,092 December tracks, point for point"
