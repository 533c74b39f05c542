//! The demo: the decisions of the seed scenarios on the built-in demo policy, and every
//! message and record a transport would hand on or store, written to a folder — or one
//! message of yours through a policy file.
//!
//! ```text
//! cargo run --example demo
//! cargo run --example demo -- --directory examples/directory.ldif
//! cargo run --example demo -- --policy examples/policy.toml \
//!     --from alice@example.com --to bob@partner.example examples/messages/outbound.eml
//! cargo run --example demo -- --policy my.toml --inbound IMS-Main \
//!     --from bob@partner.example --to carol@example.com --to sales@example.com mail.eml
//! ```
//!
//! Options: `--policy FILE` (TOML, or JSON when it ends in `.json`; default: the built-in
//! demo policy), `--directory FILE.ldif` (repeatable: the directory from an LDIF export
//! instead of the built-in one, or merged into `--policy`'s), `--from ADDR` (`<>` for the
//! null sender), `--to ADDR` (repeatable), `--inbound CONNECTOR` (mail arriving from the
//! Internet on that connector; default: submitted mail), `--out DIR` (default: a fresh
//! temporary folder, printed), then a message file.

use std::path::{Path, PathBuf};

use mail_journal::{
    Envelope, LdifImport, LdifOptions, Notify, Origin, OutputKind, Policy, PolicyConfig, Timestamp,
    demo, merge_directory, render,
};

const NOW: Timestamp = Timestamp::from_unix(1_795_342_443);

struct Sample {
    title: &'static str,
    inbound: Option<&'static str>,
    from: &'static str,
    to: &'static [&'static str],
    message: &'static [u8],
}

const SAMPLES: &[Sample] = &[
    Sample {
        title: "Q258557: alice's Internet mail leaves through the archiving connector",
        inbound: None,
        from: "<alice@example.com>",
        to: &["bob@partner.example"],
        message: include_bytes!("messages/outbound.eml"),
    },
    Sample {
        title: "Q258557: carol's Internet mail leaves through the main connector, unarchived",
        inbound: None,
        from: "<carol@example.com>",
        to: &["bob@partner.example", "nobody@example.com"],
        message: include_bytes!("messages/outbound-carol.eml"),
    },
    Sample {
        title: "Q262122 + per-recipient journaling: inbound mail to carol, dave and Sales",
        inbound: Some("IMS-Main"),
        from: "<bob@partner.example>",
        to: &["carol@example.com", "dave@example.com", "sales@example.com"],
        message: include_bytes!("messages/inbound.eml"),
    },
    Sample {
        title: "No open relay, unknown users",
        inbound: Some("IMS-Main"),
        from: "<spammer@bad.example>",
        to: &[
            "victim@elsewhere.example",
            "nobody@example.com",
            "dave@example.com",
        ],
        message: include_bytes!("messages/spam.eml"),
    },
    Sample {
        title: "Restrictions: erin is on Managers and Interns; the CEO rejects Interns",
        inbound: None,
        from: "<erin@example.com>",
        to: &["ceo@example.com", "managers@example.com"],
        message: include_bytes!("messages/internal.eml"),
    },
    Sample {
        title: "Journal rule: mail to legal is copied to Legal-Journal",
        inbound: None,
        from: "<dave@example.com>",
        to: &["legal@example.com"],
        message: include_bytes!("messages/legal.eml"),
    },
    Sample {
        title: "Evasion: the journal marker from the Internet is journaled and flagged",
        inbound: Some("IMS-Main"),
        from: "<outbound-journal-ndr@example.com>",
        to: &["carol@example.com"],
        message: include_bytes!("messages/forged-marker.eml"),
    },
];

type Error = Box<dyn std::error::Error>;

struct Args {
    policy: Option<PathBuf>,
    directory: Vec<PathBuf>,
    from: Option<String>,
    to: Vec<String>,
    inbound: Option<String>,
    out: Option<PathBuf>,
    message: Option<PathBuf>,
}

fn parse_args() -> Result<Args, Error> {
    let mut a = Args {
        policy: None,
        directory: Vec::new(),
        from: None,
        to: Vec::new(),
        inbound: None,
        out: None,
        message: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--policy" => a.policy = Some(value("--policy")?.into()),
            "--directory" => a.directory.push(value("--directory")?.into()),
            "--from" => a.from = Some(value("--from")?),
            "--to" => a.to.push(value("--to")?),
            "--inbound" => a.inbound = Some(value("--inbound")?),
            "--out" => a.out = Some(value("--out")?.into()),
            "-h" | "--help" => {
                println!(
                    "usage: demo [--policy FILE] [--directory FILE.ldif]... [--from ADDR] [--to ADDR]... [--inbound CONNECTOR] [--out DIR] [MESSAGE.eml]"
                );
                std::process::exit(0);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}").into()),
            file => a.message = Some(file.into()),
        }
    }
    Ok(a)
}

/// The policy: a file of the user's (with the LDIF exports it names), or the built-in
/// demo; `--directory` exports replace the demo's directory or join the file's.
fn load_policy(path: Option<&Path>, directory: &[PathBuf]) -> Result<PolicyConfig, Error> {
    let mut cfg = match path {
        None => {
            let mut cfg = demo::config();
            if !directory.is_empty() {
                cfg.entries.clear();
            }
            cfg
        }
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            if path.extension().is_some_and(|e| e == "json") {
                PolicyConfig::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?
            } else {
                PolicyConfig::from_toml_file(path, &text, |p| std::fs::read_to_string(p))?
            }
        }
    };
    let base = path.map_or_else(
        || "the built-in demo policy".to_owned(),
        |p| p.display().to_string(),
    );
    let mut import = LdifImport::new(&LdifOptions::new());
    for file in directory {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        import.add(&file.display().to_string(), &text)?;
    }
    if !directory.is_empty() {
        merge_directory(&mut cfg, &base, import.finish()?)?;
    }
    Ok(cfg)
}

/// A fresh folder under the system's temporary directory.
fn fresh_out() -> Result<PathBuf, Error> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    for n in 0..100u32 {
        let dir = std::env::temp_dir().join(format!(
            "mail-journal-demo-{}-{stamp}-{n}",
            std::process::id()
        ));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err("could not create a fresh temporary folder; give one with --out".into())
}

fn envelope(
    policy: &Policy,
    inbound: Option<&str>,
    from: &str,
    to: &[&str],
    message: Vec<u8>,
    id: &str,
) -> Result<Envelope, Error> {
    let origin = match inbound {
        Some(name) => Origin::Inbound {
            connector: policy
                .connector_id(name)
                .ok_or_else(|| format!("the policy has no connector {name:?}"))?,
        },
        None => Origin::Submitted,
    };
    let mut b = Envelope::builder(origin, from)?;
    for r in to {
        b = b.recipient(r)?;
    }
    Ok(b.message(message)
        .received_at(NOW)
        .envelope_id(id)
        .build()?)
}

/// Decides, prints, and writes every output a transport would hand on or store.
fn run(
    policy: &Policy,
    env: &Envelope,
    dir: &Path,
    logs: &mut (String, String),
) -> Result<(), Error> {
    let d = policy.decide(env);
    print!("{}", policy.explain(&d));
    std::fs::create_dir_all(dir)?;
    let mut n = 0;
    for o in d.outputs(policy, env, NOW)? {
        let (name, what) = match &o.kind {
            OutputKind::Archive { storage_key, .. } => (
                "archive.eml".to_owned(),
                format!("under the key {storage_key}"),
            ),
            kind => {
                n += 1;
                let to: Vec<String> = o
                    .recipients
                    .iter()
                    .map(|r| match r.notify {
                        Notify::Never => format!("<{}> NOTIFY=NEVER", r.address),
                        _ => format!("<{}>", r.address),
                    })
                    .collect();
                let name = match kind {
                    OutputKind::Journal { .. } => format!("{n}-journal.eml"),
                    OutputKind::Dsn => format!("{n}-dsn.eml"),
                    _ => format!("{n}-original.eml"),
                };
                (
                    name,
                    format!("MAIL FROM:{} RCPT TO:{}", o.reverse_path, to.join(", ")),
                )
            }
        };
        std::fs::write(dir.join(&name), o.message.to_vec())?;
        let label = match &o.kind {
            OutputKind::Delivery => "the original, for local delivery".to_owned(),
            OutputKind::Transfer { connector } => format!(
                "the original, out through {}",
                policy.connector(*connector).map_or("?", |c| c.name())
            ),
            OutputKind::Journal { .. } => "a journal copy".to_owned(),
            OutputKind::Dsn => "a delivery status notification".to_owned(),
            OutputKind::Archive { .. } => "an archive record".to_owned(),
            _ => "an output".to_owned(),
        };
        let verb = if matches!(o.kind, OutputKind::Archive { .. }) {
            "store"
        } else {
            "hand on"
        };
        println!("  {verb} {label} ({name}): {what}");
    }
    logs.0.push_str(&String::from_utf8_lossy(
        &render::tracking_log::csv(policy, env, &d).to_vec(),
    ));
    logs.1.push_str(&String::from_utf8_lossy(
        &render::tracking_log::exchange55(policy, env, &d).to_vec(),
    ));
    Ok(())
}

fn main() {
    if let Err(e) = demo_main() {
        eprintln!("demo: {e}");
        std::process::exit(1);
    }
}

fn demo_main() -> Result<(), Error> {
    let args = parse_args()?;
    let policy = load_policy(args.policy.as_deref(), &args.directory)?.build()?;
    let out = match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => fresh_out()?,
    };
    let mut logs = (String::new(), String::new());
    match args.policy.as_deref() {
        Some(p) => println!("Policy {} ({}).", p.display(), policy.organisation()),
        None => println!(
            "The built-in demo organisation example.com: its connectors are Exchange 5.5 \
             Internet Mail Service connectors (IMS-Main, IMS-Archive)."
        ),
    }
    for d in &args.directory {
        println!("Directory from {}.", d.display());
    }
    let warnings = policy.audit();
    if !warnings.is_empty() {
        println!("Audit:");
        for w in warnings {
            println!("  - {w}");
        }
    }
    let custom = args.message.is_some() || args.from.is_some() || !args.to.is_empty();
    if custom {
        let file = args.message.as_deref().ok_or("give a message file")?;
        let message = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let from = args.from.as_deref().unwrap_or("<>");
        if args.to.is_empty() {
            return Err("give at least one --to".into());
        }
        let to: Vec<&str> = args.to.iter().map(String::as_str).collect();
        let env = envelope(
            &policy,
            args.inbound.as_deref(),
            from,
            &to,
            message,
            "CLI-1",
        )?;
        println!("\n=== {} from {from} to {}", file.display(), to.join(", "));
        run(&policy, &env, &out, &mut logs)?;
    } else {
        for (n, s) in SAMPLES.iter().enumerate() {
            let id = format!("DEMO-{}", n + 1);
            let env = envelope(&policy, s.inbound, s.from, s.to, s.message.to_vec(), &id)?;
            let origin = s.inbound.map_or("submitted".to_owned(), |c| {
                format!("from the Internet on {c}")
            });
            println!("\n=== {}. {}", n + 1, s.title);
            println!(
                "MAIL FROM:{} ({origin}) RCPT TO: {}",
                s.from,
                s.to.join(", ")
            );
            run(&policy, &env, &out.join(format!("{:02}", n + 1)), &mut logs)?;
        }
    }
    let csv = render::tracking_log::csv_preamble(NOW) + &logs.0;
    std::fs::write(out.join("tracking.csv"), csv)?;
    std::fs::write(
        out.join("tracking-5.5.log"),
        render::tracking_log::exchange55_preamble() + &logs.1,
    )?;
    println!(
        "\nThe messages and records a transport would hand on or store, and both tracking \
         logs, are in {}",
        out.display()
    );
    Ok(())
}
