//! The organisation's accepted domains, compiled.

use crate::address::Address;
use crate::config::error::ConfigError;
use crate::hash::FxHashSet;

/// Accepted domains, compiled.
#[derive(Clone, Debug, Default)]
pub(crate) struct AcceptedDomains {
    exact: FxHashSet<Box<str>>,
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
        Ok(out)
    }

    /// `domain` must already be lower-case (as [`Address::domain`] is).
    pub(crate) fn contains(&self, domain: &str) -> bool {
        self.exact.contains(domain) || self.suffixes.iter().any(|s| domain.ends_with(&**s))
    }
}
