//! Track density: how many tracks pass near each point of a grid, per
//! month and unit area.

use pst_core::{EARTH_RADIUS_KM, Tracks, cosine_law_angle_rad};

use crate::{Error, Result};

/// Days in a mean Gregorian month, the "month" of densities.
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// Track density as Hoskins and Hodges (2002) report it: the number of
/// tracks passing within a spherical cap (by default 5° of great circle,
/// about 10⁶ km²) of each grid point, counting each track once, per month,
/// scaled to tracks per 10⁶ km². The cap is the smoothing: a storm counts
/// at every grid point within its radius.
///
/// ```
/// use pst_core::{Calendar, Timestamp, TracksBuilder};
/// use pst_plot::TrackDensity;
///
/// // One track along the equator over 30.4375 days (one month).
/// let mut b = TracksBuilder::new(["msl"]);
/// b.begin_track(1);
/// let t0 = Timestamp::from_ymdh(2026, 1, 1, 0)?;
/// let step = 6 * 3_600_000;
/// let steps = (30.4375 * 4.0) as i64; // 121 six-hourly steps
/// for k in 0..steps {
///     let time = Calendar::Standard.from_millis(Calendar::Standard.to_millis(t0)? + k * step);
///     b.push(time, 0.0, 2.0 * k as f64 % 360.0, &[99_000.0])?;
/// }
/// b.end_track()?;
/// let grid = TrackDensity::default().compute(&b.finish()?)?;
/// // Near the equator the track passed once in ~one month: about
/// // 1 / (cap area in 10⁶ km²) ≈ 1.03 tracks per 10⁶ km² per month.
/// let at = |lat: f64, lon: f64| grid.value(lat, lon).unwrap();
/// assert!((at(1.25, 101.25) - 1.03).abs() < 0.02, "{}", at(1.25, 101.25));
/// assert_eq!(at(41.25, 101.25), 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackDensity {
    grid_deg: f64,
    radius_deg: f64,
}

impl Default for TrackDensity {
    fn default() -> Self {
        TrackDensity { grid_deg: 2.5, radius_deg: 5.0 }
    }
}

/// Track density on a regular latitude-longitude grid of cells, row by
/// row from the south, each row from 0°E eastwards.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityGrid {
    /// Cell size, degrees.
    pub grid_deg: f64,
    /// Rows (latitudes) and columns (longitudes).
    pub shape: (usize, usize),
    /// Tracks per month per 10⁶ km², one per cell.
    pub values: Vec<f64>,
    /// Months of the tracks' time span (first to last point, plus one
    /// time step).
    pub months: f64,
    /// Tracks counted.
    pub tracks: usize,
}

impl DensityGrid {
    /// The centre of cell (`row`, `col`): latitude and longitude, degrees.
    pub fn centre(&self, row: usize, col: usize) -> (f64, f64) {
        (-90.0 + (row as f64 + 0.5) * self.grid_deg, (col as f64 + 0.5) * self.grid_deg)
    }

    /// The value of the cell holding (`lat`, `lon`).
    pub fn value(&self, lat: f64, lon: f64) -> Option<f64> {
        if !(-90.0..=90.0).contains(&lat) || !lon.is_finite() {
            return None;
        }
        let row = (((lat + 90.0) / self.grid_deg) as usize).min(self.shape.0 - 1);
        let col = ((lon.rem_euclid(360.0) / self.grid_deg) as usize).min(self.shape.1 - 1);
        self.values.get(row * self.shape.1 + col).copied()
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.values.iter().copied().fold(0.0, f64::max)
    }
}

impl TrackDensity {
    /// Cell size in degrees (default 2.5); 180 must be a whole number of
    /// cells.
    pub fn grid_deg(mut self, degrees: f64) -> Self {
        self.grid_deg = degrees;
        self
    }

    /// Radius of the counting cap, degrees of great circle (default 5).
    pub fn radius_deg(mut self, degrees: f64) -> Self {
        self.radius_deg = degrees;
        self
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        let cells = 180.0 / self.grid_deg;
        if !(self.grid_deg > 0.0 && self.grid_deg <= 90.0) || (cells - cells.round()).abs() > 1e-9 {
            return Err(Error::InvalidArgument(format!(
                "a density grid of {}°: give a cell size that divides 180° (2.5, 5, …)",
                self.grid_deg
            )));
        }
        if !(self.radius_deg > 0.0 && self.radius_deg < 90.0) {
            return Err(Error::InvalidArgument(format!(
                "a density radius of {}°: give more than 0 and less than 90 degrees",
                self.radius_deg
            )));
        }
        Ok(())
    }

    /// Radius of the counting cap, degrees of great circle.
    pub fn cap_radius_deg(&self) -> f64 {
        self.radius_deg
    }

    /// Area of the counting cap, km².
    pub fn cap_area_km2(&self) -> f64 {
        2.0 * std::f64::consts::PI * EARTH_RADIUS_KM * EARTH_RADIUS_KM * (1.0 - self.radius_deg.to_radians().cos())
    }

    /// The density of `tracks`.
    ///
    /// # Errors
    /// When the parameters are bad, there are no tracks, or the tracks
    /// span no time (no two distinct times).
    pub fn compute(&self, tracks: &Tracks) -> Result<DensityGrid> {
        self.validate()?;
        let months = months_spanned(tracks)?;
        let (nlat, nlon) = ((180.0 / self.grid_deg).round() as usize, (360.0 / self.grid_deg).round() as usize);
        let mut counts = vec![0u32; nlat * nlon];
        let mut stamp = vec![usize::MAX; nlat * nlon];
        let g = self.grid_deg;
        let r = self.radius_deg;
        for (k, track) in tracks.iter().enumerate() {
            for (&lat, &lon) in track.lats().iter().zip(track.lons()) {
                if !lat.is_finite() || !lon.is_finite() {
                    continue;
                }
                let lon = lon.rem_euclid(360.0);
                let row_lo = (((lat - r + 90.0) / g - 0.5).floor().max(0.0)) as usize;
                let row_hi = ((((lat + r + 90.0) / g - 0.5).ceil()) as usize).min(nlat - 1);
                let poleward = lat.abs() + r;
                // The widest the cap gets in longitude, over its rows.
                let half_width = if poleward >= 89.0 {
                    180.0
                } else {
                    (r.to_radians().sin() / poleward.to_radians().cos()).min(1.0).asin().to_degrees() + g
                };
                let cols = if half_width >= 180.0 {
                    0..nlon as i64
                } else {
                    ((lon - half_width) / g - 0.5).floor() as i64..((lon + half_width) / g - 0.5).ceil() as i64 + 1
                };
                for row in row_lo..=row_hi {
                    let cell_lat = -90.0 + (row as f64 + 0.5) * g;
                    for col in cols.clone() {
                        let col = col.rem_euclid(nlon as i64) as usize;
                        let cell = row * nlon + col;
                        if stamp[cell] == k {
                            continue;
                        }
                        let cell_lon = (col as f64 + 0.5) * g;
                        if cosine_law_angle_rad(lat, lon, cell_lat, cell_lon).to_degrees() <= r {
                            stamp[cell] = k;
                            counts[cell] += 1;
                        }
                    }
                }
            }
        }
        let per_million_km2 = 1e6 / self.cap_area_km2();
        Ok(DensityGrid {
            grid_deg: g,
            shape: (nlat, nlon),
            values: counts.iter().map(|&c| c as f64 / months * per_million_km2).collect(),
            months,
            tracks: tracks.len(),
        })
    }
}

/// Months from the tracks' first point to their last, plus their shortest
/// time step (so a season of 6-hourly frames counts its whole last day).
pub(crate) fn months_spanned(tracks: &Tracks) -> Result<f64> {
    let calendar = tracks.metadata().calendar;
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    let mut step = i64::MAX;
    for track in tracks.iter() {
        let mut previous = None;
        for &time in track.times() {
            let ms = calendar.to_millis(time)?;
            first = first.min(ms);
            last = last.max(ms);
            if let Some(p) = previous
                && ms > p
            {
                step = step.min(ms - p);
            }
            previous = Some(ms);
        }
    }
    if first >= last || step == i64::MAX {
        return Err(Error::InvalidArgument(
            "a track density needs tracks spanning some time (at least one track of two points)".into(),
        ));
    }
    Ok((last - first + step) as f64 / 86_400_000.0 / DAYS_PER_MONTH)
}

#[cfg(test)]
mod test {
    use super::*;
    use pst_core::{Calendar, Timestamp, TracksBuilder};

    fn track_at(points: &[(f64, f64)]) -> Tracks {
        let mut b = TracksBuilder::new(["msl"]);
        b.begin_track(1);
        let t0 = Calendar::Standard.to_millis(Timestamp::from_ymdh(2026, 1, 1, 0).unwrap()).unwrap();
        for (k, &(lat, lon)) in points.iter().enumerate() {
            b.push(Calendar::Standard.from_millis(t0 + k as i64 * 86_400_000), lat, lon, &[1.0]).unwrap();
        }
        b.end_track().unwrap();
        b.finish().unwrap()
    }

    #[test]
    fn each_track_counts_once_per_cell_and_wraps_in_longitude() {
        // A stationary track of three points: each cell within 5° counts it
        // once, across 0°E.
        let tracks = track_at(&[(0.0, 359.0), (0.0, 359.0), (0.0, 359.0)]);
        let d = TrackDensity::default().compute(&tracks).unwrap();
        let one = 1.0 / d.months * 1e6 / TrackDensity::default().cap_area_km2();
        assert!((d.months - 3.0 / DAYS_PER_MONTH).abs() < 1e-12);
        approx::assert_relative_eq!(d.value(1.25, 1.25).unwrap(), one, max_relative = 1e-12);
        approx::assert_relative_eq!(d.value(1.25, 356.25).unwrap(), one, max_relative = 1e-12);
        assert_eq!(d.value(1.25, 6.25), Some(0.0));
        let total: f64 = d.values.iter().sum::<f64>() / one;
        // Cells within 5°: about the cap's area over a 2.5° cell's.
        assert!((10.0..=16.0).contains(&total), "{total}");
    }

    #[test]
    fn caps_over_the_pole_take_every_longitude() {
        let d = TrackDensity::default().compute(&track_at(&[(88.0, 10.0), (88.0, 10.0)])).unwrap();
        assert!(d.value(88.75, 191.25).unwrap() > 0.0);
    }

    #[test]
    fn bad_parameters_and_timeless_tracks_are_refused() {
        assert!(TrackDensity::default().grid_deg(7.0).validate().is_err());
        assert!(TrackDensity::default().radius_deg(0.0).validate().is_err());
        assert!(TrackDensity::default().compute(&track_at(&[(0.0, 0.0)])).is_err());
    }
}
