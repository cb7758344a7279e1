#!/usr/bin/env bash
# Bounded memory at native resolution: a 0.25° series (ERA5's 0.25° msl
# frame turned and mirrored frame by frame, Zarr v3, one chunk per frame)
# tracked over FRAMES and FRAMES/3 frames must peak at the same resident
# memory (within 10 %), below 10 frames' worth (f64) over a one-frame run.
#   .ci/checks/memory.sh [FRAMES]   (default 438: 3 × 146)
set -euo pipefail
cd "$(dirname "$0")/../.."
frames=${1:-438}
data="${PST_DATA:-../shared/data}"
cargo build --release -q -p pst-cli
cargo build --release -q -p pst-benches --bin pst-year
bin="${CARGO_TARGET_DIR:-target}/release"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin/pst-year" write-zarr "$dir/series.zarr" "$frames" "$data/era5-frames/era5_msl_2025120100_0.25x0.25.nc"
track() { # tracks $1 frames; the peak RSS in KB goes to $dir/rss-$1
  /usr/bin/time -f "%M" -o "$dir/rss-$1" "$bin/stormtracker" track -i "$dir/series.zarr" --variable msl \
    -o "$dir/out.imilast.txt" -n "$1" --no-progress
}
track 1
track $((frames / 3))
track "$frames"
one=$(cat "$dir/rss-1"); part=$(cat "$dir/rss-$((frames / 3))"); all=$(cat "$dir/rss-$frames")
frame_kb=$((721 * 1440 * 8 / 1024))
echo "peak RSS: 1 frame ${one} KB, $((frames / 3)) frames ${part} KB, ${frames} frames ${all} KB (one frame: ${frame_kb} KB as f64)"
awk -v a="$all" -v p="$part" 'BEGIN { exit !(a <= 1.10 * p) }' || { echo "memory grows with the series"; exit 1; }
[ "$all" -le $((one + 10 * frame_kb)) ] || { echo "peak above 10 frames over a one-frame run"; exit 1; }
echo "memory: bounded"
