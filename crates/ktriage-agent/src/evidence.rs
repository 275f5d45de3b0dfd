//! What is known without a model: the failure read from its log, the evidence engine's
//! dossier, the commits that last changed the top-ranked functions, and the evidence-only
//! note built from them (used when no model is configured or the model cannot be reached).

use crate::note::{
    Check, CitationCounts, CommitRef, Confidence, Evidence, Failure, Hypothesis, Level, Mode,
    NotLooked, Note, RunInfo, Tokens, Verdict, NOTE_FORMAT,
};
use crate::tools::short;
use ktriage_index::Snapshot;
use ktriage_locate::Dossier;

/// Most lines of the log kept in a note's excerpt.
pub const MAX_EXCERPT_LINES: usize = 40;

/// Longest failure text handed to the evidence engine when the log has no report.
const MAX_LOCATE_BYTES: usize = 64 << 10;

/// A failure as read from its log.
pub struct FailureText {
    /// The note's failure section.
    pub failure: Failure,
    /// The text the evidence engine reads: the primary report, or the log's start.
    pub report_text: String,
}

/// Reads the failure from `log`: title, signature and excerpt from the primary report.
pub fn read_failure(
    log: &str,
    log_path: Option<&str>,
    test: Option<&str>,
    commit: &str,
    commit_subject: &str,
) -> FailureText {
    let lines: Vec<&str> = log.lines().collect();
    let reports = ktriage_ci::report::parse_log(log.as_bytes());
    let (title, signature, start, end) = match reports.first() {
        Some(report) => {
            let start = report.start_line.saturating_sub(1).min(lines.len());
            let end = report.end_line.clamp(start, lines.len());
            (
                report.title.clone(),
                Some(report.dedup_key.clone()).filter(|key| !key.is_empty()),
                start,
                end,
            )
        }
        None => {
            let first_error = lines.iter().position(|line| {
                let lower = line.to_ascii_lowercase();
                lower.contains("error") || lower.contains("fail") || lower.contains("panic")
            });
            let start = first_error.unwrap_or(0);
            let title = first_error
                .map(|idx| lines[idx].trim().to_string())
                .unwrap_or_else(|| format!("failure in {}", test.unwrap_or("an unnamed test")));
            (
                crate::client::clip(&title, 200),
                None,
                start,
                (start + MAX_EXCERPT_LINES).min(lines.len()),
            )
        }
    };
    let report_text = if reports.is_empty() {
        let mut text = log.to_string();
        text.truncate(floor_char_boundary(&text, MAX_LOCATE_BYTES));
        text
    } else {
        lines[start..end].join("\n")
    };
    FailureText {
        failure: Failure {
            title,
            test: test.map(str::to_string),
            commit: commit.to_string(),
            commit_subject: commit_subject.to_string(),
            signature,
            log_path: log_path.map(str::to_string),
            log_excerpt: lines[start..end.min(start + MAX_EXCERPT_LINES)]
                .iter()
                .map(|line| line.to_string())
                .collect(),
            log_excerpt_start: start + 1,
        },
        report_text,
    }
}

fn floor_char_boundary(text: &str, max: usize) -> usize {
    let mut cut = max.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// The evidence engine's best-ranked commits (at most `limit`) as suspects.
pub fn suspects(dossier: &Dossier, rev: &str, limit: usize) -> Vec<CommitRef> {
    dossier
        .commits
        .iter()
        .take(limit)
        .map(|commit| {
            let mut why = commit.why.join("; ");
            if commit.id == rev {
                why.push_str("; it is the commit under test");
            }
            CommitRef {
                id: commit.id.clone(),
                subject: commit.subject.clone(),
                why,
                check: Check::pending(),
            }
        })
        .collect()
}

/// The snippet line that shares the most words with `title` (the first line on ties).
fn best_line(snippet: &ktriage_locate::Snippet, title: &str) -> (u32, String) {
    let words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|word| word.len() > 2)
        .map(str::to_ascii_lowercase)
        .collect();
    let mut best = (0usize, snippet.start, String::new());
    for (offset, line) in snippet.text.lines().enumerate() {
        let lower = line.to_ascii_lowercase();
        let shared = words
            .iter()
            .filter(|word| lower.contains(word.as_str()))
            .count();
        if best.2.is_empty() || shared > best.0 {
            best = (
                shared,
                snippet.start + offset as u32,
                line.trim().to_string(),
            );
        }
    }
    (best.1, best.2)
}

/// The suspect to test first: the commit under test when it is a suspect, else the top one.
fn focus_suspect<'s>(suspects: &'s [CommitRef], commit: &str) -> Option<&'s CommitRef> {
    suspects
        .iter()
        .find(|suspect| suspect.id == commit)
        .or_else(|| suspects.first())
}

/// Why a note has no model investigation.
pub enum NoModel {
    /// None was configured.
    NotConfigured,
    /// The model could not be reached; the error.
    Failed(String),
}

/// The note the evidence engine alone supports: its top-ranked function as a low-confidence
/// hypothesis, the code and log lines behind it, and the commits that last changed it.
pub fn evidence_note(
    failure: &Failure,
    dossier: &Dossier,
    suspects: &[CommitRef],
    snapshot: &Snapshot<'_>,
    why: &NoModel,
) -> Note {
    let rev_short = short(&snapshot.rev().commit.to_string());
    let mut evidence: Vec<Evidence> = failure
        .log_excerpt
        .first()
        .map(|line| Evidence::Log {
            quote: line.trim().to_string(),
            line: None,
            why: "the report's first line in the log".to_string(),
            check: Check::pending(),
        })
        .into_iter()
        .collect();
    let mut quoted = Vec::new();
    for snippet in dossier.snippets.iter().take(3) {
        let (line, quote) = best_line(snippet, &failure.title);
        if quoted.contains(&(snippet.path.clone(), line)) {
            continue;
        }
        quoted.push((snippet.path.clone(), line));
        evidence.push(Evidence::Code {
            path: snippet.path.clone(),
            line,
            rev: rev_short.clone(),
            quote,
            why: format!(
                "code the evidence engine reads first ({}:{}-{})",
                snippet.path, snippet.start, snippet.end
            ),
            check: Check::pending(),
        });
    }
    let mut hypotheses = Vec::new();
    if let Some(top) = dossier.functions.first() {
        let mut mechanism = Vec::new();
        if !dossier.report.frames.is_empty() {
            mechanism.push(format!(
                "The log's stack, innermost first: {}.",
                dossier.report.frames.join(" < ")
            ));
        }
        for function in dossier.functions.iter().take(3) {
            mechanism.push(format!(
                "`{}` ({}:{}) ranks {:.1}: {}.",
                function.name,
                function.path,
                function.line,
                function.score,
                function.why.join("; ")
            ));
        }
        let (confirm, refute) = match focus_suspect(suspects, &failure.commit) {
            Some(suspect) => (
                vec![format!(
                    "The test passes at the parent of {} and fails at {}.",
                    short(&suspect.id),
                    short(&suspect.id)
                )],
                vec![format!(
                    "The test also fails at the parent of {}: the bug predates it.",
                    short(&suspect.id)
                )],
            ),
            None => (Vec::new(), Vec::new()),
        };
        hypotheses.push(Hypothesis {
            title: format!("The failure is raised in `{}` ({})", top.name, top.path),
            confidence: Confidence {
                level: Level::Low,
                reason: "ranked by the evidence engine from the log's signals; no investigation was made".to_string(),
            },
            mechanism,
            evidence,
            suspect_commits: suspects.to_vec(),
            candidate_fixes: Vec::new(),
            confirm,
            refute,
        });
    }
    let (mode, model_why) = match why {
        NoModel::NotConfigured => (
            Mode::EvidenceOnly,
            "no model is configured (give --model or KTRIAGE_MODEL, and OPENAI_BASE_URL for a local server)".to_string(),
        ),
        NoModel::Failed(error) => (Mode::ModelFailed, format!("the model could not be reached: {error}")),
    };
    Note {
        format: NOTE_FORMAT,
        disclaimer: "Evidence-only note: made by ktriage's evidence engine without a model; every citation was checked against the repository and the log.".to_string(),
        failure: failure.clone(),
        verdict: Verdict::Unknown,
        verdict_reason: format!("no investigation: {model_why}"),
        summary: match dossier.functions.first() {
            Some(top) => format!(
                "The evidence engine ranks `{}` in {} first{}. This is a starting point, not a root cause.",
                top.name,
                top.path,
focus_suspect(suspects, &failure.commit)
                    .map(|s| format!(
                        "; {} {} (\"{}\") {}",
                        if s.id == failure.commit { "the commit under test," } else { "the top-ranked commit is" },
                        short(&s.id),
                        s.subject,
                        if s.id == failure.commit { "is among the suspect commits" } else { "" }
                    ))
                    .unwrap_or_default()
            ),
            None => "The evidence engine found nothing in the repository that matches the failure.".to_string(),
        },
        hypotheses,
        not_looked_at: vec![NotLooked { what: "the root cause".to_string(), why: model_why }],
        citations: CitationCounts::default(),
        run: RunInfo {
            mode,
            model: None,
            tokens: Tokens::default(),
            turns: 0,
            tool_calls: 0,
            duration_ms: 0,
            stop_reason: "no model investigation".to_string(),
            warnings: Vec::new(),
            ktriage_version: env!("CARGO_PKG_VERSION").to_string(),
        },
    }
}
