#!/usr/bin/env bash
# The Python package against the CLI and PyStormTracker 0.8.0's Python API,
# side by side in one session (BENCHMARKS.md, "Python"):
#   1. the call's overhead: pst.X().track(path) + write in-process against
#      `stormtracker track` (one thread each) on the December file;
#   2. PyStormTracker 0.8.0's SimpleTracker/HodgesTracker .track() on it;
#   3. peak RSS and wall of a Dask-backed 0.25° series (chunks of one
#      frame) against the CLI on the same netCDF file.
# Usage: bench_python.sh PST_VENV PYSTORMTRACKER_VENV STORMTRACKER FILE_025 [RUNS]
set -euo pipefail
venv=$1 pstvenv=$2 exe=$3 hr=$4 runs=${5:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
dec="$here/examples/data/era5_msl_2025-12_2.5x2.5.nc"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$out"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cat > py_pst.py <<'PY'
import sys, time
import pst
algorithm, path = sys.argv[1], sys.argv[2]
tracker = pst.SimpleTracker() if algorithm == "simple" else pst.HodgesTracker(lmin=5, lmax=42)
t0 = time.perf_counter()
tracks = tracker.track(path, varname="msl", backend="serial")
tracks.write("py.txt")
print(f"{time.perf_counter() - t0:.4f}")
PY
cat > py_pystormtracker.py <<'PY'
import sys, time
import pystormtracker as p
algorithm, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if algorithm == "simple":
    tracks = p.SimpleTracker(backend="serial").track(path, "msl")
else:
    tracks = p.HodgesTracker(lmin=5, lmax=42, backend="serial").track(path, "msl")
print(f"{time.perf_counter() - t0:.4f}")
PY
cat > py_dask.py <<'PY'
import sys, time
import xarray as xr
import pst
algorithm, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
tracker = pst.SimpleTracker() if algorithm == "simple" else pst.HodgesTracker(lmin=5, lmax=42)
t0 = time.perf_counter()
ds = xr.open_dataset(path, chunks={"time": 1})
tracks = tracker.track(ds["msl"], backend="threads", workers=threads)
tracks.write("dask.txt")
print(f"{time.perf_counter() - t0:.4f}")
PY
cat > py_path.py <<'PY'
import sys, time
import pst
algorithm, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
tracker = pst.SimpleTracker() if algorithm == "simple" else pst.HodgesTracker(lmin=5, lmax=42)
tracker.track(path, varname="msl", backend="threads", workers=threads).write("path.txt")
PY
cat > py_opened.py <<'PY'
import sys
import dask.array, xarray as xr, pst
xr.open_dataset(sys.argv[1], chunks={"time": 1})
PY

echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for algorithm in simple hodges; do
  flags=(); [ "$algorithm" = hodges ] && flags=(-a hodges --lmin 5 --lmax 42)
  : > cli.t; : > py.t
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e" -o t "$exe" track -i "$dec" --variable msl "${flags[@]}" -w 1 --no-progress -o cli.txt 2>/dev/null
    cat t >> cli.t
    "$venv/bin/python" py_pst.py "$algorithm" "$dec" >> py.t
  done
  cmp cli.txt py.txt
  c=$(median < cli.t) p=$(median < py.t)
  echo "December $algorithm, one thread: CLI process $c s, Python track()+write $p s (medians of $runs), same bytes"
  : > pst.t
  for _ in $(seq $(( runs < 3 ? runs : 3 ))); do
    "$pstvenv/bin/python" py_pystormtracker.py "$algorithm" "$dec" 2>pst.err | tail -1 >> pst.t \
      || { cat pst.err; exit 1; }
  done
  echo "December $algorithm: PyStormTracker 0.8.0 .track() $(median < pst.t) s (median of $(wc -l < pst.t))"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "%M" -o t "$venv/bin/python" py_opened.py "$hr"
echo "Python with numpy, xarray, dask and pst imported and the 0.25° file opened by xarray: $(( $(cat t) / 1024 )) MB"
for algorithm in simple hodges; do
  flags=(); [ "$algorithm" = hodges ] && flags=(-a hodges --lmin 5 --lmax 42)
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o t "$exe" track -i "$hr" --variable msl "${flags[@]}" -w 2 --no-progress -o cli.txt 2>/dev/null
    echo "0.25° 146 frames $algorithm, CLI 2 threads: $(awk '{print $1 " s, " int($2/1024) " MB"}' t)"
    /usr/bin/time -f "%e %M" -o t "$venv/bin/python" py_dask.py "$algorithm" "$hr" 2 > /dev/null
    echo "0.25° 146 frames $algorithm, Python, Dask-backed (chunks of 1 frame), 2 threads: $(awk '{print $1 " s, " int($2/1024) " MB"}' t)"
    cmp cli.txt dask.txt
    /usr/bin/time -f "%e %M" -o t "$venv/bin/python" py_path.py "$algorithm" "$hr" 2
    echo "0.25° 146 frames $algorithm, Python, the path (pst's reader), 2 threads: $(awk '{print $1 " s, " int($2/1024) " MB"}' t)"
    cmp cli.txt path.txt
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
