//! The store: archive records and the daily tracking log, durable before the `250`.
//!
//! Layout (fixed; the auditor's verifier reads it):
//!
//! ```text
//! <store>/archive/<storage key>                  archive records
//! <store>/tracking/MSGTRK<YYYYMMDD>-<node>.LOG   daily CSV tracking log, preamble lines start with '#'
//! <store>/seal/<node>.chain                      (later) a hash chain of every record written
//! ```
//!
//! [`Store::commit`] takes everything one message left behind — its archive records, its
//! tracking rows, and the hand-overs of its copies with the re-injection listener's
//! replies — and returns only when all of it is on disk:
//!
//! * an archive record is written to a temporary file (`.<name>.tmp-…`, same directory),
//!   `fsync`ed, renamed to its storage key, and its directory `fsync`ed (and the parent
//!   of every directory created for it), so a reader never sees half a record;
//! * tracking rows are appended by one writer thread that batches the rows of concurrent
//!   messages and `fdatasync`s once per batch (group commit); each message learns the
//!   byte range its rows occupy. A new day's file starts with the CSV preamble; a torn
//!   last line left by a crash is terminated before anything is appended.
//!
//! Sealing (to come) plugs in at the same point: the writer thread, after the tracking
//! `fdatasync` of a batch, appends one chain entry per [`Record`] — the hashes of its
//! archive records' bytes, its tracking [`LogRange`], and each [`HandOverRecord`] (kind,
//! recipients, reply, queue id) — to `seal/<node>.chain` and `fdatasync`s it before the
//! commit returns, so the `250` still comes only after the seal is durable.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use mail_journal::Timestamp;
use mail_journal::render::Rendered;
use tokio::sync::oneshot;

use crate::engine;

/// The hand-over of one copy, as it will be sealed.
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
}

/// Everything one message leaves in the store.
#[derive(Clone, Debug)]
pub struct Record {
    /// The daemon's envelope id.
    pub envelope_id: String,
    /// When it was received (names the day's tracking log).
    pub received_at: Timestamp,
    /// Archive records: storage key and bytes.
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
    /// The tracking log writer stopped (an earlier panic or shutdown).
    #[error("the tracking log writer is not running")]
    WriterGone,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

struct TrackingJob {
    received_at: Timestamp,
    rows: Rendered,
    done: oneshot::Sender<Result<LogRange, StoreError>>,
}

/// The store under one directory, for one node.
#[derive(Debug)]
pub struct Store {
    archive: PathBuf,
    writer: mpsc::Sender<TrackingJob>,
    tmp_seq: Arc<AtomicU64>,
}

impl Store {
    /// Opens (creating its directories) the store at `root` for node `node`, and starts
    /// the tracking log writer thread.
    pub fn open(root: &Path, node: &str) -> Result<Store, StoreError> {
        let valid = !node.is_empty()
            && node.len() <= 64
            && node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !node.starts_with('.');
        if !valid {
            return Err(StoreError::BadNode(node.to_owned()));
        }
        let archive = root.join("archive");
        let tracking = root.join("tracking");
        for d in [root, &archive, &tracking] {
            fs::create_dir_all(d).map_err(io_err(d))?;
        }
        let (tx, rx) = mpsc::channel();
        let mut w = Writer {
            dir: tracking,
            node: node.to_owned(),
            open: HashMap::new(),
        };
        std::thread::Builder::new()
            .name("tracking-log".into())
            .spawn(move || w.run(&rx))
            .map_err(io_err(root))?;
        Ok(Store {
            archive,
            writer: tx,
            tmp_seq: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The tracking log file of a day and node.
    pub fn tracking_file_name(day: Timestamp, node: &str) -> String {
        let (y, m, d, ..) = day.civil();
        format!("MSGTRK{y:04}{m:02}{d:02}-{node}.LOG")
    }

    /// Makes a message's records durable (see the module documentation).
    pub async fn commit(&self, record: &Record) -> Result<Committed, StoreError> {
        let (done, rx) = oneshot::channel();
        self.writer
            .send(TrackingJob {
                received_at: record.received_at,
                rows: record.tracking.clone(),
                done,
            })
            .map_err(|_| StoreError::WriterGone)?;
        let archive = self.archive.clone();
        let items = record.archive.clone();
        let seq = self.tmp_seq.clone();
        let archive = if items.is_empty() {
            // Nothing to archive: no hop to the blocking pool.
            Vec::new()
        } else {
            let written = tokio::task::spawn_blocking(move || {
                items
                    .iter()
                    .map(|(key, bytes)| write_archive(&archive, key, bytes, &seq))
                    .collect::<Result<Vec<_>, _>>()
            });
            written.await.map_err(|_| StoreError::WriterGone)??
        };
        let tracking = rx.await;
        let tracking = tracking.map_err(|_| StoreError::WriterGone)??;
        Ok(Committed { archive, tracking })
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

fn write_archive(
    root: &Path,
    key: &str,
    bytes: &Rendered,
    seq: &AtomicU64,
) -> Result<PathBuf, StoreError> {
    let rel = safe_key(key)?;
    let path = root.join(rel);
    let parent = path.parent().unwrap_or(root).to_owned();
    // Create the missing directories one by one, remembering whose entries to fsync.
    let mut created = Vec::new();
    let mut dir = root.to_owned();
    if let Some(rel_parent) = rel.parent() {
        for c in rel_parent.components() {
            let next = dir.join(c);
            match fs::create_dir(&next) {
                Ok(()) => created.push(dir.clone()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&next)(e)),
            }
            dir = next;
        }
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| StoreError::BadKey(key.to_owned()))?;
    let tmp = parent.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        seq.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        for c in bytes.chunks() {
            f.write_all(c).map_err(io_err(&tmp))?;
        }
        f.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, &path).map_err(io_err(&path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(&parent)?;
    for d in created.iter().rev() {
        sync_dir(d)?;
    }
    Ok(path)
}

/// The tracking log writer: owns the open day files.
struct Writer {
    dir: PathBuf,
    node: String,
    open: HashMap<String, (File, u64)>,
}

impl Writer {
    fn run(&mut self, rx: &mpsc::Receiver<TrackingJob>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < 512 {
                match rx.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            let mut results = Vec::with_capacity(batch.len());
            let mut touched: Vec<String> = Vec::new();
            for job in &batch {
                let name = Store::tracking_file_name(job.received_at, &self.node);
                let r = self.append(&name, job.received_at, &job.rows);
                if r.is_ok() && !touched.contains(&name) {
                    touched.push(name);
                }
                results.push(r);
            }
            let mut sync_failed: Vec<(String, String)> = Vec::new();
            for name in &touched {
                if let Some((f, _)) = self.open.get(name) {
                    if let Err(e) = f.sync_data() {
                        sync_failed.push((name.clone(), e.to_string()));
                        // Reopen next time: the file's state is unknown.
                        self.open.remove(name);
                    }
                }
            }
            for (job, mut r) in batch.into_iter().zip(results) {
                if let Ok(range) = &r {
                    let name = range
                        .file
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or_default();
                    if let Some((_, why)) = sync_failed.iter().find(|(n, _)| n == name) {
                        r = Err(StoreError::Io {
                            path: range.file.clone(),
                            source: io::Error::other(why.clone()),
                        });
                    }
                }
                let _ = job.done.send(r);
            }
        }
    }

    fn append(
        &mut self,
        name: &str,
        at: Timestamp,
        rows: &Rendered,
    ) -> Result<LogRange, StoreError> {
        let path = self.dir.join(name);
        if !self.open.contains_key(name) {
            let f = self.open_day(&path, at)?;
            if self.open.len() >= 2 {
                // Keep yesterday's file and today's; close the oldest.
                if let Some(oldest) = self.open.keys().min().cloned() {
                    self.open.remove(&oldest);
                }
            }
            self.open.insert(name.to_owned(), f);
        }
        let Some((f, len)) = self.open.get_mut(name) else {
            return Err(StoreError::WriterGone);
        };
        let offset = *len;
        for c in rows.chunks() {
            if let Err(e) = f.write_all(c) {
                self.open.remove(name);
                return Err(io_err(&path)(e));
            }
        }
        let n = rows.len() as u64;
        *len += n;
        Ok(LogRange {
            file: path,
            offset,
            len: n,
        })
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
    use bytes::Bytes;

    use super::*;

    fn rows(s: &str) -> Rendered {
        Rendered::from_chunks([Bytes::from(s.to_owned())])
    }

    fn record(id: &str, at: i64, archive: Vec<(&str, &str)>, tracking: &str) -> Record {
        Record {
            envelope_id: id.into(),
            received_at: Timestamp::from_unix(at),
            archive: archive
                .into_iter()
                .map(|(k, v)| {
                    (
                        k.to_owned(),
                        Rendered::from_chunks([Bytes::from(v.to_owned())]),
                    )
                })
                .collect(),
            tracking: rows(tracking),
            handovers: Vec::new(),
        }
    }

    const DAY1: i64 = 1_795_342_443; // 2026-11-22
    const DAY2: i64 = DAY1 + 86_400;

    #[tokio::test]
    async fn archive_records_and_tracking_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "node1").unwrap();
        let c = store
            .commit(&record(
                "E1",
                DAY1,
                vec![(
                    "2026/11/22/bob@x.example/E1.eml",
                    "X-Sender: <bob@x.example>\r\n\r\nhi\r\n",
                )],
                "row1\r\n",
            ))
            .await
            .unwrap();
        let rec = dir.path().join("archive/2026/11/22/bob@x.example/E1.eml");
        assert_eq!(c.archive, vec![rec.clone()]);
        assert_eq!(
            fs::read(&rec).unwrap(),
            b"X-Sender: <bob@x.example>\r\n\r\nhi\r\n"
        );
        let log = dir.path().join("tracking/MSGTRK20261122-node1.LOG");
        assert_eq!(c.tracking.file, log);
        store
            .commit(&record("E2", DAY1, vec![], "row2\r\n"))
            .await
            .unwrap();
        let text = fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("#Software:"), "{text}");
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("#Fields:")).count(),
            1
        );
        assert_eq!(&lines[lines.len() - 2..], ["row1", "row2"]);
        let got = &fs::read(&log).unwrap()[c.tracking.offset as usize..][..c.tracking.len as usize];
        assert_eq!(got, b"row1\r\n");
        // Another day, another file with its own preamble.
        let c = store
            .commit(&record("E3", DAY2, vec![], "row3\r\n"))
            .await
            .unwrap();
        assert!(c.tracking.file.ends_with("MSGTRK20261123-node1.LOG"));
        assert!(
            fs::read_to_string(&c.tracking.file)
                .unwrap()
                .starts_with("#Software:")
        );
        // No temporary files are left behind.
        let leftovers: Vec<_> = fs::read_dir(rec.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[tokio::test]
    async fn unsafe_keys_and_node_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Store::open(dir.path(), "../x"),
            Err(StoreError::BadNode(_))
        ));
        let store = Store::open(dir.path(), "n").unwrap();
        for key in [
            "../escape.eml",
            "/abs.eml",
            "a/../../b.eml",
            "",
            "a/.hidden",
        ] {
            let e = store
                .commit(&record("E", DAY1, vec![(key, "x")], "r\r\n"))
                .await
                .unwrap_err();
            assert!(matches!(e, StoreError::BadKey(_)), "{key}: {e}");
        }
        assert!(!dir.path().join("escape.eml").exists());
    }

    #[tokio::test]
    async fn a_torn_last_line_is_terminated() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("tracking")).unwrap();
        let log = dir
            .path()
            .join("tracking")
            .join(Store::tracking_file_name(Timestamp::from_unix(DAY1), "n"));
        fs::write(&log, "#Software: x\r\nhalf a ro").unwrap();
        let store = Store::open(dir.path(), "n").unwrap();
        store
            .commit(&record("E", DAY1, vec![], "whole\r\n"))
            .await
            .unwrap();
        assert_eq!(
            fs::read_to_string(&log).unwrap(),
            "#Software: x\r\nhalf a ro\r\nwhole\r\n"
        );
    }

    #[tokio::test]
    async fn concurrent_commits_keep_their_rows_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), "n").unwrap());
        let mut tasks = Vec::new();
        for i in 0..64 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("2026/11/22/s{}/E{i}.eml", i % 4);
                let row = format!("row-{i},{}\r\n", "x".repeat(i * 7));
                let c = s
                    .commit(&record(&format!("E{i}"), DAY1, vec![(&key, "rec")], &row))
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
        let rows = String::from_utf8(bytes).unwrap();
        assert_eq!(rows.lines().filter(|l| l.starts_with("row-")).count(), 64);
    }
}
