//! PyStormTracker's own Hodges detection path ("vertex" connectivity):
//! 8-connected objects, non-strict extrema, optionally grouped.

use pst_core::{DetectionMode, Grid};

use crate::objects::{Objects, label_objects};

/// A feature point of the vertex path before refinement, in the order the
/// path reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct VertexPoint {
    /// Latitude, degrees: the grid point's, or the mean of a group's.
    pub lat: f64,
    /// Longitude, degrees: the grid point's, or the mean of a group's
    /// unwrapped about its first member (not normalised).
    pub lon: f64,
    /// The grid value of the (first) extremum, in the detector's units.
    pub value: f64,
    /// Grid point `(row, column)` of the (first) extremum.
    pub grid_point: (usize, usize),
    /// Its object's number (1-based, [`label_objects`]'s).
    pub object: u32,
    /// Its place in the order found (row-major over the first members),
    /// before the points are put in their final order.
    pub found: usize,
}

/// The names and units of the statistics [`object_statistics`] gives each
/// object, as PyStormTracker names them.
pub(crate) const OBJECT_STATISTICS: [(&str, &str); 5] = [
    ("object_gridcell_area_km2", "km2"),
    ("object_moment_fitted_area_km2", "km2"),
    ("object_moment_major_axis_km", "km"),
    ("object_moment_minor_axis_km", "km"),
    ("object_moment_orientation_degrees", "degrees"),
];

/// Each object's size and shape, PyStormTracker 0.8.0's
/// `_compute_object_properties` to the bit: the summed area of its grid
/// cells (a cell `R² cos φ Δφ Δλ`, radians, on pst's Earth radius; `Δy Δx`
/// on a projected grid, whose moments are then in km as they are), and the
/// ellipse of its second moments weighted by `|value − threshold|` in
/// degrees (longitudes unwrapped about the object's first grid point),
/// scaled to km at the centroid's latitude: its area `π · major · minor`,
/// the axes `2√λ` of the moment matrix's eigenvalues, and the major axis'
/// orientation, degrees anticlockwise from east (0 for a circle). Objects
/// with no weight have zero axes and orientation.
pub(crate) fn object_statistics(
    grid: &Grid,
    values: &[f64],
    labels: &[u32],
    objects: usize,
    threshold: f64,
) -> Vec<[f64; 5]> {
    const D2R: f64 = std::f64::consts::PI / 180.0;
    let radius_km = pst_core::EARTH_RADIUS_KM;
    let km_per_deg = radius_km * D2R;
    let (nlat, nlon) = grid.shape();
    let mut reference = vec![f64::NAN; objects];
    for (p, &label) in labels.iter().enumerate() {
        if label > 0 && reference[label as usize - 1].is_nan() {
            reference[label as usize - 1] = grid.lon(p % nlon);
        }
    }
    // On a projected grid the axes are km on a plane: cells are rectangles
    // and moments need no unwrapping or scaling (PyStormTracker's
    // `spherical_coords=False`).
    let planar = grid.projection().is_some();
    let spacing = |axis: &[f64]| if axis.len() > 1 { (axis[1] - axis[0]).abs() } else { 1.0 };
    let (dy, dx) = (spacing(grid.lats()), spacing(grid.lons()));
    let mut area = vec![0.0; objects];
    // m00, m10, m01, m20, m02, m11
    let mut moments = vec![[0.0f64; 6]; objects];
    for i in 0..nlat {
        let cell =
            if planar { dy * dx } else { radius_km * radius_km * (grid.lat(i) * D2R).cos() * (dy * D2R) * (dx * D2R) };
        for j in 0..nlon {
            let label = labels[i * nlon + j];
            if label == 0 {
                continue;
            }
            let k = label as usize - 1;
            area[k] += cell;
            let weight = (values[i * nlon + j] - threshold).abs();
            let y = grid.lat(i);
            let x = if planar {
                grid.lon(j)
            } else {
                reference[k] + (grid.lon(j) - reference[k] + 180.0).rem_euclid(360.0) - 180.0
            };
            let m = &mut moments[k];
            m[0] += weight;
            m[1] += weight * x;
            m[2] += weight * y;
            m[3] += weight * (x * x);
            m[4] += weight * (y * y);
            m[5] += weight * x * y;
        }
    }
    (0..objects)
        .map(|k| {
            let [m00, m10, m01, m20, m02, m11] = moments[k];
            if m00 == 0.0 {
                return [area[k], 0.0, 0.0, 0.0, 0.0];
            }
            let (cx, cy) = (m10 / m00, m01 / m00);
            let mu20 = m20 / m00 - cx * cx;
            let mu02 = m02 / m00 - cy * cy;
            let mu11 = m11 / m00 - cx * cy;
            let (a, b, c) = if planar {
                (mu20, mu11, mu02)
            } else {
                let km_per_deg_lon = km_per_deg * (cy * D2R).cos();
                (
                    mu20 * (km_per_deg_lon * km_per_deg_lon),
                    mu11 * km_per_deg_lon * km_per_deg,
                    mu02 * (km_per_deg * km_per_deg),
                )
            };
            let half_difference = (a - c) / 2.0;
            let term1 = (a + c) / 2.0;
            let term2 = (half_difference * half_difference + b * b).sqrt();
            let major = 2.0 * (term1 + term2).max(0.0).sqrt();
            let minor = 2.0 * (term1 - term2).max(0.0).sqrt();
            let orientation =
                if (a - c).abs() < 1e-10 { 0.0 } else { 0.5 * (2.0 * b).atan2(a - c) * 180.0 / std::f64::consts::PI };
            [area[k], std::f64::consts::PI * major * minor, major, minor, orientation]
        })
        .collect()
}

/// The feature points of one frame by PyStormTracker 0.8.0's detection
/// path for Hodges' `grid` and `quadratic` refinements (and any refinement
/// on a limited-area grid):
///
/// 1. objects: grid points at or beyond `threshold` joined with their eight
///    neighbours, across the dateline on a periodic grid, never across a
///    pole ([`label_objects`]);
/// 2. in objects of at least `min_object_points` points, every grid point
///    with no neighbour of its object strictly beyond it (non-strict: each
///    point of a flat extremum counts);
/// 3. with `group`, extrema that touch (eight neighbours, same object) are
///    one feature at their mean position (longitudes unwrapped about the
///    first), with the first's value; without, each is its own;
/// 4. ordered by their object's first column (the smallest column index it
///    covers), then the first row in that column, then latitude and
///    longitude ascending, then the order found (row-major).
///
/// `values` are row-major on `grid`; NaN is never part of an object.
/// Returns the points and the objects.
pub(crate) fn vertex_points(
    grid: &Grid,
    values: &[f64],
    threshold: f64,
    mode: DetectionMode,
    min_object_points: usize,
    group: bool,
) -> (Vec<VertexPoint>, Objects) {
    let (nlat, nlon) = grid.shape();
    let objects = label_objects(grid, values, threshold, mode);
    if objects.is_empty() {
        return (Vec::new(), objects);
    }
    let labels = objects.labels();
    // Each object's first column and the first row in it.
    let mut first = vec![(usize::MAX, usize::MAX); objects.len()];
    for (p, &label) in labels.iter().enumerate() {
        if label > 0 {
            let (i, j) = (p / nlon, p % nlon);
            let slot = &mut first[label as usize - 1];
            if (j, i) < *slot {
                *slot = (j, i);
            }
        }
    }
    let beyond = |neighbour: f64, value: f64| match mode {
        DetectionMode::Min => neighbour < value,
        DetectionMode::Max => neighbour > value,
    };
    let neighbours = |i: usize, j: usize| {
        (-1isize..=1).flat_map(move |di| (-1isize..=1).map(move |dj| (di, dj))).filter_map(move |(di, dj)| {
            if di == 0 && dj == 0 {
                return None;
            }
            let row = grid.clip_row(i as isize + di)?;
            let column = grid.wrap_col(j as isize + dj)?;
            Some(row * nlon + column)
        })
    };
    let mut extremum = vec![false; values.len()];
    for (p, &label) in labels.iter().enumerate() {
        if label == 0 || objects.size(label) < min_object_points {
            continue;
        }
        let (i, j) = (p / nlon, p % nlon);
        extremum[p] = !neighbours(i, j).any(|q| labels[q] == label && beyond(values[q], values[p]));
    }
    let mut points: Vec<(u32, VertexPoint)> = Vec::new();
    if group {
        // Groups of touching extrema of one object, numbered by their first
        // member in row-major order; members visited in row-major order.
        let mut group_of = vec![usize::MAX; values.len()];
        let mut members: Vec<Vec<usize>> = Vec::new();
        for p in 0..values.len() {
            if !extremum[p] || group_of[p] != usize::MAX {
                continue;
            }
            let id = members.len();
            let mut found = vec![p];
            group_of[p] = id;
            let mut stack = vec![p];
            while let Some(q) = stack.pop() {
                for r in neighbours(q / nlon, q % nlon) {
                    if extremum[r] && group_of[r] == usize::MAX && labels[r] == labels[p] {
                        group_of[r] = id;
                        found.push(r);
                        stack.push(r);
                    }
                }
            }
            found.sort_unstable();
            members.push(found);
        }
        for group in &members {
            let head = group[0];
            let (i0, j0) = (head / nlon, head % nlon);
            let reference = grid.lon(j0);
            let (mut lat_sum, mut lon_sum) = (0.0, 0.0);
            for &q in group {
                lat_sum += grid.lat(q / nlon);
                // Unwrapped across the seam only where there is one.
                lon_sum += if grid.is_periodic() {
                    reference + (grid.lon(q % nlon) - reference + 180.0).rem_euclid(360.0) - 180.0
                } else {
                    grid.lon(q % nlon)
                };
            }
            let count = group.len() as f64;
            points.push((
                labels[head],
                VertexPoint {
                    lat: lat_sum / count,
                    lon: lon_sum / count,
                    value: values[head],
                    grid_point: (i0, j0),
                    object: labels[head],
                    found: points.len(),
                },
            ));
        }
    } else {
        for (p, _) in extremum.iter().enumerate().filter(|(_, e)| **e) {
            let (i, j) = (p / nlon, p % nlon);
            points.push((
                labels[p],
                VertexPoint {
                    lat: grid.lat(i),
                    lon: grid.lon(j),
                    value: values[p],
                    grid_point: (i, j),
                    object: labels[p],
                    found: points.len(),
                },
            ));
        }
    }
    // A stable sort: equal keys keep the order found.
    points.sort_by(|(a_label, a), (b_label, b)| {
        first[*a_label as usize - 1]
            .cmp(&first[*b_label as usize - 1])
            .then(a.lat.total_cmp(&b.lat))
            .then(a.lon.total_cmp(&b.lon))
    });
    debug_assert!(nlat > 0);
    (points.into_iter().map(|(_, point)| point).collect(), objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid::new(vec![10.0, 5.0, 0.0, -5.0, -10.0], (0..8).map(|j| 45.0 * j as f64).collect()).unwrap()
    }

    /// A flat minimum of two points: two features ungrouped, one at their
    /// mean grouped; across the dateline the mean is unwrapped about the
    /// first member.
    #[test]
    fn plateaus_count_once_per_point_or_once_grouped() {
        let g = grid();
        let mut v = vec![10.0; 40];
        v[2 * 8] = -1.0; // row 2, column 0
        v[2 * 8 + 7] = -1.0; // row 2, column 7 (315°E), touching across the seam
        let (ungrouped, _) = vertex_points(&g, &v, 0.0, DetectionMode::Min, 1, false);
        assert_eq!(ungrouped.len(), 2);
        let (grouped, _) = vertex_points(&g, &v, 0.0, DetectionMode::Min, 1, true);
        assert_eq!(grouped.len(), 1);
        assert_eq!((grouped[0].lat, grouped[0].lon, grouped[0].value), (0.0, -22.5, -1.0));
    }

    /// Objects are ordered by their first column, whatever their rows.
    #[test]
    fn ordered_by_object_first_column() {
        let g = grid();
        let mut v = vec![10.0; 40];
        v[8 + 5] = -3.0; // row 1, column 5
        v[3 * 8 + 2] = -2.0; // row 3, column 2
        let (points, _) = vertex_points(&g, &v, 0.0, DetectionMode::Min, 1, false);
        let columns: Vec<usize> = points.iter().map(|p| p.grid_point.1).collect();
        assert_eq!(columns, [2, 5]);
    }

    #[test]
    fn nearest_node_takes_the_first_on_a_tie() {
        let g = grid();
        assert_eq!(g.first_nearest_index(7.5, 22.5, g.is_periodic()), (0, 0));
        assert_eq!(g.first_nearest_index(-9.0, 350.0, g.is_periodic()), (4, 0));
    }
}
