//! The examples' own source passes the shipped source contract.
#![allow(clippy::unwrap_used)]

use pst::conformance::check_source;
use pst::{FieldSource, NetcdfSource, OpenOptions};
use pst_examples::{DEFAULT_INPUT, RotatedSeries};

#[test]
fn the_rotated_series_conforms() {
    let file = NetcdfSource::open(DEFAULT_INPUT, "msl", &OpenOptions::default()).unwrap();
    let series = RotatedSeries::new(file.read_frame(0).unwrap(), 12, 7, file.info());
    check_source(&series).unwrap();
}
