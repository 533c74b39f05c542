//! The fast header-block scan used by `decide`.
//!
//! It walks the header lines only (never the body), up to a byte limit, and copes with
//! any bytes: bare LF or CRLF line ends, NUL bytes, 8-bit junk, no separator, no headers.
//! It finds the end of the header block, the journal marker header and the Message-ID.

use std::ops::Range;

/// The journal marker header, added to every journal report the engine asks for.
pub const JOURNAL_MARKER: &str = "X-MS-Journal-Report";

/// What the scan found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct HeaderScan {
    /// Offset of the first header line: 0, or just after a leading mbox `From ` line
    /// (files copied out of mbox archives start with one; Python's parser skips it too).
    pub header_start: usize,
    /// Offset where the body starts (after the blank line), or where the header block
    /// stopped (a non-header line, the end of the data, or the scan limit).
    pub body_start: usize,
    /// Whether a blank line separating headers from body was found.
    pub has_separator: bool,
    /// Whether the journal marker header is present.
    pub journal_marker: bool,
    /// The first Message-ID header's value (trimmed), as a range of the message.
    pub message_id: Option<Range<usize>>,
    /// The scan stopped at the byte limit before the header block ended.
    pub truncated: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Current {
    Other,
    MessageIdPending,
}

fn trim_range(data: &[u8], mut r: Range<usize>) -> Range<usize> {
    while r.start < r.end && data.get(r.start).is_some_and(|b| b.is_ascii_whitespace()) {
        r.start += 1;
    }
    while r.end > r.start && data.get(r.end - 1).is_some_and(|b| b.is_ascii_whitespace()) {
        r.end -= 1;
    }
    r
}

/// Scans at most `limit` bytes of header block.
pub(crate) fn scan(message: &[u8], limit: usize) -> HeaderScan {
    let mut out = HeaderScan::default();
    let mut pos = 0usize;
    if message.starts_with(b"From ") {
        // The mbox separator line, not a header: skip it (within the limit).
        let window = message.get(..limit).unwrap_or(message);
        match memchr::memchr(b'\n', window) {
            Some(n) => pos = n + 1,
            None => {
                out.truncated = window.len() < message.len();
                out.body_start = 0;
                return out;
            }
        }
        out.header_start = pos;
    }
    let mut current = Current::Other;
    let mut first = true;
    while pos < message.len() {
        if pos >= limit {
            out.truncated = true;
            break;
        }
        let rest = message.get(pos..).unwrap_or_default();
        let window = rest.get(..limit - pos).unwrap_or(rest);
        let (line_len, next) = match memchr::memchr(b'\n', window) {
            Some(n) => (n, pos + n + 1),
            None if window.len() < rest.len() => {
                // The line runs past the limit.
                out.truncated = true;
                break;
            }
            None => (window.len(), pos + window.len()),
        };
        let mut line = pos..pos + line_len;
        if message.get(line.end.wrapping_sub(1)) == Some(&b'\r') && line.end > line.start {
            line.end -= 1;
        }
        let bytes = message.get(line.clone()).unwrap_or_default();
        if bytes.is_empty() {
            out.has_separator = true;
            pos = next;
            break;
        }
        if matches!(bytes.first(), Some(b' ' | b'\t')) {
            if first {
                // A continuation with nothing to continue: not a header block.
                break;
            }
            if current == Current::MessageIdPending {
                let v = trim_range(message, line);
                if v.start < v.end {
                    out.message_id = Some(v);
                    current = Current::Other;
                }
            }
            pos = next;
            continue;
        }
        // The field name: printable ASCII up to the first colon, white space allowed
        // after it (obsolete syntax). Anything else ends the header block here.
        let Some(colon) = memchr::memchr(b':', bytes) else {
            break;
        };
        let name = bytes.get(..colon).unwrap_or_default().trim_ascii_end();
        if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
            break;
        }
        first = false;
        current = Current::Other;
        if name.eq_ignore_ascii_case(JOURNAL_MARKER.as_bytes()) {
            out.journal_marker = true;
        } else if name.eq_ignore_ascii_case(b"message-id") && out.message_id.is_none() {
            let v = trim_range(message, line.start + colon + 1..line.end);
            if v.start < v.end {
                out.message_id = Some(v);
            } else {
                current = Current::MessageIdPending;
            }
        }
        pos = next;
    }
    out.body_start = pos.min(message.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 64 * 1024;

    #[test]
    fn finds_marker_message_id_and_body() {
        let m = b"From: a@b.example\r\nMessage-ID:  <1@b.example> \r\nX-MS-Journal-Report:\r\n\r\nbody\r\n";
        let s = scan(m, LIMIT);
        assert!(s.journal_marker && s.has_separator && !s.truncated);
        assert_eq!(&m[s.message_id.clone().unwrap()], b"<1@b.example>");
        assert_eq!(&m[s.body_start..], b"body\r\n");
    }

    #[test]
    fn marker_in_body_does_not_count() {
        let m = b"Subject: x\n\nX-MS-Journal-Report: fake\n";
        assert!(!scan(m, LIMIT).journal_marker);
    }

    #[test]
    fn white_space_before_the_colon_is_obsolete_but_allowed() {
        let s = scan(b"Subject \t: x\r\nX-MS-Journal-Report :\r\n\r\n", LIMIT);
        assert!(s.journal_marker && s.has_separator);
        // A stray CR before the colon is white space as well (found by fuzzing, against
        // the naive reference scan of the fuzz harness).
        let m = b"Message-ID\r:\n   <x@y.example>\r\n\r\n";
        assert_eq!(&m[scan(m, LIMIT).message_id.unwrap()], b"<x@y.example>");
    }

    #[test]
    fn folded_message_id_and_case() {
        let m = b"message-id:\r\n   <folded@x.example>\r\nx-ms-journal-report: \r\n\r\n";
        let s = scan(m, LIMIT);
        assert_eq!(&m[s.message_id.unwrap()], b"<folded@x.example>");
        assert!(s.journal_marker);
    }

    #[test]
    fn garbage_and_edge_inputs() {
        for m in [
            &b""[..],
            b"\0\0\0\xff\xfe",
            b"no header separator at all",
            b" leading continuation\r\n\r\n",
            b"\r\n\r\n",
            b"Subject: unterminated",
            b":empty name\n\n",
            b"Bad Name: x\n\n",
            b"Tab\tInside: x\nX-MS-Journal-Report:\n\n",
        ] {
            let s = scan(m, LIMIT);
            assert!(s.body_start <= m.len());
            assert!(!s.journal_marker);
        }
        let s = scan(b"Subject: unterminated", LIMIT);
        assert!(!s.has_separator);
        assert_eq!(s.body_start, 21);
    }

    #[test]
    fn stops_at_the_limit_without_reading_on() {
        let mut m = b"Subject: ".to_vec();
        m.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
        m.extend_from_slice(b"\r\nX-MS-Journal-Report:\r\n\r\n");
        let s = scan(&m, LIMIT);
        assert!(s.truncated && !s.journal_marker);
        let s = scan(b"A: 1\r\nB: 2\r\n\r\n", 8);
        assert!(s.truncated);
    }
}
