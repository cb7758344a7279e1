//! A mutation fuzzer for pst-io's readers, on stable Rust: damages real
//! seed files (netCDF-3, netCDF-4/HDF5, Zarr v2 and v3, GRIB1 and GRIB2,
//! every track format) a few bytes or numbers at a time, opens each and
//! reads its first and last frames (or its tracks), and counts outcomes.
//!
//! A clean error or a successful read is a pass. A panic is a failure
//! (caught, counted, the case saved). A case that runs longer than
//! `--case-seconds` is a failure: the watchdog saves it and exits with
//! status 3. An abort (an allocation beyond the memory limit `.ci/checks/
//! fuzz.sh` sets with `prlimit`) kills the process: the case being run is
//! always in `OUT/current.case`, so the script names it.
//!
//! ```text
//! cargo run --release -p pst-io --example fuzz_readers -- --cases 4000 --seed 1 --out /tmp/fuzz
//! ```
//!
//! Seeds come from the shared data (`PST_DATA`) and the committed GRIB
//! fixtures; Zarr seeds are written here. Every case is a pure function of
//! the seed number, so `--only N` reruns case N.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pst_core::FieldSource;
use pst_io::{OpenOptions, TrackFormat, open_source};

/// xorshift64*: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What a seed is and how a case of it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Netcdf3,
    Netcdf4,
    ZarrV2,
    ZarrV3,
    Grib1,
    Grib2,
    Tracks(TrackFormat),
}

impl Kind {
    fn name(self) -> String {
        match self {
            Kind::Netcdf3 => "netcdf3".into(),
            Kind::Netcdf4 => "netcdf4".into(),
            Kind::ZarrV2 => "zarr-v2".into(),
            Kind::ZarrV3 => "zarr-v3".into(),
            Kind::Grib1 => "grib1".into(),
            Kind::Grib2 => "grib2".into(),
            Kind::Tracks(format) => format!("tracks-{}", format.name()),
        }
    }
}

/// A seed: its files (one, or a Zarr store's metadata and chunks by
/// relative path), the variable to read, the file name to write it under.
struct Seed {
    kind: Kind,
    name: String,
    variable: &'static str,
    files: Vec<(PathBuf, Vec<u8>)>,
}

fn data_dir() -> PathBuf {
    match std::env::var_os("PST_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

fn file_seed(kind: Kind, path: &Path, variable: &'static str) -> Option<Seed> {
    let bytes = std::fs::read(path).ok()?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    Some(Seed { kind, name: name.clone(), variable, files: vec![(PathBuf::from(name), bytes)] })
}

/// A small Zarr store of two 5° frames of `msl`: v2 (`.zarray`, `.zattrs`)
/// or v3 (`zarr.json`), uncompressed so every chunk byte is a value.
fn zarr_seed(v3: bool) -> Seed {
    let (nlat, nlon, nt) = (37usize, 72usize, 2usize);
    let mut files = Vec::new();
    let le = |values: Vec<f64>| values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    // Name, shape, dimensions, values, units.
    type Array<'a> = (&'a str, Vec<usize>, Vec<&'a str>, Vec<f64>, &'a str);
    let arrays: Vec<Array> = vec![
        ("latitude", vec![nlat], vec!["latitude"], (0..nlat).map(|i| 90.0 - 5.0 * i as f64).collect(), "degrees_north"),
        ("longitude", vec![nlon], vec!["longitude"], (0..nlon).map(|i| 5.0 * i as f64).collect(), "degrees_east"),
        ("time", vec![nt], vec!["time"], vec![0.0, 6.0], "hours since 2000-01-01"),
        (
            "msl",
            vec![nt, nlat, nlon],
            vec!["time", "latitude", "longitude"],
            (0..nt * nlat * nlon).map(|i| 101_000.0 + (i % 97) as f64).collect(),
            "Pa",
        ),
    ];
    if v3 {
        files.push((PathBuf::from("zarr.json"), br#"{"zarr_format":3,"node_type":"group","attributes":{}}"#.to_vec()));
    } else {
        files.push((PathBuf::from(".zgroup"), br#"{"zarr_format":2}"#.to_vec()));
    }
    for (name, shape, dims, values, units) in arrays {
        let dir = PathBuf::from(name);
        let shape_json = format!("{shape:?}");
        let dims_json = format!("{dims:?}");
        if v3 {
            let meta = format!(
                r#"{{"zarr_format":3,"node_type":"array","shape":{shape_json},"data_type":"float64",
"chunk_grid":{{"name":"regular","configuration":{{"chunk_shape":{shape_json}}}}},
"chunk_key_encoding":{{"name":"default","configuration":{{"separator":"/"}}}},
"fill_value":"NaN","codecs":[{{"name":"bytes","configuration":{{"endian":"little"}}}}],
"attributes":{{"units":"{units}"}},"dimension_names":{dims_json}}}"#
            );
            files.push((dir.join("zarr.json"), meta.into_bytes()));
            files.push((dir.join("c").join(vec!["0"; shape.len()].join("/")), le(values)));
        } else {
            let meta = format!(
                r#"{{"zarr_format":2,"shape":{shape_json},"chunks":{shape_json},"dtype":"<f8","compressor":null,
"fill_value":"NaN","filters":null,"order":"C"}}"#
            );
            files.push((dir.join(".zarray"), meta.into_bytes()));
            files.push((
                dir.join(".zattrs"),
                format!(r#"{{"units":"{units}","_ARRAY_DIMENSIONS":{dims_json}}}"#).into_bytes(),
            ));
            files.push((dir.join(vec!["0"; shape.len()].join(".")), le(values)));
        }
    }
    let kind = if v3 { Kind::ZarrV3 } else { Kind::ZarrV2 };
    Seed { kind, name: "seed.zarr".into(), variable: "msl", files }
}

fn seeds() -> Vec<Seed> {
    let data = data_dir();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grib");
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/era5_msl_2025-12_2.5x2.5.nc");
    let tracks = data.join("tracks/formats");
    let mut seeds: Vec<Seed> = [
        file_seed(Kind::Netcdf3, &data.join("era5-frames/era5_msl_2025120100_2.5x2.5.nc"), "msl"),
        file_seed(Kind::Netcdf3, &data.join("era5-frames/era5_uv850_2025120100_2.5x2.5.nc"), "u"),
        file_seed(Kind::Netcdf4, &embedded, "msl"),
        file_seed(Kind::Grib1, &fixtures.join("n32_msl.grib1"), "msl"),
        file_seed(Kind::Grib1, &data.join("grib/regular_ll_msl.grib"), "msl"),
        file_seed(Kind::Grib2, &fixtures.join("n32_msl_south_first.grib2"), "msl"),
        file_seed(Kind::Grib2, &fixtures.join("era5_msl_2025-12-31_2.5x2.5.grib2"), "msl"),
        file_seed(
            Kind::Tracks(TrackFormat::Track),
            &tracks.join("tr_trs_pos.2day_addT63vor_addmslp_add925wind_add10mwind.tcident.new"),
            "",
        ),
        file_seed(Kind::Tracks(TrackFormat::Tempest), &tracks.join("TempestExtremes-sample.txt"), ""),
        file_seed(Kind::Tracks(TrackFormat::Csv), &tracks.join("sample.csv"), ""),
        file_seed(
            Kind::Tracks(TrackFormat::Netcdf),
            &tracks.join("tr_trs_pos.2day_addT63vor_addmslp_add925wind_add10mwind.tcident.new.nc"),
            "",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    seeds.push(zarr_seed(false));
    seeds.push(zarr_seed(true));
    // IMILAST and TrackJSON seeds: written by pst from the TRACK seed.
    if let Some(track) = seeds.iter().find(|s| s.kind == Kind::Tracks(TrackFormat::Track)) {
        let tracks = TrackFormat::Track.reader().read_tracks(&track.files[0].1).unwrap();
        for format in [TrackFormat::Imilast, TrackFormat::TrackJson, TrackFormat::TempestCsv] {
            let mut bytes = Vec::new();
            if format.writer().write_tracks(&tracks, &mut bytes).is_ok() {
                let name = format!("seed.{}", format.spec().extensions.first().copied().unwrap_or("txt"));
                seeds.push(Seed {
                    kind: Kind::Tracks(format),
                    name: name.clone(),
                    variable: "",
                    files: vec![(name.into(), bytes)],
                });
            }
        }
    }
    seeds
}

/// Numbers that break size arithmetic.
const INTERESTING: &[u64] = &[0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, u64::MAX];
const INTERESTING_TEXT: &[&str] = &["0", "-1", "4294967295", "1000000000000", "1e308", "NaN", "null", "[]", "\"\""];

/// Damages `bytes`: byte and bit flips, interesting integers of 1 to 8
/// bytes, and (for text) a number replaced by an interesting one; then
/// perhaps a truncation. Early bytes (headers) are hit more often.
fn mutate(bytes: &mut Vec<u8>, rng: &mut Rng, text: bool) {
    if bytes.is_empty() {
        bytes.push(rng.next() as u8);
        return;
    }
    for _ in 0..1 + rng.below(6) {
        let len = bytes.len();
        let at = if rng.below(2) == 0 { rng.below(len.min(1024)) } else { rng.below(len) };
        match rng.below(if text { 5 } else { 4 }) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next() as u8,
            2 => {
                let width = [1, 2, 4, 8][rng.below(4)];
                let value = INTERESTING[rng.below(INTERESTING.len())].to_be_bytes();
                for (k, b) in value[8 - width..].iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + k) {
                        *slot = *b;
                    }
                }
            }
            3 => {
                let cut = rng.below(len);
                bytes.truncate(cut.max(1));
            }
            _ => {
                // A run of digits replaced by an interesting number.
                let Some(start) = (at..len).find(|&k| bytes[k].is_ascii_digit()) else { continue };
                let end = (start..len).find(|&k| !bytes[k].is_ascii_digit() && bytes[k] != b'.').unwrap_or(len);
                let with = INTERESTING_TEXT[rng.below(INTERESTING_TEXT.len())].as_bytes();
                bytes.splice(start..end, with.iter().copied());
            }
        }
    }
}

/// Writes case `case`: the seed `case % seeds`, one of its files damaged;
/// returns the path to open.
fn write_case(seed: &Seed, case: u64, dir: &Path) -> PathBuf {
    let mut rng = Rng::new(case);
    let damaged = rng.below(seed.files.len());
    let root = dir.join(&seed.name);
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_file(&root);
    let single = seed.files.len() == 1;
    for (k, (relative, bytes)) in seed.files.iter().enumerate() {
        let mut bytes = bytes.clone();
        if k == damaged {
            let text = relative.extension().is_none_or(|e| e == "json" || e == "txt" || e == "csv")
                && std::str::from_utf8(&bytes).is_ok();
            mutate(&mut bytes, &mut rng, text);
        }
        let path = if single { root.clone() } else { root.join(relative) };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, &bytes).unwrap();
    }
    root
}

/// Opens and reads a case: gridded input's first and last frames, or a
/// track file.
fn read_case(kind: Kind, path: &Path, variable: &str) -> Result<(), String> {
    match kind {
        Kind::Tracks(format) => pst_io::read_tracks(path, Some(format)).map(drop).map_err(|e| e.to_string()),
        _ => {
            let source = open_source(path, variable, &OpenOptions::default()).map_err(|e| e.to_string())?;
            if !source.is_empty() {
                source.read_frame(0).map_err(|e| e.to_string())?;
                source.read_frame(source.len() - 1).map_err(|e| e.to_string())?;
            }
            Ok(())
        }
    }
}

#[derive(Default)]
struct Counts {
    read: u64,
    refused: u64,
    panicked: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|k| args.get(k + 1)).cloned();
    let cases: u64 = value("--cases").and_then(|v| v.parse().ok()).unwrap_or(1000);
    let first: u64 = value("--seed").and_then(|v| v.parse().ok()).unwrap_or(1);
    let only: Option<u64> = value("--only").and_then(|v| v.parse().ok());
    let verbose = args.iter().any(|a| a == "--verbose");
    let case_seconds: u64 = value("--case-seconds").and_then(|v| v.parse().ok()).unwrap_or(10);
    let out =
        PathBuf::from(value("--out").unwrap_or_else(|| std::env::temp_dir().join("pst-fuzz").display().to_string()));
    std::fs::create_dir_all(&out).unwrap();
    let seeds = seeds();
    if seeds.len() < 16 {
        eprintln!("fuzz_readers: only {} seeds found (is PST_DATA set?)", seeds.len());
        std::process::exit(2);
    }
    // Panics are counted, not printed: the summary names the cases.
    std::panic::set_hook(Box::new(|_| {}));
    let work = out.join("work");
    std::fs::create_dir_all(&work).unwrap();
    // The watchdog: a case that runs too long is a hang.
    let started = Arc::new(AtomicU64::new(u64::MAX));
    let running = Arc::new(AtomicU64::new(0));
    let clock = Instant::now();
    {
        let (started, running, out) = (Arc::clone(&started), Arc::clone(&running), out.clone());
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(200));
                let since = started.load(Ordering::Relaxed);
                if since != u64::MAX && clock.elapsed().as_millis() as u64 > since + case_seconds * 1000 {
                    let case = running.load(Ordering::Relaxed);
                    eprintln!("fuzz_readers: case {case} ran over {case_seconds} s (saved in {})", out.display());
                    std::process::exit(3);
                }
            }
        });
    }
    {
        let clock_for_cases = clock;
        let mut by_kind: BTreeMap<String, Counts> = BTreeMap::new();
        let mut failures = Vec::new();
        let range = match only {
            Some(case) => case..case + 1,
            None => first..first + cases,
        };
        let total = range.end - range.start;
        let all_started = Instant::now();
        for case in range {
            let seed = &seeds[(case % seeds.len() as u64) as usize];
            let path = write_case(seed, case, &work);
            std::fs::write(out.join("current.case"), format!("{case} {}\n", seed.kind.name())).unwrap();
            running.store(case, Ordering::Relaxed);
            started.store(clock_for_cases.elapsed().as_millis() as u64, Ordering::Relaxed);
            let outcome = catch_unwind(AssertUnwindSafe(|| read_case(seed.kind, &path, seed.variable)));
            started.store(u64::MAX, Ordering::Relaxed);
            let counts = by_kind.entry(seed.kind.name()).or_default();
            match outcome {
                Ok(Ok(())) => counts.read += 1,
                Ok(Err(e)) => {
                    counts.refused += 1;
                    if verbose {
                        println!("case {case} {}: {e}", seed.kind.name());
                    }
                }
                Err(_) => {
                    counts.panicked += 1;
                    failures.push(case);
                    let saved = out.join(format!("panic-{case}"));
                    let _ = std::fs::rename(&path, &saved);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&work);
        let _ = std::fs::remove_file(out.join("current.case"));
        println!("fuzz_readers: {total} cases in {:.1} s", all_started.elapsed().as_secs_f64());
        println!("{:<22} {:>8} {:>8} {:>8}", "input", "read", "refused", "panicked");
        for (kind, c) in &by_kind {
            println!("{kind:<22} {:>8} {:>8} {:>8}", c.read, c.refused, c.panicked);
        }
        if !failures.is_empty() {
            println!("fuzz_readers: {} cases panicked: {failures:?} (rerun one with --only N)", failures.len());
            std::process::exit(1);
        }
    }
}
