//! Contract suites for implementers, and the proptest strategies behind
//! them (feature `conformance`).
//!
//! Every source, detector, linker, tracker and track format of pst passes
//! these checks in pst's own tests; run them on yours the same way. Each
//! check returns `Ok(())` or the first [`Violation`] it found, so a test is
//! one line:
//!
//! ```
//! use pst_core::conformance::check_source;
//! use pst_core::{Grid, SyntheticSeries};
//!
//! let series = SyntheticSeries::builder(Grid::regular_global(10.0)?).frames(3).build()?;
//! check_source(&series)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - Sources: [`check_source`] (the [`crate::FieldSource`] contract: times,
//!   grids, frame range errors, determinism, concurrent reads) for any
//!   source; [`check_reader`] for a reader of a file format: it hands the
//!   [`ReferenceDataset`] — packed values, fill values, a 360-day calendar —
//!   to the implementer's writer in every [`StorageLayout`] (either latitude
//!   order, either longitude convention) and checks the values read back,
//!   and an empty time axis.
//! - Track formats: [`check_track_format`] (round trips within the format's
//!   [`FormatPrecision`], empty collections, no panic on damaged input).
//! - Algorithms: [`check_detector`] (per-frame independence and
//!   determinism), [`check_linker`] (streaming equals whole-series linking,
//!   every centre used at most once, time order; [`check_merging_linker`]
//!   when tracks may end together), [`check_tracker`]
//!   (thread-count invariance, the sink protocol, cancellation) and
//!   [`check_recovers_planted_storms`], [`check_rotation_invariance`] on
//!   [`planted_series`].
//! - [`strategies`]: proptest strategies for grids, series with planted
//!   storms, frames of centres and track collections.

mod algorithms;
mod formats;
mod sources;
pub mod strategies;

use std::fmt;

pub use algorithms::{
    check_detector, check_linker, check_merging_linker, check_recovers_planted_storms, check_rotation_invariance,
    check_tracker, planted_series, random_frames,
};
pub use formats::{FormatPrecision, check_track_format, sample_tracks};
pub use sources::{OpenStored, ReferenceDataset, StorageLayout, check_reader, check_source};

/// A broken contract: which check, and what it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The check that failed (`"source: frame times"`).
    pub check: &'static str,
    /// What was seen.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

impl std::error::Error for Violation {}

/// `Err(Violation)` unless `ok`.
fn ensure(ok: bool, check: &'static str, message: impl FnOnce() -> String) -> Result<(), Violation> {
    if ok { Ok(()) } else { Err(Violation { check, message: message() }) }
}

/// A pst error met where none was expected, as a violation of `check`.
fn unexpected(check: &'static str) -> impl FnOnce(crate::Error) -> Violation {
    move |e| Violation { check, message: format!("unexpected error: {e}") }
}

/// Whether two floats are the same value (NaN equal to NaN).
fn same_value(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}
