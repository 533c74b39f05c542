//! The realistic inbound message every decide and render bench and gate case uses
//! (issue 10): a header block as it arrives from the Internet — several `Received`
//! lines, some folded, the usual originator and MIME fields — and a short body.
//!
//! Shared by `benches/common/mod.rs`; a bench that does not use `common` can include it
//! with `#[path = "common/message.rs"] mod message;`.
#![allow(dead_code)]

/// The message: 841 bytes, of which 773 are header block.
pub const MESSAGE: &[u8] =
    b"Received: from mail.partner.example (mail.partner.example [198.51.100.25])\r\n\
\tby mx1.example.com (Postfix) with ESMTPS id 4Xk2pQ1Zr7z9sT3\r\n\
\tfor <dave@example.com>; Sun, 22 Nov 2026 10:00:02 +0000 (UTC)\r\n\
Received: from [10.20.30.40] (laptop.partner.example [10.20.30.40])\r\n\
\tby mail.partner.example (Postfix) with ESMTPSA id 9F1C2A0042\r\n\
\tfor <dave@example.com>; Sun, 22 Nov 2026 10:00:01 +0000 (UTC)\r\n\
Received: by laptop.partner.example with local id 1234; Sun, 22 Nov 2026 10:00:00 +0000\r\n\
From: Bob Partner <bob@partner.example>\r\n\
To: Dave Brown <dave@example.com>\r\n\
Cc: Carol Jones <carol@example.com>\r\n\
Subject: Q3 numbers\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <20261122100000.1234@partner.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
The numbers are in, and they are looking good this quarter.\r\n\
\r\n\
Bob\r\n";

/// Length of the header block including the blank line.
pub const HEADER_LEN: usize = 773;
