//! The SMTP server session as a plain state machine: fed bytes, it returns actions.
//!
//! No sockets, no clock, no runtime: the connection handler appends what it reads to a
//! buffer and calls [`Session::poll`] until it says [`Action::NeedInput`], writing every
//! [`Action::Reply`] it gets (replies to pipelined commands are batched that way). At the
//! end of `DATA` the session hands out the whole transaction as [`Action::Deliver`] and
//! waits; the handler decides and hands the copies over, then reports the outcome with
//! [`Session::delivered`], which returns the final reply (`250` only when everything was
//! accepted). Recipient verdicts come from a [`Transactions`] implementation, so tests
//! drive the session with a fake policy.
//!
//! ```
//! use bytes::BytesMut;
//! use mail_journal::{Address, ReversePath};
//! use mail_journal_proxy::session::{Action, Reply, Session, SessionConfig, Transactions};
//!
//! struct AcceptAll;
//! impl Transactions for AcceptAll {
//!     type Txn = ();
//!     fn begin(&mut self, _: &ReversePath) -> Result<(), Reply> { Ok(()) }
//!     fn check_rcpt(&mut self, _: &mut (), _: &Address) -> Reply { Reply::new(250, "2.1.5 Ok") }
//! }
//!
//! let mut s = Session::new(SessionConfig::default().into());
//! let mut input = BytesMut::from(&b"EHLO client\r\nMAIL FROM:<a@example.com>\r\n"[..]);
//! assert!(matches!(s.poll(&mut input, &mut AcceptAll), Action::Reply(r) if r.code == 250));
//! assert!(matches!(s.poll(&mut input, &mut AcceptAll), Action::Reply(r) if r.code == 250));
//! assert!(matches!(s.poll(&mut input, &mut AcceptAll), Action::NeedInput));
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use mail_journal::{Address, Notify, Recipient, ReversePath};
use smtp_proto::{
    Error as ParseError, MAIL_BODY_8BITMIME, MAIL_BODY_BINARYMIME, MAIL_REQUIRETLS, MAIL_RET_FULL,
    MAIL_RET_HDRS, MAIL_SMTPUTF8, RCPT_NOTIFY_DELAY, RCPT_NOTIFY_FAILURE, RCPT_NOTIFY_NEVER,
    RCPT_NOTIFY_SUCCESS, Request,
};

/// Limits and names of a session.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// The host name in the greeting and the EHLO reply.
    pub hostname: Arc<str>,
    /// The largest message accepted, in bytes (announced as `SIZE`).
    pub max_message_size: usize,
    /// The longest command line, in bytes.
    pub max_line: usize,
    /// `RCPT` commands per transaction before every further one gets `452 4.5.3`.
    pub max_rcpt_commands: usize,
    /// Protocol errors (unknown commands, bad syntax, bad sequence) before `421`.
    pub max_errors: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            hostname: Arc::from("localhost"),
            max_message_size: 50 * 1024 * 1024,
            max_line: 4096,
            max_rcpt_commands: 10_000,
            max_errors: 20,
        }
    }
}

/// An SMTP reply: a code and one or more lines of text (each with its enhanced status
/// code, when it has one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The basic code.
    pub code: u16,
    /// The lines, without the code.
    pub lines: Vec<Cow<'static, str>>,
}

impl Reply {
    /// A one-line reply, `code text`.
    pub fn new(code: u16, text: impl Into<Cow<'static, str>>) -> Self {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    /// A multi-line reply.
    pub fn multiline(code: u16, lines: Vec<Cow<'static, str>>) -> Self {
        Reply { code, lines }
    }

    /// From the library's reply type (`550 5.1.1 text`).
    pub fn from_smtp(r: &mail_journal::SmtpReply) -> Self {
        Reply::new(r.code, format!("{} {}", r.status, one_line(&r.text)))
    }

    /// Whether it is a `2xx` reply.
    pub fn is_positive(&self) -> bool {
        self.code / 100 == 2
    }

    /// The reply on the wire: `code-line` … `code line`, CRLF each.
    pub fn write_to(&self, out: &mut BytesMut) {
        let last = self.lines.len().saturating_sub(1);
        if self.lines.is_empty() {
            out.extend_from_slice(format!("{} \r\n", self.code).as_bytes());
        }
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.extend_from_slice(format!("{}{sep}{}\r\n", self.code, one_line(line)).as_bytes());
        }
    }

    /// The first line, for logs.
    pub fn text(&self) -> String {
        format!(
            "{} {}",
            self.code,
            self.lines.first().map(|l| &**l).unwrap_or_default()
        )
    }
}

/// Control characters become spaces, so a reply stays one line.
fn one_line(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// Recipient verdicts for the session: one value per transaction.
pub trait Transactions {
    /// The per-transaction state (the policy snapshot and the recipient count).
    type Txn;
    /// `MAIL FROM` was given: start a transaction, or refuse it with a reply.
    fn begin(&mut self, reverse_path: &ReversePath) -> Result<Self::Txn, Reply>;
    /// The verdict for one `RCPT TO`; a `2xx` reply accepts the recipient.
    fn check_rcpt(&mut self, txn: &mut Self::Txn, address: &Address) -> Reply;
}

/// What the client told about the original client with `XFORWARD` (Postfix sends it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// `NAME`: the client's host name.
    pub name: Option<String>,
    /// `ADDR`: the client's IP address.
    pub addr: Option<String>,
    /// `PORT`: the client's port.
    pub port: Option<String>,
    /// `PROTO`: `SMTP` or `ESMTP`.
    pub proto: Option<String>,
    /// `HELO`: the client's HELO/EHLO name.
    pub helo: Option<String>,
    /// `IDENT`: the original queue id, if any.
    pub ident: Option<String>,
    /// `SOURCE`: `LOCAL` or `REMOTE`.
    pub source: Option<String>,
}

impl ClientInfo {
    /// Whether anything was forwarded.
    pub fn is_empty(&self) -> bool {
        *self == ClientInfo::default()
    }

    fn set(&mut self, key: &str, value: String) -> bool {
        let slot = match key.to_ascii_uppercase().as_str() {
            "NAME" => &mut self.name,
            "ADDR" => &mut self.addr,
            "PORT" => &mut self.port,
            "PROTO" => &mut self.proto,
            "HELO" => &mut self.helo,
            "IDENT" => &mut self.ident,
            "SOURCE" => &mut self.source,
            _ => return false,
        };
        // Postfix sends [UNAVAILABLE] / [TEMPUNAVAIL] for what it does not know.
        *slot = if value.starts_with('[') && value.ends_with(']') && !value.contains(':') {
            if value.eq_ignore_ascii_case("[UNAVAILABLE]")
                || value.eq_ignore_ascii_case("[TEMPUNAVAIL]")
            {
                None
            } else {
                Some(value)
            }
        } else {
            Some(value)
        };
        true
    }
}

/// `BODY=` of `MAIL FROM`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Body {
    /// Not given.
    #[default]
    Unspecified,
    /// `BODY=7BIT`.
    SevenBit,
    /// `BODY=8BITMIME`.
    EightBitMime,
}

/// `RET=` of `MAIL FROM` (RFC 3461).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// `RET=FULL`.
    Full,
    /// `RET=HDRS`.
    Hdrs,
}

/// The parameters of `MAIL FROM` worth passing on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailParams {
    /// `BODY=`.
    pub body: Body,
    /// `RET=`.
    pub ret: Option<Ret>,
    /// `ENVID=`, decoded.
    pub envid: Option<String>,
    /// `SIZE=` (0 when not given).
    pub size: usize,
}

/// A complete transaction, handed out at the end of `DATA`.
#[derive(Debug)]
pub struct Message<T> {
    /// The transaction state from [`Transactions::begin`].
    pub txn: T,
    /// `MAIL FROM`.
    pub reverse_path: ReversePath,
    /// Its parameters.
    pub params: MailParams,
    /// The accepted recipients, in order, with their DSN parameters.
    pub recipients: Vec<Recipient>,
    /// The message, dot-unstuffed, as received.
    pub data: Bytes,
    /// What `XFORWARD` told about the original client.
    pub client: ClientInfo,
}

/// What the handler must do next.
#[derive(Debug)]
pub enum Action<T> {
    /// Write this reply (further actions may follow).
    Reply(Reply),
    /// The transaction is complete: decide, hand over, then call [`Session::delivered`].
    /// No further input is processed until then.
    Deliver(Box<Message<T>>),
    /// Write this reply and close the connection.
    Close(Reply),
    /// Flush the replies written so far and read more input.
    NeedInput,
}

struct Txn<T> {
    state: T,
    reverse_path: ReversePath,
    params: MailParams,
    recipients: Vec<Recipient>,
    rcpt_commands: usize,
}

/// `DATA` in progress: dot-unstuffing state.
struct Data {
    body: BytesMut,
    /// The next byte starts a line (the previous line ended with CRLF).
    at_line_start: bool,
    /// The last byte taken was CR.
    last_cr: bool,
    /// The message grew past the size limit: the rest is read and dropped.
    overflow: bool,
}

enum Phase {
    Command,
    Data(Data),
    Delivering,
    Closed,
}

/// One SMTP server session (see the module documentation).
pub struct Session<T> {
    config: Arc<SessionConfig>,
    phase: Phase,
    greeted: bool,
    client: ClientInfo,
    txn: Option<Txn<T>>,
    errors: u32,
    discarding_line: bool,
}

impl<T> std::fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("greeted", &self.greeted)
            .field("in_transaction", &self.txn.is_some())
            .field("errors", &self.errors)
            .finish()
    }
}

fn r(code: u16, text: &'static str) -> Reply {
    Reply::new(code, text)
}

impl<T> Session<T> {
    /// A new session; write [`Session::greeting`] first.
    pub fn new(config: Arc<SessionConfig>) -> Self {
        Session {
            config,
            phase: Phase::Command,
            greeted: false,
            client: ClientInfo::default(),
            txn: None,
            errors: 0,
            discarding_line: false,
        }
    }

    /// The `220` greeting.
    pub fn greeting(&self) -> Reply {
        Reply::new(
            220,
            format!("{} ESMTP mail-journal-proxy", self.config.hostname),
        )
    }

    /// Whether a mail transaction is open (between `MAIL FROM` and its final reply).
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some() || matches!(self.phase, Phase::Data(_) | Phase::Delivering)
    }

    /// Whether the session is closed (after `QUIT`, an error limit or a shutdown).
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// The daemon is shutting down: the reply to send before closing (`421 4.3.2`).
    pub fn shutdown(&mut self) -> Reply {
        self.phase = Phase::Closed;
        self.txn = None;
        r(421, "4.3.2 Service shutting down, try again later")
    }

    /// The outcome of [`Action::Deliver`]: the reply to give to the end of `DATA`. The
    /// session is ready for the next transaction.
    pub fn delivered(&mut self, reply: Reply) -> Reply {
        if matches!(self.phase, Phase::Delivering) {
            self.phase = Phase::Command;
        }
        self.txn = None;
        reply
    }

    /// Processes buffered input (consuming what it used) and returns the next action.
    pub fn poll<X: Transactions<Txn = T>>(&mut self, input: &mut BytesMut, x: &mut X) -> Action<T> {
        loop {
            match &mut self.phase {
                Phase::Closed | Phase::Delivering => return Action::NeedInput,
                Phase::Data(_) => {
                    if let Some(a) = self.poll_data(input) {
                        return a;
                    }
                    if matches!(self.phase, Phase::Data(_)) {
                        return Action::NeedInput;
                    }
                }
                Phase::Command => {
                    let Some(end) = memchr::memchr(b'\n', input) else {
                        if input.len() > self.config.max_line {
                            input.clear();
                            self.discarding_line = true;
                        }
                        return Action::NeedInput;
                    };
                    let line = input.split_to(end + 1);
                    if std::mem::take(&mut self.discarding_line)
                        || line.len() > self.config.max_line
                    {
                        return self.error(r(500, "5.5.2 Error: line too long"));
                    }
                    return self.command(&line, x);
                }
            }
        }
    }

    /// Counts a protocol error; past the limit the session closes.
    fn error(&mut self, reply: Reply) -> Action<T> {
        self.errors += 1;
        if self.errors >= self.config.max_errors {
            self.phase = Phase::Closed;
            self.txn = None;
            return Action::Close(r(421, "4.7.0 Error: too many errors"));
        }
        Action::Reply(reply)
    }

    fn reset(&mut self) {
        self.txn = None;
    }

    fn command<X: Transactions<Txn = T>>(&mut self, line: &[u8], x: &mut X) -> Action<T> {
        if let Some(rest) = strip_verb(line, b"XFORWARD") {
            return self.xforward(rest);
        }
        let request = match Request::parse(&mut line.iter()) {
            Ok(req) => req,
            Err(e) => return self.error(parse_error(e)),
        };
        match request {
            Request::Ehlo { host: _ } => {
                self.greeted = true;
                self.reset();
                let c = &self.config;
                Action::Reply(Reply::multiline(
                    250,
                    vec![
                        Cow::Owned(c.hostname.to_string()),
                        "PIPELINING".into(),
                        Cow::Owned(format!("SIZE {}", c.max_message_size)),
                        "8BITMIME".into(),
                        "DSN".into(),
                        "ENHANCEDSTATUSCODES".into(),
                        "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE".into(),
                    ],
                ))
            }
            Request::Helo { host: _ } => {
                self.greeted = true;
                self.reset();
                Action::Reply(Reply::new(250, self.config.hostname.to_string()))
            }
            Request::Mail { from } => {
                if !self.greeted {
                    return self.error(r(503, "5.5.1 Error: send HELO/EHLO first"));
                }
                if self.txn.is_some() {
                    return self.error(r(503, "5.5.1 Error: nested MAIL command"));
                }
                if from.flags & MAIL_SMTPUTF8 != 0 {
                    return self.error(r(555, "5.5.4 Unsupported option: SMTPUTF8"));
                }
                if from.flags & MAIL_BODY_BINARYMIME != 0 {
                    return self.error(r(555, "5.5.4 Unsupported option: BODY=BINARYMIME"));
                }
                if from.flags & MAIL_REQUIRETLS != 0 {
                    return self.error(r(555, "5.5.4 Unsupported option: REQUIRETLS"));
                }
                if from.size > self.config.max_message_size {
                    return Action::Reply(r(552, "5.3.4 Message size exceeds fixed limit"));
                }
                let Ok(reverse_path) = ReversePath::parse(&from.address) else {
                    return self.error(r(501, "5.1.7 Bad sender address syntax"));
                };
                let params = MailParams {
                    body: if from.flags & MAIL_BODY_8BITMIME != 0 {
                        Body::EightBitMime
                    } else if from.flags & smtp_proto::MAIL_BODY_7BIT != 0 {
                        Body::SevenBit
                    } else {
                        Body::Unspecified
                    },
                    ret: if from.flags & MAIL_RET_FULL != 0 {
                        Some(Ret::Full)
                    } else if from.flags & MAIL_RET_HDRS != 0 {
                        Some(Ret::Hdrs)
                    } else {
                        None
                    },
                    envid: from.env_id.map(|e| e.into_owned()),
                    size: from.size,
                };
                match x.begin(&reverse_path) {
                    Ok(state) => {
                        self.txn = Some(Txn {
                            state,
                            reverse_path,
                            params,
                            recipients: Vec::new(),
                            rcpt_commands: 0,
                        });
                        Action::Reply(r(250, "2.1.0 Ok"))
                    }
                    Err(reply) => Action::Reply(reply),
                }
            }
            Request::Rcpt { to } => {
                let max = self.config.max_rcpt_commands;
                let Some(txn) = self.txn.as_mut() else {
                    return self.error(r(503, "5.5.1 Error: need MAIL command"));
                };
                txn.rcpt_commands += 1;
                if txn.rcpt_commands > max {
                    return self.error(r(452, "4.5.3 Error: too many recipients"));
                }
                let Ok(address) = Address::parse(&to.address) else {
                    return self.error(r(501, "5.1.3 Bad recipient address syntax"));
                };
                let reply = x.check_rcpt(&mut txn.state, &address);
                if reply.is_positive() {
                    let mut rcpt = Recipient::new(address).notify(notify(to.flags));
                    if let Some(o) = to.orcpt {
                        rcpt = rcpt.orcpt(format!("rfc822;{o}"));
                    }
                    txn.recipients.push(rcpt);
                }
                Action::Reply(reply)
            }
            Request::Data => match &self.txn {
                None => self.error(r(503, "5.5.1 Error: need RCPT command")),
                Some(t) if t.recipients.is_empty() => {
                    self.error(r(554, "5.5.1 Error: no valid recipients"))
                }
                Some(_) => {
                    self.phase = Phase::Data(Data {
                        body: BytesMut::with_capacity(8192),
                        at_line_start: true,
                        last_cr: false,
                        overflow: false,
                    });
                    Action::Reply(r(354, "End data with <CR><LF>.<CR><LF>"))
                }
            },
            Request::Bdat { .. } => {
                // Without CHUNKING the chunk would be read as commands: never do that.
                self.phase = Phase::Closed;
                self.txn = None;
                Action::Close(r(421, "4.5.0 Error: BDAT without CHUNKING; closing"))
            }
            Request::Rset => {
                self.reset();
                Action::Reply(r(250, "2.0.0 Ok"))
            }
            Request::Noop { .. } => Action::Reply(r(250, "2.0.0 Ok")),
            Request::Quit => {
                self.phase = Phase::Closed;
                self.txn = None;
                Action::Close(r(221, "2.0.0 Bye"))
            }
            Request::Vrfy { .. } => Action::Reply(r(252, "2.5.2 Cannot VRFY user")),
            Request::Help { .. } => Action::Reply(r(214, "2.0.0 See RFC 5321")),
            Request::Lhlo { .. }
            | Request::Expn { .. }
            | Request::StartTls
            | Request::Auth { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.error(r(502, "5.5.1 Error: command not implemented")),
        }
    }

    fn xforward(&mut self, rest: &[u8]) -> Action<T> {
        if self.txn.is_some() {
            return self.error(r(503, "5.5.1 Error: MAIL transaction in progress"));
        }
        let Ok(text) = std::str::from_utf8(rest) else {
            return self.error(r(501, "5.5.4 Bad XFORWARD attribute"));
        };
        let mut info = self.client.clone();
        let mut any = false;
        for item in text.split_ascii_whitespace() {
            let Some((key, value)) = item.split_once('=') else {
                return self.error(r(501, "5.5.4 Bad XFORWARD attribute"));
            };
            if !info.set(key, xtext_decode(value)) {
                return self.error(r(501, "5.5.4 Bad XFORWARD attribute name"));
            }
            any = true;
        }
        if !any {
            return self.error(r(501, "5.5.4 Syntax: XFORWARD attribute=value..."));
        }
        self.client = info;
        Action::Reply(r(250, "2.0.0 Ok"))
    }

    /// Dot-unstuffing; returns an action at the end of the message.
    fn poll_data(&mut self, input: &mut BytesMut) -> Option<Action<T>> {
        let max = self.config.max_message_size;
        let Phase::Data(d) = &mut self.phase else {
            return None;
        };
        loop {
            if input.is_empty() {
                return None;
            }
            if d.at_line_start && input.first() == Some(&b'.') {
                match input.get(1..3) {
                    Some(b"\r\n") => {
                        let _ = input.split_to(3);
                        return Some(self.end_of_data());
                    }
                    None if input.get(1).is_none_or(|c| *c == b'\r') => return None,
                    _ => {
                        // A stuffed dot: drop it, keep the rest of the line.
                        let _ = input.split_to(1);
                        d.at_line_start = false;
                        d.last_cr = false;
                        continue;
                    }
                }
            }
            // Everything up to the next possible line-start dot is plain content.
            let (take, next_at_start) = match memchr::memmem::find(input, b"\n.") {
                Some(p) => {
                    let cr = if p == 0 {
                        d.last_cr
                    } else {
                        input.get(p - 1) == Some(&b'\r')
                    };
                    (p + 1, cr)
                }
                None => {
                    let n = input.len();
                    let ends_crlf = match n {
                        1 => d.last_cr && input.first() == Some(&b'\n'),
                        _ => input.get(n - 2..) == Some(b"\r\n"),
                    };
                    (n, ends_crlf)
                }
            };
            let chunk = input.split_to(take);
            d.last_cr = chunk.last() == Some(&b'\r');
            d.at_line_start = next_at_start;
            if !d.overflow {
                if d.body.len() + chunk.len() > max {
                    d.overflow = true;
                    d.body = BytesMut::new();
                } else {
                    d.body.extend_from_slice(&chunk);
                }
            }
        }
    }

    fn end_of_data(&mut self) -> Action<T> {
        let phase = std::mem::replace(&mut self.phase, Phase::Command);
        let Phase::Data(d) = phase else {
            return Action::Reply(r(451, "4.3.0 Error: internal state"));
        };
        if d.overflow {
            self.txn = None;
            return Action::Reply(r(552, "5.3.4 Message size exceeds fixed limit"));
        }
        let Some(t) = self.txn.take() else {
            return Action::Reply(r(451, "4.3.0 Error: internal state"));
        };
        self.phase = Phase::Delivering;
        Action::Deliver(Box::new(Message {
            txn: t.state,
            reverse_path: t.reverse_path,
            params: t.params,
            recipients: t.recipients,
            data: d.body.freeze(),
            client: self.client.clone(),
        }))
    }
}

fn notify(flags: u64) -> Notify {
    if flags & RCPT_NOTIFY_NEVER != 0 {
        Notify::Never
    } else if flags & (RCPT_NOTIFY_SUCCESS | RCPT_NOTIFY_FAILURE | RCPT_NOTIFY_DELAY) != 0 {
        Notify::On {
            success: flags & RCPT_NOTIFY_SUCCESS != 0,
            failure: flags & RCPT_NOTIFY_FAILURE != 0,
            delay: flags & RCPT_NOTIFY_DELAY != 0,
        }
    } else {
        Notify::Default
    }
}

/// `line` without its verb, when it starts with `verb` (case-insensitive) and a space or
/// the line end; CRLF removed.
fn strip_verb<'a>(line: &'a [u8], verb: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..verb.len())?;
    if !head.eq_ignore_ascii_case(verb) {
        return None;
    }
    let rest = line.get(verb.len()..)?;
    let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
    let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
    match rest.first() {
        None => Some(rest),
        Some(b' ' | b'\t') => rest.get(1..),
        Some(_) => None,
    }
}

/// RFC 3461 xtext: `+XX` is a hex-encoded byte.
fn xtext_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'+' {
            if let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_error(e: ParseError) -> Reply {
    match e {
        ParseError::UnknownCommand => r(500, "5.5.2 Error: command not recognized"),
        ParseError::InvalidSenderAddress => r(501, "5.1.7 Bad sender address syntax"),
        ParseError::InvalidRecipientAddress => r(501, "5.1.3 Bad recipient address syntax"),
        ParseError::SyntaxError { syntax } => Reply::new(501, format!("5.5.4 Syntax: {syntax}")),
        ParseError::InvalidParameter { param } => {
            Reply::new(501, format!("5.5.4 Invalid parameter {param}"))
        }
        ParseError::UnsupportedParameter { param } => Reply::new(
            555,
            format!("5.5.4 Unsupported option: {}", one_line(&param)),
        ),
        _ => r(500, "5.5.2 Error: bad syntax"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake policy: `*@example.com` accepted except `nobody@`, every other domain
    /// refused as a relay attempt, `<blocked@…>` senders refused at MAIL.
    #[derive(Default)]
    struct Fake {
        begun: usize,
    }

    impl Transactions for Fake {
        type Txn = usize;
        fn begin(&mut self, rp: &ReversePath) -> Result<usize, Reply> {
            if rp.address().is_some_and(|a| a.local_part() == "blocked") {
                return Err(r(550, "5.7.1 sender refused"));
            }
            self.begun += 1;
            Ok(0)
        }
        fn check_rcpt(&mut self, n: &mut usize, a: &Address) -> Reply {
            if a.domain() != "example.com" {
                return r(550, "5.7.1 Relaying denied");
            }
            if a.local_part() == "nobody" {
                return r(550, "5.1.1 User unknown");
            }
            *n += 1;
            r(250, "2.1.5 Ok")
        }
    }

    fn cfg() -> Arc<SessionConfig> {
        Arc::new(SessionConfig {
            hostname: "proxy.test".into(),
            max_message_size: 100,
            max_line: 200,
            max_rcpt_commands: 5,
            max_errors: 4,
        })
    }

    /// Everything the session does with `input`: the replies as `code` lines, and the
    /// delivered messages (answered with `answer`).
    fn run(
        s: &mut Session<usize>,
        input: &[u8],
        answer: u16,
    ) -> (Vec<String>, Vec<Message<usize>>) {
        let mut buf = BytesMut::from(input);
        let mut fake = Fake::default();
        let mut replies = Vec::new();
        let mut delivered = Vec::new();
        loop {
            match s.poll(&mut buf, &mut fake) {
                Action::Reply(r) => replies.push(r.text()),
                Action::Close(r) => {
                    replies.push(r.text());
                    break;
                }
                Action::NeedInput => break,
                Action::Deliver(m) => {
                    delivered.push(*m);
                    replies.push(s.delivered(Reply::new(answer, "x")).text());
                }
            }
        }
        (replies, delivered)
    }

    fn codes(replies: &[String]) -> Vec<u16> {
        replies.iter().map(|r| r[..3].parse().unwrap()).collect()
    }

    #[test]
    fn a_pipelined_transaction() {
        let mut s = Session::new(cfg());
        assert_eq!(s.greeting().code, 220);
        let (replies, msgs) = run(
            &mut s,
            b"EHLO c\r\nMAIL FROM:<a@x.example> BODY=8BITMIME RET=HDRS ENVID=q+2B1\r\n\
              RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.com\r\n\
              RCPT TO:<nobody@example.com>\r\nRCPT TO:<c@relay.example>\r\nRCPT TO:<d@example.com> NOTIFY=NEVER\r\n\
              DATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n",
            250,
        );
        assert_eq!(
            codes(&replies),
            [250, 250, 250, 550, 550, 250, 354, 250, 221]
        );
        assert!(replies[0].contains("proxy.test"));
        let m = &msgs[0];
        assert_eq!(m.data, Bytes::from_static(b"Subject: hi\r\n\r\nbody\r\n"));
        assert_eq!(m.reverse_path.to_string(), "<a@x.example>");
        assert_eq!(m.params.body, Body::EightBitMime);
        assert_eq!(m.params.ret, Some(Ret::Hdrs));
        assert_eq!(m.params.envid.as_deref(), Some("q+1"));
        assert_eq!(m.recipients.len(), 2);
        assert_eq!(
            m.recipients[0].orcpt.as_deref(),
            Some("rfc822;b@example.com")
        );
        assert_eq!(
            m.recipients[0].notify,
            Notify::On {
                success: true,
                failure: true,
                delay: false
            }
        );
        assert_eq!(m.recipients[1].notify, Notify::Never);
        assert_eq!(m.txn, 2, "the transaction counted two accepted recipients");
        assert!(s.is_closed());
    }

    #[test]
    fn the_ehlo_reply_announces_what_postfix_needs() {
        let mut s = Session::new(cfg());
        let mut buf = BytesMut::from(&b"EHLO postfix\r\n"[..]);
        let Action::Reply(reply) = s.poll(&mut buf, &mut Fake::default()) else {
            panic!()
        };
        let mut out = BytesMut::new();
        reply.write_to(&mut out);
        let text = String::from_utf8(out.to_vec()).unwrap();
        for cap in [
            "250-PIPELINING\r\n",
            "250-SIZE 100\r\n",
            "250-DSN\r\n",
            "250-8BITMIME\r\n",
            "250 XFORWARD NAME ADDR",
        ] {
            assert!(text.contains(cap), "{cap} in {text}");
        }
        assert!(!text.contains("CHUNKING") && !text.contains("SMTPUTF8"));
    }

    #[test]
    fn bytes_arriving_one_at_a_time_give_the_same_result() {
        let input = b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n..leading dot\r\n..\r\n\r\n.x\r\nend\r\n.\r\nRSET\r\n";
        let mut s = Session::new(cfg());
        let mut fake = Fake::default();
        let mut buf = BytesMut::new();
        let mut replies = Vec::new();
        let mut data = None;
        for b in input {
            buf.extend_from_slice(&[*b]);
            loop {
                match s.poll(&mut buf, &mut fake) {
                    Action::Reply(r) => replies.push(r.code),
                    Action::Deliver(m) => {
                        data = Some(m.data);
                        replies.push(s.delivered(r(250, "2.0.0 Ok")).code);
                    }
                    Action::NeedInput => break,
                    Action::Close(_) => panic!("closed"),
                }
            }
        }
        assert_eq!(replies, [250, 250, 250, 354, 250, 250]);
        assert_eq!(
            data.unwrap(),
            Bytes::from_static(b".leading dot\r\n.\r\n\r\nx\r\nend\r\n")
        );
    }

    #[test]
    fn dot_stuffing_and_the_terminator() {
        let mut s = Session::new(cfg());
        let (_, msgs) = run(
            &mut s,
            b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n.\r\n",
            250,
        );
        assert_eq!(msgs[0].data, Bytes::new(), "an empty message");
        // A bare LF before a dot is not a line start (no smuggled end of data), and a
        // line of one dot inside a stuffed line is content.
        let mut s = Session::new(cfg());
        let (replies, msgs) = run(
            &mut s,
            b"HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.com>\r\nDATA\r\na\n.\r\nb\r\n..\r\n.\r\n",
            250,
        );
        assert_eq!(codes(&replies), [250, 250, 250, 354, 250]);
        assert_eq!(msgs[0].data, Bytes::from_static(b"a\n.\r\nb\r\n.\r\n"));
    }

    #[test]
    fn commands_out_of_sequence() {
        let mut s = Session::new(cfg());
        let (replies, _) = run(
            &mut s,
            b"MAIL FROM:<a@x.example>\r\nEHLO c\r\nRCPT TO:<b@example.com>\r\nDATA\r\nFROB\r\nNOOP\r\n",
            250,
        );
        // The fourth error closes the session (max_errors = 4).
        assert_eq!(codes(&replies), [503, 250, 503, 503, 421]);
        assert!(s.is_closed());
    }

    #[test]
    fn data_without_accepted_recipients_and_nested_mail() {
        let mut s = Session::new(cfg());
        let (replies, msgs) = run(
            &mut s,
            b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<nobody@example.com>\r\nDATA\r\nRSET\r\nNOOP\r\n",
            250,
        );
        assert_eq!(codes(&replies), [250, 250, 503, 550, 554, 250, 250]);
        assert!(msgs.is_empty());
        assert!(!s.in_transaction());
    }

    #[test]
    fn a_refused_sender_and_bad_syntax() {
        let mut s = Session::new(cfg());
        let (replies, _) = run(
            &mut s,
            b"EHLO c\r\nMAIL FROM:<blocked@x.example>\r\nMAIL FROM:<no-at-sign>\r\nMAIL FROM:<a@x.example> SMTPUTF8\r\nMAIL FROM:<a@x.example> FROB=1\r\nFOO\r\n",
            250,
        );
        // A refusal by the policy is not a protocol error; the fourth protocol error closes.
        assert_eq!(codes(&replies), [250, 550, 501, 555, 555, 421]);
    }

    #[test]
    fn an_rcpt_flood_is_bounded() {
        let mut s = Session::new(Arc::new(SessionConfig {
            max_errors: 100,
            ..(*cfg()).clone()
        }));
        let mut input = b"EHLO c\r\nMAIL FROM:<a@x.example>\r\n".to_vec();
        for i in 0..50 {
            input.extend_from_slice(format!("RCPT TO:<u{i}@example.com>\r\n").as_bytes());
        }
        let (replies, _) = run(&mut s, &input, 250);
        let c = codes(&replies);
        assert_eq!(c.iter().filter(|c| **c == 250).count(), 2 + 5);
        assert_eq!(c.iter().filter(|c| **c == 452).count(), 45);
        // And with the usual error limit the flood ends the session.
        let mut s = Session::new(cfg());
        let (replies, _) = run(&mut s, &input, 250);
        assert!(replies.last().unwrap().starts_with("421"));
        assert!(replies.len() < 15);
    }

    #[test]
    fn a_huge_message_is_read_to_its_end_and_refused() {
        let mut s = Session::new(cfg());
        let mut input =
            b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n".to_vec();
        for _ in 0..100 {
            input.extend_from_slice(b"0123456789012345678901234567890123456789\r\n");
        }
        input.extend_from_slice(
            b".\r\nMAIL FROM:<a@x.example> SIZE=101\r\nMAIL FROM:<a@x.example> SIZE=99\r\n",
        );
        let (replies, msgs) = run(&mut s, &input, 250);
        assert_eq!(codes(&replies), [250, 250, 250, 354, 552, 552, 250]);
        assert!(msgs.is_empty());
    }

    #[test]
    fn a_long_command_line_is_refused_without_buffering_it() {
        let mut s = Session::new(cfg());
        let mut fake = Fake::default();
        let mut buf = BytesMut::from(&b"EHLO "[..]);
        buf.extend_from_slice(&[b'x'; 300]);
        assert!(matches!(s.poll(&mut buf, &mut fake), Action::NeedInput));
        assert!(buf.is_empty(), "the over-long line was dropped");
        buf.extend_from_slice(b"yyy\r\nNOOP\r\n");
        assert!(matches!(s.poll(&mut buf, &mut fake), Action::Reply(r) if r.code == 500));
        assert!(matches!(s.poll(&mut buf, &mut fake), Action::Reply(r) if r.code == 250));
    }

    #[test]
    fn xforward_is_kept_and_passed_on() {
        let mut s = Session::new(cfg());
        let (replies, msgs) = run(
            &mut s,
            b"EHLO c\r\nXFORWARD NAME=mx.partner.example ADDR=192.0.2.7 PROTO=ESMTP\r\nxforward HELO=[UNAVAILABLE] SOURCE=REMOTE PORT=4711\r\n\
              XFORWARD BOGUS=1\r\nMAIL FROM:<a@x.example>\r\nXFORWARD ADDR=1.2.3.4\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\n",
            250,
        );
        assert_eq!(
            codes(&replies),
            [250, 250, 250, 501, 250, 503, 250, 354, 250]
        );
        let c = &msgs[0].client;
        assert_eq!(c.addr.as_deref(), Some("192.0.2.7"));
        assert_eq!(c.name.as_deref(), Some("mx.partner.example"));
        assert_eq!(c.helo, None);
        assert_eq!(c.port.as_deref(), Some("4711"));
    }

    #[test]
    fn a_failed_hand_over_gives_its_reply_and_the_session_goes_on() {
        let mut s = Session::new(cfg());
        let (replies, msgs) = run(
            &mut s,
            b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nMAIL FROM:<a@x.example>\r\n",
            451,
        );
        assert_eq!(codes(&replies), [250, 250, 250, 354, 451, 250]);
        assert_eq!(msgs.len(), 1);
    }

    #[test]
    fn input_after_the_end_of_data_waits_for_the_verdict() {
        let mut s = Session::new(cfg());
        let mut fake = Fake::default();
        let mut buf = BytesMut::from(
            &b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n"[..],
        );
        for _ in 0..4 {
            assert!(matches!(s.poll(&mut buf, &mut fake), Action::Reply(_)));
        }
        assert!(matches!(s.poll(&mut buf, &mut fake), Action::Deliver(_)));
        assert!(s.in_transaction());
        assert!(
            matches!(s.poll(&mut buf, &mut fake), Action::NeedInput),
            "QUIT waits"
        );
        assert_eq!(&buf[..], b"QUIT\r\n");
        assert_eq!(s.delivered(r(250, "2.0.0 Ok")).code, 250);
        assert!(matches!(s.poll(&mut buf, &mut fake), Action::Close(r) if r.code == 221));
    }

    #[test]
    fn bdat_without_chunking_closes() {
        let mut s = Session::new(cfg());
        let (replies, _) = run(
            &mut s,
            b"EHLO c\r\nMAIL FROM:<>\r\nBDAT 5 LAST\r\nQUIT\r\n",
            250,
        );
        assert_eq!(codes(&replies), [250, 250, 421]);
    }

    #[test]
    fn shutdown_and_unsupported_commands() {
        let mut s = Session::new(cfg());
        let (replies, _) = run(&mut s, b"EHLO c\r\nVRFY x\r\nSTARTTLS\r\nHELP\r\n", 250);
        assert_eq!(codes(&replies), [250, 252, 502, 214]);
        assert_eq!(s.shutdown().code, 421);
        assert!(s.is_closed());
    }

    #[test]
    fn replies_are_one_line_each() {
        let mut out = BytesMut::new();
        Reply::new(550, "5.7.1 evil\r\n250 ok").write_to(&mut out);
        assert_eq!(&out[..], b"550 5.7.1 evil  250 ok\r\n");
        assert_eq!(xtext_decode("a+2Bb+3d+zz"), "a+b=+zz");
    }
}
