//! Names in the store: node names, storage keys, the chain and tracking-log paths.

use crate::seal::entry;
use crate::time::Timestamp;

/// Whether a node name is `[A-Za-z0-9._-]{1,64}`, not starting with `.`.
pub(crate) fn valid_node(node: &str) -> bool {
    (1..=64).contains(&node.len())
        && !node.starts_with('.')
        && node
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether a storage key is safe to join to the store directory: relative, `/`-separated,
/// no empty, `.` or `..` segment, no `\` and no control characters, at most 1 024 bytes.
pub(crate) fn check_key(key: &str) -> Result<(), &'static str> {
    if key.is_empty() || key.len() > 1024 {
        return Err("a storage key has 1 to 1024 bytes");
    }
    if key.starts_with('/') {
        return Err("a storage key is relative to the store (no leading `/`)");
    }
    if key.contains('\\') || key.chars().any(char::is_control) {
        return Err("a storage key holds no `\\` and no control characters");
    }
    if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err("a storage key has no empty, `.` or `..` segment");
    }
    Ok(())
}

/// Reads a time in the chain's form, `YYYY-MM-DDTHH:MM:SSZ` (UTC), as
/// [`Timestamp`]'s `Display` prints it.
///
/// ```
/// use mail_journal::{Timestamp, seal};
/// let t = seal::parse_time("2026-11-22T23:59:59Z").unwrap();
/// assert_eq!(t.to_string(), "2026-11-22T23:59:59Z");
/// assert_eq!(seal::parse_time("2026-11-22 23:59:59"), None);
/// ```
pub fn parse_time(s: &str) -> Option<Timestamp> {
    entry::parse_time(s)
}

/// The chain file of a node, relative to the store: `seal/<node>.chain`.
pub fn chain_path(node: &str) -> String {
    format!("seal/{node}.chain")
}

/// The tracking log a node writes on the UTC day of `time`, relative to the store:
/// `tracking/MSGTRK<YYYYMMDD>-<node>.LOG`.
///
/// ```
/// use mail_journal::{Timestamp, seal};
/// assert_eq!(
///     seal::tracking_log_path("mx1", Timestamp::from_unix(1_795_342_443)),
///     "tracking/MSGTRK20261122-mx1.LOG"
/// );
/// assert_eq!(seal::tracking_key("tracking/MSGTRK20261122-mx1.LOG", 1024, 512),
///     "tracking/MSGTRK20261122-mx1.LOG#1024+512");
/// ```
pub fn tracking_log_path(node: &str, time: Timestamp) -> String {
    let (y, m, d, ..) = time.civil();
    format!("tracking/MSGTRK{y:04}{m:02}{d:02}-{node}.LOG")
}

/// The key of a byte range of a tracking log: `<file>#<offset>+<length>`.
pub fn tracking_key(file: &str, offset: u64, len: u64) -> String {
    format!("{file}#{offset}+{len}")
}

/// `<file>#<offset>+<length>` → its parts, decimal numbers in canonical form only.
pub(crate) fn parse_range_key(key: &str) -> Option<(&str, u64, u64)> {
    let (file, range) = key.rsplit_once('#')?;
    let (offset, len) = range.split_once('+')?;
    let num = |s: &str| s.parse::<u64>().ok().filter(|n| n.to_string() == s);
    Some((file, num(offset)?, num(len)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_nodes() {
        assert!(valid_node("mx1") && valid_node("mx-1.example_2"));
        for bad in ["", ".x", "mx 1", "mx/1", "mx=1", &"a".repeat(65)] {
            assert!(!valid_node(bad), "{bad}");
        }
        assert!(check_key("archive/2026/11/22/a@b/Q1.eml").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "archive/../x",
            "archive//x",
            "archive/./x",
            "archive\\x",
            "archive/x\n",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_range_key("tracking/L#10+20"),
            Some(("tracking/L", 10, 20))
        );
        for bad in [
            "tracking/L",
            "tracking/L#10",
            "tracking/L#010+2",
            "tracking/L#+1",
            "tracking/L#1+-1",
        ] {
            assert_eq!(parse_range_key(bad), None, "{bad}");
        }
    }
}
