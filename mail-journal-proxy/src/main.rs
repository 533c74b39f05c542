//! `mail-journal-proxy`: configuration and wiring. See the crate's README.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mail_journal::seal;
use mail_journal_proxy::engine::{self, ListenerOrigin};
use mail_journal_proxy::forward::{ForwardConfig, Forwarder};
use mail_journal_proxy::listener::{Listener, Shared};
use mail_journal_proxy::reload::{self, PolicyHandle};
use mail_journal_proxy::session::SessionConfig;
use mail_journal_proxy::store::{SealConfig, Store};
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str =
    "usage: mail-journal-proxy --policy FILE --reinject ADDR --store DIR --node NAME
         [--listen-inbound ADDR=CONNECTOR]... [--listen-submitted ADDR]...
         [--hostname NAME] [--max-message-size BYTES] [--max-connections N]
         [--threads N] [--drain-timeout SECONDS] [--reinject-idle SECONDS]
         [--checkpoint-every N] [--signing-key FILE]
       mail-journal-proxy --generate-key FILE";

const EX_USAGE: u8 = 64;
const EX_SOFTWARE: u8 = 70;
const EX_OSERR: u8 = 71;
const EX_CONFIG: u8 = 78;

/// The command line.
#[derive(Debug)]
struct Args {
    policy: PathBuf,
    listeners: Vec<(SocketAddr, ListenerOrigin)>,
    reinject: SocketAddr,
    store: PathBuf,
    node: String,
    hostname: Option<String>,
    max_message_size: usize,
    max_connections: usize,
    threads: usize,
    drain_timeout: Duration,
    reinject_idle: Duration,
    checkpoint_every: u64,
    signing_key: Option<PathBuf>,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut policy = None;
    let mut listeners = Vec::new();
    let mut reinject = None;
    let mut store = None;
    let mut node = None;
    let mut a = Args {
        policy: PathBuf::new(),
        listeners: Vec::new(),
        reinject: SocketAddr::from(([127, 0, 0, 1], 10026)),
        store: PathBuf::new(),
        node: String::new(),
        hostname: None,
        max_message_size: 50 * 1024 * 1024,
        max_connections: 256,
        threads: 1,
        drain_timeout: Duration::from_secs(120),
        reinject_idle: Duration::from_secs(5),
        checkpoint_every: 1000,
        signing_key: None,
    };
    let addr = |flag: &str, v: &str| -> Result<SocketAddr, String> {
        v.parse()
            .map_err(|e| format!("{flag} {v:?}: {e} (expected IP:PORT)"))
    };
    let num = |flag: &str, v: &str| -> Result<u64, String> {
        v.parse().map_err(|e| format!("{flag} {v:?}: {e}"))
    };
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--policy" => policy = Some(PathBuf::from(v)),
            "--listen-inbound" => {
                let (ad, connector) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--listen-inbound {v:?}: expected ADDR=CONNECTOR"))?;
                listeners.push((
                    addr(&flag, ad)?,
                    ListenerOrigin::Inbound {
                        connector: connector.into(),
                    },
                ));
            }
            "--listen-submitted" => listeners.push((addr(&flag, &v)?, ListenerOrigin::Submitted)),
            "--reinject" => reinject = Some(addr(&flag, &v)?),
            "--store" => store = Some(PathBuf::from(v)),
            "--node" => node = Some(v),
            "--hostname" => a.hostname = Some(v),
            "--max-message-size" => a.max_message_size = num(&flag, &v)? as usize,
            "--max-connections" => a.max_connections = num(&flag, &v)?.max(1) as usize,
            "--threads" => a.threads = num(&flag, &v)?.clamp(1, 64) as usize,
            "--drain-timeout" => a.drain_timeout = Duration::from_secs(num(&flag, &v)?),
            "--reinject-idle" => a.reinject_idle = Duration::from_secs(num(&flag, &v)?),
            "--checkpoint-every" => a.checkpoint_every = num(&flag, &v)?,
            "--signing-key" => a.signing_key = Some(PathBuf::from(v)),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    a.policy = policy.ok_or("--policy is required")?;
    a.reinject = reinject.ok_or("--reinject is required")?;
    a.store = store.ok_or("--store is required")?;
    a.node = node.ok_or("--node is required")?;
    if listeners.is_empty() {
        return Err("give at least one --listen-inbound or --listen-submitted".into());
    }
    a.listeners = listeners;
    Ok(a)
}

/// `--generate-key FILE`: a new Ed25519 signing key (seed from the operating system's
/// random source) in FILE (mode 0600), its public key in FILE.pub for auditors.
fn generate_key(path: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    let key = seal::signing_key_from_seed(seed);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(seal::signing_key_file(&key).as_bytes()))
        .map_err(|e| format!("{path}: {e}"))?;
    let public = format!("{path}.pub");
    std::fs::write(&public, seal::verifying_key_file(&key.verifying_key()))
        .map_err(|e| format!("{public}: {e}"))?;
    Ok(public)
}

fn main() -> ExitCode {
    let mut raw = std::env::args().skip(1);
    if let (Some(flag), Some(path), None) = (raw.next(), raw.next(), raw.next()) {
        if flag == "--generate-key" {
            return match generate_key(&path) {
                Ok(public) => {
                    println!("signing key {path}, public key {public}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("mail-journal-proxy: {e}");
                    ExitCode::from(EX_OSERR)
                }
            };
        }
    }
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mail-journal-proxy: {e}\n{USAGE}");
            return ExitCode::from(EX_USAGE);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .init();
    // One thread (the default) runs everything on the current thread: no cross-thread
    // wake-ups, the least CPU per message; more threads use a work-stealing pool.
    let built = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let runtime = match built {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(cause = %e, "cannot start the runtime");
            return ExitCode::from(EX_OSERR);
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let origins: Vec<ListenerOrigin> = args.listeners.iter().map(|(_, o)| o.clone()).collect();
    let policy = match PolicyHandle::open(&args.policy, origins) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            tracing::error!(error = %e, "cannot load the policy");
            return ExitCode::from(EX_CONFIG);
        }
    };
    for w in engine::audit(&policy.current()) {
        tracing::warn!(audit = %w, "policy audit");
    }
    let signing_key = match &args.signing_key {
        None => None,
        Some(path) => {
            let key = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|text| seal::parse_signing_key(&text).map_err(|e| e.to_string()));
            match key {
                Ok(k) => Some(k),
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "cannot read the signing key");
                    return ExitCode::from(EX_CONFIG);
                }
            }
        }
    };
    let seal_config = SealConfig {
        checkpoint_every: args.checkpoint_every,
        signing_key,
    };
    let store = match Store::open(&args.store, &args.node, &seal_config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot open the store");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let r = store.recovered();
    tracing::info!(
        node = %args.node,
        seq = r.seq,
        chain_bytes_cut = r.chain_bytes_cut,
        messages_cut = %r.messages_cut.join(","),
        rolled_forward = r.rolled_forward,
        archive_quarantined = r.archive_quarantined,
        tracking_bytes_quarantined = r.tracking_bytes_quarantined,
        signed = seal_config.signing_key.is_some(),
        "chain opened"
    );
    let hostname = args.hostname.clone().unwrap_or_else(|| args.node.clone());
    let session = Arc::new(SessionConfig {
        hostname: hostname.as_str().into(),
        max_message_size: args.max_message_size,
        ..SessionConfig::default()
    });
    let mut fwd = ForwardConfig::new(args.reinject);
    fwd.helo = hostname.clone();
    fwd.idle_timeout = args.reinject_idle;
    let shared = Arc::new(Shared::new(
        policy.clone(),
        Forwarder::new(fwd),
        store,
        session,
        args.node.clone(),
    ));
    let (hup, mut term, mut int) = match (
        reload::catch_sighup(),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(h), Ok(t), Ok(i)) => (h, t, i),
        _ => {
            tracing::error!("cannot install signal handlers");
            return ExitCode::from(EX_OSERR);
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    let limit = Arc::new(tokio::sync::Semaphore::new(args.max_connections));
    let mut tasks = tokio::task::JoinSet::new();
    for (addr, origin) in &args.listeners {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(%addr, cause = %e, "cannot listen");
                return ExitCode::from(EX_OSERR);
            }
        };
        tracing::info!(%addr, %origin, reinject = %args.reinject, "listening");
        tasks.spawn(
            Listener {
                listener,
                origin: origin.clone(),
                shared: shared.clone(),
                limit: limit.clone(),
                shutdown: stop_rx.clone(),
                done: done_tx.clone(),
            }
            .run(),
        );
    }
    tokio::spawn(reload::on_sighup(policy, hup, stop_rx.clone()));
    let code = tokio::select! {
        _ = term.recv() => { tracing::info!("SIGTERM: draining"); ExitCode::SUCCESS }
        _ = int.recv() => { tracing::info!("SIGINT: draining"); ExitCode::SUCCESS }
        r = tasks.join_next() => {
            tracing::error!(result = ?r, "a listener stopped");
            ExitCode::from(EX_SOFTWARE)
        }
    };
    let _ = stop_tx.send(true);
    tasks.shutdown().await;
    drop(done_tx);
    match tokio::time::timeout(args.drain_timeout, done_rx.recv()).await {
        Ok(_) => tracing::info!("drained: every session finished"),
        Err(_) => tracing::error!(timeout_s = args.drain_timeout.as_secs(), "drain timed out"),
    }
    // The chain ends on a checkpoint, so a clean stop is visible in it.
    shared.store.close().await;
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(String::from))
    }

    #[test]
    fn command_line() {
        let a = args("--policy p.toml --listen-inbound 127.0.0.1:10025=IMS --listen-submitted 127.0.0.1:10027 --reinject 127.0.0.1:10026 --store /s --node mx1").unwrap();
        assert_eq!(a.listeners.len(), 2);
        assert_eq!(
            a.listeners[0].1,
            ListenerOrigin::Inbound {
                connector: "IMS".into()
            }
        );
        assert_eq!(a.listeners[1].1, ListenerOrigin::Submitted);
        assert_eq!(a.reinject.port(), 10026);
        assert!(
            args("--policy p --reinject 127.0.0.1:1 --store s --node n")
                .unwrap_err()
                .contains("--listen")
        );
        assert!(
            args("--listen-inbound 127.0.0.1:25")
                .unwrap_err()
                .contains("ADDR=CONNECTOR")
        );
        assert!(args("--reinject nowhere").unwrap_err().contains("IP:PORT"));
        assert!(args("--frob 1").unwrap_err().contains("unknown option"));
    }
}
