//! Hostile and unusual inputs, made in the test: each gives a clear error
//! naming the input and what is wrong (never an abort, a panic or an
//! allocation sized by the file), or the right result where it is valid.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use pst_core::FieldSource;
use pst_io::{GribSource, OpenOptions, TrackFormat, ZarrSource};
use pst_testkit::ScratchDir;
use serde_json::json;

/// Writes a Zarr v3 array of float64 in one uncompressed chunk: `values`
/// (C order, may be shorter than the shape declares: missing chunks are
/// fill), with `fill_value`, dimension names and attributes.
fn zarr_array(
    store: &Path,
    name: &str,
    shape: &[u64],
    dims: &[&str],
    values: &[f64],
    fill: f64,
    attrs: serde_json::Value,
) {
    let dir = store.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let meta = json!({
        "zarr_format": 3,
        "node_type": "array",
        "shape": shape,
        "data_type": "float64",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": shape}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        // JSON has no NaN: Zarr v3 spells it as a string.
        "fill_value": if fill.is_nan() { json!("NaN") } else { json!(fill) },
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": attrs,
        "dimension_names": dims,
    });
    std::fs::write(dir.join("zarr.json"), serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    let count: u64 = shape.iter().product();
    if !values.is_empty() && values.len() as u64 == count {
        let chunk = dir.join("c").join(vec!["0"; shape.len()].join("/"));
        std::fs::create_dir_all(chunk.parent().unwrap()).unwrap();
        std::fs::write(chunk, values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    }
}

/// A small valid v3 store as zarr-python 3 writes it by default: float
/// coordinates with `fill_value` 0.0, a 5° grid from 90°N to 90°S with the
/// equator and the prime meridian in it, two frames of `msl`.
fn small_store(store: &Path) {
    std::fs::create_dir_all(store).unwrap();
    std::fs::write(store.join("zarr.json"), r#"{"zarr_format":3,"node_type":"group","attributes":{}}"#).unwrap();
    let lats: Vec<f64> = (0..37).map(|i| 90.0 - 5.0 * i as f64).collect();
    let lons: Vec<f64> = (0..72).map(|i| 5.0 * i as f64).collect();
    zarr_array(store, "latitude", &[37], &["latitude"], &lats, 0.0, json!({"units": "degrees_north"}));
    zarr_array(store, "longitude", &[72], &["longitude"], &lons, 0.0, json!({"units": "degrees_east"}));
    zarr_array(store, "time", &[2], &["time"], &[0.0, 6.0], 0.0, json!({"units": "hours since 2000-01-01"}));
    let msl: Vec<f64> = (0..2 * 37 * 72).map(|i| 101_000.0 + (i % 97) as f64).collect();
    zarr_array(store, "msl", &[2, 37, 72], &["time", "latitude", "longitude"], &msl, f64::NAN, json!({"units": "Pa"}));
}

fn open_error(path: &Path, variable: &str) -> String {
    match ZarrSource::open(path, variable, &OpenOptions::default()) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn zarr_coordinates_with_fill_value_zero_keep_the_equator() {
    let scratch = ScratchDir::new("hostile-zarr-fill");
    let store = scratch.join("small.zarr");
    small_store(&store);
    let source = ZarrSource::open(&store, "msl", &OpenOptions::default()).unwrap();
    let grid = &source.info().grid;
    assert_eq!(grid.lats()[18], 0.0);
    assert_eq!(grid.lons()[0], 0.0);
    assert_eq!(source.info().times.len(), 2);
    assert_eq!(source.read_frame(1).unwrap().values()[[0, 0]], 101_000.0 + (37 * 72 % 97) as f64);
}

#[test]
fn zarr_declared_shapes_are_checked_before_reading() {
    let scratch = ScratchDir::new("hostile-zarr-shape");
    // A data array far longer in time than its coordinate.
    let store = scratch.join("long.zarr");
    small_store(&store);
    zarr_array(
        &store,
        "msl",
        &[1_000_000_000_000, 37, 72],
        &["time", "latitude", "longitude"],
        &[],
        f64::NAN,
        json!({}),
    );
    let e = open_error(&store, "msl");
    assert!(e.contains("long.zarr") && e.contains("`time`") && e.contains("1000000000000"), "{e}");
    // A coordinate that declares 10^12 values (8 TB were allocated once).
    let store = scratch.join("coordinate.zarr");
    small_store(&store);
    zarr_array(&store, "latitude", &[1_000_000_000_000], &["latitude"], &[], 0.0, json!({"units": "degrees_north"}));
    let e = open_error(&store, "msl");
    assert!(e.contains("coordinate.zarr") && e.contains("latitude"), "{e}");
    // A frame of more points than pst reads.
    let store = scratch.join("frame.zarr");
    small_store(&store);
    let (nlat, nlon) = (100_000u64, 100_000u64);
    zarr_array(&store, "latitude", &[nlat], &["latitude"], &[], 0.0, json!({"units": "degrees_north"}));
    zarr_array(&store, "longitude", &[nlon], &["longitude"], &[], 0.0, json!({"units": "degrees_east"}));
    zarr_array(&store, "msl", &[2, nlat, nlon], &["time", "latitude", "longitude"], &[], f64::NAN, json!({}));
    let e = open_error(&store, "msl");
    assert!(e.contains("frame.zarr") && e.contains("points"), "{e}");
}

#[test]
fn zarr_arrays_that_do_not_parse_are_named_with_why() {
    let scratch = ScratchDir::new("hostile-zarr-parse");
    let store = scratch.join("broken.zarr");
    small_store(&store);
    std::fs::write(store.join("msl/zarr.json"), br#"{"zarr_format": 3, "node_type": "array", "shape": "#).unwrap();
    let e = open_error(&store, "msl");
    assert!(e.contains("broken.zarr") && e.contains("`msl`") && e.contains("could not be read"), "{e}");
}

#[test]
fn track_added_field_counts_are_bounded_by_the_file() {
    for count in ["18446744073709551615", "10000000000", "1000000000", "5000"] {
        let text =
            format!("0\n0 0\nTRACK_NUM 1 ADD_FLD {count} 0 &\nTRACK_ID 1\nPOINT_NUM 1\n2025120100 10.0 20.0 1.0\n");
        let e = TrackFormat::Track.reader().read_tracks(text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("ADD_FLD") && e.contains(count), "{count}: {e}");
    }
    // A valid count still reads its fields.
    let text = "0\n0 0\nTRACK_NUM 1 ADD_FLD 1 0 &0\nTRACK_ID 1\nPOINT_NUM 1\n2025120100 10.0 20.0 1.0 & 7.5\n";
    let tracks = TrackFormat::Track.reader().read_tracks(text.as_bytes()).unwrap();
    assert_eq!(tracks.variable("field1").unwrap(), [7.5]);
}

#[test]
fn trackjson_columns_longer_than_the_index_are_refused_as_they_are_read() {
    let document = |lats: &str| {
        format!(
            r#"{{"format":"TrackJSON/1.0","metadata":{{"primary_var":"msl","mode":"min","units":{{"msl":"Pa"}},
            "time":{{"units":"milliseconds since 1970-01-01 00:00:00","calendar":"proleptic_gregorian"}}}},
            "index":{{"ids":[1],"offsets":[0,2]}},
            "data":{{"times":[0,21600000],"lats":{lats},"lons":[10.0,11.0],"variables":{{"msl":[99000.0,null]}}}}}}"#
        )
    };
    let tracks = TrackFormat::TrackJson.reader().read_tracks(document("[50.0,51.0]").as_bytes()).unwrap();
    assert!(tracks.variable("msl").unwrap()[1].is_nan());
    let e =
        TrackFormat::TrackJson.reader().read_tracks(document("[50.0,51.0,52.0]").as_bytes()).unwrap_err().to_string();
    assert!(e.contains("`lats` has more values than the 2 points"), "{e}");
    // A million extra values stop at the third: the error is found without
    // reading on (the message gives the column of the JSON parser).
    let long = format!("[{}]", vec!["50.0"; 1_000_000].join(","));
    let e = TrackFormat::TrackJson.reader().read_tracks(document(&long).as_bytes()).unwrap_err().to_string();
    assert!(e.contains("line 4 column 64"), "{e}");
}

/// A committed GRIB fixture (written by ecCodes), as bytes.
fn grib_fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grib").join(name)).unwrap()
}

fn grib_error(scratch: &ScratchDir, name: &str, bytes: &[u8]) -> String {
    let path = scratch.join(name);
    std::fs::write(&path, bytes).unwrap();
    match GribSource::open(&path, "msl", &OpenOptions::default()) {
        Ok(source) => panic!("{name} opened: {source:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn grib_gaussian_numbers_are_capped() {
    let scratch = ScratchDir::new("hostile-grib-n");
    let mut grib1 = grib_fixture("n32_msl.grib1");
    // The first of its two messages (octets 5–7: its length).
    grib1.truncate(usize::from(grib1[4]) << 16 | usize::from(grib1[5]) << 8 | usize::from(grib1[6]));
    let pds = usize::from(grib1[8]) << 16 | usize::from(grib1[9]) << 8 | usize::from(grib1[10]);
    // GDS octets 26–27: N, the latitudes between a pole and the equator.
    let n_at = 8 + pds + 25;
    assert_eq!(u16::from_be_bytes([grib1[n_at], grib1[n_at + 1]]), 32);
    for n in [65_535u16, 8_001] {
        let mut bytes = grib1.clone();
        bytes[n_at..n_at + 2].copy_from_slice(&n.to_be_bytes());
        let started = std::time::Instant::now();
        let e = grib_error(&scratch, "huge_n.grib1", &bytes);
        assert!(e.contains("huge_n.grib1") && e.contains(&format!("N{n}")) && e.contains("finer"), "{e}");
        assert!(started.elapsed().as_secs_f64() < 5.0, "N = {n} took {:?}", started.elapsed());
    }
}

#[test]
fn grib_reference_times_that_do_not_exist_are_errors() {
    let scratch = ScratchDir::new("hostile-grib-date");
    // GRIB1: PDS octet 15 is the day (30 February).
    let mut grib1 = grib_fixture("n32_msl.grib1");
    grib1[8 + 13] = 2;
    grib1[8 + 14] = 30;
    let e = grib_error(&scratch, "date.grib1", &grib1);
    assert!(e.contains("date.grib1") && e.contains("-02-30") && e.contains("does not exist"), "{e}");
    // GRIB2: section 1 (after the 16-byte indicator), octet 17 the hour.
    let mut grib2 = grib_fixture("n32_msl_south_first.grib2");
    assert_eq!(grib2[16 + 4], 1, "section 1 follows the indicator");
    grib2[16 + 16] = 24;
    let e = grib_error(&scratch, "date.grib2", &grib2);
    assert!(e.contains("date.grib2") && e.contains(" 24:") && e.contains("does not exist"), "{e}");
}

/// A classic (netCDF-3) file of `frames` 5° frames of `msl`.
fn classic_netcdf(path: &Path, frames: usize) {
    use netcdf3::{DataSet, FileWriter, Version};
    let (nlat, nlon) = (37, 72);
    let mut ds = DataSet::new();
    ds.add_fixed_dim("time", frames).unwrap();
    ds.add_fixed_dim("latitude", nlat).unwrap();
    ds.add_fixed_dim("longitude", nlon).unwrap();
    ds.add_var_f64("time", &["time"]).unwrap();
    ds.add_var_attr_string("time", "units", "hours since 2000-01-01").unwrap();
    ds.add_var_f64("latitude", &["latitude"]).unwrap();
    ds.add_var_attr_string("latitude", "units", "degrees_north").unwrap();
    ds.add_var_f64("longitude", &["longitude"]).unwrap();
    ds.add_var_attr_string("longitude", "units", "degrees_east").unwrap();
    ds.add_var_f32("msl", &["time", "latitude", "longitude"]).unwrap();
    ds.add_var_attr_string("msl", "units", "Pa").unwrap();
    let mut w = FileWriter::open(path).unwrap();
    w.set_def(&ds, Version::Classic, 0).unwrap();
    w.write_var_f64("time", &(0..frames).map(|k| 6.0 * k as f64).collect::<Vec<_>>()).unwrap();
    w.write_var_f64("latitude", &(0..nlat).map(|i| 90.0 - 5.0 * i as f64).collect::<Vec<_>>()).unwrap();
    w.write_var_f64("longitude", &(0..nlon).map(|i| 5.0 * i as f64).collect::<Vec<_>>()).unwrap();
    w.write_var_f32("msl", &(0..frames * nlat * nlon).map(|i| 101_000.0 + (i % 101) as f32).collect::<Vec<_>>())
        .unwrap();
    w.close().unwrap();
}

#[test]
fn a_classic_netcdf_truncated_while_open_is_an_error_not_sigbus() {
    let scratch = ScratchDir::new("hostile-nc3-truncated");
    let path = scratch.join("shrinking.nc");
    classic_netcdf(&path, 8);
    assert_eq!(&std::fs::read(&path).unwrap()[..4], b"CDF\x01");
    let source = pst_io::NetcdfSource::open(&path, "msl", &OpenOptions::default()).unwrap();
    source.read_frame(7).unwrap();
    // Cut the file to half while it is open (a download or a copy being
    // replaced): a frame past the cut is an error naming the file (it was
    // SIGBUS from a memory map).
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(std::fs::metadata(&path).unwrap().len() / 2).unwrap();
    let e = source.read_frame(7).unwrap_err().to_string();
    assert!(e.contains("shrinking.nc"), "{e}");
    source.read_frame(0).unwrap();
}

#[test]
fn temporary_files_of_dead_runs_are_removed_by_the_next_write() {
    let scratch = ScratchDir::new("hostile-stale");
    let out = scratch.join("tracks.txt");
    // A run killed with SIGKILL (a PID no process has) and one still running
    // (this one) each left a temporary file; another output's is not ours.
    let dead = scratch.join(".tracks.txt.tmp-999999999-0");
    let alive = scratch.join(format!(".tracks.txt.tmp-{}-77", std::process::id()));
    let other = scratch.join(".other.txt.tmp-999999999-0");
    for path in [&dead, &alive, &other] {
        std::fs::write(path, b"partial").unwrap();
    }
    pst_io::write_atomically(&out, |w| Ok(w.write_all(b"done")?)).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"done");
    assert!(!dead.exists() && alive.exists() && other.exists());
}

/// A destination that is a device or a named pipe is written in place, never
/// replaced by a renamed temporary file: run as root, `-o /dev/null` once
/// turned the machine's `/dev/null` into a regular file. A pipe stands in
/// for the device here, so a regression cannot damage the machine.
#[test]
fn a_named_pipe_is_written_in_place_and_stays_a_pipe() {
    use std::os::unix::fs::FileTypeExt;
    let scratch = ScratchDir::new("hostile-fifo");
    let pipe = scratch.join("tracks.txt");
    let made = std::process::Command::new("mkfifo").arg(&pipe).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::read(pipe).unwrap())
    };
    pst_io::write_atomically(&pipe, |w| Ok(w.write_all(b"through the pipe")?)).unwrap();
    // Checked before joining: had the pipe been replaced, its reader would
    // wait for ever.
    assert!(std::fs::symlink_metadata(&pipe).unwrap().file_type().is_fifo());
    assert_eq!(reader.join().unwrap(), b"through the pipe");
    let left: Vec<_> = std::fs::read_dir(&*scratch).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, [std::ffi::OsString::from("tracks.txt")], "no temporary file may be left");
}

/// Writing through a symbolic link replaces the file it points to and
/// keeps the link.
#[test]
fn a_symbolic_link_is_followed_and_kept() {
    let scratch = ScratchDir::new("hostile-symlink");
    let target = scratch.join("real.txt");
    let link = scratch.join("link.txt");
    std::fs::write(&target, b"old").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    pst_io::write_atomically(&link, |w| Ok(w.write_all(b"new")?)).unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
}

#[test]
fn csv_dates_out_of_range_are_refused_when_read() {
    let csv = |year: &str| {
        format!(
            "track_id,year,month,day,hour,lon,lat,msl\n1,{year},12,1,0,10.0,50.0,99000\n1,2025,12,1,6,11.0,51.0,99100\n"
        )
    };
    TrackFormat::Csv.reader().read_tracks(csv("2025").as_bytes()).unwrap();
    for year in ["2025123199", "2025.5", "-1"] {
        let e = TrackFormat::Csv.reader().read_tracks(csv(year).as_bytes()).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains(&format!("`{year}` in column `year`")), "{e}");
    }
}
