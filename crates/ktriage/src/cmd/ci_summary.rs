//! `ktriage ci summary` and `ktriage ci show`.
//!
//! `summary` classifies every test over the window and prints per-commit counts, the
//! failing tests (always-passing ones are left out), signature groups and the noise band;
//! its JSON `tests` list is directly usable as a `score_ci.py` prediction. `show` prints one
//! commit's failures, regressions first.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ktriage_ci::classify::{self, Class, Classification, NoiseBand, TestClass};
use ktriage_ci::results::{self, InputFormat, ReadOptions, ResultSet};
use serde::Serialize;

use crate::output::{print_json, Format};

/// Arguments of `ci summary`.
#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// A result tree or a directory with dashboard JSON.
    #[arg(long)]
    results: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: crate::output::Format,
    /// Layout of the results: auto, ktestci, dashboard, ktest-out, xfstests, ktap, junit.
    #[arg(long, default_value_t)]
    input_format: InputFormat,
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
    /// Layout of the results: auto, ktestci, dashboard, ktest-out, xfstests, ktap, junit.
    #[arg(long, default_value_t)]
    input_format: InputFormat,
}

/// Reads and classifies a result tree; warnings go to stderr.
fn load(
    path: &std::path::Path,
    format: InputFormat,
) -> anyhow::Result<(ResultSet, Classification)> {
    let opts = ReadOptions {
        format,
        ..ReadOptions::default()
    };
    let set = results::read_results_with(path, &opts)
        .with_context(|| format!("reading results from {}", path.display()))?;
    for w in &set.warnings {
        eprintln!("ktriage: warning: {w}");
    }
    let classification = classify::classify(&set);
    Ok((set, classification))
}

/// The JSON document of `ci summary`.
#[derive(Serialize)]
struct Summary<'a> {
    commits: &'a [classify::CommitCounts],
    tests: Vec<&'a TestClass>,
    groups: &'a [classify::SignatureGroup],
    noise: NoiseBand,
}

/// Runs `ci summary`.
pub fn run_summary(args: SummaryArgs) -> anyhow::Result<ExitCode> {
    let (_, c) = load(&args.results, args.input_format)?;
    let failing: Vec<&TestClass> = c.tests.iter().filter(|t| t.class != Class::Pass).collect();
    match args.format {
        Format::Json => print_json(&Summary {
            commits: &c.commits,
            tests: failing,
            groups: &c.groups,
            noise: c.noise,
        })?,
        Format::Text => {
            let mut out = String::new();
            if let Some(newest) = c.commits.first() {
                writeln!(out, "{}", headline(newest, &c.noise))?;
            }
            writeln!(out)?;
            writeln!(
                out,
                "{:<12} {:>7} {:>7} {:>7} {:>7}",
                "commit", "passed", "failed", "infra", "notrun"
            )?;
            for k in &c.commits {
                let id = short(&k.commit);
                writeln!(
                    out,
                    "{id:<12} {:>7} {:>7} {:>7} {:>7}",
                    k.passed, k.failed, k.infra, k.notrun
                )?;
            }
            print_sections(&mut out, &failing)?;
            if !c.groups.is_empty() {
                writeln!(out, "\nsignature groups:")?;
                for g in &c.groups {
                    let (class, n, tests) = (g.class.name(), g.tests.len(), g.tests.join(", "));
                    writeln!(out, "  {} [{class}] {n} test(s): {tests}", g.signature)?;
                }
            }
            write_stdout(&out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON document of `ci show`.
#[derive(Serialize)]
struct Show<'a> {
    commit: &'a str,
    failed: usize,
    total: usize,
    noise: NoiseBand,
    tests: Vec<&'a TestClass>,
}

/// Runs `ci show`.
pub fn run_show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let (set, c) = load(&args.results, args.input_format)?;
    let at = resolve_commit(&set, &args.commit)?;
    let commit = &c.commits[at];
    let counts: Vec<usize> = c.commits.iter().map(|k| k.failed).collect();
    let noise = classify::noise_band(&counts, at);
    // Tests relevant at this commit: failing or infra here, or fixed by now.
    let age_of = |id: &str| c.commits.iter().position(|k| k.commit == id);
    let tests: Vec<&TestClass> = c
        .tests
        .iter()
        .filter(|t| {
            t.failed_commits
                .iter()
                .chain(&t.infra_commits)
                .any(|id| *id == commit.commit)
                || (t.class == Class::Fixed
                    && t.first_good
                        .as_deref()
                        .and_then(age_of)
                        .is_some_and(|g| g >= at))
        })
        .collect();
    match args.format {
        Format::Json => print_json(&Show {
            commit: &commit.commit,
            failed: commit.failed,
            total: commit.total,
            noise,
            tests,
        })?,
        Format::Text => {
            let mut out = String::new();
            writeln!(out, "{}", headline(commit, &noise))?;
            print_sections(&mut out, &tests)?;
            write_stdout(&out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `74 fails / 12962 tests at f51f0a6; noise band 56–76 over 7 commits: within band`.
fn headline(commit: &classify::CommitCounts, noise: &NoiseBand) -> String {
    let verdict = noise.standing().name();
    let infra = if commit.infra > 0 {
        format!(" (+{} infra)", commit.infra)
    } else {
        String::new()
    };
    format!(
        "{} fails{infra} / {} tests at {}; noise band {}–{} over {} commits: {verdict}",
        commit.failed,
        commit.total,
        short(&commit.commit),
        noise.min,
        noise.max,
        noise.commits
    )
}

/// Writes `text` to stdout.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Writes tests by class: regressions, persistent, flaky, infra, fixed.
fn print_sections(out: &mut String, tests: &[&TestClass]) -> std::fmt::Result {
    let order = [
        Class::Regression,
        Class::Persistent,
        Class::Flaky,
        Class::Infra,
        Class::Fixed,
    ];
    for class in order {
        let mut members: Vec<&&TestClass> = tests.iter().filter(|t| t.class == class).collect();
        if members.is_empty() {
            continue;
        }
        members.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(a.name.cmp(&b.name))
        });
        writeln!(out, "\n{} ({}):", class.name(), members.len())?;
        for t in members {
            let sig = t.signature.as_deref().unwrap_or("(no signature)");
            let conf = format!(
                "confidence {:.2}{}",
                t.confidence,
                if t.ambiguous { ", ambiguous" } else { "" }
            );
            let detail = match class {
                Class::Regression => format!(
                    "{sig}; first_bad {}; {conf}",
                    t.first_bad.as_deref().map_or("?", short)
                ),
                Class::Fixed => format!(
                    "{sig}; fixed at {}; {conf}",
                    t.first_good.as_deref().map_or("?", short)
                ),
                Class::Flaky => format!(
                    "{sig}; rate {:.0}% ({}/{}); {conf}",
                    t.fail_rate * 100.0,
                    t.failures,
                    t.visible
                ),
                Class::Infra => format!(
                    "infra on {}",
                    t.infra_commits
                        .iter()
                        .map(|c| short(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Class::Persistent | Class::Pass => format!("{sig}; {conf}"),
            };
            writeln!(out, "  {}  {detail}", t.name)?;
        }
    }
    Ok(())
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Index of the commit named by `id` (full id or unique prefix).
fn resolve_commit(set: &ResultSet, id: &str) -> anyhow::Result<usize> {
    let id = id.trim().to_ascii_lowercase();
    let matches: Vec<usize> = set
        .commits
        .iter()
        .enumerate()
        .filter(|(_, c)| c.commit.to_ascii_lowercase().starts_with(&id))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Ok(*i),
        [] => anyhow::bail!("commit {id} is not in the results"),
        _ => anyhow::bail!(
            "commit prefix {id} is ambiguous ({} matches)",
            matches.len()
        ),
    }
}
