//! `ktriage bench localize`: answers every case of a localization benchmark as of its parent
//! commit, writes one prediction line per case and prints the scorer's metrics.

use super::bench_util::{percentile, time_it};
use super::localize_metrics::{aggregate, rank_case, CaseRanks};
use crate::progress::Bar;
use anyhow::Context;
use ktriage_index::{Index, NoProgress, Progress};
use ktriage_locate::commits::{rank_commits, CommitWeights};
use ktriage_locate::{gather, Evidence, Weights};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `bench localize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository the cases come from.
    #[arg(long, env = "KTRIAGE_BENCH_REPO")]
    repo: PathBuf,
    /// Cases, one JSON object per line (`fix_commit`, `parent`, `query`, ...).
    #[arg(long)]
    cases: PathBuf,
    /// Where to write the predictions.
    #[arg(long)]
    out: PathBuf,
    /// Index directory (default: `<git dir>/ktriage`).
    #[arg(long = "index")]
    index_dir: Option<PathBuf>,
    /// How many items per ranked list.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Also search for the signal weights that score best on these cases (coordinate ascent
    /// over the file and function metrics) and print them.
    #[arg(long)]
    tune: bool,
}

/// Runs `bench localize`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.cases)
        .with_context(|| format!("reading {}", args.cases.display()))?;
    let mut cases = Vec::new();
    for (line_idx, line) in text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
    {
        let case: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: invalid JSON", args.cases.display(), line_idx + 1))?;
        for key in ["fix_commit", "parent", "query"] {
            anyhow::ensure!(
                case[key].is_string(),
                "{}:{}: `{key}` must be a string",
                args.cases.display(),
                line_idx + 1
            );
        }
        cases.push(case);
    }
    let index = Index::open_or_create(&args.repo, args.index_dir.as_deref())?;

    // Indexing the parents' trees is measured separately from answering.
    let bar = Bar::new(args.quiet);
    let (indexed, index_time) = time_it(|| -> anyhow::Result<()> {
        bar.start(
            "indexing the cases' parent trees and history",
            cases.len() as u64,
        );
        for case in &cases {
            let rev = index.resolve(case["parent"].as_str().unwrap_or_default())?;
            index.snapshot(&rev, &NoProgress)?;
            index.history(&rev, &NoProgress)?;
            bar.advance(1);
        }
        bar.finish();
        Ok(())
    });
    indexed?;

    let mut evidence: Vec<Evidence> = Vec::new();
    let mut commit_lists: Vec<Vec<String>> = Vec::new();
    let mut times = Vec::new();
    bar.start("locating", cases.len() as u64);
    for case in &cases {
        let (found, took) = time_it(|| -> anyhow::Result<_> {
            let rev = index.resolve(case["parent"].as_str().unwrap_or_default())?;
            let snapshot = index.snapshot(&rev, &NoProgress)?;
            let found = gather(&snapshot, case["query"].as_str().unwrap_or_default())?;
            let (_, functions) = found.rank(&Weights::measured(), args.limit);
            let history = index.history(&rev, &NoProgress)?;
            let commits = rank_commits(
                &history,
                &found,
                &functions,
                &CommitWeights::measured(),
                args.limit,
            )?;
            Ok((found, commits.into_iter().map(|c| c.id).collect()))
        });
        let (found, commits) = found?;
        evidence.push(found);
        commit_lists.push(commits);
        times.push(took);
        bar.advance(1);
    }
    bar.finish();
    if args.tune {
        let tuned = tune(&cases, &evidence, &commit_lists, args.limit);
        println!("tuned weights: {tuned:?}");
    }
    let (predictions, ranks) = predict(
        &cases,
        &evidence,
        &commit_lists,
        &Weights::measured(),
        args.limit,
    );
    ktriage_index::write_atomic(&args.out, predictions.as_bytes())?;

    times.sort();
    let total: Duration = times.iter().sum();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} cases; indexing parents {:.1} s; locating {:.1} s in all, p50 {:.0} ms, p95 {:.0} ms",
        cases.len(),
        index_time.as_secs_f64(),
        total.as_secs_f64(),
        percentile(&times, 50).as_secs_f64() * 1e3,
        percentile(&times, 95).as_secs_f64() * 1e3
    )?;
    let mut kinds: Vec<String> = ranks.iter().map(|(kind, _)| kind.clone()).collect();
    kinds.sort();
    kinds.dedup();
    let mut columns = vec![(
        "all".to_string(),
        aggregate(&ranks.iter().map(|(_, r)| r).collect::<Vec<_>>()),
    )];
    for kind in kinds {
        let subset: Vec<&CaseRanks> = ranks
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, r)| r)
            .collect();
        columns.push((format!("{kind} ({})", subset.len()), aggregate(&subset)));
    }
    write!(out, "| metric |")?;
    for (name, _) in &columns {
        write!(out, " {name} |")?;
    }
    writeln!(out, "\n|---|{}", "---|".repeat(columns.len()))?;
    for metric in columns[0].1.keys() {
        write!(out, "| {metric} |")?;
        for (_, values) in &columns {
            match values.get(metric).copied().flatten() {
                Some(value) => write!(out, " {value:.3} |")?,
                None => write!(out, " - |")?,
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "predictions: {}", args.out.display())?;
    Ok(ExitCode::SUCCESS)
}

/// Prediction lines and per-case ranks of every case under `weights`.
fn predict(
    cases: &[serde_json::Value],
    evidence: &[Evidence],
    commit_lists: &[Vec<String>],
    weights: &Weights,
    limit: usize,
) -> (String, Vec<(String, CaseRanks)>) {
    let mut predictions = String::new();
    let mut ranks = Vec::new();
    for ((case, found), commits) in cases.iter().zip(evidence).zip(commit_lists) {
        let (files, functions) = found.rank(weights, limit);
        let files: Vec<String> = files.into_iter().map(|f| f.path).collect();
        let mut names: Vec<String> = Vec::new();
        for function in functions {
            if !names.contains(&function.name) {
                names.push(function.name);
            }
        }
        let line = serde_json::json!({
            "fix_commit": case["fix_commit"], "files": files, "functions": names, "commits": commits,
        });
        predictions.push_str(&line.to_string());
        predictions.push('\n');
        let kind = case["query_kind"].as_str().unwrap_or("all").to_string();
        ranks.push((kind, rank_case(case, &files, &names, commits)));
    }
    (predictions, ranks)
}

/// Coordinate ascent over the signal weights, each tried at a few multiples of its value.
fn tune(
    cases: &[serde_json::Value],
    evidence: &[Evidence],
    commit_lists: &[Vec<String>],
    limit: usize,
) -> Weights {
    type Knob = fn(&mut Weights) -> &mut f64;
    let knobs: [Knob; 10] = [
        |w| &mut w.location,
        |w| &mut w.in_function,
        |w| &mut w.frame,
        |w| &mut w.message,
        |w| &mut w.identifier,
        |w| &mut w.fragment,
        |w| &mut w.search,
        |w| &mut w.generic_path,
        |w| &mut w.callee,
        |w| &mut w.caller,
    ];
    let objective = |weights: &Weights| -> f64 {
        let (_, ranks) = predict(cases, evidence, commit_lists, weights, limit);
        let metrics = aggregate(&ranks.iter().map(|(_, r)| r).collect::<Vec<_>>());
        let get = |key: &str| metrics.get(key).copied().flatten().unwrap_or(0.0);
        get("file_mrr")
            + get("func_mrr")
            + 0.5 * (get("file_hit@1") + get("file_hit@5") + get("func_hit@5"))
    };
    let mut best = Weights::measured();
    let mut best_score = objective(&best);
    for _round in 0..3 {
        for knob in knobs {
            for factor in [0.0, 0.25, 0.5, 0.8, 1.25, 2.0, 4.0] {
                let mut candidate = best.clone();
                let value = knob(&mut candidate);
                *value = if *value == 0.0 {
                    factor
                } else {
                    *value * factor
                };
                let score = objective(&candidate);
                if score > best_score + 1e-9 {
                    best_score = score;
                    best = candidate;
                }
            }
        }
    }
    println!(
        "tuning objective: {:.4} (measured weights: {:.4})",
        best_score,
        objective(&Weights::measured())
    );
    best
}
