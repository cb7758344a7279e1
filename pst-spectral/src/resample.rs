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

use crate::layout::{LatitudeLayout, offset_colatitudes};

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
    /// `e^{−ikθ₀} / M` for `k = 0..=M/2`, the Nyquist term's halved: from
    /// the circle's FFT to [`Resampler::interpolant`]'s coefficients.
    source_phase: Vec<Complex64>,
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
        let source_phase = (0..=circle / 2)
            .map(|k| {
                let nyquist = if k == circle / 2 { 0.5 } else { 1.0 };
                Complex64::from_polar(nyquist / circle as f64, -(k as f64) * source_offset)
            })
            .collect();
        let scratch_len = forward.get_inplace_scratch_len().max(inverse.get_inplace_scratch_len());
        Some(Resampler {
            with_poles,
            source_rows,
            circle,
            fine_rows,
            forward,
            inverse,
            phase,
            source_phase,
            scratch_len,
        })
    }

    /// Number of Fejér rows.
    pub(crate) fn fine_rows(&self) -> usize {
        self.fine_rows
    }

    /// Colatitudes of the Fejér rows, radians, north to south.
    pub(crate) fn fine_colatitudes(&self) -> Vec<f64> {
        offset_colatitudes(self.fine_rows)
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
        self.circle_spectrum(column, parity, buffers);
        let ring = &buffers.circle;
        let fine = &mut buffers.fine;
        let (fine_len, circle) = (fine.len(), self.circle);
        let half = circle / 2;
        let zero = Complex64::new(0.0, 0.0);
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

    /// The coefficients `c_k`, `k = 0..=M/2`, of one column's interpolant
    /// `g(θ) = Σ_(|k| ≤ M/2) c_k e^{ikθ}`, `c_(−k) = parity · c_k` (the
    /// Nyquist term shared between `±M/2`): `g = c_0 + 2 Σ c_k cos kθ` for
    /// an even column, `2i Σ c_k sin kθ` for an odd one. What
    /// [`Condenser::condense`] takes.
    pub(crate) fn interpolant<'a>(
        &self,
        column: &[Complex64],
        parity: f64,
        buffers: &'a mut ResampleBuffers,
    ) -> &'a [Complex64] {
        self.circle_spectrum(column, parity, buffers);
        let coefficients = &mut buffers.circle[..=self.circle / 2];
        coefficients.iter_mut().zip(&self.source_phase).for_each(|(value, phase)| *value *= phase);
        coefficients
    }

    /// The column continued over the poles with parity `parity` onto the
    /// `M`-point circle, and its FFT there (in `buffers.circle`).
    fn circle_spectrum(&self, column: &[Complex64], parity: f64, buffers: &mut ResampleBuffers) {
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
    }
}

/// Moves a quadrature on the Fejér rows onto as few rows as its kernels
/// need, so that the Legendre sums run over those.
///
/// An analysis sums `S = Σ_j c_j K(θ_j)` over the `F` Fejér rows
/// `θ_j = π(j + ½)/F`, `c_j` a column's interpolant there times the row's
/// factor (its weight, and for the wind `1/sin θ_j`) and `K = P̄_lm` a
/// trigonometric polynomial of degree at most `L` in colatitude with parity
/// `σ = (−1)^m` across the poles. Continued over the poles with that parity,
/// `c` is a sequence on the `2F`-point circle and `S` half its sum against
/// `K` there, where only the Fourier terms of `c` of degree at most `L` meet
/// those of `K`. Those terms alone, evaluated on `n ≥ L + 1` rows
/// `φ_i = π(i + ½)/n`, give the same sum over the `2n`-point circle (a
/// trigonometric polynomial of degree below `2n` sums exactly), times `n/F`.
/// So `S = Σ_i c'_i K(φ_i)` over `n` rows, with
///
/// `c'_i = (1/n) [D_0 + 2 Σ_(k=1..L) D_k cos kφ_i]`, `D_k = Σ_j c_j cos kθ_j` (`σ = 1`),
/// `c'_i = (2/n) Σ_(k=1..L) S_k sin kφ_i`, `S_k = Σ_j c_j sin kθ_j` (`σ = −1`):
///
/// a cosine (sine) transform of length `F` and its inverse of length `n`,
/// each one complex FFT of that length ([`cosine_transform`],
/// [`inverse_cosine_transform`]). The column comes as its interpolant's
/// Fourier coefficients ([`Resampler::interpolant`]), put on the Fejér rows
/// by one more inverse transform of length `F` (half the FFT a resampling
/// onto the whole `2F`-point circle takes). At T719 on ERA5's 0.25° grid the
/// wind's sums run over 729 rows instead of 1,440 (ducc0 prepares its
/// analyses on evenly spaced grids in the same way).
pub(crate) struct Condenser {
    fine_rows: usize,
    rows: usize,
    /// `L`, the kernels' highest degree.
    degree: usize,
    /// The factor each Fejér row's value takes before the sums, in
    /// [`transform_order`] (where the transforms leave and take the values).
    ordered_factor: Vec<f64>,
    /// Inverse and forward FFTs of `F` points, inverse of `n`.
    fine_inverse: Arc<dyn Fft<f64>>,
    fine_forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    /// `e^{±iπk/(2F)}`, `k < F`: the transforms' twiddles on the Fejér rows.
    fine_up: Vec<Complex64>,
    fine_down: Vec<Complex64>,
    /// `e^{iπk/(2n)}`, `k < n`: [`inverse_cosine_transform`]'s onto the rows.
    up: Vec<Complex64>,
    scratch_len: usize,
}

/// Per-call buffers for [`Condenser::condense`].
pub(crate) struct CondenseBuffers {
    fine_spectrum: Vec<Complex64>,
    fine: Vec<Complex64>,
    spectrum: Vec<Complex64>,
    rows: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

impl Condenser {
    /// A condenser of sums over `fine_rows` Fejér rows whose values take
    /// `fine_factor` (one per row) against kernels of degree at most
    /// `degree` (below `fine_rows`).
    pub(crate) fn new(fine_factor: Vec<f64>, degree: usize) -> Self {
        let fine_rows = fine_factor.len();
        debug_assert!(degree < fine_rows, "the Fejér rows resolve the kernels");
        let rows = Condenser::rows_for(degree);
        let mut ordered_factor = vec![0.0; fine_rows];
        for (j, factor) in fine_factor.iter().enumerate() {
            ordered_factor[transform_order(j, fine_rows)] = *factor;
        }
        let mut planner = FftPlanner::new();
        let fine_inverse = planner.plan_fft_inverse(fine_rows);
        let fine_forward = planner.plan_fft_forward(fine_rows);
        let inverse = planner.plan_fft_inverse(rows);
        // The inverse transform onto the rows reorders its values through
        // the scratch too.
        let scratch_len = [&fine_inverse, &fine_forward, &inverse]
            .iter()
            .map(|fft| fft.get_inplace_scratch_len())
            .fold(rows, usize::max);
        Condenser {
            fine_rows,
            rows,
            degree,
            ordered_factor,
            fine_inverse,
            fine_forward,
            inverse,
            fine_up: quarter_step_twiddles(fine_rows, 1.0),
            fine_down: quarter_step_twiddles(fine_rows, -1.0),
            up: quarter_step_twiddles(rows, 1.0),
            scratch_len,
        }
    }

    /// Number of rows the sums run over.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Number of rows the sums against kernels of degree at most `degree`
    /// run over once condensed: the fewest above `degree`, rounded up to a
    /// length that plans fast.
    pub(crate) fn rows_for(degree: usize) -> usize {
        smooth_at_least(degree + 1)
    }

    /// Colatitudes of the rows, radians, north to south.
    pub(crate) fn colatitudes(&self) -> Vec<f64> {
        offset_colatitudes(self.rows)
    }

    pub(crate) fn buffers(&self) -> CondenseBuffers {
        let zero = Complex64::new(0.0, 0.0);
        CondenseBuffers {
            fine_spectrum: vec![zero; self.fine_rows],
            fine: vec![zero; self.fine_rows],
            spectrum: vec![zero; self.rows],
            rows: vec![zero; self.rows],
            scratch: vec![zero; self.scratch_len],
        }
    }

    /// The values for the rows, appended to `out`, of a column of parity
    /// `column_parity` (±1) given by its interpolant's coefficients
    /// (`c_k`, `k = 0..=K`, `K < F`, as [`Resampler::interpolant`] gives
    /// them), summed on the Fejér rows against kernels of parity
    /// `kernel_parity`.
    pub(crate) fn condense(
        &self,
        interpolant: &[Complex64],
        column_parity: f64,
        kernel_parity: f64,
        out: &mut Vec<Complex64>,
        buffers: &mut CondenseBuffers,
    ) {
        let (f, n, degree) = (self.fine_rows, self.rows, self.degree);
        let top = interpolant.len() - 1;
        debug_assert!(top < f, "the Fejér rows resolve the column");
        let zero = Complex64::new(0.0, 0.0);
        let CondenseBuffers { fine_spectrum, fine, spectrum, rows, scratch } = buffers;
        // The column on the Fejér rows. Even: `g(θ_j) = c_0 + 2 Σ c_k cos kθ_j`,
        // an inverse cosine transform of `c`. Odd: `g = 2i Σ c_k sin kθ`, and
        // `sin((F − k')θ_j) = (−1)^j cos k'θ_j`, so `(−1)^j g(θ_j)` is the
        // inverse cosine transform of `D_(F−k) = i c_k`.
        let (odd_column, sine) = (column_parity < 0.0, kernel_parity < 0.0);
        fine_spectrum.fill(zero);
        if odd_column {
            let i = Complex64::new(0.0, 1.0);
            for (k, value) in interpolant.iter().enumerate().skip(1) {
                fine_spectrum[f - k] = i * value;
            }
        } else {
            fine_spectrum[..=top].copy_from_slice(interpolant);
        }
        ordered_inverse_cosine_transform(fine_spectrum, fine, &*self.fine_inverse, &self.fine_up, scratch);
        // Weighted, still in transform order (odd rows last). A sine
        // transform is the cosine transform of the values with alternate
        // signs, read backwards (`S_k = D'_(F−k)`): the odd rows' signs flip
        // for a sine kernel, and again for an odd column.
        let odd_rows = f.div_ceil(2);
        let flip = odd_column != sine;
        let (even_part, odd_part) = fine.split_at_mut(odd_rows);
        let (even_factor, odd_factor) = self.ordered_factor.split_at(odd_rows);
        even_part.iter_mut().zip(even_factor).for_each(|(value, factor)| *value *= factor);
        let odd_sign = if flip { -1.0 } else { 1.0 };
        odd_part.iter_mut().zip(odd_factor).for_each(|(value, factor)| *value *= factor * odd_sign);
        let transform = cosine_transform(fine, &*self.fine_forward, &self.fine_down, scratch);
        // The rows' spectrum: `D_k / n` to degree `L` (sines: `S_k / n` at
        // `n − k`, the inverse sine transform being the inverse cosine
        // transform of the spectrum read backwards, with alternate signs).
        spectrum.fill(zero);
        let scale = 1.0 / n as f64;
        if sine {
            for k in 1..=degree {
                spectrum[n - k] = transform(f - k) * scale;
            }
        } else {
            for (k, slot) in spectrum[..=degree].iter_mut().enumerate() {
                *slot = transform(k) * scale;
            }
        }
        inverse_cosine_transform(spectrum, rows, &*self.inverse, &self.up, scratch);
        if sine {
            rows.iter_mut().skip(1).step_by(2).for_each(|value| *value = -*value);
        }
        out.extend_from_slice(rows);
    }
}

/// `e^{±iπk/(2N)}` for `k < N` (`sign` ±1): the twiddles of
/// [`cosine_transform`] (`−`) and [`inverse_cosine_transform`] (`+`).
fn quarter_step_twiddles(n: usize, sign: f64) -> Vec<Complex64> {
    (0..n).map(|k| Complex64::from_polar(1.0, sign * PI * k as f64 / (2 * n) as f64)).collect()
}

/// Where value `j` of `n` goes in [`cosine_transform`]'s input (Makhoul's
/// reordering): even-indexed values forward, odd-indexed backward,
/// `v_j = x_2j`, `v_(N−1−j) = x_(2j+1)`.
fn transform_order(j: usize, n: usize) -> usize {
    if j.is_multiple_of(2) { j / 2 } else { n - 1 - j / 2 }
}

/// The cosine transform `D_k = Σ_j x_j cos(π(2j + 1)k / (2N))` of complex
/// `x` (length `N`), given in [`transform_order`] in `v` (then used as the
/// FFT's buffer), by one complex FFT of length `N` (Makhoul's): a function
/// giving `D_k` for any `k < N`. `twiddle[k] = e^{−iπk/(2N)}`.
fn cosine_transform<'a>(
    v: &'a mut [Complex64],
    fft: &dyn Fft<f64>,
    twiddle: &'a [Complex64],
    scratch: &mut [Complex64],
) -> impl Fn(usize) -> Complex64 + 'a {
    let n = v.len();
    fft.process_with_scratch(v, scratch);
    let spectrum = &*v;
    // The real and imaginary parts' transforms are each `Re(e^{−iπk/(2N)} V_k)`
    // of their own FFT, `(V_k ± conj V_(N−k))/2` of the complex one.
    move |k| {
        let (z, mirror) = (twiddle[k] * spectrum[k], twiddle[k] * spectrum[(n - k) % n].conj());
        Complex64::new(0.5 * (z.re + mirror.re), 0.5 * (z.im - mirror.im))
    }
}

/// The inverse cosine transform `y_i = D_0 + 2 Σ_(k=1..N−1) D_k cos(π(2i + 1)k / (2N))`
/// of complex `d` (length `N`) into `y`, by one complex FFT of length `N`.
/// `twiddle[k] = e^{iπk/(2N)}`.
fn inverse_cosine_transform(
    d: &[Complex64],
    y: &mut [Complex64],
    fft: &dyn Fft<f64>,
    twiddle: &[Complex64],
    scratch: &mut [Complex64],
) {
    let n = d.len();
    ordered_inverse_cosine_transform(d, y, fft, twiddle, scratch);
    // `y_2j = v_j`, `y_(2j+1) = v_(N−1−j)`: [`transform_order`] undone.
    let ordered = &mut scratch[..n];
    for (i, slot) in ordered.iter_mut().enumerate() {
        *slot = y[transform_order(i, n)];
    }
    y.copy_from_slice(ordered);
}

/// [`inverse_cosine_transform`] left in [`transform_order`]: `y_i` in
/// `v[transform_order(i, N)]`, the order [`cosine_transform`] takes.
fn ordered_inverse_cosine_transform(
    d: &[Complex64],
    v: &mut [Complex64],
    fft: &dyn Fft<f64>,
    twiddle: &[Complex64],
    scratch: &mut [Complex64],
) {
    let n = d.len();
    let i = Complex64::new(0.0, 1.0);
    // `V_k = e^{iπk/(2N)} (D_k − i D_(N−k))`, `D_N = 0`.
    v[0] = d[0];
    for k in 1..n {
        v[k] = twiddle[k] * (d[k] - i * d[n - k]);
    }
    fft.process_with_scratch(v, scratch);
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

    /// The value at `theta` of the interpolant with coefficients `c` and
    /// parity `parity`, as [`Resampler::interpolant`] gives them, by its sum.
    fn interpolant_at(c: &[Complex64], parity: f64, theta: f64) -> Complex64 {
        let terms = c.iter().enumerate().skip(1);
        if parity > 0.0 {
            c[0] + terms.map(|(k, v)| v * (2.0 * (k as f64 * theta).cos())).sum::<Complex64>()
        } else {
            terms.map(|(k, v)| v * Complex64::new(0.0, 2.0 * (k as f64 * theta).sin())).sum::<Complex64>()
        }
    }

    /// Condensed, a Fejér quadrature's sums against kernels of degree up to
    /// `L` are the same sums, for columns and kernels of either parity and
    /// columns of any degree the Fejér rows hold; a kernel of degree past
    /// `L` is not.
    #[test]
    fn condensed_sums_are_the_fejer_sums() {
        let fine_rows = 40;
        let theta = offset_colatitudes(fine_rows);
        let factor: Vec<f64> =
            crate::layout::fejer_weights(fine_rows).iter().zip(&theta).map(|(w, t)| w / t.sin()).collect();
        let degree = 11;
        let condenser = Condenser::new(factor.clone(), degree);
        assert_eq!(condenser.rows(), 12);
        // `sin^m θ cos^p θ`, degree `m + p`, parity `(−1)^m`.
        let kernel = |m: i32, p: i32| move |t: f64| t.sin().powi(m) * t.cos().powi(p);
        for (top, column_parity) in [(39, 1.0), (39, -1.0), (20, 1.0), (17, -1.0), (0, 1.0)] {
            let c: Vec<Complex64> = (0..=top)
                .map(|k| Complex64::new((k as f64 * 0.7).sin() + 0.1 * k as f64, (k * k % 7) as f64 - 3.0))
                .collect();
            let values: Vec<Complex64> = theta.iter().map(|&t| interpolant_at(&c, column_parity, t)).collect();
            for (m, p) in [(0, 0), (1, 0), (0, 11), (3, 8), (4, 7), (11, 0), (2, 9), (5, 3)] {
                let k = kernel(m, p);
                let fine: Complex64 = values.iter().zip(&factor).zip(&theta).map(|((v, f), &t)| v * f * k(t)).sum();
                let mut out = Vec::new();
                let parity = if m % 2 == 0 { 1.0 } else { -1.0 };
                condenser.condense(&c, column_parity, parity, &mut out, &mut condenser.buffers());
                let coarse: Complex64 =
                    out.iter().zip(condenser.colatitudes()).map(|(v, t)| v * k(t)).sum::<Complex64>();
                let scale = fine.norm().max(1.0);
                assert_abs_diff_eq!(coarse.re, fine.re, epsilon = 1e-11 * scale);
                assert_abs_diff_eq!(coarse.im, fine.im, epsilon = 1e-11 * scale);
                if (m, p) == (3, 8) && top > 0 {
                    // One degree past what the rows resolve: no longer the same.
                    let past = kernel(3, 9);
                    let fine: Complex64 =
                        values.iter().zip(&factor).zip(&theta).map(|((v, f), &t)| v * f * past(t)).sum();
                    let coarse: Complex64 =
                        out.iter().zip(condenser.colatitudes()).map(|(v, t)| v * past(t)).sum::<Complex64>();
                    assert!((coarse - fine).norm() > 1e-6 * fine.norm(), "{coarse} {fine}");
                }
            }
        }
    }

    /// The cosine transform and its inverse by one FFT are their defining
    /// sums, for odd and even lengths.
    #[test]
    fn cosine_transforms_are_their_sums() {
        for n in [1usize, 2, 3, 5, 8, 9, 12] {
            let mut planner = FftPlanner::new();
            let (forward, inverse) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
            let (down, up) = (quarter_step_twiddles(n, -1.0), quarter_step_twiddles(n, 1.0));
            let mut scratch = vec![Complex64::new(0.0, 0.0); 64];
            let x: Vec<Complex64> =
                (0..n).map(|j| Complex64::new((j as f64 * 1.3).sin() + 0.5, j as f64 - 2.0)).collect();
            let angle = |j: usize, k: usize| PI * (2 * j + 1) as f64 * k as f64 / (2 * n) as f64;
            let mut work = x.clone();
            for (j, value) in x.iter().enumerate() {
                work[transform_order(j, n)] = *value;
            }
            let transform = cosine_transform(&mut work, &*forward, &down, &mut scratch);
            let d: Vec<Complex64> = (0..n).map(&transform).collect();
            for (k, value) in d.iter().enumerate() {
                let sum: Complex64 = x.iter().enumerate().map(|(j, v)| v * angle(j, k).cos()).sum();
                assert_abs_diff_eq!((value - sum).norm(), 0.0, epsilon = 1e-12);
            }
            let mut y = vec![Complex64::new(0.0, 0.0); n];
            inverse_cosine_transform(&x, &mut y, &*inverse, &up, &mut scratch);
            for (i, value) in y.iter().enumerate() {
                let sum: Complex64 =
                    x[0] + x.iter().enumerate().skip(1).map(|(k, v)| v * (2.0 * angle(i, k).cos())).sum::<Complex64>();
                assert_abs_diff_eq!((value - sum).norm(), 0.0, epsilon = 1e-12);
            }
        }
    }

    /// A trigonometric polynomial of the right parity is reproduced exactly.
    #[test]
    fn interpolates_trigonometric_polynomials() {
        for (layout, n) in [(LatitudeLayout::EquiangularWithPoles, 13), (LatitudeLayout::EquiangularOffset, 12)] {
            let resampler = Resampler::new(layout, n, 6).unwrap();
            let source: Vec<f64> = match layout {
                LatitudeLayout::EquiangularWithPoles => (0..n).map(|j| PI * j as f64 / (n - 1) as f64).collect(),
                _ => offset_colatitudes(n),
            };
            let even = |t: f64| Complex64::new(1.0 + (3.0 * t).cos(), 2.0 * (10.0 * t).cos());
            let odd = |t: f64| Complex64::new((2.0 * t).sin() - (9.0 * t).sin(), t.sin());
            // The Nyquist term (degree `M/2 = 12`) each layout's samples hold:
            // cosine with the poles, sine without.
            let nyquist_with_poles = |t: f64| Complex64::new((12.0 * t).cos() - 0.5, -(12.0 * t).cos());
            let nyquist_offset = |t: f64| Complex64::new(2.0 * (12.0 * t).sin(), (12.0 * t).sin() + t.sin());
            let nyquist: (&dyn Fn(f64) -> Complex64, f64) = match layout {
                LatitudeLayout::EquiangularWithPoles => (&nyquist_with_poles, 1.0),
                _ => (&nyquist_offset, -1.0),
            };
            for (f, parity) in [(&even as &dyn Fn(f64) -> Complex64, 1.0), (&odd, -1.0), nyquist] {
                let column: Vec<Complex64> = source.iter().map(|&t| f(t)).collect();
                let mut out = Vec::new();
                let mut buffers = resampler.buffers();
                resampler.resample(&column, parity, &mut out, &mut buffers);
                assert_eq!(out.len(), resampler.fine_rows());
                for (t, value) in resampler.fine_colatitudes().into_iter().zip(out) {
                    assert_abs_diff_eq!(value.re, f(t).re, epsilon = 1e-12);
                    assert_abs_diff_eq!(value.im, f(t).im, epsilon = 1e-12);
                }
                // Its coefficients are the same interpolant, anywhere.
                let c = resampler.interpolant(&column, parity, &mut buffers).to_vec();
                assert_eq!(c.len(), resampler.circle / 2 + 1);
                for t in [0.0, 0.3, 1.0, 2.2, PI] {
                    let value = interpolant_at(&c, parity, t);
                    assert_abs_diff_eq!(value.re, f(t).re, epsilon = 1e-12);
                    assert_abs_diff_eq!(value.im, f(t).im, epsilon = 1e-12);
                }
            }
        }
    }
}
