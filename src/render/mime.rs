//! Small, allocation-conscious MIME building blocks: RFC 5322 dates, RFC 2047 encoded
//! words, quoted-printable, header folding, and keyed identifiers.

use std::fmt::Write;
use std::hash::Hasher;

use siphasher::sip128::{Hasher128, SipHasher24};

use crate::text::one_line;
use crate::time::Timestamp;

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Sun, 22 Nov 2026 10:14:03 +0000`.
pub(crate) fn rfc5322_date(t: Timestamp) -> String {
    let mut out = String::with_capacity(31);
    push_rfc5322_date(&mut out, t);
    out
}

/// Two decimal digits of `n` (0–99).
fn push_2(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// [`rfc5322_date`] written onto `out`.
pub(crate) fn push_rfc5322_date(out: &mut String, t: Timestamp) {
    let (y, mo, d, h, mi, s) = t.civil();
    let wd = WEEKDAYS
        .get(t.unix_seconds().div_euclid(86_400).rem_euclid(7) as usize)
        .copied()
        .unwrap_or("Thu");
    let mon = MONTHS
        .get(mo.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    out.push_str(wd);
    out.push_str(", ");
    if d >= 10 {
        push_2(out, d);
    } else {
        out.push(char::from(b'0' + (d % 10) as u8));
    }
    out.push(' ');
    out.push_str(mon);
    out.push(' ');
    let _ = write!(out, "{y:04} ");
    push_2(out, h);
    out.push(':');
    push_2(out, mi);
    out.push(':');
    push_2(out, s);
    out.push_str(" +0000");
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_char(i: u32) -> char {
    char::from(B64.get((i & 63) as usize).copied().unwrap_or(b'A'))
}

/// Standard base64 with padding.
pub(crate) fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(b64_char(n >> 18));
        out.push(b64_char(n >> 12));
        out.push(if chunk.len() > 1 {
            b64_char(n >> 6)
        } else {
            '='
        });
        out.push(if chunk.len() > 2 { b64_char(n) } else { '=' });
    }
    out
}

/// Whether text can stand in a header as it is (printable ASCII, no encoded-word
/// look-alike).
fn is_plain(s: &str) -> bool {
    let mut previous = 0u8;
    s.bytes().all(|b| {
        let ok = (0x20..0x7f).contains(&b) && !(previous == b'=' && b == b'?');
        previous = b;
        ok
    })
}

/// Header text (unstructured): as is when plain ASCII, else RFC 2047 `B` encoded words
/// of at most 75 characters, folded. Control characters become spaces first.
pub(crate) fn encode_text(s: &str) -> String {
    let s = one_line(s);
    if is_plain(&s) {
        return s;
    }
    let mut out = String::new();
    let mut chunk = String::new();
    // 45 input bytes make 60 base64 characters: with "=?UTF-8?B?" and "?=", 72.
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            push_word(&mut out, &chunk);
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        push_word(&mut out, &chunk);
    }
    out
}

/// [`encode_text`] written onto `out`: copied as is when it is plain ASCII already.
pub(crate) fn push_encoded_text(out: &mut String, s: &str) {
    if is_plain(s) {
        out.push_str(s);
    } else {
        out.push_str(&encode_text(s));
    }
}

fn push_word(out: &mut String, chunk: &str) {
    if !out.is_empty() {
        out.push_str("\r\n ");
    }
    out.push_str("=?UTF-8?B?");
    out.push_str(&base64(chunk.as_bytes()));
    out.push_str("?=");
}

/// A display name as a phrase: an atom run, a quoted string, or encoded words.
fn encode_phrase(name: &str) -> String {
    let name = one_line(name);
    let name = name.trim();
    if !is_plain(name) {
        return encode_text(name);
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c);
    if name.chars().all(atext) {
        return name.to_owned();
    }
    let mut q = String::with_capacity(name.len() + 2);
    q.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// `Name <addr>` or `<addr>`; `None` when the address is missing or not a valid SMTP
/// address (so nothing unparsed reaches a header).
#[cfg(test)]
pub(crate) fn mailbox(name: Option<&str>, address: Option<&str>) -> Option<String> {
    let mut out = String::new();
    push_mailbox(&mut out, name, address).then_some(out)
}

/// [`mailbox`] written onto `out`; `false` (and nothing written) when the address is
/// missing or not a valid SMTP address.
pub(crate) fn push_mailbox(out: &mut String, name: Option<&str>, address: Option<&str>) -> bool {
    let Some(address) = address else {
        return false;
    };
    let mark = out.len();
    if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
        push_phrase(out, n);
        out.push(' ');
    }
    out.push('<');
    if !push_plain_address(out, address) {
        match crate::address::Address::parse(address) {
            Ok(a) => out.push_str(a.as_str()),
            Err(_) => {
                out.truncate(mark);
                return false;
            }
        }
    }
    out.push('>');
    true
}

/// A plain `dot-atom@host.name` address written as [`Address::parse`] would normalise it
/// (the domain lower-cased), without building one; `false` (nothing written) for any
/// other address, which [`Address::parse`] must then judge. It accepts a subset of what
/// [`Address::parse`] accepts (a proptest checks it).
///
/// [`Address::parse`]: crate::address::Address::parse
fn push_plain_address(out: &mut String, address: &str) -> bool {
    let bytes = address.as_bytes();
    let Some(at) = bytes.iter().rposition(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (
        bytes.get(..at).unwrap_or_default(),
        bytes.get(at + 1..).unwrap_or_default(),
    );
    let atext = |b: u8| {
        matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'#' | b'$' | b'%'
            | b'&' | b'\'' | b'*' | b'+' | b'-' | b'/' | b'=' | b'?' | b'^' | b'_' | b'`'
            | b'{' | b'|' | b'}' | b'~')
    };
    // Dot-atom: atext words, one dot apart.
    let mut previous = b'.';
    for &b in local {
        if !(atext(b) || b == b'.' && previous != b'.') {
            return false;
        }
        previous = b;
    }
    if !(1..=64).contains(&local.len()) || previous == b'.' {
        return false;
    }
    // Host name: labels of letters, digits and inner hyphens, 1–63 bytes, one dot apart.
    let (mut label, mut previous) = (0usize, b'.');
    for &b in domain {
        match b {
            b'.' if label > 0 && previous != b'-' => label = 0,
            b'-' if label > 0 => label += 1,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => label += 1,
            _ => return false,
        }
        if label > 63 {
            return false;
        }
        previous = b;
    }
    if !(1..=255).contains(&domain.len()) || label == 0 || previous == b'-' {
        return false;
    }
    let start = out.len();
    out.push_str(address);
    if let Some(d) = out.get_mut(start + at + 1..) {
        d.make_ascii_lowercase();
    }
    true
}

/// [`encode_phrase`] written onto `out`: an atom run is copied as is.
fn push_phrase(out: &mut String, name: &str) {
    let atext = |b: u8| {
        matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b' ' | b'!' | b'#' | b'$' | b'%'
            | b'&' | b'\'' | b'*' | b'+' | b'-' | b'/' | b'^' | b'_' | b'`' | b'{' | b'|'
            | b'}' | b'~')
    };
    // `=` and `?` are atext too, but together they might start an encoded word.
    if name.bytes().all(atext) {
        out.push_str(name);
    } else {
        out.push_str(&encode_phrase(name));
    }
}

/// Quoted-printable (RFC 2045) with CRLF hard breaks and soft breaks before 76.
pub(crate) fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (n, line) in text.split("\r\n").enumerate() {
        if n > 0 {
            out.push_str("\r\n");
        }
        let mut col = 0usize;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal =
                (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
            let width = if literal { 1 } else { 3 };
            if col + width > 75 {
                out.push_str("=\r\n");
                col = 0;
            }
            if literal {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "={b:02X}");
            }
            col += width;
        }
    }
    out
}

/// A keyed 128-bit hash as 32 hex digits: deterministic for the same inputs and key,
/// unpredictable without the key.
pub(crate) fn keyed_hex(key: &[u8; 16], parts: &[&[u8]]) -> String {
    let mut s = String::with_capacity(32);
    push_keyed_hex(&mut s, key, parts);
    s
}

/// [`keyed_hex`] written onto `out`.
///
/// The parts and their lengths go to SipHash in one stream through a stack buffer (a
/// `write` per part cost more in the hasher's tail handling than the hashing itself);
/// SipHash depends only on the bytes streamed, so the digest is the one of each part's
/// length ([`leb128`]), then the part, streamed a `write` each — the same on every
/// platform. The lengths make the stream name its parts unambiguously; as LEB128 they
/// take one byte for a part under 128 bytes (most parts), where fixed eight-byte
/// lengths took eight.
pub(crate) fn push_keyed_hex(out: &mut String, key: &[u8; 16], parts: &[&[u8]]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = SipHasher24::new_with_key(key);
    let mut batch = Batch {
        buf: [0; BATCH],
        len: 0,
    };
    for p in parts {
        batch.put_len(&mut h, p.len());
        batch.put(&mut h, p);
    }
    batch.flush(&mut h);
    let mut hex = [0u8; 32];
    for (pair, b) in hex.chunks_exact_mut(2).zip(h.finish128().as_bytes()) {
        let digit = |n: u8| HEX.get(usize::from(n & 15)).copied().unwrap_or(b'0');
        pair.copy_from_slice(&[digit(b >> 4), digit(b)]);
    }
    out.push_str(std::str::from_utf8(&hex).unwrap_or_default());
}

/// `n` as unsigned LEB128 (seven bits a byte, low bits first, the high bit set on every
/// byte but the last): the bytes and how many of them are used. Prefix-free, so lengths
/// written this way before their parts never run into each other.
#[inline]
pub(crate) fn leb128(mut n: u64) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut used = 0;
    for b in &mut out {
        used += 1;
        if n < 0x80 {
            *b = n as u8;
            break;
        }
        *b = (n as u8) | 0x80;
        n >>= 7;
    }
    (out, used)
}

/// The room of a [`Batch`]: the parts of a report's key (about 150 bytes) fit in one.
const BATCH: usize = 192;

/// Bytes on their way to a hasher, gathered so that it sees few, long writes.
struct Batch {
    buf: [u8; BATCH],
    len: usize,
}

impl Batch {
    /// Hands what is gathered to the hasher and empties the buffer.
    fn flush(&mut self, h: &mut SipHasher24) {
        h.write(self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
    }

    /// A part's length, as [`leb128`]: one byte stored in place for the common short part.
    #[inline]
    fn put_len(&mut self, h: &mut SipHasher24, len: usize) {
        if len < 0x80 {
            if self.len == BATCH {
                self.flush(h);
            }
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = len as u8;
                self.len += 1;
                return;
            }
        }
        let (bytes, n) = leb128(len as u64);
        self.put(h, bytes.get(..n).unwrap_or_default());
    }

    fn put(&mut self, h: &mut SipHasher24, bytes: &[u8]) {
        if self.len + bytes.len() > self.buf.len() {
            self.flush(h);
        }
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            // Longer than the buffer: straight to the hasher.
            None => h.write(bytes),
        }
    }
}

/// A sample of a message for keyed identifiers: its first and last `each` bytes. Callers
/// key on the length too, so identifiers vary with the content — and with any insertion —
/// at a cost independent of the size.
pub(crate) fn sample(message: &[u8], each: usize) -> [&[u8]; 2] {
    let n = message.len();
    let head = message.get(..n.min(each)).unwrap_or_default();
    let tail = message.get(n.saturating_sub(each)..).unwrap_or_default();
    [head, tail]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LEB128 as its definition reads: the low seven bits, with the high bit set when
    /// more follow.
    fn leb128_reference(n: u64) -> Vec<u8> {
        let mut out = vec![(n & 0x7f) as u8];
        let mut rest = n >> 7;
        while rest != 0 {
            if let Some(last) = out.last_mut() {
                *last |= 0x80;
            }
            out.push((rest & 0x7f) as u8);
            rest >>= 7;
        }
        out
    }

    #[test]
    fn leb128_values() {
        for (n, bytes) in [
            (0u64, &[0u8][..]),
            (1, &[1]),
            (127, &[0x7f]),
            (128, &[0x80, 1]),
            (300, &[0xac, 2]),
            (16_383, &[0xff, 0x7f]),
            (16_384, &[0x80, 0x80, 1]),
        ] {
            let (b, len) = leb128(n);
            assert_eq!(b.get(..len), Some(bytes), "{n}");
        }
        let (b, len) = leb128(u64::MAX);
        assert_eq!(len, 10);
        assert_eq!(b.get(9), Some(&1));
    }

    proptest::proptest! {
        /// Any length, as the definition writes it; and it reads back from the front of
        /// a longer stream (prefix-free).
        #[test]
        fn leb128_is_the_reference_and_reads_back(n in proptest::num::u64::ANY, after in proptest::collection::vec(proptest::num::u8::ANY, 0..4)) {
            let (b, len) = leb128(n);
            let got = b.get(..len).unwrap_or_default();
            proptest::prop_assert_eq!(got, &leb128_reference(n)[..]);
            let mut stream = got.to_vec();
            stream.extend_from_slice(&after);
            let (mut value, mut shift, mut read) = (0u64, 0u32, 0usize);
            for &byte in &stream {
                value |= u64::from(byte & 0x7f) << shift;
                shift += 7;
                read += 1;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            proptest::prop_assert_eq!((value, read), (n, len));
        }
    }

    proptest::proptest! {
        /// The batched stream gives the digest of each part's length (LEB128) and the
        /// part, a `write` each.
        #[test]
        fn keyed_hex_is_the_digest_of_each_part_and_its_length(
            parts in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..300), 0..6),
            key in proptest::array::uniform16(proptest::num::u8::ANY),
        ) {
            let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let mut h = SipHasher24::new_with_key(&key);
            for p in &parts {
                h.write(&leb128_reference(p.len() as u64));
                h.write(p);
            }
            let expected: String =
                h.finish128().as_bytes().iter().map(|b| format!("{b:02x}")).collect();
            let mut got = String::new();
            push_keyed_hex(&mut got, &key, &parts);
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn dates() {
        assert_eq!(
            rfc5322_date(Timestamp::from_unix(1_795_342_443)),
            "Sun, 22 Nov 2026 10:14:03 +0000"
        );
        assert_eq!(
            rfc5322_date(Timestamp::from_unix(0)),
            "Thu, 1 Jan 1970 00:00:00 +0000"
        );
    }

    #[test]
    fn base64_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn header_text() {
        assert_eq!(encode_text("Q3 numbers"), "Q3 numbers");
        assert_eq!(encode_text("a\r\nBcc: evil@x"), "a  Bcc: evil@x");
        let e = encode_text("Zahlen für Q3");
        assert!(e.starts_with("=?UTF-8?B?") && e.ends_with("?="), "{e}");
        let long = encode_text(&"ü".repeat(100));
        assert!(long.split("\r\n ").all(|w| w.len() <= 75), "{long}");
        assert!(encode_text("=?utf-8?q?fake?=").starts_with("=?UTF-8?B?"));
    }

    #[test]
    fn pushed_dates_and_words_match() {
        for t in [0, 1_795_342_443, 951_782_400, 4_102_444_799] {
            let t = Timestamp::from_unix(t);
            let (_, _, d, ..) = t.civil();
            let mut out = String::new();
            push_rfc5322_date(&mut out, t);
            assert!(out.contains(&format!(", {d} ")), "{out}");
            assert_eq!(out.len(), if d < 10 { 30 } else { 31 }, "{out}");
        }
        for s in ["Q3 numbers", "a\r\nb", "Zahlen für Q3", "=?x?q?y?=", ""] {
            let mut out = String::new();
            push_encoded_text(&mut out, s);
            assert_eq!(out, encode_text(s));
        }
        for n in ["Bob", "Doe, John", "Jürgen", "=?utf-8?q?x?=", "a\"b"] {
            let mut out = String::new();
            push_phrase(&mut out, n);
            assert_eq!(out, encode_phrase(n));
        }
        let mut h = SipHasher24::new_with_key(&[7; 16]);
        for p in [&b"a"[..], b"bc"] {
            h.write(&[p.len() as u8]);
            h.write(p);
        }
        let reference: String = h
            .finish128()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(keyed_hex(&[7; 16], &[b"a", b"bc"]), reference);
    }

    proptest::proptest! {
        /// Every address the plain path takes, `Address::parse` takes too, and writes
        /// the same way.
        #[test]
        fn plain_addresses_are_parsed_addresses(a in "[a-zA-Z0-9.@<> _\\-+\"\\[\\]]{0,12}(@[a-zA-Z0-9.-]{0,10})?") {
            let mut out = String::new();
            if push_plain_address(&mut out, &a) {
                let parsed = crate::address::Address::parse(&a);
                proptest::prop_assert!(parsed.is_ok(), "{a:?}");
                let parsed = parsed.unwrap();
                proptest::prop_assert_eq!(out.as_str(), parsed.as_str());
            }
        }
    }

    #[test]
    fn plain_address_edges() {
        for a in ["a@B.Example", "x.y+z@d-e.example", "a@b"] {
            let mut out = String::new();
            assert!(push_plain_address(&mut out, a), "{a}");
            assert_eq!(out, crate::address::Address::parse(a).unwrap().as_str());
        }
        for a in [
            ".a@b",
            "a.@b",
            "a..b@c",
            "a@-b",
            "a@b-",
            "a@b..c",
            "a@",
            "@b",
            "a b@c",
            "<a@b>",
            "postmaster",
            "\"q\"@b",
            "a@[1.2.3.4]",
            &format!("{}@b", "x".repeat(65)),
        ] {
            assert!(!push_plain_address(&mut String::new(), a), "{a}");
        }
    }

    #[test]
    fn mailboxes() {
        assert_eq!(
            mailbox(Some("Bob"), Some("bob@x.example")).unwrap(),
            "Bob <bob@x.example>"
        );
        assert_eq!(
            mailbox(Some("Doe, John"), Some("j@x.example")).unwrap(),
            "\"Doe, John\" <j@x.example>"
        );
        assert_eq!(mailbox(None, Some("j@x.example")).unwrap(), "<j@x.example>");
        assert!(mailbox(Some("x"), Some("not an address\r\nBcc: y@z")).is_none());
        assert!(
            mailbox(Some("Jürgen"), Some("j@x.example"))
                .unwrap()
                .starts_with("=?UTF-8?B?")
        );
    }

    #[test]
    fn qp() {
        assert_eq!(quoted_printable("a=b"), "a=3Db");
        assert_eq!(quoted_printable("für"), "f=C3=BCr");
        assert_eq!(quoted_printable("end "), "end=20");
        let long = quoted_printable(&"x".repeat(200));
        assert!(long.split("\r\n").all(|l| l.len() <= 76));
    }
}
