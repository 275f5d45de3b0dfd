//! The structured store: per-blob facts and name lookups.
//!
//! Facts are appended to `facts.pack`, one packed value per blob; `store.redb` gives each
//! indexed blob an ordinal (0, 1, 2, … in indexing order), says where its facts are in the
//! pack, and maps every name to the ordinals of the blobs defining or calling it. A pack
//! file, unlike redb's power-of-two pages, wastes no space around values of a few KB.
//!
//! Tables are keyed by content (blob ids), never by path or commit, except `trees`, which
//! caches the source listing of commits already indexed. A batch of blobs is appended to
//! the pack past the end of the last committed entry, synced, and then recorded in one redb
//! transaction; a write interrupted before that commit leaves only unreferenced bytes past
//! the end, which the next write cuts off. So an interrupted write leaves the store as it
//! was before.

use crate::codec;
use crate::error::{Error, Result};
use crate::facts::{FileFacts, FileSymbols, Symbol};
use crate::repo::TreeFile;
use git2::Oid;
use redb::{
    Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, TableDefinition, WriteTransaction,
};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Blob id → its ordinal.
const BLOBS: TableDefinition<[u8; 20], u32> = TableDefinition::new("blobs");
/// Ordinal → the blob id, and the offset and length of its facts in the pack.
const ORDINALS: TableDefinition<u32, ([u8; 20], u64, u32)> = TableDefinition::new("ordinals");
const TREES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trees");
/// Name → the ordinals of the blobs defining or declaring a symbol of that name
/// ([`codec::pack_ordinals`]). Names are keys as bytes: redb checks a `&str` key's UTF-8
/// at every comparison.
const SYMBOLS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("symbols");
/// Name → the ordinals of the blobs calling a function or macro of that name.
const CALLEES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("callees");

/// A parsed blob for [`Store::write_blobs`], its facts already packed: packing is done
/// where the blob was parsed, in parallel, rather than in the writing transaction.
pub struct NewBlob {
    blob: Oid,
    facts: FileFacts,
    packed: Vec<u8>,
}

impl NewBlob {
    /// Packs `facts` for storing.
    pub fn new(blob: Oid, facts: FileFacts) -> std::result::Result<NewBlob, String> {
        let packed = facts.pack()?;
        Ok(NewBlob {
            blob,
            facts,
            packed,
        })
    }

    /// The blob's facts.
    pub fn facts(&self) -> &FileFacts {
        &self.facts
    }
}

/// Blobs recorded by [`Store::stage_blobs`], not committed yet.
pub struct StagedBlobs<'a> {
    store: &'a Store,
    txn: WriteTransaction,
}

impl StagedBlobs<'_> {
    /// Records a commit's listing with the blobs, for a caller that stages the listing's
    /// last missing blobs ([`Store::put_tree`] in the same transaction).
    pub fn put_tree(&self, commit: Oid, files: &[TreeFile]) -> Result<()> {
        self.store.insert_tree(&self.txn, commit, files)
    }

    /// Commits the blobs: from now on they count as indexed.
    pub fn commit(self) -> Result<()> {
        self.txn.commit().map_err(self.store.err())
    }
}

/// The file holding the packed facts, in the index directory.
const PACK_FILE: &str = "facts.pack";

/// The store of an index directory: `store.redb` and `facts.pack`.
pub struct Store {
    db: Db,
    /// The pack, read and appended under this lock.
    pack: Mutex<File>,
    /// The blob ids of ordinals looked up before (an ordinal's blob never changes).
    ids: Mutex<HashMap<u32, Oid>>,
    dir: PathBuf,
}

/// The database, opened for writing (one process at a time) or only for reading (any
/// number of processes at once, while none writes).
enum Db {
    Writable(Database),
    ReadOnly(ReadOnlyDatabase),
}

impl Store {
    /// Opens (or creates) the store in `dir` for reading and writing.
    pub fn open(dir: &Path) -> Result<Store> {
        let path = dir.join("store.redb");
        let db = crate::error::retry_busy(|| {
            Database::create(&path).map_err(|err| busy_or_corrupt(dir, err))
        })?;
        let store = Store::with_pack(Db::Writable(db), dir, true)?;
        if store.has_tables()? {
            return Ok(store);
        }
        let txn = store.write()?;
        txn.open_table(BLOBS).map_err(store.err())?;
        txn.open_table(ORDINALS).map_err(store.err())?;
        txn.open_table(TREES).map_err(store.err())?;
        txn.open_table(SYMBOLS).map_err(store.err())?;
        txn.open_table(CALLEES).map_err(store.err())?;
        txn.commit().map_err(store.err())?;
        Ok(store)
    }

    /// Opens the existing store in `dir` only for reading: it writes nothing, and other
    /// readers may have it open at the same time. Anything that would write fails with
    /// [`Error::ReadOnly`].
    pub fn open_read_only(dir: &Path) -> Result<Store> {
        let path = dir.join("store.redb");
        let db = crate::error::retry_busy(|| {
            ReadOnlyDatabase::open(&path).map_err(|err| busy_or_corrupt(dir, err))
        })?;
        let store = Store::with_pack(Db::ReadOnly(db), dir, false)?;
        if !store.has_tables()? {
            return Err(Error::ReadOnly {
                dir: dir.to_path_buf(),
            });
        }
        Ok(store)
    }

    fn with_pack(db: Db, dir: &Path, writable: bool) -> Result<Store> {
        let pack_path = dir.join(PACK_FILE);
        let pack = File::options()
            .read(true)
            .write(writable)
            .create(writable)
            .truncate(false)
            .open(&pack_path)
            .map_err(Error::io(&pack_path))?;
        Ok(Store {
            db,
            pack: Mutex::new(pack),
            ids: Mutex::new(HashMap::new()),
            dir: dir.to_path_buf(),
        })
    }

    /// True when the tables exist already, so that opening an index writes nothing.
    fn has_tables(&self) -> Result<bool> {
        let txn = self.read()?;
        let exists = |result: std::result::Result<(), redb::TableError>| match result {
            Ok(()) => Ok(true),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(false),
            Err(err) => Err(self.err()(err)),
        };
        Ok(exists(txn.open_table(BLOBS).map(drop))?
            && exists(txn.open_table(ORDINALS).map(drop))?
            && exists(txn.open_table(TREES).map(drop))?
            && exists(txn.open_table(SYMBOLS).map(drop))?
            && exists(txn.open_table(CALLEES).map(drop))?)
    }

    /// Rewrites the database file without the space freed by earlier transactions (redb
    /// never reuses all of it); true when anything was reclaimed.
    pub fn compact(&mut self) -> Result<bool> {
        let Db::Writable(db) = &mut self.db else {
            return Err(self.read_only());
        };
        db.compact().map_err(|err| Error::corrupt(&self.dir, err))
    }

    /// A read transaction, for this module and others that keep tables in the database.
    pub fn read(&self) -> Result<ReadTransaction> {
        match &self.db {
            Db::Writable(db) => db.begin_read(),
            Db::ReadOnly(db) => db.begin_read(),
        }
        .map_err(self.err())
    }

    /// A write transaction; [`Error::ReadOnly`] when the store was opened only for reading.
    pub fn write(&self) -> Result<WriteTransaction> {
        self.writable()?.begin_write().map_err(self.err())
    }

    /// [`Error::ReadOnly`] when the store was opened only for reading.
    pub fn ensure_writable(&self) -> Result<()> {
        self.writable().map(drop)
    }

    /// The database, if it was opened for writing.
    fn writable(&self) -> Result<&Database> {
        match &self.db {
            Db::Writable(db) => Ok(db),
            Db::ReadOnly(_) => Err(self.read_only()),
        }
    }

    fn read_only(&self) -> Error {
        Error::ReadOnly {
            dir: self.dir.clone(),
        }
    }

    /// Maps any redb error to an unreadable-index error naming the directory.
    pub fn err<E: Into<redb::Error>>(&self) -> impl Fn(E) -> Error + '_ {
        move |err| Error::corrupt(&self.dir, err.into())
    }

    /// The blobs of `blobs` that have no facts yet, deduplicated, in first-seen order.
    pub fn missing_blobs(&self, blobs: impl IntoIterator<Item = Oid>) -> Result<Vec<Oid>> {
        let txn = self.read()?;
        let table = txn.open_table(BLOBS).map_err(self.err())?;
        let mut seen = std::collections::HashSet::new();
        let mut missing = Vec::new();
        for blob in blobs {
            if seen.insert(blob) && table.get(self.id(blob)?).map_err(self.err())?.is_none() {
                missing.push(blob);
            }
        }
        Ok(missing)
    }

    /// The facts of one blob, if indexed.
    pub fn blob_facts(&self, blob: Oid) -> Result<Option<FileFacts>> {
        self.read_facts(blob, codec::unpack)
    }

    /// The definitions and declarations of one blob, if indexed (the rest of its facts is
    /// not decoded).
    pub fn blob_symbols(&self, blob: Oid) -> Result<Option<Vec<Symbol>>> {
        self.read_facts(blob, |bytes| {
            codec::unpack_head::<FileSymbols>(bytes).map(|facts| facts.symbols)
        })
    }

    /// Reads one blob's packed facts and decodes them with `decode`.
    fn read_facts<T>(
        &self,
        blob: Oid,
        decode: impl FnOnce(&[u8]) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        let txn = self.read()?;
        let blobs = txn.open_table(BLOBS).map_err(self.err())?;
        let Some(ordinal) = blobs.get(self.id(blob)?).map_err(self.err())? else {
            return Ok(None);
        };
        let (_, offset, len) = self.entry(
            &txn.open_table(ORDINALS).map_err(self.err())?,
            ordinal.value(),
        )?;
        let mut bytes = vec![0; len as usize];
        {
            let mut pack = self.pack.lock().expect("pack lock is never poisoned");
            pack.seek(SeekFrom::Start(offset))
                .and_then(|_| pack.read_exact(&mut bytes))
                .map_err(|err| {
                    Error::corrupt(
                        &self.dir,
                        format!("reading the facts of blob {blob} from {PACK_FILE}: {err}"),
                    )
                })?;
        }
        let value = decode(&bytes)
            .map_err(|err| Error::corrupt(&self.dir, format!("facts of blob {blob}: {err}")))?;
        Ok(Some(value))
    }

    /// Stores facts for a batch of blobs and their name entries: appends the facts to the
    /// pack, then records them in one transaction. Blobs already stored are skipped.
    pub fn write_blobs(&self, batch: &[NewBlob]) -> Result<()> {
        self.stage_blobs(batch)?.commit()
    }

    /// The first part of [`Store::write_blobs`]: appends the facts to the pack (synced)
    /// and records them in a transaction left for the caller to commit, so that other
    /// work (committing the text index) can overlap with it. Dropped uncommitted, it
    /// stores nothing; the next write drops the bytes it appended.
    pub fn stage_blobs(&self, batch: &[NewBlob]) -> Result<StagedBlobs<'_>> {
        let txn = self.write()?;
        {
            let mut blobs = txn.open_table(BLOBS).map_err(self.err())?;
            let mut ordinals = txn.open_table(ORDINALS).map_err(self.err())?;
            let (mut next, mut end) = match ordinals.last().map_err(self.err())? {
                Some((ordinal, entry)) => {
                    let (_, offset, len) = entry.value();
                    (ordinal.value() + 1, offset + u64::from(len))
                }
                None => (0, 0),
            };
            let pack_path = self.dir.join(PACK_FILE);
            let mut pack = self.pack.lock().expect("pack lock is never poisoned");
            // Bytes past the end are from a write interrupted before its commit.
            pack.set_len(end)
                .and_then(|_| pack.seek(SeekFrom::Start(end)))
                .map_err(Error::io(&pack_path))?;
            let mut defined: HashMap<&str, Vec<u32>> = HashMap::new();
            let mut called: HashMap<&str, Vec<u32>> = HashMap::new();
            for NewBlob {
                blob,
                facts,
                packed,
            } in batch
            {
                let id = self.id(*blob)?;
                if blobs.get(id).map_err(self.err())?.is_some() {
                    continue;
                }
                let len = u32::try_from(packed.len()).map_err(|_| {
                    Error::corrupt(&self.dir, format!("facts of blob {blob} exceed 4 GB"))
                })?;
                pack.write_all(packed).map_err(Error::io(&pack_path))?;
                blobs.insert(id, next).map_err(self.err())?;
                ordinals.insert(next, (id, end, len)).map_err(self.err())?;
                for name in facts.symbols.iter().map(|symbol| symbol.name.as_str()) {
                    add_ordinal(defined.entry(name).or_default(), next);
                }
                for name in facts.calls.iter().map(|call| call.callee.as_str()) {
                    add_ordinal(called.entry(name).or_default(), next);
                }
                next += 1;
                end += u64::from(len);
            }
            pack.sync_data().map_err(Error::io(&pack_path))?;
            self.append_ordinals(&mut txn.open_table(SYMBOLS).map_err(self.err())?, defined)?;
            self.append_ordinals(&mut txn.open_table(CALLEES).map_err(self.err())?, called)?;
        }
        Ok(StagedBlobs { store: self, txn })
    }

    /// Adds each name's new ordinals, all larger than those it has, to its entry, in the
    /// order of the names (cheaper for redb than any order).
    fn append_ordinals(
        &self,
        table: &mut redb::Table<&[u8], &[u8]>,
        new: HashMap<&str, Vec<u32>>,
    ) -> Result<()> {
        let mut new: Vec<(&str, Vec<u32>)> = new.into_iter().collect();
        new.sort_unstable_by(|a, b| a.0.cmp(b.0));
        // A new table has no entry to add to (the first tree indexed).
        let empty = table.is_empty().map_err(self.err())?;
        for (name, ordinals) in new {
            let mut all = Vec::new();
            if !empty {
                if let Some(value) = table.get(name.as_bytes()).map_err(self.err())? {
                    all = self.unpack_ordinals(name, value.value())?;
                }
            }
            all.extend(ordinals);
            let bytes = codec::pack_ordinals(&all)
                .map_err(|err| Error::corrupt(&self.dir, format!("encoding `{name}`: {err}")))?;
            table
                .insert(name.as_bytes(), bytes.as_slice())
                .map_err(self.err())?;
        }
        Ok(())
    }

    /// The blobs with a symbol named `name`.
    pub fn symbol_blobs(&self, name: &str) -> Result<Vec<Oid>> {
        self.blobs_by_name(SYMBOLS, name)
    }

    /// The blobs with a call of `name`.
    pub fn callee_blobs(&self, name: &str) -> Result<Vec<Oid>> {
        self.blobs_by_name(CALLEES, name)
    }

    fn blobs_by_name(&self, table: TableDefinition<&[u8], &[u8]>, name: &str) -> Result<Vec<Oid>> {
        let txn = self.read()?;
        let names = txn.open_table(table).map_err(self.err())?;
        let Some(value) = names.get(name.as_bytes()).map_err(self.err())? else {
            return Ok(Vec::new());
        };
        let ordinals = txn.open_table(ORDINALS).map_err(self.err())?;
        let mut ids = self.ids.lock().expect("ids lock is never poisoned");
        let mut blobs = Vec::new();
        for ordinal in self.unpack_ordinals(name, value.value())? {
            let blob = match ids.get(&ordinal) {
                Some(blob) => *blob,
                None => {
                    let (id, _, _) = self.entry(&ordinals, ordinal)?;
                    let blob = Oid::from_bytes(&id).map_err(|_| {
                        Error::corrupt(&self.dir, format!("bad entry for `{name}`"))
                    })?;
                    *ids.entry(ordinal).or_insert(blob)
                }
            };
            blobs.push(blob);
        }
        Ok(blobs)
    }

    /// The entry of an ordinal that a committed table refers to.
    fn entry(
        &self,
        ordinals: &impl ReadableTable<u32, ([u8; 20], u64, u32)>,
        ordinal: u32,
    ) -> Result<([u8; 20], u64, u32)> {
        let entry = ordinals.get(ordinal).map_err(self.err())?;
        entry
            .map(|entry| entry.value())
            .ok_or_else(|| Error::corrupt(&self.dir, format!("no blob has ordinal {ordinal}")))
    }

    fn unpack_ordinals(&self, name: &str, bytes: &[u8]) -> Result<Vec<u32>> {
        codec::unpack_ordinals(bytes)
            .map_err(|err| Error::corrupt(&self.dir, format!("entry of `{name}`: {err}")))
    }

    /// A blob id as the tables key it.
    fn id(&self, blob: Oid) -> Result<[u8; 20]> {
        blob.as_bytes()
            .try_into()
            .map_err(|_| Error::corrupt(&self.dir, format!("blob id {blob} is not 20 bytes")))
    }

    /// The cached source listing of an indexed commit.
    pub fn tree(&self, commit: Oid) -> Result<Option<Vec<TreeFile>>> {
        let txn = self.read()?;
        let table = txn.open_table(TREES).map_err(self.err())?;
        let Some(value) = table.get(commit.as_bytes()).map_err(self.err())? else {
            return Ok(None);
        };
        let files = codec::unpack(value.value())
            .map_err(|err| Error::corrupt(&self.dir, format!("tree of {commit}: {err}")))?;
        Ok(Some(files))
    }

    /// True when the source listing of `commit` is recorded.
    pub fn has_tree(&self, commit: Oid) -> Result<bool> {
        let txn = self.read()?;
        let table = txn.open_table(TREES).map_err(self.err())?;
        Ok(table.get(commit.as_bytes()).map_err(self.err())?.is_some())
    }

    /// Records the source listing of a commit whose blobs are all indexed.
    pub fn put_tree(&self, commit: Oid, files: &[TreeFile]) -> Result<()> {
        let txn = self.write()?;
        self.insert_tree(&txn, commit, files)?;
        txn.commit().map_err(self.err())
    }

    fn insert_tree(&self, txn: &WriteTransaction, commit: Oid, files: &[TreeFile]) -> Result<()> {
        let bytes = codec::pack(files)
            .map_err(|err| Error::corrupt(&self.dir, format!("encoding tree: {err}")))?;
        txn.open_table(TREES)
            .map_err(self.err())?
            .insert(commit.as_bytes(), bytes.as_slice())
            .map_err(self.err())?;
        Ok(())
    }

    /// Number of indexed blobs and commits.
    pub fn counts(&self) -> Result<(u64, u64)> {
        let txn = self.read()?;
        let blobs = txn
            .open_table(BLOBS)
            .map_err(self.err())?
            .len()
            .map_err(self.err())?;
        let trees = txn
            .open_table(TREES)
            .map_err(self.err())?
            .len()
            .map_err(self.err())?;
        Ok((blobs, trees))
    }
}

/// "In use" when another process has the database open in a conflicting mode; any other
/// failure to open it means the index is unreadable.
fn busy_or_corrupt(dir: &Path, err: redb::DatabaseError) -> Error {
    match err {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::IndexBusy {
            dir: dir.to_path_buf(),
        },
        other => Error::corrupt(dir, other),
    }
}

/// Adds `ordinal` to a list that ends with it or with a smaller one.
fn add_ordinal(list: &mut Vec<u32>, ordinal: u32) {
    if list.last() != Some(&ordinal) {
        list.push(ordinal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_of(source: &str) -> FileFacts {
        crate::parse::parse_c(source.as_bytes())
    }

    fn new_blob(blob: Oid, facts: &FileFacts) -> NewBlob {
        NewBlob::new(blob, facts.clone()).expect("facts pack")
    }

    #[test]
    fn bytes_left_by_an_interrupted_write_are_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, b) = (
            Oid::hash_object(git2::ObjectType::Blob, b"a").expect("id"),
            Oid::hash_object(git2::ObjectType::Blob, b"b").expect("id"),
        );
        let (facts_a, facts_b) = (
            facts_of("int f(void) { return g(); }\n"),
            facts_of("int g(void) { return f(); }\nint f(int);\n"),
        );
        let store = Store::open(dir.path()).expect("store");
        store
            .write_blobs(&[new_blob(a, &facts_a)])
            .expect("first batch");
        // A batch whose process died after appending to the pack, before committing.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(PACK_FILE))
            .expect("pack")
            .write_all(b"torn")
            .expect("append");
        store
            .write_blobs(&[new_blob(b, &facts_b), new_blob(a, &facts_a)])
            .expect("second batch");
        drop(store);

        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(store.blob_facts(a).expect("a"), Some(facts_a));
        assert_eq!(store.blob_facts(b).expect("b"), Some(facts_b));
        assert_eq!(store.symbol_blobs("f").expect("f"), [a, b]);
        assert_eq!(store.callee_blobs("f").expect("callers of f"), [b]);
        assert_eq!(store.symbol_blobs("h").expect("h"), []);
        assert_eq!(store.counts().expect("counts"), (2, 0));
    }
}
