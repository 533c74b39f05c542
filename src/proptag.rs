//! MAPI property tags for the directory string properties a policy can read.
//!
//! Custom attribute N of an Exchange directory object is the MAPI property
//! `PR_EMS_AB_EXTENSION_ATTRIBUTE_N`. Its tag appears in three spellings, all accepted:
//!
//! * the registry DWORD of `InboundRecipJournalProp` / `OutboundRecipJournalProp`: the
//!   property id in the high word, 0 in the low word (`0x80360000` = custom attribute 10);
//! * the full tag with type `PT_STRING8` (`0x8036001E`) or `PT_UNICODE` (`0x8036001F`);
//! * the words `custom attribute 10` (also `extensionAttribute10`, `ca10`).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Property ids of custom attributes 1–15. 14 and 15 are not contiguous with 13.
const CUSTOM_ATTRIBUTE_IDS: [u16; 15] = [
    0x802D, 0x802E, 0x802F, 0x8030, 0x8031, 0x8032, 0x8033, 0x8034, 0x8035, 0x8036, 0x8C57, 0x8C58,
    0x8C59, 0x8C60, 0x8C61,
];

/// Other well-known string properties of directory objects that a policy may read.
const NAMED_STRING_PROPS: [(u16, &str); 6] = [
    (0x3001, "display name"),
    (0x3A00, "account"),
    (0x3A16, "company name"),
    (0x3A17, "title"),
    (0x3A18, "department name"),
    (0x3A19, "office location"),
];

/// A property tag that is not one the policy can read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PropTagError {
    /// The value is not a known string property in any accepted form.
    #[error("unknown property tag {input}; valid values: {valid}")]
    Unknown {
        /// The value as given (hex for numbers).
        input: String,
        /// The accepted values.
        valid: String,
    },
    /// `custom attribute N` with N outside 1–15.
    #[error("custom attribute {number} does not exist; valid numbers are 1-15")]
    CustomAttributeOutOfRange {
        /// The number given.
        number: u8,
    },
}

/// `PT_STRING8`, the 8-bit string property type.
pub const PT_STRING8: u16 = 0x001E;
/// `PT_UNICODE`, the UTF-16 string property type.
pub const PT_UNICODE: u16 = 0x001F;

/// A string property of a directory entry, identified by its MAPI property id.
///
/// ```
/// use mail_journal::PropTag;
/// let from_registry = PropTag::from_u32(0x8036_0000)?;
/// assert_eq!(from_registry, PropTag::custom_attribute(10)?);
/// assert_eq!(from_registry, PropTag::from_u32(0x8036_001F)?);
/// assert_eq!(from_registry, "custom attribute 10".parse()?);
/// assert_eq!(PropTag::custom_attribute(14)?.id(), 0x8C60);
/// assert!(PropTag::from_u32(0x1234_5678).is_err());
/// # Ok::<(), mail_journal::PropTagError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropTag {
    id: u16,
}

impl PropTag {
    /// Custom attribute `n` (1–15).
    pub fn custom_attribute(n: u8) -> Result<Self, PropTagError> {
        usize::from(n)
            .checked_sub(1)
            .and_then(|i| CUSTOM_ATTRIBUTE_IDS.get(i))
            .map(|&id| PropTag { id })
            .ok_or(PropTagError::CustomAttributeOutOfRange { number: n })
    }

    /// Accepts the registry form (`id << 16`) or a full string tag (`id << 16 | 0x001E`
    /// or `0x001F`) of a known property.
    pub fn from_u32(value: u32) -> Result<Self, PropTagError> {
        let id = (value >> 16) as u16;
        let kind = (value & 0xFFFF) as u16;
        if !matches!(kind, 0 | PT_STRING8 | PT_UNICODE) || !Self::is_known(id) {
            return Err(PropTagError::Unknown {
                input: format!("0x{value:08X}"),
                valid: Self::valid_forms(),
            });
        }
        Ok(PropTag { id })
    }

    fn is_known(id: u16) -> bool {
        CUSTOM_ATTRIBUTE_IDS.contains(&id) || NAMED_STRING_PROPS.iter().any(|(i, _)| *i == id)
    }

    fn valid_forms() -> String {
        let mut s = String::from("custom attributes 1-15 (");
        for (n, id) in CUSTOM_ATTRIBUTE_IDS.iter().enumerate() {
            if n > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("{}=0x{id:04X}0000", n + 1));
        }
        s.push_str("; low word 0x0000, 0x001E or 0x001F)");
        for (id, name) in NAMED_STRING_PROPS {
            s.push_str(&format!(", {name}=0x{id:04X}001E"));
        }
        s
    }

    /// The 16-bit MAPI property id (`0x8036` for custom attribute 10).
    pub fn id(self) -> u16 {
        self.id
    }

    /// The registry DWORD form: id in the high word, 0 in the low word.
    pub fn registry_value(self) -> u32 {
        u32::from(self.id) << 16
    }

    /// The full tag with the given string type ([`PT_STRING8`] or [`PT_UNICODE`]).
    pub fn tag(self, string_type: u16) -> u32 {
        self.registry_value() | u32::from(string_type)
    }

    /// The custom attribute number (1–15), if this is one.
    pub fn custom_attribute_number(self) -> Option<u8> {
        CUSTOM_ATTRIBUTE_IDS
            .iter()
            .position(|&id| id == self.id)
            .and_then(|i| u8::try_from(i + 1).ok())
    }
}

impl fmt::Display for PropTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.custom_attribute_number() {
            return write!(f, "custom attribute {n} (0x{:08X})", self.registry_value());
        }
        match NAMED_STRING_PROPS.iter().find(|(i, _)| *i == self.id) {
            Some((_, name)) => write!(f, "{name} (0x{:08X})", self.registry_value()),
            None => write!(f, "0x{:08X}", self.registry_value()),
        }
    }
}

impl FromStr for PropTag {
    type Err = PropTagError;

    /// Parses `0x80360000`, `0x8036001E`, `2151022592` (decimal), `custom attribute 10`,
    /// `customattribute10`, `extensionAttribute10`, `ca10` or a named property such as
    /// `department name`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let unknown = || PropTagError::Unknown {
            input: s.to_owned(),
            valid: Self::valid_forms(),
        };
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            let v = u32::from_str_radix(hex, 16).map_err(|_| unknown())?;
            return Self::from_u32(v).map_err(|_| unknown());
        }
        if let Ok(v) = t.parse::<u32>() {
            return Self::from_u32(v).map_err(|_| unknown());
        }
        let folded: String = t
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        for prefix in ["customattribute", "extensionattribute", "ca"] {
            if let Some(num) = folded.strip_prefix(prefix) {
                if let Ok(n) = num.parse::<u8>() {
                    return Self::custom_attribute(n);
                }
            }
        }
        for (id, name) in NAMED_STRING_PROPS {
            if name.replace(' ', "") == folded {
                return Ok(PropTag { id });
            }
        }
        Err(unknown())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_custom_attribute_in_all_three_forms() {
        for n in 1..=15u8 {
            let p = PropTag::custom_attribute(n).unwrap();
            assert_eq!(PropTag::from_u32(p.registry_value()).unwrap(), p);
            assert_eq!(PropTag::from_u32(p.tag(PT_STRING8)).unwrap(), p);
            assert_eq!(PropTag::from_u32(p.tag(PT_UNICODE)).unwrap(), p);
            assert_eq!(
                format!("custom attribute {n}").parse::<PropTag>().unwrap(),
                p
            );
            assert_eq!(p.custom_attribute_number(), Some(n));
        }
    }

    #[test]
    fn exact_ids_including_the_non_contiguous_ones() {
        let id = |n| PropTag::custom_attribute(n).unwrap().id();
        assert_eq!(id(1), 0x802D);
        assert_eq!(id(10), 0x8036);
        assert_eq!(id(13), 0x8C59);
        assert_eq!(id(14), 0x8C60);
        assert_eq!(id(15), 0x8C61);
        assert_eq!(
            PropTag::custom_attribute(10).unwrap().registry_value(),
            0x8036_0000
        );
    }

    #[test]
    fn unknown_values_are_named_and_the_valid_ones_listed() {
        let e = PropTag::from_u32(0x1234_5678).unwrap_err().to_string();
        assert!(e.contains("0x12345678"), "{e}");
        assert!(e.contains("10=0x80360000"), "{e}");
        assert!(e.contains("14=0x8C600000"), "{e}");
        // Right id, wrong type.
        assert!(PropTag::from_u32(0x8036_0003).is_err());
        assert!(PropTag::custom_attribute(0).is_err());
        assert!(PropTag::custom_attribute(16).is_err());
        assert!("custom attribute 16".parse::<PropTag>().is_err());
        assert!("0xZZ".parse::<PropTag>().is_err());
    }

    #[test]
    fn textual_forms() {
        let ca10 = PropTag::custom_attribute(10).unwrap();
        for s in [
            "0x80360000",
            "0X8036001e",
            "2151022592",
            "extensionAttribute10",
            "CA10",
            "Custom_Attribute 10",
        ] {
            assert_eq!(s.parse::<PropTag>().unwrap(), ca10, "{s}");
        }
        assert_eq!("department name".parse::<PropTag>().unwrap().id(), 0x3A18);
        assert_eq!(ca10.to_string(), "custom attribute 10 (0x80360000)");
    }
}
