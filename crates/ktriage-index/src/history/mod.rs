//! The git history half of the index: every commit reachable from the indexed refs, with
//! its trailers, changed files, changed functions and resolved `Fixes:`, queried as of a
//! revision ([`History`]).
//!
//! Indexing ([`Index::index_history`]) walks only commits not indexed yet, parents first,
//! in batches; each batch is committed to the text index (commit messages, for `search`)
//! and then to the store in one transaction, so a commit's record is present only once
//! everything about it is, and an interrupted run is finished by the next one.
//!
//! Changed functions come from comparing the function spans of the blobs before and after
//! each changed C file ([`functions`]); every distinct blob is scanned once for the whole
//! history. A merge lists its first-parent diff as files, but only the functions whose
//! body differs from every parent (its own conflict resolutions), so the changes of a
//! merged branch are attributed to the branch's commits, as `git log -L` does.
//!
//! A whitespace-only change inside a function body counts as `modified` (as `git log -L`
//! counts it), flagged `whitespace_only`.
//!
//! Does not: write to the repository; see commits that are not ancestors of the queried
//! revision.

mod ancestry;
mod blame;
pub mod date;
mod diff;
mod fixes;
pub mod functions;
mod indexer;
mod origin;
mod query;
mod store;
pub mod trailers;

pub use fixes::{parse_fix, ParsedFix};
pub use indexer::HistoryStats;
pub use query::{BlameLine, FixesOf, FunctionEvent, History, LogEntry, ShowCommit, ShowFile};

pub(crate) use ancestry::ancestors;
pub(crate) use store::HistoryStore;

use git2::Oid;
use serde::{Deserialize, Serialize};

/// A person and when they acted, as a commit records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// Offset from UTC in minutes.
    pub offset_minutes: i32,
}

/// One `Key: value` trailer of a commit message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trailer {
    /// The key as written (`Fixes`, `Signed-off-by`, ...).
    pub key: String,
    /// The value, continuation lines joined with a space.
    pub value: String,
}

/// One file changed by a commit (against its first parent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// The path after the commit (before it, for a deleted file).
    pub path: String,
    /// The path before the commit, when the file was renamed.
    pub old_path: Option<String>,
    /// Lines added.
    pub added: u32,
    /// Lines removed.
    pub removed: u32,
}

/// How a commit changed a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The function appeared.
    Added,
    /// Its body changed.
    Modified,
    /// It disappeared.
    Removed,
    /// It disappeared from one file and appeared in another in the same commit.
    Moved,
}

impl Change {
    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Modified => "modified",
            Change::Removed => "removed",
            Change::Moved => "moved",
        }
    }
}

/// A function a commit changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionChange {
    /// The function's name.
    pub name: String,
    /// Its file after the commit (before it, when removed).
    pub path: String,
    /// Its file before the commit, when that differs (file renamed or function moved).
    pub old_path: Option<String>,
    /// What happened to it.
    pub change: Change,
    /// Only whitespace inside the body changed.
    pub whitespace_only: bool,
}

/// How a `Fixes:` trailer was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolvedBy {
    /// By its (abbreviated) commit id.
    Id,
    /// By the quoted subject, the id naming no commit (or one with another subject).
    Subject,
}

/// A `Fixes:` trailer and the commit it names, when that exists in the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixRef {
    /// The trailer's value as written.
    pub raw: String,
    /// The named commit.
    pub commit: Option<[u8; 20]>,
    /// How it was found.
    pub resolved_by: Option<ResolvedBy>,
}

/// Everything the index keeps about one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRecord {
    /// The commit id.
    pub id: [u8; 20],
    /// Parent ids, first parent first.
    pub parents: Vec<[u8; 20]>,
    /// Author.
    pub author: Signature,
    /// Committer.
    pub committer: Signature,
    /// First paragraph of the message, lines joined.
    pub subject: String,
    /// The rest of the message.
    pub body: String,
    /// Trailers of the last paragraph (and `Fixes:` lines anywhere in the body).
    pub trailers: Vec<Trailer>,
    /// Files changed against the first parent (the empty tree for a root commit).
    pub files: Vec<FileChange>,
    /// Functions changed (for merges: only where the merge differs from every parent).
    pub functions: Vec<FunctionChange>,
    /// `Fixes:` trailers, resolved where possible.
    pub fixes: Vec<FixRef>,
}

impl CommitRecord {
    /// The commit id.
    pub fn oid(&self) -> Oid {
        oid(&self.id)
    }

    /// True for merge commits.
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }
}

/// An [`Oid`] from 20 stored bytes.
pub(crate) fn oid(bytes: &[u8; 20]) -> Oid {
    Oid::from_bytes(bytes).expect("20 bytes always make an object id")
}

/// The 20 bytes of an [`Oid`].
pub(crate) fn raw(oid: Oid) -> [u8; 20] {
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(oid.as_bytes());
    bytes
}
