//! What the tracker was given: frames entirely or partly missing, frames
//! that are constant, so a run that finds little can say why.

use std::sync::atomic::{AtomicU8, Ordering};

use pst_core::{FieldSource, Frame, Result, SourceInfo};

/// How many of a series' frames were missing or held nothing to find.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameCheck {
    /// Frames read.
    pub frames: usize,
    /// Frames of missing values only (NaN after unpacking): nothing can be
    /// found in them.
    pub all_missing: usize,
    /// Frames with some missing values (not searched there).
    pub partly_missing: usize,
    /// Frames of one value everywhere (after any band-pass): nothing
    /// stands out in them.
    pub constant: usize,
}

impl FrameCheck {
    /// Whether any frame was missing or constant.
    pub fn is_suspicious(&self) -> bool {
        self.all_missing + self.partly_missing + self.constant > 0
    }
}

impl std::fmt::Display for FrameCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.all_missing > 0 {
            parts.push(format!("{} entirely missing (NaN; nothing found there)", self.all_missing));
        }
        if self.partly_missing > 0 {
            parts.push(format!("{} partly missing (not searched where NaN)", self.partly_missing));
        }
        if self.constant > 0 {
            parts.push(format!("{} constant (nothing stands out)", self.constant));
        }
        write!(f, "of {} frames, {}", self.frames, parts.join(", "))
    }
}

const UNREAD: u8 = 0;
const FINE: u8 = 1;
const ALL_MISSING: u8 = 2;
const PARTLY_MISSING: u8 = 3;
const CONSTANT: u8 = 4;

/// A source that notes what each frame read holds (one pass over the
/// values, from any thread).
pub(crate) struct Inspected<'a> {
    inner: &'a dyn FieldSource,
    seen: Vec<AtomicU8>,
}

impl<'a> Inspected<'a> {
    pub(crate) fn new(inner: &'a dyn FieldSource) -> Self {
        Inspected { inner, seen: (0..inner.len()).map(|_| AtomicU8::new(UNREAD)).collect() }
    }

    /// The counts over the frames read so far.
    pub(crate) fn check(&self) -> FrameCheck {
        let mut check = FrameCheck::default();
        for state in &self.seen {
            match state.load(Ordering::Relaxed) {
                UNREAD => continue,
                ALL_MISSING => check.all_missing += 1,
                PARTLY_MISSING => check.partly_missing += 1,
                CONSTANT => check.constant += 1,
                _ => {}
            }
            check.frames += 1;
        }
        check
    }
}

/// What a frame holds, from one pass over its values (which the frame
/// remembers, so a detector asking whether it has missing values does not
/// read them again).
fn classify(frame: &Frame) -> u8 {
    let summary = frame.summary();
    if summary.missing == frame.values().len() {
        ALL_MISSING
    } else if summary.missing > 0 {
        PARTLY_MISSING
    } else if summary.min == summary.max {
        CONSTANT
    } else {
        FINE
    }
}

impl FieldSource for Inspected<'_> {
    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let frame = self.inner.read_frame(index)?;
        if let Some(state) = self.seen.get(index) {
            state.store(classify(&frame), Ordering::Relaxed);
        }
        Ok(frame)
    }
}
