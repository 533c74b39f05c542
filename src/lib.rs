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
//! ## Reading a configuration file
//!
//! With the `serde` feature (on by default), [`PolicyConfig::from_toml`] and
//! [`PolicyConfig::from_json`] read the same structure; errors name the field
//! (`connectors[1].address_spaces[0].cost: 0 is out of range 1..=100`). The crate's
//! `examples/policy.toml` documents every key.
//!
//! ## Rendering
//!
//! [`render`] turns a decision into bytes: journal reports (or Copy-format journal
//! copies), archive records, DSNs and message-tracking log lines. Renderers are pure, take
//! the time as a parameter, and share the original message's buffer.
//!
//! ## From Exchange 5.5
//!
//! Every setting of the seed knowledge-base articles, and where it lives here:
//!
//! | Exchange 5.5 (article) | Rust API | configuration file |
//! |---|---|---|
//! | `InboundJournal` registry value (Q262122) | [`JournalSettings::target`] via [`ConnectorConfig::inbound_journal`] | `connectors[].inbound_journal.target` |
//! | `InboundJournalNDR` (Q262122) | [`JournalSettings::ndr`] (mandatory once the direction journals) | `connectors[].inbound_journal.ndr` |
//! | `OutboundJournal` (Q262122) | [`JournalSettings::target`] via [`ConnectorConfig::outbound_journal`] | `connectors[].outbound_journal.target` |
//! | `OutboundJournalNDR` (Q262122) | [`JournalSettings::ndr`] | `connectors[].outbound_journal.ndr` |
//! | `InboundRecipJournalProp` (REG_DWORD, `0x80360000` = custom attribute 10) | [`JournalSettings::recipient_property`], a [`PropTag`] | `connectors[].inbound_journal.recipient_property` (`"0x80360000"`, `2151022592` or `"custom attribute 10"`) |
//! | `OutboundRecipJournalProp` (Q262122) | [`JournalSettings::recipient_property`] | `connectors[].outbound_journal.recipient_property` |
//! | Custom attributes 1–15 of a recipient | [`EntryConfig::property`] with [`PropTag::custom_attribute`] | `entries[].properties."custom attribute N"` |
//! | Journal address "the X.500 address of a distribution list" (Q262122) | any reference: `X500:/o=…`, name or SMTP address | same |
//! | Remove SMTP addresses, hide from the Address Book (Q262122) | [`EntryConfig::proxy`], [`EntryConfig::hidden`]; [`Policy::audit`] warns | `entries[].proxies`, `entries[].hidden` |
//! | Message Archival on the Diagnostics Logging tab (Q258557) | [`ConnectorConfig::archival`] → [`ArchiveCopy`], [`render::archive_record`] | `connectors[].archival` |
//! | "Accept messages from" / "Reject messages from" on an IMS (Q258557) | [`ConnectorConfig::restrictions`], [`RestrictionsConfig`] | `connectors[].restrictions.accept` / `.reject` |
//! | Delivery restrictions of a recipient | [`EntryConfig::restrictions`] | `entries[].restrictions` |
//! | Site Addressing routes, `SMTP:*` address spaces and costs (Q258557) | [`AddressSpace`] | `connectors[].address_spaces[].pattern` / `.cost` |
//! | An IMS relaying everything to another IMS or SMTP relay (Q258557) | [`NextHop`] | `connectors[].next_hop` (`"dns"`, `{ smarthost = … }`, `{ connector = … }`) |
//! | Message tracking on the MTA (Q164175) | always on: [`Decision::tracking`], [`render::tracking_log`] | none — no key turns it off |
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
#[cfg(feature = "seal")]
pub mod seal;

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
