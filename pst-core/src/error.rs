//! The one error type of the pst crates.

use std::path::PathBuf;

/// Result alias used throughout pst.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in pst, from a bad grid to a corrupt file.
///
/// Errors that come from a file are wrapped in [`Error::InFile`] by the code
/// that knows the path, so the message a user sees always names the file;
/// [`Error::Context`] adds what was being read (a variable, a frame). The
/// typed cause stays inside: [`Error::root`] sees through both wrappers, so
/// a caller can tell a missing variable from a bad grid or an I/O failure:
///
/// ```
/// use pst_core::Error;
/// let e = Error::VariableNotFound { name: "mls".into(), available: "msl, u, v".into() }
///     .in_file("era5.nc");
/// assert_eq!(e.to_string(), "era5.nc: variable `mls` not found; available: msl, u, v");
/// assert!(matches!(e.root(), Error::VariableNotFound { name, .. } if name == "mls"));
/// assert_eq!(e.path(), Some(std::path::Path::new("era5.nc")));
/// ```
///
/// Every variant's message is complete in itself (wrappers include the
/// message they wrap), so no error is also returned as a `source()`: error
/// reporters would print it twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A grid's coordinates are not usable (empty, not monotonic, out of range).
    #[error("invalid grid: {0}")]
    InvalidGrid(String),

    /// A CF time unit, calendar or timestamp could not be understood.
    #[error("invalid time: {0}")]
    InvalidTime(String),

    /// A frame's values do not fit its grid.
    #[error("invalid frame: {0}")]
    InvalidFrame(String),

    /// A [`crate::Tracks`] column set breaks an invariant (lengths, ordering).
    #[error("invalid tracks: {0}")]
    InvalidTracks(String),

    /// A caller passed an argument outside its documented domain.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A variable was asked for that the input does not have.
    #[error("variable `{name}` not found; available: {available}")]
    VariableNotFound {
        /// The name that was asked for.
        name: String,
        /// The names that exist, comma separated.
        available: String,
    },

    /// The content of an input does not follow its format.
    #[error("{0}")]
    Format(String),

    /// The input uses a feature pst does not support (yet).
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// A frame index past the end of a source.
    #[error("frame {index} is out of range: the source has {len} frames")]
    FrameOutOfRange {
        /// The index asked for.
        index: usize,
        /// The number of frames in the source.
        len: usize,
    },

    /// An operating-system I/O error.
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A library pst reads or writes with (netCDF, HDF5, Zarr, GRIB
    /// decoders) failed; its own error is kept in `cause`.
    #[error("{context}: {cause}")]
    Backend {
        /// What pst was doing.
        context: String,
        /// The library's error, as it came (downcast it to inspect it).
        cause: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    /// The run was cancelled through its [`crate::Progress`].
    #[error("cancelled")]
    Cancelled,

    /// Any error, with what was being worked on when it happened (a
    /// variable, a frame, a line).
    #[error("{context}: {error}")]
    Context {
        /// What was being worked on, e.g. "variable `msl`, frame 3".
        context: String,
        /// What went wrong.
        error: Box<Error>,
    },

    /// Any of the above, raised while working on a named file.
    // The message already includes the inner error, so it is not also
    // exposed as a `source` (reporters would print it twice).
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file being read or written.
        path: PathBuf,
        /// What went wrong.
        error: Box<Error>,
    },
}

impl Error {
    /// Wraps `self` with the path of the file it concerns, unless it already
    /// names a file (see [`Error::path`]).
    ///
    /// ```
    /// use pst_core::Error;
    /// let e = Error::Format("line 3: expected 6 columns".into()).in_file("tracks.txt");
    /// assert_eq!(e.to_string(), "tracks.txt: line 3: expected 6 columns");
    /// ```
    pub fn in_file(self, path: impl Into<PathBuf>) -> Self {
        if self.path().is_some() {
            return self;
        }
        Error::InFile { path: path.into(), error: Box::new(self) }
    }

    /// Wraps `self` with what was being worked on (`"variable `msl`"`),
    /// keeping it as the typed cause.
    ///
    /// ```
    /// use pst_core::Error;
    /// let e = Error::InvalidGrid("latitudes are not monotonic".into()).context("variable `msl`");
    /// assert_eq!(e.to_string(), "variable `msl`: invalid grid: latitudes are not monotonic");
    /// assert!(matches!(e.root(), Error::InvalidGrid(_)));
    /// ```
    pub fn context(self, context: impl Into<String>) -> Self {
        Error::Context { context: context.into(), error: Box::new(self) }
    }

    /// A library's error with what pst was doing when it failed.
    pub fn backend(context: impl Into<String>, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Backend { context: context.into(), cause: cause.into() }
    }

    /// The error underneath every [`Error::InFile`] and [`Error::Context`]
    /// wrapper: the one to match on.
    pub fn root(&self) -> &Error {
        match self {
            Error::InFile { error, .. } | Error::Context { error, .. } => error.root(),
            other => other,
        }
    }

    /// The file the error concerns, when one is named.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::InFile { path, .. } => Some(path),
            Error::Context { error, .. } => error.path(),
            _ => None,
        }
    }
}

/// Adds [`Error::in_file`] to results.
pub trait ResultExt<T> {
    /// Names `path` in the error, if there is one.
    fn in_file(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn in_file(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| e.into().in_file(path))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn in_file_wraps_once() {
        let e = Error::Format("bad".into()).in_file("a.nc").in_file("b.nc");
        assert_eq!(e.to_string(), "a.nc: bad");
    }

    #[test]
    fn io_errors_name_the_file() {
        let r: std::result::Result<(), std::io::Error> =
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "No such file"));
        let e = r.in_file("/data/x.nc").unwrap_err();
        assert_eq!(e.to_string(), "/data/x.nc: No such file");
    }
}
