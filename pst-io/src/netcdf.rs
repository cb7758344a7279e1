//! netCDF input (classic CDF-1/2/5 and netCDF-4/HDF5), pure Rust.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{Array2, ArrayD, Ix2};
use netcdf_reader::{NcAttrValue, NcFile, NcOpenOptions, NcSliceInfo, NcSliceInfoElem, NcType};
use pst_core::{Error, FieldSource, Frame, Grid, Result, ResultExt, SourceInfo};

use crate::cf::{
    AttrValue, Layout, OpenOptions, Packing, VarMeta, decode_times, find_variable, members, resolve_layout,
};

/// A variable of a netCDF file, streamed one frame at a time.
///
/// Opening reads metadata and coordinates only. Each
/// [`FieldSource::read_frame`] reads one time step (decompressing only the
/// chunks it touches, which the reader caches), applies `scale_factor` and
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
    file: NcFile,
    path: PathBuf,
    layout: Layout,
    ndim: usize,
    dtype: NcType,
    packing: Packing,
    info: SourceInfo,
}

impl std::fmt::Debug for NetcdfSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetcdfSource").field("path", &self.path).field("layout", &self.layout).finish_non_exhaustive()
    }
}

/// The netCDF-4 chunk cache: big enough for a chunk holding a whole 2.5°
/// season (ERA5's DJF file: 15 MB), small enough that files chunked frame
/// by frame at 0.25° keep memory near one frame per reading thread.
const CHUNK_CACHE_BYTES: usize = 16 << 20;

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
        let options_nc = NcOpenOptions {
            filter_registry: Some(crate::hdf5_filters::fast_filters()),
            chunk_cache_bytes: CHUNK_CACHE_BYTES,
            ..Default::default()
        };
        let file = open_file(path, options_nc)?;
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
        Ok(NetcdfSource { ndim: var.dims.len(), dtype, packing, file, path: path.to_path_buf(), layout, info })
    }

    fn read(&self, index: usize) -> Result<Frame> {
        let time = self.info.frame_time(index)?;
        let mut selections = vec![NcSliceInfoElem::Slice { start: 0, end: u64::MAX, step: 1 }; self.ndim];
        if let Some(t) = self.layout.time_dim {
            selections[t] = NcSliceInfoElem::Index(index as u64);
        }
        for &(dim, k) in &self.layout.fixed {
            selections[dim] = NcSliceInfoElem::Index(k as u64);
        }
        let selection = NcSliceInfo { selections };
        let data = self
            .read_unpacked(&selection)
            .map_err(|e| Error::backend(format!("variable `{}`, frame {index}", self.layout.variable), e))?;
        let data: Array2<f64> = data
            .into_dimensionality::<Ix2>()
            .map_err(|e| Error::backend(format!("variable `{}`: unexpected frame shape", self.layout.variable), e))?;
        // Frames are [latitude, longitude]; some files store [longitude, latitude].
        let values = if self.layout.lat_dim > self.layout.lon_dim {
            data.reversed_axes().as_standard_layout().into_owned()
        } else {
            data
        };
        Frame::new(Arc::clone(&self.info.grid), time, values)
    }
}

impl NetcdfSource {
    /// Reads a selection in its stored type and unpacks it in one pass.
    fn read_unpacked(&self, selection: &NcSliceInfo) -> std::result::Result<ArrayD<f64>, netcdf_reader::Error> {
        let name = &self.layout.variable;
        let p = &self.packing;
        let plain = p.is_plain();
        macro_rules! typed {
            ($t:ty) => {
                self.file
                    .read_variable_slice::<$t>(name, selection)
                    .map(|a| if plain { a.mapv(|v| v as f64) } else { a.mapv(|v| p.unpack(v as f64)) })
            };
        }
        match self.dtype {
            NcType::Float => typed!(f32),
            NcType::Double => typed!(f64),
            NcType::Short => typed!(i16),
            NcType::Int => typed!(i32),
            NcType::Byte => typed!(i8),
            NcType::UByte => typed!(u8),
            NcType::UShort => typed!(u16),
            NcType::UInt => typed!(u32),
            NcType::Int64 => typed!(i64),
            NcType::UInt64 => typed!(u64),
            // Anything else goes through the reader's own conversion.
            _ => self.file.read_variable_slice_unpacked_masked(name, selection),
        }
    }
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
    #[cfg(feature = "remote")]
    if is_remote(path) {
        let storage = crate::remote::netcdf_storage(&path.to_string_lossy())?;
        return NcFile::from_storage_with_options(storage, options).map_err(nc_error);
    }
    let storage = netcdf_reader::FileStorage::open(path).map_err(|e| Error::backend("cannot open the file", e))?;
    NcFile::from_storage_with_options(Arc::new(storage), options).map_err(nc_error)
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
