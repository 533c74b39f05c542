//! Property tests over generated policies and envelopes, with a reference model for the
//! subtle parts (list expansion with restrictions, routing admissibility, exemption).

mod common;
mod fuzz_harness;

use std::collections::{BTreeMap, BTreeSet};

use fuzz_harness::generate::*;
use mail_journal::render;
use mail_journal::*;
use proptest::prelude::*;

/// The decision with every list put in a canonical order, for order-independence.
fn normalized(d: &Decision) -> String {
    let mut v = d.clone();
    // Paths name their envelope recipient by position, which a shuffle changes: name it
    // by the rank of its address instead.
    let mut addrs: Vec<Address> = d.verdicts.iter().map(|x| x.recipient.clone()).collect();
    addrs.sort();
    addrs.dedup();
    let canon = |via: &mut Via| {
        let a = &d.verdicts[via.recipient as usize].recipient;
        via.recipient = addrs.binary_search(a).unwrap() as u32;
    };
    v.deliveries.iter_mut().for_each(|x| canon(&mut x.via));
    v.non_deliveries.iter_mut().for_each(|x| canon(&mut x.via));
    v.transfers
        .iter_mut()
        .for_each(|t| t.recipients.iter_mut().for_each(|r| canon(&mut r.via)));
    v.verdicts.sort_by_key(|x| format!("{x:?}"));
    for e in &mut v.tracking {
        e.recipients.sort();
    }
    v.tracking.sort_by_key(|e| format!("{e:?}"));
    format!("{v:?}")
}

/// Reference model: flattened members of a name (users and contacts; lists recursively).
fn model_members(org: &Org, name: &str, out: &mut BTreeSet<String>) {
    if let Some(j) = name
        .strip_prefix("dl")
        .and_then(|j| j.parse::<usize>().ok())
    {
        out.insert(name.to_string());
        for m in &org.lists[j] {
            model_members(org, m, out);
        }
    } else {
        out.insert(name.to_string());
    }
}

fn model_set(org: &Org, refs: &[String]) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    for r in refs {
        model_members(org, r, &mut s);
    }
    s
}

/// Model of restrictions: may `sender` (a directory name, trusted or not) send to `target`?
fn model_admits(
    accept: &Option<Vec<String>>,
    reject: &[String],
    org: &Org,
    sender: Option<&str>,
    trusted: bool,
) -> bool {
    if let Some(s) = sender {
        if model_set(org, reject).contains(s) {
            return false;
        }
    }
    match accept {
        None => true,
        Some(a) => trusted && sender.is_some_and(|s| model_set(org, a).contains(s)),
    }
}

fn model_glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => model_glob(&p[1..], s) || (!s.is_empty() && model_glob(p, &s[1..])),
        (Some(b'%'), Some(_)) => model_glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => model_glob(&p[1..], &s[1..]),
        _ => false,
    }
}

/// Model: the local names that receive the message (delivered), the names refused on
/// the way (non-delivered), and per envelope recipient whether it is accepted.
struct Model {
    accepted: Vec<bool>,
    delivered: BTreeSet<String>,
    external: BTreeSet<String>,
}

fn model(org: &Org, mail: &Mail) -> Model {
    let sender_name = mail
        .from
        .trim_matches(|c| c == '<' || c == '>')
        .strip_suffix("@example.com")
        .filter(|n| n.starts_with('u'))
        .map(str::to_string);
    let trusted = mail.inbound.is_none();
    let sender = sender_name.as_deref();
    let restr_of = |n: &str| org.restrictions.get(n).cloned().unwrap_or((None, vec![]));
    let admits_entry = |n: &str| {
        let (a, r) = restr_of(n);
        model_admits(&a, &r, org, sender, trusted)
    };
    let routable = |addr: &str| {
        org.connectors.iter().any(|c| {
            c.spaces
                .iter()
                .any(|&(p, _)| model_glob(PATTERNS[p].as_bytes(), addr.as_bytes()))
                && model_admits(&c.accept, &c.reject, org, sender, trusted)
        })
    };
    let gate_ok = match mail.inbound {
        Some(i) => org.connectors[i].accepts_inbound,
        None => true,
    };
    let mut m = Model {
        accepted: vec![],
        delivered: BTreeSet::new(),
        external: BTreeSet::new(),
    };
    fn walk(
        org: &Org,
        name: &str,
        m: &mut Model,
        admits: &dyn Fn(&str) -> bool,
        routable: &dyn Fn(&str) -> bool,
        seen: &mut BTreeSet<String>,
    ) {
        if !admits(name) {
            return;
        }
        if let Some(j) = name
            .strip_prefix("dl")
            .and_then(|j| j.parse::<usize>().ok())
        {
            if !seen.insert(name.to_string()) {
                return;
            }
            for mem in &org.lists[j] {
                walk(org, mem, m, admits, routable, seen);
            }
        } else if let Some(k) = name.strip_prefix('c') {
            let t = format!("ext{k}@far.example");
            if routable(&t) {
                m.external.insert(t);
            }
        } else {
            m.delivered.insert(name.to_string());
        }
    }
    for r in &mail.to {
        let (local, domain) = r.split_once('@').unwrap();
        let ok = if !gate_ok {
            false
        } else if domain != "example.com" {
            if mail.inbound.is_none() && routable(r) {
                m.external.insert(r.clone());
                true
            } else {
                false
            }
        } else {
            let known = local.starts_with('u')
                || local.starts_with("dl")
                || local.starts_with('c')
                || local == "j0"
                || local == "ndr0";
            if !known || !admits_entry(local) {
                false
            } else if let Some(k) = local.strip_prefix('c') {
                let t = format!("ext{k}@far.example");
                let ok = routable(&t);
                if ok {
                    m.external.insert(t);
                }
                ok
            } else {
                walk(
                    org,
                    local,
                    &mut m,
                    &admits_entry,
                    &routable,
                    &mut BTreeSet::new(),
                );
                true
            }
        };
        m.accepted.push(ok);
    }
    m
}

fn name_of(p: &Policy, id: EntryId) -> String {
    p.entry(id).unwrap().name().to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn decisions_satisfy_the_invariants(org_bytes in prop::collection::vec(any::<u8>(), 0..96),
                                        mail_bytes in prop::collection::vec(any::<u8>(), 0..24),
                                        shuffle in any::<u64>()) {
        let org = gen_org(&org_bytes);
        let p = build(&org);
        let mail = gen_mail(&org, &mail_bytes);
        let env = envelope_of(&p, &mail, &mail.to);
        let d = p.decide(&env);

        // Every envelope recipient gets exactly one verdict, in order.
        prop_assert_eq!(d.verdicts.len(), env.recipients().len());
        for (v, r) in d.verdicts.iter().zip(env.recipients()) {
            prop_assert_eq!(&v.recipient, &r.address);
        }
        // Every final destination appears exactly once.
        let locals: BTreeSet<_> = d.deliveries.iter().map(|x| x.entry).collect();
        prop_assert_eq!(locals.len(), d.deliveries.len());
        let externals: Vec<_> = d.transfers.iter().flat_map(|t| t.recipients.iter().map(|r| r.address.clone())).collect();
        let unique: BTreeSet<_> = externals.iter().cloned().collect();
        prop_assert_eq!(unique.len(), externals.len());
        let conns: BTreeSet<_> = d.transfers.iter().map(|t| t.connector).collect();
        prop_assert_eq!(conns.len(), d.transfers.len());

        // The reference model agrees on acceptance and destinations.
        let m = model(&org, &mail);
        let accepted: Vec<bool> = d.verdicts.iter().map(|v| v.disposition.is_accepted()).collect();
        prop_assert_eq!(&accepted, &m.accepted, "acceptance differs for {:?}", mail);
        let delivered: BTreeSet<String> = d.deliveries.iter().map(|x| name_of(&p, x.entry)).collect();
        prop_assert_eq!(&delivered, &m.delivered);
        let ext: BTreeSet<String> = unique.iter().map(|a| a.to_string()).collect();
        prop_assert_eq!(&ext, &m.external);

        // Deterministic, and independent of recipient order.
        prop_assert_eq!(&p.decide(&env), &d);
        let mut shuffled = mail.to.clone();
        let n = shuffled.len();
        let mut s = shuffle;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let d2 = p.decide(&envelope_of(&p, &mail, &shuffled));
        prop_assert_eq!(normalized(&d2), normalized(&d));

        // No journal copy's envelope sender is the original sender (unless that sender
        // is itself a journal-NDR mailbox); it is always an NDR address.
        for j in &d.journal_copies {
            prop_assert!(p.is_journal_ndr(j.ndr));
            prop_assert_eq!(p.entry(j.ndr).unwrap().primary_smtp(), Some(&j.reverse_path));
            if let Some(sender) = env.reverse_path().address() {
                if p.entry_by_address(sender.as_str()).is_none_or(|e| !p.is_journal_ndr(e)) {
                    prop_assert_ne!(&j.reverse_path, sender);
                }
            }
            prop_assert!(!j.recipients.is_empty());
            prop_assert!(!j.reasons.is_empty());
        }

        // No inbound envelope is relayed to an external address: only directory contacts
        // forward outside.
        if mail.inbound.is_some() {
            prop_assert!(d.verdicts.iter().all(|v| !matches!(v.disposition, Disposition::Transfer(_))));
            prop_assert!(d.transfers.iter().all(|t| t.recipients.iter().all(|r| r.contact.is_some())));
        }

        // A sender on a reject list never passes: not to an entry, not through a list,
        // not through a connector.
        if let Some(sender) = env.reverse_path().address().and_then(|a| p.entry_by_address(a.as_str())) {
            let sname = name_of(&p, sender);
            let rejects = |name: &str| org.restrictions.get(name).is_some_and(|(_, r)| model_set(&org, r).contains(&sname));
            for del in &d.deliveries {
                prop_assert!(!rejects(&name_of(&p, del.entry)));
                for l in &del.via.lists {
                    prop_assert!(!rejects(&name_of(&p, *l)));
                }
            }
            for t in &d.transfers {
                let c = &org.connectors[t.connector.index()];
                prop_assert!(!model_set(&org, &c.reject).contains(&sname));
            }
        }

        // Tracking: one receipt event, and a SEND for every transfer.
        prop_assert_eq!(d.tracking.iter().filter(|e| matches!(e.kind, EventKind::Receive | EventKind::Submit)).count(), 1);
        prop_assert_eq!(d.tracking.iter().filter(|e| e.kind == EventKind::Transfer).count(), d.transfers.len());
        prop_assert_eq!(d.tracking.iter().filter(|e| e.kind == EventKind::Journal).count(), d.journal_copies.len());
    }

    #[test]
    fn journal_copies_fed_back_are_exempt_and_nobody_else_is(org_bytes in prop::collection::vec(any::<u8>(), 0..96),
                                                              mail_bytes in prop::collection::vec(any::<u8>(), 0..24),
                                                              user in 0usize..8) {
        let org = gen_org(&org_bytes);
        let p = build(&org);
        let mail = gen_mail(&org, &mail_bytes);
        let d = p.decide(&envelope_of(&p, &mail, &mail.to));
        for copy in &d.journal_copies {
            let to: Vec<String> = copy.recipients.iter().map(|dst| match dst {
                Destination::Local(e) => p.entry(*e).unwrap().delivery_address().unwrap().to_string(),
                Destination::External { address, .. } => address.to_string(),
                _ => unreachable!(),
            }).collect();
            let from = format!("<{}>", copy.reverse_path);
            for marker in [true, false] {
                // Fed back as Submitted under its own envelope: exempt.
                let fed = Mail { inbound: None, from: from.clone(), to: to.clone(), marker };
                let again = p.decide(&envelope_of(&p, &fed, &to));
                prop_assert!(again.journal_exempt);
                prop_assert!(again.journal_copies.is_empty());
                prop_assert!(again.archive_copies.is_empty());
                prop_assert!(!again.suspected_evasion);
            }
            // From the Internet, or from an ordinary user: never exempt; flagged when the
            // marker is present.
            let ordinary = format!("<u{}@example.com>", user % org.users);
            let mut others: Vec<Mail> = vec![Mail { inbound: None, from: ordinary, to: to.clone(), marker: true }];
            for i in 0..org.connectors.len() {
                others.push(Mail { inbound: Some(i), from: from.clone(), to: to.clone(), marker: true });
            }
            for other in others {
                let d = p.decide(&envelope_of(&p, &other, &to));
                prop_assert!(!d.journal_exempt);
                prop_assert!(d.suspected_evasion);
            }
        }
    }
}

/// The names and non-SMTP addresses a sender must never be told, given what the sender
/// already knows (the reverse path and the recipients it addressed).
fn secrets_for(env: &Envelope) -> Vec<String> {
    let named = |n: &str| {
        env.reverse_path()
            .address()
            .into_iter()
            .chain(env.recipients().iter().map(|r| &r.address))
            .any(|a| a.local_part().eq_ignore_ascii_case(n))
    };
    let mut out: Vec<String> = HIDDEN
        .iter()
        .filter(|n| !named(n))
        .map(|n| n.to_string())
        .collect();
    out.extend(["X500:", "EX:", "/o=", "/cn="].map(String::from));
    out
}

/// Whether `text` holds `needle` as a whole token (not inside a longer name).
fn names(text: &str, needle: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + needle.len()..].chars().next();
        !needle.chars().next().is_some_and(word)
            || (!before.is_some_and(word) && !after.is_some_and(word))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// No envelope with a recipient outside the journal system set (journal targets,
    /// their members, NDR mailboxes) is ever exempt from journaling, whatever its
    /// headers (the marker included) and its reverse path (an NDR address included).
    #[test]
    fn no_envelope_with_an_outside_recipient_is_exempt(org_bytes in prop::collection::vec(any::<u8>(), 0..96),
                                                       mail_bytes in prop::collection::vec(any::<u8>(), 0..24),
                                                       ndr in 0usize..3) {
        let org = gen_org(&org_bytes);
        let p = build(&org);
        let mut mail = gen_mail(&org, &mail_bytes);
        // Often from an NDR address, the sender the exemption is about.
        if ndr < 2 {
            mail.from = format!("<ndr{ndr}@example.com>");
        }
        let d = p.decide(&envelope_of(&p, &mail, &mail.to));
        let system = ["j0@example.com", "j1@example.com", "ndr0@example.com", "ndr1@example.com"];
        let outside = mail.to.iter().any(|r| !system.contains(&r.as_str()));
        if outside {
            prop_assert!(!d.journal_exempt, "exempt with an outside recipient: {:?}", mail);
            prop_assert_eq!(d.suspected_evasion, mail.marker);
        }
    }

    /// Nothing that goes to a sender — a DSN, an SMTP reply text — names a hidden entry
    /// or shows a non-SMTP (X.500 / EX) address, unless the sender used it itself.
    #[test]
    fn nothing_sent_to_a_sender_names_a_hidden_entry(org_bytes in prop::collection::vec(any::<u8>(), 0..96),
                                                     mail_bytes in prop::collection::vec(any::<u8>(), 0..24)) {
        let org = gen_org(&org_bytes);
        let p = build(&org);
        let mail = gen_mail(&org, &mail_bytes);
        let env = envelope_of(&p, &mail, &mail.to);
        let d = p.decide(&env);
        let secrets = secrets_for(&env);
        let mut told: Vec<String> = d.rejections().map(|(_, r)| r.reply.to_string()).collect();
        told.extend(d.non_deliveries.iter().map(|n| n.rejection.reply.to_string()));
        if let Some(dsn) = render::dsn(&p, &env, &d, Timestamp::from_unix(1_795_342_500)) {
            told.push(String::from_utf8_lossy(&dsn.to_vec()).into_owned());
        }
        for text in &told {
            for s in &secrets {
                prop_assert!(!names(text, s), "{:?} told to the sender: {}", s, text);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// `check_rcpt` at RCPT time agrees with `decide` at the end of DATA, recipient by
    /// recipient, limits included; and the envelope a transport builds from the accepted
    /// recipients alone is decided the same way for them.
    #[test]
    fn check_rcpt_agrees_with_decide(org_bytes in prop::collection::vec(any::<u8>(), 0..96),
                                     mail_bytes in prop::collection::vec(any::<u8>(), 0..24),
                                     max_recipients in 1usize..8,
                                     max_expansion in prop::option::of(4usize..12)) {
        let org = gen_org(&org_bytes);
        let mut cfg = config(&org);
        cfg.limits = Limits::default().max_recipients(max_recipients);
        if let Some(e) = max_expansion {
            cfg.limits = cfg.limits.max_list_members(e).max_expansion(e);
        }
        let Ok(p) = cfg.build() else {
            // A list larger than the small member limit: nothing to decide.
            return Ok(());
        };
        let mail = gen_mail(&org, &mail_bytes);
        let env = envelope_of(&p, &mail, &mail.to);
        let d = p.decide(&env);
        let mut tx = p.transaction(env.origin(), env.reverse_path());
        let mut accepted = Vec::new();
        for (v, r) in d.verdicts.iter().zip(env.recipients()) {
            let reply = tx.check_rcpt(&r.address);
            match v.disposition.rejection() {
                Some(rej) => prop_assert_eq!(&reply, &rej.reply),
                None => {
                    prop_assert_eq!(reply.to_string(), "250 2.1.5 Recipient OK");
                    accepted.push(r.address.to_string());
                }
            }
        }
        prop_assert_eq!(tx.checked(), env.recipients().len());
        if !accepted.is_empty() {
            let d2 = p.decide(&envelope_of(&p, &mail, &accepted));
            prop_assert!(d2.verdicts.iter().all(|v| v.disposition.is_accepted()), "{}", p.explain(&d2));
        }
    }
}

/// The generator reaches every interesting case often enough for the properties above to
/// mean something.
#[test]
fn generator_covers_the_interesting_cases() {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rng: u64 = 42;
    let mut bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (rng >> 56) as u8
            })
            .collect()
    };
    for _ in 0..2000 {
        let org = gen_org(&bytes(96));
        let p = build(&org);
        let mail = gen_mail(&org, &bytes(24));
        let d = p.decide(&envelope_of(&p, &mail, &mail.to));
        let mut hit = |k| *seen.entry(k).or_default() += 1;
        if !d.journal_copies.is_empty() {
            hit("journal copy");
        }
        if d.journal_copies.iter().any(|j| j.reasons.len() > 1) {
            hit("several reasons");
        }
        if !d.archive_copies.is_empty() {
            hit("archive copy");
        }
        if !d.transfers.is_empty() {
            hit("transfer");
        }
        if !d.non_deliveries.is_empty() {
            hit("non-delivery");
        }
        if d.rejections()
            .any(|(_, r)| matches!(r.reason, RejectReason::Restricted { .. }))
        {
            hit("entry restriction");
        }
        if d.rejections()
            .any(|(_, r)| matches!(r.reason, RejectReason::ConnectorRestricted { .. }))
        {
            hit("connector restriction");
        }
        if d.rejections()
            .any(|(_, r)| r.reason == RejectReason::RelayDenied)
        {
            hit("relay denied");
        }
        if d.verdicts
            .iter()
            .any(|v| matches!(v.disposition, Disposition::Expand(_)))
        {
            hit("expansion");
        }
        if d.verdicts
            .iter()
            .any(|v| matches!(v.disposition, Disposition::Forward { .. }))
        {
            hit("forward");
        }
        if d.journal_exempt {
            hit("exempt");
        }
        if d.suspected_evasion {
            hit("evasion");
        }
        if d.warnings
            .iter()
            .any(|w| matches!(w, Warning::UnresolvedJournalProperty { .. }))
        {
            hit("unresolved property");
        }
    }
    for k in [
        "journal copy",
        "several reasons",
        "archive copy",
        "transfer",
        "non-delivery",
        "entry restriction",
        "connector restriction",
        "relay denied",
        "expansion",
        "forward",
        "exempt",
        "evasion",
        "unresolved property",
    ] {
        assert!(seen.get(k).copied().unwrap_or(0) >= 5, "{k}: {seen:?}");
    }
    eprintln!("{seen:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn rendered_output_parses_and_carries_the_decisions_facts(
        org_bytes in prop::collection::vec(any::<u8>(), 0..96),
        mail_bytes in prop::collection::vec(any::<u8>(), 0..24),
        subject in "\\PC{0,40}",
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        use mail_parser::{MessageParser, MimeHeaders};
        let org = gen_org(&org_bytes);
        let p = build(&org);
        let mail = gen_mail(&org, &mail_bytes);
        let mut message = format!("From: Someone <u0@example.com>\r\nTo: x@partner.example\r\nSubject: {subject}\r\nMessage-ID: <prop@example.com>\r\n\r\n").into_bytes();
        message.extend_from_slice(&body);
        let origin = match mail.inbound {
            Some(i) => Origin::Inbound { connector: p.connector_id(&format!("C{i}")).unwrap() },
            None => Origin::Submitted,
        };
        let to: Vec<&str> = mail.to.iter().map(String::as_str).collect();
        let env = common::envelope(origin, &mail.from, &to, &message);
        let d = p.decide(&env);
        let at = Timestamp::from_unix(1_795_342_500);

        for copy in &d.journal_copies {
            let report = render::journal_report(&p, &env, &d, copy, at).to_vec();
            let m = MessageParser::new().parse(&report[..]).expect("report parses");
            prop_assert!(m.header_raw("X-MS-Journal-Report").is_some());
            prop_assert_eq!(m.message_id().is_some(), true);
            prop_assert_eq!(fuzz_harness::attached(&report), Some(message.clone()));
            let summary = m.body_text(0).expect("summary").into_owned();
            let sender = env.reverse_path().address().map(|a| a.to_string());
            if let Some(s) = sender {
                let expected = format!("Sender: {s}");
                prop_assert!(summary.starts_with(&expected), "{}", summary);
            }
            for del in &d.deliveries {
                let a = p.entry(del.entry).unwrap().display_address();
                prop_assert!(summary.lines().any(|l| l.split(", ").next().is_some_and(|f| f.ends_with(&format!(": {a}")))), "{} missing in {}", a, summary);
            }
            for t in &d.transfers {
                for r in &t.recipients {
                    let needle = format!(": {}", r.address);
                    prop_assert!(summary.contains(&needle));
                }
            }
            prop_assert_eq!(render::journal_message(&p, &env, &d, copy, at).len(), report.len());
            // The report comes back exempt when fed back under its own envelope; sent to
            // an ordinary user instead, the marker does not make it exempt.
            let mut fed = Envelope::builder(Origin::Submitted, &format!("<{}>", copy.reverse_path)).unwrap();
            for dst in &copy.recipients {
                let a = match dst {
                    Destination::Local(e) => p.entry(*e).unwrap().delivery_address().unwrap().to_string(),
                    Destination::External { address, .. } => address.to_string(),
                    _ => unreachable!(),
                };
                fed = fed.recipient(&a).unwrap();
            }
            let fed = fed.message(report.clone()).envelope_id("fed").build().unwrap();
            prop_assert!(p.decide(&fed).journal_exempt);
            let misused = Envelope::builder(Origin::Submitted, &format!("<{}>", copy.reverse_path)).unwrap()
                .recipient("u0@example.com").unwrap()
                .message(report.clone()).envelope_id("fed").build().unwrap();
            let d = p.decide(&misused);
            prop_assert!(!d.journal_exempt && d.suspected_evasion);
        }
        for a in &d.archive_copies {
            let rec = render::archive_record(&p, &env, &d, a).to_vec();
            let sender_line = format!("X-Sender: {}\r\n", env.reverse_path());
            prop_assert!(rec.starts_with(sender_line.as_bytes()));
            prop_assert!(rec.ends_with(&message));
            let m = MessageParser::new().parse(&rec[..]).expect("record parses");
            let receivers: Vec<String> = m.header_values("X-Receiver").filter_map(|v| v.as_text().map(str::to_owned)).collect();
            for r in &receivers {
                let inner = r.trim_matches(|c| c == '<' || c == '>');
                prop_assert!(env.recipients().iter().any(|x| x.address.as_str().eq_ignore_ascii_case(inner)), "{}", r);
            }
            prop_assert!(!receivers.is_empty());
        }
        if let Some(dsn) = render::dsn(&p, &env, &d, at) {
            let bytes = dsn.to_vec();
            let text = String::from_utf8_lossy(&bytes);
            let m = MessageParser::new().parse(&bytes[..]).expect("dsn parses");
            prop_assert!(m.content_type().is_some_and(|ct| ct.subtype() == Some("report")));
            let failed = d.non_deliveries.len() + if env.origin() == Origin::Submitted { d.rejections().count() } else { 0 };
            prop_assert_eq!(text.matches("\r\nFinal-Recipient: rfc822; ").count(), failed);
            prop_assert!(env.reverse_path().address().is_some());
        } else {
            let reportable = !d.non_deliveries.is_empty() || (env.origin() == Origin::Submitted && d.rejections().count() > 0);
            prop_assert!(env.reverse_path().is_null() || !reportable);
        }
        let csv = render::tracking_log::csv(&p, &env, &d).to_vec();
        prop_assert_eq!(csv.iter().filter(|&&b| b == b'\n').count(), d.tracking.len());
        let log55 = render::tracking_log::exchange55(&p, &env, &d).to_vec();
        prop_assert_eq!(log55.iter().filter(|&&b| b == b'\n').count(), d.tracking.len());
    }
}
