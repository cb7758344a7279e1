//! Filters of finished tracks, TempestExtremes' StitchNodes path filters
//! (`--mintime`, `--min_endpoint_dist`, `--min_path_dist`, `--threshold`)
//! and a region test, for every tracker: [`TrackFilter`], and
//! [`FilteredSink`] to apply one to tracks as a tracker streams them.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::geometry::cosine_law_angle_rad;
use crate::sink::TrackSink;
use crate::time::parse_time_step_ms;
use crate::tracks::{Track, Tracks};

/// The shortest track kept: a number of points, or a duration from the
/// first point to the last (TempestExtremes' `--mintime`, an integer or a
/// time delta).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinDuration {
    /// At least this many points.
    Points(usize),
    /// At least this long from the first point to the last, milliseconds.
    Millis(i64),
}

impl FromStr for MinDuration {
    type Err = Error;

    /// `9` (points) or a duration with its unit, `s`, `m`, `h` or `D`
    /// (`54h`, `2D`).
    ///
    /// ```
    /// use pst_core::MinDuration;
    /// assert_eq!("9".parse::<MinDuration>()?, MinDuration::Points(9));
    /// assert_eq!("54h".parse::<MinDuration>()?, MinDuration::Millis(54 * 3_600_000));
    /// assert!("0".parse::<MinDuration>().is_err());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
            return match text.parse::<usize>() {
                Ok(points) if points >= 1 => Ok(MinDuration::Points(points)),
                _ => Err(Error::InvalidArgument(format!(
                    "a minimum duration of `{text}` points: give a positive number of points or a time like 54h"
                ))),
            };
        }
        Ok(MinDuration::Millis(parse_time_step_ms(text)?))
    }
}

/// A comparison of TempestExtremes' `--threshold`: `>`, `<`, `>=`, `<=`,
/// `=`, `!=`, and `|>=`, `|<=` on the magnitude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdOp {
    /// `>`
    Greater,
    /// `<`
    Less,
    /// `>=`
    GreaterOrEqual,
    /// `<=`
    LessOrEqual,
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `|>=`: the magnitude at least.
    MagnitudeAtLeast,
    /// `|<=`: the magnitude at most.
    MagnitudeAtMost,
}

impl ThresholdOp {
    /// Whether `value` passes against `threshold` (NaN never does).
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            ThresholdOp::Greater => value > threshold,
            ThresholdOp::Less => value < threshold,
            ThresholdOp::GreaterOrEqual => value >= threshold,
            ThresholdOp::LessOrEqual => value <= threshold,
            ThresholdOp::Equal => value == threshold,
            ThresholdOp::NotEqual => value != threshold && !value.is_nan(),
            ThresholdOp::MagnitudeAtLeast => value.abs() >= threshold,
            ThresholdOp::MagnitudeAtMost => value.abs() <= threshold,
        }
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdOp::Greater => ">",
            ThresholdOp::Less => "<",
            ThresholdOp::GreaterOrEqual => ">=",
            ThresholdOp::LessOrEqual => "<=",
            ThresholdOp::Equal => "=",
            ThresholdOp::NotEqual => "!=",
            ThresholdOp::MagnitudeAtLeast => "|>=",
            ThresholdOp::MagnitudeAtMost => "|<=",
        }
    }
}

impl FromStr for ThresholdOp {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        Ok(match text.trim() {
            ">" => ThresholdOp::Greater,
            "<" => ThresholdOp::Less,
            ">=" => ThresholdOp::GreaterOrEqual,
            "<=" => ThresholdOp::LessOrEqual,
            "=" | "==" => ThresholdOp::Equal,
            "!=" => ThresholdOp::NotEqual,
            "|>=" => ThresholdOp::MagnitudeAtLeast,
            "|<=" => ThresholdOp::MagnitudeAtMost,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown comparison `{other}`; expected >, <, >=, <=, =, !=, |>= or |<="
                )));
            }
        })
    }
}

/// How many points of a track must pass a [`TrackThreshold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointCount {
    /// At least this many.
    AtLeast(usize),
    /// Every point.
    All,
    /// The first point.
    First,
    /// The last point.
    Last,
}

/// TempestExtremes' `--threshold COL,OP,VALUE,COUNT`: a track is kept when
/// `COL OP VALUE` holds at `COUNT` of its points (a number, `all`, `first`
/// or `last`). `COL` is `lat`, `lon` or one of the tracks' variables (the
/// tracked field, `raw_value`, sampled or attached columns).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackThreshold {
    /// The column tested.
    pub column: String,
    /// The comparison.
    pub op: ThresholdOp,
    /// The value compared with, in the column's units.
    pub value: f64,
    /// How many points must pass.
    pub count: PointCount,
}

impl FromStr for TrackThreshold {
    type Err = Error;

    /// ```
    /// use pst_core::{ThresholdOp, PointCount, TrackThreshold};
    /// let t: TrackThreshold = "lat,<=,50,10".parse()?;
    /// assert_eq!((t.column.as_str(), t.op, t.value, t.count), ("lat", ThresholdOp::LessOrEqual, 50.0, PointCount::AtLeast(10)));
    /// assert_eq!("msl,<,99000,first".parse::<TrackThreshold>()?.count, PointCount::First);
    /// assert!("msl,<,99000".parse::<TrackThreshold>().is_err());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    fn from_str(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let bad = |why: &str| Error::InvalidArgument(format!("track threshold `{text}`: {why}"));
        let [column, comparison, value, count] = parts[..] else {
            return Err(bad("expected COLUMN,OP,VALUE,COUNT (e.g. lat,<=,50,10)"));
        };
        if column.is_empty() {
            return Err(bad("no column"));
        }
        let value: f64 = value.parse().map_err(|_| bad(&format!("`{value}` is not a number")))?;
        if !value.is_finite() {
            return Err(bad("the value must be finite"));
        }
        let count = match count {
            "all" => PointCount::All,
            "first" => PointCount::First,
            "last" => PointCount::Last,
            n => PointCount::AtLeast(
                n.parse().map_err(|_| bad(&format!("`{n}` is not a number of points, all, first or last")))?,
            ),
        };
        Ok(TrackThreshold { column: column.to_string(), op: comparison.parse()?, value, count })
    }
}

impl fmt::Display for TrackThreshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = match self.count {
            PointCount::AtLeast(n) => n.to_string(),
            PointCount::All => "all".into(),
            PointCount::First => "first".into(),
            PointCount::Last => "last".into(),
        };
        write!(f, "{},{},{},{}", self.column, self.op.as_str(), self.value, count)
    }
}

/// A longitude-latitude box a track must enter (at least one point inside,
/// edges included). Longitudes in degrees east, either convention; a box
/// whose west edge is east of its east edge crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackRegion {
    /// West edge, degrees east.
    pub west: f64,
    /// East edge, degrees east.
    pub east: f64,
    /// South edge, degrees north.
    pub south: f64,
    /// North edge, degrees north.
    pub north: f64,
}

impl TrackRegion {
    /// Whether (`lat`, `lon`) is inside.
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        if !(self.south..=self.north).contains(&lat) {
            return false;
        }
        let span = (self.east - self.west).rem_euclid(360.0);
        // A box 360° wide (0,360 or -180,180) holds every longitude.
        if span == 0.0 && self.east != self.west {
            return true;
        }
        (lon - self.west).rem_euclid(360.0) <= span
    }
}

impl FromStr for TrackRegion {
    type Err = Error;

    /// `LON0,LON1,LAT0,LAT1`, degrees (TempestExtremes' order).
    ///
    /// ```
    /// use pst_core::TrackRegion;
    /// let atlantic: TrackRegion = "-80,0,20,70".parse()?;
    /// assert!(atlantic.contains(45.0, -30.0) && atlantic.contains(45.0, 330.0) && !atlantic.contains(45.0, 30.0));
    /// let pacific: TrackRegion = "150,-120,0,60".parse()?; // across the antimeridian
    /// assert!(pacific.contains(30.0, 180.0) && !pacific.contains(30.0, 0.0));
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    fn from_str(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::InvalidArgument(format!("track region `{text}`: {why}"));
        let numbers: Vec<f64> = text
            .split(',')
            .map(|s| s.trim().parse::<f64>().map_err(|_| bad(&format!("`{}` is not a number", s.trim()))))
            .collect::<Result<_>>()?;
        let [west, east, south, north] = numbers[..] else {
            return Err(bad("expected LON0,LON1,LAT0,LAT1"));
        };
        if numbers.iter().any(|v| !v.is_finite()) {
            return Err(bad("the edges must be finite"));
        }
        if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) || south > north {
            return Err(bad("the latitudes must be within [-90, 90], south first"));
        }
        Ok(TrackRegion { west, east, south, north })
    }
}

/// Which finished tracks to keep, every test applied in TempestExtremes'
/// order (duration, endpoint distance, path distance, thresholds) and then
/// the region; an empty filter keeps everything. Distances are great
/// circles in degrees (the law of cosines, as TempestExtremes measures
/// them).
///
/// ```
/// use pst_core::{MinDuration, Timestamp, TrackFilter, TracksBuilder};
///
/// let mut builder = TracksBuilder::new(["msl"]);
/// for (id, lon_step) in [(1, 0.5), (2, 3.0)] {
///     builder.begin_track(id);
///     for k in 0..4u8 {
///         builder.push(Timestamp::from_ymdh(2025, 12, 1, 6 * k)?, 50.0, f64::from(k) * lon_step, &[99_000.0])?;
///     }
///     builder.end_track()?;
/// }
/// let tracks = builder.finish()?;
/// let filter = TrackFilter::default().min_duration(MinDuration::Millis(18 * 3_600_000)).min_path_distance_deg(5.0);
/// let kept = filter.apply(&tracks)?;
/// assert_eq!(kept.iter().map(|t| t.id()).collect::<Vec<_>>(), [2]);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackFilter {
    min_duration: Option<MinDuration>,
    min_endpoint_distance_deg: Option<f64>,
    min_path_distance_deg: Option<f64>,
    thresholds: Vec<TrackThreshold>,
    region: Option<TrackRegion>,
}

impl TrackFilter {
    /// Keep tracks at least this long (TempestExtremes' `--mintime`).
    pub fn min_duration(mut self, duration: MinDuration) -> Self {
        self.min_duration = Some(duration);
        self
    }

    /// Keep tracks whose first and last points are at least this far
    /// apart, degrees of great circle (`--min_endpoint_dist`).
    pub fn min_endpoint_distance_deg(mut self, degrees: f64) -> Self {
        self.min_endpoint_distance_deg = Some(degrees);
        self
    }

    /// Keep tracks whose path, summed point to point, is at least this
    /// long, degrees of great circle (`--min_path_dist`).
    pub fn min_path_distance_deg(mut self, degrees: f64) -> Self {
        self.min_path_distance_deg = Some(degrees);
        self
    }

    /// Keep only tracks passing `threshold` too (`--threshold`; all must
    /// pass).
    pub fn threshold(mut self, threshold: TrackThreshold) -> Self {
        self.thresholds.push(threshold);
        self
    }

    /// Keep only tracks with a point in `region`.
    pub fn region(mut self, region: TrackRegion) -> Self {
        self.region = Some(region);
        self
    }

    /// Whether the filter keeps every track.
    pub fn is_empty(&self) -> bool {
        *self == TrackFilter::default()
    }

    /// Checks the settings, naming the first bad one: distances finite and
    /// not negative.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("minimum endpoint distance", self.min_endpoint_distance_deg),
            ("minimum path distance", self.min_path_distance_deg),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(Error::InvalidArgument(format!("the {name} must be a distance in degrees, not {v}")));
            }
        }
        Ok(())
    }

    /// The settings as provenance parameters (name, value), in order.
    pub fn parameters(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        match self.min_duration {
            Some(MinDuration::Points(n)) => out.push(("min_duration_points".into(), n.to_string())),
            Some(MinDuration::Millis(ms)) => out.push(("min_duration_hours".into(), format!("{}", ms as f64 / 3.6e6))),
            None => {}
        }
        if let Some(d) = self.min_endpoint_distance_deg {
            out.push(("min_endpoint_dist_deg".into(), d.to_string()));
        }
        if let Some(d) = self.min_path_distance_deg {
            out.push(("min_path_dist_deg".into(), d.to_string()));
        }
        for t in &self.thresholds {
            out.push(("threshold".into(), t.to_string()));
        }
        if let Some(r) = self.region {
            out.push(("region".into(), format!("{},{},{},{}", r.west, r.east, r.south, r.north)));
        }
        out
    }

    /// Checks that `tracks` have every column the thresholds test.
    fn check_columns(&self, tracks: &Tracks) -> Result<()> {
        for t in &self.thresholds {
            if t.column != "lat" && t.column != "lon" && tracks.variable(&t.column).is_none() {
                let names: Vec<&str> = ["lat", "lon"].into_iter().chain(tracks.variable_names()).collect();
                return Err(Error::InvalidArgument(format!(
                    "track threshold `{t}`: the tracks have no column `{}` (they have {})",
                    t.column,
                    names.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Whether `track` (of a collection in `calendar`'s days) is kept.
    fn keeps(&self, track: &Track<'_>, calendar: crate::time::Calendar) -> Result<bool> {
        let (lats, lons) = (track.lats(), track.lons());
        let n = track.len();
        match self.min_duration {
            Some(MinDuration::Points(points)) if n < points => return Ok(false),
            Some(MinDuration::Millis(ms))
                if calendar.to_millis(track.end_time())? - calendar.to_millis(track.start_time())? < ms =>
            {
                return Ok(false);
            }
            _ => {}
        }
        let degrees = |a: usize, b: usize| cosine_law_angle_rad(lats[a], lons[a], lats[b], lons[b]).to_degrees();
        if let Some(d) = self.min_endpoint_distance_deg
            && d > 0.0
            && degrees(0, n - 1) < d
        {
            return Ok(false);
        }
        if let Some(d) = self.min_path_distance_deg
            && d > 0.0
            && (1..n).map(|k| degrees(k - 1, k)).sum::<f64>() < d
        {
            return Ok(false);
        }
        for t in &self.thresholds {
            let values = match t.column.as_str() {
                "lat" => lats,
                "lon" => lons,
                name => track.variable(name).unwrap_or(&[]),
            };
            let passes = |k: usize| values.get(k).is_some_and(|&v| t.op.holds(v, t.value));
            let kept = match t.count {
                PointCount::All => (0..n).all(passes),
                PointCount::First => passes(0),
                PointCount::Last => passes(n - 1),
                PointCount::AtLeast(m) => (0..n).filter(|&k| passes(k)).count() >= m,
            };
            if !kept {
                return Ok(false);
            }
        }
        if let Some(region) = self.region
            && !(0..n).any(|k| region.contains(lats[k], lons[k]))
        {
            return Ok(false);
        }
        Ok(true)
    }

    /// The tracks of `tracks` the filter keeps, in order, with their ids.
    ///
    /// # Errors
    /// When a threshold tests a column the tracks do not have, or a time is
    /// not a date of their calendar.
    pub fn apply(&self, tracks: &Tracks) -> Result<Tracks> {
        if self.is_empty() {
            return Ok(tracks.clone());
        }
        self.check_columns(tracks)?;
        let calendar = tracks.metadata().calendar;
        let mut keep = Vec::with_capacity(tracks.len());
        for track in tracks.iter() {
            keep.push(self.keeps(&track, calendar)?);
        }
        Ok(tracks.filter(|t| keep[t.index()]))
    }
}

/// A [`TrackSink`] that passes on only the tracks a [`TrackFilter`] keeps,
/// counting those it drops.
#[derive(Debug)]
pub struct FilteredSink<S> {
    filter: TrackFilter,
    inner: S,
    dropped: usize,
}

impl<S: TrackSink> FilteredSink<S> {
    /// `inner`, behind `filter`.
    pub fn new(filter: TrackFilter, inner: S) -> Self {
        FilteredSink { filter, inner, dropped: 0 }
    }

    /// Tracks dropped so far.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The sink behind the filter.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: TrackSink> TrackSink for FilteredSink<S> {
    fn accept(&mut self, tracks: Tracks) -> Result<()> {
        // Every run goes through the filter: with nothing to test, pass the
        // batch on as it is rather than copying it.
        if self.filter.is_empty() {
            return self.inner.accept(tracks);
        }
        let kept = self.filter.apply(&tracks)?;
        self.dropped += tracks.len() - kept.len();
        self.inner.accept(kept)
    }

    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Timestamp, TracksBuilder};

    fn tracks(paths: &[&[(f64, f64, f64)]]) -> Tracks {
        let mut b = TracksBuilder::new(["msl"]);
        for (id, path) in paths.iter().enumerate() {
            b.begin_track(id as u64 + 1);
            for (k, &(lat, lon, v)) in path.iter().enumerate() {
                b.push(Timestamp::from_ymdh(2025, 12, 1 + (k / 4) as u8, 6 * (k % 4) as u8).unwrap(), lat, lon, &[v])
                    .unwrap();
            }
            b.end_track().unwrap();
        }
        b.finish().unwrap()
    }

    fn ids(t: &Tracks) -> Vec<u64> {
        t.iter().map(|t| t.id()).collect()
    }

    #[test]
    fn each_test_as_tempestextremes_applies_it() {
        let t = tracks(&[
            &[(10.0, 0.0, 1.0), (10.0, 1.0, 2.0), (10.0, 0.0, 3.0)], // 2° of path, back where it began
            &[(10.0, 0.0, 5.0), (12.0, 0.0, 5.0)],                   // 2° straight, two points
            &[(60.0, 170.0, -1.0), (60.0, -170.0, -2.0), (61.0, -160.0, -3.0), (62.0, -150.0, -4.0)],
        ]);
        let f = |filter: TrackFilter| ids(&filter.apply(&t).unwrap());
        assert_eq!(f(TrackFilter::default()), [1, 2, 3]);
        assert_eq!(f(TrackFilter::default().min_duration(MinDuration::Points(3))), [1, 3]);
        assert_eq!(f(TrackFilter::default().min_duration(MinDuration::Millis(18 * 3_600_000))), [3]);
        assert_eq!(f(TrackFilter::default().min_duration(MinDuration::Millis(12 * 3_600_000))), [1, 3]);
        assert_eq!(f(TrackFilter::default().min_endpoint_distance_deg(1.5)), [2, 3]);
        assert_eq!(f(TrackFilter::default().min_path_distance_deg(1.9)), [1, 2, 3]);
        assert_eq!(f(TrackFilter::default().min_path_distance_deg(2.1)), [3]);
        let threshold = |s: &str| TrackFilter::default().threshold(s.parse().unwrap());
        assert_eq!(f(threshold("msl,>=,2,2")), [1, 2]);
        assert_eq!(f(threshold("msl,>=,2,all")), [2]);
        assert_eq!(f(threshold("msl,<,0,first")), [3]);
        assert_eq!(f(threshold("msl,|>=,4,last")), [2, 3]);
        assert_eq!(f(threshold("lat,<=,50,all")), [1, 2]);
        assert_eq!(f(threshold("lon,!=,0,1")), [1, 3]);
        // Across the antimeridian.
        assert_eq!(f(TrackFilter::default().region("175,-165,55,65".parse().unwrap())), [3]);
        assert_eq!(f(TrackFilter::default().region("-10,10,0,11".parse().unwrap())), [1, 2]);
        let err = threshold("vo,>,0,1").apply(&t).unwrap_err().to_string();
        assert!(err.contains("no column `vo`") && err.contains("lat, lon, msl"), "{err}");
        assert!(TrackFilter::default().min_path_distance_deg(-1.0).validate().is_err());
    }

    use proptest::prelude::*;

    proptest! {
        /// A filter keeps a subsequence of the tracks, unchanged; filtering
        /// twice is filtering once; all tests together keep exactly the
        /// tracks each test alone keeps.
        #[test]
        fn filters_select_and_compose(
            paths in proptest::collection::vec(
                proptest::collection::vec((-80.0..80.0f64, -180.0..180.0f64, -5.0..5.0f64), 1..8), 0..12),
            points in 1usize..6,
            endpoint in 0.0..30.0f64,
            path in 0.0..60.0f64,
            value in -5.0..5.0f64,
        ) {
            let refs: Vec<&[(f64, f64, f64)]> = paths.iter().map(Vec::as_slice).collect();
            let t = tracks(&refs);
            let threshold: TrackThreshold = format!("msl,>=,{value},2").parse().unwrap();
            let region: TrackRegion = "-60,60,-30,30".parse().unwrap();
            let single = [
                TrackFilter::default().min_duration(MinDuration::Points(points)),
                TrackFilter::default().min_endpoint_distance_deg(endpoint),
                TrackFilter::default().min_path_distance_deg(path),
                TrackFilter::default().threshold(threshold.clone()),
                TrackFilter::default().region(region),
            ];
            let all = TrackFilter::default()
                .min_duration(MinDuration::Points(points))
                .min_endpoint_distance_deg(endpoint)
                .min_path_distance_deg(path)
                .threshold(threshold)
                .region(region);
            let kept = all.apply(&t).unwrap();
            let by_id = |id: u64| t.iter().find(|x| x.id() == id).unwrap();
            for track in kept.iter() {
                let original = by_id(track.id());
                prop_assert_eq!((track.lats(), track.lons(), track.times()), (original.lats(), original.lons(), original.times()));
            }
            let kept_ids = ids(&kept);
            prop_assert!(kept_ids.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(ids(&all.apply(&kept).unwrap()), kept_ids.clone());
            let each: Vec<Vec<u64>> = single.iter().map(|f| ids(&f.apply(&t).unwrap())).collect();
            let intersection: Vec<u64> = ids(&t).into_iter().filter(|id| each.iter().all(|e| e.contains(id))).collect();
            prop_assert_eq!(kept_ids, intersection);
        }
    }

    #[test]
    fn a_filtered_sink_counts_what_it_drops() {
        let t = tracks(&[&[(10.0, 0.0, 1.0)], &[(10.0, 0.0, 1.0), (10.0, 1.0, 1.0)]]);
        let mut sink = FilteredSink::new(
            TrackFilter::default().min_duration(MinDuration::Points(2)),
            crate::MemorySink::default(),
        );
        sink.accept(t).unwrap();
        sink.finish().unwrap();
        assert_eq!(sink.dropped(), 1);
        assert_eq!(ids(&sink.into_inner().into_tracks().unwrap()), [2]);
    }
}
