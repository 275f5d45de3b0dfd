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
    Line {
        start,
        next: (end + 1).min(log.len()).max(end),
        bytes: &log[start..end],
    }
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
    let mut markers: Vec<(&str, Marker)> = INFO_WITH_STACK
        .iter()
        .map(|l| (*l, Marker::InfoWithStack))
        .collect();
    markers.extend([
        ("---[ end ", Marker::End),
        ("========= ", Marker::End),
        (
            "Disabling lock debugging due to kernel taint",
            Marker::Taint,
        ),
        ("Sending NMI from CPU", Marker::Nmi),
        ("Kernel panic - not syncing", Marker::Trailer),
        (
            "WARNING: possible circular locking dependency detected",
            Marker::Trailer,
        ),
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
    /// The text after the console prefixes and an unreliable-frame marker (invalid UTF-8
    /// replaced), in [`LineCache`]'s text.
    text: Range<usize>,
    /// The text holds an ANSI escape.
    pub has_escape: bool,
    /// The text holds `+0x` (every frame does).
    pub may_be_frame: bool,
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
    /// The lines' texts, one after the other (each checked for UTF-8 once).
    text: String,
    /// Where `text` starts in the stream of all texts ever added (the positions in
    /// [`LineFacts::text`]).
    text_start: usize,
    markers: Hits<'static>,
    /// `(from, at)`: the first report-header literal at or after line start `from` is at
    /// `at` (`usize::MAX` when there is none), once searched.
    header: Option<(usize, usize)>,
}

impl LineCache {
    pub fn new() -> Self {
        LineCache {
            facts: VecDeque::new(),
            text: String::new(),
            text_start: 0,
            markers: Hits::new(&MARKER_AUTOMATON, 0),
            header: None,
        }
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
        let kept_from = self
            .facts
            .front()
            .map_or(self.text_start + self.text.len(), |facts| facts.text.start);
        self.text.drain(..kept_from - self.text_start);
        self.text_start = kept_from;
    }

    /// The facts and the text of the `idx`-th line of the report, which starts at offset
    /// `start` (lines must be asked for in order).
    pub fn line(&mut self, log: &[u8], idx: usize, start: usize) -> (&LineFacts, &str) {
        if idx == self.facts.len() {
            let facts = self.facts_of(log, &line_from(log, start));
            self.facts.push_back(facts);
        }
        let facts = &self.facts[idx];
        (
            facts,
            &self.text[facts.text.start - self.text_start..facts.text.end - self.text_start],
        )
    }

    fn facts_of(&mut self, log: &[u8], line: &Line<'_>) -> LineFacts {
        let split = split_line(line.bytes);
        // `split.body` is a subslice of `line.bytes`.
        let body_start = line.start + (split.body.as_ptr() as usize - line.bytes.as_ptr() as usize);
        let mut facts = LineFacts {
            start: line.start,
            next: line.next,
            context: LineContext::of(split.context, log),
            text: 0..0,
            has_escape: false,
            may_be_frame: false,
            questionable: false,
            ends_report: false,
            end_marker: false,
            taint: false,
            nmi: false,
            trailer: false,
        };
        let mut info_with_stack = false;
        let mut eoi_in_body = false;
        while let Some(hit) = self
            .markers
            .next_in(log, line.start, line.start + line.bytes.len())
        {
            match MARKERS[hit.literal].1 {
                Marker::InfoWithStack => info_with_stack = true,
                Marker::End => facts.end_marker = true,
                Marker::Taint => facts.taint = true,
                Marker::Nmi => facts.nmi = true,
                Marker::Trailer => facts.trailer = true,
                Marker::Eoi => eoi_in_body |= hit.at >= body_start,
            }
        }
        let mut text = split.body;
        if split.context != Context::None && !eoi_in_body {
            if let Some(cut) = questionable_cut(text) {
                text = &text[cut..];
                facts.questionable = true;
            } else if let Some(rest) = text.strip_suffix(UNRELIABLE) {
                text = rest;
                facts.questionable = true;
            }
        }
        facts.has_escape = memchr::memchr(0x1b, text).is_some();
        facts.may_be_frame =
            memchr::memchr_iter(b'+', text).any(|pos| text[pos + 1..].starts_with(b"0x"));
        facts.text = self.add_text(text);
        facts.ends_report = self
            .starts_other_report(log, line)
            .unwrap_or(info_with_stack);
        facts
    }

    /// Adds `bytes` (invalid UTF-8 replaced) to the texts; returns its stream position.
    fn add_text(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.text.len();
        match std::str::from_utf8(bytes) {
            Ok(text) => self.text.push_str(text),
            Err(_) => self.text.push_str(&String::from_utf8_lossy(bytes)),
        }
        self.text_start + start..self.text_start + self.text.len()
    }

    /// Start of the first report-header literal at or after line start `from`. Lines are
    /// looked at (and reports looked for) mostly forward, so the last answer usually
    /// answers the next question too, and a stretch between reports is searched once.
    pub fn find_header(&mut self, log: &[u8], from: usize) -> Option<usize> {
        let at = match self.header {
            Some((searched, at)) if searched <= from && from <= at => at,
            // No literal spans the line start `searched`.
            Some((searched, at)) if from < searched => {
                OOPSES.find_header(&log[..searched], from).unwrap_or(at)
            }
            _ => OOPSES.find_header(log, from).unwrap_or(usize::MAX),
        };
        self.header = Some((from, at));
        (at != usize::MAX).then_some(at)
    }

    /// Whether a report header in `line` ends the report it appears in; `None` when the
    /// line holds no (real) header.
    fn starts_other_report(&mut self, log: &[u8], line: &Line<'_>) -> Option<bool> {
        if self
            .find_header(log, line.start)
            .is_none_or(|at| at >= line.next)
        {
            return None;
        }
        let text = String::from_utf8_lossy(without_elapsed(line.bytes));
        (OOPSES.match_line(&text).is_some() && !replayed_after(log, line))
            .then(|| OOPSES.ends_report(&text))
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

    /// The facts and text of every line of `log`.
    fn facts(log: &[u8]) -> Vec<(LineFacts, String)> {
        let mut cache = LineCache::new();
        let mut out = Vec::new();
        let mut start = 0;
        while start < log.len() {
            let (facts, text) = cache.line(log, out.len(), start);
            start = facts.next;
            out.push((facts.clone(), text.to_owned()));
        }
        out
    }

    #[test]
    fn questionable_frames() {
        let log = "[ 1.0]  ? foo+0x1/0x2\n[ 1.0] bar+0x1/0x2 (unreliable)\n ? baz+0x1/0x2\n[ 1.0] <EOI> ? x+0x1/0x2\n";
        let lines = facts(log.as_bytes());
        let line = |i: usize| (lines[i].1.as_str(), lines[i].0.questionable);
        assert_eq!(line(0), (" foo+0x1/0x2", true));
        assert_eq!(line(1), ("bar+0x1/0x2", true));
        assert_eq!(line(2), (" ? baz+0x1/0x2", false), "no printk context");
        assert!(!lines[3].0.questionable, "after <EOI>");
        assert!(lines
            .iter()
            .all(|(facts, _)| facts.may_be_frame && !facts.has_escape));
    }

    #[test]
    fn markers_and_headers() {
        let log =
            "[ 1.0] ---[ end trace 0 ]---\n[ 2.0] WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2\n\
                   [ 3.0] Kernel panic - not syncing: x\n[ 4.0] vmalloc: allocation failure: x\n";
        let lines: Vec<LineFacts> = facts(log.as_bytes())
            .into_iter()
            .map(|(facts, _)| facts)
            .collect();
        assert!(lines[0].end_marker && !lines[0].ends_report);
        assert!(lines[1].ends_report);
        assert!(
            lines[2].trailer && !lines[2].ends_report,
            "a panic does not end the report it follows"
        );
        assert!(
            lines[3].ends_report,
            "a message with a stack cuts the report"
        );
    }

    #[test]
    fn contexts() {
        let log = b"[ 1.0][ T12] a\n[ 1.0][ T12] b\n[ 1.0][  C1] \x1b[1mc\xff\n";
        let lines = facts(log);
        let (a, b, c) = (&lines[0].0, &lines[1].0, &lines[2].0);
        assert!(a.context.same(&b.context, log));
        assert!(!a.context.same(&c.context, log));
        assert!(c.context.is_cpu(log) && !a.context.is_cpu(log));
        assert!(c.has_escape);
        let mut cache = LineCache::new();
        cache.line(log, 0, 0);
        cache.line(log, 1, b.start);
        cache.start_at(b.start);
        let (kept, text) = cache.line(log, 0, b.start);
        assert_eq!(
            (kept.start, text),
            (b.start, "b"),
            "kept from the earlier report"
        );
        assert_eq!(cache.line(log, 1, c.start).1, "\x1b[1mc\u{fffd}");
    }
}
