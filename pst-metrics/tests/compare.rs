//! Comparisons of the shared track files, against what PyStormTracker
//! 0.8.0's `stormtracker compare` reports for them.
#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;
use pst_core::{Timestamp, Tracks, TracksBuilder};
use pst_io::read_tracks;
use pst_metrics::{CompareConfig, Matching, compare_tracks};

fn reference(name: &str) -> Option<Tracks> {
    let path = pst_testkit::data_file(&format!("../reference/pst-0.8.0-output/{name}"))?;
    Some(read_tracks(&path, None).unwrap())
}

fn config(matching: Matching) -> CompareConfig {
    CompareConfig::default().matching(matching)
}

/// PyStormTracker 0.8.0's Simple output against v0.0.2's: the figures its
/// own `compare` prints for the three matchings.
#[test]
fn simple_0_8_0_against_v0_0_2_as_pystormtracker_reports() {
    let Some(new) = reference("era5_msl_djf_simple.imilast.txt") else { return };
    let Some(path) = pst_testkit::data_file("tracks/era5_msl_2025-2026_djf_2.5x2.5_v0.0.2_imilast.txt") else {
        return;
    };
    let old = read_tracks(&path, None).unwrap();
    for matching in [Matching::Nearest, Matching::MutualNearest, Matching::GlobalAssignment] {
        let c = compare_tracks(&new, &old, &config(matching)).unwrap();
        assert_eq!((c.reference_count, c.candidate_count), (10_340, 10_338));
        assert_eq!(c.matches.len(), 10_337, "{matching}");
        assert_eq!((c.unmatched_reference_ids.len(), c.unmatched_candidate_ids.len()), (3, 1), "{matching}");
        assert_eq!(c.topology_identical_count(), 10_334, "{matching}");
    }
    let c = compare_tracks(&new, &old, &config(Matching::GlobalAssignment)).unwrap();
    assert!((c.f1() - 0.999_806_557_694_167_7).abs() < 1e-15, "{}", c.f1());
    assert!(c.summary().contains("F1: 100.0%"), "{}", c.summary());
    // A set against itself.
    let same = compare_tracks(&new, &new, &config(Matching::GlobalAssignment)).unwrap();
    assert_eq!((same.f1(), same.topology_identical_count()), (1.0, 10_340));
}

/// PyStormTracker's Hodges tracks against its Simple tracks: 765 pairs out
/// of 2,804 × 10,340, every pair the same as its assignment's.
#[test]
fn global_assignment_reproduces_pystormtracker_pairs() {
    let Some(hodges) = reference("era5_msl_djf_hodges_t5-42_bspline.imilast.txt") else { return };
    let Some(simple) = reference("era5_msl_djf_simple.imilast.txt") else { return };
    let c = compare_tracks(&hodges, &simple, &config(Matching::GlobalAssignment)).unwrap();
    let expected = include_str!("fixtures/hodges_vs_simple_djf_global_assignment.txt");
    let pairs: Vec<(u64, u64, f64, f64)> = expected
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap(), f[3].parse().unwrap())
        })
        .collect();
    assert_eq!(c.matches.len(), pairs.len());
    for (m, (r, cand, km, overlap)) in c.matches.iter().zip(&pairs) {
        assert_eq!((m.reference_id, m.candidate_id), (*r, *cand));
        assert!((m.mean_separation_km - km).abs() < 1e-6 && (m.overlap_fraction - overlap).abs() < 1e-9);
    }
    assert_eq!((c.unmatched_candidate_ids.len(), c.unmatched_reference_ids.len()), (9_575, 2_039));
    assert_eq!(c.topology_identical_count(), 65);
}

fn one_track(points: &[(i64, f64, f64)]) -> Tracks {
    let mut b = TracksBuilder::new(["msl"]);
    b.begin_track(1);
    for &(h, lat, lon) in points {
        let t = pst_core::Calendar::Standard.from_millis(h * 3_600_000);
        b.push(t, lat, lon, &[100_000.0]).unwrap();
    }
    b.end_track().unwrap();
    b.finish().unwrap()
}

#[test]
fn eligibility_rules() {
    let r = one_track(&[(0, 40.0, 0.0), (6, 40.0, 1.0), (12, 40.0, 2.0), (18, 40.0, 3.0)]);
    // Shares 2 of 4 + 2 points: overlap 2·2/6 = 0.67 ≥ 0.6.
    let c = one_track(&[(12, 40.0, 2.5), (18, 40.0, 3.5)]);
    assert_eq!(compare_tracks(&r, &c, &config(Matching::Nearest)).unwrap().matches.len(), 1);
    // Shares 1 of 4 + 2: 0.33 < 0.6.
    let c = one_track(&[(18, 40.0, 3.0), (24, 40.0, 4.0)]);
    assert!(compare_tracks(&r, &c, &config(Matching::Nearest)).unwrap().matches.is_empty());
    // Too far: 3° of latitude away.
    let c = one_track(&[(0, 43.0, 0.0), (6, 43.0, 1.0), (12, 43.0, 2.0), (18, 43.0, 3.0)]);
    assert!(compare_tracks(&r, &c, &config(Matching::Nearest)).unwrap().matches.is_empty());
    let e = compare_tracks(&r, &c, &CompareConfig::default().min_overlap_fraction(1.5));
    assert!(e.is_err());
    let _ = Timestamp::from_ymdh(2025, 1, 1, 0).unwrap();
}

proptest! {
    // These cases read the shared data: a missing folder fails every case
    // under PST_REQUIRE_DATA, which must not leave a regressions file.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(40) })]

    /// Global assignment is one-to-one and never pairs fewer tracks than
    /// mutual-nearest matching (whose pairs are also one-to-one).
    #[test]
    fn assignment_is_one_to_one_and_maximal(
        refs in prop::collection::vec((0i64..8, -60.0..60.0f64, 0.0..20.0f64), 1..12),
        cands in prop::collection::vec((0i64..8, -60.0..60.0f64, 0.0..20.0f64), 1..12),
    ) {
        let build = |spec: &[(i64, f64, f64)]| {
            let mut b = TracksBuilder::new(["msl"]);
            for (k, &(start, lat, lon)) in spec.iter().enumerate() {
                b.begin_track(k as u64 + 1);
                for h in 0..4 {
                    let t = pst_core::Calendar::Standard.from_millis((start + h) * 6 * 3_600_000);
                    b.push(t, lat, lon + h as f64 * 0.5, &[0.0]).unwrap();
                }
                b.end_track().unwrap();
            }
            b.finish().unwrap()
        };
        let (r, c) = (build(&refs), build(&cands));
        let global = compare_tracks(&r, &c, &config(Matching::GlobalAssignment)).unwrap();
        let mutual = compare_tracks(&r, &c, &config(Matching::MutualNearest)).unwrap();
        let mut used: Vec<u64> = global.matches.iter().map(|m| m.candidate_id).collect();
        used.sort_unstable();
        used.dedup();
        prop_assert_eq!(used.len(), global.matches.len());
        prop_assert!(global.matches.len() >= mutual.matches.len());
        prop_assert!(global.f1() <= 1.0);
    }
}
