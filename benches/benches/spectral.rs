//! pst-spectral per frame, single-threaded: the T5–42 band-pass at 2.5° and
//! 0.25° on the real ERA5 msl frames by quadrature (of an array, and of a
//! frame with its summary, as a pipeline filters) and by TRACK's least
//! squares, the plans' construction, and
//! vorticity from u/v at 0.25° (T42 and the grid's full T719).
//! `benches/python/ducc0_spectral.py` times ducc0 on the same grids.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use std::sync::Arc;

use pst_core::{FieldSource, Frame, Grid};
use pst_io::{OpenOptions, open_source};
use pst_spectral::{BandPass, ShtPlan, SpectralFilter, SpectralFit, WindKinematics};

/// The ERA5 msl frame at `resolution` ("2.5x2.5" or "0.25x0.25"), or a
/// synthetic one where the shared data is absent.
fn msl_frame(resolution: &str, step: f64) -> Option<(Grid, Array2<f64>)> {
    let path = pst_testkit::data_dir().join(format!("era5-frames/era5_msl_2025120100_{resolution}.nc"));
    if let Ok(source) = open_source(&path, "msl", &OpenOptions::default()) {
        let frame = source.read_frame(0).ok()?;
        return Some(((*source.info().grid).clone(), frame.into_values()));
    }
    let series = pst_benches::synthetic_series(step, 1).ok()?;
    let frame = series.read_frame(0).ok()?;
    Some(((*series.info().grid).clone(), frame.into_values()))
}

/// Smooth synthetic winds on `grid`: a jet and a few waves.
fn winds(grid: &Grid) -> (Array2<f64>, Array2<f64>) {
    let u = Array2::from_shape_fn(grid.shape(), |(i, j)| {
        let (lat, lon) = (grid.lat(i).to_radians(), grid.lon(j).to_radians());
        20.0 * lat.cos() * (2.0 * lat).sin().powi(2) + 5.0 * (6.0 * lon + lat).sin() * lat.cos()
    });
    let v = Array2::from_shape_fn(grid.shape(), |(i, j)| {
        let (lat, lon) = (grid.lat(i).to_radians(), grid.lon(j).to_radians());
        8.0 * (5.0 * lon).cos() * lat.cos().powi(3)
    });
    (u, v)
}

fn band_pass(c: &mut Criterion) {
    let mut group = c.benchmark_group("spectral_band_pass_t5_42");
    group.sample_size(20);
    for (resolution, step) in [("2.5x2.5", 2.5), ("0.25x0.25", 0.25)] {
        let Some((grid, msl)) = msl_frame(resolution, step) else { return };
        let Ok(band) = BandPass::new(5, 42) else { return };
        let Ok(filter) = SpectralFilter::new(&grid, band) else { return };
        group.bench_function(BenchmarkId::new("filter", resolution), |b| {
            b.iter(|| filter.filter(msl.view()).map(|f| f[[0, 0]]).unwrap_or_default())
        });
        // As a pipeline filters: a frame in, a frame out whose summary the
        // frame check then asks for.
        let Ok(time) = pst_core::Timestamp::from_ymdh(2025, 12, 1, 0) else { return };
        let Ok(frame) = Frame::new(Arc::new(grid.clone()), time, msl.clone()) else { return };
        group.bench_function(BenchmarkId::new("filter_frame", resolution), |b| {
            b.iter(|| filter.filter_frame(&frame).map(|f| f.summary().max).unwrap_or_default())
        });
        group.bench_function(BenchmarkId::new("plan", resolution), |b| {
            b.iter(|| ShtPlan::new(&grid, 42).map(|p| p.lmax()).unwrap_or_default())
        });
        // TRACK's fit of the same band (its boundaries 0 5 42 keep 6..42).
        let Ok(track_band) = BandPass::new(6, 42) else { return };
        let Ok(least_squares) = SpectralFilter::with_fit(&grid, track_band, SpectralFit::LeastSquares) else { return };
        group.bench_function(BenchmarkId::new("least_squares_filter", resolution), |b| {
            b.iter(|| least_squares.filter(msl.view()).map(|f| f[[0, 0]]).unwrap_or_default())
        });
        group.bench_function(BenchmarkId::new("least_squares_plan", resolution), |b| {
            b.iter(|| {
                SpectralFilter::with_fit(&grid, track_band, SpectralFit::LeastSquares)
                    .map(|f| f.band().lmax())
                    .unwrap_or_default()
            })
        });
    }
    group.finish();
}

fn vorticity(c: &mut Criterion) {
    let mut group = c.benchmark_group("spectral_vorticity_divergence");
    group.sample_size(10);
    let Ok(grid) = Grid::regular_global(0.25) else { return };
    let (u, v) = winds(&grid);
    for lmax in [42, 719] {
        let Ok(kinematics) = WindKinematics::new(&grid, lmax) else { return };
        group.bench_function(BenchmarkId::new("0.25x0.25", format!("T{lmax}")), |b| {
            b.iter(|| kinematics.vorticity_divergence(u.view(), v.view()).map(|(z, _)| z[[0, 0]]).unwrap_or_default())
        });
    }
    group.finish();
}

criterion_group!(benches, band_pass, vorticity);
criterion_main!(benches);
