//! The evidence engine: given a failure's text (a kernel splat, compiler diagnostics or an
//! error message) and a repository at a revision, rank the files, functions and commits most
//! likely responsible, and gather the code an investigator reads first.
//!
//! Signals ([`clues`] reads them from the text): `file:line` locations resolved through path
//! aliases, stack frames resolved to definitions (innermost first, decaying), functions named
//! by compilers, message lines matched to logged string literals, and identifiers defined in
//! the tree. Each adds a weighted score with a reason; weights are in [`Weights`], chosen by
//! measurement on the localization benchmark (see BENCHMARKS.md).
//!
//! Does not: look at anything after the revision (every lookup goes through a
//! [`ktriage_index::Snapshot`]), call a model, or write anywhere.
#![deny(missing_docs)]

pub mod clues;
mod rank;

use clues::{read_clues, Clues, QueryKind};
use ktriage_index::paths::{self, PathMatch};
use ktriage_index::{terms, Result, Snapshot};
use rank::Ranking;
use std::collections::HashSet;

/// Signal weights.
#[derive(Debug, Clone)]
pub struct Weights {
    /// A `file:line` an error names (warnings and notes count `location_non_error` of it).
    pub location: f64,
    /// Share of `location` for warnings and notes.
    pub location_non_error: f64,
    /// Decay per later location.
    pub location_decay: f64,
    /// A function a compiler names (`In function 'f'`).
    pub in_function: f64,
    /// The innermost stack frame defined in the tree.
    pub frame: f64,
    /// Decay per deeper frame.
    pub frame_decay: f64,
    /// Share for frames the unwinder marked unreliable.
    pub frame_unreliable: f64,
    /// The report's guilty file.
    pub guilty_file: f64,
    /// A logged message matching a line of the text (times match quality squared).
    pub message: f64,
    /// An identifier of the text defined in the tree.
    pub identifier: f64,
}

impl Weights {
    /// The weights measured best on the development cases.
    pub fn measured() -> Weights {
        Weights {
            location: 10.0,
            location_non_error: 0.6,
            location_decay: 0.7,
            in_function: 6.0,
            frame: 8.0,
            frame_decay: 0.6,
            frame_unreliable: 0.3,
            guilty_file: 4.0,
            message: 7.0,
            identifier: 1.0,
        }
    }
}

/// A ranked file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RankedFile {
    /// The tree path.
    pub path: String,
    /// Accumulated score.
    pub score: f64,
    /// The signals that ranked it.
    pub why: Vec<String>,
}

/// A ranked function.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RankedFunction {
    /// The function's name.
    pub name: String,
    /// The file defining it.
    pub path: String,
    /// Its first line.
    pub line: u32,
    /// Accumulated score.
    pub score: f64,
    /// The signals that ranked it.
    pub why: Vec<String>,
}

/// A piece of code worth reading first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Snippet {
    /// The tree path.
    pub path: String,
    /// First line (1-based).
    pub start: u32,
    /// Last line (inclusive).
    pub end: u32,
    /// The lines, joined with newlines.
    pub text: String,
}

/// The primary report, as far as the text had one.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportSummary {
    /// Splat, build or errmsg.
    pub kind: QueryKind,
    /// The crash title when a kernel report was found.
    pub title: Option<String>,
    /// The frames read, innermost first.
    pub frames: Vec<String>,
}

/// The evidence dossier for one failure.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Dossier {
    /// What was read from the failure.
    pub report: ReportSummary,
    /// Files, best first.
    pub files: Vec<RankedFile>,
    /// Functions, best first.
    pub functions: Vec<RankedFunction>,
    /// Code to read first.
    pub snippets: Vec<Snippet>,
}

/// Options of [`locate`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Signal weights.
    pub weights: Weights,
    /// How many files, functions and snippets to return at most.
    pub limit: usize,
}

impl Options {
    /// The measured weights and `limit` items per list.
    pub fn with_limit(limit: usize) -> Options {
        Options { weights: Weights::measured(), limit }
    }
}

/// Ranks what is behind the failure described by `text`, as of the snapshot's revision.
pub fn locate(snapshot: &Snapshot, text: &str, options: &Options) -> Result<Dossier> {
    let clues = read_clues(text);
    let mut scorer = Scorer { snapshot, weights: &options.weights, files: Ranking::new(), functions: Ranking::new(), anchors: Vec::new() };
    scorer.locations(&clues)?;
    scorer.in_functions(&clues)?;
    scorer.frames(&clues)?;
    scorer.messages(&clues)?;
    scorer.identifiers(&clues)?;
    let functions: Vec<RankedFunction> = scorer
        .functions
        .ranked(options.limit)
        .into_iter()
        .map(|((name, path, line), score, why)| RankedFunction { name, path, line, score, why })
        .collect();
    let files = scorer
        .files
        .ranked(options.limit)
        .into_iter()
        .map(|(path, score, why)| RankedFile { path, score, why })
        .collect();
    let snippets = scorer.snippets(&functions, options.limit.min(8))?;
    let report = ReportSummary {
        kind: clues.kind,
        title: clues.reports.first().map(|report| report.title.clone()),
        frames: clues.frames.iter().map(|frame| frame.function.clone()).collect(),
    };
    Ok(Dossier { report, files, functions, snippets })
}

type FunctionKey = (String, String, u32);

struct Scorer<'s, 'a> {
    snapshot: &'s Snapshot<'a>,
    weights: &'s Weights,
    files: Ranking<String>,
    functions: Ranking<FunctionKey>,
    /// Lines the failure points at, for snippets.
    anchors: Vec<(String, u32)>,
}

impl Scorer<'_, '_> {
    fn resolve(&self, path: &str) -> Option<String> {
        let tree = self.snapshot.files().iter().map(|file| file.path.as_str());
        match paths::resolve(tree, path, &self.snapshot.index().config().path_prefixes) {
            PathMatch::Exact(path) | PathMatch::Alias(path) => Some(path),
            PathMatch::Ambiguous(_) | PathMatch::NotFound => None,
        }
    }

    fn add_location(&mut self, path: &str, line: u32, weight: f64, why: &str) -> Result<()> {
        let Some(tree_path) = self.resolve(path) else { return Ok(()) };
        self.files.add(tree_path.clone(), weight, format!("{why} {path}:{line}"));
        if let Some(function) = self.snapshot.function_at(&tree_path, line)? {
            self.functions.add(
                (function.name.clone(), tree_path.clone(), function.line),
                weight,
                format!("{why} {path}:{line} is in it"),
            );
        }
        self.anchors.push((tree_path, line));
        Ok(())
    }

    fn locations(&mut self, clues: &Clues) -> Result<()> {
        let w = self.weights;
        for (rank, location) in clues.locations.iter().enumerate() {
            let severity = if location.is_error { 1.0 } else { w.location_non_error };
            let weight = w.location * severity * w.location_decay.powi(rank as i32);
            let why = if clues.kind == QueryKind::Build { "diagnostic at" } else { "report names" };
            self.add_location(&location.path, location.line, weight, why)?;
        }
        if let Some(guilty) = clues.reports.first().and_then(|report| report.guilty_file.as_deref()) {
            if let Some(path) = self.resolve(guilty) {
                self.files.add(path, w.guilty_file, "the report's guilty file");
            }
        }
        Ok(())
    }

    fn add_definitions(&mut self, name: &str, weight: f64, why: &str) -> Result<bool> {
        let definitions: Vec<_> = self
            .snapshot
            .def(name)?
            .into_iter()
            .filter(|d| matches!(d.kind, ktriage_index::facts::SymbolKind::Function))
            .collect();
        if definitions.is_empty() {
            return Ok(false);
        }
        let share = weight / definitions.len() as f64;
        for definition in definitions {
            self.files.add(definition.path.clone(), share, format!("{why} {name}"));
            self.functions.add((definition.name, definition.path, definition.line), share, why.to_string());
        }
        Ok(true)
    }

    fn in_functions(&mut self, clues: &Clues) -> Result<()> {
        for name in &clues.in_functions {
            self.add_definitions(name, self.weights.in_function, "compiler names")?;
        }
        Ok(())
    }

    fn frames(&mut self, clues: &Clues) -> Result<()> {
        let w = self.weights;
        let mut rank = 0;
        let mut seen = HashSet::new();
        for frame in &clues.frames {
            if !seen.insert(frame.function.as_str()) {
                continue;
            }
            let reliability = if frame.unreliable { w.frame_unreliable } else { 1.0 };
            let weight = w.frame * w.frame_decay.powi(rank) * reliability;
            let why = format!("stack frame #{rank}");
            if self.add_definitions(&frame.function, weight, &why)? {
                if let Some((path, line)) = &frame.location {
                    self.add_location(path, *line, weight * 0.5, &why)?;
                }
                rank += 1;
            }
        }
        Ok(())
    }

    fn messages(&mut self, clues: &Clues) -> Result<()> {
        let w = self.weights;
        for line in clues.message_lines.iter().take(40) {
            let line_terms: HashSet<String> = terms::unique_terms(line).into_iter().collect();
            if line_terms.len() < 2 {
                continue;
            }
            let hits = match self.snapshot.search_messages(line, 8) {
                Ok(hits) => hits,
                Err(ktriage_index::Error::BadQuery(_)) => continue,
                Err(err) => return Err(err),
            };
            for hit in hits {
                let quality = message_match(&hit.text, &line_terms);
                if quality < 0.6 {
                    continue;
                }
                let weight = w.message * quality * quality;
                let why = format!("prints \"{}\"", shorten(&hit.text, 60));
                self.files.add(hit.path.clone(), weight, why.clone());
                if let Some(function) = hit.function.as_deref() {
                    if let Some(definition) = self.snapshot.function_at(&hit.path, hit.line)? {
                        if definition.name == function {
                            self.functions.add((definition.name, hit.path.clone(), definition.line), weight, why);
                        }
                    }
                }
                self.anchors.push((hit.path, hit.line));
            }
        }
        Ok(())
    }

    fn identifiers(&mut self, clues: &Clues) -> Result<()> {
        let frames: HashSet<&str> = clues.frames.iter().map(|frame| frame.function.as_str()).collect();
        for name in clues.identifiers.iter().filter(|name| !frames.contains(name.as_str())).take(40) {
            self.add_definitions(name, self.weights.identifier, "the failure mentions")?;
        }
        Ok(())
    }

    fn snippets(&self, functions: &[RankedFunction], limit: usize) -> Result<Vec<Snippet>> {
        let mut snippets = Vec::new();
        let mut seen = HashSet::new();
        let anchors = self.anchors.iter().map(|(path, line)| (path.clone(), line.saturating_sub(5).max(1), line + 5));
        let bodies = functions.iter().map(|f| (f.path.clone(), f.line, f.line + 40));
        for (path, start, end) in anchors.chain(bodies) {
            if snippets.len() >= limit || !seen.insert((path.clone(), start)) {
                continue;
            }
            let text = self.snapshot.read(&path, Some(start), Some(end))?;
            snippets.push(Snippet { path: text.path, start: text.start, end: text.end, text: text.lines.join("\n") });
        }
        Ok(snippets)
    }
}

/// Share of a message literal's words found in a log line (format specifiers skipped).
fn message_match(literal: &str, line_terms: &HashSet<String>) -> f64 {
    let literal_terms: Vec<String> = terms::unique_terms(&strip_format_specifiers(literal));
    if literal_terms.len() < 2 {
        return 0.0;
    }
    let found = literal_terms.iter().filter(|term| line_terms.contains(*term)).count();
    found as f64 / literal_terms.len() as f64
}

/// Removes printf conversions (`%llu`, `%s`, `%pV`, ...) and escapes from a literal.
fn strip_format_specifiers(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '%' => {
                while let Some(next) = chars.next() {
                    if next.is_ascii_alphabetic() && !matches!(next, 'l' | 'h' | 'z' | 'j' | 't') {
                        if next == 'p' {
                            while chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                                chars.next();
                            }
                        }
                        break;
                    }
                }
                out.push(' ');
            }
            '\\' => {
                chars.next();
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_specifiers_do_not_count_as_words() {
        assert_eq!(strip_format_specifiers("bucket %llu dirty %u\\n").split_whitespace().collect::<Vec<_>>(), ["bucket", "dirty"]);
        let line: HashSet<String> = terms::unique_terms("bucket 36 dirty 2016").into_iter().collect();
        assert_eq!(message_match("bucket %llu dirty %u", &line), 1.0);
        assert_eq!(message_match("bucket %llu clean %u", &line), 0.5);
    }
}
