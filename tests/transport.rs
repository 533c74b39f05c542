//! The transport's side: ready-to-send outputs, RCPT-time replies, and the small API
//! pieces a transport prints or relies on.

mod common;

use std::collections::BTreeSet;

use common::*;
use mail_journal::prelude::*;
use mail_journal::{
    AddressSpace, ConnectorConfig, Direction, EntryConfig, JournalSettings, NextHop,
    RestrictionsConfig, demo,
};

const NOW: Timestamp = Timestamp::from_unix(1_795_342_500);

fn kinds(outputs: &[Output]) -> Vec<String> {
    outputs.iter().map(|o| o.kind.to_string()).collect()
}

#[test]
fn scenario_1_outputs_the_transfer_the_journal_copy_and_the_archive_record() {
    let p = demo::policy().unwrap();
    let env = submitted("<alice@example.com>", &["bob@partner.example"]);
    let d = p.decide(&env);
    let out = d.outputs(&p, &env, NOW).unwrap();
    let archive = cid(&p, "IMS-Archive");
    assert_eq!(out.len(), 3, "{:?}", kinds(&out));

    // The original, through IMS-Archive, whose next hop (IMS-Main) delivers by DNS.
    assert_eq!(out[0].kind, OutputKind::Transfer { connector: archive });
    assert_eq!(out[0].reverse_path.to_string(), "<alice@example.com>");
    assert_eq!(out[0].recipients[0].address.as_str(), "bob@partner.example");
    assert_eq!(
        out[0].recipients[0].route,
        Route::Connector {
            connector: archive,
            next_hop: NextHop::Dns
        }
    );
    assert_eq!(out[0].message.to_vec(), MESSAGE);

    // The journal copy under the NDR sender, NOTIFY=NEVER, to the hidden SMTP-less journal
    // mailboxes by their delivery addresses.
    assert!(matches!(out[1].kind, OutputKind::Journal { .. }));
    assert_eq!(
        out[1].reverse_path.to_string(),
        "<outbound-journal-ndr@example.com>"
    );
    let to: Vec<&str> = out[1]
        .recipients
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(
        to,
        vec![
            "journal1@store.example.internal",
            "journal2@store.example.internal"
        ]
    );
    assert!(
        out[1]
            .recipients
            .iter()
            .all(|r| r.notify == Notify::Never && matches!(r.route, Route::Local { .. }))
    );

    // The archive record, with its storage key and no recipients.
    assert_eq!(
        out[2].kind,
        OutputKind::Archive {
            connector: archive,
            direction: Direction::Outbound,
            storage_key: "2026/11/22/alice@example.com/Q-0001.eml".into()
        }
    );
    assert!(out[2].recipients.is_empty());
    assert!(
        out[2]
            .message
            .to_vec()
            .starts_with(b"X-Sender: <alice@example.com>\r\n")
    );
}

#[test]
fn expanded_members_keep_the_envelope_recipients_dsn_parameters() {
    let p = demo::policy().unwrap();
    let env = Envelope::builder(Origin::Submitted, "<frank@example.com>")
        .unwrap()
        .recipient_with(Recipient::new("sales@example.com".parse().unwrap()).notify(Notify::Never))
        .recipient("nobody@example.com")
        .unwrap()
        .message(MESSAGE)
        .envelope_id("Q-2")
        .build()
        .unwrap();
    let d = p.decide(&env);
    let out = d.outputs(&p, &env, NOW).unwrap();
    let delivery = out.iter().find(|o| o.kind == OutputKind::Delivery).unwrap();
    let members: BTreeSet<&str> = delivery
        .recipients
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(
        members,
        BTreeSet::from(["carol@example.com", "dave@example.com"])
    );
    for r in &delivery.recipients {
        assert_eq!(r.notify, Notify::Never);
        assert_eq!(r.orcpt.as_deref(), Some("rfc822;sales@example.com"));
    }
    // nobody@ was refused: a DSN from <> to frank, delivered locally.
    let dsn = out.iter().find(|o| o.kind == OutputKind::Dsn).unwrap();
    assert!(dsn.reverse_path.is_null());
    assert_eq!(dsn.recipients[0].address.as_str(), "frank@example.com");
    assert_eq!(
        dsn.recipients[0].route,
        Route::Local {
            entry: id(&p, "frank")
        }
    );
}

#[test]
fn a_destination_without_a_delivery_address_is_an_error_not_a_silent_drop() {
    let p = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(EntryConfig::mailbox("box").hidden(true))
        .entry(EntryConfig::distribution_list("team", ["box"]).proxy("SMTP:team@example.com"))
        .build()
        .unwrap();
    let env = submitted("<x@example.com>", &["team@example.com"]);
    let d = p.decide(&env);
    let err = d.outputs(&p, &env, NOW).unwrap_err();
    assert_eq!(
        err,
        OutputError::NoDeliveryAddress {
            entry: "box".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "entry \"box\" has no delivery address: give it an SMTP or `delivery` address, or set the policy's `delivery_domain`"
    );
}

#[test]
fn every_archive_copy_of_one_message_gets_its_own_key() {
    let p = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("carol"))
        .entry(EntryConfig::contact("far", "far@partner.example").proxy("SMTP:far@example.com"))
        .connector(
            ConnectorConfig::new("IMS-In")
                .address_space(AddressSpace::new("*@elsewhere.example", 1))
                .archival(true),
        )
        .connector(
            ConnectorConfig::new("IMS-Out")
                .address_space(AddressSpace::new("*", 1))
                .archival(true),
        )
        .build()
        .unwrap();
    // From the Internet to a contact that forwards outside: in on one archiving connector,
    // out on another.
    let env = inbound(&p, "IMS-In", "<bob@partner.example>", &["far@example.com"]);
    let d = p.decide(&env);
    assert_eq!(d.archive_copies.len(), 2);
    let keys: Vec<String> = d
        .outputs(&p, &env, NOW)
        .unwrap()
        .into_iter()
        .filter_map(|o| match o.kind {
            OutputKind::Archive { storage_key, .. } => Some(storage_key),
            _ => None,
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            "2026/11/22/bob@partner.example/Q-0001.inbound-IMS-In.eml",
            "2026/11/22/bob@partner.example/Q-0001.outbound-IMS-Out.eml",
        ]
    );
}

#[test]
fn next_hop_chains_are_followed_and_loops_refused() {
    let chain = |last: NextHop| {
        PolicyConfig::new("example.com")
            .connector(ConnectorConfig::new("A").next_hop(NextHop::Connector("B".into())))
            .connector(ConnectorConfig::new("B").next_hop(NextHop::Connector("C".into())))
            .connector(ConnectorConfig::new("C").next_hop(last))
            .build()
    };
    let p = chain(NextHop::Smarthost("relay.example.net".into())).unwrap();
    let a = p.connector(cid(&p, "A")).unwrap();
    assert_eq!(
        a.final_hop(),
        &NextHop::Smarthost("relay.example.net".into())
    );
    assert_eq!(a.final_hop().to_string(), "smart host relay.example.net");
    let err = chain(NextHop::Connector("a".into())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "connector next hops form a loop: A -> B -> C -> A"
    );
}

#[test]
fn rcpt_time_replies() {
    let p = demo::policy().unwrap();
    let ims = cid(&p, "IMS-Main");
    let inbound_from = |s: &str| -> ReversePath { s.parse().unwrap() };
    let check = |origin, from: &str, to: &str| {
        p.check_rcpt(origin, &inbound_from(from), &to.parse().unwrap())
            .to_string()
    };
    let internet = Origin::Inbound { connector: ims };
    assert_eq!(
        check(internet, "<bob@partner.example>", "carol@example.com"),
        "250 2.1.5 Recipient OK"
    );
    assert_eq!(
        check(internet, "<bob@partner.example>", "ghost@example.com"),
        "550 5.1.1 Recipient address rejected: user unknown"
    );
    assert_eq!(
        check(internet, "<bob@partner.example>", "x@elsewhere.example"),
        "550 5.7.1 Relaying denied"
    );
    assert_eq!(
        check(internet, "<bob@partner.example>", "ceo@example.com"),
        "550 5.7.1 Delivery not authorized: ceo@example.com does not accept mail from this sender (the sender is not on its accept list)"
    );
    // The recipient limit, counted over the transaction.
    let small = demo::config()
        .limits(mail_journal::Limits::default().max_recipients(1))
        .build()
        .unwrap();
    let mut tx = small.transaction(Origin::Submitted, &inbound_from("<carol@example.com>"));
    assert!(
        tx.check_rcpt(&"dave@example.com".parse().unwrap())
            .is_positive()
    );
    assert_eq!(
        tx.check_rcpt(&"frank@example.com".parse().unwrap())
            .to_string(),
        "452 4.5.3 Too many recipients"
    );
}

#[test]
fn a_bare_postmaster_is_accepted() {
    let p = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("postmaster"))
        .connector(ConnectorConfig::new("IMS").address_space(AddressSpace::new("*", 1)))
        .build()
        .unwrap();
    let a: Address = "<Postmaster>".parse().unwrap();
    assert_eq!(a.as_str(), "Postmaster");
    let ims = cid(&p, "IMS");
    let reply = p.check_rcpt(
        Origin::Inbound { connector: ims },
        &"<bob@partner.example>".parse().unwrap(),
        &a,
    );
    assert!(reply.is_positive(), "{reply}");
    let d = p.decide(&inbound(
        &p,
        "IMS",
        "<bob@partner.example>",
        &["postmaster"],
    ));
    assert_eq!(
        d.verdicts[0].disposition,
        Disposition::Deliver(id(&p, "postmaster"))
    );
}

#[test]
fn a_bad_mail_from_is_a_reverse_path_error() {
    let err = Envelope::builder(Origin::Submitted, "<not an address>").unwrap_err();
    assert!(matches!(err, EnvelopeError::ReversePath(_)));
    assert!(err.to_string().starts_with("reverse path: invalid address"));
    let err = Envelope::builder(Origin::Submitted, "<>")
        .unwrap()
        .recipient("nope")
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("recipient: invalid address \"nope\"")
    );
}

#[test]
fn ids_from_another_policy_are_not_silently_used() {
    let a = demo::policy().unwrap();
    let b = demo::config()
        .entry(EntryConfig::mailbox("extra").proxy("SMTP:extra@example.com"))
        .build()
        .unwrap();
    let carol_in_a = id(&a, "carol");
    assert!(b.entry(carol_in_a).is_none());
    assert!(a.entry(carol_in_a).is_some());
    // An inbound envelope naming another policy's connector is refused, not misrouted.
    let foreign = cid(&a, "IMS-Main");
    let d = b.decide(&envelope(
        Origin::Inbound { connector: foreign },
        "<bob@partner.example>",
        &["carol@example.com"],
        MESSAGE,
    ));
    assert_eq!(
        d.verdicts[0]
            .disposition
            .rejection()
            .unwrap()
            .reply
            .to_string(),
        "451 4.3.5 Receiving connector not configured"
    );
    // Equal configurations issue equal ids.
    let again = demo::policy().unwrap();
    assert_eq!(id(&again, "carol"), carol_in_a);
}

#[test]
fn what_a_transport_prints() {
    let p = demo::policy().unwrap();
    let d = p.decide(&submitted("<alice@example.com>", &["bob@partner.example"]));
    let archive = cid(&p, "IMS-Archive");
    assert_eq!(
        d.verdicts[0].disposition.to_string(),
        format!("transfer via {archive}")
    );
    assert_eq!(archive.to_string(), "connector #1");
    assert_eq!(d.traffic.to_string(), "outbound");
    assert_eq!(
        d.journal_copies[0].reasons[0].source.to_string(),
        "connector #1 OutboundJournal"
    );
    assert_eq!(d.tracking[1].kind.to_string(), "SEND");
    assert_eq!(Origin::Submitted.to_string(), "submitted");
    assert_eq!(
        mail_journal::Warning::SuspectedEvasion.to_string(),
        "journal marker on mail that is not the engine's own output: suspected evasion"
    );
    assert_eq!(
        mail_journal::PropTag::custom_attribute(10)
            .unwrap()
            .to_string(),
        "custom attribute 10 (0x80360000)"
    );
    let _ = RestrictionsConfig::none();
    let _ = JournalSettings::default();
}
