//! `ktriage locate`: the evidence dossier for one failure, without a model.

use super::common::{open_snapshot, QueryArgs};
use crate::output::{self, print_json, Format};
use anyhow::Context;
use ktriage_locate::{locate, Dossier, Options};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `locate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A console log (the primary report is used; see --report).
    #[arg(long, conflicts_with = "query", required_unless_present = "query")]
    log: Option<PathBuf>,
    /// Which report of the log to use, 0 = the primary one.
    #[arg(long, default_value_t = 0, requires = "log")]
    report: usize,
    /// A splat, compiler diagnostics or an error message, as text.
    #[arg(long)]
    query: Option<String>,
    /// How many items per ranked list.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Do not consult the history (no commit ranking; no history indexing on first use).
    #[arg(long)]
    no_history: bool,
    #[command(flatten)]
    scope: QueryArgs,
}

/// Runs `locate`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = match (&args.log, &args.query) {
        (Some(path), _) => failure_text(path, args.report)?,
        (None, Some(query)) => query.clone(),
        (None, None) => anyhow::bail!("give --log FILE or --query TEXT"),
    };
    let dossier = args.scope.repo.with_index(|index| {
        let (rev, snapshot) = open_snapshot(index, &args.scope.repo, &args.scope.at)?;
        let history = if args.no_history {
            None
        } else {
            Some(index.history(&rev, &args.scope.repo.progress())?)
        };
        Ok(locate(
            &snapshot,
            history.as_ref(),
            &text,
            &Options::with_limit(args.limit),
        )?)
    })?;
    match args.scope.format {
        Format::Json => print_json(&dossier)?,
        Format::Text => output::print_text(|out| write_dossier(out, &dossier))?,
    }
    Ok(if dossier.files.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The text of report `n` of the log at `path` (the whole log when it has no report).
fn failure_text(path: &std::path::Path, n: usize) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    report_text(&String::from_utf8_lossy(&bytes), n).with_context(|| path.display().to_string())
}

/// The text of report `n` of `log`, 0 being the primary one; the whole log when it holds no
/// kernel report (then only `n` = 0 exists).
pub(super) fn report_text(log: &str, n: usize) -> anyhow::Result<String> {
    let reports = ktriage_ci::report::parse_log(log.as_bytes());
    if reports.is_empty() {
        anyhow::ensure!(n == 0, "no kernel report found, so there is no report {n}");
        return Ok(log.to_string());
    }
    let report = reports
        .get(n)
        .with_context(|| format!("{} kernel reports found, no report {n}", reports.len()))?;
    Ok(report.text(log))
}

fn write_dossier(out: &mut dyn Write, dossier: &Dossier) -> std::io::Result<()> {
    let title = dossier
        .report
        .title
        .as_deref()
        .unwrap_or("(no kernel report)");
    writeln!(out, "{title} [{:?}]", dossier.report.kind)?;
    if !dossier.report.frames.is_empty() {
        writeln!(out, "frames: {}", dossier.report.frames.join(" < "))?;
    }
    writeln!(out, "\nfiles:")?;
    for file in &dossier.files {
        writeln!(
            out,
            "  {:6.2}  {}  ({})",
            file.score,
            file.path,
            file.why.join("; ")
        )?;
    }
    writeln!(out, "\nfunctions:")?;
    for function in &dossier.functions {
        writeln!(
            out,
            "  {:6.2}  {} {}:{}  ({})",
            function.score,
            function.name,
            function.path,
            function.line,
            function.why.join("; ")
        )?;
    }
    if !dossier.commits.is_empty() {
        writeln!(out, "\ncommits:")?;
        for commit in &dossier.commits {
            writeln!(
                out,
                "  {:6.2}  {} {}  ({})",
                commit.score,
                &commit.id[..12.min(commit.id.len())],
                commit.subject,
                commit.why.join("; ")
            )?;
        }
    }
    for snippet in &dossier.snippets {
        writeln!(
            out,
            "\n--- {}:{}-{}",
            snippet.path, snippet.start, snippet.end
        )?;
        for (offset, line) in snippet.text.lines().enumerate() {
            writeln!(out, "{:>5}  {line}", snippet.start as usize + offset)?;
        }
    }
    Ok(())
}
