//! Checkpoints as one-line statements an operator anchors outside the system, and the
//! Ed25519 key files that sign them.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::seal::entry::{Hash, format_time, hex, parse_time, unhex};
use crate::time::Timestamp;

/// A checkpoint: "the chain of `node` holds `count` entries before this checkpoint, the
/// last of which has hash `head`, as of `time`", optionally signed.
///
/// Its [anchor line](Checkpoint::anchor_line) is what an operator copies out of the
/// system (a ticket, a timestamping service, a WORM bucket):
///
/// ```text
/// mail-journal checkpoint node=mx1 count=1199 head=9f2c…(64 hex) time=2026-11-22T23:59:59Z sig=…(128 hex)
/// ```
///
/// The signature is Ed25519 over the line's text before ` sig=` (the *statement*).
///
/// ```
/// use mail_journal::seal::{Checkpoint, SigningKey};
/// use mail_journal::Timestamp;
/// let key = SigningKey::from_bytes(&[7; 32]);
/// let cp = Checkpoint::new("mx1", 1199, [0x9f; 32], Timestamp::from_unix(1_795_391_999))
///     .signed(&key);
/// let line = cp.anchor_line();
/// assert!(line.starts_with("mail-journal checkpoint node=mx1 count=1199 head=9f9f"));
/// let back = Checkpoint::parse_anchor(&line)?;
/// assert_eq!(back, cp);
/// assert!(back.verify(&key.verifying_key()));
/// # Ok::<(), mail_journal::seal::AnchorError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    node: String,
    count: u64,
    head: Hash,
    time: Timestamp,
    signature: Option<[u8; 64]>,
}

/// An anchor line that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorError {
    /// The line does not have the anchor form.
    #[error(
        "not a checkpoint anchor line ({reason}): {line:?}; expected `mail-journal checkpoint node=… count=… head=… time=…[ sig=…]`"
    )]
    Form {
        /// What is wrong.
        reason: String,
        /// The line.
        line: String,
    },
}

impl Checkpoint {
    /// An unsigned checkpoint.
    pub fn new(node: &str, count: u64, head: [u8; 32], time: Timestamp) -> Self {
        Checkpoint {
            node: node.to_owned(),
            count,
            head,
            time,
            signature: None,
        }
    }

    /// Signed with `key`.
    pub fn signed(mut self, key: &SigningKey) -> Self {
        self.signature = Some(key.sign(self.statement().as_bytes()).to_bytes());
        self
    }

    /// With a signature read from a chain line.
    pub(crate) fn with_signature(mut self, sig: [u8; 64]) -> Self {
        self.signature = Some(sig);
        self
    }

    /// The node whose chain it covers.
    pub fn node(&self) -> &str {
        &self.node
    }
    /// The number of entries covered (the checkpoint entry itself has sequence number
    /// `count + 1`).
    pub fn count(&self) -> u64 {
        self.count
    }
    /// The hash of entry `count` (64 zero bytes' worth of zeros when `count` is 0).
    pub fn head(&self) -> [u8; 32] {
        self.head
    }
    /// The time it was taken.
    pub fn time(&self) -> Timestamp {
        self.time
    }
    /// The Ed25519 signature over [`Checkpoint::statement`], if signed.
    pub fn signature(&self) -> Option<[u8; 64]> {
        self.signature
    }

    /// What the signature signs: `mail-journal checkpoint node=<node> count=<count>
    /// head=<64 hex> time=<YYYY-MM-DDTHH:MM:SSZ>`.
    pub fn statement(&self) -> String {
        let time = format_time(self.time).unwrap_or_else(|| self.time.to_string());
        format!(
            "mail-journal checkpoint node={} count={} head={} time={time}",
            self.node,
            self.count,
            hex(&self.head)
        )
    }

    /// The statement, then ` sig=<128 hex>` when signed: one line (no newline) to
    /// anchor outside the system.
    pub fn anchor_line(&self) -> String {
        let mut s = self.statement();
        if let Some(sig) = &self.signature {
            s.push_str(" sig=");
            s.push_str(&hex(sig));
        }
        s
    }

    /// Whether the checkpoint carries a valid signature by `key`'s owner.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        self.signature.is_some_and(|sig| {
            key.verify_strict(self.statement().as_bytes(), &Signature::from_bytes(&sig))
                .is_ok()
        })
    }

    /// Reads an [anchor line](Checkpoint::anchor_line) back (surrounding whitespace is
    /// ignored).
    pub fn parse_anchor(line: &str) -> Result<Checkpoint, AnchorError> {
        let fail = |reason: &str| AnchorError::Form {
            reason: reason.to_owned(),
            line: line.to_owned(),
        };
        let mut words = line.split_whitespace();
        if words.next() != Some("mail-journal") || words.next() != Some("checkpoint") {
            return Err(fail("it does not start with `mail-journal checkpoint`"));
        }
        let mut value = |name: &str| -> Result<&str, AnchorError> {
            words
                .next()
                .and_then(|w| w.strip_prefix(name))
                .and_then(|w| w.strip_prefix('='))
                .ok_or_else(|| fail(&format!("`{name}=` expected")))
        };
        let node = value("node")?.to_owned();
        if !crate::seal::paths::valid_node(&node) {
            return Err(fail("invalid node name"));
        }
        let count_text = value("count")?;
        let count = count_text
            .parse::<u64>()
            .ok()
            .filter(|c| c.to_string() == count_text)
            .ok_or_else(|| fail("`count` is not a number"))?;
        let head = unhex::<32>(value("head")?)
            .ok_or_else(|| fail("`head` is not 64 lower-case hex digits"))?;
        let time =
            parse_time(value("time")?).ok_or_else(|| fail("`time` is not YYYY-MM-DDTHH:MM:SSZ"))?;
        let signature = match words.next() {
            None => None,
            Some(w) => Some(
                w.strip_prefix("sig=")
                    .and_then(unhex::<64>)
                    .ok_or_else(|| fail("`sig` is not 128 lower-case hex digits"))?,
            ),
        };
        if words.next().is_some() {
            return Err(fail("unexpected text after the last field"));
        }
        Ok(Checkpoint {
            node,
            count,
            head,
            time,
            signature,
        })
    }
}

impl fmt::Display for Checkpoint {
    /// The [anchor line](Checkpoint::anchor_line).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.anchor_line())
    }
}

// ---------------------------------------------------------------------------------------
// Key files.

const SECRET_TAG: &str = "ed25519-secret";
const PUBLIC_TAG: &str = "ed25519-public";

/// A key file that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No key line in the text.
    #[error("no `{tag} <64 hex digits>` line (nor a bare 64-digit hex key) in the key file")]
    Missing {
        /// The tag looked for.
        tag: &'static str,
    },
    /// A line that is not a key of the expected kind.
    #[error("key file line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// 32 bytes that are not an Ed25519 public key.
    #[error("key file line {line}: not a valid Ed25519 public key")]
    InvalidPublicKey {
        /// 1-based line number.
        line: usize,
    },
}

fn key_bytes(
    text: &str,
    tag: &'static str,
    other: &'static str,
) -> Result<(usize, [u8; 32]), KeyError> {
    let mut found = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let hex_part = match line.split_once(char::is_whitespace) {
            Some((t, rest)) if t == tag => rest.trim(),
            Some((t, _)) if t == other => {
                return Err(KeyError::Line {
                    line: i + 1,
                    reason: format!("this is an `{other}` key, an `{tag}` key is needed"),
                });
            }
            Some((t, _)) => {
                return Err(KeyError::Line {
                    line: i + 1,
                    reason: format!("unknown tag {t:?}, expected `{tag}`"),
                });
            }
            None => line,
        };
        if found.is_some() {
            return Err(KeyError::Line {
                line: i + 1,
                reason: "more than one key".to_owned(),
            });
        }
        let lower = hex_part.to_ascii_lowercase();
        found = Some((
            i + 1,
            unhex::<32>(&lower).ok_or_else(|| KeyError::Line {
                line: i + 1,
                reason: format!(
                    "{} characters where 64 hex digits are expected",
                    hex_part.chars().count()
                ),
            })?,
        ));
    }
    found.ok_or(KeyError::Missing { tag })
}

/// A signing key from its 32-byte seed. The library has no random number generator: the
/// caller reads the seed from the operating system's (`/dev/urandom`, `getrandom`).
pub fn signing_key_from_seed(seed: [u8; 32]) -> SigningKey {
    SigningKey::from_bytes(&seed)
}

/// The secret key file: a comment and `ed25519-secret <64 hex digits of the seed>`.
pub fn signing_key_file(key: &SigningKey) -> String {
    format!(
        "# mail-journal seal signing key (Ed25519 seed). Keep it secret, off the audited nodes if you can.\n{SECRET_TAG} {}\n",
        hex(&key.to_bytes())
    )
}

/// The public key file, for auditors: `ed25519-public <64 hex digits>`.
pub fn verifying_key_file(key: &VerifyingKey) -> String {
    format!(
        "# mail-journal seal public key (Ed25519)\n{PUBLIC_TAG} {}\n",
        hex(key.as_bytes())
    )
}

/// Reads a secret key file: [`signing_key_file`]'s form, or the bare 64 hex digits of the
/// seed. Blank lines and `#` comments are ignored.
///
/// ```
/// use mail_journal::seal::*;
/// let key = signing_key_from_seed([1; 32]);
/// let back = parse_signing_key(&signing_key_file(&key))?;
/// assert_eq!(back.to_bytes(), key.to_bytes());
/// let public = parse_verifying_key(&verifying_key_file(&key.verifying_key()))?;
/// assert_eq!(public, key.verifying_key());
/// assert!(parse_verifying_key(&signing_key_file(&key)).is_err());
/// # Ok::<(), KeyError>(())
/// ```
pub fn parse_signing_key(text: &str) -> Result<SigningKey, KeyError> {
    key_bytes(text, SECRET_TAG, PUBLIC_TAG).map(|(_, b)| SigningKey::from_bytes(&b))
}

/// Reads a public key file: [`verifying_key_file`]'s form, or the bare 64 hex digits.
pub fn parse_verifying_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let (line, bytes) = key_bytes(text, PUBLIC_TAG, SECRET_TAG)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::InvalidPublicKey { line })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_lines_are_strict() {
        let cp = Checkpoint::new("mx1", 3, [1; 32], Timestamp::from_unix(1_795_391_999));
        let line = cp.anchor_line();
        assert_eq!(
            line,
            format!(
                "mail-journal checkpoint node=mx1 count=3 head={} time=2026-11-22T23:59:59Z",
                "01".repeat(32)
            )
        );
        assert_eq!(Checkpoint::parse_anchor(&line).unwrap(), cp);
        for bad in [
            line.replace("count=3", "count=03"),
            line.replace("node=mx1", "node=mx/1"),
            line.replace(" time", " extra=1 time"),
            format!("{line} sig=00"),
            format!("{line} sig={} more", "00".repeat(64)),
            line.replace("mail-journal", "mail"),
        ] {
            assert!(Checkpoint::parse_anchor(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signatures_bind_every_field() {
        let key = signing_key_from_seed([9; 32]);
        let cp =
            Checkpoint::new("mx1", 3, [1; 32], Timestamp::from_unix(1_795_391_999)).signed(&key);
        assert!(cp.verify(&key.verifying_key()));
        let other = signing_key_from_seed([8; 32]).verifying_key();
        assert!(!cp.verify(&other));
        let mut changed = cp.clone();
        changed.count = 4;
        assert!(!changed.verify(&key.verifying_key()));
        let unsigned = Checkpoint::new("mx1", 3, [1; 32], Timestamp::from_unix(0));
        assert!(!unsigned.verify(&key.verifying_key()));
    }

    #[test]
    fn key_files() {
        let key = signing_key_from_seed([3; 32]);
        assert_eq!(
            parse_signing_key(&"03".repeat(32)).unwrap().to_bytes(),
            key.to_bytes()
        );
        assert_eq!(
            parse_signing_key(&format!("  {}  \n", "03".repeat(32).to_uppercase()))
                .unwrap()
                .to_bytes(),
            key.to_bytes()
        );
        assert!(matches!(
            parse_signing_key("# only a comment\n"),
            Err(KeyError::Missing { .. })
        ));
        let err = parse_signing_key(&format!("ed25519-secret {}\n", "0".repeat(63))).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let two = format!("{}\n{}\n", "03".repeat(32), "04".repeat(32));
        assert!(
            parse_signing_key(&two)
                .unwrap_err()
                .to_string()
                .contains("line 2")
        );
        let err = parse_signing_key(&verifying_key_file(&key.verifying_key())).unwrap_err();
        assert!(err.to_string().contains("ed25519-public"), "{err}");
    }
}
