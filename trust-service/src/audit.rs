//! The DTS's audit log: custody's hash-chained log, shared by every DTS process on the machine
//! (`serve` and an operator's `ingest` may run at once). Each record is appended under an
//! exclusive `flock` on `<log>.lock`, with the log re-read (and its chain verified) inside the
//! lock, so two processes never fork the chain.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use custody::audit::{AuditEvent, AuditLog};
use rustix::fs::{flock, FlockOperation};

use crate::error::{DtsError, Result};

/// The audit log of one DTS installation.
#[derive(Debug)]
pub struct DtsAudit {
    path: PathBuf,
    lock: PathBuf,
    terminal_id: String,
    /// Serialises this process's own appends (the file lock serialises processes).
    local: Mutex<()>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DtsError + '_ {
    move |source| DtsError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl DtsAudit {
    /// Opens (creating if needed) and verifies the log at `path`.
    pub fn open(path: &Path, terminal_id: &str) -> Result<Self> {
        let audit = DtsAudit {
            path: path.to_path_buf(),
            lock: path.with_extension("lock"),
            terminal_id: terminal_id.to_owned(),
            local: Mutex::new(()),
        };
        audit.with_log(|_| Ok(()))?;
        Ok(audit)
    }

    fn with_log<T>(&self, f: impl FnOnce(&mut AuditLog) -> Result<T>) -> Result<T> {
        let _local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(io(&self.lock))?;
        flock(&lock, FlockOperation::LockExclusive).map_err(|e| DtsError::Io {
            path: self.lock.display().to_string(),
            source: e.into(),
        })?;
        // Re-read under the lock: another process may have appended since.
        let mut log = AuditLog::open(&self.path, self.terminal_id.clone())?;
        let out = f(&mut log);
        drop(log);
        drop(lock);
        out
    }

    /// Appends `event`. A detail the log refuses as secret-looking is dropped (with the
    /// untrusted `reason` and `source`), so the record itself is never lost.
    pub fn record(&self, event: AuditEvent) -> Result<()> {
        self.with_log(|log| match log.append(event.clone()) {
            Ok(_) => Ok(()),
            Err(custody::Error::AuditRefused(_)) => {
                let mut plain = event;
                plain.details.retain(|k, _| k != "reason" && k != "source");
                log.append(plain)?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        })
    }
}
