//! Vorticity, divergence, streamfunction and velocity potential from winds.

use ndarray::{Array2, ArrayView2};
use pst_core::{EARTH_RADIUS_M, Grid, Result};

use crate::coefficients::SphericalHarmonics;
use crate::filter::BandPass;
use crate::plan::ShtPlan;

/// Kinematics of a horizontal wind on one grid, spectrally.
///
/// From the eastward and northward wind `(u, v)` (m s⁻¹): relative
/// vorticity `ζ = k·∇×V` and divergence `δ = ∇·V` (s⁻¹), and the
/// streamfunction `ψ` and velocity potential `χ` (m² s⁻¹) with `∇²ψ = ζ`,
/// `∇²χ = δ` (so `V = k×∇ψ + ∇χ`), all truncated at the plan's `lmax` on a
/// sphere of radius [`EARTH_RADIUS_M`] unless set otherwise. Like NCL's
/// `uv2vrF`/`uv2dvF`/`uv2sfvpF`, with either latitude order.
///
/// ```
/// use ndarray::Array2;
/// use pst_core::{EARTH_RADIUS_M, Grid};
/// use pst_spectral::WindKinematics;
///
/// // Solid-body rotation u = U cos φ has vorticity 2U sin φ / a.
/// let grid = Grid::regular_global(2.5)?;
/// let u = Array2::from_shape_fn(grid.shape(), |(i, _)| 10.0 * grid.lat(i).to_radians().cos());
/// let v = Array2::zeros(grid.shape());
/// let (vorticity, divergence) = WindKinematics::new(&grid, 42)?.vorticity_divergence(u.view(), v.view())?;
/// let expected = 20.0 * 45f64.to_radians().sin() / EARTH_RADIUS_M;
/// assert!((vorticity[[18, 7]] - expected).abs() < 1e-18); // row 18 is 45°N
/// assert!(divergence.iter().all(|d| d.abs() < 1e-18));
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct WindKinematics {
    plan: ShtPlan,
    radius_m: f64,
}

impl WindKinematics {
    /// Kinematics on `grid` truncated at `lmax` (use
    /// [`ShtPlan::max_lmax`] for the grid's full resolution).
    pub fn new(grid: &Grid, lmax: usize) -> Result<Self> {
        Ok(WindKinematics { plan: ShtPlan::new(grid, lmax)?, radius_m: EARTH_RADIUS_M })
    }

    /// Uses a sphere of radius `radius_m` metres instead of the Earth's.
    pub fn with_radius(mut self, radius_m: f64) -> Self {
        self.radius_m = radius_m;
        self
    }

    /// The transform plan.
    pub fn plan(&self) -> &ShtPlan {
        &self.plan
    }

    /// Vorticity and divergence coefficients (s⁻¹).
    pub fn coefficients(
        &self,
        u: ArrayView2<'_, f64>,
        v: ArrayView2<'_, f64>,
    ) -> Result<(SphericalHarmonics, SphericalHarmonics)> {
        self.plan.analyse_wind(u, v, self.radius_m)
    }

    /// Relative vorticity and divergence on the grid (s⁻¹).
    pub fn vorticity_divergence(
        &self,
        u: ArrayView2<'_, f64>,
        v: ArrayView2<'_, f64>,
    ) -> Result<(Array2<f64>, Array2<f64>)> {
        let (vorticity, divergence) = self.coefficients(u, v)?;
        let [vorticity, divergence] = self.plan.synthesise_fields([&vorticity, &divergence])?;
        Ok((vorticity, divergence))
    }

    /// Relative vorticity (s⁻¹), filtered to `band` (which must not go past
    /// the plan's `lmax`): the field TRACK tracks when given winds.
    pub fn vorticity(&self, u: ArrayView2<'_, f64>, v: ArrayView2<'_, f64>, band: &BandPass) -> Result<Array2<f64>> {
        let (mut vorticity, _) = self.coefficients(u, v)?;
        band.apply(&mut vorticity);
        self.plan.synthesise(&vorticity)
    }

    /// Streamfunction and velocity potential (m² s⁻¹), zero in the mean.
    pub fn streamfunction_velocity_potential(
        &self,
        u: ArrayView2<'_, f64>,
        v: ArrayView2<'_, f64>,
    ) -> Result<(Array2<f64>, Array2<f64>)> {
        let (mut psi, mut chi) = self.coefficients(u, v)?;
        let a2 = self.radius_m * self.radius_m;
        let inverse_laplacian = |l: usize| if l == 0 { 0.0 } else { -a2 / (l * (l + 1)) as f64 };
        psi.scale_degrees(inverse_laplacian);
        chi.scale_degrees(inverse_laplacian);
        let [psi, chi] = self.plan.synthesise_fields([&psi, &chi])?;
        Ok((psi, chi))
    }
}
