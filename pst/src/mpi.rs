//! A pipeline across the ranks of an MPI job (feature `mpi`).
//!
//! Ranks detect contiguous slabs of the time axis with their own threads;
//! rank 0 gathers the centres and links them once, so the output is the
//! serial run's, byte for byte, for any number of ranks and threads and for
//! every detect-then-link tracker (Simple and Hodges).

use std::path::Path;

use mpi::datatype::PartitionMut;
use mpi::traits::{Communicator, Root};
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
    let frames = pipeline.frame_count(local_reporter)?;
    let slab = rank * frames / size..(rank + 1) * frames / size;
    reporter.event(&Event::Note(&format!(
        "rank {rank} of {size} ({ranks_on_node} on this node, {threads} threads): frames {}..{}",
        slab.start, slab.end
    )));
    let local = pipeline.detect_slab(slab, 0, local_reporter)?.into_bytes();

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
    let mut report = pipeline.link_slabs(&[DetectedSlab::from_bytes(gathered)], &mut file, reporter)?;
    report.output = Some((path, format));
    pipeline.report_finished(&report, reporter);
    Ok(vec![report])
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
