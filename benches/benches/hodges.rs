//! The Hodges tracker's stages on the shared ERA5 DJF msl series,
//! band-passed to T5–42 as PyStormTracker's Hodges runs prepare it:
//! detection of one frame with and without B-spline refinement (the
//! difference is refinement), MGE linking of one 62-frame segment, and the
//! whole series on one thread (skipped when the data is absent); detection
//! of a real 0.25° ERA5 frame band-passed the same way (W5's kernel: threshold
//! objects, the B-spline surface over 721 × 1440 points and its searches);
//! and MGE linking of a synthetic segment as dense as band-passed vorticity.

use criterion::{Criterion, criterion_group, criterion_main};
use pst_core::{Calendar, Detector, FieldSource, Linker, Tracker};
use pst_hodges::{HodgesLinker, HodgesRefinement, HodgesTracker};
use pst_io::{OpenOptions, open_source};
use pst_spectral::{BandPass, FilteredSource};
use pst_track::{SeriesOptions, detect_series};

fn djf() -> Option<FilteredSource<Box<dyn FieldSource>>> {
    let Some(path) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else {
        eprintln!("hodges benchmarks skipped: no ERA5 DJF msl file under PST_DATA");
        return None;
    };
    let source = open_source(&path, "msl", &OpenOptions::default()).ok()?;
    FilteredSource::new(source, BandPass::new(5, 42).ok()?).ok()
}

/// One band-passed 0.25° frame and the source it came from.
fn quarter_degree() -> Option<(FilteredSource<Box<dyn FieldSource>>, pst_core::Frame)> {
    let Some(path) = pst_testkit::data_file("era5-frames/era5_msl_2025120100_0.25x0.25.nc") else {
        eprintln!("0.25° hodges benchmark skipped: no ERA5 0.25° frame under PST_DATA");
        return None;
    };
    let source = open_source(&path, "msl", &OpenOptions::default()).ok()?;
    let source = FilteredSource::new(source, BandPass::new(5, 42).ok()?).ok()?;
    let frame = source.read_frame(0).ok()?;
    Some((source, frame))
}

fn quarter_degree_detection(c: &mut Criterion) {
    let Some((source, frame)) = quarter_degree() else { return };
    let Ok(engine) = HodgesTracker::default().for_source(source.info()) else { return };
    let detector = engine.detector();
    let mut group = c.benchmark_group("hodges");
    group.sample_size(20);
    group.bench_function("detect_frame_bspline_0.25deg", |b| {
        b.iter(|| detector.detect(&frame, 0).map(|c| c.len()).unwrap_or_default())
    });
    group.finish();
}

fn dense(c: &mut Criterion) {
    let Ok(frames) = pst_benches::dense_feature_frames(400, 40) else { return };
    let linker = HodgesLinker::default();
    c.bench_function("hodges/mge_dense_400_points_40_frames", |b| {
        b.iter(|| linker.link(&frames, Calendar::Standard).map(|t| t.len()).unwrap_or_default())
    });
}

fn stages(c: &mut Criterion) {
    let Some(source) = djf() else { return };
    let Ok(frame) = source.read_frame(0) else { return };
    let mut group = c.benchmark_group("hodges");
    for refinement in [HodgesRefinement::Grid, HodgesRefinement::Bspline] {
        let Ok(engine) = HodgesTracker::default().refinement(refinement).for_source(source.info()) else { return };
        let detector = engine.detector();
        group.bench_function(format!("detect_frame_{refinement}"), |b| {
            b.iter(|| detector.detect(&frame, 0).map(|c| c.len()).unwrap_or_default())
        });
    }
    let Ok(engine) = HodgesTracker::default().for_source(source.info()) else { return };
    let options = SeriesOptions::default().threads(1).max_frames(62);
    let Ok(frames) = detect_series(&source, engine.detector(), &options) else { return };
    let linker = HodgesLinker::default().segment_frames(None);
    group.bench_function("mge_segment_62_frames", |b| {
        b.iter(|| linker.link(&frames, Calendar::Standard).map(|t| t.len()).unwrap_or_default())
    });
    group.sample_size(10);
    let tracker = HodgesTracker::default().threads(1);
    group.bench_function("djf_t5_42_bspline_1_thread", |b| {
        b.iter(|| tracker.track(&source).map(|t| t.len()).unwrap_or_default())
    });
    group.finish();
}

criterion_group!(benches, dense, stages, quarter_degree_detection);
criterion_main!(benches);
