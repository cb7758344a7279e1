//! The detector of this crate through pst's shipped contract suite.

use pst::conformance::{check_detector, check_recovers_planted_storms, check_tracker};
use pst::{
    DetectLinkTracker, DetectionMode, FieldSource, Grid, OpenOptions, PlantedStorm, SimpleLinker, Subseries,
    SyntheticSeries, open_source,
};
use pst_downstream::DeepLows;

const EMBEDDED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/era5_msl_2025-12_2.5x2.5.nc");

fn lows() -> SyntheticSeries {
    let mut builder = SyntheticSeries::builder(Grid::regular_global(2.5).expect("a grid")).frames(12);
    for (lat, lon) in [(50.0, 10.0), (-45.0, 200.0), (60.0, 300.0)] {
        builder = builder.storm(PlantedStorm::low(0, 12, lat, lon).moving(0.25, 2.5));
    }
    builder.build().expect("a series")
}

#[test]
fn deep_lows_keep_the_detector_contract() -> Result<(), Box<dyn std::error::Error>> {
    let detector = DeepLows { depth_pa: 500.0 };
    check_detector(&detector, &lows())?;
    let december = open_source(EMBEDDED, "msl", &OpenOptions::default())?;
    check_detector(&detector, &Subseries::new(december.as_ref(), 0..6))?;
    Ok(())
}

#[test]
fn deep_lows_track_under_the_tracker_contract() -> Result<(), Box<dyn std::error::Error>> {
    let tracker = |threads| DetectLinkTracker::new(DeepLows { depth_pa: 500.0 }, SimpleLinker::default()).threads(threads);
    check_tracker(&|threads| Box::new(tracker(threads)), &lows())?;
    check_recovers_planted_storms(&tracker(2), &lows(), DetectionMode::Min, 1.3)?;
    let december = open_source(EMBEDDED, "msl", &OpenOptions::default())?;
    assert!(december.len() > 100);
    Ok(())
}
