//! Layer 1, the configuration: what operators write. Plain data with builder methods,
//! checked and compiled by [`Policy::build`](crate::Policy::build).

pub(crate) mod connector;
pub(crate) mod entry;
pub(crate) mod error;
#[cfg(feature = "serde")]
pub(crate) mod file;
pub(crate) mod findings;
pub(crate) mod limits;
pub(crate) mod restrictions;
pub(crate) mod rule;

use crate::config::connector::ConnectorConfig;
use crate::config::entry::EntryConfig;
use crate::config::limits::Limits;
use crate::config::rule::JournalRuleConfig;

/// The format journal copies are sent in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JournalFormat {
    /// An Exchange 2007+ envelope journal report: a summary of the envelope (Bcc and
    /// list expansions included) with the original attached unaltered.
    #[default]
    Envelope,
    /// Exchange 5.5 IMS style: the original message unaltered under a new envelope.
    Copy,
}

/// Everything a [`Policy`](crate::Policy) is built from.
///
/// ```
/// use mail_journal::*;
/// let policy = PolicyConfig::new("example.com")
///     .accepted_domain("example.com")
///     .entry(EntryConfig::mailbox("carol").proxy("SMTP:carol@example.com"))
///     .connector(ConnectorConfig::new("IMS").address_space(AddressSpace::new("*", 1)))
///     .build()?;
/// assert!(policy.entry_by_address("carol@example.com").is_some());
/// # Ok::<(), mail_journal::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PolicyConfig {
    /// The organisation's domain, used in generated identifiers (Message-IDs).
    pub organisation: String,
    /// The organisation's own SMTP domains: `example.com`, or `*.example.com` for its
    /// sub-domains.
    pub accepted_domains: Vec<String>,
    /// The directory.
    pub entries: Vec<EntryConfig>,
    /// The connectors.
    pub connectors: Vec<ConnectorConfig>,
    /// Journal rules.
    pub journal_rules: Vec<JournalRuleConfig>,
    /// The organisation-wide journal-NDR address for rule-based copies.
    pub rules_ndr: Option<String>,
    /// The format of journal copies.
    pub journal_format: JournalFormat,
    /// Limits.
    pub limits: Limits,
    /// The domain of delivery addresses made from entry names: a mailbox or public folder
    /// with neither an SMTP address nor a `delivery` address is delivered to
    /// `name@delivery_domain` (see [`EntryConfig::delivery`]). Use a domain only the
    /// re-injection side of your MTA accepts.
    pub delivery_domain: Option<String>,
    /// Warnings from reading the LDIF directory exports of a policy file (references
    /// dropped in lenient mode); [`Policy::audit`](crate::Policy::audit) reports them.
    pub directory_warnings: Vec<String>,
    /// Strict mode: any finding of [`Policy::audit`](crate::Policy::audit) makes the build
    /// fail, so a misspelt custom-attribute value stops a deployment instead of sending
    /// copies to the NDR mailbox.
    pub strict: bool,
    /// A private value mixed into generated MIME boundaries and Message-IDs, so that an
    /// outsider cannot predict a report's boundary and plant it in a message. Set it to a
    /// long random string kept with the configuration; rendering stays deterministic.
    pub render_secret: String,
}

impl PolicyConfig {
    /// An empty configuration for the organisation whose domain is `organisation`.
    pub fn new(organisation: impl Into<String>) -> Self {
        PolicyConfig {
            organisation: organisation.into(),
            accepted_domains: Vec::new(),
            entries: Vec::new(),
            connectors: Vec::new(),
            journal_rules: Vec::new(),
            rules_ndr: None,
            journal_format: JournalFormat::default(),
            limits: Limits::default(),
            render_secret: String::new(),
            delivery_domain: None,
            directory_warnings: Vec::new(),
            strict: false,
        }
    }

    /// Sets the delivery domain (see [`PolicyConfig::delivery_domain`]).
    pub fn delivery_domain(mut self, domain: impl Into<String>) -> Self {
        self.delivery_domain = Some(domain.into());
        self
    }

    /// Turns strict mode on or off (see [`PolicyConfig::strict`]).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Sets the render secret (see [`PolicyConfig::render_secret`]).
    pub fn render_secret(mut self, secret: impl Into<String>) -> Self {
        self.render_secret = secret.into();
        self
    }

    /// Adds an accepted domain.
    pub fn accepted_domain(mut self, domain: impl Into<String>) -> Self {
        self.accepted_domains.push(domain.into());
        self
    }

    /// Adds a directory entry.
    pub fn entry(mut self, entry: EntryConfig) -> Self {
        self.entries.push(entry);
        self
    }

    /// Adds a connector.
    pub fn connector(mut self, connector: ConnectorConfig) -> Self {
        self.connectors.push(connector);
        self
    }

    /// Adds a journal rule.
    pub fn journal_rule(mut self, rule: JournalRuleConfig) -> Self {
        self.journal_rules.push(rule);
        self
    }

    /// Sets the journal-NDR address of rule-based copies.
    pub fn rules_ndr(mut self, ndr: impl Into<String>) -> Self {
        self.rules_ndr = Some(ndr.into());
        self
    }

    /// Sets the journal format.
    pub fn journal_format(mut self, format: JournalFormat) -> Self {
        self.journal_format = format;
        self
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}
