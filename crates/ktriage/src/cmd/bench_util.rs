//! Small helpers shared by the benchmark commands: a fresh scratch directory, timing,
//! percentiles, git, sizes, memory.

use anyhow::Context;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Starts a bench run: deletes `scratch` (a previous run's) and gives the repository path as
/// UTF-8, which the git reference commands need.
pub fn fresh_run<'a>(repo: &'a Path, scratch: &Path) -> anyhow::Result<&'a str> {
    if scratch.exists() {
        std::fs::remove_dir_all(scratch)
            .with_context(|| format!("removing {}", scratch.display()))?;
    }
    repo.to_str().context("the repository path must be UTF-8")
}

/// Runs `f` and returns its result with the wall time it took.
pub fn time_it<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// The `p`th percentile of sorted durations (nearest rank); zero when empty.
pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Runs `git --git-dir=REPO ARGS` (or `-C REPO` for a work tree) and returns its stdout.
pub fn git(repo: &str, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    // git grep exits 1 when nothing matches; that is an answer, not an error.
    anyhow::ensure!(
        output.status.code().is_some_and(|code| code <= 1),
        "git {} failed",
        args.join(" ")
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Total size in bytes of the files under `dir`.
pub fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in
            std::fs::read_dir(&current).with_context(|| format!("reading {}", current.display()))?
        {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

/// This process's peak resident memory in MB (from `/proc/self/status`; 0 where unknown).
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A markdown row comparing sorted ktriage and git latencies: p50, p95 and total of each,
/// and the ratio of the totals.
pub fn latency_row(ours: &[Duration], git: &[Duration]) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (ours_sum, git_sum): (Duration, Duration) = (ours.iter().sum(), git.iter().sum());
    format!(
        "| latency p50 / p95 / total | ktriage {:.1} / {:.1} / {:.0} ms; git {:.0} / {:.0} / {:.0} ms; git/ktriage total {:.2}x |",
        ms(percentile(ours, 50)),
        ms(percentile(ours, 95)),
        ms(ours_sum),
        ms(percentile(git, 50)),
        ms(percentile(git, 95)),
        ms(git_sum),
        git_sum.as_secs_f64() / ours_sum.as_secs_f64().max(1e-9)
    )
}
