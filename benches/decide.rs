//! Criterion benches for the hot path: `decide` for (a) the scenario 2 (ARCHITECTURE.md §6) inbound
//! envelope, (b) a submitted envelope from the scenario 1 user with three external
//! recipients, (c) inbound mail to a 10 000-member list — each against directories of
//! increasing size, all on the realistic message of `common/message.rs` — the **floor**
//! (`common/floor.rs`: three look-ups of pre-folded addresses and one marker scan of the
//! header block) next to case (a) on the 100 000-entry directory, and building a policy
//! of 100 000 entries. The last line printed is `decide / floor` from this run.
//!
//! `cargo bench --bench decide` (`cargo bench --bench decide -- floor` for the pair only)

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// Directory sizes (filler mailboxes on top of the demo organisation). Case (c) needs at
/// least 10 000 mailboxes for its list, so its smallest directory is 10 000.
const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

/// The directory of the floor comparison (issue 10).
const FLOOR_SIZE: usize = 100_000;

fn check_message() {
    let m = common::MESSAGE;
    assert_eq!(m.len(), 841, "the shared bench message changed size");
    let end = memchr::memmem::find(m, b"\r\n\r\n").expect("a header block") + 4;
    assert_eq!(end, common::HEADER_LEN);
}

/// `decide` on case (a) and the floor, side by side in one group, on one directory.
fn floor(c: &mut Criterion) {
    check_message();
    let policy = common::scaled(FLOOR_SIZE);
    let a = common::case_a(&policy);
    let floor = common::floor::Floor::new(FLOOR_SIZE);
    assert!(
        floor.run(common::MESSAGE).0 != u32::MAX,
        "the floor's look-ups hit"
    );
    let mut g = c.benchmark_group("decide_vs_floor");
    g.bench_function("decide", |b| b.iter(|| policy.decide(black_box(&a))));
    g.bench_function("floor", |b| {
        b.iter(|| floor.run(black_box(common::MESSAGE)))
    });
    g.finish();
}

fn decide(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide");
    for size in SIZES {
        let policy = common::scaled(size);
        let (a, b) = (common::case_a(&policy), common::case_b(&policy));
        g.bench_with_input(
            BenchmarkId::new("a_scenario2_inbound", size),
            &a,
            |bench, env| bench.iter(|| policy.decide(black_box(env))),
        );
        g.bench_with_input(
            BenchmarkId::new("b_outbound_3_rcpts", size),
            &b,
            |bench, env| bench.iter(|| policy.decide(black_box(env))),
        );
        let policy = if size < common::BIG_LIST {
            common::scaled(common::BIG_LIST)
        } else {
            policy
        };
        let c = common::case_c(&policy);
        let label = size.max(common::BIG_LIST);
        g.bench_with_input(
            BenchmarkId::new("c_list_of_10000", label),
            &c,
            |bench, env| bench.iter(|| policy.decide(black_box(env))),
        );
    }
    g.finish();
}

fn envelope(c: &mut Criterion) {
    let mut g = c.benchmark_group("envelope");
    g.bench_function("parse_address", |b| {
        b.iter(|| mail_journal::Address::parse(black_box("Dave.Brown@Example.COM")))
    });
    let policy = common::scaled(1_000);
    g.bench_function("build_b_4_addresses", |b| {
        b.iter(|| common::case_b(&policy))
    });
    g.finish();
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("build");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let cfg = common::scaled_config(100_000);
    g.bench_function("policy_100000_entries", |bench| {
        bench.iter(|| mail_journal::Policy::build(black_box(&cfg)).expect("builds"))
    });
    g.finish();
}

/// The median of one benchmark of this run, from criterion's estimates, in ns.
fn median(group: &str, id: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let path = target
        .join("criterion")
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Prints `decide / floor` (and 1 M / 1 k) from the medians this run measured.
fn ratios(_: &mut Criterion) {
    if let (Some(d), Some(f)) = (
        median("decide_vs_floor", "decide"),
        median("decide_vs_floor", "floor"),
    ) {
        println!(
            "decide/floor: decide {d:.1} ns, floor {f:.1} ns, ratio {:.2}",
            d / f
        );
    }
    for case in ["a_scenario2_inbound", "b_outbound_3_rcpts"] {
        let m = |n: usize| median("decide", &format!("{case}/{n}"));
        if let (Some(k), Some(m)) = (m(1_000), m(1_000_000)) {
            println!(
                "decide {case}: 1k {k:.1} ns, 1M {m:.1} ns, ratio {:.2}",
                m / k
            );
        }
    }
}

criterion_group!(benches, floor, decide, envelope, build, ratios);
criterion_main!(benches);
