//! Subcommand definitions and dispatch.

mod ask;
mod bench;
mod bench_history;
mod bench_index;
mod bench_localize;
mod bench_signatures;
mod bench_util;
mod ci;
mod ci_parse_log;
mod ci_summary;
mod common;
mod example;
mod history;
mod index;
mod localize_metrics;
mod locate;
mod mcp;
mod overnight;
mod query;
mod triage;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// LLM-assisted triage of Linux kernel CI failures.
#[derive(Debug, Parser)]
#[command(name = "ktriage", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the bundled example repository, index it and show a few queries.
    Example(example::Args),
    /// Index the trees of revisions (default HEAD); only blobs not seen before cost time.
    Index(index::Args),
    /// Where a symbol is defined (and declared).
    Def(query::SymbolArgs),
    /// Who calls a function or macro.
    Callers(query::SymbolArgs),
    /// What a function or macro calls.
    Callees(query::SymbolArgs),
    /// Ranked full-text search over identifiers, code and log messages.
    Search(query::SearchArgs),
    /// Regular-expression search over the C sources at a revision.
    Grep(query::GrepArgs),
    /// Print a file (or a line range of it) at a revision.
    Cat(query::CatArgs),
    /// Commits newest first, optionally only those touching a path or a function.
    Log(history::LogArgs),
    /// Every commit that changed a function's body, across file renames and moves.
    History(history::HistoryArgs),
    /// One commit: message, trailers, files, functions and diff.
    Show(history::ShowArgs),
    /// The commit that last changed each line of a range.
    Blame(history::BlameArgs),
    /// The commits whose `Fixes:` names a commit, and what that commit fixes.
    Fixes(history::FixesArgs),
    /// Rank the files, functions and commits behind a failure (no model needed).
    Locate(locate::Args),
    /// Investigate a failure with a model and write a triage note (evidence-only without one).
    Triage(triage::Args),
    /// Triage a CI result window within a budget: notes for what matters, one session report.
    Overnight(overnight::Args),
    /// Answer a question about commits and code (search results without a model).
    Ask(ask::Args),
    /// Serve the index to MCP clients over stdio (read-only tools, as of any revision).
    Mcp(mcp::Args),
    /// Read CI results and console logs.
    #[command(subcommand)]
    Ci(ci::CiCommand),
    /// Benchmarks over the shared data sets.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Example(args) => example::run(args),
        Command::Index(args) => index::run(args),
        Command::Def(args) => query::run_symbol(args, query::SymbolQuery::Def),
        Command::Callers(args) => query::run_symbol(args, query::SymbolQuery::Callers),
        Command::Callees(args) => query::run_symbol(args, query::SymbolQuery::Callees),
        Command::Search(args) => query::run_search(args),
        Command::Grep(args) => query::run_grep(args),
        Command::Cat(args) => query::run_cat(args),
        Command::Log(args) => history::run_log(args),
        Command::History(args) => history::run_history(args),
        Command::Show(args) => history::run_show(args),
        Command::Blame(args) => history::run_blame(args),
        Command::Fixes(args) => history::run_fixes(args),
        Command::Locate(args) => locate::run(args),
        Command::Triage(args) => triage::run(args),
        Command::Overnight(args) => overnight::run(args),
        Command::Ask(args) => ask::run(args),
        Command::Mcp(args) => mcp::run(args),
        Command::Ci(command) => ci::run(command),
        Command::Bench(command) => bench::run(command),
    }
}
