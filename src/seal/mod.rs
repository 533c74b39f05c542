//! A journal you can prove (feature `seal`): a hash chain over everything a transport
//! stores for each message, the obligations of each decision sealed with it, signed
//! checkpoints to anchor outside the system, and a verifier that names every deletion,
//! insertion, alteration, reordering and truncation, and every message whose obligations
//! were not all met.
//!
//! An archiver that keeps one SHA-256 per file shows that a stored file changed, not that
//! one was deleted, inserted or reordered, and nothing in it proves that every accepted
//! message reached the journal. The engine sees every decision, so the transport seals,
//! next to each record it stores, what the decision obliged: an auditor can then check
//! that the journal is complete and unaltered (the audit-trail alternative of SEC
//! 17a-4(f), GoBD's completeness and immutability).
//!
//! Like the rest of the crate this module does no I/O and reads no clock: the transport
//! passes the bytes it stored and the time, appends the returned [`Lines`] to its chain
//! file, and implements [`RecordStore`] for the verifier. The `mail-journal-verify`
//! command does that for a store directory.
//!
//! # Flow
//!
//! For each message, at storage time (beside the renderers, never in `decide`):
//!
//! 1. [`Chain::decision`] — the first entry: the message's SHA-256 and its
//!    [`Obligations`] (archive keys, journal senders, tracking rows);
//! 2. [`Chain::archive`] — each archive record written, under [`archive_key`];
//! 3. [`Chain::tracking`] — the message's tracking rows appended to the day's log
//!    ([`tracking_log_path`]), sealed as a byte range;
//! 4. [`Chain::handover`] — each journal copy handed to the MTA, with the MTA's reply.
//!
//! Each call returns the lines to append and `fsync` before the message is
//! acknowledged (see [`Chain`] for the crash-safety contract).
//!
//! ```
//! use std::collections::BTreeMap;
//! use mail_journal::*;
//! use mail_journal::seal::*;
//!
//! let policy = demo::policy()?;
//! let t = Timestamp::from_unix(1_795_342_443);
//! let env = Envelope::builder(Origin::Submitted, "<alice@example.com>")?
//!     .recipient("bob@partner.example")?
//!     .message(&b"From: alice@example.com\r\nSubject: Q3\r\n\r\nNumbers.\r\n"[..])
//!     .received_at(t)
//!     .envelope_id("Q1")
//!     .build()?;
//! let decision = policy.decide(&env);
//!
//! // The transport's store (here in memory) and its chain file.
//! let mut store: BTreeMap<String, Vec<u8>> = BTreeMap::new();
//! let mut chain_file = String::new();
//! let key = signing_key_from_seed([42; 32]); // the caller reads 32 random bytes
//! let mut chain = Chain::new("mx1", ChainConfig::new().signing_key(key.clone()))?;
//!
//! let obligations = Obligations::from_decision(&policy, &env, &decision);
//! let (msg, lines) = chain.decision(env.envelope_id(), [env.message()], &obligations, t)?;
//! chain_file += lines.as_str();
//! for copy in &decision.archive_copies {
//!     let record = render::archive_record(&policy, &env, &decision, copy);
//!     let path = archive_key(&policy, &env, &decision, copy);
//!     store.insert(path.clone(), record.to_vec());
//!     chain_file += chain.archive(&msg, &path, record.chunks(), t)?.as_str();
//! }
//! let log = tracking_log_path("mx1", t);
//! let mut log_bytes = render::tracking_log::csv_preamble(t).into_bytes();
//! let rows = render::tracking_log::csv(&policy, &env, &decision);
//! let offset = log_bytes.len() as u64;
//! log_bytes.extend_from_slice(&rows.to_vec());
//! chain_file += chain.tracking(&msg, &log, offset, rows.chunks(), t)?.as_str();
//! store.insert(log, log_bytes);
//! for copy in &decision.journal_copies {
//!     let report = render::journal_message(&policy, &env, &decision, copy, t);
//!     // ... hand `report` to the MTA with MAIL FROM:<copy.reverse_path> ...
//!     let reply = "250 2.0.0 Ok: queued as 4ABC";
//!     let sender = copy.reverse_path.to_string();
//!     chain_file += chain.handover(&msg, &sender, reply, report.chunks(), t)?.as_str();
//! }
//! // At shutdown (or from a timer after midnight: `close_day`), end on a checkpoint and
//! // anchor it outside the system.
//! let end = chain.checkpoint(t)?;
//! chain_file += end.as_str();
//! let anchor = end.checkpoints()[0].anchor_line();
//! assert!(anchor.starts_with("mail-journal checkpoint node=mx1 count="));
//!
//! let report = Verifier::new()
//!     .chain("mx1", chain_file.as_bytes())
//!     .anchors("ticket-4711", &anchor)
//!     .public_key(key.verifying_key())
//!     .verify(&store);
//! assert!(report.is_clean(), "{:#?}", report.findings);
//! assert_eq!((report.summary.messages, report.summary.complete), (1, 1));
//!
//! // Delete the archive record: the verifier names it.
//! let path = archive_key(&policy, &env, &decision, &decision.archive_copies[0]);
//! store.remove(&path);
//! let report = Verifier::new().chain("mx1", chain_file.as_bytes()).verify(&store);
//! assert_eq!(report.findings.len(), 1);
//! assert_eq!(report.findings[0].kind.code(), "missing_record");
//! assert_eq!(report.findings[0].key.as_deref(), Some(path.as_str()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Store layout
//!
//! Keys are relative to the store directory, `/`-separated:
//!
//! ```text
//! <store>/archive/<storage key>                  archive records (archive_key)
//! <store>/tracking/MSGTRK<YYYYMMDD>-<node>.LOG   daily tracking log; preamble lines start with '#'
//! <store>/seal/<node>.chain                      the node's hash chain, one JSON object a line
//! <store>/seal/checkpoints/…                     (optional) anchored checkpoint lines
//! ```
//!
//! An archive entry seals `archive/…` (the whole file). A tracking entry seals a byte
//! range of a log, `tracking/<file>#<offset>+<length>` (decimal); the log's `#` preamble
//! lines need no seal, every other byte must lie in exactly one sealed range.
//!
//! # Chain entry format
//!
//! One JSON object per line, UTF-8, terminated by `\n`. One chain per node; entries are
//! numbered from 1 without gaps. Every entry has these members, in this order:
//!
//! | member | value |
//! |---|---|
//! | `v` | `1`, the format version |
//! | `seq` | the sequence number, 1, 2, 3, … |
//! | `prev` | the previous entry's `hash` (64 lower-case hex digits); 64 zeros for seq 1 |
//! | `kind` | `"decision"`, `"archive"`, `"tracking"`, `"handover"` or `"checkpoint"` |
//! | `node` | the node name, `[A-Za-z0-9._-]{1,64}` |
//! | `time` | the caller's time, UTC, `"YYYY-MM-DDTHH:MM:SSZ"` |
//!
//! then the kind's members, in this order, then `hash` (below):
//!
//! | kind | members |
//! |---|---|
//! | `decision` | `envelope` (envelope id), `sha256` (of the message as received), `size` (its bytes), `archive` (array: the storage keys of the archive records obliged), `journal` (array: the envelope senders — journal-NDR addresses — of the journal copies obliged), `rows` (tracking rows obliged) |
//! | `archive` | `msg` (seq of the message's decision entry), `envelope`, `key` (the record's storage key), `sha256` and `size` (of the exact bytes stored) |
//! | `tracking` | `msg`, `envelope`, `key` (`tracking/<file>#<offset>+<length>`), `sha256` and `size` (of those bytes), `rows` (lines in them) |
//! | `handover` | `msg`, `envelope`, `reverse_path` (the copy's envelope sender), `reply` (the MTA's reply to the copy, e.g. `250 2.0.0 Ok: queued as 4ABC`), `sha256` and `size` (of the bytes handed over) |
//! | `checkpoint` | `reason` (`open`, `resume`, `interval`, `day`, `explicit`), `every` (the interval in force, 0 for none), `count` (entries before it: seq − 1), `head` (the hash of entry `count`: equal to `prev`), `sig` (Ed25519 signature, 128 hex digits, or `""` when unsigned) |
//!
//! Examples (hashes shortened here; in a chain every hash is 64 digits):
//!
//! ```text
//! {"v":1,"seq":1,"prev":"0000…","kind":"checkpoint","node":"mx1","time":"2026-11-22T10:14:03Z","reason":"open","every":1000,"count":0,"head":"0000…","sig":"","hash":"5c1e…"}
//! {"v":1,"seq":2,"prev":"5c1e…","kind":"decision","node":"mx1","time":"2026-11-22T10:14:03Z","envelope":"Q1","sha256":"a3f0…","size":48,"archive":["archive/2026/11/22/alice@example.com/Q1.eml"],"journal":["outbound-journal-ndr@example.com"],"rows":4,"hash":"…"}
//! {"v":1,"seq":3,"prev":"…","kind":"archive","node":"mx1","time":"2026-11-22T10:14:03Z","msg":2,"envelope":"Q1","key":"archive/2026/11/22/alice@example.com/Q1.eml","sha256":"…","size":271,"hash":"…"}
//! {"v":1,"seq":4,"prev":"…","kind":"tracking","node":"mx1","time":"2026-11-22T10:14:03Z","msg":2,"envelope":"Q1","key":"tracking/MSGTRK20261122-mx1.LOG#412+1290","sha256":"…","size":1290,"rows":4,"hash":"…"}
//! {"v":1,"seq":5,"prev":"…","kind":"handover","node":"mx1","time":"2026-11-22T10:14:04Z","msg":2,"envelope":"Q1","reverse_path":"outbound-journal-ndr@example.com","reply":"250 2.0.0 Ok: queued as 4ABC","sha256":"…","size":1893,"hash":"…"}
//! {"v":1,"seq":6,"prev":"…","kind":"checkpoint","node":"mx1","time":"2026-11-22T23:59:59Z","reason":"day","every":1000,"count":5,"head":"…","sig":"…","hash":"…"}
//! ```
//!
//! # Canonical form and hash
//!
//! A line is the *canonical object* with `,"hash":"<64 hex>"` inserted before its final
//! `}`, and `hash` is the SHA-256 of the canonical object's bytes — that is, of the line
//! without its `\n` and without the `,"hash":"…"` member. The canonical object is:
//! `{`, the members above in exactly that order, separated by `,`, each `"name":value`,
//! then `}`; no whitespace anywhere; numbers in decimal without sign, leading zeros or
//! fraction; hashes and signatures as lower-case hex strings; strings escaped by exactly
//! these rules: `"` as `\"`, `\` as `\\`, U+0000–U+001F as `\u00xx` (lower-case hex), every
//! other character as its UTF-8 bytes (no other escapes, `/` unescaped). A verifier
//! re-encodes each parsed line and refuses any line that is not byte-for-byte canonical.
//!
//! Test vector: the canonical object
//!
//! ```text
//! {"v":1,"seq":2,"prev":"1111111111111111111111111111111111111111111111111111111111111111","kind":"archive","node":"mx1","time":"2026-11-22T10:14:03Z","msg":1,"envelope":"Q1","key":"archive/2026/11/22/alice@example.com/Q1.eml","sha256":"2222222222222222222222222222222222222222222222222222222222222222","size":512}
//! ```
//!
//! has the hash `99d9446663a9b3387d4bc4056e610cc65505b1204d1f63f1ac370bbbc0211ebe`.
//!
//! # Checkpoints
//!
//! A `checkpoint` entry states "this node's chain holds `count` entries, the last with
//! hash `head`, as of `time`". The [`Chain`] writes one as the first entry of a chain
//! (`open`) and after a restart (`resume`); after every `every` entries that are not
//! checkpoints (`interval`, [`ChainConfig::checkpoint_every`]); before the first entry of
//! a later UTC day than the last entry (`day`, time `23:59:59` of the day it closes;
//! [`Chain::close_day`] writes it from a timer); and when asked ([`Chain::checkpoint`]).
//! With a key ([`ChainConfig::signing_key`]), `sig` is the Ed25519 signature of the
//! checkpoint's [statement](Checkpoint::statement), the text
//! `mail-journal checkpoint node=<node> count=<count> head=<head> time=<time>`; the
//! [anchor line](Checkpoint::anchor_line) is that text plus ` sig=<signature>`, one short
//! line for an operator to anchor outside the system (a ticket, a timestamping service,
//! a WORM bucket).
//!
//! # What the verifier detects
//!
//! [`Verifier`] reads the chains of one or more nodes, anchored checkpoint lines and the
//! stored records, and returns every [`Finding`] with its place (node, sequence number,
//! line, storage key):
//!
//! * an altered line (its hash does not match; or not canonical; or not an entry at all),
//!   a broken link (a rewritten entry with a recomputed hash), deleted entries (a
//!   sequence gap, including the chain's start), inserted or duplicated lines (a second
//!   line for a sequence number), reordered lines;
//! * an altered record (SHA-256 or length differs, a tracking range beyond the log's
//!   end), a missing record, an unexpected record (an archive file or tracking bytes no
//!   entry seals);
//! * a checkpoint the writer must have written and did not (more than `every` entries
//!   in a row, or a UTC day change without a `day` checkpoint), a checkpoint whose
//!   fields disagree with its place, an unsigned or badly signed checkpoint (with a
//!   public key), an anchored checkpoint the chain does not hold (rewritten), a chain
//!   that ends before an anchored checkpoint or, with [`Verifier::closed_until`], does
//!   not end on a checkpoint at or after that time (truncated);
//! * every message whose obligations are not all sealed (incomplete), and entries that
//!   disagree with each other.
//!
//! It cannot detect, and the chain does not claim:
//!
//! * the loss of the *tail* written after the last checkpoint that was anchored outside
//!   the system, cut at a message boundary, unless `closed_until` says the chain must
//!   end on a later checkpoint (a cut inside a message shows as an incomplete message);
//! * the loss of a whole node's chain and records, unless a checkpoint of that node is
//!   anchored (the auditor must know the nodes);
//! * a message the transport never sealed at all: the chain proves completeness for the
//!   decisions it holds; compare its message count with the MTA's own logs;
//! * that the stated times are true (they are the transport's; anchoring with a
//!   timestamping service bounds them), or that a decision was right (re-run
//!   `decide` on the archived record for that);
//! * the content of a journal copy: only its SHA-256 and the MTA's reply are sealed;
//!   the MTA's log (the queue id in the reply) and the journal mailbox hold the copy.
//!
//! # Threat model
//!
//! The chain makes any change to what was sealed evident to someone who holds a
//! trustworthy reference point: an anchored checkpoint, or the public key of a signing
//! key that stayed safe. Whoever holds root on a node while it writes can rewrite,
//! delete or reorder everything that node wrote since its last checkpoint that was
//! anchored elsewhere, and — with the signing key on the node — sign new checkpoints
//! for the rewritten chain: signatures prove authorship only while the key is safe.
//! What lies before an anchored checkpoint cannot be changed without the anchor showing
//! it. Anchor often (every day checkpoint, at least), keep anchors off the nodes, and
//! keep the store on WORM storage where the law asks for it.
//!
//! # Verifying a store
//!
//! `mail-journal-verify DIR [--public-key FILE] [--anchors FILE]… [--closed-until TIME] [--json]`
//! implements [`RecordStore`] over a store directory, reads every `seal/*.chain` and
//! `seal/checkpoints/*`, exits 0 with a summary or 1 listing each finding.

mod chain;
mod checkpoint;
mod entry;
mod obligations;
mod paths;
mod recover;
mod verify;

pub use chain::{Chain, ChainConfig, Lines, MessageRef, ResumeError, Resumed, SealError};
pub use checkpoint::{
    AnchorError, Checkpoint, KeyError, parse_signing_key, parse_verifying_key, signing_key_file,
    signing_key_from_seed, verifying_key_file,
};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use entry::Reason;
pub use obligations::{Obligations, archive_key};
pub use paths::{chain_path, parse_time, tracking_key, tracking_log_path};
pub use recover::{Recovery, SealedArchive};
pub use verify::{Finding, FindingKind, RecordStore, Report, Summary, Verifier};
