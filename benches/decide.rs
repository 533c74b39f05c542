//! Criterion benches for the hot path.
//!
//! `cargo bench --bench decide`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mail_journal::{Envelope, Origin, Policy, Timestamp, demo};

const MESSAGE: &[u8] = b"From: Bob <bob@partner.example>\r\n\
To: Dave <dave@example.com>\r\n\
Subject: Q3 numbers\r\n\
Message-ID: <1234@partner.example>\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
\r\n\
The numbers are in.\r\n";

fn envelope(origin: Origin, from: &str, to: &[&str]) -> Envelope {
    let mut b = Envelope::builder(origin, from).expect("valid sender");
    for r in to {
        b = b.recipient(r).expect("valid recipient");
    }
    b.message(MESSAGE)
        .received_at(Timestamp::from_unix(1_795_342_443))
        .envelope_id("BENCH-1")
        .build()
        .expect("valid envelope")
}

fn decide(c: &mut Criterion) {
    let policy: Policy = demo::policy().expect("demo policy builds");
    let main = policy.connector_id("IMS-Main").expect("demo connector");
    // (a) DESIGN.md scenario 2: inbound mail journaled to a hidden two-member list.
    let inbound = envelope(
        Origin::Inbound { connector: main },
        "<bob@partner.example>",
        &["dave@example.com"],
    );
    // (b) Scenario 1's monitored user sending to three external recipients.
    let outbound = envelope(
        Origin::Submitted,
        "<alice@example.com>",
        &["x@partner.example", "y@partner.example", "z@other.example"],
    );
    c.bench_function("decide/scenario2_inbound", |b| {
        b.iter(|| policy.decide(black_box(&inbound)))
    });
    c.bench_function("decide/scenario1_outbound_3_rcpts", |b| {
        b.iter(|| policy.decide(black_box(&outbound)))
    });
}

criterion_group!(benches, decide);
criterion_main!(benches);
