//! Gauss–Legendre quadrature and the latitudes of Gaussian grids.
//!
//! Gaussian grids (ECMWF's `N` grids, NCEP's T62 grid, most spectral models)
//! put their latitudes at the zeros of the Legendre polynomial `P_n(sin φ)`,
//! where `n` is the number of latitudes. GRIB files often carry only `N`
//! (half the number of latitudes), so readers compute the latitudes here;
//! spherical-harmonic transforms use the nodes and weights as their
//! latitude quadrature.

use crate::error::{Error, Result};

/// Newton iterations are stopped once a step is below this (in `cos θ`).
const NEWTON_TOLERANCE: f64 = 1e-15;
/// A safeguard: Newton from the asymptotic guess converges in 3–5 steps.
const NEWTON_MAX_STEPS: usize = 100;

/// Gauss–Legendre nodes and weights on `[-1, 1]` for `n` points.
///
/// Returns `(nodes, weights)` with the nodes in *decreasing* order (from the
/// north pole when a node is read as `sin φ = cos θ`), and the weights summing
/// to 2. The rule integrates polynomials of degree `2n − 1` exactly. Nodes
/// are found by Newton's method from Tricomi's asymptotic guess, with `P_n`
/// and its derivative from the three-term recurrence; the result is accurate
/// to a few units in the last place for any `n` up to several thousand.
///
/// ```
/// use pst_core::gauss_legendre;
/// let (x, w) = gauss_legendre(3)?;
/// // The 3-point rule: ±√(3/5) and 0, weights 5/9, 8/9, 5/9.
/// assert!((x[0] - (0.6f64).sqrt()).abs() < 1e-15 && x[1].abs() < 1e-15);
/// assert!((w[1] - 8.0 / 9.0).abs() < 1e-15);
/// # Ok::<(), pst_core::Error>(())
/// ```
pub fn gauss_legendre(n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if n == 0 {
        return Err(Error::InvalidArgument("a Gauss–Legendre rule needs at least one node".into()));
    }
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    let nf = n as f64;
    // Nodes are symmetric: compute the northern half and mirror it.
    for i in 0..n.div_ceil(2) {
        let theta = std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5);
        // Tricomi's second-order correction makes Newton converge in a few steps.
        let mut x = (1.0 - (nf - 1.0) / (8.0 * nf * nf * nf)) * theta.cos();
        let mut derivative = 0.0;
        for _ in 0..NEWTON_MAX_STEPS {
            let (p, dp) = legendre_and_derivative(n, x);
            derivative = dp;
            let step = p / dp;
            x -= step;
            if step.abs() < NEWTON_TOLERANCE {
                break;
            }
        }
        let (_, dp) = legendre_and_derivative(n, x);
        if dp != 0.0 {
            derivative = dp;
        }
        let w = 2.0 / ((1.0 - x * x) * derivative * derivative);
        nodes[i] = x;
        weights[i] = w;
        nodes[n - 1 - i] = -x;
        weights[n - 1 - i] = w;
    }
    if n % 2 == 1 {
        nodes[n / 2] = 0.0;
    }
    Ok((nodes, weights))
}

/// The latitudes (degrees, north to south) of a Gaussian grid of `nlat`
/// rows: `asin` of the Gauss–Legendre nodes. ECMWF's grid `N` has `2N` rows.
///
/// ```
/// use pst_core::gaussian_latitudes;
/// let lats = gaussian_latitudes(94)?; // NCEP T62
/// assert!((lats[0] - 88.542).abs() < 1e-3);
/// assert!((lats[0] + lats[93]).abs() < 1e-12);
/// # Ok::<(), pst_core::Error>(())
/// ```
pub fn gaussian_latitudes(nlat: usize) -> Result<Vec<f64>> {
    let (nodes, _) = gauss_legendre(nlat)?;
    Ok(nodes.iter().map(|x| x.asin().to_degrees()).collect())
}

/// `P_n(x)` and `P_n'(x)` by the three-term recurrence.
fn legendre_and_derivative(n: usize, x: f64) -> (f64, f64) {
    let (mut p_prev, mut p) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let kf = k as f64;
        let next = ((2.0 * kf - 1.0) * x * p - (kf - 1.0) * p_prev) / kf;
        p_prev = p;
        p = next;
    }
    let dp = n as f64 * (x * p - p_prev) / (x * x - 1.0);
    (p, dp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn integrates_polynomials_of_degree_2n_minus_1() {
        for n in [1, 2, 5, 16, 73, 320] {
            let (x, w) = gauss_legendre(n).unwrap();
            assert_abs_diff_eq!(w.iter().sum::<f64>(), 2.0, epsilon = 1e-13);
            for degree in [0, 1, 2, 2 * n - 2, 2 * n - 1].into_iter().filter(|&d| d < 2 * n) {
                let exact = if degree % 2 == 1 { 0.0 } else { 2.0 / (degree as f64 + 1.0) };
                let sum: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(degree as i32)).sum();
                assert_abs_diff_eq!(sum, exact, epsilon = 1e-13);
            }
        }
    }

    #[test]
    fn nodes_are_zeros_and_decreasing_for_large_n() {
        let n = 2560;
        let (x, w) = gauss_legendre(n).unwrap();
        assert!(x.windows(2).all(|p| p[1] < p[0]));
        assert!(w.iter().all(|&w| w > 0.0));
        for &xi in x.iter().step_by(97) {
            let (p, dp) = legendre_and_derivative(n, xi);
            // |P_n| is at most ~1/√n near its zeros' neighbours: a relative test.
            assert!((p / dp).abs() < 1e-14, "node {xi}: P_n/P_n' = {}", p / dp);
        }
        assert_abs_diff_eq!(w.iter().sum::<f64>(), 2.0, epsilon = 1e-12);
    }

    #[test]
    fn ecmwf_n320_first_latitude() {
        // ECMWF's N320 grid (ERA5's reduced Gaussian) starts at 89.784877°N.
        let lats = gaussian_latitudes(640).unwrap();
        assert_abs_diff_eq!(lats[0], 89.784877, epsilon = 1e-6);
    }

    #[test]
    fn zero_points_is_an_error() {
        assert!(gauss_legendre(0).is_err());
    }
}
