//! The demo: decisions of the seed scenarios on the built-in demo policy, with every
//! rendered output written to a folder — or one message of yours through a policy file.
//!
//! ```text
//! cargo run --example demo
//! cargo run --example demo -- --policy examples/policy.toml \
//!     --from alice@example.com --to bob@partner.example examples/messages/outbound.eml
//! cargo run --example demo -- --policy my.toml --inbound IMS-Main \
//!     --from bob@partner.example --to carol@example.com --to sales@example.com mail.eml
//! ```
//!
//! Options: `--policy FILE` (TOML, or JSON when it ends in `.json`; default: the built-in
//! demo policy), `--from ADDR` (`<>` for the null sender), `--to ADDR` (repeatable),
//! `--inbound CONNECTOR` (mail arriving from the Internet on that connector; default:
//! submitted mail), `--out DIR` (default `target/mail-journal-demo`), then a message file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mail_journal::{Envelope, Origin, Policy, PolicyConfig, Timestamp, demo, render};

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
        message: include_bytes!("messages/outbound.eml"),
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
        message: include_bytes!("messages/inbound.eml"),
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
        message: include_bytes!("messages/internal.eml"),
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
    from: Option<String>,
    to: Vec<String>,
    inbound: Option<String>,
    out: PathBuf,
    message: Option<PathBuf>,
}

fn parse_args() -> Result<Args, Error> {
    let mut a = Args {
        policy: None,
        from: None,
        to: Vec::new(),
        inbound: None,
        out: PathBuf::from("target/mail-journal-demo"),
        message: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--policy" => a.policy = Some(value("--policy")?.into()),
            "--from" => a.from = Some(value("--from")?),
            "--to" => a.to.push(value("--to")?),
            "--inbound" => a.inbound = Some(value("--inbound")?),
            "--out" => a.out = value("--out")?.into(),
            "-h" | "--help" => {
                println!(
                    "usage: demo [--policy FILE] [--from ADDR] [--to ADDR]... [--inbound CONNECTOR] [--out DIR] [MESSAGE.eml]"
                );
                std::process::exit(0);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}").into()),
            file => a.message = Some(file.into()),
        }
    }
    Ok(a)
}

fn load_policy(path: Option<&Path>) -> Result<Policy, Error> {
    let Some(path) = path else {
        return Ok(demo::policy()?);
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cfg = if path.extension().is_some_and(|e| e == "json") {
        PolicyConfig::from_json(&text)
    } else {
        PolicyConfig::from_toml(&text)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(cfg
        .build()
        .map_err(|e| format!("{}: {e}", path.display()))?)
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

/// Decides, prints, and writes every rendered output under `dir`.
fn run(
    policy: &Policy,
    env: &Envelope,
    dir: &Path,
    logs: &mut (String, String),
) -> Result<(), Error> {
    let d = policy.decide(env);
    print!("{}", policy.explain(&d));
    std::fs::create_dir_all(dir)?;
    let mut written = String::new();
    for (i, copy) in d.journal_copies.iter().enumerate() {
        let name = format!("journal-{}.eml", i + 1);
        std::fs::write(
            dir.join(&name),
            render::journal_message(policy, env, &d, copy, NOW).to_vec(),
        )?;
        let _ = write!(
            written,
            " {name} (MAIL FROM:<{}> NOTIFY=NEVER)",
            copy.reverse_path
        );
    }
    for (i, a) in d.archive_copies.iter().enumerate() {
        let name = format!("archive-{}.eml", i + 1);
        std::fs::write(
            dir.join(&name),
            render::archive_record(policy, env, &d, a).to_vec(),
        )?;
        let _ = write!(written, " {name} (key {})", a.storage_key(env));
    }
    if let Some(dsn) = render::dsn(policy, env, &d, NOW) {
        std::fs::write(dir.join("dsn.eml"), dsn.to_vec())?;
        written.push_str(" dsn.eml (MAIL FROM:<>)");
    }
    if !written.is_empty() {
        println!("wrote{written}");
    }
    logs.0.push_str(&String::from_utf8_lossy(
        &render::tracking_log::csv(policy, env, &d).to_vec(),
    ));
    logs.1.push_str(&String::from_utf8_lossy(
        &render::tracking_log::exchange55(policy, env, &d).to_vec(),
    ));
    Ok(())
}

fn main() -> Result<(), Error> {
    let args = parse_args()?;
    let policy = load_policy(args.policy.as_deref())?;
    let mut logs = (String::new(), String::new());
    match args.policy.as_deref() {
        Some(p) => println!("Policy {} ({}).", p.display(), policy.organisation()),
        None => println!("Built-in demo organisation example.com (mail_journal::demo)."),
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
        run(&policy, &env, &args.out, &mut logs)?;
    } else {
        for (n, s) in SAMPLES.iter().enumerate() {
            let id = format!("DEMO-{}", n + 1);
            let env = envelope(&policy, s.inbound, s.from, s.to, s.message.to_vec(), &id)?;
            let origin = s
                .inbound
                .map_or("submitted".to_owned(), |c| format!("inbound on {c}"));
            println!("\n=== {}. {}", n + 1, s.title);
            println!(
                "MAIL FROM:{} ({origin}) RCPT TO: {}",
                s.from,
                s.to.join(", ")
            );
            run(
                &policy,
                &env,
                &args.out.join(format!("{:02}", n + 1)),
                &mut logs,
            )?;
        }
    }
    std::fs::create_dir_all(&args.out)?;
    let csv = render::tracking_log::csv_preamble(NOW) + &logs.0;
    std::fs::write(args.out.join("tracking.csv"), csv)?;
    std::fs::write(
        args.out.join("tracking-5.5.log"),
        render::tracking_log::exchange55_preamble() + &logs.1,
    )?;
    println!(
        "\nRendered journal reports, archive records, DSNs and tracking logs are in {}",
        args.out.display()
    );
    Ok(())
}
