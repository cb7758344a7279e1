//! # pst: storm tracking in gridded climate data
//!
//! pst finds storms and cyclones in gridded climate data — minima of mean
//! sea-level pressure, maxima of 850 hPa vorticity — and links them into
//! tracks, with PyStormTracker's algorithms and outputs (exactly) and
//! TRACK's Hodges method. This crate is the whole family in one dependency:
//! everything below is re-exported flatly from the crates that do the work,
//! and the [`Pipeline`] puts them together the way the `stormtracker`
//! command does, with the same defaults.
//!
//! ## Track a file
//!
//! ```
//! use pst::{HodgesTracker, Pipeline};
//! # let input = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/era5_msl_2025-12_2.5x2.5.nc");
//! # let output = std::env::temp_dir().join(format!("pst-doc-{}.txt", std::process::id()));
//!
//! let pipeline = Pipeline::builder()
//!     .input(input)                    // files, globs, @lists; netCDF, Zarr, GRIB
//!     .variable("msl")
//!     .band_pass(5, 42)                // TRACK's usual T5–42 (here n = 5..42)
//!     .tracker(HodgesTracker::default())
//!     .build()?;
//! let reports = pipeline.run_to_file(&output, None, &pst::NoProgress)?; // IMILAST, from the name
//! assert_eq!(reports[0].tracks, 998);  // PyStormTracker 0.8.0 finds these 998 tracks too
//! # std::fs::remove_file(&output)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The parts
//!
//! - **Model and traits** (`pst-core`): [`Grid`], [`Frame`], CF time
//!   ([`Timestamp`], [`Calendar`]), the columnar [`Tracks`]; the traits
//!   [`FieldSource`], [`Detector`], [`Linker`]/[`LinkStream`], [`Tracker`],
//!   [`TrackSink`], [`Progress`], [`TrackReader`]/[`TrackWriter`]; one
//!   [`Error`] whose [`Error::root`] tells a missing variable from a bad
//!   grid or an I/O failure.
//! - **Trackers**: [`SimpleTracker`] (PyStormTracker's local extrema and
//!   nearest-neighbour linking) and [`HodgesTracker`] (TRACK's objects,
//!   B-spline refinement and Modified Greedy Exchange), both configurations
//!   of the engine [`DetectLinkTracker`], which runs any [`Detector`] and
//!   [`Linker`] — yours too — in parallel, streaming, with progress.
//! - **Input and output** (`pst-io`): [`NetcdfSource`], [`ZarrSource`],
//!   [`GribSource`], [`MultiFileSource`]; the track formats of [`FORMATS`],
//!   written as tracks finish by [`TrackFileSink`].
//! - **Preprocessing** (`pst-spectral`): [`BandPass`] filtering and
//!   vorticity from winds by spherical harmonics ([`FilteredSource`],
//!   [`WindVorticitySource`]).
//! - **Comparison** (`pst-metrics`): [`compare_tracks`].
//! - **Conformance** (feature `conformance`): `pst::conformance`, the
//!   contract suites every pst source, detector, linker, tracker and format
//!   passes, for your own implementations.
//!
//! Features: `netcdf`, `zarr`, `grib` (the gridded readers, on by default),
//! `remote` (`s3://`, `gs://` and `http(s)://` inputs, on by default),
//! `plot` (on by default), `grib-jpeg2000`, `conformance`, `mpi`
//! (`pst::mpi`: a pipeline across the ranks of an MPI job).
//!
//! The options of a run by name (`stormtracker track`'s flags, the Python
//! package's keywords) are `TrackOptions`; a run split into detected slabs
//! and one link (MPI, Dask) is `Pipeline::detect_slab` and
//! `Pipeline::link_slabs`.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod inspect;
#[cfg(feature = "mpi")]
#[cfg_attr(docsrs, doc(cfg(feature = "mpi")))]
pub mod mpi;
mod options;
mod pipeline;
mod sinks;
mod split;

pub use inspect::FrameCheck;
pub use options::{Algorithm, OptionSpelling, OptionValue, TrackOptions};
pub use pipeline::{
    Event, MEMBER_PLACEHOLDER, Pipeline, PipelineBuilder, Reporter, RunReport, SIMPLE_SPECTRAL_TAPER, TrackerChoice,
    UNTAPERED, Warning, member_path,
};
pub use pst_core::*;
pub use pst_detect::*;
pub use pst_hodges::*;
pub use pst_io::*;
pub use pst_link::*;
pub use pst_metrics::*;
pub use pst_spectral::*;
pub use pst_track::*;
pub use split::DetectedSlab;

/// Pictures of tracks (`pst-plot`): its names are also re-exported flatly,
/// except its `Error` and `Result`, which are here.
#[cfg(feature = "plot")]
#[cfg_attr(docsrs, doc(cfg(feature = "plot")))]
pub mod plot {
    pub use pst_plot::*;
}
#[cfg(feature = "plot")]
pub use pst_plot::{
    ColourBy, ColourScale, DAYS_PER_MONTH, DEFAULT_WIDTH_PX, DensityGrid, DensityMap, ImageFormat, MARKERS_UP_TO,
    MapProjection, MapRegion, TrackDensity, TrackMap, coastlines,
};

/// The README's code, run as a test.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
