//! The triage note: its JSON form (`note.json`, format [`NOTE_FORMAT`]), and the lenient
//! reading of the structured draft a model writes.
//!
//! A note holds the failure, a verdict, hypotheses (each with confidence, mechanism,
//! evidence, suspect commits, candidate fixes and what would confirm or refute it), what was
//! not looked at, the citation counts from [`crate::verify`] and how the note was made.
//! Everything in it that came from a model has passed the verifier before it is written.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Version of the `note.json` format.
pub const NOTE_FORMAT: u32 = 1;

/// Longest text kept from one field of a model's draft; longer text is cut with a marker.
pub const MAX_FIELD_CHARS: usize = 4000;

/// Most items kept from one list of a model's draft.
pub const MAX_LIST_ITEMS: usize = 24;

/// A directory name for a note about `title`: lowercase ASCII words joined by `-`, at most
/// 60 characters.
pub fn slug(title: &str) -> String {
    let slug: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    slug.chars().take(60).collect()
}

/// A triage note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// [`NOTE_FORMAT`].
    pub format: u32,
    /// The AI-assistance statement shown at the top of every rendering.
    pub disclaimer: String,
    /// What failed.
    pub failure: Failure,
    /// The overall verdict.
    pub verdict: Verdict,
    /// Why that verdict.
    pub verdict_reason: String,
    /// A few sentences for the maintainer.
    pub summary: String,
    /// Root-cause hypotheses, most likely first.
    pub hypotheses: Vec<Hypothesis>,
    /// What was not looked at, and why.
    pub not_looked_at: Vec<NotLooked>,
    /// How the citations fared in the verifier.
    pub citations: CitationCounts,
    /// How the note was made.
    pub run: RunInfo,
}

/// The failure a note is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The crash title (syzkaller convention) or the first error line.
    pub title: String,
    /// The test key, when known.
    pub test: Option<String>,
    /// The full id of the commit under test.
    pub commit: String,
    /// Its subject.
    pub commit_subject: String,
    /// The failure's signature key, when the log had a report.
    pub signature: Option<String>,
    /// The log file read.
    pub log_path: Option<String>,
    /// The report's lines from the log, cut to a few dozen.
    pub log_excerpt: Vec<String>,
    /// Line number of the excerpt's first line in the log.
    pub log_excerpt_start: usize,
}

/// The verdict of a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A commit in the tested range very likely caused it.
    LikelyRegression,
    /// The bug predates the tested change.
    PreExisting,
    /// It fails sometimes, for the same code.
    Flaky,
    /// The test machinery failed, not the code.
    Infra,
    /// The bug is in code the project does not own (core kernel, another subsystem).
    UpstreamNotOurs,
    /// Not enough evidence.
    Unknown,
}

impl Verdict {
    /// Reads a verdict written by a model; anything unrecognised is `Unknown`.
    pub fn parse(text: &str) -> Verdict {
        let words: String = text
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect();
        match words.trim_matches('-') {
            "likely-regression" | "regression" => Verdict::LikelyRegression,
            "pre-existing" | "preexisting" => Verdict::PreExisting,
            "flaky" => Verdict::Flaky,
            "infra" | "infrastructure" => Verdict::Infra,
            "upstream-not-ours" | "upstream" => Verdict::UpstreamNotOurs,
            _ => Verdict::Unknown,
        }
    }
}

/// Confidence level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Weakly supported.
    Low,
    /// Supported by some verified evidence.
    Medium,
    /// Supported by verified evidence along the whole mechanism.
    High,
}

/// A confidence with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    /// The level.
    pub level: Level,
    /// Why.
    pub reason: String,
}

/// A root-cause hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hypothesis {
    /// One line.
    pub title: String,
    /// How sure, and why.
    pub confidence: Confidence,
    /// The failure mechanism, step by step.
    pub mechanism: Vec<String>,
    /// The evidence, each item checked.
    pub evidence: Vec<Evidence>,
    /// Commits suspected of causing it.
    pub suspect_commits: Vec<CommitRef>,
    /// Fixes to consider.
    pub candidate_fixes: Vec<CandidateFix>,
    /// What would confirm it.
    pub confirm: Vec<String>,
    /// What would refute it.
    pub refute: Vec<String>,
}

/// The verifier's finding for one citation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The citation was found as cited (possibly after a correction noted below).
    pub verified: bool,
    /// What the verifier found or corrected.
    pub note: Option<String>,
}

impl Check {
    /// Not checked yet.
    pub fn pending() -> Check {
        Check {
            verified: false,
            note: Some("not checked".to_string()),
        }
    }
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Evidence {
    /// Code at `path:line@rev`.
    Code {
        /// Tree path.
        path: String,
        /// First cited line.
        line: u32,
        /// The revision (short id) the citation is checked at.
        rev: String,
        /// The quoted code.
        quote: String,
        /// What it shows.
        why: String,
        /// The verifier's finding.
        check: Check,
    },
    /// A commit.
    Commit {
        /// Commit id as cited (full after verification).
        id: String,
        /// Its subject (from the repository after verification).
        subject: String,
        /// What it shows.
        why: String,
        /// The verifier's finding.
        check: Check,
    },
    /// A line of the failing log.
    Log {
        /// The quoted text.
        quote: String,
        /// The log line it was found on (1-based), after verification.
        line: Option<usize>,
        /// What it shows.
        why: String,
        /// The verifier's finding.
        check: Check,
    },
}

/// A commit named as a suspect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitRef {
    /// Commit id.
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Why it is suspected.
    pub why: String,
    /// The verifier's finding.
    pub check: Check,
}

/// A fix to consider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateFix {
    /// The change.
    pub description: String,
    /// Its costs and risks.
    pub tradeoffs: String,
}

/// Something not investigated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotLooked {
    /// What.
    pub what: String,
    /// Why not.
    pub why: String,
}

/// Citation counts after verification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitationCounts {
    /// Citations checked (evidence, suspects and inline references).
    pub checked: usize,
    /// Found as cited, possibly after a correction.
    pub verified: usize,
    /// Not found: flagged in the note.
    pub unverified: usize,
    /// Verified after the verifier corrected a line number or a subject.
    pub corrected: usize,
}

/// How a note was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A model investigated with tools and wrote a structured note.
    Investigation,
    /// The model wrote no structured note; its prose is kept (lower confidence).
    ProseFallback,
    /// No model was configured: the evidence engine's ranking only.
    EvidenceOnly,
    /// The model could not be reached; the evidence engine's ranking only.
    ModelFailed,
}

/// Token counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Prompt tokens.
    pub prompt: u64,
    /// Completion tokens.
    pub completion: u64,
    /// Some counts were estimated from text length (the server sent no usage).
    pub estimated: bool,
}

/// How a note was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The mode.
    pub mode: Mode,
    /// The model, when one was used.
    pub model: Option<String>,
    /// Tokens used.
    pub tokens: Tokens,
    /// Model requests answered.
    pub turns: u32,
    /// Tool calls executed.
    pub tool_calls: u32,
    /// Wall time of the run, in milliseconds.
    pub duration_ms: u64,
    /// Why the investigation stopped.
    pub stop_reason: String,
    /// Things that went wrong without stopping the run.
    pub warnings: Vec<String>,
    /// The ktriage version.
    pub ktriage_version: String,
}

/// The parts of a note a model drafts.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Verdict.
    pub verdict: Verdict,
    /// Why.
    pub verdict_reason: String,
    /// Summary.
    pub summary: String,
    /// Hypotheses (not verified yet).
    pub hypotheses: Vec<Hypothesis>,
    /// What was not looked at.
    pub not_looked_at: Vec<NotLooked>,
}

/// Finds the JSON object in a model's answer: code fences and prose around it are skipped.
pub fn extract_json(text: &str) -> Option<Value> {
    let starts = text
        .char_indices()
        .filter(|(_, c)| *c == '{')
        .map(|(idx, _)| idx)
        .take(64);
    for start in starts {
        if let Some(end) = matching_brace(&text[start..]) {
            if let Ok(value @ Value::Object(_)) =
                serde_json::from_str::<Value>(&text[start..start + end])
            {
                return Some(value);
            }
        }
    }
    None
}

/// The byte length of the balanced `{...}` at the start of `text`, strings respected.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (idx, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(idx + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Reads a model's structured draft leniently: missing fields are empty, strings stand in
/// for objects, unknown fields are ignored. `None` when the value has neither a verdict nor
/// hypotheses.
pub fn read_draft(value: &Value, rev_short: &str) -> Option<Draft> {
    let hypotheses_value = value.get("hypotheses").and_then(Value::as_array);
    if value.get("verdict").is_none() && hypotheses_value.is_none() {
        return None;
    }
    let hypotheses = hypotheses_value
        .into_iter()
        .flatten()
        .take(MAX_LIST_ITEMS)
        .filter(|item| item.is_object())
        .map(|item| read_hypothesis(item, rev_short))
        .collect();
    Some(Draft {
        verdict: Verdict::parse(&text(value.get("verdict"))),
        verdict_reason: text(value.get("verdict_reason")),
        summary: text(value.get("summary")),
        hypotheses,
        not_looked_at: list(value.get("not_looked_at"))
            .map(|item| NotLooked {
                what: field_or_self(item, "what"),
                why: text(item.get("why")),
            })
            .filter(|item| !item.what.is_empty())
            .collect(),
    })
}

fn read_hypothesis(item: &Value, rev_short: &str) -> Hypothesis {
    let confidence = match item.get("confidence") {
        Some(Value::Object(_)) => {
            let confidence = &item["confidence"];
            Confidence {
                level: level(&text(confidence.get("level"))),
                reason: text(confidence.get("reason")),
            }
        }
        other => Confidence {
            level: level(&text(other)),
            reason: text(item.get("confidence_reason")),
        },
    };
    Hypothesis {
        title: text(item.get("title")),
        confidence,
        mechanism: strings(item.get("mechanism")),
        evidence: list(item.get("evidence"))
            .filter_map(|evidence| read_evidence(evidence, rev_short))
            .collect(),
        suspect_commits: list(item.get("suspect_commits"))
            .map(|commit| CommitRef {
                id: field_or_self(commit, "id"),
                subject: text(commit.get("subject")),
                why: text(commit.get("why")),
                check: Check::pending(),
            })
            .filter(|commit| !commit.id.is_empty())
            .collect(),
        candidate_fixes: list(item.get("candidate_fixes"))
            .map(|fix| CandidateFix {
                description: field_or_self(fix, "description"),
                tradeoffs: text(fix.get("tradeoffs")),
            })
            .filter(|fix| !fix.description.is_empty())
            .collect(),
        confirm: strings(item.get("confirm")),
        refute: strings(item.get("refute")),
    }
}

fn read_evidence(item: &Value, rev_short: &str) -> Option<Evidence> {
    let why = text(item.get("why"));
    let kind = text(item.get("kind")).to_ascii_lowercase();
    let quote = text(item.get("quote"));
    if kind == "commit" || (kind.is_empty() && item.get("id").is_some()) {
        let id = text(item.get("id"));
        return (!id.is_empty()).then(|| Evidence::Commit {
            id,
            subject: text(item.get("subject")),
            why,
            check: Check::pending(),
        });
    }
    if kind == "log" {
        return (!quote.is_empty()).then(|| Evidence::Log {
            quote,
            line: None,
            why,
            check: Check::pending(),
        });
    }
    let mut path = text(item.get("path"));
    let mut line = item.get("line").and_then(|line| match line {
        Value::Number(number) => number.as_u64().map(|n| n as u32),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    });
    // A `path:line` written into the path field.
    if line.is_none() {
        if let Some((file, number)) = path
            .rsplit_once(':')
            .and_then(|(file, number)| Some((file.to_string(), number.parse().ok()?)))
        {
            path = file;
            line = Some(number);
        }
    }
    if path.is_empty() {
        return None;
    }
    Some(Evidence::Code {
        path,
        line: line.unwrap_or(0),
        rev: rev_short.to_string(),
        quote,
        why,
        check: Check::pending(),
    })
}

fn level(text: &str) -> Level {
    match text.trim().to_ascii_lowercase().as_str() {
        "high" => Level::High,
        "medium" | "moderate" => Level::Medium,
        _ => Level::Low,
    }
}

fn list(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_LIST_ITEMS)
}

/// A string field, cut at [`MAX_FIELD_CHARS`]; numbers and booleans are written out.
fn text(value: Option<&Value>) -> String {
    let raw = match value {
        Some(Value::String(text)) => text.trim().to_string(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(flag)) => flag.to_string(),
        _ => String::new(),
    };
    cut(&raw, MAX_FIELD_CHARS)
}

/// `item[key]`, or `item` itself when the model wrote a bare string.
fn field_or_self(item: &Value, key: &str) -> String {
    match item {
        Value::String(_) => text(Some(item)),
        _ => text(item.get(key)),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(single)) if !single.trim().is_empty() => {
            vec![cut(single.trim(), MAX_FIELD_CHARS)]
        }
        _ => list(value)
            .map(|item| field_or_self(item, "text"))
            .filter(|item| !item.is_empty())
            .collect(),
    }
}

/// `text` cut after `max` characters with a marker.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!(
            "{} [... cut: {} more characters]",
            &text[..at],
            text[at..].chars().count()
        ),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_is_found_in_fences_and_prose() {
        let answer = "Here is the note:\n```json\n{\"verdict\": \"flaky\", \"x\": \"}{\"}\n```\nHope this helps {not json}";
        assert_eq!(
            extract_json(answer),
            Some(json!({"verdict": "flaky", "x": "}{"}))
        );
        assert_eq!(extract_json("no json here"), None);
    }

    #[test]
    fn drafts_are_read_leniently() {
        let value = json!({
            "verdict": "Likely regression",
            "hypotheses": [{
                "title": "t",
                "confidence": "HIGH",
                "mechanism": "one step",
                "evidence": [{"path": "fs/a.c:12", "quote": "x();"}, {"kind": "commit", "id": "abc"}, {"kind": "log", "quote": "boom"}, "junk"],
                "suspect_commits": ["deadbeef"],
                "candidate_fixes": ["revert it"]
            }],
            "not_looked_at": ["the allocator"]
        });
        let draft = read_draft(&value, "0123456789ab").expect("a draft");
        assert_eq!(draft.verdict, Verdict::LikelyRegression);
        let hypothesis = &draft.hypotheses[0];
        assert_eq!(hypothesis.confidence.level, Level::High);
        assert_eq!(hypothesis.mechanism, vec!["one step"]);
        assert_eq!(hypothesis.evidence.len(), 3);
        assert!(
            matches!(&hypothesis.evidence[0], Evidence::Code { path, line: 12, .. } if path == "fs/a.c")
        );
        assert_eq!(hypothesis.suspect_commits[0].id, "deadbeef");
        assert_eq!(hypothesis.candidate_fixes[0].description, "revert it");
        assert_eq!(draft.not_looked_at[0].what, "the allocator");
        assert!(read_draft(&json!({"answer": 42}), "r").is_none());
    }
}
