//! Reading one commit: its metadata and message, and its changed files against the first
//! parent with rename detection and line counts.

use super::{raw, trailers, CommitRecord, FileChange, Signature};
use crate::error::{Error, Result};
use crate::repo::is_c_source;
use git2::{Delta, DiffFindOptions, DiffOptions, FileMode, Oid, Patch, Repository, Tree};
use std::path::Path;

/// Renames are looked for among at most this many added × deleted files (git's default).
const RENAME_LIMIT: usize = 1000;

/// A changed C source or header, with the blob ids the function comparison needs.
#[derive(Debug, Clone)]
pub(crate) struct CFile {
    /// Path after the change (before it, when deleted).
    pub path: String,
    /// Path before the change, when renamed.
    pub old_path: Option<String>,
    /// Blob before (`None`: added).
    pub old_blob: Option<Oid>,
    /// Blob after (`None`: deleted).
    pub new_blob: Option<Oid>,
    /// For merges: the blob at `path` in each parent after the first.
    pub side_blobs: Vec<Option<Oid>>,
}

/// A commit as read from git, before functions and fixes are worked out.
pub(crate) struct Analysis {
    /// The record, with empty `functions` and `fixes`.
    pub record: CommitRecord,
    /// Its changed C files (for merges: only those differing from every parent).
    pub c_files: Vec<CFile>,
}

fn signature(sig: &git2::Signature<'_>) -> Signature {
    Signature {
        name: String::from_utf8_lossy(sig.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(sig.email_bytes()).into_owned(),
        time: sig.when().seconds(),
        offset_minutes: sig.when().offset_minutes(),
    }
}

/// Splits a message into its subject (first paragraph, lines joined) and body.
pub(crate) fn split_message(message: &str) -> (String, String) {
    let message = message.trim_start_matches(['\n', '\r']);
    let (subject, body) = match message.find("\n\n") {
        Some(at) => (&message[..at], &message[at + 2..]),
        None => (message, ""),
    };
    let subject = subject.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    (subject, body.trim_matches('\n').trim_end().to_string())
}

/// Reads commit `id`: metadata, trailers and changed files.
pub(crate) fn analyze(repo: &Repository, id: Oid) -> Result<Analysis> {
    let context = |what: &str| format!("{what} of commit {id}");
    let commit = repo
        .find_commit(id)
        .map_err(Error::git(context("reading")))?;
    let tree = commit
        .tree()
        .map_err(Error::git(context("reading the tree")))?;
    let parent_trees = commit
        .parents()
        .map(|parent| parent.tree())
        .collect::<Result<Vec<Tree<'_>>, git2::Error>>()
        .map_err(Error::git(context("reading the parent trees")))?;
    let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
    let (subject, body) = split_message(&message);
    let (files, mut c_files) = changed_files(repo, parent_trees.first(), &tree)
        .map_err(Error::git(context("diffing the first parent")))?;
    if parent_trees.len() > 1 {
        c_files.retain_mut(|file| {
            file.side_blobs = parent_trees[1..]
                .iter()
                .map(|side| {
                    side.get_path(Path::new(&file.path))
                        .ok()
                        .map(|entry| entry.id())
                })
                .collect();
            file.side_blobs.iter().all(|side| *side != file.new_blob)
        });
    }
    let record = CommitRecord {
        id: raw(id),
        parents: commit.parent_ids().map(raw).collect(),
        author: signature(&commit.author()),
        committer: signature(&commit.committer()),
        trailers: trailers::parse(&body),
        subject,
        body,
        files,
        functions: Vec::new(),
        fixes: Vec::new(),
    };
    Ok(Analysis { record, c_files })
}

/// Files changed from `old` (the empty tree if `None`) to `new`, with renames and line
/// counts, and the C files among them.
pub(crate) fn changed_files(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: &Tree<'_>,
) -> Result<(Vec<FileChange>, Vec<CFile>), git2::Error> {
    let mut options = DiffOptions::new();
    options.context_lines(0).interhunk_lines(0);
    let mut diff = repo.diff_tree_to_tree(old, Some(new), Some(&mut options))?;
    diff.find_similar(Some(
        DiffFindOptions::new()
            .renames(true)
            .rename_limit(RENAME_LIMIT),
    ))?;
    let mut files = Vec::new();
    let mut c_files = Vec::new();
    for (idx, delta) in diff.deltas().enumerate() {
        let is_blob = |mode: FileMode| matches!(mode, FileMode::Blob | FileMode::BlobExecutable);
        let path_of = |file: git2::DiffFile<'_>| {
            file.path()
                .map(|path| path.to_string_lossy().replace('\\', "/"))
        };
        let (Some(old_path), Some(new_path)) =
            (path_of(delta.old_file()), path_of(delta.new_file()))
        else {
            continue;
        };
        let (added, removed) = match Patch::from_diff(&diff, idx)? {
            Some(patch) => {
                let (_, added, removed) = patch.line_stats()?;
                (added as u32, removed as u32)
            }
            None => (0, 0),
        };
        let deleted = delta.status() == Delta::Deleted;
        let path = if deleted {
            old_path.clone()
        } else {
            new_path.clone()
        };
        let renamed = (old_path != new_path).then(|| old_path.clone());
        let blob_of = |file: git2::DiffFile<'_>, path: &str| {
            (!file.id().is_zero() && is_blob(file.mode()) && is_c_source(path)).then(|| file.id())
        };
        let (old_blob, new_blob) = (
            blob_of(delta.old_file(), &old_path),
            blob_of(delta.new_file(), &new_path),
        );
        if old_blob.is_some() || new_blob.is_some() {
            c_files.push(CFile {
                path: path.clone(),
                old_path: renamed.clone(),
                old_blob,
                new_blob,
                side_blobs: Vec::new(),
            });
        }
        files.push(FileChange {
            path,
            old_path: renamed,
            added,
            removed,
        });
    }
    Ok((files, c_files))
}

#[cfg(test)]
mod tests {
    use super::split_message;

    #[test]
    fn subject_and_body() {
        assert_eq!(
            split_message("a\nb\n\nbody\n\nmore\n"),
            ("a b".to_string(), "body\n\nmore".to_string())
        );
        assert_eq!(split_message("only"), ("only".to_string(), String::new()));
    }
}
