//! Real mail through the whole engine: every message of mail-parser's own test corpus
//! (RFC examples, third-party samples, malformed mail; found through `cargo metadata`
//! or, failing that, in Cargo's registry at `Cargo.lock`'s version, since the crate's
//! sources are on the machine whenever this crate builds) and of
//! Python's `email` test data (where the interpreter ships it) is decided inbound and
//! outbound under the demo policy and rendered by every renderer. Nothing may panic;
//! every message must be journaled and archived where the policy says so, with the
//! original byte for byte inside its report; and Python's `email` package, an independent
//! parser, must read each report without defects and agree with it on the original's
//! Subject and Message-ID (`tests/corpus_check.py`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use mail_journal::render;
use mail_journal::*;

const AT: Timestamp = Timestamp::from_unix(1_795_342_500);

/// The `resources/eml` folder of the mail-parser sources this crate builds against:
/// where `cargo metadata` puts them (for the host platform only, so that it needs no
/// other platform's packages downloaded), else in Cargo's registry by the version
/// `Cargo.lock` names.
fn mail_parser_corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let eml = |manifest_dir: &Path| Some(manifest_dir.join("resources/eml")).filter(|d| d.is_dir());
    from_metadata(root)
        .and_then(|m| eml(Path::new(&m).parent()?))
        .or_else(|| from_registry(root).and_then(|d| eml(&d)))
}

/// mail-parser's manifest path as `cargo metadata` gives it.
fn from_metadata(root: &Path) -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(rustc).arg("-vV").output().ok()?;
    let host = String::from_utf8_lossy(&version.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
        ])
        .arg(host)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .output()
        .ok()?;
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(
        meta["packages"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == "mail-parser")?["manifest_path"]
            .as_str()?
            .to_owned(),
    )
}

/// mail-parser's sources in Cargo's registry, at the version of `Cargo.lock`.
fn from_registry(root: &Path) -> Option<PathBuf> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).ok()?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"mail-parser\""))?
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))?
        .trim_end_matches('"')
        .to_owned();
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    std::fs::read_dir(home.join("registry/src"))
        .ok()?
        .flatten()
        .map(|index| index.path().join(format!("mail-parser-{version}")))
        .find(|d| d.is_dir())
}

/// Python's `email` test messages, when the interpreter ships its test suite.
fn python_corpus() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, test.test_email as t; print(os.path.join(os.path.dirname(t.__file__), 'data'))",
        ])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    dir.is_dir().then_some(dir)
}

fn messages(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            messages(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "eml" || (x == "txt" && p.to_string_lossy().contains("msg_")))
        {
            out.push(p);
        }
    }
}

/// Whether `r`'s chunks hold `original` as one of them, unchanged.
fn holds(r: &render::Rendered, original: &Bytes) -> bool {
    r.chunks()
        .iter()
        .any(|c| c.as_ptr() == original.as_ptr() && c.len() == original.len())
}

#[test]
fn real_mail_is_journaled_archived_and_rendered_faithfully() {
    let mut files = Vec::new();
    let parser = mail_parser_corpus();
    if let Some(d) = &parser {
        messages(d, &mut files);
    }
    let from_parser = files.len();
    if let Some(d) = python_corpus() {
        messages(&d, &mut files);
    }
    // mail-parser is a dependency: its sources (and corpus) are here whenever this builds.
    assert!(
        from_parser >= 50,
        "mail-parser's corpus not found ({parser:?}, {from_parser} messages)"
    );

    let policy = demo::policy().unwrap();
    let ims = policy.connector_id("IMS-Main").unwrap();
    let dir = std::env::temp_dir().join(format!("mj-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut pairs = String::new();
    for (n, path) in files.iter().enumerate() {
        let raw = Bytes::from(std::fs::read(path).unwrap());
        let name = path.display();
        // Inbound from the Internet to carol and dave (journaled, Q262122), and alice's
        // submission to the Internet (archived on the archiving connector, Q258557).
        let envelope = |origin, from, to: [&str; 2], id: String| {
            to.iter()
                .try_fold(Envelope::builder(origin, from).unwrap(), |b, r| {
                    b.recipient(r)
                })
                .unwrap()
                .message(raw.clone())
                .received_at(common::T0)
                .envelope_id(id)
                .build()
                .unwrap()
        };
        let inbound = envelope(
            Origin::Inbound { connector: ims },
            "<bob@partner.example>",
            ["carol@example.com", "dave@example.com"],
            format!("corpus-{n}-in"),
        );
        let outbound = envelope(
            Origin::Submitted,
            "<alice@example.com>",
            ["bob@partner.example", "nobody@example.com"],
            format!("corpus-{n}-out"),
        );
        for (env, journaled, archived) in [(&inbound, true, false), (&outbound, false, true)] {
            let d = policy.decide(env);
            if journaled {
                assert!(!d.journal_copies.is_empty(), "{name}: not journaled");
            }
            if archived {
                assert!(!d.archive_copies.is_empty(), "{name}: not archived");
            }
            for (i, copy) in d.journal_copies.iter().enumerate() {
                let report = render::journal_report(&policy, env, &d, copy, AT);
                assert!(holds(&report, &raw), "{name}: report without the original");
                if journaled && i == 0 {
                    let r = dir.join(format!("{n}.report.eml"));
                    std::fs::write(&r, report.to_vec()).unwrap();
                    pairs.push_str(&format!("{}\t{}\n", path.display(), r.display()));
                }
            }
            for copy in &d.archive_copies {
                let record = render::archive_record(&policy, env, &d, copy);
                assert!(
                    holds(&record, &raw),
                    "{name}: archive record without the original"
                );
            }
            let tracking = render::tracking_log::Tracking::new(&policy, env, &d);
            for rows in [tracking.csv(), tracking.json_lines(), tracking.exchange55()] {
                assert!(!rows.is_empty(), "{name}: no tracking rows");
            }
            let outputs = d.outputs(&policy, env, AT).unwrap();
            assert!(!outputs.is_empty(), "{name}: nothing to hand on");
        }
    }

    // Python's email package on every inbound report, against its own reading of the
    // original.
    let list = dir.join("pairs.tsv");
    std::fs::write(&list, pairs).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus_check.py");
    let out = Command::new("python3").arg(script).arg(&list).output();
    let _ = std::fs::remove_dir_all(&dir);
    let Ok(out) = out else {
        eprintln!("python3 not found: the independent-parser half of the corpus test is skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Python disagrees with the reports:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&format!("checked {}", files.len())), "{text}");
}
