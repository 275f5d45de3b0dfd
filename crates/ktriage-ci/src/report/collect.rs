//! Finding report headers and collecting each report's lines.
//!
//! A report is the header line plus the following lines printed by the same printk
//! context (a `[T123]` caller, or the whole console without caller ids), minus unreliable
//! `? func` frames, up to the next report header. Windows are bounded, so memory and time
//! per report are bounded whatever the input.

use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::clean::{split_line, strip_ansi, Context};
use crate::report::Frame;

use super::frames::parse_frame;
use super::lines::{line_from, replayed_after, without_elapsed, Line, LineCache, LineFacts};
use super::oops::{Group, OOPSES};
use super::CONSOLE_HANGUP;

/// At most this many lines are scanned for one report.
const MAX_SCAN_LINES: usize = 3000;
/// At most this many lines are kept in one report's text.
const MAX_TEXT_LINES: usize = 2000;
/// Lines scanned past the next report's header or the report's end marker (for the
/// stack-trace sanity checks).
const TAIL_LINES: usize = 50;
/// At most this many frames are kept per report.
const MAX_FRAMES: usize = 256;

/// `BUG: KMSAN:` headers keep fewer lines before a trailing panic is cut (searched once per
/// report).
static KMSAN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"BUG: KMSAN:"));

/// A report's lines, ready to be titled.
pub(crate) struct Collected<'s> {
    /// The group whose header starts the report.
    pub group: &'static Group,
    /// Collected text, one `\n`-terminated line each, console prefixes stripped.
    pub text: &'s str,
    /// The header line, console prefixes stripped, `\n`-terminated.
    pub header: &'s str,
    /// Length of the text that belongs to this report (the rest follows the next header).
    pub report_end: usize,
    /// 1-based line of the header.
    pub start_line: usize,
    /// 1-based last line of the report.
    pub end_line: usize,
    /// Frames found in the report.
    pub frames: Vec<Frame>,
}

/// Bytes of log kept in view past a report's header: a report's lines (at most
/// [`MAX_SCAN_LINES`]) are looked for in this window, so the memory a scan needs is bounded
/// whatever the log's size. Lines longer than the window are cut at its end.
const WINDOW: usize = 8 << 20;
/// Bytes asked from the reader at a time.
const CHUNK: usize = 1 << 20;

/// Walks a log from report to report, reading it as it goes and keeping only a bounded
/// window of it (the report being collected plus [`WINDOW`] bytes of lookahead).
pub(crate) struct Scanner<R> {
    reader: R,
    /// The part of the log in view.
    buf: Vec<u8>,
    /// The reader is exhausted: `buf` ends where the log ends.
    eof: bool,
    /// Where to look for the next header (a line start in `buf`).
    pos: usize,
    /// Newlines are counted up to here in `buf`...
    counted_to: usize,
    /// ... and this many were seen in the log before it.
    newlines: usize,
    /// The log holds a console hangup message.
    hangup: bool,
    /// `buf` was searched for the hangup message up to here.
    hangup_checked: usize,
    /// Facts of the lines of the current report window, kept for the next window.
    lines: LineCache,
    /// The text of the report being collected (kept to reuse its allocation).
    text: String,
    /// Its header line.
    header: String,
    /// Its frames.
    frames: Vec<Frame>,
}

impl<R: Read> Scanner<R> {
    /// Starts at the beginning of the log `reader` gives.
    pub fn new(reader: R) -> Self {
        Scanner {
            reader,
            buf: Vec::new(),
            eof: false,
            pos: 0,
            counted_to: 0,
            newlines: 0,
            hangup: false,
            hangup_checked: 0,
            lines: LineCache::new(),
            text: String::new(),
            header: String::new(),
            frames: Vec::new(),
        }
    }

    /// The next report, if any.
    pub fn next_report(&mut self) -> io::Result<Option<Collected<'_>>> {
        loop {
            self.fill()?;
            let log = &self.buf[..];
            // Headers are searched in whole lines only, unless a line fills the window.
            let search_end = match self.eof {
                true => log.len(),
                false => {
                    memchr::memrchr(b'\n', &log[self.pos..]).map_or(log.len(), |p| self.pos + p + 1)
                }
            };
            let Some(found) = self
                .lines
                .find_header(log, self.pos)
                .filter(|&at| at < search_end)
            else {
                if self.eof {
                    return Ok(None);
                }
                self.pos = search_end;
                continue;
            };
            let start = memchr::memrchr(b'\n', &log[self.pos..found])
                .map_or(self.pos, |p| self.pos + p + 1);
            if !self.eof && start + WINDOW > log.len() {
                // Not enough lookahead in view: read more and look again.
                self.pos = start;
                continue;
            }
            let line = line_from(log, start);
            self.pos = line.next;
            if let Some(group) = starts_report(log, &line) {
                return Ok(Some(self.collect(start, group)));
            }
        }
    }

    /// Reads the rest of the log (only to look for a console hangup).
    pub fn finish(&mut self) -> io::Result<()> {
        while !self.eof {
            self.pos = self.buf.len();
            self.fill()?;
        }
        Ok(())
    }

    /// The log holds a console hangup message (once read to the end).
    pub fn hangup(&self) -> bool {
        self.hangup
    }

    /// Drops the consumed part of the view, then reads until [`WINDOW`] bytes past `pos`
    /// are in view or the log ends.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos >= WINDOW || self.pos == self.buf.len() {
            let drop = self.pos;
            self.line_number(drop);
            self.buf.drain(..drop);
            self.lines.clear();
            self.pos = 0;
            self.counted_to = 0;
            self.hangup_checked -= drop.min(self.hangup_checked);
        }
        while !self.eof && self.buf.len() < self.pos + WINDOW {
            // Appends without zeroing the space first; stops short only at the end.
            let read = (&mut self.reader)
                .take(CHUNK as u64)
                .read_to_end(&mut self.buf)?;
            self.eof = read < CHUNK;
        }
        if !self.hangup {
            let from = self.hangup_checked.saturating_sub(CONSOLE_HANGUP.len() - 1);
            self.hangup = memchr::memmem::find(&self.buf[from..], CONSOLE_HANGUP).is_some();
        }
        self.hangup_checked = self.buf.len();
        Ok(())
    }

    /// 1-based number of the line starting at `at` in view (calls must not go backwards).
    fn line_number(&mut self, at: usize) -> usize {
        if at > self.counted_to {
            self.newlines += memchr::memchr_iter(b'\n', &self.buf[self.counted_to..at]).count();
            self.counted_to = at;
        }
        self.newlines + 1
    }

    /// Collects the report whose header line starts at `first`.
    fn collect(&mut self, first: usize, group: &'static Group) -> Collected<'_> {
        let start_line = self.line_number(first);
        let log = &self.buf[..];
        self.text.clear();
        self.header.clear();
        self.lines.start_at(first);
        let context = self.lines.line(log, 0, first).0.context.clone();
        let header = line_from(log, first).bytes;
        push_line(&mut self.header, &as_text(split_line(header).body), true);
        let min_lines = if KMSAN.find(header).is_some() { 16 } else { 22 };
        let mut state = State::default();
        let (mut report_end, mut end_line) = (0, start_line);
        let mut next = first;
        for (scanned, line_no) in (0..MAX_SCAN_LINES).zip(start_line..) {
            let is_first = scanned == 0;
            let (line, text) = self.lines.line(log, scanned, next);
            if !is_first && state.second.is_none() && line.ends_report {
                state.second = Some((line.start, scanned));
            }
            if state.end.is_none() && line.end_marker {
                state.end = Some(scanned);
            }
            let same_context = line.context.same(&context, log)
                || (state.cpu_traceback && line.context.is_cpu(log));
            let owned = state.second.is_none() || context.is_caller();
            if is_first || (same_context && !line.questionable) {
                state.text_lines += 1;
                if state.keep(line, min_lines) || is_first {
                    push_line(&mut self.text, text, line.has_escape);
                    if owned {
                        report_end = self.text.len();
                        end_line = line_no;
                    }
                    state.kept += 1;
                }
            }
            if same_context && owned && line.may_be_frame && self.frames.len() < MAX_FRAMES {
                if let Some(mut frame) = parse_frame(text) {
                    frame.reliable &= !line.questionable;
                    self.frames.push(frame);
                }
            }
            let past_next = state
                .second
                .map(|(_, at)| at)
                .or(state.end)
                .is_some_and(|at| scanned >= at + TAIL_LINES);
            let last = line.next >= log.len()
                || line.next == line.start
                || state.kept >= MAX_TEXT_LINES
                || past_next;
            next = line.next;
            if last {
                break;
            }
        }
        self.pos = state.second.map_or(next, |(start, _)| start).max(self.pos);
        Collected {
            group,
            text: &self.text,
            header: &self.header,
            report_end,
            start_line,
            end_line,
            // One allocation of the right size; the scratch vector keeps its capacity.
            frames: self.frames.drain(..).collect(),
        }
    }
}

/// The group of the report `line` starts, unless the header is a false positive or the
/// kernel replays the line right after.
fn starts_report(log: &[u8], line: &Line<'_>) -> Option<&'static Group> {
    let text = String::from_utf8_lossy(without_elapsed(line.bytes));
    let group = OOPSES.match_line(&text)?;
    if is_host_line(line.bytes) && !group.spec.weak && printk_times_near(log, line.start) {
        return None;
    }
    (!replayed_after(log, line)).then_some(group)
}

/// Per-report collection state.
#[derive(Default)]
struct State {
    /// Byte offset and scan index of the next report's header.
    second: Option<(usize, usize)>,
    /// Scan index of an end-of-report marker (`---[ end trace`, a ktest test marker).
    end: Option<usize>,
    /// Lines seen in the report's context.
    text_lines: usize,
    /// Lines kept in the text.
    kept: usize,
    /// All CPUs are being dumped: CPU-context lines belong to the report.
    cpu_traceback: bool,
    /// A trailing panic (or lockdep splat caused by the report) is being skipped.
    skip_rest: bool,
}

impl State {
    /// Whether to keep a line of the report's context.
    fn keep(&mut self, line: &LineFacts, min_lines: usize) -> bool {
        if line.taint {
            return false;
        }
        if line.nmi {
            self.cpu_traceback = true;
        } else if self.text_lines > min_lines && line.trailer {
            self.skip_rest = true;
        }
        !self.skip_rest
    }
}

/// In a ktest log (elapsed-seconds prefixes) the guest kernel's lines carry a printk
/// timestamp; a line without one is host or test-script output, which does not start a
/// kernel report (when the console prints timestamps at all: see [`printk_times_near`]).
fn is_host_line(line: &[u8]) -> bool {
    let split = split_line(line);
    split.elapsed.is_some() && split.context == Context::None
}

/// Bytes of log looked at on each side of a line for printk timestamps.
const TIMESTAMP_REACH: usize = 64 << 10;

/// Some line near byte `at` of `log` carries a printk timestamp: the console prints them,
/// so a line without one is not the kernel's. (With timestamps off, every line lacks one.)
fn printk_times_near(log: &[u8], at: usize) -> bool {
    let from = at.saturating_sub(TIMESTAMP_REACH);
    let to = (at + TIMESTAMP_REACH).min(log.len());
    log[from..to]
        .split(|&b| b == b'\n')
        .any(|line| split_line(line).context != Context::None)
}

/// Appends `line` to `text` without ANSI escapes (when it may hold some), and a newline.
fn push_line(text: &mut String, line: &str, may_have_escapes: bool) {
    match may_have_escapes {
        true => text.push_str(&strip_ansi(line)),
        false => text.push_str(line),
    }
    text.push('\n');
}

/// `bytes` as text, replacing invalid UTF-8 (the check alone is much cheaper than the
/// lossy conversion, and almost every line is valid).
fn as_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}
