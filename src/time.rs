//! Leaf type: [`Timestamp`], the only notion of time in the crate. The engine never reads
//! the clock; callers pass the time in.

use std::fmt;

/// A point in time, as seconds since the Unix epoch (UTC). The engine never reads the
/// clock: the caller passes the time in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    unix_seconds: i64,
}

impl Timestamp {
    /// From seconds since 1970-01-01T00:00:00Z.
    pub const fn from_unix(unix_seconds: i64) -> Self {
        Timestamp { unix_seconds }
    }

    /// From a [`std::time::SystemTime`] (times before the epoch are negative).
    pub fn from_system_time(t: std::time::SystemTime) -> Self {
        let secs = match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
        };
        Timestamp::from_unix(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> i64 {
        self.unix_seconds
    }

    /// The UTC civil date and time: (year, month 1–12, day 1–31, hour, minute, second).
    pub fn civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.unix_seconds.div_euclid(86_400);
        let secs = self.unix_seconds.rem_euclid(86_400);
        // Howard Hinnant's days_from_civil inverse.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (
            year,
            month,
            day,
            (secs / 3600) as u32,
            ((secs % 3600) / 60) as u32,
            (secs % 60) as u32,
        )
    }
}

impl fmt::Display for Timestamp {
    /// ISO 8601 UTC, e.g. `2026-11-22T10:14:03Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.civil();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(Timestamp::from_unix(0).civil(), (1970, 1, 1, 0, 0, 0));
        assert_eq!(
            Timestamp::from_unix(951_782_400).civil(),
            (2000, 2, 29, 0, 0, 0)
        );
        assert_eq!(
            Timestamp::from_unix(1_795_342_443).to_string(),
            "2026-11-22T10:14:03Z"
        );
        assert_eq!(Timestamp::from_unix(-1).civil(), (1969, 12, 31, 23, 59, 59));
    }
}
