//! Shared fixtures for the benches: the demo organisation scaled to a given directory
//! size, and the envelopes of the hot-path cases.
#![allow(dead_code)]

use bytes::Bytes;
use mail_journal::{EntryConfig, Envelope, Origin, Policy, PolicyConfig, Timestamp, demo};

mod message;

/// The realistic inbound message (see `message.rs`), shared by every decide and render
/// bench and gate case.
#[allow(unused_imports)]
pub use message::{HEADER_LEN, MESSAGE};

/// Members of the big list in case (c).
pub const BIG_LIST: usize = 10_000;

/// The demo organisation plus `fillers` mailboxes (`user{i}@example.com`, each with an
/// X.500 proxy) and the list `big@example.com` of the first `min(fillers, 10 000)`.
pub fn scaled_config(fillers: usize) -> PolicyConfig {
    let mut cfg = demo::config();
    cfg.entries.reserve(fillers + 1);
    for i in 0..fillers {
        cfg.entries.push(
            EntryConfig::mailbox(format!("user{i}"))
                .proxy(format!("SMTP:user{i}@example.com"))
                .proxy(format!("X500:/o=Example/ou=HQ/cn=Recipients/cn=user{i}")),
        );
    }
    let members: Vec<String> = (0..fillers.min(BIG_LIST))
        .map(|i| format!("user{i}"))
        .collect();
    cfg.entries
        .push(EntryConfig::distribution_list("big", members).proxy("SMTP:big@example.com"));
    cfg
}

pub fn scaled(fillers: usize) -> Policy {
    scaled_config(fillers)
        .build()
        .expect("the scaled demo policy builds")
}

pub fn envelope(origin: Origin, from: &str, to: &[&str], message: Bytes) -> Envelope {
    let mut b = Envelope::builder(origin, from).expect("valid sender");
    for r in to {
        b = b.recipient(r).expect("valid recipient");
    }
    b.message(message)
        .received_at(Timestamp::from_unix(1_795_342_443))
        .envelope_id("BENCH-1")
        .build()
        .expect("valid envelope")
}

/// (a) scenario 2 (ARCHITECTURE.md §6): inbound mail to dave, journaled to a two-member list.
pub fn case_a(p: &Policy) -> Envelope {
    let main = p.connector_id("IMS-Main").expect("demo connector");
    envelope(
        Origin::Inbound { connector: main },
        "<bob@partner.example>",
        &["dave@example.com"],
        Bytes::from_static(MESSAGE),
    )
}

/// (b) Scenario 1's monitored user sending to three external recipients.
pub fn case_b(_p: &Policy) -> Envelope {
    envelope(
        Origin::Submitted,
        "<alice@example.com>",
        &["x@partner.example", "y@partner.example", "z@other.example"],
        Bytes::from_static(MESSAGE),
    )
}

/// (c) Inbound mail to the 10 000-member list.
pub fn case_c(p: &Policy) -> Envelope {
    let main = p.connector_id("IMS-Main").expect("demo connector");
    envelope(
        Origin::Inbound { connector: main },
        "<bob@partner.example>",
        &["big@example.com"],
        Bytes::from_static(MESSAGE),
    )
}

/// An original of `size` bytes with the usual headers.
pub fn original(size: usize) -> Bytes {
    let mut m = MESSAGE.to_vec();
    while m.len() < size {
        m.extend_from_slice(b"The numbers are in, and they are looking good this quarter.\r\n");
    }
    m.truncate(size.max(MESSAGE.len()));
    Bytes::from(m)
}

pub mod floor;
