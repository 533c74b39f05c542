//! What [`Policy::audit`](crate::Policy::audit) reports: risky configuration, in words an
//! operator acts on.

use std::fmt;

use crate::ids::Direction;

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

/// A risky piece of configuration reported by [`Policy::audit`](crate::Policy::audit).
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
        /// The archiving connector the senders' mail could have taken.
        archiving: String,
        /// The senders (entry names) whose mail can take it; empty for any sender.
        senders: Vec<String>,
    },
    /// A reference dropped while reading an LDIF directory export in lenient mode.
    DirectoryReference {
        /// The warning, naming the entry, the attribute, the distinguished name and where.
        message: String,
    },
    /// Mail can leave (or arrive) through a connector that does not journal it while
    /// another connector journals that direction, and no journal rule covers it.
    UnjournaledRoute {
        /// The connector that does not journal.
        connector: String,
        /// The direction.
        direction: Direction,
        /// A connector that does journal the direction.
        journaling: String,
        /// The senders (entry names) whose mail can take the route; empty for any sender.
        senders: Vec<String>,
    },
}

/// `alice, bob and 3 more` / `any sender`.
fn who(senders: &[String]) -> String {
    match senders {
        [] => "any sender".to_owned(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [a, b, c] => format!("{a}, {b} and {c}"),
        [a, b, c, rest @ ..] => format!("{a}, {b}, {c} and {} more", rest.len()),
    }
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
                senders,
            } => write!(
                f,
                "mail from {} can leave through connector {connector:?}, which has Message Archival off, instead of {archiving:?}, which archives it",
                who(senders)
            ),
            AuditWarning::DirectoryReference { message } => f.write_str(message),
            AuditWarning::UnjournaledRoute {
                connector,
                direction,
                journaling,
                senders,
            } => write!(
                f,
                "{} mail from {} can {} connector {connector:?}, which does not journal it, while {journaling:?} journals {} mail",
                direction.to_string().to_lowercase(),
                who(senders),
                if *direction == Direction::Inbound { "arrive on" } else { "leave through" },
                direction.to_string().to_lowercase(),
            ),
        }
    }
}
