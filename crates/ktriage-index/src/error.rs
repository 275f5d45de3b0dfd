//! The index's error type: every message names the repository, revision, file or index
//! directory involved and, where there is one, the command that fixes it.

use std::path::PathBuf;

/// Errors from opening, building or querying an index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path is not inside a git repository.
    #[error("{path}: not a git repository ({source})")]
    NotARepo {
        /// The path given.
        path: PathBuf,
        /// What git said.
        source: git2::Error,
    },
    /// A revision does not name a commit.
    #[error("unknown revision `{rev}`: {message}")]
    UnknownRev {
        /// The revision as given.
        rev: String,
        /// What git said.
        message: String,
    },
    /// No index exists yet.
    #[error("no ktriage index at {dir}; run `ktriage index` first")]
    IndexMissing {
        /// The index directory looked at.
        dir: PathBuf,
    },
    /// The index was written by another schema version.
    #[error("index at {dir} has schema {found}, this ktriage needs {expected}; re-run `ktriage index --rebuild`")]
    IndexVersion {
        /// The index directory.
        dir: PathBuf,
        /// The schema found on disk.
        found: String,
        /// The schema this build writes.
        expected: u32,
    },
    /// The index is unreadable.
    #[error("index at {dir} is unreadable ({detail}); re-run `ktriage index --rebuild`")]
    IndexCorrupt {
        /// The index directory.
        dir: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Another process has the index open for writing.
    #[error("index at {dir} is in use by another ktriage process")]
    IndexBusy {
        /// The index directory.
        dir: PathBuf,
    },
    /// The index was opened only for reading and the request needs to write to it (to
    /// index a commit not indexed yet, say); open it with [`crate::Index::open_or_create`].
    #[error("index at {dir} is open read-only and this request needs to index more")]
    ReadOnly {
        /// The index directory.
        dir: PathBuf,
    },
    /// A path does not exist in the tree at a revision.
    #[error("{path}: no such file at {rev}{hint}")]
    NoSuchPath {
        /// The path as given.
        path: String,
        /// The revision looked at.
        rev: String,
        /// Candidates, when the path was ambiguous.
        hint: String,
    },
    /// A query argument is malformed.
    #[error("{0}")]
    BadQuery(String),
    /// A git operation failed.
    #[error("{context}: {source}")]
    Git {
        /// What was being done.
        context: String,
        /// What git said.
        source: git2::Error,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result with the index's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a git error with what was being done.
    pub(crate) fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
        let context = context.into();
        move |source| Error::Git { context, source }
    }

    /// Wraps an I/O error with its path.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    /// An unreadable-index error for `dir` with `detail`.
    pub(crate) fn corrupt(dir: &std::path::Path, detail: impl std::fmt::Display) -> Error {
        Error::IndexCorrupt {
            dir: dir.to_path_buf(),
            detail: detail.to_string(),
        }
    }
}

/// How long [`retry_busy`] keeps trying a lock before reporting the index busy.
const BUSY_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs `acquire` until it stops failing with [`Error::IndexBusy`] or [`BUSY_PATIENCE`] has
/// passed. Index locks are `flock`s: a child process forked by another thread holds a copy
/// of a just-released lock until it execs, so a lock this process released a moment ago can
/// look taken for a few milliseconds.
pub(crate) fn retry_busy<T>(mut acquire: impl FnMut() -> Result<T>) -> Result<T> {
    let start = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        match acquire() {
            Err(Error::IndexBusy { .. }) if start.elapsed() < BUSY_PATIENCE => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(200));
            }
            other => return other,
        }
    }
}
