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
//! use mail_journal::prelude::*;
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
//! assert_eq!(decision.verdicts[0].disposition, Disposition::Transfer(archive));
//! assert_eq!(decision.archive_copies.len(), 1);
//! assert!(decision.tracking.iter().any(|e| e.kind == EventKind::Transfer));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## In a transport
//!
//! At `RCPT TO`, [`Policy::check_rcpt`] (or a [`Transaction`] per session) gives the reply
//! to send — positive or not — with no message needed; it agrees with the recipient's
//! verdict in [`Policy::decide`] (what only the message can tell, such as a list member's
//! non-delivery, comes at the end of `DATA`). At the end of `DATA`, decide, then hand on
//! every [`Output`] of [`Decision::outputs`]: originals, journal copies, the DSN and the
//! archive records, each with its envelope and bytes. Answer `250` only when all of them
//! were accepted, else a `451` so the client retries and nothing is lost.
//!
//! ```
//! use mail_journal::prelude::*;
//!
//! let policy = mail_journal::demo::policy()?;
//! let from: ReversePath = "<bob@partner.example>".parse()?;
//! let main = Origin::Inbound { connector: policy.connector_id("IMS-Main").expect("demo") };
//!
//! // RCPT TO: a user is accepted, an unknown one refused, a relay attempt refused.
//! let reply = policy.check_rcpt(main, &from, &"dave@example.com".parse()?);
//! assert_eq!(reply.code, 250);
//! assert_eq!(policy.check_rcpt(main, &from, &"nobody@example.com".parse()?).code, 550);
//! assert_eq!(policy.check_rcpt(main, &from, &"x@elsewhere.example".parse()?).code, 550);
//!
//! // End of DATA: decide, then queue every output.
//! let envelope = Envelope::builder(main, "<bob@partner.example>")?
//!     .recipient("dave@example.com")?
//!     .message(&b"From: bob@partner.example\r\nSubject: Q3\r\n\r\nNumbers.\r\n"[..])
//!     .received_at(Timestamp::from_unix(1_795_342_443))
//!     .envelope_id("Q-2")
//!     .build()?;
//! let decision = policy.decide(&envelope);
//! let mut journal_copies = 0;
//! for output in decision.outputs(&policy, &envelope, Timestamp::from_unix(1_795_342_444))? {
//!     // A real transport queues `output.message` from `output.reverse_path` to each of
//!     // `output.recipients` (address, NOTIFY, ORCPT, route), or stores an archive record.
//!     if let OutputKind::Journal { .. } = output.kind {
//!         journal_copies += 1;
//!         assert_eq!(output.reverse_path.to_string(), "<inbound-journal-ndr@example.com>");
//!         assert!(output.recipients.iter().all(|r| r.notify == Notify::Never));
//!     }
//! }
//! assert_eq!(journal_copies, 1);
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
//! ## How the crate is laid out
//!
//! Layers, each importing only from the layers below it, with no circle anywhere (the
//! test `tests/layers.rs` keeps it so). A newcomer reads them bottom-up:
//!
//! | layer | modules | holds |
//! |---|---|---|
//! | 0 leaf types | `ids`, `address`, `proptag`, `time`, `reply` (and the private helpers `hash`, `headers`, `text`) | [`EntryId`], [`ConnectorId`], [`RuleId`], [`Direction`], [`Address`], [`ReversePath`], [`ProxyAddress`], [`PropTag`], [`Timestamp`], [`SmtpReply`] — each with its parse error |
//! | 1 inputs | `config`, `ldif`, `envelope` | what operators write ([`PolicyConfig`], [`EntryConfig`], [`ConnectorConfig`], …, configuration files) and what transports hand in ([`Envelope`]) |
//! | 2 compiled policy | `policy` | [`Policy`] and its build ([`ConfigError`]): the directory with flattened lists, restrictions, connectors, routing, the journal index, the audit |
//! | 3 deciding | `decide` | [`Policy::decide`] and the [`Decision`] it returns, the tracking events, [`Policy::explain`] |
//! | 4 rendering | [`render`] | bytes: journal reports, archive records, DSNs, tracking-log lines |
//! | 5 transport | `transport` | [`Decision::outputs`]: every message to hand on, with its envelope, routes and bytes |
//! | 6 sealing | `seal` (feature `seal`) | the hash chain over what a transport stores, checkpoints, the verifier |
//! | 7 sample data | [`demo`] | a built-in organisation for examples and tests |
//!
//! Every public type is reachable once, from the crate root (or, for the renderers, from
//! [`render`]); [`prelude`] gathers the names a transport uses.
//!
//! One rule for `#[non_exhaustive]`: every public struct with public fields and every
//! public enum carries it, so that a new field or variant is not a breaking change —
//! except the few closed by definition: [`Direction`] (a connector is crossed inbound or
//! outbound), [`ReversePath`] (null or an address) and [`EnhancedStatus`] (RFC 3463's three
//! numbers). Structs that users build get constructors (`Verdict::new`, …).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address;
mod config;
mod decide;
pub mod demo;
mod envelope;
mod hash;
mod headers;
mod ids;
#[cfg(feature = "ldif")]
mod ldif;
mod policy;
mod proptag;
pub mod render;
mod reply;
#[cfg(feature = "seal")]
pub mod seal;
mod text;
mod time;
mod transport;

pub use address::{Address, AddressError, DistinguishedName, ProxyAddress, ReversePath};
pub use config::connector::{AddressSpace, ConnectorConfig, JournalSettings, NextHop};
pub use config::entry::{EntryConfig, EntryKindConfig};
pub use config::error::ConfigError;
pub use config::findings::{AuditWarning, JournalRole};
pub use config::limits::Limits;
pub use config::restrictions::RestrictionsConfig;
pub use config::rule::{JournalRuleConfig, JournalScope};
pub use config::{JournalFormat, PolicyConfig};
pub use decide::decision::{
    ArchiveCopy, Decision, Delivery, Destination, Disposition, EventKind, JournalCopy,
    JournalReason, JournalSource, NonDelivery, Party, RejectReason, Rejection, TrackingEvent,
    Traffic, Transfer, TransferRecipient, Verdict, Via, Warning,
};
pub use decide::rcpt::Transaction;
pub use envelope::{Envelope, EnvelopeBuilder, EnvelopeError, Notify, Origin, Recipient};
pub use headers::JOURNAL_MARKER;
pub use ids::{ConnectorId, Direction, EntryId, RuleId};
#[cfg(feature = "ldif")]
pub use ldif::error::LdifError;
#[cfg(feature = "ldif")]
pub use ldif::mapping::{
    LdifDirectory, LdifEntry, LdifImport, LdifOptions, LdifWarning, LdifWarningReason, SkipReason,
    SkippedObject, directory_from_ldif, merge_directory,
};
#[cfg(feature = "ldif")]
pub use ldif::reader::{
    LdifAttribute, LdifReader, LdifRecord, parse_ldif, parse_ldif_bytes, write_ldif,
};
pub use policy::compiled::Policy;
pub use policy::connector::Connector;
pub use policy::directory::{Entry, EntryKind};
pub use policy::journal::JournalRule;
pub use policy::restrict::RestrictionKind;
pub use proptag::{PT_STRING8, PT_UNICODE, PropTag, PropTagError};
pub use reply::{EnhancedStatus, SmtpReply};
pub use time::Timestamp;
pub use transport::{Output, OutputError, OutputKind, OutputRecipient, Route};

/// The names a transport author needs, in one import: `use mail_journal::prelude::*;`.
///
/// ```
/// use mail_journal::prelude::*;
/// let policy = mail_journal::demo::policy()?;
/// let from: ReversePath = "<alice@example.com>".parse()?;
/// let reply = policy.check_rcpt(Origin::Submitted, &from, &"bob@partner.example".parse()?);
/// assert!(reply.is_positive());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod prelude {
    pub use crate::{
        Address, AddressSpace, ConfigError, ConnectorConfig, Decision, Direction, Disposition,
        EntryConfig, Envelope, EnvelopeError, EventKind, JournalSettings, NextHop, Notify, Origin,
        Output, OutputError, OutputKind, OutputRecipient, Policy, PolicyConfig, Recipient,
        RestrictionsConfig, ReversePath, Route, SmtpReply, Timestamp, Transaction, render,
    };
}

/// The README's examples run as doctests, so the quick start cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
