//! A deterministic synthetic field generator with known storm centres.
//!
//! [`SyntheticSeries`] plants moving lows and highs — Gaussian bumps in
//! great-circle distance — on a smooth background, on a global grid of any
//! resolution and for any number of frames, with optional noise. It is a
//! [`FieldSource`] that computes each frame on demand (so a year at 0.25° costs
//! no memory), and it returns the true centres it planted as [`Tracks`]. Tests,
//! benchmarks and property tests use it where a real file would be too big or
//! where the truth must be known.
//!
//! ```
//! use pst_core::{DetectionMode, FieldSource, Grid, PlantedStorm, SyntheticSeries};
//! let series = SyntheticSeries::builder(Grid::regular_global(2.5)?)
//!     .frames(8)
//!     .storm(PlantedStorm::low(0, 8, 45.0, 300.0).moving(0.2, 1.5))
//!     .build()?;
//! let truth = series.planted_tracks(Some(DetectionMode::Min));
//! assert_eq!(truth.len(), 1);
//! // The planted low is the lowest value of the first frame.
//! let frame = series.read_frame(0)?;
//! let min = frame.values().iter().cloned().fold(f64::INFINITY, f64::min);
//! assert_eq!(min, frame.value(18, 120)); // 45°N, 300°E
//! # Ok::<(), pst_core::Error>(())
//! ```

use std::sync::Arc;

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::geometry::{great_circle_angle_deg, normalize_lon_360, unit_vector};
use crate::grid::Grid;
use crate::source::{FieldSource, SourceInfo};
use crate::time::{Calendar, Timestamp};
use crate::tracks::{Tracks, TracksBuilder, TracksMetadata};
use crate::variables::DetectionMode;

/// Beyond this many radii a storm's bump is below 1e-10 of its amplitude and
/// is not computed.
const CUTOFF_RADII: f64 = 4.9;

/// One storm planted in a [`SyntheticSeries`]: a Gaussian bump
/// `amplitude · exp(-(d / radius)²)` in great-circle distance `d` that moves
/// at a constant rate in latitude and longitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlantedStorm {
    /// First frame in which the storm exists.
    pub first_frame: usize,
    /// Number of frames it lives.
    pub frames: usize,
    /// Latitude at the first frame, degrees.
    pub lat_deg: f64,
    /// Longitude at the first frame, degrees.
    pub lon_deg: f64,
    /// Latitude change per frame, degrees.
    pub dlat_deg: f64,
    /// Longitude change per frame, degrees.
    pub dlon_deg: f64,
    /// Peak anomaly in the field's units: negative for a low, positive for a high.
    pub amplitude: f64,
    /// e-folding radius, degrees of arc.
    pub radius_deg: f64,
}

impl PlantedStorm {
    /// A stationary low of −2000 (Pa) and 6° radius.
    pub fn low(first_frame: usize, frames: usize, lat_deg: f64, lon_deg: f64) -> Self {
        PlantedStorm {
            first_frame,
            frames,
            lat_deg,
            lon_deg,
            dlat_deg: 0.0,
            dlon_deg: 0.0,
            amplitude: -2000.0,
            radius_deg: 6.0,
        }
    }

    /// A stationary high of +2000 (Pa) and 6° radius.
    pub fn high(first_frame: usize, frames: usize, lat_deg: f64, lon_deg: f64) -> Self {
        PlantedStorm { amplitude: 2000.0, ..Self::low(first_frame, frames, lat_deg, lon_deg) }
    }

    /// The same storm moving `dlat_deg`, `dlon_deg` per frame.
    pub fn moving(self, dlat_deg: f64, dlon_deg: f64) -> Self {
        PlantedStorm { dlat_deg, dlon_deg, ..self }
    }

    /// The same storm with another amplitude and radius.
    pub fn shaped(self, amplitude: f64, radius_deg: f64) -> Self {
        PlantedStorm { amplitude, radius_deg, ..self }
    }

    /// Whether the storm exists at `frame`.
    pub fn is_alive(&self, frame: usize) -> bool {
        frame >= self.first_frame && frame < self.first_frame + self.frames
    }

    /// Centre `(lat, lon)` in degrees at `frame` (longitude in `[0, 360)`).
    pub fn position(&self, frame: usize) -> (f64, f64) {
        let k = frame as f64 - self.first_frame as f64;
        (self.lat_deg + k * self.dlat_deg, normalize_lon_360(self.lon_deg + k * self.dlon_deg))
    }

    /// Whether the storm is a low.
    pub fn mode(&self) -> DetectionMode {
        if self.amplitude < 0.0 { DetectionMode::Min } else { DetectionMode::Max }
    }
}

/// Builder of a [`SyntheticSeries`].
#[derive(Debug, Clone)]
pub struct SyntheticBuilder {
    grid: Grid,
    frames: usize,
    start: Timestamp,
    step_hours: u32,
    background: f64,
    gradient: f64,
    noise: f64,
    seed: u64,
    storms: Vec<PlantedStorm>,
    random: Option<(usize, u64)>,
    min_separation_deg: f64,
    variable: String,
    units: String,
}

impl SyntheticBuilder {
    /// Number of frames (default 20).
    pub fn frames(mut self, n: usize) -> Self {
        self.frames = n;
        self
    }

    /// Time of the first frame (default 2000-01-01T00) and the step in hours
    /// (default 6).
    pub fn times(mut self, start: Timestamp, step_hours: u32) -> Self {
        self.start = start;
        self.step_hours = step_hours;
        self
    }

    /// The background: `mean + gradient · sin(latitude)`; default
    /// `101325 + 1000 sin φ` (Pa), smooth and without plateaus away from the
    /// poles.
    pub fn background(mut self, mean: f64, gradient: f64) -> Self {
        self.background = mean;
        self.gradient = gradient;
        self
    }

    /// Uniform noise in `[-amplitude, amplitude)` at each grid point and
    /// frame, from `seed`; default none.
    pub fn noise(mut self, amplitude: f64, seed: u64) -> Self {
        self.noise = amplitude;
        self.seed = seed;
        self
    }

    /// Plants one storm.
    pub fn storm(mut self, storm: PlantedStorm) -> Self {
        self.storms.push(storm);
        self
    }

    /// Plants `count` random storms from `seed`, alternately lows and highs,
    /// between 70°S and 70°N, moving eastward, kept at least
    /// `min_separation_deg` (default 25°) from each other at every frame.
    pub fn random_storms(mut self, count: usize, seed: u64) -> Self {
        self.random = Some((count, seed));
        self
    }

    /// The least great-circle distance between random storms, degrees.
    pub fn min_separation(mut self, deg: f64) -> Self {
        self.min_separation_deg = deg;
        self
    }

    /// Variable name and units reported by the source (default `msl`, `Pa`).
    pub fn variable(mut self, name: impl Into<String>, units: impl Into<String>) -> Self {
        self.variable = name.into();
        self.units = units.into();
        self
    }

    /// The series; fails if a storm leaves the sphere or random storms
    /// cannot be placed apart.
    pub fn build(self) -> Result<SyntheticSeries> {
        let calendar = Calendar::Standard;
        let start_ms = calendar.to_millis(self.start)?;
        let step_ms = i64::from(self.step_hours) * 3_600_000;
        let times: Vec<Timestamp> =
            (0..self.frames).map(|k| calendar.from_millis(start_ms + k as i64 * step_ms)).collect();
        let mut storms = self.storms.clone();
        if let Some((count, seed)) = self.random {
            storms.extend(place_random_storms(count, seed, self.frames, self.min_separation_deg, &storms)?);
        }
        for (k, s) in storms.iter().enumerate() {
            if !s.radius_deg.is_finite() || s.radius_deg <= 0.0 || !s.amplitude.is_finite() {
                return Err(Error::InvalidArgument(format!("storm {k} needs a positive radius and finite amplitude")));
            }
            for f in s.first_frame..s.first_frame + s.frames {
                if s.position(f).0.abs() > 89.0 {
                    return Err(Error::InvalidArgument(format!("storm {k} reaches a pole at frame {f}")));
                }
            }
        }
        let grid = Arc::new(self.grid);
        let info = SourceInfo {
            variable: self.variable,
            units: Some(self.units),
            long_name: Some("synthetic field with planted storms".into()),
            grid: Arc::clone(&grid),
            times,
            calendar,
            origin: "synthetic".into(),
        };
        Ok(SyntheticSeries {
            info,
            background: self.background,
            gradient: self.gradient,
            noise: self.noise,
            seed: self.seed,
            storms,
        })
    }
}

/// A synthetic time series of fields with planted storms; see the module docs.
#[derive(Debug, Clone)]
pub struct SyntheticSeries {
    info: SourceInfo,
    background: f64,
    gradient: f64,
    noise: f64,
    seed: u64,
    storms: Vec<PlantedStorm>,
}

impl SyntheticSeries {
    /// A builder on `grid` with the defaults listed on its methods.
    pub fn builder(grid: Grid) -> SyntheticBuilder {
        SyntheticBuilder {
            grid,
            frames: 20,
            start: Timestamp::from_ymdh(2000, 1, 1, 0).unwrap_or_else(|_| unreachable!("valid constant date")),
            step_hours: 6,
            background: 101_325.0,
            gradient: 1000.0,
            noise: 0.0,
            seed: 0,
            storms: Vec::new(),
            random: None,
            min_separation_deg: 25.0,
            variable: "msl".into(),
            units: "Pa".into(),
        }
    }

    /// The planted storms.
    pub fn storms(&self) -> &[PlantedStorm] {
        &self.storms
    }

    /// The noise-free field value at a point and frame.
    pub fn exact_value(&self, frame: usize, lat_deg: f64, lon_deg: f64) -> f64 {
        let mut v = self.background + self.gradient * lat_deg.to_radians().sin();
        for s in self.storms.iter().filter(|s| s.is_alive(frame)) {
            let (slat, slon) = s.position(frame);
            let d = great_circle_angle_deg(lat_deg, lon_deg, slat, slon) / s.radius_deg;
            v += s.amplitude * (-d * d).exp();
        }
        v
    }

    /// The true storm centres: one track per planted storm (id = its index),
    /// only lows or highs if `mode` says so, with the noise-free field value
    /// at each centre.
    pub fn planted_tracks(&self, mode: Option<DetectionMode>) -> Tracks {
        let mut b = TracksBuilder::new([self.info.variable.clone()]);
        b.metadata(TracksMetadata {
            calendar: self.info.calendar,
            variable: Some(self.info.variable.clone()),
            detection_mode: mode,
            algorithm: Some("planted".into()),
            ..Default::default()
        });
        for (id, s) in self.storms.iter().enumerate() {
            if mode.is_some_and(|m| m != s.mode()) {
                continue;
            }
            b.begin_track(id as u64);
            let end = (s.first_frame + s.frames).min(self.info.times.len());
            for f in s.first_frame..end {
                let (lat, lon) = s.position(f);
                // Positions were validated at build time, so push cannot fail.
                let _ = b.push(self.info.times[f], lat, lon, &[self.exact_value(f, lat, lon)]);
            }
            let _ = b.end_track();
        }
        b.finish().unwrap_or_default()
    }
}

impl FieldSource for SyntheticSeries {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let time = self.info.frame_time(index)?;
        let grid = &self.info.grid;
        let (nlat, nlon) = grid.shape();
        let mut values = Array2::zeros((nlat, nlon));
        for (i, mut row) in values.rows_mut().into_iter().enumerate() {
            row.fill(self.background + self.gradient * grid.lat(i).to_radians().sin());
        }
        let lon_vectors: Vec<[f64; 3]> = grid.lons().iter().map(|&l| unit_vector(0.0, l)).collect();
        for s in self.storms.iter().filter(|s| s.is_alive(index)) {
            let (slat, slon) = s.position(index);
            let c = unit_vector(slat, slon);
            let cutoff = CUTOFF_RADII * s.radius_deg;
            for i in 0..nlat {
                let lat = grid.lat(i);
                if (lat - slat).abs() > cutoff {
                    continue;
                }
                let (sin_lat, cos_lat) = lat.to_radians().sin_cos();
                for j in 0..nlon {
                    let e = lon_vectors[j];
                    let dot = (cos_lat * (e[0] * c[0] + e[1] * c[1]) + sin_lat * c[2]).clamp(-1.0, 1.0);
                    let d = dot.acos().to_degrees();
                    if d <= cutoff {
                        let x = d / s.radius_deg;
                        values[[i, j]] += s.amplitude * (-x * x).exp();
                    }
                }
            }
        }
        if self.noise > 0.0 {
            for ((i, j), v) in values.indexed_iter_mut() {
                *v += self.noise * uniform_noise(self.seed, index, i, j);
            }
        }
        Frame::new(Arc::clone(grid), time, values)
    }
}

/// A SplitMix64 step: a small, well-mixed deterministic hash.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Uniform in `[-1, 1)`, a pure function of its arguments.
fn uniform_noise(seed: u64, frame: usize, i: usize, j: usize) -> f64 {
    let h = splitmix64(seed ^ splitmix64(frame as u64 ^ splitmix64(((i as u64) << 32) | j as u64)));
    (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// A deterministic stream of uniforms in `[0, 1)`.
pub(crate) struct Uniforms(pub(crate) u64);

impl Uniforms {
    pub(crate) fn next(&mut self) -> f64 {
        self.0 = splitmix64(self.0);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

fn place_random_storms(
    count: usize,
    seed: u64,
    frames: usize,
    min_separation_deg: f64,
    existing: &[PlantedStorm],
) -> Result<Vec<PlantedStorm>> {
    let mut rng = Uniforms(seed);
    let mut placed: Vec<PlantedStorm> = existing.to_vec();
    let first_new = placed.len();
    let mut attempts = 0usize;
    while placed.len() - first_new < count {
        attempts += 1;
        if attempts > 2000 * (count + 1) {
            return Err(Error::InvalidArgument(format!(
                "could not place {count} storms {min_separation_deg}° apart in {frames} frames"
            )));
        }
        let first_frame = (rng.next() * frames.saturating_sub(2) as f64) as usize;
        let left = frames - first_frame;
        let lifetime = (3 + (rng.next() * 30.0) as usize).min(left);
        let lat = rng.range(-70.0, 70.0);
        let storm = PlantedStorm {
            first_frame,
            frames: lifetime,
            lat_deg: lat,
            lon_deg: rng.range(0.0, 360.0),
            dlat_deg: rng.range(-0.4, 0.4),
            dlon_deg: rng.range(0.3, 2.0),
            amplitude: if (placed.len() - first_new).is_multiple_of(2) {
                -rng.range(800.0, 3000.0)
            } else {
                rng.range(800.0, 3000.0)
            },
            radius_deg: rng.range(4.0, 8.0),
        };
        let end = storm.first_frame + storm.frames;
        let stays_on_sphere = (storm.first_frame..end).all(|f| storm.position(f).0.abs() <= 80.0);
        let apart = placed.iter().all(|o| {
            (storm.first_frame..end).filter(|&f| o.is_alive(f)).all(|f| {
                let (a, b) = (storm.position(f), o.position(f));
                great_circle_angle_deg(a.0, a.1, b.0, b.1) >= min_separation_deg
            })
        });
        if stays_on_sphere && apart && storm.frames >= 1 {
            placed.push(storm);
        }
    }
    Ok(placed.split_off(first_new))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn frames_are_deterministic_and_order_free() {
        let s = SyntheticSeries::builder(Grid::regular_global(5.0).unwrap())
            .frames(6)
            .random_storms(6, 42)
            .noise(5.0, 7)
            .build()
            .unwrap();
        let f3 = s.read_frame(3).unwrap();
        let _ = s.read_frame(1).unwrap();
        assert_eq!(s.read_frame(3).unwrap(), f3);
        let again = SyntheticSeries::builder(Grid::regular_global(5.0).unwrap())
            .frames(6)
            .random_storms(6, 42)
            .noise(5.0, 7)
            .build()
            .unwrap();
        assert_eq!(again.read_frame(3).unwrap(), f3);
        assert_eq!(s.storms().len(), 6);
    }

    #[test]
    fn random_storms_keep_apart() {
        let s = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap())
            .frames(40)
            .random_storms(12, 1)
            .build()
            .unwrap();
        let storms = s.storms();
        for (a, sa) in storms.iter().enumerate() {
            for sb in &storms[a + 1..] {
                for f in 0..40 {
                    if sa.is_alive(f) && sb.is_alive(f) {
                        let (p, q) = (sa.position(f), sb.position(f));
                        assert!(great_circle_angle_deg(p.0, p.1, q.0, q.1) >= 25.0);
                    }
                }
            }
        }
        let lows = s.planted_tracks(Some(DetectionMode::Min));
        let highs = s.planted_tracks(Some(DetectionMode::Max));
        assert_eq!(lows.len() + highs.len(), 12);
        assert!(lows.iter().all(|t| t.variable("msl").unwrap().iter().all(|&v| v < 101_325.0 + 1000.0)));
    }

    #[test]
    fn grid_values_match_the_exact_field() {
        let s = SyntheticSeries::builder(Grid::regular_global(2.5).unwrap())
            .frames(3)
            .storm(PlantedStorm::low(0, 3, -45.0, 10.0).moving(1.0, 2.0))
            .build()
            .unwrap();
        let frame = s.read_frame(2).unwrap();
        let g = frame.grid().clone();
        for (i, j) in [(54, 5), (0, 0), (36, 100), (55, 6)] {
            let exact = s.exact_value(2, g.lat(i), g.lon(j));
            assert!((frame.value(i, j) - exact).abs() < 1e-6, "{i} {j}");
        }
        assert!(s.read_frame(3).is_err());
        assert!(
            SyntheticSeries::builder(Grid::regular_global(2.5).unwrap())
                .storm(PlantedStorm::low(0, 20, 80.0, 0.0).moving(1.0, 0.0))
                .build()
                .is_err()
        );
    }
}
