//! `stormtracker batch`: many independent `track` runs from a manifest,
//! resumable after a crash.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser};
use std::sync::atomic::{AtomicUsize, Ordering};

use pst::CancelFlag;

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
    /// sets -w). Runs are handed out as workers free up. Under `mpirun`
    /// (built with `--features mpi`) each rank does one run at a time.
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
    if crate::launched_by_mpi() {
        return batch_over_ranks(args, verbose, cancel);
    }
    let plan = Plan::read(args)?;
    let (runs, done, log, log_path) = (&plan.runs, &plan.done, &plan.log, &plan.log_path);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads_per_run = (cores / args.jobs).max(1);
    // `jobs` workers take the lines in order as they free up: at most `jobs`
    // runs at once, each with its own detection threads and a single run's
    // memory.
    let next = AtomicUsize::new(0);
    let outcomes: Vec<Mutex<Option<Outcome>>> = runs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.min(runs.len()) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(run) = runs.get(k) else { break };
                    let outcome = if cancel.is_set() {
                        Outcome::Failed
                    } else {
                        run_one(run, args, done, log, threads_per_run, verbose, cancel)
                    };
                    if let Ok(mut slot) = outcomes[k].lock() {
                        *slot = Some(outcome);
                    }
                }
            });
        }
    });
    let outcomes: Vec<Outcome> =
        outcomes.into_iter().map(|m| m.into_inner().ok().flatten().unwrap_or(Outcome::Failed)).collect();
    summarise(args, log_path, &outcomes)
}

/// Says what a batch did; fails if a run failed.
fn summarise(args: &BatchArgs, log_path: &Path, outcomes: &[Outcome]) -> Result<()> {
    let count = |o: Outcome| outcomes.iter().filter(|&&x| x == o).count();
    let (ran, skipped, failed) = (count(Outcome::Done), count(Outcome::Skipped), count(Outcome::Failed));
    eprintln!(
        "stormtracker: batch {}: {ran} run, {skipped} skipped as done, {failed} failed (log: {})",
        args.manifest.display(),
        log_path.display()
    );
    if failed > 0 {
        bail!("{failed} of {} runs failed; run the batch again to retry them", outcomes.len());
    }
    Ok(())
}

/// A batch about to run: its lines, what the log says is done, the log.
struct Plan {
    runs: Vec<Run>,
    done: Vec<Logged>,
    log: Mutex<std::fs::File>,
    log_path: PathBuf,
}

impl Plan {
    /// Reads the manifest (every line checked) and the log, and opens the
    /// log for appending.
    fn read(args: &BatchArgs) -> Result<Plan> {
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
        Ok(Plan { runs, done, log, log_path })
    }
}

/// The batch across the ranks of an MPI job: rank 0 reads the manifest and
/// the log, hands the lines not done to ranks as they free up (doing some
/// itself), and writes the log; each rank does one run at a time.
#[cfg(feature = "mpi")]
fn batch_over_ranks(args: &BatchArgs, verbose: u8, cancel: &CancelFlag) -> Result<()> {
    use std::cell::RefCell;
    if args.jobs > 1 {
        bail!("under mpirun each rank does one run at a time: start more ranks instead of giving --jobs");
    }
    let plan: RefCell<Option<Plan>> = RefCell::new(None);
    let outcomes: RefCell<Vec<Outcome>> = RefCell::new(Vec::new());
    // Jobs: the index of a run not done, then its line.
    let jobs = Box::new(|| -> pst::Result<Vec<Vec<u8>>> {
        let read = Plan::read(args).map_err(|e| pst::Error::InvalidArgument(format!("{e:#}")))?;
        let mut jobs = Vec::new();
        let mut outcomes = outcomes.borrow_mut();
        outcomes.resize(read.runs.len(), Outcome::Failed);
        for (k, run) in read.runs.iter().enumerate() {
            // A fingerprint that fails is the worker's to report.
            if fingerprint(run).is_ok_and(|f| done_before(run, &f, args, &read.done)) {
                outcomes[k] = Outcome::Skipped;
            } else {
                let mut job = (k as u64).to_le_bytes().to_vec();
                job.extend_from_slice(&(run.line_number as u64).to_le_bytes());
                job.extend_from_slice(run.text.as_bytes());
                jobs.push(job);
            }
        }
        *plan.borrow_mut() = Some(read);
        Ok(jobs)
    });
    // A job's result: its run's index, then `+` and the log entry or `-`
    // and why it failed.
    let work = |job: &[u8], threads: usize| -> Vec<u8> {
        let (index, result) = run_job(job, threads, verbose, cancel);
        let (tag, text) = match result {
            Ok(entry) => (b'+', entry),
            Err(e) => (b'-', format!("{e:#}")),
        };
        let mut bytes = (index as u64).to_le_bytes().to_vec();
        bytes.push(tag);
        bytes.extend_from_slice(text.as_bytes());
        bytes
    };
    let mut finished_job = |done: pst::mpi::JobDone| {
        let plan = plan.borrow();
        let Some(plan) = plan.as_ref() else { return };
        let mut outcomes = outcomes.borrow_mut();
        let Some((index, tag, text)) = split_job_result(&done.result).filter(|(k, ..)| *k < plan.runs.len()) else {
            eprintln!("stormtracker: rank {} returned a damaged result", done.rank);
            return;
        };
        let run = &plan.runs[index];
        outcomes[index] = match tag {
            b'+' => log_run(&plan.log, run, &text),
            _ => {
                eprintln!("stormtracker: line {} (rank {}): error: {text}", run.line_number, done.rank);
                Outcome::Failed
            }
        };
    };
    let console = crate::Console::new(verbose, false, cancel.clone());
    let cancelled = || cancel.is_set();
    let rank = pst::mpi::share_jobs(jobs, &work, &mut finished_job, &cancelled, &console)?;
    if rank != 0 {
        return Ok(());
    }
    let plan = plan.into_inner().context("the batch's plan was not read")?;
    summarise(args, &plan.log_path, &outcomes.into_inner())
}

/// Without MPI a batch under `mpirun` would run whole on every rank.
#[cfg(not(feature = "mpi"))]
fn batch_over_ranks(_: &BatchArgs, _: u8, _: &CancelFlag) -> Result<()> {
    bail!(
        "started by an MPI launcher, but this stormtracker was built without MPI: rebuild with `--features mpi` \
         to share a batch's runs among the ranks"
    )
}

/// Does one job of a batch over ranks (`run index`, `line number`, line):
/// the run's index and its log entry.
#[cfg(feature = "mpi")]
fn run_job(job: &[u8], threads: usize, verbose: u8, cancel: &CancelFlag) -> (usize, Result<String>) {
    let word = |k: usize| job.get(8 * k..8 * k + 8).and_then(|w| w.try_into().ok()).map(u64::from_le_bytes);
    let (Some(index), Some(line_number)) = (word(0), word(1)) else {
        return (usize::MAX, Err(anyhow::anyhow!("a damaged job")));
    };
    let index = usize::try_from(index).unwrap_or(usize::MAX);
    let result = (|| {
        let text = std::str::from_utf8(&job[16..]).context("a job that is not text")?;
        let line_number = usize::try_from(line_number).unwrap_or(0);
        let run =
            Run { line_number, text: text.to_string(), args: parse_line(text, || format!("line {line_number}"))? };
        let fingerprint = fingerprint(&run)?;
        execute(&run, &fingerprint, threads, verbose, cancel)
    })();
    (index, result)
}

/// A job result's run index, tag and text.
#[cfg(feature = "mpi")]
fn split_job_result(result: &[u8]) -> Option<(usize, u8, String)> {
    let index = usize::try_from(u64::from_le_bytes(result.get(..8)?.try_into().ok()?)).ok()?;
    Some((index, *result.get(8)?, String::from_utf8_lossy(&result[9..]).into_owned()))
}

/// Runs one manifest line unless the log says it is done with the same
/// inputs; logs it when it succeeds.
fn run_one(
    run: &Run,
    args: &BatchArgs,
    done: &[Logged],
    log: &Mutex<std::fs::File>,
    threads_per_run: usize,
    verbose: u8,
    cancel: &CancelFlag,
) -> Outcome {
    let fingerprint = match fingerprint(run) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("stormtracker: line {}: error: {e:#}", run.line_number);
            return Outcome::Failed;
        }
    };
    if done_before(run, &fingerprint, args, done) {
        return Outcome::Skipped;
    }
    match execute(run, &fingerprint, threads_per_run, verbose, cancel) {
        Ok(entry) => log_run(log, run, &entry),
        Err(e) => {
            eprintln!("stormtracker: line {}: error: {e:#}", run.line_number);
            Outcome::Failed
        }
    }
}

/// Whether `run` is to be skipped: the log says it finished with these
/// inputs (`fingerprint`) and `--force` is not given. Says so when it is.
fn done_before(run: &Run, fingerprint: &str, args: &BatchArgs, done: &[Logged]) -> bool {
    let outputs = (!args.force).then(|| finished(run, fingerprint, done)).flatten();
    if let Some(outputs) = &outputs {
        eprintln!("stormtracker: line {}: done before ({outputs}), skipped", run.line_number);
    }
    outputs.is_some()
}

/// Runs one manifest line (in this process, `threads` threads unless the
/// line sets -w); its log entry.
fn execute(run: &Run, fingerprint: &str, threads: usize, verbose: u8, cancel: &CancelFlag) -> Result<String> {
    let mut track_args = run.args.clone();
    track_args.no_progress = true;
    // A batch's runs are this process's, even under an MPI launcher.
    track_args.backend = Some(Backend::Serial);
    if track_args.workers.is_none() {
        track_args.workers = Some(threads as u64);
    }
    let outputs = track(&track_args, verbose, cancel)?;
    Ok(log_entry(run, fingerprint, &outputs))
}

/// Appends a finished run's log entry.
fn log_run(log: &Mutex<std::fs::File>, run: &Run, entry: &str) -> Outcome {
    let logged = log.lock().map_err(|_| anyhow::anyhow!("the run log's lock is poisoned")).and_then(|mut file| {
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
        runs.push(Run { line_number: k + 1, text: line.to_string(), args: parse_line(line, where_)? });
    }
    if runs.is_empty() {
        bail!("{}: the manifest lists no run", manifest.display());
    }
    Ok(runs)
}

/// A manifest line as `track` arguments; `where_` names it in errors.
fn parse_line(line: &str, where_: impl Fn() -> String) -> Result<Box<TrackArgs>> {
    let Some(words) = shlex::split(line) else {
        bail!("{}: unbalanced quotes", where_());
    };
    let cli = Cli::try_parse_from(["stormtracker", "track"].into_iter().map(String::from).chain(words))
        .with_context(|| format!("{}: not a valid `stormtracker track` run", where_()))?;
    let Command::Track(args) = cli.command else { bail!("{}: not a track run", where_()) };
    if args.backend == Some(Backend::Mpi) {
        bail!(
            "{}: a batch runs each line in one process; start the batch itself with mpirun to share lines among ranks",
            where_()
        );
    }
    Ok(args)
}

/// What produced a run's outputs: its manifest line and, for each input
/// file it reads, the path, size and modification time (for a Zarr store,
/// its folder's), hashed (64-bit FNV-1a, stable across builds). A changed
/// line or a replaced, grown or touched input changes it.
fn fingerprint(run: &Run) -> Result<String> {
    let pipeline = crate::pipeline(&run.args)?;
    let inputs = pipeline.input_files(&pst::NoProgress)?;
    let mut hash = Fnv::default();
    hash.write(run.text.as_bytes());
    for path in &inputs {
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        let modified =
            meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        hash.write(b"\0");
        hash.write(path.as_os_str().as_encoded_bytes());
        hash.write(&meta.len().to_le_bytes());
        hash.write(&modified.to_le_bytes());
    }
    Ok(format!("fnv1a64:{:016x}", hash.0))
}

/// 64-bit FNV-1a: a hash whose value never changes between builds.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A finished run in the log: its manifest line, its fingerprint, its
/// outputs.
struct Logged {
    line: String,
    fingerprint: String,
    outputs: Vec<PathBuf>,
}

/// Log lines: `done<TAB>fingerprint<TAB>outputs separated by TAB<TAB>manifest
/// line`, the manifest line last and whole.
fn log_entry(run: &Run, fingerprint: &str, outputs: &[PathBuf]) -> String {
    let outputs: Vec<String> = outputs.iter().map(|p| p.display().to_string()).collect();
    format!("done\t{fingerprint}\t{}\t{}", outputs.join("\t"), run.text)
}

/// What the log says finished. Lines of older logs (without a fingerprint)
/// are ignored, so their runs are done again.
fn read_log(path: &Path) -> Result<Vec<Logged>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read the run log {}", path.display())),
    };
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 4 || fields[0] != "done" || !fields[1].starts_with("fnv1a64:") {
                return None;
            }
            let line = fields.pop()?.to_string();
            Some(Logged {
                line,
                fingerprint: fields[1].to_string(),
                outputs: fields[2..].iter().map(PathBuf::from).collect(),
            })
        })
        .collect())
}

/// A run counts as finished when the log has its exact line with the same
/// fingerprint (the same inputs, unchanged) and all its outputs still
/// exist (outputs are written atomically, so an existing one is complete).
/// An output that exists without a log entry proves nothing: the run is
/// done again.
fn finished(run: &Run, fingerprint: &str, done: &[Logged]) -> Option<String> {
    let logged = done.iter().rev().find(|l| l.line == run.text)?;
    (logged.fingerprint == fingerprint && !logged.outputs.is_empty() && logged.outputs.iter().all(|p| p.exists()))
        .then(|| format!("{} output{}", logged.outputs.len(), if logged.outputs.len() == 1 { "" } else { "s" }))
}
