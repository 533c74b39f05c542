//! Header facts of the original message.
//!
//! The header block is walked once, by the walker `decide`'s scan uses
//! ([`headers::walk`]), and only those the renderers use (`From`, `To`, `Cc`, `Subject`,
//! `Message-ID`) are handed to mail-parser's field parsers — `Received` lines and the
//! rest are skipped without being parsed. Values borrow from the message where they can.
//! mail-parser types never leave this module.

use std::borrow::Cow;

use mail_parser::parsers::MessageStream;
use mail_parser::{Address as Parsed, HeaderValue};
use smallvec::SmallVec;

use crate::headers;

/// One mailbox from an address header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mailbox<'a> {
    pub name: Option<Cow<'a, str>>,
    pub address: Option<Cow<'a, str>>,
}

/// The mailboxes of an address header (every occurrence, in order).
pub(crate) type Mailboxes<'a> = SmallVec<[Mailbox<'a>; 2]>;

/// Where the header block of a message lies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Where the header lines start: after a leading mbox `From ` line, if any.
    pub header_start: usize,
    /// Where the header block ends: its last line's line break included, the blank
    /// separator line excluded (up to the scan limit).
    pub header_end: usize,
}

impl Bounds {
    /// Whether a header block was found at all.
    pub(crate) fn has_headers(&self) -> bool {
        self.header_end > self.header_start
    }
}

/// What the renderers need from the original's header block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts<'a> {
    pub from: Mailboxes<'a>,
    pub to: Mailboxes<'a>,
    pub cc: Mailboxes<'a>,
    pub subject: Option<Cow<'a, str>>,
    /// Without its angle brackets.
    pub message_id: Option<Cow<'a, str>>,
    /// Where the header block lies ([`Bounds::has_headers`]: whether there is one).
    pub bounds: Bounds,
}

/// The fields the renderers read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wanted {
    From,
    To,
    Cc,
    Subject,
    MessageId,
}

/// Which wanted field a field name is (ASCII case ignored), as mail-parser names them.
/// Length and first letter first: most names are none of them, and differ there.
#[inline]
fn wanted(name: &[u8]) -> Option<Wanted> {
    let (w, full): (Wanted, &[u8]) = match (name.len(), name.first()? | 0x20) {
        (2, b't') => (Wanted::To, b"to"),
        (2, b'c') => (Wanted::Cc, b"cc"),
        (4, b'f') => (Wanted::From, b"from"),
        (7, b's') => (Wanted::Subject, b"subject"),
        (10, b'm') => (Wanted::MessageId, b"message-id"),
        _ => return None,
    };
    name.eq_ignore_ascii_case(full).then_some(w)
}

/// Walks the header block once with the engine's walker ([`headers::walk`], the rules
/// `decide`'s scan uses), and calls `each` with every field the renderers read and its
/// value: the bytes after the colon up to and including the last line break of its
/// continuation lines. Returns where the block lies.
fn walk<'a>(message: &'a [u8], limit: usize, mut each: impl FnMut(Wanted, &'a [u8])) -> Bounds {
    let block = headers::walk(message, limit, |name, value, _| {
        if let Some(w) = wanted(name) {
            each(w, message.get(value).unwrap_or_default());
        }
    });
    Bounds {
        header_start: block.header_start.min(block.header_end),
        header_end: block.header_end,
    }
}

fn mailboxes<'a>(value: HeaderValue<'a>, out: &mut Mailboxes<'a>) {
    let mut push = |a: mail_parser::Addr<'a>| {
        out.push(Mailbox {
            name: a.name,
            address: a.address,
        })
    };
    match value {
        HeaderValue::Address(Parsed::List(list)) => list.into_iter().for_each(&mut push),
        HeaderValue::Address(Parsed::Group(groups)) => groups
            .into_iter()
            .flat_map(|g| g.addresses)
            .for_each(&mut push),
        _ => {}
    }
}

/// The text of a field value, as mail-parser's `as_text` reads it (the last of a list).
fn text(value: HeaderValue<'_>) -> Option<Cow<'_, str>> {
    match value {
        HeaderValue::Text(s) => Some(s),
        HeaderValue::TextList(mut l) => l.pop(),
        _ => None,
    }
}

/// The value of a field that fits on its one line, without its line break and the white
/// space around it, when it is plain ASCII (no control character, no encoded word): the
/// only values the fast paths below take. `None` sends the value to mail-parser.
fn plain_line(value: &[u8]) -> Option<&str> {
    let line = value.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // Without an early exit, so that it vectorises.
    let plain = line.iter().fold(true, |ok, &b| {
        ok & ((b.wrapping_sub(0x20) < 0x5f) | (b == b'\t'))
    });
    if !plain {
        return None;
    }
    // An encoded word starts with `=?`.
    for q in memchr::memchr_iter(b'?', line) {
        if q > 0 && line.get(q - 1) == Some(&b'=') {
            return None;
        }
    }
    std::str::from_utf8(line.trim_ascii()).ok()
}

/// An unstructured value (`Subject`) as mail-parser's `parse_unstructured` reads it.
pub(crate) fn unstructured(value: &[u8]) -> Option<Cow<'_, str>> {
    match plain_line(value) {
        Some("") => None,
        Some(s) => Some(Cow::Borrowed(s)),
        None => text(MessageStream::new(value).parse_unstructured()),
    }
}

/// A `Message-ID` value, without its angle brackets, as mail-parser's `parse_id` and the
/// trimming of the brackets read it.
fn message_id(value: &[u8]) -> Option<Cow<'_, str>> {
    let simple = plain_line(value)
        .and_then(|s| s.strip_prefix('<'))
        .and_then(|s| s.strip_suffix('>'))
        .filter(|id| !id.is_empty() && !id.contains(['<', '>', ' ', '\t']));
    if let Some(id) = simple {
        return Some(Cow::Borrowed(id));
    }
    text(MessageStream::new(value).parse_id()).map(|id| {
        let trimmed = id.trim_matches(|c| c == '<' || c == '>');
        if trimmed.len() == id.len() {
            id
        } else {
            Cow::Owned(trimmed.to_owned())
        }
    })
}

/// Whether `s` is an address mail-parser reads as it is: `local@domain` of atext
/// characters and dots, one `@`.
fn is_simple_address(s: &str) -> bool {
    let mut ats = 0;
    for b in s.bytes() {
        match b {
            b'@' => ats += 1,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => {}
            b'.' | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'/' | b'=' | b'?'
            | b'^' | b'_' | b'`' | b'{' | b'|' | b'}' | b'~' | b'-' => {}
            _ => return false,
        }
    }
    ats == 1 && !s.starts_with('@') && !s.ends_with('@')
}

/// Whether `s` is a display name mail-parser reads as it is: words of letters, digits,
/// `-` and `_`, one space apart.
fn is_simple_name(s: &str) -> bool {
    let mut previous = b' ';
    for b in s.bytes() {
        let word = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if !(word || b == b' ' && previous != b' ') {
            return false;
        }
        previous = b;
    }
    !s.is_empty()
}

/// The mailboxes of an address field as mail-parser's `parse_address` reads them: a list
/// of `addr` and `Name <addr>` items is split here, anything else goes to mail-parser.
fn address_list<'a>(value: &'a [u8], out: &mut Mailboxes<'a>) {
    if let Some(line) = plain_line(value).filter(|l| !l.is_empty()) {
        let mark = out.len();
        let mut simple = true;
        for item in line.split(',') {
            let item = item.trim_matches([' ', '\t']);
            let mailbox = match item.strip_suffix('>').and_then(|i| i.rsplit_once('<')) {
                Some((name, addr)) => {
                    let name = name.trim_end_matches([' ', '\t']);
                    let named = name.is_empty() || is_simple_name(name);
                    (named && is_simple_address(addr)).then(|| Mailbox {
                        name: (!name.is_empty()).then_some(Cow::Borrowed(name)),
                        address: Some(Cow::Borrowed(addr)),
                    })
                }
                None => is_simple_address(item).then_some(Mailbox {
                    name: None,
                    address: Some(Cow::Borrowed(item)),
                }),
            };
            match mailbox {
                Some(m) => out.push(m),
                None => {
                    simple = false;
                    break;
                }
            }
        }
        if simple {
            return;
        }
        out.truncate(mark);
    }
    mailboxes(MessageStream::new(value).parse_address(), out);
}

/// Reads the header facts, scanning at most `limit` bytes (never the body).
pub(crate) fn read(message: &[u8], limit: usize) -> Facts<'_> {
    let mut facts = Facts::default();
    // mail-parser reads the last `From`, `Subject` and `Message-ID` field and every `To`
    // and `Cc` field: parse only those.
    let (mut from, mut subject, mut id) = (None, None, None);
    let (mut to, mut cc) = (Mailboxes::new(), Mailboxes::new());
    facts.bounds = walk(message, limit, |field, value| match field {
        Wanted::From => from = Some(value),
        Wanted::Subject => subject = Some(value),
        Wanted::MessageId => id = Some(value),
        Wanted::To => address_list(value, &mut to),
        Wanted::Cc => address_list(value, &mut cc),
    });
    (facts.to, facts.cc) = (to, cc);
    if let Some(v) = from {
        address_list(v, &mut facts.from);
    }
    facts.subject = subject.and_then(unstructured);
    facts.message_id = id.and_then(message_id);
    facts
}

/// Only the `Subject` of the original (the last one, as mail-parser reads it), for
/// writers that need nothing else from the header block and have no decision of it.
pub(crate) fn subject(message: &[u8], limit: usize) -> Option<Cow<'_, str>> {
    let mut subject = None;
    walk(message, limit, |field, value| {
        if field == Wanted::Subject {
            subject = Some(value);
        }
    });
    subject.and_then(unstructured)
}

impl Facts<'_> {
    /// Whether `address` appears in the given list, ignoring ASCII case.
    pub(crate) fn lists(list: &[Mailbox<'_>], address: &str) -> bool {
        list.iter()
            .filter_map(|m| m.address.as_deref())
            .any(|a| a.trim().eq_ignore_ascii_case(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers;
    use mail_parser::{HeaderName, MessageParser};

    /// The header block as the fast scan of `decide` finds it.
    pub(crate) fn bounds(message: &[u8], limit: usize) -> Bounds {
        let scan = headers::scan(message, limit);
        let block = message.get(..scan.body_start).unwrap_or_default();
        // The header block without its separating blank line.
        let mut header_end = scan.body_start;
        if scan.has_separator {
            for sep in [&b"\r\n"[..], b"\n"] {
                if block.ends_with(sep) {
                    header_end -= sep.len();
                    break;
                }
            }
        }
        Bounds {
            header_start: scan.header_start.min(header_end),
            header_end,
        }
    }

    /// The facts as a full mail-parser header parse of the whole block gives them: the
    /// reference the targeted read must agree with.
    ///
    /// Only the fields the read is compared on are parsed as mail-parser parses them;
    /// every other field is read as raw text, and those whose values hold dates (`Date`,
    /// `Resent-Date`, `Received`) are named so, since mail-parser 0.11's date parser runs
    /// on into the next field: a letter where it reads the zone takes the next two bytes,
    /// line break included (`Date: Sun, 22 Nov 2026 10:00:00 +0000a@` followed by a bare
    /// LF swallows the `Subject` after it). That is not what the read is held to.
    pub(crate) fn read_with_full_parse(message: &[u8], limit: usize) -> Facts<'static> {
        let bounds = bounds(message, limit);
        let mut facts = Facts {
            bounds,
            ..Facts::default()
        };
        if !facts.bounds.has_headers() {
            return facts;
        }
        // The block with its blank separator line, as the renderers used to parse it.
        let scan = headers::scan(message, limit);
        let lines = message
            .get(bounds.header_start..scan.body_start)
            .unwrap_or_default();
        // Once one field's parser is named, mail-parser parses only the named ones (the
        // rest raw): name what `MessageParser::new()` would use for the compared ones, and
        // the date-holding ones as raw, so that no later default parses them again.
        let parser = MessageParser::new()
            .with_mime_headers()
            .with_address_headers()
            .with_message_ids()
            .header_text(HeaderName::Subject)
            .header_raw(HeaderName::Date)
            .header_raw(HeaderName::ResentDate)
            .header_raw(HeaderName::Received);
        let Some(m) = parser.parse_headers(lines) else {
            return facts;
        };
        let owned =
            |all: &mut dyn Iterator<Item = &mail_parser::Address<'_>>| -> Mailboxes<'static> {
                all.flat_map(|a| a.iter())
                    .map(|m| Mailbox {
                        name: m.name().map(|s| Cow::Owned(s.to_owned())),
                        address: m.address().map(|s| Cow::Owned(s.to_owned())),
                    })
                    .collect()
            };
        facts.from = owned(&mut m.from().into_iter());
        facts.to = owned(&mut m.all_to());
        facts.cc = owned(&mut m.all_cc());
        facts.subject = m.subject().map(|s| Cow::Owned(s.to_owned()));
        facts.message_id = m
            .message_id()
            .map(|id| Cow::Owned(id.trim_matches(|c| c == '<' || c == '>').to_owned()));
        facts
    }

    /// The same facts, owning their text.
    pub(crate) fn owned(f: Facts<'_>) -> Facts<'static> {
        let list = |l: Mailboxes<'_>| -> Mailboxes<'static> {
            l.into_iter()
                .map(|m| Mailbox {
                    name: m.name.map(|n| Cow::Owned(n.into_owned())),
                    address: m.address.map(|a| Cow::Owned(a.into_owned())),
                })
                .collect()
        };
        Facts {
            from: list(f.from),
            to: list(f.to),
            cc: list(f.cc),
            subject: f.subject.map(|s| Cow::Owned(s.into_owned())),
            message_id: f.message_id.map(|s| Cow::Owned(s.into_owned())),
            bounds: f.bounds,
        }
    }

    #[test]
    fn reads_the_usual_headers() {
        let m = b"From: \"Alice\" <alice@example.com>\r\nTo: bob@x.example, Carol <carol@example.com>\r\nCc: dave@example.com\r\nSubject: =?utf-8?q?f=C3=BCr?= you\r\nMessage-ID: <1@example.com>\r\n\r\nbody";
        let f = read(m, 1 << 20);
        assert_eq!(f.from[0].address.as_deref(), Some("alice@example.com"));
        assert_eq!(f.to.len(), 2);
        assert_eq!(f.subject.as_deref(), Some("für you"));
        assert_eq!(f.message_id.as_deref(), Some("1@example.com"));
        assert!(Facts::lists(&f.cc, "DAVE@example.com"));
        assert_eq!(&m[..f.bounds.header_end], &m[..m.len() - 6]);
        assert_eq!(owned(f), read_with_full_parse(m, 1 << 20));
        assert_eq!(subject(m, 1 << 20).as_deref(), Some("für you"));
    }

    #[test]
    fn no_headers() {
        let f = read(b"just a body line\r\n", 1 << 20);
        assert!(!f.bounds.has_headers() && f.from.is_empty() && f.bounds.header_end == 0);
        let f = read(b"", 1 << 20);
        assert!(!f.bounds.has_headers());
    }

    #[test]
    fn last_single_field_wins_and_lists_are_joined() {
        let m = b"From: a@x.example\r\nTo: b@x.example\r\nSubject: one\r\nto: c@x.example\r\n\
                  FROM: d@x.example\r\nSubject \t: two\r\n\r\n";
        let f = read(m, 1 << 20);
        assert_eq!(f.from.len(), 1);
        assert_eq!(f.from[0].address.as_deref(), Some("d@x.example"));
        assert_eq!(f.to.len(), 2);
        assert_eq!(f.subject.as_deref(), Some("two"));
        assert_eq!(owned(f), read_with_full_parse(m, 1 << 20));
    }

    #[test]
    fn agrees_with_a_full_parse_on_awkward_blocks() {
        for m in [
            &b"Received: from a (b [1.2.3.4])\r\n\tby c; Sun, 22 Nov 2026 10:00:00 +0000\r\nFrom: x@y.example\r\n\r\n"[..],
            b"Subject: folded\r\n  over\r\n\ttwo lines\r\nMessage-ID:\r\n <m@x.example>\r\n\r\n",
            b"Subject: unterminated",
            b"To: a@b.example\nCc: \"Doe, John\" <j@x.example>, group: c@d.example;\n\nbody",
            b"From x@y Sun Nov 22 10:00:00 2026\nFrom: mbox@x.example\nSubject: mbox\n\n",
            b"Message-ID: <a@x> <b@y>\r\nMessage-ID: <c@z>\r\n\r\n",
            b"Subject: =?iso-8859-1?q?caf=E9?= =?utf-8?b?w7w=?=\r\n\r\n",
            b"To: (comment) <a@b.example>\r\nTo:\r\nFrom: \r\n\r\n",
            b"Subject: a\rb\r\nFrom: <unterminated@x\r\nTo: \"open quote <q@x>\r\n\r\n",
            b"Date: not a date at all: To: evil@x.example\r\nContent-Type: text/plain; charset=\"x\r\n\r\n",
            b"Message-ID\r:\n   <x@y.example>\r\n\r\n",
            // The fast paths and their edges.
            b"To: Bob  Partner <a@b.example>\r\nCc: A <a@b.example>,B <c@d.example>\r\n\r\n",
            b"To: a@b.example, , c@d.example\r\nFrom: J. Doe <j@x.example>\r\n\r\n",
            b"To: <a@b.example>\r\nCc: x@y.example,\r\nFrom: Bob<b@x.example>\r\n\r\n",
            b"Subject:   spaced   out  \r\nMessage-ID: <a b@c.example>\r\n\r\n",
            b"Subject:\t\r\nMessage-ID: <>\r\nTo: @x.example, a@@b\r\n\r\n",
            b"Subject: last\nMessage-ID:  <id@x.example>  \nTo: a@b.example\n\n",
            b"From: Bob <bob@x.example> (comment)\r\nTo: a@b.example <c@d.example>\r\n\r\n",
        ] {
            assert_eq!(
                owned(read(m, 1 << 20)),
                read_with_full_parse(m, 1 << 20),
                "{}",
                String::from_utf8_lossy(m)
            );
        }
    }

    use proptest::prelude::*;

    const NAMES: &[&str] = &[
        "From",
        "To",
        "Cc",
        "Subject",
        "Message-ID",
        "Received",
        "Date",
        "Content-Type",
        "Sender",
        "Bcc",
        "X-Foo",
        "from",
        "SUBJECT",
        "cC",
        "Subject \t",
        "Message-ID\r",
        "To ",
        "Reply-To",
        "Resent-From",
        "Comments",
    ];
    const PIECES: &[&str] = &[
        "Bob",
        "Bob Partner",
        "bob@partner.example",
        "<a@b.example>",
        " <c@d.example>",
        ", ",
        "  ",
        "Q3 numbers",
        "x.y@z.example",
        "Dave-Smith_2",
        "@",
        "a@",
        "<>",
        ".",
        "a@b.example",
        "Bob <bob@x.example>",
        "\"Doe, John\" <j@x.example>",
        "=?utf-8?q?f=C3=BCr?=",
        "=?iso-8859-1?b?Y2Fm6Q==?=",
        "(comment)",
        "<id@x.example>",
        "group: c@d.example;",
        "\"unterminated",
        "<",
        ">",
        ",",
        ":",
        ";",
        " ",
        "\t",
        "\r",
        "é",
        "\\",
        "=?",
        "?=",
        "from x by y; Sun, 22 Nov 2026 10:00:00 +0000",
        "text/plain;",
        "boundary=\"b\"",
        "()",
        "@",
        "\0",
        "\u{85}",
    ];

    fn field() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::sample::select(NAMES),
            prop::collection::vec(prop::sample::select(PIECES), 0..6),
            prop::collection::vec(
                prop::collection::vec(prop::sample::select(PIECES), 1..4),
                0..3,
            ),
            any::<bool>(),
        )
            .prop_map(|(name, value, continuations, lf)| {
                let eol = if lf { "\n" } else { "\r\n" };
                let mut f = format!("{name}:{}", value.concat());
                for c in continuations {
                    f.push_str(eol);
                    f.push(' ');
                    f.push_str(&c.concat());
                }
                f.push_str(eol);
                f.into_bytes()
            })
    }

    /// The subject the tracking logs show: the value `decide`'s header scan keeps.
    fn scanned_subject(m: &[u8], limit: usize) -> Option<Cow<'static, str>> {
        let r = headers::scan(m, limit).subject?;
        unstructured(m.get(r)?).map(|s| Cow::Owned(s.into_owned()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The targeted read finds what a full header parse of the block finds.
        #[test]
        fn targeted_read_agrees_with_a_full_parse(
            mbox in any::<bool>(),
            fields in prop::collection::vec(field(), 0..12),
            separator in prop::sample::select(&["", "\r\n", "\n"][..]),
            junk in prop::collection::vec(any::<u8>(), 0..8),
            limit in prop::sample::select(&[1usize << 20, 64, 200][..]),
        ) {
            let mut m = Vec::new();
            if mbox {
                m.extend_from_slice(b"From x@y.example Sun Nov 22 10:00:00 2026\n");
            }
            for f in &fields {
                m.extend_from_slice(f);
            }
            m.extend_from_slice(separator.as_bytes());
            m.extend_from_slice(&junk);
            let full = read_with_full_parse(&m, limit);
            prop_assert_eq!(subject(&m, limit), full.subject.clone());
            prop_assert_eq!(scanned_subject(&m, limit), full.subject.clone());
            prop_assert_eq!(owned(read(&m, limit)), full);
        }

        /// The wanted names, by length and first letter, as by comparing every name.
        #[test]
        fn wanted_names_as_compared_in_full(name in prop::sample::select(NAMES), upper in any::<bool>(), junk in "[a-zA-Z\\-]{0,11}") {
            for n in [name.trim_end(), &junk] {
                let n = if upper { n.to_ascii_uppercase() } else { n.to_owned() };
                let is = |t: &str| n.eq_ignore_ascii_case(t);
                let expected = if is("to") { Some(Wanted::To) } else if is("cc") { Some(Wanted::Cc) }
                    else if is("from") { Some(Wanted::From) } else if is("subject") { Some(Wanted::Subject) }
                    else if is("message-id") { Some(Wanted::MessageId) } else { None };
                prop_assert!(wanted(n.as_bytes()) == expected, "{}", n);
            }
        }

        /// The same on arbitrary bytes.
        #[test]
        fn agrees_on_arbitrary_bytes(m in prop::collection::vec(any::<u8>(), 0..300)) {
            let full = read_with_full_parse(&m, 1 << 20);
            prop_assert_eq!(scanned_subject(&m, 1 << 20), full.subject.clone());
            prop_assert_eq!(owned(read(&m, 1 << 20)), full);
        }
    }
}
