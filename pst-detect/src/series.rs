//! Detection over a whole series, frames in parallel.

use std::sync::atomic::{AtomicUsize, Ordering};

use pst_core::{Detector, Error, FieldSource, FrameCenters, Result};
use rayon::prelude::*;

/// How [`detect_series`] runs.
#[derive(Default)]
pub struct SeriesOptions<'a> {
    /// Worker threads; `None` uses rayon's default, which honours
    /// `RAYON_NUM_THREADS` and otherwise takes every core.
    pub threads: Option<usize>,
    /// Only the first `n` frames.
    pub max_frames: Option<usize>,
    /// Called with the number of frames done after each frame (from worker
    /// threads), e.g. to drive a progress bar.
    pub progress: Option<&'a (dyn Fn(usize) + Sync)>,
}

impl std::fmt::Debug for SeriesOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesOptions")
            .field("threads", &self.threads)
            .field("max_frames", &self.max_frames)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Runs `detector` on every frame of `source`, frames in parallel, and
/// returns the centres of each frame in time order.
///
/// Each worker reads one frame, detects, and drops the frame before taking
/// the next, so at most one frame per thread is in memory. The result does
/// not depend on the number of threads. The pool is sized explicitly by
/// `options.threads`, so pst never oversubscribes cores when it runs inside
/// another parallel framework.
///
/// ```
/// use pst_core::{DetectionMode, Grid, SyntheticSeries};
/// use pst_detect::{SeriesOptions, SimpleDetector, detect_series};
///
/// let series = SyntheticSeries::builder(Grid::regular_global(5.0)?).frames(6).random_storms(4, 3).build()?;
/// let detector = SimpleDetector::new(DetectionMode::Min);
/// let one = detect_series(&series, &detector, &SeriesOptions { threads: Some(1), ..Default::default() })?;
/// let two = detect_series(&series, &detector, &SeriesOptions { threads: Some(2), ..Default::default() })?;
/// assert_eq!(one, two);
/// assert_eq!(one.len(), 6);
/// # Ok::<(), pst_core::Error>(())
/// ```
pub fn detect_series(
    source: &dyn FieldSource,
    detector: &dyn Detector,
    options: &SeriesOptions<'_>,
) -> Result<Vec<FrameCenters>> {
    let mut all = Vec::with_capacity(source.len());
    detect_series_each(source, detector, options, |centers| {
        all.push(centers);
        Ok(())
    })?;
    Ok(all)
}

/// A pool of `threads` workers named `name-0`, `name-1`, …, or `None` for
/// rayon's default pool (which honours `RAYON_NUM_THREADS`).
///
/// ```
/// let pool = pst_detect::thread_pool(Some(2), "example")?.unwrap();
/// assert_eq!(pool.current_num_threads(), 2);
/// assert!(pst_detect::thread_pool(Some(0), "example").is_err());
/// assert!(pst_detect::thread_pool(None, "example")?.is_none());
/// # Ok::<(), pst_core::Error>(())
/// ```
///
/// # Errors
/// For zero threads, or when the threads cannot be started.
pub fn thread_pool(threads: Option<usize>, name: &'static str) -> Result<Option<rayon::ThreadPool>> {
    match threads {
        None => Ok(None),
        Some(0) => Err(Error::InvalidArgument("the number of threads must be at least 1".into())),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(move |i| format!("{name}-{i}"))
            .build()
            .map(Some)
            .map_err(|e| Error::InvalidArgument(format!("cannot start {n} threads: {e}"))),
    }
}

/// Frames detected together before their centres are handed on, per thread.
const FRAMES_PER_THREAD_IN_FLIGHT: usize = 4;

/// Like [`detect_series`], but hands each frame's centres to `sink` in time
/// order as soon as they are known, instead of collecting them: a consumer
/// such as a linker can then keep only what it needs.
///
/// Frames are detected in parallel in batches of a few per thread; `sink`
/// runs on the calling thread, in order, between batches (so it need not be
/// `Send`: it may write to a file the caller holds).
pub fn detect_series_each(
    source: &dyn FieldSource,
    detector: &dyn Detector,
    options: &SeriesOptions<'_>,
    mut sink: impl FnMut(FrameCenters) -> Result<()>,
) -> Result<()> {
    let n = options.max_frames.map_or(source.len(), |m| m.min(source.len()));
    let done = AtomicUsize::new(0);
    let pool = thread_pool(options.threads, "pst-detect")?;
    let detect = |range: std::ops::Range<usize>| -> Result<Vec<FrameCenters>> {
        range
            .into_par_iter()
            .with_max_len(1)
            .map(|index| {
                let frame = source.read_frame(index)?;
                let centers = detector.detect(&frame, index)?;
                drop(frame);
                if let Some(progress) = options.progress {
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                }
                Ok(centers)
            })
            .collect()
    };
    let threads = pool.as_ref().map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
    let batch = threads * FRAMES_PER_THREAD_IN_FLIGHT;
    let mut start = 0;
    while start < n {
        let end = (start + batch).min(n);
        let centers = match &pool {
            Some(pool) => pool.install(|| detect(start..end))?,
            None => detect(start..end)?,
        };
        for c in centers {
            sink(c)?;
        }
        start = end;
    }
    Ok(())
}
