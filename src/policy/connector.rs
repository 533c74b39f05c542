//! Connectors, built: address spaces compiled, restrictions flattened, journal settings
//! resolved. The engine never connects anywhere; a connector's next hop is output for the
//! transport.

use crate::config::PolicyConfig;
use crate::config::connector::{NextHop, journal_key};
use crate::config::error::ConfigError;
use crate::hash::FxHashMap;
use crate::ids::{ConnectorId, Direction, EntryId, Stamp};
use crate::policy::directory::Directory;
use crate::policy::pattern::Pattern;
use crate::policy::restrict::Restrictions;
use crate::proptag::PropTag;

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
    pub(crate) id: ConnectorId,
    pub(crate) name: Box<str>,
    pub(crate) spaces: Box<[CompiledSpace]>,
    pub(crate) restrictions: Restrictions,
    pub(crate) archival: bool,
    pub(crate) inbound: Option<DirectionJournal>,
    pub(crate) outbound: Option<DirectionJournal>,
    pub(crate) accepts_inbound: bool,
    pub(crate) next_hop: NextHop,
    /// The next hop with `Connector` chains followed.
    pub(crate) final_hop: NextHop,
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
    /// Where outbound mail goes next, as configured.
    pub fn next_hop(&self) -> &NextHop {
        &self.next_hop
    }
    /// Where outbound mail finally goes, `NextHop::Connector` chains followed: DNS or a
    /// smart host.
    pub fn final_hop(&self) -> &NextHop {
        &self.final_hop
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

/// Connector ids by lower-cased name.
pub(crate) type ConnectorNames = FxHashMap<Box<str>, ConnectorId>;

pub(crate) fn build_connectors(
    cfg: &PolicyConfig,
    dir: &Directory,
    stamp: Stamp,
) -> Result<(Vec<Connector>, ConnectorNames), ConfigError> {
    let mut names = ConnectorNames::default();
    for (i, c) in cfg.connectors.iter().enumerate() {
        let key = c.name.trim().to_ascii_lowercase();
        let id = ConnectorId::new(u32::try_from(i).unwrap_or(u32::MAX), stamp);
        if key.is_empty() || names.insert(key.into(), id).is_some() {
            return Err(ConfigError::DuplicateConnector {
                name: c.name.clone(),
            });
        }
    }
    let mut out = Vec::with_capacity(cfg.connectors.len());
    for (i, c) in cfg.connectors.iter().enumerate() {
        let id = ConnectorId::new(u32::try_from(i).unwrap_or(u32::MAX), stamp);
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
                    context: format!("connector {:?} {}", c.name, journal_key(d, what)),
                    value: value.to_owned(),
                })
            };
            let target = s
                .target
                .as_deref()
                .map(|t| resolve(t, "target"))
                .transpose()?;
            let ndr = s.ndr.as_deref().map(|n| resolve(n, "ndr")).transpose()?;
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
            id,
            name: c.name.trim().into(),
            spaces: spaces.into_boxed_slice(),
            restrictions,
            archival: c.archival,
            inbound: journal(Direction::Inbound)?,
            outbound: journal(Direction::Outbound)?,
            accepts_inbound: c.accepts_inbound,
            next_hop: c.next_hop.clone(),
            final_hop: NextHop::Dns,
        });
    }
    resolve_hops(&mut out, &names)?;
    Ok((out, names))
}

/// Follows every connector's `NextHop::Connector` chain to the DNS or smart host it ends
/// at; a chain that comes back to where it started is a configuration error naming it.
fn resolve_hops(connectors: &mut [Connector], names: &ConnectorNames) -> Result<(), ConfigError> {
    let by_name = |n: &str| names.get(n.trim().to_ascii_lowercase().as_str()).copied();
    let mut finals = Vec::with_capacity(connectors.len());
    for start in connectors.iter() {
        let mut chain = vec![start.name.to_string()];
        let mut hop = &start.next_hop;
        loop {
            let NextHop::Connector(next) = hop else {
                finals.push(hop.clone());
                break;
            };
            let Some(c) = by_name(next).and_then(|id| connectors.get(id.index())) else {
                finals.push(NextHop::Dns);
                break;
            };
            let seen = chain.iter().any(|n| n.eq_ignore_ascii_case(&c.name));
            chain.push(c.name.to_string());
            if seen {
                return Err(ConfigError::NextHopLoop {
                    cycle: chain.join(" -> "),
                });
            }
            hop = &c.next_hop;
        }
    }
    for (c, f) in connectors.iter_mut().zip(finals) {
        c.final_hop = f;
    }
    Ok(())
}
