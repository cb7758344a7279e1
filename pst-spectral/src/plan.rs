//! The transform plan: built once per grid and truncation, shared read-only.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use ndarray::{Array2, ArrayView2};
use pst_core::{Error, Grid, Result};
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex64;

use crate::MAX_LMAX;
use crate::coefficients::SphericalHarmonics;
use crate::layout::{Geometry, LatitudeLayout, fejer_weights};
use crate::least_squares::{LeastSquares, SpectralFit};
use crate::legendre::{Recurrence, Rows, analyse_scalar, analyse_vector, synthesise_fields};
use crate::resample::{Condenser, Resampler};

/// Spherical-harmonic analysis and synthesis on one global grid, up to one
/// truncation `lmax`.
///
/// Building a plan computes the FFT plans, the recurrence coefficients and
/// the latitude quadrature once; transforms then only read it, so one plan
/// serves any number of threads (`ShtPlan` is `Send + Sync`; each call uses
/// its own buffers).
///
/// Grids: global and evenly spaced in longitude, with latitudes
/// [evenly spaced with both poles](LatitudeLayout::EquiangularWithPoles) (ERA5),
/// [evenly spaced without the poles](LatitudeLayout::EquiangularOffset), or
/// [Gaussian](LatitudeLayout::Gaussian); either latitude order and any first
/// longitude. Analysis is exact for fields band-limited to `lmax`: Gaussian
/// grids by Gauss–Legendre quadrature, evenly spaced grids by the trigonometric
/// interpolant the grid defines (as SPHEREPACK, hence NCL, does), resampled
/// onto a Fejér rule. Where it pays (high truncations for the grid), the
/// wind's analysis condenses that rule's sums onto as few rows as its
/// degrees need (about half as many at the grid's finest truncation), as
/// ducc0 does.
///
/// ```
/// use pst_core::Grid;
/// use pst_spectral::ShtPlan;
/// use ndarray::Array2;
///
/// let grid = Grid::regular_global(2.5)?;
/// let plan = ShtPlan::new(&grid, 42)?;
/// // A field that is 1 everywhere is f_00 = 1 (the area mean) and nothing else.
/// let coefficients = plan.analyse(Array2::from_elem(grid.shape(), 1.0).view())?;
/// assert!((coefficients.get(0, 0).unwrap().re - 1.0).abs() < 1e-13);
/// assert!((coefficients.power() - 1.0).abs() < 1e-13);
/// # Ok::<(), pst_core::Error>(())
/// ```
pub struct ShtPlan {
    grid: Grid,
    geometry: Geometry,
    lmax: usize,
    recurrence: Recurrence,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    /// `e^{−imλ₀} / nlon`: from FFT bins to coefficients about Greenwich.
    zonal_phase: Vec<Complex64>,
    /// The grid's rows, north to south (Gauss weights on Gaussian grids).
    grid_rows: Rows,
    /// Evenly spaced grids: the resampler and the Fejér rows it feeds.
    fine: Option<(Resampler, Rows)>,
    /// TRACK's least-squares fit, factored at its first use.
    least_squares: OnceLock<std::result::Result<LeastSquares, String>>,
    /// What the wind's vector analysis needs beyond the scalar's (built at
    /// its first use).
    wind: OnceLock<WindQuadrature>,
}

/// The wind's vector analysis: its recurrence and rows.
struct WindQuadrature {
    /// The recurrence one degree further (the sums need `P̄_lm` to
    /// `lmax + 1`).
    recurrence: Recurrence,
    /// Evenly spaced grids where it pays: the Fejér sums condensed onto as
    /// few rows as degree `lmax + 1` needs, and those rows (weighted
    /// `sin θ`, so that the analysis's `w / sin θ` is one: the condenser has
    /// applied the Fejér weights and `1/sin θ` on the Fejér rows).
    condensed: Option<(Condenser, Rows)>,
}

/// What one point of a transform costs against one row and degree of the
/// Legendre sums, for [`WindQuadrature::new`]'s choice: condensing `F` Fejér
/// rows onto `n` saves `(F − n)` rows of `(L + 1)(L + 2)/2` sums of degrees
/// and orders, and costs a transform of `F` and one of `n` points,
/// `κ (F log₂F + n log₂n)`, for each of the `L + 1` orders. Measured
/// alternately (stop 42): condensing paid at T719 on the 0.25° grid
/// (−15 %), was even at T42 there, and cost 5–10 % at T179 on 1° and T71 on
/// 2.5°, where this `κ` condenses only the first.
const TRANSFORM_POINT_COST: f64 = 4.0;

impl WindQuadrature {
    /// The wind's recurrence and rows on `plan`'s grid: condensed when
    /// `condense` says so, by default ([`None`]) when it pays
    /// ([`TRANSFORM_POINT_COST`]).
    fn new(plan: &ShtPlan, condense: Option<bool>) -> Self {
        let degree = plan.lmax + 1;
        let condensed = plan.fine.as_ref().and_then(|(_, fine_rows)| {
            let (fine, rows) = (fine_rows.len(), Condenser::rows_for(degree));
            let points = |n: usize| n as f64 * (n as f64).log2();
            let saved = fine.saturating_sub(rows) as f64 * (degree + 2) as f64 / 2.0;
            let pays = saved > TRANSFORM_POINT_COST * (points(fine) + points(rows));
            if !condense.unwrap_or(pays) {
                return None;
            }
            let factor = fine_rows.weight.iter().zip(&fine_rows.sin).map(|(w, s)| w / s).collect();
            let condenser = Condenser::new(factor, degree);
            let colatitudes = condenser.colatitudes();
            let sin = colatitudes.iter().map(|t| t.sin()).collect();
            Some((condenser, Rows::new(&colatitudes, sin)))
        });
        WindQuadrature { recurrence: Recurrence::new(degree), condensed }
    }
}

impl fmt::Debug for ShtPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShtPlan")
            .field("shape", &self.grid.shape())
            .field("layout", &self.geometry.layout)
            .field("lmax", &self.lmax)
            .field("quadrature_rows", &self.quadrature_rows().len())
            .finish()
    }
}

impl ShtPlan {
    /// A plan for `grid`, truncated at `lmax`.
    ///
    /// Errors when the grid is not global (see [`LatitudeLayout`]) or
    /// cannot resolve `lmax` (see [`ShtPlan::max_lmax`]).
    pub fn new(grid: &Grid, lmax: usize) -> Result<Self> {
        let geometry = Geometry::of(grid)?;
        let limit = geometry.max_lmax().min(MAX_LMAX);
        if lmax > limit {
            return Err(Error::InvalidArgument(format!(
                "T{lmax} is beyond what the {}×{} grid resolves (at most T{limit}: fewer than \
                 nlon/2 orders and {} latitudes)",
                geometry.nlat, geometry.nlon, geometry.nlat
            )));
        }
        let (colatitudes, grid_weights) = geometry.rows()?;
        let grid_rows = Rows::new(&colatitudes, grid_weights);
        let fine = Resampler::new(geometry.layout, geometry.nlat, lmax).map(|resampler| {
            let rows = Rows::new(&resampler.fine_colatitudes(), fejer_weights(resampler.fine_rows()));
            (resampler, rows)
        });
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(geometry.nlon);
        let inverse = planner.plan_fft_inverse(geometry.nlon);
        let zonal_phase = (0..=lmax)
            .map(|m| Complex64::from_polar(1.0 / geometry.nlon as f64, -(m as f64) * geometry.lon0))
            .collect();
        Ok(ShtPlan {
            grid: grid.clone(),
            geometry,
            lmax,
            recurrence: Recurrence::new(lmax),
            forward,
            inverse,
            zonal_phase,
            grid_rows,
            fine,
            least_squares: OnceLock::new(),
            wind: OnceLock::new(),
        })
    }

    /// The largest truncation `grid` resolves exactly: `nlat − 1` on Gaussian
    /// and offset grids, `nlat − 2` on grids with both poles, and below
    /// `nlon/2`; at most [`MAX_LMAX`].
    ///
    /// ```
    /// use pst_core::Grid;
    /// assert_eq!(pst_spectral::ShtPlan::max_lmax(&Grid::regular_global(0.25)?)?, 719);
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn max_lmax(grid: &Grid) -> Result<usize> {
        Ok(Geometry::of(grid)?.max_lmax().min(MAX_LMAX))
    }

    /// The truncation.
    pub fn lmax(&self) -> usize {
        self.lmax
    }

    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// How the grid's latitudes are laid out.
    pub fn layout(&self) -> LatitudeLayout {
        self.geometry.layout
    }

    /// Coefficients up to `lmax` of a field on the grid (`nlat × nlon`, the
    /// grid's order). Missing values are an error: a transform needs the
    /// whole sphere.
    pub fn analyse(&self, field: ArrayView2<'_, f64>) -> Result<SphericalHarmonics> {
        self.analyse_by(field, SpectralFit::Quadrature).map(|(coefficients, _)| coefficients)
    }

    /// The coefficients of `field` found by `fit`, and the largest magnitude
    /// of its values (every one finite, or the analysis errs), taken as the
    /// rows are read for the zonal transform.
    pub(crate) fn analyse_by(&self, field: ArrayView2<'_, f64>, fit: SpectralFit) -> Result<(SphericalHarmonics, f64)> {
        // The normal equations first: a grid they refuse errs before any work.
        let least_squares = match fit {
            SpectralFit::Quadrature => None,
            SpectralFit::LeastSquares => Some(self.least_squares()?),
        };
        let (columns, largest) = self.zonal_forward(field, "field")?;
        let mut out = SphericalHarmonics::zeros(self.lmax);
        match least_squares {
            None => {
                let (columns, rows) = self.on_quadrature_rows(&columns, scalar_parity);
                analyse_scalar(&self.recurrence, rows, &columns, &mut out);
            }
            Some(least_squares) => {
                analyse_scalar(&self.recurrence, &least_squares.rows, &columns, &mut out);
                least_squares.solve(&mut out);
            }
        }
        Ok((out, largest))
    }

    /// Coefficients up to `lmax` fitted to the field by unweighted least
    /// squares over every grid value, as TRACK's spectral filter finds them
    /// ([`crate::SpectralFit::LeastSquares`]). The normal equations are
    /// built and factored at the first call (and shared by later ones).
    ///
    /// ```
    /// use ndarray::Array2;
    /// use pst_core::Grid;
    /// use pst_spectral::ShtPlan;
    ///
    /// let grid = Grid::regular_global(2.5)?;
    /// let plan = ShtPlan::new(&grid, 42)?;
    /// // A band-limited field is fitted exactly, by either fit.
    /// let field = Array2::from_shape_fn(grid.shape(), |(i, j)| {
    ///     let (lat, lon) = (grid.lat(i).to_radians(), grid.lon(j).to_radians());
    ///     lat.cos().powi(3) * (3.0 * lon).sin() + lat.sin()
    /// });
    /// let lsq = plan.analyse_least_squares(field.view())?;
    /// let quadrature = plan.analyse(field.view())?;
    /// for (a, b) in lsq.as_slice().iter().zip(quadrature.as_slice()) {
    ///     assert!((a - b).norm() < 1e-12);
    /// }
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`ShtPlan::analyse`]; beyond T[`crate::MAX_LEAST_SQUARES_LMAX`], or
    /// when the grid's rows do not determine every degree.
    pub fn analyse_least_squares(&self, field: ArrayView2<'_, f64>) -> Result<SphericalHarmonics> {
        self.analyse_by(field, SpectralFit::LeastSquares).map(|(coefficients, _)| coefficients)
    }

    /// The least-squares fit's factored normal equations, built once.
    pub(crate) fn least_squares(&self) -> Result<&LeastSquares> {
        let fit = self.least_squares.get_or_init(|| {
            let (colatitudes, _) = self.geometry.rows().map_err(|e| e.to_string())?;
            LeastSquares::new(&self.recurrence, &colatitudes)
        });
        fit.as_ref().map_err(|message| Error::InvalidArgument(message.clone()))
    }

    /// The field on the grid from coefficients of any truncation up to the
    /// plan's.
    pub fn synthesise(&self, coefficients: &SphericalHarmonics) -> Result<Array2<f64>> {
        let [field] = self.synthesise_fields([coefficients])?;
        Ok(field)
    }

    /// Several fields on the grid at once (the Legendre recurrence is shared;
    /// each field is the same as [`ShtPlan::synthesise`]'s).
    pub(crate) fn synthesise_fields<const FIELDS: usize>(
        &self,
        coefficients: [&SphericalHarmonics; FIELDS],
    ) -> Result<[Array2<f64>; FIELDS]> {
        for field in coefficients {
            self.refuse_finer(field)?;
        }
        if coefficients.iter().any(|c| c.lmax() != coefficients[0].lmax()) {
            // The shared recurrence runs over one truncation: fields of
            // different ones are synthesised one by one.
            return each_ok(coefficients.map(|field| self.synthesise_fields([field]).map(|[one]| one)));
        }
        let columns = self.legendre_columns(coefficients);
        each_ok(columns.map(|field| self.zonal_inverse(&field)))
    }

    /// [`ShtPlan::synthesise`] a row at a time: each row of the grid, in the
    /// grid's order, goes to `row` as soon as it is made (its values may be
    /// changed there; they are not kept).
    pub(crate) fn synthesise_rows(
        &self,
        coefficients: &SphericalHarmonics,
        row: impl FnMut(&mut [f64]) -> Result<()>,
    ) -> Result<()> {
        self.refuse_finer(coefficients)?;
        let [columns] = self.legendre_columns([coefficients]);
        self.zonal_inverse_rows(&columns, row)
    }

    /// An error for coefficients of a truncation finer than the plan's (it
    /// cannot synthesise them).
    fn refuse_finer(&self, coefficients: &SphericalHarmonics) -> Result<()> {
        if coefficients.lmax() > self.lmax {
            return Err(Error::InvalidArgument(format!(
                "cannot synthesise T{} coefficients with a T{} plan",
                coefficients.lmax(),
                self.lmax
            )));
        }
        Ok(())
    }

    /// The zonal coefficients of each field on the grid's rows, laid out as
    /// [`Self::zonal_forward`]'s, from coefficients of one truncation no
    /// finer than the plan's.
    fn legendre_columns<const FIELDS: usize>(
        &self,
        coefficients: [&SphericalHarmonics; FIELDS],
    ) -> [Vec<Complex64>; FIELDS] {
        let n = self.geometry.nlat;
        let mut columns = coefficients.map(|_| vec![Complex64::new(0.0, 0.0); (self.lmax + 1) * n]);
        synthesise_fields(&self.recurrence, &self.grid_rows, coefficients, columns.each_mut().map(Vec::as_mut_slice));
        columns
    }

    /// Vorticity and divergence coefficients (s⁻¹) of the wind `(u, v)`
    /// (eastward and northward, m s⁻¹) on a sphere of radius `radius_m`
    /// metres, by the vector analysis of the winds: no finite differences,
    /// no division by `cos φ` at the poles.
    pub fn analyse_wind(
        &self,
        u: ArrayView2<'_, f64>,
        v: ArrayView2<'_, f64>,
        radius_m: f64,
    ) -> Result<(SphericalHarmonics, SphericalHarmonics)> {
        if !(radius_m.is_finite() && radius_m > 0.0) {
            return Err(Error::InvalidArgument(format!("the sphere's radius must be positive, not {radius_m} m")));
        }
        let wind = self.wind.get_or_init(|| WindQuadrature::new(self, None));
        self.analyse_wind_by(wind, u, v, radius_m)
    }

    /// [`ShtPlan::analyse_wind`] with `wind`'s rows.
    fn analyse_wind_by(
        &self,
        wind: &WindQuadrature,
        u: ArrayView2<'_, f64>,
        v: ArrayView2<'_, f64>,
        radius_m: f64,
    ) -> Result<(SphericalHarmonics, SphericalHarmonics)> {
        let (u_columns, _) = self.zonal_forward(u, "eastward wind")?;
        let (v_columns, _) = self.zonal_forward(v, "northward wind")?;
        let (u_columns, rows) = self.on_wind_rows(wind, &u_columns);
        let (v_columns, _) = self.on_wind_rows(wind, &v_columns);
        let mut vorticity = SphericalHarmonics::zeros(self.lmax);
        let mut divergence = SphericalHarmonics::zeros(self.lmax);
        let recurrence = &wind.recurrence;
        analyse_vector(recurrence, rows, &u_columns, &v_columns, 1.0 / radius_m, &mut vorticity, &mut divergence);
        Ok((vorticity, divergence))
    }

    /// The wind's zonal coefficients (laid out as [`Self::zonal_forward`]'s)
    /// on the rows of its analysis: the grid's own (Gaussian grids), the
    /// Fejér rows, or those condensed (evenly spaced grids).
    fn on_wind_rows<'a>(
        &'a self,
        wind: &'a WindQuadrature,
        columns: &'a [Complex64],
    ) -> (Cow<'a, [Complex64]>, &'a Rows) {
        let (Some((resampler, _)), Some((condenser, rows))) = (&self.fine, &wind.condensed) else {
            return self.on_quadrature_rows(columns, vector_parity);
        };
        let n = self.geometry.nlat;
        let mut condensed = Vec::with_capacity((self.lmax + 1) * condenser.rows());
        let (mut fine, mut buffers) = (resampler.buffers(), condenser.buffers());
        for m in 0..=self.lmax {
            let interpolant = resampler.interpolant(&columns[m * n..(m + 1) * n], vector_parity(m), &mut fine);
            condenser.condense(interpolant, vector_parity(m), scalar_parity(m), &mut condensed, &mut buffers);
        }
        (Cow::Owned(condensed), rows)
    }

    fn quadrature_rows(&self) -> &Rows {
        self.fine.as_ref().map_or(&self.grid_rows, |(_, rows)| rows)
    }

    /// Zonal Fourier coefficients `g_m` about Greenwich for `m ≤ lmax`, by
    /// `m` then row (north to south), and the largest magnitude of the
    /// field's values (all finite, or this errs).
    fn zonal_forward(&self, field: ArrayView2<'_, f64>, what: &str) -> Result<(Vec<Complex64>, f64)> {
        let (nlat, nlon) = (self.geometry.nlat, self.geometry.nlon);
        if field.dim() != (nlat, nlon) {
            return Err(Error::InvalidFrame(format!(
                "the {what} is {:?} but the transform's grid is {nlat}×{nlon}",
                field.dim()
            )));
        }
        let mut columns = vec![Complex64::new(0.0, 0.0); (self.lmax + 1) * nlat];
        let mut input = self.forward.make_input_vec();
        let width = self.forward.complex_len();
        let mut spectra = vec![Complex64::new(0.0, 0.0); ZONAL_BLOCK_ROWS * width];
        let mut scratch = self.forward.make_scratch_vec();
        // The largest magnitude so far, lane by lane (the largest of a set
        // is the same whichever order it is taken in: the lanes keep the
        // loop free of one long chain of comparisons).
        let mut largest = [0.0f64; MEASURE_LANES];
        for first in (0..nlat).step_by(ZONAL_BLOCK_ROWS) {
            let block = ZONAL_BLOCK_ROWS.min(nlat - first);
            for (r, spectrum) in (first..first + block).zip(spectra.chunks_exact_mut(width)) {
                let row = field.row(r);
                // Copied (the FFT uses its input as scratch, so the row is
                // copied in any case), then checked and measured in cache.
                match row.as_slice() {
                    Some(values) => input.copy_from_slice(values),
                    None => input.iter_mut().zip(row.iter()).for_each(|(slot, &value)| *slot = value),
                }
                let finite = measure_row(&input, &mut largest);
                if !finite
                    && let Some((j, value)) = input.iter().copied().enumerate().find(|(_, value)| !value.is_finite())
                {
                    return Err(Error::InvalidFrame(format!(
                        "the {what} is missing or not finite at latitude {}, longitude {} ({value}); \
                         spherical-harmonic transforms need a complete global field",
                        self.grid.lat(r),
                        self.grid.lon(j)
                    )));
                }
                self.forward
                    .process_with_scratch(&mut input, spectrum, &mut scratch)
                    .map_err(|e| Error::InvalidFrame(format!("zonal FFT: {e}")))?;
            }
            for (m, phase) in self.zonal_phase.iter().enumerate() {
                let column = &mut columns[m * nlat..(m + 1) * nlat];
                for (b, r) in (first..first + block).enumerate() {
                    column[self.colatitude_row(r)] = spectra[b * width + m] * phase;
                }
            }
        }
        Ok((columns, largest.into_iter().fold(0.0, f64::max)))
    }

    /// The grid from zonal coefficients laid out as [`Self::zonal_forward`]'s.
    fn zonal_inverse(&self, columns: &[Complex64]) -> Result<Array2<f64>> {
        let (nlat, nlon) = (self.geometry.nlat, self.geometry.nlon);
        // Row after row, each written once (not zeroed first).
        let mut values = Vec::with_capacity(nlat * nlon);
        self.zonal_inverse_rows(columns, |row| {
            values.extend_from_slice(row);
            Ok(())
        })?;
        Array2::from_shape_vec((nlat, nlon), values)
            .map_err(|e| Error::InvalidFrame(format!("zonal inverse FFT: {nlon} values a row expected: {e}")))
    }

    /// [`Self::zonal_inverse`] a row at a time, each row of the grid in its
    /// order handed to `row`.
    fn zonal_inverse_rows(&self, columns: &[Complex64], mut row: impl FnMut(&mut [f64]) -> Result<()>) -> Result<()> {
        let nlat = self.geometry.nlat;
        let width = self.inverse.complex_len();
        let mut spectra = vec![Complex64::new(0.0, 0.0); ZONAL_BLOCK_ROWS * width];
        let mut output = self.inverse.make_output_vec();
        let mut scratch = self.inverse.make_scratch_vec();
        let scale = self.geometry.nlon as f64;
        let orders = self.zonal_phase.len();
        for first in (0..nlat).step_by(ZONAL_BLOCK_ROWS) {
            let block = ZONAL_BLOCK_ROWS.min(nlat - first);
            for (m, phase) in self.zonal_phase.iter().enumerate() {
                let column = &columns[m * nlat..(m + 1) * nlat];
                for (b, r) in (first..first + block).enumerate() {
                    spectra[b * width + m] = column[self.colatitude_row(r)] * phase.conj() * scale;
                }
            }
            for spectrum in spectra.chunks_exact_mut(width).take(block) {
                // The FFT uses its input as scratch: the orders past the
                // truncation are cleared each time.
                spectrum[orders..].fill(Complex64::new(0.0, 0.0));
                spectrum[0].im = 0.0;
                self.inverse
                    .process_with_scratch(spectrum, &mut output, &mut scratch)
                    .map_err(|e| Error::InvalidFrame(format!("zonal inverse FFT: {e}")))?;
                row(&mut output)?;
            }
        }
        Ok(())
    }

    /// Columns on the rows the Legendre quadrature runs over: the grid's own
    /// (Gaussian) or the Fejér rows they resample onto (evenly spaced).
    fn on_quadrature_rows<'a>(
        &'a self,
        columns: &'a [Complex64],
        parity: fn(usize) -> f64,
    ) -> (Cow<'a, [Complex64]>, &'a Rows) {
        let Some((resampler, rows)) = &self.fine else {
            return (Cow::Borrowed(columns), &self.grid_rows);
        };
        let (n, fine_n) = (self.geometry.nlat, resampler.fine_rows());
        let mut fine = Vec::with_capacity((self.lmax + 1) * fine_n);
        let mut buffers = resampler.buffers();
        for m in 0..=self.lmax {
            resampler.resample(&columns[m * n..(m + 1) * n], parity(m), &mut fine, &mut buffers);
        }
        (Cow::Owned(fine), rows)
    }

    /// The north-to-south index of grid row `r`.
    #[inline]
    fn colatitude_row(&self, r: usize) -> usize {
        if self.geometry.north_first { r } else { self.geometry.nlat - 1 - r }
    }
}

/// The values of `results`, or the first error among them.
fn each_ok<T, const N: usize>(results: [Result<T>; N]) -> Result<[T; N]> {
    let values = results.into_iter().collect::<Result<Vec<T>>>()?;
    values.try_into().map_err(|_| Error::InvalidArgument("a synthesis lost a field".into()))
}

/// A scalar's zonal coefficient `g_m` continues over a pole with sign `(−1)^m`.
fn scalar_parity(m: usize) -> f64 {
    if m.is_multiple_of(2) { 1.0 } else { -1.0 }
}

/// Wind components flip with the local axes over a pole: `−(−1)^m`.
fn vector_parity(m: usize) -> f64 {
    -scalar_parity(m)
}

/// How many rows the zonal transforms take at a time: their coefficients go
/// to (come from) the columns `m` a block of rows at a time, contiguous
/// there, instead of one value a column for each row (at 0.25° the columns
/// lie 11.5 kB apart, and each row's 720 values fell on as many pages).
const ZONAL_BLOCK_ROWS: usize = 8;

/// How many lanes [`measure_row`] keeps its largest magnitudes in.
const MEASURE_LANES: usize = 4;

/// Raises each lane of `largest` to the largest magnitude among the
/// `values` it sees, and tells whether every value is finite. Lanes take
/// the values in turn, a block of [`MEASURE_LANES`] at a time, so that the
/// comparisons of one block do not wait for each other's (one running
/// largest was a chain of dependent comparisons, a value at a time).
fn measure_row(values: &[f64], largest: &mut [f64; MEASURE_LANES]) -> bool {
    let mut finite = [true; MEASURE_LANES];
    let mut measure = |value: f64, lane: usize| {
        finite[lane] &= value.is_finite();
        let magnitude = value.abs();
        largest[lane] = if magnitude > largest[lane] { magnitude } else { largest[lane] };
    };
    let mut blocks = values.chunks_exact(MEASURE_LANES);
    for block in &mut blocks {
        for (lane, &value) in block.iter().enumerate() {
            measure(value, lane);
        }
    }
    blocks.remainder().iter().for_each(|&value| measure(value, 0));
    finite.iter().all(|&f| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coefficients(lmax: usize, seed: f64) -> SphericalHarmonics {
        let mut c = SphericalHarmonics::zeros(lmax);
        for m in 0..=lmax {
            for l in m..=lmax {
                let phase = seed * (l * 31 + m * 7) as f64;
                c.set(l, m, Complex64::new(phase.sin(), phase.cos())).unwrap_or_default();
            }
        }
        c
    }

    /// Coefficients finer than the plan are refused, whole or row by row,
    /// with one message, and no row is handed on.
    #[test]
    fn coefficients_finer_than_the_plan_are_refused() {
        let plan = ShtPlan::new(&Grid::regular_global(5.0).expect("a 5° grid"), 10).expect("a T10 plan");
        let finer = SphericalHarmonics::zeros(20);
        let expected = "cannot synthesise T20 coefficients with a T10 plan";
        let whole = plan.synthesise(&finer).expect_err("T20 on a T10 plan");
        assert!(whole.to_string().contains(expected), "{whole}");
        let mut rows = 0;
        let by_rows = plan
            .synthesise_rows(&finer, |_| {
                rows += 1;
                Ok(())
            })
            .expect_err("T20 on a T10 plan");
        assert!(by_rows.to_string().contains(expected), "{by_rows}");
        assert_eq!(rows, 0);
    }

    /// A row's largest magnitude and finiteness, wherever in the row (in
    /// any lane or the remainder) the largest or the bad value lies.
    #[test]
    fn a_row_is_measured_whatever_lane_holds_the_largest_or_a_bad_value() {
        for length in 1..=2 * MEASURE_LANES + 1 {
            for at in 0..length {
                let mut row: Vec<f64> = (0..length).map(|j| (j as f64 * 0.37).sin()).collect();
                row[at] = -7.5;
                let mut largest = [0.0; MEASURE_LANES];
                assert!(measure_row(&row, &mut largest), "length {length}, at {at}");
                assert_eq!(largest.into_iter().fold(0.0, f64::max), 7.5, "length {length}, at {at}");
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    row[at] = bad;
                    assert!(!measure_row(&row, &mut [0.0; MEASURE_LANES]), "{bad} at {at} of {length}");
                }
            }
        }
    }

    /// The wind's analysis on the condensed rows is its analysis on the
    /// Fejér rows (both exact sums of the same interpolant), on evenly
    /// spaced grids with and without poles, up to each grid's finest
    /// truncation; on a Gaussian grid nothing is condensed.
    #[test]
    fn the_wind_analysed_on_condensed_rows_is_the_wind_on_the_fejer_rows() -> Result<()> {
        let offset = |step: f64| {
            let lats: Vec<f64> = (0..(180.0 / step) as usize).map(|i| 90.0 - step * (i as f64 + 0.5)).collect();
            let lons: Vec<f64> = (0..(360.0 / step) as usize).map(|j| step * j as f64).collect();
            Grid::new(lats, lons)
        };
        for (grid, lmax) in [
            (Grid::regular_global(2.5)?, 42),
            (Grid::regular_global(2.5)?, 71),
            (Grid::regular_global(1.0)?, 179),
            (offset(2.0)?, 89),
            (offset(2.0)?, 20),
        ] {
            let plan = ShtPlan::new(&grid, lmax)?;
            let wind = |a: f64, b: f64| {
                Array2::from_shape_fn(grid.shape(), |(i, j)| {
                    let (lat, lon) = (grid.lat(i).to_radians(), grid.lon(j).to_radians());
                    // Rough, with every order: not band-limited on the grid.
                    a * lat.cos() + (b * lon + 3.0 * lat).sin() * lat.cos().powi(2) + ((i * 7 + j * 13) % 5) as f64
                })
            };
            let (u, v) = (wind(20.0, 6.0), wind(-8.0, 5.0));
            let condensed = WindQuadrature::new(&plan, Some(true));
            let (resampler, _) = plan.fine.as_ref().expect("an evenly spaced grid");
            assert!(condensed.condensed.as_ref().expect("condensed").1.len() < resampler.fine_rows());
            let (vorticity, divergence) = plan.analyse_wind_by(&condensed, u.view(), v.view(), 1.0)?;
            // The Fejér rows' sums, as before they were condensed.
            let fejer = WindQuadrature::new(&plan, Some(false));
            assert!(fejer.condensed.is_none());
            let (fejer_vorticity, fejer_divergence) = plan.analyse_wind_by(&fejer, u.view(), v.view(), 1.0)?;
            for (ours, fejer) in [(&vorticity, &fejer_vorticity), (&divergence, &fejer_divergence)] {
                let largest = fejer.as_slice().iter().map(|c| c.norm()).fold(0.0, f64::max);
                let worst =
                    ours.as_slice().iter().zip(fejer.as_slice()).map(|(a, b)| (a - b).norm()).fold(0.0, f64::max);
                assert!(worst <= 1e-12 * largest, "{grid:?} T{lmax}: {worst:e} against {largest:e}");
            }
        }
        let gaussian = Grid::new(pst_core::gaussian_latitudes(32)?, (0..64).map(|j| 5.625 * j as f64).collect())?;
        assert!(WindQuadrature::new(&ShtPlan::new(&gaussian, 31)?, Some(true)).condensed.is_none());
        // Condensed where it pays (see `TRANSFORM_POINT_COST`).
        let chosen = |step: f64, lmax: usize| -> Result<bool> {
            Ok(WindQuadrature::new(&ShtPlan::new(&Grid::regular_global(step)?, lmax)?, None).condensed.is_some())
        };
        let choices = [chosen(0.25, 719)?, chosen(0.25, 639)?, chosen(0.5, 359)?, chosen(1.0, 179)?, chosen(2.5, 71)?];
        assert_eq!(choices, [true, true, true, false, false]);
        Ok(())
    }

    /// Fields synthesised together are each the field synthesised alone, to
    /// the bit, of one truncation or of different ones.
    #[test]
    fn fields_synthesised_together_are_the_fields_alone() -> Result<()> {
        let grid = Grid::regular_global(2.5)?;
        let plan = ShtPlan::new(&grid, 42)?;
        let (a, b, low) = (coefficients(42, 0.37), coefficients(42, 1.91), coefficients(10, 0.53));
        let [together_a, together_b] = plan.synthesise_fields([&a, &b])?;
        assert_eq!(together_a, plan.synthesise(&a)?);
        assert_eq!(together_b, plan.synthesise(&b)?);
        let [mixed_a, mixed_low] = plan.synthesise_fields([&a, &low])?;
        assert_eq!(mixed_a, plan.synthesise(&a)?);
        assert_eq!(mixed_low, plan.synthesise(&low)?);
        assert!(mixed_low.iter().any(|v| v.abs() > 1e-3));
        Ok(())
    }
}
