//! The [`FieldSource`] contract, and the conformance of format readers.

use crate::conformance::{Violation, ensure, same_value, unexpected};
use crate::geometry::normalize_lon_360;
use crate::{Calendar, CfTimeUnits, Error, FieldSource, Frame, Timestamp};

/// Frames checked for determinism and concurrent reads: the first, the
/// last and two between (every frame is checked for its time and grid).
const FRAMES_REREAD: usize = 4;

/// Checks the [`FieldSource`] contract on `source`:
///
/// - the times increase strictly, and `len`/`is_empty` agree with them;
/// - every frame reads, on the source's grid, at its time;
/// - a frame read again, or from other threads at once, has the same
///   values, bit for bit (NaN for missing values);
/// - frames past the end are [`Error::FrameOutOfRange`], whatever the index.
///
/// Every frame is read once; keep test sources small.
pub fn check_source(source: &dyn FieldSource) -> Result<(), Violation> {
    let info = source.info();
    let times = &info.times;
    if let Some(k) = times.windows(2).position(|w| w[1] <= w[0]) {
        return Err(Violation {
            check: "source: times",
            message: format!("frame {} at {} does not come after {}", k + 1, times[k + 1], times[k]),
        });
    }
    ensure(source.len() == times.len(), "source: len", || {
        format!("len() is {} but there are {} times", source.len(), times.len())
    })?;
    ensure(source.is_empty() == times.is_empty(), "source: is_empty", || "is_empty() disagrees with len()".into())?;
    let read = |k: usize| source.read_frame(k).map_err(unexpected("source: read_frame"));
    for (k, &time) in times.iter().enumerate() {
        let frame = read(k)?;
        ensure(frame.time() == time, "source: frame time", || {
            format!("frame {k} is at {} but the source lists {time}", frame.time())
        })?;
        ensure(**frame.grid() == *info.grid, "source: frame grid", || {
            format!("frame {k} is on a {:?} grid, the source's is {:?}", frame.grid().shape(), info.grid.shape())
        })?;
    }
    let sample: Vec<usize> = match times.len() {
        0 => Vec::new(),
        n => {
            let mut s: Vec<usize> = (0..FRAMES_REREAD).map(|q| q * (n - 1) / (FRAMES_REREAD - 1).max(1)).collect();
            s.dedup();
            s
        }
    };
    let first: Vec<Frame> = sample.iter().map(|&k| read(k)).collect::<Result<_, _>>()?;
    for (&k, frame) in sample.iter().zip(&first) {
        ensure(same_frame(frame, &read(k)?), "source: determinism", || format!("frame {k} differs when read again"))?;
    }
    // Sources are Send + Sync: two threads read the sample backwards at once.
    let concurrent = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| sample.iter().rev().map(|&k| source.read_frame(k)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect::<Vec<_>>()
    });
    for frames in concurrent {
        let frames = frames.ok_or_else(|| Violation {
            check: "source: concurrent reads",
            message: "a reading thread panicked".into(),
        })?;
        for (frame, (&k, expected)) in frames.into_iter().zip(sample.iter().zip(&first).rev()) {
            let frame = frame.map_err(unexpected("source: concurrent reads"))?;
            ensure(same_frame(&frame, expected), "source: concurrent reads", || {
                format!("frame {k} read from two threads at once differs")
            })?;
        }
    }
    for index in [times.len(), times.len() + 1, usize::MAX] {
        match source.read_frame(index).as_ref().map_err(Error::root) {
            Err(Error::FrameOutOfRange { index: i, len }) if *i == index && *len == times.len() => {}
            Err(other) => {
                return Err(Violation {
                    check: "source: frame out of range",
                    message: format!("frame {index} of {} gave `{other}`, not FrameOutOfRange", times.len()),
                });
            }
            Ok(_) => {
                return Err(Violation {
                    check: "source: frame out of range",
                    message: format!("frame {index} of {} was read", times.len()),
                });
            }
        }
    }
    Ok(())
}

fn same_frame(a: &Frame, b: &Frame) -> bool {
    a.time() == b.time()
        && a.values().dim() == b.values().dim()
        && a.values().iter().zip(b.values()).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

/// How a file stores the [`ReferenceDataset`]'s grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageLayout {
    /// Latitudes from north to south (ERA5's order) instead of south to
    /// north.
    pub descending_lats: bool,
    /// Longitudes in `[-180, 180)` instead of `[0, 360)`.
    pub signed_lons: bool,
}

impl StorageLayout {
    /// Every layout a reader must handle.
    pub const ALL: [StorageLayout; 4] = [
        StorageLayout { descending_lats: false, signed_lons: false },
        StorageLayout { descending_lats: true, signed_lons: false },
        StorageLayout { descending_lats: false, signed_lons: true },
        StorageLayout { descending_lats: true, signed_lons: true },
    ];
}

/// One small dataset to store in a format, in any [`StorageLayout`], for
/// [`check_reader`]: `msl` in Pa on a 4 × 4 global grid (latitudes −10…20,
/// longitudes every 90°) at four times of a 360-day calendar, packed as
/// 16-bit integers with `scale_factor` 0.5 and `add_offset` 100 000, one
/// value missing (the fill value).
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceDataset {
    /// The variable's name.
    pub variable: &'static str,
    /// Its units.
    pub units: &'static str,
    /// CF time units of [`ReferenceDataset::time_values`].
    pub time_units: &'static str,
    /// The CF calendar.
    pub calendar: &'static str,
    /// The time coordinate's values.
    pub time_values: Vec<f64>,
    /// The packing: physical = stored × `scale_factor` + `add_offset`.
    pub scale_factor: f64,
    /// The packing's offset.
    pub add_offset: f64,
    /// The stored value that means "missing".
    pub fill_value: i16,
}

const LATS: [f64; 4] = [-10.0, 0.0, 10.0, 20.0];
const LONS: [f64; 4] = [0.0, 90.0, 180.0, 270.0];

impl ReferenceDataset {
    /// The dataset with its four times.
    pub fn standard() -> Self {
        ReferenceDataset {
            variable: "msl",
            units: "Pa",
            time_units: "days since 2000-01-01",
            calendar: "360_day",
            time_values: vec![0.0, 29.0, 30.0, 59.0],
            scale_factor: 0.5,
            add_offset: 100_000.0,
            fill_value: -32767,
        }
    }

    /// The dataset with an empty time axis (a reader must open it as a
    /// source of no frames).
    pub fn empty() -> Self {
        ReferenceDataset { time_values: Vec::new(), ..Self::standard() }
    }

    /// Latitudes in the layout's order, degrees.
    pub fn lats(&self, layout: StorageLayout) -> Vec<f64> {
        let mut lats = LATS.to_vec();
        if layout.descending_lats {
            lats.reverse();
        }
        lats
    }

    /// Longitudes in the layout's convention, degrees.
    pub fn lons(&self, layout: StorageLayout) -> Vec<f64> {
        if layout.signed_lons { vec![-180.0, -90.0, 0.0, 90.0] } else { LONS.to_vec() }
    }

    /// The stored integers, `(time, latitude, longitude)` in the layout's
    /// order, row-major.
    pub fn packed(&self, layout: StorageLayout) -> Vec<i16> {
        let (lats, lons) = (self.lats(layout), self.lons(layout));
        let mut out = Vec::with_capacity(self.time_values.len() * 16);
        for t in 0..self.time_values.len() {
            for &lat in &lats {
                for &lon in &lons {
                    out.push(self.stored(t, lat, lon));
                }
            }
        }
        out
    }

    /// The physical values (unpacked, NaN where missing), in the order of
    /// [`ReferenceDataset::packed`].
    pub fn physical(&self, layout: StorageLayout) -> Vec<f64> {
        self.packed(layout).into_iter().map(|v| self.unpack(v)).collect()
    }

    /// The frame times a reader must report.
    pub fn times(&self) -> Vec<Timestamp> {
        let units = CfTimeUnits::parse(self.time_units, Some(self.calendar));
        self.time_values.iter().filter_map(|&v| units.as_ref().ok().and_then(|u| u.decode(v).ok())).collect()
    }

    fn stored(&self, t: usize, lat: f64, lon: f64) -> i16 {
        let i = LATS.iter().position(|&l| l == lat).unwrap_or(0);
        let j = LONS.iter().position(|&l| l == normalize_lon_360(lon)).unwrap_or(0);
        if (t, i, j) == (1, 2, 3) { self.fill_value } else { (t * 100 + i * 10 + j) as i16 }
    }

    fn unpack(&self, stored: i16) -> f64 {
        if stored == self.fill_value { f64::NAN } else { f64::from(stored) * self.scale_factor + self.add_offset }
    }
}

/// What a reader's test supplies: store the dataset in the format in the
/// layout given, and open it as a source of its variable.
pub type OpenStored<'a> =
    dyn Fn(&ReferenceDataset, StorageLayout) -> Result<Box<dyn FieldSource>, Box<dyn std::error::Error>> + 'a;

/// Checks a reader of a file format: `open` stores [`ReferenceDataset::standard`]
/// in every [`StorageLayout`] (packed, with its fill value) and opens it;
/// each source must pass [`check_source`], report the 360-day calendar,
/// times, units and a periodic grid, and give the physical value (NaN for
/// the missing one) at every latitude and longitude. With
/// `empty_time_axis`, [`ReferenceDataset::empty`] must open as a source of
/// no frames (formats that cannot store one, such as GRIB, leave it out).
pub fn check_reader(open: &OpenStored<'_>, empty_time_axis: bool) -> Result<(), Violation> {
    let data = ReferenceDataset::standard();
    for layout in StorageLayout::ALL {
        let source = open(&data, layout)
            .map_err(|e| Violation { check: "reader: open", message: format!("{layout:?}: {e}") })?;
        check_source(source.as_ref()).map_err(|v| Violation { message: format!("{layout:?}: {}", v.message), ..v })?;
        let info = source.info();
        ensure(info.calendar == Calendar::Day360, "reader: calendar", || format!("{layout:?}: {}", info.calendar))?;
        ensure(info.times == data.times(), "reader: times", || format!("{layout:?}: {:?}", info.times))?;
        ensure(info.units.as_deref() == Some(data.units), "reader: units", || format!("{layout:?}: {:?}", info.units))?;
        ensure(info.grid.is_periodic(), "reader: periodic grid", || format!("{layout:?}: not periodic"))?;
        for t in 0..data.time_values.len() {
            let frame = source.read_frame(t).map_err(unexpected("reader: read_frame"))?;
            for (i, &lat) in info.grid.lats().iter().enumerate() {
                for (j, &lon) in info.grid.lons().iter().enumerate() {
                    let (got, want) = (frame.value(i, j), data.unpack(data.stored(t, lat, lon)));
                    ensure(same_value(got, want), "reader: values", || {
                        format!("{layout:?}: frame {t} at ({lat}, {lon}) is {got}, expected {want}")
                    })?;
                }
            }
        }
    }
    if empty_time_axis {
        let source = open(&ReferenceDataset::empty(), StorageLayout::ALL[0])
            .map_err(|e| Violation { check: "reader: empty time axis", message: e.to_string() })?;
        ensure(source.is_empty(), "reader: empty time axis", || format!("{} frames", source.len()))?;
        check_source(source.as_ref())?;
    }
    Ok(())
}
