//! Delivery restrictions, compiled: "Accept messages from" / "Reject messages from".
//!
//! As in Exchange 5.5, a sender is refused when it is in the reject set, or when the
//! accept list is not "all" and the sender is not in it; reject wins over accept. A
//! distribution list in a list stands for itself and its flattened members. A sender that
//! is not a directory object is refused by any accept list and passes any reject list.

use std::fmt;

use crate::ids::EntryId;

/// Who the sender of a message is, for restriction checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SenderIdentity {
    /// The directory entry the reverse path resolves to, if any.
    pub entry: Option<EntryId>,
    /// Whether the identity may be used to pass an accept list. An Internet sender that
    /// claims an internal address is not authenticated: it is still caught by reject
    /// lists, but never admitted by an accept list.
    pub trusted: bool,
}

/// Why a restriction refused a sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RestrictionKind {
    /// The sender is on the "Reject messages from" list.
    RejectList,
    /// The accept list is not "all" and the sender is not on it.
    NotOnAcceptList,
}

impl fmt::Display for RestrictionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RestrictionKind::RejectList => "the sender is on its reject list",
            RestrictionKind::NotOnAcceptList => "the sender is not on its accept list",
        })
    }
}

/// Compiled restrictions: sorted, flattened entry sets, behind one pointer that is null
/// for the many entries anyone may send to (one word of every entry, not four).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Restrictions(Option<Box<Sets>>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Sets {
    accept: Option<Box<[EntryId]>>,
    reject: Box<[EntryId]>,
}

impl Restrictions {
    pub(crate) fn new(accept: Option<Vec<EntryId>>, reject: Vec<EntryId>) -> Self {
        if accept.is_none() && reject.is_empty() {
            return Restrictions(None);
        }
        let norm = |mut v: Vec<EntryId>| {
            v.sort_unstable();
            v.dedup();
            v.into_boxed_slice()
        };
        Restrictions(Some(Box::new(Sets {
            accept: accept.map(norm),
            reject: norm(reject),
        })))
    }

    /// `true` when anyone may send.
    pub(crate) fn is_unrestricted(&self) -> bool {
        self.0.is_none()
    }

    /// Checks a sender; reject wins over accept.
    pub(crate) fn check(&self, sender: SenderIdentity) -> Result<(), RestrictionKind> {
        let Some(sets) = &self.0 else {
            return Ok(());
        };
        if let Some(e) = sender.entry {
            if sets.reject.binary_search(&e).is_ok() {
                return Err(RestrictionKind::RejectList);
            }
        }
        match &sets.accept {
            None => Ok(()),
            Some(list) => match sender.entry {
                Some(e) if sender.trusted && list.binary_search(&e).is_ok() => Ok(()),
                _ => Err(RestrictionKind::NotOnAcceptList),
            },
        }
    }

    pub(crate) fn accept_list(&self) -> Option<&[EntryId]> {
        self.0.as_ref().and_then(|s| s.accept.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> EntryId {
        EntryId::new(n, crate::ids::Stamp::default())
    }
    fn who(e: Option<u32>) -> SenderIdentity {
        SenderIdentity {
            entry: e.map(id),
            trusted: true,
        }
    }

    #[test]
    fn reject_wins_over_accept() {
        let r = Restrictions::new(Some(vec![id(1), id(2)]), vec![id(2)]);
        assert_eq!(r.check(who(Some(1))), Ok(()));
        assert_eq!(r.check(who(Some(2))), Err(RestrictionKind::RejectList));
        assert_eq!(r.check(who(Some(3))), Err(RestrictionKind::NotOnAcceptList));
    }

    #[test]
    fn outsiders_fail_accept_lists_and_pass_reject_lists() {
        let accept = Restrictions::new(Some(vec![id(1)]), vec![]);
        assert_eq!(
            accept.check(who(None)),
            Err(RestrictionKind::NotOnAcceptList)
        );
        let reject = Restrictions::new(None, vec![id(1)]);
        assert_eq!(reject.check(who(None)), Ok(()));
        assert!(Restrictions::default().is_unrestricted());
    }

    #[test]
    fn untrusted_identity_never_passes_an_accept_list_but_is_still_rejected() {
        let r = Restrictions::new(Some(vec![id(1)]), vec![id(2)]);
        let forged = |n| SenderIdentity {
            entry: Some(id(n)),
            trusted: false,
        };
        assert_eq!(r.check(forged(1)), Err(RestrictionKind::NotOnAcceptList));
        assert_eq!(r.check(forged(2)), Err(RestrictionKind::RejectList));
    }
}
