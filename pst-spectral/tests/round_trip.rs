//! Analysis followed by synthesis returns band-limited fields unchanged, on
//! every kind of grid, from T42 to T1279.
#![allow(clippy::unwrap_used, clippy::panic)]

use pst_core::{Grid, gaussian_latitudes};
use pst_spectral::{Complex64, ShtPlan, SphericalHarmonics};

/// Deterministic pseudo-random numbers in [-1, 1) (SplitMix64).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn random_coefficients(lmax: usize, seed: u64) -> SphericalHarmonics {
    let mut noise = Noise(seed);
    let mut c = SphericalHarmonics::zeros(lmax);
    for m in 0..=lmax {
        for l in m..=lmax {
            c.set(l, m, Complex64::new(noise.next(), noise.next())).unwrap();
        }
    }
    c
}

fn regular(step: f64, with_poles: bool, ascending: bool, lon0: f64) -> Grid {
    let nlon = (360.0 / step).round() as usize;
    let nlat = (180.0 / step).round() as usize + usize::from(with_poles);
    let offset = if with_poles { 0.0 } else { 0.5 };
    let mut lats: Vec<f64> = (0..nlat).map(|i| 90.0 - (i as f64 + offset) * step).collect();
    if ascending {
        lats.reverse();
    }
    let lons = (0..nlon).map(|j| lon0 + j as f64 * step).collect();
    Grid::new(lats, lons).unwrap()
}

fn gaussian(nlat: usize, nlon: usize) -> Grid {
    let lons = (0..nlon).map(|j| j as f64 * 360.0 / nlon as f64).collect();
    Grid::new(gaussian_latitudes(nlat).unwrap(), lons).unwrap()
}

/// Synthesis → analysis → synthesis: coefficients and field both survive
/// to `tolerance`, relative to their largest magnitude.
fn round_trip(grid: &Grid, lmax: usize, tolerance: f64) {
    let plan = ShtPlan::new(grid, lmax).unwrap();
    let coefficients = random_coefficients(lmax, lmax as u64 * 31 + grid.nlat() as u64);
    let field = plan.synthesise(&coefficients).unwrap();
    let back = plan.analyse(field.view()).unwrap();
    let coefficient_error =
        coefficients.as_slice().iter().zip(back.as_slice()).map(|(a, b)| (a - b).norm()).fold(0.0f64, f64::max);
    let again = plan.synthesise(&back).unwrap();
    let scale = field.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let field_error = field.iter().zip(&again).map(|(a, b)| (a - b).abs()).fold(0.0f64, f64::max) / scale;
    eprintln!(
        "T{lmax} on {:?} {:?}: coefficients {coefficient_error:.2e}, field {field_error:.2e}",
        grid.shape(),
        plan.layout()
    );
    assert!(coefficient_error < tolerance, "coefficients off by {coefficient_error:e}");
    assert!(field_error < tolerance, "field off by {field_error:e}");
}

#[test]
fn t42_on_era5_2p5_degree_grid() {
    round_trip(&Grid::regular_global(2.5).unwrap(), 42, 1e-10);
    // ... and at the grid's limit, in the other latitude order, from −180°.
    round_trip(&regular(2.5, true, true, -180.0), 71, 1e-10);
}

#[test]
fn t106_on_1_degree_grids() {
    round_trip(&regular(1.0, true, false, 0.0), 106, 1e-10);
    round_trip(&regular(1.0, false, true, -179.5), 106, 1e-10);
    round_trip(&gaussian(108, 216), 106, 1e-10);
}

#[test]
fn t639_on_era5_0p25_degree_grid() {
    round_trip(&Grid::regular_global(0.25).unwrap(), 639, 1e-10);
}

#[test]
fn t1279_on_a_gaussian_grid() {
    // ECMWF's N640 regular Gaussian grid (1280 × 2560).
    round_trip(&gaussian(1280, 2560), 1279, 1e-10);
}

#[test]
fn plans_refuse_what_the_grid_cannot_resolve() {
    let grid = Grid::regular_global(2.5).unwrap();
    let e = ShtPlan::new(&grid, 72).unwrap_err().to_string();
    assert!(e.contains("T72") && e.contains("T71"), "{e}");
    let plan = ShtPlan::new(&grid, 42).unwrap();
    assert!(plan.synthesise(&SphericalHarmonics::zeros(43)).is_err());
    let mut field = ndarray::Array2::zeros(grid.shape());
    field[[5, 7]] = f64::NAN;
    let e = plan.analyse(field.view()).unwrap_err().to_string();
    assert!(e.contains("latitude 77.5, longitude 17.5"), "{e}");
    assert!(plan.analyse(ndarray::Array2::zeros((72, 144)).view()).is_err());
}

/// Coefficients below the plan's truncation are the same field as those
/// coefficients padded with zeros to it.
#[test]
fn lower_truncations_synthesise_as_zero_padded() {
    let grid = Grid::regular_global(2.5).unwrap();
    let plan = ShtPlan::new(&grid, 42).unwrap();
    let low = random_coefficients(10, 7);
    let mut padded = SphericalHarmonics::zeros(42);
    for m in 0..=10 {
        for l in m..=10 {
            padded.set(l, m, low.get(l, m).unwrap()).unwrap();
        }
    }
    assert_eq!(plan.synthesise(&low).unwrap(), plan.synthesise(&padded).unwrap());
}
