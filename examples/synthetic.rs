//! Plant moving lows in a synthetic 1° series and check the Simple tracker
//! recovers each one as a single track.
//!
//! `cargo run --release -p pst-examples --example synthetic`

use pst::{DetectionMode, Grid, SimpleTracker, SyntheticSeries, Tracker, great_circle_distance_m};

fn main() -> Result<(), pst::Error> {
    let series = SyntheticSeries::builder(Grid::regular_global(1.0)?).frames(40).random_storms(16, 2026).build()?;
    let truth = series.planted_tracks(Some(DetectionMode::Min));
    let found = SimpleTracker::default().track(&series)?;
    println!("planted {} lows; the tracker found {} tracks", truth.len(), found.len());
    for planted in truth.iter() {
        // The found track that passes within 100 km of the planted start.
        let matched = found.iter().find(|t| {
            t.times().iter().zip(t.lats().iter().zip(t.lons())).any(|(time, (lat, lon))| {
                *time == planted.start_time()
                    && great_circle_distance_m(*lat, *lon, planted.lats()[0], planted.lons()[0]) < 100e3
            })
        });
        match matched {
            Some(t) => println!("  storm {:2}: {} steps planted, {} tracked", planted.id(), planted.len(), t.len()),
            None => println!("  storm {:2}: not found", planted.id()),
        }
    }
    Ok(())
}
