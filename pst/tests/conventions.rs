//! A user's tracks do not depend on how their file orders its axes: the
//! real DJF msl series in all four layouts (latitudes north to south or
//! south to north, longitudes 0…360 or −180…180) gives the same tracks,
//! with the Simple tracker and the Hodges tracker on the T5–42 band-pass.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use pst::ndarray::Array2;
use pst::{
    FieldSource, Frame, Grid, HodgesTracker, NoProgress, OpenOptions, Pipeline, Result, SimpleTracker, SourceInfo,
    Tracker, Tracks, open_source,
};

/// ERA5's layout (north to south, 0…357.5) turned into another.
struct Relaid {
    inner: Box<dyn FieldSource>,
    south_first: bool,
    signed: bool,
    info: SourceInfo,
}

impl Relaid {
    fn new(inner: Box<dyn FieldSource>, south_first: bool, signed: bool) -> Self {
        let grid = &inner.info().grid;
        let nlon = grid.nlon();
        let mut lats = grid.lats().to_vec();
        if south_first {
            lats.reverse();
        }
        let lons: Vec<f64> = if signed {
            (0..nlon).map(|j| grid.lon((j + nlon / 2) % nlon)).map(|l| if l >= 180.0 { l - 360.0 } else { l }).collect()
        } else {
            grid.lons().to_vec()
        };
        let info = SourceInfo { grid: Arc::new(Grid::new(lats, lons).unwrap()), ..inner.info().clone() };
        Relaid { inner, south_first, signed, info }
    }
}

impl FieldSource for Relaid {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let frame = self.inner.read_frame(index)?;
        let (nlat, nlon) = self.info.grid.shape();
        let v = frame.values();
        let row = |i: usize| if self.south_first { nlat - 1 - i } else { i };
        let col = |j: usize| if self.signed { (j + nlon / 2) % nlon } else { j };
        Frame::new(
            Arc::clone(&self.info.grid),
            frame.time(),
            Array2::from_shape_fn((nlat, nlon), |(i, j)| v[[row(i), col(j)]]),
        )
    }
}

fn layouts(rel: &str) -> Option<Vec<(String, Relaid)>> {
    let path = pst_testkit::data_file(rel)?;
    Some(
        [(false, false), (true, false), (false, true), (true, true)]
            .into_iter()
            .map(|(south_first, signed)| {
                let source = open_source(&path, "msl", &OpenOptions::default()).unwrap();
                (format!("south first {south_first}, signed {signed}"), Relaid::new(source, south_first, signed))
            })
            .collect(),
    )
}

/// The same tracks, to the bit (a count of what differs otherwise).
fn same(a: &Tracks, b: &Tracks, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: tracks");
    assert!(a.ids() == b.ids() && a.offsets() == b.offsets(), "{what}: ids or points per track differ");
    let differing = (0..a.num_points())
        .filter(|&k| {
            a.times()[k] != b.times()[k]
                || a.lats()[k].to_bits() != b.lats()[k].to_bits()
                || a.lons()[k].to_bits() != b.lons()[k].to_bits()
                || a.variable("msl").unwrap()[k].to_bits() != b.variable("msl").unwrap()[k].to_bits()
        })
        .count();
    assert_eq!(differing, 0, "{what}: {differing} of {} points differ", a.num_points());
}

#[test]
fn simple_tracks_do_not_depend_on_the_layout() {
    let Some(layouts) = layouts("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let tracks: Vec<(String, Tracks)> =
        layouts.iter().map(|(name, source)| (name.clone(), SimpleTracker::default().track(source).unwrap())).collect();
    assert_eq!(tracks[0].1.len(), 10_340);
    for (name, t) in &tracks[1..] {
        same(&tracks[0].1, t, name);
    }
}

#[test]
fn hodges_tracks_do_not_depend_on_the_layout() {
    let Some(layouts) = layouts("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let tracks: Vec<(String, Tracks)> = layouts
        .into_iter()
        .map(|(name, source)| {
            let pipeline = Pipeline::builder()
                .source(Arc::new(source))
                .band_pass(5, 42)
                .tracker(HodgesTracker::default())
                .build()
                .unwrap();
            let mut sink = pst::MemorySink::default();
            pipeline.track_into(&mut sink, &NoProgress).unwrap();
            (name, sink.into_tracks().unwrap())
        })
        .collect();
    assert_eq!(tracks[0].1.len(), 2_803);
    for (name, t) in &tracks[1..] {
        same(&tracks[0].1, t, name);
    }
}
