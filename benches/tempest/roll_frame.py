"""Six-hourly frames at 0.25 degrees for TempestExtremes: ERA5's real
2025-12-01 00Z msl frame (era5-frames/era5_msl_2025120100_0.25x0.25.nc),
frame k rolled 4k columns (k degrees) east, as pst_examples::RotatedSeries
serves it.

    python roll_frame.py era5_msl_2025120100_0.25x0.25.nc rolled.nc 40
"""
import sys
import netCDF4
import numpy as np

src = netCDF4.Dataset(sys.argv[1])
msl = src["msl"][:].astype(np.float32)
out = netCDF4.Dataset(sys.argv[2], "w", format="NETCDF4_CLASSIC")
out.createDimension("time", None)
out.createDimension("latitude", msl.shape[0])
out.createDimension("longitude", msl.shape[1])
t = out.createVariable("time", "f8", ("time",))
t.units = "hours since 2025-12-01 00:00:00"
t.calendar = "standard"
lat = out.createVariable("latitude", "f8", ("latitude",))
lat.units = "degrees_north"
lat[:] = src["latitude"][:]
lon = out.createVariable("longitude", "f8", ("longitude",))
lon.units = "degrees_east"
lon[:] = src["longitude"][:]
v = out.createVariable("msl", "f4", ("time", "latitude", "longitude"), chunksizes=(1, msl.shape[0], msl.shape[1]))
v.units = "Pa"
v.standard_name = "air_pressure_at_mean_sea_level"
for k in range(int(sys.argv[3])):
    t[k] = 6.0 * k
    v[k] = np.roll(msl, 4 * k, axis=1)
out.close()
