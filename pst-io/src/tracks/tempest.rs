//! TempestExtremes StitchNodes text tracks (GFDL style).

use std::io::Write;

use pst_core::{
    Error, Result, Timestamp, TrackReader, TrackWriter, Tracks, TracksBuilder, TracksMetadata, normalize_lon_360,
};

use super::fixed::Fixed;
use super::{grid_index, line_error, written_variables};

/// TempestExtremes' StitchNodes output in its default ("GFDL") text form:
///
/// ```text
/// start   33      1999    9       10      0
///         605     36      302.500000      18.000000       1.003906e+05    1.918985e+01    1999    9       10      0
/// ```
///
/// A `start` line gives a track's number of points and start date; each point
/// line holds the grid indices `i j`, longitude, latitude, the node's
/// variables and its date (`year month day hour`), tab-separated. The file
/// names neither tracks nor variables: tracks are numbered 1, 2, … and the
/// variables take the names in [`Tempest::variables`] (default `var1`,
/// `var2`, …); the grid indices are kept as variables `i` and `j`. The
/// writer writes `i` and `j` when the tracks carry them and 0 otherwise.
#[derive(Debug, Clone, Default)]
pub struct Tempest {
    /// Names of the node variables, in file order.
    pub variables: Vec<String>,
}

impl TrackWriter for Tempest {
    fn write_tracks(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        let names = written_variables(tracks, true);
        for track in tracks.iter() {
            let t0 = track.start_time();
            writeln!(out, "start\t{}\t{}\t{}\t{}\t{}", track.len(), t0.year(), t0.month(), t0.day(), t0.hour())?;
            let (gi, gj) = (track.variable("i"), track.variable("j"));
            for k in 0..track.len() {
                let t = track.times()[k];
                write!(
                    out,
                    "\t{}\t{}\t{}\t{}",
                    grid_index(gi, k),
                    grid_index(gj, k),
                    Fixed::new(normalize_lon_360(track.lons()[k]), 6),
                    Fixed::new(track.lats()[k], 6)
                )?;
                for name in &names {
                    let v = track.variable(name).map_or(f64::NAN, |v| v[k]);
                    write!(out, "\t{v:.6e}")?;
                }
                writeln!(out, "\t{}\t{}\t{}\t{}", t.year(), t.month(), t.day(), t.hour())?;
            }
        }
        Ok(())
    }
}

impl TrackReader for Tempest {
    fn read_tracks(&self, bytes: &[u8]) -> Result<Tracks> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Format(format!("not UTF-8 text: {e}")))?;
        let mut lines = text.lines().enumerate().map(|(k, l)| (k + 1, l)).filter(|(_, l)| !l.trim().is_empty());
        let mut builder: Option<TracksBuilder> = None;
        let mut nvars = None;
        let mut id = 0u64;
        while let Some((lineno, line)) = lines.next() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.first() != Some(&"start") || fields.len() < 2 {
                return Err(line_error(lineno, format!("expected `start <points> <date>`, found `{}`", line.trim())));
            }
            let n: usize = fields[1].parse().map_err(|_| line_error(lineno, "cannot read the point count"))?;
            id += 1;
            for _ in 0..n {
                let (lineno, line) =
                    lines.next().ok_or_else(|| line_error(lineno, format!("track {id} ends early")))?;
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() < 8 {
                    return Err(line_error(lineno, format!("a point needs at least 8 fields, found {}", f.len())));
                }
                let count = f.len() - 8;
                let b = match &mut builder {
                    Some(b) => b,
                    None => {
                        let mut names = vec!["i".to_string(), "j".to_string()];
                        names.extend(
                            (0..count)
                                .map(|k| self.variables.get(k).cloned().unwrap_or_else(|| format!("var{}", k + 1))),
                        );
                        let mut b = TracksBuilder::new(names);
                        b.metadata(TracksMetadata {
                            variable: Some(self.variables.first().cloned().unwrap_or_else(|| "var1".into())),
                            ..Default::default()
                        });
                        nvars = Some(count);
                        builder.insert(b)
                    }
                };
                if nvars != Some(count) {
                    return Err(line_error(
                        lineno,
                        format!("{count} variables where earlier points had {}", nvars.unwrap_or(0)),
                    ));
                }
                let num = |s: &str| s.parse::<f64>().map_err(|_| line_error(lineno, format!("`{s}` is not a number")));
                let date: Vec<u32> = f[f.len() - 4..]
                    .iter()
                    .map(|s| s.parse().map_err(|_| line_error(lineno, format!("`{s}` is not a date field"))))
                    .collect::<Result<_>>()?;
                let time = Timestamp::from_ymdh(date[0] as i32, date[1] as u8, date[2] as u8, date[3] as u8)
                    .map_err(|e| line_error(lineno, e))?;
                let mut values = vec![num(f[0])?, num(f[1])?];
                for s in &f[4..4 + count] {
                    values.push(num(s)?);
                }
                push_point(b, id, time, num(f[3])?, num(f[2])?, &values).map_err(|e| line_error(lineno, e))?;
            }
            if let Some(b) = &mut builder
                && n > 0
            {
                b.end_track()?;
            }
        }
        builder.map_or_else(|| Ok(Tracks::default()), TracksBuilder::finish)
    }
}

/// Pushes a point, opening track `id` at its first point.
fn push_point(b: &mut TracksBuilder, id: u64, time: Timestamp, lat: f64, lon: f64, values: &[f64]) -> Result<()> {
    if b.open_track() != Some(id) {
        b.begin_track(id);
    }
    b.push(time, lat, lon, values)
}
