//! CF conventions, independent of the file format: which variable, which
//! dimension is latitude, longitude, time or level, and how a frame is cut
//! out of the variable.

// Each gridded reader uses its part of these helpers; with some readers
// left out, the others go unused.
#![cfg_attr(not(all(feature = "netcdf", feature = "zarr", feature = "grib")), allow(dead_code))]

use std::collections::BTreeMap;
use std::path::Path;

use pst_core::{Calendar, CfTimeUnits, Error, MAX_AXIS_POINTS, MAX_FRAME_POINTS, Result, Timestamp, standard_variable};

/// The most decoded chunk data a netCDF-4 or Zarr source keeps by default,
/// in bytes (1 GiB): two time slabs of a 0.25° file chunked by 100 time steps
/// (415 MB each as float32). Change it with
/// [`OpenOptions::chunk_cache_bytes`](OpenOptions#structfield.chunk_cache_bytes).
pub const DEFAULT_CHUNK_CACHE_BYTES: u64 = 1 << 30;

/// Choices a user makes when opening gridded input: read its fields, set
/// them with the setters of the same names.
///
/// ```
/// use pst_io::OpenOptions;
/// let options = OpenOptions::default().level(850.0).member(3);
/// assert_eq!((options.level, options.member), (Some(850.0), Some(3)));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct OpenOptions {
    /// The vertical level to track (e.g. 850 for 850 hPa), when the variable
    /// has a level dimension longer than one.
    pub level: Option<f64>,
    /// CF time units to use when the time coordinate has none (e.g.
    /// `hours since 1996-01-05 00:00`).
    pub time_units: Option<String>,
    /// Calendar to use when the time coordinate names none.
    pub calendar: Option<String>,
    /// The ensemble member to read from a file that holds several: the
    /// value of the member coordinate (`number`, `member`, `realization`, …,
    /// or its index when it has no coordinate variable), or GRIB's
    /// perturbation number.
    pub member: Option<u32>,
    /// The name of the member dimension, when it is not one of the usual
    /// ones (`number`, `member`, `realization`, `ensemble`, `ens`,
    /// `member_id`).
    pub member_dim: Option<String>,
    /// The most decoded chunk data, in bytes, a netCDF-4 or Zarr source
    /// keeps when a chunk holds several time steps, so that each chunk is
    /// decoded once rather than once per frame (default
    /// [`DEFAULT_CHUNK_CACHE_BYTES`](DEFAULT_CHUNK_CACHE_BYTES), 1 GiB).
    /// When the time steps of one row of chunks do not fit, frames are read
    /// one at a time, each decoding its chunks: memory stays bounded, reading
    /// is slower.
    pub chunk_cache_bytes: Option<u64>,
}

impl OpenOptions {
    /// The vertical level to track, in the level coordinate's units.
    pub fn level(mut self, level: f64) -> Self {
        self.level = Some(level);
        self
    }

    /// CF time units for a time coordinate without them.
    pub fn time_units(mut self, units: impl Into<String>) -> Self {
        self.time_units = Some(units.into());
        self
    }

    /// The calendar for a time coordinate that names none.
    pub fn calendar(mut self, calendar: impl Into<String>) -> Self {
        self.calendar = Some(calendar.into());
        self
    }

    /// The ensemble member to read.
    pub fn member(mut self, member: u32) -> Self {
        self.member = Some(member);
        self
    }

    /// The member dimension's name.
    pub fn member_dim(mut self, name: impl Into<String>) -> Self {
        self.member_dim = Some(name.into());
        self
    }

    /// The most decoded chunk data to keep, in bytes (see
    /// [`OpenOptions::chunk_cache_bytes`](#structfield.chunk_cache_bytes)).
    pub fn chunk_cache_bytes(mut self, bytes: u64) -> Self {
        self.chunk_cache_bytes = Some(bytes);
        self
    }

    /// The chunk cache limit in effect.
    #[cfg_attr(not(any(feature = "netcdf", feature = "zarr")), allow(dead_code))]
    pub(crate) fn chunk_cache_limit(&self) -> u64 {
        self.chunk_cache_bytes.unwrap_or(DEFAULT_CHUNK_CACHE_BYTES)
    }
}

/// The frame times of a layout, with their calendar: its time coordinate
/// decoded (with [`OpenOptions::time_units`]/[`OpenOptions::calendar`] where
/// the file gives none) and checked to increase strictly; for a file with
/// no time axis, one frame at the time in its name.
pub(crate) fn decode_times(
    vars: &[VarMeta],
    layout: &Layout,
    options: &OpenOptions,
    read: &dyn Fn(&str) -> Result<Vec<f64>>,
    path: &Path,
) -> Result<(Vec<Timestamp>, Calendar)> {
    let Some(name) = &layout.time_coord else {
        return Ok((vec![time_from_file_name(path)], Calendar::ProlepticGregorian));
    };
    let coord = vars.iter().find(|v| &v.name == name);
    let units = coord.and_then(|c| c.text("units")).map(str::to_string).or_else(|| options.time_units.clone());
    let units = units.ok_or_else(|| {
        Error::Format(format!(
            "time coordinate `{name}` has no units; give them with --time-units (e.g. \"hours since 1996-01-05 00:00\")"
        ))
    })?;
    let calendar = coord.and_then(|c| c.text("calendar")).map(str::to_string).or_else(|| options.calendar.clone());
    let cf = CfTimeUnits::parse(&units, calendar.as_deref())
        .map_err(|e| Error::Format(format!("time coordinate `{name}`: {e}")))?;
    let times = read(name)?.iter().map(|&v| cf.decode(v)).collect::<Result<Vec<_>>>()?;
    if let Some(k) = times.windows(2).position(|w| w[1] <= w[0]) {
        return Err(Error::Format(format!(
            "time coordinate `{name}` is not strictly increasing: {} follows {} at index {}",
            times[k + 1],
            times[k],
            k + 1
        )));
    }
    Ok((times, cf.calendar()))
}

/// The valid time of a file without a time axis: a `YYYYMMDDHH` stamp in
/// its name (as in `era5_msl_2025120100_0.25x0.25.nc`), else 1970-01-01.
fn time_from_file_name(path: &Path) -> Timestamp {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|token| token.len() == 10)
        .find_map(|token| token.parse::<Timestamp>().ok())
        .unwrap_or_else(|| Calendar::ProlepticGregorian.from_millis(0))
}

/// An attribute value, as far as CF needs it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttrValue {
    Text(String),
    Numbers(Vec<f64>),
}

/// What CF needs to know of one variable of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VarMeta {
    pub name: String,
    pub dims: Vec<String>,
    pub shape: Vec<usize>,
    pub attrs: BTreeMap<String, AttrValue>,
}

impl VarMeta {
    pub(crate) fn text(&self, key: &str) -> Option<&str> {
        match self.attrs.get(key) {
            Some(AttrValue::Text(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    fn text_lower(&self, key: &str) -> String {
        self.text(key).unwrap_or("").trim().to_ascii_lowercase()
    }
}

/// CF unpacking of stored values: fills (`_FillValue`, `missing_value`, the
/// format's own fill) and values outside `valid_min`/`valid_max`/
/// `valid_range` become NaN, the rest `v · scale_factor + add_offset`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Packing {
    fills: Vec<f64>,
    valid: (f64, f64),
    scale: f64,
    offset: f64,
}

impl Packing {
    /// The packing of a coordinate variable: scale and offset only, since
    /// coordinates are not data and have no missing values (a Zarr array's
    /// default fill value of 0 must not erase the equator).
    pub(crate) fn coordinate(meta: &VarMeta) -> Self {
        let Packing { scale, offset, .. } = Packing::from(meta, None);
        Packing { fills: Vec::new(), valid: (f64::NEG_INFINITY, f64::INFINITY), scale, offset }
    }

    /// The packing a variable's attributes describe; `format_fill` is the
    /// storage format's own fill value, if it has one.
    pub(crate) fn from(meta: &VarMeta, format_fill: Option<f64>) -> Self {
        let numbers = |key: &str| match meta.attrs.get(key) {
            Some(AttrValue::Numbers(v)) => v.clone(),
            _ => Vec::new(),
        };
        let mut fills: Vec<f64> = format_fill.into_iter().collect();
        fills.extend(numbers("_FillValue"));
        fills.extend(numbers("missing_value"));
        let range = numbers("valid_range");
        let lo = numbers("valid_min").first().copied().or(range.first().copied()).unwrap_or(f64::NEG_INFINITY);
        let hi = numbers("valid_max").first().copied().or(range.get(1).copied()).unwrap_or(f64::INFINITY);
        Packing {
            fills,
            valid: (lo, hi),
            scale: numbers("scale_factor").first().copied().unwrap_or(1.0),
            offset: numbers("add_offset").first().copied().unwrap_or(0.0),
        }
    }

    /// Whether unpacking only converts: no scale or offset, no valid range,
    /// and no fill other than NaN (which stays NaN anyway).
    pub(crate) fn is_plain(&self) -> bool {
        self.fills.iter().all(|f| f.is_nan())
            && self.valid == (f64::NEG_INFINITY, f64::INFINITY)
            && self.scale == 1.0
            && self.offset == 0.0
    }

    /// The physical value of a stored one.
    #[inline]
    pub(crate) fn unpack(&self, stored: f64) -> f64 {
        if stored.is_nan() || self.fills.contains(&stored) || stored < self.valid.0 || stored > self.valid.1 {
            f64::NAN
        } else {
            stored * self.scale + self.offset
        }
    }
}

/// The role of a dimension of the tracked variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axis {
    Lat,
    Lon,
    Time,
    Level,
    Member,
    Other,
}

/// How to read frames of one variable: where each axis is and which index
/// of every other dimension to take.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    /// The data variable's name in the file.
    pub variable: String,
    /// Position of the latitude and longitude dimensions.
    pub lat_dim: usize,
    pub lon_dim: usize,
    /// Position of the time dimension, if the variable has one.
    pub time_dim: Option<usize>,
    /// Fixed index for every other dimension (length-1 dimensions and the
    /// selected level), by position.
    pub fixed: Vec<(usize, usize)>,
    /// Names of the coordinate variables (they may be absent for lat/lon).
    pub lat_coord: String,
    pub lon_coord: String,
    pub time_coord: Option<String>,
}

impl Layout {
    /// Positions of the time (if any), latitude and longitude dimensions, in
    /// the order a frame-major selection has them.
    pub(crate) fn leading_dims(&self) -> Vec<usize> {
        self.time_dim.into_iter().chain([self.lat_dim, self.lon_dim]).collect()
    }

    /// Whether the variable is stored `[time][latitude][longitude]` (any
    /// other dimension fixed to one index, wherever it is): a selection of
    /// it is then frame-major as stored, with no reordering.
    pub(crate) fn is_frame_major(&self) -> bool {
        self.leading_dims().windows(2).all(|pair| pair[0] < pair[1])
    }
}

const LAT_NAMES: &[&str] = &["latitude", "lat", "y", "nav_lat", "rlat", "lats", "xlat"];
const LON_NAMES: &[&str] = &["longitude", "lon", "x", "nav_lon", "rlon", "lons", "xlong"];
const TIME_NAMES: &[&str] = &["time", "valid_time", "t", "timestep", "times", "date"];
const LEVEL_NAMES: &[&str] = &["level", "pressure_level", "plev", "lev", "isobaricinhpa", "pressure", "levelist"];
const MEMBER_NAMES: &[&str] = &["number", "member", "realization", "ensemble", "ens", "member_id", "ensemble_member"];

/// Classifies a dimension by its coordinate variable (if any) and its name;
/// `member_dim` names a member dimension the usual names would miss.
fn classify(dim: &str, coord: Option<&VarMeta>, member_dim: Option<&str>) -> Axis {
    let lower = dim.to_ascii_lowercase();
    if member_dim == Some(dim) {
        return Axis::Member;
    }
    if let Some(c) = coord {
        if c.text_lower("standard_name") == "realization" {
            return Axis::Member;
        }
        let standard = c.text_lower("standard_name");
        let units = c.text_lower("units");
        let axis = c.text_lower("axis");
        if standard == "latitude" || axis == "y" && units.starts_with("degree") || units.starts_with("degrees_n") {
            return Axis::Lat;
        }
        if standard == "longitude" || axis == "x" && units.starts_with("degree") || units.starts_with("degrees_e") {
            return Axis::Lon;
        }
        if standard == "time" || axis == "t" || units.contains(" since ") {
            return Axis::Time;
        }
        if standard == "air_pressure" || axis == "z" || c.attrs.contains_key("positive") {
            return Axis::Level;
        }
    }
    if LAT_NAMES.contains(&lower.as_str()) {
        Axis::Lat
    } else if LON_NAMES.contains(&lower.as_str()) {
        Axis::Lon
    } else if TIME_NAMES.contains(&lower.as_str()) {
        Axis::Time
    } else if LEVEL_NAMES.contains(&lower.as_str()) {
        Axis::Level
    } else if MEMBER_NAMES.contains(&lower.as_str()) {
        Axis::Member
    } else {
        Axis::Other
    }
}

/// Finds the data variable `requested`: by exact name, then ignoring case,
/// then by a standard-variable alias or `standard_name` (so `--variable msl`
/// finds `slp` or `air_pressure_at_mean_sea_level`).
pub(crate) fn find_variable<'a>(vars: &'a [VarMeta], requested: &str) -> Result<&'a VarMeta> {
    let is_data = |v: &&VarMeta| v.dims.len() >= 2;
    if let Some(v) = vars.iter().filter(is_data).find(|v| v.name == requested) {
        return Ok(v);
    }
    if let Some(v) = vars.iter().filter(is_data).find(|v| v.name.eq_ignore_ascii_case(requested)) {
        return Ok(v);
    }
    if let Some(wanted) = standard_variable(requested) {
        let same = |name: &str| standard_variable(name).is_some_and(|s| s.name == wanted.name);
        if let Some(v) =
            vars.iter().filter(is_data).find(|v| same(&v.name) || v.text("standard_name").is_some_and(same))
        {
            return Ok(v);
        }
    }
    Err(Error::VariableNotFound {
        name: requested.to_string(),
        available: vars.iter().filter(is_data).map(|v| v.name.as_str()).collect::<Vec<_>>().join(", "),
    })
}

/// The ensemble members of `variable`: the member dimension's name and its
/// coordinate values (indices when it has no coordinate variable), or
/// `None` without one.
pub(crate) fn members(
    vars: &[VarMeta],
    variable: &VarMeta,
    options: &OpenOptions,
    coordinate_values: &dyn Fn(&str) -> Result<Vec<f64>>,
) -> Result<Option<(String, Vec<u32>)>> {
    let coord = |dim: &str| vars.iter().find(|v| v.name == dim && v.dims.len() == 1);
    check_extents(variable, &coord)?;
    let member_dim = options.member_dim.as_deref();
    let Some(k) = (0..variable.dims.len())
        .find(|&k| classify(&variable.dims[k], coord(&variable.dims[k]), member_dim) == Axis::Member)
    else {
        if let Some(name) = member_dim {
            return Err(Error::InvalidArgument(format!(
                "variable `{}` has no dimension `{name}` (dimensions: {})",
                variable.name,
                variable.dims.join(", ")
            )));
        }
        return Ok(None);
    };
    let dim = &variable.dims[k];
    let values = match coord(dim) {
        Some(_) => coordinate_values(dim)?
            .into_iter()
            .map(|v| {
                if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
                    Ok(v as u32)
                } else {
                    Err(Error::Format(format!("member coordinate `{dim}` has a value {v} that is not a whole number")))
                }
            })
            .collect::<Result<Vec<u32>>>()?,
        None => (0..variable.shape[k] as u32).collect(),
    };
    Ok(Some((dim.clone(), values)))
}

/// Works out the layout of `variable`: its latitude, longitude and time
/// dimensions, and which index to take of every other one.
/// [`OpenOptions::level`] selects one entry of a vertical dimension by its
/// coordinate value (850 finds 850 hPa whether the coordinate is in hPa or
/// Pa), [`OpenOptions::member`] one ensemble member; `coordinate_values`
/// reads a coordinate's values.
pub(crate) fn resolve_layout(
    vars: &[VarMeta],
    variable: &VarMeta,
    options: &OpenOptions,
    coordinate_values: &dyn Fn(&str) -> Result<Vec<f64>>,
) -> Result<Layout> {
    let level = options.level;
    let coord = |dim: &str| vars.iter().find(|v| v.name == dim && v.dims.len() == 1);
    check_extents(variable, &coord)?;
    let member_dim = options.member_dim.as_deref();
    let axes: Vec<Axis> = variable.dims.iter().map(|d| classify(d, coord(d), member_dim)).collect();
    let find = |axis: Axis| -> Result<Option<usize>> {
        let hits: Vec<usize> = (0..axes.len()).filter(|&k| axes[k] == axis).collect();
        match hits.as_slice() {
            [] => Ok(None),
            [k] => Ok(Some(*k)),
            _ => Err(Error::Format(format!(
                "variable `{}` has several {:?} dimensions: {}",
                variable.name,
                axis,
                hits.iter().map(|&k| variable.dims[k].as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    };
    let lat_dim = find(Axis::Lat)?.ok_or_else(|| missing_axis(variable, "latitude"))?;
    let lon_dim = find(Axis::Lon)?.ok_or_else(|| missing_axis(variable, "longitude"))?;
    let points = variable.shape[lat_dim].saturating_mul(variable.shape[lon_dim]);
    if points > MAX_FRAME_POINTS {
        return Err(Error::Format(format!(
            "variable `{}` declares frames of {} × {} = {points} points, more than pst reads ({MAX_FRAME_POINTS})",
            variable.name, variable.shape[lat_dim], variable.shape[lon_dim]
        )));
    }
    let time_dim = find(Axis::Time)?;
    let mut fixed = Vec::new();
    let mut level_used = false;
    let mut member_used = false;
    for (k, dim) in variable.dims.iter().enumerate() {
        if k == lat_dim || k == lon_dim || Some(k) == time_dim {
            continue;
        }
        let len = variable.shape[k];
        if axes[k] == Axis::Level
            && let Some(wanted) = level
        {
            let values = coordinate_values(dim)?;
            let index = values
                .iter()
                .position(|&v| (v - wanted).abs() <= 1e-6 * wanted.abs().max(1.0) || (v - 100.0 * wanted).abs() <= 1e-3)
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "variable `{}`: level {wanted} not found in `{dim}`; it has {}",
                        variable.name,
                        values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
                    ))
                })?;
            fixed.push((k, index));
            level_used = true;
        } else if axes[k] == Axis::Member {
            let (_, values) = members(vars, variable, options, coordinate_values)?.unwrap_or_default();
            let listed = || values.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
            let index = match options.member {
                Some(wanted) => values.iter().position(|&m| m == wanted).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "variable `{}` has no member {wanted} in `{dim}`; it has {}",
                        variable.name,
                        listed()
                    ))
                })?,
                None if len == 1 => 0,
                None => {
                    return Err(Error::Unsupported(format!(
                        "variable `{}` has {len} ensemble members in `{dim}` ({}); choose with --members",
                        variable.name,
                        listed()
                    )));
                }
            };
            fixed.push((k, index));
            member_used = true;
        } else if len == 1 {
            fixed.push((k, 0));
        } else {
            return Err(Error::Unsupported(format!(
                "variable `{}` has a dimension `{dim}` of length {len} besides time, latitude and longitude; \
                 select one entry (a pressure level with --level, an ensemble member with --members, \
                 naming its dimension with --member-dim)",
                variable.name
            )));
        }
    }
    if let Some(wanted) = level
        && !level_used
    {
        return Err(Error::InvalidArgument(format!(
            "a level ({wanted}) was asked for, but variable `{}` has no vertical dimension (dimensions: {})",
            variable.name,
            variable.dims.join(", ")
        )));
    }
    if let Some(wanted) = options.member
        && !member_used
    {
        return Err(Error::InvalidArgument(format!(
            "member {wanted} was asked for, but variable `{}` has no member dimension (dimensions: {}; \
             name it with --member-dim)",
            variable.name,
            variable.dims.join(", ")
        )));
    }
    Ok(Layout {
        variable: variable.name.clone(),
        lat_dim,
        lon_dim,
        time_dim,
        fixed,
        lat_coord: variable.dims[lat_dim].clone(),
        lon_coord: variable.dims[lon_dim].clone(),
        time_coord: time_dim.map(|k| variable.dims[k].clone()),
    })
}

/// The sizes a file declares, checked before anything is read: every
/// dimension of the variable at most [`MAX_AXIS_POINTS`] long, and as long
/// as its coordinate variable (formats such as Zarr store them apart, so a
/// damaged store can disagree with itself).
fn check_extents<'a>(variable: &VarMeta, coord: &dyn Fn(&str) -> Option<&'a VarMeta>) -> Result<()> {
    if variable.shape.len() != variable.dims.len() {
        return Err(Error::Format(format!(
            "variable `{}` has {} dimension names for {} dimensions",
            variable.name,
            variable.dims.len(),
            variable.shape.len()
        )));
    }
    for (dim, &len) in variable.dims.iter().zip(&variable.shape) {
        if len > MAX_AXIS_POINTS {
            return Err(Error::Format(format!(
                "variable `{}` declares {len} entries along `{dim}`, more than pst reads ({MAX_AXIS_POINTS})",
                variable.name
            )));
        }
        if let Some(c) = coord(dim)
            && c.shape != [len]
        {
            return Err(Error::Format(format!(
                "variable `{}` has {len} entries along `{dim}`, but its coordinate `{}` has {}",
                variable.name,
                c.name,
                c.shape.first().copied().unwrap_or(0)
            )));
        }
    }
    Ok(())
}

fn missing_axis(variable: &VarMeta, what: &str) -> Error {
    Error::Format(format!(
        "variable `{}` has no {what} dimension (dimensions: {})",
        variable.name,
        variable.dims.join(", ")
    ))
}

#[cfg(test)]
mod test {
    use super::*;

    fn var(name: &str, dims: &[(&str, usize)], attrs: &[(&str, &str)]) -> VarMeta {
        VarMeta {
            name: name.into(),
            dims: dims.iter().map(|d| d.0.to_string()).collect(),
            shape: dims.iter().map(|d| d.1).collect(),
            attrs: attrs.iter().map(|(k, v)| (k.to_string(), AttrValue::Text(v.to_string()))).collect(),
        }
    }

    fn era5_vo() -> Vec<VarMeta> {
        vec![
            var(
                "valid_time",
                &[("valid_time", 360)],
                &[("units", "seconds since 1970-01-01"), ("standard_name", "time")],
            ),
            var("pressure_level", &[("pressure_level", 3)], &[("units", "hPa"), ("positive", "down")]),
            var("latitude", &[("latitude", 73)], &[("units", "degrees_north")]),
            var("longitude", &[("longitude", 144)], &[("units", "degrees_east")]),
            var("vo", &[("valid_time", 360), ("pressure_level", 3), ("latitude", 73), ("longitude", 144)], &[]),
        ]
    }

    #[test]
    fn selects_a_pressure_level() {
        let vars = era5_vo();
        let v = find_variable(&vars, "vorticity").unwrap();
        let levels = |_: &str| Ok(vec![500.0, 850.0, 925.0]);
        let at = |level| OpenOptions { level, ..Default::default() };
        let layout = resolve_layout(&vars, v, &at(Some(850.0)), &levels).unwrap();
        assert_eq!((layout.time_dim, layout.lat_dim, layout.lon_dim), (Some(0), 2, 3));
        assert_eq!(layout.fixed, vec![(1, 1)]);
        let e = resolve_layout(&vars, v, &at(None), &levels).unwrap_err();
        assert!(e.to_string().contains("--level"), "{e}");
        let e = resolve_layout(&vars, v, &at(Some(700.0)), &levels).unwrap_err();
        assert!(e.to_string().contains("500, 850, 925"), "{e}");
    }

    #[test]
    fn selects_an_ensemble_member() {
        let vars = vec![
            var("number", &[("number", 3)], &[]),
            var("msl", &[("number", 3), ("time", 4), ("lat", 5), ("lon", 8)], &[]),
            var("p", &[("run", 2), ("time", 4), ("lat", 5), ("lon", 8)], &[]),
        ];
        let numbers = |_: &str| Ok(vec![0.0, 5.0, 7.0]);
        let member = |m| OpenOptions { member: m, ..Default::default() };
        assert_eq!(members(&vars, &vars[1], &member(None), &numbers).unwrap(), Some(("number".into(), vec![0, 5, 7])));
        assert_eq!(resolve_layout(&vars, &vars[1], &member(Some(7)), &numbers).unwrap().fixed, vec![(0, 2)]);
        let e = resolve_layout(&vars, &vars[1], &member(None), &numbers).unwrap_err().to_string();
        assert!(e.contains("3 ensemble members") && e.contains("0, 5, 7") && e.contains("--members"), "{e}");
        let e = resolve_layout(&vars, &vars[1], &member(Some(1)), &numbers).unwrap_err().to_string();
        assert!(e.contains("no member 1"), "{e}");
        // An unusual name needs --member-dim; without a coordinate, members are indices.
        let run = OpenOptions { member_dim: Some("run".into()), member: Some(1), ..Default::default() };
        assert_eq!(resolve_layout(&vars, &vars[2], &run, &numbers).unwrap().fixed, vec![(0, 1)]);
        assert_eq!(members(&vars, &vars[2], &run, &numbers).unwrap(), Some(("run".into(), vec![0, 1])));
        let e = resolve_layout(&vars, &vars[2], &member(Some(1)), &numbers).unwrap_err().to_string();
        assert!(e.contains("run") && e.contains("--member-dim"), "{e}");
    }

    #[test]
    fn unknown_variables_list_the_alternatives() {
        let e = find_variable(&era5_vo(), "t2m").unwrap_err();
        assert_eq!(e.to_string(), "variable `t2m` not found; available: vo");
    }

    #[test]
    fn names_alone_identify_axes() {
        let vars = vec![var("p", &[("timestep", 64), ("lat", 33), ("lon", 36)], &[])];
        let layout = resolve_layout(&vars, &vars[0], &OpenOptions::default(), &|_| Ok(vec![])).unwrap();
        assert_eq!((layout.time_dim, layout.lat_dim, layout.lon_dim), (Some(0), 1, 2));
    }
}
