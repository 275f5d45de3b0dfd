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
mod lazy;
mod localize_metrics;
mod locate;
mod mcp;
mod overnight;
mod query;
mod triage;

use clap::{Parser, Subcommand};
use lazy::Lazy;
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
    Example(Lazy<example::Args>),
    /// Index the trees of revisions (default HEAD); only blobs not seen before cost time.
    Index(Lazy<index::Args>),
    /// Where a symbol is defined (and declared).
    Def(Lazy<query::SymbolArgs>),
    /// Who calls a function or macro.
    Callers(Lazy<query::SymbolArgs>),
    /// What a function or macro calls.
    Callees(Lazy<query::SymbolArgs>),
    /// Ranked full-text search over identifiers, code and log messages.
    Search(Lazy<query::SearchArgs>),
    /// Regular-expression search over the C sources at a revision.
    Grep(Lazy<query::GrepArgs>),
    /// Print a file (or a line range of it) at a revision.
    Cat(Lazy<query::CatArgs>),
    /// Commits newest first, optionally only those touching a path or a function.
    Log(Lazy<history::LogArgs>),
    /// Every commit that changed a function's body, across file renames and moves.
    History(Lazy<history::HistoryArgs>),
    /// One commit: message, trailers, files, functions and diff.
    Show(Lazy<history::ShowArgs>),
    /// The commit that last changed each line of a range.
    Blame(Lazy<history::BlameArgs>),
    /// The commits whose `Fixes:` names a commit, and what that commit fixes.
    Fixes(Lazy<history::FixesArgs>),
    /// Rank the files, functions and commits behind a failure (no model needed).
    Locate(Lazy<locate::Args>),
    /// Investigate a failure with a model and write a triage note (evidence-only without one).
    Triage(Lazy<triage::Args>),
    /// Triage a CI result window within a budget: notes for what matters, one session report.
    Overnight(Lazy<overnight::Args>),
    /// Answer a question about commits and code (search results without a model).
    Ask(Lazy<ask::Args>),
    /// Serve the index to MCP clients over stdio (read-only tools, as of any revision).
    Mcp(Lazy<mcp::Args>),
    /// Read CI results and console logs.
    #[command(subcommand)]
    Ci(Lazy<ci::CiCommand>),
    /// Benchmarks over the shared data sets.
    #[command(subcommand)]
    Bench(Lazy<bench::BenchCommand>),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Example(Lazy(args)) => example::run(args),
        Command::Index(Lazy(args)) => index::run(args),
        Command::Def(Lazy(args)) => query::run_symbol(args, query::SymbolQuery::Def),
        Command::Callers(Lazy(args)) => query::run_symbol(args, query::SymbolQuery::Callers),
        Command::Callees(Lazy(args)) => query::run_symbol(args, query::SymbolQuery::Callees),
        Command::Search(Lazy(args)) => query::run_search(args),
        Command::Grep(Lazy(args)) => query::run_grep(args),
        Command::Cat(Lazy(args)) => query::run_cat(args),
        Command::Log(Lazy(args)) => history::run_log(args),
        Command::History(Lazy(args)) => history::run_history(args),
        Command::Show(Lazy(args)) => history::run_show(args),
        Command::Blame(Lazy(args)) => history::run_blame(args),
        Command::Fixes(Lazy(args)) => history::run_fixes(args),
        Command::Locate(Lazy(args)) => locate::run(args),
        Command::Triage(Lazy(args)) => triage::run(args),
        Command::Overnight(Lazy(args)) => overnight::run(args),
        Command::Ask(Lazy(args)) => ask::run(args),
        Command::Mcp(Lazy(args)) => mcp::run(args),
        Command::Ci(Lazy(command)) => ci::run(command),
        Command::Bench(Lazy(command)) => bench::run(command),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn lazy_subcommands_build_whole_with_their_own_help() {
        // Builds every deferred subcommand and checks clap's rules over all of them.
        Cli::command().debug_assert();
        let mut cli = Cli::command();
        cli.build();
        let def = cli.find_subcommand("def").expect("def");
        assert_eq!(
            def.get_about().map(ToString::to_string).as_deref(),
            Some("Where a symbol is defined (and declared)")
        );
        assert!(def.get_arguments().any(|arg| arg.get_id() == "symbol"));
        let ci = cli.find_subcommand("ci").expect("ci");
        assert_eq!(
            ci.get_about().map(ToString::to_string).as_deref(),
            Some("Read CI results and console logs")
        );
        assert!(ci.find_subcommand("parse-log").is_some());
    }
}
