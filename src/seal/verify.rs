//! The verifier: chains, records, obligations, checkpoints and anchors.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use crate::seal::checkpoint::Checkpoint;
use crate::seal::entry::{Body, Hash, Parsed, Reason, ZERO, day, end_of_day, hex, parse};
use crate::seal::paths::{check_key, parse_range_key};
use crate::time::Timestamp;

/// Read access to the stored records, so that the verifier itself does no I/O.
///
/// Keys are paths relative to the store with `/` separators: `archive/…` for archive
/// records, `tracking/<file>` for whole tracking logs (the verifier cuts the byte ranges
/// out itself). The verifier only asks for keys it has checked are relative and free of
/// `..`, `\` and control characters.
///
/// An in-memory store is a `BTreeMap<String, Vec<u8>>` or `HashMap<String, Vec<u8>>`.
pub trait RecordStore {
    /// Why a record could not be read.
    type Error: fmt::Display;
    /// The bytes stored under `key`, `None` when there is no such record.
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, Self::Error>;
    /// Every stored record's key (under `archive/` and `tracking/`), so the verifier can
    /// name records that no entry seals.
    fn keys(&self) -> Result<Vec<String>, Self::Error>;
}

impl RecordStore for BTreeMap<String, Vec<u8>> {
    type Error = std::convert::Infallible;
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.get(key).cloned())
    }
    fn keys(&self) -> Result<Vec<String>, Self::Error> {
        Ok(BTreeMap::keys(self).cloned().collect())
    }
}

impl<S: std::hash::BuildHasher> RecordStore for HashMap<String, Vec<u8>, S> {
    type Error = std::convert::Infallible;
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.get(key).cloned())
    }
    fn keys(&self) -> Result<Vec<String>, Self::Error> {
        Ok(HashMap::keys(self).cloned().collect())
    }
}

/// What is wrong. Each [`Finding`] carries its place.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FindingKind {
    /// A chain line (or anchor line) that is not a valid entry: not JSON, a field
    /// missing or malformed, not in canonical form, torn (no newline at the end of the
    /// file), empty, or an entry of another node.
    MalformedLine {
        /// What is wrong.
        reason: String,
    },
    /// A chain line whose `hash` does not match its content: the line was altered.
    AlteredEntry,
    /// An entry's `prev` is not the hash of the entry before it (or, for the first
    /// entry, not zeros): one of the two was rewritten.
    BrokenLink {
        /// The sequence number of the entry it should link to (0: the chain's start).
        prev_seq: u64,
    },
    /// Sequence numbers missing from the chain: entries deleted.
    MissingEntries {
        /// The first missing.
        from: u64,
        /// The last missing.
        to: u64,
    },
    /// A second line with a sequence number already taken by a linking entry: an
    /// inserted or duplicated line.
    DuplicateEntry,
    /// Lines out of sequence order: `(line, seq)` of every line holding an entry that
    /// belongs elsewhere.
    OutOfOrder {
        /// `(line number, sequence number)` of each displaced line.
        entries: Vec<(u64, u64)>,
    },
    /// A stored record whose bytes are not those sealed.
    AlteredRecord {
        /// Sealed and found digests or lengths.
        reason: String,
    },
    /// A sealed record that is not in the store.
    MissingRecord {
        /// How many entries seal it (for a tracking log: how many byte ranges).
        sealed_by: u64,
    },
    /// A stored record (or a byte range of a tracking log, other than `#` preamble
    /// lines) that no entry seals.
    UnexpectedRecord,
    /// The store could not read a record.
    UnreadableRecord {
        /// The store's error.
        error: String,
    },
    /// The chain ends before a checkpoint it must hold: one anchored outside, or one
    /// at or after the time given to [`Verifier::closed_until`].
    Truncated {
        /// What was expected.
        reason: String,
    },
    /// An anchored checkpoint that the chain does not hold at its place: the chain was
    /// rewritten after it was anchored.
    AnchorMismatch {
        /// What differs.
        reason: String,
    },
    /// A checkpoint the writer must have written is not there (too many entries since
    /// the last one, or a UTC day not closed).
    CheckpointMissing {
        /// Which rule.
        reason: String,
    },
    /// A checkpoint whose fields do not agree with its place in the chain.
    BadCheckpoint {
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint (in the chain or anchored) without a valid signature by the public
    /// key given.
    BadSignature {
        /// Unsigned or invalid.
        reason: String,
    },
    /// A message whose obligations are not all sealed.
    Incomplete {
        /// The envelope id.
        envelope: String,
        /// Each missing obligation.
        missing: Vec<String>,
    },
    /// Entries that are each intact but do not agree with each other (an entry for a
    /// message that is not a decision, a record sealed twice or not obliged, overlapping
    /// tracking ranges, an unsafe storage key).
    Inconsistent {
        /// What disagrees.
        reason: String,
    },
}

impl FindingKind {
    /// A stable snake-case name, for machine-readable reports.
    pub fn code(&self) -> &'static str {
        match self {
            FindingKind::MalformedLine { .. } => "malformed_line",
            FindingKind::AlteredEntry => "altered_entry",
            FindingKind::BrokenLink { .. } => "broken_link",
            FindingKind::MissingEntries { .. } => "missing_entries",
            FindingKind::DuplicateEntry => "duplicate_entry",
            FindingKind::OutOfOrder { .. } => "out_of_order",
            FindingKind::AlteredRecord { .. } => "altered_record",
            FindingKind::MissingRecord { .. } => "missing_record",
            FindingKind::UnexpectedRecord => "unexpected_record",
            FindingKind::UnreadableRecord { .. } => "unreadable_record",
            FindingKind::Truncated { .. } => "truncated",
            FindingKind::AnchorMismatch { .. } => "anchor_mismatch",
            FindingKind::CheckpointMissing { .. } => "checkpoint_missing",
            FindingKind::BadCheckpoint { .. } => "bad_checkpoint",
            FindingKind::BadSignature { .. } => "bad_signature",
            FindingKind::Incomplete { .. } => "incomplete",
            FindingKind::Inconsistent { .. } => "inconsistent",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindingKind::MalformedLine { reason } => write!(f, "malformed line: {reason}"),
            FindingKind::AlteredEntry => {
                f.write_str("altered entry: its hash does not match its content")
            }
            FindingKind::BrokenLink { prev_seq: 0 } => {
                f.write_str("broken link: the first entry's prev is not zeros")
            }
            FindingKind::BrokenLink { prev_seq } => write!(
                f,
                "broken link: prev is not the hash of entry {prev_seq} (one of the two was rewritten)"
            ),
            FindingKind::MissingEntries { from, to } if from == to => {
                write!(f, "missing entry: seq {from} is not in the chain (deleted)")
            }
            FindingKind::MissingEntries { from, to } => write!(
                f,
                "missing entries: seq {from} to {to} are not in the chain (deleted)"
            ),
            FindingKind::DuplicateEntry => f.write_str(
                "duplicate entry: another line holds this sequence number (inserted or copied)",
            ),
            FindingKind::OutOfOrder { entries } => {
                f.write_str("lines out of order:")?;
                for (i, (line, seq)) in entries.iter().enumerate() {
                    if i == 10 {
                        write!(f, " and {} more", entries.len() - 10)?;
                        break;
                    }
                    write!(
                        f,
                        "{} line {line} holds seq {seq}",
                        if i > 0 { "," } else { "" }
                    )?;
                }
                Ok(())
            }
            FindingKind::AlteredRecord { reason } => write!(f, "altered record: {reason}"),
            FindingKind::MissingRecord { sealed_by } => {
                write!(
                    f,
                    "missing record: sealed by {sealed_by} entries, not in the store"
                )
            }
            FindingKind::UnexpectedRecord => {
                f.write_str("unexpected record: stored, but no entry seals it")
            }
            FindingKind::UnreadableRecord { error } => write!(f, "unreadable record: {error}"),
            FindingKind::Truncated { reason } => write!(f, "truncated chain: {reason}"),
            FindingKind::AnchorMismatch { reason } => {
                write!(f, "anchored checkpoint not in the chain: {reason}")
            }
            FindingKind::CheckpointMissing { reason } => {
                write!(f, "checkpoint missing: {reason}")
            }
            FindingKind::BadCheckpoint { reason } => write!(f, "bad checkpoint: {reason}"),
            FindingKind::BadSignature { reason } => write!(f, "bad signature: {reason}"),
            FindingKind::Incomplete { envelope, missing } => write!(
                f,
                "incomplete message {envelope:?}: not sealed: {}",
                missing.join("; ")
            ),
            FindingKind::Inconsistent { reason } => write!(f, "inconsistent: {reason}"),
        }
    }
}

/// One problem and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// What is wrong.
    pub kind: FindingKind,
    /// The node whose chain it concerns.
    pub node: Option<String>,
    /// The sequence number of the entry concerned (for a damaged line: the number its
    /// position implies).
    pub seq: Option<u64>,
    /// The 1-based line number in the node's chain (or in the anchor source named by
    /// `key`).
    pub line: Option<u64>,
    /// The storage key of the record concerned (a tracking log's byte range as
    /// `tracking/<file>#<offset>+<length>`), or the name of an anchor source.
    pub key: Option<String>,
}

impl Finding {
    fn new(kind: FindingKind) -> Self {
        Finding {
            kind,
            node: None,
            seq: None,
            line: None,
            key: None,
        }
    }
    fn node(mut self, node: &str) -> Self {
        self.node = Some(node.to_owned());
        self
    }
    fn seq(mut self, seq: Option<u64>) -> Self {
        self.seq = seq;
        self
    }
    fn line(mut self, line: Option<u64>) -> Self {
        self.line = line;
        self
    }
    fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }
}

impl fmt::Display for Finding {
    /// `node=mx1 seq=17 line=17 key=archive/…: altered record: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(n) = &self.node {
            write!(f, "node={n}")?;
            sep = " ";
        }
        if let Some(s) = self.seq {
            write!(f, "{sep}seq={s}")?;
            sep = " ";
        }
        if let Some(l) = self.line {
            write!(f, "{sep}line={l}")?;
            sep = " ";
        }
        if let Some(k) = &self.key {
            write!(f, "{sep}key={k}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// What the verified chains hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Chains (nodes) read.
    pub nodes: u64,
    /// Chain entries, checkpoints included.
    pub entries: u64,
    /// Messages (decision entries).
    pub messages: u64,
    /// Messages whose obligations are all sealed.
    pub complete: u64,
    /// Archive records sealed.
    pub records: u64,
    /// Tracking byte ranges sealed.
    pub tracking: u64,
    /// Journal copies handed over (2xx replies).
    pub journal_copies: u64,
    /// Checkpoints in the chains.
    pub checkpoints: u64,
    /// Anchored checkpoints read.
    pub anchors: u64,
    /// Whether checkpoint signatures were checked (a public key was given).
    pub signatures_checked: bool,
    /// The earliest entry time.
    pub first: Option<Timestamp>,
    /// The latest entry time.
    pub last: Option<Timestamp>,
}

/// The verifier's result: every finding, sorted by node, sequence number, line and key,
/// and a summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Every finding.
    pub findings: Vec<Finding>,
    /// What was verified.
    pub summary: Summary,
}

impl Report {
    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The report as one JSON object: `clean`, `summary` (the [`Summary`] fields, times
    /// as `YYYY-MM-DDTHH:MM:SSZ` or `null`) and `findings` (each with `kind` — the
    /// [`FindingKind::code`] —, `node`, `seq`, `line`, `key` and `message`).
    pub fn to_json(&self) -> String {
        let s = &self.summary;
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
        let findings: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "kind": f.kind.code(),
                    "node": f.node,
                    "seq": f.seq,
                    "line": f.line,
                    "key": f.key,
                    "message": f.kind.to_string(),
                })
            })
            .collect();
        serde_json::json!({
            "clean": self.is_clean(),
            "summary": {
                "nodes": s.nodes,
                "entries": s.entries,
                "messages": s.messages,
                "complete": s.complete,
                "records": s.records,
                "tracking": s.tracking,
                "journal_copies": s.journal_copies,
                "checkpoints": s.checkpoints,
                "anchors": s.anchors,
                "signatures_checked": s.signatures_checked,
                "first": time(s.first),
                "last": time(s.last),
            },
            "findings": findings,
        })
        .to_string()
    }
}

/// Verifies the chains of one or more nodes against a [`RecordStore`].
///
/// ```
/// use std::collections::BTreeMap;
/// use mail_journal::seal::*;
/// use mail_journal::Timestamp;
/// let t = Timestamp::from_unix(1_795_342_443);
/// let mut chain = Chain::new("mx1", ChainConfig::new())?;
/// let mut store = BTreeMap::new();
/// let mut lines = String::new();
/// let key = "archive/2026/11/22/alice@example.com/Q1.eml";
/// let (msg, l) = chain.decision("Q1", [b"message"], &Obligations::new([key], Vec::<String>::new(), 0), t)?;
/// lines += l.as_str();
/// store.insert(key.to_owned(), b"record".to_vec());
/// lines += chain.archive(&msg, key, [b"record"], t)?.as_str();
///
/// let report = Verifier::new().chain("mx1", lines.as_bytes()).verify(&store);
/// assert!(report.is_clean(), "{:?}", report.findings);
/// assert_eq!((report.summary.messages, report.summary.complete), (1, 1));
///
/// store.insert(key.to_owned(), b"recorD".to_vec());
/// let report = Verifier::new().chain("mx1", lines.as_bytes()).verify(&store);
/// assert_eq!(report.findings[0].kind.code(), "altered_record");
/// assert_eq!(report.findings[0].key.as_deref(), Some(key));
/// # Ok::<(), SealError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Verifier<'a> {
    chains: Vec<(&'a str, &'a [u8])>,
    anchors: Vec<(&'a str, &'a str)>,
    key: Option<VerifyingKey>,
    closed_until: Option<Timestamp>,
}

/// A chain line, classified.
enum State<'a> {
    Intact(Parsed<'a>),
    /// Reported already; the parsed entry, if any, is used for best-effort bookkeeping.
    Damaged(Option<Parsed<'a>>),
}

struct Line<'a> {
    no: u64,
    state: State<'a>,
}

impl<'a> Line<'a> {
    fn parsed(&self) -> Option<&Parsed<'a>> {
        match &self.state {
            State::Intact(p) | State::Damaged(Some(p)) => Some(p),
            State::Damaged(None) => None,
        }
    }
    fn intact(&self) -> Option<&Parsed<'a>> {
        match &self.state {
            State::Intact(p) => Some(p),
            State::Damaged(_) => None,
        }
    }
}

/// One node's chain after the structural checks.
struct NodeChain<'a> {
    node: &'a str,
    lines: Vec<Line<'a>>,
    /// Sequence number → index in `lines` of the entry taken for it.
    chosen: BTreeMap<u64, usize>,
}

impl<'a> NodeChain<'a> {
    fn at(&self, seq: u64) -> Option<&Line<'a>> {
        self.chosen.get(&seq).and_then(|&i| self.lines.get(i))
    }
    fn max_seq(&self) -> u64 {
        self.chosen.keys().next_back().copied().unwrap_or(0)
    }
}

/// Sorted by their position.
type Findings = Vec<Finding>;

fn split_lines(bytes: &[u8]) -> (Vec<&[u8]>, bool) {
    let mut pieces: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let torn = match pieces.last() {
        Some(last) if !last.is_empty() => true,
        Some(_) => {
            pieces.pop();
            false
        }
        None => false,
    };
    (pieces, torn)
}

/// Reads and links one node's chain: malformed and altered lines, sequence gaps and
/// duplicates, broken links, file order.
fn structure<'a>(node: &'a str, bytes: &'a [u8], out: &mut Findings) -> NodeChain<'a> {
    let (pieces, torn) = split_lines(bytes);
    let last_index = pieces.len().saturating_sub(1);
    let mut lines = Vec::with_capacity(pieces.len());
    // (index, finding kind) for damaged lines: reported once their seq is inferred.
    let mut damaged: Vec<(usize, FindingKind)> = Vec::new();
    for (i, piece) in pieces.into_iter().enumerate() {
        let no = i as u64 + 1;
        let (state, problem) = if piece.is_empty() {
            (
                State::Damaged(None),
                Some(FindingKind::MalformedLine {
                    reason: "empty line".to_owned(),
                }),
            )
        } else {
            match parse(piece) {
                Err(reason) => (
                    State::Damaged(None),
                    Some(FindingKind::MalformedLine { reason }),
                ),
                Ok(p) if p.entry.node != node => {
                    let reason = format!(
                        "an entry of node {:?} in the chain of node {node:?}",
                        p.entry.node
                    );
                    (
                        State::Damaged(None),
                        Some(FindingKind::MalformedLine { reason }),
                    )
                }
                Ok(p) if !p.intact() => (State::Damaged(Some(p)), Some(FindingKind::AlteredEntry)),
                Ok(p) if torn && i == last_index => (
                    State::Damaged(Some(p)),
                    Some(FindingKind::MalformedLine {
                        reason: "torn: the file ends without a newline".to_owned(),
                    }),
                ),
                Ok(p) => (State::Intact(p), None),
            }
        };
        let problem = match (problem, torn && i == last_index) {
            (Some(FindingKind::MalformedLine { reason }), true) if !reason.starts_with("torn") => {
                Some(FindingKind::MalformedLine {
                    reason: format!("torn: the file ends without a newline ({reason})"),
                })
            }
            (p, _) => p,
        };
        if let Some(kind) = problem {
            damaged.push((i, kind));
        }
        lines.push(Line { no, state });
    }

    // The sequence number each line stands for: its own when intact, else the one its
    // position between intact neighbours implies.
    let n = lines.len();
    let mut seq_of: Vec<Option<u64>> = vec![None; n];
    let mut last_intact: Option<(usize, u64)> = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(p) = line.intact() {
            last_intact = Some((i, p.entry.seq));
            if let Some(s) = seq_of.get_mut(i) {
                *s = Some(p.entry.seq);
            }
        } else if let (Some((j, s)), Some(slot)) = (last_intact, seq_of.get_mut(i)) {
            *slot = Some(s + (i - j) as u64);
        }
    }
    let mut next_intact: Option<(usize, u64)> = None;
    for i in (0..n).rev() {
        let Some(line) = lines.get(i) else { continue };
        if let Some(p) = line.intact() {
            next_intact = Some((i, p.entry.seq));
        } else if let Some(slot) = seq_of.get_mut(i) {
            if slot.is_none() {
                *slot = next_intact
                    .and_then(|(j, s)| s.checked_sub((j - i) as u64))
                    .filter(|&s| s > 0)
                    .or_else(|| line.parsed().map(|p| p.entry.seq));
            }
        }
    }
    for (i, kind) in damaged {
        out.push(
            Finding::new(kind)
                .node(node)
                .seq(seq_of.get(i).copied().flatten())
                .line(Some(i as u64 + 1)),
        );
    }

    // Candidates per sequence number.
    let mut slots: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, s) in seq_of.iter().enumerate() {
        if let Some(s) = s {
            slots.entry(*s).or_default().push(i);
        }
    }
    let computed = |i: usize| lines.get(i).and_then(Line::intact).map(|p| p.computed);
    let prev_of = |i: usize| lines.get(i).and_then(Line::intact).map(|p| p.entry.prev);
    let mut chosen = BTreeMap::new();
    for (&seq, cands) in &slots {
        let best = match cands.as_slice() {
            [one] => *one,
            many => {
                let before = slots
                    .get(&(seq.wrapping_sub(1)))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let after = slots.get(&(seq + 1)).map(Vec::as_slice).unwrap_or_default();
                let score = |&c: &usize| {
                    let intact = computed(c).is_some();
                    let links_before = match prev_of(c) {
                        Some(prev) if seq == 1 => prev == ZERO,
                        Some(prev) => before.iter().any(|&b| computed(b) == Some(prev)),
                        None => false,
                    };
                    let links_after =
                        computed(c).is_some_and(|h| after.iter().any(|&a| prev_of(a) == Some(h)));
                    let in_place = before.iter().all(|&b| b < c) && after.iter().all(|&a| a > c);
                    (
                        intact,
                        u8::from(links_before) + u8::from(links_after),
                        in_place,
                        Reverse(c),
                    )
                };
                let best = many
                    .iter()
                    .copied()
                    .max_by_key(|c| score(c))
                    .unwrap_or_default();
                for &c in many {
                    if c != best && computed(c).is_some() {
                        out.push(
                            Finding::new(FindingKind::DuplicateEntry)
                                .node(node)
                                .seq(Some(seq))
                                .line(Some(c as u64 + 1)),
                        );
                    }
                }
                best
            }
        };
        chosen.insert(seq, best);
    }
    let chain = NodeChain {
        node,
        lines,
        chosen,
    };

    // Gaps.
    let mut expected = 1u64;
    for (&seq, &i) in &chain.chosen {
        if seq > expected {
            out.push(
                Finding::new(FindingKind::MissingEntries {
                    from: expected,
                    to: seq - 1,
                })
                .node(node)
                .seq(Some(expected))
                .line(Some(i as u64 + 1)),
            );
        }
        expected = seq + 1;
    }

    // Links.
    for (&seq, &i) in &chain.chosen {
        let Some(p) = chain.lines.get(i).and_then(Line::intact) else {
            continue;
        };
        let broken = if seq == 1 {
            p.entry.prev != ZERO
        } else {
            match chain.at(seq - 1).and_then(Line::intact) {
                Some(before) => p.entry.prev != before.computed,
                None => false,
            }
        };
        if broken {
            out.push(
                Finding::new(FindingKind::BrokenLink {
                    prev_seq: seq.saturating_sub(1),
                })
                .node(node)
                .seq(Some(seq))
                .line(Some(i as u64 + 1)),
            );
        }
    }

    // File order: the entries taken, in sequence order, must sit in increasing lines.
    let in_seq: Vec<(u64, usize)> = chain.chosen.iter().map(|(&s, &i)| (s, i)).collect();
    let mut positions: Vec<usize> = in_seq.iter().map(|&(_, i)| i).collect();
    positions.sort_unstable();
    let displaced: Vec<(u64, u64)> = in_seq
        .iter()
        .zip(&positions)
        .filter(|((_, i), p)| i != *p)
        .map(|(&(s, i), _)| (i as u64 + 1, s))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if let Some(&(line, seq)) = displaced.first() {
        out.push(
            Finding::new(FindingKind::OutOfOrder { entries: displaced })
                .node(node)
                .seq(Some(seq))
                .line(Some(line)),
        );
    }
    chain
}

/// The checkpoint rules: first entry, counts and heads, signatures, the interval and the
/// day rule.
fn checkpoints(chain: &NodeChain<'_>, key: Option<&VerifyingKey>, out: &mut Findings) {
    let node = chain.node;
    if let Some(first) = chain.at(1).and_then(Line::intact) {
        if !matches!(
            first.entry.body,
            Body::Checkpoint {
                reason: Reason::Open,
                ..
            }
        ) {
            out.push(
                Finding::new(FindingKind::BadCheckpoint {
                    reason: "the chain does not start with an `open` checkpoint".to_owned(),
                })
                .node(node)
                .seq(Some(1))
                .line(chain.at(1).map(|l| l.no)),
            );
        }
    }
    let mut prev: Option<&Parsed<'_>> = None;
    // (entries since the last checkpoint, the interval it stated, reported already)
    let mut run: Option<(u64, u64, bool)> = None;
    let mut expected = 1u64;
    for (&seq, &i) in &chain.chosen {
        let line = chain.lines.get(i);
        let here = |kind| {
            Finding::new(kind)
                .node(node)
                .seq(Some(seq))
                .line(line.map(|l| l.no))
        };
        let p = match line.and_then(Line::intact) {
            Some(p) if seq == expected => p,
            _ => {
                // A gap or a damaged line: what came before is unknown.
                prev = line.and_then(Line::intact);
                run = None;
                expected = seq + 1;
                continue;
            }
        };
        expected = seq + 1;
        match &p.entry.body {
            Body::Checkpoint {
                reason,
                every,
                count,
                head,
                sig,
            } => {
                if *count != seq - 1 || *head != p.entry.prev {
                    out.push(here(FindingKind::BadCheckpoint {
                        reason: format!(
                            "count {count} and head {} should be {} and the entry's prev",
                            hex(head),
                            seq - 1
                        ),
                    }));
                }
                if *reason == Reason::Day {
                    if let Some(before) = prev {
                        let want = end_of_day(before.entry.time);
                        if p.entry.time != want {
                            out.push(here(FindingKind::BadCheckpoint {
                                reason: format!(
                                    "a day checkpoint after an entry at {} has time {}, not {want}",
                                    before.entry.time, p.entry.time
                                ),
                            }));
                        }
                    }
                }
                if let Some(key) = key {
                    let ok = sig.is_some_and(|s| {
                        Checkpoint::new(node, *count, *head, p.entry.time)
                            .with_signature(s)
                            .verify(key)
                    });
                    if !ok {
                        out.push(here(FindingKind::BadSignature {
                            reason: if sig.is_some() {
                                "the signature does not verify with the public key".to_owned()
                            } else {
                                "the checkpoint is not signed".to_owned()
                            },
                        }));
                    }
                }
                run = Some((0, *every, false));
            }
            _ => {
                if let Some((count, every, reported)) = run.as_mut() {
                    *count += 1;
                    if *every > 0 && *count > *every && !*reported {
                        *reported = true;
                        out.push(here(FindingKind::CheckpointMissing {
                            reason: format!("more than {every} entries since the last checkpoint"),
                        }));
                    }
                }
            }
        }
        if let Some(before) = prev {
            if !p.entry.body.is_day_checkpoint()
                && !before.entry.body.is_day_checkpoint()
                && day(p.entry.time) != day(before.entry.time)
            {
                out.push(here(FindingKind::CheckpointMissing {
                    reason: format!(
                        "no day checkpoint between {} and {}",
                        before.entry.time, p.entry.time
                    ),
                }));
            }
        }
        prev = Some(p);
    }
}

/// A message, from its decision entry.
struct Message {
    envelope: String,
    damaged: bool,
    archive: Vec<(String, bool)>,
    journal: Vec<(String, bool)>,
    rows: u64,
    rows_sealed: u64,
    line: u64,
}

fn is_2xx(reply: &str) -> bool {
    let b = reply.as_bytes();
    matches!(b, [b'2', x, y, ..] if x.is_ascii_digit() && y.is_ascii_digit())
        && b.get(3).is_none_or(|c| *c == b' ' || *c == b'-')
}

/// A sealed tracking range.
struct Range {
    offset: u64,
    len: u64,
    sha256: Hash,
    node: String,
    seq: u64,
    line: u64,
    intact: bool,
}

impl<'a> Verifier<'a> {
    /// A verifier with nothing to verify yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the chain of `node`: the contents of its chain file, one entry a line.
    pub fn chain(mut self, node: &'a str, lines: &'a [u8]) -> Self {
        self.chains.push((node, lines));
        self
    }

    /// Adds anchored checkpoint lines ([`Checkpoint::anchor_line`], one a line; blank
    /// lines and `#` comments are skipped) from a source named `source` (a file name),
    /// for example the lines copied into tickets or a WORM bucket. Each must be in its
    /// node's chain; a chain that ends before one is truncated.
    pub fn anchors(mut self, source: &'a str, text: &'a str) -> Self {
        self.anchors.push((source, text));
        self
    }

    /// Checks every checkpoint's signature (in the chains and anchored) with this key:
    /// an unsigned or wrongly signed checkpoint is a finding.
    pub fn public_key(mut self, key: VerifyingKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Requires every node's chain to end with a checkpoint at or after `time`: the
    /// auditor states that the nodes had closed their chains by then (a `day`
    /// checkpoint from [`Chain::close_day`](super::Chain::close_day), or an explicit one
    /// at shutdown). A chain cut after its last checkpoint then fails.
    pub fn closed_until(mut self, time: Timestamp) -> Self {
        self.closed_until = Some(time);
        self
    }

    /// Verifies everything and returns every finding.
    pub fn verify<S: RecordStore>(&self, store: &S) -> Report {
        let mut out = Findings::new();
        let mut summary = Summary {
            nodes: self.chains.len() as u64,
            signatures_checked: self.key.is_some(),
            ..Summary::default()
        };
        let chains: Vec<NodeChain<'_>> = self
            .chains
            .iter()
            .map(|&(node, bytes)| {
                let c = structure(node, bytes, &mut out);
                checkpoints(&c, self.key.as_ref(), &mut out);
                c
            })
            .collect();
        for c in &chains {
            for line in c.chosen.values().filter_map(|&i| c.lines.get(i)) {
                summary.entries += 1;
                if let Some(p) = line.parsed() {
                    let t = p.entry.time;
                    summary.first = Some(summary.first.map_or(t, |f| f.min(t)));
                    summary.last = Some(summary.last.map_or(t, |l| l.max(t)));
                    if p.entry.body.is_checkpoint() {
                        summary.checkpoints += 1;
                    }
                }
            }
        }
        self.check_anchors(&chains, &mut summary, &mut out);
        self.check_closed(&chains, &mut out);
        messages(&chains, &mut summary, &mut out);
        records(&chains, store, &mut summary, &mut out);
        out.sort_by(|a, b| {
            (&a.node, a.seq, a.line, &a.key, a.kind.code()).cmp(&(
                &b.node,
                b.seq,
                b.line,
                &b.key,
                b.kind.code(),
            ))
        });
        Report {
            findings: out,
            summary,
        }
    }

    fn check_anchors(&self, chains: &[NodeChain<'_>], summary: &mut Summary, out: &mut Findings) {
        for &(source, text) in &self.anchors {
            for (i, raw) in text.lines().enumerate() {
                let line = raw.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let no = Some(i as u64 + 1);
                let cp = match Checkpoint::parse_anchor(line) {
                    Ok(cp) => cp,
                    Err(e) => {
                        out.push(
                            Finding::new(FindingKind::MalformedLine {
                                reason: e.to_string(),
                            })
                            .line(no)
                            .key(source),
                        );
                        continue;
                    }
                };
                summary.anchors += 1;
                let seq = cp.count() + 1;
                let here = |kind| {
                    Finding::new(kind)
                        .node(cp.node())
                        .seq(Some(seq))
                        .line(no)
                        .key(source)
                };
                if let Some(key) = &self.key {
                    if !cp.verify(key) {
                        out.push(here(FindingKind::BadSignature {
                            reason: if cp.signature().is_some() {
                                "the anchored checkpoint's signature does not verify".to_owned()
                            } else {
                                "the anchored checkpoint is not signed".to_owned()
                            },
                        }));
                    }
                }
                let Some(chain) = chains.iter().find(|c| c.node == cp.node()) else {
                    out.push(here(FindingKind::Truncated {
                        reason: format!(
                            "a checkpoint of node {} is anchored, but there is no chain for it",
                            cp.node()
                        ),
                    }));
                    continue;
                };
                let last = chain.max_seq();
                if last < seq {
                    out.push(here(FindingKind::Truncated {
                        reason: format!(
                            "the chain ends at seq {last}, before the anchored checkpoint at seq {seq}"
                        ),
                    }));
                    continue;
                }
                let matches = chain.at(seq).and_then(Line::parsed).is_some_and(|p| {
                    matches!(&p.entry.body, Body::Checkpoint { count, head, .. }
                        if *count == cp.count() && *head == cp.head() && p.entry.time == cp.time())
                });
                if !matches {
                    out.push(here(FindingKind::AnchorMismatch {
                        reason: format!(
                            "seq {seq} is not the checkpoint count={} head={} time={}",
                            cp.count(),
                            hex(&cp.head()),
                            cp.time()
                        ),
                    }));
                }
            }
        }
    }

    fn check_closed(&self, chains: &[NodeChain<'_>], out: &mut Findings) {
        let Some(until) = self.closed_until else {
            return;
        };
        for c in chains {
            let last = c.max_seq();
            let line = c.at(last);
            let closed = line
                .and_then(Line::parsed)
                .is_some_and(|p| p.entry.body.is_checkpoint() && p.entry.time >= until);
            if !closed {
                let at = line
                    .and_then(Line::parsed)
                    .map_or_else(String::new, |p| format!(" ({})", p.entry.time));
                out.push(
                    Finding::new(FindingKind::Truncated {
                        reason: format!(
                            "the chain ends at seq {last}{at}, not with a checkpoint at or after {until}"
                        ),
                    })
                    .node(c.node)
                    .seq(Some(last))
                    .line(line.map(|l| l.no)),
                );
            }
        }
    }
}

/// Obligations: every decision's archive records, journal hand-overs and tracking rows.
fn messages(chains: &[NodeChain<'_>], summary: &mut Summary, out: &mut Findings) {
    for c in chains {
        let node = c.node;
        let mut msgs: BTreeMap<u64, Message> = BTreeMap::new();
        for (&seq, &i) in &c.chosen {
            let Some(line) = c.lines.get(i) else { continue };
            let Some(p) = line.parsed() else { continue };
            let intact = line.intact().is_some();
            let here = |kind| {
                Finding::new(kind)
                    .node(node)
                    .seq(Some(seq))
                    .line(Some(line.no))
            };
            if let Body::Decision {
                envelope,
                archive,
                journal,
                rows,
                ..
            } = &p.entry.body
            {
                summary.messages += 1;
                msgs.insert(
                    seq,
                    Message {
                        envelope: envelope.to_string(),
                        damaged: !intact,
                        archive: archive.iter().map(|k| (k.to_string(), false)).collect(),
                        journal: journal.iter().map(|k| (k.to_string(), false)).collect(),
                        rows: *rows,
                        rows_sealed: 0,
                        line: line.no,
                    },
                );
                continue;
            }
            let Some(m) = p.entry.body.msg() else {
                continue;
            };
            let Some(msg) = msgs.get_mut(&m).filter(|_| m < seq) else {
                let what = c.at(m).and_then(Line::parsed).map(|q| q.entry.body.kind());
                if intact && (m >= seq || what.is_some()) {
                    out.push(here(FindingKind::Inconsistent {
                        reason: match what {
                            _ if m >= seq => {
                                format!("a {} entry for message seq {m}, not before it", p.entry.body.kind())
                            }
                            Some(k) => format!(
                                "a {} entry for message seq {m}, which is a {k} entry, not a decision",
                                p.entry.body.kind()
                            ),
                            None => String::new(),
                        },
                    }));
                }
                continue;
            };
            let report = intact && !msg.damaged;
            let envelope = match &p.entry.body {
                Body::Archive { envelope, .. }
                | Body::Tracking { envelope, .. }
                | Body::Handover { envelope, .. } => envelope,
                _ => continue,
            };
            if report && **envelope != *msg.envelope {
                out.push(here(FindingKind::Inconsistent {
                    reason: format!(
                        "envelope {envelope:?}, but the decision at seq {m} is for {:?}",
                        msg.envelope
                    ),
                }));
            }
            match &p.entry.body {
                Body::Archive { key, .. } => {
                    if let Some(slot) = msg.archive.iter_mut().find(|(k, done)| k == key && !done) {
                        slot.1 = true;
                    } else if report {
                        let twice = msg.archive.iter().any(|(k, _)| k == key);
                        out.push(here(FindingKind::Inconsistent {
                            reason: if twice {
                                format!("archive record {key} of message seq {m} sealed twice")
                            } else {
                                format!("archive record {key} was not obliged by the decision at seq {m}")
                            },
                        }));
                    }
                }
                Body::Tracking { rows, .. } => msg.rows_sealed += rows,
                Body::Handover {
                    reverse_path,
                    reply,
                    ..
                } => {
                    if !is_2xx(reply) {
                        continue;
                    }
                    summary.journal_copies += 1;
                    if let Some(slot) = msg
                        .journal
                        .iter_mut()
                        .find(|(k, done)| k == reverse_path && !done)
                    {
                        slot.1 = true;
                    } else if report {
                        out.push(here(FindingKind::Inconsistent {
                            reason: format!(
                                "hand-over of a journal copy from {reverse_path} that the decision at seq {m} did not oblige"
                            ),
                        }));
                    }
                }
                _ => {}
            }
        }
        for (seq, msg) in msgs {
            if msg.damaged {
                continue;
            }
            let mut missing: Vec<String> = msg
                .archive
                .iter()
                .filter(|(_, done)| !done)
                .map(|(k, _)| format!("archive record {k}"))
                .collect();
            missing.extend(
                msg.journal
                    .iter()
                    .filter(|(_, done)| !done)
                    .map(|(k, _)| format!("journal copy from {k} (no 2xx hand-over)")),
            );
            if msg.rows_sealed < msg.rows {
                missing.push(format!(
                    "tracking rows ({} of {} sealed)",
                    msg.rows_sealed, msg.rows
                ));
            }
            if missing.is_empty() {
                summary.complete += 1;
            } else {
                out.push(
                    Finding::new(FindingKind::Incomplete {
                        envelope: msg.envelope,
                        missing,
                    })
                    .node(node)
                    .seq(Some(seq))
                    .line(Some(msg.line)),
                );
            }
        }
    }
}

fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// Records: archive files and tracking ranges against their seals, and stored records no
/// entry seals.
fn records<S: RecordStore>(
    chains: &[NodeChain<'_>],
    store: &S,
    summary: &mut Summary,
    out: &mut Findings,
) {
    let mut claimed: HashMap<String, (String, u64)> = HashMap::new();
    let mut files: BTreeMap<String, Vec<Range>> = BTreeMap::new();
    for c in chains {
        let node = c.node;
        for (&seq, &i) in &c.chosen {
            let Some(line) = c.lines.get(i) else { continue };
            let Some(p) = line.parsed() else { continue };
            let intact = line.intact().is_some();
            let here = |kind| {
                Finding::new(kind)
                    .node(node)
                    .seq(Some(seq))
                    .line(Some(line.no))
            };
            match &p.entry.body {
                Body::Archive {
                    key,
                    sha256: sealed,
                    size,
                    ..
                } => {
                    summary.records += 1;
                    if let Err(reason) = check_key(key).and_then(|()| {
                        key.starts_with("archive/")
                            .then_some(())
                            .ok_or("an archive record's key starts with `archive/`")
                    }) {
                        if intact {
                            out.push(here(FindingKind::Inconsistent {
                                reason: format!("storage key {key:?} not read: {reason}"),
                            }));
                        }
                        continue;
                    }
                    if let Some((n, s)) = claimed.get(&**key) {
                        if intact {
                            out.push(
                                here(FindingKind::Inconsistent {
                                    reason: format!(
                                        "record {key} is already sealed by node {n} seq {s}"
                                    ),
                                })
                                .key(key),
                            );
                        }
                        continue;
                    }
                    claimed.insert(key.to_string(), (node.to_owned(), seq));
                    if !intact {
                        continue;
                    }
                    match store.read(key) {
                        Ok(None) => {
                            out.push(here(FindingKind::MissingRecord { sealed_by: 1 }).key(key))
                        }
                        Ok(Some(bytes)) => {
                            let found = sha256(&bytes);
                            if found != *sealed || bytes.len() as u64 != *size {
                                out.push(
                                    here(FindingKind::AlteredRecord {
                                        reason: format!(
                                            "sealed sha256 {} ({size} bytes), stored {} ({} bytes)",
                                            hex(sealed),
                                            hex(&found),
                                            bytes.len()
                                        ),
                                    })
                                    .key(key),
                                );
                            }
                        }
                        Err(e) => out.push(
                            here(FindingKind::UnreadableRecord {
                                error: e.to_string(),
                            })
                            .key(key),
                        ),
                    }
                }
                Body::Tracking {
                    key,
                    sha256: sealed,
                    ..
                } => {
                    summary.tracking += 1;
                    let parsed = parse_range_key(key).filter(|(file, ..)| {
                        check_key(file).is_ok() && file.starts_with("tracking/")
                    });
                    let Some((file, offset, len)) = parsed else {
                        if intact {
                            out.push(here(FindingKind::Inconsistent {
                                reason: format!(
                                    "tracking key {key:?} not read: not `tracking/<file>#<offset>+<length>`"
                                ),
                            }));
                        }
                        continue;
                    };
                    files.entry(file.to_owned()).or_default().push(Range {
                        offset,
                        len,
                        sha256: *sealed,
                        node: node.to_owned(),
                        seq,
                        line: line.no,
                        intact,
                    });
                }
                _ => {}
            }
        }
    }

    let listed = match store.keys() {
        Ok(keys) => keys,
        Err(e) => {
            out.push(Finding::new(FindingKind::UnreadableRecord {
                error: format!("the store cannot list its records: {e}"),
            }));
            Vec::new()
        }
    };
    for key in &listed {
        if key.starts_with("archive/") && !claimed.contains_key(key) {
            out.push(Finding::new(FindingKind::UnexpectedRecord).key(key));
        } else if key.starts_with("tracking/") && !key.contains('#') {
            files.entry(key.clone()).or_default();
        }
    }
    let listed: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    for (file, mut ranges) in files {
        ranges.sort_by_key(|r| (r.offset, r.seq));
        let first = ranges.iter().find(|r| r.intact);
        let bytes = match store.read(&file) {
            Ok(Some(b)) => b,
            Ok(None) => {
                if let Some(r) = first {
                    out.push(
                        Finding::new(FindingKind::MissingRecord {
                            sealed_by: ranges.iter().filter(|r| r.intact).count() as u64,
                        })
                        .node(&r.node)
                        .seq(Some(r.seq))
                        .line(Some(r.line))
                        .key(&file),
                    );
                }
                continue;
            }
            Err(e) => {
                let mut f = Finding::new(FindingKind::UnreadableRecord {
                    error: e.to_string(),
                })
                .key(&file);
                if let Some(r) = first {
                    f = f.node(&r.node).seq(Some(r.seq)).line(Some(r.line));
                }
                out.push(f);
                continue;
            }
        };
        let total = bytes.len() as u64;
        for r in ranges.iter().filter(|r| r.intact) {
            let key = crate::seal::paths::tracking_key(&file, r.offset, r.len);
            let here = |kind| {
                Finding::new(kind)
                    .node(&r.node)
                    .seq(Some(r.seq))
                    .line(Some(r.line))
                    .key(&key)
            };
            let slice = usize::try_from(r.offset)
                .ok()
                .zip(usize::try_from(r.offset.saturating_add(r.len)).ok())
                .and_then(|(a, b)| bytes.get(a..b));
            match slice {
                None => out.push(here(FindingKind::AlteredRecord {
                    reason: format!(
                        "the log has {total} bytes, the sealed range ends at byte {}",
                        r.offset.saturating_add(r.len)
                    ),
                })),
                Some(s) => {
                    let found = sha256(s);
                    if found != r.sha256 {
                        out.push(here(FindingKind::AlteredRecord {
                            reason: format!(
                                "sealed sha256 {}, stored bytes {}",
                                hex(&r.sha256),
                                hex(&found)
                            ),
                        }));
                    }
                }
            }
        }
        if listed.contains(file.as_str()) || !ranges.is_empty() {
            coverage(&file, &bytes, &ranges, out);
        }
    }
}

/// The bytes of a tracking log that are neither `#` preamble lines nor in a sealed range
/// are unexpected; overlapping sealed ranges are inconsistent.
fn coverage(file: &str, bytes: &[u8], ranges: &[Range], out: &mut Findings) {
    let len = bytes.len() as u64;
    let mut pos = 0u64;
    let mut covered_to = 0u64;
    let mut next = ranges.iter().peekable();
    let mut span: Option<u64> = None;
    let close = |span: &mut Option<u64>, end: u64, out: &mut Findings| {
        if let Some(start) = span.take() {
            if end > start {
                out.push(
                    Finding::new(FindingKind::UnexpectedRecord)
                        .key(&crate::seal::paths::tracking_key(file, start, end - start)),
                );
            }
        }
    };
    let line_end = |from: u64| -> u64 {
        let from_usize = usize::try_from(from).unwrap_or(usize::MAX);
        bytes
            .get(from_usize..)
            .and_then(|rest| memchr::memchr(b'\n', rest))
            .map_or(len, |i| from + i as u64 + 1)
    };
    loop {
        while let Some(r) = next.next_if(|r| r.offset <= pos) {
            if r.offset < covered_to && r.intact {
                out.push(
                    Finding::new(FindingKind::Inconsistent {
                        reason: format!(
                            "tracking range overlaps another sealed range (ending at byte {covered_to})"
                        ),
                    })
                    .node(&r.node)
                    .seq(Some(r.seq))
                    .line(Some(r.line))
                    .key(&crate::seal::paths::tracking_key(file, r.offset, r.len)),
                );
            }
            close(&mut span, pos, out);
            covered_to = covered_to.max(r.offset.saturating_add(r.len));
            pos = pos.max(covered_to);
        }
        if pos >= len {
            break;
        }
        let limit = next.peek().map_or(len, |r| r.offset.min(len));
        let at_line_start =
            pos == 0 || usize::try_from(pos - 1).ok().and_then(|i| bytes.get(i)) == Some(&b'\n');
        let here = usize::try_from(pos).ok().and_then(|i| bytes.get(i));
        if at_line_start && here == Some(&b'#') {
            close(&mut span, pos, out);
            pos = line_end(pos).min(limit.max(pos + 1));
        } else {
            span.get_or_insert(pos);
            pos = line_end(pos).min(limit).max(pos + 1);
        }
    }
    close(&mut span, len.min(pos), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert!(is_2xx("250 2.0.0 Ok: queued as 4ABC"));
        assert!(is_2xx("250"));
        assert!(is_2xx("250-first line"));
        assert!(!is_2xx("451 4.3.0 try later"));
        assert!(!is_2xx("2500"));
        assert!(!is_2xx("ok"));
    }

    fn range(offset: u64, len: u64) -> Range {
        Range {
            offset,
            len,
            sha256: [0; 32],
            node: "mx1".into(),
            seq: offset,
            line: 1,
            intact: true,
        }
    }

    fn uncovered(bytes: &[u8], ranges: &[Range]) -> Vec<String> {
        let mut out = Vec::new();
        coverage("tracking/L", bytes, ranges, &mut out);
        out.iter()
            .map(|f| format!("{}:{}", f.kind.code(), f.key.clone().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn tracking_coverage() {
        let log = b"#Software: x\r\n#Fields: a,b\r\nrow1\r\nrow2\r\nrow3\r\n";
        // preamble 0..28, rows at 28, 34, 40 (6 bytes each)
        assert_eq!(uncovered(log, &[range(28, 18)]), Vec::<String>::new());
        assert_eq!(
            uncovered(log, &[range(28, 6), range(34, 12)]),
            Vec::<String>::new()
        );
        assert_eq!(
            uncovered(log, &[range(28, 6), range(40, 6)]),
            ["unexpected_record:tracking/L#34+6"]
        );
        assert_eq!(uncovered(log, &[]), ["unexpected_record:tracking/L#28+18"]);
        assert_eq!(
            uncovered(log, &[range(28, 12), range(34, 12)]),
            ["inconsistent:tracking/L#34+12"]
        );
        // A row inserted before the preamble's end, and a torn tail.
        assert_eq!(
            uncovered(b"#a\nrow\n#b\nrest", &[]),
            [
                "unexpected_record:tracking/L#3+4",
                "unexpected_record:tracking/L#10+4"
            ]
        );
        assert_eq!(uncovered(b"", &[]), Vec::<String>::new());
    }
}
