#!/usr/bin/env bash
# Chunk layouts at 0.25°: the same FRAMES-frame series (ERA5's 0.25° msl
# frame turned and mirrored frame by frame, as in memory.sh) stored as Zarr
# v3 and netCDF-4 with one chunk a frame, 24 and 100 frames a chunk, and
# 1×64×64 spatial tiles. Every layout must give the frame-aligned run's
# tracks byte for byte; its peak RSS must stay within the documented bound
# (the frame-aligned run's, plus the slabs in use — two of the layout's
# chunks' time steps, as float32 — plus one being read with up to three
# chunk-sized decoder buffers: 6 slabs in all), and it must not be many
# times slower (a chunk
# decoded once per frame it holds is 24–100 times slower; timing is noisy on
# a shared machine, so only that is checked). Prints a table of the figures.
#   .ci/checks/chunk_layouts.sh [FRAMES]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
frames=${1:-200}
data="${PST_DATA:-../shared/data}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# netCDF4 and zarr (for benches/python/to_netcdf4.py) in a venv of their own,
# kept between runs.
venv="$HOME/.cache/pst/layouts-venv"
if ! "$venv/bin/python" -c 'import netCDF4, zarr' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q netCDF4 "zarr>=3"
fi
cargo build --release -q -p pst-cli
cargo build --release -q -p pst-benches --bin pst-year
bin="$CARGO_TARGET_DIR/release"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
frame="$data/era5-frames/era5_msl_2025120100_0.25x0.25.nc"
layouts=(1,721,1440 24,721,1440 100,721,1440 1,64,64)
for chunks in "${layouts[@]}"; do
  "$bin/pst-year" write-zarr "$dir/z-${chunks//,/x}.zarr" "$frames" "$frame" --chunks "$chunks" 2>/dev/null
  "$venv/bin/python" benches/python/to_netcdf4.py "$dir/z-1x721x1440.zarr" "$dir/n-${chunks//,/x}.nc" "$chunks" >/dev/null
done
frame_kb=$((721 * 1440 * 8 / 1024))
printf '%-8s %-14s %9s %11s %s\n' format chunks "wall (s)" "peak (MB)" tracks
failed=0
for kind in z n; do
  ext=$([ "$kind" = z ] && echo zarr || echo nc)
  for chunks in "${layouts[@]}"; do
    input="$dir/$kind-${chunks//,/x}.$ext"
    /usr/bin/time -f "%e %M" -o "$dir/time" "$bin/stormtracker" track -i "$input" --variable msl \
      -o "$dir/out-$kind-${chunks//,/x}.txt" --no-progress 2>/dev/null
    read -r wall kb < "$dir/time"
    if [ "$chunks" = 1,721,1440 ]; then
      base_wall=$wall base_kb=$kb
      verdict=reference
    elif cmp -s "$dir/out-$kind-1x721x1440.txt" "$dir/out-$kind-${chunks//,/x}.txt"; then
      verdict=identical
    else
      verdict=DIFFER failed=1
    fi
    printf '%-8s %-14s %9s %11s %s\n' "$ext" "$chunks" "$wall" "$((kb / 1024))" "$verdict"
    slab_frames=${chunks%%,*}
    bound=$((base_kb + 6 * slab_frames * frame_kb / 2 + 10 * frame_kb))
    [ "$kb" -le "$bound" ] || { echo "  peak above the bound ($((bound / 1024)) MB)"; failed=1; }
    awk -v a="$wall" -v b="$base_wall" 'BEGIN { exit !(a <= 4 * b + 1) }' || { echo "  far slower than frame-aligned"; failed=1; }
  done
done
cmp -s "$dir/out-z-1x721x1440.txt" "$dir/out-n-1x721x1440.txt" || { echo "Zarr and netCDF-4 tracks differ"; failed=1; }
[ "$failed" = 0 ] && echo "chunk layouts: same tracks, bounded memory"
exit "$failed"
