//! Journal reports (Envelope format) and journal copies (Copy format).

use bytes::Bytes;

use crate::address::Address;
use crate::config::JournalFormat;
use crate::decide::decision::{Decision, JournalCopy};
use crate::envelope::{Envelope, Origin};
use crate::ids::EntryId;
use crate::policy::compiled::Policy;
use crate::render::facts::{self, Facts, Mailbox};
use crate::render::mime;
use crate::render::rendered::Rendered;
use crate::text::push_one_line;
use crate::time::Timestamp;

/// The journal report for one journal copy (Envelope format, ARCHITECTURE.md §4.1).
///
/// An RFC 5322 `multipart/mixed` message: a `text/plain` envelope summary (`Sender`,
/// `On-Behalf-Of`, `Subject`, `Message-ID`, then one `To` / `Cc` / `Bcc` / `Recipient`
/// line per final recipient with `, Expanded:` / `, Forwarded:` facts), then the original
/// as `message/rfc822`, byte for byte (`Content-Transfer-Encoding: binary`, never
/// base64). Headers: `From` / `To` / `Cc` / `Subject` from the original, a deterministic
/// `Message-ID`, `Date` from `at`, and the empty `X-MS-Journal-Report:` marker.
///
/// The cost does not depend on the size of the original: only its header block is read,
/// and the original is shared, not copied.
///
/// ```
/// use mail_journal::*;
/// let policy = demo::policy()?;
/// let ims = policy.connector_id("IMS-Main").unwrap();
/// let env = Envelope::builder(Origin::Inbound { connector: ims }, "<bob@partner.example>")?
///     .recipient("dave@example.com")?
///     .message(&b"From: bob@partner.example\r\nSubject: hi\r\n\r\nhello\r\n"[..])
///     .envelope_id("Q1")
///     .build()?;
/// let decision = policy.decide(&env);
/// let report = render::journal_report(&policy, &env, &decision, &decision.journal_copies[0],
///                                     Timestamp::from_unix(1_795_342_443));
/// let text = String::from_utf8(report.to_vec())?;
/// assert!(text.contains("X-MS-Journal-Report:"));
/// assert!(text.contains("\r\nSender: bob@partner.example\r\n"));
/// // From the Internet, the addressing cannot be trusted: a `Recipient` line.
/// assert!(text.contains("\r\nRecipient: dave@example.com\r\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn journal_report(
    policy: &Policy,
    envelope: &Envelope,
    decision: &Decision,
    copy: &JournalCopy,
    at: Timestamp,
) -> Rendered {
    let original = envelope.message();
    let f = facts::read(original, policy.limits.max_header_bytes);
    let mut key = String::with_capacity(32);
    report_key(&mut key, policy, envelope, copy);
    let mut boundary = String::with_capacity(37);
    boundary.push_str("=_mj_");
    boundary_key(&mut boundary, policy, &key, at);

    let summary = summary(policy, envelope, decision, &f);
    let ascii = summary.is_ascii() && lines_fit(summary.as_bytes());

    // One buffer for the part before the original and the closing after it.
    let mut h = String::with_capacity(1024 + 2 * summary.len());
    let from = address_header(&mut h, "From", &f.from);
    if !from {
        h.push_str("From: <");
        h.push_str(copy.reverse_path.as_str());
        h.push_str(">\r\n");
    }
    address_header(&mut h, "To", &f.to);
    address_header(&mut h, "Cc", &f.cc);
    h.push_str("Subject: ");
    mime::push_encoded_text(&mut h, f.subject.as_deref().unwrap_or_default());
    h.push_str("\r\nMessage-ID: ");
    push_report_message_id(&mut h, policy, &key);
    h.push_str("\r\nDate: ");
    mime::push_rfc5322_date(&mut h, at);
    h.push_str("\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"");
    h.push_str(&boundary);
    h.push_str(
        "\"\r\nX-MS-Journal-Report:\r\n\r\nThis is an envelope journal report in MIME format.\r\n--",
    );
    h.push_str(&boundary);
    if ascii {
        h.push_str(
            "\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
        );
        h.push_str(&summary);
    } else {
        h.push_str(
            "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
        );
        h.push_str(&mime::quoted_printable(&summary));
    }
    h.push_str("\r\n--");
    h.push_str(&boundary);
    h.push_str(
        "\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: binary\r\n\
         Content-Disposition: attachment\r\n\r\n",
    );
    let head = h.len();
    h.push_str("\r\n--");
    h.push_str(&boundary);
    h.push_str("--\r\n");
    let all = Bytes::from(h);
    Rendered::from_chunks([all.slice(..head), original.clone(), all.slice(head..)])
}

/// Whether every line (CRLF-terminated) of `text` fits in the 998-byte limit of RFC 5322.
fn lines_fit(text: &[u8]) -> bool {
    let mut start = 0usize;
    for n in memchr::memchr_iter(b'\n', text) {
        // The line without its CRLF.
        if n.saturating_sub(1).saturating_sub(start) > 998 {
            return false;
        }
        start = n + 1;
    }
    text.len() - start <= 998
}

/// `Name: a,\r\n b\r\n` with the header's valid mailboxes, one a line so that no line
/// grows past the limit; nothing (and `false`) when none is valid.
fn address_header(out: &mut String, name: &str, list: &[Mailbox<'_>]) -> bool {
    let mut any = false;
    for m in list {
        let mark = out.len();
        out.push_str(if any { ",\r\n " } else { name });
        if !any {
            out.push_str(": ");
        }
        if mime::push_mailbox(out, m.name.as_deref(), m.address.as_deref()) {
            any = true;
        } else {
            out.truncate(mark);
        }
    }
    if any {
        out.push_str("\r\n");
    }
    any
}

/// A keyed identifier of one journal copy's report, written onto `out` as 32 hex digits:
/// the envelope, the copy's NDR sender, the original's length and its first and last 16
/// bytes (so it changes with any insertion, at a cost independent of the size). The
/// envelope id already makes it unique; the sample only ties it to the content, so it is
/// kept short: the keyed hash (about 1 650 instructions) is a sizeable part of a report
/// and of a decision's tracking rows, which name the report's Message-ID.
fn report_key(out: &mut String, policy: &Policy, envelope: &Envelope, copy: &JournalCopy) {
    let original = envelope.message();
    let [head, tail] = mime::sample(original, 16);
    mime::push_keyed_hex(
        out,
        &policy.render_key,
        &[
            &b"message-id"[..],
            envelope.envelope_id().as_bytes(),
            copy.reverse_path.as_str().as_bytes(),
            &envelope.received_at().unix_seconds().to_be_bytes(),
            &(original.len() as u64).to_be_bytes(),
            head,
            tail,
        ],
    );
}

/// The report's MIME boundary, written onto `out`: keyed on the report's key (which
/// covers the envelope and the original) and the render time, so that it is
/// unpredictable to anyone without the render secret — even knowing the report's
/// Message-ID — and a report rendered again later gets another one. Hashing the short
/// key instead of the original's sample again keeps the cost of a report down.
fn boundary_key(out: &mut String, policy: &Policy, report_key: &str, at: Timestamp) {
    mime::push_keyed_hex(
        out,
        &policy.render_key,
        &[
            &b"boundary"[..],
            report_key.as_bytes(),
            &at.unix_seconds().to_be_bytes(),
        ],
    );
}

/// The Message-ID of a journal copy as sent: the generated one of its journal report
/// (Envelope format), or the original's own (Copy format, which is the original). It does
/// not depend on the render time, so the tracking log can name it.
pub(crate) fn journal_message_id(
    policy: &Policy,
    envelope: &Envelope,
    decision: &Decision,
    copy: &JournalCopy,
) -> Option<String> {
    match copy.format {
        JournalFormat::Copy => decision
            .message_id
            .as_ref()
            .map(|m| String::from_utf8_lossy(m).into_owned()),
        _ => {
            let mut id = String::with_capacity(43 + policy.organisation.len());
            // The key straight into the id: `push_report_message_id` without a buffer.
            id.push('<');
            report_key(&mut id, policy, envelope, copy);
            push_report_id_domain(&mut id, policy);
            Some(id)
        }
    }
}

/// `<key.journal@organisation>`.
fn push_report_message_id(out: &mut String, policy: &Policy, report_key: &str) {
    out.push('<');
    out.push_str(report_key);
    push_report_id_domain(out, policy);
}

/// What follows the key in a report's Message-ID: `.journal@organisation>`.
fn push_report_id_domain(out: &mut String, policy: &Policy) {
    out.push_str(".journal@");
    out.push_str(&policy.organisation);
    out.push('>');
}

/// The summary's address for a local entry: its primary SMTP address, else its delivery
/// address, else its X.500 name — an address archivers can index wherever there is one.
fn push_entry_address(out: &mut String, policy: &Policy, id: EntryId) {
    if let Some(e) = policy.entry(id) {
        e.push_display_address(out);
    }
}

fn summary(policy: &Policy, envelope: &Envelope, decision: &Decision, f: &Facts<'_>) -> String {
    let mut s = String::with_capacity(256);
    let header_from = f.from.iter().find_map(|m| m.address.as_deref());
    s.push_str("Sender: ");
    let sender_at = s.len();
    match envelope.reverse_path().address() {
        Some(a) => push_one_line(&mut s, a.as_str()),
        None => match header_from {
            Some(h) => push_one_line(&mut s, h),
            None => s.push_str("Unspecified Address"),
        },
    }
    if let Some(from) = header_from {
        let from = from.trim();
        if !s
            .get(sender_at..)
            .is_some_and(|x| from.eq_ignore_ascii_case(x))
        {
            s.push_str("\r\nOn-Behalf-Of: ");
            push_one_line(&mut s, from);
        }
    }
    s.push_str("\r\nSubject: ");
    push_one_line(&mut s, f.subject.as_deref().unwrap_or_default());
    s.push_str("\r\nMessage-ID: ");
    match f.message_id.as_deref() {
        Some(id) => {
            s.push('<');
            push_one_line(&mut s, id);
            s.push('>');
        }
        None => s.push_str("Unknown Message-ID"),
    }
    s.push_str("\r\n");
    // The addressing (To / Cc / Bcc) can be trusted only for submitted mail; mail from
    // the Internet lists every recipient as `Recipient`, as Exchange does.
    let trusted = envelope.origin() == Origin::Submitted;
    let local = decision
        .deliveries
        .iter()
        .map(|d| (Listed::Entry(d.entry), &d.via, false));
    let external = decision.transfers.iter().flat_map(|t| {
        t.recipients
            .iter()
            .map(|r| (Listed::Address(&r.address), &r.via, r.contact.is_some()))
    });
    for (listed, via, forwarded) in local.chain(external) {
        let Some(rcpt) = decision.envelope_recipient(via) else {
            continue;
        };
        // The kind depends on the address as written: write the address, then put the
        // kind in front of it.
        let line = s.len();
        match listed {
            Listed::Entry(id) => push_entry_address(&mut s, policy, id),
            Listed::Address(a) => s.push_str(a.as_str()),
        }
        let kind = recipient_type(f, trusted, s.get(line..).unwrap_or_default(), rcpt);
        s.insert_str(line, ": ");
        s.insert_str(line, kind);
        // Archivers (piler) index every address on `Cc` and `Bcc` lines and strip an
        // `Expanded:` qualifier only on `To` and `Recipient` lines: a list address written
        // there would be indexed as a recipient, so the qualifier goes only where it is
        // read as one.
        if !via.lists.is_empty() {
            if matches!(kind, "To" | "Recipient") {
                s.push_str(", Expanded: ");
                s.push_str(rcpt.as_str());
            }
        } else if forwarded {
            s.push_str(", Forwarded: ");
            s.push_str(rcpt.as_str());
        }
        s.push_str("\r\n");
    }
    s
}

/// One final recipient of the original, as the report lists it.
#[derive(Clone, Copy)]
enum Listed<'a> {
    Entry(EntryId),
    Address(&'a Address),
}

/// `To` / `Cc` when the final address or the envelope recipient that led to it is in
/// that header (every occurrence read), `Bcc` when the headers were read and name
/// neither, `Recipient` when the addressing cannot be trusted (mail from the Internet) or
/// there are no headers to tell.
fn recipient_type(
    f: &Facts<'_>,
    trusted: bool,
    address: &str,
    envelope_rcpt: &Address,
) -> &'static str {
    if !trusted || !f.bounds.has_headers() {
        return "Recipient";
    }
    let rcpt = envelope_rcpt.as_str();
    if Facts::lists(&f.to, address) || Facts::lists(&f.to, rcpt) {
        "To"
    } else if Facts::lists(&f.cc, address) || Facts::lists(&f.cc, rcpt) {
        "Cc"
    } else {
        "Bcc"
    }
}

/// The journal copy in Copy format (Exchange 5.5 IMS style): the original message,
/// unaltered and shared; only the envelope (the copy's reverse path and recipients,
/// `NOTIFY=NEVER`) differs.
pub fn journal_copy(envelope: &Envelope) -> Rendered {
    Rendered::from_chunks([envelope.message().clone()])
}

/// The message to send for a journal copy, in the format the copy asks for.
pub fn journal_message(
    policy: &Policy,
    envelope: &Envelope,
    decision: &Decision,
    copy: &JournalCopy,
    at: Timestamp,
) -> Rendered {
    match copy.format {
        JournalFormat::Copy => journal_copy(envelope),
        _ => journal_report(policy, envelope, decision, copy, at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_lengths_are_checked_as_the_split_did() {
        let long = "x".repeat(998);
        for text in [
            String::new(),
            "a\r\nb\r\n".to_owned(),
            format!("{long}\r\n"),
            format!("{long}x\r\n"),
            format!("a\r\n{long}"),
            format!("a\r\n{long}x"),
        ] {
            let old = text.split("\r\n").all(|l| l.len() <= 998);
            assert_eq!(lines_fit(text.as_bytes()), old, "{}", text.len());
        }
    }
}
