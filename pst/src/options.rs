//! The options of a tracking run by name: what `stormtracker track`'s flags
//! and the Python package's keyword arguments both say, turned into a
//! [`Pipeline`] in one place.

use std::fmt;
use std::str::FromStr;

use crate::pipeline::{Pipeline, PipelineBuilder, TrackerChoice};
use crate::{
    Adaptive, Bounds, Candidates, ClosedContour, DEFAULT_STEREOGRAPHIC_SPACING_KM, DetectionCriteria, DetectionMode,
    DmaxZones, Error, FieldAttachment, FieldExpression, GridConnectivity, HealpixRefinement, HealpixTracker,
    Hemisphere, HodgesLinker, HodgesRefinement, HodgesTracker, MemberSelection, NearThreshold, OpenOptions, Refinement,
    Result, SampleMethod, SimpleLinker, SimpleTracker, SpectralFit, StereographicExtent, StereographicPlane,
    StitchLinker, Timestamp, TrackFilter, split_outside_parentheses,
};

/// The tracker a run uses, by name (`simple`, `hodges`, `healpix`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// PyStormTracker's Simple tracker ([`SimpleTracker`]).
    #[default]
    Simple,
    /// The Hodges (TRACK) tracker ([`HodgesTracker`]).
    Hodges,
    /// PyStormTracker's HEALPix tracker ([`HealpixTracker`]).
    Healpix,
}

impl Algorithm {
    /// `simple`, `hodges` or `healpix`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Simple => "simple",
            Algorithm::Hodges => "hodges",
            Algorithm::Healpix => "healpix",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "simple" => Ok(Algorithm::Simple),
            "hodges" => Ok(Algorithm::Hodges),
            "healpix" => Ok(Algorithm::Healpix),
            other => {
                Err(Error::InvalidArgument(format!("`{other}` is not a tracker; choose simple, hodges or healpix")))
            }
        }
    }
}

/// How errors name an option: as a command-line flag (`--dmax`) or as a
/// keyword argument (`dmax`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptionSpelling {
    /// `--object-threshold`, `-a hodges`.
    #[default]
    Flag,
    /// `object_threshold`, `algorithm="hodges"`.
    Keyword,
}

/// A value given to [`TrackOptions::set`]: what a keyword argument or a
/// flag can hold.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// A switch.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number.
    Float(f64),
    /// Text: a name, a duration (`24h`), comma-separated numbers.
    Text(String),
    /// Several values: a repeated flag, or the parts of a comma-separated
    /// one (`[20, 70, -80, 40]` for a region).
    List(Vec<String>),
}

impl OptionValue {
    fn describe(&self) -> String {
        match self {
            OptionValue::Bool(b) => b.to_string(),
            OptionValue::Int(i) => i.to_string(),
            OptionValue::Float(x) => x.to_string(),
            OptionValue::Text(t) => format!("`{t}`"),
            OptionValue::List(l) => format!("[{}]", l.join(", ")),
        }
    }
}

/// Declares [`TrackOptions`] from one list: each option's doc, name and
/// type, so the struct, [`TrackOptions::NAMES`] and
/// [`TrackOptions::set`] cannot drift apart.
macro_rules! track_options {
    ($(#[$attr:meta])* pub struct $options:ident { $($(#[$field_attr:meta])* $name:ident: $ty:ty,)+ }) => {
        $(#[$attr])*
        pub struct $options {
            /// How errors name options.
            pub spelling: OptionSpelling,
            $($(#[$field_attr])* pub $name: $ty,)+
        }

        impl $options {
            /// The names [`TrackOptions::set`] takes, in the order of the fields.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),+];

            /// Sets the option `name` from `value`; `false` when there is none.
            fn set_field(&mut self, name: &str, value: &Value<'_>) -> Result<bool> {
                match name {
                    $(stringify!($name) => self.$name = OptionField::from_value(value)?,)+
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
}

track_options! {
    /// Every option of a tracking run, named as `stormtracker track`'s flags
    /// (with `_` for `-`), unset ones taking the library's defaults. The
    /// command line and the Python package fill one of these, so both build
    /// the same [`Pipeline`] and refuse the same settings with the same words.
    ///
    /// ```
    /// use pst::{OptionValue, TrackOptions};
    /// # let input = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/era5_msl_2025-12_2.5x2.5.nc");
    /// let mut options = TrackOptions::default();
    /// options.set("input", OptionValue::Text(input.into()))?;
    /// options.set("variable", OptionValue::Text("msl".into()))?;
    /// options.set("algorithm", OptionValue::Text("hodges".into()))?;
    /// options.set("lmin", OptionValue::Int(5))?;
    /// options.set("lmax", OptionValue::Int(42))?;
    /// let pipeline = options.pipeline()?;
    /// assert_eq!(pipeline.tracker().name(), "hodges");
    /// // Options of the other tracker are refused, by name.
    /// options.set("search_window_size", OptionValue::Int(5))?;
    /// assert!(options.pipeline().unwrap_err().to_string().contains("--search-window-size"));
    /// # Ok::<(), pst::Error>(())
    /// ```
    #[derive(Debug, Clone, Default)]
    #[non_exhaustive]
    pub struct TrackOptions {
        /// Input files, globs and `@lists`, one series.
        input: Vec<String>,
        /// Listed files that do not exist are gaps in the series, not errors.
        allow_missing_inputs: bool,
        /// The variable tracked (`msl`, `vo`).
        variable: String,
        /// Vorticity from these winds, `U,V`.
        winds: Option<String>,
        /// The vertical level, in the level coordinate's units (850 for hPa).
        level: Option<f64>,
        /// Ensemble members to track.
        members: Option<MemberSelection>,
        /// The member dimension, when not one of the usual names.
        member_dim: Option<String>,
        /// CF time units for a time coordinate without them.
        time_units: Option<String>,
        /// The calendar for a time coordinate that names none.
        calendar: Option<String>,
        /// The first time tracked (ISO 8601 or `YYYYMMDDHH`), inclusive.
        start_time: Option<String>,
        /// The last time tracked, inclusive.
        end_time: Option<String>,
        /// Track only the first N frames.
        n_frames: Option<usize>,
        /// Band-pass: lowest total wavenumber kept.
        lmin: Option<usize>,
        /// Band-pass: highest total wavenumber kept.
        lmax: Option<usize>,
        /// Band-pass as TRACK's band boundaries, `B0,B1[,B2]`.
        track_bands: Option<String>,
        /// The band-pass taper's weight at `lmax`, in (0, 1].
        spectral_taper: Option<f64>,
        /// How the spectral coefficients are fitted.
        spectral_fit: SpectralFit,
        /// Track within `SOUTH,NORTH,WEST,EAST` (degrees).
        region: Option<String>,
        /// Fields sampled at the track points, `VAR:METHOD[:KM]`.
        sample: Vec<String>,
        /// Fields attached to the centres, `VAR,OP,DIST_DEG`.
        attach: Vec<String>,
        /// Files the detection criteria read other fields from.
        criteria_input: Vec<String>,
        /// Taper the field to zero over this many points at a region's edge.
        taper_points: usize,
        /// Drop tracks shorter than this (points, or a duration like `24h`).
        min_duration: Option<String>,
        /// Drop tracks whose ends are closer than this (degrees).
        min_endpoint_dist: Option<f64>,
        /// Drop tracks whose path is shorter than this (degrees).
        min_path_dist: Option<f64>,
        /// Keep tracks whose column passes a test at enough points,
        /// `COL,OP,VALUE,COUNT`.
        track_threshold: Vec<String>,
        /// Keep tracks that enter `LON0,LON1,LAT0,LAT1`.
        track_region: Option<String>,
        /// Closed-contour criteria, `VAR,DELTA,DIST_DEG[,MINMAXDIST_DEG]`.
        closed_contour: Vec<String>,
        /// Merge candidates closer than this (degrees).
        merge_dist: Option<f64>,
        /// Threshold criteria, `VAR,OP,VALUE,DIST_DEG`.
        threshold: Vec<String>,
        /// Simple: candidate extrema of a `window` or of grid `neighbours`.
        candidates: Option<String>,
        /// Criteria and neighbour candidates connect diagonally too.
        diag_connect: bool,
        /// The tracker.
        algorithm: Algorithm,
        /// Minima or maxima; by default from the variable.
        detection_mode: Option<DetectionMode>,
        /// Multiply the southern hemisphere by −1 (vorticity-like fields).
        cyclonic: bool,
        /// Simple: the threshold an extremum must pass.
        feature_threshold: Option<f64>,
        /// Simple: the extremum search window, grid points.
        search_window_size: Option<usize>,
        /// Simple: farthest link between frames, degrees of great circle.
        range: Option<f64>,
        /// Simple: `nearest` (PyStormTracker's) or `stitch` (TempestExtremes').
        linker: Option<String>,
        /// Simple: frames (or a time) a track may skip.
        max_gap: Option<String>,
        /// How extrema are refined below the grid.
        feature_refinement: Option<String>,
        /// Hodges: the object threshold.
        object_threshold: Option<f64>,
        /// Hodges: object connectivity, `edge` or `vertex`.
        connectivity: Option<String>,
        /// Hodges: tied extrema `exclude`d or `include`d.
        tied_extrema: Option<String>,
        /// Hodges: the B-spline search, `pystormtracker` or `track`.
        bspline_search: Option<String>,
        /// Hodges: drop objects of fewer grid points.
        min_object_grid_points: Option<usize>,
        /// Hodges: weight of the direction change in the MGE cost.
        w1: Option<f64>,
        /// Hodges: weight of the speed change in the MGE cost.
        w2: Option<f64>,
        /// Hodges: largest displacement between frames, degrees.
        dmax: Option<f64>,
        /// Hodges: smoothness limit and phantom cost.
        phimax: Option<f64>,
        /// Hodges: shortest track kept, points.
        min_track_points: Option<usize>,
        /// Hodges: rounds of exchange.
        mge_max_iterations: Option<usize>,
        /// Hodges: regional displacement limits.
        dmax_zones: Option<String>,
        /// Hodges: adaptive smoothness.
        adaptive_smoothness: Option<String>,
        /// Hodges: the time step when the times are irregular (`6h`).
        time_step: Option<String>,
        /// Hodges: MGE segment length, frames.
        segment_frames: Option<usize>,
        /// Hodges: link the whole series as one segment.
        no_segmentation: bool,
        /// Hodges: TRACK's optimisation scale of the B-spline search.
        track_smoopy_optimization_scale: Option<f64>,
        /// `global`, `nh_stereo` or `sh_stereo`.
        projection: Option<String>,
        /// Polar-stereographic grid spacing, km.
        stereo_grid_spacing_km: Option<f64>,
        /// Polar-stereographic extent `XMIN,XMAX,YMIN,YMAX`, km.
        extent: Option<String>,
        /// HEALPix: the resolution parameter.
        nside: Option<u64>,
        /// Worker threads.
        threads: Option<usize>,
        /// The command that started the run, for the provenance.
        command: Option<String>,
    }
}

impl TrackOptions {
    /// Sets option `name` (see [`TrackOptions::NAMES`]) to `value`. Text
    /// options take a list too, joined by commas (`region=[20, 70, -80,
    /// 40]`); `detection_mode` takes `auto` for the variable's default.
    ///
    /// # Errors
    /// Naming the option: an unknown name, or a value of the wrong kind or
    /// that does not parse.
    pub fn set(&mut self, name: &str, value: OptionValue) -> Result<()> {
        if name == "detection_mode" && value == OptionValue::Text("auto".into()) {
            self.detection_mode = None;
            return Ok(());
        }
        let value = Value { name: self.opt(name), value: &value };
        if self.set_field(name, &value)? {
            return Ok(());
        }
        Err(Error::InvalidArgument(format!(
            "`{name}` is not an option of a tracking run; the options are {}",
            Self::NAMES.join(", ")
        )))
    }

    /// The pipeline these options describe.
    ///
    /// # Errors
    /// Naming the first bad option (see [`TrackOptions::pipeline_builder`]).
    pub fn pipeline(&self) -> Result<Pipeline> {
        self.pipeline_builder()?.build()
    }

    /// A builder with every option set but the input when none is given
    /// (a caller's own [`PipelineBuilder::source`] then takes its place).
    ///
    /// # Errors
    /// Naming the option: values that do not parse, options of another
    /// tracker than [`TrackOptions::algorithm`], options that contradict
    /// each other.
    pub fn pipeline_builder(&self) -> Result<PipelineBuilder> {
        let mut open = OpenOptions::default();
        open.level = self.level;
        open.time_units.clone_from(&self.time_units);
        open.calendar.clone_from(&self.calendar);
        open.member_dim.clone_from(&self.member_dim);
        let mut builder = Pipeline::builder()
            .inputs(&self.input)
            .open_options(open)
            .members(self.members.clone().unwrap_or_default())
            .allow_missing_inputs(self.allow_missing_inputs)
            .tracker(self.tracker()?);
        if !self.variable.is_empty() {
            builder = builder.variable(&self.variable);
        }
        if let Some(command) = &self.command {
            builder = builder.command(command);
        }
        if let Some(winds) = &self.winds {
            match winds.split_once(',').map(|(u, v)| (u.trim(), v.trim())) {
                Some((u, v)) if !u.is_empty() && !v.is_empty() => builder = builder.winds(u, v),
                _ => {
                    return Err(self.invalid(format!(
                        "{} takes the eastward and northward wind variables as U,V (e.g. u,v), not `{winds}`",
                        self.opt("winds")
                    )));
                }
            }
        }
        if let Some((lmin, lmax)) = self.band()? {
            builder = builder.band_pass(lmin, lmax);
        }
        if let Some(taper) = self.spectral_taper {
            builder = builder.spectral_taper(taper);
        }
        builder = builder.spectral_fit(self.spectral_fit).cyclonic(self.cyclonic);
        if let Some(region) = &self.region {
            let [south, north, west, east] = self.four_numbers("region", "SOUTH,NORTH,WEST,EAST in degrees", region)?;
            builder = builder.region(Bounds::new(south, north, west, east).map_err(self.flag("region"))?);
        }
        if let Some(plane) = self.stereographic_plane()? {
            builder = builder.stereographic(plane);
        }
        builder = builder.edge_taper(self.taper_points);
        for spec in &self.sample {
            let Some((variable, method)) = spec.split_once(':') else {
                return Err(self.invalid(format!(
                    "{} takes VARIABLE:METHOD[:KM] (e.g. vo:max:300), not `{spec}`",
                    self.opt("sample")
                )));
            };
            let method: SampleMethod = method.parse().map_err(self.flag("sample"))?;
            let name = match method.radius_km() {
                Some(km) => format!("{variable}_{}_{km}km", method.name()),
                None => format!("{variable}_{}", method.name()),
            };
            builder = builder.sample(variable, method, name);
        }
        if !self.criteria_input.is_empty() {
            builder = builder.criteria_inputs(self.criteria_input.iter().cloned());
        }
        for spec in &self.attach {
            let attachment: FieldAttachment = spec.parse().map_err(self.flag("attach"))?;
            builder = builder.sample(attachment.variable, attachment.method, attachment.column);
        }
        let time = |name: &str, text: &Option<String>| -> Result<Option<Timestamp>> {
            text.as_deref().map(|t| t.parse::<Timestamp>().map_err(self.flag(name))).transpose()
        };
        let (start, end) = (time("start_time", &self.start_time)?, time("end_time", &self.end_time)?);
        if let (Some(start), Some(end)) = (start, end)
            && start > end
        {
            return Err(self.invalid(format!(
                "{} ({}) is after {} ({})",
                self.opt("start_time"),
                start.imilast(),
                self.opt("end_time"),
                end.imilast()
            )));
        }
        if start.is_some() || end.is_some() {
            builder = builder.time_range(start, end);
        }
        builder = builder.track_filter(self.track_filter()?);
        for (name, value) in [("threads", self.threads), ("n_frames", self.n_frames)] {
            if value == Some(0) {
                return Err(self.invalid(format!("{} must be at least 1, not 0", self.opt(name))));
            }
        }
        if let Some(threads) = self.threads {
            builder = builder.threads(threads);
        }
        if let Some(frames) = self.n_frames {
            builder = builder.max_frames(frames);
        }
        Ok(builder)
    }

    /// `name` as [`TrackOptions::spelling`] writes it.
    pub fn opt(&self, name: &str) -> String {
        match self.spelling {
            // The short flags PyStormTracker's messages name too.
            OptionSpelling::Flag if name == "projection" => "-p/--projection".into(),
            OptionSpelling::Flag if name == "stereo_grid_spacing_km" => "-r/--stereo-grid-spacing-km".into(),
            OptionSpelling::Flag => format!("--{}", name.replace('_', "-")),
            OptionSpelling::Keyword => name.to_string(),
        }
    }

    /// Option `name` set to `value`, as the spelling writes it
    /// (`-a hodges`, `algorithm="hodges"`).
    fn choice(&self, name: &str, value: &str) -> String {
        match (self.spelling, name) {
            (OptionSpelling::Flag, "algorithm") => format!("-a {value}"),
            (OptionSpelling::Flag, "projection") => format!("-p {value}"),
            (OptionSpelling::Flag, _) => format!("{} {value}", self.opt(name)),
            (OptionSpelling::Keyword, _) => format!("{name}=\"{value}\""),
        }
    }

    fn invalid(&self, message: String) -> Error {
        Error::InvalidArgument(message)
    }

    /// An error of the library about option `name`'s value, naming it.
    fn flag(&self, name: &str) -> impl Fn(Error) -> Error + use<> {
        let name = self.opt(name);
        move |e| Error::InvalidArgument(format!("{name}: {}", e.root()))
    }

    /// Several options' names, joined with `/` (an error about all).
    fn opts(&self, names: &[&str]) -> String {
        names.iter().map(|n| self.opt(n)).collect::<Vec<_>>().join("/")
    }

    /// The band-pass `lmin/lmax` or `track_bands` ask for.
    fn band(&self) -> Result<Option<(usize, usize)>> {
        match (self.lmin, self.lmax, &self.track_bands) {
            (Some(_), Some(_), Some(_)) => {
                return Err(self.invalid(format!(
                    "{} and {} give the band twice: give one",
                    self.opts(&["lmin", "lmax"]),
                    self.opt("track_bands")
                )));
            }
            (Some(lmin), Some(lmax), None) => return Ok(Some((lmin, lmax))),
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(self.invalid(format!(
                    "{} and {} bound the band-pass together: give both",
                    self.opt("lmin"),
                    self.opt("lmax")
                )));
            }
            (None, None, _) => {}
        }
        let Some(text) = &self.track_bands else { return Ok(None) };
        let boundaries = text
            .split(',')
            .map(|b| b.trim().parse::<usize>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .ok()
            .filter(|b| (2..=3).contains(&b.len()) && b.windows(2).all(|w| w[0] < w[1]));
        match boundaries.as_deref() {
            // TRACK's band i runs from boundary i (exclusive after the first
            // band) to boundary i + 1.
            Some(&[first, last]) => Ok(Some((first, last))),
            Some(&[_, inner, last]) => Ok(Some((inner + 1, last))),
            _ => Err(self.invalid(format!(
                "{} takes two or three increasing total wavenumbers, TRACK's band boundaries (e.g. 0,5,42 keeps \
                 6..42), not `{text}`",
                self.opt("track_bands")
            ))),
        }
    }

    /// The filter of finished tracks the track-filter options ask for
    /// (`min_duration`, `min_endpoint_dist`, `min_path_dist`,
    /// `track_threshold`, `track_region`).
    ///
    /// # Errors
    /// Naming the option whose value does not parse.
    pub fn track_filter(&self) -> Result<TrackFilter> {
        let mut filter = TrackFilter::default();
        if let Some(duration) = &self.min_duration {
            filter = filter.min_duration(duration.parse().map_err(self.flag("min_duration"))?);
        }
        if let Some(degrees) = self.min_endpoint_dist {
            filter = filter.min_endpoint_distance_deg(degrees);
        }
        if let Some(degrees) = self.min_path_dist {
            filter = filter.min_path_distance_deg(degrees);
        }
        for threshold in &self.track_threshold {
            filter = filter.threshold(threshold.parse().map_err(self.flag("track_threshold"))?);
        }
        if let Some(region) = &self.track_region {
            filter = filter.region(region.parse().map_err(self.flag("track_region"))?);
        }
        filter.validate().map_err(|e| {
            self.invalid(format!("{}: {}", self.opts(&["min_endpoint_dist", "min_path_dist"]), e.root()))
        })?;
        Ok(filter)
    }

    /// The detection criteria the criteria options ask for. They test the
    /// tracked variable (`variable`), which their VAR must name.
    fn detection_criteria(&self) -> Result<DetectionCriteria> {
        let mut criteria = DetectionCriteria::default();
        // The field VAR names (`None`: the tracked variable, as detected)
        // and the fields after it.
        let split = |name: &str, text: &str| -> Result<(Option<FieldExpression>, Vec<String>)> {
            let fields: Vec<String> = split_outside_parentheses(text, ',').into_iter().map(String::from).collect();
            let field = if fields[0] == self.variable {
                None
            } else {
                Some(fields[0].parse::<FieldExpression>().map_err(self.flag(name))?)
            };
            Ok((field, fields[1..].to_vec()))
        };
        let number = |name: &str, text: &str, field: &str| -> Result<f64> {
            field
                .parse::<f64>()
                .map_err(|_| self.invalid(format!("{} `{text}`: `{field}` is not a number", self.opt(name))))
        };
        for text in &self.closed_contour {
            let (field, fields) = split("closed_contour", text)?;
            let numbers: Vec<f64> = fields.iter().map(|f| number("closed_contour", text, f)).collect::<Result<_>>()?;
            let (delta, distance_deg, extremum_distance_deg) = match numbers[..] {
                [delta, distance] => (delta, distance, 0.0),
                [delta, distance, extremum] => (delta, distance, extremum),
                _ => {
                    return Err(self.invalid(format!(
                        "{} takes VAR,DELTA,DIST_DEG[,MINMAXDIST_DEG], not `{text}`",
                        self.opt("closed_contour")
                    )));
                }
            };
            let contour = ClosedContour { delta, distance_deg, extremum_distance_deg };
            criteria = match field {
                None => criteria.closed_contour(contour),
                Some(field) => criteria.closed_contour_on(field, contour),
            };
        }
        for text in &self.threshold {
            let (field, fields) = split("threshold", text)?;
            let [op, value, distance] = &fields[..] else {
                return Err(
                    self.invalid(format!("{} takes VAR,OP,VALUE,DIST_DEG, not `{text}`", self.opt("threshold")))
                );
            };
            let test = NearThreshold {
                op: op.parse().map_err(self.flag("threshold"))?,
                value: number("threshold", text, value)?,
                distance_deg: number("threshold", text, distance)?,
            };
            criteria = match field {
                None => criteria.threshold(test),
                Some(field) => criteria.threshold_on(field, test),
            };
        }
        if let Some(degrees) = self.merge_dist {
            criteria = criteria.merge_distance(degrees);
        }
        if self.diag_connect {
            criteria = criteria.connectivity(GridConnectivity::EdgesAndCorners);
        }
        criteria.validate().map_err(|e| {
            self.invalid(format!("{}: {}", self.opts(&["closed_contour", "threshold", "merge_dist"]), e.root()))
        })?;
        Ok(criteria)
    }

    /// The plane `projection`, `stereo_grid_spacing_km` and `extent` ask
    /// for; `None` for `global`, which takes neither of the others
    /// (PyStormTracker ignores them there; pst says so rather than ignore
    /// them, unless they are the defaults).
    fn stereographic_plane(&self) -> Result<Option<StereographicPlane>> {
        let extent = match &self.extent {
            Some(text) => {
                let [x_min, x_max, y_min, y_max] = self.four_numbers("extent", "XMIN,XMAX,YMIN,YMAX in km", text)?;
                Some(StereographicExtent::new(x_min, x_max, y_min, y_max).map_err(self.flag("extent"))?)
            }
            None => None,
        };
        let projection = self.projection_name();
        let hemisphere = match projection.as_str() {
            "global" => {
                let spacing_given = self.stereo_grid_spacing_km.is_some_and(|r| r != DEFAULT_STEREOGRAPHIC_SPACING_KM);
                let extent_given = extent.is_some_and(|e| e != StereographicExtent::default());
                if spacing_given || extent_given {
                    return Err(self.invalid(format!(
                        "{} and {} shape a polar-stereographic plane: give {} or {} with them",
                        self.opt("stereo_grid_spacing_km"),
                        self.opt("extent"),
                        self.choice("projection", "nh_stereo"),
                        self.choice("projection", "sh_stereo"),
                    )));
                }
                return Ok(None);
            }
            "nh_stereo" => Hemisphere::North,
            "sh_stereo" => Hemisphere::South,
            other => {
                return Err(self.invalid(format!(
                    "{}: `{other}` is not a projection; choose global, nh_stereo or sh_stereo",
                    self.opt("projection")
                )));
            }
        };
        let mut plane = StereographicPlane::new(hemisphere);
        if let Some(spacing) = self.stereo_grid_spacing_km {
            plane = plane.spacing_km(spacing);
            plane.grid().map_err(self.flag("stereo_grid_spacing_km"))?;
        }
        if let Some(extent) = extent {
            plane = plane.extent(extent);
            plane.grid().map_err(self.flag("extent"))?;
        }
        Ok(Some(plane))
    }

    /// The four comma-separated numbers of option `name`'s value `text`
    /// (`what` names them in the error).
    fn four_numbers(&self, name: &str, what: &str, text: &str) -> Result<[f64; 4]> {
        let numbers: Option<Vec<f64>> = text.split(',').map(|v| v.trim().parse::<f64>().ok()).collect();
        match numbers.as_deref() {
            Some(&[a, b, c, d]) => Ok([a, b, c, d]),
            _ => Err(self.invalid(format!("{} takes four numbers {what}, not `{text}`", self.opt(name)))),
        }
    }

    /// The options given that only `other`'s tracker takes.
    fn options_of_the_other_tracker(&self, other: Algorithm) -> Vec<&'static str> {
        let given = |present: bool, name: &'static str| present.then_some(name);
        let names = match other {
            Algorithm::Simple => vec![
                given(self.feature_threshold.is_some(), "feature_threshold"),
                given(self.search_window_size.is_some(), "search_window_size"),
                given(self.range.is_some(), "range"),
                given(self.linker.is_some(), "linker"),
                given(self.max_gap.is_some(), "max_gap"),
                given(self.candidates.is_some(), "candidates"),
            ],
            Algorithm::Hodges | Algorithm::Healpix => vec![
                given(self.object_threshold.is_some(), "object_threshold"),
                given(self.min_object_grid_points.is_some(), "min_object_grid_points"),
                given(self.connectivity.is_some(), "connectivity"),
                given(self.tied_extrema.is_some(), "tied_extrema"),
                given(self.bspline_search.is_some(), "bspline_search"),
                given(self.w1.is_some(), "w1"),
                given(self.w2.is_some(), "w2"),
                given(self.dmax.is_some(), "dmax"),
                given(self.phimax.is_some(), "phimax"),
                given(self.min_track_points.is_some(), "min_track_points"),
                given(self.mge_max_iterations.is_some(), "mge_max_iterations"),
                given(self.dmax_zones.is_some(), "dmax_zones"),
                given(self.adaptive_smoothness.is_some(), "adaptive_smoothness"),
                given(self.time_step.is_some(), "time_step"),
                given(self.segment_frames.is_some(), "segment_frames"),
                given(self.no_segmentation, "no_segmentation"),
                given(self.track_smoopy_optimization_scale.is_some(), "track_smoopy_optimization_scale"),
            ],
        };
        names.into_iter().flatten().collect()
    }

    /// The projection asked for, normalised (`nh_stereo`; `global` when
    /// none).
    fn projection_name(&self) -> String {
        self.projection.as_deref().unwrap_or("global").trim().to_ascii_lowercase().replace('-', "_")
    }

    /// The refinement asked for, normalised (`spherical_bspline`).
    fn refinement_name(&self) -> Option<String> {
        self.feature_refinement.as_deref().map(|r| r.trim().to_ascii_lowercase().replace('-', "_"))
    }

    /// The tracker `algorithm` chooses, configured by the options and
    /// checked; options of the other tracker are refused, each error names
    /// the option.
    fn tracker(&self) -> Result<TrackerChoice> {
        if self.algorithm == Algorithm::Healpix {
            let given = |present: bool, name: &'static str| present.then_some(name);
            let refused: Vec<String> = [
                given(self.feature_threshold.is_some(), "feature_threshold"),
                given(self.search_window_size.is_some(), "search_window_size"),
                given(self.connectivity.is_some(), "connectivity"),
                given(self.tied_extrema.is_some(), "tied_extrema"),
                given(self.bspline_search.is_some(), "bspline_search"),
                given(self.time_step.is_some(), "time_step"),
                given(self.track_smoopy_optimization_scale.is_some(), "track_smoopy_optimization_scale"),
                given(self.projection_name() != "global", "projection"),
            ]
            .into_iter()
            .flatten()
            .map(|name| match name {
                "feature_threshold" => {
                    format!("{} (its threshold is {})", self.opt(name), self.opt("object_threshold"))
                }
                _ => self.opt(name),
            })
            .collect();
            if !refused.is_empty() {
                return Err(self.invalid(format!(
                    "the HEALPix tracker ({}) does not take {}, as in PyStormTracker",
                    self.choice("algorithm", "healpix"),
                    refused.join(", ")
                )));
            }
            if !self.closed_contour.is_empty()
                || self.merge_dist.is_some()
                || !self.threshold.is_empty()
                || self.diag_connect
            {
                return Err(self.invalid(format!(
                    "detection criteria ({}) search the input's latitude-longitude grid; the HEALPix tracker detects \
                     on its own grid",
                    ["closed_contour", "merge_dist", "threshold", "diag_connect"]
                        .iter()
                        .map(|n| self.opt(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        } else if self.nside.is_some() {
            return Err(self.invalid(format!(
                "{} applies to `{}` only",
                self.opt("nside"),
                self.choice("algorithm", "healpix")
            )));
        }
        let (name, other) = match self.algorithm {
            Algorithm::Simple => ("Simple", Algorithm::Hodges),
            Algorithm::Hodges | Algorithm::Healpix => ("Hodges", Algorithm::Simple),
        };
        let foreign = self.options_of_the_other_tracker(other);
        if !foreign.is_empty() {
            let other_name = if name == "Simple" { "hodges" } else { "simple" };
            let (verb, pronoun) = if foreign.len() == 1 { ("applies", "it") } else { ("apply", "them") };
            let hint = match (foreign.contains(&"feature_threshold"), foreign.contains(&"object_threshold")) {
                (true, _) => format!(" (its threshold is {})", self.opt("object_threshold")),
                (_, true) => format!(" (its threshold is {})", self.opt("feature_threshold")),
                _ => String::new(),
            };
            return Err(self.invalid(format!(
                "{} {verb} to `{}` only; the {name} tracker does not take {pronoun}{hint}",
                foreign.iter().map(|n| self.opt(n)).collect::<Vec<_>>().join(", "),
                self.choice("algorithm", other_name)
            )));
        }
        let refinement = self.refinement_name();
        let detection_mode = self.detection_mode;
        Ok(match self.algorithm {
            Algorithm::Simple => {
                let refinement = match refinement.as_deref().unwrap_or("grid") {
                    "grid" => Refinement::Grid,
                    "quadratic" => Refinement::Quadratic,
                    other => {
                        return Err(self.invalid(format!(
                            "the Simple tracker refines by grid or quadratic; {other} is the Hodges tracker's ({})",
                            self.choice("algorithm", "hodges")
                        )));
                    }
                };
                let mut tracker = SimpleTracker::default().refinement(refinement).criteria(self.detection_criteria()?);
                match self.candidates.as_deref() {
                    None | Some("window") => {}
                    Some("neighbours") => {
                        let connectivity =
                            if self.diag_connect { GridConnectivity::EdgesAndCorners } else { GridConnectivity::Edges };
                        if self.search_window_size.is_some() {
                            return Err(self.invalid(format!(
                                "{} sizes the `window` candidates; {} has none",
                                self.opt("search_window_size"),
                                self.choice("candidates", "neighbours")
                            )));
                        }
                        tracker = tracker.candidates(Candidates::Neighbours(connectivity));
                    }
                    Some(other) => {
                        return Err(self.invalid(format!(
                            "{}: `{other}` is not a candidate search; choose window or neighbours",
                            self.opt("candidates")
                        )));
                    }
                }
                if let Some(window) = self.search_window_size {
                    tracker = tracker.window(window);
                    tracker.validate().map_err(self.flag("search_window_size"))?;
                }
                if let Some(mode) = detection_mode {
                    tracker = tracker.mode(mode);
                }
                if let Some(threshold) = self.feature_threshold {
                    tracker = tracker.threshold(threshold);
                    tracker.validate().map_err(self.flag("feature_threshold"))?;
                }
                if let Some(range_deg) = self.range
                    && !(range_deg > 0.0 && range_deg <= 180.0)
                {
                    return Err(self.invalid(format!(
                        "{}: the link range must be more than 0 and at most 180 degrees, not {range_deg}",
                        self.opt("range")
                    )));
                }
                match self.linker.as_deref().unwrap_or("nearest") {
                    "nearest" => {
                        let mut linker = SimpleLinker::default();
                        if let Some(range_deg) = self.range {
                            // TempestExtremes' --range is degrees of great
                            // circle; the linker's limit is km on pst's sphere.
                            linker = linker.max_distance_km(range_deg.to_radians() * pst_core::EARTH_RADIUS_KM);
                        }
                        if let Some(gap) = &self.max_gap {
                            linker = linker.max_gap(gap.parse().map_err(self.flag("max_gap"))?);
                        }
                        tracker = tracker.linker(linker);
                    }
                    "stitch" => {
                        let mut linker = StitchLinker::default();
                        if let Some(range_deg) = self.range {
                            linker = linker.range_deg(range_deg);
                        }
                        if let Some(gap) = &self.max_gap {
                            linker = linker.max_gap(gap.parse().map_err(self.flag("max_gap"))?);
                        }
                        tracker = tracker.linker(linker);
                    }
                    other => {
                        return Err(self.invalid(format!(
                            "{}: `{other}` is not a linker; choose nearest or stitch",
                            self.opt("linker")
                        )));
                    }
                }
                tracker.validate().map_err(self.flag("range"))?;
                tracker.into()
            }
            Algorithm::Hodges => {
                let refinement: HodgesRefinement =
                    refinement.as_deref().unwrap_or("bspline").parse().map_err(self.flag("feature_refinement"))?;
                let linker = self.hodges_linker()?;
                let mut tracker =
                    HodgesTracker::default().refinement(refinement).linker(linker).criteria(self.detection_criteria()?);
                if let Some(connectivity) = &self.connectivity {
                    tracker = tracker.connectivity(connectivity.parse().map_err(self.flag("connectivity"))?);
                }
                if let Some(tied) = &self.tied_extrema {
                    tracker = tracker.tied_extrema(tied.parse().map_err(self.flag("tied_extrema"))?);
                }
                if let Some(search) = &self.bspline_search {
                    tracker = tracker.bspline_search(search.parse().map_err(self.flag("bspline_search"))?);
                }
                if let Some(points) = self.min_object_grid_points {
                    tracker = tracker.min_object_points(points);
                    tracker.validate().map_err(self.flag("min_object_grid_points"))?;
                }
                if let Some(scale) = self.track_smoopy_optimization_scale {
                    tracker = tracker.optimization_scale(scale);
                    tracker.validate().map_err(self.flag("track_smoopy_optimization_scale"))?;
                }
                if let Some(mode) = detection_mode {
                    tracker = tracker.mode(mode);
                }
                if let Some(threshold) = self.object_threshold {
                    tracker = tracker.threshold(threshold);
                    tracker.validate().map_err(self.flag("object_threshold"))?;
                }
                tracker.into()
            }
            Algorithm::Healpix => {
                let refinement = match refinement.as_deref().unwrap_or("quadratic") {
                    "grid" => HealpixRefinement::Grid,
                    "quadratic" => HealpixRefinement::Quadratic,
                    other => {
                        return Err(self.invalid(format!(
                            "the HEALPix tracker refines by grid or quadratic, not {other} (as PyStormTracker)"
                        )));
                    }
                };
                let mut tracker = HealpixTracker::default().refinement(refinement).linker(self.hodges_linker()?);
                if let Some(nside) = self.nside {
                    tracker = tracker.nside(nside);
                    tracker.validate().map_err(self.flag("nside"))?;
                }
                if let Some(points) = self.min_object_grid_points {
                    tracker = tracker.min_object_points(points);
                }
                if let Some(mode) = detection_mode {
                    tracker = tracker.mode(mode);
                }
                if let Some(threshold) = self.object_threshold {
                    tracker = tracker.threshold(threshold);
                    tracker.validate().map_err(self.flag("object_threshold"))?;
                }
                tracker.into()
            }
        })
    }

    /// The Hodges linker the options ask for (the Hodges and HEALPix
    /// trackers'), each option set and checked in turn, so an error names
    /// it.
    fn hodges_linker(&self) -> Result<HodgesLinker> {
        let mut linker = HodgesLinker::default();
        let mut set = |given: bool, name: &str, change: &dyn Fn(HodgesLinker) -> HodgesLinker| -> Result<()> {
            if given {
                linker = change(linker.clone());
                linker.validate().map_err(self.flag(name))?;
            }
            Ok(())
        };
        let w1 = self.w1.unwrap_or(HodgesLinker::DEFAULT_W1);
        let w2 = self.w2.unwrap_or(HodgesLinker::DEFAULT_W2);
        let time_step = self
            .time_step
            .as_deref()
            .map(|t| pst_core::parse_time_step_ms(t).map_err(self.flag("time_step")))
            .transpose()?;
        if self.segment_frames.is_some() && self.no_segmentation {
            return Err(self.invalid(format!(
                "{} and {} contradict each other: give one",
                self.opt("segment_frames"),
                self.opt("no_segmentation")
            )));
        }
        set(self.w1.is_some(), "w1", &|l| l.weights(w1, HodgesLinker::DEFAULT_W2))?;
        set(self.w2.is_some(), "w2", &|l| l.weights(w1, w2))?;
        set(self.dmax.is_some(), "dmax", &|l| l.dmax_deg(self.dmax.unwrap_or_default()))?;
        set(self.phimax.is_some(), "phimax", &|l| l.phimax(self.phimax.unwrap_or_default()))?;
        set(self.mge_max_iterations.is_some(), "mge_max_iterations", &|l| {
            l.max_iterations(self.mge_max_iterations.unwrap_or_default())
        })?;
        set(self.min_track_points.is_some(), "min_track_points", &|l| {
            l.min_track_points(self.min_track_points.unwrap_or_default())
        })?;
        set(self.segment_frames.is_some() || self.no_segmentation, "segment_frames", &|l| {
            l.segment_frames((!self.no_segmentation).then(|| self.segment_frames.unwrap_or_default()))
        })?;
        set(time_step.is_some(), "time_step", &|l| l.time_step_ms(time_step.unwrap_or_default()))?;
        if let Some(spec) = &self.dmax_zones {
            linker = linker.zones(DmaxZones::from_spec(spec).map_err(self.flag("dmax_zones"))?);
        }
        if let Some(spec) = &self.adaptive_smoothness {
            linker = linker.adaptive(Adaptive::from_spec(spec).map_err(self.flag("adaptive_smoothness"))?);
        }
        Ok(linker)
    }
}

/// A value given for option `name`, taken as the kind the option holds.
struct Value<'a> {
    name: String,
    value: &'a OptionValue,
}

impl Value<'_> {
    fn wrong(&self, kind: &str) -> Error {
        Error::InvalidArgument(format!("{} takes {kind}, not {}", self.name, self.value.describe()))
    }

    /// Text; a list joined by commas (`[20, 70, -80, 40]`); a number as
    /// written.
    fn text(&self) -> Result<String> {
        match self.value {
            OptionValue::Text(t) => Ok(t.clone()),
            OptionValue::Int(i) => Ok(i.to_string()),
            OptionValue::Float(x) => Ok(x.to_string()),
            OptionValue::List(l) => Ok(l.join(",")),
            OptionValue::Bool(_) => Err(self.wrong("a text value")),
        }
    }

    /// The text parsed, an error naming the option.
    fn parsed<T: FromStr<Err = Error>>(&self) -> Result<T> {
        self.text()?.parse().map_err(|e: Error| Error::InvalidArgument(format!("{}: {}", self.name, e.root())))
    }
}

/// What an option holds, read from the value given.
trait OptionField: Sized {
    fn from_value(value: &Value<'_>) -> Result<Self>;
}

impl<T: OptionField> OptionField for Option<T> {
    fn from_value(value: &Value<'_>) -> Result<Self> {
        T::from_value(value).map(Some)
    }
}

impl OptionField for String {
    fn from_value(value: &Value<'_>) -> Result<Self> {
        value.text()
    }
}

impl OptionField for Vec<String> {
    fn from_value(value: &Value<'_>) -> Result<Self> {
        match value.value {
            OptionValue::List(l) => Ok(l.clone()),
            OptionValue::Bool(_) => Err(value.wrong("text or a list of text")),
            _ => Ok(vec![value.text()?]),
        }
    }
}

impl OptionField for f64 {
    fn from_value(value: &Value<'_>) -> Result<Self> {
        match value.value {
            OptionValue::Float(x) => Ok(*x),
            OptionValue::Int(i) => Ok(*i as f64),
            OptionValue::Text(t) => t.trim().parse().map_err(|_| value.wrong("a number")),
            _ => Err(value.wrong("a number")),
        }
    }
}

impl OptionField for usize {
    fn from_value(value: &Value<'_>) -> Result<Self> {
        let wrong = || value.wrong("a whole number, 0 or more");
        match value.value {
            OptionValue::Int(i) => usize::try_from(*i).map_err(|_| wrong()),
            OptionValue::Text(t) => t.trim().parse().map_err(|_| wrong()),
            _ => Err(wrong()),
        }
    }
}

impl OptionField for u64 {
    fn from_value(value: &Value<'_>) -> Result<Self> {
        usize::from_value(value).map(|n| n as u64)
    }
}

impl OptionField for bool {
    fn from_value(value: &Value<'_>) -> Result<Self> {
        match value.value {
            OptionValue::Bool(b) => Ok(*b),
            _ => Err(value.wrong("true or false")),
        }
    }
}

/// Options whose text parses: names and specifications.
macro_rules! parsed_option_fields {
    ($($ty:ty),+) => {
        $(impl OptionField for $ty {
            fn from_value(value: &Value<'_>) -> Result<Self> {
                value.parsed()
            }
        })+
    };
}

parsed_option_fields!(Algorithm, DetectionMode, MemberSelection, SpectralFit);

#[cfg(test)]
mod test {
    use super::*;

    fn sample_value(name: &str) -> OptionValue {
        match name {
            "allow_missing_inputs" | "diag_connect" | "cyclonic" | "no_segmentation" => OptionValue::Bool(true),
            "algorithm" => OptionValue::Text("hodges".into()),
            "detection_mode" => OptionValue::Text("max".into()),
            "spectral_fit" => OptionValue::Text("quadrature".into()),
            "members" => OptionValue::Text("1".into()),
            _ => OptionValue::Int(3),
        }
    }

    #[test]
    fn every_listed_name_is_an_option() {
        for name in TrackOptions::NAMES {
            let mut options = TrackOptions::default();
            options.set(name, sample_value(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let mut options = TrackOptions::default();
        let error = options.set("dmaxx", OptionValue::Float(1.0)).unwrap_err().to_string();
        assert!(error.contains("`dmaxx` is not an option"), "{error}");
    }

    #[test]
    fn errors_name_options_as_spelled() {
        let mut options = TrackOptions { variable: "msl".into(), input: vec!["x.nc".into()], ..Default::default() };
        options.set("dmax", OptionValue::Float(5.0)).unwrap();
        let flag = options.pipeline().unwrap_err().to_string();
        assert!(flag.contains("--dmax applies to `-a hodges` only"), "{flag}");
        options.spelling = OptionSpelling::Keyword;
        let keyword = options.pipeline().unwrap_err().to_string();
        assert!(keyword.contains("dmax applies to `algorithm=\"hodges\"` only"), "{keyword}");
        let wrong = options.set("lmin", OptionValue::Float(5.5)).unwrap_err().to_string();
        assert_eq!(wrong, "invalid argument: lmin takes a whole number, 0 or more, not 5.5");
    }
}
