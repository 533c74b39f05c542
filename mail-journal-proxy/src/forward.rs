//! The client side: hands each output over to Postfix's re-injection listener.
//!
//! One hand-over is one SMTP transaction on a pooled connection: `XFORWARD` (for the
//! original, when the listener offers it), `MAIL FROM`, one `RCPT TO` per recipient with
//! its DSN parameters (`NOTIFY=NEVER` for journal copies, `ORCPT=`), `DATA`, pipelined in
//! one write when the listener offers `PIPELINING`; then the message, dot-stuffed, and the
//! final reply, whose text (with Postfix's queue id) is returned. A hand-over succeeds
//! only when the listener accepted *every* recipient and the message: when one recipient
//! is refused after `DATA` was already accepted, the connection is dropped before the
//! terminating dot, so nothing is queued for a part of the recipients.
//!
//! A message's copies (the original, its journal copies, the DSN) go over one connection
//! with [`Forwarder::hand_over_all`]: with `PIPELINING` the next copy's commands travel
//! in the same write as the previous copy's terminating dot, and the first refusal stops
//! the copies after it.
//!
//! `mail-send` is not used: its client appends `CRLF.CRLF` to every message (adding an
//! empty line to the usual message that ends in CRLF), drops pipelined replies that
//! arrive in the same read as the first, writes unbuffered small pieces, takes one
//! contiguous buffer instead of the renderers' shared chunks, and pulls a TLS stack in
//! for a loopback hand-over. Replies are parsed with `smtp-proto`'s response parser.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use mail_journal::render::Rendered;
use mail_journal::{Notify, ReversePath};
use smtp_proto::Response;
use smtp_proto::response::parser::ResponseReceiver;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;

use crate::engine::OutputRecipient;
use crate::session::{Body, ClientInfo, Ret};

/// Where and how to hand over.
#[derive(Clone, Debug)]
pub struct ForwardConfig {
    /// The re-injection listener (Postfix's second smtpd, without filters).
    pub addr: SocketAddr,
    /// The name sent in `EHLO`.
    pub helo: String,
    /// Time allowed for connecting and for each command's reply.
    pub command_timeout: Duration,
    /// Time allowed for sending the message and reading the final reply.
    pub data_timeout: Duration,
    /// Idle connections kept for reuse.
    pub max_idle: usize,
    /// An idle connection older than this is closed instead of reused.
    pub idle_timeout: Duration,
}

impl ForwardConfig {
    /// Defaults for a listener at `addr`: 30 s per command, 60 s for the message, up to
    /// 32 idle connections kept for 5 s.
    pub fn new(addr: SocketAddr) -> Self {
        ForwardConfig {
            addr,
            helo: "mail-journal-proxy".into(),
            command_timeout: Duration::from_secs(30),
            data_timeout: Duration::from_secs(60),
            max_idle: 32,
            idle_timeout: Duration::from_secs(5),
        }
    }
}

/// One message to hand over.
#[derive(Clone, Copy, Debug)]
pub struct HandOver<'a> {
    /// `MAIL FROM`.
    pub reverse_path: &'a ReversePath,
    /// The recipients, each with NOTIFY and ORCPT.
    pub recipients: &'a [OutputRecipient],
    /// The bytes (not yet dot-stuffed).
    pub message: &'a Rendered,
    /// `BODY=` to declare.
    pub body: Body,
    /// `RET=` to pass on (the original only).
    pub ret: Option<Ret>,
    /// `ENVID=` to pass on (the original only).
    pub envid: Option<&'a str>,
    /// The original client, for `XFORWARD` (the original only).
    pub client: Option<&'a ClientInfo>,
}

/// The listener accepted the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The final reply, `250 2.0.0 Ok: queued as …`.
    pub reply: String,
    /// Postfix's queue id, when the reply names one.
    pub queue_id: Option<String>,
}

/// A hand-over that did not happen; the client must be told to retry (`451`).
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The listener could not be reached.
    #[error("cannot connect to the re-injection listener {addr}: {source}")]
    Connect {
        /// The listener.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// Reading or writing failed.
    #[error("re-injection connection failed during {stage}: {source}")]
    Io {
        /// The step (`greeting`, `EHLO`, `MAIL`, …).
        stage: &'static str,
        /// Why.
        source: io::Error,
    },
    /// The listener did not answer in time.
    #[error("re-injection listener timed out during {stage}")]
    Timeout {
        /// The step.
        stage: &'static str,
    },
    /// The listener refused a step.
    #[error("re-injection listener refused {stage}: {reply}")]
    Refused {
        /// The step (`MAIL`, `RCPT <addr>`, `DATA`, `end of data`).
        stage: String,
        /// Its reply.
        reply: String,
    },
    /// The listener lacks an extension the hand-over needs.
    #[error("re-injection listener does not offer {0} (configure its smtpd to offer it)")]
    Capability(&'static str),
    /// The listener's reply could not be parsed.
    #[error("re-injection listener sent an unparseable reply during {stage}")]
    Protocol {
        /// The step.
        stage: &'static str,
    },
}

impl ForwardError {
    /// Whether the failure happened before the listener answered anything of this
    /// transaction on a reused connection (so a retry on a new one cannot duplicate).
    fn is_stale(&self) -> bool {
        match self {
            ForwardError::Io { stage, .. } | ForwardError::Protocol { stage } => {
                !matches!(*stage, "message" | "end of data")
            }
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Caps {
    pipelining: bool,
    dsn: bool,
    eight_bit: bool,
    size: bool,
    xforward: bool,
}

struct Conn {
    stream: BufWriter<TcpStream>,
    parser: ResponseReceiver,
    pending: BytesMut,
    caps: Caps,
    idle_since: Instant,
}

fn reply_text(r: &Response<String>) -> String {
    let msg = r.message.replace('\n', " / ");
    if r.esc[0] == 0 {
        format!("{} {msg}", r.code)
    } else {
        format!("{} {}.{}.{} {msg}", r.code, r.esc[0], r.esc[1], r.esc[2])
    }
}

impl Conn {
    async fn read_reply(
        &mut self,
        stage: &'static str,
        limit: Duration,
    ) -> Result<Response<String>, ForwardError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if !self.pending.is_empty() {
                let mut it = self.pending.iter();
                let res = self.parser.parse(&mut it);
                let used = self.pending.len() - it.len();
                self.pending.advance(used);
                match res {
                    Ok(r) => {
                        self.parser.reset();
                        return Ok(r);
                    }
                    Err(smtp_proto::Error::NeedsMoreData { .. }) => {}
                    Err(_) => return Err(ForwardError::Protocol { stage }),
                }
            }
            self.pending.reserve(4096);
            let read = tokio::time::timeout_at(
                deadline,
                self.stream.get_mut().read_buf(&mut self.pending),
            );
            match read.await {
                Err(_) => return Err(ForwardError::Timeout { stage }),
                Ok(Err(source)) => return Err(ForwardError::Io { stage, source }),
                Ok(Ok(0)) => {
                    return Err(ForwardError::Io {
                        stage,
                        source: io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"),
                    });
                }
                Ok(Ok(_)) => {}
            }
        }
    }

    async fn write(
        &mut self,
        stage: &'static str,
        bytes: &[u8],
        limit: Duration,
    ) -> Result<(), ForwardError> {
        let w = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(limit, w).await {
            Err(_) => Err(ForwardError::Timeout { stage }),
            Ok(Err(source)) => Err(ForwardError::Io { stage, source }),
            Ok(Ok(())) => Ok(()),
        }
    }

    async fn open(cfg: &ForwardConfig) -> Result<Conn, ForwardError> {
        let stream =
            match tokio::time::timeout(cfg.command_timeout, TcpStream::connect(cfg.addr)).await {
                Err(_) => return Err(ForwardError::Timeout { stage: "connect" }),
                Ok(Err(source)) => {
                    return Err(ForwardError::Connect {
                        addr: cfg.addr,
                        source,
                    });
                }
                Ok(Ok(s)) => s,
            };
        let _ = stream.set_nodelay(true);
        let mut c = Conn {
            stream: BufWriter::with_capacity(64 * 1024, stream),
            parser: ResponseReceiver::default(),
            pending: BytesMut::with_capacity(4096),
            caps: Caps::default(),
            idle_since: Instant::now(),
        };
        let greeting = c.read_reply("greeting", cfg.command_timeout).await?;
        if greeting.code != 220 {
            return Err(ForwardError::Refused {
                stage: "greeting".into(),
                reply: reply_text(&greeting),
            });
        }
        c.write(
            "EHLO",
            format!("EHLO {}\r\n", cfg.helo).as_bytes(),
            cfg.command_timeout,
        )
        .await?;
        let ehlo = c.read_reply("EHLO", cfg.command_timeout).await?;
        if ehlo.code != 250 {
            return Err(ForwardError::Refused {
                stage: "EHLO".into(),
                reply: reply_text(&ehlo),
            });
        }
        for line in ehlo.message.lines().skip(1) {
            let kw = line
                .split_ascii_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            match kw.as_str() {
                "PIPELINING" => c.caps.pipelining = true,
                "DSN" => c.caps.dsn = true,
                "8BITMIME" => c.caps.eight_bit = true,
                "SIZE" => c.caps.size = true,
                "XFORWARD" => c.caps.xforward = true,
                _ => {}
            }
        }
        if !c.caps.dsn {
            return Err(ForwardError::Capability("DSN"));
        }
        Ok(c)
    }
}

/// RFC 3461 xtext: `+`, `=`, controls, space and non-ASCII as `+XX`.
fn xtext(out: &mut String, s: &str) {
    for b in s.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
}

fn notify_param(out: &mut String, n: Notify) {
    match n {
        Notify::Never => out.push_str(" NOTIFY=NEVER"),
        Notify::On {
            success,
            failure,
            delay,
        } if success || failure || delay => {
            let mut v = Vec::new();
            if success {
                v.push("SUCCESS");
            }
            if failure {
                v.push("FAILURE");
            }
            if delay {
                v.push("DELAY");
            }
            out.push_str(" NOTIFY=");
            out.push_str(&v.join(","));
        }
        _ => {}
    }
}

/// The commands of one transaction, each as one line.
fn commands(h: &HandOver<'_>, caps: Caps) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(h.recipients.len() + 3);
    if let (Some(c), true) = (h.client, caps.xforward) {
        let mut line = String::from("XFORWARD");
        for (k, v) in [
            ("NAME", &c.name),
            ("ADDR", &c.addr),
            ("PORT", &c.port),
            ("PROTO", &c.proto),
            ("HELO", &c.helo),
            ("SOURCE", &c.source),
        ] {
            if let Some(v) = v {
                line.push(' ');
                line.push_str(k);
                line.push('=');
                xtext(&mut line, v);
            }
        }
        if line.len() > "XFORWARD".len() && line.len() < 500 {
            line.push_str("\r\n");
            out.push(("XFORWARD".to_owned(), line));
        }
    }
    let mut mail = format!("MAIL FROM:{}", h.reverse_path);
    if caps.size {
        mail.push_str(&format!(" SIZE={}", h.message.len()));
    }
    match h.body {
        Body::EightBitMime if caps.eight_bit => mail.push_str(" BODY=8BITMIME"),
        Body::SevenBit => mail.push_str(" BODY=7BIT"),
        _ => {}
    }
    match h.ret {
        Some(Ret::Full) => mail.push_str(" RET=FULL"),
        Some(Ret::Hdrs) => mail.push_str(" RET=HDRS"),
        None => {}
    }
    if let Some(e) = h.envid {
        mail.push_str(" ENVID=");
        xtext(&mut mail, e);
    }
    mail.push_str("\r\n");
    out.push(("MAIL".to_owned(), mail));
    for r in h.recipients {
        let mut line = format!("RCPT TO:<{}>", r.address);
        notify_param(&mut line, r.notify);
        if let Some(o) = &r.orcpt {
            let (kind, addr) = o.split_once(';').unwrap_or(("rfc822", o));
            line.push_str(" ORCPT=");
            line.push_str(kind.trim());
            line.push(';');
            xtext(&mut line, addr.trim());
        }
        line.push_str("\r\n");
        out.push((format!("RCPT <{}>", r.address), line));
    }
    out.push(("DATA".to_owned(), "DATA\r\n".to_owned()));
    out
}

/// Writes the message dot-stuffed, then the terminating dot, into the buffer (the caller
/// flushes, after the next transaction's commands when it pipelines them).
async fn write_message(w: &mut BufWriter<TcpStream>, message: &Rendered) -> io::Result<()> {
    let mut at_line_start = true;
    let mut last = None;
    for chunk in message.chunks() {
        let mut rest = &chunk[..];
        if at_line_start && rest.first() == Some(&b'.') {
            w.write_all(b".").await?;
        }
        while let Some(p) = memchr::memmem::find(rest, b"\n.") {
            let (head, tail) = rest.split_at(p + 1);
            w.write_all(head).await?;
            w.write_all(b".").await?;
            rest = tail;
        }
        w.write_all(rest).await?;
        if let Some(l) = chunk.last() {
            last = Some(*l);
            at_line_start = *l == b'\n';
        }
    }
    match last {
        Some(b'\n') | None => w.write_all(b".\r\n").await,
        Some(_) => w.write_all(b"\r\n.\r\n").await,
    }
}

/// A hand-over that failed, and whether its connection can be reset and kept.
struct Fail {
    error: ForwardError,
    /// No `354` is outstanding: `RSET` returns the connection to a clean state.
    resettable: bool,
}

impl From<ForwardError> for Fail {
    fn from(error: ForwardError) -> Self {
        Fail {
            error,
            resettable: false,
        }
    }
}

/// One of several hand-overs failed; those before it were accepted (their copies are
/// queued).
#[derive(Debug)]
pub struct HandOverFailed {
    /// How many hand-overs were accepted before the failure.
    pub accepted: usize,
    /// Why the next one failed.
    pub error: ForwardError,
}

/// Hands messages over, keeping connections for reuse.
pub struct Forwarder {
    cfg: ForwardConfig,
    idle: Mutex<Vec<Conn>>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("addr", &self.cfg.addr)
            .finish()
    }
}

impl Forwarder {
    /// A forwarder to `cfg.addr`; it connects on first use.
    pub fn new(cfg: ForwardConfig) -> Self {
        Forwarder {
            cfg,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn checkout(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(c) = idle.pop() {
            if c.idle_since.elapsed() < self.cfg.idle_timeout {
                return Some(c);
            }
        }
        None
    }

    fn give_back(&self, mut c: Conn) {
        c.idle_since = Instant::now();
        if let Ok(mut idle) = self.idle.lock() {
            idle.retain(|c| c.idle_since.elapsed() < self.cfg.idle_timeout);
            if idle.len() < self.cfg.max_idle {
                idle.push(c);
            }
        }
    }

    /// Hands one message over: `Ok` only when every recipient and the message were
    /// accepted.
    pub async fn hand_over(&self, h: &HandOver<'_>) -> Result<Accepted, ForwardError> {
        let mut all = self
            .hand_over_all(std::slice::from_ref(h))
            .await
            .map_err(|f| f.error)?;
        all.pop().ok_or(ForwardError::Protocol {
            stage: "end of data",
        })
    }

    /// Hands several messages over, in order, on one connection: `Ok` with each one's
    /// acceptance only when every recipient and every message was accepted. When the
    /// listener offers `PIPELINING`, the next transaction's commands travel in the same
    /// write as the previous message's terminating dot (RFC 2920 lets message content
    /// open a group), so `n` copies cost `n + 1` round trips instead of `2n`. A failure
    /// stops there: the transaction after a refused one, already announced, is dropped
    /// with its connection before any of its content is sent, so it queues nothing.
    pub async fn hand_over_all(
        &self,
        hs: &[HandOver<'_>],
    ) -> Result<Vec<Accepted>, HandOverFailed> {
        let mut done = Vec::with_capacity(hs.len());
        if hs.is_empty() {
            return Ok(done);
        }
        let fail = |done: &Vec<Accepted>, error| HandOverFailed {
            accepted: done.len(),
            error,
        };
        if let Some(mut c) = self.checkout() {
            match self.transact(&mut c, hs, &mut done).await {
                Ok(()) => {
                    self.give_back(c);
                    return Ok(done);
                }
                Err(f) if done.is_empty() && f.error.is_stale() => {
                    tracing::debug!(cause = %f.error, "stale re-injection connection; retrying on a new one");
                }
                Err(f) => return Err(fail(&done, self.after_failure(c, f).await)),
            }
        }
        let mut c = Conn::open(&self.cfg).await.map_err(|e| fail(&done, e))?;
        match self.transact(&mut c, hs, &mut done).await {
            Ok(()) => {
                self.give_back(c);
                Ok(done)
            }
            Err(f) => Err(fail(&done, self.after_failure(c, f).await)),
        }
    }

    /// After a failed transaction: reset and keep the connection when nothing is
    /// outstanding on it, else drop it (after a `354` dropping it before the terminating
    /// dot is the only way not to queue for part of the recipients).
    async fn after_failure(&self, mut c: Conn, f: Fail) -> ForwardError {
        let t = self.cfg.command_timeout;
        if f.resettable
            && c.write("RSET", b"RSET\r\n", t).await.is_ok()
            && c.read_reply("RSET", t).await.is_ok_and(|r| r.code == 250)
        {
            self.give_back(c);
        }
        f.error
    }

    /// The transactions of `hs` on `c`, pipelined when the listener offers it; each
    /// accepted one is pushed to `done`.
    async fn transact(
        &self,
        c: &mut Conn,
        hs: &[HandOver<'_>],
        done: &mut Vec<Accepted>,
    ) -> Result<(), Fail> {
        let t = self.cfg.command_timeout;
        let Some(first) = hs.first() else {
            return Ok(());
        };
        let mut cmds = commands(first, c.caps);
        if c.caps.pipelining {
            let batch: String = cmds.iter().map(|(_, l)| l.as_str()).collect();
            c.write("MAIL", batch.as_bytes(), t).await?;
        }
        for (i, h) in hs.iter().enumerate() {
            if c.caps.pipelining {
                command_replies(c, &cmds, t).await?;
            } else {
                commands_one_by_one(c, &cmds, t).await?;
            }
            let next = match hs.get(i + 1) {
                Some(n) if c.caps.pipelining => commands(n, c.caps),
                _ => Vec::new(),
            };
            let sent = tokio::time::timeout(self.cfg.data_timeout, async {
                write_message(&mut c.stream, h.message).await?;
                for (_, line) in &next {
                    c.stream.write_all(line.as_bytes()).await?;
                }
                c.stream.flush().await
            });
            match sent.await {
                Err(_) => return Err(ForwardError::Timeout { stage: "message" }.into()),
                Ok(Err(source)) => {
                    return Err(ForwardError::Io {
                        stage: "message",
                        source,
                    }
                    .into());
                }
                Ok(Ok(())) => {}
            }
            let end = c.read_reply("end of data", self.cfg.data_timeout).await?;
            let text = reply_text(&end);
            if end.code / 100 != 2 {
                return Err(Fail {
                    error: ForwardError::Refused {
                        stage: "end of data".into(),
                        reply: text,
                    },
                    // The next transaction's commands are in flight: drop the connection.
                    resettable: next.is_empty(),
                });
            }
            let queue_id = end
                .message
                .split("queued as ")
                .nth(1)
                .and_then(|s| s.split_ascii_whitespace().next())
                .map(|s| s.trim_end_matches([')', '.', ',']).to_owned())
                .filter(|s| !s.is_empty());
            done.push(Accepted {
                reply: text,
                queue_id,
            });
            if let Some(n) = hs.get(i + 1) {
                cmds = if next.is_empty() {
                    commands(n, c.caps)
                } else {
                    next
                };
            }
        }
        Ok(())
    }
}

/// The replies to a transaction's pipelined commands: every one positive, `354` to
/// `DATA`.
async fn command_replies(c: &mut Conn, cmds: &[(String, String)], t: Duration) -> Result<(), Fail> {
    let mut failure: Option<ForwardError> = None;
    let mut data_ok = false;
    for (stage, _) in cmds {
        let reply = c.read_reply("MAIL", t).await?;
        let ok = if stage == "DATA" {
            reply.code == 354
        } else {
            reply.code / 100 == 2
        };
        if stage == "DATA" {
            data_ok = ok;
        }
        if !ok && failure.is_none() {
            failure = Some(ForwardError::Refused {
                stage: stage.clone(),
                reply: reply_text(&reply),
            });
        }
    }
    match failure {
        None => Ok(()),
        Some(error) => Err(Fail {
            error,
            resettable: !data_ok,
        }),
    }
}

/// A transaction's commands, each waiting for its reply (no `PIPELINING`).
async fn commands_one_by_one(
    c: &mut Conn,
    cmds: &[(String, String)],
    t: Duration,
) -> Result<(), Fail> {
    for (stage, line) in cmds {
        c.write("MAIL", line.as_bytes(), t).await?;
        let reply = c.read_reply("MAIL", t).await?;
        let data = stage == "DATA";
        let ok = if data {
            reply.code == 354
        } else {
            reply.code / 100 == 2
        };
        if !ok {
            return Err(Fail {
                error: ForwardError::Refused {
                    stage: stage.clone(),
                    reply: reply_text(&reply),
                },
                resettable: true,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;
    use mail_journal::Address;
    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;

    /// What the fake server does.
    #[derive(Clone, Default)]
    pub(crate) struct FakeOpts {
        pub no_pipelining: bool,
        pub no_dsn: bool,
        /// Refuse `RCPT TO` for this address.
        pub refuse_rcpt: Option<String>,
        /// Refuse the message at its end.
        pub refuse_data: bool,
        /// Close every connection after one transaction (a stale pooled connection).
        pub one_transaction: bool,
    }

    /// The conversation as the fake server saw it.
    #[derive(Default)]
    pub(crate) struct Seen {
        pub connections: AtomicUsize,
        pub lines: Mutex<Vec<String>>,
        /// Messages queued (after dot-unstuffing).
        pub queued: Mutex<Vec<Vec<u8>>>,
        /// Terminating dots that arrived with more input behind them (pipelined).
        pub pipelined_after_dot: AtomicUsize,
    }

    /// A tiny SMTP server on 127.0.0.1 (Postfix-like replies).
    pub(crate) async fn fake_server(opts: FakeOpts) -> (SocketAddr, Arc<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let s2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                s2.connections.fetch_add(1, Ordering::SeqCst);
                let seen = s2.clone();
                let opts = opts.clone();
                tokio::spawn(async move {
                    let (r, mut w) = sock.into_split();
                    let mut r = BufReader::new(r);
                    w.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                    let mut queue_n = 0;
                    let mut rcpt_ok = 0;
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        seen.lines.lock().unwrap().push(line.trim_end().to_owned());
                        let up = line.to_ascii_uppercase();
                        let reply: String = if up.starts_with("EHLO") {
                            let mut caps = String::from("250-fake\r\n");
                            if !opts.no_pipelining {
                                caps.push_str("250-PIPELINING\r\n");
                            }
                            if !opts.no_dsn {
                                caps.push_str("250-DSN\r\n");
                            }
                            caps.push_str("250-XFORWARD NAME ADDR PROTO HELO\r\n250 8BITMIME\r\n");
                            caps
                        } else if up.starts_with("RCPT") {
                            match &opts.refuse_rcpt {
                                Some(a) if line.contains(a.as_str()) => {
                                    "550 5.1.1 no such user\r\n".into()
                                }
                                _ => {
                                    rcpt_ok += 1;
                                    "250 2.1.5 Ok\r\n".into()
                                }
                            }
                        } else if up.starts_with("DATA") {
                            if rcpt_ok == 0 {
                                "554 5.5.1 Error: no valid recipients\r\n".into()
                            } else {
                                w.write_all(b"354 go ahead\r\n").await.unwrap();
                                let mut data = Vec::new();
                                loop {
                                    let mut l = Vec::new();
                                    if r.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                                        return; // dropped mid-DATA: nothing queued
                                    }
                                    if l == b".\r\n" {
                                        if !r.buffer().is_empty() {
                                            seen.pipelined_after_dot.fetch_add(1, Ordering::SeqCst);
                                        }
                                        break;
                                    }
                                    let l = if l.starts_with(b".") {
                                        l[1..].to_vec()
                                    } else {
                                        l
                                    };
                                    data.extend_from_slice(&l);
                                }
                                rcpt_ok = 0;
                                if opts.refuse_data {
                                    "554 5.7.1 content refused\r\n".into()
                                } else {
                                    queue_n += 1;
                                    seen.queued.lock().unwrap().push(data);
                                    format!("250 2.0.0 Ok: queued as Q{queue_n}\r\n")
                                }
                            }
                        } else if up.starts_with("RSET") {
                            rcpt_ok = 0;
                            "250 2.0.0 Ok\r\n".into()
                        } else if up.starts_with("QUIT") {
                            let _ = w.write_all(b"221 2.0.0 Bye\r\n").await;
                            return;
                        } else {
                            "250 2.0.0 Ok\r\n".into()
                        };
                        w.write_all(reply.as_bytes()).await.unwrap();
                        if opts.one_transaction && reply.contains("queued as") {
                            return;
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    fn rcpt(a: &str, notify: Notify, orcpt: Option<&str>) -> OutputRecipient {
        OutputRecipient::new(
            Address::parse(a).unwrap(),
            notify,
            orcpt.map(Arc::from),
            mail_journal::Route::Unroutable,
        )
    }

    fn msg(b: &'static [u8]) -> Rendered {
        Rendered::from_chunks([Bytes::from_static(&b[..5]), Bytes::from_static(&b[5..])])
    }

    fn over<'a>(
        rp: &'a ReversePath,
        rcpts: &'a [OutputRecipient],
        m: &'a Rendered,
    ) -> HandOver<'a> {
        HandOver {
            reverse_path: rp,
            recipients: rcpts,
            message: m,
            body: Body::EightBitMime,
            ret: None,
            envid: None,
            client: None,
        }
    }

    #[tokio::test]
    async fn a_pipelined_hand_over_with_dsn_parameters() {
        let (addr, seen) = fake_server(FakeOpts::default()).await;
        let f = Forwarder::new(ForwardConfig::new(addr));
        let rp = ReversePath::parse("<ndr@journal.internal>").unwrap();
        let rcpts = [
            rcpt("j1@journal.internal", Notify::Never, None),
            rcpt(
                "dave@example.com",
                Notify::Default,
                Some("rfc822;sales+x@example.com"),
            ),
        ];
        let m = msg(b"Subject: x\r\n\r\n.leading\r\nmid\r\n.\r\nlast\r\n");
        let client = ClientInfo {
            addr: Some("192.0.2.1".into()),
            name: Some("mx.partner.example".into()),
            ..ClientInfo::default()
        };
        let mut h = over(&rp, &rcpts, &m);
        h.client = Some(&client);
        h.envid = Some("id=1");
        let ok = f.hand_over(&h).await.unwrap();
        assert_eq!(ok.queue_id.as_deref(), Some("Q1"));
        assert!(
            ok.reply.starts_with("250 2.0.0 Ok: queued as Q1"),
            "{}",
            ok.reply
        );
        let lines = seen.lines.lock().unwrap().clone();
        assert_eq!(lines[1], "XFORWARD NAME=mx.partner.example ADDR=192.0.2.1");
        assert_eq!(
            lines[2],
            "MAIL FROM:<ndr@journal.internal> BODY=8BITMIME ENVID=id+3D1"
        );
        assert_eq!(lines[3], "RCPT TO:<j1@journal.internal> NOTIFY=NEVER");
        assert_eq!(
            lines[4],
            "RCPT TO:<dave@example.com> ORCPT=rfc822;sales+2Bx@example.com"
        );
        assert_eq!(
            seen.queued.lock().unwrap()[0],
            b"Subject: x\r\n\r\n.leading\r\nmid\r\n.\r\nlast\r\n",
            "byte for byte after unstuffing: no line added"
        );
    }

    #[tokio::test]
    async fn connections_are_reused_and_stale_ones_replaced() {
        let (addr, seen) = fake_server(FakeOpts::default()).await;
        let f = Forwarder::new(ForwardConfig::new(addr));
        let rp = ReversePath::Null;
        let rcpts = [rcpt("a@example.com", Notify::Default, None)];
        let m = msg(b"hello, no final line break");
        for _ in 0..3 {
            f.hand_over(&over(&rp, &rcpts, &m)).await.unwrap();
        }
        assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
        assert_eq!(
            seen.queued.lock().unwrap()[2],
            b"hello, no final line break\r\n"
        );

        let (addr, seen) = fake_server(FakeOpts {
            one_transaction: true,
            ..FakeOpts::default()
        })
        .await;
        let f = Forwarder::new(ForwardConfig::new(addr));
        for _ in 0..3 {
            f.hand_over(&over(&rp, &rcpts, &m)).await.unwrap();
        }
        assert_eq!(seen.connections.load(Ordering::SeqCst), 3);
        assert_eq!(seen.queued.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_refused_recipient_queues_nothing() {
        for no_pipelining in [false, true] {
            let opts = FakeOpts {
                refuse_rcpt: Some("bad@".into()),
                no_pipelining,
                ..FakeOpts::default()
            };
            let (addr, seen) = fake_server(opts).await;
            let f = Forwarder::new(ForwardConfig::new(addr));
            let rp = ReversePath::Null;
            let rcpts = [
                rcpt("good@example.com", Notify::Default, None),
                rcpt("bad@example.com", Notify::Default, None),
            ];
            let m = msg(b"hello\r\n");
            let e = f.hand_over(&over(&rp, &rcpts, &m)).await.unwrap_err();
            assert!(e.to_string().contains("RCPT <bad@example.com>"), "{e}");
            assert!(e.to_string().contains("550 5.1.1"), "{e}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(seen.queued.lock().unwrap().is_empty());
            // The next hand-over still works.
            let rcpts = [rcpt("good@example.com", Notify::Default, None)];
            f.hand_over(&over(&rp, &rcpts, &m)).await.unwrap();
            assert_eq!(seen.queued.lock().unwrap().len(), 1);
        }
    }

    #[tokio::test]
    async fn refusals_and_unreachable_listeners_are_errors() {
        let (addr, _) = fake_server(FakeOpts {
            refuse_data: true,
            ..FakeOpts::default()
        })
        .await;
        let f = Forwarder::new(ForwardConfig::new(addr));
        let rp = ReversePath::Null;
        let rcpts = [rcpt("a@example.com", Notify::Default, None)];
        let m = msg(b"hello\r\n");
        let e = f.hand_over(&over(&rp, &rcpts, &m)).await.unwrap_err();
        assert!(
            matches!(e, ForwardError::Refused { ref stage, .. } if stage == "end of data"),
            "{e}"
        );

        let (addr, _) = fake_server(FakeOpts {
            no_dsn: true,
            ..FakeOpts::default()
        })
        .await;
        let e = Forwarder::new(ForwardConfig::new(addr))
            .hand_over(&over(&rp, &rcpts, &m))
            .await
            .unwrap_err();
        assert!(matches!(e, ForwardError::Capability("DSN")), "{e}");

        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let e = Forwarder::new(ForwardConfig::new(addr))
            .hand_over(&over(&rp, &rcpts, &m))
            .await
            .unwrap_err();
        assert!(matches!(e, ForwardError::Connect { .. }), "{e}");
    }

    #[tokio::test]
    async fn copies_are_pipelined_on_one_connection() {
        for no_pipelining in [false, true] {
            let (addr, seen) = fake_server(FakeOpts {
                no_pipelining,
                ..FakeOpts::default()
            })
            .await;
            let f = Forwarder::new(ForwardConfig::new(addr));
            let rp = ReversePath::parse("<a@x.example>").unwrap();
            let ndr = ReversePath::parse("<ndr@journal.internal>").unwrap();
            let r1 = [
                rcpt("b@example.com", Notify::Default, None),
                rcpt("c@example.com", Notify::Default, None),
            ];
            let r2 = [rcpt("j@journal.internal", Notify::Never, None)];
            let m1 = msg(b"Subject: one\r\n\r\n.x\r\n");
            let m2 = msg(b"Subject: two\r\n\r\nreport\r\n");
            let done = f
                .hand_over_all(&[over(&rp, &r1, &m1), over(&ndr, &r2, &m2)])
                .await
                .unwrap();
            let ids: Vec<_> = done.iter().map(|a| a.queue_id.clone().unwrap()).collect();
            assert_eq!(ids, ["Q1", "Q2"]);
            assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
            let queued = seen.queued.lock().unwrap().clone();
            assert_eq!(queued[0], b"Subject: one\r\n\r\n.x\r\n");
            assert_eq!(queued[1], b"Subject: two\r\n\r\nreport\r\n");
            let lines = seen.lines.lock().unwrap().clone();
            assert_eq!(lines[5], "MAIL FROM:<ndr@journal.internal> BODY=8BITMIME");
            // With PIPELINING the second copy's commands came with the first's dot.
            assert_eq!(
                seen.pipelined_after_dot.load(Ordering::SeqCst),
                usize::from(!no_pipelining)
            );
            // The connection goes back to the pool and serves the next message.
            f.hand_over(&over(&rp, &r1, &m1)).await.unwrap();
            assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test]
    async fn a_refused_copy_stops_the_ones_after_it() {
        for no_pipelining in [false, true] {
            // The second copy's recipient is refused: the first is queued, the second not.
            let (addr, seen) = fake_server(FakeOpts {
                no_pipelining,
                refuse_rcpt: Some("j@journal".into()),
                ..FakeOpts::default()
            })
            .await;
            let f = Forwarder::new(ForwardConfig::new(addr));
            let rp = ReversePath::Null;
            let r1 = [rcpt("b@example.com", Notify::Default, None)];
            let r2 = [rcpt("j@journal.internal", Notify::Never, None)];
            let r3 = [rcpt("d@example.com", Notify::Default, None)];
            let m = msg(b"hello\r\n");
            let e = f
                .hand_over_all(&[over(&rp, &r1, &m), over(&rp, &r2, &m), over(&rp, &r3, &m)])
                .await
                .unwrap_err();
            assert_eq!(e.accepted, 1);
            assert!(
                e.error.to_string().contains("RCPT <j@journal.internal>"),
                "{}",
                e.error
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(seen.queued.lock().unwrap().len(), 1);
            assert!(
                !seen
                    .lines
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|l| l.contains("d@example.com")),
                "nothing of the third copy was sent"
            );

            // The first copy is refused at its end: the second, already announced when
            // pipelining, is dropped with the connection before its content.
            let (addr, seen) = fake_server(FakeOpts {
                no_pipelining,
                refuse_data: true,
                ..FakeOpts::default()
            })
            .await;
            let f = Forwarder::new(ForwardConfig::new(addr));
            let e = f
                .hand_over_all(&[over(&rp, &r1, &m), over(&rp, &r3, &m)])
                .await
                .unwrap_err();
            assert_eq!(e.accepted, 0);
            assert!(
                matches!(e.error, ForwardError::Refused { ref stage, .. } if stage == "end of data"),
                "{}",
                e.error
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(seen.queued.lock().unwrap().is_empty());
            let announced = seen
                .lines
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains("d@example.com"));
            assert_eq!(
                announced, !no_pipelining,
                "pipelined: announced, never sent"
            );
        }
    }

    #[test]
    fn xtext_and_notify() {
        let mut s = String::new();
        xtext(&mut s, "a+b=c d\u{e9}");
        assert_eq!(s, "a+2Bb+3Dc+20d+C3+A9");
        let mut s = String::new();
        notify_param(
            &mut s,
            Notify::On {
                success: false,
                failure: true,
                delay: true,
            },
        );
        assert_eq!(s, " NOTIFY=FAILURE,DELAY");
    }
}
