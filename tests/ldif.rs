//! Policies whose directory comes from an LDIF export: `examples/directory.ldif` (an
//! Active Directory export), and — when tests/ldap/run.sh sets `MJ_LDIF_EXPORT` — the
//! same organisation exported by a real slapd with `ldapsearch -LLL`. Both must give
//! the decisions of ARCHITECTURE.md scenarios 1, 2, 3 and 7.
#![cfg(feature = "ldif")]

mod common;

use common::*;
use mail_journal::*;

const EXAMPLE: &str = include_str!("../examples/directory.ldif");
const JOURNAL_DL_X500: &str = "X500:/o=Example/ou=HQ/cn=Recipients/cn=Journal-DL";

/// The directory read from `text`, merged into an empty policy for example.com.
fn directory(source: &str, text: &str) -> PolicyConfig {
    let dir = directory_from_ldif(source, text, &LdifOptions::new())
        .unwrap_or_else(|e| panic!("{source}: {e}"));
    // The journal mailboxes have no SMTP address: a transport delivers to them at
    // name@store.example.internal.
    let mut cfg = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .delivery_domain("store.example.internal");
    merge_directory(&mut cfg, "tests/ldif.rs", dir).unwrap();
    cfg
}

fn scenario_1(cfg: PolicyConfig) {
    let p = cfg
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

    let d = p.decide(&submitted("<alice@example.com>", &["bob@partner.example"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Transfer(archive));
    assert_eq!(d.transfers.len(), 1);
    assert_eq!(d.transfers[0].connector, archive);
    assert_eq!(
        d.archive_copies.to_vec(),
        vec![ArchiveCopy::new(archive, Direction::Outbound)]
    );
    assert_eq!(
        kinds(&d),
        vec![EventKind::Submit, EventKind::Transfer, EventKind::Archive]
    );
    // Her secondary address is her too.
    let d = p.decide(&submitted("<asmith@example.com>", &["bob@partner.example"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Transfer(archive));

    let d = p.decide(&submitted("<carol@example.com>", &["bob@partner.example"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Transfer(main));
    assert!(d.archive_copies.is_empty());
    assert_eq!(kinds(&d), vec![EventKind::Submit, EventKind::Transfer]);
}

fn scenario_2(cfg: PolicyConfig) {
    let p = cfg
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .inbound_journal(JournalSettings::to(JOURNAL_DL_X500, "InboundJournalNDR"))
                .outbound_journal(JournalSettings::to(JOURNAL_DL_X500, "OutboundJournalNDR")),
        )
        .build()
        .unwrap();
    let ims = cid(&p, "IMS");
    let dl = id(&p, JOURNAL_DL_X500);
    let members = vec![
        Destination::Local(id(&p, "journal1")),
        Destination::Local(id(&p, "journal2")),
    ];
    // The list and its members are hidden, and the members have no SMTP address.
    for e in [dl, id(&p, "journal1"), id(&p, "journal2")] {
        let entry = p.entry(e).unwrap();
        assert!(entry.is_hidden(), "{}", entry.name());
    }
    for e in ["journal1", "journal2"] {
        assert!(!p.entry(id(&p, e)).unwrap().has_smtp_address(), "{e}");
    }

    let d = p.decide(&inbound(
        &p,
        "IMS",
        "<bob@partner.example>",
        &["carol@example.com"],
    ));
    assert_eq!(
        d.verdicts[0].disposition,
        Disposition::Deliver(id(&p, "carol"))
    );
    assert_eq!(d.journal_copies.len(), 1);
    let j = &d.journal_copies[0];
    assert_eq!(j.ndr, id(&p, "InboundJournalNDR"));
    assert_eq!(j.reverse_path, addr("inbound-journal-ndr@example.com"));
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
    assert_eq!(j.notify(), Notify::Never);
    assert_eq!(
        kinds(&d),
        vec![EventKind::Receive, EventKind::Deliver, EventKind::Journal]
    );
    assert!(!d.journal_exempt && !d.suspected_evasion && d.warnings.is_empty());

    let d = p.decide(&submitted("<carol@example.com>", &["bob@partner.example"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Transfer(ims));
    assert_eq!(d.journal_copies.len(), 1);
    let j = &d.journal_copies[0];
    assert_eq!(j.ndr, id(&p, "OutboundJournalNDR"));
    assert_eq!(j.reverse_path, addr("outbound-journal-ndr@example.com"));
    assert_eq!(j.recipients.to_vec(), members);
    assert_eq!(
        j.reasons[0].source,
        JournalSource::Connector {
            connector: ims,
            direction: Direction::Outbound
        }
    );
}

fn per_recipient(cfg: PolicyConfig, global: bool) -> Policy {
    let ca10 = PropTag::from_u32(0x8036_0000).unwrap();
    let mut settings = JournalSettings::default()
        .ndr("InboundJournalNDR")
        .recipient_property(ca10);
    if global {
        settings = settings.target(JOURNAL_DL_X500);
    }
    cfg.connector(
        ConnectorConfig::new("IMS")
            .address_space(AddressSpace::new("*", 1))
            .inbound_journal(settings),
    )
    .build()
    .unwrap()
}

fn scenario_3(cfg: PolicyConfig) {
    let p = per_recipient(cfg.clone(), false);
    let ca10 = PropTag::custom_attribute(10).unwrap();
    assert_eq!(
        p.entry(id(&p, "carol")).unwrap().property(ca10),
        Some("/o=Example/ou=HQ/cn=Recipients/cn=Branch-Managers-Journal")
    );
    check_scenario_3(
        &p,
        &per_recipient(cfg, true),
        &Scenario3 {
            list: "Branch-Managers-Journal",
            ndr: "inbound-journal-ndr@example.com",
            global_target: JOURNAL_DL_X500,
            global_members: &["journal1", "journal2"],
        },
    );
}

fn scenario_7(cfg: PolicyConfig) {
    let p = cfg
        .connector(ConnectorConfig::new("IMS").address_space(AddressSpace::new("*", 1)))
        .build()
        .unwrap();
    let board = id(&p, "board");
    let ceo = id(&p, "ceo");
    let restricted = |d: &Decision| d.verdicts[0].disposition.rejection().map(|r| r.reason);

    // A list in a mailbox's reject list (dLMemRejectPerms) blocks its members…
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
    // …but not others.
    let d = p.decide(&submitted("<frank@example.com>", &["board@example.com"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Deliver(board));

    // A sender outside the directory is refused by an accept list (dLMemSubmitPerms).
    let d = p.decide(&inbound(
        &p,
        "IMS",
        "<bob@partner.example>",
        &["ceo@example.com"],
    ));
    assert_eq!(
        restricted(&d),
        Some(RejectReason::Restricted {
            entry: ceo,
            kind: RestrictionKind::NotOnAcceptList
        })
    );
    // A member of Managers may send; someone else may not.
    let d = p.decide(&submitted("<carol@example.com>", &["ceo@example.com"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Deliver(ceo));
    let d = p.decide(&submitted("<dave@example.com>", &["ceo@example.com"]));
    assert_eq!(
        restricted(&d),
        Some(RejectReason::Restricted {
            entry: ceo,
            kind: RestrictionKind::NotOnAcceptList
        })
    );
    // Reject wins over accept: erin is in Managers and in Interns.
    let d = p.decide(&submitted("<erin@example.com>", &["ceo@example.com"]));
    assert_eq!(
        restricted(&d),
        Some(RejectReason::Restricted {
            entry: ceo,
            kind: RestrictionKind::RejectList
        })
    );

    // Nested lists: All-Staff holds Sales and Managers; the Board, one of its members,
    // refuses erin, which leaves the envelope recipient accepted with a non-delivery.
    let all = id(&p, "All-Staff");
    let d = p.decide(&submitted("<erin@example.com>", &["all-staff@example.com"]));
    assert_eq!(d.verdicts[0].disposition, Disposition::Expand(all));
    let mut delivered: Vec<&str> = d
        .deliveries
        .iter()
        .map(|x| p.entry(x.entry).unwrap().name())
        .collect();
    delivered.sort_unstable();
    assert_eq!(delivered, ["alice", "carol", "dave", "erin", "frank"]);
    assert_eq!(d.non_deliveries.len(), 1);
    assert_eq!(d.non_deliveries[0].entry, board);
    assert_eq!(d.non_deliveries[0].via.lists.to_vec(), vec![all]);
}

fn all_scenarios(source: &str, text: &str) {
    let cfg = directory(source, text);
    scenario_1(cfg.clone());
    scenario_2(cfg.clone());
    scenario_3(cfg.clone());
    scenario_7(cfg);
}

/// The names every reading of the organisation must produce.
const NAMES: [&str; 24] = [
    "legal",
    "legal-journal-box",
    "RulesJournalNDR",
    "Legal-Journal",
    "alice",
    "carol",
    "dave",
    "erin",
    "frank",
    "ceo",
    "board",
    "journal1",
    "journal2",
    "frank-journal",
    "InboundJournalNDR",
    "OutboundJournalNDR",
    "Journal-DL",
    "Branch-Managers-Journal",
    "Sales",
    "Managers",
    "Interns",
    "All-Staff",
    "partner-sales",
    // Not an entry: checked below as skipped.
    "svc-backup",
];

fn check_names(dir: &LdifDirectory) {
    let mut names: Vec<&str> = dir.entries.iter().map(|e| e.entry.name.as_str()).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = NAMES
        .iter()
        .copied()
        .filter(|n| *n != "svc-backup")
        .collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert_eq!(dir.records, dir.entries.len() + dir.skipped.len());
}

#[test]
fn example_export_maps_as_documented() {
    let dir = directory_from_ldif("examples/directory.ldif", EXAMPLE, &LdifOptions::new()).unwrap();
    check_names(&dir);
    // The domain, 5 OUs and the computer are not recipients; the service account and the
    // security group are not mail-enabled.
    assert_eq!(
        dir.skipped_counts(),
        vec![
            (SkipReason::NotARecipient, 7),
            (SkipReason::NotMailEnabled, 2)
        ]
    );
    assert_eq!(dir.records, 32);
    // Domain Users (not mail-enabled) holds no one the directory can reach, and nothing
    // references it; no reference was dropped.
    assert!(dir.warnings.is_empty(), "{:#?}", dir.warnings);
    let frank = dir
        .entries
        .iter()
        .find(|e| e.entry.name == "frank")
        .unwrap();
    assert_eq!(frank.entry.display_name, "Frank Bärwald");
    assert_eq!(frank.dn, "CN=Frank Baerwald,OU=People,DC=example,DC=com");
    let alice = dir
        .entries
        .iter()
        .find(|e| e.entry.name == "alice")
        .unwrap();
    // The X400 proxy is not mapped; legacyExchangeDN is an X500 proxy.
    assert_eq!(
        alice.entry.proxies,
        [
            "SMTP:alice@example.com",
            "smtp:asmith@example.com",
            "X500:/o=Example/ou=HQ/cn=Recipients/cn=alice",
        ]
    );
    let contact = dir
        .entries
        .iter()
        .find(|e| e.entry.name == "partner-sales")
        .unwrap();
    assert_eq!(
        contact.entry.kind,
        EntryKindConfig::Contact {
            target: "sales@partner.example".into()
        }
    );
}

#[test]
fn example_export_gives_the_scenario_decisions() {
    all_scenarios("examples/directory.ldif", EXAMPLE);
}

#[test]
fn the_example_read_back_after_writing_gives_the_same_directory() {
    let records = parse_ldif("examples/directory.ldif", EXAMPLE).unwrap();
    let written = write_ldif(&records);
    let a = directory_from_ldif("a", EXAMPLE, &LdifOptions::new()).unwrap();
    let b = directory_from_ldif("a", &written, &LdifOptions::new()).unwrap();
    let configs = |d: LdifDirectory| d.into_entry_configs();
    assert_eq!(configs(a), configs(b));
}

#[test]
fn a_name_in_both_the_policy_and_the_export_is_refused() {
    let dir = directory_from_ldif("people.ldif", EXAMPLE, &LdifOptions::new()).unwrap();
    let mut cfg = PolicyConfig::new("example.com").entry(person("Carol"));
    let err = merge_directory(&mut cfg, "policy.toml", dir).unwrap_err();
    assert_eq!(
        err.to_string(),
        "entry \"carol\" is defined in both policy.toml and people.ldif"
    );
}

/// The same organisation, loaded into a real slapd and exported with `ldapsearch -LLL`
/// by tests/ldap/run.sh, which sets `MJ_LDIF_EXPORT` to the export's path.
#[test]
fn export_from_a_real_slapd_gives_the_scenario_decisions() {
    let Some(path) = std::env::var_os("MJ_LDIF_EXPORT") else {
        eprintln!(
            "skipped: MJ_LDIF_EXPORT is not set; tests/ldap/run.sh sets it to an export of a real slapd"
        );
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let source = path.to_string_lossy();
    let dir = directory_from_ldif(&source, &text, &LdifOptions::new()).unwrap();
    check_names(&dir);
    assert!(dir.warnings.is_empty(), "{:#?}", dir.warnings);
    eprintln!(
        "{source}: {} records, {} entries, skipped {:?}",
        dir.records,
        dir.entries.len(),
        dir.skipped_counts()
    );
    all_scenarios(&source, &text);
}
