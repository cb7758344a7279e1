//! A run split in two: centres detected in slabs of frames wherever there
//! is room (MPI ranks, Dask workers, other machines), then linked once.
//! Detection is per frame and linking sees every frame in order, so the
//! tracks are the whole run's, byte for byte.

use std::ops::Range;
use std::path::PathBuf;

use pst_core::{
    Calendar, Detector, Error, FieldSource, FrameCenters, LinkedPart, Linker, Progress, Result, SourceInfo, TrackSink,
};
use pst_track::DetectLinkTracker;

use crate::pipeline::{Event, Pipeline, Reporter, RunReport, TrackerChoice};

/// The centres of some frames of a run, and any parts of the link done
/// with them, as bytes that travel (between MPI ranks, Dask workers,
/// processes): made by [`Pipeline::detect_slab`] or
/// [`Pipeline::detect_and_link_parts`], linked by [`Pipeline::link_slabs`].
/// Little-endian u64/i64/f64 words: the number of frames, then per frame
/// its index, time and count and each centre's latitude, longitude, value,
/// grid point and the detector's extra columns; then the number of linked
/// parts, and per part its index, its number of tracks and each track's
/// length and centre indices. No bytes at all are a slab of no frames.
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
    fn link(
        &self,
        source: &dyn FieldSource,
        frames: &[FrameCenters],
        linked: Vec<LinkedPart>,
        sink: &mut dyn TrackSink,
    ) -> Result<()>;
    fn parts(&self, frames: usize) -> Vec<Range<usize>>;
    fn link_part(&self, source: &dyn FieldSource, part: usize, frames: &[FrameCenters]) -> Result<LinkedPart>;
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

    fn link(
        &self,
        source: &dyn FieldSource,
        frames: &[FrameCenters],
        linked: Vec<LinkedPart>,
        sink: &mut dyn TrackSink,
    ) -> Result<()> {
        self.link_detected(source, frames, linked, sink)
    }

    fn parts(&self, frames: usize) -> Vec<Range<usize>> {
        self.linker().split().map(|s| s.parts(frames)).filter(|p| p.len() > 1).unwrap_or_default()
    }

    fn link_part(&self, source: &dyn FieldSource, part: usize, frames: &[FrameCenters]) -> Result<LinkedPart> {
        DetectLinkTracker::link_part(self, source, part, frames)
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

    /// The run's one series, opened, and the engine that detects it (with
    /// the criteria's other fields read).
    fn detecting(&self, reporter: &dyn Reporter) -> Result<(Box<dyn FieldSource>, Box<dyn Engine>)> {
        let (paths, member) = self.one_series(reporter)?;
        let source = self.open(&paths, member, reporter)?;
        let mut options = self.open_options().clone();
        options.member = member;
        let tracker = self.tracker_reading_criteria_fields(&paths, &options, source.info())?;
        let engine = engine(&tracker, source.info())?;
        Ok((source, engine))
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
        let (source, engine) = self.detecting(reporter)?;
        let end = frames.end.min(source.len());
        reporter.stage("detecting", Some(end.saturating_sub(frames.start) as u64));
        let centres = engine.detect(source.as_ref(), frames.start..end, reporter)?;
        encode(&centres, offset, source.info().calendar, &[])
    }

    /// The frames of the independent parts the run's link splits into
    /// (the Hodges linker's MGE segments), in order; empty when the linker
    /// does not split or the run is one part. Parts overlap by a few
    /// frames.
    ///
    /// # Errors
    /// When the input does not open, or has several members.
    pub fn link_parts(&self, reporter: &dyn Reporter) -> Result<Vec<Range<usize>>> {
        let reporter = &WarningsElsewhere(reporter);
        let (paths, member) = self.one_series(reporter)?;
        let source = self.open(&paths, member, reporter)?;
        Ok(engine(self.tracker(), source.info())?.parts(source.len()))
    }

    /// Detects the frames of parts `parts` of the run's link
    /// ([`Pipeline::link_parts`]) and links those parts, for
    /// [`Pipeline::link_slabs`]: so linking, not only detection, is spread
    /// over the places a run is split to. The slab holds the centres of the
    /// frames these parts own — from the first part's first frame (the
    /// run's first for part 0) up to the next part's first frame (the run's
    /// end after the last part) — so the slabs of consecutive groups of
    /// parts hold every frame once.
    ///
    /// # Errors
    /// As [`Pipeline::detect_slab`]; when the linker does not split or
    /// `parts` are not among its parts.
    pub fn detect_and_link_parts(&self, parts: Range<usize>, reporter: &dyn Reporter) -> Result<DetectedSlab> {
        let reporter = &WarningsElsewhere(reporter);
        let (source, engine) = self.detecting(reporter)?;
        let plan = engine.parts(source.len());
        if parts.start >= parts.end || parts.end > plan.len() {
            return Err(Error::InvalidArgument(format!(
                "parts {}..{} asked for, but the run's link has {} parts",
                parts.start,
                parts.end,
                plan.len()
            )));
        }
        let detect = plan[parts.start].start..plan[parts.end - 1].end;
        let owned_start = if parts.start == 0 { 0 } else { plan[parts.start].start };
        let owned_end = plan.get(parts.end).map_or(source.len(), |p| p.start);
        reporter.stage("detecting", Some(detect.len() as u64));
        let centres = engine.detect(source.as_ref(), detect.clone(), reporter)?;
        let mut linked = Vec::with_capacity(parts.len());
        for part in parts {
            let frames = &centres[plan[part].start - detect.start..plan[part].end - detect.start];
            linked.push(engine.link_part(source.as_ref(), part, frames)?);
        }
        encode(&centres[owned_start - detect.start..owned_end - detect.start], 0, source.info().calendar, &linked)
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
            let mut linked: Vec<LinkedPart> = Vec::new();
            for slab in slabs {
                let (more_frames, more_parts) = decode(slab.as_bytes(), source.info().calendar, &columns)?;
                frames.extend(more_frames);
                linked.extend(more_parts);
            }
            linked.sort_by_key(|p| p.part);
            if let Some(w) = linked.windows(2).find(|w| w[0].part == w[1].part) {
                return Err(Error::InvalidArgument(format!("the detected slabs link part {} twice", w[0].part)));
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
            reporter.event(&Event::Note(&format!(
                "linking {} frames from {} slabs ({} parts linked there)",
                frames.len(),
                slabs.len(),
                linked.len()
            )));
            engine.link(source, &frames, linked, sink)
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

/// Frames of centres and linked parts as bytes, frame indices moved by
/// `offset` ([`DetectedSlab`]).
fn encode(frames: &[FrameCenters], offset: usize, calendar: Calendar, linked: &[LinkedPart]) -> Result<DetectedSlab> {
    let centre_words: usize =
        frames.iter().map(|f| FRAME_BYTES + f.len() * (CENTRE_BYTES + 8 * f.columns().len())).sum();
    let part_words: usize = linked.iter().map(|p| 16 + p.tracks.iter().map(|t| 8 + 8 * t.len()).sum::<usize>()).sum();
    let mut out = Vec::with_capacity(16 + centre_words + part_words);
    let mut word = |w: u64| out.extend_from_slice(&w.to_le_bytes());
    word(frames.len() as u64);
    for f in frames {
        word((f.frame_index() + offset) as u64);
        word(calendar.to_millis(f.time())? as u64);
        word(f.len() as u64);
        for k in 0..f.len() {
            word(f.lats()[k].to_bits());
            word(f.lons()[k].to_bits());
            word(f.values()[k].to_bits());
            let (i, j) = f.grid_points()[k];
            word(i as u64);
            word(j as u64);
            for column in f.columns() {
                word(column.values[k].to_bits());
            }
        }
    }
    word(linked.len() as u64);
    for part in linked {
        word(part.part as u64);
        word(part.tracks.len() as u64);
        for track in &part.tracks {
            word(track.len() as u64);
            for &centre in track {
                word(centre as u64);
            }
        }
    }
    Ok(DetectedSlab { bytes: out })
}

/// The frames and linked parts of [`encode`]d bytes, with the detector's
/// extra `columns`; every count is checked against the bytes left before
/// anything is allocated.
fn decode(
    bytes: &[u8],
    calendar: Calendar,
    columns: &[(String, Option<String>)],
) -> Result<(Vec<FrameCenters>, Vec<LinkedPart>)> {
    let damaged = || Error::Format("the detected centres are truncated or damaged".into());
    if bytes.is_empty() {
        // A place that had no frames to detect (an idle MPI rank).
        return Ok((Vec::new(), Vec::new()));
    }
    if !bytes.len().is_multiple_of(8) {
        return Err(damaged());
    }
    let mut words = bytes.chunks_exact(8).map(|c| {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        u64::from_le_bytes(b)
    });
    let mut next = || words.next().ok_or_else(damaged);
    let mut left = bytes.len() / 8;
    // A count of items of `words_each` words, checked against the words left.
    let mut count = |n: u64, words_each: usize| -> Result<usize> {
        let n = usize::try_from(n).map_err(|_| damaged())?;
        let needed = n.checked_mul(words_each).ok_or_else(damaged)?;
        left = left.checked_sub(needed).ok_or_else(damaged)?;
        Ok(n)
    };
    let centre_words = (CENTRE_BYTES + 8 * columns.len()) / 8;
    let mut extra = vec![0.0; columns.len()];
    let frame_count = count(next()?, FRAME_BYTES / 8)?;
    let mut frames = Vec::with_capacity(frame_count);
    for _ in 0..frame_count {
        let index = usize::try_from(next()?).map_err(|_| damaged())?;
        let time = calendar.from_millis(next()? as i64);
        let centres = count(next()?, centre_words)?;
        let mut f = FrameCenters::with_columns(index, time, columns);
        for _ in 0..centres {
            let (lat, lon, value) = (f64::from_bits(next()?), f64::from_bits(next()?), f64::from_bits(next()?));
            let (i, j) = (next()? as usize, next()? as usize);
            for slot in &mut extra {
                *slot = f64::from_bits(next()?);
            }
            f.push_with(lat, lon, value, (i, j), &extra);
        }
        frames.push(f);
    }
    let part_count = count(next()?, 2)?;
    let mut linked = Vec::with_capacity(part_count);
    for _ in 0..part_count {
        let part = usize::try_from(next()?).map_err(|_| damaged())?;
        let track_count = count(next()?, 1)?;
        let mut tracks = Vec::with_capacity(track_count);
        for _ in 0..track_count {
            let length = count(next()?, 1)?;
            tracks.push((0..length).map(|_| next().map(|c| c as usize)).collect::<Result<Vec<_>>>()?);
        }
        linked.push(LinkedPart { part, tracks });
    }
    if next().is_ok() {
        return Err(damaged());
    }
    Ok((frames, linked))
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
        let linked =
            [LinkedPart { part: 0, tracks: vec![vec![0, 1], vec![2]] }, LinkedPart { part: 3, tracks: Vec::new() }];
        let slab = encode(&frames, 0, Calendar::Standard, &linked).unwrap();
        assert_eq!(decode(slab.as_bytes(), Calendar::Standard, &columns).unwrap(), (frames.clone(), linked.to_vec()));
        for cut in [3, 8, 16, 24] {
            let short = &slab.as_bytes()[..slab.as_bytes().len() - cut];
            assert!(decode(short, Calendar::Standard, &columns).is_err(), "cut by {cut}");
        }
        // A huge count is refused before anything is allocated.
        let mut huge = slab.as_bytes().to_vec();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&huge, Calendar::Standard, &columns).is_err());
        let moved = encode(&frames, 5, Calendar::Standard, &[]).unwrap();
        let indices: Vec<usize> =
            decode(moved.as_bytes(), Calendar::Standard, &columns).unwrap().0.iter().map(|f| f.frame_index()).collect();
        assert_eq!(indices, [5, 6, 7]);
    }
}
