//! The header-block walker ([`walk`]) and `decide`'s scan on top of it ([`scan`]).
//!
//! The walker holds the header-block rules for the whole crate: `decide` scans with it
//! and the renderers read their fields with it. It reads the header lines only (never
//! the body), up to a byte limit, and copes with any bytes: bare LF or CRLF line ends,
//! NUL bytes, 8-bit junk, no separator, no headers. The scan finds the end of the header
//! block, the journal marker header and the Message-ID.

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
    /// The last Subject header's value as [`walk`] hands it on (the bytes after the colon,
    /// continuation lines and line breaks included), as a range of the message: the
    /// subject the tracking logs show, so that they need not walk the block again.
    pub subject: Option<Range<usize>>,
    /// The scan stopped at the byte limit before the header block ended.
    pub truncated: bool,
}

/// Bytes allowed in a field name: printable ASCII except the colon (RFC 5322 §3.6.8).
const NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 33;
    while b <= 126 {
        t[b] = b != b':' as usize;
        b += 1;
    }
    t
};

/// The length of the run of field-name bytes ([`NAME`]) that `window` starts with:
/// eight bytes at a time while eight are left, then byte by byte.
#[inline]
fn name_len(window: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut words = window.chunks_exact(8);
    let mut n = 0usize;
    for c in &mut words {
        let x = c.try_into().map_or(0, u64::from_le_bytes);
        // Exact per byte (no carries cross bytes: the low seven bits plus at most 0x7f).
        let low = x & !HI;
        let below_33 = !(low + LO * 0x5f) & HI;
        let is_127 = (low + LO) & HI;
        let colon = !((low ^ (LO * u64::from(b':'))) + LO * 0x7f) & HI;
        let bad = (x & HI) | below_33 | is_127 | colon;
        if bad != 0 {
            return n + (bad.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + words
        .remainder()
        .iter()
        .position(|&b| !NAME.get(usize::from(b)).copied().unwrap_or(false))
        .unwrap_or(words.remainder().len())
}

/// `true` when the field name `name` is `target` (given in lower case), ignoring ASCII
/// case. Lengths first: most names differ in length from every target.
#[inline]
fn is_name(name: &[u8], target: &[u8]) -> bool {
    name.len() == target.len() && name.eq_ignore_ascii_case(target)
}

const MESSAGE_ID: &[u8] = b"message-id";

fn trim_range(data: &[u8], mut r: Range<usize>) -> Range<usize> {
    while r.start < r.end && data.get(r.start).is_some_and(|b| b.is_ascii_whitespace()) {
        r.start += 1;
    }
    while r.end > r.start && data.get(r.end - 1).is_some_and(|b| b.is_ascii_whitespace()) {
        r.end -= 1;
    }
    r
}

/// Where one line of the header block ends, within `window` (the bytes from the line's
/// first byte up to the scan limit), searching from `from`: `Ok(next)`, the start of the
/// next line (just after the LF, or the end of the data), or `Err(())` when the line runs
/// past the limit (`capped`: the message goes on beyond the window). The values taken
/// from lines are trimmed of white space, CR and LF included; only [`slow_line`] needs
/// the line without its line break.
#[inline]
fn line_end(nl: &Newline, window: &[u8], from: usize, capped: bool) -> Result<usize, ()> {
    match window.get(from..).and_then(|w| nl.find(w)) {
        Some(i) => Ok(from + i + 1),
        None if capped => Err(()),
        None => Ok(window.len()),
    }
}

/// The search for a line's end, chosen once per scan: on x86-64 with AVX2 the `memchr`
/// crate's AVX2 searcher directly (each call through `memchr::memchr` goes through its
/// run-time dispatch again, about a quarter of a short line's cost), else `memchr`.
struct Newline {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl Newline {
    #[inline]
    fn new() -> Newline {
        Newline {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(b'\n'),
        }
    }

    /// The offset of the first LF in `h`.
    #[inline]
    fn find(&self, h: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(one) = &self.avx2 {
            return one.find(h);
        }
        memchr::memchr(b'\n', h)
    }
}

/// How a line that the fast path could not read ends the scan or continues it.
enum Slow {
    /// A header line whose name ends at `colon` (white space before the colon).
    Header { colon: usize },
    /// The blank line (a lone CR at the end of the data), the next line at `next`.
    Separator { next: usize },
    /// The line runs past the limit.
    Truncated,
    /// Not a header line: the header block ends before it.
    End,
}

/// The general rule for a line that does not start with a plain field name and colon:
/// the name is printable ASCII up to the first colon, white space allowed after it
/// (obsolete syntax).
#[cold]
fn slow_line(nl: &Newline, window: &[u8], capped: bool) -> Slow {
    let Ok(next) = line_end(nl, window, 0, capped) else {
        return Slow::Truncated;
    };
    let line = window.get(..next).unwrap_or_default();
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let bytes = line.strip_suffix(b"\r").unwrap_or(line);
    if bytes.is_empty() {
        return Slow::Separator { next };
    }
    let Some(colon) = memchr::memchr(b':', bytes) else {
        return Slow::End;
    };
    let name = bytes.get(..colon).unwrap_or_default().trim_ascii_end();
    if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
        return Slow::End;
    }
    Slow::Header { colon }
}

/// Where a header block lies and how it ended, as [`walk`] found it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Block {
    /// Offset of the first header line: 0, or just after a leading mbox `From ` line.
    pub header_start: usize,
    /// Where the header block ends: its last line's line break included, the blank
    /// separator line excluded.
    pub header_end: usize,
    /// Where the body starts (after the blank line), or where the block stopped.
    pub body_start: usize,
    /// Whether a blank line separating headers from body was found.
    pub has_separator: bool,
    /// The walk stopped at the byte limit before the header block ended.
    pub truncated: bool,
}

/// Walks at most `limit` bytes of header block, in one pass, and calls `each` with every
/// field: its name (white space before the colon removed), its value's range in
/// `message` — the bytes after the colon up to the next field's first byte, continuation
/// lines and line breaks included — and whether it has continuation lines. The one walker of the header rules: `decide`'s
/// [`scan`] and the renderers' field reader both stand on it.
///
/// The block is an optional mbox `From ` line (skipped), then field and continuation
/// lines up to a blank line, a line that is not a header (a field name is printable
/// ASCII up to its colon, white space allowed before the colon), the end of the data or
/// the limit. Each field name is checked eight bytes at a time ([`name_len`]) and the
/// rest of its line skipped with one search for the line's end.
#[inline(always)]
pub(crate) fn walk<'a>(
    message: &'a [u8],
    limit: usize,
    mut each: impl FnMut(&'a [u8], Range<usize>, bool),
) -> Block {
    let mut out = Block::default();
    let mut pos = 0usize;
    if message.starts_with(b"From ") {
        // The mbox separator line, not a header: skip it (within the limit).
        let window = message.get(..limit).unwrap_or(message);
        match memchr::memchr(b'\n', window) {
            Some(n) => pos = n + 1,
            None => {
                out.truncated = window.len() < message.len();
                return out;
            }
        }
        out.header_start = pos;
    }
    let nl = Newline::new();
    // The field being read: its name and where its value starts.
    let mut current: Option<(&'a [u8], usize)> = None;
    let mut folded = false;
    let mut first = true;
    // The bytes the walk may read, and whether the message goes on beyond them.
    let hdr = message.get(..limit).unwrap_or(message);
    let capped = hdr.len() < message.len();
    // Each line either continues the current field, or ends it: a new field starts, or
    // the block ends at `stop`. The current field's value is handed on in one place.
    let end = loop {
        let mut stop = None;
        let mut field = None;
        if pos >= message.len() {
            stop = Some(pos);
        } else if pos >= limit {
            out.truncated = true;
            stop = Some(pos);
        } else {
            let window = hdr.get(pos..).unwrap_or_default();
            let mut fast = true;
            let colon = match window.first() {
                Some(b'\n') => {
                    out.has_separator = true;
                    out.body_start = pos + 1;
                    None
                }
                Some(b'\r') if window.get(1) == Some(&b'\n') => {
                    out.has_separator = true;
                    out.body_start = pos + 2;
                    None
                }
                Some(b' ' | b'\t') => match line_end(&nl, window, 1, capped) {
                    Err(()) => {
                        out.truncated = true;
                        None
                    }
                    // A continuation with nothing to continue: not a header block.
                    Ok(_) if first => None,
                    Ok(next) => {
                        folded = true;
                        pos += next;
                        continue;
                    }
                },
                _ => {
                    let i = name_len(window);
                    if i > 0 && window.get(i) == Some(&b':') {
                        Some(i)
                    } else {
                        fast = false;
                        match slow_line(&nl, window, capped) {
                            Slow::Header { colon } => Some(colon),
                            // A lone CR at the end of the data: the block keeps it.
                            Slow::Separator { next } => {
                                out.has_separator = true;
                                out.body_start = pos + next;
                                stop = Some(pos + next);
                                None
                            }
                            Slow::Truncated => {
                                out.truncated = true;
                                None
                            }
                            Slow::End => None,
                        }
                    }
                }
            };
            match colon.map(|c| (c, line_end(&nl, window, c + 1, capped))) {
                Some((colon, Ok(next))) => {
                    // White space before the colon (obsolete syntax) only on the slow path.
                    let name = window.get(..colon).unwrap_or_default();
                    let name = if fast { name } else { name.trim_ascii_end() };
                    field = Some((name, pos + colon + 1, next));
                }
                Some((_, Err(()))) => out.truncated = true,
                None => {}
            }
        }
        // The current field ends where this line starts (or where the block stops).
        let at = stop.unwrap_or(pos).min(message.len());
        if let Some((name, from)) = current.take() {
            each(name, from..at, folded);
            folded = false;
        }
        match field {
            Some((name, from, next)) => {
                first = false;
                current = Some((name, from));
                pos += next;
            }
            None => break at,
        }
    };
    out.header_end = end;
    if !out.has_separator {
        out.body_start = end;
    }
    out
}

/// The Message-ID rule of [`scan`]: the first line of `value` (the field's own line or a
/// continuation line) with something on it besides white space, trimmed.
#[inline]
fn first_value_line(message: &[u8], value: Range<usize>, folded: bool) -> Option<Range<usize>> {
    if !folded {
        let v = trim_range(message, value);
        return (v.start < v.end).then_some(v);
    }
    let bytes = message.get(value.clone()).unwrap_or_default();
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let line = bytes.get(start..).unwrap_or_default();
    let len = memchr::memchr(b'\n', line).unwrap_or(line.len());
    let v = trim_range(message, value.start + start..value.start + start + len);
    (v.start < v.end).then_some(v)
}

/// Scans at most `limit` bytes of header block ([`walk`]) for what `decide` needs: the
/// block's bounds, the journal marker and the first Message-ID.
pub(crate) fn scan(message: &[u8], limit: usize) -> HeaderScan {
    let mut journal_marker = false;
    let mut message_id = None;
    let mut subject = None;
    let block = walk(message, limit, |name, value, folded| {
        if is_name(name, b"x-ms-journal-report") {
            journal_marker = true;
        } else if is_name(name, b"subject") {
            subject = Some(value);
        } else if message_id.is_none() && is_name(name, MESSAGE_ID) {
            message_id = first_value_line(message, value, folded);
        }
    });
    HeaderScan {
        header_start: block.header_start,
        body_start: block.body_start,
        has_separator: block.has_separator,
        journal_marker,
        message_id,
        subject,
        truncated: block.truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan before it was made one pass (two `memchr` calls per line, the name
    /// checked after the line end was found): the fast scan must agree with it exactly.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Current {
        Other,
        MessageIdPending,
    }

    fn trim_range_ref(data: &[u8], mut r: Range<usize>) -> Range<usize> {
        while r.start < r.end && data.get(r.start).is_some_and(|b| b.is_ascii_whitespace()) {
            r.start += 1;
        }
        while r.end > r.start && data.get(r.end - 1).is_some_and(|b| b.is_ascii_whitespace()) {
            r.end -= 1;
        }
        r
    }

    /// Scans at most `limit` bytes of header block.
    fn reference_scan(message: &[u8], limit: usize) -> HeaderScan {
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
                    let v = trim_range_ref(message, line);
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
                let v = trim_range_ref(message, line.start + colon + 1..line.end);
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

    proptest::proptest! {
        #[test]
        fn agrees_with_the_two_pass_reference(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                &b"Subject: x"[..], b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b"Message-ID:",
                b"message-id :", b"<a@b>", b"X-MS-Journal-Report:", b"x-ms-journal-report \t:",
                b"From ", b"Bad Name", b"\0", b"\xff", b"Received: from x", b"\r\n\r\n",
            ]), 0..24),
            limit in 1usize..200,
        ) {
            let m: Vec<u8> = parts.concat();
            // The subject is held to mail-parser's reading in `render::facts`'s tests.
            let without_subject = |limit| HeaderScan { subject: None, ..scan(&m, limit) };
            proptest::prop_assert_eq!(without_subject(limit), reference_scan(&m, limit));
            proptest::prop_assert_eq!(without_subject(LIMIT), reference_scan(&m, LIMIT));
        }
    }

    const LIMIT: usize = 64 * 1024;

    proptest::proptest! {
        /// The word-at-a-time run of name bytes is the byte-by-byte one, for every byte.
        #[test]
        fn name_len_is_the_run_of_name_bytes(w in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let expected = w.iter().position(|&b| !(33..=126).contains(&b) || b == b':').unwrap_or(w.len());
            proptest::prop_assert_eq!(name_len(&w), expected);
        }
    }

    #[test]
    fn name_len_stops_at_every_byte_that_is_not_a_name_byte() {
        for b in 0..=255u8 {
            for at in 0..17 {
                let mut w = vec![b'a'; 20];
                w[at] = b;
                let name = (33..=126).contains(&b) && b != b':';
                assert_eq!(name_len(&w), if name { 20 } else { at }, "byte {b} at {at}");
            }
        }
    }

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
    fn message_id_padded_before_its_colon_to_the_marker_s_length() {
        let m = b"Message-ID         : <x@y.example>\r\n\r\n";
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
    fn the_marker_constant_is_the_lower_case_name_compared() {
        assert!(is_name(JOURNAL_MARKER.as_bytes(), b"x-ms-journal-report"));
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
