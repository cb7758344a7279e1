//! # pst-testkit: finding the real data that tests run on, and scratch folders
//!
//! pst's tests run on real ERA5, GRIB and track files that are too large to
//! commit. They live in a data folder named by the environment variable
//! `PST_DATA`, by default `../shared/data` beside the workspace. A user's
//! fresh clone may not have it: a test that needs it then prints that it was
//! skipped and passes. CI sets `PST_REQUIRE_DATA=1`, under which missing data
//! fails the test instead, so CI always runs them.
//!
//! ```no_run
//! let Some(path) = pst_testkit::data_file("era5/era5_msl_2025-12_2.5x2.5.nc") else {
//!     return; // skipped: data not present
//! };
//! assert!(path.exists());
//! ```

use std::path::{Path, PathBuf};

/// The data folder: `$PST_DATA`, or `../shared/data` beside the workspace.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("PST_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// Whether missing data must fail tests (`PST_REQUIRE_DATA` set and not `0`).
pub fn data_required() -> bool {
    std::env::var("PST_REQUIRE_DATA").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The path of a file under the data folder, or `None` (after printing a
/// skip notice) when it is absent.
///
/// # Panics
/// When the file is absent and [`data_required`] is true: that is the test
/// failing, as CI wants.
pub fn data_file(relative: &str) -> Option<PathBuf> {
    let path = data_dir().join(relative);
    if path.exists() {
        return Some(path);
    }
    if data_required() {
        #[allow(clippy::panic)]
        {
            panic!("PST_REQUIRE_DATA is set but {} does not exist (PST_DATA={})", path.display(), data_dir().display());
        }
    }
    eprintln!("skipped: {} not found (set PST_DATA to the shared data folder)", path.display());
    None
}

/// Damages `bytes` for fuzz tests of readers: sets the byte at each
/// `(position, value)` (positions taken modulo the length) and then, if
/// `cut` is given, truncates to `cut` modulo the length plus one.
///
/// ```
/// let mut bytes = vec![0u8; 10];
/// pst_testkit::mutate(&mut bytes, &[(13, 7)], Some(16));
/// assert_eq!(bytes, [0, 0, 0, 7, 0]);
/// ```
pub fn mutate(bytes: &mut Vec<u8>, flips: &[(usize, u8)], cut: Option<usize>) {
    if bytes.is_empty() {
        return;
    }
    for &(at, value) in flips {
        let k = at % bytes.len();
        bytes[k] = value;
    }
    if let Some(cut) = cut {
        bytes.truncate(cut % (bytes.len() + 1));
    }
}

/// A test's own folder under the system's temporary folder,
/// `pst-{name}-{process id}`, made fresh (whatever an earlier run left
/// there is removed first) and removed when dropped, so a test leaves
/// nothing behind whether it passes or fails (a failed assertion unwinds
/// through the drop).
///
/// ```
/// let path = {
///     let dir = pst_testkit::ScratchDir::new("doc");
///     std::fs::write(dir.join("out.txt"), "tracks").unwrap();
///     dir.to_path_buf()
/// };
/// assert!(!path.exists());
/// ```
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// Makes the folder.
    ///
    /// # Panics
    /// When it cannot be made: the test cannot run.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("pst-{name}-{}", std::process::id()));
        // A folder an earlier run of this process id left is not ours.
        let _ = std::fs::remove_dir_all(&dir);
        #[allow(clippy::panic)]
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot make the scratch folder {}: {e}", dir.display());
        }
        ScratchDir(dir)
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Best effort: a folder already gone is not a failure.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
