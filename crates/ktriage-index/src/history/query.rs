//! History queries as of one revision: `log`, function `history`, `show`, `blame` and
//! `fixes`. A [`History`] only ever returns commits that are the revision or its ancestors.

use super::functions::FnSpan;
use super::store::{HistoryStore, Key};
use super::{
    ancestors, date, oid, Change, CommitRecord, FileChange, FunctionChange, ResolvedBy, Trailer,
};
use crate::error::{Error, Result};
use crate::{Index, Progress, Rev};
use git2::{DiffFindOptions, DiffFormat, DiffOptions, Oid, Sort};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

/// How many (function, file) origins [`History::function_history`] follows at most.
const MAX_ORIGINS: usize = 8;

/// A commit in a list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogEntry {
    /// Full commit id.
    pub id: String,
    /// Author date, ISO 8601 with the author's offset.
    pub date: String,
    /// `Name <email>` of the author.
    pub author: String,
    /// Subject line.
    pub subject: String,
    /// Changed paths (against the first parent).
    pub paths: Vec<String>,
    /// True for merges.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub merge: bool,
}

/// One commit that changed a function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FunctionEvent {
    /// Full commit id.
    pub id: String,
    /// Author date.
    pub date: String,
    /// `Name <email>` of the author.
    pub author: String,
    /// Subject line.
    pub subject: String,
    /// The function's file after the commit (before it, when removed).
    pub path: String,
    /// Its file before the commit, when that differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// `added`, `modified`, `removed` or `moved`.
    pub change: Change,
    /// Only whitespace inside the body changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub whitespace_only: bool,
    /// The function's name at this commit: the one asked about, or the function its code
    /// came from (see `origin`).
    pub function: String,
    /// For an `added` function, the functions of the parent's version of the file that its
    /// lines came from (a rename, a split, two functions unified); for a `modified` one,
    /// functions the commit removed from the file and merged into it. Their older history
    /// follows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
}

/// An event of a function's history, with what following its code further back needs.
struct Found {
    /// Its commit's (committer, author) time: the order of events.
    order: (i64, i64),
    /// Its commit.
    commit: Oid,
    /// That commit's first parent.
    parent: Option<Oid>,
    event: FunctionEvent,
    /// The functions the commit removed from the same file.
    removed_here: Vec<String>,
}

/// A changed file in `show`.
pub type ShowFile = FileChange;

/// A `Fixes:` trailer in output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FixOut {
    /// The trailer's value.
    pub raw: String,
    /// The named commit, when it resolved (and is visible at the revision).
    pub commit: Option<String>,
    /// Its subject.
    pub subject: Option<String>,
    /// `id` or `subject`.
    pub resolved_by: Option<ResolvedBy>,
}

/// One commit in full.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShowCommit {
    /// Full commit id.
    pub id: String,
    /// Parent ids.
    pub parents: Vec<String>,
    /// `Name <email>` of the author.
    pub author: String,
    /// Author date.
    pub date: String,
    /// `Name <email>` of the committer.
    pub committer: String,
    /// Commit date.
    pub commit_date: String,
    /// True for merges (files and diff are against the first parent).
    pub merge: bool,
    /// Subject line.
    pub subject: String,
    /// Message after the subject.
    pub body: String,
    /// Parsed trailers.
    pub trailers: Vec<Trailer>,
    /// Changed files.
    pub files: Vec<ShowFile>,
    /// Changed functions.
    pub functions: Vec<FunctionChange>,
    /// `Fixes:` trailers resolved.
    pub fixes: Vec<FixOut>,
    /// The unified diff against the first parent, cut at the requested size.
    pub diff: String,
    /// True when `diff` was cut (it then ends with a marker line).
    pub diff_truncated: bool,
}

/// One blamed line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BlameLine {
    /// Line number (1-based).
    pub line: u32,
    /// Full id of the commit that last changed it.
    pub commit: String,
    /// `Name <email>` of that commit's author.
    pub author: String,
    /// Its author date.
    pub date: String,
    /// The line's text.
    pub text: String,
}

/// `fixes COMMIT`: who fixes it, and what it fixes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FixesOf {
    /// The commit asked about.
    pub commit: String,
    /// Commits whose `Fixes:` names it, newest first.
    pub fixed_by: Vec<LogEntry>,
    /// Its own `Fixes:` trailers.
    pub fixes: Vec<FixOut>,
}

/// The history as of one revision.
pub struct History<'a> {
    index: &'a Index,
    rev: Rev,
    ancestors: HashSet<Oid>,
}

impl Index {
    /// The history as of `rev`, indexing the commits of its history not indexed yet first.
    pub fn history(&self, rev: &Rev, progress: &dyn Progress) -> Result<History<'_>> {
        if !HistoryStore::new(&self.store).contains(rev.commit)? {
            self.index_history(std::slice::from_ref(rev), progress)?;
        }
        let ancestors = ancestors(self.repo.git()?, rev.commit)?;
        Ok(History {
            index: self,
            rev: rev.clone(),
            ancestors,
        })
    }
}

fn person(sig: &super::Signature) -> String {
    format!("{} <{}>", sig.name, sig.email)
}

fn entry(record: &CommitRecord) -> LogEntry {
    LogEntry {
        id: record.oid().to_string(),
        date: date::format(record.author.time, record.author.offset_minutes),
        author: person(&record.author),
        subject: record.subject.clone(),
        paths: record.files.iter().map(|file| file.path.clone()).collect(),
        merge: record.is_merge(),
    }
}

impl History<'_> {
    /// The revision this history answers for.
    pub fn rev(&self) -> &Rev {
        &self.rev
    }

    fn store(&self) -> HistoryStore<'_> {
        HistoryStore::new(&self.index.store)
    }

    /// Records of the visible commits among `ids`, newest (by commit date) first.
    fn visible_records(&self, ids: impl IntoIterator<Item = Oid>) -> Result<Vec<CommitRecord>> {
        let store = self.store();
        let ids: BTreeSet<Oid> = ids
            .into_iter()
            .filter(|id| self.ancestors.contains(id))
            .collect();
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            records.push(store.commit(id)?.ok_or_else(|| not_indexed(id))?);
        }
        records
            .sort_by_key(|record| std::cmp::Reverse((record.committer.time, record.author.time)));
        Ok(records)
    }

    /// Every visible commit's record, newest first (for whole-history reports).
    pub fn commits(&self) -> Result<Vec<CommitRecord>> {
        self.visible_records(self.ancestors.iter().copied())
    }

    /// Resolves a commit argument and checks that it is visible at the revision.
    pub fn resolve_commit(&self, commit: &str) -> Result<CommitRecord> {
        let id = self.index.resolve(commit)?.commit;
        if !self.ancestors.contains(&id) {
            return Err(Error::BadQuery(format!(
                "commit {commit} ({id}) is not in the history of {}",
                self.rev.name
            )));
        }
        self.store().commit(id)?.ok_or_else(|| not_indexed(id))
    }

    /// Commits newest first, optionally only those touching a path (a file, or a directory
    /// when it ends in `/` or no file has that exact path) or changing a function.
    pub fn log(
        &self,
        target: Option<&str>,
        since: Option<i64>,
        limit: usize,
    ) -> Result<Vec<LogEntry>> {
        let store = self.store();
        let records = match target {
            Some(target) => {
                let mut ids = if target.ends_with('/') {
                    Vec::new()
                } else {
                    store.lookup(Key::Path(target))?
                };
                if ids.is_empty() {
                    ids =
                        store.lookup_path_prefix(&format!("{}/", target.trim_end_matches('/')))?;
                }
                if ids.is_empty() {
                    ids = store.lookup(Key::Function(target))?;
                }
                self.visible_records(ids)?
            }
            None => self.recent_records(since, limit)?,
        };
        Ok(records
            .iter()
            .filter(|record| since.is_none_or(|since| record.committer.time >= since))
            .take(limit)
            .map(entry)
            .collect())
    }

    /// The newest visible commits by commit date, at most `limit`, back to `since`.
    fn recent_records(&self, since: Option<i64>, limit: usize) -> Result<Vec<CommitRecord>> {
        let repo = self.index.repo.git()?;
        let context = || format!("walking the history of {}", self.rev.name);
        let mut walk = repo.revwalk().map_err(Error::git(context()))?;
        walk.set_sorting(Sort::TIME)
            .map_err(Error::git(context()))?;
        walk.push(self.rev.commit).map_err(Error::git(context()))?;
        let store = self.store();
        let mut records = Vec::new();
        for id in walk {
            let record = store.commit(id.map_err(Error::git(context()))?)?;
            let record = record.ok_or_else(|| not_indexed(self.rev.commit))?;
            if since.is_some_and(|since| record.committer.time < since) {
                continue;
            }
            records.push(record);
            if records.len() >= limit {
                break;
            }
        }
        Ok(records)
    }

    /// Every commit that changed the body of function `name`, newest first, across file
    /// renames and moves between files. With `path`, only the function living at `path`
    /// at the revision is followed: its earlier files are found through the renames and
    /// moves that brought it there. Where a commit added the function out of another one
    /// (renamed or split out, see the `origin` module), moved it into a file whose code it
    /// took over, or merged another function of its file into it, the history carries on
    /// with that function's older commits, as `git log -L` does.
    pub fn function_history(&self, name: &str, path: Option<&str>) -> Result<Vec<FunctionEvent>> {
        let mut found = self.named_history(name, path, None)?;
        let mut followed: HashSet<(String, String)> = HashSet::new();
        let mut next = 0;
        while next < found.len() && followed.len() < MAX_ORIGINS {
            let at = &found[next];
            next += 1;
            // Code comes from elsewhere where the function appears, or where the commit
            // removed another function of the same file (merged into this one).
            // A function moved into a file that already existed may also take the code of
            // a function there (a wrapper moved next to the code it wrapped).
            let old_path = match at.event.change {
                Change::Moved => at.event.path.clone(),
                _ => at
                    .event
                    .old_path
                    .clone()
                    .unwrap_or_else(|| at.event.path.clone()),
            };
            let origins = match at.event.change {
                Change::Added | Change::Moved => {
                    self.origins_of(at, &old_path, &|other| other != at.event.function)?
                }
                Change::Modified if !at.removed_here.is_empty() => {
                    self.origins_of(at, &old_path, &|other| {
                        at.removed_here.iter().any(|removed| removed == other)
                    })?
                }
                _ => Vec::new(),
            };
            if origins.is_empty() {
                continue;
            }
            let at = &mut found[next - 1];
            at.event.origins = origins.clone();
            let before = (at.order.0, at.commit);
            for origin in origins {
                if followed.insert((origin.clone(), old_path.clone())) {
                    found.extend(self.named_history(&origin, Some(&old_path), Some(before))?);
                }
            }
        }
        found.sort_by_key(|at| std::cmp::Reverse(at.order));
        let mut seen = HashSet::new();
        found.retain(|at| {
            seen.insert((at.commit, at.event.function.clone(), at.event.path.clone()))
        });
        Ok(found.into_iter().map(|at| at.event).collect())
    }

    /// [`History::function_history`] without following the function's code into other
    /// functions: only the commits that changed a function of this name (cheaper; enough
    /// for its recent changes).
    pub fn function_changes(&self, name: &str, path: Option<&str>) -> Result<Vec<FunctionEvent>> {
        Ok(self
            .named_history(name, path, None)?
            .into_iter()
            .map(|at| at.event)
            .collect())
    }

    /// The commits that changed a function of this name; with `before` (a commit and its
    /// committer time), only commits older than that one.
    fn named_history(
        &self,
        name: &str,
        path: Option<&str>,
        before: Option<(i64, Oid)>,
    ) -> Result<Vec<Found>> {
        let mut records = self.visible_records(self.store().lookup(Key::Function(name))?)?;
        if let Some((time, commit)) = before {
            records.retain(|record| record.committer.time <= time && record.oid() != commit);
        }
        let mut lineage: Option<HashSet<String>> = match path {
            Some(path) => Some(self.rename_closure([path.to_string()].into())?),
            None => None,
        };
        let mut found = Vec::new();
        for record in &records {
            for change in record.functions.iter().filter(|change| change.name == name) {
                if let Some(paths) = &mut lineage {
                    if !paths.contains(&change.path) {
                        continue;
                    }
                    if let Some(old_path) =
                        change.old_path.as_ref().filter(|old| !paths.contains(*old))
                    {
                        *paths = self.rename_closure(
                            paths.iter().cloned().chain([old_path.clone()]).collect(),
                        )?;
                    }
                }
                let event = FunctionEvent {
                    id: record.oid().to_string(),
                    date: date::format(record.author.time, record.author.offset_minutes),
                    author: person(&record.author),
                    subject: record.subject.clone(),
                    path: change.path.clone(),
                    old_path: change.old_path.clone(),
                    change: change.change,
                    whitespace_only: change.whitespace_only,
                    function: name.to_string(),
                    origins: Vec::new(),
                };
                found.push(Found {
                    order: (record.committer.time, record.author.time),
                    commit: record.oid(),
                    parent: record.parents.first().map(oid),
                    event,
                    removed_here: record
                        .functions
                        .iter()
                        .filter(|other| {
                            other.change == Change::Removed && other.path == change.path
                        })
                        .map(|other| other.name.clone())
                        .collect(),
                });
            }
        }
        Ok(found)
    }

    /// The functions among `candidates` that an added, moved or modified function's code
    /// came from, in `old_path` in its commit's first parent (see
    /// [`super::origin::origins`]).
    fn origins_of(
        &self,
        at: &Found,
        old_path: &str,
        candidates: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>> {
        let Some(parent) = at.parent else {
            return Ok(Vec::new());
        };
        let repo = self.index.repo.git()?;
        let event = &at.event;
        let (Some(new_blob), Some(old_blob)) = (
            super::blame::blob_at(repo, at.commit, &event.path)?,
            super::blame::blob_at(repo, parent, old_path)?,
        ) else {
            return Ok(Vec::new());
        };
        // The indexer stored both versions' spans; scan only what it did not.
        let with_spans = |blob: Oid| -> Result<(Vec<u8>, Vec<FnSpan>)> {
            let content = self.index.repo.read_blob(blob)?;
            let spans = match self.store().spans(blob)? {
                Some(spans) => spans,
                None => super::functions::spans(&content),
            };
            Ok((content, spans))
        };
        let (after, after_spans) = with_spans(new_blob)?;
        let Some(span) = after_spans.iter().find(|span| span.name == event.function) else {
            return Ok(Vec::new());
        };
        let (before, before_spans) = with_spans(old_blob)?;
        Ok(super::origin::origins(
            &before,
            &before_spans,
            &after,
            (span.line, span.end_line),
            candidates,
        ))
    }

    /// `paths` and every path a visible commit renamed to one of them, transitively.
    fn rename_closure(&self, mut paths: HashSet<String>) -> Result<HashSet<String>> {
        let mut queue: Vec<String> = paths.iter().cloned().collect();
        while let Some(path) = queue.pop() {
            for record in self.visible_records(self.store().lookup(Key::RenamedTo(&path))?)? {
                for old in record
                    .files
                    .iter()
                    .filter(|file| file.path == path)
                    .filter_map(|file| file.old_path.clone())
                {
                    if paths.insert(old.clone()) {
                        queue.push(old);
                    }
                }
            }
        }
        Ok(paths)
    }

    /// One commit with its diff against the first parent, cut after `max_diff_bytes`.
    pub fn show(&self, commit: &str, max_diff_bytes: usize) -> Result<ShowCommit> {
        let record = self.resolve_commit(commit)?;
        let (diff, diff_truncated) = self.diff_text(record.oid(), max_diff_bytes)?;
        Ok(ShowCommit {
            id: record.oid().to_string(),
            parents: record
                .parents
                .iter()
                .map(|parent| oid(parent).to_string())
                .collect(),
            author: person(&record.author),
            date: date::format(record.author.time, record.author.offset_minutes),
            committer: person(&record.committer),
            commit_date: date::format(record.committer.time, record.committer.offset_minutes),
            merge: record.is_merge(),
            fixes: self.fixes_out(&record)?,
            subject: record.subject,
            body: record.body,
            trailers: record.trailers,
            files: record.files,
            functions: record.functions,
            diff,
            diff_truncated,
        })
    }

    fn diff_text(&self, id: Oid, max_bytes: usize) -> Result<(String, bool)> {
        let repo = self.index.repo.git()?;
        let context = || format!("diffing commit {id}");
        let commit = repo.find_commit(id).map_err(Error::git(context()))?;
        let tree = commit.tree().map_err(Error::git(context()))?;
        let parent_tree = match commit.parents().next() {
            Some(parent) => Some(parent.tree().map_err(Error::git(context()))?),
            None => None,
        };
        let mut diff = repo
            .diff_tree_to_tree(
                parent_tree.as_ref(),
                Some(&tree),
                Some(&mut DiffOptions::new()),
            )
            .map_err(Error::git(context()))?;
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))
            .map_err(Error::git(context()))?;
        let mut text = Vec::new();
        let mut truncated = false;
        let printed = diff.print(DiffFormat::Patch, |_, _, line| {
            if matches!(line.origin(), '+' | '-' | ' ') {
                text.push(line.origin() as u8);
            }
            text.extend_from_slice(line.content());
            truncated = text.len() > max_bytes;
            !truncated
        });
        if !truncated {
            printed.map_err(Error::git(context()))?;
        }
        let mut text = String::from_utf8_lossy(&text).into_owned();
        if truncated {
            let mut cut = max_bytes.min(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(&format!(
                "\n[... diff cut at {max_bytes} bytes; see `git show {id}` ...]\n"
            ));
        }
        Ok((text, truncated))
    }

    /// Who last changed each line `start..=end` of `path` (clamped to the file), as
    /// `git blame` says: following merges into every parent and whole-file renames (see
    /// the `blame` module).
    pub fn blame(&self, path: &str, start: u32, end: u32) -> Result<Vec<BlameLine>> {
        self.blame_ranges(path, &[(start, end)])
    }

    /// [`History::blame`] of several line ranges of one file at once (each `start..=end`,
    /// clamped to the file), in one walk of its history: much cheaper than one blame per
    /// range. Each line is reported once, in line order.
    pub fn blame_ranges(&self, path: &str, ranges: &[(u32, u32)]) -> Result<Vec<BlameLine>> {
        let repo = self.index.repo.git()?;
        let context = || format!("blaming {path} at {}", self.rev.name);
        let tree = repo
            .find_commit(self.rev.commit)
            .and_then(|commit| commit.tree())
            .map_err(Error::git(context()))?;
        let entry = tree
            .get_path(Path::new(path))
            .map_err(|_| Error::NoSuchPath {
                path: path.to_string(),
                rev: self.rev.name.clone(),
                hint: String::new(),
            })?;
        let content = self.index.repo.read_blob(entry.id())?;
        let text = String::from_utf8_lossy(&content);
        let lines: Vec<&str> = text.lines().collect();
        let wanted: BTreeSet<u32> = ranges
            .iter()
            .flat_map(|&(start, end)| start.max(1)..=end.min(lines.len() as u32))
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let zero_based: Vec<u32> = wanted.iter().map(|line| line - 1).collect();
        let blamed = super::blame::blame(
            self.index,
            &self.ancestors,
            self.rev.commit,
            path,
            entry.id(),
            &zero_based,
        )?;
        Ok(wanted
            .into_iter()
            .zip(blamed)
            .map(|(line, (commit, author, date))| BlameLine {
                line,
                commit: commit.to_string(),
                author,
                date,
                text: lines[(line - 1) as usize].to_string(),
            })
            .collect())
    }

    /// The commits whose `Fixes:` names `commit`, and what `commit` itself fixes.
    pub fn fixes(&self, commit: &str) -> Result<FixesOf> {
        let record = self.resolve_commit(commit)?;
        let fixed_by = self
            .visible_records(self.store().fixed_by(record.oid())?)?
            .iter()
            .map(entry)
            .collect();
        Ok(FixesOf {
            commit: record.oid().to_string(),
            fixed_by,
            fixes: self.fixes_out(&record)?,
        })
    }

    fn fixes_out(&self, record: &CommitRecord) -> Result<Vec<FixOut>> {
        let store = self.store();
        let mut out = Vec::new();
        for fix in &record.fixes {
            let target = fix
                .commit
                .as_ref()
                .map(oid)
                .filter(|target| self.ancestors.contains(target));
            let subject = match target {
                Some(target) => store.commit(target)?.map(|target| target.subject),
                None => None,
            };
            out.push(FixOut {
                raw: fix.raw.clone(),
                commit: target.map(|target| target.to_string()),
                subject,
                resolved_by: fix.resolved_by.filter(|_| target.is_some()),
            });
        }
        Ok(out)
    }
}

pub(super) fn not_indexed(id: Oid) -> Error {
    Error::BadQuery(format!(
        "commit {id} is not in the history index; run `ktriage index` for a ref that contains it"
    ))
}
