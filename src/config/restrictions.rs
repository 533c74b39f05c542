//! Delivery restrictions as configured: "Accept messages from" / "Reject messages from".

/// Delivery restrictions as configured: references to directory entries by name,
/// SMTP address or distinguished name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RestrictionsConfig {
    /// `None` accepts messages from everyone; `Some(list)` only from the listed senders.
    pub accept: Option<Vec<String>>,
    /// Senders whose messages are refused, whatever the accept list says.
    pub reject: Vec<String>,
}

impl RestrictionsConfig {
    /// No restriction: accept from all, reject none.
    pub fn none() -> Self {
        Self::default()
    }

    /// Accept only from the given senders.
    pub fn accept_only<I, S>(senders: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RestrictionsConfig {
            accept: Some(senders.into_iter().map(Into::into).collect()),
            reject: Vec::new(),
        }
    }

    /// Reject the given senders, accept everyone else.
    pub fn reject<I, S>(senders: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RestrictionsConfig {
            accept: None,
            reject: senders.into_iter().map(Into::into).collect(),
        }
    }

    /// Also rejects the given senders (reject wins over accept).
    ///
    /// ```
    /// use mail_journal::RestrictionsConfig;
    /// let r = RestrictionsConfig::accept_only(["Managers"]).and_reject(["Interns"]);
    /// assert_eq!(r.reject, vec!["Interns".to_string()]);
    /// ```
    pub fn and_reject<I, S>(mut self, senders: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.reject.extend(senders.into_iter().map(Into::into));
        self
    }

    /// `true` when nothing is restricted.
    pub fn is_unrestricted(&self) -> bool {
        self.accept.is_none() && self.reject.is_empty()
    }
}
