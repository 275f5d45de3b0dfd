//! Indexing a commit's tree: parse the blobs not seen before, in parallel, and store them.
//!
//! Blobs are written in batches; each batch is committed to the text index and then to the
//! store in one transaction. A blob counts as indexed only once the store has it, and the
//! text index replaces a blob's documents when it is added again, so a run killed at any
//! point is finished correctly by the next one.

use crate::error::{Error, Result};
use crate::facts::FileFacts;
use crate::repo::{looks_binary, MAX_SOURCE_BYTES};
use crate::store::NewBlob;
use crate::{parse, Index, Progress, Rev};
use rayon::prelude::*;

const BATCH_BLOBS: usize = 2048;

/// What indexing one commit did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IndexStats {
    /// The commit indexed.
    pub commit: String,
    /// C sources and headers in its tree.
    pub files: usize,
    /// Blobs parsed by this run (the rest were already indexed).
    pub new_blobs: usize,
    /// Bytes parsed by this run.
    pub parsed_bytes: u64,
    /// Blobs skipped as binary or larger than the size limit.
    pub skipped_blobs: usize,
    /// Function definitions found in the new blobs.
    pub functions: u64,
    /// Of those, kernel-style definitions taken from the lexical scan alone.
    pub functions_scanned: u64,
    /// Of the others, functions tree-sitter lost and the scan recovered.
    pub functions_lost: u64,
}

impl Index {
    /// Indexes the tree of `rev`: parses and stores every blob not indexed yet, then records
    /// the commit's listing.
    pub fn index_rev(&self, rev: &Rev, progress: &dyn Progress) -> Result<IndexStats> {
        let files = self.repo.source_files(rev.commit)?;
        let missing = self
            .store
            .missing_blobs(files.iter().map(|file| file.blob))?;
        let mut stats = IndexStats {
            commit: rev.commit.to_string(),
            files: files.len(),
            ..IndexStats::default()
        };
        if !missing.is_empty() {
            let mut writer = self.text_writer()?;
            progress.start(&format!("indexing {}", short(rev)), missing.len() as u64);
            let (text, dir, readers) = (self.text()?, self.dir(), self.repo.blob_readers());
            let n_batches = missing.len().div_ceil(BATCH_BLOBS);
            for (batch_number, chunk) in missing.chunks(BATCH_BLOBS).enumerate() {
                // Each blob is read, parsed, given its text documents (which tantivy's own
                // threads index meanwhile) and packed for the store on one of rayon's
                // threads, each with its own reader.
                let parsed = chunk
                    .par_iter()
                    .map_init(
                        || readers.reader(),
                        |reader, &blob| {
                            let content = reader.read_blob(blob)?;
                            let skipped = is_skipped(&content);
                            let facts = if skipped {
                                FileFacts::default()
                            } else {
                                parse::parse_c(&content)
                            };
                            text.add_blob(&writer, blob, &content, &facts)?;
                            let new = NewBlob::new(blob, facts).map_err(|err| {
                                Error::corrupt(dir, format!("encoding facts: {err}"))
                            })?;
                            progress.advance(1);
                            Ok((new, content.len() as u64, skipped))
                        },
                    )
                    .collect::<Result<Vec<(NewBlob, u64, bool)>>>()?;
                let mut batch = Vec::with_capacity(parsed.len());
                for (new, len, skipped) in parsed {
                    stats.skipped_blobs += usize::from(skipped);
                    stats.parsed_bytes += len;
                    stats.functions += u64::from(new.facts().stats.functions);
                    stats.functions_scanned += u64::from(new.facts().stats.functions_scanned);
                    stats.functions_lost += u64::from(new.facts().stats.functions_lost);
                    batch.push(new);
                }
                // The text index commits first, so a blob the store has is searchable; the
                // store records the batch meanwhile (and the listing, with the last of its
                // blobs) and commits after it.
                let last = batch_number + 1 == n_batches;
                stats.new_blobs += batch.len();
                std::thread::scope(|scope| {
                    let text_commit = scope.spawn(|| text.commit(&mut writer));
                    let staged = self.store.stage_blobs(&batch).and_then(|staged| {
                        if last {
                            staged.put_tree(rev.commit, &files)?;
                        }
                        Ok(staged)
                    });
                    // The batch's facts (a tree's worth of small strings) are freed while
                    // the commits wait on the disk, not after them.
                    scope.spawn(move || drop(batch));
                    let committed = text_commit
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    committed.and(staged)?.commit()
                })?;
            }
            text.finish(writer)?;
            progress.finish();
        } else {
            self.store.put_tree(rev.commit, &files)?;
        }
        Ok(stats)
    }
}

/// Blobs listed but not parsed: larger than the size limit, or binary.
fn is_skipped(content: &[u8]) -> bool {
    content.len() > MAX_SOURCE_BYTES || looks_binary(content)
}

fn short(rev: &Rev) -> String {
    let id = rev.commit.to_string();
    if rev.name.len() >= 7 && id.starts_with(&rev.name) {
        id[..12].to_string()
    } else {
        format!("{} ({})", rev.name, &id[..12])
    }
}
