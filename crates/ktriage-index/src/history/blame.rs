//! `blame` with `git blame`'s semantics, walked over the history index.
//!
//! Lines to attribute travel back from the revision as entries of an *origin* (a commit and
//! the file's path and blob there). A commit whose stored record does not list the path
//! has the first parent's blob, so entries jump along first parents to the next commit
//! that changed the path, reading only the leading fields of the records on the way (no
//! tree diffs). At a commit that changed it, as `git blame` does:
//!
//! - the file is looked up at the same path in every parent first, then, in the parents
//!   that lack it, at the path it was renamed from; the first parent found with the same
//!   blob gets every entry (so a merge whose second parent has the file unchanged at the
//!   same path passes it there, even when the first parent has it under an old name);
//! - otherwise the blob is diffed (Myers with git's indent heuristic) against each parent
//!   in order, and each line outside the changed hunks passes to the first parent where it
//!   is unchanged;
//! - lines changed against every parent (or in a file added by the commit) are the
//!   commit's.
//!
//! Origins are processed newest first by commit date, so entries that reach a commit by
//! several routes are diffed once. Renames are followed for the whole file (the first
//! parent's rename from the stored record; for other parents of a merge, the paths visible
//! commits renamed to this one), copies are not, as `git blame` without `-C`. The stored
//! renames come from libgit2, whose similarity measure accepts pairs git rejects (a small
//! file "renamed" into a much larger one), so a rename is followed only when git's own
//! measure agrees. The walk stops when every requested line is attributed.
//!
//! Does not: ignore whitespace or revisions (`-w`, `--ignore-rev`); detect moved or copied
//! lines (`-M`, `-C`).

use super::store::{CommitReader, HistoryStore, Key};
use super::{date, oid};
use crate::error::{Error, Result};
use crate::Index;
use git2::{ObjectType, Oid};
use imara_diff::{Algorithm, Diff, InternedInput};
use std::collections::{hash_map, BinaryHeap, HashMap, HashSet};
use std::path::Path;

/// A line still to attribute: its index in the origin's blob, and its index in the
/// requested range.
type Entry = (u32, u32);

/// A blamed line: the commit, `Name <email>` of its author, and the author date.
pub(super) type Attribution = (Oid, String, String);

/// Attributes `lines` (0-based, distinct) of `blob`, the file at `path` in `rev`, to the
/// commits that last changed them, in the order given. Only `rev` and the commits in
/// `ancestors` are looked at. Lines blamed together share one walk: every diff on the way
/// is done once for all of them.
pub(super) fn blame(
    index: &Index,
    ancestors: &HashSet<Oid>,
    rev: Oid,
    path: &str,
    blob: Oid,
    lines: &[u32],
) -> Result<Vec<Attribution>> {
    let store = HistoryStore::new(&index.store);
    let mut walk = Walk {
        index,
        ancestors,
        reader: store.commit_reader()?,
        store,
        changed: HashMap::new(),
        blobs: HashMap::new(),
        pending: HashMap::new(),
        queue: BinaryHeap::new(),
        found: vec![None; lines.len()],
    };
    walk.add(
        rev,
        path,
        blob,
        lines
            .iter()
            .zip(0..)
            .map(|(line, nth)| (*line, nth))
            .collect(),
    )?;
    while let Some((_, commit, path)) = walk.queue.pop() {
        if let Some((blob, entries)) = walk.pending.remove(&(commit, path.clone())) {
            walk.pass(commit, &path, blob, entries)?;
        }
    }
    let mut out = Vec::with_capacity(walk.found.len());
    let mut people: HashMap<Oid, (String, String)> = HashMap::new();
    for (line, commit) in lines.iter().zip(&walk.found) {
        let commit = commit.ok_or_else(|| {
            Error::BadQuery(format!("no commit found for line {} of {path}", line + 1))
        })?;
        let (author, date) = match people.entry(commit) {
            hash_map::Entry::Occupied(known) => known.get().clone(),
            hash_map::Entry::Vacant(slot) => {
                let head = walk
                    .reader
                    .head(commit)?
                    .ok_or_else(|| super::query::not_indexed(commit))?;
                let author = format!("{} <{}>", head.author.name, head.author.email);
                slot.insert((
                    author,
                    date::format(head.author.time, head.author.offset_minutes),
                ))
                .clone()
            }
        };
        out.push((commit, author, date));
    }
    Ok(out)
}

/// The line diff `git` would show between two versions of a file: Myers, then git's
/// indent heuristic to place ambiguous hunks.
pub(super) fn line_diff(before: &[u8], after: &[u8]) -> Diff {
    let input = InternedInput::new(before, after);
    let mut diff = Diff::compute(Algorithm::Myers, &input);
    diff.postprocess_lines(&input);
    diff
}

/// The blob at `path` in `commit`'s tree (`None` when there is none, or a directory).
pub(super) fn blob_at(repo: &git2::Repository, commit: Oid, path: &str) -> Result<Option<Oid>> {
    let context = || format!("reading the tree of {commit}");
    let tree = repo
        .find_commit(commit)
        .and_then(|commit| commit.tree())
        .map_err(Error::git(context()))?;
    Ok(tree
        .get_path(Path::new(path))
        .ok()
        .filter(|entry| entry.kind() == Some(ObjectType::Blob))
        .map(|entry| entry.id()))
}

struct Walk<'a> {
    index: &'a Index,
    ancestors: &'a HashSet<Oid>,
    reader: CommitReader<'a>,
    store: HistoryStore<'a>,
    /// Per path: the commits whose record lists it (changed against the first parent).
    changed: HashMap<String, HashSet<Oid>>,
    blobs: HashMap<Oid, Vec<u8>>,
    /// Entries waiting at an origin (commit, path), with the file's blob there.
    pending: HashMap<(Oid, String), (Oid, Vec<Entry>)>,
    /// Origins to process, newest commit date first.
    queue: BinaryHeap<(i64, Oid, String)>,
    /// The commit of each requested line, once known.
    found: Vec<Option<Oid>>,
}

impl Walk<'_> {
    /// True when `commit`'s record lists `path` as changed (new side).
    fn changes(&mut self, commit: Oid, path: &str) -> Result<bool> {
        if !self.changed.contains_key(path) {
            let ids = self.store.lookup(Key::Path(path))?.into_iter().collect();
            self.changed.insert(path.to_string(), ids);
        }
        if !self
            .changed
            .get(path)
            .is_some_and(|ids| ids.contains(&commit))
        {
            return Ok(false);
        }
        let record = self
            .reader
            .commit(commit)?
            .ok_or_else(|| super::query::not_indexed(commit))?;
        Ok(record.files.iter().any(|file| file.path == path))
    }

    /// Gives `entries` of the file `path` (blob `blob`) at `commit` to the first commit
    /// along first parents that changed the path (or the root), and queues it.
    fn add(&mut self, mut commit: Oid, path: &str, blob: Oid, entries: Vec<Entry>) -> Result<()> {
        let time = loop {
            let head = self
                .reader
                .head(commit)?
                .ok_or_else(|| super::query::not_indexed(commit))?;
            match head.parents.first() {
                Some(parent) if !self.changes(commit, path)? => commit = oid(parent),
                _ => break head.committer.time,
            }
        };
        let key = (commit, path.to_string());
        match self.pending.get_mut(&key) {
            Some((_, waiting)) => waiting.extend(entries),
            None => {
                self.queue.push((time, commit, path.to_string()));
                self.pending.insert(key, (blob, entries));
            }
        }
        Ok(())
    }

    /// Passes the entries of origin (`commit`, `path`) to its parents, keeping the lines
    /// the commit changed.
    fn pass(&mut self, commit: Oid, path: &str, blob: Oid, entries: Vec<Entry>) -> Result<()> {
        let record = self
            .reader
            .commit(commit)?
            .ok_or_else(|| super::query::not_indexed(commit))?;
        let renamed_from = record
            .files
            .iter()
            .find(|file| file.path == path)
            .and_then(|file| file.old_path.clone());
        let parents: Vec<Oid> = record.parents.iter().map(oid).collect();
        // As git: first the same path in every parent, then renames for those without it.
        let mut origins = Vec::with_capacity(parents.len());
        for parent in &parents {
            let origin = self
                .blob_at(*parent, path)?
                .map(|found| (path.to_string(), found));
            if origin.as_ref().is_some_and(|(_, found)| *found == blob) {
                return self.add(*parent, path, blob, entries);
            }
            origins.push(origin);
        }
        for (nth, parent) in parents.iter().enumerate() {
            if origins[nth].is_some() {
                continue;
            }
            let candidates = match nth {
                0 => renamed_from.clone().into_iter().collect(),
                _ => self.renamed_from(path)?,
            };
            for candidate in candidates {
                let Some(found) = self.blob_at(*parent, &candidate)? else {
                    continue;
                };
                if found == blob {
                    return self.add(*parent, &candidate, blob, entries);
                }
                // libgit2 found the stored renames; keep those git's rule also finds.
                if self.similar(found, blob)? {
                    origins[nth] = Some((candidate, found));
                    break;
                }
            }
        }
        let mut rest = entries;
        for (parent, origin) in parents.into_iter().zip(origins) {
            let Some((parent_path, parent_blob)) = origin else {
                continue;
            };
            if rest.is_empty() {
                break;
            }
            let (passed, kept) = self.split(parent_blob, blob, rest)?;
            if !passed.is_empty() {
                self.add(parent, &parent_path, parent_blob, passed)?;
            }
            rest = kept;
        }
        for (_, line) in rest {
            self.found[line as usize] = Some(commit);
        }
        Ok(())
    }

    /// Splits `entries` of `blob` into those unchanged from `parent_blob` (renumbered to
    /// its lines) and those changed.
    fn split(
        &mut self,
        parent_blob: Oid,
        blob: Oid,
        mut entries: Vec<Entry>,
    ) -> Result<(Vec<Entry>, Vec<Entry>)> {
        self.load(parent_blob)?;
        self.load(blob)?;
        let (Some(before), Some(after)) = (self.blobs.get(&parent_blob), self.blobs.get(&blob))
        else {
            return Ok((Vec::new(), entries));
        };
        let diff = line_diff(before, after);
        entries.sort_unstable();
        let (mut passed, mut kept) = (Vec::new(), Vec::new());
        let mut hunks = diff.hunks().peekable();
        let mut shift: i64 = 0;
        for (line, at) in entries {
            while let Some(hunk) = hunks.next_if(|hunk| hunk.after.end <= line) {
                shift += i64::from(hunk.before.end - hunk.before.start)
                    - i64::from(hunk.after.end - hunk.after.start);
            }
            match hunks.peek() {
                Some(hunk) if hunk.after.start <= line => kept.push((line, at)),
                _ => passed.push(((i64::from(line) + shift) as u32, at)),
            }
        }
        Ok((passed, kept))
    }

    /// True when `git diff -M` would take `blob` as a rename of `source` (see [`similar`]).
    fn similar(&mut self, source: Oid, blob: Oid) -> Result<bool> {
        self.load(source)?;
        self.load(blob)?;
        Ok(match (self.blobs.get(&source), self.blobs.get(&blob)) {
            (Some(source), Some(blob)) => similar(source, blob),
            _ => false,
        })
    }

    fn load(&mut self, blob: Oid) -> Result<()> {
        if let hash_map::Entry::Vacant(slot) = self.blobs.entry(blob) {
            slot.insert(self.index.repo.read_blob(blob)?);
        }
        Ok(())
    }

    fn blob_at(&self, commit: Oid, path: &str) -> Result<Option<Oid>> {
        blob_at(self.index.repo.git()?, commit, path)
    }

    /// The paths visible commits renamed to `path`.
    fn renamed_from(&self, path: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for id in self.store.lookup(Key::RenamedTo(path))? {
            if !self.ancestors.contains(&id) {
                continue;
            }
            let record = self
                .reader
                .commit(id)?
                .ok_or_else(|| super::query::not_indexed(id))?;
            for file in record.files.iter().filter(|file| file.path == path) {
                if let Some(old) = file.old_path.clone().filter(|old| !out.contains(old)) {
                    out.push(old);
                }
            }
        }
        Ok(out)
    }
}

/// Git's rename similarity (`diffcore-delta.c`, default `-M50%`): the bytes of `source`
/// found again in `dest`, counted per chunk (a line, or 64 bytes of a longer one, CR of a
/// CRLF ignored) by a hash of the chunk, must be at least half the larger file; files
/// whose sizes differ by more than half the larger are never similar.
fn similar(source: &[u8], dest: &[u8]) -> bool {
    let (larger, smaller) = (source.len().max(dest.len()), source.len().min(dest.len()));
    if larger == 0 || (larger - smaller) * 2 > larger {
        return false;
    }
    let (from, to) = (chunk_bytes(source), chunk_bytes(dest));
    let copied: usize = from
        .iter()
        .map(|(hash, count)| to.get(hash).map_or(0, |other| (*count).min(*other)))
        .sum();
    copied * 2 >= larger
}

/// Bytes per chunk hash, as git's `hash_chars`.
fn chunk_bytes(data: &[u8]) -> HashMap<u32, usize> {
    const HASHBASE: u32 = 107_927;
    let mut out = HashMap::new();
    let (mut accum1, mut accum2, mut n) = (0u32, 0u32, 0usize);
    let mut add = |accum1: u32, accum2: u32, n: usize| {
        let hash = accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE;
        *out.entry(hash).or_insert(0) += n;
    };
    for (at, &byte) in data.iter().enumerate() {
        if byte == b'\r' && data.get(at + 1) == Some(&b'\n') {
            continue;
        }
        let old = accum1;
        accum1 = (accum1 << 7) ^ (accum2 >> 25);
        accum2 = (accum2 << 7) ^ (old >> 25);
        accum1 = accum1.wrapping_add(u32::from(byte));
        n += 1;
        if n < 64 && byte != b'\n' {
            continue;
        }
        add(accum1, accum2, n);
        (accum1, accum2, n) = (0, 0, 0);
    }
    if n > 0 {
        add(accum1, accum2, n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::similar;

    fn lines(range: std::ops::Range<u32>) -> Vec<u8> {
        range
            .flat_map(|n| format!("line {n} of some file\n").into_bytes())
            .collect()
    }

    #[test]
    fn similarity_is_gits() {
        assert!(similar(&lines(0..100), &lines(0..100)));
        // 60 of 100 lines kept: 60% >= 50%.
        assert!(similar(
            &lines(0..100),
            &[lines(0..60), lines(200..240)].concat()
        ));
        // 40 kept: below half.
        assert!(!similar(
            &lines(0..100),
            &[lines(0..40), lines(200..260)].concat()
        ));
        // All of a small file inside one three times its size: sizes too far apart.
        assert!(!similar(&lines(0..100), &lines(0..300)));
        assert!(!similar(b"", b""));
    }
}
