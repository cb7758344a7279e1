//! On the same field, the Hodges detector reproduces PyStormTracker 0.8.0's
//! detections to the last bit: two frames PyStormTracker itself band-passed
//! (`tests/fixtures/`, see its README), chosen because a B-spline search in
//! each ends on the seam boundary, where the last bits of the spline decide
//! whether it converges.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use pst_core::{Detector, FieldSource};
use pst_hodges::HodgesTracker;
use pst_io::{OpenOptions, open_source};

#[test]
fn detections_equal_pystormtracker_bit_for_bit() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let source = open_source(fixtures.join("pst_t5-42_frames.nc"), "msl", &OpenOptions::default()).unwrap();
    let expected = std::fs::read_to_string(fixtures.join("pst_t5-42_frames_detections.txt")).unwrap();
    let engine = HodgesTracker::default().for_source(source.info()).unwrap();
    let detector = engine.detector();
    for (k, frame_number) in ["150", "321"].into_iter().enumerate() {
        let theirs: Vec<[f64; 3]> = expected
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(frame_number))
            .map(|l| {
                let v: Vec<f64> = l.split_whitespace().skip(1).map(|x| x.parse().unwrap()).collect();
                [v[0], v[1], v[2]]
            })
            .collect();
        let ours = detector.detect(&source.read_frame(k).unwrap(), k).unwrap();
        assert_eq!(ours.len(), theirs.len(), "frame {frame_number}");
        for (i, t) in theirs.iter().enumerate() {
            let o = [ours.lats()[i], ours.lons()[i].rem_euclid(360.0), ours.values()[i]];
            assert_eq!(o, *t, "frame {frame_number}, feature {i}");
        }
    }
    // The two searches that fail in PyStormTracker fail here too: the
    // candidates stay on their grid points with their grid values.
    let stays = |frame: usize, lat: f64, lon: f64| {
        let c = detector.detect(&source.read_frame(frame).unwrap(), frame).unwrap();
        (0..c.len()).any(|i| c.lats()[i] == lat && c.lons()[i].rem_euclid(360.0) == lon)
    };
    assert!(stays(0, 12.5, 2.5) && stays(1, -67.5, 30.0));
}

/// PyStormTracker's own path for `grid` and `quadratic` (vertex
/// connectivity): frames 0–2 of the DJF msl file, objects below 1000 hPa,
/// every feature point in PyStormTracker's order, with its raw value and
/// its object's area and moment ellipse, to the last bit
/// (`tests/fixtures/vertex/`, made by its `make_detections.py`).
#[test]
fn vertex_detections_equal_pystormtracker_bit_for_bit() {
    use pst_hodges::HodgesRefinement;
    let Some(path) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let source = pst_core::CanonicalSource::new(open_source(&path, "msl", &OpenOptions::default()).unwrap());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vertex");
    for (refinement, file) in [
        (HodgesRefinement::Grid, "pst_grid_thr100000_frames0-2.txt"),
        (HodgesRefinement::Quadratic, "pst_quadratic_thr100000_frames0-2.txt"),
    ] {
        let expected = std::fs::read_to_string(fixtures.join(file)).unwrap();
        let engine =
            HodgesTracker::default().refinement(refinement).threshold(100_000.0).for_source(source.info()).unwrap();
        for frame in 0..3 {
            // lon lat value raw_value area fitted_area major minor orientation
            let theirs: Vec<Vec<f64>> = expected
                .lines()
                .filter(|l| l.split_whitespace().next() == Some(&frame.to_string()))
                .map(|l| l.split_whitespace().skip(1).map(|x| x.parse().unwrap()).collect())
                .collect();
            let ours = engine.detector().detect(&source.read_frame(frame).unwrap(), frame).unwrap();
            let ours: Vec<Vec<f64>> = (0..ours.len())
                .map(|i| {
                    let mut row = vec![ours.lons()[i].rem_euclid(360.0), ours.lats()[i], ours.values()[i]];
                    row.extend(ours.columns().iter().map(|c| c.values[i]));
                    row
                })
                .collect();
            assert_eq!(ours, theirs, "{refinement}, frame {frame}");
        }
    }
}
