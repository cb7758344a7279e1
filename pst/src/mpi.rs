//! A pipeline across the ranks of an MPI job (feature `mpi`).
//!
//! Ranks detect contiguous slabs of the time axis with their own threads.
//! When the linker splits into independent parts (the Hodges linker's MGE
//! segments, for Hodges and HEALPix), each rank takes consecutive parts,
//! detects their frames and links them too; rank 0 gathers the centres and
//! the linked parts and splices them. Otherwise (Simple, or a run of one
//! segment) rank 0 links the gathered centres. Either way the output is
//! the serial run's, byte for byte, for any number of ranks and threads.

use std::path::Path;

use mpi::datatype::PartitionMut;
use mpi::point_to_point::MatchedReceiveVec;
use mpi::traits::{Communicator, Destination, Root, Source};
use pst_core::{Error, NoProgress, Result};
use pst_io::{TrackFileSink, TrackFormat};

use crate::DetectedSlab;
use crate::pipeline::{Event, Pipeline, Reporter, RunReport, Warning, member_path, refuse_overwriting_an_input};

/// Runs `pipeline` as this rank's part of an MPI job started with `mpirun`,
/// writing `output` on rank 0 (which returns its report; the other ranks
/// return none). The pipeline must track one series (one member).
///
/// Threads per rank: the pipeline's, else `RAYON_NUM_THREADS`, else the
/// cores this process may use (affinity and cgroup aware: what `mpirun`
/// bound it to), shared among the node's ranks when they are not bound
/// apart; rank 0 warns when ranks × threads (or a maths library's threads)
/// would oversubscribe the node. A rank that fails tells `reporter`
/// ([`Event::Aborting`]) and aborts the whole job (`MPI_Abort`, status 2),
/// so the others never wait for it.
pub fn run_to_file(
    pipeline: &Pipeline,
    output: &Path,
    format: Option<TrackFormat>,
    reporter: &dyn Reporter,
) -> Result<Vec<RunReport>> {
    let Some(universe) = mpi::initialize() else {
        return Err(Error::Unsupported("MPI was initialised twice".into()));
    };
    let world = universe.world();
    match run_rank(pipeline, output, format, reporter, &world) {
        Ok(reports) => Ok(reports),
        Err(error) => {
            reporter.event(&Event::Aborting {
                rank: world.rank() as usize,
                ranks: world.size() as usize,
                error: &error,
            });
            world.abort(2)
        }
    }
}

fn run_rank(
    pipeline: &Pipeline,
    output: &Path,
    format: Option<TrackFormat>,
    reporter: &dyn Reporter,
    world: &mpi::topology::SimpleCommunicator,
) -> Result<Vec<RunReport>> {
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    let ranks_on_node = world.split_shared(world.rank()).size() as usize;
    let (threads, warnings) = threads_per_rank(pipeline.threads(), ranks_on_node);
    let quiet = NoProgress;
    let local_reporter: &dyn Reporter = if rank == 0 { reporter } else { &quiet };
    for warning in &warnings {
        local_reporter.event(&Event::Warning(&Warning::Threads(warning.clone())));
    }
    let pipeline = pipeline.with_threads(threads);
    let (paths, member) = pipeline.one_series(&NoProgress)?;
    refuse_overwriting_an_input(&member_path(output, member)?, &paths)?;
    let parts = pipeline.link_parts(local_reporter)?;
    let started = std::time::Instant::now();
    let local = if parts.is_empty() {
        let frames = pipeline.frame_count(local_reporter)?;
        let slab = rank * frames / size..(rank + 1) * frames / size;
        reporter.event(&Event::Note(&format!(
            "rank {rank} of {size} ({ranks_on_node} on this node, {threads} threads): frames {}..{}",
            slab.start, slab.end
        )));
        pipeline.detect_slab(slab, 0, local_reporter)?
    } else {
        let mine = rank * parts.len() / size..(rank + 1) * parts.len() / size;
        if mine.is_empty() {
            reporter.event(&Event::Note(&format!(
                "rank {rank} of {size}: idle, the link has {} parts for {size} ranks",
                parts.len()
            )));
            DetectedSlab::from_bytes(Vec::new())
        } else {
            reporter.event(&Event::Note(&format!(
                "rank {rank} of {size} ({ranks_on_node} on this node, {threads} threads): link parts {}..{} \
                 (frames {}..{})",
                mine.start,
                mine.end,
                parts[mine.start].start,
                parts[mine.end - 1].end
            )));
            pipeline.detect_and_link_parts(mine, local_reporter)?
        }
    }
    .into_bytes();
    reporter.event(&Event::Note(&format!(
        "rank {rank}: {} in {:.2} s, {} bytes to send",
        if parts.is_empty() { "detected" } else { "detected and linked" },
        started.elapsed().as_secs_f64(),
        local.len()
    )));

    let root = world.process_at_rank(0);
    let count =
        i32::try_from(local.len()).map_err(|_| Error::Unsupported("more than 2 GiB of centres on one rank".into()))?;
    if rank != 0 {
        root.gather_into(&count);
        root.gather_varcount_into(&local[..]);
        return Ok(Vec::new());
    }
    let mut counts = vec![0i32; size];
    root.gather_into_root(&count, &mut counts[..]);
    let displacements: Vec<i32> = counts
        .iter()
        .scan(0i32, |offset, &c| {
            let d = *offset;
            *offset += c;
            Some(d)
        })
        .collect();
    let total: usize = counts.iter().map(|&c| c as usize).sum();
    let mut gathered = vec![0u8; total];
    {
        let mut partition = PartitionMut::new(&mut gathered[..], &counts[..], &displacements[..]);
        root.gather_varcount_into_root(&local[..], &mut partition);
    }
    let path = member_path(output, member)?;
    let format = match format {
        Some(f) => f,
        None => TrackFormat::from_path(&path)?,
    };
    let mut file = TrackFileSink::create(&path, Some(format))?;
    // One slab per rank, as each encoded its own.
    let slabs: Vec<DetectedSlab> = displacements
        .iter()
        .zip(&counts)
        .map(|(&d, &c)| DetectedSlab::from_bytes(gathered[d as usize..(d + c) as usize].to_vec()))
        .collect();
    drop(gathered);
    let gathered_at = std::time::Instant::now();
    reporter.event(&Event::Note(&format!(
        "rank 0: gathered {total} bytes from {size} ranks after {:.2} s",
        (gathered_at - started).as_secs_f64()
    )));
    let mut report = pipeline.link_slabs(&slabs, &mut file, reporter)?;
    reporter.event(&Event::Note(&format!(
        "rank 0: linked or spliced, and written, in {:.2} s",
        gathered_at.elapsed().as_secs_f64()
    )));
    report.output = Some((path, format));
    pipeline.report_finished(&report, reporter);
    Ok(vec![report])
}

/// Who did a job of [`share_jobs`] and what came of it, as rank 0 hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDone {
    /// The job's index in the list rank 0 was given.
    pub job: usize,
    /// The rank that did it.
    pub rank: usize,
    /// What the job returned.
    pub result: Vec<u8>,
}

/// Runs independent jobs across the ranks of an MPI job started with
/// `mpirun` (`stormtracker batch` hands out its manifest's lines this way):
/// rank 0 lists the jobs (`jobs` is called there only) and hands them out
/// one at a time, in order, to whichever rank is free, does jobs itself on
/// a second thread meanwhile, and hears each result in `finished` as it
/// comes (so rank 0 alone writes a log). `work(job, threads)` does one job
/// on whichever rank got it, with `threads` threads (as
/// [`run_to_file`] chooses them). Once `cancelled` says so, rank 0 hands
/// out no more jobs; those under way finish. Returns this rank's number.
///
/// Jobs fail by what they return; a rank that dies takes the job with it
/// (`mpirun` ends the others).
///
/// # Errors
/// When MPI was initialised already, or `jobs` fails (the other ranks are
/// sent home first).
pub fn share_jobs(
    jobs: Box<dyn FnOnce() -> Result<Vec<Vec<u8>>> + '_>,
    work: &(dyn Fn(&[u8], usize) -> Vec<u8> + Sync),
    finished: &mut dyn FnMut(JobDone),
    cancelled: &(dyn Fn() -> bool + Sync),
    reporter: &dyn Reporter,
) -> Result<usize> {
    // Only the main thread calls MPI; rank 0's own jobs run on another.
    let Some((universe, _)) = mpi::initialize_with_threading(mpi::Threading::Funneled) else {
        return Err(Error::Unsupported("MPI was initialised twice".into()));
    };
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    let ranks_on_node = world.split_shared(world.rank()).size() as usize;
    let (threads, warnings) = threads_per_rank(None, ranks_on_node);
    if rank == 0 {
        for warning in &warnings {
            reporter.event(&Event::Warning(&Warning::Threads(warning.clone())));
        }
    }
    let root = world.process_at_rank(0);
    if rank != 0 {
        // Ready; then a job (1, its bytes) or the end (0) each time.
        root.send(&[] as &[u8]);
        loop {
            let (message, _) = root.receive_vec::<u8>();
            let Some((&1, job)) = message.split_first() else { break };
            root.send(&work(job, threads)[..]);
        }
        return Ok(rank);
    }
    let jobs = match jobs() {
        Ok(jobs) => jobs,
        Err(error) => {
            for _ in 1..size {
                let (_, status) = world.any_process().receive_vec::<u8>();
                world.process_at_rank(status.source_rank()).send(&[0u8][..]);
            }
            return Err(error);
        }
    };
    let jobs = &jobs[..];
    let next = std::sync::atomic::AtomicUsize::new(0);
    let take = || {
        if cancelled() {
            return None;
        }
        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (k < jobs.len()).then_some(k)
    };
    let mut given: Vec<Option<usize>> = vec![None; size];
    let mut stopped = 1; // rank 0 needs no stop message
    std::thread::scope(|scope| {
        let (sender, results) = std::sync::mpsc::channel();
        let take = &take;
        scope.spawn(move || {
            while let Some(k) = take() {
                if sender.send((k, work(&jobs[k], threads))).is_err() {
                    break;
                }
            }
        });
        let mut local_done = false;
        while !(local_done && stopped == size) {
            let mut idle = true;
            loop {
                match results.try_recv() {
                    Ok((job, result)) => {
                        finished(JobDone { job, rank: 0, result });
                        idle = false;
                    }
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        local_done = true;
                        break;
                    }
                }
            }
            if let Some(probed) = world.any_process().immediate_matched_probe() {
                let (result, status) = probed.matched_receive_vec::<u8>();
                let from = status.source_rank() as usize;
                if let Some(job) = given[from].take() {
                    finished(JobDone { job, rank: from, result });
                }
                let process = world.process_at_rank(from as i32);
                match take() {
                    Some(k) => {
                        given[from] = Some(k);
                        let mut message = Vec::with_capacity(1 + jobs[k].len());
                        message.push(1u8);
                        message.extend_from_slice(&jobs[k]);
                        process.send(&message[..]);
                    }
                    None => {
                        process.send(&[0u8][..]);
                        stopped += 1;
                    }
                }
                idle = false;
            }
            if idle {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
    });
    Ok(0)
}

/// Threads for this rank — `threads`, else `RAYON_NUM_THREADS`, else the
/// cores this process may use, shared among the node's ranks when they are
/// not bound apart — and the warnings of oversubscription.
fn threads_per_rank(threads: Option<usize>, ranks_on_node: usize) -> (usize, Vec<String>) {
    let usable = std::thread::available_parallelism().map_or(1, |n| n.get());
    let node_cores = online_cores().unwrap_or(usable).max(usable);
    let from_env = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0);
    let unbound = usable == node_cores;
    let default = if unbound { (usable / ranks_on_node.max(1)).max(1) } else { usable };
    let threads = threads.or(from_env).unwrap_or(default);
    let mut warnings = Vec::new();
    if ranks_on_node * threads > node_cores {
        warnings.push(format!("{ranks_on_node} ranks × {threads} threads on this node exceed its {node_cores} cores"));
    }
    for var in ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"] {
        if let Some(n) = std::env::var(var).ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 1)
            && ranks_on_node * threads * n > node_cores
        {
            warnings.push(format!(
                "{var}={n} with {ranks_on_node} ranks × {threads} threads would oversubscribe {node_cores} cores; \
                 set {var}=1"
            ));
        }
    }
    (threads, warnings)
}

/// The node's online cores (Linux: `/sys/devices/system/cpu/online`, e.g.
/// `0-3,8-11`).
fn online_cores() -> Option<usize> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").ok()?;
    text.trim()
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => Some(b.parse::<usize>().ok()? - a.parse::<usize>().ok()? + 1),
            None => part.parse::<usize>().ok().map(|_| 1),
        })
        .sum()
}
