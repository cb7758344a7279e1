//! Fields named as TempestExtremes names them in its criteria: a variable,
//! one level of it, or a difference or magnitude of two.

use std::fmt;
use std::str::FromStr;

use ndarray::Array2;

use crate::error::{Error, Result};

/// A field a criterion reads (TempestExtremes' variable syntax): a
/// variable of the input (`vo`), one level of it (`z(300)`, `z(300hPa)`:
/// the level's value, in the file's level units), the difference of two
/// (`_DIFF(z(250),z(500))`, a warm-core thickness) or the magnitude of two
/// components (`_VECMAG(u10,v10)`, a wind speed).
///
/// ```
/// use pst_core::FieldExpression;
/// let warm_core: FieldExpression = "_DIFF(z(250hPa),z(500hPa))".parse()?;
/// assert_eq!(warm_core.to_string(), "_DIFF(z(250),z(500))");
/// assert_eq!(warm_core.variables(), vec![("z".to_string(), Some(250.0)), ("z".to_string(), Some(500.0))]);
/// assert!("_DIFF(z(250))".parse::<FieldExpression>().is_err());
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum FieldExpression {
    /// A variable of the input, at one level if given.
    Variable {
        /// Its name (or alias, or CF standard name), as the readers take it.
        name: String,
        /// The level's value, for a variable with levels.
        level: Option<f64>,
    },
    /// The first field minus the second.
    Difference(Box<FieldExpression>, Box<FieldExpression>),
    /// √(a² + b²) of two components.
    Magnitude(Box<FieldExpression>, Box<FieldExpression>),
}

impl FieldExpression {
    /// The variables (name and level) the expression reads, in order,
    /// without repeats.
    pub fn variables(&self) -> Vec<(String, Option<f64>)> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<(String, Option<f64>)>) {
        match self {
            FieldExpression::Variable { name, level } => {
                let leaf = (name.clone(), *level);
                if !out.contains(&leaf) {
                    out.push(leaf);
                }
            }
            FieldExpression::Difference(a, b) | FieldExpression::Magnitude(a, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }

    /// The field's values, from `read`, which gives a variable's values at
    /// a level; all of one shape.
    ///
    /// # Errors
    /// What `read` returns, or fields of different shapes.
    pub fn evaluate<F>(&self, read: &mut F) -> Result<Array2<f64>>
    where
        F: FnMut(&str, Option<f64>) -> Result<Array2<f64>>,
    {
        match self {
            FieldExpression::Variable { name, level } => read(name, *level),
            FieldExpression::Difference(a, b) | FieldExpression::Magnitude(a, b) => {
                let (a_values, b_values) = (a.evaluate(read)?, b.evaluate(read)?);
                if a_values.dim() != b_values.dim() {
                    return Err(Error::InvalidArgument(format!(
                        "{self}: `{a}` is {:?} grid points and `{b}` {:?}",
                        a_values.dim(),
                        b_values.dim()
                    )));
                }
                Ok(match self {
                    FieldExpression::Difference(..) => a_values - b_values,
                    _ => ndarray::Zip::from(&a_values).and(&b_values).map_collect(|&x, &y| x.hypot(y)),
                })
            }
        }
    }
}

impl fmt::Display for FieldExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldExpression::Variable { name, level: Some(level) } => write!(f, "{name}({level})"),
            FieldExpression::Variable { name, level: None } => f.write_str(name),
            FieldExpression::Difference(a, b) => write!(f, "_DIFF({a},{b})"),
            FieldExpression::Magnitude(a, b) => write!(f, "_VECMAG({a},{b})"),
        }
    }
}

/// `text` split at `separator`s outside parentheses, each part trimmed:
/// `_DIFF(z(250),z(500)),-6,6.5` gives `_DIFF(z(250),z(500))`, `-6`, `6.5`.
///
/// ```
/// assert_eq!(pst_core::split_outside_parentheses("_VECMAG(u,v),>=,10,2", ','), ["_VECMAG(u,v)", ">=", "10", "2"]);
/// ```
pub fn split_outside_parentheses(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (k, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == separator && depth == 0 => {
                parts.push(text[start..k].trim());
                start = k + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts
}

impl FromStr for FieldExpression {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let bad = |why: String| Error::InvalidArgument(format!("the field `{text}`: {why}"));
        let Some(open) = text.find('(') else {
            if text.is_empty() || text.contains([')', ',']) {
                return Err(bad("give a variable, VAR(LEVEL), _DIFF(A,B) or _VECMAG(A,B)".into()));
            }
            return Ok(FieldExpression::Variable { name: text.to_string(), level: None });
        };
        let Some(inner) = text[open + 1..].strip_suffix(')') else {
            return Err(bad("its parentheses do not close at the end".into()));
        };
        let head = text[..open].trim();
        match head {
            "_DIFF" | "_VECMAG" => {
                let args = split_outside_parentheses(inner, ',');
                let [a, b] = args[..] else {
                    return Err(bad(format!("{head} takes two fields")));
                };
                let (a, b) = (Box::new(a.parse()?), Box::new(b.parse()?));
                Ok(if head == "_DIFF" { FieldExpression::Difference(a, b) } else { FieldExpression::Magnitude(a, b) })
            }
            _ if head.starts_with('_') => Err(bad(format!("no operator `{head}` (there are _DIFF and _VECMAG)"))),
            "" => Err(bad("no variable before the level".into())),
            name => {
                // A level's value, with TempestExtremes' optional units.
                let number = inner.trim().trim_end_matches(|c: char| c.is_ascii_alphabetic()).trim();
                let level: f64 = number
                    .parse()
                    .ok()
                    .filter(|l: &f64| l.is_finite())
                    .ok_or_else(|| bad(format!("`{inner}` is not a level (give its value, e.g. z(500))")))?;
                Ok(FieldExpression::Variable { name: name.to_string(), level: Some(level) })
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn parse_print_and_evaluate() {
        let e: FieldExpression = "_VECMAG(u(850), v(850))".parse().unwrap();
        assert_eq!(e.to_string(), "_VECMAG(u(850),v(850))");
        let mut read = |name: &str, _: Option<f64>| Ok(Array2::from_elem((2, 3), if name == "u" { 3.0 } else { 4.0 }));
        assert_eq!(e.evaluate(&mut read).unwrap(), Array2::from_elem((2, 3), 5.0));
        let d: FieldExpression = "_DIFF(u,_DIFF(v,u))".parse().unwrap();
        assert_eq!(d.evaluate(&mut read).unwrap(), Array2::from_elem((2, 3), 2.0));
        assert_eq!(d.variables().len(), 2);
        for bad in ["", "z(", "z(abc)", "_SUM(a,b)", "_DIFF(a,b,c)", "(500)", "a,b"] {
            assert!(bad.parse::<FieldExpression>().is_err(), "{bad}");
        }
    }
}
