//! Property tests of the seal: generated stores (one or two nodes, messages with varying
//! obligations, interval and day checkpoints, signed or not) verify cleanly untouched,
//! and every single alteration, deletion, insertion, reordering or truncation is found
//! at its place.
#![cfg(feature = "seal")]

use std::collections::BTreeMap;

use mail_journal::Timestamp;
use mail_journal::seal::*;
use proptest::prelude::*;

const T0: i64 = 1_795_342_443; // 2026-11-22T10:14:03Z

#[derive(Clone, Debug)]
struct MsgSpec {
    archive: usize,
    journal: usize,
    rows: usize,
    /// Seconds after the previous message.
    gap: i64,
    /// A 4xx hand-over before each 2xx one.
    retry: bool,
}

#[derive(Clone, Debug)]
struct Spec {
    nodes: Vec<Vec<MsgSpec>>,
    every: u64,
    signed: bool,
}

fn msg_spec() -> impl Strategy<Value = MsgSpec> {
    (
        0usize..=2,
        0usize..=2,
        1usize..=3,
        prop_oneof![Just(0i64), 1i64..600, 20_000i64..90_000],
        any::<bool>(),
    )
        .prop_map(|(archive, journal, rows, gap, retry)| MsgSpec {
            archive,
            journal,
            rows,
            gap,
            retry,
        })
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(prop::collection::vec(msg_spec(), 1..=6), 1..=2),
        prop_oneof![Just(0u64), 2u64..=7],
        any::<bool>(),
    )
        .prop_map(|(nodes, every, signed)| Spec {
            nodes,
            every,
            signed,
        })
}

/// What one chain line is.
#[derive(Clone, Debug)]
struct Info {
    seq: u64,
    kind: String,
}

#[derive(Clone, Debug)]
struct Message {
    node: usize,
    decision: u64,
    handovers: Vec<u64>,
}

#[derive(Clone, Debug)]
struct Built {
    nodes: Vec<String>,
    chains: Vec<String>,
    infos: Vec<Vec<Info>>,
    store: BTreeMap<String, Vec<u8>>,
    archive_keys: Vec<String>,
    anchors: String,
    messages: Vec<Message>,
    end: Timestamp,
    key: SigningKey,
}

fn info_of(line: &str) -> Info {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    Info {
        seq: v["seq"].as_u64().unwrap(),
        kind: v["kind"].as_str().unwrap().to_owned(),
    }
}

fn build(spec: &Spec) -> Built {
    let key = signing_key_from_seed([7; 32]);
    let mut b = Built {
        nodes: vec![],
        chains: vec![],
        infos: vec![],
        store: BTreeMap::new(),
        archive_keys: vec![],
        anchors: String::new(),
        messages: vec![],
        end: Timestamp::from_unix(T0),
        key: key.clone(),
    };
    // Every node closes its chain at the same time, the end of the audited period.
    let end = T0
        + spec
            .nodes
            .iter()
            .map(|m| m.iter().map(|s| s.gap).sum::<i64>())
            .max()
            .unwrap_or(0);
    for (n, msgs) in spec.nodes.iter().enumerate() {
        let node = format!("mx{}", n + 1);
        let mut config = ChainConfig::new().checkpoint_every(spec.every);
        if spec.signed {
            config = config.signing_key(key.clone());
        }
        let mut chain = Chain::new(&node, config).unwrap();
        let mut text = String::new();
        let add = |lines: Lines, text: &mut String, anchors: &mut String| -> Option<u64> {
            for cp in lines.checkpoints() {
                anchors.push_str(&cp.anchor_line());
                anchors.push('\n');
            }
            text.push_str(lines.as_str());
            lines
                .as_str()
                .lines()
                .map(info_of)
                .find(|i| i.kind != "checkpoint")
                .map(|i| i.seq)
        };
        let mut t = T0;
        for (m, spec) in msgs.iter().enumerate() {
            t += spec.gap;
            let at = Timestamp::from_unix(t);
            let id = format!("{node}-Q{m}");
            let keys: Vec<String> = (0..spec.archive)
                .map(|a| format!("archive/2026/{node}/{id}.{a}.eml"))
                .collect();
            let senders: Vec<String> = (0..spec.journal)
                .map(|j| format!("ndr{j}@example.com"))
                .collect();
            let o = Obligations::new(keys.clone(), senders.clone(), spec.rows as u64);
            let message = format!("Subject: {id}\r\n\r\nbody {m}\r\n");
            let (msg, lines) = chain.decision(&id, [message.as_bytes()], &o, at).unwrap();
            add(lines, &mut text, &mut b.anchors);
            for k in &keys {
                let record = format!("X-Sender: <a@example.com>\r\n\r\n{k} {message}").into_bytes();
                let lines = chain.archive(&msg, k, [&record], at).unwrap();
                add(lines, &mut text, &mut b.anchors);
                b.store.insert(k.clone(), record);
                b.archive_keys.push(k.clone());
            }
            let log = tracking_log_path(&node, at);
            let file = b
                .store
                .entry(log.clone())
                .or_insert_with(|| b"#Software: test\r\n#Fields: a,b\r\n".to_vec());
            let offset = file.len() as u64;
            let rows: String = (0..spec.rows).map(|r| format!("{id},row{r}\r\n")).collect();
            file.extend_from_slice(rows.as_bytes());
            let lines = chain
                .tracking(&msg, &log, offset, [rows.as_bytes()], at)
                .unwrap();
            add(lines, &mut text, &mut b.anchors);
            let mut handovers = vec![];
            for s in &senders {
                if spec.retry {
                    let lines = chain
                        .handover(&msg, s, "451 4.3.0 try again later", [b"copy"], at)
                        .unwrap();
                    add(lines, &mut text, &mut b.anchors);
                }
                let lines = chain
                    .handover(&msg, s, "250 2.0.0 Ok: queued as 4ABC", [b"copy"], at)
                    .unwrap();
                handovers.extend(add(lines, &mut text, &mut b.anchors));
            }
            b.messages.push(Message {
                node: n,
                decision: msg.seq(),
                handovers,
            });
        }
        let lines = chain.checkpoint(Timestamp::from_unix(end)).unwrap();
        add(lines, &mut text, &mut b.anchors);
        b.infos.push(text.lines().map(info_of).collect());
        b.nodes.push(node);
        b.chains.push(text);
    }
    b.end = Timestamp::from_unix(end);
    b
}

fn verify_with(b: &Built, key: Option<VerifyingKey>, closed: bool) -> Report {
    let mut v = Verifier::new().anchors("anchors", &b.anchors);
    for (node, text) in b.nodes.iter().zip(&b.chains) {
        v = v.chain(node, text.as_bytes());
    }
    if let Some(k) = key {
        v = v.public_key(k);
    }
    if closed {
        v = v.closed_until(b.end);
    }
    v.verify(&b.store)
}

fn verify(b: &Built) -> Report {
    verify_with(b, Some(b.key.verifying_key()), true)
}

fn verify_spec(spec: &Spec, b: &Built) -> Report {
    verify_with(b, spec.signed.then(|| b.key.verifying_key()), true)
}

fn show(r: &Report) -> String {
    r.findings
        .iter()
        .map(|f| format!("  {f}\n"))
        .collect::<String>()
}

fn lines_of(text: &str) -> Vec<String> {
    text.lines().map(|l| format!("{l}\n")).collect()
}

/// Every finding belongs to node `n` (its chain or its records).
fn only_node(b: &Built, r: &Report, n: usize) -> bool {
    let node = &b.nodes[n];
    r.findings.iter().all(|f| {
        f.node.as_deref() == Some(node.as_str())
            || f.key.as_deref().is_some_and(|k| k.contains(node.as_str()))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn untouched_stores_verify_cleanly(spec in spec()) {
        let b = build(&spec);
        let r = verify_spec(&spec, &b);
        prop_assert!(r.is_clean(), "{}", show(&r));
        let messages: usize = spec.nodes.iter().map(Vec::len).sum();
        prop_assert_eq!(r.summary.messages, messages as u64);
        prop_assert_eq!(r.summary.complete, messages as u64);
        let copies: usize = spec.nodes.iter().flatten().map(|m| m.journal).sum();
        prop_assert_eq!(r.summary.journal_copies, copies as u64);
        let records: usize = spec.nodes.iter().flatten().map(|m| m.archive).sum();
        prop_assert_eq!(r.summary.records, records as u64);
        prop_assert_eq!(r.summary.nodes, spec.nodes.len() as u64);
        prop_assert!(r.summary.checkpoints >= spec.nodes.len() as u64 * 2);
        let first_gap = spec.nodes.iter().map(|m| m[0].gap).min().unwrap();
        prop_assert_eq!(r.summary.first, Some(Timestamp::from_unix(T0 + first_gap)));
        prop_assert_eq!(r.summary.last, Some(b.end));
    }

    #[test]
    fn an_altered_record_byte_is_named(spec in spec(), pick in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>(), x in 1u8..=255) {
        let mut b = build(&spec);
        prop_assume!(!b.archive_keys.is_empty());
        let key = pick.get(&b.archive_keys).clone();
        let record = b.store.get_mut(&key).unwrap();
        let i = pos.index(record.len());
        record[i] ^= x;
        let r = verify_spec(&spec, &b);
        prop_assert_eq!(r.findings.len(), 1, "{}", show(&r));
        prop_assert_eq!(r.findings[0].kind.code(), "altered_record");
        prop_assert_eq!(r.findings[0].key.as_deref(), Some(key.as_str()));
    }

    #[test]
    fn an_altered_tracking_row_is_named(spec in spec(), pick in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>()) {
        let mut b = build(&spec);
        let logs: Vec<String> = b.store.keys().filter(|k| k.starts_with("tracking/")).cloned().collect();
        let log = pick.get(&logs).clone();
        let preamble = b"#Software: test\r\n#Fields: a,b\r\n".len();
        let bytes = b.store.get_mut(&log).unwrap();
        let i = preamble + pos.index(bytes.len() - preamble);
        bytes[i] = if bytes[i] == b'X' { b'Y' } else { b'X' };
        let r = verify_spec(&spec, &b);
        prop_assert_eq!(r.findings.len(), 1, "{}", show(&r));
        let f = &r.findings[0];
        prop_assert_eq!(f.kind.code(), "altered_record");
        let key = f.key.as_deref().unwrap();
        let (file, range) = key.rsplit_once('#').unwrap();
        prop_assert_eq!(file, log.as_str());
        let (off, len) = range.split_once('+').unwrap();
        let (off, len): (usize, usize) = (off.parse().unwrap(), len.parse().unwrap());
        prop_assert!(off <= i && i < off + len, "byte {} outside {}", i, key);
    }

    #[test]
    fn a_deleted_or_inserted_record_is_named(spec in spec(), pick in any::<prop::sample::Index>(), delete in any::<bool>()) {
        let mut b = build(&spec);
        let key = if delete {
            prop_assume!(!b.archive_keys.is_empty());
            let key = pick.get(&b.archive_keys).clone();
            b.store.remove(&key);
            key
        } else if pick.index(2) == 0 {
            let key = format!("archive/2026/{}/unsealed.eml", b.nodes[0]);
            b.store.insert(key.clone(), b"X-Sender: <x@example.com>\r\n\r\nhidden\r\n".to_vec());
            key
        } else {
            let log = b.store.keys().find(|k| k.starts_with("tracking/")).cloned().unwrap();
            let bytes = b.store.get_mut(&log).unwrap();
            let at = bytes.len();
            bytes.extend_from_slice(b"forged,row\r\n");
            format!("{log}#{at}+12")
        };
        let r = verify_spec(&spec, &b);
        prop_assert_eq!(r.findings.len(), 1, "{}", show(&r));
        prop_assert_eq!(r.findings[0].kind.code(), if delete { "missing_record" } else { "unexpected_record" });
        prop_assert_eq!(r.findings[0].key.as_deref(), Some(key.as_str()));
    }

    #[test]
    fn an_altered_character_of_any_line_is_located(spec in spec(), node in any::<prop::sample::Index>(), line in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>(), c in prop::sample::select(&b"0123456789abcdefz\"{}:,\\ X"[..])) {
        let mut b = build(&spec);
        let n = node.index(b.chains.len());
        let mut lines = lines_of(&b.chains[n]);
        let l = line.index(lines.len());
        let mut bytes = lines[l].clone().into_bytes();
        let i = pos.index(bytes.len() - 1); // not the newline
        prop_assume!(bytes[i] != c);
        bytes[i] = c;
        lines[l] = String::from_utf8(bytes).unwrap();
        b.chains[n] = lines.concat();
        let r = verify_spec(&spec, &b);
        let seq = b.infos[n][l].seq;
        prop_assert!(
            r.findings.iter().any(|f| f.node.as_deref() == Some(b.nodes[n].as_str())
                && f.seq == Some(seq) && f.line == Some(l as u64 + 1)
                && matches!(f.kind.code(), "altered_entry" | "malformed_line")),
            "line {} (seq {}) altered at {}:\n{}", l + 1, seq, i, show(&r)
        );
        prop_assert!(only_node(&b, &r, n), "{}", show(&r));
    }

    #[test]
    fn a_deleted_line_is_located(spec in spec(), node in any::<prop::sample::Index>(), line in any::<prop::sample::Index>()) {
        let mut b = build(&spec);
        let n = node.index(b.chains.len());
        let mut lines = lines_of(&b.chains[n]);
        // Not the last line: that is a truncation (below).
        let l = line.index(lines.len() - 1);
        lines.remove(l);
        b.chains[n] = lines.concat();
        let r = verify_spec(&spec, &b);
        let seq = b.infos[n][l].seq;
        prop_assert!(
            r.findings.iter().any(|f| f.kind == FindingKind::MissingEntries { from: seq, to: seq }
                && f.seq == Some(seq) && f.node.as_deref() == Some(b.nodes[n].as_str())),
            "deleted line {} (seq {}):\n{}", l + 1, seq, show(&r)
        );
        prop_assert!(only_node(&b, &r, n), "{}", show(&r));
    }

    #[test]
    fn an_inserted_line_is_located(spec in spec(), node in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), from in any::<prop::sample::Index>(), from_node in any::<prop::sample::Index>(), garbage in any::<bool>()) {
        let mut b = build(&spec);
        let n = node.index(b.chains.len());
        let src_node = from_node.index(b.chains.len());
        let src = lines_of(&b.chains[src_node]);
        let s = from.index(src.len());
        let inserted = if garbage { "{\"v\":1,\"seq\":3}\n".to_owned() } else { src[s].clone() };
        let mut lines = lines_of(&b.chains[n]);
        let a = at.index(lines.len()); // before the last line: never a clean extension
        lines.insert(a, inserted);
        b.chains[n] = lines.concat();
        let r = verify_spec(&spec, &b);
        let node_name = b.nodes[n].as_str();
        let located = r.findings.iter().any(|f| {
            f.node.as_deref() == Some(node_name) && (
                f.line == Some(a as u64 + 1)
                // A copy of a line of the same chain: the two lines are identical, and
                // the verifier names the sequence number and one of them.
                || (!garbage && src_node == n && f.kind == FindingKind::DuplicateEntry
                    && f.seq == Some(b.infos[n][s].seq))
            )
        });
        prop_assert!(located, "inserted at line {} (copy of {}:{}):\n{}", a + 1, src_node, s + 1, show(&r));
        prop_assert!(only_node(&b, &r, n), "{}", show(&r));
    }

    #[test]
    fn swapped_lines_are_named(spec in spec(), node in any::<prop::sample::Index>(), i in any::<prop::sample::Index>(), j in any::<prop::sample::Index>()) {
        let mut b = build(&spec);
        let n = node.index(b.chains.len());
        let mut lines = lines_of(&b.chains[n]);
        let (i, j) = (i.index(lines.len()), j.index(lines.len()));
        prop_assume!(i != j);
        lines.swap(i, j);
        b.chains[n] = lines.concat();
        let r = verify_spec(&spec, &b);
        prop_assert_eq!(r.findings.len(), 1, "{}", show(&r));
        let (si, sj) = (b.infos[n][i].seq, b.infos[n][j].seq);
        let mut expected = vec![(i as u64 + 1, sj), (j as u64 + 1, si)];
        expected.sort();
        prop_assert_eq!(&r.findings[0].kind, &FindingKind::OutOfOrder { entries: expected });
        prop_assert_eq!(r.findings[0].node.as_deref(), Some(b.nodes[n].as_str()));
    }

    #[test]
    fn a_truncated_chain_is_found(spec in spec(), node in any::<prop::sample::Index>(), keep in any::<prop::sample::Index>(), mid_line in any::<bool>()) {
        let mut b = build(&spec);
        let n = node.index(b.chains.len());
        let text = b.chains[n].clone();
        let lines = lines_of(&text);
        let k = keep.index(lines.len()); // keep 0..len-1 whole lines
        let mut cut: String = lines[..k].concat();
        if mid_line {
            let next = &lines[k];
            cut.push_str(&next[..next.len() / 2]);
        }
        b.chains[n] = cut;
        let r = verify_spec(&spec, &b);
        let node_name = b.nodes[n].as_str();
        prop_assert!(
            r.findings.iter().any(|f| f.node.as_deref() == Some(node_name)
                && (f.kind.code() == "truncated"
                    || (mid_line && f.line == Some(k as u64 + 1) && f.kind.code() == "malformed_line"))),
            "kept {} lines:\n{}", k, show(&r)
        );
    }

    #[test]
    fn truncation_after_the_last_anchor_needs_closed_until(spec in spec(), node in any::<prop::sample::Index>(), keep in any::<prop::sample::Index>()) {
        // The final checkpoint was never anchored: cut the chain anywhere after the last
        // anchored one. What shows then is what the lost entries sealed: incomplete
        // messages, records no entry seals any more, and with `closed_until` a chain
        // that does not end on a late enough checkpoint.
        let mut b = build(&spec);
        let n = node.index(b.chains.len());
        let tag = format!("node={} ", b.nodes[n]);
        let last_anchor = b.anchors.lines().rfind(|l| l.contains(&tag)).unwrap().to_owned();
        b.anchors = b.anchors.lines().filter(|l| *l != last_anchor).map(|l| format!("{l}\n")).collect();
        let anchored: Vec<u64> = b.anchors.lines().filter(|l| l.contains(&tag))
            .map(|l| Checkpoint::parse_anchor(l).unwrap().count() + 1).collect();
        let lines = lines_of(&b.chains[n]);
        let from = anchored.last().map_or(0, |&seq| b.infos[n].iter().position(|i| i.seq == seq).unwrap() + 1);
        let k = from + keep.index(lines.len() - from); // keep k lines, k < len
        let lost_entries = b.infos[n][k..].iter().any(|i| i.kind != "checkpoint");
        b.chains[n] = lines[..k].concat();
        let key = spec.signed.then(|| b.key.verifying_key());
        let closed = verify_with(&b, key, true);
        let node_name = b.nodes[n].as_str();
        if lost_entries {
            prop_assert!(closed.findings.iter().any(|f| (f.node.as_deref() == Some(node_name)
                    || f.key.as_deref().is_some_and(|k| k.contains(node_name)))
                && matches!(f.kind.code(), "truncated" | "incomplete" | "unexpected_record")),
                "kept {} lines:\n{}", k, show(&closed));
        }
        prop_assert!(only_node(&b, &closed, n), "{}", show(&closed));
        let open = verify_with(&b, key, false);
        prop_assert!(open.findings.iter().all(|f| matches!(f.kind.code(), "incomplete" | "unexpected_record")), "{}", show(&open));
        if k == lines.len() - 1 {
            // Only the final checkpoint went: nothing at all shows without `closed_until`.
            prop_assert!(open.is_clean(), "{}", show(&open));
        }
    }

    #[test]
    fn a_wrong_public_key_fails_every_checkpoint(spec in spec()) {
        let mut spec = spec;
        spec.signed = true;
        let b = build(&spec);
        prop_assert!(verify(&b).is_clean());
        let other = signing_key_from_seed([8; 32]).verifying_key();
        let r = verify_with(&b, Some(other), true);
        prop_assert!(!r.is_clean());
        prop_assert!(r.findings.iter().all(|f| f.kind.code() == "bad_signature"), "{}", show(&r));
        prop_assert_eq!(r.findings.len() as u64, r.summary.checkpoints + r.summary.anchors);
        // Unsigned chains fail a key check too.
        spec.signed = false;
        let unsigned = build(&spec);
        let r = verify_with(&unsigned, Some(b.key.verifying_key()), true);
        prop_assert!(!r.is_clean() && r.findings.iter().all(|f| f.kind.code() == "bad_signature"));
    }

    #[test]
    fn dropping_a_handover_makes_exactly_that_message_incomplete(spec in spec(), pick in any::<prop::sample::Index>()) {
        let mut b = build(&spec);
        let with_copies: Vec<Message> = b.messages.iter().filter(|m| !m.handovers.is_empty()).cloned().collect();
        prop_assume!(!with_copies.is_empty());
        let m = pick.get(&with_copies).clone();
        let seq = m.handovers[pick.index(m.handovers.len())];
        let n = m.node;
        let l = b.infos[n].iter().position(|i| i.seq == seq).unwrap();
        let mut lines = lines_of(&b.chains[n]);
        lines.remove(l);
        b.chains[n] = lines.concat();
        let r = verify_spec(&spec, &b);
        let incomplete: Vec<&Finding> = r.findings.iter().filter(|f| f.kind.code() == "incomplete").collect();
        prop_assert_eq!(incomplete.len(), 1, "{}", show(&r));
        prop_assert_eq!(incomplete[0].seq, Some(m.decision));
        prop_assert_eq!(incomplete[0].node.as_deref(), Some(b.nodes[n].as_str()));
        // Besides it, only the gap where the hand-over was.
        prop_assert!(r.findings.iter().all(|f| f.kind.code() == "incomplete"
            || f.kind == FindingKind::MissingEntries { from: seq, to: seq }), "{}", show(&r));
        prop_assert_eq!(r.summary.complete, r.summary.messages - 1);
    }
}

#[test]
fn a_message_without_its_tracking_rows_is_incomplete() {
    let spec = Spec {
        nodes: vec![vec![MsgSpec {
            archive: 1,
            journal: 1,
            rows: 2,
            gap: 0,
            retry: false,
        }]],
        every: 0,
        signed: false,
    };
    let mut b = build(&spec);
    let l = b.infos[0]
        .iter()
        .position(|i| i.kind == "tracking")
        .unwrap();
    let mut lines = lines_of(&b.chains[0]);
    lines.remove(l);
    b.chains[0] = lines.concat();
    let r = verify_spec(&spec, &b);
    let mut codes: Vec<&str> = r.findings.iter().map(|f| f.kind.code()).collect();
    codes.sort();
    assert_eq!(
        codes,
        ["incomplete", "missing_entries", "unexpected_record"],
        "{}",
        show(&r)
    );
    let incomplete = r
        .findings
        .iter()
        .find(|f| f.kind.code() == "incomplete")
        .unwrap();
    assert!(
        incomplete
            .to_string()
            .contains("tracking rows (0 of 2 sealed)"),
        "{incomplete}"
    );
}

/// The chain format re-implemented from its documentation alone: lines written here
/// verify, and the checkpoint rules catch a writer that skips them.
mod independent_writer {
    use super::*;
    use sha2::{Digest, Sha256};

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    struct W {
        seq: u64,
        prev: String,
        text: String,
    }

    impl W {
        fn new() -> Self {
            W {
                seq: 0,
                prev: "0".repeat(64),
                text: String::new(),
            }
        }
        /// `rest` are the kind's members, already encoded, each starting with `,`.
        fn entry(&mut self, kind: &str, time: &str, rest: &str) {
            self.seq += 1;
            let object = format!(
                r#"{{"v":1,"seq":{},"prev":"{}","kind":"{kind}","node":"mx1","time":"{time}"{rest}}}"#,
                self.seq, self.prev
            );
            let hash = hex(&Sha256::digest(object.as_bytes()));
            self.text += &format!("{},\"hash\":\"{hash}\"}}\n", &object[..object.len() - 1]);
            self.prev = hash;
        }
        fn checkpoint(&mut self, reason: &str, every: u64, time: &str) {
            let rest = format!(
                r#","reason":"{reason}","every":{every},"count":{},"head":"{}","sig":"""#,
                self.seq, self.prev
            );
            self.entry("checkpoint", time, &rest);
        }
        fn decision(&mut self, id: &str, time: &str) {
            let rest = format!(
                r#","envelope":"{id}","sha256":"{}","size":1,"archive":[],"journal":[],"rows":0"#,
                hex(&Sha256::digest(b"m"))
            );
            self.entry("decision", time, &rest);
        }
    }

    fn findings(text: &str) -> Vec<String> {
        let store = BTreeMap::new();
        Verifier::new()
            .chain("mx1", text.as_bytes())
            .verify(&store)
            .findings
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn documented_format_verifies() {
        let mut w = W::new();
        w.checkpoint("open", 2, "2026-11-22T10:14:03Z");
        w.decision("Q1", "2026-11-22T10:14:03Z");
        w.decision("Q2", "2026-11-22T11:00:00Z");
        w.checkpoint("interval", 2, "2026-11-22T11:00:00Z");
        w.checkpoint("day", 2, "2026-11-22T23:59:59Z");
        w.decision("Q3", "2026-11-23T08:00:00Z");
        assert_eq!(findings(&w.text), Vec::<String>::new());
        // The library's own writer produces the same bytes.
        let mut chain = Chain::new("mx1", ChainConfig::new().checkpoint_every(2)).unwrap();
        let o = Obligations::new(Vec::<String>::new(), Vec::<String>::new(), 0);
        let mut mine = String::new();
        for (id, t) in [("Q1", 0), ("Q2", 2757), ("Q3", 78_357)] {
            let at = Timestamp::from_unix(T0 + t);
            mine += chain.decision(id, [b"m"], &o, at).unwrap().1.as_str();
        }
        assert_eq!(mine, w.text);
    }

    #[test]
    fn skipped_checkpoints_are_found() {
        let mut w = W::new();
        w.checkpoint("open", 2, "2026-11-22T10:14:03Z");
        w.decision("Q1", "2026-11-22T10:14:03Z");
        w.decision("Q2", "2026-11-22T10:15:00Z");
        w.decision("Q3", "2026-11-22T10:16:00Z"); // a third without the interval checkpoint
        w.decision("Q4", "2026-11-23T10:16:00Z"); // a new day without the day checkpoint
        w.checkpoint("day", 2, "2026-11-23T12:00:00Z"); // a day checkpoint at the wrong time
        assert_eq!(
            findings(&w.text),
            [
                "node=mx1 seq=4 line=4: checkpoint missing: more than 2 entries since the last checkpoint",
                "node=mx1 seq=5 line=5: checkpoint missing: no day checkpoint between 2026-11-22T10:16:00Z and 2026-11-23T10:16:00Z",
                "node=mx1 seq=6 line=6: bad checkpoint: a day checkpoint after an entry at 2026-11-23T10:16:00Z has time 2026-11-23T12:00:00Z, not 2026-11-23T23:59:59Z",
            ]
        );
    }

    #[test]
    fn a_chain_must_start_with_an_open_checkpoint() {
        let mut w = W::new();
        w.decision("Q1", "2026-11-22T10:14:03Z");
        assert_eq!(
            findings(&w.text),
            [
                "node=mx1 seq=1 line=1: bad checkpoint: the chain does not start with an `open` checkpoint"
            ]
        );
    }
}
