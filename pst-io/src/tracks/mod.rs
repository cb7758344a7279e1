//! Track file formats: one [`TrackFormat`] per format, each with a
//! [`TrackReader`] and a [`TrackWriter`], chosen by name or file extension.

mod cf_netcdf;
mod csv;
mod imilast;
mod tempest;
mod track;
mod trackjson;

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pst_core::{Error, Result, ResultExt, TrackReader, TrackWriter, Tracks};

pub use cf_netcdf::CfTrajectories;
pub use csv::{Csv, CsvDialect};
pub use imilast::Imilast;
pub use tempest::Tempest;
pub use track::TrackAscii;
pub use trackjson::TrackJson;

/// A track file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackFormat {
    /// IMILAST text (`99`/`90`/`00` lines), as PyStormTracker writes it.
    Imilast,
    /// TRACK ASCII (`tdump`, `tr_trs`, `ff_trs`).
    Track,
    /// PyStormTracker's columnar TrackJSON 1.0.
    TrackJson,
    /// TempestExtremes StitchNodes text (GFDL style).
    Tempest,
    /// TempestExtremes StitchNodes CSV.
    TempestCsv,
    /// Plain CSV, one point per row.
    Csv,
    /// CF-netCDF trajectories (contiguous ragged array).
    Netcdf,
}

impl TrackFormat {
    /// Whether the format writes every per-point variable (so extra columns
    /// such as an ensemble `member` survive): CSV, TrackJSON and CF-netCDF.
    pub fn keeps_all_variables(self) -> bool {
        matches!(self, TrackFormat::Csv | TrackFormat::TrackJson | TrackFormat::Netcdf)
    }

    /// Every format.
    pub const ALL: [TrackFormat; 7] = [
        TrackFormat::Imilast,
        TrackFormat::Track,
        TrackFormat::TrackJson,
        TrackFormat::Tempest,
        TrackFormat::TempestCsv,
        TrackFormat::Csv,
        TrackFormat::Netcdf,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TrackFormat::Imilast => "imilast",
            TrackFormat::Track => "track",
            TrackFormat::TrackJson => "json",
            TrackFormat::Tempest => "tempest",
            TrackFormat::TempestCsv => "tempest-csv",
            TrackFormat::Csv => "csv",
            TrackFormat::Netcdf => "netcdf",
        }
    }

    /// The format a file name implies, as PyStormTracker infers it:
    /// `.txt`/`.dat` IMILAST (for input, sniffed from the content),
    /// `.json`/`.trackjson` TrackJSON, `.track`/`.tdump`/`.hodges` and TRACK's
    /// `tr_trs*`/`ff_trs*` names TRACK; no extension means TrackJSON. Beyond
    /// PyStormTracker: `.csv` CSV and `.nc` CF-netCDF trajectories.
    /// TempestExtremes' text has no extension of its own: name it.
    pub fn from_path(path: &Path) -> Result<Self> {
        let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        if name.starts_with("tr_trs") || name.starts_with("ff_trs") {
            return Ok(TrackFormat::Track);
        }
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("txt" | "dat" | "imilast") => Ok(TrackFormat::Imilast),
            Some("json" | "trackjson") => Ok(TrackFormat::TrackJson),
            Some("track" | "tdump" | "hodges" | "trs") => Ok(TrackFormat::Track),
            Some("csv") => Ok(TrackFormat::Csv),
            Some("nc" | "nc4" | "cdf") => Ok(TrackFormat::Netcdf),
            None => Ok(TrackFormat::TrackJson),
            Some(other) => Err(Error::InvalidArgument(format!(
                "cannot tell the track format of `{}` from its extension `.{other}`; give the format \
                 (imilast, track, json, tempest, tempest-csv, csv or netcdf)",
                path.display()
            ))),
        }
    }

    /// The format of existing content: netCDF by its magic number, TrackJSON
    /// if it starts with `{`, TempestExtremes if with `start`, CSV if its
    /// first line has commas and a `lat` column, TRACK if a line starts with
    /// `TRACK_NUM`, IMILAST if one starts with `99 00` or names `CycloneNo`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"CDF") || bytes.starts_with(b"\x89HDF") {
            return Some(TrackFormat::Netcdf);
        }
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
        let first = text.trim_start();
        if first.starts_with('{') {
            return Some(TrackFormat::TrackJson);
        }
        if first.starts_with("start") {
            return Some(TrackFormat::Tempest);
        }
        let header = first.lines().next().unwrap_or("").to_ascii_lowercase();
        if header.contains(',') && header.split(',').any(|h| matches!(h.trim(), "lat" | "latitude")) {
            return Some(TrackFormat::Csv);
        }
        for line in text.lines().take(32) {
            let line = line.trim();
            if line.starts_with("TRACK_NUM") {
                return Some(TrackFormat::Track);
            }
            if line.starts_with("99 00") || line.contains("CycloneNo") || line.starts_with("00 ") {
                return Some(TrackFormat::Imilast);
            }
        }
        None
    }

    /// The format's reader with its default options.
    pub fn reader(self) -> Box<dyn TrackReader> {
        match self {
            TrackFormat::Imilast => Box::new(Imilast),
            TrackFormat::Track => Box::new(TrackAscii::default()),
            TrackFormat::TrackJson => Box::new(TrackJson),
            TrackFormat::Tempest => Box::new(Tempest::default()),
            TrackFormat::TempestCsv | TrackFormat::Csv => Box::new(Csv::default()),
            TrackFormat::Netcdf => Box::new(CfTrajectories),
        }
    }

    /// The format's writer with its default options.
    pub fn writer(self) -> Box<dyn TrackWriter> {
        match self {
            TrackFormat::Imilast => Box::new(Imilast),
            TrackFormat::Track => Box::new(TrackAscii::default()),
            TrackFormat::TrackJson => Box::new(TrackJson),
            TrackFormat::Tempest => Box::new(Tempest::default()),
            TrackFormat::TempestCsv => Box::new(Csv { dialect: CsvDialect::Tempest }),
            TrackFormat::Csv => Box::new(Csv::default()),
            TrackFormat::Netcdf => Box::new(CfTrajectories),
        }
    }

    /// The writer of a format that can be written batch by batch (a header,
    /// then tracks as they come): IMILAST, CSV and TempestExtremes CSV.
    fn streaming_writer(self) -> Option<Box<dyn StreamingWriter>> {
        match self {
            TrackFormat::Imilast => Some(Box::new(Imilast)),
            TrackFormat::Csv => Some(Box::new(Csv::default())),
            TrackFormat::TempestCsv => Some(Box::new(Csv { dialect: CsvDialect::Tempest })),
            _ => None,
        }
    }
}

/// A format written as a header and then tracks in any number of batches.
trait StreamingWriter {
    /// What comes before the tracks (from the first batch's variables).
    fn write_header(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()>;
    /// One batch of tracks.
    fn write_body(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()>;
}

impl fmt::Display for TrackFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TrackFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "imilast" | "txt" => Ok(TrackFormat::Imilast),
            "track" | "tdump" | "tr_trs" => Ok(TrackFormat::Track),
            "json" | "trackjson" => Ok(TrackFormat::TrackJson),
            other => {
                Err(Error::InvalidArgument(format!("unknown track format `{other}`; choose imilast, track or json")))
            }
        }
    }
}

/// Reads a track file; the format is `format`, or inferred from the content
/// and then the extension.
///
/// ```no_run
/// let tracks = pst_io::read_tracks("era5_msl_djf_simple.imilast.txt", None)?;
/// println!("{} tracks", tracks.len());
/// # Ok::<(), pst_core::Error>(())
/// ```
pub fn read_tracks(path: impl AsRef<Path>, format: Option<TrackFormat>) -> Result<Tracks> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).in_file(path)?;
    let format = match format {
        Some(f) => f,
        None => match TrackFormat::sniff(&bytes) {
            Some(f) => f,
            None => TrackFormat::from_path(path).in_file(path)?,
        },
    };
    format.reader().read_tracks(&bytes).in_file(path)
}

/// Writes tracks atomically: to a temporary file beside `path`, renamed
/// over it only once complete, so an error leaves any existing file intact
/// and never a half-written one. The format is `format`, or inferred from
/// the extension.
pub fn write_tracks(path: impl AsRef<Path>, tracks: &Tracks, format: Option<TrackFormat>) -> Result<TrackFormat> {
    let path = path.as_ref();
    let format = match format {
        Some(f) => f,
        None => TrackFormat::from_path(path)?,
    };
    let writer = format.writer();
    write_atomically(path, |out| writer.write_tracks(tracks, out))?;
    Ok(format)
}

/// Writes tracks that arrive in batches: `produce` calls its argument with
/// each batch (ids continuing from batch to batch; at least one batch,
/// possibly empty, so the file gets its header). IMILAST and CSV files are
/// written as the batches come, so a whole run never holds all its tracks;
/// other formats collect them first. Atomic like [`write_tracks`].
///
/// ```
/// use pst_core::{Tracks, TracksBuilder, Timestamp};
/// use pst_io::{TrackFormat, read_tracks, write_tracks_streaming};
///
/// let dir = std::env::temp_dir().join(format!("pst-doc-stream-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("two.imilast.txt");
/// let batch = |id: u64, lat: f64| -> pst_core::Result<Tracks> {
///     let mut b = TracksBuilder::new(["msl"]);
///     b.begin_track(id);
///     b.push(Timestamp::from_ymdh(2025, 12, 1, 0)?, lat, 10.0, &[98_000.0])?;
///     b.end_track()?;
///     b.finish()
/// };
/// write_tracks_streaming(&path, TrackFormat::Imilast, |sink| {
///     sink(batch(1, 50.0)?)?;
///     sink(batch(2, -40.0)?)
/// })?;
/// assert_eq!(read_tracks(&path, None)?.len(), 2);
/// # std::fs::remove_dir_all(dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_tracks_streaming(
    path: impl AsRef<Path>,
    format: TrackFormat,
    produce: impl FnOnce(&mut dyn FnMut(Tracks) -> Result<()>) -> Result<()>,
) -> Result<()> {
    let path = path.as_ref();
    let Some(writer) = format.streaming_writer() else {
        let mut batches = Vec::new();
        produce(&mut |batch| {
            batches.push(batch);
            Ok(())
        })?;
        return write_tracks(path, &Tracks::concat(batches)?, Some(format)).map(drop);
    };
    write_atomically(path, |out| {
        let mut started = false;
        produce(&mut |batch| {
            if !started {
                writer.write_header(&batch, &mut *out)?;
                started = true;
            }
            writer.write_body(&batch, &mut *out)
        })?;
        if !started {
            return Err(Error::InvalidArgument("no tracks were produced, not even an empty batch".into()));
        }
        Ok(())
    })
}

/// Runs `write` on a buffered temporary file beside `path`, then renames it
/// to `path`; removes the temporary file if anything fails.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name =
        path.file_name().ok_or_else(|| Error::InvalidArgument(format!("`{}` is not a file name", path.display())))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| -> Result<()> {
        let file = File::create(&tmp)?;
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| Error::Io(e.into_error()))?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.in_file(path)
}

/// The primary variable of a collection: the metadata's, else the first.
fn primary_variable(tracks: &Tracks) -> Option<&pst_core::Variable> {
    let name = tracks.metadata().variable.as_deref();
    tracks.variables().iter().find(|v| Some(v.name.as_str()) == name).or_else(|| tracks.variables().first())
}

/// The variables a column-per-variable writer writes: the primary first,
/// then the others, leaving out the grid indices `i` and `j` when the format
/// has columns of its own for them.
fn written_variables(tracks: &Tracks, indices_apart: bool) -> Vec<&str> {
    let primary = primary_variable(tracks).map(|v| v.name.as_str());
    let is_index = |n: &str| indices_apart && (n == "i" || n == "j");
    primary.into_iter().chain(tracks.variable_names().filter(|n| Some(*n) != primary && !is_index(n))).collect()
}

/// TempestExtremes' grid index of point `k`: from the tracks' `i`/`j`
/// column, 0 when they have none.
fn grid_index(column: Option<&[f64]>, k: usize) -> i64 {
    column.map_or(0, |v| v[k] as i64)
}

/// A parse error at a 1-based line number.
fn line_error(line: usize, message: impl fmt::Display) -> Error {
    Error::Format(format!("line {line}: {message}"))
}
