//! xfstests results directories: `result.xml` (xunit) when present, else `check.log`
//! (`Ran:`, `Not run:`, `Failures:` lines; the last occurrence of each wins). A failing
//! test's log is its `<test>.dmesg` followed by an `output mismatch` line when
//! `<test>.out.bad` exists, so a kernel report wins over a mismatch.

use std::collections::BTreeMap;
use std::path::Path;

use super::junit::{cases_to_runs, parse_cases, Case};
use super::log::{read_log_file, summarize_log, Signer};
use super::{single_commit, Error, ResultSet, Run, Status};

/// Reads an xfstests results directory as one commit.
pub(super) fn read(dir: &Path, signer: Signer) -> Result<ResultSet, Error> {
    let xml = dir.join("result.xml");
    let mut warnings = Vec::new();
    let mut runs = if xml.is_file() {
        let bytes = std::fs::read(&xml).map_err(|e| Error::io(&xml, e))?;
        let cases = parse_cases(&String::from_utf8_lossy(&bytes));
        if cases.is_empty() {
            return Err(Error::format(&xml, "no <testcase> elements"));
        }
        cases_to_runs(cases, signer, |c: &Case| c.name.clone())
    } else {
        read_check_log(dir)?
    };
    for run in runs.iter_mut().filter(|r| r.status.is_failure()) {
        let mut log = Vec::new();
        let dmesg = dir.join(format!("{}.dmesg", run.test));
        if dmesg.is_file() {
            let (bytes, problem) = read_log_file(&dmesg)?;
            warnings.extend(problem);
            log.extend_from_slice(&bytes);
        }
        if dir.join(format!("{}.out.bad", run.test)).is_file() {
            log.extend_from_slice(format!("\n{} - output mismatch\n", run.test).as_bytes());
        }
        // A signature from the files wins over the result.xml failure text.
        let from_files = summarize_log(&log, false, signer);
        run.log = match run.log.take() {
            Some(prev) if from_files.signature.is_none() => Some(prev),
            _ => Some(from_files),
        };
    }
    Ok(single_commit("local".to_owned(), runs, warnings))
}

/// Parses `check.log`.
fn read_check_log(dir: &Path) -> Result<Vec<Run>, Error> {
    let path = dir.join("check.log");
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut ran: Vec<&str> = Vec::new();
    let mut not_run: Vec<&str> = Vec::new();
    let mut failures: Vec<&str> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Ran:") {
            ran = rest.split_whitespace().collect();
        } else if let Some(rest) = line.strip_prefix("Not run:") {
            not_run = rest.split_whitespace().collect();
        } else if let Some(rest) = line.strip_prefix("Failures:") {
            failures = rest.split_whitespace().collect();
        }
    }
    let mut status: BTreeMap<&str, Status> = BTreeMap::new();
    for t in ran {
        status.insert(t, Status::Passed);
    }
    for t in not_run {
        status.insert(t, Status::NotRun);
    }
    for t in failures {
        status.insert(t, Status::Failed);
    }
    if status.is_empty() {
        return Err(Error::format(
            &path,
            "no `Ran:`, `Not run:` or `Failures:` line",
        ));
    }
    Ok(status
        .into_iter()
        .map(|(t, s)| Run {
            test: t.to_owned(),
            status: s,
            duration: None,
            log: None,
        })
        .collect())
}
