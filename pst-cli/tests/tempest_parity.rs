//! TempestExtremes' DetectNodes itself: its candidate sets on the shared DJF
//! files (`benches/tempest/run_tempest.sh`, fixtures in
//! `tests/fixtures/tempestextremes/`), against `stormtracker track
//! --candidates neighbours` with the same criteria: the same grid points in
//! every frame.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::Command;

/// Grid points as (time `YYYY-MM-DDTHH`, latitude and longitude in
/// hundredths of a degree, longitude in [0, 360)).
type Nodes = BTreeMap<String, BTreeSet<(i64, i64)>>;

fn key(lat: f64, lon: f64) -> (i64, i64) {
    ((lat * 100.0).round() as i64, (lon.rem_euclid(360.0) * 100.0).round() as i64)
}

fn tempest_nodes(name: &str) -> Nodes {
    let path = format!("{}/tests/fixtures/tempestextremes/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    let mut nodes = Nodes::new();
    let mut time = String::new();
    for line in text.lines() {
        let fields: Vec<f64> = line.split_whitespace().map(|f| f.parse().unwrap()).collect();
        if line.starts_with('\t') {
            nodes.entry(time.clone()).or_default().insert(key(fields[3], fields[2]));
        } else {
            time = format!("{:04}-{:02}-{:02}T{:02}", fields[0], fields[1], fields[2], fields[4]);
            nodes.entry(time.clone()).or_default();
        }
    }
    nodes
}

/// The tracks of `stormtracker track --candidates neighbours` with `args`,
/// through CSV (which keeps every column, and singletons are tracks too).
fn track_with_candidates(input: &str, variable: &str, args: &[&str]) -> pst::Tracks {
    let name: String = args.join("_").chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let dir = pst_testkit::ScratchDir::new(&format!("tempest-{name}"));
    let out = dir.join("tracks.csv");
    let output = Command::new(env!("CARGO_BIN_EXE_stormtracker"))
        .args([&["track", "-i", input, "--variable", variable, "--candidates", "neighbours"], args].concat())
        .args(["--no-progress", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    pst::read_tracks(&out, None).unwrap()
}

/// Every centre of `stormtracker track` with `args` (CSV: singletons are
/// tracks too).
fn pst_nodes(input: &str, variable: &str, args: &[&str]) -> Nodes {
    let tracks = track_with_candidates(input, variable, args);
    let mut nodes = Nodes::new();
    for k in 0..tracks.num_points() {
        let time = tracks.times()[k].to_string();
        nodes.entry(time[..13].to_string()).or_default().insert(key(tracks.lats()[k], tracks.lons()[k]));
    }
    nodes
}

fn assert_same(tempest: &Nodes, pst: &Nodes, expected_count: usize) {
    let count: usize = tempest.values().map(BTreeSet::len).sum();
    assert_eq!(count, expected_count);
    for (time, nodes) in tempest {
        let ours = pst.get(time).cloned().unwrap_or_default();
        assert_eq!(
            &ours,
            nodes,
            "{time}: TempestExtremes only {:?}, pst only {:?}",
            nodes.difference(&ours).collect::<Vec<_>>(),
            ours.difference(nodes).collect::<Vec<_>>()
        );
    }
    let extra: usize = pst.iter().filter(|(t, _)| !tempest.contains_key(*t)).map(|(_, n)| n.len()).sum();
    assert_eq!(extra, 0, "pst has centres at times TempestExtremes has none");
}

#[test]
fn detect_nodes_candidates_and_criteria_on_djf_msl() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let input = input.to_str().unwrap();
    let recipe = pst_nodes(input, "msl", &["--closed-contour", "msl,200,5.5,0", "--merge-dist", "6"]);
    assert_same(&tempest_nodes("djf_msl_cc200_merge6.nodes.gz"), &recipe, 11_223);
    let other = pst_nodes(
        input,
        "msl",
        &["--closed-contour", "msl,100,4,1", "--threshold", "msl,<=,100000,2", "--merge-dist", "4", "--diag-connect"],
    );
    assert_same(&tempest_nodes("djf_msl_cc100_thr_merge4_diag.nodes.gz"), &other, 5_669);
}

/// Criteria on another variable, in another file: msl minima whose 850 hPa
/// vorticity has a closed contour within 2° and reaches 5e-5 s⁻¹ within 3°.
#[test]
fn detect_nodes_criteria_on_another_file() {
    let Some(msl) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let Some(vo) = pst_testkit::data_file("era5/era5_vo850_2025-2026_djf_2.5x2.5.nc") else { return };
    let ours = pst_nodes(
        msl.to_str().unwrap(),
        "msl",
        &[
            "--closed-contour",
            "msl,200,5.5,0",
            "--closed-contour",
            "vo(850),-1e-5,4,2",
            "--threshold",
            "vo(850),>=,5e-5,3",
            "--merge-dist",
            "6",
            "--criteria-input",
            vo.to_str().unwrap(),
        ],
    );
    assert_same(&tempest_nodes("djf_msl_cc200_vo850_cc_thr_merge6.nodes.gz"), &ours, 4_191);
}

/// Ullrich et al.'s (2021) whole DetectNodes recipe, warm core included
/// (`_DIFF(zg(250hPa),zg(500hPa)),-6.0,6.5,1.0`), on the GFS forecast of
/// Hurricane Jova: pst reading the GRIB file finds the nodes DetectNodes
/// finds in it made netCDF by ecCodes, and only 4 of the 27 pressure
/// minima have the warm core, Jova (17.5°N 105°W) among them.
#[test]
fn detect_nodes_warm_core_on_gfs() {
    let Some(gfs) = pst_testkit::data_file("grib/gfs.grb") else { return };
    let gfs = gfs.to_str().unwrap();
    let pressure = ["--closed-contour", "prmsl,200,5.5,0", "--merge-dist", "6"];
    let warm_core = ["--closed-contour", "_DIFF(gh(250),gh(500)),-6,6.5,1"];
    let ours = pst_nodes(gfs, "prmsl", &[&pressure[..], &warm_core].concat());
    assert_same(&tempest_nodes("gfs_prmsl_tc_recipe_warm_core.nodes.gz"), &ours, 4);
    assert!(ours.values().any(|nodes| nodes.contains(&key(17.5, 255.0))), "{ours:?}");
    let without = pst_nodes(gfs, "prmsl", &pressure);
    assert_eq!(without.values().map(BTreeSet::len).sum::<usize>(), 27);
}

/// Maxima, with a negative closed-contour change; and a merge decided at
/// exactly the merge distance (five degrees of latitude), where
/// TempestExtremes' chord test is followed.
#[test]
fn detect_nodes_on_vorticity() {
    let Some(input) = pst_testkit::data_file("era5/era5_vo850_2025-2026_djf_2.5x2.5.nc") else { return };
    let ours = pst_nodes(
        input.to_str().unwrap(),
        "vo",
        &["-m", "max", "--closed-contour", "vo,-2e-5,5", "--merge-dist", "5", "-n", "40"],
    );
    let tempest = tempest_nodes("djf_vo850_cc2e-5_merge5_40frames.nodes.gz");
    let count = tempest.values().map(BTreeSet::len).sum();
    assert_same(&tempest, &ours, count);
    assert!(count > 10_000, "{count}");
}

/// Tracks as point sequences (time `YYYY-MM-DDTHH`, latitude and longitude
/// in hundredths of a degree), in file order.
fn paths(tracks: &pst::Tracks) -> Vec<Vec<(String, (i64, i64))>> {
    tracks
        .iter()
        .map(|t| {
            (0..t.len()).map(|k| (t.times()[k].to_string()[..13].to_string(), key(t.lats()[k], t.lons()[k]))).collect()
        })
        .collect()
}

/// `stormtracker track --candidates neighbours --linker stitch` with
/// `args`, against StitchNodes' paths in `fixture`: the same tracks, point
/// for point, in the same order (so F1 is 1).
fn assert_same_paths(input: &str, variable: &str, args: &[&str], fixture: &str, expected_count: usize) {
    let path = format!("{}/tests/fixtures/tempestextremes/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    let dir = pst_testkit::ScratchDir::new(&format!("stitch-{fixture}"));
    let plain = dir.join("tracks.txt");
    std::fs::write(&plain, text).unwrap();
    let tempest = pst::read_tracks(&plain, None).unwrap();
    assert_eq!(tempest.len(), expected_count);

    let ours = track_with_candidates(input, variable, &[&["--linker", "stitch"], args].concat());

    let (theirs, mine) = (paths(&tempest), paths(&ours));
    let differing = theirs.iter().zip(&mine).filter(|(a, b)| a != b).count();
    assert_eq!(
        (mine.len(), differing),
        (theirs.len(), 0),
        "{fixture}: pst has {} tracks, StitchNodes {}; first difference {:?}",
        mine.len(),
        theirs.len(),
        theirs.iter().zip(&mine).find(|(a, b)| a != b)
    );
}

/// StitchNodes' paths on DetectNodes' nodes: Ullrich et al.'s (2021)
/// recipe with its path filters, and every path of two other runs (gaps
/// of one frame; vorticity maxima).
#[test]
fn stitch_nodes_paths() {
    let Some(msl) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let Some(vo) = pst_testkit::data_file("era5/era5_vo850_2025-2026_djf_2.5x2.5.nc") else { return };
    let (msl, vo) = (msl.to_str().unwrap(), vo.to_str().unwrap());
    let detect = ["--closed-contour", "msl,200,5.5,0", "--merge-dist", "6"];
    let recipe = [
        "--range",
        "8",
        "--max-gap",
        "24h",
        "--min-duration",
        "54h",
        "--min-endpoint-dist",
        "8",
        "--track-threshold",
        "lat,<=,50,10",
        "--track-threshold",
        "lat,>=,-50,10",
    ];
    assert_same_paths(msl, "msl", &[&detect[..], &recipe].concat(), "djf_msl_cc200_merge6_tc_recipe.paths.gz", 112);
    let gap = ["--range", "5", "--max-gap", "1"];
    assert_same_paths(msl, "msl", &[&detect[..], &gap].concat(), "djf_msl_cc200_merge6_range5_gap1.paths.gz", 2_098);
    let vorticity = ["-m", "max", "--closed-contour", "vo,-2e-5,5", "--merge-dist", "5", "-n", "40", "--range", "4"];
    assert_same_paths(vo, "vo", &vorticity, "djf_vo850_cc2e-5_merge5_40frames_range4.paths.gz", 3_515);
}

/// DetectNodes' `--outputcmd` and `--attach`: at every node of December,
/// the centre's value, the largest within 5.3° and the mean within 3.7°.
#[test]
fn output_commands_as_attached_fields() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let path = format!(
        "{}/tests/fixtures/tempestextremes/dec_msl_cc200_merge6_outputcmd.nodes.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    let mut tempest: BTreeMap<(String, (i64, i64)), [f64; 3]> = BTreeMap::new();
    let mut time = String::new();
    for line in text.lines() {
        let fields: Vec<f64> = line.split_whitespace().map(|f| f.parse().unwrap()).collect();
        if line.starts_with('\t') {
            tempest.insert((time.clone(), key(fields[3], fields[2])), [fields[4], fields[5], fields[6]]);
        } else {
            time = format!("{:04}-{:02}-{:02}T{:02}", fields[0], fields[1], fields[2], fields[4]);
        }
    }
    let tracks = track_with_candidates(
        input.to_str().unwrap(),
        "msl",
        &[
            "--closed-contour",
            "msl,200,5.5,0",
            "--merge-dist",
            "6",
            "-n",
            "124",
            "--attach",
            "msl,min,0",
            "--attach",
            "msl,max,5.3",
            "--attach",
            "msl,avg,3.7",
        ],
    );
    let columns = ["msl_min", "msl_max_5.3deg", "msl_avg_3.7deg"].map(|c| tracks.variable(c).unwrap());
    assert_eq!(tracks.num_points(), tempest.len());
    for k in 0..tracks.num_points() {
        let node = (tracks.times()[k].to_string()[..13].to_string(), key(tracks.lats()[k], tracks.lons()[k]));
        let theirs = tempest.get(&node).unwrap_or_else(|| panic!("{node:?} is no node of DetectNodes"));
        for (column, (ours, &theirs)) in columns.iter().map(|c| c[k]).zip(theirs).enumerate() {
            // DetectNodes prints seven significant digits, and sums its
            // means in single precision (near a pole, 170 points of 1e5 Pa
            // lose a few tenths of a pascal).
            let tolerance = if column == 2 { 1e-5 } else { 1e-6 };
            assert!(
                (ours - theirs).abs() <= tolerance * theirs.abs(),
                "{node:?} column {column}: {ours} against {theirs}"
            );
        }
    }
}
