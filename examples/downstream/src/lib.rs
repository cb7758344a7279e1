//! A detector of one's own, run by pst's engine: the lows of sea-level
//! pressure that are deeper than their latitude's mean by a margin.

use pst::{DetectionMode, Detector, Frame, FrameCenters, Result};

/// Grid-point minima (strictly below their eight neighbours, in longitude
/// across the seam) at least `depth_pa` below the mean of their latitude
/// circle: a crude but honest detector of deep lows, of the kind a user
/// plugs into pst to compare with its own.
#[derive(Debug, Clone, Copy)]
pub struct DeepLows {
    /// How far below the zonal mean a low must be, in the field's units.
    pub depth_pa: f64,
}

impl Detector for DeepLows {
    fn detect(&self, frame: &Frame, frame_index: usize) -> Result<FrameCenters> {
        let grid = frame.grid();
        let (nlat, nlon) = grid.shape();
        let v = frame.values();
        let mut centers = FrameCenters::new(frame_index, frame.time());
        // Off a global grid, the edge columns have no neighbours beyond.
        let columns = if grid.is_periodic() { 0..nlon } else { 1..nlon.saturating_sub(1) };
        for i in 1..nlat.saturating_sub(1) {
            let finite: Vec<f64> = v.row(i).iter().copied().filter(|x| x.is_finite()).collect();
            let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
            for j in columns.clone() {
                let here = v[[i, j]];
                if !(here.is_finite() && here <= mean - self.depth_pa) {
                    continue;
                }
                let neighbour = |di: isize, dj: isize| {
                    v[[(i as isize + di) as usize, (j as isize + dj).rem_euclid(nlon as isize) as usize]]
                };
                let lowest = (-1..=1).all(|di| (-1..=1).all(|dj| (di, dj) == (0, 0) || neighbour(di, dj) > here));
                if lowest {
                    centers.push(grid.lat(i), grid.lon(j), here, (i, j));
                }
            }
        }
        Ok(centers)
    }

    fn mode(&self) -> Option<DetectionMode> {
        Some(DetectionMode::Min)
    }

    fn attributes(&self) -> Vec<(String, String)> {
        vec![("depth_pa".into(), self.depth_pa.to_string())]
    }
}
