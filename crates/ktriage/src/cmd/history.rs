//! History queries at a revision: `log`, `history`, `show`, `blame`, `fixes`.

use super::common::QueryArgs;
use crate::output::{print_json, print_text, Format};
use ktriage_index::History;
use std::process::ExitCode;

impl QueryArgs {
    /// Runs a history query at `--at` and maps "found" to the exit status.
    fn run_history(
        &self,
        query: impl Fn(&History<'_>, Format) -> anyhow::Result<bool>,
    ) -> anyhow::Result<ExitCode> {
        let found = self.repo.with_index(|index| {
            let rev = index.resolve(&self.at.at)?;
            let history = index.history(&rev, &self.repo.progress())?;
            query(&history, self.format)
        })?;
        Ok(if found {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}

/// Arguments of `log`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// A path (file, or directory ending in `/`) or a function name.
    target: Option<String>,
    /// Only commits committed on or after this date (`YYYY-MM-DD[THH:MM[:SS]]`, UTC).
    #[arg(long)]
    since: Option<String>,
    /// How many commits at most.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[command(flatten)]
    common: QueryArgs,
}

/// Arguments of `history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The function's name.
    symbol: String,
    /// Follow only the definition at this path (at `--at`) back through renames and moves.
    #[arg(long)]
    path: Option<String>,
    #[command(flatten)]
    common: QueryArgs,
}

/// Arguments of `show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The commit (any revision syntax).
    commit: String,
    /// Cut the diff after this many bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    max_diff: usize,
    #[command(flatten)]
    common: QueryArgs,
}

/// Arguments of `blame`.
#[derive(Debug, clap::Args)]
pub struct BlameArgs {
    /// `PATH:LINE` or `PATH:START-END`.
    target: String,
    #[command(flatten)]
    common: QueryArgs,
}

/// Arguments of `fixes`.
#[derive(Debug, clap::Args)]
pub struct FixesArgs {
    /// The commit (any revision syntax).
    commit: String,
    #[command(flatten)]
    common: QueryArgs,
}

/// Runs `log`.
pub fn run_log(args: LogArgs) -> anyhow::Result<ExitCode> {
    let since = match &args.since {
        Some(text) => Some(ktriage_index::history::date::parse(text).ok_or_else(|| {
            anyhow::format_err!("--since `{text}`: expected YYYY-MM-DD[THH:MM[:SS]]")
        })?),
        None => None,
    };
    args.common.run_history(|history, format| {
        let commits = history.log(args.target.as_deref(), since, args.limit)?;
        match format {
            Format::Json => print_json(&serde_json::json!({ "commits": commits }))?,
            Format::Text => print_text(|out| {
                for c in &commits {
                    writeln!(
                        out,
                        "{} {} {}\t{}",
                        &c.id[..12],
                        &c.date[..10],
                        c.author,
                        c.subject
                    )?;
                }
                Ok(())
            })?,
        }
        Ok(!commits.is_empty())
    })
}

/// Runs `history`.
pub fn run_history(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    args.common.run_history(|history, format| {
        let commits = history.function_history(&args.symbol, args.path.as_deref())?;
        match format {
            Format::Json => print_json(&serde_json::json!({ "commits": commits }))?,
            Format::Text => print_text(|out| {
                for c in &commits {
                    let from = c
                        .old_path
                        .as_deref()
                        .map(|p| format!(" (from {p})"))
                        .unwrap_or_default();
                    let ws = if c.whitespace_only {
                        " [whitespace]"
                    } else {
                        ""
                    };
                    let origin = match c.origins.as_slice() {
                        [] => String::new(),
                        origins => format!(" [code from {}()]", origins.join("(), ")),
                    };
                    let renamed = if c.function == args.symbol {
                        String::new()
                    } else {
                        format!(" {}()", c.function)
                    };
                    writeln!(
                        out,
                        "{} {} {:<8} {}{renamed}{from}{ws}{origin}\t{}",
                        &c.id[..12],
                        &c.date[..10],
                        c.change.as_str(),
                        c.path,
                        c.subject
                    )?;
                }
                Ok(())
            })?,
        }
        Ok(!commits.is_empty())
    })
}

/// Runs `show`.
pub fn run_show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    args.common.run_history(|history, format| {
        let commit = history.show(&args.commit, args.max_diff)?;
        match format {
            Format::Json => print_json(&commit)?,
            Format::Text => print_text(|out| {
                writeln!(
                    out,
                    "commit {}{}",
                    commit.id,
                    if commit.merge { " (merge)" } else { "" }
                )?;
                writeln!(
                    out,
                    "Author: {}\nDate:   {}\n\n    {}\n",
                    commit.author, commit.date, commit.subject
                )?;
                for line in commit.body.lines() {
                    writeln!(out, "    {line}")?;
                }
                writeln!(out)?;
                for f in &commit.functions {
                    writeln!(out, "function {} {} {}", f.change.as_str(), f.name, f.path)?;
                }
                write!(out, "\n{}", commit.diff)?;
                Ok(())
            })?,
        }
        Ok(true)
    })
}

/// Runs `blame`.
pub fn run_blame(args: BlameArgs) -> anyhow::Result<ExitCode> {
    let (path, start, end) = parse_range(&args.target)?;
    args.common.run_history(|history, format| {
        let lines = history.blame(path, start, end)?;
        match format {
            Format::Json => print_json(&serde_json::json!({ "lines": lines }))?,
            Format::Text => print_text(|out| {
                for l in &lines {
                    writeln!(
                        out,
                        "{} {} {:>5}) {}",
                        &l.commit[..12],
                        &l.date[..10],
                        l.line,
                        l.text
                    )?;
                }
                Ok(())
            })?,
        }
        Ok(!lines.is_empty())
    })
}

/// Runs `fixes`.
pub fn run_fixes(args: FixesArgs) -> anyhow::Result<ExitCode> {
    args.common.run_history(|history, format| {
        let fixes = history.fixes(&args.commit)?;
        match format {
            Format::Json => print_json(&fixes)?,
            Format::Text => print_text(|out| {
                for c in &fixes.fixed_by {
                    writeln!(
                        out,
                        "fixed by {} {}\t{}",
                        &c.id[..12],
                        &c.date[..10],
                        c.subject
                    )?;
                }
                for f in &fixes.fixes {
                    let target = f.commit.as_deref().map_or("unresolved", |id| &id[..12]);
                    writeln!(out, "fixes {target}\t{}", f.raw)?;
                }
                Ok(())
            })?,
        }
        Ok(!fixes.fixed_by.is_empty() || !fixes.fixes.is_empty())
    })
}

/// Splits `PATH:START[-END]` (a line range is required).
fn parse_range(target: &str) -> anyhow::Result<(&str, u32, u32)> {
    match super::query::parse_target(target)? {
        (path, Some(start), Some(end)) => Ok((path, start, end)),
        _ => anyhow::bail!("`{target}`: expected PATH:LINE or PATH:START-END"),
    }
}
