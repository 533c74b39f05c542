//! Leaf helper: text that cannot break out of the line or header it is written into.

/// Replaces every control character (CR and LF included) with a space: the text can no
/// longer break out of the header or line it is written into.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// [`one_line`] written onto `out`: copied as is when there is no control character.
pub(crate) fn push_one_line(out: &mut String, s: &str) {
    if s.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
        out.extend(s.chars().map(|c| if c.is_control() { ' ' } else { c }));
    } else {
        out.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_text_is_one_line() {
        for s in ["plain", "a\r\nb", "tab\there", "\u{85}next line", "für", ""] {
            let mut out = String::from(">");
            push_one_line(&mut out, s);
            assert_eq!(out, format!(">{}", one_line(s)));
        }
    }
}
