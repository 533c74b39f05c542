//! Layer 2, the compiled policy: the directory (entries, flattened lists, address index),
//! restrictions, connectors and their address-space patterns, routing, the journal index,
//! the build that checks everything ([`ConfigError`](crate::ConfigError)) and the audit.
//! Nothing here knows about a particular message.

pub(crate) mod accepted;
pub(crate) mod audit;
pub(crate) mod compiled;
pub(crate) mod connector;
pub(crate) mod directory;
pub(crate) mod index;
pub(crate) mod journal;
pub(crate) mod pattern;
pub(crate) mod restrict;
pub(crate) mod route;
