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
        let mut lanes = SummaryLanes::new();
        match values.as_slice_memory_order() {
            Some(slice) => lanes.add(slice),
            None => values.iter().for_each(|&v| lanes.scan(v, 0)),
        }
        lanes.summary()
    }
}

/// A [`ValueSummary`] being taken: [`SUMMARY_LANES`] independent minima,
/// maxima and NaN counts.
#[derive(Debug, Clone, Copy)]
struct SummaryLanes {
    missing: [usize; SUMMARY_LANES],
    low: [f64; SUMMARY_LANES],
    high: [f64; SUMMARY_LANES],
}

impl SummaryLanes {
    fn new() -> Self {
        SummaryLanes {
            missing: [0; SUMMARY_LANES],
            low: [f64::INFINITY; SUMMARY_LANES],
            high: [f64::NEG_INFINITY; SUMMARY_LANES],
        }
    }

    #[inline(always)]
    fn scan(&mut self, v: f64, lane: usize) {
        self.missing[lane] += usize::from(v.is_nan());
        self.low[lane] = if v < self.low[lane] { v } else { self.low[lane] };
        self.high[lane] = if v > self.high[lane] { v } else { self.high[lane] };
    }

    /// Takes in `values`, lane after lane, in the widest vectors the
    /// processor has (the lanes' minima, maxima and counts are exact, so
    /// the summary is the same on any).
    fn add(&mut self, values: &[f64]) {
        pulp::Arch::new().dispatch(AddValues { lanes: self, values });
    }

    #[inline(always)]
    fn add_lanes(&mut self, values: &[f64]) {
        let mut chunks = values.chunks_exact(SUMMARY_LANES);
        for chunk in &mut chunks {
            for (lane, &v) in chunk.iter().enumerate() {
                self.scan(v, lane);
            }
        }
        chunks.remainder().iter().for_each(|&v| self.scan(v, 0));
    }

    fn summary(&self) -> ValueSummary {
        ValueSummary {
            missing: self.missing.iter().sum(),
            min: self.low.iter().copied().fold(f64::INFINITY, f64::min),
            max: self.high.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// [`SummaryLanes::add`] compiled for an instruction set.
struct AddValues<'a> {
    lanes: &'a mut SummaryLanes,
    values: &'a [f64],
}

impl pulp::WithSimd for AddValues<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        self.lanes.add_lanes(self.values);
    }
}

/// [`FrameRows::push_row_from`]'s copy and summary of a row, compiled for
/// an instruction set: the row is written after `values` and summarised in
/// `lanes`, unless it is not as long as it said (then `values` is left as
/// it was). Gives how many values the row had.
struct AddRow<'a, I> {
    values: &'a mut Vec<f64>,
    lanes: &'a mut SummaryLanes,
    row: I,
}

impl<I: ExactSizeIterator<Item = f64>> pulp::WithSimd for AddRow<'_, I> {
    type Output = usize;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> usize {
        let (start, expected) = (self.values.len(), self.row.len());
        self.values.extend(self.row);
        let given = self.values.len() - start;
        if given == expected {
            self.lanes.add_lanes(&self.values[start..]);
        } else {
            self.values.truncate(start);
        }
        given
    }
}

/// A frame written row by row, each row summarised as it goes in, while it
/// is in cache: the finished frame knows its [`Frame::summary`] without a
/// pass over its values (a transform that makes a frame a row at a time
/// saves reading the whole array again).
///
/// ```
/// use std::sync::Arc;
/// use pst_core::{FrameRows, Grid, Timestamp};
/// let grid = Arc::new(Grid::regular_global(90.0)?); // 3 × 4
/// let mut rows = FrameRows::new(grid, Timestamp::from_ymdh(2025, 12, 1, 0)?);
/// for row in [[1.0, 2.0, 3.0, 4.0], [5.0, f64::NAN, 7.0, 8.0], [9.0, 10.0, 11.0, -12.0]] {
///     rows.push_row(&row)?;
/// }
/// let frame = rows.finish()?;
/// assert_eq!(frame.value(1, 2), 7.0);
/// let summary = frame.summary();
/// assert_eq!((summary.missing, summary.min, summary.max), (1, -12.0, 11.0));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct FrameRows {
    grid: Arc<Grid>,
    time: Timestamp,
    values: Vec<f64>,
    lanes: SummaryLanes,
}

impl FrameRows {
    /// A frame of `grid` at `time` with no rows yet.
    pub fn new(grid: Arc<Grid>, time: Timestamp) -> Self {
        let (nlat, nlon) = grid.shape();
        FrameRows { grid, time, values: Vec::with_capacity(nlat * nlon), lanes: SummaryLanes::new() }
    }

    /// [`FrameRows::new`] written into `buffer` (its values dropped), so
    /// that a reader can make its frames in memory it keeps from frame to
    /// frame (a [`FramePool`]'s: then mark the finished frame
    /// [`Frame::recycled_into`] the pool).
    pub fn in_buffer(grid: Arc<Grid>, time: Timestamp, mut buffer: Vec<f64>) -> Self {
        let (nlat, nlon) = grid.shape();
        buffer.clear();
        buffer.reserve(nlat * nlon);
        FrameRows { grid, time, values: buffer, lanes: SummaryLanes::new() }
    }

    /// Appends the next row (northernmost first or not, as the grid's rows
    /// run). An error when the row is not one value per longitude or the
    /// frame already has every row.
    pub fn push_row(&mut self, row: &[f64]) -> Result<()> {
        self.push_row_from(row.iter().copied())
    }

    /// [`FrameRows::push_row`] with the row's values as they are made (a
    /// reader's values as it unpacks them, say): written into the frame
    /// and summarised there while in cache, with no row buffer between.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use pst_core::{FrameRows, Grid, Timestamp};
    /// let grid = Arc::new(Grid::regular_global(90.0)?); // 3 × 4
    /// let mut rows = FrameRows::new(grid, Timestamp::from_ymdh(2025, 12, 1, 0)?);
    /// let stored: [f32; 12] = [1.0, 2.0, 3.0, 4.0, 5.0, f32::NAN, 7.0, 8.0, 9.0, 10.0, 11.0, -12.0];
    /// for row in stored.chunks_exact(4) {
    ///     rows.push_row_from(row.iter().map(|&v| f64::from(v)))?;
    /// }
    /// assert!(rows.push_row_from([0.0; 4]).is_err()); // a fourth row
    /// let frame = rows.finish()?;
    /// assert_eq!(frame.summary().min, -12.0);
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn push_row_from<I>(&mut self, row: I) -> Result<()>
    where
        I: IntoIterator<Item = f64>,
        I::IntoIter: ExactSizeIterator,
    {
        let (nlat, nlon) = self.grid.shape();
        let row = row.into_iter();
        let wrong_length =
            |given: usize| Error::InvalidFrame(format!("a row of {given} values on a grid of {nlon} longitudes"));
        if row.len() != nlon {
            return Err(wrong_length(row.len()));
        }
        if self.values.len() == nlat * nlon {
            return Err(Error::InvalidFrame(format!("a row beyond the grid's {nlat}")));
        }
        // Written whole (the length known, the copy runs in vectors) and
        // summarised, in the widest vectors the processor has; its length
        // checked again: an iterator may misstate it.
        let given = pulp::Arch::new().dispatch(AddRow { values: &mut self.values, lanes: &mut self.lanes, row });
        if given != nlon {
            return Err(wrong_length(given));
        }
        Ok(())
    }

    /// The frame, once every row is in.
    pub fn finish(self) -> Result<Frame> {
        let (nlat, nlon) = self.grid.shape();
        let rows = self.values.len() / nlon.max(1);
        let values = Array2::from_shape_vec((nlat, nlon), self.values)
            .map_err(|_| Error::InvalidFrame(format!("{rows} rows written of the grid's {nlat}")))?;
        Ok(Frame {
            grid: self.grid,
            time: self.time,
            values,
            pool: None,
            summary: OnceLock::from(self.lanes.summary()),
        })
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
            prop_assert_eq!(frame_of(values.clone()).has_missing(), summary.missing > 0);
            // Written row by row, the same values and the same summary.
            let mut rows = FrameRows::new(frame.grid().clone(), frame.time());
            for row in values.chunks(12) {
                rows.push_row(row).expect("a row of the grid");
            }
            let by_rows = rows.finish().expect("every row");
            let bits = |f: &Frame| f.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&by_rows), bits(&frame));
            prop_assert_eq!((by_rows.grid(), by_rows.time()), (frame.grid(), frame.time()));
            prop_assert_eq!(by_rows.summary(), summary);
            // Made from values as they come, in a buffer holding others.
            let buffer = vec![f64::NAN; 3 * values.len()];
            let mut from_values = FrameRows::in_buffer(frame.grid().clone(), frame.time(), buffer);
            for row in values.chunks(12) {
                from_values.push_row_from(row.iter().copied()).expect("a row of the grid");
            }
            let from_values = from_values.finish().expect("every row");
            prop_assert_eq!(bits(&from_values), bits(&frame));
            prop_assert_eq!(from_values.summary(), summary);
        }
    }

    #[test]
    fn a_frame_by_rows_refuses_a_row_of_another_length_and_rows_too_few_or_too_many() {
        let frame = frame_of(vec![1.0; 7 * 12]);
        let rows = || FrameRows::new(frame.grid().clone(), frame.time());
        let message = |e: Error| e.to_string();
        let mut short = rows();
        assert!(message(short.push_row(&[1.0; 11]).unwrap_err()).contains("a row of 11 values on a grid of 12"));
        assert!(message(short.push_row_from([1.0; 11]).unwrap_err()).contains("a row of 11 values on a grid of 12"));
        assert!(message(short.push_row_from([1.0; 13]).unwrap_err()).contains("a row of 13 values on a grid of 12"));
        // A refused row leaves nothing behind.
        short.push_row(&[2.0; 12]).expect("a row");
        assert_eq!(short.values, [2.0; 12]);
        let mut full = rows();
        for _ in 0..7 {
            full.push_row(&[1.0; 12]).expect("a row");
        }
        assert!(message(full.push_row(&[1.0; 12]).unwrap_err()).contains("beyond the grid's 7"));
        let mut partial = rows();
        partial.push_row(&[1.0; 12]).expect("a row");
        assert!(message(partial.finish().unwrap_err()).contains("1 rows written of the grid's 7"));
        assert!(message(rows().finish().unwrap_err()).contains("0 rows written"));
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
