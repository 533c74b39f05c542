//! The organisation's accepted domains, compiled.

use crate::address::Address;
use crate::config::error::ConfigError;
use crate::hash::FxHashSet;

/// Accepted domains, compiled.
#[derive(Clone, Debug, Default)]
pub(crate) struct AcceptedDomains {
    exact: FxHashSet<Box<str>>,
    /// The exact domains again when there are only a few: comparing a handful of
    /// strings is cheaper than hashing one (most organisations have one or two).
    few: Option<Box<[Box<str>]>>,
    /// Suffixes including the leading dot (`.example.com`).
    suffixes: Vec<Box<str>>,
}

impl AcceptedDomains {
    pub(crate) fn build(domains: &[String]) -> Result<Self, ConfigError> {
        let mut out = AcceptedDomains::default();
        for d in domains {
            let bad = || ConfigError::AcceptedDomain { domain: d.clone() };
            let t = d.trim().to_ascii_lowercase();
            let (wild, name) = match t.strip_prefix("*.") {
                Some(rest) => (true, rest.to_owned()),
                None => (false, t),
            };
            Address::parse(&format!("x@{name}")).map_err(|_| bad())?;
            if wild {
                out.suffixes.push(format!(".{name}").into());
            } else {
                out.exact.insert(name.into());
            }
        }
        if out.exact.len() <= 4 {
            out.few = Some(out.exact.iter().cloned().collect());
        }
        Ok(out)
    }

    /// `domain` must already be lower-case (as [`Address::domain`] is).
    pub(crate) fn contains(&self, domain: &str) -> bool {
        let exact = match &self.few {
            Some(few) => few.iter().any(|d| **d == *domain),
            None => self.exact.contains(domain),
        };
        exact || self.suffixes.iter().any(|s| domain.ends_with(&**s))
    }
}
