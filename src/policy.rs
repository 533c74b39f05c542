//! `PolicyConfig` → [`Policy`]: validation, pre-computation and the configuration audit.

use std::fmt;

use crate::address::Address;
use crate::connector::{
    CompiledSpace, Connector, ConnectorConfig, ConnectorId, Direction, DirectionJournal, NextHop,
};
use crate::decision::JournalFormat;
use crate::directory::{Directory, Entry, EntryConfig, EntryId, EntryKind};
use crate::error::ConfigError;
use crate::hash::{FxHashMap, FxHashSet};
use crate::journal::{JournalIndex, JournalRule, JournalScope};
use crate::route::Pattern;

/// Limits that keep every decision bounded. Hitting one is an explicit error (at build)
/// or rejection (at decide), never a silent drop.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Recipients per envelope; the excess is refused with `452 4.5.3`.
    pub max_recipients: usize,
    /// Flattened members of one distribution list (a configuration error when exceeded).
    pub max_list_members: usize,
    /// Nesting depth of distribution lists (a configuration error when exceeded).
    pub max_nesting_depth: usize,
    /// Bytes of header block scanned per message.
    pub max_header_bytes: usize,
    /// List members visited per message; a list recipient that would exceed it is
    /// refused with `452 4.5.3`. At least `max_list_members`.
    pub max_expansion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_recipients: 1000,
            max_list_members: 100_000,
            max_nesting_depth: 32,
            max_header_bytes: 1024 * 1024,
            max_expansion: 1_000_000,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_recipients`].
    pub fn max_recipients(mut self, n: usize) -> Self {
        self.max_recipients = n;
        self
    }
    /// Sets [`Limits::max_list_members`].
    pub fn max_list_members(mut self, n: usize) -> Self {
        self.max_list_members = n;
        self
    }
    /// Sets [`Limits::max_nesting_depth`].
    pub fn max_nesting_depth(mut self, n: usize) -> Self {
        self.max_nesting_depth = n;
        self
    }
    /// Sets [`Limits::max_header_bytes`].
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.max_header_bytes = n;
        self
    }
    /// Sets [`Limits::max_expansion`].
    pub fn max_expansion(mut self, n: usize) -> Self {
        self.max_expansion = n;
        self
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("max_recipients", self.max_recipients),
            ("max_list_members", self.max_list_members),
            ("max_nesting_depth", self.max_nesting_depth),
            ("max_header_bytes", self.max_header_bytes),
            ("max_expansion", self.max_expansion),
        ] {
            if value == 0 {
                return Err(ConfigError::Limit {
                    name,
                    value,
                    reason: "must be at least 1",
                });
            }
        }
        if self.max_expansion < self.max_list_members {
            return Err(ConfigError::Limit {
                name: "max_expansion",
                value: self.max_expansion,
                reason: "must be at least max_list_members, or a permitted list could never be expanded",
            });
        }
        Ok(())
    }
}

/// Identifies a journal rule of a built [`Policy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub(crate) u32);

impl RuleId {
    /// The rule's position in the configuration's rule list.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A journal rule as configured (after Exchange 2007+ premium journaling).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalRuleConfig {
    /// Unique name.
    pub name: String,
    /// Which mail the rule looks at.
    pub scope: JournalScope,
    /// Only mail to or from this entry (a list means its members); all mail when `None`.
    pub recipient: Option<String>,
    /// Where copies go (a reference: name, SMTP address or distinguished name).
    pub target: String,
    /// Disabled rules are kept but ignored.
    pub enabled: bool,
}

impl JournalRuleConfig {
    /// An enabled rule journaling all mail of `scope` to `target`.
    pub fn new(name: impl Into<String>, scope: JournalScope, target: impl Into<String>) -> Self {
        JournalRuleConfig {
            name: name.into(),
            scope,
            recipient: None,
            target: target.into(),
            enabled: true,
        }
    }

    /// Restricts the rule to mail to or from `recipient`.
    pub fn recipient(mut self, recipient: impl Into<String>) -> Self {
        self.recipient = Some(recipient.into());
        self
    }

    /// Enables or disables the rule.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }
}

/// Everything a [`Policy`] is built from.
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
        }
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

    /// Validates and builds the policy.
    pub fn build(self) -> Result<Policy, ConfigError> {
        Policy::build(&self)
    }
}

/// Accepted domains, compiled.
#[derive(Clone, Debug, Default)]
pub(crate) struct AcceptedDomains {
    exact: FxHashSet<Box<str>>,
    /// Suffixes including the leading dot (`.example.com`).
    suffixes: Vec<Box<str>>,
}

impl AcceptedDomains {
    fn build(domains: &[String]) -> Result<Self, ConfigError> {
        let mut out = AcceptedDomains::default();
        for d in domains {
            let bad = || ConfigError::AcceptedDomain { domain: d.clone() };
            let t = d.trim().to_ascii_lowercase();
            let (wild, name) = match t.strip_prefix("*.") {
                Some(rest) => (true, rest.to_owned()),
                None => (false, t),
            };
            Address::parse(&format!("x@{name}")).map_err(|_| bad())?;
            if wild {
                out.suffixes.push(format!(".{name}").into());
            } else {
                out.exact.insert(name.into());
            }
        }
        Ok(out)
    }

    /// `domain` must already be lower-case (as [`Address::domain`] is).
    pub(crate) fn contains(&self, domain: &str) -> bool {
        self.exact.contains(domain) || self.suffixes.iter().any(|s| domain.ends_with(&**s))
    }
}

/// A built, immutable policy: `Send + Sync`, cheap to share in an `Arc`.
///
/// Build it once from a [`PolicyConfig`] (all validation happens there), then call
/// [`Policy::decide`] for every message.
///
/// ```
/// use mail_journal::*;
/// let policy = PolicyConfig::new("example.com")
///     .accepted_domain("example.com")
///     .entry(EntryConfig::mailbox("carol").proxy("SMTP:carol@example.com"))
///     .entry(EntryConfig::distribution_list("Journal-DL", ["journal1"])
///         .proxy("X500:/o=Example/ou=HQ/cn=Recipients/cn=Journal-DL").hidden(true))
///     .entry(EntryConfig::mailbox("journal1").hidden(true))
///     .entry(EntryConfig::mailbox("InboundJournalNDR")
///         .proxy("SMTP:journal-ndr@example.com").hidden(true))
///     .connector(ConnectorConfig::new("IMS")
///         .address_space(AddressSpace::new("*", 1))
///         .inbound_journal(JournalSettings::to(
///             "X500:/o=Example/ou=HQ/cn=Recipients/cn=Journal-DL", "InboundJournalNDR")))
///     .build()?;
///
/// let ims = policy.connector_id("IMS").expect("configured above");
/// let envelope = Envelope::builder(Origin::Inbound { connector: ims }, "<bob@partner.example>")?
///     .recipient("carol@example.com")?
///     .message(&b"Subject: hello\r\nMessage-ID: <1@partner.example>\r\n\r\nHi\r\n"[..])
///     .envelope_id("Q1")
///     .build()?;
/// let decision = policy.decide(&envelope);
/// assert!(decision.verdicts[0].disposition.is_accepted());
/// let copy = &decision.journal_copies[0];
/// assert_eq!(copy.reverse_path.as_str(), "journal-ndr@example.com");
/// assert_eq!(copy.recipients.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) organisation: Box<str>,
    pub(crate) accepted: AcceptedDomains,
    pub(crate) dir: Directory,
    pub(crate) connectors: Vec<Connector>,
    connector_names: ConnectorNames,
    pub(crate) journal: JournalIndex,
    pub(crate) limits: Limits,
    pub(crate) format: JournalFormat,
    pub(crate) render_key: [u8; 16],
    has_secret: bool,
}

impl Policy {
    /// Validates a configuration and builds the policy.
    pub fn build(cfg: &PolicyConfig) -> Result<Policy, ConfigError> {
        cfg.limits.validate()?;
        let org = cfg.organisation.trim().to_ascii_lowercase();
        if Address::parse(&format!("x@{org}")).is_err() {
            return Err(ConfigError::Organisation {
                value: cfg.organisation.clone(),
            });
        }
        let accepted = AcceptedDomains::build(&cfg.accepted_domains)?;
        let dir = Directory::build(&cfg.entries, &cfg.limits)?;
        let (connectors, connector_names) = build_connectors(cfg, &dir)?;
        let journal = JournalIndex::build(cfg, &dir, &connectors)?;
        let render_key = derive_key(&org, &cfg.render_secret);
        Ok(Policy {
            organisation: org.into(),
            accepted,
            dir,
            connectors,
            connector_names,
            journal,
            limits: cfg.limits.clone(),
            format: cfg.journal_format,
            render_key,
            has_secret: !cfg.render_secret.is_empty(),
        })
    }

    /// The organisation's domain (lower-cased).
    pub fn organisation(&self) -> &str {
        &self.organisation
    }

    /// Whether `domain` is one of the organisation's accepted domains.
    pub fn is_accepted_domain(&self, domain: &str) -> bool {
        self.accepted.contains(&domain.to_ascii_lowercase())
    }

    /// An entry by id.
    pub fn entry(&self, id: EntryId) -> Option<&Entry> {
        self.dir.get(id)
    }

    /// All entries, in configuration order.
    pub fn entries(&self) -> impl Iterator<Item = (EntryId, &Entry)> {
        self.dir
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (EntryId(i as u32), e))
    }

    /// Resolves a reference: entry name, SMTP address, `SMTP:` / `X500:` / `EX:` proxy or
    /// a bare distinguished name.
    pub fn resolve(&self, reference: &str) -> Option<EntryId> {
        self.dir.resolve(reference)
    }

    /// The entry an SMTP address resolves to.
    pub fn entry_by_address(&self, address: &str) -> Option<EntryId> {
        Address::parse(address)
            .ok()
            .and_then(|a| self.dir.by_address(&a))
    }

    /// A connector by id.
    pub fn connector(&self, id: ConnectorId) -> Option<&Connector> {
        self.connectors.get(id.index())
    }

    /// A connector's id by name (case-insensitive).
    pub fn connector_id(&self, name: &str) -> Option<ConnectorId> {
        self.connector_names
            .get(name.trim().to_ascii_lowercase().as_str())
            .copied()
    }

    /// All connectors, in configuration order.
    pub fn connectors(&self) -> impl Iterator<Item = (ConnectorId, &Connector)> {
        self.connectors
            .iter()
            .enumerate()
            .map(|(i, c)| (ConnectorId(i as u32), c))
    }

    /// A journal rule by id.
    pub fn rule(&self, id: RuleId) -> Option<&JournalRule> {
        self.journal.rules.get(id.index())
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The journal format.
    pub fn journal_format(&self) -> JournalFormat {
        self.format
    }

    /// Whether an entry is a journal-NDR mailbox of any direction or of the rules.
    pub fn is_journal_ndr(&self, id: EntryId) -> bool {
        self.journal.is_ndr(id)
    }

    fn entry_name(&self, id: EntryId) -> String {
        self.entry(id)
            .map(|e| e.name().to_owned())
            .unwrap_or_default()
    }

    /// Risky configuration worth a look: journal mailboxes reachable by SMTP or visible
    /// in the address book, journaling to external contacts, per-recipient values that
    /// resolve to nothing, and connectors that let mail bypass archival.
    pub fn audit(&self) -> Vec<AuditWarning> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for (id, role) in self.journal.system_roles() {
            if seen.contains(&(id, role)) {
                continue;
            }
            seen.push((id, role));
            let Some(e) = self.entry(id) else { continue };
            let name = e.name().to_owned();
            if !e.is_hidden() {
                out.push(AuditWarning::VisibleJournalMailbox {
                    entry: name.clone(),
                    role,
                });
            }
            match e.kind() {
                EntryKind::Contact => out.push(AuditWarning::ExternalJournalTarget {
                    entry: name,
                    address: e.display_address(),
                }),
                _ if role == JournalRole::Target && e.has_smtp_address() => {
                    out.push(AuditWarning::JournalMailboxHasSmtp { entry: name })
                }
                _ => {}
            }
        }
        for (entry, property, value) in self.journal.unresolved_values() {
            out.push(AuditWarning::UnresolvedJournalProperty {
                entry: self.entry_name(entry),
                property: property.to_string(),
                value: value.to_owned(),
            });
        }
        if !self.has_secret {
            out.push(AuditWarning::NoRenderSecret);
        }
        let archiving: Vec<&str> = self
            .connectors
            .iter()
            .filter(|c| c.archival && !c.spaces.is_empty())
            .map(|c| c.name())
            .collect();
        if let Some(first) = archiving.first() {
            for c in &self.connectors {
                if !c.archival && !c.spaces.is_empty() && c.restrictions.accept_list().is_none() {
                    out.push(AuditWarning::ArchivalBypass {
                        connector: c.name().to_owned(),
                        archiving: (*first).to_owned(),
                    });
                }
            }
        }
        out
    }
}

/// Connector ids by lower-cased name.
type ConnectorNames = FxHashMap<Box<str>, ConnectorId>;

/// `Policy` is shared across threads behind an `Arc`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
    assert_send_sync::<crate::decision::Decision>();
};

/// A 128-bit SipHash key from the organisation and the render secret.
fn derive_key(organisation: &str, secret: &str) -> [u8; 16] {
    use std::hash::Hasher;
    let mut h = siphasher::sip128::SipHasher24::new_with_keys(0x6d61_696c, 0x6a6f_7572);
    h.write(organisation.as_bytes());
    h.write_u8(0xff);
    h.write(secret.as_bytes());
    siphasher::sip128::Hasher128::finish128(&h).as_bytes()
}

fn build_connectors(
    cfg: &PolicyConfig,
    dir: &Directory,
) -> Result<(Vec<Connector>, ConnectorNames), ConfigError> {
    let mut names = ConnectorNames::default();
    for (i, c) in cfg.connectors.iter().enumerate() {
        let key = c.name.trim().to_ascii_lowercase();
        let id = ConnectorId(u32::try_from(i).unwrap_or(u32::MAX));
        if key.is_empty() || names.insert(key.into(), id).is_some() {
            return Err(ConfigError::DuplicateConnector {
                name: c.name.clone(),
            });
        }
    }
    let mut out = Vec::with_capacity(cfg.connectors.len());
    for c in &cfg.connectors {
        let mut spaces = Vec::with_capacity(c.address_spaces.len());
        for s in &c.address_spaces {
            let pattern =
                Pattern::parse(&s.pattern).map_err(|reason| ConfigError::AddressSpace {
                    connector: c.name.clone(),
                    pattern: s.pattern.clone(),
                    reason,
                })?;
            if !(1..=100).contains(&s.cost) {
                return Err(ConfigError::Cost {
                    connector: c.name.clone(),
                    pattern: s.pattern.clone(),
                    cost: s.cost,
                });
            }
            spaces.push(CompiledSpace {
                pattern,
                cost: s.cost,
            });
        }
        if let NextHop::Connector(hop) = &c.next_hop {
            if !names.contains_key(hop.trim().to_ascii_lowercase().as_str()) {
                return Err(ConfigError::UnknownNextHop {
                    connector: c.name.clone(),
                    next_hop: hop.clone(),
                });
            }
        }
        let restrictions =
            dir.compile_restrictions(&c.restrictions, &format!("connector {:?}", c.name))?;
        let journal = |d: Direction| -> Result<Option<DirectionJournal>, ConfigError> {
            let s = c.journal(d);
            let resolve = |value: &str, what: &str| {
                dir.resolve(value).ok_or_else(|| ConfigError::Unresolved {
                    context: format!("connector {:?} {d}{what}", c.name),
                    value: value.to_owned(),
                })
            };
            let target = s
                .target
                .as_deref()
                .map(|t| resolve(t, "Journal"))
                .transpose()?;
            let ndr = s
                .ndr
                .as_deref()
                .map(|n| resolve(n, "JournalNDR"))
                .transpose()?;
            if !s.is_enabled() {
                return Ok(None);
            }
            let ndr = ndr.ok_or_else(|| ConfigError::MissingJournalNdr {
                connector: c.name.clone(),
                direction: d,
            })?;
            Ok(Some(DirectionJournal {
                target,
                ndr,
                property: s.recipient_property,
            }))
        };
        out.push(Connector {
            name: c.name.trim().into(),
            spaces: spaces.into_boxed_slice(),
            restrictions,
            archival: c.archival,
            inbound: journal(Direction::Inbound)?,
            outbound: journal(Direction::Outbound)?,
            accepts_inbound: c.accepts_inbound,
            next_hop: c.next_hop.clone(),
        });
    }
    Ok((out, names))
}

/// The role a directory entry plays in journaling, for the audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JournalRole {
    /// Receives journal copies.
    Target,
    /// Receives the non-delivery reports of journal copies.
    Ndr,
}

impl fmt::Display for JournalRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JournalRole::Target => "journal target",
            JournalRole::Ndr => "journal-NDR mailbox",
        })
    }
}

/// A risky piece of configuration reported by [`Policy::audit`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditWarning {
    /// A journal target or NDR mailbox is visible in the address book.
    VisibleJournalMailbox {
        /// The entry.
        entry: String,
        /// Its role.
        role: JournalRole,
    },
    /// A journal target has an SMTP address, so it can be attacked from outside.
    JournalMailboxHasSmtp {
        /// The entry.
        entry: String,
    },
    /// Journal copies leave the organisation through a contact.
    ExternalJournalTarget {
        /// The contact.
        entry: String,
        /// Its external address.
        address: String,
    },
    /// A per-recipient journal property value resolves to nothing; copies for it go to
    /// the NDR mailbox.
    UnresolvedJournalProperty {
        /// The entry holding the value.
        entry: String,
        /// The property.
        property: String,
        /// The value.
        value: String,
    },
    /// No render secret is set: report boundaries are predictable to anyone who knows
    /// the envelope id, so a crafted message could plant one.
    NoRenderSecret,
    /// A connector anyone can use has archival off while another has it on: mail can
    /// leave without being archived.
    ArchivalBypass {
        /// The non-archiving connector.
        connector: String,
        /// An archiving connector.
        archiving: String,
    },
}

impl fmt::Display for AuditWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditWarning::VisibleJournalMailbox { entry, role } => write!(
                f,
                "{role} {entry:?} is visible in the address book; hide it so it is hard to attack from inside"
            ),
            AuditWarning::JournalMailboxHasSmtp { entry } => write!(
                f,
                "journal target {entry:?} has an SMTP address; remove it so it cannot be attacked from outside"
            ),
            AuditWarning::ExternalJournalTarget { entry, address } => write!(
                f,
                "journal copies leave the organisation through contact {entry:?} to {address}"
            ),
            AuditWarning::UnresolvedJournalProperty {
                entry,
                property,
                value,
            } => write!(
                f,
                "entry {entry:?}: {property} = {value:?} resolves to nothing; its journal copies go to the NDR mailbox"
            ),
            AuditWarning::NoRenderSecret => f.write_str(
                "no render secret is set: journal report boundaries can be predicted from the envelope id",
            ),
            AuditWarning::ArchivalBypass {
                connector,
                archiving,
            } => write!(
                f,
                "connector {connector:?} is open to every sender with Message Archival off while {archiving:?} archives: mail can leave unarchived"
            ),
        }
    }
}
