//! Renderers: turn a [`Decision`](crate::Decision) into bytes a transport can queue,
//! store or log.
//!
//! Every renderer is a pure function of its inputs: no clock (the time is a parameter),
//! no randomness (boundaries and Message-IDs are keyed hashes of the inputs, see
//! [`PolicyConfig::render_secret`](crate::PolicyConfig::render_secret)), no I/O. Output
//! is a [`Rendered`]: a short list of [`Bytes`](bytes::Bytes) chunks whose middle chunk shares the
//! original message's buffer, ready for a vectored write.
//!
//! | function | output |
//! |---|---|
//! | [`journal_report`] | Envelope-format journal report (`multipart/mixed`, original attached unaltered) |
//! | [`journal_copy`] | Copy-format journal copy: the original, unaltered |
//! | [`journal_message`] | whichever of the two the copy's format asks for |
//! | [`archive_record`] | pickup-directory record: `X-Sender` / `X-Receiver` envelope headers, then the original |
//! | [`dsn`] | RFC 3464 delivery status notification for refused and undelivered recipients |
//! | [`tracking_log`] | Exchange 2013+ message tracking CSV and Exchange 5.5 tab-separated lines |

mod archive;
mod dsn;
mod facts;
pub(crate) mod journal;
pub(crate) mod mime;
mod rendered;
pub mod tracking_log;

pub use archive::archive_record;
pub use dsn::dsn;
pub use journal::{journal_copy, journal_message, journal_report};
pub use rendered::Rendered;
