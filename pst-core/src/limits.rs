//! The sizes pst refuses to trust: a size read from a file is checked
//! against the file and against these before anything is allocated, so a
//! damaged or hostile header is an error, not an abort or an hour of CPU.

/// The most points an axis (latitudes, longitudes, times, levels, members)
/// may have: 16,777,216 — a century of hourly times is 876,600, the finest
/// global grids have tens of thousands of longitudes.
pub const MAX_AXIS_POINTS: usize = 1 << 24;

/// The most grid points a frame may have: 67,108,864 (512 MiB as `f64`) —
/// ERA5 at 0.25° has 1,038,240, a 0.05° global grid 25,920,000.
pub const MAX_FRAME_POINTS: usize = 1 << 26;

/// The largest Gaussian grid number `N` (latitudes between pole and
/// equator): 8,000, beyond ECMWF's finest operational grid (O1280, N =
/// 1280) and the cost of whose Gauss–Legendre nodes stays under a second.
pub const MAX_GAUSSIAN_N: usize = 8_000;

/// The most fields a TRACK file may add to each point (`ADD_FLD n`): 4,096
/// — TRACK's own runs add a handful.
pub const MAX_ADDED_FIELDS: usize = 4_096;
