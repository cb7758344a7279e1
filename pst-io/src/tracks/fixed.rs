//! Fixed-point decimals written fast, byte for byte as `{:.N}` writes them.
//!
//! Track files write every position and value with a fixed number of
//! decimals. For a value whose decimals end within that number (a grid
//! longitude such as 357.5 to two decimals, a pressure in hPa to six), the
//! standard library cannot prove the rounding with its fast method and falls
//! back to exact big-number arithmetic (`dragon::format_exact`), about 8 % of
//! a Simple run at 2.5°. Those values are integers once scaled, and an
//! integer is written directly.

use std::fmt;
use std::io::Write as _;

/// Powers of ten exact in `f64`, one for each supported number of decimals.
const POWERS_OF_TEN: [f64; 10] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// Largest scaled magnitude taken by the direct path: below 2⁵⁰ a unit in
/// the last place of the scaled value is at most ¼, so when the rounded
/// product `value × 10^decimals` is an integer `n`, the exact product is
/// within ¼ of `n` and `n` is the correctly rounded result.
const DIRECT_LIMIT: f64 = (1u64 << 50) as f64;

/// `value` with `decimals` digits after the point, exactly as
/// `format!("{value:.decimals$}")` writes it, and with a space in place of
/// the sign of a non-negative value when `space_for_plus` (Python's `" .2f"`).
/// Width and fill flags of the formatter are not applied.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed {
    /// The value written.
    pub value: f64,
    /// Digits after the decimal point.
    pub decimals: usize,
    /// Writes a space before a value that has no minus sign.
    pub space_for_plus: bool,
}

impl Fixed {
    /// `value` to `decimals` digits, as `{:.decimals$}`.
    pub(crate) fn new(value: f64, decimals: usize) -> Self {
        Fixed { value, decimals, space_for_plus: false }
    }

    /// `value` to `decimals` digits with a space for a plus sign, as
    /// Python's `format(value, " .Nf")`.
    pub(crate) fn signed(value: f64, decimals: usize) -> Self {
        Fixed { value, decimals, space_for_plus: true }
    }

    /// The scaled integer `|value| × 10^decimals` when it is exact enough
    /// to be written directly (see [`DIRECT_LIMIT`]); zero and non-finite
    /// values go the standard way.
    fn scaled_integer(&self) -> Option<u64> {
        let power = *POWERS_OF_TEN.get(self.decimals)?;
        let scaled = (self.value * power).abs();
        if !(scaled > 0.0 && scaled < DIRECT_LIMIT) {
            return None;
        }
        // Whole when truncating changes nothing: two conversions, where
        // `fract` calls `trunc` (no rounding instruction in the baseline
        // x86-64 the crate is built for).
        let whole = scaled as u64;
        (whole as f64 == scaled).then_some(whole)
    }
}

impl Fixed {
    /// The text, when written directly (see [`Fixed::scaled_integer`]).
    fn direct(&self) -> Option<Digits> {
        let scaled = self.scaled_integer()?;
        let mut digits = Digits::new();
        if self.decimals == 0 {
            digits.push_front_number(scaled, 1);
        } else {
            // The decimals, the point, then the whole part (at least its
            // leading zero).
            let whole = digits.push_front_exact(scaled, self.decimals);
            digits.push_front(b'.');
            digits.push_front_number(whole, 1);
        }
        if self.value.is_sign_negative() {
            digits.push_front(b'-');
        } else if self.space_for_plus {
            digits.push_front(b' ');
        }
        Some(digits)
    }

    /// Appends the text to `out` (as `write!(out, "{self}")`, without the
    /// formatting machinery on the direct path).
    pub(crate) fn push_to(&self, out: &mut Vec<u8>) {
        match self.direct() {
            Some(digits) => out.extend_from_slice(digits.as_bytes()),
            // Writing to a `Vec` cannot fail.
            None => {
                let _ = write!(out, "{self}");
            }
        }
    }
}

/// The two digits of 0 to 99, in order: `n % 100` taken a pair at a time
/// halves the divisions of a digit at a time.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// ASCII text built from its last character. Room for the longest text
/// written: a `u64`'s 20 digits, or a direct value's at most 16 digits
/// (below 2⁵⁰), a point, a leading zero (when there are more decimals than
/// digits) and a sign.
struct Digits {
    text: [u8; 32],
    start: usize,
}

impl Digits {
    fn new() -> Self {
        Digits { text: [0; 32], start: 32 }
    }

    fn push_front(&mut self, byte: u8) {
        self.start -= 1;
        self.text[self.start] = byte;
    }

    /// The two digits of `pair` (below 100).
    #[inline]
    fn push_front_pair(&mut self, pair: u64) {
        let at = 2 * pair as usize;
        self.start -= 2;
        self.text[self.start..self.start + 2].copy_from_slice(&DIGIT_PAIRS[at..at + 2]);
    }

    /// The last `count` decimal digits of `n`, zeros above its own; returns
    /// what is left of `n` (`n / 10^count`).
    fn push_front_exact(&mut self, mut n: u64, count: usize) -> u64 {
        let mut left = count;
        while left >= 2 {
            self.push_front_pair(n % 100);
            n /= 100;
            left -= 2;
        }
        if left == 1 {
            self.push_front(b'0' + (n % 10) as u8);
            n /= 10;
        }
        n
    }

    /// `n` in decimal, zero-padded to at least `min_digits` digits (at
    /// most 20).
    #[inline]
    fn push_front_number(&mut self, mut n: u64, min_digits: usize) {
        let end = self.start;
        while n >= 100 {
            self.push_front_pair(n % 100);
            n /= 100;
        }
        if n >= 10 {
            self.push_front_pair(n);
        } else {
            self.push_front(b'0' + n as u8);
        }
        while end - self.start < min_digits {
            self.push_front(b'0');
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.text[self.start..]
    }
}

/// Appends `value` in decimal to `out`, zero-padded to `width` digits, as
/// `{value:0width$}` writes it.
pub(crate) fn push_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut digits = Digits::new();
    digits.push_front_number(value, width.clamp(1, 20));
    out.extend_from_slice(digits.as_bytes());
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(digits) = self.direct() {
            // Only ASCII digits, a point and a sign were written.
            return f.write_str(std::str::from_utf8(digits.as_bytes()).map_err(|_| fmt::Error)?);
        }
        // NaN is written without a sign whatever its sign bit.
        let has_minus = self.value.is_sign_negative() && !self.value.is_nan();
        if self.space_for_plus && !has_minus {
            f.write_str(" ")?;
        }
        write!(f, "{:.*}", self.decimals, self.value)
    }
}

#[cfg(test)]
mod test {
    use super::Fixed;
    use proptest::prelude::*;

    fn standard(value: f64, decimals: usize) -> String {
        format!("{value:.decimals$}")
    }

    #[test]
    fn grid_values_and_special_cases_match_the_standard_library() {
        for value in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            2.5,
            357.5,
            -85.0,
            175.0,
            1002.345625,
            0.001,
            -0.001,
            0.125,
            0.375,
            1e-300,
            -1e-300,
            1e20,
            -1e20,
            1125899906842624.0,
            1e15,
            1.0e-5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            for decimals in 0..12 {
                assert_eq!(Fixed::new(value, decimals).to_string(), standard(value, decimals), "{value} to {decimals}");
            }
        }
    }

    #[test]
    fn pushed_text_is_the_displayed_text() {
        for value in [0.0, -0.0, 357.5, -85.0, 1002.345625, 0.125, f64::NAN, -1e-300, 1e20] {
            for fixed in [Fixed::new(value, 2), Fixed::signed(value, 2), Fixed::new(value, 6)] {
                let mut out = Vec::new();
                fixed.push_to(&mut out);
                assert_eq!(String::from_utf8(out).unwrap(), fixed.to_string());
            }
        }
    }

    #[test]
    fn padded_integers_are_written_as_the_standard_library_writes_them() {
        for value in [0u64, 1, 9, 10, 99, 100, 2025, 123_456_789, u64::MAX] {
            for width in [0usize, 1, 2, 4, 10] {
                let mut out = Vec::new();
                super::push_padded(&mut out, value, width);
                assert_eq!(String::from_utf8(out).unwrap(), format!("{value:0width$}"));
            }
        }
    }

    #[test]
    fn a_space_stands_for_the_plus_sign() {
        assert_eq!(Fixed::signed(175.0, 2).to_string(), " 175.00");
        assert_eq!(Fixed::signed(-85.0, 2).to_string(), "-85.00");
        assert_eq!(Fixed::signed(-0.001, 2).to_string(), "-0.00");
        assert_eq!(Fixed::signed(0.125, 2).to_string(), " 0.12");
        assert_eq!(Fixed::signed(0.0, 2).to_string(), " 0.00");
        assert_eq!(Fixed::signed(-0.0, 2).to_string(), "-0.00");
        assert_eq!(Fixed::signed(f64::NAN, 2).to_string(), " NaN");
    }

    proptest! {
        #[test]
        fn any_integer_is_padded_as_the_standard_library_pads_it(value in any::<u64>(), width in 0usize..=20) {
            let mut out = Vec::new();
            super::push_padded(&mut out, value, width);
            prop_assert_eq!(String::from_utf8(out).unwrap(), format!("{value:0width$}"));
        }

        #[test]
        fn any_value_is_written_as_the_standard_library_writes_it(value in any::<f64>(), decimals in 0usize..12) {
            prop_assert_eq!(Fixed::new(value, decimals).to_string(), standard(value, decimals));
        }

        #[test]
        fn decimal_fractions_are_written_as_the_standard_library_writes_them(
            units in -1_000_000_000_000i64..1_000_000_000_000, divisor_power in 0i32..8, decimals in 0usize..10,
        ) {
            // Values such as 357.5 or 1002.345625, whose scaled form is an
            // integer or close to one: the direct path and its boundary.
            let value = units as f64 / 10f64.powi(divisor_power);
            prop_assert_eq!(Fixed::new(value, decimals).to_string(), standard(value, decimals));
            let f32_value = f64::from(units as f32 / 10f32.powi(divisor_power));
            prop_assert_eq!(Fixed::new(f32_value, decimals).to_string(), standard(f32_value, decimals));
        }
    }
}
