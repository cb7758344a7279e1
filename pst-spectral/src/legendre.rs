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

use std::ops::Range;

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

/// Partial sums a coefficient of the lane-summed analysis keeps over a
/// block: the block's `r`-th row adds to sum `r % SUM_LANES` (rows in
/// order), and the sums are added pairwise, `(s0 + s1) + (s2 + s3)`, before
/// the coefficient takes them. The order is fixed, whatever the instruction
/// set, so the results are the same on every machine.
const SUM_LANES: usize = 4;
const _: () = assert!(SUM_LANES == 4, "pairwise adds four sums");

/// `W` `f64` lanes and the operations the Legendre sums do with them, lane
/// by lane: every implementation gives the same bits (Rust never fuses a
/// multiply and an add unless told to). The lane-summed analysis takes
/// [`SUM_LANES`] at a time, the synthesis [`SYNTHESIS_LANES`].
trait Lanes<const W: usize>: Copy {
    type V: Copy;
    fn load(self, values: &[f64; W]) -> Self::V;
    fn store(self, v: Self::V) -> [f64; W];
    fn splat(self, value: f64) -> Self::V;
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
}

/// [`Lanes`] as arrays, for any processor.
#[derive(Clone, Copy)]
struct PlainLanes;

impl<const W: usize> Lanes<W> for PlainLanes {
    type V = [f64; W];

    #[inline(always)]
    fn load(self, values: &[f64; W]) -> Self::V {
        *values
    }

    #[inline(always)]
    fn store(self, v: Self::V) -> [f64; W] {
        v
    }

    #[inline(always)]
    fn splat(self, value: f64) -> Self::V {
        [value; W]
    }

    #[inline(always)]
    fn add(self, a: Self::V, b: Self::V) -> Self::V {
        std::array::from_fn(|i| a[i] + b[i])
    }

    #[inline(always)]
    fn sub(self, a: Self::V, b: Self::V) -> Self::V {
        std::array::from_fn(|i| a[i] - b[i])
    }

    #[inline(always)]
    fn mul(self, a: Self::V, b: Self::V) -> Self::V {
        std::array::from_fn(|i| a[i] * b[i])
    }
}

/// Four lanes in one AVX register (the compiler pairs the analysis's sums
/// across fields rather than rows when left to vectorise the arrays).
#[cfg(target_arch = "x86_64")]
impl Lanes<4> for pulp::x86::V3 {
    type V = std::arch::x86_64::__m256d;

    #[inline(always)]
    fn load(self, values: &[f64; 4]) -> Self::V {
        pulp::cast(*values)
    }

    #[inline(always)]
    fn store(self, v: Self::V) -> [f64; 4] {
        pulp::cast(v)
    }

    #[inline(always)]
    fn splat(self, value: f64) -> Self::V {
        self.avx._mm256_set1_pd(value)
    }

    #[inline(always)]
    fn add(self, a: Self::V, b: Self::V) -> Self::V {
        self.avx._mm256_add_pd(a, b)
    }

    #[inline(always)]
    fn sub(self, a: Self::V, b: Self::V) -> Self::V {
        self.avx._mm256_sub_pd(a, b)
    }

    #[inline(always)]
    fn mul(self, a: Self::V, b: Self::V) -> Self::V {
        self.avx._mm256_mul_pd(a, b)
    }
}

/// Eight lanes as two sets of four (two AVX registers).
#[derive(Clone, Copy)]
struct Twice<L>(L);

impl<L: Lanes<4>> Lanes<8> for Twice<L> {
    type V = [L::V; 2];

    #[inline(always)]
    fn load(self, values: &[f64; 8]) -> Self::V {
        let halves = values.as_chunks::<4>().0;
        [self.0.load(&halves[0]), self.0.load(&halves[1])]
    }

    #[inline(always)]
    fn store(self, v: Self::V) -> [f64; 8] {
        let (low, high) = (self.0.store(v[0]), self.0.store(v[1]));
        std::array::from_fn(|i| if i < 4 { low[i] } else { high[i - 4] })
    }

    #[inline(always)]
    fn splat(self, value: f64) -> Self::V {
        [self.0.splat(value); 2]
    }

    #[inline(always)]
    fn add(self, a: Self::V, b: Self::V) -> Self::V {
        [self.0.add(a[0], b[0]), self.0.add(a[1], b[1])]
    }

    #[inline(always)]
    fn sub(self, a: Self::V, b: Self::V) -> Self::V {
        [self.0.sub(a[0], b[0]), self.0.sub(a[1], b[1])]
    }

    #[inline(always)]
    fn mul(self, a: Self::V, b: Self::V) -> Self::V {
        [self.0.mul(a[0], b[0]), self.0.mul(a[1], b[1])]
    }
}

/// Eight lanes in one AVX-512 register (the compiler keeps to 256-bit
/// vectors when left to vectorise arrays, even where AVX-512 is there).
#[cfg(target_arch = "x86_64")]
impl Lanes<8> for pulp::x86::V4 {
    type V = std::arch::x86_64::__m512d;

    #[inline(always)]
    fn load(self, values: &[f64; 8]) -> Self::V {
        pulp::cast(*values)
    }

    #[inline(always)]
    fn store(self, v: Self::V) -> [f64; 8] {
        pulp::cast(v)
    }

    #[inline(always)]
    fn splat(self, value: f64) -> Self::V {
        self.avx512f._mm512_set1_pd(value)
    }

    #[inline(always)]
    fn add(self, a: Self::V, b: Self::V) -> Self::V {
        self.avx512f._mm512_add_pd(a, b)
    }

    #[inline(always)]
    fn sub(self, a: Self::V, b: Self::V) -> Self::V {
        self.avx512f._mm512_sub_pd(a, b)
    }

    #[inline(always)]
    fn mul(self, a: Self::V, b: Self::V) -> Self::V {
        self.avx512f._mm512_mul_pd(a, b)
    }
}

/// The Legendre sums of [`analyse_columns`], with each coefficient's terms
/// summed in [`SUM_LANES`] interleaved partial sums over blocks of rows
/// rather than row after row, so that a step runs across four rows in one
/// vector. The sums are regrouped, so the results differ from
/// [`analyse_columns`]'s in their last bits; they are the same with any
/// instruction set (`arch`). `weight` is given for northern rows.
fn analyse_columns_by_lanes<const FIELDS: usize>(
    arch: pulp::Arch,
    recurrence: &Recurrence,
    rows: &Rows,
    weight: &[f64],
    columns: [&[Complex64]; FIELDS],
    out: [&mut SphericalHarmonics; FIELDS],
) {
    match arch {
        #[cfg(target_arch = "x86_64")]
        pulp::Arch::V3(simd) => {
            pulp::Simd::vectorize(simd, LaneAnalysis { lanes: simd, recurrence, rows, weight, columns, out })
        }
        // Four lanes in AVX2 registers on AVX-512 too: the sums' order fixes
        // their bits, and eight lanes in one register were no faster.
        #[cfg(target_arch = "x86_64")]
        pulp::Arch::V4(simd) => {
            pulp::Simd::vectorize(simd, LaneAnalysis { lanes: *simd, recurrence, rows, weight, columns, out })
        }
        _ => LaneAnalysis { lanes: PlainLanes, recurrence, rows, weight, columns, out }.run(),
    }
}

/// [`analyse_columns_by_lanes`]' work with the lanes `lanes`.
struct LaneAnalysis<'a, L, const FIELDS: usize> {
    lanes: L,
    recurrence: &'a Recurrence,
    rows: &'a Rows,
    weight: &'a [f64],
    columns: [&'a [Complex64]; FIELDS],
    out: [&'a mut SphericalHarmonics; FIELDS],
}

impl<L: Lanes<SUM_LANES>, const FIELDS: usize> pulp::WithSimd for LaneAnalysis<'_, L, FIELDS> {
    type Output = ();

    // Inlined into the dispatcher's function for the instruction set.
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        self.run();
    }
}

impl<L: Lanes<SUM_LANES>, const FIELDS: usize> LaneAnalysis<'_, L, FIELDS> {
    #[inline(always)]
    fn run(mut self) {
        let (rows, n) = (self.rows, self.rows.len());
        debug_assert!(self.columns.iter().all(|c| c.len() == self.columns[0].len()), "fields of one size");
        let orders = self
            .columns
            .iter()
            .map(|c| c.len().checked_div(n).unwrap_or(0))
            .min()
            .unwrap_or(0)
            .min(self.recurrence.lmax() + 1);
        let mut diagonal = Diagonal::new(rows);
        let mut live = Vec::with_capacity(rows.half());
        let mut block = RowBlock::<FIELDS>::new();
        for m in 0..orders {
            diagonal.advance(self.recurrence, rows, m);
            let (a, b) = self.recurrence.order(m);
            let order_columns = self.columns.map(|c| &c[m * n..(m + 1) * n]);
            let mut order_out = self.out.each_mut().map(|field| field.order_mut(m));
            live.clear();
            live.extend(diagonal.values.iter().enumerate().filter(|&(_, &p_mm)| p_mm != 0.0).map(|(north, _)| north));
            for norths in live.chunks(BLOCK_ROWS) {
                block.take_for_analysis(&diagonal.values, rows, self.weight, &order_columns, norths);
                block.analyse(self.lanes, a, b, &mut order_out);
            }
        }
    }
}

/// Northern rows the lane-summed analysis takes together: a block's state
/// stays in L1 while every degree's step runs across its rows, and its
/// arrays stay near 4 KB (arrays 4 KB apart would make the processor take
/// loads for stores to the same place).
const BLOCK_ROWS: usize = 44;
const _: () = assert!(BLOCK_ROWS.is_multiple_of(SUM_LANES), "a block holds whole vectors of four rows");

/// Rows a synthesis step takes in one vector: one AVX-512 register, two
/// AVX2 ones. A row's sums are its own whatever the width, so the width
/// changes no bits.
const SYNTHESIS_LANES: usize = 8;

/// Northern rows the synthesis takes together (as [`BLOCK_ROWS`]; whole
/// vectors of [`SYNTHESIS_LANES`]).
const SYNTHESIS_ROWS: usize = 48;
const _: () = assert!(SYNTHESIS_ROWS.is_multiple_of(SYNTHESIS_LANES), "a block holds whole vectors");

/// Rows a [`RowBlock`]'s arrays hold: the larger block.
const BLOCK_ARRAY: usize = if BLOCK_ROWS > SYNTHESIS_ROWS { BLOCK_ROWS } else { SYNTHESIS_ROWS };
const _: () = assert!(
    (BLOCK_ARRAY * size_of::<f64>()).is_multiple_of(64),
    "each of a block's arrays starts a whole cache line after the one before"
);

/// A block of rows' state in the Legendre sums, row by row in arrays,
/// padded with zero rows to whole vectors (of [`SUM_LANES`] rows in the
/// analysis, [`SYNTHESIS_LANES`] in the synthesis).
///
/// Aligned to a cache line, its arrays first and each a whole number of
/// lines long, so that no vector straddles two lines: on the stack it was
/// aligned to 16 bytes, wherever the run's stack fell, and in about half of
/// all runs four-row vectors straddled lines and T719 took 20 % longer.
#[repr(C, align(64))]
struct RowBlock<const FIELDS: usize> {
    /// `cos θ` of each row.
    x: [f64; BLOCK_ARRAY],
    /// `P̄_lm` at the degree held, and at the degree below.
    p1: [f64; BLOCK_ARRAY],
    p2: [f64; BLOCK_ARRAY],
    /// Real and imaginary parts of each field's values by parity of `l − m`
    /// (`[field][parity]`): in the analysis the weighted sum (even) and
    /// difference (odd) of a row's and its mirror's values, in the synthesis
    /// the row's sums over degrees.
    re: [[[f64; BLOCK_ARRAY]; 2]; FIELDS],
    im: [[[f64; BLOCK_ARRAY]; 2]; FIELDS],
    /// Rows held (padding included).
    len: usize,
}

impl<const FIELDS: usize> RowBlock<FIELDS> {
    fn new() -> Self {
        let zeros = [0.0; BLOCK_ARRAY];
        RowBlock { len: 0, x: zeros, p1: zeros, p2: zeros, re: [[zeros; 2]; FIELDS], im: [[zeros; 2]; FIELDS] }
    }

    /// Takes northern rows `norths` (at most a block) of one order's
    /// `columns`, weighted by `weight`, with their `P̄_mm`.
    fn take_for_analysis(
        &mut self,
        p_mm: &[f64],
        rows: &Rows,
        weight: &[f64],
        columns: &[&[Complex64]; FIELDS],
        norths: &[usize],
    ) {
        let len = norths.len().min(BLOCK_ROWS);
        self.len = len.div_ceil(SUM_LANES) * SUM_LANES;
        for (r, &north) in norths.iter().enumerate().take(len) {
            self.x[r] = rows.cos[north];
            self.p1[r] = p_mm[north];
            let w = weight[north];
            for ((re, im), column) in self.re.iter_mut().zip(self.im.iter_mut()).zip(columns) {
                let (g_north, g_south) = pair(column, north);
                // P̄_lm is even about the equator when l − m is even, odd otherwise.
                let (even, odd) = ((g_north + g_south) * w, (g_north - g_south) * w);
                (re[0][r], im[0][r], re[1][r], im[1][r]) = (even.re, even.im, odd.re, odd.im);
            }
        }
        // Padding rows add zeros.
        let padding = len..self.len;
        self.x[padding.clone()].fill(0.0);
        self.p1[padding.clone()].fill(0.0);
        for parts in self.re.iter_mut().chain(self.im.iter_mut()) {
            for values in parts {
                values[padding.clone()].fill(0.0);
            }
        }
        self.p2[..self.len].fill(0.0);
    }

    /// Adds the block's terms to the coefficients `out` of one order
    /// (recurrence `a`, `b`) of each field.
    #[inline(always)]
    fn analyse<L: Lanes<SUM_LANES>>(&mut self, lanes: L, a: &[f64], b: &[f64], out: &mut [&mut [Complex64]; FIELDS]) {
        let degrees = out.iter().map(|field| field.len()).min().unwrap_or(0).min(a.len()).min(b.len());
        if degrees == 0 || self.len == 0 {
            return;
        }
        let sums = self.analysis_sums::<L, 0>(lanes, None);
        for (field, sum) in out.iter_mut().zip(sums) {
            field[0] += sum;
        }
        // Degrees two at a time, so each step's parity (which values it
        // takes) is a constant.
        let mut k = 1;
        while k < degrees {
            let sums = self.analysis_sums::<L, 1>(lanes, Some((a[k], b[k])));
            for (field, sum) in out.iter_mut().zip(sums) {
                field[k] += sum;
            }
            if k + 1 < degrees {
                let sums = self.analysis_sums::<L, 0>(lanes, Some((a[k + 1], b[k + 1])));
                for (field, sum) in out.iter_mut().zip(sums) {
                    field[k + 1] += sum;
                }
            }
            k += 2;
        }
    }

    /// Each field's sum over the block of its values of parity `PARITY`
    /// times `P̄_lm`: with `step`'s recurrence coefficients (`a_lm`, `b_lm`),
    /// after stepping the recurrence to the next degree; without, at the
    /// degree held.
    #[inline(always)]
    fn analysis_sums<L: Lanes<SUM_LANES>, const PARITY: usize>(
        &mut self,
        lanes: L,
        step: Option<(f64, f64)>,
    ) -> [Complex64; FIELDS] {
        let len = self.len;
        let x = self.x[..len].as_chunks::<SUM_LANES>().0;
        let p1 = self.p1[..len].as_chunks_mut::<SUM_LANES>().0;
        let p2 = self.p2[..len].as_chunks_mut::<SUM_LANES>().0;
        let re = self.re.each_ref().map(|re| re[PARITY][..len].as_chunks::<SUM_LANES>().0);
        let im = self.im.each_ref().map(|im| im[PARITY][..len].as_chunks::<SUM_LANES>().0);
        let zero = lanes.splat(0.0);
        let (mut sums_re, mut sums_im) = ([zero; FIELDS], [zero; FIELDS]);
        for (c, (x, (p1, p2))) in x.iter().zip(p1.iter_mut().zip(p2.iter_mut())).enumerate() {
            let p = match step {
                Some((a_lm, b_lm)) => {
                    let (x, held, below) = (lanes.load(x), lanes.load(p1), lanes.load(p2));
                    let p0 = lanes
                        .mul(lanes.splat(a_lm), lanes.sub(lanes.mul(x, held), lanes.mul(lanes.splat(b_lm), below)));
                    *p2 = *p1;
                    *p1 = lanes.store(p0);
                    p0
                }
                None => lanes.load(p1),
            };
            for field in 0..FIELDS {
                sums_re[field] = lanes.add(sums_re[field], lanes.mul(lanes.load(&re[field][c]), p));
                sums_im[field] = lanes.add(sums_im[field], lanes.mul(lanes.load(&im[field][c]), p));
            }
        }
        std::array::from_fn(|field| {
            Complex64::new(pairwise(lanes.store(sums_re[field])), pairwise(lanes.store(sums_im[field])))
        })
    }
}

/// Four partial sums added pairwise.
#[inline(always)]
fn pairwise(sums: [f64; SUM_LANES]) -> f64 {
    (sums[0] + sums[1]) + (sums[2] + sums[3])
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
    columns: [&mut [Complex64]; FIELDS],
) {
    synthesise_fields_on(pulp::Arch::new(), recurrence, rows, coefficients, columns);
}

/// [`synthesise_fields`] with the instruction set `arch` (the results are
/// the same with any).
fn synthesise_fields_on<const FIELDS: usize>(
    arch: pulp::Arch,
    recurrence: &Recurrence,
    rows: &Rows,
    coefficients: [&SphericalHarmonics; FIELDS],
    columns: [&mut [Complex64]; FIELDS],
) {
    debug_assert!(coefficients.iter().all(|c| c.lmax() == coefficients[0].lmax()), "fields of one truncation");
    match arch {
        #[cfg(target_arch = "x86_64")]
        pulp::Arch::V4(simd) => {
            pulp::Simd::vectorize(simd, Synthesis { lanes: simd, recurrence, rows, coefficients, columns })
        }
        #[cfg(target_arch = "x86_64")]
        pulp::Arch::V3(simd) => {
            pulp::Simd::vectorize(simd, Synthesis { lanes: Twice(simd), recurrence, rows, coefficients, columns })
        }
        _ => Synthesis { lanes: PlainLanes, recurrence, rows, coefficients, columns }.run(),
    }
}

/// [`synthesise_fields`]' arguments and lanes, for [`pulp::Simd::vectorize`]:
/// the work is compiled for the widest vectors the processor has (AVX-512,
/// AVX2 and its companions, else arrays). The operations and their order are
/// the same at any width, and so are the results, to the bit.
struct Synthesis<'a, L, const FIELDS: usize> {
    lanes: L,
    recurrence: &'a Recurrence,
    rows: &'a Rows,
    coefficients: [&'a SphericalHarmonics; FIELDS],
    columns: [&'a mut [Complex64]; FIELDS],
}

impl<L: Lanes<SYNTHESIS_LANES>, const FIELDS: usize> pulp::WithSimd for Synthesis<'_, L, FIELDS> {
    type Output = ();

    // Inlined into the dispatcher's function for each instruction set,
    // with everything it calls: the code is compiled for that set.
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        self.run();
    }
}

impl<L: Lanes<SYNTHESIS_LANES>, const FIELDS: usize> Synthesis<'_, L, FIELDS> {
    /// [`synthesise_fields`]' work.
    #[inline(always)]
    fn run(self) {
        let Synthesis { lanes, recurrence, rows, coefficients, mut columns } = self;
        let (n, lmax) = (rows.len(), recurrence.lmax());
        let mut diagonal = Diagonal::new(rows);
        let mut block = RowBlock::<FIELDS>::new();
        for m in 0..=lmax {
            diagonal.advance(recurrence, rows, m);
            let (a, b) = recurrence.order(m);
            let mut order_columns = columns.each_mut().map(|c| &mut c[m * n..(m + 1) * n]);
            let f = coefficients.map(|c| c.order(m));
            let half = diagonal.values.len();
            // P̄_mm falls with m fastest at the poles, so the rows where it is
            // zero (their values are zero) lead; the rest go through in blocks.
            let live = diagonal.values.iter().position(|&p_mm| p_mm != 0.0).unwrap_or(half);
            zero_rows(&mut order_columns, 0..live);
            for first in (live..half).step_by(SYNTHESIS_ROWS) {
                let block_rows = first..(first + SYNTHESIS_ROWS).min(half);
                block.synthesise(lanes, a, b, &f, &diagonal.values, &rows.cos, block_rows, &mut order_columns);
            }
        }
    }
}

/// Sets northern rows `norths` and their mirrors to zero in each column.
fn zero_rows<const FIELDS: usize>(columns: &mut [&mut [Complex64]; FIELDS], norths: Range<usize>) {
    for column in columns.iter_mut() {
        let n = column.len();
        for north in norths.clone() {
            column[north] = Complex64::new(0.0, 0.0);
            column[n - 1 - north] = Complex64::new(0.0, 0.0);
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

impl<const FIELDS: usize> RowBlock<FIELDS> {
    /// `g_m` of each field at northern rows `norths` (at most a block) and
    /// their mirrors, for one order `m` (recurrence `a`, `b`, coefficients
    /// `f`): each row's sum over degrees in order, as one row alone.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn synthesise<L: Lanes<SYNTHESIS_LANES>>(
        &mut self,
        lanes: L,
        a: &[f64],
        b: &[f64],
        f: &[&[Complex64]; FIELDS],
        p_mm: &[f64],
        cos: &[f64],
        norths: Range<usize>,
        columns: &mut [&mut [Complex64]; FIELDS],
    ) {
        let len = norths.len();
        let degrees = f.iter().map(|f| f.len()).min().unwrap_or(0).min(a.len()).min(b.len());
        if degrees == 0 || len == 0 || len > SYNTHESIS_ROWS {
            return;
        }
        // Padded with rows of zeros to whole vectors (whose values are not
        // used).
        let width = len.div_ceil(SYNTHESIS_LANES) * SYNTHESIS_LANES;
        self.len = width;
        let (a, b) = (&a[..degrees], &b[..degrees]);
        let f = f.map(|f| &f[..degrees]);
        self.x[..len].copy_from_slice(&cos[norths.clone()]);
        self.p1[..len].copy_from_slice(&p_mm[norths.clone()]);
        self.x[len..width].fill(0.0);
        self.p1[len..width].fill(0.0);
        self.p2[..width].fill(0.0);
        for ((re, im), f) in self.re.iter_mut().zip(self.im.iter_mut()).zip(&f) {
            let [re_even, re_odd] = re;
            let [im_even, im_odd] = im;
            for r in 0..width {
                re_even[r] = f[0].re * self.p1[r];
                im_even[r] = f[0].im * self.p1[r];
            }
            re_odd[..width].fill(0.0);
            im_odd[..width].fill(0.0);
        }
        // Degrees two at a time, so each step's parity (which sums it adds
        // to) is a constant.
        let mut k = 1;
        while k + 1 < degrees {
            self.synthesis_step::<L, 1>(lanes, width, a[k], b[k], f.map(|f| f[k]));
            self.synthesis_step::<L, 0>(lanes, width, a[k + 1], b[k + 1], f.map(|f| f[k + 1]));
            k += 2;
        }
        if k < degrees {
            self.synthesis_step::<L, 1>(lanes, width, a[k], b[k], f.map(|f| f[k]));
        }
        for (column, (re, im)) in columns.iter_mut().zip(self.re.iter().zip(&self.im)) {
            let n = column.len();
            for (r, north) in norths.clone().enumerate() {
                let south = n - 1 - north;
                if p_mm[north] == 0.0 {
                    column[north] = Complex64::new(0.0, 0.0);
                    column[south] = Complex64::new(0.0, 0.0);
                } else {
                    let (even, odd) = (Complex64::new(re[0][r], im[0][r]), Complex64::new(re[1][r], im[1][r]));
                    column[north] = even + odd;
                    column[south] = even - odd;
                }
            }
        }
    }

    /// One degree's step across the first `width` rows (a multiple of
    /// [`SYNTHESIS_LANES`]): the recurrence (`a_lm`, `b_lm`), then each field's sums of
    /// parity `PARITY` take its coefficient `f` times `P̄_lm`.
    #[inline(always)]
    fn synthesis_step<L: Lanes<SYNTHESIS_LANES>, const PARITY: usize>(
        &mut self,
        lanes: L,
        width: usize,
        a_lm: f64,
        b_lm: f64,
        f: [Complex64; FIELDS],
    ) {
        let x = self.x[..width].as_chunks::<SYNTHESIS_LANES>().0;
        let p1 = self.p1[..width].as_chunks_mut::<SYNTHESIS_LANES>().0;
        let p2 = self.p2[..width].as_chunks_mut::<SYNTHESIS_LANES>().0;
        let mut re = self.re.each_mut().map(|re| re[PARITY][..width].as_chunks_mut::<SYNTHESIS_LANES>().0);
        let mut im = self.im.each_mut().map(|im| im[PARITY][..width].as_chunks_mut::<SYNTHESIS_LANES>().0);
        let (a_lm, b_lm) = (lanes.splat(a_lm), lanes.splat(b_lm));
        let f = f.map(|f| (lanes.splat(f.re), lanes.splat(f.im)));
        for (c, (x, (p1, p2))) in x.iter().zip(p1.iter_mut().zip(p2.iter_mut())).enumerate() {
            let (x, held, below) = (lanes.load(x), lanes.load(p1), lanes.load(p2));
            let p0 = lanes.mul(a_lm, lanes.sub(lanes.mul(x, held), lanes.mul(b_lm, below)));
            *p2 = *p1;
            *p1 = lanes.store(p0);
            for ((re, im), (f_re, f_im)) in re.iter_mut().zip(im.iter_mut()).zip(&f) {
                let (re, im) = (&mut re[c], &mut im[c]);
                *re = lanes.store(lanes.add(lanes.load(re), lanes.mul(*f_re, p0)));
                *im = lanes.store(lanes.add(lanes.load(im), lanes.mul(*f_im, p0)));
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
    analyse_columns_by_lanes(pulp::Arch::new(), recurrence, rows, &weight, [u, v], [&mut u_sums, &mut v_sums]);
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
        // Rough zonal coefficients (any values: the identity holds row by row).
        let mut next = rough_values();
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

    /// Deterministic, rough values in [-0.5, 0.5).
    fn rough_values() -> impl FnMut() -> f64 {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        }
    }

    fn rough_coefficients(lmax: usize, next: &mut impl FnMut() -> f64) -> SphericalHarmonics {
        let mut c = SphericalHarmonics::zeros(lmax);
        for m in 0..=lmax {
            for value in c.order_mut(m) {
                *value = Complex64::new(next(), next());
            }
        }
        c
    }

    /// Rows from near the north pole (where `P̄_mm` of high orders is zero)
    /// to near the south one, `n` of them, symmetric about the equator.
    fn pole_to_pole_rows(n: usize) -> Rows {
        let colatitudes: Vec<f64> =
            (0..n).map(|j| 0.004 + (std::f64::consts::PI - 0.008) * j as f64 / (n - 1) as f64).collect();
        Rows::new(&colatitudes, Vec::new())
    }

    /// The widest instruction set this processor has, and AVX2 where it
    /// has that too.
    fn instruction_sets() -> Vec<pulp::Arch> {
        let mut sets = vec![pulp::Arch::new()];
        #[cfg(target_arch = "x86_64")]
        sets.extend(pulp::x86::V3::try_new().map(pulp::Arch::V3));
        sets
    }

    fn same_bits(a: &[Complex64], b: &[Complex64]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(a, b)| a.re.to_bits() == b.re.to_bits() && a.im.to_bits() == b.im.to_bits())
    }

    /// The synthesis by blocks of rows gives each row what the recurrence
    /// and sums over degrees give it alone, to the bit: blocks cross rows
    /// where `P̄_mm` is zero (T1000 near the poles), a partial last block,
    /// and the equator row.
    #[test]
    fn block_synthesis_is_each_row_alone() {
        let mut next = rough_values();
        for (lmax, n) in [(1000, 41), (40, 301)] {
            let recurrence = Recurrence::new(lmax);
            let rows = pole_to_pole_rows(n);
            let coefficients = rough_coefficients(lmax, &mut next);
            let mut columns = vec![Complex64::new(0.0, 0.0); (lmax + 1) * n];
            synthesise_fields(&recurrence, &rows, [&coefficients], [&mut columns]);

            let mut expected = vec![Complex64::new(0.0, 0.0); (lmax + 1) * n];
            let mut diagonal = Diagonal::new(&rows);
            let mut zero_rows = 0;
            for m in 0..=lmax {
                diagonal.advance(&recurrence, &rows, m);
                let (a, b) = recurrence.order(m);
                let f = coefficients.order(m);
                for (north, &p_mm) in diagonal.values.iter().enumerate() {
                    let south = n - 1 - north;
                    if p_mm == 0.0 {
                        zero_rows += 1;
                        continue;
                    }
                    let x = rows.cos[north];
                    let (mut even, mut odd) = (f[0] * p_mm, Complex64::new(0.0, 0.0));
                    let (mut p1, mut p2) = (p_mm, 0.0);
                    for k in 1..f.len() {
                        let p0 = a[k] * (x * p1 - b[k] * p2);
                        (p2, p1) = (p1, p0);
                        if k % 2 == 0 {
                            even += f[k] * p0;
                        } else {
                            odd += f[k] * p0;
                        }
                    }
                    expected[m * n + north] = even + odd;
                    expected[m * n + south] = even - odd;
                }
            }
            assert_eq!(zero_rows > 0, lmax == 1000, "T{lmax}: rows where P̄_mm is zero: {zero_rows}");
            assert!(same_bits(&columns, &expected), "T{lmax} on {n} rows");
        }
    }

    /// The synthesis gives the same bits with the widest instruction set
    /// this processor has as with plain scalar code (the same operations in
    /// the same order; on a processor without AVX2 both are the scalar code).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn any_instruction_set_synthesises_the_same_bits() {
        let mut next = rough_values();
        let (lmax, n) = (200, 151);
        let rows = pole_to_pole_rows(n);
        let coefficients = [rough_coefficients(lmax, &mut next), rough_coefficients(lmax, &mut next)];
        let recurrence = Recurrence::new(lmax);
        let synthesised = |arch| {
            let mut columns = [0, 1].map(|_| vec![Complex64::new(0.0, 0.0); (lmax + 1) * n]);
            synthesise_fields_on(
                arch,
                &recurrence,
                &rows,
                coefficients.each_ref(),
                columns.each_mut().map(Vec::as_mut_slice),
            );
            columns
        };
        let scalar = synthesised(pulp::Arch::Scalar);
        for arch in instruction_sets() {
            let synthesised = synthesised(arch);
            assert!(synthesised.iter().zip(&scalar).all(|(a, b)| same_bits(a, b)), "{arch:?}");
        }
    }

    /// The lane-summed analysis gives the same bits in AVX registers as in
    /// arrays (on a processor without AVX2 both are the arrays), over blocks
    /// with padding rows and rows where `P̄_mm` is zero.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn lanes_in_registers_are_lanes_in_arrays() {
        let mut next = rough_values();
        for (lmax, n) in [(1000, 41), (200, 151)] {
            let rows = pole_to_pole_rows(n);
            let weight: Vec<f64> = (0..rows.half()).map(|_| next() + 1.0).collect();
            let mut zonal = || (0..(lmax + 1) * n).map(|_| Complex64::new(next(), next())).collect::<Vec<_>>();
            let (u, v) = (zonal(), zonal());
            let recurrence = Recurrence::new(lmax);
            let analysed = |arch| {
                let mut sums = [SphericalHarmonics::zeros(lmax), SphericalHarmonics::zeros(lmax)];
                analyse_columns_by_lanes(arch, &recurrence, &rows, &weight, [&u, &v], sums.each_mut());
                sums
            };
            let arrays = analysed(pulp::Arch::Scalar);
            for arch in instruction_sets() {
                for (a, b) in analysed(arch).iter().zip(&arrays) {
                    assert!((0..=lmax).all(|m| same_bits(a.order(m), b.order(m))), "T{lmax} on {n} rows, {arch:?}");
                }
            }
        }
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
