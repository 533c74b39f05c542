//! The acceptance scenarios of ARCHITECTURE.md §6, one test each, asserting whole decisions.

mod common;

use common::*;
use mail_journal::*;

/// Scenario 1 — Q258557: one user's outbound mail goes through an archiving connector.
#[test]
fn scenario_1_q258557_one_users_outbound_mail_is_archived() {
    let p = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("alice"))
        .entry(person("carol"))
        .connector(
            ConnectorConfig::new("IMS-Main")
                .address_space(AddressSpace::new("*", 1))
                .restrictions(RestrictionsConfig::reject(["alice"])),
        )
        .connector(
            ConnectorConfig::new("IMS-Archive")
                .address_space(AddressSpace::new("*", 1))
                .restrictions(RestrictionsConfig::accept_only(["alice"]))
                .archival(true)
                .next_hop(NextHop::Connector("IMS-Main".into())),
        )
        .build()
        .unwrap();
    let (main, archive) = (cid(&p, "IMS-Main"), cid(&p, "IMS-Archive"));
    assert_eq!(
        p.connector(archive).unwrap().next_hop(),
        &NextHop::Connector("IMS-Main".into())
    );

    let d = p.decide(&submitted("<alice@example.com>", &["bob@partner.example"]));
    assert_eq!(d.traffic, Traffic::Outbound);
    assert_eq!(
        d.verdicts.to_vec(),
        vec![Verdict::new(
            addr("bob@partner.example"),
            Disposition::Transfer(archive),
        )]
    );
    assert_eq!(
        d.transfers.to_vec(),
        vec![Transfer::new(
            archive,
            [TransferRecipient::new(
                addr("bob@partner.example"),
                direct(0),
                None,
            )],
        )]
    );
    assert!(d.deliveries.is_empty() && d.non_deliveries.is_empty());
    assert_eq!(
        d.archive_copies.to_vec(),
        vec![ArchiveCopy::new(archive, Direction::Outbound)]
    );
    assert!(d.journal_copies.is_empty());
    assert_eq!(
        kinds(&d),
        vec![EventKind::Submit, EventKind::Transfer, EventKind::Archive]
    );
    assert_eq!(d.tracking[1].connector, Some(archive));
    assert_eq!(d.tracking[2].connector, Some(archive));
    assert_eq!(d.message_id.as_deref(), Some(&b"<1234@example.com>"[..]));

    let d = p.decide(&submitted("<carol@example.com>", &["bob@partner.example"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Transfer(main));
    assert_eq!(d.transfers[0].connector, main);
    assert!(d.archive_copies.is_empty());
    assert_eq!(kinds(&d), vec![EventKind::Submit, EventKind::Transfer]);
    assert_eq!(d.tracking[1].connector, Some(main));
}

fn q262122(inbound_ndr: &str, outbound_ndr: &str) -> Policy {
    scenario2_directory()
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .inbound_journal(JournalSettings::to(JOURNAL_DL, inbound_ndr))
                .outbound_journal(JournalSettings::to(JOURNAL_DL, outbound_ndr)),
        )
        .build()
        .unwrap()
}

/// Scenario 2 — Q262122: inbound and outbound journaling to a hidden list.
#[test]
fn scenario_2_q262122_inbound_and_outbound_journaling() {
    let p = q262122("InboundJournalNDR", "OutboundJournalNDR");
    let ims = cid(&p, "IMS");
    let members = vec![
        Destination::Local(id(&p, "journal1")),
        Destination::Local(id(&p, "journal2")),
    ];
    let dl = id(&p, JOURNAL_DL);

    // Inbound.
    let d = p.decide(&inbound(
        &p,
        "IMS",
        "<bob@partner.example>",
        &["carol@example.com"],
    ));
    assert_eq!(d.traffic, Traffic::Inbound);
    assert_eq!(
        d.verdicts[0].disposition,
        Disposition::Deliver(id(&p, "carol"))
    );
    assert_eq!(
        d.deliveries.to_vec(),
        vec![Delivery::new(id(&p, "carol"), direct(0))]
    );
    assert!(d.transfers.is_empty() && d.archive_copies.is_empty());
    assert_eq!(d.journal_copies.len(), 1);
    let j = &d.journal_copies[0];
    assert_eq!(j.ndr, id(&p, "InboundJournalNDR"));
    assert_eq!(j.reverse_path, addr("inbound-ndr@example.com"));
    assert_eq!(j.recipients.to_vec(), members);
    assert_eq!(
        j.reasons.to_vec(),
        vec![JournalReason::new(
            JournalSource::Connector {
                connector: ims,
                direction: Direction::Inbound
            },
            dl,
        )]
    );
    assert_eq!(j.format, JournalFormat::Envelope);
    assert_eq!(j.notify(), Notify::Never);
    assert_eq!(
        kinds(&d),
        vec![EventKind::Receive, EventKind::Deliver, EventKind::Journal]
    );
    assert_eq!(d.tracking[0].connector, Some(ims));
    assert_eq!(
        d.tracking[2].related,
        Some(Party::Entry(id(&p, "InboundJournalNDR")))
    );
    assert!(!d.journal_exempt && !d.suspected_evasion && d.warnings.is_empty());

    // Outbound.
    let d = p.decide(&submitted("<carol@example.com>", &["bob@partner.example"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Transfer(ims));
    let j = &d.journal_copies[0];
    assert_eq!(d.journal_copies.len(), 1);
    assert_eq!(j.ndr, id(&p, "OutboundJournalNDR"));
    assert_eq!(j.reverse_path, addr("outbound-ndr@example.com"));
    assert_eq!(j.recipients.to_vec(), members);
    assert_eq!(
        j.reasons[0].source,
        JournalSource::Connector {
            connector: ims,
            direction: Direction::Outbound
        }
    );
    assert_eq!(
        kinds(&d),
        vec![EventKind::Submit, EventKind::Transfer, EventKind::Journal]
    );

    // The same value for both directions (and the same NDR) gives the same targets.
    let same = q262122("InboundJournalNDR", "InboundJournalNDR");
    let a = same.decide(&inbound(
        &same,
        "IMS",
        "<bob@partner.example>",
        &["carol@example.com"],
    ));
    let b = same.decide(&submitted("<carol@example.com>", &["bob@partner.example"]));
    assert_eq!(
        a.journal_copies[0].recipients,
        b.journal_copies[0].recipients
    );
    assert_eq!(
        a.journal_copies[0].reverse_path,
        b.journal_copies[0].reverse_path
    );
}

fn per_recipient(global: bool) -> Policy {
    let ca10 = PropTag::from_u32(0x8036_0000).unwrap();
    let mut settings = JournalSettings::default()
        .ndr("InboundJournalNDR")
        .recipient_property(ca10);
    if global {
        settings = settings.target(JOURNAL_DL);
    }
    PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("carol").property(ca10, "X500:/o=Example/ou=HQ/cn=Recipients/cn=Managers"))
        .entry(person("dave"))
        .entry(
            EntryConfig::distribution_list("Managers", ["frank-journal"])
                .proxy("X500:/o=Example/ou=HQ/cn=Recipients/cn=Managers")
                .hidden(true),
        )
        .entry(hidden("frank-journal"))
        .entry(
            EntryConfig::distribution_list("Journal-DL", ["journal1"])
                .proxy(JOURNAL_DL)
                .hidden(true),
        )
        .entry(hidden("journal1"))
        .entry(ndr("InboundJournalNDR", "inbound-ndr@example.com"))
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .inbound_journal(settings),
        )
        .build()
        .unwrap()
}

/// Scenario 3 — per-recipient journaling through custom attribute 10.
#[test]
fn scenario_3_per_recipient_journaling() {
    check_scenario_3(
        &per_recipient(false),
        &per_recipient(true),
        &Scenario3 {
            list: "Managers",
            ndr: "inbound-ndr@example.com",
            global_target: JOURNAL_DL,
            global_members: &["journal1"],
        },
    );
}

/// Scenario 4 — a direction that journals without its NDR address is a configuration
/// error naming the connector and the direction.
#[test]
fn scenario_4_missing_ndr_address_is_a_config_error() {
    let base = || {
        PolicyConfig::new("example.com")
            .accepted_domain("example.com")
            .entry(EntryConfig::distribution_list("Journal-DL", ["j"]).proxy(JOURNAL_DL))
            .entry(hidden("j"))
    };
    let err = base()
        .connector(
            ConnectorConfig::new("IMS-Main")
                .address_space(AddressSpace::new("*", 1))
                .outbound_journal(JournalSettings::default().target(JOURNAL_DL)),
        )
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::MissingJournalNdr {
            connector: "IMS-Main".into(),
            direction: Direction::Outbound
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("IMS-Main") && text.contains("OutboundJournalNDR"),
        "{text}"
    );

    // Per-recipient journaling alone needs it too.
    let err = base()
        .connector(ConnectorConfig::new("IMS").inbound_journal(
            JournalSettings::default().recipient_property(PropTag::custom_attribute(10).unwrap()),
        ))
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::MissingJournalNdr {
            connector: "IMS".into(),
            direction: Direction::Inbound
        }
    );
}

/// Scenario 5 — loops and evasion.
#[test]
fn scenario_5_journal_copies_are_not_journaled_again_and_forgeries_are_flagged() {
    let p = q262122("InboundJournalNDR", "OutboundJournalNDR");
    let ims = cid(&p, "IMS");
    let d = p.decide(&inbound(
        &p,
        "IMS",
        "<bob@partner.example>",
        &["carol@example.com"],
    ));
    let copy = &d.journal_copies[0];

    // What a journal report looks like: the marker header and the original attached.
    let mut report = b"From: inbound-ndr@example.com\r\nX-MS-Journal-Report:\r\nMessage-ID: <jr-1@example.com>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nSender: bob@partner.example\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n".to_vec();
    report.extend_from_slice(MESSAGE);
    report.extend_from_slice(b"\r\n--b--\r\n");
    let member_addrs: Vec<String> = copy
        .recipients
        .iter()
        .map(|dst| match dst {
            Destination::Local(e) => p.entry(*e).unwrap().x500().unwrap().to_string(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(member_addrs.len(), 2);

    // Fed back as Submitted under its own envelope. Members have no SMTP address, so the
    // transport addresses the copy to the list's SMTP-less members by entry; a transport
    // that re-submits it uses an address. Give the journal mailboxes one for this check.
    let mut cfg = scenario2_directory();
    for e in cfg
        .entries
        .iter_mut()
        .filter(|e| e.name.starts_with("journal"))
    {
        e.proxies.push(format!("SMTP:{}@example.com", e.name));
    }
    let p2 = cfg
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .archival(true)
                .inbound_journal(JournalSettings::to(JOURNAL_DL, "InboundJournalNDR"))
                .outbound_journal(JournalSettings::to(JOURNAL_DL, "InboundJournalNDR")),
        )
        .build()
        .unwrap();
    let journal_rcpts = ["journal1@example.com", "journal2@example.com"];
    let fed_back = envelope(
        Origin::Submitted,
        "<inbound-ndr@example.com>",
        &journal_rcpts,
        &report,
    );
    let d = p2.decide(&fed_back);
    assert!(d.journal_exempt && !d.suspected_evasion);
    assert!(d.journal_copies.is_empty() && d.archive_copies.is_empty());
    assert_eq!(d.deliveries.len(), 2);
    assert_eq!(kinds(&d), vec![EventKind::Submit, EventKind::Deliver]);
    assert_eq!(
        d.tracking[1].recipients.to_vec(),
        vec![
            Party::Entry(id(&p2, "journal1")),
            Party::Entry(id(&p2, "journal2"))
        ]
    );

    // Copy format: the original unaltered, no marker — exempt because every recipient is
    // a journal mailbox and the sender is the NDR address.
    let d = p2.decide(&envelope(
        Origin::Submitted,
        "<inbound-ndr@example.com>",
        &journal_rcpts,
        MESSAGE,
    ));
    assert!(d.journal_exempt && d.journal_copies.is_empty());

    // The same bytes from the Internet, or submitted by an ordinary user: journaled,
    // archived and flagged.
    let ims2 = cid(&p2, "IMS");
    for (origin, from, to) in [
        (
            Origin::Inbound { connector: ims2 },
            "<inbound-ndr@example.com>",
            "carol@example.com",
        ),
        (
            Origin::Submitted,
            "<carol@example.com>",
            "bob@partner.example",
        ),
    ] {
        let d = p2.decide(&envelope(origin, from, &[to], &report));
        assert!(
            !d.journal_exempt && d.suspected_evasion,
            "{origin:?} {from}"
        );
        assert_eq!(d.journal_copies.len(), 1);
        assert_eq!(d.archive_copies.len(), 1);
        assert!(d.warnings.contains(&Warning::SuspectedEvasion));
    }

    // The NDR address as sender, but to an ordinary recipient and without the marker:
    // not the engine's output, so journaled (and not flagged: no marker).
    let d = p2.decide(&envelope(
        Origin::Submitted,
        "<inbound-ndr@example.com>",
        &["carol@example.com", "journal1@example.com"],
        MESSAGE,
    ));
    assert!(!d.journal_exempt && !d.suspected_evasion);

    // A bounce of a journal copy (null sender to the NDR mailbox), even from the
    // Internet: delivered there, not journaled.
    let d = p.decide(&envelope(
        Origin::Inbound { connector: ims },
        "<>",
        &["inbound-ndr@example.com"],
        MESSAGE,
    ));
    assert!(d.journal_exempt && d.journal_copies.is_empty());
    assert_eq!(d.deliveries[0].entry, id(&p, "InboundJournalNDR"));
}

/// Scenario 6 — Q164175: every transfer across every connector is tracked, both ways.
#[test]
fn scenario_6_q164175_connector_traffic_is_always_tracked() {
    // Several connectors with every combination of settings; none can suppress tracking.
    let mut cfg = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("carol"))
        .entry(hidden("j"))
        .entry(ndr("NDR", "ndr@example.com"));
    let domains = ["a.example", "b.example", "c.example", "d.example"];
    for (i, dom) in domains.iter().enumerate() {
        let mut c = ConnectorConfig::new(format!("IMS-{i}"))
            .address_space(AddressSpace::new(format!("*@{dom}"), 1 + i as u32))
            .archival(i % 2 == 0);
        if i >= 2 {
            c = c
                .inbound_journal(JournalSettings::to("j", "NDR"))
                .outbound_journal(JournalSettings::to("j", "NDR"));
        }
        cfg = cfg.connector(c);
    }
    let p = cfg.build().unwrap();
    for (i, dom) in domains.iter().enumerate() {
        let c = cid(&p, &format!("IMS-{i}"));
        let d = p.decide(&inbound(
            &p,
            &format!("IMS-{i}"),
            &format!("<x@{dom}>"),
            &["carol@example.com"],
        ));
        let receive = &d.tracking[0];
        assert_eq!(receive.kind, EventKind::Receive);
        assert_eq!(receive.connector, Some(c));
        assert_eq!(
            receive.recipients.to_vec(),
            vec![Party::Address(addr("carol@example.com"))]
        );

        let to = format!("y@{dom}");
        let d = p.decide(&submitted("<carol@example.com>", &[to.as_str()]));
        let send: Vec<_> = d
            .tracking
            .iter()
            .filter(|e| e.kind == EventKind::Transfer)
            .collect();
        assert_eq!(send.len(), 1, "connector {i}");
        assert_eq!(send[0].connector, Some(c));
        assert_eq!(send[0].recipients.to_vec(), vec![Party::Address(addr(&to))]);
    }
    // One message leaving through all four connectors: four SEND events.
    let all: Vec<String> = domains.iter().map(|d| format!("z@{d}")).collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let d = p.decide(&submitted("<carol@example.com>", &all));
    assert_eq!(d.transfers.len(), 4);
    assert_eq!(
        d.tracking
            .iter()
            .filter(|e| e.kind == EventKind::Transfer)
            .count(),
        4
    );
    // Rejections are tracked too.
    let d = p.decide(&submitted("<carol@example.com>", &["nobody@example.com"]));
    assert_eq!(
        kinds(&d),
        vec![EventKind::Submit, EventKind::Fail, EventKind::Dsn]
    );
    assert_eq!(
        d.tracking[1].status,
        Some((550, EnhancedStatus::new(5, 1, 1)))
    );
}

/// Scenario 7 — delivery restrictions.
#[test]
fn scenario_7_restrictions() {
    let p = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("carol"))
        .entry(person("erin"))
        .entry(person("frank"))
        .entry(
            EntryConfig::distribution_list("Interns", ["erin"]).proxy("SMTP:interns@example.com"),
        )
        .entry(EntryConfig::distribution_list(
            "Managers",
            ["carol", "erin"],
        ))
        .entry(person("board").restrictions(RestrictionsConfig::reject(["Interns"])))
        .entry(
            person("ceo").restrictions(
                RestrictionsConfig::accept_only(["Managers"]).and_reject(["Interns"]),
            ),
        )
        .entry(
            EntryConfig::distribution_list("All", ["board", "frank"]).proxy("SMTP:all@example.com"),
        )
        .connector(ConnectorConfig::new("IMS").address_space(AddressSpace::new("*", 1)))
        .build()
        .unwrap();
    let board = id(&p, "board");
    let ceo = id(&p, "ceo");

    // A list in a mailbox's reject list blocks its members.
    let d = p.decide(&submitted("<erin@example.com>", &["board@example.com"]));
    let rej = d.verdicts[0].disposition.rejection().unwrap();
    assert_eq!(rej.reply.code, 550);
    assert_eq!(rej.reply.status, EnhancedStatus::new(5, 7, 1));
    assert_eq!(
        rej.reason,
        RejectReason::Restricted {
            entry: board,
            kind: RestrictionKind::RejectList
        }
    );
    assert!(rej.reply.text.contains("board"), "{}", rej.reply.text);
    assert!(d.deliveries.is_empty());
    assert_eq!(
        kinds(&d),
        vec![EventKind::Submit, EventKind::Fail, EventKind::Dsn]
    );
    // …but not others.
    let d = p.decide(&submitted("<frank@example.com>", &["board@example.com"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Deliver(board));

    // A sender outside the directory is refused by an accept list.
    let d = p.decide(&inbound(
        &p,
        "IMS",
        "<bob@partner.example>",
        &["ceo@example.com"],
    ));
    assert_eq!(
        d.verdicts[0].disposition.rejection().unwrap().reason,
        RejectReason::Restricted {
            entry: ceo,
            kind: RestrictionKind::NotOnAcceptList
        }
    );
    // Inbound mail claiming an internal sender is not authenticated: no accept rights.
    let d = p.decide(&inbound(
        &p,
        "IMS",
        "<carol@example.com>",
        &["ceo@example.com"],
    ));
    assert!(!d.verdicts[0].disposition.is_accepted());
    // Submitted by carol (on Managers): accepted.
    let d = p.decide(&submitted("<carol@example.com>", &["ceo@example.com"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Deliver(ceo));

    // Reject wins over accept: erin is on Managers and on Interns.
    let d = p.decide(&submitted("<erin@example.com>", &["ceo@example.com"]));
    assert_eq!(
        d.verdicts[0].disposition.rejection().unwrap().reason,
        RejectReason::Restricted {
            entry: ceo,
            kind: RestrictionKind::RejectList
        }
    );

    // An expanded member's refusal leaves the envelope recipient accepted and records a
    // non-delivery with the list it came through.
    let all = id(&p, "All");
    let d = p.decide(&submitted("<erin@example.com>", &["all@example.com"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Expand(all));
    assert_eq!(
        d.deliveries.to_vec(),
        vec![Delivery::new(id(&p, "frank"), Via::new(0, [all]))]
    );
    assert_eq!(d.non_deliveries.len(), 1);
    let nd = &d.non_deliveries[0];
    assert_eq!(nd.entry, board);
    assert_eq!(nd.via.lists.to_vec(), vec![all]);
    assert_eq!(nd.rejection.reply.status, EnhancedStatus::new(5, 7, 1));
    assert_eq!(
        kinds(&d),
        vec![
            EventKind::Submit,
            EventKind::Expand,
            EventKind::Deliver,
            EventKind::Fail,
            EventKind::Dsn
        ]
    );
}
