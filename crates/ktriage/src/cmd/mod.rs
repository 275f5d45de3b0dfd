//! Subcommand definitions and dispatch.

mod bench;
mod ci;
mod ci_parse_log;
mod ci_summary;
mod bench_signatures;

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
        Command::Ci(command) => ci::run(command),
        Command::Bench(command) => bench::run(command),
    }
}
