//! PyStormTracker 0.8.0's command lines on the first 40 DJF frames, against
//! its own outputs (`tests/fixtures/pst-0.8.0/`, with the commands):
//! Hodges' `grid` and `quadratic` detection path, regional (limited-area)
//! tracking with its cosine-transform band-pass, `--taper-points`, and
//! detection on polar-stereographic planes.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pst-0.8.0").join(format!("{name}.imilast.txt.gz"));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()), &mut text)
        .unwrap();
    text
}

/// Runs `stormtracker track -i DJF --variable msl -n 40 ARGS -o OUT` and
/// returns the IMILAST text, or `None` without the shared data.
fn track(name: &str, args: &[&str]) -> Option<String> {
    let input = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc")?;
    let dir = pst_testkit::ScratchDir::new(&format!("parity-{name}"));
    let out: PathBuf = dir.join(format!("{name}.imilast.txt"));
    let common = ["track", "-i", input.to_str().unwrap(), "--variable", "msl", "-b", "serial", "-n", "40"];
    let output = Command::new(env!("CARGO_BIN_EXE_stormtracker"))
        .args(common)
        .args(args)
        .args(["-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
    Some(std::fs::read_to_string(out).unwrap())
}

/// The tracks without their numbers: PyStormTracker numbers Hodges tracks
/// with gaps (its identifiers count tracks later dropped as too short), pst
/// from 1 up.
fn unnumbered(imilast: &str) -> Vec<String> {
    imilast
        .lines()
        .map(|line| {
            let mut fields: Vec<&str> = line.split_whitespace().collect();
            if matches!(fields.first(), Some(&"90") | Some(&"00")) && fields.len() > 2 {
                fields.remove(1);
            }
            fields.join(" ")
        })
        .collect()
}

/// Every track, every point, every value: the same lines as PyStormTracker
/// wrote, apart from the track numbers.
fn assert_same_tracks(name: &str, args: &[&str]) {
    let Some(ours) = track(name, args) else { return };
    let theirs = fixture(name);
    assert_eq!(unnumbered(&ours), unnumbered(&theirs), "{name}");
}

/// Each track point's `(time, lon, lat)` and value (hPa), per line.
fn points(imilast: &str) -> Vec<(String, f64)> {
    imilast
        .lines()
        .filter(|l| l.starts_with("00 "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (format!("{} {} {}", f[3], f[8], f[9]), f[10].parse().unwrap())
        })
        .collect()
}

/// The same tracks in the same order at the same grid points (their
/// positions as written, to 0.01°); values within `tolerance_hpa`, where
/// PyStormTracker's single-precision transforms round differently from
/// pst's double precision.
fn assert_same_places(name: &str, args: &[&str], tolerance_hpa: f64) {
    let Some(ours) = track(name, args) else { return };
    let theirs = fixture(name);
    let (ours, theirs) = (points(&ours), points(&theirs));
    assert_eq!(ours.len(), theirs.len(), "{name}");
    let mut largest: f64 = 0.0;
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a.0, b.0, "{name}");
        largest = largest.max((a.1 - b.1).abs());
    }
    assert!(largest <= tolerance_hpa, "{name}: values differ by up to {largest} hPa");
}

/// The same points in the same order (times equal), positions within
/// `position_deg` and values within `value_hpa`: where positions move with
/// the field's last bits (PyStormTracker's single-precision transforms).
fn assert_same_points(name: &str, args: &[&str], position_deg: f64, value_hpa: f64) {
    let Some(ours) = track(name, args) else { return };
    let (ours, theirs) = (points(&ours), points(&fixture(name)));
    assert_eq!(ours.len(), theirs.len(), "{name}");
    for (a, b) in ours.iter().zip(&theirs) {
        let (p, q): (Vec<&str>, Vec<&str>) = (a.0.split(' ').collect(), b.0.split(' ').collect());
        assert_eq!(p[0], q[0], "{name}");
        for k in 1..3 {
            let (x, y): (f64, f64) = (p[k].parse().unwrap(), q[k].parse().unwrap());
            assert!((x - y).abs() <= position_deg + 1e-9, "{name}: {a:?} vs {b:?}");
        }
        assert!((a.1 - b.1).abs() <= value_hpa, "{name}: {a:?} vs {b:?}");
    }
}

/// Hodges `grid` and `quadratic` take PyStormTracker's own detection path
/// (8-connected objects, non-strict extrema, grouped for quadratic):
/// without a band-pass the outputs are PyStormTracker's to the last digit.
#[test]
fn hodges_grid_and_quadratic_are_pystormtracker_s() {
    assert_same_tracks(
        "djf40_hodges_grid_thr100000",
        &["-a", "hodges", "--feature-refinement", "grid", "--object-threshold", "100000"],
    );
    assert_same_tracks(
        "djf40_hodges_quadratic_thr100000",
        &["-a", "hodges", "--feature-refinement", "quadratic", "--object-threshold", "100000"],
    );
}

/// `spherical_quadratic` (PyStormTracker's least-squares quadratic in the
/// tangent plane, its features in its own order): without a band-pass its
/// tracks line for line; band-passed, the same tracks and points, positions
/// within 0.02° and values within 0.01 hPa (its single-precision band-pass).
#[test]
fn hodges_spherical_quadratic_is_pystormtracker_s() {
    assert_same_tracks(
        "djf40_hodges_spherical_quadratic_thr100000",
        &["-a", "hodges", "--feature-refinement", "spherical_quadratic", "--object-threshold", "100000"],
    );
    assert_same_points(
        "djf40_hodges_spherical_quadratic_t5-42",
        &["-a", "hodges", "--feature-refinement", "spherical_quadratic", "--lmin", "5", "--lmax", "42"],
        0.02,
        0.01,
    );
}

/// After the T5–42 band-pass, the same tracks at the same places; values
/// within the difference between PyStormTracker's spherical-harmonic
/// band-pass and pst's (up to 0.6 Pa, near the poles).
#[test]
fn hodges_grid_and_quadratic_band_passed() {
    assert_same_places(
        "djf40_hodges_grid_t5-42",
        &["-a", "hodges", "--feature-refinement", "grid", "--lmin", "5", "--lmax", "42"],
        0.01,
    );
    // Quadratic positions move with the field's last bits: the same tracks
    // and points, positions within 0.02°.
    assert_same_points(
        "djf40_hodges_quadratic_t5-42",
        &["-a", "hodges", "--feature-refinement", "quadratic", "--lmin", "5", "--lmax", "42"],
        0.02,
        0.01,
    );
}

/// `--taper-points 10` on the global grid: Simple exactly, Hodges (band-passed
/// after the taper, artefacts and all) at the same places.
#[test]
fn taper_points_are_pystormtracker_s() {
    let Some(ours) = track("djf40_simple_taper10", &["-a", "simple", "--taper-points", "10"]) else { return };
    assert_eq!(ours, fixture("djf40_simple_taper10"));
    assert_same_places(
        "djf40_hodges_taper10_t5-42",
        &["-a", "hodges", "--taper-points", "10", "--lmin", "5", "--lmax", "42"],
        0.01,
    );
}

/// The North Atlantic box: the regional band-pass (a cosine transform)
/// for Simple, and Hodges' vertex path without the seam, with grid and
/// (PyStormTracker's default) B-spline refinement on the box's own,
/// non-periodic surface: without a band-pass line for line; band-passed,
/// the same points within 0.01° and 0.001 hPa (its single-precision
/// transforms).
#[test]
fn regional_box_is_pystormtracker_s() {
    let atlantic = ["--region", "20,75,-90,-2.5"];
    assert_same_places(
        "natl40_simple_t5-42",
        &[&atlantic[..], &["-a", "simple", "--lmin", "5", "--lmax", "42"]].concat(),
        1e-3,
    );
    assert_same_tracks(
        "natl40_hodges_grid_thr100000",
        &[&atlantic[..], &["-a", "hodges", "--object-threshold", "100000", "--feature-refinement", "grid"]].concat(),
    );
    assert_same_tracks(
        "natl40_hodges_thr100000",
        &[&atlantic[..], &["-a", "hodges", "--object-threshold", "100000"]].concat(),
    );
    assert_same_points(
        "natl40_hodges_t5-42",
        &[&atlantic[..], &["-a", "hodges", "--lmin", "5", "--lmax", "42"]].concat(),
        0.01,
        1e-3,
    );
}

/// `stormtracker sample -m min -r 500` on PyStormTracker's own Simple DJF
/// tracks (28,125 points): every value PyStormTracker's, to the bit (a grid
/// value is picked, nothing is computed), the tracks' own msl kept.
#[test]
fn sample_min_within_500_km_is_pystormtracker_s() {
    let (Some(data), Some(tracks)) = (
        pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc"),
        pst_testkit::data_file("../reference/pst-0.8.0-output/era5_msl_djf_simple.imilast.txt"),
    ) else {
        return;
    };
    let dir = pst_testkit::ScratchDir::new("parity-sample");
    let out = dir.join("sampled.csv");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_stormtracker"))
            .args(["sample", "-i", tracks.to_str().unwrap(), "-d", data.to_str().unwrap(), "--variable", "msl"])
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&["-m", "min", "-r", "500", "-o", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let sampled = pst::read_tracks(&out, None).unwrap();
    let ours = sampled.variable("msl_min").unwrap();
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pst-0.8.0/djf_simple_sample_min_500km.txt.gz");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()), &mut text)
        .unwrap();
    let theirs: Vec<f64> = text.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(ours, theirs.as_slice());
    // The tracks' own values are still there, unchanged.
    let original = pst::read_tracks(&tracks, None).unwrap();
    assert_eq!(sampled.variable("msl"), original.variable("msl"));
    // A radius method without a radius, and a format that would drop the
    // column, are refused before any work, naming what is wrong.
    let output = run(&["-m", "mean", "-o", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("positive radius"));
    let output = run(&["-m", "max", "-r", "300", "-o", dir.join("lost.txt").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("would be lost"));
}

/// Bad requests of the new paths: each a clear error and status 2.
#[test]
fn new_flags_refuse_bad_requests() {
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let dir = pst_testkit::ScratchDir::new("parity-bad");
    let out = dir.join("out.json");
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_stormtracker")).args(args).output().unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let track = |extra: &[&str]| {
        let base =
            ["track", "-i", input.to_str().unwrap(), "--variable", "msl", "-n", "4", "-o", out.to_str().unwrap()];
        run(&[&base[..], extra].concat())
    };
    let (code, message) = track(&["--region", "20,75,-90"]);
    assert_eq!((code, message.contains("four numbers")), (Some(2), true), "{message}");
    let (code, message) = track(&["--region", "50,40,0,10"]);
    assert_eq!((code, message.contains("out of range")), (Some(2), true), "{message}");
    // Between two grid latitudes: no grid point.
    let (code, message) = track(&["--region", "41,42,0,10"]);
    assert_eq!((code, message.contains("no grid point")), (Some(2), true), "{message}");
    // TRACK's rectangular objects need the seam a limited area has not.
    let (code, message) = track(&[
        "--region",
        "20,75,-90,-2.5",
        "-a",
        "hodges",
        "--connectivity",
        "edge",
        "--feature-refinement",
        "grid",
    ]);
    assert_eq!((code, message.contains("edge connectivity")), (Some(2), true), "{message}");
    let (code, message) = track(&["--connectivity", "vertex"]);
    assert_eq!((code, message.contains("-a hodges")), (Some(2), true), "{message}");
    let (code, message) = track(&["--sample", "msl"]);
    assert_eq!((code, message.contains("VARIABLE:METHOD")), (Some(2), true), "{message}");
    let (code, message) = track(&["--sample", "msl:max:-3"]);
    assert_eq!((code, message.contains("positive radius")), (Some(2), true), "{message}");
    // A variable the data does not have, named with the file.
    let tracks = dir.join("t.json");
    let made =
        run(&["track", "-i", input.to_str().unwrap(), "--variable", "msl", "-n", "4", "-o", tracks.to_str().unwrap()]);
    assert_eq!(made.0, Some(0), "{}", made.1);
    let (code, message) = run(&[
        "sample",
        "-i",
        tracks.to_str().unwrap(),
        "-d",
        input.to_str().unwrap(),
        "--variable",
        "nope",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!((code, message.contains("nope") && message.contains("era5_msl")), (Some(2), true), "{message}");
    assert!(!out.exists());
}

/// Tracks and points of a run.
type Counts = (usize, usize);

/// F1 of our run against PyStormTracker's by the global assignment of
/// `stormtracker compare`, with both track and point counts.
fn f1_against(name: &str, args: &[&str]) -> Option<(f64, Counts, Counts)> {
    let ours = track(name, args)?;
    let read = |text: &str| pst::TrackFormat::Imilast.reader().read_tracks(text.as_bytes()).unwrap();
    let (ours, theirs) = (read(&ours), read(&fixture(name)));
    let config = pst::CompareConfig::default().matching(pst::Matching::GlobalAssignment);
    let comparison = pst::compare_tracks(&theirs, &ours, &config).unwrap();
    let counts = |t: &pst::Tracks| (t.len(), t.num_points());
    Some((comparison.f1(), counts(&ours), counts(&theirs)))
}

/// `spherical_bspline` (PyStormTracker's spline on the sphere, SciPy's
/// `RectSphereBivariateSpline`, and its quasi-Newton search along great
/// circles): without a band-pass its tracks line for line; band-passed, its
/// single-precision band-pass decides whether a few marginal searches
/// converge (5 more points of 2,328 in pst's run), so: the same number of
/// tracks, F1 at least 0.99 and point counts within 0.5%.
#[test]
fn hodges_spherical_bspline_is_pystormtracker_s() {
    assert_same_tracks(
        "djf40_hodges_spherical_bspline_thr100000",
        &["-a", "hodges", "--feature-refinement", "spherical_bspline", "--object-threshold", "100000"],
    );
    let name = "djf40_hodges_spherical_bspline_t5-42";
    let args = ["-a", "hodges", "--feature-refinement", "spherical_bspline", "--lmin", "5", "--lmax", "42"];
    let Some((f1, ours, theirs)) = f1_against(name, &args) else { return };
    assert!(f1 >= 0.99, "{name}: F1 {f1}");
    assert_eq!(ours.0, theirs.0, "{name}: tracks");
    assert!(ours.1.abs_diff(theirs.1) * 200 <= theirs.1, "{name}: points {ours:?} vs {theirs:?}");
}

/// `-p nh_stereo|sh_stereo`, `-r`, `--extent`: PyStormTracker's spectral
/// regrid onto the plane, detection there, centres back in degrees. Its
/// regrid evaluates the series by a non-uniform FFT accurate to about 1e-6
/// of the field, pst's exactly, so values differ by up to 0.002 hPa and a
/// few marginal centres (of thousands, near the zero ring past the
/// equator) come and go: F1 at least 0.99, counts within 0.2%.
#[test]
fn simple_on_stereographic_planes_is_pystormtracker_s() {
    let runs: [(&str, &[&str]); 5] = [
        ("djf40_stereo_simple_nh", &["-a", "simple", "-p", "nh_stereo"]),
        ("djf40_stereo_simple_sh", &["-a", "simple", "-p", "sh_stereo"]),
        ("djf40_stereo_simple_nh_r200", &["-a", "simple", "-p", "nh_stereo", "-r", "200"]),
        ("djf40_stereo_simple_nh_ext5000", &["-a", "simple", "-p", "nh_stereo", "--extent=-5000,5000,-5000,5000"]),
        (
            "djf40_stereo_simple_nh_quadratic_t5-42",
            &["-a", "simple", "-p", "nh_stereo", "--feature-refinement", "quadratic", "--lmin", "5", "--lmax", "42"],
        ),
    ];
    for (name, args) in runs {
        let Some((f1, ours, theirs)) = f1_against(name, args) else { return };
        assert!(f1 >= 0.99, "{name}: F1 {f1}");
        for (a, b) in [(ours.0, theirs.0), (ours.1, theirs.1)] {
            assert!(a.abs_diff(b) * 500 <= b, "{name}: {ours:?} tracks/points against PyStormTracker's {theirs:?}");
        }
    }
}

/// Hodges `quadratic` on the northern plane after the T5–42 band-pass:
/// PyStormTracker's 349 tracks, every point in the same order, positions
/// within 0.01° and values within 0.01 hPa.
#[test]
fn hodges_on_the_northern_plane_is_pystormtracker_s() {
    assert_same_points(
        "djf40_stereo_hodges_nh_quadratic_t5-42",
        &["-a", "hodges", "-p", "nh_stereo", "--feature-refinement", "quadratic", "--lmin", "5", "--lmax", "42"],
        0.01,
        0.01,
    );
    // PyStormTracker's default B-spline refinement on the plane clamps the
    // plane's y (km) to ±90 as if it were a latitude: pst refuses it rather
    // than copy it, and says what to use.
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let dir = pst_testkit::ScratchDir::new("parity-stereo-refused");
    let output = Command::new(env!("CARGO_BIN_EXE_stormtracker"))
        .args(["track", "-i", input.to_str().unwrap(), "--variable", "msl", "-n", "2", "-a", "hodges"])
        .args(["-p", "nh_stereo", "-o", dir.join("bspline.txt").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("grid or quadratic"));
    // Nor does spherical_quadratic belong on a plane (PyStormTracker
    // refuses it too).
    let output = Command::new(env!("CARGO_BIN_EXE_stormtracker"))
        .args(["track", "-i", input.to_str().unwrap(), "--variable", "msl", "-n", "2", "-a", "hodges"])
        .args(["-p", "nh_stereo", "--feature-refinement", "spherical_quadratic"])
        .args(["-o", dir.join("spherical.txt").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not on a polar-stereographic plane"));
}

/// `stormtracker sample` with PyStormTracker's other methods, on its own
/// Simple tracks of the first 40 DJF frames (3,119 points): `nearest`,
/// `bilinear` and the `max` within 300 km, every value PyStormTracker's to
/// the bit; the `mean` within 300 km within 1e-6 relative (PyStormTracker
/// sums the float32 values in single precision, pst in double: they differ
/// by up to 2.5e-7).
#[test]
fn sample_methods_are_pystormtracker_s() {
    let Some(data) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let dir = pst_testkit::ScratchDir::new("parity-samples");
    let tracks = dir.join("djf40_simple.imilast.txt");
    std::fs::write(&tracks, fixture("djf40_simple")).unwrap();
    let cases: [(&str, &[&str], f64); 4] = [
        ("nearest", &["-m", "nearest"], 0.0),
        ("bilinear", &["-m", "bilinear"], 0.0),
        ("mean_300km", &["-m", "mean", "-r", "300"], 1e-6),
        ("max_300km", &["-m", "max", "-r", "300"], 0.0),
    ];
    for (name, flags, relative) in cases {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pst-0.8.0")
            .join(format!("djf40_simple_sample_{name}.txt.gz"));
        if !path.exists() {
            panic!("{} is missing", path.display());
        }
        let out = dir.join(format!("{name}.json"));
        let column = format!("msl_{name}");
        let output = Command::new(env!("CARGO_BIN_EXE_stormtracker"))
            .args(["sample", "-i", tracks.to_str().unwrap(), "-d", data.to_str().unwrap(), "--variable", "msl"])
            .args(flags)
            .args(["--name", &column, "-o", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let sampled = pst::read_tracks(&out, None).unwrap();
        let ours = sampled.variable(&column).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()), &mut text)
            .unwrap();
        let theirs: Vec<f64> = text.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(ours.len(), 3119, "{name}");
        for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            let close = a == b || (a - b).abs() <= relative * b.abs() || (a.is_nan() && b.is_nan());
            assert!(close, "{name}: point {k}: {a} against PyStormTracker's {b}");
        }
    }
}

/// `-a healpix`: PyStormTracker's HEALPix tracker (its default backend;
/// its serial backend finds no frame in this file, whose time coordinate is
/// `valid_time`, and writes no track): the same tracks and points,
/// positions within 0.01° and values within 0.002 hPa (its transforms of
/// the single-precision input).
#[test]
fn healpix_is_pystormtracker_s() {
    assert_same_points("djf40_healpix_t5-42", &["-a", "healpix", "--lmin", "5", "--lmax", "42"], 0.01, 0.002);
    assert_same_points(
        "djf40_healpix_nside64_t5-42",
        &["-a", "healpix", "--nside", "64", "--lmin", "5", "--lmax", "42"],
        0.01,
        0.002,
    );
    assert_same_points("djf40_healpix_thr100000", &["-a", "healpix", "--object-threshold", "100000"], 0.01, 0.002);
    // Flags PyStormTracker refuses with HEALPix, and a bad nside.
    let Some(input) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let dir = pst_testkit::ScratchDir::new("parity-healpix-refused");
    let out = dir.join("refused.txt");
    for (flags, says) in [
        (&["-a", "healpix", "--connectivity", "edge"][..], "does not take --connectivity"),
        (&["-a", "healpix", "-p", "nh_stereo"], "does not take -p/--projection"),
        (&["-a", "healpix", "--nside", "48"], "--nside: invalid argument: HEALPix nside 48"),
        (&["-a", "healpix", "--feature-refinement", "bspline"], "refines by grid or quadratic"),
        (&["--nside", "32"], "--nside applies to `-a healpix` only"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_stormtracker"))
            .args(["track", "-i", input.to_str().unwrap(), "--variable", "msl", "-n", "2", "-o", out.to_str().unwrap()])
            .args(flags)
            .output()
            .unwrap();
        let message = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {message}");
        assert!(message.contains(says), "{flags:?}: {message}");
    }
}
