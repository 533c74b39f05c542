//! Connector selection for external recipients.
//!
//! Candidates are the connectors with an address space matching the whole recipient
//! address whose restrictions admit the sender. Order: cost-100 spaces last; then the
//! most specific match (an exact pattern beats a wildcard, then more literal characters);
//! then the lowest cost; then a stable (rendezvous) hash of the envelope id and the
//! connector name, so equal connectors share load while each decision stays deterministic.

use std::cmp::Ordering;

use crate::address::Address;
use crate::hash::fnv1a;
use crate::ids::ConnectorId;
use crate::policy::connector::Connector;
use crate::policy::restrict::SenderIdentity;

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
    for c in connectors {
        let id = c.id;
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
