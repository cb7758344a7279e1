//! netCDF input (classic CDF-1/2/5 and netCDF-4/HDF5), pure Rust.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use netcdf_reader::{DynStorage, NcAttrValue, NcFile, NcOpenOptions, NcSliceInfo, NcSliceInfoElem, NcType};
use pst_core::{Error, FieldSource, Frame, Grid, Result, ResultExt, SourceInfo};

use crate::cf::{
    AttrValue, Layout, OpenOptions, Packing, VarMeta, decode_times, find_variable, members, resolve_layout,
};
use crate::slab::{FrameReader, ReadFrames, Stored, frame_major, frames_text};

/// A variable of a netCDF file, streamed one frame at a time.
///
/// Opening reads metadata and coordinates only. Each
/// [`FieldSource::read_frame`] reads one time step (decompressing only the
/// chunks it touches; when a chunk holds several time steps, the frames of a
/// whole row of chunks are decoded together and the last few such slabs
/// kept, at most
/// [`OpenOptions::chunk_cache_bytes`](OpenOptions#structfield.chunk_cache_bytes),
/// so each chunk is decompressed once), applies `scale_factor` and
/// `add_offset`, and turns `_FillValue`/`missing_value` into NaN. Latitude
/// may run either way and longitudes may use either convention; a
/// length-one dimension (such as ERA5's `pressure_level`) is squeezed, a
/// longer level dimension needs [`OpenOptions::level`].
///
/// ```no_run
/// use pst_core::FieldSource;
/// use pst_io::{NetcdfSource, OpenOptions};
/// let source = NetcdfSource::open("era5_msl_2025-12_2.5x2.5.nc", "msl", &OpenOptions::default())?;
/// println!("{} frames of {} on a {:?} grid", source.len(), source.info().variable, source.info().grid.shape());
/// let first = source.read_frame(0)?;
/// # Ok::<(), pst_core::Error>(())
/// ```
pub struct NetcdfSource {
    path: PathBuf,
    layout: Layout,
    packing: Packing,
    info: SourceInfo,
    /// Reads frames, through time slabs when a chunk holds several.
    frames: FrameReader,
}

impl std::fmt::Debug for NetcdfSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetcdfSource").field("path", &self.path).field("layout", &self.layout).finish_non_exhaustive()
    }
}

/// The reader's own chunk cache: none, since frames are read whole (a
/// chunk holding one time step is used once) or through [`SlabCache`].
const CHUNK_CACHE_BYTES: usize = 0;

impl NetcdfSource {
    /// Opens `variable` in the netCDF file at `path`.
    pub fn open(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Self> {
        let path = path.as_ref();
        Self::open_inner(path, variable, options).in_file(path)
    }

    /// The ensemble members of `variable` in the netCDF file at `path`: the
    /// values of its member dimension (see [`OpenOptions::member_dim`]),
    /// empty when it has none.
    pub fn members(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Vec<u32>> {
        let path = path.as_ref();
        let inner = || -> Result<Vec<u32>> {
            let file = open_file(path, NcOpenOptions::default())?;
            let vars: Vec<VarMeta> = file.variables().map_err(nc_error)?.iter().map(var_meta).collect();
            let var = find_variable(&vars, variable)?;
            let values =
                |dim: &str| file.read_variable_as_f64(dim).map(|a| a.iter().copied().collect()).map_err(nc_error);
            Ok(members(&vars, var, options, &values)?.map(|(_, m)| m).unwrap_or_default())
        };
        inner().in_file(path)
    }

    fn open_inner(path: &Path, variable: &str, options: &OpenOptions) -> Result<Self> {
        if !path.exists() && !is_remote(path) {
            return Err(Error::Io(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory")));
        }
        // A chunk is decoded whole: chunks up to the slab cache's limit are
        // allowed, beyond the reader's own default if need be.
        let max_chunk_bytes = hdf5_reader::DEFAULT_MAX_CHUNK_BYTES
            .max(usize::try_from(options.chunk_cache_limit()).unwrap_or(usize::MAX));
        let options_nc = NcOpenOptions {
            filter_registry: Some(crate::hdf5_filters::fast_filters(max_chunk_bytes)),
            chunk_cache_bytes: CHUNK_CACHE_BYTES,
            max_chunk_bytes,
            ..Default::default()
        };
        let storage = open_storage(path)?;
        let file = NcFile::from_storage_with_options(Arc::clone(&storage), options_nc).map_err(nc_error)?;
        let vars: Vec<VarMeta> = file.variables().map_err(nc_error)?.iter().map(var_meta).collect();
        let var = find_variable(&vars, variable)?;
        let level_values =
            |dim: &str| file.read_variable_as_f64(dim).map(|a| a.iter().copied().collect()).map_err(nc_error);
        let layout = resolve_layout(&vars, var, options, &level_values)?;
        let read_axis = |name: &str, what: &str| -> Result<Vec<f64>> {
            file.read_variable_as_f64(name)
                .map(|a| a.iter().copied().collect())
                .map_err(|e| Error::backend(format!("cannot read the {what} coordinate `{name}` of `{}`", var.name), e))
        };
        let lats = read_axis(&layout.lat_coord, "latitude")?;
        let lons = read_axis(&layout.lon_coord, "longitude")?;
        let grid = Arc::new(Grid::new(lats, lons).map_err(|e| e.context(format!("variable `{}`", var.name)))?);

        let (times, calendar) = decode_times(&vars, &layout, options, &|name| read_axis(name, "time"), path)?;
        let info = SourceInfo {
            variable: var.name.clone(),
            units: var.text("units").map(str::to_string),
            long_name: var.text("long_name").map(str::to_string),
            grid,
            times,
            calendar,
            origin: path.display().to_string(),
        };
        let dtype = file.variable(&var.name).map_err(nc_error)?.dtype().clone();
        let packing = Packing::from(var, None);
        let frame_bytes = {
            let (nlat, nlon) = info.grid.shape();
            (nlat * nlon * stored_size(&dtype)) as u64
        };
        let chunking = chunking(&storage, &var.name);
        let per_chunk = layout.time_dim.and_then(|t| Some(*chunking.as_ref()?.chunk_shape.get(t)? as usize));
        // The whole variable in one slab is its one chunk as decoded, when
        // that holds the frames as they are read.
        let frames_in_variable = info.times.len().max(1);
        let whole_chunk_bytes = chunking
            .filter(|c| c.one_native_f32_chunk && layout.is_frame_major())
            .map(|_| frame_bytes * frames_in_variable as u64);
        let read_frames: ReadFrames = {
            let (layout, ndim) = (layout.clone(), var.dims.len());
            Arc::new(move |frames: std::ops::Range<usize>| {
                let whole = whole_chunk_bytes.filter(|_| frames == (0..frames_in_variable));
                whole
                    .and_then(|bytes| read_one_chunk(&file, &layout.variable, bytes).transpose())
                    .unwrap_or_else(|| read_stored(&file, &dtype, &layout, ndim, &frames))
                    .map_err(|e| Error::backend(format!("variable `{}`, {}", layout.variable, frames_text(&frames)), e))
            })
        };
        let frames =
            FrameReader::new(read_frames, info.times.len(), per_chunk, frame_bytes, options.chunk_cache_limit());
        Ok(NetcdfSource { packing, path: path.to_path_buf(), layout, info, frames })
    }

    fn read(&self, index: usize) -> Result<Frame> {
        self.frames.frame(index, &self.info, &self.packing, &self.layout.variable)
    }
}

/// Reads `frames` of `layout`'s variable (of `ndim` dimensions, stored as
/// `dtype`) in their stored type, `[frame][latitude][longitude]`.
// One conversion serves every stored type, so for some it is the identity.
#[allow(clippy::unnecessary_cast)]
fn read_stored(
    file: &NcFile,
    dtype: &NcType,
    layout: &Layout,
    ndim: usize,
    frames: &std::ops::Range<usize>,
) -> std::result::Result<Stored, netcdf_reader::Error> {
    // Every dimension kept (length one where an index is chosen), so the
    // layout's positions hold in the result.
    let mut selections = vec![NcSliceInfoElem::Slice { start: 0, end: u64::MAX, step: 1 }; ndim];
    if let Some(t) = layout.time_dim {
        selections[t] = NcSliceInfoElem::Slice { start: frames.start as u64, end: frames.end as u64, step: 1 };
    }
    for &(dim, k) in &layout.fixed {
        selections[dim] = NcSliceInfoElem::Slice { start: k as u64, end: k as u64 + 1, step: 1 };
    }
    let selection = NcSliceInfo { selections };
    let name = &layout.variable;
    macro_rules! typed {
        ($t:ty, $variant:ident, $into:ty) => {
            file.read_variable_slice::<$t>(name, &selection)
                .map(|a| Stored::$variant(frame_major(a, layout).into_iter().map(|v| v as $into).collect()))
        };
    }
    match dtype {
        NcType::Float => typed!(f32, F32, f32),
        NcType::Double => typed!(f64, F64, f64),
        NcType::Short => typed!(i16, F32, f32),
        NcType::Int => typed!(i32, F64, f64),
        NcType::Byte => typed!(i8, F32, f32),
        NcType::UByte => typed!(u8, F32, f32),
        NcType::UShort => typed!(u16, F32, f32),
        NcType::UInt => typed!(u32, F64, f64),
        NcType::Int64 => typed!(i64, F64, f64),
        NcType::UInt64 => typed!(u64, F64, f64),
        other => Err(netcdf_reader::Error::TypeMismatch {
            expected: "a numeric variable".to_string(),
            actual: format!("{other:?}"),
        }),
    }
}

/// Bytes a stored value takes in a [`Stored`] slab.
fn stored_size(dtype: &NcType) -> usize {
    match dtype {
        NcType::Float | NcType::Short | NcType::Byte | NcType::UByte | NcType::UShort => 4,
        _ => 8,
    }
}

/// How a netCDF-4 variable is chunked.
struct Chunking {
    /// A chunk's shape, dimension by dimension.
    chunk_shape: Vec<u32>,
    /// Whether the variable is one chunk of its own shape, of little-endian
    /// 32-bit floats, on a little-endian machine: that chunk, decoded, is
    /// then the variable's values in order (see [`read_one_chunk`]).
    one_native_f32_chunk: bool,
}

/// How the netCDF-4 variable `name` is chunked; `None` for classic files
/// and contiguous variables.
fn chunking(storage: &DynStorage, name: &str) -> Option<Chunking> {
    let dataset = hdf5_reader::Hdf5File::from_storage(Arc::clone(storage)).ok()?.dataset(name).ok()?;
    let chunk_shape = dataset.chunks()?;
    let shape = dataset.shape();
    let one_chunk = chunk_shape.len() == shape.len() && chunk_shape.iter().zip(shape).all(|(&c, &n)| u64::from(c) == n);
    let native_f32 = cfg!(target_endian = "little")
        && matches!(
            dataset.dtype(),
            hdf5_reader::Datatype::FloatingPoint { size: 4, byte_order: hdf5_reader::ByteOrder::LittleEndian }
        );
    Some(Chunking { chunk_shape, one_native_f32_chunk: one_chunk && native_f32 })
}

/// The variable `name`, one chunk of native `f32` (see
/// [`Chunking::one_native_f32_chunk`]) that should hold `bytes`, as its
/// decoded chunk; `None` when the chunk is not that size (it holds more
/// than the slab, say the other levels of a variable read at one level, or
/// it is damaged): the slab is then read the general way, which selects
/// what it needs or reports what is wrong.
fn read_one_chunk(file: &NcFile, name: &str, bytes: u64) -> std::result::Result<Option<Stored>, netcdf_reader::Error> {
    let Some(chunk) = file.iter_variable_chunks(name)?.next().transpose()? else { return Ok(None) };
    Ok((chunk.bytes().len() as u64 == bytes && chunk.offsets().iter().all(|&o| o == 0))
        .then_some(Stored::F32Chunk(chunk)))
}

impl FieldSource for NetcdfSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        self.read(index).in_file(&self.path)
    }
}

/// Opens a netCDF file through positioned reads, classic files included:
/// `NcFile::open` memory-maps classic files, and a file truncated while it
/// is mapped kills the process with SIGBUS; read this way, it is an error.
fn open_file(path: &Path, options: NcOpenOptions) -> Result<NcFile> {
    NcFile::from_storage_with_options(open_storage(path)?, options).map_err(nc_error)
}

/// The bytes of the file (or URL) at `path`.
fn open_storage(path: &Path) -> Result<DynStorage> {
    #[cfg(feature = "remote")]
    if is_remote(path) {
        return crate::remote::netcdf_storage(&path.to_string_lossy());
    }
    let storage = netcdf_reader::FileStorage::open(path).map_err(|e| Error::backend("cannot open the file", e))?;
    Ok(Arc::new(storage))
}

/// Whether `path` is a URL read remotely (feature `remote`).
fn is_remote(path: &Path) -> bool {
    #[cfg(feature = "remote")]
    return crate::remote::is_url_path(path);
    #[cfg(not(feature = "remote"))]
    {
        let _ = path;
        false
    }
}

fn nc_error(e: netcdf_reader::Error) -> Error {
    Error::backend("not a readable netCDF file", e)
}

fn var_meta(v: &netcdf_reader::NcVariable) -> VarMeta {
    let attrs = v
        .attributes()
        .iter()
        .filter_map(|a| {
            let value = match &a.value {
                NcAttrValue::Chars(_) | NcAttrValue::Strings(_) => AttrValue::Text(a.value.as_string()?),
                other => AttrValue::Numbers(other.as_f64_vec()?),
            };
            Some((a.name.clone(), value))
        })
        .collect();
    VarMeta {
        name: v.name().to_string(),
        dims: v.dimensions().iter().map(|d| d.name.clone()).collect(),
        shape: v.dimensions().iter().map(|d| d.size as usize).collect(),
        attrs,
    }
}
