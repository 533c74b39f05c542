//! Generates an Active Directory-style LDIF export of N directory objects (1 000 of them
//! distribution lists, a few nested, a few with delivery restrictions), then reads and
//! maps it with `directory_from_ldif` and builds the policy, printing the time of each
//! step and the process's peak resident memory, for the linearity check.
//!
//! `cargo run --release --example scale_ldif -- 100000`

use std::fmt::Write as _;
use std::time::Instant;

use mail_journal::{LdifOptions, PolicyConfig, directory_from_ldif, merge_directory};

const LISTS: usize = 1_000;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn user_dn(i: usize) -> String {
    format!(
        "CN=User {i:06},OU=People,OU=Branch {},DC=example,DC=com",
        i % 50
    )
}

fn list_dn(l: usize) -> String {
    format!("CN=List {l:04},OU=Groups,DC=example,DC=com")
}

/// The export, in the shape `ldapsearch -LLL` writes (long lines folded at 76 columns).
fn export(objects: usize) -> String {
    let lists = LISTS.min(objects / 2);
    let users = objects - lists;
    let mut out = String::with_capacity(objects * 900);
    let mut record = String::with_capacity(2048);
    let push = |record: &mut String, out: &mut String| {
        for line in record.lines() {
            let mut rest = line;
            let mut width = 76;
            while rest.len() > width {
                let (head, tail) = rest.split_at(width);
                out.push_str(head);
                out.push_str("\n ");
                rest = tail;
                width = 75;
            }
            out.push_str(rest);
            out.push('\n');
        }
        out.push('\n');
        record.clear();
    };
    for i in 0..users {
        let dn = user_dn(i);
        let _ = write!(
            record,
            "dn: {dn}\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\n\
             objectClass: user\ncn: User {i:06}\nsn: {i:06}\ngivenName: User\n\
             distinguishedName: {dn}\ninstanceType: 4\nwhenCreated: 20261101090000.0Z\n\
             objectGUID:: AAECAwQFBgcICQoLDA0ODw==\nsAMAccountName: user{i}\n\
             displayName: User {i:06}\nmail: user{i}@example.com\n\
             proxyAddresses: SMTP:user{i}@example.com\nproxyAddresses: smtp:u{i}@branch{}.example.com\n\
             proxyAddresses: X400:c=US;a= ;p=Example;o=HQ;s=User{i};\nmailNickname: user{i}\n\
             legacyExchangeDN: /o=Example/ou=HQ/cn=Recipients/cn=user{i}\n\
             homeMDB: CN=Mailbox Database 01,CN=Databases,CN=Exchange Administrative Group,CN=Administrative Groups,CN=Example,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=example,DC=com\n\
             msExchMailboxGuid:: AAECAwQFBgcICQoLDA0ODw==\nextensionAttribute1: Branch {}\n",
            i % 50,
            i % 50
        );
        if i % 100 == 0 {
            let _ = writeln!(
                record,
                "dLMemRejectPerms: {}",
                list_dn((i / 100) % lists.max(1))
            );
        }
        push(&mut record, &mut out);
    }
    for l in 0..lists {
        let _ = write!(
            record,
            "dn: {}\nobjectClass: top\nobjectClass: group\ncn: List {l:04}\nsAMAccountName: list{l}\n\
             groupType: 8\nmail: list{l}@example.com\nproxyAddresses: SMTP:list{l}@example.com\n\
             mailNickname: list{l}\nlegacyExchangeDN: /o=Example/ou=HQ/cn=Recipients/cn=list{l}\n",
            list_dn(l)
        );
        // Users are spread over the lists; every tenth list also holds the next two.
        for i in (l..users).step_by(lists) {
            let _ = writeln!(record, "member: {}", user_dn(i));
        }
        if l % 10 == 0 {
            for n in [l + 1, l + 2] {
                if n < lists {
                    let _ = writeln!(record, "member: {}", list_dn(n));
                }
            }
        }
        push(&mut record, &mut out);
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "100000".into())
        .parse()?;
    let text = export(n);
    let before = peak_rss_kib().unwrap_or(0);

    let t = Instant::now();
    let dir = directory_from_ldif("scale.ldif", &text, &LdifOptions::new())?;
    let mapped = t.elapsed();
    let records = dir.records;
    let after_map = peak_rss_kib().unwrap_or(0);

    let t = Instant::now();
    let mut cfg = PolicyConfig::new("example.com").accepted_domain("example.com");
    merge_directory(&mut cfg, "scale", dir)?;
    let policy = cfg.build()?;
    let built = t.elapsed();
    let after_build = peak_rss_kib().unwrap_or(0);

    println!(
        "objects={n} ldif={:.1}MB records={records} entries={} parse+map={:.3}s build={:.3}s total={:.3}s \
         peak_rss_after_generating={before}KiB after_map={after_map}KiB after_build={after_build}KiB",
        text.len() as f64 / 1e6,
        policy.entries().count(),
        mapped.as_secs_f64(),
        built.as_secs_f64(),
        (mapped + built).as_secs_f64(),
    );
    Ok(())
}
