//! `ktriage ci summary` and `ktriage ci show`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `ci summary`.
#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// A result tree or a directory with dashboard JSON.
    #[arg(long)]
    results: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: crate::output::Format,
}

/// Arguments of `ci show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A result tree or a directory with dashboard JSON.
    #[arg(long)]
    results: PathBuf,
    /// The commit to summarise (full id or unique prefix).
    #[arg(long)]
    commit: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: crate::output::Format,
}

/// Runs `ci summary`.
pub fn run_summary(args: SummaryArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("not implemented yet")
}

/// Runs `ci show`.
pub fn run_show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("not implemented yet")
}
