//! Kernel report detection and syzkaller-style signatures.
//!
//! [`parse_log`] scans a console log once: a single multi-literal search finds lines
//! that may start a report (the fast path; other lines are never looked at), and for
//! each real report header a bounded window of following lines from the same printk
//! context is collected ([`collect`]), titled from the report table ([`table`], [`oops`]),
//! normalised ([`title`]) and given frames, a guilty file ([`guilty`]) and a dedup key.

mod collect;
mod demangle;
mod frames;
mod guilty;
mod hits;
mod lines;
mod oops;
mod pattern;
mod table;
mod title;

use std::io::{self, Read};

use serde::Serialize;

use collect::Collected;
use oops::OOPSES;

/// One stack frame of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// Function name without offset, e.g. `bch2_trans_begin`.
    pub function: String,
    /// `+0x1a/0x2b` style offset, when printed.
    pub offset: Option<String>,
    /// Module name from a `[bcachefs]` tag, when printed.
    pub module: Option<String>,
    /// Source path from a symbolized frame, when printed.
    pub path: Option<String>,
    /// Source line from a symbolized frame, when printed.
    pub line: Option<u32>,
    /// False for `? func` frames the unwinder marked unreliable.
    pub reliable: bool,
}

/// One kernel report (a splat) found in a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Title in syzkaller's convention, e.g. `WARNING in bch2_foo`.
    pub title: String,
    /// Crash type, e.g. `WARNING`, `KASAN-USE-AFTER-FREE-READ`; `UNKNOWN` when none applies.
    #[serde(rename = "type")]
    pub kind: String,
    /// The guilty frame (first non-generic frame), when there is one.
    pub frame: Option<String>,
    /// The report is present but unreliable (interleaved, truncated).
    pub corrupted: bool,
    /// The source file to blame, when the log names files.
    pub guilty_file: Option<String>,
    /// First line of the report in the log, 1-based.
    pub start_line: usize,
    /// Last line of the report in the log, 1-based, inclusive.
    pub end_line: usize,
    /// The stack, innermost first.
    pub frames: Vec<Frame>,
    /// A key stable across runs, kernel versions and address randomisation.
    pub dedup_key: String,
}

impl Report {
    /// The lines of `log` (the log the report was found in) that the report spans, joined
    /// with newlines; lines past the end of `log` are left out.
    pub fn text(&self, log: &str) -> String {
        let lines: Vec<&str> = log.lines().collect();
        let start = self.start_line.saturating_sub(1).min(lines.len());
        let end = self.end_line.clamp(start, lines.len());
        lines[start..end].join("\n")
    }
}

/// At most this many reports are taken from one log (a bound against logs that repeat
/// a header millions of times).
pub const MAX_REPORTS: usize = 4096;

/// A console link failure that truncates whatever report preceded it.
const CONSOLE_HANGUP: &[u8] = b"serialport: VM disconnected.";

/// Finds every kernel report in `log`; the first one is the primary report.
///
/// Real crashes come first, in log order; weak reports (bcachefs error messages,
/// fstests output mismatches) follow them. No crash gives an empty list. Same as
/// [`parse_reader`] over the slice.
pub fn parse_log(log: &[u8]) -> Vec<Report> {
    // Reading from a slice cannot fail.
    parse_reader(log).unwrap_or_default()
}

/// [`parse_log`] for a log read from `reader`, with bounded memory: only the report
/// being collected and a fixed lookahead window (8 MiB) of the log are held at a time.
pub fn parse_reader<R: Read>(reader: R) -> io::Result<Vec<Report>> {
    parse_reader_limited(reader, MAX_REPORTS)
}

/// [`parse_reader`] taking at most `max_reports` reports instead of [`MAX_REPORTS`] (the
/// rest of the log is still read, for the console-hangup check).
pub fn parse_reader_limited<R: Read>(reader: R, max_reports: usize) -> io::Result<Vec<Report>> {
    let mut scanner = collect::Scanner::new(reader);
    let mut strong = Vec::new();
    let mut weak = Vec::new();
    while strong.len() + weak.len() < max_reports {
        let Some(collected) = scanner.next_report()? else {
            break;
        };
        let weak_report = collected.group.spec.weak;
        let report = build(collected);
        if weak_report {
            weak.push(report);
        } else {
            strong.push(report);
        }
    }
    scanner.finish()?;
    strong.extend(weak);
    if scanner.hangup() {
        for report in &mut strong {
            report.corrupted = true;
        }
    }
    Ok(strong)
}

/// Turns a collected report into a [`Report`].
fn build(c: Collected) -> Report {
    let text = &c.text[..c.report_end];
    let mut desc = oops::describe(&OOPSES, c.group, text);
    if desc.title.trim().is_empty() {
        // The header line itself was cut (e.g. it looked like an unreliable frame).
        desc = oops::describe(&OOPSES, c.group, c.header);
    }
    let corrupted = desc.corrupted || oops::is_corrupted(&desc.title, c.text, desc.format);
    let title = match desc.format {
        Some(format) if format.verbatim() => desc.title.clone(),
        _ => title::normalize(&desc.title),
    };
    let kind = title::crash_type(&title).to_owned();
    let frame = match title.strip_prefix("output mismatch in ") {
        Some(test) => Some(test.to_owned()),
        None => title::frame_of(&title),
    };
    let guilty_file = guilty::guilty_file(&title, c.text);
    let dedup_key = dedup_key(&kind, &title, text);
    Report {
        title,
        kind,
        frame,
        corrupted,
        guilty_file,
        start_line: c.start_line,
        end_line: c.end_line,
        frames: c.frames,
        dedup_key,
    }
}

/// `type|title|path:line`: the title plus the first source location the report prints
/// (`kernel BUG at`, `WARNING: ... at`, an assertion), or `type|title` when it prints none.
///
/// Offsets, addresses, PIDs and CPUs never enter the key, and neither do stack frames: the
/// leading frames differ between architectures (`__switch_to` on arm64) for one bug. The
/// location keeps two assertions or warnings in one function apart; the price is that a
/// bug whose line moves (a later kernel, an edit above it) gets a new key.
fn dedup_key(kind: &str, title: &str, text: &str) -> String {
    match guilty::first_location(text) {
        Some(location) => format!("{kind}|{title}|{location}"),
        None => format!("{kind}|{title}"),
    }
}
