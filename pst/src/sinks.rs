//! Sink adapters the pipeline puts between a tracker and the caller's sink.

use pst_core::{ProcessingStep, Result, TrackSink, Tracks};

use crate::pipeline::RunReport;

/// What a run found: centres, tracks, tracks of two or more points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) centres: usize,
    pub(crate) tracks: usize,
    pub(crate) linked: usize,
    /// Tracks the track filters dropped.
    pub(crate) dropped: usize,
}

impl Counts {
    fn add(&mut self, tracks: &Tracks) {
        self.centres += tracks.num_points();
        self.tracks += tracks.len();
        self.linked += tracks.iter().filter(|t| t.len() >= 2).count();
    }

    pub(crate) fn add_report(&mut self, report: &RunReport) {
        self.centres += report.centres;
        self.tracks += report.tracks;
        self.linked += report.linked;
        self.dropped += report.dropped;
    }

    pub(crate) fn report(self, member: Option<u32>, frames: usize) -> RunReport {
        RunReport {
            member,
            members: 1,
            frames,
            centres: self.centres,
            tracks: self.tracks,
            dropped: self.dropped,
            linked: self.linked,
            output: None,
        }
    }
}

/// Counts what passes through.
pub(crate) struct Counted<S> {
    inner: S,
    counts: Counts,
}

impl<S: TrackSink> Counted<S> {
    pub(crate) fn new(inner: S) -> Self {
        Counted { inner, counts: Counts::default() }
    }

    pub(crate) fn counts(&self) -> Counts {
        self.counts
    }
}

impl<S: TrackSink> TrackSink for Counted<S> {
    fn accept(&mut self, tracks: Tracks) -> Result<()> {
        self.counts.add(&tracks);
        self.inner.accept(tracks)
    }

    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}

/// Records the run's provenance in every batch's metadata.
pub(crate) struct Stamped<S> {
    inner: S,
    steps: Vec<ProcessingStep>,
}

impl<S: TrackSink> Stamped<S> {
    pub(crate) fn new(inner: S, steps: Vec<ProcessingStep>) -> Self {
        Stamped { inner, steps }
    }
}

impl<S: TrackSink> TrackSink for Stamped<S> {
    fn accept(&mut self, mut tracks: Tracks) -> Result<()> {
        tracks.metadata_mut().processing.clone_from(&self.steps);
        self.inner.accept(tracks)
    }

    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}

/// Several members' runs into one sink: a `member` column added, ids
/// numbered anew from 1 across all of them (as joining them would), and
/// the inner sink finished once, by [`MemberColumn::finish_all`], not at
/// the end of each member's run.
pub(crate) struct MemberColumn<S> {
    inner: S,
    member: u32,
    next_id: u64,
}

impl<S: TrackSink> MemberColumn<S> {
    pub(crate) fn new(inner: S) -> Self {
        MemberColumn { inner, member: 0, next_id: 1 }
    }

    /// The member of the batches that follow.
    pub(crate) fn set_member(&mut self, member: u32) {
        self.member = member;
    }

    /// Every member is done.
    pub(crate) fn finish_all(mut self) -> Result<()> {
        self.inner.finish()
    }
}

impl<S: TrackSink> TrackSink for MemberColumn<S> {
    fn accept(&mut self, tracks: Tracks) -> Result<()> {
        let mut tracks = tracks.renumbered(self.next_id);
        self.next_id += tracks.len() as u64;
        let column = vec![f64::from(self.member); tracks.num_points()];
        tracks.add_variable("member", None, column)?;
        self.inner.accept(tracks)
    }

    /// One member's run is done; the others follow.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Samples fields at every point of every batch ([`pst_track::sample_tracks`]),
/// each sample a column.
pub(crate) struct Sampled<S> {
    inner: S,
    samples: Vec<(Box<dyn pst_core::FieldSource>, pst_track::SampleMethod, String)>,
}

impl<S: TrackSink> Sampled<S> {
    pub(crate) fn new(
        inner: S,
        samples: Vec<(Box<dyn pst_core::FieldSource>, pst_track::SampleMethod, String)>,
    ) -> Self {
        Sampled { inner, samples }
    }
}

impl<S: TrackSink> TrackSink for Sampled<S> {
    fn accept(&mut self, mut tracks: Tracks) -> Result<()> {
        for (source, method, name) in &self.samples {
            pst_track::sample_tracks(&mut tracks, source.as_ref(), *method, name)?;
        }
        self.inner.accept(tracks)
    }

    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}
