//! Git access: opening repositories (bare or not), resolving revisions, listing the C
//! sources of a commit's tree and reading blobs.

use crate::error::{Error, Result};
use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
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
pub struct Repo {
    git: Repository,
}

impl Repo {
    /// Opens the repository containing `path` (a work tree, a `.git` dir or a bare repo).
    pub fn open(path: &Path) -> Result<Repo> {
        // libgit2 re-hashes every object it reads by default (git itself does not); reading
        // blobs is most of what the index does, and that hashing was a third of a `locate`.
        git2::opts::strict_hash_verification(false);
        let git = Repository::open_ext(
            path,
            git2::RepositoryOpenFlags::empty(),
            std::iter::empty::<&str>(),
        )
        .map_err(|source| Error::NotARepo {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Repo { git })
    }

    /// The git directory (`.git` of a work tree, or the bare repository itself).
    pub fn git_dir(&self) -> PathBuf {
        self.git.path().to_path_buf()
    }

    /// The underlying libgit2 handle.
    pub fn git(&self) -> &Repository {
        &self.git
    }

    /// Resolves `rev` (any git revision syntax) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<Rev> {
        let unknown = |message: String| Error::UnknownRev {
            rev: rev.to_string(),
            message,
        };
        let object = self
            .git
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
            .git
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
        let blob = self
            .git
            .find_blob(blob)
            .map_err(Error::git(format!("reading blob {blob}")))?;
        Ok(blob.content().to_vec())
    }
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
