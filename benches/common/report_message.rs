//! A realistic inbound message for the renderer benches: a header block as mail from the
//! Internet carries it (three `Received` lines, `From` / `To` / `Cc` / `Subject` /
//! `Date` / `Message-ID` and MIME fields), about 840 bytes in all with its short body.
#![allow(dead_code)]

use bytes::Bytes;

pub const REPORT_MESSAGE: &[u8] =
    b"Received: from mail.partner.example (mail.partner.example [198.51.100.25])\r\n\
\tby mx1.example.com (Postfix) with ESMTPS id 4Xb2Lq0Zr9z1xyz\r\n\
\tfor <dave@example.com>; Sun, 22 Nov 2026 10:00:02 +0000 (UTC)\r\n\
Received: from laptop.partner.example (laptop.partner.example [192.0.2.77])\r\n\
\tby mail.partner.example (Postfix) with ESMTPSA id 9C1D2E3F4A\r\n\
\tfor <dave@example.com>; Sun, 22 Nov 2026 10:00:01 +0000 (UTC)\r\n\
Received: by laptop.partner.example with HTTP; Sun, 22 Nov 2026 10:00:00 +0000\r\n\
From: Bob Partner <bob@partner.example>\r\n\
To: Dave Example <dave@example.com>\r\n\
Cc: Carol Jones <carol@example.com>\r\n\
Subject: Q3 numbers for the board meeting\r\n\
Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <20261122100000.4Xb2Lq0Zr9z1xyz@mail.partner.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8; format=flowed\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Hi Dave,\r\n\
\r\n\
the Q3 numbers are in and they look good. Details follow in the board pack.\r\n\
\r\n\
Bob\r\n";

/// The realistic message padded with body lines to `size` bytes (its header block is
/// always whole).
pub fn report_original(size: usize) -> Bytes {
    let mut m = REPORT_MESSAGE.to_vec();
    while m.len() < size {
        m.extend_from_slice(b"The numbers are in, and they are looking good this quarter.\r\n");
    }
    m.truncate(size.max(REPORT_MESSAGE.len()));
    Bytes::from(m)
}
