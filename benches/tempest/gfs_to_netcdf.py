"""The shared GFS 72 h forecast (grib/gfs.grb) as netCDF for TempestExtremes,
which reads no GRIB: prmsl and geopotential height on pressure levels, one
time, decoded by ecCodes through cfgrib (see run_tempest.sh for versions).

    python gfs_to_netcdf.py gfs.grb gfs.nc
"""
import sys
import xarray as xr

path = sys.argv[1]
kw = lambda keys: {"filter_by_keys": keys, "indexpath": ""}
msl = xr.open_dataset(path, engine="cfgrib", backend_kwargs=kw({"typeOfLevel": "meanSea", "shortName": "prmsl"}))
gh = xr.open_dataset(path, engine="cfgrib", backend_kwargs=kw({"typeOfLevel": "isobaricInhPa", "shortName": "gh"}))
ds = xr.Dataset({"prmsl": msl["prmsl"], "gh": gh["gh"]})
ds = ds.drop_vars(["time", "step"]).rename({"valid_time": "time", "isobaricInhPa": "level"}).expand_dims("time")
ds["level"].attrs["units"] = "hPa"
ds.to_netcdf(sys.argv[2], format="NETCDF4_CLASSIC")
print(ds)
