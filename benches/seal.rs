//! Criterion bench of sealing at storage time: one message's entries (its decision with
//! the obligations, one archive record, its tracking rows, one journal hand-over),
//! unsigned and with a signed checkpoint every 1 000 entries. The records are rendered
//! beforehand: this measures the seal, not the renderers.
//!
//! `cargo bench --features seal --bench seal`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mail_journal::seal::{Chain, ChainConfig, Obligations, signing_key_from_seed};
use mail_journal::{Envelope, Origin, Timestamp, demo, render, seal};

const MESSAGE: &[u8] = b"From: Alice <alice@example.com>\r\n\
To: Bob <bob@partner.example>\r\n\
Subject: Q3 numbers\r\n\
Message-ID: <1234@example.com>\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
\r\n\
The numbers are in.\r\n";

fn seal_message(c: &mut Criterion) {
    let policy = demo::policy().expect("demo policy builds");
    let t = Timestamp::from_unix(1_795_342_443);
    // Seed Q258557: alice's Internet mail is archived, and journaled outbound.
    let env = Envelope::builder(Origin::Submitted, "<alice@example.com>")
        .and_then(|b| b.recipient("bob@partner.example"))
        .expect("valid addresses")
        .message(MESSAGE)
        .received_at(t)
        .envelope_id("BENCH-1")
        .build()
        .expect("valid envelope");
    let d = policy.decide(&env);
    assert_eq!((d.archive_copies.len(), d.journal_copies.len()), (1, 1));
    let copy = &d.archive_copies[0];
    let record = render::archive_record(&policy, &env, &d, copy);
    let key = seal::archive_key(&policy, &env, &d, copy);
    let rows = render::tracking_log::csv(&policy, &env, &d);
    let log = seal::tracking_log_path("mx1", t);
    let journal = render::journal_message(&policy, &env, &d, &d.journal_copies[0], t);
    let sender = d.journal_copies[0].reverse_path.to_string();

    for (name, config) in [
        ("seal/message_unsigned", ChainConfig::new()),
        (
            "seal/message_signed_every_1000",
            ChainConfig::new().signing_key(signing_key_from_seed([1; 32])),
        ),
    ] {
        let mut chain = Chain::new("mx1", config).expect("valid node");
        c.bench_function(name, |b| {
            b.iter(|| {
                let o = Obligations::from_decision(&policy, black_box(&env), &d);
                let (msg, l1) = chain
                    .decision(env.envelope_id(), [env.message()], &o, t)
                    .expect("sealed");
                let l2 = chain
                    .archive(&msg, &key, record.chunks(), t)
                    .expect("sealed");
                let l3 = chain
                    .tracking(&msg, &log, 1024, rows.chunks(), t)
                    .expect("sealed");
                let l4 = chain
                    .handover(
                        &msg,
                        &sender,
                        "250 2.0.0 Ok: queued as 4ABC",
                        journal.chunks(),
                        t,
                    )
                    .expect("sealed");
                black_box((l1, l2, l3, l4))
            })
        });
    }
}

criterion_group!(benches, seal_message);
criterion_main!(benches);
