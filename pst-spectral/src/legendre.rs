//! Associated Legendre functions by recurrence, and the Legendre half of the
//! transforms (the sums over latitude for each zonal wavenumber).
//!
//! `P̄_lm` (4π-normalised, no Condon–Shortley phase) come from the standard
//! stable recurrence in `l` at fixed `m`, started from
//! `P̄_mm = √((2m+1)/(2m)) sin θ P̄_(m−1)(m−1)`. They are computed on the fly
//! (no table of `(lmax+1)²/2 × nlat` values), so memory stays small at any
//! truncation. `P̄_mm` decreases geometrically with `m` near the poles; once
//! it falls below [`NEGLIGIBLE`] at a latitude, every `P̄_lm` with `l ≤ 1800`
//! there is below ~1e-76 (the deepest fall from `P̄_mm` to a turning point is
//! `(m/l)^m ≥ 10^-204` at `l = 1279`, 10^-280 at `l ≈ 1800`), so that latitude
//! is skipped for the remaining orders. That bounds the truncations that
//! are exact in `f64` without an extended exponent: [`crate::MAX_LMAX`]
//! (the wind's vector analysis runs the recurrence one degree further, to
//! `MAX_LMAX + 1`, where the margin is the same to within a factor of ~2).

use rustfft::num_complex::Complex64;

use crate::coefficients::{SphericalHarmonics, m_offset};

/// `P̄_mm` below this is treated as zero (and avoids subnormal slow paths).
const NEGLIGIBLE: f64 = 1e-280;

/// Recurrence coefficients for all `(l, m)` up to `lmax`, m-major like
/// [`SphericalHarmonics`].
#[derive(Debug, Clone)]
pub(crate) struct Recurrence {
    lmax: usize,
    /// `a_lm = √((4l²−1)/(l²−m²))`, for `l > m`.
    a: Vec<f64>,
    /// `b_lm = ε_(l−1)m` ([`epsilon`]), for `l > m` (zero at `l = m+1`).
    b: Vec<f64>,
    /// `√((2m+1)/(2m))`, the diagonal step (index `m`, unused at 0).
    diagonal: Vec<f64>,
}

/// `ε_lm = √((l²−m²)/(4l²−1))`, which links `x P̄_lm` to its neighbours:
/// `x P̄_lm = ε_(l+1)m P̄_(l+1)m + ε_lm P̄_(l−1)m` (zero at `l = m`).
#[inline]
pub(crate) fn epsilon(l: usize, m: usize) -> f64 {
    let (lf, mf) = (l as f64, m as f64);
    ((lf * lf - mf * mf) / (4.0 * lf * lf - 1.0)).sqrt()
}

impl Recurrence {
    pub(crate) fn new(lmax: usize) -> Self {
        let count = m_offset(lmax, lmax) + 1;
        let (mut a, mut b) = (vec![0.0; count], vec![0.0; count]);
        for m in 0..=lmax {
            let base = m_offset(lmax, m);
            let mf = m as f64;
            for l in m + 1..=lmax {
                let lf = l as f64;
                let k = base + l - m;
                a[k] = ((4.0 * lf * lf - 1.0) / (lf * lf - mf * mf)).sqrt();
                b[k] = epsilon(l - 1, m);
            }
        }
        let diagonal =
            (0..=lmax).map(|m| if m == 0 { 1.0 } else { ((2 * m + 1) as f64 / (2 * m) as f64).sqrt() }).collect();
        Recurrence { lmax, a, b, diagonal }
    }

    pub(crate) fn lmax(&self) -> usize {
        self.lmax
    }

    fn order(&self, m: usize) -> (&[f64], &[f64]) {
        let range = m_offset(self.lmax, m)..m_offset(self.lmax, m) + self.lmax + 1 - m;
        (&self.a[range.clone()], &self.b[range])
    }
}

/// Latitude rows a Legendre sum runs over, north to south and symmetric
/// about the equator (row `j` mirrors row `n − 1 − j`).
#[derive(Debug, Clone)]
pub(crate) struct Rows {
    pub(crate) cos: Vec<f64>,
    pub(crate) sin: Vec<f64>,
    /// Quadrature weights for `∫ … sin θ dθ` (sum 2); empty for synthesis rows.
    pub(crate) weight: Vec<f64>,
}

impl Rows {
    pub(crate) fn new(colatitudes: &[f64], weight: Vec<f64>) -> Self {
        Rows {
            cos: colatitudes.iter().map(|t| t.cos()).collect(),
            sin: colatitudes.iter().map(|t| t.sin()).collect(),
            weight,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.cos.len()
    }

    /// Rows in the northern half, the equator included.
    fn half(&self) -> usize {
        self.len().div_ceil(2)
    }
}

/// `P̄_mm` at each northern row, advanced one order at a time.
struct Diagonal {
    values: Vec<f64>,
}

impl Diagonal {
    fn new(rows: &Rows) -> Self {
        Diagonal { values: vec![1.0; rows.half()] }
    }

    /// Steps from order `m − 1` to `m` (nothing at `m = 0`).
    fn advance(&mut self, recurrence: &Recurrence, rows: &Rows, m: usize) {
        if m == 0 {
            return;
        }
        let step = recurrence.diagonal[m];
        for (p, s) in self.values.iter_mut().zip(&rows.sin) {
            *p *= step * s;
            if p.abs() < NEGLIGIBLE {
                *p = 0.0;
            }
        }
    }
}

#[inline]
fn times_i(z: Complex64) -> Complex64 {
    Complex64::new(-z.im, z.re)
}

/// The northern row's value and its mirror's (zero for the equator row).
#[inline]
fn pair(column: &[Complex64], north: usize) -> (Complex64, Complex64) {
    let south = column.len() - 1 - north;
    if south == north { (column[north], Complex64::new(0.0, 0.0)) } else { (column[north], column[south]) }
}

/// Scalar analysis: `f_lm = ½ Σ_j w_j g_m(θ_j) P̄_lm(cos θ_j)`.
///
/// `columns` holds `g_m` (the zonal Fourier coefficients) for `m = 0..=lmax`,
/// each over all `rows`.
pub(crate) fn analyse_scalar(
    recurrence: &Recurrence,
    rows: &Rows,
    columns: &[Complex64],
    out: &mut SphericalHarmonics,
) {
    analyse_columns(recurrence, rows, |north| 0.5 * rows.weight[north], [columns], [out]);
}

/// The Legendre sums of several fields over the same rows:
/// `out[i]_lm = Σ_j weight(j) g_im(θ_j) P̄_lm(cos θ_j)`, with `weight` given
/// for northern rows (a row and its mirror weigh the same).
///
/// Each `columns[i]` holds a field's zonal coefficients `g_im` by order
/// (as many orders as it holds, at most `lmax + 1`), each over all `rows`;
/// each `out[i]` is at the recurrence's truncation. The fields share the
/// recurrence in `l`, its most expensive part.
fn analyse_columns<const FIELDS: usize>(
    recurrence: &Recurrence,
    rows: &Rows,
    weight: impl Fn(usize) -> f64,
    columns: [&[Complex64]; FIELDS],
    mut out: [&mut SphericalHarmonics; FIELDS],
) {
    let n = rows.len();
    debug_assert!(columns.iter().all(|c| c.len() == columns[0].len()), "fields of one size");
    let orders =
        columns.iter().map(|c| c.len().checked_div(n).unwrap_or(0)).min().unwrap_or(0).min(recurrence.lmax() + 1);
    let mut diagonal = Diagonal::new(rows);
    let mut live = Vec::with_capacity(rows.half());
    for m in 0..orders {
        diagonal.advance(recurrence, rows, m);
        let (a, b) = recurrence.order(m);
        let order_columns = columns.map(|c| &c[m * n..(m + 1) * n]);
        let mut order_out = out.each_mut().map(|field| field.order_mut(m));
        // The rows where P̄_mm is not negligible, in order. The recurrence
        // in l is a chain of dependent multiplications: several rows at once
        // keep the floating-point units busy, and each coefficient still
        // adds the rows' terms one by one in row order, so the sums are the
        // same to the bit.
        live.clear();
        live.extend(diagonal.values.iter().enumerate().filter(|&(_, &p_mm)| p_mm != 0.0).map(|(north, _)| north));
        let mut groups = live.chunks_exact(ANALYSIS_LANES);
        for group in groups.by_ref() {
            analyse_rows::<ANALYSIS_LANES, FIELDS>(
                a,
                b,
                &diagonal.values,
                rows,
                &weight,
                &order_columns,
                group,
                &mut order_out,
            );
        }
        for &row in groups.remainder() {
            analyse_rows::<1, FIELDS>(a, b, &diagonal.values, rows, &weight, &order_columns, &[row], &mut order_out);
        }
    }
}

/// Rows analysed together by [`analyse_columns`].
const ANALYSIS_LANES: usize = 4;

/// Adds the terms of northern rows `norths` (and their mirrors) to the
/// coefficients `out` of one order `m` (recurrence `a`, `b`) of each field,
/// row after row for each coefficient.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn analyse_rows<const LANES: usize, const FIELDS: usize>(
    a: &[f64],
    b: &[f64],
    p_mm: &[f64],
    rows: &Rows,
    weight: &impl Fn(usize) -> f64,
    columns: &[&[Complex64]; FIELDS],
    norths: &[usize],
    out: &mut [&mut [Complex64]; FIELDS],
) {
    let zero = Complex64::new(0.0, 0.0);
    let (mut x, mut p1, mut p2) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
    let (mut even, mut odd) = ([[zero; LANES]; FIELDS], [[zero; LANES]; FIELDS]);
    for (i, &north) in norths.iter().enumerate().take(LANES) {
        let w = weight(north);
        for (column, (even, odd)) in columns.iter().zip(even.iter_mut().zip(odd.iter_mut())) {
            let (g_north, g_south) = pair(column, north);
            // P̄_lm is even about the equator when l − m is even, odd otherwise.
            even[i] = (g_north + g_south) * w;
            odd[i] = (g_north - g_south) * w;
        }
        x[i] = rows.cos[north];
        p1[i] = p_mm[north];
    }
    let degrees = out.iter().map(|field| field.len()).min().unwrap_or(0).min(a.len()).min(b.len());
    if degrees == 0 {
        return;
    }
    let (a, b) = (&a[..degrees], &b[..degrees]);
    let mut out = out.each_mut().map(|field| &mut field[..degrees]);
    for (field, even) in out.iter_mut().zip(&even) {
        for i in 0..LANES {
            field[0] += even[i] * p1[i];
        }
    }
    for k in 1..degrees {
        let (ak, bk) = (a[k], b[k]);
        let mut p0 = [0.0; LANES];
        for i in 0..LANES {
            p0[i] = ak * (x[i] * p1[i] - bk * p2[i]);
            p2[i] = p1[i];
            p1[i] = p0[i];
        }
        let parity = if k % 2 == 0 { &even } else { &odd };
        for (field, parity) in out.iter_mut().zip(parity) {
            let mut sum = field[k];
            for i in 0..LANES {
                sum += parity[i] * p0[i];
            }
            field[k] = sum;
        }
    }
}

/// Scalar synthesis: `g_m(θ_j) = Σ_l f_lm P̄_lm(cos θ_j)` into `columns`
/// (`m = 0..=lmax`, each over all `rows`), which must hold zeros: orders
/// past the coefficients' truncation are left as they are.
pub(crate) fn synthesise_scalar(
    recurrence: &Recurrence,
    rows: &Rows,
    coefficients: &SphericalHarmonics,
    columns: &mut [Complex64],
) {
    synthesise_fields(recurrence, rows, [coefficients], [columns]);
}

/// [`synthesise_scalar`] for several fields of one truncation at once: they
/// share the recurrence in `l`. Each field's values are the same as alone.
pub(crate) fn synthesise_fields<const FIELDS: usize>(
    recurrence: &Recurrence,
    rows: &Rows,
    coefficients: [&SphericalHarmonics; FIELDS],
    mut columns: [&mut [Complex64]; FIELDS],
) {
    debug_assert!(coefficients.iter().all(|c| c.lmax() == coefficients[0].lmax()), "fields of one truncation");
    let (n, lmax) = (rows.len(), recurrence.lmax());
    let mut diagonal = Diagonal::new(rows);
    for m in 0..=lmax {
        diagonal.advance(recurrence, rows, m);
        let (a, b) = recurrence.order(m);
        let mut order_columns = columns.each_mut().map(|c| &mut c[m * n..(m + 1) * n]);
        let f = coefficients.map(|c| c.order(m));
        let half = diagonal.values.len();
        // The recurrence in l is a chain of dependent multiplications:
        // several rows at once keep the floating-point units busy. Each
        // row's arithmetic is the same as alone, so results do not depend
        // on the grouping.
        let mut north = 0;
        while north + SYNTHESIS_LANES <= half {
            synthesise_rows::<SYNTHESIS_LANES, FIELDS>(
                a,
                b,
                &f,
                &diagonal.values,
                &rows.cos,
                north,
                &mut order_columns,
            );
            north += SYNTHESIS_LANES;
        }
        for row in north..half {
            synthesise_rows::<1, FIELDS>(a, b, &f, &diagonal.values, &rows.cos, row, &mut order_columns);
        }
    }
}

/// The normal equations of an unweighted least-squares fit, order by
/// order, of `P̄_lm` to values given on every one of `rows`:
/// `A_m[k][k′] = Σ_j P̄_(m+k)m(x_j) P̄_(m+k′)m(x_j)` for `k, k′ ≤ lmax − m`,
/// each `A_m` row-major (`(lmax − m + 1)²` values).
///
/// On rows symmetric about the equator, degrees of opposite parity about it
/// are orthogonal: those entries are exactly zero.
pub(crate) fn normal_matrices(recurrence: &Recurrence, rows: &Rows) -> Vec<Vec<f64>> {
    let (n, lmax) = (rows.len(), recurrence.lmax());
    let mut diagonal = Diagonal::new(rows);
    let mut out = Vec::with_capacity(lmax + 1);
    let mut p = vec![0.0; lmax + 1];
    for m in 0..=lmax {
        diagonal.advance(recurrence, rows, m);
        let (a, b) = recurrence.order(m);
        let k_count = lmax + 1 - m;
        let mut matrix = vec![0.0; k_count * k_count];
        for (north, &p_mm) in diagonal.values.iter().enumerate() {
            if p_mm == 0.0 {
                continue;
            }
            let x = rows.cos[north];
            let (mut p1, mut p2) = (p_mm, 0.0);
            p[0] = p_mm;
            for k in 1..k_count {
                let p0 = a[k] * (x * p1 - b[k] * p2);
                p[k] = p0;
                p2 = p1;
                p1 = p0;
            }
            // The row and its mirror, where P̄ has the parity of l − m.
            let copies = if n - 1 - north == north { 1.0 } else { 2.0 };
            for k in 0..k_count {
                let pk = copies * p[k];
                for k2 in (k % 2..=k).step_by(2) {
                    matrix[k * k_count + k2] += pk * p[k2];
                }
            }
        }
        for k in 0..k_count {
            for k2 in 0..k {
                matrix[k2 * k_count + k] = matrix[k * k_count + k2];
            }
        }
        out.push(matrix);
    }
    out
}

/// Rows synthesised together by [`synthesise_fields`].
const SYNTHESIS_LANES: usize = 4;

/// `g_m` of each field at northern rows `first..first + LANES` and their
/// mirrors, for one order `m` (recurrence `a`, `b`, coefficients `f`).
#[inline(always)]
fn synthesise_rows<const LANES: usize, const FIELDS: usize>(
    a: &[f64],
    b: &[f64],
    f: &[&[Complex64]; FIELDS],
    p_mm: &[f64],
    cos: &[f64],
    first: usize,
    columns: &mut [&mut [Complex64]; FIELDS],
) {
    let zero = Complex64::new(0.0, 0.0);
    let mut x = [0.0; LANES];
    let mut p1 = [0.0; LANES];
    x.copy_from_slice(&cos[first..first + LANES]);
    p1.copy_from_slice(&p_mm[first..first + LANES]);
    let mut p2 = [0.0; LANES];
    let mut even = [[zero; LANES]; FIELDS];
    let mut odd = [[zero; LANES]; FIELDS];
    let degrees = f.iter().map(|f| f.len()).min().unwrap_or(0).min(a.len()).min(b.len());
    if degrees == 0 {
        return;
    }
    let (a, b) = (&a[..degrees], &b[..degrees]);
    let f = f.map(|f| &f[..degrees]);
    for (even, f) in even.iter_mut().zip(f) {
        for i in 0..LANES {
            even[i] = f[0] * p1[i];
        }
    }
    for k in 1..degrees {
        let (ak, bk) = (a[k], b[k]);
        let mut p0 = [0.0; LANES];
        for i in 0..LANES {
            p0[i] = ak * (x[i] * p1[i] - bk * p2[i]);
            p2[i] = p1[i];
            p1[i] = p0[i];
        }
        let sums = if k % 2 == 0 { &mut even } else { &mut odd };
        for (sums, f) in sums.iter_mut().zip(f) {
            let fk = f[k];
            for i in 0..LANES {
                sums[i] += fk * p0[i];
            }
        }
    }
    for (column, (even, odd)) in columns.iter_mut().zip(even.iter().zip(&odd)) {
        let n = column.len();
        for i in 0..LANES {
            let (north, south) = (first + i, n - 1 - (first + i));
            if p_mm[north] == 0.0 {
                column[north] = zero;
                column[south] = zero;
            } else {
                column[north] = even[i] + odd[i];
                column[south] = even[i] - odd[i];
            }
        }
    }
}

/// Vorticity and divergence coefficients from the zonal Fourier coefficients
/// of the eastward (`u`) and northward (`v`) wind on `rows`:
///
/// `ζ_lm = scale · ½ Σ_j w_j [−u_m ∂θP̄_lm + i m v_m P̄_lm / sin θ]`,
/// `δ_lm = scale · ½ Σ_j w_j [ v_m ∂θP̄_lm + i m u_m P̄_lm / sin θ]`,
///
/// from `ζ = (∂θ(sin θ u) + ∂λ v) / (a sin θ)` and
/// `δ = (∂λ u − ∂θ(sin θ v)) / (a sin θ)` integrated by parts, with
/// `scale = 1/a`. The rows must avoid the poles (quadrature rows do).
///
/// With `sin θ ∂θP̄_lm = l ε_(l+1)m P̄_(l+1)m − (l+1) ε_lm P̄_(l−1)m`
/// ([`epsilon`]), both are combinations of two scalar sums,
/// `U_lm = scale · ½ Σ_j w_j u_m P̄_lm / sin θ` and `V_lm` alike:
///
/// `ζ_lm = −l ε_(l+1)m U_(l+1)m + (l+1) ε_lm U_(l−1)m + i m V_lm`,
/// `δ_lm =  l ε_(l+1)m V_(l+1)m − (l+1) ε_lm V_(l−1)m + i m U_lm`
///
/// (the spectral models' form), so the sums over rows need `P̄_lm` alone, one
/// degree past `lmax`: `recurrence` is at `lmax + 1`, the outputs at `lmax`.
pub(crate) fn analyse_vector(
    recurrence: &Recurrence,
    rows: &Rows,
    u: &[Complex64],
    v: &[Complex64],
    scale: f64,
    vorticity: &mut SphericalHarmonics,
    divergence: &mut SphericalHarmonics,
) {
    let lmax = recurrence.lmax().saturating_sub(1);
    debug_assert!(vorticity.lmax() == lmax && divergence.lmax() == lmax, "outputs one degree below the recurrence");
    let weight: Vec<f64> = (0..rows.half()).map(|north| 0.5 * rows.weight[north] * scale / rows.sin[north]).collect();
    let mut u_sums = SphericalHarmonics::zeros(lmax + 1);
    let mut v_sums = SphericalHarmonics::zeros(lmax + 1);
    analyse_columns(recurrence, rows, |north| weight[north], [u, v], [&mut u_sums, &mut v_sums]);
    let zero = Complex64::new(0.0, 0.0);
    for m in 0..=lmax {
        let (u_order, v_order) = (u_sums.order(m), v_sums.order(m));
        let zeta = vorticity.order_mut(m);
        let delta = divergence.order_mut(m);
        let mf = m as f64;
        for (k, (zeta, delta)) in zeta.iter_mut().zip(delta.iter_mut()).enumerate() {
            let l = m + k;
            let up = l as f64 * epsilon(l + 1, m);
            let down = (l + 1) as f64 * epsilon(l, m);
            let (u_below, v_below) = if k == 0 { (zero, zero) } else { (u_order[k - 1], v_order[k - 1]) };
            *zeta = u_below * down - u_order[k + 1] * up + times_i(v_order[k] * mf);
            *delta = v_order[k + 1] * up - v_below * down + times_i(u_order[k] * mf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use pst_core::gauss_legendre;

    /// `P̄_lm` at one `x` by the recurrence, as a dense `[l]` vector for `m`.
    fn column(recurrence: &Recurrence, m: usize, x: f64) -> Vec<f64> {
        let s = (1.0 - x * x).sqrt();
        let mut p_mm = 1.0;
        for k in 1..=m {
            p_mm *= recurrence.diagonal[k] * s;
        }
        let (a, b) = recurrence.order(m);
        let mut out = vec![p_mm];
        let (mut p1, mut p2) = (p_mm, 0.0);
        for k in 1..a.len() {
            let p0 = a[k] * (x * p1 - b[k] * p2);
            out.push(p0);
            p2 = p1;
            p1 = p0;
        }
        out
    }

    #[test]
    fn low_degrees_match_closed_forms() {
        let r = Recurrence::new(3);
        let x: f64 = 0.3;
        let s = (1.0 - x * x).sqrt();
        let m0 = column(&r, 0, x);
        assert_abs_diff_eq!(m0[1], 3f64.sqrt() * x, epsilon = 1e-15);
        assert_abs_diff_eq!(m0[2], 5f64.sqrt() * (1.5 * x * x - 0.5), epsilon = 1e-15);
        let m1 = column(&r, 1, x);
        assert_abs_diff_eq!(m1[0], 1.5f64.sqrt() * s, epsilon = 1e-15);
        assert_abs_diff_eq!(m1[1], (15.0f64 / 2.0).sqrt() * x * s, epsilon = 1e-15);
        let m2 = column(&r, 2, x);
        assert_abs_diff_eq!(m2[0], (15.0f64 / 8.0).sqrt() * s * s, epsilon = 1e-15);
    }

    /// The vector analysis in the spectral models' form equals the defining
    /// sums (`∂θP̄_lm` by its own recurrence, term by term over every row).
    #[test]
    fn vector_analysis_is_the_integrated_by_parts_sums() {
        // An odd row count: an equator row, and a last group of one row.
        let (lmax, n) = (40, 65);
        let (x, w) = gauss_legendre(n).unwrap();
        let colatitudes: Vec<f64> = x.iter().map(|x| x.acos()).collect();
        let rows = Rows::new(&colatitudes, w.clone());
        // Deterministic, rough zonal coefficients (any values: the identity
        // holds row by row).
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut zonal = || (0..(lmax + 1) * n).map(|_| Complex64::new(next(), next())).collect::<Vec<_>>();
        let (u, v) = (zonal(), zonal());
        let scale = 1.0 / 6.371e6;
        let (mut zeta, mut delta) = (SphericalHarmonics::zeros(lmax), SphericalHarmonics::zeros(lmax));
        analyse_vector(&Recurrence::new(lmax + 1), &rows, &u, &v, scale, &mut zeta, &mut delta);

        let recurrence = Recurrence::new(lmax);
        let (mut largest, mut worst) = (0.0f64, 0.0f64);
        for m in 0..=lmax {
            let mut zeta_m = vec![Complex64::new(0.0, 0.0); lmax + 1 - m];
            let mut delta_m = zeta_m.clone();
            for j in 0..n {
                let (xj, sj) = (x[j], colatitudes[j].sin());
                let p = column(&recurrence, m, xj);
                let (uj, vj) = (u[m * n + j], v[m * n + j]);
                let weight = 0.5 * w[j] * scale;
                for k in 0..=lmax - m {
                    let l = (m + k) as f64;
                    let below = if k == 0 { 0.0 } else { p[k - 1] };
                    let c = ((2.0 * l + 1.0) * (l * l - (m * m) as f64) / (2.0 * l - 1.0)).sqrt();
                    let d_theta = (l * xj * p[k] - c * below) / sj;
                    let over_sin = m as f64 * p[k] / sj;
                    zeta_m[k] += (-uj * d_theta + times_i(vj * over_sin)) * weight;
                    delta_m[k] += (vj * d_theta + times_i(uj * over_sin)) * weight;
                }
            }
            for (k, (expected_zeta, expected_delta)) in zeta_m.iter().zip(&delta_m).enumerate() {
                let (ours_zeta, ours_delta) = (zeta.get(m + k, m).unwrap(), delta.get(m + k, m).unwrap());
                largest = largest.max(expected_zeta.norm()).max(expected_delta.norm());
                worst = worst.max((ours_zeta - expected_zeta).norm()).max((ours_delta - expected_delta).norm());
            }
        }
        assert!(largest > 0.0);
        assert!(worst <= 1e-13 * largest, "largest {largest:e}, worst difference {worst:e}");
    }

    /// Orthonormality at high degree checks the recurrence's stability.
    #[test]
    fn orthonormal_to_t1279() {
        let lmax = 1279;
        let r = Recurrence::new(lmax);
        let (x, w) = gauss_legendre(lmax + 1).unwrap();
        for m in [0, 1, 470, 1000, 1279] {
            let columns: Vec<Vec<f64>> = x.iter().map(|&x| column(&r, m, x)).collect();
            for l in [m, m + 1, (m + lmax) / 2, lmax].into_iter().filter(|&l| l <= lmax) {
                for l2 in [m, l, lmax] {
                    let k = l - m;
                    let k2 = l2 - m;
                    let dot: f64 = columns.iter().zip(&w).map(|(c, w)| w * c[k] * c[k2]).sum();
                    let expected = if l == l2 { 2.0 } else { 0.0 };
                    assert_abs_diff_eq!(dot, expected, epsilon = 1e-11);
                }
            }
        }
    }
}
