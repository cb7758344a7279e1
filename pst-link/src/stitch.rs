//! TempestExtremes' StitchNodes: every centre steps to its nearest centre
//! of the next frame within range, and paths follow the steps.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use kiddo::{ImmutableKdTree, SquaredEuclidean};
use pst_core::{Calendar, Error, FrameCenters, LinkStream, Linker, Result, Timestamp, Tracks, parse_time_step_ms};

use crate::pending::{PendingTracks, Point};
use crate::simple::frame_points;

/// TempestExtremes' default `--range` of StitchNodes, degrees of great circle.
pub const DEFAULT_STITCH_RANGE_DEG: f64 = 5.0;

/// How far ahead a centre may look for its continuation (TempestExtremes'
/// `--maxgap`): a number of frames it may skip, or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxGap {
    /// Skip at most this many frames (0: the next frame only).
    Frames(usize),
    /// Look at frames at most this many milliseconds later.
    Millis(i64),
}

impl Default for MaxGap {
    /// No gap: the next frame only (TempestExtremes' default).
    fn default() -> Self {
        MaxGap::Frames(0)
    }
}

impl FromStr for MaxGap {
    type Err = Error;

    /// `0`, `2` (frames skipped) or a time with its unit, `s`, `m`, `h` or
    /// `D` (`24h`).
    ///
    /// ```
    /// use pst_link::MaxGap;
    /// assert_eq!("2".parse::<MaxGap>()?, MaxGap::Frames(2));
    /// assert_eq!("24h".parse::<MaxGap>()?, MaxGap::Millis(86_400_000));
    /// assert!("-1".parse::<MaxGap>().is_err());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
            return text.parse::<usize>().map(MaxGap::Frames).map_err(|_| {
                Error::InvalidArgument(format!("a maximum gap of `{text}` frames is not a number of frames"))
            });
        }
        parse_time_step_ms(text).map(MaxGap::Millis).map_err(|e| {
            Error::InvalidArgument(format!(
                "a maximum gap of `{text}`: give a number of frames (0, 2) or a time like 24h ({e})"
            ))
        })
    }
}

impl MaxGap {
    /// Checks the gap: a time not negative.
    pub fn validate(&self) -> Result<()> {
        match *self {
            MaxGap::Millis(ms) if ms < 0 => {
                Err(Error::InvalidArgument(format!("a maximum gap cannot be negative ({ms} ms)")))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for MaxGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MaxGap::Frames(n) => write!(f, "{n}"),
            MaxGap::Millis(ms) if ms % 3_600_000 == 0 => write!(f, "{}h", ms / 3_600_000),
            MaxGap::Millis(ms) if ms % 1000 == 0 => write!(f, "{}s", ms / 1000),
            MaxGap::Millis(ms) => write!(f, "{}s", ms as f64 / 1000.0),
        }
    }
}

/// Links centres as TempestExtremes' StitchNodes does by default (its
/// first-come-first-served paths, without `--prioritize`).
///
/// Each centre steps to the nearest centre of the next frame; if that is
/// farther than `range_deg` (great circle), to the nearest of the frame
/// after, and so on while the gap allows ([`MaxGap`], default none). Paths
/// then follow the steps, oldest first: a path starts at every centre that
/// steps somewhere and that no earlier path reached, in time order and,
/// within a frame, north to south and west to east. When several paths
/// step to one centre, the oldest continues through it and the others end
/// there, so that centre is the last point of several tracks — unlike the
/// Simple linker, links are not exclusive. A centre that neither steps
/// anywhere nor is stepped to belongs to no track, so every track has at
/// least two points.
///
/// Nearest is in straight-line distance between unit vectors, as
/// StitchNodes' k-d tree measures it; equally near centres go to the first
/// in the frame's order. Distances against the range are by the law of
/// cosines, as there. Tracks are handed on while the series is read: a
/// frame's steps are decided once the frames its gap can reach are in.
///
/// TempestExtremes filters paths as part of StitchNodes (`--mintime`, by
/// default 3 points, `--min_endpoint_dist`, `--threshold`); in pst those are
/// `pst_core::TrackFilter`, for every linker.
///
/// ```
/// use pst_core::{Calendar, FrameCenters, Linker, Timestamp};
/// use pst_link::StitchLinker;
///
/// let frame = |k: i64, points: &[(f64, f64)]| {
///     let mut f = FrameCenters::new(k as usize, Calendar::Standard.from_millis(k * 21_600_000));
///     for &(lat, lon) in points {
///         f.push(lat, lon, 99_000.0, (0, 0));
///     }
///     f
/// };
/// // Two lows merge into one: both tracks end at the merged centre.
/// let frames = [frame(0, &[(50.0, 10.0), (50.0, 16.0)]), frame(1, &[(50.0, 13.0)]), frame(2, &[(50.0, 15.0)])];
/// let tracks = StitchLinker::default().link(&frames, Calendar::Standard)?;
/// assert_eq!(tracks.len(), 2);
/// assert_eq!(tracks.get(0).unwrap().lons(), &[10.0, 13.0, 15.0]);
/// assert_eq!(tracks.get(1).unwrap().lons(), &[16.0, 13.0]);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StitchLinker {
    range_deg: f64,
    max_gap: MaxGap,
}

impl Default for StitchLinker {
    fn default() -> Self {
        StitchLinker { range_deg: DEFAULT_STITCH_RANGE_DEG, max_gap: MaxGap::default() }
    }
}

impl StitchLinker {
    /// The farthest step, degrees of great circle (default
    /// [`DEFAULT_STITCH_RANGE_DEG`]); centres at most this far apart can
    /// link.
    pub fn range_deg(mut self, range_deg: f64) -> Self {
        self.range_deg = range_deg;
        self
    }

    /// How far ahead a centre may look (default [`MaxGap::Frames`]`(0)`).
    pub fn max_gap(mut self, max_gap: MaxGap) -> Self {
        self.max_gap = max_gap;
        self
    }

    /// Checks the parameters: a range more than 0 and at most 180 degrees,
    /// a non-negative time gap.
    pub fn validate(&self) -> Result<()> {
        if !(self.range_deg > 0.0 && self.range_deg <= 180.0) {
            return Err(Error::InvalidArgument(format!(
                "the stitching range must be more than 0 and at most 180 degrees, not {}",
                self.range_deg
            )));
        }
        self.max_gap.validate()
    }

    /// A linking session that takes frames one by one, in time order; the
    /// result equals [`Linker::link`] on all the frames at once.
    pub fn stream(&self, calendar: Calendar) -> StitchLinkStream {
        StitchLinkStream {
            linker: *self,
            calendar,
            tracks: PendingTracks::new(calendar, "stitch"),
            window: VecDeque::new(),
            previous_time: None,
        }
    }
}

impl Linker for StitchLinker {
    fn start(&self, _times: &[Timestamp], calendar: Calendar) -> Result<Box<dyn LinkStream + '_>> {
        self.validate()?;
        Ok(Box::new(self.stream(calendar)))
    }

    fn attributes(&self) -> Vec<(String, String)> {
        vec![
            ("linking".into(), "stitch".into()),
            ("stitch_range_deg".into(), format!("{}", self.range_deg)),
            ("max_gap".into(), self.max_gap.to_string()),
        ]
    }
}

/// A frame whose centres' steps are not decided yet.
#[derive(Debug)]
struct PendingFrame {
    time_ms: i64,
    points: Vec<Point>,
    vectors: Vec<[f64; 3]>,
    tree: Option<ImmutableKdTree<f64, 3>>,
    /// For each centre, the tracks that stepped to it.
    arrivals: Vec<Vec<usize>>,
}

impl PendingFrame {
    /// The index of the centre nearest to `v` (straight line), the first
    /// of equally near ones.
    fn nearest(&self, v: &[f64; 3]) -> Option<usize> {
        let tree = self.tree.as_ref()?;
        let squared = |k: usize| {
            let w = &self.vectors[k];
            (w[0] - v[0]).powi(2) + (w[1] - v[1]).powi(2) + (w[2] - v[2]).powi(2)
        };
        let first = tree.query(v).nearest_one::<SquaredEuclidean<f64>>().execute();
        let best = squared(first.item as usize);
        // The tree's own arithmetic may order near-ties differently: look
        // a little beyond and decide by this distance, then by index.
        let reach = best * (1.0 + 1e-9) + 1e-15;
        tree.query(v)
            .within::<SquaredEuclidean<f64>>(reach)
            .unsorted()
            .execute()
            .into_iter()
            .map(|hit| hit.item as usize)
            .min_by(|&a, &b| squared(a).total_cmp(&squared(b)).then(a.cmp(&b)))
    }
}

/// Degrees to radians as TempestExtremes converts them (`x * π / 180`,
/// which rounds differently from `f64::to_radians`): centres on a grid are
/// often exactly as far from two others, and which one is nearest is
/// decided by the last bit.
fn tempest_radians(degrees: f64) -> f64 {
    degrees * std::f64::consts::PI / 180.0
}

/// A unit vector computed as TempestExtremes computes it.
fn tempest_unit_vector(lat_deg: f64, lon_deg: f64) -> [f64; 3] {
    let (lat, lon) = (tempest_radians(lat_deg), tempest_radians(lon_deg));
    [lon.cos() * lat.cos(), lon.sin() * lat.cos(), lat.sin()]
}

/// The great-circle distance in degrees, by the law of cosines, computed
/// as TempestExtremes computes it.
fn tempest_distance_deg(a: &Point, b: &Point) -> f64 {
    let (lat1, lon1, lat2, lon2) =
        (tempest_radians(a.lat), tempest_radians(a.lon), tempest_radians(b.lat), tempest_radians(b.lon));
    let cosine = lat1.sin() * lat2.sin() + lat1.cos() * lat2.cos() * (lon2 - lon1).cos();
    let radians = if cosine >= 1.0 {
        0.0
    } else if cosine <= -1.0 {
        std::f64::consts::PI
    } else {
        cosine.acos()
    };
    radians * 180.0 / std::f64::consts::PI
}

/// [`StitchLinker`] fed one frame at a time (see [`StitchLinker::stream`]).
/// Memory holds the frames the gap can reach and the tracks not yet handed
/// out (finished ones waiting behind an older open one beyond a budget go
/// to a temporary file, as for the Simple linker).
#[derive(Debug)]
pub struct StitchLinkStream {
    linker: StitchLinker,
    calendar: Calendar,
    tracks: PendingTracks,
    /// Frames whose steps are not decided, oldest first.
    window: VecDeque<PendingFrame>,
    previous_time: Option<Timestamp>,
}

impl StitchLinkStream {
    /// Keeps at most `points` points of finished-but-waiting tracks in memory
    /// (default 65,536) before moving them to a temporary file.
    pub fn spill_after(mut self, points: usize) -> Self {
        self.tracks.spill_after(points);
        self
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
        let mut points = frame_points(frame)?;
        // StitchNodes numbers a frame's nodes in grid order; for the usual
        // north-to-south grids that is this order.
        points.sort_by(|a, b| b.lat.total_cmp(&a.lat).then(a.lon.total_cmp(&b.lon)));
        let vectors: Vec<[f64; 3]> = points.iter().map(|p| tempest_unit_vector(p.lat, p.lon)).collect();
        let tree = if vectors.is_empty() { None } else { ImmutableKdTree::new_from_slice(&vectors).ok() };
        self.window.push_back(PendingFrame {
            time_ms: self.calendar.to_millis(frame.time())?,
            arrivals: vec![Vec::new(); points.len()],
            points,
            vectors,
            tree,
        });
        while self.window.len() > 1 && self.can_decide_oldest() {
            self.decide_oldest();
        }
        Ok(())
    }

    /// Whether every frame the oldest frame's centres may step to is in.
    fn can_decide_oldest(&self) -> bool {
        match self.linker.max_gap {
            MaxGap::Frames(gap) => self.window.len() > gap + 1,
            MaxGap::Millis(gap) => match (self.window.front(), self.window.back()) {
                (Some(first), Some(last)) => last.time_ms - first.time_ms > gap,
                _ => false,
            },
        }
    }

    /// Decides the steps of the oldest frame's centres, extends, starts and
    /// ends tracks, and lets the frame go.
    fn decide_oldest(&mut self) {
        let Some(mut frame) = self.window.pop_front() else { return };
        for (k, point) in frame.points.iter().enumerate() {
            let step = self.step(&frame, k);
            let mut arrived = std::mem::take(&mut frame.arrivals[k]);
            arrived.sort_unstable();
            let track = match arrived.split_first() {
                Some((&oldest, others)) => {
                    // The other paths that reached this centre end at it.
                    for &other in others {
                        self.tracks.extend(other, *point);
                        self.tracks.stop(other);
                    }
                    self.tracks.extend(oldest, *point);
                    oldest
                }
                None if step.is_some() => self.tracks.open(*point),
                None => continue,
            };
            match step {
                Some((ahead, target)) => self.window[ahead].arrivals[target].push(track),
                None => self.tracks.stop(track),
            }
        }
    }

    /// Where centre `k` of `frame` (just taken off the window) steps: the
    /// window index of the frame and the centre.
    fn step(&self, frame: &PendingFrame, k: usize) -> Option<(usize, usize)> {
        let from = &frame.points[k];
        for (ahead, next) in self.window.iter().enumerate() {
            match self.linker.max_gap {
                MaxGap::Frames(gap) if ahead > gap => return None,
                MaxGap::Millis(gap) if next.time_ms - frame.time_ms > gap => return None,
                _ => {}
            }
            let Some(nearest) = next.nearest(&frame.vectors[k]) else { continue };
            let to = &next.points[nearest];
            if tempest_distance_deg(from, to) <= self.linker.range_deg {
                return Some((ahead, nearest));
            }
        }
        None
    }

    /// The tracks finished so far that no older track is still waiting
    /// for, ids in creation order (continuing from the previous call),
    /// centre values in a variable named `value`. Taken tracks leave the
    /// stream.
    pub fn take_finished(&mut self) -> Result<Tracks> {
        self.tracks.take_ready()
    }

    /// Points in memory held for tracks (open, or finished and waiting).
    pub fn held_points(&self) -> usize {
        self.tracks.held_points()
    }

    /// Decides the remaining frames and returns every remaining track.
    pub fn finish(mut self) -> Result<Tracks> {
        while !self.window.is_empty() {
            self.decide_oldest();
        }
        self.tracks.finish()
    }
}

impl LinkStream for StitchLinkStream {
    fn push(&mut self, centers: &FrameCenters) -> Result<()> {
        StitchLinkStream::push(self, centers)
    }

    fn take_finished(&mut self) -> Result<Tracks> {
        StitchLinkStream::take_finished(self)
    }

    fn finish(self: Box<Self>) -> Result<Tracks> {
        StitchLinkStream::finish(*self)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn frame(k: i64, pts: &[(f64, f64)]) -> FrameCenters {
        let mut f = FrameCenters::new(k as usize, Calendar::Standard.from_millis(k * 6 * 3_600_000));
        for (i, &(lat, lon)) in pts.iter().enumerate() {
            f.push(lat, lon, i as f64, (0, 0));
        }
        f
    }

    fn lons(tracks: &Tracks) -> Vec<Vec<f64>> {
        tracks.iter().map(|t| t.lons().to_vec()).collect()
    }

    #[test]
    fn lone_centres_belong_to_no_track_and_ranges_are_inclusive() {
        let frames = [frame(0, &[(0.0, 10.0), (40.0, 100.0)]), frame(1, &[(0.0, 14.0)])];
        let point = |lon| Point { lat: 0.0, lon, value: 0.0, time: Calendar::Standard.from_millis(0) };
        let apart = tempest_distance_deg(&point(10.0), &point(14.0));
        let tracks = StitchLinker::default().range_deg(apart).link(&frames, Calendar::Standard).unwrap();
        assert_eq!(lons(&tracks), vec![vec![10.0, 14.0]]);
        let tracks =
            StitchLinker::default().range_deg(apart * (1.0 - 1e-12)).link(&frames, Calendar::Standard).unwrap();
        assert!(tracks.is_empty());
    }

    #[test]
    fn gaps_in_frames_and_in_time() {
        let frames = [frame(0, &[(0.0, 10.0)]), frame(1, &[(30.0, 10.0)]), frame(2, &[]), frame(3, &[(0.0, 12.0)])];
        let link = |gap| StitchLinker::default().max_gap(gap).link(&frames, Calendar::Standard).unwrap();
        assert!(link(MaxGap::Frames(1)).is_empty());
        assert_eq!(lons(&link(MaxGap::Frames(2))), vec![vec![10.0, 12.0]]);
        assert!(link(MaxGap::Millis(17 * 3_600_000)).is_empty());
        assert_eq!(lons(&link(MaxGap::Millis(18 * 3_600_000))), vec![vec![10.0, 12.0]]);
    }

    #[test]
    fn only_the_nearest_is_tried_in_each_frame() {
        // The nearest centre of frame 1 is out of range, so the low skips to
        // frame 2 even though frame 1 has nothing else in range either.
        let frames = [frame(0, &[(0.0, 10.0)]), frame(1, &[(0.0, 16.0)]), frame(2, &[(0.0, 13.0)])];
        let tracks = StitchLinker::default().max_gap(MaxGap::Frames(1)).link(&frames, Calendar::Standard).unwrap();
        // The centre of frame 1 steps to the same centre: both paths reach
        // it, the older continues.
        assert_eq!(lons(&tracks), vec![vec![10.0, 13.0], vec![16.0, 13.0]]);
    }

    #[test]
    fn streaming_equals_linking_at_once() {
        let frames: Vec<FrameCenters> = (0..30)
            .map(|k| {
                let pts: Vec<(f64, f64)> = (0..6)
                    .filter(|j| (k + j) % 5 != 0)
                    .map(|j| (10.0 * j as f64 - 20.0, (3 * k + 40 * j) as f64 % 360.0))
                    .collect();
                frame(k, &pts)
            })
            .collect();
        for gap in [MaxGap::Frames(0), MaxGap::Frames(2), MaxGap::Millis(12 * 3_600_000)] {
            let linker = StitchLinker::default().max_gap(gap);
            let whole = linker.link(&frames, Calendar::Standard).unwrap();
            let mut stream = linker.stream(Calendar::Standard).spill_after(3);
            let mut parts = Vec::new();
            for f in &frames {
                stream.push(f).unwrap();
                parts.push(stream.take_finished().unwrap());
            }
            parts.push(stream.finish().unwrap());
            let joined: Vec<Vec<f64>> = parts.iter().flat_map(lons).collect();
            assert_eq!(joined, lons(&whole), "{gap}");
            assert!(whole.len() > 5);
        }
    }
}
