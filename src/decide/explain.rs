//! A readable account of a decision, with names instead of ids.

use std::fmt::Write;

use crate::address::Address;
use crate::decide::decision::{
    Decision, Destination, Disposition, JournalSource, Party, Via, Warning,
};
use crate::ids::{ConnectorId, EntryId};
use crate::policy::compiled::Policy;

impl Policy {
    fn name(&self, id: EntryId) -> &str {
        self.entry(id).map_or("?", |e| e.name())
    }

    fn connector_name(&self, id: ConnectorId) -> &str {
        self.connector(id).map_or("?", |c| c.name())
    }

    /// ` <- sales@example.com via Sales`: how a destination was reached, or nothing for a
    /// recipient addressed directly (its verdict line says it already).
    fn via_text(&self, d: &Decision, via: &Via, destination: Option<&Address>) -> String {
        let rcpt = d.envelope_recipient(via);
        if via.lists.is_empty() && (destination.is_none() || destination == rcpt) {
            return String::new();
        }
        let mut s = format!(" <- {}", rcpt.map(ToString::to_string).unwrap_or_default());
        for l in &via.lists {
            let _ = write!(s, " via {}", self.name(*l));
        }
        s
    }

    /// Explains a decision in plain text, one fact a line, naming entries and connectors.
    ///
    /// ```
    /// use mail_journal::*;
    /// let policy = demo::policy()?;
    /// let env = Envelope::builder(Origin::Submitted, "<alice@example.com>")?
    ///     .recipient("bob@partner.example")?
    ///     .envelope_id("Q1")
    ///     .build()?;
    /// let text = policy.explain(&policy.decide(&env));
    /// assert!(text.contains("bob@partner.example: transfer via IMS-Archive"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain(&self, d: &Decision) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "traffic: {:?}", d.traffic);
        if let Some(id) = &d.message_id {
            let _ = writeln!(s, "message-id: {}", String::from_utf8_lossy(id));
        }
        s.push_str("recipients:\n");
        for v in &d.verdicts {
            let what = match &v.disposition {
                Disposition::Deliver(e) => format!("deliver to {}", self.name(*e)),
                Disposition::Expand(e) => format!("expand list {}", self.name(*e)),
                Disposition::Forward { contact, connector } => format!(
                    "forward through contact {} via {}",
                    self.name(*contact),
                    self.connector_name(*connector)
                ),
                Disposition::Transfer(c) => format!("transfer via {}", self.connector_name(*c)),
                Disposition::Reject(r) => format!("reject {}", r.reply),
            };
            let _ = writeln!(s, "  {}: {what}", v.recipient);
        }
        if !d.deliveries.is_empty() {
            s.push_str("deliveries:\n");
            for del in &d.deliveries {
                let _ = writeln!(
                    s,
                    "  {}{}",
                    self.name(del.entry),
                    self.via_text(d, &del.via, None)
                );
            }
        }
        for t in &d.transfers {
            let _ = writeln!(s, "transfer via {}:", self.connector_name(t.connector));
            for r in &t.recipients {
                let _ = writeln!(
                    s,
                    "  {}{}",
                    r.address,
                    self.via_text(d, &r.via, Some(&r.address))
                );
            }
        }
        if !d.non_deliveries.is_empty() {
            s.push_str("non-deliveries:\n");
            for n in &d.non_deliveries {
                let _ = writeln!(
                    s,
                    "  {}{}: {}",
                    self.name(n.entry),
                    self.via_text(d, &n.via, None),
                    n.rejection.reply
                );
            }
        }
        for a in &d.archive_copies {
            let _ = writeln!(
                s,
                "archive copy: {} ({:?})",
                self.connector_name(a.connector),
                a.direction
            );
        }
        for j in &d.journal_copies {
            let to: Vec<String> = j
                .recipients
                .iter()
                .map(|dst| match dst {
                    Destination::Local(e) => self.name(*e).to_owned(),
                    Destination::External { address, connector } => {
                        format!("{address} via {}", self.connector_name(*connector))
                    }
                })
                .collect();
            let _ = writeln!(
                s,
                "journal copy ({:?}) from <{}> to {}",
                j.format,
                j.reverse_path,
                to.join(", ")
            );
            for r in &j.reasons {
                let why = match r.source {
                    JournalSource::Connector {
                        connector,
                        direction,
                    } => format!("{} {direction}Journal", self.connector_name(connector)),
                    JournalSource::RecipientProperty {
                        connector,
                        direction,
                        entry,
                        property,
                    } => format!(
                        "{}'s {property} ({} {direction}RecipJournalProp)",
                        self.name(entry),
                        self.connector_name(connector)
                    ),
                    JournalSource::Rule(rule) => {
                        format!("rule {}", self.rule(rule).map_or("?", |r| r.name()))
                    }
                };
                let _ = writeln!(s, "  because {why} -> {}", self.name(r.target));
            }
        }
        if d.journal_exempt {
            s.push_str("journal-exempt: the engine's own output\n");
        }
        for w in &d.warnings {
            let text = match w {
                Warning::UnresolvedJournalProperty {
                    entry,
                    property,
                    value,
                } => format!(
                    "{}'s {property} = {value:?} resolves to nothing; copy sent to the NDR mailbox",
                    self.name(*entry)
                ),
                other => other.to_string(),
            };
            let _ = writeln!(s, "warning: {text}");
        }
        let events: Vec<String> = d
            .tracking
            .iter()
            .map(|e| {
                let mut t = e.kind.to_string();
                if let Some(c) = e.connector {
                    let _ = write!(t, "({})", self.connector_name(c));
                }
                let who: Vec<String> = e
                    .recipients
                    .iter()
                    .map(|p| match p {
                        Party::Address(a) => a.to_string(),
                        Party::Entry(id) => self.name(*id).to_owned(),
                    })
                    .collect();
                if !who.is_empty() {
                    let _ = write!(t, "[{}]", who.join(","));
                }
                t
            })
            .collect();
        let _ = writeln!(s, "tracking: {}", events.join(" "));
        s
    }
}
