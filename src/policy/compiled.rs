//! [`Policy`]: the compiled, immutable policy, and its build from a [`PolicyConfig`].

use crate::address::Address;
use crate::config::error::ConfigError;
use crate::config::limits::Limits;
use crate::config::{JournalFormat, PolicyConfig};
use crate::hash::FxHasher;
use crate::ids::{ConnectorId, EntryId, RuleId, Stamp};
use crate::policy::accepted::AcceptedDomains;
use crate::policy::connector::{Connector, ConnectorNames, build_connectors};
use crate::policy::directory::{Directory, Entry};
use crate::policy::journal::{JournalIndex, JournalRule};

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
///     .entry(EntryConfig::mailbox("journal1").hidden(true)
///         .delivery("journal1@store.example.internal"))
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
    pub(crate) has_secret: bool,
    /// The fingerprint of the configuration, carried by every id this policy issues.
    pub(crate) stamp: Stamp,
    /// The entry a bare `postmaster` recipient (RFC 5321 §4.5.1) reaches:
    /// `postmaster@` the organisation's domain, else of the first accepted domain that
    /// has one.
    pub(crate) postmaster: Option<EntryId>,
    /// Warnings of reading the directory exports, for the audit.
    pub(crate) directory_warnings: Vec<String>,
}

impl PolicyConfig {
    /// Validates and builds the policy (see [`Policy::build`]).
    pub fn build(self) -> Result<Policy, ConfigError> {
        Policy::build(&self)
    }
}

/// The configuration's fingerprint: equal configurations get equal stamps, so their ids
/// are interchangeable; any other policy's ids are recognised as foreign.
///
/// Hashed with the Fx hasher, eight bytes a step: the stamp is never stored or compared
/// across processes, and SipHash over a million entries' strings was an eighth of the
/// build. Every step of Fx is a bijection of the state, so configurations that differ in
/// one word always differ before the fold to 32 bits.
fn stamp_of(cfg: &PolicyConfig) -> Stamp {
    use std::hash::{Hash, Hasher};
    let mut h = FxHasher::default();
    cfg.hash(&mut h);
    let x = h.finish();
    Stamp((x ^ (x >> 32)) as u32)
}

impl Policy {
    /// Validates a configuration and builds the policy.
    pub fn build(cfg: &PolicyConfig) -> Result<Policy, ConfigError> {
        validate_limits(&cfg.limits)?;
        let stamp = stamp_of(cfg);
        let org = cfg.organisation.trim().to_ascii_lowercase();
        if Address::parse(&format!("x@{org}")).is_err() {
            return Err(ConfigError::Organisation {
                value: cfg.organisation.clone(),
            });
        }
        let accepted = AcceptedDomains::build(&cfg.accepted_domains)?;
        let delivery_domain = match cfg.delivery_domain.as_deref().map(str::trim) {
            Some(d) if Address::parse(&format!("x@{d}")).is_err() => {
                return Err(ConfigError::DeliveryDomain {
                    value: d.to_owned(),
                });
            }
            Some(d) => Some(d.to_ascii_lowercase()),
            None => None,
        };
        let dir = Directory::build(&cfg.entries, &cfg.limits, delivery_domain.as_deref(), stamp)?;
        let (connectors, connector_names) = build_connectors(cfg, &dir, stamp)?;
        let journal = JournalIndex::build(cfg, &dir, &connectors, stamp)?;
        let render_key = derive_key(&org, &cfg.render_secret);
        let postmaster = std::iter::once(org.as_str())
            .chain(cfg.accepted_domains.iter().map(|d| d.trim()))
            .filter_map(|d| Address::parse(&format!("postmaster@{d}")).ok())
            .find_map(|a| dir.by_address(&a));
        let policy = Policy {
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
            directory_warnings: cfg.directory_warnings.clone(),
            stamp,
            postmaster,
        };
        if cfg.strict {
            let findings = policy.audit();
            if !findings.is_empty() {
                return Err(ConfigError::Strict { findings });
            }
        }
        Ok(policy)
    }

    /// The organisation's domain (lower-cased).
    pub fn organisation(&self) -> &str {
        &self.organisation
    }

    /// Whether `domain` is one of the organisation's accepted domains.
    pub fn is_accepted_domain(&self, domain: &str) -> bool {
        self.accepted.contains(&domain.to_ascii_lowercase())
    }

    /// An entry by id; `None` for an id another policy issued.
    pub fn entry(&self, id: EntryId) -> Option<&Entry> {
        (id.stamp() == self.stamp)
            .then(|| self.dir.get(id))
            .flatten()
    }

    /// All entries, in configuration order.
    pub fn entries(&self) -> impl Iterator<Item = (EntryId, &Entry)> {
        self.dir
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (EntryId::new(i as u32, self.stamp), e))
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

    /// A connector by id; `None` for an id another policy issued.
    pub fn connector(&self, id: ConnectorId) -> Option<&Connector> {
        (id.stamp() == self.stamp)
            .then(|| self.connectors.get(id.index()))
            .flatten()
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
            .map(|(i, c)| (ConnectorId::new(i as u32, self.stamp), c))
    }

    /// A journal rule by id; `None` for an id another policy issued.
    pub fn rule(&self, id: RuleId) -> Option<&JournalRule> {
        (id.stamp() == self.stamp)
            .then(|| self.journal.rules.get(id.index()))
            .flatten()
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
}

/// `Policy` is shared across threads behind an `Arc`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
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

fn validate_limits(limits: &Limits) -> Result<(), ConfigError> {
    for (name, value) in [
        ("max_recipients", limits.max_recipients),
        ("max_list_members", limits.max_list_members),
        ("max_nesting_depth", limits.max_nesting_depth),
        ("max_header_bytes", limits.max_header_bytes),
        ("max_expansion", limits.max_expansion),
    ] {
        if value == 0 {
            return Err(ConfigError::Limit {
                name,
                value,
                reason: "must be at least 1",
            });
        }
    }
    if limits.max_expansion < limits.max_list_members {
        return Err(ConfigError::Limit {
            name: "max_expansion",
            value: limits.max_expansion,
            reason: "must be at least max_list_members, or a permitted list could never be expanded",
        });
    }
    Ok(())
}
