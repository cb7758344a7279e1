//! Consumers of finished tracks.

use crate::error::Result;
use crate::tracks::Tracks;

/// Where a [`crate::Tracker`] puts finished tracks: a file, memory, a
/// callback, another process.
///
/// A run calls [`TrackSink::accept`] with batches of finished tracks — ids
/// increasing from batch to batch, at least one batch (possibly empty, so
/// the sink learns the variables) — and then [`TrackSink::finish`] once, if
/// the run succeeded. A sink dropped without `finish` was given an
/// incomplete run and should discard it (a file sink removes its temporary
/// file).
///
/// ```
/// use pst_core::{CallbackSink, TrackSink, Tracks};
/// let mut seen = 0;
/// let mut sink = CallbackSink::new(|batch: Tracks| {
///     seen += batch.len();
///     Ok(())
/// });
/// sink.accept(Tracks::empty(["msl"]))?;
/// sink.finish()?;
/// drop(sink);
/// assert_eq!(seen, 0);
/// # Ok::<(), pst_core::Error>(())
/// ```
pub trait TrackSink {
    /// Takes one batch of finished tracks.
    fn accept(&mut self, tracks: Tracks) -> Result<()>;

    /// The run is complete: no batch follows.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<S: TrackSink + ?Sized> TrackSink for &mut S {
    fn accept(&mut self, tracks: Tracks) -> Result<()> {
        (**self).accept(tracks)
    }
    fn finish(&mut self) -> Result<()> {
        (**self).finish()
    }
}

impl<S: TrackSink + ?Sized> TrackSink for Box<S> {
    fn accept(&mut self, tracks: Tracks) -> Result<()> {
        (**self).accept(tracks)
    }
    fn finish(&mut self) -> Result<()> {
        (**self).finish()
    }
}

/// A sink that keeps every track in memory, ids as the tracker gave them.
///
/// ```
/// use pst_core::{Grid, MemorySink, NoProgress, PlantedStorm, SyntheticSeries, Tracker};
/// # struct Nothing;
/// # impl Tracker for Nothing {
/// #     fn track_into(&self, _: &dyn pst_core::FieldSource, sink: &mut dyn pst_core::TrackSink, _: &dyn pst_core::Progress) -> pst_core::Result<()> {
/// #         sink.accept(pst_core::Tracks::empty(["msl"]))?;
/// #         sink.finish()
/// #     }
/// # }
/// let source = SyntheticSeries::builder(Grid::regular_global(10.0)?).frames(2).build()?;
/// let mut sink = MemorySink::default();
/// Nothing.track_into(&source, &mut sink, &NoProgress)?;
/// assert!(sink.into_tracks()?.is_empty());
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct MemorySink {
    tracks: Option<Tracks>,
}

impl MemorySink {
    /// Every track received, in order, with its id; no track at all (no
    /// batch received) is an empty collection without variables.
    pub fn into_tracks(self) -> Result<Tracks> {
        Ok(self.tracks.unwrap_or_default())
    }
}

impl TrackSink for MemorySink {
    fn accept(&mut self, tracks: Tracks) -> Result<()> {
        match &mut self.tracks {
            Some(held) => held.append(tracks),
            None => {
                self.tracks = Some(tracks);
                Ok(())
            }
        }
    }
}

/// A sink that hands every batch to a closure.
pub struct CallbackSink<F> {
    callback: F,
}

impl<F: FnMut(Tracks) -> Result<()>> CallbackSink<F> {
    /// A sink calling `callback` with each batch.
    pub fn new(callback: F) -> Self {
        CallbackSink { callback }
    }
}

impl<F> std::fmt::Debug for CallbackSink<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallbackSink")
    }
}

impl<F: FnMut(Tracks) -> Result<()>> TrackSink for CallbackSink<F> {
    fn accept(&mut self, tracks: Tracks) -> Result<()> {
        (self.callback)(tracks)
    }
}
