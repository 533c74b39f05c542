//! [`Policy::audit`]: risky configuration, in words an operator acts on.

use std::fmt;

use crate::ids::EntryId;
use crate::policy::compiled::Policy;
use crate::policy::directory::EntryKind;
use crate::policy::journal::JournalRole;

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
