//! Geometry on the sphere: distances, bearings, unit vectors, longitudes.
//!
//! All angles at this API are in degrees; radians appear only inside the
//! kernels. Distances on the Earth use one radius, [`EARTH_RADIUS_M`]; with
//! the `geo` feature, `EARTH` is `geo`'s haversine measure on that radius,
//! for code that works with `geo` types.

/// Earth radius in metres used by every pst computation: 6371.22 km, the
/// radius of TRACK, of NCL's spherical-harmonic routines and of
/// PyStormTracker, so that distance thresholds (e.g. the Simple linker's
/// 500 km) mean what they mean there.
pub const EARTH_RADIUS_M: f64 = 6_371_220.0;

/// `geo`'s haversine metric on a sphere of radius [`EARTH_RADIUS_M`]
/// (feature `geo`): `EARTH.distance(p, q)` equals [`great_circle_distance_m`].
#[cfg(feature = "geo")]
pub const EARTH: geo::HaversineMeasure = geo::HaversineMeasure::new(EARTH_RADIUS_M);

/// Mean Earth radius in kilometres.
pub const EARTH_RADIUS_KM: f64 = EARTH_RADIUS_M / 1000.0;

/// Wraps a longitude in degrees into `[-180, 180)`.
///
/// ```
/// use pst_core::normalize_lon_180;
/// assert_eq!(normalize_lon_180(190.0), -170.0);
/// assert_eq!(normalize_lon_180(180.0), -180.0);
/// assert_eq!(normalize_lon_180(-540.0), -180.0);
/// ```
pub fn normalize_lon_180(lon_deg: f64) -> f64 {
    if (-180.0..180.0).contains(&lon_deg) {
        // Leave in-range values bit-exact.
        return lon_deg;
    }
    let wrapped = (lon_deg + 180.0).rem_euclid(360.0) - 180.0;
    // rem_euclid can return 360 - ulp for tiny negatives; keep the half-open range.
    if wrapped >= 180.0 { wrapped - 360.0 } else { wrapped }
}

/// Wraps a longitude in degrees into `[0, 360)`.
///
/// ```
/// use pst_core::normalize_lon_360;
/// assert_eq!(normalize_lon_360(-90.0), 270.0);
/// assert_eq!(normalize_lon_360(360.0), 0.0);
/// ```
pub fn normalize_lon_360(lon_deg: f64) -> f64 {
    if (0.0..360.0).contains(&lon_deg) {
        return lon_deg;
    }
    let wrapped = lon_deg.rem_euclid(360.0);
    if wrapped >= 360.0 { 0.0 } else { wrapped }
}

/// The signed shortest longitude difference `to - from` in degrees, in
/// `[-180, 180)`.
///
/// ```
/// use pst_core::lon_difference;
/// assert_eq!(lon_difference(350.0, 10.0), 20.0);
/// assert_eq!(lon_difference(10.0, 350.0), -20.0);
/// ```
pub fn lon_difference(from_deg: f64, to_deg: f64) -> f64 {
    normalize_lon_180(to_deg - from_deg)
}

/// `to - from` wrapped into `[-180, 180)` degrees as PyStormTracker
/// computes it, `((to − from + 180) mod 360) − 180` with a floored modulo,
/// rounding through the `+ 180` (unlike [`lon_difference`], which keeps a
/// difference already in range bit-exact): for its choices of grid nodes and
/// distances, reproduced to the bit.
///
/// ```
/// use pst_core::wrapped_lon_difference;
/// assert_eq!(wrapped_lon_difference(350.0, 10.0), 20.0);
/// assert_eq!(wrapped_lon_difference(10.0, 190.0), -180.0);
/// ```
#[inline]
pub fn wrapped_lon_difference(from_deg: f64, to_deg: f64) -> f64 {
    (to_deg - from_deg + 180.0).rem_euclid(360.0) - 180.0
}

/// Great-circle distance in metres between two points given in degrees
/// (haversine on a sphere of radius [`EARTH_RADIUS_M`]).
///
/// # Units
/// Latitudes and longitudes in degrees; result in metres.
///
/// # Examples
/// ```
/// use approx::assert_relative_eq;
/// use pst_core::{great_circle_distance_m, EARTH_RADIUS_M};
/// // A quarter of a meridian.
/// let d = great_circle_distance_m(0.0, 0.0, 90.0, 0.0);
/// assert_relative_eq!(d, EARTH_RADIUS_M * std::f64::consts::FRAC_PI_2, max_relative = 1e-12);
/// // Across the dateline is short.
/// assert!(great_circle_distance_m(0.0, 179.5, 0.0, -179.5) < 112_000.0);
/// ```
pub fn great_circle_distance_m(lat1_deg: f64, lon1_deg: f64, lat2_deg: f64, lon2_deg: f64) -> f64 {
    // The haversine formula: accurate for tiny separations as well as large.
    let (phi1, phi2) = (lat1_deg.to_radians(), lat2_deg.to_radians());
    let half_dphi = (lat2_deg - lat1_deg).to_radians() / 2.0;
    let half_dlambda = (lon2_deg - lon1_deg).to_radians() / 2.0;
    let h = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    EARTH_RADIUS_M * (2.0 * h.sqrt().asin())
}

/// Great-circle (central) angle in degrees between two points in degrees.
///
/// Independent of the Earth radius: use it for thresholds stated in degrees
/// of arc (for example TRACK's `dmax`).
///
/// ```
/// use approx::assert_relative_eq;
/// use pst_core::great_circle_angle_deg;
/// assert_relative_eq!(great_circle_angle_deg(10.0, 20.0, 10.0, 20.0), 0.0);
/// assert_relative_eq!(great_circle_angle_deg(-90.0, 0.0, 90.0, 123.0), 180.0, epsilon = 1e-9);
/// ```
pub fn great_circle_angle_deg(lat1_deg: f64, lon1_deg: f64, lat2_deg: f64, lon2_deg: f64) -> f64 {
    (great_circle_distance_m(lat1_deg, lon1_deg, lat2_deg, lon2_deg) / EARTH_RADIUS_M).to_degrees()
}

/// Central angle in radians by the spherical law of cosines,
/// `acos(sin φ₁ sin φ₂ + cos φ₁ cos φ₂ cos(λ₁ − λ₂))`, evaluated in exactly
/// PyStormTracker's order of operations.
///
/// Use [`great_circle_distance_m`] in general (haversine is accurate for tiny
/// distances too); this form exists so the Simple linker breaks near-ties
/// bit-for-bit as PyStormTracker 0.8.0 does.
///
/// ```
/// use approx::assert_relative_eq;
/// use pst_core::{cosine_law_angle_rad, great_circle_angle_deg};
/// let a = cosine_law_angle_rad(37.5, 310.0, 40.0, 305.0).to_degrees();
/// assert_relative_eq!(a, great_circle_angle_deg(37.5, 310.0, 40.0, 305.0), max_relative = 1e-9);
/// ```
pub fn cosine_law_angle_rad(lat1_deg: f64, lon1_deg: f64, lat2_deg: f64, lon2_deg: f64) -> f64 {
    CosineLawPoint::new(lat1_deg, lon1_deg).angle_rad(&CosineLawPoint::new(lat2_deg, lon2_deg))
}

/// What [`cosine_law_angle_rad`] works out of each of its points (`sin φ`,
/// `cos φ`, `λ` in radians), kept for a point that meets many others: a
/// linker weighing each track's last centre against the next frame's
/// centres pays for two of the six transcendental functions a pair, not
/// six. Angles come out bit for bit as [`cosine_law_angle_rad`]'s.
///
/// ```
/// use pst_core::{CosineLawPoint, cosine_law_angle_rad};
/// let (a, b) = (CosineLawPoint::new(37.5, 310.0), CosineLawPoint::new(40.0, 305.0));
/// assert_eq!(a.angle_rad(&b), cosine_law_angle_rad(37.5, 310.0, 40.0, 305.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineLawPoint {
    sin_lat: f64,
    cos_lat: f64,
    lon_rad: f64,
}

impl CosineLawPoint {
    /// The point at `lat_deg` north, `lon_deg` east.
    pub fn new(lat_deg: f64, lon_deg: f64) -> Self {
        let phi = lat_deg.to_radians();
        CosineLawPoint { sin_lat: phi.sin(), cos_lat: phi.cos(), lon_rad: lon_deg.to_radians() }
    }

    /// The central angle in radians to `other`,
    /// `acos(sin φ₁ sin φ₂ + cos φ₁ cos φ₂ cos(λ₁ − λ₂))` in PyStormTracker's
    /// order of operations.
    pub fn angle_rad(&self, other: &Self) -> f64 {
        let dot = self.sin_lat * other.sin_lat + self.cos_lat * other.cos_lat * (self.lon_rad - other.lon_rad).cos();
        dot.clamp(-1.0, 1.0).acos()
    }

    /// The point's [`unit_vector`], from the sine and cosine of the latitude
    /// this point holds (one sine and cosine more, of the longitude, instead
    /// of two): the same bits.
    ///
    /// ```
    /// use pst_core::{CosineLawPoint, unit_vector};
    /// assert_eq!(CosineLawPoint::new(-37.25, 301.5).unit_vector(), unit_vector(-37.25, 301.5));
    /// ```
    pub fn unit_vector(&self) -> [f64; 3] {
        let (sin_lon, cos_lon) = self.lon_rad.sin_cos();
        [self.cos_lat * cos_lon, self.cos_lat * sin_lon, self.sin_lat]
    }
}

/// Initial bearing in degrees clockwise from north, in `[0, 360)`, of the
/// great circle from the first point to the second.
///
/// ```
/// use approx::assert_relative_eq;
/// use pst_core::bearing_deg;
/// assert_relative_eq!(bearing_deg(0.0, 0.0, 0.0, 10.0), 90.0, epsilon = 1e-9);
/// assert_relative_eq!(bearing_deg(0.0, 0.0, 10.0, 0.0), 0.0, epsilon = 1e-9);
/// ```
pub fn bearing_deg(lat1_deg: f64, lon1_deg: f64, lat2_deg: f64, lon2_deg: f64) -> f64 {
    let (phi1, phi2) = (lat1_deg.to_radians(), lat2_deg.to_radians());
    let dlambda = (lon2_deg - lon1_deg).to_radians();
    let east = phi2.cos() * dlambda.sin();
    let north = phi1.cos() * phi2.sin() - phi1.sin() * phi2.cos() * dlambda.cos();
    normalize_lon_360(east.atan2(north).to_degrees())
}

/// The unit vector `[cos φ cos λ, cos φ sin λ, sin φ]` of a point, for
/// Euclidean k-d trees on the sphere.
///
/// The Euclidean (chord) distance between two unit vectors is
/// [`chord_from_angle_deg`] of their great-circle angle, and grows with it, so
/// a nearest neighbour by chord is a nearest neighbour on the sphere.
///
/// ```
/// use approx::assert_relative_eq;
/// use pst_core::{unit_vector, chord_from_angle_deg, great_circle_angle_deg};
/// let (a, b) = (unit_vector(45.0, 179.0), unit_vector(44.0, -178.0));
/// let chord = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
/// let angle = great_circle_angle_deg(45.0, 179.0, 44.0, -178.0);
/// assert_relative_eq!(chord, chord_from_angle_deg(angle), max_relative = 1e-9);
/// ```
pub fn unit_vector(lat_deg: f64, lon_deg: f64) -> [f64; 3] {
    CosineLawPoint::new(lat_deg, lon_deg).unit_vector()
}

/// Chord length on the unit sphere subtending a great-circle angle in degrees.
pub fn chord_from_angle_deg(angle_deg: f64) -> f64 {
    2.0 * (angle_deg.to_radians() / 2.0).sin()
}

/// Great-circle angle in degrees subtended by a chord on the unit sphere.
pub fn angle_deg_from_chord(chord: f64) -> f64 {
    (2.0 * (chord / 2.0).clamp(-1.0, 1.0).asin()).to_degrees()
}

#[cfg(test)]
mod test {
    use super::*;
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    #[test]
    fn one_degree_of_the_equator() {
        let d = great_circle_distance_m(0.0, 0.0, 0.0, 1.0);
        assert_relative_eq!(d, EARTH_RADIUS_M * 1f64.to_radians(), max_relative = 1e-12);
    }

    #[cfg(feature = "geo")]
    proptest! {
        /// One radius everywhere: ours and the one inside the geo metric give
        /// the same distances and bearings.
        #[test]
        fn formulas_match_geo(a in lat(), b in lon(), c in lat(), d in lon()) {
            use geo::{Bearing, Distance, Point};
            let (p, q) = (Point::new(b, a), Point::new(d, c));
            prop_assert_eq!(EARTH.radius(), EARTH_RADIUS_M);
            let ours = great_circle_distance_m(a, b, c, d);
            prop_assert!((EARTH.distance(p, q) - ours).abs() <= 1e-9 * ours.max(1.0));
            let (x, y) = (EARTH.bearing(p, q), bearing_deg(a, b, c, d));
            prop_assert!(lon_difference(x, y).abs() < 1e-9 || ours < 1e-3);
        }
    }

    #[test]
    fn normalisation_edges() {
        assert_eq!(normalize_lon_180(-180.0), -180.0);
        assert_eq!(normalize_lon_180(179.999), 179.999);
        assert_eq!(normalize_lon_180(-1e-300), -1e-300);
        assert_eq!(normalize_lon_360(-1e-300), 0.0);
        assert_eq!(normalize_lon_360(720.5), 0.5);
    }

    fn lat() -> impl Strategy<Value = f64> {
        -90.0..=90.0f64
    }
    fn lon() -> impl Strategy<Value = f64> {
        -540.0..540.0f64
    }

    proptest! {
        #[test]
        fn normalized_longitudes_are_in_range(l in -1e6..1e6f64) {
            let a = normalize_lon_180(l);
            prop_assert!((-180.0..180.0).contains(&a));
            let b = normalize_lon_360(l);
            prop_assert!((0.0..360.0).contains(&b));
            prop_assert!(lon_difference(a, b).abs() < 1e-6);
        }

        #[test]
        fn distance_is_symmetric(a in lat(), b in lon(), c in lat(), d in lon()) {
            let ab = great_circle_distance_m(a, b, c, d);
            let ba = great_circle_distance_m(c, d, a, b);
            prop_assert!((ab - ba).abs() <= 1e-6);
            prop_assert!(ab >= 0.0);
            prop_assert!(ab <= std::f64::consts::PI * EARTH_RADIUS_M * (1.0 + 1e-12));
        }

        #[test]
        fn distance_triangle_inequality(
            a in lat(), b in lon(), c in lat(), d in lon(), e in lat(), f in lon()
        ) {
            let ac = great_circle_distance_m(a, b, e, f);
            let ab = great_circle_distance_m(a, b, c, d);
            let bc = great_circle_distance_m(c, d, e, f);
            prop_assert!(ac <= ab + bc + 1e-6);
        }

        #[test]
        fn distance_invariant_under_longitude_rotation(
            a in lat(), b in lon(), c in lat(), d in lon(), shift in -360.0..360.0f64
        ) {
            let d0 = great_circle_distance_m(a, b, c, d);
            let d1 = great_circle_distance_m(a, b + shift, c, d + shift);
            prop_assert!((d0 - d1).abs() < 1e-3);
        }

        /// The unit vector built from a cosine-law point has the bits of
        /// the one built from the degrees directly (`sin_cos` is a sine and
        /// a cosine: the point's stored ones).
        #[test]
        fn unit_vector_from_a_cosine_law_point_is_the_direct_one(a in lat(), b in -720.0..720.0f64) {
            let (sin_lat, cos_lat) = a.to_radians().sin_cos();
            let (sin_lon, cos_lon) = b.to_radians().sin_cos();
            let direct = [cos_lat * cos_lon, cos_lat * sin_lon, sin_lat];
            prop_assert_eq!(CosineLawPoint::new(a, b).unit_vector().map(f64::to_bits), direct.map(f64::to_bits));
        }

        #[test]
        fn chord_matches_angle(a in lat(), b in lon(), c in lat(), d in lon()) {
            let (u, v) = (unit_vector(a, b), unit_vector(c, d));
            let chord = ((u[0] - v[0]).powi(2) + (u[1] - v[1]).powi(2) + (u[2] - v[2]).powi(2)).sqrt();
            let angle = great_circle_angle_deg(a, b, c, d);
            prop_assert!((chord - chord_from_angle_deg(angle)).abs() < 1e-9);
            prop_assert!((angle_deg_from_chord(chord) - angle).abs() < 1e-5);
        }
    }
}
