//! The adapter to the `mail-journal` library: every call into the library lives here.
//!
//! * [`Transaction::check_rcpt`] answers one `RCPT TO` with the library's
//!   `Policy::transaction`, which agrees with what `decide` gives that recipient later.
//! * [`outputs`] is the library's `Decision::outputs`: the original to its final
//!   destinations, each journal copy under its NDR sender with `NOTIFY=NEVER`, the DSN
//!   from `<>`, and the archive records with their storage keys.

use std::sync::Arc;

use bytes::Bytes;
use mail_journal::render::{self, Rendered};
use mail_journal::seal::Obligations;
use mail_journal::{
    Address, Decision, Envelope, Origin, Policy, PolicyConfig, Recipient, ReversePath, SmtpReply,
    Timestamp,
};
pub use mail_journal::{Output, OutputError, OutputKind, OutputRecipient, Route};

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

/// A policy file that could not be read into a policy: the library's one error type for
/// reading and building it (it names the file, line, field path or entry).
pub type PolicyError = mail_journal::ConfigError;

/// Builds a policy from the text of a TOML policy file at `path`; the LDIF directory
/// exports it names (`directory = [...]`) are read relative to it.
pub fn build_policy_file(path: &std::path::Path, toml: &str) -> Result<Policy, PolicyError> {
    PolicyConfig::from_toml_file(path, toml, |p| std::fs::read_to_string(p))?.build()
}

/// Builds a policy from the text of a TOML policy file that names no other file.
pub fn build_policy(toml: &str) -> Result<Policy, PolicyError> {
    PolicyConfig::from_toml(toml)?.build()
}

/// The audit warnings of a policy, one line each, for the log.
pub fn audit(policy: &Policy) -> Vec<String> {
    policy.audit().iter().map(ToString::to_string).collect()
}

/// One SMTP transaction's recipient checks, on the library's [`mail_journal::Transaction`].
///
/// It holds the policy that was current at `MAIL FROM`, so a reload in the middle of a
/// transaction does not change the rules under it. The library's transaction borrows
/// its policy; this one owns an `Arc`, so each check replays the recipients accepted so
/// far (a handful; at most the policy's recipient limit) and then checks the new one,
/// which gives exactly the verdict `decide` will give it in the envelope of the accepted
/// recipients.
#[derive(Debug)]
pub struct Transaction {
    policy: Arc<Policy>,
    origin: Origin,
    reverse_path: ReversePath,
    reverse_path_text: String,
    accepted: Vec<Address>,
}

impl Transaction {
    /// Starts a transaction for mail from `reverse_path`.
    pub fn new(policy: Arc<Policy>, origin: Origin, reverse_path: ReversePath) -> Self {
        Transaction {
            reverse_path_text: reverse_path.to_string(),
            policy,
            origin,
            reverse_path,
            accepted: Vec::new(),
        }
    }

    /// The reply to one `RCPT TO`: `250 2.1.5` when accepted, else the refusal.
    ///
    /// Mail from the Internet (`Inbound`) gets every refusal here, in the dialogue, so no
    /// bounce is ever generated for it. Submitted mail gets only temporary refusals
    /// (`452 4.5.3`, …) here: a permanent refusal of a submitted recipient is reported in
    /// the DSN the decision asks for, as the library's rules say for submitted mail.
    pub fn check_rcpt(&mut self, address: &Address) -> SmtpReply {
        let mut tx = self.policy.transaction(self.origin, &self.reverse_path);
        for a in &self.accepted {
            tx.check_rcpt(a);
        }
        let reply = tx.check_rcpt(address);
        if reply.is_positive() || (self.origin == Origin::Submitted && reply.is_permanent()) {
            self.accepted.push(address.clone());
            if !reply.is_positive() {
                return SmtpReply::new(
                    250,
                    mail_journal::EnhancedStatus::new(2, 1, 5),
                    "Recipient OK",
                );
            }
        }
        reply
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

/// A short name for logs: `delivery`, `transfer`, `journal`, `dsn`, `archive`.
pub fn kind_name(kind: &OutputKind) -> &'static str {
    match kind {
        OutputKind::Delivery => "delivery",
        OutputKind::Transfer { .. } => "transfer",
        OutputKind::Journal { .. } => "journal",
        OutputKind::Dsn => "dsn",
        OutputKind::Archive { .. } => "archive",
        _ => "output",
    }
}

/// Every output of a decision, in hand-over order: the original (local delivery, then one
/// transfer per connector), the journal copies, the DSN, then the archive records
/// ([`Decision::outputs`]). Fails, rather than drop anything, when a local destination has
/// no delivery address.
pub fn outputs(
    policy: &Policy,
    envelope: &Envelope,
    decision: &Decision,
    now: Timestamp,
) -> Result<Vec<Output>, OutputError> {
    decision.outputs(policy, envelope, now)
}

/// The decision's rows for the Exchange 2013+ message tracking log (CSV).
pub fn tracking_rows(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Rendered {
    render::tracking_log::csv(policy, envelope, decision)
}

/// What the decision obliges the store to seal: archive records, journal copies,
/// tracking rows.
pub fn obligations(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Obligations {
    Obligations::from_decision(policy, envelope, decision)
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
    use mail_journal::Notify;

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
proxies = ["X500:/o=Example/cn=journal1"]
hidden = true
delivery = "journal1@journal.internal"

[[entries]]
name = "nobox"
kind = "mailbox"
proxies = ["X500:/o=Example/cn=nobox"]
hidden = true

[[entries]]
name = "Team"
kind = "distribution_list"
members = ["carol", "nobox"]
proxies = ["SMTP:team@example.com"]

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
        let kinds: Vec<&str> = outs.iter().map(|o| kind_name(&o.kind)).collect();
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
        assert_eq!(journal.recipients.len(), 1);
        assert_eq!(
            journal.recipients[0].address,
            a("journal1@journal.internal")
        );
        assert_eq!(journal.recipients[0].notify, Notify::Never);
        assert!(
            String::from_utf8_lossy(&journal.message.to_vec()).contains("X-MS-Journal-Report:")
        );
        let archive = outs.iter().find_map(|o| match &o.kind {
            OutputKind::Archive { storage_key, .. } => Some(storage_key.clone()),
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
        let p = policy();
        let t = Transaction::new(
            p.clone(),
            inbound(&p),
            ReversePath::parse("<bob@partner.example>").unwrap(),
        );
        let now = Timestamp::from_unix(1_795_342_443);
        let (env, d) = t
            .decide(
                vec![Recipient::new(a("team@example.com"))],
                Bytes::from_static(b"\r\nx"),
                now,
                "E3",
            )
            .unwrap();
        let e = outputs(&p, &env, &d, now).unwrap_err();
        assert_eq!(
            e,
            OutputError::NoDeliveryAddress {
                entry: "nobox".into()
            }
        );
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
        assert!(
            e.contains("connectors[0] (\"IMS\").address_spaces[0].cost"),
            "{e}"
        );
    }

    /// The daemon reads the LDIF exports a policy file names (the library's `ldif`
    /// feature is on in this crate), relative to the policy file.
    #[test]
    fn a_policy_file_with_an_ldif_directory_loads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let path = dir.join("ldif-policy.toml");
        let toml = std::fs::read_to_string(&path).unwrap();
        let p = build_policy_file(&path, &toml).unwrap_or_else(|e| panic!("{e}"));
        assert!(p.entry_by_address("carol@example.com").is_some());
    }
}
