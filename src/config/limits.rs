//! Limits that keep every build and every decision bounded.

/// Limits that keep every decision bounded. Hitting one is an explicit error (at build)
/// or rejection (at decide), never a silent drop.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Recipients per envelope; the excess is refused with `452 4.5.3`.
    pub max_recipients: usize,
    /// Flattened members of one distribution list (a configuration error when exceeded).
    pub max_list_members: usize,
    /// Nesting depth of distribution lists (a configuration error when exceeded).
    pub max_nesting_depth: usize,
    /// Bytes of header block scanned per message.
    pub max_header_bytes: usize,
    /// List members visited per message; a list recipient that would exceed it is
    /// refused with `452 4.5.3`. At least `max_list_members`.
    pub max_expansion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_recipients: 1000,
            max_list_members: 100_000,
            max_nesting_depth: 32,
            max_header_bytes: 1024 * 1024,
            max_expansion: 1_000_000,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_recipients`].
    pub fn max_recipients(mut self, n: usize) -> Self {
        self.max_recipients = n;
        self
    }
    /// Sets [`Limits::max_list_members`].
    pub fn max_list_members(mut self, n: usize) -> Self {
        self.max_list_members = n;
        self
    }
    /// Sets [`Limits::max_nesting_depth`].
    pub fn max_nesting_depth(mut self, n: usize) -> Self {
        self.max_nesting_depth = n;
        self
    }
    /// Sets [`Limits::max_header_bytes`].
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.max_header_bytes = n;
        self
    }
    /// Sets [`Limits::max_expansion`].
    pub fn max_expansion(mut self, n: usize) -> Self {
        self.max_expansion = n;
        self
    }
}
