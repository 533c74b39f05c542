//! Connector selection for external recipients.
//!
//! Candidates are the connectors with an address space matching the whole recipient
//! address whose restrictions admit the sender. Order: cost-100 spaces last; then the
//! most specific match (an exact pattern beats a wildcard, then more literal characters);
//! then the lowest cost; then a stable (rendezvous) hash of the envelope id and the
//! connector name, so equal connectors share load while each decision stays deterministic.

use std::cmp::Ordering;

use crate::address::Address;
use crate::connector::{Connector, ConnectorId};
use crate::restrict::SenderIdentity;

/// A compiled address-space pattern (lower-cased).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    text: Box<str>,
    exact: bool,
    literals: usize,
    shape: Shape,
}

/// The common shapes of a pattern, matched without the general glob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `*`: every address.
    All,
    /// `*` followed by literal text (`*@example.com`, `*.example.com`): a suffix.
    Suffix,
    /// No wildcard: the whole address.
    Exact,
    /// Anything else: the general glob.
    Glob,
}

impl Pattern {
    /// Validates and compiles a pattern.
    pub(crate) fn parse(pattern: &str) -> Result<Self, &'static str> {
        let p = pattern.trim();
        if p.is_empty() {
            return Err("empty pattern");
        }
        if p.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c))
        {
            return Err(
                "whitespace, control characters, quotes and angle brackets are not allowed",
            );
        }
        if !p.contains('@') && !p.starts_with('*') {
            return Err(
                "matches no address: a pattern without '@' must start with '*' (did you mean *@domain?)",
            );
        }
        if p.matches('@').count() > 1 {
            return Err("more than one '@'");
        }
        let literals = p.chars().filter(|c| *c != '*' && *c != '%').count();
        let wild = |t: &str| t.contains(['*', '%']);
        let shape = match p.strip_prefix('*') {
            Some("") => Shape::All,
            Some(rest) if !wild(rest) => Shape::Suffix,
            None if !wild(p) => Shape::Exact,
            _ => Shape::Glob,
        };
        Ok(Pattern {
            text: p.to_ascii_lowercase().into(),
            exact: !wild(p),
            literals,
            shape,
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Specificity: exact patterns first, then more literal characters.
    fn specificity(&self) -> (bool, usize) {
        (self.exact, self.literals)
    }

    /// Whole-address, ASCII case-insensitive glob match.
    pub(crate) fn matches(&self, address: &str) -> bool {
        let (p, s) = (self.text.as_bytes(), address.as_bytes());
        match self.shape {
            Shape::All => true,
            Shape::Exact => p.eq_ignore_ascii_case(s),
            Shape::Suffix => {
                let suffix = p.get(1..).unwrap_or_default();
                s.len() >= suffix.len()
                    && s.get(s.len() - suffix.len()..)
                        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
            }
            Shape::Glob => glob(p, s),
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Iterative glob with single-star backtracking; `%` consumes one UTF-8 character.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = s.get(si) {
        let step = match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
                continue;
            }
            Some(b'%') => {
                let n = utf8_len(c);
                (si + n <= s.len()).then_some(n)
            }
            Some(&pc) if pc == c.to_ascii_lowercase() => Some(1),
            _ => None,
        };
        match (step, star) {
            (Some(n), _) => {
                pi += 1;
                si += n;
            }
            (None, Some((sp, ss))) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            (None, None) => return false,
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

/// FNV-1a 64: a stable hash, the same on every platform and release.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The outcome of routing one external address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Through this connector.
    Via(ConnectorId),
    /// Connectors match, but every one refuses the sender.
    Restricted(ConnectorId),
    /// No connector's address space matches.
    Unroutable,
}

#[derive(Clone, Copy)]
struct Candidate {
    id: ConnectorId,
    last_resort: bool,
    specificity: (bool, usize),
    cost: u32,
}

impl Candidate {
    /// Order without the load-sharing hash: last resort last, then most specific, then
    /// cheapest.
    fn cmp_rank(&self, other: &Self) -> Ordering {
        self.last_resort
            .cmp(&other.last_resort)
            .then_with(|| other.specificity.cmp(&self.specificity))
            .then_with(|| self.cost.cmp(&other.cost))
    }
}

/// Rendezvous hash of the envelope id and a connector's name: equal candidates share
/// load, and each envelope's choice is stable.
fn tie_hash(connectors: &[Connector], id: ConnectorId, envelope_id: &str) -> u64 {
    let name = connectors
        .get(id.index())
        .map_or(&b""[..], |c| c.name.as_bytes());
    fnv1a(&[envelope_id.as_bytes(), name])
}

/// Picks the connector for `address`. `sender: None` routes a system message (a journal
/// copy), to which restrictions never apply.
pub(crate) fn route(
    connectors: &[Connector],
    address: &Address,
    sender: Option<SenderIdentity>,
    envelope_id: &str,
) -> Route {
    let mut best: Option<Candidate> = None;
    // The best candidate's tie hash, computed only once a tie needs it.
    let mut best_hash: Option<u64> = None;
    let mut restricted: Option<ConnectorId> = None;
    for (i, c) in connectors.iter().enumerate() {
        let id = ConnectorId(i as u32);
        // The best-matching space of this connector.
        let mut mine: Option<(bool, (bool, usize), u32)> = None;
        for s in c.spaces.iter() {
            if !s.pattern.matches(address.as_str()) {
                continue;
            }
            let key = (s.cost >= 100, s.pattern.specificity(), s.cost);
            let better = match mine {
                None => true,
                Some(m) => {
                    key.0
                        .cmp(&m.0)
                        .then_with(|| m.1.cmp(&key.1))
                        .then_with(|| key.2.cmp(&m.2))
                        == Ordering::Less
                }
            };
            if better {
                mine = Some(key);
            }
        }
        let Some((last_resort, specificity, cost)) = mine else {
            continue;
        };
        if let Some(who) = sender {
            if c.restrictions.check(who).is_err() {
                restricted.get_or_insert(id);
                continue;
            }
        }
        let cand = Candidate {
            id,
            last_resort,
            specificity,
            cost,
        };
        let take = match best {
            None => true,
            Some(b) => match cand.cmp_rank(&b) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => {
                    let theirs =
                        *best_hash.get_or_insert_with(|| tie_hash(connectors, b.id, envelope_id));
                    let mine = tie_hash(connectors, id, envelope_id);
                    if mine > theirs {
                        best_hash = Some(mine);
                        best = Some(cand);
                    }
                    false
                }
            },
        };
        if take {
            best = Some(cand);
            best_hash = None;
        }
    }
    match (best, restricted) {
        (Some(b), _) => Route::Via(b.id),
        (None, Some(r)) => Route::Restricted(r),
        (None, None) => Route::Unroutable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, a: &str) -> bool {
        Pattern::parse(p).unwrap().matches(a)
    }

    #[test]
    fn glob_semantics() {
        assert!(m("*", "bob@partner.example"));
        assert!(m("*@partner.example", "Bob@PARTNER.example"));
        assert!(!m("*@partner.example", "bob@sub.partner.example"));
        assert!(m("*.partner.example", "bob@sub.partner.example"));
        assert!(!m("*.partner.example", "bob@partner.example"));
        assert!(m("bob@partner.example", "BOB@partner.example"));
        assert!(!m("bob@partner.example", "bob@partner.example.org"));
        assert!(m("b%b@*", "bob@x.example"));
        assert!(!m("b%b@*", "boob@x.example"));
        assert!(m("%@*", "é@x.example"));
        assert!(m("*a*b*c", "xxaxxbxxc"));
        assert!(!m("*a*b*c", "xxaxxcxxb"));
    }

    #[test]
    fn shapes_agree_with_the_general_glob() {
        for p in [
            "*",
            "*@partner.example",
            "*.partner.example",
            "bob@partner.example",
            "b%b@*",
            "*a*",
        ] {
            let pat = Pattern::parse(p).unwrap();
            for a in [
                "bob@partner.example",
                "BOB@Sub.Partner.Example",
                "x@y",
                "a@partner.example.org",
                "é@x.example",
            ] {
                assert_eq!(
                    pat.matches(a),
                    glob(pat.as_str().as_bytes(), a.as_bytes()),
                    "{p} vs {a}"
                );
            }
        }
    }

    #[test]
    fn bad_patterns() {
        assert!(Pattern::parse("").is_err());
        assert!(Pattern::parse("partner.example").is_err());
        assert!(Pattern::parse("a b@c").is_err());
        assert!(Pattern::parse("a@b@c").is_err());
    }

    #[test]
    fn specificity_ordering() {
        let exact = Pattern::parse("bob@partner.example").unwrap();
        let domain = Pattern::parse("*@partner.example").unwrap();
        let any = Pattern::parse("*").unwrap();
        assert!(exact.specificity() > domain.specificity());
        assert!(domain.specificity() > any.specificity());
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(&[b"a"]), fnv1a(&[b"a"]));
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
    }
}
