//! The round-trip contract of track formats.

use crate::conformance::{Violation, ensure};
use crate::synthetic::Uniforms;
use crate::{
    Calendar, DetectionMode, TrackReader, TrackWriter, Tracks, TracksBuilder, TracksMetadata, normalize_lon_360,
};

/// How faithfully a format keeps tracks, for [`check_track_format`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FormatPrecision {
    /// Positions survive within this many degrees.
    pub position_deg: f64,
    /// Values of the primary variable survive within this relative error.
    pub value_relative: f64,
    /// Whether track ids survive (TempestExtremes' text has none).
    pub keeps_ids: bool,
}

impl FormatPrecision {
    /// A format that keeps everything exactly.
    pub const EXACT: FormatPrecision = FormatPrecision { position_deg: 0.0, value_relative: 0.0, keeps_ids: true };
}

/// Three tracks of four points, made to catch common mistakes: ids that
/// are not `1, 2, 3`, a track near the South Pole, one across the prime
/// meridian and one across the dateline, values with decimals; `msl` in
/// Pa, minima, proleptic Gregorian time.
pub fn sample_tracks() -> Tracks {
    let mut b = TracksBuilder::new(["msl"]);
    b.metadata(TracksMetadata {
        calendar: Calendar::ProlepticGregorian,
        variable: Some("msl".into()),
        detection_mode: Some(DetectionMode::Min),
        ..Default::default()
    });
    // `build` cannot fail for these fixed, valid points; an empty
    // collection would make every check below fail loudly.
    let build = |mut b: TracksBuilder| -> crate::Result<Tracks> {
        b.units("msl", "Pa")?;
        for (id, lat0, lon0) in [(1u64, -85.0, 175.0), (2, 12.5, 359.75), (7, 60.25, -0.25)] {
            b.begin_track(id);
            for k in 0..4i64 {
                let t = Calendar::ProlepticGregorian.from_millis(1_764_547_200_000 + k * 6 * 3_600_000);
                b.push(t, lat0 + 0.5 * k as f64, lon0 + 1.25 * k as f64, &[99_000.0 + 123.456 * k as f64])?;
            }
            b.end_track()?;
        }
        b.finish()
    };
    build(b).unwrap_or_default()
}

/// Checks a track format's reader and writer:
///
/// - [`sample_tracks`] written and read back are the same tracks within
///   `precision` (counts, points per track, times exactly, positions,
///   values of the primary variable, ids if kept);
/// - writing what was read gives a file of the same size (the format is
///   stable);
/// - an empty collection is written and read back empty, or refused with an
///   error;
/// - damaged files (truncated, bytes changed) give errors, never a panic.
pub fn check_track_format(
    reader: &dyn TrackReader,
    writer: &dyn TrackWriter,
    precision: FormatPrecision,
) -> Result<(), Violation> {
    let tracks = sample_tracks();
    let bytes = write(writer, &tracks, "format: write")?;
    let back = reader
        .read_tracks(&bytes)
        .map_err(|e| Violation { check: "format: read what was written", message: e.to_string() })?;
    same_tracks(&tracks, &back, precision)?;
    let again = write(writer, &back, "format: write what was read")?;
    ensure(again.len() == bytes.len(), "format: stable", || {
        format!("{} bytes written, {} when writing what was read back", bytes.len(), again.len())
    })?;

    let empty = Tracks::empty(["msl"]);
    let mut out = Vec::new();
    if writer.write_tracks(&empty, &mut out).is_ok() {
        let back = reader.read_tracks(&out).map_err(|e| Violation {
            check: "format: empty collection",
            message: format!("written but not read back: {e}"),
        })?;
        ensure(back.is_empty(), "format: empty collection", || format!("read back {} tracks", back.len()))?;
    }

    let mut rng = Uniforms(0x5eed_f0a7);
    for case in 0..64 {
        let mut damaged = bytes.clone();
        if case % 2 == 0 {
            damaged.truncate((rng.next() * damaged.len() as f64) as usize);
        } else {
            for _ in 0..1 + case % 5 {
                let at = (rng.next() * damaged.len() as f64) as usize % damaged.len().max(1);
                if let Some(b) = damaged.get_mut(at) {
                    *b = (rng.next() * 256.0) as u8;
                }
            }
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.read_tracks(&damaged)));
        ensure(outcome.is_ok(), "format: damaged input", || {
            format!("reading a damaged file (case {case}, {} bytes) panicked", damaged.len())
        })?;
    }
    Ok(())
}

fn write(writer: &dyn TrackWriter, tracks: &Tracks, check: &'static str) -> Result<Vec<u8>, Violation> {
    let mut bytes = Vec::new();
    writer.write_tracks(tracks, &mut bytes).map_err(|e| Violation { check, message: e.to_string() })?;
    Ok(bytes)
}

/// Whether `b` holds `a`'s tracks within `precision`.
fn same_tracks(a: &Tracks, b: &Tracks, precision: FormatPrecision) -> Result<(), Violation> {
    let check = "format: round trip";
    ensure(a.len() == b.len(), check, || format!("{} tracks written, {} read", a.len(), b.len()))?;
    ensure(a.offsets() == b.offsets(), check, || "the points per track differ".into())?;
    if precision.keeps_ids {
        ensure(a.ids() == b.ids(), check, || format!("ids {:?} came back as {:?}", a.ids(), b.ids()))?;
    }
    ensure(a.times() == b.times(), check, || "the times differ".into())?;
    for (x, y) in a.lats().iter().zip(b.lats()) {
        ensure((x - y).abs() <= precision.position_deg, check, || format!("latitude {x} came back as {y}"))?;
    }
    for (x, y) in a.lons().iter().zip(b.lons()) {
        let d = (normalize_lon_360(*x) - normalize_lon_360(*y)).abs();
        ensure(d.min(360.0 - d) <= precision.position_deg, check, || format!("longitude {x} came back as {y}"))?;
    }
    // Formats that name no variable give the primary one another name.
    let name = a.metadata().variable.as_deref().unwrap_or("msl");
    let primary = b.metadata().variable.clone().unwrap_or_default();
    let (va, vb) = (a.variable(name), b.variable(name).or_else(|| b.variable(&primary)));
    let (Some(va), Some(vb)) = (va, vb) else {
        return Err(Violation { check, message: format!("variable `{name}` did not come back") });
    };
    for (x, y) in va.iter().zip(vb) {
        ensure((x - y).abs() <= precision.value_relative * x.abs() + 1e-12, check, || {
            format!("value {x} came back as {y}")
        })?;
    }
    Ok(())
}
