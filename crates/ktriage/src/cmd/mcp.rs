//! `ktriage mcp`: the index served to MCP clients (Claude Code, editors, other agents) over
//! the Model Context Protocol on stdio. stdout carries only the protocol; logs go to stderr
//! (`RUST_LOG=info` shows every call).
//!
//! The tools are the agent's read-only tools, the same handlers with the same bounds, plus
//! `locate` and `parse_log`; each answers as of the revision in its `at` argument (default
//! `--at`). Nothing is written but the index itself, which a query at a revision not indexed
//! yet extends, as every query command does.
//!
//! - [`catalog`]: which tools are offered and their schemas.
//! - [`failure_tools`]: `locate` and `parse_log`.
//! - [`worker`]: the thread that owns the index and answers calls, keeping the views of the
//!   revisions asked about last.
//! - [`server`]: the MCP handler (`tools/list`, `tools/call`, errors) and the stdio loop.

mod catalog;
mod failure_tools;
mod server;
mod worker;

use super::common::{AtArgs, RepoArgs};
use anyhow::Context;
use std::process::ExitCode;
use std::time::Duration;

/// Default bound of one tool's output, in bytes.
const DEFAULT_MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// How long the server waits for its last tasks once the client has gone.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Arguments of `mcp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    repo: RepoArgs,
    #[command(flatten)]
    at: AtArgs,
    /// Longest output of one tool call in bytes; longer output is cut at a line, with a marker.
    #[arg(long, default_value_t = DEFAULT_MAX_OUTPUT_BYTES)]
    max_output_bytes: usize,
}

/// Runs `mcp` until the client closes stdin.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    init_logging();
    anyhow::ensure!(
        args.max_output_bytes >= 1024,
        "--max-output-bytes {} is too small; give at least 1024",
        args.max_output_bytes
    );
    // A bad --at is an error now, not on the first call.
    let (rev, repo) = args.repo.with_index(|index| {
        let git = index.repo().git()?;
        let path = git
            .workdir()
            .unwrap_or_else(|| git.path())
            .display()
            .to_string();
        Ok((index.resolve(&args.at.at)?, path))
    })?;
    let catalog = catalog::Catalog::new();
    let instructions = catalog
        .instructions
        .replace("{repo}", &repo)
        .replace("{at}", &args.at.at);
    let n_tools = catalog.tools.len();
    let settings = worker::Settings {
        default_at: args.at.at.clone(),
        max_output_bytes: args.max_output_bytes,
    };
    let worker = worker::Worker::start(args.repo.clone(), catalog.registry, settings)?;
    if !args.repo.quiet {
        let commit = ktriage_agent::tools::short(&rev.commit.to_string());
        eprintln!(
            "ktriage mcp: serving {repo} as of {} ({commit}) on stdio, {n_tools} tools",
            args.at.at
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(server::serve(catalog.tools, worker.calls(), instructions));
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    worker.stop();
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Logs (rmcp's and ours) go to stderr, at the level of `RUST_LOG` (default: warnings).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Fails only when a subscriber is already installed, which then logs instead.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
