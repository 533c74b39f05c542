//! Policy build at scale: builds the demo organisation with N extra mailboxes (each with
//! an SMTP and an X.500 proxy) and reports the build time, the heap the built policy
//! keeps per entry, the heap peak of the build per entry (the configuration excluded),
//! and the process's peak resident memory. The build's time on the CPU is shown beside
//! the wall clock, which grows when other processes share the cores.
//!
//! `cargo run --release --example scale_build -- 1000000`
//!
//! Issue 10's budget: 1 M entries in under 1.5 s and under 400 bytes per entry; 100 k
//! entries in under 150 ms.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use mail_journal::{EntryConfig, Policy, demo};

/// Counts live heap bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are
// updated around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: the caller's layout is passed through.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Nanoseconds this thread has run on a CPU (`/proc/self/schedstat`): the build's own
/// time, unlike the wall clock, does not grow when other processes share the cores.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "100000".into())
        .parse()?;
    let mut cfg = demo::config();
    cfg.entries.reserve(n);
    for i in 0..n {
        cfg.entries.push(
            EntryConfig::mailbox(format!("user{i}"))
                .proxy(format!("SMTP:user{i}@example.com"))
                .proxy(format!("X500:/o=Example/ou=HQ/cn=Recipients/cn=user{i}")),
        );
    }
    let config_bytes = LIVE.load(Ordering::Relaxed);
    PEAK.store(config_bytes, Ordering::Relaxed);
    let (t, cpu) = (Instant::now(), cpu_ns());
    // What `cfg.build()` does, in two steps, to show the share of dropping the
    // configuration (a million entries' strings freed) in the build's time.
    let policy = Policy::build(&cfg)?;
    let cpu_built = cpu_ns();
    drop(cfg);
    let took = t.elapsed();
    let cpu_end = cpu_ns();
    let (cpu, cpu_drop) = (
        cpu_end.saturating_sub(cpu),
        cpu_end.saturating_sub(cpu_built),
    );
    let peak = PEAK.load(Ordering::Relaxed);
    let kept = LIVE.load(Ordering::Relaxed);
    let per = |bytes: usize| bytes as f64 / n.max(1) as f64;
    println!(
        "entries={} build={:.3}s (on cpu {:.3}s, of which {:.3}s dropping the configuration) kept={:.0}B/entry build_peak={:.0}B/entry (configuration {:.0}B/entry, dropped by the build) peak_rss={}MiB",
        policy.entries().count(),
        took.as_secs_f64(),
        cpu as f64 / 1e9,
        cpu_drop as f64 / 1e9,
        per(kept),
        per(peak.saturating_sub(config_bytes)),
        per(config_bytes),
        status_kib("VmHWM:") / 1024,
    );
    Ok(())
}
