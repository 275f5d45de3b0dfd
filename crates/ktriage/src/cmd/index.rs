//! `ktriage index`: index the trees of one or more revisions.

use super::common::RepoArgs;
use crate::output::{print_json, Format};
use ktriage_index::Index;
use std::io::Write;
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
    /// Index only the trees, not the history (commits, changed functions, `Fixes:`)
    /// reachable from the revisions.
    #[arg(long)]
    no_history: bool,
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
    let mut index = args.repo.open()?;
    let revs = if args.revs.is_empty() {
        vec!["HEAD".to_string()]
    } else {
        args.revs.clone()
    };
    let progress = args.repo.progress();
    let mut all_stats = Vec::new();
    for rev in &revs {
        let rev = index.resolve(rev)?;
        let started = std::time::Instant::now();
        let stats = index.index_rev(&rev, &progress)?;
        if args.format == Format::Text {
            writeln!(
                std::io::stdout(),
                "{}: {} files, {} new blobs ({:.1} MB) parsed in {:.2}s, {} functions",
                &stats.commit[..12],
                stats.files,
                stats.new_blobs,
                stats.parsed_bytes as f64 / 1e6,
                started.elapsed().as_secs_f64(),
                stats.functions
            )?;
        }
        all_stats.push(stats);
    }
    let mut history = None;
    if !args.no_history {
        let revs = revs
            .iter()
            .map(|rev| index.resolve(rev))
            .collect::<Result<Vec<_>, _>>()?;
        let started = std::time::Instant::now();
        let stats = index.index_history(&revs, &progress)?;
        if args.format == Format::Text {
            writeln!(
                std::io::stdout(),
                "history: {} new commits ({} merges), {} blobs scanned in {:.2}s, {} of {} Fixes: resolved",
                stats.commits,
                stats.merges,
                stats.scanned_blobs,
                started.elapsed().as_secs_f64(),
                stats.fixes_resolved,
                stats.fixes
            )?;
        }
        history = Some(stats);
    }
    index.compact()?;
    if args.format == Format::Json {
        print_json(
            &serde_json::json!({ "index": index.dir(), "revs": all_stats, "history": history }),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
