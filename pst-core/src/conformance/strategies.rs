//! proptest strategies for property-based tests of trackers and formats.
//!
//! ```
//! use proptest::prelude::*;
//! use pst_core::conformance::strategies;
//!
//! proptest! {
//!     #![proptest_config(ProptestConfig::with_cases(4))]
//!     fn collections_are_valid(tracks in strategies::tracks(5, 6)) {
//!         prop_assert!(tracks.iter().all(|t| t.times().windows(2).all(|w| w[0] < w[1])));
//!     }
//! }
//! # collections_are_valid();
//! ```

use proptest::prelude::*;

use crate::{Calendar, FrameCenters, Grid, PlantedStorm, SyntheticSeries, Tracks, TracksBuilder, TracksMetadata};

/// Global regular grids of 1°, 2°, 2.5°, 3.75° and 5°, with the poles.
pub fn grids() -> impl Strategy<Value = Grid> {
    proptest::sample::select(vec![1.0, 2.0, 2.5, 3.75, 5.0])
        .prop_filter_map("a global grid", |d| Grid::regular_global(d).ok())
}

/// Series of `frames` frames on [`grids`] coarser than 2°, with up to
/// `max_storms` storms planted at random (a seed drawn by proptest), and
/// noise of up to 30 Pa or none.
pub fn planted_series(frames: usize, max_storms: usize) -> impl Strategy<Value = SyntheticSeries> {
    (
        grids().prop_filter("coarse enough to keep tests quick", |g| g.nlon() <= 180),
        0..=max_storms,
        any::<u64>(),
        prop_oneof![Just(0.0), 0.0..30.0f64],
    )
        .prop_filter_map("storms that fit", move |(grid, storms, seed, noise)| {
            SyntheticSeries::builder(grid)
                .frames(frames)
                .random_storms(storms, seed)
                .noise(noise, seed ^ 0x5eed)
                .build()
                .ok()
        })
}

/// One moving low, as a [`PlantedStorm`]: anywhere within ±70° of
/// latitude, moving up to 2° per frame.
pub fn planted_low(frames: usize) -> impl Strategy<Value = PlantedStorm> {
    (-70.0..70.0f64, 0.0..360.0f64, -1.0..1.0f64, -2.0..2.0f64)
        .prop_map(move |(lat, lon, dlat, dlon)| PlantedStorm::low(0, frames, lat, lon).moving(dlat, dlon))
}

/// Up to `max_frames` frames, 6 hours apart, of up to `max_centres`
/// centres each within ±80° (values encode frame and position, `1000 ×
/// frame + index`): input for linkers.
pub fn frames_of_centres(max_frames: usize, max_centres: usize) -> impl Strategy<Value = Vec<FrameCenters>> {
    proptest::collection::vec(
        proptest::collection::vec((-80.0..80.0f64, 0.0..360.0f64), 0..=max_centres),
        1..=max_frames,
    )
    .prop_map(|raw| frames_at(&raw))
}

/// Frames 6 hours apart with centres at these `(lat, lon)` positions, one
/// list per frame; a centre's value encodes its frame and position, `1000 ×
/// frame + index`.
pub fn frames_at(positions: &[Vec<(f64, f64)>]) -> Vec<FrameCenters> {
    positions
        .iter()
        .enumerate()
        .map(|(k, points)| {
            let mut f = FrameCenters::new(k, Calendar::Standard.from_millis(k as i64 * 6 * 3_600_000));
            for (i, &(lat, lon)) in points.iter().enumerate() {
                f.push(lat, lon, (k * 1000 + i) as f64, (0, 0));
            }
            f
        })
        .collect()
}

/// Valid collections of up to `max_tracks` tracks of up to `max_points`
/// 6-hourly points, ids increasing with gaps, anywhere on the globe, with
/// an `msl` variable in Pa.
pub fn tracks(max_tracks: usize, max_points: usize) -> impl Strategy<Value = Tracks> {
    let track = (
        1u64..4,
        0i64..40,
        proptest::collection::vec((-89.0..89.0f64, -180.0..540.0f64, 9.0e4..1.05e5f64), 1..=max_points),
    );
    proptest::collection::vec(track, 0..=max_tracks).prop_filter_map("a valid collection", |raw| {
        let mut b = TracksBuilder::new(["msl"]);
        b.metadata(TracksMetadata { variable: Some("msl".into()), ..Default::default() });
        b.units("msl", "Pa").ok()?;
        let mut id = 0;
        for (gap, start, points) in raw {
            id += gap;
            b.begin_track(id);
            for (k, (lat, lon, value)) in points.into_iter().enumerate() {
                let t = Calendar::Standard.from_millis((start + k as i64) * 6 * 3_600_000);
                b.push(t, lat, lon, &[value]).ok()?;
            }
            b.end_track().ok()?;
        }
        b.finish().ok()
    })
}
