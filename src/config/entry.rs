//! Directory entries as configured: mailboxes, distribution lists, contacts and public
//! folders, with proxy addresses, properties and delivery restrictions.

use crate::config::restrictions::RestrictionsConfig;
use crate::proptag::PropTag;

/// The kind of a directory entry, as configured.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryKindConfig {
    /// A mailbox: mail is delivered to it.
    Mailbox,
    /// A distribution list: mail is delivered to its members. Members are references
    /// (name, SMTP address or distinguished name) to other entries, lists included.
    DistributionList {
        /// The members.
        members: Vec<String>,
    },
    /// A contact (custom recipient): mail is forwarded to an external address.
    Contact {
        /// The external target address.
        target: String,
    },
    /// A public folder: mail is delivered to it.
    PublicFolder,
}

/// One directory entry as configured.
///
/// ```
/// use mail_journal::{EntryConfig, PropTag};
/// let carol = EntryConfig::mailbox("carol")
///     .display_name("Carol Jones")
///     .proxy("SMTP:carol@example.com")
///     .proxy("X500:/o=Example/ou=HQ/cn=Recipients/cn=carol")
///     .property(PropTag::custom_attribute(10)?, "X500:/o=Example/ou=HQ/cn=Recipients/cn=managers");
/// assert_eq!(carol.name, "carol");
/// # Ok::<(), mail_journal::PropTagError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct EntryConfig {
    /// Unique name (alias); also a way to reference the entry.
    pub name: String,
    /// Display name; the name when empty.
    pub display_name: String,
    /// Mailbox, distribution list, contact or public folder.
    pub kind: EntryKindConfig,
    /// Proxy addresses: `SMTP:` (primary), `smtp:`, `X500:`, `EX:`.
    pub proxies: Vec<String>,
    /// Hidden from the address book.
    pub hidden: bool,
    /// String properties, custom attributes 1–15 among them.
    pub properties: Vec<(PropTag, String)>,
    /// Who may send to this entry.
    pub restrictions: RestrictionsConfig,
    /// For a mailbox or public folder: the address a transport hands its mail to, when
    /// that is not its primary SMTP address — typically for hidden journal mailboxes
    /// whose SMTP addresses were removed, as Exchange delivered to them through the
    /// store. It never resolves from an envelope: mail addressed to it is refused as an
    /// unknown user, except the engine's own output (journal copies fed back).
    pub delivery: Option<String>,
}

impl EntryConfig {
    fn new(name: impl Into<String>, kind: EntryKindConfig) -> Self {
        EntryConfig {
            name: name.into(),
            display_name: String::new(),
            kind,
            proxies: Vec::new(),
            hidden: false,
            properties: Vec::new(),
            restrictions: RestrictionsConfig::default(),
            delivery: None,
        }
    }

    /// A mailbox.
    pub fn mailbox(name: impl Into<String>) -> Self {
        Self::new(name, EntryKindConfig::Mailbox)
    }

    /// A distribution list with the given member references.
    pub fn distribution_list<I, S>(name: impl Into<String>, members: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let members = members.into_iter().map(Into::into).collect();
        Self::new(name, EntryKindConfig::DistributionList { members })
    }

    /// A contact (custom recipient) forwarding to an external address.
    pub fn contact(name: impl Into<String>, target: impl Into<String>) -> Self {
        Self::new(
            name,
            EntryKindConfig::Contact {
                target: target.into(),
            },
        )
    }

    /// A public folder.
    pub fn public_folder(name: impl Into<String>) -> Self {
        Self::new(name, EntryKindConfig::PublicFolder)
    }

    /// Sets the display name.
    pub fn display_name(mut self, display: impl Into<String>) -> Self {
        self.display_name = display.into();
        self
    }

    /// Adds a proxy address such as `SMTP:alice@example.com` or `X500:/o=…`.
    pub fn proxy(mut self, proxy: impl Into<String>) -> Self {
        self.proxies.push(proxy.into());
        self
    }

    /// Hides the entry from the address book.
    pub fn hidden(mut self, hidden: bool) -> Self {
        self.hidden = hidden;
        self
    }

    /// Sets a string property (a custom attribute, say).
    pub fn property(mut self, tag: PropTag, value: impl Into<String>) -> Self {
        self.properties.retain(|(t, _)| *t != tag);
        self.properties.push((tag, value.into()));
        self
    }

    /// Sets the delivery address (see [`EntryConfig::delivery`]).
    ///
    /// ```
    /// use mail_journal::EntryConfig;
    /// let journal = EntryConfig::mailbox("journal1")
    ///     .proxy("X500:/o=Example/ou=HQ/cn=Recipients/cn=journal1")
    ///     .hidden(true)
    ///     .delivery("journal1@journal.example.internal");
    /// assert_eq!(journal.delivery.as_deref(), Some("journal1@journal.example.internal"));
    /// ```
    pub fn delivery(mut self, address: impl Into<String>) -> Self {
        self.delivery = Some(address.into());
        self
    }

    /// Sets the delivery restrictions.
    pub fn restrictions(mut self, restrictions: RestrictionsConfig) -> Self {
        self.restrictions = restrictions;
        self
    }
}
