//! Commit ranking: which commits of the revision's history most likely introduced the failure.
//!
//! Signals, each weighted in [`CommitWeights`]: recent commits that changed the top-ranked
//! functions (newest first, decaying; in proportion to each function's score; a body change
//! counts more than adding the function, and a pure move least) and commits whose messages
//! match the failure's words.
//! Blame adds the commits that last touched the top functions' lines (by share of lines) and
//! the lines the failure points at. Every lookup goes through a [`History`], which only sees the
//! revision and its ancestors.

use crate::rank::Ranking;
use crate::{Evidence, RankedFunction};
use ktriage_index::history::{Change, History};
use ktriage_index::Result;
use std::collections::{BTreeMap, HashMap};

/// A ranked commit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RankedCommit {
    /// Full commit id.
    pub id: String,
    /// Subject line.
    pub subject: String,
    /// Accumulated score.
    pub score: f64,
    /// The signals that ranked it.
    pub why: Vec<String>,
}

/// Weights of the commit signals.
#[derive(Debug, Clone)]
pub struct CommitWeights {
    /// A commit changed a top-ranked function (the newest change counts most).
    pub function_change: f64,
    /// A commit last touched lines of a top-ranked function (by share of its lines).
    pub function_blame: f64,
    /// A commit last touched a line the failure points at.
    pub anchor_blame: f64,
    /// A commit message matches the failure's words.
    pub message: f64,
}

impl CommitWeights {
    /// The weights measured best on the development cases.
    pub fn measured() -> CommitWeights {
        CommitWeights {
            function_change: 3.0,
            function_blame: 4.0,
            anchor_blame: 3.0,
            message: 1.0,
        }
    }
}

/// How many top functions are followed into history.
const TOP_FUNCTIONS: usize = 4;
/// Longest function span blamed, in lines.
const MAX_BLAME_LINES: u32 = 400;
/// How many of the lines the failure points at are blamed.
const MAX_ANCHORS: usize = 6;
/// How many of each function's newest changes count.
const CHANGES_PER_FUNCTION: usize = 8;

/// Ranks commits for a failure whose files and functions are already ranked.
pub fn rank_commits(
    history: &History,
    evidence: &Evidence,
    functions: &[RankedFunction],
    weights: &CommitWeights,
    limit: usize,
) -> Result<Vec<RankedCommit>> {
    let mut ranking: Ranking<String> = Ranking::new();
    let mut subjects: HashMap<String, String> = HashMap::new();
    let top = &functions[..functions.len().min(TOP_FUNCTIONS)];
    let spans: Vec<(u32, u32)> = top
        .iter()
        .map(|function| {
            (
                function.line,
                function.end_line.min(function.line + MAX_BLAME_LINES),
            )
        })
        .collect();
    let anchors: Vec<(&str, (u32, u32))> = evidence
        .anchors
        .iter()
        .take(MAX_ANCHORS)
        .map(|(path, line)| (path.as_str(), (line.saturating_sub(2).max(1), line + 2)))
        .collect();
    let blamed = blame_by_path(
        history,
        top.iter()
            .map(|f| f.path.as_str())
            .zip(spans.iter().copied())
            .chain(anchors.iter().copied()),
    )?;
    let blamed_in = |path: &str, (start, end): (u32, u32)| {
        blamed
            .get(path)
            .into_iter()
            .flat_map(move |lines| lines.range(start..=end))
            .map(|(line, commit)| (*line, commit.as_str()))
    };
    for (fn_rank, (function, span)) in top.iter().zip(&spans).enumerate() {
        let fn_factor = 0.6f64.powi(fn_rank as i32);
        let events = history.function_changes(&function.name, Some(&function.path))?;
        for (recency, event) in events
            .iter()
            .filter(|e| !e.whitespace_only)
            .take(CHANGES_PER_FUNCTION)
            .enumerate()
        {
            let kind_factor = match event.change {
                Change::Modified | Change::Removed => 1.0,
                Change::Added => 0.5,
                Change::Moved => 0.3,
            };
            let score =
                weights.function_change * fn_factor * kind_factor * 0.75f64.powi(recency as i32);
            let why = format!("{} {}()", event.change.as_str(), function.name);
            ranking.add(event.id.clone(), score, why);
            subjects
                .entry(event.id.clone())
                .or_insert_with(|| event.subject.clone());
        }
        let mut by_commit: HashMap<&str, usize> = HashMap::new();
        let mut n_lines = 0usize;
        for (_, commit) in blamed_in(&function.path, *span) {
            *by_commit.entry(commit).or_default() += 1;
            n_lines += 1;
        }
        for (commit, count) in by_commit {
            let score = weights.function_blame * fn_factor * count as f64 / n_lines as f64;
            ranking.add(
                commit.to_string(),
                score,
                format!("last touched {count} lines of {}()", function.name),
            );
        }
    }
    for (path, range) in anchors {
        let mut lines_of: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (line, commit) in blamed_in(path, range) {
            lines_of.entry(commit).or_default().push(line);
        }
        for (commit, lines) in lines_of {
            let score = weights.anchor_blame / 5.0 * lines.len() as f64;
            ranking.add(
                commit.to_string(),
                score,
                format!("last touched {path}:{}", line_ranges(&lines)),
            );
        }
    }
    for (id, raw) in &evidence.commit_hits {
        ranking.add(
            id.clone(),
            weights.message * raw,
            "its message matches the failure",
        );
    }
    let mut out = Vec::new();
    for (id, score, why) in ranking.ranked(limit) {
        let subject = match subjects.get(&id) {
            Some(subject) => subject.clone(),
            None => history.resolve_commit(&id)?.subject,
        };
        out.push(RankedCommit {
            id,
            subject,
            score,
            why,
        });
    }
    Ok(out)
}

/// Blames every range of every path, one walk per path: line → commit, by path.
fn blame_by_path<'a>(
    history: &History,
    ranges: impl Iterator<Item = (&'a str, (u32, u32))>,
) -> Result<HashMap<&'a str, BTreeMap<u32, String>>> {
    let mut by_path: HashMap<&str, Vec<(u32, u32)>> = HashMap::new();
    for (path, range) in ranges {
        by_path.entry(path).or_default().push(range);
    }
    by_path
        .into_iter()
        .map(|(path, ranges)| {
            let lines = history.blame_ranges(path, &ranges)?;
            Ok((
                path,
                lines
                    .into_iter()
                    .map(|blamed| (blamed.line, blamed.commit))
                    .collect(),
            ))
        })
        .collect()
}

/// Sorted line numbers as compact ranges: `20-24, 27`.
fn line_ranges(lines: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let mut end = at;
        while end + 1 < lines.len() && lines[end + 1] == lines[end] + 1 {
            end += 1;
        }
        out.push(if end == at {
            lines[at].to_string()
        } else {
            format!("{}-{}", lines[at], lines[end])
        });
        at = end + 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_ranges_are_compact() {
        assert_eq!(
            super::line_ranges(&[20, 21, 22, 24, 30, 31]),
            "20-22, 24, 30-31"
        );
        assert_eq!(super::line_ranges(&[7]), "7");
    }
}
