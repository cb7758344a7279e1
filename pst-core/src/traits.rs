//! The trait layer: detectors, linkers, trackers, track formats.
//!
//! Every algorithm and format of pst implements one of these, so the CLI and
//! library users run any of them the same way:
//!
//! ```text
//!  FieldSource ──frames──▶ Detector ──FrameCenters──▶ LinkStream ──Tracks──▶ TrackSink
//!  └──────────────────────────────── Tracker ─────────────────────┘   (file, memory, callback)
//! ```
//!
//! Trackers hand finished tracks to a [`TrackSink`] while the series is still
//! being read, and report to a [`Progress`], which can also cancel the run.

use std::io::Write;

use crate::centers::FrameCenters;
use crate::error::Result;
use crate::progress::{NoProgress, Progress};
use crate::sink::{MemorySink, TrackSink};
use crate::source::FieldSource;
use crate::time::{Calendar, Timestamp};
use crate::tracks::Tracks;
use crate::variables::DetectionMode;

/// Finds candidate centres in one frame.
///
/// Detection of one frame must not depend on any other, so frames can be
/// detected in parallel and in any order. The conformance suite
/// (`pst_core::conformance::check_detector`, feature `conformance`) checks
/// that of an implementation.
pub trait Detector: Send + Sync {
    /// The centres in `frame`; `frame_index` is its position in the series.
    fn detect(&self, frame: &crate::frame::Frame, frame_index: usize) -> Result<FrameCenters>;

    /// Whether the centres are minima or maxima of the field, when the
    /// detector knows (recorded in the tracks' metadata).
    fn mode(&self) -> Option<DetectionMode> {
        None
    }

    /// The detector's parameters as `(name, value)` pairs, recorded in the
    /// tracks' metadata (provenance).
    fn attributes(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The extra columns `(name, units)` of every [`FrameCenters`] it
    /// returns (none by default); units `None` are the field's.
    fn columns(&self) -> Vec<(String, Option<String>)> {
        Vec::new()
    }
}

impl<D: Detector + ?Sized> Detector for Box<D> {
    fn columns(&self) -> Vec<(String, Option<String>)> {
        (**self).columns()
    }
    fn detect(&self, frame: &crate::frame::Frame, frame_index: usize) -> Result<FrameCenters> {
        (**self).detect(frame, frame_index)
    }
    fn mode(&self) -> Option<DetectionMode> {
        (**self).mode()
    }
    fn attributes(&self) -> Vec<(String, String)> {
        (**self).attributes()
    }
}

/// Joins centres across time steps into tracks.
///
/// A linker links a series frame by frame through a [`LinkStream`], so
/// trackers can hand finished tracks on while the series is still being
/// read; [`Linker::link`] links frames held in memory all at once. Tracks
/// carry the centre values in a variable named `value`; trackers rename it.
pub trait Linker: Send + Sync {
    /// Starts linking a series whose frames will have these `times` (in
    /// order; some linkers need the whole time axis up front, e.g. to find
    /// its cadence).
    fn start(&self, times: &[Timestamp], calendar: Calendar) -> Result<Box<dyn LinkStream + '_>>;

    /// Links the centres of consecutive frames (given in time order) into
    /// tracks whose timestamps are in `calendar`.
    fn link(&self, frames: &[FrameCenters], calendar: Calendar) -> Result<Tracks> {
        let times: Vec<Timestamp> = frames.iter().map(FrameCenters::time).collect();
        let mut stream = self.start(&times, calendar)?;
        for frame in frames {
            stream.push(frame)?;
        }
        stream.finish()
    }

    /// The linker's parameters as `(name, value)` pairs, recorded in the
    /// tracks' metadata (provenance).
    fn attributes(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The linker's work split into independent parts that can run
    /// elsewhere (other MPI ranks, other machines), when it has such parts
    /// (none by default).
    fn split(&self) -> Option<&dyn SplitLink> {
        None
    }
}

/// The tracks one part of a split link found ([`SplitLink::link_part`]):
/// each track as indices into the part's centres, counted frame by frame
/// from the part's first frame, in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedPart {
    /// The part's index in [`SplitLink::parts`].
    pub part: usize,
    /// Each track's centres, as indices into the part's centres.
    pub tracks: Vec<Vec<usize>>,
}

/// A [`Linker`] whose work falls into independent parts of consecutive
/// frames (the Hodges linker's MGE segments): parts can be linked anywhere
/// and handed to one [`LinkStream`] that puts them together, with the
/// tracks of [`Linker::start`] on the whole series, byte for byte.
pub trait SplitLink: Send + Sync {
    /// The frames of each part of a run of `frames` frames, in order (parts
    /// may overlap); fewer than two parts leave nothing to split.
    fn parts(&self, frames: usize) -> Vec<std::ops::Range<usize>>;

    /// Links part `part` of a run whose frames have these `times`, given
    /// the centres of the part's frames ([`SplitLink::parts`]) in order.
    fn link_part(
        &self,
        times: &[Timestamp],
        calendar: Calendar,
        part: usize,
        frames: &[FrameCenters],
    ) -> Result<LinkedPart>;

    /// Starts linking like [`Linker::start`], taking the parts in `linked`
    /// as linked rather than linking them again (the others are linked as
    /// usual). A linked part that does not fit its frames' centres is an
    /// error when they arrive.
    fn start_linked(
        &self,
        times: &[Timestamp],
        calendar: Calendar,
        linked: Vec<LinkedPart>,
    ) -> Result<Box<dyn LinkStream + '_>>;
}

/// One linking session of a [`Linker`], fed frame by frame.
///
/// Every track leaves the session exactly once, by
/// [`LinkStream::take_finished`] or by [`LinkStream::finish`]; the batches,
/// in the order they are taken, hold the tracks in id order, so joining them
/// gives [`Linker::link`]'s result.
pub trait LinkStream: Send {
    /// Links the centres of the next frame (frames in time order).
    fn push(&mut self, centers: &FrameCenters) -> Result<()>;

    /// Tracks that can no longer change and that no older track is waiting
    /// for; they leave the session. May be empty.
    fn take_finished(&mut self) -> Result<Tracks>;

    /// Every remaining track, after the last frame.
    fn finish(self: Box<Self>) -> Result<Tracks>;
}

/// A [`LinkStream`] for a linker that needs the whole series at once: it
/// keeps every frame and links them in [`LinkStream::finish`].
///
/// ```
/// use pst_core::{BatchLinkStream, Calendar, FrameCenters, LinkStream, Linker, Result, Timestamp, Tracks, TracksBuilder};
///
/// /// Every centre its own one-point track.
/// struct Singletons;
/// impl Linker for Singletons {
///     fn start(&self, _: &[Timestamp], calendar: Calendar) -> Result<Box<dyn LinkStream + '_>> {
///         Ok(Box::new(BatchLinkStream::new(calendar, |frames: &[FrameCenters], _| {
///             let mut b = TracksBuilder::new(["value"]);
///             for (id, (f, k)) in frames.iter().flat_map(|f| (0..f.len()).map(move |k| (f, k))).enumerate() {
///                 b.begin_track(id as u64 + 1);
///                 b.push(f.time(), f.lats()[k], f.lons()[k], &[f.values()[k]])?;
///                 b.end_track()?;
///             }
///             b.finish()
///         })))
///     }
/// }
/// let mut f = FrameCenters::new(0, Timestamp::from_ymdh(2025, 12, 1, 0)?);
/// f.push(50.0, 10.0, 97_000.0, (0, 0));
/// assert_eq!(Singletons.link(&[f], Calendar::Standard)?.len(), 1);
/// # Ok::<(), pst_core::Error>(())
/// ```
pub struct BatchLinkStream<F> {
    calendar: Calendar,
    frames: Vec<FrameCenters>,
    link: F,
}

impl<F> BatchLinkStream<F>
where
    F: FnOnce(&[FrameCenters], Calendar) -> Result<Tracks> + Send,
{
    /// A session that calls `link` with every frame at the end.
    pub fn new(calendar: Calendar, link: F) -> Self {
        BatchLinkStream { calendar, frames: Vec::new(), link }
    }
}

impl<F> LinkStream for BatchLinkStream<F>
where
    F: FnOnce(&[FrameCenters], Calendar) -> Result<Tracks> + Send,
{
    fn push(&mut self, centers: &FrameCenters) -> Result<()> {
        self.frames.push(centers.clone());
        Ok(())
    }

    fn take_finished(&mut self) -> Result<Tracks> {
        Ok(Tracks::empty(["value"]))
    }

    fn finish(self: Box<Self>) -> Result<Tracks> {
        (self.link)(&self.frames, self.calendar)
    }
}

/// A whole tracking algorithm: source in, tracks out. The "Tracker
/// protocol": the CLI, the `pst` pipeline and library users run every
/// algorithm through this trait.
pub trait Tracker: Send + Sync {
    /// Tracks storms through `source`, handing finished tracks to `sink` in
    /// batches while the series is read (ids increasing from batch to batch;
    /// at least one batch, possibly empty, so the sink learns the
    /// variables), then calling [`TrackSink::finish`]. `progress` hears how
    /// far the run is and can cancel it ([`crate::Error::Cancelled`]).
    fn track_into(&self, source: &dyn FieldSource, sink: &mut dyn TrackSink, progress: &dyn Progress) -> Result<()>;

    /// Tracks storms through every frame of `source` and returns them all.
    fn track(&self, source: &dyn FieldSource) -> Result<Tracks> {
        let mut sink = MemorySink::default();
        self.track_into(source, &mut sink, &NoProgress)?;
        sink.into_tracks()
    }
}

impl<T: Tracker + ?Sized> Tracker for Box<T> {
    fn track_into(&self, source: &dyn FieldSource, sink: &mut dyn TrackSink, progress: &dyn Progress) -> Result<()> {
        (**self).track_into(source, sink, progress)
    }
}

impl<T: Tracker + ?Sized> Tracker for std::sync::Arc<T> {
    fn track_into(&self, source: &dyn FieldSource, sink: &mut dyn TrackSink, progress: &dyn Progress) -> Result<()> {
        (**self).track_into(source, sink, progress)
    }
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

    /// Parses a track file as it is read from `reader`. The default reads
    /// it all, then calls [`read_tracks`](Self::read_tracks); a format that
    /// parses as it reads overrides it, so a large damaged file is refused
    /// without being held whole.
    fn read_tracks_from(&self, reader: &mut dyn std::io::Read) -> Result<Tracks> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        self.read_tracks(&bytes)
    }
}
