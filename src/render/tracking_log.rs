//! Message-tracking log writers, so existing log tooling reads what the engine decided.
//!
//! * [`csv_preamble`] + [`csv`]: the Exchange 2013+ message tracking log (CSV, RFC 4180
//!   quoting, recipient lists `;`-separated).
//! * [`exchange55_preamble`] + [`exchange55`]: the Exchange 5.5 tab-separated tracking
//!   log with its numeric event ids.
//! * `json_lines` (feature `serde`): the CSV's fields as one JSON object a line.
//!
//! | event | CSV `event-id` (`source`) | 5.5 event number |
//! |---|---|---|
//! | receipt on a connector | `RECEIVE` (`SMTP`) | 1012 SMTP received inbound |
//! | submission | `SUBMIT` (`STOREDRIVER`) | 4 Message submission |
//! | list expansion | `EXPAND` (`ROUTING`) | 26 Distribution list expansion |
//! | local delivery | `DELIVER` (`STOREDRIVER`) | 1000 Local delivery |
//! | connector transfer | `SEND` (`SMTP`) | 1011 SMTP transferred outbound |
//! | refusal / non-delivery | `FAIL` (`ROUTING`) | 1030 SMTP non-delivered |
//! | DSN due | `DSN` (`DSN`) | 1017 SMTP report generated |
//! | journal copy | `JOURNAL` (`JOURNALING`) | 28 Message redirected |
//! | archive copy | `ARCHIVE` (`ARCHIVAL`) | 28 Message redirected |

use std::fmt::Write;

use bytes::Bytes;

use crate::decide::decision::{Decision, EventKind, Party, TrackingEvent, Traffic};
use crate::envelope::Envelope;
use crate::hash::fnv1a;
use crate::ids::EntryId;
use crate::policy::compiled::Policy;
use crate::policy::directory::Entry;
use crate::render::facts;
use crate::render::journal::journal_message_id;
use crate::render::rendered::Rendered;
use crate::text::one_line;
use crate::time::Timestamp;

/// The fields of the Exchange 2013+ message tracking log, in order.
pub const CSV_FIELDS: [&str; 30] = [
    "date-time",
    "client-ip",
    "client-hostname",
    "server-ip",
    "server-hostname",
    "source-context",
    "connector-id",
    "source",
    "event-id",
    "internal-message-id",
    "message-id",
    "network-message-id",
    "recipient-address",
    "recipient-status",
    "total-bytes",
    "recipient-count",
    "related-recipient-address",
    "reference",
    "message-subject",
    "sender-address",
    "return-path",
    "message-info",
    "directionality",
    "tenant-id",
    "original-client-ip",
    "original-server-ip",
    "custom-data",
    "transport-traffic-type",
    "log-id",
    "schema-version",
];

/// `2026-11-22T10:14:03.000Z`.
fn iso_millis(t: Timestamp) -> String {
    let (y, mo, d, h, mi, s) = t.civil();
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z")
}

/// The CSV log's preamble, for the top of a new log file.
pub fn csv_preamble(at: Timestamp) -> String {
    format!(
        "#Software: mail-journal\r\n#Version: {}\r\n#Log-Type: Message Tracking Log\r\n#Date: {}\r\n#Fields: {}\r\n",
        env!("CARGO_PKG_VERSION"),
        iso_millis(at),
        CSV_FIELDS.join(",")
    )
}

/// RFC 4180: quote a field holding a comma, quote, CR or LF, doubling quotes. Control
/// characters are turned into spaces first, so every row stays on one line.
fn csv_field(out: &mut String, value: &str) {
    let v = one_line(value);
    if v.contains([',', '"']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&v);
    }
}

fn party(policy: &Policy, p: &Party) -> String {
    match p {
        Party::Address(a) => a.to_string(),
        Party::Entry(id) => policy
            .entry(*id)
            .map_or_else(String::new, Entry::display_address),
    }
}

/// The final recipients reached through a list, in decision order.
fn expanded_members(policy: &Policy, decision: &Decision, list: EntryId) -> Vec<String> {
    let local = decision
        .deliveries
        .iter()
        .filter(|d| d.via.lists.contains(&list))
        .map(|d| party(policy, &Party::Entry(d.entry)));
    let external = decision
        .transfers
        .iter()
        .flat_map(|t| t.recipients.iter())
        .filter(|r| r.via.lists.contains(&list))
        .map(|r| r.address.to_string());
    local.chain(external).collect()
}

fn names(kind: EventKind) -> (&'static str, &'static str, u32) {
    match kind {
        EventKind::Receive => ("RECEIVE", "SMTP", 1012),
        EventKind::Submit => ("SUBMIT", "STOREDRIVER", 4),
        EventKind::Expand => ("EXPAND", "ROUTING", 26),
        EventKind::Deliver => ("DELIVER", "STOREDRIVER", 1000),
        EventKind::Transfer => ("SEND", "SMTP", 1011),
        EventKind::Fail => ("FAIL", "ROUTING", 1030),
        EventKind::Dsn => ("DSN", "DSN", 1017),
        EventKind::Journal => ("JOURNAL", "JOURNALING", 28),
        EventKind::Archive => ("ARCHIVE", "ARCHIVAL", 28),
    }
}

/// Facts common to every row of one decision.
struct Common {
    time: String,
    message_id: String,
    subject: String,
    sender: String,
    internal_id: u64,
}

fn common(policy: &Policy, envelope: &Envelope, decision: &Decision, time: String) -> Common {
    let f = facts::read(envelope.message(), policy.limits.max_header_bytes);
    Common {
        time,
        message_id: decision
            .message_id
            .as_ref()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .unwrap_or_default(),
        subject: f.subject.unwrap_or_default().into_owned(),
        sender: envelope
            .reverse_path()
            .address()
            .map(ToString::to_string)
            .unwrap_or_default(),
        internal_id: fnv1a(&[envelope.envelope_id().as_bytes()]) >> 1,
    }
}

fn info(decision: &Decision, e: &TrackingEvent) -> &'static str {
    let receipt = matches!(e.kind, EventKind::Receive | EventKind::Submit);
    match (receipt, decision.journal_exempt, decision.suspected_evasion) {
        (true, true, _) => "journal-exempt",
        (true, _, true) => "suspected-evasion",
        _ => "",
    }
}

/// The values of the CSV fields ([`CSV_FIELDS`], in order) for every tracking event.
fn rows(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Vec<[String; 30]> {
    let c = common(
        policy,
        envelope,
        decision,
        iso_millis(envelope.received_at()),
    );
    let direction = match decision.traffic {
        Traffic::Inbound => "Incoming",
        _ => "Originating",
    };
    let mut out = Vec::with_capacity(decision.tracking.len());
    for e in &decision.tracking {
        let (event, source, _) = names(e.kind);
        let (rcpts, related) = match (e.kind, e.recipients.first()) {
            // As Exchange logs it: the members reached through the list, the list related.
            (EventKind::Expand, Some(list @ Party::Entry(id))) => {
                (expanded_members(policy, decision, *id), party(policy, list))
            }
            _ => (
                e.recipients
                    .iter()
                    .map(|p| party(policy, p))
                    .collect::<Vec<_>>(),
                e.related
                    .as_ref()
                    .map(|p| party(policy, p))
                    .unwrap_or_default(),
            ),
        };
        // A journal copy is a message of its own: its Message-ID, its NDR sender as the
        // return path, and the original's Message-ID as the reference that links them.
        let copy = e
            .journal_copy
            .and_then(|ndr| decision.journal_copies.iter().find(|j| j.ndr == ndr));
        let (message_id, reference, return_path) = match copy {
            Some(j) => (
                journal_message_id(policy, envelope, decision, j).unwrap_or_default(),
                c.message_id.clone(),
                j.reverse_path.to_string(),
            ),
            None => (c.message_id.clone(), String::new(), c.sender.clone()),
        };
        let status = e
            .status
            .map(|(code, st)| format!("{code} {st}"))
            .unwrap_or_default();
        let connector = e
            .connector
            .and_then(|id| policy.connector(id))
            .map(|x| x.name().to_owned())
            .unwrap_or_default();
        let count = rcpts.len().to_string();
        out.push([
            c.time.clone(),
            String::new(),
            String::new(),
            String::new(),
            policy.organisation().to_owned(),
            String::new(),
            connector,
            source.to_owned(),
            event.to_owned(),
            c.internal_id.to_string(),
            message_id,
            envelope.envelope_id().to_owned(),
            rcpts.join(";"),
            status,
            decision.size.to_string(),
            count,
            related,
            reference,
            c.subject.clone(),
            c.sender.clone(),
            return_path,
            info(decision, e).to_owned(),
            direction.to_owned(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "Email".to_owned(),
            String::new(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ]);
    }
    out
}

/// One CSV row per tracking event of the decision (no preamble; see [`csv_preamble`]).
pub fn csv(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Rendered {
    let mut out = String::with_capacity(decision.tracking.len() * 256);
    for row in rows(policy, envelope, decision) {
        for (i, f) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, f);
        }
        out.push_str("\r\n");
    }
    Rendered::from_chunks([Bytes::from(out)])
}

/// One JSON object per line and tracking event, keyed by the [`CSV_FIELDS`] names, for log
/// pipelines that take JSON (feature `serde`).
#[cfg(feature = "serde")]
pub fn json_lines(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Rendered {
    let mut out = String::with_capacity(decision.tracking.len() * 512);
    for row in rows(policy, envelope, decision) {
        let object: serde_json::Map<String, serde_json::Value> = CSV_FIELDS
            .iter()
            .zip(row)
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v)))
            .collect();
        out.push_str(&serde_json::Value::Object(object).to_string());
        out.push('\n');
    }
    Rendered::from_chunks([Bytes::from(out)])
}

/// The Exchange 5.5 log's preamble.
pub fn exchange55_preamble() -> String {
    format!(
        "# Message Tracking Log File\r\n# mail-journal {}\r\n# Message ID\tEvent #\tDate/Time\tGateway Name\tPartner Name\tRemote ID\tOriginator\tPriority\tLength\tSeconds\tCost\tReport MTS-ID\tRecipients\tRecipient Name\tRecipient Report Status\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// A tab-separated field: tabs and control characters become spaces.
fn tsv(s: &str) -> String {
    one_line(s)
}

/// One Exchange 5.5 tracking line per event: message id, event number, date/time (GMT),
/// gateway (connector), partner, remote id (Message-ID), originator, priority, length,
/// seconds, cost, report id, recipient count, then a name and report status per
/// recipient.
pub fn exchange55(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Rendered {
    let (y, mo, d, h, mi, s) = envelope.received_at().civil();
    let time = format!("{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02} GMT");
    let c = common(policy, envelope, decision, time);
    let mts = format!(
        "c=US;a= ;p={};l={}",
        policy.organisation(),
        envelope.envelope_id()
    );
    let mut out = String::with_capacity(decision.tracking.len() * 160);
    for e in &decision.tracking {
        let (_, _, number) = names(e.kind);
        let gateway = e
            .connector
            .and_then(|id| policy.connector(id))
            .map(|x| x.name().to_owned())
            .unwrap_or_default();
        let partner = match e.kind {
            EventKind::Receive | EventKind::Transfer | EventKind::Dsn => "MSExchangeIMC",
            EventKind::Expand | EventKind::Fail => "MSExchangeMTA",
            EventKind::Journal => "Journal",
            EventKind::Archive => "Archive",
            _ => "MSExchangeIS",
        };
        let _ = write!(
            out,
            "{}\t{number}\t{}\t{}\t{partner}\t{}\t{}\t0\t{}\t0\t1\t\t{}",
            tsv(&mts),
            c.time,
            tsv(&gateway),
            tsv(&c.message_id),
            tsv(&c.sender),
            decision.size,
            e.recipients.len()
        );
        let report_status = if e.kind == EventKind::Fail { "1" } else { "" };
        for p in &e.recipients {
            let _ = write!(out, "\t{}\t{report_status}", tsv(&party(policy, p)));
        }
        out.push_str("\r\n");
    }
    Rendered::from_chunks([Bytes::from(out)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        let mut s = String::new();
        csv_field(&mut s, "plain");
        s.push('|');
        csv_field(&mut s, "a,b");
        s.push('|');
        csv_field(&mut s, "say \"hi\"");
        s.push('|');
        csv_field(&mut s, "line\r\nbreak");
        assert_eq!(s, "plain|\"a,b\"|\"say \"\"hi\"\"\"|line  break");
    }
}
