//! Compliance fidelity: no way to hide mail from the journal, nothing hidden leaks to a
//! sender, reports that archivers index correctly, every journal copy deliverable, and an
//! audit that tells the truth. One test per defect found in 0.1.0; each fails there.

mod common;

use std::collections::BTreeSet;

use common::*;
use mail_journal::render;
use mail_journal::*;
use mail_parser::MessageParser;

const AT: Timestamp = Timestamp::from_unix(1_795_342_500);

const MARKED: &[u8] = b"From: outbound-journal-ndr@example.com\r\n\
To: legal@example.com\r\n\
Subject: nothing to see\r\n\
Message-ID: <hide@example.com>\r\n\
X-MS-Journal-Report:\r\n\
\r\n\
Hidden from the journal?\r\n";

/// Defect 1: whoever can send as a journal-NDR address could mail anyone unjournaled and
/// unarchived by adding the marker header. Now the exemption needs every recipient to be
/// a journal target, a member of one, or an NDR mailbox.
#[test]
fn the_marker_and_an_ndr_sender_do_not_exempt_mail_to_anyone_else() {
    let p = demo::policy().unwrap();
    // To an internal user named by a journal rule: the rule still fires.
    let d = p.decide(&envelope(
        Origin::Submitted,
        "<outbound-journal-ndr@example.com>",
        &["legal@example.com"],
        MARKED,
    ));
    assert!(!d.journal_exempt);
    assert!(d.suspected_evasion);
    assert_eq!(d.journal_copies.len(), 1, "{}", p.explain(&d));
    assert!(matches!(
        d.journal_copies[0].reasons[0].source,
        JournalSource::Rule(_)
    ));
    // To the Internet through an archiving connector: journaled and archived.
    let p = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(hidden("j"))
        .entry(ndr("NDR", "ndr@example.com"))
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .archival(true)
                .outbound_journal(JournalSettings::to("j", "NDR")),
        )
        .build()
        .unwrap();
    let d = p.decide(&envelope(
        Origin::Submitted,
        "<ndr@example.com>",
        &["bob@partner.example"],
        MARKED,
    ));
    assert!(!d.journal_exempt && d.suspected_evasion);
    assert_eq!(d.journal_copies.len(), 1);
    assert_eq!(d.archive_copies.len(), 1);
    // The engine's own output, fed back to the journal mailbox, stays exempt.
    let fed = p.decide(&envelope(
        Origin::Submitted,
        "<ndr@example.com>",
        &["j@store.example.internal"],
        MARKED,
    ));
    assert!(fed.journal_exempt && !fed.suspected_evasion);
    assert!(fed.journal_copies.is_empty() && fed.archive_copies.is_empty());
}

fn external_journal_policy() -> Policy {
    PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("carol"))
        .entry(EntryConfig::contact("vault", "journal@vault.example").hidden(true))
        .entry(ndr("NDR", "ndr@example.com"))
        .connector(ConnectorConfig::new("IMS").address_space(AddressSpace::new("*", 1)))
        .connector(
            ConnectorConfig::new("IMS-Vault")
                .address_space(AddressSpace::new("*@vault.example", 1))
                .inbound_journal(JournalSettings::to("vault", "NDR")),
        )
        .build()
        .unwrap()
}

/// Defect 2: a journal copy to an external journaling service crossed a connector
/// without a SEND on it (seed Q164175: connector traffic not tracked).
#[test]
fn a_journal_copy_leaving_through_a_connector_is_tracked_there() {
    let p = external_journal_policy();
    let env = inbound(
        &p,
        "IMS-Vault",
        "<bob@partner.example>",
        &["carol@example.com"],
    );
    let d = p.decide(&env);
    let vault = cid(&p, "IMS-Vault");
    let copy = &d.journal_copies[0];
    assert_eq!(
        copy.recipients.to_vec(),
        vec![Destination::External {
            address: addr("journal@vault.example"),
            connector: vault
        }]
    );
    let sends: Vec<&TrackingEvent> = d
        .tracking
        .iter()
        .filter(|e| e.kind == EventKind::Transfer)
        .collect();
    assert_eq!(sends.len(), 1, "{:#?}", d.tracking);
    assert_eq!(sends[0].connector, Some(vault));
    assert_eq!(sends[0].journal_copy, Some(copy.ndr));
    assert_eq!(
        sends[0].recipients.to_vec(),
        vec![Party::Address(addr("journal@vault.example"))]
    );
    // In the CSV log: a SEND row on the connector, under the report's Message-ID, with
    // the original's Message-ID as its reference and the NDR address as return path.
    let csv = String::from_utf8(render::tracking_log::csv(&p, &env, &d).to_vec()).unwrap();
    let send = csv
        .lines()
        .find(|l| l.contains(",SEND,"))
        .expect("a SEND row");
    let f: Vec<&str> = send.split(',').collect();
    let field = |name: &str| {
        let i = render::tracking_log::CSV_FIELDS
            .iter()
            .position(|n| *n == name)
            .unwrap();
        f[i]
    };
    assert_eq!(field("connector-id"), "IMS-Vault");
    assert_eq!(field("recipient-address"), "journal@vault.example");
    assert_eq!(field("reference"), "<1234@example.com>");
    assert!(field("message-id").ends_with(".journal@example.com>"));
    assert_eq!(field("return-path"), "ndr@example.com");
    let report = render::journal_report(&p, &env, &d, copy, AT).to_vec();
    let m = MessageParser::new().parse(&report[..]).unwrap();
    assert_eq!(
        format!("<{}>", m.message_id().unwrap()),
        field("message-id"),
        "the row names the report it tracks"
    );
}

fn hidden_member_policy() -> Policy {
    scenario2_directory()
        .entry(person("frank"))
        .entry(
            EntryConfig::mailbox("secret-box")
                .proxy("X500:/o=Example/ou=HQ/cn=Recipients/cn=secret-box")
                .hidden(true)
                .restrictions(RestrictionsConfig::accept_only(["frank"])),
        )
        .entry(
            EntryConfig::distribution_list("Team", ["carol", "secret-box"])
                .proxy("SMTP:team@example.com"),
        )
        .entry(
            EntryConfig::mailbox("Vault-Keeper")
                .proxy("SMTP:keeper@example.com")
                .hidden(true)
                .restrictions(RestrictionsConfig::accept_only(["frank"])),
        )
        .connector(ConnectorConfig::new("IMS").address_space(AddressSpace::new("*", 1)))
        .build()
        .unwrap()
}

/// Defect 3: a DSN named a hidden, SMTP-less member by its X.500 address and name.
#[test]
fn dsns_and_replies_never_name_hidden_entries() {
    let p = hidden_member_policy();
    for origin in [
        Origin::Submitted,
        Origin::Inbound {
            connector: cid(&p, "IMS"),
        },
    ] {
        let from = if origin == Origin::Submitted {
            "<carol@example.com>"
        } else {
            "<bob@partner.example>"
        };
        let env = envelope(origin, from, &["team@example.com"], MESSAGE);
        let d = p.decide(&env);
        assert!(d.verdicts[0].disposition.is_accepted());
        assert_eq!(d.non_deliveries.len(), 1);
        let dsn = String::from_utf8(render::dsn(&p, &env, &d, AT).unwrap().to_vec()).unwrap();
        assert!(
            dsn.contains("\r\nFinal-Recipient: rfc822; team@example.com\r\n"),
            "{dsn}"
        );
        for secret in ["secret-box", "X500", "/o=Example"] {
            assert!(!dsn.contains(secret), "{secret} in {dsn}");
        }
        let text = &d.non_deliveries[0].rejection.reply.text;
        assert!(!text.contains("secret-box"), "{text}");
    }
    // A refusal at RCPT time names the address the sender used, never the entry's name.
    let d = p.decide(&submitted("<carol@example.com>", &["keeper@example.com"]));
    let reply = d.verdicts[0]
        .disposition
        .rejection()
        .unwrap()
        .reply
        .to_string();
    assert!(reply.starts_with("550 5.7.1 "), "{reply}");
    assert!(reply.contains("keeper@example.com") && !reply.contains("Vault-Keeper"));
}

/// Defect 4: only the last of repeated To / Cc headers was read, so visible recipients
/// were called Bcc in the report.
#[test]
fn repeated_address_headers_are_all_read() {
    let p = scenario2_directory()
        .entry(person("dave"))
        .entry(person("erin"))
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .outbound_journal(JournalSettings::to(JOURNAL_DL, "OutboundJournalNDR")),
        )
        .build()
        .unwrap();
    let msg = b"From: carol@example.com\r\nTo: bob@partner.example\r\n\
Cc: dave@example.com\r\nCc: Erin <erin@example.com>\r\nCc: x@partner.example\r\n\
Subject: three Cc headers\r\n\r\nold mail\r\n";
    let env = envelope(
        Origin::Submitted,
        "<carol@example.com>",
        &[
            "bob@partner.example",
            "dave@example.com",
            "erin@example.com",
            "x@partner.example",
        ],
        msg,
    );
    let d = p.decide(&env);
    let report = render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec();
    let summary = MessageParser::new()
        .parse(&report[..])
        .unwrap()
        .body_text(0)
        .unwrap()
        .into_owned();
    let lines: Vec<&str> = summary.lines().skip(3).collect();
    assert_eq!(
        lines,
        vec![
            "Cc: dave@example.com",
            "Cc: erin@example.com",
            "To: bob@partner.example",
            "Cc: x@partner.example",
        ],
        "{summary}"
    );
    // The report's own headers copy every Cc.
    let m = MessageParser::new().parse(&report[..]).unwrap();
    let cc: usize = m.all_cc().map(|a| a.iter().count()).sum();
    assert_eq!(cc, 3);
}

/// Defect 5: a message copied out of an mbox archive starts with a `From ` line; the
/// engine then saw no header block at all.
#[test]
fn a_leading_mbox_from_line_is_skipped_and_kept() {
    let p = demo::policy().unwrap();
    let msg = b"From bob@partner.example Sun Nov 22 10:00:00 2026\r\n\
From: Bob <bob@partner.example>\r\nTo: dave@example.com\r\nSubject: from an mbox\r\n\
Message-ID: <mbox-1@partner.example>\r\nX-MS-Journal-Report:\r\n\r\nbody\r\n";
    let env = inbound(
        &p,
        "IMS-Main",
        "<bob@partner.example>",
        &["dave@example.com"],
    );
    let env = Envelope::builder(env.origin(), "<bob@partner.example>")
        .unwrap()
        .recipient("dave@example.com")
        .unwrap()
        .message(&msg[..])
        .envelope_id("MBOX-1")
        .build()
        .unwrap();
    let d = p.decide(&env);
    assert_eq!(
        d.message_id.as_deref(),
        Some(&b"<mbox-1@partner.example>"[..])
    );
    // The marker is seen too: forged on Internet mail, it is flagged.
    assert!(d.suspected_evasion);
    let report = render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec();
    let m = MessageParser::new().parse(&report[..]).unwrap();
    assert_eq!(m.subject(), Some("from an mbox"));
    let summary = m.body_text(0).unwrap().into_owned();
    assert!(summary.contains("Subject: from an mbox\r\n"), "{summary}");
    assert!(summary.contains("Message-ID: <mbox-1@partner.example>\r\n"));
    // The original travels unaltered, its From line included.
    assert!(
        report.windows(msg.len()).any(|w| w == msg),
        "original altered"
    );
    assert_eq!(render::journal_copy(&env).to_vec(), msg.to_vec());
}

/// Defect 6: journal copies to mailboxes without an SMTP address (the seed's advice) had
/// no address a transport could deliver to.
#[test]
fn every_journal_destination_has_a_delivery_address() {
    let base = || {
        PolicyConfig::new("example.com")
            .accepted_domain("example.com")
            .entry(
                EntryConfig::distribution_list("Journal-DL", ["journal1"])
                    .proxy(JOURNAL_DL)
                    .hidden(true),
            )
            .entry(
                EntryConfig::mailbox("journal1")
                    .proxy("X500:/o=Example/ou=HQ/cn=Recipients/cn=journal1")
                    .hidden(true),
            )
            .entry(ndr("NDR", "ndr@example.com"))
            .connector(
                ConnectorConfig::new("IMS")
                    .address_space(AddressSpace::new("*", 1))
                    .inbound_journal(JournalSettings::to(JOURNAL_DL, "NDR")),
            )
    };
    let err = base().build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "connector \"IMS\" inbound_journal.target (InboundJournal): journal copies go to \"journal1\", which has no delivery address; give it an SMTP address or a `delivery` address, or set the policy's `delivery_domain`"
    );
    // With a delivery domain, every SMTP-less mailbox gets name@domain.
    let p = base()
        .delivery_domain("store.example.internal")
        .build()
        .unwrap();
    let j1 = id(&p, "journal1");
    assert_eq!(
        p.entry(j1).unwrap().delivery_address().unwrap().as_str(),
        "journal1@store.example.internal"
    );
    // Nobody can write to the journal mailbox through it.
    let d = p.decide(&inbound(
        &p,
        "IMS",
        "<mallory@partner.example>",
        &["journal1@store.example.internal"],
    ));
    assert_eq!(
        d.verdicts[0]
            .disposition
            .rejection()
            .unwrap()
            .reply
            .to_string(),
        "550 5.1.1 Recipient address rejected: user unknown"
    );
    let d = p.decide(&submitted(
        "<someone@example.com>",
        &["journal1@store.example.internal"],
    ));
    assert!(!d.verdicts[0].disposition.is_accepted());
    // An explicit delivery address wins over the domain.
    let p = base()
        .delivery_domain("store.example.internal")
        .build()
        .unwrap();
    let _ = p;
    let mut cfg = base();
    cfg.entries[1] = cfg.entries[1]
        .clone()
        .delivery("j1-box@mail.example.internal");
    let p = cfg.build().unwrap();
    assert_eq!(
        p.entry(id(&p, "journal1"))
            .unwrap()
            .delivery_address()
            .unwrap()
            .as_str(),
        "j1-box@mail.example.internal"
    );
    // A delivery address on a list is a configuration error naming it.
    let mut cfg = base().delivery_domain("store.example.internal");
    cfg.entries[0] = cfg.entries[0].clone().delivery("dl@store.example.internal");
    assert_eq!(
        cfg.build().unwrap_err().to_string(),
        "entry \"Journal-DL\": delivery address \"dl@store.example.internal\" applies only to mailboxes and public folders"
    );
}

/// The journal-NDR address receives copies too (a per-recipient value that names nothing
/// falls back to it) and the bounces of every journal copy: a list used as the NDR address
/// whose member has no delivery address is refused at build, as a journal target's would be.
/// (Found by the `policy_build` fuzz target.)
#[test]
fn every_member_of_the_ndr_address_has_a_delivery_address() {
    let cfg = |member: EntryConfig| {
        PolicyConfig::new("example.com")
            .accepted_domain("example.com")
            .entry(
                EntryConfig::distribution_list("NDR-DL", ["ndr-box"])
                    .proxy("SMTP:ndr@example.com")
                    .hidden(true),
            )
            .entry(member)
            .entry(EntryConfig::mailbox("carol").proxy("SMTP:carol@example.com"))
            .connector(
                ConnectorConfig::new("IMS")
                    .address_space(AddressSpace::new("*", 1))
                    .inbound_journal(
                        JournalSettings::default()
                            .ndr("NDR-DL")
                            .recipient_property(PropTag::custom_attribute(10).unwrap()),
                    ),
            )
    };
    let err = cfg(EntryConfig::public_folder("ndr-box").hidden(true))
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "connector \"IMS\" inbound_journal.ndr (InboundJournalNDR): journal copies go to \"ndr-box\", which has no delivery address; give it an SMTP address or a `delivery` address, or set the policy's `delivery_domain`"
    );
    // Given an address, the member receives the copies that fall back to the NDR list.
    cfg(EntryConfig::public_folder("ndr-box")
        .hidden(true)
        .delivery("ndr-box@store.example.internal"))
    .build()
    .unwrap();
}

/// Piler's journal-report reader, rule for rule (src/parser.c of jsuto/piler): a report
/// only with an outer header spelled exactly `X-MS-Journal-Report:`; the first MIME part
/// is the report; every address on `To` / `Cc` / `Bcc` / `Recipient` lines is indexed,
/// with `Expanded:` stripped only on `To` and `Recipient` lines.
fn piler_recipients(report: &[u8]) -> Option<BTreeSet<String>> {
    let text = String::from_utf8_lossy(report);
    let (head, _) = text.split_once("\r\n\r\n")?;
    if !head.lines().any(|l| l.starts_with("X-MS-Journal-Report:")) {
        return None;
    }
    let m = MessageParser::new().parse(report)?;
    let summary = m.body_text(0)?.into_owned();
    let mut out = BTreeSet::new();
    for line in summary.lines() {
        let lower = line.to_ascii_lowercase();
        let (kind, rest) = lower.split_once(':')?;
        let mut value = rest.to_owned();
        match kind {
            "to" | "recipient" => {
                if let Some(i) = value.find("expanded:") {
                    value.truncate(i);
                }
            }
            "cc" | "bcc" => {}
            _ => continue,
        }
        for token in value.split(|c: char| c.is_whitespace() || c == ',') {
            let t = token.trim_matches(|c| c == '<' || c == '>');
            if t.contains('@') {
                out.insert(t.to_owned());
            }
        }
    }
    Some(out)
}

/// Every final recipient of the original, as the report should name them.
fn final_recipients(p: &Policy, d: &Decision) -> BTreeSet<String> {
    d.deliveries
        .iter()
        .map(|x| p.entry(x.entry).unwrap().display_address().to_lowercase())
        .chain(
            d.transfers
                .iter()
                .flat_map(|t| t.recipients.iter())
                .map(|r| r.address.to_string().to_lowercase()),
        )
        .collect()
}

#[test]
fn archivers_index_every_recipient_and_no_list_address() {
    let p = demo::policy().unwrap();
    let msg_cc_list = b"From: carol@example.com\r\nTo: dave@example.com\r\nCc: sales@example.com, managers@example.com\r\nSubject: lists\r\nMessage-ID: <l@example.com>\r\n\r\nx\r\n";
    let lists = [
        "sales@example.com",
        "managers@example.com",
        "interns@example.com",
    ];
    let cases: Vec<Envelope> = vec![
        // Internet mail to a list and a direct recipient: Recipient lines.
        inbound(
            &p,
            "IMS-Main",
            "<bob@partner.example>",
            &["sales@example.com", "frank@example.com"],
        ),
        // Submitted, the lists on Cc, a Bcc recipient, an external one.
        envelope(
            Origin::Submitted,
            "<carol@example.com>",
            &[
                "dave@example.com",
                "sales@example.com",
                "managers@example.com",
                "legal@example.com",
                "bob@partner.example",
            ],
            msg_cc_list,
        ),
        // Submitted, a list as Bcc (not in any header).
        envelope(
            Origin::Submitted,
            "<frank@example.com>",
            &["interns@example.com", "x@partner.example"],
            MESSAGE,
        ),
    ];
    for env in &cases {
        let d = p.decide(env);
        assert!(!d.journal_copies.is_empty(), "{}", p.explain(&d));
        let expected = final_recipients(&p, &d);
        for copy in &d.journal_copies {
            let report = render::journal_report(&p, env, &d, copy, AT).to_vec();
            let indexed = piler_recipients(&report).expect("piler detects the report");
            assert_eq!(indexed, expected, "{}", String::from_utf8_lossy(&report));
            for l in lists {
                assert!(!indexed.contains(l), "list {l} indexed as a recipient");
            }
        }
    }
}

/// The audit's first line in 0.1.0 was false: a connector with a reject list is not
/// open to every sender.
#[test]
fn the_audit_does_not_call_a_connector_with_a_reject_list_open() {
    let p = demo::policy().unwrap();
    assert_eq!(p.audit(), vec![]);
}

fn two_route_config(archive_journals: bool, partner_route: bool) -> PolicyConfig {
    let mut archive = ConnectorConfig::new("IMS-Archive")
        .address_space(AddressSpace::new("*", 1))
        .restrictions(RestrictionsConfig::accept_only(["alice"]))
        .archival(true)
        .accepts_inbound(false)
        .next_hop(NextHop::Connector("IMS-Main".into()));
    if archive_journals {
        archive = archive.outbound_journal(JournalSettings::to(JOURNAL_DL, "OutboundJournalNDR"));
    }
    let mut cfg = scenario2_directory()
        .entry(person("alice"))
        .connector(
            ConnectorConfig::new("IMS-Main")
                .address_space(AddressSpace::new("*", 1))
                .restrictions(RestrictionsConfig::reject(["alice"]))
                .inbound_journal(JournalSettings::to(JOURNAL_DL, "InboundJournalNDR"))
                .outbound_journal(JournalSettings::to(JOURNAL_DL, "OutboundJournalNDR")),
        )
        .connector(archive)
        .render_secret("audit");
    if partner_route {
        cfg = cfg.connector(
            ConnectorConfig::new("IMS-Partner")
                .address_space(AddressSpace::new("*@partner.example", 1))
                .accepts_inbound(false)
                .outbound_journal(JournalSettings::to(JOURNAL_DL, "OutboundJournalNDR")),
        );
    }
    cfg
}

/// Mail that can leave unjournaled while other routes journal: alice leaves through the
/// archiving connector, whose next hop journals but which does not.
#[test]
fn the_audit_finds_every_route_that_leaves_unjournaled_or_unarchived() {
    let p = two_route_config(false, false).build().unwrap();
    let audit = p.audit();
    assert_eq!(
        audit,
        vec![AuditWarning::UnjournaledRoute {
            connector: "IMS-Archive".into(),
            direction: Direction::Outbound,
            journaling: "IMS-Main".into(),
            senders: vec!["alice".into()],
        }]
    );
    assert_eq!(
        audit[0].to_string(),
        "outbound mail from alice can leave through connector \"IMS-Archive\", which does not journal it, while \"IMS-Main\" journals outbound mail"
    );
    // The decision agrees: alice's mail is not journaled.
    let d = p.decide(&submitted("<alice@example.com>", &["bob@partner.example"]));
    assert!(d.journal_copies.is_empty());

    // A more specific route for partner.example takes alice's mail past the archive.
    let p = two_route_config(true, true).build().unwrap();
    assert_eq!(
        p.audit(),
        vec![AuditWarning::ArchivalBypass {
            connector: "IMS-Partner".into(),
            archiving: "IMS-Archive".into(),
            senders: vec!["alice".into()],
        }]
    );
    let d = p.decide(&submitted("<alice@example.com>", &["bob@partner.example"]));
    assert!(d.archive_copies.is_empty(), "{}", p.explain(&d));
    assert!(
        p.audit()[0]
            .to_string()
            .starts_with("mail from alice can leave through connector \"IMS-Partner\"")
    );
}

/// Strict mode: a misspelt custom-attribute value stops the build instead of sending
/// copies to the NDR mailbox.
#[test]
fn strict_mode_makes_audit_findings_fatal() {
    let ca10 = PropTag::custom_attribute(10).unwrap();
    let mut cfg = demo::config();
    let carol = cfg.entries.iter().position(|e| e.name == "carol").unwrap();
    cfg.entries[carol] = cfg.entries[carol].clone().property(
        ca10,
        "X500:/o=Example/ou=HQ/cn=Recipients/cn=Branch-Manager-Journal",
    );
    assert!(cfg.clone().build().is_ok());
    let err = cfg.strict(true).build().unwrap_err();
    assert!(matches!(err, ConfigError::Strict { .. }));
    assert_eq!(
        err.to_string(),
        "strict mode: the audit found 1 problem(s): entry \"carol\": custom attribute 10 (0x80360000) = \"X500:/o=Example/ou=HQ/cn=Recipients/cn=Branch-Manager-Journal\" resolves to nothing; its journal copies go to the NDR mailbox"
    );
    let toml = "organisation = \"example.com\"\nstrict = true\n";
    assert!(PolicyConfig::from_toml(toml).unwrap().strict);
}

/// A journal-NDR address that is a list: per-recipient copies whose value resolves to
/// nothing fall back to it and reach its members, so a report fed back to a member is the
/// engine's own output — exempt, not journaled again (found by the `policy_build` fuzz
/// target: the members were not counted in the journal system).
#[test]
fn a_report_fed_back_to_a_member_of_an_ndr_list_is_exempt() {
    let ca10 = PropTag::custom_attribute(10).unwrap();
    let p = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("carol").property(ca10, "X500:/o=Example/cn=no-such-list"))
        .entry(
            EntryConfig::distribution_list("NDR", ["ndr-box"])
                .proxy("SMTP:ndr@example.com")
                .hidden(true),
        )
        .entry(hidden("ndr-box"))
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .inbound_journal(
                    JournalSettings::default()
                        .ndr("NDR")
                        .recipient_property(ca10),
                ),
        )
        .build()
        .unwrap();
    let env = inbound(&p, "IMS", "<bob@partner.example>", &["carol@example.com"]);
    let d = p.decide(&env);
    assert_eq!(d.journal_copies.len(), 1, "{}", p.explain(&d));
    let copy = &d.journal_copies[0];
    assert_eq!(copy.reverse_path, addr("ndr@example.com"));
    assert_eq!(
        copy.recipients.to_vec(),
        vec![Destination::Local(id(&p, "ndr-box"))]
    );
    let report = render::journal_report(&p, &env, &d, copy, T0);
    let fed = p.decide(&envelope(
        Origin::Submitted,
        "<ndr@example.com>",
        &["ndr-box@store.example.internal"],
        &report.to_vec(),
    ));
    assert!(
        fed.journal_exempt && !fed.suspected_evasion,
        "{}",
        p.explain(&fed)
    );
    assert!(fed.journal_copies.is_empty() && fed.archive_copies.is_empty());
    // Anyone else, even with the marker, is journaled as before.
    let other = p.decide(&envelope(
        Origin::Submitted,
        "<ndr@example.com>",
        &["carol@example.com"],
        MARKED,
    ));
    assert!(!other.journal_exempt && other.suspected_evasion);
}
