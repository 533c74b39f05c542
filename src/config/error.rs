//! [`ConfigError`]: why a configuration cannot become a policy. Every message names the
//! offending value and where it is.

use thiserror::Error;

use crate::address::AddressError;
use crate::config::findings::AuditWarning;
use crate::ids::Direction;
use crate::proptag::PropTagError;

/// A configuration that cannot be read or turned into a [`Policy`](crate::Policy): the
/// one error type of reading a policy file (its syntax, its values, the files it names)
/// and of building it.
///
/// Each variant names the file, line, field path, entry, connector, rule or value at
/// fault, and a configuration key with the Exchange registry name where there is one
/// (`inbound_journal.ndr (InboundJournalNDR)`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A configuration file is not valid TOML (or JSON).
    #[error("{}line {line}, column {column}: {message}", file_prefix(file))]
    Syntax {
        /// The file's name (empty when the text came without one).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A field of a configuration file holds a value it cannot take.
    #[error("{}{}{path}: {message}", file_prefix(file), line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Field {
        /// The file's name (empty when the text came without one).
        file: String,
        /// 1-based line of the value, when known.
        line: Option<usize>,
        /// The field path, entries named: `entries[3] ("journal-box").proxies[0]`.
        path: String,
        /// What is wrong, in the file's terms (`expected an integer 1–100, found …`).
        message: String,
    },
    /// A file a policy file names (an LDIF directory export) could not be read.
    #[error("{}cannot read directory file {path}: {message}", file_prefix(file))]
    Read {
        /// The policy file.
        file: String,
        /// The file that could not be read.
        path: String,
        /// Why.
        message: String,
    },
    /// An LDIF directory export a policy file names cannot be read or mapped.
    #[cfg(feature = "ldif")]
    #[error(transparent)]
    Ldif(Box<crate::ldif::error::LdifError>),
    /// An address in the configuration could not be parsed.
    #[error("{context}: {source}")]
    Address {
        /// Where the address appears.
        context: String,
        /// The parse error.
        source: AddressError,
    },
    /// A property tag in the configuration could not be parsed.
    #[error("{context}: {source}")]
    PropTag {
        /// Where the tag appears.
        context: String,
        /// The parse error.
        source: PropTagError,
    },
    /// An accepted domain is not a valid domain or `*.domain` pattern.
    #[error("invalid accepted domain {domain:?}")]
    AcceptedDomain {
        /// The domain as given.
        domain: String,
    },
    /// A directory entry has an empty or duplicate name.
    #[error("directory entry name {name:?} is empty or used twice")]
    DuplicateEntry {
        /// The name.
        name: String,
    },
    /// Two entries (or one entry twice) claim the same proxy address.
    #[error("address {address} belongs to both {first:?} and {second:?}")]
    DuplicateAddress {
        /// The address.
        address: String,
        /// The entry that claimed it first.
        first: String,
        /// The entry that claimed it again.
        second: String,
    },
    /// An entry has more than one primary `SMTP:` address.
    #[error("entry {entry:?} has more than one primary SMTP address ({address})")]
    SecondPrimary {
        /// The entry.
        entry: String,
        /// The second primary address.
        address: String,
    },
    /// A reference (member, restriction, journal target, …) names nothing in the directory.
    #[error("{context}: {value:?} does not resolve to a directory entry")]
    Unresolved {
        /// Where the reference appears.
        context: String,
        /// The reference as given.
        value: String,
    },
    /// Distribution lists contain each other.
    #[error("distribution list cycle: {cycle}")]
    ListCycle {
        /// The cycle, as `a -> b -> a`.
        cycle: String,
    },
    /// Distribution lists nest deeper than the limit.
    #[error("distribution list {list:?} nests deeper than the limit of {limit}")]
    NestingTooDeep {
        /// The outermost list.
        list: String,
        /// The configured limit.
        limit: usize,
    },
    /// A distribution list flattens to more members than the limit.
    #[error("distribution list {list:?} expands to more than the limit of {limit} members")]
    ListTooLarge {
        /// The list.
        list: String,
        /// The configured limit.
        limit: usize,
    },
    /// A connector name is empty or used twice.
    #[error("connector name {name:?} is empty or used twice")]
    DuplicateConnector {
        /// The name.
        name: String,
    },
    /// A connector's next hop names a connector that does not exist.
    #[error("connector {connector:?}: next hop {next_hop:?} is not a connector")]
    UnknownNextHop {
        /// The connector.
        connector: String,
        /// The next hop as given.
        next_hop: String,
    },
    /// An address-space pattern is malformed.
    #[error("connector {connector:?}: address space {pattern:?} is invalid: {reason}")]
    AddressSpace {
        /// The connector.
        connector: String,
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An address-space cost outside 1–100.
    #[error("connector {connector:?}: address space {pattern:?} has cost {cost}, outside 1..=100")]
    Cost {
        /// The connector.
        connector: String,
        /// The pattern.
        pattern: String,
        /// The cost given.
        cost: u32,
    },
    /// A direction journals (target or recipient property) without a journal-NDR address.
    #[error(
        "connector {connector:?}: {} journaling is on but {} is not set; the journal-NDR address is mandatory",
        direction.to_string().to_lowercase(),
        crate::config::connector::journal_key(*direction, "ndr")
    )]
    MissingJournalNdr {
        /// The connector.
        connector: String,
        /// The direction.
        direction: Direction,
    },
    /// Enabled journal rules exist but no organisation-wide journal-NDR address is set.
    #[error(
        "journal rule {rule:?} is enabled but rules_ndr (the journal rules' NDR address) is not set"
    )]
    MissingRulesNdr {
        /// The first enabled rule.
        rule: String,
    },
    /// A journal-NDR address resolves to an entry that cannot be an envelope sender.
    #[error("{context}: journal-NDR entry {entry:?} {reason}")]
    UnusableNdr {
        /// Where the NDR address is configured.
        context: String,
        /// The entry.
        entry: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// A journal target that is (or contains) a contact whose address no connector routes.
    #[error("{context}: journal target {address} is not routed by any connector")]
    UnroutableTarget {
        /// Where the target is configured.
        context: String,
        /// The external address.
        address: String,
    },
    /// A journal target that expands to no mailbox, public folder or routable contact:
    /// its copies would reach nobody.
    #[error("{context}: journal target {target:?} reaches no mailbox (an empty list?)")]
    EmptyJournalTarget {
        /// Where the target is configured.
        context: String,
        /// The target entry.
        target: String,
    },
    /// A journal rule name is empty or used twice.
    #[error("journal rule name {name:?} is empty or used twice")]
    DuplicateRule {
        /// The name.
        name: String,
    },
    /// A limit is zero or inconsistent with another.
    #[error("limit {name} = {value} is invalid: {reason}")]
    Limit {
        /// The limit's name.
        name: &'static str,
        /// The value given.
        value: usize,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// The organisation name used in generated identifiers is empty or not a host name.
    #[error("organisation domain {value:?} is not a valid domain")]
    Organisation {
        /// The value given.
        value: String,
    },
    /// An entry that is not a mailbox or public folder has a delivery address.
    #[error(
        "entry {entry:?}: delivery address {address:?} applies only to mailboxes and public folders"
    )]
    DeliveryNotApplicable {
        /// The entry.
        entry: String,
        /// The delivery address given.
        address: String,
    },
    /// Connectors relay to each other in a circle.
    #[error("connector next hops form a loop: {cycle}")]
    NextHopLoop {
        /// The loop, as `a -> b -> a`.
        cycle: String,
    },
    /// `delivery_domain` is not a valid domain.
    #[error("delivery_domain {value:?} is not a valid domain")]
    DeliveryDomain {
        /// The value given.
        value: String,
    },
    /// A mailbox or public folder that receives journal copies has no address a
    /// transport could deliver them to.
    #[error(
        "{context}: journal copies go to {entry:?}, which has no delivery address; give it an SMTP address or a `delivery` address, or set the policy's `delivery_domain`"
    )]
    Undeliverable {
        /// Where the journal target is configured.
        context: String,
        /// The mailbox or public folder.
        entry: String,
    },
    /// Strict mode: the audit found risky configuration.
    #[error("strict mode: the audit found {} problem(s): {}", findings.len(), findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Strict {
        /// What the audit found.
        findings: Vec<AuditWarning>,
    },
}

/// `policy.toml ` before a position, nothing for a text without a name.
fn file_prefix(file: &str) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!("{file} ")
    }
}

#[cfg(feature = "ldif")]
impl From<crate::ldif::error::LdifError> for ConfigError {
    fn from(e: crate::ldif::error::LdifError) -> Self {
        ConfigError::Ldif(Box::new(e))
    }
}
