//! `ktriage bench signatures`: runs the report parser over syzkaller-derived benchmark
//! cases and writes one prediction per case for `score_signatures.py`.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};

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

/// The fields of a case the parser needs.
#[derive(Deserialize)]
struct Case {
    id: String,
    log: String,
}

/// One prediction line.
#[derive(Serialize)]
struct Prediction<'a> {
    id: &'a str,
    title: Option<&'a str>,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    frame: Option<&'a str>,
    corrupted: bool,
    guilty_file: Option<&'a str>,
}

/// Runs `bench signatures`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let input = std::fs::File::open(&args.cases)
        .with_context(|| format!("opening {}", args.cases.display()))?;
    let output = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut out = BufWriter::new(output);
    let (mut cases, mut detected, mut bytes) = (0usize, 0usize, 0usize);
    let started = Instant::now();
    for (n, line) in BufReader::new(input).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", args.cases.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: invalid case", args.cases.display(), n + 1))?;
        bytes += case.log.len();
        let reports = ktriage_ci::report::parse_log(case.log.as_bytes());
        let primary = reports.first();
        let prediction = Prediction {
            id: &case.id,
            title: primary.map(|r| r.title.as_str()),
            kind: primary.map(|r| r.kind.as_str()),
            frame: primary.and_then(|r| r.frame.as_deref()),
            corrupted: primary.is_some_and(|r| r.corrupted),
            guilty_file: primary.and_then(|r| r.guilty_file.as_deref()),
        };
        serde_json::to_writer(&mut out, &prediction)?;
        writeln!(out)?;
        cases += 1;
        detected += usize::from(primary.is_some());
    }
    out.flush()?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{cases} cases, {detected} with a report; {:.1} MB of logs in {secs:.2}s; predictions in {}",
        bytes as f64 / 1e6,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
