//! Benchmarks of the pst crates (`cargo bench -p pst-benches`) and the
//! fixtures they share.

use pst_core::{Grid, SyntheticSeries};

/// A deterministic synthetic series on a global grid of `step_deg`, with
/// storms and noise as dense as reanalysis lows at that resolution.
pub fn synthetic_series(step_deg: f64, frames: usize) -> Result<SyntheticSeries, pst_core::Error> {
    SyntheticSeries::builder(Grid::regular_global(step_deg)?)
        .frames(frames)
        .random_storms(24, 7)
        .noise(20.0, 11)
        .build()
}

/// `frames` frames of `per_frame` feature points six hours apart, as dense
/// as band-passed 850 hPa vorticity's at 2.5° when `per_frame` is about
/// 450: points spread evenly over the sphere, drifting north-east with
/// random jitter (deterministic), so that the Modified Greedy Exchange has
/// many exchanges to make.
pub fn dense_feature_frames(per_frame: usize, frames: usize) -> Result<Vec<pst_core::FrameCenters>, pst_core::Error> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let base: Vec<(f64, f64)> = (0..per_frame)
        .map(|k| {
            let z = 1.0 - 2.0 * (k as f64 + 0.5) / per_frame as f64;
            (z.asin().to_degrees(), (k as f64 * 137.507_764_050_037_85) % 360.0)
        })
        .collect();
    let calendar = pst_core::Calendar::Standard;
    let start = calendar.to_millis(pst_core::Timestamp::from_ymdh(2025, 12, 1, 0)?)?;
    Ok((0..frames)
        .map(|f| {
            let mut centres = pst_core::FrameCenters::new(f, calendar.from_millis(start + f as i64 * 21_600_000));
            for &(lat, lon) in &base {
                let lat = (lat + 0.3 * f as f64 + 1.5 * (random() - 0.5)).clamp(-89.0, 89.0);
                let lon = (lon + 2.0 * f as f64 + 3.0 * (random() - 0.5)).rem_euclid(360.0);
                centres.push(lat, lon, -1.0 - random(), (0, 0));
            }
            centres
        })
        .collect())
}
