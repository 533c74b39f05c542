//! Journal reports (Envelope format) and journal copies (Copy format).

use std::fmt::Write;

use bytes::Bytes;

use crate::address::Address;
use crate::config::JournalFormat;
use crate::decide::decision::{Decision, JournalCopy, Via};
use crate::envelope::{Envelope, Origin};
use crate::ids::EntryId;
use crate::policy::compiled::Policy;
use crate::policy::directory::Entry;
use crate::render::facts::{self, Facts, Mailbox};
use crate::render::mime;
use crate::render::rendered::Rendered;
use crate::text::one_line;
use crate::time::Timestamp;

/// One final recipient of the original, as the report lists it.
struct Listed<'a> {
    address: String,
    via: &'a Via,
    forwarded: bool,
}

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
    let boundary = format!("=_mj_{}", report_key(policy, envelope, copy, Some(at)));
    let message_id = report_message_id(policy, envelope, copy);

    let summary = summary(policy, envelope, decision, &f);
    let ascii = summary.is_ascii() && summary.split("\r\n").all(|l| l.len() <= 998);

    let mut h = String::with_capacity(1024 + summary.len());
    let list = |l: &[Mailbox]| -> Vec<String> {
        l.iter()
            .filter_map(|m| mime::mailbox(m.name.as_deref(), m.address.as_deref()))
            .collect()
    };
    let mut from = list(&f.from);
    if from.is_empty() {
        from.push(format!("<{}>", copy.reverse_path));
    }
    mime::address_header(&mut h, "From", &from);
    mime::address_header(&mut h, "To", &list(&f.to));
    mime::address_header(&mut h, "Cc", &list(&f.cc));
    let _ = write!(
        h,
        "Subject: {}\r\nMessage-ID: {message_id}\r\nDate: {}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\nX-MS-Journal-Report:\r\n\r\n\
         This is an envelope journal report in MIME format.\r\n--{boundary}\r\n",
        mime::encode_text(f.subject.as_deref().unwrap_or_default()),
        mime::rfc5322_date(at),
    );
    if ascii {
        h.push_str(
            "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
        );
        h.push_str(&summary);
    } else {
        h.push_str(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
        );
        h.push_str(&mime::quoted_printable(&summary));
    }
    let _ = write!(
        h,
        "\r\n--{boundary}\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: binary\r\n\
         Content-Disposition: attachment\r\n\r\n"
    );
    let closing = format!("\r\n--{boundary}--\r\n");
    Rendered::from_chunks([Bytes::from(h), original.clone(), Bytes::from(closing)])
}

/// A keyed identifier of one journal copy's report: the envelope, the copy's NDR sender,
/// the original's length and its first and last 512 bytes (so it changes with any
/// insertion, at a cost independent of the size), and the render time when given.
fn report_key(
    policy: &Policy,
    envelope: &Envelope,
    copy: &JournalCopy,
    at: Option<Timestamp>,
) -> String {
    let original = envelope.message();
    let [head, tail] = mime::sample(original);
    let at = at.map(|t| t.unix_seconds().to_be_bytes());
    let kind: &[u8] = if at.is_some() {
        b"boundary"
    } else {
        b"message-id"
    };
    mime::keyed_hex(
        &policy.render_key,
        &[
            kind,
            envelope.envelope_id().as_bytes(),
            copy.reverse_path.as_str().as_bytes(),
            &envelope.received_at().unix_seconds().to_be_bytes(),
            at.as_ref().map_or(&[][..], |t| &t[..]),
            &(original.len() as u64).to_be_bytes(),
            head,
            tail,
        ],
    )
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
        _ => Some(report_message_id(policy, envelope, copy)),
    }
}

fn report_message_id(policy: &Policy, envelope: &Envelope, copy: &JournalCopy) -> String {
    format!(
        "<{}.journal@{}>",
        report_key(policy, envelope, copy, None),
        policy.organisation
    )
}

/// The summary's address for a local entry: its primary SMTP address, else its delivery
/// address, else its X.500 name — an address archivers can index wherever there is one.
fn entry_address(policy: &Policy, id: EntryId) -> String {
    policy
        .entry(id)
        .map_or_else(String::new, Entry::display_address)
}

fn summary(policy: &Policy, envelope: &Envelope, decision: &Decision, f: &Facts) -> String {
    let mut s = String::with_capacity(256);
    let header_from = f.from.iter().find_map(|m| m.address.as_deref());
    let sender = match envelope.reverse_path().address() {
        Some(a) => a.to_string(),
        None => header_from.map_or_else(|| "Unspecified Address".to_owned(), one_line),
    };
    let _ = write!(s, "Sender: {}\r\n", one_line(&sender));
    if let Some(from) = header_from {
        if !from.trim().eq_ignore_ascii_case(&sender) {
            let _ = write!(s, "On-Behalf-Of: {}\r\n", one_line(from.trim()));
        }
    }
    let _ = write!(
        s,
        "Subject: {}\r\nMessage-ID: {}\r\n",
        one_line(f.subject.as_deref().unwrap_or_default()),
        one_line(f.message_id.as_deref().unwrap_or("Unknown Message-ID")),
    );
    let mut listed: Vec<Listed<'_>> = Vec::new();
    for d in &decision.deliveries {
        listed.push(Listed {
            address: entry_address(policy, d.entry),
            via: &d.via,
            forwarded: false,
        });
    }
    for t in &decision.transfers {
        for r in &t.recipients {
            listed.push(Listed {
                address: r.address.to_string(),
                via: &r.via,
                forwarded: r.contact.is_some(),
            });
        }
    }
    // The addressing (To / Cc / Bcc) can be trusted only for submitted mail; mail from
    // the Internet lists every recipient as `Recipient`, as Exchange does.
    let trusted = envelope.origin() == Origin::Submitted;
    for l in &listed {
        let Some(rcpt) = decision.envelope_recipient(l.via) else {
            continue;
        };
        let kind = recipient_type(f, trusted, &l.address, rcpt);
        let _ = write!(s, "{kind}: {}", l.address);
        // Archivers (piler) index every address on `Cc` and `Bcc` lines and strip an
        // `Expanded:` qualifier only on `To` and `Recipient` lines: a list address written
        // there would be indexed as a recipient, so the qualifier goes only where it is
        // read as one.
        if !l.via.lists.is_empty() {
            if matches!(kind, "To" | "Recipient") {
                let _ = write!(s, ", Expanded: {rcpt}");
            }
        } else if l.forwarded {
            let _ = write!(s, ", Forwarded: {rcpt}");
        }
        s.push_str("\r\n");
    }
    s
}

/// `To` / `Cc` when the final address or the envelope recipient that led to it is in
/// that header (every occurrence read), `Bcc` when the headers were read and name
/// neither, `Recipient` when the addressing cannot be trusted (mail from the Internet) or
/// there are no headers to tell.
fn recipient_type(
    f: &Facts,
    trusted: bool,
    address: &str,
    envelope_rcpt: &Address,
) -> &'static str {
    if !trusted || !f.has_headers {
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
