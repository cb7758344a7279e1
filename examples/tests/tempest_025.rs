//! TempestExtremes' DetectNodes at 0.25°: the pressure criteria of Ullrich
//! et al.'s (2021) recipe on ERA5's real 0.25° frame rolled into 40 frames
//! (`RotatedSeries`, 1° a frame; DetectNodes' nodes made by
//! `benches/tempest/run_tempest.sh` on the same frames written by
//! `roll_frame.py`): the library's Simple tracker with DetectNodes'
//! candidates and criteria finds every node, and no other.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::Read;

use pst::{
    Candidates, ClosedContour, DetectionCriteria, FieldSource, GridConnectivity, NetcdfSource, OpenOptions,
    SimpleTracker, Tracker,
};
use pst_examples::RotatedSeries;

/// Nodes as (frame, latitude and longitude in hundredths of a degree).
type Nodes = BTreeSet<(usize, i64, i64)>;

fn key(frame: usize, lat: f64, lon: f64) -> (usize, i64, i64) {
    (frame, (lat * 100.0).round() as i64, (lon.rem_euclid(360.0) * 100.0).round() as i64)
}

#[test]
fn detect_nodes_at_a_quarter_degree() {
    let Some(path) = pst_testkit::data_file("era5-frames/era5_msl_2025120100_0.25x0.25.nc") else { return };
    let file = NetcdfSource::open(&path, "msl", &OpenOptions::default()).unwrap();
    let series = RotatedSeries::new(file.read_frame(0).unwrap(), 40, 4, file.info());
    let criteria = DetectionCriteria::default()
        .closed_contour(ClosedContour { delta: 200.0, distance_deg: 5.5, extremum_distance_deg: 0.0 })
        .merge_distance(6.0);
    let tracker =
        SimpleTracker::default().candidates(Candidates::Neighbours(GridConnectivity::Edges)).criteria(criteria);
    let tracks = tracker.track(&series).unwrap();
    let times = &series.info().times;
    let ours: Nodes = (0..tracks.num_points())
        .map(|k| {
            let frame = times.iter().position(|&t| t == tracks.times()[k]).unwrap();
            key(frame, tracks.lats()[k], tracks.lons()[k])
        })
        .collect();

    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rolled40_msl_0.25_cc200_merge6.nodes.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture).unwrap()).read_to_string(&mut text).unwrap();
    let mut tempest = Nodes::new();
    let mut frame = 0;
    for line in text.lines() {
        let fields: Vec<f64> = line.split_whitespace().map(|f| f.parse().unwrap()).collect();
        if line.starts_with('\t') {
            tempest.insert(key(frame - 1, fields[3], fields[2]));
        } else {
            frame += 1;
        }
    }
    assert_eq!(tempest.len(), 1_760);
    assert_eq!(
        ours,
        tempest,
        "TempestExtremes only {:?}; pst only {:?}",
        tempest.difference(&ours).take(5).collect::<Vec<_>>(),
        ours.difference(&tempest).take(5).collect::<Vec<_>>()
    );
}
