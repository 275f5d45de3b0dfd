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
use super::oops::{Group, INFO_WITH_STACK, OOPSES};
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

/// Literal searches done on every line of a report window, built once.
struct Needles {
    replay: Finder<'static>,
    kmsan: Finder<'static>,
    info_with_stack: Vec<Finder<'static>>,
    taint: Finder<'static>,
    nmi: Finder<'static>,
    panic: Finder<'static>,
    circular: Finder<'static>,
    eoi: Finder<'static>,
    questionable: Finder<'static>,
    offset: Finder<'static>,
    end_trace: Finder<'static>,
    test_marker: Finder<'static>,
}

static NEEDLES: LazyLock<Needles> = LazyLock::new(|| Needles {
    replay: Finder::new(b"** replaying previous printk message **"),
    kmsan: Finder::new(b"BUG: KMSAN:"),
    info_with_stack: INFO_WITH_STACK.iter().map(|m| Finder::new(m.as_bytes())).collect(),
    taint: Finder::new(b"Disabling lock debugging due to kernel taint"),
    nmi: Finder::new(b"Sending NMI from CPU"),
    panic: Finder::new(b"Kernel panic - not syncing"),
    circular: Finder::new(b"WARNING: possible circular locking dependency detected"),
    eoi: Finder::new(b"<EOI>"),
    questionable: Finder::new(b" ? "),
    offset: Finder::new(b"+0x"),
    end_trace: Finder::new(b"---[ end "),
    test_marker: Finder::new(b"========= "),
});

/// A report's lines, ready to be titled.
pub(crate) struct Collected {
    /// The group whose header starts the report.
    pub group: &'static Group,
    /// Collected text, one `\n`-terminated line each, console prefixes stripped.
    pub text: String,
    /// The header line, console prefixes stripped, `\n`-terminated.
    pub header: String,
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
}

/// One line of the log.
struct Line<'a> {
    start: usize,
    next: usize,
    bytes: &'a [u8],
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
        }
    }

    /// The next report, if any.
    pub fn next_report(&mut self) -> io::Result<Option<Collected>> {
        loop {
            self.fill()?;
            let log = &self.buf[..];
            // Headers are searched in whole lines only, unless a line fills the window.
            let search_end = match self.eof {
                true => log.len(),
                false => memchr::memrchr(b'\n', &log[self.pos..]).map_or(log.len(), |p| self.pos + p + 1),
            };
            let Some(found) = OOPSES.headers.find_at(&log[..search_end], self.pos) else {
                if self.eof {
                    return Ok(None);
                }
                self.pos = search_end;
                continue;
            };
            let start = memchr::memrchr(b'\n', &log[self.pos..found.start()]).map_or(self.pos, |p| self.pos + p + 1);
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
            self.pos = 0;
            self.counted_to = 0;
            self.hangup_checked -= drop.min(self.hangup_checked);
        }
        while !self.eof && self.buf.len() < self.pos + WINDOW {
            let len = self.buf.len();
            self.buf.resize(len + CHUNK, 0);
            let read = loop {
                match self.reader.read(&mut self.buf[len..]) {
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let read = read.inspect_err(|_| self.buf.truncate(len))?;
            self.buf.truncate(len + read);
            self.eof = read == 0;
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
    fn collect(&mut self, first: usize, group: &'static Group) -> Collected {
        let start_line = self.line_number(first);
        let log = &self.buf[..];
        let first = line_from(log, first);
        let context = split_line(first.bytes).context;
        let min_lines = if NEEDLES.kmsan.find(first.bytes).is_some() { 16 } else { 22 };
        let mut out = Collected {
            group,
            text: String::new(),
            header: String::new(),
            report_end: 0,
            start_line,
            end_line: start_line,
            frames: Vec::new(),
        };
        let mut state = State::default();
        push_line(&mut out.header, split_line(first.bytes).body);
        let mut next_header = Some(first.start);
        let mut line = first;
        for (scanned, line_no) in (0..MAX_SCAN_LINES).zip(start_line..) {
            let is_first = scanned == 0;
            let split = split_line(line.bytes);
            let (stripped, questionable) = strip_questionable(split.context, split.body);
            if !is_first && state.second.is_none() && ends_report(log, &line, &mut next_header) {
                state.second = Some((line.start, scanned));
            }
            if state.end.is_none()
                && (NEEDLES.end_trace.find(line.bytes).is_some() || NEEDLES.test_marker.find(line.bytes).is_some())
            {
                state.end = Some(scanned);
            }
            let same_context = split.context == context
                || (state.cpu_traceback && split.context.is_cpu());
            let owned = state.second.is_none() || matches!(context, Context::Caller(_));
            if is_first || (same_context && !questionable) {
                state.text_lines += 1;
                if state.keep(line.bytes, min_lines) || is_first {
                    push_line(&mut out.text, stripped);
                    if owned {
                        out.report_end = out.text.len();
                        out.end_line = line_no;
                    }
                    state.kept += 1;
                }
            }
            if same_context && owned && out.frames.len() < MAX_FRAMES {
                if let Some(frame) = frame_of(stripped, questionable) {
                    out.frames.push(frame);
                }
            }
            let past_next = state.second.map(|(_, at)| at).or(state.end).is_some_and(|at| scanned >= at + TAIL_LINES);
            if line.next >= log.len() || line.next == line.start || state.kept >= MAX_TEXT_LINES || past_next {
                break;
            }
            line = line_from(log, line.next);
        }
        self.pos = state.second.map_or(line.next, |(start, _)| start).max(self.pos);
        out
    }
}

/// The line of `log` starting at byte `start`.
fn line_from(log: &[u8], start: usize) -> Line<'_> {
    let end = memchr::memchr(b'\n', &log[start..]).map_or(log.len(), |p| start + p);
    Line { start, next: (end + 1).min(log.len()).max(end), bytes: &log[start..end] }
}

/// The group of the report `line` starts, unless the header is a false positive or the
/// kernel replays the line right after.
fn starts_report(log: &[u8], line: &Line<'_>) -> Option<&'static Group> {
    let text = String::from_utf8_lossy(without_elapsed(line.bytes));
    let group = OOPSES.match_line(&text)?;
    if is_host_line(line.bytes) && !group.spec.weak {
        return None;
    }
    (!replayed_after(log, line)).then_some(group)
}

fn replayed_after(log: &[u8], line: &Line<'_>) -> bool {
    if line.next >= log.len() {
        return false;
    }
    let next = line_from(log, line.next);
    NEEDLES.replay.find(next.bytes).is_some()
}

/// `line` starts another report that ends the current one (or is a non-crash message
/// with a stack, which cuts it as well).
fn ends_report(log: &[u8], line: &Line<'_>, next_header: &mut Option<usize>) -> bool {
    let bytes = without_elapsed(line.bytes);
    if next_header.is_some_and(|at| at < line.start) {
        *next_header = OOPSES.headers.find_at(log, line.start).map(|m| m.start());
    }
    if next_header.is_some_and(|at| at < line.next) {
        let text = String::from_utf8_lossy(bytes);
        if OOPSES.match_line(&text).is_some() && !replayed_after(log, line) {
            return OOPSES.ends_report(&text);
        }
    }
    NEEDLES.info_with_stack.iter().any(|f| f.find(bytes).is_some())
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
    fn keep(&mut self, line: &[u8], min_lines: usize) -> bool {
        let n = &*NEEDLES;
        if n.taint.find(line).is_some() {
            return false;
        }
        if n.nmi.find(line).is_some() {
            self.cpu_traceback = true;
        } else if self.text_lines > min_lines
            && (n.panic.find(line).is_some() || n.circular.find(line).is_some())
        {
            self.skip_rest = true;
        }
        !self.skip_rest
    }
}

/// In a ktest log (elapsed-seconds prefixes) the guest kernel's lines carry a printk
/// timestamp; a line without one is host or test-script output, which does not start a
/// kernel report.
fn is_host_line(line: &[u8]) -> bool {
    let split = split_line(line);
    split.elapsed.is_some() && split.context == Context::None
}

/// Drops ktest's elapsed field and a trailing CR.
fn without_elapsed(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line.get(..6) {
        Some(head) if head[5] == b' ' && head[..5].iter().all(u8::is_ascii_digit) => &line[6..],
        _ => line,
    }
}

/// With a printk context, `? func` frames (x86) and `(unreliable)` frames (powerpc) are
/// unreliable; returns the line without the marker and whether it was unreliable.
fn strip_questionable<'b>(context: Context<'_>, body: &'b [u8]) -> (&'b [u8], bool) {
    if context == Context::None || NEEDLES.eoi.find(body).is_some() {
        return (body, false);
    }
    if let Some(pos) = NEEDLES.questionable.find(body) {
        return (&body[pos + 2..], true);
    }
    match body.strip_suffix(b" (unreliable)") {
        Some(rest) => (rest, true),
        None => (body, false),
    }
}

fn push_line(text: &mut String, line: &[u8]) {
    let line = String::from_utf8_lossy(line);
    text.push_str(&strip_ansi(&line));
    text.push('\n');
}

fn frame_of(line: &[u8], questionable: bool) -> Option<Frame> {
    NEEDLES.offset.find(line)?;
    let text: Cow<'_, str> = String::from_utf8_lossy(line);
    let mut frame = parse_frame(&text)?;
    frame.reliable &= !questionable;
    Some(frame)
}
