//! The trait layer: sources, detectors, linkers, trackers, track formats.
//!
//! Every algorithm and format of pst implements one of these, so the CLI and
//! library users run any of them the same way:
//!
//! ```text
//!  FieldSource ──frames──▶ Detector ──FrameCenters──▶ Linker ──▶ Tracks ──▶ TrackWriter
//!  └──────────────────────────── Tracker ───────────────────────┘
//! ```

use std::io::Write;
use std::sync::Arc;

use crate::centers::FrameCenters;
use crate::error::Result;
use crate::frame::Frame;
use crate::grid::Grid;
use crate::time::{Calendar, Timestamp};
use crate::tracks::Tracks;

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

impl<S: FieldSource + ?Sized> FieldSource for &S {
    fn info(&self) -> &SourceInfo {
        (**self).info()
    }
    fn read_frame(&self, index: usize) -> Result<Frame> {
        (**self).read_frame(index)
    }
}

/// Finds candidate centres in one frame.
///
/// Detection of one frame must not depend on any other, so frames can be
/// detected in parallel and in any order.
pub trait Detector: Send + Sync {
    /// The centres in `frame`; `frame_index` is its position in the series.
    fn detect(&self, frame: &Frame, frame_index: usize) -> Result<FrameCenters>;
}

/// Joins centres across time steps into tracks.
pub trait Linker {
    /// Links the centres of consecutive frames (given in time order) into
    /// tracks whose timestamps are in `calendar`.
    fn link(&self, frames: &[FrameCenters], calendar: Calendar) -> Result<Tracks>;
}

/// A whole tracking algorithm: source in, tracks out. The "Tracker
/// protocol": the CLI runs every algorithm through this trait.
pub trait Tracker {
    /// Tracks storms through every frame of `source`.
    fn track(&self, source: &dyn FieldSource) -> Result<Tracks>;
}

/// Writes tracks in one file format.
pub trait TrackWriter {
    /// Serialises `tracks` to `out`.
    fn write_tracks(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()>;
}

/// Reads tracks in one file format.
pub trait TrackReader {
    /// Parses the whole content of a track file.
    fn read_tracks(&self, bytes: &[u8]) -> Result<Tracks>;
}
