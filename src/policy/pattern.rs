//! Address-space patterns of connectors: `*` matches any run of characters, `%` exactly
//! one; matched against the whole address, ASCII case-insensitively.

/// A compiled address-space pattern (lower-cased).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    text: Box<str>,
    exact: bool,
    literals: usize,
    shape: Shape,
}

/// The common shapes of a pattern, matched without the general glob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `*`: every address.
    All,
    /// `*` followed by literal text (`*@example.com`, `*.example.com`): a suffix.
    Suffix,
    /// No wildcard: the whole address.
    Exact,
    /// Anything else: the general glob.
    Glob,
}

impl Pattern {
    /// Validates and compiles a pattern.
    pub(crate) fn parse(pattern: &str) -> Result<Self, &'static str> {
        let p = pattern.trim();
        if p.is_empty() {
            return Err("empty pattern");
        }
        if p.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c))
        {
            return Err(
                "whitespace, control characters, quotes and angle brackets are not allowed",
            );
        }
        if !p.contains('@') && !p.starts_with('*') {
            return Err(
                "matches no address: a pattern without '@' must start with '*' (did you mean *@domain?)",
            );
        }
        if p.matches('@').count() > 1 {
            return Err("more than one '@'");
        }
        let literals = p.chars().filter(|c| *c != '*' && *c != '%').count();
        let wild = |t: &str| t.contains(['*', '%']);
        let shape = match p.strip_prefix('*') {
            Some("") => Shape::All,
            Some(rest) if !wild(rest) => Shape::Suffix,
            None if !wild(p) => Shape::Exact,
            _ => Shape::Glob,
        };
        Ok(Pattern {
            text: p.to_ascii_lowercase().into(),
            exact: !wild(p),
            literals,
            shape,
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Specificity: exact patterns first, then more literal characters.
    pub(crate) fn specificity(&self) -> (bool, usize) {
        (self.exact, self.literals)
    }

    /// Whether every address this pattern matches is matched by `other` too, as far as a
    /// literal reading of this pattern's text tells (`*` covers everything,
    /// `*@example.com` covers `bob@example.com` and `*@example.com`). An approximation for
    /// the audit: a `%` in `other` may cover one character where this pattern has a run.
    pub(crate) fn covered_by(&self, other: &Pattern) -> bool {
        other.matches(&self.text)
    }

    /// Whole-address, ASCII case-insensitive glob match.
    pub(crate) fn matches(&self, address: &str) -> bool {
        let (p, s) = (self.text.as_bytes(), address.as_bytes());
        match self.shape {
            Shape::All => true,
            Shape::Exact => p.eq_ignore_ascii_case(s),
            Shape::Suffix => {
                let suffix = p.get(1..).unwrap_or_default();
                s.len() >= suffix.len()
                    && s.get(s.len() - suffix.len()..)
                        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
            }
            Shape::Glob => glob(p, s),
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Iterative glob with single-star backtracking; `%` consumes one UTF-8 character.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = s.get(si) {
        let step = match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
                continue;
            }
            Some(b'%') => {
                let n = utf8_len(c);
                (si + n <= s.len()).then_some(n)
            }
            Some(&pc) if pc == c.to_ascii_lowercase() => Some(1),
            _ => None,
        };
        match (step, star) {
            (Some(n), _) => {
                pi += 1;
                si += n;
            }
            (None, Some((sp, ss))) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            (None, None) => return false,
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, a: &str) -> bool {
        Pattern::parse(p).unwrap().matches(a)
    }

    #[test]
    fn glob_semantics() {
        assert!(m("*", "bob@partner.example"));
        assert!(m("*@partner.example", "Bob@PARTNER.example"));
        assert!(!m("*@partner.example", "bob@sub.partner.example"));
        assert!(m("*.partner.example", "bob@sub.partner.example"));
        assert!(!m("*.partner.example", "bob@partner.example"));
        assert!(m("bob@partner.example", "BOB@partner.example"));
        assert!(!m("bob@partner.example", "bob@partner.example.org"));
        assert!(m("b%b@*", "bob@x.example"));
        assert!(!m("b%b@*", "boob@x.example"));
        assert!(m("%@*", "é@x.example"));
        assert!(m("*a*b*c", "xxaxxbxxc"));
        assert!(!m("*a*b*c", "xxaxxcxxb"));
    }

    #[test]
    fn shapes_agree_with_the_general_glob() {
        for p in [
            "*",
            "*@partner.example",
            "*.partner.example",
            "bob@partner.example",
            "b%b@*",
            "*a*",
        ] {
            let pat = Pattern::parse(p).unwrap();
            for a in [
                "bob@partner.example",
                "BOB@Sub.Partner.Example",
                "x@y",
                "a@partner.example.org",
                "é@x.example",
            ] {
                assert_eq!(
                    pat.matches(a),
                    glob(pat.as_str().as_bytes(), a.as_bytes()),
                    "{p} vs {a}"
                );
            }
        }
    }

    #[test]
    fn bad_patterns() {
        assert!(Pattern::parse("").is_err());
        assert!(Pattern::parse("partner.example").is_err());
        assert!(Pattern::parse("a b@c").is_err());
        assert!(Pattern::parse("a@b@c").is_err());
    }

    #[test]
    fn specificity_ordering() {
        let exact = Pattern::parse("bob@partner.example").unwrap();
        let domain = Pattern::parse("*@partner.example").unwrap();
        let any = Pattern::parse("*").unwrap();
        assert!(exact.specificity() > domain.specificity());
        assert!(domain.specificity() > any.specificity());
    }
}
