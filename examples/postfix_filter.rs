//! A Postfix after-queue content filter, run by `pipe(8)`: journaling, archival and
//! delivery restrictions for a real MTA.
//!
//! It reads the message on standard input and the envelope from its arguments, asks the
//! policy, then hands everything back to Postfix through `sendmail`:
//!
//! * the original, unaltered, to the final destinations (list members, contact targets);
//! * each journal copy (report or copy) with its own envelope sender — the journal-NDR
//!   address — and `NOTIFY=NEVER`;
//! * a DSN from `<>` to the sender for refused and undelivered recipients;
//! * archive records into `--archive DIR` under their storage keys, and tracking-log rows
//!   appended to `--log FILE` (Exchange 2013+ CSV).
//!
//! Exit codes are the sysexits Postfix expects: 0 done; 75 (`EX_TEMPFAIL`) when
//! re-injection failed, so Postfix retries; 77 (`EX_NOPERM`) when every recipient was
//! refused, so Postfix bounces the message with the refusal on standard error.
//!
//! `master.cf`:
//!
//! ```text
//! smtp      inet  n  -  y  -  -  smtpd
//!   -o content_filter=mailjournal-in:dummy
//! submission inet n  -  y  -  -  smtpd
//!   -o content_filter=mailjournal-out:dummy
//! mailjournal-in  unix - n n - 4 pipe flags=q user=mjfilter null_sender=
//!   argv=/usr/local/bin/postfix_filter --policy /etc/postfix/mail-journal.toml
//!   --inbound IMS --log /var/log/mail-journal/tracking.csv --from ${sender} -- ${recipient}
//! mailjournal-out unix - n n - 4 pipe flags=q user=mjfilter null_sender=
//!   argv=/usr/local/bin/postfix_filter --policy /etc/postfix/mail-journal.toml
//!   --log /var/log/mail-journal/tracking.csv --from ${sender} -- ${recipient}
//! ```
//!
//! Mail re-injected with `sendmail` goes through `pickup`, which has no content filter,
//! so nothing passes the filter twice.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use mail_journal::{Destination, Envelope, Origin, Policy, PolicyConfig, Timestamp, render};

const EX_OK: u8 = 0;
const EX_USAGE: u8 = 64;
const EX_SOFTWARE: u8 = 70;
const EX_TEMPFAIL: u8 = 75;
const EX_NOPERM: u8 = 77;
const EX_CONFIG: u8 = 78;

struct Args {
    policy: PathBuf,
    inbound: Option<String>,
    from: String,
    to: Vec<String>,
    log: Option<PathBuf>,
    archive: Option<PathBuf>,
    sendmail: String,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        policy: PathBuf::new(),
        inbound: None,
        from: String::new(),
        to: Vec::new(),
        log: None,
        archive: None,
        sendmail: "/usr/sbin/sendmail".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |n: &str| it.next().ok_or_else(|| format!("{n} needs a value"));
        match arg.as_str() {
            "--policy" => a.policy = value("--policy")?.into(),
            "--inbound" => a.inbound = Some(value("--inbound")?),
            "--from" => a.from = value("--from")?,
            "--log" => a.log = Some(value("--log")?.into()),
            "--archive" => a.archive = Some(value("--archive")?.into()),
            "--sendmail" => a.sendmail = value("--sendmail")?,
            "--" => {
                a.to.extend(it.by_ref());
                break;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.policy.as_os_str().is_empty() || a.to.is_empty() {
        return Err("usage: postfix_filter --policy FILE [--inbound CONNECTOR] [--log FILE] [--archive DIR] --from SENDER -- RECIPIENT...".into());
    }
    Ok(a)
}

/// Hands a message back to Postfix. `from` empty means the null sender.
fn sendmail(
    args: &Args,
    from: &str,
    notify_never: bool,
    to: &[String],
    chunks: &[bytes::Bytes],
) -> Result<(), String> {
    let mut cmd = Command::new(&args.sendmail);
    cmd.arg("-G").arg("-i").arg("-f").arg(from);
    if notify_never {
        cmd.arg("-N").arg("never");
    }
    cmd.arg("--").args(to);
    let mut child = cmd
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", args.sendmail))?;
    let mut stdin = child.stdin.take().ok_or("no stdin for sendmail")?;
    for c in chunks {
        stdin
            .write_all(c)
            .map_err(|e| format!("writing to sendmail: {e}"))?;
    }
    drop(stdin);
    let status = child.wait().map_err(|e| format!("sendmail: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("sendmail exited with {status}"))
    }
}

fn run(args: &Args) -> Result<u8, (u8, String)> {
    let text = std::fs::read_to_string(&args.policy)
        .map_err(|e| (EX_CONFIG, format!("{}: {e}", args.policy.display())))?;
    let policy: Policy = PolicyConfig::from_toml(&text)
        .map_err(|e| (EX_CONFIG, format!("{}: {e}", args.policy.display())))?
        .build()
        .map_err(|e| (EX_CONFIG, format!("{}: {e}", args.policy.display())))?;
    let mut message = Vec::new();
    std::io::stdin()
        .read_to_end(&mut message)
        .map_err(|e| (EX_TEMPFAIL, format!("reading the message: {e}")))?;
    let origin = match &args.inbound {
        Some(name) => Origin::Inbound {
            connector: policy
                .connector_id(name)
                .ok_or_else(|| (EX_CONFIG, format!("no connector {name:?} in the policy")))?,
        },
        None => Origin::Submitted,
    };
    let now = Timestamp::from_system_time(std::time::SystemTime::now());
    let queue_id = std::env::var("QUEUE_ID")
        .unwrap_or_else(|_| format!("{}-{}", now.unix_seconds(), std::process::id()));
    let from = if args.from.is_empty() {
        "<>".to_owned()
    } else {
        args.from.clone()
    };
    let mut b = Envelope::builder(origin, &from).map_err(|e| (EX_SOFTWARE, e.to_string()))?;
    for r in &args.to {
        b = b.recipient(r).map_err(|e| (EX_SOFTWARE, e.to_string()))?;
    }
    let env = b
        .message(message)
        .received_at(now)
        .envelope_id(queue_id)
        .build()
        .map_err(|e| (EX_SOFTWARE, e.to_string()))?;
    let d = policy.decide(&env);

    if let Some(path) = &args.log {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| (EX_TEMPFAIL, format!("{}: {e}", path.display())))?;
        let fresh = f.metadata().map(|m| m.len() == 0).unwrap_or(false);
        if fresh {
            let _ = f.write_all(render::tracking_log::csv_preamble(now).as_bytes());
        }
        f.write_all(&render::tracking_log::csv(&policy, &env, &d).to_vec())
            .map_err(|e| (EX_TEMPFAIL, format!("{}: {e}", path.display())))?;
    }

    if !d.any_accepted() {
        let why: Vec<String> = d
            .rejections()
            .map(|(a, r)| format!("{a}: {}", r.reply))
            .collect();
        return Err((EX_NOPERM, why.join("; ")));
    }
    let temp = |e: String| (EX_TEMPFAIL, e);

    // The original to every final destination.
    let mut dests: Vec<String> = d
        .deliveries
        .iter()
        .filter_map(|x| {
            policy
                .entry(x.entry)
                .and_then(|e| e.primary_smtp())
                .map(ToString::to_string)
        })
        .collect();
    dests.extend(
        d.transfers
            .iter()
            .flat_map(|t| t.recipients.iter().map(|r| r.address.to_string())),
    );
    if !dests.is_empty() {
        let sender = env
            .reverse_path()
            .address()
            .map(ToString::to_string)
            .unwrap_or_default();
        sendmail(args, &sender, false, &dests, &[env.message().clone()]).map_err(temp)?;
    }
    // Journal copies, each under its NDR address, asking for no notifications.
    for copy in &d.journal_copies {
        let to: Vec<String> = copy
            .recipients
            .iter()
            .filter_map(|x| match x {
                Destination::Local(e) => policy
                    .entry(*e)
                    .and_then(|e| e.primary_smtp())
                    .map(ToString::to_string),
                Destination::External { address, .. } => Some(address.to_string()),
                _ => None,
            })
            .collect();
        let report = render::journal_message(&policy, &env, &d, copy, now);
        sendmail(args, copy.reverse_path.as_str(), true, &to, report.chunks()).map_err(temp)?;
    }
    // Archive records.
    if let Some(dir) = &args.archive {
        for a in &d.archive_copies {
            let path = dir.join(a.storage_key(&env));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| temp(format!("{}: {e}", parent.display())))?;
            }
            std::fs::write(&path, render::archive_record(&policy, &env, &d, a).to_vec())
                .map_err(|e| temp(format!("{}: {e}", path.display())))?;
        }
    }
    // The DSN for refused and undelivered recipients (never to the null sender).
    if let (Some(dsn), Some(sender)) = (
        render::dsn(&policy, &env, &d, now),
        env.reverse_path().address(),
    ) {
        sendmail(args, "", false, &[sender.to_string()], dsn.chunks()).map_err(temp)?;
    }
    Ok(EX_OK)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("postfix_filter: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err((code, why)) => {
            eprintln!("{why}");
            ExitCode::from(code)
        }
    }
}
