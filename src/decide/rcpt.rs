//! RCPT-time verdicts: [`Policy::check_rcpt`] and [`Transaction`], which answer each
//! `RCPT TO` with exactly the verdict [`Policy::decide`] gives that recipient later.

use std::borrow::Cow;

use crate::address::{Address, ReversePath};
use crate::decide::decision::Disposition;
use crate::decide::engine::{Run, Sender};
use crate::envelope::Origin;
use crate::policy::compiled::Policy;
use crate::reply::{EnhancedStatus, SmtpReply};

/// The positive reply to an accepted recipient.
const ACCEPTED: EnhancedStatus = EnhancedStatus::new(2, 1, 5);

/// One SMTP transaction at RCPT time: the sender is known (`MAIL FROM`), the message not
/// yet. Each [`Transaction::check_rcpt`] gives the reply for one `RCPT TO`, counting the
/// recipients and the list-expansion budget exactly as [`Policy::decide`] will.
///
/// **Agreement.** For the envelope made of the same origin, reverse path and recipients,
/// in the same order, `decide` gives every recipient the verdict `check_rcpt` replied
/// (a property test checks this for generated policies and envelopes). A transport that
/// puts only the accepted recipients into the envelope keeps the agreement: refused
/// recipients take nothing from the limits that a later one could need.
///
/// **What only the end of DATA can tell**, because it needs the message or the whole
/// envelope: list members that will not receive it (their non-deliveries go into a DSN
/// while the list itself was accepted), the journal and archive copies, and whether the
/// message is the engine's own output or a suspected evasion.
///
/// ```
/// use mail_journal::*;
/// let policy = demo::policy()?;
/// let ims = policy.connector_id("IMS-Main").expect("demo connector");
/// let from: ReversePath = "<bob@partner.example>".parse()?;
/// let mut tx = policy.transaction(Origin::Inbound { connector: ims }, &from);
/// assert_eq!(tx.check_rcpt(&"carol@example.com".parse()?).to_string(), "250 2.1.5 Recipient OK");
/// assert_eq!(tx.check_rcpt(&"nobody@example.com".parse()?).code, 550);
/// // No open relay: an external recipient of Internet mail is refused at RCPT time.
/// assert_eq!(tx.check_rcpt(&"x@elsewhere.example".parse()?).to_string(),
///            "550 5.7.1 Relaying denied");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Transaction<'p> {
    run: Run<'p>,
    count: usize,
}

impl Policy {
    /// Starts the RCPT-time checks of one SMTP transaction (see [`Transaction`]).
    pub fn transaction(&self, origin: Origin, reverse_path: &ReversePath) -> Transaction<'_> {
        let sender: Sender = self.sender(origin, reverse_path);
        Transaction {
            run: Run::new(self, &sender, &[], "", true),
            count: 0,
        }
    }

    /// The reply to one `RCPT TO`, as the first recipient of a transaction: `250 2.1.5`
    /// or the refusal `decide` would give it (`550 5.1.1`, `550 5.7.1`, `452 4.5.3`, …).
    /// For several recipients use [`Policy::transaction`], which also counts them against
    /// the recipient limit and the list-expansion budget.
    ///
    /// ```
    /// use mail_journal::*;
    /// let policy = demo::policy()?;
    /// let reply = policy.check_rcpt(Origin::Submitted, &"<erin@example.com>".parse()?,
    ///                               &"ceo@example.com".parse()?);
    /// // erin is an intern: the CEO's restrictions refuse her.
    /// assert_eq!(reply.code, 550);
    /// assert_eq!(reply.status.to_string(), "5.7.1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_rcpt(
        &self,
        origin: Origin,
        reverse_path: &ReversePath,
        recipient: &Address,
    ) -> SmtpReply {
        self.transaction(origin, reverse_path).check_rcpt(recipient)
    }
}

impl Transaction<'_> {
    /// The reply to the next `RCPT TO`.
    pub fn check_rcpt(&mut self, recipient: &Address) -> SmtpReply {
        match self.disposition(recipient) {
            Disposition::Reject(r) => r.reply,
            _ => SmtpReply::new(250, ACCEPTED, Cow::Borrowed("Recipient OK")),
        }
    }

    /// The verdict for the next `RCPT TO`, as [`Policy::decide`] will give it (the
    /// connector chosen for an external recipient may differ: `decide` shares load by the
    /// envelope id, which is not known yet).
    pub fn disposition(&mut self, recipient: &Address) -> Disposition {
        let index = self.count;
        self.count += 1;
        self.run.verdict(index, recipient)
    }

    /// How many recipients were checked so far.
    pub fn checked(&self) -> usize {
        self.count
    }
}
