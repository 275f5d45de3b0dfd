//! What each console line is, for report collection: its printk context, its text without
//! console prefixes or unreliable-frame markers, the markers it holds and whether it
//! starts another report.
//!
//! None of this depends on the report being collected, and report windows overlap (a
//! window runs past the next report's header, where the next window starts), so
//! [`LineCache`] works it out once per line and keeps it while windows overlap.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;

use crate::clean::{split_line, Context};

use super::hits::{self, Hits};
use super::oops::{INFO_WITH_STACK, OOPSES};

/// One line of the log.
pub(super) struct Line<'a> {
    /// Offset of its first byte.
    pub start: usize,
    /// Offset of the next line (past the `\n`).
    pub next: usize,
    /// The line without its `\n`.
    pub bytes: &'a [u8],
}

/// The line of `log` starting at byte `start`.
pub(super) fn line_from(log: &[u8], start: usize) -> Line<'_> {
    let end = memchr::memchr(b'\n', &log[start..]).map_or(log.len(), |p| start + p);
    Line { start, next: (end + 1).min(log.len()).max(end), bytes: &log[start..end] }
}

/// The kernel replays `line` right after it (so the line does not start a report).
pub(super) fn replayed_after(log: &[u8], line: &Line<'_>) -> bool {
    static REPLAY: LazyLock<Finder<'static>> =
        LazyLock::new(|| Finder::new(b"** replaying previous printk message **"));
    if line.next >= log.len() {
        return false;
    }
    REPLAY.find(line_from(log, line.next).bytes).is_some()
}

/// Drops ktest's elapsed field and a trailing CR.
pub(super) fn without_elapsed(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line.get(..6) {
        Some(head) if head[5] == b' ' && head[..5].iter().all(u8::is_ascii_digit) => &line[6..],
        _ => line,
    }
}

/// Literals that change how a report's lines are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// A non-crash message with a stack ([`INFO_WITH_STACK`]): it cuts the report.
    InfoWithStack,
    /// `---[ end trace` and ktest's `========= ` test markers end a report.
    End,
    /// Lines after the taint notice are not part of the report.
    Taint,
    /// All CPUs are being dumped.
    Nmi,
    /// A trailing panic or lockdep splat caused by the report.
    Trailer,
    /// Frames after `<EOI>` are reliable even when marked `?`.
    Eoi,
}

/// Every [`Marker`] literal, in [`MARKER_AUTOMATON`]'s order. None is a prefix of another
/// (see [`Hits`]).
static MARKERS: LazyLock<Vec<(&str, Marker)>> = LazyLock::new(|| {
    let mut markers: Vec<(&str, Marker)> = INFO_WITH_STACK.iter().map(|l| (*l, Marker::InfoWithStack)).collect();
    markers.extend([
        ("---[ end ", Marker::End),
        ("========= ", Marker::End),
        ("Disabling lock debugging due to kernel taint", Marker::Taint),
        ("Sending NMI from CPU", Marker::Nmi),
        ("Kernel panic - not syncing", Marker::Trailer),
        ("WARNING: possible circular locking dependency detected", Marker::Trailer),
        ("<EOI>", Marker::Eoi),
    ]);
    markers
});

static MARKER_AUTOMATON: LazyLock<AhoCorasick> =
    LazyLock::new(|| hits::automaton(MARKERS.iter().map(|(literal, _)| literal)));

/// A line's printk context, by position in the log (see [`Context`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LineContext {
    /// No printk timestamp.
    None,
    /// A printk timestamp without a caller id.
    Console,
    /// A printk timestamp with a caller id: where the id is in the log.
    Caller(Range<usize>),
}

impl LineContext {
    fn of(context: Context<'_>, log: &[u8]) -> Self {
        match context {
            Context::None => LineContext::None,
            Context::Console => LineContext::Console,
            // The id is a subslice of `log`.
            Context::Caller(id) => {
                let start = id.as_ptr() as usize - log.as_ptr() as usize;
                LineContext::Caller(start..start + id.len())
            }
        }
    }

    /// Both lines were printed by the same context.
    pub fn same(&self, other: &LineContext, log: &[u8]) -> bool {
        match (self, other) {
            (LineContext::Caller(a), LineContext::Caller(b)) => log[a.clone()] == log[b.clone()],
            _ => self == other,
        }
    }

    /// A `[C<n>]` (CPU, interrupt) caller id.
    pub fn is_cpu(&self, log: &[u8]) -> bool {
        matches!(self, LineContext::Caller(id) if log.get(id.start) == Some(&b'C'))
    }

    /// A `[T<n>]` or `[C<n>]` caller id.
    pub fn is_caller(&self) -> bool {
        matches!(self, LineContext::Caller(_))
    }
}

/// What one line is, for report collection.
#[derive(Debug, Clone)]
pub(super) struct LineFacts {
    /// Offset of the line.
    pub start: usize,
    /// Offset of the next line.
    pub next: usize,
    pub context: LineContext,
    /// The text after the console prefixes and an unreliable-frame marker.
    pub text: Range<usize>,
    /// The line is an unreliable (`? func` or `(unreliable)`) frame.
    pub questionable: bool,
    /// The line starts another report that ends the current one, or is a non-crash message
    /// with a stack, which cuts it as well.
    pub ends_report: bool,
    /// `---[ end trace` or a ktest test marker.
    pub end_marker: bool,
    /// The taint notice.
    pub taint: bool,
    /// `Sending NMI from CPU`.
    pub nmi: bool,
    /// A panic or lockdep splat that may trail a report.
    pub trailer: bool,
}

/// The facts of a run of consecutive lines, from the first line of the report being
/// collected to the last line looked at.
pub(super) struct LineCache {
    facts: VecDeque<LineFacts>,
    markers: Hits<'static>,
    /// Position of the first report-header literal at or after the last line looked at
    /// (`usize::MAX` when there is none), once searched.
    next_header: Option<usize>,
}

impl LineCache {
    pub fn new() -> Self {
        LineCache { facts: VecDeque::new(), markers: Hits::new(&MARKER_AUTOMATON, 0), next_header: None }
    }

    /// Forgets everything (the log was moved in memory).
    pub fn clear(&mut self) {
        *self = LineCache::new();
    }

    /// Starts a report at the line at offset `first`: lines before it are dropped. Reports
    /// must start in log order.
    pub fn start_at(&mut self, first: usize) {
        match self.facts.binary_search_by_key(&first, |facts| facts.start) {
            Ok(idx) => drop(self.facts.drain(..idx)),
            Err(_) => self.facts.clear(),
        }
    }

    /// The facts of the `idx`-th line of the report, which starts at offset `start` (lines
    /// must be asked for in order).
    pub fn line(&mut self, log: &[u8], idx: usize, start: usize) -> &LineFacts {
        if idx == self.facts.len() {
            let facts = self.facts_of(log, &line_from(log, start));
            self.facts.push_back(facts);
        }
        &self.facts[idx]
    }

    fn facts_of(&mut self, log: &[u8], line: &Line<'_>) -> LineFacts {
        let split = split_line(line.bytes);
        // `split.body` is a subslice of `line.bytes`.
        let body_start = line.start + (split.body.as_ptr() as usize - line.bytes.as_ptr() as usize);
        let mut facts = LineFacts {
            start: line.start,
            next: line.next,
            context: LineContext::of(split.context, log),
            text: body_start..body_start + split.body.len(),
            questionable: false,
            ends_report: false,
            end_marker: false,
            taint: false,
            nmi: false,
            trailer: false,
        };
        let mut info_with_stack = false;
        let mut eoi_in_body = false;
        while let Some(hit) = self.markers.next_in(log, line.start, line.start + line.bytes.len()) {
            match MARKERS[hit.literal].1 {
                Marker::InfoWithStack => info_with_stack = true,
                Marker::End => facts.end_marker = true,
                Marker::Taint => facts.taint = true,
                Marker::Nmi => facts.nmi = true,
                Marker::Trailer => facts.trailer = true,
                Marker::Eoi => eoi_in_body |= hit.at >= body_start,
            }
        }
        if split.context != Context::None && !eoi_in_body {
            if let Some(cut) = questionable_cut(split.body) {
                facts.text = body_start + cut..body_start + split.body.len();
                facts.questionable = true;
            } else if split.body.ends_with(UNRELIABLE) {
                facts.text.end -= UNRELIABLE.len();
                facts.questionable = true;
            }
        }
        facts.ends_report = self.starts_other_report(log, line).unwrap_or(info_with_stack);
        facts
    }

    /// Whether a report header in `line` ends the report it appears in; `None` when the
    /// line holds no (real) header.
    fn starts_other_report(&mut self, log: &[u8], line: &Line<'_>) -> Option<bool> {
        if self.next_header.is_none_or(|at| at < line.start) {
            self.next_header = Some(OOPSES.headers.find_at(log, line.start).map_or(usize::MAX, |m| m.start()));
        }
        if self.next_header.is_none_or(|at| at >= line.next) {
            return None;
        }
        let text = String::from_utf8_lossy(without_elapsed(line.bytes));
        (OOPSES.match_line(&text).is_some() && !replayed_after(log, line)).then(|| OOPSES.ends_report(&text))
    }
}

/// powerpc's unreliable-frame suffix.
const UNRELIABLE: &[u8] = b" (unreliable)";

/// With a printk context, a `? func` frame (x86) is unreliable: where its text starts after
/// the first ` ? ` (found through its rare `?`).
fn questionable_cut(body: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'?', body)
        .find(|&pos| pos > 0 && body[pos - 1] == b' ' && body.get(pos + 1) == Some(&b' '))
        .map(|pos| pos + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(log: &str) -> Vec<LineFacts> {
        let log = log.as_bytes();
        let mut cache = LineCache::new();
        let mut out = Vec::new();
        let mut start = 0;
        while start < log.len() {
            let facts = cache.line(log, out.len(), start).clone();
            start = facts.next;
            out.push(facts);
        }
        out
    }

    #[test]
    fn questionable_frames() {
        let log = "[ 1.0]  ? foo+0x1/0x2\n[ 1.0] bar+0x1/0x2 (unreliable)\n ? baz+0x1/0x2\n[ 1.0] <EOI> ? x+0x1/0x2\n";
        let lines = facts(log);
        let text = |i: usize| &log[lines[i].text.clone()];
        assert_eq!((text(0), lines[0].questionable), (" foo+0x1/0x2", true));
        assert_eq!((text(1), lines[1].questionable), ("bar+0x1/0x2", true));
        assert_eq!((text(2), lines[2].questionable), (" ? baz+0x1/0x2", false), "no printk context");
        assert!(!lines[3].questionable, "after <EOI>");
    }

    #[test]
    fn markers_and_headers() {
        let log = "[ 1.0] ---[ end trace 0 ]---\n[ 2.0] WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2\n\
                   [ 3.0] Kernel panic - not syncing: x\n[ 4.0] vmalloc: allocation failure: x\n";
        let lines = facts(log);
        assert!(lines[0].end_marker && !lines[0].ends_report);
        assert!(lines[1].ends_report);
        assert!(lines[2].trailer && !lines[2].ends_report, "a panic does not end the report it follows");
        assert!(lines[3].ends_report, "a message with a stack cuts the report");
    }

    #[test]
    fn contexts() {
        let log = b"[ 1.0][ T12] a\n[ 1.0][ T12] b\n[ 1.0][  C1] c\n";
        let mut cache = LineCache::new();
        let a = cache.line(log, 0, 0).clone();
        let b = cache.line(log, 1, a.next).clone();
        let c = cache.line(log, 2, b.next).clone();
        assert!(a.context.same(&b.context, log));
        assert!(!a.context.same(&c.context, log));
        assert!(c.context.is_cpu(log) && !a.context.is_cpu(log));
        cache.start_at(b.start);
        assert_eq!(cache.line(log, 0, b.start).start, b.start, "kept from the earlier report");
    }
}
