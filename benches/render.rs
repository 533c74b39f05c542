//! Criterion benches for the renderers: the cost of a journal report must not grow with
//! the size of the original (only its header block is read; the body is shared).
//!
//! `cargo bench --bench render`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use mail_journal::{Envelope, Origin, Timestamp, demo, render};

fn original(size: usize) -> Bytes {
    let mut m = b"From: Bob Partner <bob@partner.example>\r\n\
To: Dave <dave@example.com>\r\n\
Subject: Q3 numbers\r\n\
Message-ID: <1234@partner.example>\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
\r\n"
        .to_vec();
    while m.len() < size {
        m.extend_from_slice(b"The numbers are in, and they are looking good this quarter.\r\n");
    }
    m.truncate(size);
    Bytes::from(m)
}

fn journal_report(c: &mut Criterion) {
    let policy = demo::policy().expect("demo policy builds");
    let main = policy.connector_id("IMS-Main").expect("demo connector");
    let at = Timestamp::from_unix(1_795_342_500);
    for (name, size) in [("1KiB", 1024), ("1MiB", 1024 * 1024)] {
        let env = Envelope::builder(Origin::Inbound { connector: main }, "<bob@partner.example>")
            .expect("sender")
            .recipient("dave@example.com")
            .expect("recipient")
            .message(original(size))
            .received_at(Timestamp::from_unix(1_795_342_443))
            .envelope_id("BENCH-1")
            .build()
            .expect("envelope");
        let d = policy.decide(&env);
        let copy = &d.journal_copies[0];
        c.bench_function(&format!("render/journal_report_{name}"), |b| {
            b.iter(|| render::journal_report(&policy, black_box(&env), &d, copy, at))
        });
    }
}

criterion_group!(benches, journal_report);
criterion_main!(benches);
