//! The Hodges tracker and linker on known storms, hand-made cases and
//! random centres.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use pst_core::{
    Calendar, DetectionMode, FieldSource, FrameCenters, Grid, Linker, PlantedStorm, SyntheticSeries, Timestamp,
    Tracker, Tracks, great_circle_angle_deg,
};
use pst_hodges::{Adaptive, AdaptiveSmoothness, DmaxZones, HodgesLinker, HodgesRefinement, HodgesTracker};

/// Frame `k` of a 6-hourly series from 2025-12-01.
fn time(k: usize) -> Timestamp {
    let start = Calendar::Standard.to_millis(Timestamp::from_ymdh(2025, 12, 1, 0).unwrap()).unwrap();
    Calendar::Standard.from_millis(start + k as i64 * 21_600_000)
}

fn frames(points: &[Vec<(f64, f64)>]) -> Vec<FrameCenters> {
    points
        .iter()
        .enumerate()
        .map(|(k, ps)| {
            let mut f = FrameCenters::new(k, time(k));
            for &(lat, lon) in ps {
                f.push(lat, lon, 99_000.0, (0, 0));
            }
            f
        })
        .collect()
}

fn positions(tracks: &Tracks) -> Vec<Vec<(f64, f64)>> {
    tracks.iter().map(|t| t.lats().iter().zip(t.lons()).map(|(&a, &b)| (a, b.rem_euclid(360.0))).collect()).collect()
}

/// Every planted low, through the seam, the dateline and the tropics, is
/// one track from its first frame to its last, on its true path.
#[test]
fn every_planted_storm_is_one_track() {
    let storms = [
        PlantedStorm::low(0, 12, 45.0, 10.0).moving(0.3, 2.0),
        PlantedStorm::low(2, 12, -50.0, 170.0).moving(-0.2, 2.5),
        PlantedStorm::low(0, 10, 60.0, 345.0).moving(0.0, 1.5),
        PlantedStorm::low(3, 10, 10.0, 250.0).moving(0.5, -1.0),
        PlantedStorm::low(1, 14, -30.0, 60.0).moving(0.8, 1.2),
    ];
    let mut builder = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap()).frames(16).background(1.0, 0.0);
    for s in storms {
        builder = builder.storm(s);
    }
    let series = builder.build().unwrap();
    // (Grid positions jump by whole grid steps after standing still, which
    // the adaptive smoothness rightly refuses, so grid refinement is not
    // expected to keep every storm in one piece.)
    for refinement in [HodgesRefinement::Bspline, HodgesRefinement::Quadratic] {
        let tracks = HodgesTracker::default().refinement(refinement).track(&series).unwrap();
        assert_eq!(tracks.len(), storms.len(), "{refinement}: {:?}", positions(&tracks));
        for storm in &storms {
            let (lat0, lon0) = storm.position(storm.first_frame);
            let track = tracks
                .iter()
                .find(|t| great_circle_angle_deg(t.lats()[0], t.lons()[0], lat0, lon0) < 2.0)
                .unwrap_or_else(|| panic!("{refinement}: no track starts near {lat0}, {lon0}"));
            assert_eq!(track.len(), storm.frames, "{refinement}");
            assert_eq!(track.start_time(), series.info().times[storm.first_frame]);
            let tolerance = 0.3;
            for (k, c) in track.centers().enumerate() {
                let (lat, lon) = storm.position(storm.first_frame + k);
                let off = great_circle_angle_deg(c.lat, c.lon, lat, lon);
                assert!(off < tolerance, "{refinement}: frame {k} {off}° from the planted centre");
            }
        }
    }
}

/// Two storms whose paths cross: nearest-neighbour initialisation swaps
/// them where they pass, and the exchange restores both straight paths.
#[test]
fn exchange_untangles_crossing_storms() {
    let a: Vec<(f64, f64)> = (0..6).map(|k| (38.0 + k as f64, 3.0 * k as f64)).collect();
    let b: Vec<(f64, f64)> = (0..6).map(|k| (43.0 - k as f64, 0.5 + 3.0 * k as f64)).collect();
    // B listed first, so the greedy start gives B the nearer continuation.
    let points: Vec<Vec<(f64, f64)>> = (0..6).map(|k| vec![b[k], a[k]]).collect();
    let tracks = HodgesLinker::default().link(&frames(&points), Calendar::Standard).unwrap();
    let mut got = positions(&tracks);
    got.sort_by(|x, y| x[0].0.total_cmp(&y[0].0));
    assert_eq!(got, vec![a, b]);
}

/// A storm missing from one frame becomes two tracks: TRACK splits real
/// sections at phantom points.
#[test]
fn a_missed_detection_splits_the_track() {
    let path: Vec<(f64, f64)> = (0..8).map(|k| (50.0, 10.0 + 2.0 * k as f64)).collect();
    let points: Vec<Vec<(f64, f64)>> = (0..8).map(|k| if k == 4 { vec![] } else { vec![path[k]] }).collect();
    let tracks = HodgesLinker::default().link(&frames(&points), Calendar::Standard).unwrap();
    assert_eq!(tracks.iter().map(|t| t.len()).collect::<Vec<_>>(), vec![4, 3]);
    // And tracks shorter than the minimum go.
    let tracks = HodgesLinker::default().min_track_points(4).link(&frames(&points), Calendar::Standard).unwrap();
    assert_eq!(tracks.len(), 1);
}

/// The tropical zone's 3° limit stops a storm moving 4° a step; 6.5°
/// everywhere lets it through; a link from the tropics to 25°N is allowed
/// the mean of the two zones' limits, 4.75°.
#[test]
fn dmax_zones_limit_links() {
    let tropical: Vec<Vec<(f64, f64)>> = (0..5).map(|k| vec![(5.0, 100.0 + 4.0 * k as f64)]).collect();
    let standard = HodgesLinker::default().link(&frames(&tropical), Calendar::Standard).unwrap();
    assert!(standard.is_empty());
    let global = HodgesLinker::default().zones(DmaxZones::none()).link(&frames(&tropical), Calendar::Standard).unwrap();
    assert_eq!(global.len(), 1);
    let crossing: Vec<Vec<(f64, f64)>> = (0..4).map(|k| vec![(11.5 + 4.5 * k as f64, 100.0)]).collect();
    let tracks = HodgesLinker::default().adaptive(Adaptive::Off).link(&frames(&crossing), Calendar::Standard).unwrap();
    // 11.5→16 is tropical (3°): broken; 16→20.5→25 have limits 4.75° and 6.5°.
    assert_eq!(tracks.iter().map(|t| t.len()).collect::<Vec<_>>(), vec![3]);
}

/// Adaptive smoothness: a fast storm (8° a step, limit 0) may not turn at
/// all; a slow one (1° a step, limit 1) may turn sharply.
#[test]
fn adaptive_smoothness_limits_turns_by_speed() {
    let turn = |step: f64| -> Vec<Vec<(f64, f64)>> {
        (0..5)
            .map(|k| {
                vec![if k <= 2 {
                    (40.0, 10.0 + step * k as f64)
                } else {
                    (40.0 + step * (k - 2) as f64 * 0.7, 10.0 + 2.0 * step)
                }]
            })
            .collect()
    };
    let linker = HodgesLinker::default().zones(DmaxZones::none()).dmax_deg(10.0);
    let slow = linker.link(&frames(&turn(1.0)), Calendar::Standard).unwrap();
    assert_eq!(slow.iter().map(|t| t.len()).collect::<Vec<_>>(), vec![5]);
    let fast = linker.link(&frames(&turn(7.0)), Calendar::Standard).unwrap();
    assert!(fast.iter().all(|t| t.len() < 5), "{:?}", positions(&fast));
    assert!((AdaptiveSmoothness::standard().phimax(7.0) - 1.0 / 30.0).abs() < 1e-12);
}

/// Random storms with spurious centres, linked in short segments.
fn random_frames() -> impl Strategy<Value = Vec<Vec<(f64, f64)>>> {
    let storm = (-70.0..70.0f64, 0.0..360.0f64, -1.5..1.5f64, -4.0..6.0f64);
    (prop::collection::vec(storm, 1..8), prop::collection::vec((-80.0..80.0f64, 0.0..360.0f64), 0..30), 4usize..20)
        .prop_map(|(storms, noise, n)| {
            (0..n)
                .map(|k| {
                    let mut ps: Vec<(f64, f64)> = storms
                        .iter()
                        .map(|&(lat, lon, dlat, dlon)| {
                            ((lat + dlat * k as f64).clamp(-85.0, 85.0), (lon + dlon * k as f64).rem_euclid(360.0))
                        })
                        .collect();
                    ps.extend(noise.iter().skip(k % 3).step_by(3).copied());
                    ps
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn links_respect_the_rules(points in random_frames(), segment in 4usize..9) {
        let detections = frames(&points);
        let linker = HodgesLinker::default().segment_frames(Some(segment));
        let tracks = linker.link(&detections, Calendar::Standard).unwrap();
        let zones = DmaxZones::standard();
        let mut used = std::collections::HashSet::new();
        for t in tracks.iter() {
            prop_assert!(t.len() >= 3);
            for (k, c) in t.centers().enumerate() {
                // Each centre is used once, by one track.
                prop_assert!(used.insert((c.time, c.lat.to_bits(), c.lon.rem_euclid(360.0).to_bits())));
                if k > 0 {
                    let p = t.center(k - 1).unwrap();
                    prop_assert!(c.time > p.time);
                    let limit = 0.5 * (zones.dmax_at(p.lat, p.lon).unwrap() + zones.dmax_at(c.lat, c.lon).unwrap());
                    prop_assert!(great_circle_angle_deg(p.lat, p.lon, c.lat, c.lon) <= limit + 1e-9);
                }
            }
        }
        // Segments in parallel: the same for any number of threads.
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let single = one.install(|| linker.link(&detections, Calendar::Standard)).unwrap();
        prop_assert_eq!(single, tracks);
    }
}

/// The detector reports minima of vorticity when asked, in the southern
/// hemisphere sense too: a maximum tracker finds planted highs only.
#[test]
fn maxima_are_tracked_when_asked() {
    let series = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap())
        .frames(6)
        .background(-1.0, 0.0)
        .storm(PlantedStorm::high(0, 6, 30.0, 40.0).moving(0.0, 2.0))
        .storm(PlantedStorm::low(0, 6, -30.0, 40.0).moving(0.0, 2.0))
        .build()
        .unwrap();
    let tracks = HodgesTracker::default().mode(DetectionMode::Max).track(&series).unwrap();
    assert_eq!(tracks.len(), 1);
    assert!(tracks.lats().iter().all(|&lat| (lat - 30.0).abs() < 0.2));
}

/// Missing input frames: with a 6-hour time step, a 12-hour gap is one
/// missing frame, and TRACK's parameter row for one missing frame (here a
/// dmax of 8° instead of 3°) applies to the link across it.
#[test]
fn missing_frames_select_their_parameters() {
    // A storm moving 2.5° a step; the 12 UTC frame of day 2 is missing, so
    // it moves 5° across the gap.
    let steps = [0usize, 1, 2, 3, 5, 6, 7];
    let points: Vec<FrameCenters> = steps
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let mut f = FrameCenters::new(k, time(s));
            f.push(50.0, 10.0 + 2.5 * s as f64, 99_000.0, (0, 0));
            f
        })
        .collect();
    let linker = HodgesLinker::default().zones(DmaxZones::none()).adaptive(Adaptive::Off).time_step_ms(21_600_000);
    let strict = linker.clone().missing_frame_parameters(vec![(3.0, 1.0)]);
    let lengths =
        |l: &HodgesLinker| l.link(&points, Calendar::Standard).unwrap().iter().map(|t| t.len()).collect::<Vec<_>>();
    assert_eq!(lengths(&strict), vec![4, 3]);
    let tolerant = linker.clone().missing_frame_parameters(vec![(3.0, 1.0), (8.0, 1.0)]);
    assert_eq!(lengths(&tolerant), vec![7]);
    // Several rows need the time step, and the zones and adaptive table off.
    let unset = HodgesLinker::default().zones(DmaxZones::none()).adaptive(Adaptive::Off);
    let rows = unset.missing_frame_parameters(vec![(3.0, 1.0), (8.0, 1.0)]);
    assert!(rows.link(&points, Calendar::Standard).is_err());
    let zoned = HodgesLinker::default().time_step_ms(21_600_000);
    assert!(zoned.missing_frame_parameters(vec![(3.0, 1.0), (8.0, 1.0)]).link(&points, Calendar::Standard).is_err());
}

/// The shipped contracts: the linker streams what it links at once (taking
/// tracks after every frame, segments of a few frames), uses every centre
/// once; the tracker's output does not depend on threads, follows the sink
/// protocol and honours cancellation; the detector sees one frame at a
/// time; the planted lows come back whole.
#[test]
fn the_hodges_parts_conform() {
    use pst_core::conformance::{
        check_detector, check_linker, check_recovers_planted_storms, check_tracker, random_frames,
    };
    for (seed, segment) in [(1, 4), (2, 5), (3, 7), (4, 62)] {
        let linker = HodgesLinker::default().segment_frames(Some(segment));
        check_linker(&linker, &random_frames(seed, 20, 40), Calendar::Standard).unwrap();
    }
    let storms = [
        PlantedStorm::low(0, 12, 45.0, 10.0).moving(0.3, 2.0),
        PlantedStorm::low(2, 12, -50.0, 170.0).moving(-0.2, 2.5),
        PlantedStorm::low(1, 14, -30.0, 60.0).moving(0.8, 1.2),
        PlantedStorm::high(0, 10, 20.0, 300.0).moving(0.0, 1.0),
    ];
    let mut builder = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap()).frames(16).background(1.0, 0.0);
    for s in storms {
        builder = builder.storm(s);
    }
    let series = builder.noise(0.5, 7).build().unwrap();
    let tracker = || HodgesTracker::default().linker(HodgesLinker::default().segment_frames(Some(6)));
    check_tracker(&|threads| Box::new(tracker().threads(threads)), &series).unwrap();
    let engine = tracker().for_source(series.info()).unwrap();
    check_detector(engine.detector(), &series).unwrap();
    check_recovers_planted_storms(&tracker(), &series, DetectionMode::Min, 0.3).unwrap();
}
