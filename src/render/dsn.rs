//! Delivery status notifications (RFC 3464) for refused and undelivered recipients.

use std::fmt::Write;

use bytes::Bytes;

use crate::decide::decision::{Decision, Rejection};
use crate::envelope::{Envelope, Origin, Recipient};
use crate::policy::compiled::Policy;
use crate::render::facts;
use crate::render::mime;
use crate::render::rendered::Rendered;
use crate::text::one_line;
use crate::time::Timestamp;

/// One failed recipient to report.
struct Failed<'a> {
    final_recipient: String,
    original: &'a Recipient,
    rejection: &'a Rejection,
}

fn failures<'a>(
    policy: &Policy,
    envelope: &'a Envelope,
    decision: &'a Decision,
) -> Vec<Failed<'a>> {
    let mut out = Vec::new();
    // Refusals of envelope recipients are reported in a DSN only for submitted mail; a
    // transport gives them at RCPT time for mail from the Internet.
    if envelope.origin() == Origin::Submitted {
        for (v, r) in decision.verdicts.iter().zip(envelope.recipients()) {
            if let Some(rejection) = v.disposition.rejection() {
                out.push(Failed {
                    final_recipient: v.recipient.to_string(),
                    original: r,
                    rejection,
                });
            }
        }
    }
    // Members not delivered although their envelope recipient was accepted. A DSN goes
    // to the sender, who may be outside: a member is named by its SMTP address only when
    // it is visible; a hidden member, or one with no SMTP address, is reported against the
    // envelope recipient (the list) — never by X.500 name or entry name.
    for n in &decision.non_deliveries {
        let Some(original) = envelope.recipients().get(n.via.recipient as usize) else {
            continue;
        };
        let visible = policy
            .entry(n.entry)
            .filter(|e| !e.is_hidden())
            .and_then(|e| e.primary_smtp().or(e.contact_target()));
        out.push(Failed {
            final_recipient: visible.unwrap_or(&original.address).to_string(),
            original,
            rejection: &n.rejection,
        });
    }
    out.retain(|f| f.original.notify.reports_failure());
    out
}

/// The first boundary `derive(0)`, `derive(1)`, … that does not occur in `enclosed`.
fn boundary_not_in(enclosed: &[u8], derive: impl Fn(u32) -> String) -> String {
    let mut round = 0u32;
    loop {
        let b = derive(round);
        if memchr::memmem::find(enclosed, b.as_bytes()).is_none() || round == u32::MAX {
            return b;
        }
        round += 1;
    }
}

/// The DSN to send to the envelope sender for the decision's refused recipients (for
/// submitted mail) and undelivered list members (for all mail), or `None` when there is
/// nothing to report, every failed recipient asked for `NOTIFY=NEVER`, or the reverse
/// path is null — a report about a report is never sent.
///
/// RFC 3464 `multipart/report; report-type=delivery-status`: a human-readable part, a
/// `message/delivery-status` part with `Final-Recipient`, `Original-Recipient`, `Action`,
/// `Status` and `Diagnostic-Code: smtp; …` per recipient, and the original's header block
/// as `text/rfc822-headers` (shared, not copied). Send it with the null reverse path
/// `<>` to the original reverse path.
pub fn dsn(
    policy: &Policy,
    envelope: &Envelope,
    decision: &Decision,
    at: Timestamp,
) -> Option<Rendered> {
    let to = envelope.reverse_path().address()?;
    let failed = failures(policy, envelope, decision);
    if failed.is_empty() {
        return None;
    }
    let original = envelope.message();
    let f = facts::read(original, policy.limits.max_header_bytes);
    let header_block =
        original.slice(f.bounds.header_start..f.bounds.header_end.min(original.len()));
    let [head, tail] = mime::sample(original, 512);
    let key = |kind: &[u8]| {
        mime::keyed_hex(
            &policy.render_key,
            &[
                kind,
                envelope.envelope_id().as_bytes(),
                to.as_str().as_bytes(),
                &at.unix_seconds().to_be_bytes(),
                &(original.len() as u64).to_be_bytes(),
                head,
                tail,
            ],
        )
    };
    // The only part enclosing original bytes is the header block, which is bounded: make
    // sure the boundary does not occur in it (re-deriving, deterministically, if it does).
    let boundary = boundary_not_in(&header_block, |round| {
        format!(
            "=_mj_{}",
            key(&[b"dsn-boundary".as_slice(), &round.to_be_bytes()].concat())
        )
    });
    let org = &policy.organisation;

    let mut h = String::with_capacity(2048);
    let _ = write!(
        h,
        "From: Mail Delivery System <MAILER-DAEMON@{org}>\r\nTo: <{to}>\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <{}.dsn@{org}>\r\n\
         Date: {}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\"\r\n\r\n\
         This is a MIME-encapsulated delivery status notification.\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
        key(b"dsn-message-id"),
        mime::rfc5322_date(at),
    );
    let mut human =
        String::from("Your message could not be delivered to one or more recipients.\r\n\r\n");
    for x in &failed {
        let _ = write!(
            human,
            "  {}: {}\r\n",
            one_line(&x.final_recipient),
            one_line(&x.rejection.reply.to_string())
        );
    }
    if let Some(id) = &f.message_id {
        let _ = write!(human, "\r\nOriginal Message-ID: <{}>\r\n", one_line(id));
    }
    h.push_str(&mime::quoted_printable(&human));
    let _ = write!(
        h,
        "\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; {org}\r\nX-Envelope-Id: {}\r\nArrival-Date: {}\r\n",
        mime::encode_text(envelope.envelope_id()),
        mime::rfc5322_date(envelope.received_at()),
    );
    for x in &failed {
        let reply = &x.rejection.reply;
        let action = if x.rejection.is_transient() {
            "delayed"
        } else {
            "failed"
        };
        let _ = write!(
            h,
            "\r\nFinal-Recipient: rfc822; {}\r\n",
            one_line(&x.final_recipient)
        );
        match &x.original.orcpt {
            Some(o) => {
                let _ = write!(h, "Original-Recipient: {}\r\n", one_line(o));
            }
            None if x.final_recipient != x.original.address.as_str() => {
                let _ = write!(h, "Original-Recipient: rfc822; {}\r\n", x.original.address);
            }
            None => {}
        }
        let _ = write!(
            h,
            "Action: {action}\r\nStatus: {}\r\nDiagnostic-Code: smtp; {} {} {}\r\n",
            reply.status,
            reply.code,
            reply.status,
            one_line(&reply.text)
        );
    }
    let cte = if header_block.is_ascii() {
        "7bit"
    } else {
        "8bit"
    };
    let _ = write!(
        h,
        "\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    );
    let closing = format!("\r\n--{boundary}--\r\n");
    Some(Rendered::from_chunks([
        Bytes::from(h),
        header_block,
        Bytes::from(closing),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boundary_found_in_the_enclosed_headers_is_derived_again() {
        let headers = b"Subject: x\r\nX-Planted: --=_mj_round0\r\n";
        let b = boundary_not_in(headers, |r| format!("=_mj_round{r}"));
        assert_eq!(b, "=_mj_round1");
        assert_eq!(boundary_not_in(b"", |r| format!("b{r}")), "b0");
    }
}
