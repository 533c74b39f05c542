//! [`Policy::audit`]: risky configuration, in words an operator acts on.

use crate::ids::EntryId;
use crate::policy::compiled::Policy;
use crate::policy::directory::EntryKind;
use crate::policy::findings::{AuditWarning, JournalRole};

impl Policy {
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
