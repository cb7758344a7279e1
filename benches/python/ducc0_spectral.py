"""Time ducc0 (the transform library PyStormTracker 0.8.0 calls) and
PyStormTracker's own filtering step on the grids `benches/spectral.rs` uses,
single-threaded, for the comparison in BENCHMARKS.md.

Run with a Python that has ducc0, xarray and pystormtracker 0.8.0 (see
docs/research/pystormtracker-0.8.0-simple-and-formats.md for the venv):

    python benches/python/ducc0_spectral.py [DATA_DIR]

Prints the median of repeated runs for each case, in milliseconds.
"""

import statistics
import sys
import time
from pathlib import Path

import ducc0
import numpy as np
import xarray as xr

DATA = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
RADIUS = 6_371_220.0


def median_ms(fn, repeats):
    fn()  # warm-up: plans and caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def band_pass(field, lmin, lmax):
    ntheta, nphi = field.shape
    alm = ducc0.sht.analysis_2d(map=field[None], spin=0, lmax=lmax, mmax=lmax, geometry="CC", nthreads=1)
    ls = np.concatenate([np.arange(m, lmax + 1) for m in range(lmax + 1)])
    alm[0, ls < lmin] = 0
    return ducc0.sht.synthesis_2d(
        alm=alm, spin=0, lmax=lmax, mmax=lmax, ntheta=ntheta, nphi=nphi, geometry="CC", nthreads=1
    )[0]


def vorticity_divergence(u, v, lmax):
    ntheta, nphi = u.shape
    mmax = min(lmax, (nphi - 1) // 2)
    alm = ducc0.sht.analysis_2d(map=np.stack((-v, u)), spin=1, lmax=lmax, mmax=mmax, geometry="CC", nthreads=1)
    ls = np.concatenate([np.arange(m, lmax + 1) for m in range(mmax + 1)])
    scale = -np.sqrt(ls * (ls + 1.0)) / RADIUS
    out = []
    for a in (alm[1] * scale, alm[0] * scale):
        out.append(
            ducc0.sht.synthesis_2d(
                alm=a[None], spin=0, lmax=lmax, mmax=mmax, ntheta=ntheta, nphi=nphi, geometry="CC", nthreads=1
            )[0]
        )
    return out


def main():
    print(f"ducc0 {ducc0.__version__}")
    for res, repeats in (("2.5x2.5", 200), ("0.25x0.25", 20)):
        msl = xr.open_dataset(DATA / f"era5-frames/era5_msl_2025120100_{res}.nc")["msl"].values.astype(np.float64)
        ms = median_ms(lambda: band_pass(msl, 5, 42), repeats)
        print(f"ducc0 band-pass T5-42 {res}: {ms:.3f} ms")

    lat = np.linspace(90, -90, 721)
    lon = np.arange(1440) * 0.25
    la, lo = np.meshgrid(np.radians(lat), np.radians(lon), indexing="ij")
    u = 20 * np.cos(la) * np.sin(2 * la) ** 2 + 5 * np.sin(6 * lo + la) * np.cos(la)
    v = 8 * np.cos(5 * lo) * np.cos(la) ** 3
    for lmax, repeats in ((42, 20), (719, 5)):
        ms = median_ms(lambda: vorticity_divergence(u, v, lmax), repeats)
        print(f"ducc0 vorticity+divergence 0.25x0.25 T{lmax}: {ms:.3f} ms")

    try:
        from pystormtracker.preprocessing.spectral import SHTFilter
    except ImportError:
        print("pystormtracker not installed: skipping its filtering step")
        return
    frame = xr.open_dataset(DATA / "era5-frames/era5_msl_2025120100_0.25x0.25.nc")["msl"].astype(np.float64)
    filt = SHTFilter(lmin=5, lmax=42, taper_val=1.0, sht_threads=1)
    ms = median_ms(lambda: filt.filter(frame, backend="serial"), 10)
    print(f"PyStormTracker 0.8.0 SHTFilter T5-42 0.25x0.25 (xarray frame): {ms:.3f} ms")


if __name__ == "__main__":
    main()
