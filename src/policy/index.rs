//! A compact hash index of items named by `u32` (directory positions), whose keys live
//! elsewhere (in the entries): the directory's SMTP-address, name and distinguished-name tables.
//!
//! A `HashMap<Arc<str>, EntryId>` costs 24 bytes a bucket, about 50 bytes an entry at a
//! million entries; this table keeps one word a slot — the key's 32-bit hash and the
//! item — and asks the caller whether an item's key is the one looked for, so the
//! keys are never copied. The hash in the slot skips almost every other item without
//! reading its key, and lets the table grow without the keys.

/// Open addressing with linear probing over a power-of-two number of slots, at most
/// half full: a miss (an address from outside the directory, as most senders of inbound
/// mail are) walks about 2.5 slots then, against about 9 at three quarters full. The
/// probe starts where [`home`] puts the hash, so callers pass their hashes as they are.
#[derive(Clone, Debug, Default)]
pub(crate) struct IndexTable {
    /// `hash << 32 | (item + 1)`; 0 is an empty slot.
    slots: Box<[u64]>,
    len: usize,
}

impl IndexTable {
    /// The largest item the table can hold.
    pub(crate) const MAX_ITEM: u32 = u32::MAX - 1;

    /// A table that holds `n` items without growing.
    pub(crate) fn with_capacity(n: usize) -> Self {
        let mut t = IndexTable::default();
        t.reserve(n);
        t
    }

    fn reserve(&mut self, additional: usize) {
        let need = self.len.saturating_add(additional);
        if need.saturating_mul(2) < self.slots.len() {
            return;
        }
        let size = (need.saturating_mul(2) + 1).next_power_of_two().max(8);
        let old = std::mem::replace(&mut self.slots, vec![0; size].into_boxed_slice());
        for slot in old.iter().copied().filter(|&s| s != 0) {
            self.place(slot);
        }
    }

    /// Puts `slot` into the first free slot of its probe sequence.
    fn place(&mut self, slot: u64) {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = home((slot >> 32) as u32, mask);
        // The table is never full, so the probe ends.
        while let Some(s) = self.slots.get_mut(i) {
            if *s == 0 {
                *s = slot;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The first item under `hash` whose key `is_key` accepts.
    pub(crate) fn find(&self, hash: u32, mut is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = home(hash, mask);
        loop {
            let s = *self.slots.get(i)?;
            if s == 0 {
                return None;
            }
            if (s >> 32) as u32 == hash {
                let item = (s as u32).wrapping_sub(1);
                if is_key(item) {
                    return Some(item);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `item` under `hash` unless an item with the same key (as `is_key` says) is
    /// there already: then that item is the error. `item` is at most
    /// [`IndexTable::MAX_ITEM`].
    pub(crate) fn insert(
        &mut self,
        hash: u32,
        item: u32,
        is_key: impl FnMut(u32) -> bool,
    ) -> Result<(), u32> {
        if let Some(prev) = self.find(hash, is_key) {
            return Err(prev);
        }
        self.reserve(1);
        self.place((u64::from(hash) << 32) | (u64::from(item) + 1));
        self.len += 1;
        Ok(())
    }
}

/// The first slot of `hash`'s probe sequence: the hash multiplied by 2^64 / φ, whose bits
/// from 32 up depend on every bit of the hash (Fibonacci hashing), so hashes whose low
/// bits are alike — names differing in a trailing digit — still start apart.
#[inline]
fn home(hash: u32, mask: usize) -> usize {
    (u64::from(hash).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted_and_refuses_duplicates() {
        let keys: Vec<String> = (0..1000).map(|i| format!("k{i}")).collect();
        // A bad hash (many collisions) and growth from nothing.
        let h = |k: &str| (k.len() as u32) << 3;
        let mut t = IndexTable::default();
        for (i, k) in keys.iter().enumerate() {
            let is = |j: u32| keys[j as usize] == *k;
            assert_eq!(t.insert(h(k), i as u32, is), Ok(()));
        }
        for (i, k) in keys.iter().enumerate() {
            let is = |j: u32| keys[j as usize] == *k;
            assert_eq!(t.find(h(k), is), Some(i as u32));
            assert_eq!(t.insert(h(k), 5000, is), Err(i as u32));
        }
        assert_eq!(t.find(h("nope"), |j| keys[j as usize] == "nope"), None);
        assert_eq!(IndexTable::default().find(0, |_| true), None);
        let t = IndexTable::with_capacity(1000);
        assert_eq!(t.slots.len(), 2048);
    }
}
