//! The tracks a link stream holds until they can leave in id order: open
//! ones, and finished ones waiting behind an older open one, spilled to a
//! temporary file beyond a budget so that a track that never ends cannot
//! make memory grow with the series. Shared by every linker of this crate.

use std::collections::VecDeque;

use pst_core::{Calendar, Result, Timestamp, Tracks, TracksBuilder, TracksMetadata};

/// A linked centre: its position, value and time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub(crate) lat: f64,
    pub(crate) lon: f64,
    pub(crate) value: f64,
    pub(crate) time: Timestamp,
}

/// Finished tracks waiting behind an older open one are kept in memory up
/// to this many points (about 4 MiB with their tracks' overhead); beyond it
/// they go to a temporary file.
pub(crate) const WAITING_POINTS_IN_MEMORY: usize = 1 << 16;

/// A pending track's points: in memory, or in the spill file.
#[derive(Debug)]
enum Slot {
    Points(Vec<Point>),
    Spilled { offset: u64, len: usize },
}

impl Slot {
    /// The track's number of points.
    fn len(&self) -> usize {
        match self {
            Slot::Points(points) => points.len(),
            Slot::Spilled { len, .. } => *len,
        }
    }
}

/// An unlinked temporary file of finished tracks' points (32 bytes each).
#[derive(Debug)]
struct Spill {
    file: std::fs::File,
    end: u64,
}

const SPILLED_POINT_BYTES: usize = 32;

impl Spill {
    fn create() -> Result<Spill> {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(".pst-link-{}-{n}.spill", std::process::id()));
        let file = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        // Unlinked at once: the file goes away with its handle, even on a crash.
        std::fs::remove_file(&path)?;
        Ok(Spill { file, end: 0 })
    }

    fn write(&mut self, points: &[Point], calendar: Calendar) -> Result<(u64, usize)> {
        use std::io::{Seek, SeekFrom, Write};
        let mut bytes = Vec::with_capacity(points.len() * SPILLED_POINT_BYTES);
        for p in points {
            bytes.extend_from_slice(&p.lat.to_le_bytes());
            bytes.extend_from_slice(&p.lon.to_le_bytes());
            bytes.extend_from_slice(&p.value.to_le_bytes());
            bytes.extend_from_slice(&calendar.to_millis(p.time)?.to_le_bytes());
        }
        self.file.seek(SeekFrom::Start(self.end))?;
        self.file.write_all(&bytes)?;
        let offset = self.end;
        self.end += bytes.len() as u64;
        Ok((offset, points.len()))
    }

    fn read(&mut self, offset: u64, len: usize, calendar: Calendar) -> Result<Vec<Point>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut bytes = vec![0u8; len * SPILLED_POINT_BYTES];
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(&mut bytes)?;
        let word = |chunk: &[u8], k: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&chunk[8 * k..8 * k + 8]);
            b
        };
        Ok(bytes
            .chunks_exact(SPILLED_POINT_BYTES)
            .map(|c| Point {
                lat: f64::from_le_bytes(word(c, 0)),
                lon: f64::from_le_bytes(word(c, 1)),
                value: f64::from_le_bytes(word(c, 2)),
                time: calendar.from_millis(i64::from_le_bytes(word(c, 3))),
            })
            .collect())
    }
}

/// Tracks not yet handed out, oldest (lowest id) first. Ids are absolute
/// indices from 0 in creation order; tracks leave as 1-based ids.
#[derive(Debug)]
pub(crate) struct PendingTracks {
    calendar: Calendar,
    algorithm: &'static str,
    /// Track `first_pending + k` is `pending[k]`.
    pending: VecDeque<Slot>,
    /// Whether each pending track can still grow.
    growing: VecDeque<bool>,
    first_pending: usize,
    spill: Option<Spill>,
    /// Points of waiting tracks kept in memory before spilling.
    memory_budget: usize,
    /// Points (plus two per track, for its overhead) of the finished tracks
    /// waiting in memory: kept up to date so that no frame has to scan
    /// every pending track.
    waiting_points: usize,
}

impl PendingTracks {
    pub(crate) fn new(calendar: Calendar, algorithm: &'static str) -> Self {
        PendingTracks {
            calendar,
            algorithm,
            pending: VecDeque::new(),
            growing: VecDeque::new(),
            first_pending: 0,
            spill: None,
            memory_budget: WAITING_POINTS_IN_MEMORY,
            waiting_points: 0,
        }
    }

    pub(crate) fn spill_after(&mut self, points: usize) {
        self.memory_budget = points;
    }

    /// A new growing track of one point; its id.
    pub(crate) fn open(&mut self, p: Point) -> usize {
        self.pending.push_back(Slot::Points(vec![p]));
        self.growing.push_back(true);
        self.first_pending + self.pending.len() - 1
    }

    /// Appends a point to a growing track.
    pub(crate) fn extend(&mut self, track: usize, p: Point) {
        let k = track - self.first_pending;
        debug_assert!(self.growing[k], "track {track} no longer grows");
        if let Slot::Points(points) = &mut self.pending[k] {
            points.push(p);
        }
    }

    /// The track will not grow any more: it may leave once every older one
    /// has.
    pub(crate) fn stop(&mut self, track: usize) {
        let k = track - self.first_pending;
        if std::mem::replace(&mut self.growing[k], false)
            && let Slot::Points(points) = &self.pending[k]
        {
            self.waiting_points += points.len() + 2;
        }
    }

    /// The stopped tracks no older track is still waiting for, in id order
    /// (continuing from the previous call), centre values in a variable
    /// named `value`; then spills waiting tracks beyond the budget.
    pub(crate) fn take_ready(&mut self) -> Result<Tracks> {
        let ready = self.growing.iter().position(|&g| g).unwrap_or(self.growing.len());
        let tracks = self.emit(ready)?;
        self.spill_waiting()?;
        Ok(tracks)
    }

    /// Every pending track, in id order.
    pub(crate) fn finish(mut self) -> Result<Tracks> {
        self.emit(self.pending.len())
    }

    /// Points in memory: the growing tracks' and those of stopped tracks
    /// waiting to be taken.
    pub(crate) fn held_points(&self) -> usize {
        self.pending.iter().map(|slot| if let Slot::Points(p) = slot { p.len() } else { 0 }).sum()
    }

    /// Moves waiting stopped tracks to the spill file when too many points
    /// wait in memory.
    fn spill_waiting(&mut self) -> Result<()> {
        debug_assert_eq!(
            self.waiting_points,
            self.pending
                .iter()
                .zip(&self.growing)
                .map(|(slot, &growing)| match slot {
                    Slot::Points(p) if !growing => p.len() + 2,
                    _ => 0,
                })
                .sum::<usize>(),
            "the waiting count drifted"
        );
        if self.waiting_points <= self.memory_budget {
            return Ok(());
        }
        if self.spill.is_none() {
            self.spill = Some(Spill::create()?);
        }
        let (calendar, Some(spill)) = (self.calendar, self.spill.as_mut()) else { return Ok(()) };
        for (slot, &growing) in self.pending.iter_mut().zip(&self.growing) {
            if let Slot::Points(points) = slot
                && !growing
            {
                let (offset, len) = spill.write(points, calendar)?;
                *slot = Slot::Spilled { offset, len };
            }
        }
        self.waiting_points = 0;
        Ok(())
    }

    /// Hands out the `count` oldest pending tracks.
    fn emit(&mut self, count: usize) -> Result<Tracks> {
        let mut builder = TracksBuilder::new(["value"]);
        builder.metadata(TracksMetadata {
            calendar: self.calendar,
            algorithm: Some(self.algorithm.into()),
            ..Default::default()
        });
        // Sized at once: the columns grew a point at a time (2 % of a
        // Simple run at 2.5°).
        let points = self.pending.iter().take(count).map(Slot::len).sum();
        builder.reserve(count.min(self.pending.len()), points);
        for _ in 0..count {
            let (Some(slot), Some(growing)) = (self.pending.pop_front(), self.growing.pop_front()) else { break };
            let points = match slot {
                Slot::Points(points) => {
                    if !growing {
                        self.waiting_points = self.waiting_points.saturating_sub(points.len() + 2);
                    }
                    points
                }
                Slot::Spilled { offset, len } => match self.spill.as_mut() {
                    Some(spill) => spill.read(offset, len, self.calendar)?,
                    None => Vec::new(),
                },
            };
            self.first_pending += 1;
            builder.begin_track(self.first_pending as u64);
            for point in &points {
                builder.push(point.time, point.lat, point.lon, &[point.value])?;
            }
            builder.end_track()?;
        }
        builder.finish()
    }
}
