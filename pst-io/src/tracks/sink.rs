//! A [`TrackSink`] that writes a track file.

use std::path::{Path, PathBuf};

use pst_core::{Error, Result, TrackSink, Tracks};

use super::{AtomicFile, StreamingWriter, TrackFormat};

/// Writes the tracks of a run to a file in any format of
/// [`FORMATS`](super::FORMATS), atomically: IMILAST and the CSV formats as
/// the batches come (a run then never holds all its tracks), the others at
/// [`TrackSink::finish`]. The file appears under its name only when the run
/// finished; until then it is a hidden temporary file beside it, removed if
/// the sink is dropped unfinished (an error, a cancelled run), so a failed
/// run never leaves a half-written file or touches an existing one.
///
/// ```
/// use pst_core::{TrackSink, Tracks, TracksBuilder, Timestamp};
/// use pst_io::{TrackFileSink, read_tracks};
///
/// let dir = std::env::temp_dir().join(format!("pst-doc-sink-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("two.imilast.txt");
/// let batch = |id: u64, lat: f64| -> pst_core::Result<Tracks> {
///     let mut b = TracksBuilder::new(["msl"]);
///     b.begin_track(id);
///     b.push(Timestamp::from_ymdh(2025, 12, 1, 0)?, lat, 10.0, &[98_000.0])?;
///     b.end_track()?;
///     b.finish()
/// };
/// let mut sink = TrackFileSink::create(&path, None)?; // the format from the name
/// sink.accept(batch(1, 50.0)?)?;
/// sink.accept(batch(2, -40.0)?)?;
/// assert!(!path.exists()); // not before the run is complete
/// sink.finish()?;
/// assert_eq!(read_tracks(&path, None)?.len(), 2);
/// # std::fs::remove_dir_all(dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TrackFileSink {
    path: PathBuf,
    format: TrackFormat,
    state: State,
}

enum State {
    /// A format written as batches come: its writer, and the file once the
    /// first batch has given the header.
    Streaming(Box<dyn StreamingWriter>, Option<AtomicFile>),
    /// A format written whole: the tracks so far.
    Collecting(Option<Tracks>),
    /// Finished: the file is in place.
    Done,
}

impl std::fmt::Debug for TrackFileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackFileSink").field("path", &self.path).field("format", &self.format).finish()
    }
}

impl TrackFileSink {
    /// A sink writing `path` in `format`, or in the format its name implies
    /// ([`TrackFormat::from_path`]). Nothing is created before the first
    /// batch.
    pub fn create(path: impl AsRef<Path>, format: Option<TrackFormat>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let format = match format {
            Some(f) => f,
            None => TrackFormat::from_path(&path)?,
        };
        let state = match format.streaming_writer() {
            Some(writer) => State::Streaming(writer, None),
            None => State::Collecting(None),
        };
        Ok(TrackFileSink { path, format, state })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its format.
    pub fn format(&self) -> TrackFormat {
        self.format
    }
}

impl TrackSink for TrackFileSink {
    fn accept(&mut self, tracks: Tracks) -> Result<()> {
        match &mut self.state {
            State::Streaming(writer, file) => {
                let out = match file {
                    Some(out) => out,
                    None => {
                        let mut out = AtomicFile::create(&self.path)?;
                        writer.write_header(&tracks, out.writer()).map_err(|e| e.in_file(&self.path))?;
                        file.insert(out)
                    }
                };
                writer.write_body(&tracks, out.writer()).map_err(|e| e.in_file(&self.path))
            }
            State::Collecting(Some(held)) => held.append(tracks),
            State::Collecting(held) => {
                *held = Some(tracks);
                Ok(())
            }
            State::Done => Err(Error::InvalidArgument(format!("{}: the file is already written", self.path.display()))),
        }
    }

    fn finish(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Streaming(_, Some(file)) => file.commit(),
            State::Collecting(Some(tracks)) => {
                let mut file = AtomicFile::create(&self.path)?;
                self.format.writer().write_tracks(&tracks, file.writer()).map_err(|e| e.in_file(&self.path))?;
                file.commit()
            }
            State::Streaming(_, None) | State::Collecting(None) => Err(Error::InvalidArgument(format!(
                "{}: no tracks were produced, not even an empty batch",
                self.path.display()
            ))),
            State::Done => Ok(()),
        }
    }
}
