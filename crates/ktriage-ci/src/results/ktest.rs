//! ktest/ktestci layouts: `<commit>/<test>/{status,duration,log}` trees, the dashboard JSON
//! export (`branch.json`, `<commit>.json`) and ktest's local `ktest-out/out/<test>/`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::log::{summarize_file, Signer};
use super::{
    list_dir, read_head, single_commit, CommitRuns, Error, InputFormat, ResultSet, Run, Status,
};

/// Log files of a test directory, in order of preference.
const LOG_NAMES: [&str; 4] = ["log", "log.br", "full_log.br", "full_log"];

/// One entry of `branch.json`.
#[derive(Debug, Deserialize)]
struct BranchEntry {
    commit: String,
    #[serde(default)]
    message: Option<String>,
}

/// `<commit>.json`.
#[derive(Debug, Deserialize)]
struct CommitJson {
    tests: Vec<TestJson>,
}

/// One test of `<commit>.json`.
#[derive(Debug, Deserialize)]
struct TestJson {
    name: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|error| Error::Json {
        path: path.to_path_buf(),
        error,
    })
}

/// True when `path`'s name looks like a commit id (7 to 40 hex digits).
pub(super) fn is_commit_dir(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| (7..=40).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `ktest-out/out` directory for `path`, if `path` is (or contains) one.
pub(super) fn ktest_out_dir(path: &Path) -> Option<PathBuf> {
    let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_owned);
    let candidates = [
        path.join("ktest-out").join("out"),
        path.join("out"),
        path.to_path_buf(),
    ];
    candidates.into_iter().find(|c| {
        c.is_dir()
            && name(c).as_deref() == Some("out")
            && c.parent().and_then(name).as_deref() == Some("ktest-out")
    })
}

/// The first log file of `test` on `commit`, in a ktestci tree or a ktest output directory.
pub(super) fn test_log(path: &Path, commit: &str, test: &str) -> Option<PathBuf> {
    let out_dir = ktest_out_dir(path).unwrap_or_else(|| path.to_path_buf());
    [path.join(commit).join(test), out_dir.join(test)]
        .iter()
        .flat_map(|dir| LOG_NAMES.iter().map(move |name| dir.join(name)))
        .find(|p| p.is_file())
}

/// Reads the commit order (newest first) and subjects from `branch.json`.
fn read_branch(path: &Path) -> Result<Vec<BranchEntry>, Error> {
    let file = path.join("branch.json");
    let entries: Vec<BranchEntry> = read_json(&file)?;
    if let Some(bad) = entries.iter().find(|e| e.commit.trim().is_empty()) {
        return Err(Error::format(
            &file,
            format!("empty commit id in entry {bad:?}"),
        ));
    }
    Ok(entries)
}

/// Reads a ktestci tree. Commit order comes from `branch.json` when present; commits listed
/// there without a directory fall back to `<commit>.json`.
pub(super) fn read_tree(path: &Path, signer: Signer) -> Result<ResultSet, Error> {
    let mut warnings = Vec::new();
    let branch = if path.join("branch.json").is_file() {
        read_branch(path)?
    } else {
        warnings.push(format!(
            "{}: no branch.json; commits ordered by directory modification time",
            path.display()
        ));
        commits_by_mtime(path)?
    };
    let mut commits = Vec::with_capacity(branch.len());
    for entry in branch {
        let dir = path.join(&entry.commit);
        let runs = if dir.is_dir() {
            read_commit_dir(&dir, signer, &mut warnings)?
        } else if path.join(format!("{}.json", entry.commit)).is_file() {
            read_commit_json(&path.join(format!("{}.json", entry.commit)))?
        } else {
            warnings.push(format!(
                "{}: no results for commit {}",
                path.display(),
                entry.commit
            ));
            Vec::new()
        };
        commits.push(CommitRuns {
            commit: entry.commit,
            message: entry.message,
            runs,
        });
    }
    Ok(ResultSet {
        format: InputFormat::Ktestci,
        commits,
        warnings,
    })
}

/// Commit directories ordered newest (most recently modified) first.
fn commits_by_mtime(path: &Path) -> Result<Vec<BranchEntry>, Error> {
    let mut dirs = Vec::new();
    for p in list_dir(path)?
        .into_iter()
        .filter(|p| p.is_dir() && is_commit_dir(p))
    {
        let meta = std::fs::metadata(&p).map_err(|e| Error::io(&p, e))?;
        let mtime = meta.modified().map_err(|e| Error::io(&p, e))?;
        let commit = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        dirs.push((
            mtime,
            BranchEntry {
                commit,
                message: None,
            },
        ));
    }
    dirs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.commit.cmp(&b.1.commit)));
    Ok(dirs.into_iter().map(|(_, e)| e).collect())
}

/// Reads every `<test>/` directory of one commit.
fn read_commit_dir(
    dir: &Path,
    signer: Signer,
    warnings: &mut Vec<String>,
) -> Result<Vec<Run>, Error> {
    let mut runs = Vec::new();
    for test_dir in list_dir(dir)?.into_iter().filter(|p| p.is_dir()) {
        runs.push(read_test_dir(&test_dir, signer, warnings)?);
    }
    Ok(runs)
}

/// Reads one test directory: `status`, `duration`, and the log when the test failed.
fn read_test_dir(dir: &Path, signer: Signer, warnings: &mut Vec<String>) -> Result<Run, Error> {
    let test = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let status_path = dir.join("status");
    let status = if status_path.is_file() {
        Status::parse(&String::from_utf8_lossy(&read_head(&status_path, 4096)?))
    } else {
        Status::InProgress
    };
    let duration_path = dir.join("duration");
    let duration = if duration_path.is_file() {
        parse_duration(&String::from_utf8_lossy(&read_head(&duration_path, 4096)?))
    } else {
        None
    };
    let mut run = Run {
        test,
        status,
        duration,
        log: None,
    };
    if !status.is_failure() {
        return Ok(run);
    }
    let Some(log_path) = LOG_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()) else {
        return Ok(run);
    };
    match summarize_file(&log_path, true, signer) {
        Ok(summary) => {
            if let Some(problem) = &summary.problem {
                warnings.push(problem.clone());
            }
            if status == Status::Failed && !summary.reached_test {
                run.status = Status::FailedToRun;
            }
            run.log = Some(summary);
        }
        Err(e) => warnings.push(e.to_string()),
    }
    Ok(run)
}

/// Parses a duration in seconds (integer or decimal); `None` when malformed.
fn parse_duration(text: &str) -> Option<u64> {
    let t = text.trim();
    t.parse::<u64>().ok().or_else(|| {
        t.parse::<f64>()
            .ok()
            .filter(|d| d.is_finite() && *d >= 0.0)
            .map(|d| d.round() as u64)
    })
}

/// Converts a JSON duration (seconds) to whole seconds.
fn json_duration(d: Option<f64>) -> Option<u64> {
    d.filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| d.round() as u64)
}

/// Reads the statuses of one `<commit>.json`.
fn read_commit_json(path: &Path) -> Result<Vec<Run>, Error> {
    let commit: CommitJson = read_json(path)?;
    Ok(commit
        .tests
        .into_iter()
        .map(|t| Run {
            test: t.name,
            status: t
                .status
                .as_deref()
                .map_or(Status::InProgress, Status::parse),
            duration: json_duration(t.duration),
            log: None,
        })
        .collect())
}

/// Reads the dashboard JSON export only (no logs).
pub(super) fn read_dashboard(path: &Path) -> Result<ResultSet, Error> {
    let mut warnings = Vec::new();
    let mut commits = Vec::new();
    for entry in read_branch(path)? {
        let file = path.join(format!("{}.json", entry.commit));
        let runs = if file.is_file() {
            read_commit_json(&file)?
        } else {
            warnings.push(format!("{}: missing", file.display()));
            Vec::new()
        };
        commits.push(CommitRuns {
            commit: entry.commit,
            message: entry.message,
            runs,
        });
    }
    Ok(ResultSet {
        format: InputFormat::Dashboard,
        commits,
        warnings,
    })
}

/// Reads ktest's local output (`ktest-out/out/<test>/`), or any directory of test
/// directories (one ktestci commit); one commit, named after the directory when it is a
/// commit id, else after the `commit <id>` line of a log header, else `local`.
pub(super) fn read_ktest_out(path: &Path, signer: Signer) -> Result<ResultSet, Error> {
    let dir = ktest_out_dir(path).unwrap_or_else(|| path.to_path_buf());
    let mut warnings = Vec::new();
    let runs = read_commit_dir(&dir, signer, &mut warnings)?;
    if runs.is_empty() {
        return Err(Error::NotFound {
            path: path.to_path_buf(),
        });
    }
    let commit = if is_commit_dir(&dir) {
        dir.file_name().map(|n| n.to_string_lossy().into_owned())
    } else {
        commit_from_logs(&dir)
    };
    Ok(single_commit(
        commit.unwrap_or_else(|| "local".to_owned()),
        runs,
        warnings,
    ))
}

/// The commit id named in the header (`..., commit <id>`) of the first readable log.
fn commit_from_logs(dir: &Path) -> Option<String> {
    let tests = list_dir(dir).ok()?;
    let log = tests.iter().map(|t| t.join("log")).find(|p| p.is_file())?;
    let head = read_head(&log, 4096).ok()?;
    let text = String::from_utf8_lossy(&head);
    let after = text.split("commit ").nth(1)?;
    let id: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
    (id.len() >= 7).then_some(id)
}
