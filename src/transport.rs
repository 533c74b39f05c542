//! Layer 5, for the transport: [`Decision::outputs`] turns a decision into every message
//! to hand on and every record to store, each ready to act on — envelope sender, NOTIFY,
//! deliverable recipients with their route, and the bytes.

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

use crate::address::{Address, ReversePath};
use crate::config::JournalFormat;
use crate::config::connector::NextHop;
use crate::decide::decision::{ArchiveCopy, Decision, Destination, JournalCopy, Via};
use crate::envelope::{Envelope, Notify, Recipient};
use crate::ids::{ConnectorId, Direction, EntryId};
use crate::policy::compiled::Policy;
use crate::policy::route::{Route as Routing, route};
use crate::render::{self, Rendered};
use crate::time::Timestamp;

/// What an [`Output`] is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputKind {
    /// The original, to the local final destinations (by their delivery addresses).
    Delivery,
    /// The original, to the external destinations that leave through one connector.
    Transfer {
        /// The connector.
        connector: ConnectorId,
    },
    /// A journal copy (a journal report, or the original in Copy format) under its
    /// journal-NDR sender, asking for no notifications.
    Journal {
        /// The journal-NDR mailbox whose address is the envelope sender.
        ndr: EntryId,
        /// The format rendered.
        format: JournalFormat,
    },
    /// The delivery status notification to the original sender, from `<>`.
    Dsn,
    /// An archive record: store [`Output::message`] under `storage_key`; it has no
    /// recipients.
    Archive {
        /// The archiving connector.
        connector: ConnectorId,
        /// The direction the message crossed it in.
        direction: Direction,
        /// Where to store it (unique within the decision).
        storage_key: String,
    },
}

/// How to deliver to one recipient of an [`Output`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// A local mailbox or public folder: the address is its delivery address.
    Local {
        /// The entry.
        entry: EntryId,
    },
    /// Out through a connector, which hands the mail to `next_hop` (its `NextHop` chain
    /// followed: DNS or a smart host).
    Connector {
        /// The connector.
        connector: ConnectorId,
        /// Where the connector sends it.
        next_hop: NextHop,
    },
    /// No connector routes the address (only for a DSN to a sender nothing routes): a
    /// transport that delivers by DNS may try, else it drops it.
    Unroutable,
}

/// One recipient of an [`Output`]: the address to give in `RCPT TO`, with its DSN
/// parameters and route.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutputRecipient {
    /// The address (a delivery address for local destinations).
    pub address: Address,
    /// `NOTIFY`: the envelope recipient's for the original, `NEVER` for journal copies
    /// and DSNs.
    pub notify: Notify,
    /// `ORCPT`: the envelope recipient's, or `rfc822;<envelope recipient>` when a list or
    /// a contact led to a different address.
    pub orcpt: Option<Arc<str>>,
    /// How to deliver it.
    pub route: Route,
}

impl OutputRecipient {
    /// A recipient (for transports that build their own outputs, and for tests).
    pub fn new(address: Address, notify: Notify, orcpt: Option<Arc<str>>, route: Route) -> Self {
        OutputRecipient {
            address,
            notify,
            orcpt,
            route,
        }
    }
}

/// One message for the transport to hand on, or one record to store.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Output {
    /// What it is.
    pub kind: OutputKind,
    /// `MAIL FROM`: the original sender, a journal-NDR address, or `<>` for a DSN.
    pub reverse_path: ReversePath,
    /// `RCPT TO`, each with its route; empty for an archive record.
    pub recipients: Vec<OutputRecipient>,
    /// The bytes (the original shared, not copied).
    pub message: Rendered,
}

/// Why a decision's outputs cannot be produced. Hand nothing on: answer the client with a
/// temporary failure and keep the message, so that nothing is lost.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OutputError {
    /// A local destination has no address a transport can deliver to (see
    /// [`Entry::delivery_address`](crate::Entry::delivery_address)); give the entry an
    /// SMTP or `delivery` address, or set the policy's `delivery_domain`.
    #[error(
        "entry {entry:?} has no delivery address: give it an SMTP or `delivery` address, or set the policy's `delivery_domain`"
    )]
    NoDeliveryAddress {
        /// The entry.
        entry: String,
    },
    /// The decision names an entry or connector this policy does not have (it came from
    /// another policy).
    #[error(
        "the decision names {what}, which this policy does not have (a decision of another policy?)"
    )]
    ForeignDecision {
        /// What was not found.
        what: String,
    },
}

impl fmt::Display for OutputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputKind::Delivery => f.write_str("local delivery"),
            OutputKind::Transfer { connector } => write!(f, "transfer via {connector}"),
            OutputKind::Journal { ndr, .. } => write!(f, "journal copy from {ndr}"),
            OutputKind::Dsn => f.write_str("delivery status notification"),
            OutputKind::Archive { storage_key, .. } => write!(f, "archive record {storage_key}"),
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Local { entry } => write!(f, "local delivery to {entry}"),
            Route::Connector {
                connector,
                next_hop,
            } => write!(f, "{connector}, then {next_hop}"),
            Route::Unroutable => f.write_str("no route"),
        }
    }
}

impl Decision {
    /// Every message the transport must hand on and every record it must store for this
    /// decision: the original per local delivery and per transfer, each journal copy, the
    /// DSN, each archive record with its storage key — in that order. A transport loop
    /// becomes "for each output: queue it (or store it)".
    ///
    /// `now` is the time journal reports and DSNs are dated with.
    ///
    /// ```
    /// use mail_journal::*;
    /// let policy = demo::policy()?;
    /// let envelope = Envelope::builder(Origin::Submitted, "<alice@example.com>")?
    ///     .recipient("bob@partner.example")?
    ///     .message(&b"Subject: Q3\r\n\r\nNumbers.\r\n"[..])
    ///     .received_at(Timestamp::from_unix(1_795_342_443))
    ///     .envelope_id("Q-1")
    ///     .build()?;
    /// let decision = policy.decide(&envelope);
    /// for output in decision.outputs(&policy, &envelope, Timestamp::from_unix(1_795_342_450))? {
    ///     match &output.kind {
    ///         OutputKind::Archive { storage_key, .. } => {
    ///             assert_eq!(storage_key, "2026/11/22/alice@example.com/Q-1.eml");
    ///         }
    ///         OutputKind::Journal { .. } => {
    ///             assert_eq!(output.reverse_path.to_string(), "<outbound-journal-ndr@example.com>");
    ///             assert!(output.recipients.iter().all(|r| r.notify == Notify::Never));
    ///         }
    ///         OutputKind::Transfer { .. } => {
    ///             // alice's mail leaves through IMS-Archive, which relays to IMS-Main.
    ///             let Route::Connector { next_hop, .. } = &output.recipients[0].route else {
    ///                 unreachable!()
    ///             };
    ///             assert_eq!(next_hop, &NextHop::Dns);
    ///         }
    ///         _ => {}
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn outputs(
        &self,
        policy: &Policy,
        envelope: &Envelope,
        now: Timestamp,
    ) -> Result<Vec<Output>, OutputError> {
        let mut out = Vec::with_capacity(
            2 + self.transfers.len() + self.journal_copies.len() + self.archive_copies.len(),
        );
        let original = Rendered::from_chunks([envelope.message().clone()]);
        let rcpts = envelope.recipients();
        if !self.deliveries.is_empty() {
            let mut recipients = Vec::with_capacity(self.deliveries.len());
            for d in &self.deliveries {
                let address = delivery_address(policy, d.entry)?;
                recipients.push(original_recipient(
                    rcpts,
                    &d.via,
                    address,
                    Route::Local { entry: d.entry },
                ));
            }
            out.push(Output {
                kind: OutputKind::Delivery,
                reverse_path: envelope.reverse_path().clone(),
                recipients,
                message: original.clone(),
            });
        }
        for t in &self.transfers {
            let route = connector_route(policy, t.connector)?;
            let recipients = t
                .recipients
                .iter()
                .map(|r| original_recipient(rcpts, &r.via, r.address.clone(), route.clone()))
                .collect();
            out.push(Output {
                kind: OutputKind::Transfer {
                    connector: t.connector,
                },
                reverse_path: envelope.reverse_path().clone(),
                recipients,
                message: original.clone(),
            });
        }
        for copy in &self.journal_copies {
            out.push(journal_output(policy, envelope, self, copy, now)?);
        }
        if let (Some(dsn), Some(to)) = (
            render::dsn(policy, envelope, self, now),
            envelope.reverse_path().address(),
        ) {
            let route = match policy.dir.by_address(to) {
                Some(entry) if policy.accepted.contains(to.domain()) => Route::Local { entry },
                _ => match route(&policy.connectors, to, None, envelope.envelope_id()) {
                    Routing::Via(c) => connector_route(policy, c)?,
                    _ => Route::Unroutable,
                },
            };
            out.push(Output {
                kind: OutputKind::Dsn,
                reverse_path: ReversePath::Null,
                recipients: vec![OutputRecipient {
                    address: to.clone(),
                    notify: Notify::Never,
                    orcpt: None,
                    route,
                }],
                message: dsn,
            });
        }
        for (i, a) in self.archive_copies.iter().enumerate() {
            out.push(Output {
                kind: OutputKind::Archive {
                    connector: a.connector,
                    direction: a.direction,
                    storage_key: self.archive_storage_key(policy, envelope, i),
                },
                reverse_path: envelope.reverse_path().clone(),
                recipients: Vec::new(),
                message: render::archive_record(policy, envelope, self, a),
            });
        }
        Ok(out)
    }

    /// Where to store archive copy number `index`: [`ArchiveCopy::storage_key`] when the
    /// message has one archive copy; when it has several (it crossed more than one
    /// archiving connector), each key gets the direction and connector before `.eml`, so
    /// that none overwrites another.
    pub fn archive_storage_key(
        &self,
        policy: &Policy,
        envelope: &Envelope,
        index: usize,
    ) -> String {
        let Some(copy) = self.archive_copies.get(index) else {
            return String::new();
        };
        let key = copy.storage_key(envelope);
        if self.archive_copies.len() < 2 {
            return key;
        }
        let base = key.strip_suffix(".eml").unwrap_or(&key);
        let connector = policy
            .connector(copy.connector)
            .map_or_else(|| copy.connector.index().to_string(), |c| safe(c.name()));
        format!(
            "{base}.{}-{connector}.eml",
            copy.direction.to_string().to_ascii_lowercase()
        )
    }
}

impl ArchiveCopy {
    /// This copy's key among the decision's archive copies (see
    /// [`Decision::archive_storage_key`]).
    pub fn storage_key_in(
        &self,
        policy: &Policy,
        envelope: &Envelope,
        decision: &Decision,
    ) -> String {
        decision
            .archive_copies
            .iter()
            .position(|c| c == self)
            .map_or_else(
                || self.storage_key(envelope),
                |i| decision.archive_storage_key(policy, envelope, i),
            )
    }
}

/// A path segment of letters, digits, `-`, `_` and `.` only.
fn safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "_".to_owned() } else { s }
}

fn delivery_address(policy: &Policy, entry: EntryId) -> Result<Address, OutputError> {
    let e = policy
        .entry(entry)
        .ok_or_else(|| OutputError::ForeignDecision {
            what: entry.to_string(),
        })?;
    e.delivery_address()
        .cloned()
        .ok_or_else(|| OutputError::NoDeliveryAddress {
            entry: e.name().to_owned(),
        })
}

fn connector_route(policy: &Policy, connector: ConnectorId) -> Result<Route, OutputError> {
    let c = policy
        .connector(connector)
        .ok_or_else(|| OutputError::ForeignDecision {
            what: connector.to_string(),
        })?;
    Ok(Route::Connector {
        connector,
        next_hop: c.final_hop().clone(),
    })
}

/// A recipient of the original: the envelope recipient's NOTIFY and ORCPT; when a list or
/// a contact led to another address, ORCPT names the envelope recipient.
fn original_recipient(
    rcpts: &[Recipient],
    via: &Via,
    address: Address,
    route: Route,
) -> OutputRecipient {
    let env = rcpts.get(via.recipient as usize);
    let orcpt = match env {
        Some(r) if r.orcpt.is_some() => r.orcpt.clone(),
        Some(r) if r.address != address => Some(Arc::from(format!("rfc822;{}", r.address))),
        _ => None,
    };
    OutputRecipient {
        address,
        notify: env.map_or(Notify::Default, |r| r.notify),
        orcpt,
        route,
    }
}

fn journal_output(
    policy: &Policy,
    envelope: &Envelope,
    decision: &Decision,
    copy: &JournalCopy,
    now: Timestamp,
) -> Result<Output, OutputError> {
    let mut recipients = Vec::with_capacity(copy.recipients.len());
    for dst in &copy.recipients {
        let (address, route) = match dst {
            Destination::Local(entry) => (
                delivery_address(policy, *entry)?,
                Route::Local { entry: *entry },
            ),
            Destination::External { address, connector } => {
                (address.clone(), connector_route(policy, *connector)?)
            }
        };
        recipients.push(OutputRecipient {
            address,
            notify: copy.notify(),
            orcpt: None,
            route,
        });
    }
    Ok(Output {
        kind: OutputKind::Journal {
            ndr: copy.ndr,
            format: copy.format,
        },
        reverse_path: ReversePath::Address(copy.reverse_path.clone()),
        recipients,
        message: render::journal_message(policy, envelope, decision, copy, now),
    })
}
