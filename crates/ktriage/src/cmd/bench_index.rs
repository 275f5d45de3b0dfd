//! `ktriage bench index`: the source index's benchmarks, each beside a git reference
//! measured in the same run (see BENCHMARKS.md).

use super::bench_util::{dir_size, fresh_run, git, peak_rss_mb, percentile, time_it};
use anyhow::Context;
use ktriage_index::facts::SymbolKind;
use ktriage_index::{Index, NoProgress};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

/// Arguments of `bench index`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository to measure (e.g. a bcachefs-tools clone).
    #[arg(long, env = "KTRIAGE_BENCH_REPO")]
    repo: PathBuf,
    /// Scratch directory for the index (deleted first).
    #[arg(long, default_value = "target/bench-index")]
    scratch: PathBuf,
    /// How many more trees, spread over history, to add after HEAD.
    #[arg(long, default_value_t = 20)]
    trees: usize,
    /// How many symbols to query.
    #[arg(long, default_value_t = 100)]
    symbols: usize,
    /// How many of those to also run as a separate process (and with `git grep`).
    #[arg(long, default_value_t = 100)]
    process_symbols: usize,
}

/// How many times HEAD is indexed afresh (and `git grep` run) for the median.
const HEAD_RUNS: usize = 3;

/// Runs `bench index`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let repo = fresh_run(&args.repo, &args.scratch)?;
    let index_dir = args.scratch.join("index");

    // 1. Index HEAD versus reading every C file once with git grep: the median of
    // alternating runs of each (one run of either swings by half on a shared machine),
    // each ktriage run into a new index; the last one is kept for what follows.
    let mut git_grep = Vec::new();
    let mut index_head = Vec::new();
    let mut kept = None;
    for run in 0..HEAD_RUNS {
        git_grep.push(time_it(|| git(repo, &["grep", "-c", ".", "HEAD", "--", "*.c", "*.h"])).1);
        let dir = if run + 1 == HEAD_RUNS {
            index_dir.clone()
        } else {
            args.scratch.join(format!("head-{run}"))
        };
        let index = Index::open_or_create(&args.repo, Some(&dir))?;
        let head = index.resolve("HEAD")?;
        let (stats, took) = time_it(|| index.index_rev(&head, &NoProgress));
        index_head.push(took);
        kept = Some((index, head, stats?));
    }
    let (mut index, head, stats) = kept.context("at least one run")?;
    git_grep.sort();
    index_head.sort();
    let (git_grep, index_head) = (percentile(&git_grep, 50), percentile(&index_head, 50));
    println!(
        "## index HEAD ({}), median of {HEAD_RUNS} runs",
        &stats.commit[..12]
    );
    println!("| what | ktriage | git grep -c . HEAD | ratio |\n|---|---|---|---|");
    println!(
        "| {} C files, {:.1} MB | {:.3} s | {:.3} s | {:.1}x |",
        stats.files,
        stats.parsed_bytes as f64 / 1e6,
        index_head.as_secs_f64(),
        git_grep.as_secs_f64(),
        index_head.as_secs_f64() / git_grep.as_secs_f64()
    );
    let given = stats.functions - stats.functions_scanned;
    println!(
        "\nparse: {} functions: {} kernel-style ones taken from the scan alone, {given} given to tree-sitter, of which {} lost and recovered by the scan ({:.2}%); 0 lost after recovery",
        stats.functions,
        stats.functions_scanned,
        stats.functions_lost,
        100.0 * stats.functions_lost as f64 / given.max(1) as f64
    );

    // 2. More trees spread over history: only their new blobs cost time.
    let all = git(repo, &["rev-list", "--first-parent", "HEAD"])?;
    let commits: Vec<&str> = all.lines().collect();
    let step = (commits.len() / (args.trees + 1)).max(1);
    let mut per_tree = Vec::new();
    let mut new_blobs = 0;
    for commit in commits.iter().skip(step).step_by(step).take(args.trees) {
        let rev = index.resolve(commit)?;
        let (stats, took) = time_it(|| index.index_rev(&rev, &NoProgress));
        new_blobs += stats?.new_blobs;
        per_tree.push(took);
    }
    per_tree.sort();
    println!("\n## add {} trees spread over history", per_tree.len());
    println!(
        "per tree: p50 {:.3} s, max {:.3} s, mean {:.3} s; {} new blobs in all",
        percentile(&per_tree, 50).as_secs_f64(),
        per_tree.last().copied().unwrap_or_default().as_secs_f64(),
        per_tree.iter().sum::<Duration>().as_secs_f64() / per_tree.len().max(1) as f64,
        new_blobs
    );

    // Compaction, as `ktriage index` does after indexing.
    let before = dir_size(&index_dir)?;
    let (compacted, took) = time_it(|| index.compact());
    compacted?;
    println!(
        "compaction: {:.3} s, {:.1} MB -> {:.1} MB",
        took.as_secs_f64(),
        before as f64 / 1e6,
        dir_size(&index_dir)? as f64 / 1e6
    );

    // 3. Query latency over symbols taken from HEAD's tree.
    let snapshot = index.snapshot(&head, &NoProgress)?;
    let mut names = Vec::new();
    for file in snapshot.files() {
        let facts = index.facts(file.blob)?;
        names.extend(
            facts
                .symbols
                .iter()
                .filter(|s| s.kind == SymbolKind::Function)
                .map(|s| s.name.clone()),
        );
    }
    names.sort();
    names.dedup();
    let stride = (names.len() / args.symbols.max(1)).max(1);
    let sample: Vec<String> = names
        .into_iter()
        .step_by(stride)
        .take(args.symbols)
        .collect();
    let mut def_times = Vec::new();
    let mut caller_times = Vec::new();
    let mut search_times = Vec::new();
    for name in &sample {
        let (found, took) = time_it(|| snapshot.def(name));
        anyhow::ensure!(!found?.is_empty(), "def {name} found nothing");
        def_times.push(took);
        caller_times.push(time_it(|| snapshot.callers(name)).1);
        let words = name.replace('_', " ");
        search_times.push(time_it(|| snapshot.search(&words, 10)).1);
    }
    // The index is one process's at a time: close it before timing separate processes.
    let git_dir = index.repo().git_dir();
    drop(snapshot);
    drop(index);
    let exe = std::env::current_exe()?;
    let index_arg = index_dir.to_str().context("scratch path must be UTF-8")?;
    let mut process_times = Vec::new();
    let mut git_times = Vec::new();
    for name in sample.iter().take(args.process_symbols) {
        let (output, took) = time_it(|| {
            Command::new(&exe)
                .args([
                    "def", name, "--repo", repo, "--index", index_arg, "-q", "--format", "json",
                ])
                .output()
        });
        anyhow::ensure!(output?.status.success(), "ktriage def {name} failed");
        process_times.push(took);
        git_times.push(
            time_it(|| {
                git(
                    repo,
                    &["grep", "-n", "-w", name, "HEAD", "--", "*.c", "*.h"],
                )
            })
            .1,
        );
    }
    for times in [
        &mut def_times,
        &mut caller_times,
        &mut search_times,
        &mut process_times,
        &mut git_times,
    ] {
        times.sort();
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "\n## queries over {} functions from HEAD (in-library unless noted)",
        sample.len()
    );
    println!("| query | p50 ms | p95 ms |\n|---|---|---|");
    for (label, times) in [
        ("def", &def_times),
        ("callers", &caller_times),
        ("search (name words)", &search_times),
        ("def as a process", &process_times),
        ("git grep -n -w SYMBOL HEAD", &git_times),
    ] {
        println!(
            "| {label} | {:.2} | {:.2} |",
            ms(percentile(times, 50)),
            ms(percentile(times, 95))
        );
    }
    println!(
        "\ndef vs git grep, p50: {:.0}x faster in-library, {:.1}x as a process",
        ms(percentile(&git_times, 50)) / ms(percentile(&def_times, 50)).max(1e-3),
        ms(percentile(&git_times, 50)) / ms(percentile(&process_times, 50)).max(1e-3)
    );

    // 4. Size and memory.
    println!(
        "\n## size: index {:.1} MB for {} trees, repository {:.1} MB; peak RSS {:.0} MB",
        dir_size(&index_dir)? as f64 / 1e6,
        per_tree.len() + 1,
        dir_size(&git_dir)? as f64 / 1e6,
        peak_rss_mb()
    );
    Ok(ExitCode::SUCCESS)
}
