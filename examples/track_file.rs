//! Track storms in a file with the Simple tracker, as a library user: the
//! same pipeline, defaults and output as `stormtracker track`.
//!
//! `cargo run --release -p pst-examples --example track_file -- [INPUT] [VARIABLE] [OUTPUT]`
//! (defaults: the embedded December 2025 ERA5 msl file, `msl`, `tracks.imilast.txt`).

use pst::{NoProgress, Pipeline, Track};

fn main() -> Result<(), pst::Error> {
    let mut args = std::env::args().skip(1);
    let input = args.next().unwrap_or_else(|| pst_examples::DEFAULT_INPUT.to_string());
    let variable = args.next().unwrap_or_else(|| "msl".to_string());
    let output = args.next().unwrap_or_else(|| "tracks.imilast.txt".to_string());

    // Files in, a tracker (Simple by default), tracks out: the whole library path.
    let pipeline = Pipeline::builder().input(&input).variable(&variable).build()?;
    pipeline.run_to_file(&output, None, &NoProgress)?;
    let tracks = pipeline.track()?;

    let long = tracks.filter_min_length(8);
    println!("{} tracks, {} lasting two days or more; written to {output}", tracks.len(), long.len());
    let deepest_value =
        |t: &Track<'_>| t.variable(&variable).unwrap_or_default().iter().copied().fold(f64::INFINITY, f64::min);
    if let Some(deepest) = long.iter().min_by(|a, b| deepest_value(a).total_cmp(&deepest_value(b))) {
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
