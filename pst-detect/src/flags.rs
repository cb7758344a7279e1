//! Rows of 0/1 flags, as detectors' branch-free passes write them (one byte
//! a point, which the compiler vectorises), and the search for the few set.

/// The position of the first of `flags` (each 0 or 1) at or after `from`
/// that equals `wanted`, or the length of `flags` (or `from`, if beyond it).
///
/// Eight flags a step: a pass that flags the rare points worth a closer
/// look (a point no higher than its neighbours, a run's end) leaves long
/// stretches to skip, and a byte-by-byte loop spent more on them than the
/// pass did on flagging.
///
/// ```
/// use pst_detect::next_flag;
/// let flags = [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1];
/// assert_eq!(next_flag(&flags, 0, 1), 2);
/// assert_eq!(next_flag(&flags, 2, 0), 5);
/// assert_eq!(next_flag(&flags, 5, 1), 12);
/// assert_eq!(next_flag(&flags, 13, 1), 13);
/// ```
#[inline]
pub fn next_flag(flags: &[u8], from: usize, wanted: u8) -> usize {
    // Bytes that differ from `wanted` become non-zero: the first is the answer.
    let differ = if wanted == 0 { 0x0101_0101_0101_0101 } else { 0 };
    let mut at = from;
    while let Some(eight) = flags.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        let found = u64::from_le_bytes(*eight) ^ differ;
        if found != 0 {
            return at + found.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    at + flags.get(at..).map_or(0, |rest| rest.iter().take_while(|&&flag| flag != wanted).count())
}

#[cfg(test)]
mod test {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn next_flag_finds_what_a_scan_does(
            flags in proptest::collection::vec(proptest::bool::weighted(0.3), 0..100),
            from in 0usize..110,
            wanted in proptest::bool::ANY,
        ) {
            let flags: Vec<u8> = flags.into_iter().map(u8::from).collect();
            let wanted = u8::from(wanted);
            let scan = (from..flags.len()).find(|&k| flags[k] == wanted).unwrap_or(flags.len().max(from));
            prop_assert_eq!(next_flag(&flags, from, wanted), scan);
        }
    }
}
