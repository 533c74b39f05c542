//! Criterion benches for the hot path: `decide` for (a) the scenario 2 (ARCHITECTURE.md §6) inbound
//! envelope, (b) a submitted envelope from the scenario 1 user with three external
//! recipients, (c) inbound mail to a 10 000-member list — each against directories of
//! increasing size — and building a policy of 100 000 entries.
//!
//! `cargo bench --bench decide`

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// Directory sizes (filler mailboxes on top of the demo organisation). Case (c) needs at
/// least 10 000 mailboxes for its list, so its smallest directory is 10 000.
const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

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

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("build");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let cfg = common::scaled_config(100_000);
    g.bench_function("policy_100000_entries", |bench| {
        bench.iter(|| mail_journal::Policy::build(black_box(&cfg)).expect("builds"))
    });
    g.finish();
}

criterion_group!(benches, decide, build);
criterion_main!(benches);
