//! The main kernels, each run on a deterministic fixture, one per
//! invocation, single-threaded: what `.ci/checks/instructions.sh` counts
//! under callgrind to guard against performance regressions
//! (`benches/instructions.txt` holds the recorded counts).
//!
//! `pst-kernels detect|link|mge|band-pass|vorticity|vorticity-condensed|read|hodges-detect [DATA_DIR]`

use std::time::Instant;

use pst_core::{Calendar, DetectionMode, Detector, Error, FieldSource, FrameCenters, Grid, Linker, Result, Timestamp};
use pst_detect::SimpleDetector;
use pst_hodges::HodgesTracker;
use pst_io::{OpenOptions, open_source};
use pst_link::SimpleLinker;
use pst_spectral::{BandPass, FilteredSource, SpectralFilter, WindKinematics};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let started = Instant::now();
    let result = match args.get(1).map(String::as_str) {
        Some("detect") => detect(),
        Some("link") => link(),
        Some("mge") => mge(),
        Some("band-pass") => band_pass(),
        Some("vorticity") => vorticity(1.0, 179),
        Some("vorticity-condensed") => vorticity(0.5, 359),
        Some("read") => read(args.get(2).map_or("../shared/data", String::as_str)),
        Some("hodges-detect") => hodges_detect(args.get(2).map_or("../shared/data", String::as_str)),
        _ => Err(Error::InvalidArgument(
            "usage: pst-kernels detect|link|mge|band-pass|vorticity|vorticity-condensed|read|hodges-detect [DATA_DIR]"
                .into(),
        )),
    };
    match result {
        Ok(check) => println!("{} {check} in {:.2?}", args[1], started.elapsed()),
        Err(e) => {
            eprintln!("pst-kernels: {e}");
            std::process::exit(2);
        }
    }
}

/// Simple detection on 20 synthetic 2.5° frames; returns the centre count.
fn detect() -> Result<usize> {
    let series = pst_benches::synthetic_series(2.5, 20)?;
    let detector = SimpleDetector::new(DetectionMode::Min);
    let mut centres = 0;
    for k in 0..series.len() {
        centres += detector.detect(&series.read_frame(k)?, k)?.len();
    }
    Ok(centres)
}

/// Linking two frames of 5,000 centres, twice; returns the tracks.
fn link() -> Result<usize> {
    let t0 = Timestamp::from_ymdh(2025, 12, 1, 0)?;
    let t1 = Timestamp::from_ymdh(2025, 12, 1, 6)?;
    let (mut a, mut b) = (FrameCenters::new(0, t0), FrameCenters::new(1, t1));
    let n = 5_000;
    for k in 0..n {
        let z = 1.0 - 2.0 * (k as f64 + 0.5) / n as f64;
        let (lat, lon) = (z.asin().to_degrees(), (k as f64 * 137.507_764_050_037_85) % 360.0);
        a.push(lat, lon, 0.0, (0, 0));
        b.push((lat + 0.7).min(90.0), (lon + 1.3) % 360.0, 0.0, (0, 0));
    }
    let frames = [a, b];
    let mut tracks = 0;
    for _ in 0..2 {
        tracks += SimpleLinker::default().link(&frames, Calendar::Standard)?.len();
    }
    Ok(tracks)
}

/// The Hodges linker's Modified Greedy Exchange on one segment as dense as
/// band-passed 850 hPa vorticity ([`pst_benches::dense_feature_frames`],
/// 400 points a frame, 40 frames). Returns the tracks.
fn mge() -> Result<usize> {
    let frames = pst_benches::dense_feature_frames(400, 40)?;
    Ok(pst_hodges::HodgesLinker::default().link(&frames, Calendar::Standard)?.len())
}

/// T5–42 band-pass of a synthetic 2.5° frame, twenty times (plan included).
fn band_pass() -> Result<usize> {
    let series = pst_benches::synthetic_series(2.5, 1)?;
    let frame = series.read_frame(0)?;
    let filter = SpectralFilter::new(frame.grid(), BandPass::new(5, 42)?)?;
    let mut sum = 0.0;
    for _ in 0..20 {
        sum += filter.filter(frame.values().view())?[[36, 0]];
    }
    Ok(sum.abs() as usize)
}

/// Vorticity and divergence from winds on the `step`° grid at T`lmax`: at
/// 1° T179 the wind's sums run over the Fejér rows, at 0.5° T359 they are
/// condensed (`pst_spectral`'s plan chooses).
fn vorticity(step: f64, lmax: usize) -> Result<usize> {
    let grid = Grid::regular_global(step)?;
    let u = ndarray::Array2::from_shape_fn(grid.shape(), |(i, j)| {
        let (lat, lon) = (grid.lat(i).to_radians(), grid.lon(j).to_radians());
        20.0 * lat.cos() + 5.0 * (6.0 * lon).sin() * lat.cos().powi(2)
    });
    let v = ndarray::Array2::from_shape_fn(grid.shape(), |(i, j)| {
        8.0 * (5.0 * grid.lon(j).to_radians()).cos() * grid.lat(i).to_radians().cos().powi(3)
    });
    let (vo, _) = WindKinematics::new(&grid, lmax)?.vorticity_divergence(u.view(), v.view())?;
    Ok((vo[[grid.nlat() / 4, 0]] * 1e9).abs() as usize)
}

/// Every frame of the ERA5 DJF msl netCDF-4 file (deflate and shuffle).
fn read(data: &str) -> Result<usize> {
    let source = open_source(format!("{data}/era5/era5_msl_2025-2026_djf_2.5x2.5.nc"), "msl", &OpenOptions::default())?;
    let mut frames = 0;
    for k in 0..source.len() {
        frames += usize::from(source.read_frame(k)?.value(0, 0) > 0.0);
    }
    Ok(frames)
}

/// Hodges detection with B-spline refinement (threshold objects, the
/// surface fit and its GDFP searches) on the first 20 frames of the ERA5
/// DJF msl file band-passed to T5–42, as W2 runs it; the count includes
/// reading and band-passing those frames. Returns the feature points.
fn hodges_detect(data: &str) -> Result<usize> {
    let source = open_source(format!("{data}/era5/era5_msl_2025-2026_djf_2.5x2.5.nc"), "msl", &OpenOptions::default())?;
    let source = FilteredSource::new(source, BandPass::new(5, 42)?)?;
    let engine = HodgesTracker::default().for_source(source.info())?;
    let detector = engine.detector();
    let mut points = 0;
    for k in 0..20 {
        points += detector.detect(&source.read_frame(k)?, k)?.len();
    }
    Ok(points)
}
