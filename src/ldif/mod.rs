//! Directories from LDIF exports of Active Directory or an LDAP server (feature `ldif`).
//!
//! Two layers, both without I/O (the caller reads the file and passes its text):
//!
//! * `reader`: an RFC 2849 LDIF reader ([`parse_ldif`], [`LdifReader`]) and writer
//!   ([`write_ldif`]). It reads content records (what `ldapsearch -LLL` and `ldifde`
//!   export), borrows from the input wherever a value is written plainly, and reports
//!   errors with the source name, the line and the offending text.
//! * `mapping`: directory objects to [`EntryConfig`](crate::EntryConfig)s
//!   ([`directory_from_ldif`], [`LdifImport`], [`merge_directory`]). The mapping table is
//!   on [`directory_from_ldif`].
//!
//! Both modules are private; everything public is re-exported at the crate root.

pub(crate) mod error;
pub(crate) mod mapping;
pub(crate) mod reader;
