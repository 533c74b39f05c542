//! The writer: one hash chain per node.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::seal::checkpoint::Checkpoint;
use crate::seal::entry::{
    Body, Entry, Hash, Reason, ZERO, day, end_of_day, format_time, parse, push_entry_line,
};
use crate::seal::obligations::Obligations;
use crate::seal::paths::{check_key, tracking_key, valid_node};
use crate::time::Timestamp;
use ed25519_dalek::SigningKey;

/// Why an entry cannot be sealed. Nothing is written and the chain is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// A node name outside `[A-Za-z0-9._-]{1,64}` (or starting with `.`).
    #[error(
        "node name {node:?}: use 1 to 64 of A-Z a-z 0-9 . _ - (not starting with `.`), it names files and anchor fields"
    )]
    Node {
        /// The name.
        node: String,
    },
    /// A storage key the store layout does not allow.
    #[error("storage key {key:?}: {reason}")]
    StorageKey {
        /// The key.
        key: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A time outside the years 0000–9999.
    #[error("time {unix_seconds} (Unix seconds) is outside the years 0000-9999")]
    Time {
        /// The time, in seconds since the Unix epoch.
        unix_seconds: i64,
    },
    /// A message handle this chain did not issue.
    #[error(
        "message sealed at sequence number {seq} (envelope {envelope:?}) is not in this chain, whose last entry is {last}"
    )]
    UnknownMessage {
        /// The handle's sequence number.
        seq: u64,
        /// The handle's envelope id.
        envelope: String,
        /// The chain's last sequence number.
        last: u64,
    },
}

/// Why a chain cannot be resumed from the end of its file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// The node name is invalid.
    #[error(transparent)]
    Node(#[from] SealError),
    /// The last complete line is not a valid entry (and is not the torn last line, which
    /// is reported through [`Resumed::torn_bytes`] instead).
    #[error(
        "chain of node {node}: the last complete line is not a valid entry ({reason}); run the verifier before resuming: {excerpt:?}"
    )]
    Corrupt {
        /// The node.
        node: String,
        /// What is wrong.
        reason: String,
        /// The start of the line.
        excerpt: String,
    },
    /// The last entry belongs to another node.
    #[error("chain of node {expected}: its last entry was written by node {found:?}")]
    NodeMismatch {
        /// The node resuming.
        expected: String,
        /// The node named in the line.
        found: String,
    },
}

/// How a [`Chain`] writes checkpoints and signs them.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    every: u64,
    key: Option<SigningKey>,
}

impl Default for ChainConfig {
    /// A checkpoint every 1 000 entries, unsigned.
    fn default() -> Self {
        ChainConfig {
            every: 1000,
            key: None,
        }
    }
}

impl ChainConfig {
    /// The default: a checkpoint every 1 000 entries, unsigned.
    pub fn new() -> Self {
        Self::default()
    }

    /// A checkpoint after every `n` entries that are not checkpoints (`0`: only the
    /// day, open, resume and explicit ones).
    pub fn checkpoint_every(mut self, n: u64) -> Self {
        self.every = n;
        self
    }

    /// Sign every checkpoint with this Ed25519 key.
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.key = Some(key);
        self
    }
}

/// A message whose `decision` entry is sealed: pass it to the entries that fulfil the
/// decision's obligations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MessageRef {
    seq: u64,
    envelope: String,
}

impl MessageRef {
    /// The handle of the decision entry `seq` for `envelope_id`, for a transport that
    /// continues a message after a restart (it read both from the chain).
    pub fn new(seq: u64, envelope_id: &str) -> Self {
        MessageRef {
            seq,
            envelope: envelope_id.to_owned(),
        }
    }
    /// The sequence number of the message's `decision` entry.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// The envelope id.
    pub fn envelope_id(&self) -> &str {
        &self.envelope
    }
}

/// What one sealing call produced: one or more complete chain lines (each ending in
/// `\n`) to append to the chain file, in order, and the checkpoints among them.
///
/// Besides the entry asked for, a call can write a `day` checkpoint before it (its time
/// is on a later UTC day than the last entry), an `open` or `resume` checkpoint before it
/// (the first entry of a new or resumed chain) and an `interval` checkpoint after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    text: String,
    count: usize,
    checkpoints: Vec<Checkpoint>,
}

impl Lines {
    /// The lines, each ending in `\n`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The lines as bytes, ready to append.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
    /// The lines, by value.
    pub fn into_string(self) -> String {
        self.text
    }
    /// How many lines.
    pub fn len(&self) -> usize {
        self.count
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// The checkpoints among the lines, to anchor outside the system
    /// ([`Checkpoint::anchor_line`]).
    pub fn checkpoints(&self) -> &[Checkpoint] {
        &self.checkpoints
    }
}

/// A chain resumed after a restart.
#[derive(Debug)]
#[non_exhaustive]
pub struct Resumed {
    /// The chain, continuing after the last complete entry.
    pub chain: Chain,
    /// The length of a torn last line at the end of the tail given (bytes after the last
    /// newline, or a last line that is not a valid entry): cut the file by this many bytes
    /// before appending. `0` when the file ends cleanly.
    pub torn_bytes: usize,
}

/// The hash chain of one node: seals the records a transport stores for each message and
/// writes checkpoints. Single writer: a transport with concurrent sessions puts it
/// behind a mutex and appends each call's [`Lines`] while holding it.
///
/// # Crash safety
///
/// A transport appends and `fsync`s the lines of every entry of a message (its
/// `decision`, each `archive` record, its `tracking` rows, each journal `handover`)
/// *before* it acknowledges the message (the `250` to the client), having written and
/// `fsync`ed the record itself before sealing it. A crash then leaves at most one torn
/// line at the end of the chain, which [`Chain::resume`] reports; a message whose entries
/// were cut by the crash was not acknowledged, is retried by the client, and shows in
/// the verifier as an incomplete message at the tail, as it should. If appending fails,
/// stop sealing and [`Chain::resume`] from the file: the in-memory chain has moved on.
///
/// ```
/// use mail_journal::seal::*;
/// use mail_journal::Timestamp;
/// let t = Timestamp::from_unix(1_795_342_443);
/// let mut chain = Chain::new("mx1", ChainConfig::new().checkpoint_every(100))?;
/// let obligations = Obligations::new(["archive/2026/11/22/alice@example.com/Q1.eml"], ["ndr@example.com"], 3);
/// let (msg, lines) = chain.decision("Q1", [&b"the message"[..]], &obligations, t)?;
/// assert_eq!(lines.len(), 2); // the chain's `open` checkpoint, then the decision
/// assert!(lines.as_str().ends_with("\n"));
/// let record = b"X-Sender: <alice@example.com>\r\n\r\nthe message";
/// chain.archive(&msg, "archive/2026/11/22/alice@example.com/Q1.eml", [&record[..]], t)?;
/// chain.tracking(&msg, "tracking/MSGTRK20261122-mx1.LOG", 412, [&b"row1\r\nrow2\r\nrow3\r\n"[..]], t)?;
/// chain.handover(&msg, "ndr@example.com", "250 2.0.0 Ok: queued as 4ABC", [&b"report"[..]], t)?;
/// assert_eq!(chain.seq(), 5);
/// # Ok::<(), SealError>(())
/// ```
#[derive(Debug)]
pub struct Chain {
    node: String,
    every: u64,
    key: Option<SigningKey>,
    seq: u64,
    head: Hash,
    last_time: Option<Timestamp>,
    last_is_day_checkpoint: bool,
    run: u64,
    pending: Option<Reason>,
}

fn check_time(t: Timestamp) -> Result<(), SealError> {
    format_time(t).map(drop).ok_or(SealError::Time {
        unix_seconds: t.unix_seconds(),
    })
}

fn key_under(key: &str, top: &'static str) -> Result<(), SealError> {
    check_key(key).map_err(|reason| SealError::StorageKey {
        key: key.to_owned(),
        reason,
    })?;
    if !key.starts_with(top) {
        return Err(SealError::StorageKey {
            key: key.to_owned(),
            reason: if top == "archive/" {
                "an archive record's key starts with `archive/`"
            } else {
                "a tracking log's key starts with `tracking/`"
            },
        });
    }
    Ok(())
}

/// SHA-256 and length of chunks.
fn digest<I>(data: I) -> (Hash, u64, u64)
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut h = Sha256::new();
    let (mut len, mut lines) = (0u64, 0u64);
    let mut last = b'\n';
    for chunk in data {
        let c = chunk.as_ref();
        h.update(c);
        len += c.len() as u64;
        lines += memchr::memchr_iter(b'\n', c).count() as u64;
        if let Some(&b) = c.last() {
            last = b;
        }
    }
    if last != b'\n' {
        lines += 1;
    }
    (h.finalize().into(), len, lines)
}

impl Chain {
    /// A new, empty chain for `node` (`[A-Za-z0-9._-]{1,64}`, the name in every entry and
    /// the chain file's name `seal/<node>.chain`). Its first entry will be an `open`
    /// checkpoint.
    pub fn new(node: &str, config: ChainConfig) -> Result<Chain, SealError> {
        if !valid_node(node) {
            return Err(SealError::Node {
                node: node.to_owned(),
            });
        }
        Ok(Chain {
            node: node.to_owned(),
            every: config.every,
            key: config.key,
            seq: 0,
            head: ZERO,
            last_time: None,
            last_is_day_checkpoint: false,
            run: 0,
            pending: Some(Reason::Open),
        })
    }

    /// Continues the chain of `node` after a restart, from the end of its file: `tail` is
    /// the whole file or a suffix of it that starts at a line boundary and holds its last
    /// two lines. An empty tail starts a new chain.
    ///
    /// A torn last line — bytes after the last newline, or a last line that does not
    /// parse or whose hash does not match — is not an error: its length is returned in
    /// [`Resumed::torn_bytes`] so the caller cuts it off, and the chain continues from
    /// the line before it. Anything worse (the line before a torn line is bad too, or the
    /// last entry names another node) is an error for a human and the verifier.
    ///
    /// The next entry is preceded by a `resume` checkpoint (and a `day` checkpoint when
    /// the UTC day changed), so the restart is visible in the chain.
    pub fn resume(node: &str, config: ChainConfig, tail: &[u8]) -> Result<Resumed, ResumeError> {
        let mut chain = Chain::new(node, config)?;
        // Split off bytes after the last newline: a torn write.
        let complete_len = tail.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut torn_bytes = tail.len() - complete_len;
        let complete = tail.get(..complete_len).unwrap_or_default();
        let body = complete.strip_suffix(b"\n").unwrap_or(complete);
        if body.is_empty() {
            return Ok(Resumed { chain, torn_bytes });
        }
        let (before, last) = match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => (body.get(..i), body.get(i + 1..).unwrap_or_default()),
            None => (None, body),
        };
        let excerpt = |line: &[u8]| {
            String::from_utf8_lossy(line.get(..line.len().min(80)).unwrap_or_default()).into_owned()
        };
        fn usable(line: &[u8]) -> Result<crate::seal::entry::Parsed<'_>, String> {
            match parse(line) {
                Ok(p) if p.intact() => Ok(p),
                Ok(_) => Err("its hash does not match its content".to_owned()),
                Err(e) => Err(e),
            }
        }
        let parsed = match usable(last) {
            Ok(p) => p,
            Err(reason) if torn_bytes == 0 => {
                // The last line is torn although it has its newline: cut it, use the one
                // before.
                torn_bytes = last.len() + 1;
                let Some(before) = before else {
                    return Ok(Resumed { chain, torn_bytes });
                };
                let prev = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(before, |i| before.get(i + 1..).unwrap_or_default());
                usable(prev).map_err(|r| ResumeError::Corrupt {
                    node: node.to_owned(),
                    reason: format!("{r}; and the line after it: {reason}"),
                    excerpt: excerpt(prev),
                })?
            }
            Err(reason) => {
                return Err(ResumeError::Corrupt {
                    node: node.to_owned(),
                    reason,
                    excerpt: excerpt(last),
                });
            }
        };
        if parsed.entry.node != node {
            return Err(ResumeError::NodeMismatch {
                expected: node.to_owned(),
                found: parsed.entry.node.into_owned(),
            });
        }
        chain.seq = parsed.entry.seq;
        chain.head = parsed.computed;
        chain.last_time = Some(parsed.entry.time);
        chain.last_is_day_checkpoint = parsed.entry.body.is_day_checkpoint();
        chain.pending = Some(Reason::Resume);
        Ok(Resumed { chain, torn_bytes })
    }

    /// The node name.
    pub fn node(&self) -> &str {
        &self.node
    }
    /// The sequence number of the last entry written (0 for a new chain).
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// The hash of the last entry written (zeros for a new chain).
    pub fn head(&self) -> [u8; 32] {
        self.head
    }

    /// Whether an entry at `time` would first close the UTC day of the last entry with a
    /// `day` checkpoint.
    pub fn crosses_day(&self, time: Timestamp) -> bool {
        self.last_time
            .is_some_and(|last| day(time) != day(last) && !self.last_is_day_checkpoint)
    }

    fn push(&mut self, out: &mut Lines, time: Timestamp, body: Body<'_>) -> Result<u64, SealError> {
        let seq = self.seq + 1;
        let is_checkpoint = body.is_checkpoint();
        let is_day = body.is_day_checkpoint();
        let entry = Entry {
            seq,
            prev: self.head,
            node: Cow::Borrowed(&self.node),
            time,
            body,
        };
        let hash = push_entry_line(&mut out.text, &entry).ok_or(SealError::Time {
            unix_seconds: time.unix_seconds(),
        })?;
        out.count += 1;
        self.seq = seq;
        self.head = hash;
        self.last_time = Some(time);
        self.last_is_day_checkpoint = is_day;
        self.run = if is_checkpoint { 0 } else { self.run + 1 };
        Ok(seq)
    }

    fn push_checkpoint(
        &mut self,
        out: &mut Lines,
        reason: Reason,
        time: Timestamp,
    ) -> Result<(), SealError> {
        let mut cp = Checkpoint::new(&self.node, self.seq, self.head, time);
        if let Some(key) = &self.key {
            cp = cp.signed(key);
        }
        let body = Body::Checkpoint {
            reason,
            every: self.every,
            count: self.seq,
            head: self.head,
            sig: cp.signature(),
        };
        self.push(out, time, body)?;
        out.checkpoints.push(cp);
        Ok(())
    }

    /// The checkpoints due before an entry at `time`.
    fn before(&mut self, out: &mut Lines, time: Timestamp) -> Result<(), SealError> {
        if let Some(last) = self.last_time.filter(|_| self.crosses_day(time)) {
            self.push_checkpoint(out, Reason::Day, end_of_day(last))?;
        }
        if let Some(reason) = self.pending.take() {
            self.push_checkpoint(out, reason, time)?;
        }
        Ok(())
    }

    /// An entry at `time` with the checkpoints due around it.
    fn seal(&mut self, time: Timestamp, body: Body<'_>) -> Result<(u64, Lines), SealError> {
        let mut out = Lines {
            text: String::with_capacity(512),
            ..Lines::default()
        };
        self.before(&mut out, time)?;
        let seq = self.push(&mut out, time, body)?;
        if self.every > 0 && self.run >= self.every {
            self.push_checkpoint(&mut out, Reason::Interval, time)?;
        }
        Ok((seq, out))
    }

    fn check_message(&self, msg: &MessageRef) -> Result<(), SealError> {
        if msg.seq == 0 || msg.seq > self.seq {
            return Err(SealError::UnknownMessage {
                seq: msg.seq,
                envelope: msg.envelope.clone(),
                last: self.seq,
            });
        }
        Ok(())
    }

    /// Seals the decision about a message, the first entry of every message: the
    /// SHA-256 of the message as received (`message`, in chunks) and what the decision
    /// obliges. Returns the handle for the message's other entries.
    pub fn decision<I>(
        &mut self,
        envelope_id: &str,
        message: I,
        obligations: &Obligations,
        time: Timestamp,
    ) -> Result<(MessageRef, Lines), SealError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        check_time(time)?;
        for key in obligations.archive_keys() {
            key_under(key, "archive/")?;
        }
        let (sha256, size, _) = digest(message);
        let body = Body::Decision {
            envelope: Cow::Borrowed(envelope_id),
            sha256,
            size,
            archive: obligations
                .archive_keys()
                .iter()
                .map(|k| Cow::Borrowed(k.as_str()))
                .collect(),
            journal: obligations
                .journal_senders()
                .iter()
                .map(|k| Cow::Borrowed(k.as_str()))
                .collect(),
            rows: obligations.tracking_rows(),
        };
        let (seq, lines) = self.seal(time, body)?;
        Ok((MessageRef::new(seq, envelope_id), lines))
    }

    /// Seals an archive record stored under `storage_key` (relative to the store,
    /// `archive/…`): the SHA-256 and length of exactly the bytes written.
    pub fn archive<I>(
        &mut self,
        msg: &MessageRef,
        storage_key: &str,
        record: I,
        time: Timestamp,
    ) -> Result<Lines, SealError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        check_time(time)?;
        self.check_message(msg)?;
        key_under(storage_key, "archive/")?;
        let (sha256, size, _) = digest(record);
        let body = Body::Archive {
            msg: msg.seq,
            envelope: Cow::Borrowed(&msg.envelope),
            key: Cow::Borrowed(storage_key),
            sha256,
            size,
        };
        Ok(self.seal(time, body)?.1)
    }

    /// Seals a message's tracking rows, appended at byte `offset` of the log file
    /// `log_file` (relative to the store, `tracking/…`, see [`tracking_log_path`](super::tracking_log_path)).
    /// The sealed key is the byte range, `tracking/<file>#<offset>+<length>`; the row
    /// count is the number of lines in `rows`.
    pub fn tracking<I>(
        &mut self,
        msg: &MessageRef,
        log_file: &str,
        offset: u64,
        rows: I,
        time: Timestamp,
    ) -> Result<Lines, SealError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        check_time(time)?;
        self.check_message(msg)?;
        key_under(log_file, "tracking/")?;
        if log_file.contains('#') {
            return Err(SealError::StorageKey {
                key: log_file.to_owned(),
                reason: "a tracking log's name holds no `#` (it separates the byte range)",
            });
        }
        let (sha256, size, lines) = digest(rows);
        let key = tracking_key(log_file, offset, size);
        let body = Body::Tracking {
            msg: msg.seq,
            envelope: Cow::Borrowed(&msg.envelope),
            key: Cow::Owned(key),
            sha256,
            size,
            rows: if size == 0 { 0 } else { lines },
        };
        Ok(self.seal(time, body)?.1)
    }

    /// Seals the hand-over of a journal copy to the MTA: its envelope sender
    /// (`reverse_path`, the journal-NDR address), the MTA's reply to it (for example
    /// `250 2.0.0 Ok: queued as 4ABC`; only a 2xx reply fulfils the obligation) and the
    /// SHA-256 of the bytes handed over.
    pub fn handover<I>(
        &mut self,
        msg: &MessageRef,
        reverse_path: &str,
        reply: &str,
        copy: I,
        time: Timestamp,
    ) -> Result<Lines, SealError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        check_time(time)?;
        self.check_message(msg)?;
        let (sha256, size, _) = digest(copy);
        let body = Body::Handover {
            msg: msg.seq,
            envelope: Cow::Borrowed(&msg.envelope),
            reverse_path: Cow::Borrowed(reverse_path),
            reply: Cow::Borrowed(reply),
            sha256,
            size,
        };
        Ok(self.seal(time, body)?.1)
    }

    /// Writes a checkpoint now (for example at shutdown, so the chain ends on one, or to
    /// anchor on demand). A `day` checkpoint comes first when `time` is on a later day.
    pub fn checkpoint(&mut self, time: Timestamp) -> Result<Lines, SealError> {
        check_time(time)?;
        let mut out = Lines::default();
        self.before(&mut out, time)?;
        self.push_checkpoint(&mut out, Reason::Explicit, time)?;
        Ok(out)
    }

    /// Closes the last entry's UTC day with a `day` checkpoint if `now` is on another
    /// day and the day is not closed yet: call it from a timer after midnight so each day
    /// gets its checkpoint even when no mail arrives. `None` when nothing is due.
    pub fn close_day(&mut self, now: Timestamp) -> Result<Option<Lines>, SealError> {
        check_time(now)?;
        let Some(last) = self.last_time.filter(|_| self.crosses_day(now)) else {
            return Ok(None);
        };
        let mut out = Lines::default();
        self.push_checkpoint(&mut out, Reason::Day, end_of_day(last))?;
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::super::entry::parse;
    use super::*;

    const T: Timestamp = Timestamp::from_unix(1_795_342_443); // 2026-11-22T10:14:03Z

    fn kinds(text: &str) -> Vec<String> {
        text.lines()
            .map(|l| {
                let p = parse(l.as_bytes()).unwrap();
                match p.entry.body {
                    Body::Checkpoint { reason, .. } => format!("checkpoint:{reason}"),
                    b => b.kind().to_owned(),
                }
            })
            .collect()
    }

    fn one_message(chain: &mut Chain, id: &str, t: Timestamp) -> String {
        let o = Obligations::new([format!("archive/{id}.eml")], ["ndr@example.com"], 1);
        let (m, a) = chain.decision(id, [b"msg"], &o, t).unwrap();
        let b = chain
            .archive(&m, &format!("archive/{id}.eml"), [b"rec"], t)
            .unwrap();
        let c = chain
            .tracking(&m, "tracking/MSGTRK20261122-mx1.LOG", 0, [b"row\r\n"], t)
            .unwrap();
        let d = chain
            .handover(&m, "ndr@example.com", "250 ok", [b"copy"], t)
            .unwrap();
        [a, b, c, d].map(Lines::into_string).concat()
    }

    #[test]
    fn interval_and_day_checkpoints() {
        let mut chain = Chain::new("mx1", ChainConfig::new().checkpoint_every(3)).unwrap();
        let mut text = one_message(&mut chain, "Q1", T);
        assert_eq!(
            kinds(&text),
            [
                "checkpoint:open",
                "decision",
                "archive",
                "tracking",
                "checkpoint:interval",
                "handover"
            ]
        );
        let next_day = Timestamp::from_unix(T.unix_seconds() + 86_400);
        assert!(chain.crosses_day(next_day));
        assert!(!chain.crosses_day(T));
        text.push_str(&one_message(&mut chain, "Q2", next_day));
        let k = kinds(&text);
        assert_eq!(k.get(6).map(String::as_str), Some("checkpoint:day"));
        let day_line = text.lines().nth(6).unwrap();
        assert!(
            day_line.contains("\"time\":\"2026-11-22T23:59:59Z\""),
            "{day_line}"
        );
        assert!(day_line.contains("\"count\":6"), "{day_line}");
        // The timer's call after midnight closes the day once.
        let third = Timestamp::from_unix(T.unix_seconds() + 2 * 86_400);
        let closed = chain.close_day(third).unwrap().unwrap();
        assert_eq!(closed.checkpoints().len(), 1);
        assert!(closed.as_str().contains("2026-11-23T23:59:59Z"));
        assert!(chain.close_day(third).unwrap().is_none());
        assert!(!chain.crosses_day(third));
    }

    #[test]
    fn resume_continues_the_chain() {
        let mut chain = Chain::new("mx1", ChainConfig::new()).unwrap();
        let text = one_message(&mut chain, "Q1", T);
        let r = Chain::resume("mx1", ChainConfig::new(), text.as_bytes()).unwrap();
        assert_eq!(r.torn_bytes, 0);
        assert_eq!(r.chain.seq(), chain.seq());
        assert_eq!(r.chain.head(), chain.head());
        let mut resumed = r.chain;
        let more = one_message(&mut resumed, "Q2", T);
        assert_eq!(
            kinds(&more).first().map(String::as_str),
            Some("checkpoint:resume")
        );
        // The resumed chain links to the old one.
        let first = parse(more.lines().next().unwrap().as_bytes()).unwrap();
        assert_eq!(first.entry.prev, chain.head());
        assert_eq!(first.entry.seq, chain.seq() + 1);
        // An empty file starts a new chain.
        let fresh = Chain::resume("mx1", ChainConfig::new(), b"").unwrap();
        assert_eq!((fresh.chain.seq(), fresh.torn_bytes), (0, 0));
    }

    #[test]
    fn resume_reports_a_torn_last_line() {
        let mut chain = Chain::new("mx1", ChainConfig::new()).unwrap();
        let text = one_message(&mut chain, "Q1", T);
        let lines: Vec<&str> = text.lines().collect();
        let good: String = lines.iter().take(4).map(|l| format!("{l}\n")).collect();
        let last = lines.get(4).unwrap();
        // No newline: the crash cut the write.
        let torn = format!("{good}{}", &last[..last.len() / 2]);
        let r = Chain::resume("mx1", ChainConfig::new(), torn.as_bytes()).unwrap();
        assert_eq!(r.torn_bytes, last.len() / 2);
        assert_eq!(r.chain.seq(), 4);
        // A newline, but zeros where the line should be.
        let zeros = format!("{good}{}\n", "\0".repeat(last.len()));
        let r = Chain::resume("mx1", ChainConfig::new(), zeros.as_bytes()).unwrap();
        assert_eq!(r.torn_bytes, last.len() + 1);
        assert_eq!(r.chain.seq(), 4);
        // Two bad lines: not a torn write, a human must look.
        let bad = format!("{}x\n{}\n", &good[..good.len() - 2], "\0");
        assert!(matches!(
            Chain::resume("mx1", ChainConfig::new(), bad.as_bytes()),
            Err(ResumeError::Corrupt { .. })
        ));
        assert!(matches!(
            Chain::resume("mx2", ChainConfig::new(), text.as_bytes()),
            Err(ResumeError::NodeMismatch { .. })
        ));
    }

    #[test]
    fn bad_input_is_refused_without_writing() {
        assert!(Chain::new("mx/1", ChainConfig::new()).is_err());
        assert!(Chain::new(".hidden", ChainConfig::new()).is_err());
        let mut chain = Chain::new("mx1", ChainConfig::new()).unwrap();
        let o = Obligations::new(["archive/../etc/passwd"], Vec::<String>::new(), 1);
        let err = chain.decision("Q1", [b"m"], &o, T).unwrap_err();
        assert!(err.to_string().contains("archive/../etc/passwd"), "{err}");
        assert_eq!(chain.seq(), 0);
        let o = Obligations::new(["archive/a.eml"], Vec::<String>::new(), 1);
        let (m, _) = chain.decision("Q1", [b"m"], &o, T).unwrap();
        let seq = chain.seq();
        assert!(chain.archive(&m, "tracking/x", [b"r"], T).is_err());
        assert!(chain.tracking(&m, "tracking/a#b", 0, [b"r"], T).is_err());
        assert!(
            chain
                .archive(&MessageRef::new(99, "Q1"), "archive/a.eml", [b"r"], T)
                .is_err()
        );
        assert!(
            chain
                .archive(&m, "archive/a.eml", [b"r"], Timestamp::from_unix(i64::MAX))
                .is_err()
        );
        assert_eq!(chain.seq(), seq);
    }

    #[test]
    fn tracking_keys_are_byte_ranges() {
        let mut chain = Chain::new("mx1", ChainConfig::new()).unwrap();
        let o = Obligations::new(Vec::<String>::new(), Vec::<String>::new(), 2);
        let (m, _) = chain.decision("Q1", [b"m"], &o, T).unwrap();
        let l = chain
            .tracking(
                &m,
                "tracking/MSGTRK20261122-mx1.LOG",
                1024,
                [&b"a\r\nb"[..], b"\r\n"],
                T,
            )
            .unwrap();
        assert!(
            l.as_str()
                .contains("\"key\":\"tracking/MSGTRK20261122-mx1.LOG#1024+6\""),
            "{}",
            l.as_str()
        );
        assert!(l.as_str().contains("\"rows\":2"));
    }
}
