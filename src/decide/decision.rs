//! What [`Policy::decide`](crate::Policy::decide) returns.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use smallvec::SmallVec;

use crate::address::Address;
use crate::config::JournalFormat;
use crate::envelope::{Notify, Recipient};
use crate::ids::{ConnectorId, Direction, EntryId, RuleId};
use crate::policy::restrict::RestrictionKind;
use crate::proptag::PropTag;
use crate::reply::{EnhancedStatus, SmtpReply};

/// Why a recipient was refused, machine-readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// A local address that resolves to no directory entry (`550 5.1.1`).
    UnknownRecipient,
    /// An external address on mail from the Internet (`550 5.7.1`): no open relay.
    RelayDenied,
    /// The entry's delivery restrictions refuse the sender (`550 5.7.1`).
    Restricted {
        /// The entry whose restrictions refused.
        entry: EntryId,
        /// Which list refused.
        kind: RestrictionKind,
    },
    /// Connectors route the address but every one refuses the sender (`550 5.7.1`).
    ConnectorRestricted {
        /// The first matching connector that refused.
        connector: ConnectorId,
    },
    /// No connector routes the address (`550 5.4.4`).
    NoRoute,
    /// Over the per-envelope recipient limit or the expansion limit (`452 4.5.3`).
    TooManyRecipients,
    /// The receiving connector does not accept inbound mail (`550 5.7.1`).
    InboundNotAccepted {
        /// The connector.
        connector: ConnectorId,
    },
    /// The envelope names a receiving connector this policy does not have (`451 4.3.5`).
    UnknownConnector,
}

/// A refusal: the SMTP reply and the reason behind it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Rejection {
    /// The reply to give (at RCPT time for inbound mail, in a DSN for submitted mail).
    pub reply: SmtpReply,
    /// The machine-readable reason.
    pub reason: RejectReason,
}

impl Rejection {
    pub(crate) fn new(
        code: u16,
        status: EnhancedStatus,
        text: impl Into<Cow<'static, str>>,
        reason: RejectReason,
    ) -> Self {
        Rejection {
            reply: SmtpReply {
                code,
                status,
                text: text.into(),
            },
            reason,
        }
    }

    /// Whether the failure is temporary (4xx).
    pub fn is_transient(&self) -> bool {
        self.reply.code / 100 == 4
    }
}

/// The RCPT-level verdict for one envelope recipient.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Disposition {
    /// Delivered to a local mailbox or public folder.
    Deliver(EntryId),
    /// A distribution list: accepted and expanded (see [`Decision::deliveries`]).
    Expand(EntryId),
    /// A local contact: forwarded to its external target through a connector.
    Forward {
        /// The contact.
        contact: EntryId,
        /// The connector.
        connector: ConnectorId,
    },
    /// An external address, transferred out through a connector (see
    /// [`Decision::transfers`]).
    Transfer(ConnectorId),
    /// Refused.
    Reject(Rejection),
}

impl Disposition {
    /// Whether the recipient was accepted.
    pub fn is_accepted(&self) -> bool {
        !matches!(self, Disposition::Reject(_))
    }
    /// The rejection, if refused.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Disposition::Reject(r) => Some(r),
            _ => None,
        }
    }
}

/// One envelope recipient's verdict, in envelope order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Verdict {
    /// The envelope recipient.
    pub recipient: Address,
    /// What happens to it.
    pub disposition: Disposition,
}

impl Verdict {
    /// A verdict (for comparing with a decision's).
    pub fn new(recipient: Address, disposition: Disposition) -> Self {
        Verdict {
            recipient,
            disposition,
        }
    }
}

impl Delivery {
    /// A local final destination reached along `via`.
    pub fn new(entry: EntryId, via: Via) -> Self {
        Delivery { entry, via }
    }
}

impl TransferRecipient {
    /// An external final destination reached along `via`, through `contact` if any.
    pub fn new(address: Address, via: Via, contact: Option<EntryId>) -> Self {
        TransferRecipient {
            address,
            via,
            contact,
        }
    }
}

impl Transfer {
    /// A transfer through `connector`.
    pub fn new(
        connector: ConnectorId,
        recipients: impl IntoIterator<Item = TransferRecipient>,
    ) -> Self {
        Transfer {
            connector,
            recipients: recipients.into_iter().collect(),
        }
    }
}

impl ArchiveCopy {
    /// An archive copy kept for crossing `connector` in `direction`.
    pub fn new(connector: ConnectorId, direction: Direction) -> Self {
        ArchiveCopy {
            connector,
            direction,
        }
    }
}

impl JournalReason {
    /// A reason: `source` asked for `target`.
    pub fn new(source: JournalSource, target: EntryId) -> Self {
        JournalReason { source, target }
    }
}

/// How a final destination was reached: the envelope recipient and the distribution lists
/// expanded on the way (outermost first; empty for a direct recipient).
///
/// The envelope recipient is named by its position in the envelope, which is also its
/// position in [`Decision::verdicts`]; [`Decision::envelope_recipient`] gives its address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Via {
    /// The position of the envelope recipient that led here.
    pub recipient: u32,
    /// The lists expanded on the way, outermost first.
    pub lists: SmallVec<[EntryId; 2]>,
}

impl Via {
    /// A path from envelope recipient number `recipient` through `lists` (outermost
    /// first).
    pub fn new(recipient: u32, lists: impl IntoIterator<Item = EntryId>) -> Self {
        Via {
            recipient,
            lists: lists.into_iter().collect(),
        }
    }

    /// A direct recipient: envelope recipient `recipient`, no list expanded.
    pub fn direct(recipient: u32) -> Self {
        Via {
            recipient,
            lists: SmallVec::new(),
        }
    }

    /// A canonical rank so that the recorded path does not depend on recipient order:
    /// fewer expansions first, then the envelope recipient's address, then the lists.
    pub(crate) fn rank_cmp(&self, other: &Via, rcpts: &[Recipient]) -> std::cmp::Ordering {
        let addr = |v: &Via| rcpts.get(v.recipient as usize).map(|r| &r.address);
        self.lists
            .len()
            .cmp(&other.lists.len())
            .then_with(|| addr(self).cmp(&addr(other)))
            .then_with(|| self.lists.cmp(&other.lists))
    }
}

/// A local final destination.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Delivery {
    /// The mailbox or public folder.
    pub entry: EntryId,
    /// How it was reached.
    pub via: Via,
}

/// An external final destination within a [`Transfer`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TransferRecipient {
    /// The external address.
    pub address: Address,
    /// How it was reached.
    pub via: Via,
    /// The contact that forwards to it, if any.
    pub contact: Option<EntryId>,
}

/// A transfer: the recipients that leave the organisation through one connector.
///
/// One word for one concept: a message *transfer* through a connector is what Exchange
/// 5.5 logs as "SMTP transferred outbound" (1011) and the Exchange 2013+ CSV log as
/// `SEND`; [`Disposition::Transfer`], [`TransferRecipient`] and [`EventKind::Transfer`]
/// name its parts. ("Relaying denied", [`RejectReason::RelayDenied`], is SMTP's other
/// sense of relay: the engine refusing to be an open relay.)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Transfer {
    /// The connector.
    pub connector: ConnectorId,
    /// Its recipients, sorted by address.
    pub recipients: SmallVec<[TransferRecipient; 4]>,
}

/// An expanded member (or nested list) that will not receive the message although its
/// envelope recipient was accepted; the transport reports it in a DSN.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NonDelivery {
    /// The member, nested list or contact that failed.
    pub entry: EntryId,
    /// How it was reached.
    pub via: Via,
    /// Why.
    pub rejection: Rejection,
}

/// A copy for the archive (Message Archival on a connector the message crossed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct ArchiveCopy {
    /// The archiving connector.
    pub connector: ConnectorId,
    /// The direction it crossed that connector in.
    pub direction: Direction,
}

/// A final destination of a journal copy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Destination {
    /// A local mailbox or public folder.
    Local(EntryId),
    /// An external address (a journaling service behind a contact) through a connector.
    External {
        /// The address.
        address: Address,
        /// The connector.
        connector: ConnectorId,
    },
}

/// What asked for a journal copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum JournalSource {
    /// A connector's global journal address (`InboundJournal` / `OutboundJournal`).
    Connector {
        /// The connector.
        connector: ConnectorId,
        /// The direction.
        direction: Direction,
    },
    /// A directory party's per-recipient journal property
    /// (`InboundRecipJournalProp` / `OutboundRecipJournalProp`).
    RecipientProperty {
        /// The connector whose setting names the property.
        connector: ConnectorId,
        /// The direction.
        direction: Direction,
        /// The party whose property holds the target.
        entry: EntryId,
        /// The property.
        property: PropTag,
    },
    /// A journal rule.
    Rule(RuleId),
}

/// One reason for a journal copy: who asked for which target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct JournalReason {
    /// What asked.
    pub source: JournalSource,
    /// The target asked for (a list is expanded into the copy's recipients). For a
    /// per-recipient value that does not resolve, the NDR mailbox.
    pub target: EntryId,
}

/// A journal copy to send: one per journal-NDR address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct JournalCopy {
    /// The journal-NDR mailbox.
    pub ndr: EntryId,
    /// The copy's envelope sender: the NDR mailbox's SMTP address — never the original
    /// sender, so a bounce never tells the sender that mail is journaled.
    pub reverse_path: Address,
    /// Sorted, de-duplicated final destinations.
    pub recipients: SmallVec<[Destination; 4]>,
    /// Every reason, sorted.
    pub reasons: SmallVec<[JournalReason; 2]>,
    /// The format to render.
    pub format: JournalFormat,
}

impl JournalCopy {
    /// Journal copies ask for no delivery notifications (`NOTIFY=NEVER`).
    pub fn notify(&self) -> Notify {
        Notify::Never
    }
}

/// What kind of traffic a message is for the organisation: inbound from the Internet,
/// outbound to it, or internal. (Not to be confused with [`Direction`], the way a message
/// crosses one connector.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Traffic {
    /// Arrived on a connector.
    Inbound,
    /// Submitted, and at least one recipient leaves through a connector.
    Outbound,
    /// Submitted, no connector crossed.
    Internal,
}

/// Something a tracking event is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Party {
    /// An SMTP address.
    Address(Address),
    /// A directory entry (which may have no SMTP address, like a hidden journal mailbox).
    Entry(EntryId),
}

/// The kind of a message-tracking event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EventKind {
    /// Received from the Internet on a connector (5.5: 1012 SMTP received inbound).
    Receive,
    /// Submitted by an internal client.
    Submit,
    /// A distribution list expanded (5.5: 26).
    Expand,
    /// Delivered to a local mailbox (5.5: 1000).
    Deliver,
    /// Transferred out through a connector: the CSV log's `SEND`, 5.5's 1011 "SMTP
    /// transferred outbound".
    Transfer,
    /// A recipient refused or not delivered.
    Fail,
    /// A delivery status notification is due to the sender (5.5: 1017).
    Dsn,
    /// A journal copy sent.
    Journal,
    /// An archive copy kept.
    Archive,
}

/// One message-tracking event. Envelope id, Message-ID, sender, size and time are the
/// decision's and the envelope's, common to every event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TrackingEvent {
    /// What happened.
    pub kind: EventKind,
    /// The connector involved, if any.
    pub connector: Option<ConnectorId>,
    /// The recipients the event is about.
    pub recipients: SmallVec<[Party; 4]>,
    /// A related party: the list expanded, the envelope recipient a member came through,
    /// the journal-NDR mailbox of a journal copy.
    pub related: Option<Party>,
    /// For failures: the reply code and status.
    pub status: Option<(u16, EnhancedStatus)>,
    /// `Some(ndr)` when the event is about the journal copy sent under that journal-NDR
    /// mailbox (its `JOURNAL` event, and a `SEND` on every connector the copy crosses);
    /// `None` when it is about the original message.
    pub journal_copy: Option<EntryId>,
}

/// A configuration or input problem the decision worked around.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Warning {
    /// A per-recipient journal property value that resolves to nothing: the copy went to
    /// the direction's journal-NDR mailbox instead.
    UnresolvedJournalProperty {
        /// The entry holding the property.
        entry: EntryId,
        /// The property.
        property: PropTag,
        /// The value.
        value: Box<str>,
    },
    /// The journal marker header arrived on mail that is not the engine's own output:
    /// journaled and archived as usual, and flagged.
    SuspectedEvasion,
    /// The header block is larger than the scan limit; what lies beyond was not read.
    HeaderScanTruncated {
        /// The limit in bytes.
        limit: usize,
    },
}

/// The complete decision for one envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Inbound, outbound or internal.
    pub traffic: Traffic,
    /// One verdict per envelope recipient, in envelope order.
    pub verdicts: SmallVec<[Verdict; 4]>,
    /// Local final destinations, sorted by entry, each once.
    pub deliveries: SmallVec<[Delivery; 4]>,
    /// External final destinations grouped by connector, sorted by connector.
    pub transfers: SmallVec<[Transfer; 1]>,
    /// Expanded members that will not receive the message, sorted by entry.
    pub non_deliveries: Vec<NonDelivery>,
    /// Archive copies, sorted.
    pub archive_copies: SmallVec<[ArchiveCopy; 1]>,
    /// Journal copies, one per journal-NDR address, sorted by it.
    pub journal_copies: SmallVec<[JournalCopy; 1]>,
    /// Message-tracking events (inline: ordinary mail has at most four, and deciding it
    /// allocates nothing).
    pub tracking: SmallVec<[TrackingEvent; 4]>,
    /// Problems worked around.
    pub warnings: Vec<Warning>,
    /// The Message-ID header value, shared with the message buffer.
    pub message_id: Option<Bytes>,
    /// The message size in bytes.
    pub size: usize,
    /// Where the last Subject header's raw value lies in the message (after the colon,
    /// continuation lines included): the tracking logs' subject.
    pub(crate) subject: Option<(u32, u32)>,
    /// The message is the engine's own output (a journal copy, or a DSN to a journal-NDR
    /// mailbox): not journaled or archived again.
    pub journal_exempt: bool,
    /// The journal marker arrived on mail that is not exempt (see [`Warning::SuspectedEvasion`]).
    pub suspected_evasion: bool,
}

impl Decision {
    /// An empty decision for a message of `size` bytes, filled in place by `decide` (the
    /// decision is large: moving it costs).
    pub(crate) fn empty(size: usize) -> Self {
        Decision {
            traffic: Traffic::Internal,
            verdicts: SmallVec::new(),
            deliveries: SmallVec::new(),
            transfers: SmallVec::new(),
            non_deliveries: Vec::new(),
            archive_copies: SmallVec::new(),
            journal_copies: SmallVec::new(),
            tracking: SmallVec::new(),
            warnings: Vec::new(),
            message_id: None,
            size,
            subject: None,
            journal_exempt: false,
            suspected_evasion: false,
        }
    }

    /// The verdicts that refuse their recipient.
    pub fn rejections(&self) -> impl Iterator<Item = (&Address, &Rejection)> {
        self.verdicts
            .iter()
            .filter_map(|v| v.disposition.rejection().map(|r| (&v.recipient, r)))
    }

    /// Whether any envelope recipient was accepted.
    pub fn any_accepted(&self) -> bool {
        self.verdicts.iter().any(|v| v.disposition.is_accepted())
    }

    /// The address of the envelope recipient a destination was reached through.
    pub fn envelope_recipient(&self, via: &Via) -> Option<&Address> {
        self.verdicts
            .get(via.recipient as usize)
            .map(|v| &v.recipient)
    }

    /// The transfer through a connector, if any.
    pub fn transfer(&self, connector: ConnectorId) -> Option<&Transfer> {
        self.transfers.iter().find(|t| t.connector == connector)
    }
}

impl fmt::Display for Disposition {
    /// `deliver to entry #3`, `transfer via connector #1`, `reject 550 5.1.1 …`; for names
    /// instead of ids use [`Policy::explain`](crate::Policy::explain).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disposition::Deliver(e) => write!(f, "deliver to {e}"),
            Disposition::Expand(e) => write!(f, "expand list {e}"),
            Disposition::Forward { contact, connector } => {
                write!(f, "forward through contact {contact} via {connector}")
            }
            Disposition::Transfer(c) => write!(f, "transfer via {c}"),
            Disposition::Reject(r) => write!(f, "reject {}", r.reply),
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Local(e) => write!(f, "{e}"),
            Destination::External { address, connector } => write!(f, "{address} via {connector}"),
        }
    }
}

impl fmt::Display for JournalSource {
    /// `connector #0 InboundJournal`, `entry #2's custom attribute 10 (0x80360000) via
    /// connector #0 InboundRecipJournalProp`, `journal rule #1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalSource::Connector {
                connector,
                direction,
            } => write!(f, "{connector} {direction}Journal"),
            JournalSource::RecipientProperty {
                connector,
                direction,
                entry,
                property,
            } => write!(
                f,
                "{entry}'s {property} via {connector} {direction}RecipJournalProp"
            ),
            JournalSource::Rule(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Display for Traffic {
    /// `inbound`, `outbound`, `internal`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Traffic::Inbound => "inbound",
            Traffic::Outbound => "outbound",
            Traffic::Internal => "internal",
        })
    }
}

impl fmt::Display for EventKind {
    /// The event id of the Exchange 2013+ tracking log: `RECEIVE`, `SUBMIT`, `EXPAND`,
    /// `DELIVER`, `SEND`, `FAIL`, `DSN`, `JOURNAL`, `ARCHIVE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventKind::Receive => "RECEIVE",
            EventKind::Submit => "SUBMIT",
            EventKind::Expand => "EXPAND",
            EventKind::Deliver => "DELIVER",
            EventKind::Transfer => "SEND",
            EventKind::Fail => "FAIL",
            EventKind::Dsn => "DSN",
            EventKind::Journal => "JOURNAL",
            EventKind::Archive => "ARCHIVE",
        })
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnresolvedJournalProperty {
                entry,
                property,
                value,
            } => write!(
                f,
                "{entry}'s {property} = {value:?} resolves to nothing; the copy went to the NDR mailbox"
            ),
            Warning::SuspectedEvasion => f.write_str(
                "journal marker on mail that is not the engine's own output: suspected evasion",
            ),
            Warning::HeaderScanTruncated { limit } => write!(
                f,
                "header block larger than {limit} bytes; the rest was not scanned"
            ),
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::UnknownRecipient => f.write_str("unknown recipient"),
            RejectReason::RelayDenied => f.write_str("relaying denied"),
            RejectReason::Restricted { entry, kind } => {
                write!(f, "restricted by {entry}: {kind}")
            }
            RejectReason::ConnectorRestricted { connector } => {
                write!(
                    f,
                    "every matching connector refuses the sender ({connector} first)"
                )
            }
            RejectReason::NoRoute => f.write_str("no route"),
            RejectReason::TooManyRecipients => f.write_str("too many recipients"),
            RejectReason::InboundNotAccepted { connector } => {
                write!(f, "{connector} does not accept mail from the Internet")
            }
            RejectReason::UnknownConnector => f.write_str("unknown receiving connector"),
        }
    }
}

/// A decision is plain data, shared across threads freely.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Decision>();
};
