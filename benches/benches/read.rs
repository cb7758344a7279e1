//! Reading gridded input: the ERA5 DJF msl netCDF-4 frame by frame, against
//! a plain zlib inflate of the same compressed bytes (the file stores `msl`
//! as one deflate+shuffle chunk of 360 × 73 × 144 float32).

use std::io::Read;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pst_core::FieldSource;
use pst_io::{NetcdfSource, OpenOptions, ZarrSource};

const DECODED_BYTES: usize = 360 * 73 * 144 * 4;

/// The zlib stream in `file` that inflates to exactly the variable's size.
fn find_chunk(file: &[u8]) -> Option<&[u8]> {
    (0..file.len().saturating_sub(2)).find_map(|k| {
        // A zlib header: deflate method, window ≤ 32 KiB, valid check bits.
        if file[k] != 0x78 || (u16::from(file[k]) << 8 | u16::from(file[k + 1])) % 31 != 0 {
            return None;
        }
        let mut decoder = flate2::read::ZlibDecoder::new(&file[k..]);
        let mut out = Vec::with_capacity(DECODED_BYTES);
        decoder.by_ref().take(DECODED_BYTES as u64 + 1).read_to_end(&mut out).ok()?;
        (out.len() == DECODED_BYTES).then(|| &file[k..k + decoder.total_in() as usize])
    })
}

fn reading(c: &mut Criterion) {
    let Some(path) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.nc") else { return };
    let Ok(file) = std::fs::read(&path) else { return };
    let Some(chunk) = find_chunk(&file) else {
        eprintln!("no zlib stream of the expected size found");
        return;
    };
    let mut group = c.benchmark_group("djf_msl_series");
    group.throughput(Throughput::Bytes(DECODED_BYTES as u64));
    group.sample_size(20);
    group.bench_function("zlib_inflate_only", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(DECODED_BYTES);
            flate2::read::ZlibDecoder::new(chunk).read_to_end(&mut out).map(|_| out.len()).unwrap_or_default()
        })
    });
    group.bench_function("netcdf_every_frame", |b| {
        b.iter(|| {
            let Ok(source) = NetcdfSource::open(&path, "msl", &OpenOptions::default()) else { return 0.0 };
            (0..source.len()).map(|k| source.read_frame(k).map(|f| f.value(0, 0)).unwrap_or(0.0)).sum::<f64>()
        })
    });
    let Some(zarr) = pst_testkit::data_file("era5/era5_msl_2025-2026_djf_2.5x2.5.zarr") else { return };
    group.bench_function("zarr_every_frame", |b| {
        b.iter(|| {
            let Ok(source) = ZarrSource::open(&zarr, "msl", &OpenOptions::default()) else { return 0.0 };
            (0..source.len()).map(|k| source.read_frame(k).map(|f| f.value(0, 0)).unwrap_or(0.0)).sum::<f64>()
        })
    });
    group.finish();
}

criterion_group!(benches, reading);
criterion_main!(benches);
