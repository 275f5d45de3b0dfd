//! The evidence the index gives for a question without a model: the commits it names (what
//! they do, what they fix, what later fixed them), the history of the functions and files it
//! names, commit messages and code matching its words, and who last changed the matching
//! lines. Everything here is a search result read from the index as of one revision.

use super::clues::{self, Clues};
use ktriage_index::history::date;
use ktriage_index::{History, Snapshot};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Longest list of commits, functions, files or code hits in the findings.
const MAX_ITEMS: usize = 12;
/// Changes listed per function or file.
const MAX_CHANGES: usize = 10;
/// Reasons kept per commit.
const MAX_REASONS: usize = 4;
/// Code hits whose lines are blamed.
const MAX_BLAMED: usize = 5;

/// What the index knows that bears on a question.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Findings {
    /// The question.
    pub question: String,
    /// The revision everything is read at.
    pub rev: String,
    /// The start of the time window the question asked about, when it named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Commits, most relevant first.
    pub commits: Vec<FoundCommit>,
    /// Functions the question names, with their recent changes.
    pub functions: Vec<FoundFunction>,
    /// Files the question names, with their recent commits and authors.
    pub files: Vec<FoundFile>,
    /// Code and log messages matching the question's words.
    pub code: Vec<FoundCode>,
    /// What could not be looked up (an id outside the history, an unknown path).
    pub unresolved: Vec<String>,
}

/// A commit among the findings.
#[derive(Debug, Clone, Serialize)]
pub struct FoundCommit {
    /// Full id.
    pub id: String,
    /// Author date.
    pub date: String,
    /// `Name <email>`.
    pub author: String,
    /// Subject.
    pub subject: String,
    /// Why it is listed (which clue found it).
    pub why: Vec<String>,
    /// Functions it changed (`name (path, change)`), for the commits the question names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
    /// Commits its `Fixes:` trailers name (`id subject`, or the raw trailer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<String>,
    /// Later commits whose `Fixes:` names it: what it broke.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed_by: Vec<String>,
    #[serde(skip)]
    score: f32,
}

/// A function among the findings.
#[derive(Debug, Clone, Serialize)]
pub struct FoundFunction {
    /// Its name.
    pub name: String,
    /// Where it is defined at the revision.
    pub path: String,
    /// First line of the definition.
    pub line: u32,
    /// Last line.
    pub end_line: u32,
    /// Commits that changed its body (within the time window), newest first.
    pub changes: Vec<Change>,
    /// How many there are in all.
    pub total_changes: usize,
}

/// One commit's change to a function or file.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Full id.
    pub id: String,
    /// Author date.
    pub date: String,
    /// `Name <email>`.
    pub author: String,
    /// Subject.
    pub subject: String,
}

/// A file among the findings.
#[derive(Debug, Clone, Serialize)]
pub struct FoundFile {
    /// The tree path.
    pub path: String,
    /// Commits that changed it (within the time window), newest first.
    pub changes: Vec<Change>,
    /// How many there are in all.
    pub total_changes: usize,
    /// Authors of those commits, most commits first.
    pub authors: Vec<AuthorCount>,
}

/// How many of a file's commits one author wrote.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorCount {
    /// `Name <email>`.
    pub author: String,
    /// Commits.
    pub commits: usize,
}

/// A line of code or a log message matching the question.
#[derive(Debug, Clone, Serialize)]
pub struct FoundCode {
    /// `symbol` or `message`.
    pub kind: String,
    /// Tree path.
    pub path: String,
    /// Line.
    pub line: u32,
    /// The line's text.
    pub snippet: String,
    /// The enclosing symbol, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// The commit that last changed the line (blame), `id subject`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_changed_by: Option<String>,
}

/// Weight of each way of finding a commit; the explicit mention of an id dominates.
const NAMED: f32 = 1000.0;
const MESSAGE_MATCH: f32 = 60.0;
const BLAMED: f32 = 40.0;
const CHANGED_FUNCTION: f32 = 30.0;
const CHANGED_FILE: f32 = 20.0;

/// Gathers the findings for `question` at the snapshot's revision. Without a history only
/// code is searched.
pub fn gather(snapshot: &Snapshot<'_>, history: Option<&History<'_>>, question: &str) -> Findings {
    let rev = snapshot.rev().commit.to_string();
    let now = history
        .and_then(|history| history.resolve_commit(&rev).ok())
        .map_or(0, |record| record.committer.time);
    let clues = clues::read(question, now);
    let mut found = Gatherer {
        snapshot,
        history,
        clues: &clues,
        commits: HashMap::new(),
        out: Findings::default(),
    };
    found.out.question = question.to_string();
    found.out.since = clues.since.map(|since| date::format(since, 0));
    found.named_commits();
    found.functions();
    found.files();
    found.text();
    let mut commits: Vec<FoundCommit> = found.commits.into_values().collect();
    commits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.date.cmp(&a.date))
            .then_with(|| a.id.cmp(&b.id))
    });
    commits.truncate(MAX_ITEMS);
    Findings {
        rev,
        commits,
        ..found.out
    }
}

struct Gatherer<'g, 'a> {
    snapshot: &'g Snapshot<'a>,
    history: Option<&'g History<'a>>,
    clues: &'g Clues,
    commits: HashMap<String, FoundCommit>,
    out: Findings,
}

impl Gatherer<'_, '_> {
    /// Adds (or credits again) a commit found by one clue; outside the question's time window
    /// only the commits it names count.
    fn credit(&mut self, id: &str, score: f32, why: String) {
        if let Some(known) = self.commits.get_mut(id) {
            known.score += score;
            if known.why.len() < MAX_REASONS && !known.why.contains(&why) {
                known.why.push(why);
            }
            return;
        }
        let Some(record) = self
            .history
            .and_then(|history| history.resolve_commit(id).ok())
        else {
            return;
        };
        if score < NAMED
            && self
                .clues
                .since
                .is_some_and(|since| record.author.time < since)
        {
            return;
        }
        self.commits.insert(
            id.to_string(),
            FoundCommit {
                id: id.to_string(),
                date: date::format(record.author.time, record.author.offset_minutes),
                author: format!("{} <{}>", record.author.name, record.author.email),
                subject: record.subject.clone(),
                why: vec![why],
                functions: Vec::new(),
                fixes: Vec::new(),
                fixed_by: Vec::new(),
                score,
            },
        );
    }

    fn named_commits(&mut self) {
        let Some(history) = self.history else { return };
        for id in &self.clues.commit_ids {
            let Ok(record) = history.resolve_commit(id) else {
                self.out.unresolved.push(format!(
                    "commit {id}: not a commit of this revision's history"
                ));
                continue;
            };
            let full = record.oid().to_string();
            self.credit(&full, NAMED, format!("named in the question as {id}"));
            let fixes = history.fixes(&full).ok();
            if let Some(commit) = self.commits.get_mut(&full) {
                commit.functions = record
                    .functions
                    .iter()
                    .take(MAX_CHANGES)
                    .map(|f| format!("{} ({}, {})", f.name, f.path, f.change.as_str()))
                    .collect();
                if let Some(fixes) = fixes {
                    commit.fixes = fixes
                        .fixes
                        .iter()
                        .map(|fix| match (&fix.commit, &fix.subject) {
                            (Some(id), Some(subject)) => format!("{id} {subject}"),
                            _ => format!("{} (not found in the history)", fix.raw),
                        })
                        .collect();
                    commit.fixed_by = fixes
                        .fixed_by
                        .iter()
                        .map(|entry| format!("{} {}", entry.id, entry.subject))
                        .collect();
                }
            }
        }
    }

    fn functions(&mut self) {
        for name in &self.clues.identifiers {
            let Ok(definitions) = self.snapshot.def(name) else {
                continue;
            };
            let Some(definition) = definitions
                .into_iter()
                .find(|d| d.kind == ktriage_index::facts::SymbolKind::Function)
            else {
                continue;
            };
            let events = self
                .history
                .and_then(|history| history.function_history(name, Some(&definition.path)).ok())
                .unwrap_or_default();
            let in_window: Vec<_> = events
                .iter()
                .filter(|event| self.in_window(&event.date))
                .collect();
            for (rank, event) in in_window.iter().take(MAX_CHANGES).enumerate() {
                self.credit(
                    &event.id,
                    CHANGED_FUNCTION - rank as f32,
                    format!("changed {name}()"),
                );
            }
            self.out.functions.push(FoundFunction {
                changes: in_window
                    .iter()
                    .take(MAX_CHANGES)
                    .map(|e| change(&e.id, &e.date, &e.author, &e.subject))
                    .collect(),
                total_changes: in_window.len(),
                name: definition.name,
                path: definition.path,
                line: definition.line,
                end_line: definition.end_line,
            });
        }
    }

    fn files(&mut self) {
        for wanted in &self.clues.paths {
            let path = match self.snapshot.resolve_path(wanted.trim_end_matches('/')) {
                Ok(path) => path,
                Err(_) if wanted.ends_with('/') => wanted.clone(),
                Err(err) => {
                    self.out.unresolved.push(err.to_string());
                    continue;
                }
            };
            let Some(history) = self.history else {
                continue;
            };
            let Ok(entries) = history.log(Some(&path), self.clues.since, usize::MAX) else {
                continue;
            };
            let mut authors: BTreeMap<&str, usize> = BTreeMap::new();
            for entry in &entries {
                *authors.entry(entry.author.as_str()).or_default() += 1;
            }
            let mut authors: Vec<AuthorCount> = authors
                .into_iter()
                .map(|(author, commits)| AuthorCount {
                    author: author.to_string(),
                    commits,
                })
                .collect();
            authors.sort_by(|a, b| {
                b.commits
                    .cmp(&a.commits)
                    .then_with(|| a.author.cmp(&b.author))
            });
            authors.truncate(MAX_CHANGES);
            for (rank, entry) in entries.iter().take(MAX_CHANGES).enumerate() {
                self.credit(
                    &entry.id,
                    CHANGED_FILE - rank as f32,
                    format!("changed {path}"),
                );
            }
            self.out.files.push(FoundFile {
                changes: entries
                    .iter()
                    .take(MAX_CHANGES)
                    .map(|e| change(&e.id, &e.date, &e.author, &e.subject))
                    .collect(),
                total_changes: entries.len(),
                authors,
                path,
            });
        }
    }

    /// Commit messages and code matching the question's words, and the commits that last
    /// changed the best-matching lines.
    fn text(&mut self) {
        let Ok(hits) = self.snapshot.search(&self.out.question, 2 * MAX_ITEMS) else {
            return;
        };
        let top = hits.first().map_or(1.0, |hit| hit.score.max(f32::EPSILON));
        for hit in hits {
            let relevance = hit.score / top;
            if let Some(commit) = &hit.commit {
                let line = format!("its message matches: \"{}\"", hit.snippet);
                self.credit(commit, MESSAGE_MATCH * relevance, line);
                continue;
            }
            let seen = self
                .out
                .code
                .iter()
                .any(|code| code.path == hit.path && code.line == hit.line);
            if seen || self.out.code.len() >= MAX_ITEMS {
                continue;
            }
            let history = self.history.filter(|_| self.out.code.len() < MAX_BLAMED);
            let blamed = history
                .and_then(|history| history.blame(&hit.path, hit.line, hit.line).ok())
                .and_then(|mut lines| lines.pop());
            let mut last_changed_by = None;
            if let Some(line) = blamed {
                let subject = history
                    .and_then(|h| h.resolve_commit(&line.commit).ok())
                    .map(|r| r.subject)
                    .unwrap_or_default();
                self.credit(
                    &line.commit,
                    BLAMED * relevance,
                    format!("last changed {}:{}", hit.path, hit.line),
                );
                last_changed_by = Some(format!("{} {subject}", line.commit));
            }
            self.out.code.push(FoundCode {
                kind: hit.kind.to_string(),
                path: hit.path,
                line: hit.line,
                snippet: hit.snippet,
                symbol: hit.symbol,
                last_changed_by,
            });
        }
    }

    fn in_window(&self, iso_date: &str) -> bool {
        self.clues.since.is_none_or(|since| {
            date::parse(iso_date.get(..19).unwrap_or(iso_date)).is_none_or(|time| time >= since)
        })
    }
}

fn change(id: &str, date: &str, author: &str, subject: &str) -> Change {
    Change {
        id: id.to_string(),
        date: date.to_string(),
        author: author.to_string(),
        subject: subject.to_string(),
    }
}
