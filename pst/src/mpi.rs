//! A pipeline across the ranks of an MPI job (feature `mpi`).
//!
//! Ranks detect contiguous slabs of the time axis with their own threads;
//! rank 0 gathers the centres and links them once, so the output is the
//! serial run's, byte for byte, for any number of ranks and threads and for
//! every detect-then-link tracker (Simple and Hodges).

use std::ops::Range;
use std::path::Path;

use mpi::datatype::PartitionMut;
use mpi::traits::{Communicator, Root};
use pst_core::{
    Calendar, Detector, Error, FieldSource, FilteredSink, FrameCenters, Linker, NoProgress, Progress, Result, TrackSink,
};
use pst_io::{TrackFileSink, TrackFormat};
use pst_track::DetectLinkTracker;

use crate::pipeline::{
    Event, Pipeline, Reporter, RunReport, TrackerChoice, Warning, member_path, refuse_overwriting_an_input,
};
use crate::sinks::{Counted, Stamped};

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

/// An engine split in two: detection on the ranks, linking on rank 0.
trait Engine {
    fn detect(
        &self,
        source: &dyn FieldSource,
        range: Range<usize>,
        progress: &dyn Progress,
    ) -> Result<Vec<FrameCenters>>;
    fn link(&self, source: &dyn FieldSource, frames: &[FrameCenters], sink: &mut dyn TrackSink) -> Result<()>;
    fn columns(&self) -> Vec<(String, Option<String>)>;
}

impl<D: Detector, L: Linker> Engine for DetectLinkTracker<D, L> {
    fn detect(
        &self,
        source: &dyn FieldSource,
        range: Range<usize>,
        progress: &dyn Progress,
    ) -> Result<Vec<FrameCenters>> {
        self.detect_range(source, range, progress)
    }

    fn link(&self, source: &dyn FieldSource, frames: &[FrameCenters], sink: &mut dyn TrackSink) -> Result<()> {
        self.link_detected(source, frames, sink)
    }

    fn columns(&self) -> Vec<(String, Option<String>)> {
        self.detector().columns()
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
    let paths = pipeline.input_files(local_reporter)?;
    let members = pipeline.members_of(&paths)?;
    let [member] = members[..] else {
        return Err(Error::InvalidArgument(
            "an MPI run tracks one series; choose one ensemble member (or run a batch)".into(),
        ));
    };
    refuse_overwriting_an_input(&member_path(output, member)?, &paths)?;
    let (source, regrid_lmax) = pipeline.open_prepared(&paths, member, local_reporter)?;
    let info = source.info();
    let engine: Box<dyn Engine> = match pipeline.tracker() {
        TrackerChoice::Simple(t) => Box::new(t.for_source(info)?),
        TrackerChoice::Hodges(t) => Box::new(t.for_source(info)?),
        TrackerChoice::Healpix(t) => Box::new(t.for_source(info)?),
        TrackerChoice::Custom(_) => {
            return Err(Error::Unsupported("an MPI run needs the Simple, Hodges or HEALPix tracker".into()));
        }
    };
    let frames = source.len();
    let slab = rank * frames / size..(rank + 1) * frames / size;
    reporter.event(&Event::Note(&format!(
        "rank {rank} of {size} ({ranks_on_node} on this node, {threads} threads): frames {}..{}",
        slab.start, slab.end
    )));
    if rank == 0 {
        reporter.event(&Event::Opened { source: info, member, frames });
        reporter.stage("detecting", Some(slab.len() as u64));
    }
    let local = encode(&engine.detect(source.as_ref(), slab, local_reporter)?, info.calendar)?;

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
    let centres = decode(&gathered, info.calendar, &engine.columns())?;
    let path = member_path(output, member)?;
    let format = match format {
        Some(f) => f,
        None => TrackFormat::from_path(&path)?,
    };
    let mut file = TrackFileSink::create(&path, Some(format))?;
    let mut counted = Counted::new(&mut file);
    let mut filtered = FilteredSink::new(pipeline.track_filter().clone(), &mut counted);
    let signed = pipeline.true_sign(&mut filtered, &info.variable);
    let mut sink = Stamped::new(signed, pipeline.provenance(&paths, member, regrid_lmax, &info.grid));
    engine.link(source.as_ref(), &centres, &mut sink)?;
    drop(sink);
    let dropped = filtered.dropped();
    let mut report = counted.counts().report(member, frames);
    report.dropped = dropped;
    report.output = Some((path, format));
    reporter.event(&Event::Finished(&report));
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

/// Bytes per centre: lat, lon, value (f64) and the grid point (2 × u64),
/// then 8 per extra column.
const CENTRE_BYTES: usize = 40;

/// Bytes per frame header: index, time (ms in the source's calendar) and
/// count, as u64/i64.
const FRAME_BYTES: usize = 24;

/// Frames of centres as bytes: per frame its header, then the centres.
fn encode(frames: &[FrameCenters], calendar: Calendar) -> Result<Vec<u8>> {
    let mut out =
        Vec::with_capacity(frames.iter().map(|f| FRAME_BYTES + f.len() * (CENTRE_BYTES + 8 * f.columns().len())).sum());
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
            for column in f.columns() {
                out.extend_from_slice(&column.values[k].to_le_bytes());
            }
        }
    }
    Ok(out)
}

/// The frames of [`encode`]d bytes, with the detector's extra `columns`;
/// counts are checked against the bytes left before anything is allocated.
fn decode(bytes: &[u8], calendar: Calendar, columns: &[(String, Option<String>)]) -> Result<Vec<FrameCenters>> {
    let centre_bytes = CENTRE_BYTES + 8 * columns.len();
    let mut extra = vec![0.0; columns.len()];
    let truncated = || Error::Format("the gathered centres are truncated".into());
    let mut words = bytes.chunks_exact(8).map(|c| {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        b
    });
    let mut next = || words.next().ok_or_else(truncated);
    let mut frames = Vec::new();
    let mut consumed = 0usize;
    while consumed < bytes.len() {
        let index = u64::from_le_bytes(next()?) as usize;
        let time = calendar.from_millis(i64::from_le_bytes(next()?));
        let count = u64::from_le_bytes(next()?) as usize;
        let size = count.checked_mul(centre_bytes).and_then(|n| n.checked_add(FRAME_BYTES)).ok_or_else(truncated)?;
        if size > bytes.len() - consumed {
            return Err(truncated());
        }
        let mut f = FrameCenters::with_columns(index, time, columns);
        for _ in 0..count {
            let (lat, lon, value) =
                (f64::from_le_bytes(next()?), f64::from_le_bytes(next()?), f64::from_le_bytes(next()?));
            let (i, j) = (u64::from_le_bytes(next()?) as usize, u64::from_le_bytes(next()?) as usize);
            for slot in &mut extra {
                *slot = f64::from_le_bytes(next()?);
            }
            f.push_with(lat, lon, value, (i, j), &extra);
        }
        consumed += size;
        frames.push(f);
    }
    Ok(frames)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn centres_survive_the_wire() {
        let columns = [("raw_value".to_string(), None), ("area".to_string(), Some("km2".to_string()))];
        let frames: Vec<FrameCenters> = (0..3)
            .map(|k| {
                let mut f =
                    FrameCenters::with_columns(k, Calendar::Standard.from_millis(k as i64 * 21_600_000), &columns);
                for i in 0..k {
                    f.push_with(10.0 * i as f64, 20.0, 98_000.0 + i as f64, (i, 2 * i), &[97_000.0, i as f64]);
                }
                f
            })
            .collect();
        let bytes = encode(&frames, Calendar::Standard).unwrap();
        assert_eq!(decode(&bytes, Calendar::Standard, &columns).unwrap(), frames);
        assert!(decode(&bytes[..bytes.len() - 3], Calendar::Standard, &columns).is_err());
    }
}
