//! Layer 3, deciding: [`Policy::decide`](crate::Policy::decide) and the
//! [`Decision`](crate::Decision) it returns — verdicts, destinations, archive and journal
//! copies, tracking events — plus the readable account of a decision.

pub(crate) mod decision;
pub(crate) mod engine;
pub(crate) mod explain;
pub(crate) mod journal;
pub(crate) mod rcpt;
pub(crate) mod tracking;
