//! Runnable examples of the pst crates; see the `[[example]]` targets:
//!
//! - `track_file`: track a netCDF file with the Simple tracker and write IMILAST.
//! - `synthetic`: plant storms in a synthetic series and check they are found.

/// Path of the embedded default input (ERA5 msl, December 2025, 2.5°).
pub const DEFAULT_INPUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/era5_msl_2025-12_2.5x2.5.nc");
