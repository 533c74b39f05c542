//! The seal fixture shared by `benches/seal.rs` (criterion) and `examples/seal_cost.rs`
//! (instruction counts under Callgrind), ready for a gungraun case: one message's
//! entries as a transport seals them at storage time — its decision with the
//! obligations, one archive record, its tracking rows, one journal hand-over. The
//! records are rendered in the setup: this measures the seal, not the renderers.
//!
//! For the gate: `setup = seal::seal_case_unsigned` and a benchmark that calls
//! [`seal_message`] once and returns the case with the lines.
#![allow(dead_code)]

use mail_journal::render::Rendered;
use mail_journal::seal::{Chain, ChainConfig, Lines, Obligations, signing_key_from_seed};
use mail_journal::{Decision, Envelope, Origin, Policy, Timestamp, demo, render, seal};

pub const MESSAGE: &[u8] = b"From: Alice <alice@example.com>\r\n\
To: Bob <bob@partner.example>\r\n\
Subject: Q3 numbers\r\n\
Message-ID: <1234@example.com>\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
\r\n\
The numbers are in.\r\n";

/// Everything sealing one message needs, and the chain it goes into.
pub struct SealCase {
    pub policy: Policy,
    pub envelope: Envelope,
    pub decision: Decision,
    pub record: Rendered,
    pub key: String,
    pub rows: Rendered,
    pub log: String,
    pub journal: Rendered,
    pub sender: String,
    pub time: Timestamp,
    pub chain: Chain,
}

/// Seed Q258557: alice's Internet mail, archived and journaled outbound.
pub fn seal_case(config: ChainConfig) -> SealCase {
    let policy = demo::policy().expect("demo policy builds");
    let time = Timestamp::from_unix(1_795_342_443);
    let envelope = Envelope::builder(Origin::Submitted, "<alice@example.com>")
        .and_then(|b| b.recipient("bob@partner.example"))
        .expect("valid addresses")
        .message(MESSAGE)
        .received_at(time)
        .envelope_id("BENCH-1")
        .build()
        .expect("valid envelope");
    let decision = policy.decide(&envelope);
    assert_eq!(
        (decision.archive_copies.len(), decision.journal_copies.len()),
        (1, 1)
    );
    let copy = &decision.archive_copies[0];
    let record = render::archive_record(&policy, &envelope, &decision, copy);
    let key = seal::archive_key(&policy, &envelope, &decision, copy);
    let rows = render::tracking_log::csv(&policy, &envelope, &decision);
    let log = seal::tracking_log_path("mx1", time);
    let journal = render::journal_message(
        &policy,
        &envelope,
        &decision,
        &decision.journal_copies[0],
        time,
    );
    let sender = decision.journal_copies[0].reverse_path.to_string();
    let chain = Chain::new("mx1", config).expect("valid node");
    SealCase {
        policy,
        envelope,
        decision,
        record,
        key,
        rows,
        log,
        journal,
        sender,
        time,
        chain,
    }
}

/// Unsigned, a checkpoint every 1 000 entries (the default).
pub fn seal_case_unsigned() -> SealCase {
    seal_case(ChainConfig::new())
}

/// Signed checkpoints every 1 000 entries.
pub fn seal_case_signed() -> SealCase {
    seal_case(ChainConfig::new().signing_key(signing_key_from_seed([1; 32])))
}

/// Seals one message: the obligations, then its four entries.
pub fn seal_message(c: &mut SealCase) -> [Lines; 4] {
    let t = c.time;
    let o = Obligations::from_decision(&c.policy, &c.envelope, &c.decision);
    let (msg, l1) = c
        .chain
        .decision(c.envelope.envelope_id(), [c.envelope.message()], &o, t)
        .expect("sealed");
    let l2 = c
        .chain
        .archive(&msg, &c.key, c.record.chunks(), t)
        .expect("sealed");
    let l3 = c
        .chain
        .tracking(&msg, &c.log, 1024, c.rows.chunks(), t)
        .expect("sealed");
    let l4 = c
        .chain
        .handover(
            &msg,
            &c.sender,
            "250 2.0.0 Ok: queued as 4ABC",
            c.journal.chunks(),
            t,
        )
        .expect("sealed");
    [l1, l2, l3, l4]
}
