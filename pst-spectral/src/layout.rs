//! Which global grids a transform accepts, and their latitude quadrature.

use std::f64::consts::PI;

use pst_core::{Error, Grid, LatOrder, Result, gauss_legendre};

/// How a global grid places its latitudes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatitudeLayout {
    /// Evenly spaced from pole to pole, both poles included (ERA5's regular
    /// grids, NCL's "fixed" grids): `nlat = 180°/Δ + 1`.
    EquiangularWithPoles,
    /// Evenly spaced, offset half a step from the poles (CMIP's 1°×1° grids,
    /// `89.5 … −89.5`): `nlat = 180°/Δ`.
    EquiangularOffset,
    /// The zeros of the Legendre polynomial `P_nlat` (Gaussian grids).
    Gaussian,
}

/// The latitude structure of a grid a transform works on.
#[derive(Debug, Clone)]
pub(crate) struct Geometry {
    pub(crate) layout: LatitudeLayout,
    pub(crate) nlat: usize,
    pub(crate) nlon: usize,
    /// Row 0 of the grid is the northernmost.
    pub(crate) north_first: bool,
    /// Longitude of column 0, radians.
    pub(crate) lon0: f64,
}

impl Geometry {
    /// Recognises a global grid, or says why it is not one.
    pub(crate) fn of(grid: &Grid) -> Result<Self> {
        let (nlat, nlon) = grid.shape();
        if !grid.is_periodic() {
            return Err(Error::InvalidGrid(format!(
                "spherical-harmonic transforms need a global grid, but the {nlon} longitudes \
                 ({}…{}) do not close the circle evenly",
                grid.lon(0),
                grid.lon(nlon - 1)
            )));
        }
        if nlat < 2 {
            return Err(Error::InvalidGrid("spherical-harmonic transforms need at least two latitudes".into()));
        }
        let north_first = grid.lat_order() == LatOrder::Descending;
        // Colatitudes in degrees, north to south.
        let colat: Vec<f64> = if north_first {
            grid.lats().iter().map(|l| 90.0 - l).collect()
        } else {
            grid.lats().iter().rev().map(|l| 90.0 - l).collect()
        };
        let layout = detect_layout(&colat).ok_or_else(|| {
            Error::InvalidGrid(format!(
                "the {nlat} latitudes ({}…{}) are neither evenly spaced from pole to pole, nor \
                 evenly spaced half a step from the poles, nor Gaussian: spherical-harmonic \
                 transforms need a global grid",
                grid.lat(0),
                grid.lat(nlat - 1)
            ))
        })?;
        Ok(Geometry { layout, nlat, nlon, north_first, lon0: grid.lon(0).to_radians() })
    }

    /// Exact colatitudes (radians, north to south) of the rows, and their
    /// Gauss–Legendre weights on a Gaussian grid (empty otherwise: evenly
    /// spaced grids integrate on resampled Fejér rows instead).
    pub(crate) fn rows(&self) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = self.nlat;
        Ok(match self.layout {
            LatitudeLayout::EquiangularWithPoles => {
                ((0..n).map(|j| PI * j as f64 / (n - 1) as f64).collect(), Vec::new())
            }
            LatitudeLayout::EquiangularOffset => (offset_colatitudes(n), Vec::new()),
            LatitudeLayout::Gaussian => {
                let (nodes, weights) = gauss_legendre(n)?;
                (nodes.iter().map(|x| x.acos()).collect(), weights)
            }
        })
    }

    /// The largest degree the grid resolves exactly: band-limited fields up
    /// to this degree survive analysis and synthesis unchanged.
    pub(crate) fn max_lmax(&self) -> usize {
        let by_lat = match self.layout {
            // Sine-parity components vanish at both poles: one degree fewer.
            LatitudeLayout::EquiangularWithPoles => self.nlat.saturating_sub(2),
            LatitudeLayout::EquiangularOffset | LatitudeLayout::Gaussian => self.nlat - 1,
        };
        by_lat.min((self.nlon.saturating_sub(1)) / 2)
    }
}

/// Tolerance on evenly spaced colatitudes, relative to the spacing. Float32
/// coordinates are good to ~5e-6° at 90°.
const EVEN_TOLERANCE: f64 = 1e-3;
/// Tolerance on Gaussian latitudes, relative to the mean spacing: files
/// store them to a thousandth of a degree (GRIB 1) or better.
const GAUSSIAN_TOLERANCE: f64 = 2e-2;

fn detect_layout(colat_deg: &[f64]) -> Option<LatitudeLayout> {
    let n = colat_deg.len();
    let matches = |expected: &dyn Fn(usize) -> f64, tolerance: f64| {
        colat_deg.iter().enumerate().all(|(j, &c)| (c - expected(j)).abs() <= tolerance)
    };
    let with_poles = 180.0 / (n - 1) as f64;
    if matches(&|j| j as f64 * with_poles, EVEN_TOLERANCE * with_poles) {
        return Some(LatitudeLayout::EquiangularWithPoles);
    }
    let offset = 180.0 / n as f64;
    if matches(&|j| (j as f64 + 0.5) * offset, EVEN_TOLERANCE * offset) {
        return Some(LatitudeLayout::EquiangularOffset);
    }
    let nodes = gauss_legendre(n).ok()?.0;
    if matches(&|j| nodes[j].acos().to_degrees(), GAUSSIAN_TOLERANCE * offset) {
        return Some(LatitudeLayout::Gaussian);
    }
    None
}

/// The `n` colatitudes `π(i + ½)/n`, radians, north to south: Fejér's
/// nodes, and the rows of an evenly spaced grid without the poles.
pub(crate) fn offset_colatitudes(n: usize) -> Vec<f64> {
    (0..n).map(|i| PI * (i as f64 + 0.5) / n as f64).collect()
}

/// Fejér's first quadrature rule on `n` nodes `θ_i = (i + ½)π/n`: weights for
/// `∫_0^π g(θ) sin θ dθ`, exact when `g` is a polynomial in `cos θ` of degree
/// below `n`. The weights sum to 2.
pub(crate) fn fejer_weights(n: usize) -> Vec<f64> {
    let nf = n as f64;
    (0..n)
        .map(|i| {
            let theta = PI * (i as f64 + 0.5) / nf;
            let series: f64 = (1..=n / 2).map(|k| (2.0 * k as f64 * theta).cos() / (4.0 * (k * k) as f64 - 1.0)).sum();
            2.0 / nf * (1.0 - 2.0 * series)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use pst_core::gaussian_latitudes;

    fn geometry(lats: Vec<f64>, nlon: usize) -> Result<Geometry> {
        let lons = (0..nlon).map(|j| j as f64 * 360.0 / nlon as f64).collect();
        Geometry::of(&Grid::new(lats, lons)?)
    }

    #[test]
    fn recognises_the_three_layouts_in_either_order() {
        let era5: Vec<f64> = (0..73).map(|i| 90.0 - 2.5 * i as f64).collect();
        let g = geometry(era5.clone(), 144).unwrap();
        assert_eq!((g.layout, g.north_first), (LatitudeLayout::EquiangularWithPoles, true));
        assert_eq!(g.max_lmax(), 71);
        let ascending: Vec<f64> = era5.into_iter().rev().collect();
        assert!(!geometry(ascending, 144).unwrap().north_first);
        let cmip: Vec<f64> = (0..180).map(|i| -89.5 + i as f64).collect();
        assert_eq!(geometry(cmip, 360).unwrap().layout, LatitudeLayout::EquiangularOffset);
        // GRIB 1 stores Gaussian latitudes in millidegrees.
        let t62: Vec<f64> = gaussian_latitudes(94).unwrap().iter().map(|l| (l * 1e3).round() / 1e3).collect();
        assert_eq!(geometry(t62, 192).unwrap().layout, LatitudeLayout::Gaussian);
    }

    #[test]
    fn refuses_regional_grids() {
        let lats: Vec<f64> = (0..33).map(|i| 20.0 + 1.25 * i as f64).collect();
        let err = geometry(lats, 144).unwrap_err().to_string();
        assert!(err.contains("global grid"), "{err}");
        let lats: Vec<f64> = (0..73).map(|i| 90.0 - 2.5 * i as f64).collect();
        let lons: Vec<f64> = (0..36).map(|j| 2.5 * j as f64).collect();
        assert!(Geometry::of(&Grid::new(lats, lons).unwrap()).is_err());
    }

    #[test]
    fn fejer_rule_is_exact_below_its_size() {
        let n = 17;
        let w = fejer_weights(n);
        for degree in 0..n {
            let sum: f64 = (0..n).map(|i| w[i] * (PI * (i as f64 + 0.5) / n as f64).cos().powi(degree as i32)).sum();
            let exact = if degree % 2 == 1 { 0.0 } else { 2.0 / (degree as f64 + 1.0) };
            assert_abs_diff_eq!(sum, exact, epsilon = 1e-14);
        }
    }
}
