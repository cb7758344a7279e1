//! A run split in two: centres detected in slabs of frames wherever there
//! is room (MPI ranks, Dask workers, other machines), then linked once.
//! Detection is per frame and linking sees every frame in order, so the
//! tracks are the whole run's, byte for byte.

use std::ops::Range;
use std::path::PathBuf;

use pst_core::{Calendar, Detector, Error, FieldSource, FrameCenters, Linker, Progress, Result, SourceInfo, TrackSink};
use pst_track::DetectLinkTracker;

use crate::pipeline::{Event, Pipeline, Reporter, RunReport, TrackerChoice};

/// The centres of some frames of a run, as bytes that travel (between MPI
/// ranks, Dask workers, processes): made by [`Pipeline::detect_slab`],
/// linked by [`Pipeline::link_slabs`]. Little-endian, per frame its index,
/// time and count, then each centre's latitude, longitude, value, grid
/// point and the detector's extra columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedSlab {
    bytes: Vec<u8>,
}

impl DetectedSlab {
    /// A slab from bytes received (checked when linked).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        DetectedSlab { bytes }
    }

    /// The bytes to send.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes to send, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// A reporter that passes progress on but not warnings (missing files,
/// gaps): opening the input to count or detect frames would repeat what
/// the link, which opens it too, reports once.
struct WarningsElsewhere<'a>(&'a dyn Reporter);

impl Progress for WarningsElsewhere<'_> {
    fn stage(&self, name: &str, total: Option<u64>) {
        self.0.stage(name, total);
    }

    fn done(&self, completed: u64) {
        self.0.done(completed);
    }

    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

impl Reporter for WarningsElsewhere<'_> {
    fn event(&self, event: &Event<'_>) {
        if !matches!(event, Event::Warning(_)) {
            self.0.event(event);
        }
    }
}

/// A detect-then-link tracker split in two.
pub(crate) trait Engine {
    fn detect(
        &self,
        source: &dyn FieldSource,
        range: Range<usize>,
        progress: &dyn Progress,
    ) -> Result<Vec<FrameCenters>>;
    fn link(&self, source: &dyn FieldSource, frames: &[FrameCenters], sink: &mut dyn TrackSink) -> Result<()>;
    fn columns(&self) -> Vec<(String, Option<String>)>;
}

impl<D: Detector, L: Linker> Engine for DetectLinkTracker<D, L> {
    fn detect(
        &self,
        source: &dyn FieldSource,
        range: Range<usize>,
        progress: &dyn Progress,
    ) -> Result<Vec<FrameCenters>> {
        self.detect_range(source, range, progress)
    }

    fn link(&self, source: &dyn FieldSource, frames: &[FrameCenters], sink: &mut dyn TrackSink) -> Result<()> {
        self.link_detected(source, frames, sink)
    }

    fn columns(&self) -> Vec<(String, Option<String>)> {
        self.detector().columns()
    }
}

/// `tracker`'s engine for a source described by `info`.
pub(crate) fn engine(tracker: &TrackerChoice, info: &SourceInfo) -> Result<Box<dyn Engine>> {
    Ok(match tracker {
        TrackerChoice::Simple(t) => Box::new(t.for_source(info)?),
        TrackerChoice::Hodges(t) => Box::new(t.for_source(info)?),
        TrackerChoice::Healpix(t) => Box::new(t.for_source(info)?),
        TrackerChoice::Custom(_) => {
            return Err(Error::Unsupported(
                "a split run (MPI, Dask) needs the Simple, Hodges or HEALPix tracker".into(),
            ));
        }
    })
}

impl Pipeline {
    /// The input files and the one member a split run tracks.
    pub(crate) fn one_series(&self, reporter: &dyn Reporter) -> Result<(Vec<PathBuf>, Option<u32>)> {
        let paths = self.input_files(reporter)?;
        let members = self.members_of(&paths)?;
        match members[..] {
            [member] => Ok((paths, member)),
            _ => Err(Error::InvalidArgument(
                "a split run (MPI, Dask) tracks one series; choose one ensemble member (or run a batch)".into(),
            )),
        }
    }

    /// The number of frames the run tracks (one series, after the time
    /// window and the frame limit): what a split run divides.
    ///
    /// # Errors
    /// When the input does not open, or has several members.
    pub fn frame_count(&self, reporter: &dyn Reporter) -> Result<usize> {
        let reporter = &WarningsElsewhere(reporter);
        let (paths, member) = self.one_series(reporter)?;
        Ok(self.open(&paths, member, reporter)?.len())
    }

    /// Detects the centres of `frames` of the run (one series), in
    /// parallel on the pipeline's threads, for [`Pipeline::link_slabs`].
    /// `offset` is where this pipeline's input starts in the whole run (a
    /// worker given only frames `a..b` of an array tracks its frames
    /// `0..b-a` with offset `a`), so frames are numbered as the run's.
    ///
    /// # Errors
    /// As [`Pipeline::track_into`]; a custom tracker cannot be split.
    pub fn detect_slab(&self, frames: Range<usize>, offset: usize, reporter: &dyn Reporter) -> Result<DetectedSlab> {
        let reporter = &WarningsElsewhere(reporter);
        let (paths, member) = self.one_series(reporter)?;
        let source = self.open(&paths, member, reporter)?;
        let mut options = self.open_options().clone();
        options.member = member;
        let tracker = self.tracker_reading_criteria_fields(&paths, &options, source.info())?;
        let engine = engine(&tracker, source.info())?;
        let end = frames.end.min(source.len());
        reporter.stage("detecting", Some(end.saturating_sub(frames.start) as u64));
        let centres = engine.detect(source.as_ref(), frames.start..end, reporter)?;
        encode(&centres, offset, source.info().calendar)
    }

    /// Links the slabs [`Pipeline::detect_slab`] made (every frame of the
    /// run, in order) into `sink`, finished: the tracks of
    /// [`Pipeline::track_into`], stamped, sampled and filtered alike.
    /// The report is returned, not yet sent to `reporter`
    /// ([`Pipeline::report_finished`]).
    ///
    /// # Errors
    /// When the slabs are damaged, miss frames or hold them out of order,
    /// or as [`Pipeline::track_into`].
    pub fn link_slabs(
        &self,
        slabs: &[DetectedSlab],
        sink: &mut dyn TrackSink,
        reporter: &dyn Reporter,
    ) -> Result<RunReport> {
        let (paths, member) = self.one_series(reporter)?;
        self.run_member(&paths, member, false, sink, reporter, &|tracker, source, sink| {
            let engine = engine(tracker, source.info())?;
            let columns = engine.columns();
            let mut frames = Vec::with_capacity(source.len());
            for slab in slabs {
                frames.extend(decode(slab.as_bytes(), source.info().calendar, &columns)?);
            }
            if let Some(k) = frames.iter().enumerate().position(|(k, f)| f.frame_index() != k) {
                return Err(Error::InvalidArgument(format!(
                    "the detected slabs hold frame {} where frame {k} belongs: give every slab, in order",
                    frames[k].frame_index()
                )));
            }
            if frames.len() != source.len() {
                return Err(Error::InvalidArgument(format!(
                    "the detected slabs hold {} frames of the run's {}: give every slab",
                    frames.len(),
                    source.len()
                )));
            }
            reporter.event(&Event::Note(&format!("linking {} frames from {} slabs", frames.len(), slabs.len())));
            engine.link(source, &frames, sink)
        })
    }

    /// Tells `reporter` a split run is done ([`Event::Finished`]), with the
    /// hints a whole run gives.
    pub fn report_finished(&self, report: &RunReport, reporter: &dyn Reporter) {
        self.finished(report, reporter);
    }
}

/// Bytes per centre: lat, lon, value (f64) and the grid point (2 × u64),
/// then 8 per extra column.
const CENTRE_BYTES: usize = 40;

/// Bytes per frame header: index, time (ms in the source's calendar) and
/// count, as u64/i64.
const FRAME_BYTES: usize = 24;

/// Frames of centres as bytes, frame indices moved by `offset`: per frame
/// its header, then the centres.
fn encode(frames: &[FrameCenters], offset: usize, calendar: Calendar) -> Result<DetectedSlab> {
    let mut out =
        Vec::with_capacity(frames.iter().map(|f| FRAME_BYTES + f.len() * (CENTRE_BYTES + 8 * f.columns().len())).sum());
    for f in frames {
        out.extend_from_slice(&((f.frame_index() + offset) as u64).to_le_bytes());
        out.extend_from_slice(&calendar.to_millis(f.time())?.to_le_bytes());
        out.extend_from_slice(&(f.len() as u64).to_le_bytes());
        for k in 0..f.len() {
            out.extend_from_slice(&f.lats()[k].to_le_bytes());
            out.extend_from_slice(&f.lons()[k].to_le_bytes());
            out.extend_from_slice(&f.values()[k].to_le_bytes());
            let (i, j) = f.grid_points()[k];
            out.extend_from_slice(&(i as u64).to_le_bytes());
            out.extend_from_slice(&(j as u64).to_le_bytes());
            for column in f.columns() {
                out.extend_from_slice(&column.values[k].to_le_bytes());
            }
        }
    }
    Ok(DetectedSlab { bytes: out })
}

/// The frames of [`encode`]d bytes, with the detector's extra `columns`;
/// counts are checked against the bytes left before anything is allocated.
fn decode(bytes: &[u8], calendar: Calendar, columns: &[(String, Option<String>)]) -> Result<Vec<FrameCenters>> {
    let centre_bytes = CENTRE_BYTES + 8 * columns.len();
    let mut extra = vec![0.0; columns.len()];
    let truncated = || Error::Format("the detected centres are truncated".into());
    let mut words = bytes.chunks_exact(8).map(|c| {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        b
    });
    let mut next = || words.next().ok_or_else(truncated);
    let mut frames = Vec::new();
    let mut consumed = 0usize;
    while consumed < bytes.len() {
        let index = usize::try_from(u64::from_le_bytes(next()?)).map_err(|_| truncated())?;
        let time = calendar.from_millis(i64::from_le_bytes(next()?));
        let count = usize::try_from(u64::from_le_bytes(next()?)).map_err(|_| truncated())?;
        let size = count.checked_mul(centre_bytes).and_then(|n| n.checked_add(FRAME_BYTES)).ok_or_else(truncated)?;
        if size > bytes.len() - consumed {
            return Err(truncated());
        }
        let mut f = FrameCenters::with_columns(index, time, columns);
        for _ in 0..count {
            let (lat, lon, value) =
                (f64::from_le_bytes(next()?), f64::from_le_bytes(next()?), f64::from_le_bytes(next()?));
            let (i, j) = (u64::from_le_bytes(next()?) as usize, u64::from_le_bytes(next()?) as usize);
            for slot in &mut extra {
                *slot = f64::from_le_bytes(next()?);
            }
            f.push_with(lat, lon, value, (i, j), &extra);
        }
        consumed += size;
        frames.push(f);
    }
    Ok(frames)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn centres_survive_the_wire() {
        let columns = [("raw_value".to_string(), None), ("area".to_string(), Some("km2".to_string()))];
        let frames: Vec<FrameCenters> = (0..3)
            .map(|k| {
                let mut f =
                    FrameCenters::with_columns(k, Calendar::Standard.from_millis(k as i64 * 21_600_000), &columns);
                for i in 0..k {
                    f.push_with(10.0 * i as f64, 20.0, 98_000.0 + i as f64, (i, 2 * i), &[97_000.0, i as f64]);
                }
                f
            })
            .collect();
        let slab = encode(&frames, 0, Calendar::Standard).unwrap();
        assert_eq!(decode(slab.as_bytes(), Calendar::Standard, &columns).unwrap(), frames);
        assert!(decode(&slab.as_bytes()[..slab.as_bytes().len() - 3], Calendar::Standard, &columns).is_err());
        let moved = encode(&frames, 5, Calendar::Standard).unwrap();
        let indices: Vec<usize> =
            decode(moved.as_bytes(), Calendar::Standard, &columns).unwrap().iter().map(|f| f.frame_index()).collect();
        assert_eq!(indices, [5, 6, 7]);
    }
}
