//! Detection and linking throughput at 0.25°, with a series made by rotating
//! one real ERA5 frame in longitude: frame k is the 0.25° msl frame of
//! 2025-12-01 00Z rolled east by 7k columns, 6 hours after frame k − 1.
//! Its source, [`RotatedSeries`], shows how to implement a `FieldSource`.
//!
//! `cargo run --release -p pst-examples --example highres -- [FRAMES] [THREADS] [MODE]`
//! (defaults 40 frames, 1 thread, `all`). MODE is
//! - `detect`: detection alone, centres counted and dropped: frames/s/core;
//! - `link`: centres detected and collected first, then linking alone timed;
//! - `track`: the whole streaming Simple tracker (what a user runs; measure
//!   its peak memory with `/usr/bin/time -v`);
//! - `all`: the three in turn.
//!
//! Frames are made one at a time from the single base frame, so memory holds
//! a few frames and the linked centres.

use std::time::Instant;

use pst::{
    FieldSource, Linker, NetcdfSource, OpenOptions, Result, SeriesOptions, SimpleDetector, SimpleLinker, SimpleTracker,
    Tracker, detect_series, detect_series_each,
};
use pst_examples::RotatedSeries;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let frames: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(40);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mode = args.next().unwrap_or_else(|| "all".to_string());
    let data =
        std::env::var("PST_DATA").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data").into());
    let path = format!("{data}/era5-frames/era5_msl_2025120100_0.25x0.25.nc");
    let file = NetcdfSource::open(&path, "msl", &OpenOptions::default())?;
    let series = RotatedSeries::new(file.read_frame(0)?, frames, 7, file.info());
    let (nlat, nlon) = series.info().grid.shape();
    println!("{frames} frames of {nlat}x{nlon} on {threads} thread(s)");
    let detector = SimpleDetector::new(pst::DetectionMode::Min);
    let options = SeriesOptions::default().threads(threads);
    let per_core = |seconds: f64| frames as f64 / seconds / threads as f64;

    if mode == "detect" || mode == "all" {
        let mut n = 0usize;
        let started = Instant::now();
        detect_series_each(&series, &detector, &options, |c| {
            n += c.len();
            Ok(())
        })?;
        let s = started.elapsed().as_secs_f64();
        println!("detect: {s:.3} s, {:.2} frames/s/core, {n} centres (incl. making each rotated frame)", per_core(s));
    }
    if mode == "link" || mode == "all" {
        let centres = detect_series(&series, &detector, &options)?;
        let n: usize = centres.iter().map(|c| c.len()).sum();
        let started = Instant::now();
        let tracks = SimpleLinker::default().link(&centres, series.info().calendar)?;
        let s = started.elapsed().as_secs_f64();
        println!(
            "link:   {s:.3} s, {:.0} frames/s, {:.0} centres/s, {} tracks (one thread)",
            frames as f64 / s,
            n as f64 / s,
            tracks.len()
        );
    }
    if mode == "track" || mode == "all" {
        let started = Instant::now();
        let tracks = SimpleTracker::default().mode(pst::DetectionMode::Min).threads(threads).track(&series)?;
        let s = started.elapsed().as_secs_f64();
        println!(
            "track:  {s:.3} s, {:.2} frames/s/core, {} tracks (detection and streaming link)",
            per_core(s),
            tracks.len()
        );
    }
    Ok(())
}
