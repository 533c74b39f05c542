//! The directory, built: mailboxes, distribution lists, contacts and public folders, with
//! their proxy addresses, properties and delivery restrictions.
//!
//! Building the directory validates every reference and pre-computes what `decide` needs:
//! an address index, the flattened membership of every distribution list (cycles are a
//! configuration error naming the cycle) and flattened restriction sets.
//!
//! A directory may hold a million entries, so an entry is kept small: its name and
//! display name are ranges of one text shared by all entries, and what most entries do
//! not have (list members, properties, a contact target or separate delivery address,
//! restrictions, nested lists) sits behind one null pointer each. A list's flattening
//! and leaves stay plain `Arc<[_]>` (shared empty ones for other entries): `decide`
//! walks them, and a thin pointer there cost case (c) of the gate 7 % in instructions.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::address::{Address, DistinguishedName, ProxyAddress};
use crate::config::entry::{EntryConfig, EntryKindConfig};
use crate::config::error::ConfigError;
use crate::config::limits::Limits;
use crate::config::restrictions::RestrictionsConfig;
use crate::hash::{FxHashMap, folded_hash};
use crate::ids::{EntryId, Stamp};
use crate::policy::index::IndexTable;
use crate::policy::restrict::Restrictions;
use crate::proptag::PropTag;

/// The kind of a built directory entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryKind {
    /// A mailbox.
    Mailbox,
    /// A distribution list.
    DistributionList,
    /// A contact forwarding to an external address.
    Contact,
    /// A public folder.
    PublicFolder,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::Mailbox => "mailbox",
            EntryKind::DistributionList => "distribution list",
            EntryKind::Contact => "contact",
            EntryKind::PublicFolder => "public folder",
        })
    }
}

/// One member of a flattened distribution list, in depth-first order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FlatMember {
    /// The member.
    pub entry: EntryId,
    /// Nesting depth below the flattened list (direct members are at depth 0).
    pub depth: u16,
    /// For a nested list: the index one past the end of its members in the flat list.
    pub end: Option<u32>,
}

/// A leaf of an open list (see [`Entry::open`]): a final destination and the nested
/// lists on its canonical path below the list (outermost first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Leaf {
    pub entry: EntryId,
    pub chain: smallvec::SmallVec<[EntryId; 1]>,
}

/// A shared slice behind one thin pointer, null when empty (as it is for every entry that
/// is not a list). Dereferences to the slice.
#[derive(Clone)]
pub(crate) struct Shared<T>(Option<Arc<Box<[T]>>>);

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared(None)
    }
}

impl<T> Deref for Shared<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match &self.0 {
            Some(s) => s,
            None => &[],
        }
    }
}

impl<T> From<Vec<T>> for Shared<T> {
    fn from(v: Vec<T>) -> Self {
        Shared((!v.is_empty()).then(|| Arc::new(v.into_boxed_slice())))
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// What few entries have, out of line.
#[derive(Clone, Debug, Default)]
struct Extra {
    /// A contact's target; for a mailbox or public folder, the address its mail is
    /// delivered to when that is not its primary SMTP address (the configured delivery
    /// address, else one derived from the delivery domain).
    address: Option<Address>,
    properties: Box<[(PropTag, Box<str>)]>,
    members: Box<[EntryId]>,
}

/// No primary SMTP address (see [`Entry::primary`]).
const NO_PRIMARY: u32 = u32::MAX;

/// A built directory entry.
#[derive(Clone)]
pub struct Entry {
    /// The names and display names of the whole directory; this entry's are ranges.
    text: Arc<Box<str>>,
    name: (u32, u32),
    /// The name's range when no other display name was configured.
    display_name: (u32, u32),
    /// The proxies of the whole directory, one allocation for all (`None` only while the
    /// directory is being built); this entry's are the range `proxies`.
    proxy_list: Option<Arc<Box<[ProxyAddress]>>>,
    proxies: (u32, u32),
    /// The index in `proxies` of the primary SMTP address: the `SMTP:` proxy, else the
    /// first `smtp:` one; [`NO_PRIMARY`] when there is none.
    primary: u32,
    kind: EntryKind,
    /// The entry's mail is delivered to its primary SMTP address.
    delivers_to_primary: bool,
    hidden: bool,
    /// For a list: no nested list or member restricts anyone and none is a contact, so
    /// expanding it needs no per-member checks.
    pub(crate) open: bool,
    extra: Option<Box<Extra>>,
    pub(crate) restrictions: Restrictions,
    pub(crate) flat: Arc<[FlatMember]>,
    /// For an open list: its unique leaves, sorted by entry, each on its canonical path
    /// (fewest nested lists, then the smallest ids).
    pub(crate) leaves: Arc<[Leaf]>,
    /// For an open list: the nested lists below it, sorted, each once.
    pub(crate) nested: Shared<EntryId>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name())
            .field("display_name", &self.display_name())
            .field("kind", &self.kind)
            .field("proxies", &self.proxies())
            .field("primary", &self.primary_smtp())
            .field("contact_target", &self.contact_target())
            .field("delivery", &self.delivery_address())
            .field("hidden", &self.hidden)
            .field("properties", &self.extra.as_ref().map(|x| &x.properties))
            .field("members", &self.members())
            .field("restrictions", &self.restrictions)
            .field("flat", &self.flat)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl Entry {
    fn text(&self, (start, end): (u32, u32)) -> &str {
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
    /// The entry's unique name.
    pub fn name(&self) -> &str {
        self.text(self.name)
    }
    /// The display name (the name when none was configured).
    pub fn display_name(&self) -> &str {
        self.text(self.display_name)
    }
    /// Mailbox, distribution list, contact or public folder.
    pub fn kind(&self) -> EntryKind {
        self.kind
    }
    /// All proxy addresses.
    pub fn proxies(&self) -> &[ProxyAddress] {
        self.proxy_list
            .as_deref()
            .map(|all| proxies_in(all, self))
            .unwrap_or_default()
    }
    /// The primary SMTP address: the `SMTP:` proxy, else the first `smtp:` one.
    pub fn primary_smtp(&self) -> Option<&Address> {
        match self.proxies().get(self.primary as usize) {
            Some(ProxyAddress::Smtp { address, .. }) => Some(address),
            _ => None,
        }
    }
    /// The first X.500 (or else `EX:`) distinguished name.
    pub fn x500(&self) -> Option<&DistinguishedName> {
        let proxies = self.proxies();
        proxies
            .iter()
            .find_map(|p| match p {
                ProxyAddress::X500(dn) => Some(dn),
                _ => None,
            })
            .or_else(|| {
                proxies.iter().find_map(|p| match p {
                    ProxyAddress::Ex(dn) => Some(dn),
                    _ => None,
                })
            })
    }
    /// The address a transport delivers this mailbox's or public folder's mail to: its
    /// configured delivery address, else its primary SMTP address, else one made of its
    /// name and the policy's delivery domain. `None` for lists and contacts, and for a
    /// mailbox with none of these.
    pub fn delivery_address(&self) -> Option<&Address> {
        if self.delivers_to_primary {
            self.primary_smtp()
        } else if matches!(self.kind, EntryKind::Mailbox | EntryKind::PublicFolder) {
            self.extra.as_ref().and_then(|x| x.address.as_ref())
        } else {
            None
        }
    }
    /// For a contact: the external address mail is forwarded to.
    pub fn contact_target(&self) -> Option<&Address> {
        match self.kind {
            EntryKind::Contact => self.extra.as_ref().and_then(|x| x.address.as_ref()),
            _ => None,
        }
    }
    /// Hidden from the address book.
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }
    /// A string property.
    pub fn property(&self, tag: PropTag) -> Option<&str> {
        self.extra
            .as_ref()?
            .properties
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| &**v)
    }
    /// For a distribution list: its direct members.
    pub fn members(&self) -> &[EntryId] {
        self.extra
            .as_ref()
            .map(|x| &x.members[..])
            .unwrap_or_default()
    }
    /// Whether anyone may send to this entry.
    pub fn is_unrestricted(&self) -> bool {
        self.restrictions.is_unrestricted()
    }
    /// Whether the entry has any SMTP proxy address.
    pub fn has_smtp_address(&self) -> bool {
        self.proxies()
            .iter()
            .any(|p| matches!(p, ProxyAddress::Smtp { .. }))
    }
    /// The best address to show for this entry inside the organisation (journal reports,
    /// tracking logs): primary SMTP, else the contact target, else the delivery address,
    /// else the X.500 name prefixed with `X500:`, else the entry name.
    pub fn display_address(&self) -> String {
        let mut out = String::new();
        self.push_display_address(&mut out);
        out
    }

    /// [`Entry::display_address`] written onto `out`.
    pub(crate) fn push_display_address(&self, out: &mut String) {
        let (prefix, text) = self.display_parts();
        out.push_str(prefix);
        out.push_str(text);
    }

    /// [`Entry::display_address`] as a prefix (`X500:` or none) and the text after it,
    /// for writers that put it onto something other than a `String`.
    #[inline]
    pub(crate) fn display_parts(&self) -> (&'static str, &str) {
        if let Some(a) = self
            .primary_smtp()
            .or(self.contact_target())
            .or(self.delivery_address())
        {
            return ("", a.as_str());
        }
        match self.x500() {
            Some(dn) => ("X500:", dn.as_str()),
            None => ("", self.name()),
        }
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }
}

/// The hash a name or distinguished name is indexed under: case-insensitive, as they
/// are compared; the high half of [`folded_hash`], as an address keeps it.
fn name_hash(name: &str) -> u32 {
    (folded_hash(name.as_bytes()) >> 32) as u32
}

/// Entry `e`'s range of the directory's proxies `all`.
#[inline]
fn proxies_in<'a>(all: &'a [ProxyAddress], e: &Entry) -> &'a [ProxyAddress] {
    let (start, end) = e.proxies;
    all.get(start as usize..end as usize).unwrap_or_default()
}

/// Whether `proxies` hold the SMTP address `address`.
#[inline]
fn has_smtp(proxies: &[ProxyAddress], address: &Address) -> bool {
    proxies
        .iter()
        .any(|p| matches!(p, ProxyAddress::Smtp { address: a, .. } if a == address))
}

/// Whether `address` leads to entry `e`: one of its SMTP proxies, or its target if it
/// is a contact (what `by_smtp` indexes).
#[inline]
fn owns_smtp(e: &Entry, address: &Address) -> bool {
    has_smtp(e.proxies(), address) || e.contact_target() == Some(address)
}

/// Whether `proxies` hold the distinguished name `dn` (as an `X500:` or `EX:` proxy).
fn has_dn(proxies: &[ProxyAddress], dn: &DistinguishedName) -> bool {
    proxies
        .iter()
        .any(|p| matches!(p, ProxyAddress::X500(d) | ProxyAddress::Ex(d) if d == dn))
}

/// An entry's name (trimmed) and, when it has one, its display name as configured: the
/// texts the shared directory text holds for it, in this order.
fn texts_of(cfg: &EntryConfig) -> (&str, Option<&str>) {
    let name = trim(&cfg.name);
    let display = (!trim(&cfg.display_name).is_empty() && cfg.display_name != name)
        .then_some(cfg.display_name.as_str());
    (name, display)
}

/// `s.trim()`, without its Unicode decoding at either end when both end bytes are
/// printable ASCII (never white space): the common case, and the build trims every
/// name several times.
#[inline]
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    if b.first().is_some_and(u8::is_ascii_graphic) && b.last().is_some_and(u8::is_ascii_graphic) {
        s
    } else {
        s.trim()
    }
}

/// Where an entry's mail is delivered, as [`Directory::delivery_of`] found it.
enum Delivery {
    /// Nowhere (a list, a contact, or a mailbox with no address at all).
    None,
    /// Its primary SMTP address.
    Primary,
    /// Another address, indexed in `by_delivery` unless it is an SMTP proxy.
    Other(Address),
}

/// The built directory.
#[derive(Clone, Debug, Default)]
pub(crate) struct Directory {
    pub entries: Vec<Entry>,
    /// Entry positions by SMTP address: their SMTP proxies and contacts' targets.
    by_smtp: IndexTable,
    /// Entry positions by distinguished name (any `X500:` or `EX:` proxy of theirs).
    by_dn: IndexTable,
    /// Entry positions by name (case-insensitive).
    by_name: IndexTable,
    /// Delivery addresses that are not SMTP proxies: they never resolve from an envelope,
    /// except for the engine's own output.
    by_delivery: FxHashMap<Address, EntryId>,
    /// The stamp of the ids this directory issues.
    pub stamp: Stamp,
}

impl Directory {
    /// The id of the entry at position `index`.
    pub(crate) fn id(&self, index: usize) -> EntryId {
        EntryId::new(u32::try_from(index).unwrap_or(u32::MAX), self.stamp)
    }

    pub(crate) fn get(&self, id: EntryId) -> Option<&Entry> {
        self.entries.get(id.index())
    }

    /// Resolves an SMTP address through SMTP proxies (and contact targets).
    pub(crate) fn by_address(&self, address: &Address) -> Option<EntryId> {
        self.by_smtp
            .find(address.folded_hash(), |j| {
                self.entries
                    .get(j as usize)
                    .is_some_and(|e| owns_smtp(e, address))
            })
            .map(|j| self.id(j as usize))
    }

    /// The entry whose delivery address (one that is not also an SMTP proxy) this is.
    pub(crate) fn by_delivery(&self, address: &Address) -> Option<EntryId> {
        if self.by_delivery.is_empty() {
            return None;
        }
        self.by_delivery.get(address).copied()
    }

    fn by_dn(&self, dn: &DistinguishedName) -> Option<EntryId> {
        self.by_dn
            .find(name_hash(dn.as_str()), |j| {
                self.entries
                    .get(j as usize)
                    .is_some_and(|e| has_dn(e.proxies(), dn))
            })
            .map(|j| self.id(j as usize))
    }

    fn by_name(&self, name: &str) -> Option<EntryId> {
        self.by_name
            .find(name_hash(name), |j| {
                self.entries
                    .get(j as usize)
                    .is_some_and(|e| e.name().eq_ignore_ascii_case(name))
            })
            .map(|j| self.id(j as usize))
    }

    /// Resolves a reference: `SMTP:`/`X500:`/`EX:` proxy, bare DN (`/o=…`), bare SMTP
    /// address, or entry name (case-insensitive).
    pub(crate) fn resolve(&self, reference: &str) -> Option<EntryId> {
        let r = reference.trim();
        if r.starts_with('/') {
            return DistinguishedName::parse(r)
                .ok()
                .and_then(|dn| self.by_dn(&dn));
        }
        if let Ok(p) = ProxyAddress::parse(r) {
            return match p {
                ProxyAddress::Smtp { address, .. } => self.by_address(&address),
                ProxyAddress::X500(dn) | ProxyAddress::Ex(dn) => self.by_dn(&dn),
            };
        }
        if r.contains('@') {
            return Address::parse(r).ok().and_then(|a| self.by_address(&a));
        }
        self.by_name(r)
    }

    fn resolve_or_err(
        &self,
        reference: &str,
        context: impl FnOnce() -> String,
    ) -> Result<EntryId, ConfigError> {
        self.resolve(reference)
            .ok_or_else(|| ConfigError::Unresolved {
                context: context(),
                value: reference.to_owned(),
            })
    }

    /// An entry followed by every entry it flattens to (a list's nested lists and
    /// members; just itself otherwise).
    pub(crate) fn flattened(&self, id: EntryId) -> impl Iterator<Item = EntryId> + '_ {
        let flat = self.get(id).map(|e| &e.flat[..]).unwrap_or_default();
        std::iter::once(id).chain(flat.iter().map(|m| m.entry))
    }

    /// The delivery address of entry `i`: its `delivery` key, else its primary SMTP
    /// address, else `name@delivery_domain`; indexed when it is not an SMTP proxy.
    fn delivery_of(
        &mut self,
        i: usize,
        cfg: &EntryConfig,
        delivery_domain: Option<&str>,
        configs: &[EntryConfig],
    ) -> Result<Delivery, ConfigError> {
        let id = self.id(i);
        let Some(e) = self.entries.get(i) else {
            return Ok(Delivery::None);
        };
        let deliverable = matches!(e.kind, EntryKind::Mailbox | EntryKind::PublicFolder);
        let explicit = cfg.delivery.as_deref().map(str::trim);
        let address = match explicit {
            Some(d) if !deliverable => {
                return Err(ConfigError::DeliveryNotApplicable {
                    entry: cfg.name.clone(),
                    address: d.to_owned(),
                });
            }
            Some(d) => Address::parse(d).map_err(|source| ConfigError::Address {
                context: format!("entry {:?} delivery", cfg.name),
                source,
            })?,
            None if !deliverable => return Ok(Delivery::None),
            None => match (e.primary_smtp(), delivery_domain) {
                // An SMTP proxy of this very entry, indexed as such: nothing to check.
                (Some(_), _) => return Ok(Delivery::Primary),
                (None, Some(domain)) => Address::parse(&format!("{}@{domain}", e.name())).map_err(
                    |source| ConfigError::Address {
                        context: format!(
                            "entry {:?}: the delivery address made of its name and delivery_domain",
                            cfg.name
                        ),
                        source,
                    },
                )?,
                (None, None) => return Ok(Delivery::None),
            },
        };
        if e.primary_smtp()
            .is_some_and(|p| p.as_str() == address.as_str())
        {
            return Ok(Delivery::Primary);
        }
        match self.by_address(&address) {
            Some(owner) if owner == id => {}
            Some(owner) => return Err(duplicate(address.to_string(), owner, id, configs)),
            None => {
                if let Some(prev) = self.by_delivery.insert(address.clone(), id) {
                    return Err(duplicate(address.to_string(), prev, id, configs));
                }
            }
        }
        Ok(Delivery::Other(address))
    }

    pub(crate) fn build(
        configs: &[EntryConfig],
        limits: &Limits,
        delivery_domain: Option<&str>,
        stamp: Stamp,
    ) -> Result<Self, ConfigError> {
        // Sized up front: growing tables of a million entries costs time, and memory
        // while the old and the new table are both alive.
        let (mut smtp, mut dn, mut text_len) = (0usize, 0usize, 0usize);
        let (mut proxy_count, mut dn_len) = (0usize, 0usize);
        for c in configs {
            proxy_count += c.proxies.len();
            for p in &c.proxies {
                if let Some(name) = ProxyAddress::shared_text(p) {
                    dn += 1;
                    dn_len += name.len();
                    continue;
                }
                // A letter first (the common case) is never white space.
                let p = if p.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
                    p.as_str()
                } else {
                    p.trim_start()
                };
                let is_smtp = p.get(..5).is_some_and(|t| t.eq_ignore_ascii_case("smtp:"));
                *(if is_smtp { &mut smtp } else { &mut dn }) += 1;
            }
            smtp += usize::from(matches!(c.kind, EntryKindConfig::Contact { .. }));
            let (name, display) = texts_of(c);
            text_len += name.len() + display.map_or(0, str::len);
        }
        let too_many = |value: usize, reason: &'static str| ConfigError::Limit {
            name: "entries",
            value,
            reason,
        };
        if u32::try_from(text_len).is_err() {
            return Err(too_many(
                text_len,
                "entry names and display names of more than 4 GiB in all",
            ));
        }
        if u32::try_from(proxy_count).is_err() {
            return Err(too_many(
                proxy_count,
                "more than 2^32 - 1 proxy addresses in all",
            ));
        }
        // Every entry's proxies in one list, in entry order: one allocation, not one an
        // entry.
        let mut all: Vec<ProxyAddress> = Vec::with_capacity(proxy_count);
        // Every name and display name in one text, in entry order.
        let mut text = String::with_capacity(text_len);
        for c in configs {
            let (name, display) = texts_of(c);
            text.push_str(name);
            text.push_str(display.unwrap_or_default());
        }
        let text = Arc::new(text.into_boxed_str());
        // Every X.500 and EX name in one text too, in proxy order
        // (`ProxyAddress::parse_sharing`).
        let mut dn_text = String::with_capacity(dn_len);
        for p in configs.iter().flat_map(|c| &c.proxies) {
            dn_text.push_str(ProxyAddress::shared_text(p).unwrap_or_default());
        }
        let dn_text: Arc<str> = Arc::from(dn_text);
        let mut dn_at = 0usize;
        let mut dir = Directory {
            entries: Vec::with_capacity(configs.len()),
            by_name: IndexTable::with_capacity(configs.len()),
            by_dn: IndexTable::with_capacity(dn),
            by_smtp: IndexTable::with_capacity(smtp),
            stamp,
            ..Directory::default()
        };
        // One shared empty slice for every entry that is not a list.
        let no_flat: Arc<[FlatMember]> = Arc::from(Vec::new());
        let no_leaves: Arc<[Leaf]> = Arc::from(Vec::new());
        // Pass 1: names, proxies, indexes.
        let mut offset = 0u32;
        let mut range = |len: usize| {
            let start = offset;
            offset = offset.saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
            (start, offset)
        };
        for (i, cfg) in configs.iter().enumerate() {
            let item = u32::try_from(i)
                .ok()
                .filter(|&i| i <= IndexTable::MAX_ITEM)
                .ok_or_else(|| too_many(i, "more than 2^32 - 1 directory entries"))?;
            let id = EntryId::new(item, stamp);
            let (trimmed, display) = texts_of(cfg);
            let name = range(trimmed.len());
            let display_name = display.map_or(name, |d| range(d.len()));
            let entries = &dir.entries;
            let taken = dir.by_name.insert(name_hash(trimmed), item, |j| {
                entries
                    .get(j as usize)
                    .is_some_and(|e| e.name().eq_ignore_ascii_case(trimmed))
            });
            if trimmed.is_empty() || taken.is_err() {
                return Err(ConfigError::DuplicateEntry {
                    name: cfg.name.clone(),
                });
            }
            let ctx = || format!("entry {:?}", cfg.name);
            let first = all.len();
            let mut primary = None;
            let mut first_secondary = None;
            for p in &cfg.proxies {
                let proxy =
                    ProxyAddress::parse_sharing(p, &dn_text, &mut dn_at).map_err(|source| {
                        ConfigError::Address {
                            context: ctx(),
                            source,
                        }
                    })?;
                let before = all.get(first..).unwrap_or_default();
                match &proxy {
                    ProxyAddress::Smtp {
                        address,
                        primary: is_primary,
                    } => {
                        dir.index_smtp(address, item, &all, before, configs)?;
                        if *is_primary {
                            if primary.is_some() {
                                return Err(ConfigError::SecondPrimary {
                                    entry: cfg.name.clone(),
                                    address: address.to_string(),
                                });
                            }
                            primary = Some(before.len());
                        } else if first_secondary.is_none() {
                            first_secondary = Some(before.len());
                        }
                    }
                    ProxyAddress::X500(dn) | ProxyAddress::Ex(dn) => {
                        let entries = &dir.entries;
                        let taken = dir.by_dn.insert(name_hash(dn.as_str()), item, |j| {
                            if j == item {
                                has_dn(before, dn)
                            } else {
                                entries
                                    .get(j as usize)
                                    .is_some_and(|e| has_dn(proxies_in(&all, e), dn))
                            }
                        });
                        if let Err(prev) = taken {
                            let prev = EntryId::new(prev, stamp);
                            return Err(duplicate(dn.to_string(), prev, id, configs));
                        }
                    }
                }
                all.push(proxy);
            }
            let proxies = all.get(first..).unwrap_or_default();
            let mut extra = Extra::default();
            let kind = match &cfg.kind {
                EntryKindConfig::Mailbox => EntryKind::Mailbox,
                EntryKindConfig::PublicFolder => EntryKind::PublicFolder,
                EntryKindConfig::DistributionList { .. } => EntryKind::DistributionList,
                EntryKindConfig::Contact { target } => {
                    let t = Address::parse(target).map_err(|source| ConfigError::Address {
                        context: format!("contact {:?} target", cfg.name),
                        source,
                    })?;
                    if !has_smtp(proxies, &t) {
                        dir.index_smtp(&t, item, &all, proxies, configs)?;
                    }
                    extra.address = Some(t);
                    EntryKind::Contact
                }
            };
            if !cfg.properties.is_empty() {
                extra.properties = cfg
                    .properties
                    .iter()
                    .map(|(t, v)| (*t, v.as_str().into()))
                    .collect();
            }
            let primary = primary
                .or(first_secondary)
                .and_then(|p| u32::try_from(p).ok())
                .unwrap_or(NO_PRIMARY);
            let has_extra = extra.address.is_some() || !extra.properties.is_empty();
            dir.entries.push(Entry {
                text: text.clone(),
                name,
                display_name,
                proxy_list: None,
                // Both fit: the count was checked above.
                proxies: (
                    u32::try_from(first).unwrap_or(u32::MAX),
                    u32::try_from(all.len()).unwrap_or(u32::MAX),
                ),
                primary,
                kind,
                delivers_to_primary: false,
                hidden: cfg.hidden,
                open: false,
                extra: has_extra.then(|| Box::new(extra)),
                restrictions: Restrictions::default(),
                flat: no_flat.clone(),
                leaves: no_leaves.clone(),
                nested: Shared::default(),
            });
        }
        // Every entry gets the list, which it needs from here on.
        let all = Arc::new(all.into_boxed_slice());
        for e in &mut dir.entries {
            e.proxy_list = Some(all.clone());
        }
        // Pass 1b: delivery addresses, once every SMTP proxy is known.
        for (i, cfg) in configs.iter().enumerate() {
            let delivery = dir.delivery_of(i, cfg, delivery_domain, configs)?;
            if let Some(e) = dir.entries.get_mut(i) {
                match delivery {
                    Delivery::None => {}
                    Delivery::Primary => e.delivers_to_primary = true,
                    Delivery::Other(a) => e.extra_mut().address = Some(a),
                }
            }
        }
        // Pass 2: members, each once, in the order first given.
        let mut seen: Vec<u32> = Vec::new();
        for (i, cfg) in configs.iter().enumerate() {
            if let EntryKindConfig::DistributionList { members } = &cfg.kind {
                if seen.is_empty() {
                    seen = vec![u32::MAX; configs.len()];
                }
                let mark = u32::try_from(i).unwrap_or(u32::MAX);
                let mut ids = Vec::with_capacity(members.len());
                for m in members {
                    let id = dir
                        .resolve_or_err(m, || format!("distribution list {:?} member", cfg.name))?;
                    if let Some(s) = seen.get_mut(id.index()) {
                        if *s != mark {
                            *s = mark;
                            ids.push(id);
                        }
                    }
                }
                if let Some(e) = dir.entries.get_mut(i) {
                    if !ids.is_empty() {
                        e.extra_mut().members = ids.into_boxed_slice();
                    }
                }
            }
        }
        // Pass 3: cycles, depth, flattening.
        dir.check_cycles()?;
        for i in 0..dir.entries.len() {
            if dir
                .entries
                .get(i)
                .is_some_and(|e| e.kind == EntryKind::DistributionList)
            {
                let flat = dir.flatten(dir.id(i), limits)?;
                if let Some(e) = dir.entries.get_mut(i) {
                    e.flat = Arc::from(flat);
                }
            }
        }
        // Pass 4: restrictions, flattened.
        for (i, cfg) in configs.iter().enumerate() {
            let r = &cfg.restrictions;
            if r.accept.is_none() && r.reject.is_empty() {
                continue;
            }
            let r = dir.compile_restrictions(r, &format!("entry {:?}", cfg.name))?;
            if let Some(e) = dir.entries.get_mut(i) {
                e.restrictions = r;
            }
        }
        // Pass 5: the fast path of open lists.
        for i in 0..dir.entries.len() {
            let Some(e) = dir.entries.get(i) else {
                continue;
            };
            if e.kind != EntryKind::DistributionList {
                continue;
            }
            let open = e.flat.iter().all(|m| {
                dir.get(m.entry).is_some_and(|x| {
                    x.restrictions.is_unrestricted() && x.kind != EntryKind::Contact
                })
            });
            if !open {
                continue;
            }
            let (leaves, nested) = dir.leaves_of(dir.id(i));
            if let Some(e) = dir.entries.get_mut(i) {
                e.open = true;
                e.leaves = Arc::from(leaves);
                e.nested = Shared::from(nested);
            }
        }
        Ok(dir)
    }

    /// The unique leaves of a list on their canonical paths, sorted by entry, and its
    /// nested lists.
    fn leaves_of(&self, list: EntryId) -> (Vec<Leaf>, Vec<EntryId>) {
        let flat = self.get(list).map(|e| &e.flat[..]).unwrap_or_default();
        let mut leaves = Vec::with_capacity(flat.len());
        let mut nested = Vec::new();
        let mut chain: smallvec::SmallVec<[EntryId; 1]> = smallvec::SmallVec::new();
        for m in flat {
            chain.truncate(usize::from(m.depth));
            if m.end.is_some() {
                nested.push(m.entry);
                chain.push(m.entry);
            } else {
                leaves.push(Leaf {
                    entry: m.entry,
                    chain: chain.clone(),
                });
            }
        }
        leaves.sort_unstable_by(|a, b| {
            a.entry
                .cmp(&b.entry)
                .then_with(|| a.chain.len().cmp(&b.chain.len()))
                .then_with(|| a.chain.cmp(&b.chain))
        });
        leaves.dedup_by_key(|l| l.entry);
        nested.sort_unstable();
        nested.dedup();
        (leaves, nested)
    }

    /// Indexes `address` for entry `item`, the one being built, whose proxies so far are
    /// `before` (it is not in `entries` yet); `all` holds the proxies of the entries
    /// before it, which do not have the finished list yet.
    fn index_smtp(
        &mut self,
        address: &Address,
        item: u32,
        all: &[ProxyAddress],
        before: &[ProxyAddress],
        configs: &[EntryConfig],
    ) -> Result<(), ConfigError> {
        let entries = &self.entries;
        let taken = self.by_smtp.insert(address.folded_hash(), item, |j| {
            if j == item {
                has_smtp(before, address)
            } else {
                entries.get(j as usize).is_some_and(|e| {
                    has_smtp(proxies_in(all, e), address) || e.contact_target() == Some(address)
                })
            }
        });
        taken.map_err(|prev| {
            let (prev, id) = (
                EntryId::new(prev, self.stamp),
                EntryId::new(item, self.stamp),
            );
            duplicate(address.to_string(), prev, id, configs)
        })
    }

    pub(crate) fn compile_restrictions(
        &self,
        cfg: &RestrictionsConfig,
        context: &str,
    ) -> Result<Restrictions, ConfigError> {
        let expand = |refs: &[String], which: &str| -> Result<Vec<EntryId>, ConfigError> {
            let mut out = Vec::new();
            for r in refs {
                let id = self.resolve_or_err(r, || format!("{context} {which} list"))?;
                out.extend(self.flattened(id));
            }
            Ok(out)
        };
        let accept = match &cfg.accept {
            None => None,
            Some(list) => Some(expand(list, "accept")?),
        };
        Ok(Restrictions::new(accept, expand(&cfg.reject, "reject")?))
    }

    fn name_of(&self, id: EntryId) -> String {
        self.get(id)
            .map(|e| e.name().to_owned())
            .unwrap_or_default()
    }

    fn check_cycles(&self) -> Result<(), ConfigError> {
        // Iterative three-colour DFS over list membership.
        const WHITE: u8 = 0;
        const GREY: u8 = 1;
        const BLACK: u8 = 2;
        let mut colour = vec![WHITE; self.entries.len()];
        // Stack of (entry, next member index); `path` mirrors the grey entries. One for
        // all starts: a stack per entry was a tenth of a million-entry build's allocations.
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for start in 0..self.entries.len() {
            if colour.get(start) != Some(&WHITE) {
                continue;
            }
            stack.clear();
            stack.push((start, 0));
            if let Some(c) = colour.get_mut(start) {
                *c = GREY;
            }
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                let members = self
                    .entries
                    .get(node)
                    .map(|e| e.members())
                    .unwrap_or_default();
                match members.get(*next) {
                    Some(m) => {
                        *next += 1;
                        let m = m.index();
                        match colour.get(m).copied() {
                            Some(WHITE) => {
                                if let Some(c) = colour.get_mut(m) {
                                    *c = GREY;
                                }
                                stack.push((m, 0));
                            }
                            Some(GREY) => {
                                let from = stack.iter().position(|(n, _)| *n == m).unwrap_or(0);
                                let mut names: Vec<String> = stack
                                    .get(from..)
                                    .unwrap_or_default()
                                    .iter()
                                    .map(|(n, _)| self.name_of(self.id(*n)))
                                    .collect();
                                names.push(self.name_of(self.id(m)));
                                return Err(ConfigError::ListCycle {
                                    cycle: names.join(" -> "),
                                });
                            }
                            _ => {}
                        }
                    }
                    None => {
                        if let Some(c) = colour.get_mut(node) {
                            *c = BLACK;
                        }
                        stack.pop();
                    }
                }
            }
        }
        Ok(())
    }

    /// Depth-first flattening. Every occurrence of a nested list is kept (a list reached
    /// through two parents appears under each), so that a parent that refuses a sender
    /// never hides members reachable through another; destinations are de-duplicated
    /// when a message is decided. The size limit bounds diamond-shaped nesting.
    fn flatten(&self, list: EntryId, limits: &Limits) -> Result<Vec<FlatMember>, ConfigError> {
        let mut out: Vec<FlatMember> = Vec::new();
        // Stack of (list, next member index, index of the list's own node in `out`).
        let mut stack: Vec<(EntryId, usize, Option<usize>)> = vec![(list, 0, None)];
        let too_large = || ConfigError::ListTooLarge {
            list: self.name_of(list),
            limit: limits.max_list_members,
        };
        while let Some(&mut (node, ref mut next, own)) = stack.last_mut() {
            let members = self.get(node).map(|e| e.members()).unwrap_or_default();
            let Some(&m) = members.get(*next) else {
                let end = u32::try_from(out.len()).map_err(|_| too_large())?;
                if let Some(slot) = own.and_then(|o| out.get_mut(o)) {
                    slot.end = Some(end);
                }
                stack.pop();
                continue;
            };
            *next += 1;
            let depth = stack.len() - 1;
            let is_list = self
                .get(m)
                .is_some_and(|e| e.kind == EntryKind::DistributionList);
            if is_list && stack.len() >= limits.max_nesting_depth {
                return Err(ConfigError::NestingTooDeep {
                    list: self.name_of(list),
                    limit: limits.max_nesting_depth,
                });
            }
            out.push(FlatMember {
                entry: m,
                depth: u16::try_from(depth).unwrap_or(u16::MAX),
                end: None,
            });
            if out.len() > limits.max_list_members {
                return Err(too_large());
            }
            if is_list {
                stack.push((m, 0, Some(out.len() - 1)));
            }
        }
        Ok(out)
    }
}

fn duplicate(
    address: String,
    first: EntryId,
    second: EntryId,
    configs: &[EntryConfig],
) -> ConfigError {
    let name = |id: EntryId| {
        configs
            .get(id.index())
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    ConfigError::DuplicateAddress {
        address,
        first: name(first),
        second: name(second),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The shortcut for printable ends gives what `str::trim` gives.
        #[test]
        fn trim_is_str_trim(s in "[ \t\u{a0}\u{2003}\u{85}\u{0}a~é]{0,8}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }
    }

    fn build(entries: Vec<EntryConfig>) -> Result<Directory, ConfigError> {
        Directory::build(&entries, &Limits::default(), None, Stamp::default())
    }

    #[test]
    fn entry_size() {
        // A million entries: every byte of an entry is a megabyte (issue 10's budget is
        // 400 bytes an entry, tables and strings included).
        assert!(
            std::mem::size_of::<Entry>() <= 104,
            "{}",
            std::mem::size_of::<Entry>()
        );
        // Each of an entry's proxies, in the directory's one list.
        assert!(
            std::mem::size_of::<ProxyAddress>() <= 32,
            "{}",
            std::mem::size_of::<ProxyAddress>()
        );
    }

    /// Every entry's proxies are its own, in the order configured, out of the one list
    /// the directory keeps: entries with none, one or several, a contact (whose target
    /// is no proxy) and a list between them; and a cloned entry still has them.
    #[test]
    fn each_entry_has_its_own_proxies_out_of_the_shared_list() {
        let configs = vec![
            EntryConfig::mailbox("a")
                .proxy("SMTP:a@example.com")
                .proxy("X500:/o=O/cn=a")
                .proxy("smtp:a2@example.com"),
            EntryConfig::mailbox("nobody"),
            EntryConfig::contact("c", "c@partner.example"),
            EntryConfig::distribution_list("l", ["a"]).proxy("SMTP:l@example.com"),
            EntryConfig::mailbox("b").proxy("EX:/o=O/cn=b"),
        ];
        let d = build(configs.clone()).unwrap();
        for (e, cfg) in d.entries.iter().zip(&configs) {
            let expected: Vec<ProxyAddress> = cfg
                .proxies
                .iter()
                .map(|p| ProxyAddress::parse(p).unwrap())
                .collect();
            assert_eq!(e.proxies(), &expected[..], "{}", cfg.name);
            assert_eq!(e.clone().proxies(), &expected[..], "{}", cfg.name);
        }
        let a = d.entries.first().unwrap();
        assert_eq!(a.primary_smtp().map(Address::as_str), Some("a@example.com"));
        assert_eq!(a.x500().map(DistinguishedName::as_str), Some("/o=O/cn=a"));
        let b = d.entries.get(4).unwrap();
        assert_eq!(b.primary_smtp(), None);
        assert_eq!(b.x500().map(DistinguishedName::as_str), Some("/o=O/cn=b"));
        let c = d.entries.get(2).unwrap();
        assert!(c.proxies().is_empty());
        let target = Address::parse("c@partner.example").unwrap();
        assert_eq!(d.by_address(&target), Some(d.id(2)));
        let a2 = Address::parse("A2@Example.com").unwrap();
        assert_eq!(d.by_address(&a2), Some(d.id(0)));
    }

    /// X.500 and EX names in the common form share the directory's text; the others
    /// (white space to trim, an unknown case of the type) keep their own; mixed in one
    /// build, each entry still has its own name and resolves by it, and a duplicate
    /// written differently is still one.
    #[test]
    fn distinguished_names_shared_or_not_resolve() {
        let d = build(vec![
            EntryConfig::mailbox("a").proxy("X500:/o=O/cn=a"),
            EntryConfig::mailbox("b").proxy("x500:  /o=O/cn=b  "),
            EntryConfig::mailbox("c")
                .proxy("EX:/o=O/cn=c")
                .proxy("X500:/o=O/cn=c2"),
            EntryConfig::mailbox("d").proxy(" X500:/o=O/cn=d"),
            EntryConfig::mailbox("e").proxy("X500:/o=O/cn=e"),
        ])
        .unwrap();
        // `x500()` prefers an X500: proxy to an EX: one.
        let x500 = [
            "/o=O/cn=a",
            "/o=O/cn=b",
            "/o=O/cn=c2",
            "/o=O/cn=d",
            "/o=O/cn=e",
        ];
        for (i, dn) in x500.iter().enumerate() {
            let e = d.entries.get(i).unwrap();
            assert_eq!(e.x500().map(DistinguishedName::as_str), Some(*dn), "{i}");
        }
        for (i, dn) in x500.iter().enumerate().chain([(2, &"/o=O/cn=c")]) {
            let upper = DistinguishedName::parse(&dn.to_uppercase()).unwrap();
            assert_eq!(d.by_dn(&upper), Some(d.id(i)), "{dn}");
        }
        let ex = d.entries.get(2).unwrap().proxies().first().cloned();
        assert_eq!(ex, Some(ProxyAddress::parse("EX:/o=O/cn=c").unwrap()));
        let dup = build(vec![
            EntryConfig::mailbox("a").proxy("X500:/o=O/cn=a"),
            EntryConfig::mailbox("b").proxy("x500: /O=O/CN=A"),
        ]);
        assert!(
            matches!(dup, Err(ConfigError::DuplicateAddress { .. })),
            "{dup:?}"
        );
    }

    #[test]
    fn resolves_by_every_kind_of_reference() {
        let d = build(vec![
            EntryConfig::mailbox("Alice")
                .proxy("SMTP:alice@example.com")
                .proxy("smtp:a@example.com")
                .proxy("X500:/o=Org/ou=Site/cn=Recipients/cn=alice"),
        ])
        .unwrap();
        let a = Some(d.id(0));
        for r in [
            "alice",
            "ALICE",
            "alice@example.com",
            "A@Example.com",
            "SMTP:alice@example.com",
            "X500:/o=Org/ou=Site/cn=Recipients/cn=alice",
            "/O=ORG/ou=Site/cn=Recipients/cn=ALICE",
        ] {
            assert_eq!(d.resolve(r), a, "{r}");
        }
        assert_eq!(d.resolve("bob"), None);
        assert_eq!(
            d.get(d.id(0)).unwrap().primary_smtp().unwrap().as_str(),
            "alice@example.com"
        );
    }

    #[test]
    fn nested_lists_flatten_depth_first_with_subtree_ends() {
        let d = build(vec![
            EntryConfig::mailbox("a"),
            EntryConfig::mailbox("b"),
            EntryConfig::distribution_list("inner", ["b", "a"]),
            EntryConfig::distribution_list("outer", ["a", "inner", "inner"]),
        ])
        .unwrap();
        let flat = &d.get(d.id(3)).unwrap().flat;
        let ids: Vec<_> = flat
            .iter()
            .map(|m| (m.entry.index(), m.depth, m.end))
            .collect();
        assert_eq!(
            ids,
            vec![(0, 0, None), (2, 0, Some(4)), (1, 1, None), (0, 1, None)]
        );
    }

    #[test]
    fn cycles_are_named() {
        let err = build(vec![
            EntryConfig::distribution_list("x", ["y"]),
            EntryConfig::distribution_list("y", ["z"]),
            EntryConfig::distribution_list("z", ["x"]),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            ConfigError::ListCycle {
                cycle: "x -> y -> z -> x".into()
            }
        );
        let self_loop = build(vec![EntryConfig::distribution_list("me", ["me"])]).unwrap_err();
        assert!(err.to_string().contains("cycle"));
        assert_eq!(
            self_loop,
            ConfigError::ListCycle {
                cycle: "me -> me".into()
            }
        );
    }

    #[test]
    fn duplicates_and_unresolved_members_are_errors() {
        let dup = build(vec![
            EntryConfig::mailbox("a").proxy("SMTP:x@example.com"),
            EntryConfig::mailbox("b").proxy("smtp:X@example.com"),
        ])
        .unwrap_err();
        assert!(matches!(dup, ConfigError::DuplicateAddress { .. }), "{dup}");
        assert!(dup.to_string().to_lowercase().contains("x@example.com"));
        let name = build(vec![EntryConfig::mailbox("a"), EntryConfig::mailbox("A")]).unwrap_err();
        assert!(matches!(name, ConfigError::DuplicateEntry { .. }));
        let missing = build(vec![EntryConfig::distribution_list("dl", ["ghost"])]).unwrap_err();
        assert!(missing.to_string().contains("\"ghost\""), "{missing}");
        let two = build(vec![
            EntryConfig::mailbox("a")
                .proxy("SMTP:a@example.com")
                .proxy("SMTP:b@example.com"),
        ])
        .unwrap_err();
        assert!(matches!(two, ConfigError::SecondPrimary { .. }));
    }

    #[test]
    fn the_smtp_index_holds_every_proxy_and_contact_target_once() {
        let mut entries: Vec<EntryConfig> = (0..3000)
            .map(|i| {
                EntryConfig::mailbox(format!("user{i}"))
                    .proxy(format!("SMTP:user{i}@example.com"))
                    .proxy(format!("smtp:U{i}@Example.com"))
            })
            .collect();
        entries.push(EntryConfig::contact("partner", "Bob@Partner.example"));
        // A contact whose target is also one of its own proxies is indexed once.
        entries.push(
            EntryConfig::contact("self", "me@partner.example").proxy("SMTP:me@partner.example"),
        );
        let d = build(entries.clone()).unwrap();
        for i in 0..3000 {
            let id = Some(d.id(i));
            for a in [format!("user{i}@example.com"), format!("u{i}@EXAMPLE.com")] {
                assert_eq!(d.by_address(&Address::parse(&a).unwrap()), id, "{a}");
            }
        }
        let by = |a: &str| d.by_address(&Address::parse(a).unwrap());
        assert_eq!(by("bob@partner.example"), Some(d.id(3000)));
        assert_eq!(by("me@partner.example"), Some(d.id(3001)));
        assert_eq!(by("user3000@example.com"), None);
        // The same address twice on one entry, or a contact's target that is another
        // entry's proxy: both name the entries.
        let twice = build(vec![
            EntryConfig::mailbox("a")
                .proxy("SMTP:a@example.com")
                .proxy("smtp:A@example.com"),
        ])
        .unwrap_err();
        assert_eq!(
            twice,
            ConfigError::DuplicateAddress {
                address: "A@example.com".into(),
                first: "a".into(),
                second: "a".into()
            }
        );
        entries.push(EntryConfig::contact("copycat", "USER7@example.com"));
        let taken = build(entries).unwrap_err();
        assert_eq!(
            taken,
            ConfigError::DuplicateAddress {
                address: "USER7@example.com".into(),
                first: "user7".into(),
                second: "copycat".into()
            }
        );
    }

    #[test]
    fn depth_and_size_limits() {
        let mut entries = vec![EntryConfig::mailbox("leaf")];
        for i in 0..5 {
            let inner = if i == 0 {
                "leaf".to_string()
            } else {
                format!("l{}", i - 1)
            };
            entries.push(EntryConfig::distribution_list(format!("l{i}"), [inner]));
        }
        let limits = Limits {
            max_nesting_depth: 3,
            ..Limits::default()
        };
        let err = Directory::build(&entries, &limits, None, Stamp::default()).unwrap_err();
        assert!(matches!(err, ConfigError::NestingTooDeep { .. }), "{err}");
        let big = vec![
            EntryConfig::mailbox("a"),
            EntryConfig::mailbox("b"),
            EntryConfig::mailbox("c"),
            EntryConfig::distribution_list("all", ["a", "b", "c"]),
        ];
        let limits = Limits {
            max_list_members: 2,
            ..Limits::default()
        };
        let err = Directory::build(&big, &limits, None, Stamp::default()).unwrap_err();
        assert_eq!(
            err,
            ConfigError::ListTooLarge {
                list: "all".into(),
                limit: 2
            }
        );
    }
}
