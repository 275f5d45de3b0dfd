//! `ktriage bench history`: the history index's benchmarks, each beside a git reference
//! measured in the same run (see BENCHMARKS.md): full and incremental indexing against
//! `git log -p --no-merges`, function history against `git log -L`, blame against
//! `git blame -L`, and the share of `Fixes:` trailers resolved.

use super::bench_util::{fresh_run, git, latency_row, time_it};
use ktriage_index::history::{functions, parse_fix};
use ktriage_index::{History, Index, NoProgress, TreeFile};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

/// Arguments of `bench history`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository to measure (e.g. a bcachefs-tools clone).
    #[arg(long, env = "KTRIAGE_BENCH_REPO")]
    repo: PathBuf,
    /// Scratch directory for the index (deleted first).
    #[arg(long, default_value = "target/bench-history")]
    scratch: PathBuf,
    /// Where functions and blamed lines are picked: `.c` files under this directory at HEAD.
    #[arg(long, default_value = "fs/")]
    under: String,
    /// How many functions to run `history` on.
    #[arg(long, default_value_t = 50)]
    functions: usize,
    /// How many lines to blame.
    #[arg(long, default_value_t = 100)]
    lines: usize,
    /// How many of the commits `git log -L` finds and `history` misses to list.
    #[arg(long, default_value_t = 10)]
    show_misses: usize,
    /// Seed of the pseudo-random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// A small deterministic pseudo-random sequence (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Runs `bench history`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let repo = fresh_run(&args.repo, &args.scratch)?;
    let index = Index::open_or_create(&args.repo, Some(&args.scratch.join("index")))?;
    let head = index.resolve("HEAD")?;
    let base = index.resolve("HEAD^1")?;

    // 1. Full history (to HEAD^1), then HEAD on top, against git log -p.
    let (status, git_log) = time_it(|| {
        Command::new("git")
            .args(["-C", repo, "log", "-p", "--no-merges", "HEAD"])
            .stdout(Stdio::null())
            .status()
    });
    anyhow::ensure!(status?.success(), "git log -p failed");
    let (full, full_time) =
        time_it(|| index.index_history(std::slice::from_ref(&base), &NoProgress));
    let full = full?;
    let (incremental, incremental_time) =
        time_it(|| index.index_history(std::slice::from_ref(&head), &NoProgress));
    let incremental = incremental?;
    println!(
        "## history index ({} at HEAD^1 = {})",
        full.commits,
        &base.commit.to_string()[..12]
    );
    println!("| what | ktriage | git log -p --no-merges HEAD | ratio |\n|---|---|---|---|");
    println!(
        "| full: {} commits ({} merges), {} blobs scanned | {:.1} s | {:.1} s | {:.2}x |",
        full.commits,
        full.merges,
        full.scanned_blobs,
        secs(full_time),
        secs(git_log),
        secs(full_time) / secs(git_log)
    );
    println!(
        "| incremental: HEAD, {} new commit(s) | {:.3} s | | |",
        incremental.commits,
        secs(incremental_time)
    );

    let (history, open_time) = time_it(|| index.history(&head, &NoProgress));
    let history = history?;
    println!(
        "\nopening the history at HEAD (ancestor set): {:.3} s",
        secs(open_time)
    );
    let files: Vec<TreeFile> = index
        .repo()
        .tree_files(head.commit)?
        .into_iter()
        .filter(|file| file.path.starts_with(&args.under) && file.path.ends_with(".c"))
        .collect();
    anyhow::ensure!(
        !files.is_empty(),
        "no .c files under {} at HEAD",
        args.under
    );
    let mut rng = Lcg(args.seed);
    bench_function_history(&args, repo, &index, &history, &files, &mut rng)?;
    bench_blame(&args, repo, &index, &history, &files, &mut rng)?;
    report_fixes(&history)?;
    Ok(ExitCode::SUCCESS)
}

fn bench_function_history(
    args: &Args,
    repo: &str,
    index: &Index,
    history: &History<'_>,
    files: &[TreeFile],
    rng: &mut Lcg,
) -> anyhow::Result<()> {
    let mut picked: Vec<(String, String)> = Vec::new();
    let mut names = HashSet::new();
    for _ in 0..args.functions * 20 {
        if picked.len() >= args.functions {
            break;
        }
        let TreeFile { path, blob } = &files[rng.below(files.len())];
        let spans = functions::spans(&index.repo().read_blob(*blob)?);
        if spans.is_empty() {
            continue;
        }
        let name = spans[rng.below(spans.len())].name.clone();
        if names.insert(name.clone()) {
            picked.push((name, path.clone()));
        }
    }
    let (mut git_total, mut found, mut extra, mut extra_older) = (0usize, 0usize, 0usize, 0usize);
    let (mut ours_times, mut git_times) = (Vec::new(), Vec::new());
    let mut misses = Vec::new();
    let mut git_failed = Vec::new();
    for (name, path) in &picked {
        let range = format!(":{name}:{path}");
        let (out, git_time) = time_it(|| {
            git(
                repo,
                &["log", "-L", &range, "--format=%H %ct", "-s", "HEAD"],
            )
        });
        // git's funcname pattern misses some definitions (macro-made, odd layouts).
        let Ok(out) = out else {
            git_failed.push(format!("{name} {path}"));
            continue;
        };
        let git_commits: BTreeMap<String, i64> = out
            .lines()
            .filter_map(|line| line.split_once(' '))
            .filter(|(id, time)| id.len() == 40 && time.parse::<i64>().is_ok())
            .map(|(id, time)| (id.to_string(), time.parse().unwrap_or_default()))
            .collect();
        let (events, our_time) = time_it(|| history.function_history(name, Some(path)));
        let ours: HashSet<String> = events?.into_iter().map(|event| event.id).collect();
        git_times.push(git_time);
        ours_times.push(our_time);
        git_total += git_commits.len();
        found += git_commits.keys().filter(|id| ours.contains(*id)).count();
        misses.extend(
            git_commits
                .keys()
                .filter(|id| !ours.contains(*id))
                .map(|id| format!("{name} {path} {id}")),
        );
        let oldest_git = git_commits.values().min().copied().unwrap_or(i64::MAX);
        for id in ours.iter().filter(|id| !git_commits.contains_key(*id)) {
            extra += 1;
            let time = history.resolve_commit(id)?.committer.time;
            extra_older += usize::from(time < oldest_git);
        }
    }
    ours_times.sort();
    git_times.sort();
    let skipped = match git_failed.len() {
        0 => String::new(),
        n => format!(
            " ({n} more that git log -L cannot find: {})",
            git_failed.join(", ")
        ),
    };
    println!(
        "\n## history of {} functions under {} vs git log -L :FUNC:PATH{skipped}",
        picked.len() - git_failed.len(),
        args.under
    );
    println!("| what | value |\n|---|---|");
    println!(
        "| git's commits found by ktriage | {found} of {git_total} ({:.1}%) |",
        100.0 * found as f64 / git_total.max(1) as f64
    );
    println!("| commits ktriage finds that git does not | {extra}, of which {extra_older} older than git's oldest (lost at a rename/move) |");
    println!("{}", latency_row(&ours_times, &git_times));
    for miss in misses.iter().take(args.show_misses) {
        println!("missed: {miss}");
    }
    Ok(())
}

fn bench_blame(
    args: &Args,
    repo: &str,
    index: &Index,
    history: &History<'_>,
    files: &[TreeFile],
    rng: &mut Lcg,
) -> anyhow::Result<()> {
    let (mut same, mut total) = (0usize, 0usize);
    let (mut ours_times, mut git_times) = (Vec::new(), Vec::new());
    let mut differ = Vec::new();
    while total < args.lines {
        let TreeFile { path, blob } = &files[rng.below(files.len())];
        let lines = index
            .repo()
            .read_blob(*blob)?
            .split(|b| *b == b'\n')
            .count()
            .saturating_sub(1);
        if lines == 0 {
            continue;
        }
        let line = rng.below(lines) as u32 + 1;
        let range = format!("{line},{line}");
        let (out, git_time) = time_it(|| {
            git(
                repo,
                &["blame", "--porcelain", "-L", &range, "HEAD", "--", path],
            )
        });
        let git_commit = out?
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let (ours, our_time) = time_it(|| history.blame(path, line, line));
        let our_commit = ours?
            .into_iter()
            .next()
            .map(|blamed| blamed.commit)
            .unwrap_or_default();
        total += 1;
        if our_commit == git_commit {
            same += 1;
        } else {
            differ.push(format!(
                "{path}:{line} ktriage {our_commit} git {git_commit}"
            ));
        }
        ours_times.push(our_time);
        git_times.push(git_time);
    }
    ours_times.sort();
    git_times.sort();
    println!(
        "\n## blame of {total} random lines under {} vs git blame -L",
        args.under
    );
    println!("| what | value |\n|---|---|");
    println!(
        "| same commit as git | {same} of {total} ({:.1}%) |",
        100.0 * same as f64 / total.max(1) as f64
    );
    println!("{}", latency_row(&ours_times, &git_times));
    for line in differ.iter().take(10) {
        println!("differs: {line}");
    }
    Ok(())
}

fn report_fixes(history: &History<'_>) -> anyhow::Result<()> {
    let (mut total, mut by_id, mut by_subject) = (0usize, 0usize, 0usize);
    let mut unresolved: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for record in history.commits()? {
        for fix in &record.fixes {
            total += 1;
            match fix.resolved_by {
                Some(ktriage_index::history::ResolvedBy::Id) => by_id += 1,
                Some(ktriage_index::history::ResolvedBy::Subject) => by_subject += 1,
                None => {
                    let parsed = parse_fix(&fix.raw);
                    let why = match (&parsed.id, &parsed.subject) {
                        (None, None) => "no commit id and no quoted subject (free text or URL)",
                        (None, Some(_)) => "no commit id; subject matches no commit",
                        (Some(_), None) => "id names no commit here; no subject to try",
                        (Some(_), Some(_)) => "id names no commit here and subject matches none",
                    };
                    unresolved.entry(why).or_default().push(format!(
                        "{} {}",
                        &record.oid().to_string()[..12],
                        fix.raw
                    ));
                }
            }
        }
    }
    let resolved = by_id + by_subject;
    println!("\n## Fixes: resolution over the history of HEAD");
    println!(
        "{resolved} of {total} resolved ({:.1}%): {by_id} by id, {by_subject} by subject",
        100.0 * resolved as f64 / total.max(1) as f64
    );
    for (why, examples) in &unresolved {
        println!("- unresolved, {why}: {}", examples.len());
        for example in examples.iter().take(3) {
            println!("  - {example}");
        }
    }
    Ok(())
}
