//! GRIB1 and GRIB2 on the shared samples, against values printed by ecCodes.
#![allow(clippy::unwrap_used, clippy::panic)] // Test helpers outside #[test] functions.

use proptest::prelude::*;
use pst_core::{DetectionMode, Detector, FieldSource};
use pst_detect::SimpleDetector;
use pst_io::{GribSource, OpenOptions, open_source};

/// (min, max, mean) of the finite values.
fn stats(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max, v.iter().sum::<f64>() / v.len() as f64)
}

fn open(rel: &str, variable: &str, options: &OpenOptions) -> Option<GribSource> {
    let path = pst_testkit::data_file(rel)?;
    Some(GribSource::open(&path, variable, options).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

#[test]
fn gfs_grib2_file_prmsl_matches_eccodes() {
    let Some(src) = open("grib/gfs.grb", "msl", &OpenOptions::default()) else { return };
    assert_eq!(src.info().variable, "prmsl");
    assert_eq!(src.info().grid.shape(), (73, 144));
    assert!(src.info().grid.is_periodic());
    assert_eq!(src.info().times[0].to_string(), "2011-10-11T00:00:00");
    let f = src.read_frame(0).unwrap();
    let (min, max, mean) = stats(f.values().iter().copied());
    // ecCodes: 95452.05, 103721.57, 100887.1043131659.
    assert_eq!((min, max), (95452.05, 103721.57));
    assert!((mean - 100_887.104_313_165_9).abs() < 1e-6);
    assert_eq!((f.grid().lat(0), f.grid().lon(0)), (90.0, 0.0));
}

#[test]
fn gfs_grib2_prmsl_and_levels_match_eccodes() {
    let Some(src) = open("grib/gfs.t12z.pgrbf120.2p5deg.grib2", "prmsl", &OpenOptions::default()) else { return };
    let (min, max, _) = stats(src.read_frame(0).unwrap().values().iter().copied());
    assert_eq!((min, max), (96_473.900_000_000_01, 105_155.77));
    // v at 850 hPa lives in a multi-field message (u and v together).
    let Some(path) = pst_testkit::data_file("grib/gfs.t12z.pgrbf120.2p5deg.grib2") else { return };
    let e = GribSource::open(&path, "v", &OpenOptions::default()).unwrap_err();
    assert!(e.to_string().contains("--level"), "{e}");
    let v850 = GribSource::open(&path, "v", &OpenOptions::default().level(850.0)).unwrap();
    let (min, max, _) = stats(v850.read_frame(0).unwrap().values().iter().copied());
    assert_eq!((min, max), (-30.26, 42.97));
    let e = GribSource::open(&path, "v", &OpenOptions::default().level(849.0)).unwrap_err();
    assert!(e.to_string().contains("850"), "{e}");
}

#[test]
fn ecmwf_samples_match_eccodes() {
    let Some(src) = open("grib/regular_ll_msl.grib", "msl", &OpenOptions::default()) else { return };
    let (min, max, mean) = stats(src.read_frame(0).unwrap().values().iter().copied());
    assert_eq!((min, max), (95224.0, 103_498.0));
    assert!((mean - 101_089.223_634_131_37).abs() < 1e-6);
    // GRIB1 (ECMWF table 128), ensemble members on pressure levels.
    let Some(path) = pst_testkit::data_file("grib/era5-levels-members.grib") else { return };
    let e = GribSource::open(&path, "t", &OpenOptions::default().level(850.0)).unwrap_err();
    assert!(e.to_string().contains("ensemble members") && e.to_string().contains("--member"), "{e}");
    let t850 = GribSource::open(&path, "t", &OpenOptions::default().level(850.0).member(3)).unwrap();
    assert_eq!(t850.len(), 4);
    // ecCodes, member 3 at its four dates.
    let expected = [
        (237.941_085_815_429_7, 303.646_163_940_429_7),
        (237.498_367_309_570_3, 304.238_601_684_570_3),
        (236.582_519_531_25, 298.979_003_906_25),
        (238.612_945_556_640_63, 304.698_883_056_640_6),
    ];
    for (k, (lo, hi)) in expected.into_iter().enumerate() {
        let (min, max, _) = stats(t850.read_frame(k).unwrap().values().iter().copied());
        assert_eq!((min, max), (lo, hi), "frame {k}");
    }
    let e = GribSource::open(&path, "t", &OpenOptions::default().level(850.0).member(99)).unwrap_err();
    assert!(e.to_string().contains("no member 99"), "{e}");
    let e = GribSource::open(&path, "msl", &OpenOptions::default()).unwrap_err();
    assert!(e.to_string().contains("`msl` not found") && e.to_string().contains("era5-levels-members.grib"), "{e}");
}

#[test]
fn time_series_across_messages() {
    // Several steps of u at 500 hPa, ordered by valid time.
    let Some(path) = pst_testkit::data_file("grib/multi_param_on_multi_dims.grib") else { return };
    let options = OpenOptions::default().level(500.0);
    let src = GribSource::open(&path, "u", &options).unwrap();
    let e = GribSource::open(&path, "u", &options.clone().member(1)).unwrap_err();
    assert!(e.to_string().contains("no ensemble members"), "{e}");
    assert!(src.len() >= 2, "{}", src.len());
    assert!(src.info().times.windows(2).all(|w| w[0] < w[1]));
    // ecCodes, the first step (GRIB1).
    let (min, max, _) = stats(src.read_frame(0).unwrap().values().iter().copied());
    assert_eq!((min, max), (-37.473_205_566_406_25, 48.526_794_433_593_75));
    let (min, max, _) = stats(src.read_frame(1).unwrap().values().iter().copied());
    assert_eq!((min, max), (-31.095_748_901_367_188, 58.904_251_098_632_81));
}

#[test]
fn the_jova_low_is_found_in_gfs() {
    // open_source picks GRIB by extension; the deepest tropical low of the
    // GFS 72 h forecast sits off Mexico near Hurricane Jova (2011-10-11).
    let Some(path) = pst_testkit::data_file("grib/gfs.grb") else { return };
    let src = open_source(&path, "prmsl", &OpenOptions::default()).unwrap();
    let frame = src.read_frame(0).unwrap();
    let centres = SimpleDetector::new(DetectionMode::Min).detect(&frame, 0).unwrap();
    let tropical = (0..centres.len())
        .filter(|&k| centres.lats()[k].abs() < 30.0)
        .min_by(|&a, &b| centres.values()[a].total_cmp(&centres.values()[b]))
        .unwrap();
    let (lat, lon, p) = (centres.lats()[tropical], centres.lons()[tropical], centres.values()[tropical]);
    assert!((10.0..25.0).contains(&lat) && (245.0..265.0).contains(&lon), "({lat}, {lon})");
    assert!(p < 100_000.0, "{p}");
}

proptest! {
    // These cases read the shared data: a missing folder fails every case
    // under PST_REQUIRE_DATA, which must not leave a regressions file.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(60) })]

    /// Corrupt GRIB files give errors: no panic, no hang.
    #[test]
    fn grib_reader_survives_mutated_files(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let Some(path) = pst_testkit::data_file("grib/regular_ll_msl.grib") else { return Ok(()) };
        let mut bytes = std::fs::read(&path).unwrap();
        pst_testkit::mutate(&mut bytes, &flips, cut);
        let dir = pst_testkit::ScratchDir::new("grib-fuzz");
        let mutated = dir.join("mutated.grib");
        std::fs::write(&mutated, &bytes).unwrap();
        if let Ok(src) = GribSource::open(&mutated, "msl", &OpenOptions::default()) {
            let _ = src.read_frame(0);
        }
    }
}

/// The GRIB fixtures written by ecCodes (`fixtures/grib/make.py`)
/// and what ecCodes reads back from them.
fn gaussian_fixture(name: &str) -> (std::path::PathBuf, serde_json::Value) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grib");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ecCodes.json")).unwrap()).unwrap();
    (dir.join(name), summary[name].clone())
}

#[test]
fn regular_gaussian_grids_in_both_editions_match_eccodes() {
    for name in ["n32_msl.grib1", "n32_msl_south_first.grib2"] {
        let (path, expected) = gaussian_fixture(name);
        let src = GribSource::open(&path, "msl", &OpenOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(src.info().grid.shape(), (64, 128), "{name}");
        assert_eq!(src.len(), 2);
        assert!(src.info().grid.is_periodic());
        assert_eq!(src.info().grid.lon(1), 2.8125, "{name}: exactly 360/128");
        for (k, message) in expected["messages"].as_array().unwrap().iter().enumerate() {
            // Latitudes: ecCodes' own Gauss–Legendre roots, in stored order.
            let theirs: Vec<f64> =
                message["latitudes"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            for (ours, theirs) in src.info().grid.lats().iter().zip(&theirs) {
                assert!((ours - theirs).abs() < 1e-12, "{name}: latitude {ours} vs ecCodes {theirs}");
            }
            let frame = src.read_frame(k).unwrap();
            let (min, max, mean) = stats(frame.values().iter().copied());
            assert_eq!((min, max), (message["min"].as_f64().unwrap(), message["max"].as_f64().unwrap()), "{name}");
            assert!((mean - message["mean"].as_f64().unwrap()).abs() < 1e-6, "{name}");
            let first: Vec<f64> = frame.values().iter().take(5).copied().collect();
            let theirs: Vec<f64> =
                message["first_values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            assert_eq!(first, theirs, "{name}: the first values in stored order");
        }
    }
}

#[test]
fn reduced_gaussian_grids_are_refused_clearly() {
    let (path, _) = gaussian_fixture("n32_reduced.grib2");
    let e = GribSource::open(&path, "msl", &OpenOptions::default()).unwrap_err().to_string();
    assert!(e.contains("n32_reduced.grib2") && e.contains("reduced Gaussian"), "{e}");
}

/// JPEG 2000 packing (GRIB2 template 5.40) decodes with the
/// `grib-jpeg2000` feature and is refused clearly without it.
#[test]
fn jpeg2000_packing() {
    let (path, expected) = gaussian_fixture("ll2p5_msl_jpeg.grib2");
    let opened = GribSource::open(&path, "msl", &OpenOptions::default());
    if !cfg!(feature = "grib-jpeg2000") {
        let e = opened.unwrap_err().to_string();
        assert!(e.contains("JPEG 2000") && e.contains("grib-jpeg2000") && e.contains("ll2p5_msl_jpeg"), "{e}");
        return;
    }
    let src = opened.unwrap();
    assert_eq!(src.info().grid.shape(), (73, 144));
    for (k, message) in expected["messages"].as_array().unwrap().iter().enumerate() {
        let frame = src.read_frame(k).unwrap();
        let (min, max, mean) = stats(frame.values().iter().copied());
        assert_eq!((min, max), (message["min"].as_f64().unwrap(), message["max"].as_f64().unwrap()));
        assert!((mean - message["mean"].as_f64().unwrap()).abs() < 1e-6);
    }
}
