//! What a decision obliges a transport to store and hand over.

use crate::decide::decision::{ArchiveCopy, Decision};
use crate::envelope::Envelope;
use crate::policy::compiled::Policy;

/// What a decision obliges the transport to do, sealed in the message's `decision`
/// entry: the archive records to store (their storage keys), the journal copies to hand
/// over (their envelope senders, the journal-NDR addresses) and the number of
/// message-tracking rows to log.
///
/// A message is *complete* when every archive key has an `archive` entry, every journal
/// sender a `handover` entry with a 2xx reply, and its `tracking` entries seal as many
/// rows as the decision has tracking events.
///
/// ```
/// use mail_journal::*;
/// use mail_journal::seal::Obligations;
/// let policy = demo::policy()?;
/// let env = Envelope::builder(Origin::Submitted, "<alice@example.com>")?
///     .recipient("bob@partner.example")?
///     .message(&b"Subject: hi\r\n\r\nhello\r\n"[..])
///     .envelope_id("Q1")
///     .received_at(Timestamp::from_unix(1_795_342_443))
///     .build()?;
/// let decision = policy.decide(&env);
/// let o = Obligations::from_decision(&policy, &env, &decision);
/// assert_eq!(o.archive_keys(), ["archive/2026/11/22/alice@example.com/Q1.eml"]);
/// assert_eq!(o.journal_senders(), ["outbound-journal-ndr@example.com"]);
/// assert_eq!(o.tracking_rows(), decision.tracking.len() as u64);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Obligations {
    archive: Vec<String>,
    journal: Vec<String>,
    rows: u64,
}

impl Obligations {
    /// Obligations given directly: archive storage keys (relative to the store, under
    /// `archive/`), the journal copies' envelope senders, and the number of tracking
    /// rows.
    pub fn new<A, J>(archive_keys: A, journal_senders: J, tracking_rows: u64) -> Self
    where
        A: IntoIterator,
        A::Item: Into<String>,
        J: IntoIterator,
        J::Item: Into<String>,
    {
        Obligations {
            archive: archive_keys.into_iter().map(Into::into).collect(),
            journal: journal_senders.into_iter().map(Into::into).collect(),
            rows: tracking_rows,
        }
    }

    /// What `decision` obliges: one archive record per archive copy (keys by
    /// [`archive_key`]), one hand-over per journal copy (its
    /// [`reverse_path`](crate::JournalCopy::reverse_path)), one tracking row per
    /// tracking event.
    pub fn from_decision(policy: &Policy, envelope: &Envelope, decision: &Decision) -> Self {
        Obligations {
            archive: decision
                .archive_copies
                .iter()
                .map(|copy| archive_key(policy, envelope, decision, copy))
                .collect(),
            journal: decision
                .journal_copies
                .iter()
                .map(|copy| copy.reverse_path.to_string())
                .collect(),
            rows: decision.tracking.len() as u64,
        }
    }

    /// The storage keys of the archive records to store.
    pub fn archive_keys(&self) -> &[String] {
        &self.archive
    }
    /// The envelope senders of the journal copies to hand over.
    pub fn journal_senders(&self) -> &[String] {
        &self.journal
    }
    /// The number of tracking rows to log.
    pub fn tracking_rows(&self) -> u64 {
        self.rows
    }
}

/// Where the archive record of `copy` is stored, relative to the store: `archive/` +
/// its key among the decision's archive copies
/// ([`Decision::archive_storage_key`](crate::Decision::archive_storage_key), the key
/// [`Decision::outputs`](crate::Decision::outputs) gives a transport).
pub fn archive_key(
    policy: &Policy,
    envelope: &Envelope,
    decision: &Decision,
    copy: &ArchiveCopy,
) -> String {
    format!(
        "archive/{}",
        copy.storage_key_in(policy, envelope, decision)
    )
}
