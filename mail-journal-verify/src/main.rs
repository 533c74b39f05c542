//! `mail-journal-verify`: proves (or disproves) that a mail-journal store is complete and
//! unaltered.
//!
//! ```text
//! mail-journal-verify DIR [--public-key FILE] [--anchors FILE]... [--closed-until TIME] [--json]
//! ```
//!
//! Reads every `DIR/seal/<node>.chain`, the anchored checkpoint lines under
//! `DIR/seal/checkpoints/` and in each `--anchors FILE` (keep those off the audited
//! nodes), and the records under `DIR/archive/` and `DIR/tracking/`, and checks them with
//! `mail_journal::seal::Verifier`. Exit status: 0 no finding (a summary follows), 1
//! findings (one a line, then the summary), 2 the store or an argument could not be
//! read. `--json` prints the report as one JSON object instead.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mail_journal::Timestamp;
use mail_journal::seal::{self, RecordStore, Report, Verifier, VerifyingKey};

const USAGE: &str = "usage: mail-journal-verify DIR [--public-key FILE] [--anchors FILE]... [--closed-until YYYY-MM-DDTHH:MM:SSZ] [--json]

Verifies the mail-journal store in DIR: the hash chains DIR/seal/*.chain, the anchored
checkpoints in DIR/seal/checkpoints/ and in each --anchors FILE, and the records under
DIR/archive/ and DIR/tracking/.

  --public-key FILE   check every checkpoint's Ed25519 signature with this public key
  --anchors FILE      anchored checkpoint lines kept outside the store (repeatable)
  --closed-until TIME every chain must end on a checkpoint at or after TIME
  --json              print the report as JSON

Exit status: 0 no finding, 1 findings (one a line), 2 unreadable store or bad arguments.";

struct Args {
    dir: PathBuf,
    public_key: Option<PathBuf>,
    anchors: Vec<PathBuf>,
    closed_until: Option<Timestamp>,
    json: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut dir = None;
    let mut public_key = None;
    let mut anchors = Vec::new();
    let mut closed_until = None;
    let mut json = false;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--public-key" => public_key = Some(PathBuf::from(value("--public-key")?)),
            "--anchors" => anchors.push(PathBuf::from(value("--anchors")?)),
            "--closed-until" => {
                let v = value("--closed-until")?;
                closed_until =
                    Some(seal::parse_time(&v).ok_or_else(|| {
                        format!("--closed-until {v:?}: not YYYY-MM-DDTHH:MM:SSZ")
                    })?);
            }
            "--json" => json = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s => {
                if dir.replace(PathBuf::from(s)).is_some() {
                    return Err("more than one DIR".to_owned());
                }
            }
        }
    }
    Ok(Args {
        dir: dir.ok_or("DIR is missing")?,
        public_key,
        anchors,
        closed_until,
        json,
    })
}

/// The records of a store directory, for the verifier.
struct FsStore {
    root: PathBuf,
}

impl FsStore {
    fn walk(&self, rel: &str, out: &mut Vec<String>) -> io::Result<()> {
        let dir = self.root.join(rel);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().map_err(|e| {
                io::Error::new(e.kind(), format!("{}: {e}", entry.path().display()))
            })?;
            names.push((format!("{rel}/{name}"), kind.is_dir()));
        }
        names.sort();
        for (key, is_dir) in names {
            if is_dir {
                self.walk(&key, out)?;
            } else {
                out.push(key);
            }
        }
        Ok(())
    }
}

impl RecordStore for FsStore {
    type Error = io::Error;

    fn read(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        // The verifier only passes relative keys without `..`.
        let path = self.root.join(key);
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        }
    }

    fn keys(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        self.walk("archive", &mut out)?;
        self.walk("tracking", &mut out)?;
        Ok(out)
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The regular files directly in `dir`, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

fn summary_text(report: &Report, nodes: &[String]) -> String {
    let s = &report.summary;
    let time = |t: Option<Timestamp>| t.map_or_else(|| "-".to_owned(), |t| t.to_string());
    format!(
        "nodes: {} ({})\nentries: {}\nmessages: {} ({} complete)\narchive records: {}\ntracking ranges: {}\njournal copies: {}\ncheckpoints: {} ({})\nanchored checkpoints: {}\nfirst: {}\nlast: {}\n",
        s.nodes,
        nodes.join(", "),
        s.entries,
        s.messages,
        s.complete,
        s.records,
        s.tracking,
        s.journal_copies,
        s.checkpoints,
        if s.signatures_checked {
            "signatures checked"
        } else {
            "signatures not checked: no --public-key"
        },
        s.anchors,
        time(s.first),
        time(s.last),
    )
}

fn run(args: Args) -> Result<ExitCode, String> {
    let seal_dir = args.dir.join("seal");
    let mut chains = Vec::new();
    for path in files_in(&seal_dir)? {
        let Some(node) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".chain"))
        else {
            continue;
        };
        let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        chains.push((node.to_owned(), bytes));
    }
    if chains.is_empty() {
        return Err(format!(
            "{}: no chain (seal/<node>.chain) to verify",
            args.dir.display()
        ));
    }
    let mut anchors = Vec::new();
    for path in files_in(&seal_dir.join("checkpoints"))? {
        let name = format!(
            "seal/checkpoints/{}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        anchors.push((name, read_text(&path)?));
    }
    for path in &args.anchors {
        anchors.push((path.display().to_string(), read_text(path)?));
    }
    let key: Option<VerifyingKey> = match &args.public_key {
        Some(path) => Some(
            seal::parse_verifying_key(&read_text(path)?)
                .map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => None,
    };

    let mut verifier = Verifier::new();
    for (node, bytes) in &chains {
        verifier = verifier.chain(node, bytes);
    }
    for (name, text) in &anchors {
        verifier = verifier.anchors(name, text);
    }
    if let Some(k) = key {
        verifier = verifier.public_key(k);
    }
    if let Some(t) = args.closed_until {
        verifier = verifier.closed_until(t);
    }
    let store = FsStore {
        root: args.dir.clone(),
    };
    let report = verifier.verify(&store);

    let nodes: Vec<String> = chains.into_iter().map(|(n, _)| n).collect();
    if args.json {
        println!("{}", report.to_json());
    } else {
        for f in &report.findings {
            println!("{f}");
        }
        if report.is_clean() {
            println!(
                "{}: no findings: complete and unaltered",
                args.dir.display()
            );
        } else {
            println!("{}: {} findings", args.dir.display(), report.findings.len());
        }
        print!("{}", summary_text(&report, &nodes));
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mail-journal-verify: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mail-journal-verify: {e}");
            ExitCode::from(2)
        }
    }
}
