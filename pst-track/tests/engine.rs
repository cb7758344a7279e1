//! The engine runs a detector of one's own with any linker, under the
//! shipped contracts.
#![allow(clippy::unwrap_used)]

use pst_core::conformance::{check_detector, check_recovers_planted_storms, check_tracker};
use pst_core::{DetectionMode, Detector, Frame, FrameCenters, Grid, PlantedStorm, Result, SyntheticSeries};
use pst_link::SimpleLinker;
use pst_track::DetectLinkTracker;

/// The lowest grid point of each frame: a detector a user might write.
struct Lowest;

impl Detector for Lowest {
    fn detect(&self, frame: &Frame, index: usize) -> Result<FrameCenters> {
        let mut centers = FrameCenters::new(index, frame.time());
        let (mut best, mut at) = (f64::INFINITY, (0, 0));
        for ((i, j), &v) in frame.values().indexed_iter() {
            if v < best {
                (best, at) = (v, (i, j));
            }
        }
        centers.push(frame.grid().lat(at.0), frame.grid().lon(at.1), best, at);
        Ok(centers)
    }

    fn mode(&self) -> Option<DetectionMode> {
        Some(DetectionMode::Min)
    }
}

#[test]
fn a_detector_of_ones_own_conforms() {
    let series = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap())
        .frames(12)
        .storm(PlantedStorm::low(0, 12, -40.0, 350.0).moving(0.5, 2.5))
        .build()
        .unwrap();
    let tracker = |threads| DetectLinkTracker::new(Lowest, SimpleLinker::default()).threads(threads);
    check_detector(&Lowest, &series).unwrap();
    check_tracker(&|threads| Box::new(tracker(threads)), &series).unwrap();
    check_recovers_planted_storms(&tracker(2), &series, DetectionMode::Min, 1.3).unwrap();
}
