//! Verifier throughput: writes a sealed store of N messages (default 100 000) in a
//! temporary directory, then times `mail-journal-verify` on it against `sha256sum` over
//! the same files (the floor: reading and hashing every byte once), each run twice,
//! alternating, and removes the store.
//!
//! ```text
//! cargo build --release -p mail-journal-verify
//! cargo run --release --features seal --example verify_throughput -- \
//!     [--messages N] [--verifier target/release/mail-journal-verify] [--keep]
//! ```
//!
//! The mix: half the messages are alice's Internet mail (archived and journaled), a
//! quarter inbound mail to dave (journaled), a quarter internal mail (tracked only), on
//! two nodes, over two UTC days, with signed checkpoints every 1 000 entries.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mail_journal::seal::{self, Chain, ChainConfig, Obligations};
use mail_journal::{Envelope, Origin, Timestamp, demo, render};

const T0: i64 = 1_795_342_443; // 2026-11-22T10:14:03Z

struct Node {
    chain: Chain,
    chain_file: BufWriter<fs::File>,
    log: Option<(String, BufWriter<fs::File>, u64)>,
}

fn write_store(dir: &Path, messages: usize) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let policy = demo::policy()?;
    let main = policy
        .connector_id("IMS-Main")
        .ok_or("demo policy has IMS-Main")?;
    let key = seal::signing_key_from_seed([42; 32]);
    fs::create_dir_all(dir.join("seal"))?;
    fs::write(
        dir.join("public.key"),
        seal::verifying_key_file(&key.verifying_key()),
    )?;
    let mut nodes = Vec::new();
    for name in ["mx1", "mx2"] {
        nodes.push(Node {
            chain: Chain::new(name, ChainConfig::new().signing_key(key.clone()))?,
            chain_file: BufWriter::new(fs::File::create(dir.join(seal::chain_path(name)))?),
            log: None,
        });
    }
    let filler = "The quarterly numbers are attached below, as discussed. ".repeat(40);
    let (mut files, mut bytes) = (2u64, 0u64);
    for i in 0..messages {
        let n = i % 2;
        let node = nodes.get_mut(n).ok_or("two nodes")?;
        let name = node.chain.node().to_owned();
        // Two UTC days: 1.7 s apart.
        let t = Timestamp::from_unix(T0 + (i as i64 * 17) / 10);
        let (origin, from, to) = match i % 4 {
            0 | 1 => (
                Origin::Submitted,
                "<alice@example.com>",
                "bob@partner.example",
            ),
            2 => (
                Origin::Inbound { connector: main },
                "<bob@partner.example>",
                "dave@example.com",
            ),
            _ => (
                Origin::Submitted,
                "<carol@example.com>",
                "frank@example.com",
            ),
        };
        let message = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: message {i}\r\nMessage-ID: <{i}@example.com>\r\n\r\n{filler}\r\n"
        );
        let env = Envelope::builder(origin, from)?
            .recipient(to)?
            .message(message.into_bytes())
            .received_at(t)
            .envelope_id(format!("{name}-{i:07}"))
            .build()?;
        let d = policy.decide(&env);
        let o = Obligations::from_decision(&policy, &env, &d);
        let (msg, lines) = node
            .chain
            .decision(env.envelope_id(), [env.message()], &o, t)?;
        node.chain_file.write_all(lines.as_bytes())?;
        for copy in &d.archive_copies {
            let record = render::archive_record(&policy, &env, &d, copy).to_vec();
            let k = seal::archive_key(&policy, &env, &d, copy);
            let path = dir.join(&k);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&path, &record)?;
            files += 1;
            bytes += record.len() as u64;
            let lines = node.chain.archive(&msg, &k, [&record], t)?;
            node.chain_file.write_all(lines.as_bytes())?;
        }
        let log = seal::tracking_log_path(&name, t);
        if node.log.as_ref().map(|(l, ..)| l.as_str()) != Some(log.as_str()) {
            if let Some((_, mut w, _)) = node.log.take() {
                w.flush()?;
            }
            let path = dir.join(&log);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            let mut w = BufWriter::new(fs::File::create(&path)?);
            let preamble = render::tracking_log::csv_preamble(t);
            w.write_all(preamble.as_bytes())?;
            files += 1;
            bytes += preamble.len() as u64;
            node.log = Some((log.clone(), w, preamble.len() as u64));
        }
        let rows = render::tracking_log::csv(&policy, &env, &d).to_vec();
        let (_, w, offset) = node.log.as_mut().ok_or("log open")?;
        w.write_all(&rows)?;
        let lines = node.chain.tracking(&msg, &log, *offset, [&rows], t)?;
        *offset += rows.len() as u64;
        bytes += rows.len() as u64;
        node.chain_file.write_all(lines.as_bytes())?;
        for copy in &d.journal_copies {
            let report = render::journal_message(&policy, &env, &d, copy, t);
            let sender = copy.reverse_path.to_string();
            let reply = format!("250 2.0.0 Ok: queued as {i:X}");
            let lines = node
                .chain
                .handover(&msg, &sender, &reply, report.chunks(), t)?;
            node.chain_file.write_all(lines.as_bytes())?;
        }
    }
    for node in &mut nodes {
        let end = Timestamp::from_unix(T0 + (messages as i64 * 17) / 10 + 1);
        let lines = node.chain.checkpoint(end)?;
        node.chain_file.write_all(lines.as_bytes())?;
        node.chain_file.flush()?;
        if let Some((_, w, _)) = node.log.as_mut() {
            w.flush()?;
        }
        bytes += fs::metadata(dir.join(seal::chain_path(node.chain.node())))?.len();
    }
    Ok((files, bytes))
}

fn time(cmd: &mut Command) -> Result<Duration, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let status = cmd.stdout(Stdio::null()).status()?;
    let took = start.elapsed();
    if !status.success() {
        return Err(format!("{cmd:?} failed: {status}").into());
    }
    Ok(took)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut messages = 100_000usize;
    let mut verifier =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/mail-journal-verify");
    let mut keep = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--messages" => messages = args.next().ok_or("--messages N")?.parse()?,
            "--verifier" => verifier = PathBuf::from(args.next().ok_or("--verifier PATH")?),
            "--keep" => keep = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = std::env::temp_dir().join(format!("mail-journal-throughput-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let start = Instant::now();
    let (files, bytes) = write_store(&dir, messages)?;
    println!(
        "store: {messages} messages, {files} files, {:.1} MB in {} (written in {:.1} s)",
        bytes as f64 / 1e6,
        dir.display(),
        start.elapsed().as_secs_f64()
    );
    let listing = dir.join("files.list");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd '{}' && find archive tracking seal -type f -print0 > '{}'",
            dir.display(),
            listing.display()
        ))
        .status()?;
    if !status.success() {
        return Err("find failed".into());
    }
    let sha = || {
        let mut c = Command::new("sh");
        c.arg("-c").arg(format!(
            "cd '{}' && xargs -0 sha256sum < '{}'",
            dir.display(),
            listing.display()
        ));
        c
    };
    let verify = || {
        let mut c = Command::new(&verifier);
        c.arg(&dir).arg("--public-key").arg(dir.join("public.key"));
        c
    };
    let mut best_sha = Duration::MAX;
    let mut best_verify = Duration::MAX;
    for run in 1..=2 {
        let s = time(&mut sha())?;
        let v = time(&mut verify())?;
        println!(
            "run {run}: sha256sum {:.2} s, mail-journal-verify {:.2} s",
            s.as_secs_f64(),
            v.as_secs_f64()
        );
        best_sha = best_sha.min(s);
        best_verify = best_verify.min(v);
    }
    println!(
        "best: sha256sum {:.2} s ({:.0} messages/s), mail-journal-verify {:.2} s ({:.0} messages/s), {:.2}x the floor",
        best_sha.as_secs_f64(),
        messages as f64 / best_sha.as_secs_f64(),
        best_verify.as_secs_f64(),
        messages as f64 / best_verify.as_secs_f64(),
        best_verify.as_secs_f64() / best_sha.as_secs_f64()
    );
    if keep {
        println!("kept {}", dir.display());
    } else {
        fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
