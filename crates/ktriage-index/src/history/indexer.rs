//! Indexing history: find the commits not indexed yet, then in batches (parents before
//! children) read them in parallel, scan the blobs not scanned yet, work out changed
//! functions and `Fixes:`, and write the batch: text index first, then one store
//! transaction. Because batches go parents first and a record is written last, an indexed
//! commit's ancestors are always indexed, which is what lets the walk for new commits stop
//! at the first indexed one: new commits cost only themselves.

use super::diff::{self, Analysis, CFile};
use super::functions::{self, FileSpans, FnSpan};
use super::store::{HistoryStore, Key};
use super::{fixes, FunctionChange};
use crate::error::{Error, Result};
use crate::repo::{looks_binary, MAX_SOURCE_BYTES};
use crate::{Index, Progress, Rev};
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;

const BATCH_COMMITS: usize = 512;

/// What one history indexing run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct HistoryStats {
    /// Commits indexed by this run (the rest were already indexed).
    pub commits: usize,
    /// Of those, merges.
    pub merges: usize,
    /// Blobs scanned for function spans by this run.
    pub scanned_blobs: usize,
    /// `Fixes:` trailers in the new commits.
    pub fixes: usize,
    /// Of those, resolved to a commit.
    pub fixes_resolved: usize,
}

impl Index {
    /// Indexes the history reachable from `refs`: every commit not indexed yet.
    pub fn index_history(&self, refs: &[Rev], progress: &dyn Progress) -> Result<HistoryStats> {
        let hist = HistoryStore::new(&self.store);
        let pending = pending_commits(self.repo.git()?, &hist, refs)?;
        let mut stats = HistoryStats::default();
        if pending.is_empty() {
            return Ok(stats);
        }
        let mut writer = self.text_writer()?;
        progress.start("indexing history", pending.len() as u64);
        let git_dir = self.repo.git_dir();
        for chunk in pending.chunks(BATCH_COMMITS) {
            let analyses: Vec<Analysis> = chunk
                .par_iter()
                .map_init(
                    || open(&git_dir),
                    |repo, id| diff::analyze(repo.as_ref().map_err(clone_err)?, *id),
                )
                .collect::<Result<_>>()?;
            let wanted: HashSet<Oid> = analyses
                .iter()
                .flat_map(|a| &a.c_files)
                .flat_map(file_blobs)
                .collect();
            let mut spans = hist.spans_of(wanted.iter().copied())?;
            let missing: Vec<Oid> = wanted
                .into_iter()
                .filter(|blob| !spans.contains_key(blob))
                .collect();
            let scanned: Vec<(Oid, Vec<FnSpan>)> = missing
                .par_iter()
                .map_init(
                    || open(&git_dir),
                    |repo, blob| Ok((*blob, scan_blob(repo.as_ref().map_err(clone_err)?, *blob)?)),
                )
                .collect::<Result<_>>()?;
            spans.extend(scanned.iter().cloned());
            stats.scanned_blobs += scanned.len();
            let mut records = Vec::with_capacity(analyses.len());
            let mut batch_subjects: HashMap<String, Oid> = HashMap::new();
            for Analysis {
                mut record,
                c_files,
            } in analyses
            {
                record.functions = commit_functions(&c_files, &spans);
                let mut by_subject = |subject: &str| match batch_subjects.get(subject) {
                    Some(id) => Some(*id),
                    None => latest_with_subject(&hist, subject).ok().flatten(),
                };
                let git = self.repo.git()?;
                record.fixes = record
                    .trailers
                    .iter()
                    .filter(|trailer| trailer.key.eq_ignore_ascii_case("fixes"))
                    .map(|trailer| fixes::resolve(git, &trailer.value, &mut by_subject))
                    .collect();
                stats.fixes += record.fixes.len();
                stats.fixes_resolved += record
                    .fixes
                    .iter()
                    .filter(|fix| fix.commit.is_some())
                    .count();
                stats.merges += usize::from(record.is_merge());
                batch_subjects.insert(record.subject.clone(), record.oid());
                self.text()?
                    .add_commit(&writer, record.oid(), &record.subject, &record.body)?;
                records.push(record);
            }
            self.text()?.commit(&mut writer)?;
            hist.write(&scanned, &records)?;
            stats.commits += records.len();
            progress.advance(chunk.len() as u64);
        }
        self.text()?.finish(writer)?;
        progress.finish();
        Ok(stats)
    }
}

fn open(git_dir: &Path) -> Result<Repository, git2::Error> {
    Repository::open(git_dir)
}

fn clone_err(err: &git2::Error) -> Error {
    Error::Git {
        context: "opening the repository in a worker".into(),
        source: git2::Error::new(err.code(), err.class(), err.message()),
    }
}

fn file_blobs(file: &CFile) -> impl Iterator<Item = Oid> + '_ {
    file.old_blob
        .into_iter()
        .chain(file.new_blob)
        .chain(file.side_blobs.iter().flatten().copied())
}

fn scan_blob(repo: &Repository, blob: Oid) -> Result<Vec<FnSpan>> {
    let found = repo
        .find_blob(blob)
        .map_err(Error::git(format!("reading blob {blob}")))?;
    let content = found.content();
    if content.len() > MAX_SOURCE_BYTES || looks_binary(content) {
        return Ok(Vec::new());
    }
    Ok(functions::spans(content))
}

/// The indexed commit with this subject committed last.
fn latest_with_subject(hist: &HistoryStore<'_>, subject: &str) -> Result<Option<Oid>> {
    let mut best: Option<(i64, Oid)> = None;
    for id in hist.lookup(Key::Subject(subject))? {
        if let Some(record) = hist.commit(id)? {
            if best.is_none_or(|(time, _)| record.committer.time > time) {
                best = Some((record.committer.time, id));
            }
        }
    }
    Ok(best.map(|(_, id)| id))
}

/// The functions a commit changed, from the spans of its changed C files; for merges, only
/// changes where the merge's version differs from every parent's.
fn commit_functions(c_files: &[CFile], spans: &HashMap<Oid, Vec<FnSpan>>) -> Vec<FunctionChange> {
    let spans_of =
        |blob: Option<Oid>| blob.map(|blob| spans.get(&blob).map_or(&[][..], Vec::as_slice));
    let mut changes = Vec::new();
    for file in c_files {
        let new = spans_of(file.new_blob);
        let file_spans = FileSpans {
            path: &file.path,
            old_path: file.old_path.as_deref(),
            old: spans_of(file.old_blob),
            new,
        };
        let mut file_changes = functions::changed_in_file(&file_spans);
        let version = |spans: Option<&[FnSpan]>, name: &str| {
            spans
                .unwrap_or_default()
                .iter()
                .find(|span| span.name == name)
                .map(|span| span.hash)
        };
        file_changes.retain(|change| {
            file.side_blobs
                .iter()
                .all(|side| version(spans_of(*side), &change.name) != version(new, &change.name))
        });
        changes.extend(file_changes);
    }
    functions::pair_moves(changes)
}

/// Commits reachable from `refs` that are not indexed, parents before children.
fn pending_commits(repo: &Repository, hist: &HistoryStore<'_>, refs: &[Rev]) -> Result<Vec<Oid>> {
    let mut parents_of: HashMap<Oid, Vec<Oid>> = HashMap::new();
    let mut stack: Vec<Oid> = refs.iter().map(|rev| rev.commit).collect();
    while let Some(id) = stack.pop() {
        if parents_of.contains_key(&id) || hist.contains(id)? {
            continue;
        }
        let commit = repo
            .find_commit(id)
            .map_err(Error::git(format!("reading commit {id}")))?;
        let parents: Vec<Oid> = commit.parent_ids().collect();
        stack.extend(parents.iter().copied());
        parents_of.insert(id, parents);
    }
    let mut order = Vec::with_capacity(parents_of.len());
    let mut expanded: HashSet<Oid> = HashSet::new();
    for rev in refs {
        let mut stack = vec![(rev.commit, false)];
        while let Some((id, children_done)) = stack.pop() {
            if children_done {
                order.push(id);
                continue;
            }
            let Some(parents) = parents_of.get(&id) else {
                continue;
            };
            if !expanded.insert(id) {
                continue;
            }
            stack.push((id, true));
            stack.extend(
                parents
                    .iter()
                    .rev()
                    .filter(|parent| !expanded.contains(*parent))
                    .map(|parent| (*parent, false)),
            );
        }
    }
    Ok(order)
}
