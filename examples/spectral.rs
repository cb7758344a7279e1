//! Spherical-harmonic preprocessing on real ERA5 data: the T5–42 band-pass
//! of the 0.25° msl frame, its energy spectrum, and vorticity from GFS's
//! 850 hPa winds compared with the absolute vorticity NCEP wrote beside them.
//!
//! `cargo run --release -p pst-examples --example spectral -- [DATA_DIR]`
//! (default `../shared/data`).

use std::time::Instant;

use pst::{BandPass, FieldSource, OpenOptions, Result, ShtPlan, SpectralFilter, WindKinematics, open_source};

fn main() -> Result<()> {
    let data = std::env::args().nth(1).unwrap_or_else(|| "../shared/data".into());
    let options = OpenOptions::default();

    let msl = open_source(format!("{data}/era5-frames/era5_msl_2025120100_0.25x0.25.nc"), "msl", &options)?;
    let grid = msl.info().grid.clone();
    let field = msl.read_frame(0)?.into_values();

    let started = Instant::now();
    let filter = SpectralFilter::new(&grid, BandPass::new(5, 42)?)?;
    let planned = started.elapsed();
    let filtered = filter.filter(field.view())?;
    let filtered_in = started.elapsed() - planned;
    let (lo, hi) = filtered.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    println!(
        "msl {}×{} ({:?} latitudes): plan {planned:.1?}, T5–42 band-pass {filtered_in:.1?}; \
         anomalies from {lo:.0} to {hi:.0} Pa",
        grid.nlat(),
        grid.nlon(),
        filter.plan().layout()
    );

    // Where the variance of sea-level pressure sits, by total wavenumber.
    let coefficients = filter.plan().analyse(field.view())?;
    let total: f64 = (1..=42).map(|l| coefficients.degree_power(l)).sum();
    let band: f64 = (5..=42).map(|l| coefficients.degree_power(l)).sum();
    println!("variance in degrees 1–42: {:.0} Pa², of which {:.1}% in the 5–42 band", total, 100.0 * band / total);

    // GFS's 850 hPa winds, and the absolute vorticity NCEP computed itself.
    let gfs = format!("{data}/grib/gfs.grb");
    let at_850 = OpenOptions::default().level(850.0);
    let u = open_source(&gfs, "u", &at_850)?.read_frame(0)?;
    let v = open_source(&gfs, "v", &at_850)?.read_frame(0)?;
    let ncep = open_source(&gfs, "absv", &at_850)?.read_frame(0)?;
    let grid = u.grid().clone();
    let kinematics = WindKinematics::new(&grid, ShtPlan::max_lmax(&grid)?)?;
    let (vorticity, divergence) = kinematics.vorticity_divergence(u.values().view(), v.values().view())?;
    let coriolis = |i: usize| 2.0 * 7.292_115e-5 * grid.lat(i).to_radians().sin();
    let ncep_relative = ndarray::Array2::from_shape_fn(grid.shape(), |(i, j)| ncep.values()[[i, j]] - coriolis(i));
    let rms = |a: &ndarray::Array2<f64>| (a.iter().map(|x| x * x).sum::<f64>() / a.len() as f64).sqrt();
    println!(
        "GFS 850 hPa on {}×{}: RMS relative vorticity {:.2e} s⁻¹, divergence {:.2e} s⁻¹",
        grid.nlat(),
        grid.nlon(),
        rms(&vorticity),
        rms(&divergence)
    );
    // NCEP derived absv on the model's own (much finer) grid; the 2.5° winds
    // are point samples of that finer field, so only large scales compare.
    let large_scales = SpectralFilter::new(&grid, BandPass::truncation(30))?;
    let ours = large_scales.filter(vorticity.view())?;
    let theirs = large_scales.filter(ncep_relative.view())?;
    println!(
        "at T30, NCEP's absv − f has RMS {:.2e} s⁻¹ and differs from ours by {:.2e} s⁻¹ RMS",
        rms(&theirs),
        rms(&(&ours - &theirs))
    );
    Ok(())
}
