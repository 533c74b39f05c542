//! SMTP addresses, reverse paths and directory proxy addresses.
//!
//! An [`Address`] is `local@domain` with the domain lower-cased. Addresses compare and hash
//! case-insensitively (ASCII), as Exchange resolves them. Cloning an address is a
//! reference-count increment, never an allocation, so decisions can carry addresses freely.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use thiserror::Error;

use crate::hash::{folded_hash, folded_hash_and_at};

/// Longest accepted local part, in bytes (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL: usize = 64;
/// Longest accepted domain, in bytes (RFC 5321 §4.5.3.1.2).
const MAX_DOMAIN: usize = 255;

/// An address, reverse path or proxy address that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The text is not a valid address.
    #[error("invalid address {input:?}: {reason}")]
    Invalid {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A proxy address with a type other than `SMTP`, `X500` or `EX`.
    #[error("unknown proxy address type {kind:?} in {input:?} (expected SMTP, smtp, X500 or EX)")]
    UnknownProxyType {
        /// The text as given.
        input: String,
        /// The type prefix found.
        kind: String,
    },
}

/// An SMTP mailbox address, `local@domain`.
///
/// The domain is stored lower-cased; the local part keeps its spelling. Equality, ordering
/// and hashing ignore ASCII case throughout.
///
/// ```
/// use mail_journal::Address;
/// let a: Address = "Alice@Example.COM".parse()?;
/// assert_eq!(a.as_str(), "Alice@example.com");
/// assert_eq!(a, "alice@example.com".parse::<Address>()?);
/// assert_eq!(a.domain(), "example.com");
/// # Ok::<(), mail_journal::AddressError>(())
/// ```
///
/// The case-folded hash is computed once, when the address is parsed, so that every
/// look-up of the address in a table costs one multiply, not a pass over its text.
#[derive(Clone)]
pub struct Address {
    text: Arc<str>,
    at: u32,
    /// The high half of [`folded_hash`] of the text: equal for addresses that are equal.
    hash: u32,
}

impl Address {
    /// Parses `local@domain` (optionally wrapped in `<…>`).
    ///
    /// The local part is a dot-atom or a quoted string; the domain is a host name of
    /// letters, digits, hyphens and dots (UTF-8 labels allowed) or an address literal
    /// `[…]`. Whitespace, control characters and angle brackets are refused.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let bad = |reason: &'static str| AddressError::Invalid {
            input: input.to_owned(),
            reason,
        };
        let s = strip_angles(input).ok_or_else(|| bad("unbalanced angle brackets"))?;
        if let Some((at, hash, upper)) = plain_address(s.as_bytes()) {
            // The common case, checked in one pass: what the general rules below accept
            // with their first, one-pass checks ([`plain_local`], [`plain_domain`]).
            return Ok(Address::folded_hashed(s, at, hash, upper));
        }
        if s.is_empty() {
            return Err(bad("empty address"));
        }
        if s.eq_ignore_ascii_case("postmaster") {
            // RFC 5321 §4.5.1: `RCPT TO:<Postmaster>` without a domain must be accepted.
            return Ok(Address::new(Arc::from(s), s.len()));
        }
        let at = s
            .bytes()
            .rposition(|b| b == b'@')
            .ok_or_else(|| bad("missing '@'"))?;
        let (local, domain) = (
            s.get(..at).unwrap_or_default(),
            s.get(at + 1..).unwrap_or_default(),
        );
        validate_local(local).map_err(bad)?;
        validate_domain(domain).map_err(bad)?;
        Ok(Address::folded(s, at))
    }

    /// One allocation: the text as given, its domain (after `at`) lower-cased in place.
    fn folded(s: &str, at: usize) -> Self {
        Address::folded_hashed(s, at, folded_hash(s.as_bytes()), true)
    }

    /// [`Address::folded`] with `hash`, the [`folded_hash`] of `s` (the same as of the
    /// stored text, since folding the domain first changes nothing the hash sees);
    /// `upper` false when the domain is known to hold no capital to lower-case.
    fn folded_hashed(s: &str, at: usize, hash: u64, upper: bool) -> Self {
        let mut text: Arc<str> = Arc::from(s);
        if upper && let Some(d) = Arc::get_mut(&mut text).and_then(|t| t.get_mut(at + 1..)) {
            d.make_ascii_lowercase();
        }
        Address::with_hash(text, at, hash)
    }

    fn new(text: Arc<str>, at: usize) -> Self {
        let hash = folded_hash(text.as_bytes());
        Address::with_hash(text, at, hash)
    }

    /// The address of `text` split at `at`, with `hash` the [`folded_hash`] of `text`.
    #[inline]
    fn with_hash(text: Arc<str>, at: usize, hash: u64) -> Self {
        let hash = (hash >> 32) as u32;
        Address {
            text,
            // Both parts are bounded (64 + 255 bytes), so the offset fits.
            at: u32::try_from(at).unwrap_or(u32::MAX),
            hash,
        }
    }

    /// The whole address, `local@domain`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The case-folded hash computed at parse time (equal for equal addresses).
    #[inline]
    pub(crate) fn folded_hash(&self) -> u32 {
        self.hash
    }

    /// The local part (before the last `@`).
    pub fn local_part(&self) -> &str {
        self.text.get(..self.at as usize).unwrap_or_default()
    }

    /// The domain, lower-cased.
    pub fn domain(&self) -> &str {
        self.text.get(self.at as usize + 1..).unwrap_or_default()
    }
}

fn strip_angles(s: &str) -> Option<&str> {
    // Printable ASCII at both ends is never white space: nothing to trim (the common
    // case, without `trim`'s Unicode decoding at either end).
    let b = s.as_bytes();
    let s = if b.first().is_some_and(u8::is_ascii_graphic)
        && b.last().is_some_and(u8::is_ascii_graphic)
    {
        s
    } else {
        s.trim()
    };
    match (s.starts_with('<'), s.ends_with('>')) {
        (true, true) => s.strip_prefix('<').and_then(|s| s.strip_suffix('>')),
        (false, false) => Some(s),
        _ => None,
    }
}

/// ASCII bytes of a dot-atom local part besides the dot (RFC 5322 `atext`).
const ATEXT: [bool; 128] = {
    let mut t = [false; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'/'
                    | b'='
                    | b'?'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
            );
        b += 1;
    }
    t
};

/// ASCII letters and digits.
const ALNUM: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// States of [`plain_address`]'s automaton (row numbers of [`STEP`]).
mod state {
    /// Refused (absorbing).
    pub const REJECT: u8 = 0;
    /// At the start of the local part, or just after a dot in it: an `atext` byte next.
    pub const LOCAL_START: u8 = 1;
    /// Just after an `atext` byte of the local part.
    pub const LOCAL: u8 = 2;
    /// At the start of a domain label (after the `@` or a dot): a letter or digit next.
    pub const LABEL_START: u8 = 3;
    /// Just after a letter or digit of a label (the only accepting state).
    pub const LABEL: u8 = 4;
    /// Just after a hyphen inside a label.
    pub const HYPHEN: u8 = 5;
}

/// The index of `state`'s entry for `byte` in [`STEP`].
const fn row(state: u8, byte: usize) -> usize {
    (state as usize) << 8 | byte
}

/// A state as [`STEP`] holds it.
const fn next(state: u8) -> u16 {
    (state as u16) << 8
}

/// Runs the automaton `step` (laid out as [`STEP`]) over `s` from `start`: the state it
/// ends in, one table step per byte.
#[inline]
fn run(step: &[u16; 8 * 256], start: u8, s: &[u8]) -> u8 {
    let mut st = next(start);
    for &b in s {
        st = step
            .get(usize::from(st & 0x700) | usize::from(b))
            .copied()
            .unwrap_or(0);
    }
    (st >> 8) as u8
}

/// The transitions of [`plain_address`]: entry `state << 8 | byte` holds the next state,
/// shifted left by eight (so that the next index is one `|`). Eight rows of 256 so that
/// any `(entry & 0x700) | byte` is in bounds.
const STEP: [u16; 8 * 256] = {
    use state::*;
    let mut t = [next(REJECT); 8 * 256];
    let mut b = 0usize;
    while b < 128 {
        let c = b as u8;
        let atext = ATEXT[b];
        let alnum = c.is_ascii_alphanumeric();
        if atext {
            t[row(LOCAL_START, b)] = next(LOCAL);
            t[row(LOCAL, b)] = next(LOCAL);
        }
        if c == b'.' {
            t[row(LOCAL, b)] = next(LOCAL_START);
            t[row(LABEL, b)] = next(LABEL_START);
        }
        if c == b'@' {
            t[row(LOCAL, b)] = next(LABEL_START);
        }
        if alnum {
            t[row(LABEL_START, b)] = next(LABEL);
            t[row(LABEL, b)] = next(LABEL);
            t[row(HYPHEN, b)] = next(LABEL);
        }
        if c == b'-' {
            t[row(LABEL, b)] = next(HYPHEN);
            t[row(HYPHEN, b)] = next(HYPHEN);
        }
        b += 1;
    }
    t
};

/// The common case of [`Address::parse`] in one pass: `local@domain` where
/// [`plain_local`] accepts the local part and [`plain_domain`] the domain; the offset of
/// the `@`, which is then the only one (neither part may contain one), and the
/// [`folded_hash`] of `s`, and whether the domain may have an ASCII capital to lower-case
/// (true whenever it has one).
///
/// One table step per byte ([`STEP`]); the lengths are checked after: the local part's
/// by the `@`'s offset, the labels' only when the domain is long enough to hold a label
/// over 63 bytes.
#[inline]
fn plain_address(s: &[u8]) -> Option<(usize, u64, bool)> {
    if run(&STEP, state::LOCAL_START, s) != state::LABEL {
        return None;
    }
    // Accepted: exactly one `@`, after the local part, found in the hash's pass over
    // the words.
    let (hash, at, upper_end) = folded_hash_and_at(s);
    let at = at?;
    if at > MAX_LOCAL {
        return None;
    }
    let domain = s.len() - at - 1;
    if domain > 63 && !plain_domain(s.get(at + 1..)?) {
        return None;
    }
    // A capital at or after `at + 1` ends its word at or after `at + 2`.
    Some((at, hash, upper_end > at + 1))
}

/// The common case of [`validate_local`] in one pass over the bytes: a non-empty ASCII
/// dot-atom of at most 64 bytes without misplaced dots. `false` means "ask the general
/// rule", which also names the fault.
#[inline]
fn plain_local(local: &[u8]) -> bool {
    if local.is_empty() || local.len() > MAX_LOCAL {
        return false;
    }
    let mut prev_dot = true;
    for &b in local {
        if b == b'.' {
            if prev_dot {
                return false;
            }
            prev_dot = true;
        } else if ATEXT.get(usize::from(b)).copied().unwrap_or(false) {
            prev_dot = false;
        } else {
            return false;
        }
    }
    !prev_dot
}

/// The common case of [`validate_domain`] in one pass: ASCII labels of letters, digits
/// and inner hyphens, 1 to 63 bytes each, at most 255 in all.
#[inline]
fn plain_domain(domain: &[u8]) -> bool {
    if domain.is_empty() || domain.len() > MAX_DOMAIN {
        return false;
    }
    let mut label = 0usize;
    let mut prev = b'.';
    for &b in domain {
        if b == b'.' {
            if label == 0 || prev == b'-' {
                return false;
            }
            label = 0;
        } else if ALNUM.get(usize::from(b)).copied().unwrap_or(false) || (b == b'-' && label > 0) {
            label += 1;
            if label > 63 {
                return false;
            }
        } else {
            return false;
        }
        prev = b;
    }
    label > 0 && prev != b'-'
}

fn validate_local(local: &str) -> Result<(), &'static str> {
    if plain_local(local.as_bytes()) {
        return Ok(());
    }
    if local.is_empty() {
        return Err("empty local part");
    }
    if local.len() > MAX_LOCAL {
        return Err("local part longer than 64 bytes");
    }
    if local.starts_with('"') {
        if local.len() < 2 {
            return Err("unterminated quoted local part");
        }
        let inner = local
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .ok_or("unterminated quoted local part")?;
        let mut escaped = false;
        for c in inner.chars() {
            if c.is_control() {
                return Err("control character in local part");
            }
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                return Err("unescaped quote in local part");
            }
        }
        if escaped {
            return Err("dangling escape in local part");
        }
        return Ok(());
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("misplaced dot in local part");
    }
    for c in local.chars() {
        let ok = c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii();
        if !ok || c.is_control() || c.is_whitespace() {
            return Err("character not allowed in local part");
        }
    }
    Ok(())
}

fn validate_domain(domain: &str) -> Result<(), &'static str> {
    if plain_domain(domain.as_bytes()) {
        return Ok(());
    }
    if domain.is_empty() {
        return Err("empty domain");
    }
    if domain.len() > MAX_DOMAIN {
        return Err("domain longer than 255 bytes");
    }
    if let Some(literal) = domain.strip_prefix('[') {
        let inner = literal
            .strip_suffix(']')
            .ok_or("unterminated address literal")?;
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:-".contains(c))
        {
            return Err("malformed address literal");
        }
        return Ok(());
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err("empty domain label");
        }
        if label.len() > 63 {
            return Err("domain label longer than 63 bytes");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("domain label starts or ends with '-'");
        }
        if !label.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || c == '-'
                || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
        }) {
            return Err("character not allowed in domain");
        }
    }
    Ok(())
}

/// Compares two strings ignoring ASCII case, as an ordering.
pub(crate) fn cmp_folded(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

impl PartialEq for Address {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.text.eq_ignore_ascii_case(&other.text)
    }
}
impl Eq for Address {}
impl Hash for Address {
    /// The case-folded hash computed at parse time: one word, whatever the length.
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u32(self.hash);
    }
}
impl PartialOrd for Address {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Address {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        cmp_folded(&self.text, &other.text)
    }
}
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.text)
    }
}
impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

/// The SMTP reverse path (`MAIL FROM`): either the null path `<>` or an address.
///
/// ```
/// use mail_journal::ReversePath;
/// assert!(ReversePath::parse("<>")?.is_null());
/// assert_eq!(ReversePath::parse("<bob@example.com>")?.to_string(), "<bob@example.com>");
/// # Ok::<(), mail_journal::AddressError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReversePath {
    /// The null reverse path `<>` used by delivery status notifications.
    Null,
    /// An ordinary sender address.
    Address(Address),
}

impl ReversePath {
    /// Parses `<>`, an empty string (the null path), `<addr>` or a bare address.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let t = input.trim();
        if t.is_empty() || t == "<>" {
            return Ok(ReversePath::Null);
        }
        Address::parse(t).map(ReversePath::Address)
    }

    /// `true` for the null reverse path `<>`.
    pub fn is_null(&self) -> bool {
        matches!(self, ReversePath::Null)
    }

    /// The address, unless this is the null path.
    pub fn address(&self) -> Option<&Address> {
        match self {
            ReversePath::Null => None,
            ReversePath::Address(a) => Some(a),
        }
    }
}

impl From<Address> for ReversePath {
    fn from(a: Address) -> Self {
        ReversePath::Address(a)
    }
}

impl fmt::Display for ReversePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReversePath::Null => f.write_str("<>"),
            ReversePath::Address(a) => write!(f, "<{a}>"),
        }
    }
}

impl FromStr for ReversePath {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReversePath::parse(s)
    }
}

/// A distinguished name (`X500:` / `EX:` proxy), compared case-insensitively.
#[derive(Clone)]
pub struct DistinguishedName {
    /// The name's own text, or (for a directory's names) the text of all its names.
    text: Arc<str>,
    /// Where in `text` the name lies.
    start: u32,
    end: u32,
}

impl DistinguishedName {
    /// A name with a text of its own.
    fn owned(name: &str) -> Self {
        DistinguishedName {
            text: Arc::from(name),
            start: 0,
            // A name over 4 GiB cannot be stored; none comes near (the parts are short).
            end: u32::try_from(name.len()).unwrap_or(u32::MAX),
        }
    }

    /// Parses an X.500 distinguished name such as `/o=Org/ou=Site/cn=Recipients/cn=alice`.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        if plain_dn(input.as_bytes()) {
            // The common case, checked in one pass: what the general rules below accept,
            // with nothing to trim.
            return Ok(DistinguishedName::owned(input));
        }
        Self::parse_general(input)
    }

    /// The general rules of [`DistinguishedName::parse`], which also name the fault.
    fn parse_general(input: &str) -> Result<Self, AddressError> {
        let t = input.trim();
        let bad = |reason| AddressError::Invalid {
            input: input.to_owned(),
            reason,
        };
        if !t.starts_with('/') {
            return Err(bad("distinguished name must start with '/'"));
        }
        if t.chars().any(char::is_control) {
            return Err(bad("control character in distinguished name"));
        }
        let well_formed = t.trim_start_matches('/').split('/').all(|rdn| {
            rdn.split_once('=')
                .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty())
        });
        if !well_formed {
            return Err(bad("each part of a distinguished name must be key=value"));
        }
        Ok(DistinguishedName::owned(t))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        self.text
            .get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// States of [`plain_dn`]'s automaton (row numbers of [`DN_STEP`]).
mod dn_state {
    /// Refused (absorbing).
    pub const REJECT: u8 = 0;
    /// Before the first byte, which must be a `/`.
    pub const START: u8 = 1;
    /// In the leading slashes.
    pub const LEAD: u8 = 2;
    /// Just after a `/` between parts: a key byte next.
    pub const KEY_START: u8 = 3;
    /// In a key.
    pub const KEY: u8 = 4;
    /// Just after the `=` that ends a key: a value byte next.
    pub const VALUE_START: u8 = 5;
    /// In a value (the only accepting state).
    pub const VALUE: u8 = 6;
}

/// The transitions of [`plain_dn`], laid out as [`STEP`]'s: entry `state << 8 | byte`
/// holds the next state shifted left by eight. Only printable ASCII and the space move
/// out of [`dn_state::REJECT`]: everything else is for the general rules.
const DN_STEP: [u16; 8 * 256] = {
    use dn_state::*;
    let mut t = [next(REJECT); 8 * 256];
    let mut b = b' ' as usize;
    while b < 0x7f {
        let c = b as u8;
        let (slash, eq) = (c == b'/', c == b'=');
        if slash {
            t[row(START, b)] = next(LEAD);
            t[row(LEAD, b)] = next(LEAD);
            t[row(VALUE, b)] = next(KEY_START);
        } else {
            if !eq {
                t[row(LEAD, b)] = next(KEY);
                t[row(KEY_START, b)] = next(KEY);
            }
            t[row(KEY, b)] = next(if eq { VALUE_START } else { KEY });
            t[row(VALUE_START, b)] = next(VALUE);
            t[row(VALUE, b)] = next(VALUE);
        }
        b += 1;
    }
    t
};

/// The common case of [`DistinguishedName::parse`] in one pass: printable ASCII (spaces
/// allowed inside) without white space at either end, one or more `/`, then `key=value`
/// parts with non-empty keys and values, separated by single `/`. `false` means "ask
/// the general rules".
#[inline]
fn plain_dn(s: &[u8]) -> bool {
    // A value's last byte may be a space, which the general rules would trim first.
    run(&DN_STEP, dn_state::START, s) == dn_state::VALUE && s.last() != Some(&b' ')
}

impl PartialEq for DistinguishedName {
    fn eq(&self, other: &Self) -> bool {
        self.as_str().eq_ignore_ascii_case(other.as_str())
    }
}
impl Eq for DistinguishedName {}
impl Hash for DistinguishedName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(folded_hash(self.as_str().as_bytes()));
    }
}
impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// A directory proxy address: `SMTP:` (primary), `smtp:` (secondary), `X500:` or `EX:`.
///
/// ```
/// use mail_journal::ProxyAddress;
/// let p: ProxyAddress = "SMTP:alice@example.com".parse()?;
/// assert!(matches!(p, ProxyAddress::Smtp { primary: true, .. }));
/// let x: ProxyAddress = "X500:/o=Org/ou=Site/cn=Recipients/cn=Journal-DL".parse()?;
/// assert_eq!(x.to_string(), "X500:/o=Org/ou=Site/cn=Recipients/cn=Journal-DL");
/// # Ok::<(), mail_journal::AddressError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyAddress {
    /// An SMTP address; `primary` for `SMTP:` (upper case), secondary for `smtp:`.
    Smtp {
        /// The address.
        address: Address,
        /// Whether this is the primary (reply) address.
        primary: bool,
    },
    /// An X.500 distinguished name.
    X500(DistinguishedName),
    /// An Exchange legacy (`EX:`) distinguished name.
    Ex(DistinguishedName),
}

impl ProxyAddress {
    /// Parses `TYPE:value`. The type is case-insensitive except that `SMTP` (upper case)
    /// marks the primary SMTP address.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        match plain_proxy_kind(input.as_bytes()) {
            // The common case: a known type at the very start, nothing to trim.
            Some((kind, value)) => kind.parse(input.get(value..).unwrap_or_default()),
            None => Self::parse_general(input),
        }
    }

    /// The text an `X500:` or `EX:` proxy in its common form (the type at the very start)
    /// keeps when it is parsed by [`ProxyAddress::parse_sharing`]: the value after the
    /// type. `None` for any other proxy.
    pub(crate) fn shared_text(input: &str) -> Option<&str> {
        match plain_proxy_kind(input.as_bytes()) {
            Some((ProxyKind::X500 | ProxyKind::Ex, value)) => input.get(value..),
            _ => None,
        }
    }

    /// [`ProxyAddress::parse`] for a directory build, which keeps the names of all its
    /// `X500:` and `EX:` proxies in one text, `names`: the [`ProxyAddress::shared_text`]
    /// of every proxy, in order. `at` is where this proxy's text starts in `names` (it is
    /// moved past it); a name in the common form refers to that text instead of a copy
    /// of its own. The result is the one of [`ProxyAddress::parse`] whatever `names`
    /// holds: a text that is not the value found there gets its own copy.
    pub(crate) fn parse_sharing(
        input: &str,
        names: &Arc<str>,
        at: &mut usize,
    ) -> Result<Self, AddressError> {
        let Some((kind @ (ProxyKind::X500 | ProxyKind::Ex), value)) =
            plain_proxy_kind(input.as_bytes())
        else {
            return Self::parse(input);
        };
        let value = input.get(value..).unwrap_or_default();
        let start = *at;
        *at = start.saturating_add(value.len());
        let shared = (
            u32::try_from(start).ok(),
            u32::try_from(*at).ok(),
            names.get(start..*at) == Some(value),
        );
        let dn = match shared {
            (Some(s), Some(e), true) if plain_dn(value.as_bytes()) => DistinguishedName {
                text: Arc::clone(names),
                start: s,
                end: e,
            },
            _ => DistinguishedName::parse(value)?,
        };
        Ok(match kind {
            ProxyKind::Ex => ProxyAddress::Ex(dn),
            _ => ProxyAddress::X500(dn),
        })
    }

    /// The general rules of [`ProxyAddress::parse`], which also name the fault.
    fn parse_general(input: &str) -> Result<Self, AddressError> {
        let t = input.trim();
        let (kind, value) = t.split_once(':').ok_or_else(|| AddressError::Invalid {
            input: input.to_owned(),
            reason: "proxy address needs a type prefix (SMTP:, smtp:, X500:, EX:)",
        })?;
        let kind = if kind.eq_ignore_ascii_case("smtp") {
            ProxyKind::Smtp {
                primary: kind == "SMTP",
            }
        } else if kind.eq_ignore_ascii_case("x500") {
            ProxyKind::X500
        } else if kind.eq_ignore_ascii_case("ex") {
            ProxyKind::Ex
        } else {
            return Err(AddressError::UnknownProxyType {
                input: input.to_owned(),
                kind: kind.to_owned(),
            });
        };
        kind.parse(value)
    }
}

/// The type of a proxy address, as its prefix names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProxyKind {
    /// `SMTP:` (primary) or `smtp:` in any other case (secondary).
    Smtp {
        /// `SMTP` in upper case.
        primary: bool,
    },
    /// `X500:`, any case.
    X500,
    /// `EX:`, any case.
    Ex,
}

impl ProxyKind {
    /// The proxy address of this type with the text after the prefix.
    fn parse(self, value: &str) -> Result<ProxyAddress, AddressError> {
        Ok(match self {
            ProxyKind::Smtp { primary } => ProxyAddress::Smtp {
                address: Address::parse(value)?,
                primary,
            },
            ProxyKind::X500 => ProxyAddress::X500(DistinguishedName::parse(value)?),
            ProxyKind::Ex => ProxyAddress::Ex(DistinguishedName::parse(value)?),
        })
    }
}

/// The common case of [`ProxyAddress::parse`]: a known type (`SMTP`, `X500`, `EX` in any
/// case) and its `:` at the very start, and a printable ASCII last byte, so that neither
/// end needs trimming; the type and the offset of the value. `None` means "ask the
/// general rules".
#[inline]
fn plain_proxy_kind(s: &[u8]) -> Option<(ProxyKind, usize)> {
    if !s.last().is_some_and(u8::is_ascii_graphic) {
        return None;
    }
    // Setting bit 5 lower-cases a letter, and maps nothing else onto one. Inputs
    // shorter than five bytes are never valid `EX:` names' common case: general rules.
    match *s.get(..5)? {
        [a, b, c, d, b':'] if [a, b, c, d].map(|x| x | 0x20) == *b"smtp" => Some((
            ProxyKind::Smtp {
                primary: [a, b, c, d] == *b"SMTP",
            },
            5,
        )),
        [a, b'5', b'0', b'0', b':'] if a | 0x20 == b'x' => Some((ProxyKind::X500, 5)),
        [a, b, b':', ..] if a | 0x20 == b'e' && b | 0x20 == b'x' => Some((ProxyKind::Ex, 3)),
        _ => None,
    }
}

impl fmt::Display for ProxyAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyAddress::Smtp {
                address,
                primary: true,
            } => write!(f, "SMTP:{address}"),
            ProxyAddress::Smtp { address, .. } => write!(f, "smtp:{address}"),
            ProxyAddress::X500(dn) => write!(f, "X500:{dn}"),
            ProxyAddress::Ex(dn) => write!(f, "EX:{dn}"),
        }
    }
}

impl FromStr for ProxyAddress {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProxyAddress::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_lowercases_domain_only() {
        let a = Address::parse("Alice.Smith@EXAMPLE.com").unwrap();
        assert_eq!(a.as_str(), "Alice.Smith@example.com");
        assert_eq!(a.local_part(), "Alice.Smith");
        assert_eq!(a.domain(), "example.com");
    }

    #[test]
    fn equality_and_hash_ignore_case() {
        use std::collections::HashSet;
        let a = Address::parse("ALICE@example.com").unwrap();
        let b = Address::parse("alice@Example.Com").unwrap();
        assert_eq!(a, b);
        let set: HashSet<_> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn angle_brackets_and_quoted_local_parts() {
        assert_eq!(
            Address::parse("<bob@x.example>").unwrap().as_str(),
            "bob@x.example"
        );
        assert!(Address::parse("\"john doe\"@x.example").is_ok());
        assert!(Address::parse("user@[192.0.2.1]").is_ok());
    }

    #[test]
    fn malformed_addresses_name_the_input() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "al ice@example.com",
            "alice@exa mple.com",
            "<alice@example.com",
            "a..b@example.com",
            ".a@example.com",
            "alice@-example.com",
            "alice@example..com",
            "alice@ex\0ample.com",
            "\"unterminated@example.com",
            "alice@[bad literal]",
        ] {
            let err = Address::parse(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
        // Unicode white space is white space too (found by fuzzing: it broke round trips).
        for bad in [
            "<b@x\u{2000}>",
            "a\u{3000}b@x.example",
            "a@x\u{a0}y.example",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Address::parse(&long).is_err());
    }

    proptest::proptest! {
        /// The one-pass checks of the common case accept nothing the general rules refuse.
        #[test]
        fn fast_checks_agree_with_the_general_rules(
            local in "[a-zA-Z0-9.!#%+=_{}~-]{0,70}",
            domain in "[a-zA-Z0-9.-]{0,70}",
        ) {
            let general_local = {
                let l = local.as_str();
                !(l.is_empty() || l.len() > MAX_LOCAL || l.starts_with('.') || l.ends_with('.')
                    || l.contains(".."))
            };
            proptest::prop_assert_eq!(plain_local(local.as_bytes()), general_local);
            proptest::prop_assert_eq!(validate_local(&local).is_ok(), general_local);
            if plain_domain(domain.as_bytes()) {
                proptest::prop_assert!(validate_domain(&domain).is_ok());
            }
            let general_domain = !domain.is_empty() && domain.split('.').all(|l| {
                !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-')
            });
            proptest::prop_assert_eq!(plain_domain(domain.as_bytes()), general_domain);
        }
    }

    /// The general path of `Address::parse`, without the one-pass fast path.
    fn general(s: &str) -> Option<usize> {
        let at = s.bytes().rposition(|b| b == b'@')?;
        (validate_local(&s[..at]).is_ok() && validate_domain(&s[at + 1..]).is_ok()).then_some(at)
    }

    proptest::proptest! {
        /// The one-pass fast path accepts only what the general rules accept, at the same
        /// `@`, and every plain address (both one-pass part checks true).
        #[test]
        fn plain_address_agrees_with_the_general_rules(
            s in "[a-zA-Z0-9.@!#%+=_{}~\"\\[\\]: -]{0,80}",
        ) {
            if let Some((at, hash, upper)) = plain_address(s.as_bytes()) {
                proptest::prop_assert_eq!(general(&s), Some(at));
                if s[at + 1..].bytes().any(|b| b.is_ascii_uppercase()) {
                    proptest::prop_assert!(upper);
                }
                proptest::prop_assert_eq!(hash, folded_hash(s.as_bytes()));
                let a = Address::parse(&s).unwrap();
                let folded = format!("{}@{}", &s[..at], s[at + 1..].to_ascii_lowercase());
                proptest::prop_assert_eq!(a.as_str(), folded.as_str());
                proptest::prop_assert_eq!(a.hash, (folded_hash(folded.as_bytes()) >> 32) as u32);
            }
            let plain = s.bytes().rposition(|b| b == b'@').is_some_and(|at| {
                plain_local(&s.as_bytes()[..at]) && plain_domain(&s.as_bytes()[at + 1..])
            });
            proptest::prop_assert_eq!(plain_address(s.as_bytes()).is_some(), plain);
        }

        /// Trimming: the shortcut for printable ends gives what `trim` gives.
        #[test]
        fn strip_angles_is_trim_then_angles(s in "[ \t\u{a0}\u{2003}<>a@.]{0,12}") {
            let t = s.trim();
            let expected = match (t.starts_with('<'), t.ends_with('>')) {
                (true, true) => t.strip_prefix('<').and_then(|t| t.strip_suffix('>')),
                (false, false) => Some(t),
                _ => None,
            };
            proptest::prop_assert_eq!(strip_angles(&s), expected);
        }
    }

    #[test]
    fn one_allocation_text_keeps_the_local_part_and_folds_the_domain() {
        let a = Address::parse("<Dave.Brown@Example.COM>").unwrap();
        assert_eq!(a.as_str(), "Dave.Brown@example.com");
        assert_eq!((a.local_part(), a.domain()), ("Dave.Brown", "example.com"));
        let long = format!("{}@{}.example", "a".repeat(64), "B".repeat(63));
        assert_eq!(
            Address::parse(&long).unwrap().as_str(),
            long.to_ascii_lowercase()
        );
    }

    #[test]
    fn reverse_paths() {
        assert_eq!(ReversePath::parse("<>").unwrap(), ReversePath::Null);
        assert_eq!(ReversePath::parse("").unwrap(), ReversePath::Null);
        let p = ReversePath::parse("<a@b.example>").unwrap();
        assert_eq!(p.address().unwrap().as_str(), "a@b.example");
        assert_eq!(p.to_string(), "<a@b.example>");
        assert!(ReversePath::parse("<nope>").is_err());
    }

    /// Characters that matter to distinguished names and proxy addresses: separators,
    /// white space (ASCII and not), controls (ASCII, DEL, C1) and other non-ASCII.
    const TRICKY: &str = "[/=:@. a-cA-CxX0-9\t\r\n\u{0}\u{1f}\u{7f}\u{85}\u{a0}\u{2003}\u{3000}é€]";

    /// Up to `n` [`TRICKY`] characters.
    fn tricky(n: usize) -> proptest::string::RegexGeneratorStrategy<String> {
        proptest::string::string_regex(&format!("{TRICKY}{{0,{n}}}")).unwrap()
    }

    /// Texts shaped like distinguished names, most of them well-formed or nearly so.
    fn dn_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let part = (
            proptest::sample::select(vec!["/", "//", "/ ", ""]),
            "[a-zA-Z]{0,3}",
            proptest::sample::select(vec!["=", "==", "", "= "]),
            "[a-zA-Z0-9 .=-]{0,8}",
            proptest::option::of(TRICKY),
        )
            .prop_map(|(s, k, e, v, x)| format!("{s}{k}{e}{v}{}", x.unwrap_or_default()));
        prop_oneof![
            proptest::collection::vec(part, 0..6).prop_map(|p| p.concat()),
            tricky(30),
            "(/[a-z]{1,3}=[A-Za-z0-9 .-]{1,10}){1,6}",
        ]
    }

    /// Type prefixes, known ones in several cases and near misses.
    const PREFIXES: [&str; 26] = [
        "SMTP:",
        "smtp:",
        "Smtp:",
        "sMTP:",
        "SMTp:",
        "X500:",
        "x500:",
        "EX:",
        "ex:",
        "Ex:",
        "eX:",
        " SMTP:",
        "SMTP :",
        "\tX500:",
        "\u{a0}EX:",
        "FAX:",
        "X5OO:",
        "X400:",
        "S\u{d}TP:",
        "s\u{4d}tp:",
        "E\u{18}:",
        "\u{45}\u{58}:",
        "SMTP",
        "X500",
        "",
        ":",
    ];

    proptest::proptest! {
        /// The one-pass `DistinguishedName::parse` gives exactly what the general rules
        /// give, errors included, and takes the fast path for every plain name.
        #[test]
        fn dn_fast_path_agrees_with_the_general_rules(s in dn_text()) {
            let fast = format!("{:?}", DistinguishedName::parse(&s));
            let general = format!("{:?}", DistinguishedName::parse_general(&s));
            proptest::prop_assert_eq!(&fast, &general);
            let printable = s.bytes().all(|b| (b' '..0x7f).contains(&b)) && !s.ends_with(' ');
            if printable && DistinguishedName::parse_general(&s).is_ok() {
                proptest::prop_assert!(plain_dn(s.as_bytes()), "{:?} not plain", s);
            }
        }

        /// The same for `ProxyAddress::parse`, over known and near-miss prefixes and
        /// SMTP-address-like, name-like and arbitrary values.
        #[test]
        fn proxy_fast_path_agrees_with_the_general_rules(
            prefix in proptest::sample::select(PREFIXES.to_vec()),
            value in proptest::prop_oneof![
                dn_text(),
                "[a-zA-Z0-9.<> ]{0,6}@[a-zA-Z0-9.-]{0,8}",
                tricky(12),
            ],
            end in proptest::option::of(tricky(1)),
        ) {
            let s = format!("{prefix}{value}{}", end.unwrap_or_default());
            let fast = format!("{:?}", ProxyAddress::parse(&s));
            let general = format!("{:?}", ProxyAddress::parse_general(&s));
            proptest::prop_assert_eq!(&fast, &general);
            let known = ["smtp:", "x500:", "ex:"]
                .iter()
                .any(|k| s.get(..k.len()).is_some_and(|p| p.eq_ignore_ascii_case(k)));
            if known && s.len() >= 5 && s.as_bytes().last().is_some_and(u8::is_ascii_graphic) {
                proptest::prop_assert!(plain_proxy_kind(s.as_bytes()).is_some(), "{:?}", s);
            }
        }
    }

    proptest::proptest! {
        /// A directory's sharing parse gives what `ProxyAddress::parse` gives for every
        /// proxy of a list, whether the shared text is the one the build makes (each
        /// proxy's `shared_text`, in order) or any other; with the right text, every name
        /// in the common form refers to it rather than to a copy, and the cursor ends at
        /// its end.
        #[test]
        fn sharing_parse_is_parse(
            proxies in proptest::collection::vec(
                proptest::strategy::Strategy::prop_map(
                    (proptest::sample::select(PREFIXES.to_vec()), proptest::prop_oneof![dn_text(), tricky(12)]),
                    |(p, v)| format!("{p}{v}"),
                ),
                0..6,
            ),
            other in proptest::option::of(tricky(40)),
        ) {
            let built: String = proxies
                .iter()
                .map(|p| ProxyAddress::shared_text(p).unwrap_or_default())
                .collect();
            let right = other.is_none();
            let names: Arc<str> = Arc::from(other.unwrap_or(built));
            let mut at = 0;
            for p in &proxies {
                let shared = ProxyAddress::parse_sharing(p, &names, &mut at);
                proptest::prop_assert_eq!(
                    format!("{shared:?}"),
                    format!("{:?}", ProxyAddress::parse(p)),
                    "{:?}", p
                );
                if right {
                    if let Ok(ProxyAddress::X500(dn) | ProxyAddress::Ex(dn)) = &shared {
                        let common = ProxyAddress::shared_text(p).is_some_and(|t| plain_dn(t.as_bytes()));
                        proptest::prop_assert_eq!(Arc::ptr_eq(&dn.text, &names), common, "{:?}", p);
                    }
                }
            }
            if right {
                proptest::prop_assert_eq!(at, names.len());
            }
        }
    }

    #[test]
    fn fast_paths_take_the_common_proxies() {
        let dn = "/o=Example/ou=HQ/cn=Recipients/cn=user1";
        assert!(plain_dn(dn.as_bytes()));
        for (p, kind) in [
            ("SMTP:user1@example.com", ProxyKind::Smtp { primary: true }),
            ("smtp:user1@example.com", ProxyKind::Smtp { primary: false }),
            ("SmTp:user1@example.com", ProxyKind::Smtp { primary: false }),
            ("X500:/o=Example", ProxyKind::X500),
            ("x500:/o=Example", ProxyKind::X500),
            ("eX:/o=Example", ProxyKind::Ex),
        ] {
            let (k, at) = plain_proxy_kind(p.as_bytes()).unwrap();
            assert_eq!((k, &p[..at]), (kind, &p[..p.find(':').unwrap() + 1]));
        }
        for p in [
            " SMTP:a@b.c",
            "SMTP:a@b.c ",
            "X5\u{10}0:/o=E",
            "SMTQ:a@b",
            "EX:/",
        ] {
            assert_eq!(plain_proxy_kind(p.as_bytes()), None, "{p:?}");
        }
        for dn in [
            "/o=E ",
            "/o=",
            "/=a",
            "/a=b//c=d",
            "/a=b/",
            "/a",
            "/a=\u{85}",
            "/a=é",
        ] {
            assert!(!plain_dn(dn.as_bytes()), "{dn:?}");
        }
        for dn in ["//a=b", "/a==", "/a b=c d/e=f=g"] {
            assert!(plain_dn(dn.as_bytes()), "{dn:?}");
        }
    }

    #[test]
    fn proxies() {
        let p = ProxyAddress::parse("smtp:alias@example.com").unwrap();
        assert!(matches!(p, ProxyAddress::Smtp { primary: false, .. }));
        let ex = ProxyAddress::parse("EX:/o=Org/ou=Site/cn=Recipients/cn=bob").unwrap();
        let ex2 = ProxyAddress::parse("ex:/O=ORG/ou=Site/cn=Recipients/cn=BOB").unwrap();
        assert_eq!(ex, ex2);
        assert!(matches!(
            ProxyAddress::parse("FAX:12345"),
            Err(AddressError::UnknownProxyType { .. })
        ));
        assert!(ProxyAddress::parse("X500:o=Org").is_err());
        assert!(ProxyAddress::parse("X500:/o=").is_err());
        assert!(ProxyAddress::parse("no-colon").is_err());
    }
}
