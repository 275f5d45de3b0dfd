//! KTAP (KUnit) and kselftest TAP output.
//!
//! Result lines are `ok N name`, `not ok N name`, with directives `# SKIP` (not run),
//! `# TIMEOUT` (timeout) and `# TODO`/`# XFAIL` (passed). Nested subtests are indented by
//! four spaces and reported before their parent's result line; a subtest's key is
//! `parent.child`, and a parent with subtests is not itself listed. Names are normalised:
//! `selftests: net: udpgso` becomes `selftests.net.udpgso`. A failing test's log is the text
//! printed since the previous result line.

use std::path::Path;

use super::log::{summarize_log, Signer};
use super::{files_with_ext, single_commit, Error, ResultSet, Run, Status};

/// A result line, parsed.
struct ResultLine {
    depth: usize,
    name: String,
    status: Status,
}

fn parse_result_line(line: &str) -> Option<ResultLine> {
    let spaces = line.len() - line.trim_start_matches([' ', '\t']).len();
    let depth = line[..spaces]
        .chars()
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum::<usize>()
        / 4;
    let trimmed = line.trim();
    let (failed, rest) = if let Some(r) = trimmed.strip_prefix("not ok ") {
        (true, r)
    } else {
        (false, trimmed.strip_prefix("ok ")?)
    };
    let rest = rest
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    let rest = rest.strip_prefix("- ").unwrap_or(rest);
    let (desc, directive) = match rest
        .find(" # ")
        .or_else(|| rest.strip_prefix("# ").map(|_| 0))
    {
        Some(at) => (
            &rest[..at],
            rest[at..]
                .trim_start_matches([' ', '#'])
                .to_ascii_uppercase(),
        ),
        None => (rest, String::new()),
    };
    let status = if directive.starts_with("SKIP") {
        Status::NotRun
    } else if directive.starts_with("TIMEOUT") {
        Status::FailedTimeout
    } else if failed && !(directive.starts_with("TODO") || directive.starts_with("XFAIL")) {
        Status::Failed
    } else {
        Status::Passed
    };
    let name = desc
        .trim()
        .replace(": ", ".")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_");
    Some(ResultLine {
        depth,
        name,
        status,
    })
}

/// Parses one KTAP/TAP document into runs.
pub(super) fn parse(text: &str, signer: Signer) -> Vec<Run> {
    // pending[d]: finished tests at depth d not yet claimed by a parent.
    let mut pending: Vec<Vec<Run>> = Vec::new();
    let mut output = String::new();
    for line in text.lines() {
        let Some(result) = parse_result_line(line) else {
            output.push_str(line);
            output.push('\n');
            continue;
        };
        let log = std::mem::take(&mut output);
        if pending.len() <= result.depth + 1 {
            pending.resize_with(result.depth + 2, Vec::new);
        }
        let children: Vec<Run> = pending.drain(result.depth + 1..).flatten().collect();
        let level = &mut pending[result.depth];
        if children.is_empty() {
            let summary = result
                .status
                .is_failure()
                .then(|| summarize_log(log.as_bytes(), false, signer));
            level.push(Run {
                test: result.name,
                status: result.status,
                duration: None,
                log: summary,
            });
        } else {
            level.extend(children.into_iter().map(|mut c| {
                c.test = format!("{}.{}", result.name, c.test);
                c
            }));
        }
    }
    pending.into_iter().flatten().collect()
}

/// Reads a KTAP/TAP file, or every `*.ktap`/`*.tap` file of a directory, as one commit.
pub(super) fn read(path: &Path, signer: Signer) -> Result<ResultSet, Error> {
    let mut runs = Vec::new();
    for file in files_with_ext(path, &[".ktap", ".tap"])? {
        let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
        let found = parse(&String::from_utf8_lossy(&bytes), signer);
        if found.is_empty() {
            return Err(Error::format(&file, "no `ok`/`not ok` result lines"));
        }
        runs.extend(found);
    }
    if runs.is_empty() {
        return Err(Error::NotFound {
            path: path.to_path_buf(),
        });
    }
    Ok(single_commit("local".to_owned(), runs, Vec::new()))
}
