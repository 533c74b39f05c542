//! The floor of a decision (issue 10): what any engine must do for the realistic message
//! against the scaled directory — three hash look-ups of pre-folded addresses (sender,
//! recipient, the journal-NDR mailbox) in a `HashMap` of every SMTP address, and one
//! `memchr` pass over the header block looking for the journal marker at each line start.
//! `decide` is measured against it in the same run.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use mail_journal::JOURNAL_MARKER;

/// The Fx hash, as the engine's tables use (the floor must not lose by its hasher).
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Every SMTP address of the directory, lower-cased, to its entry number.
pub struct Floor {
    map: HashMap<Box<str>, u32, BuildHasherDefault<Fx>>,
    keys: [Box<str>; 3],
}

impl Floor {
    /// The directory of `super::scaled(fillers)`, as folded keys; the look-ups of case (a).
    pub fn new(fillers: usize) -> Floor {
        let cfg = super::scaled_config(fillers);
        let mut map: HashMap<Box<str>, u32, BuildHasherDefault<Fx>> = HashMap::default();
        map.reserve(cfg.entries.len());
        for (n, e) in (0u32..).zip(&cfg.entries) {
            for p in &e.proxies {
                if let Some(a) = p.strip_prefix("SMTP:").or_else(|| p.strip_prefix("smtp:")) {
                    map.insert(a.to_ascii_lowercase().into(), n);
                }
            }
        }
        let keys = [
            "bob@partner.example",
            "dave@example.com",
            "inbound-journal-ndr@example.com",
        ]
        .map(Box::from);
        Floor { map, keys }
    }

    /// The floor's work for one message: three look-ups and the marker scan.
    #[inline(never)]
    pub fn run(&self, message: &[u8]) -> (u32, bool) {
        let mut found = 0u32;
        for k in &self.keys {
            found = found.wrapping_add(self.map.get(k).copied().unwrap_or(u32::MAX));
        }
        (found, has_marker(message))
    }
}

/// One pass over the header block: at each line start, the blank line ends it; a line
/// that starts with the marker's name and a colon is the marker. Lines are found with
/// the same searcher as the engine's header scan (memchr's AVX2 one where there is AVX2),
/// so that the floor does not lose by its primitive either.
pub fn has_marker(message: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if let Some(one) = memchr::arch::x86_64::avx2::memchr::One::new(b'\n') {
        return marker_at_a_line_start(message, one.iter(message));
    }
    marker_at_a_line_start(message, memchr::memchr_iter(b'\n', message))
}

fn marker_at_a_line_start(message: &[u8], mut lines: impl Iterator<Item = usize>) -> bool {
    let marker = JOURNAL_MARKER.as_bytes();
    let mut start = 0usize;
    loop {
        let line = &message[start..];
        if line.starts_with(b"\r\n") || line.starts_with(b"\n") {
            return false;
        }
        if line.len() > marker.len()
            && line[marker.len()] == b':'
            && line[..marker.len()].eq_ignore_ascii_case(marker)
        {
            return true;
        }
        match lines.next() {
            Some(n) => start = n + 1,
            None => return false,
        }
    }
}
