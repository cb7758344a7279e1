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

/// The same frames on their grid rolled by half a turn (longitudes from
/// −180° through 177.5°): the detector reads the columns through its table
/// of longitude order (from 0°) rather than directly, and finds the same
/// feature points in the same order: latitudes and values to the last bit,
/// longitudes to the rounding of moving them between the conventions.
#[test]
fn a_grid_rolled_in_longitude_gives_the_same_detections() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let source = open_source(fixtures.join("pst_t5-42_frames.nc"), "msl", &OpenOptions::default()).unwrap();
    let info = source.info();
    let grid = info.grid.clone();
    let half = grid.nlon() / 2;
    let mut rolled_lons: Vec<f64> = grid.lons().iter().map(|&l| if l >= 180.0 { l - 360.0 } else { l }).collect();
    rolled_lons.rotate_left(half);
    let rolled_grid = std::sync::Arc::new(pst_core::Grid::new(grid.lats().to_vec(), rolled_lons).unwrap());
    assert_eq!(rolled_grid.lons()[0], -180.0);
    let rolled_info = pst_core::SourceInfo { grid: rolled_grid.clone(), ..info.clone() };
    let engine = HodgesTracker::default().for_source(info).unwrap();
    let rolled_engine = HodgesTracker::default().for_source(&rolled_info).unwrap();
    for k in 0..info.times.len() {
        let frame = source.read_frame(k).unwrap();
        let mut values = frame.values().clone();
        for mut row in values.rows_mut() {
            row.as_slice_mut().unwrap().rotate_left(half);
        }
        let rolled = pst_core::Frame::new(rolled_grid.clone(), frame.time(), values).unwrap();
        let ours = engine.detector().detect(&frame, k).unwrap();
        let theirs = rolled_engine.detector().detect(&rolled, k).unwrap();
        assert!(ours.len() > 10, "frame {k}: {} feature points", ours.len());
        assert_eq!(ours.lats(), theirs.lats(), "frame {k}");
        assert_eq!(ours.values(), theirs.values(), "frame {k}");
        for (i, (a, b)) in ours.lons().iter().zip(theirs.lons()).enumerate() {
            let apart = (a - b).rem_euclid(360.0);
            assert!(apart.min(360.0 - apart) < 1e-9, "frame {k}, feature {i}: {a} against {b}");
        }
    }
}
