//! One chain entry: its fields, the canonical line, and parsing a line back.

use std::borrow::Cow;
use std::fmt::Write;

use sha2::{Digest, Sha256};

use crate::time::Timestamp;

/// The format version, the `v` field of every line.
pub(crate) const VERSION: u64 = 1;

/// A SHA-256 digest.
pub(crate) type Hash = [u8; 32];

/// The `prev` of the first entry.
pub(crate) const ZERO: Hash = [0; 32];

/// Why a checkpoint was written (the `reason` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The first entry of a new chain.
    Open,
    /// The first entry written after a restart ([`Chain::resume`](super::Chain::resume)).
    Resume,
    /// `checkpoint_every` entries since the last checkpoint.
    Interval,
    /// The end of a UTC day that has entries (time `23:59:59`).
    Day,
    /// Asked for by the caller ([`Chain::checkpoint`](super::Chain::checkpoint)).
    Explicit,
}

impl Reason {
    /// The value of the `reason` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Open => "open",
            Reason::Resume => "resume",
            Reason::Interval => "interval",
            Reason::Day => "day",
            Reason::Explicit => "explicit",
        }
    }

    fn parse(s: &str) -> Option<Reason> {
        Some(match s {
            "open" => Reason::Open,
            "resume" => Reason::Resume,
            "interval" => Reason::Interval,
            "day" => Reason::Day,
            "explicit" => Reason::Explicit,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind-specific part of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Body<'a> {
    Decision {
        envelope: Cow<'a, str>,
        sha256: Hash,
        size: u64,
        archive: Vec<Cow<'a, str>>,
        journal: Vec<Cow<'a, str>>,
        rows: u64,
    },
    Archive {
        msg: u64,
        envelope: Cow<'a, str>,
        key: Cow<'a, str>,
        sha256: Hash,
        size: u64,
    },
    Tracking {
        msg: u64,
        envelope: Cow<'a, str>,
        key: Cow<'a, str>,
        sha256: Hash,
        size: u64,
        rows: u64,
    },
    Handover {
        msg: u64,
        envelope: Cow<'a, str>,
        reverse_path: Cow<'a, str>,
        reply: Cow<'a, str>,
        sha256: Hash,
        size: u64,
    },
    Checkpoint {
        reason: Reason,
        every: u64,
        count: u64,
        head: Hash,
        sig: Option<[u8; 64]>,
    },
}

impl Body<'_> {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Body::Decision { .. } => "decision",
            Body::Archive { .. } => "archive",
            Body::Tracking { .. } => "tracking",
            Body::Handover { .. } => "handover",
            Body::Checkpoint { .. } => "checkpoint",
        }
    }

    /// The decision entry a follow-up entry belongs to.
    pub(crate) fn msg(&self) -> Option<u64> {
        match self {
            Body::Archive { msg, .. } | Body::Tracking { msg, .. } | Body::Handover { msg, .. } => {
                Some(*msg)
            }
            _ => None,
        }
    }

    pub(crate) fn is_checkpoint(&self) -> bool {
        matches!(self, Body::Checkpoint { .. })
    }

    pub(crate) fn is_day_checkpoint(&self) -> bool {
        matches!(
            self,
            Body::Checkpoint {
                reason: Reason::Day,
                ..
            }
        )
    }
}

/// One chain entry, without its own hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    pub seq: u64,
    pub prev: Hash,
    pub node: Cow<'a, str>,
    pub time: Timestamp,
    pub body: Body<'a>,
}

// ---------------------------------------------------------------------------------------
// Small encoders shared by the writer and the verifier.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    // In blocks through a stack buffer: one `push_str` per 64 digits, not one per digit.
    for block in bytes.chunks(32) {
        let mut buf = [0u8; 64];
        for (pair, b) in buf.chunks_exact_mut(2).zip(block) {
            if let (Some(&hi), Some(&lo)) =
                (HEX.get(usize::from(b >> 4)), HEX.get(usize::from(b & 0x0f)))
            {
                pair.copy_from_slice(&[hi, lo]);
            }
        }
        let digits = buf.get(..block.len() * 2).unwrap_or_default();
        out.push_str(std::str::from_utf8(digits).unwrap_or_default());
    }
}

/// Decimal digits of `n`.
fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(buf.get(i..).unwrap_or_default()).unwrap_or_default());
}

/// Exactly `N` bytes from `2N` lower-case hex digits.
pub(crate) fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (digit(*hi)?, digit(*lo)?),
            _ => return None,
        };
        *o = hi << 4 | lo;
    }
    Some(out)
}

/// `2026-11-22T10:14:03Z`; `None` outside the years 0000–9999.
pub(crate) fn format_time(t: Timestamp) -> Option<String> {
    let mut s = String::with_capacity(20);
    push_time(&mut s, t).then_some(s)
}

/// Appends `YYYY-MM-DDTHH:MM:SSZ`; `false` (nothing appended) outside the years
/// 0000–9999.
fn push_time(out: &mut String, t: Timestamp) -> bool {
    let (y, mo, d, h, mi, s) = t.civil();
    if !(0..=9999).contains(&y) {
        return false;
    }
    let mut buf = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            if let Some(c) = buf.get_mut(i) {
                *c = b'0' + (v % 10) as u8;
            }
            v /= 10;
        }
    };
    put(0, 4, y as u32);
    put(5, 2, mo);
    put(8, 2, d);
    put(11, 2, h);
    put(14, 2, mi);
    put(17, 2, s);
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
    true
}

/// The inverse of [`format_time`], exactly that form.
pub(crate) fn parse_time(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() != 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.get(19) != Some(&b'Z')
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = s.get(from..to)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let t = Timestamp::from_unix(days * 86_400 + h * 3600 + mi * 60 + sec);
    // Rejects 31 April and the like: the round trip must give the same text.
    (format_time(t).as_deref() == Some(s)).then_some(t)
}

/// The UTC day number of a time.
pub(crate) fn day(t: Timestamp) -> i64 {
    t.unix_seconds().div_euclid(86_400)
}

/// `23:59:59` UTC of the day of `t`.
pub(crate) fn end_of_day(t: Timestamp) -> Timestamp {
    Timestamp::from_unix(day(t) * 86_400 + 86_399)
}

/// A JSON string: `"` and `\` escaped with a backslash, U+0000–U+001F as `\u00xx`
/// (lower-case hex), everything else as its UTF-8 bytes.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let mut rest = s;
    while let Some(i) = rest.bytes().position(needs_escape) {
        let (plain, tail) = rest.split_at(i);
        out.push_str(plain);
        let mut chars = tail.chars();
        match chars.next() {
            Some('"') => out.push_str("\\\""),
            Some('\\') => out.push_str("\\\\"),
            Some(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            None => {}
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
    out.push('"');
}

fn field_str(out: &mut String, name: &str, value: &str) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
    push_json_str(out, value);
}

fn field_u64(out: &mut String, name: &str, value: u64) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
    push_u64(out, value);
}

fn field_hex(out: &mut String, name: &str, value: &[u8]) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":\"");
    push_hex(out, value);
    out.push('"');
}

fn field_list(out: &mut String, name: &str, values: &[Cow<'_, str>]) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":[");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, v);
    }
    out.push(']');
}

impl Entry<'_> {
    /// The canonical object without its `hash` member: what the hash covers. `None` when
    /// the time is outside the years 0000–9999.
    pub(crate) fn canonical(&self) -> Option<String> {
        let mut out = String::with_capacity(384);
        self.push_canonical(&mut out).then_some(out)
    }

    /// Appends the canonical object to `out`; `false` (and `out` unchanged) when the
    /// time is outside the years 0000–9999.
    pub(crate) fn push_canonical(&self, out: &mut String) -> bool {
        let start = out.len();
        if !self.push_members(out) {
            out.truncate(start);
            return false;
        }
        true
    }

    fn push_members(&self, out: &mut String) -> bool {
        out.push_str("{\"v\":");
        push_u64(out, VERSION);
        field_u64(out, "seq", self.seq);
        field_hex(out, "prev", &self.prev);
        field_str(out, "kind", self.body.kind());
        field_str(out, "node", &self.node);
        out.push_str(",\"time\":\"");
        if !push_time(out, self.time) {
            return false;
        }
        out.push('"');
        match &self.body {
            Body::Decision {
                envelope,
                sha256,
                size,
                archive,
                journal,
                rows,
            } => {
                field_str(out, "envelope", envelope);
                field_hex(out, "sha256", sha256);
                field_u64(out, "size", *size);
                field_list(out, "archive", archive);
                field_list(out, "journal", journal);
                field_u64(out, "rows", *rows);
            }
            Body::Archive {
                msg,
                envelope,
                key,
                sha256,
                size,
            } => {
                field_u64(out, "msg", *msg);
                field_str(out, "envelope", envelope);
                field_str(out, "key", key);
                field_hex(out, "sha256", sha256);
                field_u64(out, "size", *size);
            }
            Body::Tracking {
                msg,
                envelope,
                key,
                sha256,
                size,
                rows,
            } => {
                field_u64(out, "msg", *msg);
                field_str(out, "envelope", envelope);
                field_str(out, "key", key);
                field_hex(out, "sha256", sha256);
                field_u64(out, "size", *size);
                field_u64(out, "rows", *rows);
            }
            Body::Handover {
                msg,
                envelope,
                reverse_path,
                reply,
                sha256,
                size,
            } => {
                field_u64(out, "msg", *msg);
                field_str(out, "envelope", envelope);
                field_str(out, "reverse_path", reverse_path);
                field_str(out, "reply", reply);
                field_hex(out, "sha256", sha256);
                field_u64(out, "size", *size);
            }
            Body::Checkpoint {
                reason,
                every,
                count,
                head,
                sig,
            } => {
                field_str(out, "reason", reason.as_str());
                field_u64(out, "every", *every);
                field_u64(out, "count", *count);
                field_hex(out, "head", head);
                field_hex(out, "sig", sig.as_ref().map_or(&[][..], |s| &s[..]));
            }
        }
        out.push('}');
        true
    }
}

/// Appends the entry's line (canonical object with its hash, then `\n`) and returns the
/// hash; `None` (nothing appended) when the time is out of range.
pub(crate) fn push_entry_line(out: &mut String, entry: &Entry<'_>) -> Option<Hash> {
    let start = out.len();
    if !entry.push_canonical(out) {
        return None;
    }
    let hash: Hash = Sha256::digest(out.as_bytes().get(start..).unwrap_or_default()).into();
    out.pop(); // the closing brace, re-added after the hash
    out.push_str(",\"hash\":\"");
    push_hex(out, &hash);
    out.push_str("\"}\n");
    Some(hash)
}

/// SHA-256 of a canonical object.
pub(crate) fn hash_of(canonical: &str) -> Hash {
    Sha256::digest(canonical.as_bytes()).into()
}

/// The line for a canonical object and its hash: the object with
/// `,"hash":"<hex>"` inserted before its closing `}`, then `\n`.
pub(crate) fn push_line(out: &mut String, canonical: &str, hash: &Hash) {
    out.push_str(canonical.strip_suffix('}').unwrap_or(canonical));
    out.push_str(",\"hash\":\"");
    push_hex(out, hash);
    out.push_str("\"}\n");
}

// ---------------------------------------------------------------------------------------
// Parsing.

#[derive(serde::Deserialize)]
struct RawLine<'a> {
    v: Option<u64>,
    seq: Option<u64>,
    #[serde(borrow)]
    prev: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    node: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    envelope: Option<Cow<'a, str>>,
    msg: Option<u64>,
    #[serde(borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sha256: Option<Cow<'a, str>>,
    size: Option<u64>,
    archive: Option<Vec<String>>,
    journal: Option<Vec<String>>,
    rows: Option<u64>,
    #[serde(borrow)]
    reverse_path: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reply: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
    every: Option<u64>,
    count: Option<u64>,
    #[serde(borrow)]
    head: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sig: Option<Cow<'a, str>>,
    #[serde(borrow)]
    hash: Option<Cow<'a, str>>,
}

/// A line read back.
#[derive(Clone, Debug)]
pub(crate) struct Parsed<'a> {
    pub entry: Entry<'a>,
    /// The `hash` field.
    pub claimed: Hash,
    /// SHA-256 of the entry's canonical object.
    pub computed: Hash,
}

impl Parsed<'_> {
    /// Whether the `hash` field matches the content.
    pub(crate) fn intact(&self) -> bool {
        self.claimed == self.computed
    }
}

fn need<T>(v: Option<T>, field: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("field `{field}` missing"))
}

fn need_hash(v: Option<Cow<'_, str>>, field: &str) -> Result<Hash, String> {
    let s = need(v, field)?;
    unhex::<32>(&s).ok_or_else(|| format!("field `{field}`: {s:?} is not 64 lower-case hex digits"))
}

/// Parses one line (without its `\n`). `Err` names what is wrong: not JSON, a field
/// missing or of the wrong form, or not the canonical form of its own fields.
pub(crate) fn parse(line: &[u8]) -> Result<Parsed<'_>, String> {
    let raw: RawLine<'_> =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON entry: {e}"))?;
    let v = need(raw.v, "v")?;
    if v != VERSION {
        return Err(format!("field `v`: version {v} is not {VERSION}"));
    }
    let seq = need(raw.seq, "seq")?;
    let prev = need_hash(raw.prev, "prev")?;
    let kind = need(raw.kind, "kind")?;
    let node = need(raw.node, "node")?;
    let time_text = need(raw.time, "time")?;
    let time = parse_time(&time_text)
        .ok_or_else(|| format!("field `time`: {time_text:?} is not YYYY-MM-DDTHH:MM:SSZ"))?;
    let claimed = need_hash(raw.hash, "hash")?;
    let cow = |v: Vec<String>| v.into_iter().map(Cow::Owned).collect::<Vec<_>>();
    let body = match &*kind {
        "decision" => Body::Decision {
            envelope: need(raw.envelope, "envelope")?,
            sha256: need_hash(raw.sha256, "sha256")?,
            size: need(raw.size, "size")?,
            archive: cow(need(raw.archive, "archive")?),
            journal: cow(need(raw.journal, "journal")?),
            rows: need(raw.rows, "rows")?,
        },
        "archive" => Body::Archive {
            msg: need(raw.msg, "msg")?,
            envelope: need(raw.envelope, "envelope")?,
            key: need(raw.key, "key")?,
            sha256: need_hash(raw.sha256, "sha256")?,
            size: need(raw.size, "size")?,
        },
        "tracking" => Body::Tracking {
            msg: need(raw.msg, "msg")?,
            envelope: need(raw.envelope, "envelope")?,
            key: need(raw.key, "key")?,
            sha256: need_hash(raw.sha256, "sha256")?,
            size: need(raw.size, "size")?,
            rows: need(raw.rows, "rows")?,
        },
        "handover" => Body::Handover {
            msg: need(raw.msg, "msg")?,
            envelope: need(raw.envelope, "envelope")?,
            reverse_path: need(raw.reverse_path, "reverse_path")?,
            reply: need(raw.reply, "reply")?,
            sha256: need_hash(raw.sha256, "sha256")?,
            size: need(raw.size, "size")?,
        },
        "checkpoint" => {
            let reason = need(raw.reason, "reason")?;
            let sig = need(raw.sig, "sig")?;
            Body::Checkpoint {
                reason: Reason::parse(&reason)
                    .ok_or_else(|| format!("field `reason`: unknown reason {reason:?}"))?,
                every: need(raw.every, "every")?,
                count: need(raw.count, "count")?,
                head: need_hash(raw.head, "head")?,
                sig: if sig.is_empty() {
                    None
                } else {
                    Some(unhex::<64>(&sig).ok_or_else(|| {
                        format!("field `sig`: {sig:?} is not empty or 128 lower-case hex digits")
                    })?)
                },
            }
        }
        other => return Err(format!("field `kind`: unknown kind {other:?}")),
    };
    let entry = Entry {
        seq,
        prev,
        node,
        time,
        body,
    };
    let canonical = entry
        .canonical()
        .ok_or_else(|| format!("field `time`: {time_text:?} is out of range"))?;
    let mut expected = String::with_capacity(canonical.len() + 80);
    push_line(&mut expected, &canonical, &claimed);
    if expected.as_bytes().strip_suffix(b"\n") != Some(line) {
        return Err(
            "not in canonical form (field order, spacing, escapes or extra fields differ)"
                .to_owned(),
        );
    }
    Ok(Parsed {
        computed: hash_of(&canonical),
        entry,
        claimed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry<'static> {
        Entry {
            seq: 2,
            prev: [0x11; 32],
            node: "mx1".into(),
            time: Timestamp::from_unix(1_795_342_443),
            body: Body::Archive {
                msg: 1,
                envelope: "Q1".into(),
                key: "archive/2026/11/22/alice@example.com/Q1.eml".into(),
                sha256: [0x22; 32],
                size: 512,
            },
        }
    }

    #[test]
    fn canonical_form_and_hash_are_fixed() {
        let e = sample();
        let c = e.canonical().unwrap();
        assert_eq!(
            c,
            concat!(
                r#"{"v":1,"seq":2,"prev":"1111111111111111111111111111111111111111111111111111111111111111","#,
                r#""kind":"archive","node":"mx1","time":"2026-11-22T10:14:03Z","msg":1,"envelope":"Q1","#,
                r#""key":"archive/2026/11/22/alice@example.com/Q1.eml","#,
                r#""sha256":"2222222222222222222222222222222222222222222222222222222222222222","size":512}"#
            )
        );
        // The test vector in the module documentation: `printf '%s' "$c" | sha256sum`.
        assert_eq!(
            hex(&hash_of(&c)),
            "99d9446663a9b3387d4bc4056e610cc65505b1204d1f63f1ac370bbbc0211ebe"
        );
    }

    #[test]
    fn appended_lines_equal_canonical_plus_hash() {
        let e = sample();
        let c = e.canonical().unwrap();
        let mut expected = String::from("prefix");
        push_line(&mut expected, &c, &hash_of(&c));
        let mut got = String::from("prefix");
        assert_eq!(push_entry_line(&mut got, &e), Some(hash_of(&c)));
        assert_eq!(got, expected);
        let mut late = e.clone();
        late.time = Timestamp::from_unix(i64::MAX / 4);
        let mut unchanged = String::from("x");
        assert_eq!(push_entry_line(&mut unchanged, &late), None);
        assert_eq!(unchanged, "x");
    }

    #[test]
    fn numbers_and_hex() {
        for n in [0u64, 7, 10, 12_345, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        let bytes: Vec<u8> = (0..=255).collect();
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&bytes), expected);
    }

    #[test]
    fn lines_parse_back() {
        let e = sample();
        let c = e.canonical().unwrap();
        let h = hash_of(&c);
        let mut line = String::new();
        push_line(&mut line, &c, &h);
        let p = parse(line.trim_end().as_bytes()).unwrap();
        assert!(p.intact());
        assert_eq!(p.entry, e);
    }

    #[test]
    fn non_canonical_lines_are_refused() {
        let e = sample();
        let c = e.canonical().unwrap();
        let mut line = String::new();
        push_line(&mut line, &c, &hash_of(&c));
        let line = line.trim_end();
        for bad in [
            line.replacen(",\"seq\"", ", \"seq\"", 1),
            line.replacen("\"v\":1,", "\"v\":1,\"extra\":0,", 1),
            line.replacen("\"Q1\"", "\"\\u00511\"", 1),
        ] {
            let err = parse(bad.as_bytes()).unwrap_err();
            assert!(err.contains("canonical"), "{bad}: {err}");
        }
        assert!(parse(b"{").unwrap_err().contains("not a JSON entry"));
        let dup = line.replacen("\"seq\":2", "\"seq\":2,\"seq\":3", 1);
        assert!(parse(dup.as_bytes()).is_err());
    }

    #[test]
    fn escapes() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\r\n\u{1}é/");
        assert_eq!(s, r#""a\"b\\c\u000d\u000a\u0001é/""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\r\n\u{1}é/");
    }

    #[test]
    fn times_round_trip() {
        for t in [0, 951_782_400, 1_795_342_443, 253_402_300_799] {
            let t = Timestamp::from_unix(t);
            assert_eq!(parse_time(&format_time(t).unwrap()), Some(t));
        }
        assert_eq!(format_time(Timestamp::from_unix(253_402_300_800)), None);
        for bad in [
            "2026-04-31T00:00:00Z",
            "2026-11-22 10:14:03Z",
            "2026-11-22T24:00:00Z",
            "+026-11-22T10:14:03Z",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        let t = Timestamp::from_unix(1_795_342_443);
        assert_eq!(end_of_day(t).to_string(), "2026-11-22T23:59:59Z");
    }

    #[test]
    fn hex_round_trip() {
        let b = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&b), "0001abff");
        assert_eq!(unhex::<4>("0001abff"), Some(b));
        assert_eq!(unhex::<4>("0001ABFF"), None);
        assert_eq!(unhex::<4>("0001abf"), None);
    }
}
