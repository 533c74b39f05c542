//! Connectors as configured: Internet Mail Service instances with address spaces,
//! delivery restrictions, Message Archival, per-direction journal settings and a next hop.
//!
//! The engine never connects anywhere; a connector's next hop is output for the transport.

use crate::config::restrictions::RestrictionsConfig;
use crate::ids::Direction;
use crate::proptag::PropTag;

/// An SMTP address space of a connector: a pattern and a cost.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AddressSpace {
    /// The pattern, matched against the whole address case-insensitively: `*` matches
    /// any run of characters, `%` exactly one (`*`, `*@example.com`, `*.example.com`).
    pub pattern: String,
    /// Cost 1–100; lower is preferred, 100 is used only when nothing cheaper matches.
    pub cost: u32,
}

impl AddressSpace {
    /// An address space.
    pub fn new(pattern: impl Into<String>, cost: u32) -> Self {
        AddressSpace {
            pattern: pattern.into(),
            cost,
        }
    }
}

/// Journal settings for one direction of a connector — the registry values
/// `InboundJournal` / `InboundJournalNDR` / `InboundRecipJournalProp` and their
/// `Outbound` twins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct JournalSettings {
    /// Where every message in this direction is journaled (`InboundJournal`), as a
    /// reference: name, SMTP address or `X500:` distinguished name.
    pub target: Option<String>,
    /// The journal-NDR address (`InboundJournalNDR`): the envelope sender of the journal
    /// copies, so that their non-delivery reports go there. Mandatory when the direction
    /// journals at all. It receives copies too (a per-recipient value that names nothing
    /// falls back to it), so, like a journal target, everyone it expands to must be
    /// reachable: each mailbox or public folder needs a delivery address and each contact
    /// a connector that routes it, or the build fails with
    /// [`ConfigError::Undeliverable`](crate::ConfigError::Undeliverable) /
    /// [`ConfigError::UnroutableTarget`](crate::ConfigError::UnroutableTarget).
    pub ndr: Option<String>,
    /// The directory property that names a per-recipient journal target
    /// (`InboundRecipJournalProp`, e.g. `0x80360000` = custom attribute 10).
    pub recipient_property: Option<PropTag>,
}

impl JournalSettings {
    /// Journal everything in this direction to `target`, with NDRs to `ndr`.
    pub fn to(target: impl Into<String>, ndr: impl Into<String>) -> Self {
        JournalSettings {
            target: Some(target.into()),
            ndr: Some(ndr.into()),
            recipient_property: None,
        }
    }

    /// Sets the global target.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Sets the journal-NDR address.
    pub fn ndr(mut self, ndr: impl Into<String>) -> Self {
        self.ndr = Some(ndr.into());
        self
    }

    /// Sets the per-recipient journal property.
    pub fn recipient_property(mut self, tag: PropTag) -> Self {
        self.recipient_property = Some(tag);
        self
    }

    /// `true` when this direction journals at all.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some() || self.recipient_property.is_some()
    }
}

/// Where a connector hands mail next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NextHop {
    /// Look up the recipient domain's MX records.
    #[default]
    Dns,
    /// Relay everything to this smart host.
    Smarthost(String),
    /// Relay everything through another connector (seed Q258557's archiving connector
    /// relays to the main one).
    Connector(String),
}

impl std::fmt::Display for NextHop {
    /// `DNS (MX records)`, `smart host mx.example.net`, `connector IMS-Main`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NextHop::Dns => f.write_str("DNS (MX records)"),
            NextHop::Smarthost(h) => write!(f, "smart host {h}"),
            NextHop::Connector(c) => write!(f, "connector {c}"),
        }
    }
}

/// A connector journal setting as the configuration file and the registry name it:
/// `inbound_journal.ndr (InboundJournalNDR)`. `field` is `target`, `ndr` or
/// `recipient_property`.
pub(crate) fn journal_key(direction: Direction, field: &str) -> String {
    let registry = match field {
        "target" => "Journal",
        "ndr" => "JournalNDR",
        _ => "RecipJournalProp",
    };
    let key = match direction {
        Direction::Inbound => "inbound_journal",
        Direction::Outbound => "outbound_journal",
    };
    format!("{key}.{field} ({direction}{registry})")
}

/// A connector as configured.
///
/// ```
/// use mail_journal::{AddressSpace, ConnectorConfig, NextHop, RestrictionsConfig};
/// let archive = ConnectorConfig::new("IMS-Archive")
///     .address_space(AddressSpace::new("*", 1))
///     .restrictions(RestrictionsConfig::accept_only(["alice"]))
///     .archival(true)
///     .next_hop(NextHop::Connector("IMS-Main".into()));
/// assert!(archive.archival);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ConnectorConfig {
    /// Unique name.
    pub name: String,
    /// SMTP address spaces this connector routes.
    pub address_spaces: Vec<AddressSpace>,
    /// Who may send through this connector.
    pub restrictions: RestrictionsConfig,
    /// Message Archival: keep a copy of every message crossing this connector.
    pub archival: bool,
    /// Journal settings for mail arriving on this connector.
    pub inbound_journal: JournalSettings,
    /// Journal settings for mail leaving through this connector.
    pub outbound_journal: JournalSettings,
    /// Whether the connector receives mail from the Internet.
    pub accepts_inbound: bool,
    /// Where outbound mail goes next.
    pub next_hop: NextHop,
}

impl ConnectorConfig {
    /// A connector with no address space, no restrictions, archival off, no journaling,
    /// accepting inbound mail, delivering by DNS.
    pub fn new(name: impl Into<String>) -> Self {
        ConnectorConfig {
            name: name.into(),
            address_spaces: Vec::new(),
            restrictions: RestrictionsConfig::default(),
            archival: false,
            inbound_journal: JournalSettings::default(),
            outbound_journal: JournalSettings::default(),
            accepts_inbound: true,
            next_hop: NextHop::Dns,
        }
    }

    /// Adds an address space.
    pub fn address_space(mut self, space: AddressSpace) -> Self {
        self.address_spaces.push(space);
        self
    }

    /// Sets the delivery restrictions.
    pub fn restrictions(mut self, restrictions: RestrictionsConfig) -> Self {
        self.restrictions = restrictions;
        self
    }

    /// Turns Message Archival on or off.
    pub fn archival(mut self, on: bool) -> Self {
        self.archival = on;
        self
    }

    /// Sets the inbound journal settings.
    pub fn inbound_journal(mut self, settings: JournalSettings) -> Self {
        self.inbound_journal = settings;
        self
    }

    /// Sets the outbound journal settings.
    pub fn outbound_journal(mut self, settings: JournalSettings) -> Self {
        self.outbound_journal = settings;
        self
    }

    /// Whether the connector receives mail from the Internet.
    pub fn accepts_inbound(mut self, yes: bool) -> Self {
        self.accepts_inbound = yes;
        self
    }

    /// Sets the next hop.
    pub fn next_hop(mut self, hop: NextHop) -> Self {
        self.next_hop = hop;
        self
    }

    /// The journal settings of one direction.
    pub fn journal(&self, direction: Direction) -> &JournalSettings {
        match direction {
            Direction::Inbound => &self.inbound_journal,
            Direction::Outbound => &self.outbound_journal,
        }
    }
}
