//! Helpers shared by the integration tests.
#![allow(dead_code)]

use mail_journal::*;

pub const MESSAGE: &[u8] = b"From: Sender <sender@example.com>\r\n\
To: Someone <someone@example.com>\r\n\
Subject: Q3 numbers\r\n\
Message-ID: <1234@example.com>\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
\r\n\
The numbers are in.\r\n";

pub const T0: Timestamp = Timestamp::from_unix(1_795_342_443);

pub fn envelope(origin: Origin, from: &str, to: &[&str], message: &[u8]) -> Envelope {
    let mut b = Envelope::builder(origin, from).unwrap();
    for r in to {
        b = b.recipient(r).unwrap();
    }
    b.message(bytes::Bytes::copy_from_slice(message))
        .received_at(T0)
        .envelope_id("Q-0001")
        .build()
        .unwrap()
}

pub fn inbound(p: &Policy, connector: &str, from: &str, to: &[&str]) -> Envelope {
    let c = p.connector_id(connector).unwrap();
    envelope(Origin::Inbound { connector: c }, from, to, MESSAGE)
}

pub fn submitted(from: &str, to: &[&str]) -> Envelope {
    envelope(Origin::Submitted, from, to, MESSAGE)
}

pub fn id(p: &Policy, reference: &str) -> EntryId {
    p.resolve(reference)
        .unwrap_or_else(|| panic!("{reference} resolves"))
}

pub fn cid(p: &Policy, name: &str) -> ConnectorId {
    p.connector_id(name).unwrap()
}

pub fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

pub fn kinds(d: &Decision) -> Vec<EventKind> {
    d.tracking.iter().map(|e| e.kind).collect()
}

/// A direct path from envelope recipient number `index`.
pub fn direct(index: u32) -> Via {
    Via::direct(index)
}

pub fn person(name: &str) -> EntryConfig {
    EntryConfig::mailbox(name)
        .proxy(format!("SMTP:{name}@example.com"))
        .proxy(format!("X500:/o=Example/ou=HQ/cn=Recipients/cn={name}"))
}

/// A hidden mailbox without SMTP address, as the seed advises for journal mailboxes; a
/// transport delivers to it at `name@store.example.internal`.
pub fn hidden(name: &str) -> EntryConfig {
    EntryConfig::mailbox(name)
        .proxy(format!("X500:/o=Example/ou=HQ/cn=Recipients/cn={name}"))
        .hidden(true)
        .delivery(format!("{name}@store.example.internal"))
}

/// The X.500 address of the scenario 2 journal list.
pub const JOURNAL_DL: &str = "X500:/o=Example/ou=HQ/cn=Recipients/cn=Journal-DL";

/// scenario 2 (ARCHITECTURE.md §6)'s directory: carol, the hidden two-member `Journal-DL` named by its
/// X.500 address, and the inbound and outbound journal-NDR mailboxes. No connector yet.
pub fn scenario2_directory() -> PolicyConfig {
    PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("carol"))
        .entry(
            EntryConfig::distribution_list("Journal-DL", ["journal1", "journal2"])
                .proxy(JOURNAL_DL)
                .hidden(true),
        )
        .entry(hidden("journal1"))
        .entry(hidden("journal2"))
        .entry(ndr("InboundJournalNDR", "inbound-ndr@example.com"))
        .entry(ndr("OutboundJournalNDR", "outbound-ndr@example.com"))
        .delivery_domain("store.example.internal")
}

pub fn ndr(name: &str, smtp: &str) -> EntryConfig {
    hidden(name).proxy(format!("SMTP:{smtp}"))
}

/// What scenario 3 (per-recipient journaling through custom attribute 10) expects of one
/// organisation: carol's attribute names `list`, whose only member is `frank-journal`;
/// dave has no attribute; copies go out under `ndr`; with global inbound journaling to
/// `global_target` too, the copy's recipients are `frank-journal` plus `global_members`.
pub struct Scenario3<'a> {
    pub list: &'a str,
    pub ndr: &'a str,
    pub global_target: &'a str,
    pub global_members: &'a [&'a str],
}

/// Checks scenario 3 on `only` (per-recipient journaling alone) and `with_global`
/// (the same organisation with global inbound journaling as well), both with an
/// inbound connector named `IMS`.
pub fn check_scenario_3(only: &Policy, with_global: &Policy, s: &Scenario3) {
    let ca10 = PropTag::custom_attribute(10).unwrap();
    // Ids belong to the policy that issued them: derive them from each policy.
    let per_carol = |p: &Policy| {
        JournalReason::new(
            JournalSource::RecipientProperty {
                connector: cid(p, "IMS"),
                direction: Direction::Inbound,
                entry: id(p, "carol"),
                property: ca10,
            },
            id(p, s.list),
        )
    };
    let from_bob =
        |p: &Policy, to: &[&str]| p.decide(&inbound(p, "IMS", "<bob@partner.example>", to));

    let p = only;
    let d = from_bob(p, &["carol@example.com", "dave@example.com"]);
    assert!(d.verdicts.iter().all(|v| v.disposition.is_accepted()));
    assert_eq!(d.deliveries.len(), 2);
    assert_eq!(d.journal_copies.len(), 1);
    let j = &d.journal_copies[0];
    assert_eq!(j.reverse_path, addr(s.ndr));
    assert_eq!(
        j.recipients.to_vec(),
        vec![Destination::Local(id(p, "frank-journal"))]
    );
    assert_eq!(j.reasons.to_vec(), vec![per_carol(p)]);

    // Mail to dave alone: nobody's property is set, nothing to journal.
    let d = from_bob(p, &["dave@example.com"]);
    assert!(d.journal_copies.is_empty());

    // Combined with global inbound journaling: still one copy per NDR address, both
    // reasons listed, targets united.
    let p = with_global;
    let d = from_bob(p, &["carol@example.com", "dave@example.com"]);
    assert_eq!(d.journal_copies.len(), 1);
    let j = &d.journal_copies[0];
    let mut expected: Vec<Destination> = std::iter::once("frank-journal")
        .chain(s.global_members.iter().copied())
        .map(|name| Destination::Local(id(p, name)))
        .collect();
    expected.sort();
    assert_eq!(j.recipients.to_vec(), expected);
    assert_eq!(
        j.reasons.to_vec(),
        vec![
            JournalReason::new(
                JournalSource::Connector {
                    connector: cid(p, "IMS"),
                    direction: Direction::Inbound
                },
                id(p, s.global_target),
            ),
            per_carol(p),
        ]
    );
}
