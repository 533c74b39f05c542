//! Directory objects of an Active Directory or LDAP export to [`EntryConfig`]s.
//!
//! The mapping table is on [`directory_from_ldif`]. Objects are mapped as they are read
//! (one record at a time, so an export is never held twice); references by
//! distinguished name (members, delivery restrictions) are resolved to entry names when
//! every source has been read ([`LdifImport::finish`]).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::address::{Address, DistinguishedName, ProxyAddress};
use crate::config::PolicyConfig;
use crate::config::entry::{EntryConfig, EntryKindConfig};
use crate::config::restrictions::RestrictionsConfig;
use crate::proptag::PropTag;

use crate::ldif::error::{LdifError, excerpt};
use crate::ldif::reader::{LdifAttribute, LdifReader, LdifRecord};

/// How an export is read.
///
/// ```
/// use mail_journal::LdifOptions;
/// let audit = LdifOptions::new().lenient_references(true);
/// assert!(audit.lenient_references && !audit.skip_change_records);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LdifOptions {
    /// Drop a member or restriction whose distinguished name is in no source, with an
    /// [`LdifWarning`], instead of failing with [`LdifError::DanglingReference`].
    pub lenient_references: bool,
    /// Skip change records (`changetype:`), counting them in
    /// [`LdifDirectory::skipped`], instead of failing with [`LdifError::ChangeRecord`].
    pub skip_change_records: bool,
}

impl LdifOptions {
    /// The strict defaults: dangling references and change records are errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`LdifOptions::lenient_references`].
    pub fn lenient_references(mut self, lenient: bool) -> Self {
        self.lenient_references = lenient;
        self
    }

    /// Sets [`LdifOptions::skip_change_records`].
    pub fn skip_change_records(mut self, skip: bool) -> Self {
        self.skip_change_records = skip;
        self
    }
}

/// Why a record was not mapped to an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SkipReason {
    /// Not a recipient: organizational units, containers, domains, computers, objects
    /// without a mapped object class.
    NotARecipient,
    /// A user, person, group or public folder without any mail attribute.
    NotMailEnabled,
    /// A contact without `targetAddress`.
    NoTargetAddress,
    /// A contact or mail user whose `targetAddress` is not an SMTP address (`X400:`, …).
    NonSmtpTarget,
    /// A dynamic distribution list (`msExchDynamicDistributionList`): its members are an
    /// LDAP query, which an export does not expand.
    DynamicList,
    /// A change record, skipped because of [`LdifOptions::skip_change_records`].
    ChangeRecord,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::NotARecipient => "not a recipient (no user, person, group, contact or public folder class)",
            SkipReason::NotMailEnabled => "not mail-enabled (no proxyAddresses, mail, legacyExchangeDN, homeMDB, msExchMailboxGuid or targetAddress)",
            SkipReason::NoTargetAddress => "a contact without targetAddress",
            SkipReason::NonSmtpTarget => "targetAddress is not an SMTP address",
            SkipReason::DynamicList => "a dynamic distribution list (its members are a query)",
            SkipReason::ChangeRecord => "a change record",
        })
    }
}

/// A record that was not mapped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedObject {
    /// The distinguished name.
    pub dn: String,
    /// The source name.
    pub source: Arc<str>,
    /// The line of the record.
    pub line: usize,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// Why a reference was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LdifWarningReason {
    /// No source has an object with that distinguished name (only with
    /// [`LdifOptions::lenient_references`]; an error otherwise).
    NotInExport,
    /// The object exists but was not mapped (a security group or a user that is not
    /// mail-enabled, say): it cannot send or receive mail, so it is dropped. Always a
    /// warning.
    Skipped(SkipReason),
}

/// A dropped member or restriction reference, for the caller's audit.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LdifWarning {
    /// The entry holding the reference.
    pub entry: String,
    /// The attribute, such as `member` or `dLMemSubmitPerms`.
    pub attribute: &'static str,
    /// The distinguished name as written.
    pub dn: String,
    /// The source of the entry.
    pub source: Arc<str>,
    /// The line of the attribute value.
    pub line: usize,
    /// Why it was dropped.
    pub reason: LdifWarningReason,
}

impl fmt::Display for LdifWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} line {}: entry {:?} attribute {}: dropped {:?}: ",
            self.source, self.line, self.entry, self.attribute, self.dn
        )?;
        match self.reason {
            LdifWarningReason::NotInExport => {
                f.write_str("no object with this distinguished name in the export")
            }
            LdifWarningReason::Skipped(why) => write!(f, "the object was skipped: {why}"),
        }
    }
}

/// One mapped entry and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LdifEntry {
    /// The entry, members and restrictions resolved to entry names.
    pub entry: EntryConfig,
    /// The object's distinguished name.
    pub dn: String,
    /// The source name.
    pub source: Arc<str>,
    /// The line of the record.
    pub line: usize,
}

/// The directory read from one or more LDIF sources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LdifDirectory {
    /// The mapped entries, in the order read.
    pub entries: Vec<LdifEntry>,
    /// References dropped (to skipped objects, and with
    /// [`LdifOptions::lenient_references`] to objects in no source).
    pub warnings: Vec<LdifWarning>,
    /// The records that were not mapped, and why.
    pub skipped: Vec<SkippedObject>,
    /// The number of records read: `entries.len() + skipped.len()`.
    pub records: usize,
}

impl LdifDirectory {
    /// The entry configurations, for [`PolicyConfig::entries`] (see also
    /// [`merge_directory`], which checks names against the policy's own entries).
    pub fn into_entry_configs(self) -> Vec<EntryConfig> {
        self.entries.into_iter().map(|e| e.entry).collect()
    }

    /// How many records were skipped for each reason, in the order of [`SkipReason`].
    pub fn skipped_counts(&self) -> Vec<(SkipReason, usize)> {
        let mut counts: Vec<(SkipReason, usize)> = Vec::new();
        for s in &self.skipped {
            match counts.iter_mut().find(|(r, _)| *r == s.reason) {
                Some((_, n)) => *n += 1,
                None => counts.push((s.reason, 1)),
            }
        }
        counts.sort_unstable();
        counts
    }
}

/// A reference by distinguished name, resolved when every source has been read.
#[derive(Debug)]
struct Ref {
    attribute: &'static str,
    dn: String,
    line: u32,
}

#[derive(Debug)]
struct Pending {
    entry: EntryConfig,
    dn: String,
    source: Arc<str>,
    line: usize,
    members: Vec<Ref>,
    accept: Option<Vec<Ref>>,
    reject: Vec<Ref>,
}

/// A string-keyed map with a fast, non-cryptographic hash: the keys come from the
/// caller's own export, so flooding it only slows the caller's own import.
type Map<V> = HashMap<String, V, BuildHasherDefault<FoldHasher>>;

/// FxHash-style word-at-a-time hashing.
#[derive(Default)]
struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in chunks.by_ref() {
            let w: [u8; 8] = c.try_into().unwrap_or_default();
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Clone, Copy, Debug)]
enum Slot {
    Entry(usize),
    Skipped(usize),
}

/// Reads several LDIF sources into one directory, so that a list in one file can have
/// members in another.
///
/// ```
/// use mail_journal::{LdifImport, LdifOptions};
/// let people = "dn: cn=Carol,ou=People,dc=example,dc=com\nobjectClass: user\n\
///     sAMAccountName: carol\nmail: carol@example.com\n";
/// let groups = "dn: cn=Sales,ou=Groups,dc=example,dc=com\nobjectClass: group\ncn: Sales\n\
///     mail: sales@example.com\nmember: CN=Carol, OU=People, DC=example, DC=com\n";
/// let mut import = LdifImport::new(&LdifOptions::new());
/// import.add("people.ldif", people)?.add("groups.ldif", groups)?;
/// let dir = import.finish()?;
/// assert_eq!(dir.entries.len(), 2);
/// assert_eq!(&*dir.entries[1].source, "groups.ldif");
/// # Ok::<(), mail_journal::LdifError>(())
/// ```
#[derive(Debug)]
pub struct LdifImport {
    options: LdifOptions,
    pending: Vec<Pending>,
    skipped: Vec<SkippedObject>,
    /// Normalised DN → the record it names.
    index: Map<Slot>,
    /// Entry name, ASCII lower-cased → position in `pending`.
    names: Map<usize>,
    records: usize,
}

impl LdifImport {
    /// An empty import.
    pub fn new(options: &LdifOptions) -> Self {
        LdifImport {
            options: options.clone(),
            pending: Vec::new(),
            skipped: Vec::new(),
            index: Map::default(),
            names: Map::default(),
            records: 0,
        }
    }

    /// Reads one LDIF source; `source` names it in errors and in the result.
    pub fn add(&mut self, source: &str, text: &str) -> Result<&mut Self, LdifError> {
        let mut reader =
            LdifReader::new(source, text).skipping_change_records(self.options.skip_change_records);
        let src = Arc::clone(reader.source());
        let mut buffer = Vec::with_capacity(32);
        while let Some(record) = reader.next_reusing(buffer) {
            let record = record?;
            self.records += 1;
            self.take(&src, &record)?;
            buffer = record.into_attributes();
        }
        for change in reader.take_skipped() {
            self.records += 1;
            self.skipped.push(SkippedObject {
                dn: change.dn,
                source: Arc::clone(&src),
                line: change.line,
                reason: SkipReason::ChangeRecord,
            });
        }
        Ok(self)
    }

    fn take(&mut self, src: &Arc<str>, record: &LdifRecord<'_>) -> Result<(), LdifError> {
        let key = normalize_dn(record.dn());
        if let Some(slot) = self.index.get(&key) {
            let (first_file, first_line) = match *slot {
                Slot::Entry(i) => self.pending.get(i).map(|p| (&p.source, p.line)),
                Slot::Skipped(i) => self.skipped.get(i).map(|s| (&s.source, s.line)),
            }
            .map(|(s, l)| (Arc::clone(s), l))
            .unwrap_or_else(|| (Arc::from(""), 0));
            return Err(LdifError::DuplicateDn {
                file: Arc::clone(src),
                line: record.line(),
                dn: record.dn().to_owned(),
                first_file,
                first_line,
            });
        }
        let slot = match map_record(src, record)? {
            Mapped::Skip(reason) => {
                self.skipped.push(SkippedObject {
                    dn: record.dn().to_owned(),
                    source: Arc::clone(src),
                    line: record.line(),
                    reason,
                });
                Slot::Skipped(self.skipped.len() - 1)
            }
            Mapped::Entry(pending) => {
                let name_key = pending.entry.name.to_ascii_lowercase();
                if let Some(&first) = self.names.get(&name_key) {
                    let (first_dn, first_file, first_line) = self
                        .pending
                        .get(first)
                        .map(|p| (p.dn.clone(), Arc::clone(&p.source), p.line))
                        .unwrap_or_else(|| (String::new(), Arc::from(""), 0));
                    return Err(LdifError::DuplicateName {
                        name: pending.entry.name.clone(),
                        first_dn,
                        first_file,
                        first_line,
                        second_dn: pending.dn.clone(),
                        second_file: Arc::clone(src),
                        second_line: pending.line,
                    });
                }
                self.names.insert(name_key, self.pending.len());
                self.pending.push(*pending);
                Slot::Entry(self.pending.len() - 1)
            }
        };
        self.index.insert(key, slot);
        Ok(())
    }

    /// Resolves every member and restriction to an entry name and returns the directory.
    pub fn finish(self) -> Result<LdifDirectory, LdifError> {
        let LdifImport {
            options,
            pending,
            skipped,
            index,
            names: _,
            records,
        } = self;
        let names: Vec<String> = pending.iter().map(|p| p.entry.name.clone()).collect();
        let resolver = Resolver {
            lenient: options.lenient_references,
            index: &index,
            names: &names,
            skipped: &skipped,
        };
        let mut warnings = Vec::new();
        let mut entries = Vec::with_capacity(pending.len());
        for p in pending {
            let Pending {
                mut entry,
                dn,
                source,
                line,
                members,
                accept,
                reject,
            } = p;
            let mut resolve =
                |refs: Vec<Ref>| resolver.resolve(&entry.name, &source, refs, &mut warnings);
            let members = resolve(members)?;
            let accept = accept.map(&mut resolve).transpose()?;
            let reject = resolve(reject)?;
            if let EntryKindConfig::DistributionList { members: m } = &mut entry.kind {
                *m = members;
            }
            let mut restrictions = RestrictionsConfig::none();
            restrictions.accept = accept;
            restrictions.reject = reject;
            entry.restrictions = restrictions;
            entries.push(LdifEntry {
                entry,
                dn,
                source,
                line,
            });
        }
        Ok(LdifDirectory {
            entries,
            warnings,
            skipped,
            records,
        })
    }
}

struct Resolver<'r> {
    lenient: bool,
    index: &'r Map<Slot>,
    names: &'r [String],
    skipped: &'r [SkippedObject],
}

impl Resolver<'_> {
    fn resolve(
        &self,
        entry: &str,
        source: &Arc<str>,
        refs: Vec<Ref>,
        warnings: &mut Vec<LdifWarning>,
    ) -> Result<Vec<String>, LdifError> {
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            let reason = match self.index.get(&normalize_dn(&r.dn)) {
                Some(Slot::Entry(i)) => {
                    if let Some(name) = self.names.get(*i) {
                        out.push(name.clone());
                    }
                    continue;
                }
                Some(Slot::Skipped(i)) => LdifWarningReason::Skipped(
                    self.skipped
                        .get(*i)
                        .map_or(SkipReason::NotARecipient, |s| s.reason),
                ),
                None if self.lenient => LdifWarningReason::NotInExport,
                None => {
                    return Err(LdifError::DanglingReference {
                        file: Arc::clone(source),
                        line: r.line as usize,
                        entry: entry.to_owned(),
                        attribute: r.attribute.to_owned(),
                        dn: r.dn,
                    });
                }
            };
            warnings.push(LdifWarning {
                entry: entry.to_owned(),
                attribute: r.attribute,
                dn: r.dn,
                source: Arc::clone(source),
                line: r.line as usize,
                reason,
            });
        }
        Ok(out)
    }
}

/// Reads one LDIF source into directory entries.
///
/// `source` names the text in errors and in the result (usually the file name). To
/// read several files whose objects refer to each other, use [`LdifImport`].
///
/// # The mapping
///
/// Attribute and object class names are compared ignoring case; values with a
/// language option (`displayName;lang-de`) are ignored, `;binary` is read like no
/// option, and values returned in ranges (`member;range=0-1499`) are refused.
/// Single-valued attributes use their first value; empty values count as absent.
///
/// | object classes | mail-enabled when it has | entry |
/// |---|---|---|
/// | `contact` | `targetAddress` (`SMTP:x@y`, `smtp:x@y` or bare `x@y`) | contact forwarding to the target |
/// | `group`, `groupOfNames` | `proxyAddresses`, `mail` or `legacyExchangeDN` | distribution list of its `member`s |
/// | `publicFolder` | `proxyAddresses`, `mail` or `legacyExchangeDN` | public folder |
/// | `user`, `inetOrgPerson`, `person`, `organizationalPerson` | `proxyAddresses`, `mail`, `legacyExchangeDN`, `homeMDB`, `msExchMailboxGuid` or `targetAddress` | mailbox; a *mail user* (a `targetAddress` and neither `homeMDB` nor `msExchMailboxGuid`) is a contact forwarding to the target |
///
/// The first matching row wins (Active Directory contacts are also
/// `organizationalPerson`s). Anything else — organizational units, containers,
/// `computer`s, objects that are not mail-enabled, contacts without or with a non-SMTP
/// `targetAddress`, dynamic distribution lists — is skipped and counted in
/// [`LdifDirectory::skipped`] with its [`SkipReason`], so an operator can check that
/// `entries + skipped = records`. `mail` alone is enough to be mail-enabled, so that
/// directories without Exchange attributes (OpenLDAP, Active Directory without
/// Exchange) work; filter such an export (`(proxyAddresses=*)`) to take only Exchange
/// recipients.
///
/// | attribute | entry field |
/// |---|---|
/// | `mailNickname`, else `sAMAccountName`, else `uid`, else `cn` | name: the first that is not empty, holds no `@`, does not start with `/` and is not a proxy address. Names are unique ignoring case: a clash is [`LdifError::DuplicateName`], naming both objects |
/// | `displayName` | display name |
/// | `proxyAddresses` | proxies: `SMTP:` (primary), `smtp:`, `X500:`, `x500:` and `EX:` as written; other types (`X400:`, `FAX:`, `SIP:`, `EUM:`, …) are ignored |
/// | `mail` | the primary `SMTP:` proxy when `proxyAddresses` has none (a matching `smtp:` proxy is promoted); ignored otherwise |
/// | `legacyExchangeDN` | an `X500:` proxy, unless the same name is already a proxy |
/// | `targetAddress` | a contact's (or mail user's) target |
/// | `extensionAttribute1` … `extensionAttribute15` | custom attributes 1–15 ([`PropTag::custom_attribute`]), values as written (a reference in one is resolved by the policy, like any reference: write an `X500:` or SMTP address, not an LDAP DN) |
/// | `msExchHideFromAddressLists` | hidden (`TRUE` / `FALSE`, any case) |
/// | `member` (lists) | members |
/// | `authOrig`, `dLMemSubmitPerms` | accept list (individual senders and lists whose members may send, as Exchange stores "accept messages only from") |
/// | `unauthOrig`, `dLMemRejectPerms` | reject list |
///
/// Members and restrictions are distinguished names, resolved to entry names ignoring
/// case and the spaces around `,`, `=` and `+` (escapes such as `\,` and `\2C` are
/// equal). A name of a skipped object is dropped with an [`LdifWarning`]; a name in no
/// source is [`LdifError::DanglingReference`], or a warning with
/// [`LdifOptions::lenient_references`]. An accept list whose every reference was
/// dropped stays an accept list: it accepts nobody rather than everybody.
///
/// ```
/// use mail_journal::{directory_from_ldif, EntryKindConfig, LdifOptions, PropTag};
/// let ldif = "\
/// dn: CN=Carol Jones,OU=People,DC=example,DC=com
/// objectClass: top
/// objectClass: person
/// objectClass: organizationalPerson
/// objectClass: user
/// sAMAccountName: carol
/// displayName: Carol Jones
/// proxyAddresses: SMTP:carol@example.com
/// proxyAddresses: X400:c=US;a= ;p=Example;o=HQ;s=Jones;
/// legacyExchangeDN: /o=Example/ou=HQ/cn=Recipients/cn=carol
/// extensionAttribute10: X500:/o=Example/ou=HQ/cn=Recipients/cn=Managers
/// homeMDB: CN=Mailbox Store,CN=EXCH1,DC=example,DC=com
///
/// dn: CN=Domain Computers,CN=Users,DC=example,DC=com
/// objectClass: group
/// member: CN=Carol Jones,OU=People,DC=example,DC=com
/// ";
/// let dir = directory_from_ldif("people.ldif", ldif, &LdifOptions::new())?;
/// let carol = &dir.entries[0].entry;
/// assert_eq!(carol.name, "carol");
/// assert_eq!(carol.kind, EntryKindConfig::Mailbox);
/// assert_eq!(carol.proxies, ["SMTP:carol@example.com", "X500:/o=Example/ou=HQ/cn=Recipients/cn=carol"]);
/// assert_eq!(carol.properties[0].0, PropTag::from_u32(0x8036_0000)?);
/// assert_eq!(dir.skipped.len(), 1); // the security group is not mail-enabled
/// assert_eq!(dir.records, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn directory_from_ldif(
    source: &str,
    text: &str,
    options: &LdifOptions,
) -> Result<LdifDirectory, LdifError> {
    let mut import = LdifImport::new(options);
    import.add(source, text)?;
    import.finish()
}

/// Appends a directory read from LDIF to a policy configuration, refusing an entry name
/// (ignoring case) that the configuration already defines.
///
/// `config_source` names where the configuration's own entries come from (the policy
/// file, say) in the error. Read every LDIF source of a policy through one
/// [`LdifImport`], so that references across files resolve and a clash between two of
/// them names both.
///
/// ```
/// use mail_journal::{directory_from_ldif, merge_directory, EntryConfig, LdifOptions, PolicyConfig};
/// let ldif = "dn: cn=carol,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: carol\nmail: carol@example.com\n";
/// let dir = directory_from_ldif("people.ldif", ldif, &LdifOptions::new())?;
/// let mut config = PolicyConfig::new("example.com").entry(EntryConfig::mailbox("Carol"));
/// let err = merge_directory(&mut config, "policy.toml", dir).unwrap_err();
/// assert_eq!(err.to_string(), r#"entry "carol" is defined in both policy.toml and people.ldif"#);
/// assert_eq!(config.entries.len(), 1); // unchanged
/// # Ok::<(), mail_journal::LdifError>(())
/// ```
pub fn merge_directory(
    config: &mut PolicyConfig,
    config_source: &str,
    directory: LdifDirectory,
) -> Result<(), LdifError> {
    let mut seen: HashMap<String, String> = HashMap::with_capacity(config.entries.len());
    for e in &config.entries {
        seen.entry(e.name.trim().to_ascii_lowercase())
            .or_insert_with(|| config_source.to_owned());
    }
    for e in &directory.entries {
        let key = e.entry.name.trim().to_ascii_lowercase();
        if let Some(first) = seen.get(&key) {
            return Err(LdifError::DefinedTwice {
                entry: e.entry.name.clone(),
                first: first.clone(),
                second: e.source.to_string(),
            });
        }
        seen.insert(key, e.source.to_string());
    }
    config
        .entries
        .extend(directory.entries.into_iter().map(|e| e.entry));
    Ok(())
}

/// The attributes the mapping reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    ObjectClass,
    ProxyAddresses,
    Mail,
    LegacyExchangeDn,
    HomeMdb,
    MailboxGuid,
    TargetAddress,
    Hide,
    DisplayName,
    MailNickname,
    SamAccountName,
    Uid,
    Cn,
    Member,
    AuthOrig,
    UnauthOrig,
    SubmitPerms,
    RejectPerms,
    Extension(u8),
}

fn known(attribute_type: &str) -> Option<Known> {
    let mut buf = [0u8; 32];
    let b = attribute_type.as_bytes();
    let lower = buf.get_mut(..b.len())?;
    for (d, s) in lower.iter_mut().zip(b) {
        *d = s.to_ascii_lowercase();
    }
    Some(match &*lower {
        b"objectclass" => Known::ObjectClass,
        b"proxyaddresses" => Known::ProxyAddresses,
        b"mail" => Known::Mail,
        b"legacyexchangedn" => Known::LegacyExchangeDn,
        b"homemdb" => Known::HomeMdb,
        b"msexchmailboxguid" => Known::MailboxGuid,
        b"targetaddress" => Known::TargetAddress,
        b"msexchhidefromaddresslists" => Known::Hide,
        b"displayname" => Known::DisplayName,
        b"mailnickname" => Known::MailNickname,
        b"samaccountname" => Known::SamAccountName,
        b"uid" => Known::Uid,
        b"cn" => Known::Cn,
        b"member" => Known::Member,
        b"authorig" => Known::AuthOrig,
        b"unauthorig" => Known::UnauthOrig,
        b"dlmemsubmitperms" => Known::SubmitPerms,
        b"dlmemrejectperms" => Known::RejectPerms,
        other => {
            let digits = other.strip_prefix(b"extensionattribute")?;
            if digits.first() == Some(&b'0') || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let n: u8 = std::str::from_utf8(digits).ok()?.parse().ok()?;
            if !(1..=15).contains(&n) {
                return None;
            }
            Known::Extension(n)
        }
    })
}

/// A few attribute values of one record, kept inline.
type Values<'r, 'a, const N: usize> = smallvec::SmallVec<[&'r LdifAttribute<'a>; N]>;

/// The mapped attributes of one record.
#[derive(Default)]
struct Fields<'r, 'a> {
    classes: Values<'r, 'a, 6>,
    proxies: Values<'r, 'a, 4>,
    mail: Option<&'r LdifAttribute<'a>>,
    legacy: Option<&'r LdifAttribute<'a>>,
    home_mdb: bool,
    mailbox_guid: bool,
    target: Option<&'r LdifAttribute<'a>>,
    hide: Option<&'r LdifAttribute<'a>>,
    display: Option<&'r LdifAttribute<'a>>,
    names: [Values<'r, 'a, 2>; 4],
    members: Vec<&'r LdifAttribute<'a>>,
    accept: Values<'r, 'a, 2>,
    reject: Values<'r, 'a, 2>,
    extensions: [Option<&'r LdifAttribute<'a>>; 15],
}

enum Mapped {
    Skip(SkipReason),
    Entry(Box<Pending>),
}

/// What the object classes make of a record.
enum Class {
    Contact,
    List,
    PublicFolder,
    Person,
    Dynamic,
    Other,
}

struct Ctx<'s> {
    src: &'s Arc<str>,
    dn: &'s str,
}

impl Ctx<'_> {
    fn invalid(&self, a: &LdifAttribute<'_>, reason: impl Into<String>) -> LdifError {
        LdifError::InvalidValue {
            file: Arc::clone(self.src),
            line: a.line(),
            dn: self.dn.to_owned(),
            attribute: a.description().to_owned(),
            value: excerpt(a.value()),
            reason: reason.into(),
        }
    }

    /// The value as trimmed text; `None` when empty.
    fn text<'v>(&self, a: &'v LdifAttribute<'_>) -> Result<Option<&'v str>, LdifError> {
        let s = a
            .value_str()
            .ok_or_else(|| self.invalid(a, "the value is not UTF-8 text"))?
            .trim();
        Ok((!s.is_empty()).then_some(s))
    }

    /// Whether a value's options let the mapping read it.
    fn usable(&self, a: &LdifAttribute<'_>) -> Result<bool, LdifError> {
        if !a.has_options() {
            return Ok(true);
        }
        for o in a.options() {
            if o.eq_ignore_ascii_case("binary") {
                continue;
            }
            let range = o
                .get(..6)
                .filter(|p| p.eq_ignore_ascii_case("range="))
                .and_then(|_| o.get(6..));
            match range {
                Some("0-*") => continue,
                Some(_) => {
                    return Err(LdifError::RangedValues {
                        file: Arc::clone(self.src),
                        line: a.line(),
                        dn: self.dn.to_owned(),
                        attribute: a.description().to_owned(),
                    });
                }
                // Language tags and other tagging options: an alternative value.
                None => return Ok(false),
            }
        }
        Ok(true)
    }
}

fn classify(classes: &[&LdifAttribute<'_>]) -> Class {
    let has = |name: &str| {
        classes
            .iter()
            .any(|a| a.value().trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
    };
    if has("msExchDynamicDistributionList") {
        Class::Dynamic
    } else if has("contact") {
        Class::Contact
    } else if has("group") || has("groupOfNames") {
        Class::List
    } else if has("publicFolder") {
        Class::PublicFolder
    } else if has("computer") {
        Class::Other
    } else if has("user") || has("inetOrgPerson") || has("person") || has("organizationalPerson") {
        Class::Person
    } else {
        Class::Other
    }
}

/// Whether a name can stand for its entry as a reference: the directory resolves text
/// with `@`, a leading `/` or a proxy prefix as an address, never as a name.
fn usable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('@')
        && !name.starts_with('/')
        && ProxyAddress::parse(name).is_err()
}

/// The SMTP address of a `targetAddress`: `SMTP:x@y`, `smtp:x@y` or `x@y`; `None` for
/// another address type.
fn smtp_target(value: &str) -> Option<&str> {
    match value.split_once(':') {
        Some((kind, rest)) if kind.eq_ignore_ascii_case("smtp") => Some(rest.trim()),
        Some((kind, _)) if !kind.contains('@') => None,
        _ => Some(value),
    }
}

fn map_record(src: &Arc<str>, record: &LdifRecord<'_>) -> Result<Mapped, LdifError> {
    let cx = Ctx {
        src,
        dn: record.dn(),
    };
    let mut f = Fields::default();
    for a in record.attributes() {
        let Some(k) = known(a.attribute_type()) else {
            continue;
        };
        if !cx.usable(a)? || a.value().is_empty() {
            continue;
        }
        match k {
            Known::ObjectClass => f.classes.push(a),
            Known::ProxyAddresses => f.proxies.push(a),
            Known::Mail => {
                f.mail.get_or_insert(a);
            }
            Known::LegacyExchangeDn => {
                f.legacy.get_or_insert(a);
            }
            Known::HomeMdb => f.home_mdb = true,
            Known::MailboxGuid => f.mailbox_guid = true,
            Known::TargetAddress => {
                f.target.get_or_insert(a);
            }
            Known::Hide => {
                f.hide.get_or_insert(a);
            }
            Known::DisplayName => {
                f.display.get_or_insert(a);
            }
            Known::MailNickname => f.names[0].push(a),
            Known::SamAccountName => f.names[1].push(a),
            Known::Uid => f.names[2].push(a),
            Known::Cn => f.names[3].push(a),
            Known::Member => f.members.push(a),
            Known::AuthOrig | Known::SubmitPerms => f.accept.push(a),
            Known::UnauthOrig | Known::RejectPerms => f.reject.push(a),
            Known::Extension(n) => {
                if let Some(slot) = f.extensions.get_mut(usize::from(n) - 1) {
                    slot.get_or_insert(a);
                }
            }
        }
    }
    let addressed = !f.proxies.is_empty() || f.mail.is_some() || f.legacy.is_some();
    let kind = match classify(&f.classes) {
        Class::Other => return Ok(Mapped::Skip(SkipReason::NotARecipient)),
        Class::Dynamic => return Ok(Mapped::Skip(SkipReason::DynamicList)),
        Class::List | Class::PublicFolder if !addressed => {
            return Ok(Mapped::Skip(SkipReason::NotMailEnabled));
        }
        Class::List => EntryKindConfig::DistributionList {
            members: Vec::new(),
        },
        Class::PublicFolder => EntryKindConfig::PublicFolder,
        Class::Person if !addressed && !f.home_mdb && !f.mailbox_guid && f.target.is_none() => {
            return Ok(Mapped::Skip(SkipReason::NotMailEnabled));
        }
        Class::Person if f.target.is_none() || f.home_mdb || f.mailbox_guid => {
            EntryKindConfig::Mailbox
        }
        // A contact, or a mail user (a user forwarding to a target address).
        Class::Contact | Class::Person => {
            let Some(t) = f.target else {
                return Ok(Mapped::Skip(SkipReason::NoTargetAddress));
            };
            let Some(text) = cx.text(t)? else {
                return Ok(Mapped::Skip(SkipReason::NoTargetAddress));
            };
            let Some(address) = smtp_target(text) else {
                return Ok(Mapped::Skip(SkipReason::NonSmtpTarget));
            };
            let address = Address::parse(address).map_err(|e| cx.invalid(t, e.to_string()))?;
            EntryKindConfig::Contact {
                target: address.to_string(),
            }
        }
    };

    let mut name = None;
    'names: for attr in &f.names {
        for a in attr {
            if let Some(n) = cx.text(a)?.filter(|n| usable_name(n)) {
                name = Some(n.to_owned());
                break 'names;
            }
        }
    }
    let Some(name) = name else {
        return Err(LdifError::NoName {
            file: Arc::clone(src),
            line: record.line(),
            dn: record.dn().to_owned(),
        });
    };

    let mut entry = match kind {
        EntryKindConfig::Contact { target } => EntryConfig::contact(name, target),
        EntryKindConfig::DistributionList { .. } => {
            EntryConfig::distribution_list(name, Vec::<String>::new())
        }
        EntryKindConfig::PublicFolder => EntryConfig::public_folder(name),
        EntryKindConfig::Mailbox => EntryConfig::mailbox(name),
    };
    if let Some(d) = f.display {
        if let Some(text) = cx.text(d)? {
            entry.display_name = text.to_owned();
        }
    }
    entry.proxies = proxies(&cx, &f)?;
    if let Some(h) = f.hide {
        let v = h.value().trim_ascii();
        entry.hidden = if v.eq_ignore_ascii_case(b"TRUE") {
            true
        } else if v.eq_ignore_ascii_case(b"FALSE") {
            false
        } else {
            return Err(cx.invalid(h, "expected TRUE or FALSE"));
        };
    }
    for (i, ext) in f.extensions.iter().enumerate() {
        let Some(a) = ext else { continue };
        let Some(text) = cx.text(a)? else { continue };
        let n = u8::try_from(i + 1).unwrap_or(1);
        if let Ok(tag) = PropTag::custom_attribute(n) {
            entry.properties.push((tag, text.to_owned()));
        }
    }

    let refs = |attrs: &[&LdifAttribute<'_>]| -> Result<Vec<Ref>, LdifError> {
        let mut out = Vec::with_capacity(attrs.len());
        for a in attrs {
            if let Some(dn) = cx.text(a)? {
                out.push(Ref {
                    attribute: attribute_name(a),
                    dn: dn.to_owned(),
                    line: u32::try_from(a.line()).unwrap_or(u32::MAX),
                });
            }
        }
        Ok(out)
    };
    let members = if matches!(entry.kind, EntryKindConfig::DistributionList { .. }) {
        refs(&f.members)?
    } else {
        Vec::new()
    };
    let accept = if f.accept.is_empty() {
        None
    } else {
        Some(refs(&f.accept)?)
    };
    Ok(Mapped::Entry(Box::new(Pending {
        entry,
        dn: record.dn().to_owned(),
        source: Arc::clone(src),
        line: record.line(),
        members,
        accept,
        reject: refs(&f.reject)?,
    })))
}

/// The canonical spelling of a reference attribute, for warnings.
fn attribute_name(a: &LdifAttribute<'_>) -> &'static str {
    match known(a.attribute_type()) {
        Some(Known::Member) => "member",
        Some(Known::AuthOrig) => "authOrig",
        Some(Known::UnauthOrig) => "unauthOrig",
        Some(Known::SubmitPerms) => "dLMemSubmitPerms",
        Some(Known::RejectPerms) => "dLMemRejectPerms",
        _ => "reference",
    }
}

/// The proxy addresses of an entry: `proxyAddresses` of the mapped types, the `mail`
/// fallback for the primary address, and `legacyExchangeDN` as an `X500:` proxy.
fn proxies(cx: &Ctx<'_>, f: &Fields<'_, '_>) -> Result<Vec<String>, LdifError> {
    let mut parsed: Vec<ProxyAddress> = Vec::with_capacity(f.proxies.len() + 2);
    for a in &f.proxies {
        let Some(text) = cx.text(a)? else { continue };
        let Some((kind, _)) = text.split_once(':') else {
            return Err(cx.invalid(a, "a proxy address needs a type prefix such as SMTP:"));
        };
        let mapped = ["smtp", "x500", "ex"]
            .iter()
            .any(|k| kind.eq_ignore_ascii_case(k));
        if !mapped {
            continue;
        }
        let proxy = ProxyAddress::parse(text).map_err(|e| cx.invalid(a, e.to_string()))?;
        add_proxy(cx, a, &mut parsed, proxy)?;
    }
    let has_primary = parsed
        .iter()
        .any(|p| matches!(p, ProxyAddress::Smtp { primary: true, .. }));
    if let (Some(m), false) = (f.mail, has_primary) {
        if let Some(text) = cx.text(m)? {
            let address = Address::parse(text).map_err(|e| cx.invalid(m, e.to_string()))?;
            add_proxy(
                cx,
                m,
                &mut parsed,
                ProxyAddress::Smtp {
                    address,
                    primary: true,
                },
            )?;
        }
    }
    if let Some(l) = f.legacy {
        if let Some(text) = cx.text(l)? {
            let dn = DistinguishedName::parse(text).map_err(|e| cx.invalid(l, e.to_string()))?;
            add_proxy(cx, l, &mut parsed, ProxyAddress::X500(dn))?;
        }
    }
    Ok(parsed.iter().map(ToString::to_string).collect())
}

/// Adds a proxy unless the entry already has it: an SMTP address once (a primary
/// spelling promotes a secondary one), a distinguished name once whether `X500:` or
/// `EX:`. A second, different primary SMTP address is an error.
fn add_proxy(
    cx: &Ctx<'_>,
    a: &LdifAttribute<'_>,
    parsed: &mut Vec<ProxyAddress>,
    proxy: ProxyAddress,
) -> Result<(), LdifError> {
    match &proxy {
        ProxyAddress::Smtp { address, primary } => {
            if *primary
                && parsed.iter().any(|p| {
                    matches!(p, ProxyAddress::Smtp { address: o, primary: true } if o != address)
                })
            {
                return Err(cx.invalid(a, "a second primary (SMTP:) address"));
            }
            for p in parsed.iter_mut() {
                if let ProxyAddress::Smtp {
                    address: o,
                    primary: p_primary,
                } = p
                {
                    if o == address {
                        *p_primary |= *primary;
                        return Ok(());
                    }
                }
            }
        }
        ProxyAddress::X500(dn) | ProxyAddress::Ex(dn) => {
            let same = |p: &ProxyAddress| matches!(p, ProxyAddress::X500(o) | ProxyAddress::Ex(o) if o == dn);
            if parsed.iter().any(same) {
                return Ok(());
            }
        }
    }
    parsed.push(proxy);
    Ok(())
}

/// The canonical form of an LDAP distinguished name for comparison: attribute types and
/// values lower-cased, spaces around `,`, `=` and `+` removed, escapes decoded (`\,`,
/// `\2C` and `\2c` are equal), the parts of a multi-valued RDN sorted.
pub(crate) fn normalize_dn(dn: &str) -> String {
    let b = dn.as_bytes();
    // Simple: no escapes, quotes or multi-valued RDNs, and no space next to a separator
    // or at either end.
    let mut simple = b.first() != Some(&b' ') && b.last() != Some(&b' ');
    let mut previous = 0u8;
    for &c in b {
        let around = (c == b' ' && matches!(previous, b',' | b'='))
            || (previous == b' ' && matches!(c, b',' | b'='));
        if around || matches!(c, b'\\' | b'+' | b'"') {
            simple = false;
            break;
        }
        previous = c;
    }
    if simple {
        return lower(dn);
    }
    let mut rdns: Vec<String> = Vec::new();
    for rdn in split_unescaped(b, b',') {
        let mut avas: Vec<String> = split_unescaped(rdn, b'+')
            .into_iter()
            .map(normalize_ava)
            .collect();
        avas.sort_unstable();
        rdns.push(avas.join("+"));
    }
    rdns.join(",")
}

fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Splits at `sep` where it is not escaped by a backslash.
fn split_unescaped(b: &[u8], sep: u8) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, &c) in b.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if c == b'\\' {
            escaped = true;
        } else if c == sep {
            parts.push(b.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    parts.push(b.get(start..).unwrap_or_default());
    parts
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// `type=value` with the type trimmed and lower-cased and the value unescaped, trimmed
/// of unescaped spaces, lower-cased and escaped again canonically.
fn normalize_ava(ava: &[u8]) -> String {
    let eq = ava.iter().position(|&c| c == b'=');
    let (kind, value) = match eq {
        Some(i) => (
            Some(ava.get(..i).unwrap_or_default()),
            ava.get(i + 1..).unwrap_or_default(),
        ),
        None => (None, ava),
    };
    // Decode escapes, remembering which bytes were escaped.
    let mut bytes: Vec<(u8, bool)> = Vec::with_capacity(value.len());
    let mut i = 0;
    while let Some(&c) = value.get(i) {
        if c == b'\\' {
            let pair = value
                .get(i + 1)
                .copied()
                .and_then(hex)
                .zip(value.get(i + 2).copied().and_then(hex));
            if let Some((h, l)) = pair {
                bytes.push(((h << 4) | l, true));
                i += 3;
                continue;
            }
            if let Some(&next) = value.get(i + 1) {
                bytes.push((next, true));
                i += 2;
                continue;
            }
        }
        bytes.push((c, false));
        i += 1;
    }
    let start = bytes
        .iter()
        .position(|&(c, e)| c != b' ' || e)
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&(c, e)| c != b' ' || e)
        .map_or(start, |p| p + 1);
    let raw: Vec<u8> = bytes
        .get(start..end.max(start))
        .unwrap_or_default()
        .iter()
        .map(|&(c, _)| c)
        .collect();
    let value = lower(&String::from_utf8_lossy(&raw));
    let mut out = String::with_capacity(value.len() + 8);
    if let Some(k) = kind {
        out.push_str(&lower(String::from_utf8_lossy(k).trim_matches(' ')));
        out.push('=');
    }
    for c in value.chars() {
        if matches!(c, ',' | '+' | '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEOPLE: &str = "version: 1

# carol: a mailbox with every attribute
dn: CN=Carol Jones,OU=People,DC=example,DC=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Carol Jones
sAMAccountName: cjones
mailNickname: carol
displayName: Carol Jones
proxyAddresses: SMTP:carol@example.com
proxyAddresses: smtp:c.jones@example.com
proxyAddresses: X500:/o=Old/ou=Site/cn=carol
proxyAddresses: X400:c=US;a= ;p=Example;o=HQ;s=Jones;
proxyAddresses: FAX:+1 555 0100
legacyExchangeDN: /o=Example/ou=HQ/cn=Recipients/cn=carol
homeMDB: CN=Store,CN=EXCH1,DC=example,DC=com
extensionAttribute1: one
extensionAttribute10: X500:/o=Example/ou=HQ/cn=Recipients/cn=managers
extensionAttribute14: fourteen
extensionAttribute15: fifteen
msExchHideFromAddressLists: FALSE

dn: CN=Dave,OU=People,DC=example,DC=com
objectClass: inetOrgPerson
uid: dave
mail: dave@example.com

dn: CN=Service,OU=People,DC=example,DC=com
objectClass: user
sAMAccountName: svc

dn: OU=People,DC=example,DC=com
objectClass: organizationalUnit
";

    fn dir(text: &str) -> LdifDirectory {
        directory_from_ldif("t.ldif", text, &LdifOptions::new()).unwrap()
    }

    fn entry<'d>(d: &'d LdifDirectory, name: &str) -> &'d EntryConfig {
        &d.entries
            .iter()
            .find(|e| e.entry.name == name)
            .unwrap_or_else(|| panic!("{name} in {d:#?}"))
            .entry
    }

    fn person(dn: &str, extra: &str) -> String {
        format!("dn: {dn}\nobjectClass: user\n{extra}\n")
    }

    #[test]
    fn a_mailbox_with_every_mapped_attribute() {
        let d = dir(PEOPLE);
        assert_eq!(d.records, 4);
        assert_eq!(d.entries.len(), 2);
        let carol = entry(&d, "carol");
        assert_eq!(carol.kind, EntryKindConfig::Mailbox);
        assert_eq!(carol.display_name, "Carol Jones");
        assert_eq!(
            carol.proxies,
            [
                "SMTP:carol@example.com",
                "smtp:c.jones@example.com",
                "X500:/o=Old/ou=Site/cn=carol",
                "X500:/o=Example/ou=HQ/cn=Recipients/cn=carol",
            ]
        );
        assert!(!carol.hidden);
        let ca = |n| PropTag::custom_attribute(n).unwrap();
        assert_eq!(
            carol.properties,
            vec![
                (ca(1), "one".to_owned()),
                (
                    ca(10),
                    "X500:/o=Example/ou=HQ/cn=Recipients/cn=managers".to_owned()
                ),
                (ca(14), "fourteen".to_owned()),
                (ca(15), "fifteen".to_owned()),
            ]
        );
        assert_eq!(ca(10).registry_value(), 0x8036_0000);
        assert_eq!(ca(14).id(), 0x8C60);
        assert!(carol.restrictions.is_unrestricted());
        let e = &d.entries[0];
        assert_eq!(e.dn, "CN=Carol Jones,OU=People,DC=example,DC=com");
        assert_eq!((&*e.source, e.line), ("t.ldif", 4));
        // mail is the primary address when there is no SMTP: proxy.
        assert_eq!(entry(&d, "dave").proxies, ["SMTP:dave@example.com"]);
        assert_eq!(
            d.skipped_counts(),
            vec![
                (SkipReason::NotARecipient, 1),
                (SkipReason::NotMailEnabled, 1)
            ]
        );
        assert_eq!(d.skipped[0].dn, "CN=Service,OU=People,DC=example,DC=com");
    }

    #[test]
    fn mail_enabled_rule_for_people() {
        for (attr, mapped) in [
            ("proxyAddresses: X500:/o=O/cn=a", true),
            ("mail: a@example.com", true),
            ("legacyExchangeDN: /o=O/cn=a", true),
            ("homeMDB: CN=Store,DC=x", true),
            ("msExchMailboxGuid:: AAECAwQFBgcICQoLDA0ODw==", true),
            ("targetAddress: SMTP:a@far.example", true),
            ("telephoneNumber: 1", false),
            ("mail:", false),
        ] {
            let d = dir(&person("cn=a,dc=x", &format!("sAMAccountName: a\n{attr}")));
            assert_eq!(d.entries.len(), usize::from(mapped), "{attr}");
            assert_eq!(d.skipped.len(), usize::from(!mapped), "{attr}");
        }
        // A mailbox needs no address at all: homeMDB alone makes it one, reachable by name.
        let d = dir(&person("cn=a,dc=x", "sAMAccountName: a\nhomeMDB: CN=S"));
        assert!(d.entries[0].entry.proxies.is_empty());
    }

    #[test]
    fn object_classes_and_precedence() {
        let text = "dn: cn=ext,dc=x\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: contact\ncn: ext\ntargetAddress: SMTP:ext@far.example\nproxyAddresses: SMTP:ext@far.example\n\n\
dn: cn=bare,dc=x\nobjectClass: contact\ncn: bare\ntargetAddress: bare@far.example\n\n\
dn: cn=x400,dc=x\nobjectClass: contact\ncn: x400\ntargetAddress: X400:c=US;a= ;p=P;\n\n\
dn: cn=none,dc=x\nobjectClass: contact\ncn: none\nmail: none@far.example\n\n\
dn: cn=mailuser,dc=x\nobjectClass: user\nsAMAccountName: mailuser\nmail: mu@example.com\ntargetAddress: smtp:mu@tenant.example\n\n\
dn: cn=moved,dc=x\nobjectClass: user\nsAMAccountName: moved\ntargetAddress: SMTP:m@tenant.example\nmsExchMailboxGuid:: AAECAwQFBgcICQoLDA0ODw==\n\n\
dn: cn=Sales,dc=x\nobjectClass: GROUP\ncn: Sales\nmail: sales@example.com\n\n\
dn: cn=team,dc=x\nobjectClass: groupOfNames\ncn: team\nmail: team@example.com\nmember: cn=bare,dc=x\n\n\
dn: cn=Security,dc=x\nobjectClass: group\ncn: Security\n\n\
dn: cn=pf,dc=x\nobjectClass: publicFolder\ncn: pf\nproxyAddresses: SMTP:pf@example.com\n\n\
dn: cn=dyn,dc=x\nobjectClass: msExchDynamicDistributionList\ncn: dyn\nmail: dyn@example.com\n\n\
dn: cn=pc,dc=x\nobjectClass: user\nobjectClass: computer\ncn: pc\nmail: pc@example.com\n\n\
dn: cn=nothing,dc=x\ncn: nothing\nmail: n@example.com\n";
        let d = dir(text);
        let kind = |n: &str| entry(&d, n).kind.clone();
        let contact = |t: &str| EntryKindConfig::Contact { target: t.into() };
        assert_eq!(kind("ext"), contact("ext@far.example"));
        assert_eq!(kind("bare"), contact("bare@far.example"));
        assert_eq!(kind("mailuser"), contact("mu@tenant.example"));
        assert_eq!(kind("moved"), EntryKindConfig::Mailbox);
        assert_eq!(
            kind("Sales"),
            EntryKindConfig::DistributionList { members: vec![] }
        );
        assert_eq!(
            kind("team"),
            EntryKindConfig::DistributionList {
                members: vec!["bare".into()]
            }
        );
        assert_eq!(kind("pf"), EntryKindConfig::PublicFolder);
        let reasons: Vec<_> = d
            .skipped
            .iter()
            .map(|s| (s.dn.as_str(), s.reason))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("cn=x400,dc=x", SkipReason::NonSmtpTarget),
                ("cn=none,dc=x", SkipReason::NoTargetAddress),
                ("cn=Security,dc=x", SkipReason::NotMailEnabled),
                ("cn=dyn,dc=x", SkipReason::DynamicList),
                ("cn=pc,dc=x", SkipReason::NotARecipient),
                ("cn=nothing,dc=x", SkipReason::NotARecipient),
            ]
        );
        assert_eq!(d.records, d.entries.len() + d.skipped.len());
    }

    #[test]
    fn entry_names_fall_back_and_skip_unusable_values() {
        let d = dir(&[
            person(
                "cn=1,dc=x",
                "mailNickname: nick\nsAMAccountName: sam\nuid: u\ncn: c\nmail: 1@x.example",
            ),
            person(
                "cn=2,dc=x",
                "sAMAccountName: sam\nuid: u2\ncn: c\nmail: 2@x.example",
            ),
            person("cn=3,dc=x", "uid: u3\ncn: c3\nmail: 3@x.example"),
            person("cn=4,dc=x", "cn: c4\nmail: 4@x.example"),
            person(
                "cn=5,dc=x",
                "uid: five@x.example\ncn: Five Person\nmail: 5@x.example",
            ),
            person(
                "cn=6,dc=x",
                "mailNickname:  \ncn: /odd\ncn: SMTP:six@x.example\ncn:  six \nmail: 6@x.example",
            ),
        ]
        .join("\n"));
        let names: Vec<_> = d.entries.iter().map(|e| e.entry.name.as_str()).collect();
        assert_eq!(names, ["nick", "sam", "u3", "c4", "Five Person", "six"]);
        let err = directory_from_ldif(
            "t.ldif",
            &person("cn=7,dc=x", "uid: seven@x.example\nmail: 7@x.example"),
            &LdifOptions::new(),
        )
        .unwrap_err();
        assert!(matches!(err, LdifError::NoName { line: 1, .. }), "{err}");
    }

    #[test]
    fn name_clash_names_both_objects() {
        let text = [
            person(
                "cn=Carol One,dc=x",
                "sAMAccountName: carol\nmail: c1@x.example",
            ),
            person(
                "cn=Carol Two,dc=x",
                "sAMAccountName: CAROL\nmail: c2@x.example",
            ),
        ]
        .join("\n");
        let err = directory_from_ldif("people.ldif", &text, &LdifOptions::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "entry name \"CAROL\" is used by both \"cn=Carol One,dc=x\" (people.ldif line 1) and \"cn=Carol Two,dc=x\" (people.ldif line 6); entry names must be unique ignoring case"
        );
    }

    #[test]
    fn duplicate_dns_are_refused() {
        let text = [
            person("cn=a,dc=x", "sAMAccountName: a\nmail: a@x.example"),
            person("CN=A, DC=X", "sAMAccountName: b\nmail: b@x.example"),
        ]
        .join("\n");
        let err = directory_from_ldif("t.ldif", &text, &LdifOptions::new()).unwrap_err();
        assert!(
            matches!(
                err,
                LdifError::DuplicateDn {
                    line: 6,
                    first_line: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn proxy_addresses_mail_fallback_and_legacy_dn() {
        // mail promotes a matching secondary address.
        let d = dir(&person(
            "cn=a,dc=x",
            "sAMAccountName: a\nproxyAddresses: smtp:a@x.example\nproxyAddresses: smtp:b@x.example\nmail: A@X.example",
        ));
        assert_eq!(
            d.entries[0].entry.proxies,
            ["SMTP:a@x.example", "smtp:b@x.example"]
        );
        // With a primary already, mail is ignored.
        let d = dir(&person(
            "cn=a,dc=x",
            "sAMAccountName: a\nproxyAddresses: SMTP:new@x.example\nmail: old@x.example",
        ));
        assert_eq!(d.entries[0].entry.proxies, ["SMTP:new@x.example"]);
        // legacyExchangeDN already present as an X500 (or EX) proxy, any case: once.
        let d = dir(&person(
            "cn=a,dc=x",
            "sAMAccountName: a\nproxyAddresses: x500:/O=EXAMPLE/cn=a\nlegacyExchangeDN: /o=Example/cn=a",
        ));
        assert_eq!(d.entries[0].entry.proxies, ["X500:/O=EXAMPLE/cn=a"]);
        let d = dir(&person(
            "cn=a,dc=x",
            "sAMAccountName: a\nproxyAddresses: EX:/o=O/cn=a\nlegacyExchangeDN: /o=O/cn=a",
        ));
        assert_eq!(d.entries[0].entry.proxies, ["EX:/o=O/cn=a"]);
        // Only X500, no SMTP: a hidden journal mailbox.
        let d = dir(&person(
            "cn=j,dc=x",
            "sAMAccountName: j\nlegacyExchangeDN: /o=O/cn=j\nmsExchHideFromAddressLists: true",
        ));
        assert_eq!(d.entries[0].entry.proxies, ["X500:/o=O/cn=j"]);
        assert!(d.entries[0].entry.hidden);
        // The same address twice, primary and secondary: one primary.
        let d = dir(&person(
            "cn=a,dc=x",
            "sAMAccountName: a\nproxyAddresses: smtp:a@x.example\nproxyAddresses: SMTP:a@x.example",
        ));
        assert_eq!(d.entries[0].entry.proxies, ["SMTP:a@x.example"]);
    }

    #[test]
    fn bad_values_are_errors_naming_line_dn_and_attribute() {
        let cases = [
            ("proxyAddresses: SMTP:not an address", "proxyAddresses"),
            ("proxyAddresses: nocolon", "proxyAddresses"),
            (
                "proxyAddresses: SMTP:a@x.example\nproxyAddresses: SMTP:b@x.example",
                "proxyAddresses",
            ),
            ("mail: nobody", "mail"),
            ("legacyExchangeDN: o=NotX500", "legacyExchangeDN"),
            (
                "mail: a@x.example\nmsExchHideFromAddressLists: yes",
                "msExchHideFromAddressLists",
            ),
            ("mail: a@x.example\ndisplayName:: /w==", "displayName"),
            ("targetAddress: SMTP:bad", "targetAddress"),
        ];
        for (attrs, attribute) in cases {
            let text = person("cn=a,dc=x", &format!("sAMAccountName: a\n{attrs}"));
            let err = directory_from_ldif("people.ldif", &text, &LdifOptions::new()).unwrap_err();
            let LdifError::InvalidValue {
                file,
                line,
                dn,
                attribute: got,
                ..
            } = &err
            else {
                panic!("{attrs}: {err}");
            };
            assert_eq!(
                (&**file, dn.as_str(), got.as_str()),
                ("people.ldif", "cn=a,dc=x", attribute)
            );
            assert!(*line >= 3, "{err}");
            assert!(err.to_string().starts_with("people.ldif line "), "{err}");
        }
    }

    #[test]
    fn options_lang_binary_and_ranges() {
        let d = dir(&person(
            "cn=a,dc=x",
            "sAMAccountName: a\nmail: a@x.example\ndisplayName;lang-de: Anna\ndisplayName: Ann\nmsExchMailboxGuid;binary:: AAE=",
        ));
        assert_eq!(d.entries[0].entry.display_name, "Ann");
        let complete = "dn: cn=l,dc=x\nobjectClass: group\ncn: l\nmail: l@x.example\nmember;range=0-*: cn=a,dc=x\n";
        let text = format!(
            "{}\n{complete}",
            person("cn=a,dc=x", "sAMAccountName: a\nmail: a@x.example")
        );
        let d = dir(&text);
        assert_eq!(
            entry(&d, "l").kind,
            EntryKindConfig::DistributionList {
                members: vec!["a".into()]
            }
        );
        let partial = text.replace("range=0-*", "range=0-1499");
        let err = directory_from_ldif("g.ldif", &partial, &LdifOptions::new()).unwrap_err();
        assert!(
            matches!(&err, LdifError::RangedValues { attribute, .. } if attribute == "member;range=0-1499"),
            "{err}"
        );
    }

    const ORG: &str = "dn: cn=alice,ou=people,dc=x
objectClass: user
sAMAccountName: alice
mail: alice@x.example

dn: cn=erin,ou=people,dc=x
objectClass: user
sAMAccountName: erin
mail: erin@x.example

dn: cn=Managers,ou=groups,dc=x
objectClass: group
cn: Managers
mail: managers@x.example
member: CN=Alice, OU=People, DC=X
member: cn=Interns,ou=groups,dc=x
member: cn=Domain Users,ou=groups,dc=x

dn: cn=Interns,ou=groups,dc=x
objectClass: group
cn: Interns
mail: interns@x.example
member: cn=erin , ou = people,dc=x

dn: cn=Domain Users,ou=groups,dc=x
objectClass: group
cn: Domain Users

dn: cn=ceo,ou=people,dc=x
objectClass: user
sAMAccountName: ceo
mail: ceo@x.example
dLMemSubmitPerms: cn=managers,ou=groups,dc=x
authOrig: cn=alice,ou=people,dc=x
dLMemRejectPerms: cn=interns,ou=groups,dc=x
unauthOrig: cn=ghost,ou=people,dc=x
";

    #[test]
    fn members_and_restrictions_resolve_by_dn() {
        let err = directory_from_ldif("org.ldif", ORG, &LdifOptions::new()).unwrap_err();
        assert_eq!(
            err,
            LdifError::DanglingReference {
                file: "org.ldif".into(),
                line: 36,
                entry: "ceo".into(),
                attribute: "unauthOrig".into(),
                dn: "cn=ghost,ou=people,dc=x".into()
            }
        );
        let d = directory_from_ldif(
            "org.ldif",
            ORG,
            &LdifOptions::new().lenient_references(true),
        )
        .unwrap();
        assert_eq!(
            entry(&d, "Managers").kind,
            EntryKindConfig::DistributionList {
                members: vec!["alice".into(), "Interns".into()]
            }
        );
        assert_eq!(
            entry(&d, "Interns").kind,
            EntryKindConfig::DistributionList {
                members: vec!["erin".into()]
            }
        );
        let ceo = &entry(&d, "ceo").restrictions;
        assert_eq!(
            ceo.accept,
            Some(vec!["Managers".to_owned(), "alice".to_owned()])
        );
        assert_eq!(ceo.reject, vec!["Interns".to_owned()]);
        let w: Vec<_> = d
            .warnings
            .iter()
            .map(|w| {
                (
                    w.entry.as_str(),
                    w.attribute,
                    w.dn.as_str(),
                    w.line,
                    w.reason,
                )
            })
            .collect();
        assert_eq!(
            w,
            vec![
                (
                    "Managers",
                    "member",
                    "cn=Domain Users,ou=groups,dc=x",
                    17,
                    LdifWarningReason::Skipped(SkipReason::NotMailEnabled)
                ),
                (
                    "ceo",
                    "unauthOrig",
                    "cn=ghost,ou=people,dc=x",
                    36,
                    LdifWarningReason::NotInExport
                ),
            ]
        );
        assert!(
            d.warnings[1].to_string().contains("org.ldif line 36"),
            "{}",
            d.warnings[1]
        );
        // The directory builds into a policy.
        let mut cfg = PolicyConfig::new("x.example").accepted_domain("x.example");
        merge_directory(&mut cfg, "policy.toml", d).unwrap();
        assert!(cfg.build().is_ok());
    }

    #[test]
    fn an_accept_list_whose_references_were_all_dropped_accepts_nobody() {
        let text = format!(
            "{}\ndn: cn=g,dc=x\nobjectClass: group\ncn: g\n",
            person(
                "cn=a,dc=x",
                "sAMAccountName: a\nmail: a@x.example\nauthOrig: cn=g,dc=x"
            )
        );
        let d = dir(&text);
        assert_eq!(d.entries[0].entry.restrictions.accept, Some(vec![]));
        assert_eq!(d.warnings.len(), 1);
    }

    #[test]
    fn several_sources_resolve_across_files_and_name_their_source() {
        let mut import = LdifImport::new(&LdifOptions::new().skip_change_records(true));
        import
            .add(
                "people.ldif",
                &person("cn=a,dc=x", "sAMAccountName: a\nmail: a@x.example"),
            )
            .unwrap()
            .add(
                "groups.ldif",
                "dn: cn=g,dc=x\nobjectClass: group\ncn: g\nmail: g@x.example\nmember: cn=a,dc=x\n\ndn: cn=a,dc=x\nchangetype: delete\n",
            )
            .unwrap();
        let d = import.finish().unwrap();
        assert_eq!(&*d.entries[1].source, "groups.ldif");
        assert_eq!(d.skipped_counts(), vec![(SkipReason::ChangeRecord, 1)]);
        assert_eq!(d.records, 3);
        let mut import = LdifImport::new(&LdifOptions::new());
        import
            .add(
                "a.ldif",
                &person("cn=a,dc=x", "sAMAccountName: a\nmail: a@x.example"),
            )
            .unwrap();
        let err = import
            .add(
                "b.ldif",
                &person("cn=b,dc=x", "sAMAccountName: A\nmail: b@x.example"),
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("(a.ldif line 1)")
                && err.to_string().contains("(b.ldif line 1)"),
            "{err}"
        );
    }

    #[test]
    fn merge_refuses_names_defined_twice_and_leaves_the_config_alone() {
        let d = dir(PEOPLE);
        let mut cfg = PolicyConfig::new("example.com").entry(EntryConfig::mailbox("DAVE"));
        let err = merge_directory(&mut cfg, "policy.toml", d.clone()).unwrap_err();
        assert_eq!(
            err,
            LdifError::DefinedTwice {
                entry: "dave".into(),
                first: "policy.toml".into(),
                second: "t.ldif".into()
            }
        );
        assert_eq!(cfg.entries.len(), 1);
        let mut cfg = PolicyConfig::new("example.com").entry(EntryConfig::mailbox("frank"));
        merge_directory(&mut cfg, "policy.toml", d).unwrap();
        let names: Vec<_> = cfg.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["frank", "carol", "dave"]);
    }

    #[test]
    fn dn_normalisation() {
        let same = [
            (
                "CN=Alice Smith,OU=People,DC=example,DC=com",
                "cn=alice smith,ou=people,dc=example,dc=com",
            ),
            (
                "cn = Alice Smith , ou=People,dc=example, dc=com",
                "cn=alice smith,ou=people,dc=example,dc=com",
            ),
            ("cn=Smith\\, John,dc=x", "CN=smith\\2C john,DC=X"),
            ("cn=Smith\\, John,dc=x", "cn=Smith\\2c John , dc=x"),
            ("cn=a+uid=b,dc=x", "UID=B + CN=A,dc=x"),
            ("cn=Zoë,dc=x", "CN=ZOË,DC=X"),
            ("cn=Zo\\C3\\AB,dc=x", "cn=zoë,dc=x"),
            ("cn=trailing\\ ,dc=x", "cn=trailing\\20,dc=x"),
        ];
        for (a, b) in same {
            assert_eq!(normalize_dn(a), normalize_dn(b), "{a} vs {b}");
        }
        let different = [
            ("cn=a,dc=x", "cn=a,dc=y"),
            ("cn=a\\,b,dc=x", "cn=a,b,dc=x"),
            ("cn=trailing\\ ,dc=x", "cn=trailing,dc=x"),
            ("cn=a b,dc=x", "cn=ab,dc=x"),
        ];
        for (a, b) in different {
            assert_ne!(normalize_dn(a), normalize_dn(b), "{a} vs {b}");
        }
        // The fast path agrees with the full one.
        for dn in [
            "cn=Alice Smith,OU=People,DC=example,DC=com",
            "cn=Zoë,dc=x",
            "foo,dc=x",
            ",,",
            "",
        ] {
            let full: Vec<String> = split_unescaped(dn.as_bytes(), b',')
                .into_iter()
                .map(normalize_ava)
                .collect();
            assert_eq!(normalize_dn(dn), full.join(","), "{dn}");
        }
    }
}
