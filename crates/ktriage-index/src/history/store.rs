//! The history tables in the index's redb database.
//!
//! `hist_commits` maps a commit id to its [`CommitRecord`]; its presence means the commit
//! and everything about it is indexed. `hist_spans` maps a blob id to its function spans.
//! The multimaps (function name, path, renamed-to path, subject, fixed commit → commit id)
//! are written in the same transaction as the records they point to.

use super::functions::FnSpan;
use super::{CommitRecord, Signature};
use crate::codec;
use crate::error::{Error, Result};
use crate::store::Store;
use git2::Oid;
use redb::{MultimapTableDefinition, ReadOnlyTable, ReadableTableMetadata, TableDefinition};
use serde::Deserialize;
use std::collections::HashMap;

const COMMITS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("hist_commits");
const SPANS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("hist_spans");
const FUNCTIONS: MultimapTableDefinition<&str, &[u8]> =
    MultimapTableDefinition::new("hist_functions");
const PATHS: MultimapTableDefinition<&str, &[u8]> = MultimapTableDefinition::new("hist_paths");
const RENAMES: MultimapTableDefinition<&str, &[u8]> = MultimapTableDefinition::new("hist_renames");
const SUBJECTS: MultimapTableDefinition<&str, &[u8]> =
    MultimapTableDefinition::new("hist_subjects");
const FIXED_BY: MultimapTableDefinition<&[u8], &[u8]> =
    MultimapTableDefinition::new("hist_fixed_by");

/// Which multimap to look a key up in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key<'a> {
    /// Commits that changed the function named so.
    Function(&'a str),
    /// Commits that changed this exact path (new or old side).
    Path(&'a str),
    /// Commits that renamed a file to this path.
    RenamedTo(&'a str),
    /// Commits with this subject.
    Subject(&'a str),
}

/// The leading fields of a [`CommitRecord`]: enough to walk the graph by date.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CommitHead {
    /// The commit id (read past: the caller knows it).
    _id: [u8; 20],
    /// Parent ids, first parent first.
    pub parents: Vec<[u8; 20]>,
    /// Author.
    pub author: Signature,
    /// Committer.
    pub committer: Signature,
}

/// Commit records read in one read transaction (see [`HistoryStore::commit_reader`]).
pub(crate) struct CommitReader<'a> {
    store: HistoryStore<'a>,
    table: Option<ReadOnlyTable<&'static [u8], &'static [u8]>>,
}

impl CommitReader<'_> {
    fn decode<T: for<'de> Deserialize<'de>>(&self, commit: Oid) -> Result<Option<T>> {
        let Some(table) = &self.table else {
            return Ok(None);
        };
        let Some(value) = table
            .get(commit.as_bytes())
            .map_err(self.store.store.err())?
        else {
            return Ok(None);
        };
        // A record starts with the fields of `CommitHead`; decoding ignores what follows.
        codec::unpack(value.value()).map(Some).map_err(|err| {
            self.store
                .corrupt(format!("record of commit {commit}: {err}"))
        })
    }

    /// The record of an indexed commit.
    pub fn commit(&self, commit: Oid) -> Result<Option<CommitRecord>> {
        self.decode(commit)
    }

    /// The parents and signatures of an indexed commit, without decoding the rest.
    pub fn head(&self, commit: Oid) -> Result<Option<CommitHead>> {
        self.decode(commit)
    }
}

/// The history tables of a [`Store`].
pub(crate) struct HistoryStore<'a> {
    store: &'a Store,
}

fn decode_oid(bytes: &[u8]) -> Option<Oid> {
    Oid::from_bytes(bytes).ok()
}

impl<'a> HistoryStore<'a> {
    /// The history tables of `store` (created on first use by writes; reads of a missing
    /// table see it empty).
    pub fn new(store: &'a Store) -> HistoryStore<'a> {
        HistoryStore { store }
    }

    fn corrupt(&self, detail: String) -> Error {
        self.store.err()(redb::Error::Corrupted(detail))
    }

    /// True when nothing of the history is indexed yet.
    pub fn is_empty(&self) -> Result<bool> {
        let txn = self.store.read()?;
        match txn.open_table(COMMITS) {
            Ok(table) => Ok(table.len().map_err(self.store.err())? == 0),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(true),
            Err(err) => Err(self.store.err()(err)),
        }
    }

    /// True when the commit is indexed.
    pub fn contains(&self, commit: Oid) -> Result<bool> {
        Ok(self.get_raw(COMMITS, commit)?.is_some())
    }

    /// The record of an indexed commit.
    pub fn commit(&self, commit: Oid) -> Result<Option<CommitRecord>> {
        self.get_raw(COMMITS, commit)?
            .map(|bytes| {
                codec::unpack(&bytes)
                    .map_err(|err| self.corrupt(format!("record of commit {commit}: {err}")))
            })
            .transpose()
    }

    /// A reader of commit records that keeps one read transaction open, for walks that
    /// look up many commits.
    pub fn commit_reader(&self) -> Result<CommitReader<'a>> {
        let txn = self.store.read()?;
        let table = match txn.open_table(COMMITS) {
            Ok(table) => Some(table),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(err) => return Err(self.store.err()(err)),
        };
        Ok(CommitReader {
            store: HistoryStore { store: self.store },
            table,
        })
    }

    /// The stored spans of a blob.
    pub fn spans(&self, blob: Oid) -> Result<Option<Vec<FnSpan>>> {
        self.get_raw(SPANS, blob)?
            .map(|bytes| {
                codec::unpack(&bytes)
                    .map_err(|err| self.corrupt(format!("spans of blob {blob}: {err}")))
            })
            .transpose()
    }

    /// Stored spans of those `blobs` that have them.
    pub fn spans_of(
        &self,
        blobs: impl IntoIterator<Item = Oid>,
    ) -> Result<HashMap<Oid, Vec<FnSpan>>> {
        let mut out = HashMap::new();
        for blob in blobs {
            if let Some(spans) = self.spans(blob)? {
                out.insert(blob, spans);
            }
        }
        Ok(out)
    }

    fn get_raw(&self, table: TableDefinition<&[u8], &[u8]>, key: Oid) -> Result<Option<Vec<u8>>> {
        let txn = self.store.read()?;
        let table = match txn.open_table(table) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(err) => return Err(self.store.err()(err)),
        };
        Ok(table
            .get(key.as_bytes())
            .map_err(self.store.err())?
            .map(|value| value.value().to_vec()))
    }

    /// Commit ids listed under `key`.
    pub fn lookup(&self, key: Key<'_>) -> Result<Vec<Oid>> {
        let (table, name) = match key {
            Key::Function(name) => (FUNCTIONS, name),
            Key::Path(name) => (PATHS, name),
            Key::RenamedTo(name) => (RENAMES, name),
            Key::Subject(name) => (SUBJECTS, name),
        };
        let txn = self.store.read()?;
        let table = match txn.open_multimap_table(table) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(err) => return Err(self.store.err()(err)),
        };
        let mut out = Vec::new();
        for value in table.get(name).map_err(self.store.err())? {
            let value = value.map_err(self.store.err())?;
            out.push(
                decode_oid(value.value())
                    .ok_or_else(|| self.corrupt(format!("bad commit id under `{name}`")))?,
            );
        }
        Ok(out)
    }

    /// Commits that changed a path under the directory `prefix` (which ends in `/`).
    pub fn lookup_path_prefix(&self, prefix: &str) -> Result<Vec<Oid>> {
        let txn = self.store.read()?;
        let table = match txn.open_multimap_table(PATHS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(err) => return Err(self.store.err()(err)),
        };
        let mut out = Vec::new();
        for entry in table.range(prefix..).map_err(self.store.err())? {
            let (path, values) = entry.map_err(self.store.err())?;
            if !path.value().starts_with(prefix) {
                break;
            }
            for value in values {
                let value = value.map_err(self.store.err())?;
                out.extend(decode_oid(value.value()));
            }
        }
        Ok(out)
    }

    /// Commits whose `Fixes:` names `commit`.
    pub fn fixed_by(&self, commit: Oid) -> Result<Vec<Oid>> {
        let txn = self.store.read()?;
        let table = match txn.open_multimap_table(FIXED_BY) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(err) => return Err(self.store.err()(err)),
        };
        let mut out = Vec::new();
        for value in table.get(commit.as_bytes()).map_err(self.store.err())? {
            out.extend(decode_oid(value.map_err(self.store.err())?.value()));
        }
        Ok(out)
    }

    /// Writes new spans and commit records with their lookup entries, in one transaction.
    pub fn write(&self, spans: &[(Oid, Vec<FnSpan>)], records: &[CommitRecord]) -> Result<()> {
        let encode = |what: String, result: std::result::Result<Vec<u8>, String>| {
            result.map_err(|e| self.corrupt(format!("encoding {what}: {e}")))
        };
        let txn = self.store.write()?;
        {
            let mut span_table = txn.open_table(SPANS).map_err(self.store.err())?;
            for (blob, blob_spans) in spans {
                let bytes = encode(format!("spans of {blob}"), codec::pack(blob_spans))?;
                span_table
                    .insert(blob.as_bytes(), bytes.as_slice())
                    .map_err(self.store.err())?;
            }
            let mut commits = txn.open_table(COMMITS).map_err(self.store.err())?;
            let mut functions = txn
                .open_multimap_table(FUNCTIONS)
                .map_err(self.store.err())?;
            let mut paths = txn.open_multimap_table(PATHS).map_err(self.store.err())?;
            let mut renames = txn.open_multimap_table(RENAMES).map_err(self.store.err())?;
            let mut subjects = txn
                .open_multimap_table(SUBJECTS)
                .map_err(self.store.err())?;
            let mut fixed_by = txn
                .open_multimap_table(FIXED_BY)
                .map_err(self.store.err())?;
            for record in records {
                let id = record.id.as_slice();
                let bytes = encode(format!("commit {}", record.oid()), codec::pack(record))?;
                commits
                    .insert(id, bytes.as_slice())
                    .map_err(self.store.err())?;
                for function in &record.functions {
                    functions
                        .insert(function.name.as_str(), id)
                        .map_err(self.store.err())?;
                }
                for file in &record.files {
                    paths
                        .insert(file.path.as_str(), id)
                        .map_err(self.store.err())?;
                    if let Some(old_path) = &file.old_path {
                        paths
                            .insert(old_path.as_str(), id)
                            .map_err(self.store.err())?;
                        renames
                            .insert(file.path.as_str(), id)
                            .map_err(self.store.err())?;
                    }
                }
                subjects
                    .insert(record.subject.as_str(), id)
                    .map_err(self.store.err())?;
                for fix in &record.fixes {
                    if let Some(target) = &fix.commit {
                        fixed_by
                            .insert(target.as_slice(), id)
                            .map_err(self.store.err())?;
                    }
                }
            }
        }
        txn.commit().map_err(self.store.err())
    }
}
