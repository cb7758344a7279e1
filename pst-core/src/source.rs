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

/// A source seen in pst's one orientation: latitudes from north to south
/// and, on a global grid, longitudes ascending from the first at or east of
/// 0°E (`[0, 360)`). Detectors and filters that break exact ties by grid
/// order then give the same tracks however a file orders its axes.
/// Sources already in this orientation (ERA5's, GRIB's) pass through
/// untouched; others have their rows flipped and columns rolled as frames
/// are read. Positions are physical, so tracks are reported as ever.
///
/// ```
/// use std::sync::Arc;
/// use ndarray::Array2;
/// use pst_core::{CanonicalSource, FieldSource, Frame, Grid, LatOrder, SourceInfo, Calendar, Timestamp, Result};
///
/// /// A 4 × 8 source, latitudes south to north, longitudes −180…135.
/// struct SouthFirst(SourceInfo);
/// impl FieldSource for SouthFirst {
///     fn info(&self) -> &SourceInfo { &self.0 }
///     fn read_frame(&self, index: usize) -> Result<Frame> {
///         let time = self.0.frame_time(index)?;
///         let grid = Arc::clone(&self.0.grid);
///         let values = Array2::from_shape_fn(grid.shape(), |(i, j)| grid.lat(i) * 1000.0 + grid.lon(j));
///         Frame::new(grid, time, values)
///     }
/// }
/// let grid = Grid::new(vec![-60.0, -20.0, 20.0, 60.0], (0..8).map(|j| -180.0 + 45.0 * j as f64).collect())?;
/// let info = SourceInfo {
///     variable: "x".into(), units: None, long_name: None, grid: Arc::new(grid),
///     times: vec![Timestamp::from_ymdh(2025, 12, 1, 0)?], calendar: Calendar::Standard, origin: "example".into(),
/// };
/// let canonical = CanonicalSource::new(SouthFirst(info));
/// let grid = &canonical.info().grid;
/// assert_eq!((grid.lat(0), grid.lon(0), grid.lon(7)), (60.0, 0.0, 315.0));
/// let frame = canonical.read_frame(0)?;
/// assert_eq!(frame.value(0, 0), 60.0 * 1000.0 + 0.0);
/// assert_eq!(frame.value(3, 7), -60.0 * 1000.0 - 45.0);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct CanonicalSource<S> {
    inner: S,
    info: SourceInfo,
    /// Whether rows are flipped (the source runs south to north).
    flip_rows: bool,
    /// Source column of canonical column 0 (global grids), 0 otherwise.
    roll: usize,
}

impl<S: FieldSource> CanonicalSource<S> {
    /// `inner` in the canonical orientation.
    pub fn new(inner: S) -> Self {
        let info = inner.info().clone();
        let grid = &info.grid;
        // A projected grid's rows are its plane's y, ascending by design:
        // there is no north-to-south order to restore.
        let flip_rows =
            grid.projection().is_none() && grid.lat_order() == crate::grid::LatOrder::Ascending && grid.nlat() > 1;
        let lons_360: Vec<f64> = grid.lons().iter().map(|&l| crate::geometry::normalize_lon_360(l)).collect();
        let roll = if grid.is_periodic() {
            (0..lons_360.len()).min_by(|&a, &b| lons_360[a].total_cmp(&lons_360[b])).unwrap_or(0)
        } else {
            0
        };
        let needs_lons = grid.is_periodic() && (roll != 0 || lons_360 != grid.lons());
        if !flip_rows && !needs_lons {
            return CanonicalSource { inner, info, flip_rows, roll };
        }
        let mut lats = grid.lats().to_vec();
        if flip_rows {
            lats.reverse();
        }
        let lons = if needs_lons {
            (0..lons_360.len()).map(|j| lons_360[(j + roll) % lons_360.len()]).collect()
        } else {
            grid.lons().to_vec()
        };
        match Grid::new(lats, lons) {
            Ok(canonical) => {
                let info = SourceInfo { grid: Arc::new(canonical), ..info };
                CanonicalSource { inner, info, flip_rows, roll }
            }
            // A grid that cannot be turned (it always can: the same points
            // in another order) is passed through as it is.
            Err(_) => CanonicalSource { inner, info, flip_rows: false, roll: 0 },
        }
    }

    /// Whether frames are reordered (false: the source was canonical).
    pub fn is_reordered(&self) -> bool {
        self.flip_rows || self.roll != 0 || !Arc::ptr_eq(&self.info.grid, &self.inner.info().grid)
    }

    /// The source as it was.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: FieldSource> FieldSource for CanonicalSource<S> {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let frame = self.inner.read_frame(index)?;
        if !self.is_reordered() {
            return Ok(frame);
        }
        let (nlat, nlon) = self.info.grid.shape();
        let v = frame.values();
        let row = |i: usize| if self.flip_rows { nlat - 1 - i } else { i };
        let values = ndarray::Array2::from_shape_fn((nlat, nlon), |(i, j)| v[[row(i), (j + self.roll) % nlon]]);
        Frame::new(Arc::clone(&self.info.grid), frame.time(), values)
    }
}
