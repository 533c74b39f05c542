//! Prints the decisions of the seed scenarios on the built-in demo policy.
//!
//! ```text
//! cargo run --example demo
//! ```

use mail_journal::{Envelope, Origin, Policy, Timestamp, demo};

const MESSAGE: &[u8] = b"From: Sender <sender@example.com>\r\n\
To: Recipient <rcpt@example.com>\r\n\
Subject: Q3 numbers\r\n\
Message-ID: <1234@example.com>\r\n\
\r\n\
The numbers are in.\r\n";

struct Sample {
    title: &'static str,
    inbound: Option<&'static str>,
    from: &'static str,
    to: &'static [&'static str],
    message: &'static [u8],
}

const SAMPLES: &[Sample] = &[
    Sample {
        title: "Q258557: alice's Internet mail leaves through the archiving connector",
        inbound: None,
        from: "<alice@example.com>",
        to: &["bob@partner.example"],
        message: MESSAGE,
    },
    Sample {
        title: "Q258557: carol's Internet mail leaves through the main connector, unarchived",
        inbound: None,
        from: "<carol@example.com>",
        to: &["bob@partner.example"],
        message: MESSAGE,
    },
    Sample {
        title: "Q262122 + per-recipient journaling: inbound mail to carol, dave and Sales",
        inbound: Some("IMS-Main"),
        from: "<bob@partner.example>",
        to: &["carol@example.com", "dave@example.com", "sales@example.com"],
        message: MESSAGE,
    },
    Sample {
        title: "No open relay, unknown users",
        inbound: Some("IMS-Main"),
        from: "<spammer@bad.example>",
        to: &[
            "victim@elsewhere.example",
            "nobody@example.com",
            "dave@example.com",
        ],
        message: MESSAGE,
    },
    Sample {
        title: "Restrictions: erin is on Managers and Interns; the CEO rejects Interns",
        inbound: None,
        from: "<erin@example.com>",
        to: &["ceo@example.com", "managers@example.com"],
        message: MESSAGE,
    },
    Sample {
        title: "Journal rule: mail to legal is copied to Legal-Journal",
        inbound: None,
        from: "<dave@example.com>",
        to: &["legal@example.com"],
        message: MESSAGE,
    },
    Sample {
        title: "Loop: the engine's own output (submitted, sender = a journal-NDR address, marker present) is not journaled again",
        inbound: None,
        from: "<outbound-journal-ndr@example.com>",
        to: &["dave@example.com"],
        message: b"X-MS-Journal-Report:\r\nSubject: journal report\r\n\r\n...\r\n",
    },
    Sample {
        title: "Evasion: the journal marker from the Internet is journaled and flagged",
        inbound: Some("IMS-Main"),
        from: "<outbound-journal-ndr@example.com>",
        to: &["carol@example.com"],
        message: b"X-MS-Journal-Report:\r\nSubject: nothing to see\r\n\r\n...\r\n",
    },
];

fn envelope(policy: &Policy, s: &Sample, n: usize) -> Result<Envelope, Box<dyn std::error::Error>> {
    let origin = match s.inbound {
        Some(name) => Origin::Inbound {
            connector: policy
                .connector_id(name)
                .ok_or_else(|| format!("no connector {name}"))?,
        },
        None => Origin::Submitted,
    };
    let mut b = Envelope::builder(origin, s.from)?;
    for r in s.to {
        b = b.recipient(r)?;
    }
    Ok(b.message(s.message)
        .received_at(Timestamp::from_unix(1_795_342_443))
        .envelope_id(format!("DEMO-{n}"))
        .build()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = demo::policy()?;
    println!("Demo organisation example.com (see mail_journal::demo).");
    println!("Audit:");
    for w in policy.audit() {
        println!("  - {w}");
    }
    for (n, s) in SAMPLES.iter().enumerate() {
        let env = envelope(&policy, s, n + 1)?;
        let origin = s
            .inbound
            .map_or("submitted".to_owned(), |c| format!("inbound on {c}"));
        println!("\n=== {}. {}", n + 1, s.title);
        println!(
            "MAIL FROM:{} ({origin}) RCPT TO: {}",
            s.from,
            s.to.join(", ")
        );
        print!("{}", policy.explain(&policy.decide(&env)));
    }
    Ok(())
}
