//! Builds the demo organisation scaled to N directory entries and reports the build time
//! and the process's peak resident memory, for the memory-linearity check of the benches.
//!
//! `cargo run --release --example scale -- 100000`

use std::time::Instant;

use mail_journal::{EntryConfig, demo};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "100000".into())
        .parse()?;
    let mut cfg = demo::config();
    for i in 0..n {
        cfg.entries.push(
            EntryConfig::mailbox(format!("user{i}"))
                .proxy(format!("SMTP:user{i}@example.com"))
                .proxy(format!("X500:/o=Example/ou=HQ/cn=Recipients/cn=user{i}")),
        );
    }
    let before = peak_rss_kib().unwrap_or(0);
    let t = Instant::now();
    let policy = cfg.build()?;
    let took = t.elapsed();
    let after = peak_rss_kib().unwrap_or(0);
    println!(
        "entries={} build={:.3}s peak_rss_before_build={}KiB peak_rss_after_build={}KiB",
        policy.entries().count(),
        took.as_secs_f64(),
        before,
        after
    );
    Ok(())
}
