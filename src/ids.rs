//! Leaf types: the identifiers of a built policy's entries, connectors and rules, and the
//! direction a message crosses a connector in. This module imports nothing.
//!
//! An identifier is only meaningful for the [`Policy`](crate::Policy) that issued it: it
//! carries that policy's stamp (a fingerprint of its configuration), so an id that came
//! from another policy — say, one built before a configuration reload — is recognised as
//! foreign instead of silently naming whatever sits at the same position. Policies built
//! from equal configurations issue equal ids.

use std::fmt;

/// The fingerprint of the configuration a policy was built from, carried by its ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Stamp(pub(crate) u32);

macro_rules! policy_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            index: u32,
            stamp: Stamp,
        }

        impl $name {
            pub(crate) const fn new(index: u32, stamp: Stamp) -> Self {
                $name { index, stamp }
            }

            #[doc = concat!("The ", $what, "'s position in the configuration's list.")]
            pub fn index(self) -> usize {
                self.index as usize
            }

            pub(crate) fn stamp(self) -> Stamp {
                self.stamp
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($what, " #{}"), self.index)
            }
        }
    };
}

policy_id!(
    /// Identifies an entry of a built [`Policy`](crate::Policy)'s directory; get one from
    /// [`Policy::resolve`](crate::Policy::resolve) or a decision.
    EntryId,
    "entry"
);
policy_id!(
    /// Identifies a connector of a built [`Policy`](crate::Policy); get one from
    /// [`Policy::connector_id`](crate::Policy::connector_id).
    ConnectorId,
    "connector"
);
policy_id!(
    /// Identifies a journal rule of a built [`Policy`](crate::Policy).
    RuleId,
    "journal rule"
);

/// The direction a message crosses a connector in. Closed by definition: a connector is
/// crossed inbound or outbound, nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Arriving from the Internet.
    Inbound,
    /// Leaving for the Internet.
    Outbound,
}

impl fmt::Display for Direction {
    /// `Inbound` / `Outbound`, as in the registry names `InboundJournal` / `OutboundJournal`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_compare_within_one_policy() {
        let a = EntryId::new(3, Stamp(7));
        assert_eq!(a.to_string(), "entry #3");
        assert_eq!(a.index(), 3);
        assert_ne!(a, EntryId::new(3, Stamp(8)));
        assert!(EntryId::new(2, Stamp(7)) < a);
        assert_eq!(ConnectorId::new(1, Stamp(0)).to_string(), "connector #1");
        assert_eq!(RuleId::new(0, Stamp(0)).to_string(), "journal rule #0");
        assert_eq!(Direction::Outbound.to_string(), "Outbound");
    }
}
