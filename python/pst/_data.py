"""What a tracker reads: paths, or arrays (xarray, numpy) read frame by frame."""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict

import numpy as np

from . import _pst

#: Names of coordinates, by role, as CF files and ERA5 spell them.
_TIME_NAMES = ("time", "valid_time", "t", "date")
_LAT_NAMES = ("latitude", "lat", "nav_lat", "y")
_LON_NAMES = ("longitude", "lon", "nav_lon", "x")
_MEMBER_NAMES = ("number", "member", "realization", "ensemble", "ens", "member_id")

#: Time chunks a dask-backed array keeps decoded at once: the chunk being
#: read and its neighbour, where parallel frame reads straddle a boundary.
CHUNKS_KEPT = 2


def is_paths(data) -> bool:
    """Whether `data` names files (a path, a glob, an `@list`, or several)."""
    if isinstance(data, (str, os.PathLike)):
        return True
    return isinstance(data, (list, tuple)) and len(data) > 0 and all(isinstance(d, (str, os.PathLike)) for d in data)


def paths(data) -> list[str]:
    """`data` as a list of path strings."""
    if isinstance(data, (str, os.PathLike)):
        return [os.fspath(data)]
    return [os.fspath(d) for d in data]


def iso(t) -> str:
    """A time as ISO 8601 text: text as given, numpy/pandas/datetime/cftime converted."""
    if isinstance(t, str):
        return t
    if isinstance(t, np.datetime64):
        return str(np.datetime_as_string(t, unit="ms"))
    if hasattr(t, "isoformat"):
        return t.isoformat()
    raise TypeError(f"cannot read {t!r} as a time: give text (ISO 8601), a datetime, numpy datetime64 or cftime")


_ISO = re.compile(r"^\s*(-?\d+)-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?)?Z?\s*$")


def _instant(t, like):
    """The time `t` (text, datetime, datetime64, cftime) as an instant of the kind in `like`."""
    if np.issubdtype(like.dtype, np.datetime64):
        return np.datetime64(iso(t), "ms")
    text = iso(t)
    match = _ISO.match(text)
    if match is None:
        raise ValueError(f"cannot read `{text}` as a time (ISO 8601, e.g. 2025-12-10T06:00)")
    year, month, day, hour, minute, second, fraction = match.groups()
    microsecond = int((fraction or "0")[:6].ljust(6, "0"))
    return type(like.flat[0])(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), microsecond,
        calendar=like.flat[0].calendar,
    )


def _times_iso(values) -> tuple[list[str], str]:
    """ISO 8601 text of a time coordinate's values, and its CF calendar."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.datetime64):
        return [str(s) for s in np.datetime_as_string(values, unit="ms")], "proleptic_gregorian"
    if values.dtype == object and len(values) and hasattr(values[0], "calendar"):
        return [t.isoformat() for t in values], values[0].calendar or "standard"
    if values.dtype.kind in "US":
        return [str(v) for v in values], "standard"
    raise ValueError(
        f"the time coordinate holds {values.dtype} values: decode it (xarray does unless decode_times=False) "
        "or give datetime64, cftime or ISO text"
    )


def _find_dim(da, names, role, standard_name=None):
    for dim in da.dims:
        coord = da.coords.get(dim)
        if coord is not None and standard_name and coord.attrs.get("standard_name") == standard_name:
            return dim
    for dim in da.dims:
        if str(dim).lower() in names:
            return dim
    if role == "time":
        for dim in da.dims:
            coord = da.coords.get(dim)
            if coord is not None and (
                np.issubdtype(coord.dtype, np.datetime64)
                or (coord.dtype == object and coord.size and hasattr(coord.values.flat[0], "calendar"))
            ):
                return dim
    return None


def as_frame(frame: np.ndarray) -> np.ndarray:
    """A frame as the library takes it: float32 and float64 as they are (it
    widens float32 exactly as it copies), other types as float64."""
    return frame if frame.dtype in (np.float32, np.float64) else frame.astype(np.float64)


class FrameReader:
    """Frame `i` of a (time, latitude, longitude) array, float32 or float64.

    numpy-backed arrays give views; dask-backed ones are computed one time
    chunk at a time (at most `CHUNKS_KEPT` kept), so the whole array is never
    in memory; lazily loaded ones (files opened without chunks) read one
    frame at a time. Safe to call from several threads.
    """

    def __init__(self, da):
        self._lock = threading.Lock()
        self._blocks: OrderedDict[int, np.ndarray] = OrderedDict()
        if getattr(da, "chunks", None) is not None:
            self._kind = "dask"
            self._data = da.data
            self._bounds = np.cumsum((0,) + tuple(da.chunks[0]))
        elif getattr(da.variable, "_in_memory", True):
            self._kind = "memory"
            self._data = da.values
        else:
            self._kind = "lazy"
            self._data = da

    def __call__(self, i: int) -> np.ndarray:
        if self._kind == "memory":
            frame = self._data[i]
        elif self._kind == "lazy":
            frame = self._data[i].values
        else:
            k = int(np.searchsorted(self._bounds, i, side="right")) - 1
            with self._lock:
                block = self._blocks.get(k)
                if block is None:
                    block = np.asarray(self._data[self._bounds[k] : self._bounds[k + 1]].compute())
                    self._blocks[k] = block
                    while len(self._blocks) > CHUNKS_KEPT:
                        self._blocks.popitem(last=False)
                else:
                    self._blocks.move_to_end(k)
            frame = block[i - self._bounds[k]]
        return as_frame(frame)


class ArrayData:
    """A (time, latitude, longitude) DataArray ready to track: its frames and what the library needs to know."""

    def __init__(self, da, varname=None, start_time=None, end_time=None, level=None, member=None):
        da = _select(da, varname, level, member)
        self.time_dim = _find_dim(da, _TIME_NAMES, "time", "time")
        lat_dim = _find_dim(da, _LAT_NAMES, "latitude", "latitude")
        lon_dim = _find_dim(da, _LON_NAMES, "longitude", "longitude")
        missing = [role for role, dim in (("time", self.time_dim), ("latitude", lat_dim), ("longitude", lon_dim)) if dim is None]
        if missing:
            raise ValueError(f"{_describe(da)}: no {' or '.join(missing)} dimension among {tuple(da.dims)}")
        if start_time is not None or end_time is not None:
            # Exact instants, both inclusive, as for files (not pandas'
            # partial strings, where "2025-12-20" would mean the whole day).
            values = da[self.time_dim].values
            start = None if start_time is None else _instant(start_time, values)
            end = None if end_time is None else _instant(end_time, values)
            da = da.sel({self.time_dim: slice(start, end)})
        self.da = da.transpose(self.time_dim, lat_dim, lon_dim)
        self.times, self.calendar = _times_iso(self.da[self.time_dim].values)
        calendar = self.da[self.time_dim].attrs.get("calendar") or self.da[self.time_dim].encoding.get("calendar")
        if calendar and self.calendar == "proleptic_gregorian":
            self.calendar = calendar
        self.lats = np.ascontiguousarray(self.da[lat_dim].values, dtype=np.float64)
        self.lons = np.ascontiguousarray(self.da[lon_dim].values, dtype=np.float64)
        self.variable = str(self.da.name or varname or "field")
        self.units = self.da.attrs.get("units")
        self.long_name = self.da.attrs.get("long_name")
        self.origin = _describe(self.da)

    def __len__(self):
        return len(self.times)

    def input(self, frames=None, read=None) -> _pst.ArrayInput:
        """The library's view of frames `frames` (a slice; all by default), read by `read` (this array's by default)."""
        times = self.times if frames is None else self.times[frames]
        return _pst.ArrayInput(
            self.variable,
            self.lats,
            self.lons,
            times,
            read if read is not None else FrameReader(self.da),
            units=self.units,
            long_name=self.long_name,
            calendar=self.calendar,
            origin=self.origin,
        )


def _describe(da) -> str:
    return f"DataArray `{da.name}`" if da.name is not None else "the DataArray"


def _select(data, varname, level, member):
    """The DataArray to track: a Dataset's variable, at a level and member, other length-one dimensions dropped."""
    if hasattr(data, "data_vars"):
        if varname is None:
            names = list(data.data_vars)
            raise ValueError(f"a Dataset needs varname: one of {', '.join(map(str, names))}")
        if varname not in data.data_vars:
            raise ValueError(f"the Dataset has no variable `{varname}`; it has {', '.join(map(str, data.data_vars))}")
        da = data[varname]
    else:
        da = data
        if varname is not None and da.name is not None and da.name != varname:
            raise ValueError(f"the DataArray is `{da.name}`, not `{varname}`")
        if da.name is None and varname is not None:
            da = da.rename(varname)
    if member is not None:
        dim = next((d for d in da.dims if str(d).lower() in _MEMBER_NAMES), None)
        if dim is None:
            raise ValueError(f"{_describe(da)} has no member dimension (one of {', '.join(_MEMBER_NAMES)}) to choose member {member} from")
        da = da.sel({dim: member}) if dim in da.coords else da.isel({dim: member})
    known = set(_TIME_NAMES + _LAT_NAMES + _LON_NAMES)
    extra = [d for d in da.dims if str(d).lower() not in known and _find_dim(da, (), "time") != d]
    for dim in extra:
        if level is not None and da.sizes[dim] > 1:
            if dim not in da.coords:
                raise ValueError(f"{_describe(da)}: the level dimension `{dim}` has no coordinate to find {level} in")
            try:
                da = da.sel({dim: level})
            except KeyError:
                raise ValueError(
                    f"{_describe(da)} has no level {level} on `{dim}`; it has {', '.join(map(str, da[dim].values))}"
                ) from None
        elif da.sizes[dim] == 1:
            da = da.isel({dim: 0})
        else:
            raise ValueError(
                f"{_describe(da)} has a dimension `{dim}` of length {da.sizes[dim]} besides time, latitude and "
                "longitude: choose one with level= (or member=), or select it first"
            )
    return da


def from_numpy(values, coords, varname=None, units=None):
    """A (time, latitude, longitude) numpy array with `coords` {"time", "lat", "lon"} as an ArrayData."""
    import xarray as xr

    values = np.asarray(values)
    if values.ndim != 3:
        raise ValueError(f"a numpy array to track is (time, latitude, longitude), not {values.ndim}-D")
    if coords is None or not {"time", "lat", "lon"} <= set(coords):
        raise ValueError('a numpy array needs coords={"time": …, "lat": …, "lon": …}')
    da = xr.DataArray(
        values,
        dims=("time", "latitude", "longitude"),
        coords={"time": coords["time"], "latitude": coords["lat"], "longitude": coords["lon"]},
        name=varname or "field",
        attrs={"units": units} if units else {},
    )
    return da
