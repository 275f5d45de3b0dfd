//! `ktriage ci`: the commands over a written log and a generated result tree.

use crate::support::{ktriage, ktriage_into_closed_pipe};
use ktriage_ci::sim::{generate, write_tree, SimParams};
use serde_json::Value;

/// A console log with `n` kernel WARNINGs, each in its own function.
fn log_with_warnings(n: usize) -> String {
    let mut log = String::from("[    0.000000] Linux version 6.12.0-ktest\n");
    for i in 0..n {
        let t = 10 + i;
        log.push_str(&format!(
            "[   {t}.000001] ------------[ cut here ]------------\n\
             [   {t}.000002] WARNING: CPU: 0 PID: 42 at fs/bcachefs/alloc.c:{line} bch2_widget_{i}+0x1a/0x40 [bcachefs]\n\
             [   {t}.000003] Modules linked in: bcachefs\n\
             [   {t}.000004] Call Trace:\n\
             [   {t}.000005]  <TASK>\n\
             [   {t}.000006]  bch2_widget_{i}+0x1a/0x40 [bcachefs]\n\
             [   {t}.000007]  bch2_caller+0x10/0x20 [bcachefs]\n\
             [   {t}.000008]  </TASK>\n\
             [   {t}.000009] ---[ end trace 0000000000000000 ]---\n",
            line = 100 + i,
        ));
    }
    log
}

#[test]
fn parse_log_gives_every_report_and_says_when_it_stopped_early() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("console.log");
    std::fs::write(&log, log_with_warnings(3)).expect("write log");
    let path = log.to_str().expect("UTF-8 path");

    let all = ktriage(dir.path(), &["ci", "parse-log", path, "--format", "json"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let json = all.json();
    let reports = json["reports"].as_array().expect("reports");
    let titles: Vec<&str> = reports.iter().filter_map(|r| r["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "WARNING in bch2_widget_0",
            "WARNING in bch2_widget_1",
            "WARNING in bch2_widget_2"
        ]
    );
    for field in [
        "type",
        "frame",
        "corrupted",
        "guilty_file",
        "start_line",
        "end_line",
        "frames",
    ] {
        assert!(
            reports[0].get(field).is_some(),
            "no {field} in {}",
            reports[0]
        );
    }
    assert_eq!(json["truncated"], Value::Bool(false));
    assert!(!all.stderr.contains("warning"), "{}", all.stderr);

    let capped = ktriage(
        dir.path(),
        &[
            "ci",
            "parse-log",
            path,
            "--format",
            "json",
            "--max-reports",
            "2",
        ],
    );
    assert_eq!(capped.code, 0, "{}", capped.stderr);
    let json = capped.json();
    assert_eq!(json["reports"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["truncated"], Value::Bool(true));
    assert!(
        capped.stderr.contains("more than 2 reports") && capped.stderr.contains(path),
        "{}",
        capped.stderr
    );
}

#[test]
fn parse_log_text_into_a_closed_pipe_ends_quietly() {
    // `ktriage ci parse-log LOG | head`: the reader goes away. The output (about 600 KB)
    // is more than a pipe holds, so the writer meets the closed pipe whenever it starts.
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("console.log");
    std::fs::write(&log, log_with_warnings(2000)).expect("write log");
    let log = log.to_str().expect("UTF-8 path");
    let (code, stderr) = ktriage_into_closed_pipe(dir.path(), &["ci", "parse-log", log]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn parse_log_of_a_missing_file_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ktriage(dir.path(), &["ci", "parse-log", "no-such.log"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no-such.log"), "{}", out.stderr);
}

#[test]
fn summary_and_show_over_a_generated_tree_agree_with_its_truth() {
    let sim = generate(SimParams {
        seed: 7,
        tests: 60,
        ..SimParams::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(&sim, dir.path(), false).expect("write tree");
    let results = dir.path().to_str().expect("UTF-8 path");

    let out = ktriage(
        dir.path(),
        &["ci", "summary", "--results", results, "--format", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    let commits: Vec<&str> = json["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .filter_map(|c| c["commit"].as_str())
        .collect();
    assert_eq!(commits, sim.truth.commits);
    for field in ["min", "max", "newest", "outside_band"] {
        assert!(json["noise"].get(field).is_some(), "no noise.{field}");
    }
    let tests = json["tests"].as_array().expect("tests");
    let regressions: Vec<(&str, &str)> = tests
        .iter()
        .filter(|t| t["class"] == "regression")
        .filter_map(|t| Some((t["name"].as_str()?, t["first_bad"].as_str()?)))
        .collect();
    let truth: Vec<(&str, &str)> = sim
        .truth
        .tests
        .iter()
        .filter(|(_, t)| t.class.name() == "regression")
        .filter_map(|(name, t)| Some((name.as_str(), t.first_bad.as_deref()?)))
        .collect();
    assert!(!truth.is_empty(), "the generated tree has regressions");
    let found = truth.iter().filter(|t| regressions.contains(t)).count();
    assert!(
        found * 10 >= truth.len() * 9,
        "{found} of {} regressions found with their first bad commit: {regressions:?}",
        truth.len()
    );

    let newest = &sim.truth.commits[0];
    let show = ktriage(
        dir.path(),
        &["ci", "show", "--results", results, "--commit", newest],
    );
    assert_eq!(show.code, 0, "{}", show.stderr);
    let (name, _) = truth[0];
    assert!(show.stdout.contains(name), "{}", show.stdout);
}
