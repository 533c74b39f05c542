//! Policy configuration files (feature `serde`): TOML and JSON, with errors that give the
//! path of the offending field.
//!
//! ```toml
//! organisation = "example.com"
//! accepted_domains = ["example.com"]
//!
//! [[entries]]
//! name = "carol"
//! kind = "mailbox"
//! proxies = ["SMTP:carol@example.com"]
//! properties = { "custom attribute 10" = "X500:/o=Example/cn=Managers" }
//!
//! [[connectors]]
//! name = "IMS"
//! address_spaces = [{ pattern = "*", cost = 1 }]
//! inbound_journal = { target = "X500:/o=Example/cn=Journal-DL", ndr = "InboundJournalNDR" }
//! ```
//!
//! `examples/policy.toml` documents every key. Values are checked while reading where the
//! check needs no other part of the file — costs, property tags, the mandatory
//! journal-NDR address, proxy addresses — so the error names the field
//! (`connectors[1].address_spaces[0].cost: 0 is out of range 1..=100`); references
//! between parts are checked by [`PolicyConfig::build`](crate::PolicyConfig::build).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use std::path::Path;

use crate::address::ProxyAddress;
use crate::config::connector::{AddressSpace, ConnectorConfig, JournalSettings, NextHop};
use crate::config::entry::EntryConfig;
use crate::config::error::ConfigError;
use crate::config::limits::Limits;
use crate::config::restrictions::RestrictionsConfig;
use crate::config::rule::{JournalRuleConfig, JournalScope};
use crate::config::{JournalFormat, PolicyConfig};
#[cfg(feature = "ldif")]
use crate::ldif::mapping::{LdifImport, LdifOptions, merge_directory};
use crate::proptag::PropTag;

impl PolicyConfig {
    /// Reads a configuration from TOML.
    ///
    /// Errors say where: the line and column of a syntax error, the line and field path
    /// of a bad value, with the entry's or connector's name
    /// (`line 7: entries[1] ("journal-box").proxies[0]: …`). A file that names LDIF
    /// directory exports (`directory = [...]`) is read with
    /// [`PolicyConfig::from_toml_file`], which is given a way to read them.
    ///
    /// ```
    /// let cfg = mail_journal::PolicyConfig::from_toml(r#"
    ///     organisation = "example.com"
    ///     accepted_domains = ["example.com"]
    ///     [[entries]]
    ///     name = "carol"
    ///     kind = "mailbox"
    ///     proxies = ["SMTP:carol@example.com"]
    /// "#)?;
    /// let policy = cfg.build()?;
    /// assert!(policy.entry_by_address("carol@example.com").is_some());
    ///
    /// let err = mail_journal::PolicyConfig::from_toml(r#"organisation = "example.com"
    /// [[connectors]]
    /// name = "IMS"
    /// address_spaces = [{ pattern = "*", cost = 0 }]
    /// "#).unwrap_err();
    /// assert_eq!(err.to_string(),
    ///     "line 4: connectors[0] (\"IMS\").address_spaces[0].cost: 0 is out of range: expected an integer 1–100");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<PolicyConfig, ConfigError> {
        let file = read_toml("", text)?;
        if !file.directory.is_empty() {
            return Err(ConfigError::Field {
                file: String::new(),
                line: None,
                path: "directory".into(),
                message: "LDIF directory files are read by PolicyConfig::from_toml_file, which is given a way to read them".into(),
            });
        }
        Ok(file.into_config())
    }

    /// Reads a policy file: its TOML `text` (read from `path`), and the LDIF directory
    /// exports it names (`directory = ["people.ldif"]`, paths relative to the policy file),
    /// merged into its entries. The library does no I/O: `read` is called with each
    /// directory file's path and returns its text (`std::fs::read_to_string` will do).
    ///
    /// Every error — syntax, a bad value, a file that cannot be read, a bad LDIF export,
    /// an entry defined both in the policy and in an export — is a [`ConfigError`] that
    /// names the file and the line; building the result gives the same error type.
    ///
    /// ```
    /// use std::path::Path;
    /// use mail_journal::PolicyConfig;
    /// let policy_toml = r#"organisation = "example.com"
    /// accepted_domains = ["example.com"]
    /// directory = ["people.ldif"]
    /// "#;
    /// let people = "dn: cn=carol,dc=example,dc=com\nobjectClass: user\ncn: carol\nmail: carol@example.com\n";
    /// let cfg = PolicyConfig::from_toml_file(Path::new("/etc/mail/policy.toml"), policy_toml, |path| {
    ///     assert_eq!(path, Path::new("/etc/mail/people.ldif"));
    ///     Ok(people.to_owned()) // std::fs::read_to_string(path) in a real transport
    /// })?;
    /// let policy = cfg.build()?;
    /// assert!(policy.entry_by_address("carol@example.com").is_some());
    /// # Ok::<(), mail_journal::ConfigError>(())
    /// ```
    pub fn from_toml_file(
        path: &Path,
        text: &str,
        read: impl FnMut(&Path) -> std::io::Result<String>,
    ) -> Result<PolicyConfig, ConfigError> {
        let name = path.display().to_string();
        let file = read_toml(&name, text)?;
        let (directory, options) = (file.directory.clone(), file.directory_options);
        let mut cfg = file.into_config();
        if !directory.is_empty() {
            merge_directories(&mut cfg, path, &name, &directory, options, read)?;
        }
        Ok(cfg)
    }

    /// Reads a configuration from JSON (the same structure as TOML).
    pub fn from_json(text: &str) -> Result<PolicyConfig, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let file: File = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            // serde_json appends " at line L column C": say it first, as for TOML.
            let message = match message.rsplit_once(" at line ") {
                Some((m, _)) => m.to_owned(),
                None => message,
            };
            let message = speak(&message);
            if path.is_empty() || path == "." {
                ConfigError::Syntax {
                    file: String::new(),
                    line: inner.line(),
                    column: inner.column(),
                    message,
                }
            } else {
                ConfigError::Field {
                    file: String::new(),
                    line: Some(inner.line()),
                    path: named_path(&path, |array, index| {
                        serde_json::from_str::<serde_json::Value>(text)
                            .ok()
                            .and_then(|v| {
                                v.get(array)?
                                    .get(index)?
                                    .get("name")?
                                    .as_str()
                                    .map(str::to_owned)
                            })
                    }),
                    message,
                }
            }
        })?;
        Ok(file.into_config())
    }
}

/// Parses the TOML of a policy file called `name` (empty when it has none).
fn read_toml(name: &str, text: &str) -> Result<File, ConfigError> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let position = inner.span().map(|s| line_column(text, s.start));
        let message = match inner.message().trim() {
            "" => "invalid TOML: a value is missing or malformed".to_owned(),
            m => speak(m),
        };
        if path.is_empty() || path == "." {
            let (line, column) = position.unwrap_or((1, 1));
            ConfigError::Syntax {
                file: name.to_owned(),
                line,
                column,
                message,
            }
        } else {
            ConfigError::Field {
                file: name.to_owned(),
                line: position.map(|(l, _)| l),
                path: named_path(&path, |array, index| {
                    let v: toml::Value = toml::from_str(text).ok()?;
                    v.get(array)?
                        .get(index)?
                        .get("name")?
                        .as_str()
                        .map(str::to_owned)
                }),
                message,
            }
        }
    })
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// `entries[3].proxies[0]` → `entries[3] ("journal-box").proxies[0]`: the entry,
/// connector or rule named as well as numbered.
fn named_path(path: &str, name_of: impl Fn(&str, usize) -> Option<String>) -> String {
    let mut out = String::with_capacity(path.len() + 16);
    for (i, segment) in path.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(segment);
        let Some((array, rest)) = segment.split_once('[') else {
            continue;
        };
        let index = rest.strip_suffix(']').and_then(|n| n.parse::<usize>().ok());
        if i == 0 && matches!(array, "entries" | "connectors" | "journal_rules") {
            if let Some(name) = index.and_then(|n| name_of(array, n)) {
                out.push_str(&format!(" ({name:?})"));
            }
        }
    }
    out
}

/// Serde's messages in the file's language: `expected an integer, found the string "x"`
/// rather than `invalid type: string "x", expected i64`.
fn speak(message: &str) -> String {
    let (what, found, expected) = match (
        message.strip_prefix("invalid type: "),
        message.strip_prefix("invalid value: "),
    ) {
        (Some(rest), _) | (None, Some(rest)) => match rest.rsplit_once(", expected ") {
            Some((found, expected)) => (true, found, expected),
            None => (false, "", ""),
        },
        _ => (false, "", ""),
    };
    if !what {
        return message.to_owned();
    }
    let expected = match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => "an integer",
        "usize" => "a whole number (0 or more)",
        "a boolean" => "true or false",
        "a sequence" => "a list, [ … ]",
        "a map" | "struct File" => "a table",
        other => other,
    };
    let found = found
        .replace('`', "")
        .replacen("string ", "the string ", 1)
        .replacen("integer ", "the integer ", 1)
        .replacen("boolean ", "the boolean ", 1)
        .replacen("floating point ", "the number ", 1);
    let found = match found.as_str() {
        "sequence" => "a list".to_owned(),
        "map" => "a table".to_owned(),
        _ => found,
    };
    format!("expected {expected}, found {found}")
}

/// Reads, maps and merges the LDIF directory files a policy names.
#[cfg(feature = "ldif")]
fn merge_directories(
    cfg: &mut PolicyConfig,
    policy_path: &Path,
    policy_name: &str,
    files: &[String],
    options: DirectoryOptions,
    mut read: impl FnMut(&Path) -> std::io::Result<String>,
) -> Result<(), ConfigError> {
    let options = LdifOptions::new()
        .lenient_references(options.lenient_references)
        .skip_change_records(options.skip_change_records);
    let base = policy_path.parent().unwrap_or(Path::new(""));
    let mut import = LdifImport::new(&options);
    for rel in files {
        let path = base.join(rel);
        let text = read(&path).map_err(|e| ConfigError::Read {
            file: policy_name.to_owned(),
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        import.add(&path.display().to_string(), &text)?;
    }
    let dir = import.finish()?;
    cfg.directory_warnings
        .extend(dir.warnings.iter().map(ToString::to_string));
    merge_directory(cfg, policy_name, dir)?;
    Ok(())
}

#[cfg(not(feature = "ldif"))]
fn merge_directories(
    _cfg: &mut PolicyConfig,
    _policy_path: &Path,
    policy_name: &str,
    _files: &[String],
    _options: DirectoryOptions,
    _read: impl FnMut(&Path) -> std::io::Result<String>,
) -> Result<(), ConfigError> {
    Err(ConfigError::Field {
        file: policy_name.to_owned(),
        line: None,
        path: "directory".into(),
        message: "reading LDIF directory exports needs the crate's `ldif` feature".into(),
    })
}

/// `[directory_options]`: how LDIF exports are read. Without the `ldif` feature the
/// options are still parsed (a policy file stays valid), only never used.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(feature = "ldif"), allow(dead_code))]
struct DirectoryOptions {
    #[serde(default)]
    lenient_references: bool,
    #[serde(default)]
    skip_change_records: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    organisation: String,
    #[serde(default)]
    accepted_domains: Vec<String>,
    #[serde(default)]
    entries: Vec<Entry>,
    #[serde(default)]
    connectors: Vec<Connector>,
    #[serde(default)]
    journal_rules: Vec<Rule>,
    #[serde(default)]
    rules_ndr: Option<String>,
    #[serde(default)]
    journal_format: Format,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    render_secret: String,
    delivery_domain: Option<String>,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    directory: Vec<String>,
    #[serde(default)]
    directory_options: DirectoryOptions,
}

impl File {
    fn into_config(self) -> PolicyConfig {
        let mut cfg = PolicyConfig::new(self.organisation)
            .journal_format(self.journal_format.0)
            .limits(self.limits.into_limits())
            .render_secret(self.render_secret);
        cfg.accepted_domains = self.accepted_domains;
        cfg.entries = self.entries.into_iter().map(Entry::into_config).collect();
        cfg.connectors = self
            .connectors
            .into_iter()
            .map(Connector::into_config)
            .collect();
        cfg.journal_rules = self
            .journal_rules
            .into_iter()
            .map(Rule::into_config)
            .collect();
        cfg.rules_ndr = self.rules_ndr;
        cfg.delivery_domain = self.delivery_domain;
        cfg.strict = self.strict;
        cfg
    }
}

#[derive(Default)]
struct Format(JournalFormat);

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.to_ascii_lowercase().as_str() {
            "envelope" => Ok(Format(JournalFormat::Envelope)),
            "copy" => Ok(Format(JournalFormat::Copy)),
            _ => Err(de::Error::custom(format!(
                "{s:?} is not a journal format (envelope or copy)"
            ))),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_recipients: Option<usize>,
    max_list_members: Option<usize>,
    max_nesting_depth: Option<usize>,
    max_header_bytes: Option<usize>,
    max_expansion: Option<usize>,
}

impl FileLimits {
    fn into_limits(self) -> Limits {
        let mut l = Limits::default();
        if let Some(v) = self.max_recipients {
            l = l.max_recipients(v);
        }
        if let Some(v) = self.max_list_members {
            l = l.max_list_members(v);
        }
        if let Some(v) = self.max_nesting_depth {
            l = l.max_nesting_depth(v);
        }
        if let Some(v) = self.max_header_bytes {
            l = l.max_header_bytes(v);
        }
        if let Some(v) = self.max_expansion {
            l = l.max_expansion(v);
        }
        l
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Mailbox,
    DistributionList,
    Contact,
    PublicFolder,
}

/// A proxy address, checked while reading.
struct Proxy(String);

impl<'de> Deserialize<'de> for Proxy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ProxyAddress::parse(&s).map_err(de::Error::custom)?;
        Ok(Proxy(s))
    }
}

/// A property tag: a number (`0x80360000` in TOML, `2151022592`) or a name.
struct Tag(PropTag);

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Tag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a property tag: 0x80360000, \"custom attribute 10\", …")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tag, E> {
                let v = u32::try_from(v)
                    .map_err(|_| E::custom(format!("{v} is not a 32-bit property tag")))?;
                PropTag::from_u32(v).map(Tag).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tag, E> {
                let v = u64::try_from(v)
                    .map_err(|_| E::custom(format!("{v} is not a property tag")))?;
                self.visit_u64(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag, E> {
                v.parse::<PropTag>().map(Tag).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Restrictions {
    accept: Option<Vec<String>>,
    #[serde(default)]
    reject: Vec<String>,
}

impl Restrictions {
    fn into_config(self) -> RestrictionsConfig {
        let base = match self.accept {
            Some(a) => RestrictionsConfig::accept_only(a),
            None => RestrictionsConfig::none(),
        };
        base.and_reject(self.reject)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    kind: Kind,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    proxies: Vec<Proxy>,
    #[serde(default)]
    hidden: bool,
    #[serde(default)]
    members: Vec<String>,
    target: Option<String>,
    #[serde(default)]
    properties: PropertyMap,
    #[serde(default)]
    restrictions: Restrictions,
    delivery: Option<String>,
}

/// Properties keyed by tag, in file order.
#[derive(Default)]
struct PropertyMap(Vec<(PropTag, String)>);

impl<'de> Deserialize<'de> for PropertyMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = PropertyMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of property tag = value")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<PropertyMap, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    let tag = k.parse::<PropTag>().map_err(de::Error::custom)?;
                    out.push((tag, v));
                }
                Ok(PropertyMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl Entry {
    fn into_config(self) -> EntryConfig {
        let mut e = match self.kind {
            Kind::Mailbox => EntryConfig::mailbox(self.name),
            Kind::PublicFolder => EntryConfig::public_folder(self.name),
            Kind::DistributionList => EntryConfig::distribution_list(self.name, self.members),
            Kind::Contact => EntryConfig::contact(self.name, self.target.unwrap_or_default()),
        };
        for p in self.proxies {
            e = e.proxy(p.0);
        }
        for (tag, v) in self.properties.0 {
            e = e.property(tag, v);
        }
        if let Some(d) = self.delivery {
            e = e.delivery(d);
        }
        e.display_name(self.display_name)
            .hidden(self.hidden)
            .restrictions(self.restrictions.into_config())
    }
}

/// An address-space cost, checked while reading.
struct Cost(u32);

impl<'de> Deserialize<'de> for Cost {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Cost;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer 1–100")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cost, E> {
                match u32::try_from(v) {
                    Ok(c) if (1..=100).contains(&c) => Ok(Cost(c)),
                    _ => Err(E::custom(format!(
                        "{v} is out of range: expected an integer 1–100"
                    ))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cost, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Space {
    pattern: String,
    cost: Cost,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Hop {
    Dns,
    Smarthost(String),
    Connector(String),
}

/// Journal settings of one direction; the NDR address is mandatory once it journals.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, try_from = "RawJournal")]
struct Journal(JournalSettings);

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawJournal {
    target: Option<String>,
    ndr: Option<String>,
    recipient_property: Option<Tag>,
}

impl TryFrom<RawJournal> for Journal {
    type Error = String;
    fn try_from(r: RawJournal) -> Result<Self, String> {
        if (r.target.is_some() || r.recipient_property.is_some()) && r.ndr.is_none() {
            return Err("ndr (the journal-NDR address) is required when target or recipient_property is set".into());
        }
        Ok(Journal(JournalSettings {
            target: r.target,
            ndr: r.ndr,
            recipient_property: r.recipient_property.map(|t| t.0),
        }))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Connector {
    name: String,
    #[serde(default)]
    address_spaces: Vec<Space>,
    #[serde(default)]
    restrictions: Restrictions,
    #[serde(default)]
    archival: bool,
    #[serde(default)]
    inbound_journal: Journal,
    #[serde(default)]
    outbound_journal: Journal,
    #[serde(default = "yes")]
    accepts_inbound: bool,
    next_hop: Option<Hop>,
}

fn yes() -> bool {
    true
}

impl Connector {
    fn into_config(self) -> ConnectorConfig {
        let mut c = ConnectorConfig::new(self.name)
            .restrictions(self.restrictions.into_config())
            .archival(self.archival)
            .inbound_journal(self.inbound_journal.0)
            .outbound_journal(self.outbound_journal.0)
            .accepts_inbound(self.accepts_inbound)
            .next_hop(match self.next_hop {
                None | Some(Hop::Dns) => NextHop::Dns,
                Some(Hop::Smarthost(h)) => NextHop::Smarthost(h),
                Some(Hop::Connector(n)) => NextHop::Connector(n),
            });
        for s in self.address_spaces {
            c = c.address_space(AddressSpace::new(s.pattern, s.cost.0));
        }
        c
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Scope {
    Internal,
    External,
    Global,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    name: String,
    scope: Scope,
    recipient: Option<String>,
    target: String,
    #[serde(default = "yes")]
    enabled: bool,
}

impl Rule {
    fn into_config(self) -> JournalRuleConfig {
        let scope = match self.scope {
            Scope::Internal => JournalScope::Internal,
            Scope::External => JournalScope::External,
            Scope::Global => JournalScope::Global,
        };
        let mut r = JournalRuleConfig::new(self.name, scope, self.target).enabled(self.enabled);
        if let Some(who) = self.recipient {
            r = r.recipient(who);
        }
        r
    }
}
