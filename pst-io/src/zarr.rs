//! Zarr input (v2 and v3, including sharding, blosc, zstd and gzip), via `zarrs`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::ArrayD;
use pst_core::{Error, FieldSource, Frame, Grid, MAX_AXIS_POINTS, Result, ResultExt, SourceInfo};
use zarrs::array::{Array, ArrayBytes, ArraySubset, DataType, data_type};
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::ReadableStorageTraits;

use crate::cf::{
    AttrValue, Layout, OpenOptions, Packing, VarMeta, decode_times, find_variable, members, resolve_layout,
};
use crate::slab::{FrameReader, ReadFrames, Stored, frame_major, frames_text};

type ZArray = Array<dyn ReadableStorageTraits>;

/// A variable of a Zarr store (a directory, v2 or v3), streamed one frame at
/// a time, with the same CF handling as [`crate::NetcdfSource`]: dimension
/// names from `_ARRAY_DIMENSIONS` (v2) or `dimension_names` (v3), fill
/// values as NaN, `scale_factor`/`add_offset`, CF time, level selection.
/// When a chunk holds several time steps, the frames of a whole row of
/// chunks are decoded together and the last few such slabs kept (at most
/// [`OpenOptions::chunk_cache_bytes`](OpenOptions#structfield.chunk_cache_bytes)),
/// so each chunk is decompressed once, not once per frame; with one time
/// step per chunk (whole frames or spatial tiles) nothing is kept, and memory
/// stays one frame per reading thread.
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
    /// Reads frames, through time slabs when a chunk holds several.
    frames: FrameReader,
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
        let read: ReadFrames = {
            let (array, layout) = (Arc::clone(&array), layout.clone());
            Arc::new(move |frames: std::ops::Range<usize>| {
                read_stored(&array, &subset(&array, &layout, &frames), &layout)
                    .map_err(|e| Error::backend(format!("variable `{}`, {}", layout.variable, frames_text(&frames)), e))
            })
        };
        let (nlat, nlon) = info.grid.shape();
        let frame_bytes = (nlat * nlon * stored_size(array.data_type())) as u64;
        let per_chunk = frames_per_chunk(&array, &layout);
        let frames = FrameReader::new(read, info.times.len(), per_chunk, frame_bytes, options.chunk_cache_limit());
        Ok(ZarrSource { path: path.to_path_buf(), frames, layout, packing, info })
    }

    fn read(&self, index: usize) -> Result<Frame> {
        self.frames.frame(index, &self.info, &self.packing, &self.layout.variable)
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
/// array's stored numeric type, and converts the result with `$f32` (types
/// exact in f32) or `$f64` (the rest).
macro_rules! read_as {
    ($dt:expr, $t:ident => $read:expr, $f32:expr, $f64:expr) => {{
        let dt: &DataType = $dt;
        let result: std::result::Result<Stored, zarrs::array::ArrayError> = if *dt == data_type::float64() {
            type $t = f64;
            $read.map(|a| Stored::F64($f64(a)))
        } else if *dt == data_type::float32() {
            type $t = f32;
            $read.map(|a| Stored::F32($f32(a)))
        } else if *dt == data_type::int8() {
            type $t = i8;
            $read.map(|a| Stored::F32($f32(a)))
        } else if *dt == data_type::int16() {
            type $t = i16;
            $read.map(|a| Stored::F32($f32(a)))
        } else if *dt == data_type::int32() {
            type $t = i32;
            $read.map(|a| Stored::F64($f64(a)))
        } else if *dt == data_type::int64() {
            type $t = i64;
            $read.map(|a| Stored::F64($f64(a)))
        } else if *dt == data_type::uint8() {
            type $t = u8;
            $read.map(|a| Stored::F32($f32(a)))
        } else if *dt == data_type::uint16() {
            type $t = u16;
            $read.map(|a| Stored::F32($f32(a)))
        } else if *dt == data_type::uint32() {
            type $t = u32;
            $read.map(|a| Stored::F64($f64(a)))
        } else if *dt == data_type::uint64() {
            type $t = u64;
            $read.map(|a| Stored::F64($f64(a)))
        } else {
            return Err(format!("unsupported data type {dt:?}"));
        };
        result.map_err(|e| e.to_string())
    }};
}

/// The selection of `frames`: every latitude and longitude, the chosen index
/// of every other dimension.
fn subset(array: &ZArray, layout: &Layout, frames: &std::ops::Range<usize>) -> ArraySubset {
    let mut ranges: Vec<std::ops::Range<u64>> = array.shape().iter().map(|&n| 0..n).collect();
    if let Some(t) = layout.time_dim {
        ranges[t] = frames.start as u64..frames.end as u64;
    }
    for &(dim, k) in &layout.fixed {
        ranges[dim] = k as u64..k as u64 + 1;
    }
    ArraySubset::new_with_ranges(&ranges)
}

/// Bytes a stored value takes in a [`Stored`] slab.
fn stored_size(dt: &DataType) -> usize {
    let exact_in_f32 =
        [data_type::float32(), data_type::int8(), data_type::int16(), data_type::uint8(), data_type::uint16()];
    if exact_in_f32.contains(dt) { 4 } else { 8 }
}

/// Reads a subset of frames, `[frame][latitude][longitude]`, in a type that
/// holds the stored values exactly.
// One conversion serves every stored type, so for some it is the identity.
#[allow(clippy::unnecessary_cast)]
fn read_stored(array: &ZArray, subset: &ArraySubset, layout: &Layout) -> std::result::Result<Stored, String> {
    // Floats stored frame-major are kept as the decoder's bytes: a typed
    // copy would be another buffer of the slab's size, fresh memory on
    // every read.
    let dt = array.data_type();
    let (is_f32, is_f64) = (*dt == data_type::float32(), *dt == data_type::float64());
    if (is_f32 || is_f64) && layout.is_frame_major() {
        let bytes = array
            .retrieve_array_subset::<ArrayBytes<'static>>(subset)
            .map_err(|e| e.to_string())?
            .into_fixed()
            .map_err(|e| e.to_string())?
            .into_owned();
        return Ok(if is_f32 { Stored::F32Bytes(bytes) } else { Stored::F64Bytes(bytes) });
    }
    read_as!(
        array.data_type(),
        T => array.retrieve_array_subset::<ArrayD<T>>(subset),
        |a: ArrayD<T>| frame_major(a, layout).into_iter().map(|v| v as f32).collect::<Vec<f32>>(),
        |a: ArrayD<T>| frame_major(a, layout).into_iter().map(|v| v as f64).collect::<Vec<f64>>()
    )
}

/// Reads a whole coordinate array as f64.
// One conversion serves every stored type, so for some it is the identity.
#[allow(clippy::unnecessary_cast)]
fn read_f64(array: &ZArray, subset: &ArraySubset) -> std::result::Result<Vec<f64>, String> {
    read_as!(
        array.data_type(),
        T => array.retrieve_array_subset::<ArrayD<T>>(subset),
        |a: ArrayD<T>| a.iter().map(|&v| v as f32).collect::<Vec<f32>>(),
        |a: ArrayD<T>| a.iter().map(|&v| v as f64).collect::<Vec<f64>>()
    )
    .map(Stored::into_f64)
}

/// Time steps a chunk holds, when the variable has a time dimension.
fn frames_per_chunk(array: &ZArray, layout: &Layout) -> Option<usize> {
    let t = layout.time_dim?;
    let shape = array.chunk_shape(&vec![0u64; array.dimensionality()]).ok()?;
    usize::try_from(shape[t].get()).ok()
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
