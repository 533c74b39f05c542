//! The accept loop, the per-connection handler, and what happens at the end of `DATA`.
//!
//! After tokio's mini-redis: a [`Listener`] owns the accept loop (a semaphore caps the
//! connections, accept errors back off 1, 2, 4 … 64 s); each connection gets a handler
//! that moves bytes between the socket and its [`Session`]; a shutdown signal (a `watch`
//! channel) makes idle sessions say `421` and close, while a session inside a
//! transaction finishes it first — a message whose copies are being handed over is never
//! cut off before its final reply. Every handler holds a clone of a completion sender,
//! so `main` knows when the last one is gone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use mail_journal::{Address, ReversePath};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::engine::{self, ListenerOrigin, OutputKind, Transaction};
use crate::forward::{ForwardError, Forwarder, HandOver};
use crate::reload::PolicyHandle;
use crate::session::{Action, Message, Reply, Session, SessionConfig, Transactions};
use crate::store::{HandOverRecord, Record, Store};

/// What every connection shares.
#[derive(Debug)]
pub struct Shared {
    /// The policy in force.
    pub policy: Arc<PolicyHandle>,
    /// The client to the re-injection listener.
    pub forwarder: Forwarder,
    /// Archive and tracking.
    pub store: Store,
    /// Session limits.
    pub session: Arc<SessionConfig>,
    /// This node's name (in envelope ids).
    pub node: String,
    /// Time allowed between two reads from a client.
    pub read_timeout: Duration,
    ids: AtomicU64,
    pid: u32,
}

impl Shared {
    /// Shared state for the listeners.
    pub fn new(
        policy: Arc<PolicyHandle>,
        forwarder: Forwarder,
        store: Store,
        session: Arc<SessionConfig>,
        node: String,
    ) -> Self {
        Shared {
            policy,
            forwarder,
            store,
            session,
            node,
            read_timeout: Duration::from_secs(300),
            ids: AtomicU64::new(0),
            pid: std::process::id(),
        }
    }

    /// A new envelope id: node, microseconds since the epoch, process id and a counter,
    /// so ids stay unique across restarts and nodes.
    fn next_id(&self) -> String {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        format!("{}-{micros:x}-{:x}-{n:x}", self.node, self.pid)
    }

    /// The end of `DATA`: decide, hand every copy over, make the records durable, and
    /// return the reply — `250` only when all of that succeeded, `451` otherwise.
    pub async fn deliver(&self, m: Box<Message<Transaction>>, origin: &ListenerOrigin) -> Reply {
        let m = *m;
        let temp = |text: &'static str| Reply::new(451, text);
        let now = engine::now();
        let id = self.next_id();
        let client = m.client.addr.clone().unwrap_or_default();
        let (envelope, decision) = match m.txn.decide(m.recipients, m.data, now, &id) {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(envelope_id = %id, error = %e, "envelope refused by the engine");
                return temp("4.3.0 Error: local error in processing");
            }
        };
        let policy = m.txn.policy();
        if m.txn.origin() != mail_journal::Origin::Submitted && !engine::any_accepted(&decision) {
            // Every recipient accepted at RCPT time was refused now (a limit reached
            // over the whole envelope): refuse in the dialogue, never bounce.
            let first = engine::rejections(&decision).into_iter().next();
            return first.map_or_else(
                || Reply::new(554, "5.5.1 Error: no valid recipients"),
                |(_, r)| Reply::from_smtp(&r),
            );
        }
        let outputs = match engine::outputs(policy, &envelope, &decision, now) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(envelope_id = %id, error = %e, "cannot hand over a copy");
                return temp("4.3.5 Error: a copy has no delivery address; try again later");
            }
        };
        let mut archive = Vec::new();
        let mut copies = Vec::with_capacity(outputs.len());
        let mut hs = Vec::with_capacity(outputs.len());
        for o in &outputs {
            if let OutputKind::Archive { storage_key, .. } = &o.kind {
                archive.push((storage_key.clone(), o.message.clone()));
                continue;
            }
            let original = matches!(o.kind, OutputKind::Delivery | OutputKind::Transfer { .. });
            copies.push(o);
            hs.push(HandOver {
                reverse_path: &o.reverse_path,
                recipients: &o.recipients,
                message: &o.message,
                body: m.params.body,
                ret: if original { m.params.ret } else { None },
                envid: if original {
                    m.params.envid.as_deref()
                } else {
                    None
                },
                client: if original { Some(&m.client) } else { None },
            });
        }
        // All copies on one connection, pipelined: the original first, then the journal
        // copies and the DSN.
        let accepted = match self.forwarder.hand_over_all(&hs).await {
            Ok(a) => a,
            Err(f) => {
                let kind = copies
                    .get(f.accepted)
                    .map_or("output", |o| engine::kind_name(&o.kind));
                tracing::error!(
                    envelope_id = %id,
                    output = kind,
                    handed_over = f.accepted,
                    error = %f.error,
                    "hand-over failed; the client is told to retry"
                );
                return temp(match f.error {
                    ForwardError::Connect { .. } | ForwardError::Timeout { .. } => {
                        "4.4.1 Error: queue temporarily unavailable, try again later"
                    }
                    _ => "4.3.0 Error: queue hand-over failed, try again later",
                });
            }
        };
        let handovers: Vec<HandOverRecord> = copies
            .iter()
            .zip(accepted)
            .map(|(o, acc)| HandOverRecord {
                kind: engine::kind_name(&o.kind),
                reverse_path: o.reverse_path.to_string(),
                recipients: o.recipients.iter().map(|r| r.address.to_string()).collect(),
                reply: acc.reply,
                queue_id: acc.queue_id,
                // A journal copy's hand-over is sealed under the sender the decision's
                // obligations name (the address, without brackets).
                journal: match (&o.kind, o.reverse_path.address()) {
                    (OutputKind::Journal { .. }, Some(a)) => {
                        Some((a.to_string(), o.message.clone()))
                    }
                    _ => None,
                },
            })
            .collect();
        let record = Record {
            envelope_id: id.clone(),
            received_at: now,
            message: envelope.message().clone(),
            obligations: engine::obligations(policy, &envelope, &decision),
            archive,
            tracking: engine::tracking_rows(policy, &envelope, &decision),
            handovers,
        };
        let queued: Vec<&str> = record
            .handovers
            .iter()
            .map(|h| h.queue_id.as_deref().unwrap_or("?"))
            .collect();
        let queued = queued.join(",");
        let copies = record.handovers.len();
        let archived = record.archive.len();
        let committed = match self.store.commit(record).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(envelope_id = %id, error = %e, "store failed; the client is told to retry");
                return temp("4.3.0 Error: cannot store the message records, try again later");
            }
        };
        tracing::info!(
            envelope_id = %id,
            origin = %origin,
            client = %client,
            from = %envelope.reverse_path(),
            recipients = envelope.recipients().len(),
            copies,
            archived,
            sealed_at = committed.seq,
            queued = %queued,
            "accepted"
        );
        Reply::new(250, format!("2.0.0 Ok: queued as {id}"))
    }
}

struct Txns<'a> {
    shared: &'a Shared,
    origin: &'a ListenerOrigin,
}

impl Transactions for Txns<'_> {
    type Txn = Transaction;

    fn begin(&mut self, reverse_path: &ReversePath) -> Result<Transaction, Reply> {
        let policy = self.shared.policy.current();
        match self.origin.resolve(&policy) {
            Some(origin) => Ok(Transaction::new(policy, origin, reverse_path.clone())),
            None => Err(Reply::new(
                451,
                "4.3.5 Error: receiving connector not configured",
            )),
        }
    }

    fn check_rcpt(&mut self, txn: &mut Transaction, address: &Address) -> Reply {
        Reply::from_smtp(&txn.check_rcpt(address))
    }
}

/// One listening socket and the origin of the mail it receives.
#[derive(Debug)]
pub struct Listener {
    /// The socket.
    pub listener: TcpListener,
    /// What the mail is.
    pub origin: ListenerOrigin,
    /// Shared state.
    pub shared: Arc<Shared>,
    /// Caps connections (shared by all listeners).
    pub limit: Arc<Semaphore>,
    /// Becomes `true` on shutdown.
    pub shutdown: watch::Receiver<bool>,
    /// Dropped by each handler when it is done.
    pub done: mpsc::Sender<()>,
}

/// Accepts one connection; errors back off 1, 2, 4 … 64 s, then give up.
async fn accept(listener: &TcpListener) -> std::io::Result<(TcpStream, SocketAddr)> {
    let mut backoff = 1;
    loop {
        match listener.accept().await {
            Ok(s) => return Ok(s),
            Err(e) => {
                if backoff > 64 {
                    return Err(e);
                }
                tracing::error!(cause = %e, backoff_s = backoff, "failed to accept");
            }
        }
        tokio::time::sleep(Duration::from_secs(backoff)).await;
        backoff *= 2;
    }
}

impl Listener {
    /// Accepts connections until shutdown.
    pub async fn run(mut self) -> std::io::Result<()> {
        loop {
            let permit = tokio::select! {
                p = self.limit.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return Ok(()),
                },
                _ = self.shutdown.changed() => return Ok(()),
            };
            let (socket, peer) = tokio::select! {
                s = accept(&self.listener) => s?,
                _ = self.shutdown.changed() => return Ok(()),
            };
            let _ = socket.set_nodelay(true);
            let handler = Handler {
                socket,
                session: Session::new(self.shared.session.clone()),
                shared: self.shared.clone(),
                origin: self.origin.clone(),
                shutdown: self.shutdown.clone(),
                _done: self.done.clone(),
            };
            // No span per connection (it costs more than the rest of a short
            // session's logging); each message's log line names its listener.
            let _ = peer;
            tokio::spawn(async move {
                if let Err(e) = handler.run().await {
                    tracing::debug!(cause = %e, "connection ended");
                }
                drop(permit);
            });
        }
    }
}

struct Handler {
    socket: TcpStream,
    session: Session<Transaction>,
    shared: Arc<Shared>,
    origin: ListenerOrigin,
    shutdown: watch::Receiver<bool>,
    _done: mpsc::Sender<()>,
}

impl Handler {
    async fn run(mut self) -> std::io::Result<()> {
        let mut input = BytesMut::with_capacity(16 * 1024);
        let mut out = BytesMut::with_capacity(1024);
        self.session.greeting().write_to(&mut out);
        let shared = self.shared.clone();
        let origin = self.origin.clone();
        let mut txns = Txns {
            shared: &shared,
            origin: &origin,
        };
        loop {
            match self.session.poll(&mut input, &mut txns) {
                Action::Reply(r) => r.write_to(&mut out),
                Action::Close(r) => {
                    r.write_to(&mut out);
                    self.socket.write_all(&out).await?;
                    return Ok(());
                }
                Action::Deliver(m) => {
                    if !out.is_empty() {
                        self.socket.write_all(&out).await?;
                        out.clear();
                    }
                    // Not raced against shutdown: the copies' hand-over and the final
                    // reply always complete.
                    let reply = shared.deliver(m, &origin).await;
                    self.session.delivered(reply).write_to(&mut out);
                }
                Action::NeedInput => {
                    if !out.is_empty() {
                        self.socket.write_all(&out).await?;
                        out.clear();
                    }
                    if *self.shutdown.borrow() && !self.session.in_transaction() {
                        self.session.shutdown().write_to(&mut out);
                        self.socket.write_all(&out).await?;
                        return Ok(());
                    }
                    input.reserve(8192);
                    let idle = !self.session.in_transaction();
                    let read =
                        tokio::time::timeout(shared.read_timeout, self.socket.read_buf(&mut input));
                    tokio::select! {
                        r = read => match r {
                            Ok(Ok(0)) => return Ok(()),
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => return Err(e),
                            Err(_) => {
                                Reply::new(421, "4.4.2 Error: timeout exceeded").write_to(&mut out);
                                self.socket.write_all(&out).await?;
                                return Ok(());
                            }
                        },
                        _ = self.shutdown.changed(), if idle => {}
                    }
                }
            }
        }
    }
}
