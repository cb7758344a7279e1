//! Cyclonic sign: relative vorticity of a cyclone is positive in the
//! northern hemisphere and negative in the southern. TRACK tracks both
//! hemispheres' cyclones as maxima by multiplying the southern
//! hemisphere's field by −1; [`CyclonicSource`] does that to frames and
//! [`TrueSignSink`] gives the tracked values their true sign back.

use crate::{FieldSource, Frame, Result, SourceInfo, TrackSink, Tracks};

/// A source whose southern hemisphere (latitudes below 0) is multiplied by
/// −1, so cyclonic relative vorticity is positive everywhere: maxima are
/// the cyclones of both hemispheres.
///
/// The flipped field jumps at the equator wherever it is not zero there;
/// centres within a few degrees of it are artefacts of the flip as often as
/// not (TRACK's users leave the deep tropics out of vorticity tracking).
/// Flip after any band-pass: a spectral filter would spread the jump.
///
/// ```
/// use pst_core::{CyclonicSource, FieldSource, Grid, SyntheticSeries};
///
/// let grid = Grid::regular_global(30.0)?;
/// let series = SyntheticSeries::builder(grid).frames(1).background(1e-5, 0.0).build()?;
/// let cyclonic = CyclonicSource::new(series);
/// let frame = cyclonic.read_frame(0)?;
/// assert_eq!(frame.value(0, 0), 1e-5); // 90°N
/// assert_eq!(frame.value(3, 0), 1e-5); // the equator is left as it is
/// assert_eq!(frame.value(6, 0), -1e-5); // 90°S
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug)]
pub struct CyclonicSource<S> {
    inner: S,
    /// The grid rows south of the equator.
    southern_rows: Vec<usize>,
}

impl<S: FieldSource> CyclonicSource<S> {
    /// `inner` with its southern hemisphere's sign flipped.
    pub fn new(inner: S) -> Self {
        let southern_rows =
            inner.info().grid.lats().iter().enumerate().filter(|&(_, &lat)| lat < 0.0).map(|(i, _)| i).collect();
        CyclonicSource { inner, southern_rows }
    }
}

impl<S: FieldSource> FieldSource for CyclonicSource<S> {
    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let mut frame = self.inner.read_frame(index)?;
        let values = frame.values_mut();
        for &row in &self.southern_rows {
            values.row_mut(row).mapv_inplace(|v| -v);
        }
        Ok(frame)
    }
}

/// A [`TrackSink`] that multiplies the column `variable` by −1 at points
/// south of the equator: the values a tracker found on a
/// [`CyclonicSource`], with their true sign. Tracks without the column
/// pass unchanged.
#[derive(Debug)]
pub struct TrueSignSink<S> {
    inner: S,
    variable: String,
}

impl<S: TrackSink> TrueSignSink<S> {
    /// `inner`, receiving `variable` with its true sign.
    pub fn new(inner: S, variable: impl Into<String>) -> Self {
        TrueSignSink { inner, variable: variable.into() }
    }
}

impl<S: TrackSink> TrackSink for TrueSignSink<S> {
    fn accept(&mut self, mut tracks: Tracks) -> Result<()> {
        if let Some(values) = tracks.variable(&self.variable) {
            let restored = values.iter().zip(tracks.lats()).map(|(&v, &lat)| if lat < 0.0 { -v } else { v }).collect();
            let units = tracks.variables().iter().find(|v| v.name == self.variable).and_then(|v| v.units.clone());
            tracks.set_variable(&self.variable, units, restored)?;
        }
        self.inner.accept(tracks)
    }

    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemorySink, Timestamp, TracksBuilder};

    #[test]
    fn values_south_of_the_equator_get_their_sign_back() {
        let mut b = TracksBuilder::new(["vo", "other"]);
        b.begin_track(1);
        let t = |hour| Timestamp::from_ymdh(2025, 12, 1, hour).unwrap();
        b.push(t(0), 10.0, 0.0, &[2e-5, 1.0]).unwrap();
        b.push(t(6), -10.0, 0.0, &[3e-5, 1.0]).unwrap();
        b.push(t(12), 0.0, 0.0, &[4e-5, 1.0]).unwrap();
        b.end_track().unwrap();
        let mut sink = TrueSignSink::new(MemorySink::default(), "vo");
        sink.accept(b.finish().unwrap()).unwrap();
        sink.finish().unwrap();
        let tracks = sink.inner.into_tracks().unwrap();
        assert_eq!(tracks.variable("vo").unwrap(), [2e-5, -3e-5, 4e-5]);
        assert_eq!(tracks.variable("other").unwrap(), [1.0, 1.0, 1.0]);
    }
}
