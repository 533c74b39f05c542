//! [`LdifError`]: why an LDIF text cannot be read or mapped.

use std::sync::Arc;

use thiserror::Error;

/// An LDIF text that cannot be read, or a directory export that cannot be mapped.
///
/// Every message names the source (the name the caller gave, usually the file name),
/// the line and the offending text, distinguished name or entry.
///
/// ```
/// use mail_journal::{LdifError, parse_ldif};
/// let err = parse_ldif("people.ldif", "dn: cn=a,dc=example,dc=com\njpegPhoto:< file:///a.jpg\n")
///     .unwrap_err();
/// assert!(matches!(err, LdifError::UrlValue { line: 2, .. }));
/// assert!(err.to_string().starts_with("people.ldif line 2: "), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LdifError {
    /// A line that is not LDIF: no `attribute: value` form, a malformed attribute
    /// description, a record that does not start with `dn:`, a continuation line with
    /// nothing to continue, a distinguished name that is not UTF-8.
    #[error("{file} line {line}: {reason}: {text:?}")]
    Syntax {
        /// The source name given by the caller.
        file: Arc<str>,
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        reason: &'static str,
        /// The offending text (shortened when long).
        text: String,
    },
    /// A `version:` line with a version other than 1.
    #[error("{file} line {line}: unsupported LDIF version {version:?} (only version 1 exists)")]
    UnsupportedVersion {
        /// The source name given by the caller.
        file: Arc<str>,
        /// The line (1-based).
        line: usize,
        /// The version as written.
        version: String,
    },
    /// A value that is not valid base64 after `::`.
    #[error(
        "{file} line {line}: the value of {attribute} after \"::\" is not valid base64: {text:?}"
    )]
    InvalidBase64 {
        /// The source name given by the caller.
        file: Arc<str>,
        /// The line (1-based).
        line: usize,
        /// The attribute description.
        attribute: String,
        /// The offending text (shortened when long).
        text: String,
    },
    /// A value taken from a URL (`attribute:< file:///…`): reading it would be I/O, which
    /// the library never does.
    #[error(
        "{file} line {line}: {attribute} takes its value from the URL {url:?}; URL values (\":<\") are not supported: write the value into the file (base64 after \"::\" for binary data)"
    )]
    UrlValue {
        /// The source name given by the caller.
        file: Arc<str>,
        /// The line (1-based).
        line: usize,
        /// The attribute description.
        attribute: String,
        /// The URL as written.
        url: String,
    },
    /// A change record (`changetype:` or `control:` after the `dn:` line). Only content
    /// records, as exports contain, can be read; `LdifOptions::skip_change_records`
    /// skips them instead.
    #[error(
        "{file} line {line}: {dn:?} is a change record ({kind}); only content records (an export such as ldapsearch -LLL writes) can be read"
    )]
    ChangeRecord {
        /// The source name given by the caller.
        file: Arc<str>,
        /// The line of the `changetype:` / `control:` line.
        line: usize,
        /// The record's distinguished name.
        dn: String,
        /// The line's text, such as `changetype: modify`.
        kind: String,
    },
    /// A mapped attribute with a value that cannot be used: a malformed proxy or SMTP
    /// address, a legacyExchangeDN that is not an X.500 name, a flag that is neither
    /// TRUE nor FALSE, text that is not UTF-8.
    #[error("{file} line {line}: {dn:?} attribute {attribute}: {reason}: {value:?}")]
    InvalidValue {
        /// The source name given by the caller.
        file: Arc<str>,
        /// The line (1-based).
        line: usize,
        /// The object's distinguished name.
        dn: String,
        /// The attribute.
        attribute: String,
        /// The value (shortened when long).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A mapped attribute whose values came back in ranges (Active Directory's ranged
    /// retrieval, `member;range=0-1499`): the export holds only part of them.
    #[error(
        "{file} line {line}: {dn:?} attribute {attribute} holds only part of its values (ranged retrieval); export with a tool that follows ranges"
    )]
    RangedValues {
        /// The source name given by the caller.
        file: Arc<str>,
        /// The line (1-based).
        line: usize,
        /// The object's distinguished name.
        dn: String,
        /// The attribute description, such as `member;range=0-1499`.
        attribute: String,
    },
    /// A mail-enabled object with no usable name in mailNickname, sAMAccountName, uid
    /// or cn.
    #[error(
        "{file} line {line}: {dn:?} has no usable entry name (mailNickname, sAMAccountName, uid or cn that is not empty, holds no '@' and does not start with '/')"
    )]
    NoName {
        /// The source name given by the caller.
        file: Arc<str>,
        /// The line of the record (1-based).
        line: usize,
        /// The object's distinguished name.
        dn: String,
    },
    /// Two records with the same distinguished name.
    #[error(
        "{file} line {line}: {dn:?} appears a second time (first at {first_file} line {first_line})"
    )]
    DuplicateDn {
        /// The source of the second record.
        file: Arc<str>,
        /// The line of the second record.
        line: usize,
        /// The distinguished name.
        dn: String,
        /// The source of the first record.
        first_file: Arc<str>,
        /// The line of the first record.
        first_line: usize,
    },
    /// Two objects that map to the same entry name (names are unique ignoring case).
    #[error(
        "entry name {name:?} is used by both {first_dn:?} ({first_file} line {first_line}) and {second_dn:?} ({second_file} line {second_line}); entry names must be unique ignoring case"
    )]
    DuplicateName {
        /// The entry name.
        name: String,
        /// The first object's distinguished name.
        first_dn: String,
        /// The first object's source.
        first_file: Arc<str>,
        /// The first object's line.
        first_line: usize,
        /// The second object's distinguished name.
        second_dn: String,
        /// The second object's source.
        second_file: Arc<str>,
        /// The second object's line.
        second_line: usize,
    },
    /// A member or restriction naming a distinguished name that is in none of the
    /// imported sources. `LdifOptions::lenient_references` drops it with an
    /// [`LdifWarning`](crate::LdifWarning) instead.
    #[error(
        "{file} line {line}: entry {entry:?} attribute {attribute}: no object with distinguished name {dn:?} in the export"
    )]
    DanglingReference {
        /// The source name.
        file: Arc<str>,
        /// The line of the attribute.
        line: usize,
        /// The entry holding the reference.
        entry: String,
        /// The attribute, such as `member` or `authOrig`.
        attribute: String,
        /// The distinguished name as written.
        dn: String,
    },
    /// An entry name defined both by the policy and by an LDIF source (or by two
    /// sources), found when merging.
    #[error("entry {entry:?} is defined in both {first} and {second}")]
    DefinedTwice {
        /// The entry name.
        entry: String,
        /// Where it was defined first (the policy's source name, or an LDIF source).
        first: String,
        /// Where it was defined again.
        second: String,
    },
}

/// A short, printable excerpt of offending input for an error message.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 80;
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() <= MAX {
        return text.into_owned();
    }
    let mut short: String = text.chars().take(MAX).collect();
    short.push('…');
    short
}
