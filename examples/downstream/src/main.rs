//! `cargo run --release -- INPUT VARIABLE OUTPUT simple|hodges [LMIN LMAX]`:
//! tracks INPUT with PyStormTracker's defaults (band-passed to LMIN..LMAX
//! first when given) and writes OUTPUT in the format of its extension —
//! the same bytes as `stormtracker track`.

use std::process::ExitCode;

use pst::{HodgesTracker, NoProgress, Pipeline, SimpleTracker, TrackerChoice};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pst-downstream: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [input, variable, output, algorithm, band @ ..] = args else {
        return Err("usage: pst-downstream INPUT VARIABLE OUTPUT simple|hodges [LMIN LMAX]".into());
    };
    let tracker: TrackerChoice = match algorithm.as_str() {
        "simple" => SimpleTracker::default().into(),
        "hodges" => HodgesTracker::default().into(),
        other => return Err(format!("unknown algorithm `{other}`: simple or hodges").into()),
    };
    let mut pipeline = Pipeline::builder().input(input.as_str()).variable(variable.as_str()).tracker(tracker);
    match band {
        [] => {}
        [lmin, lmax] => pipeline = pipeline.band_pass(lmin.parse()?, lmax.parse()?),
        _ => return Err("give both LMIN and LMAX, or neither".into()),
    }
    for report in pipeline.build()?.run_to_file(output, None, &NoProgress)? {
        println!("{} frames, {} centres, {} tracks -> {output}", report.frames, report.centres, report.tracks);
    }
    Ok(())
}
