//! The citation verifier: nothing a model cites reaches a note unchecked.
//!
//! - Code (`path:line@rev` with a quote): the path exists at the revision and the quoted
//!   lines are in the file at the cited line. A quote found a few lines off, or elsewhere in
//!   the file, corrects the line number (counted as corrected); an empty quote is filled in
//!   from the file.
//! - Commits: the id exists and is the revision or one of its ancestors; the subject is
//!   replaced by the repository's.
//! - Log quotes: every quoted line is in the failing log (whitespace and printk timestamps
//!   ignored).
//! - `path:line` and commit ids written inside prose are checked the same way (existence
//!   only) and flagged in place when they fail.
//!
//! Unverified citations stay in the note, visibly flagged, and are counted; a hypothesis
//! whose evidence fails loses confidence.

use crate::note::{Check, CitationCounts, CommitRef, Evidence, Hypothesis, Level, Note};
use ktriage_index::{History, Snapshot};
use regex::Regex;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Lines around a cited line searched for its quote before the whole file is.
const LINE_SLACK: u32 = 3;

/// What citations are checked against.
pub struct Verifier<'a> {
    /// The tree at the failure's revision.
    pub snapshot: &'a Snapshot<'a>,
    /// Its history, when available.
    pub history: Result<&'a History<'a>, String>,
    /// The failing log.
    pub log: &'a str,
}

/// Checks every citation of `note` in place and stores the counts in `note.citations`.
pub fn verify_note(note: &mut Note, verifier: &Verifier<'_>) {
    let mut run = Run {
        verifier,
        counts: CitationCounts::default(),
        files: HashMap::new(),
    };
    note.summary = run.inline(&note.summary);
    note.verdict_reason = run.inline(&note.verdict_reason);
    for hypothesis in &mut note.hypotheses {
        run.hypothesis(hypothesis);
    }
    note.citations = run.counts;
}

/// Checks the `path:line` and commit-id references inside prose (an answer to a question),
/// returning the text with failures flagged in place, and the counts.
pub fn verify_text(text: &str, verifier: &Verifier<'_>) -> (String, CitationCounts) {
    let mut run = Run {
        verifier,
        counts: CitationCounts::default(),
        files: HashMap::new(),
    };
    let text = run.inline(text);
    (text, run.counts)
}

struct Run<'v, 'a> {
    verifier: &'v Verifier<'a>,
    counts: CitationCounts,
    /// File lines by tree path, read once.
    files: HashMap<String, Option<Vec<String>>>,
}

impl Run<'_, '_> {
    fn record(&mut self, check: &Check) {
        self.counts.checked += 1;
        if check.verified {
            self.counts.verified += 1;
            if check
                .note
                .as_deref()
                .is_some_and(|note| note.starts_with("corrected"))
            {
                self.counts.corrected += 1;
            }
        } else {
            self.counts.unverified += 1;
        }
    }

    fn hypothesis(&mut self, hypothesis: &mut Hypothesis) {
        hypothesis.title = self.inline(&hypothesis.title);
        for list in [
            &mut hypothesis.mechanism,
            &mut hypothesis.confirm,
            &mut hypothesis.refute,
        ] {
            for item in list.iter_mut() {
                *item = self.inline(item);
            }
        }
        for fix in &mut hypothesis.candidate_fixes {
            fix.description = self.inline(&fix.description);
            fix.tradeoffs = self.inline(&fix.tradeoffs);
        }
        let (mut verified, mut unverified) = (0, 0);
        for evidence in &mut hypothesis.evidence {
            let check = self.evidence(evidence);
            self.record(&check);
            if check.verified {
                verified += 1;
            } else {
                unverified += 1;
            }
        }
        for suspect in &mut hypothesis.suspect_commits {
            let CommitRef {
                id, subject, check, ..
            } = suspect;
            *check = self.commit(id, subject);
            let check = check.clone();
            self.record(&check);
        }
        let confidence = &mut hypothesis.confidence;
        if verified == 0 && confidence.level > Level::Low {
            confidence.level = Level::Low;
            confidence.reason = format!(
                "{} (lowered by the verifier: no evidence item could be verified)",
                confidence.reason
            );
        } else if unverified > 0 && confidence.level == Level::High {
            confidence.level = Level::Medium;
            confidence.reason = format!(
                "{} (lowered by the verifier: {unverified} evidence item(s) could not be verified)",
                confidence.reason
            );
        }
    }

    fn evidence(&mut self, evidence: &mut Evidence) -> Check {
        let check = match evidence {
            Evidence::Code {
                path, line, quote, ..
            } => self.code(path, line, quote),
            Evidence::Commit { id, subject, .. } => self.commit(id, subject),
            Evidence::Log { quote, line, .. } => self.log_quote(quote, line),
        };
        match evidence {
            Evidence::Code { check: slot, .. }
            | Evidence::Commit { check: slot, .. }
            | Evidence::Log { check: slot, .. } => {
                *slot = check.clone();
            }
        }
        check
    }

    fn file(&mut self, path: &str) -> Option<Vec<String>> {
        if !self.files.contains_key(path) {
            let lines = self
                .verifier
                .snapshot
                .read(path, None, None)
                .ok()
                .map(|text| text.lines);
            self.files.insert(path.to_string(), lines);
        }
        self.files.get(path).cloned().flatten()
    }

    fn code(&mut self, path: &mut String, line: &mut u32, quote: &mut String) -> Check {
        let rev = &self.verifier.snapshot.rev().name;
        let resolved = match self.verifier.snapshot.resolve_path(path) {
            Ok(resolved) => resolved,
            Err(_) => return unverified(format!("{path} does not exist at {rev}")),
        };
        let mut notes = Vec::new();
        if resolved != *path {
            notes.push(format!("path {path} resolved to {resolved}"));
            *path = resolved;
        }
        let Some(lines) = self.file(path) else {
            return unverified(format!("{path} cannot be read at {rev}"));
        };
        let wanted = quote_lines(quote);
        if wanted.is_empty() {
            let Some(text) = (*line >= 1)
                .then(|| lines.get(*line as usize - 1))
                .flatten()
            else {
                return unverified(format!(
                    "{path} has no line {line} at {rev} ({} lines)",
                    lines.len()
                ));
            };
            *quote = text.trim().to_string();
            notes.push("no code was quoted; the line is quoted from the file".to_string());
            return verified(notes);
        }
        let found_at = |start: usize| -> bool {
            wanted.iter().enumerate().all(|(offset, want)| {
                lines
                    .get(start + offset)
                    .is_some_and(|have| normalize(have).contains(want.as_str()))
            })
        };
        let cited = line.saturating_sub(1) as usize;
        let near = (0..=LINE_SLACK as usize)
            .flat_map(|delta| [cited.checked_add(delta), cited.checked_sub(delta)])
            .flatten()
            .find(|start| found_at(*start));
        let at = near.or_else(|| (0..lines.len()).find(|start| found_at(*start)));
        match at {
            Some(start) if start == cited => verified(notes),
            Some(start) => {
                let correct = start as u32 + 1;
                let note = format!(
                    "corrected: cited as line {line}, the quoted code is at line {correct}"
                );
                *line = correct;
                notes.insert(0, note);
                verified(notes)
            }
            None => unverified(format!("the quoted code is not in {path} at {rev}")),
        }
    }

    fn commit(&mut self, id: &mut String, subject: &mut String) -> Check {
        let rev = self.verifier.snapshot.rev().name.clone();
        let candidate = id.trim().trim_start_matches("commit").trim().to_string();
        if candidate.len() < 7
            || candidate.len() > 40
            || !candidate.chars().all(|c| c.is_ascii_hexdigit())
        {
            return unverified(format!(
                "`{}` is not a commit id",
                crate::client::clip(id, 60)
            ));
        }
        let history = match &self.verifier.history {
            Ok(history) => *history,
            Err(why) => return unverified(format!("history not available to check it: {why}")),
        };
        match history.resolve_commit(&candidate) {
            Ok(record) => {
                *id = record.oid().to_string();
                if subject.trim().is_empty() || normalize(subject) == normalize(&record.subject) {
                    *subject = record.subject;
                    verified(Vec::new())
                } else {
                    let note = format!(
                        "corrected: the subject was cited as \"{}\"",
                        crate::client::clip(subject, 120)
                    );
                    *subject = record.subject;
                    verified(vec![note])
                }
            }
            Err(_) => match self.verifier.snapshot.index().resolve(&candidate) {
                Ok(found)
                    if found
                        .commit
                        .to_string()
                        .starts_with(&candidate.to_ascii_lowercase()) =>
                {
                    unverified(format!(
                        "commit {candidate} exists but is not an ancestor of {rev}"
                    ))
                }
                _ => unverified(format!("no commit {candidate} in the repository")),
            },
        }
    }

    fn log_quote(&mut self, quote: &str, line: &mut Option<usize>) -> Check {
        let wanted = quote_lines(quote);
        if wanted.is_empty() {
            return unverified("empty log quote".to_string());
        }
        let log: Vec<String> = self.verifier.log.lines().map(normalize).collect();
        let mut first = None;
        for want in &wanted {
            match log.iter().position(|have| have.contains(want.as_str())) {
                Some(found) => {
                    first.get_or_insert(found + 1);
                }
                None => {
                    return unverified(format!(
                        "not in the log: \"{}\"",
                        crate::client::clip(want, 120)
                    ))
                }
            }
        }
        *line = first;
        verified(Vec::new())
    }

    /// Checks the `path:line` and commit-id references inside prose, flagging failures in place.
    fn inline(&mut self, text: &str) -> String {
        static PATH_LINE: OnceLock<Regex> = OnceLock::new();
        static COMMIT: OnceLock<Regex> = OnceLock::new();
        let path_line = PATH_LINE.get_or_init(|| {
            Regex::new(r"\b([A-Za-z0-9_][A-Za-z0-9_./-]*\.[ch]):(\d+)\b").expect("valid regex")
        });
        let commit =
            COMMIT.get_or_init(|| Regex::new(r"\b[0-9a-f]{12,40}\b").expect("valid regex"));
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut spans: Vec<(usize, usize, bool)> = Vec::new();
        for found in path_line.captures_iter(text) {
            let whole = found.get(0).expect("group 0 always exists");
            let line: u32 = found[2].parse().unwrap_or(0);
            let check = match self.verifier.snapshot.resolve_path(&found[1]) {
                Ok(path) => match self.file(&path) {
                    Some(lines) if line >= 1 && line as usize <= lines.len() => {
                        verified(Vec::new())
                    }
                    _ => unverified(String::new()),
                },
                Err(_) => unverified(String::new()),
            };
            self.record(&check);
            spans.push((whole.start(), whole.end(), check.verified));
        }
        for found in commit.find_iter(text) {
            if spans
                .iter()
                .any(|(start, end, _)| found.start() < *end && *start < found.end())
            {
                continue;
            }
            let (mut id, mut subject) = (found.as_str().to_string(), String::new());
            let check = self.commit(&mut id, &mut subject);
            self.record(&check);
            spans.push((found.start(), found.end(), check.verified));
        }
        spans.sort_unstable();
        for (start, end, ok) in spans {
            out.push_str(&text[last..end]);
            if !ok {
                out.push_str(" [UNVERIFIED]");
            }
            last = end;
            debug_assert!(start <= end);
        }
        out.push_str(&text[last..]);
        out
    }
}

fn verified(notes: Vec<String>) -> Check {
    Check {
        verified: true,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

fn unverified(why: String) -> Check {
    Check {
        verified: false,
        note: (!why.is_empty()).then_some(why),
    }
}

/// Whitespace collapsed, printk timestamps and trailing ellipses dropped.
fn normalize(text: &str) -> String {
    static TIMESTAMP: OnceLock<Regex> = OnceLock::new();
    let timestamp =
        TIMESTAMP.get_or_init(|| Regex::new(r"^\s*\[\s*\d+\.\d+\]\s*").expect("valid regex"));
    let text = timestamp.replace(text, "");
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_end_matches("...")
        .trim_end_matches('…')
        .trim()
        .to_string()
}

/// The non-empty lines of a quote, normalised, without the line numbers a `read` output puts
/// in front of them.
fn quote_lines(quote: &str) -> Vec<String> {
    static NUMBERED: OnceLock<Regex> = OnceLock::new();
    let numbered = NUMBERED.get_or_init(|| Regex::new(r"^\s*\d+(\t|: |\| )").expect("valid regex"));
    quote
        .lines()
        .map(|line| normalize(&numbered.replace(line, "")))
        .filter(|line| !line.is_empty() && line != "..." && line != "…")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_lose_numbers_timestamps_and_spacing() {
        assert_eq!(
            quote_lines("  21\tif (x)\n\n   22\t\tpanic(\"a  b\");"),
            vec!["if (x)", "panic(\"a b\");"]
        );
        assert_eq!(
            normalize("[   12.345678] Kernel panic - not syncing: x..."),
            "Kernel panic - not syncing: x"
        );
    }
}
