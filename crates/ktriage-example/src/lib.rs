//! Builds the bundled kernel-like example repository with a scripted git history.
//!
//! A history is a directory of steps, applied in name order. Each step directory holds:
//! - `COMMIT`: `key: value` header lines (`author`, `date` as `YYYY-MM-DDTHH:MM:SSZ`, and
//!   optionally `parent` and `merge`, naming earlier steps), a blank line, then the commit
//!   message. `{{id:STEP}}` and `{{subject:STEP}}` in the message expand to that step's
//!   abbreviated commit id (12 digits) and subject, so `Fixes:` trailers can name earlier steps.
//! - `ops` (optional): lines `mv OLD NEW` and `rm PATH`, applied to the parent's tree first.
//! - `files/` (optional): files written over the tree, at their relative paths.
//!
//! The first parent defaults to the previous step; a step with `merge:` gets a second parent.
//! Commit ids are deterministic: dates come from the steps and the committer is the author.
//!
//! Does not: run git commands or touch anything outside the output directory.
#![deny(missing_docs)]

mod date;

use git2::{build::TreeUpdateBuilder, FileMode, Oid, Repository, Signature, Time};
use std::path::{Path, PathBuf};

/// Errors while building an example repository; each names the step or file involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A step's files could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A step's `COMMIT` or `ops` file is malformed.
    #[error("{path}: {message}")]
    Format {
        /// The malformed file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A git operation failed.
    #[error("step {step}: {source}")]
    Git {
        /// The step being applied.
        step: String,
        /// The underlying error.
        source: git2::Error,
    },
}

/// One commit of a built repository.
#[derive(Debug, Clone)]
pub struct BuiltCommit {
    /// The step directory's name, e.g. `05-discard-panic`.
    pub step: String,
    /// The commit id.
    pub id: Oid,
    /// The commit's subject line.
    pub subject: String,
}

/// A repository built from a history.
#[derive(Debug, Clone)]
pub struct BuiltRepo {
    /// The repository's work tree.
    pub path: PathBuf,
    /// Commits in step order.
    pub commits: Vec<BuiltCommit>,
}

impl BuiltRepo {
    /// The commit built from `step`.
    pub fn commit(&self, step: &str) -> Option<&BuiltCommit> {
        self.commits.iter().find(|commit| commit.step == step)
    }

    /// The id of the commit built from `step`, for tests that know their steps exist.
    pub fn id(&self, step: &str) -> Option<Oid> {
        self.commit(step).map(|commit| commit.id)
    }
}

/// The bundled example history (`examples/minifs/history` in the source tree).
pub fn bundled_history() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/minifs/history")
}

/// Builds a git repository at `out` (created if missing, must not already hold a repository)
/// from the steps in `history`, with `master` checked out at the last step.
pub fn build_repo(history: &Path, out: &Path) -> Result<BuiltRepo, Error> {
    let mut steps: Vec<PathBuf> = read_dir(history)?
        .into_iter()
        .filter(|path| path.join("COMMIT").is_file())
        .collect();
    steps.sort();
    if steps.is_empty() {
        return Err(Error::Format {
            path: history.to_path_buf(),
            message: "no step directories with a COMMIT file".into(),
        });
    }
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let git_error = |step: &str| {
        let step = step.to_string();
        move |source| Error::Git {
            step: step.clone(),
            source,
        }
    };
    let repo = Repository::init(out).map_err(git_error("init"))?;
    let mut built: Vec<BuiltCommit> = Vec::new();
    for step_dir in &steps {
        let step = file_name(step_dir);
        let header = read_commit_file(&step_dir.join("COMMIT"))?;
        let message = expand_placeholders(&header.message, &built, &step_dir.join("COMMIT"))?;
        let parent_names: Vec<&str> = match (&header.parent, built.last()) {
            (Some(name), _) => vec![name.as_str()],
            (None, Some(last)) => vec![last.step.as_str()],
            (None, None) => vec![],
        };
        let mut parents = Vec::new();
        for name in parent_names.into_iter().chain(header.merge.as_deref()) {
            let id = built
                .iter()
                .find(|c| c.step == name)
                .map(|c| c.id)
                .ok_or_else(|| Error::Format {
                    path: step_dir.join("COMMIT"),
                    message: format!("unknown step `{name}` (parents must be earlier steps)"),
                })?;
            parents.push(repo.find_commit(id).map_err(git_error(&step))?);
        }
        let tree_id = build_tree(&repo, parents.first(), step_dir).map_err(|err| match err {
            BuildTreeError::Git(source) => Error::Git {
                step: step.clone(),
                source,
            },
            BuildTreeError::Other(err) => err,
        })?;
        let tree = repo.find_tree(tree_id).map_err(git_error(&step))?;
        let signature = Signature::new(
            &header.author_name,
            &header.author_email,
            &Time::new(header.time, 0),
        )
        .map_err(git_error(&step))?;
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let id = repo
            .commit(None, &signature, &signature, &message, &tree, &parent_refs)
            .map_err(git_error(&step))?;
        let subject = message.lines().next().unwrap_or_default().to_string();
        built.push(BuiltCommit { step, id, subject });
    }
    let head = built
        .last()
        .map(|c| c.id)
        .expect("steps is not empty, so a commit was built");
    repo.reference("refs/heads/master", head, true, "ktriage example")
        .map_err(git_error("finish"))?;
    repo.set_head("refs/heads/master")
        .map_err(git_error("finish"))?;
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .map_err(git_error("finish"))?;
    Ok(BuiltRepo {
        path: out.to_path_buf(),
        commits: built,
    })
}

struct CommitHeader {
    author_name: String,
    author_email: String,
    time: i64,
    parent: Option<String>,
    merge: Option<String>,
    message: String,
}

fn read_commit_file(path: &Path) -> Result<CommitHeader, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let format_error = |message: String| Error::Format {
        path: path.to_path_buf(),
        message,
    };
    let (head, message) = text.split_once("\n\n").ok_or_else(|| {
        format_error("expected header lines, a blank line, then the message".into())
    })?;
    let (mut author, mut time, mut parent, mut merge) = (None, None, None, None);
    for line in head.lines() {
        let (key, value) = line
            .split_once(": ")
            .ok_or_else(|| format_error(format!("header line `{line}` is not `key: value`")))?;
        match key {
            "author" => author = Some(value.to_string()),
            "date" => {
                time = Some(
                    date::parse_utc(value)
                        .ok_or_else(|| format_error(format!("bad date `{value}`")))?,
                )
            }
            "parent" => parent = Some(value.to_string()),
            "merge" => merge = Some(value.to_string()),
            _ => return Err(format_error(format!("unknown header `{key}`"))),
        }
    }
    let author = author.ok_or_else(|| format_error("missing `author:`".into()))?;
    let (author_name, author_email) = author
        .strip_suffix('>')
        .and_then(|rest| rest.split_once(" <"))
        .ok_or_else(|| format_error(format!("author `{author}` is not `Name <email>`")))?;
    Ok(CommitHeader {
        author_name: author_name.to_string(),
        author_email: author_email.to_string(),
        time: time.ok_or_else(|| format_error("missing `date:`".into()))?,
        parent,
        merge,
        message: message.to_string(),
    })
}

fn expand_placeholders(message: &str, built: &[BuiltCommit], path: &Path) -> Result<String, Error> {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").ok_or_else(|| Error::Format {
            path: path.to_path_buf(),
            message: "unclosed `{{` placeholder".into(),
        })?;
        let inner = &rest[start + 2..start + end];
        let (what, step) = inner.split_once(':').unwrap_or((inner, ""));
        let commit = built
            .iter()
            .find(|c| c.step == step)
            .ok_or_else(|| Error::Format {
                path: path.to_path_buf(),
                message: format!("placeholder `{{{{{inner}}}}}` names no earlier step"),
            })?;
        match what {
            "id" => out.push_str(&commit.id.to_string()[..12]),
            "subject" => out.push_str(&commit.subject),
            _ => {
                return Err(Error::Format {
                    path: path.to_path_buf(),
                    message: format!("unknown placeholder `{what}` (expected id or subject)"),
                })
            }
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

enum BuildTreeError {
    Git(git2::Error),
    Other(Error),
}

impl From<git2::Error> for BuildTreeError {
    fn from(err: git2::Error) -> Self {
        BuildTreeError::Git(err)
    }
}

fn build_tree(
    repo: &Repository,
    parent: Option<&git2::Commit>,
    step_dir: &Path,
) -> Result<Oid, BuildTreeError> {
    let base = match parent {
        Some(commit) => commit.tree()?,
        None => repo.find_tree(repo.treebuilder(None)?.write()?)?,
    };
    let mut update = TreeUpdateBuilder::new();
    let ops_path = step_dir.join("ops");
    if ops_path.is_file() {
        let ops = std::fs::read_to_string(&ops_path).map_err(|source| {
            BuildTreeError::Other(Error::Io {
                path: ops_path.clone(),
                source,
            })
        })?;
        for line in ops.lines().filter(|line| !line.trim().is_empty()) {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["rm", path] => {
                    update.remove(path);
                }
                ["mv", old, new] => {
                    let entry = base.get_path(Path::new(old))?;
                    update.remove(old);
                    update.upsert(new, entry.id(), FileMode::Blob);
                }
                _ => {
                    return Err(BuildTreeError::Other(Error::Format {
                        path: ops_path.clone(),
                        message: format!("bad op `{line}` (expected `mv OLD NEW` or `rm PATH`)"),
                    }))
                }
            }
        }
    }
    let files_dir = step_dir.join("files");
    for file in walk_files(&files_dir).map_err(BuildTreeError::Other)? {
        let content = std::fs::read(&file).map_err(|source| {
            BuildTreeError::Other(Error::Io {
                path: file.clone(),
                source,
            })
        })?;
        let relative = file
            .strip_prefix(&files_dir)
            .expect("walk_files yields paths under files_dir");
        let relative = relative.to_string_lossy().replace('\\', "/");
        update.upsert(relative, repo.blob(&content)?, FileMode::Blob);
    }
    Ok(update.create_updated(repo, &base)?)
}

fn walk_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for path in read_dir(&current)? {
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io_error = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        paths.push(entry.map_err(io_error)?.path());
    }
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
