//! The auditor's command against stores written with the library in a temporary
//! directory: a clean store passes; tampering is named, each change once, nothing else.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mail_journal::seal::{self, Chain, ChainConfig, Obligations, SigningKey};
use mail_journal::{Envelope, Origin, Timestamp, demo, render};

const BIN: &str = env!("CARGO_BIN_EXE_mail-journal-verify");
const T0: i64 = 1_795_342_443; // 2026-11-22T10:14:03Z

/// A store directory, removed when dropped.
struct Store {
    dir: PathBuf,
    archive_keys: Vec<String>,
    key: SigningKey,
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn append(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

/// Two nodes; alice's outbound mail (archived and journaled), inbound mail to dave
/// (journaled) and internal mail (tracked only), across a day boundary; signed
/// checkpoints, every one anchored in `seal/checkpoints/`.
fn build(name: &str) -> Store {
    let dir =
        std::env::temp_dir().join(format!("mail-journal-verify-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let key = seal::signing_key_from_seed([5; 32]);
    let mut store = Store {
        dir,
        archive_keys: vec![],
        key: key.clone(),
    };
    let policy = demo::policy().unwrap();
    let main = policy.connector_id("IMS-Main").unwrap();
    let cases: [(Origin, &str, &str); 4] = [
        (
            Origin::Submitted,
            "<alice@example.com>",
            "bob@partner.example",
        ),
        (
            Origin::Inbound { connector: main },
            "<bob@partner.example>",
            "dave@example.com",
        ),
        (
            Origin::Submitted,
            "<carol@example.com>",
            "frank@example.com",
        ),
        (
            Origin::Submitted,
            "<alice@example.com>",
            "erin@partner.example",
        ),
    ];
    let end = Timestamp::from_unix(T0 + 86_400 + 60);
    for node in ["mx1", "mx2"] {
        let mut chain = Chain::new(
            node,
            ChainConfig::new()
                .checkpoint_every(5)
                .signing_key(key.clone()),
        )
        .unwrap();
        let chain_file = store.dir.join(seal::chain_path(node));
        let anchors = store.dir.join(format!("seal/checkpoints/{node}.anchors"));
        let write = |lines: seal::Lines| {
            append(&chain_file, lines.as_bytes());
            for cp in lines.checkpoints() {
                append(&anchors, format!("{}\n", cp.anchor_line()).as_bytes());
            }
        };
        for (i, (origin, from, to)) in cases.iter().enumerate() {
            // Half the messages on the first day, half on the next.
            let t = Timestamp::from_unix(T0 + (i as i64 / 2) * 86_400 + i as i64);
            let env = Envelope::builder(*origin, from)
                .unwrap()
                .recipient(to)
                .unwrap()
                .message(
                    format!("From: {from}\r\nSubject: message {i}\r\n\r\nBody {i}.\r\n")
                        .into_bytes(),
                )
                .received_at(t)
                .envelope_id(format!("{node}-Q{i}"))
                .build()
                .unwrap();
            let d = policy.decide(&env);
            let o = Obligations::from_decision(&policy, &env, &d);
            let (msg, lines) = chain
                .decision(env.envelope_id(), [env.message()], &o, t)
                .unwrap();
            write(lines);
            for copy in &d.archive_copies {
                let record = render::archive_record(&policy, &env, &d, copy);
                let k = seal::archive_key(&policy, &env, &d, copy);
                append(&store.dir.join(&k), &record.to_vec());
                write(chain.archive(&msg, &k, record.chunks(), t).unwrap());
                store.archive_keys.push(k);
            }
            let log = seal::tracking_log_path(node, t);
            let log_path = store.dir.join(&log);
            if !log_path.exists() {
                append(&log_path, render::tracking_log::csv_preamble(t).as_bytes());
            }
            let offset = fs::metadata(&log_path).unwrap().len();
            let rows = render::tracking_log::csv(&policy, &env, &d);
            append(&log_path, &rows.to_vec());
            write(
                chain
                    .tracking(&msg, &log, offset, rows.chunks(), t)
                    .unwrap(),
            );
            for copy in &d.journal_copies {
                let m = render::journal_message(&policy, &env, &d, copy, t);
                let sender = copy.reverse_path.to_string();
                let reply = format!("250 2.0.0 Ok: queued as {node}{i}");
                write(
                    chain
                        .handover(&msg, &sender, &reply, m.chunks(), t)
                        .unwrap(),
                );
            }
        }
        write(chain.checkpoint(end).unwrap());
    }
    assert_eq!(store.archive_keys.len(), 4);
    store
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn findings(o: &Output) -> Vec<String> {
    stdout(o)
        .lines()
        .filter(|l| l.starts_with("node=") || l.starts_with("key=") || l.starts_with("seq="))
        .map(str::to_owned)
        .collect()
}

/// Alters one archive record, deletes another and swaps two chain lines.
fn tamper(store: &Store) -> (String, String) {
    let altered = store.archive_keys[0].clone();
    let mut bytes = fs::read(store.dir.join(&altered)).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x20;
    fs::write(store.dir.join(&altered), bytes).unwrap();
    let deleted = store.archive_keys[3].clone();
    fs::remove_file(store.dir.join(&deleted)).unwrap();
    let chain = store.dir.join("seal/mx1.chain");
    let text = fs::read_to_string(&chain).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(2, 3);
    fs::write(
        &chain,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    (altered, deleted)
}

#[test]
fn a_clean_store_verifies() {
    let store = build("clean");
    let dir = store.dir.to_str().unwrap();
    let public = store.dir.join("public.key");
    fs::write(
        &public,
        seal::verifying_key_file(&store.key.verifying_key()),
    )
    .unwrap();
    let o = run(&[
        dir,
        "--public-key",
        public.to_str().unwrap(),
        "--closed-until",
        "2026-11-23T10:15:03Z",
    ]);
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("no findings: complete and unaltered"), "{out}");
    assert!(out.contains("nodes: 2 (mx1, mx2)"), "{out}");
    assert!(out.contains("messages: 8 (8 complete)"), "{out}");
    assert!(out.contains("archive records: 4"), "{out}");
    assert!(out.contains("tracking ranges: 8"), "{out}");
    assert!(out.contains("signatures checked"), "{out}");
    assert!(out.contains("first: 2026-11-22T10:14:03Z"), "{out}");
    assert!(out.contains("last: 2026-11-23T10:15:03Z"), "{out}");
    assert!(findings(&o).is_empty());
}

#[test]
fn tampering_is_named_and_nothing_else() {
    let store = build("tampered");
    let (altered, deleted) = tamper(&store);
    let o = run(&[store.dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let f = findings(&o);
    assert_eq!(f.len(), 3, "{}", stdout(&o));
    assert!(
        f.iter()
            .any(|l| l.contains(&format!("key={altered}: altered record"))),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|l| l.contains(&format!("key={deleted}: missing record"))),
        "{f:#?}"
    );
    assert!(
        f.iter().any(|l| l.starts_with("node=mx1 seq=4 line=3:")
            && l.contains("lines out of order: line 3 holds seq 4, line 4 holds seq 3")),
        "{f:#?}"
    );
    assert!(stdout(&o).contains("3 findings"));
}

#[test]
fn the_json_report_names_the_same_three() {
    let store = build("json");
    let (altered, deleted) = tamper(&store);
    let o = run(&[store.dir.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["clean"], false);
    assert_eq!(v["summary"]["messages"], 8);
    let found: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["key"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let mut expected = vec![
        ("altered_record".to_owned(), altered),
        ("missing_record".to_owned(), deleted),
        ("out_of_order".to_owned(), String::new()),
    ];
    expected.sort();
    let mut found = found;
    found.sort();
    assert_eq!(found, expected);
}

#[test]
fn signatures_and_anchors() {
    let store = build("keys");
    let dir = store.dir.to_str().unwrap();
    let wrong = store.dir.join("wrong.key");
    let other = seal::signing_key_from_seed([6; 32]).verifying_key();
    fs::write(&wrong, seal::verifying_key_file(&other)).unwrap();
    let o = run(&[dir, "--public-key", wrong.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let f = findings(&o);
    assert!(
        !f.is_empty() && f.iter().all(|l| l.contains("bad signature")),
        "{f:#?}"
    );

    // Cut mx2's chain before its last anchored checkpoint.
    let chain = store.dir.join("seal/mx2.chain");
    let text = fs::read_to_string(&chain).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let kept = lines.len() - 2;
    fs::write(
        &chain,
        lines[..kept]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let o = run(&[dir]);
    assert_eq!(o.status.code(), Some(1));
    let f = findings(&o);
    assert!(
        f.iter()
            .any(|l| l.starts_with("node=mx2") && l.contains("truncated chain")),
        "{f:#?}"
    );
}

#[test]
fn bad_arguments_and_empty_stores_exit_2() {
    assert_eq!(run(&[]).status.code(), Some(2));
    assert_eq!(run(&["a", "b"]).status.code(), Some(2));
    assert_eq!(
        run(&["--closed-until", "yesterday", "x"]).status.code(),
        Some(2)
    );
    let empty =
        std::env::temp_dir().join(format!("mail-journal-verify-empty-{}", std::process::id()));
    fs::create_dir_all(&empty).unwrap();
    let o = run(&[empty.to_str().unwrap()]);
    let _ = fs::remove_dir_all(&empty);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no chain"));
    assert_eq!(run(&["--help"]).status.code(), Some(0));
}
