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

use anyhow::{Context as _, Result, bail};
use args::{
    Algorithm, Backend, Cli, Command, CompareArgs, ConvertArgs, ModeArg, PlotArgs, ProjectionArg, RefinementArg,
    SampleArgs, TrackArgs,
};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use pst::{
    Adaptive, CancelFlag, CompareConfig, DetectionMode, DmaxZones, Event, HealpixRefinement, HealpixTracker,
    HodgesLinker, HodgesRefinement, HodgesTracker, OpenOptions, Pipeline, Progress, Refinement, Reporter, RunReport,
    SimpleLinker, SimpleTracker, TrackFormat, TrackerChoice, compare_tracks, read_tracks, write_tracks,
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
    // The column is named by --name, else by the variable; a variable the
    // tracks already have (their own msl) is kept, the sample then named
    // after its method too (`msl_min`), never overwritten unasked.
    let name = match &args.name {
        Some(name) => name.clone(),
        None if tracks.variable(&args.variable).is_some() => format!("{}_{}", args.variable, args.method),
        None => args.variable.clone(),
    };
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
    Ok(reports.into_iter().filter_map(|r| r.output.map(|(path, _)| path)).collect())
}

/// Whether an MPI launcher started this process (Open MPI, MPICH/Intel
/// MPI/Slurm's PMI, MVAPICH), as PyStormTracker tells it.
fn launched_by_mpi() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
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
        .allow_missing_inputs(args.allow_missing_inputs)
        .tracker(tracker(args)?)
        .command(command_line());
    if let Some(winds) = &args.winds {
        match winds.split_once(',').map(|(u, v)| (u.trim(), v.trim())) {
            Some((u, v)) if !u.is_empty() && !v.is_empty() => builder = builder.winds(u, v),
            _ => bail!("--winds takes the eastward and northward wind variables as U,V (e.g. u,v), not `{winds}`"),
        }
    }
    if let Some((lmin, lmax)) = band(args)? {
        builder = builder.band_pass(lmin, lmax);
    }
    if let Some(taper) = args.spectral_taper {
        builder = builder.spectral_taper(taper);
    }
    builder = builder.spectral_fit(args.spectral_fit).cyclonic(args.cyclonic);
    if let Some(region) = &args.region {
        let [south, north, west, east] = four_numbers("--region", "SOUTH,NORTH,WEST,EAST in degrees", region)?;
        builder = builder.region(pst::Bounds::new(south, north, west, east).context("--region")?);
    }
    if let Some(plane) = stereographic_plane(args)? {
        builder = builder.stereographic(plane);
    }
    builder = builder.edge_taper(args.taper_points);
    for spec in &args.sample {
        let Some((variable, method)) = spec.split_once(':') else {
            bail!("--sample takes VARIABLE:METHOD[:KM] (e.g. vo:max:300), not `{spec}`");
        };
        let method: pst::SampleMethod = method.parse().map_err(flag("--sample"))?;
        let name = match method.radius_km() {
            Some(km) => format!("{variable}_{}_{km}km", method.name()),
            None => format!("{variable}_{}", method.name()),
        };
        builder = builder.sample(variable, method, name);
    }
    if !args.criteria_input.is_empty() {
        builder = builder.criteria_inputs(args.criteria_input.iter().cloned());
    }
    for spec in &args.attach {
        let attachment: pst::FieldAttachment = spec.parse().map_err(flag("--attach"))?;
        builder = builder.sample(attachment.variable, attachment.method, attachment.column);
    }
    builder = builder.track_filter(track_filter(args)?);
    if let Some(workers) = args.workers.or(args.frame_workers).or(args.mge_workers) {
        builder = builder.threads(usize::try_from(workers)?);
    }
    if let Some(frames) = args.n_frames {
        builder = builder.max_frames(usize::try_from(frames).unwrap_or(usize::MAX));
    }
    Ok(builder.build()?)
}

/// The band-pass `--lmin/--lmax` or `--track-bands` ask for.
fn band(args: &TrackArgs) -> Result<Option<(usize, usize)>> {
    if let (Some(lmin), Some(lmax)) = (args.lmin, args.lmax) {
        return Ok(Some((lmin, lmax)));
    }
    let Some(text) = &args.track_bands else { return Ok(None) };
    let boundaries = text
        .split(',')
        .map(|b| b.trim().parse::<usize>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .ok()
        .filter(|b| (2..=3).contains(&b.len()) && b.windows(2).all(|w| w[0] < w[1]));
    match boundaries.as_deref() {
        // TRACK's band i runs from boundary i (exclusive after the first
        // band) to boundary i + 1.
        Some(&[first, last]) => Ok(Some((first, last))),
        Some(&[_, inner, last]) => Ok(Some((inner + 1, last))),
        _ => bail!(
            "--track-bands takes two or three increasing total wavenumbers, TRACK's band boundaries (e.g. 0,5,42 \
             keeps 6..42), not `{text}`"
        ),
    }
}

/// The filter of finished tracks the track-filter flags ask for.
fn track_filter(args: &TrackArgs) -> anyhow::Result<pst::TrackFilter> {
    let mut filter = pst::TrackFilter::default();
    if let Some(duration) = &args.min_duration {
        filter = filter.min_duration(duration.parse().map_err(flag("--min-duration"))?);
    }
    if let Some(degrees) = args.min_endpoint_dist {
        filter = filter.min_endpoint_distance_deg(degrees);
    }
    if let Some(degrees) = args.min_path_dist {
        filter = filter.min_path_distance_deg(degrees);
    }
    for threshold in &args.track_threshold {
        filter = filter.threshold(threshold.parse().map_err(flag("--track-threshold"))?);
    }
    if let Some(region) = &args.track_region {
        filter = filter.region(region.parse().map_err(flag("--track-region"))?);
    }
    filter.validate().map_err(flag("--min-endpoint-dist/--min-path-dist"))?;
    Ok(filter)
}

/// The detection criteria the criteria flags ask for. They test the
/// tracked variable (`--variable`), which their VAR must name.
fn detection_criteria(args: &TrackArgs) -> anyhow::Result<pst::DetectionCriteria> {
    let mut criteria = pst::DetectionCriteria::default();
    // The field VAR names (`None`: the tracked variable, as detected) and
    // the fields after it.
    let split = |flag: &str, text: &str| -> anyhow::Result<(Option<pst::FieldExpression>, Vec<String>)> {
        let fields: Vec<String> = pst::split_outside_parentheses(text, ',').into_iter().map(String::from).collect();
        let field = if fields[0] == args.variable {
            None
        } else {
            Some(fields[0].parse::<pst::FieldExpression>().map_err(|e| anyhow::anyhow!("{flag}: {}", e.root()))?)
        };
        Ok((field, fields[1..].to_vec()))
    };
    let number = |flag: &str, text: &str, field: &str| -> anyhow::Result<f64> {
        field.parse::<f64>().map_err(|_| anyhow::anyhow!("{flag} `{text}`: `{field}` is not a number"))
    };
    for text in &args.closed_contour {
        let (field, fields) = split("--closed-contour", text)?;
        let numbers: Vec<f64> =
            fields.iter().map(|f| number("--closed-contour", text, f)).collect::<anyhow::Result<_>>()?;
        let (delta, distance_deg, extremum_distance_deg) = match numbers[..] {
            [delta, distance] => (delta, distance, 0.0),
            [delta, distance, extremum] => (delta, distance, extremum),
            _ => bail!("--closed-contour takes VAR,DELTA,DIST_DEG[,MINMAXDIST_DEG], not `{text}`"),
        };
        let contour = pst::ClosedContour { delta, distance_deg, extremum_distance_deg };
        criteria = match field {
            None => criteria.closed_contour(contour),
            Some(field) => criteria.closed_contour_on(field, contour),
        };
    }
    for text in &args.threshold {
        let (field, fields) = split("--threshold", text)?;
        let [op, value, distance] = &fields[..] else {
            bail!("--threshold takes VAR,OP,VALUE,DIST_DEG, not `{text}`");
        };
        let test = pst::NearThreshold {
            op: op.parse().map_err(flag("--threshold"))?,
            value: number("--threshold", text, value)?,
            distance_deg: number("--threshold", text, distance)?,
        };
        criteria = match field {
            None => criteria.threshold(test),
            Some(field) => criteria.threshold_on(field, test),
        };
    }
    if let Some(degrees) = args.merge_dist {
        criteria = criteria.merge_distance(degrees);
    }
    if args.diag_connect {
        criteria = criteria.connectivity(pst::GridConnectivity::EdgesAndCorners);
    }
    criteria.validate().map_err(flag("--closed-contour/--threshold/--merge-dist"))?;
    Ok(criteria)
}

/// The plane `-p`, `-r` and `--extent` ask for; `None` for `-p global`,
/// which takes neither of the others (PyStormTracker ignores them there;
/// pst says so rather than ignore them, unless they are the defaults).
fn stereographic_plane(args: &TrackArgs) -> Result<Option<pst::StereographicPlane>> {
    let extent = match &args.extent {
        Some(text) => {
            let [x_min, x_max, y_min, y_max] = four_numbers("--extent", "XMIN,XMAX,YMIN,YMAX in km", text)?;
            Some(pst::StereographicExtent::new(x_min, x_max, y_min, y_max).map_err(flag("--extent"))?)
        }
        None => None,
    };
    let hemisphere = match args.projection.unwrap_or(ProjectionArg::Global) {
        ProjectionArg::Global => {
            let spacing_given = args.stereo_grid_spacing_km.is_some_and(|r| r != pst::DEFAULT_STEREOGRAPHIC_SPACING_KM);
            let extent_given = extent.is_some_and(|e| e != pst::StereographicExtent::default());
            if spacing_given || extent_given {
                bail!(
                    "-r/--stereo-grid-spacing-km and --extent shape a polar-stereographic plane: give -p nh_stereo or \
                     -p sh_stereo with them"
                );
            }
            return Ok(None);
        }
        ProjectionArg::NhStereo => pst::Hemisphere::North,
        ProjectionArg::ShStereo => pst::Hemisphere::South,
    };
    let mut plane = pst::StereographicPlane::new(hemisphere);
    if let Some(spacing) = args.stereo_grid_spacing_km {
        plane = plane.spacing_km(spacing);
        plane.grid().map_err(flag("--stereo-grid-spacing-km"))?;
    }
    if let Some(extent) = extent {
        plane = plane.extent(extent);
        plane.grid().map_err(flag("--extent"))?;
    }
    Ok(Some(plane))
}

/// The four comma-separated numbers of `flag`'s value `text` (`what`
/// names them in the error).
fn four_numbers(flag: &str, what: &str, text: &str) -> Result<[f64; 4]> {
    let numbers: Option<Vec<f64>> = text.split(',').map(|v| v.trim().parse::<f64>().ok()).collect();
    match numbers.as_deref() {
        Some(&[a, b, c, d]) => Ok([a, b, c, d]),
        _ => bail!("{flag} takes four numbers {what}, not `{text}`"),
    }
}

/// The command line as typed, for the outputs' provenance.
fn command_line() -> String {
    let words: Vec<String> = std::env::args().collect();
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

/// An error of the library about a flag's value, naming the flag.
fn flag(name: &'static str) -> impl Fn(pst::Error) -> anyhow::Error {
    move |e| anyhow::anyhow!("{name}: {}", e.root())
}

/// The flags given on the command line that only `other`'s tracker takes.
fn flags_of_the_other_tracker(args: &TrackArgs, other: Algorithm) -> Vec<&'static str> {
    let given = |present: bool, flag: &'static str| present.then_some(flag);
    let flags = match other {
        Algorithm::Simple => vec![
            given(args.feature_threshold.is_some(), "--feature-threshold"),
            given(args.search_window_size.is_some(), "--search-window-size"),
            given(args.range.is_some(), "--range"),
            given(args.linker.is_some(), "--linker"),
            given(args.max_gap.is_some(), "--max-gap"),
            given(args.candidates.is_some(), "--candidates"),
        ],
        Algorithm::Hodges | Algorithm::Healpix => vec![
            given(args.object_threshold.is_some(), "--object-threshold"),
            given(args.min_object_grid_points.is_some(), "--min-object-grid-points"),
            given(args.connectivity.is_some(), "--connectivity"),
            given(args.tied_extrema.is_some(), "--tied-extrema"),
            given(args.bspline_search.is_some(), "--bspline-search"),
            given(args.w1.is_some(), "--w1"),
            given(args.w2.is_some(), "--w2"),
            given(args.dmax.is_some(), "--dmax"),
            given(args.phimax.is_some(), "--phimax"),
            given(args.min_track_points.is_some(), "--min-track-points"),
            given(args.mge_max_iterations.is_some(), "--mge-max-iterations"),
            given(args.dmax_zones.is_some(), "--dmax-zones"),
            given(args.adaptive_smoothness.is_some(), "--adaptive-smoothness"),
            given(args.time_step.is_some(), "--time-step"),
            given(args.segment_frames.is_some(), "--segment-frames"),
            given(args.no_segmentation, "--no-segmentation"),
            given(args.track_smoopy_optimization_scale.is_some(), "--track-smoopy-optimization-scale"),
        ],
    };
    flags.into_iter().flatten().collect()
}

/// The tracker `-a` chooses, configured by the flags and checked; flags of
/// the other tracker are refused, each error names the flag.
fn tracker(args: &TrackArgs) -> Result<TrackerChoice> {
    if args.algorithm == Algorithm::Healpix {
        let given = |present: bool, flag: &'static str| present.then_some(flag);
        let refused: Vec<&str> = [
            given(args.feature_threshold.is_some(), "--feature-threshold (its threshold is --object-threshold)"),
            given(args.search_window_size.is_some(), "--search-window-size"),
            given(args.connectivity.is_some(), "--connectivity"),
            given(args.tied_extrema.is_some(), "--tied-extrema"),
            given(args.bspline_search.is_some(), "--bspline-search"),
            given(args.time_step.is_some(), "--time-step"),
            given(args.track_smoopy_optimization_scale.is_some(), "--track-smoopy-optimization-scale"),
            given(args.projection.is_some_and(|p| p != ProjectionArg::Global), "-p/--projection"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !refused.is_empty() {
            bail!("the HEALPix tracker (-a healpix) does not take {}, as in PyStormTracker", refused.join(", "));
        }
        if !args.closed_contour.is_empty()
            || args.merge_dist.is_some()
            || !args.threshold.is_empty()
            || args.diag_connect
        {
            bail!(
                "detection criteria (--closed-contour, --merge-dist, --threshold, --diag-connect) search the input's \
                 latitude-longitude grid; the HEALPix tracker detects on its own grid"
            );
        }
    } else if args.nside.is_some() {
        bail!("--nside applies to `-a healpix` only");
    }
    let (name, other) = match args.algorithm {
        Algorithm::Simple => ("Simple", Algorithm::Hodges),
        Algorithm::Hodges | Algorithm::Healpix => ("Hodges", Algorithm::Simple),
    };
    let foreign = flags_of_the_other_tracker(args, other);
    if !foreign.is_empty() {
        let other_name = if name == "Simple" { "hodges" } else { "simple" };
        let (verb, pronoun) = if foreign.len() == 1 { ("applies", "it") } else { ("apply", "them") };
        let hint = match (foreign.contains(&"--feature-threshold"), foreign.contains(&"--object-threshold")) {
            (true, _) => " (its threshold is --object-threshold)",
            (_, true) => " (its threshold is --feature-threshold)",
            _ => "",
        };
        bail!(
            "{} {verb} to `-a {other_name}` only; the {name} tracker does not take {pronoun}{hint}",
            foreign.join(", ")
        );
    }
    let refinement = args.feature_refinement.and_then(|r| r.to_possible_value()).map(|v| v.get_name().to_string());
    Ok(match args.algorithm {
        Algorithm::Simple => {
            let refinement = match args.feature_refinement.unwrap_or(RefinementArg::Grid) {
                RefinementArg::Grid => Refinement::Grid,
                RefinementArg::Quadratic => Refinement::Quadratic,
                _ => bail!(
                    "the Simple tracker refines by grid or quadratic; {} is the Hodges tracker's (-a hodges)",
                    refinement.unwrap_or_default()
                ),
            };
            let mut tracker = SimpleTracker::default().refinement(refinement).criteria(detection_criteria(args)?);
            if args.candidates.as_deref() == Some("neighbours") {
                let connectivity = if args.diag_connect {
                    pst::GridConnectivity::EdgesAndCorners
                } else {
                    pst::GridConnectivity::Edges
                };
                if args.search_window_size.is_some() {
                    bail!("--search-window-size sizes the `window` candidates; `--candidates neighbours` has none");
                }
                tracker = tracker.candidates(pst::Candidates::Neighbours(connectivity));
            }
            if let Some(window) = args.search_window_size {
                tracker = tracker.window(window);
                tracker.validate().map_err(flag("--search-window-size"))?;
            }
            if let Some(mode) = detection_mode(args.detection_mode) {
                tracker = tracker.mode(mode);
            }
            if let Some(threshold) = args.feature_threshold {
                tracker = tracker.threshold(threshold);
                tracker.validate().map_err(flag("--feature-threshold"))?;
            }
            if let Some(range_deg) = args.range
                && !(range_deg > 0.0 && range_deg <= 180.0)
            {
                bail!("--range: the link range must be more than 0 and at most 180 degrees, not {range_deg}");
            }
            match args.linker.as_deref().unwrap_or("nearest") {
                "nearest" => {
                    let mut linker = SimpleLinker::default();
                    if let Some(range_deg) = args.range {
                        // TempestExtremes' --range is degrees of great
                        // circle; the linker's limit is km on pst's sphere.
                        linker = linker.max_distance_km(range_deg.to_radians() * pst::EARTH_RADIUS_KM);
                    }
                    if let Some(gap) = &args.max_gap {
                        linker = linker.max_gap(gap.parse().map_err(flag("--max-gap"))?);
                    }
                    tracker = tracker.linker(linker);
                }
                "stitch" => {
                    let mut linker = pst::StitchLinker::default();
                    if let Some(range_deg) = args.range {
                        linker = linker.range_deg(range_deg);
                    }
                    if let Some(gap) = &args.max_gap {
                        linker = linker.max_gap(gap.parse().map_err(flag("--max-gap"))?);
                    }
                    tracker = tracker.linker(linker);
                }
                other => bail!("--linker: `{other}` is not a linker; choose nearest or stitch"),
            }
            tracker.validate().map_err(flag("--range"))?;
            tracker.into()
        }
        Algorithm::Hodges => {
            let refinement: HodgesRefinement =
                refinement.as_deref().unwrap_or("bspline").parse().map_err(flag("--feature-refinement"))?;
            let linker = hodges_linker(args)?;
            let mut tracker =
                HodgesTracker::default().refinement(refinement).linker(linker).criteria(detection_criteria(args)?);
            if let Some(connectivity) = &args.connectivity {
                tracker = tracker.connectivity(connectivity.parse().map_err(flag("--connectivity"))?);
            }
            if let Some(tied) = &args.tied_extrema {
                tracker = tracker.tied_extrema(tied.parse().map_err(flag("--tied-extrema"))?);
            }
            if let Some(search) = &args.bspline_search {
                tracker = tracker.bspline_search(search.parse().map_err(flag("--bspline-search"))?);
            }
            if let Some(points) = args.min_object_grid_points {
                tracker = tracker.min_object_points(points);
                tracker.validate().map_err(flag("--min-object-grid-points"))?;
            }
            if let Some(scale) = args.track_smoopy_optimization_scale {
                tracker = tracker.optimization_scale(scale);
                tracker.validate().map_err(flag("--track-smoopy-optimization-scale"))?;
            }
            if let Some(mode) = detection_mode(args.detection_mode) {
                tracker = tracker.mode(mode);
            }
            if let Some(threshold) = args.object_threshold {
                tracker = tracker.threshold(threshold);
                tracker.validate().map_err(flag("--object-threshold"))?;
            }
            tracker.into()
        }
        Algorithm::Healpix => {
            let refinement = match args.feature_refinement.unwrap_or(RefinementArg::Quadratic) {
                RefinementArg::Grid => HealpixRefinement::Grid,
                RefinementArg::Quadratic => HealpixRefinement::Quadratic,
                _ => bail!(
                    "the HEALPix tracker refines by grid or quadratic, not {} (as PyStormTracker)",
                    refinement.unwrap_or_default()
                ),
            };
            let mut tracker = HealpixTracker::default().refinement(refinement).linker(hodges_linker(args)?);
            if let Some(nside) = args.nside {
                tracker = tracker.nside(nside);
                tracker.validate().map_err(flag("--nside"))?;
            }
            if let Some(points) = args.min_object_grid_points {
                tracker = tracker.min_object_points(points);
            }
            if let Some(mode) = detection_mode(args.detection_mode) {
                tracker = tracker.mode(mode);
            }
            if let Some(threshold) = args.object_threshold {
                tracker = tracker.threshold(threshold);
                tracker.validate().map_err(flag("--object-threshold"))?;
            }
            tracker.into()
        }
    })
}

/// The Hodges linker the flags ask for (the Hodges and HEALPix trackers'),
/// each flag set and checked in turn, so an error names it.
fn hodges_linker(args: &TrackArgs) -> Result<HodgesLinker> {
    let mut linker = HodgesLinker::default();
    let mut set = |given: bool, name: &'static str, change: &dyn Fn(HodgesLinker) -> HodgesLinker| -> Result<()> {
        if given {
            linker = change(linker.clone());
            linker.validate().map_err(flag(name))?;
        }
        Ok(())
    };
    let w1 = args.w1.unwrap_or(HodgesLinker::DEFAULT_W1);
    let w2 = args.w2.unwrap_or(HodgesLinker::DEFAULT_W2);
    set(args.w1.is_some(), "--w1", &|l| l.weights(w1, HodgesLinker::DEFAULT_W2))?;
    set(args.w2.is_some(), "--w2", &|l| l.weights(w1, w2))?;
    set(args.dmax.is_some(), "--dmax", &|l| l.dmax_deg(args.dmax.unwrap_or_default()))?;
    set(args.phimax.is_some(), "--phimax", &|l| l.phimax(args.phimax.unwrap_or_default()))?;
    set(args.mge_max_iterations.is_some(), "--mge-max-iterations", &|l| {
        l.max_iterations(args.mge_max_iterations.unwrap_or_default())
    })?;
    set(args.min_track_points.is_some(), "--min-track-points", &|l| {
        l.min_track_points(args.min_track_points.unwrap_or_default())
    })?;
    set(args.segment_frames.is_some() || args.no_segmentation, "--segment-frames", &|l| {
        l.segment_frames((!args.no_segmentation).then(|| args.segment_frames.unwrap_or_default()))
    })?;
    set(args.time_step.is_some(), "--time-step", &|l| l.time_step_ms(args.time_step.unwrap_or_default()))?;
    if let Some(spec) = &args.dmax_zones {
        linker = linker.zones(DmaxZones::from_spec(spec).map_err(flag("--dmax-zones"))?);
    }
    if let Some(spec) = &args.adaptive_smoothness {
        linker = linker.adaptive(Adaptive::from_spec(spec).map_err(flag("--adaptive-smoothness"))?);
    }
    Ok(linker)
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
