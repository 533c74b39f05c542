//! The exact number of heap allocations `decide` makes on the hot path (ARCHITECTURE.md §1:
//! nothing beyond the returned decision in the common case). A deterministic gate: a
//! change that adds an allocation fails here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use mail_journal::{Envelope, Origin, Policy, Timestamp, demo};

/// Counts allocations made by the current thread while counting is on.
struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator; the counter is a
// thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn allocations_of(policy: &Policy, env: &Envelope) -> usize {
    COUNT.with(|c| c.set(0));
    ON.with(|o| o.set(true));
    let d = policy.decide(env);
    ON.with(|o| o.set(false));
    drop(d);
    COUNT.with(Cell::get)
}

const MESSAGE: &[u8] = b"From: Bob <bob@partner.example>\r\nTo: dave@example.com\r\nSubject: Q3\r\nMessage-ID: <1@partner.example>\r\n\r\nNumbers.\r\n";

/// The realistic inbound message of the benches (Received lines, MIME fields).
#[path = "../benches/common/message.rs"]
mod realistic;

fn envelope(origin: Origin, from: &str, to: &[&str]) -> Envelope {
    envelope_with(origin, from, to, MESSAGE)
}

fn envelope_with(origin: Origin, from: &str, to: &[&str], message: &'static [u8]) -> Envelope {
    let mut b = Envelope::builder(origin, from).unwrap();
    for r in to {
        b = b.recipient(r).unwrap();
    }
    b.message(message)
        .received_at(Timestamp::from_unix(1_795_342_443))
        .envelope_id("ALLOC-1")
        .build()
        .unwrap()
}

#[test]
fn decide_allocates_exactly_this_much() {
    let policy = demo::policy().unwrap();
    let main = policy.connector_id("IMS-Main").unwrap();
    // (a) scenario 2 (ARCHITECTURE.md §6): inbound, journaled to a two-member list.
    let a = envelope(
        Origin::Inbound { connector: main },
        "<bob@partner.example>",
        &["dave@example.com"],
    );
    // (b) scenario 1's user, three external recipients.
    let b = envelope(
        Origin::Submitted,
        "<alice@example.com>",
        &["x@partner.example", "y@partner.example", "z@other.example"],
    );
    let (na, nb) = (allocations_of(&policy, &a), allocations_of(&policy, &b));
    // The same on the realistic message of the benches.
    let ra = envelope_with(
        Origin::Inbound { connector: main },
        "<bob@partner.example>",
        &["dave@example.com"],
        realistic::MESSAGE,
    );
    let rb = envelope_with(
        Origin::Submitted,
        "<alice@example.com>",
        &["x@partner.example", "y@partner.example", "z@other.example"],
        realistic::MESSAGE,
    );
    let (nra, nrb) = (allocations_of(&policy, &ra), allocations_of(&policy, &rb));
    eprintln!("allocations: (a) {na}, (b) {nb}, realistic (a) {nra}, (b) {nrb}");
    // None: verdicts, destinations, copies and tracking events all live inline in the
    // returned decision.
    assert_eq!(
        (na, nb, nra, nrb),
        (0, 0, 0, 0),
        "allocation counts changed"
    );
}

fn count<T>(f: impl FnOnce() -> T) -> (T, usize) {
    COUNT.with(|c| c.set(0));
    ON.with(|o| o.set(true));
    let t = f();
    ON.with(|o| o.set(false));
    (t, COUNT.with(Cell::get))
}

#[test]
fn an_address_is_one_allocation() {
    // Whether or not the domain needs lower-casing.
    for text in ["dave@example.com", "<Dave.Brown@Example.COM>"] {
        let (a, n) = count(|| mail_journal::Address::parse(text));
        assert!(a.is_ok());
        assert_eq!(n, 1, "{text}");
    }
    // An envelope: one per address, plus its id (up to four recipients live inline).
    let (e, n) = count(|| {
        envelope_with(
            Origin::Submitted,
            "<alice@example.com>",
            &["x@partner.example", "y@partner.example", "z@other.example"],
            realistic::MESSAGE,
        )
    });
    drop(e);
    assert_eq!(n, 4 + 1, "allocations of a four-address envelope");
}
