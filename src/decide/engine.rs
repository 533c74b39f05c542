//! `Policy::decide`: the per-message hot path. Pure, no I/O, no clock.

use std::borrow::Cow;
use std::hash::Hash;

use smallvec::{SmallVec, smallvec};

use crate::address::{Address, ReversePath};
use crate::decide::decision::{
    ArchiveCopy, Decision, Delivery, Disposition, NonDelivery, RejectReason, Rejection, Traffic,
    Transfer, TransferRecipient, Verdict, Via, Warning,
};
use crate::decide::journal::JournalInputs;
use crate::decide::tracking::{Parts, track};
use crate::envelope::{Envelope, Origin, Recipient};
use crate::hash::FxHashMap;
use crate::headers;
use crate::ids::{ConnectorId, Direction, EntryId};
use crate::policy::compiled::Policy;
use crate::policy::directory::{Entry, EntryKind};
use crate::policy::restrict::{RestrictionKind, SenderIdentity};
use crate::policy::route::{Route, route};
use crate::reply::EnhancedStatus;

/// Above this many items a de-duplication set switches from a linear scan to a hash index.
const LINEAR_LIMIT: usize = 16;

const S_UNKNOWN_USER: EnhancedStatus = EnhancedStatus::new(5, 1, 1);
const S_NOT_AUTHORIZED: EnhancedStatus = EnhancedStatus::new(5, 7, 1);
const S_NO_ROUTE: EnhancedStatus = EnhancedStatus::new(5, 4, 4);
const S_TOO_MANY: EnhancedStatus = EnhancedStatus::new(4, 5, 3);
const S_MISCONFIGURED: EnhancedStatus = EnhancedStatus::new(4, 3, 5);

/// Something that is a final destination reached along a path.
trait Reached {
    type Key: Eq + Hash + Clone;
    fn key(&self) -> Self::Key;
    fn via(&self) -> &Via;
}

impl Reached for Delivery {
    type Key = EntryId;
    fn key(&self) -> EntryId {
        self.entry
    }
    fn via(&self) -> &Via {
        &self.via
    }
}

impl Reached for NonDelivery {
    type Key = EntryId;
    fn key(&self) -> EntryId {
        self.entry
    }
    fn via(&self) -> &Via {
        &self.via
    }
}

impl Reached for (ConnectorId, TransferRecipient) {
    type Key = Address;
    fn key(&self) -> Address {
        self.1.address.clone()
    }
    fn via(&self) -> &Via {
        &self.1.via
    }
}

/// Destinations, each once; when reached twice the canonical (order-independent) path wins.
///
/// A linear scan finds small sets; past [`LINEAR_LIMIT`] items a hash index is built,
/// lazily, only when a look-up needs it (a bulk append of known-fresh items never does).
struct Unique<T: Reached, const N: usize>
where
    [T; N]: smallvec::Array<Item = T>,
{
    items: SmallVec<[T; N]>,
    index: FxHashMap<T::Key, usize>,
    /// How many of `items` the index covers.
    indexed: usize,
}

impl<T: Reached, const N: usize> Unique<T, N>
where
    [T; N]: smallvec::Array<Item = T>,
{
    fn new() -> Self {
        Unique {
            items: SmallVec::new(),
            index: FxHashMap::default(),
            indexed: 0,
        }
    }

    fn position(&mut self, key: &T::Key) -> Option<usize> {
        if self.items.len() <= LINEAR_LIMIT {
            return self.items.iter().position(|i| i.key() == *key);
        }
        if self.indexed < self.items.len() {
            let fresh = self.items.get(self.indexed..).unwrap_or_default();
            self.index.reserve(fresh.len());
            for (i, it) in fresh.iter().enumerate() {
                self.index.insert(it.key(), self.indexed + i);
            }
            self.indexed = self.items.len();
        }
        self.index.get(key).copied()
    }

    fn insert(&mut self, rcpts: &[Recipient], item: T) {
        let key = item.key();
        match self.position(&key) {
            Some(at) => {
                if let Some(slot) = self.items.get_mut(at) {
                    if item.via().rank_cmp(slot.via(), rcpts) == std::cmp::Ordering::Less {
                        *slot = item;
                    }
                }
            }
            None => self.items.push(item),
        }
    }
}

fn reject(
    code: u16,
    status: EnhancedStatus,
    text: impl Into<Cow<'static, str>>,
    reason: RejectReason,
) -> Rejection {
    Rejection::new(code, status, text, reason)
}

/// A refusal by an entry's restrictions. The text goes to the sender, so it names only
/// what the sender may know: the address they used, or a visible member's SMTP address;
/// never a hidden entry, an entry's internal name or an X.500 address.
fn restricted(entry: EntryId, kind: RestrictionKind, shown: Shown<'_>) -> Rejection {
    let text = match shown {
        Shown::Address(a) => {
            format!("Delivery not authorized: {a} does not accept mail from this sender ({kind})")
        }
        Shown::MemberOf(list) => format!(
            "Delivery not authorized: a member of {list} does not accept mail from this sender"
        ),
    };
    reject(
        550,
        S_NOT_AUTHORIZED,
        text,
        RejectReason::Restricted { entry, kind },
    )
}

/// How a refusal may name what refused.
enum Shown<'a> {
    /// By an address the sender may know.
    Address(&'a Address),
    /// Only as a member of the envelope recipient (the refusing entry is hidden or has no
    /// SMTP address).
    MemberOf(&'a Address),
}

/// How a refusing list member may be named to the sender.
fn shown_member<'a>(member: &'a Entry, envelope_recipient: &'a Address) -> Shown<'a> {
    match member.primary_smtp() {
        Some(a) if !member.is_hidden() => Shown::Address(a),
        _ => Shown::MemberOf(envelope_recipient),
    }
}

fn unknown_user() -> Rejection {
    reject(
        550,
        S_UNKNOWN_USER,
        "Recipient address rejected: user unknown",
        RejectReason::UnknownRecipient,
    )
}

fn route_failure(r: Route) -> Rejection {
    match r {
        Route::Restricted(connector) => reject(
            550,
            S_NOT_AUTHORIZED,
            "A restriction in the system prevented delivery",
            RejectReason::ConnectorRestricted { connector },
        ),
        _ => reject(
            550,
            S_NO_ROUTE,
            "No route to the recipient's domain",
            RejectReason::NoRoute,
        ),
    }
}

/// What the verdicts of one transaction depend on besides each recipient: the sender,
/// known at `MAIL FROM`.
#[derive(Clone, Debug)]
pub(crate) struct Sender {
    pub identity: SenderIdentity,
    pub entry: Option<EntryId>,
    pub submitted: bool,
    /// Submitted by a journal-NDR mailbox: possibly the engine's own output, for which
    /// delivery addresses resolve.
    pub ndr_sender: bool,
    /// The receiving connector of inbound mail.
    pub inbound: Option<ConnectorId>,
    /// A refusal that applies to every recipient: an unusable receiving connector.
    pub gate: Option<Rejection>,
}

impl Policy {
    /// The sender side of a transaction.
    pub(crate) fn sender(&self, origin: Origin, reverse_path: &ReversePath) -> Sender {
        let reverse = reverse_path.address();
        let submitted = origin == Origin::Submitted;
        let entry = reverse.and_then(|a| self.dir.by_address(a));
        let identity = SenderIdentity {
            entry,
            // An Internet sender claiming an internal address is not authenticated.
            trusted: submitted || reverse.is_some_and(|a| !self.accepted.contains(a.domain())),
        };
        let inbound = match origin {
            Origin::Inbound { connector } => Some(connector),
            _ => None,
        };
        let gate = inbound.and_then(|c| match self.connector(c) {
            None => Some(reject(
                451,
                S_MISCONFIGURED,
                "Receiving connector not configured",
                RejectReason::UnknownConnector,
            )),
            Some(conn) if !conn.accepts_inbound() => Some(reject(
                550,
                S_NOT_AUTHORIZED,
                "This connector does not accept mail from the Internet",
                RejectReason::InboundNotAccepted { connector: c },
            )),
            _ => None,
        });
        Sender {
            identity,
            entry,
            submitted,
            ndr_sender: submitted && entry.is_some_and(|id| self.journal.is_ndr(id)),
            inbound,
            gate,
        }
    }
}

/// The state of one decision (or RCPT-time transaction) in progress.
pub(crate) struct Run<'a> {
    p: &'a Policy,
    /// The envelope's recipients, for the canonical rank of paths (empty when only
    /// verdicts are wanted).
    rcpts: &'a [Recipient],
    envelope_id: &'a str,
    sender: SenderIdentity,
    inbound: bool,
    gate: Option<Rejection>,
    /// Only the verdicts are wanted (RCPT time): no destinations, expansions or parties
    /// are recorded, but the expansion budget is spent exactly as `decide` spends it.
    verdict_only: bool,
    deliveries: Unique<Delivery, 4>,
    external: Unique<(ConnectorId, TransferRecipient), 4>,
    non_deliveries: Unique<NonDelivery, 1>,
    expanded: SmallVec<[EntryId; 2]>,
    parties: Option<SmallVec<[EntryId; 16]>>,
    budget: usize,
    /// The sender is a journal-NDR mailbox submitting: possibly the engine's own output,
    /// for which delivery addresses resolve.
    ndr_sender: bool,
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        p: &'a Policy,
        sender: &Sender,
        rcpts: &'a [Recipient],
        envelope_id: &'a str,
        verdict_only: bool,
    ) -> Self {
        Run {
            p,
            rcpts,
            envelope_id,
            sender: sender.identity,
            inbound: sender.inbound.is_some(),
            gate: sender.gate.clone(),
            verdict_only,
            deliveries: Unique::new(),
            external: Unique::new(),
            non_deliveries: Unique::new(),
            expanded: SmallVec::new(),
            parties: (!verdict_only && p.journal.needs_parties()).then(SmallVec::new),
            budget: p.limits.max_expansion,
            ndr_sender: sender.ndr_sender,
        }
    }

    /// The verdict for envelope recipient number `index`: the recipient limit, then the
    /// receiving connector, then the recipient itself.
    pub(crate) fn verdict(&mut self, index: usize, address: &Address) -> Disposition {
        if index >= self.p.limits.max_recipients {
            return Disposition::Reject(reject(
                452,
                S_TOO_MANY,
                "Too many recipients",
                RejectReason::TooManyRecipients,
            ));
        }
        if let Some(g) = &self.gate {
            return Disposition::Reject(g.clone());
        }
        self.recipient(u32::try_from(index).unwrap_or(u32::MAX), address)
    }

    fn party(&mut self, id: EntryId) {
        if let Some(p) = &mut self.parties {
            if self.p.journal.is_party(id) {
                p.push(id);
            }
        }
    }

    fn route(&self, address: &Address) -> Route {
        route(
            &self.p.connectors,
            address,
            Some(self.sender),
            self.envelope_id,
        )
    }

    fn recipient(&mut self, index: u32, a: &Address) -> Disposition {
        let dir = &self.p.dir;
        // A bare `postmaster` (RFC 5321 §4.5.1) is the organisation's postmaster.
        if a.domain().is_empty() {
            return match self.p.postmaster {
                Some(id) => self.local(index, a, id),
                None => Disposition::Reject(unknown_user()),
            };
        }
        // A delivery address never resolves from an envelope, so that nobody can write to
        // a journal mailbox through it; only the engine's own output (a journal copy fed
        // back under its NDR sender) reaches it.
        let delivery = dir.by_delivery(a);
        if delivery.is_some() && !self.ndr_sender {
            return Disposition::Reject(unknown_user());
        }
        if delivery.is_none() && !self.p.accepted.contains(a.domain()) {
            if self.inbound {
                return Disposition::Reject(reject(
                    550,
                    S_NOT_AUTHORIZED,
                    "Relaying denied",
                    RejectReason::RelayDenied,
                ));
            }
            return match self.route(a) {
                Route::Via(c) if self.verdict_only => Disposition::Transfer(c),
                Route::Via(c) => {
                    self.external.insert(
                        self.rcpts,
                        (
                            c,
                            TransferRecipient {
                                address: a.clone(),
                                via: Via::direct(index),
                                contact: None,
                            },
                        ),
                    );
                    Disposition::Transfer(c)
                }
                other => Disposition::Reject(route_failure(other)),
            };
        }
        match delivery.or_else(|| dir.by_address(a)) {
            Some(id) => self.local(index, a, id),
            None => Disposition::Reject(unknown_user()),
        }
    }

    /// A recipient that resolved to directory entry `id`.
    fn local(&mut self, index: u32, a: &Address, id: EntryId) -> Disposition {
        let Some(e) = self.p.dir.get(id) else {
            return Disposition::Reject(unknown_user());
        };
        if let Err(kind) = e.restrictions.check(self.sender) {
            return Disposition::Reject(restricted(id, kind, Shown::Address(a)));
        }
        let direct = || Via::direct(index);
        match e.kind() {
            EntryKind::DistributionList => {
                if e.flat.len() > self.budget {
                    return Disposition::Reject(reject(
                        452,
                        S_TOO_MANY,
                        "Too many recipients: list expansion limit reached",
                        RejectReason::TooManyRecipients,
                    ));
                }
                self.budget -= e.flat.len();
                if !self.verdict_only {
                    self.party(id);
                    self.expand(id, e, index);
                }
                Disposition::Expand(id)
            }
            EntryKind::Contact => match self.forward(id, e, direct()) {
                Ok(connector) => {
                    self.party(id);
                    Disposition::Forward {
                        contact: id,
                        connector,
                    }
                }
                Err(r) => Disposition::Reject(r),
            },
            EntryKind::Mailbox | EntryKind::PublicFolder => {
                if !self.verdict_only {
                    self.party(id);
                    self.deliveries.insert(
                        self.rcpts,
                        Delivery {
                            entry: id,
                            via: direct(),
                        },
                    );
                }
                Disposition::Deliver(id)
            }
        }
    }

    /// Routes a contact's target with the sender's rights.
    fn forward(&mut self, id: EntryId, e: &Entry, via: Via) -> Result<ConnectorId, Rejection> {
        let Some(target) = e.contact_target() else {
            return Err(route_failure(Route::Unroutable));
        };
        match self.route(target) {
            Route::Via(c) if self.verdict_only => Ok(c),
            Route::Via(c) => {
                self.external.insert(
                    self.rcpts,
                    (
                        c,
                        TransferRecipient {
                            address: target.clone(),
                            via,
                            contact: Some(id),
                        },
                    ),
                );
                Ok(c)
            }
            other => Err(route_failure(other)),
        }
    }

    fn mark_expanded(&mut self, id: EntryId) {
        if !self.expanded.contains(&id) {
            self.expanded.push(id);
        }
    }

    /// Expands a list along its pre-computed flattening. A member (or nested list)
    /// whose restrictions refuse the sender is not delivered and recorded; a refused
    /// nested list's members are skipped.
    fn expand(&mut self, list: EntryId, e: &Entry, rcpt: u32) {
        self.mark_expanded(list);
        if e.open && self.deliveries.items.is_empty() {
            // Fast path: nothing below restricts or forwards, and nothing has been
            // delivered yet, so the pre-computed unique leaves are the deliveries.
            for &n in e.nested.iter() {
                self.mark_expanded(n);
            }
            if let Some(p) = &mut self.parties {
                p.extend_from_slice(self.p.journal.list_parties(list));
            }
            let items = &mut self.deliveries.items;
            items.reserve(e.leaves.len());
            for leaf in e.leaves.iter() {
                let lists: SmallVec<[EntryId; 2]> = match leaf.chain.as_slice() {
                    [] => SmallVec::from_buf_and_len([list, list], 1),
                    [one] => SmallVec::from_buf([list, *one]),
                    more => {
                        let mut l = SmallVec::with_capacity(1 + more.len());
                        l.push(list);
                        l.extend_from_slice(more);
                        l
                    }
                };
                items.push(Delivery {
                    entry: leaf.entry,
                    via: Via {
                        recipient: rcpt,
                        lists,
                    },
                });
            }
            return;
        }
        let rcpts = self.rcpts;
        let Some(rcpt_address) = rcpts.get(rcpt as usize).map(|r| &r.address) else {
            return;
        };
        self.deliveries.items.reserve(e.flat.len());
        let mut chain: SmallVec<[EntryId; 4]> = smallvec![list];
        let flat = &e.flat;
        let mut i = 0usize;
        while let Some(m) = flat.get(i) {
            chain.truncate(usize::from(m.depth) + 1);
            let next = i + 1;
            let Some(me) = self.p.dir.get(m.entry) else {
                i = next;
                continue;
            };
            let via = Via {
                recipient: rcpt,
                lists: SmallVec::from_slice(&chain),
            };
            if let Err(kind) = me.restrictions.check(self.sender) {
                self.non_deliveries.insert(
                    self.rcpts,
                    NonDelivery {
                        entry: m.entry,
                        via,
                        rejection: restricted(m.entry, kind, shown_member(me, rcpt_address)),
                    },
                );
                i = m.end.map_or(next, |end| end as usize).max(next);
                continue;
            }
            match me.kind() {
                EntryKind::DistributionList => {
                    self.mark_expanded(m.entry);
                    self.party(m.entry);
                    chain.push(m.entry);
                }
                EntryKind::Contact => match self.forward(m.entry, me, via.clone()) {
                    Ok(_) => self.party(m.entry),
                    Err(rejection) => self.non_deliveries.insert(
                        self.rcpts,
                        NonDelivery {
                            entry: m.entry,
                            via,
                            rejection,
                        },
                    ),
                },
                EntryKind::Mailbox | EntryKind::PublicFolder => {
                    self.party(m.entry);
                    self.deliveries.insert(
                        self.rcpts,
                        Delivery {
                            entry: m.entry,
                            via,
                        },
                    );
                }
            }
            i = next;
        }
    }
}

impl Policy {
    /// Decides what happens to one envelope: a verdict for every recipient, the final
    /// destinations, archive and journal copies, and the tracking events.
    ///
    /// Never fails and never panics: configuration was validated when the policy was
    /// built, and any message bytes are acceptable (only the header block is scanned).
    pub fn decide(&self, envelope: &Envelope) -> Decision {
        let message = envelope.message();
        // Built in place, field by field: the decision is large and moving it costs.
        let mut d = Decision::empty(message.len());
        let scan = headers::scan(message, self.limits.max_header_bytes);
        let reverse = envelope.reverse_path().address();
        let who = self.sender(envelope.origin(), envelope.reverse_path());
        let submitted = who.submitted;
        let sender_entry = who.entry;
        let ndr_sender = who.ndr_sender;
        let inbound = who.inbound;
        let sender_local = submitted && reverse.is_none_or(|a| self.accepted.contains(a.domain()));
        let needs_parties = self.journal.needs_parties();
        let mut run = Run::new(
            self,
            &who,
            envelope.recipients(),
            envelope.envelope_id(),
            false,
        );
        let verdicts = &mut d.verdicts;
        verdicts.reserve(envelope.recipients().len());
        for (i, rcpt) in envelope.recipients().iter().enumerate() {
            verdicts.push(Verdict {
                recipient: rcpt.address.clone(),
                disposition: run.verdict(i, &rcpt.address),
            });
        }

        d.deliveries = run.deliveries.items;
        d.deliveries.sort_unstable_by_key(|d| d.entry);
        if !run.non_deliveries.items.is_empty() {
            d.non_deliveries = run.non_deliveries.items.into_vec();
            d.non_deliveries.sort_unstable_by_key(|n| n.entry);
        }
        // Sorted and drained where they are: moving the inline vector out costs a copy.
        let external = &mut run.external.items;
        external.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.address.cmp(&b.1.address)));
        let transfers = &mut d.transfers;
        for (c, relayed) in external.drain(..) {
            match transfers.last_mut() {
                Some(t) if t.connector == c => t.recipients.push(relayed),
                _ => transfers.push(Transfer {
                    connector: c,
                    recipients: smallvec![relayed],
                }),
            }
        }
        let mut expanded = run.expanded;
        expanded.sort_unstable();

        let accepted = d.verdicts.iter().any(|v| v.disposition.is_accepted());
        let local_recipient = !d.deliveries.is_empty()
            || d.verdicts.iter().any(|v| {
                matches!(
                    v.disposition,
                    Disposition::Deliver(_) | Disposition::Expand(_)
                )
            });

        // Loops and evasion. The engine's own output is exempt only when every condition
        // holds: submitted, from a journal-NDR address, and every recipient a journal
        // target, a member of one, or an NDR mailbox. The marker header alone never is.
        let resolved = |a: &Address| self.dir.by_address(a).or_else(|| self.dir.by_delivery(a));
        let all_rcpts =
            |f: &dyn Fn(&Address) -> bool| envelope.recipients().iter().all(|r| f(&r.address));
        let dsn_to_ndr = reverse.is_none()
            && all_rcpts(&|a| resolved(a).is_some_and(|id| self.journal.is_ndr(id)));
        let own_output = ndr_sender
            && all_rcpts(&|a| {
                resolved(a).is_some_and(|id| self.journal.is_system(id))
                    || self.journal.is_system_external(a)
            });
        let journal_exempt = dsn_to_ndr || own_output;
        let suspected_evasion = scan.journal_marker && !journal_exempt;

        let warnings = &mut d.warnings;
        if scan.truncated {
            warnings.push(Warning::HeaderScanTruncated {
                limit: self.limits.max_header_bytes,
            });
        }
        if suspected_evasion {
            warnings.push(Warning::SuspectedEvasion);
        }

        let mut outbound: SmallVec<[ConnectorId; 2]> = SmallVec::new();
        for t in &d.transfers {
            outbound.push(t.connector);
        }
        if accepted && !journal_exempt {
            let crossed = inbound
                .map(|c| (c, Direction::Inbound))
                .into_iter()
                .chain(outbound.iter().map(|&c| (c, Direction::Outbound)));
            for (connector, direction) in crossed {
                if self.connector(connector).is_some_and(|c| c.archival()) {
                    d.archive_copies.push(ArchiveCopy {
                        connector,
                        direction,
                    });
                }
            }
            let mut parties = run.parties.unwrap_or_default();
            if needs_parties {
                if let Some(e) = sender_entry.filter(|&e| self.journal.is_party(e)) {
                    parties.push(e);
                }
                parties.sort_unstable();
                parties.dedup();
            }
            let inputs = JournalInputs {
                inbound: if who.gate.is_none() { inbound } else { None },
                outbound: &outbound,
                parties: &parties,
                internal: sender_local && local_recipient,
                external: !sender_local || !d.transfers.is_empty(),
                format: self.format,
            };
            self.journal.collect(
                &self.dir,
                &self.connectors,
                &inputs,
                envelope.envelope_id(),
                &mut d.journal_copies,
                &mut d.warnings,
            );
        }

        d.traffic = match (inbound, d.transfers.is_empty()) {
            (Some(_), _) => Traffic::Inbound,
            (None, false) => Traffic::Outbound,
            (None, true) => Traffic::Internal,
        };
        track(
            &Parts {
                verdicts: &d.verdicts,
                deliveries: &d.deliveries,
                transfers: &d.transfers,
                non_deliveries: &d.non_deliveries,
                archive_copies: &d.archive_copies,
                journal_copies: &d.journal_copies,
            },
            envelope,
            &expanded,
            &mut d.tracking,
        );
        d.message_id = scan.message_id.map(|r| message.slice(r));
        d.subject = scan
            .subject
            .and_then(|r| Some((u32::try_from(r.start).ok()?, u32::try_from(r.end).ok()?)));
        d.journal_exempt = journal_exempt;
        d.suspected_evasion = suspected_evasion;
        d
    }
}
