//! Runnable examples of the pst crates; see the `[[example]]` targets:
//!
//! - `track_file`: track a file with the pipeline and write IMILAST.
//! - `synthetic`: plant storms in a synthetic series and check they are found.
//! - `highres`: detection and linking throughput at 0.25° on [`RotatedSeries`].
//! - `spectral`: spherical-harmonic preprocessing on real data.

use std::sync::Arc;

use ndarray::Array2;
use pst::{Calendar, FieldSource, Frame, Result, SourceInfo};

/// Path of the embedded default input (ERA5 msl, December 2025, 2.5°).
pub const DEFAULT_INPUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/era5_msl_2025-12_2.5x2.5.nc");

/// One frame served again and again, rolled a few columns further each time.
pub struct RotatedSeries {
    base: Frame,
    shift: usize,
    info: SourceInfo,
}

impl RotatedSeries {
    /// `frames` frames, 6 hours apart from `base`'s time, frame k rolled
    /// east by `k × shift` columns, described as `info` says.
    pub fn new(base: Frame, frames: usize, shift: usize, info: &SourceInfo) -> Self {
        let calendar = Calendar::ProlepticGregorian;
        let t0 = calendar.to_millis(base.time()).unwrap_or(0);
        let times = (0..frames).map(|k| calendar.from_millis(t0 + k as i64 * 6 * 3_600_000)).collect();
        let info = SourceInfo { times, calendar, origin: format!("{} rotated", info.origin), ..info.clone() };
        RotatedSeries { base, shift, info }
    }
}

impl FieldSource for RotatedSeries {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let time = self.info.frame_time(index)?;
        let (nlat, nlon) = self.base.grid().shape();
        let offset = (index * self.shift) % nlon;
        let v = self.base.values();
        let values = Array2::from_shape_fn((nlat, nlon), |(i, j)| v[[i, (j + nlon - offset) % nlon]]);
        Frame::new(Arc::clone(self.base.grid()), time, values)
    }
}
