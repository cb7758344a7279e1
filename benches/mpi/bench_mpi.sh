#!/usr/bin/env bash
# Hodges on MPI against one process, alternated runs, medians of wall time.
#   bash benches/mpi/bench_mpi.sh INPUT VARIABLE "TRACK ARGS" [RUNS]
# Needs `cargo build --release -p pst-cli --features mpi`. Configurations:
# one process with 1 and 2 threads, and mpirun -np 1 and -np 2 with one
# thread a rank (-w 1); every output is compared with the first.
set -euo pipefail
input=$1 variable=$2 args=$3 runs=${4:-5}
bin="$(realpath "${CARGO_TARGET_DIR:-target}/release/stormtracker")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpi="mpirun --allow-run-as-root --oversubscribe --bind-to none"
declare -A cmd=(
  [serial-1t]="$bin track -w 1"
  [serial-2t]="$bin track -w 2"
  [mpi-1x1t]="$mpi -np 1 $bin track -b mpi -w 1"
  [mpi-2x1t]="$mpi -np 2 $bin track -b mpi -w 1"
)
order=(serial-1t mpi-1x1t serial-2t mpi-2x1t)
for k in $(seq "$runs"); do
  for c in "${order[@]}"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e" -a -o "$out/$c.times" ${cmd[$c]} -i "$input" --variable "$variable" $args \
      -o "$out/$c.txt" --no-progress 2>/dev/null
    cmp "$out/${order[0]}.txt" "$out/$c.txt"
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in "${order[@]}"; do
  printf '%-10s median %s s of %s\n' "$c" "$(sort -n "$out/$c.times" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
    "$(sort -n "$out/$c.times" | tr '\n' ' ')"
done
