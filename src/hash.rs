//! A small, fast, non-cryptographic hasher (the Fx hash of Firefox and rustc) for the
//! policy's look-up tables.
//!
//! Every table is keyed by configuration (addresses, names, entry ids); attacker input is
//! only ever looked up, never inserted, so collision flooding is not a concern and the
//! hot path can afford a hash that costs a few instructions a word.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The Fx hasher: one rotate, xor and multiply per word.
#[derive(Clone, Copy, Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

/// The last one to seven bytes of a `write` as one word that holds every one of them:
/// from four bytes on, the first four and the last four (overlapping); below, the first,
/// the middle and the last. Distinct tails of one length give distinct words, with a few
/// loads instead of a byte-wise copy.
#[inline]
fn tail_word(rest: &[u8]) -> u64 {
    let n = rest.len();
    let at = |i: usize| u64::from(rest.get(i).copied().unwrap_or(0));
    if n >= 4 {
        let word = |r: Option<&[u8]>| {
            r.and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, |b| u64::from(u32::from_le_bytes(b)))
        };
        word(rest.get(..4)) | word(rest.get(n - 4..)) << 32
    } else {
        at(0) | at(n / 2) << 8 | at(n.saturating_sub(1)) << 16
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            self.add(tail_word(rest));
            // The length tells apart tails whose words overlap or repeat bytes.
            self.add(rest.len() as u64);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with the Fx hasher.
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// A `HashSet` with the Fx hasher.
pub(crate) type FxHashSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// Lower-cases the ASCII letters of eight bytes at once (other bytes, UTF-8 included,
/// are unchanged).
#[inline]
fn fold_word(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let seven = w & !HI;
    // High bit set in bytes >= 'A', and in bytes > 'Z' (of the low seven bits).
    let ge_a = seven.wrapping_add(LO * u64::from(0x80 - b'A'));
    let gt_z = seven.wrapping_add(LO * u64::from(0x7f - b'Z'));
    let upper = (ge_a ^ gt_z) & !w & HI;
    w | (upper >> 2)
}

/// The hash of `s` ASCII-lower-cased, eight bytes at a time, without allocating: what
/// an [`Address`] computes once when it is parsed (so that look-ups never fold again),
/// and how a distinguished name is hashed.
///
/// Each word goes through a folded multiply (the 128-bit product's halves xor-ed), so
/// every bit of the state depends on every bit of the word: with Fx's rotate-xor-multiply
/// a difference in a word's high bits could cancel against the next word's, and about
/// 2 % of `user0@…`–`user99999@…` shared a hash.
///
/// [`Address`]: crate::address::Address
pub(crate) fn folded_hash(s: &[u8]) -> u64 {
    folded_hash_with(s, |_, _, _| ())
}

/// [`folded_hash`] of `s`, the offset of its first `@` and an offset after its last
/// ASCII upper-case letter (the end of its word; 0 if none), in the same pass over its words (what a
/// plain address needs: its `@` costs a few instructions a word instead of a search
/// byte by byte, and a domain without capitals needs no lower-casing).
#[inline]
pub(crate) fn folded_hash_and_at(s: &[u8]) -> (u64, Option<usize>, usize) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut at = None;
    let mut upper_end = 0;
    let h = folded_hash_with(s, |offset, w, folded| {
        if w != folded {
            upper_end = offset + 8;
        }
        if at.is_none() {
            // The bytes equal to `@` become zero; the lowest flagged byte is exact (a
            // borrow can only flag bytes above a zero byte), and padding is never `@`.
            let t = w ^ (LO * u64::from(b'@'));
            let zero = t.wrapping_sub(LO) & !t & HI;
            if zero != 0 {
                at = Some(offset + (zero.trailing_zeros() / 8) as usize);
            }
        }
    });
    (h, at, upper_end)
}

/// [`folded_hash`], calling `each` with the offset of every word's first byte, the word
/// (the last one zero-padded) and the word folded.
#[inline(always)]
fn folded_hash_with(s: &[u8], mut each: impl FnMut(usize, u64, u64)) -> u64 {
    let mut h = SEED;
    let mut offset = 0;
    while let Some(c) = s.get(offset..offset + 8) {
        let w = word(c);
        let folded = fold_word(w);
        each(offset, w, folded);
        h = fold_mul(h ^ folded);
        offset += 8;
    }
    let rest = s.len() - offset;
    // The last, partial word zero-padded: read as the last eight bytes (overlapping the
    // previous word) shifted down, when the text is that long; byte by byte otherwise.
    let last = if rest == 0 {
        0
    } else if offset >= 8 {
        s.get(s.len() - 8..).map_or(0, word) >> (8 * (8 - rest))
    } else {
        let mut w = [0u8; 8];
        for (d, s) in w.iter_mut().zip(s) {
            *d = *s;
        }
        u64::from_le_bytes(w)
    };
    let folded = fold_word(last);
    if rest > 0 {
        each(offset, last, folded);
    }
    fold_mul(h ^ folded ^ ((rest as u64) << 59))
}

/// The folded multiply: the two halves of `x` times an odd constant, xor-ed.
#[inline]
fn fold_mul(x: u64) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let p = u128::from(x) * u128::from(K);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Eight bytes as a little-endian word (zero when `c` is not eight bytes long).
#[inline]
fn word(c: &[u8]) -> u64 {
    c.try_into().map_or(0, u64::from_le_bytes)
}

/// FNV-1a 64: a stable hash, the same on every platform and release.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(&[b"a"]), fnv1a(&[b"a"]));
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
    }

    fn h<T: Hash + ?Sized>(t: &T) -> u64 {
        let mut s = FxHasher::default();
        t.hash(&mut s);
        s.finish()
    }

    /// Every tail of one to seven bytes over three byte values gets a word of its own
    /// among the tails of its length (exhaustive: a byte the word missed would make two
    /// tails that differ only there share one).
    #[test]
    fn tail_words_are_distinct_per_length() {
        let alphabet = [0u8, 0x61, 0xff];
        for n in 1..=7u32 {
            let mut words = std::collections::HashSet::new();
            let total = 3usize.pow(n);
            for k in 0..total {
                let t: Vec<u8> = (0..n).map(|i| alphabet[k / 3usize.pow(i) % 3]).collect();
                words.insert(tail_word(&t));
            }
            assert_eq!(words.len(), total, "tails of {n} bytes share a word");
        }
    }

    #[test]
    fn distinguishes_lengths_and_contents() {
        assert_ne!(h(&b"a"[..]), h(&b"a\0"[..]));
        assert_ne!(h("alice@example.com"), h("alicf@example.com"));
        let fold = |s: &str| folded_hash(s.as_bytes());
        assert_eq!(fold("Alice@Example.COM"), fold("alice@example.com"));
        assert_eq!(fold(&"X".repeat(100)), fold(&"x".repeat(100)));
        assert_ne!(fold(&"x".repeat(100)), fold(&"x".repeat(101)));
    }

    #[test]
    fn folded_hash_has_no_collisions_among_numbered_addresses() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..200_000 {
            let a = format!("user{i}@example.com");
            assert!(seen.insert(folded_hash(a.as_bytes())), "{a} collides");
            // The high half is what an address keeps.
        }
        let high: std::collections::HashSet<u32> = seen.iter().map(|h| (h >> 32) as u32).collect();
        // 200 000 random 32-bit values collide about 5 times; far more means structure.
        assert!(
            seen.len() - high.len() < 50,
            "{} collisions in the high half",
            seen.len() - high.len()
        );
    }

    #[test]
    fn folded_hash_folds_ascii_letters_only() {
        for b in 0..=255u8 {
            let w = u64::from_le_bytes([b; 8]);
            assert_eq!(
                fold_word(w),
                u64::from_le_bytes([b.to_ascii_lowercase(); 8]),
                "{b}"
            );
        }
        let f = |s: &str| folded_hash(s.as_bytes());
        assert_eq!(f("Alice.Smith@Example.COM"), f("alice.smith@example.com"));
        assert_ne!(f("alice@example.com"), f("alicf@example.com"));
        assert_ne!(f("a"), f("a\0"));
        assert_ne!(f("abcdefgh"), f("abcdefgh\0"));
        assert_ne!(f("[@]^_`{"), f("{@}~_`["));
    }

    proptest::proptest! {
        /// The folded hash is the hash of the lower-cased text in zero-padded words,
        /// whatever its length (the last word is read overlapping when it is partial).
        #[test]
        fn folded_hash_is_the_hash_of_the_zero_padded_lower_case_words(
            s in proptest::collection::vec(proptest::sample::select(b"aZ@.-\0\xff[{".to_vec()), 0..40),
        ) {
            let lower = s.to_ascii_lowercase();
            let full = lower.len() / 8 * 8;
            let mut h = SEED;
            for c in lower[..full].chunks(8) {
                h = fold_mul(h ^ u64::from_le_bytes(c.try_into().unwrap()));
            }
            let mut w = [0u8; 8];
            w[..lower.len() - full].copy_from_slice(&lower[full..]);
            let h = fold_mul(h ^ u64::from_le_bytes(w) ^ (((lower.len() - full) as u64) << 59));
            proptest::prop_assert_eq!(folded_hash(&s), h);
            let at = s.iter().position(|&b| b == b'@');
            let upper = s.iter().rposition(u8::is_ascii_uppercase).map_or(0, |i| i + 1);
            let (hash, first_at, upper_end) = folded_hash_and_at(&s);
            proptest::prop_assert_eq!((hash, first_at), (h, at));
            proptest::prop_assert!(upper <= upper_end && upper_end <= (upper + 7).min(s.len() + 7));
            proptest::prop_assert_eq!(upper == 0, upper_end == 0);
        }
    }
}
