//! The structured store: per-blob facts and name lookups in one redb database.
//!
//! Tables are keyed by content (blob ids), never by path or commit, except `trees`, which
//! caches the source listing of commits already indexed. redb transactions are atomic, so an
//! interrupted write leaves the store as it was before the transaction.

use crate::error::{Error, Result};
use crate::facts::FileFacts;
use crate::repo::TreeFile;
use git2::Oid;
use redb::{Database, MultimapTableDefinition, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};

const BLOBS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blobs");
const TREES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trees");
const SYMBOLS: MultimapTableDefinition<&str, &[u8]> = MultimapTableDefinition::new("symbols");
const CALLEES: MultimapTableDefinition<&str, &[u8]> = MultimapTableDefinition::new("callees");

/// A reference from a name to one item of a blob's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobItem {
    /// The blob holding the item.
    pub blob: Oid,
    /// Index into the blob's `symbols` or `calls`.
    pub index: u32,
}

impl BlobItem {
    fn encode(self) -> [u8; 24] {
        let mut bytes = [0u8; 24];
        bytes[..20].copy_from_slice(self.blob.as_bytes());
        bytes[20..].copy_from_slice(&self.index.to_le_bytes());
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<BlobItem> {
        let blob = Oid::from_bytes(bytes.get(..20)?).ok()?;
        let index = u32::from_le_bytes(bytes.get(20..24)?.try_into().ok()?);
        Some(BlobItem { blob, index })
    }
}

/// The redb-backed store of an index directory.
pub struct Store {
    db: Database,
    dir: PathBuf,
}

impl Store {
    /// Opens (or creates) `store.redb` in `dir`.
    pub fn open(dir: &Path) -> Result<Store> {
        let path = dir.join("store.redb");
        let db = Database::create(&path).map_err(|err| match err {
            redb::DatabaseError::DatabaseAlreadyOpen => Error::IndexBusy { dir: dir.to_path_buf() },
            other => Error::corrupt(dir, other),
        })?;
        let store = Store { db, dir: dir.to_path_buf() };
        let txn = store.db.begin_write().map_err(store.err())?;
        txn.open_table(BLOBS).map_err(store.err())?;
        txn.open_table(TREES).map_err(store.err())?;
        txn.open_multimap_table(SYMBOLS).map_err(store.err())?;
        txn.open_multimap_table(CALLEES).map_err(store.err())?;
        txn.commit().map_err(store.err())?;
        Ok(store)
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
        let facts = postcard::from_bytes(value.value())
            .map_err(|err| Error::corrupt(&self.dir, format!("facts of blob {blob}: {err}")))?;
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
                let bytes = postcard::to_stdvec(facts)
                    .map_err(|err| Error::corrupt(&self.dir, format!("encoding facts: {err}")))?;
                blobs.insert(blob.as_bytes(), bytes.as_slice()).map_err(self.err())?;
                for (index, symbol) in facts.symbols.iter().enumerate() {
                    let item = BlobItem { blob: *blob, index: index as u32 }.encode();
                    symbols.insert(symbol.name.as_str(), item.as_slice()).map_err(self.err())?;
                }
                for (index, call) in facts.calls.iter().enumerate() {
                    let item = BlobItem { blob: *blob, index: index as u32 }.encode();
                    callees.insert(call.callee.as_str(), item.as_slice()).map_err(self.err())?;
                }
            }
        }
        txn.commit().map_err(self.err())
    }

    /// Symbols named `name`, in every indexed blob.
    pub fn symbol_items(&self, name: &str) -> Result<Vec<BlobItem>> {
        self.multimap_items(SYMBOLS, name)
    }

    /// Call sites whose callee is `name`, in every indexed blob.
    pub fn callee_items(&self, name: &str) -> Result<Vec<BlobItem>> {
        self.multimap_items(CALLEES, name)
    }

    fn multimap_items(&self, table: MultimapTableDefinition<&str, &[u8]>, name: &str) -> Result<Vec<BlobItem>> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let table = txn.open_multimap_table(table).map_err(self.err())?;
        let mut items = Vec::new();
        for value in table.get(name).map_err(self.err())? {
            let value = value.map_err(self.err())?;
            let item = BlobItem::decode(value.value())
                .ok_or_else(|| Error::corrupt(&self.dir, format!("bad entry for `{name}`")))?;
            items.push(item);
        }
        Ok(items)
    }

    /// The cached source listing of an indexed commit.
    pub fn tree(&self, commit: Oid) -> Result<Option<Vec<TreeFile>>> {
        let txn = self.db.begin_read().map_err(self.err())?;
        let table = txn.open_table(TREES).map_err(self.err())?;
        let Some(value) = table.get(commit.as_bytes()).map_err(self.err())? else {
            return Ok(None);
        };
        let files = postcard::from_bytes(value.value())
            .map_err(|err| Error::corrupt(&self.dir, format!("tree of {commit}: {err}")))?;
        Ok(Some(files))
    }

    /// Records the source listing of a commit whose blobs are all indexed.
    pub fn put_tree(&self, commit: Oid, files: &[TreeFile]) -> Result<()> {
        let bytes = postcard::to_stdvec(files)
            .map_err(|err| Error::corrupt(&self.dir, format!("encoding tree: {err}")))?;
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
