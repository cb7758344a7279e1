//! Which ensemble members to read.

use std::str::FromStr;

use pst_core::{Error, Result};

/// The ensemble members to track, each as its own series.
///
/// Written as numbers and ranges, `0,3-5`, or `all`:
///
/// ```
/// use pst_io::MemberSelection;
/// let some: MemberSelection = "0, 3-5".parse()?;
/// assert_eq!(some, MemberSelection::Only(vec![0, 3, 4, 5]));
/// assert_eq!("all".parse::<MemberSelection>()?, MemberSelection::All);
/// assert!("5-3".parse::<MemberSelection>().is_err());
/// // A size read from a user is checked before anything is allocated.
/// assert!("0-4294967295".parse::<MemberSelection>().is_err());
/// # Ok::<(), pst_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MemberSelection {
    /// Every member the input has (one series when it has none).
    #[default]
    All,
    /// These member numbers, in this order.
    Only(Vec<u32>),
}

impl MemberSelection {
    /// The most members one selection may name (ensembles are at most a few
    /// hundred members; the bound keeps a typo from allocating gigabytes).
    pub const MAX_MEMBERS: usize = 100_000;
}

impl FromStr for MemberSelection {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        if text.trim().eq_ignore_ascii_case("all") {
            return Ok(MemberSelection::All);
        }
        let bad = |message: String| Error::InvalidArgument(message);
        let number =
            |s: &str| s.trim().parse::<u32>().map_err(|_| bad(format!("`{}` is not a member number", s.trim())));
        let mut members: Vec<u32> = Vec::new();
        for part in text.split(',').map(str::trim) {
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None => (number(part)?, number(part)?),
            };
            if first > last {
                return Err(bad(format!("the range {first}-{last} runs backwards")));
            }
            let count = (last - first) as usize + 1;
            if members.len() + count > Self::MAX_MEMBERS {
                return Err(bad(format!(
                    "`{text}` names more than {} members (the range {first}-{last} alone has {count})",
                    Self::MAX_MEMBERS
                )));
            }
            members.extend(first..=last);
        }
        members.dedup();
        Ok(MemberSelection::Only(members))
    }
}
