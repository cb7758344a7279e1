"""The Python package against the command line, on the real December file.

The tracks of every way in (a path, a numpy-backed DataArray, a dask-backed
one read a chunk at a time, a numpy array, detection as Dask tasks on a
LocalCluster of two processes) are written and compared byte for byte with
what `stormtracker track` writes for the same settings.
"""

from __future__ import annotations

import _thread
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import pst

ROOT = Path(__file__).resolve().parents[2]
DECEMBER = ROOT / "examples" / "data" / "era5_msl_2025-12_2.5x2.5.nc"
DATA = Path(os.environ.get("PST_DATA", ROOT.parent / "shared" / "data"))
REQUIRE = os.environ.get("PST_REQUIRE_DATA") == "1"

#: The settings compared: CLI flags and the same as Python options.
CONFIGS = {
    "simple": ([], pst.SimpleTracker()),
    "hodges_t5_42": (["-a", "hodges", "--lmin", "5", "--lmax", "42"], pst.HodgesTracker(lmin=5, lmax=42)),
}


def stormtracker() -> str:
    """The `stormtracker` binary the tests compare with."""
    candidates = [os.environ.get("PST_STORMTRACKER")]
    target = os.environ.get("CARGO_TARGET_DIR")
    for base in filter(None, [target, str(ROOT / "target")]):
        candidates += [f"{base}/release/stormtracker", f"{base}/debug/stormtracker"]
    candidates.append(shutil.which("stormtracker"))
    found = [c for c in candidates if c and os.path.exists(c)]
    if not found:
        message = "no stormtracker binary: build it (cargo build -p pst-cli) or set PST_STORMTRACKER"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return max(found, key=os.path.getmtime)


@pytest.fixture(scope="module")
def cli_bytes(tmp_path_factory):
    """What `stormtracker track` writes for each configuration (IMILAST)."""
    exe = stormtracker()
    out = {}
    for name, (flags, _) in CONFIGS.items():
        path = tmp_path_factory.mktemp("cli") / f"{name}.txt"
        subprocess.run(
            [exe, "track", "-i", str(DECEMBER), "--variable", "msl", *flags, "-o", str(path), "--no-progress"],
            check=True,
            capture_output=True,
        )
        out[name] = path.read_bytes()
    return out


def written(tracks: pst.Tracks, tmp_path: Path, name: str = "tracks.txt") -> bytes:
    path = tmp_path / name
    assert tracks.write(path, "imilast") == "imilast"
    return path.read_bytes()


@pytest.mark.parametrize("config", CONFIGS)
def test_path_gives_the_cli_bytes(config, cli_bytes, tmp_path):
    tracker = CONFIGS[config][1]
    tracks = tracker.track(DECEMBER, varname="msl")
    assert written(tracks, tmp_path) == cli_bytes[config]
    # Threads change nothing.
    threaded = tracker.track(str(DECEMBER), varname="msl", backend="threads", workers=2)
    assert written(threaded, tmp_path, "threaded.txt") == cli_bytes[config]


@pytest.mark.parametrize("config", CONFIGS)
def test_numpy_backed_dataarray_gives_the_cli_bytes(config, cli_bytes, tmp_path):
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(DECEMBER) as ds:
        da = ds["msl"].load()
        tracks = CONFIGS[config][1].track(da)
    assert written(tracks, tmp_path) == cli_bytes[config]


@pytest.mark.parametrize("config", CONFIGS)
def test_dask_backed_dataarray_gives_the_cli_bytes(config, cli_bytes, tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("dask")
    with xr.open_dataset(DECEMBER, chunks={"valid_time": 10}) as ds:
        assert ds["msl"].chunks is not None
        tracks = CONFIGS[config][1].track(ds, varname="msl", backend="threads")
    assert written(tracks, tmp_path) == cli_bytes[config]


def test_lazily_loaded_dataarray_and_numpy_array(cli_bytes, tmp_path):
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(DECEMBER) as ds:
        lazy = pst.SimpleTracker().track(ds["msl"])
        values = ds["msl"].values
        coords = {"time": ds["valid_time"].values, "lat": ds["latitude"].values, "lon": ds["longitude"].values}
    assert written(lazy, tmp_path) == cli_bytes["simple"]
    from_numpy = pst.SimpleTracker().track(values, varname="msl", coords=coords, units="Pa")
    assert written(from_numpy, tmp_path, "numpy.txt") == cli_bytes["simple"]


def test_dask_backend_needs_a_client():
    distributed = pytest.importorskip("distributed")
    try:
        distributed.get_client()
        pytest.skip("a client is running")
    except ValueError:
        pass
    with pytest.raises(ValueError, match="distributed.Client"):
        pst.SimpleTracker().track(DECEMBER, varname="msl", backend="dask")


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        with distributed.Client(c) as client:
            yield client


@pytest.mark.parametrize("config", CONFIGS)
def test_dask_backend_on_two_processes_gives_the_cli_bytes(config, cli_bytes, cluster, tmp_path):
    xr = pytest.importorskip("xarray")
    tracker = CONFIGS[config][1]
    from_paths = tracker.track(DECEMBER, varname="msl", backend="dask")
    assert written(from_paths, tmp_path) == cli_bytes[config]
    with xr.open_dataset(DECEMBER, chunks={"valid_time": 16}) as ds:
        from_array = tracker.track(ds["msl"], backend="dask")
        # A frame limit that ends inside a chunk: the serial run's tracks.
        limited = type(tracker)(n_frames=50, **tracker.options).track(ds["msl"], backend="dask")
    assert written(from_array, tmp_path, "array.txt") == cli_bytes[config]
    serial = type(tracker)(n_frames=50, **tracker.options).track(DECEMBER, varname="msl")
    assert written(limited, tmp_path, "limited.txt") == written(serial, tmp_path, "serial.txt")


def test_split_link_pieces_give_the_cli_bytes(cli_bytes, tmp_path):
    """The pieces the Dask back-end runs from files: Hodges segments detected and linked in groups, spliced."""
    tracker = CONFIGS["hodges_t5_42"][1]
    options = dict(tracker.options, algorithm=tracker.algorithm, input=[str(DECEMBER)], variable="msl", threads=1)
    parts = pst._pst.link_parts(options)
    assert parts == [(0, 62), (59, 123), (120, 124)]
    for groups in ([(0, 3)], [(0, 1), (1, 3)], [(0, 1), (1, 2), (2, 3)]):
        slabs = [pst._pst.detect_and_link(options, a, b) for a, b in groups]
        assert written(pst.Tracks(pst._pst.link(options, slabs)), tmp_path) == cli_bytes["hodges_t5_42"]
    with pytest.raises(ValueError):
        pst._pst.detect_and_link(options, 2, 4)
    simple = dict(CONFIGS["simple"][1].options, algorithm="simple", input=[str(DECEMBER)], variable="msl")
    assert pst._pst.link_parts(simple) == []


def test_time_window_is_the_cli_s(tmp_path):
    exe = stormtracker()
    out = tmp_path / "window.txt"
    window = ["--start-time", "2025-12-10T06:00", "--end-time", "2025-12-20"]
    subprocess.run([exe, "track", "-i", str(DECEMBER), "--variable", "msl", *window, "-o", str(out)], check=True, capture_output=True)
    tracks = pst.SimpleTracker().track(DECEMBER, varname="msl", start_time="2025-12-10T06:00", end_time=np.datetime64("2025-12-20"))
    assert written(tracks, tmp_path) == out.read_bytes()
    assert tracks.time.min() == np.datetime64("2025-12-10T06:00") and tracks.time.max() == np.datetime64("2025-12-20T00:00")
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(DECEMBER) as ds:
        from_array = pst.SimpleTracker().track(ds["msl"], start_time="2025-12-10T06:00", end_time="2025-12-20")
    assert written(from_array, tmp_path, "array.txt") == out.read_bytes()


def test_columns_iteration_and_filters():
    tracks = pst.HodgesTracker(lmin=5, lmax=42).track(DECEMBER, varname="msl")
    assert len(tracks) == 998
    assert tracks.variables[0] == "msl" and tracks.units("msl") is not None
    assert len(tracks.lat) == len(tracks.lon) == len(tracks.time) == len(tracks.track_id) == tracks.num_points
    assert tracks.time.dtype == np.dtype("datetime64[ms]")
    first = next(iter(tracks))
    assert first.id == tracks.ids[0] and len(first) == tracks.offsets[1]
    assert sum(len(t) for t in tracks) == tracks.num_points
    long = tracks.filter(min_points=20)
    assert 0 < len(long) < len(tracks) and all(len(t) >= 20 for t in long)
    atlantic = tracks.filter(region=(30, 70, -60, 0))
    assert 0 < len(atlantic) < len(tracks)
    for t in atlantic:
        lon = (t.lon + 180) % 360 - 180
        assert np.any((t.lat >= 30) & (t.lat <= 70) & (lon >= -60) & (lon <= 0))
    late = tracks.filter(start_time="2025-12-25")
    assert all(t.time.max() >= np.datetime64("2025-12-25") for t in late) and 0 < len(late) < len(tracks)
    assert len(tracks.filter(min_duration="48h")) == len(tracks.filter(min_points=9))


def test_formats_dataframes_and_comparison(tmp_path, cli_bytes):
    pd = pytest.importorskip("pandas")
    tracks = pst.SimpleTracker().track(DECEMBER, varname="msl")
    df = tracks.to_dataframe()
    assert list(df.columns[:4]) == ["track_id", "time", "lat", "lon"] and len(df) == tracks.num_points
    assert isinstance(df, pd.DataFrame)
    again = pst.Tracks.from_dataframe(df, variable="msl")
    assert written(again, tmp_path) == cli_bytes["simple"]
    for name, _, extensions in pst.track_formats():
        path = tmp_path / f"out.{extensions[0]}" if extensions else tmp_path / f"out.{name}"
        tracks.write(path, name)
        back = pst.read_tracks(path, name)
        assert len(back) == len(tracks), name
    reference = pst.read_tracks(tmp_path / "out.txt" if (tmp_path / "out.txt").exists() else path)
    report = pst.compare_tracks(tracks, pst.read_tracks(tmp_path / "tracks.txt"))
    assert report["match_count"] == report["topology_identical_count"] == len(tracks), report
    assert len(reference) == len(tracks)


def test_sampling_is_the_cli_s(tmp_path):
    exe = stormtracker()
    tracks_path, cli_out = tmp_path / "tracks.txt", tmp_path / "cli.csv"
    tracks = pst.HodgesTracker(lmin=5, lmax=42).track(DECEMBER, varname="msl")
    tracks.write(tracks_path)
    subprocess.run(
        [exe, "sample", "-i", str(tracks_path), "-d", str(DECEMBER), "--variable", "msl", "-m", "min", "-r", "500", "-o", str(cli_out)],
        check=True,
        capture_output=True,
    )
    from_file = pst.read_tracks(tracks_path)
    sampled = pst.sample_tracks(from_file, DECEMBER, varname="msl", method="min", radius_km=500)
    assert "msl_min" in sampled.variables and "msl_min" not in from_file.variables
    sampled.write(tmp_path / "py.csv")
    assert (tmp_path / "py.csv").read_bytes() == cli_out.read_bytes()
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(DECEMBER, chunks={"valid_time": 31}) as ds:
        from_array = pst.sample_tracks(from_file, ds, varname="msl", method="min", radius_km=500)
    np.testing.assert_array_equal(from_array["msl_min"], sampled["msl_min"])
    with pytest.raises(ValueError, match="radius"):
        pst.sample_tracks(from_file, DECEMBER, varname="msl", method="min", radius_km=-1)


def test_to_xarray_opens_in_xarray_and_huracanpy(tmp_path):
    xr = pytest.importorskip("xarray")
    tracks = pst.HodgesTracker(lmin=5, lmax=42).track(DECEMBER, varname="msl")
    ds = tracks.to_xarray()
    path = tmp_path / "tracks.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        assert back.sizes["record"] == tracks.num_points and back.sizes["trajectory"] == len(tracks)
        assert back.attrs["featureType"] == "trajectory"
        np.testing.assert_array_equal(back["track_id"].values, tracks.track_id)
        np.testing.assert_array_equal(back["msl"].values, tracks["msl"])
    huracanpy = pytest.importorskip("huracanpy")
    loaded = huracanpy.load(str(path))
    assert loaded.sizes["record"] == tracks.num_points
    durations = loaded.hrcn.get_track_duration()
    assert len(durations) == len(tracks)
    assert len(ds.hrcn.get_track_duration()) == len(tracks)


def test_bad_input_raises_with_pst_s_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.nc"):
        pst.SimpleTracker().track(tmp_path / "nothing.nc", varname="msl")
    with pytest.raises(ValueError, match="sp"):
        pst.SimpleTracker().track(DECEMBER, varname="sp")
    with pytest.raises(ValueError, match=r"lowest wavenumber \(50\) is above its highest \(42\)"):
        pst.HodgesTracker(lmin=50, lmax=42).track(DECEMBER, varname="msl")
    with pytest.raises(ValueError, match="dmax applies to"):
        pst.SimpleTracker(dmax=5).track(DECEMBER, varname="msl")
    with pytest.raises(ValueError, match="lmin takes a whole number"):
        pst.HodgesTracker(lmin=5.5, lmax=42).track(DECEMBER, varname="msl")
    with pytest.raises(TypeError, match="unknown option"):
        pst.SimpleTracker(dmaxx=5)
    with pytest.raises(ValueError, match="varname"):
        pst.SimpleTracker().track(DECEMBER)
    damaged = tmp_path / "damaged.nc"
    damaged.write_bytes(DECEMBER.read_bytes()[:5000])
    with pytest.raises((ValueError, OSError), match="damaged.nc"):
        pst.SimpleTracker().track(damaged, varname="msl")
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(DECEMBER) as ds:
        with pytest.raises(ValueError, match="varname"):
            pst.SimpleTracker().track(ds)
        with pytest.raises(ValueError, match="no level"):
            pst.SimpleTracker().track(ds["msl"].expand_dims(level=[500.0, 850.0], axis=1), level=700)


def test_a_reader_s_exception_is_raised():
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(DECEMBER) as ds:
        da = ds["msl"].load()

    class Broken(Exception):
        pass

    data = pst.ArrayData(da)

    def read(i):
        if i == 7:
            raise Broken("frame 7 is gone")
        return np.ascontiguousarray(da.values[i], dtype=np.float64)

    with pytest.raises(Broken, match="frame 7 is gone"):
        pst._pst.track({"variable": "msl", "threads": 1}, data.input(read=read))


def test_the_gil_is_released_while_tracking():
    ticks = 0
    stop = threading.Event()

    def count():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    started = time.perf_counter()
    pst.HodgesTracker(lmin=5, lmax=42).track(DECEMBER, varname="msl")
    elapsed = time.perf_counter() - started
    stop.set()
    counter.join()
    # The counter ran through the run: most of its millisecond ticks happened.
    assert ticks > 0.3 * elapsed / 0.0011, (ticks, elapsed)


def test_ctrl_c_stops_a_run():
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(DECEMBER) as ds:
        da = ds["msl"].load()
    data = pst.ArrayData(da)

    def slow(i):
        time.sleep(0.05)
        return np.ascontiguousarray(da.values[i], dtype=np.float64)

    threading.Timer(0.3, _thread.interrupt_main).start()
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        pst._pst.track({"variable": "msl", "threads": 1}, data.input(read=slow))
    # Stopped at the next frame, not after the 124 frames' 6 s.
    assert time.perf_counter() - started < 3


def test_warnings_and_progress(capfd):
    with pytest.warns(UserWarning, match="no feature points"):
        tracks = pst.HodgesTracker().track(DECEMBER, varname="msl", progress=True)
    assert len(tracks) == 0
    assert "detecting" in capfd.readouterr().err


def test_real_data_djf_hodges(tmp_path):
    djf = DATA / "era5" / "era5_msl_2025-2026_djf_2.5x2.5.nc"
    if not djf.exists():
        if REQUIRE:
            pytest.fail(f"{djf} is missing")
        pytest.skip(f"{djf} is missing")
    exe = stormtracker()
    out = tmp_path / "djf.txt"
    subprocess.run(
        [exe, "track", "-i", str(djf), "--variable", "msl", "-a", "hodges", "--lmin", "5", "--lmax", "42", "-o", str(out)],
        check=True,
        capture_output=True,
    )
    tracks = pst.HodgesTracker(lmin=5, lmax=42).track(djf, varname="msl", backend="threads")
    assert written(tracks, tmp_path) == out.read_bytes()
