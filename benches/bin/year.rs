//! Helpers for the year-at-0.25° memory and throughput measurements
//! (BENCHMARKS.md):
//!
//! - `pst-year write-zarr DIR FRAMES [ERA5_FRAME] [--chunks T,Y,X]`: a
//!   6-hourly msl series on ERA5's 0.25° grid (721×1440), written as a Zarr
//!   v3 store of zstd-compressed float32 chunks, one per frame unless
//!   `--chunks` gives another chunk shape (time, latitude, longitude: `24,721,1440`
//!   holds 24 frames a chunk, `1,64,64` tiles each frame). With `ERA5_FRAME` (the
//!   0.25° frame of `../shared/data/era5-frames/`), frame k is that frame
//!   turned east by 611·k columns modulo 1440 (152.75° jumps) and, for odd
//!   k, mirrored north–south: the field keeps ERA5's structure and centre
//!   count, while centres link for a frame or two at most (real tracks end
//!   after days; a pure rotation would let polar centres link forever);
//!   without it, pst-core's synthetic series. `benches/python/to_netcdf4.py`
//!   converts the store to netCDF-4.
//! - `pst-year read INPUT [THREADS]`: reads and decompresses every frame as the
//!   tracker does (same parallel reader, no detection) and prints frames/s:
//!   the cost the tracker's throughput is compared with.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use pst_core::{Detector, Error, FieldSource, Frame, FrameCenters, Grid, Result, SyntheticSeries};
use pst_io::{OpenOptions, open_source};
use pst_track::{SeriesOptions, detect_series_each};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("write-zarr") if (4..=7).contains(&args.len()) => {
            let mut rest: Vec<&str> = args[4..].iter().map(String::as_str).collect();
            let chunks = match rest.iter().position(|&a| a == "--chunks") {
                Some(k) if k + 1 < rest.len() => {
                    let shape = parse_chunks(rest[k + 1]);
                    rest.drain(k..k + 2);
                    Some(shape)
                }
                Some(_) => Some(Err(Error::InvalidArgument("--chunks needs T,Y,X".into()))),
                None => None,
            };
            args[3]
                .parse()
                .map_err(|e| Error::InvalidArgument(format!("FRAMES: {e}")))
                .and_then(|n| Ok((n, chunks.transpose()?)))
                .and_then(|(n, chunks)| write_zarr(Path::new(&args[2]), n, rest.first().map(Path::new), chunks))
        }
        Some("read") if args.len() >= 3 => {
            let threads = args.get(3).and_then(|t| t.parse().ok());
            read(Path::new(&args[2]), threads)
        }
        _ => Err(Error::InvalidArgument(
            "usage: pst-year write-zarr DIR FRAMES [ERA5_FRAME] [--chunks T,Y,X] | pst-year read INPUT [THREADS]"
                .into(),
        )),
    };
    if let Err(e) = result {
        eprintln!("pst-year: {e}");
        std::process::exit(2);
    }
}

/// A chunk shape `T,Y,X` (frames, latitudes, longitudes a chunk).
fn parse_chunks(text: &str) -> Result<[u64; 3]> {
    let sizes: Vec<u64> = text
        .split(',')
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::InvalidArgument(format!("--chunks {text}: {e}")))?;
    match sizes[..] {
        [t, y, x] if t > 0 && y > 0 && x > 0 => Ok([t, y, x]),
        _ => Err(Error::InvalidArgument(format!("--chunks {text}: expected three positive sizes T,Y,X"))),
    }
}

/// The synthetic year (or `frames` of it).
pub fn series(frames: usize) -> Result<SyntheticSeries> {
    SyntheticSeries::builder(Grid::regular_global(0.25)?)
        .frames(frames)
        .random_storms((frames / 2).max(4), 2025)
        .noise(2.0, 11)
        .build()
}

/// ERA5's frame, turned east by 611·k columns at frame k, mirrored
/// north–south at odd k.
struct JumpingEra5 {
    base: Frame,
    info: pst_core::SourceInfo,
}

impl JumpingEra5 {
    fn open(path: &Path, frames: usize) -> Result<Self> {
        let source = open_source(path, "msl", &OpenOptions::default())?;
        let base = source.read_frame(0)?;
        let calendar = pst_core::Calendar::ProlepticGregorian;
        let t0 = calendar.to_millis(pst_core::Timestamp::from_ymdh(2025, 1, 1, 0)?)?;
        let times = (0..frames).map(|k| calendar.from_millis(t0 + k as i64 * 6 * 3_600_000)).collect();
        let info =
            pst_core::SourceInfo { times, calendar, origin: "ERA5 frame, jumping".into(), ..source.info().clone() };
        Ok(JumpingEra5 { base, info })
    }
}

impl FieldSource for JumpingEra5 {
    fn info(&self) -> &pst_core::SourceInfo {
        &self.info
    }

    fn read_frame(&self, index: usize) -> Result<Frame> {
        let nlon = self.base.grid().nlon();
        let shift = (611 * index) % nlon;
        let base = self.base.values();
        let nlat = base.nrows();
        let row = |i: usize| if index % 2 == 1 { nlat - 1 - i } else { i };
        let values = ndarray::Array2::from_shape_fn(base.dim(), |(i, j)| base[[row(i), (j + nlon - shift) % nlon]]);
        Frame::new(self.base.grid().clone(), self.info.times[index], values)
    }
}

fn write_zarr(dir: &Path, frames: usize, era5: Option<&Path>, chunks: Option<[u64; 3]>) -> Result<()> {
    use zarrs::array::{ArrayBuilder, ArraySubset, data_type};
    use zarrs::filesystem::FilesystemStore;
    use zarrs::group::GroupBuilder;
    let zarr = |e: &dyn std::fmt::Display| Error::Format(format!("zarr: {e}"));
    let series: Box<dyn FieldSource> = match era5 {
        Some(path) => Box::new(JumpingEra5::open(path, frames)?),
        None => Box::new(series(frames)?),
    };
    let info = series.info();
    let (nlat, nlon) = info.grid.shape();
    let store = Arc::new(FilesystemStore::new(dir).map_err(|e| zarr(&e))?);
    GroupBuilder::new().build(store.clone(), "/").map_err(|e| zarr(&e))?.store_metadata().map_err(|e| zarr(&e))?;
    let calendar = info.calendar;
    let epoch = calendar.to_millis(info.times[0])?;
    let hours: Vec<f64> = info
        .times
        .iter()
        .map(|&t| calendar.to_millis(t).map(|ms| (ms - epoch) as f64 / 3.6e6))
        .collect::<Result<_>>()?;
    let coordinate = |name: &str, values: &[f64], attrs: serde_json::Value| -> Result<()> {
        let n = values.len() as u64;
        let mut b = ArrayBuilder::new(vec![n], vec![n], data_type::float64(), f64::NAN);
        b.dimension_names(Some([name]));
        if let Some(attrs) = attrs.as_object() {
            b.attributes(attrs.clone());
        }
        let a = b.build(store.clone(), &format!("/{name}")).map_err(|e| zarr(&e))?;
        a.store_metadata().map_err(|e| zarr(&e))?;
        a.store_array_subset(&ArraySubset::new_with_shape(vec![n]), values).map_err(|e| zarr(&e))
    };
    let start = info.times[0];
    coordinate("time", &hours, serde_json::json!({"units": format!("hours since {start}"), "calendar": "standard"}))?;
    coordinate("latitude", info.grid.lats(), serde_json::json!({"units": "degrees_north"}))?;
    coordinate("longitude", info.grid.lons(), serde_json::json!({"units": "degrees_east"}))?;
    let [chunk_frames, chunk_lats, chunk_lons] = chunks.unwrap_or([1, nlat as u64, nlon as u64]);
    let mut b = ArrayBuilder::new(
        vec![frames as u64, nlat as u64, nlon as u64],
        vec![chunk_frames, chunk_lats, chunk_lons],
        data_type::float32(),
        f32::NAN,
    );
    b.dimension_names(Some(["time", "latitude", "longitude"]))
        .bytes_to_bytes_codecs(vec![Arc::new(zarrs::array::codec::ZstdCodec::new(1, false))]);
    if let Some(attrs) =
        serde_json::json!({"units": "Pa", "standard_name": "air_pressure_at_mean_sea_level"}).as_object()
    {
        b.attributes(attrs.clone());
    }
    let msl = b.build(store.clone(), "/msl").map_err(|e| zarr(&e))?;
    msl.store_metadata().map_err(|e| zarr(&e))?;
    let started = Instant::now();
    // Whole time slabs of chunks at a time, so each chunk is written once.
    let slab = chunk_frames as usize;
    for first in (0..frames).step_by(slab) {
        let last = (first + slab).min(frames);
        let mut values: Vec<f32> = Vec::with_capacity((last - first) * nlat * nlon);
        for k in first..last {
            values.extend(series.read_frame(k)?.values().iter().map(|&v| v as f32));
        }
        let subset = ArraySubset::new_with_ranges(&[first as u64..last as u64, 0..nlat as u64, 0..nlon as u64]);
        msl.store_array_subset(&subset, values).map_err(|e| zarr(&e))?;
        if last / 100 > first / 100 {
            eprintln!("pst-year: {last} frames written in {:.0?}", started.elapsed());
        }
    }
    eprintln!("pst-year: wrote {frames} frames to {} in {:.1?}", dir.display(), started.elapsed());
    Ok(())
}

/// A detector that finds nothing: reading and decompressing alone.
struct ReadOnly;

impl Detector for ReadOnly {
    fn detect(&self, frame: &Frame, frame_index: usize) -> Result<FrameCenters> {
        Ok(FrameCenters::new(frame_index, frame.time()))
    }
}

fn read(path: &Path, threads: Option<usize>) -> Result<()> {
    let source = open_source(path, "msl", &OpenOptions::default())?;
    let started = Instant::now();
    let mut frames = 0usize;
    let options = match threads {
        Some(n) => SeriesOptions::default().threads(n),
        None => SeriesOptions::default(),
    };
    detect_series_each(source.as_ref(), &ReadOnly, &options, |_| {
        frames += 1;
        Ok(())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    println!("read {frames} frames of {} in {seconds:.2} s: {:.1} frames/s", path.display(), frames as f64 / seconds);
    Ok(())
}
