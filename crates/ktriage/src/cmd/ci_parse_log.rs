//! `ktriage ci parse-log FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `ci parse-log`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The console log to read.
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: crate::output::Format,
}

/// Runs `ci parse-log`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("not implemented yet")
}
