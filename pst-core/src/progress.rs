//! Progress reports and cancellation of long runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a run tells its caller while it works, and how the caller stops it.
///
/// Trackers call [`Progress::stage`] when a stage of work begins (for
/// instance `"detecting"` with the number of frames), [`Progress::done`] as
/// units of it complete — from worker threads, so implementations are
/// `Sync` — and check [`Progress::is_cancelled`] between frames: once it
/// returns true the run stops with [`crate::Error::Cancelled`], and sinks
/// discard what they hold (a file sink removes its temporary file).
///
/// Every method has a default that does nothing, so an implementation
/// overrides only what it needs:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use pst_core::Progress;
///
/// #[derive(Default)]
/// struct Counter(AtomicU64);
/// impl Progress for Counter {
///     fn done(&self, completed: u64) {
///         self.0.fetch_max(completed, Ordering::Relaxed);
///     }
/// }
/// let counter = Counter::default();
/// counter.done(3);
/// assert_eq!(counter.0.load(Ordering::Relaxed), 3);
/// ```
pub trait Progress: Sync {
    /// A stage of work begins: `name` (`"detecting"`, `"linking"`), with its
    /// `total` units (frames) when known.
    fn stage(&self, name: &str, total: Option<u64>) {
        let _ = (name, total);
    }

    /// `completed` units of the current stage are done (a running count,
    /// not an increment; reports from parallel workers may arrive slightly
    /// out of order).
    fn done(&self, completed: u64) {
        let _ = completed;
    }

    /// Whether the caller wants the run to stop.
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// A [`Progress`] that ignores everything and never cancels.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A cancellation switch shared between threads: clone it, hand one clone
/// to a run as its [`Progress`], and call [`CancelFlag::cancel`] on another
/// (from a signal handler, a UI, a timeout) to stop the run at the next
/// frame.
///
/// ```
/// use pst_core::{CancelFlag, Error, Grid, SyntheticSeries, Tracker, MemorySink};
/// # struct Any;
/// # impl Tracker for Any {
/// #     fn track_into(&self, _: &dyn pst_core::FieldSource, _: &mut dyn pst_core::TrackSink, p: &dyn pst_core::Progress) -> pst_core::Result<()> {
/// #         if p.is_cancelled() { Err(Error::Cancelled) } else { Ok(()) }
/// #     }
/// # }
/// let flag = CancelFlag::default();
/// let source = SyntheticSeries::builder(Grid::regular_global(10.0)?).frames(2).build()?;
/// flag.cancel();
/// let result = Any.track_into(&source, &mut MemorySink::default(), &flag);
/// assert!(matches!(result, Err(Error::Cancelled)));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Asks every run holding a clone of this flag to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelFlag::cancel`] was called.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Progress for CancelFlag {
    fn is_cancelled(&self) -> bool {
        self.is_set()
    }
}
