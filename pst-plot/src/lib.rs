//! # pst-plot: pictures of storm tracks
//!
//! Maps of tracks and of track density, drawn in pure Rust (plotters) to
//! PNG or SVG, with everything they need embedded: Natural Earth's 1:110m
//! coastlines and a subset of DejaVu Sans (licences in
//! `assets/LICENSES.md`), so no system font or data file is read.
//!
//! - [`TrackMap`]: each track a line coloured by intensity (the tracked
//!   variable at the centre, stronger darker) or by time, start and end
//!   markers, a colour bar, and a title saying what was tracked.
//! - [`DensityMap`] and [`TrackDensity`]: tracks passing within a 5°
//!   spherical cap of each grid point, per month per 10⁶ km² (Hoskins and
//!   Hodges 2002).
//! - [`MapProjection`]: equirectangular (optionally a [`MapRegion`]) and north
//!   and south polar stereographic.
//!
//! ## Example
//!
//! ```
//! use pst_core::{Timestamp, TracksBuilder};
//! use pst_plot::{ColourBy, ImageFormat, MapProjection, TrackMap};
//!
//! let mut b = TracksBuilder::new(["msl"]);
//! b.begin_track(1);
//! for (k, lon) in [300.0, 310.0, 320.0, 330.0].into_iter().enumerate() {
//!     b.push(Timestamp::from_ymdh(2026, 1, 1 + k as u8, 0)?, 50.0 + k as f64, lon, &[99_000.0 - 800.0 * k as f64])?;
//! }
//! b.end_track()?;
//! let tracks = b.finish()?;
//! let map = TrackMap::default().projection(MapProjection::NorthPolarStereographic).colour_by(ColourBy::Time);
//! let svg = map.render(&tracks, ImageFormat::Svg)?;
//! assert!(String::from_utf8(svg)?.contains("1 tracks of msl, 2026-01-01 to 2026-01-04"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod colour;
mod density;
mod geo;
mod render;

pub use colour::ColourScale;
pub use density::{DAYS_PER_MONTH, DensityGrid, TrackDensity};
pub use geo::{MapProjection, MapRegion, coastlines};
pub use render::{ColourBy, DEFAULT_WIDTH_PX, DensityMap, ImageFormat, MARKERS_UP_TO, TrackMap};

/// What can go wrong making a picture.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting or the tracks do not allow the picture; the message says
    /// which and why.
    #[error("{0}")]
    InvalidArgument(String),
    /// The tracks could not be read (a time their calendar cannot place).
    #[error(transparent)]
    Tracks(#[from] pst_core::Error),
    /// Drawing or encoding failed.
    #[error("drawing the picture: {0}")]
    Render(String),
}

/// This crate's results.
pub type Result<T> = std::result::Result<T, Error>;
