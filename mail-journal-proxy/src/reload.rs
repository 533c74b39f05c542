//! The policy in force, rebuilt on `SIGHUP` and swapped atomically.
//!
//! Each SMTP transaction takes the policy current at its `MAIL FROM` (an `Arc`), so a
//! reload never changes the rules under a transaction in progress. A policy file that
//! does not build leaves the old policy running; the error names the file and the field
//! (`policy.toml line 4: connectors[0] ("IMS").address_spaces[0].cost: …`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use mail_journal::Policy;
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::engine::{self, ListenerOrigin, PolicyError};

/// Why a policy file was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not build a policy.
    #[error("{}: {source}", path.display())]
    Policy {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the field path.
        source: PolicyError,
    },
    /// A listener's connector is not in the policy.
    #[error("{}: no connector {connector:?}, which a listener receives mail on", path.display())]
    MissingConnector {
        /// The file.
        path: PathBuf,
        /// The connector name.
        connector: String,
    },
}

/// Reads and builds the policy in `path`, checking that every listener's connector is
/// in it.
pub fn load(path: &Path, origins: &[ListenerOrigin]) -> Result<Policy, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let policy = engine::build_policy_file(path, &text).map_err(|source| LoadError::Policy {
        path: path.to_owned(),
        source,
    })?;
    for o in origins {
        if o.resolve(&policy).is_none() {
            if let ListenerOrigin::Inbound { connector } = o {
                return Err(LoadError::MissingConnector {
                    path: path.to_owned(),
                    connector: connector.to_string(),
                });
            }
        }
    }
    Ok(policy)
}

/// The policy in force and where it comes from.
#[derive(Debug)]
pub struct PolicyHandle {
    path: PathBuf,
    origins: Vec<ListenerOrigin>,
    current: ArcSwap<Policy>,
}

impl PolicyHandle {
    /// Loads the policy for the first time.
    pub fn open(path: &Path, origins: Vec<ListenerOrigin>) -> Result<Self, LoadError> {
        let policy = load(path, &origins)?;
        Ok(PolicyHandle {
            path: path.to_owned(),
            origins,
            current: ArcSwap::from_pointee(policy),
        })
    }

    /// The policy in force now.
    pub fn current(&self) -> Arc<Policy> {
        self.current.load_full()
    }

    /// Rebuilds the policy from its file and swaps it in; on error the old one stays.
    pub fn reload(&self) -> Result<Arc<Policy>, LoadError> {
        let policy = Arc::new(load(&self.path, &self.origins)?);
        self.current.store(policy.clone());
        Ok(policy)
    }

    /// The policy file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Starts catching `SIGHUP` (from then on it no longer terminates the process).
pub fn catch_sighup() -> std::io::Result<Signal> {
    signal(SignalKind::hangup())
}

/// Reloads on every `SIGHUP` until `stop` fires, logging the outcome.
pub async fn on_sighup(
    handle: Arc<PolicyHandle>,
    mut hup: Signal,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = hup.recv() => {}
            _ = stop.changed() => return,
        }
        match handle.reload() {
            Ok(p) => {
                tracing::info!(policy = %handle.path().display(), entries = p.entries().count(), "policy reloaded");
                for w in engine::audit(&p) {
                    tracing::warn!(audit = %w, "policy audit");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "policy reload failed; the previous policy stays in force")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tests::POLICY;

    fn origins() -> Vec<ListenerOrigin> {
        vec![
            ListenerOrigin::Inbound {
                connector: "IMS".into(),
            },
            ListenerOrigin::Submitted,
        ]
    }

    #[test]
    fn a_broken_file_keeps_the_old_policy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, POLICY).unwrap();
        let h = PolicyHandle::open(&path, origins()).unwrap();
        let before = h.current();
        assert!(before.entry_by_address("carol@example.com").is_some());

        std::fs::write(&path, POLICY.replace("cost = 1", "cost = 0")).unwrap();
        let e = h.reload().unwrap_err().to_string();
        assert!(
            e.contains("policy.toml")
                && e.contains("connectors[0] (\"IMS\").address_spaces[0].cost"),
            "{e}"
        );
        assert!(Arc::ptr_eq(&before, &h.current()), "the old policy stays");

        std::fs::write(&path, POLICY.replace("name = \"IMS\"", "name = \"Other\"")).unwrap();
        let e = h.reload().unwrap_err().to_string();
        assert!(e.contains("no connector \"IMS\""), "{e}");

        std::fs::write(&path, POLICY.replace("SMTP:carol@", "SMTP:caroline@")).unwrap();
        let after = h.reload().unwrap();
        assert!(!Arc::ptr_eq(&before, &after));
        assert!(
            h.current()
                .entry_by_address("caroline@example.com")
                .is_some()
        );
        // A transaction that took the old policy still has it.
        assert!(before.entry_by_address("carol@example.com").is_some());
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = PolicyHandle::open(Path::new("/nonexistent/p.toml"), origins()).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/p.toml: "), "{e}");
    }

    #[tokio::test]
    async fn sighup_swaps_the_policy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, POLICY).unwrap();
        let h = Arc::new(PolicyHandle::open(&path, origins()).unwrap());
        let (tx, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(on_sighup(h.clone(), catch_sighup().unwrap(), rx));
        std::fs::write(&path, POLICY.replace("SMTP:carol@", "SMTP:caroline@")).unwrap();
        let pid = std::process::id();
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut swapped = false;
        for _ in 0..200 {
            if h.current()
                .entry_by_address("caroline@example.com")
                .is_some()
            {
                swapped = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(swapped, "SIGHUP reloaded the policy");
        tx.send(true).unwrap();
        task.await.unwrap();
    }
}
