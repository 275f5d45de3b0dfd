//! `ktriage index`: index the trees of one or more revisions.

use super::common::RepoArgs;
use crate::output::{print_json, Format};
use ktriage_index::Index;
use std::process::ExitCode;

/// Arguments of `index`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Revisions whose trees to index (default: HEAD); repeat for several.
    #[arg(long = "rev")]
    revs: Vec<String>,
    /// Delete the index and build it anew.
    #[arg(long)]
    rebuild: bool,
    #[command(flatten)]
    repo: RepoArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs `index`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.rebuild {
        Index::remove(&args.repo.repo, args.repo.index_dir.as_deref())?;
    }
    let index = args.repo.open()?;
    let revs = if args.revs.is_empty() { vec!["HEAD".to_string()] } else { args.revs.clone() };
    let progress = args.repo.progress();
    let mut all_stats = Vec::new();
    for rev in &revs {
        let rev = index.resolve(rev)?;
        let started = std::time::Instant::now();
        let stats = index.index_rev(&rev, &progress)?;
        if args.format == Format::Text {
            println!(
                "{}: {} files, {} new blobs ({:.1} MB) parsed in {:.2}s, {} functions",
                &stats.commit[..12],
                stats.files,
                stats.new_blobs,
                stats.parsed_bytes as f64 / 1e6,
                started.elapsed().as_secs_f64(),
                stats.functions
            );
        }
        all_stats.push(stats);
    }
    if args.format == Format::Json {
        print_json(&serde_json::json!({ "index": index.dir(), "revs": all_stats }))?;
    }
    Ok(ExitCode::SUCCESS)
}
