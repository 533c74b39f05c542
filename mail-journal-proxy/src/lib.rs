//! # mail-journal-proxy
//!
//! A Postfix before-queue SMTP proxy (`smtpd_proxy_filter`) that applies a
//! [`mail_journal`] policy to every message *before* Postfix queues it:
//!
//! * every `RCPT TO` gets the engine's verdict in the SMTP dialogue (`550 5.1.1`,
//!   `550 5.7.1`, `452 4.5.3`), so refused Internet mail never turns into a bounce;
//! * at the end of `DATA` the daemon decides, hands *every* copy — the original to its
//!   final destinations, each journal copy under its journal-NDR sender with
//!   `NOTIFY=NEVER`, the DSN from `<>` — to Postfix's re-injection listener, writes the
//!   archive records and tracking rows durably, and only then answers `250`; when any
//!   of that fails it answers `451`, so the client retries and nothing is lost.
//!
//! The modules follow the roles of tokio's mini-redis, with the SMTP protocol as a pure
//! state machine:
//!
//! | module | role |
//! |---|---|
//! | [`session`] | the SMTP server session, fed bytes, returning actions (no I/O) |
//! | [`listener`] | accept loop, connection cap, per-connection handler, end-of-`DATA` work |
//! | [`forward`] | the client to Postfix's re-injection listener, with a connection pool |
//! | [`store`] | archive records and the daily tracking log, `fsync`ed before the `250` |
//! | [`reload`] | the policy in force, rebuilt on `SIGHUP` and swapped atomically |
//! | [`engine`] | the one adapter to the `mail-journal` library |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod engine;
pub mod forward;
pub mod listener;
pub mod reload;
pub mod session;
pub mod store;
