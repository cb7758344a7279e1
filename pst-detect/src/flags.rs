//! Rows of flags, one byte a point (zero: not flagged), as detectors'
//! branch-free passes write them (which the compiler vectorises), and the
//! search for the few set.

/// The position of the first of `flags` at or after `from` that is set
/// (non-zero) when `set`, or unset (zero) when not; the length of `flags`
/// if there is none (or `from`, if beyond it).
///
/// Eight flags a step: a pass that flags the rare points worth a closer
/// look (a point no higher than its neighbours, a run's end) leaves long
/// stretches to skip, and a byte-by-byte loop spent more on them than the
/// pass did on flagging.
///
/// ```
/// use pst_detect::next_flag;
/// let flags = [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1];
/// assert_eq!(next_flag(&flags, 0, true), 2);
/// assert_eq!(next_flag(&flags, 2, false), 5);
/// assert_eq!(next_flag(&flags, 5, true), 12);
/// assert_eq!(next_flag(&flags, 13, true), 13);
/// ```
#[inline]
pub fn next_flag(flags: &[u8], from: usize, set: bool) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = from;
    while let Some(eight) = flags.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        let word = u64::from_le_bytes(*eight);
        // Set flags are the non-zero bytes; unset ones show as high bits
        // of `(w − 1…1) & !w & 8…8`, the lowest of which is the first zero
        // byte (a borrow can only mark bytes above a zero one).
        let found = if set { word } else { word.wrapping_sub(ONES) & !word & HIGHS };
        if found != 0 {
            return at + found.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    at + flags.get(at..).map_or(0, |rest| rest.iter().take_while(|&&flag| (flag != 0) != set).count())
}

#[cfg(test)]
mod test {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any byte values, zero meaning unset.
        #[test]
        fn next_flag_finds_what_a_scan_does(
            flags in proptest::collection::vec(prop_oneof![3 => Just(0u8), 1 => any::<u8>()], 0..100),
            from in 0usize..110,
            set in any::<bool>(),
        ) {
            let scan = (from..flags.len()).find(|&k| (flags[k] != 0) == set).unwrap_or(flags.len().max(from));
            prop_assert_eq!(next_flag(&flags, from, set), scan);
        }
    }
}
