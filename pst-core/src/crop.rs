//! A limited area cut out of a source.

use std::sync::Arc;

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::geometry::normalize_lon_360;
use crate::grid::Grid;
use crate::source::{FieldSource, SourceInfo};
use crate::tracks::Bounds;

/// The part of a source inside [`Bounds`]: the grid points with
/// `south ≤ latitude ≤ north` and a longitude from `west` eastwards to
/// `east` (across the dateline or 0° when the box does), in the source's
/// row order, columns from west to east. Tracking on it is tracking on a
/// limited area: no wrap in longitude, band-passes by the regional filter.
///
/// ```
/// use pst_core::{Bounds, CroppedSource, FieldSource, Grid, SyntheticSeries};
/// let series = SyntheticSeries::builder(Grid::regular_global(2.5)?).frames(1).build()?;
/// // The North Atlantic, 20–75°N, 90°W–2.5°W.
/// let atlantic = CroppedSource::new(series, Bounds::new(20.0, 75.0, -90.0, -2.5)?)?;
/// let grid = &atlantic.info().grid;
/// assert_eq!(grid.shape(), (23, 36));
/// assert_eq!((grid.lat(0), grid.lon(0), grid.lon(35)), (75.0, 270.0, 357.5));
/// assert!(!grid.is_periodic());
/// assert_eq!(atlantic.read_frame(0)?.values().dim(), (23, 36));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct CroppedSource<S> {
    inner: S,
    info: SourceInfo,
    rows: Vec<usize>,
    columns: Vec<usize>,
}

impl<S: FieldSource> CroppedSource<S> {
    /// `inner` cut to `bounds`.
    ///
    /// # Errors
    /// When no grid point lies inside the bounds (naming the source and its
    /// domain).
    pub fn new(inner: S, bounds: Bounds) -> Result<Self> {
        let info = inner.info();
        let grid = &info.grid;
        // A grid point on an edge is inside, whatever the rounding of its
        // coordinates.
        const EDGE_DEG: f64 = 1e-9;
        let rows: Vec<usize> = (0..grid.nlat())
            .filter(|&i| (bounds.south - EDGE_DEG..=bounds.north + EDGE_DEG).contains(&grid.lat(i)))
            .collect();
        // Degrees east of the western edge, in [0, 360).
        let west = normalize_lon_360(bounds.west);
        let width =
            if bounds.east > bounds.west { bounds.east - bounds.west } else { bounds.east - bounds.west + 360.0 };
        let offset = |lon: f64| normalize_lon_360(normalize_lon_360(lon) - west);
        let mut columns: Vec<usize> = (0..grid.nlon()).filter(|&j| offset(grid.lon(j)) <= width + EDGE_DEG).collect();
        columns.sort_by(|&a, &b| offset(grid.lon(a)).total_cmp(&offset(grid.lon(b))));
        if rows.is_empty() || columns.is_empty() {
            let domain = Bounds::of_grid(grid);
            return Err(Error::InvalidArgument(format!(
                "no grid point of {} lies in the region {}–{}°N, {}–{}°E (its grid spans {}–{}°N, {}–{}°E)",
                info.origin,
                bounds.south,
                bounds.north,
                bounds.west,
                bounds.east,
                domain.south,
                domain.north,
                domain.west,
                domain.east
            )));
        }
        let lats = rows.iter().map(|&i| grid.lat(i)).collect();
        let first = grid.lon(columns[0]);
        let lons = columns.iter().map(|&j| first + offset(grid.lon(j)) - offset(first)).collect();
        let cropped = Grid::new(lats, lons).map_err(|e| e.in_file(&info.origin))?;
        let info = SourceInfo { grid: Arc::new(cropped), ..info.clone() };
        Ok(CroppedSource { inner, info, rows, columns })
    }

    /// The whole source.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: FieldSource> FieldSource for CroppedSource<S> {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let frame = self.inner.read_frame(index)?;
        let values = Array2::from_shape_fn((self.rows.len(), self.columns.len()), |(i, j)| {
            frame.value(self.rows[i], self.columns[j])
        });
        Frame::new(Arc::clone(&self.info.grid), frame.time(), values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SyntheticSeries;

    #[test]
    fn a_box_across_greenwich_runs_west_to_east() {
        let series = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap()).frames(1).build().unwrap();
        let whole = series.read_frame(0).unwrap();
        let cropped = CroppedSource::new(&series, Bounds::new(-10.0, 10.0, -20.0, 20.0).unwrap()).unwrap();
        let grid = &cropped.info().grid;
        assert_eq!(grid.shape(), (9, 17));
        assert_eq!((grid.lon(0), grid.lon(8), grid.lon(16)), (340.0, 360.0, 380.0));
        let frame = cropped.read_frame(0).unwrap();
        let whole_grid = whole.grid();
        let row = (0..whole_grid.nlat()).find(|&i| whole_grid.lat(i) == grid.lat(4)).unwrap();
        assert_eq!(frame.value(4, 0), whole.value(row, 136));
        assert_eq!(frame.value(4, 8), whole.value(row, 0));
        assert_eq!(frame.value(4, 16), whole.value(row, 8));
    }

    #[test]
    fn an_empty_region_is_an_error() {
        let grid = Grid::new(vec![10.0, 20.0], vec![0.0, 10.0]).unwrap();
        let series = SyntheticSeries::builder(grid).frames(1).build().unwrap();
        let err = CroppedSource::new(series, Bounds::new(40.0, 50.0, 0.0, 10.0).unwrap()).unwrap_err();
        assert!(err.to_string().contains("no grid point"), "{err}");
    }
}
