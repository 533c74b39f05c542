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

use crate::hash::hash_folded;

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
#[derive(Clone)]
pub struct Address {
    text: Arc<str>,
    at: usize,
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
        if s.is_empty() {
            return Err(bad("empty address"));
        }
        if s.eq_ignore_ascii_case("postmaster") {
            // RFC 5321 §4.5.1: `RCPT TO:<Postmaster>` without a domain must be accepted.
            return Ok(Address {
                text: Arc::from(s),
                at: s.len(),
            });
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| bad("missing '@'"))?;
        let at = local.len();
        validate_local(local).map_err(bad)?;
        validate_domain(domain).map_err(bad)?;
        let mut text = String::with_capacity(s.len());
        text.push_str(local);
        text.push('@');
        text.push_str(&domain.to_ascii_lowercase());
        Ok(Address {
            text: Arc::from(text),
            at,
        })
    }

    /// The whole address, `local@domain`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The local part (before the last `@`).
    pub fn local_part(&self) -> &str {
        self.text.get(..self.at).unwrap_or_default()
    }

    /// The domain, lower-cased.
    pub fn domain(&self) -> &str {
        self.text.get(self.at + 1..).unwrap_or_default()
    }
}

fn strip_angles(s: &str) -> Option<&str> {
    let s = s.trim();
    match (s.starts_with('<'), s.ends_with('>')) {
        (true, true) => s.strip_prefix('<').and_then(|s| s.strip_suffix('>')),
        (false, false) => Some(s),
        _ => None,
    }
}

fn validate_local(local: &str) -> Result<(), &'static str> {
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
    fn eq(&self, other: &Self) -> bool {
        self.text.eq_ignore_ascii_case(&other.text)
    }
}
impl Eq for Address {}
impl Hash for Address {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_folded(&self.text, state);
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
pub struct DistinguishedName(Arc<str>);

impl DistinguishedName {
    /// Parses an X.500 distinguished name such as `/o=Org/ou=Site/cn=Recipients/cn=alice`.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
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
        Ok(DistinguishedName(Arc::from(t)))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for DistinguishedName {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}
impl Eq for DistinguishedName {}
impl Hash for DistinguishedName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_folded(&self.0, state);
    }
}
impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
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
        let t = input.trim();
        let (kind, value) = t.split_once(':').ok_or_else(|| AddressError::Invalid {
            input: input.to_owned(),
            reason: "proxy address needs a type prefix (SMTP:, smtp:, X500:, EX:)",
        })?;
        if kind.eq_ignore_ascii_case("smtp") {
            Ok(ProxyAddress::Smtp {
                address: Address::parse(value)?,
                primary: kind == "SMTP",
            })
        } else if kind.eq_ignore_ascii_case("x500") {
            Ok(ProxyAddress::X500(DistinguishedName::parse(value)?))
        } else if kind.eq_ignore_ascii_case("ex") {
            Ok(ProxyAddress::Ex(DistinguishedName::parse(value)?))
        } else {
            Err(AddressError::UnknownProxyType {
                input: input.to_owned(),
                kind: kind.to_owned(),
            })
        }
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

    #[test]
    fn reverse_paths() {
        assert_eq!(ReversePath::parse("<>").unwrap(), ReversePath::Null);
        assert_eq!(ReversePath::parse("").unwrap(), ReversePath::Null);
        let p = ReversePath::parse("<a@b.example>").unwrap();
        assert_eq!(p.address().unwrap().as_str(), "a@b.example");
        assert_eq!(p.to_string(), "<a@b.example>");
        assert!(ReversePath::parse("<nope>").is_err());
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
