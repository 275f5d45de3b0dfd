//! `ask`: answers a maintainer's question about commits and code, as of one revision.
//!
//! Without a model the answer is the evidence the index gives ([`findings`]): the commits,
//! functions and files the question names, commit messages and code matching its words, and
//! who last changed those lines, labelled as search results. With a model, the same findings
//! open an investigation with the read-only tools, ending in prose whose `path:line` and
//! commit citations are checked by the verifier and flagged when they fail.

pub mod clues;
pub mod findings;

use crate::client::{ClientConfig, ModelClient};
use crate::investigate::{self, Budgets, Ending, InvestigateError, Prompts};
use crate::journal::{redact, Journal};
use crate::note::{CitationCounts, Tokens};
use crate::tools::{short, Registry, ToolContext};
use crate::verify::{verify_text, Verifier};
use crate::{render, Error};
use findings::Findings;
use ktriage_index::{Index, NoProgress, Rev};
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

/// Version of the answer's JSON shape.
pub const ANSWER_FORMAT: u32 = 1;

/// How to answer.
pub struct AskSettings {
    /// The model; `None` answers with search results only.
    pub client: Option<ClientConfig>,
    /// Limits of the investigation.
    pub budgets: Budgets,
    /// Where the model run is journaled.
    pub journal: PathBuf,
}

/// How an answer was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerMode {
    /// No model: search results from the index.
    SearchResults,
    /// A model answered, with checked citations.
    Model,
    /// A model was configured but failed; search results only.
    ModelFailed,
}

/// An answer to a question.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// [`ANSWER_FORMAT`].
    pub format: u32,
    /// What kind of answer this is, for the reader (AI-assisted or search results).
    pub label: String,
    /// How it was made.
    pub mode: AnswerMode,
    /// The model, when one was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The model's answer, citations checked (unverified ones flagged in place).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Citation counts of the answer.
    pub citations: CitationCounts,
    /// The evidence the index gave.
    pub findings: Findings,
    /// How the run went.
    pub run: AskRun,
}

/// How an `ask` run went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AskRun {
    /// Model requests.
    pub turns: u32,
    /// Tool calls.
    pub tool_calls: u32,
    /// Tokens used.
    pub tokens: Tokens,
    /// Why the investigation stopped, or why the model failed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stop_reason: String,
    /// Things that went wrong without stopping it.
    pub warnings: Vec<String>,
    /// Wall time.
    pub duration_ms: u64,
}

/// Answers `question` as of `rev`.
pub async fn ask(
    index: &Index,
    rev: &Rev,
    question: &str,
    settings: &AskSettings,
) -> Result<Answer, Error> {
    let started = Instant::now();
    let snapshot = index.snapshot(rev, &NoProgress)?;
    let history = index
        .history(rev, &NoProgress)
        .map_err(|err| err.to_string());
    let history_ref = history.as_ref().map_err(Clone::clone);
    let findings = findings::gather(&snapshot, history_ref.as_ref().ok().copied(), question);
    let rev_short = short(&rev.commit.to_string());
    let mut answer = Answer {
        format: ANSWER_FORMAT,
        label: format!("Search results from the ktriage index at {rev_short}, not an answer: no model was asked."),
        mode: AnswerMode::SearchResults,
        model: None,
        answer: None,
        citations: CitationCounts::default(),
        findings,
        run: AskRun::default(),
    };
    if let Some(config) = &settings.client {
        answer.model = Some(config.model.clone());
        let secrets: Vec<String> = config.api_key.clone().into_iter().collect();
        if let Some(dir) = settings.journal.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut journal = Journal::create(&settings.journal, secrets.clone())?;
        journal.append(&json!({"type": "start", "question": question, "model": config.model, "ktriage_version": env!("CARGO_PKG_VERSION")}))?;
        let client = ModelClient::new(config.clone())?;
        let registry = Registry::standard().without(&["log_excerpt"]);
        let tools = ToolContext {
            snapshot: &snapshot,
            history: history_ref.clone(),
            log: "",
            max_output_bytes: settings.budgets.max_tool_output_bytes,
        };
        let prompts = Prompts {
            system: render::render(
                "ask_system.md.j2",
                &json!({"rev": rev_short, "tools": registry.specs()}),
            )?,
            dossier: render::render("ask_question.md.j2", &answer)?,
            final_request: {
                let rev_short = rev_short.clone();
                Box::new(move |reason: &str| {
                    render::render(
                        "ask_final.md.j2",
                        &json!({"rev": rev_short, "reason": reason}),
                    )
                    .unwrap_or_else(|err| err.to_string())
                })
            },
            ending: Ending::Prose,
        };
        match investigate::investigate(
            &client,
            &registry,
            &tools,
            &mut journal,
            &settings.budgets,
            &prompts,
            &rev_short,
        )
        .await
        {
            Ok(outcome) => {
                let verifier = Verifier {
                    snapshot: &snapshot,
                    history: history_ref.clone(),
                    log: "",
                };
                if let Some(prose) = &outcome.prose {
                    let (checked, counts) = verify_text(prose, &verifier);
                    answer.answer = Some(redact(&checked, &secrets));
                    answer.citations = counts;
                }
                answer.mode = AnswerMode::Model;
                answer.label = format!(
                    "AI-assisted: answered by the model `{}` through ktriage at {rev_short}. Its commit and path:line citations were checked against the repository; those that could not be verified are flagged [UNVERIFIED]. The search results below are the index's own.",
                    config.model
                );
                let mut warnings = outcome.warnings;
                if outcome.tool_calls == 0 {
                    warnings.push("the model made no tool calls: its answer rests on the search results alone".to_string());
                }
                if answer.answer.is_none() {
                    warnings.push(
                        "the model gave no answer; only the search results are shown".to_string(),
                    );
                }
                answer.run = AskRun {
                    turns: outcome.turns,
                    tool_calls: outcome.tool_calls,
                    tokens: outcome.tokens,
                    stop_reason: outcome.stop_reason,
                    warnings,
                    duration_ms: 0,
                };
            }
            Err(InvestigateError::Model(err)) => {
                answer.mode = AnswerMode::ModelFailed;
                answer.label = format!("Search results from the ktriage index at {rev_short}, not an answer: the model failed ({err}).");
                answer.run.stop_reason = redact(&err.to_string(), &secrets);
            }
            Err(InvestigateError::Journal(err)) => return Err(err.into()),
            Err(err @ InvestigateError::Tool { .. }) => {
                return Err(Error::Investigation(err.to_string()))
            }
        }
        journal.append(
            &json!({"type": "answer", "mode": answer.mode, "citations": answer.citations}),
        )?;
    }
    answer.run.duration_ms = started.elapsed().as_millis() as u64;
    Ok(answer)
}

/// The answer as Markdown (what `ktriage ask` prints).
pub fn render_markdown(answer: &Answer) -> Result<String, Error> {
    Ok(render::render("ask.md.j2", answer)?)
}
