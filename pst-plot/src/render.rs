//! Track maps and density maps, laid out as scenes and drawn with plotters
//! to PNG or SVG.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use pst_core::{DetectionMode, Tracks};

use crate::colour::ColourScale;
use crate::density::TrackDensity;
use crate::geo::{MapProjection, MapRegion, MapView, coastlines, lat_label, lon_label};
use crate::{Error, Result};

/// The font every picture is written in, embedded (a subset of DejaVu
/// Sans; see `assets/LICENSES.md`), so no system font is needed.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");
const FAMILY: &str = "sans-serif";

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok { Ok(()) } else { Err(Error::Render("the embedded font could not be loaded".into())) }
}

/// The picture's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// Portable Network Graphics, 8-bit RGB.
    Png,
    /// Scalable Vector Graphics (text as text, in the viewer's sans-serif).
    Svg,
}

impl ImageFormat {
    /// The format a file name's extension says (`.png`, `.svg`).
    ///
    /// ```
    /// use pst_plot::ImageFormat;
    /// assert_eq!(ImageFormat::from_path("djf.PNG".as_ref())?, ImageFormat::Png);
    /// assert!(ImageFormat::from_path("djf.jpg".as_ref()).is_err());
    /// # Ok::<(), pst_plot::Error>(())
    /// ```
    pub fn from_path(path: &std::path::Path) -> Result<ImageFormat> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("png") => Ok(ImageFormat::Png),
            Some("svg") => Ok(ImageFormat::Svg),
            _ => Err(Error::InvalidArgument(format!(
                "{}: name the picture .png or .svg, the formats pst draws",
                path.display()
            ))),
        }
    }
}

/// What colours a track map's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColourBy {
    /// The tracked variable at each centre (msl in hPa, vorticity in
    /// 10⁻⁵ s⁻¹), stronger darker.
    #[default]
    Intensity,
    /// Time, from the first point to the last.
    Time,
}

impl std::str::FromStr for ColourBy {
    type Err = Error;

    /// `intensity` (or `value`) or `time`.
    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "intensity" | "value" => Ok(ColourBy::Intensity),
            "time" => Ok(ColourBy::Time),
            other => Err(Error::InvalidArgument(format!("colour by `{other}`: choose intensity or time"))),
        }
    }
}

/// What every map shares: projection, area, title, size.
#[derive(Debug, Clone, PartialEq)]
struct MapSettings {
    projection: MapProjection,
    region: Option<MapRegion>,
    rim_lat_deg: f64,
    title: Option<String>,
    width_px: Option<u32>,
}

impl Default for MapSettings {
    fn default() -> Self {
        MapSettings {
            projection: MapProjection::default(),
            region: None,
            rim_lat_deg: 20.0,
            title: None,
            width_px: None,
        }
    }
}

/// The default width of a picture, pixels: equirectangular and polar.
pub const DEFAULT_WIDTH_PX: (u32, u32) = (1600, 1000);

impl MapSettings {
    fn validate(&self) -> Result<()> {
        if let Some(region) = &self.region {
            region.validate()?;
            if self.projection != MapProjection::Equirectangular {
                return Err(Error::InvalidArgument(
                    "a region is drawn on the equirectangular projection; polar views show a hemisphere down to their rim latitude"
                        .into(),
                ));
            }
        }
        if !(0.0..80.0).contains(&self.rim_lat_deg) {
            return Err(Error::InvalidArgument(format!(
                "a polar rim at {}°: give a latitude from 0 to 80 degrees",
                self.rim_lat_deg
            )));
        }
        if let Some(w) = self.width_px
            && !(200..=8000).contains(&w)
        {
            return Err(Error::InvalidArgument(format!("a picture {w} pixels wide: give 200 to 8000")));
        }
        Ok(())
    }

    /// The map's place on the picture.
    fn layout(&self) -> Layout {
        let polar = self.projection != MapProjection::Equirectangular;
        let width = self.width_px.unwrap_or(if polar { DEFAULT_WIDTH_PX.1 } else { DEFAULT_WIDTH_PX.0 });
        let (left, right, top) = if polar { (56, 56, 96) } else { (64, 32, 76) };
        let map_width = (width - left - right) as f64;
        let view = if polar {
            MapView::polar(self.projection, self.rim_lat_deg, map_width)
        } else {
            MapView::equirectangular(self.region.unwrap_or(MapRegion::GLOBE), map_width)
        };
        let below = if polar { 40 } else { 30 };
        let height = top + view.height.round() as u32 + below + COLOURBAR_SPACE;
        Layout {
            width,
            height,
            map_origin: (left as i32, top as i32),
            view,
            colourbar_top: (height - COLOURBAR_SPACE) as i32,
        }
    }
}

/// Pixels below the map for the colour bar and its labels.
const COLOURBAR_SPACE: u32 = 76;

#[derive(Debug, Clone, Copy)]
struct Layout {
    width: u32,
    height: u32,
    map_origin: (i32, i32),
    view: MapView,
    colourbar_top: i32,
}

macro_rules! map_settings {
    ($t:ty) => {
        impl $t {
            /// The projection (default equirectangular).
            pub fn projection(mut self, projection: MapProjection) -> Self {
                self.map.projection = projection;
                self
            }

            /// Draw this box only (equirectangular; default the globe).
            pub fn region(mut self, region: MapRegion) -> Self {
                self.map.region = Some(region);
                self
            }

            /// Polar views: the latitude of the rim, degrees from the
            /// equator (default 20).
            pub fn rim_lat_deg(mut self, degrees: f64) -> Self {
                self.map.rim_lat_deg = degrees;
                self
            }

            /// The title (default: what was tracked, how many tracks,
            /// when).
            pub fn title(mut self, title: impl Into<String>) -> Self {
                self.map.title = Some(title.into());
                self
            }

            /// Picture width, pixels (default [`DEFAULT_WIDTH_PX`]: 1600
            /// equirectangular, 1000 polar); the height follows the map.
            pub fn width_px(mut self, width: u32) -> Self {
                self.map.width_px = Some(width);
                self
            }

            /// The picture's size in pixels, width and height.
            pub fn size_px(&self) -> Result<(u32, u32)> {
                self.map.validate()?;
                let layout = self.map.layout();
                Ok((layout.width, layout.height))
            }

            /// Where a point (degrees) lands on the picture, pixels from its
            /// top left; `None` off a polar view's disc.
            pub fn pixel(&self, lat: f64, lon: f64) -> Result<Option<(f64, f64)>> {
                self.map.validate()?;
                let layout = self.map.layout();
                let (ox, oy) = layout.map_origin;
                Ok(layout.view.xy(lat, lon).map(|(x, y)| (x + ox as f64, y + oy as f64)))
            }
        }
    };
}

/// A map of tracks: coastlines, a graticule, each track a line coloured
/// by intensity or time, start and end markers, a colour bar and a title
/// saying what was tracked.
///
/// ```
/// use pst_core::{Calendar, Timestamp, TracksBuilder};
/// use pst_plot::{ImageFormat, TrackMap};
///
/// let mut b = TracksBuilder::new(["msl"]);
/// b.begin_track(1);
/// for (k, lon) in [300.0, 310.0, 320.0].into_iter().enumerate() {
///     b.push(Timestamp::from_ymdh(2026, 1, 1 + k as u8, 0)?, 45.0, lon, &[98_000.0 - 500.0 * k as f64])?;
/// }
/// b.end_track()?;
/// let png = TrackMap::default().width_px(800).render(&b.finish()?, ImageFormat::Png)?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackMap {
    map: MapSettings,
    colour_by: ColourBy,
    variable: Option<String>,
    markers: Option<bool>,
}

map_settings!(TrackMap);

/// Tracks beyond this many get no start and end markers unless asked.
pub const MARKERS_UP_TO: usize = 400;

impl TrackMap {
    /// Colour by intensity (default) or time.
    pub fn colour_by(mut self, colour_by: ColourBy) -> Self {
        self.colour_by = colour_by;
        self
    }

    /// The variable that is the intensity (default: the tracked variable
    /// the tracks name, else their first).
    pub fn variable(mut self, name: impl Into<String>) -> Self {
        self.variable = Some(name.into());
        self
    }

    /// Mark where tracks start (open circle) and end (dot); default: when
    /// there are at most [`MARKERS_UP_TO`] tracks.
    pub fn markers(mut self, on: bool) -> Self {
        self.markers = Some(on);
        self
    }

    /// Draws `tracks` as `format`.
    ///
    /// # Errors
    /// Bad settings, an intensity variable the tracks lack, or tracks with
    /// times their calendar cannot place.
    pub fn render(&self, tracks: &Tracks, format: ImageFormat) -> Result<Vec<u8>> {
        self.map.validate()?;
        let layout = self.map.layout();
        let scene = self.scene(tracks, &layout)?;
        render(&scene, format)
    }

    fn scene(&self, tracks: &Tracks, layout: &Layout) -> Result<Scene> {
        let view = &layout.view;
        let calendar = tracks.metadata().calendar;
        let n = tracks.len();
        let (colour, colourbar, what) = match self.colour_by {
            ColourBy::Intensity => {
                let name = intensity_variable(tracks, self.variable.as_deref())?;
                let values = tracks.variable(&name).unwrap_or(&[]);
                let units = tracks.variables().iter().find(|v| v.name == name).and_then(|v| v.units.clone());
                let (factor, shown_units) = display_units(&name, units.as_deref());
                let (lo, hi) = percentile_range(values);
                let minima = match tracks.metadata().detection_mode {
                    Some(mode) => mode == DetectionMode::Min,
                    None => name == "msl" || name.contains("pres") || name == "psl" || name == "slp",
                };
                // Stronger is darker: lows are strong when low.
                let scale = if minima { ColourScale::Viridis } else { ColourScale::ViridisReversed };
                let span = if hi > lo { hi - lo } else { 1.0 };
                let label = match &shown_units {
                    Some(u) => format!("{name} at the centre ({u})"),
                    None => format!("{name} at the centre"),
                };
                let ticks = (0..=4)
                    .map(|k| {
                        let t = k as f64 / 4.0;
                        (t, format_value((lo + t * span) * factor))
                    })
                    .collect();
                let colours: Vec<RGBColor> = values.iter().map(|&v| scale.at((v - lo) / span)).collect();
                (colours, Colourbar { scale, label, ticks }, format!("coloured by {name}"))
            }
            ColourBy::Time => {
                let ms: Vec<i64> =
                    tracks.times().iter().map(|&t| calendar.to_millis(t)).collect::<pst_core::Result<_>>()?;
                let (t0, t1) = (ms.iter().copied().min().unwrap_or(0), ms.iter().copied().max().unwrap_or(0));
                let span = if t1 > t0 { (t1 - t0) as f64 } else { 1.0 };
                let scale = ColourScale::Viridis;
                let date = |t: f64| calendar.from_millis(t0 + (t * span) as i64).to_string()[..10].to_string();
                let ticks = (0..=4).map(|k| (k as f64 / 4.0, date(k as f64 / 4.0))).collect();
                let colours = ms.iter().map(|&t| scale.at((t - t0) as f64 / span)).collect();
                (colours, Colourbar { scale, label: "time".into(), ticks }, "coloured by time".into())
            }
        };
        let width = if n > 1000 { 1 } else { 2 };
        let mut lines = Vec::new();
        let mut starts = Vec::new();
        let mut ends = Vec::new();
        let markers = self.markers.unwrap_or(n <= MARKERS_UP_TO);
        let mut offset = 0;
        for track in tracks.iter() {
            let (lats, lons) = (track.lats(), track.lons());
            for k in 1..track.len() {
                for run in view.runs([(lats[k - 1], lons[k - 1]), (lats[k], lons[k])]) {
                    lines.push((run, colour[offset + k], width));
                }
            }
            if markers && !track.is_empty() {
                starts.extend(view.xy(lats[0], lons[0]));
                ends.extend(view.xy(lats[track.len() - 1], lons[track.len() - 1]));
            }
            offset += track.len();
        }
        let title = self.map.title.clone().unwrap_or_else(|| default_title(tracks, "tracks"));
        let subtitle = if markers { format!("{what}; open circles start, dots end") } else { what };
        Ok(Scene {
            layout: *layout,
            title,
            subtitle,
            cells: Vec::new(),
            lines,
            starts: starts.into_iter().map(round).collect(),
            ends: ends.into_iter().map(round).collect(),
            colourbar: Some(colourbar),
            background: OCEAN,
        })
    }
}

/// A map of track density ([`TrackDensity`]): cells coloured from pale
/// yellow to dark red, empty cells left white, coastlines over them.
///
/// ```
/// use pst_core::{Calendar, Timestamp, TracksBuilder};
/// use pst_plot::{DensityMap, ImageFormat, MapProjection};
///
/// let mut b = TracksBuilder::new(["msl"]);
/// b.begin_track(1);
/// for (k, lon) in [300.0, 310.0, 320.0].into_iter().enumerate() {
///     b.push(Timestamp::from_ymdh(2026, 1, 1 + k as u8, 0)?, 55.0, lon, &[98_000.0])?;
/// }
/// b.end_track()?;
/// let svg = DensityMap::default().projection(MapProjection::NorthPolarStereographic).render(&b.finish()?, ImageFormat::Svg)?;
/// assert!(String::from_utf8(svg)?.starts_with("<svg"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DensityMap {
    map: MapSettings,
    density: TrackDensity,
}

map_settings!(DensityMap);

impl DensityMap {
    /// How the density is counted (default [`TrackDensity::default`]:
    /// 2.5° cells, 5° caps).
    pub fn density(mut self, density: TrackDensity) -> Self {
        self.density = density;
        self
    }

    /// Draws the density of `tracks` as `format`.
    ///
    /// # Errors
    /// Bad settings, or tracks spanning no time.
    pub fn render(&self, tracks: &Tracks, format: ImageFormat) -> Result<Vec<u8>> {
        self.map.validate()?;
        let grid = self.density.compute(tracks)?;
        let layout = self.map.layout();
        let view = &layout.view;
        let top = nice_ceiling(grid.max());
        let scale = ColourScale::YellowOrangeRed;
        let mut cells = Vec::new();
        let g = grid.grid_deg;
        for row in 0..grid.shape.0 {
            for col in 0..grid.shape.1 {
                let value = grid.values[row * grid.shape.1 + col];
                if value <= 0.0 {
                    continue;
                }
                let (lat, lon) = grid.centre(row, col);
                let corners = [
                    (lat - g / 2.0, lon - g / 2.0),
                    (lat - g / 2.0, lon + g / 2.0),
                    (lat + g / 2.0, lon + g / 2.0),
                    (lat + g / 2.0, lon - g / 2.0),
                ];
                let projected: Option<Vec<(f64, f64)>> = corners.iter().map(|&(a, b)| view.xy(a, b)).collect();
                let Some(projected) = projected else { continue };
                if projected.windows(2).any(|w| view.jumps(w[0], w[1])) {
                    continue;
                }
                cells.push((projected.into_iter().map(round).collect(), scale.at(value / top)));
            }
        }
        let ticks = (0..=4).map(|k| (k as f64 / 4.0, format_value(top * k as f64 / 4.0))).collect();
        let title = self.map.title.clone().unwrap_or_else(|| default_title(tracks, "track density"));
        let subtitle = format!(
            "tracks within {}° per month per 10⁶ km², {:.2} months, {}° cells",
            format_value(self.density.cap_radius_deg()),
            grid.months,
            format_value(g)
        );
        let scene = Scene {
            layout,
            title,
            subtitle,
            cells,
            lines: Vec::new(),
            starts: Vec::new(),
            ends: Vec::new(),
            colourbar: Some(Colourbar { scale, label: "tracks per month per 10⁶ km²".into(), ticks }),
            background: RGBColor(255, 255, 255),
        };
        render(&scene, format)
    }
}

/// The variable that colours a map: asked for, else the tracked one, else
/// the first.
fn intensity_variable(tracks: &Tracks, asked: Option<&str>) -> Result<String> {
    let names: Vec<&str> = tracks.variable_names().collect();
    if let Some(name) = asked {
        if names.contains(&name) {
            return Ok(name.to_string());
        }
        return Err(Error::InvalidArgument(format!(
            "the tracks have no variable `{name}` to colour by (they have {})",
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        )));
    }
    tracks.primary_variable().map(|v| v.name.clone()).ok_or_else(|| {
        Error::InvalidArgument("the tracks carry no variable to colour by intensity; colour by time".into())
    })
}

/// How values are shown: Pa as hPa, s⁻¹ as 10⁻⁵ s⁻¹.
fn display_units(name: &str, units: Option<&str>) -> (f64, Option<String>) {
    match units.map(str::trim) {
        Some("Pa") => (0.01, Some("hPa".into())),
        Some("s**-1" | "s-1" | "s^-1" | "1/s" | "s⁻¹") => (1e5, Some("10⁻⁵ s⁻¹".into())),
        Some(u) if !u.is_empty() => (1.0, Some(u.to_string())),
        _ if name == "msl" => (0.01, Some("hPa".into())),
        _ => (1.0, None),
    }
}

/// The 2nd and 98th percentiles of the finite values, so a few outliers
/// do not wash out the scale.
fn percentile_range(values: &[f64]) -> (f64, f64) {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return (0.0, 1.0);
    }
    finite.sort_by(f64::total_cmp);
    let at = |p: f64| finite[((finite.len() - 1) as f64 * p).round() as usize];
    (at(0.02), at(0.98))
}

/// A round number at least `v` (1, 2, 2.5, 5 times a power of ten).
fn nice_ceiling(v: f64) -> f64 {
    if v.is_nan() || v <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * power).find(|&x| x >= v * (1.0 - 1e-12)).unwrap_or(10.0 * power)
}

/// A number with as few digits as it needs.
fn format_value(v: f64) -> String {
    let text = if v.abs() >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    text.replace('-', "−")
}

/// A count with thousands separated: 10,340.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What was tracked, how, and when: "2,803 Hodges tracks of msl,
/// 2025-12-01 to 2026-02-28".
fn default_title(tracks: &Tracks, what: &str) -> String {
    let meta = tracks.metadata();
    let algorithm = meta.algorithm.as_deref().map(|a| {
        let mut c = a.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
    });
    let variable = meta.variable.clone().or_else(|| tracks.primary_variable().map(|v| v.name.clone()));
    let times = tracks.times();
    let span = match (times.iter().min(), times.iter().max()) {
        (Some(a), Some(b)) => format!(", {} to {}", &a.to_string()[..10], &b.to_string()[..10]),
        _ => String::new(),
    };
    let head = match what {
        "tracks" => format!("{} {}tracks", thousands(tracks.len()), algorithm.map(|a| a + " ").unwrap_or_default()),
        _ => format!(
            "Track density of {} {}tracks",
            thousands(tracks.len()),
            algorithm.map(|a| a + " ").unwrap_or_default()
        ),
    };
    match variable {
        Some(v) => format!("{head} of {v}{span}"),
        None => format!("{head}{span}"),
    }
}

fn round((x, y): (f64, f64)) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

const OCEAN: RGBColor = RGBColor(246, 249, 252);
const COAST: RGBColor = RGBColor(90, 90, 90);
const GRID: RGBColor = RGBColor(200, 200, 200);
const INK: RGBColor = RGBColor(30, 30, 30);
const SUBTLE: RGBColor = RGBColor(80, 80, 80);
const MUTED: RGBColor = RGBColor(110, 110, 110);

/// A colour bar: scale, label, ticks at fractions along it.
#[derive(Debug, Clone)]
struct Colourbar {
    scale: ColourScale,
    label: String,
    ticks: Vec<(f64, String)>,
}

/// A line: its pixels, colour and width.
type Stroke = (Vec<(i32, i32)>, RGBColor, u32);

/// Everything a picture holds, in map pixels (origin at the map's top left).
#[derive(Debug)]
struct Scene {
    layout: Layout,
    title: String,
    subtitle: String,
    /// Filled polygons and their colours.
    cells: Vec<(Vec<(i32, i32)>, RGBColor)>,
    lines: Vec<Stroke>,
    starts: Vec<(i32, i32)>,
    ends: Vec<(i32, i32)>,
    colourbar: Option<Colourbar>,
    background: RGBColor,
}

fn render(scene: &Scene, format: ImageFormat) -> Result<Vec<u8>> {
    register_font()?;
    let (w, h) = (scene.layout.width, scene.layout.height);
    match format {
        ImageFormat::Png => {
            let mut pixels = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
                draw(&root, scene)?;
                root.present().map_err(render_error)?;
            }
            let mut out = Vec::new();
            {
                let mut encoder = png::Encoder::new(&mut out, w, h);
                encoder.set_color(png::ColorType::Rgb);
                encoder.set_depth(png::BitDepth::Eight);
                encoder.set_compression(png::Compression::Best);
                let mut writer = encoder.write_header().map_err(|e| Error::Render(e.to_string()))?;
                writer.write_image_data(&pixels).map_err(|e| Error::Render(e.to_string()))?;
            }
            Ok(out)
        }
        ImageFormat::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, (w, h)).into_drawing_area();
                draw(&root, scene)?;
                root.present().map_err(render_error)?;
            }
            Ok(text.into_bytes())
        }
    }
}

fn render_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> Error {
    Error::Render(e.to_string())
}

fn text_style(size: u32, colour: &'static RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(colour).pos(Pos::new(h, v))
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, scene: &Scene) -> Result<()> {
    let layout = &scene.layout;
    let view = &layout.view;
    let (ox, oy) = layout.map_origin;
    let (mw, mh) = (view.width.round() as i32, view.height.round() as i32);
    root.fill(&WHITE).map_err(render_error)?;
    let map = root.clone().shrink((ox, oy), (mw as u32 + 1, mh as u32 + 1));
    let polar = view.projection != MapProjection::Equirectangular;
    let centre = (mw / 2, mh / 2);
    if polar {
        map.draw(&Circle::new(centre, mw / 2, scene.background.filled())).map_err(render_error)?;
    } else {
        map.fill(&scene.background).map_err(render_error)?;
    }
    for (corners, colour) in &scene.cells {
        map.draw(&Polygon::new(corners.clone(), colour.filled())).map_err(render_error)?;
    }
    // Graticule.
    let (lat_step, lon_step) = view.graticule_steps();
    let region = view.region();
    let (lat_min, lat_max) = if polar { (-90.0, 90.0) } else { (region.lat_south, region.lat_north) };
    let grid_style = ShapeStyle::from(&GRID).stroke_width(1);
    let mut lat = (lat_min / lat_step).ceil() * lat_step;
    while lat <= lat_max {
        let parallel: Vec<(f64, f64)> = (0..=720).map(|k| (lat, region.lon_west + k as f64 * 0.5)).collect();
        for run in view.runs(parallel) {
            map.draw(&PathElement::new(run, grid_style)).map_err(render_error)?;
        }
        lat += lat_step;
    }
    let meridians: Vec<f64> = if polar {
        (0..(360.0 / lon_step) as usize).map(|k| k as f64 * lon_step).collect()
    } else {
        let first = (region.lon_west / lon_step).ceil() * lon_step;
        (0..).map(|k| first + k as f64 * lon_step).take_while(|&l| l <= region.lon_west + region.lon_span()).collect()
    };
    for &lon in &meridians {
        let meridian: Vec<(f64, f64)> =
            (0..=360).map(|k| (lat_min + (lat_max - lat_min) * k as f64 / 360.0, lon)).collect();
        for run in view.runs(meridian) {
            map.draw(&PathElement::new(run, grid_style)).map_err(render_error)?;
        }
    }
    // Coastlines.
    let coast_style = ShapeStyle::from(&COAST).stroke_width(1);
    for line in coastlines() {
        for run in view.runs(line.iter().copied()) {
            map.draw(&PathElement::new(run, coast_style)).map_err(render_error)?;
        }
    }
    for (run, colour, width) in &scene.lines {
        map.draw(&PathElement::new(run.clone(), ShapeStyle::from(colour).stroke_width(*width)))
            .map_err(render_error)?;
    }
    for &p in &scene.starts {
        map.draw(&Circle::new(p, 4, ShapeStyle::from(&INK).stroke_width(1))).map_err(render_error)?;
    }
    for &p in &scene.ends {
        map.draw(&Circle::new(p, 2, INK.filled())).map_err(render_error)?;
    }
    // Frame and labels.
    let frame = ShapeStyle::from(&INK).stroke_width(1);
    let label = |size| text_style(size, &INK, HPos::Center, VPos::Center);
    if polar {
        map.draw(&Circle::new(centre, mw / 2, frame)).map_err(render_error)?;
        for &lon in &meridians {
            let rim = if view.projection == MapProjection::NorthPolarStereographic {
                view.rim_lat()
            } else {
                -view.rim_lat()
            };
            if let Some((x, y)) = view.xy(rim, lon) {
                let (dx, dy) = (x - centre.0 as f64, y - centre.1 as f64);
                let r = (dx * dx + dy * dy).sqrt().max(1.0);
                let at = (ox + (x + dx / r * 22.0).round() as i32, oy + (y + dy / r * 16.0).round() as i32);
                root.draw(&Text::new(lon_label(lon), at, label(14))).map_err(render_error)?;
            }
        }
        let mut lat = (lat_min / lat_step).ceil() * lat_step;
        while lat <= lat_max {
            if let Some((x, y)) = view.xy(lat, 135.0).filter(|_| lat.abs() < 90.0) {
                let style = text_style(12, &MUTED, HPos::Left, VPos::Bottom);
                root.draw(&Text::new(lat_label(lat), (ox + x as i32 + 3, oy + y as i32 - 2), style))
                    .map_err(render_error)?;
            }
            lat += lat_step;
        }
    } else {
        map.draw(&Rectangle::new([(0, 0), (mw, mh)], frame)).map_err(render_error)?;
        let mut lat = (lat_min / lat_step).ceil() * lat_step;
        while lat <= lat_max {
            if let Some((_, y)) = view.xy(lat, region.lon_west) {
                let style = text_style(14, &INK, HPos::Right, VPos::Center);
                root.draw(&Text::new(lat_label(lat), (ox - 6, oy + y.round() as i32), style)).map_err(render_error)?;
            }
            lat += lat_step;
        }
        for &lon in &meridians {
            if let Some((x, _)) = view.xy(region.lat_south, lon) {
                let x = if (lon - region.lon_west - region.lon_span()).abs() < 1e-9 { view.width } else { x };
                let style = text_style(14, &INK, HPos::Center, VPos::Top);
                root.draw(&Text::new(lon_label(lon), (ox + x.round() as i32, oy + mh + 6), style))
                    .map_err(render_error)?;
            }
        }
    }
    // Title and subtitle.
    let width = layout.width as i32;
    root.draw(&Text::new(scene.title.clone(), (width / 2, 14), text_style(24, &INK, HPos::Center, VPos::Top)))
        .map_err(render_error)?;
    root.draw(&Text::new(
        format!("{}; Natural Earth coastlines", scene.subtitle),
        (width / 2, 46),
        text_style(15, &SUBTLE, HPos::Center, VPos::Top),
    ))
    .map_err(render_error)?;
    // Colour bar.
    if let Some(bar) = &scene.colourbar {
        let (bar_w, bar_h) = ((width / 2).max(200), 16);
        let (x0, y0) = ((width - bar_w) / 2, layout.colourbar_top + 8);
        for k in 0..bar_w {
            let colour = bar.scale.at(k as f64 / (bar_w - 1).max(1) as f64);
            root.draw(&Rectangle::new([(x0 + k, y0), (x0 + k + 1, y0 + bar_h)], colour.filled()))
                .map_err(render_error)?;
        }
        root.draw(&Rectangle::new([(x0, y0), (x0 + bar_w, y0 + bar_h)], frame)).map_err(render_error)?;
        for (t, text) in &bar.ticks {
            let x = x0 + (t * bar_w as f64).round() as i32;
            root.draw(&PathElement::new(vec![(x, y0 + bar_h), (x, y0 + bar_h + 4)], frame)).map_err(render_error)?;
            root.draw(&Text::new(text.clone(), (x, y0 + bar_h + 6), text_style(13, &INK, HPos::Center, VPos::Top)))
                .map_err(render_error)?;
        }
        root.draw(&Text::new(
            bar.label.clone(),
            (x0 + bar_w + 12, y0 + bar_h / 2),
            text_style(14, &INK, HPos::Left, VPos::Center),
        ))
        .map_err(render_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(thousands(10_340), "10,340");
        assert_eq!(thousands(999), "999");
        assert_eq!(nice_ceiling(3.7), 5.0);
        assert_eq!(nice_ceiling(0.21), 0.25);
        assert_eq!(format_value(-1.5), "−1.5");
        assert_eq!(display_units("msl", Some("Pa")).1.as_deref(), Some("hPa"));
        assert_eq!(percentile_range(&[f64::NAN, 1.0, 2.0]), (1.0, 2.0));
    }
}
