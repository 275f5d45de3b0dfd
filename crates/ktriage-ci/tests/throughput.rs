//! Manual measurements, ignored by default: throughput of the streaming parser
//! ([`parse_reader_limited`]) on a large log file (`KTRIAGE_THROUGHPUT_LOG`; the report cap is
//! `KTRIAGE_THROUGHPUT_MAX_REPORTS`, default [`MAX_REPORTS`], set it high to measure real
//! throughput on concatenated logs; `KTRIAGE_THROUGHPUT_JSON` also writes the reports as
//! `ktriage ci parse-log --format json` prints them, and times that), and benchmark
//! predictions for `score_signatures.py` (`KTRIAGE_BENCH_CASES` → `KTRIAGE_BENCH_OUT`)
//! without building the CLI.
//! Run with `cargo test --release --test throughput -- --ignored --nocapture`.

use std::io::{BufWriter, Write};
use std::time::Instant;

use ktriage_ci::report::{parse_log, parse_reader_limited, Report, MAX_REPORTS};
use serde::Serialize;

/// The document `ktriage ci parse-log --format json` prints.
#[derive(Serialize)]
struct Output<'a> {
    reports: &'a [Report],
}

#[test]
#[ignore = "needs a large log in KTRIAGE_THROUGHPUT_LOG"]
fn parse_log_throughput() {
    let Ok(path) = std::env::var("KTRIAGE_THROUGHPUT_LOG") else {
        return;
    };
    let max_reports = std::env::var("KTRIAGE_THROUGHPUT_MAX_REPORTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MAX_REPORTS);
    let size = std::fs::metadata(&path)
        .unwrap_or_else(|err| panic!("{path}: {err}"))
        .len();
    let file = std::fs::File::open(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
    let started = Instant::now();
    let reports =
        parse_reader_limited(file, max_reports).unwrap_or_else(|err| panic!("{path}: {err}"));
    let secs = started.elapsed().as_secs_f64();
    let last = reports.iter().map(|r| r.end_line).max().unwrap_or(0);
    println!(
        "{} MB, {} reports (cap {max_reports}; last ends at line {last}), {secs:.2}s, {:.0} MB/s",
        size / 1_000_000,
        reports.len(),
        size as f64 / 1e6 / secs
    );
    if let Ok(json) = std::env::var("KTRIAGE_THROUGHPUT_JSON") {
        let started = Instant::now();
        write_json(&json, &reports);
        println!("JSON output: {:.2}s", started.elapsed().as_secs_f64());
    }
}

/// Writes `reports` to `path` exactly as `ktriage ci parse-log --format json` prints them.
fn write_json(path: &str, reports: &[Report]) {
    let file = std::fs::File::create(path).unwrap_or_else(|err| panic!("{path}: {err}"));
    let mut out = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, &Output { reports })
        .unwrap_or_else(|err| panic!("{path}: {err}"));
    writeln!(out)
        .and_then(|()| out.flush())
        .unwrap_or_else(|err| panic!("{path}: {err}"));
}

#[test]
#[ignore = "needs KTRIAGE_BENCH_CASES and KTRIAGE_BENCH_OUT"]
fn bench_predictions() {
    let (Ok(cases), Ok(out)) = (
        std::env::var("KTRIAGE_BENCH_CASES"),
        std::env::var("KTRIAGE_BENCH_OUT"),
    ) else {
        return;
    };
    let text = std::fs::read_to_string(&cases).unwrap_or_else(|err| panic!("{cases}: {err}"));
    let mut file = std::fs::File::create(&out).unwrap_or_else(|err| panic!("{out}: {err}"));
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|err| panic!("{cases}: {err}"));
        let log = case["log"].as_str().unwrap_or_default();
        let rep = parse_log(log.as_bytes()).into_iter().next();
        let pred = serde_json::json!({
            "id": case["id"],
            "title": rep.as_ref().map(|r| r.title.clone()),
            "type": rep.as_ref().map(|r| r.kind.clone()),
            "frame": rep.as_ref().and_then(|r| r.frame.clone()),
            "corrupted": rep.as_ref().is_some_and(|r| r.corrupted),
            "guilty_file": rep.as_ref().and_then(|r| r.guilty_file.clone()),
        });
        writeln!(file, "{pred}").unwrap_or_else(|err| panic!("{out}: {err}"));
    }
}
