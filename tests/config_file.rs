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
fn a_wrong_type_names_the_field() {
    let e = error_of(&format!(
        "{HEAD}[[entries]]\nname = \"carol\"\nkind = \"mailbox\"\nhidden = \"yes\"\n"
    ));
    assert!(e.starts_with("entries[0].hidden: "), "{e}");
    assert!(e.contains("boolean"), "{e}");
}

#[test]
fn an_unknown_key_names_the_field() {
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"IMS\"\ncolour = \"blue\"\n"
    ));
    assert!(e.starts_with("connectors[0]"), "{e}");
    assert!(e.contains("unknown field `colour`"), "{e}");
    let e = error_of(&format!("{HEAD}organization = \"typo.example\"\n"));
    assert!(e.contains("unknown field `organization`"), "{e}");
}

#[test]
fn a_missing_ndr_address_names_the_direction() {
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"IMS\"\n[connectors.outbound_journal]\ntarget = \"X500:/o=Example/cn=Journal-DL\"\n"
    ));
    assert_eq!(
        e,
        "connectors[0].outbound_journal: ndr (the journal-NDR address) is required when target or recipient_property is set"
    );
}

#[test]
fn a_bad_cost_names_the_field() {
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"A\"\naddress_spaces = [{{ pattern = \"*\", cost = 1 }}]\n[[connectors]]\nname = \"B\"\naddress_spaces = [{{ pattern = \"*\", cost = 0 }}]\n"
    ));
    assert_eq!(
        e,
        "connectors[1].address_spaces[0].cost: 0 is out of range 1..=100"
    );
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"A\"\naddress_spaces = [{{ pattern = \"*\", cost = 101 }}]\n"
    ));
    assert_eq!(
        e,
        "connectors[0].address_spaces[0].cost: 101 is out of range 1..=100"
    );
}

#[test]
fn bad_values_checked_while_reading_name_their_field() {
    let e = error_of(&format!(
        "{HEAD}[[connectors]]\nname = \"IMS\"\ninbound_journal = {{ ndr = \"x\", recipient_property = 0x12345678 }}\n"
    ));
    assert!(
        e.starts_with("connectors[0].inbound_journal.recipient_property: "),
        "{e}"
    );
    assert!(
        e.contains("0x12345678") && e.contains("10=0x80360000"),
        "{e}"
    );
    let e = error_of(&format!(
        "{HEAD}[[entries]]\nname = \"carol\"\nkind = \"mailbox\"\nproxies = [\"SMTP:carol@example.com\", \"SMTP:not an address\"]\n"
    ));
    assert!(e.starts_with("entries[0].proxies[1]: "), "{e}");
    let e = error_of(&format!(
        "{HEAD}[[entries]]\nname = \"x\"\nkind = \"robot\"\n"
    ));
    assert!(e.starts_with("entries[0].kind: "), "{e}");
    let e = error_of(&format!("{HEAD}journal_format = \"pdf\"\n"));
    assert!(
        e.starts_with("journal_format: ") && e.contains("\"pdf\""),
        "{e}"
    );
    // Syntax errors have no field path but still say where.
    let e = error_of("organisation = ");
    assert!(e.contains("line 1") || e.contains("expected"), "{e}");
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
