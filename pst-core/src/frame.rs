//! One 2-D field at one time.

use std::sync::Arc;

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::time::Timestamp;

/// One 2-D field at one time on a [`Grid`], indexed `[row (latitude),
/// column (longitude)]`, in the units of its source. Missing values are NaN.
///
/// ```
/// use std::sync::Arc;
/// use ndarray::Array2;
/// use pst_core::{Frame, Grid, Timestamp};
/// let grid = Arc::new(Grid::regular_global(30.0)?);
/// let values = Array2::from_elem(grid.shape(), 101_325.0);
/// let frame = Frame::new(grid, Timestamp::from_ymdh(2025, 12, 1, 0)?, values)?;
/// assert_eq!(frame.value(3, 0), 101_325.0);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    grid: Arc<Grid>,
    time: Timestamp,
    values: Array2<f64>,
}

impl Frame {
    /// A frame whose values have the grid's shape `(nlat, nlon)`.
    pub fn new(grid: Arc<Grid>, time: Timestamp, values: Array2<f64>) -> Result<Self> {
        if values.dim() != grid.shape() {
            return Err(Error::InvalidFrame(format!(
                "values have shape {:?} but the grid is {:?}",
                values.dim(),
                grid.shape()
            )));
        }
        Ok(Frame { grid, time, values })
    }

    /// The grid.
    pub fn grid(&self) -> &Arc<Grid> {
        &self.grid
    }

    /// The valid time.
    pub fn time(&self) -> Timestamp {
        self.time
    }

    /// The values, `[row, column]`.
    pub fn values(&self) -> &Array2<f64> {
        &self.values
    }

    /// Mutable access to the values (for in-place preprocessing).
    pub fn values_mut(&mut self) -> &mut Array2<f64> {
        &mut self.values
    }

    /// Consumes the frame, returning its values.
    pub fn into_values(self) -> Array2<f64> {
        self.values
    }

    /// The value at row `i`, column `j`.
    #[inline]
    pub fn value(&self, i: usize, j: usize) -> f64 {
        self.values[[i, j]]
    }
}
