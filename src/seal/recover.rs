//! After a crash: where a transport's chain file must be cut so that every message in it
//! is either fully sealed or not there at all, and what the kept entries seal.

use std::collections::BTreeMap;

use crate::seal::chain::{Chain, ChainConfig, ResumeError};
use crate::seal::entry::{Body, parse};
use crate::seal::paths::parse_range_key;

/// An archive record sealed in the kept part of a chain's tail (see [`Recovery`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SealedArchive {
    /// The sequence number of the `archive` entry.
    pub seq: u64,
    /// The message's envelope id.
    pub envelope: String,
    /// The storage key (`archive/…`).
    pub key: String,
    /// The SHA-256 of the bytes sealed.
    pub sha256: [u8; 32],
    /// Their length.
    pub size: u64,
}

/// What [`Chain::recover`] found at the end of a chain file.
#[derive(Debug)]
#[non_exhaustive]
pub struct Recovery {
    /// The chain, continuing after the last kept entry (its next entry is a `resume`
    /// checkpoint).
    pub chain: Chain,
    /// How many bytes of the tail to keep: cut the file to
    /// `file length − tail length + keep` before appending. Everything after is a torn
    /// last line and the entries of a message whose sealing the crash interrupted — a
    /// message that was never acknowledged.
    pub keep: usize,
    /// The envelope ids of the messages whose entries are cut.
    pub cut_messages: Vec<String>,
    /// The archive records sealed in the kept lines of the tail, in chain order: a
    /// transport that moves a record to its storage key only after sealing it finishes
    /// those moves.
    pub archive: Vec<SealedArchive>,
    /// For each tracking log (`tracking/<file>`) with a sealed range in the kept lines of
    /// the tail: where its last sealed range ends. Bytes after it were written but not
    /// sealed.
    pub tracking_ends: BTreeMap<String, u64>,
}

/// What one message still needs, counted down by its follow-up entries.
struct Open<'a> {
    envelope: String,
    line: usize,
    archive: Vec<&'a str>,
    journal: Vec<&'a str>,
    rows: u64,
}

impl Open<'_> {
    fn complete(&self) -> bool {
        self.archive.is_empty() && self.journal.is_empty() && self.rows == 0
    }
}

fn is_2xx(reply: &str) -> bool {
    let b = reply.as_bytes();
    matches!(b, [b'2', x, y, ..] if x.is_ascii_digit() && y.is_ascii_digit())
}

impl Chain {
    /// Continues the chain of `node` after a crash, so that every message in the chain
    /// file is either fully sealed or not in it at all.
    ///
    /// `tail` is the whole chain file or a suffix of it that starts at a line boundary
    /// and holds at least the entries of the last message (a transport that writes each
    /// message's entries together, as one write, reads for example the last MiB). Like
    /// [`Chain::resume`] it drops a torn last line; then, when the last message in the
    /// tail (its `decision` entry and what follows it) lacks one of its obligations — its
    /// sealing was cut by the crash, so it was never acknowledged — it drops that
    /// message's lines too. [`Recovery::keep`] says where to cut the file.
    ///
    /// Only the *last* message is dropped: an incomplete message further up was not cut
    /// by a crash of a writer that seals each message in one write, and stays for the
    /// verifier to report. A damaged line that is not at the end is an error, as in
    /// [`Chain::resume`].
    ///
    /// ```
    /// use mail_journal::seal::*;
    /// use mail_journal::Timestamp;
    /// let t = Timestamp::from_unix(1_795_342_443);
    /// let mut chain = Chain::new("mx1", ChainConfig::new())?;
    /// let key = "archive/2026/11/22/alice@example.com/Q1.eml";
    /// let o = Obligations::new([key], ["ndr@example.com"], 1);
    /// let mut file = String::new();
    /// let (msg, l) = chain.decision("Q1", [b"message"], &o, t)?;
    /// file += l.as_str();
    /// file += chain.archive(&msg, key, [b"record"], t)?.as_str();
    /// file += chain.tracking(&msg, "tracking/MSGTRK20261122-mx1.LOG", 100, [b"row\r\n"], t)?.as_str();
    /// file += chain.handover(&msg, "ndr@example.com", "250 2.0.0 Ok", [b"copy"], t)?.as_str();
    /// let whole = file.len();
    /// // The next message's decision and archive entry reached the file, then the crash.
    /// let (msg, l) = chain.decision("Q2", [b"message"], &o, t)?;
    /// file += l.as_str();
    /// file += chain.archive(&msg, "archive/2026/11/22/alice@example.com/Q1.eml", [b"r"], t)?.as_str();
    ///
    /// let r = Chain::recover("mx1", ChainConfig::new(), file.as_bytes()).map_err(|e| e.to_string())?;
    /// assert_eq!(r.keep, whole);
    /// assert_eq!(r.cut_messages, ["Q2"]);
    /// assert_eq!(r.chain.seq(), 5);
    /// assert_eq!(r.tracking_ends["tracking/MSGTRK20261122-mx1.LOG"], 105);
    /// assert_eq!(r.archive.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recover(node: &str, config: ChainConfig, tail: &[u8]) -> Result<Recovery, ResumeError> {
        // The torn last line first: `resume` knows what it is.
        let probe = Chain::resume(node, config.clone(), tail)?;
        let whole = tail.len() - probe.torn_bytes;
        let kept = tail.get(..whole).unwrap_or_default();
        // (start offset, line) of every complete line.
        let mut lines = Vec::new();
        let mut start = 0usize;
        for piece in kept.split_inclusive(|&b| b == b'\n') {
            let body = piece.strip_suffix(b"\n").unwrap_or(piece);
            lines.push((start, body));
            start += piece.len();
        }
        let mut parsed = Vec::with_capacity(lines.len());
        for (i, (_, line)) in lines.iter().enumerate() {
            match parse(line) {
                Ok(p) if p.intact() => parsed.push(p),
                other => {
                    let reason = match other {
                        Ok(_) => "its hash does not match its content".to_owned(),
                        Err(e) => e,
                    };
                    return Err(ResumeError::Corrupt {
                        node: node.to_owned(),
                        reason: format!("line {} of the tail: {reason}", i + 1),
                        excerpt: String::from_utf8_lossy(line.get(..80).unwrap_or(line))
                            .into_owned(),
                    });
                }
            }
        }
        // The last decision in the tail and what it still needs.
        let mut last: Option<(u64, Open<'_>)> = None;
        for (i, p) in parsed.iter().enumerate() {
            match &p.entry.body {
                Body::Decision {
                    envelope,
                    archive,
                    journal,
                    rows,
                    ..
                } => {
                    last = Some((
                        p.entry.seq,
                        Open {
                            envelope: envelope.to_string(),
                            line: i,
                            archive: archive.iter().map(|k| &**k).collect(),
                            journal: journal.iter().map(|k| &**k).collect(),
                            rows: *rows,
                        },
                    ));
                }
                body => {
                    let Some((seq, open)) = last.as_mut() else {
                        continue;
                    };
                    if body.msg() != Some(*seq) {
                        continue;
                    }
                    match body {
                        Body::Archive { key, .. } => {
                            if let Some(at) = open.archive.iter().position(|k| *k == &**key) {
                                open.archive.swap_remove(at);
                            }
                        }
                        Body::Handover {
                            reverse_path,
                            reply,
                            ..
                        } if is_2xx(reply) => {
                            if let Some(at) =
                                open.journal.iter().position(|k| *k == &**reverse_path)
                            {
                                open.journal.swap_remove(at);
                            }
                        }
                        Body::Tracking { rows, .. } => {
                            open.rows = open.rows.saturating_sub(*rows);
                        }
                        _ => {}
                    }
                }
            }
        }
        let (cut_line, cut_messages) = match last {
            Some((_, open)) if !open.complete() => (open.line, vec![open.envelope]),
            _ => (parsed.len(), Vec::new()),
        };
        let keep = lines.get(cut_line).map_or(whole, |(offset, _)| *offset);
        let mut archive = Vec::new();
        let mut tracking_ends = BTreeMap::new();
        for p in parsed.iter().take(cut_line) {
            match &p.entry.body {
                Body::Archive {
                    envelope,
                    key,
                    sha256,
                    size,
                    ..
                } => archive.push(SealedArchive {
                    seq: p.entry.seq,
                    envelope: envelope.to_string(),
                    key: key.to_string(),
                    sha256: *sha256,
                    size: *size,
                }),
                Body::Tracking { key, .. } => {
                    if let Some((file, offset, len)) = parse_range_key(key) {
                        let end = tracking_ends.entry(file.to_owned()).or_insert(0u64);
                        *end = (*end).max(offset.saturating_add(len));
                    }
                }
                _ => {}
            }
        }
        let chain = Chain::resume(node, config, tail.get(..keep).unwrap_or_default())?.chain;
        Ok(Recovery {
            chain,
            keep,
            cut_messages,
            archive,
            tracking_ends,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::obligations::Obligations;
    use crate::time::Timestamp;

    const T: Timestamp = Timestamp::from_unix(1_795_342_443);
    const LOG: &str = "tracking/MSGTRK20261122-mx1.LOG";

    /// One message's lines, its journal copy sealed only when `journal` is set.
    fn message(chain: &mut Chain, id: &str, offset: u64, journal: bool) -> String {
        let key = format!("archive/{id}.eml");
        let o = Obligations::new([key.clone()], ["ndr@example.com"], 1);
        let (m, a) = chain.decision(id, [b"msg"], &o, T).unwrap();
        let mut s = a.into_string();
        s += chain.archive(&m, &key, [b"rec"], T).unwrap().as_str();
        s += chain
            .tracking(&m, LOG, offset, [b"row\r\n"], T)
            .unwrap()
            .as_str();
        if journal {
            s += chain
                .handover(&m, "ndr@example.com", "250 ok", [b"copy"], T)
                .unwrap()
                .as_str();
        }
        s
    }

    #[test]
    fn a_clean_file_is_kept_whole() {
        let mut chain = Chain::new("mx1", ChainConfig::new()).unwrap();
        let text = message(&mut chain, "Q1", 10, true) + &message(&mut chain, "Q2", 15, true);
        let r = Chain::recover("mx1", ChainConfig::new(), text.as_bytes()).unwrap();
        assert_eq!(r.keep, text.len());
        assert!(r.cut_messages.is_empty());
        assert_eq!((r.chain.seq(), r.chain.head()), (chain.seq(), chain.head()));
        assert_eq!(r.tracking_ends.get(LOG), Some(&20));
        let keys: Vec<&str> = r.archive.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["archive/Q1.eml", "archive/Q2.eml"]);
        // An empty file: a new chain.
        let r = Chain::recover("mx1", ChainConfig::new(), b"").unwrap();
        assert_eq!((r.keep, r.chain.seq()), (0, 0));
    }

    #[test]
    fn an_interrupted_message_is_cut_with_its_torn_line() {
        let mut chain = Chain::new("mx1", ChainConfig::new().checkpoint_every(2)).unwrap();
        let first = message(&mut chain, "Q1", 10, true);
        // Every cut of the second message's lines — at any byte — keeps exactly Q1.
        let second = message(&mut chain, "Q2", 15, true);
        for cut in 0..second.len() {
            let text = format!("{first}{}", &second[..cut]);
            let r = Chain::recover("mx1", ChainConfig::new(), text.as_bytes()).unwrap();
            let end_of = |kind: &str| {
                second
                    .split_inclusive('\n')
                    .scan(0, |end, l| {
                        *end += l.len();
                        Some((*end, l.contains(&format!("\"kind\":\"{kind}\""))))
                    })
                    .find(|(_, d)| *d)
                    .map(|(end, _)| end)
                    .unwrap()
            };
            // Q2 is whole once its hand-over line is; an interval checkpoint after it
            // may still be torn.
            let complete = cut >= end_of("handover");
            let want = if complete {
                first.len() + second[..cut].rfind('\n').map_or(0, |i| i + 1)
            } else {
                first.len()
            };
            assert_eq!(r.keep, want, "cut at {cut}");
            let whole_decision = cut >= end_of("decision") && !complete;
            assert_eq!(
                r.cut_messages.len(),
                usize::from(whole_decision),
                "cut at {cut}"
            );
            let end = if complete { 20 } else { 15 };
            assert_eq!(r.tracking_ends.get(LOG), Some(&end), "cut at {cut}");
        }
        // The whole second message: nothing cut.
        let text = format!("{first}{second}");
        let r = Chain::recover("mx1", ChainConfig::new(), text.as_bytes()).unwrap();
        assert_eq!(r.keep, text.len());
        // The resumed chain links to Q1's last entry.
        let text = format!("{first}{}", &second[..second.find("\"handover\"").unwrap()]);
        let mut r = Chain::recover("mx1", ChainConfig::new(), text.as_bytes()).unwrap();
        let before = Chain::resume("mx1", ChainConfig::new(), first.as_bytes())
            .unwrap()
            .chain;
        assert_eq!(
            (r.chain.seq(), r.chain.head()),
            (before.seq(), before.head())
        );
        let more = message(&mut r.chain, "Q3", 15, true);
        let all = format!("{}{more}", &text[..r.keep]);
        let report = crate::seal::verify::Verifier::new()
            .chain("mx1", all.as_bytes())
            .verify(&std::collections::BTreeMap::from([
                ("archive/Q1.eml".to_owned(), b"rec".to_vec()),
                ("archive/Q3.eml".to_owned(), b"rec".to_vec()),
                (LOG.to_owned(), b"#preamble\r\nrow\r\nrow\r\n"[..].to_vec()),
            ]));
        let codes: Vec<_> = report.findings.iter().map(|f| f.kind.code()).collect();
        // The log in this test is synthetic (offsets 10 and 15 do not match it); the
        // chain itself is whole.
        assert!(
            !codes.iter().any(|c| matches!(
                *c,
                "broken_link" | "missing_entries" | "incomplete" | "malformed_line"
            )),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn only_the_last_message_is_cut() {
        let mut chain = Chain::new("mx1", ChainConfig::new()).unwrap();
        // Q1 lacks its journal hand-over but is not last: the verifier's to report.
        let text = message(&mut chain, "Q1", 10, false) + &message(&mut chain, "Q2", 15, true);
        let r = Chain::recover("mx1", ChainConfig::new(), text.as_bytes()).unwrap();
        assert_eq!(r.keep, text.len());
        // A damaged line above the end is not a crash: a human must look.
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines[2] = lines[2].replace("\"size\":3", "\"size\":4");
        let bad = lines.join("\n") + "\n";
        assert!(matches!(
            Chain::recover("mx1", ChainConfig::new(), bad.as_bytes()),
            Err(ResumeError::Corrupt { .. })
        ));
    }
}
