//! The Simple tracker's stages: detection per frame at 2.5° and 0.25°,
//! linking per time step against the number of centres, and reading a
//! real netCDF frame.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pst_core::{Calendar, DetectionMode, Detector, FieldSource, FrameCenters, Linker, Timestamp};
use pst_detect::SimpleDetector;
use pst_link::SimpleLinker;

fn detection(c: &mut Criterion) {
    let mut group = c.benchmark_group("detect_frame");
    for step in [2.5, 0.25] {
        let Ok(series) = pst_benches::synthetic_series(step, 1) else { return };
        let Ok(frame) = series.read_frame(0) else { return };
        let detector = SimpleDetector::new(DetectionMode::Min);
        group.throughput(Throughput::Elements((frame.grid().nlat() * frame.grid().nlon()) as u64));
        group.bench_function(BenchmarkId::new("simple", format!("{step}deg")), |b| {
            b.iter(|| detector.detect(&frame, 0).map(|c| c.len()).unwrap_or_default())
        });
    }
    // ERA5's DJF at 2.5°, all 360 frames (W1's detection): a real field
    // flags about one point in thirty for the window test, the synthetic
    // one far fewer.
    if let Some(path) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc")
        && let Ok(source) = pst_io::NetcdfSource::open(&path, "msl", &pst_io::OpenOptions::default())
        && let Ok(frames) = (0..source.len()).map(|k| source.read_frame(k)).collect::<Result<Vec<_>, _>>()
    {
        let detector = SimpleDetector::new(DetectionMode::Min);
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_function("simple/era5_2.5deg_360_frames", |b| {
            b.iter(|| frames.iter().map(|f| detector.detect(f, 0).map(|c| c.len()).unwrap_or_default()).sum::<usize>())
        });
    }
    group.finish();
}

/// Two frames of `n` centres scattered over the globe, the second moved a
/// little: one linking step.
fn two_frames(n: usize) -> Vec<FrameCenters> {
    let t0 = Timestamp::from_ymdh(2025, 12, 1, 0).unwrap_or_else(|_| unreachable!());
    let t1 = Timestamp::from_ymdh(2025, 12, 1, 6).unwrap_or_else(|_| unreachable!());
    let mut a = FrameCenters::new(0, t0);
    let mut b = FrameCenters::new(1, t1);
    // A golden-angle spiral spreads points evenly on the sphere.
    for k in 0..n {
        let z = 1.0 - 2.0 * (k as f64 + 0.5) / n as f64;
        let lat = z.asin().to_degrees();
        let lon = (k as f64 * 137.507_764_050_037_85) % 360.0;
        a.push(lat, lon, 0.0, (0, 0));
        b.push((lat + 0.7).min(90.0), (lon + 1.3) % 360.0, 0.0, (0, 0));
    }
    vec![a, b]
}

fn linking(c: &mut Criterion) {
    // Realistic counts with PyStormTracker's 500 km: about 2,000 centres per
    // frame at 0.25°.
    let mut group = c.benchmark_group("link_step_500km");
    for n in [100, 1_000, 2_000, 10_000] {
        let frames = two_frames(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| SimpleLinker::default().link(&frames, Calendar::Standard).map(|t| t.len()).unwrap_or_default())
        });
    }
    group.finish();
    // Scaling at a fixed density: the link distance shrinks as 1/sqrt(n) so
    // each centre has as many neighbours in range as with 2,000 centres and
    // 500 km — the work per centre of a growing domain. Near-linear time here
    // is the band index's O(N log N), where a distance matrix is O(N²).
    let mut group = c.benchmark_group("link_step_fixed_density");
    group.sample_size(10);
    for n in [1_000, 10_000, 100_000, 1_000_000] {
        let frames = two_frames(n);
        let km = 500.0 * (2_000.0 / n as f64).sqrt();
        let linker = SimpleLinker::default().max_distance_km(km);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| linker.link(&frames, Calendar::Standard).map(|t| t.len()).unwrap_or_default())
        });
    }
    group.finish();
}

/// Twenty frames of the centres Simple finds in ERA5's 0.25° msl frame
/// (about 2,000, nine or ten of the next frame's within 500 km of each, as
/// in a 0.25° year), each frame's moved 0.3° east and 0.1° north of the
/// last's: the linker's work per frame at native resolution.
fn era5_centre_frames() -> Option<Vec<FrameCenters>> {
    let path = pst_testkit::data_file("era5-frames/era5_msl_2025120100_0.25x0.25.nc")?;
    let source = pst_io::NetcdfSource::open(&path, "msl", &pst_io::OpenOptions::default()).ok()?;
    let found = SimpleDetector::new(DetectionMode::Min).detect(&source.read_frame(0).ok()?, 0).ok()?;
    let start = Calendar::Standard.to_millis(Timestamp::from_ymdh(2025, 12, 1, 0).ok()?).ok()?;
    let frames = (0..20)
        .map(|k| {
            let mut frame = FrameCenters::new(k, Calendar::Standard.from_millis(start + k as i64 * 21_600_000));
            for c in 0..found.len() {
                let lat = (found.lats()[c] + 0.1 * k as f64).clamp(-90.0, 90.0);
                frame.push(lat, (found.lons()[c] + 0.3 * k as f64) % 360.0, found.values()[c], (0, 0));
            }
            frame
        })
        .collect();
    Some(frames)
}

fn linking_real_density(c: &mut Criterion) {
    let Some(frames) = era5_centre_frames() else { return };
    let mut group = c.benchmark_group("link_series");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("era5_0.25deg_centres_20_frames", |b| {
        b.iter(|| SimpleLinker::default().link(&frames, Calendar::Standard).map(|t| t.len()).unwrap_or_default())
    });
    group.finish();
}

fn reading(c: &mut Criterion) {
    let Some(path) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let Ok(source) = pst_io::NetcdfSource::open(&path, "msl", &pst_io::OpenOptions::default()) else { return };
    c.bench_function("read_frame/netcdf4_2.5deg", |b| {
        let mut k = 0;
        b.iter(|| {
            k = (k + 1) % source.len();
            source.read_frame(k).map(|f| f.value(0, 0)).unwrap_or_default()
        })
    });
}

criterion_group!(benches, detection, linking, linking_real_density, reading);
criterion_main!(benches);
