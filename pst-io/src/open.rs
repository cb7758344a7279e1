//! Opening gridded input by path: the reader chosen from the path.

use std::path::Path;

use pst_core::{Error, FieldSource, Result, ResultExt};

use crate::cf::OpenOptions;

/// Opens gridded input, choosing the reader from the path: Zarr for a
/// directory (v2 or v3 store), GRIB for `.grib`/`.grb`/`.grib2` files and
/// files that start with `GRIB`, netCDF for files that start as netCDF
/// classic or HDF5 do.
///
/// # Errors
/// Naming the file, when it is none of these (saying how it starts), cannot
/// be opened or holds no such variable, or
/// when pst-io was built without the reader's feature (`netcdf`, `zarr`,
/// `grib`).
#[cfg_attr(not(all(feature = "netcdf", feature = "zarr", feature = "grib")), allow(unused_variables))]
pub fn open_source(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Box<dyn FieldSource>> {
    let path = path.as_ref();
    match reader_for(path)? {
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
/// netCDF for classic (`CDF`) or HDF5 magic numbers; anything else is an
/// error that shows how the file starts (an HTML error page, a track file
/// given by mistake, an empty download).
fn reader_for(path: &Path) -> Result<Reader> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if path.is_dir() || ext == "zarr" {
        return Ok(Reader::Zarr);
    }
    if path.to_str().is_some_and(is_url) {
        #[cfg(feature = "remote")]
        return remote_reader(path);
        #[cfg(not(feature = "remote"))]
        return Err(Error::Unsupported(
            "reading remote input needs pst-io's `remote` feature, which this build leaves out".into(),
        )
        .in_file(path));
    }
    if matches!(ext.as_str(), "grib" | "grib1" | "grib2" | "grb" | "grb1" | "grb2") {
        return Ok(Reader::Grib);
    }
    let mut file = std::fs::File::open(path).in_file(path)?;
    let mut head = [0u8; 16];
    let n = read_up_to(&mut file, &mut head).in_file(path)?;
    let head = &head[..n];
    if let Some(reader) = reader_by_magic(head) {
        return Ok(reader);
    }
    if has_hdf5_user_block(&mut file) {
        return Ok(Reader::Netcdf);
    }
    let why =
        if n == 0 { "it is empty".to_string() } else { format!("starts with {:?}", String::from_utf8_lossy(head)) };
    Err(Error::Format(format!("not a netCDF, HDF5, Zarr or GRIB file ({why})")).in_file(path))
}

/// Whether `input` names a remote object (`s3://`, `gs://`, `http(s)://`)
/// rather than a local path.
///
/// ```
/// use pst_io::is_url;
/// assert!(is_url("s3://era5/msl.zarr") && is_url("https://host/a.nc"));
/// assert!(!is_url("era5/msl.nc") && !is_url("C:/data/msl.nc"));
/// ```
pub fn is_url(input: &str) -> bool {
    input.split_once("://").is_some_and(|(scheme, _)| {
        matches!(scheme.to_ascii_lowercase().as_str(), "s3" | "s3a" | "gs" | "gcs" | "http" | "https")
    })
}

/// The reader of a remote input: Zarr for a store (a `zarr.json`,
/// `.zgroup` or `.zarray` under it), else by the object's first bytes.
#[cfg(feature = "remote")]
fn remote_reader(path: &Path) -> Result<Reader> {
    let url = path.to_string_lossy();
    let remote = crate::remote::Remote::open(&url)?;
    // A store is a prefix holding its metadata (a server may answer the
    // prefix itself with an HTML listing).
    let is_store = || -> Result<bool> {
        for marker in ["zarr.json", ".zgroup", ".zarray", ".zmetadata"] {
            if remote.child(marker).read_all()?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let head = match remote.len() {
        Ok(len) => remote.read(0..len.min(16))?,
        Err(e) if matches!(e.root(), Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound) => {
            return if is_store()? { Ok(Reader::Zarr) } else { Err(e) };
        }
        Err(e) => return Err(e),
    };
    if reader_by_magic(&head).is_none() && is_store()? {
        return Ok(Reader::Zarr);
    }
    match reader_by_magic(&head) {
        Some(Reader::Grib) => Err(Error::Unsupported(format!(
            "{url}: GRIB is read from local files; download it first (remote input reads netCDF and Zarr)"
        ))),
        Some(reader) => Ok(reader),
        None => Err(Error::Format(format!(
            "{url}: not a netCDF or HDF5 file (starts with {:?}); a Zarr store is a prefix holding zarr.json or \
             .zgroup",
            String::from_utf8_lossy(&head)
        ))),
    }
}

/// The reader a file's first bytes call for: GRIB, or netCDF for classic
/// (`CDF`) and HDF5 files.
fn reader_by_magic(head: &[u8]) -> Option<Reader> {
    if head.starts_with(b"GRIB") {
        Some(Reader::Grib)
    } else if head.starts_with(b"CDF") || head.starts_with(HDF5_MAGIC) {
        Some(Reader::Netcdf)
    } else {
        None
    }
}

/// Whether `head`, a file's first bytes, starts as gridded input pst reads.
pub(crate) fn starts_as_gridded_data(head: &[u8]) -> bool {
    reader_by_magic(head).is_some()
}

/// HDF5's signature, at the start of a netCDF-4 file or after a user block.
const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";

/// Whether the HDF5 signature is at one of the offsets a user block puts
/// it (512, 1024, 2048, … bytes).
fn has_hdf5_user_block(file: &mut std::fs::File) -> bool {
    use std::io::{Seek, SeekFrom};
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut offset = 512u64;
    while offset + 8 <= len && offset <= 1 << 30 {
        let mut magic = [0u8; 8];
        if file.seek(SeekFrom::Start(offset)).is_ok()
            && std::io::Read::read_exact(file, &mut magic).is_ok()
            && magic == HDF5_MAGIC
        {
            return true;
        }
        offset *= 2;
    }
    false
}

/// Reads into `buffer` until it is full or the file ends; the bytes read.
fn read_up_to(file: &mut std::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match std::io::Read::read(file, &mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The ensemble members of `variable` in the input at `path` (any format,
/// chosen as [`open_source`] does); empty when it has no member dimension.
#[cfg_attr(not(all(feature = "netcdf", feature = "zarr", feature = "grib")), allow(unused_variables))]
pub fn list_members(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Vec<u32>> {
    let path = path.as_ref();
    match reader_for(path)? {
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
