//! Criteria a detected centre must meet to be kept, TempestExtremes'
//! DetectNodes criteria for every tracker: a merge distance, thresholds
//! near the centre and closed contours around it ([`DetectionCriteria`]).
//!
//! They test the field the centres were found in (after any band-pass),
//! or another field of the input at the same time ([`FieldExpression`]:
//! another variable, a level, a difference of two), by breadth-first
//! searches over the grid from each centre's grid point,
//! its four edge neighbours (or eight), wrapping in longitude on a periodic
//! grid, as TempestExtremes searches a latitude-longitude grid.

use std::fmt;
use std::sync::Arc;

use ndarray::Array2;

use crate::DetectionMode;
use crate::centers::FrameCenters;
use crate::error::{Error, Result};
use crate::field_expression::FieldExpression;
use crate::frame::Frame;
use crate::grid::Grid;
use crate::source::FieldSource;
use crate::track_filter::ThresholdOp;

/// Which grid points are neighbours in the criteria's searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GridConnectivity {
    /// The four points sharing an edge (TempestExtremes' default).
    #[default]
    Edges,
    /// The eight points sharing an edge or a corner (TempestExtremes'
    /// `--diag_connect`).
    EdgesAndCorners,
}

/// A closed contour around a centre (TempestExtremes'
/// `--closedcontourcmd var,delta,dist,minmaxdist` on the tracked field):
/// starting from the most extreme grid point within
/// `extremum_distance_deg` of the centre, every point reached through
/// points that have changed by less than `|delta|` lies within
/// `distance_deg` of it. A positive `delta` asks for a rise around a
/// minimum, a negative one for a fall around a maximum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedContour {
    /// The change that closes the contour, in the field's units (Pa for
    /// pressure); positive around a minimum, negative around a maximum.
    pub delta: f64,
    /// Great-circle radius within which the contour must close, degrees.
    pub distance_deg: f64,
    /// Where to look for the extremum the contour surrounds, degrees from
    /// the centre's grid point (0: the centre's grid point itself).
    pub extremum_distance_deg: f64,
}

/// A threshold near a centre (TempestExtremes' `--thresholdcmd
/// var,op,value,dist` on the tracked field): at least one grid point
/// within `distance_deg` (reached through points within it) satisfies
/// `value OP threshold`; with distance 0, the centre's grid point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearThreshold {
    /// The comparison.
    pub op: ThresholdOp,
    /// The value compared with, in the field's units.
    pub value: f64,
    /// Search radius, degrees of great circle.
    pub distance_deg: f64,
}

/// The criteria detected centres must meet, applied in TempestExtremes'
/// order: merge distance, thresholds, closed contours. Empty by default
/// (every centre kept).
///
/// ```
/// use pst_core::{ClosedContour, DetectionCriteria, DetectionMode, Detector, FieldSource, Grid, PlantedStorm, SyntheticSeries};
///
/// let grid = Grid::regular_global(2.5)?;
/// let series = SyntheticSeries::builder(grid.clone())
///     .frames(1)
///     .storm(PlantedStorm::low(0, 1, 40.0, 200.0))
///     .build()?;
/// let frame = series.read_frame(0)?;
/// let mut centers = pst_core::FrameCenters::new(0, frame.time());
/// centers.push(40.0, 200.0, frame.values()[[20, 80]], (20, 80));
/// // The planted low deepens by far more than 2 hPa within 10°.
/// let criteria = DetectionCriteria::default()
///     .closed_contour(ClosedContour { delta: 200.0, distance_deg: 10.0, extremum_distance_deg: 0.0 });
/// criteria.apply(&grid, &frame, Some(DetectionMode::Min), &mut centers)?;
/// assert_eq!(centers.len(), 1);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DetectionCriteria {
    merge_distance_deg: Option<f64>,
    /// Each on its field: `None`, the field as detected.
    thresholds: Vec<(Option<FieldExpression>, NearThreshold)>,
    closed_contours: Vec<(Option<FieldExpression>, ClosedContour)>,
    connectivity: GridConnectivity,
    sources: FieldSources,
}

/// The sources of the variables other fields are read from, by name and
/// level; equal when they are the same sources.
#[derive(Clone, Default)]
struct FieldSources(Vec<(VariableAtLevel, Arc<dyn FieldSource>)>);

/// A variable's name and, for one with levels, the level's value.
type VariableAtLevel = (String, Option<f64>);

impl fmt::Debug for FieldSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|((name, level), _)| (name, level))).finish()
    }
}

impl PartialEq for FieldSources {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|((a, x), (b, y))| a == b && Arc::ptr_eq(x, y))
    }
}

impl DetectionCriteria {
    /// Of centres within `degrees` of great circle of one another, keep
    /// only those no other is more extreme than (TempestExtremes'
    /// `--mergedist`; equally extreme ones are all kept, as there).
    pub fn merge_distance(mut self, degrees: f64) -> Self {
        self.merge_distance_deg = Some(degrees);
        self
    }

    /// Adds a threshold test on the field as detected.
    pub fn threshold(mut self, test: NearThreshold) -> Self {
        self.thresholds.push((None, test));
        self
    }

    /// Adds a closed-contour test on the field as detected.
    pub fn closed_contour(mut self, contour: ClosedContour) -> Self {
        self.closed_contours.push((None, contour));
        self
    }

    /// Adds a threshold test on another field of the input, in its units
    /// (its variables' sources given by [`DetectionCriteria::field_source`]).
    pub fn threshold_on(mut self, field: FieldExpression, test: NearThreshold) -> Self {
        self.thresholds.push((Some(field), test));
        self
    }

    /// Adds a closed-contour test on another field of the input (for
    /// example a warm core: `_DIFF(z(250),z(500))` falling by 60 m²s⁻²
    /// within 6.5°).
    pub fn closed_contour_on(mut self, field: FieldExpression, contour: ClosedContour) -> Self {
        self.closed_contours.push((Some(field), contour));
        self
    }

    /// The variables (name, level) the criteria read besides the field as
    /// detected, each once.
    pub fn other_variables(&self) -> Vec<(String, Option<f64>)> {
        let mut out: Vec<(String, Option<f64>)> = Vec::new();
        let fields = self.thresholds.iter().map(|(f, _)| f).chain(self.closed_contours.iter().map(|(f, _)| f));
        for variable in fields.flatten().flat_map(FieldExpression::variables) {
            if !out.contains(&variable) {
                out.push(variable);
            }
        }
        out
    }

    /// Where variable `name` at `level` is read from: a source on the
    /// tracked field's grid (the same orientation: north to south,
    /// longitudes from 0°E) with the same times, read at the detected
    /// frame's index.
    pub fn field_source(mut self, name: &str, level: Option<f64>, source: Arc<dyn FieldSource>) -> Self {
        let key = (name.to_string(), level);
        self.sources.0.retain(|(k, _)| k != &key);
        self.sources.0.push((key, source));
        self
    }

    /// The grid connectivity of the searches (default
    /// [`GridConnectivity::Edges`]).
    pub fn connectivity(mut self, connectivity: GridConnectivity) -> Self {
        self.connectivity = connectivity;
        self
    }

    /// Whether there is nothing to test.
    pub fn is_empty(&self) -> bool {
        self.merge_distance_deg.is_none() && self.thresholds.is_empty() && self.closed_contours.is_empty()
    }

    /// Checks every parameter, naming the first bad one: distances finite
    /// and within 0..=180° (the merge and closed-contour distances above
    /// 0), deltas finite and non-zero, threshold values not NaN.
    pub fn validate(&self) -> Result<()> {
        let degrees = |name: &str, value: f64, positive: bool| {
            if !(value.is_finite() && value <= 180.0 && if positive { value > 0.0 } else { value >= 0.0 }) {
                return Err(Error::InvalidArgument(format!(
                    "{name} must be {} and at most 180 degrees, not {value}",
                    if positive { "more than 0" } else { "at least 0" }
                )));
            }
            Ok(())
        };
        if let Some(merge) = self.merge_distance_deg {
            degrees("the merge distance", merge, true)?;
        }
        for (_, t) in &self.thresholds {
            degrees("a threshold's distance", t.distance_deg, false)?;
            if t.value.is_nan() {
                return Err(Error::InvalidArgument("a threshold's value is NaN".into()));
            }
        }
        for (_, c) in &self.closed_contours {
            if !(c.delta.is_finite() && c.delta != 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "a closed contour's change must be non-zero (positive around a minimum, negative around a \
                     maximum), not {}",
                    c.delta
                )));
            }
            degrees("a closed contour's distance", c.distance_deg, true)?;
            degrees("a closed contour's extremum distance", c.extremum_distance_deg, false)?;
        }
        Ok(())
    }

    /// Checks that these criteria can run on `grid` (a latitude-longitude
    /// grid, regular or Gaussian) for centres of `mode`.
    pub fn check_grid(&self, grid: &Grid, mode: Option<DetectionMode>) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        self.validate()?;
        if grid.projection().is_some() {
            return Err(Error::Unsupported(
                "detection criteria search a latitude-longitude grid, not a polar-stereographic plane".into(),
            ));
        }
        if self.merge_distance_deg.is_some() && mode.is_none() {
            return Err(Error::Unsupported(
                "a merge distance keeps the deepest centre, so it needs the detection mode (min or max)".into(),
            ));
        }
        Ok(())
    }

    /// Drops from `centers` (found in `frame` on `grid`, minima or maxima
    /// as `mode` says; a merge distance needs it) those that fail a
    /// criterion. The criteria read the field at and around the centres'
    /// grid points, in the frame's units (as TempestExtremes reads the
    /// file's); criteria on other fields read them at `frame`'s index in
    /// the series ([`DetectionCriteria::apply_at`]), so they need it.
    ///
    /// # Errors
    /// As [`DetectionCriteria::check_grid`], or when a centre's grid point
    /// lies outside the grid, or criteria on other fields.
    pub fn apply(
        &self,
        grid: &Grid,
        frame: &Frame,
        mode: Option<DetectionMode>,
        centers: &mut FrameCenters,
    ) -> Result<()> {
        self.apply_at(grid, frame, None, mode, centers)
    }

    /// [`DetectionCriteria::apply`] to the frame of index `frame_index` in
    /// its series, so that criteria on other fields read those fields'
    /// frames of that index.
    ///
    /// # Errors
    /// Also when another field has no source, or its frame is not at the
    /// frame's time or on its grid.
    pub fn apply_at(
        &self,
        grid: &Grid,
        frame: &Frame,
        frame_index: Option<usize>,
        mode: Option<DetectionMode>,
        centers: &mut FrameCenters,
    ) -> Result<()> {
        if self.is_empty() || centers.is_empty() {
            return Ok(());
        }
        self.check_grid(grid, mode)?;
        let (nlat, nlon) = grid.shape();
        if frame.values().dim() != (nlat, nlon) {
            return Err(Error::InvalidArgument("the frame's shape differs from the grid's".into()));
        }
        if let Some(&(i, j)) = centers.grid_points().iter().find(|&&(i, j)| i >= nlat || j >= nlon) {
            return Err(Error::InvalidArgument(format!("a centre's grid point ({i}, {j}) lies outside the grid")));
        }
        let trig = GridTrig::new(grid);
        let detected = Search { grid, trig: &trig, values: frame.values(), connectivity: self.connectivity };
        // Other fields, read once for this frame.
        let others = self.read_other_fields(frame, frame_index)?;
        let other_searches: Vec<(&FieldExpression, Search<'_>)> = others
            .iter()
            .map(|(f, values)| (f, Search { grid, trig: &trig, values, connectivity: self.connectivity }))
            .collect();
        let search_of = |field: &Option<FieldExpression>| match field {
            None => &detected,
            Some(f) => other_searches.iter().find(|(g, _)| *g == f).map_or(&detected, |(_, s)| s),
        };
        let points: Vec<(usize, usize)> = centers.grid_points().to_vec();
        let mut keep = vec![true; points.len()];
        if let Some(merge) = self.merge_distance_deg {
            let value = |k: usize| frame.values()[points[k]];
            let minimum = mode == Some(DetectionMode::Min);
            let more_extreme = |a: f64, b: f64| if minimum { a < b } else { a > b };
            // TempestExtremes measures the chord between unit vectors,
            // against 2 sin(r/2): the same distance, and the same decision
            // for centres exactly r apart (five degrees of latitude on a
            // 2.5° grid), where the rounding of the two ways differs.
            let unit = |(i, j): (usize, usize)| {
                let (lat, lon) = (grid.lat(i).to_radians(), grid.lon(j).to_radians());
                [lon.cos() * lat.cos(), lon.sin() * lat.cos(), lat.sin()]
            };
            let vectors: Vec<[f64; 3]> = points.iter().map(|&p| unit(p)).collect();
            let chord = 2.0 * (0.5 * merge / 180.0 * std::f64::consts::PI).sin();
            let within = |a: &[f64; 3], b: &[f64; 3]| {
                let squared = (0..3).fold(0.0, |sum, axis| sum + (b[axis] - a[axis]) * (b[axis] - a[axis]));
                squared <= chord * chord
            };
            // Only centres within the merge distance in latitude can be
            // within it at all: scan those, in latitude order (a margin
            // over the distance, so the chord alone decides).
            let lat = |k: usize| grid.lat(points[k].0);
            let mut by_lat: Vec<usize> = (0..points.len()).collect();
            by_lat.sort_by(|&a, &b| lat(a).total_cmp(&lat(b)));
            let sorted_lats: Vec<f64> = by_lat.iter().map(|&k| lat(k)).collect();
            let reach = merge + 1e-6;
            // The band's values and vectors side by side, for the scan.
            let sorted_values: Vec<f64> = by_lat.iter().map(|&k| value(k)).collect();
            let sorted_vectors: Vec<[f64; 3]> = by_lat.iter().map(|&k| vectors[k]).collect();
            keep = (0..points.len())
                .map(|k| {
                    let first = sorted_lats.partition_point(|&l| l < lat(k) - reach);
                    let last = sorted_lats.partition_point(|&l| l <= lat(k) + reach);
                    let (v, u) = (value(k), &vectors[k]);
                    !(first..last).any(|m| more_extreme(sorted_values[m], v) && within(u, &sorted_vectors[m]))
                })
                .collect();
        }
        let mut scratch = SearchScratch::default();
        for (k, &origin) in points.iter().enumerate() {
            if !keep[k] {
                continue;
            }
            keep[k] = self.thresholds.iter().all(|(f, t)| search_of(f).any_within(origin, t, &mut scratch))
                && self.closed_contours.iter().all(|(f, c)| search_of(f).closed_contour(origin, c, &mut scratch));
        }
        centers.retain(&keep);
        Ok(())
    }
}

impl DetectionCriteria {
    /// The values of every other field the criteria test, at the frame
    /// of index `frame_index`.
    fn read_other_fields(
        &self,
        frame: &Frame,
        frame_index: Option<usize>,
    ) -> Result<Vec<(FieldExpression, Array2<f64>)>> {
        let mut fields: Vec<&FieldExpression> = Vec::new();
        for field in self.thresholds.iter().map(|(f, _)| f).chain(self.closed_contours.iter().map(|(f, _)| f)).flatten()
        {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        let Some(&first) = fields.first() else { return Ok(Vec::new()) };
        let Some(index) = frame_index else {
            return Err(Error::InvalidArgument(format!(
                "the criterion on `{first}` reads another field, so it needs the frame's index in its series"
            )));
        };
        let mut read = |name: &str, level: Option<f64>| -> Result<Array2<f64>> {
            let label = match level {
                Some(level) => format!("{name}({level})"),
                None => name.to_string(),
            };
            let Some((_, source)) = self.sources.0.iter().find(|((n, l), _)| n == name && *l == level) else {
                return Err(Error::InvalidArgument(format!(
                    "a criterion reads `{label}`, but no source of it was given (the pipeline opens it from the input \
                     files)"
                )));
            };
            let other = source.read_frame(index)?;
            if other.time() != frame.time() {
                return Err(Error::InvalidArgument(format!(
                    "`{label}` has {} where the tracked field has {} (frame {index}): criteria need fields at the same \
                     times",
                    other.time(),
                    frame.time()
                )));
            }
            if other.values().dim() != frame.values().dim() {
                return Err(Error::InvalidArgument(format!(
                    "`{label}` is on a {:?} grid and the tracked field on {:?}: criteria need fields on one grid",
                    other.values().dim(),
                    frame.values().dim()
                )));
            }
            Ok(other.values().to_owned())
        };
        fields.into_iter().map(|f| Ok((f.clone(), f.evaluate(&mut read)?))).collect()
    }
}

impl fmt::Display for DetectionCriteria {
    /// The criteria as TempestExtremes would be told them, for provenance:
    /// `mergedist 6; threshold <=,101000,0; closedcontour 200,5.5,0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(merge) = self.merge_distance_deg {
            parts.push(format!("mergedist {merge}"));
        }
        // The field as detected is TempestExtremes' own variable, unnamed.
        let on = |f: &Option<FieldExpression>| f.as_ref().map(|f| format!("{f},")).unwrap_or_default();
        for (f, t) in &self.thresholds {
            parts.push(format!("threshold {}{},{},{}", on(f), t.op.as_str(), t.value, t.distance_deg));
        }
        for (f, c) in &self.closed_contours {
            parts.push(format!("closedcontour {}{},{},{}", on(f), c.delta, c.distance_deg, c.extremum_distance_deg));
        }
        if self.connectivity == GridConnectivity::EdgesAndCorners {
            parts.push("diag_connect".into());
        }
        f.write_str(&parts.join("; "))
    }
}

/// A detector whose centres must also meet [`DetectionCriteria`]: the
/// detector's centres, those failing a criterion dropped. With no criteria
/// it is the detector itself, its metadata included.
///
/// ```
/// use pst_core::{ClosedContour, CriteriaDetector, DetectionCriteria, DetectionMode, Detector, FieldSource, FrameCenters, Frame, Grid, PlantedStorm, SyntheticSeries};
///
/// /// Every grid point below 100,500 Pa, as a toy detector.
/// struct Below;
/// impl Detector for Below {
///     fn detect(&self, frame: &Frame, index: usize) -> pst_core::Result<FrameCenters> {
///         let mut centers = FrameCenters::new(index, frame.time());
///         for ((i, j), &v) in frame.values().indexed_iter() {
///             if v < 100_500.0 {
///                 centers.push(frame.grid().lat(i), frame.grid().lon(j), v, (i, j));
///             }
///         }
///         Ok(centers)
///     }
///     fn mode(&self) -> Option<DetectionMode> { Some(DetectionMode::Min) }
/// }
///
/// let series = SyntheticSeries::builder(Grid::regular_global(2.5)?)
///     .frames(1)
///     .background(101_325.0, 0.0)
///     .storm(PlantedStorm::low(0, 1, 40.0, 200.0))
///     .build()?;
/// let frame = series.read_frame(0)?;
/// assert!(Below.detect(&frame, 0)?.len() > 1);
/// // Only the deepest within 6° survives the merge.
/// let merged = CriteriaDetector::new(Below, DetectionCriteria::default().merge_distance(6.0));
/// let centers = merged.detect(&frame, 0)?;
/// assert_eq!((centers.len(), centers.lats()[0], centers.lons()[0]), (1, 40.0, 200.0));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CriteriaDetector<D> {
    inner: D,
    criteria: DetectionCriteria,
}

impl<D: crate::Detector> CriteriaDetector<D> {
    /// `inner`'s centres that meet `criteria`.
    pub fn new(inner: D, criteria: DetectionCriteria) -> Self {
        CriteriaDetector { inner, criteria }
    }

    /// The detector whose centres are tested.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The criteria.
    pub fn criteria(&self) -> &DetectionCriteria {
        &self.criteria
    }
}

impl<D: crate::Detector> crate::Detector for CriteriaDetector<D> {
    fn detect(&self, frame: &Frame, frame_index: usize) -> Result<FrameCenters> {
        let mut centers = self.inner.detect(frame, frame_index)?;
        self.criteria.apply_at(frame.grid(), frame, Some(frame_index), self.inner.mode(), &mut centers)?;
        Ok(centers)
    }

    fn mode(&self) -> Option<DetectionMode> {
        self.inner.mode()
    }

    fn attributes(&self) -> Vec<(String, String)> {
        let mut attributes = self.inner.attributes();
        if !self.criteria.is_empty() {
            attributes.push(("criteria".into(), self.criteria.to_string()));
        }
        attributes
    }

    fn columns(&self) -> Vec<(String, Option<String>)> {
        self.inner.columns()
    }
}

/// Reused buffers of the breadth-first searches.
#[derive(Default)]
struct SearchScratch {
    /// The search that last visited each grid point.
    visited: Vec<u32>,
    stamp: u32,
    /// Points to visit, in order (a search only appends: it runs from
    /// `head` to the end).
    queue: Vec<(u32, u32)>,
    /// A point's neighbours.
    next: Vec<(usize, usize)>,
}

impl SearchScratch {
    /// Starts a new search over `points` grid points.
    fn start(&mut self, points: usize) {
        if self.visited.len() != points || self.stamp == u32::MAX {
            self.visited = vec![0; points];
            self.stamp = 0;
        }
        self.stamp += 1;
        self.queue.clear();
    }
}

/// The sines and cosines of a grid's latitudes and its longitudes in
/// radians, computed once a frame rather than at every point a search
/// reaches.
struct GridTrig {
    sin_lat: Vec<f64>,
    cos_lat: Vec<f64>,
    lon_rad: Vec<f64>,
    /// On equally spaced longitudes, the cosine of `k` spacings: the
    /// cosine of the longitude difference of columns `k` apart, to a few
    /// units in the last place.
    cos_columns_apart: Option<Vec<f64>>,
}

impl GridTrig {
    fn new(grid: &Grid) -> GridTrig {
        let lat_rad: Vec<f64> = grid.lats().iter().map(|l| l.to_radians()).collect();
        let lons = grid.lons();
        let spacing = if lons.len() > 1 { lons[1] - lons[0] } else { 0.0 };
        let even = lons.len() > 1
            && spacing != 0.0
            && lons.iter().enumerate().all(|(j, &l)| (l - lons[0] - j as f64 * spacing).abs() < 1e-9);
        GridTrig {
            sin_lat: lat_rad.iter().map(|l| l.sin()).collect(),
            cos_lat: lat_rad.iter().map(|l| l.cos()).collect(),
            lon_rad: lons.iter().map(|l| l.to_radians()).collect(),
            cos_columns_apart: even.then(|| (0..lons.len()).map(|k| (k as f64 * spacing).to_radians().cos()).collect()),
        }
    }
}

/// A great-circle distance limit, degrees, with its cosine.
#[derive(Clone, Copy)]
struct Limit {
    degrees: f64,
    cosine: f64,
}

impl Limit {
    fn new(degrees: f64) -> Limit {
        Limit { degrees, cosine: degrees.to_radians().cos() }
    }
}

struct Search<'a> {
    grid: &'a Grid,
    trig: &'a GridTrig,
    values: &'a Array2<f64>,
    connectivity: GridConnectivity,
}

impl Search<'_> {
    /// Whether `b` is farther than `limit` from `a`: the decision of
    /// [`crate::cosine_law_angle_rad`] in degrees against the limit, bit for bit
    /// (its cosine from the same tables; the angle itself computed only
    /// when the cosine is within 1e-12 of the limit's, where rounding
    /// could tell otherwise).
    fn farther_than(&self, a: (usize, usize), b: (usize, usize), limit: Limit) -> bool {
        let t = self.trig;
        let dot_with = |cos_dlon: f64| t.sin_lat[a.0] * t.sin_lat[b.0] + t.cos_lat[a.0] * t.cos_lat[b.0] * cos_dlon;
        let exact_cos_dlon = || (t.lon_rad[a.1] - t.lon_rad[b.1]).cos();
        let dot = dot_with(match &t.cos_columns_apart {
            Some(table) => table[a.1.abs_diff(b.1)],
            None => exact_cos_dlon(),
        });
        if dot > limit.cosine + 1e-12 {
            false
        } else if dot < limit.cosine - 1e-12 {
            true
        } else {
            dot_with(exact_cos_dlon()).clamp(-1.0, 1.0).acos().to_degrees() > limit.degrees
        }
    }

    fn value(&self, p: (usize, usize)) -> f64 {
        self.values[p]
    }

    /// The neighbours of `(i, j)` in TempestExtremes' order: north-south
    /// first (the previous row, the next), then east and west; with
    /// corners, row by row.
    fn neighbours(&self, (i, j): (usize, usize), out: &mut Vec<(usize, usize)>) {
        out.clear();
        if self.connectivity == GridConnectivity::Edges {
            // The common case without the general wrapping arithmetic.
            let (nlat, nlon, periodic) = (self.grid.nlat(), self.grid.nlon(), self.grid.is_periodic());
            let east = if j + 1 < nlon { Some(j + 1) } else { periodic.then_some(0) };
            let west = if j > 0 { Some(j - 1) } else { periodic.then(|| nlon - 1) };
            let candidates = [
                (i > 0).then(|| (i - 1, j)),
                (i + 1 < nlat).then_some((i + 1, j)),
                east.map(|c| (i, c)),
                west.map(|c| (i, c)),
            ];
            out.extend(candidates.into_iter().flatten().filter(|&p| p != (i, j)));
            return;
        }
        let (i, j) = (i as isize, j as isize);
        let mut push = |di: isize, dj: isize| {
            if let (Some(row), Some(col)) = (self.grid.clip_row(i + di), self.grid.wrap_col(j + dj))
                && (row, col) != (i as usize, j as usize)
            {
                out.push((row, col));
            }
        };
        match self.connectivity {
            GridConnectivity::Edges => {
                push(-1, 0);
                push(1, 0);
                push(0, 1);
                push(0, -1);
            }
            GridConnectivity::EdgesAndCorners => {
                for dj in -1..=1 {
                    for di in -1..=1 {
                        if (di, dj) != (0, 0) {
                            push(di, dj);
                        }
                    }
                }
            }
        }
    }

    /// Breadth-first from `origin`: calls `visit` on each point reached
    /// (once), which says whether to go on through it, stop there, or end
    /// the search: `Some(true)` when a visit succeeded, `Some(false)` when
    /// one failed, `None` when the search ran out of points.
    fn walk(
        &self,
        origin: (usize, usize),
        scratch: &mut SearchScratch,
        mut visit: impl FnMut((usize, usize)) -> Visit,
    ) -> Option<bool> {
        let nlon = self.grid.nlon();
        scratch.start(self.grid.nlat() * nlon);
        scratch.queue.push((origin.0 as u32, origin.1 as u32));
        let mut head = 0;
        let mut next = std::mem::take(&mut scratch.next);
        while let Some(&(pi, pj)) = scratch.queue.get(head) {
            head += 1;
            let p = (pi as usize, pj as usize);
            let slot = p.0 * nlon + p.1;
            if scratch.visited[slot] == scratch.stamp {
                continue;
            }
            scratch.visited[slot] = scratch.stamp;
            match visit(p) {
                Visit::Through => {
                    self.neighbours(p, &mut next);
                    // Points visited already would be skipped when taken:
                    // leaving them out keeps the order of visits.
                    let (visited, stamp) = (&scratch.visited, scratch.stamp);
                    scratch.queue.extend(
                        next.iter().filter(|q| visited[q.0 * nlon + q.1] != stamp).map(|&(i, j)| (i as u32, j as u32)),
                    );
                }
                Visit::Stop => {}
                Visit::Succeed => {
                    scratch.next = next;
                    return Some(true);
                }
                Visit::Fail => {
                    scratch.next = next;
                    return Some(false);
                }
            }
        }
        scratch.next = next;
        None
    }

    /// Whether a point within the threshold's distance passes it.
    fn any_within(&self, origin: (usize, usize), t: &NearThreshold, scratch: &mut SearchScratch) -> bool {
        if t.distance_deg < 1e-12 {
            return t.op.holds(self.value(origin), t.value);
        }
        let limit = Limit::new(t.distance_deg);
        let found = self.walk(origin, scratch, |p| {
            if p != origin && self.farther_than(origin, p, limit) {
                Visit::Stop
            } else if t.op.holds(self.value(p), t.value) {
                Visit::Succeed
            } else {
                Visit::Through
            }
        });
        found == Some(true)
    }

    /// The first most extreme point within `distance_deg` of `origin`,
    /// breadth-first (a minimum for `minimum`).
    fn extremum_near(
        &self,
        origin: (usize, usize),
        distance_deg: f64,
        minimum: bool,
        scratch: &mut SearchScratch,
    ) -> (usize, usize) {
        let mut best = (origin, self.value(origin));
        let limit = Limit::new(distance_deg);
        self.walk(origin, scratch, |p| {
            if self.farther_than(origin, p, limit) {
                return Visit::Stop;
            }
            let v = self.value(p);
            if (minimum && v < best.1) || (!minimum && v > best.1) || best.1.is_nan() {
                best = (p, v);
            }
            Visit::Through
        });
        best.0
    }

    /// Whether the contour closes.
    fn closed_contour(&self, origin: (usize, usize), c: &ClosedContour, scratch: &mut SearchScratch) -> bool {
        let minimum = c.delta > 0.0;
        let origin = if c.extremum_distance_deg == 0.0 {
            origin
        } else {
            self.extremum_near(origin, c.extremum_distance_deg, minimum, scratch)
        };
        let reference = self.value(origin);
        let limit = Limit::new(c.distance_deg);
        let escaped = self.walk(origin, scratch, |p| {
            if self.farther_than(origin, p, limit) {
                return Visit::Fail;
            }
            let change = self.value(p) - reference;
            let closed_here = if minimum { change >= c.delta } else { -change >= -c.delta };
            if closed_here { Visit::Stop } else { Visit::Through }
        });
        escaped != Some(false)
    }
}

/// What a search does at a point it reaches.
enum Visit {
    /// Go on to its neighbours.
    Through,
    /// Do not go beyond it.
    Stop,
    /// End the search: it succeeded.
    Succeed,
    /// End the search: it failed.
    Fail,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::cosine_law_angle_rad;
    use crate::time::Timestamp;
    use std::sync::Arc;

    /// A 2.5° global frame of `f(lat, lon)`.
    fn field(f: impl Fn(f64, f64) -> f64) -> (Grid, Frame) {
        let grid = Grid::regular_global(2.5).unwrap();
        let values = ndarray::Array2::from_shape_fn(grid.shape(), |(i, j)| f(grid.lat(i), grid.lon(j)));
        let frame = Frame::new(Arc::new(grid.clone()), Timestamp::from_ymdh(2025, 12, 1, 0).unwrap(), values).unwrap();
        (grid, frame)
    }

    fn centers_at(grid: &Grid, frame: &Frame, points: &[(usize, usize)]) -> FrameCenters {
        let mut centers = FrameCenters::new(0, frame.time());
        for &(i, j) in points {
            centers.push(grid.lat(i), grid.lon(j), frame.values()[[i, j]], (i, j));
        }
        centers
    }

    /// A Gaussian low of `depth` Pa and `radius_deg` e-folding radius at
    /// (`lat0`, `lon0`) on 101,000 Pa.
    fn low(lat0: f64, lon0: f64, depth: f64, radius_deg: f64) -> impl Fn(f64, f64) -> f64 {
        move |lat, lon| {
            let d = cosine_law_angle_rad(lat, lon, lat0, lon0).to_degrees();
            101_000.0 - depth * (-(d / radius_deg).powi(2)).exp()
        }
    }

    #[test]
    fn a_deep_low_has_a_closed_contour_and_a_shallow_one_does_not() {
        let (grid, frame) = field(low(40.0, 200.0, 1000.0, 5.0));
        let centre = (20, 80); // 40°N 200°E
        let test = |delta, distance_deg| {
            let mut centers = centers_at(&grid, &frame, &[centre]);
            let criteria = DetectionCriteria::default().closed_contour(ClosedContour {
                delta,
                distance_deg,
                extremum_distance_deg: 0.0,
            });
            criteria.apply(&grid, &frame, Some(DetectionMode::Min), &mut centers).unwrap();
            centers.len()
        };
        // 200 Pa is reached 2.4° out: closed within 5.5°, not within 2°.
        assert_eq!(test(200.0, 5.5), 1);
        assert_eq!(test(200.0, 2.0), 0);
        // The low is only 1000 Pa deep: a 1200 Pa contour never closes.
        assert_eq!(test(1200.0, 30.0), 0);
        // Around a minimum the field must rise: a fall never closes.
        let (grid2, ridge) = field(|lat, lon| -low(40.0, 200.0, 1000.0, 5.0)(lat, lon));
        let mut centers = centers_at(&grid2, &ridge, &[centre]);
        DetectionCriteria::default()
            .closed_contour(ClosedContour { delta: -200.0, distance_deg: 5.5, extremum_distance_deg: 0.0 })
            .apply(&grid2, &ridge, Some(DetectionMode::Max), &mut centers)
            .unwrap();
        assert_eq!(centers.len(), 1);
    }

    #[test]
    fn the_contour_starts_from_the_extremum_near_the_centre_and_wraps_in_longitude() {
        // A low on the dateline (0°E), a centre two points east of it.
        let (grid, frame) = field(low(-30.0, 0.0, 1000.0, 4.0));
        let off = (48, 2); // 30°S 5°E
        let contour = |extremum_distance_deg| {
            let mut centers = centers_at(&grid, &frame, &[off]);
            DetectionCriteria::default()
                .closed_contour(ClosedContour { delta: 300.0, distance_deg: 5.0, extremum_distance_deg })
                .apply(&grid, &frame, Some(DetectionMode::Min), &mut centers)
                .unwrap();
            centers.len()
        };
        // From 5°E itself the region below +300 Pa reaches past 5° of it;
        // from the true minimum, found within 6°, it closes.
        assert_eq!(contour(0.0), 0);
        assert_eq!(contour(6.0), 1);
    }

    #[test]
    fn merging_keeps_the_deepest_of_nearby_centres() {
        let two =
            |lat, lon| low(40.0, 200.0, 1000.0, 3.0)(lat, lon) + low(40.0, 207.5, 600.0, 3.0)(lat, lon) - 101_000.0;
        let (grid, frame) = field(two);
        let points = [(20, 80), (20, 83), (20, 120)];
        let merged = |degrees| {
            let mut centers = centers_at(&grid, &frame, &points);
            DetectionCriteria::default()
                .merge_distance(degrees)
                .apply(&grid, &frame, Some(DetectionMode::Min), &mut centers)
                .unwrap();
            centers.grid_points().to_vec()
        };
        // 7.5° of longitude at 40°N is 5.7° of great circle.
        assert_eq!(merged(6.0), vec![(20, 80), (20, 120)]);
        assert_eq!(merged(5.0), points.to_vec());
    }

    #[test]
    fn a_threshold_is_met_anywhere_within_its_distance() {
        let (grid, frame) = field(low(40.0, 200.0, 1000.0, 5.0));
        let near = |value, distance_deg| {
            let mut centers = centers_at(&grid, &frame, &[(20, 84)]); // 10° east of the low
            DetectionCriteria::default()
                .threshold(NearThreshold { op: ThresholdOp::LessOrEqual, value, distance_deg })
                .apply(&grid, &frame, Some(DetectionMode::Min), &mut centers)
                .unwrap();
            centers.len()
        };
        assert_eq!(near(100_100.0, 0.0), 0);
        assert_eq!(near(100_100.0, 10.0), 1);
        assert_eq!(near(99_000.0, 30.0), 0);
    }

    /// A warm core: a closed contour of the difference of two levels, read
    /// from their own sources at the frame's index.
    #[test]
    fn criteria_on_other_fields_read_them_at_the_frame() {
        use crate::synthetic::{PlantedStorm, SyntheticSeries};
        let grid = Grid::regular_global(2.5).unwrap();
        let series = |storm: Option<PlantedStorm>| -> Arc<dyn FieldSource> {
            let mut b = SyntheticSeries::builder(grid.clone()).frames(2).background(50_000.0, 0.0);
            if let Some(storm) = storm {
                b = b.storm(storm);
            }
            Arc::new(b.build().unwrap())
        };
        let tracked = series(Some(PlantedStorm::low(0, 2, 40.0, 200.0)));
        let (upper, lower) = (series(Some(PlantedStorm::high(0, 2, 40.0, 200.0))), series(None));
        let frame = tracked.read_frame(1).unwrap();
        let warm_core: FieldExpression = "_DIFF(z(250),z(500))".parse().unwrap();
        let contour = ClosedContour { delta: -100.0, distance_deg: 15.0, extremum_distance_deg: 1.0 };
        let criteria = DetectionCriteria::default()
            .closed_contour_on(warm_core, contour)
            .field_source("z", Some(250.0), upper)
            .field_source("z", Some(500.0), Arc::clone(&lower));
        assert_eq!(criteria.other_variables(), vec![("z".to_string(), Some(250.0)), ("z".to_string(), Some(500.0))]);
        assert_eq!(criteria.to_string(), "closedcontour _DIFF(z(250),z(500)),-100,15,1");
        let kept = |point, index| {
            let mut centers = centers_at(&grid, &frame, &[point]);
            criteria.apply_at(&grid, &frame, index, Some(DetectionMode::Min), &mut centers).map(|()| centers.len())
        };
        assert_eq!(kept((20, 80), Some(1)).unwrap(), 1);
        assert_eq!(kept((60, 20), Some(1)).unwrap(), 0, "no bulge there, no closed contour");
        // The other fields' frame must be the tracked frame's time, and the
        // frame's index is needed to read it.
        assert!(kept((20, 80), Some(0)).unwrap_err().to_string().contains("same times"));
        assert!(kept((20, 80), None).unwrap_err().to_string().contains("index"));
        let unsourced = DetectionCriteria::default().threshold_on(
            "vo(850)".parse().unwrap(),
            NearThreshold { op: ThresholdOp::GreaterOrEqual, value: 1e-4, distance_deg: 2.0 },
        );
        let mut centers = centers_at(&grid, &frame, &[(20, 80)]);
        let e = unsourced.apply_at(&grid, &frame, Some(1), Some(DetectionMode::Min), &mut centers).unwrap_err();
        assert!(e.to_string().contains("no source of it"), "{e}");
    }

    #[test]
    fn bad_criteria_are_named() {
        let bad = DetectionCriteria::default().closed_contour(ClosedContour {
            delta: 0.0,
            distance_deg: 5.0,
            extremum_distance_deg: 0.0,
        });
        assert!(bad.validate().unwrap_err().to_string().contains("non-zero"));
        assert!(DetectionCriteria::default().merge_distance(-1.0).validate().is_err());
        assert!(DetectionCriteria::default().merge_distance(200.0).validate().is_err());
        assert_eq!(DetectionCriteria::default().merge_distance(6.0).to_string(), "mergedist 6".to_string());
    }
}
