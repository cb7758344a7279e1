//! TRACK ASCII tracks (`tdump`, `tr_trs`, `ff_trs`).

use std::io::Write;

use pst_core::{
    Error, MAX_ADDED_FIELDS, Result, Timestamp, TrackReader, TrackWriter, Tracks, TracksBuilder, TracksMetadata,
    normalize_lon_360,
};

use super::line_error;

/// TRACK's ASCII track format:
///
/// ```text
/// 0
/// 0 0
/// TRACK_NUM       3690 ADD_FLD    0   0 &
/// TRACK_ID  1
/// POINT_NUM   9
/// 2025120100 175.000000 -85.000000 9.958712e+04
/// ```
///
/// Points are `YYYYMMDDHH lon lat value`, longitude in `[0, 360)`, the value
/// in its own units. TRACK's files with added fields (`ADD_FLD n m &flags`)
/// carry after each point `& value` per field, or `& lon & lat & value` for a
/// field whose flag is 1; the reader keeps them as variables `field1`,
/// `field1_lon`, `field1_lat`, … Points numbered by frame instead of dated
/// are rejected: TRACK's frame numbers need the input's times to mean
/// anything.
#[derive(Debug, Clone, Default)]
pub struct TrackAscii {
    /// Name given to the intensity column when reading (default `intensity`).
    pub variable: Option<String>,
}

/// C's `%12.6e`: at least two exponent digits, with a sign.
fn c_exp(x: f64) -> String {
    let s = format!("{x:.6e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa:>width$}e{sign}{digits:0>2}", width = 12 - 2 - digits.len().max(2))
        }
        None => format!("{s:>12}"),
    }
}

impl TrackWriter for TrackAscii {
    fn write_tracks(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        let var = tracks
            .primary_variable()
            .ok_or_else(|| Error::InvalidArgument("TRACK needs a variable to write as the intensity".into()))?;
        writeln!(out, "0\n0 0\nTRACK_NUM {:10} ADD_FLD    0   0 &", tracks.len())?;
        for track in tracks.iter() {
            writeln!(out, "TRACK_ID {:2}\nPOINT_NUM {:3}", track.id(), track.len())?;
            let values = track.variable(&var.name).unwrap_or_default();
            for ((t, lat), (lon, v)) in track.times().iter().zip(track.lats()).zip(track.lons().iter().zip(values)) {
                if (t.minute(), t.second(), t.millisecond()) != (0, 0, 0) {
                    return Err(Error::InvalidArgument(format!(
                        "TRACK dates are YYYYMMDDHH, but track {} has a point at {t}",
                        track.id()
                    )));
                }
                writeln!(out, "{} {:10.6} {:10.6} {}", t.imilast(), normalize_lon_360(*lon), lat, c_exp(*v))?;
            }
        }
        Ok(())
    }
}

impl TrackReader for TrackAscii {
    fn read_tracks(&self, bytes: &[u8]) -> Result<Tracks> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Format(format!("not UTF-8 text: {e}")))?;
        let name = self.variable.clone().unwrap_or_else(|| "intensity".into());
        let mut lines = text.lines().enumerate().map(|(k, l)| (k + 1, l.trim())).filter(|(_, l)| !l.is_empty());
        let mut expected_tracks = None;
        let mut flags: Vec<bool> = Vec::new();
        // Header: everything up to and including TRACK_NUM.
        for (lineno, line) in lines.by_ref() {
            if let Some(rest) = line.strip_prefix("TRACK_NUM") {
                let fields: Vec<&str> = rest.split_whitespace().collect();
                expected_tracks = Some(parse_usize(fields.first().copied(), lineno, "track count")?);
                if fields.get(1) == Some(&"ADD_FLD") {
                    let n = parse_usize(fields.get(2).copied(), lineno, "added field count")?;
                    // Every added field takes at least two bytes of every
                    // point line, so a count beyond that is damage.
                    if n > MAX_ADDED_FIELDS.min(bytes.len() / 2) {
                        return Err(line_error(
                            lineno,
                            format!(
                                "ADD_FLD declares {n} added fields; a file of {} bytes holds at most {}, and pst \
                                 reads at most {MAX_ADDED_FIELDS}",
                                bytes.len(),
                                bytes.len() / 2
                            ),
                        ));
                    }
                    let flag_text = fields.get(4).map_or("&", |s| s).trim_start_matches('&');
                    flags = (0..n).map(|k| flag_text.as_bytes().get(k) == Some(&b'1')).collect();
                }
                break;
            }
        }
        let Some(expected_tracks) = expected_tracks else {
            return Err(Error::Format("no TRACK_NUM line: not a TRACK file".into()));
        };
        let mut names = vec![name.clone()];
        for (k, &has_position) in flags.iter().enumerate() {
            if has_position {
                names.push(format!("field{}_lon", k + 1));
                names.push(format!("field{}_lat", k + 1));
            }
            names.push(format!("field{}", k + 1));
        }
        let mut builder = TracksBuilder::new(names.clone());
        builder.metadata(TracksMetadata { variable: Some(name), ..Default::default() });
        let mut values = vec![0.0; names.len()];
        let mut count = 0usize;
        while let Some((lineno, line)) = lines.next() {
            let Some(rest) = line.strip_prefix("TRACK_ID") else {
                return Err(line_error(lineno, format!("expected TRACK_ID, found `{line}`")));
            };
            let id: u64 = parse_usize(rest.split_whitespace().next(), lineno, "track id")? as u64;
            let (pl, point_line) = lines.next().ok_or_else(|| line_error(lineno, "TRACK_ID without POINT_NUM"))?;
            let n = parse_usize(
                point_line.strip_prefix("POINT_NUM").and_then(|r| r.split_whitespace().next()),
                pl,
                "POINT_NUM",
            )?;
            builder.begin_track(id);
            for _ in 0..n {
                let (lineno, line) =
                    lines.next().ok_or_else(|| line_error(pl, format!("track {id} ends before its {n} points")))?;
                let fields: Vec<&str> =
                    line.split(|c: char| c.is_whitespace() || c == '&').filter(|s| !s.is_empty()).collect();
                if fields.len() != 3 + names.len() {
                    return Err(line_error(
                        lineno,
                        format!("expected {} fields, found {}", 3 + names.len(), fields.len()),
                    ));
                }
                let time: Timestamp = match fields[0].len() {
                    10 => fields[0].parse().map_err(|e| line_error(lineno, e))?,
                    _ => {
                        return Err(line_error(
                            lineno,
                            format!("time `{}` is a frame number, not a YYYYMMDDHH date", fields[0]),
                        ));
                    }
                };
                let lon: f64 = parse_f64(fields[1], lineno)?;
                let lat: f64 = parse_f64(fields[2], lineno)?;
                for (slot, field) in values.iter_mut().zip(&fields[3..]) {
                    *slot = parse_f64(field, lineno)?;
                }
                builder.push(time, lat, lon, &values).map_err(|e| line_error(lineno, e))?;
            }
            builder.end_track()?;
            count += 1;
        }
        if count != expected_tracks {
            return Err(Error::Format(format!("TRACK_NUM says {expected_tracks} tracks but the file has {count}")));
        }
        builder.finish()
    }
}

fn parse_usize(field: Option<&str>, line: usize, what: &str) -> Result<usize> {
    field.and_then(|f| f.parse().ok()).ok_or_else(|| line_error(line, format!("cannot read the {what}")))
}

fn parse_f64(field: &str, line: usize) -> Result<f64> {
    field.parse().map_err(|_| line_error(line, format!("`{field}` is not a number")))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn c_style_exponents() {
        assert_eq!(c_exp(99587.12), "9.958712e+04");
        assert_eq!(c_exp(2.258853e-5), "2.258853e-05");
        assert_eq!(c_exp(-1.5e-120), "-1.500000e-120");
        assert_eq!(c_exp(0.0), "0.000000e+00");
    }

    #[test]
    fn frame_numbers_are_rejected() {
        let text = "0\n0 0\nTRACK_NUM 1 ADD_FLD 0 0 &\nTRACK_ID 1\nPOINT_NUM 1\n17 10.0 20.0 1.0\n";
        let e = TrackAscii::default().read_tracks(text.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("frame number"), "{e}");
    }
}
