//! One conformance suite that every `FieldSource` reader runs: the same
//! logical dataset — int16 values packed with `scale_factor`/`add_offset`, a
//! `_FillValue`, a 360-day calendar — written in every layout users meet
//! (latitude ascending or descending, longitudes 0…360 or −180…180), as
//! classic netCDF and as Zarr v3 (sharded, zstd), must decode to the same
//! physical values at the same coordinates. Mutated files must give errors,
//! never panics.
#![allow(clippy::unwrap_used, clippy::panic)] // Fixture builders outside #[test] functions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use pst_core::{Calendar, FieldSource, normalize_lon_360};
use pst_io::{NetcdfSource, OpenOptions, ZarrSource};

const LATS: [f64; 4] = [-10.0, 0.0, 10.0, 20.0];
const LONS: [f64; 4] = [0.0, 90.0, 180.0, 270.0];
const DAYS: [f64; 4] = [0.0, 29.0, 30.0, 59.0];
const FILL: i16 = -32767;
const SCALE: f64 = 0.5;
const OFFSET: f64 = 100_000.0;

/// Stored integer at canonical indices (ascending latitude, longitude from 0°E).
fn raw(t: usize, i: usize, j: usize) -> i16 {
    if (t, i, j) == (1, 2, 3) { FILL } else { (t * 100 + i * 10 + j) as i16 }
}

/// The physical value a reader must return.
fn expected(t: usize, lat: f64, lon: f64) -> f64 {
    let i = LATS.iter().position(|&l| l == lat).unwrap();
    let j = LONS.iter().position(|&l| l == normalize_lon_360(lon)).unwrap();
    match raw(t, i, j) {
        FILL => f64::NAN,
        r => f64::from(r) * SCALE + OFFSET,
    }
}

/// A storage layout of the fixture.
#[derive(Debug, Clone, Copy)]
struct Layout {
    descending: bool,
    signed_lons: bool,
}

impl Layout {
    fn all() -> [Layout; 4] {
        [
            Layout { descending: false, signed_lons: false },
            Layout { descending: true, signed_lons: false },
            Layout { descending: false, signed_lons: true },
            Layout { descending: true, signed_lons: true },
        ]
    }

    fn lats(self) -> Vec<f64> {
        let mut l = LATS.to_vec();
        if self.descending {
            l.reverse();
        }
        l
    }

    fn lons(self) -> Vec<f64> {
        if self.signed_lons { vec![-180.0, -90.0, 0.0, 90.0] } else { LONS.to_vec() }
    }

    /// Stored values in (time, lat, lon) order for this layout.
    fn data(self) -> Vec<i16> {
        let (lats, lons) = (self.lats(), self.lons());
        let mut out = Vec::new();
        for t in 0..4 {
            for &lat in &lats {
                for &lon in &lons {
                    let i = LATS.iter().position(|&l| l == lat).unwrap();
                    let j = LONS.iter().position(|&l| l == normalize_lon_360(lon)).unwrap();
                    out.push(raw(t, i, j));
                }
            }
        }
        out
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pst-conformance-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_netcdf3(path: &Path, layout: Layout) {
    use netcdf3::{DataSet, FileWriter, Version};
    let mut ds = DataSet::new();
    ds.add_fixed_dim("time", 4).unwrap();
    ds.add_fixed_dim("lat", 4).unwrap();
    ds.add_fixed_dim("lon", 4).unwrap();
    ds.add_var_f64("time", &["time"]).unwrap();
    ds.add_var_attr_string("time", "units", "days since 2000-01-01").unwrap();
    ds.add_var_attr_string("time", "calendar", "360_day").unwrap();
    ds.add_var_f64("lat", &["lat"]).unwrap();
    ds.add_var_attr_string("lat", "units", "degrees_north").unwrap();
    ds.add_var_f64("lon", &["lon"]).unwrap();
    ds.add_var_attr_string("lon", "units", "degrees_east").unwrap();
    ds.add_var_i16("msl", &["time", "lat", "lon"]).unwrap();
    ds.add_var_attr_f64("msl", "scale_factor", vec![SCALE]).unwrap();
    ds.add_var_attr_f64("msl", "add_offset", vec![OFFSET]).unwrap();
    ds.add_var_attr_i16("msl", "_FillValue", vec![FILL]).unwrap();
    ds.add_var_attr_string("msl", "units", "Pa").unwrap();
    let mut w = FileWriter::open(path).unwrap();
    w.set_def(&ds, Version::Classic, 0).unwrap();
    w.write_var_f64("time", &DAYS).unwrap();
    w.write_var_f64("lat", &layout.lats()).unwrap();
    w.write_var_f64("lon", &layout.lons()).unwrap();
    w.write_var_i16("msl", &layout.data()).unwrap();
    w.close().unwrap();
}

fn write_zarr3(path: &Path, layout: Layout) {
    use zarrs::array::{ArrayBuilder, ArraySubset, data_type};
    use zarrs::filesystem::FilesystemStore;
    use zarrs::group::GroupBuilder;
    let store = Arc::new(FilesystemStore::new(path).unwrap());
    GroupBuilder::new().build(store.clone(), "/").unwrap().store_metadata().unwrap();
    let coord = |name: &str, values: &[f64], attrs: serde_json::Value| {
        let mut b =
            ArrayBuilder::new(vec![values.len() as u64], vec![values.len() as u64], data_type::float64(), f64::NAN);
        b.dimension_names(Some([name])).attributes(attrs.as_object().unwrap().clone());
        let a = b.build(store.clone(), &format!("/{name}")).unwrap();
        a.store_metadata().unwrap();
        a.store_array_subset(&ArraySubset::new_with_shape(vec![values.len() as u64]), values).unwrap();
    };
    coord("time", &DAYS, serde_json::json!({"units": "days since 2000-01-01", "calendar": "360_day"}));
    coord("lat", &layout.lats(), serde_json::json!({"units": "degrees_north", "standard_name": "latitude"}));
    coord("lon", &layout.lons(), serde_json::json!({"units": "degrees_east", "standard_name": "longitude"}));
    let mut b = ArrayBuilder::new(vec![4u64, 4, 4], vec![2u64, 4, 4], data_type::int16(), FILL);
    b.dimension_names(Some(["time", "lat", "lon"]))
        .subchunk_shape(Some(vec![1u64, 2, 4]))
        .bytes_to_bytes_codecs(vec![Arc::new(zarrs::array::codec::ZstdCodec::new(3, false))])
        .attributes(
            serde_json::json!({"scale_factor": SCALE, "add_offset": OFFSET, "_FillValue": FILL, "units": "Pa"})
                .as_object()
                .unwrap()
                .clone(),
        );
    let a = b.build(store.clone(), "/msl").unwrap();
    a.store_metadata().unwrap();
    a.store_array_subset(&ArraySubset::new_with_shape(vec![4, 4, 4]), layout.data()).unwrap();
}

/// The conformance checks every source must pass.
fn conform(source: &dyn FieldSource, what: &str) {
    let info = source.info();
    assert_eq!(source.len(), 4, "{what}");
    assert_eq!(info.calendar, Calendar::Day360, "{what}");
    let times: Vec<String> = info.times.iter().map(|t| t.to_string()).collect();
    assert_eq!(
        times,
        ["2000-01-01T00:00:00", "2000-01-30T00:00:00", "2000-02-01T00:00:00", "2000-02-30T00:00:00"],
        "{what}"
    );
    assert!(info.grid.is_periodic(), "{what}");
    assert_eq!(info.units.as_deref(), Some("Pa"), "{what}");
    for t in 0..4 {
        let frame = source.read_frame(t).unwrap_or_else(|e| panic!("{what}: {e}"));
        for (i, &lat) in info.grid.lats().iter().enumerate() {
            for (j, &lon) in info.grid.lons().iter().enumerate() {
                let (got, want) = (frame.value(i, j), expected(t, lat, lon));
                assert!(
                    got == want || (got.is_nan() && want.is_nan()),
                    "{what}: t={t} ({lat}, {lon}): {got} != {want}"
                );
            }
        }
    }
    let e = source.read_frame(4).unwrap_err();
    assert!(e.to_string().contains("out of range"), "{what}: {e}");
}

#[test]
fn netcdf_classic_sources_conform() {
    for layout in Layout::all() {
        let dir = scratch("nc");
        let path = dir.join("fixture.nc");
        write_netcdf3(&path, layout);
        let source = NetcdfSource::open(&path, "msl", &OpenOptions::default()).unwrap();
        conform(&source, &format!("netCDF-3 {layout:?}"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn zarr_v3_sources_conform() {
    for layout in Layout::all() {
        let dir = scratch("zarr");
        let path = dir.join("fixture.zarr");
        write_zarr3(&path, layout);
        let source = ZarrSource::open(&path, "msl", &OpenOptions::default()).unwrap();
        conform(&source, &format!("Zarr v3 {layout:?}"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn empty_time_axes_are_empty_sources() {
    // A netCDF file with no time steps opens as a source of no frames.
    use netcdf3::{DataSet, FileWriter, Version};
    let dir = scratch("empty");
    let path = dir.join("empty.nc");
    let mut ds = DataSet::new();
    ds.set_unlimited_dim("time", 0).unwrap();
    ds.add_fixed_dim("lat", 2).unwrap();
    ds.add_fixed_dim("lon", 4).unwrap();
    ds.add_var_f64("time", &["time"]).unwrap();
    ds.add_var_attr_string("time", "units", "hours since 2000-01-01").unwrap();
    ds.add_var_f64("lat", &["lat"]).unwrap();
    ds.add_var_f64("lon", &["lon"]).unwrap();
    ds.add_var_f32("msl", &["time", "lat", "lon"]).unwrap();
    let mut w = FileWriter::open(&path).unwrap();
    w.set_def(&ds, Version::Classic, 0).unwrap();
    w.write_var_f64("lat", &[0.0, 10.0]).unwrap();
    w.write_var_f64("lon", &LONS).unwrap();
    w.close().unwrap();
    let source = NetcdfSource::open(&path, "msl", &OpenOptions::default()).unwrap();
    assert!(source.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Hostile bytes: opening and reading give errors, never a panic.
    #[test]
    fn netcdf_reader_survives_mutated_files(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let dir = scratch("fuzz");
        let path = dir.join("fixture.nc");
        write_netcdf3(&path, Layout::all()[1]);
        let mut bytes = std::fs::read(&path).unwrap();
        pst_testkit::mutate(&mut bytes, &flips, cut);
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(source) = NetcdfSource::open(&path, "msl", &OpenOptions::default()) {
            for t in 0..source.len().min(4) {
                let _ = source.read_frame(t);
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
