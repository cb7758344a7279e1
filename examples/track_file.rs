//! Track storms in a netCDF file with the Simple tracker, as a library user.
//!
//! `cargo run --release -p pst-examples --example track_file -- [INPUT.nc] [VARIABLE] [OUTPUT]`
//! (defaults: the embedded December 2025 ERA5 msl file, `msl`, `tracks.imilast.txt`).

use pst_core::Tracker;
use pst_io::{OpenOptions, open_source, write_tracks};
use pst_link::SimpleTracker;

fn main() -> Result<(), pst_core::Error> {
    let mut args = std::env::args().skip(1);
    let input = args.next().unwrap_or_else(|| pst_examples::DEFAULT_INPUT.to_string());
    let variable = args.next().unwrap_or_else(|| "msl".to_string());
    let output = args.next().unwrap_or_else(|| "tracks.imilast.txt".to_string());

    // Open a source (metadata only), track, write: that is the whole library path.
    let source = open_source(&input, &variable, &OpenOptions::default())?;
    let tracks = SimpleTracker::default().track(source.as_ref())?;
    write_tracks(&output, &tracks, None)?;

    let long = tracks.filter_min_length(8);
    println!("{} tracks, {} lasting two days or more; written to {output}", tracks.len(), long.len());
    if let Some(deepest) = long.iter().min_by(|a, b| {
        let min = |t: &pst_core::Track<'_>| {
            t.variable(&variable).unwrap_or_default().iter().copied().fold(f64::INFINITY, f64::min)
        };
        min(a).total_cmp(&min(b))
    }) {
        println!(
            "deepest long-lived low: track {} from {} at ({:.1}, {:.1}), {} steps",
            deepest.id(),
            deepest.start_time(),
            deepest.lats()[0],
            deepest.lons()[0],
            deepest.len()
        );
    }
    Ok(())
}
