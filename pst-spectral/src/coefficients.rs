//! Triangularly truncated spherical-harmonic coefficients.

use pst_core::{Error, Result};
use rustfft::num_complex::Complex64;

/// The coefficients `f_lm`, `0 ≤ m ≤ l ≤ lmax`, of a real field on the sphere.
///
/// The field is `f(θ, λ) = Σ_l Σ_{m=−l}^{l} f_lm P̄_l|m|(cos θ) e^{imλ}` with
/// `f_{l,−m} = conj(f_lm)` (a real field), so only `m ≥ 0` is stored, by
/// `m` then `l`. `P̄_lm` are the associated Legendre functions normalised
/// so that `∫_{−1}^{1} P̄_lm² dx = 2`, without the Condon–Shortley phase:
/// every `Y_lm = P̄_lm e^{imλ}` has mean square 1 over the sphere
/// ("4π-normalised"), so `f_00` is the area mean of the field and
/// [`SphericalHarmonics::power`] its mean square. Longitude `λ` is measured
/// from the Greenwich meridian, whatever the grid's first column, so
/// coefficients from different grids compare directly.
#[derive(Debug, Clone, PartialEq)]
pub struct SphericalHarmonics {
    lmax: usize,
    values: Vec<Complex64>,
}

impl SphericalHarmonics {
    /// All-zero coefficients up to degree `lmax`.
    pub fn zeros(lmax: usize) -> Self {
        SphericalHarmonics { lmax, values: vec![Complex64::new(0.0, 0.0); coefficient_count(lmax)] }
    }

    /// The truncation degree.
    pub fn lmax(&self) -> usize {
        self.lmax
    }

    /// Position of `(l, m)` in [`SphericalHarmonics::as_slice`].
    ///
    /// # Panics
    /// In debug builds, when `m > l` or `l > lmax` (a caller's bug, not data).
    #[inline]
    pub fn index(&self, l: usize, m: usize) -> usize {
        debug_assert!(m <= l && l <= self.lmax, "({l}, {m}) outside T{}", self.lmax);
        m_offset(self.lmax, m) + (l - m)
    }

    /// `f_lm`, or `None` outside the triangle.
    pub fn get(&self, l: usize, m: usize) -> Option<Complex64> {
        (m <= l && l <= self.lmax).then(|| self.values[self.index(l, m)])
    }

    /// Sets `f_lm`. The imaginary part of an `m = 0` coefficient must be zero
    /// for a real field; it is dropped.
    pub fn set(&mut self, l: usize, m: usize, value: Complex64) -> Result<()> {
        if m > l || l > self.lmax {
            return Err(Error::InvalidArgument(format!("({l}, {m}) is outside the T{} triangle", self.lmax)));
        }
        let i = self.index(l, m);
        self.values[i] = if m == 0 { Complex64::new(value.re, 0.0) } else { value };
        Ok(())
    }

    /// The coefficients, by `m` then `l`.
    pub fn as_slice(&self) -> &[Complex64] {
        &self.values
    }

    /// The coefficients for one `m`: `f_ml, f_(m+1)m, …, f_(lmax)m` (none
    /// when `m > lmax`).
    pub fn order(&self, m: usize) -> &[Complex64] {
        let range = self.order_range(m);
        &self.values[range]
    }

    /// Mutable coefficients for one `m` (none when `m > lmax`).
    pub fn order_mut(&mut self, m: usize) -> &mut [Complex64] {
        let range = self.order_range(m);
        &mut self.values[range]
    }

    fn order_range(&self, m: usize) -> std::ops::Range<usize> {
        if m > self.lmax {
            return self.values.len()..self.values.len();
        }
        let start = m_offset(self.lmax, m);
        start..start + self.lmax + 1 - m
    }

    /// Multiplies every coefficient of degree `l` by `factor(l)`: filters,
    /// the Laplacian and its inverse are all of this form.
    pub fn scale_degrees(&mut self, factor: impl Fn(usize) -> f64) {
        let lmax = self.lmax;
        let factors: Vec<f64> = (0..=lmax).map(factor).collect();
        for m in 0..=lmax {
            for (c, f) in self.order_mut(m).iter_mut().zip(&factors[m..]) {
                *c *= *f;
            }
        }
    }

    /// Mean square over the sphere of degree `l`'s part of the field:
    /// `|f_l0|² + 2 Σ_{m>0} |f_lm|²`.
    pub fn degree_power(&self, l: usize) -> f64 {
        if l > self.lmax {
            return 0.0;
        }
        (0..=l).map(|m| self.values[self.index(l, m)].norm_sqr() * if m == 0 { 1.0 } else { 2.0 }).sum()
    }

    /// Mean square of the field over the sphere (Parseval).
    pub fn power(&self) -> f64 {
        (0..=self.lmax).map(|l| self.degree_power(l)).sum()
    }
}

/// Number of `(l, m)` pairs with `0 ≤ m ≤ l ≤ lmax`.
pub(crate) fn coefficient_count(lmax: usize) -> usize {
    (lmax + 1) * (lmax + 2) / 2
}

/// Where order `m` starts in the m-major triangle.
#[inline]
pub(crate) fn m_offset(lmax: usize, m: usize) -> usize {
    m * (2 * lmax + 3 - m) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_m_major_and_dense() {
        let lmax = 5;
        let c = SphericalHarmonics::zeros(lmax);
        let mut seen = vec![false; coefficient_count(lmax)];
        let mut expected = 0;
        for m in 0..=lmax {
            for l in m..=lmax {
                let i = c.index(l, m);
                assert_eq!(i, expected);
                seen[i] = true;
                expected += 1;
            }
        }
        assert!(seen.into_iter().all(|s| s));
    }

    #[test]
    fn power_counts_negative_orders() {
        let mut c = SphericalHarmonics::zeros(3);
        c.set(2, 0, Complex64::new(3.0, 7.0)).unwrap();
        c.set(2, 1, Complex64::new(1.0, 1.0)).unwrap();
        assert_eq!(c.get(2, 0), Some(Complex64::new(3.0, 0.0)));
        assert_eq!(c.degree_power(2), 9.0 + 2.0 * 2.0);
        assert!(c.set(1, 2, Complex64::new(1.0, 0.0)).is_err());
        assert_eq!(c.get(4, 0), None);
    }
}
