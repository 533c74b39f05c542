//! The journal copies of one message: every source that asks (connector settings, the
//! parties' per-recipient properties, rules), grouped into one copy per journal-NDR
//! address, addressed to the union of their targets.

use smallvec::SmallVec;

use crate::config::JournalFormat;
use crate::config::rule::JournalScope;
use crate::decide::decision::{Destination, JournalCopy, JournalReason, JournalSource, Warning};
use crate::ids::{ConnectorId, Direction, EntryId};
use crate::policy::connector::{Connector, DirectionJournal};
use crate::policy::directory::{Directory, EntryKind};
use crate::policy::journal::{JournalIndex, JournalRule, PropValue};
use crate::policy::route::{Route, route};

/// What the engine learned about a message that journaling depends on.
pub(crate) struct JournalInputs<'a> {
    pub inbound: Option<ConnectorId>,
    pub outbound: &'a [ConnectorId],
    /// The sender's entry (if it resolves) and every accepted directory party.
    pub parties: &'a [EntryId],
    pub internal: bool,
    pub external: bool,
    pub format: JournalFormat,
}

impl JournalIndex {
    fn rule_matches(rule: &JournalRule, inputs: &JournalInputs<'_>) -> bool {
        if !rule.enabled {
            return false;
        }
        let scope_ok = match rule.scope {
            JournalScope::Global => true,
            JournalScope::Internal => inputs.internal,
            JournalScope::External => inputs.external,
        };
        scope_ok
            && (rule.recipient.is_none()
                || inputs
                    .parties
                    .iter()
                    .any(|p| rule.match_set.binary_search(p).is_ok()))
    }

    fn direction_reasons(
        &self,
        c: ConnectorId,
        d: Direction,
        j: &DirectionJournal,
        inputs: &JournalInputs<'_>,
        reasons: &mut SmallVec<[(EntryId, JournalReason); 4]>,
        warnings: &mut Vec<Warning>,
    ) {
        if let Some(t) = j.target {
            reasons.push((
                j.ndr,
                JournalReason {
                    source: JournalSource::Connector {
                        connector: c,
                        direction: d,
                    },
                    target: t,
                },
            ));
        }
        let Some(property) = j.property else { return };
        if self.props.is_empty() {
            return;
        }
        for &entry in inputs.parties {
            let target = match self.props.get(&(property, entry)) {
                None => continue,
                Some(PropValue::Target(t)) => *t,
                Some(PropValue::Unresolved(v)) => {
                    let w = Warning::UnresolvedJournalProperty {
                        entry,
                        property,
                        value: v.clone(),
                    };
                    if !warnings.contains(&w) {
                        warnings.push(w);
                    }
                    j.ndr
                }
            };
            let source = JournalSource::RecipientProperty {
                connector: c,
                direction: d,
                entry,
                property,
            };
            reasons.push((j.ndr, JournalReason { source, target }));
        }
    }

    /// Collects the journal copies for one message.
    pub(crate) fn collect(
        &self,
        dir: &Directory,
        connectors: &[Connector],
        inputs: &JournalInputs<'_>,
        envelope_id: &str,
        copies: &mut SmallVec<[JournalCopy; 1]>,
        warnings: &mut Vec<Warning>,
    ) {
        let mut reasons: SmallVec<[(EntryId, JournalReason); 4]> = SmallVec::new();
        let directions = inputs
            .inbound
            .map(|c| (c, Direction::Inbound))
            .into_iter()
            .chain(inputs.outbound.iter().map(|&c| (c, Direction::Outbound)));
        for (c, d) in directions {
            if let Some(j) = connectors.get(c.index()).and_then(|conn| conn.journal(d)) {
                self.direction_reasons(c, d, j, inputs, &mut reasons, warnings);
            }
        }
        if let Some(ndr) = self.rules_ndr {
            for rule in &self.rules {
                if Self::rule_matches(rule, inputs) {
                    reasons.push((
                        ndr,
                        JournalReason {
                            source: JournalSource::Rule(rule.id),
                            target: rule.target,
                        },
                    ));
                }
            }
        }
        if reasons.is_empty() {
            return;
        }
        reasons.sort_unstable();
        reasons.dedup();
        let mut rest = &reasons[..];
        while let Some(&(ndr, _)) = rest.first() {
            let n = rest.iter().take_while(|(x, _)| *x == ndr).count();
            let (group, tail) = rest.split_at(n);
            rest = tail;
            let Some(reverse_path) = dir.get(ndr).and_then(|e| e.primary_smtp()).cloned() else {
                continue;
            };
            let mut recipients: SmallVec<[Destination; 4]> = SmallVec::new();
            let mut last_target = None;
            for (_, reason) in group {
                if last_target == Some(reason.target) {
                    continue;
                }
                last_target = Some(reason.target);
                expand_target(dir, connectors, reason.target, envelope_id, &mut recipients);
            }
            recipients.sort_unstable();
            recipients.dedup();
            copies.push(JournalCopy {
                ndr,
                reverse_path,
                recipients,
                reasons: group.iter().map(|(_, r)| *r).collect(),
                format: inputs.format,
            });
        }
    }
}

/// Expands a journal target into final destinations. Restrictions never apply: journal
/// copies are system messages.
fn expand_target(
    dir: &Directory,
    connectors: &[Connector],
    target: EntryId,
    envelope_id: &str,
    out: &mut SmallVec<[Destination; 4]>,
) {
    for id in dir.flattened(target) {
        let Some(e) = dir.get(id) else { continue };
        match e.kind() {
            EntryKind::DistributionList => {}
            EntryKind::Contact => {
                if let Some(address) = e.contact_target() {
                    if let Route::Via(connector) = route(connectors, address, None, envelope_id) {
                        out.push(Destination::External {
                            address: address.clone(),
                            connector,
                        });
                    }
                }
            }
            _ => out.push(Destination::Local(id)),
        }
    }
}
