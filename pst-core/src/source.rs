//! Gridded input: a time series of 2-D fields read one frame at a time.

use std::sync::Arc;

use crate::error::Result;
use crate::frame::Frame;
use crate::grid::Grid;
use crate::time::{Calendar, Timestamp};

/// What a [`FieldSource`] holds: known after opening it, before reading any
/// frame.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// Name of the variable in the source (`msl`, `vo`).
    pub variable: String,
    /// Units of the values, if the source says.
    pub units: Option<String>,
    /// Descriptive name, if the source gives one.
    pub long_name: Option<String>,
    /// The horizontal grid shared by all frames.
    pub grid: Arc<Grid>,
    /// Valid time of each frame, strictly increasing.
    pub times: Vec<Timestamp>,
    /// Calendar of the times.
    pub calendar: Calendar,
    /// Where the data comes from (a path, or a description).
    pub origin: String,
}

impl SourceInfo {
    /// The time of frame `index`, or [`crate::Error::FrameOutOfRange`]: the
    /// check every [`FieldSource::read_frame`] starts with.
    ///
    /// ```
    /// use pst_core::{Error, FieldSource, Grid, SyntheticSeries};
    /// let series = SyntheticSeries::builder(Grid::regular_global(10.0)?).frames(2).build()?;
    /// assert_eq!(series.info().frame_time(1)?, series.info().times[1]);
    /// assert!(matches!(series.info().frame_time(2), Err(Error::FrameOutOfRange { index: 2, len: 2 })));
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn frame_time(&self, index: usize) -> Result<Timestamp> {
        self.times.get(index).copied().ok_or(crate::Error::FrameOutOfRange { index, len: self.times.len() })
    }
}

/// A time series of 2-D fields, read one frame at a time.
///
/// A source never needs to hold the whole series: [`FieldSource::read_frame`]
/// reads (and decompresses) what one frame needs. Implementations are
/// `Send + Sync`, so frames can be read from several threads at once.
///
/// ```
/// use pst_core::{FieldSource, Grid, SyntheticSeries};
/// let source = SyntheticSeries::builder(Grid::regular_global(5.0)?).frames(4).build()?;
/// assert_eq!(source.len(), 4);
/// let frame = source.read_frame(2)?;
/// assert_eq!(frame.time(), source.info().times[2]);
/// assert!(source.read_frame(4).is_err());
/// # Ok::<(), pst_core::Error>(())
/// ```
pub trait FieldSource: Send + Sync {
    /// Metadata: variable, units, grid, times.
    fn info(&self) -> &SourceInfo;

    /// Reads frame `index` (0-based, in time order).
    fn read_frame(&self, index: usize) -> Result<Frame>;

    /// Number of frames.
    fn len(&self) -> usize {
        self.info().times.len()
    }

    /// Whether the source has no frame.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<S: FieldSource + ?Sized> FieldSource for Box<S> {
    fn info(&self) -> &SourceInfo {
        (**self).info()
    }
    fn read_frame(&self, index: usize) -> Result<Frame> {
        (**self).read_frame(index)
    }
}

impl<S: FieldSource + ?Sized> FieldSource for Arc<S> {
    fn info(&self) -> &SourceInfo {
        (**self).info()
    }
    fn read_frame(&self, index: usize) -> Result<Frame> {
        (**self).read_frame(index)
    }
}

impl<S: FieldSource + ?Sized> FieldSource for &S {
    fn info(&self) -> &SourceInfo {
        (**self).info()
    }
    fn read_frame(&self, index: usize) -> Result<Frame> {
        (**self).read_frame(index)
    }
}

/// Frames `range` of another source, as a source of their own (frame 0 is
/// the inner source's frame `range.start`): the first N frames of a run, an
/// MPI rank's slab.
///
/// ```
/// use pst_core::{FieldSource, Grid, Subseries, SyntheticSeries};
/// let series = SyntheticSeries::builder(Grid::regular_global(10.0)?).frames(10).build()?;
/// let middle = Subseries::new(&series, 3..6);
/// assert_eq!(middle.len(), 3);
/// assert_eq!(middle.read_frame(0)?.time(), series.info().times[3]);
/// assert!(middle.read_frame(3).is_err());
/// // A range past the end is cut at it.
/// assert_eq!(Subseries::new(&series, 8..20).len(), 2);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Subseries<S> {
    inner: S,
    start: usize,
    info: SourceInfo,
}

impl<S: FieldSource> Subseries<S> {
    /// Frames `range` of `inner` (cut at its end).
    pub fn new(inner: S, range: std::ops::Range<usize>) -> Self {
        let all = &inner.info().times;
        let end = range.end.min(all.len());
        let start = range.start.min(end);
        let info = SourceInfo { times: all[start..end].to_vec(), ..inner.info().clone() };
        Subseries { inner, start, info }
    }

    /// The whole source.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: FieldSource> FieldSource for Subseries<S> {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        self.info.frame_time(index)?;
        self.inner.read_frame(self.start + index)
    }
}
