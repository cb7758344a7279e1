//! `stormtracker track --backend mpi`: ranks detect contiguous slabs of the
//! time axis with their own threads, rank 0 gathers the centres and links
//! them once, so the output is the serial run's, byte for byte, for any
//! number of ranks and threads.

use std::path::PathBuf;

use anyhow::{Result, bail};
use mpi::datatype::PartitionMut;
use mpi::traits::{Communicator, Root};
use pst_core::{Calendar, FieldSource, FrameCenters};
use pst_io::{OpenOptions, TrackFormat, write_tracks};

use super::{TrackArgs, member_path, members_to_track, open_preprocessed, simple_tracker, track_inputs};

/// Runs this rank's part of an MPI job. A rank that fails aborts the whole
/// job (`MPI_Abort`) with its message, so the others never wait for it.
pub(crate) fn track_mpi(args: &TrackArgs, verbose: u8) -> Result<Vec<PathBuf>> {
    let Some(universe) = mpi::initialize() else { bail!("MPI was initialised twice") };
    let world = universe.world();
    let (rank, size) = (world.rank(), world.size());
    match run_rank(args, &world, verbose) {
        Ok(written) => Ok(written),
        Err(e) => {
            eprintln!("stormtracker: rank {rank} of {size}: error: {e:#}; aborting the MPI job");
            world.abort(2)
        }
    }
}

fn run_rank(args: &TrackArgs, world: &mpi::topology::SimpleCommunicator, verbose: u8) -> Result<Vec<PathBuf>> {
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    let node = world.split_shared(world.rank());
    let ranks_on_node = node.size() as usize;
    let threads = threads_per_rank(args, ranks_on_node, rank == 0);

    let (options, paths) = track_inputs(args, false)?;
    let members = members_to_track(args, &paths, &options)?;
    let [member] = members[..] else {
        bail!("--backend mpi tracks one series; choose one ensemble member with --members (or use `batch`)");
    };
    let options = OpenOptions { member, ..options };
    let source = open_preprocessed(args, &paths, &options)?;
    let tracker = simple_tracker(args)?.threads(threads);
    let frames = args.n_frames.map_or(source.len(), |n| n.min(source.len()));
    let slab = rank * frames / size..(rank + 1) * frames / size;
    if verbose >= 1 {
        eprintln!(
            "stormtracker: rank {rank} of {size} ({ranks_on_node} on this node, {threads} threads): frames {}..{}",
            slab.start, slab.end
        );
    }
    let calendar = source.info().calendar;
    let local = encode(&tracker.detect_range(source.as_ref(), slab)?, calendar)?;

    let root = world.process_at_rank(0);
    let count = i32::try_from(local.len()).map_err(|_| anyhow::anyhow!("more than 2 GiB of centres on one rank"))?;
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
    let centres = decode(&gathered, calendar)?;
    let tracks = tracker.link_detected(source.as_ref(), &centres)?;
    let path = member_path(&args.output, member)?;
    let format = match args.format.format() {
        Some(f) => f,
        None => TrackFormat::from_path(&path)?,
    };
    write_tracks(&path, &tracks, Some(format))?;
    eprintln!(
        "stormtracker: {frames} frames on {size} ranks, {} centres, {} tracks ({} of 2 or more points) -> {} ({format})",
        tracks.num_points(),
        tracks.len(),
        tracks.iter().filter(|t| t.len() >= 2).count(),
        path.display()
    );
    Ok(vec![path])
}

/// Threads for this rank: `-w`, else `RAYON_NUM_THREADS`, else the cores
/// this process may use (affinity and cgroup aware: what mpirun bound it
/// to), shared among the node's ranks when they are not bound apart. Warns
/// (once, from rank 0) when ranks × threads exceed the node's cores or a
/// maths library's own threads would oversubscribe them.
fn threads_per_rank(args: &TrackArgs, ranks_on_node: usize, report: bool) -> usize {
    let usable = std::thread::available_parallelism().map_or(1, |n| n.get());
    let node_cores = online_cores().unwrap_or(usable).max(usable);
    let from_env = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0);
    let unbound = usable == node_cores;
    let default = if unbound { (usable / ranks_on_node.max(1)).max(1) } else { usable };
    let threads = args.workers.or(from_env).unwrap_or(default);
    if report {
        if ranks_on_node * threads > node_cores {
            eprintln!(
                "stormtracker: warning: {ranks_on_node} ranks × {threads} threads on this node exceed its \
                 {node_cores} cores"
            );
        }
        for var in ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"] {
            if let Some(n) = std::env::var(var).ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 1)
                && ranks_on_node * threads * n > node_cores
            {
                eprintln!(
                    "stormtracker: warning: {var}={n} with {ranks_on_node} ranks × {threads} threads would \
                     oversubscribe {node_cores} cores; set {var}=1"
                );
            }
        }
    }
    threads
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

/// Bytes per centre: lat, lon, value (f64) and the grid point (2 × u64).
const CENTRE_BYTES: usize = 40;

/// Frames of centres as bytes: per frame its index, time (ms in the source's
/// calendar) and count, then the centres.
fn encode(frames: &[FrameCenters], calendar: Calendar) -> pst_core::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(frames.iter().map(|f| 24 + f.len() * CENTRE_BYTES).sum());
    for f in frames {
        out.extend_from_slice(&(f.frame_index() as u64).to_le_bytes());
        out.extend_from_slice(&calendar.to_millis(f.time())?.to_le_bytes());
        out.extend_from_slice(&(f.len() as u64).to_le_bytes());
        for k in 0..f.len() {
            out.extend_from_slice(&f.lats()[k].to_le_bytes());
            out.extend_from_slice(&f.lons()[k].to_le_bytes());
            out.extend_from_slice(&f.values()[k].to_le_bytes());
            let (i, j) = f.grid_points()[k];
            out.extend_from_slice(&(i as u64).to_le_bytes());
            out.extend_from_slice(&(j as u64).to_le_bytes());
        }
    }
    Ok(out)
}

fn decode(bytes: &[u8], calendar: Calendar) -> Result<Vec<FrameCenters>> {
    let mut words = bytes.chunks_exact(8).map(|c| {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        b
    });
    let mut next = || words.next().ok_or_else(|| anyhow::anyhow!("gathered centres are truncated"));
    let mut frames = Vec::new();
    let mut consumed = 0;
    while consumed < bytes.len() {
        let index = u64::from_le_bytes(next()?) as usize;
        let time = calendar.from_millis(i64::from_le_bytes(next()?));
        let count = u64::from_le_bytes(next()?) as usize;
        let mut f = FrameCenters::new(index, time);
        for _ in 0..count {
            let (lat, lon, value) =
                (f64::from_le_bytes(next()?), f64::from_le_bytes(next()?), f64::from_le_bytes(next()?));
            let (i, j) = (u64::from_le_bytes(next()?) as usize, u64::from_le_bytes(next()?) as usize);
            f.push(lat, lon, value, (i, j));
        }
        consumed += 24 + count * CENTRE_BYTES;
        frames.push(f);
    }
    Ok(frames)
}
