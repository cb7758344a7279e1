//! GRIB1 and GRIB2 input via `gribberish`, pure Rust.

mod validate;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Once;

use chrono::{DateTime, Datelike, Timelike, Utc};
use gribberish::grib1::grid_description::Grib1Grid;
use gribberish::message::Message;
use ndarray::Array2;
use pst_core::{
    Calendar, Error, FieldSource, Frame, Grid, MAX_GAUSSIAN_N, Result, ResultExt, SourceInfo, Timestamp,
    gaussian_latitudes, standard_variable,
};

use crate::cf::OpenOptions;
use validate::{declared_length, grib2_fields, grib2_single_field, validate};

/// Where one field lives: its message and its position in it.
#[derive(Debug, Clone)]
struct FieldRef {
    offset: u64,
    length: usize,
    sub: usize,
    subs: usize,
    edition: u8,
}

/// What a field is, read from its message without decoding the data.
#[derive(Debug, Clone)]
struct FieldMeta {
    at: FieldRef,
    name: String,
    units: String,
    level_type: String,
    /// hPa for pressure levels, in both editions.
    level: Option<f64>,
    valid: Timestamp,
    member: Option<u8>,
    /// GRIB2 data representation template (5.x), `None` in GRIB1.
    packing: Option<u16>,
    /// Latitudes and longitudes in stored order, or why the grid is unusable.
    grid: std::result::Result<(Vec<f64>, Vec<f64>), String>,
}

/// A variable of a GRIB1 or GRIB2 file as a series of frames ordered by
/// valid time.
///
/// Opening reads the file one message at a time: each message is checked
/// for structural soundness (section lengths, bitmaps, packing descriptors —
/// the decoder trusts them) and its metadata read without decoding data; a
/// corrupt or truncated message is an error naming its byte offset. The
/// variable is found by its ecCodes-style short name (`prmsl`, `msl`, `u`,
/// `vo`) or an alias (`msl` finds `prmsl`, preferred to `mslet` when a file
/// has both: the standard-variable table's order); a variable on several levels
/// needs [`OpenOptions::level`] (hPa), a file of several ensemble members
/// [`OpenOptions::member`]. Each frame is then one positioned read and
/// decode of its own message. Grids: regular latitude-longitude and regular
/// Gaussian (GRIB1 type 4, GRIB2 template 3.40), global or a sub-area, whose
/// latitudes are computed as the Gauss–Legendre roots, as ecCodes does
/// (files store them rounded, or not at all); reduced Gaussian grids are
/// refused with a clear error.
///
/// ```no_run
/// use pst_core::FieldSource;
/// use pst_io::{GribSource, OpenOptions};
/// let gfs = GribSource::open("gfs.grb", "msl", &OpenOptions::default())?;
/// let frame = gfs.read_frame(0)?;
/// # Ok::<(), pst_core::Error>(())
/// ```
pub struct GribSource {
    path: PathBuf,
    file: File,
    fields: Vec<FieldRef>,
    info: SourceInfo,
}

impl std::fmt::Debug for GribSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GribSource")
            .field("path", &self.path)
            .field("frames", &self.fields.len())
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// Whether this thread is inside [`guard`], and the message of the
    /// panic caught there.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs decoder code, turning a panic into an error that carries the
/// decoder's message: validation removes the panics known, this catches
/// any other. The first call installs a panic hook that keeps such panics
/// off stderr (the error reports them) and hands every other panic to the
/// hook that was there before.
fn guard<T>(f: impl FnOnce() -> std::result::Result<T, String>) -> std::result::Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) {
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                CAUGHT.with(|c| *c.borrow_mut() = Some(message));
            } else {
                previous(info);
            }
        }));
    });
    let was = GUARDED.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(was));
    result.unwrap_or_else(|_| {
        let message = CAUGHT.with(|c| c.borrow_mut().take()).unwrap_or_else(|| "no message".into());
        Err(format!("the GRIB decoder failed on this message ({message})"))
    })
}

/// The bytes the decoder should see for a field: the message, or a rebuilt
/// single-field message for a later field of a multi-field GRIB2 message.
fn field_bytes<'a>(msg: &'a [u8], at: &FieldRef) -> std::result::Result<Cow<'a, [u8]>, String> {
    if at.edition == 2 && at.subs > 1 {
        let fields = grib2_fields(msg)?;
        let f = fields.get(at.sub).ok_or("field index out of range")?;
        Ok(Cow::Owned(grib2_single_field(msg, f)))
    } else {
        Ok(Cow::Borrowed(msg))
    }
}

fn timestamp(t: DateTime<Utc>) -> std::result::Result<Timestamp, String> {
    Timestamp::new(t.year(), t.month() as u8, t.day() as u8, t.hour() as u8, t.minute() as u8, t.second() as u8, 0)
        .map_err(|e| e.to_string())
}

/// The ecCodes short name of the parameters storm tracking uses.
fn short_name(
    edition: u8,
    (discipline, category, number): (u8, u8, u8),
    centre: u8,
    table: u8,
) -> Option<&'static str> {
    match edition {
        2 => Some(match (discipline, category, number) {
            (0, 0, 0) => "t",
            (0, 1, 0) => "q",
            (0, 1, 1) => "r",
            (0, 2, 2) => "u",
            (0, 2, 3) => "v",
            (0, 2, 8) => "w",
            (0, 2, 10) => "absv",
            (0, 2, 12) => "vo",
            (0, 3, 0) => "sp",
            (0, 3, 1) => "prmsl",
            (0, 3, 4) => "z",
            (0, 3, 5) => "gh",
            (0, 3, 192) => "mslet",
            _ => return None,
        }),
        // ECMWF's local table 128.
        _ if centre == 98 && table == 128 => Some(match number {
            129 => "z",
            130 => "t",
            131 => "u",
            132 => "v",
            133 => "q",
            138 => "vo",
            151 => "msl",
            155 => "d",
            157 => "r",
            _ => return None,
        }),
        // WMO table 2 (NCEP's table versions 1-3).
        _ if table <= 3 => Some(match number {
            2 => "prmsl",
            7 => "gh",
            11 => "t",
            33 => "u",
            34 => "v",
            41 => "absv",
            _ => return None,
        }),
        _ => None,
    }
}

fn field_meta(msg: &[u8], at: &FieldRef) -> std::result::Result<FieldMeta, String> {
    guard(|| {
        let bytes = field_bytes(msg, at)?;
        let m = Message::from_data(&bytes, 0).ok_or("the decoder could not parse the message")?;
        let e = |x: gribberish::error::GribberishError| x.to_string();
        let (surface, value) = m.first_fixed_surface().map_err(e)?;
        let level_type = format!("{surface:?}");
        let isobaric = level_type == "IsobaricSurface";
        let (name, level, grid, packing) = match &m {
            Message::Grib1 { message, .. } => {
                let (table, centre, number) = (bytes[8 + 3], bytes[8 + 4], bytes[8 + 8]);
                let grid = match message.grid() {
                    Some(Grib1Grid::Gaussian(g)) => gaussian_axes(&GaussianLayout {
                        ni: (g.ni != 0xFFFF).then_some(g.ni),
                        nj: g.nj,
                        lat1: g.lat1,
                        lon1: g.lon1,
                        lat2: g.lat2,
                        lon2: g.lon2,
                        n: usize::from(g.n),
                        scanning_mode: g.scanning_mode,
                        precision: 1e-3,
                    }),
                    _ => m.latlng_projector().map(|p| p.lat_lng()).map_err(e),
                };
                (short_name(1, (0, 0, number), centre, table), value, grid, None)
            }
            Message::Grib2 { .. } => {
                let key =
                    (m.discipline_value().map_err(e)?, m.category_value().map_err(e)?, m.parameter_value().map_err(e)?);
                // GRIB2 levels are in Pa; GRIB1's, and ours, in hPa.
                let level = if isobaric { value.map(|p| p / 100.0) } else { value };
                // The decoder sees a single field: its sections come first.
                let sections = grib2_fields(&bytes)?.into_iter().next().ok_or("no field")?;
                let packing =
                    bytes.get(sections.s5.0 + 9..sections.s5.0 + 11).map(|b| u16::from_be_bytes([b[0], b[1]]));
                let grid = if m.grid_template_id().map_err(e)? == 40 {
                    grib2_gaussian_layout(&bytes[sections.s3.0..sections.s3.1])
                        .and_then(|layout| gaussian_axes(&layout))
                } else {
                    m.latlng_projector().map(|p| p.lat_lng()).map_err(e)
                };
                // ECMWF writes msl as "pressure" (0/3/0) at mean sea level.
                let name = if key == (0, 3, 0) && level_type == "MeanSeaLevel" {
                    Some("msl")
                } else {
                    short_name(2, key, 0, 0)
                };
                (name, level, grid, packing)
            }
        };
        let name = match name {
            Some(n) => n.to_string(),
            None => m.variable_abbrev().map_err(e)?.to_ascii_lowercase(),
        };
        let reference = m.reference_date().map_err(e)?;
        let valid = m.forecast_end_date().ok().flatten().unwrap_or(m.forecast_date().unwrap_or(reference));
        Ok(FieldMeta {
            at: at.clone(),
            packing,
            name,
            units: cf_units(&m.unit().unwrap_or_default()),
            level_type,
            level,
            valid: timestamp(valid)?,
            member: m.perturbation_number().map_err(e)?,
            grid,
        })
    })
}

/// The decoder's unit strings (`pa`, `ms-1`, `s-1`) as CF/ECMWF write them,
/// so a GRIB file and a netCDF file of one series agree.
fn cf_units(units: &str) -> String {
    match units.to_ascii_lowercase().as_str() {
        "pa" => "Pa".into(),
        "hpa" => "hPa".into(),
        "k" => "K".into(),
        "ms-1" | "m s-1" | "m/s" => "m s**-1".into(),
        "s-1" | "/s" => "s**-1".into(),
        "m2s-1" | "m2 s-1" => "m**2 s**-1".into(),
        "kgm-2" | "kg m-2" => "kg m**-2".into(),
        _ => units.to_string(),
    }
}

/// GRIB2 data representation template 5.40: JPEG 2000 code stream.
const JPEG2000_PACKING: u16 = 40;

/// A regular Gaussian grid as a GRIB message describes it (degrees).
#[derive(Debug, Clone)]
struct GaussianLayout {
    /// Points per latitude; `None` for a reduced grid (a list per row).
    ni: Option<usize>,
    nj: usize,
    lat1: f64,
    lon1: f64,
    lat2: f64,
    lon2: f64,
    /// Latitudes between a pole and the equator (ECMWF's `N`).
    n: usize,
    scanning_mode: u8,
    /// How the file rounds coordinates: 1e-3° (GRIB1) or 1e-6° (GRIB2).
    precision: f64,
}

/// The latitude and longitude axes of a regular Gaussian grid, in stored
/// order: the Gauss–Legendre latitudes of the `2N`-row global grid from the
/// one nearest the first latitude, as ecCodes computes them.
fn gaussian_axes(layout: &GaussianLayout) -> std::result::Result<(Vec<f64>, Vec<f64>), String> {
    let Some(ni) = layout.ni else {
        return Err("reduced Gaussian grids (fewer points per latitude towards the poles) are not supported; \
                    regrid to a regular grid first (e.g. `cdo setgridtype,regular`)"
            .into());
    };
    if layout.scanning_mode & 0x20 != 0 {
        return Err("Gaussian grids stored column by column (scanning mode bit 3) are not supported".into());
    }
    if layout.n == 0 || layout.nj == 0 || ni == 0 || layout.nj > 2 * layout.n {
        return Err(format!("inconsistent Gaussian grid: N = {}, {} × {} points", layout.n, layout.nj, ni));
    }
    if layout.n > MAX_GAUSSIAN_N {
        return Err(format!("Gaussian grid N{} is finer than pst reads (N{MAX_GAUSSIAN_N})", layout.n));
    }
    let all = gaussian_latitudes(2 * layout.n).map_err(|e| e.to_string())?;
    let nearest = |lat: f64| {
        all.iter()
            .enumerate()
            .min_by(|a, b| (a.1 - lat).abs().total_cmp(&(b.1 - lat).abs()))
            .map(|(k, l)| (k, (l - lat).abs()))
            .unwrap_or((0, f64::INFINITY))
    };
    let spacing = 180.0 / (2 * layout.n) as f64;
    let (first, miss) = nearest(layout.lat1);
    if miss > spacing / 2.0 {
        return Err(format!("the first latitude {} is not a latitude of the N{} Gaussian grid", layout.lat1, layout.n));
    }
    let northward = layout.scanning_mode & 0x40 != 0;
    let rows: Vec<usize> = if northward {
        (0..layout.nj)
            .map(|j| first.checked_sub(j))
            .collect::<Option<_>>()
            .ok_or("the grid runs past the north pole")?
    } else {
        (0..layout.nj).map(|j| first + j).filter(|&k| k < all.len()).collect()
    };
    if rows.len() != layout.nj {
        return Err("the grid runs past the south pole".into());
    }
    let lats: Vec<f64> = rows.iter().map(|&k| all[k]).collect();
    let last = lats[lats.len() - 1];
    if (last - layout.lat2).abs() > spacing / 2.0 {
        return Err(format!(
            "the last latitude {} does not follow from the first ({}) and {} rows of the N{} grid (expected {last:.6})",
            layout.lat2, layout.lat1, layout.nj, layout.n
        ));
    }
    // Longitudes are evenly spaced; a global grid's step is exactly 360/ni
    // (the stored increment is rounded).
    let eastward = layout.scanning_mode & 0x80 == 0;
    let span = if eastward { layout.lon2 - layout.lon1 } else { layout.lon1 - layout.lon2 }.rem_euclid(360.0);
    let step = if ni > 1 { span / (ni - 1) as f64 } else { 0.0 };
    let global_step = 360.0 / ni as f64;
    let step = if (step - global_step).abs() < 2.0 * layout.precision { global_step } else { step };
    let lons =
        (0..ni).map(|i| if eastward { layout.lon1 + i as f64 * step } else { layout.lon1 - i as f64 * step }).collect();
    Ok((lats, lons))
}

/// Reads a GRIB2 grid definition template 3.40 (regular or reduced
/// Gaussian) from a field's section 3.
fn grib2_gaussian_layout(s3: &[u8]) -> std::result::Result<GaussianLayout, String> {
    let u32_at = |octet: usize| -> std::result::Result<u32, String> {
        s3.get(octet - 1..octet + 3)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| format!("section 3 is too short for template 3.40 ({} bytes)", s3.len()))
    };
    // Sign and magnitude, in micro-degrees (basic angle 0 or missing).
    let angle = |octet: usize| -> std::result::Result<f64, String> {
        let raw = u32_at(octet)?;
        let magnitude = f64::from(raw & 0x7FFF_FFFF) * 1e-6;
        Ok(if raw & 0x8000_0000 != 0 { -magnitude } else { magnitude })
    };
    let basic_angle = u32_at(39)?;
    if basic_angle != 0 && basic_angle != u32::MAX {
        return Err(format!("Gaussian grid with a basic angle of {basic_angle} is not supported"));
    }
    let ni = u32_at(31)?;
    let listed_points = s3.get(10).copied().unwrap_or(0) != 0;
    Ok(GaussianLayout {
        ni: (ni != u32::MAX && !listed_points).then_some(ni as usize),
        nj: u32_at(35)? as usize,
        lat1: angle(47)?,
        lon1: angle(51)?,
        lat2: angle(56)?,
        lon2: angle(60)?,
        n: u32_at(68)? as usize,
        scanning_mode: *s3.get(71).ok_or("section 3 has no scanning mode")?,
        precision: 1e-6,
    })
}

/// Every field of the file, each message validated.
fn scan(file: &File, len: u64) -> Result<Vec<FieldMeta>> {
    let mut fields = Vec::new();
    let mut pos = 0u64;
    let mut header = [0u8; 16];
    while pos + 16 <= len {
        file.read_exact_at(&mut header, pos)?;
        if &header[0..4] != b"GRIB" {
            // Skip padding or stray bytes to the next message.
            let mut block = vec![0u8; (len - pos).min(1 << 16) as usize];
            file.read_exact_at(&mut block, pos)?;
            match block.windows(4).skip(1).position(|w| w == b"GRIB") {
                Some(k) => pos += k as u64 + 1,
                None if pos + block.len() as u64 >= len => break,
                None => pos += block.len() as u64 - 3,
            }
            continue;
        }
        let length = declared_length(&header)
            .ok_or_else(|| Error::Format(format!("byte {pos}: GRIB edition {} is not 1 or 2", header[7])))?;
        if length < 20 || pos + length as u64 > len {
            return Err(Error::Format(format!(
                "byte {pos}: GRIB message of {length} bytes runs past the end of the file (truncated?)"
            )));
        }
        let mut msg = vec![0u8; length];
        file.read_exact_at(&mut msg, pos)?;
        let subs = validate(&msg).map_err(|e| Error::Format(format!("byte {pos}: corrupt GRIB message: {e}")))?;
        for sub in 0..subs {
            let at = FieldRef { offset: pos, length, sub, subs, edition: header[7] };
            fields.push(field_meta(&msg, &at).map_err(|e| Error::Format(format!("byte {pos}: {e}")))?);
        }
        pos += length as u64;
    }
    Ok(fields)
}

/// Distinct values, in first-seen order.
fn distinct<T: PartialEq + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in items {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// The fields of `variable` at one level: by exact short name first, then
/// by alias.
fn select(all: Vec<FieldMeta>, variable: &str, options: &OpenOptions) -> Result<Vec<FieldMeta>> {
    let wanted = variable.to_ascii_lowercase();
    let exact: Vec<FieldMeta> = all.iter().filter(|f| f.name == wanted).cloned().collect();
    let chosen = match standard_variable(variable) {
        // An alias: the name listed first in the standard-variable table wins
        // (`msl` takes GFS's `prmsl` over its Eta-reduced `mslet`).
        Some(family) if exact.is_empty() => {
            let rank = |name: &str| family.aliases.iter().position(|a| *a == name);
            match all.iter().filter_map(|f| rank(&f.name)).min() {
                Some(best) => all.iter().filter(|f| rank(&f.name) == Some(best)).cloned().collect(),
                None => Vec::new(),
            }
        }
        _ => exact,
    };
    if chosen.is_empty() {
        return Err(Error::VariableNotFound {
            name: variable.to_string(),
            available: distinct(all.iter().map(|f| f.name.clone())).join(", "),
        });
    }
    let levels = distinct(chosen.iter().map(|f| (f.level_type.clone(), f.level.map(f64::to_bits))));
    let chosen = match options.level {
        Some(l) => {
            let at: Vec<FieldMeta> = chosen.iter().filter(|f| f.level == Some(l)).cloned().collect();
            if at.is_empty() {
                let have: Vec<String> = chosen.iter().filter_map(|f| f.level).map(|v| v.to_string()).collect();
                return Err(Error::InvalidArgument(format!(
                    "`{variable}` has no level {l}; it has {}",
                    distinct(have.into_iter()).join(", ")
                )));
            }
            at
        }
        None if levels.len() > 1 => {
            let have = distinct(chosen.iter().map(|f| format!("{} {}", f.level_type, f.level.unwrap_or(0.0))));
            return Err(Error::InvalidArgument(format!(
                "`{variable}` is on {} levels ({}); choose one with --level",
                levels.len(),
                have.join(", ")
            )));
        }
        None => chosen,
    };
    Ok(chosen)
}

/// The fields of one ensemble member (or all, when the file has one).
fn select_member(chosen: Vec<FieldMeta>, variable: &str, options: &OpenOptions) -> Result<Vec<FieldMeta>> {
    let members = distinct(chosen.iter().map(|f| f.member));
    let chosen = match options.member {
        Some(m) => {
            let of_member: Vec<FieldMeta> = chosen.into_iter().filter(|f| f.member.map(u32::from) == Some(m)).collect();
            if of_member.is_empty() {
                let have: Vec<String> = members.iter().flatten().map(|m| m.to_string()).collect();
                return Err(Error::InvalidArgument(if have.is_empty() {
                    format!("`{variable}` has no ensemble members, so no member {m}")
                } else {
                    format!("`{variable}` has no member {m}; it has {}", have.join(", "))
                }));
            }
            of_member
        }
        None if members.len() > 1 => {
            return Err(Error::Unsupported(format!(
                "`{variable}` has {} ensemble members ({}); choose with --members",
                members.len(),
                members.iter().flatten().map(u8::to_string).collect::<Vec<_>>().join(", ")
            )));
        }
        None => chosen,
    };
    Ok(chosen)
}

impl GribSource {
    /// Opens `variable` in the GRIB file at `path`.
    pub fn open(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Self> {
        let path = path.as_ref();
        Self::open_inner(path, variable, options).in_file(path)
    }

    /// The ensemble members (perturbation numbers) of `variable` in the GRIB
    /// file at `path`, at the level [`OpenOptions::level`] selects; empty
    /// when it has none.
    pub fn members(path: impl AsRef<Path>, variable: &str, options: &OpenOptions) -> Result<Vec<u32>> {
        let path = path.as_ref();
        let inner = || -> Result<Vec<u32>> {
            let file = File::open(path)?;
            let fields = select(scan(&file, file.metadata()?.len())?, variable, options)?;
            let mut members: Vec<u32> = distinct(fields.iter().filter_map(|f| f.member.map(u32::from)));
            members.sort_unstable();
            Ok(members)
        };
        inner().in_file(path)
    }

    fn open_inner(path: &Path, variable: &str, options: &OpenOptions) -> Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let all = scan(&file, len)?;
        if all.is_empty() {
            return Err(Error::Format("no GRIB messages found".into()));
        }
        let mut fields = select_member(select(all, variable, options)?, variable, options)?;
        fields.sort_by_key(|f| f.valid);
        if let Some(w) = fields.windows(2).find(|w| w[0].valid == w[1].valid) {
            return Err(Error::Format(format!("two `{variable}` fields are valid at {}", w[0].valid)));
        }
        if !cfg!(feature = "grib-jpeg2000") && fields.iter().any(|f| f.packing == Some(JPEG2000_PACKING)) {
            return Err(Error::Unsupported(format!(
                "`{variable}` is packed with JPEG 2000 (GRIB2 template 5.40); this build of pst cannot decode it: \
                 rebuild with the `grib-jpeg2000` feature (e.g. `cargo install pst-cli --features grib-jpeg2000`)"
            )));
        }
        let first = &fields[0];
        if let Some(other) = fields.iter().find(|f| f.grid != first.grid) {
            return Err(Error::Format(format!(
                "`{variable}` at {} is on another grid than at {}",
                other.valid, first.valid
            )));
        }
        let (lats, lons) = first.grid.clone().map_err(|e| Error::Unsupported(format!("variable `{variable}`: {e}")))?;
        let grid = Grid::new(lats, lons).map_err(|e| e.context(format!("variable `{variable}`")))?;
        let info = SourceInfo {
            variable: first.name.clone(),
            units: Some(first.units.clone()).filter(|u| !u.is_empty()),
            long_name: None,
            grid: Arc::new(grid),
            times: fields.iter().map(|f| f.valid).collect(),
            calendar: Calendar::ProlepticGregorian,
            origin: path.display().to_string(),
        };
        Ok(GribSource { path: path.to_path_buf(), file, fields: fields.into_iter().map(|f| f.at).collect(), info })
    }

    fn read(&self, index: usize) -> Result<Frame> {
        let at = self.fields.get(index).ok_or(Error::FrameOutOfRange { index, len: self.fields.len() })?;
        let mut msg = vec![0u8; at.length];
        self.file.read_exact_at(&mut msg, at.offset)?;
        let (nlat, nlon) = self.info.grid.shape();
        let values = guard(|| {
            let bytes = field_bytes(&msg, at)?;
            let m = Message::from_data(&bytes, 0).ok_or("the decoder could not parse the message")?;
            let values = m.data().map_err(|e| e.to_string())?;
            if values.len() != nlat * nlon {
                return Err(format!("decoded {} values for a {nlat}×{nlon} grid", values.len()));
            }
            Ok(values)
        })
        .map_err(|e| Error::Format(format!("byte {}: {e}", at.offset)))?;
        let values = Array2::from_shape_vec((nlat, nlon), values).map_err(|e| Error::Format(e.to_string()))?;
        Frame::new(Arc::clone(&self.info.grid), self.info.times[index], values)
    }
}

impl FieldSource for GribSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        self.read(index).in_file(&self.path)
    }
}
