//! Leaf types: SMTP replies with RFC 3463 enhanced status codes.

use std::borrow::Cow;
use std::fmt;

/// An RFC 3463 enhanced status code, `class.subject.detail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnhancedStatus {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub class: u8,
    /// The subject.
    pub subject: u16,
    /// The detail.
    pub detail: u16,
}

impl EnhancedStatus {
    /// `class.subject.detail`.
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        EnhancedStatus {
            class,
            subject,
            detail,
        }
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// An SMTP reply: basic code, enhanced status code and text.
///
/// ```
/// use mail_journal::{EnhancedStatus, SmtpReply};
/// let r = SmtpReply::new(550, EnhancedStatus::new(5, 1, 1), "user unknown");
/// assert_eq!(r.to_string(), "550 5.1.1 user unknown");
/// assert!(r.is_permanent() && !r.is_positive());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SmtpReply {
    /// The basic reply code (550, 452, …).
    pub code: u16,
    /// The enhanced status code.
    pub status: EnhancedStatus,
    /// Human-readable text (one line, no CR/LF).
    pub text: Cow<'static, str>,
}

impl SmtpReply {
    /// A reply; control characters in the text become spaces, so it stays one line.
    pub fn new(code: u16, status: EnhancedStatus, text: impl Into<Cow<'static, str>>) -> Self {
        let text = text.into();
        let text = if text.chars().any(char::is_control) {
            Cow::Owned(crate::text::one_line(&text))
        } else {
            text
        };
        SmtpReply { code, status, text }
    }

    /// A 2xx reply.
    pub fn is_positive(&self) -> bool {
        self.code / 100 == 2
    }

    /// A 4xx reply: try again later.
    pub fn is_transient(&self) -> bool {
        self.code / 100 == 4
    }

    /// A 5xx reply: do not try again.
    pub fn is_permanent(&self) -> bool {
        self.code / 100 == 5
    }
}

impl fmt::Display for SmtpReply {
    /// `550 5.1.1 text`, ready for an SMTP response line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.code, self.status, self.text)
    }
}
