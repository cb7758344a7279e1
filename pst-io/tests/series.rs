//! Series made of several files: the ERA5 DJF msl series split into its
//! months (written here as netCDF-3), in any order, mixed with GRIB, with
//! gaps, overlaps and mismatched grids; and a thousand small files.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use pst_core::{FieldSource, SourceInfo, Timestamp, TrackWriter, Tracker};
use pst_io::{Imilast, MultiFileSource, OpenOptions, expand_inputs, open_series, open_source};
use pst_link::SimpleTracker;

fn scratch(name: &str) -> pst_testkit::ScratchDir {
    pst_testkit::ScratchDir::new(&format!("series-{name}"))
}

/// Writes `frames` of `source` to a netCDF-3 file as ERA5 lays them out
/// (float32 msl, hours since 1900).
fn write_frames(source: &dyn FieldSource, frames: std::ops::Range<usize>, path: &Path) {
    write_members(source, frames, path, None);
}

/// Like [`write_frames`], with a leading member dimension `(name, values)`
/// holding a copy of the series for each member.
fn write_members(
    source: &dyn FieldSource,
    frames: std::ops::Range<usize>,
    path: &Path,
    members: Option<(&str, &[f64])>,
) {
    use netcdf3::{DataSet, FileWriter, Version};
    let grid = &source.info().grid;
    let (nlat, nlon) = grid.shape();
    let calendar = source.info().calendar;
    let epoch = calendar.to_millis(Timestamp::from_ymdh(1900, 1, 1, 0).unwrap()).unwrap();
    let hours: Vec<f64> =
        frames.clone().map(|k| (calendar.to_millis(source.info().times[k]).unwrap() - epoch) as f64 / 3.6e6).collect();
    let mut values = Vec::with_capacity(frames.len() * nlat * nlon);
    for k in frames.clone() {
        values.extend(source.read_frame(k).unwrap().values().iter().map(|&v| v as f32));
    }
    let mut ds = DataSet::new();
    let mut dims = vec!["valid_time", "latitude", "longitude"];
    if let Some((name, values)) = members {
        ds.add_fixed_dim(name, values.len()).unwrap();
        ds.add_var_f64(name, &[name]).unwrap();
        dims.insert(0, name);
    }
    ds.add_fixed_dim("valid_time", frames.len()).unwrap();
    ds.add_fixed_dim("latitude", nlat).unwrap();
    ds.add_fixed_dim("longitude", nlon).unwrap();
    ds.add_var_f64("valid_time", &["valid_time"]).unwrap();
    ds.add_var_attr_string("valid_time", "units", "hours since 1900-01-01").unwrap();
    ds.add_var_attr_string("valid_time", "calendar", "proleptic_gregorian").unwrap();
    ds.add_var_f64("latitude", &["latitude"]).unwrap();
    ds.add_var_attr_string("latitude", "units", "degrees_north").unwrap();
    ds.add_var_f64("longitude", &["longitude"]).unwrap();
    ds.add_var_attr_string("longitude", "units", "degrees_east").unwrap();
    ds.add_var_f32("msl", &dims).unwrap();
    ds.add_var_attr_string("msl", "units", "Pa").unwrap();
    let mut w = FileWriter::open(path).unwrap();
    w.set_def(&ds, Version::Offset64Bit, 0).unwrap();
    if let Some((name, member_values)) = members {
        w.write_var_f64(name, member_values).unwrap();
        values = values.repeat(member_values.len());
    }
    w.write_var_f64("valid_time", &hours).unwrap();
    w.write_var_f64("latitude", grid.lats()).unwrap();
    w.write_var_f64("longitude", grid.lons()).unwrap();
    w.write_var_f32("msl", &values).unwrap();
    w.close().unwrap();
}

fn imilast(source: &dyn FieldSource) -> String {
    let tracks = SimpleTracker::default().track(source).unwrap();
    let mut out = Vec::new();
    Imilast.write_tracks(&tracks, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The DJF series' three months as three files, and the single file.
fn djf_months(dir: &Path) -> Option<(Box<dyn FieldSource>, [PathBuf; 3])> {
    let path = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc")?;
    let whole = open_source(&path, "msl", &OpenOptions::default()).unwrap();
    let months = [("2025-12", 0..124), ("2026-01", 124..248), ("2026-02", 248..360)];
    let files = months.map(|(name, frames)| {
        let file = dir.join(format!("era5_msl_{name}.nc"));
        write_frames(whole.as_ref(), frames, &file);
        file
    });
    Some((whole, files))
}

#[test]
fn three_months_in_any_order_track_like_the_single_file() {
    let dir = scratch("months");
    let Some((whole, [dec, jan, feb])) = djf_months(&dir) else { return };
    let expected = imilast(whole.as_ref());
    for order in [[&dec, &jan, &feb], [&feb, &dec, &jan], [&jan, &feb, &dec]] {
        let series = MultiFileSource::open(&order, "msl", &OpenOptions::default()).unwrap();
        assert_eq!(series.files(), [dec.as_path(), jan.as_path(), feb.as_path()], "ordered by time, not by argument");
        assert_eq!(series.info().times, whole.info().times);
        assert!(series.gaps().is_empty());
        assert_eq!(imilast(&series), expected);
    }
    // A glob and a list file name the same series.
    let (globbed, missing) = expand_inputs(&[format!("{}/era5_msl_*.nc", dir.display())]).unwrap();
    assert_eq!((globbed.len(), missing.len()), (3, 0));
    let list = dir.join("months.txt");
    std::fs::write(&list, "# DJF\nera5_msl_2026-02.nc\nera5_msl_2025-12.nc\n\nera5_msl_2026-01.nc\n").unwrap();
    for argument in [format!("@{}", list.display()), list.display().to_string()] {
        let (listed, missing) = expand_inputs(&[argument]).unwrap();
        assert_eq!((listed.len(), missing.len()), (3, 0));
        assert_eq!(imilast(open_series(&listed, "msl", &OpenOptions::default()).unwrap().0.as_ref()), expected);
    }
}

#[test]
fn a_missing_month_is_a_gap_and_an_overlap_is_an_error() {
    let dir = scratch("gaps");
    let Some((whole, [dec, jan, feb])) = djf_months(&dir) else { return };
    // January listed but absent: reported, and the series has a gap there.
    let list = dir.join("months.txt");
    std::fs::write(&list, "era5_msl_2025-12.nc\nera5_msl_2026-01-missing.nc\nera5_msl_2026-02.nc\n").unwrap();
    let (listed, missing) = expand_inputs(&[format!("@{}", list.display())]).unwrap();
    assert_eq!(missing, [dir.join("era5_msl_2026-01-missing.nc")]);
    let series = MultiFileSource::open(&listed, "msl", &OpenOptions::default()).unwrap();
    assert_eq!(series.len(), 124 + 112);
    let gap = series.gaps()[0];
    assert_eq!(
        (gap.after.to_string(), gap.before.to_string()),
        ("2025-12-31T18:00:00".into(), "2026-02-01T00:00:00".into())
    );
    assert_eq!((series.gaps().len(), gap.missing), (1, 124));
    // The linker does not join tracks across the gap.
    let tracks = SimpleTracker::default().track(&series).unwrap();
    let jump = tracks.iter().any(|t| t.times().windows(2).any(|w| w[0] == gap.after && w[1] == gap.before));
    assert!(!jump, "a track spans the gap");

    let copy = dir.join("copy-of-january.nc");
    std::fs::copy(&jan, &copy).unwrap();
    let e = MultiFileSource::open(&[&dec, &jan, &copy], "msl", &OpenOptions::default()).unwrap_err().to_string();
    assert!(e.contains("overlap") && e.contains("copy-of-january.nc") && e.contains("era5_msl_2026-01.nc"), "{e}");
    drop((whole, feb));
}

#[test]
fn files_on_another_grid_are_named() {
    let dir = scratch("grids");
    let Some((_, [dec, jan, _])) = djf_months(&dir) else { return };
    let Some(fine) = pst_testkit::data_file("era5-frames/era5_msl_2025120100_0.25x0.25.nc") else { return };
    let e = MultiFileSource::open(&[&dec, &fine, &jan], "msl", &OpenOptions::default()).unwrap_err().to_string();
    assert!(e.contains("era5_msl_2025120100_0.25x0.25.nc") && e.contains("721×1440") && e.contains("73×144"), "{e}");
    let e = MultiFileSource::open(&[&dec, &dir.join("nope.nc")], "msl", &OpenOptions::default()).unwrap_err();
    assert!(e.to_string().contains("nope.nc"), "{e}");
    // January replaced, after the series was opened, by a file of the same
    // times on a grid shifted by half a cell: an error when it is read.
    let series = MultiFileSource::open(&[&dec, &jan], "msl", &OpenOptions::default()).unwrap();
    let january = open_source(&jan, "msl", &OpenOptions::default()).unwrap();
    let shifted = Shifted::new(january.as_ref(), 1.25);
    write_frames(&shifted, 0..january.len(), &jan);
    series.read_frame(0).unwrap();
    let e = series.read_frame(124).unwrap_err().to_string();
    assert!(e.contains("era5_msl_2026-01.nc") && e.contains("the grid is") && e.contains("(90, 1.25)"), "{e}");
}

/// A source's frames on its grid moved east by `degrees`.
struct Shifted<'a> {
    inner: &'a dyn FieldSource,
    info: SourceInfo,
}

impl<'a> Shifted<'a> {
    fn new(inner: &'a dyn FieldSource, degrees: f64) -> Self {
        let grid = &inner.info().grid;
        let lons = grid.lons().iter().map(|l| l + degrees).collect();
        let grid = std::sync::Arc::new(pst_core::Grid::new(grid.lats().to_vec(), lons).unwrap());
        Shifted { inner, info: SourceInfo { grid, ..inner.info().clone() } }
    }
}

impl FieldSource for Shifted<'_> {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> pst_core::Result<pst_core::Frame> {
        let frame = self.inner.read_frame(index)?;
        pst_core::Frame::new(self.info.grid.clone(), frame.time(), frame.values().clone())
    }
}

/// December as netCDF to the 31st 06Z, then the last two frames as GRIB
/// (24-bit packing holds ERA5's float32 values exactly).
#[test]
fn netcdf_and_grib_mix_in_one_series() {
    let dir = scratch("mixed");
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/era5_msl_2025-12_2.5x2.5.nc");
    let grib = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grib/era5_msl_2025-12-31_2.5x2.5.grib2");
    let whole = open_source(&embedded, "msl", &OpenOptions::default()).unwrap();
    let netcdf = dir.join("era5_msl_2025-12-01_30.nc");
    write_frames(whole.as_ref(), 0..122, &netcdf);
    let series = MultiFileSource::open(&[&grib, &netcdf], "msl", &OpenOptions::default()).unwrap();
    assert_eq!(series.info().times, whole.info().times);
    assert_eq!(series.read_frame(123).unwrap().values(), whole.read_frame(123).unwrap().values());
    assert_eq!(imilast(&series), imilast(whole.as_ref()));
}

/// A thousand one-frame files open as one series (metadata only) and read
/// back in time order whatever their names.
#[test]
fn a_thousand_small_files() {
    use netcdf3::{DataSet, FileWriter, Version};
    let dir = scratch("thousand");
    let mut paths = Vec::new();
    for k in 0..1000usize {
        // Names in reverse time order: the series must sort by time.
        let path = dir.join(format!("part-{:04}.nc", 999 - k));
        let mut ds = DataSet::new();
        ds.add_fixed_dim("time", 1).unwrap();
        ds.add_fixed_dim("lat", 3).unwrap();
        ds.add_fixed_dim("lon", 4).unwrap();
        ds.add_var_f64("time", &["time"]).unwrap();
        ds.add_var_attr_string("time", "units", "hours since 2000-01-01").unwrap();
        ds.add_var_f64("lat", &["lat"]).unwrap();
        ds.add_var_attr_string("lat", "units", "degrees_north").unwrap();
        ds.add_var_f64("lon", &["lon"]).unwrap();
        ds.add_var_attr_string("lon", "units", "degrees_east").unwrap();
        ds.add_var_f32("msl", &["time", "lat", "lon"]).unwrap();
        let mut w = FileWriter::open(&path).unwrap();
        w.set_def(&ds, Version::Classic, 0).unwrap();
        w.write_var_f64("time", &[6.0 * k as f64]).unwrap();
        w.write_var_f64("lat", &[-45.0, 0.0, 45.0]).unwrap();
        w.write_var_f64("lon", &[0.0, 90.0, 180.0, 270.0]).unwrap();
        w.write_var_f32("msl", &[k as f32; 12]).unwrap();
        w.close().unwrap();
        paths.push(path);
    }
    let started = std::time::Instant::now();
    let series = MultiFileSource::open(&paths, "msl", &OpenOptions::default()).unwrap();
    eprintln!("opened 1000 files in {:.1?}", started.elapsed());
    assert_eq!(series.len(), 1000);
    for k in [0, 1, 500, 999, 3] {
        assert_eq!(series.read_frame(k).unwrap().value(1, 1), k as f64);
    }
}

/// A member dimension holding two copies of December: each member reads
/// the same frames, and `list_members` finds them.
#[test]
fn ensemble_members_in_a_netcdf_dimension() {
    let dir = scratch("members");
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/era5_msl_2025-12_2.5x2.5.nc");
    let whole = open_source(&embedded, "msl", &OpenOptions::default()).unwrap();
    let path = dir.join("two_members.nc");
    write_members(whole.as_ref(), 0..124, &path, Some(("number", &[3.0, 7.0])));
    assert_eq!(pst_io::list_members(&path, "msl", &OpenOptions::default()).unwrap(), [3, 7]);
    assert!(pst_io::list_members(&embedded, "msl", &OpenOptions::default()).unwrap().is_empty());
    let e = open_source(&path, "msl", &OpenOptions::default()).err().unwrap().to_string();
    assert!(e.contains("2 ensemble members") && e.contains("3, 7"), "{e}");
    let expected = imilast(whole.as_ref());
    for member in [3, 7] {
        let options = OpenOptions::default().member(member);
        let source = open_source(&path, "msl", &options).unwrap();
        assert_eq!(source.read_frame(100).unwrap().values(), whole.read_frame(100).unwrap().values());
        assert_eq!(imilast(source.as_ref()), expected, "member {member}");
    }
    let e = open_source(&path, "msl", &OpenOptions::default().member(4)).err().unwrap();
    assert!(e.to_string().contains("no member 4"), "{e}");
}
