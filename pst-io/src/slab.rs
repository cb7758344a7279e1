//! Frames read through time slabs.
//!
//! A compressed chunk is decoded whole. When a chunk holds several time steps
//! (24 or 100 frames a chunk in many archives), reading frame by frame would
//! decode it once per frame it holds. A [`SlabCache`] instead reads the
//! frames of a whole row of chunks (a *slab*: the chunks' time steps over the
//! full grid) in one go, so each chunk is decoded once, and keeps the last
//! few slabs for the frames that follow. While the frames of one slab are
//! detected, the next is read on a thread of its own: a slab is one long
//! decompression, and the reading threads would otherwise all wait for it.
//!
//! Both the netCDF-4 and the Zarr reader go through here, and so does every
//! frame they read: a slab of one frame when nothing is cached.
//!
//! Slabs are read on threads of their own, never on the thread asking for
//! a frame, and decoded on a pool of their own ([`decoding_pool`]). The
//! threads asking are usually the tracker's rayon workers, and a decoder
//! may itself use rayon (zarrs decodes chunks in parallel): were a slab
//! decoded on the workers' pool while every worker waited for it, nobody
//! would decode it; were it read on a worker, that worker could, while
//! waiting for the decoding, take up another frame of the same slab and
//! wait for itself.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use ndarray::{ArrayD, IxDyn};
use pst_core::{Error, Frame, FramePool, FrameRows, Result, SourceInfo};

use crate::cf::{Layout, Packing};

/// Frames a reading thread works on at once (`pst-track` detects a few
/// frames per thread between hand-overs): the slabs those frames span stay
/// cached.
const FRAMES_IN_FLIGHT_PER_THREAD: usize = 4;

/// Stored values of consecutive frames, `[frame][latitude][longitude]`, in a
/// type that holds them exactly: `f32` for 32-bit floats and the integer
/// types of 16 bits or fewer (ERA5's packed `short`), `f64` otherwise.
pub(crate) enum Stored {
    /// Values exact in `f32`.
    F32(Vec<f32>),
    /// Everything else.
    F64(Vec<f64>),
    /// `f32` values as a decoder wrote them, in native byte order: widened
    /// as frames are taken, with no typed copy of the slab in between.
    /// (Only the Zarr reader's decoder gives its bytes.)
    #[cfg_attr(not(feature = "zarr"), allow(dead_code))]
    F32Bytes(Vec<u8>),
    /// `f64` values as a decoder wrote them, in native byte order.
    #[cfg_attr(not(feature = "zarr"), allow(dead_code))]
    F64Bytes(Vec<u8>),
    /// A netCDF-4 variable stored as one chunk of little-endian `f32` (on a
    /// little-endian machine), read in place as `hdf5-reader` decoded it.
    /// Copying it into an array of the variable's shape cost a seventh of
    /// the reading of the DJF files' 15 MB variables, and its 3,600 fresh
    /// pages a quarter of a Simple run's system time.
    #[cfg(feature = "netcdf")]
    F32Chunk(hdf5_reader::DatasetChunk),
}

impl Stored {
    /// Bytes held.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        match self {
            Stored::F32(v) => v.len() * 4,
            Stored::F64(v) => v.len() * 8,
            Stored::F32Bytes(v) | Stored::F64Bytes(v) => v.len(),
            #[cfg(feature = "netcdf")]
            Stored::F32Chunk(chunk) => chunk.bytes().len(),
        }
    }

    /// Frame `k` of the slab (`points` values a frame, in one row), in a
    /// new vector.
    #[cfg(test)]
    fn frame(&self, k: usize, points: usize, packing: &Packing) -> Vec<f64> {
        let lons = (0..points).map(|j| j as f64).collect();
        let grid = Arc::new(pst_core::Grid::new(vec![0.0], lons).expect("a row of points"));
        let time = pst_core::Timestamp::from_ymdh(2025, 12, 1, 0).expect("a date");
        let mut rows = FrameRows::new(grid, time);
        self.frame_rows_into(k, (1, points), packing, &mut rows).expect("one row");
        rows.finish().expect("every row").into_values().into_raw_vec_and_offset().0
    }

    /// Frame `k` of the slab (`nlat` rows of `nlon` values a frame)
    /// unpacked to physical values into `rows` a row at a time: each row is
    /// summarised as it is written, in cache, instead of in a pass over the
    /// whole frame later.
    pub(crate) fn frame_rows_into(
        &self,
        k: usize,
        (nlat, nlon): (usize, usize),
        packing: &Packing,
        rows: &mut FrameRows,
    ) -> Result<()> {
        let range = k * nlat * nlon..(k + 1) * nlat * nlon;
        let f32_rows = |bytes: &[u8], rows: &mut FrameRows| {
            bytes[4 * range.start..4 * range.end]
                .chunks_exact(4 * nlon)
                .try_for_each(|row| push_unpacked(rows, widened_f32(row), packing))
        };
        match self {
            Stored::F32(v) => v[range.clone()]
                .chunks_exact(nlon)
                .try_for_each(|row| push_unpacked(rows, row.iter().map(|&v| f64::from(v)), packing)),
            Stored::F64(v) => v[range.clone()]
                .chunks_exact(nlon)
                .try_for_each(|row| push_unpacked(rows, row.iter().copied(), packing)),
            Stored::F32Bytes(v) => f32_rows(v, rows),
            #[cfg(feature = "netcdf")]
            Stored::F32Chunk(chunk) => f32_rows(chunk.bytes(), rows),
            Stored::F64Bytes(v) => v[8 * range.start..8 * range.end]
                .chunks_exact(8 * nlon)
                .try_for_each(|row| push_unpacked(rows, native_f64(row), packing)),
        }
    }

    /// All values, as `f64`.
    #[cfg_attr(not(feature = "zarr"), allow(dead_code))]
    pub(crate) fn into_f64(self) -> Vec<f64> {
        match self {
            Stored::F64(v) => v,
            Stored::F32(v) => v.into_iter().map(f64::from).collect(),
            Stored::F32Bytes(v) => widened_f32(&v).collect(),
            Stored::F64Bytes(v) => native_f64(&v).collect(),
            #[cfg(feature = "netcdf")]
            Stored::F32Chunk(chunk) => widened_f32(chunk.bytes()).collect(),
        }
    }
}

/// The `f32` values of native-endian `bytes` (whole values; callers slice
/// by values), widened. By arrays of four bytes, whose size the compiler
/// sees, so that the loop is vectorised wherever it is inlined.
fn widened_f32(bytes: &[u8]) -> impl ExactSizeIterator<Item = f64> + '_ {
    bytes.as_chunks::<4>().0.iter().map(|&b| f64::from(f32::from_ne_bytes(b)))
}

/// The `f64` values of native-endian `bytes` (whole values).
fn native_f64(bytes: &[u8]) -> impl ExactSizeIterator<Item = f64> + '_ {
    bytes.as_chunks::<8>().0.iter().map(|&b| f64::from_ne_bytes(b))
}

/// The next row of `rows`, `stored` unpacked by `packing` (with no test a
/// value when it is plain).
fn push_unpacked(rows: &mut FrameRows, stored: impl ExactSizeIterator<Item = f64>, packing: &Packing) -> Result<()> {
    if packing.is_plain() { rows.push_row_from(stored) } else { rows.push_row_from(stored.map(|v| packing.unpack(v))) }
}

/// The values of `array` (a selection of the variable: its time dimension
/// cut to the slab's frames, every other fixed dimension to one index) in
/// `[frame][latitude][longitude]` order, whatever order the file stores its
/// dimensions in. No copy when they are already in that order.
pub(crate) fn frame_major<T: Copy>(array: ArrayD<T>, layout: &Layout) -> Vec<T> {
    let leading = layout.leading_dims();
    let order: Vec<usize> = leading.iter().copied().chain((0..array.ndim()).filter(|d| !leading.contains(d))).collect();
    let permuted = array.permuted_axes(IxDyn(&order));
    if permuted.is_standard_layout() {
        let len = permuted.len();
        let (values, offset) = permuted.into_raw_vec_and_offset();
        if offset.unwrap_or(0) == 0 && values.len() == len {
            return values;
        }
        return values[offset.unwrap_or(0)..][..len].to_vec();
    }
    permuted.iter().copied().collect()
}

/// "frame 7" or "frames 0..24", for errors.
pub(crate) fn frames_text(frames: &Range<usize>) -> String {
    if frames.len() == 1 {
        format!("frame {}", frames.start)
    } else {
        format!("frames {}..{}", frames.start, frames.end)
    }
}

/// Reads a range of frames of a variable, `[frame][latitude][longitude]`.
pub(crate) type ReadFrames = Arc<dyn Fn(Range<usize>) -> Result<Stored> + Send + Sync>;

/// How a reader gets its frames: straight from storage, or through a
/// [`SlabCache`] when its chunks hold several frames.
pub(crate) struct FrameReader {
    read: ReadFrames,
    slabs: Option<SlabCache>,
    /// The buffers of frames handed out and dropped, for the next ones.
    buffers: Arc<FramePool>,
}

impl FrameReader {
    /// Frames of a variable of `frames` time steps read by `read`, through
    /// a [`SlabCache`] (see [`SlabCache::new`]) when its chunks hold
    /// `frames_per_chunk` frames, `frame_bytes` a frame as stored.
    pub(crate) fn new(
        read: ReadFrames,
        frames: usize,
        frames_per_chunk: Option<usize>,
        frame_bytes: u64,
        limit_bytes: u64,
    ) -> Self {
        let slabs = frames_per_chunk
            .and_then(|per_chunk| SlabCache::new(frames, per_chunk, frame_bytes, limit_bytes, Arc::clone(&read)));
        // As many buffers as frames the reading threads work on at once.
        let buffers = Arc::new(FramePool::new(FRAMES_IN_FLIGHT_PER_THREAD * rayon::current_num_threads()));
        FrameReader { read, slabs, buffers }
    }

    /// Frame `index` of `variable` on `info`'s grid, unpacked by `packing`.
    pub(crate) fn frame(&self, index: usize, info: &SourceInfo, packing: &Packing, variable: &str) -> Result<Frame> {
        let time = info.frame_time(index)?;
        let (stored, at) = match &self.slabs {
            Some(slabs) => slabs.get(index)?,
            None => (Arc::new((self.read)(index..index + 1)?), 0),
        };
        let (nlat, nlon) = info.grid.shape();
        let buffer = self.buffers.take(nlat * nlon);
        let mut rows = FrameRows::in_buffer(Arc::clone(&info.grid), time, buffer);
        stored
            .frame_rows_into(at, (nlat, nlon), packing, &mut rows)
            .and_then(|()| rows.finish())
            .map(|frame| frame.recycled_into(&self.buffers))
            .map_err(|e| Error::backend(format!("variable `{variable}`: unexpected frame shape"), e))
    }
}

/// Where the reading of one slab stands.
#[derive(Default)]
enum State {
    /// Not read (or a read ahead failed: whoever needs it reads it again).
    #[default]
    Empty,
    /// A thread is reading it.
    Reading,
    /// Read.
    Ready(Arc<Stored>),
    /// A read for a waiting thread failed: the first thread to see it
    /// reports the error, and the slab is empty again.
    Failed(Error),
}

/// One slab's state, and the threads waiting for it to be read.
#[derive(Default)]
struct Slot {
    state: Mutex<State>,
    read: Condvar,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type Entry = Arc<Slot>;

/// The pool slabs are decoded on, shared by every cache: as many threads as
/// rayon's global pool. `None` when its threads cannot be started.
fn decoding_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = rayon::current_num_threads();
        rayon::ThreadPoolBuilder::new().num_threads(threads).thread_name(|k| format!("pst-decode-{k}")).build().ok()
    })
    .as_ref()
}

/// The last few slabs read (see the module documentation).
pub(crate) struct SlabCache {
    frames_per_slab: usize,
    frames: usize,
    capacity: usize,
    read: ReadFrames,
    slabs: Arc<Mutex<VecDeque<(usize, Entry)>>>,
}

impl SlabCache {
    /// A cache for a variable of `frames` time steps stored `frames_per_chunk`
    /// to a chunk, `frame_bytes` a frame as stored, keeping at most
    /// `limit_bytes` of slabs; `None` when a chunk holds one time step (or
    /// none: no time dimension), or when one slab exceeds the limit (frames
    /// are then read one by one, each decoding its chunks).
    ///
    /// It keeps the slabs the frames in flight on every core can span, plus
    /// one, and at least two when the limit allows: frames are read in
    /// order, a few per thread, so each chunk is then decoded once. Beyond
    /// the limit, memory holds the slab being read and the frames a slab
    /// dropped from the cache still serves to a reading thread.
    pub(crate) fn new(
        frames: usize,
        frames_per_chunk: usize,
        frame_bytes: u64,
        limit_bytes: u64,
        read: ReadFrames,
    ) -> Option<Self> {
        let frames_per_slab = frames_per_chunk.min(frames);
        if frames_per_slab <= 1 {
            return None;
        }
        let slab_bytes = frames_per_slab as u64 * frame_bytes;
        let fit = usize::try_from(limit_bytes / slab_bytes.max(1)).unwrap_or(usize::MAX);
        if fit == 0 {
            return None;
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let spanned = (threads * FRAMES_IN_FLIGHT_PER_THREAD).div_ceil(frames_per_slab) + 1;
        let capacity = spanned.max(2).min(fit);
        let slabs = Arc::new(Mutex::new(VecDeque::with_capacity(capacity + 1)));
        Some(SlabCache { frames_per_slab, frames, capacity, read, slabs })
    }

    /// The slab holding frame `index`, and the frame's position in it.
    ///
    /// The first request for a slab also starts reading the next one, on a
    /// thread of its own, when the cache holds two: the read then overlaps
    /// the work on this slab's frames. (Starting it later, once the slab
    /// before is surely done with, saves little memory, since a slab being
    /// read takes the decoders' buffers too, and loses much of the overlap.)
    pub(crate) fn get(&self, index: usize) -> Result<(Arc<Stored>, usize)> {
        let slab = index / self.frames_per_slab;
        let (entry, added) = self.entry(slab, true);
        let at = index - slab * self.frames_per_slab;
        let next = slab + 1;
        if added
            && self.capacity >= 2
            && next * self.frames_per_slab < self.frames
            && let (next_entry, true) = self.entry(next, false)
        {
            // Without a thread, the slab is read when first needed.
            let _ = self.start_reading(&next_entry, self.range(next), false);
        }
        let stored = self.wait(slab, &entry)?;
        Ok((stored, at))
    }

    /// Starts reading `range` into `entry` on a thread of its own, unless
    /// it is read or being read. A failure is kept for a waiting thread to
    /// report when `report` is set; otherwise (reading ahead) it leaves the
    /// slab empty, to be read again, and reported, by whoever needs it.
    fn start_reading(&self, entry: &Entry, range: Range<usize>, report: bool) -> Result<()> {
        {
            let mut state = entry.lock();
            if !matches!(*state, State::Empty) {
                return Ok(());
            }
            *state = State::Reading;
        }
        let (read, slot) = (Arc::clone(&self.read), Arc::clone(entry));
        // Named only should the thread not start.
        let frames = range.clone();
        let spawned = std::thread::Builder::new().name("pst-read-slab".into()).spawn(move || {
            let result = match decoding_pool() {
                Some(pool) => pool.install(|| read(range)),
                None => Err(Error::Unsupported("cannot start the threads that decode chunks".into())),
            };
            let mut state = slot.lock();
            *state = match result {
                Ok(stored) => State::Ready(Arc::new(stored)),
                Err(error) if report => State::Failed(error),
                Err(_) => State::Empty,
            };
            slot.read.notify_all();
        });
        if let Err(error) = spawned {
            *entry.lock() = State::Empty;
            entry.read.notify_all();
            return Err(Error::Unsupported(format!("cannot start a thread to read {}: {error}", frames_text(&frames))));
        }
        Ok(())
    }

    /// The slab's values, once read (reading it if nobody is).
    fn wait(&self, slab: usize, entry: &Entry) -> Result<Arc<Stored>> {
        let mut state = entry.lock();
        loop {
            match &*state {
                State::Ready(stored) => return Ok(Arc::clone(stored)),
                State::Reading => state = entry.read.wait(state).unwrap_or_else(PoisonError::into_inner),
                State::Failed(_) => {
                    let State::Failed(error) = std::mem::take(&mut *state) else { unreachable!() };
                    return Err(error);
                }
                State::Empty => {
                    drop(state);
                    self.start_reading(entry, self.range(slab), true)?;
                    state = entry.lock();
                }
            }
        }
    }

    fn range(&self, slab: usize) -> Range<usize> {
        let first = slab * self.frames_per_slab;
        first..(first + self.frames_per_slab).min(self.frames)
    }

    /// Slab `slab`'s entry, made most recently used, and whether it was just
    /// added; with `touch` false an entry already there is left in place.
    fn entry(&self, slab: usize, touch: bool) -> (Entry, bool) {
        let mut slabs = self.slabs.lock().unwrap_or_else(PoisonError::into_inner);
        let (entry, added) = match slabs.iter().position(|(s, _)| *s == slab) {
            Some(k) if !touch => return (Arc::clone(&slabs[k].1), false),
            // Most recently used last.
            Some(k) => (slabs.remove(k).map(|(_, e)| e).unwrap_or_default(), false),
            None => (Entry::default(), true),
        };
        slabs.push_back((slab, Arc::clone(&entry)));
        while slabs.len() > self.capacity {
            slabs.pop_front();
        }
        (entry, added)
    }

    /// Bytes of the slabs held now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        let slabs = self.slabs.lock().unwrap_or_else(PoisonError::into_inner);
        slabs
            .iter()
            .filter_map(|(_, e)| match &*e.lock() {
                State::Ready(stored) => Some(stored.bytes()),
                _ => None,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packing() -> Packing {
        let meta = crate::cf::VarMeta { name: "v".into(), dims: vec![], shape: vec![], attrs: Default::default() };
        Packing::from(&meta, None)
    }

    #[test]
    fn decoder_bytes_give_the_values_of_typed_slabs() {
        let values: Vec<f32> = vec![1.5, -2.25, f32::NAN, 1.0e-30, 3.0e38, 0.0, -0.0, 7.0];
        let doubles: Vec<f64> = values.iter().map(|&v| f64::from(v) * 1.1).collect();
        let f32_bytes = Stored::F32Bytes(values.iter().flat_map(|v| v.to_ne_bytes()).collect());
        let f64_bytes = Stored::F64Bytes(doubles.iter().flat_map(|v| v.to_ne_bytes()).collect());
        let (typed_f32, typed_f64) = (Stored::F32(values.clone()), Stored::F64(doubles.clone()));
        let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        for k in 0..2 {
            assert_eq!(bits(f32_bytes.frame(k, 4, &packing())), bits(typed_f32.frame(k, 4, &packing())));
            assert_eq!(bits(f64_bytes.frame(k, 4, &packing())), bits(typed_f64.frame(k, 4, &packing())));
        }
        assert_eq!(bits(f32_bytes.into_f64()), bits(typed_f32.into_f64()));
        assert_eq!(bits(f64_bytes.into_f64()), bits(doubles));
    }

    #[test]
    fn dropped_frames_give_their_buffers_back_to_the_reader() {
        let grid = Arc::new(pst_core::Grid::regular_global(30.0).unwrap());
        let points = grid.nlat() * grid.nlon();
        let read: ReadFrames = Arc::new(move |frames: Range<usize>| {
            Ok(Stored::F32(frames.flat_map(|k| std::iter::repeat_n(k as f32, points)).collect()))
        });
        let reader = FrameReader::new(read, 10, None, 4 * points as u64, 1 << 20);
        let info = SourceInfo {
            variable: "v".into(),
            units: None,
            long_name: None,
            grid,
            times: (0..10).map(|h| pst_core::Timestamp::from_ymdh(2025, 12, 1, h).unwrap()).collect(),
            calendar: pst_core::Calendar::Standard,
            origin: "test".into(),
        };
        let first = reader.frame(3, &info, &packing(), "v").unwrap();
        assert_eq!(first.value(0, 0), 3.0);
        let address = first.values().as_ptr();
        drop(first);
        assert_eq!(reader.buffers.len(), 1);
        let second = reader.frame(4, &info, &packing(), "v").unwrap();
        assert_eq!((second.value(0, 0), second.values().as_ptr()), (4.0, address), "the buffer is reused");
        assert!(reader.buffers.is_empty());
    }

    /// A reader of frames of `points` values equal to the frame index, that
    /// logs the ranges it reads.
    fn logging(points: usize) -> (ReadFrames, Arc<Mutex<Vec<Range<usize>>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let reads = Arc::clone(&log);
        let read = move |frames: Range<usize>| {
            reads.lock().unwrap().push(frames.clone());
            Ok(Stored::F32(frames.flat_map(|k| std::iter::repeat_n(k as f32, points)).collect()))
        };
        (Arc::new(read), log)
    }

    /// The ranges read, sorted, once every read-ahead is done.
    fn reads(cache: SlabCache, log: &Mutex<Vec<Range<usize>>>) -> Vec<Range<usize>> {
        let entries: Vec<Entry> = cache.slabs.lock().unwrap().iter().map(|(_, e)| Arc::clone(e)).collect();
        for entry in entries {
            for _ in 0..5000 {
                if matches!(*entry.lock(), State::Ready(_)) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        let mut ranges = log.lock().unwrap().clone();
        ranges.sort_by_key(|r| r.start);
        ranges
    }

    #[test]
    fn each_slab_is_read_once_when_frames_come_in_order() {
        let (read, log) = logging(6);
        let cache = SlabCache::new(100, 24, 4 * 6, 1 << 20, read).unwrap();
        for k in 0..100 {
            let (slab, at) = cache.get(k).unwrap();
            assert_eq!(slab.frame(at, 6, &packing()), vec![k as f64; 6]);
        }
        assert_eq!(reads(cache, &log), vec![0..24, 24..48, 48..72, 72..96, 96..100]);
    }

    #[test]
    fn threads_share_one_read_of_a_slab() {
        let (read, log) = logging(1);
        let cache = SlabCache::new(48, 24, 4, 1 << 20, read).unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let cache = &cache;
                s.spawn(move || {
                    for k in (t..48).step_by(4) {
                        cache.get(k).unwrap();
                    }
                });
            }
        });
        assert_eq!(reads(cache, &log), vec![0..24, 24..48]);
    }

    #[test]
    fn the_next_slab_is_read_ahead() {
        let (read, log) = logging(1);
        let cache = SlabCache::new(1000, 100, 4, 1 << 20, read).unwrap();
        cache.get(0).unwrap();
        assert_eq!(reads(cache, &log), vec![0..100, 100..200]);
    }

    #[test]
    fn memory_stays_within_the_limit() {
        let (read, log) = logging(25);
        // Slabs of 10 frames of 100 bytes: the limit holds two.
        let cache = SlabCache::new(1000, 10, 100, 2_500, read).unwrap();
        for k in 0..1000 {
            cache.get(k).unwrap();
            assert!(cache.bytes() <= 2_500);
        }
        assert_eq!(reads(cache, &log).len(), 100);
    }

    #[test]
    fn no_cache_for_one_frame_a_chunk_or_a_slab_beyond_the_limit() {
        let (read, _) = logging(1);
        assert!(SlabCache::new(100, 1, 1 << 20, 1 << 30, Arc::clone(&read)).is_none());
        assert!(SlabCache::new(100, 100, 1 << 20, 1 << 20, Arc::clone(&read)).is_none());
        assert!(SlabCache::new(1, 24, 8, 1 << 30, read).is_none(), "one frame in all");
    }

    /// A decoder that uses rayon itself (zarrs does), with frames asked for
    /// by every worker of the global pool at once, as the tracker does: the
    /// workers wait for slabs that only a pool of its own decodes.
    #[test]
    fn a_decoder_using_rayon_is_not_starved_by_the_workers_waiting_for_it() {
        use rayon::prelude::*;
        const POINTS: usize = 64;
        let read: ReadFrames = Arc::new(|frames: Range<usize>| {
            let values: Vec<f32> =
                frames.into_par_iter().flat_map_iter(|k| std::iter::repeat_n(k as f32, POINTS)).collect();
            std::thread::sleep(std::time::Duration::from_millis(2));
            Ok(Stored::F32(values))
        });
        let cache = SlabCache::new(960, 24, 4 * POINTS as u64, 1 << 20, read).unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let right = (0..960).into_par_iter().with_max_len(4).all(|k| {
                let (slab, at) = cache.get(k).unwrap();
                slab.frame(at, POINTS, &packing()) == vec![k as f64; POINTS]
            });
            let _ = done.send(right);
        });
        let outcome = finished.recv_timeout(std::time::Duration::from_secs(120));
        assert_eq!(outcome, Ok(true), "frames read through the cache by rayon workers hung or came out wrong");
    }

    #[test]
    fn an_error_is_not_cached() {
        let failures = Arc::new(std::sync::atomic::AtomicUsize::new(1));
        let left = Arc::clone(&failures);
        let read: ReadFrames = Arc::new(move |frames: Range<usize>| {
            if left.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) > 0 {
                return Err(pst_core::Error::Format("damaged chunk".into()));
            }
            Ok(Stored::F32(frames.map(|k| k as f32).collect()))
        });
        let cache = SlabCache::new(24, 24, 4, 1 << 20, read).unwrap();
        assert!(cache.get(3).is_err());
        assert!(cache.get(3).is_ok());
    }

    #[test]
    fn frames_come_out_frame_major_whatever_the_stored_order() {
        // A [longitude, time, latitude] array of 2 frames on a 3×4 grid.
        let layout = Layout {
            variable: "v".into(),
            lat_dim: 2,
            lon_dim: 0,
            time_dim: Some(1),
            fixed: vec![],
            lat_coord: "lat".into(),
            lon_coord: "lon".into(),
            time_coord: Some("time".into()),
        };
        let array = ArrayD::from_shape_fn(IxDyn(&[4, 2, 3]), |d| (d[1] * 100 + d[2] * 10 + d[0]) as f32);
        let values = frame_major(array, &layout);
        let expected: Vec<f32> =
            (0..2).flat_map(|t| (0..3).flat_map(move |i| (0..4).map(move |j| (t * 100 + i * 10 + j) as f32))).collect();
        assert_eq!(values, expected);
    }
}
