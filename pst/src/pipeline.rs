//! The tracking pipeline: inputs → members → preprocessing → tracker → sink.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pst_core::{
    Bounds, CanonicalSource, CroppedSource, CyclonicSource, DetectionCriteria, EdgeTaper, Error, FieldSource,
    FilteredSink, Grid, NoProgress, ProcessingStep, Progress, Result, SourceInfo, StereographicPlane, Subseries,
    TaperedSource, Timestamp, TrackFilter, TrackSink, Tracker, Tracks,
};
use pst_hodges::{HealpixTracker, HodgesTracker};
use pst_io::{Gap, MemberSelection, OpenOptions, TrackFileSink, TrackFormat, expand_inputs, list_members};
use pst_link::SimpleTracker;
use pst_spectral::{BandPass, FilteredSource, GridFilter, SpectralFit, StereographicSource, WindVorticitySource};
use pst_track::SampleMethod;

use crate::inspect::{FrameCheck, Inspected};
use crate::sinks::{Counted, Counts, MemberColumn, Sampled, Stamped};

/// PyStormTracker 0.8.0's Simple tracker tapers its band-pass to 0.1 at
/// `lmax`, whatever its `spectral_taper` option says: the pipeline's default
/// taper for [`TrackerChoice::Simple`].
pub const SIMPLE_SPECTRAL_TAPER: f64 = 0.1;

/// The taper of the Hodges tracker's band-pass: none (PyStormTracker's
/// `HodgesTracker` default), as for any other tracker.
pub const UNTAPERED: f64 = 1.0;

/// Where an output path asks for one file per ensemble member: replaced
/// by the member's number.
pub const MEMBER_PLACEHOLDER: &str = "{member}";

/// The tracker a [`Pipeline`] runs.
#[derive(Clone)]
#[non_exhaustive]
pub enum TrackerChoice {
    /// PyStormTracker's Simple tracker.
    Simple(SimpleTracker),
    /// The Hodges (TRACK) tracker.
    Hodges(Box<HodgesTracker>),
    /// PyStormTracker's HEALPix tracker.
    Healpix(Box<HealpixTracker>),
    /// Any other [`Tracker`], e.g. a [`pst_track::DetectLinkTracker`] of
    /// one's own detector and linker.
    Custom(Arc<dyn Tracker>),
}

impl fmt::Debug for TrackerChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackerChoice::Simple(t) => f.debug_tuple("Simple").field(t).finish(),
            TrackerChoice::Hodges(t) => f.debug_tuple("Hodges").field(t).finish(),
            TrackerChoice::Healpix(t) => f.debug_tuple("Healpix").field(t).finish(),
            TrackerChoice::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl Default for TrackerChoice {
    fn default() -> Self {
        TrackerChoice::Simple(SimpleTracker::default())
    }
}

impl From<SimpleTracker> for TrackerChoice {
    fn from(tracker: SimpleTracker) -> Self {
        TrackerChoice::Simple(tracker)
    }
}

impl From<HodgesTracker> for TrackerChoice {
    fn from(tracker: HodgesTracker) -> Self {
        TrackerChoice::Hodges(Box::new(tracker))
    }
}

impl From<HealpixTracker> for TrackerChoice {
    fn from(tracker: HealpixTracker) -> Self {
        TrackerChoice::Healpix(Box::new(tracker))
    }
}

impl From<Arc<dyn Tracker>> for TrackerChoice {
    fn from(tracker: Arc<dyn Tracker>) -> Self {
        TrackerChoice::Custom(tracker)
    }
}

impl TrackerChoice {
    /// The taper of the band-pass before this tracker when none is given:
    /// PyStormTracker's, [`SIMPLE_SPECTRAL_TAPER`] for Simple and HEALPix,
    /// [`UNTAPERED`] otherwise.
    pub fn default_spectral_taper(&self) -> f64 {
        match self {
            TrackerChoice::Simple(_) | TrackerChoice::Healpix(_) => SIMPLE_SPECTRAL_TAPER,
            TrackerChoice::Hodges(_) | TrackerChoice::Custom(_) => UNTAPERED,
        }
    }

    /// `simple`, `hodges` or `custom`.
    pub fn name(&self) -> &'static str {
        match self {
            TrackerChoice::Simple(_) => "simple",
            TrackerChoice::Hodges(_) => "hodges",
            TrackerChoice::Healpix(_) => "healpix",
            TrackerChoice::Custom(_) => "custom",
        }
    }

    /// The tracker as a [`Tracker`].
    pub fn tracker(&self) -> &dyn Tracker {
        match self {
            TrackerChoice::Simple(t) => t,
            TrackerChoice::Hodges(t) => t.as_ref(),
            TrackerChoice::Healpix(t) => t.as_ref(),
            TrackerChoice::Custom(t) => t.as_ref(),
        }
    }

    /// A copy whose detection criteria read their other fields from
    /// `sources` (name, level, source); trackers without criteria as they
    /// are.
    fn with_criteria_sources(&self, sources: &[(String, Option<f64>, Arc<dyn FieldSource>)]) -> TrackerChoice {
        let attach = |criteria: &DetectionCriteria| {
            sources
                .iter()
                .fold(criteria.clone(), |c, (name, level, source)| c.field_source(name, *level, Arc::clone(source)))
        };
        match self {
            TrackerChoice::Simple(t) => TrackerChoice::Simple(t.clone().criteria(attach(t.detection_criteria()))),
            TrackerChoice::Hodges(t) => {
                TrackerChoice::Hodges(Box::new(t.as_ref().clone().criteria(attach(t.detection_criteria()))))
            }
            other => other.clone(),
        }
    }

    /// The variables (name, level) the tracker's detection criteria read
    /// besides the tracked field.
    fn criteria_variables(&self) -> Vec<(String, Option<f64>)> {
        match self {
            TrackerChoice::Simple(t) => t.detection_criteria().other_variables(),
            TrackerChoice::Hodges(t) => t.detection_criteria().other_variables(),
            _ => Vec::new(),
        }
    }

    /// The same tracker on `threads` threads (built-in trackers; a custom
    /// one is sized by its maker).
    fn with_threads(&self, threads: Option<usize>) -> TrackerChoice {
        match (self, threads) {
            (TrackerChoice::Simple(t), Some(n)) => TrackerChoice::Simple(t.clone().threads(n)),
            (TrackerChoice::Hodges(t), Some(n)) => TrackerChoice::Hodges(Box::new(t.as_ref().clone().threads(n))),
            (TrackerChoice::Healpix(t), Some(n)) => TrackerChoice::Healpix(Box::new(t.as_ref().clone().threads(n))),
            (other, _) => other.clone(),
        }
    }

    fn validate(&self) -> Result<()> {
        match self {
            TrackerChoice::Simple(t) => t.validate(),
            TrackerChoice::Hodges(t) => t.validate(),
            TrackerChoice::Healpix(t) => t.validate(),
            TrackerChoice::Custom(_) => Ok(()),
        }
    }
}

/// How a member's run tracks: given the tracker, the prepared source and
/// the sink.
pub(crate) type TrackWith<'a> = dyn Fn(&TrackerChoice, &dyn FieldSource, &mut dyn TrackSink) -> Result<()> + 'a;

/// What a pipeline reads.
#[derive(Clone)]
enum Input {
    /// Paths, globs and `@lists` ([`expand_inputs`]) making one series.
    Paths(Vec<String>),
    /// A source of the caller's.
    Source(Arc<dyn FieldSource>),
}

/// Something a run wants its caller to know, which does not stop it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// A listed input file does not exist; its times will be a gap.
    MissingInput(PathBuf),
    /// The series has no data between two frames.
    Gap(Gap),
    /// The Hodges tracker found nothing with its default object threshold
    /// on a field that was not band-passed.
    NoFeaturePoints,
    /// The threads asked for would oversubscribe the cores.
    Threads(String),
    /// The input (named) has no time steps: there is nothing to track.
    NoFrames(String),
    /// Frames of the input (named) were missing or constant, counted.
    Frames(String, FrameCheck),
    /// The stereographic plane's nodes are much closer than the input's
    /// grid points: detection windows counted in nodes span fewer km.
    FinePlane {
        /// Node spacing of the plane, km (on the sphere at the pole; half
        /// that at the equator).
        plane_km: f64,
        /// Latitude spacing of the input grid, km.
        input_km: f64,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::MissingInput(path) => {
                write!(f, "{} is listed but does not exist; its times will be a gap", path.display())
            }
            Warning::Gap(gap) => write!(
                f,
                "no data between {} and {} ({} frame{} missing)",
                gap.after,
                gap.before,
                gap.missing,
                if gap.missing == 1 { "" } else { "s" }
            ),
            Warning::NoFeaturePoints => f.write_str(
                "no feature points: the default object threshold (0 for msl, 1e-5 s⁻¹ for vorticity) is meant for \
                 band-passed fields; band-pass with --lmin/--lmax (e.g. 5 and 42 for msl) or set --object-threshold",
            ),
            Warning::Threads(message) => f.write_str(message),
            Warning::NoFrames(origin) => write!(f, "{origin} has no time steps: there is nothing to track"),
            Warning::Frames(origin, check) => write!(f, "{origin}: {check}"),
            Warning::FinePlane { plane_km, input_km } => write!(
                f,
                "the stereographic plane's nodes ({plane_km} km apart at the pole, {} km at the equator) are much \
                 closer than the input's grid points ({input_km:.0} km): the regrid interpolates between them, and \
                 search windows counted in nodes span fewer km, so more and weaker centres are found, most of them \
                 at low latitudes (PyStormTracker's default plane on a 2.5° input); -r {:.0} matches the input",
                plane_km / 2.0,
                (input_km / 50.0).round().max(1.0) * 50.0
            ),
        }
    }
}

/// What one tracked series (or, joined, all of them) produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunReport {
    /// The ensemble member tracked, if the input has members.
    pub member: Option<u32>,
    /// Members joined in this report (more than one: the joined file's).
    pub members: usize,
    /// Frames read.
    pub frames: usize,
    /// Centres in the tracks written.
    pub centres: usize,
    /// Tracks written.
    pub tracks: usize,
    /// Tracks the track filters dropped ([`PipelineBuilder::track_filter`]).
    pub dropped: usize,
    /// Tracks of two or more points.
    pub linked: usize,
    /// The file written and its format, when this report wrote one.
    pub output: Option<(PathBuf, TrackFormat)>,
}

/// A run's news, as it happens.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A series is open and about to be tracked: what it holds, its member,
    /// and the frames that will be read.
    Opened {
        /// The source as the tracker sees it (after preprocessing).
        source: &'a SourceInfo,
        /// Its ensemble member.
        member: Option<u32>,
        /// Frames to read.
        frames: usize,
    },
    /// A warning.
    Warning(&'a Warning),
    /// A series (or the joined members) is done.
    Finished(&'a RunReport),
    /// Something worth knowing at a verbose level (what an MPI rank does).
    Note(&'a str),
    /// An MPI rank failed and aborts the job (feature `mpi`).
    Aborting {
        /// The rank.
        rank: usize,
        /// The ranks of the job.
        ranks: usize,
        /// What went wrong.
        error: &'a Error,
    },
}

/// Hears a pipeline's progress and events; can cancel it through
/// [`Progress::is_cancelled`]. Both have defaults that do nothing.
pub trait Reporter: Progress {
    /// Something happened.
    fn event(&self, event: &Event<'_>) {
        let _ = event;
    }
}

impl Reporter for NoProgress {}

impl Reporter for pst_core::CancelFlag {}

/// A tracking run from inputs to tracks: which files (or source), which
/// variable and members, what preprocessing (band-pass with its taper,
/// vorticity from winds, a frame limit), which tracker, and where the
/// tracks go. Every default of the `stormtracker` command lives here or in
/// the trackers it runs, so the command and a library user get the same
/// tracks.
///
/// ```no_run
/// use pst::{HodgesTracker, Pipeline};
///
/// let pipeline = Pipeline::builder()
///     .input("era5_msl_2025-12_2.5x2.5.nc")
///     .variable("msl")
///     .band_pass(5, 42)
///     .tracker(HodgesTracker::default())
///     .build()?;
/// let tracks = pipeline.track()?;
/// pipeline.run_to_file("tracks.imilast.txt", None, &pst::NoProgress)?;
/// # Ok::<(), pst::Error>(())
/// ```
#[derive(Clone)]
pub struct Pipeline {
    input: Input,
    variable: Option<String>,
    winds: Option<(String, String)>,
    open: OpenOptions,
    members: MemberSelection,
    band: Option<BandPass>,
    spectral_fit: SpectralFit,
    cyclonic: bool,
    region: Option<Bounds>,
    edge_taper: Option<EdgeTaper>,
    /// The plane detection runs on and its grid, when not the input's.
    stereographic: Option<(StereographicPlane, Arc<Grid>)>,
    samples: Vec<Sample>,
    criteria_inputs: Vec<String>,
    tracker: TrackerChoice,
    track_filter: TrackFilter,
    threads: Option<usize>,
    max_frames: Option<usize>,
    time_range: (Option<Timestamp>, Option<Timestamp>),
    command: Option<String>,
    allow_missing_inputs: bool,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("variable", &self.variable)
            .field("winds", &self.winds)
            .field("band", &self.band)
            .field("tracker", &self.tracker)
            .finish_non_exhaustive()
    }
}

/// A field sampled at the track points ([`PipelineBuilder::sample`]).
#[derive(Debug, Clone)]
struct Sample {
    variable: String,
    method: SampleMethod,
    name: String,
}

/// Builds a [`Pipeline`]: every setter takes any value, [`PipelineBuilder::build`]
/// checks them all and names the first bad one.
#[derive(Clone, Default)]
pub struct PipelineBuilder {
    inputs: Vec<String>,
    source: Option<Arc<dyn FieldSource>>,
    variable: Option<String>,
    winds: Option<(String, String)>,
    open: OpenOptions,
    members: MemberSelection,
    band: Option<(usize, usize)>,
    spectral_taper: Option<f64>,
    spectral_fit: SpectralFit,
    cyclonic: bool,
    region: Option<Bounds>,
    edge_taper: Option<usize>,
    stereographic: Option<StereographicPlane>,
    samples: Vec<Sample>,
    criteria_inputs: Vec<String>,
    tracker: TrackerChoice,
    track_filter: TrackFilter,
    threads: Option<usize>,
    max_frames: Option<usize>,
    time_range: (Option<Timestamp>, Option<Timestamp>),
    command: Option<String>,
    allow_missing_inputs: bool,
}

impl fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("inputs", &self.inputs)
            .field("variable", &self.variable)
            .field("tracker", &self.tracker)
            .finish_non_exhaustive()
    }
}

impl PipelineBuilder {
    /// Adds an input: a file or Zarr store, a glob (`era5_msl_*.nc`) or a
    /// list (`@files.txt`); several make one series, ordered by time.
    pub fn input(mut self, input: impl Into<String>) -> Self {
        self.inputs.push(input.into());
        self
    }

    /// Adds inputs (see [`PipelineBuilder::input`]).
    pub fn inputs<S: Into<String>>(mut self, inputs: impl IntoIterator<Item = S>) -> Self {
        self.inputs.extend(inputs.into_iter().map(Into::into));
        self
    }

    /// Tracks a source of one's own instead of files (its variable is the
    /// one tracked; members and winds do not apply).
    pub fn source(mut self, source: Arc<dyn FieldSource>) -> Self {
        self.source = Some(source);
        self
    }

    /// The variable to track (`msl`, `vo`, an alias or a CF standard name);
    /// with [`PipelineBuilder::winds`], the name given to the vorticity.
    pub fn variable(mut self, variable: impl Into<String>) -> Self {
        self.variable = Some(variable.into());
        self
    }

    /// Track relative vorticity computed spectrally from these eastward and
    /// northward wind variables.
    pub fn winds(mut self, u: impl Into<String>, v: impl Into<String>) -> Self {
        self.winds = Some((u.into(), v.into()));
        self
    }

    /// How files are opened (level, time units, calendar, member dimension).
    pub fn open_options(mut self, options: OpenOptions) -> Self {
        self.open = options;
        self
    }

    /// The ensemble members to track, each as its own series (default:
    /// all the input has).
    pub fn members(mut self, members: MemberSelection) -> Self {
        self.members = members;
        self
    }

    /// Band-pass every frame to total wavenumbers `lmin..=lmax` before
    /// detection: by spherical harmonics on a global grid, by a cosine
    /// transform on a limited area ([`pst_spectral::GridFilter`]).
    pub fn band_pass(mut self, lmin: usize, lmax: usize) -> Self {
        self.band = Some((lmin, lmax));
        self
    }

    /// The band-pass's Sardeshmukh–Hoskins taper, the weight at `lmax` in
    /// `(0, 1]` (default: the tracker's, [`TrackerChoice::default_spectral_taper`]).
    pub fn spectral_taper(mut self, taper: f64) -> Self {
        self.spectral_taper = Some(taper);
        self
    }

    /// How the band-pass finds spherical-harmonic coefficients (default
    /// [`SpectralFit::Quadrature`]; [`SpectralFit::LeastSquares`] is
    /// TRACK's fit, for a latitude-longitude global grid).
    pub fn spectral_fit(mut self, fit: SpectralFit) -> Self {
        self.spectral_fit = fit;
        self
    }

    /// Track cyclonic vorticity in both hemispheres at once, as TRACK does:
    /// after any band-pass the southern hemisphere is multiplied by −1
    /// ([`CyclonicSource`]), so southern cyclones are maxima too; the
    /// tracked values are written with their true sign
    /// ([`pst_core::TrueSignSink`]). For vorticity-like fields (a pressure
    /// low is cyclonic in either hemisphere); on latitude-longitude grids.
    pub fn cyclonic(mut self, cyclonic: bool) -> Self {
        self.cyclonic = cyclonic;
        self
    }

    /// Detect on a polar-stereographic plane (PyStormTracker's `-p
    /// nh_stereo|sh_stereo`): each frame of the global input, tapered and
    /// band-passed as asked, is regridded onto the plane by
    /// [`StereographicSource`] (the band applied in the same spectral
    /// pass); centres are found on the plane and reported in degrees.
    pub fn stereographic(mut self, plane: StereographicPlane) -> Self {
        self.stereographic = Some(plane);
        self
    }

    /// Track inside `region` only: the input is cut to the grid points in
    /// it ([`CroppedSource`]) before anything else, and is then a
    /// limited-area grid (no wrap in longitude; the band-pass by cosine
    /// transform).
    pub fn region(mut self, region: Bounds) -> Self {
        self.region = Some(region);
        self
    }

    /// Where detection criteria read the other fields they test (paths,
    /// globs or `@lists`, as [`PipelineBuilder::inputs`]; default: the input
    /// files themselves), when those are in other files: for example the
    /// vorticity file beside the pressure file tracked. Members and times
    /// must match the input's.
    pub fn criteria_inputs<S: Into<String>>(mut self, inputs: impl IntoIterator<Item = S>) -> Self {
        self.criteria_inputs = inputs.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a column `name` to the tracks: the input's `variable` sampled
    /// by `method` at every track point, at the point's frame
    /// ([`pst_track::sample_tracks`]; in Pa for pressure and s⁻¹ for
    /// vorticity, unfiltered). Several may be asked for.
    pub fn sample(mut self, variable: impl Into<String>, method: SampleMethod, name: impl Into<String>) -> Self {
        self.samples.push(Sample { variable: variable.into(), method, name: name.into() });
        self
    }

    /// Keep only the finished tracks `filter` keeps (TempestExtremes'
    /// StitchNodes path filters: duration, endpoint and path distance,
    /// thresholds on any column, and a region), after sampling, so that a
    /// threshold may test a sampled column. Default: every track.
    pub fn track_filter(mut self, filter: TrackFilter) -> Self {
        self.track_filter = filter;
        self
    }

    /// Taper every frame to zero over `points` grid points from each edge
    /// ([`EdgeTaper`], PyStormTracker's `--taper-points`) before the
    /// band-pass; 0 (the default) for none. Edges are the file's own, before
    /// pst turns the grid to its orientation.
    pub fn edge_taper(mut self, points: usize) -> Self {
        self.edge_taper = Some(points);
        self
    }

    /// The tracker (default: [`SimpleTracker`] with PyStormTracker's
    /// defaults).
    pub fn tracker(mut self, tracker: impl Into<TrackerChoice>) -> Self {
        self.tracker = tracker.into();
        self
    }

    /// Worker threads (default: rayon's, which honours
    /// `RAYON_NUM_THREADS`); the tracks do not depend on it.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Only the first `frames` frames.
    pub fn max_frames(mut self, frames: usize) -> Self {
        self.max_frames = Some(frames);
        self
    }

    /// Tracks only the frames from `start` to `end`, both inclusive (either
    /// open), in the input's calendar: PyStormTracker's `start_time` and
    /// `end_time`. The frame limit counts from `start`.
    pub fn time_range(mut self, start: Option<Timestamp>, end: Option<Timestamp>) -> Self {
        self.time_range = (start, end);
        self
    }

    /// Whether files named in a list of inputs (`@list.txt`) may be missing,
    /// their times then gaps in the series, each told as a
    /// [`Warning::MissingInput`] (default `false`: a missing file is an
    /// error).
    pub fn allow_missing_inputs(mut self, allow: bool) -> Self {
        self.allow_missing_inputs = allow;
        self
    }

    /// The command that asked for this run, recorded with the tracks
    /// (TrackJSON's `processing`, CF-netCDF's `history`).
    pub fn command(mut self, command: impl Into<String>) -> Self {
        self.command = Some(command.into());
        self
    }

    /// The pipeline, every setting checked.
    ///
    /// # Errors
    /// Naming the first bad setting: no input, or both files and a source;
    /// no variable for files; winds with a source; an empty band or a taper
    /// outside `(0, 1]` or without a band; zero threads or frames; a bad
    /// tracker parameter.
    pub fn build(self) -> Result<Pipeline> {
        let bad = |message: &str| Err(Error::InvalidArgument(message.into()));
        let input = match (self.source, self.inputs.is_empty()) {
            (Some(_), false) => return bad("give input files or a source, not both"),
            (Some(source), true) => Input::Source(source),
            (None, false) => Input::Paths(self.inputs),
            (None, true) => return bad("no input: give at least one input file"),
        };
        if matches!(input, Input::Paths(_)) && self.variable.as_deref().is_none_or(str::is_empty) {
            return bad("no variable: name the variable to track");
        }
        if matches!(input, Input::Source(_)) && self.winds.is_some() {
            return bad("winds apply to input files: vorticity from a source of one's own is the source's business");
        }
        if let Some((u, v)) = &self.winds
            && (u.trim().is_empty() || v.trim().is_empty())
        {
            return bad("the wind variables must both be named");
        }
        let band = match self.band {
            Some((lmin, lmax)) => Some(BandPass::tapered(
                lmin,
                lmax,
                self.spectral_taper.unwrap_or_else(|| self.tracker.default_spectral_taper()),
            )?),
            None if self.spectral_taper.is_some() => {
                return bad("a spectral taper applies to a band-pass: give lmin and lmax too");
            }
            None => None,
        };
        if self.spectral_fit == SpectralFit::LeastSquares {
            let refusal = if band.is_none() {
                Some("a least-squares spectral fit applies to a band-pass: give lmin and lmax too")
            } else if self.winds.is_some() {
                Some(
                    "vorticity from winds is computed by quadrature: a least-squares fit applies to a field read as it is",
                )
            } else if self.stereographic.is_some() {
                Some(
                    "the stereographic regrid is synthesised from quadrature coefficients: a least-squares fit applies \
                      to a latitude-longitude grid",
                )
            } else if matches!(self.tracker, TrackerChoice::Healpix(_)) {
                Some(
                    "the HEALPix regrid is synthesised from quadrature coefficients: a least-squares fit applies to a \
                      latitude-longitude grid",
                )
            } else {
                None
            };
            if let Some(message) = refusal {
                return bad(message);
            }
        }
        if self.cyclonic {
            let variable = self.variable.as_deref().unwrap_or_default();
            let refusal = if pst_core::infer_detection_mode(variable) == Some(pst_core::DetectionMode::Min) {
                Some(format!(
                    "cyclonic sign applies to vorticity-like fields; a low of `{variable}` is cyclonic in both \
                     hemispheres already"
                ))
            } else if self.stereographic.is_some() || matches!(self.tracker, TrackerChoice::Healpix(_)) {
                Some(
                    "cyclonic sign applies on the latitude-longitude grid: not with a stereographic or HEALPix regrid"
                        .into(),
                )
            } else {
                None
            };
            if let Some(message) = refusal {
                return Err(Error::InvalidArgument(message));
            }
        }
        let edge_taper = self.edge_taper.filter(|&points| points > 0).map(EdgeTaper::new);
        for sample in &self.samples {
            sample.method.validate()?;
            if matches!(input, Input::Source(_)) {
                return bad("samples are read from the input files: give files, not a source");
            }
            if sample.variable.trim().is_empty() || sample.name.trim().is_empty() {
                return bad("a sample needs a variable and a column name");
            }
        }
        if (edge_taper.is_some() || self.region.is_some()) && self.winds.is_some() {
            return bad(
                "a region or an edge taper applies to the tracked field as read; vorticity from winds is computed \
                 on the whole globe",
            );
        }
        let stereographic = match self.stereographic {
            Some(_) if self.region.is_some() => {
                return bad("a polar-stereographic plane is regridded from the whole sphere: track a region on the \
                     stereographic plane with its extent, not a latitude-longitude region");
            }
            Some(plane) => Some((plane, Arc::new(plane.grid()?))),
            None => None,
        };
        if self.threads == Some(0) {
            return bad("the number of threads must be at least 1");
        }
        if self.max_frames == Some(0) {
            return bad("the frame limit must be at least 1");
        }
        self.track_filter.validate()?;
        let mut tracker = self.tracker.with_threads(self.threads);
        // The HEALPix regrid is spectral: the band-pass joins its pass
        // (vorticity from winds is band-passed as it is computed).
        if let (TrackerChoice::Healpix(healpix), Some(band), None) = (&tracker, band, &self.winds) {
            tracker = TrackerChoice::Healpix(Box::new(healpix.as_ref().clone().band(band)));
        }
        tracker.validate()?;
        Ok(Pipeline {
            input,
            variable: self.variable,
            winds: self.winds,
            open: self.open,
            members: self.members,
            band,
            spectral_fit: self.spectral_fit,
            cyclonic: self.cyclonic,
            region: self.region,
            edge_taper,
            stereographic,
            samples: self.samples,
            criteria_inputs: self.criteria_inputs,
            tracker,
            track_filter: self.track_filter,
            threads: self.threads,
            max_frames: self.max_frames,
            time_range: self.time_range,
            command: self.command,
            allow_missing_inputs: self.allow_missing_inputs,
        })
    }
}

impl Pipeline {
    /// A builder with PyStormTracker's defaults.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The filter of finished tracks.
    pub fn track_filter(&self) -> &TrackFilter {
        &self.track_filter
    }

    /// The tracker this pipeline runs.
    pub fn tracker(&self) -> &TrackerChoice {
        &self.tracker
    }

    /// How input files are opened (level, member, time units, calendar).
    pub(crate) fn open_options(&self) -> &OpenOptions {
        &self.open
    }

    /// The worker threads asked for, if any.
    pub fn threads(&self) -> Option<usize> {
        self.threads
    }

    /// The same pipeline on `threads` threads.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn with_threads(&self, threads: usize) -> Pipeline {
        Pipeline { tracker: self.tracker.with_threads(Some(threads)), threads: Some(threads), ..self.clone() }
    }

    /// The input files (paths, globs and lists expanded), telling
    /// `reporter` of listed files that do not exist; empty for a source.
    ///
    /// # Errors
    /// When nothing matches or none of the listed files exists.
    pub fn input_files(&self, reporter: &dyn Reporter) -> Result<Vec<PathBuf>> {
        let Input::Paths(inputs) = &self.input else { return Ok(Vec::new()) };
        let (paths, missing) = expand_inputs(inputs)?;
        if let (false, Some(first)) = (self.allow_missing_inputs, missing.first()) {
            return Err(Error::InvalidArgument(format!(
                "{} listed input file{} not exist ({}{}); allow missing files as gaps in the series with \
                 `allow_missing_inputs` (`--allow-missing-inputs` on the command line)",
                missing.len(),
                if missing.len() == 1 { " does" } else { "s do" },
                first.display(),
                if missing.len() > 1 { ", …" } else { "" }
            )));
        }
        for path in missing {
            reporter.event(&Event::Warning(&Warning::MissingInput(path)));
        }
        if paths.is_empty() {
            return Err(Error::InvalidArgument("none of the listed input files exists".into()));
        }
        Ok(paths)
    }

    /// The members to track one by one: those asked for, else every
    /// member the input has, else one run without a member.
    pub fn members_of(&self, paths: &[PathBuf]) -> Result<Vec<Option<u32>>> {
        if let MemberSelection::Only(list) = &self.members {
            return Ok(list.iter().copied().map(Some).collect());
        }
        let (Some(first), Some(variable)) = (paths.first(), self.read_variable()) else { return Ok(vec![None]) };
        let found = list_members(first, variable, &self.open)?;
        Ok(if found.len() > 1 { found.into_iter().map(Some).collect() } else { vec![None] })
    }

    /// The variable read from the files: the eastward wind when vorticity
    /// is computed from winds, else the variable tracked.
    fn read_variable(&self) -> Option<&str> {
        match &self.winds {
            Some((u, _)) => Some(u),
            None => self.variable.as_deref(),
        }
    }

    /// The series of `member` as the tracker sees it: read (one file, or
    /// several as one series, gaps told to `reporter`), turned north to
    /// south with longitudes from 0°E ([`CanonicalSource`], so nothing
    /// depends on how the files order their axes), turned into vorticity
    /// from winds or band-passed, cut to the frame limit.
    pub fn open(
        &self,
        paths: &[PathBuf],
        member: Option<u32>,
        reporter: &dyn Reporter,
    ) -> Result<Box<dyn FieldSource>> {
        Ok(self.open_prepared(paths, member, reporter)?.0)
    }

    /// [`Pipeline::open`], with the truncation of the stereographic regrid
    /// if there is one (for the provenance).
    pub(crate) fn open_prepared(
        &self,
        paths: &[PathBuf],
        member: Option<u32>,
        reporter: &dyn Reporter,
    ) -> Result<(Box<dyn FieldSource>, Option<usize>)> {
        let mut regrid_lmax = None;
        let source: Box<dyn FieldSource> = match &self.input {
            Input::Source(source) => {
                let source = CanonicalSource::new(self.cut(Arc::clone(source))?);
                self.preprocessed(source, self.band, &mut regrid_lmax, reporter)?
            }
            Input::Paths(_) => {
                let mut options = self.open.clone();
                options.member = member;
                match (&self.winds, self.variable.as_deref()) {
                    (Some((u, v)), variable) => {
                        let u = CanonicalSource::new(open_series(paths, u, &options, Some(reporter))?);
                        let v = CanonicalSource::new(open_series(paths, v, &options, None)?);
                        let mut vorticity = WindVorticitySource::new(u, v, self.band)?;
                        if let Some(variable) = variable {
                            vorticity.rename(variable);
                        }
                        // Band-passed already: only the regrid, if any, is left.
                        self.preprocessed(vorticity, None, &mut regrid_lmax, reporter)?
                    }
                    (None, variable) => {
                        let source = open_series(paths, variable.unwrap_or_default(), &options, Some(reporter))?;
                        let source = CanonicalSource::new(self.cut(source)?);
                        self.preprocessed(source, self.band, &mut regrid_lmax, reporter)?
                    }
                }
            }
        };
        // After the band-pass: a filter would spread the jump at the equator.
        let source: Box<dyn FieldSource> = if self.cyclonic { Box::new(CyclonicSource::new(source)) } else { source };
        let source = self.windowed(source);
        Ok((source, regrid_lmax))
    }

    /// `source` cut to the run's frames: the time window, then the frame
    /// limit. The tracked field and the fields the criteria read are cut
    /// alike, so their frames stay paired.
    fn windowed(&self, source: Box<dyn FieldSource>) -> Box<dyn FieldSource> {
        let source: Box<dyn FieldSource> = match self.time_range {
            (None, None) => source,
            (start, end) => {
                // Times increase strictly, so the window is one slice.
                let times = &source.info().times;
                let first = start.map_or(0, |s| times.partition_point(|t| *t < s));
                let last = end.map_or(times.len(), |e| times.partition_point(|t| *t <= e));
                Box::new(Subseries::new(source, first..last.max(first)))
            }
        };
        match self.max_frames {
            Some(frames) if frames < source.len() => Box::new(Subseries::new(source, 0..frames)),
            _ => source,
        }
    }

    /// `source` as the tracker takes it: band-passed to `band` if given,
    /// and regridded onto the stereographic plane if asked (both in one
    /// spectral pass; the HEALPix tracker band-passes in its own regrid);
    /// the stereographic regrid's truncation into `regrid_lmax`, and a
    /// warning to `reporter` when the plane is much finer than the input.
    fn preprocessed(
        &self,
        source: impl FieldSource + 'static,
        band: Option<BandPass>,
        regrid_lmax: &mut Option<usize>,
        reporter: &dyn Reporter,
    ) -> Result<Box<dyn FieldSource>> {
        Ok(match (&self.stereographic, band) {
            (Some((settings, plane)), band) => {
                let lats = source.info().grid.lats();
                if lats.len() > 1 {
                    let input_km = (lats[1] - lats[0]).abs().to_radians() * pst_core::EARTH_RADIUS_KM;
                    if settings.spacing_km < input_km / 2.0 {
                        let warning = Warning::FinePlane { plane_km: settings.spacing_km, input_km };
                        reporter.event(&Event::Warning(&warning));
                    }
                }
                let stereo = StereographicSource::new(source, (**plane).clone(), band)?;
                *regrid_lmax = Some(stereo.lmax());
                Box::new(stereo)
            }
            // The HEALPix tracker band-passes in its own regrid.
            (None, Some(_)) if matches!(self.tracker, TrackerChoice::Healpix(_)) => Box::new(source),
            (None, Some(band)) => Box::new(FilteredSource::with_fit(source, band, self.spectral_fit)?),
            (None, None) => Box::new(source),
        })
    }

    /// `source` cut to the region, if one was asked for.
    fn crop(&self, source: impl FieldSource + 'static) -> Result<Box<dyn FieldSource>> {
        Ok(match self.region {
            Some(region) => Box::new(CroppedSource::new(source, region)?),
            None => Box::new(source),
        })
    }

    /// `source` cut to the region and tapered at its edges, as asked.
    fn cut(&self, source: impl FieldSource + 'static) -> Result<Box<dyn FieldSource>> {
        let source = self.crop(source)?;
        Ok(match self.edge_taper {
            Some(taper) => Box::new(TaperedSource::new(source, taper)),
            None => source,
        })
    }

    /// What the run did before tracking and by what, recorded with its
    /// tracks.
    pub(crate) fn provenance(
        &self,
        paths: &[PathBuf],
        member: Option<u32>,
        regrid_lmax: Option<usize>,
        grid: &Grid,
    ) -> Vec<ProcessingStep> {
        let mut steps = Vec::new();
        if let Some((u, v)) = &self.winds {
            steps.push(ProcessingStep::new("vorticity_from_winds").parameter("u", u).parameter("v", v));
        }
        if let Some(region) = &self.region {
            steps.push(
                ProcessingStep::new("region")
                    .parameter("south", region.south)
                    .parameter("north", region.north)
                    .parameter("west", region.west)
                    .parameter("east", region.east),
            );
        }
        if let Some(taper) = &self.edge_taper {
            steps.push(ProcessingStep::new("boundary_taper").parameter("points", taper.points()));
        }
        if let Some(band) = &self.band {
            // PyStormTracker's parameter names; a plane or HEALPix grid was
            // filtered on the sphere before the regrid.
            let method = if self.stereographic.is_some() { "sht" } else { GridFilter::method_for(grid) };
            let mut step = ProcessingStep::new("spectral_filter").parameter("method", method);
            // PyStormTracker's steps have no fit: its own (quadrature) is
            // told by leaving it out.
            if self.spectral_fit != SpectralFit::Quadrature {
                step = step.parameter("fit", self.spectral_fit.name());
            }
            steps.push(
                step.parameter("lmin", band.lmin())
                    .parameter("lmax", band.lmax())
                    .parameter("spectral_taper", band.taper()),
            );
        }
        if self.cyclonic {
            steps.push(ProcessingStep::new("cyclonic_sign").parameter("southern_hemisphere", "multiplied by -1"));
        }
        if let Some((plane, _)) = &self.stereographic {
            let mut step = ProcessingStep::new("regrid")
                .parameter("projection", plane.projection.hemisphere().projection_name())
                .parameter("stereo_grid_spacing_km", format!("{:?}", plane.spacing_km));
            if let Some(lmax) = regrid_lmax {
                step = step.parameter("transform_lmax", lmax);
            }
            steps.push(step.parameter("extent", plane.extent.describe()));
        }
        if let TrackerChoice::Healpix(healpix) = &self.tracker
            && let Ok((grid, lmax)) = healpix.regrid_for(grid)
        {
            steps.push(
                ProcessingStep::new("regrid")
                    .parameter("projection", "healpix")
                    .parameter("nside", grid.nside())
                    .parameter("transform_lmax", lmax),
            );
        }
        for sample in &self.samples {
            let mut step = ProcessingStep::new("sample")
                .parameter("variable", &sample.variable)
                .parameter("method", sample.method.name())
                .parameter("name", &sample.name);
            if let Some(radius) = sample.method.radius_km() {
                step = step.parameter("radius_km", radius);
            }
            steps.push(step);
        }
        if !self.track_filter.is_empty() {
            let mut step = ProcessingStep::new("track_filter");
            for (name, value) in self.track_filter.parameters() {
                step = step.parameter(&name, value);
            }
            steps.push(step);
        }
        let (start, end) = self.time_range;
        if start.is_some() || end.is_some() {
            let mut step = ProcessingStep::new("time_range");
            if let Some(start) = start {
                step = step.parameter("start_time", start.to_string());
            }
            if let Some(end) = end {
                step = step.parameter("end_time", end.to_string());
            }
            steps.push(step);
        }
        if let Some(frames) = self.max_frames {
            steps.push(ProcessingStep::new("frame_limit").parameter("frames", frames));
        }
        let mut run = ProcessingStep::new("provenance")
            .parameter("software", "pst")
            .parameter("version", env!("CARGO_PKG_VERSION"));
        if let Some(command) = &self.command {
            run = run.parameter("command", command);
        }
        if !paths.is_empty() {
            let inputs: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            run = run.parameter("inputs", inputs.join(" "));
        }
        if let Some(member) = member {
            run = run.parameter("member", member);
        }
        steps.push(run);
        steps
    }

    /// Tracks every member into `sink`: one member's tracks as the tracker
    /// gives them; several members' one after another, numbered anew, with
    /// a `member` column. Returns one report per member, each also sent to
    /// `reporter`.
    pub fn track_into(&self, sink: &mut dyn TrackSink, reporter: &dyn Reporter) -> Result<Vec<RunReport>> {
        let paths = self.input_files(reporter)?;
        let members = self.members_of(&paths)?;
        let mut reports = Vec::with_capacity(members.len());
        if let [member] = members[..] {
            let report = self.track_member(&paths, member, false, sink, reporter)?;
            self.finished(&report, reporter);
            reports.push(report);
            return Ok(reports);
        }
        let mut joined = MemberColumn::new(sink);
        for &member in &members {
            joined.set_member(member.unwrap_or(0));
            let report = self.track_member(&paths, member, true, &mut joined, reporter)?;
            self.finished(&report, reporter);
            reports.push(report);
        }
        joined.finish_all()?;
        Ok(reports)
    }

    /// Tracks one member into `sink` (finished by the tracker); `joined`
    /// when the sink takes other members too (the provenance then names no
    /// member: the tracks have a member column).
    fn track_member(
        &self,
        paths: &[PathBuf],
        member: Option<u32>,
        joined: bool,
        sink: &mut dyn TrackSink,
        reporter: &dyn Reporter,
    ) -> Result<RunReport> {
        self.run_member(paths, member, joined, sink, reporter, &|tracker, source, sink| {
            tracker.tracker().track_into(source, sink, reporter)
        })
    }

    /// One member's run with `track` doing the tracking: given the tracker
    /// (reading its criteria's fields), the prepared source and the sink
    /// that stamps, samples, filters and counts the tracks on their way to
    /// `sink`. The whole run tracks; a split run links detected slabs.
    pub(crate) fn run_member(
        &self,
        paths: &[PathBuf],
        member: Option<u32>,
        joined: bool,
        sink: &mut dyn TrackSink,
        reporter: &dyn Reporter,
        track: &TrackWith<'_>,
    ) -> Result<RunReport> {
        let (source, regrid_lmax) = self.open_prepared(paths, member, reporter)?;
        let frames = source.len();
        reporter.event(&Event::Opened { source: source.info(), member, frames });
        if frames == 0 {
            reporter.event(&Event::Warning(&Warning::NoFrames(source.info().origin.clone())));
        }
        let steps = self.provenance(paths, member.filter(|_| !joined), regrid_lmax, &source.info().grid);
        let mut options = self.open.clone();
        options.member = member;
        let samples = self
            .samples
            .iter()
            .map(|s| Ok((open_series(paths, &s.variable, &options, None)?, s.method, s.name.clone())))
            .collect::<Result<Vec<_>>>()?;
        let tracker = self.tracker_reading_criteria_fields(paths, &options, source.info())?;
        // Tracks are stamped, sampled, filtered, counted, then written.
        let mut counted = Counted::new(sink);
        let mut filtered = FilteredSink::new(self.track_filter.clone(), &mut counted);
        let signed = self.true_sign(Sampled::new(&mut filtered, samples), &source.info().variable);
        let mut stamped = Stamped::new(signed, steps);
        let inspected = Inspected::new(source.as_ref());
        track(&tracker, &inspected, &mut stamped)?;
        drop(stamped);
        let dropped = filtered.dropped();
        let check = inspected.check();
        if check.is_suspicious() {
            reporter.event(&Event::Warning(&Warning::Frames(source.info().origin.clone(), check)));
        }
        let mut report = counted.counts().report(member, frames);
        report.dropped = dropped;
        Ok(report)
    }

    /// The tracker, its detection criteria reading the other fields they
    /// test from the input files: each variable at its level, turned and
    /// cut as the tracked field is, on its grid (checked here).
    pub(crate) fn tracker_reading_criteria_fields(
        &self,
        paths: &[PathBuf],
        options: &OpenOptions,
        tracked: &SourceInfo,
    ) -> Result<TrackerChoice> {
        let variables = self.tracker.criteria_variables();
        // On a plane the tracker refuses the criteria itself.
        if variables.is_empty() || tracked.grid.projection().is_some() {
            return Ok(self.tracker.clone());
        }
        if !matches!(self.input, Input::Paths(_)) {
            return Err(Error::InvalidArgument(format!(
                "detection criteria read `{}` from the input files, but the pipeline was given a source: attach its \
                 source to the criteria (DetectionCriteria::field_source)",
                variables[0].0
            )));
        }
        let other_paths = if self.criteria_inputs.is_empty() {
            paths.to_vec()
        } else {
            let (found, missing) = expand_inputs(&self.criteria_inputs)?;
            if let Some(path) = missing.first() {
                return Err(Error::InvalidArgument(format!("{}: no such criteria input file", path.display())));
            }
            found
        };
        let paths = other_paths.as_slice();
        let mut sources: Vec<(String, Option<f64>, Arc<dyn FieldSource>)> = Vec::new();
        for (name, level) in variables {
            let mut options = options.clone();
            options.level = level;
            // Cut to the region, but not tapered: criteria read raw fields.
            let source =
                self.windowed(Box::new(CanonicalSource::new(self.crop(open_series(paths, &name, &options, None)?)?)));
            let info = source.info();
            let same_grid = info.grid.lats() == tracked.grid.lats() && info.grid.lons() == tracked.grid.lons();
            if !same_grid {
                return Err(Error::InvalidArgument(format!(
                    "{}: `{name}` is on another grid than `{}` ({:?} and {:?} points); detection criteria read fields \
                     on the tracked grid",
                    info.origin,
                    tracked.variable,
                    info.grid.shape(),
                    tracked.grid.shape()
                )));
            }
            sources.push((name, level, Arc::new(source)));
        }
        Ok(self.tracker.with_criteria_sources(&sources))
    }

    /// `sink`, receiving the tracked `variable` with its true sign when the
    /// run flips the southern hemisphere ([`PipelineBuilder::cyclonic`]).
    pub(crate) fn true_sign<'a>(&self, sink: impl TrackSink + 'a, variable: &str) -> Box<dyn TrackSink + 'a> {
        if self.cyclonic { Box::new(pst_core::TrueSignSink::new(sink, variable)) } else { Box::new(sink) }
    }

    /// Tells `reporter` a series is done, and how to find something when the
    /// Hodges tracker found nothing with its default threshold on a field
    /// that was not band-passed.
    pub(crate) fn finished(&self, report: &RunReport, reporter: &dyn Reporter) {
        reporter.event(&Event::Finished(report));
        let default_threshold = match &self.tracker {
            TrackerChoice::Hodges(hodges) => hodges.explicit_threshold().is_none(),
            TrackerChoice::Healpix(healpix) => healpix.explicit_threshold().is_none(),
            _ => false,
        };
        if default_threshold && report.centres == 0 && report.dropped == 0 && self.band.is_none() {
            reporter.event(&Event::Warning(&Warning::NoFeaturePoints));
        }
    }

    /// Tracks every member and returns the tracks (several members joined
    /// with a `member` column).
    pub fn track(&self) -> Result<Tracks> {
        let mut sink = pst_core::MemorySink::default();
        self.track_into(&mut sink, &NoProgress)?;
        sink.into_tracks()
    }

    /// Tracks every member into the file `output` in `format` (default:
    /// from its name): with several members, one file per member when
    /// `output` holds [`MEMBER_PLACEHOLDER`], else one file with a `member`
    /// column (CSV, TrackJSON, CF-netCDF). Files are written atomically as
    /// tracks finish. Returns the reports, the last of a joined run
    /// covering every member; each is also sent to `reporter`.
    pub fn run_to_file(
        &self,
        output: impl AsRef<Path>,
        format: Option<TrackFormat>,
        reporter: &dyn Reporter,
    ) -> Result<Vec<RunReport>> {
        let output = output.as_ref();
        let paths = self.input_files(reporter)?;
        let members = self.members_of(&paths)?;
        let per_member = output.to_string_lossy().contains(MEMBER_PLACEHOLDER);
        for &member in &members {
            refuse_overwriting_an_input(&member_path(output, member)?, &paths)?;
        }
        let format = match format {
            Some(f) => f,
            None => TrackFormat::from_path(&member_path(output, members[0])?)?,
        };
        if let Some(sample) = self.samples.first()
            && !format.keeps_all_variables()
        {
            return Err(Error::InvalidArgument(format!(
                "{format} keeps only the tracked variable, so the sampled `{}` would be lost: write csv, json or \
                 netcdf",
                sample.name
            )));
        }
        if members.len() > 1 && !per_member && !format.keeps_all_variables() {
            return Err(Error::InvalidArgument(format!(
                "{} ensemble members go to one {format} file, which has no member column: put \
                 {MEMBER_PLACEHOLDER} in the output name for one file per member, or write csv, json or netcdf",
                members.len()
            )));
        }
        let mut reports = Vec::new();
        if members.len() > 1 && !per_member {
            let mut file = TrackFileSink::create(output, Some(format))?;
            let mut joined = MemberColumn::new(&mut file);
            for &member in &members {
                joined.set_member(member.unwrap_or(0));
                let report = self.track_member(&paths, member, true, &mut joined, reporter)?;
                self.finished(&report, reporter);
                reports.push(report);
            }
            joined.finish_all()?;
            let mut all = Counts::default();
            reports.iter().for_each(|r| all.add_report(r));
            let mut report = all.report(None, reports.iter().map(|r| r.frames).sum());
            report.members = members.len();
            report.output = Some((output.to_path_buf(), format));
            reporter.event(&Event::Finished(&report));
            reports.push(report);
            return Ok(reports);
        }
        for &member in &members {
            let path = member_path(output, member)?;
            let mut file = TrackFileSink::create(&path, Some(format))?;
            let mut report = self.track_member(&paths, member, false, &mut file, reporter)?;
            report.output = Some((path, format));
            self.finished(&report, reporter);
            reports.push(report);
        }
        Ok(reports)
    }
}

/// An error when `output` is one of the inputs (or the same file under
/// another name): writing it would destroy the data being read.
pub(crate) fn refuse_overwriting_an_input(output: &Path, inputs: &[PathBuf]) -> Result<()> {
    let Ok(target) = std::fs::canonicalize(output) else { return Ok(()) };
    match inputs.iter().find(|input| std::fs::canonicalize(input).is_ok_and(|i| i == target)) {
        Some(input) => Err(Error::InvalidArgument(format!(
            "the output {} is the input {}: choose another output name",
            output.display(),
            input.display()
        ))),
        None => Ok(()),
    }
}

/// One file, or several as one series, gaps told to `reporter`.
fn open_series(
    paths: &[PathBuf],
    variable: &str,
    options: &OpenOptions,
    reporter: Option<&dyn Reporter>,
) -> Result<Box<dyn FieldSource>> {
    let (source, gaps) = pst_io::open_series(paths, variable, options)?;
    if let Some(reporter) = reporter {
        for gap in gaps {
            reporter.event(&Event::Warning(&Warning::Gap(gap)));
        }
    }
    Ok(source)
}

/// The output path for `member`: [`MEMBER_PLACEHOLDER`] replaced by its
/// number.
///
/// ```
/// use std::path::Path;
/// assert_eq!(pst::member_path(Path::new("t_{member}.csv"), Some(3))?, Path::new("t_3.csv"));
/// assert!(pst::member_path(Path::new("t_{member}.csv"), None).is_err());
/// # Ok::<(), pst::Error>(())
/// ```
pub fn member_path(output: &Path, member: Option<u32>) -> Result<PathBuf> {
    let text = output.to_string_lossy();
    if !text.contains(MEMBER_PLACEHOLDER) {
        return Ok(output.to_path_buf());
    }
    match member {
        Some(m) => Ok(PathBuf::from(text.replace(MEMBER_PLACEHOLDER, &m.to_string()))),
        None => Err(Error::InvalidArgument(format!(
            "the output name has {MEMBER_PLACEHOLDER}, but the input has no ensemble members"
        ))),
    }
}
