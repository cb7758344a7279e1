//! The generic tracker: any detector, any linker.

use std::ops::Range;
use std::sync::atomic::AtomicUsize;

use pst_core::{
    Bounds, Detector, Error, FieldSource, FrameCenters, LinkStream, LinkedPart, Linker, Progress, Result, SourceInfo,
    TrackSink, Tracker, Tracks,
};

use crate::series::{Pool, detect_frames};

/// A tracker made of any [`Detector`] and any [`Linker`]: frames are read
/// and detected in parallel, a few per thread at a time, their centres
/// pushed in time order into one [`LinkStream`], and the tracks it finishes
/// handed to the [`TrackSink`] while the series is still being read. The
/// result does not depend on the number of threads. The Simple and Hodges
/// trackers are configurations of it (`SimpleTracker::for_source`,
/// `HodgesTracker::for_source`).
///
/// Tracks come out with the source's variable name (the linker's `value`
/// renamed), its units (or those set by [`DetectLinkTracker::values_in`]),
/// and metadata naming the algorithm, the source and the detector's and
/// linker's parameters.
///
/// ```
/// use pst_core::{DetectionMode, Grid, PlantedStorm, SyntheticSeries, Tracker};
/// use pst_detect::SimpleDetector;
/// use pst_link::SimpleLinker;
/// use pst_track::DetectLinkTracker;
///
/// let source = SyntheticSeries::builder(Grid::regular_global(2.5)?)
///     .frames(6)
///     .storm(PlantedStorm::low(0, 6, 45.0, 180.0).moving(0.0, 2.5))
///     .build()?;
/// let tracker = DetectLinkTracker::new(SimpleDetector::new(DetectionMode::Min), SimpleLinker::default())
///     .algorithm("my-tracker")
///     .threads(2);
/// let tracks = tracker.track(&source)?;
/// assert_eq!(tracks.iter().map(|t| t.len()).max(), Some(6));
/// assert_eq!(tracks.metadata().algorithm.as_deref(), Some("my-tracker"));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DetectLinkTracker<D, L> {
    detector: D,
    linker: L,
    threads: Option<usize>,
    max_frames: Option<usize>,
    algorithm: String,
    value_factor: f64,
    units: Option<Option<String>>,
}

impl<D: Detector, L: Linker> DetectLinkTracker<D, L> {
    /// `detector` then `linker`, on rayon's threads, every frame.
    pub fn new(detector: D, linker: L) -> Self {
        DetectLinkTracker {
            detector,
            linker,
            threads: None,
            max_frames: None,
            algorithm: "custom".into(),
            value_factor: 1.0,
            units: None,
        }
    }

    /// Worker threads for detection and for the linker's own parallel work
    /// (default: rayon's, which honours `RAYON_NUM_THREADS`).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Only the first `frames` frames.
    pub fn max_frames(mut self, frames: usize) -> Self {
        self.max_frames = Some(frames);
        self
    }

    /// The algorithm's name in the tracks' metadata (default `custom`).
    pub fn algorithm(mut self, name: impl Into<String>) -> Self {
        self.algorithm = name.into();
        self
    }

    /// The detector's values times `factor` are in `units` (default: as the
    /// source says, factor 1): trackers that detect in the file's units
    /// report in canonical ones this way.
    pub fn values_in(mut self, factor: f64, units: Option<String>) -> Self {
        self.value_factor = factor;
        self.units = Some(units);
        self
    }

    /// The detector.
    pub fn detector(&self) -> &D {
        &self.detector
    }

    /// The linker.
    pub fn linker(&self) -> &L {
        &self.linker
    }

    /// Detects the centres of frames `range` of `source`, frames in
    /// parallel, for a caller that links them elsewhere (MPI ranks each
    /// detect a slab of the series and one rank links them all with
    /// [`DetectLinkTracker::link_detected`]). Frame indices are the
    /// series'.
    pub fn detect_range(
        &self,
        source: &dyn FieldSource,
        range: Range<usize>,
        progress: &dyn Progress,
    ) -> Result<Vec<FrameCenters>> {
        let pool = Pool::new(self.threads)?;
        let counter = AtomicUsize::new(0);
        let end = range.end.min(source.len());
        let mut frames = Vec::with_capacity(end.saturating_sub(range.start));
        for batch in pool.batches(end.saturating_sub(range.start)) {
            let batch = range.start + batch.start..range.start + batch.end;
            frames.extend(pool.run(|| detect_frames(source, &self.detector, batch, progress, &counter))?);
        }
        Ok(frames)
    }

    /// Links centres detected by [`DetectLinkTracker::detect_range`] (every
    /// frame of the run, in time order) into `sink`: the same tracks, byte
    /// for byte, as [`Tracker::track_into`] on the whole series. Parts of
    /// the link done elsewhere ([`pst_core::SplitLink::link_part`], e.g. on other MPI
    /// ranks) come in `linked` and are not linked again; with none, the
    /// linker links everything.
    pub fn link_detected(
        &self,
        source: &dyn FieldSource,
        frames: &[FrameCenters],
        linked: Vec<LinkedPart>,
        sink: &mut dyn TrackSink,
    ) -> Result<()> {
        let pool = Pool::new(self.threads)?;
        let info = source.info();
        let times: Vec<_> = frames.iter().map(FrameCenters::time).collect();
        let tracks = pool.run(|| -> Result<Tracks> {
            let mut stream = match (linked.is_empty(), self.linker.split()) {
                (true, _) => self.linker.start(&times, info.calendar)?,
                (false, Some(split)) => split.start_linked(&times, info.calendar, linked)?,
                (false, None) => {
                    return Err(Error::Unsupported(
                        "parts linked elsewhere were given to a linker that does not split".into(),
                    ));
                }
            };
            for centers in frames {
                stream.push(centers)?;
            }
            stream.finish()
        })?;
        sink.accept(self.label(tracks, info)?)?;
        sink.finish()
    }

    /// Links part `part` of the linker's split ([`pst_core::SplitLink::parts`]) of a
    /// run over `source`, given the centres of the part's frames: for
    /// [`DetectLinkTracker::link_detected`] elsewhere.
    ///
    /// # Errors
    /// When the linker does not split, or as [`pst_core::SplitLink::link_part`].
    pub fn link_part(&self, source: &dyn FieldSource, part: usize, frames: &[FrameCenters]) -> Result<LinkedPart> {
        let split = self.linker.split().ok_or_else(|| Error::Unsupported("this linker does not split".into()))?;
        let info = source.info();
        let times = (0..source.len()).map(|k| info.frame_time(k)).collect::<Result<Vec<_>>>()?;
        Pool::new(self.threads)?.run(|| split.link_part(&times, info.calendar, part, frames))
    }

    /// Names, scales and describes linked tracks (their centre values in a
    /// variable named `value`) as this tracker returns them.
    fn label(&self, mut tracks: Tracks, info: &SourceInfo) -> Result<Tracks> {
        tracks.rename_variable("value", info.variable.clone())?;
        // The detector's extra columns in the field's units (units `None`)
        // are scaled and labelled with the value.
        let mut in_field_units = vec![info.variable.clone()];
        for (name, units) in self.detector.columns() {
            if units.is_none() && tracks.variable(&name).is_some() {
                in_field_units.push(name);
            }
        }
        for name in &in_field_units {
            if self.value_factor != 1.0 {
                tracks.scale_variable(name, self.value_factor)?;
            }
            if let Some(units) = self.units.as_ref().unwrap_or(&info.units) {
                tracks.set_units(name, units.clone())?;
            }
        }
        let meta = tracks.metadata_mut();
        meta.variable = Some(info.variable.clone());
        meta.detection_mode = self.detector.mode();
        meta.algorithm = Some(self.algorithm.clone());
        meta.bounds = Some(Bounds::of_grid(&info.grid));
        meta.attributes.insert("source".into(), info.origin.clone());
        meta.attributes.extend(self.detector.attributes());
        meta.attributes.extend(self.linker.attributes());
        Ok(tracks)
    }

    /// Labels finished `tracks` and gives them to `sink` (none: nothing).
    fn hand_over(&self, tracks: Tracks, info: &SourceInfo, sink: &mut dyn TrackSink) -> Result<()> {
        if tracks.is_empty() { Ok(()) } else { sink.accept(self.label(tracks, info)?) }
    }
}

/// Pushes a batch's centres, in time order, into `stream` and takes the
/// tracks that finishes.
fn link_batch(stream: &mut dyn LinkStream, batch: &[FrameCenters]) -> Result<Tracks> {
    for centers in batch {
        stream.push(centers)?;
    }
    stream.take_finished()
}

impl<D: Detector, L: Linker> Tracker for DetectLinkTracker<D, L> {
    fn track_into(&self, source: &dyn FieldSource, sink: &mut dyn TrackSink, progress: &dyn Progress) -> Result<()> {
        let info = source.info();
        let frames = self.max_frames.map_or(source.len(), |n| n.min(source.len()));
        let pool = Pool::new(self.threads)?;
        let mut stream: Box<dyn LinkStream + '_> =
            pool.run(|| self.linker.start(&info.times[..frames], info.calendar))?;
        progress.stage("detecting", Some(frames as u64));
        let counter = AtomicUsize::new(0);
        // The link is serial (one stream, frames in time order), so the
        // centres of each batch are linked while the next batch is detected:
        // one thread links while the others detect. Meanwhile the tracks the
        // batch before finished go to the sink, here on the calling thread
        // (a sink need not be `Send`). The linker's work may be parallel
        // itself.
        let mut detected: Vec<FrameCenters> = Vec::new();
        let mut linked = Tracks::default();
        for batch in pool.batches(frames) {
            let mut work = None;
            let handed = pool.in_place_scope(|scope| {
                let stream = &mut *stream;
                let (detected, counter) = (&detected, &counter);
                scope.spawn(|_| {
                    work = Some(rayon::join(
                        || detect_frames(source, &self.detector, batch, progress, counter),
                        || link_batch(stream, detected),
                    ));
                });
                self.hand_over(std::mem::take(&mut linked), info, sink)
            });
            // The earlier frames first: their tracks' delivery, their link,
            // then the new batch's detection.
            handed?;
            // The scope waited for the task it spawned: `work` is set.
            let (next, finished) = work.ok_or_else(|| Error::InvalidArgument("a batch was not detected".into()))?;
            linked = finished?;
            detected = next?;
        }
        self.hand_over(linked, info, sink)?;
        let finished = pool.run(|| link_batch(&mut *stream, &detected))?;
        self.hand_over(finished, info, sink)?;
        if progress.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let rest = pool.run(|| stream.finish())?;
        sink.accept(self.label(rest, info)?)?;
        sink.finish()
    }
}

#[cfg(test)]
mod test {
    use pst_core::{Calendar, DetectionMode, Frame, Grid, SyntheticSeries, Timestamp};
    use pst_detect::SimpleDetector;
    use pst_link::SimpleLinker;

    use super::*;
    use crate::series::FRAMES_PER_THREAD_IN_FLIGHT;

    /// Frames from `damaged_from` on cannot be read.
    struct DamagedSource {
        series: SyntheticSeries,
        damaged_from: usize,
    }

    impl FieldSource for DamagedSource {
        fn info(&self) -> &SourceInfo {
            self.series.info()
        }

        fn read_frame(&self, index: usize) -> Result<Frame> {
            if index >= self.damaged_from {
                return Err(Error::InvalidArgument(format!("frame {index} is damaged")));
            }
            self.series.read_frame(index)
        }
    }

    /// Simple linking that fails at the frame numbered `fails_at`.
    struct FailingLinker {
        simple: SimpleLinker,
        fails_at: usize,
    }

    struct FailingStream<'a> {
        inner: Box<dyn LinkStream + 'a>,
        fails_at: usize,
    }

    impl Linker for FailingLinker {
        fn start(&self, times: &[Timestamp], calendar: Calendar) -> Result<Box<dyn LinkStream + '_>> {
            let inner = self.simple.start(times, calendar)?;
            Ok(Box::new(FailingStream { inner, fails_at: self.fails_at }))
        }
    }

    impl LinkStream for FailingStream<'_> {
        fn push(&mut self, centers: &FrameCenters) -> Result<()> {
            if centers.frame_index() == self.fails_at {
                return Err(Error::InvalidArgument(format!("linking frame {} failed", self.fails_at)));
            }
            self.inner.push(centers)
        }

        fn take_finished(&mut self) -> Result<Tracks> {
            self.inner.take_finished()
        }

        fn finish(self: Box<Self>) -> Result<Tracks> {
            self.inner.finish()
        }
    }

    /// A batch is linked while the next is detected: an error in linking
    /// the earlier frames is the one reported, not the next batch's.
    #[test]
    fn the_earlier_frames_error_wins_while_batches_overlap() -> Result<()> {
        let detector = SimpleDetector::new(DetectionMode::Min);
        for threads in [1, 2, 3] {
            // A frame of the second batch is damaged; linking fails at a
            // frame of the first.
            let batch = FRAMES_PER_THREAD_IN_FLIGHT * threads;
            let damaged = batch + 1;
            let series = SyntheticSeries::builder(Grid::regular_global(10.0)?).frames(2 * batch + 2).build()?;
            let source = DamagedSource { series, damaged_from: damaged };
            let linker = FailingLinker { simple: SimpleLinker::default(), fails_at: 2 };
            let failing = DetectLinkTracker::new(detector.clone(), linker).threads(threads);
            let error = failing.track(&source).err().map(|e| e.to_string());
            assert_eq!(error.as_deref(), Some("invalid argument: linking frame 2 failed"), "{threads} threads");
            let plain = DetectLinkTracker::new(detector.clone(), SimpleLinker::default()).threads(threads);
            let error = plain.track(&source).err().map(|e| e.to_string());
            let expected = format!("invalid argument: frame {damaged} is damaged");
            assert_eq!(error.as_deref(), Some(expected.as_str()), "{threads} threads");
        }
        Ok(())
    }
}
