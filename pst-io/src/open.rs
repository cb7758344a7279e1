//! Opening gridded input by path: the reader chosen from the path.

use std::path::Path;

use pst_core::{Error, FieldSource, Result};

use crate::cf::OpenOptions;

/// Opens gridded input, choosing the reader from the path: Zarr for a
/// directory (v2 or v3 store), GRIB for `.grib`/`.grb`/`.grib2` files and
/// files that start with `GRIB`, netCDF for any other file.
///
/// # Errors
/// Naming the file, when it cannot be opened or holds no such variable, or
/// when pst-io was built without the reader's feature (`netcdf`, `zarr`,
/// `grib`).
#[cfg_attr(not(all(feature = "netcdf", feature = "zarr", feature = "grib")), allow(unused_variables))]
pub fn open_source(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Box<dyn FieldSource>> {
    let path = path.as_ref();
    match reader_for(path) {
        #[cfg(feature = "zarr")]
        Reader::Zarr => Ok(Box::new(crate::zarr::ZarrSource::open(path, variable, options)?)),
        #[cfg(feature = "grib")]
        Reader::Grib => Ok(Box::new(crate::grib::GribSource::open(path, variable, options)?)),
        #[cfg(feature = "netcdf")]
        Reader::Netcdf => Ok(Box::new(crate::netcdf::NetcdfSource::open(path, variable, options)?)),
        #[allow(unreachable_patterns)]
        missing => Err(missing.not_built(path)),
    }
}

/// The readers of gridded input.
#[derive(Debug, Clone, Copy)]
enum Reader {
    Zarr,
    Grib,
    Netcdf,
}

impl Reader {
    /// The error for a reader this build leaves out.
    #[allow(dead_code)]
    fn not_built(self, path: &Path) -> Error {
        let feature = match self {
            Reader::Zarr => "zarr",
            Reader::Grib => "grib",
            Reader::Netcdf => "netcdf",
        };
        Error::Unsupported(format!(
            "reading this input needs pst-io's `{feature}` feature, which this build leaves out"
        ))
        .in_file(path)
    }
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
#[cfg_attr(not(all(feature = "netcdf", feature = "zarr", feature = "grib")), allow(unused_variables))]
pub fn list_members(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Vec<u32>> {
    let path = path.as_ref();
    match reader_for(path) {
        #[cfg(feature = "zarr")]
        Reader::Zarr => crate::zarr::ZarrSource::members(path, variable, options),
        #[cfg(feature = "grib")]
        Reader::Grib => crate::grib::GribSource::members(path, variable, options),
        #[cfg(feature = "netcdf")]
        Reader::Netcdf => crate::netcdf::NetcdfSource::members(path, variable, options),
        #[allow(unreachable_patterns)]
        missing => Err(missing.not_built(path)),
    }
}
