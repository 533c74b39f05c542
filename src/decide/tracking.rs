//! The message-tracking events of a decision. Connector traffic is always tracked: no
//! setting turns it off (seed Q164175 is exactly that failure).

use smallvec::{SmallVec, smallvec};

use crate::decide::decision::{
    ArchiveCopy, Delivery, Destination, EventKind, JournalCopy, NonDelivery, Party, TrackingEvent,
    Transfer, Verdict,
};
use crate::envelope::{Envelope, Origin};
use crate::ids::{ConnectorId, EntryId};

/// The parts of a decision that tracking reports on.
pub(crate) struct Parts<'a> {
    pub verdicts: &'a [Verdict],
    pub deliveries: &'a [Delivery],
    pub transfers: &'a [Transfer],
    pub non_deliveries: &'a [NonDelivery],
    pub archive_copies: &'a [ArchiveCopy],
    pub journal_copies: &'a [JournalCopy],
}

/// The tracking events of a decision (ARCHITECTURE.md §3.7). Connector traffic is always tracked.
pub(crate) fn track(
    d: &Parts<'_>,
    env: &Envelope,
    expanded: &[EntryId],
    out: &mut SmallVec<[TrackingEvent; 4]>,
) {
    let event = |kind, connector, recipients: SmallVec<[Party; 4]>| TrackingEvent {
        kind,
        connector,
        recipients,
        related: None,
        status: None,
        journal_copy: None,
    };
    // Pushes, not `collect`: SmallVec's generic `extend` costs more than the few items.
    let mut everyone = SmallVec::new();
    for r in env.recipients() {
        everyone.push(Party::Address(r.address.clone()));
    }
    out.push(match env.origin() {
        Origin::Inbound { connector } => event(EventKind::Receive, Some(connector), everyone),
        Origin::Submitted => event(EventKind::Submit, None, everyone),
    });
    for &list in expanded {
        out.push(event(
            EventKind::Expand,
            None,
            smallvec![Party::Entry(list)],
        ));
    }
    // One DELIVER event per list the deliveries came through (none for direct ones), as
    // Exchange logs them: the mailboxes, with the list as the related recipient.
    // Deliveries of one list are usually contiguous: check the previous group first.
    let first_deliver = out.len();
    let mut last: Option<(Option<EntryId>, usize)> = None;
    let mut rest = d.deliveries;
    while let Some(first) = rest.first() {
        let key = first.via.lists.first().copied();
        // The run of deliveries through the same list, pushed at once: one reservation
        // for a list of thousands, not a regrowth at every doubling.
        let run = rest
            .iter()
            .position(|del| del.via.lists.first().copied() != key)
            .unwrap_or(rest.len());
        let (now, later) = rest.split_at(run);
        rest = later;
        let at = match last {
            Some((k, at)) if k == key => at,
            _ => {
                let found = out
                    .get(first_deliver..)
                    .and_then(|evs| evs.iter().position(|e| e.related == key.map(Party::Entry)))
                    .map(|i| first_deliver + i);
                found.unwrap_or_else(|| {
                    let mut e = event(EventKind::Deliver, None, SmallVec::new());
                    e.related = key.map(Party::Entry);
                    out.push(e);
                    out.len() - 1
                })
            }
        };
        last = Some((key, at));
        if let Some(e) = out.get_mut(at) {
            if let [one] = now {
                e.recipients.push(Party::Entry(one.entry));
            } else {
                e.recipients.reserve(now.len());
                for del in now {
                    e.recipients.push(Party::Entry(del.entry));
                }
            }
        }
    }
    for t in d.transfers {
        let mut rcpts = SmallVec::new();
        for r in &t.recipients {
            rcpts.push(Party::Address(r.address.clone()));
        }
        out.push(event(EventKind::Transfer, Some(t.connector), rcpts));
    }
    let mut report = false;
    for (v, r) in d
        .verdicts
        .iter()
        .zip(env.recipients())
        .filter_map(|(v, r)| v.disposition.rejection().map(|rej| ((v, rej), r)))
    {
        let (v, rej) = v;
        let mut e = event(
            EventKind::Fail,
            None,
            smallvec![Party::Address(v.recipient.clone())],
        );
        e.status = Some((rej.reply.code, rej.reply.status));
        out.push(e);
        report |= env.origin() == Origin::Submitted && r.notify.reports_failure();
    }
    for n in d.non_deliveries {
        let mut e = event(EventKind::Fail, None, smallvec![Party::Entry(n.entry)]);
        e.related = d
            .verdicts
            .get(n.via.recipient as usize)
            .map(|v| Party::Address(v.recipient.clone()));
        e.status = Some((n.rejection.reply.code, n.rejection.reply.status));
        out.push(e);
        report |= env
            .recipients()
            .get(n.via.recipient as usize)
            .is_none_or(|r| r.notify.reports_failure());
    }
    if let (true, Some(sender)) = (report, env.reverse_path().address()) {
        out.push(event(
            EventKind::Dsn,
            None,
            smallvec![Party::Address(sender.clone())],
        ));
    }
    for a in d.archive_copies {
        out.push(event(
            EventKind::Archive,
            Some(a.connector),
            SmallVec::new(),
        ));
    }
    for j in d.journal_copies {
        let mut rcpts = SmallVec::new();
        for dst in &j.recipients {
            rcpts.push(match dst {
                Destination::Local(id) => Party::Entry(*id),
                Destination::External { address, .. } => Party::Address(address.clone()),
            });
        }
        let mut e = event(EventKind::Journal, None, rcpts);
        e.related = Some(Party::Entry(j.ndr));
        e.journal_copy = Some(j.ndr);
        out.push(e);
        // A copy that leaves through a connector is connector traffic too (seed Q164175):
        // a SEND on every connector it crosses. Destinations are sorted, so those of one
        // connector need not be contiguous; group them in connector order.
        let mut crossed: SmallVec<[ConnectorId; 1]> = j
            .recipients
            .iter()
            .filter_map(|dst| match dst {
                Destination::External { connector, .. } => Some(*connector),
                Destination::Local(_) => None,
            })
            .collect();
        crossed.sort_unstable();
        crossed.dedup();
        for c in crossed {
            let rcpts = j
                .recipients
                .iter()
                .filter_map(|dst| match dst {
                    Destination::External { address, connector } if *connector == c => {
                        Some(Party::Address(address.clone()))
                    }
                    _ => None,
                })
                .collect();
            let mut e = event(EventKind::Transfer, Some(c), rcpts);
            e.related = Some(Party::Entry(j.ndr));
            e.journal_copy = Some(j.ndr);
            out.push(e);
        }
    }
}
