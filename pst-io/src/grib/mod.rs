//! GRIB1 and GRIB2 input via `gribberish`, pure Rust.

mod validate;

use std::borrow::Cow;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Timelike, Utc};
use gribberish::message::Message;
use ndarray::Array2;
use pst_core::{
    Calendar, Error, FieldSource, Frame, Grid, Result, ResultExt, SourceInfo, Timestamp, standard_variable,
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
    grid: (Vec<f64>, Vec<f64>),
    gaussian: bool,
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
/// decode of its own message. Regular latitude-longitude grids only:
/// Gaussian grids are refused with a clear error.
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

/// Runs decoder code, turning a panic into an error: validation removes the
/// panics known, this catches any other.
fn guard<T>(f: impl FnOnce() -> std::result::Result<T, String>) -> std::result::Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err("the GRIB decoder failed on this message".into()))
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
        let (name, level, gaussian) = match &m {
            Message::Grib1 { message, .. } => {
                let (table, centre, number) = (bytes[8 + 3], bytes[8 + 4], bytes[8 + 8]);
                let gaussian =
                    matches!(message.grid(), Some(gribberish::grib1::grid_description::Grib1Grid::Gaussian(_)));
                (short_name(1, (0, 0, number), centre, table), value, gaussian)
            }
            Message::Grib2 { .. } => {
                let key =
                    (m.discipline_value().map_err(e)?, m.category_value().map_err(e)?, m.parameter_value().map_err(e)?);
                // GRIB2 levels are in Pa; GRIB1's, and ours, in hPa.
                let level = if isobaric { value.map(|p| p / 100.0) } else { value };
                (short_name(2, key, 0, 0), level, m.grid_template_id().map_err(e)? == 40)
            }
        };
        let name = match name {
            Some(n) => n.to_string(),
            None => m.variable_abbrev().map_err(e)?.to_ascii_lowercase(),
        };
        let reference = m.reference_date().map_err(e)?;
        let valid = m.forecast_end_date().ok().flatten().unwrap_or(m.forecast_date().unwrap_or(reference));
        let grid = if gaussian { (Vec::new(), Vec::new()) } else { m.latlng_projector().map_err(e)?.lat_lng() };
        Ok(FieldMeta {
            at: at.clone(),
            name,
            units: m.unit().unwrap_or_default(),
            level_type,
            level,
            valid: timestamp(valid)?,
            member: m.perturbation_number().map_err(e)?,
            grid,
            gaussian,
        })
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
                "`{variable}` has {} ensemble members; choose one (--member)",
                members.len()
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

    fn open_inner(path: &Path, variable: &str, options: &OpenOptions) -> Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let all = scan(&file, len)?;
        if all.is_empty() {
            return Err(Error::Format("no GRIB messages found".into()));
        }
        let mut fields = select(all, variable, options)?;
        fields.sort_by_key(|f| f.valid);
        if let Some(w) = fields.windows(2).find(|w| w[0].valid == w[1].valid) {
            return Err(Error::Format(format!("two `{variable}` fields are valid at {}", w[0].valid)));
        }
        let first = &fields[0];
        if first.gaussian {
            return Err(Error::Unsupported("Gaussian grids are not supported yet".into()));
        }
        if let Some(other) = fields.iter().find(|f| f.grid != first.grid) {
            return Err(Error::Format(format!(
                "`{variable}` at {} is on another grid than at {}",
                other.valid, first.valid
            )));
        }
        let grid = Grid::new(first.grid.0.clone(), first.grid.1.clone())
            .map_err(|e| Error::Format(format!("variable `{variable}`: {e}")))?;
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
