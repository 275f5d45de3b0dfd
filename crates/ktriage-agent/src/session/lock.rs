//! The session lock: one session at a time per output directory.
//!
//! The lock is `session.lock` in the output directory, created with `create_new` and holding
//! the owner's pid and its start time (from `/proc/<pid>/stat`, so a recycled pid is not
//! mistaken for the owner). A lock whose owner is gone is stale: it is replaced. The lock is
//! removed when the [`SessionLock`] is dropped. Where there is no `/proc` to ask, a lock is
//! never taken for stale: remove a dead session's lock by hand there.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name in the output directory.
pub const LOCK_FILE: &str = "session.lock";

/// Errors taking the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live session holds the lock.
    #[error(
        "{}: another ktriage overnight session (pid {pid}) is working in this directory; wait for it to finish or stop it (a lock left by a session that died is replaced automatically)",
        path.display()
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// The owner's pid.
        pid: u32,
    },
    /// The lock file could not be created, read or replaced.
    #[error("{}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A held lock on an output directory; dropping it releases the lock.
#[derive(Debug)]
pub struct SessionLock {
    path: PathBuf,
    token: String,
}

impl SessionLock {
    /// Takes the lock of `out` (created if needed), replacing a stale one.
    pub fn acquire(out: &Path) -> Result<SessionLock, LockError> {
        let path = out.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(out).map_err(io)?;
        let token = token(std::process::id());
        // Two attempts: the second after removing a stale lock.
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    file.write_all(token.as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(io)?;
                    return Ok(SessionLock { path, token });
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = match std::fs::read_to_string(&path) {
                        Ok(text) => text,
                        // Released between our attempt and the read: try again.
                        Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(err) => return Err(io(err)),
                    };
                    if let Some(pid) = live_owner(&held) {
                        return Err(LockError::Held { path, pid });
                    }
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                        Err(err) => return Err(io(err)),
                    }
                }
                Err(err) => return Err(io(err)),
            }
        }
        let pid = std::fs::read_to_string(&path)
            .ok()
            .and_then(|held| live_owner(&held))
            .unwrap_or(0);
        Err(LockError::Held { path, pid })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        // Only remove the lock if it is still ours.
        if std::fs::read_to_string(&self.path).is_ok_and(|held| held == self.token) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `pid N start T\n`: what a lock file holds.
fn token(pid: u32) -> String {
    match start_time(pid) {
        Some(start) => format!("pid {pid} start {start}\n"),
        None => format!("pid {pid}\n"),
    }
}

/// The pid of a lock's owner when that process is still running.
fn live_owner(held: &str) -> Option<u32> {
    let mut words = held.split_whitespace();
    let pid = match (words.next(), words.next()) {
        (Some("pid"), Some(pid)) => pid.parse::<u32>().ok()?,
        _ => return None,
    };
    let recorded_start = match (words.next(), words.next()) {
        (Some("start"), Some(start)) => Some(start.to_string()),
        _ => None,
    };
    if !Path::new("/proc/self").exists() {
        // No way to tell on this system: assume the owner lives.
        return Some(pid);
    }
    let start = start_time(pid)?;
    match recorded_start {
        Some(recorded) if recorded != start => None,
        _ => Some(pid),
    }
}

/// The start time of process `pid` (field 22 of `/proc/<pid>/stat`, in clock ticks since
/// boot), when it is running.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_a_stale_one_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let lock = SessionLock::acquire(dir.path()).expect("first lock");
        let err = SessionLock::acquire(dir.path()).expect_err("the directory is locked");
        assert!(
            matches!(err, LockError::Held { pid, .. } if pid == std::process::id()),
            "{err}"
        );
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        // A lock whose owner is gone (pid beyond any pid_max) is replaced.
        std::fs::write(dir.path().join(LOCK_FILE), "pid 4294967290 start 1\n").expect("stale lock");
        let lock = SessionLock::acquire(dir.path()).expect("the stale lock is replaced");
        assert_eq!(
            std::fs::read_to_string(lock.path()).expect("lock"),
            token(std::process::id())
        );
        // A lock of our own pid with another start time is a recycled pid: stale too.
        drop(lock);
        std::fs::write(
            dir.path().join(LOCK_FILE),
            format!("pid {} start 0\n", std::process::id()),
        )
        .expect("recycled");
        assert!(SessionLock::acquire(dir.path()).is_ok());
    }
}
