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
pub mod commits;
mod precondition;
mod rank;

use clues::{read_clues, Clues, QueryKind};
use ktriage_index::history::History;
use ktriage_index::paths::{self, PathMatch};
use ktriage_index::{terms, Result, Snapshot};
use rank::Ranking;
use std::collections::{HashMap, HashSet};

/// Signal weights.
#[derive(Debug, Clone)]
pub struct Weights {
    /// A `file:line` the failure names (warnings and notes count less, later ones decay).
    pub location: f64,
    /// A function a compiler names (`In function 'f'`).
    pub in_function: f64,
    /// A stack frame defined in the tree (the innermost one; deeper ones decay).
    pub frame: f64,
    /// A logged message matching a line of the text (times match quality squared).
    pub message: f64,
    /// An identifier of the text defined in the tree.
    pub identifier: f64,
    /// A literal fragment of a message line found in a string literal (split among the
    /// files that hold it).
    pub fragment: f64,
    /// Full-text relevance of a symbol to the failure's words (scaled by the best hit's score).
    pub search: f64,
    /// Factor for code outside the subsystem (core kernel directories and userspace shims).
    pub generic_path: f64,
    /// A function called on a line the failure names (a type mismatch at a call is often
    /// fixed in the callee's signature).
    pub callee: f64,
    /// A caller of a function that printed a message or holds a named line (split among
    /// its callers: the state it complains about often comes from one of them).
    pub caller: f64,
}

impl Weights {
    /// The weights measured best on the development cases.
    pub fn measured() -> Weights {
        Weights {
            location: 4.0,
            in_function: 15.0,
            frame: 1.25,
            message: 1.09,
            identifier: 5.0,
            fragment: 9.6,
            search: 1.28,
            generic_path: 0.1,
            callee: 5.0,
            caller: 1.56,
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
    /// Its last line.
    pub end_line: u32,
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
    /// Commits, best first (empty when the history is not consulted).
    pub commits: Vec<commits::RankedCommit>,
    /// Code to read first.
    pub snippets: Vec<Snippet>,
}

/// Options of [`locate`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Signal weights.
    pub weights: Weights,
    /// Commit signal weights.
    pub commit_weights: commits::CommitWeights,
    /// How many files, functions and snippets to return at most.
    pub limit: usize,
}

impl Options {
    /// The measured weights and `limit` items per list.
    pub fn with_limit(limit: usize) -> Options {
        Options {
            weights: Weights::measured(),
            commit_weights: commits::CommitWeights::measured(),
            limit,
        }
    }
}

/// Ranks what is behind the failure described by `text`, as of the snapshot's revision;
/// commits are ranked when the revision's `history` is given.
pub fn locate(
    snapshot: &Snapshot,
    history: Option<&History>,
    text: &str,
    options: &Options,
) -> Result<Dossier> {
    let evidence = gather(snapshot, text)?;
    let (files, functions) = evidence.rank(&options.weights, options.limit);
    let commits = match history {
        Some(history) => commits::rank_commits(
            history,
            &evidence,
            &functions,
            &options.commit_weights,
            options.limit,
        )?,
        None => Vec::new(),
    };
    let snippets = snippets(
        snapshot,
        &evidence.anchors,
        &functions,
        options.limit.min(8),
    )?;
    Ok(Dossier {
        report: evidence.report,
        files,
        functions,
        commits,
        snippets,
    })
}

/// How many lines past a named line are read: `\` continuations, an assertion's condition.
const MAX_CONTINUED_LINES: u32 = 30;

/// A named line outside every function credits the nearest function within this many
/// lines (see [`Snapshot::function_near`]).
const NEAR_LINES: u32 = 12;

/// The signals that credit files and functions; each has a weight in [`Weights`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A `file:line` the failure names.
    Location,
    /// A function a compiler names.
    InFunction,
    /// A stack frame defined in the tree.
    Frame,
    /// A logged message matching a line of the failure.
    Message,
    /// An identifier of the failure defined in the tree.
    Identifier,
    /// A literal fragment of a message line found in a string literal.
    Fragment,
    /// Full-text relevance to the failure's words.
    Search,
    /// A function called on a line the failure names.
    Callee,
    /// A caller of a function that printed a message or holds a named line.
    Caller,
}

impl Weights {
    /// The weight of one signal.
    pub fn of(&self, signal: Signal) -> f64 {
        match signal {
            Signal::Location => self.location,
            Signal::InFunction => self.in_function,
            Signal::Frame => self.frame,
            Signal::Message => self.message,
            Signal::Identifier => self.identifier,
            Signal::Fragment => self.fragment,
            Signal::Search => self.search,
            Signal::Callee => self.callee,
            Signal::Caller => self.caller,
        }
    }
}

/// One signal's credit to a file (and maybe one of its functions), before weighting.
#[derive(Debug, Clone)]
struct Contribution {
    signal: Signal,
    raw: f64,
    generic: bool,
    path: String,
    function: Option<(String, u32, u32)>,
    why: String,
}

/// Everything the signals found for one failure; ranking it with weights is cheap, so
/// weights can be measured over many cases without gathering again.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// What was read from the failure.
    pub report: ReportSummary,
    contributions: Vec<Contribution>,
    /// Lines the failure points at (`path`, `line`).
    pub(crate) anchors: Vec<(String, u32)>,
    /// Commits whose messages match the failure's words, with relevance in 0..=1.
    pub(crate) commit_hits: Vec<(String, f64)>,
}

impl Evidence {
    /// Ranked files and functions under `weights`, at most `limit` of each.
    pub fn rank(&self, weights: &Weights, limit: usize) -> (Vec<RankedFile>, Vec<RankedFunction>) {
        let mut files = Ranking::new();
        let mut functions = Ranking::new();
        // A file takes each piece of evidence once, at its strongest: one message printed
        // by two of its functions, or two of its functions calling the one that printed it,
        // is one clue. Full-text relevance is the exception: its reason is generic, and each
        // matching symbol adds to it.
        let mut strongest: HashMap<(&str, &str), f64> = HashMap::new();
        for c in &self.contributions {
            let factor = if c.generic { weights.generic_path } else { 1.0 };
            let score = weights.of(c.signal) * c.raw * factor;
            if c.signal == Signal::Search {
                files.add(c.path.clone(), score, c.why.as_str());
            } else {
                let best = strongest.entry((&c.path, &c.why)).or_insert(0.0);
                if score > *best {
                    files.add(c.path.clone(), score - *best, c.why.as_str());
                    *best = score;
                }
            }
            if let Some((name, line, end_line)) = &c.function {
                functions.add(
                    (name.clone(), c.path.clone(), *line, *end_line),
                    score,
                    c.why.as_str(),
                );
            }
        }
        let files = files
            .ranked(limit)
            .into_iter()
            .map(|(path, score, why)| RankedFile { path, score, why })
            .collect();
        let functions = functions
            .ranked(limit)
            .into_iter()
            .map(
                |((name, path, line, end_line), score, why)| RankedFunction {
                    name,
                    path,
                    line,
                    end_line,
                    score,
                    why,
                },
            )
            .collect();
        (files, functions)
    }
}

/// Reads the failure and runs every signal against the snapshot.
pub fn gather(snapshot: &Snapshot, text: &str) -> Result<Evidence> {
    let clues = read_clues(text);
    let decay = Decay::measured();
    let mut scorer = Scorer {
        snapshot,
        decay: &decay,
        kernel_dirs: kernel_dirs(snapshot, &clues),
        stack: clues.frames.iter().map(|f| f.function.clone()).collect(),
        contributions: Vec::new(),
        anchors: Vec::new(),
        commit_hits: Vec::new(),
    };
    scorer.locations(&clues)?;
    scorer.in_functions(&clues)?;
    scorer.frames(&clues)?;
    scorer.messages(&clues)?;
    scorer.identifiers(&clues)?;
    scorer.fragments(&clues)?;
    scorer.search(&clues)?;
    let report = ReportSummary {
        kind: clues.kind,
        title: clues.reports.first().map(|report| report.title.clone()),
        frames: clues
            .frames
            .iter()
            .map(|frame| frame.function.clone())
            .collect(),
    };
    Ok(Evidence {
        report,
        contributions: scorer.contributions,
        anchors: scorer.anchors,
        commit_hits: scorer.commit_hits,
    })
}

/// `path` resolved against the snapshot's tree and the index's prefix maps.
fn resolve_in_tree(snapshot: &Snapshot, path: &str) -> PathMatch {
    let tree = snapshot.files().iter().map(|file| file.path.as_str());
    paths::resolve(tree, path, &snapshot.index().config().path_prefixes)
}

/// The directories the failure's paths insert before the tree's (see [`Scorer::kernel_dirs`]).
fn kernel_dirs(snapshot: &Snapshot, clues: &Clues) -> Vec<(String, String)> {
    let frame_paths = clues
        .frames
        .iter()
        .filter_map(|frame| frame.location.as_ref().map(|(path, _)| path));
    let mut dirs: Vec<(String, String)> = Vec::new();
    for path in clues.locations.iter().map(|l| &l.path).chain(frame_paths) {
        if let PathMatch::Alias(tree_path) = resolve_in_tree(snapshot, path) {
            if let Some(pair) = paths::inserted_directories(path, &tree_path) {
                if !dirs.contains(&pair) {
                    dirs.push(pair);
                }
            }
        }
    }
    dirs
}

/// How signals fade within one failure: later locations, deeper frames.
struct Decay {
    /// Per message line: the first error line of a log is usually the cause, later ones
    /// its consequences (going read-only, recovery failing).
    message_line: f64,
    location_non_error: f64,
    location: f64,
    frame: f64,
    frame_unreliable: f64,
    /// The share of a named line's credit its function keeps when the line is an assertion
    /// on the function's arguments (the rest goes to the caller in the stack).
    argument_check_keep: f64,
}

impl Decay {
    fn measured() -> Decay {
        Decay {
            message_line: 0.6,
            location_non_error: 0.6,
            location: 0.7,
            frame: 0.6,
            frame_unreliable: 0.3,
            argument_check_keep: 0.25,
        }
    }
}

struct Scorer<'s, 'a> {
    snapshot: &'s Snapshot<'a>,
    decay: &'s Decay,
    /// `(log directory, tree directory)` pairs the failure's paths show it uses kernel paths
    /// by (see [`paths::inserted_directories`]).
    kernel_dirs: Vec<(String, String)>,
    /// The functions of the failure's stack.
    stack: HashSet<String>,
    contributions: Vec<Contribution>,
    /// Lines the failure points at, for snippets.
    anchors: Vec<(String, u32)>,
    commit_hits: Vec<(String, f64)>,
}

impl Scorer<'_, '_> {
    /// Adds `weight` to a file and, when given, to one of its functions (`name`, first line).
    fn credit(
        &mut self,
        path: &str,
        function: Option<(&str, u32, u32)>,
        signal: Signal,
        raw: f64,
        why: &str,
    ) {
        self.contributions.push(Contribution {
            signal,
            raw,
            generic: is_generic_path(path),
            path: path.to_string(),
            function: function.map(|(name, line, end_line)| (name.to_string(), line, end_line)),
            why: why.to_string(),
        });
    }

    /// The tree path a path of the failure names, unless it names a kernel file outside the
    /// tree (`fs/super.c` in a log that calls the tree's `fs/super.c` `fs/bcachefs/super.c`).
    fn resolve(&self, path: &str) -> Option<String> {
        let wanted = paths::normalize(path);
        let outside = self.kernel_dirs.iter().any(|(log, tree)| {
            wanted.starts_with(tree.as_str()) && !wanted.starts_with(log.as_str())
        });
        if outside {
            return None;
        }
        match resolve_in_tree(self.snapshot, wanted) {
            PathMatch::Exact(path) | PathMatch::Alias(path) => Some(path),
            PathMatch::Ambiguous(_) | PathMatch::NotFound => None,
        }
    }

    fn add_location(
        &mut self,
        path: &str,
        line: u32,
        signal: Signal,
        raw: f64,
        why: &str,
    ) -> Result<()> {
        let Some(tree_path) = self.resolve(path) else {
            return Ok(());
        };
        self.add_tree_location(
            tree_path,
            line,
            signal,
            raw,
            &format!("{why} {path}:{line}"),
        )
    }

    /// [`Self::add_location`] for a path of the tree (not of the log).
    fn add_tree_location(
        &mut self,
        tree_path: String,
        line: u32,
        signal: Signal,
        raw: f64,
        why: &str,
    ) -> Result<()> {
        let definition = self.function_at(&tree_path, line)?;
        let near = match definition {
            Some(_) => None,
            None => self.function_near(&tree_path, line, NEAR_LINES)?,
        };
        let function = definition
            .as_ref()
            .or(near.as_ref())
            .map(|f| (f.name.as_str(), f.line, f.end_line));
        // The named line and what may continue it (a `\` macro body, a long condition).
        let text = self
            .snapshot
            .read(
                &tree_path,
                Some(line),
                Some(line.saturating_add(MAX_CONTINUED_LINES)),
            )?
            .lines;
        let kept = match &definition {
            Some(definition) if self.checks_arguments(&text, definition)? => {
                let why = format!(
                    "calls {}, whose argument check fails at {tree_path}:{line}",
                    definition.name
                );
                let moved = raw * (1.0 - self.decay.argument_check_keep);
                self.credit_callers(&definition.name, signal, moved, &why)?;
                raw - moved
            }
            _ => raw,
        };
        self.credit(&tree_path, function, signal, kept, why);
        self.callees_at(&tree_path, line, &text, raw)?;
        if let Some(definition) = &definition {
            self.callers_of(&definition.name, raw)?;
        }
        self.anchors.push((tree_path, line));
        Ok(())
    }

    /// The line starting `text` is an assertion on the arguments of `definition`, the
    /// function holding it, and the failure's stack holds a caller that passed them.
    fn checks_arguments(
        &self,
        text: &[String],
        definition: &ktriage_index::Definition,
    ) -> Result<bool> {
        if definition.kind != ktriage_index::facts::SymbolKind::Function {
            return Ok(false);
        }
        if !precondition::checks_only_parameters(&text.join("\n"), &definition.signature) {
            return Ok(false);
        }
        let calls = self.snapshot.callers(&definition.name)?;
        Ok(calls.iter().any(|call| self.stack.contains(&call.caller)))
    }

    /// Credits the functions calling `name`, its credit split among them: only those in the
    /// failure's stack when it holds any.
    fn callers_of(&mut self, name: &str, raw: f64) -> Result<()> {
        self.credit_callers(name, Signal::Caller, raw, &format!("calls {name}"))
    }

    /// [`Self::callers_of`] with the signal and reason given.
    fn credit_callers(&mut self, name: &str, signal: Signal, raw: f64, why: &str) -> Result<()> {
        let mut calls = self.snapshot.callers(name)?;
        calls.retain(|call| call.caller != name);
        calls.sort_by(|a, b| (&a.caller, &a.path, a.line).cmp(&(&b.caller, &b.path, b.line)));
        calls.dedup_by(|a, b| a.caller == b.caller && a.path == b.path);
        // A stack that holds some of the callers says which one ran.
        if calls.iter().any(|call| self.stack.contains(&call.caller)) {
            calls.retain(|call| self.stack.contains(&call.caller));
        }
        let share = raw / calls.len().max(1) as f64;
        for call in calls {
            let (caller, path) = (call.caller, call.path);
            let definition = self
                .function_at(&path, call.line)?
                .filter(|d| d.name == caller);
            let function = definition
                .as_ref()
                .map(|d| (d.name.as_str(), d.line, d.end_line));
            self.credit(&path, function, signal, share, why);
        }
        Ok(())
    }

    /// Credits the definitions of the functions called on `path:line`, and of the functions
    /// the line (with its `\` continuations, `text` from the line on) names without calling
    /// them: a function pointer in an initializer or a macro, where a type mismatch is fixed
    /// in that function's signature.
    fn callees_at(&mut self, path: &str, line: u32, text: &[String], raw: f64) -> Result<()> {
        let Some(file) = self.snapshot.files().iter().find(|file| file.path == path) else {
            return Ok(());
        };
        let facts = self.snapshot.index().facts(file.blob)?;
        let mut callees: Vec<&str> = facts
            .calls
            .iter()
            .filter(|call| call.line == line)
            .map(|call| call.callee.as_str())
            .collect();
        callees.dedup();
        let mut named = Vec::with_capacity(callees.len());
        for callee in callees {
            named.push((callee.to_string(), self.function_definitions(callee)?));
        }
        // A line continued with `\` (a macro's replacement list) is read to its end.
        let continued = text.iter().scan(true, |more, text| {
            let this = std::mem::replace(more, text.trim_end().ends_with('\\'));
            this.then_some(text)
        });
        for word in continued.flat_map(|text| clues::symbol_words(text)) {
            if named.iter().any(|(name, _)| name == word) {
                continue;
            }
            let definitions = self.function_definitions(word)?;
            if !definitions.is_empty() {
                named.push((word.to_string(), definitions));
            }
        }
        let share = raw / named.len().max(1) as f64;
        let why = format!("named at {path}:{line}:");
        for (name, definitions) in &named {
            self.credit_definitions(name, definitions, Signal::Callee, share, &why);
        }
        Ok(())
    }

    fn locations(&mut self, clues: &Clues) -> Result<()> {
        for (rank, location) in clues.locations.iter().enumerate() {
            let severity = if location.is_error {
                1.0
            } else {
                self.decay.location_non_error
            };
            let raw = severity * self.decay.location.powi(rank as i32);
            let why = if clues.kind == QueryKind::Build {
                "diagnostic at"
            } else {
                "report names"
            };
            let declaration = match &location.zero_length_array_of {
                Some(name) => self.type_definition(name)?,
                None => None,
            };
            match declaration {
                Some(declared) => {
                    let why = format!(
                        "diagnostic at {}:{} quotes the zero-length array type '{}[0]', declared at {}:{}",
                        location.path, location.line, declared.name, declared.path, declared.line
                    );
                    self.add_tree_location(
                        declared.path,
                        declared.line,
                        Signal::Location,
                        raw,
                        &why,
                    )?;
                }
                None => {
                    self.add_location(&location.path, location.line, Signal::Location, raw, why)?
                }
            }
        }
        Ok(())
    }

    /// The one definition of struct or union `name` at the revision, if it is unambiguous.
    fn type_definition(&self, name: &str) -> Result<Option<ktriage_index::Definition>> {
        let mut definitions = self.snapshot.def(name)?;
        definitions.retain(|d| {
            use ktriage_index::facts::SymbolKind::{Struct, Union};
            matches!(d.kind, Struct | Union)
        });
        Ok((definitions.len() == 1).then(|| definitions.remove(0)))
    }

    fn add_definitions(&mut self, name: &str, signal: Signal, raw: f64, why: &str) -> Result<bool> {
        let definitions = self.function_definitions(name)?;
        Ok(self.credit_definitions(name, &definitions, signal, raw, why))
    }

    /// The definitions of the C function `name` at the revision (not its prototypes).
    fn function_definitions(&self, name: &str) -> Result<Vec<ktriage_index::Definition>> {
        Ok(self
            .snapshot
            .def(name)?
            .into_iter()
            .filter(|d| matches!(d.kind, ktriage_index::facts::SymbolKind::Function))
            .collect())
    }

    /// Credits `raw`, split among `definitions` of function `name`; false when there are none.
    fn credit_definitions(
        &mut self,
        name: &str,
        definitions: &[ktriage_index::Definition],
        signal: Signal,
        raw: f64,
        why: &str,
    ) -> bool {
        let share = raw / definitions.len().max(1) as f64;
        for definition in definitions {
            let function = Some((
                definition.name.as_str(),
                definition.line,
                definition.end_line,
            ));
            self.credit(
                &definition.path,
                function,
                signal,
                share,
                &format!("{why} {name}"),
            );
        }
        !definitions.is_empty()
    }

    fn in_functions(&mut self, clues: &Clues) -> Result<()> {
        let mut n_suffix_lookups = 0;
        for name in &clues.in_functions {
            self.add_function(
                name,
                Signal::InFunction,
                "the failure reports from",
                &mut n_suffix_lookups,
            )?;
        }
        Ok(())
    }

    /// Credits the definitions of function `name`; when there is none, the functions whose
    /// names end in `_name` (a name printed without its subsystem prefix, as `check_dirents`
    /// for `bch2_check_dirents`), found among the symbols the search returns, at half credit.
    fn add_function(
        &mut self,
        name: &str,
        signal: Signal,
        why: &str,
        n_suffix_lookups: &mut usize,
    ) -> Result<()> {
        if self.add_definitions(name, signal, 1.0, why)? {
            return Ok(());
        }
        let looks_like_function = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !looks_like_function || *n_suffix_lookups == MAX_SUFFIX_LOOKUPS {
            return Ok(());
        }
        *n_suffix_lookups += 1;
        let suffix = format!("_{name}");
        let mut prefixed: Vec<String> = Vec::new();
        for hit in self.snapshot.search_symbols(name, 10)? {
            if let Some(symbol) = hit.symbol.filter(|symbol| symbol.ends_with(&suffix)) {
                if !prefixed.contains(&symbol) {
                    prefixed.push(symbol);
                }
            }
        }
        for symbol in prefixed {
            self.add_definitions(&symbol, signal, 0.5, &format!("{why} {name}, as"))?;
        }
        Ok(())
    }

    fn frames(&mut self, clues: &Clues) -> Result<()> {
        let mut rank = 0;
        let mut seen = HashSet::new();
        for frame in &clues.frames {
            if !seen.insert(frame.function.as_str()) {
                continue;
            }
            let reliability = if frame.unreliable {
                self.decay.frame_unreliable
            } else {
                1.0
            };
            let raw = self.decay.frame.powi(rank) * reliability;
            let why = format!("stack frame #{rank}");
            if self.add_definitions(&frame.function, Signal::Frame, raw, &why)? {
                if let Some((path, line)) = &frame.location {
                    self.add_location(path, *line, Signal::Location, raw * 0.5, &why)?;
                }
                rank += 1;
            }
        }
        Ok(())
    }

    fn messages(&mut self, clues: &Clues) -> Result<()> {
        for (line_index, line) in clues.message_lines.iter().take(40).enumerate() {
            let position = self.decay.message_line.powi(line_index as i32);
            let line = clues::without_locations(line);
            let line_terms: HashSet<String> = terms::unique_terms(&line).into_iter().collect();
            if line_terms.len() < 2 {
                continue;
            }
            let hits = match self.snapshot.search_messages(&line, 8) {
                Ok(hits) => hits,
                Err(ktriage_index::Error::BadQuery(_)) => continue,
                Err(err) => return Err(err),
            };
            for hit in hits {
                let quality = message_match(&hit.text, &line_terms);
                if quality < 0.6 {
                    continue;
                }
                let raw = quality * quality * position;
                let why = format!("prints \"{}\"", shorten(&hit.text, 60));
                let definition = self.function_at(&hit.path, hit.line)?;
                let definition =
                    definition.filter(|d| hit.function.as_deref() == Some(d.name.as_str()));
                let function = definition
                    .as_ref()
                    .map(|d| (d.name.as_str(), d.line, d.end_line));
                self.credit(&hit.path, function, Signal::Message, raw, &why);
                if let Some(definition) = &definition {
                    self.callers_of(&definition.name, raw)?;
                }
                self.anchors.push((hit.path, hit.line));
            }
        }
        Ok(())
    }

    /// The C function (not a macro) whose body holds `path:line`.
    fn function_at(&self, path: &str, line: u32) -> Result<Option<ktriage_index::Definition>> {
        self.function_near(path, line, 0)
    }

    /// A function definition (not a function-like macro) by [`Snapshot::function_near`].
    fn function_near(
        &self,
        path: &str,
        line: u32,
        within: u32,
    ) -> Result<Option<ktriage_index::Definition>> {
        let definition = self.snapshot.function_near(path, line, within)?;
        Ok(definition.filter(|d| d.kind == ktriage_index::facts::SymbolKind::Function))
    }

    /// Identifiers of the failure defined in the tree; an undefined one may be a function's
    /// name without its subsystem prefix (`check_dirents` for `bch2_check_dirents`, as
    /// messages often print), found by suffix among the symbols the search returns.
    fn identifiers(&mut self, clues: &Clues) -> Result<()> {
        let frames: HashSet<&str> = clues
            .frames
            .iter()
            .map(|frame| frame.function.as_str())
            .collect();
        let mut n_suffix_lookups = 0;
        for name in clues
            .identifiers
            .iter()
            .filter(|name| !frames.contains(name.as_str()) && !clues.in_functions.contains(name))
            .take(40)
        {
            self.add_function(
                name,
                Signal::Identifier,
                "the failure mentions",
                &mut n_suffix_lookups,
            )?;
        }
        Ok(())
    }

    /// Literal fragments of message lines found inside string literals of the tree.
    fn fragments(&mut self, clues: &Clues) -> Result<()> {
        let fragments = clues::message_fragments(&clues.message_lines, 16);
        if fragments.is_empty() {
            return Ok(());
        }
        let pattern = fragments
            .iter()
            .map(|(f, _)| regex::escape(f))
            .collect::<Vec<_>>()
            .join("|");
        let hits = self.snapshot.grep(&pattern, 2000)?;
        for (fragment, line_index) in &fragments {
            let holders: Vec<_> = hits
                .iter()
                .filter(|hit| hit.text.contains('"') && hit.text.contains(fragment.as_str()))
                .collect();
            if holders.is_empty() {
                continue;
            }
            let n_words = fragment.split_whitespace().count() as f64;
            let raw = (n_words / 6.0).min(1.0) / holders.len() as f64
                * self.decay.message_line.powi(*line_index as i32);
            let why = format!("has \"{}\"", shorten(fragment, 60));
            for hit in holders {
                let definition = self.function_at(&hit.path, hit.line)?;
                let function = definition
                    .as_ref()
                    .map(|d| (d.name.as_str(), d.line, d.end_line));
                self.credit(&hit.path, function, Signal::Fragment, raw, &why);
                self.anchors.push((hit.path.clone(), hit.line));
            }
        }
        Ok(())
    }

    /// Full-text relevance of the tree's symbols to the failure's words.
    fn search(&mut self, clues: &Clues) -> Result<()> {
        let query = clues::search_words(clues, 64).join(" ");
        let hits = match self.snapshot.search(&query, 20) {
            Ok(hits) => hits,
            Err(ktriage_index::Error::BadQuery(_)) => return Ok(()),
            Err(err) => return Err(err),
        };
        let best = hits
            .first()
            .map_or(1.0, |hit| f64::from(hit.score))
            .max(1e-6);
        for hit in hits {
            let raw = f64::from(hit.score) / best;
            if let Some(commit) = &hit.commit {
                self.commit_hits.push((commit.clone(), raw));
                continue;
            }
            let definition = match hit.symbol.as_deref() {
                Some(symbol) => self
                    .function_at(&hit.path, hit.line)?
                    .filter(|d| d.name == symbol),
                None => None,
            };
            let function = definition
                .as_ref()
                .map(|d| (d.name.as_str(), d.line, d.end_line));
            self.credit(
                &hit.path,
                function,
                Signal::Search,
                raw,
                "matches the failure's words",
            );
        }
        Ok(())
    }
}

fn snippets(
    snapshot: &Snapshot,
    anchors: &[(String, u32)],
    functions: &[RankedFunction],
    limit: usize,
) -> Result<Vec<Snippet>> {
    let mut snippets = Vec::new();
    let mut seen = HashSet::new();
    let anchors = anchors
        .iter()
        .map(|(path, line)| (path.clone(), line.saturating_sub(5).max(1), line + 5));
    let bodies = functions
        .iter()
        .map(|f| (f.path.clone(), f.line, f.line + 40));
    for (path, start, end) in anchors.chain(bodies) {
        if snippets.len() >= limit || !seen.insert((path.clone(), start)) {
            continue;
        }
        let text = snapshot.read(&path, Some(start), Some(end))?;
        snippets.push(Snippet {
            path: text.path,
            start: text.start,
            end: text.end,
            text: text.lines.join("\n"),
        });
    }
    Ok(snippets)
}

/// How many undefined identifiers are looked up as prefix-less function names.
const MAX_SUFFIX_LOOKUPS: usize = 6;

/// Top-level directories of kernel code outside any one subsystem, and of the userspace
/// shims some subsystem trees carry (`linux/`); reports often point there first.
const GENERIC_DIRS: &[&str] = &[
    "arch", "block", "crypto", "drivers", "include", "init", "kernel", "lib", "linux", "mm", "net",
    "security", "sound", "tools", "virt",
];

/// True for paths in [`GENERIC_DIRS`].
fn is_generic_path(path: &str) -> bool {
    path.split('/')
        .next()
        .is_some_and(|top| GENERIC_DIRS.contains(&top))
}

/// Share of a message literal's words found in a log line (format specifiers skipped).
fn message_match(literal: &str, line_terms: &HashSet<String>) -> f64 {
    let literal_terms: Vec<String> = terms::unique_terms(&strip_format_specifiers(literal));
    if literal_terms.len() < 2 {
        return 0.0;
    }
    let found = literal_terms
        .iter()
        .filter(|term| line_terms.contains(*term))
        .count();
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
    fn a_file_takes_each_clue_once_but_sums_search_relevance() {
        let credit = |signal, path: &str, function: &str, why: &str| Contribution {
            signal,
            raw: 1.0,
            generic: false,
            path: path.to_string(),
            function: Some((function.to_string(), 1, 10)),
            why: why.to_string(),
        };
        let printed = "prints \"error reading superblock: %s\"";
        let evidence = Evidence {
            report: ReportSummary {
                kind: QueryKind::Errmsg,
                title: None,
                frames: Vec::new(),
            },
            contributions: vec![
                credit(Signal::Message, "fs/volumes.c", "dev_add", printed),
                credit(Signal::Message, "fs/volumes.c", "dev_online", printed),
                credit(Signal::Message, "fs/super.c", "read_super", printed),
                credit(Signal::Search, "fs/volumes.c", "dev_add", "words"),
                credit(Signal::Search, "fs/volumes.c", "dev_online", "words"),
            ],
            anchors: Vec::new(),
            commit_hits: Vec::new(),
        };
        let weights = Weights::measured();
        let (files, functions) = evidence.rank(&weights, 10);
        let score = |path: &str| {
            files
                .iter()
                .find(|f| f.path == path)
                .map_or(0.0, |f| f.score)
        };
        assert!((score("fs/super.c") - weights.message).abs() < 1e-9);
        let twice_searched = weights.message + 2.0 * weights.search;
        assert!((score("fs/volumes.c") - twice_searched).abs() < 1e-9);
        // Each function keeps its own credit.
        assert_eq!(functions.len(), 3);
    }

    #[test]
    fn format_specifiers_do_not_count_as_words() {
        assert_eq!(
            strip_format_specifiers("bucket %llu dirty %u\\n")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["bucket", "dirty"]
        );
        let line: HashSet<String> = terms::unique_terms("bucket 36 dirty 2016")
            .into_iter()
            .collect();
        assert_eq!(message_match("bucket %llu dirty %u", &line), 1.0);
        assert_eq!(message_match("bucket %llu clean %u", &line), 0.5);
    }
}
