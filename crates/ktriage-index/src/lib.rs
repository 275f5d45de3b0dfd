//! Content-addressed index of kernel C source and git history, queried as of any commit.
//!
//! Every distinct git blob of a C source or header is parsed once ([`parse::parse_c`]) and
//! its facts (symbols, calls, messages) are stored under the blob's id ([`store`]); a
//! full-text index ([`text`]) holds the same blobs' symbols and messages. A commit is
//! queried by mapping its tree's paths to blob ids ([`Snapshot`]), so indexing another
//! commit costs only the blobs not seen before, and a query at a commit can only see that
//! commit's tree.
//!
//! Does not: know about CI results, crash reports or models; write to the repository.
//!
//! ```no_run
//! use ktriage_index::{Index, NoProgress};
//! let index = Index::open_or_create(std::path::Path::new("."), None)?;
//! let rev = index.resolve("HEAD")?;
//! let snapshot = index.snapshot(&rev, &NoProgress)?;
//! for definition in snapshot.def("bch2_trans_begin")? {
//!     println!("{}:{}", definition.path, definition.line);
//! }
//! # Ok::<(), ktriage_index::Error>(())
//! ```
#![deny(missing_docs)]

mod build;
pub mod codec;
pub mod error;
pub mod facts;
pub mod history;
mod lines;
pub mod parse;
pub mod paths;
mod query;
pub mod repo;
pub mod store;
pub mod terms;
pub mod text;

pub use build::IndexStats;
pub use error::{Error, Result};
pub use history::{History, HistoryStats};
pub use query::{CallSite, Definition, FileText, GrepHit, MessageHit, SearchHit, Snapshot};
pub use repo::{Rev, TreeFile};

use facts::{FileFacts, Symbol};
use git2::Oid;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Version of the on-disk format, and of the facts the parser extracts; an index with
/// another version must be rebuilt.
pub const SCHEMA_VERSION: u32 = 7;

/// Progress reporting for long operations; the CLI shows a bar, the library prints nothing.
pub trait Progress: Sync {
    /// A phase named `what` with `total` steps begins.
    fn start(&self, what: &str, total: u64);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// The phase is over.
    fn finish(&self);
}

/// A [`Progress`] that reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _what: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// Index settings read from `<index dir>/config.json` (optional).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct IndexConfig {
    /// Explicit path prefix maps `[from, to]` tried before suffix matching, e.g.
    /// `["fs/bcachefs/", "fs/"]` when logs name files under the upstream kernel path.
    #[serde(default)]
    pub path_prefixes: Vec<(String, String)>,
}

/// An opened repository with its index.
pub struct Index {
    repo: repo::Repo,
    store: store::Store,
    /// Opened on first use: `def`, `callers` and history queries never need it.
    text: OnceLock<text::TextIndex>,
    dir: PathBuf,
    config: IndexConfig,
    facts_cache: Mutex<HashMap<Oid, Arc<FileFacts>>>,
    /// Symbols decoded alone, for blobs whose whole facts were not needed.
    symbols_cache: Mutex<HashMap<Oid, Arc<Vec<Symbol>>>>,
}

/// The definitions and declarations of one blob: from its cached facts, or decoded alone.
pub enum Symbols {
    /// Part of the blob's whole facts.
    Facts(Arc<FileFacts>),
    /// Decoded without the rest of the facts.
    Alone(Arc<Vec<Symbol>>),
}

impl std::ops::Deref for Symbols {
    type Target = [Symbol];

    fn deref(&self) -> &[Symbol] {
        match self {
            Symbols::Facts(facts) => &facts.symbols,
            Symbols::Alone(symbols) => symbols,
        }
    }
}

/// How [`Index::open_with`] opens an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenMode {
    /// An existing index, for reading and writing.
    Existing,
    /// An existing index or a new empty one, for reading and writing.
    Create,
    /// An existing index, only for reading.
    ReadOnly,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    schema: u32,
}

impl Index {
    /// The default index directory of a repository: `<git dir>/ktriage`.
    pub fn default_dir(repo: &repo::Repo) -> PathBuf {
        repo.git_dir().join("ktriage")
    }

    /// Opens an existing index; fails with a "run `ktriage index`" error when there is none.
    pub fn open(repo_path: &Path, index_dir: Option<&Path>) -> Result<Index> {
        Self::open_with(repo_path, index_dir, OpenMode::Existing)
    }

    /// Opens the index, creating an empty one when there is none.
    pub fn open_or_create(repo_path: &Path, index_dir: Option<&Path>) -> Result<Index> {
        Self::open_with(repo_path, index_dir, OpenMode::Create)
    }

    /// Opens an existing index only for reading: it writes nothing, and any number of
    /// processes may read it at once (while none writes). A query that would have to index
    /// a commit first fails with [`Error::ReadOnly`]; open the index with
    /// [`Index::open_or_create`] for that.
    pub fn open_read_only(repo_path: &Path, index_dir: Option<&Path>) -> Result<Index> {
        Self::open_with(repo_path, index_dir, OpenMode::ReadOnly)
    }

    /// Deletes the index directory of a repository so that it can be built anew.
    pub fn remove(repo_path: &Path, index_dir: Option<&Path>) -> Result<()> {
        let repo = repo::Repo::open(repo_path)?;
        let dir = index_dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| Self::default_dir(&repo));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(Error::io(&dir))?;
        }
        Ok(())
    }

    fn open_with(repo_path: &Path, index_dir: Option<&Path>, mode: OpenMode) -> Result<Index> {
        let repo = repo::Repo::open(repo_path)?;
        let dir = index_dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| Self::default_dir(&repo));
        let meta_path = dir.join("meta.json");
        match std::fs::read(&meta_path) {
            Ok(bytes) => {
                let found = serde_json::from_slice::<Meta>(&bytes)
                    .map(|meta| meta.schema.to_string())
                    .unwrap_or_else(|_| "unreadable".to_string());
                if found != SCHEMA_VERSION.to_string() {
                    return Err(Error::IndexVersion {
                        dir,
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if mode != OpenMode::Create {
                    return Err(Error::IndexMissing { dir });
                }
                std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
                let meta = serde_json::to_vec(&Meta {
                    schema: SCHEMA_VERSION,
                })
                .expect("Meta always serializes");
                write_atomic(&meta_path, &meta)?;
            }
            Err(err) => {
                return Err(Error::Io {
                    path: meta_path,
                    source: err,
                })
            }
        }
        let config_path = dir.join("config.json");
        let config = match std::fs::read(&config_path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|err| Error::BadQuery(format!("{}: {err}", config_path.display())))?,
            Err(_) => IndexConfig::default(),
        };
        let store = match mode {
            OpenMode::ReadOnly => store::Store::open_read_only(&dir)?,
            OpenMode::Existing | OpenMode::Create => store::Store::open(&dir)?,
        };
        Ok(Index {
            repo,
            store,
            text: OnceLock::new(),
            dir,
            config,
            facts_cache: Mutex::new(HashMap::new()),
            symbols_cache: Mutex::new(HashMap::new()),
        })
    }

    /// The repository.
    pub fn repo(&self) -> &repo::Repo {
        &self.repo
    }

    /// The structured store.
    pub fn store(&self) -> &store::Store {
        &self.store
    }

    /// The full-text index, opened on first use.
    pub fn text(&self) -> Result<&text::TextIndex> {
        if let Some(text) = self.text.get() {
            return Ok(text);
        }
        let text = text::TextIndex::open(&self.dir)?;
        Ok(self.text.get_or_init(|| text))
    }

    /// A writer for the full-text index; [`Error::ReadOnly`] when the index was opened
    /// only for reading, before anything is written.
    pub fn text_writer(&self) -> Result<tantivy::IndexWriter> {
        self.store.ensure_writable()?;
        self.text()?.writer()
    }

    /// Rewrites the store without the space its earlier transactions freed (run after
    /// indexing); true when anything was reclaimed.
    pub fn compact(&mut self) -> Result<bool> {
        self.store.compact()
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Settings from `config.json`.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// Resolves a revision of the repository.
    pub fn resolve(&self, rev: &str) -> Result<Rev> {
        // `HEAD` at an indexed commit is read from the ref files: libgit2 is not even
        // opened for such a query. Whether it names a commit libgit2 checked when the
        // commit was indexed.
        if rev == "HEAD" {
            if let Some(commit) = self.repo.head_from_files() {
                if self.store.has_tree(commit)? {
                    return Ok(Rev {
                        commit,
                        name: rev.to_string(),
                    });
                }
            }
        }
        self.repo.resolve(rev)
    }

    /// The facts of an indexed blob (cached in memory after the first read).
    pub fn facts(&self, blob: Oid) -> Result<Arc<FileFacts>> {
        self.cached(&self.facts_cache, blob, || self.store.blob_facts(blob))
    }

    /// The definitions and declarations of an indexed blob: taken from its facts when they
    /// are cached, else decoded without the rest (and cached in memory).
    pub fn symbols(&self, blob: Oid) -> Result<Symbols> {
        if let Some(facts) = lock(&self.facts_cache).get(&blob) {
            return Ok(Symbols::Facts(facts.clone()));
        }
        self.cached(&self.symbols_cache, blob, || self.store.blob_symbols(blob))
            .map(Symbols::Alone)
    }

    /// `blob`'s entry of `cache`, loaded into it first if missing.
    fn cached<T>(
        &self,
        cache: &Mutex<HashMap<Oid, Arc<T>>>,
        blob: Oid,
        load: impl FnOnce() -> Result<Option<T>>,
    ) -> Result<Arc<T>> {
        if let Some(value) = lock(cache).get(&blob) {
            return Ok(value.clone());
        }
        let value = Arc::new(load()?.ok_or_else(|| {
            Error::corrupt(
                &self.dir,
                format!("blob {blob} is listed in a tree but has no facts"),
            )
        })?);
        lock(cache).insert(blob, value.clone());
        Ok(value)
    }

    /// The commit's tree as the index sees it, indexing its new blobs first if needed.
    pub fn snapshot(&self, rev: &Rev, progress: &dyn Progress) -> Result<Snapshot<'_>> {
        let files = match self.store.tree(rev.commit)? {
            Some(files) => files,
            None => {
                self.index_rev(rev, progress)?;
                self.store.tree(rev.commit)?.unwrap_or_default()
            }
        };
        Ok(Snapshot::new(self, rev.clone(), files))
    }
}

/// Writes `bytes` to `path` atomically (a temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(Error::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(Error::io(path))
}

/// A cache's lock (no code panics while holding one).
fn lock<T>(cache: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    cache.lock().expect("cache locks are never poisoned")
}
