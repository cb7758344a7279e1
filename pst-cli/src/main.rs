//! # stormtracker: the pst command line
//!
//! Tracks storms in gridded climate data and converts track files, with the
//! flags of PyStormTracker's `stormtracker` where they apply:
//!
//! ```text
//! stormtracker track -i era5_msl.nc --variable msl -o tracks.imilast.txt
//! stormtracker track -i era5_vo850.nc --variable vo -m max --feature-threshold 1e-4 -o vo.json
//! stormtracker track -i era5_msl.nc --variable msl --lmin 5 --lmax 42 -o t5-42.imilast.txt
//! stormtracker track -i era5_uv850.nc --winds u,v --variable vo --lmin 6 --lmax 63 -o vo.json
//! stormtracker convert -i tracks.imilast.txt -o tracks.tdump
//! ```
//!
//! Errors print as `stormtracker: error: …` naming the file and variable,
//! and exit with status 2.

mod batch;
#[cfg(feature = "mpi")]
mod mpi_backend;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use pst_core::Tracker;
use pst_core::{DetectionMode, FieldSource, Tracks};
use pst_detect::Refinement;
use pst_hodges::{AdaptiveSmoothness, DmaxZones, HodgesLinker, HodgesRefinement, HodgesTracker};
use pst_io::{
    MultiFileSource, OpenOptions, TrackFormat, expand_inputs, list_members, open_source, read_tracks, write_tracks,
    write_tracks_streaming,
};
use pst_link::SimpleTracker;
use pst_metrics::{CompareConfig, Matching, compare_tracks};
use pst_spectral::{BandPass, FilteredSource, WindVorticitySource};

#[derive(Parser, Debug)]
#[command(name = "stormtracker", version, about = "Track storms and cyclones in gridded climate data")]
struct Cli {
    /// More output: -v for progress information, -vv for details.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Detect storm centres in every frame and link them into tracks.
    Track(Box<TrackArgs>),
    /// Convert a track file from one format to another.
    Convert(ConvertArgs),
    /// Run many independent `track` runs listed in a manifest, resumably.
    Batch(batch::BatchArgs),
    /// Compare candidate tracks with reference tracks (matched counts,
    /// precision, recall, F1, separations).
    Compare(CompareArgs),
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// Reference track file (any supported format).
    #[arg(short, long)]
    reference: PathBuf,
    /// Candidate track file (any supported format).
    #[arg(short, long)]
    candidate: PathBuf,
    /// nearest, mutual_nearest or global_assignment.
    #[arg(long, default_value = "nearest", value_parser = |s: &str| s.parse::<Matching>().map_err(|e| e.to_string()))]
    matching: Matching,
    /// Largest mean great-circle separation of a pair, degrees.
    #[arg(short = 's', long, default_value_t = 2.0)]
    max_mean_separation: f64,
    /// Smallest shared fraction of points of a pair.
    #[arg(short = 'l', long, default_value_t = 0.6)]
    min_overlap: f64,
    /// A variable both files have, for intensity statistics.
    #[arg(long)]
    variable: Option<String>,
    /// Whether peak intensity is a minimum or a maximum.
    #[arg(short = 'm', long, value_enum, default_value_t = ModeArg::Auto)]
    detection_mode: ModeArg,
    /// Also write the full report as JSON to this file.
    #[arg(short = 'o', long = "output-report")]
    report: Option<PathBuf>,
    /// Write the candidate tracks some reference track selected (TrackJSON).
    #[arg(short = 'M', long)]
    matched_output: Option<PathBuf>,
    /// Print the full report as JSON instead of the summary.
    #[arg(short, long)]
    json: bool,
}

/// Where `track` runs.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    /// One process, its threads.
    Serial,
    /// An MPI job: ranks detect slabs of the series, rank 0 links.
    Mpi,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Algorithm {
    /// PyStormTracker's local extrema and nearest-neighbour linking.
    Simple,
    /// Hodges' (TRACK) threshold objects, B-spline refinement and Modified
    /// Greedy Exchange linking.
    Hodges,
}

/// A track format on the command line: `auto` (from the file name) or one
/// of [`TrackFormat`]'s names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FormatArg(Option<TrackFormat>);

impl FormatArg {
    fn format(self) -> Option<TrackFormat> {
        self.0
    }
}

fn parse_format(s: &str) -> Result<FormatArg, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(FormatArg(None));
    }
    s.parse::<TrackFormat>().map(|f| FormatArg(Some(f))).map_err(|e| e.to_string())
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ModeArg {
    /// Minima for pressure, maxima for vorticity.
    Auto,
    /// Local minima.
    Min,
    /// Local maxima.
    Max,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum RefinementArg {
    /// The grid point.
    Grid,
    /// A local quadratic fit.
    Quadratic,
    /// TRACK's bicubic B-spline surface and its GDFP search (Hodges only).
    Bspline,
    /// PyStormTracker's spherical extension (not implemented).
    #[value(name = "spherical_quadratic", alias = "spherical-quadratic")]
    SphericalQuadratic,
    /// PyStormTracker's spherical extension (not implemented).
    #[value(name = "spherical_bspline", alias = "spherical-bspline")]
    SphericalBspline,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ProjectionArg {
    /// The input grid as it is.
    Global,
    /// Northern polar stereographic (not implemented).
    #[value(name = "nh_stereo", alias = "nh-stereo")]
    NhStereo,
    /// Southern polar stereographic (not implemented).
    #[value(name = "sh_stereo", alias = "sh-stereo")]
    ShStereo,
}

#[derive(Args, Debug, Clone)]
struct TrackArgs {
    /// Input gridded data: netCDF (classic or netCDF-4), Zarr stores or
    /// GRIB1/GRIB2 files. Several files (`-i a.nc b.nc`, a glob such as
    /// `'era5_msl_*.nc'`, or `@list.txt` naming one file per line) make one
    /// series, put in order by their times.
    #[arg(short, long, num_args = 1.., required = true)]
    input: Vec<String>,
    /// Variable to track, e.g. msl or vo (with --winds: the name given to
    /// the computed vorticity).
    #[arg(long)]
    variable: String,
    /// Track relative vorticity computed spectrally from these eastward and
    /// northward wind variables of the input, e.g. `u,v`.
    #[arg(long, value_name = "U,V")]
    winds: Option<String>,
    /// Lowest total wavenumber kept by a spherical-harmonic band-pass of
    /// each frame before detection; give with --lmax (e.g. 5 and 42 for msl).
    #[arg(long, requires = "lmax")]
    lmin: Option<usize>,
    /// Highest total wavenumber kept by the band-pass; give with --lmin.
    #[arg(long, requires = "lmin")]
    lmax: Option<usize>,
    /// Sardeshmukh–Hoskins taper of the band-pass: the weight of wavenumber
    /// lmax, in (0, 1]; 1 keeps the band unchanged. Default 0.1 with
    /// `-a simple` (what PyStormTracker's Simple tracker always applies),
    /// 1 with `-a hodges`.
    #[arg(long)]
    spectral_taper: Option<f64>,
    /// Output track file.
    #[arg(short, long)]
    output: PathBuf,
    /// Tracking algorithm.
    #[arg(short, long, value_enum, default_value_t = Algorithm::Simple)]
    algorithm: Algorithm,
    /// Output format: auto (from the extension), imilast, track, json,
    /// tempest, tempest-csv, csv or netcdf.
    #[arg(short, long, default_value = "auto", value_parser = parse_format)]
    format: FormatArg,
    /// Track minima or maxima.
    #[arg(short = 'm', long, value_enum, default_value_t = ModeArg::Auto)]
    detection_mode: ModeArg,
    /// How far a centre must stand out, in the units of the input
    /// (default: 0 for msl, 1e-5 s⁻¹ for vorticity).
    #[arg(long, allow_negative_numbers = true)]
    feature_threshold: Option<f64>,
    /// Extremum search window in grid points (positive, odd; Simple).
    #[arg(long, default_value_t = 5)]
    search_window_size: usize,
    /// Sub-grid placement of centres (default: grid for Simple, bspline for
    /// Hodges).
    #[arg(long, value_enum)]
    feature_refinement: Option<RefinementArg>,
    /// Hodges: the object threshold, in the units of the input (default 0
    /// for msl, i.e. negative band-passed anomalies; 1e-5 s⁻¹ for vorticity).
    #[arg(long, allow_negative_numbers = true)]
    object_threshold: Option<f64>,
    /// Hodges: drop objects of fewer grid points.
    #[arg(long, default_value_t = 1)]
    min_object_grid_points: usize,
    /// Hodges: weight of the direction change in the MGE cost.
    #[arg(long, default_value_t = 0.2)]
    w1: f64,
    /// Hodges: weight of the speed change in the MGE cost.
    #[arg(long, default_value_t = 0.8)]
    w2: f64,
    /// Hodges: largest displacement between frames, degrees, where no dmax
    /// zone applies.
    #[arg(long, default_value_t = 6.5)]
    dmax: f64,
    /// Hodges: static smoothness limit and phantom-point cost.
    #[arg(long, default_value_t = 0.5)]
    phimax: f64,
    /// Hodges: shortest track kept, in points.
    #[arg(long, default_value_t = 3)]
    min_track_points: usize,
    /// Hodges: rounds of forward and backward exchange.
    #[arg(long, default_value_t = 3)]
    mge_max_iterations: usize,
    /// Hodges: regional dmax zones: `standard` (6.5° poleward of 20°, 3° in
    /// the tropics), `none`, or a file of `lon_min lon_max lat_min lat_max
    /// dmax` rows.
    #[arg(long, default_value = "standard")]
    dmax_zones: String,
    /// Hodges: adaptive smoothness: `standard` (displacements 1 2 5 8° with
    /// phimax 1 0.3 0.1 0), `none`, or a file of 2×4 or 4×2 numbers.
    #[arg(long, default_value = "standard")]
    adaptive_smoothness: String,
    /// Hodges: the input's cadence (e.g. 6h) so gaps between frames count
    /// as missing frames; default: the shortest step.
    #[arg(long, value_parser = parse_time_step)]
    time_step: Option<i64>,
    /// Hodges: MGE segment length in frames (default 62).
    #[arg(short = 'c', long, conflicts_with = "no_segmentation")]
    segment_frames: Option<usize>,
    /// Hodges: link the whole series as one segment.
    #[arg(long)]
    no_segmentation: bool,
    /// Hodges: TRACK's optimisation scale of the B-spline search (1;
    /// TRACK's historical validation setting is 0.01).
    #[arg(long, default_value_t = 1.0)]
    track_smoopy_optimization_scale: f64,
    /// Hodges: projection of detection; only `global` is implemented.
    #[arg(short = 'p', long, value_enum, default_value_t = ProjectionArg::Global)]
    projection: ProjectionArg,
    /// Where the work runs: `serial` (this process, its threads) or `mpi`
    /// (ranks of an MPI job split the time axis; build with `--features mpi`
    /// and start with mpirun).
    #[arg(short = 'b', long, value_enum, default_value_t = Backend::Serial)]
    backend: Backend,
    /// Track only the first N time steps.
    #[arg(short = 'n', long)]
    n_frames: Option<usize>,
    /// Worker threads for detection (default: RAYON_NUM_THREADS, else all cores).
    #[arg(short, long)]
    workers: Option<usize>,
    /// Vertical level to track, e.g. 850 (hPa), when the input has several.
    #[arg(long)]
    level: Option<f64>,
    /// Ensemble members to track, each as its own series: numbers and
    /// ranges, e.g. `0,3-5` (default: every member the input has). With
    /// several, put `{member}` in -o for one file per member, or write csv,
    /// json or netcdf, which get a `member` column.
    #[arg(long, alias = "member", value_parser = parse_members)]
    members: Option<MemberList>,
    /// The member dimension of netCDF/Zarr input, when it is not called
    /// number, member, realization, ensemble, ens or member_id.
    #[arg(long)]
    member_dim: Option<String>,
    /// CF time units for inputs whose time coordinate has none,
    /// e.g. "hours since 1996-01-05 00:00".
    #[arg(long)]
    time_units: Option<String>,
    /// Calendar for inputs whose time coordinate names none.
    #[arg(long)]
    calendar: Option<String>,
    /// Never show a progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Args, Debug)]
struct ConvertArgs {
    /// Input track file.
    #[arg(short, long)]
    input: PathBuf,
    /// Output track file.
    #[arg(short, long)]
    output: PathBuf,
    /// Input format: auto (from the content, then the extension), imilast,
    /// track, json, tempest, tempest-csv, csv or netcdf.
    #[arg(short = 'f', long, default_value = "auto", value_parser = parse_format)]
    in_format: FormatArg,
    /// Output format: auto (from the extension) or a format name.
    #[arg(short = 'F', long, default_value = "auto", value_parser = parse_format)]
    out_format: FormatArg,
    /// Rename the primary variable.
    #[arg(long)]
    variable: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stormtracker: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Track(args) => track(args, cli.verbose).map(drop),
        Command::Convert(args) => convert(args),
        Command::Batch(args) => batch::batch(args, cli.verbose),
        Command::Compare(args) => compare(args),
    }
}

fn compare(args: &CompareArgs) -> Result<()> {
    let reference = read_tracks(&args.reference, None)?;
    let candidate = read_tracks(&args.candidate, None)?;
    let config = CompareConfig {
        matching: args.matching,
        max_mean_separation_deg: args.max_mean_separation,
        min_overlap_fraction: args.min_overlap,
        variable: args.variable.clone(),
        mode: match args.detection_mode {
            ModeArg::Auto => None,
            ModeArg::Min => Some(DetectionMode::Min),
            ModeArg::Max => Some(DetectionMode::Max),
        },
    };
    let comparison = compare_tracks(&reference, &candidate, &config)?;
    let report = serde_json::to_string_pretty(&comparison.report())?;
    if args.json {
        println!("{report}");
    } else {
        println!("{}", comparison.summary());
    }
    if let Some(path) = &args.report {
        pst_io::write_atomically(path, |out| Ok(out.write_all(report.as_bytes())?))?;
    }
    if let Some(path) = &args.matched_output {
        let selected: std::collections::HashSet<u64> = comparison.matches.iter().map(|m| m.candidate_id).collect();
        let matched = candidate.filter(|t| selected.contains(&t.id()));
        write_tracks(path, &matched, Some(TrackFormat::TrackJson))?;
    }
    Ok(())
}

/// One input file, or several as one series (gaps reported once).
fn open_input(
    paths: &[PathBuf],
    variable: &str,
    options: &OpenOptions,
    report_gaps: bool,
) -> Result<Box<dyn FieldSource>> {
    if let [path] = paths {
        return Ok(open_source(path, variable, options)?);
    }
    let series = MultiFileSource::open(paths, variable, options)?;
    if report_gaps {
        for gap in series.gaps() {
            eprintln!(
                "stormtracker: warning: no data between {} and {} ({} frame{} missing)",
                gap.after,
                gap.before,
                gap.missing,
                if gap.missing == 1 { "" } else { "s" }
            );
        }
    }
    Ok(Box::new(series))
}

/// PyStormTracker 0.8.0's Simple tracker tapers its band-pass to 0.1 at
/// `lmax`, whatever `--spectral-taper` says.
const SIMPLE_SPECTRAL_TAPER: f64 = 0.1;

/// The input as the tracker sees it: read, then band-passed or turned into
/// vorticity from winds, frame by frame.
fn open_preprocessed(args: &TrackArgs, paths: &[PathBuf], options: &OpenOptions) -> Result<Box<dyn FieldSource>> {
    let band = match (args.lmin, args.lmax) {
        (Some(lmin), Some(lmax)) => {
            let taper = args.spectral_taper.unwrap_or(match args.algorithm {
                Algorithm::Simple => SIMPLE_SPECTRAL_TAPER,
                Algorithm::Hodges => 1.0,
            });
            Some(BandPass::new(lmin, lmax)?.with_taper(taper)?)
        }
        _ if args.spectral_taper.is_some() => {
            bail!("--spectral-taper applies to the band-pass: give --lmin and --lmax too")
        }
        _ => None,
    };
    if let Some((u, v)) = wind_variables(args)? {
        let u_source = open_input(paths, u, options, true)?;
        let v_source = open_input(paths, v, options, false)?;
        let mut vorticity = WindVorticitySource::new(u_source, v_source, band)?;
        vorticity.rename(&args.variable);
        return Ok(Box::new(vorticity));
    }
    let source = open_input(paths, &args.variable, options, true)?;
    Ok(match band {
        Some(band) => Box::new(FilteredSource::new(source, band)?),
        None => source,
    })
}

/// Runs `track`; returns the files written.
fn track(args: &TrackArgs, verbose: u8) -> Result<Vec<PathBuf>> {
    if args.backend == Backend::Mpi {
        if args.algorithm == Algorithm::Hodges {
            bail!("-b mpi runs the Simple tracker only; run -a hodges with -b serial (it uses every core)");
        }
        #[cfg(feature = "mpi")]
        return mpi_backend::track_mpi(args, verbose);
        #[cfg(not(feature = "mpi"))]
        bail!("this stormtracker was built without MPI: rebuild with `--features mpi` to use --backend mpi");
    }
    let started = Instant::now();
    let (options, paths) = track_inputs(args, true)?;
    let members = members_to_track(args, &paths, &options)?;
    let one_file_per_member = args.output.to_string_lossy().contains(MEMBER_PLACEHOLDER);
    let format = match args.format.format() {
        Some(f) => f,
        None => TrackFormat::from_path(&member_path(&args.output, members[0])?)?,
    };
    if members.len() > 1 && !one_file_per_member && !format.keeps_all_variables() {
        bail!(
            "{} ensemble members go to one {format} file, which has no member column: put {MEMBER_PLACEHOLDER} \
             in -o for one file per member, or write csv, json or netcdf",
            members.len()
        );
    }
    let tracker = any_tracker(args)?;
    let mut joined = Vec::new();
    let mut written = Vec::new();
    for &member in &members {
        let options = OpenOptions { member, ..options.clone() };
        let source = open_preprocessed(args, &paths, &options)?;
        let label = member.map(|m| format!(", member {m}")).unwrap_or_default();
        let mut counts = Counts::default();
        if members.len() > 1 && !one_file_per_member {
            let mut batches = Vec::new();
            let frames = track_one(args, &tracker, source.as_ref(), verbose, &mut |batch| {
                batches.push(batch);
                Ok(())
            })?;
            let mut tracks = Tracks::concat(batches)?;
            let column = vec![f64::from(member.unwrap_or(0)); tracks.num_points()];
            tracks.add_variable("member", None, column)?;
            counts.add(&tracks);
            summarise(&counts, frames, &label, started, None);
            joined.push((tracks, frames));
        } else if let AnyTracker::Hodges(hodges) = &tracker {
            // Hodges links segments after detection: nothing to stream, and
            // input errors are reported before the output is touched.
            let path = member_path(&args.output, member)?;
            let frames = args.n_frames.map_or(source.len(), |n| n.min(source.len()));
            let tracks = hodges.track(source.as_ref())?;
            counts.add(&tracks);
            write_tracks(&path, &tracks, Some(format))?;
            summarise(&counts, frames, &label, started, Some((&path, format)));
            warn_if_nothing_found(args, &counts);
            written.push(path);
        } else {
            // Finished tracks go to the file while the series is read.
            let path = member_path(&args.output, member)?;
            let mut frames = 0;
            write_tracks_streaming(&path, format, |sink| {
                frames = track_one(args, &tracker, source.as_ref(), verbose, &mut |batch| {
                    counts.add(&batch);
                    sink(batch)
                })?;
                Ok(())
            })?;
            summarise(&counts, frames, &label, started, Some((&path, format)));
            warn_if_nothing_found(args, &counts);
            written.push(path);
        }
    }
    if !joined.is_empty() {
        let frames = joined.iter().map(|(_, frames)| frames).sum();
        let tracks = Tracks::concat(joined.into_iter().map(|(tracks, _)| tracks))?;
        write_tracks(&args.output, &tracks, Some(format))?;
        let label = format!(" of {} members", members.len());
        let mut counts = Counts::default();
        counts.add(&tracks);
        summarise(&counts, frames, &label, started, Some((&args.output, format)));
        written.push(args.output.clone());
    }
    Ok(written)
}

/// What a run found, for its summary line.
#[derive(Debug, Default)]
struct Counts {
    centres: usize,
    tracks: usize,
    /// Tracks of two or more points.
    linked: usize,
}

impl Counts {
    fn add(&mut self, tracks: &Tracks) {
        self.centres += tracks.num_points();
        self.tracks += tracks.len();
        self.linked += tracks.iter().filter(|t| t.len() >= 2).count();
    }
}

/// The open options `track`'s flags set (no member chosen yet) and the
/// input files, with listed-but-missing files warned about when `warn`.
fn track_inputs(args: &TrackArgs, warn: bool) -> Result<(OpenOptions, Vec<PathBuf>)> {
    let options = OpenOptions {
        level: args.level,
        time_units: args.time_units.clone(),
        calendar: args.calendar.clone(),
        member: None,
        member_dim: args.member_dim.clone(),
    };
    let (paths, missing) = expand_inputs(&args.input)?;
    if warn {
        for path in &missing {
            eprintln!(
                "stormtracker: warning: {} is listed but does not exist; its times will be a gap",
                path.display()
            );
        }
    }
    if paths.is_empty() {
        bail!("none of the listed input files exists");
    }
    Ok((options, paths))
}

/// Where `-o` asks for one file per ensemble member.
const MEMBER_PLACEHOLDER: &str = "{member}";

/// The output path for `member`: `{member}` replaced by its number.
fn member_path(output: &Path, member: Option<u32>) -> Result<PathBuf> {
    let text = output.to_string_lossy();
    if !text.contains(MEMBER_PLACEHOLDER) {
        return Ok(output.to_path_buf());
    }
    match member {
        Some(m) => Ok(PathBuf::from(text.replace(MEMBER_PLACEHOLDER, &m.to_string()))),
        None => bail!("-o has {MEMBER_PLACEHOLDER}, but the input has no ensemble members"),
    }
}

/// The members to track one by one: those asked for, else every member the
/// input has, else one run without a member.
fn members_to_track(args: &TrackArgs, paths: &[PathBuf], options: &OpenOptions) -> Result<Vec<Option<u32>>> {
    if let Some(MemberList(list)) = &args.members {
        return Ok(list.iter().copied().map(Some).collect());
    }
    let variable = match wind_variables(args)? {
        Some((u, _)) => u,
        None => args.variable.as_str(),
    };
    let found = list_members(&paths[0], variable, options)?;
    Ok(if found.len() > 1 { found.into_iter().map(Some).collect() } else { vec![None] })
}

/// `--winds U,V` split into its two names.
fn wind_variables(args: &TrackArgs) -> Result<Option<(&str, &str)>> {
    let Some(winds) = &args.winds else { return Ok(None) };
    match winds.split_once(',').map(|(u, v)| (u.trim(), v.trim())) {
        Some((u, v)) if !u.is_empty() && !v.is_empty() => Ok(Some((u, v))),
        _ => bail!("--winds takes the eastward and northward wind variables as U,V (e.g. u,v), not `{winds}`"),
    }
}

/// The flags both trackers take, checked.
struct SharedFlags {
    mode: Option<DetectionMode>,
    threshold: Option<f64>,
    max_frames: Option<usize>,
    threads: Option<usize>,
}

impl SharedFlags {
    /// From `args`, with the tracker's threshold flag (`name`, `value`).
    fn from_args(args: &TrackArgs, name: &str, value: Option<f64>) -> Result<Self> {
        if let Some(t) = value
            && !t.is_finite()
        {
            bail!("{name} must be a finite number, got {t}");
        }
        if args.n_frames == Some(0) {
            bail!("--n-frames must be at least 1");
        }
        let mode = match args.detection_mode {
            ModeArg::Auto => None,
            ModeArg::Min => Some(DetectionMode::Min),
            ModeArg::Max => Some(DetectionMode::Max),
        };
        Ok(SharedFlags { mode, threshold: value, max_frames: args.n_frames, threads: args.workers })
    }
}

/// The tracker `-a` chooses.
enum AnyTracker {
    Simple(SimpleTracker),
    Hodges(Box<HodgesTracker>),
}

fn any_tracker(args: &TrackArgs) -> Result<AnyTracker> {
    Ok(match args.algorithm {
        Algorithm::Simple => AnyTracker::Simple(simple_tracker(args)?),
        Algorithm::Hodges => AnyTracker::Hodges(Box::new(hodges_tracker(args)?)),
    })
}

/// `--time-step`: a positive integer and s, m, h or D (PyStormTracker's
/// form), in milliseconds.
fn parse_time_step(text: &str) -> std::result::Result<i64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("`{text}` is not a time step like 6h"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "D" | "d" => 86_400_000,
        _ => return Err(format!("`{text}`: the unit must be s, m, h or D")),
    };
    if n <= 0 {
        return Err("the time step must be positive".into());
    }
    Ok(n * unit_ms)
}

/// The Hodges tracker as the flags configure it.
fn hodges_tracker(args: &TrackArgs) -> Result<HodgesTracker> {
    if args.projection != ProjectionArg::Global {
        bail!(
            "polar-stereographic detection (-p {}) is not implemented in pst; track on the global grid",
            if args.projection == ProjectionArg::NhStereo { "nh_stereo" } else { "sh_stereo" }
        );
    }
    if args.feature_threshold.is_some() {
        bail!("--feature-threshold is the Simple tracker's; the Hodges tracker takes --object-threshold");
    }
    let refinement = match args.feature_refinement.unwrap_or(RefinementArg::Bspline) {
        RefinementArg::Grid => HodgesRefinement::Grid,
        RefinementArg::Quadratic => HodgesRefinement::Quadratic,
        RefinementArg::Bspline => HodgesRefinement::Bspline,
        RefinementArg::SphericalQuadratic => "spherical_quadratic".parse()?,
        RefinementArg::SphericalBspline => "spherical_bspline".parse()?,
    };
    let zones = match args.dmax_zones.as_str() {
        "standard" => DmaxZones::standard(),
        "none" => DmaxZones::none(),
        path => DmaxZones::from_file(Path::new(path))?,
    };
    let adaptive = match args.adaptive_smoothness.as_str() {
        "standard" => Some(AdaptiveSmoothness::standard()),
        "none" => None,
        path => Some(AdaptiveSmoothness::from_file(Path::new(path))?),
    };
    // PyStormTracker: the standard table only while phimax > 0.
    let adaptive = if args.phimax == 0.0 && args.adaptive_smoothness == "standard" { None } else { adaptive };
    let mut linker = HodgesLinker::default()
        .weights(args.w1, args.w2)?
        .dmax(args.dmax)?
        .phimax(args.phimax)?
        .zones(zones)
        .adaptive(adaptive)
        .max_iterations(args.mge_max_iterations)?
        .min_track_points(args.min_track_points)?
        .segment_frames(if args.no_segmentation { None } else { Some(args.segment_frames.unwrap_or(62)) })?;
    if let Some(ms) = args.time_step {
        linker = linker.time_step(ms)?;
    }
    let mut tracker = HodgesTracker::default()
        .refinement(refinement)
        .min_object_points(args.min_object_grid_points.max(1))
        .optimization_scale(args.track_smoopy_optimization_scale)
        .linker(linker);
    let shared = SharedFlags::from_args(args, "--object-threshold", args.object_threshold)?;
    if let Some(mode) = shared.mode {
        tracker = tracker.mode(mode);
    }
    if let Some(t) = shared.threshold {
        tracker = tracker.threshold(t);
    }
    if let Some(n) = shared.max_frames {
        tracker = tracker.max_frames(n);
    }
    if let Some(w) = shared.threads {
        tracker = tracker.threads(w);
    }
    Ok(tracker)
}

/// The Simple tracker as the flags configure it.
fn simple_tracker(args: &TrackArgs) -> Result<SimpleTracker> {
    if args.object_threshold.is_some() {
        bail!("--object-threshold is the Hodges tracker's; the Simple tracker takes --feature-threshold");
    }
    let refinement = match args.feature_refinement.unwrap_or(RefinementArg::Grid) {
        RefinementArg::Grid => Refinement::Grid,
        RefinementArg::Quadratic => Refinement::Quadratic,
        other => bail!(
            "the Simple tracker refines by grid or quadratic; {} is the Hodges tracker's (-a hodges)",
            other.to_possible_value().map_or_else(String::new, |v| v.get_name().to_string())
        ),
    };
    let mut tracker = SimpleTracker::default().window(args.search_window_size).refinement(refinement);
    let shared = SharedFlags::from_args(args, "--feature-threshold", args.feature_threshold)?;
    if let Some(mode) = shared.mode {
        tracker = tracker.mode(mode);
    }
    if let Some(t) = shared.threshold {
        tracker = tracker.threshold(t);
    }
    if let Some(n) = shared.max_frames {
        tracker = tracker.max_frames(n);
    }
    if let Some(w) = shared.threads {
        tracker = tracker.threads(w);
    }
    Ok(tracker)
}

/// Tracks one series, with a progress bar on a terminal, handing finished
/// tracks to `sink` as they come; returns the number of frames read.
fn track_one(
    args: &TrackArgs,
    tracker: &AnyTracker,
    source: &dyn FieldSource,
    verbose: u8,
    sink: &mut dyn FnMut(Tracks) -> pst_core::Result<()>,
) -> pst_core::Result<usize> {
    let info = source.info();
    if verbose >= 1 {
        eprintln!(
            "stormtracker: {} `{}`{} ({}) on a {}×{} grid{}, {} frames from {} to {}",
            info.origin,
            info.variable,
            info.long_name.as_deref().map(|n| format!(", {n},")).unwrap_or_default(),
            info.units.as_deref().unwrap_or("no units"),
            info.grid.nlat(),
            info.grid.nlon(),
            if info.grid.is_periodic() { " (global)" } else { "" },
            source.len(),
            info.times.first().map(|t| t.to_string()).unwrap_or_default(),
            info.times.last().map(|t| t.to_string()).unwrap_or_default(),
        );
    }
    let frames = args.n_frames.map_or(source.len(), |n| n.min(source.len()));
    let bar = (!args.no_progress && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(frames as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} detecting [{bar:40}] {pos}/{len} frames {per_sec} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    let progress = |done: usize| {
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
        }
    };
    match tracker {
        AnyTracker::Simple(tracker) => tracker.track_streaming(source, Some(&progress), sink)?,
        AnyTracker::Hodges(tracker) => sink(tracker.track(source)?)?,
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    Ok(frames)
}

/// Hodges' default object threshold (0) is for band-passed anomalies: on
/// raw pressure it finds nothing, so say how to get something.
fn warn_if_nothing_found(args: &TrackArgs, counts: &Counts) {
    if args.algorithm == Algorithm::Hodges
        && counts.centres == 0
        && args.object_threshold.is_none()
        && args.lmin.is_none()
    {
        eprintln!(
            "stormtracker: warning: no feature points: the default object threshold (0 for msl, 1e-5 s⁻¹ for \
             vorticity) is meant for band-passed fields; band-pass with --lmin/--lmax (e.g. 5 and 42 for msl) or \
             set --object-threshold"
        );
    }
}

/// The one-line summary of a run (`written`: where to, when written).
fn summarise(counts: &Counts, frames: usize, label: &str, started: Instant, written: Option<(&Path, TrackFormat)>) {
    eprintln!(
        "stormtracker: {frames} frames{label}, {} centres, {} tracks ({} of 2 or more points) in {:.2} s{}",
        counts.centres,
        counts.tracks,
        counts.linked,
        started.elapsed().as_secs_f64(),
        written.map(|(path, format)| format!(" -> {} ({format})", path.display())).unwrap_or_default(),
    );
}

/// `--members`: numbers and ranges, `0,3-5`.
#[derive(Debug, Clone)]
struct MemberList(Vec<u32>);

fn parse_members(text: &str) -> std::result::Result<MemberList, String> {
    let mut members = Vec::new();
    for part in text.split(',').map(str::trim) {
        let number = |s: &str| s.trim().parse::<u32>().map_err(|_| format!("`{s}` is not a member number"));
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    return Err(format!("the range {a}-{b} runs backwards"));
                }
                members.extend(a..=b);
            }
            None => members.push(number(part)?),
        }
    }
    members.dedup();
    Ok(MemberList(members))
}

fn convert(args: &ConvertArgs) -> Result<()> {
    let mut tracks = read_tracks(&args.input, args.in_format.format())?;
    if let Some(name) = &args.variable {
        let Some(old) =
            tracks.metadata().variable.clone().or_else(|| tracks.variable_names().next().map(str::to_string))
        else {
            bail!("{}: the tracks have no variable to rename", args.input.display());
        };
        tracks.rename_variable(&old, name.clone())?;
        tracks.metadata_mut().variable = Some(name.clone());
    }
    let format = write_tracks(&args.output, &tracks, args.out_format.format())?;
    eprintln!(
        "stormtracker: {} tracks, {} points -> {} ({format})",
        tracks.len(),
        tracks.num_points(),
        args.output.display()
    );
    Ok(())
}
