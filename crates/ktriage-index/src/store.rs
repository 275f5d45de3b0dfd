//! The structured store: per-blob facts and name lookups in one redb database.
//!
//! Tables are keyed by content (blob ids), never by path or commit, except `trees`, which
//! caches the source listing of commits already indexed. redb transactions are atomic, so an
//! interrupted write leaves the store as it was before the transaction.

use crate::codec;
use crate::error::{Error, Result};
use crate::facts::FileFacts;
use crate::repo::TreeFile;
use git2::Oid;
use redb::{Database, MultimapTableDefinition, ReadableTableMetadata, TableDefinition};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const BLOBS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blobs");
const TREES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trees");
/// Name → the blobs defining or declaring a symbol of that name (each blob once).
const SYMBOLS: MultimapTableDefinition<&str, [u8; 20]> = MultimapTableDefinition::new("symbols");
/// Name → the blobs calling a function or macro of that name (each blob once).
const CALLEES: MultimapTableDefinition<&str, [u8; 20]> = MultimapTableDefinition::new("callees");

/// The redb-backed store of an index directory.
pub struct Store {
    db: Database,
    dir: PathBuf,
}

impl Store {
    /// Opens (or creates) `store.redb` in `dir`.
    pub fn open(dir: &Path) -> Result<Store> {
        let path = dir.join("store.redb");
        let db = crate::error::retry_busy(|| {
            Database::create(&path).map_err(|err| match err {
                redb::DatabaseError::DatabaseAlreadyOpen => Error::IndexBusy { dir: dir.to_path_buf() },
                other => Error::corrupt(dir, other),
            })
        })?;
        let store = Store { db, dir: dir.to_path_buf() };
        if store.has_tables()? {
            return Ok(store);
        }
        let txn = store.db.begin_write().map_err(store.err())?;
        txn.open_table(BLOBS).map_err(store.err())?;
        txn.open_table(TREES).map_err(store.err())?;
        txn.open_multimap_table(SYMBOLS).map_err(store.err())?;
        txn.open_multimap_table(CALLEES).map_err(store.err())?;
        txn.commit().map_err(store.err())?;
        Ok(store)
    }

    /// True when the tables exist already, so that opening an index writes nothing.
    fn has_tables(&self) -> Result<bool> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let exists = |result: std::result::Result<(), redb::TableError>| match result {
            Ok(()) => Ok(true),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(false),
            Err(err) => Err(self.err()(err)),
        };
        Ok(exists(txn.open_table(BLOBS).map(drop))?
            && exists(txn.open_table(TREES).map(drop))?
            && exists(txn.open_multimap_table(SYMBOLS).map(drop))?
            && exists(txn.open_multimap_table(CALLEES).map(drop))?)
    }

    /// Rewrites the database file without the space freed by earlier transactions (redb
    /// never reuses all of it); true when anything was reclaimed.
    pub fn compact(&mut self) -> Result<bool> {
        self.db.compact().map_err(|err| Error::corrupt(&self.dir, err))
    }

    /// The database, for other modules that keep tables of their own in it.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Maps any redb error to an unreadable-index error naming the directory.
    pub fn err<E: Into<redb::Error>>(&self) -> impl Fn(E) -> Error + '_ {
        move |err| Error::corrupt(&self.dir, err.into())
    }

    /// The blobs of `blobs` that have no facts yet, deduplicated, in first-seen order.
    pub fn missing_blobs(&self, blobs: impl IntoIterator<Item = Oid>) -> Result<Vec<Oid>> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let table = txn.open_table(BLOBS).map_err(self.err())?;
        let mut seen = std::collections::HashSet::new();
        let mut missing = Vec::new();
        for blob in blobs {
            if seen.insert(blob) && table.get(blob.as_bytes()).map_err(self.err())?.is_none() {
                missing.push(blob);
            }
        }
        Ok(missing)
    }

    /// The facts of one blob, if indexed.
    pub fn blob_facts(&self, blob: Oid) -> Result<Option<FileFacts>> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let table = txn.open_table(BLOBS).map_err(self.err())?;
        let Some(value) = table.get(blob.as_bytes()).map_err(self.err())? else {
            return Ok(None);
        };
        let facts = codec::unpack(value.value()).map_err(|err| Error::corrupt(&self.dir, format!("facts of blob {blob}: {err}")))?;
        Ok(Some(facts))
    }

    /// Stores facts for a batch of blobs and their name entries, in one transaction.
    pub fn write_blobs(&self, batch: &[(Oid, FileFacts)]) -> Result<()> {
        let txn = self.db.begin_write().map_err(self.err())?;
        {
            let mut blobs = txn.open_table(BLOBS).map_err(self.err())?;
            let mut symbols = txn.open_multimap_table(SYMBOLS).map_err(self.err())?;
            let mut callees = txn.open_multimap_table(CALLEES).map_err(self.err())?;
            for (blob, facts) in batch {
                let bytes = codec::pack(facts).map_err(|err| Error::corrupt(&self.dir, format!("encoding facts: {err}")))?;
                blobs.insert(blob.as_bytes(), bytes.as_slice()).map_err(self.err())?;
                let id: [u8; 20] = blob.as_bytes().try_into().map_err(|_| Error::corrupt(&self.dir, format!("blob id {blob}")))?;
                let defined: BTreeSet<&str> = facts.symbols.iter().map(|symbol| symbol.name.as_str()).collect();
                for name in defined {
                    symbols.insert(name, id).map_err(self.err())?;
                }
                let called: BTreeSet<&str> = facts.calls.iter().map(|call| call.callee.as_str()).collect();
                for name in called {
                    callees.insert(name, id).map_err(self.err())?;
                }
            }
        }
        txn.commit().map_err(self.err())
    }

    /// The blobs with a symbol named `name`.
    pub fn symbol_blobs(&self, name: &str) -> Result<Vec<Oid>> {
        self.blobs_by_name(SYMBOLS, name)
    }

    /// The blobs with a call of `name`.
    pub fn callee_blobs(&self, name: &str) -> Result<Vec<Oid>> {
        self.blobs_by_name(CALLEES, name)
    }

    fn blobs_by_name(&self, table: MultimapTableDefinition<&str, [u8; 20]>, name: &str) -> Result<Vec<Oid>> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let table = txn.open_multimap_table(table).map_err(self.err())?;
        let mut blobs = Vec::new();
        for value in table.get(name).map_err(self.err())? {
            let id = value.map_err(self.err())?.value();
            blobs.push(Oid::from_bytes(&id).map_err(|_| Error::corrupt(&self.dir, format!("bad entry for `{name}`")))?);
        }
        Ok(blobs)
    }

    /// The cached source listing of an indexed commit.
    pub fn tree(&self, commit: Oid) -> Result<Option<Vec<TreeFile>>> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let table = txn.open_table(TREES).map_err(self.err())?;
        let Some(value) = table.get(commit.as_bytes()).map_err(self.err())? else {
            return Ok(None);
        };
        let files = codec::unpack(value.value()).map_err(|err| Error::corrupt(&self.dir, format!("tree of {commit}: {err}")))?;
        Ok(Some(files))
    }

    /// Records the source listing of a commit whose blobs are all indexed.
    pub fn put_tree(&self, commit: Oid, files: &[TreeFile]) -> Result<()> {
        let bytes = codec::pack(files).map_err(|err| Error::corrupt(&self.dir, format!("encoding tree: {err}")))?;
        let txn = self.db.begin_write().map_err(self.err())?;
        txn.open_table(TREES)
            .map_err(self.err())?
            .insert(commit.as_bytes(), bytes.as_slice())
            .map_err(self.err())?;
        txn.commit().map_err(self.err())
    }

    /// Number of indexed blobs and commits.
    pub fn counts(&self) -> Result<(u64, u64)> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let blobs = txn.open_table(BLOBS).map_err(self.err())?.len().map_err(self.err())?;
        let trees = txn.open_table(TREES).map_err(self.err())?.len().map_err(self.err())?;
        Ok((blobs, trees))
    }
}
