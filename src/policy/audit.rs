//! [`Policy::audit`]: risky configuration, in words an operator acts on.

use crate::config::findings::{AuditWarning, JournalRole};
use crate::config::rule::JournalScope;
use crate::ids::{Direction, EntryId};
use crate::policy::compiled::Policy;
use crate::policy::connector::{CompiledSpace, Connector};
use crate::policy::directory::EntryKind;
use crate::policy::restrict::{Restrictions, SenderIdentity};

impl Policy {
    fn entry_name(&self, id: EntryId) -> String {
        self.entry(id)
            .map(|e| e.name().to_owned())
            .unwrap_or_default()
    }

    /// Risky configuration worth a look: journal mailboxes reachable by SMTP or visible
    /// in the address book, journaling to external contacts, per-recipient values that
    /// resolve to nothing, routes on which mail bypasses archival or journaling, and a
    /// missing render secret. With [`PolicyConfig::strict`](crate::PolicyConfig::strict)
    /// any finding makes the build fail.
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
        out.extend(
            self.directory_warnings
                .iter()
                .map(|m| AuditWarning::DirectoryReference { message: m.clone() }),
        );
        if !self.has_secret {
            out.push(AuditWarning::NoRenderSecret);
        }
        self.audit_archival(&mut out);
        self.audit_journal_routes(&mut out);
        out
    }
}

/// A connector's rank for one address space, as routing orders candidates (lower wins):
/// cost-100 spaces last, then the more specific, then the cheaper.
fn rank(s: &CompiledSpace) -> (bool, std::cmp::Reverse<(bool, usize)>, u32) {
    (
        s.cost >= 100,
        std::cmp::Reverse(s.pattern.specificity()),
        s.cost,
    )
}

/// Whether `y` can be chosen over `a` for some address: one of `y`'s address spaces is
/// not covered by any of `a`'s that ranks strictly better (a tie shares load, so `y`
/// takes some of that mail too).
fn can_win(y: &Connector, a: &Connector) -> bool {
    y.spaces.iter().any(|sy| {
        !a.spaces
            .iter()
            .any(|sa| sy.pattern.covered_by(&sa.pattern) && rank(sa) < rank(sy))
    })
}

/// A connector some sender can use: it routes something and its accept list, if any,
/// names somebody.
fn usable(c: &Connector) -> bool {
    !c.spaces.is_empty() && c.restrictions.accept_list().is_none_or(|l| !l.is_empty())
}

impl Policy {
    /// The senders (entry names) both restrictions admit; `None` for "any sender".
    fn admitted_by_both(&self, first: &Restrictions, second: &Restrictions) -> Option<Vec<String>> {
        let admits = |r: &Restrictions, e: EntryId| {
            r.check(SenderIdentity {
                entry: Some(e),
                trusted: true,
            })
            .is_ok()
        };
        let pool = match (first.accept_list(), second.accept_list()) {
            // Anyone outside both reject lists, senders outside the directory included.
            (None, None) => return None,
            (Some(l), _) | (None, Some(l)) => l,
        };
        let mut names: Vec<String> = pool
            .iter()
            .filter(|&&e| admits(first, e) && admits(second, e))
            .map(|&e| self.entry_name(e))
            .collect();
        names.sort();
        names.dedup();
        Some(names)
    }

    /// Mail that an archiving connector would archive but that can leave through a
    /// non-archiving one: every sender the archiving connector admits, checked against
    /// every other route.
    fn audit_archival(&self, out: &mut Vec<AuditWarning>) {
        for a in self.connectors.iter().filter(|c| c.archival && usable(c)) {
            for y in self.connectors.iter().filter(|c| !c.archival && usable(c)) {
                if !can_win(y, a) {
                    continue;
                }
                let senders = self.admitted_by_both(&a.restrictions, &y.restrictions);
                if senders.as_ref().is_some_and(Vec::is_empty) {
                    continue;
                }
                out.push(AuditWarning::ArchivalBypass {
                    connector: y.name().to_owned(),
                    archiving: a.name().to_owned(),
                    senders: senders.unwrap_or_default(),
                });
            }
        }
    }

    /// Routes on which mail escapes journaling while other routes journal it: for each
    /// direction some connector journals, every connector mail can take in that direction
    /// without journaling it (the one it actually crosses counts, not its next hop).
    fn audit_journal_routes(&self, out: &mut Vec<AuditWarning>) {
        let rules_cover_external = self.journal.rules.iter().any(|r| {
            r.enabled
                && r.recipient.is_none()
                && matches!(r.scope, JournalScope::External | JournalScope::Global)
        });
        if rules_cover_external {
            return;
        }
        for direction in [Direction::Inbound, Direction::Outbound] {
            let Some(journaling) = self.connectors.iter().find(|c| c.journals(direction)) else {
                continue;
            };
            for c in self.connectors.iter().filter(|c| !c.journals(direction)) {
                let senders = match direction {
                    Direction::Inbound if c.accepts_inbound => Vec::new(),
                    Direction::Inbound => continue,
                    Direction::Outbound if !usable(c) => continue,
                    Direction::Outbound => {
                        match self.admitted_by_both(&c.restrictions, &Restrictions::default()) {
                            Some(names) if names.is_empty() => continue,
                            Some(names) => names,
                            None => Vec::new(),
                        }
                    }
                };
                out.push(AuditWarning::UnjournaledRoute {
                    connector: c.name().to_owned(),
                    direction,
                    journaling: journaling.name().to_owned(),
                    senders,
                });
            }
        }
    }
}
