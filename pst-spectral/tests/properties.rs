//! Invariants of the transforms and filters, on random fields.
#![allow(clippy::unwrap_used, clippy::panic)]

use approx::assert_relative_eq;
use ndarray::{Array2, Axis};
use proptest::prelude::*;
use pst_core::{Grid, gauss_legendre, gaussian_latitudes};
use pst_spectral::{BandPass, ShtPlan, SpectralFilter};

const NLAT: usize = 37; // 5° with poles
const NLON: usize = 72;

fn grid() -> Grid {
    Grid::regular_global(5.0).unwrap()
}

fn field() -> impl Strategy<Value = Array2<f64>> {
    prop::collection::vec(-1.0e3..1.0e3f64, NLAT * NLON)
        .prop_map(|values| Array2::from_shape_vec((NLAT, NLON), values).unwrap())
}

fn max_abs(a: &Array2<f64>) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn filtering_is_linear(f in field(), g in field(), a in -3.0..3.0f64, b in -3.0..3.0f64) {
        let filter = SpectralFilter::new(&grid(), BandPass::tapered(3, 20, 0.3).unwrap()).unwrap();
        let combined = filter.filter((&f * a + &g * b).view()).unwrap();
        let separate = filter.filter(f.view()).unwrap() * a + filter.filter(g.view()).unwrap() * b;
        let scale = max_abs(&separate).max(1.0);
        prop_assert!(max_abs(&(combined - separate)) < 1e-10 * scale);
    }

    #[test]
    fn filtering_twice_is_filtering_once(f in field(), lmin in 0usize..10, width in 0usize..25) {
        let filter = SpectralFilter::new(&grid(), BandPass::new(lmin, lmin + width).unwrap()).unwrap();
        let once = filter.filter(f.view()).unwrap();
        let twice = filter.filter(once.view()).unwrap();
        prop_assert!(max_abs(&(&twice - &once)) < 1e-10 * max_abs(&once).max(1.0));
    }

    #[test]
    fn longitude_rotation_commutes_with_filtering(f in field(), shift in 1usize..NLON) {
        let filter = SpectralFilter::new(&grid(), BandPass::new(2, 30).unwrap()).unwrap();
        let rotate = |a: &Array2<f64>| {
            let mut out = a.clone();
            for (mut dst, src) in out.axis_iter_mut(Axis(0)).zip(a.axis_iter(Axis(0))) {
                for j in 0..NLON {
                    dst[(j + shift) % NLON] = src[j];
                }
            }
            out
        };
        let a = filter.filter(rotate(&f).view()).unwrap();
        let b = rotate(&filter.filter(f.view()).unwrap());
        prop_assert!(max_abs(&(a - &b)) < 1e-10 * max_abs(&b).max(1.0));
    }

    /// The coefficients' power equals the area-weighted mean square of a
    /// band-limited field (Gauss–Legendre integrates its square exactly).
    #[test]
    fn parseval(f in prop::collection::vec(-1.0..1.0f64, 48 * 96), lmax in 1usize..23) {
        let lons: Vec<f64> = (0..96).map(|j| j as f64 * 3.75).collect();
        let grid = Grid::new(gaussian_latitudes(48).unwrap(), lons).unwrap();
        let plan = ShtPlan::new(&grid, lmax).unwrap();
        // Project the random values onto T`lmax` first.
        let raw = Array2::from_shape_vec((48, 96), f).unwrap();
        let band_limited = plan.synthesise(&plan.analyse(raw.view()).unwrap()).unwrap();
        let coefficients = plan.analyse(band_limited.view()).unwrap();
        let (_, weights) = gauss_legendre(48).unwrap();
        let mean_square: f64 = band_limited
            .axis_iter(Axis(0))
            .zip(&weights)
            .map(|(row, w)| w / 2.0 * row.iter().map(|v| v * v).sum::<f64>() / 96.0)
            .sum();
        assert_relative_eq!(coefficients.power(), mean_square, max_relative = 1e-11);
    }
}
