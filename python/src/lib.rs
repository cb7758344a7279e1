//! # `pst._pst`: the extension module of the `pst-storm` Python package
//!
//! A thin layer over the `pst` library: options go into
//! [`pst::TrackOptions`] (the command line's, by keyword), runs go through
//! [`pst::Pipeline`], tracks come back as [`pst::Tracks`]. Nothing here
//! tracks, reads or writes on its own; the Python package (`python/pst`)
//! adds xarray, pandas and Dask around it.
//!
//! Runs release the GIL: the work happens on a thread of its own while the
//! calling thread waits without the GIL, checking every 50 ms for Ctrl-C
//! (which stops the run at the next frame and raises `KeyboardInterrupt`).
//! Frames of an array given from Python are read by calling back into
//! Python, one frame at a time.

use std::io::Write as _;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use numpy::ndarray::Array2;
use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyFileNotFoundError, PyKeyboardInterrupt, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use pst::{
    Calendar, CancelFlag, DetectedSlab, Error, Event, FieldSource, Frame, Grid, MemorySink, OptionSpelling,
    OptionValue, Pipeline, Progress, Reporter, SourceInfo, Timestamp, TrackFormat, TrackOptions, Tracks, TracksColumns,
    Variable,
};

/// A pst error as the Python exception that fits: `FileNotFoundError` and
/// `OSError` for files, `KeyboardInterrupt` for a cancelled run,
/// `ValueError` for bad input and settings, with pst's message.
fn py_error(error: &Error) -> PyErr {
    let message = error.to_string();
    match error.root() {
        Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        Error::Io(_) => PyOSError::new_err(message),
        Error::Cancelled => PyKeyboardInterrupt::new_err(message),
        // A reading library's failure: a damaged or unreadable file.
        Error::Backend { .. } => PyOSError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// A Python value as a [`TrackOptions`] value (`None`: not given).
fn option_value(value: &Bound<'_, PyAny>) -> PyResult<Option<OptionValue>> {
    let text = |v: &Bound<'_, PyAny>| -> PyResult<String> {
        if v.hasattr("__fspath__")? {
            return v.call_method0("__fspath__")?.extract();
        }
        Ok(v.str()?.to_string())
    };
    Ok(Some(if value.is_none() {
        return Ok(None);
    } else if value.is_instance_of::<PyBool>() {
        OptionValue::Bool(value.extract()?)
    } else if value.is_instance_of::<PyInt>() {
        OptionValue::Int(value.extract()?)
    } else if value.is_instance_of::<PyFloat>() {
        OptionValue::Float(value.extract()?)
    } else if value.is_instance_of::<PyString>() {
        OptionValue::Text(value.extract()?)
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        OptionValue::List(value.try_iter()?.map(|v| text(&v?)).collect::<PyResult<_>>()?)
    } else {
        OptionValue::Text(text(value)?)
    }))
}

/// Keyword options as [`TrackOptions`], errors naming them as keywords.
fn track_options(options: Option<&Bound<'_, PyDict>>) -> PyResult<TrackOptions> {
    let mut track = TrackOptions::default();
    track.spelling = OptionSpelling::Keyword;
    if let Some(options) = options {
        for (name, value) in options.iter() {
            let name: String = name.extract()?;
            if let Some(value) = option_value(&value)? {
                track.set(&name, value).map_err(|e| py_error(&e))?;
            }
        }
    }
    Ok(track)
}

/// Frames of an array held by Python: `read(i)` returns frame `i` as a
/// 2-D float32 or float64 array (latitude, longitude), on the grid of
/// `info`.
struct PythonFrames {
    info: SourceInfo,
    read: Py<PyAny>,
    /// The first exception a read raised, raised again after the run.
    failure: Arc<Mutex<Option<PyErr>>>,
}

impl FieldSource for PythonFrames {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> pst::Result<Frame> {
        let time = self.info.frame_time(index)?;
        let shape = self.info.grid.shape();
        let values = Python::attach(|py| -> PyResult<Array2<f64>> {
            let frame = self.read.call1(py, (index,))?;
            // Single precision (ERA5's) widens exactly as it is copied: one
            // pass, no float64 array made in Python.
            let values = if let Ok(array) = frame.extract::<PyReadonlyArray2<'_, f32>>(py) {
                array.as_array().mapv(f64::from)
            } else {
                frame.extract::<PyReadonlyArray2<'_, f64>>(py)?.as_array().to_owned()
            };
            if values.dim() != shape {
                return Err(PyValueError::new_err(format!(
                    "{}: frame {index} has shape {:?}, not the grid's ({}, {})",
                    self.info.origin,
                    values.dim(),
                    shape.0,
                    shape.1
                )));
            }
            Ok(values)
        });
        match values {
            Ok(values) => Frame::new(Arc::clone(&self.info.grid), time, values),
            Err(error) => {
                let message = Python::attach(|py| error.value(py).to_string());
                let mut failure = self.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                failure.get_or_insert(error);
                Err(Error::Format(format!("{}: reading frame {index}: {message}", self.info.origin)))
            }
        }
    }
}

/// The gridded input of a run, as the Python package describes it.
#[pyclass(module = "pst._pst", frozen)]
struct ArrayInput {
    info: SourceInfo,
    read: Py<PyAny>,
}

#[pymethods]
impl ArrayInput {
    /// An array given from Python: its variable and units, latitudes and
    /// longitudes (degrees, in the array's order), times as ISO 8601 text
    /// in `calendar`, and `read(i)` returning frame `i` as a 2-D float64
    /// array; `origin` describes it in messages.
    #[new]
    #[pyo3(signature = (variable, lats, lons, times, read, units=None, long_name=None, calendar="standard", origin=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        variable: String,
        lats: PyReadonlyArray1<'_, f64>,
        lons: PyReadonlyArray1<'_, f64>,
        times: Vec<String>,
        read: Py<PyAny>,
        units: Option<String>,
        long_name: Option<String>,
        calendar: &str,
        origin: Option<String>,
    ) -> PyResult<Self> {
        let origin = origin.unwrap_or_else(|| format!("array `{variable}`"));
        let in_origin = |e: Error| PyValueError::new_err(format!("{origin}: {}", e.root()));
        let grid = Grid::new(lats.as_array().to_vec(), lons.as_array().to_vec()).map_err(in_origin)?;
        let calendar: Calendar = calendar.parse().map_err(in_origin)?;
        let times = times.iter().map(|t| t.parse::<Timestamp>()).collect::<pst::Result<Vec<_>>>().map_err(in_origin)?;
        if let Some(k) = times.windows(2).position(|w| w[0] >= w[1]) {
            return Err(PyValueError::new_err(format!(
                "{origin}: times must increase, but {} follows {}",
                times[k + 1],
                times[k]
            )));
        }
        let info = SourceInfo { variable, units, long_name, grid: Arc::new(grid), times, calendar, origin };
        Ok(ArrayInput { info, read })
    }

    /// The number of frames.
    fn __len__(&self) -> usize {
        self.info.times.len()
    }
}

impl ArrayInput {
    fn source(&self, py: Python<'_>, failure: &Arc<Mutex<Option<PyErr>>>) -> PythonFrames {
        PythonFrames { info: self.info.clone(), read: self.read.clone_ref(py), failure: Arc::clone(failure) }
    }
}

/// Progress to standard error when asked, warnings kept for Python, and a
/// cancel flag Ctrl-C sets.
struct PyReporter {
    cancel: CancelFlag,
    progress: bool,
    stage: Mutex<(String, Option<u64>)>,
    shown: AtomicU64,
    warnings: Mutex<Vec<String>>,
}

impl PyReporter {
    fn new(progress: bool) -> Self {
        PyReporter {
            cancel: CancelFlag::default(),
            progress,
            stage: Mutex::new((String::new(), None)),
            shown: AtomicU64::new(0),
            warnings: Mutex::new(Vec::new()),
        }
    }
}

impl Progress for PyReporter {
    fn stage(&self, name: &str, total: Option<u64>) {
        if self.progress {
            *self.stage.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = (name.to_string(), total);
            self.shown.store(0, Ordering::Relaxed);
        }
    }

    fn done(&self, completed: u64) {
        if !self.progress {
            return;
        }
        let stage = self.stage.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let step = stage.1.map_or(1, |t| (t / 50).max(1));
        if completed >= self.shown.load(Ordering::Relaxed) + step || Some(completed) == stage.1 {
            self.shown.store(completed, Ordering::Relaxed);
            let total = stage.1.map(|t| format!("/{t}")).unwrap_or_default();
            let end = if Some(completed) == stage.1 { "\n" } else { "" };
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}: {completed}{total}{end}", stage.0);
            let _ = err.flush();
        }
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.is_set()
    }
}

impl Reporter for PyReporter {
    fn event(&self, event: &Event<'_>) {
        if let Event::Warning(warning) = event {
            self.warnings.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(warning.to_string());
        }
    }
}

/// Runs `work` on a thread of its own without the GIL, stopping it when
/// Python is interrupted (Ctrl-C); then gives Python the warnings the run
/// reported and raises what a Python reader raised, else pst's error.
fn run_detached<T: Send>(
    py: Python<'_>,
    reporter: &PyReporter,
    failure: &Arc<Mutex<Option<PyErr>>>,
    work: impl FnOnce(&PyReporter) -> pst::Result<T> + Send,
) -> PyResult<T> {
    let (result, interrupted) = py.detach(|| {
        std::thread::scope(|scope| {
            let (done, finished) = std::sync::mpsc::channel::<()>();
            let handle = scope.spawn(move || {
                let result = work(reporter);
                let _ = done.send(());
                result
            });
            let mut interrupted = None;
            // Wake at once when the run ends; between, every 50 ms, look
            // for Ctrl-C (only the main thread sees signals).
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(Duration::from_millis(50))
            {
                if interrupted.is_none()
                    && let Err(error) = Python::attach(|py| py.check_signals())
                {
                    reporter.cancel.cancel();
                    interrupted = Some(error);
                }
            }
            let result = handle.join().unwrap_or_else(|_| Err(Error::Unsupported("the run panicked".into())));
            (result, interrupted)
        })
    });
    let warnings = std::mem::take(&mut *reporter.warnings.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    if !warnings.is_empty() {
        let warn = py.import("warnings")?.getattr("warn")?;
        for warning in warnings {
            warn.call1((warning, py.get_type::<pyo3::exceptions::PyUserWarning>(), 3))?;
        }
    }
    if let Some(error) = interrupted {
        return Err(error);
    }
    if let Some(error) = failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
        return Err(error);
    }
    result.map_err(|e| py_error(&e))
}

/// The pipeline of `options` reading `inputs` (paths) or `array`.
fn pipeline(
    py: Python<'_>,
    options: Option<&Bound<'_, PyDict>>,
    array: Option<&ArrayInput>,
    failure: &Arc<Mutex<Option<PyErr>>>,
) -> PyResult<Pipeline> {
    let options = track_options(options)?;
    let mut builder = options.pipeline_builder().map_err(|e| py_error(&e))?;
    if let Some(array) = array {
        if !options.input.is_empty() {
            return Err(PyValueError::new_err("give input files or an array, not both"));
        }
        builder = builder.source(Arc::new(array.source(py, failure)));
    }
    builder.build().map_err(|e| py_error(&e))
}

/// Tracks every member of the input of `options` (the `input` option: paths,
/// globs, `@lists`) or of `array`, with the keyword options of
/// `stormtracker track`; `progress` prints progress to standard error.
#[pyfunction]
#[pyo3(signature = (options, array=None, progress=false))]
fn track(
    py: Python<'_>,
    options: Option<&Bound<'_, PyDict>>,
    array: Option<PyRef<'_, ArrayInput>>,
    progress: bool,
) -> PyResult<PyTracks> {
    let failure = Arc::new(Mutex::new(None));
    let pipeline = pipeline(py, options, array.as_deref(), &failure)?;
    let reporter = PyReporter::new(progress);
    let tracks = run_detached(py, &reporter, &failure, |reporter| {
        let mut sink = MemorySink::default();
        pipeline.track_into(&mut sink, reporter)?;
        sink.into_tracks()
    })?;
    Ok(PyTracks { tracks })
}

/// The number of frames the run of `options` tracks (one series: after
/// the time window and the frame limit).
#[pyfunction]
#[pyo3(signature = (options, array=None))]
fn frame_count(
    py: Python<'_>,
    options: Option<&Bound<'_, PyDict>>,
    array: Option<PyRef<'_, ArrayInput>>,
) -> PyResult<usize> {
    let failure = Arc::new(Mutex::new(None));
    let pipeline = pipeline(py, options, array.as_deref(), &failure)?;
    let reporter = PyReporter::new(false);
    run_detached(py, &reporter, &failure, |reporter| pipeline.frame_count(reporter))
}

/// The frames `(start, end)` of the independent parts of the run's link
/// (the Hodges linker's MGE segments), in order; empty when the link does
/// not split (Simple, or one segment).
#[pyfunction]
#[pyo3(signature = (options))]
fn link_parts(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(usize, usize)>> {
    let failure = Arc::new(Mutex::new(None));
    let pipeline = pipeline(py, options, None, &failure)?;
    let reporter = PyReporter::new(false);
    let parts = run_detached(py, &reporter, &failure, |reporter| pipeline.link_parts(reporter))?;
    Ok(parts.into_iter().map(|p| (p.start, p.end)).collect())
}

/// Detects the frames of parts `first..end` of the run's link
/// ([`link_parts`]) and links those parts: bytes to hand to [`link`] with
/// the other groups' (consecutive groups hold every frame once).
#[pyfunction]
#[pyo3(signature = (options, first, end))]
fn detect_and_link(
    py: Python<'_>,
    options: Option<&Bound<'_, PyDict>>,
    first: usize,
    end: usize,
) -> PyResult<Py<PyBytes>> {
    let failure = Arc::new(Mutex::new(None));
    let pipeline = pipeline(py, options, None, &failure)?;
    let reporter = PyReporter::new(false);
    let slab = run_detached(py, &reporter, &failure, |reporter| pipeline.detect_and_link_parts(first..end, reporter))?;
    Ok(PyBytes::new(py, slab.as_bytes()).unbind())
}

/// Detects the centres of frames `start..end` of the run of `options`
/// (an array given covers just those frames when `offset` says where they
/// start): bytes to hand to [`link`] with the other slabs.
#[pyfunction]
#[pyo3(signature = (options, start, end, array=None, offset=0))]
fn detect(
    py: Python<'_>,
    options: Option<&Bound<'_, PyDict>>,
    start: usize,
    end: usize,
    array: Option<PyRef<'_, ArrayInput>>,
    offset: usize,
) -> PyResult<Py<PyBytes>> {
    let failure = Arc::new(Mutex::new(None));
    let pipeline = pipeline(py, options, array.as_deref(), &failure)?;
    let reporter = PyReporter::new(false);
    let range: Range<usize> = start.saturating_sub(offset)..end.saturating_sub(offset);
    let slab = run_detached(py, &reporter, &failure, |reporter| pipeline.detect_slab(range, offset, reporter))?;
    Ok(PyBytes::new(py, slab.as_bytes()).unbind())
}

/// Links the slabs [`detect`] gave (every frame of the run, in order) into
/// the tracks of the run of `options`: the serial run's, exactly.
#[pyfunction]
#[pyo3(signature = (options, slabs, array=None))]
fn link(
    py: Python<'_>,
    options: Option<&Bound<'_, PyDict>>,
    slabs: Vec<Vec<u8>>,
    array: Option<PyRef<'_, ArrayInput>>,
) -> PyResult<PyTracks> {
    let failure = Arc::new(Mutex::new(None));
    let pipeline = pipeline(py, options, array.as_deref(), &failure)?;
    let reporter = PyReporter::new(false);
    let slabs: Vec<DetectedSlab> = slabs.into_iter().map(DetectedSlab::from_bytes).collect();
    let tracks = run_detached(py, &reporter, &failure, |reporter| {
        let mut sink = MemorySink::default();
        pipeline.link_slabs(&slabs, &mut sink, reporter)?;
        sink.into_tracks()
    })?;
    Ok(PyTracks { tracks })
}

/// Tracks: columns of points, track after track.
#[pyclass(name = "Tracks", module = "pst._pst", frozen)]
struct PyTracks {
    tracks: Tracks,
}

#[pymethods]
impl PyTracks {
    /// The number of tracks.
    fn __len__(&self) -> usize {
        self.tracks.len()
    }

    /// The number of points of all tracks.
    #[getter]
    fn num_points(&self) -> usize {
        self.tracks.num_points()
    }

    /// Each track's id.
    fn ids<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        PyArray1::from_slice(py, self.tracks.ids())
    }

    /// Where each track starts in the point columns, and the end.
    fn offsets<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        let offsets: Vec<u64> = self.tracks.offsets().iter().map(|&o| o as u64).collect();
        PyArray1::from_vec(py, offsets)
    }

    /// Latitudes, degrees north.
    fn lats<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.tracks.lats())
    }

    /// Longitudes, degrees east.
    fn lons<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.tracks.lons())
    }

    /// Times as milliseconds since 1970-01-01 in the tracks' calendar.
    fn times_ms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let calendar = self.tracks.metadata().calendar;
        let millis = self
            .tracks
            .times()
            .iter()
            .map(|&t| calendar.to_millis(t))
            .collect::<pst::Result<Vec<_>>>()
            .map_err(|e| py_error(&e))?;
        Ok(PyArray1::from_vec(py, millis))
    }

    /// Times as ISO 8601 text.
    fn times_iso(&self) -> Vec<String> {
        self.tracks.times().iter().map(ToString::to_string).collect()
    }

    /// The CF name of the calendar.
    #[getter]
    fn calendar(&self) -> &'static str {
        self.tracks.metadata().calendar.cf_name()
    }

    /// The names of the value columns, the tracked variable first.
    fn variable_names(&self) -> Vec<String> {
        self.tracks.variable_names().map(String::from).collect()
    }

    /// A value column.
    fn variable<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyArray1<f64>>> {
        match self.tracks.variable(name) {
            Some(values) => Ok(PyArray1::from_slice(py, values)),
            None => Err(PyValueError::new_err(format!(
                "no column `{name}`; the tracks have {}",
                self.tracks.variable_names().collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// A value column's units, if known.
    fn units(&self, name: &str) -> Option<String> {
        self.tracks.variables().iter().find(|v| v.name == name).and_then(|v| v.units.clone())
    }

    /// What the tracks are: variable, detection mode, algorithm, the
    /// tracker's attributes and the processing, as a dict.
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let meta = self.tracks.metadata();
        let dict = PyDict::new(py);
        dict.set_item("calendar", meta.calendar.cf_name())?;
        dict.set_item("variable", meta.variable.clone())?;
        dict.set_item("detection_mode", meta.detection_mode.map(|m| m.as_str()))?;
        dict.set_item("algorithm", meta.algorithm.clone())?;
        dict.set_item("attributes", meta.attributes.clone())?;
        let processing = PyList::empty(py);
        for step in &meta.processing {
            let item = PyDict::new(py);
            item.set_item("operation", &step.operation)?;
            for (name, value) in &step.parameters {
                item.set_item(name, value)?;
            }
            processing.append(item)?;
        }
        dict.set_item("processing", processing)?;
        Ok(dict)
    }

    /// Writes the tracks to `path` in `format` (default: from the name),
    /// atomically; returns the format's name.
    #[pyo3(signature = (path, format=None))]
    fn write(&self, py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<String> {
        let format = format.map(str::parse::<TrackFormat>).transpose().map_err(|e| py_error(&e))?;
        py.detach(|| pst::write_tracks(&path, &self.tracks, format)).map(|f| f.to_string()).map_err(|e| py_error(&e))
    }

    /// The tracks the track filters keep (`min_duration`, `min_endpoint_dist`,
    /// `min_path_dist`, `track_threshold`, `track_region`, as
    /// `stormtracker track` takes them).
    #[pyo3(signature = (**filters))]
    fn filter(&self, filters: Option<&Bound<'_, PyDict>>) -> PyResult<PyTracks> {
        let options = track_options(filters)?;
        let filter = options.track_filter().map_err(|e| py_error(&e))?;
        Ok(PyTracks { tracks: filter.apply(&self.tracks).map_err(|e| py_error(&e))? })
    }

    /// The tracks of which `keep[k]` is true.
    fn select(&self, keep: PyReadonlyArray1<'_, bool>) -> PyResult<PyTracks> {
        let keep = keep.as_array();
        if keep.len() != self.tracks.len() {
            return Err(PyValueError::new_err(format!(
                "select takes one flag per track ({}), not {}",
                self.tracks.len(),
                keep.len()
            )));
        }
        Ok(PyTracks { tracks: self.tracks.filter(|t| keep[t.index()]) })
    }

    /// Tracks from columns of points: each point's track id (a track's
    /// points together, in time order), ISO 8601 times in `calendar`,
    /// latitudes, longitudes, and value columns `(name, units, values)`,
    /// the tracked variable first.
    #[staticmethod]
    #[pyo3(signature = (track_ids, times, lats, lons, variables, calendar="standard", variable=None, algorithm=None))]
    #[allow(clippy::too_many_arguments)]
    fn from_columns(
        track_ids: PyReadonlyArray1<'_, i64>,
        times: Vec<String>,
        lats: PyReadonlyArray1<'_, f64>,
        lons: PyReadonlyArray1<'_, f64>,
        variables: Vec<(String, Option<String>, PyReadonlyArray1<'_, f64>)>,
        calendar: &str,
        variable: Option<String>,
        algorithm: Option<String>,
    ) -> PyResult<PyTracks> {
        let bad = |e: Error| py_error(&e);
        let ids_per_point = track_ids.as_array();
        let n = ids_per_point.len();
        let mut ids = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut offsets = vec![0];
        for (k, &id) in ids_per_point.iter().enumerate() {
            let id = u64::try_from(id).map_err(|_| PyValueError::new_err(format!("track id {id} is negative")))?;
            if k > 0 && ids.last() != Some(&id) {
                offsets.push(k);
            }
            if ids.last() != Some(&id) {
                if !seen.insert(id) {
                    return Err(PyValueError::new_err(format!(
                        "the points of track {id} are not together: sort the points by track, then time"
                    )));
                }
                ids.push(id);
            }
        }
        if n > 0 {
            offsets.push(n);
        }
        let metadata = pst::TracksMetadata {
            calendar: calendar.parse().map_err(bad)?,
            variable: variable.or_else(|| variables.first().map(|v| v.0.clone())),
            algorithm,
            ..Default::default()
        };
        let times = times.iter().map(|t| t.parse::<Timestamp>()).collect::<pst::Result<Vec<_>>>().map_err(bad)?;
        let variables = variables
            .into_iter()
            .map(|(name, units, values)| Variable { name, units, values: values.as_array().to_vec() })
            .collect();
        let columns = TracksColumns {
            ids,
            offsets,
            times,
            lats: lats.as_array().to_vec(),
            lons: lons.as_array().to_vec(),
            variables,
            metadata,
        };
        Ok(PyTracks { tracks: Tracks::from_columns(columns).map_err(bad)? })
    }
}

/// Reads tracks from `path` in `format` (default: sniffed from the
/// content and name).
#[pyfunction]
#[pyo3(signature = (path, format=None))]
fn read_tracks(py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<PyTracks> {
    let format = format.map(str::parse::<TrackFormat>).transpose().map_err(|e| py_error(&e))?;
    let tracks = py.detach(|| pst::read_tracks(&path, format)).map_err(|e| py_error(&e))?;
    Ok(PyTracks { tracks })
}

/// Compares `candidate` with `reference` tracks; the report as JSON (the
/// text `stormtracker compare --json` prints).
#[pyfunction]
#[pyo3(signature = (reference, candidate, matching=None, max_mean_separation=None, min_overlap=None, detection_mode=None))]
fn compare_tracks(
    py: Python<'_>,
    reference: PyRef<'_, PyTracks>,
    candidate: PyRef<'_, PyTracks>,
    matching: Option<&str>,
    max_mean_separation: Option<f64>,
    min_overlap: Option<f64>,
    detection_mode: Option<&str>,
) -> PyResult<String> {
    let bad = |e: Error| py_error(&e);
    let mut config = pst::CompareConfig::default();
    if let Some(matching) = matching {
        config = config.matching(matching.parse().map_err(bad)?);
    }
    if let Some(degrees) = max_mean_separation {
        config = config.max_mean_separation_deg(degrees);
    }
    if let Some(fraction) = min_overlap {
        config = config.min_overlap_fraction(fraction);
    }
    if let Some(mode) = detection_mode {
        config.mode = Some(mode.parse().map_err(bad)?);
    }
    let (reference, candidate) = (&reference.tracks, &candidate.tracks);
    let comparison = py.detach(|| pst::compare_tracks(reference, candidate, &config)).map_err(bad)?;
    serde_json::to_string_pretty(&comparison.report()).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Samples `variable` at every point of `tracks` by `method` (`nearest`,
/// `bilinear`, `mean`, `max`, `min`; the last three within `radius_km`)
/// from the files `inputs` or from `array`, into a new column `name`
/// (default: after the variable, and the method when the tracks have the
/// variable already). Returns the tracks with the column, and the points,
/// those sampled at another time than their own (the nearest frame), and
/// those without a value.
#[pyfunction]
#[pyo3(signature = (tracks, variable, method="nearest", radius_km=0.0, name=None, inputs=None, array=None, level=None))]
#[allow(clippy::too_many_arguments)]
fn sample_tracks(
    py: Python<'_>,
    tracks: PyRef<'_, PyTracks>,
    variable: String,
    method: &str,
    radius_km: f64,
    name: Option<String>,
    inputs: Option<Vec<String>>,
    array: Option<PyRef<'_, ArrayInput>>,
    level: Option<f64>,
) -> PyResult<(PyTracks, (usize, usize, usize))> {
    let bad = |e: Error| py_error(&e);
    let method = pst::SampleMethod::named(method, radius_km).map_err(bad)?;
    let mut sampled = tracks.tracks.clone();
    let name = name.unwrap_or_else(|| pst::sample_column_name(&sampled, &variable, method.name()));
    let failure = Arc::new(Mutex::new(None));
    let array: Option<Box<dyn FieldSource>> = match (&inputs, array) {
        (Some(_), None) => None,
        (None, Some(array)) => Some(Box::new(array.source(py, &failure))),
        _ => return Err(PyValueError::new_err("sample from input files or an array: give one")),
    };
    let reporter = PyReporter::new(false);
    // Files are opened without the GIL too: remote ones may take a while.
    let report = run_detached(py, &reporter, &failure, |_| {
        let source = match array {
            Some(source) => source,
            None => {
                let (paths, missing) = pst::expand_inputs(&inputs.unwrap_or_default())?;
                if let Some(path) = missing.first() {
                    return Err(Error::Io(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("{}: no such data file", path.display()),
                    )));
                }
                let mut open = pst::OpenOptions::default();
                open.level = level;
                pst::open_series(&paths, &variable, &open)?.0
            }
        };
        pst::sample_tracks(&mut sampled, source.as_ref(), method, &name)
    })?;
    Ok((PyTracks { tracks: sampled }, (report.points, report.off_frame, report.missing)))
}

/// The options `track` takes, named as `stormtracker track`'s flags.
#[pyfunction]
fn option_names() -> Vec<&'static str> {
    TrackOptions::NAMES.to_vec()
}

/// The track formats: (name, title, file extensions).
#[pyfunction]
fn track_formats() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    pst::FORMATS.iter().map(|f| (f.name, f.title, f.extensions.to_vec())).collect()
}

/// pst's storm trackers, for the Python package `pst`.
#[pymodule]
fn _pst(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<PyTracks>()?;
    module.add_class::<ArrayInput>()?;
    module.add_function(wrap_pyfunction!(track, module)?)?;
    module.add_function(wrap_pyfunction!(frame_count, module)?)?;
    module.add_function(wrap_pyfunction!(detect, module)?)?;
    module.add_function(wrap_pyfunction!(link_parts, module)?)?;
    module.add_function(wrap_pyfunction!(detect_and_link, module)?)?;
    module.add_function(wrap_pyfunction!(link, module)?)?;
    module.add_function(wrap_pyfunction!(read_tracks, module)?)?;
    module.add_function(wrap_pyfunction!(compare_tracks, module)?)?;
    module.add_function(wrap_pyfunction!(sample_tracks, module)?)?;
    module.add_function(wrap_pyfunction!(option_names, module)?)?;
    module.add_function(wrap_pyfunction!(track_formats, module)?)?;
    Ok(())
}
