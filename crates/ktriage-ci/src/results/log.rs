//! Reading and summarising one failing run's log: plain or brotli, the `========= TEST`
//! marker, infrastructure causes, and the crash signature.

use std::io::Read;
use std::path::Path;

use memchr::memmem;
use serde::Serialize;

use super::Error;

/// Logs longer than this are cut (the first part is kept: the primary report comes first).
pub const MAX_LOG_BYTES: usize = 256 << 20;

/// A crash signature: a human title and a key that identifies the bug.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Signature {
    /// Syzkaller-style title, e.g. `WARNING in bch2_journal_flush_seq`.
    pub title: String,
    /// Grouping key: the report's `dedup_key` (stable across offsets and runs), or the title.
    pub key: String,
}

/// Computes a signature from the part of a failing log after the test-start marker.
pub type Signer = fn(&[u8]) -> Option<Signature>;

/// The default [`Signer`]: the first kernel report of [`crate::report::parse_log`], else an
/// fstests `<test> - output mismatch` line (title `output mismatch in <test>`).
///
/// The key is the report's `dedup_key` (title plus the first `file.c:line` printed inside
/// the report), so runs on different architectures and commits (offsets drift) of one bug
/// group together while two assertions in one function stay apart.
pub fn default_signer(log: &[u8]) -> Option<Signature> {
    let Some(report) = crate::report::parse_log(log).into_iter().next() else {
        return mismatch_signature(log);
    };
    Some(Signature {
        key: report.dedup_key,
        title: report.title,
    })
}

/// Finds an fstests `generic/NNN - output mismatch (see ...)` line.
fn mismatch_signature(log: &[u8]) -> Option<Signature> {
    let at = memmem::find(log, b"- output mismatch")?;
    let line_start = memchr::memrchr(b'\n', &log[..at]).map_or(0, |i| i + 1);
    let line = String::from_utf8_lossy(strip_elapsed(&log[line_start..at]));
    let test = line.split_whitespace().next()?;
    let title = format!("output mismatch in {test}");
    Some(Signature {
        key: title.clone(),
        title,
    })
}

/// Why a run never started its test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InfraCause {
    /// The host ran out of disk (scratch devices could not be created).
    OutOfDisk,
    /// The VM did not start (qemu/KVM failure).
    VmStart,
    /// The guest kernel did not boot (root fs, early panic).
    BootFailure,
    /// The log never reached the test start, for no recognised reason.
    NotStarted,
}

impl InfraCause {
    /// Short name, e.g. `out_of_disk`.
    pub fn name(self) -> &'static str {
        match self {
            InfraCause::OutOfDisk => "out_of_disk",
            InfraCause::VmStart => "vm_start",
            InfraCause::BootFailure => "boot_failure",
            InfraCause::NotStarted => "not_started",
        }
    }
}

/// Lines that name an infrastructure cause. Before the test marker any line counts; after
/// it only host lines (`ktest: ...`), since tests print such messages themselves.
const INFRA_PATTERNS: &[(&str, InfraCause)] = &[
    ("No space left on device", InfraCause::OutOfDisk),
    ("error creating scratch device", InfraCause::OutOfDisk),
    ("Disk quota exceeded", InfraCause::OutOfDisk),
    ("failed to initialize kvm", InfraCause::VmStart),
    ("Could not access KVM", InfraCause::VmStart),
    ("VM exited with status", InfraCause::VmStart),
    ("Cannot open root device", InfraCause::BootFailure),
    ("Unable to mount root fs", InfraCause::BootFailure),
    ("Kernel panic - not syncing", InfraCause::BootFailure),
    ("no test start from the VM", InfraCause::BootFailure),
];

/// What was learnt from one failing run's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogSummary {
    /// The log has a `========= TEST` line (always true for formats without markers).
    pub reached_test: bool,
    /// Infrastructure cause, when the run never started or a host line names one.
    pub infra: Option<InfraCause>,
    /// Crash signature of the first report after the test start.
    pub signature: Option<Signature>,
    /// A problem reading the log (truncated brotli, cut at [`MAX_LOG_BYTES`]).
    pub problem: Option<String>,
}

/// Strips ktest's `NNNNN ` elapsed-seconds prefix from a line, if present.
pub(crate) fn strip_elapsed(line: &[u8]) -> &[u8] {
    if line.len() >= 6 && line[..5].iter().all(u8::is_ascii_digit) && line[5] == b' ' {
        &line[6..]
    } else {
        line
    }
}

/// Summarises a log. With `markers`, the log is a ktest log: infrastructure failures are
/// recognised before the `========= TEST` marker and the signature is taken after it;
/// without, the whole text is searched for a signature.
pub fn summarize_log(log: &[u8], markers: bool, signer: Signer) -> LogSummary {
    if !markers {
        return LogSummary {
            reached_test: true,
            infra: None,
            signature: signer(log),
            problem: None,
        };
    }
    let mut infra = None;
    let mut body_start = None;
    let mut pos = 0;
    while pos < log.len() {
        let end = memchr::memchr(b'\n', &log[pos..]).map_or(log.len(), |i| pos + i);
        let line = strip_elapsed(&log[pos..end]);
        pos = end + 1;
        let host = line.starts_with(b"ktest: ");
        if body_start.is_none() && line.starts_with(b"========= TEST") {
            body_start = Some(pos.min(log.len()));
            if infra.is_some() {
                // A cause printed before the test started but the test ran anyway: not infra.
                infra = None;
            }
            continue;
        }
        if infra.is_none() && (body_start.is_none() || host) {
            infra = infra_cause(line);
        }
    }
    match body_start {
        None => LogSummary {
            reached_test: false,
            infra: Some(infra.unwrap_or(InfraCause::NotStarted)),
            signature: None,
            problem: None,
        },
        Some(start) => LogSummary {
            reached_test: true,
            infra,
            signature: signer(&log[start..]),
            problem: None,
        },
    }
}

fn infra_cause(line: &[u8]) -> Option<InfraCause> {
    INFRA_PATTERNS
        .iter()
        .find(|(pat, _)| memmem::find(line, pat.as_bytes()).is_some())
        .map(|&(_, cause)| cause)
}

/// Reads a log file, decompressing `.br` files. Returns the bytes (at most
/// [`MAX_LOG_BYTES`]) and a description of any problem that left the text incomplete.
/// A truncated or corrupt brotli stream gives the text decoded so far, not an error.
pub(crate) fn read_log_file(path: &Path) -> Result<(Vec<u8>, Option<String>), Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let limit = MAX_LOG_BYTES as u64 + 1;
    let mut buf = Vec::new();
    let brotli = path.extension().is_some_and(|e| e == "br");
    let result = if brotli {
        brotli::Decompressor::new(file, 64 * 1024)
            .take(limit)
            .read_to_end(&mut buf)
    } else {
        file.take(limit).read_to_end(&mut buf)
    };
    let mut problem = match result {
        Ok(_) => None,
        Err(e) if brotli => Some(format!(
            "{}: corrupt or truncated brotli stream after {} bytes: {e}",
            path.display(),
            buf.len()
        )),
        Err(e) => return Err(Error::io(path, e)),
    };
    if buf.len() > MAX_LOG_BYTES {
        buf.truncate(MAX_LOG_BYTES);
        problem = Some(format!(
            "{}: log cut at {MAX_LOG_BYTES} bytes",
            path.display()
        ));
    }
    Ok((buf, problem))
}

/// Reads and summarises a log file; see [`summarize_log`] and [`read_log_file`].
pub(crate) fn summarize_file(
    path: &Path,
    markers: bool,
    signer: Signer,
) -> Result<LogSummary, Error> {
    let (bytes, problem) = read_log_file(path)?;
    let mut summary = summarize_log(&bytes, markers, signer);
    summary.problem = problem;
    Ok(summary)
}
