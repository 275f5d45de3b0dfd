//! The full-text index (tantivy): one document per symbol (its name and its code) and per
//! logged message, keyed by blob, and one per commit (its subject and message), keyed by
//! commit. Hits are filtered to the blobs of the queried commit's tree and to its
//! ancestors with a fast field, so a search never sees code that is not in that tree nor
//! a commit that came after it.
//!
//! A symbol or message document stores nothing: its fast fields say which blob and which
//! of the blob's symbols or messages it is, and the store has the rest. Scores are built
//! from document counts alone, so terms are indexed without frequencies or field norms.

use crate::error::{Error, Result};
use crate::facts::FileFacts;
use crate::lines::LineStarts;
use crate::terms;
use git2::Oid;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tantivy::collector::{Count, FilterCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::indexer::UserOperation;
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value, FAST,
    STORED,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    doc, DocAddress, DocId, Index, IndexReader, IndexWriter, Score, SegmentOrdinal, SegmentReader,
    TantivyDocument, Term,
};

const TOKENIZER: &str = "ktriage_terms";

/// Document kinds in the text index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// A symbol: its name and the code of its span.
    Symbol,
    /// A message literal passed to a logging or error helper.
    Message,
    /// A commit: its subject and message.
    Commit,
}

impl DocKind {
    /// The kind's value in the `kind` field.
    fn code(self) -> u64 {
        match self {
            DocKind::Symbol => 0,
            DocKind::Message => 1,
            DocKind::Commit => 2,
        }
    }

    fn from_code(code: u64) -> Option<DocKind> {
        [DocKind::Symbol, DocKind::Message, DocKind::Commit]
            .into_iter()
            .find(|kind| kind.code() == code)
    }
}

/// Document frequencies of terms among one set of visible documents (one revision), kept
/// across the searches of that set so each term is counted once.
#[derive(Debug, Default)]
pub struct DocFreqs(std::sync::Mutex<HashMap<(Option<DocKind>, String), usize>>);

/// One ranked text hit, before it is mapped to paths.
#[derive(Debug, Clone)]
pub struct TextHit {
    /// What matched.
    pub kind: DocKind,
    /// The blob it is in; for commit documents, the commit.
    pub blob: Oid,
    /// Which of the blob's symbols or messages (an index into its facts' list).
    pub item: usize,
    /// The commit's subject, for commit documents (empty for the others).
    pub subject: String,
    /// BM25 score.
    pub score: f32,
}

struct Fields {
    kind: Field,
    blob_key: Field,
    line: Field,
    item: Field,
    subject: Field,
    name: Field,
    body: Field,
}

/// The tantivy index in `<index dir>/text`.
pub struct TextIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    dir: PathBuf,
}

/// The 64-bit filter key of a blob or commit: its first 8 bytes.
pub fn blob_key(blob: Oid) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&blob.as_bytes()[..8]);
    u64::from_be_bytes(bytes)
}

impl TextIndex {
    /// Opens or creates the text index under `dir/text`.
    pub fn open(dir: &Path) -> Result<TextIndex> {
        let text_dir = dir.join("text");
        std::fs::create_dir_all(&text_dir).map_err(Error::io(&text_dir))?;
        let corrupt = |err: tantivy::TantivyError| Error::corrupt(dir, err);
        let (schema, fields) = schema();
        let directory = tantivy::directory::MmapDirectory::open(&text_dir)
            .map_err(|err| Error::corrupt(dir, err))?;
        let index = Index::open_or_create(directory, schema).map_err(corrupt)?;
        index.tokenizers().register(
            TOKENIZER,
            TextAnalyzer::from(terms::TermTokenizer::default()),
        );
        let reader = index.reader().map_err(corrupt)?;
        Ok(TextIndex {
            index,
            reader,
            fields,
            dir: dir.to_path_buf(),
        })
    }

    fn corrupt(&self) -> impl Fn(tantivy::TantivyError) -> Error + '_ {
        move |err| Error::corrupt(&self.dir, err)
    }

    /// Opens a writer (one per index at a time).
    pub fn writer(&self) -> Result<IndexWriter> {
        let threads = indexing_threads();
        crate::error::retry_busy(|| {
            self.index
                .writer_with_num_threads(threads, threads * MEMORY_PER_THREAD)
                .map_err(|err| match err {
                    tantivy::TantivyError::LockFailure(..) => Error::IndexBusy {
                        dir: self.dir.clone(),
                    },
                    other => Error::corrupt(&self.dir, other),
                })
        })
    }

    /// Adds the documents of one blob, replacing any left by an interrupted run.
    pub fn add_blob(
        &self,
        writer: &IndexWriter,
        blob: Oid,
        content: &[u8],
        facts: &FileFacts,
    ) -> Result<()> {
        let fields = &self.fields;
        let key = blob_key(blob);
        let text = String::from_utf8_lossy(content);
        let lines = LineStarts::new(text.as_bytes());
        // One batch for the blob: fewer hand-overs to tantivy's indexing thread.
        let mut operations = Vec::with_capacity(1 + facts.symbols.len() + facts.messages.len());
        operations.push(UserOperation::Delete(Term::from_field_u64(
            fields.blob_key,
            key,
        )));
        // A document says which of the blob's symbols or messages it is.
        let document = |kind: DocKind, line: u32, item: usize, body: &str| {
            doc!(
                fields.kind => kind.code(),
                fields.blob_key => key,
                fields.line => u64::from(line),
                fields.item => item as u64,
                fields.body => body,
            )
        };
        for (item, symbol) in facts.symbols.iter().enumerate() {
            let body = &text[lines.span(symbol.line, symbol.end_line)];
            let mut doc = document(DocKind::Symbol, symbol.line, item, body);
            doc.add_text(fields.name, &symbol.name);
            operations.push(UserOperation::Add(doc));
        }
        for (item, message) in facts.messages.iter().enumerate() {
            let doc = document(DocKind::Message, message.line, item, &message.text);
            operations.push(UserOperation::Add(doc));
        }
        writer.run(operations).map_err(self.corrupt())?;
        Ok(())
    }

    /// Adds the document of one commit, replacing any left by an interrupted run. The
    /// `blob_key` field holds the commit's key.
    pub fn add_commit(
        &self,
        writer: &IndexWriter,
        commit: Oid,
        subject: &str,
        body: &str,
    ) -> Result<()> {
        let fields = &self.fields;
        let key = blob_key(commit);
        writer.delete_term(Term::from_field_u64(fields.blob_key, key));
        writer
            .add_document(doc!(
                fields.kind => DocKind::Commit.code(),
                fields.blob_key => key,
                fields.line => 1u64,
                fields.item => 0u64,
                fields.subject => subject,
                fields.name => subject,
                fields.body => subject,
                fields.body => body,
            ))
            .map_err(self.corrupt())?;
        Ok(())
    }

    /// Commits a writer's documents and makes them visible to searches.
    pub fn commit(&self, writer: &mut IndexWriter) -> Result<()> {
        writer.commit().map_err(self.corrupt())?;
        self.reader.reload().map_err(self.corrupt())
    }

    /// Finishes a writer: waits for its segment merges, so that many small indexing runs do
    /// not leave many small segments behind.
    pub fn finish(&self, writer: IndexWriter) -> Result<()> {
        writer.wait_merging_threads().map_err(self.corrupt())?;
        self.reader.reload().map_err(self.corrupt())
    }

    /// Ranked hits for `query` among documents of the given blobs and commits.
    pub fn search(
        &self,
        query: &str,
        blobs: &HashSet<Oid>,
        limit: usize,
        freqs: &DocFreqs,
    ) -> Result<Vec<TextHit>> {
        self.search_kind(query, blobs, limit, None, freqs)
    }

    /// Like [`TextIndex::search`], only documents of `kind` when given.
    pub fn search_kind(
        &self,
        query: &str,
        blobs: &HashSet<Oid>,
        limit: usize,
        kind: Option<DocKind>,
        freqs: &DocFreqs,
    ) -> Result<Vec<TextHit>> {
        let fields = &self.fields;
        let query_terms = terms::unique_terms(query);
        if query_terms.is_empty() {
            return Err(Error::BadQuery(format!(
                "search query `{query}` has no identifier or word to look for"
            )));
        }
        let keys: Arc<HashMap<u64, Oid>> =
            Arc::new(blobs.iter().map(|blob| (blob_key(*blob), *blob)).collect());
        let visible = {
            let keys = keys.clone();
            move |key: u64| keys.contains_key(&key)
        };
        let kind_clause = |query: Box<dyn Query>| -> Box<dyn Query> {
            match kind {
                None => query,
                Some(kind) => {
                    let kind_term = Term::from_field_u64(fields.kind, kind.code());
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Must, query),
                        (
                            Occur::Must,
                            Box::new(TermQuery::new(kind_term, IndexRecordOption::Basic)),
                        ),
                    ]))
                }
            }
        };
        let searcher = self.reader.searcher();
        let count = |term: &str, query: &dyn Query| -> Result<usize> {
            let key = (kind, term.to_string());
            if let Some(n) = freqs
                .0
                .lock()
                .expect("doc-frequency lock is never poisoned")
                .get(&key)
            {
                return Ok(*n);
            }
            let collector = FilterCollector::new("blob_key".to_string(), visible.clone(), Count);
            let n = searcher.search(query, &collector).map_err(self.corrupt())?;
            freqs
                .0
                .lock()
                .expect("doc-frequency lock is never poisoned")
                .insert(key, n);
            Ok(n)
        };
        // Scores use only the visible documents' statistics: each matched term adds its
        // inverse document frequency among the visible documents (three times in a name),
        // so nothing outside the queried revision can change a ranking.
        let n_docs = count("", kind_clause(Box::new(AllQuery)).as_ref())? as f32;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in &query_terms {
            let in_field = |field| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::Basic,
                ))
            };
            let either: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                (Occur::Should, in_field(fields.name)),
                (Occur::Should, in_field(fields.body)),
            ]));
            let doc_freq = count(term, kind_clause(either).as_ref())? as f32;
            if doc_freq == 0.0 {
                continue;
            }
            let idf = (1.0 + (n_docs - doc_freq + 0.5) / (doc_freq + 0.5)).ln();
            for (field, boost) in [(fields.name, 3.0), (fields.body, 1.0)] {
                clauses.push((
                    Occur::Should,
                    Box::new(ConstScoreQuery::new(
                        in_field(field),
                        quantized(boost * idf),
                    )),
                ));
            }
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let query = kind_clause(Box::new(BooleanQuery::new(clauses)));
        // Ties are broken by content (blob, line, and which of the blob's symbols or
        // messages), never by the order documents were added, which indexing in parallel
        // does not fix.
        let top_docs =
            TopDocs::with_limit(limit.max(1)).tweak_score(move |segment: &SegmentReader| {
                let columns =
                    ["blob_key", "line", "item"].map(|field| segment.fast_fields().u64(field).ok());
                move |doc: DocId, score: Score| {
                    let [blob, line, item] = columns.each_ref().map(|column| {
                        column
                            .as_ref()
                            .and_then(|column| column.first(doc))
                            .unwrap_or(0)
                    });
                    (score, std::cmp::Reverse((blob, line, item)))
                }
            });
        let collector = FilterCollector::new("blob_key".to_string(), visible, top_docs);
        let top: Vec<(Score, DocAddress)> = searcher
            .search(query.as_ref(), &collector)
            .map_err(self.corrupt())?
            .into_iter()
            .map(|((score, _), address)| (score, address))
            .collect();
        let mut hits = Vec::with_capacity(top.len());
        // Each hit's kind, blob and item, from columns opened once per segment.
        let mut columns: HashMap<SegmentOrdinal, [Option<Column<u64>>; 3]> = HashMap::new();
        for (score, address) in top {
            let segment = columns.entry(address.segment_ord).or_insert_with(|| {
                let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                ["kind", "blob_key", "item"].map(|field| fast.u64(field).ok())
            });
            let [kind, blob, item] = segment.each_ref().map(|column| {
                column
                    .as_ref()
                    .and_then(|column| column.first(address.doc_id))
            });
            let kind = kind.and_then(DocKind::from_code);
            let blob = blob.and_then(|key| keys.get(&key).copied());
            let (Some(kind), Some(blob), Some(item)) = (kind, blob, item) else {
                return Err(Error::corrupt(
                    &self.dir,
                    "text document without kind, blob or item",
                ));
            };
            let mut subject = String::new();
            if kind == DocKind::Commit {
                let document: TantivyDocument = searcher.doc(address).map_err(self.corrupt())?;
                let stored = document
                    .get_first(fields.subject)
                    .and_then(|value| value.as_str());
                subject = stored.unwrap_or_default().to_string();
            }
            hits.push(TextHit {
                kind,
                blob,
                item: item as usize,
                subject,
                score,
            });
        }
        Ok(hits)
    }
}

/// Steps a clause score is rounded to: 1/256, so that a document's score, a sum of such
/// multiples below 65,536, is exact in `f32` whatever order tantivy adds its clauses in (that
/// order follows how documents fell into segments, which differs between indexes).
const SCORE_STEPS: f32 = 256.0;

/// tantivy's indexing threads for a writer: a third of the cores, tantivy's share of the
/// work of indexing a tree, but two at least, so that the text index does not wait on one
/// thread while every core parses (indexing HEAD of bcachefs-tools on two cores, medians of
/// twelve runs: 0.40 s with two, 0.42 s with one), and at most eight, tantivy's limit.
fn indexing_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    (cores / 3).clamp(2, 8)
}

/// Memory each indexing thread may fill before tantivy writes a segment out (it must be
/// at least 15 MB).
const MEMORY_PER_THREAD: usize = 32 << 20;

fn quantized(score: f32) -> f32 {
    (score * SCORE_STEPS).round() / SCORE_STEPS
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let indexed_terms = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    // Filters and keys, without the field norms `INDEXED` would add.
    let key = NumericOptions::default().set_indexed().set_fast();
    let fields = Fields {
        kind: builder.add_u64_field("kind", key.clone()),
        blob_key: builder.add_u64_field("blob_key", key),
        line: builder.add_u64_field("line", FAST),
        item: builder.add_u64_field("item", FAST),
        subject: builder.add_text_field("subject", STORED),
        name: builder.add_text_field("name", indexed_terms.clone()),
        body: builder.add_text_field("body", indexed_terms),
    };
    (builder.build(), fields)
}
