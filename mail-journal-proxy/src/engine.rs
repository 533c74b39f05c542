//! The adapter to the `mail-journal` library: every call into the library lives here.
//!
//! The library is gaining a transaction API (`Policy::transaction(origin, &ReversePath)`
//! with `Transaction::check_rcpt(&Address) -> SmtpReply`) and `Decision::outputs(&policy,
//! &envelope, now) -> Vec<Output>`. This module offers those shapes today, built on
//! [`Policy::decide`] and the renderers, so that switching to the library's own versions
//! is a change to this file only.
//!
//! * [`Transaction::check_rcpt`] decides one `RCPT TO` on a one-recipient envelope and
//!   keeps the per-transaction recipient count for the recipient limit (`452 4.5.3`).
//! * [`outputs`] turns a decision into plain data the daemon acts on: the original to its
//!   final destinations, each journal copy under its NDR sender with `NOTIFY=NEVER`, the
//!   DSN from `<>`, and the archive records with their storage keys.

use std::sync::Arc;

use bytes::Bytes;
use mail_journal::render::{self, Rendered};
use mail_journal::{
    Address, ConnectorId, Decision, Destination, EnhancedStatus, EntryId, Envelope, Notify, Origin,
    Policy, PolicyConfig, Recipient, ReversePath, SmtpReply, Timestamp, Via,
};

/// What a listener's mail is, by connector *name*: connector ids are positions in one
/// policy and change when the policy is rebuilt, names do not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenerOrigin {
    /// Mail from the Internet, received on the named connector.
    Inbound {
        /// The connector's name in the policy.
        connector: Arc<str>,
    },
    /// Mail submitted by internal clients or authenticated users.
    Submitted,
}

impl ListenerOrigin {
    /// The library's origin under `policy`, or `None` when the policy has no connector by
    /// that name.
    pub fn resolve(&self, policy: &Policy) -> Option<Origin> {
        match self {
            ListenerOrigin::Inbound { connector } => policy
                .connector_id(connector)
                .map(|connector| Origin::Inbound { connector }),
            ListenerOrigin::Submitted => Some(Origin::Submitted),
        }
    }
}

impl std::fmt::Display for ListenerOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenerOrigin::Inbound { connector } => write!(f, "inbound on {connector}"),
            ListenerOrigin::Submitted => f.write_str("submitted"),
        }
    }
}

/// A policy file that could not be read into a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The TOML does not describe a policy configuration; the message names the field.
    #[error("{0}")]
    File(#[from] mail_journal::ConfigFileError),
    /// The configuration does not validate; the message names the entry or connector.
    #[error("{0}")]
    Config(#[from] mail_journal::ConfigError),
}

/// Builds a policy from the text of a TOML policy file.
pub fn build_policy(toml: &str) -> Result<Policy, PolicyError> {
    Ok(PolicyConfig::from_toml(toml)?.build()?)
}

/// The audit warnings of a policy, one line each, for the log.
pub fn audit(policy: &Policy) -> Vec<String> {
    policy.audit().iter().map(ToString::to_string).collect()
}

const S_OK_RCPT: EnhancedStatus = EnhancedStatus::new(2, 1, 5);
const S_TOO_MANY: EnhancedStatus = EnhancedStatus::new(4, 5, 3);
const S_LOCAL_ERROR: EnhancedStatus = EnhancedStatus::new(4, 3, 0);

fn reply(code: u16, status: EnhancedStatus, text: &'static str) -> SmtpReply {
    SmtpReply {
        code,
        status,
        text: text.into(),
    }
}

/// One SMTP transaction's recipient checks (planned as `Policy::transaction`).
///
/// It holds the policy that was current at `MAIL FROM`, so a reload in the middle of a
/// transaction does not change the rules under it.
#[derive(Debug)]
pub struct Transaction {
    policy: Arc<Policy>,
    origin: Origin,
    reverse_path: ReversePath,
    reverse_path_text: String,
    accepted: usize,
}

impl Transaction {
    /// Starts a transaction for mail from `reverse_path` (planned:
    /// `Policy::transaction(origin, &ReversePath)`).
    pub fn new(policy: Arc<Policy>, origin: Origin, reverse_path: ReversePath) -> Self {
        Transaction {
            reverse_path_text: reverse_path.to_string(),
            policy,
            origin,
            reverse_path,
            accepted: 0,
        }
    }

    /// The verdict for one `RCPT TO`: `250 2.1.5` when accepted, else the reply to give.
    ///
    /// Mail from the Internet (`Inbound`) gets every refusal here, in the dialogue, so no
    /// bounce is ever generated for it. Submitted mail gets only temporary refusals
    /// (`452 4.5.3`, …) here: a permanent refusal of a submitted recipient is reported in
    /// the DSN the decision asks for, as for any other submitted mail. Past the policy's
    /// recipient limit every further recipient gets `452 4.5.3`.
    pub fn check_rcpt(&mut self, address: &Address) -> SmtpReply {
        if self.accepted >= self.policy.limits().max_recipients {
            return reply(452, S_TOO_MANY, "Too many recipients");
        }
        let envelope = Envelope::builder(self.origin, &self.reverse_path_text).map(|b| {
            b.recipient_with(Recipient::new(address.clone()))
                .envelope_id("rcpt-check")
                .build()
        });
        let Ok(Ok(envelope)) = envelope else {
            return reply(451, S_LOCAL_ERROR, "Local error in processing");
        };
        let decision = self.policy.decide(&envelope);
        let rejection = decision
            .verdicts
            .first()
            .and_then(|v| v.disposition.rejection());
        match rejection {
            Some(r) if self.origin != Origin::Submitted || r.is_transient() => r.reply.clone(),
            _ => {
                self.accepted += 1;
                reply(250, S_OK_RCPT, "Ok")
            }
        }
    }

    /// The policy this transaction runs under.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The origin.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// `MAIL FROM`.
    pub fn reverse_path(&self) -> &ReversePath {
        &self.reverse_path
    }

    /// The whole message is in: the envelope and the decision for it.
    pub fn decide(
        &self,
        recipients: Vec<Recipient>,
        message: Bytes,
        received_at: Timestamp,
        envelope_id: &str,
    ) -> Result<(Envelope, Decision), mail_journal::EnvelopeError> {
        let mut b = Envelope::builder(self.origin, &self.reverse_path_text)?;
        for r in recipients {
            b = b.recipient_with(r);
        }
        let envelope = b
            .message(message)
            .received_at(received_at)
            .envelope_id(envelope_id)
            .build()?;
        let decision = self.policy.decide(&envelope);
        Ok((envelope, decision))
    }
}

/// Something the daemon must do with a decision (planned: `Decision::outputs`).
#[derive(Clone, Debug)]
pub struct Output {
    /// What it is.
    pub kind: OutputKind,
    /// Its envelope sender.
    pub reverse_path: ReversePath,
    /// Its envelope recipients (none for an archive record).
    pub recipients: Vec<OutputRecipient>,
    /// Its bytes.
    pub message: Rendered,
}

/// One envelope recipient of an output, with its DSN parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputRecipient {
    /// The address to hand the message over to.
    pub address: Address,
    /// DSN `NOTIFY`.
    pub notify: Notify,
    /// DSN `ORCPT`, `rfc822;addr`.
    pub orcpt: Option<Arc<str>>,
}

/// What an output is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// The original, to its local final destinations (by their delivery addresses).
    Delivery,
    /// The original, to the external destinations that leave through one connector.
    Transfer {
        /// The connector.
        connector: ConnectorId,
    },
    /// A journal copy, sent from the NDR address with `NOTIFY=NEVER`.
    Journal {
        /// The journal-NDR mailbox.
        ndr: EntryId,
    },
    /// The DSN for refused and undelivered recipients, from `<>`.
    Dsn,
    /// An archive record, stored under `archive/<storage_key>`.
    Archive {
        /// Where it is filed.
        storage_key: String,
    },
}

impl OutputKind {
    /// A short name for logs: `delivery`, `transfer`, `journal`, `dsn`, `archive`.
    pub fn name(&self) -> &'static str {
        match self {
            OutputKind::Delivery => "delivery",
            OutputKind::Transfer { .. } => "transfer",
            OutputKind::Journal { .. } => "journal",
            OutputKind::Dsn => "dsn",
            OutputKind::Archive { .. } => "archive",
        }
    }
}

/// A local destination without an address to deliver it to: the daemon answers `451`
/// rather than drop it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{output} output: local destination {entry:?} has no delivery address (no SMTP address); \
     give it one in a delivery-only domain"
)]
pub struct Undeliverable {
    /// Which output (`delivery` or `journal`).
    pub output: &'static str,
    /// The entry's name.
    pub entry: String,
}

fn delivery_address(
    policy: &Policy,
    entry: EntryId,
    output: &'static str,
) -> Result<Address, Undeliverable> {
    let e = policy.entry(entry);
    e.and_then(|e| e.primary_smtp())
        .cloned()
        .ok_or_else(|| Undeliverable {
            output,
            entry: e.map_or_else(
                || format!("entry #{}", entry.index()),
                |e| e.name().to_owned(),
            ),
        })
}

/// NOTIFY and ORCPT of a destination reached through `via`: the envelope recipient's
/// NOTIFY; its ORCPT, or — when a list or contact led elsewhere — the envelope
/// recipient's address, so a report names what the sender addressed.
fn inherited(
    envelope: &Envelope,
    decision: &Decision,
    via: &Via,
    address: Address,
) -> OutputRecipient {
    let original = envelope.recipients().get(via.recipient as usize);
    let notify = original.map_or(Notify::Default, |r| r.notify);
    let orcpt = original.and_then(|r| r.orcpt.clone()).or_else(|| {
        decision
            .envelope_recipient(via)
            .filter(|r| **r != address)
            .map(|r| Arc::from(format!("rfc822;{r}")))
    });
    OutputRecipient {
        address,
        notify,
        orcpt,
    }
}

fn never(address: Address) -> OutputRecipient {
    OutputRecipient {
        address,
        notify: Notify::Never,
        orcpt: None,
    }
}

/// Path-safe connector name for the storage keys of a message archived more than once.
fn key_part(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() { "_".to_owned() } else { t }
}

/// Every output of a decision, in hand-over order: the original (local delivery, then one
/// transfer per connector), the journal copies, the DSN, then the archive records.
///
/// Fails when a local destination (a mailbox, or a journal mailbox) has no address to
/// hand the message over to.
pub fn outputs(
    policy: &Policy,
    envelope: &Envelope,
    decision: &Decision,
    now: Timestamp,
) -> Result<Vec<Output>, Undeliverable> {
    let mut out = Vec::with_capacity(2 + decision.journal_copies.len());
    let original = || Rendered::from_chunks([envelope.message().clone()]);
    if !decision.deliveries.is_empty() {
        let mut recipients = Vec::with_capacity(decision.deliveries.len());
        for d in &decision.deliveries {
            let address = delivery_address(policy, d.entry, "delivery")?;
            recipients.push(inherited(envelope, decision, &d.via, address));
        }
        out.push(Output {
            kind: OutputKind::Delivery,
            reverse_path: envelope.reverse_path().clone(),
            recipients,
            message: original(),
        });
    }
    for t in &decision.transfers {
        out.push(Output {
            kind: OutputKind::Transfer {
                connector: t.connector,
            },
            reverse_path: envelope.reverse_path().clone(),
            recipients: t
                .recipients
                .iter()
                .map(|r| inherited(envelope, decision, &r.via, r.address.clone()))
                .collect(),
            message: original(),
        });
    }
    for copy in &decision.journal_copies {
        let mut recipients = Vec::with_capacity(copy.recipients.len());
        for d in &copy.recipients {
            match d {
                Destination::Local(e) => {
                    recipients.push(never(delivery_address(policy, *e, "journal")?));
                }
                Destination::External { address, .. } => recipients.push(never(address.clone())),
                other => {
                    return Err(Undeliverable {
                        output: "journal",
                        entry: format!("{other:?}"),
                    });
                }
            }
        }
        out.push(Output {
            kind: OutputKind::Journal { ndr: copy.ndr },
            reverse_path: ReversePath::Address(copy.reverse_path.clone()),
            recipients,
            message: render::journal_message(policy, envelope, decision, copy, now),
        });
    }
    if let (Some(dsn), Some(to)) = (
        render::dsn(policy, envelope, decision, now),
        envelope.reverse_path().address(),
    ) {
        out.push(Output {
            kind: OutputKind::Dsn,
            reverse_path: ReversePath::Null,
            recipients: vec![OutputRecipient {
                address: to.clone(),
                notify: Notify::Default,
                orcpt: None,
            }],
            message: dsn,
        });
    }
    let several = decision.archive_copies.len() > 1;
    for copy in &decision.archive_copies {
        let mut storage_key = copy.storage_key(envelope);
        if several {
            // Every copy of one message shares the library's key; keep them apart.
            let connector = policy.connector(copy.connector).map_or_else(
                || format!("connector{}", copy.connector.index()),
                |c| c.name().to_owned(),
            );
            let stem = storage_key
                .strip_suffix(".eml")
                .unwrap_or(&storage_key)
                .to_owned();
            storage_key = format!(
                "{stem}.{}.{}.eml",
                key_part(&connector),
                key_part(&copy.direction.to_string().to_ascii_lowercase())
            );
        }
        out.push(Output {
            kind: OutputKind::Archive { storage_key },
            reverse_path: envelope.reverse_path().clone(),
            recipients: Vec::new(),
            message: render::archive_record(policy, envelope, decision, copy),
        });
    }
    Ok(out)
}

/// The decision's rows for the Exchange 2013+ message tracking log (CSV).
pub fn tracking_rows(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Rendered {
    render::tracking_log::csv(policy, envelope, decision)
}

/// The preamble of a new tracking log file.
pub fn tracking_preamble(at: Timestamp) -> String {
    render::tracking_log::csv_preamble(at)
}

/// The current time as the library takes it.
pub fn now() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now())
}

/// Whether any envelope recipient was accepted (else the message goes nowhere).
pub fn any_accepted(decision: &Decision) -> bool {
    decision.any_accepted()
}

/// The decision's refusals, `address: reply`, for the log and for a final `550`.
pub fn rejections(decision: &Decision) -> Vec<(Address, SmtpReply)> {
    decision
        .rejections()
        .map(|(a, r)| (a.clone(), r.reply.clone()))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const POLICY: &str = r#"
organisation = "example.com"
accepted_domains = ["example.com"]
render_secret = "proxy-unit-test"

[[entries]]
name = "alice"
kind = "mailbox"
proxies = ["SMTP:alice@example.com"]

[[entries]]
name = "carol"
kind = "mailbox"
proxies = ["SMTP:carol@example.com"]

[[entries]]
name = "dave"
kind = "mailbox"
proxies = ["SMTP:dave@example.com"]

[[entries]]
name = "ceo"
kind = "mailbox"
proxies = ["SMTP:ceo@example.com"]
restrictions = { accept = ["alice"] }

[[entries]]
name = "Sales"
kind = "distribution_list"
members = ["carol", "dave"]
proxies = ["SMTP:sales@example.com"]

[[entries]]
name = "journal1"
kind = "mailbox"
proxies = ["SMTP:journal1@journal.internal"]
hidden = true

[[entries]]
name = "nobox"
kind = "mailbox"
proxies = ["X500:/o=Example/cn=nobox"]
hidden = true

[[entries]]
name = "InboundJournalNDR"
kind = "mailbox"
proxies = ["SMTP:inbound-ndr@journal.internal"]
hidden = true

[[connectors]]
name = "IMS"
address_spaces = [{ pattern = "*", cost = 1 }]
archival = true
inbound_journal = { target = "journal1", ndr = "InboundJournalNDR" }

[limits]
max_recipients = 3
"#;

    pub(crate) fn policy() -> Arc<Policy> {
        Arc::new(build_policy(POLICY).unwrap())
    }

    fn inbound(p: &Policy) -> Origin {
        ListenerOrigin::Inbound {
            connector: "ims".into(),
        }
        .resolve(p)
        .unwrap()
    }

    fn a(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn rcpt_verdicts_for_mail_from_the_internet() {
        let p = policy();
        let mut t = Transaction::new(
            p.clone(),
            inbound(&p),
            ReversePath::parse("<bob@partner.example>").unwrap(),
        );
        assert_eq!(t.check_rcpt(&a("carol@example.com")).code, 250);
        let unknown = t.check_rcpt(&a("nobody@example.com"));
        assert_eq!(
            (unknown.code, unknown.status.to_string()),
            (550, "5.1.1".into())
        );
        let relay = t.check_rcpt(&a("x@elsewhere.example"));
        assert_eq!(
            (relay.code, relay.status.to_string()),
            (550, "5.7.1".into())
        );
        let restricted = t.check_rcpt(&a("ceo@example.com"));
        assert_eq!(
            (restricted.code, restricted.status.to_string()),
            (550, "5.7.1".into())
        );
        assert_eq!(t.check_rcpt(&a("sales@example.com")).code, 250);
        assert_eq!(t.check_rcpt(&a("dave@example.com")).code, 250);
        // The limit (3) counts accepted recipients only.
        let over = t.check_rcpt(&a("alice@example.com"));
        assert_eq!((over.code, over.status.to_string()), (452, "4.5.3".into()));
    }

    #[test]
    fn submitted_refusals_wait_for_the_dsn() {
        let p = policy();
        let mut t = Transaction::new(
            p,
            Origin::Submitted,
            ReversePath::parse("<alice@example.com>").unwrap(),
        );
        assert_eq!(t.check_rcpt(&a("nobody@example.com")).code, 250);
        assert_eq!(t.check_rcpt(&a("bob@partner.example")).code, 250);
        let rcpts = vec![
            Recipient::new(a("nobody@example.com")),
            Recipient::new(a("bob@partner.example")),
        ];
        let (env, d) = t
            .decide(
                rcpts,
                Bytes::from_static(b"Subject: x\r\n\r\nhi\r\n"),
                Timestamp::from_unix(1_795_342_443),
                "E1",
            )
            .unwrap();
        let outs = outputs(t.policy(), &env, &d, Timestamp::from_unix(1_795_342_443)).unwrap();
        let kinds: Vec<&str> = outs.iter().map(|o| o.kind.name()).collect();
        assert_eq!(kinds, ["transfer", "dsn", "archive"]);
        let dsn = outs.iter().find(|o| o.kind == OutputKind::Dsn).unwrap();
        assert!(dsn.reverse_path.is_null());
        assert_eq!(dsn.recipients[0].address, a("alice@example.com"));
    }

    #[test]
    fn outputs_of_inbound_mail() {
        let p = policy();
        let t = Transaction::new(
            p.clone(),
            inbound(&p),
            ReversePath::parse("<bob@partner.example>").unwrap(),
        );
        let rcpts = vec![
            Recipient::new(a("carol@example.com")).notify(Notify::Never),
            Recipient::new(a("sales@example.com")),
        ];
        let msg = Bytes::from_static(b"From: bob@partner.example\r\nSubject: x\r\n\r\nhi\r\n");
        let now = Timestamp::from_unix(1_795_342_443);
        let (env, d) = t.decide(rcpts, msg.clone(), now, "E2").unwrap();
        let outs = outputs(&p, &env, &d, now).unwrap();
        let delivery = &outs[0];
        assert_eq!(delivery.kind, OutputKind::Delivery);
        assert_eq!(delivery.message.to_vec(), msg.to_vec());
        // carol once (direct, NOTIFY=NEVER kept), dave through the list (ORCPT = the list).
        let carol = delivery
            .recipients
            .iter()
            .find(|r| r.address == a("carol@example.com"))
            .unwrap();
        assert_eq!(
            (carol.notify, carol.orcpt.as_deref()),
            (Notify::Never, None)
        );
        let dave = delivery
            .recipients
            .iter()
            .find(|r| r.address == a("dave@example.com"))
            .unwrap();
        assert_eq!(dave.orcpt.as_deref(), Some("rfc822;sales@example.com"));
        assert_eq!(delivery.recipients.len(), 2);
        let journal = outs
            .iter()
            .find(|o| matches!(o.kind, OutputKind::Journal { .. }))
            .unwrap();
        assert_eq!(
            journal.reverse_path.to_string(),
            "<inbound-ndr@journal.internal>"
        );
        assert_eq!(
            journal.recipients,
            vec![never(a("journal1@journal.internal"))]
        );
        assert!(
            String::from_utf8_lossy(&journal.message.to_vec()).contains("X-MS-Journal-Report:")
        );
        let archive = outs.iter().find_map(|o| match &o.kind {
            OutputKind::Archive { storage_key } => Some(storage_key.clone()),
            _ => None,
        });
        assert_eq!(
            archive.as_deref(),
            Some("2026/11/22/bob@partner.example/E2.eml")
        );
        assert!(
            !outs.iter().any(|o| o.kind == OutputKind::Dsn),
            "no DSN for inbound mail"
        );
        let rows = String::from_utf8(tracking_rows(&p, &env, &d).to_vec()).unwrap();
        assert!(rows.contains("RECEIVE") && rows.contains("JOURNAL"));
    }

    #[test]
    fn a_local_destination_without_an_address_is_an_error_not_a_drop() {
        let text = POLICY.replace(
            "target = \"journal1\"",
            "target = \"X500:/o=Example/cn=nobox\"",
        );
        let p = Arc::new(build_policy(&text).unwrap());
        let t = Transaction::new(
            p.clone(),
            inbound(&p),
            ReversePath::parse("<bob@partner.example>").unwrap(),
        );
        let now = Timestamp::from_unix(1_795_342_443);
        let (env, d) = t
            .decide(
                vec![Recipient::new(a("carol@example.com"))],
                Bytes::from_static(b"\r\nx"),
                now,
                "E3",
            )
            .unwrap();
        let e = outputs(&p, &env, &d, now).unwrap_err();
        assert_eq!(e.entry, "nobox");
        assert!(e.to_string().contains("no delivery address"), "{e}");
    }

    #[test]
    fn unknown_connector_and_policy_errors() {
        let p = policy();
        let o = ListenerOrigin::Inbound {
            connector: "nope".into(),
        };
        assert_eq!(o.resolve(&p), None);
        let broken = POLICY.replace("cost = 1", "cost = 0");
        let e = build_policy(&broken).unwrap_err().to_string();
        assert!(e.contains("connectors[0].address_spaces[0].cost"), "{e}");
    }
}
