//! The deterministic performance gate: instruction counts under Callgrind (gungraun),
//! with absolute limits. A change that adds work to the hot path fails `.ci/run`.
//!
//! `cargo bench --features gate --bench gate` (needs `gungraun-runner` 0.20.0:
//! `cargo install gungraun-runner --version 0.20.0 --locked`).
//!
//! Setup (building the policy, the envelope) is not measured; each benchmark returns its
//! inputs with its result so that dropping them is not measured either.

mod common;
#[path = "common/seal.rs"]
mod seal_case;

use std::hint::black_box;

use gungraun::prelude::*;
use gungraun::{Callgrind, EventKind};
use mail_journal::{Decision, Envelope, Policy, Timestamp, render};

// Limits: instructions (Ir), about 10 % above what was measured when they were set
// (2026-11-22, rustc 1.95, glibc 2.36). Callgrind counts do not vary from run to run, so
// the head-room only has to absorb toolchain drift: a doubled header scan (+1 380 in
// (a)) must fail, and it does.
/// (a) scenario 2 inbound envelope on the realistic message (`common/message.rs`),
/// directory of 1 000 fillers (measured 5 484 on 2026-12-03; builds with no change to
/// decide moved it between 5 426 and 5 484; with the Subject kept for the tracking logs, about 120, and the compact tables' own probe mix; 5 372 on 2026-12-02 — field names a
/// word at a time, one newline searcher per scan, the walker shared with the renderers;
/// 5 588 before that, 8 564 before issue 10's work on
/// the same message, about 850 of which were the harness moving the policy and the
/// decision and memchr's one-time CPU detection; the budget is 2 500).
const LIMIT_A: u64 = 5_750;
/// (b) scenario 1 user, three external recipients, directory of 1 000 (measured 7 695
/// on 2026-12-03, 7 638-7 695 with no change to decide; 7 693 with the Subject kept, 7 575 before; 7 722 before the faster header scan, 11 251
/// before issue 10).
const LIMIT_B: u64 = 8_150;
/// (c) inbound mail to a list of 10 000 members (measured 976 594 on 2026-12-02, 98 a
/// member; 1 429 306 before the DELIVER event was reserved once per run of deliveries).
const LIMIT_C: u64 = 1_063_000;
/// `Address::parse` of a mixed-case address (measured 527, one allocation included; 560
/// before the '@' was found in the hash's pass, 659 before the plain case was one table
/// step per byte, 860 before the one-pass plain case, 2 060 before issue 10; the issue's
/// budget: 400).
const LIMIT_ADDRESS: u64 = 580;
/// Building case (b)'s envelope: a sender and three recipients (measured 3 704; 4 097
/// before lower-case domains were left as they are, 4 543 before the table-driven plain
/// address, 7 608 before issue 10).
const LIMIT_ENVELOPE: u64 = 4_080;
/// The floor of case (a) (`common/floor.rs`, measured 1 691 with the engine's newline
/// searcher; 1 936 with `memchr_iter`), beside it for the ratio; not a budget of the
/// engine, a check that the comparison stays what it was.
const LIMIT_FLOOR: u64 = 1_860;
/// Journal report for a 1 KiB and a 1 MiB original with a realistic header block
/// (measured 18 495 for both on 2026-12-03 with the report's key over a 16-byte sample
/// of each end; 19 017 on 2026-12-02, 19 918 before the renderers
/// shared decide's header walker; 132 064 before issue 10): one limit for both,
/// since the cost must not depend on the size of the original.
const LIMIT_REPORT: u64 = 20_400;
/// The CSV tracking rows of that decision (measured 7 607 on 2026-12-03 with rows written
/// as bytes and the report's key over a shorter sample; 8 986 with the Subject where
/// decide's scan found it, 11 679 walking the header block again, 23 600 before the
/// shared fields were quoted once per decision, 185 519 before issue 10), the journal
/// report's Message-ID (a keyed hash, about 1 650) included.
const LIMIT_CSV: u64 = 8_500;
/// Sealing one message at storage time (`common/seal.rs`: its decision with the
/// obligations, one archive record, its tracking rows, one journal hand-over), unsigned
/// (measured 291 959 on 2026-12-03). Most of it is SHA-256, which Callgrind runs in software.
const LIMIT_SEAL: u64 = 321_000;

/// Boxed, so that handing the case to the benchmark moves a pointer, not the policy.
type Case = Box<(Policy, Envelope)>;

/// The first `memchr` of a process detects the CPU's features (some 340 instructions,
/// once per process): do it in the setup, as any long-running transport has.
fn warm_up() {
    black_box(memchr::memchr(b'\n', black_box(b"warm up\n")));
}

/// Building a large policy leaves many small freed chunks behind; glibc consolidates them
/// on the next large allocation. Trigger that here, in the setup, so the measurement is
/// the engine's work and not the allocator tidying up after the setup.
fn settle_allocator() {
    drop(std::hint::black_box(Vec::<u8>::with_capacity(4 << 20)));
}

fn setup_a() -> Case {
    let p = common::scaled(1_000);
    let e = common::case_a(&p);
    warm_up();
    settle_allocator();
    Box::new((p, e))
}

fn setup_b() -> Case {
    let p = common::scaled(1_000);
    let e = common::case_b(&p);
    warm_up();
    settle_allocator();
    Box::new((p, e))
}

fn setup_c() -> Case {
    let p = common::scaled(common::BIG_LIST);
    let e = common::case_c(&p);
    warm_up();
    settle_allocator();
    Box::new((p, e))
}

fn limit(ir: u64) -> LibraryBenchmarkConfig {
    let mut config = LibraryBenchmarkConfig::default();
    config.tool(Callgrind::default().hard_limits([(EventKind::Ir, ir)]));
    config
}

#[library_benchmark]
#[bench::a_scenario2_inbound(setup = setup_a, config = limit(LIMIT_A))]
#[bench::b_outbound_3_rcpts(setup = setup_b, config = limit(LIMIT_B))]
#[bench::c_list_of_10000(setup = setup_c, config = limit(LIMIT_C))]
fn decide(case: Case) -> Decision {
    let d = case.0.decide(black_box(&case.1));
    // Not dropped while measured (the process ends right after).
    std::mem::forget(case);
    d
}

#[library_benchmark]
#[bench::mixed_case(config = limit(LIMIT_ADDRESS))]
fn address_parse() -> Result<mail_journal::Address, mail_journal::AddressError> {
    black_box(mail_journal::Address::parse(black_box(
        "Dave.Brown@Example.COM",
    )))
}

fn setup_envelope() -> Policy {
    let p = common::scaled(1_000);
    settle_allocator();
    p
}

#[library_benchmark]
#[bench::b_4_addresses(setup = setup_envelope, config = limit(LIMIT_ENVELOPE))]
fn envelope(p: Policy) -> (Policy, Envelope) {
    let e = black_box(common::case_b(&p));
    (p, e)
}

fn setup_floor() -> common::floor::Floor {
    let f = common::floor::Floor::new(1_000);
    warm_up();
    settle_allocator();
    f
}

#[library_benchmark]
#[bench::a_scenario2_inbound(setup = setup_floor, config = limit(LIMIT_FLOOR))]
fn floor(f: common::floor::Floor) -> (u32, bool) {
    let r = f.run(black_box(common::MESSAGE));
    std::mem::forget(f);
    r
}

fn setup_report(size: usize) -> (Policy, Envelope, Decision) {
    let p = mail_journal::demo::policy().expect("demo policy builds");
    let main = p.connector_id("IMS-Main").expect("demo connector");
    let e = common::envelope(
        mail_journal::Origin::Inbound { connector: main },
        "<bob@partner.example>",
        &["dave@example.com"],
        common::original(size),
    );
    let d = p.decide(&e);
    settle_allocator();
    (p, e, d)
}

#[library_benchmark]
#[bench::report_1kib(args = (1024), setup = setup_report, config = limit(LIMIT_REPORT))]
#[bench::report_1mib(args = (1024 * 1024), setup = setup_report, config = limit(LIMIT_REPORT))]
fn journal_report(
    input: (Policy, Envelope, Decision),
) -> ((Policy, Envelope, Decision), render::Rendered) {
    let (p, e, d) = &input;
    let r = black_box(render::journal_report(
        p,
        black_box(e),
        d,
        &d.journal_copies[0],
        Timestamp::from_unix(1_795_342_500),
    ));
    (input, r)
}

fn setup_csv() -> (Policy, Envelope, Decision) {
    setup_report(1024)
}

#[library_benchmark]
#[bench::csv_rows(setup = setup_csv, config = limit(LIMIT_CSV))]
fn tracking_csv(
    input: (Policy, Envelope, Decision),
) -> ((Policy, Envelope, Decision), render::Rendered) {
    let (p, e, d) = &input;
    let r = black_box(render::tracking_log::csv(p, black_box(e), d));
    (input, r)
}

#[library_benchmark]
#[bench::one_message(setup = seal_case::seal_case_unsigned, config = limit(LIMIT_SEAL))]
fn seal(mut case: seal_case::SealCase) -> (seal_case::SealCase, [mail_journal::seal::Lines; 4]) {
    let lines = black_box(seal_case::seal_message(&mut case));
    (case, lines)
}

library_benchmark_group!(
    name = hot_path,
    benchmarks = [
        decide,
        floor,
        address_parse,
        envelope,
        journal_report,
        tracking_csv,
        seal
    ]
);

main!(library_benchmark_groups = hot_path);
