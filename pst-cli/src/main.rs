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
//! status 2 (130 when interrupted, after removing any partial output).

mod args;
mod batch;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Result, bail};
use args::{
    Algorithm, Backend, Cli, Command, CompareArgs, ConvertArgs, ModeArg, ProjectionArg, RefinementArg, TrackArgs,
};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use pst::{
    Adaptive, CancelFlag, CompareConfig, DetectionMode, DmaxZones, Event, HodgesLinker, HodgesRefinement,
    HodgesTracker, OpenOptions, Pipeline, Progress, Refinement, Reporter, RunReport, SimpleTracker, TrackFormat,
    TrackerChoice, compare_tracks, read_tracks, write_tracks,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = CancelFlag::default();
    let handler = cancel.clone();
    // Ctrl-C or a SIGTERM stops the run between frames; outputs not yet
    // renamed into place are removed as the run unwinds.
    let _ = ctrlc::set_handler(move || handler.cancel());
    match run(&cli, &cancel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if matches!(e.downcast_ref::<pst::Error>().map(pst::Error::root), Some(pst::Error::Cancelled)) => {
            eprintln!("stormtracker: interrupted; no partial output was left");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("stormtracker: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli, cancel: &CancelFlag) -> Result<()> {
    match &cli.command {
        Command::Track(args) => track(args, cli.verbose, cancel).map(drop),
        Command::Convert(args) => convert(args),
        Command::Batch(args) => batch::batch(args, cli.verbose, cancel),
        Command::Compare(args) => compare(args),
    }
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
    if args.json {
        println!("{report}");
    } else {
        println!("{}", comparison.summary());
    }
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
    let reports = match args.backend {
        Backend::Serial => pipeline.run_to_file(&args.output, args.format.0, &console)?,
        #[cfg(feature = "mpi")]
        Backend::Mpi => pst::mpi::run_to_file(&pipeline, &args.output, args.format.0, &console)?,
        #[cfg(not(feature = "mpi"))]
        Backend::Mpi => {
            bail!("this stormtracker was built without MPI: rebuild with `--features mpi` to use --backend mpi")
        }
    };
    Ok(reports.into_iter().filter_map(|r| r.output.map(|(path, _)| path)).collect())
}

/// The pipeline `track`'s flags describe.
fn pipeline(args: &TrackArgs) -> Result<Pipeline> {
    let mut open = OpenOptions::default();
    open.level = args.level;
    open.time_units.clone_from(&args.time_units);
    open.calendar.clone_from(&args.calendar);
    open.member_dim.clone_from(&args.member_dim);
    let mut builder = Pipeline::builder()
        .inputs(&args.input)
        .variable(&args.variable)
        .open_options(open)
        .members(args.members.clone().unwrap_or_default())
        .tracker(tracker(args)?)
        .command(command_line());
    if let Some(winds) = &args.winds {
        match winds.split_once(',').map(|(u, v)| (u.trim(), v.trim())) {
            Some((u, v)) if !u.is_empty() && !v.is_empty() => builder = builder.winds(u, v),
            _ => bail!("--winds takes the eastward and northward wind variables as U,V (e.g. u,v), not `{winds}`"),
        }
    }
    if let (Some(lmin), Some(lmax)) = (args.lmin, args.lmax) {
        builder = builder.band_pass(lmin, lmax);
    }
    if let Some(taper) = args.spectral_taper {
        builder = builder.spectral_taper(taper);
    }
    if let Some(workers) = args.workers {
        builder = builder.threads(usize::try_from(workers)?);
    }
    if let Some(frames) = args.n_frames {
        builder = builder.max_frames(usize::try_from(frames).unwrap_or(usize::MAX));
    }
    Ok(builder.build()?)
}

/// The command line as typed, for the outputs' provenance.
fn command_line() -> String {
    let words: Vec<String> = std::env::args().collect();
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

/// The tracker `-a` chooses, configured by the flags; flags of the other
/// tracker are refused.
fn tracker(args: &TrackArgs) -> Result<TrackerChoice> {
    let refinement = args.feature_refinement.and_then(|r| r.to_possible_value()).map(|v| v.get_name().to_string());
    Ok(match args.algorithm {
        Algorithm::Simple => {
            if args.object_threshold.is_some() {
                bail!("--object-threshold is the Hodges tracker's; the Simple tracker takes --feature-threshold");
            }
            let refinement = match args.feature_refinement.unwrap_or(RefinementArg::Grid) {
                RefinementArg::Grid => Refinement::Grid,
                RefinementArg::Quadratic => Refinement::Quadratic,
                _ => bail!(
                    "the Simple tracker refines by grid or quadratic; {} is the Hodges tracker's (-a hodges)",
                    refinement.unwrap_or_default()
                ),
            };
            let mut tracker = SimpleTracker::default().window(args.search_window_size).refinement(refinement);
            if let Some(mode) = detection_mode(args.detection_mode) {
                tracker = tracker.mode(mode);
            }
            if let Some(threshold) = args.feature_threshold {
                tracker = tracker.threshold(threshold);
            }
            tracker.into()
        }
        Algorithm::Hodges => {
            if args.projection != ProjectionArg::Global {
                let name = args.projection.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
                bail!("polar-stereographic detection (-p {name}) is not implemented in pst; track on the global grid");
            }
            if args.feature_threshold.is_some() {
                bail!("--feature-threshold is the Simple tracker's; the Hodges tracker takes --object-threshold");
            }
            let refinement: HodgesRefinement = refinement.as_deref().unwrap_or("bspline").parse()?;
            let mut linker = HodgesLinker::default()
                .weights(args.w1, args.w2)
                .dmax_deg(args.dmax)
                .phimax(args.phimax)
                .zones(DmaxZones::from_spec(&args.dmax_zones)?)
                .adaptive(Adaptive::from_spec(&args.adaptive_smoothness)?)
                .max_iterations(args.mge_max_iterations)
                .min_track_points(args.min_track_points)
                .segment_frames((!args.no_segmentation).then_some(args.segment_frames));
            if let Some(ms) = args.time_step {
                linker = linker.time_step_ms(ms);
            }
            let mut tracker = HodgesTracker::default()
                .refinement(refinement)
                .min_object_points(args.min_object_grid_points)
                .optimization_scale(args.track_smoopy_optimization_scale)
                .linker(linker);
            if let Some(mode) = detection_mode(args.detection_mode) {
                tracker = tracker.mode(mode);
            }
            if let Some(threshold) = args.object_threshold {
                tracker = tracker.threshold(threshold);
            }
            tracker.into()
        }
    })
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
    format!(
        "stormtracker: {} frames{label}, {} centres, {} tracks ({} of 2 or more points) in {:.2} s{}",
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
    if let Some(name) = &args.variable {
        let Some(old) =
            tracks.metadata().variable.clone().or_else(|| tracks.variable_names().next().map(str::to_string))
        else {
            bail!("{}: the tracks have no variable to rename", args.input.display());
        };
        tracks.rename_variable(&old, name.clone())?;
        tracks.metadata_mut().variable = Some(name.clone());
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
