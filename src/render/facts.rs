//! Header facts of the original message, read with mail-parser's header-only parser.
//! mail-parser types never leave this module.

use mail_parser::MessageParser;

use crate::headers;

/// One mailbox from an address header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mailbox {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// What the renderers need from the original's header block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    pub from: Vec<Mailbox>,
    pub sender: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: Option<String>,
    /// With angle brackets.
    pub message_id: Option<String>,
    /// Where the header lines start: after a leading mbox `From ` line, if any.
    pub header_start: usize,
    /// Where the header block ends: its last line's line break included, the blank
    /// separator line excluded (up to the scan limit).
    pub header_end: usize,
    /// Whether a header block was found at all.
    pub has_headers: bool,
}

/// The mailboxes of every occurrence of an address header, in order (RFC 5322 §4.5.3:
/// repeated `To` / `Cc` / `Bcc` fields of old mail are to be treated as one).
fn mailboxes<'a>(all: impl Iterator<Item = &'a mail_parser::Address<'a>>) -> Vec<Mailbox> {
    all.flat_map(|a| a.iter())
        .map(|m| Mailbox {
            name: m.name().map(str::to_owned),
            address: m.address().map(str::to_owned),
        })
        .collect()
}

/// Reads the header facts, scanning at most `limit` bytes (never the body).
pub(crate) fn read(message: &[u8], limit: usize) -> Facts {
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
    let header_start = scan.header_start.min(header_end);
    let mut facts = Facts {
        header_start,
        header_end,
        has_headers: header_end > header_start,
        ..Facts::default()
    };
    if !facts.has_headers {
        return facts;
    }
    let lines = block.get(header_start..).unwrap_or_default();
    let Some(m) = MessageParser::new().parse_headers(lines) else {
        return facts;
    };
    facts.from = mailboxes(m.from().into_iter());
    facts.sender = mailboxes(m.sender().into_iter());
    facts.to = mailboxes(m.all_to());
    facts.cc = mailboxes(m.all_cc());
    facts.subject = m.subject().map(str::to_owned);
    facts.message_id = m
        .message_id()
        .map(|id| format!("<{}>", id.trim_matches(|c| c == '<' || c == '>')));
    facts
}

impl Facts {
    /// Whether `address` appears in the given list, ignoring ASCII case.
    pub(crate) fn lists(list: &[Mailbox], address: &str) -> bool {
        list.iter()
            .filter_map(|m| m.address.as_deref())
            .any(|a| a.trim().eq_ignore_ascii_case(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_headers() {
        let m = b"From: \"Alice\" <alice@example.com>\r\nTo: bob@x.example, Carol <carol@example.com>\r\nCc: dave@example.com\r\nSubject: =?utf-8?q?f=C3=BCr?= you\r\nMessage-ID: <1@example.com>\r\n\r\nbody";
        let f = read(m, 1 << 20);
        assert_eq!(f.from[0].address.as_deref(), Some("alice@example.com"));
        assert_eq!(f.to.len(), 2);
        assert_eq!(f.subject.as_deref(), Some("für you"));
        assert_eq!(f.message_id.as_deref(), Some("<1@example.com>"));
        assert!(Facts::lists(&f.cc, "DAVE@example.com"));
        assert_eq!(&m[..f.header_end], &m[..m.len() - 6]);
    }

    #[test]
    fn no_headers() {
        let f = read(b"just a body line\r\n", 1 << 20);
        assert!(!f.has_headers && f.from.is_empty() && f.header_end == 0);
        let f = read(b"", 1 << 20);
        assert!(!f.has_headers);
    }
}
