//! One 2-D field at one time.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use ndarray::{Array2, ArrayView2};

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
#[derive(Debug, Clone)]
pub struct Frame {
    grid: Arc<Grid>,
    time: Timestamp,
    values: Array2<f64>,
    /// Where the values' memory goes when the frame is dropped.
    pool: Option<Arc<FramePool>>,
    /// What a pass over the values found, once one has (forgotten when the
    /// values are handed out mutably).
    summary: OnceLock<ValueSummary>,
}

impl PartialEq for Frame {
    fn eq(&self, other: &Self) -> bool {
        self.grid == other.grid && self.time == other.time && self.values == other.values
    }
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
        Ok(Frame { grid, time, values, pool: None, summary: OnceLock::new() })
    }

    /// The frame, whose values' memory goes back to `pool` when it is
    /// dropped, for a later frame of the same source (see [`FramePool`]).
    pub fn recycled_into(mut self, pool: &Arc<FramePool>) -> Self {
        self.pool = Some(Arc::clone(pool));
        self
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
        self.summary = OnceLock::new();
        &mut self.values
    }

    /// The count of missing values (NaN) and the smallest and largest of
    /// the others (infinities included), from one pass over the values.
    ///
    /// The frame remembers it, so a later call (a detector's, after a
    /// pipeline's check of every frame) does not read the values again.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use ndarray::Array2;
    /// use pst_core::{Frame, Grid, Timestamp};
    /// let grid = Arc::new(Grid::regular_global(30.0)?);
    /// let mut values = Array2::from_elem(grid.shape(), 101_325.0);
    /// values[[2, 3]] = f64::NAN;
    /// values[[4, 5]] = 98_000.0;
    /// let frame = Frame::new(grid, Timestamp::from_ymdh(2025, 12, 1, 0)?, values)?;
    /// let summary = frame.summary();
    /// assert_eq!((summary.missing, summary.min, summary.max), (1, 98_000.0, 101_325.0));
    /// assert!(frame.has_missing());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn summary(&self) -> ValueSummary {
        *self.summary.get_or_init(|| ValueSummary::of(self.values.view()))
    }

    /// Whether any value is missing (NaN), by [`Frame::summary`].
    pub fn has_missing(&self) -> bool {
        self.summary().missing > 0
    }

    /// Consumes the frame, returning its values.
    pub fn into_values(mut self) -> Array2<f64> {
        std::mem::take(&mut self.values)
    }

    /// The value at row `i`, column `j`.
    #[inline]
    pub fn value(&self, i: usize, j: usize) -> f64 {
        self.values[[i, j]]
    }
}

/// What a pass over a frame's values found ([`Frame::summary`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ValueSummary {
    /// How many values are missing (NaN).
    pub missing: usize,
    /// The smallest value that is not missing (+∞ when all are, or the
    /// frame is empty). Of equal zeros, which one (±0) is not defined.
    pub min: f64,
    /// The largest value that is not missing (−∞ when all are, or the
    /// frame is empty). Of equal zeros, which one (±0) is not defined.
    pub max: f64,
}

/// Independent accumulators of [`ValueSummary::of`], which the compiler
/// keeps in vector registers.
const SUMMARY_LANES: usize = 8;

impl ValueSummary {
    /// The summary of any array of values, as [`Frame::summary`] gives a
    /// frame's: one pass with eight independent minima, maxima
    /// and NaN counts (a comparison with NaN is false, so NaN never becomes
    /// a minimum or maximum).
    ///
    /// ```
    /// use ndarray::array;
    /// use pst_core::ValueSummary;
    /// let summary = ValueSummary::of(array![[1.0, f64::NAN], [-3.0, 2.0]].view());
    /// assert_eq!((summary.missing, summary.min, summary.max), (1, -3.0, 2.0));
    /// ```
    pub fn of(values: ArrayView2<'_, f64>) -> Self {
        const N: usize = SUMMARY_LANES;
        let (mut missing, mut low, mut high) = ([0usize; N], [f64::INFINITY; N], [f64::NEG_INFINITY; N]);
        let mut scan = |v: f64, lane: usize| {
            missing[lane] += usize::from(v.is_nan());
            low[lane] = if v < low[lane] { v } else { low[lane] };
            high[lane] = if v > high[lane] { v } else { high[lane] };
        };
        match values.as_slice_memory_order() {
            Some(slice) => {
                let mut chunks = slice.chunks_exact(N);
                for chunk in &mut chunks {
                    for (lane, &v) in chunk.iter().enumerate() {
                        scan(v, lane);
                    }
                }
                chunks.remainder().iter().for_each(|&v| scan(v, 0));
            }
            None => values.iter().for_each(|&v| scan(v, 0)),
        }
        ValueSummary {
            missing: missing.iter().sum(),
            min: low.iter().copied().fold(f64::INFINITY, f64::min),
            max: high.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let (buffer, _) = std::mem::take(&mut self.values).into_raw_vec_and_offset();
            pool.give_back(buffer);
        }
    }
}

/// Frame buffers kept for the next frames of a source.
///
/// A reader that decodes every frame into fresh memory has it mapped,
/// faulted in page by page (zeroed by the kernel) and unmapped again, frame
/// after frame: at 0.25° (8.3 MB a frame as `f64`) that is most of a
/// reading thread's time. A source instead takes its frames' buffers from
/// its pool ([`FramePool::take`]) and marks the frames it returns
/// ([`Frame::recycled_into`]); a dropped frame's buffer comes back.
///
/// At most `max_buffers` are kept, so the pool holds no more memory than
/// that many frames; those are frames that were in use a moment ago, so the
/// peak memory of a run is unchanged.
///
/// ```
/// use std::sync::Arc;
/// use ndarray::Array2;
/// use pst_core::{Frame, FramePool, Grid, Timestamp};
/// let grid = Arc::new(Grid::regular_global(30.0)?);
/// let pool = Arc::new(FramePool::new(2));
/// let (nlat, nlon) = grid.shape();
/// let mut buffer = pool.take(nlat * nlon);
/// buffer.resize(nlat * nlon, 101_325.0);
/// let values = Array2::from_shape_vec(grid.shape(), buffer).expect("the grid's shape");
/// let frame = Frame::new(grid.clone(), Timestamp::from_ymdh(2025, 12, 1, 0)?, values)?.recycled_into(&pool);
/// drop(frame);
/// assert_eq!(pool.len(), 1);
/// assert!(pool.take(nlat * nlon).capacity() >= nlat * nlon);
/// assert!(pool.is_empty());
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct FramePool {
    buffers: Mutex<Vec<Vec<f64>>>,
    max_buffers: usize,
}

impl FramePool {
    /// A pool that keeps at most `max_buffers` buffers.
    pub fn new(max_buffers: usize) -> Self {
        FramePool { buffers: Mutex::new(Vec::new()), max_buffers }
    }

    /// An empty buffer with room for `len` values: a kept one when one is
    /// large enough, a new one otherwise.
    pub fn take(&self, len: usize) -> Vec<f64> {
        let mut buffers = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(mut buffer) = buffers.pop() {
            if buffer.capacity() >= len {
                buffer.clear();
                return buffer;
            }
        }
        drop(buffers);
        Vec::with_capacity(len)
    }

    /// Buffers kept now.
    pub fn len(&self) -> usize {
        self.buffers.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no buffer is kept now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn give_back(&self, buffer: Vec<f64>) {
        if buffer.capacity() == 0 {
            return;
        }
        let mut buffers = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        if buffers.len() < self.max_buffers {
            buffers.push(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn frame_of(values: Vec<f64>) -> Frame {
        let grid = Arc::new(Grid::regular_global(30.0).expect("a 30° grid"));
        let values = Array2::from_shape_vec(grid.shape(), values).expect("the grid's shape");
        Frame::new(grid, Timestamp::from_ymdh(2025, 12, 1, 0).expect("a time"), values).expect("a frame")
    }

    proptest! {
        #[test]
        fn the_summary_is_the_plain_count_minimum_and_maximum(
            values in proptest::collection::vec(prop_oneof![Just(f64::NAN), -1e5f64..1e5], 7 * 12),
        ) {
            let frame = frame_of(values.clone());
            let summary = frame.summary();
            let present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
            prop_assert_eq!(summary.missing, values.len() - present.len());
            prop_assert_eq!(summary.min, present.iter().copied().fold(f64::INFINITY, f64::min));
            prop_assert_eq!(summary.max, present.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            prop_assert_eq!(frame.has_missing(), summary.missing > 0);
            prop_assert_eq!(frame_of(values).has_missing(), summary.missing > 0);
        }
    }

    #[test]
    fn changing_the_values_forgets_whether_any_was_missing() {
        let mut frame = frame_of(vec![1.0; 7 * 12]);
        assert!(!frame.has_missing());
        frame.values_mut()[[3, 4]] = f64::NAN;
        assert!(frame.has_missing());
        frame.values_mut()[[3, 4]] = 2.0;
        assert_eq!(frame.summary().missing, 0);
        assert!(!frame.has_missing());
    }
}
