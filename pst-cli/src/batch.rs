//! `stormtracker batch`: many independent `track` runs from a manifest,
//! resumable after a crash.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser};
use rayon::prelude::*;

use pst::{CancelFlag, member_path};

use crate::args::{Backend, Cli, Command, TrackArgs};
use crate::track;

#[derive(Args, Debug)]
pub(crate) struct BatchArgs {
    /// The manifest: one run per line, written as the arguments of
    /// `stormtracker track` (e.g. `-i 'era5_msl_2020-*.nc' --variable msl -o
    /// tracks_2020.txt`); blank lines and `#` comments are skipped, paths are
    /// relative to the current directory.
    manifest: PathBuf,
    /// Runs to do at once (each gets its share of the cores unless its line
    /// sets -w). Runs are handed out as workers free up.
    #[arg(short, long, default_value_t = 1)]
    jobs: usize,
    /// The run log: finished runs are appended to it and skipped next time
    /// (default: the manifest's path with `.done` added).
    #[arg(long)]
    log: Option<PathBuf>,
    /// Run everything again, even runs the log says are done.
    #[arg(long)]
    force: bool,
}

/// One line of the manifest.
struct Run {
    line_number: usize,
    text: String,
    args: Box<TrackArgs>,
}

/// Runs the manifest; fails (after doing everything it can) if any run failed.
pub(crate) fn batch(args: &BatchArgs, verbose: u8, cancel: &CancelFlag) -> Result<()> {
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let text = std::fs::read_to_string(&args.manifest)
        .with_context(|| format!("cannot read the manifest {}", args.manifest.display()))?;
    let runs = parse_manifest(&text, &args.manifest)?;
    let log_path = args.log.clone().unwrap_or_else(|| {
        let mut name = args.manifest.clone().into_os_string();
        name.push(".done");
        PathBuf::from(name)
    });
    let done = read_log(&log_path)?;
    let log = Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open the run log {}", log_path.display()))?,
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads_per_run = (cores / args.jobs).max(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.jobs).build()?;
    let outcomes: Vec<Outcome> = pool.install(|| {
        runs.par_iter()
            .map(|run| {
                if let Some(outputs) = finished(run, &done).filter(|_| !args.force) {
                    eprintln!("stormtracker: line {}: done before ({}), skipped", run.line_number, outputs);
                    return Outcome::Skipped;
                }
                let mut track_args = run.args.clone();
                track_args.no_progress = true;
                if track_args.workers.is_none() {
                    track_args.workers = Some(threads_per_run as u64);
                }
                match track(&track_args, verbose, cancel) {
                    Ok(outputs) => {
                        let entry = log_entry(run, &outputs);
                        let logged = log
                            .lock()
                            .map_err(|_| anyhow::anyhow!("the run log's lock is poisoned"))
                            .and_then(|mut file| {
                                writeln!(file, "{entry}")?;
                                Ok(file.flush()?)
                            });
                        match logged {
                            Ok(()) => Outcome::Done,
                            Err(e) => {
                                eprintln!("stormtracker: line {}: finished but not logged: {e:#}", run.line_number);
                                Outcome::Failed
                            }
                        }
                    }
                    Err(e) => {
                        eprintln!("stormtracker: line {}: error: {e:#}", run.line_number);
                        Outcome::Failed
                    }
                }
            })
            .collect()
    });
    let count = |o: Outcome| outcomes.iter().filter(|&&x| x == o).count();
    let (ran, skipped, failed) = (count(Outcome::Done), count(Outcome::Skipped), count(Outcome::Failed));
    eprintln!(
        "stormtracker: batch {}: {ran} run, {skipped} skipped as done, {failed} failed (log: {})",
        args.manifest.display(),
        log_path.display()
    );
    if failed > 0 {
        bail!("{failed} of {} runs failed; run the batch again to retry them", runs.len());
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    Skipped,
    Failed,
}

/// Every run of the manifest, each line checked as `track` arguments before
/// anything runs.
fn parse_manifest(text: &str, manifest: &Path) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let where_ = || format!("{}, line {}", manifest.display(), k + 1);
        let Some(words) = shlex::split(line) else {
            bail!("{}: unbalanced quotes", where_());
        };
        let cli = Cli::try_parse_from(["stormtracker", "track"].into_iter().map(String::from).chain(words))
            .with_context(|| format!("{}: not a valid `stormtracker track` run", where_()))?;
        let Command::Track(args) = cli.command else { bail!("{}: not a track run", where_()) };
        if args.backend == Backend::Mpi {
            bail!("{}: a batch runs its lines in this process; start MPI jobs (-b mpi) with mpirun instead", where_());
        }
        runs.push(Run { line_number: k + 1, text: line.to_string(), args });
    }
    if runs.is_empty() {
        bail!("{}: the manifest lists no run", manifest.display());
    }
    Ok(runs)
}

/// Log lines: `done<TAB>outputs separated by TAB<TAB>manifest line`, the
/// manifest line last and whole.
fn log_entry(run: &Run, outputs: &[PathBuf]) -> String {
    let outputs: Vec<String> = outputs.iter().map(|p| p.display().to_string()).collect();
    format!("done\t{}\t{}", outputs.join("\t"), run.text)
}

/// What the log says finished: `(manifest line, outputs)`.
fn read_log(path: &Path) -> Result<Vec<(String, Vec<PathBuf>)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read the run log {}", path.display())),
    };
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 3 || fields[0] != "done" {
                return None;
            }
            let run = fields.pop()?.to_string();
            Some((run, fields[1..].iter().map(PathBuf::from).collect()))
        })
        .collect())
}

/// A run counts as finished when the log has its exact line and all its
/// outputs still exist (outputs are written atomically, so an existing one
/// is complete). A run never logged counts as finished when its single
/// output file exists.
fn finished(run: &Run, done: &[(String, Vec<PathBuf>)]) -> Option<String> {
    if let Some((_, outputs)) = done.iter().rev().find(|(line, _)| *line == run.text)
        && !outputs.is_empty()
        && outputs.iter().all(|p| p.exists())
    {
        return Some(format!("{} output{}", outputs.len(), if outputs.len() == 1 { "" } else { "s" }));
    }
    let single = member_path(&run.args.output, None).ok()?;
    single.exists().then(|| format!("{} exists", single.display()))
}
