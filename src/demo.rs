//! Sample data, not API: a built-in demo organisation that expresses the seed scenarios
//! in one policy, for the examples, the doctests and a first look. Its contents may change
//! in any release; build your own policy with [`PolicyConfig`] or a
//! policy file. (`examples/policy.toml` is the same organisation as a file.)
//!
//! `example.com`, with:
//!
//! * **Q258557** — `alice` is on the reject list of the main connector `IMS-Main` and on
//!   the accept list of `IMS-Archive` (Message Archival on, relaying to `IMS-Main`), so her
//!   Internet mail, and only hers, is archived.
//! * **Q262122** — both connectors journal inbound and outbound mail to the hidden list
//!   `Journal-DL` (two hidden mailboxes without SMTP addresses), named by its X.500
//!   address, with NDRs to `InboundJournalNDR` / `OutboundJournalNDR`; the journal
//!   mailboxes are delivered to at `name@store.example.internal` (the delivery domain).
//! * **Per-recipient journaling** — `InboundRecipJournalProp` = `0x80360000`: carol's
//!   custom attribute 10 names the hidden list `Branch-Managers-Journal`.
//! * **Restrictions** — `ceo` accepts mail only from `Managers` and rejects `Interns`
//!   (erin is in both: reject wins).
//! * A journal rule copying all mail to or from `legal` to `Legal-Journal`.
//!
//! ```
//! let policy = mail_journal::demo::policy()?;
//! assert!(policy.connector_id("IMS-Archive").is_some());
//! # Ok::<(), mail_journal::ConfigError>(())
//! ```

use crate::config::PolicyConfig;
use crate::config::connector::{AddressSpace, ConnectorConfig, JournalSettings, NextHop};
use crate::config::entry::EntryConfig;
use crate::config::error::ConfigError;
use crate::config::restrictions::RestrictionsConfig;
use crate::config::rule::{JournalRuleConfig, JournalScope};
use crate::policy::compiled::Policy;
use crate::proptag::PropTag;

/// The X.500 address of the demo's hidden journal list.
pub const JOURNAL_DL_X500: &str = "X500:/o=Example/ou=HQ/cn=Recipients/cn=Journal-DL";
/// The X.500 address of the list carol's custom attribute 10 names.
pub const BRANCH_JOURNAL_X500: &str =
    "X500:/o=Example/ou=HQ/cn=Recipients/cn=Branch-Managers-Journal";

fn x500(cn: &str) -> String {
    format!("X500:/o=Example/ou=HQ/cn=Recipients/cn={cn}")
}

fn person(name: &str, display: &str) -> EntryConfig {
    EntryConfig::mailbox(name)
        .display_name(display)
        .proxy(format!("SMTP:{name}@example.com"))
        .proxy(x500(name))
}

fn hidden_mailbox(name: &str) -> EntryConfig {
    EntryConfig::mailbox(name).proxy(x500(name)).hidden(true)
}

/// The demo configuration.
pub fn config() -> PolicyConfig {
    // Custom attribute 10 always exists; `if let` keeps the library free of unwraps.
    let ca10 = PropTag::from_u32(0x8036_0000);
    let mut carol = person("carol", "Carol Jones");
    if let Ok(tag) = ca10 {
        carol = carol.property(tag, BRANCH_JOURNAL_X500);
    }
    let journal = |ndr: &str| {
        let mut s = JournalSettings::to(JOURNAL_DL_X500, ndr);
        if let Ok(tag) = ca10 {
            s = s.recipient_property(tag);
        }
        s
    };
    PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("alice", "Alice Smith"))
        .entry(carol)
        .entry(person("dave", "Dave Brown"))
        .entry(person("erin", "Erin Intern"))
        .entry(person("frank", "Frank Manager"))
        .entry(person("legal", "Legal Department"))
        .entry(
            person("ceo", "The CEO").restrictions(
                RestrictionsConfig::accept_only(["Managers"]).and_reject(["Interns"]),
            ),
        )
        .entry(
            EntryConfig::distribution_list("Sales", ["carol", "dave"])
                .proxy("SMTP:sales@example.com"),
        )
        .entry(
            EntryConfig::distribution_list("Managers", ["carol", "frank", "erin"])
                .proxy("SMTP:managers@example.com"),
        )
        .entry(
            EntryConfig::distribution_list("Interns", ["erin"]).proxy("SMTP:interns@example.com"),
        )
        .entry(
            EntryConfig::distribution_list("Journal-DL", ["journal1", "journal2"])
                .proxy(JOURNAL_DL_X500)
                .hidden(true),
        )
        .entry(hidden_mailbox("journal1"))
        .entry(hidden_mailbox("journal2"))
        .entry(
            EntryConfig::distribution_list("Branch-Managers-Journal", ["frank-journal"])
                .proxy(BRANCH_JOURNAL_X500)
                .hidden(true),
        )
        .entry(hidden_mailbox("frank-journal"))
        .entry(
            EntryConfig::distribution_list("Legal-Journal", ["legal-journal-box"])
                .proxy(x500("Legal-Journal"))
                .hidden(true),
        )
        .entry(hidden_mailbox("legal-journal-box"))
        .entry(hidden_mailbox("InboundJournalNDR").proxy("SMTP:inbound-journal-ndr@example.com"))
        .entry(hidden_mailbox("OutboundJournalNDR").proxy("SMTP:outbound-journal-ndr@example.com"))
        .entry(hidden_mailbox("RulesJournalNDR").proxy("SMTP:rules-journal-ndr@example.com"))
        .connector(
            ConnectorConfig::new("IMS-Main")
                .address_space(AddressSpace::new("*", 1))
                .restrictions(RestrictionsConfig::reject(["alice"]))
                .inbound_journal(journal("InboundJournalNDR"))
                .outbound_journal(journal("OutboundJournalNDR")),
        )
        .connector(
            ConnectorConfig::new("IMS-Archive")
                .address_space(AddressSpace::new("*", 1))
                .restrictions(RestrictionsConfig::accept_only(["alice"]))
                .archival(true)
                .accepts_inbound(false)
                .outbound_journal(journal("OutboundJournalNDR"))
                .next_hop(NextHop::Connector("IMS-Main".into())),
        )
        .journal_rule(
            JournalRuleConfig::new("legal-matters", JournalScope::Global, "Legal-Journal")
                .recipient("legal"),
        )
        .rules_ndr("RulesJournalNDR")
        // A real deployment keeps a long random value here, out of version control.
        .render_secret("demo-secret-not-for-production")
        // The journal mailboxes have no SMTP address (as the seed advises): a transport
        // delivers to them at name@store.example.internal.
        .delivery_domain("store.example.internal")
}

/// The demo policy, built.
pub fn policy() -> Result<Policy, ConfigError> {
    config().build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds_and_audits_cleanly() {
        let p = super::policy().unwrap();
        // IMS-Main rejects alice, whom only IMS-Archive accepts: every sender's mail
        // leaves where it is meant to, archived or not, and both connectors journal.
        let audit = p.audit();
        assert!(audit.is_empty(), "{audit:#?}");
    }
}
