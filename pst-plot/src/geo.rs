//! Map projections to pixels, graticules and the embedded coastlines.

use std::sync::OnceLock;

use crate::{Error, Result};

/// How the globe is laid flat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MapProjection {
    /// Longitude and latitude as x and y (plate carrée), 0° in the middle
    /// unless a region says otherwise.
    #[default]
    Equirectangular,
    /// Polar stereographic centred on the North Pole, Greenwich down.
    NorthPolarStereographic,
    /// Polar stereographic centred on the South Pole, Greenwich up.
    SouthPolarStereographic,
}

impl std::str::FromStr for MapProjection {
    type Err = Error;

    /// `equirectangular` (or `latlon`), `north` (or `npstere`), `south`
    /// (or `spstere`).
    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "equirectangular" | "latlon" | "platecarree" => Ok(MapProjection::Equirectangular),
            "north" | "npstere" | "north-polar" => Ok(MapProjection::NorthPolarStereographic),
            "south" | "spstere" | "south-polar" => Ok(MapProjection::SouthPolarStereographic),
            other => Err(Error::InvalidArgument(format!(
                "`{other}` is not a map projection; choose equirectangular, north or south"
            ))),
        }
    }
}

/// A longitude-latitude box, degrees: west and east edges (west > east
/// crosses the antimeridian), south and north edges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapRegion {
    /// Western edge, degrees east.
    pub lon_west: f64,
    /// Eastern edge, degrees east.
    pub lon_east: f64,
    /// Southern edge, degrees north.
    pub lat_south: f64,
    /// Northern edge, degrees north.
    pub lat_north: f64,
}

impl MapRegion {
    /// The whole globe.
    pub const GLOBE: MapRegion = MapRegion { lon_west: -180.0, lon_east: 180.0, lat_south: -90.0, lat_north: 90.0 };

    /// Longitudes spanned, degrees (in (0, 360]).
    pub fn lon_span(&self) -> f64 {
        let span = (self.lon_east - self.lon_west).rem_euclid(360.0);
        if span == 0.0 { 360.0 } else { span }
    }

    /// Checks the box: finite edges, latitudes in [−90, 90] with south
    /// below north.
    pub fn validate(&self) -> Result<()> {
        let finite = [self.lon_west, self.lon_east, self.lat_south, self.lat_north].iter().all(|v| v.is_finite());
        if !finite || !(-90.0..=90.0).contains(&self.lat_south) || !(-90.0..=90.0).contains(&self.lat_north) {
            return Err(Error::InvalidArgument(format!("the region {self} has edges off the globe")));
        }
        if self.lat_south >= self.lat_north {
            return Err(Error::InvalidArgument(format!("the region {self} has its south edge not below its north")));
        }
        Ok(())
    }
}

impl std::fmt::Display for MapRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{},{},{}", self.lon_west, self.lon_east, self.lat_south, self.lat_north)
    }
}

impl std::str::FromStr for MapRegion {
    type Err = Error;

    /// `LON0,LON1,LAT0,LAT1` (west, east, south, north), as pst's
    /// `--track-region`.
    ///
    /// ```
    /// use pst_plot::MapRegion;
    /// let r: MapRegion = "-100,20,0,70".parse()?;
    /// assert_eq!(r.lon_span(), 120.0);
    /// let pacific: MapRegion = "120,-100,0,60".parse()?;
    /// assert_eq!(pacific.lon_span(), 140.0);
    /// # Ok::<(), pst_plot::Error>(())
    /// ```
    fn from_str(text: &str) -> Result<Self> {
        let values: Vec<f64> =
            text.split(',').map(|v| v.trim().parse::<f64>()).collect::<std::result::Result<_, _>>().map_err(|_| {
                Error::InvalidArgument(format!("a region `{text}`: give LON0,LON1,LAT0,LAT1 in degrees"))
            })?;
        let [lon_west, lon_east, lat_south, lat_north] = values[..] else {
            return Err(Error::InvalidArgument(format!("a region `{text}`: give four numbers, LON0,LON1,LAT0,LAT1")));
        };
        let region = MapRegion { lon_west, lon_east, lat_south, lat_north };
        region.validate()?;
        Ok(region)
    }
}

/// Where a projection puts the globe on a rectangle of pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapView {
    pub(crate) projection: MapProjection,
    /// Map size, pixels.
    pub(crate) width: f64,
    pub(crate) height: f64,
    region: MapRegion,
    /// Polar views: the latitude of the rim, degrees (positive).
    rim_lat: f64,
}

impl MapView {
    /// An equirectangular view of `region` `width` pixels wide; its height
    /// keeps degrees square.
    pub(crate) fn equirectangular(region: MapRegion, width: f64) -> MapView {
        let height = width * (region.lat_north - region.lat_south) / region.lon_span();
        MapView { projection: MapProjection::Equirectangular, width, height, region, rim_lat: 0.0 }
    }

    /// A polar view down to `rim_lat` degrees from the equator, a disc
    /// `size` pixels across.
    pub(crate) fn polar(projection: MapProjection, rim_lat: f64, size: f64) -> MapView {
        MapView { projection, width: size, height: size, region: MapRegion::GLOBE, rim_lat: rim_lat.abs() }
    }

    fn stereographic_radius(&self, lat: f64) -> f64 {
        let colatitude = match self.projection {
            MapProjection::SouthPolarStereographic => 90.0 + lat,
            _ => 90.0 - lat,
        };
        (colatitude.to_radians() / 2.0).tan()
    }

    /// Pixel position of a point, `None` off a polar view's disc.
    pub(crate) fn xy(&self, lat: f64, lon: f64) -> Option<(f64, f64)> {
        match self.projection {
            MapProjection::Equirectangular => {
                let r = &self.region;
                let centre = r.lon_west + r.lon_span() / 2.0;
                let unwrapped = centre + (lon - centre + 180.0).rem_euclid(360.0) - 180.0;
                let x = (unwrapped - r.lon_west) / r.lon_span() * self.width;
                let y = (r.lat_north - lat) / (r.lat_north - r.lat_south) * self.height;
                Some((x, y))
            }
            MapProjection::NorthPolarStereographic | MapProjection::SouthPolarStereographic => {
                let north = self.projection == MapProjection::NorthPolarStereographic;
                if (north && lat < self.rim_lat) || (!north && lat > -self.rim_lat) {
                    return None;
                }
                let radius = self.width / 2.0 * self.stereographic_radius(lat)
                    / self.stereographic_radius(if north { self.rim_lat } else { -self.rim_lat });
                let (s, c) = lon.to_radians().sin_cos();
                let (cx, cy) = (self.width / 2.0, self.height / 2.0);
                Some(if north { (cx + radius * s, cy + radius * c) } else { (cx + radius * s, cy - radius * c) })
            }
        }
    }

    /// Whether a line from `a` to `b` (pixels) jumps across the map's seam
    /// (equirectangular: more than half the globe), so must not be drawn.
    pub(crate) fn jumps(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        match self.projection {
            MapProjection::Equirectangular => (a.0 - b.0).abs() > self.width * 180.0 / self.region.lon_span(),
            _ => false,
        }
    }

    /// A polyline of (lat, lon) points as pixel runs: split where a point
    /// is off the map's disc or a step jumps the seam.
    pub(crate) fn runs(&self, points: impl IntoIterator<Item = (f64, f64)>) -> Vec<Vec<(i32, i32)>> {
        let mut runs = Vec::new();
        let mut run: Vec<(f64, f64)> = Vec::new();
        let close = |run: &mut Vec<(f64, f64)>, runs: &mut Vec<Vec<(i32, i32)>>| {
            if run.len() > 1 {
                runs.push(run.iter().map(|&(x, y)| (x.round() as i32, y.round() as i32)).collect());
            }
            run.clear();
        };
        for (lat, lon) in points {
            match self.xy(lat, lon) {
                Some(p) => {
                    if run.last().is_some_and(|&q| self.jumps(q, p)) {
                        close(&mut run, &mut runs);
                    }
                    run.push(p);
                }
                None => close(&mut run, &mut runs),
            }
        }
        close(&mut run, &mut runs);
        runs
    }

    /// The parallels and meridians to draw, degrees: a round step giving a
    /// handful of lines across the view.
    pub(crate) fn graticule_steps(&self) -> (f64, f64) {
        match self.projection {
            MapProjection::Equirectangular => {
                let r = &self.region;
                (round_step((r.lat_north - r.lat_south) / 6.0), round_step(r.lon_span() / 8.0))
            }
            _ => (round_step((90.0 - self.rim_lat) / 3.0), 30.0),
        }
    }

    pub(crate) fn region(&self) -> MapRegion {
        self.region
    }

    pub(crate) fn rim_lat(&self) -> f64 {
        self.rim_lat
    }
}

/// The smallest of 1, 2, 5, 10, 15, 20, 30, 45, 60, 90 degrees at least
/// `raw`.
fn round_step(raw: f64) -> f64 {
    [1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0].into_iter().find(|&s| s >= raw).unwrap_or(90.0)
}

/// A latitude as `60°N`, `0°`, `30°S`.
pub(crate) fn lat_label(lat: f64) -> String {
    match lat {
        l if l > 0.0 => format!("{}°N", fmt_degrees(l)),
        l if l < 0.0 => format!("{}°S", fmt_degrees(-l)),
        _ => "0°".into(),
    }
}

/// A longitude as `120°E`, `0°`, `180°`, `60°W`.
pub(crate) fn lon_label(lon: f64) -> String {
    let l = (lon + 180.0).rem_euclid(360.0) - 180.0;
    match l {
        -180.0 => "180°".into(),
        l if l > 0.0 => format!("{}°E", fmt_degrees(l)),
        l if l < 0.0 => format!("{}°W", fmt_degrees(-l)),
        _ => "0°".into(),
    }
}

fn fmt_degrees(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v}") }
}

const COASTLINES: &str = include_str!("../assets/coastlines_110m.txt");

/// Natural Earth's 1:110m coastlines, polylines of (lat, lon) in degrees
/// (see `assets/LICENSES.md`), parsed once.
pub fn coastlines() -> &'static [Vec<(f64, f64)>] {
    static PARSED: OnceLock<Vec<Vec<(f64, f64)>>> = OnceLock::new();
    PARSED.get_or_init(|| {
        COASTLINES
            .lines()
            .map(|line| {
                line.split_whitespace()
                    .filter_map(|pair| {
                        let (lon, lat) = pair.split_once(',')?;
                        Some((lat.parse().ok()?, lon.parse().ok()?))
                    })
                    .collect()
            })
            .collect()
    })
}

#[cfg(test)]
mod test {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn the_coastlines_are_all_there() {
        let lines = coastlines();
        assert_eq!(lines.len(), 129);
        assert_eq!(lines.iter().map(Vec::len).sum::<usize>(), 5093);
        assert!(
            lines.iter().flatten().all(|&(lat, lon)| (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
        );
    }

    #[test]
    fn projections_put_points_where_expected() {
        let globe = MapView::equirectangular(MapRegion::GLOBE, 720.0);
        assert_eq!(globe.height, 360.0);
        assert_eq!(globe.xy(0.0, 0.0), Some((360.0, 180.0)));
        assert_eq!(globe.xy(90.0, -180.0), Some((0.0, 0.0)));
        assert_eq!(globe.xy(-45.0, 270.0), Some((180.0, 270.0)));
        // Across the antimeridian: 170°E to 170°W is a short step.
        let pacific = MapView::equirectangular("120,-100,0,60".parse().unwrap(), 700.0);
        let (a, b) = (pacific.xy(10.0, 170.0).unwrap(), pacific.xy(10.0, -170.0).unwrap());
        assert_relative_eq!(b.0 - a.0, 100.0, epsilon = 1e-9);
        assert!(!pacific.jumps(a, b));
        let north = MapView::polar(MapProjection::NorthPolarStereographic, 20.0, 400.0);
        assert_eq!(north.xy(90.0, 0.0), Some((200.0, 200.0)));
        let (x, y) = north.xy(20.0, 0.0).unwrap();
        assert_relative_eq!(x, 200.0, epsilon = 1e-9);
        assert_relative_eq!(y, 400.0, epsilon = 1e-9);
        let (x, _) = north.xy(45.0, 90.0).unwrap();
        assert!(x > 200.0, "90°E is to the right, looking down on the North Pole");
        assert_eq!(north.xy(10.0, 0.0), None);
        let south = MapView::polar(MapProjection::SouthPolarStereographic, 20.0, 400.0);
        let (_, y) = south.xy(-45.0, 0.0).unwrap();
        assert!(y < 200.0, "Greenwich is up over the South Pole");
    }

    #[test]
    fn labels() {
        assert_eq!((lat_label(60.0), lat_label(-30.0), lat_label(0.0)), ("60°N".into(), "30°S".into(), "0°".into()));
        assert_eq!(
            (lon_label(240.0), lon_label(180.0), lon_label(90.5)),
            ("120°W".into(), "180°".into(), "90.5°E".into())
        );
    }
}
