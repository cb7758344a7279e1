//! TRACK 1.5.2's least-squares spectral filter, run on the shared DJF msl
//! series by `benches/track/run_track.sh`: pst's least-squares fit gives
//! TRACK's filtered field to float32 rounding.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use pst_core::FieldSource;
use pst_io::{OpenOptions, open_source};
use pst_spectral::{BandPass, FilteredSource, SpectralFit};

/// TRACK's filtered frames: the committed fixture, or a whole run's output
/// named by `PST_TRACK_FILTERED`.
fn track_filtered() -> PathBuf {
    std::env::var_os("PST_TRACK_FILTERED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/track-1.5.2/djf_msl_t5-42_frames.nc"),
        PathBuf::from,
    )
}

#[test]
fn least_squares_is_track_s_filter() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let options = OpenOptions::default();
    let track = open_source(track_filtered(), "msl", &options).unwrap();
    let raw = open_source(&input, "msl", &options).unwrap();
    let ours = FilteredSource::with_fit(raw, BandPass::new(6, 42).unwrap(), SpectralFit::LeastSquares).unwrap();
    let quadrature =
        FilteredSource::new(open_source(&input, "msl", &options).unwrap(), BandPass::new(6, 42).unwrap()).unwrap();
    let (times, ours_times) = (&track.info().times, &ours.info().times);
    let (mut worst, mut worst_quadrature, mut sum_sq, mut n) = (0.0f64, 0.0f64, 0.0, 0usize);
    for (k, time) in times.iter().enumerate() {
        let index = ours_times.iter().position(|t| t == time).unwrap();
        let reference = track.read_frame(k).unwrap().into_values();
        let lsq = ours.read_frame(index).unwrap().into_values();
        let quad = quadrature.read_frame(index).unwrap().into_values();
        assert_eq!(track.info().grid.lats(), ours.info().grid.lats());
        for ((r, a), q) in reference.iter().zip(&lsq).zip(&quad) {
            // float32 keeps 24 bits: half a unit in the last place of the
            // larger magnitude.
            let ulp = f64::from(f32::EPSILON) * r.abs().max(a.abs()).max(1.0);
            worst = worst.max((r - a).abs() / ulp);
            worst_quadrature = worst_quadrature.max((r - q).abs());
            sum_sq += (r - a) * (r - a);
            n += 1;
        }
    }
    let rms = (sum_sq / n as f64).sqrt();
    eprintln!(
        "{} frames: largest difference {worst:.2} float32 units, RMS {rms:.2e} Pa; quadrature up to {worst_quadrature:.1} Pa",
        times.len()
    );
    assert!(worst <= 1.0, "{worst} units of float32 rounding");
    assert!(worst_quadrature > 50.0, "the quadrature fit is another filter: {worst_quadrature} Pa");
}
