//! # pst-core: the model every pst crate speaks
//!
//! pst tracks storms and cyclones in gridded climate data. This crate holds
//! what all of its parts share, and nothing that does the work:
//!
//! - **Grids and frames.** A [`Grid`] is a rectilinear latitude-longitude grid
//!   in degrees, in either latitude order and either longitude convention,
//!   periodic in longitude when it covers the globe; a [`Frame`] is one 2-D
//!   field at one time on it, missing values as NaN.
//! - **Time.** [`Timestamp`] is the one time type: a civil date and time that
//!   sorts, prints as ISO 8601 and as IMILAST's `YYYYMMDDHH`. [`Calendar`] and
//!   [`CfTimeUnits`] decode CF time coordinates in every CF calendar.
//! - **Tracks.** [`Tracks`] stores every track's points in contiguous columns
//!   (struct of arrays); [`Track`] is a borrowed view of one track and
//!   [`Center`] a plain record for export.
//! - **Traits.** [`FieldSource`] streams frames one at a time, [`Detector`]
//!   finds centres in a frame, [`Linker`] joins them into tracks frame by
//!   frame through a [`LinkStream`], [`Tracker`] does the whole job and hands
//!   finished tracks to a [`TrackSink`] (a file, [`MemorySink`],
//!   [`CallbackSink`]) while reporting to a [`Progress`], which can cancel it
//!   ([`CancelFlag`]); [`TrackReader`]/[`TrackWriter`] speak file formats.
//!   Implementations live in `pst-io`, `pst-detect`, `pst-link`,
//!   `pst-hodges` and `pst-track` (the engine that runs any detector and
//!   linker).
//! - **Geometry** on the sphere with one Earth radius ([`EARTH_RADIUS_M`]),
//!   the table of standard variables ([`standard_variable`]), one error type
//!   ([`Error`]) and a synthetic series with known storms
//!   ([`SyntheticSeries`]) for tests and benchmarks.
//! - **Conformance** (feature `conformance`): the contract suites every
//!   source, detector, linker, tracker and track format of pst passes, with
//!   the proptest strategies behind them, for your own implementations.
//!
//! Features: `serde` (serialisation of the data model), `geo` (`EARTH`,
//! `geo`'s haversine measure on pst's Earth radius), `conformance`.
//!
//! Conventions: angles in degrees at every API, radians only inside kernels;
//! field values in the units of their source; longitudes of tracks in
//! `[-180, 180)`; results deterministic, whatever the number of threads.
//!
//! ## Example
//!
//! Plant a storm, read a frame and look at the truth:
//!
//! ```
//! use pst_core::{FieldSource, Grid, PlantedStorm, SyntheticSeries, great_circle_distance_m};
//!
//! let grid = Grid::regular_global(2.5)?;
//! let series = SyntheticSeries::builder(grid)
//!     .frames(4)
//!     .storm(PlantedStorm::low(0, 4, 50.0, 340.0).moving(0.5, 2.0))
//!     .build()?;
//! let frame = series.read_frame(1)?;
//! assert_eq!(frame.grid().shape(), (73, 144));
//!
//! let truth = series.planted_tracks(None);
//! let track = truth.get(0).unwrap();
//! assert_eq!(track.len(), 4);
//! // 2° of longitude at 50°N and 0.5° of latitude per 6 hours: about 153 km.
//! let km = great_circle_distance_m(track.lats()[0], track.lons()[0], track.lats()[1], track.lons()[1]) / 1e3;
//! assert!((150.0..157.0).contains(&km));
//! # Ok::<(), pst_core::Error>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod centers;
#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
mod criteria;
mod crop;
mod cyclonic;
mod error;
mod field_expression;
mod frame;
mod gaussian;
mod geometry;
mod grid;
mod healpix;
mod limits;
mod progress;
mod projection;
mod sink;
mod source;
mod synthetic;
mod taper;
mod time;
mod track_filter;
mod tracks;
mod traits;
mod variables;

/// The array crate frames are made of ([`Frame`] holds an `ndarray::Array2`),
/// re-exported so implementers of [`FieldSource`] use the same version.
pub use ndarray;

pub use centers::{CenterColumn, FrameCenters};
pub use criteria::{ClosedContour, CriteriaDetector, DetectionCriteria, GridConnectivity, NearThreshold};
pub use crop::CroppedSource;
pub use cyclonic::{CyclonicSource, TrueSignSink};
pub use error::{Error, Result, ResultExt};
pub use field_expression::{FieldExpression, split_outside_parentheses};
pub use frame::{Frame, FramePool, FrameRows, ValueSummary};
pub use gaussian::{gauss_legendre, gaussian_latitudes};
#[cfg(feature = "geo")]
pub use geometry::EARTH;
pub use geometry::{
    CosineLawPoint, EARTH_RADIUS_KM, EARTH_RADIUS_M, angle_deg_from_chord, bearing_deg, chord_from_angle_deg,
    cosine_law_angle_rad, great_circle_angle_deg, great_circle_distance_m, lon_difference, normalize_lon_180,
    normalize_lon_360, unit_vector, wrapped_lon_difference,
};
pub use grid::{Grid, LatOrder, LonConvention, Neighbours};
pub use healpix::{Healpix, HealpixRing, MAX_HEALPIX_NSIDE};
pub use limits::{MAX_ADDED_FIELDS, MAX_AXIS_POINTS, MAX_FRAME_POINTS, MAX_GAUSSIAN_N};
pub use progress::{CancelFlag, NoProgress, Progress};
pub use projection::{
    DEFAULT_STEREOGRAPHIC_SPACING_KM, Hemisphere, MAX_STEREOGRAPHIC_SIDE, PolarStereographic, STEREOGRAPHIC_RADIUS_KM,
    StereographicExtent, StereographicPlane,
};
pub use sink::{CallbackSink, MemorySink, TrackSink};
pub use source::{CanonicalSource, FieldSource, SourceInfo, Subseries};
pub use synthetic::{PlantedStorm, SyntheticBuilder, SyntheticSeries};
pub use taper::{EdgeTaper, TaperedSource};
pub use time::{Calendar, CfTimeUnits, Timestamp, parse_time_step_ms};
pub use track_filter::{FilteredSink, MinDuration, PointCount, ThresholdOp, TrackFilter, TrackRegion, TrackThreshold};
pub use tracks::{
    Bounds, Center, ProcessingStep, Track, Tracks, TracksBuilder, TracksColumns, TracksMetadata, Variable,
};
pub use traits::{
    BatchLinkStream, Detector, LinkStream, LinkedPart, Linker, SplitLink, TrackReader, TrackWriter, Tracker,
};
pub use variables::{
    DetectionMode, STANDARD_VARIABLES, StandardVariable, canonical_units, default_threshold, infer_detection_mode,
    require_detection_mode, standard_variable,
};
