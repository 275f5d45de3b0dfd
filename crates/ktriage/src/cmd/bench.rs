//! `ktriage bench ...`: benchmarks over the shared data sets.

use clap::Subcommand;
use std::process::ExitCode;

use super::{bench_history, bench_index, bench_localize, bench_signatures};

/// `ktriage bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Crash signatures over syzkaller-style report cases.
    Signatures(bench_signatures::Args),
    /// The source index: indexing time, trees over history, query latency, size, memory.
    Index(bench_index::Args),
    /// The history index: indexing time, function history, blame and `Fixes:` resolution.
    History(bench_history::Args),
    /// Fault localization: files, functions and commits behind real fixes.
    Localize(bench_localize::Args),
}

/// Runs one `bench` subcommand.
pub fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Signatures(args) => bench_signatures::run(args),
        BenchCommand::Index(args) => bench_index::run(args),
        BenchCommand::History(args) => bench_history::run(args),
        BenchCommand::Localize(args) => bench_localize::run(args),
    }
}
