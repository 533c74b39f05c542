//! Renderers: golden files, round trips through two independent parsers (mail-parser and
//! Python's `email`), zero copy, and hostile originals.

mod common;
mod fuzz_harness;

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use common::*;
use mail_journal::render::{self, Rendered};
use mail_journal::*;
use mail_parser::MessageParser;

const AT: Timestamp = Timestamp::from_unix(1_795_342_500);

/// scenario 2 (ARCHITECTURE.md §6) (Q262122), with Message Archival on so that every renderer has
/// something to render, and a list and a Bcc recipient so the summary shows its facts.
fn policy() -> Policy {
    scenario2_directory()
        .entry(person("dave"))
        .entry(person("erin"))
        .entry(person("frank"))
        .entry(
            EntryConfig::distribution_list("Sales", ["dave", "erin"])
                .proxy("SMTP:sales@example.com"),
        )
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .archival(true)
                .inbound_journal(JournalSettings::to(JOURNAL_DL, "InboundJournalNDR"))
                .outbound_journal(JournalSettings::to(JOURNAL_DL, "OutboundJournalNDR")),
        )
        .render_secret("golden-files")
        .build()
        .unwrap()
}

const INBOUND: &[u8] = b"From: Bob Partner <bob@partner.example>\r\n\
To: Carol Jones <carol@example.com>\r\n\
Cc: sales@example.com\r\n\
Subject: Q3 numbers\r\n\
Message-ID: <1234@partner.example>\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
\r\n\
The numbers are in.\r\n";

fn inbound_envelope(p: &Policy, message: &[u8]) -> Envelope {
    let ims = p.connector_id("IMS").unwrap();
    envelope(
        Origin::Inbound { connector: ims },
        "<bob@partner.example>",
        &[
            "carol@example.com",
            "sales@example.com",
            "frank@example.com",
        ],
        message,
    )
}

fn outbound_envelope(message: &[u8]) -> Envelope {
    envelope(
        Origin::Submitted,
        "<carol@example.com>",
        &["bob@partner.example", "nobody@example.com"],
        message,
    )
}

fn golden(name: &str, rendered: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("MJ_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, rendered).unwrap();
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        expected == rendered,
        "{name} differs from the golden file:\n--- expected\n{}\n--- got\n{}",
        String::from_utf8_lossy(&expected),
        String::from_utf8_lossy(rendered)
    );
}

#[test]
fn golden_files_for_scenario_2() {
    let p = policy();
    let env = inbound_envelope(&p, INBOUND);
    let d = p.decide(&env);
    assert_eq!(d.journal_copies.len(), 1);
    assert_eq!(d.archive_copies.len(), 1);
    golden(
        "scenario2_journal_report.eml",
        &render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec(),
    );
    golden(
        "scenario2_archive_record.eml",
        &render::archive_record(&p, &env, &d, &d.archive_copies[0]).to_vec(),
    );
    let mut csv = render::tracking_log::csv_preamble(AT).into_bytes();
    csv.extend(render::tracking_log::csv(&p, &env, &d).to_vec());
    let mut log55 = render::tracking_log::exchange55_preamble().into_bytes();
    log55.extend(render::tracking_log::exchange55(&p, &env, &d).to_vec());

    let out = outbound_envelope(INBOUND);
    let od = p.decide(&out);
    csv.extend(render::tracking_log::csv(&p, &out, &od).to_vec());
    log55.extend(render::tracking_log::exchange55(&p, &out, &od).to_vec());
    golden("scenario2_tracking.csv", &csv);
    golden("scenario2_tracking_55.log", &log55);
    golden(
        "scenario2_dsn.eml",
        &render::dsn(&p, &out, &od, AT).unwrap().to_vec(),
    );
}

/// The bytes of the message/rfc822 part, as mail-parser sees them.
fn attached(report: &[u8]) -> Vec<u8> {
    fuzz_harness::attached(report).expect("a message/rfc822 part")
}

fn summary_text(report: &[u8]) -> String {
    let m = MessageParser::new().parse(report).unwrap();
    m.body_text(0).expect("a text part").into_owned()
}

#[test]
fn journal_report_round_trips_through_mail_parser() {
    let p = policy();
    let env = inbound_envelope(&p, INBOUND);
    let d = p.decide(&env);
    let report = render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec();
    let m = MessageParser::new().parse(&report[..]).unwrap();
    assert_eq!(m.subject(), Some("Q3 numbers"));
    assert_eq!(
        m.from().unwrap().first().unwrap().address(),
        Some("bob@partner.example")
    );
    assert!(m.header_raw("X-MS-Journal-Report").is_some());
    assert_eq!(attached(&report), INBOUND);
    let summary = summary_text(&report);
    let lines: Vec<&str> = summary.lines().collect();
    // From the Internet the addressing cannot be trusted: every line is `Recipient`.
    assert_eq!(
        lines,
        vec![
            "Sender: bob@partner.example",
            "Subject: Q3 numbers",
            "Message-ID: <1234@partner.example>",
            "Recipient: carol@example.com",
            "Recipient: dave@example.com, Expanded: sales@example.com",
            "Recipient: erin@example.com, Expanded: sales@example.com",
            "Recipient: frank@example.com",
        ]
    );
    // Submitted, the same addressing is trusted: To / Cc / Bcc, and the list qualifier
    // only where archivers read it as one (never on Cc / Bcc lines).
    let sub = envelope(
        Origin::Submitted,
        "<bob@example.com>",
        &[
            "carol@example.com",
            "sales@example.com",
            "frank@example.com",
            "x@partner.example",
        ],
        INBOUND,
    );
    let sd = p.decide(&sub);
    let sub_report = render::journal_report(&p, &sub, &sd, &sd.journal_copies[0], AT).to_vec();
    let sub_summary = summary_text(&sub_report);
    assert_eq!(
        sub_summary.lines().skip(1).collect::<Vec<_>>(),
        vec![
            "On-Behalf-Of: bob@partner.example",
            "Subject: Q3 numbers",
            "Message-ID: <1234@partner.example>",
            "To: carol@example.com",
            "Cc: dave@example.com",
            "Cc: erin@example.com",
            "Bcc: frank@example.com",
            "Bcc: x@partner.example",
        ]
    );
    // Deterministic.
    assert_eq!(
        report,
        render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec()
    );
    // The engine recognises its own output when it comes back to the journal mailboxes;
    // the same report sent to an ordinary mailbox is not exempt, and is flagged.
    let fed = envelope(
        Origin::Submitted,
        "<inbound-ndr@example.com>",
        &[
            "journal1@store.example.internal",
            "journal2@store.example.internal",
        ],
        &report,
    );
    assert!(p.decide(&fed).journal_exempt);
    let misused = envelope(
        Origin::Submitted,
        "<inbound-ndr@example.com>",
        &["carol@example.com"],
        &report,
    );
    let d = p.decide(&misused);
    assert!(!d.journal_exempt && d.suspected_evasion);
}

#[test]
fn on_behalf_of_forwarded_and_unknowns() {
    let p = PolicyConfig::new("example.com")
        .accepted_domain("example.com")
        .entry(person("carol"))
        .entry(
            EntryConfig::contact("erin-home", "erin@home.example").proxy("SMTP:erin@example.com"),
        )
        .entry(hidden("j"))
        .entry(ndr("NDR", "ndr@example.com"))
        .connector(
            ConnectorConfig::new("IMS")
                .address_space(AddressSpace::new("*", 1))
                .outbound_journal(JournalSettings::to("j", "NDR")),
        )
        .build()
        .unwrap();
    let msg = b"From: Boss <boss@example.com>\r\nTo: erin@example.com\r\n\r\nhi\r\n";
    let env = envelope(
        Origin::Submitted,
        "<carol@example.com>",
        &["erin@example.com"],
        msg,
    );
    let d = p.decide(&env);
    let report = render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec();
    let lines: Vec<String> = summary_text(&report).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        vec![
            "Sender: carol@example.com",
            "On-Behalf-Of: boss@example.com",
            "Subject: ",
            "Message-ID: Unknown Message-ID",
            "To: erin@home.example, Forwarded: erin@example.com",
        ]
    );
    // No headers at all: recipients of unknown type, sender from the envelope, null
    // sender spelled out.
    let env = envelope(
        Origin::Submitted,
        "<>",
        &["erin@example.com"],
        b"no headers here",
    );
    let d = p.decide(&env);
    let report = render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec();
    let lines: Vec<String> = summary_text(&report).lines().map(str::to_owned).collect();
    assert_eq!(lines[0], "Sender: Unspecified Address");
    assert_eq!(
        lines.last().unwrap(),
        "Recipient: erin@home.example, Forwarded: erin@example.com"
    );
    assert_eq!(attached(&report), b"no headers here");
}

#[test]
fn the_original_is_shared_not_copied() {
    let p = policy();
    let mut big = INBOUND.to_vec();
    big.extend(std::iter::repeat_n(b'x', 1024 * 1024));
    let original = Bytes::from(big);
    let env = inbound_envelope(&p, &original);
    let env = Envelope::builder(env.origin(), &env.reverse_path().to_string())
        .unwrap()
        .recipient("carol@example.com")
        .unwrap()
        .message(original.clone())
        .envelope_id("Q-big")
        .build()
        .unwrap();
    let d = p.decide(&env);
    let shares = |r: &Rendered| {
        r.chunks()
            .iter()
            .any(|c| c.as_ptr() == original.as_ptr() && c.len() == original.len())
    };
    assert!(shares(&render::journal_report(
        &p,
        &env,
        &d,
        &d.journal_copies[0],
        AT
    )));
    assert!(shares(&render::journal_copy(&env)));
    assert!(shares(&render::archive_record(
        &p,
        &env,
        &d,
        &d.archive_copies[0]
    )));
    let report = render::journal_report(&p, &env, &d, &d.journal_copies[0], AT);
    assert_eq!(report.chunks().len(), 3);
    assert!(report.chunks()[0].len() < 4096 && report.chunks()[2].len() < 128);
    // The DSN shares the header block.
    let out = Envelope::builder(Origin::Submitted, "<carol@example.com>")
        .unwrap()
        .recipient("nobody@example.com")
        .unwrap()
        .message(original.clone())
        .envelope_id("Q-big2")
        .build()
        .unwrap();
    let od = p.decide(&out);
    let dsn = render::dsn(&p, &out, &od, AT).unwrap();
    assert!(dsn.chunks().iter().any(|c| c.as_ptr() == original.as_ptr()));
    assert!(dsn.len() < 8192);
}

fn python() -> Option<PathBuf> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("python3"))
}

fn python_parse(rendered: &[u8], original: Option<&[u8]>) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!("mj-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = rendered.len() ^ original.map_or(0, |o| o.len() << 1);
    let r = dir.join(format!("r{n}.eml"));
    std::fs::write(&r, rendered).unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parse_with_python.py"))
        .arg(&r);
    if let Some(o) = original {
        let op = dir.join(format!("o{n}.eml"));
        std::fs::write(&op, o).unwrap();
        cmd.arg(op);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn python_email_parses_every_renderer_and_recovers_the_facts() {
    if python().is_none() {
        eprintln!("python3 not found: skipping the independent-parser check");
        return;
    }
    let p = policy();
    let env = inbound_envelope(&p, INBOUND);
    let d = p.decide(&env);

    // Journal report.
    let report = render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec();
    let j = python_parse(&report, Some(INBOUND));
    assert_eq!(j["defects"], serde_json::json!([]), "{j}");
    assert_eq!(j["content_type"], "multipart/mixed");
    assert_eq!(j["headers"]["subject"][0], "Q3 numbers");
    assert_eq!(j["headers"]["x-ms-journal-report"][0], "");
    assert_eq!(j["parts"][0]["content_type"], "text/plain");
    assert_eq!(j["parts"][1]["content_type"], "message/rfc822");
    assert_eq!(
        j["parts"][1]["inner_headers"]["message-id"][0],
        "<1234@partner.example>"
    );
    assert_eq!(j["rfc822_equals_original"], true);
    let text = j["parts"][0]["text"].as_str().unwrap();
    for (v, _) in d.deliveries.iter().map(|x| (x, ())) {
        let addr = p
            .entry(v.entry)
            .unwrap()
            .primary_smtp()
            .unwrap()
            .to_string();
        assert!(text.contains(&addr), "{addr} missing from {text}");
    }
    // Mail from the Internet: every recipient, Bcc included, on a `Recipient` line.
    assert!(text.contains("Recipient: frank@example.com"));
    assert!(!text.contains("Bcc:") && !text.contains("To:"));
    assert!(text.contains("Sender: bob@partner.example"));

    // Copy format.
    let copy = render::journal_copy(&env).to_vec();
    let j = python_parse(&copy, Some(INBOUND));
    assert_eq!(j["body_equals_original"], true);
    assert_eq!(j["headers"]["message-id"][0], "<1234@partner.example>");

    // Archive record: the envelope, Bcc recipients included.
    let rec = render::archive_record(&p, &env, &d, &d.archive_copies[0]).to_vec();
    let j = python_parse(&rec, Some(INBOUND));
    assert_eq!(j["headers"]["x-sender"][0], "<bob@partner.example>");
    assert_eq!(
        j["headers"]["x-receiver"],
        serde_json::json!([
            "<carol@example.com>",
            "<frank@example.com>",
            "<sales@example.com>"
        ])
    );
    assert_eq!(j["headers"]["x-archive-connector"][0], "IMS");
    assert_eq!(j["headers"]["subject"][0], "Q3 numbers");
    assert_eq!(j["body_equals_original"], true);

    // DSN.
    let out = outbound_envelope(INBOUND);
    let od = p.decide(&out);
    let dsn = render::dsn(&p, &out, &od, AT).unwrap().to_vec();
    let j = python_parse(&dsn, None);
    assert_eq!(j["defects"], serde_json::json!([]), "{j}");
    assert_eq!(j["content_type"], "multipart/report");
    assert_eq!(j["params"]["report-type"], "delivery-status");
    assert_eq!(j["headers"]["to"][0], "carol@example.com");
    let kinds: Vec<&str> = j["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["content_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "text/plain",
            "message/delivery-status",
            "text/rfc822-headers"
        ]
    );
    let status = &j["status"];
    assert_eq!(status[0]["reporting-mta"], "dns; example.com");
    assert_eq!(status[1]["final-recipient"], "rfc822; nobody@example.com");
    assert_eq!(status[1]["action"], "failed");
    assert_eq!(status[1]["status"], "5.1.1");
    assert!(
        status[1]["diagnostic-code"]
            .as_str()
            .unwrap()
            .starts_with("smtp; 550 5.1.1")
    );
    assert!(
        j["parts"][2]["text"]
            .as_str()
            .unwrap()
            .contains("Message-ID: <1234@partner.example>")
    );
}

#[test]
fn no_dsn_for_the_null_sender_never_or_nothing_failed() {
    let p = policy();
    let env = envelope(Origin::Submitted, "<>", &["nobody@example.com"], INBOUND);
    assert!(render::dsn(&p, &env, &p.decide(&env), AT).is_none());
    let env = envelope(
        Origin::Submitted,
        "<carol@example.com>",
        &["dave@example.com"],
        INBOUND,
    );
    assert!(render::dsn(&p, &env, &p.decide(&env), AT).is_none());
    let env = Envelope::builder(Origin::Submitted, "<carol@example.com>")
        .unwrap()
        .recipient_with(Recipient::new(addr("nobody@example.com")).notify(Notify::Never))
        .message(INBOUND)
        .envelope_id("Q-never")
        .build()
        .unwrap();
    assert!(render::dsn(&p, &env, &p.decide(&env), AT).is_none());
    // Inbound refusals are given at RCPT time, not in a DSN.
    let env = inbound_envelope(&p, INBOUND);
    let env = Envelope::builder(env.origin(), "<bob@partner.example>")
        .unwrap()
        .recipient("nobody@example.com")
        .unwrap()
        .message(INBOUND)
        .envelope_id("Q-in")
        .build()
        .unwrap();
    assert!(render::dsn(&p, &env, &p.decide(&env), AT).is_none());
}

#[test]
fn storage_keys() {
    let p = policy();
    let env = inbound_envelope(&p, INBOUND);
    let d = p.decide(&env);
    assert_eq!(
        d.archive_copies[0].storage_key(&env),
        "2026/11/22/bob@partner.example/Q-0001.eml"
    );
    let nasty = Envelope::builder(env.origin(), "<>")
        .unwrap()
        .recipient("carol@example.com")
        .unwrap()
        .envelope_id("../../etc/passwd")
        .build()
        .unwrap();
    let key = d.archive_copies[0].storage_key(&nasty);
    assert!(key.starts_with("1970/01/01/null-sender/"), "{key}");
    assert_eq!(key.matches('/').count(), 4, "{key}");
    assert!(!key.contains(".."), "{key}");
}

/// Originals designed to break a careless renderer.
fn hostile() -> Vec<(&'static str, Vec<u8>)> {
    let mut long_header = b"Subject: ".to_vec();
    long_header.extend(std::iter::repeat_n(b'y', 1024 * 1024));
    long_header.extend_from_slice(b"\r\n\r\nbody\r\n");
    vec![
        ("bare LF", b"From: a@partner.example\nTo: carol@example.com\nSubject: lf\n\nbody\n".to_vec()),
        ("NUL bytes", b"Subject: n\0ul\r\nFrom: a@partner.example\r\n\r\nb\0dy\r\n".to_vec()),
        (
            "8-bit headers",
            b"Subject: \xe4\xf6\xfc Gr\xfc\xdfe\r\nFrom: J\xfcrgen <j@partner.example>\r\n\r\n\xff\xfe\r\n".to_vec(),
        ),
        ("no headers", b"just a body, no headers at all\r\n".to_vec()),
        ("1 MiB header line", long_header),
        (
            "boundary-like lines",
            b"Subject: b\r\nContent-Type: multipart/mixed; boundary=\"=_mj_x\"\r\n\r\n--=_mj_x\r\n\r\n--=_mj_\r\n--=_mj_x--\r\n".to_vec(),
        ),
        (
            "CR/LF in subject",
            b"Subject: =?utf-8?q?evil=0D=0ABcc:_victim@x.example=0D=0A=0D=0Abody?=\r\nFrom: \"Mal\r\n lory\" <m@partner.example>\r\n\r\nx\r\n".to_vec(),
        ),
        ("empty", Vec::new()),
    ]
}

#[test]
fn hostile_originals_still_give_well_formed_output() {
    let p = policy();
    let py = python().is_some();
    for (name, original) in hostile() {
        let env = inbound_envelope(&p, &original);
        let d = p.decide(&env);
        let report = render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec();
        // The attached original is byte for byte.
        assert_eq!(attached(&report), original, "{name}");
        // The report's own header block is clean: CRLF lines, no bare CR or LF, no
        // injected headers, every line within 998 characters.
        let head_end = report.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = std::str::from_utf8(&report[..head_end]).expect("report headers are ASCII");
        for line in head.split("\r\n") {
            assert!(
                !line.contains('\r') && !line.contains('\n'),
                "{name}: {line:?}"
            );
            assert!(line.len() <= 998, "{name}: header line of {}", line.len());
        }
        let names: Vec<&str> = head
            .split("\r\n")
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert!(
            !names.iter().any(|n| n.eq_ignore_ascii_case("bcc")),
            "{name}: {names:?}"
        );
        let summary = summary_text(&report);
        assert!(
            summary.lines().all(|l| !l.starts_with("Bcc: victim")),
            "{name}"
        );
        let m = MessageParser::new().parse(&report[..]).unwrap();
        assert_eq!(m.parts.len(), 3, "{name}");

        let rec = render::archive_record(&p, &env, &d, &d.archive_copies[0]).to_vec();
        assert!(rec.ends_with(&original));
        if py {
            let j = python_parse(&report, Some(&original));
            assert_eq!(j["rfc822_equals_original"], true, "{name}");
            assert_eq!(j["raw_part_count"], 2, "{name}");
            assert_eq!(j["parts"].as_array().unwrap().len(), 2, "{name}");
        }
        let out = outbound_envelope(&original);
        let od = p.decide(&out);
        let dsn = render::dsn(&p, &out, &od, AT).unwrap().to_vec();
        let m = MessageParser::new().parse(&dsn[..]).unwrap();
        assert!(m.parts.len() >= 4, "{name}");
        if py {
            let j = python_parse(&dsn, None);
            assert_eq!(j["parts"].as_array().unwrap().len(), 3, "{name}: {j}");
        }
        for log in [
            render::tracking_log::csv(&p, &env, &d).to_vec(),
            render::tracking_log::exchange55(&p, &env, &d).to_vec(),
        ] {
            let text = String::from_utf8(log).unwrap();
            assert_eq!(text.matches("\r\n").count(), d.tracking.len(), "{name}");
            assert_eq!(text.matches('\n').count(), d.tracking.len(), "{name}");
        }
    }
}

#[test]
fn non_ascii_subjects_and_names_are_encoded() {
    let p = policy();
    let msg = "From: Jürgen Groß <j@partner.example>\r\nTo: carol@example.com\r\nSubject: Zahlen für Q3 — Übersicht\r\n\r\nx\r\n";
    let env = inbound_envelope(&p, msg.as_bytes());
    let d = p.decide(&env);
    let report = render::journal_report(&p, &env, &d, &d.journal_copies[0], AT).to_vec();
    let head_end = report.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(report[..head_end].is_ascii());
    let m = MessageParser::new().parse(&report[..]).unwrap();
    assert_eq!(m.subject(), Some("Zahlen für Q3 — Übersicht"));
    assert_eq!(
        m.from().unwrap().first().unwrap().name(),
        Some("Jürgen Groß")
    );
    let summary = summary_text(&report);
    assert!(
        summary.contains("Subject: Zahlen für Q3 — Übersicht"),
        "{summary}"
    );
    assert!(
        String::from_utf8_lossy(&report).contains("Content-Transfer-Encoding: quoted-printable")
    );
    if python().is_some() {
        let j = python_parse(&report, Some(msg.as_bytes()));
        assert_eq!(j["headers"]["subject"][0], "Zahlen für Q3 — Übersicht");
        assert!(
            j["parts"][0]["text"]
                .as_str()
                .unwrap()
                .contains("Zahlen für Q3")
        );
        assert_eq!(j["defects"], serde_json::json!([]));
    }
}

#[test]
fn json_lines_carry_the_csv_fields() {
    let p = policy();
    let env = inbound_envelope(&p, INBOUND);
    let d = p.decide(&env);
    let jl = String::from_utf8(render::tracking_log::json_lines(&p, &env, &d).to_vec()).unwrap();
    let lines: Vec<serde_json::Value> = jl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), d.tracking.len());
    assert_eq!(lines[0]["event-id"], "RECEIVE");
    assert_eq!(lines[0]["connector-id"], "IMS");
    assert_eq!(lines[0]["message-id"], "<1234@partner.example>");
    let csv = String::from_utf8(render::tracking_log::csv(&p, &env, &d).to_vec()).unwrap();
    let first: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for (i, name) in render::tracking_log::CSV_FIELDS.iter().enumerate() {
        assert_eq!(
            lines[0][*name].as_str().unwrap(),
            first[i].trim_matches('"'),
            "{name}"
        );
    }
}

/// The boundary of a journal report, read back from its header.
fn boundary_of(report: &[u8]) -> String {
    let text = String::from_utf8_lossy(report);
    let start = text.find("boundary=\"").expect("a boundary") + 10;
    let len = text[start..].find('"').expect("a closing quote");
    text[start..start + len].to_owned()
}

#[test]
fn report_boundaries_are_keyed_deterministic_and_vary_with_the_render_time() {
    let report = |secret: &str, at: Timestamp| {
        let p = demo::config().render_secret(secret).build().unwrap();
        let ims = p.connector_id("IMS-Main").unwrap();
        let env = envelope(
            Origin::Inbound { connector: ims },
            "<bob@partner.example>",
            &["dave@example.com"],
            INBOUND,
        );
        let d = p.decide(&env);
        render::journal_report(&p, &env, &d, &d.journal_copies[0], at).to_vec()
    };
    let later = Timestamp::from_unix(AT.unix_seconds() + 1);
    let a = boundary_of(&report("one secret", AT));
    // Deterministic: the same inputs give the same boundary.
    assert_eq!(a, boundary_of(&report("one secret", AT)));
    // Keyed: knowing every input but the secret (the Message-ID included) is not enough.
    assert_ne!(a, boundary_of(&report("another secret", AT)));
    // A report rendered again later gets another boundary, but keeps its Message-ID.
    let again = report("one secret", later);
    assert_ne!(a, boundary_of(&again));
    let id = |r: &[u8]| {
        let m = MessageParser::new().parse(r).unwrap();
        m.message_id().unwrap().to_owned()
    };
    assert_eq!(id(&report("one secret", AT)), id(&again));
    assert!(a.starts_with("=_mj_") && a.len() == 37, "{a}");
}

#[test]
fn one_tracking_reading_serves_every_log_writer() {
    let p = policy();
    for env in [inbound_envelope(&p, INBOUND), outbound_envelope(INBOUND)] {
        let d = p.decide(&env);
        let t = render::tracking_log::Tracking::new(&p, &env, &d);
        assert_eq!(t.csv(), render::tracking_log::csv(&p, &env, &d));
        assert_eq!(
            t.exchange55(),
            render::tracking_log::exchange55(&p, &env, &d)
        );
        assert_eq!(
            t.json_lines(),
            render::tracking_log::json_lines(&p, &env, &d)
        );
        assert!(!t.csv().is_empty());
    }
}
