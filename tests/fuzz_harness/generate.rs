//! Generators of organisations and mail from raw bytes, shared by the property tests
//! and the fuzz targets. Everything is total: any bytes give a valid policy and mail.

use std::collections::BTreeMap;

use mail_journal::*;

/// Builds an envelope; the inputs come from the generators, so they are valid.
pub fn make_envelope(origin: Origin, from: &str, to: &[&str], message: &[u8]) -> Envelope {
    let mut b = Envelope::builder(origin, from).expect("generated senders parse");
    for r in to {
        b = b.recipient(r).expect("generated recipients parse");
    }
    b.message(bytes::Bytes::copy_from_slice(message))
        .received_at(Timestamp::from_unix(1_795_342_443))
        .envelope_id("Q-0001")
        .build()
        .expect("generated envelopes have recipients")
}

/// Reads generation choices from proptest bytes (shrinks towards small organisations).
pub struct Choices<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl Choices<'_> {
    pub fn next(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    pub fn pick(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.next() as usize % n }
    }
    pub fn chance(&mut self, in_four: u8) -> bool {
        self.next() % 4 < in_four
    }
}

/// A hidden mailbox without SMTP address that lists may contain and that accepts mail only
/// from `u0`: what a sender is told must never name it.
pub const SECRET: &str = "secret-box";

/// Names of the hidden entries of every generated organisation.
pub const HIDDEN: [&str; 6] = ["j0", "j1", "jdl", "ndr0", "ndr1", SECRET];

pub const PATTERNS: [&str; 6] = [
    "*",
    "*@partner.example",
    "*.partner.example",
    "x@partner.example",
    "*@far.example",
    "%@partner.example",
];

/// A generated organisation, kept as data so the model can read it.
#[derive(Debug, Clone)]
pub struct Org {
    pub users: usize,
    /// Members of list j: names of users or earlier lists.
    pub lists: Vec<Vec<String>>,
    pub contacts: usize,
    /// Per user/list name: (accept, reject) lists of names.
    pub restrictions: BTreeMap<String, (Option<Vec<String>>, Vec<String>)>,
    pub connectors: Vec<Conn>,
    /// Users whose custom attribute 10 is set, and to what.
    pub ca10: BTreeMap<String, String>,
    pub rule: Option<(JournalScope, Option<String>)>,
}

#[derive(Debug, Clone)]
pub struct Conn {
    pub spaces: Vec<(usize, u32)>,
    pub accept: Option<Vec<String>>,
    pub reject: Vec<String>,
    pub archival: bool,
    pub inbound: Option<(bool, usize)>,
    pub outbound: Option<(bool, usize)>,
    pub prop: bool,
    pub accepts_inbound: bool,
}

pub fn names(org_users: usize, lists: usize) -> Vec<String> {
    (0..org_users)
        .map(|i| format!("u{i}"))
        .chain((0..lists).map(|j| format!("dl{j}")))
        .collect()
}

pub fn gen_org(data: &[u8]) -> Org {
    let mut c = Choices { data, pos: 0 };
    let users = 2 + c.pick(5);
    let mut lists: Vec<Vec<String>> = Vec::new();
    for j in 0..c.pick(4) {
        let pool = names(users, j);
        let mut members: Vec<String> = (0..1 + c.pick(4))
            .map(|_| pool[c.pick(pool.len())].clone())
            .collect();
        if c.chance(1) {
            members.push(format!("c{}", c.pick(2)));
        }
        // The hidden, SMTP-less mailbox: a member nobody outside may learn of.
        if c.chance(1) {
            members.push(SECRET.to_owned());
        }
        members.dedup();
        lists.push(members);
    }
    let contacts = 2;
    let all = names(users, lists.len());
    let some = |c: &mut Choices| -> Vec<String> {
        (0..1 + c.pick(2))
            .map(|_| all[c.pick(all.len())].clone())
            .collect()
    };
    let mut restrictions = BTreeMap::new();
    // The secret mailbox accepts mail only from u0, so refusing it is common.
    restrictions.insert(SECRET.to_owned(), (Some(vec!["u0".to_owned()]), vec![]));
    for n in &all {
        if c.chance(1) {
            let accept = c.chance(2).then(|| some(&mut c));
            let reject = if c.chance(2) { some(&mut c) } else { vec![] };
            restrictions.insert(n.clone(), (accept, reject));
        }
    }
    let mut connectors = Vec::new();
    for _ in 0..1 + c.pick(3) {
        let spaces = (0..1 + c.pick(2))
            .map(|_| (c.pick(PATTERNS.len()), [1, 1, 5, 100][c.pick(4)]))
            .collect();
        let accept = c.chance(1).then(|| some(&mut c));
        let reject = if c.chance(1) { some(&mut c) } else { vec![] };
        let journal = |c: &mut Choices| c.chance(2).then(|| (c.chance(2), c.pick(2)));
        let inbound = journal(&mut c);
        let outbound = journal(&mut c);
        connectors.push(Conn {
            spaces,
            accept,
            reject,
            archival: c.chance(2),
            inbound,
            outbound,
            prop: c.chance(2),
            accepts_inbound: c.chance(3),
        });
    }
    let mut ca10 = BTreeMap::new();
    for i in 0..users {
        if c.chance(1) {
            let v = ["jdl", "j1", "X500:/o=Nowhere/cn=missing"][c.pick(3)];
            ca10.insert(format!("u{i}"), v.to_string());
        }
    }
    let rule = c.chance(1).then(|| {
        let scope = [
            JournalScope::Internal,
            JournalScope::External,
            JournalScope::Global,
        ][c.pick(3)];
        let who = c.chance(2).then(|| all[c.pick(all.len())].clone());
        (scope, who)
    });
    Org {
        users,
        lists,
        contacts,
        restrictions,
        connectors,
        ca10,
        rule,
    }
}

pub fn restr(accept: &Option<Vec<String>>, reject: &[String]) -> RestrictionsConfig {
    let base = match accept {
        Some(a) => RestrictionsConfig::accept_only(a.clone()),
        None => RestrictionsConfig::none(),
    };
    base.and_reject(reject.to_vec())
}

pub fn build(org: &Org) -> Policy {
    config(org).build().expect("generated policies are valid")
}

/// The configuration of a generated organisation.
pub fn config(org: &Org) -> PolicyConfig {
    let ca10 = PropTag::custom_attribute(10).unwrap();
    let mut cfg = PolicyConfig::new("example.com").accepted_domain("example.com");
    let with_restr = |e: EntryConfig, name: &str| match org.restrictions.get(name) {
        Some((a, r)) => e.restrictions(restr(a, r)),
        None => e,
    };
    for i in 0..org.users {
        let n = format!("u{i}");
        let mut e = EntryConfig::mailbox(&n).proxy(format!("SMTP:{n}@example.com"));
        if let Some(v) = org.ca10.get(&n) {
            e = e.property(ca10, v.clone());
        }
        cfg = cfg.entry(with_restr(e, &n));
    }
    for (j, members) in org.lists.iter().enumerate() {
        let n = format!("dl{j}");
        let e = EntryConfig::distribution_list(&n, members.clone())
            .proxy(format!("SMTP:{n}@example.com"));
        cfg = cfg.entry(with_restr(e, &n));
    }
    for k in 0..org.contacts {
        cfg = cfg.entry(
            EntryConfig::contact(format!("c{k}"), format!("ext{k}@far.example"))
                .proxy(format!("SMTP:c{k}@example.com")),
        );
    }
    cfg = cfg
        .entry(
            EntryConfig::mailbox("j0")
                .proxy("SMTP:j0@example.com")
                .hidden(true),
        )
        .entry(
            EntryConfig::mailbox("j1")
                .proxy("SMTP:j1@example.com")
                .hidden(true),
        )
        .entry(
            EntryConfig::distribution_list("jdl", ["j0", "j1"])
                .proxy("X500:/o=Example/cn=jdl")
                .hidden(true),
        )
        .entry(
            EntryConfig::mailbox("ndr0")
                .proxy("SMTP:ndr0@example.com")
                .hidden(true),
        )
        .entry(
            EntryConfig::mailbox(SECRET)
                .proxy("X500:/o=Example/ou=HQ/cn=Recipients/cn=secret-box")
                .hidden(true)
                .restrictions(RestrictionsConfig::accept_only(["u0"])),
        )
        .entry(
            EntryConfig::mailbox("ndr1")
                .proxy("SMTP:ndr1@example.com")
                .hidden(true),
        );
    for (i, c) in org.connectors.iter().enumerate() {
        let mut cc = ConnectorConfig::new(format!("C{i}"))
            .restrictions(restr(&c.accept, &c.reject))
            .archival(c.archival)
            .accepts_inbound(c.accepts_inbound);
        for &(p, cost) in &c.spaces {
            cc = cc.address_space(AddressSpace::new(PATTERNS[p], cost));
        }
        let js = |j: Option<(bool, usize)>| match j {
            None => JournalSettings::default(),
            Some((global, ndr)) => {
                let mut s = JournalSettings::default().ndr(format!("ndr{ndr}"));
                if global || !c.prop {
                    s = s.target("X500:/o=Example/cn=jdl");
                }
                if c.prop {
                    s = s.recipient_property(ca10);
                }
                s
            }
        };
        cc = cc
            .inbound_journal(js(c.inbound))
            .outbound_journal(js(c.outbound));
        cfg = cfg.connector(cc);
    }
    if let Some((scope, who)) = &org.rule {
        let mut r = JournalRuleConfig::new("rule", *scope, "jdl");
        if let Some(w) = who {
            r = r.recipient(w.clone());
        }
        cfg = cfg.journal_rule(r).rules_ndr("ndr1");
    }
    cfg
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub inbound: Option<usize>,
    pub from: String,
    pub to: Vec<String>,
    pub marker: bool,
}

pub fn gen_mail(org: &Org, data: &[u8]) -> Mail {
    let mut c = Choices { data, pos: 0 };
    let mut pool: Vec<String> = names(org.users, org.lists.len())
        .into_iter()
        .map(|n| format!("{n}@example.com"))
        .collect();
    pool.extend(
        [
            "c0@example.com",
            "c1@example.com",
            "nobody@example.com",
            "x@partner.example",
            "y@sub.partner.example",
            "z@far.example",
            "w@elsewhere.example",
            "j0@example.com",
            "ndr0@example.com",
        ]
        .map(String::from),
    );
    let senders: Vec<String> = [
        "<>",
        "<ghost@example.com>",
        "<bob@partner.example>",
        "<ndr0@example.com>",
        "<ndr1@example.com>",
    ]
    .into_iter()
    .map(String::from)
    .chain((0..org.users).map(|i| format!("<u{i}@example.com>")))
    .collect();
    let inbound = c.chance(2).then(|| c.pick(org.connectors.len()));
    let from = senders[c.pick(senders.len())].clone();
    let to = (0..1 + c.pick(6))
        .map(|_| pool[c.pick(pool.len())].clone())
        .collect();
    Mail {
        inbound,
        from,
        to,
        marker: c.chance(1),
    }
}

pub fn message(marker: bool) -> Vec<u8> {
    let mut m =
        b"From: someone@example.com\r\nSubject: test\r\nMessage-ID: <p@example.com>\r\n".to_vec();
    if marker {
        m.extend_from_slice(b"X-MS-Journal-Report:\r\n");
    }
    m.extend_from_slice(b"\r\nbody\r\n");
    m
}

pub fn envelope_of(p: &Policy, mail: &Mail, to: &[String]) -> Envelope {
    let origin = match mail.inbound {
        Some(i) => Origin::Inbound {
            connector: p.connector_id(&format!("C{i}")).unwrap(),
        },
        None => Origin::Submitted,
    };
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    make_envelope(origin, &mail.from, &to, &message(mail.marker))
}
