//! Exact latitude quadrature on evenly spaced grids, by trigonometric
//! interpolation onto Fejér nodes.
//!
//! On an evenly spaced grid, the zonal coefficient `g_m(θ)` of a field
//! continues across each pole as a `2π`-periodic function of colatitude with
//! parity `(−1)^m` (scalars; the opposite for wind components). Its samples
//! on the `M`-point circle (`M = 2(nlat−1)` with the poles, `2·nlat` without)
//! define a trigonometric interpolant of degree `M/2` — the function the grid
//! actually represents, as in SPHEREPACK's `shaec` that NCL calls. The
//! product of that interpolant with `P̄_lm` is a polynomial in `cos θ` of
//! degree at most `M/2 + lmax`, so resampling it onto `n ≥ M/2 + lmax + 1`
//! Fejér nodes (zero-padded FFT) and integrating with Fejér's first rule is
//! exact. A plain quadrature on the grid rows would alias every degree above
//! `(nlat − 1)/2` (T36 on ERA5's 2.5° grid).

use std::f64::consts::PI;
use std::sync::Arc;

use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use crate::layout::LatitudeLayout;

/// Plans the resampling of one evenly spaced grid's columns.
pub(crate) struct Resampler {
    with_poles: bool,
    source_rows: usize,
    /// `M`, the length of the continued circle.
    circle: usize,
    fine_rows: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    /// `e^{ik(Δ'/2 − θ₀)} / M` for `k = 0..=M/2`.
    phase: Vec<Complex64>,
    scratch_len: usize,
}

/// Per-call buffers for [`Resampler::resample`].
pub(crate) struct ResampleBuffers {
    circle: Vec<Complex64>,
    fine: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

impl Resampler {
    /// A resampler for `source_rows` evenly spaced latitudes, exact up to
    /// degree `lmax`. `None` for Gaussian grids, which need none.
    pub(crate) fn new(layout: LatitudeLayout, source_rows: usize, lmax: usize) -> Option<Self> {
        let (with_poles, circle) = match layout {
            LatitudeLayout::EquiangularWithPoles => (true, 2 * (source_rows - 1)),
            LatitudeLayout::EquiangularOffset => (false, 2 * source_rows),
            LatitudeLayout::Gaussian => return None,
        };
        let fine_rows = smooth_at_least(circle / 2 + lmax + 1);
        let mut planner = FftPlanner::new();
        let forward = planner.plan_fft_forward(circle);
        let inverse = planner.plan_fft_inverse(2 * fine_rows);
        let source_offset = if with_poles { 0.0 } else { PI / (2.0 * source_rows as f64) };
        let fine_offset = PI / (2.0 * fine_rows as f64);
        let phase = (0..=circle / 2)
            .map(|k| Complex64::from_polar(1.0 / circle as f64, k as f64 * (fine_offset - source_offset)))
            .collect();
        let scratch_len = forward.get_inplace_scratch_len().max(inverse.get_inplace_scratch_len());
        Some(Resampler { with_poles, source_rows, circle, fine_rows, forward, inverse, phase, scratch_len })
    }

    /// Number of Fejér rows.
    pub(crate) fn fine_rows(&self) -> usize {
        self.fine_rows
    }

    /// Colatitudes of the Fejér rows, radians, north to south.
    pub(crate) fn fine_colatitudes(&self) -> Vec<f64> {
        (0..self.fine_rows).map(|i| PI * (i as f64 + 0.5) / self.fine_rows as f64).collect()
    }

    pub(crate) fn buffers(&self) -> ResampleBuffers {
        let zero = Complex64::new(0.0, 0.0);
        ResampleBuffers {
            circle: vec![zero; self.circle],
            fine: vec![zero; 2 * self.fine_rows],
            scratch: vec![zero; self.scratch_len],
        }
    }

    /// Resamples one column (`source_rows` values, north to south) of parity
    /// `parity` (±1) onto the Fejér rows, appended to `out`.
    pub(crate) fn resample(
        &self,
        column: &[Complex64],
        parity: f64,
        out: &mut Vec<Complex64>,
        buffers: &mut ResampleBuffers,
    ) {
        let zero = Complex64::new(0.0, 0.0);
        let (n, circle) = (self.source_rows, self.circle);
        let ring = &mut buffers.circle;
        if self.with_poles {
            ring[..n].copy_from_slice(column);
            for j in 1..n - 1 {
                ring[circle - j] = column[j] * parity;
            }
            if parity < 0.0 {
                // An odd continuation vanishes where the circle meets itself.
                ring[0] = zero;
                ring[n - 1] = zero;
            }
        } else {
            ring[..n].copy_from_slice(column);
            for j in 0..n {
                ring[circle - 1 - j] = column[j] * parity;
            }
        }
        self.forward.process_with_scratch(ring, &mut buffers.scratch);

        let fine = &mut buffers.fine;
        let fine_len = fine.len();
        let half = circle / 2;
        // Every term below is written but the band between the positive
        // and the negative frequencies: only that is cleared.
        if half + 1 < fine_len.saturating_sub(half) {
            fine[half + 1..fine_len - half].fill(zero);
        }
        fine[0] = ring[0] * self.phase[0];
        for k in 1..half {
            fine[k] = ring[k] * self.phase[k];
            fine[fine_len - k] = ring[circle - k] * self.phase[k].conj();
        }
        // The Nyquist term is shared between ±M/2.
        fine[half] = ring[half] * self.phase[half] * 0.5;
        fine[fine_len - half] = ring[half] * self.phase[half].conj() * 0.5;
        self.inverse.process_with_scratch(fine, &mut buffers.scratch);
        out.extend_from_slice(&fine[..self.fine_rows]);
    }
}

/// The smallest `2^a 3^b 5^c ≥ n`: FFT lengths that plan fastest.
fn smooth_at_least(n: usize) -> usize {
    (n.max(1)..)
        .find(|&k| {
            let mut r = k;
            for p in [2, 3, 5] {
                while r % p == 0 {
                    r /= p;
                }
            }
            r == 1
        })
        .unwrap_or(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn smooth_sizes() {
        assert_eq!(smooth_at_least(115), 120);
        assert_eq!(smooth_at_least(763), 768);
        assert_eq!(smooth_at_least(1), 1);
    }

    /// A trigonometric polynomial of the right parity is reproduced exactly.
    #[test]
    fn interpolates_trigonometric_polynomials() {
        for (layout, n) in [(LatitudeLayout::EquiangularWithPoles, 13), (LatitudeLayout::EquiangularOffset, 12)] {
            let resampler = Resampler::new(layout, n, 6).unwrap();
            let source: Vec<f64> = match layout {
                LatitudeLayout::EquiangularWithPoles => (0..n).map(|j| PI * j as f64 / (n - 1) as f64).collect(),
                _ => (0..n).map(|j| PI * (j as f64 + 0.5) / n as f64).collect(),
            };
            let even = |t: f64| Complex64::new(1.0 + (3.0 * t).cos(), 2.0 * (10.0 * t).cos());
            let odd = |t: f64| Complex64::new((2.0 * t).sin() - (9.0 * t).sin(), t.sin());
            for (f, parity) in [(&even as &dyn Fn(f64) -> Complex64, 1.0), (&odd, -1.0)] {
                let column: Vec<Complex64> = source.iter().map(|&t| f(t)).collect();
                let mut out = Vec::new();
                resampler.resample(&column, parity, &mut out, &mut resampler.buffers());
                assert_eq!(out.len(), resampler.fine_rows());
                for (t, value) in resampler.fine_colatitudes().into_iter().zip(out) {
                    assert_abs_diff_eq!(value.re, f(t).re, epsilon = 1e-12);
                    assert_abs_diff_eq!(value.im, f(t).im, epsilon = 1e-12);
                }
            }
        }
    }
}
