//! Configuration files: `examples/policy.toml` expresses the demo organisation exactly,
//! and every kind of mistake gives one clear message with the field's path.
#![cfg(feature = "serde")]

mod common;

use mail_journal::*;

fn policy_toml() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policy.toml")).unwrap()
}

#[test]
fn the_example_policy_decides_exactly_like_the_demo_policy() {
    let from_file = PolicyConfig::from_toml(&policy_toml()).unwrap();
    assert_eq!(
        from_file,
        demo::config(),
        "examples/policy.toml and demo::config() differ"
    );
    let (a, b) = (from_file.build().unwrap(), demo::policy().unwrap());
    let main = a.connector_id("IMS-Main").unwrap();
    let cases: Vec<(Origin, &str, Vec<&str>)> = vec![
        (
            Origin::Submitted,
            "<alice@example.com>",
            vec!["bob@partner.example"],
        ),
        (
            Origin::Submitted,
            "<carol@example.com>",
            vec!["bob@partner.example", "nobody@example.com"],
        ),
        (
            Origin::Inbound { connector: main },
            "<bob@partner.example>",
            vec!["carol@example.com", "dave@example.com", "sales@example.com"],
        ),
        (
            Origin::Submitted,
            "<erin@example.com>",
            vec!["ceo@example.com", "managers@example.com"],
        ),
        (
            Origin::Submitted,
            "<dave@example.com>",
            vec!["legal@example.com"],
        ),
    ];
    for (origin, from, to) in cases {
        let env = common::envelope(origin, from, &to, common::MESSAGE);
        assert_eq!(a.decide(&env), b.decide(&env), "{from} -> {to:?}");
    }
}

#[test]
fn json_reads_the_same_structure() {
    let json = r#"{
        "organisation": "example.com",
        "accepted_domains": ["example.com"],
        "entries": [
            {"name": "carol", "kind": "mailbox", "proxies": ["SMTP:carol@example.com"],
             "properties": {"custom attribute 10": "jdl"}},
            {"name": "jdl", "kind": "distribution_list", "members": ["j"], "hidden": true},
            {"name": "j", "kind": "mailbox", "hidden": true, "delivery": "j@store.example.internal"},
            {"name": "ndr", "kind": "mailbox", "proxies": ["SMTP:ndr@example.com"], "hidden": true}
        ],
        "connectors": [
            {"name": "IMS", "address_spaces": [{"pattern": "*", "cost": 1}],
             "inbound_journal": {"ndr": "ndr", "recipient_property": 2151022592}}
        ]
    }"#;
    let p = PolicyConfig::from_json(json).unwrap().build().unwrap();
    let ims = p.connector_id("IMS").unwrap();
    let d = p.decide(&common::envelope(
        Origin::Inbound { connector: ims },
        "<bob@partner.example>",
        &["carol@example.com"],
        common::MESSAGE,
    ));
    assert_eq!(d.journal_copies.len(), 1);
    assert_eq!(d.journal_copies[0].reverse_path.as_str(), "ndr@example.com");
}

fn error_of(toml: &str) -> String {
    PolicyConfig::from_toml(toml).unwrap_err().to_string()
}

const HEAD: &str = "organisation = \"example.com\"\naccepted_domains = [\"example.com\"]\n";

#[test]
fn a_wrong_type_speaks_the_files_language_and_names_the_entry() {
    assert_eq!(
        error_of(&format!(
            "{HEAD}[[entries]]\nname = \"carol\"\nkind = \"mailbox\"\nhidden = \"yes\"\n"
        )),
        "line 6: entries[0] (\"carol\").hidden: expected true or false, found the string \"yes\""
    );
    assert_eq!(
        error_of(&format!(
            "{HEAD}[[connectors]]\nname = \"A\"\naddress_spaces = [{{ pattern = \"*\", cost = \"x\" }}]\n"
        )),
        "line 5: connectors[0] (\"A\").address_spaces[0].cost: expected an integer 1–100, found the string \"x\""
    );
    assert_eq!(
        error_of(&format!("{HEAD}[limits]\nmax_recipients = -3\n")),
        "line 4: limits.max_recipients: expected a whole number (0 or more), found the integer -3"
    );
    assert_eq!(
        error_of(&format!("{HEAD}entries = 5\n")),
        "line 3: entries: expected a list, [ … ], found the integer 5"
    );
}

#[test]
fn an_unknown_key_names_the_field() {
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"IMS\"\ncolour = \"blue\"\n"
    ));
    assert_eq!(
        e,
        "line 5: connectors[0] (\"IMS\").colour: unknown field `colour`, expected one of `name`, `address_spaces`, `restrictions`, `archival`, `inbound_journal`, `outbound_journal`, `accepts_inbound`, `next_hop`"
    );
    let e = error_of(&format!("{HEAD}organization = \"typo.example\"\n"));
    assert!(
        e.starts_with(
            "line 3: organization: unknown field `organization`, expected one of `organisation`,"
        ),
        "{e}"
    );
}

#[test]
fn a_missing_ndr_address_names_the_direction() {
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"IMS\"\n[connectors.outbound_journal]\ntarget = \"X500:/o=Example/cn=Journal-DL\"\n"
    ));
    assert_eq!(
        e,
        "line 5: connectors[0] (\"IMS\").outbound_journal: ndr (the journal-NDR address) is required when target or recipient_property is set"
    );
}

#[test]
fn a_bad_cost_names_the_field() {
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"A\"\naddress_spaces = [{{ pattern = \"*\", cost = 1 }}]\n[[connectors]]\nname = \"B\"\naddress_spaces = [{{ pattern = \"*\", cost = 0 }}]\n"
    ));
    assert_eq!(
        e,
        "line 8: connectors[1] (\"B\").address_spaces[0].cost: 0 is out of range: expected an integer 1–100"
    );
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"A\"\naddress_spaces = [{{ pattern = \"*\", cost = 101 }}]\n"
    ));
    assert_eq!(
        e,
        "line 5: connectors[0] (\"A\").address_spaces[0].cost: 101 is out of range: expected an integer 1–100"
    );
}

#[test]
fn bad_values_checked_while_reading_name_their_field() {
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"IMS\"\ninbound_journal = {{ ndr = \"x\", recipient_property = 0x12345678 }}\n"
    ));
    assert!(
        e.starts_with("line 5: connectors[0] (\"IMS\").inbound_journal.recipient_property: unknown property tag 0x12345678; valid values: custom attributes 1-15 (1=0x802D0000,"),
        "{e}"
    );
    assert!(e.contains("10=0x80360000"), "{e}");
    assert_eq!(
        error_of(&format!(
            "{HEAD}[[entries]]\nname = \"carol\"\nkind = \"mailbox\"\n[[entries]]\nname = \"journal-box\"\nkind = \"mailbox\"\nproxies = [\"X500:/o=Ex/cn=j\", \"FAX:1\"]\n"
        )),
        "line 9: entries[1] (\"journal-box\").proxies[1]: unknown proxy address type \"FAX\" in \"FAX:1\" (expected SMTP, smtp, X500 or EX)"
    );
    assert_eq!(
        error_of(&format!(
            "{HEAD}[[entries]]\nname = \"x\"\nkind = \"robot\"\n"
        )),
        "line 5: entries[0] (\"x\").kind: unknown variant `robot`, expected one of `mailbox`, `distribution_list`, `contact`, `public_folder`"
    );
    assert_eq!(
        error_of(&format!("{HEAD}journal_format = \"pdf\"\n")),
        "line 3: journal_format: \"pdf\" is not a journal format (envelope or copy)"
    );
}

#[test]
fn syntax_errors_carry_line_and_column() {
    assert_eq!(
        error_of("organisation = \"exa\nmple\""),
        "line 1, column 20: invalid basic string"
    );
    assert_eq!(
        error_of("organisation = "),
        "line 1, column 16: invalid TOML: a value is missing or malformed"
    );
    assert_eq!(
        PolicyConfig::from_json("{\"organisation\": \"x\", \"entries\": [{\"name\":\"a\",\"kind\":\"mailbox\",\"hidden\":3}]}")
            .unwrap_err()
            .to_string(),
        "line 1: entries[0] (\"a\").hidden: expected true or false, found the integer 3"
    );
}

#[test]
fn a_policy_file_names_itself_and_its_directory_files_in_errors() {
    use std::path::Path;
    let path = Path::new("/etc/mail-journal/policy.toml");
    let read_err = PolicyConfig::from_toml_file(
        path,
        &format!("{HEAD}directory = [\"people.ldif\"]\n"),
        |_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "No such file or directory",
            ))
        },
    )
    .unwrap_err();
    assert_eq!(
        read_err.to_string(),
        "/etc/mail-journal/policy.toml cannot read directory file /etc/mail-journal/people.ldif: No such file or directory"
    );
    let syntax =
        PolicyConfig::from_toml_file(path, "organisation = ", |_| Ok(String::new())).unwrap_err();
    assert_eq!(
        syntax.to_string(),
        "/etc/mail-journal/policy.toml line 1, column 16: invalid TOML: a value is missing or malformed"
    );
    // An entry defined both in the policy and in the export names both sources.
    let ldif =
        "dn: cn=carol,dc=example,dc=com\nobjectClass: user\ncn: carol\nmail: carol@example.com\n";
    let both = PolicyConfig::from_toml_file(
        path,
        &format!("{HEAD}directory = [\"people.ldif\"]\n[[entries]]\nname = \"carol\"\nkind = \"mailbox\"\n"),
        |_| Ok(ldif.to_owned()),
    )
    .unwrap_err();
    assert_eq!(
        both.to_string(),
        "entry \"carol\" is defined in both /etc/mail-journal/policy.toml and /etc/mail-journal/people.ldif"
    );
    // Without a reader, a file naming directory exports is refused, not half read.
    assert_eq!(
        error_of(&format!("{HEAD}directory = [\"people.ldif\"]\n")),
        "directory: LDIF directory files are read by PolicyConfig::from_toml_file, which is given a way to read them"
    );
    // Reading and building share one error type.
    let built: Result<Policy, ConfigError> = PolicyConfig::from_toml_file(
        path,
        &format!("{HEAD}directory = [\"people.ldif\"]\n"),
        |_| Ok(ldif.to_owned()),
    )
    .and_then(PolicyConfig::build);
    assert!(
        built
            .unwrap()
            .entry_by_address("carol@example.com")
            .is_some()
    );
}

#[test]
fn errors_that_need_the_whole_file_come_from_build() {
    // A reference to a missing entry is only known once every entry is read.
    let cfg = PolicyConfig::from_toml(&format!(
        "{HEAD}[[entries]]\nname = \"dl\"\nkind = \"distribution_list\"\nmembers = [\"ghost\"]\n"
    ))
    .unwrap();
    let e = cfg.build().unwrap_err().to_string();
    assert!(e.contains("\"dl\"") && e.contains("\"ghost\""), "{e}");
}

#[test]
fn build_errors_name_the_configuration_key_and_the_registry_name() {
    let base = || {
        PolicyConfig::new("example.com")
            .accepted_domain("example.com")
            .entry(EntryConfig::mailbox("j").delivery("j@store.example.internal"))
    };
    let missing = base()
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .inbound_journal(JournalSettings::default().target("j")),
        )
        .build()
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "connector \"IMS\": inbound journaling is on but inbound_journal.ndr (InboundJournalNDR) is not set; the journal-NDR address is mandatory"
    );
    let unresolved = base()
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .outbound_journal(JournalSettings::to("X500:/o=Example/cn=nowhere", "j")),
        )
        .build()
        .unwrap_err();
    assert_eq!(
        unresolved.to_string(),
        "connector \"IMS\" outbound_journal.target (OutboundJournal): \"X500:/o=Example/cn=nowhere\" does not resolve to a directory entry"
    );
}

#[test]
fn the_ldif_example_policy_reads_its_export() {
    use std::path::Path;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ldif-policy.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let p = PolicyConfig::from_toml_file(&path, &text, |f| std::fs::read_to_string(f))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(p.audit(), vec![]);
    // The same scenario 1 decision as the hand-written demo policy.
    let d = p.decide(&common::submitted(
        "<alice@example.com>",
        &["bob@partner.example"],
    ));
    let archive = p.connector_id("IMS-Archive").unwrap();
    assert_eq!(d.verdicts[0].disposition, Disposition::Transfer(archive));
    assert_eq!(d.archive_copies.len(), 1);
    assert_eq!(d.journal_copies.len(), 1);
}
