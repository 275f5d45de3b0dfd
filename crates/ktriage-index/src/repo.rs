//! Git access: opening repositories (bare or not), resolving revisions, listing the C
//! sources of a commit's tree and reading blobs.

use crate::error::{Error, Result};
use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

/// Files larger than this are listed but not parsed (generated tables, firmware).
pub const MAX_SOURCE_BYTES: usize = 4 << 20;

/// A resolved commit: the id and the revision text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rev {
    /// The commit id.
    pub commit: Oid,
    /// The revision as the user wrote it, for messages.
    pub name: String,
}

/// One file of a tree with its blob id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TreeFile {
    /// Path from the tree's root, `/`-separated.
    pub path: String,
    /// The blob's id.
    #[serde(with = "oid_bytes")]
    pub blob: Oid,
}

/// A git repository opened for reading.
///
/// libgit2 opens it on first use: a query at `HEAD` of an indexed commit needs only the
/// git directory and the ref files ([`Repo::head_from_files`]), and opening the repository
/// (its configuration files, packs and indexes) was a tenth of such a query as a process.
pub struct Repo {
    /// The path the repository was opened from, for libgit2.
    path: PathBuf,
    git_dir: PathBuf,
    git: OnceCell<Repository>,
}

impl Repo {
    /// Opens the repository containing `path` (a work tree, a `.git` dir or a bare repo).
    pub fn open(path: &Path) -> Result<Repo> {
        if let Some(git_dir) = plain_git_dir(path) {
            return Ok(Repo {
                path: path.to_path_buf(),
                git_dir,
                git: OnceCell::new(),
            });
        }
        // Anything else (a subdirectory of a work tree, a linked worktree's `.git` file,
        // not a repository at all) is libgit2's to find or reject, now.
        let git = open_git(path)?;
        Ok(Repo {
            path: path.to_path_buf(),
            git_dir: git.path().to_path_buf(),
            git: OnceCell::from(git),
        })
    }

    /// The git directory (`.git` of a work tree, or the bare repository itself).
    pub fn git_dir(&self) -> PathBuf {
        self.git_dir.clone()
    }

    /// The underlying libgit2 handle, opened on first use.
    pub fn git(&self) -> Result<&Repository> {
        if let Some(git) = self.git.get() {
            return Ok(git);
        }
        let git = open_git(&self.path)?;
        Ok(self.git.get_or_init(|| git))
    }

    /// The commit `HEAD` names, read from the ref files without libgit2: `HEAD` itself, a
    /// branch's loose ref or its line in `packed-refs`. `None` when it takes more than that
    /// (another ref storage, an unreadable file); [`Repo::resolve`] then asks libgit2.
    pub fn head_from_files(&self) -> Option<Oid> {
        let mut target = read_ref_file(&self.git_dir.join("HEAD"))?;
        // A symbolic ref may name another; git stops after a few hops too.
        for _ in 0..5 {
            let Some(name) = target.strip_prefix("ref: ") else {
                return Oid::from_str(&target).ok().filter(|_| target.len() == 40);
            };
            let name = name.trim().to_string();
            if !name.starts_with("refs/") || name.split('/').any(|part| part == "..") {
                return None;
            }
            target = match read_ref_file(&self.git_dir.join(&name)) {
                Some(target) => target,
                None => packed_ref(&self.git_dir, &name)?,
            };
        }
        None
    }

    /// Resolves `rev` (any git revision syntax) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<Rev> {
        let unknown = |message: String| Error::UnknownRev {
            rev: rev.to_string(),
            message,
        };
        let object = self
            .git()?
            .revparse_single(rev)
            .map_err(|err| unknown(err.message().to_string()))?;
        let commit = object
            .peel_to_commit()
            .map_err(|err| unknown(err.message().to_string()))?;
        Ok(Rev {
            commit: commit.id(),
            name: rev.to_string(),
        })
    }

    /// Every blob of the commit's tree, paths `/`-separated, sorted by path.
    pub fn tree_files(&self, commit: Oid) -> Result<Vec<TreeFile>> {
        let tree = self
            .git()?
            .find_commit(commit)
            .and_then(|commit| commit.tree())
            .map_err(Error::git(format!("reading the tree of {commit}")))?;
        let mut files = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(ObjectType::Blob) {
                if let Some(name) = entry.name() {
                    files.push(TreeFile {
                        path: format!("{dir}{name}"),
                        blob: entry.id(),
                    });
                }
            }
            TreeWalkResult::Ok
        })
        .map_err(Error::git(format!("walking the tree of {commit}")))?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// The C sources and headers (`.c`, `.h`) of the commit's tree.
    pub fn source_files(&self, commit: Oid) -> Result<Vec<TreeFile>> {
        let mut files = self.tree_files(commit)?;
        files.retain(|file| is_c_source(&file.path));
        Ok(files)
    }

    /// The content of a blob.
    pub fn read_blob(&self, blob: Oid) -> Result<Vec<u8>> {
        read_blob(self.git()?, blob)
    }

    /// Where to open blob readers of their own, for other threads: libgit2 handles are not
    /// shared between threads.
    pub fn blob_readers(&self) -> BlobReaders {
        BlobReaders(self.path.clone())
    }
}

/// Opens [`BlobReader`]s on one repository.
pub struct BlobReaders(PathBuf);

impl BlobReaders {
    /// A reader, which opens its libgit2 handle on first use.
    pub fn reader(&self) -> BlobReader {
        BlobReader {
            path: self.0.clone(),
            git: None,
        }
    }
}

/// Reads blobs on one thread.
pub struct BlobReader {
    path: PathBuf,
    git: Option<Repository>,
}

impl BlobReader {
    /// The content of a blob.
    pub fn read_blob(&mut self, blob: Oid) -> Result<Vec<u8>> {
        let git = match &mut self.git {
            Some(git) => git,
            none => none.insert(open_git(&self.path)?),
        };
        read_blob(git, blob)
    }
}

fn read_blob(git: &Repository, blob: Oid) -> Result<Vec<u8>> {
    let blob = git
        .find_blob(blob)
        .map_err(Error::git(format!("reading blob {blob}")))?;
    Ok(blob.content().to_vec())
}

/// Opens the repository containing `path` with libgit2.
fn open_git(path: &Path) -> Result<Repository> {
    // libgit2 re-hashes every object it reads by default (git itself does not); reading
    // blobs is most of what the index does, and that hashing was a third of a `locate`.
    git2::opts::strict_hash_verification(false);
    Repository::open_ext(
        path,
        git2::RepositoryOpenFlags::empty(),
        std::iter::empty::<&str>(),
    )
    .map_err(|source| Error::NotARepo {
        path: path.to_path_buf(),
        source,
    })
}

/// The git directory at `path` when it is plainly one: a work tree with a `.git`
/// directory, or a git directory itself (bare or `.git`), as git recognises one (`HEAD`,
/// `objects/`, `refs/`). Made absolute, as libgit2 would.
fn plain_git_dir(path: &Path) -> Option<PathBuf> {
    let is_git_dir = |dir: &Path| {
        dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir()
    };
    let dot_git = path.join(".git");
    let dir = if is_git_dir(&dot_git) {
        dot_git
    } else if is_git_dir(path) {
        path.to_path_buf()
    } else {
        return None;
    };
    std::fs::canonicalize(dir).ok()
}

/// A ref file's content without its line end; `None` when it cannot be read.
fn read_ref_file(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim_end().to_string())
}

/// The id `packed-refs` gives `name`; `None` when it has no such line.
fn packed_ref(git_dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(git_dir.join("packed-refs")).ok()?;
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with('^'))
        .find_map(|line| {
            let (id, ref_name) = line.split_once(' ')?;
            (ref_name == name).then(|| id.to_string())
        })
}

/// True for paths the source index parses.
pub fn is_c_source(path: &str) -> bool {
    path.ends_with(".c") || path.ends_with(".h")
}

/// True when content looks binary (a NUL byte near the start), as git decides.
pub fn looks_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(8000)]).is_some()
}

/// Serde helpers storing an [`Oid`] as its 20 raw bytes.
pub(crate) mod oid_bytes {
    use git2::Oid;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(oid: &Oid, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(oid.as_bytes())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Oid, D::Error> {
        let bytes: &[u8] = Deserialize::deserialize(deserializer)?;
        Oid::from_bytes(bytes).map_err(serde::de::Error::custom)
    }
}
