//! The journal index, built once: connector journal settings (global and per-recipient
//! property) and journal rules resolved to entries, journal-NDR mailboxes checked, the
//! set of journal system mailboxes used for loop detection, and which entries can matter
//! as parties of a message. The per-message collection of copies is `decide`'s.

use crate::address::Address;
use crate::config::PolicyConfig;
use crate::config::connector::journal_key;
use crate::config::error::ConfigError;
use crate::config::findings::JournalRole;
use crate::config::rule::JournalScope;
use crate::hash::FxHashMap;
use crate::ids::{Direction, EntryId, RuleId, Stamp};
use crate::policy::connector::Connector;
use crate::policy::directory::{Directory, EntryKind};
use crate::policy::route::{Route, route};
use crate::proptag::PropTag;

/// A built journal rule.
#[derive(Clone, Debug)]
pub struct JournalRule {
    pub(crate) id: RuleId,
    name: Box<str>,
    pub(crate) scope: JournalScope,
    pub(crate) enabled: bool,
    pub(crate) recipient: Option<EntryId>,
    /// The recipient and its flattened members, sorted.
    pub(crate) match_set: Box<[EntryId]>,
    pub(crate) target: EntryId,
}

impl JournalRule {
    /// The rule's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its scope.
    pub fn scope(&self) -> JournalScope {
        self.scope
    }
    /// Whether it is enabled.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
    /// The entry whose mail it journals (all mail when `None`).
    pub fn recipient(&self) -> Option<EntryId> {
        self.recipient
    }
    /// Where its copies go.
    pub fn target(&self) -> EntryId {
        self.target
    }
}

/// A per-recipient journal property value, resolved at build time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PropValue {
    Target(EntryId),
    Unresolved(Box<str>),
}

/// Everything about journaling that `decide` needs, pre-computed.
#[derive(Clone, Debug, Default)]
pub(crate) struct JournalIndex {
    pub rules: Vec<JournalRule>,
    pub rules_ndr: Option<EntryId>,
    pub props: FxHashMap<(PropTag, EntryId), PropValue>,
    /// Journal-NDR mailboxes, sorted.
    ndrs: Vec<EntryId>,
    /// Journal targets, their flattened members and NDR mailboxes, sorted.
    system: Vec<EntryId>,
    /// External addresses of contacts among the journal targets, sorted.
    system_external: Vec<Address>,
    /// (entry, role) for the audit: targets and their members, and NDR mailboxes.
    roles: Vec<(EntryId, JournalRole)>,
    /// Per entry: whether journaling can use it as a party of a message (it holds a
    /// per-recipient journal value, or a rule names it). Others need not be collected.
    party_flags: Box<[bool]>,
    /// Per list with such parties below it: those parties (for the fast path of open
    /// lists, which does not visit members one by one).
    list_parties: FxHashMap<EntryId, Box<[EntryId]>>,
}

impl JournalIndex {
    pub(crate) fn build(
        cfg: &PolicyConfig,
        dir: &Directory,
        connectors: &[Connector],
        stamp: Stamp,
    ) -> Result<Self, ConfigError> {
        let mut idx = JournalIndex::default();
        let mut tags: Vec<PropTag> = Vec::new();
        for c in connectors {
            for d in [Direction::Inbound, Direction::Outbound] {
                let Some(j) = c.journal(d) else { continue };
                let ctx = format!("connector {:?} {}", c.name(), journal_key(d, "ndr"));
                idx.add_ndr(dir, connectors, j.ndr, &ctx)?;
                if let Some(t) = j.target {
                    let ctx = format!("connector {:?} {}", c.name(), journal_key(d, "target"));
                    idx.add_target(dir, connectors, t, &ctx)?;
                }
                if let Some(p) = j.property {
                    if !tags.contains(&p) {
                        tags.push(p);
                    }
                }
            }
        }
        // Rules.
        let mut names: Vec<String> = Vec::new();
        for r in &cfg.journal_rules {
            let key = r.name.trim().to_ascii_lowercase();
            if key.is_empty() || names.contains(&key) {
                return Err(ConfigError::DuplicateRule {
                    name: r.name.clone(),
                });
            }
            names.push(key);
            let ctx = format!("journal rule {:?}", r.name);
            let target = dir
                .resolve(&r.target)
                .ok_or_else(|| ConfigError::Unresolved {
                    context: format!("{ctx} target"),
                    value: r.target.clone(),
                })?;
            let recipient = r
                .recipient
                .as_deref()
                .map(|v| {
                    dir.resolve(v).ok_or_else(|| ConfigError::Unresolved {
                        context: format!("{ctx} recipient"),
                        value: v.to_owned(),
                    })
                })
                .transpose()?;
            let mut match_set: Vec<EntryId> = recipient
                .map(|r| dir.flattened(r).collect())
                .unwrap_or_default();
            match_set.sort_unstable();
            match_set.dedup();
            if r.enabled {
                idx.add_target(dir, connectors, target, &ctx)?;
            }
            let id = RuleId::new(u32::try_from(idx.rules.len()).unwrap_or(u32::MAX), stamp);
            idx.rules.push(JournalRule {
                id,
                name: r.name.trim().into(),
                scope: r.scope,
                enabled: r.enabled,
                recipient,
                match_set: match_set.into_boxed_slice(),
                target,
            });
        }
        if let Some(ndr) = cfg.rules_ndr.as_deref() {
            let id = dir.resolve(ndr).ok_or_else(|| ConfigError::Unresolved {
                context: "rules_ndr (the journal rules' NDR address)".into(),
                value: ndr.to_owned(),
            })?;
            idx.add_ndr(
                dir,
                connectors,
                id,
                "rules_ndr (the journal rules' NDR address)",
            )?;
            idx.rules_ndr = Some(id);
        } else if let Some(r) = cfg.journal_rules.iter().find(|r| r.enabled) {
            return Err(ConfigError::MissingRulesNdr {
                rule: r.name.clone(),
            });
        }
        // Per-recipient property values.
        for tag in tags {
            for (i, e) in dir.entries.iter().enumerate() {
                let Some(v) = e.property(tag) else { continue };
                let v = v.trim();
                if v.is_empty() {
                    continue;
                }
                let id = dir.id(i);
                let ctx = format!("entry {:?} {tag}", e.name());
                // A value that names nothing usable falls back to the NDR mailbox (with a
                // warning); one that names mailboxes no transport can reach is an error.
                let value = match dir
                    .resolve(v)
                    .map(|t| (t, idx.add_target(dir, connectors, t, &ctx)))
                {
                    Some((t, Ok(()))) => PropValue::Target(t),
                    Some((_, Err(e @ ConfigError::Undeliverable { .. }))) => return Err(e),
                    _ => PropValue::Unresolved(v.into()),
                };
                idx.props.insert((tag, id), value);
            }
        }
        let mut flags = vec![false; dir.entries.len()];
        for (_, id) in idx.props.keys() {
            if let Some(f) = flags.get_mut(id.index()) {
                *f = true;
            }
        }
        for r in idx.rules.iter().filter(|r| r.enabled) {
            for id in r.match_set.iter() {
                if let Some(f) = flags.get_mut(id.index()) {
                    *f = true;
                }
            }
        }
        for (i, e) in dir.entries.iter().enumerate() {
            if e.kind() != EntryKind::DistributionList {
                continue;
            }
            let id = dir.id(i);
            let mut ps: Vec<EntryId> = dir
                .flattened(id)
                .skip(1)
                .filter(|m| flags.get(m.index()).copied().unwrap_or(false))
                .collect();
            if !ps.is_empty() {
                ps.sort_unstable();
                ps.dedup();
                idx.list_parties.insert(id, ps.into_boxed_slice());
            }
        }
        idx.party_flags = flags.into_boxed_slice();
        for v in [&mut idx.ndrs, &mut idx.system] {
            v.sort_unstable();
            v.dedup();
        }
        idx.system_external.sort();
        idx.system_external.dedup();
        Ok(idx)
    }

    fn add_ndr(
        &mut self,
        dir: &Directory,
        connectors: &[Connector],
        id: EntryId,
        ctx: &str,
    ) -> Result<(), ConfigError> {
        let Some(e) = dir.get(id) else {
            return Ok(());
        };
        let unusable = |reason| ConfigError::UnusableNdr {
            context: ctx.to_owned(),
            entry: e.name().to_owned(),
            reason,
        };
        if e.kind() == EntryKind::Contact {
            return Err(unusable(
                "is a contact: its reports would leave the organisation",
            ));
        }
        if e.primary_smtp().is_none() {
            return Err(unusable(
                "has no SMTP address to use as the envelope sender of journal copies",
            ));
        }
        // Copies fall back to the NDR mailbox when a per-recipient value resolves to
        // nothing, and its reports must land somewhere: it must reach a local mailbox.
        if !reaches_someone(dir, id, false) {
            return Err(unusable("reaches no local mailbox (an empty list?)"));
        }
        // Those copies, and the bounces of every journal copy, go to each of its
        // members, so each must be reachable like a journal target's.
        check_members(dir, connectors, id, ctx)?;
        self.ndrs.push(id);
        self.roles.push((id, JournalRole::Ndr));
        // A list as the NDR address: its members receive what the engine sends there
        // (per-recipient copies that fall back to it), so they are part of the journal
        // system too, and a report fed back to them is the engine's own output.
        for m in dir.flattened(id) {
            self.system.push(m);
            if let Some(addr) = dir.get(m).and_then(|e| e.contact_target()) {
                self.system_external.push(addr.clone());
            }
        }
        Ok(())
    }

    /// Records a target, its members, and checks external members are routable.
    fn add_target(
        &mut self,
        dir: &Directory,
        connectors: &[Connector],
        target: EntryId,
        ctx: &str,
    ) -> Result<(), ConfigError> {
        check_members(dir, connectors, target, ctx)?;
        if !reaches_someone(dir, target, true) {
            return Err(ConfigError::EmptyJournalTarget {
                context: ctx.to_owned(),
                target: dir
                    .get(target)
                    .map(|e| e.name().to_owned())
                    .unwrap_or_default(),
            });
        }
        for id in dir.flattened(target) {
            self.system.push(id);
            self.roles.push((id, JournalRole::Target));
            if let Some(addr) = dir.get(id).and_then(|e| e.contact_target()) {
                self.system_external.push(addr.clone());
            }
        }
        Ok(())
    }

    /// Whether journaling needs the list of directory parties of a message: when a
    /// per-recipient property is configured or a rule is restricted to a recipient.
    pub(crate) fn needs_parties(&self) -> bool {
        !self.props.is_empty()
            || self
                .rules
                .iter()
                .any(|r| r.enabled && r.recipient.is_some())
    }

    /// Whether journaling can use `id` as a party of a message.
    pub(crate) fn is_party(&self, id: EntryId) -> bool {
        self.party_flags.get(id.index()).copied().unwrap_or(false)
    }

    /// The journal parties below a list (see [`JournalIndex::is_party`]).
    pub(crate) fn list_parties(&self, list: EntryId) -> &[EntryId] {
        self.list_parties.get(&list).map_or(&[], |p| &p[..])
    }

    pub(crate) fn is_ndr(&self, id: EntryId) -> bool {
        self.ndrs.binary_search(&id).is_ok()
    }

    /// A journal target, member of one, or NDR mailbox.
    pub(crate) fn is_system(&self, id: EntryId) -> bool {
        self.system.binary_search(&id).is_ok()
    }

    pub(crate) fn is_system_external(&self, address: &Address) -> bool {
        self.system_external.binary_search(address).is_ok()
    }

    pub(crate) fn system_roles(&self) -> impl Iterator<Item = (EntryId, JournalRole)> + '_ {
        self.roles.iter().copied()
    }

    pub(crate) fn unresolved_values(&self) -> impl Iterator<Item = (EntryId, PropTag, &str)> {
        let mut v: Vec<_> = self
            .props
            .iter()
            .filter_map(|((tag, id), v)| match v {
                PropValue::Unresolved(s) => Some((*id, *tag, &**s)),
                PropValue::Target(_) => None,
            })
            .collect();
        v.sort();
        v.into_iter()
    }
}

/// Checks that everyone `target` expands to can be handed a copy: each contact is routed
/// by a connector and each mailbox or public folder has a delivery address.
fn check_members(
    dir: &Directory,
    connectors: &[Connector],
    target: EntryId,
    ctx: &str,
) -> Result<(), ConfigError> {
    for id in dir.flattened(target) {
        let Some(e) = dir.get(id) else { continue };
        if let Some(addr) = e.contact_target() {
            if route(connectors, addr, None, "") == Route::Unroutable {
                return Err(ConfigError::UnroutableTarget {
                    context: ctx.to_owned(),
                    address: addr.to_string(),
                });
            }
        }
        let local = matches!(e.kind(), EntryKind::Mailbox | EntryKind::PublicFolder);
        if local && e.delivery_address().is_none() {
            return Err(ConfigError::Undeliverable {
                context: ctx.to_owned(),
                entry: e.name().to_owned(),
            });
        }
    }
    Ok(())
}

/// Whether an entry reaches at least one final destination: a mailbox or public folder,
/// or (when `external` is allowed) a contact's address.
fn reaches_someone(dir: &Directory, id: EntryId, external: bool) -> bool {
    dir.flattened(id).any(|m| {
        dir.get(m).is_some_and(|e| match e.kind() {
            EntryKind::DistributionList => false,
            EntryKind::Contact => external && e.contact_target().is_some(),
            _ => true,
        })
    })
}
