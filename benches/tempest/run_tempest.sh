#!/usr/bin/env bash
# Reference candidate sets from TempestExtremes' DetectNodes, and paths from
# its StitchNodes, for pst's tests
# (pst-cli/tests/fixtures/tempestextremes/, checked by
# pst-cli/tests/tempest_parity.rs).
#
#   benches/tempest/run_tempest.sh TE_SOURCE [SCRATCH_DIR] [OUTPUT_DIR]
#
#   TE_SOURCE    a checkout of https://github.com/ClimateGlobalChange/tempestextremes
#                (the fixtures: commit 80d2b54f60117bd386f8786c8c35e739e63bfc97)
#   SCRATCH_DIR  build directory (default /tmp/te-build)
#   OUTPUT_DIR   the gzipped node files (default /tmp/te-out)
#
# TempestExtremes is built outside this repository (cmake, a C++ compiler and
# libnetcdf-dev; about two minutes on one core) and none of it is kept here:
# only DetectNodes' outputs. CI cannot fetch it (GitHub is not reachable there),
# so the outputs are committed and this script documents how they were made.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=${1:?give a TempestExtremes checkout}
build=${2:-/tmp/te-build}
out=${3:-/tmp/te-out}
data=${PST_DATA:-$root/../shared/data}
msl=$data/era5/era5_msl_2025-2026_djf_2.5x2.5.nc
vo=$data/era5/era5_vo850_2025-2026_djf_2.5x2.5.nc
mkdir -p "$build" "$out"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release > "$build/cmake.log"
make -C "$build" -j2 DetectNodes StitchNodes > "$build/make.log"
detect() { "$build/bin/DetectNodes" --latname latitude --lonname longitude "$@" > /dev/null; }
# 1. The pressure criteria of Ullrich et al. (2021)'s TC recipe.
detect --in_data "$msl" --out "$build/a.txt" --searchbymin msl --closedcontourcmd "msl,200.0,5.5,0" \
  --mergedist 6.0 --outputcmd "msl,min,0"
# 2. A threshold, a closed contour about the minimum within 1°, eight neighbours.
detect --in_data "$msl" --out "$build/b.txt" --searchbymin msl --closedcontourcmd "msl,100.0,4.0,1.0" \
  --thresholdcmd "msl,<=,100000,2.0" --mergedist 4.0 --diag_connect --outputcmd "msl,min,0"
# 3. Vorticity maxima (level index 0, 850 hPa), the first 40 frames kept.
detect --in_data "$vo" --out "$build/c.txt" --searchbymax "vo(0)" --closedcontourcmd "vo(0),-2e-5,5.0,0" \
  --mergedist 5.0 --outputcmd "vo(0),max,0"
awk '!/^\t/ { n++ } n <= 40' "$build/c.txt" > "$build/c40.txt"
# 7. Fields attached to the nodes of 1 (--outputcmd), December kept.
detect --in_data "$msl" --out "$build/d.txt" --searchbymin msl --closedcontourcmd "msl,200.0,5.5,0" \
  --mergedist 6.0 --outputcmd "msl,min,0;msl,max,5.3;msl,avg,3.7"
awk '!/^\t/ { n++ } n <= 124' "$build/d.txt" > "$build/d124.txt"
gzip -9 -n -c "$build/d124.txt" > "$out/dec_msl_cc200_merge6_outputcmd.nodes.gz"
# 8. Criteria on another file's variable: msl minima with cyclonic 850 hPa vorticity nearby.
detect --in_data "$msl;$vo" --out "$build/e.txt" --searchbymin msl \
  --closedcontourcmd "msl,200.0,5.5,0;vo(0),-1e-5,4.0,2.0" --thresholdcmd "vo(0),>=,5e-5,3.0" --mergedist 6.0 \
  --outputcmd "msl,min,0"
gzip -9 -n -c "$build/e.txt" > "$out/djf_msl_cc200_vo850_cc_thr_merge6.nodes.gz"
# 9. Ullrich et al.'s whole DetectNodes recipe, warm core included, on the GFS forecast of the
#    shared GRIB file (geopotential height in m), made netCDF by ecCodes through cfgrib.
python3 -m venv "$build/venv"
"$build/venv/bin/pip" -q install cfgrib==0.9.15.1 eccodes==2.50.1 eccodeslib==2.50.0.33 xarray==2026.9.0 netCDF4==1.7.5.1.post1
"$build/venv/bin/python" "$root/benches/tempest/gfs_to_netcdf.py" "$data/grib/gfs.grb" "$build/gfs.nc" > /dev/null
detect --in_data "$build/gfs.nc" --out "$build/g.txt" --searchbymin prmsl \
  --closedcontourcmd "prmsl,200.0,5.5,0;_DIFF(gh(250hPa),gh(500hPa)),-6.0,6.5,1.0" --mergedist 6.0 \
  --outputcmd "prmsl,min,0"
gzip -9 -n -c "$build/g.txt" > "$out/gfs_prmsl_tc_recipe_warm_core.nodes.gz"
# 10. The recipe's pressure criteria at 0.25°: the real frame rolled into 40 frames (also the
#     speed comparison of BENCHMARKS.md).
"$build/venv/bin/python" "$root/benches/tempest/roll_frame.py" \
  "$data/era5-frames/era5_msl_2025120100_0.25x0.25.nc" "$build/rolled40.nc" 40
detect --in_data "$build/rolled40.nc" --out "$build/r.txt" --searchbymin msl --closedcontourcmd "msl,200.0,5.5,0" \
  --mergedist 6.0 --outputcmd "msl,min,0"
gzip -9 -n -c "$build/r.txt" > "$out/rolled40_msl_0.25_cc200_merge6.nodes.gz"
stitch() { "$build/bin/StitchNodes" "$@" > /dev/null; }
# 4. StitchNodes on 1: the recipe's paths and filters (its 54 h, 24 h gap, 8°).
stitch --in "$build/a.txt" --out "$build/a_tc.txt" --in_fmt "lon,lat,msl" --range 8.0 --mintime 54h \
  --maxgap 24h --min_endpoint_dist 8.0 --threshold "lat,<=,50,10;lat,>=,-50,10"
# 5. Every path on 1 within 5°, skipping up to one frame.
stitch --in "$build/a.txt" --out "$build/a_gap1.txt" --in_fmt "lon,lat,msl" --range 5.0 --mintime 1 --maxgap 1
# 6. Every path on 3 within 4°.
stitch --in "$build/c40.txt" --out "$build/c40_r4.txt" --in_fmt "lon,lat,vo" --range 4.0 --mintime 1
gzip -9 -n -c "$build/a_tc.txt" > "$out/djf_msl_cc200_merge6_tc_recipe.paths.gz"
gzip -9 -n -c "$build/a_gap1.txt" > "$out/djf_msl_cc200_merge6_range5_gap1.paths.gz"
gzip -9 -n -c "$build/c40_r4.txt" > "$out/djf_vo850_cc2e-5_merge5_40frames_range4.paths.gz"
gzip -9 -n -c "$build/a.txt" > "$out/djf_msl_cc200_merge6.nodes.gz"
gzip -9 -n -c "$build/b.txt" > "$out/djf_msl_cc100_thr_merge4_diag.nodes.gz"
gzip -9 -n -c "$build/c40.txt" > "$out/djf_vo850_cc2e-5_merge5_40frames.nodes.gz"
ls -l "$out"
