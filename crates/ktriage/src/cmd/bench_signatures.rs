//! `ktriage bench signatures`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `bench signatures`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Cases in the format of shared/bench/syzkaller-reports.*.jsonl.
    #[arg(long)]
    cases: PathBuf,
    /// Where to write one prediction line per case.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `bench signatures`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("not implemented yet")
}
