//! Zarr input (v2 and v3, including sharding, blosc, zstd and gzip), via `zarrs`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{ArrayD, Ix2};
use pst_core::{Error, FieldSource, Frame, Grid, MAX_AXIS_POINTS, Result, ResultExt, SourceInfo};
use zarrs::array::chunk_cache::{ChunkCache, ChunkCacheLruSizeLimit, ChunkCacheTypeDecoded};
use zarrs::array::{Array, ArraySubset, CodecOptions, DataType, data_type};
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::ReadableStorageTraits;

use crate::cf::{
    AttrValue, Layout, OpenOptions, Packing, VarMeta, decode_times, find_variable, members, resolve_layout,
};

type ZArray = Array<dyn ReadableStorageTraits>;

/// The most decoded chunk data a source keeps.
const CHUNK_CACHE_BYTES: u64 = 256 << 20;

/// Decoded chunks kept when a chunk holds several time steps: a frame's
/// chunks plus those the other reading threads are on.
const CACHED_CHUNKS: u64 = 8;

/// A variable of a Zarr store (a directory, v2 or v3), streamed one frame at
/// a time, with the same CF handling as [`crate::NetcdfSource`]: dimension
/// names from `_ARRAY_DIMENSIONS` (v2) or `dimension_names` (v3), fill
/// values as NaN, `scale_factor`/`add_offset`, CF time, level selection.
/// When a chunk holds several time steps, decoded chunks are cached (a few,
/// at most 256 MiB), so each is decompressed once, not once per frame; with
/// one time step per chunk nothing is kept, and memory stays one frame per
/// reading thread.
///
/// ```no_run
/// use pst_core::FieldSource;
/// use pst_io::{OpenOptions, ZarrSource};
/// let source = ZarrSource::open("era5_msl_2025-2026_djf_2.5x2.5.zarr", "msl", &OpenOptions::default())?;
/// assert_eq!(source.len(), 360);
/// # Ok::<(), pst_core::Error>(())
/// ```
pub struct ZarrSource {
    path: PathBuf,
    /// Decoded chunks, when a chunk holds several frames.
    cache: Option<ChunkCacheLruSizeLimit<ChunkCacheTypeDecoded>>,
    array: Arc<ZArray>,
    layout: Layout,
    packing: Packing,
    info: SourceInfo,
}

impl std::fmt::Debug for ZarrSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZarrSource").field("path", &self.path).field("layout", &self.layout).finish_non_exhaustive()
    }
}

impl ZarrSource {
    /// Opens `variable` in the Zarr store at `path`.
    pub fn open(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Self> {
        let path = path.as_ref();
        Self::open_inner(path, variable, options).in_file(path)
    }

    /// The ensemble members of `variable` in the Zarr store at `path`: the
    /// values of its member dimension (see [`OpenOptions::member_dim`]),
    /// empty when it has none.
    pub fn members(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Vec<u32>> {
        let path = path.as_ref();
        let inner = || -> Result<Vec<u32>> {
            let (arrays, unreadable) = open_arrays(path)?;
            let vars: Vec<VarMeta> = arrays.iter().map(|(m, _)| m.clone()).collect();
            let var = find_variable(&vars, variable).map_err(|e| with_unreadable(e, &unreadable))?;
            let values = |name: &str| read_coordinate(&arrays, name, &var.name);
            Ok(members(&vars, var, options, &values)?.map(|(_, m)| m).unwrap_or_default())
        };
        inner().in_file(path)
    }

    fn open_inner(path: &Path, variable: &str, options: &OpenOptions) -> Result<Self> {
        let (arrays, unreadable) = open_arrays(path)?;
        let vars: Vec<VarMeta> = arrays.iter().map(|(m, _)| m.clone()).collect();
        let var = find_variable(&vars, variable).map_err(|e| with_unreadable(e, &unreadable))?;
        let read_1d = |name: &str| read_coordinate(&arrays, name, &var.name);
        let layout = resolve_layout(&vars, var, options, &read_1d)?;
        let grid = Grid::new(read_1d(&layout.lat_coord)?, read_1d(&layout.lon_coord)?)
            .map_err(|e| e.context(format!("variable `{}`", var.name)))?;
        let (times, calendar) = decode_times(&vars, &layout, options, &read_1d, path)?;
        let array = arrays
            .iter()
            .find(|(m, _)| m.name == var.name)
            .map(|(_, a)| Arc::clone(a))
            .ok_or_else(|| Error::Format(format!("array `{}` vanished", var.name)))?;
        let packing = Packing::from(var, fill_of(&array));
        let info = SourceInfo {
            variable: var.name.clone(),
            units: var.text("units").map(str::to_string),
            long_name: var.text("long_name").map(str::to_string),
            grid: Arc::new(grid),
            times,
            calendar,
            origin: path.display().to_string(),
        };
        let cache = match cache_bytes(&array, &layout) {
            0 => None,
            bytes => Some(ChunkCacheLruSizeLimit::new(Arc::clone(&array), bytes)),
        };
        Ok(ZarrSource { path: path.to_path_buf(), cache, array, layout, packing, info })
    }

    fn read(&self, index: usize) -> Result<Frame> {
        let time = self.info.frame_time(index)?;
        let shape = self.array.shape();
        let mut ranges: Vec<std::ops::Range<u64>> = shape.iter().map(|&n| 0..n).collect();
        if let Some(t) = self.layout.time_dim {
            ranges[t] = index as u64..index as u64 + 1;
        }
        for &(dim, k) in &self.layout.fixed {
            ranges[dim] = k as u64..k as u64 + 1;
        }
        let subset = ArraySubset::new_with_ranges(&ranges);
        let data = match &self.cache {
            Some(cache) => read_cached_f64(cache, &self.array, &subset),
            None => read_f64(&self.array, &subset),
        }
        .map_err(|e| Error::backend(format!("variable `{}`, frame {index}", self.layout.variable), e))?;
        let (nlat, nlon) = (shape[self.layout.lat_dim] as usize, shape[self.layout.lon_dim] as usize);
        let flat: Vec<f64> = data.iter().map(|&v| self.packing.unpack(v)).collect();
        let values = if self.layout.lat_dim < self.layout.lon_dim {
            ArrayD::from_shape_vec(vec![nlat, nlon], flat)
        } else {
            ArrayD::from_shape_vec(vec![nlon, nlat], flat).map(|a| a.reversed_axes().as_standard_layout().into_owned())
        }
        .and_then(|a| a.into_dimensionality::<Ix2>())
        .map_err(|e| Error::backend(format!("variable `{}`: unexpected frame shape", self.layout.variable), e))?;
        Frame::new(Arc::clone(&self.info.grid), time, values)
    }
}

impl FieldSource for ZarrSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        self.read(index).in_file(&self.path)
    }
}

fn array_meta(name: &str, array: &ZArray) -> VarMeta {
    let attrs = array.attributes();
    let dims: Vec<String> = match array.dimension_names() {
        Some(names) if names.iter().all(Option::is_some) => names.iter().flatten().cloned().collect(),
        _ => attrs
            .get("_ARRAY_DIMENSIONS")
            .and_then(|v| v.as_array())
            .map(|v| v.iter().filter_map(|d| d.as_str().map(str::to_string)).collect())
            .unwrap_or_else(|| (0..array.shape().len()).map(|k| format!("{name}_dim{k}")).collect()),
    };
    let attrs = attrs
        .iter()
        .filter_map(|(k, v)| {
            let value = match v {
                serde_json::Value::String(s) => AttrValue::Text(s.clone()),
                serde_json::Value::Number(n) => AttrValue::Numbers(vec![n.as_f64()?]),
                serde_json::Value::Array(items) => {
                    AttrValue::Numbers(items.iter().filter_map(|x| x.as_f64()).collect())
                }
                _ => return None,
            };
            Some((k.clone(), value))
        })
        .collect();
    VarMeta { name: name.to_string(), dims, shape: array.shape().iter().map(|&n| n as usize).collect(), attrs }
}

/// The array's own fill value as a number, if it is one (NaN fills need no
/// masking: NaN stays NaN).
fn fill_of(array: &ZArray) -> Option<f64> {
    let bytes = array.fill_value().as_ne_bytes();
    let dt = array.data_type();
    let v = if *dt == data_type::float32() {
        f64::from(f32::from_ne_bytes(bytes.try_into().ok()?))
    } else if *dt == data_type::float64() {
        f64::from_ne_bytes(bytes.try_into().ok()?)
    } else {
        return None;
    };
    (!v.is_nan()).then_some(v)
}

/// Runs `$read`, an expression in the element type `$t`, with `$t` the
/// array's stored numeric type, and converts the result to f64.
macro_rules! read_as_f64 {
    ($dt:expr, $t:ident => $read:expr) => {{
        let dt: &DataType = $dt;
        let result: std::result::Result<ArrayD<f64>, zarrs::array::ArrayError> = if *dt == data_type::float64() {
            type $t = f64;
            $read
        } else if *dt == data_type::float32() {
            type $t = f32;
            $read.map(|a| a.mapv(f64::from))
        } else if *dt == data_type::int8() {
            type $t = i8;
            $read.map(|a| a.mapv(f64::from))
        } else if *dt == data_type::int16() {
            type $t = i16;
            $read.map(|a| a.mapv(f64::from))
        } else if *dt == data_type::int32() {
            type $t = i32;
            $read.map(|a| a.mapv(f64::from))
        } else if *dt == data_type::int64() {
            type $t = i64;
            $read.map(|a| a.mapv(|v| v as f64))
        } else if *dt == data_type::uint8() {
            type $t = u8;
            $read.map(|a| a.mapv(f64::from))
        } else if *dt == data_type::uint16() {
            type $t = u16;
            $read.map(|a| a.mapv(f64::from))
        } else if *dt == data_type::uint32() {
            type $t = u32;
            $read.map(|a| a.mapv(f64::from))
        } else if *dt == data_type::uint64() {
            type $t = u64;
            $read.map(|a| a.mapv(|v| v as f64))
        } else {
            return Err(format!("unsupported data type {dt:?}"));
        };
        result.map_err(|e| e.to_string())
    }};
}

/// Reads a subset as f64 whatever the stored numeric type.
fn read_f64(array: &ZArray, subset: &ArraySubset) -> std::result::Result<ArrayD<f64>, String> {
    read_as_f64!(array.data_type(), T => array.retrieve_array_subset::<ArrayD<T>>(subset))
}

/// How much decoded chunk data to cache for `layout`'s frames (see
/// [`ZarrSource`]).
fn cache_bytes(array: &ZArray, layout: &Layout) -> u64 {
    let origin = vec![0u64; array.dimensionality()];
    let Ok(shape) = array.chunk_shape(&origin) else { return 0 };
    let points: u64 = shape.iter().map(|n| n.get()).product();
    let bytes = points * array.data_type().fixed_size().unwrap_or(8) as u64;
    let frames_per_chunk = layout.time_dim.map_or(1, |t| shape[t].get());
    if frames_per_chunk > 1 { (CACHED_CHUNKS * bytes).min(CHUNK_CACHE_BYTES) } else { 0 }
}

/// [`read_f64`] through the decoded-chunk cache.
fn read_cached_f64(
    cache: &ChunkCacheLruSizeLimit<ChunkCacheTypeDecoded>,
    array: &ZArray,
    subset: &ArraySubset,
) -> std::result::Result<ArrayD<f64>, String> {
    let options = CodecOptions::default();
    read_as_f64!(array.data_type(), T => cache.retrieve_array_subset::<ArrayD<T>>(subset, &options))
}

/// The arrays of a store, with their CF metadata, and the arrays whose
/// metadata could not be read, with why.
type Arrays = (Vec<(VarMeta, Arc<ZArray>)>, Vec<(String, String)>);

/// A variable that was not found, with the arrays that could not be read:
/// it may be one of them, and the user should know why.
fn with_unreadable(error: Error, unreadable: &[(String, String)]) -> Error {
    if unreadable.is_empty() || !matches!(error, Error::VariableNotFound { .. }) {
        return error;
    }
    let why: Vec<String> = unreadable.iter().map(|(name, e)| format!("`{name}`: {e}")).collect();
    Error::Format(format!("{error}; arrays that could not be read: {}", why.join("; ")))
}

/// Every array of the store at `path`, with its CF metadata. Folders that
/// are no arrays (groups, stray folders) are skipped; arrays whose metadata
/// does not parse are listed apart with the parser's error.
fn open_arrays(path: &Path) -> Result<Arrays> {
    #[cfg(feature = "remote")]
    if crate::remote::is_url_path(path) {
        return open_remote_arrays(&path.to_string_lossy());
    }
    if !path.is_dir() {
        return Err(Error::Io(std::io::Error::new(std::io::ErrorKind::NotFound, "no such Zarr store (a directory)")));
    }
    let store: Arc<dyn ReadableStorageTraits> =
        Arc::new(FilesystemStore::new(path).map_err(|e| Error::backend("cannot open the Zarr store", e))?);
    let mut arrays: Vec<(VarMeta, Arc<ZArray>)> = Vec::new();
    let mut unreadable = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for entry in entries.iter().filter(|p| p.is_dir()) {
        let Some(name) = entry.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        match Array::open(Arc::clone(&store), &format!("/{name}")) {
            Ok(array) => arrays.push((array_meta(&name, &array), Arc::new(array))),
            Err(e) if is_array_folder(entry) => unreadable.push((name, e.to_string())),
            Err(_) => {}
        }
    }
    if arrays.is_empty() {
        let why: Vec<String> = unreadable.iter().map(|(name, e)| format!("`{name}`: {e}")).collect();
        return Err(Error::Format(if why.is_empty() {
            "no Zarr arrays found (expected .zarray or zarr.json files)".into()
        } else {
            format!("no Zarr array could be read: {}", why.join("; "))
        }));
    }
    Ok((arrays, unreadable))
}

/// Every array of the remote store at `url`: named by its consolidated
/// metadata (`.zmetadata`, or the root `zarr.json`'s), else by listing the
/// prefixes under it (S3, GCS; plain HTTP cannot list).
#[cfg(feature = "remote")]
fn open_remote_arrays(url: &str) -> Result<Arrays> {
    let remote = crate::remote::Remote::open(url)?;
    let json = |name: &str| -> Result<Option<serde_json::Value>> {
        match remote.child(name).read_all()? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Format(format!("{url}/{name} is not JSON: {e}"))),
            None => Ok(None),
        }
    };
    let mut names: Vec<String> = Vec::new();
    if let Some(consolidated) = json(".zmetadata")? {
        if let Some(metadata) = consolidated["metadata"].as_object() {
            names.extend(metadata.keys().filter_map(|k| k.strip_suffix("/.zarray")).map(str::to_string));
        }
    } else if let Some(root) = json("zarr.json")?
        && let Some(metadata) = root["consolidated_metadata"]["metadata"].as_object()
    {
        names.extend(
            metadata.iter().filter(|(k, v)| !k.contains('/') && v["node_type"] == "array").map(|(k, _)| k.clone()),
        );
    }
    if names.is_empty() {
        names = remote.list_folders().map_err(|e| {
            Error::Format(format!(
                "{e}; a Zarr store over plain HTTP needs consolidated metadata (.zmetadata, or zarr.json's \
                 consolidated_metadata) to find its arrays"
            ))
        })?;
    }
    names.sort();
    names.dedup();
    let store = crate::remote::zarr_store(&remote)?;
    let mut arrays: Vec<(VarMeta, Arc<ZArray>)> = Vec::new();
    let mut unreadable = Vec::new();
    for name in names {
        match Array::open(Arc::clone(&store), &format!("/{name}")) {
            Ok(array) => arrays.push((array_meta(&name, &array), Arc::new(array))),
            Err(e) => unreadable.push((name, e.to_string())),
        }
    }
    if arrays.is_empty() {
        let why: Vec<String> = unreadable.iter().map(|(name, e)| format!("`{name}`: {e}")).collect();
        return Err(Error::Format(format!("{url}: no Zarr array could be read ({})", why.join("; "))));
    }
    Ok((arrays, unreadable))
}

/// Whether a folder holds array metadata (`.zarray`, or a `zarr.json` that
/// is no group's).
fn is_array_folder(folder: &Path) -> bool {
    let group =
        |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| v["node_type"] == "group");
    folder.join(".zarray").is_file() || std::fs::read(folder.join("zarr.json")).is_ok_and(|bytes| !group(&bytes))
}

/// The values of the 1-D array `name`, a coordinate of `of`, scaled but
/// never masked (coordinates have no missing values; see
/// [`Packing::coordinate`]). Its declared length is checked first.
fn read_coordinate(arrays: &[(VarMeta, Arc<ZArray>)], name: &str, of: &str) -> Result<Vec<f64>> {
    let (meta, array) = arrays
        .iter()
        .find(|(m, _)| m.name == name)
        .ok_or_else(|| Error::Format(format!("coordinate `{name}` of `{of}` is missing")))?;
    match array.shape() {
        [len] if *len as usize <= MAX_AXIS_POINTS => {}
        shape => {
            return Err(Error::Format(format!(
                "coordinate `{name}` of `{of}` has shape {shape:?}; a coordinate is one axis of at most \
                 {MAX_AXIS_POINTS} values"
            )));
        }
    }
    let values = read_f64(array, &ArraySubset::new_with_shape(array.shape().to_vec()))
        .map_err(|e| Error::backend(format!("cannot read coordinate `{name}`"), e))?;
    let packing = Packing::coordinate(meta);
    Ok(values.iter().map(|&v| packing.unpack(v)).collect())
}
