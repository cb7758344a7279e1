//! One series from many files: ERA5's monthly files, CMIP's decades, a
//! forecast's steps — in any order, any supported format, opened lazily.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pst_core::{Error, FieldSource, Frame, Result, ResultExt, SourceInfo, Timestamp};

use crate::cf::OpenOptions;
use crate::open::open_source;

/// How many files a [`MultiFileSource`] keeps open at once: enough for the
/// detection threads to work on neighbouring files, few enough that memory
/// stays one file's worth (plus its decoded chunk) per thread.
const OPEN_FILES: usize = 8;

/// A stretch of missing time between two frames of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The last frame before the gap.
    pub after: Timestamp,
    /// The first frame after it.
    pub before: Timestamp,
    /// Frames missing at the series' usual time step.
    pub missing: usize,
}

/// One file's part of the series.
#[derive(Debug, Clone)]
struct Part {
    path: PathBuf,
    /// Index of its first frame in the series.
    start: usize,
}

/// Several files read as one time series of one variable.
///
/// Opening reads each file's metadata (grid, times) and closes it again, so
/// a list of a thousand files costs a thousand metadata reads and no data;
/// frames are read from the file that holds them, keeping at most a few
/// files open. The files are put in order by their time coordinates, not
/// their names, and must share the grid, the variable's units and the
/// calendar: the first file that does not is named in the error. Times
/// that overlap or repeat across files are an error; gaps are allowed and
/// reported by [`MultiFileSource::gaps`] (the Simple linker starts new tracks
/// across them). Files of different formats mix freely.
///
/// ```no_run
/// use pst_core::FieldSource;
/// use pst_io::{MultiFileSource, OpenOptions};
/// let months = ["era5_msl_2026-01.nc", "era5_msl_2025-12.nc", "era5_msl_2026-02.grib"];
/// let series = MultiFileSource::open(&months, "msl", &OpenOptions::default())?;
/// assert_eq!(series.files()[0].to_str(), Some("era5_msl_2025-12.nc"));
/// # Ok::<(), pst_core::Error>(())
/// ```
pub struct MultiFileSource {
    /// The file whose grid, units and calendar every file must share.
    reference: PathBuf,
    parts: Vec<Part>,
    variable: String,
    options: OpenOptions,
    info: SourceInfo,
    gaps: Vec<Gap>,
    open: Mutex<Vec<(usize, Arc<dyn FieldSource>)>>,
}

impl std::fmt::Debug for MultiFileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiFileSource")
            .field("files", &self.parts.len())
            .field("frames", &self.info.times.len())
            .field("gaps", &self.gaps.len())
            .finish_non_exhaustive()
    }
}

impl MultiFileSource {
    /// Opens `variable` in every file of `paths` (in any order) as one series.
    pub fn open(paths: &[impl AsRef<Path>], variable: &str, options: &OpenOptions) -> Result<Self> {
        let Some(first_path) = paths.first() else {
            return Err(Error::InvalidArgument("no input files".into()));
        };
        // Metadata of each file; the first file's is the reference.
        let mut reference: Option<(PathBuf, SourceInfo)> = None;
        let mut parts: Vec<(PathBuf, Vec<Timestamp>)> = Vec::with_capacity(paths.len());
        for path in paths {
            let path = path.as_ref();
            let info = open_source(path, variable, options)?.info().clone();
            match &reference {
                None => reference = Some((path.to_path_buf(), info.clone())),
                Some((first, expected)) => check_compatible(path, &info, first, expected)?,
            }
            parts.push((path.to_path_buf(), info.times));
        }
        let (_, first_info) = reference.ok_or_else(|| Error::InvalidArgument("no input files".into()))?;
        parts.retain(|(_, times)| !times.is_empty());
        parts.sort_by_key(|(_, times)| times[0]);
        for pair in parts.windows(2) {
            let ((a, ta), (b, tb)) = (&pair[0], &pair[1]);
            let last = ta[ta.len() - 1];
            if tb[0] <= last {
                let shared = tb.iter().find(|t| ta.contains(t)).copied().unwrap_or(tb[0]);
                return Err(Error::Format(format!(
                    "{} and {} overlap in time: both have frames from {} to {} (e.g. {shared}); \
                     a series needs each time once",
                    a.display(),
                    b.display(),
                    tb[0].max(ta[0]),
                    last.min(tb[tb.len() - 1]),
                )));
            }
        }
        let times: Vec<Timestamp> = parts.iter().flat_map(|(_, t)| t.iter().copied()).collect();
        let gaps = find_gaps(&times, first_info.calendar)?;
        let mut start = 0;
        let parts: Vec<Part> = parts
            .into_iter()
            .map(|(path, t)| {
                let part = Part { path, start };
                start += t.len();
                part
            })
            .collect();
        let origin = match (parts.first(), parts.last()) {
            (Some(a), Some(b)) if parts.len() > 1 => {
                format!("{} files, {} … {}", parts.len(), a.path.display(), b.path.display())
            }
            (Some(a), _) => a.path.display().to_string(),
            _ => first_path.as_ref().display().to_string(),
        };
        let info = SourceInfo { times, origin, ..first_info };
        Ok(MultiFileSource {
            reference: first_path.as_ref().to_path_buf(),
            parts,
            variable: variable.to_string(),
            options: options.clone(),
            info,
            gaps,
            open: Mutex::new(Vec::with_capacity(OPEN_FILES)),
        })
    }

    /// The files in time order (files without frames left out).
    pub fn files(&self) -> Vec<&Path> {
        self.parts.iter().map(|p| p.path.as_path()).collect()
    }

    /// Where the series has no data, at its usual time step.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// The source for part `k`, opened now or earlier.
    fn part_source(&self, k: usize) -> Result<Arc<dyn FieldSource>> {
        {
            let open = self.open.lock().map_err(|_| Error::Format("a reading thread failed".into()))?;
            if let Some((_, source)) = open.iter().find(|(i, _)| *i == k) {
                return Ok(Arc::clone(source));
            }
        }
        let path = &self.parts[k].path;
        let source: Arc<dyn FieldSource> = Arc::from(open_source(path, &self.variable, &self.options)?);
        // The file may have been replaced since the series was opened: it
        // must still be on the series' grid, in its units and calendar.
        check_compatible(path, source.info(), &self.reference, &self.info)?;
        let mut open = self.open.lock().map_err(|_| Error::Format("a reading thread failed".into()))?;
        if let Some((_, existing)) = open.iter().find(|(i, _)| *i == k) {
            return Ok(Arc::clone(existing));
        }
        if open.len() == OPEN_FILES {
            open.remove(0);
        }
        open.push((k, Arc::clone(&source)));
        Ok(source)
    }
}

impl FieldSource for MultiFileSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let time = self.info.frame_time(index)?;
        let k = self.parts.partition_point(|p| p.start <= index) - 1;
        let part = &self.parts[k];
        let frame = self.part_source(k)?.read_frame(index - part.start).in_file(&part.path)?;
        // A file changed since it was opened would put frames out of order.
        if frame.time() != time {
            return Err(Error::Format(format!(
                "frame {} is at {} now but was at {} when the series was opened",
                index - part.start,
                frame.time(),
                time
            ))
            .in_file(&part.path));
        }
        Ok(frame)
    }
}

/// A file's grid, units and calendar must be the first file's.
fn check_compatible(path: &Path, info: &SourceInfo, first: &Path, expected: &SourceInfo) -> Result<()> {
    let differs = |what: String| {
        Err(Error::Format(format!("{what}, unlike {} (all files of a series must agree)", first.display()))
            .in_file(path))
    };
    if info.grid != expected.grid {
        let describe = |i: &SourceInfo| {
            let g = &i.grid;
            format!(
                "{}×{} from ({}, {}) to ({}, {})",
                g.nlat(),
                g.nlon(),
                g.lat(0),
                g.lon(0),
                g.lat(g.nlat() - 1),
                g.lon(g.nlon() - 1)
            )
        };
        return differs(format!("the grid is {} where it was {}", describe(info), describe(expected)));
    }
    if info.units != expected.units {
        return differs(format!(
            "`{}` is in {} where it was in {}",
            info.variable,
            info.units.as_deref().unwrap_or("no units"),
            expected.units.as_deref().unwrap_or("no units")
        ));
    }
    if info.calendar != expected.calendar {
        return differs(format!("the calendar is {:?} where it was {:?}", info.calendar, expected.calendar));
    }
    Ok(())
}

/// Gaps in strictly increasing `times`: steps longer than the most common one.
fn find_gaps(times: &[Timestamp], calendar: pst_core::Calendar) -> Result<Vec<Gap>> {
    let millis: Vec<i64> = times.iter().map(|&t| calendar.to_millis(t)).collect::<Result<_>>()?;
    let steps: Vec<i64> = millis.windows(2).map(|w| w[1] - w[0]).collect();
    let Some(usual) = most_common(&steps) else { return Ok(Vec::new()) };
    Ok(steps
        .iter()
        .enumerate()
        .filter(|&(_, &step)| step > usual)
        .map(|(k, &step)| Gap { after: times[k], before: times[k + 1], missing: (step / usual - 1).max(0) as usize })
        .filter(|g| g.missing > 0)
        .collect())
}

fn most_common(values: &[i64]) -> Option<i64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let mut best: Option<(i64, usize)> = None;
    for run in sorted.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(_, n)| run.len() > n) {
            best = Some((run[0], run.len()));
        }
    }
    best.map(|(v, _)| v)
}

/// Expands what a user gave as input into a list of paths: each argument is
/// a path, a glob (`era5_msl_*.nc`, in name order), or a text file listing
/// paths (`@runs.txt`, or a file named `*.txt`, `*.lst` or `*.list`), one
/// per line, relative to the list's folder, `#` for comments, globs allowed.
/// Listed files that do not exist are returned in the second list, to be
/// reported (they show up as gaps in the series); an argument or glob that
/// matches nothing is an error.
pub fn expand_inputs(arguments: &[impl AsRef<str>]) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for argument in arguments {
        let argument = argument.as_ref();
        if let Some(list) = argument.strip_prefix('@') {
            read_list(Path::new(list), &mut found, &mut missing)?;
        } else if crate::is_url(argument) {
            // Remote: opened (and found missing) when read.
            found.push(PathBuf::from(argument));
        } else if Path::new(argument).exists() {
            let path = Path::new(argument);
            if is_path_list(path) {
                read_list(path, &mut found, &mut missing)?;
            } else {
                found.push(path.to_path_buf());
            }
        } else if argument.contains(['*', '?', '[']) {
            found.extend(glob_paths(argument)?);
        } else {
            return Err(Error::Io(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"))
                .in_file(argument));
        }
    }
    Ok((found, missing))
}

fn glob_paths(pattern: &str) -> Result<Vec<PathBuf>> {
    let matches: Vec<PathBuf> = glob::glob(pattern)
        .map_err(|e| Error::InvalidArgument(format!("bad file pattern `{pattern}`: {e}")))?
        .filter_map(std::result::Result::ok)
        .collect();
    if matches.is_empty() {
        return Err(Error::InvalidArgument(format!("no file matches `{pattern}`")));
    }
    Ok(matches)
}

/// The extensions of a list of input files given without `@`.
const LIST_EXTENSIONS: &[&str] = &["txt", "lst", "list"];

/// The largest list of input files read (16 MiB of paths).
const MAX_LIST_BYTES: u64 = 1 << 24;

/// Whether `path` is a list of input files given without `@`: a regular
/// file with a list extension ([`LIST_EXTENSIONS`]) that is not gridded
/// data by its magic number and whose first entry looks like a path. Any other file is gridded input, and one that
/// is not gets an error saying how it starts (a track file or an HTML page
/// is never read as a list of thousands of missing files).
fn is_path_list(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if !path.is_file() || !LIST_EXTENSIONS.contains(&ext.as_str()) {
        return false;
    }
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).unwrap_or(0);
    let head = &head[..n];
    if crate::open::starts_as_gridded_data(head) {
        return false;
    }
    // Its first entry must look like a path: an existing file, a glob, or
    // a name with a gridded-data extension.
    let text = String::from_utf8_lossy(head);
    let base = path.parent().unwrap_or(Path::new("."));
    text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).is_some_and(|first| {
        let named = Path::new(first);
        let ext = named.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        base.join(named).exists() || first.contains(['*', '?', '[']) || DATA_EXTENSIONS.contains(&ext.as_str())
    })
}

/// Extensions of gridded input, by which a list's entries are recognised.
const DATA_EXTENSIONS: &[&str] = &[
    "nc", "nc3", "nc4", "netcdf", "cdf", "h5", "hdf5", "he5", "zarr", "grib", "grib1", "grib2", "grb", "grb1", "grb2",
];

fn read_list(list: &Path, found: &mut Vec<PathBuf>, missing: &mut Vec<PathBuf>) -> Result<()> {
    let size = std::fs::metadata(list).in_file(list)?.len();
    if size > MAX_LIST_BYTES {
        return Err(Error::Format(format!(
            "a list of input files of {size} bytes is longer than pst reads ({MAX_LIST_BYTES})"
        ))
        .in_file(list));
    }
    let bytes = std::fs::read(list).in_file(list)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::Format("not a list of input files: it is not text (UTF-8)".into()).in_file(list))?;
    let base = list.parent().unwrap_or(Path::new("."));
    for (number, line) in text.lines().enumerate().map(|(k, l)| (k + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.len() > 4096 || line.chars().any(char::is_control) {
            return Err(Error::Format(format!(
                "line {number} is not a path: a list of input files names one file per line"
            ))
            .in_file(list));
        }
        let path =
            if Path::new(line).is_absolute() || crate::is_url(line) { PathBuf::from(line) } else { base.join(line) };
        if path.exists() || crate::is_url(line) {
            found.push(path);
        } else if line.contains(['*', '?', '[']) {
            found.extend(glob_paths(&path.to_string_lossy()).in_file(list)?);
        } else {
            missing.push(path);
        }
    }
    Ok(())
}

/// Opens one series from one or several files: [`open_source`] for one,
/// a [`MultiFileSource`] (files ordered by time, checked to agree) for more,
/// with the [`Gap`]s between its files.
pub fn open_series(
    paths: &[impl AsRef<Path>],
    variable: &str,
    options: &OpenOptions,
) -> Result<(Box<dyn FieldSource>, Vec<Gap>)> {
    match paths {
        [one] => Ok((open_source(one, variable, options)?, Vec::new())),
        _ => {
            let series = MultiFileSource::open(paths, variable, options)?;
            let gaps = series.gaps().to_vec();
            Ok((Box::new(series), gaps))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_counted_in_usual_steps() {
        let t = |d: u8, h: u8| Timestamp::from_ymdh(2025, 12, d, h).unwrap();
        let times = [t(1, 0), t(1, 6), t(1, 12), t(2, 6), t(2, 12), t(3, 0)];
        let gaps = find_gaps(&times, pst_core::Calendar::Standard).unwrap();
        assert_eq!(
            gaps,
            [
                Gap { after: t(1, 12), before: t(2, 6), missing: 2 },
                Gap { after: t(2, 12), before: t(3, 0), missing: 1 }
            ]
        );
        assert!(find_gaps(&times[..1], pst_core::Calendar::Standard).unwrap().is_empty());
    }
}
