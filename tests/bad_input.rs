//! Bad input: every case gives a clear typed error naming the value, or a complete
//! decision — never a panic.

mod common;

use common::*;
use mail_journal::*;

fn demo() -> Policy {
    demo::policy().unwrap()
}

#[test]
fn malformed_addresses_are_typed_errors_naming_the_input() {
    for bad in [
        "",
        "no-at-sign",
        "two@@example.com",
        "spaces in@example.com",
        "ctrl\r\n@example.com",
        "<unbalanced@example.com",
        "a@",
        "@b.example",
    ] {
        let e = Address::parse(bad).unwrap_err();
        assert!(matches!(e, AddressError::Invalid { .. }));
        assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
        // The envelope builder passes the same error through.
        let r = Envelope::builder(Origin::Submitted, "<>")
            .unwrap()
            .recipient(bad);
        assert!(matches!(r, Err(EnvelopeError::Recipient(_))));
    }
    assert!(matches!(
        ProxyAddress::parse("FAX:+1 555"),
        Err(AddressError::UnknownProxyType { .. })
    ));
    // A malformed proxy in the configuration names the entry.
    let e = PolicyConfig::new("example.com")
        .entry(EntryConfig::mailbox("carol").proxy("SMTP:carol"))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("\"carol\""), "{e}");
}

#[test]
fn an_unknown_property_tag_lists_the_valid_ones() {
    let e = PropTag::from_u32(0x1234_5678).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("0x12345678"), "{text}");
    assert!(
        text.contains("10=0x80360000") && text.contains("15=0x8C610000"),
        "{text}"
    );
    assert!("0x12345678".parse::<PropTag>().is_err());
    assert!(matches!(
        PropTag::custom_attribute(16),
        Err(PropTagError::CustomAttributeOutOfRange { number: 16 })
    ));
}

#[test]
fn configuration_errors_name_what_is_at_fault() {
    let base = || {
        PolicyConfig::new("example.com")
            .accepted_domain("example.com")
            .entry(person("carol"))
            .entry(ndr("NDR", "ndr@example.com"))
            .entry(EntryConfig::mailbox("no-smtp"))
    };
    let err = |cfg: PolicyConfig| cfg.build().unwrap_err();

    // Journal direction without NDR address.
    let e = err(base().connector(
        ConnectorConfig::new("IMS").inbound_journal(JournalSettings::default().target("carol")),
    ));
    assert_eq!(
        e,
        ConfigError::MissingJournalNdr {
            connector: "IMS".into(),
            direction: Direction::Inbound
        }
    );
    // DL cycle.
    let e = err(base()
        .entry(EntryConfig::distribution_list("A", ["B"]))
        .entry(EntryConfig::distribution_list("B", ["carol", "A"])));
    assert_eq!(
        e,
        ConfigError::ListCycle {
            cycle: "A -> B -> A".into()
        }
    );
    // Unresolvable journal target.
    let e = err(base().connector(
        ConnectorConfig::new("IMS")
            .inbound_journal(JournalSettings::to("X500:/o=X/cn=ghost", "NDR")),
    ));
    assert!(matches!(e, ConfigError::Unresolved { .. }));
    assert!(
        e.to_string().contains("ghost") && e.to_string().contains("IMS"),
        "{e}"
    );
    // An NDR mailbox without an SMTP address cannot be an envelope sender.
    let e = err(base().connector(
        ConnectorConfig::new("IMS").inbound_journal(JournalSettings::to("carol", "no-smtp")),
    ));
    assert!(matches!(e, ConfigError::UnusableNdr { .. }), "{e}");
    // Bad pattern, cost out of range.
    let e = err(base().connector(
        ConnectorConfig::new("IMS").address_space(AddressSpace::new("partner.example", 1)),
    ));
    assert!(
        matches!(e, ConfigError::AddressSpace { .. }) && e.to_string().contains("partner.example")
    );
    for cost in [0, 101] {
        let e = err(base()
            .connector(ConnectorConfig::new("IMS").address_space(AddressSpace::new("*", cost))));
        assert_eq!(
            e,
            ConfigError::Cost {
                connector: "IMS".into(),
                pattern: "*".into(),
                cost
            }
        );
    }
    // Duplicate address, duplicate connector, unknown next hop.
    let e = err(base().entry(EntryConfig::mailbox("carol2").proxy("smtp:CAROL@example.com")));
    assert!(matches!(e, ConfigError::DuplicateAddress { .. }), "{e}");
    let e = err(base()
        .connector(ConnectorConfig::new("IMS"))
        .connector(ConnectorConfig::new("ims")));
    assert!(matches!(e, ConfigError::DuplicateConnector { .. }));
    let e =
        err(base()
            .connector(ConnectorConfig::new("IMS").next_hop(NextHop::Connector("Nope".into()))));
    assert!(e.to_string().contains("\"Nope\""), "{e}");
    // Rules without their NDR address.
    let e = err(base().journal_rule(JournalRuleConfig::new("all", JournalScope::Global, "carol")));
    assert_eq!(e, ConfigError::MissingRulesNdr { rule: "all".into() });
    // A journal target forwarding to an address no connector routes.
    let e = err(base()
        .entry(EntryConfig::contact("vault", "vault@archive.example"))
        .connector(
            ConnectorConfig::new("IMS").address_space(AddressSpace::new("*@partner.example", 1)),
        )
        .journal_rule(JournalRuleConfig::new("all", JournalScope::Global, "vault"))
        .rules_ndr("NDR"));
    assert!(matches!(e, ConfigError::UnroutableTarget { .. }), "{e}");
    // Limits and accepted domains.
    let e = err(base().limits(Limits::default().max_recipients(0)));
    assert!(e.to_string().contains("max_recipients"), "{e}");
    let e = err(base().accepted_domain("bad domain"));
    assert!(e.to_string().contains("\"bad domain\""), "{e}");
}

#[test]
fn an_envelope_without_recipients_is_refused() {
    let e = Envelope::builder(Origin::Submitted, "<alice@example.com>")
        .unwrap()
        .envelope_id("Q-empty")
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        EnvelopeError::NoRecipients {
            envelope_id: "Q-empty".into()
        }
    );
}

#[test]
fn ten_thousand_recipients_get_ten_thousand_verdicts() {
    let p = demo();
    let to: Vec<String> = (0..10_000)
        .map(|i| format!("user{i}@partner.example"))
        .collect();
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    let d = p.decide(&submitted("<carol@example.com>", &to));
    assert_eq!(d.verdicts.len(), 10_000);
    let limit = p.limits().max_recipients;
    for (i, v) in d.verdicts.iter().enumerate() {
        if i < limit {
            assert!(v.disposition.is_accepted(), "{i}");
        } else {
            let r = v.disposition.rejection().unwrap();
            assert_eq!(
                (r.reply.code, r.reply.status),
                (452, EnhancedStatus::new(4, 5, 3))
            );
            assert_eq!(r.reason, RejectReason::TooManyRecipients);
        }
    }
    assert_eq!(d.transfers[0].recipients.len(), limit);
    // The accepted part is journaled as usual.
    assert_eq!(d.journal_copies.len(), 1);
}

#[test]
fn garbage_messages_still_get_complete_decisions() {
    let p = demo();
    let ims = p.connector_id("IMS-Main").unwrap();
    let mut huge_line = b"Subject: ".to_vec();
    huge_line.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    let garbage: Vec<Vec<u8>> = vec![
        vec![],
        vec![0; 4096],
        (0..=255u8).cycle().take(70_000).collect(),
        b"no header block, no separator, just words".to_vec(),
        b"Subject: headers only, never ending".to_vec(),
        b"\r\n\r\n\r\n".to_vec(),
        b"From: a@b\r\n\xff\xfe\x00 junk line without colon\r\nX-MS-Journal-Report:\r\n\r\n"
            .to_vec(),
        huge_line,
    ];
    for m in &garbage {
        for origin in [Origin::Submitted, Origin::Inbound { connector: ims }] {
            let env = envelope(
                origin,
                "<bob@partner.example>",
                &[
                    "carol@example.com",
                    "sales@example.com",
                    "nobody@example.com",
                ],
                m,
            );
            let d = p.decide(&env);
            assert_eq!(d.verdicts.len(), 3);
            assert!(d.verdicts[0].disposition.is_accepted());
            assert!(d.verdicts[1].disposition.is_accepted());
            assert!(!d.verdicts[2].disposition.is_accepted());
            assert_eq!(d.size, m.len());
            if matches!(origin, Origin::Inbound { .. }) {
                // Every journal obligation is met whatever the bytes: global inbound
                // journaling plus carol's per-recipient value.
                assert_eq!(d.journal_copies.len(), 1);
                assert_eq!(d.journal_copies[0].reasons.len(), 2);
            }
            // A marker after a non-header line is not part of the header block.
            assert!(!d.suspected_evasion);
        }
    }
    // The 10 MB single line stops the scan at the limit, with a warning.
    let d = p.decide(&submitted_with(garbage.last().unwrap()));
    assert!(d.warnings.contains(&Warning::HeaderScanTruncated {
        limit: p.limits().max_header_bytes
    }));
}

fn submitted_with(m: &[u8]) -> Envelope {
    envelope(
        Origin::Submitted,
        "<carol@example.com>",
        &["dave@example.com"],
        m,
    )
}

#[test]
fn a_message_with_no_header_body_separator() {
    let p = demo();
    let d = p.decide(&submitted_with(
        b"Subject: x\r\nMessage-ID: <m@example.com>\r\nX-MS-Journal-Report:",
    ));
    assert_eq!(d.message_id.as_deref(), Some(&b"<m@example.com>"[..]));
    assert!(d.suspected_evasion);
    assert_eq!(d.deliveries.len(), 1);
}

#[test]
fn unknown_or_closed_receiving_connectors_refuse_everything() {
    let p = demo();
    let archive = p.connector_id("IMS-Archive").unwrap();
    let d = p.decide(&envelope(
        Origin::Inbound { connector: archive },
        "<bob@partner.example>",
        &["carol@example.com"],
        MESSAGE,
    ));
    let r = d.verdicts[0].disposition.rejection().unwrap();
    assert_eq!(
        r.reason,
        RejectReason::InboundNotAccepted { connector: archive }
    );
    assert!(d.journal_copies.is_empty() && d.archive_copies.is_empty());
    // A connector id from a bigger policy.
    let other = PolicyConfig::new("x.example")
        .connector(ConnectorConfig::new("a"))
        .connector(ConnectorConfig::new("b"))
        .connector(ConnectorConfig::new("c"))
        .build()
        .unwrap();
    let stray = other.connector_id("c").unwrap();
    let small = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("carol"))
        .build()
        .unwrap();
    let d = small.decide(&envelope(
        Origin::Inbound { connector: stray },
        "<bob@partner.example>",
        &["carol@example.com"],
        MESSAGE,
    ));
    let r = d.verdicts[0].disposition.rejection().unwrap();
    assert_eq!(
        (r.reply.code, r.reason),
        (451, RejectReason::UnknownConnector)
    );
}

#[test]
fn list_size_and_expansion_limits() {
    let members: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let mut cfg = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(EntryConfig::distribution_list("big", members.clone()).proxy("SMTP:big@example.com"))
        .entry(
            EntryConfig::distribution_list("big2", members.clone()).proxy("SMTP:big2@example.com"),
        );
    for m in &members {
        cfg = cfg.entry(EntryConfig::mailbox(m));
    }
    let p = cfg
        .clone()
        .limits(Limits::default().max_list_members(50).max_expansion(60))
        .build()
        .unwrap();
    let d = p.decide(&submitted(
        "<x@partner.example>",
        &["big@example.com", "big2@example.com"],
    ));
    assert!(d.verdicts[0].disposition.is_accepted());
    let r = d.verdicts[1].disposition.rejection().unwrap();
    assert_eq!(
        (r.reply.code, r.reason),
        (452, RejectReason::TooManyRecipients)
    );
    assert_eq!(d.deliveries.len(), 50);

    let e = cfg
        .limits(Limits::default().max_list_members(49))
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::ListTooLarge { .. }), "{e}");
}

#[test]
fn a_journal_target_that_reaches_nobody_is_a_config_error() {
    // Found by fuzzing: an empty list as journal target made a journal copy addressed to
    // nobody — a compliance copy silently lost.
    let base = || {
        PolicyConfig::new("example.com")
            .accepted_domain("example.com")
            .entry(person("carol").property(PropTag::custom_attribute(10).unwrap(), "Empty"))
            .entry(EntryConfig::distribution_list(
                "Empty",
                Vec::<String>::new(),
            ))
            .entry(EntryConfig::distribution_list("Nested", ["Empty"]))
            .entry(hidden("j"))
            .entry(ndr("NDR", "ndr@example.com"))
    };
    for target in ["Empty", "Nested"] {
        let e = base()
            .connector(
                ConnectorConfig::new("IMS").inbound_journal(JournalSettings::to(target, "NDR")),
            )
            .build()
            .unwrap_err();
        assert_eq!(
            e,
            ConfigError::EmptyJournalTarget {
                context: "connector \"IMS\" inbound_journal.target (InboundJournal)".into(),
                target: target.into()
            }
        );
    }
    // A per-recipient value naming such a list falls back to the NDR mailbox, with a
    // warning, like any value that resolves to nothing.
    let p = base()
        .connector(
            ConnectorConfig::new("IMS").inbound_journal(
                JournalSettings::default()
                    .ndr("NDR")
                    .recipient_property(PropTag::custom_attribute(10).unwrap()),
            ),
        )
        .build()
        .unwrap();
    let ims = p.connector_id("IMS").unwrap();
    let d = p.decide(&envelope(
        Origin::Inbound { connector: ims },
        "<bob@partner.example>",
        &["carol@example.com"],
        MESSAGE,
    ));
    assert_eq!(d.journal_copies.len(), 1);
    assert_eq!(
        d.journal_copies[0].recipients.to_vec(),
        vec![Destination::Local(p.resolve("NDR").unwrap())]
    );
    assert!(matches!(
        d.warnings[0],
        Warning::UnresolvedJournalProperty { .. }
    ));
}

#[test]
fn an_ndr_address_that_reaches_no_mailbox_is_a_config_error() {
    // Found by fuzzing: an empty list as NDR address; a per-recipient value that resolved
    // to nothing fell back to it and the copy reached nobody.
    let e = PolicyConfig::new("example.com")
        .entry(
            EntryConfig::distribution_list("ndr-list", Vec::<String>::new())
                .proxy("SMTP:ndr@example.com"),
        )
        .entry(hidden("j"))
        .connector(
            ConnectorConfig::new("IMS").inbound_journal(JournalSettings::to("j", "ndr-list")),
        )
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::UnusableNdr { .. }), "{e}");
    assert!(
        e.to_string().contains("\"ndr-list\"")
            && e.to_string().contains("reaches no local mailbox"),
        "{e}"
    );
}
