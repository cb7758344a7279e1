#!/usr/bin/env bash
# The MPI back-end: `mpirun -np 2` on the ERA5 DJF msl series must give the
# serial run's output byte for byte (and PyStormTracker 0.8.0's reference),
# for the Simple, Hodges and HEALPix trackers.
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${PST_DATA:-../shared/data}"
cargo build -q -p pst-cli --features mpi
bin="$(realpath "${CARGO_TARGET_DIR:-target}/debug/stormtracker")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
input="$(realpath "$data/era5/era5_msl_2025-2026_djf_2.5x2.5.nc")"
"$bin" track -i "$input" --variable msl -o "$out/serial.imilast.txt" --no-progress
mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" track -b mpi -i "$input" --variable msl \
  -o "$out/mpi.imilast.txt" -v
cmp "$out/serial.imilast.txt" "$out/mpi.imilast.txt"
cmp "$out/mpi.imilast.txt" "../shared/reference/pst-0.8.0-output/era5_msl_djf_simple.imilast.txt" \
  || cmp "$out/mpi.imilast.txt" "$data/../reference/pst-0.8.0-output/era5_msl_djf_simple.imilast.txt"
# The Hodges tracker too: its 6 MGE segments detected and linked on the
# ranks (7 ranks leave one idle), spliced on rank 0.
"$bin" track -i "$input" --variable msl -a hodges --lmin 5 --lmax 42 -o "$out/hodges-serial.txt" --no-progress
for n in 2 3 7; do
  mpirun --allow-run-as-root --oversubscribe -np $n "$bin" track -b mpi -i "$input" --variable msl -a hodges \
    --lmin 5 --lmax 42 -o "$out/hodges-mpi$n.txt" -v --no-progress 2>"$out/hodges-mpi$n.log"
  cmp "$out/hodges-serial.txt" "$out/hodges-mpi$n.txt"
  grep -q "linking 360 frames from $n slabs (6 parts linked there)" "$out/hodges-mpi$n.log"
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
# A batch shared among ranks: rank 0 hands the lines out and keeps the log;
# the outputs are a one-process batch's, a failed line is reported with its
# rank, and a second batch does only what is not done.
for dir in batch-serial batch-mpi; do
  mkdir -p "$out/$dir"
  {
    echo "-i $input --variable msl -o simple.txt"
    echo "-i $input --variable msl -a hodges --lmin 5 --lmax 42 -o hodges.txt"
    echo "-i $input --variable nope -o nope.txt"
    echo "-i $input --variable msl -a healpix --lmin 5 --lmax 42 -o healpix.json"
    echo "-i $input --variable msl -n 40 -o short.nc"
  } >"$out/$dir/runs.txt"
done
(cd "$out/batch-serial" && "$bin" batch runs.txt 2>/dev/null) && { echo "a batch with a bad line exited 0"; exit 1; }
if (cd "$out/batch-mpi" && mpirun --allow-run-as-root --oversubscribe -np 3 "$bin" batch runs.txt \
  2>"$out/batch.log"); then
  echo "an MPI batch with a bad line exited 0"; exit 1
fi
grep -q "line 3 (rank [0-2]): error: .*variable .nope. not found" "$out/batch.log"
grep -q "4 run, 0 skipped as done, 1 failed" "$out/batch.log"
for f in simple.txt hodges.txt healpix.json short.nc; do cmp "$out/batch-serial/$f" "$out/batch-mpi/$f"; done
sed -i '/nope/d' "$out/batch-mpi/runs.txt"
rm "$out/batch-mpi/hodges.txt"
(cd "$out/batch-mpi" && mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" batch runs.txt 2>"$out/batch.log")
grep -q "1 run, 3 skipped as done, 0 failed" "$out/batch.log"
cmp "$out/batch-serial/hodges.txt" "$out/batch-mpi/hodges.txt"
# A failing rank ends the job with an error instead of hanging.
if mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" track -b mpi -i "$input" --variable nope \
  -o "$out/x.txt" 2>"$out/err.txt"; then
  echo "a failing MPI job exited 0"; exit 1
fi
grep -q "aborting the MPI job" "$out/err.txt"
echo "MPI: Simple on 2 ranks = serial = PyStormTracker 0.8.0, Hodges linked on 2, 3 and 7 ranks, HEALPix and Simple on a stereographic plane on 2 = serial, byte for byte; a batch on 3 ranks = one process's, resumed on 2; a failing rank aborts the job"
