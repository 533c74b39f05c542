//! Criterion benches for the renderers: the cost of a journal report must not grow with
//! the size of the original (only its header block is read; the body is shared), and the
//! tracking rows of a decision are cheap next to deciding it.
//!
//! `cargo bench --bench render`

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mail_journal::{Origin, Timestamp, demo, render};

fn journal_report(c: &mut Criterion) {
    let policy = demo::policy().expect("demo policy builds");
    let main = policy.connector_id("IMS-Main").expect("demo connector");
    let at = Timestamp::from_unix(1_795_342_500);
    for (name, size) in [("1KiB", 1024), ("1MiB", 1024 * 1024)] {
        let env = common::envelope(
            Origin::Inbound { connector: main },
            "<bob@partner.example>",
            &["dave@example.com"],
            common::original(size),
        );
        let d = policy.decide(&env);
        let copy = &d.journal_copies[0];
        c.bench_function(&format!("render/journal_report_{name}"), |b| {
            b.iter(|| render::journal_report(&policy, black_box(&env), &d, copy, at))
        });
        if size == 1024 {
            c.bench_function("render/tracking_csv", |b| {
                b.iter(|| render::tracking_log::csv(&policy, black_box(&env), &d))
            });
        }
    }
}

criterion_group!(benches, journal_report);
criterion_main!(benches);
