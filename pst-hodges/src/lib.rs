//! # pst-hodges: the Hodges (TRACK) tracker
//!
//! Hodges' method (Hodges 1994, 1995, 1999; TRACK) finds storms as *objects*
//! — connected regions of a (usually spectrally filtered) field beyond a
//! threshold — takes the extrema inside each object as feature points,
//! refines them on a local B-spline surface and links them by Modified
//! Greedy Exchange, minimising a track-smoothness cost.
//!
//! - [`HodgesDetector`]: objects (TRACK's edge- or PyStormTracker's
//!   vertex-connected, [`Connectivity`]), extrema, and refinement
//!   ([`HodgesRefinement`]: TRACK's B-spline surface and GDFP search by
//!   default, on a global or a limited-area grid; PyStormTracker's
//!   spherical quadratic and spherical B-spline; quadratic; grid).
//! - [`HodgesLinker`]: Modified Greedy Exchange with regional dmax zones
//!   ([`DmaxZones`]), adaptive smoothness ([`Adaptive`],
//!   [`AdaptiveSmoothness`]), phantom points, missing frames, and temporal
//!   segments linked in parallel as their frames arrive, tracks streamed
//!   out as the splices end them.
//! - [`HodgesTracker`]: both, on the `pst-track` engine, implementing
//!   [`pst_core::Tracker`] like the Simple tracker.
//! - [`HealpixTracker`]: PyStormTracker's HEALPix tracker (the field
//!   evaluated exactly at HEALPix pixel centres, pixel objects, MGE).
//! - [`label_objects`]: the 8-connected threshold objects of a field, for
//!   object diagnostics.
//!
//! The defaults are PyStormTracker 0.8.0's, and where its implementation
//! reproduces TRACK 1.5.4 (candidate order, seam handling, exact ties),
//! this crate follows it, so tracks agree with PyStormTracker's.
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

mod bspline;
mod candidates;
mod constraints;
mod detector;
mod gdfp;
mod healpix;
mod linker;
mod mge;
mod objects;
mod sphere_spline;
mod spherical;
mod tracker;
mod vertex;

pub use constraints::{AdaptiveSmoothness, DmaxZones};
pub use detector::{BsplineSearch, Connectivity, HodgesDetector, HodgesRefinement, TiedExtrema};
pub use healpix::{HealpixDetector, HealpixRefinement, HealpixTracker, MAX_HEALPIX_PIXELS};
pub use linker::{Adaptive, HodgesLinker};
pub use mge::smoothness_cost;
pub use objects::{Objects, label_objects};
pub use tracker::HodgesTracker;
