//! CF-netCDF trajectories (contiguous ragged array), readable by xarray.

use pst_core::{Result, TrackReader, TrackWriter, Tracks};

/// CF-1.8 discrete sampling geometry of `featureType = "trajectory"`, as a
/// contiguous ragged array in classic netCDF:
///
/// - dimensions `trajectory` (tracks) and `obs` (points);
/// - `trajectory(trajectory)`: the track ids (`cf_role = "trajectory_id"`);
/// - `rowSize(trajectory)`: points per track (`sample_dimension = "obs"`);
/// - `time(obs)` in hours since 1970-01-01 with the tracks' calendar,
///   `lat(obs)`, `lon(obs)` and one `(obs)` variable per track variable,
///   NaN for missing values.
///
/// `xarray.open_dataset` reads it as is; `cf_xarray` and other DSG-aware
/// tools see one trajectory per track. The reader finds the same roles by
/// `cf_role`, `sample_dimension` and `standard_name` (or the names above),
/// so it reads other contiguous-ragged trajectory files too — TRACK's
/// netCDF track files among them.
#[derive(Debug, Clone, Copy, Default)]
pub struct CfTrajectories;

#[cfg(feature = "netcdf")]
impl TrackWriter for CfTrajectories {
    fn write_tracks(&self, tracks: &Tracks, out: &mut dyn std::io::Write) -> Result<()> {
        imp::write(tracks, out)
    }
}

#[cfg(feature = "netcdf")]
impl TrackReader for CfTrajectories {
    fn read_tracks(&self, bytes: &[u8]) -> Result<Tracks> {
        imp::read(bytes)
    }
}

#[cfg(not(feature = "netcdf"))]
impl TrackWriter for CfTrajectories {
    fn write_tracks(&self, _: &Tracks, _: &mut dyn std::io::Write) -> Result<()> {
        Err(not_built())
    }
}

#[cfg(not(feature = "netcdf"))]
impl TrackReader for CfTrajectories {
    fn read_tracks(&self, _: &[u8]) -> Result<Tracks> {
        Err(not_built())
    }
}

#[cfg(not(feature = "netcdf"))]
fn not_built() -> pst_core::Error {
    pst_core::Error::Unsupported(
        "CF-netCDF track files need pst-io's `netcdf` feature, which this build leaves out".into(),
    )
}

#[cfg(feature = "netcdf")]
mod imp {
    use std::cell::RefCell;
    use std::io::{Seek, SeekFrom, Write};
    use std::rc::Rc;

    use netcdf_reader::NcFile;
    use netcdf3::{DataSet, FileWriter, Version};
    use pst_core::{CfTimeUnits, Error, Result, Tracks, TracksColumns, TracksMetadata, Variable, standard_variable};

    const TIME_UNITS: &str = "hours since 1970-01-01 00:00:00";

    /// A growable in-memory file the netCDF-3 writer can seek in.
    #[derive(Clone, Default)]
    struct SharedBuffer {
        bytes: Rc<RefCell<Vec<u8>>>,
        position: u64,
    }

    impl Write for SharedBuffer {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            let mut bytes = self.bytes.borrow_mut();
            let start = self.position as usize;
            if bytes.len() < start + data.len() {
                bytes.resize(start + data.len(), 0);
            }
            bytes[start..start + data.len()].copy_from_slice(data);
            self.position += data.len() as u64;
            Ok(data.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Seek for SharedBuffer {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            let len = self.bytes.borrow().len() as i64;
            let target = match to {
                SeekFrom::Start(p) => p as i64,
                SeekFrom::End(d) => len + d,
                SeekFrom::Current(d) => self.position as i64 + d,
            };
            if target < 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start"));
            }
            self.position = target as u64;
            Ok(self.position)
        }
    }

    fn write_error(e: impl std::fmt::Debug) -> Error {
        Error::Format(format!("cannot encode netCDF: {e:?}"))
    }

    /// A netCDF variable name for a track variable (netCDF-3 names are limited).
    fn nc_name(name: &str) -> String {
        let cleaned: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
        if cleaned.starts_with(|c: char| c.is_ascii_digit()) || cleaned.is_empty() {
            format!("v_{cleaned}")
        } else {
            cleaned
        }
    }

    pub(super) fn write(tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        {
            let (nt, n) = (tracks.len(), tracks.num_points());
            if nt == 0 {
                return Err(Error::InvalidArgument(
                    "no tracks to write: classic netCDF cannot hold an empty trajectory dimension".into(),
                ));
            }
            let calendar = tracks.metadata().calendar;
            let units = CfTimeUnits::parse(TIME_UNITS, Some(calendar.cf_name()))?;
            let ids: Vec<i32> = tracks
                .ids()
                .iter()
                .map(|&id| {
                    i32::try_from(id)
                        .map_err(|_| Error::InvalidArgument(format!("track id {id} does not fit netCDF-3's int")))
                })
                .collect::<Result<_>>()?;
            let row_size: Vec<i32> = tracks.iter().map(|t| t.len() as i32).collect();
            let hours: Vec<f64> = tracks.times().iter().map(|&t| units.encode(t)).collect::<Result<_>>()?;

            let mut ds = DataSet::new();
            ds.add_fixed_dim("trajectory", nt).map_err(write_error)?;
            ds.add_fixed_dim("obs", n).map_err(write_error)?;
            ds.add_global_attr_string("Conventions", "CF-1.8").map_err(write_error)?;
            ds.add_global_attr_string("featureType", "trajectory").map_err(write_error)?;
            ds.add_global_attr_string("source", "pst").map_err(write_error)?;
            // The run's provenance: `history` holds the command; every step
            // parameter becomes `<operation>_<parameter>`, every tracker
            // parameter `tracking_<parameter>`.
            let meta = tracks.metadata();
            for step in &meta.processing {
                for (name, value) in &step.parameters {
                    let attribute = if (step.operation.as_str(), name.as_str()) == ("provenance", "command") {
                        "history".to_string()
                    } else {
                        nc_name(&format!("{}_{name}", step.operation))
                    };
                    ds.add_global_attr_string(&attribute, value).map_err(write_error)?;
                }
            }
            if let Some(algorithm) = &meta.algorithm {
                ds.add_global_attr_string("tracking_algorithm", algorithm).map_err(write_error)?;
            }
            for (name, value) in &meta.attributes {
                ds.add_global_attr_string(&nc_name(&format!("tracking_{name}")), value).map_err(write_error)?;
            }
            if let Some(v) = &tracks.metadata().variable {
                ds.add_global_attr_string("primary_variable", v).map_err(write_error)?;
            }
            if let Some(m) = tracks.metadata().detection_mode {
                ds.add_global_attr_string("detection_mode", m.as_str()).map_err(write_error)?;
            }
            ds.add_var_i32("trajectory", &["trajectory"]).map_err(write_error)?;
            ds.add_var_attr_string("trajectory", "cf_role", "trajectory_id").map_err(write_error)?;
            ds.add_var_attr_string("trajectory", "long_name", "track id").map_err(write_error)?;
            ds.add_var_i32("rowSize", &["trajectory"]).map_err(write_error)?;
            ds.add_var_attr_string("rowSize", "sample_dimension", "obs").map_err(write_error)?;
            ds.add_var_attr_string("rowSize", "long_name", "number of points of each track").map_err(write_error)?;
            for (name, standard, unit) in [
                ("time", "time", TIME_UNITS),
                ("lat", "latitude", "degrees_north"),
                ("lon", "longitude", "degrees_east"),
            ] {
                ds.add_var_f64(name, &["obs"]).map_err(write_error)?;
                ds.add_var_attr_string(name, "standard_name", standard).map_err(write_error)?;
                ds.add_var_attr_string(name, "units", unit).map_err(write_error)?;
            }
            ds.add_var_attr_string("time", "calendar", calendar.cf_name()).map_err(write_error)?;
            let names: Vec<String> = tracks.variables().iter().map(|v| nc_name(&v.name)).collect();
            for (v, name) in tracks.variables().iter().zip(&names) {
                if ["time", "lat", "lon", "trajectory", "rowSize"].contains(&name.as_str()) {
                    return Err(Error::InvalidArgument(format!(
                        "variable `{}` clashes with a coordinate name",
                        v.name
                    )));
                }
                ds.add_var_f64(name, &["obs"]).map_err(write_error)?;
                ds.add_var_attr_string(name, "long_name", &v.name).map_err(write_error)?;
                // netCDF-3 names are restricted; keep the original for the way back.
                ds.add_var_attr_string(name, "pst_name", &v.name).map_err(write_error)?;
                if let Some(u) = &v.units {
                    ds.add_var_attr_string(name, "units", u).map_err(write_error)?;
                }
                ds.add_var_attr_string(name, "coordinates", "time lat lon").map_err(write_error)?;
            }

            let buffer = SharedBuffer::default();
            let bytes = Rc::clone(&buffer.bytes);
            {
                let mut writer = FileWriter::open_seek_write("tracks.nc", Box::new(buffer)).map_err(write_error)?;
                writer.set_def(&ds, Version::Offset64Bit, 0).map_err(write_error)?;
                writer.write_var_i32("trajectory", &ids).map_err(write_error)?;
                writer.write_var_i32("rowSize", &row_size).map_err(write_error)?;
                writer.write_var_f64("time", &hours).map_err(write_error)?;
                writer.write_var_f64("lat", tracks.lats()).map_err(write_error)?;
                writer.write_var_f64("lon", tracks.lons()).map_err(write_error)?;
                for (v, name) in tracks.variables().iter().zip(&names) {
                    writer.write_var_f64(name, &v.values).map_err(write_error)?;
                }
                writer.close().map_err(write_error)?;
            }
            let bytes = bytes.borrow();
            out.write_all(&bytes)?;
            Ok(())
        }
    }

    pub(super) fn read(bytes: &[u8]) -> Result<Tracks> {
        {
            let file =
                NcFile::from_bytes(bytes).map_err(|e| Error::Format(format!("not a readable netCDF file: {e}")))?;
            let vars = file.variables().map_err(|e| Error::Format(format!("netCDF metadata: {e}")))?;
            let text = |v: &netcdf_reader::NcVariable, key: &str| v.attribute(key).and_then(|a| a.value.as_string());
            let row_var = vars.iter().find(|v| text(v, "sample_dimension").is_some()).ok_or_else(|| {
                Error::Format("no variable with a `sample_dimension` attribute: not a contiguous ragged array".into())
            })?;
            let obs = text(row_var, "sample_dimension").unwrap_or_default();
            let read = |name: &str| -> Result<Vec<f64>> {
                file.read_variable_unpacked_masked(name)
                    .map(|a| a.iter().copied().collect())
                    .map_err(|e| Error::Format(format!("cannot read `{name}`: {e}")))
            };
            let by_role = |standard: &str, names: &[&str]| {
                vars.iter()
                    .find(|v| text(v, "standard_name").as_deref() == Some(standard))
                    .or_else(|| vars.iter().find(|v| names.contains(&v.name())))
                    .map(|v| v.name().to_string())
                    .ok_or_else(|| Error::Format(format!("no {standard} variable")))
            };
            let time_name = by_role("time", &["time"])?;
            let lat_name = by_role("latitude", &["lat", "latitude"])?;
            let lon_name = by_role("longitude", &["lon", "longitude"])?;
            let time_var =
                vars.iter().find(|v| v.name() == time_name).ok_or_else(|| Error::Format("no time".into()))?;
            let units = CfTimeUnits::parse(
                &text(time_var, "units").ok_or_else(|| Error::Format("time has no units".into()))?,
                text(time_var, "calendar").as_deref(),
            )?;
            let row_size = read(row_var.name())?;
            let ids = match vars.iter().find(|v| text(v, "cf_role").as_deref() == Some("trajectory_id")) {
                Some(v) => read(v.name())?.iter().map(|&x| x as u64).collect(),
                None => (1..=row_size.len() as u64).collect(),
            };
            let mut offsets = vec![0usize];
            for &n in &row_size {
                if n.is_nan() || n < 0.0 {
                    return Err(Error::Format(format!("row size {n} is not a count")));
                }
                offsets.push(offsets[offsets.len() - 1] + n as usize);
            }
            let times = read(&time_name)?.iter().map(|&h| units.decode(h)).collect::<Result<Vec<_>>>()?;
            let skip = [time_name.as_str(), lat_name.as_str(), lon_name.as_str()];
            let variables = vars
                .iter()
                .filter(|v| v.dimensions().len() == 1 && v.dimensions()[0].name == obs && !skip.contains(&v.name()))
                .map(|v| {
                    Ok(Variable {
                        name: text(v, "pst_name").unwrap_or_else(|| v.name().to_string()),
                        units: text(v, "units"),
                        values: read(v.name())?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let global = |key: &str| file.global_attribute(key).ok().and_then(|a| a.value.as_string());
            // Without pst's attribute, the first variable declaring coordinates
            // is the data (TRACK's files also carry an integer `index`).
            let with_coordinates = vars
                .iter()
                .filter(|v| {
                    v.dimensions().len() == 1 && v.dimensions()[0].name == obs && v.attribute("coordinates").is_some()
                })
                .map(|v| text(v, "pst_name").unwrap_or_else(|| v.name().to_string()))
                .next();
            let variable =
                global("primary_variable").or(with_coordinates).or_else(|| variables.first().map(|v| v.name.clone()));
            let detection_mode = global("detection_mode")
                .and_then(|m| m.parse().ok())
                .or_else(|| variable.as_deref().and_then(standard_variable).map(|s| s.mode));
            Tracks::from_columns(TracksColumns {
                ids,
                offsets,
                times,
                lats: read(&lat_name)?,
                lons: read(&lon_name)?,
                variables,
                metadata: TracksMetadata { calendar: units.calendar(), variable, detection_mode, ..Default::default() },
            })
        }
    }
}
