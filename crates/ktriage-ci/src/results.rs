//! Result-tree readers: turn a test farm's on-disk results into a [`ResultSet`].
//!
//! Supported layouts (see [`InputFormat`]), auto-detected by [`read_results`]:
//!
//! - **ktestci tree**: `<commit>/<test-key>/{status,duration,log|log.br|full_log.br}`, with the
//!   dashboard export `branch.json` (newest commit first) giving the commit order and subjects.
//!   Without `branch.json` commits are ordered by directory modification time (with a warning).
//! - **dashboard JSON** only: `branch.json` + `<commit>.json`, statuses without logs.
//! - **ktest local output**: `ktest-out/out/<test>/{status,duration,log}`, one commit.
//! - **xfstests results directory**: `check.log`, `result.xml`, `<test>.out.bad`, `.full`,
//!   `.dmesg`; one commit.
//! - **KTAP / kselftest** output (a `.ktap`/`.tap` file or a directory of them); one commit.
//! - **JUnit XML** (a file or a directory of `*.xml`); one commit.
//!
//! Logs are read only for failing runs (never for passing ones), each once, and summarised
//! into a [`LogSummary`]: the crash signature (from [`crate::report::parse_log`], or an fstests
//! `output mismatch` line), whether the log reached the `========= TEST` marker, and an
//! infrastructure cause when the run never started. A `FAILED` run whose log never reaches the
//! marker becomes [`Status::FailedToRun`], as on the dashboard.

mod junit;
mod ktap;
mod ktest;
mod log;
mod xfstests;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use log::{
    default_signer, summarize_log, InfraCause, LogSummary, Signature, Signer, MAX_LOG_BYTES,
};

/// Errors from reading a result tree. Every variant names the file or directory at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error (shown in the message, so not chained as a source).
        error: std::io::Error,
    },
    /// A JSON file is not valid JSON or has unexpected types.
    #[error("{}: invalid JSON: {error}", path.display())]
    Json {
        /// The JSON file.
        path: PathBuf,
        /// The parser's error, with line and column (shown in the message).
        error: serde_json::Error,
    },
    /// A file is readable but its content is not what the format requires.
    #[error("{}: {what}", path.display())]
    Format {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// Nothing in the directory looks like a supported result layout.
    #[error("{}: no test results found (expected branch.json, <commit>/<test>/status, \
             ktest-out/out, an xfstests check.log/result.xml, KTAP or JUnit XML)", path.display())]
    NotFound {
        /// The directory or file given.
        path: PathBuf,
    },
}

impl Error {
    fn io(path: &Path, error: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    fn format(path: &Path, what: impl Into<String>) -> Self {
        Error::Format {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }
}

/// The layout of a result tree; `Auto` detects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormat {
    /// Detect the layout from the files present.
    #[default]
    Auto,
    /// ktestci tree: `<commit>/<test>/status` (with `branch.json` for the order).
    Ktestci,
    /// Dashboard JSON only: `branch.json` + `<commit>.json`.
    Dashboard,
    /// ktest's local `ktest-out/out/<test>/` directory.
    KtestOut,
    /// An xfstests results directory.
    Xfstests,
    /// KTAP / kselftest TAP output.
    Ktap,
    /// JUnit XML.
    Junit,
}

impl InputFormat {
    /// All formats, in the order of their names in `--input-format`.
    pub const ALL: [InputFormat; 7] = [
        InputFormat::Auto,
        InputFormat::Ktestci,
        InputFormat::Dashboard,
        InputFormat::KtestOut,
        InputFormat::Xfstests,
        InputFormat::Ktap,
        InputFormat::Junit,
    ];

    /// The name used on the command line, e.g. `ktest-out`.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Ktestci => "ktestci",
            InputFormat::Dashboard => "dashboard",
            InputFormat::KtestOut => "ktest-out",
            InputFormat::Xfstests => "xfstests",
            InputFormat::Ktap => "ktap",
            InputFormat::Junit => "junit",
        }
    }
}

impl std::fmt::Display for InputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for InputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InputFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = InputFormat::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown input format `{s}` (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

/// The outcome of one test on one commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The test passed.
    Passed,
    /// The test ran and failed.
    Failed,
    /// The test failed before it started (infrastructure): dashboard `failed_to_run`.
    FailedToRun,
    /// The test ran out of time.
    FailedTimeout,
    /// The test was skipped.
    NotRun,
    /// The test is still running (empty status file).
    InProgress,
    /// Unrecognised status text.
    Unknown,
}

impl Status {
    /// Parses an on-disk ktest status (`PASSED`, `FAILED`, `NOTRUN`, `FAILED TIMEOUT`, empty)
    /// or a dashboard JSON status (`passed`, `failed_to_run`, ...).
    pub fn parse(text: &str) -> Status {
        let words: Vec<String> = text
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        match words.join("_").as_str() {
            "" | "inprogress" => Status::InProgress,
            "passed" | "pass" | "ok" | "success" => Status::Passed,
            "failed" | "fail" | "failure" | "error" => Status::Failed,
            "failed_to_run" => Status::FailedToRun,
            "failed_timeout" | "timeout" => Status::FailedTimeout,
            "notrun" | "not_run" | "skipped" | "skip" => Status::NotRun,
            _ => Status::Unknown,
        }
    }

    /// True for the statuses that are failures of some kind (including infrastructure).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Failed | Status::FailedToRun | Status::FailedTimeout
        )
    }
}

/// One test's run on one commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// Test key, e.g. `fs.bcachefs.fstests.generic.019`.
    pub test: String,
    /// Outcome.
    pub status: Status,
    /// Duration in seconds, when recorded.
    pub duration: Option<u64>,
    /// Summary of the log; present for failing runs whose log could be read.
    pub log: Option<LogSummary>,
}

impl Run {
    /// True when the run failed for infrastructure reasons: `failed_to_run`, or a failure
    /// whose log never reached the test start or names an infrastructure cause.
    pub fn is_infra(&self) -> bool {
        self.status == Status::FailedToRun
            || (self.status.is_failure()
                && self
                    .log
                    .as_ref()
                    .is_some_and(|l| !l.reached_test || l.infra.is_some()))
    }

    /// The crash signature, when the log was read and one was found.
    pub fn signature(&self) -> Option<&Signature> {
        self.log.as_ref().and_then(|l| l.signature.as_ref())
    }
}

/// All runs of one commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitRuns {
    /// Commit id (40 hex digits in ktestci trees; `local` when the layout has none).
    pub commit: String,
    /// Commit subject, when known.
    pub message: Option<String>,
    /// One run per test, sorted by test key.
    pub runs: Vec<Run>,
}

/// A result tree: the runs of every commit in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultSet {
    /// The layout that was read.
    pub format: InputFormat,
    /// Commits, newest first.
    pub commits: Vec<CommitRuns>,
    /// Problems that did not stop reading (unreadable logs, missing files).
    pub warnings: Vec<String>,
}

/// How to read a result tree.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Layout; `Auto` detects it.
    pub format: InputFormat,
    /// Computes a signature from a failing log (after the test-start marker).
    pub signer: Signer,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: InputFormat::Auto,
            signer: default_signer,
        }
    }
}

/// Reads the result tree at `path` (a directory, or a single KTAP/JUnit file), detecting
/// its layout. See the module docs for the layouts.
pub fn read_results(path: &Path) -> Result<ResultSet, Error> {
    read_results_with(path, &ReadOptions::default())
}

/// Reads the result tree at `path` with explicit options.
pub fn read_results_with(path: &Path, opts: &ReadOptions) -> Result<ResultSet, Error> {
    let format = match opts.format {
        InputFormat::Auto => detect(path)?,
        f => f,
    };
    let mut set = match format {
        InputFormat::Auto | InputFormat::Ktestci => ktest::read_tree(path, opts.signer)?,
        InputFormat::Dashboard => ktest::read_dashboard(path)?,
        InputFormat::KtestOut => ktest::read_ktest_out(path, opts.signer)?,
        InputFormat::Xfstests => xfstests::read(path, opts.signer)?,
        InputFormat::Ktap => ktap::read(path, opts.signer)?,
        InputFormat::Junit => junit::read(path, opts.signer)?,
    };
    set.format = format;
    for c in &mut set.commits {
        c.runs.sort_by(|a, b| a.test.cmp(&b.test));
    }
    Ok(set)
}

/// The log file of `test` on `commit` in the result tree at `path`: a ktestci tree
/// (`<commit>/<test>/`) or ktest output (`ktest-out/out/<test>/`), trying `log`, `log.br`,
/// `full_log.br`, `full_log`. `None` for layouts without per-test log files.
pub fn find_log(path: &Path, commit: &str, test: &str) -> Option<PathBuf> {
    ktest::test_log(path, commit, test)
}

/// Reads a log file, decompressing `.br` files, as text (invalid UTF-8 replaced): at most
/// [`MAX_LOG_BYTES`], and a description of any problem that left the text incomplete.
pub fn read_log(path: &Path) -> Result<(String, Option<String>), Error> {
    let (bytes, problem) = log::read_log_file(path)?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), problem))
}

/// Detects the layout of `path`.
pub fn detect(path: &Path) -> Result<InputFormat, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        return file_format(path)?.ok_or_else(|| Error::NotFound {
            path: path.to_path_buf(),
        });
    }
    if ktest::ktest_out_dir(path).is_some() {
        return Ok(InputFormat::KtestOut);
    }
    if path.join("check.log").is_file() || path.join("result.xml").is_file() {
        return Ok(InputFormat::Xfstests);
    }
    let entries = list_dir(path)?;
    if entries
        .iter()
        .any(|p| p.is_dir() && ktest::is_commit_dir(p))
    {
        return Ok(InputFormat::Ktestci);
    }
    if path.join("branch.json").is_file() {
        return Ok(InputFormat::Dashboard);
    }
    if entries.iter().any(|p| p.join("status").is_file()) {
        return Ok(InputFormat::KtestOut);
    }
    for p in entries.iter().filter(|p| p.is_file()) {
        if let Some(f) = file_format(p)? {
            return Ok(f);
        }
    }
    Err(Error::NotFound {
        path: path.to_path_buf(),
    })
}

/// Sniffs a single file: KTAP/TAP or JUnit XML, or `None`.
fn file_format(path: &Path) -> Result<Option<InputFormat>, Error> {
    let head = read_head(path, 4096)?;
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with("KTAP version") || text.starts_with("TAP version") {
        return Ok(Some(InputFormat::Ktap));
    }
    if text.starts_with('<') && (text.contains("<testsuite") || text.contains("<testcase")) {
        return Ok(Some(InputFormat::Junit));
    }
    Ok(None)
}

fn read_head(path: &Path, n: u64) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::new();
    file.take(n)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

/// Lists a directory's entries, sorted by name.
fn list_dir(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let rd = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for entry in rd {
        out.push(entry.map_err(|e| Error::io(path, e))?.path());
    }
    out.sort();
    Ok(out)
}

/// Files in `dir` whose name ends with one of `exts` (or `dir` itself if it is a file).
fn files_with_ext(dir: &Path, exts: &[&str]) -> Result<Vec<PathBuf>, Error> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    Ok(list_dir(dir)?
        .into_iter()
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| exts.iter().any(|e| n.ends_with(e)))
        })
        .collect())
}

/// A one-commit result set (for layouts that hold a single run of a test suite).
fn single_commit(commit: String, runs: Vec<Run>, warnings: Vec<String>) -> ResultSet {
    ResultSet {
        format: InputFormat::Auto,
        commits: vec![CommitRuns {
            commit,
            message: None,
            runs,
        }],
        warnings,
    }
}
