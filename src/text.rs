//! Leaf helper: text that cannot break out of the line or header it is written into.

/// Replaces every control character (CR and LF included) with a space: the text can no
/// longer break out of the header or line it is written into.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
