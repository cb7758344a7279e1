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
