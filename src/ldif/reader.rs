//! The RFC 2849 LDIF reader and writer.
//!
//! What is read: an optional `version: 1` line; comment lines (`#`, continued like any
//! line); line folding (a line that starts with one space continues the previous one);
//! `attribute: value`, `attribute:: base64` and empty values; attribute descriptions with
//! options (`userCertificate;binary`, `displayName;lang-de`), names compared ignoring
//! case; records separated by one or more blank lines, the last one with or without a
//! trailing blank line; LF or CRLF line ends; a leading UTF-8 byte-order mark.
//!
//! What is refused, with an error naming the line: `attribute:< URL` values (reading
//! them would be I/O), change records (`changetype:` / `control:`), malformed lines.

use std::borrow::Cow;
use std::sync::Arc;

use crate::ldif::error::{LdifError, excerpt};

/// One attribute value of an LDIF record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdifAttribute<'a> {
    description: Cow<'a, str>,
    value: Cow<'a, [u8]>,
    line: u32,
}

impl<'a> LdifAttribute<'a> {
    /// The attribute description as written: the type and its options, such as
    /// `displayName;lang-de`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The attribute type: the description without its options (`displayName`).
    pub fn attribute_type(&self) -> &str {
        let d = &*self.description;
        memchr::memchr(b';', d.as_bytes())
            .and_then(|i| d.get(..i))
            .unwrap_or(d)
    }

    /// Whether the description has options.
    pub(crate) fn has_options(&self) -> bool {
        memchr::memchr(b';', self.description.as_bytes()).is_some()
    }

    /// The options, such as `binary` or `lang-de`, in the order written.
    pub fn options(&self) -> impl Iterator<Item = &str> {
        self.description.split(';').skip(1)
    }

    /// Whether the attribute type is `name`, ignoring case.
    pub fn is(&self, name: &str) -> bool {
        self.attribute_type().eq_ignore_ascii_case(name)
    }

    /// The value's bytes (decoded when it was written in base64).
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The value as text, when it is UTF-8.
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }

    /// The line the value starts on (1-based).
    pub fn line(&self) -> usize {
        self.line as usize
    }

    /// A copy that no longer borrows from the input.
    pub fn into_owned(self) -> LdifAttribute<'static> {
        LdifAttribute {
            description: Cow::Owned(self.description.into_owned()),
            value: Cow::Owned(self.value.into_owned()),
            line: self.line,
        }
    }
}

/// One content record of an LDIF file: a distinguished name and its attribute values,
/// in the order written.
///
/// ```
/// use mail_journal::parse_ldif;
/// let text = "version: 1\n\
///     dn: cn=Carol Jones,ou=People,dc=example,dc=com\n\
///     objectClass: user\n\
///     displayName:: Q2Fyb2wgSm/Dq2w=\n\
///     proxyAddresses: SMTP:carol@exa\n mple.com\n";
/// let records = parse_ldif("people.ldif", text)?;
/// let carol = &records[0];
/// assert_eq!(carol.dn(), "cn=Carol Jones,ou=People,dc=example,dc=com");
/// assert_eq!(carol.first("DISPLAYNAME").and_then(|a| a.value_str()), Some("Carol Joël"));
/// assert_eq!(carol.first("proxyAddresses").unwrap().value(), b"SMTP:carol@example.com");
/// assert_eq!(carol.first("proxyAddresses").unwrap().line(), 5);
/// # Ok::<(), mail_journal::LdifError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LdifRecord<'a> {
    dn: Cow<'a, str>,
    line: u32,
    attributes: Vec<LdifAttribute<'a>>,
}

impl<'a> LdifRecord<'a> {
    /// A record with no attributes yet (for writing LDIF).
    pub fn new(dn: impl Into<Cow<'a, str>>) -> Self {
        LdifRecord {
            dn: dn.into(),
            line: 0,
            attributes: Vec::new(),
        }
    }

    /// Appends an attribute value (for writing LDIF). The description must be an
    /// attribute type with optional `;options`; [`write_ldif`] writes it as given.
    pub fn push(
        &mut self,
        description: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, [u8]>>,
    ) -> &mut Self {
        self.attributes.push(LdifAttribute {
            description: description.into(),
            value: value.into(),
            line: 0,
        });
        self
    }

    /// The distinguished name, as written.
    pub fn dn(&self) -> &str {
        &self.dn
    }

    /// The line of the `dn:` line (1-based; 0 for a record built with [`LdifRecord::new`]).
    pub fn line(&self) -> usize {
        self.line as usize
    }

    /// Every attribute value, in the order written.
    pub fn attributes(&self) -> &[LdifAttribute<'a>] {
        &self.attributes
    }

    /// The values whose attribute type is `name` (ignoring case), whatever their options.
    pub fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s LdifAttribute<'a>> {
        self.attributes.iter().filter(move |a| a.is(name))
    }

    /// The first value whose attribute type is `name` (ignoring case).
    pub fn first(&self, name: &str) -> Option<&LdifAttribute<'a>> {
        self.attributes.iter().find(|a| a.is(name))
    }

    /// The attribute vector, to reuse its allocation.
    pub(crate) fn into_attributes(self) -> Vec<LdifAttribute<'a>> {
        self.attributes
    }

    /// A copy that no longer borrows from the input.
    pub fn into_owned(self) -> LdifRecord<'static> {
        LdifRecord {
            dn: Cow::Owned(self.dn.into_owned()),
            line: self.line,
            attributes: self
                .attributes
                .into_iter()
                .map(LdifAttribute::into_owned)
                .collect(),
        }
    }
}

/// Reads every content record of an LDIF text.
///
/// `source` names the text in error messages (usually the file name). See
/// [`LdifReader`] to read records one at a time.
///
/// ```
/// use mail_journal::parse_ldif;
/// let records = parse_ldif("a.ldif", "dn: cn=a,dc=x\r\ncn: a\r\n\r\ndn: cn=b,dc=x\r\ncn: b")?;
/// assert_eq!(records.len(), 2);
/// let err = parse_ldif("a.ldif", "dn: cn=a,dc=x\nchangetype: delete\n").unwrap_err();
/// assert!(err.to_string().contains("a.ldif line 2"), "{err}");
/// # Ok::<(), mail_journal::LdifError>(())
/// ```
pub fn parse_ldif<'a>(source: &str, text: &'a str) -> Result<Vec<LdifRecord<'a>>, LdifError> {
    LdifReader::new(source, text).collect()
}

/// Like [`parse_ldif`], for bytes that may not be UTF-8: values are bytes anyway, and a
/// distinguished name that is not UTF-8 is an error naming its line.
pub fn parse_ldif_bytes<'a>(
    source: &str,
    bytes: &'a [u8],
) -> Result<Vec<LdifRecord<'a>>, LdifError> {
    LdifReader::from_bytes(source, bytes).collect()
}

/// A record skipped because it is a change record (with the skipping option on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SkippedChange {
    pub dn: String,
    pub line: usize,
}

/// Reads the records of an LDIF text one at a time, borrowing from it: plain values
/// that fit on one line are never copied.
///
/// After an error the reader yields nothing more.
///
/// ```
/// use mail_journal::LdifReader;
/// let mut reader = LdifReader::new("a.ldif", "# export\ndn: cn=a,dc=x\ncn: a\n");
/// let record = reader.next().unwrap()?;
/// assert_eq!(record.first("cn").unwrap().value(), b"a");
/// assert!(reader.next().is_none());
/// # Ok::<(), mail_journal::LdifError>(())
/// ```
#[derive(Debug)]
pub struct LdifReader<'a> {
    source: Arc<str>,
    text: &'a [u8],
    pos: usize,
    /// The number of the physical line at `pos` (1-based).
    line: usize,
    started: bool,
    failed: bool,
    skip_changes: bool,
    skipped: Vec<SkippedChange>,
}

/// One logical line: a physical line and its continuations.
struct Logical<'a> {
    bytes: Cow<'a, [u8]>,
    line: usize,
}

impl Logical<'_> {
    fn is_blank(&self) -> bool {
        self.bytes.is_empty()
    }
    fn is_comment(&self) -> bool {
        self.bytes.first() == Some(&b'#')
    }
}

/// How a value is written after the attribute description.
enum ValueSpec {
    /// `: value` — the value's byte range in the logical line.
    Plain(usize, usize),
    /// `:: base64` — the decoded value.
    Base64(Vec<u8>),
}

impl<'a> LdifReader<'a> {
    /// A reader of `text`; `source` names it in error messages.
    pub fn new(source: &str, text: &'a str) -> Self {
        Self::from_bytes(source, text.as_bytes())
    }

    /// A reader of bytes that may not be UTF-8.
    pub fn from_bytes(source: &str, bytes: &'a [u8]) -> Self {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        LdifReader {
            source: Arc::from(source),
            text,
            pos: 0,
            line: 1,
            started: false,
            failed: false,
            skip_changes: false,
            skipped: Vec::new(),
        }
    }

    /// Skip change records instead of refusing them.
    pub(crate) fn skipping_change_records(mut self, skip: bool) -> Self {
        self.skip_changes = skip;
        self
    }

    /// The change records skipped so far.
    pub(crate) fn take_skipped(&mut self) -> Vec<SkippedChange> {
        std::mem::take(&mut self.skipped)
    }

    /// The source name given to the reader.
    pub(crate) fn source(&self) -> &Arc<str> {
        &self.source
    }

    fn syntax(&self, line: usize, reason: &'static str, text: &[u8]) -> LdifError {
        LdifError::Syntax {
            file: Arc::clone(&self.source),
            line,
            reason,
            text: excerpt(text),
        }
    }

    /// The next physical line without its line end, and its number.
    fn physical(&mut self) -> Option<(&'a [u8], usize)> {
        let rest = self.text.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (line, advance) = match memchr::memchr(b'\n', rest) {
            Some(nl) => (rest.get(..nl).unwrap_or_default(), nl + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        let number = self.line;
        self.line += 1;
        Some((line.strip_suffix(b"\r").unwrap_or(line), number))
    }

    /// The next logical line: a physical line with its continuation lines joined.
    fn logical(&mut self) -> Result<Option<Logical<'a>>, LdifError> {
        let Some((first, line)) = self.physical() else {
            return Ok(None);
        };
        if first.first() == Some(&b' ') {
            return Err(self.syntax(
                line,
                "a continuation line (starting with a space) with no line before it to continue",
                first,
            ));
        }
        let mut bytes = Cow::Borrowed(first);
        if !first.is_empty() {
            while self.text.get(self.pos) == Some(&b' ') {
                let Some((cont, _)) = self.physical() else {
                    break;
                };
                bytes
                    .to_mut()
                    .extend_from_slice(cont.get(1..).unwrap_or_default());
            }
        }
        Ok(Some(Logical { bytes, line }))
    }

    /// The next line of the current record (comments skipped); `None` at a blank line
    /// or the end of the text.
    fn record_line(&mut self) -> Result<Option<Logical<'a>>, LdifError> {
        loop {
            match self.logical()? {
                None => return Ok(None),
                Some(l) if l.is_blank() => return Ok(None),
                Some(l) if l.is_comment() => continue,
                Some(l) => return Ok(Some(l)),
            }
        }
    }

    /// Splits `description: value`, validating the description.
    fn split(&self, l: &Logical<'_>) -> Result<(usize, ValueSpec), LdifError> {
        let bytes = &*l.bytes;
        let Some(colon) = memchr::memchr(b':', bytes) else {
            return Err(self.syntax(l.line, "expected \"attribute: value\"", bytes));
        };
        let description = bytes.get(..colon).unwrap_or_default();
        if !valid_description(description) {
            return Err(self.syntax(
                l.line,
                "invalid attribute description (letters, digits and '-', or a numeric OID, then optional ;options)",
                bytes,
            ));
        }
        let rest = bytes.get(colon + 1..).unwrap_or_default();
        let attribute = || String::from_utf8_lossy(description).into_owned();
        match rest.first() {
            Some(b':') => {
                let data = rest.get(1..).unwrap_or_default().trim_ascii();
                let decoded = decode_base64(data).ok_or_else(|| LdifError::InvalidBase64 {
                    file: Arc::clone(&self.source),
                    line: l.line,
                    attribute: attribute(),
                    text: excerpt(data),
                })?;
                Ok((colon, ValueSpec::Base64(decoded)))
            }
            Some(b'<') => Err(LdifError::UrlValue {
                file: Arc::clone(&self.source),
                line: l.line,
                attribute: attribute(),
                url: excerpt(rest.get(1..).unwrap_or_default().trim_ascii()),
            }),
            _ => {
                let skip = rest.iter().take_while(|&&b| b == b' ').count();
                Ok((colon, ValueSpec::Plain(colon + 1 + skip, bytes.len())))
            }
        }
    }

    fn attribute(&self, l: Logical<'a>) -> Result<LdifAttribute<'a>, LdifError> {
        let (colon, spec) = self.split(&l)?;
        let line = u32::try_from(l.line).unwrap_or(u32::MAX);
        let (description, value) = match l.bytes {
            Cow::Borrowed(b) => {
                let description = ascii_str(b.get(..colon).unwrap_or_default());
                let value = match spec {
                    ValueSpec::Plain(s, e) => Cow::Borrowed(b.get(s..e).unwrap_or_default()),
                    ValueSpec::Base64(v) => Cow::Owned(v),
                };
                (Cow::Borrowed(description), value)
            }
            Cow::Owned(b) => {
                let description = ascii_str(b.get(..colon).unwrap_or_default()).to_owned();
                let value = match spec {
                    ValueSpec::Plain(s, e) => b.get(s..e).unwrap_or_default().to_vec(),
                    ValueSpec::Base64(v) => v,
                };
                (Cow::Owned(description), Cow::Owned(value))
            }
        };
        Ok(LdifAttribute {
            description,
            value,
            line,
        })
    }

    fn dn(&self, l: Logical<'a>) -> Result<Cow<'a, str>, LdifError> {
        let number = l.line;
        let text = l.bytes.clone();
        let a = self.attribute(l)?;
        if !a.description.eq_ignore_ascii_case("dn") {
            return Err(self.syntax(number, "a record must start with a \"dn:\" line", &text));
        }
        let not_utf8 = || self.syntax(number, "the distinguished name is not UTF-8 text", &text);
        match a.value {
            Cow::Borrowed(b) => std::str::from_utf8(b)
                .map(Cow::Borrowed)
                .map_err(|_| not_utf8()),
            Cow::Owned(v) => String::from_utf8(v).map(Cow::Owned).map_err(|_| not_utf8()),
        }
    }

    /// Checks the `version:` line (the first line of the text, if it is one) and
    /// returns the line after it in the same paragraph, if any.
    fn version(&mut self, l: Logical<'a>) -> Result<Option<Logical<'a>>, LdifError> {
        let (colon, spec) = self.split(&l)?;
        let name = l.bytes.get(..colon).unwrap_or_default();
        if !name.eq_ignore_ascii_case(b"version") {
            return Ok(Some(l));
        }
        let value = match &spec {
            ValueSpec::Plain(s, e) => l.bytes.get(*s..*e).unwrap_or_default(),
            ValueSpec::Base64(v) => v.as_slice(),
        };
        if value.trim_ascii() != b"1" {
            return Err(LdifError::UnsupportedVersion {
                file: Arc::clone(&self.source),
                line: l.line,
                version: excerpt(value),
            });
        }
        self.record_line()
    }

    fn record(
        &mut self,
        mut attributes: Vec<LdifAttribute<'a>>,
    ) -> Result<Option<LdifRecord<'a>>, LdifError> {
        loop {
            attributes.clear();
            let first = loop {
                match self.logical()? {
                    None => return Ok(None),
                    Some(l) if l.is_blank() || l.is_comment() => continue,
                    Some(l) => break l,
                }
            };
            let first = if self.started {
                first
            } else {
                self.started = true;
                match self.version(first)? {
                    Some(l) => l,
                    // The version line stood alone in its paragraph.
                    None => continue,
                }
            };
            let line = first.line;
            let dn = self.dn(first)?;
            let mut change = None;
            while let Some(l) = self.record_line()? {
                if attributes.is_empty() && change.is_none() && is_change_line(&l.bytes) {
                    change = Some((l.line, excerpt(&l.bytes)));
                }
                if change.is_some() {
                    continue;
                }
                attributes.push(self.attribute(l)?);
            }
            if let Some((at, kind)) = change {
                if self.skip_changes {
                    self.skipped.push(SkippedChange {
                        dn: dn.into_owned(),
                        line,
                    });
                    continue;
                }
                return Err(LdifError::ChangeRecord {
                    file: Arc::clone(&self.source),
                    line: at,
                    dn: dn.into_owned(),
                    kind,
                });
            }
            return Ok(Some(LdifRecord {
                dn,
                line: u32::try_from(line).unwrap_or(u32::MAX),
                attributes,
            }));
        }
    }
}

impl<'a> Iterator for LdifReader<'a> {
    type Item = Result<LdifRecord<'a>, LdifError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_reusing(Vec::new())
    }
}

impl<'a> LdifReader<'a> {
    /// The next record, its attributes stored in `buffer` (cleared first): a caller that
    /// hands back each record's attributes ([`LdifRecord::into_attributes`]) reads a
    /// whole export with one attribute allocation.
    pub(crate) fn next_reusing(
        &mut self,
        buffer: Vec<LdifAttribute<'a>>,
    ) -> Option<Result<LdifRecord<'a>, LdifError>> {
        if self.failed {
            return None;
        }
        match self.record(buffer) {
            Ok(r) => r.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// `changetype:` or `control:` (the lines that make a record a change record).
fn is_change_line(line: &[u8]) -> bool {
    let name = memchr::memchr(b':', line)
        .and_then(|c| line.get(..c))
        .unwrap_or_default();
    name.eq_ignore_ascii_case(b"changetype") || name.eq_ignore_ascii_case(b"control")
}

/// An ASCII slice as text (descriptions are validated ASCII).
fn ascii_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// RFC 2849 `AttributeDescription`: `AttributeType [";" options]`, the type a name
/// (a letter, then letters, digits and hyphens) or a numeric OID, each option one or
/// more letters, digits and hyphens. (Option values such as `range=0-1499`, which
/// Active Directory returns, are accepted too: `=` and `*` may appear in options.)
fn valid_description(d: &[u8]) -> bool {
    let mut parts = d.split(|&b| b == b';');
    let Some(kind) = parts.next() else {
        return false;
    };
    let name = matches!(kind.first(), Some(b) if b.is_ascii_alphabetic())
        && kind.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-');
    let oid = !kind.is_empty()
        && kind.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && kind.split(|&b| b == b'.').all(|n| !n.is_empty());
    (name || oid)
        && parts.all(|o| {
            !o.is_empty()
                && o.iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'=' | b'*'))
        })
}

/// Decodes standard base64 (RFC 4648 alphabet); padding is optional, anything else
/// (white space included) is refused.
pub(crate) fn decode_base64(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut data = 0usize;
    let mut pad = 0usize;
    for &c in input {
        if c == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return None;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        data += 1;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xFF) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    let bad_padding = pad > 2 || (pad > 0 && (data + pad) % 4 != 0);
    if data % 4 == 1 || bad_padding {
        return None;
    }
    Some(out)
}

/// Encodes standard base64 with padding.
pub(crate) fn encode_base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

/// RFC 2849 `SAFE-STRING`: writable after `: ` without base64.
fn is_safe(v: &[u8]) -> bool {
    if matches!(v.first(), Some(b' ' | b':' | b'<')) || v.last() == Some(&b' ') {
        return false;
    }
    v.iter()
        .all(|&b| b != 0 && b != b'\n' && b != b'\r' && b.is_ascii())
}

/// Writes one `name: value` line (or `name:: base64`), folded at 76 columns.
fn write_line(out: &mut String, name: &str, value: &[u8]) {
    let mut line = String::with_capacity(name.len() + value.len() + 3);
    line.push_str(name);
    if value.is_empty() {
        line.push(':');
    } else if is_safe(value) {
        line.push_str(": ");
        line.push_str(ascii_str(value));
    } else {
        line.push_str(":: ");
        line.push_str(&encode_base64(value));
    }
    // The line is ASCII, so any byte offset is a character boundary.
    let mut rest = line.as_str();
    let mut width = 76;
    loop {
        let (head, tail) = rest.split_at(rest.len().min(width));
        out.push_str(head);
        out.push('\n');
        if tail.is_empty() {
            break;
        }
        out.push(' ');
        rest = tail;
        width = 75;
    }
}

/// Writes records as LDIF (`version: 1`, values that are not plain ASCII in base64,
/// lines folded at 76 columns, LF line ends), such that [`parse_ldif`] reads back the
/// same distinguished names, descriptions and values.
///
/// ```
/// use mail_journal::{LdifRecord, parse_ldif, write_ldif};
/// let mut r = LdifRecord::new("cn=Zoë,dc=example,dc=com");
/// r.push("displayName", "Zoë".as_bytes()).push("cn", &b"Zoe"[..]);
/// let text = write_ldif(&[r]);
/// assert!(text.contains("dn:: Y249Wm/DqyxkYz1leGFtcGxlLGRjPWNvbQ=="), "{text}");
/// let back = parse_ldif("x", &text)?;
/// assert_eq!(back[0].first("displayName").unwrap().value_str(), Some("Zoë"));
/// # Ok::<(), mail_journal::LdifError>(())
/// ```
pub fn write_ldif(records: &[LdifRecord<'_>]) -> String {
    let mut out = String::from("version: 1\n");
    for r in records {
        out.push('\n');
        write_line(&mut out, "dn", r.dn.as_bytes());
        for a in &r.attributes {
            write_line(&mut out, &a.description, &a.value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> LdifRecord<'_> {
        let mut r = parse_ldif("t.ldif", text).unwrap();
        assert_eq!(r.len(), 1, "{r:?}");
        r.remove(0)
    }

    fn values<'a>(r: &'a LdifRecord<'_>, name: &'a str) -> Vec<&'a [u8]> {
        r.values(name).map(LdifAttribute::value).collect()
    }

    #[test]
    fn version_line_is_optional_and_must_be_one() {
        let with = parse_ldif("t", "version: 1\n\ndn: cn=a\ncn: a\n").unwrap();
        let without = parse_ldif("t", "dn: cn=a\ncn: a\n").unwrap();
        assert_eq!((with[0].dn(), with[0].line()), ("cn=a", 3));
        assert_eq!(
            with[0].attributes()[0].value(),
            without[0].attributes()[0].value()
        );
        // The version line may share the first paragraph.
        let joined = parse_ldif("t", "version: 1\ndn: cn=a\ncn: a\n").unwrap();
        assert_eq!(joined[0].dn(), "cn=a");
        let err = parse_ldif("t", "version: 2\n\ndn: cn=a\n").unwrap_err();
        assert_eq!(
            err,
            LdifError::UnsupportedVersion {
                file: "t".into(),
                line: 1,
                version: "2".into()
            }
        );
        // Only the first line can be a version line.
        let err = parse_ldif("t", "dn: cn=a\n\nversion: 1\n").unwrap_err();
        assert!(matches!(err, LdifError::Syntax { line: 3, .. }), "{err}");
    }

    #[test]
    fn comments_anywhere_and_folded_comments() {
        let r = one("# head\n#  folded\n  comment\ndn: cn=a\n# inside\ncn: a\n# tail\n");
        assert_eq!(values(&r, "cn"), vec![&b"a"[..]]);
        assert_eq!(r.attributes().len(), 1);
    }

    #[test]
    fn folded_lines_join_dropping_exactly_one_space() {
        let r = one("dn: cn=a,dc=exa\n mple,dc=com\ndescription: one\n  two\n");
        assert_eq!(r.dn(), "cn=a,dc=example,dc=com");
        assert!(parse_ldif("t", "dn: cn=a\ndescription: one\n\ttwo\n").is_err());
        let r = one("dn: cn=a\ndescription: one\n  two\n");
        assert_eq!(values(&r, "description"), vec![&b"one two"[..]]);
        // A fold inside the attribute name and inside the "::".
        let r = one("dn: cn=a\ndispl\n ayName:\n : Wm/Dqw==\n");
        assert_eq!(r.first("displayName").unwrap().value_str(), Some("Zoë"));
        assert_eq!(r.first("displayName").unwrap().line(), 2);
    }

    #[test]
    fn continuation_with_nothing_to_continue_is_an_error() {
        for text in [" dn: cn=a\n", "dn: cn=a\ncn: a\n\n cn: b\n"] {
            let err = parse_ldif("people.ldif", text).unwrap_err();
            let line = if text.starts_with(' ') { 1 } else { 4 };
            assert!(
                matches!(&err, LdifError::Syntax { line: l, .. } if *l == line),
                "{err}"
            );
            assert!(err.to_string().contains("continuation"), "{err}");
        }
    }

    #[test]
    fn base64_values_decode_and_bad_base64_names_the_line() {
        let r = one("dn:: Y249WmHDpw==\nphoto:: AAEC/w==\nplain:: YQ\nempty::\n");
        assert_eq!(r.dn(), "cn=Zaç");
        assert_eq!(values(&r, "photo"), vec![&[0u8, 1, 2, 255][..]]);
        assert_eq!(values(&r, "plain"), vec![&b"a"[..]]);
        assert_eq!(values(&r, "empty"), vec![&b""[..]]);
        let err = parse_ldif("people.ldif", "dn: cn=a\ncn: a\nphoto:: AA=A\n").unwrap_err();
        assert_eq!(
            err,
            LdifError::InvalidBase64 {
                file: "people.ldif".into(),
                line: 3,
                attribute: "photo".into(),
                text: "AA=A".into()
            }
        );
        assert!(err.to_string().contains("people.ldif line 3"));
        for bad in ["A", "AA=", "A===", "AA AA", "AA*A"] {
            assert!(decode_base64(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn base64_round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..40 {
            let chunk = data.get(n * 5..n * 5 + n).unwrap_or_default();
            let enc = encode_base64(chunk);
            assert_eq!(decode_base64(enc.as_bytes()).as_deref(), Some(chunk));
            let unpadded = enc.trim_end_matches('=');
            assert_eq!(decode_base64(unpadded.as_bytes()).as_deref(), Some(chunk));
        }
        assert_eq!(encode_base64(b"Zo\xc3\xab"), "Wm/Dqw==");
    }

    #[test]
    fn url_values_are_refused_with_the_line() {
        let err = parse_ldif(
            "org.ldif",
            "dn: cn=a\ncn: a\njpegPhoto:< file:///tmp/a.jpg\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            LdifError::UrlValue {
                file: "org.ldif".into(),
                line: 3,
                attribute: "jpegPhoto".into(),
                url: "file:///tmp/a.jpg".into()
            }
        );
        assert!(err.to_string().contains("org.ldif line 3"), "{err}");
    }

    #[test]
    fn change_records_are_refused_or_skipped() {
        let text = "dn: cn=a\ncn: a\n\ndn: cn=b\nchangetype: modify\nreplace: cn\ncn: c\n-\n\ndn: cn=c\ncontrol: 1.2.3 true\nchangetype: delete\n\ndn: cn=d\ncn: d\n";
        let err = parse_ldif("c.ldif", text).unwrap_err();
        assert_eq!(
            err,
            LdifError::ChangeRecord {
                file: "c.ldif".into(),
                line: 5,
                dn: "cn=b".into(),
                kind: "changetype: modify".into()
            }
        );
        let mut reader = LdifReader::new("c.ldif", text).skipping_change_records(true);
        let records: Vec<_> = reader.by_ref().collect::<Result<_, _>>().unwrap();
        let dns: Vec<_> = records.iter().map(LdifRecord::dn).collect();
        assert_eq!(dns, vec!["cn=a", "cn=d"]);
        let skipped = reader.take_skipped();
        assert_eq!(
            skipped,
            vec![
                SkippedChange {
                    dn: "cn=b".into(),
                    line: 4
                },
                SkippedChange {
                    dn: "cn=c".into(),
                    line: 10
                }
            ]
        );
        // A changetype that is not the first line is an ordinary attribute.
        let r = one("dn: cn=a\ncn: a\nchangetype: add\n");
        assert_eq!(values(&r, "changetype"), vec![&b"add"[..]]);
    }

    #[test]
    fn crlf_and_lf_read_the_same() {
        let lf = "dn: cn=a\ncn: a\n  b\n\ndn: cn=b\ncn: b\n";
        let crlf = lf.replace('\n', "\r\n");
        let a = parse_ldif("t", lf).unwrap();
        let b = parse_ldif("t", &crlf).unwrap();
        assert_eq!(a, b);
        assert_eq!(values(&a[0], "cn"), vec![&b"a b"[..]]);
    }

    #[test]
    fn options_and_case_insensitive_names() {
        let r = one(
            "dn: cn=a\nuserCertificate;binary:: AAE=\ndisplayName;lang-de: Anna\nDISPLAYNAME: Ann\nmember;range=0-1499: cn=x\n2.5.4.3: oid\n",
        );
        let cert = r.first("usercertificate").unwrap();
        assert_eq!(cert.attribute_type(), "userCertificate");
        assert_eq!(cert.options().collect::<Vec<_>>(), vec!["binary"]);
        assert_eq!(cert.value(), &[0, 1]);
        let names: Vec<_> = r.values("displayname").map(|a| a.description()).collect();
        assert_eq!(names, vec!["displayName;lang-de", "DISPLAYNAME"]);
        assert_eq!(
            r.first("member").unwrap().options().next(),
            Some("range=0-1499")
        );
        assert_eq!(values(&r, "2.5.4.3"), vec![&b"oid"[..]]);
        for bad in [
            "dn: cn=a\n1x: y\n",
            "dn: cn=a\nfoo bar: y\n",
            "dn: cn=a\n: y\n",
            "dn: cn=a\ncn;: y\n",
            "dn: cn=a\n1..2: y\n",
            "dn: cn=a\nno colon\n",
        ] {
            let err = parse_ldif("t", bad).unwrap_err();
            assert!(
                matches!(err, LdifError::Syntax { line: 2, .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn empty_values_and_value_spacing() {
        let r = one("dn: cn=a\ndescription:\nsn:    Smith  \ncn:a\n");
        assert_eq!(values(&r, "description"), vec![&b""[..]]);
        // Leading FILL spaces are dropped, trailing ones kept.
        assert_eq!(values(&r, "sn"), vec![&b"Smith  "[..]]);
        assert_eq!(values(&r, "cn"), vec![&b"a"[..]]);
    }

    #[test]
    fn blank_lines_separate_records_and_the_last_needs_none() {
        let rs = parse_ldif("t", "\n\ndn: cn=a\ncn: a\n\n\n\ndn: cn=b\ncn: b").unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[1].first("cn").unwrap().value(), b"b");
        assert_eq!(rs[1].line(), 8);
        assert!(parse_ldif("t", "").unwrap().is_empty());
        assert!(parse_ldif("t", "# only a comment\n\n").unwrap().is_empty());
        // A record with a dn and nothing else.
        assert!(
            parse_ldif("t", "dn: cn=a\n").unwrap()[0]
                .attributes()
                .is_empty()
        );
    }

    #[test]
    fn records_must_start_with_dn_and_dns_must_be_text() {
        let err = parse_ldif("t", "cn: a\n").unwrap_err();
        assert!(matches!(err, LdifError::Syntax { line: 1, .. }), "{err}");
        assert!(err.to_string().contains("dn:"), "{err}");
        let err = parse_ldif_bytes("t", b"dn:: /w==\n").unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
        let r = parse_ldif_bytes("t", b"dn: cn=a\nx: \xff\n").unwrap();
        assert_eq!(r[0].first("x").unwrap().value(), &[0xff]);
        assert_eq!(r[0].first("x").unwrap().value_str(), None);
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let r = parse_ldif("t", "\u{feff}dn: cn=a\n").unwrap();
        assert_eq!(r[0].dn(), "cn=a");
    }

    #[test]
    fn plain_single_line_values_borrow_from_the_input() {
        let text = String::from("dn: cn=a\ncn: a\nsn: long\n  folded\n");
        let r = one(&text);
        let range = text.as_bytes().as_ptr_range();
        let cn = r.first("cn").unwrap().value().as_ptr();
        assert!(range.contains(&cn));
        assert!(matches!(r.dn, Cow::Borrowed(_)));
        assert!(matches!(r.first("sn").unwrap().value, Cow::Owned(_)));
    }

    #[test]
    fn errors_name_the_line_and_text_and_stop_the_reader() {
        let mut reader = LdifReader::new("x.ldif", "dn: cn=a\ncn: a\n\ndn: cn=b\nbad line\n");
        assert!(reader.next().unwrap().is_ok());
        let err = reader.next().unwrap().unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.ldif line 5: expected \"attribute: value\": \"bad line\""
        );
        assert!(reader.next().is_none());
        let long = format!("dn: cn=a\n{}\n", "x".repeat(500));
        let err = parse_ldif("t", &long).unwrap_err().to_string();
        assert!(err.len() < 250 && err.contains('…'), "{err}");
    }

    #[test]
    fn writer_round_trips_awkward_values_and_folds() {
        let long = "x".repeat(200);
        let mut r = LdifRecord::new(" starts with space");
        r.push("a", &b""[..])
            .push("b", &b" lead"[..])
            .push("c", &b"trail "[..])
            .push("d", &b":colon"[..])
            .push("e", &b"<lt"[..])
            .push("f", &b"line\nbreak\r"[..])
            .push("g", &b"\x00nul"[..])
            .push("h", "ünï".as_bytes())
            .push("i;lang-de", long.as_bytes())
            .push("j", &[0xff, 0xfe][..]);
        let text = write_ldif(std::slice::from_ref(&r));
        assert!(text.lines().all(|l| l.len() <= 76), "{text}");
        let back = parse_ldif("w", &text).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].dn(), r.dn());
        let pairs = |r: &LdifRecord<'_>| -> Vec<(String, Vec<u8>)> {
            r.attributes()
                .iter()
                .map(|a| (a.description().to_owned(), a.value().to_vec()))
                .collect()
        };
        assert_eq!(pairs(&back[0]), pairs(&r));
        assert!(text.contains("\na:\n"), "{text}");
    }
}
