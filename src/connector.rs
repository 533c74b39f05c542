//! Connectors: Internet Mail Service instances with address spaces, delivery
//! restrictions, Message Archival and per-direction journal settings.
//!
//! The engine never connects anywhere; a connector's next hop is output for the transport.

use std::fmt;

use crate::directory::EntryId;
use crate::proptag::PropTag;
use crate::restrict::{Restrictions, RestrictionsConfig};
use crate::route::Pattern;

/// Identifies a connector of a built [`Policy`](crate::Policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectorId(pub(crate) u32);

impl ConnectorId {
    /// The connector's position in the configuration's connector list.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The direction a message crosses a connector in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Arriving from the Internet.
    Inbound,
    /// Leaving for the Internet.
    Outbound,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        })
    }
}

/// An SMTP address space of a connector: a pattern and a cost.
#[derive(Clone, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalSettings {
    /// Where every message in this direction is journaled (`InboundJournal`), as a
    /// reference: name, SMTP address or `X500:` distinguished name.
    pub target: Option<String>,
    /// The journal-NDR address (`InboundJournalNDR`): the envelope sender of the journal
    /// copies, so that their non-delivery reports go there. Mandatory when the direction
    /// journals at all.
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// A compiled address space.
#[derive(Clone, Debug)]
pub(crate) struct CompiledSpace {
    pub pattern: Pattern,
    pub cost: u32,
}

/// Compiled journal settings of one direction (present only when it journals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DirectionJournal {
    pub target: Option<EntryId>,
    pub ndr: EntryId,
    pub property: Option<PropTag>,
}

/// A built connector.
#[derive(Clone, Debug)]
pub struct Connector {
    pub(crate) name: Box<str>,
    pub(crate) spaces: Box<[CompiledSpace]>,
    pub(crate) restrictions: Restrictions,
    pub(crate) archival: bool,
    pub(crate) inbound: Option<DirectionJournal>,
    pub(crate) outbound: Option<DirectionJournal>,
    pub(crate) accepts_inbound: bool,
    pub(crate) next_hop: NextHop,
}

impl Connector {
    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Whether Message Archival is on.
    pub fn archival(&self) -> bool {
        self.archival
    }
    /// Whether it receives mail from the Internet.
    pub fn accepts_inbound(&self) -> bool {
        self.accepts_inbound
    }
    /// Where outbound mail goes next.
    pub fn next_hop(&self) -> &NextHop {
        &self.next_hop
    }
    /// Whether anyone may send through it.
    pub fn is_unrestricted(&self) -> bool {
        self.restrictions.is_unrestricted()
    }
    /// The address-space patterns and costs, as configured (patterns lower-cased).
    pub fn address_spaces(&self) -> impl Iterator<Item = (&str, u32)> {
        self.spaces.iter().map(|s| (s.pattern.as_str(), s.cost))
    }
    /// Whether the given direction journals.
    pub fn journals(&self, direction: Direction) -> bool {
        self.journal(direction).is_some()
    }
    pub(crate) fn journal(&self, direction: Direction) -> Option<&DirectionJournal> {
        match direction {
            Direction::Inbound => self.inbound.as_ref(),
            Direction::Outbound => self.outbound.as_ref(),
        }
    }
}
