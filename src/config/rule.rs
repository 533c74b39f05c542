//! Journal rules as configured (after Exchange 2007+ premium journaling).

use std::fmt;

/// Which mail a journal rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JournalScope {
    /// The sender is local and at least one recipient is local.
    Internal,
    /// The sender is not local, or at least one recipient is external.
    External,
    /// All mail.
    Global,
}

impl fmt::Display for JournalScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JournalScope::Internal => "internal",
            JournalScope::External => "external",
            JournalScope::Global => "global",
        })
    }
}

/// A journal rule as configured (after Exchange 2007+ premium journaling).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct JournalRuleConfig {
    /// Unique name.
    pub name: String,
    /// Which mail the rule looks at.
    pub scope: JournalScope,
    /// Only mail to or from this entry (a list means its members); all mail when `None`.
    pub recipient: Option<String>,
    /// Where copies go (a reference: name, SMTP address or distinguished name).
    pub target: String,
    /// Disabled rules are kept but ignored.
    pub enabled: bool,
}

impl JournalRuleConfig {
    /// An enabled rule journaling all mail of `scope` to `target`.
    pub fn new(name: impl Into<String>, scope: JournalScope, target: impl Into<String>) -> Self {
        JournalRuleConfig {
            name: name.into(),
            scope,
            recipient: None,
            target: target.into(),
            enabled: true,
        }
    }

    /// Restricts the rule to mail to or from `recipient`.
    pub fn recipient(mut self, recipient: impl Into<String>) -> Self {
        self.recipient = Some(recipient.into());
        self
    }

    /// Enables or disables the rule.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }
}
