//! # mail-journal
//!
//! An embedded, no-I/O journaling engine for mail servers, modelled on Exchange 5.5's
//! Internet Mail Service journaling, Message Archival, delivery restrictions and message
//! tracking, and extended with Exchange 2007+ journal rules.
//!
//! The flow: build a [`Policy`] once from a [`PolicyConfig`] (all validation happens
//! there), then call [`Policy::decide`] for every message. The [`Decision`] says, for
//! every envelope recipient, whether it is delivered, relayed through which connector, or
//! rejected with which SMTP reply; which archive copies to keep; which journal copies to
//! send to whom and with which envelope sender (the journal-NDR address, so bounces never
//! reach the original sender); and the message-tracking events for all of it.
//!
//! ```
//! use mail_journal::*;
//!
//! // Seed Q258557: alice's Internet mail — and only hers — leaves through an archiving
//! // connector that relays to the main one.
//! let policy = PolicyConfig::new("example.com")
//!     .accepted_domain("example.com")
//!     .entry(EntryConfig::mailbox("alice").proxy("SMTP:alice@example.com"))
//!     .entry(EntryConfig::mailbox("carol").proxy("SMTP:carol@example.com"))
//!     .connector(ConnectorConfig::new("IMS-Main")
//!         .address_space(AddressSpace::new("*", 1))
//!         .restrictions(RestrictionsConfig::reject(["alice"])))
//!     .connector(ConnectorConfig::new("IMS-Archive")
//!         .address_space(AddressSpace::new("*", 1))
//!         .restrictions(RestrictionsConfig::accept_only(["alice"]))
//!         .archival(true)
//!         .next_hop(NextHop::Connector("IMS-Main".into())))
//!     .build()?;
//!
//! let envelope = Envelope::builder(Origin::Submitted, "<alice@example.com>")?
//!     .recipient("bob@partner.example")?
//!     .message(&b"From: alice@example.com\r\nSubject: Q3\r\n\r\nNumbers.\r\n"[..])
//!     .received_at(Timestamp::from_unix(1_795_342_443))
//!     .envelope_id("Q-1")
//!     .build()?;
//! let decision = policy.decide(&envelope);
//!
//! let archive = policy.connector_id("IMS-Archive").expect("configured");
//! assert_eq!(decision.verdicts[0].disposition, Disposition::Relay(archive));
//! assert_eq!(decision.archive_copies.len(), 1);
//! assert!(decision.tracking.iter().any(|e| e.kind == EventKind::Send));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Module map: [`address`] (addresses, reverse paths, proxies), [`proptag`] (MAPI property
//! tags of custom attributes), [`directory`] (entries and list flattening), [`restrict`]
//! (delivery restrictions), [`connector`] (connectors), `route` (connector selection),
//! [`journal`] (journal sources and rules), [`policy`] (configuration, build, audit),
//! [`envelope`], [`decision`], `headers` (the header-block scan), [`error`], and [`demo`]
//! (a built-in organisation expressing the seed scenarios).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
#[cfg(feature = "serde")]
mod config_file;
pub mod connector;
pub mod decision;
pub mod demo;
pub mod directory;
mod engine;
pub mod envelope;
pub mod error;
mod explain;
mod hash;
mod headers;
pub mod journal;
pub mod policy;
pub mod proptag;
pub mod render;
pub mod restrict;
mod route;

pub use address::{Address, DistinguishedName, ProxyAddress, ReversePath};
#[cfg(feature = "serde")]
pub use config_file::ConfigFileError;
pub use connector::{
    AddressSpace, Connector, ConnectorConfig, ConnectorId, Direction, JournalSettings, NextHop,
};
pub use decision::{
    ArchiveCopy, Decision, Delivery, Destination, Disposition, EnhancedStatus, EventKind,
    JournalCopy, JournalFormat, JournalReason, JournalSource, MessageDirection, NonDelivery, Party,
    RejectReason, Rejection, Relayed, SmtpReply, TrackingEvent, Transfer, Verdict, Via, Warning,
};
pub use directory::{Entry, EntryConfig, EntryId, EntryKind, EntryKindConfig};
pub use envelope::{Envelope, EnvelopeBuilder, Notify, Origin, Recipient, Timestamp};
pub use error::{AddressError, ConfigError, EnvelopeError, PropTagError};
pub use headers::JOURNAL_MARKER;
pub use journal::{JournalRule, JournalScope};
pub use policy::{
    AuditWarning, JournalRole, JournalRuleConfig, Limits, Policy, PolicyConfig, RuleId,
};
pub use proptag::PropTag;
pub use restrict::{RestrictionKind, RestrictionsConfig};

/// The README's examples run as doctests, so the quick start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
