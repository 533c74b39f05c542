//! The store: archive records, the daily tracking log and the node's hash chain, durable
//! and sealed before the `250`.
//!
//! Layout (fixed; `mail-journal-verify` reads it):
//!
//! ```text
//! <store>/archive/<storage key>                  archive records, each sealed
//! <store>/tracking/MSGTRK<YYYYMMDD>-<node>.LOG   daily CSV tracking log, preamble lines start with '#'
//! <store>/seal/<node>.chain                      the node's hash chain, one JSON entry a line
//! <store>/incoming/<node>/                       archive records written, not yet sealed
//! <store>/quarantine/<node>/                     what a crash left written but not sealed
//! ```
//!
//! [`Store::commit`] takes everything one message left behind — its archive records, its
//! tracking rows, and the hand-overs of its copies with the re-injection listener's
//! replies — and returns only when all of it is on disk and sealed:
//!
//! One writer thread takes the messages of concurrent sessions in batches (group
//! commit) and, for a whole batch:
//!
//! 1. writes each archive record to `incoming/<node>/<envelope id>.<n>.eml` and
//!    `fdatasync`s it, then `fsync`s the directory once;
//! 2. appends the tracking rows to the day's log, one write per file, and `fdatasync`s
//!    it once;
//! 3. seals each message through the library's [`Chain`] — its `decision` with the
//!    obligations, each `archive` record, its `tracking` byte range, each journal
//!    copy's `handover` with the listener's reply (`250 2.0.0 Ok: queued as …`) — the
//!    entries of one message together, appends the batch's lines to
//!    `seal/<node>.chain` in one write and `fdatasync`s it;
//! 4. renames each archive record from `incoming/` to its storage key under
//!    `archive/` (creating directories only when the rename finds them missing), and
//!    `fsync`s each directory whose entries changed once;
//!
//! and only then does the session answer `250`. So `archive/` holds only sealed records,
//! and every byte of a tracking log (but its `#` preamble) lies in a sealed range.
//!
//! # Recovery after a crash
//!
//! [`Store::open`] reads the end of the chain (its last MiB) with [`Chain::recover`]
//! before it takes any mail:
//!
//! * a torn last line, and the lines of a last message whose sealing was cut (a message
//!   never acknowledged), are cut from the chain and kept in `quarantine/<node>/`;
//! * archive records sealed in the kept tail but still in `incoming/` (the crash came
//!   between the chain's `fdatasync` and the rename) are moved to their storage keys:
//!   that message is complete, though its client may not have seen the `250` and may
//!   send it again (a duplicate, as with any SMTP server that crashes after accepting);
//! * every other file left in `incoming/` was never sealed: it goes to the quarantine;
//! * tracking rows after the last sealed range of a log (and, in a log of a later day
//!   than any sealed range, everything after the preamble) were never sealed: they are
//!   cut from the log and kept in the quarantine.
//!
//! The chain then continues from its last kept entry with a `resume` checkpoint. A
//! message is thus either fully sealed or was never accepted; the quarantine is outside
//! what the verifier reads, and nothing in it was acknowledged to a client.
//!
//! If appending to the chain fails while running, the in-memory chain has moved past
//! the file: the store refuses every further message (`451`) until the daemon is
//! restarted and recovers from the file.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use mail_journal::Timestamp;
use mail_journal::render::Rendered;
use mail_journal::seal::{Chain, ChainConfig, Lines, Obligations, SigningKey};
use tokio::sync::oneshot;

use crate::engine;

/// How the node seals: checkpoints and their signing key.
#[derive(Clone, Debug)]
pub struct SealConfig {
    /// A checkpoint after every this many entries (0: only at start, day end and
    /// shutdown).
    pub checkpoint_every: u64,
    /// The Ed25519 key that signs every checkpoint, if any.
    pub signing_key: Option<SigningKey>,
}

impl Default for SealConfig {
    /// A checkpoint every 1 000 entries, unsigned.
    fn default() -> Self {
        SealConfig {
            checkpoint_every: 1000,
            signing_key: None,
        }
    }
}

impl SealConfig {
    fn chain_config(&self) -> ChainConfig {
        let c = ChainConfig::new().checkpoint_every(self.checkpoint_every);
        match &self.signing_key {
            Some(k) => c.signing_key(k.clone()),
            None => c,
        }
    }
}

/// The hand-over of one copy, as it is logged and (for a journal copy) sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandOverRecord {
    /// The output kind (`delivery`, `transfer`, `journal`, `dsn`).
    pub kind: &'static str,
    /// Its envelope sender.
    pub reverse_path: String,
    /// Its recipients.
    pub recipients: Vec<String>,
    /// The listener's final reply.
    pub reply: String,
    /// Postfix's queue id, when the reply named one.
    pub queue_id: Option<String>,
    /// For a journal copy: the journal-NDR address it was sent from, as the decision's
    /// obligations name it, and the bytes handed over. Only these hand-overs are sealed.
    pub journal: Option<(String, Rendered)>,
}

/// Everything one message leaves in the store.
#[derive(Clone, Debug)]
pub struct Record {
    /// The daemon's envelope id.
    pub envelope_id: String,
    /// When it was received (names the day's tracking log).
    pub received_at: Timestamp,
    /// The message as received (its SHA-256 is sealed in the decision entry).
    pub message: Bytes,
    /// What the decision obliges: archive keys, journal copies, tracking rows.
    pub obligations: Obligations,
    /// Archive records: storage key (relative to `archive/`) and bytes.
    pub archive: Vec<(String, Rendered)>,
    /// Its tracking rows (CSV, no preamble).
    pub tracking: Rendered,
    /// The hand-overs of its copies, in order.
    pub handovers: Vec<HandOverRecord>,
}

/// Where a message's tracking rows are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRange {
    /// The log file.
    pub file: PathBuf,
    /// The offset of the first byte.
    pub offset: u64,
    /// The length in bytes.
    pub len: u64,
}

/// What [`Store::commit`] made durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The archive files, in record order.
    pub archive: Vec<PathBuf>,
    /// The tracking rows.
    pub tracking: LogRange,
    /// The sequence number of the message's `decision` entry in the chain.
    pub seq: u64,
}

/// What [`Store::open`] did to recover from a crash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The chain's last sequence number after recovery.
    pub seq: u64,
    /// Bytes cut from the end of the chain (a torn line, an interrupted message).
    pub chain_bytes_cut: u64,
    /// Messages whose entries were cut.
    pub messages_cut: Vec<String>,
    /// Sealed archive records moved from `incoming/` to their storage keys.
    pub rolled_forward: u64,
    /// Unsealed archive records moved to the quarantine.
    pub archive_quarantined: u64,
    /// Unsealed tracking bytes cut from the logs into the quarantine.
    pub tracking_bytes_quarantined: u64,
}

/// A store operation that failed; the message must not be acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or directory operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A storage key that would leave the archive directory.
    #[error("storage key {0:?} is not a safe relative path")]
    BadKey(String),
    /// The node name cannot be part of a file name.
    #[error("node name {0:?} must be 1-64 letters, digits, '-', '_' or '.'")]
    BadNode(String),
    /// The writer stopped (an earlier panic or shutdown).
    #[error("the store's writer is not running")]
    WriterGone,
    /// The chain cannot be resumed (it needs a human and the verifier).
    #[error("cannot resume the chain {}: {reason}", path.display())]
    Resume {
        /// The chain file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A message could not be sealed.
    #[error("envelope {envelope}: cannot seal: {reason}")]
    Seal {
        /// The envelope id.
        envelope: String,
        /// Why.
        reason: String,
    },
    /// Appending to the chain failed earlier: nothing is sealed until a restart.
    #[error("the chain stopped after a write failure ({0}); restart the daemon to recover")]
    ChainStopped(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

struct CommitJob {
    record: Record,
    done: oneshot::Sender<Result<Committed, StoreError>>,
}

enum Job {
    Commit(Box<CommitJob>),
    Close(oneshot::Sender<()>),
}

/// The store under one directory, for one node.
#[derive(Debug)]
pub struct Store {
    writer: mpsc::Sender<Job>,
    recovered: Recovered,
}

fn valid_node(node: &str) -> bool {
    !node.is_empty()
        && node.len() <= 64
        && node
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !node.starts_with('.')
}

impl Store {
    /// Opens (creating its directories) the store at `root` for node `node`, recovers
    /// from a crash (see the module documentation), and starts the writer thread.
    pub fn open(root: &Path, node: &str, seal: &SealConfig) -> Result<Store, StoreError> {
        if !valid_node(node) {
            return Err(StoreError::BadNode(node.to_owned()));
        }
        let archive = root.join("archive");
        let tracking = root.join("tracking");
        let seal_dir = root.join("seal");
        let incoming = root.join("incoming").join(node);
        let quarantine = root.join("quarantine").join(node);
        for d in [root, &archive, &tracking, &seal_dir, &incoming] {
            fs::create_dir_all(d).map_err(io_err(d))?;
        }
        let dirs = Dirs {
            root: root.to_owned(),
            archive: archive.clone(),
            tracking: tracking.clone(),
            incoming: incoming.clone(),
            quarantine,
            node: node.to_owned(),
        };
        let (chain, chain_file, chain_path, recovered) = recover(&dirs, seal)?;
        let incoming_dir = File::open(&incoming).map_err(io_err(&incoming))?;
        let (tx, rx) = mpsc::channel();
        let mut w = Writer {
            dir: tracking,
            node: node.to_owned(),
            open: HashMap::new(),
            chain,
            chain_file,
            chain_path,
            stopped: None,
            last_time: None,
            archive,
            incoming,
            incoming_dir,
            dirs: HashMap::new(),
        };
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || w.run(&rx))
            .map_err(io_err(root))?;
        Ok(Store {
            writer: tx,
            recovered,
        })
    }

    /// What [`Store::open`] recovered.
    pub fn recovered(&self) -> &Recovered {
        &self.recovered
    }

    /// The tracking log file of a day and node.
    pub fn tracking_file_name(day: Timestamp, node: &str) -> String {
        let (y, m, d, ..) = day.civil();
        format!("MSGTRK{y:04}{m:02}{d:02}-{node}.LOG")
    }

    /// Makes a message's records durable and sealed (see the module documentation).
    ///
    /// The writer thread does all of it, for the messages of concurrent sessions in one
    /// batch: no hop through the blocking pool, one `fsync` of each directory per batch.
    pub async fn commit(&self, record: Record) -> Result<Committed, StoreError> {
        for (key, _) in &record.archive {
            safe_key(key)?;
        }
        let (done, rx) = oneshot::channel();
        self.writer
            .send(Job::Commit(Box::new(CommitJob { record, done })))
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Ends the chain on a checkpoint (at shutdown) and stops the writer.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.writer.send(Job::Close(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// Refuses absolute keys and keys with `..`, `.` or empty components.
fn safe_key(key: &str) -> Result<&Path, StoreError> {
    let p = Path::new(key);
    let ok = !key.is_empty()
        && !key.contains('\0')
        && p.components().all(|c| matches!(c, Component::Normal(_)))
        && !p
            .file_name()
            .and_then(|f| f.to_str())
            .is_some_and(|f| f.starts_with('.'));
    if ok {
        Ok(p)
    } else {
        Err(StoreError::BadKey(key.to_owned()))
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// The name of a message's `n`th archive record in `incoming/`.
fn incoming_name(envelope_id: &str, n: usize) -> String {
    format!("{envelope_id}.{n}.eml")
}

/// Writes a new file (it must not exist) and `fdatasync`s it; its directory entry is
/// made durable by the caller. A file that could not be written whole is removed.
fn write_new(path: &Path, bytes: &Rendered) -> Result<(), StoreError> {
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
        write_chunks(&mut f, bytes.chunks())?;
        f.sync_data()
    })();
    if result.is_err() {
        let _ = fs::remove_file(path);
    }
    result.map_err(io_err(path))
}

/// Writes all chunks, as few `write` calls as the kernel allows (one, usually).
fn write_chunks(f: &mut File, chunks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<io::IoSlice<'_>> = chunks.iter().map(|c| io::IoSlice::new(c)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match f.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Renames a sealed record from `incoming/` to `archive/<key>`, creating its
/// directories when the rename finds them missing. Returns the new path; the
/// directories whose entries changed are added to `to_sync` for the caller to `fsync`.
fn rename_into_archive(
    root: &Path,
    from: &Path,
    key: &str,
    to_sync: &mut Vec<PathBuf>,
) -> Result<PathBuf, StoreError> {
    let rel = safe_key(key)?;
    let path = root.join(rel);
    let parent = path.parent().unwrap_or(root).to_owned();
    match fs::rename(from, &path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound && from.exists() => {
            let mut dir = root.to_owned();
            if let Some(rel_parent) = rel.parent() {
                for c in rel_parent.components() {
                    let next = dir.join(c);
                    match fs::create_dir(&next) {
                        Ok(()) => push_unique(to_sync, dir.clone()),
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(io_err(&next)(e)),
                    }
                    dir = next;
                }
            }
            fs::rename(from, &path).map_err(io_err(&path))?;
        }
        Err(e) => return Err(io_err(&path)(e)),
    }
    push_unique(to_sync, parent);
    Ok(path)
}

fn push_unique(v: &mut Vec<PathBuf>, p: PathBuf) {
    if !v.contains(&p) {
        v.push(p);
    }
}

/// Renames a sealed record from `incoming/` to `archive/<key>`, creating its
/// directories, and `fsync`s every directory whose entries changed.
fn move_into_archive(root: &Path, from: &Path, key: &str) -> Result<PathBuf, StoreError> {
    let mut to_sync = Vec::new();
    let path = rename_into_archive(root, from, key, &mut to_sync)?;
    if let Some(src) = from.parent() {
        push_unique(&mut to_sync, src.to_owned());
    }
    for d in &to_sync {
        sync_dir(d)?;
    }
    Ok(path)
}

struct Dirs {
    root: PathBuf,
    archive: PathBuf,
    tracking: PathBuf,
    incoming: PathBuf,
    quarantine: PathBuf,
    node: String,
}

/// How much of the chain's end recovery reads: enough for the entries of any message.
const TAIL: u64 = 1 << 20;

/// Copies `bytes` to a new file in the quarantine, `fsync`ed.
fn quarantine(dirs: &Dirs, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    fs::create_dir_all(&dirs.quarantine).map_err(io_err(&dirs.quarantine))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let path = dirs.quarantine.join(format!("{stamp}-{name}"));
    let mut f = File::create(&path).map_err(io_err(&path))?;
    f.write_all(bytes).map_err(io_err(&path))?;
    f.sync_all().map_err(io_err(&path))?;
    sync_dir(&dirs.quarantine)
}

/// Cuts a file to `len` bytes, keeping what is cut in the quarantine.
fn cut_file(dirs: &Dirs, path: &Path, len: u64, name: &str) -> Result<u64, StoreError> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    let size = f.metadata().map_err(io_err(path))?.len();
    if size <= len {
        return Ok(0);
    }
    let mut rest = Vec::new();
    f.seek(SeekFrom::Start(len)).map_err(io_err(path))?;
    f.read_to_end(&mut rest).map_err(io_err(path))?;
    quarantine(dirs, name, &rest)?;
    f.set_len(len).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))?;
    Ok(size - len)
}

/// The length of a tracking log's `#` preamble lines.
fn preamble_len(bytes: &[u8]) -> u64 {
    let mut len = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b"#") || !line.ends_with(b"\n") {
            break;
        }
        len += line.len() as u64;
    }
    len
}

/// Recovery at start (see the module documentation): the chain, the chain file open for
/// appending, its path, and what was done.
fn recover(
    dirs: &Dirs,
    seal: &SealConfig,
) -> Result<(Chain, File, PathBuf, Recovered), StoreError> {
    let node = &dirs.node;
    let path = dirs.root.join(mail_journal::seal::chain_path(node));
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&path)
        .map_err(io_err(&path))?;
    let size = file.metadata().map_err(io_err(&path))?.len();
    let from = size.saturating_sub(TAIL);
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(from)).map_err(io_err(&path))?;
    file.read_to_end(&mut tail).map_err(io_err(&path))?;
    // A suffix must start at a line boundary.
    let skip = if from == 0 {
        0
    } else {
        tail.iter()
            .position(|&b| b == b'\n')
            .map_or(tail.len(), |i| i + 1)
    };
    let tail = tail.get(skip..).unwrap_or_default();
    let base = from + skip as u64;
    let r = Chain::recover(node, seal.chain_config(), tail).map_err(|e| StoreError::Resume {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let mut done = Recovered {
        messages_cut: r.cut_messages.clone(),
        ..Recovered::default()
    };
    if r.keep < tail.len() {
        let cut = tail.get(r.keep..).unwrap_or_default();
        quarantine(dirs, &format!("{node}.chain-tail"), cut)?;
        file.set_len(base + r.keep as u64).map_err(io_err(&path))?;
        file.sync_all().map_err(io_err(&path))?;
        done.chain_bytes_cut = cut.len() as u64;
    }
    sync_dir(&dirs.root.join("seal"))?;

    // Sealed records still in incoming/: finish their move.
    let mut index: HashMap<&str, usize> = HashMap::new();
    for a in &r.archive {
        let n = index.entry(a.envelope.as_str()).or_insert(0);
        let name = incoming_name(&a.envelope, *n);
        *n += 1;
        let Some(key) = a.key.strip_prefix("archive/") else {
            continue;
        };
        let from = dirs.incoming.join(&name);
        if from.exists() && !dirs.archive.join(key).exists() {
            move_into_archive(&dirs.archive, &from, key)?;
            done.rolled_forward += 1;
        }
    }
    // Everything else in incoming/ was never sealed.
    let entries = fs::read_dir(&dirs.incoming).map_err(io_err(&dirs.incoming))?;
    for entry in entries {
        let entry = entry.map_err(io_err(&dirs.incoming))?;
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = fs::read(&p).map_err(io_err(&p))?;
        quarantine(dirs, &format!("incoming-{name}"), &bytes)?;
        fs::remove_file(&p).map_err(io_err(&p))?;
        done.archive_quarantined += 1;
    }
    sync_dir(&dirs.incoming)?;

    // Tracking rows after the last sealed range of each log of this node.
    if r.chain.seq() > 0 {
        let newest = r.tracking_ends.keys().next_back().cloned();
        let suffix = format!("-{node}.LOG");
        let entries = fs::read_dir(&dirs.tracking).map_err(io_err(&dirs.tracking))?;
        let mut logs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err(&dirs.tracking))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("MSGTRK") && name.ends_with(&suffix) {
                logs.push(name);
            }
        }
        logs.sort();
        for name in logs {
            let key = format!("tracking/{name}");
            let p = dirs.tracking.join(&name);
            let end = match r.tracking_ends.get(&key) {
                Some(end) => *end,
                // A later day than any sealed range: only its preamble was sealed-free.
                None if newest.as_ref().is_none_or(|n| key > *n) => {
                    preamble_len(&fs::read(&p).map_err(io_err(&p))?)
                }
                None => continue,
            };
            done.tracking_bytes_quarantined += cut_file(dirs, &p, end, &name)?;
        }
    }
    done.seq = r.chain.seq();
    Ok((r.chain, file, path, done))
}

/// The writer thread: owns the open day files and the chain.
struct Writer {
    dir: PathBuf,
    node: String,
    open: HashMap<String, (File, u64)>,
    chain: Chain,
    chain_file: File,
    chain_path: PathBuf,
    /// Set when appending to the chain failed: nothing more is sealed.
    stopped: Option<String>,
    last_time: Option<Timestamp>,
    /// `archive/`.
    archive: PathBuf,
    /// `incoming/<node>/`, and the directory itself, open for its `fsync`s.
    incoming: PathBuf,
    incoming_dir: File,
    /// Archive directories opened for their `fsync`s (a few: a day's senders).
    dirs: HashMap<PathBuf, File>,
}

impl Writer {
    /// The time for entries: now, never before the last entry's.
    fn now(&mut self) -> Timestamp {
        let now = engine::now();
        let t = match self.last_time {
            Some(last) if last.unix_seconds() > now.unix_seconds() => last,
            _ => now,
        };
        self.last_time = Some(t);
        t
    }

    fn run(&mut self, rx: &mpsc::Receiver<Job>) {
        loop {
            let first = match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(j) => j,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // A day with entries gets its checkpoint soon after midnight.
                    let now = self.now();
                    if let Ok(Some(lines)) = self.chain.close_day(now) {
                        let _ = self.append_chain(&[&lines]);
                    }
                    continue;
                }
                // The store was dropped without `close`: stop without a checkpoint,
                // as a crash would (the next start resumes either way).
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = Vec::new();
            let mut close = Vec::new();
            let mut next = Some(first);
            while let Some(j) = next.take() {
                match j {
                    Job::Commit(c) => batch.push(*c),
                    Job::Close(tx) => close.push(tx),
                }
                if batch.len() < 512 {
                    next = rx.try_recv().ok();
                }
            }
            self.commit_batch(batch);
            if !close.is_empty() {
                self.close();
                for tx in close {
                    let _ = tx.send(());
                }
                return;
            }
        }
    }

    /// Ends the chain on a checkpoint.
    fn close(&mut self) {
        if self.stopped.is_some() {
            return;
        }
        let now = self.now();
        match self.chain.checkpoint(now) {
            Ok(lines) => {
                let _ = self.append_chain(&[&lines]);
            }
            Err(e) => tracing::error!(error = %e, "cannot write the closing checkpoint"),
        }
    }

    /// Appends lines to the chain and `fdatasync`s it; logs the checkpoints' anchor
    /// lines (to be anchored outside the node).
    fn append_chain(&mut self, lines: &[&Lines]) -> Result<(), StoreError> {
        if let Some(why) = &self.stopped {
            return Err(StoreError::ChainStopped(why.clone()));
        }
        let mut buf = Vec::with_capacity(lines.iter().map(|l| l.as_bytes().len()).sum());
        for l in lines {
            buf.extend_from_slice(l.as_bytes());
        }
        let r = self
            .chain_file
            .write_all(&buf)
            .and_then(|()| self.chain_file.sync_data());
        if let Err(e) = r {
            let why = format!("{}: {e}", self.chain_path.display());
            tracing::error!(error = %why, "appending to the chain failed; sealing stops until a restart");
            self.stopped = Some(why.clone());
            return Err(StoreError::ChainStopped(why));
        }
        for l in lines {
            for cp in l.checkpoints() {
                tracing::info!(anchor = %cp.anchor_line(), "checkpoint");
            }
        }
        Ok(())
    }

    /// One group commit: the batch's archive records into `incoming/` (each
    /// `fdatasync`ed, the directory once), its tracking rows (one write and one
    /// `fdatasync` per log file), its seal (one write and one `fdatasync` of the chain),
    /// then the sealed records to their storage keys (each directory `fsync`ed once);
    /// only then is any message of it answered.
    fn commit_batch(&mut self, batch: Vec<CommitJob>) {
        let n = batch.len();
        let mut results: Vec<Result<(), StoreError>> = Vec::with_capacity(n);
        for _ in 0..n {
            results.push(match &self.stopped {
                Some(why) => Err(StoreError::ChainStopped(why.clone())),
                None => Ok(()),
            });
        }
        // 1. Archive records, into incoming/.
        let mut incoming: Vec<Vec<PathBuf>> = vec![Vec::new(); n];
        for (i, job) in batch.iter().enumerate() {
            if results[i].is_err() {
                continue;
            }
            for (k, (_, bytes)) in job.record.archive.iter().enumerate() {
                let path = self
                    .incoming
                    .join(incoming_name(&job.record.envelope_id, k));
                if let Err(e) = write_new(&path, bytes) {
                    results[i] = Err(e);
                    break;
                }
                incoming[i].push(path);
            }
        }
        if incoming.iter().any(|v| !v.is_empty()) {
            if let Err(e) = self.incoming_dir.sync_all() {
                let why = e.to_string();
                for (r, files) in results.iter_mut().zip(&incoming) {
                    if r.is_ok() && !files.is_empty() {
                        *r = Err(StoreError::Io {
                            path: self.incoming.clone(),
                            source: io::Error::other(why.clone()),
                        });
                    }
                }
            }
        }
        // 2. Tracking rows: each log file once, then one fdatasync each.
        let ranges = self.append_rows(&batch, &mut results);
        // 3. The seal: each message's entries together, the batch in one write.
        let now = self.now();
        let mut lines: Vec<Lines> = Vec::new();
        let mut seqs: Vec<u64> = vec![0; n];
        for (i, job) in batch.iter().enumerate() {
            let Some(range) = &ranges[i] else { continue };
            if results[i].is_err() {
                continue;
            }
            let name = range
                .file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            match self.seal(&job.record, range, &name, now, &mut lines) {
                Ok(seq) => seqs[i] = seq,
                Err(e) => results[i] = Err(e),
            }
        }
        if !lines.is_empty() {
            let refs: Vec<&Lines> = lines.iter().collect();
            if let Err(e) = self.append_chain(&refs) {
                let why = e.to_string();
                for r in results.iter_mut().filter(|r| r.is_ok()) {
                    *r = Err(StoreError::ChainStopped(why.clone()));
                }
            }
        }
        // 4. Sealed: the records to their storage keys.
        let mut archived: Vec<Vec<PathBuf>> = vec![Vec::new(); n];
        let mut to_sync: Vec<PathBuf> = Vec::new();
        for (i, job) in batch.iter().enumerate() {
            if results[i].is_err() {
                continue;
            }
            for (from, (key, _)) in incoming[i].iter().zip(&job.record.archive) {
                match rename_into_archive(&self.archive, from, key, &mut to_sync) {
                    Ok(p) => archived[i].push(p),
                    Err(e) => {
                        results[i] = Err(e);
                        break;
                    }
                }
            }
        }
        for d in &to_sync {
            if let Err(e) = self.sync_archive_dir(d) {
                let why = e.to_string();
                for (r, paths) in results.iter_mut().zip(&archived) {
                    if r.is_ok() && paths.iter().any(|p| p.starts_with(d)) {
                        *r = Err(StoreError::Io {
                            path: d.clone(),
                            source: io::Error::other(why.clone()),
                        });
                    }
                }
            }
        }
        for (((job, r), (range, seq)), archive) in batch
            .into_iter()
            .zip(results)
            .zip(ranges.into_iter().zip(seqs))
            .zip(archived)
        {
            let r = r.and_then(|()| {
                let tracking = range.ok_or(StoreError::WriterGone)?;
                Ok(Committed {
                    archive,
                    tracking,
                    seq,
                })
            });
            let _ = job.done.send(r);
        }
    }

    /// `fsync`s an archive directory, keeping it open for the next batch.
    fn sync_archive_dir(&mut self, dir: &Path) -> Result<(), StoreError> {
        if !self.dirs.contains_key(dir) {
            if self.dirs.len() >= 64 {
                self.dirs.clear();
            }
            let f = File::open(dir).map_err(io_err(dir))?;
            self.dirs.insert(dir.to_owned(), f);
        }
        let r = match self.dirs.get(dir) {
            Some(f) => f.sync_all(),
            None => return Err(StoreError::WriterGone),
        };
        r.map_err(|e| {
            self.dirs.remove(dir);
            io_err(dir)(e)
        })
    }

    /// Appends the rows of the batch's messages (those still `Ok`) to their day's logs,
    /// one write and one `fdatasync` per file; a failure fails that file's messages.
    fn append_rows(
        &mut self,
        batch: &[CommitJob],
        results: &mut [Result<(), StoreError>],
    ) -> Vec<Option<LogRange>> {
        let mut ranges: Vec<Option<LogRange>> = vec![None; batch.len()];
        // (file name, rows to write, the messages in it)
        let mut files: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::new();
        for (i, job) in batch.iter().enumerate() {
            if results[i].is_err() {
                continue;
            }
            let at = job.record.received_at;
            let name = Store::tracking_file_name(at, &self.node);
            let len = match self.day_len(&name, at) {
                Ok(len) => len,
                Err(e) => {
                    results[i] = Err(e);
                    continue;
                }
            };
            let slot = match files.iter().position(|(n, ..)| *n == name) {
                Some(p) => p,
                None => {
                    files.push((name.clone(), Vec::new(), Vec::new()));
                    files.len() - 1
                }
            };
            let Some((_, buf, members)) = files.get_mut(slot) else {
                continue;
            };
            let rows = &job.record.tracking;
            ranges[i] = Some(LogRange {
                file: self.dir.join(&name),
                offset: len + buf.len() as u64,
                len: rows.len() as u64,
            });
            for c in rows.chunks() {
                buf.extend_from_slice(c);
            }
            members.push(i);
        }
        for (name, buf, members) in files {
            let path = self.dir.join(&name);
            let r = match self.open.get_mut(&name) {
                Some((f, len)) => f
                    .write_all(&buf)
                    .and_then(|()| f.sync_data())
                    .map(|()| *len += buf.len() as u64),
                None => Err(io::Error::other("the log file was closed")),
            };
            if let Err(e) = r {
                // Reopen next time: the file's state is unknown.
                self.open.remove(&name);
                let why = e.to_string();
                for i in members {
                    ranges[i] = None;
                    results[i] = Err(StoreError::Io {
                        path: path.clone(),
                        source: io::Error::other(why.clone()),
                    });
                }
            }
        }
        ranges
    }

    /// Seals one message: its decision, archive records, tracking range and journal
    /// hand-overs. Lines are kept even when a later entry fails, so the chain file
    /// stays linked; the message is then incomplete and not acknowledged.
    fn seal(
        &mut self,
        record: &Record,
        range: &LogRange,
        log_name: &str,
        t: Timestamp,
        lines: &mut Vec<Lines>,
    ) -> Result<u64, StoreError> {
        let err = |e: mail_journal::seal::SealError| StoreError::Seal {
            envelope: record.envelope_id.clone(),
            reason: e.to_string(),
        };
        let (msg, l) = self
            .chain
            .decision(
                &record.envelope_id,
                [&record.message[..]],
                &record.obligations,
                t,
            )
            .map_err(err)?;
        lines.push(l);
        for (key, bytes) in &record.archive {
            let key = format!("archive/{key}");
            lines.push(
                self.chain
                    .archive(&msg, &key, bytes.chunks(), t)
                    .map_err(err)?,
            );
        }
        let log = format!("tracking/{log_name}");
        lines.push(
            self.chain
                .tracking(&msg, &log, range.offset, record.tracking.chunks(), t)
                .map_err(err)?,
        );
        for h in &record.handovers {
            if let Some((sender, bytes)) = &h.journal {
                lines.push(
                    self.chain
                        .handover(&msg, sender, &h.reply, bytes.chunks(), t)
                        .map_err(err)?,
                );
            }
        }
        Ok(msg.seq())
    }

    /// The length of a day's log, opening it (with its preamble) when needed; yesterday's
    /// file and today's stay open.
    fn day_len(&mut self, name: &str, at: Timestamp) -> Result<u64, StoreError> {
        if let Some((_, len)) = self.open.get(name) {
            return Ok(*len);
        }
        let path = self.dir.join(name);
        let f = self.open_day(&path, at)?;
        if self.open.len() >= 2 {
            // Keep yesterday's file and today's; close the oldest.
            if let Some(oldest) = self.open.keys().min().cloned() {
                self.open.remove(&oldest);
            }
        }
        let len = f.1;
        self.open.insert(name.to_owned(), f);
        Ok(len)
    }

    /// Opens a day's file for appending: a new one gets the preamble (made durable with
    /// its directory entry); an old one whose last line was torn gets it terminated.
    fn open_day(&self, path: &Path, at: Timestamp) -> Result<(File, u64), StoreError> {
        let mut f = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io_err(path))?;
        let mut len = f.metadata().map_err(io_err(path))?.len();
        if len == 0 {
            let pre = engine::tracking_preamble(at);
            f.write_all(pre.as_bytes()).map_err(io_err(path))?;
            f.sync_all().map_err(io_err(path))?;
            sync_dir(&self.dir)?;
            len = pre.len() as u64;
        } else {
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1)).map_err(io_err(path))?;
            f.read_exact(&mut last).map_err(io_err(path))?;
            if last[0] != b'\n' {
                f.write_all(b"\r\n").map_err(io_err(path))?;
                len += 2;
            }
        }
        Ok((f, len))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use mail_journal::seal::Verifier;

    use super::*;

    fn rendered(s: &str) -> Rendered {
        Rendered::from_chunks([Bytes::from(s.to_owned())])
    }

    /// A message with its archive records, tracking rows (one row a line) and one
    /// journal hand-over when `journal` is set.
    fn record(
        id: &str,
        at: i64,
        archive: Vec<(&str, &str)>,
        tracking: &str,
        journal: bool,
    ) -> Record {
        let rows = tracking.lines().count() as u64;
        let keys: Vec<String> = archive
            .iter()
            .map(|(k, _)| format!("archive/{k}"))
            .collect();
        let senders: Vec<&str> = if journal {
            vec!["ndr@journal.example"]
        } else {
            vec![]
        };
        Record {
            envelope_id: id.into(),
            received_at: Timestamp::from_unix(at),
            message: Bytes::from(format!("Subject: {id}\r\n\r\nbody\r\n")),
            obligations: Obligations::new(keys, senders, rows),
            archive: archive
                .into_iter()
                .map(|(k, v)| (k.to_owned(), rendered(v)))
                .collect(),
            tracking: rendered(tracking),
            handovers: if journal {
                vec![HandOverRecord {
                    kind: "journal",
                    reverse_path: "<ndr@journal.example>".into(),
                    recipients: vec!["j@journal.example".into()],
                    reply: "250 2.0.0 Ok: queued as 4ABC".into(),
                    queue_id: Some("4ABC".into()),
                    journal: Some(("ndr@journal.example".into(), rendered("report"))),
                }]
            } else {
                Vec::new()
            },
        }
    }

    const DAY1: i64 = 1_795_342_443; // 2026-11-22
    const DAY2: i64 = DAY1 + 86_400;

    /// The store's records and chains, as the verifier reads them.
    fn verify(root: &Path) -> mail_journal::seal::Report {
        fn walk(root: &Path, rel: &str, out: &mut BTreeMap<String, Vec<u8>>) {
            let Ok(entries) = fs::read_dir(root.join(rel)) else {
                return;
            };
            for e in entries {
                let e = e.unwrap();
                let key = format!("{rel}/{}", e.file_name().to_string_lossy());
                if e.file_type().unwrap().is_dir() {
                    walk(root, &key, out);
                } else {
                    out.insert(key, fs::read(e.path()).unwrap());
                }
            }
        }
        let mut store = BTreeMap::new();
        walk(root, "archive", &mut store);
        walk(root, "tracking", &mut store);
        let chain = fs::read(root.join("seal/n.chain")).unwrap();
        let chain: &'static [u8] = Box::leak(chain.into_boxed_slice());
        Verifier::new().chain("n", chain).verify(&store)
    }

    #[tokio::test]
    async fn archive_records_and_tracking_rows_are_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "n", &SealConfig::default()).unwrap();
        let c = store
            .commit(record(
                "E1",
                DAY1,
                vec![(
                    "2026/11/22/bob@x.example/E1.eml",
                    "X-Sender: <bob@x.example>\r\n\r\nhi\r\n",
                )],
                "row1\r\n",
                true,
            ))
            .await
            .unwrap();
        let rec = dir.path().join("archive/2026/11/22/bob@x.example/E1.eml");
        assert_eq!(c.archive, vec![rec.clone()]);
        assert_eq!(
            fs::read(&rec).unwrap(),
            b"X-Sender: <bob@x.example>\r\n\r\nhi\r\n"
        );
        let log = dir.path().join("tracking/MSGTRK20261122-n.LOG");
        assert_eq!(c.tracking.file, log);
        store
            .commit(record("E2", DAY1, vec![], "row2\r\n", false))
            .await
            .unwrap();
        let text = fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("#Software:"), "{text}");
        assert_eq!(&lines[lines.len() - 2..], ["row1", "row2"]);
        // Another day, another file with its own preamble.
        let c = store
            .commit(record("E3", DAY2, vec![], "row3\r\n", false))
            .await
            .unwrap();
        assert!(c.tracking.file.ends_with("MSGTRK20261123-n.LOG"));
        // Nothing is left in incoming/.
        assert_eq!(
            fs::read_dir(dir.path().join("incoming/n")).unwrap().count(),
            0
        );
        store.close().await;
        let report = verify(dir.path());
        assert!(report.is_clean(), "{:#?}", report.findings);
        assert_eq!((report.summary.messages, report.summary.complete), (3, 3));
        assert_eq!(report.summary.journal_copies, 1);
        let chain = fs::read_to_string(dir.path().join("seal/n.chain")).unwrap();
        assert!(
            chain
                .lines()
                .next()
                .unwrap()
                .contains("\"reason\":\"open\"")
        );
        assert!(
            chain
                .lines()
                .last()
                .unwrap()
                .contains("\"reason\":\"explicit\"")
        );
        assert!(chain.contains("\"reply\":\"250 2.0.0 Ok: queued as 4ABC\""));
    }

    #[tokio::test]
    async fn unsafe_keys_and_node_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Store::open(dir.path(), "../x", &SealConfig::default()),
            Err(StoreError::BadNode(_))
        ));
        let store = Store::open(dir.path(), "n", &SealConfig::default()).unwrap();
        for key in [
            "../escape.eml",
            "/abs.eml",
            "a/../../b.eml",
            "",
            "a/.hidden",
        ] {
            let e = store
                .commit(record("E", DAY1, vec![(key, "x")], "r\r\n", false))
                .await
                .unwrap_err();
            assert!(matches!(e, StoreError::BadKey(_)), "{key}: {e}");
        }
        assert!(!dir.path().join("escape.eml").exists());
    }

    #[tokio::test]
    async fn a_restart_after_a_crash_leaves_only_whole_messages() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let key1 = "2026/11/22/a@x.example/E1.eml";
        let key2 = "2026/11/22/a@x.example/E2.eml";
        {
            let store = Store::open(root, "n", &SealConfig::default()).unwrap();
            store
                .commit(record("E1", DAY1, vec![(key1, "rec1")], "row1\r\n", true))
                .await
                .unwrap();
            store
                .commit(record("E2", DAY1, vec![(key2, "rec2")], "row2\r\n", true))
                .await
                .unwrap();
            // Dropped without `close`: like a kill, the chain does not end on a checkpoint.
        }
        let chain_path = root.join("seal/n.chain");
        let whole = fs::read(&chain_path).unwrap();
        let text = String::from_utf8(whole.clone()).unwrap();
        // The crash: E2's sealing cut in the middle of its hand-over line, E2's record
        // still in incoming/, and E3's record and rows written but never sealed.
        let handover = text.rfind("\"kind\":\"handover\"").unwrap();
        fs::write(&chain_path, &whole[..handover + 10]).unwrap();
        let archived2 = root.join("archive").join(key2);
        fs::rename(
            &archived2,
            root.join("incoming/n").join(incoming_name("E2", 0)),
        )
        .unwrap();
        fs::write(root.join("incoming/n").join(incoming_name("E3", 0)), "rec3").unwrap();
        let log = root.join("tracking/MSGTRK20261122-n.LOG");
        let mut f = OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"row3\r\n").unwrap();
        drop(f);
        // A log of a later day with unsealed rows.
        let log2 = root.join("tracking/MSGTRK20261123-n.LOG");
        fs::write(&log2, "#Software: x\r\n#Fields: y\r\nrow4\r\n").unwrap();

        let store = Store::open(root, "n", &SealConfig::default()).unwrap();
        let r = store.recovered().clone();
        assert_eq!(r.messages_cut, ["E2"]);
        assert_eq!(r.rolled_forward, 0, "E2 was cut: its record is not sealed");
        assert_eq!(r.archive_quarantined, 2, "E2's and E3's records");
        assert_eq!(r.tracking_bytes_quarantined, 18, "row2, row3 and row4");
        assert_eq!(
            fs::read_to_string(&log2).unwrap(),
            "#Software: x\r\n#Fields: y\r\n"
        );
        assert!(!archived2.exists());
        // The chain continues, and E2's retry is sealed as a new message.
        store
            .commit(record("E2b", DAY1, vec![(key2, "rec2")], "row2\r\n", true))
            .await
            .unwrap();
        store.close().await;
        let report = verify(root);
        assert!(report.is_clean(), "{:#?}", report.findings);
        assert_eq!((report.summary.messages, report.summary.complete), (2, 2));
        let quarantined = fs::read_dir(root.join("quarantine/n")).unwrap().count();
        assert_eq!(quarantined, 5, "chain tail, two records, two log tails");
    }

    #[tokio::test]
    async fn a_sealed_record_left_in_incoming_is_moved_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let key = "2026/11/22/a@x.example/E1.eml";
        {
            let store = Store::open(root, "n", &SealConfig::default()).unwrap();
            store
                .commit(record("E1", DAY1, vec![(key, "rec1")], "row1\r\n", true))
                .await
                .unwrap();
        }
        // The crash came after the chain's fdatasync, before the rename.
        fs::rename(
            root.join("archive").join(key),
            root.join("incoming/n").join(incoming_name("E1", 0)),
        )
        .unwrap();
        let store = Store::open(root, "n", &SealConfig::default()).unwrap();
        assert_eq!(store.recovered().rolled_forward, 1);
        assert!(store.recovered().messages_cut.is_empty());
        assert_eq!(fs::read(root.join("archive").join(key)).unwrap(), b"rec1");
        store.close().await;
        let report = verify(root);
        assert!(report.is_clean(), "{:#?}", report.findings);
        assert_eq!(report.summary.complete, 1);
    }

    #[tokio::test]
    async fn concurrent_commits_keep_their_rows_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            Store::open(
                dir.path(),
                "n",
                &SealConfig {
                    checkpoint_every: 10,
                    signing_key: None,
                },
            )
            .unwrap(),
        );
        let mut tasks = Vec::new();
        for i in 0..64 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("2026/11/22/s{}/E{i}.eml", i % 4);
                let row = format!("row-{i},{}\r\n", "x".repeat(i * 7));
                let c = s
                    .commit(record(
                        &format!("E{i}"),
                        DAY1,
                        vec![(&key, "rec")],
                        &row,
                        i % 2 == 0,
                    ))
                    .await
                    .unwrap();
                (c, row)
            }));
        }
        let log = dir.path().join("tracking/MSGTRK20261122-n.LOG");
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.unwrap());
        }
        let bytes = fs::read(&log).unwrap();
        for (c, row) in &got {
            assert_eq!(
                &bytes[c.tracking.offset as usize..][..c.tracking.len as usize],
                row.as_bytes()
            );
            assert_eq!(fs::read(&c.archive[0]).unwrap(), b"rec");
        }
        store.close().await;
        let report = verify(dir.path());
        assert!(report.is_clean(), "{:#?}", report.findings);
        assert_eq!(report.summary.complete, 64);
    }
}
