//! [`Rendered`]: output as a few shared chunks.

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;

/// Rendered output: a few chunks, the original message shared rather than copied.
///
/// ```
/// use mail_journal::render::Rendered;
/// use bytes::Bytes;
/// let r = Rendered::from_chunks([Bytes::from_static(b"a"), Bytes::from_static(b"bc")]);
/// assert_eq!(r.len(), 3);
/// assert_eq!(r.to_vec(), b"abc");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    chunks: SmallVec<[Bytes; 3]>,
}

impl Rendered {
    /// Output made of the given chunks, in order (empty chunks are dropped).
    pub fn from_chunks(chunks: impl IntoIterator<Item = Bytes>) -> Self {
        Rendered {
            chunks: chunks.into_iter().filter(|c| !c.is_empty()).collect(),
        }
    }

    /// The chunks, in order: write them one after another (or in one vectored write).
    pub fn chunks(&self) -> &[Bytes] {
        &self.chunks
    }

    /// The chunks, by value.
    pub fn into_chunks(self) -> Vec<Bytes> {
        self.chunks.into_vec()
    }

    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
    }

    /// Whether there is nothing at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All chunks copied into one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        for c in &self.chunks {
            v.extend_from_slice(c);
        }
        v
    }

    /// All chunks as one `Bytes` (copies unless there is a single chunk).
    pub fn to_bytes(&self) -> Bytes {
        match self.chunks.as_slice() {
            [one] => one.clone(),
            many => {
                let mut b = BytesMut::with_capacity(self.len());
                for c in many {
                    b.extend_from_slice(c);
                }
                b.freeze()
            }
        }
    }
}
