//! `ktriage ask`: a question about commits and code, answered as of a revision — by a model
//! with the read-only tools and checked citations, or, without one, with the index's search
//! results, labelled as such.

use super::common::{ModelArgs, QueryArgs};
use crate::output::{print_json, Format};
use anyhow::Context;
use ktriage_agent::ask::{ask, render_markdown, AnswerMode, AskSettings};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `ask`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The question, e.g. "who has been changing ec.c since March?".
    #[arg(required = true, num_args = 1..)]
    question: Vec<String>,
    /// Where the model run is journaled (default: `ask-journal.jsonl` in the index directory).
    #[arg(long)]
    journal: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    scope: QueryArgs,
}

/// Runs `ask`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let question = args.question.join(" ");
    anyhow::ensure!(!question.trim().is_empty(), "the question is empty");
    let index = args.scope.repo.open()?;
    let rev = index.resolve(&args.scope.at.at)?;
    let progress = args.scope.repo.progress();
    index.snapshot(&rev, &progress)?;
    if let Err(err) = index.history(&rev, &progress) {
        eprintln!("ktriage: warning: no history ({err}); searching code only");
    }
    let settings = AskSettings {
        client: args.model.client(),
        budgets: args.model.budgets(),
        journal: args
            .journal
            .clone()
            .unwrap_or_else(|| index.dir().join("ask-journal.jsonl")),
    };
    let runtime = ktriage_agent::Runtime::new().context("starting the async runtime")?;
    let answer = runtime.block_on(ask(&index, &rev, &question, &settings))?;
    match args.scope.format {
        Format::Json => print_json(&answer)?,
        Format::Text => print!("{}", render_markdown(&answer)?),
    }
    let findings = &answer.findings;
    let found = answer.answer.is_some()
        || !(findings.commits.is_empty()
            && findings.functions.is_empty()
            && findings.files.is_empty()
            && findings.code.is_empty());
    Ok(match answer.mode {
        AnswerMode::ModelFailed => {
            eprintln!(
                "ktriage: error: the model failed: {}",
                answer.run.stop_reason
            );
            ExitCode::from(2)
        }
        _ if found => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}
