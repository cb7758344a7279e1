//! Every `FieldSource` of pst through the shipped conformance suite
//! (`pst_core::conformance`): the readers of netCDF classic and Zarr v3 on
//! the reference dataset in every storage layout (packed int16 with a fill
//! value, a 360-day calendar, either latitude order, either longitude
//! convention, an empty time axis), and the source contract on real inputs
//! of every reader (netCDF-4, Zarr v2, GRIB1/GRIB2 on regular and Gaussian
//! grids), several files as one series, ensemble members, band-passed
//! fields, vorticity from winds and a frame range. Mutated files must give
//! errors, never panics.
#![allow(clippy::unwrap_used, clippy::panic)] // Fixture builders outside #[test] functions.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use pst_core::conformance::{ReferenceDataset, StorageLayout, check_reader, check_source};
use pst_core::{FieldSource, Subseries};
use pst_io::{GribSource, MultiFileSource, NetcdfSource, OpenOptions, ZarrSource, open_source};
use pst_spectral::{BandPass, FilteredSource, WindVorticitySource};

fn scratch(name: &str) -> pst_testkit::ScratchDir {
    pst_testkit::ScratchDir::new(&format!("conformance-{name}"))
}

/// The reference dataset as classic netCDF (the time axis unlimited).
fn write_netcdf3(path: &Path, data: &ReferenceDataset, layout: StorageLayout) {
    use netcdf3::{DataSet, FileWriter, Version};
    let mut ds = DataSet::new();
    ds.set_unlimited_dim("time", data.time_values.len()).unwrap();
    ds.add_fixed_dim("lat", 4).unwrap();
    ds.add_fixed_dim("lon", 4).unwrap();
    ds.add_var_f64("time", &["time"]).unwrap();
    ds.add_var_attr_string("time", "units", data.time_units).unwrap();
    ds.add_var_attr_string("time", "calendar", data.calendar).unwrap();
    ds.add_var_f64("lat", &["lat"]).unwrap();
    ds.add_var_attr_string("lat", "units", "degrees_north").unwrap();
    ds.add_var_f64("lon", &["lon"]).unwrap();
    ds.add_var_attr_string("lon", "units", "degrees_east").unwrap();
    ds.add_var_i16(data.variable, &["time", "lat", "lon"]).unwrap();
    ds.add_var_attr_f64(data.variable, "scale_factor", vec![data.scale_factor]).unwrap();
    ds.add_var_attr_f64(data.variable, "add_offset", vec![data.add_offset]).unwrap();
    ds.add_var_attr_i16(data.variable, "_FillValue", vec![data.fill_value]).unwrap();
    ds.add_var_attr_string(data.variable, "units", data.units).unwrap();
    let mut w = FileWriter::open(path).unwrap();
    w.set_def(&ds, Version::Classic, 0).unwrap();
    w.write_var_f64("time", &data.time_values).unwrap();
    w.write_var_f64("lat", &data.lats(layout)).unwrap();
    w.write_var_f64("lon", &data.lons(layout)).unwrap();
    if !data.time_values.is_empty() {
        w.write_var_i16(data.variable, &data.packed(layout)).unwrap();
    }
    w.close().unwrap();
}

/// The reference dataset as a Zarr v3 store (sharded, zstd).
fn write_zarr3(path: &Path, data: &ReferenceDataset, layout: StorageLayout) {
    use zarrs::array::{ArrayBuilder, ArraySubset, data_type};
    use zarrs::filesystem::FilesystemStore;
    use zarrs::group::GroupBuilder;
    let store = Arc::new(FilesystemStore::new(path).unwrap());
    GroupBuilder::new().build(store.clone(), "/").unwrap().store_metadata().unwrap();
    let coord = |name: &str, values: &[f64], attrs: serde_json::Value| {
        let n = values.len() as u64;
        let mut b = ArrayBuilder::new(vec![n], vec![n.max(1)], data_type::float64(), f64::NAN);
        b.dimension_names(Some([name])).attributes(attrs.as_object().unwrap().clone());
        let a = b.build(store.clone(), &format!("/{name}")).unwrap();
        a.store_metadata().unwrap();
        if n > 0 {
            a.store_array_subset(&ArraySubset::new_with_shape(vec![n]), values).unwrap();
        }
    };
    coord("time", &data.time_values, serde_json::json!({"units": data.time_units, "calendar": data.calendar}));
    coord("lat", &data.lats(layout), serde_json::json!({"units": "degrees_north", "standard_name": "latitude"}));
    coord("lon", &data.lons(layout), serde_json::json!({"units": "degrees_east", "standard_name": "longitude"}));
    let frames = data.time_values.len() as u64;
    let mut b = ArrayBuilder::new(vec![frames, 4, 4], vec![2u64, 4, 4], data_type::int16(), data.fill_value);
    b.dimension_names(Some(["time", "lat", "lon"]))
        .subchunk_shape(Some(vec![1u64, 2, 4]))
        .bytes_to_bytes_codecs(vec![Arc::new(zarrs::array::codec::ZstdCodec::new(3, false))])
        .attributes(
            serde_json::json!({
                "scale_factor": data.scale_factor, "add_offset": data.add_offset,
                "_FillValue": data.fill_value, "units": data.units
            })
            .as_object()
            .unwrap()
            .clone(),
        );
    let a = b.build(store.clone(), &format!("/{}", data.variable)).unwrap();
    a.store_metadata().unwrap();
    if frames > 0 {
        a.store_array_subset(&ArraySubset::new_with_shape(vec![frames, 4, 4]), data.packed(layout)).unwrap();
    }
}

/// `check_reader` on a reader: `write` stores each dataset in a new file
/// (or store) named `fixture-N.ext`, `open` reads it.
fn reader_conforms(
    ext: &str,
    write: fn(&Path, &ReferenceDataset, StorageLayout),
    open: fn(&Path, &str) -> pst_core::Result<Box<dyn FieldSource>>,
) {
    let dir = scratch(ext);
    let count = std::sync::atomic::AtomicUsize::new(0);
    let open =
        |data: &ReferenceDataset, layout: StorageLayout| -> Result<Box<dyn FieldSource>, Box<dyn std::error::Error>> {
            let path = dir.join(format!("fixture-{}.{ext}", count.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
            write(&path, data, layout);
            Ok(open(&path, data.variable)?)
        };
    check_reader(&open, true).unwrap();
}

#[test]
fn netcdf_classic_reader_conforms() {
    reader_conforms("nc", write_netcdf3, |path, variable| {
        Ok(Box::new(NetcdfSource::open(path, variable, &OpenOptions::default())?))
    });
}

#[test]
fn zarr_v3_reader_conforms() {
    reader_conforms("zarr", write_zarr3, |path, variable| {
        Ok(Box::new(ZarrSource::open(path, variable, &OpenOptions::default())?))
    });
}

/// A source of the shared data, or `None` when it is absent (skipped).
fn shared(rel: &str, variable: &str, options: &OpenOptions) -> Option<Box<dyn FieldSource>> {
    let path = pst_testkit::data_file(rel)?;
    Some(open_source(&path, variable, options).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

#[test]
fn real_inputs_of_every_reader_conform() {
    let plain = OpenOptions::default();
    let inputs = [
        ("era5/era5_msl_2025-2026_djf_2.5x2.5.nc", "msl", plain.clone()),
        ("era5/era5_vo850_2025-2026_djf_2.5x2.5.zarr", "vo", plain.clone()),
        ("era5-frames/era5_msl_2025120100_0.25x0.25.nc", "msl", plain.clone()),
        ("grib/gfs.grb", "prmsl", plain.clone()),
        ("grib/gfs.t12z.pgrbf120.2p5deg.grib2", "prmsl", plain.clone()),
        ("grib/era5-levels-members.grib", "t", plain.clone().level(850.0).member(3)),
        ("ncl-storm-1996/Pstorm.cdf", "p", plain.clone().time_units("hours since 1996-01-05 00:00")),
    ];
    for (rel, variable, options) in inputs {
        let Some(source) = shared(rel, variable, &options) else { return };
        check_source(source.as_ref()).unwrap_or_else(|v| panic!("{rel}: {v}"));
    }
    for fixture in ["n32_msl.grib1", "n32_msl_south_first.grib2", "era5_msl_2025-12-31_2.5x2.5.grib2"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grib").join(fixture);
        let source = GribSource::open(&path, "msl", &plain).unwrap();
        check_source(&source).unwrap_or_else(|v| panic!("{fixture}: {v}"));
    }
}

/// The sources built on others: several files as one series, band-passed
/// frames, vorticity from winds, a range of frames.
#[test]
fn composed_sources_conform() {
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/era5_msl_2025-12_2.5x2.5.nc");
    let grib = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grib/era5_msl_2025-12-31_2.5x2.5.grib2");
    let plain = OpenOptions::default();
    let december = open_source(&embedded, "msl", &plain).unwrap();
    // The GRIB day overlaps the December file: the series is the first 120
    // frames (to 30 December) written apart, and the GRIB file.
    let dir = scratch("series");
    let first = dir.join("first.nc");
    write_frames(&Subseries::new(december.as_ref(), 0..120), &first);
    let series = MultiFileSource::open(&[grib, first], "msl", &plain).unwrap();
    assert_eq!(series.len(), 122);
    check_source(&series).unwrap();
    check_source(&Subseries::new(december.as_ref(), 10..20)).unwrap();
    let filtered = FilteredSource::new(Subseries::new(december.as_ref(), 0..8), BandPass::new(5, 42).unwrap()).unwrap();
    check_source(&filtered).unwrap();
    let Some(input) = pst_testkit::data_file("era5-frames/era5_uv850_2025120100_2.5x2.5.nc") else { return };
    let (u, v) = (open_source(&input, "u", &plain).unwrap(), open_source(&input, "v", &plain).unwrap());
    check_source(&WindVorticitySource::new(u, v, Some(BandPass::truncation(42))).unwrap()).unwrap();
}

/// `source`'s frames as a classic netCDF file of `msl` in Pa.
fn write_frames(source: &dyn FieldSource, path: &Path) {
    use netcdf3::{DataSet, FileWriter, Version};
    let info = source.info();
    let (nlat, nlon) = info.grid.shape();
    let mut ds = DataSet::new();
    ds.set_unlimited_dim("time", source.len()).unwrap();
    ds.add_fixed_dim("latitude", nlat).unwrap();
    ds.add_fixed_dim("longitude", nlon).unwrap();
    ds.add_var_f64("time", &["time"]).unwrap();
    ds.add_var_attr_string("time", "units", "hours since 1970-01-01").unwrap();
    ds.add_var_attr_string("time", "calendar", info.calendar.cf_name()).unwrap();
    ds.add_var_f64("latitude", &["latitude"]).unwrap();
    ds.add_var_f64("longitude", &["longitude"]).unwrap();
    ds.add_var_f64("msl", &["time", "latitude", "longitude"]).unwrap();
    ds.add_var_attr_string("msl", "units", "Pa").unwrap();
    let hours: Vec<f64> = info.times.iter().map(|&t| info.calendar.to_millis(t).unwrap() as f64 / 3.6e6).collect();
    let mut values = Vec::with_capacity(source.len() * nlat * nlon);
    for k in 0..source.len() {
        values.extend(source.read_frame(k).unwrap().values().iter().copied());
    }
    let mut w = FileWriter::open(path).unwrap();
    w.set_def(&ds, Version::Classic, 0).unwrap();
    w.write_var_f64("time", &hours).unwrap();
    w.write_var_f64("latitude", info.grid.lats()).unwrap();
    w.write_var_f64("longitude", info.grid.lons()).unwrap();
    w.write_var_f64("msl", &values).unwrap();
    w.close().unwrap();
}

proptest! {
    // These cases read the shared data: a missing folder fails every case
    // under PST_REQUIRE_DATA, which must not leave a regressions file.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(100) })]

    /// Hostile bytes: opening and reading give errors, never a panic.
    #[test]
    fn netcdf_reader_survives_mutated_files(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let dir = scratch("fuzz");
        let path = dir.join("fixture.nc");
        write_netcdf3(&path, &ReferenceDataset::standard(), StorageLayout::ALL[1]);
        let mut bytes = std::fs::read(&path).unwrap();
        pst_testkit::mutate(&mut bytes, &flips, cut);
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(source) = NetcdfSource::open(&path, "msl", &OpenOptions::default()) {
            for t in 0..source.len().min(4) {
                let _ = source.read_frame(t);
            }
        }
    }
}
