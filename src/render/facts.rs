//! Header facts of the original message.
//!
//! The header block is found by the fast scan of `decide` ([`headers::scan`]); its fields
//! are then walked once, and only those the renderers use (`From`, `To`, `Cc`, `Subject`,
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
    /// With angle brackets.
    pub message_id: Option<String>,
    /// Where the header block lies.
    pub bounds: Bounds,
    /// Whether a header block was found at all.
    pub has_headers: bool,
}

/// Finds the header block, scanning at most `limit` bytes (never the body).
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
fn wanted(name: &[u8]) -> Option<Wanted> {
    let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
    match name.len() {
        2 if is(b"to") => Some(Wanted::To),
        2 if is(b"cc") => Some(Wanted::Cc),
        4 if is(b"from") => Some(Wanted::From),
        7 if is(b"subject") => Some(Wanted::Subject),
        10 if is(b"message-id") => Some(Wanted::MessageId),
        _ => None,
    }
}

/// Calls `each` with the name and the value (after the colon, up to and including the
/// last line break of its continuation lines) of every field of `block`, a header block
/// as [`headers::scan`] delimits it: every line is a field or a continuation line.
fn fields<'a>(block: &'a [u8], mut each: impl FnMut(&'a [u8], &'a [u8])) {
    let mut pos = 0usize;
    while pos < block.len() {
        let start = pos;
        // The field's first line, then its continuation lines.
        loop {
            pos = match block.get(pos..).and_then(|r| memchr::memchr(b'\n', r)) {
                Some(n) => pos + n + 1,
                None => block.len(),
            };
            if !matches!(block.get(pos), Some(b' ' | b'\t')) {
                break;
            }
        }
        let field = block.get(start..pos).unwrap_or_default();
        if let Some(colon) = memchr::memchr(b':', field) {
            let name = field.get(..colon).unwrap_or_default().trim_ascii();
            each(name, field.get(colon + 1..).unwrap_or_default());
        }
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

/// Reads the header facts, scanning at most `limit` bytes (never the body).
pub(crate) fn read(message: &[u8], limit: usize) -> Facts<'_> {
    let bounds = bounds(message, limit);
    let mut facts = Facts {
        bounds,
        has_headers: bounds.has_headers(),
        ..Facts::default()
    };
    if !facts.has_headers {
        return facts;
    }
    let block = message
        .get(bounds.header_start..bounds.header_end)
        .unwrap_or_default();
    // mail-parser reads the last `From`, `Subject` and `Message-ID` field and every `To`
    // and `Cc` field: parse only those.
    let (mut from, mut subject, mut message_id) = (None, None, None);
    fields(block, |name, value| match wanted(name) {
        Some(Wanted::From) => from = Some(value),
        Some(Wanted::Subject) => subject = Some(value),
        Some(Wanted::MessageId) => message_id = Some(value),
        Some(Wanted::To) => mailboxes(MessageStream::new(value).parse_address(), &mut facts.to),
        Some(Wanted::Cc) => mailboxes(MessageStream::new(value).parse_address(), &mut facts.cc),
        None => {}
    });
    if let Some(v) = from {
        mailboxes(MessageStream::new(v).parse_address(), &mut facts.from);
    }
    facts.subject = subject.and_then(|v| text(MessageStream::new(v).parse_unstructured()));
    facts.message_id = message_id
        .and_then(|v| text(MessageStream::new(v).parse_id()))
        .map(|id| {
            let id = id.trim_matches(|c| c == '<' || c == '>');
            let mut s = String::with_capacity(id.len() + 2);
            s.push('<');
            s.push_str(id);
            s.push('>');
            s
        });
    facts
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
pub(crate) mod tests {
    use super::*;
    use mail_parser::MessageParser;

    /// The facts as a full mail-parser header parse of the whole block gives them: the
    /// reference the targeted read must agree with.
    pub(crate) fn read_with_full_parse(message: &[u8], limit: usize) -> Facts<'static> {
        let bounds = bounds(message, limit);
        let mut facts = Facts {
            bounds,
            has_headers: bounds.has_headers(),
            ..Facts::default()
        };
        if !facts.has_headers {
            return facts;
        }
        // The block with its blank separator line, as the renderers used to parse it.
        let scan = headers::scan(message, limit);
        let lines = message
            .get(bounds.header_start..scan.body_start)
            .unwrap_or_default();
        let Some(m) = MessageParser::new().parse_headers(lines) else {
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
            .map(|id| format!("<{}>", id.trim_matches(|c| c == '<' || c == '>')));
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
            message_id: f.message_id,
            bounds: f.bounds,
            has_headers: f.has_headers,
        }
    }

    #[test]
    fn reads_the_usual_headers() {
        let m = b"From: \"Alice\" <alice@example.com>\r\nTo: bob@x.example, Carol <carol@example.com>\r\nCc: dave@example.com\r\nSubject: =?utf-8?q?f=C3=BCr?= you\r\nMessage-ID: <1@example.com>\r\n\r\nbody";
        let f = read(m, 1 << 20);
        assert_eq!(f.from[0].address.as_deref(), Some("alice@example.com"));
        assert_eq!(f.to.len(), 2);
        assert_eq!(f.subject.as_deref(), Some("für you"));
        assert_eq!(f.message_id.as_deref(), Some("<1@example.com>"));
        assert!(Facts::lists(&f.cc, "DAVE@example.com"));
        assert_eq!(&m[..f.bounds.header_end], &m[..m.len() - 6]);
        assert_eq!(owned(f), read_with_full_parse(m, 1 << 20));
    }

    #[test]
    fn no_headers() {
        let f = read(b"just a body line\r\n", 1 << 20);
        assert!(!f.has_headers && f.from.is_empty() && f.bounds.header_end == 0);
        let f = read(b"", 1 << 20);
        assert!(!f.has_headers);
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
        ] {
            assert_eq!(
                owned(read(m, 1 << 20)),
                read_with_full_parse(m, 1 << 20),
                "{}",
                String::from_utf8_lossy(m)
            );
        }
    }

    mod differential {
        use super::*;
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
                prop_assert_eq!(owned(read(&m, limit)), read_with_full_parse(&m, limit));
            }

            /// The same on arbitrary bytes.
            #[test]
            fn agrees_on_arbitrary_bytes(m in prop::collection::vec(any::<u8>(), 0..300)) {
                prop_assert_eq!(owned(read(&m, 1 << 20)), read_with_full_parse(&m, 1 << 20));
            }
        }
    }
}
