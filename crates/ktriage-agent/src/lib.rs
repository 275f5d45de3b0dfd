//! The triage agent: a model investigates one CI failure with read-only tools over the
//! index and drafts a root-cause note in which every citation has been checked.
//!
//! Does not: write to the repository, run commands, reach any host but the configured model
//! server, or let model output reach a note without passing the citation verifier.
//!
//! - [`client`]: OpenAI-compatible chat completions with timeouts, retries and lenient
//!   parsing (llama.cpp, vLLM, ollama and OpenAI itself).
//! - [`tools`]: the read-only tool registry (search, def, callers, callees, grep, read, log,
//!   history, show, blame, fixes, log excerpts) with bounded output.
//! - [`investigate`]: the loop of turns, budgets, loop detection and compaction.
//! - [`note`], [`verify`], [`render`]: the note, its citation verifier and its renderings.
//! - [`journal`]: the append-only record of a run, and resuming from it.
//! - [`evidence`]: the failure read from its log and the evidence-only note.
//! - [`ask`]: questions about commits and code, answered with checked citations (or with
//!   the index's search results when there is no model).
//! - [`session`]: overnight sessions over a result window: plan, memory, lock, report.
//!
//! [`triage`] ties them together for one failure and writes `note.md`, `note.json`,
//! `note.txt` and `journal.jsonl` into an output directory.
#![deny(missing_docs)]

pub mod ask;
pub mod client;
pub mod evidence;
pub mod investigate;
pub mod journal;
pub mod note;
pub mod render;
pub mod session;
pub mod tools;
pub mod verify;

use client::{ClientConfig, ModelClient};
use evidence::NoModel;
use investigate::{Budgets, InvestigateError, Outcome, Prompts};
use journal::{redact, write_atomic, Journal, JournalError};
use ktriage_index::{Index, NoProgress, Rev};
use note::{Confidence, Hypothesis, Level, Mode, Note, NOTE_FORMAT};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tools::{short, Registry, ToolContext};

/// Errors that prevent a note from being written; each names what failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The index could not answer.
    #[error("index: {0}")]
    Index(#[from] ktriage_index::Error),
    /// A template failed.
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// An output could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The HTTP client could not be set up.
    #[error(transparent)]
    Client(#[from] client::ClientError),
    /// A tool failed fatally.
    #[error("investigation stopped: {0}")]
    Investigation(String),
}

/// One failure to triage.
pub struct Case<'a> {
    /// The failing test's console log.
    pub log: &'a str,
    /// Where the log was read from, for the note.
    pub log_path: Option<&'a str>,
    /// The test key, when known.
    pub test: Option<&'a str>,
}

/// How to triage.
pub struct Settings {
    /// The model; `None` writes an evidence-only note.
    pub client: Option<ClientConfig>,
    /// Limits of the investigation.
    pub budgets: Budgets,
    /// Continue from the journal in the output directory.
    pub resume: bool,
}

/// What [`triage`] wrote.
pub struct Written {
    /// The note.
    pub note: Note,
    /// The directory holding `note.md`, `note.json`, `note.txt` and `journal.jsonl`.
    pub dir: PathBuf,
    /// The model error that turned the note into an evidence-only one.
    pub model_error: Option<String>,
    /// Model requests answered from the journal on `--resume`.
    pub replayed: u32,
}

/// The async runtime of a triage run (a small multi-thread tokio runtime), for callers that
/// are not async themselves.
pub struct Runtime(tokio::runtime::Runtime);

impl Runtime {
    /// Starts the runtime.
    pub fn new() -> std::io::Result<Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map(Runtime)
    }

    /// Runs `future` to completion.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    /// [`triage`], waiting for it.
    pub fn triage(
        &self,
        index: &Index,
        rev: &Rev,
        case: &Case<'_>,
        out: &Path,
        settings: &Settings,
    ) -> Result<Written, Error> {
        self.0.block_on(triage(index, rev, case, out, settings))
    }
}

/// Triages the failure of `case` at `rev` and writes the note into `out`.
pub async fn triage(
    index: &Index,
    rev: &Rev,
    case: &Case<'_>,
    out: &Path,
    settings: &Settings,
) -> Result<Written, Error> {
    let started = Instant::now();
    let snapshot = index.snapshot(rev, &NoProgress)?;
    let history = index
        .history(rev, &NoProgress)
        .map_err(|err| err.to_string());
    let history_ref = history.as_ref().map_err(Clone::clone);
    let commit_id = rev.commit.to_string();
    let subject = match &history_ref {
        Ok(history) => history
            .resolve_commit(&commit_id)
            .map(|record| record.subject)
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let failure_text =
        evidence::read_failure(case.log, case.log_path, case.test, &commit_id, &subject);
    let options = ktriage_locate::Options::with_limit(10);
    let dossier = ktriage_locate::locate(
        &snapshot,
        history_ref.as_ref().ok().copied(),
        &failure_text.report_text,
        &options,
    )?;
    let suspects = evidence::suspects(&dossier, &commit_id, 3);
    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let secrets: Vec<String> = settings
        .client
        .as_ref()
        .and_then(|config| config.api_key.clone())
        .into_iter()
        .collect();
    let journal_path = out.join("journal.jsonl");
    let mut journal = if settings.resume {
        Journal::resume(&journal_path, secrets.clone())?
    } else {
        Journal::create(&journal_path, secrets.clone())?
    };
    journal.append(&json!({
        "type": "start",
        "failure": &failure_text.failure,
        "model": settings.client.as_ref().map(|config| config.model.clone()),
        "resume": settings.resume,
        "ktriage_version": env!("CARGO_PKG_VERSION"),
    }))?;
    let verifier_history = history_ref.clone();
    let mut model_error = None;
    let mut replayed = 0;
    let mut note = match &settings.client {
        None => evidence::evidence_note(
            &failure_text.failure,
            &dossier,
            &suspects,
            &snapshot,
            &NoModel::NotConfigured,
        ),
        Some(config) => {
            let client = ModelClient::new(config.clone())?;
            let registry = Registry::standard();
            let tool_context = ToolContext {
                snapshot: &snapshot,
                history: history_ref.clone(),
                log: case.log,
                max_output_bytes: settings.budgets.max_tool_output_bytes,
            };
            let rev_short = short(&commit_id);
            let prompts = Prompts {
                system: render::render(
                    "system.md.j2",
                    &json!({"rev": rev_short, "tools": registry.specs()}),
                )?,
                dossier: render::render(
                    "dossier.md.j2",
                    &json!({"failure": &failure_text.failure, "dossier": &dossier, "suspects": &suspects}),
                )?,
                final_request: {
                    let rev_short = rev_short.clone();
                    Box::new(move |reason: &str| {
                        render::render("final.md.j2", &json!({"rev": rev_short, "reason": reason}))
                            .unwrap_or_else(|err| err.to_string())
                    })
                },
                ending: investigate::Ending::Note,
            };
            match investigate::investigate(
                &client,
                &registry,
                &tool_context,
                &mut journal,
                &settings.budgets,
                &prompts,
                &rev_short,
            )
            .await
            {
                Ok(outcome) => {
                    replayed = outcome.replayed;
                    let fallback = evidence::evidence_note(
                        &failure_text.failure,
                        &dossier,
                        &suspects,
                        &snapshot,
                        &NoModel::NotConfigured,
                    );
                    note_from_outcome(outcome, fallback, &config.model, &rev_short)
                }
                Err(InvestigateError::Model(err)) => {
                    let message = err.to_string();
                    model_error = Some(message.clone());
                    let mut note = evidence::evidence_note(
                        &failure_text.failure,
                        &dossier,
                        &suspects,
                        &snapshot,
                        &NoModel::Failed(message),
                    );
                    note.run.model = Some(config.model.clone());
                    note
                }
                Err(InvestigateError::Journal(err)) => return Err(err.into()),
                Err(err @ InvestigateError::Tool { .. }) => {
                    return Err(Error::Investigation(err.to_string()))
                }
            }
        }
    };
    note.run.duration_ms = started.elapsed().as_millis() as u64;
    let verifier = verify::Verifier {
        snapshot: &snapshot,
        history: verifier_history,
        log: case.log,
    };
    verify::verify_note(&mut note, &verifier);
    journal.append(&json!({"type": "note", "citations": note.citations, "mode": note.run.mode}))?;
    write_note(&note, out, &secrets)?;
    Ok(Written {
        note,
        dir: out.to_path_buf(),
        model_error,
        replayed,
    })
}

/// Builds the note from an investigation: the model's draft, or its prose with lower
/// confidence, or (when it wrote nothing usable) the evidence-only `fallback`.
fn note_from_outcome(outcome: Outcome, fallback: Note, model: &str, rev_short: &str) -> Note {
    let no_tools = outcome.tool_calls == 0;
    let mut warnings = outcome.warnings;
    let (mode, verdict, verdict_reason, summary, mut hypotheses, not_looked_at) = match (
        outcome.draft,
        outcome.prose,
    ) {
        (Some(draft), _) => (
            if no_tools {
                Mode::ProseFallback
            } else {
                Mode::Investigation
            },
            draft.verdict,
            draft.verdict_reason,
            draft.summary,
            draft.hypotheses,
            draft.not_looked_at,
        ),
        (None, Some(prose)) => {
            let mut hypotheses = vec![prose_hypothesis(&prose, no_tools)];
            hypotheses.extend(fallback.hypotheses.clone());
            (
                Mode::ProseFallback,
                fallback.verdict,
                "the model wrote no structured note; its prose is kept as a low-confidence hypothesis".to_string(),
                fallback.summary.clone(),
                hypotheses,
                fallback.not_looked_at.clone(),
            )
        }
        (None, None) => {
            warnings.push(
                "the model gave no usable answer; the evidence engine's ranking is shown instead"
                    .to_string(),
            );
            (
                Mode::ProseFallback,
                fallback.verdict,
                fallback.verdict_reason.clone(),
                fallback.summary.clone(),
                fallback.hypotheses.clone(),
                fallback.not_looked_at.clone(),
            )
        }
    };
    if no_tools {
        warnings
            .push("the model made no tool calls: its claims rest on the dossier alone".to_string());
        for hypothesis in &mut hypotheses {
            if hypothesis.confidence.level > Level::Low {
                hypothesis.confidence.level = Level::Low;
                hypothesis.confidence.reason = format!(
                    "{} (lowered: the model made no tool calls)",
                    hypothesis.confidence.reason
                );
            }
        }
    }
    Note {
        format: NOTE_FORMAT,
        disclaimer: format!(
            "AI-assisted: drafted by the model `{model}` through ktriage. Every citation was checked against the repository at {rev_short} and the failing log; those that could not be verified are flagged. Review before acting."
        ),
        failure: fallback.failure,
        verdict,
        verdict_reason,
        summary,
        hypotheses,
        not_looked_at,
        citations: Default::default(),
        run: note::RunInfo {
            mode,
            model: Some(model.to_string()),
            tokens: outcome.tokens,
            turns: outcome.turns,
            tool_calls: outcome.tool_calls,
            duration_ms: 0,
            stop_reason: outcome.stop_reason,
            warnings,
            ktriage_version: env!("CARGO_PKG_VERSION").to_string(),
        },
    }
}

/// The model's prose as a hypothesis: its first line as title, its paragraphs as steps.
fn prose_hypothesis(prose: &str, no_tools: bool) -> Hypothesis {
    let title = prose
        .lines()
        .map(|line| line.trim().trim_start_matches('#').trim())
        .find(|line| !line.is_empty())
        .map_or_else(
            || "The model's answer".to_string(),
            |line| client::clip(line, 200),
        );
    let mechanism = prose
        .split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
        .take(note::MAX_LIST_ITEMS)
        .map(|paragraph| note::cut(paragraph, note::MAX_FIELD_CHARS))
        .collect();
    Hypothesis {
        title,
        confidence: Confidence {
            level: Level::Low,
            reason: if no_tools {
                "the model answered in prose without calling any tool".to_string()
            } else {
                "the model answered in prose instead of the structured note".to_string()
            },
        },
        mechanism,
        evidence: Vec::new(),
        suspect_commits: Vec::new(),
        candidate_fixes: Vec::new(),
        confirm: Vec::new(),
        refute: Vec::new(),
    }
}

/// Writes `note.md`, `note.json` and `note.txt` into `dir`, each atomically, with secrets
/// redacted.
pub fn write_note(note: &Note, dir: &Path, secrets: &[String]) -> Result<(), Error> {
    let json_text = serde_json::to_string_pretty(note).unwrap_or_default() + "\n";
    let markdown = render::render("note.md.j2", note)?;
    let text = render::wrap(&render::render("note.txt.j2", note)?, render::TEXT_WIDTH);
    for (name, content) in [
        ("note.json", json_text),
        ("note.md", markdown),
        ("note.txt", text),
    ] {
        let path = dir.join(name);
        write_atomic(&path, redact(&content, secrets).as_bytes())
            .map_err(|source| Error::Write { path, source })?;
    }
    Ok(())
}

/// One line of a run's `summary.md`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SummaryEntry {
    /// The failure's title.
    pub title: String,
    /// The tests that failed with it.
    pub tests: Vec<String>,
    /// The note's verdict.
    pub verdict: String,
    /// The top hypothesis's title.
    pub hypothesis: String,
    /// Verified citations.
    pub verified: usize,
    /// Checked citations.
    pub checked: usize,
    /// The note's directory, relative to the summary.
    pub dir: String,
}

impl SummaryEntry {
    /// The entry for a written note.
    pub fn new(note: &Note, tests: Vec<String>, dir: &str) -> SummaryEntry {
        SummaryEntry {
            title: note.failure.title.clone(),
            tests,
            verdict: serde_json::to_value(note.verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            hypothesis: note
                .hypotheses
                .first()
                .map(|h| h.title.clone())
                .unwrap_or_default(),
            verified: note.citations.verified,
            checked: note.citations.checked,
            dir: dir.to_string(),
        }
    }
}

/// Writes `summary.md` for the notes of one commit.
pub fn write_summary(
    out: &Path,
    commit: &str,
    subject: &str,
    entries: &[SummaryEntry],
    skipped: usize,
    errors: &[String],
) -> Result<PathBuf, Error> {
    let text = render::render(
        "summary.md.j2",
        &json!({"commit": commit, "subject": subject, "failures": entries, "skipped": skipped, "errors": errors}),
    )?;
    let path = out.join("summary.md");
    write_atomic(&path, text.as_bytes()).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
