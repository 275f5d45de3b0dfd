//! `ktriage ci ...`: CI ingestion commands.

use clap::Subcommand;
use std::process::ExitCode;

use super::{ci_parse_log, ci_summary};

/// `ktriage ci` subcommands.
#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Find kernel reports in a console log and print their signatures.
    ParseLog(ci_parse_log::Args),
    /// Classify every test over the commits of a result tree.
    Summary(ci_summary::SummaryArgs),
    /// Human summary of one commit's results, regressions first.
    Show(ci_summary::ShowArgs),
}

/// Runs one `ci` subcommand.
pub fn run(command: CiCommand) -> anyhow::Result<ExitCode> {
    match command {
        CiCommand::ParseLog(args) => ci_parse_log::run(args),
        CiCommand::Summary(args) => ci_summary::run_summary(args),
        CiCommand::Show(args) => ci_summary::run_show(args),
    }
}
