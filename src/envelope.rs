//! The envelope a transport hands to [`Policy::decide`](crate::Policy::decide).

use std::sync::Arc;

use bytes::Bytes;
use smallvec::SmallVec;
use thiserror::Error;

use crate::address::{Address, AddressError, ReversePath};
use crate::ids::ConnectorId;
use crate::time::Timestamp;

/// An envelope that cannot be decided on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The envelope has no recipients.
    #[error("envelope {envelope_id:?} has no recipients")]
    NoRecipients {
        /// The transport's envelope id.
        envelope_id: String,
    },
    /// The envelope id is empty or contains control characters.
    #[error("invalid envelope id {envelope_id:?}: must be non-empty printable text")]
    InvalidEnvelopeId {
        /// The id as given.
        envelope_id: String,
    },
    /// A recipient address (`RCPT TO`) could not be parsed.
    #[error("recipient: {0}")]
    Recipient(AddressError),
    /// The reverse path (`MAIL FROM`) could not be parsed.
    #[error("reverse path: {0}")]
    ReversePath(AddressError),
}

/// How the message entered the organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// Arrived from the Internet on this connector.
    Inbound {
        /// The receiving connector (see [`Policy::connector_id`](crate::Policy::connector_id)).
        connector: ConnectorId,
    },
    /// Submitted by an internal client or an authenticated user.
    Submitted,
}

impl std::fmt::Display for Origin {
    /// `inbound on connector #0` / `submitted`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Inbound { connector } => write!(f, "inbound on {connector}"),
            Origin::Submitted => f.write_str("submitted"),
        }
    }
}

/// DSN `NOTIFY` parameter of a recipient (RFC 3461).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Notify {
    /// Not given: the default (failures are reported).
    #[default]
    Default,
    /// `NOTIFY=NEVER`.
    Never,
    /// A combination of `SUCCESS`, `FAILURE`, `DELAY`.
    On {
        /// Report successful delivery.
        success: bool,
        /// Report failure.
        failure: bool,
        /// Report delay.
        delay: bool,
    },
}

impl Notify {
    /// Whether a failure of this recipient is to be reported to the sender.
    pub fn reports_failure(self) -> bool {
        match self {
            Notify::Default => true,
            Notify::Never => false,
            Notify::On { failure, .. } => failure,
        }
    }
}

/// One envelope recipient (`RCPT TO`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Recipient {
    /// The address.
    pub address: Address,
    /// DSN `NOTIFY`.
    pub notify: Notify,
    /// DSN `ORCPT`, as given (`rfc822;bob@example.com`).
    pub orcpt: Option<Arc<str>>,
}

impl Recipient {
    /// A recipient with default DSN parameters.
    pub fn new(address: Address) -> Self {
        Recipient {
            address,
            notify: Notify::Default,
            orcpt: None,
        }
    }

    /// Sets `NOTIFY`.
    pub fn notify(mut self, notify: Notify) -> Self {
        self.notify = notify;
        self
    }

    /// Sets `ORCPT`.
    pub fn orcpt(mut self, orcpt: impl Into<Arc<str>>) -> Self {
        self.orcpt = Some(orcpt.into());
        self
    }
}

/// An envelope: origin, reverse path, recipients, the raw message, the time it was
/// received and the transport's envelope id. Build one with [`Envelope::builder`].
///
/// ```
/// use mail_journal::{Envelope, Origin, Timestamp};
/// let env = Envelope::builder(Origin::Submitted, "<alice@example.com>")?
///     .recipient("bob@partner.example")?
///     .message(&b"Subject: hi\r\n\r\nhello\r\n"[..])
///     .received_at(Timestamp::from_unix(1_700_000_000))
///     .envelope_id("Q123")
///     .build()?;
/// assert_eq!(env.recipients().len(), 1);
/// # Ok::<(), mail_journal::EnvelopeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Envelope {
    origin: Origin,
    reverse_path: ReversePath,
    /// Inline up to four: building an ordinary envelope allocates only its addresses and
    /// its id.
    recipients: SmallVec<[Recipient; 4]>,
    message: Bytes,
    received_at: Timestamp,
    envelope_id: Arc<str>,
}

impl Envelope {
    /// Starts an envelope. The reverse path may be `<>`, `<addr>` or a bare address.
    pub fn builder(origin: Origin, reverse_path: &str) -> Result<EnvelopeBuilder, EnvelopeError> {
        Ok(EnvelopeBuilder {
            origin,
            reverse_path: ReversePath::parse(reverse_path).map_err(EnvelopeError::ReversePath)?,
            recipients: SmallVec::new(),
            message: Bytes::new(),
            received_at: Timestamp::default(),
            envelope_id: None,
        })
    }

    /// How the message entered.
    pub fn origin(&self) -> Origin {
        self.origin
    }
    /// `MAIL FROM`.
    pub fn reverse_path(&self) -> &ReversePath {
        &self.reverse_path
    }
    /// `RCPT TO`, in order.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }
    /// The raw message.
    pub fn message(&self) -> &Bytes {
        &self.message
    }
    /// When the message was received.
    pub fn received_at(&self) -> Timestamp {
        self.received_at
    }
    /// The transport's envelope (queue) id.
    pub fn envelope_id(&self) -> &str {
        &self.envelope_id
    }
}

/// Builds an [`Envelope`]; see [`Envelope::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct EnvelopeBuilder {
    origin: Origin,
    reverse_path: ReversePath,
    recipients: SmallVec<[Recipient; 4]>,
    message: Bytes,
    received_at: Timestamp,
    /// Not set yet: `None` rather than an empty `Arc`, which would allocate.
    envelope_id: Option<Arc<str>>,
}

impl EnvelopeBuilder {
    /// Adds a recipient by address.
    pub fn recipient(self, address: &str) -> Result<Self, EnvelopeError> {
        let address = Address::parse(address).map_err(EnvelopeError::Recipient)?;
        Ok(self.recipient_with(Recipient::new(address)))
    }

    /// Adds a recipient with DSN parameters.
    pub fn recipient_with(mut self, recipient: Recipient) -> Self {
        self.recipients.push(recipient);
        self
    }

    /// Sets the raw message (shared, not copied).
    pub fn message(mut self, message: impl Into<Bytes>) -> Self {
        self.message = message.into();
        self
    }

    /// Sets the time of receipt.
    pub fn received_at(mut self, at: Timestamp) -> Self {
        self.received_at = at;
        self
    }

    /// Sets the transport's envelope id (required).
    pub fn envelope_id(mut self, id: impl Into<Arc<str>>) -> Self {
        self.envelope_id = Some(id.into());
        self
    }

    /// Validates: at least one recipient and a printable, non-empty envelope id.
    pub fn build(self) -> Result<Envelope, EnvelopeError> {
        let id = self.envelope_id.unwrap_or_else(|| Arc::from(""));
        if id.trim().is_empty() || id.chars().any(char::is_control) {
            return Err(EnvelopeError::InvalidEnvelopeId {
                envelope_id: id.to_string(),
            });
        }
        if self.recipients.is_empty() {
            return Err(EnvelopeError::NoRecipients {
                envelope_id: id.to_string(),
            });
        }
        Ok(Envelope {
            origin: self.origin,
            reverse_path: self.reverse_path,
            recipients: self.recipients,
            message: self.message,
            received_at: self.received_at,
            envelope_id: id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_envelopes_and_bad_ids_are_refused() {
        let e = Envelope::builder(Origin::Submitted, "<>")
            .unwrap()
            .envelope_id("Q1")
            .build()
            .unwrap_err();
        assert_eq!(
            e,
            EnvelopeError::NoRecipients {
                envelope_id: "Q1".into()
            }
        );
        assert!(e.to_string().contains("\"Q1\""));
        let e = Envelope::builder(Origin::Submitted, "<>")
            .unwrap()
            .recipient("a@b.example")
            .unwrap()
            .build()
            .unwrap_err();
        assert!(matches!(e, EnvelopeError::InvalidEnvelopeId { .. }));
        let e = Envelope::builder(Origin::Submitted, "<broken").unwrap_err();
        assert_eq!(
            e.to_string(),
            "reverse path: invalid address \"<broken\": unbalanced angle brackets"
        );
        assert!(matches!(e, EnvelopeError::ReversePath(_)));
        let r = Envelope::builder(Origin::Submitted, "<>")
            .unwrap()
            .recipient("nope");
        assert!(r.unwrap_err().to_string().contains("\"nope\""));
    }

    #[test]
    fn notify() {
        assert!(Notify::Default.reports_failure());
        assert!(!Notify::Never.reports_failure());
        assert!(
            !Notify::On {
                success: true,
                failure: false,
                delay: false
            }
            .reports_failure()
        );
    }
}
