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

use crate::address::ProxyAddress;
use crate::config::connector::{AddressSpace, ConnectorConfig, JournalSettings, NextHop};
use crate::config::entry::EntryConfig;
use crate::config::limits::Limits;
use crate::config::restrictions::RestrictionsConfig;
use crate::config::rule::{JournalRuleConfig, JournalScope};
use crate::config::{JournalFormat, PolicyConfig};
use crate::proptag::PropTag;

/// A configuration file that could not be read: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() || path == "." { String::new() } else { format!("{path}: ") })]
#[non_exhaustive]
pub struct ConfigFileError {
    /// The path of the offending field, such as `connectors[1].address_spaces[0].cost`
    /// (empty for an error in the file's syntax).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl PolicyConfig {
    /// Reads a configuration from TOML.
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
    /// let err = mail_journal::PolicyConfig::from_toml(r#"
    ///     organisation = "example.com"
    ///     [[connectors]]
    ///     name = "IMS"
    ///     address_spaces = [{ pattern = "*", cost = 0 }]
    /// "#).unwrap_err();
    /// assert_eq!(err.to_string(), "connectors[0].address_spaces[0].cost: 0 is out of range 1..=100");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<PolicyConfig, ConfigFileError> {
        let de = toml::Deserializer::new(text);
        let file: File = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.message().trim();
            let message = match (message.is_empty(), inner.span()) {
                (false, _) => message.to_owned(),
                (true, Some(span)) => {
                    let (line, column) = line_column(text, span.start);
                    format!("invalid TOML at line {line}, column {column}")
                }
                (true, None) => "invalid TOML".to_owned(),
            };
            ConfigFileError { path, message }
        })?;
        Ok(file.into_config())
    }

    /// Reads a configuration from JSON (the same structure as TOML).
    pub fn from_json(text: &str) -> Result<PolicyConfig, ConfigFileError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let file: File = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            // serde_json appends " at line L column C"; keep it, it helps.
            ConfigFileError {
                path,
                message: inner.to_string(),
            }
        })?;
        Ok(file.into_config())
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
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
        let v = i64::deserialize(d)?;
        if (1..=100).contains(&v) {
            Ok(Cost(v as u32))
        } else {
            Err(de::Error::custom(format!("{v} is out of range 1..=100")))
        }
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
