//! Queries over one commit's tree: definitions, callers, callees, ranked search, regex grep
//! and file reads. A [`Snapshot`] only ever looks at the blobs of its commit's tree.

use crate::error::{Error, Result};
use crate::facts::{Symbol, SymbolKind};
use crate::history::{self, HistoryStore};
use crate::paths::{self, PathMatch};
use crate::repo::{is_c_source, TreeFile};
use crate::text::{DocKind, TextHit};
use crate::{terms, Index, Rev};
use git2::Oid;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

/// A symbol's definition or declaration at a path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Definition {
    /// The symbol's name.
    pub name: String,
    /// What kind of symbol it is.
    pub kind: SymbolKind,
    /// The file, as the tree names it.
    pub path: String,
    /// First line (1-based).
    pub line: u32,
    /// Last line (inclusive).
    pub end_line: u32,
    /// One-line signature.
    pub signature: String,
    /// Declared `static`.
    pub is_static: bool,
}

/// A call site at a path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallSite {
    /// The calling function or macro.
    pub caller: String,
    /// The called function or macro.
    pub callee: String,
    /// The file.
    pub path: String,
    /// The line of the call.
    pub line: u32,
}

/// The one-line text form: `path:line-end_line<TAB>kind<TAB>signature`.
impl std::fmt::Display for Definition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (path, line, end, kind) = (&self.path, self.line, self.end_line, self.kind.as_str());
        write!(f, "{path}:{line}-{end}\t{kind}\t{}", self.signature)
    }
}

/// The one-line text form: `path:line<TAB>caller -> callee`.
impl std::fmt::Display for CallSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (path, line, caller, callee) = (&self.path, self.line, &self.caller, &self.callee);
        write!(f, "{path}:{line}\t{caller} -> {callee}")
    }
}

/// A ranked full-text hit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    /// `symbol`, `message` or `commit`.
    pub kind: &'static str,
    /// The file (empty for commit hits).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The best-matching line.
    pub line: u32,
    /// That line's text, trimmed.
    pub snippet: String,
    /// Relevance (BM25, higher is better).
    pub score: f32,
    /// The symbol the hit is in, for symbol hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// The commit, for commit hits (its message matched; `line` is a line of the message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The commit's subject, for commit hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// A logged message matching a search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MessageHit {
    /// The file.
    pub path: String,
    /// The line of the literal.
    pub line: u32,
    /// The literal, as written.
    pub text: String,
    /// The function that prints it.
    pub function: Option<String>,
    /// Relevance (BM25).
    pub score: f32,
}

/// A regex match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GrepHit {
    /// The file.
    pub path: String,
    /// The line (1-based).
    pub line: u32,
    /// The line's text.
    pub text: String,
}

/// Lines of a file at a revision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileText {
    /// The file, as the tree names it.
    pub path: String,
    /// First line returned (1-based).
    pub start: u32,
    /// Last line returned (inclusive).
    pub end: u32,
    /// Number of lines in the file.
    pub total_lines: u32,
    /// The lines, without their newlines.
    pub lines: Vec<String>,
}

/// A blob id (SHA-1) as integers, which compare in a few instructions.
type IdKey = (u128, u32);

fn id_key(blob: Oid) -> IdKey {
    let mut bytes = [0; 20];
    let id = blob.as_bytes();
    let len = id.len().min(bytes.len());
    bytes[..len].copy_from_slice(&id[..len]);
    let (high, low) = bytes.split_at(16);
    (
        u128::from_be_bytes(high.try_into().unwrap_or_default()),
        u32::from_be_bytes(low.try_into().unwrap_or_default()),
    )
}

/// One commit's tree, as the index sees it.
pub struct Snapshot<'a> {
    index: &'a Index,
    rev: Rev,
    files: Vec<TreeFile>,
    /// `(blob id, index in files)` for every file, sorted: which paths a blob has here.
    /// Not `Oid`s, which compare through a call into libgit2.
    blob_files: Vec<(IdKey, u32)>,
    visible_commits: std::sync::OnceLock<HashSet<Oid>>,
    doc_freqs: crate::text::DocFreqs,
    all_files: std::sync::OnceLock<Vec<TreeFile>>,
}

impl<'a> Snapshot<'a> {
    pub(crate) fn new(index: &'a Index, rev: Rev, files: Vec<TreeFile>) -> Snapshot<'a> {
        let mut blob_files: Vec<(IdKey, u32)> = (0u32..)
            .zip(&files)
            .map(|(file_idx, file)| (id_key(file.blob), file_idx))
            .collect();
        blob_files.sort_unstable();
        Snapshot {
            index,
            rev,
            files,
            blob_files,
            visible_commits: std::sync::OnceLock::new(),
            doc_freqs: Default::default(),
            all_files: std::sync::OnceLock::new(),
        }
    }

    /// The revision this snapshot answers for.
    pub fn rev(&self) -> &Rev {
        &self.rev
    }

    /// The C sources and headers of the tree.
    pub fn files(&self) -> &[TreeFile] {
        &self.files
    }

    fn paths_of(&self, blob: Oid) -> impl Iterator<Item = &str> {
        let key = id_key(blob);
        let start = self.blob_files.partition_point(|(other, _)| *other < key);
        self.blob_files[start..]
            .iter()
            .take_while(move |(other, _)| *other == key)
            .map(|(_, file_idx)| self.files[*file_idx as usize].path.as_str())
    }

    /// True when `blob` is a file of this tree.
    fn has_blob(&self, blob: Oid) -> bool {
        self.paths_of(blob).next().is_some()
    }

    /// The blobs of this tree.
    fn blobs(&self) -> HashSet<Oid> {
        self.files.iter().map(|file| file.blob).collect()
    }

    /// Definitions and declarations of `name`: definitions first, then prototypes, by path.
    pub fn def(&self, name: &str) -> Result<Vec<Definition>> {
        let mut out = Vec::new();
        for blob in self.index.store.symbol_blobs(name)? {
            if !self.has_blob(blob) {
                continue;
            }
            let symbols = self.index.symbols(blob)?;
            for (symbol, path) in symbols
                .iter()
                .filter(|symbol| symbol.name == name)
                .flat_map(|symbol| self.paths_of(blob).map(move |path| (symbol, path)))
            {
                out.push(Definition {
                    name: symbol.name.clone(),
                    kind: symbol.kind,
                    path: path.to_string(),
                    line: symbol.line,
                    end_line: symbol.end_line,
                    signature: symbol.signature.clone(),
                    is_static: symbol.is_static,
                });
            }
        }
        out.sort_by(|a, b| {
            (!a.kind.is_definition(), a.path.as_str(), a.line).cmp(&(
                !b.kind.is_definition(),
                b.path.as_str(),
                b.line,
            ))
        });
        Ok(out)
    }

    /// Call sites of `name`, by path and line.
    pub fn callers(&self, name: &str) -> Result<Vec<CallSite>> {
        let mut out = Vec::new();
        for blob in self.index.store.callee_blobs(name)? {
            if !self.has_blob(blob) {
                continue;
            }
            let facts = self.index.facts(blob)?;
            for (call, path) in facts
                .calls
                .iter()
                .filter(|call| call.callee == name)
                .flat_map(|call| self.paths_of(blob).map(move |path| (call, path)))
            {
                out.push(CallSite {
                    caller: call.caller.clone(),
                    callee: call.callee.clone(),
                    path: path.to_string(),
                    line: call.line,
                });
            }
        }
        out.sort_by(|a, b| (a.path.as_str(), a.line).cmp(&(b.path.as_str(), b.line)));
        Ok(out)
    }

    /// Calls made by the function or macro `name`, from each of its definitions.
    pub fn callees(&self, name: &str) -> Result<Vec<CallSite>> {
        let mut out = Vec::new();
        let mut seen_blobs = HashSet::new();
        for definition in self
            .def(name)?
            .into_iter()
            .filter(|d| d.kind.is_definition())
        {
            let Some(file) = self.files.iter().find(|file| file.path == definition.path) else {
                continue;
            };
            if !seen_blobs.insert((file.blob, definition.line)) {
                continue;
            }
            let facts = self.index.facts(file.blob)?;
            for call in facts.calls.iter().filter(|call| {
                call.caller == name && (definition.line..=definition.end_line).contains(&call.line)
            }) {
                out.push(CallSite {
                    caller: call.caller.clone(),
                    callee: call.callee.clone(),
                    path: definition.path.clone(),
                    line: call.line,
                });
            }
        }
        Ok(out)
    }

    /// Every file of the tree (not only C sources), listed once per snapshot.
    fn all_files(&self) -> Result<&[TreeFile]> {
        if let Some(files) = self.all_files.get() {
            return Ok(files);
        }
        let files = self.index.repo.tree_files(self.rev.commit)?;
        Ok(self.all_files.get_or_init(|| files))
    }

    /// The indexed commits visible at this revision (it and its ancestors), computed once;
    /// empty when no history is indexed.
    fn visible_commits(&self) -> Result<&HashSet<Oid>> {
        if let Some(commits) = self.visible_commits.get() {
            return Ok(commits);
        }
        let commits = if HistoryStore::new(&self.index.store).is_empty()? {
            HashSet::new()
        } else {
            history::ancestors(self.index.repo.git()?, self.rev.commit)?
        };
        Ok(self.visible_commits.get_or_init(|| commits))
    }

    /// Ranked full-text search over identifiers (split into parts), code and messages, and
    /// over the messages of the indexed commits that are this revision or its ancestors.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        self.search_in(query, limit, None)
    }

    /// Like [`Snapshot::search`], only symbols (no messages, no commits).
    pub fn search_symbols(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        self.search_in(query, limit, Some(DocKind::Symbol))
    }

    fn search_in(
        &self,
        query: &str,
        limit: usize,
        kind: Option<DocKind>,
    ) -> Result<Vec<SearchHit>> {
        let mut owners = self.blobs();
        if kind.is_none_or(|kind| kind == DocKind::Commit) {
            owners.extend(self.visible_commits()?.iter().copied());
        }
        let query_terms: HashSet<String> = terms::unique_terms(query).into_iter().collect();
        let hits = self
            .index
            .text()?
            .search_kind(query, &owners, limit, kind, &self.doc_freqs)?;
        let mut contents: HashMap<Oid, Vec<u8>> = HashMap::new();
        let mut out = Vec::new();
        for hit in hits {
            if hit.kind == DocKind::Commit {
                out.push(self.commit_hit(&hit, &query_terms)?);
                continue;
            }
            let facts = self.index.facts(hit.blob)?;
            let (start, end, symbol) = if hit.kind == DocKind::Symbol {
                let symbol = self.hit_item(&facts.symbols, &hit)?;
                (symbol.line, symbol.end_line, Some(symbol.name.clone()))
            } else {
                let message = self.hit_item(&facts.messages, &hit)?;
                (message.line, message.line, None)
            };
            let content = match contents.entry(hit.blob) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => {
                    entry.insert(self.index.repo.read_blob(hit.blob)?)
                }
            };
            let text = String::from_utf8_lossy(content);
            let (line, snippet) = best_line(&text, start, end, &query_terms);
            for path in self.paths_of(hit.blob) {
                out.push(SearchHit {
                    kind: if hit.kind == DocKind::Symbol {
                        "symbol"
                    } else {
                        "message"
                    },
                    path: path.to_string(),
                    line,
                    snippet: snippet.clone(),
                    score: hit.score,
                    symbol: symbol.clone(),
                    commit: None,
                    subject: None,
                });
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    /// A commit hit: the message line holding the most query terms.
    fn commit_hit(&self, hit: &TextHit, query_terms: &HashSet<String>) -> Result<SearchHit> {
        let commit = self
            .index
            .repo
            .git()?
            .find_commit(hit.blob)
            .map_err(Error::git(format!("reading commit {}", hit.blob)))?;
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let (line, snippet) = best_line(
            &message,
            1,
            message.lines().count().max(1) as u32,
            query_terms,
        );
        Ok(SearchHit {
            kind: "commit",
            path: String::new(),
            line,
            snippet,
            score: hit.score,
            symbol: None,
            commit: Some(hit.blob.to_string()),
            subject: Some(hit.subject.clone()),
        })
    }

    /// Logged messages (string literals passed to logging and error helpers) ranked by how
    /// well they match `text`, with the function that prints each.
    pub fn search_messages(&self, text: &str, limit: usize) -> Result<Vec<MessageHit>> {
        let blobs = self.blobs();
        let mut out = Vec::new();
        for hit in self.index.text()?.search_kind(
            text,
            &blobs,
            limit,
            Some(DocKind::Message),
            &self.doc_freqs,
        )? {
            let facts = self.index.facts(hit.blob)?;
            let message = self.hit_item(&facts.messages, &hit)?;
            for path in self.paths_of(hit.blob) {
                out.push(MessageHit {
                    path: path.to_string(),
                    line: message.line,
                    text: message.text.clone(),
                    function: message.function.clone(),
                    score: hit.score,
                });
            }
        }
        Ok(out)
    }

    /// The symbol or message of its blob's facts that a text hit is.
    fn hit_item<'f, T>(&self, items: &'f [T], hit: &TextHit) -> Result<&'f T> {
        items.get(hit.item).ok_or_else(|| {
            let detail = format!(
                "text hit {} of blob {} is past the {} its facts hold",
                hit.item,
                hit.blob,
                items.len()
            );
            Error::corrupt(self.index.dir(), detail)
        })
    }

    /// The function definition of `path` (a tree path) whose span holds `line`.
    pub fn function_at(&self, path: &str, line: u32) -> Result<Option<Definition>> {
        self.function_near(path, line, 0)
    }

    /// The function definition of `path` whose span holds `line`; else, when no symbol
    /// holds `line`, the function starting within `within` lines after it with no other
    /// symbol in between: a line number from a build of a slightly different revision can
    /// land in the comment above a function.
    pub fn function_near(&self, path: &str, line: u32, within: u32) -> Result<Option<Definition>> {
        let Some(file) = self.files.iter().find(|file| file.path == path) else {
            return Ok(None);
        };
        let symbols = self.index.symbols(file.blob)?;
        let is_function =
            |s: &&Symbol| matches!(s.kind, SymbolKind::Function | SymbolKind::FunctionMacro);
        let holds = |s: &&Symbol| s.line <= line && line <= s.end_line;
        let holding = symbols
            .iter()
            .filter(is_function)
            .filter(holds)
            .min_by_key(|s| s.end_line - s.line);
        let symbol = match holding {
            Some(symbol) => Some(symbol),
            None if within == 0 || symbols.iter().any(|s| holds(&s)) => None,
            None => symbols
                .iter()
                .filter(|s| s.line > line)
                .min_by_key(|s| s.line)
                .filter(|s| is_function(s) && s.line - line <= within),
        };
        Ok(symbol.map(|s| Definition {
            name: s.name.clone(),
            kind: s.kind,
            path: path.to_string(),
            line: s.line,
            end_line: s.end_line,
            signature: s.signature.clone(),
            is_static: s.is_static,
        }))
    }

    /// The index this snapshot reads.
    pub fn index(&self) -> &Index {
        self.index
    }

    /// Lines of the C sources matching the regular expression `pattern`, by path and line,
    /// at most `limit` of them.
    pub fn grep(&self, pattern: &str, limit: usize) -> Result<Vec<GrepHit>> {
        let regex = regex::bytes::Regex::new(pattern)
            .map_err(|err| Error::BadQuery(format!("bad regular expression `{pattern}`: {err}")))?;
        let contents = self
            .files
            .iter()
            .map(|file| Ok((file.path.as_str(), self.index.repo.read_blob(file.blob)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut hits: Vec<GrepHit> = contents
            .par_iter()
            .flat_map_iter(|(path, content)| {
                let mut file_hits = Vec::new();
                for (line_idx, line) in content.split(|b| *b == b'\n').enumerate() {
                    if regex.is_match(line) {
                        file_hits.push(GrepHit {
                            path: path.to_string(),
                            line: line_idx as u32 + 1,
                            text: String::from_utf8_lossy(line).trim_end().to_string(),
                        });
                    }
                }
                file_hits
            })
            .collect();
        hits.truncate(limit);
        Ok(hits)
    }

    /// Resolves a path as a log may write it to a file of the whole tree (not only C files).
    pub fn resolve_path(&self, wanted: &str) -> Result<String> {
        let tree = self.all_files()?;
        let tree_paths = tree.iter().map(|file| file.path.as_str());
        let not_found = |hint: String| Error::NoSuchPath {
            path: wanted.to_string(),
            rev: self.rev.name.clone(),
            hint,
        };
        match paths::resolve(tree_paths, wanted, &self.index.config.path_prefixes) {
            PathMatch::Exact(path) | PathMatch::Alias(path) => Ok(path),
            PathMatch::Ambiguous(candidates) => Err(not_found(format!(
                " (ambiguous: {})",
                candidates.join(", ")
            ))),
            PathMatch::NotFound => Err(not_found(String::new())),
        }
    }

    /// Lines `start..=end` (1-based, clamped) of a file of the tree; the path may be a log's
    /// alias. `None` bounds mean the whole file.
    pub fn read(&self, wanted: &str, start: Option<u32>, end: Option<u32>) -> Result<FileText> {
        let path = self.resolve_path(wanted)?;
        let tree = self.all_files()?;
        let file = tree
            .iter()
            .find(|file| file.path == path)
            .ok_or_else(|| Error::NoSuchPath {
                path: path.clone(),
                rev: self.rev.name.clone(),
                hint: String::new(),
            })?;
        let content = self.index.repo.read_blob(file.blob)?;
        let text = String::from_utf8_lossy(&content);
        let all: Vec<&str> = text.lines().collect();
        let total_lines = all.len() as u32;
        let start = start.unwrap_or(1).max(1);
        let end = end.unwrap_or(total_lines).min(total_lines);
        let lines = if start <= end {
            all[(start - 1) as usize..end as usize]
                .iter()
                .map(|line| line.to_string())
                .collect()
        } else {
            Vec::new()
        };
        Ok(FileText {
            path,
            start,
            end: end.max(start.saturating_sub(1)),
            total_lines,
            lines,
        })
    }

    /// True when `path` is one of the tree's C sources or headers.
    pub fn is_indexed_path(&self, path: &str) -> bool {
        is_c_source(path) && self.files.iter().any(|file| file.path == path)
    }
}

/// The line of `line..=end_line` that holds the most query terms (the first one on ties).
fn best_line(text: &str, line: u32, end_line: u32, query_terms: &HashSet<String>) -> (u32, String) {
    let mut best = (0usize, line, String::new());
    for (offset, candidate) in text
        .lines()
        .skip(line.saturating_sub(1) as usize)
        .take((end_line.max(line) - line + 1) as usize)
        .enumerate()
    {
        let found = terms::unique_terms(candidate)
            .iter()
            .filter(|term| query_terms.contains(*term))
            .count();
        if found > best.0 || best.2.is_empty() {
            best = (found, line + offset as u32, candidate.trim().to_string());
            if found == 0 {
                best.0 = 0;
            }
        }
    }
    (best.1, best.2)
}
