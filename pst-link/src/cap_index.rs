//! A frame's centres indexed by latitude band and, within a band, by
//! longitude, for the question a linker asks of every track end: which
//! centres can lie within an angle of this point?

use pst_core::normalize_lon_360;

/// How much wider than asked a query looks, relative to the angle.
const RELATIVE_MARGIN: f64 = 1e-9;

/// How much wider than asked a query looks, degrees: 1.1 m on the ground,
/// far above the error of the angles a caller computes (an `acos` of a dot
/// product off by a few units in the last place is off by about 3e-8 rad,
/// under 2e-6°, where it is worst, for points nearly together).
const ABSOLUTE_MARGIN_DEG: f64 = 1e-5;

/// How much wider still, per degree of the longitudes' size: a caller's law
/// of cosines subtracts longitudes in radians, which rounds by about 2.2e-16
/// times their size (nothing at 0..360, more for longitudes counted on
/// round the globe many times).
const MARGIN_PER_LON_DEG: f64 = 1e-14;

/// Centres by latitude band (bands of equal width from the South Pole), in
/// each band by longitude in `[0, 360)`.
///
/// [`CapIndex::within`] finds a superset of the centres within an angle
/// of a point: the bands its latitudes reach, and in each the longitudes of
/// the cap (a cap holding a pole takes whole bands). The index only prunes;
/// the caller decides by its exact distance, so any centre it could
/// accept is among those found, and the result does not depend on the
/// index. A step costs O(N log N): a query is a few binary searches and the
/// centres in a box about the cap.
#[derive(Debug, Default)]
pub(crate) struct CapIndex {
    band_width_deg: f64,
    /// Where each band's entries start in `entries`, and their end.
    band_start: Vec<usize>,
    /// Centres' longitudes in `[0, 360)` and numbers, band after band, by
    /// longitude (then number) within a band.
    entries: Vec<(f64, usize)>,
    /// Whether some centre lies beyond ±90° of latitude, where a band no
    /// longer bounds the distance: then every query visits every centre.
    beyond_poles: bool,
    /// The angle the index was built for, degrees (with margins).
    radius_deg: f64,
    /// The largest |longitude| of the centres, degrees.
    widest_lon_deg: f64,
    /// Queries at longitudes no larger than this (degrees) share
    /// `shared_radius_deg` and its sine, the radius of the largest of them
    /// (a wider radius only prunes less): a sine a query was 1 % of a
    /// Simple run at 2.5°.
    shared_lon_bound_deg: f64,
    /// The radius of a query at `shared_lon_bound_deg`, degrees.
    shared_radius_deg: f64,
    /// Its sine.
    shared_sin_radius: f64,
}

impl CapIndex {
    /// Indexes the centres at `positions` (latitude and longitude in
    /// degrees, finite; centre `k` the `k`-th) for queries within
    /// `radius_deg` degrees of great circle.
    pub(crate) fn rebuild(&mut self, positions: impl Iterator<Item = (f64, f64)> + Clone, radius_deg: f64) {
        let n = positions.clone().count();
        self.radius_deg = radius_deg * (1.0 + RELATIVE_MARGIN) + ABSOLUTE_MARGIN_DEG;
        self.beyond_poles = positions.clone().any(|(lat, _)| lat.abs() > 90.0);
        self.widest_lon_deg = positions.clone().map(|(_, lon)| lon.abs()).fold(0.0, f64::max);
        self.shared_lon_bound_deg = self.widest_lon_deg.max(360.0);
        self.shared_radius_deg = self.query_radius_deg(self.shared_lon_bound_deg);
        self.shared_sin_radius = self.shared_radius_deg.to_radians().sin();
        // Bands about as wide as the radius, so a query reads two or three;
        // never more bands than centres (a tiny radius would ask for
        // millions): any width is correct, the query visits every band its
        // latitudes reach.
        let bands = ((180.0 / self.radius_deg).ceil().max(1.0) as usize).min(n.max(1));
        self.band_width_deg = 180.0 / bands as f64;
        let width = self.band_width_deg;
        // Grouped by band, then each band sorted by longitude.
        let band = |lat: f64| band_of(lat, width, bands);
        let banded = positions.clone().enumerate().map(|(k, (lat, lon))| (band(lat), (normalize_lon_360(lon), k)));
        group_by_bucket(bands, positions.map(|(lat, _)| band(lat)), banded, &mut self.band_start, &mut self.entries);
        for band in 0..bands {
            let range = self.band_start[band]..self.band_start[band + 1];
            self.entries[range].sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
    }

    /// The radius a query at a longitude of size `lon_size_deg` looks
    /// within, degrees: the index's with the margin for the longitudes'
    /// rounding.
    fn query_radius_deg(&self, lon_size_deg: f64) -> f64 {
        self.radius_deg + MARGIN_PER_LON_DEG * (lon_size_deg + self.widest_lon_deg)
    }

    /// Calls `visit(k)` once for each centre `k` that may lie within the
    /// index's radius of the point at `lat_deg`, `lon_deg` (finite), and
    /// for some that do not.
    pub(crate) fn within(&self, lat_deg: f64, lon_deg: f64, mut visit: impl FnMut(usize)) {
        let bands = self.band_start.len().saturating_sub(1);
        if bands == 0 {
            return;
        }
        let (radius, sin_radius) = if lon_deg.abs() <= self.shared_lon_bound_deg {
            (self.shared_radius_deg, self.shared_sin_radius)
        } else {
            let radius = self.query_radius_deg(lon_deg.abs());
            (radius, radius.to_radians().sin())
        };
        if self.beyond_poles || lat_deg.abs() > 90.0 {
            self.entries.iter().for_each(|&(_, k)| visit(k));
            return;
        }
        // Every point within the radius is within it in latitude; and, when
        // the cap holds no pole, within asin(sin r / cos φ) in longitude.
        let half_width_deg = if lat_deg.abs() + radius >= 90.0 {
            180.0
        } else {
            let ratio = sin_radius / lat_deg.to_radians().cos();
            if ratio >= 1.0 { 180.0 } else { ratio.asin().to_degrees() * (1.0 + RELATIVE_MARGIN) + ABSOLUTE_MARGIN_DEG }
        };
        let centre_lon = normalize_lon_360(lon_deg);
        let (west, east) = (centre_lon - half_width_deg, centre_lon + half_width_deg);
        let width = self.band_width_deg;
        for band in band_of(lat_deg - radius, width, bands)..=band_of(lat_deg + radius, width, bands) {
            let entries = &self.entries[self.band_start[band]..self.band_start[band + 1]];
            if half_width_deg >= 180.0 {
                entries.iter().for_each(|&(_, k)| visit(k));
                continue;
            }
            // The window, cut in two where it crosses 0°/360°: the two parts
            // do not overlap, as it is narrower than 360°.
            let mut interval = |from: f64, to: f64| {
                let first = entries.partition_point(|&(lon, _)| lon < from);
                let last = entries.partition_point(|&(lon, _)| lon <= to);
                entries[first..last.max(first)].iter().for_each(|&(_, k)| visit(k));
            };
            if west < 0.0 {
                interval(west + 360.0, 360.0);
                interval(0.0, east);
            } else if east >= 360.0 {
                interval(west, 360.0);
                interval(0.0, east - 360.0);
            } else {
                interval(west, east);
            }
        }
    }
}

/// Groups `items` (bucket, item) by bucket, each bucket's items in their
/// order in `items` (a counting sort): bucket `b`'s are
/// `out[starts[b]..starts[b + 1]]`, for `b` below `buckets` (each item's
/// bucket is). `buckets_of_items` gives the items' buckets alone, in the
/// same order: a caller may have them cheaper than the items.
pub(crate) fn group_by_bucket<T: Copy + Default>(
    buckets: usize,
    buckets_of_items: impl Iterator<Item = usize>,
    items: impl Iterator<Item = (usize, T)>,
    starts: &mut Vec<usize>,
    out: &mut Vec<T>,
) {
    starts.clear();
    starts.resize(buckets + 1, 0);
    for bucket in buckets_of_items {
        starts[bucket + 1] += 1;
    }
    for bucket in 0..buckets {
        starts[bucket + 1] += starts[bucket];
    }
    out.clear();
    out.resize(starts[buckets], T::default());
    // `starts[b + 1]` serves as bucket b's cursor (`starts[b]` is in use as
    // its start); afterwards it is bucket b's end again.
    for (bucket, item) in items {
        out[starts[bucket]] = item;
        starts[bucket] += 1;
    }
    starts.copy_within(0..buckets, 1);
    starts[0] = 0;
}

/// The band of latitude `lat_deg` among `bands` of `width_deg` from the
/// South Pole, clamped to the first and last.
fn band_of(lat_deg: f64, width_deg: f64, bands: usize) -> usize {
    // Monotone in the latitude (rounded additions and divisions by a
    // positive number are), so a query's range of bands, computed the same
    // way, holds every centre whose latitude is in its range.
    (((lat_deg + 90.0) / width_deg).floor().max(0.0) as usize).min(bands - 1)
}

#[cfg(test)]
mod test {
    use proptest::prelude::*;
    use pst_core::cosine_law_angle_rad;

    use super::*;

    fn found(index: &CapIndex, lat: f64, lon: f64) -> Vec<usize> {
        let mut hits = Vec::new();
        index.within(lat, lon, |k| hits.push(k));
        hits.sort_unstable();
        hits
    }

    proptest! {
        /// Every centre whose law-of-cosines angle is within the radius is
        /// found, once: on grids (ties, the seam, the poles), anywhere in
        /// longitude, for radii from metres to beyond a hemisphere.
        #[test]
        fn every_centre_within_the_radius_is_found_once(
            points in proptest::collection::vec((-90.0..=90.0f64, -400.0..400.0f64), 0..60),
            queries in proptest::collection::vec((-90.0..=90.0f64, -400.0..400.0f64), 1..20),
            radius_deg in prop_oneof![1e-7..1e-3f64, 0.1..10.0f64, 10.0..200.0f64],
            grid in proptest::bool::ANY,
        ) {
            let snap = |x: f64| if grid { (x / 2.5).round() * 2.5 } else { x };
            let lats: Vec<f64> = points.iter().map(|p| snap(p.0).clamp(-90.0, 90.0)).collect();
            let lons: Vec<f64> = points.iter().map(|p| snap(p.1)).collect();
            let mut index = CapIndex::default();
            index.rebuild(lats.iter().copied().zip(lons.iter().copied()), radius_deg);
            for &(lat, lon) in &queries {
                let (lat, lon) = (snap(lat).clamp(-90.0, 90.0), snap(lon));
                let hits = found(&index, lat, lon);
                prop_assert!(hits.windows(2).all(|w| w[0] < w[1]), "a centre found twice: {:?}", hits);
                for k in 0..lats.len() {
                    let angle = cosine_law_angle_rad(lat, lon, lats[k], lons[k]).to_degrees();
                    if angle <= radius_deg {
                        prop_assert!(hits.binary_search(&k).is_ok(), "centre {} at {} deg missed", k, angle);
                    }
                }
            }
        }
    }

    proptest! {
        /// Centres placed at the radius itself, in any direction (a hair
        /// inside or outside it), are found whenever their law-of-cosines
        /// angle is within it: where the cap's edge meets the box, and for
        /// tiny radii, where that angle is least exact.
        #[test]
        fn centres_on_the_edge_of_the_cap_are_found(
            lat in -89.9..89.9f64,
            lon in -180.0..540.0f64,
            bearing_deg in 0.0..360.0f64,
            toward in 0..5usize,
            radius_deg in prop_oneof![1e-8..1e-4f64, 0.1..10.0f64, 30.0..120.0f64],
            nudge in prop_oneof![-1e-6..1e-6f64, -1e-13..1e-13f64],
        ) {
            let (phi, delta) = (lat.to_radians(), (radius_deg * (1.0 + nudge)).to_radians());
            // Where the cap touches its box: due north or south, or at the
            // bearing of its farthest longitude east or west.
            let farthest_east = (phi.tan() * delta.tan()).clamp(-1.0, 1.0).acos();
            let theta = match toward {
                0 => bearing_deg.to_radians(),
                1 => 0.0,
                2 => std::f64::consts::PI,
                3 => farthest_east,
                _ => -farthest_east,
            };
            let lat2 = (phi.sin() * delta.cos() + phi.cos() * delta.sin() * theta.cos()).asin();
            let lon2 = lon.to_radians()
                + (theta.sin() * delta.sin() * phi.cos()).atan2(delta.cos() - phi.sin() * lat2.sin());
            let (lat2, lon2) = (lat2.to_degrees(), lon2.to_degrees());
            let mut index = CapIndex::default();
            // Company in other bands, so that bands are narrow.
            let lats = [lat2, -lat2, 0.0, 45.0, -80.0];
            let lons = [lon2, lon2 + 90.0, 10.0, 200.0, 300.0];
            index.rebuild(lats.iter().copied().zip(lons.iter().copied()), radius_deg);
            if cosine_law_angle_rad(lat, lon, lat2, lon2).to_degrees() <= radius_deg {
                prop_assert!(found(&index, lat, lon).contains(&0));
            }
        }
    }

    proptest! {
        /// Grouping by bucket is a stable sort by bucket, with the buckets'
        /// bounds, reusing buffers that held a longer grouping.
        #[test]
        fn grouping_by_bucket_is_a_stable_sort_by_bucket(
            buckets in 1usize..9,
            raw in proptest::collection::vec(0usize..100, 0..50),
        ) {
            let items: Vec<(usize, usize)> = raw.iter().enumerate().map(|(k, &b)| (b % buckets, k)).collect();
            let (mut starts, mut out) = (vec![7; 20], vec![3; 80]);
            group_by_bucket(buckets, items.iter().map(|&(b, _)| b), items.iter().copied(), &mut starts, &mut out);
            let mut sorted = items.clone();
            sorted.sort_by_key(|&(b, _)| b);
            prop_assert_eq!(&out, &sorted.iter().map(|&(_, k)| k).collect::<Vec<_>>());
            prop_assert_eq!(starts.len(), buckets + 1);
            for b in 0..buckets {
                prop_assert!(sorted[starts[b]..starts[b + 1]].iter().all(|&(bucket, _)| bucket == b));
            }
            prop_assert_eq!(starts[buckets], items.len());
        }
    }

    #[test]
    fn centres_across_the_seam_and_over_the_pole_are_found() {
        let (lats, lons) = ([10.0, 10.0, 89.0, -30.0], [359.9, -179.0, 181.0, 0.0]);
        let mut index = CapIndex::default();
        index.rebuild(lats.into_iter().zip(lons), 5.0);
        assert_eq!(found(&index, 10.0, 0.05), vec![0]);
        assert_eq!(found(&index, 88.0, 0.0), vec![2]);
        assert_eq!(found(&index, -30.0, 720.0), vec![3]);
        // Far from everything: nothing, not everything.
        assert!(found(&index, -60.0, 90.0).is_empty());
    }

    #[test]
    fn a_latitude_beyond_the_pole_makes_every_query_visit_everything() {
        let mut index = CapIndex::default();
        index.rebuild([(95.0, 0.0), (0.0, 0.0)].into_iter(), 1.0);
        assert_eq!(found(&index, -45.0, 90.0), vec![0, 1]);
    }

    #[test]
    fn an_empty_frame_has_nothing_to_find() {
        let mut index = CapIndex::default();
        index.rebuild(std::iter::empty(), 4.5);
        assert!(found(&index, 0.0, 0.0).is_empty());
    }
}
