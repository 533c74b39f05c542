//! Archive records (ARCHITECTURE.md §4.2): pickup-directory envelope headers, then the original.

use std::fmt::Write;

use bytes::Bytes;

use crate::address::Address;
use crate::decide::decision::{ArchiveCopy, Decision};
use crate::envelope::Envelope;
use crate::ids::Direction;
use crate::policy::compiled::Policy;
use crate::render::mime;
use crate::render::rendered::Rendered;
use crate::text::one_line;

/// The envelope recipients a copy that crossed `copy.connector` carried: for an inbound
/// copy every accepted envelope recipient, for an outbound copy those whose destinations
/// left through that connector. Sorted, each once.
fn receivers(decision: &Decision, copy: &ArchiveCopy) -> Vec<Address> {
    let mut out: Vec<Address> = match copy.direction {
        Direction::Inbound => decision
            .verdicts
            .iter()
            .filter(|v| v.disposition.is_accepted())
            .map(|v| v.recipient.clone())
            .collect(),
        Direction::Outbound => decision
            .transfer(copy.connector)
            .map(|t| {
                t.recipients
                    .iter()
                    .filter_map(|r| decision.envelope_recipient(&r.via).cloned())
                    .collect()
            })
            .unwrap_or_default(),
    };
    out.sort();
    out.dedup();
    out
}

/// The archive record for one archive copy.
///
/// `X-Sender: <reverse path>` and one `X-Receiver: <recipient>` per envelope recipient the
/// copy carried (Bcc recipients included), as IIS / Exchange pickup directories expect,
/// then `X-Archive-Direction`, `X-Archive-Connector`, `X-Archive-Received-At` and
/// `X-Archive-Envelope-Id`, then the original bytes, shared. A record can be dropped into
/// a pickup directory and replayed; file it under [`ArchiveCopy::storage_key`].
///
/// ```
/// use mail_journal::*;
/// let policy = demo::policy()?;
/// let env = Envelope::builder(Origin::Submitted, "<alice@example.com>")?
///     .recipient("bob@partner.example")?
///     .message(&b"Subject: hi\r\n\r\nhello\r\n"[..])
///     .envelope_id("Q1")
///     .received_at(Timestamp::from_unix(1_795_342_443))
///     .build()?;
/// let decision = policy.decide(&env);
/// let copy = &decision.archive_copies[0];
/// let record = render::archive_record(&policy, &env, &decision, copy).to_vec();
/// assert!(record.starts_with(b"X-Sender: <alice@example.com>\r\nX-Receiver: <bob@partner.example>\r\n"));
/// assert_eq!(copy.storage_key(&env), "2026/11/22/alice@example.com/Q1.eml");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn archive_record(
    policy: &Policy,
    envelope: &Envelope,
    decision: &Decision,
    copy: &ArchiveCopy,
) -> Rendered {
    let mut h = String::with_capacity(256);
    let _ = write!(h, "X-Sender: {}\r\n", envelope.reverse_path());
    for r in receivers(decision, copy) {
        let _ = write!(h, "X-Receiver: <{r}>\r\n");
    }
    let connector = policy
        .connector(copy.connector)
        .map_or_else(String::new, |c| one_line(c.name()));
    let _ = write!(
        h,
        "X-Archive-Direction: {}\r\nX-Archive-Connector: {}\r\nX-Archive-Received-At: {}\r\nX-Archive-Envelope-Id: {}\r\n",
        copy.direction,
        mime::encode_text(&connector),
        mime::rfc5322_date(envelope.received_at()),
        mime::encode_text(envelope.envelope_id()),
    );
    Rendered::from_chunks([Bytes::from(h), envelope.message().clone()])
}

/// Makes one path segment safe: no separators, no `..`, no control or reserved
/// characters, not empty, at most 200 bytes.
fn path_segment(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    while out.contains("..") {
        out = out.replace("..", "_.");
    }
    let out = out
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .to_owned();
    let mut end = out.len().min(200);
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    match out.get(..end) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => "_".to_owned(),
    }
}

impl ArchiveCopy {
    /// A stable storage key, `YYYY/MM/DD/<sender>/<envelope-id>.eml` (UTC date of
    /// receipt), so archives can be browsed by date and sender. The sender is the
    /// reverse path lower-cased, `null-sender` for `<>`; both segments are made safe for
    /// a path (no `/`, `\`, `..`, NUL or control characters).
    ///
    /// Every archive copy of one message has the same key and the same original; a
    /// store that keeps them apart appends [`ArchiveCopy::connector`] and
    /// [`ArchiveCopy::direction`].
    pub fn storage_key(&self, envelope: &Envelope) -> String {
        let (y, m, d, ..) = envelope.received_at().civil();
        let sender = match envelope.reverse_path().address() {
            Some(a) => path_segment(&a.as_str().to_lowercase()),
            None => "null-sender".to_owned(),
        };
        format!(
            "{y:04}/{m:02}/{d:02}/{sender}/{}.eml",
            path_segment(envelope.envelope_id())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_safe() {
        assert_eq!(path_segment("alice@example.com"), "alice@example.com");
        assert_eq!(path_segment("../../etc/passwd"), "_.__._etc_passwd");
        assert_eq!(path_segment(".."), "_");
        assert_eq!(path_segment("a\0b\r\nc"), "a_b__c");
        assert_eq!(path_segment(""), "_");
        assert_eq!(path_segment("C:\\x"), "C__x");
        assert!(path_segment(&"é".repeat(300)).len() <= 200);
        for s in ["../x", "a/../b", "...", "./.", "x/..", "\u{7f}"] {
            let p = path_segment(s);
            assert!(
                !p.contains('/') && !p.contains("..") && !p.is_empty(),
                "{s} -> {p}"
            );
        }
    }
}
