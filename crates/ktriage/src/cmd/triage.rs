//! `ktriage triage`: a model investigates a failure with read-only tools and writes a
//! triage note (`note.md`, `note.json`, `note.txt`, `journal.jsonl`); without a model, an
//! evidence-only note from the evidence engine.
//!
//! The model is configured from `--model` (or `KTRIAGE_MODEL`), `OPENAI_BASE_URL` and
//! `OPENAI_API_KEY`; the key is only ever sent as a header, never printed or written.

use super::common::{AtArgs, ModelArgs, RepoArgs};
use anyhow::Context;
use ktriage_agent::note::{slug, Mode};
use ktriage_agent::{Case, Settings, SummaryEntry, Written};
use ktriage_ci::results::{find_log, read_results, Run};
use ktriage_index::{Index, Rev};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `triage`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The failing test's console log.
    #[arg(long, conflicts_with = "results", required_unless_present = "results")]
    log: Option<PathBuf>,
    /// A CI result tree: one note per distinct failure signature at --commit.
    #[arg(long, requires = "commit")]
    results: Option<PathBuf>,
    /// The commit of the result tree to triage (full id or unique prefix).
    #[arg(long)]
    commit: Option<String>,
    /// Only this test (with --results), or the test the log belongs to (with --log).
    #[arg(long)]
    test: Option<String>,
    /// Directory for the notes (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Continue an interrupted run from the journal in --out, without repeating answered requests.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    repo: RepoArgs,
    #[command(flatten)]
    at: AtArgs,
}

/// Runs `triage`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = settings(&args);
    let index = args.repo.open()?;
    let runtime = ktriage_agent::Runtime::new().context("starting the async runtime")?;
    if settings.client.is_none() {
        eprintln!("ktriage: no model configured (--model or KTRIAGE_MODEL): writing an evidence-only note");
    }
    let failed = match (&args.log, &args.results) {
        (Some(log_path), _) => {
            let rev = index.resolve(&args.at.at)?;
            let log = read_log(log_path)?;
            let case = Case {
                log: &log,
                log_path: Some(&log_path.to_string_lossy()),
                test: args.test.as_deref(),
            };
            let written = runtime.triage(&index, &rev, &case, &args.out, &settings)?;
            report(&written)?
        }
        (None, Some(results)) => {
            let commit = args.commit.as_deref().context("--results needs --commit")?;
            triage_results(&runtime, &index, results, commit, &args, &settings)?
        }
        (None, None) => anyhow::bail!("give --log FILE or --results DIR --commit C"),
    };
    if failed {
        eprintln!("ktriage: error: the model investigation failed; evidence-only notes were written instead (see above)");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn settings(args: &Args) -> Settings {
    Settings {
        client: args.model.client(),
        budgets: args.model.budgets(),
        resume: args.resume,
    }
}

/// Reads a log (plain or brotli); a problem that left it incomplete is a warning.
fn read_log(path: &Path) -> anyhow::Result<String> {
    let (text, problem) = ktriage_ci::results::read_log(path).context("reading the log")?;
    if let Some(problem) = problem {
        eprintln!("ktriage: warning: {problem}");
    }
    Ok(text)
}

/// Prints where a note went; true when the model failed.
fn report(written: &Written) -> std::io::Result<bool> {
    let mut stdout = std::io::stdout();
    let note = &written.note;
    let citations = &note.citations;
    writeln!(stdout, "{}", written.dir.join("note.md").display())?;
    writeln!(
        stdout,
        "  {}: verdict {}, {} hypotheses, citations {}/{} verified{}",
        note.failure.title,
        serde_json::to_value(note.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        note.hypotheses.len(),
        citations.verified,
        citations.checked,
        if citations.unverified > 0 {
            format!(", {} unverified (flagged)", citations.unverified)
        } else {
            String::new()
        }
    )?;
    if written.replayed > 0 {
        writeln!(
            stdout,
            "  resumed: {} model answers replayed from the journal",
            written.replayed
        )?;
    }
    match note.run.mode {
        Mode::EvidenceOnly => writeln!(stdout, "  evidence-only note (no model configured)")?,
        Mode::ModelFailed => {}
        Mode::Investigation | Mode::ProseFallback => writeln!(
            stdout,
            "  model {}: {} turns, {} tool calls, {} tokens",
            note.run.model.as_deref().unwrap_or("?"),
            note.run.turns,
            note.run.tool_calls,
            note.run.tokens.prompt + note.run.tokens.completion
        )?,
    }
    if let Some(error) = &written.model_error {
        eprintln!("ktriage: error: {error}");
        return Ok(true);
    }
    Ok(false)
}

/// One note per distinct failure signature of `commit` in a result tree, and `summary.md`;
/// true when the model failed for some note.
fn triage_results(
    runtime: &ktriage_agent::Runtime,
    index: &Index,
    results: &Path,
    commit: &str,
    args: &Args,
    settings: &Settings,
) -> anyhow::Result<bool> {
    let set =
        read_results(results).with_context(|| format!("reading results {}", results.display()))?;
    let commit_runs = set
        .commits
        .iter()
        .find(|runs| runs.commit.starts_with(commit) || commit.starts_with(&runs.commit))
        .with_context(|| format!("{}: no results for commit {commit}", results.display()))?;
    let rev: Rev = index.resolve(if commit_runs.commit == "local" {
        commit
    } else {
        &commit_runs.commit
    })?;
    let failing: Vec<&Run> = commit_runs
        .runs
        .iter()
        .filter(|run| run.status.is_failure())
        .filter(|run| args.test.as_deref().is_none_or(|test| run.test == test))
        .collect();
    let infra = failing.iter().filter(|run| run.is_infra()).count();
    let mut groups: BTreeMap<String, Vec<&Run>> = BTreeMap::new();
    for run in failing.into_iter().filter(|run| !run.is_infra()) {
        let key = run.signature().map_or_else(
            || format!("no signature: {}", run.test),
            |signature| signature.key.clone(),
        );
        groups.entry(key).or_default().push(run);
    }
    anyhow::ensure!(
        !groups.is_empty(),
        "{}: no failures to triage at {commit} ({infra} infrastructure failures)",
        results.display()
    );
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut failed = false;
    for (idx, runs) in groups.values().enumerate() {
        let first = runs[0];
        let dir_name = format!(
            "{:02}-{}",
            idx + 1,
            slug(
                &first
                    .signature()
                    .map_or(first.test.clone(), |s| s.title.clone())
            )
        );
        let log_file = find_log(results, &commit_runs.commit, &first.test);
        let log = match &log_file {
            Some(path) => read_log(path)?,
            None => {
                errors.push(format!(
                    "{}: no log found; triaged from its signature only",
                    first.test
                ));
                first
                    .signature()
                    .map_or_else(|| format!("{} failed", first.test), |s| s.title.clone())
            }
        };
        let log_path = log_file
            .as_ref()
            .map(|path| path.to_string_lossy().into_owned());
        let case = Case {
            log: &log,
            log_path: log_path.as_deref(),
            test: Some(&first.test),
        };
        let written = runtime.triage(index, &rev, &case, &args.out.join(&dir_name), settings)?;
        failed |= report(&written)?;
        entries.push(SummaryEntry::new(
            &written.note,
            runs.iter().map(|run| run.test.clone()).collect(),
            &dir_name,
        ));
    }
    let subject = commit_runs.message.clone().unwrap_or_default();
    let summary = ktriage_agent::write_summary(
        &args.out,
        &rev.commit.to_string(),
        &subject,
        &entries,
        infra,
        &errors,
    )?;
    writeln!(std::io::stdout(), "{}", summary.display())?;
    Ok(failed)
}
