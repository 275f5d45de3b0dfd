//! The compiled report table: finding report-starting lines, and describing a report
//! (title, corruption) from its text.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, Input};
use regex::{Regex, RegexSet};

use super::demangle::demangle;
use super::frames::{self, any_of, StackLines, RULES};
use super::hits;
use super::pattern::{compile, compile_set, render};
use super::table::{FormatSpec, GroupSpec, Pick, StackSpec, GROUPS};

/// One step of frame extraction.
enum Part {
    /// Parse a stack trace from here.
    Trace,
    /// Find the next line matching this; its captures are frames.
    Line(Regex),
}

/// Compiled [`StackSpec`].
struct Stack {
    parts: Vec<Part>,
    parts2: Vec<Part>,
    skip: Option<Regex>,
    pick: Pick,
}

/// Compiled [`FormatSpec`].
pub(crate) struct Format {
    spec: &'static FormatSpec,
    title: Regex,
    /// The title pattern can match across lines.
    multiline: bool,
    report: Option<Regex>,
    stack: Option<Stack>,
}

/// Compiled [`GroupSpec`].
pub(crate) struct Group {
    /// The table row.
    pub spec: &'static GroupSpec,
    formats: Vec<Format>,
    /// Every format's title pattern, to learn in one search which match a header line.
    titles: RegexSet,
    suppress: Option<Regex>,
}

/// The whole compiled table.
pub(crate) struct Oopses {
    /// Groups in priority order.
    pub groups: Vec<Group>,
    /// Any header literal: the per-line fast path.
    headers: AhoCorasick,
    /// Frames never blamed.
    generic: Regex,
    /// Lines that may sit inside another report without starting a new one.
    start_ignores: Regex,
}

/// Non-crash messages that carry a stack: a report interrupted by one is cut there.
pub(crate) const INFO_WITH_STACK: &[&str] = &[
    "vmalloc: allocation failure:",
    "FAULT_INJECTION: forcing a failure",
    "FAULT_FLAG_ALLOW_RETRY missing",
];

/// Headers that do not end the report they appear in.
const START_IGNORES: &[&str] = &[
    "invalid opcode: 0000",
    "Kernel panic - not syncing",
    "unregister_netdevice: waiting for",
    "PANIC: double fault",
    "Internal error:",
];

/// The compiled table.
pub(crate) static OOPSES: LazyLock<Oopses> = LazyLock::new(|| Oopses {
    groups: GROUPS.iter().map(compile_group).collect(),
    headers: hits::automaton(GROUPS.iter().map(|g| g.header)),
    generic: compile(&any_of(frames::GENERIC_FRAMES)),
    start_ignores: compile(&any_of(START_IGNORES)),
});

fn compile_group(spec: &'static GroupSpec) -> Group {
    Group {
        spec,
        formats: spec.formats.iter().map(compile_format).collect(),
        titles: compile_set(spec.formats.iter().map(|format| format.title)),
        suppress: (!spec.suppress.is_empty()).then(|| compile(&any_of(spec.suppress))),
    }
}

fn compile_format(spec: &'static FormatSpec) -> Format {
    Format {
        spec,
        title: compile(spec.title),
        multiline: ["\\n", "\\s", "[[:space:]]", "{{TASK}}"]
            .iter()
            .any(|m| spec.title.contains(m)),
        report: spec.report.map(compile),
        stack: spec.stack.as_ref().map(compile_stack),
    }
}

fn compile_stack(spec: &StackSpec) -> Stack {
    let parts = |list: &[&str]| {
        list.iter()
            .map(|p| {
                if *p == "TRACE" {
                    Part::Trace
                } else {
                    Part::Line(compile(p))
                }
            })
            .collect()
    };
    Stack {
        parts: parts(spec.parts),
        parts2: parts(spec.parts2),
        skip: (!spec.skip.is_empty()).then(|| compile(&any_of(spec.skip))),
        pick: spec.pick,
    }
}

impl Oopses {
    /// Start of the first header literal in `log[from..]`.
    pub fn find_header(&self, log: &[u8], from: usize) -> Option<usize> {
        self.headers
            .find(Input::new(log).span(from..log.len()))
            .map(|m| m.start())
    }

    /// The group whose report `line` starts, if any.
    pub fn match_line(&self, line: &str) -> Option<&Group> {
        self.groups.iter().find(|g| {
            line.contains(g.spec.header) && !g.suppress.as_ref().is_some_and(|s| s.is_match(line))
        })
    }

    /// `line` starts a report and that report ends the current one.
    pub fn ends_report(&self, line: &str) -> bool {
        !self.start_ignores.is_match(line)
    }

    /// The function is too generic to blame.
    pub fn is_generic(&self, function: &str) -> bool {
        self.generic.is_match(function)
    }
}

/// What [`describe`] found.
pub(crate) struct Description<'t> {
    /// Raw title (before normalisation).
    pub title: String,
    /// The report is corrupted by the format's own judgement.
    pub corrupted: bool,
    /// The format that gave the title, when one did.
    pub format: Option<&'t Format>,
}

impl Format {
    /// The format never has a stack trace.
    pub fn no_stack_trace(&self) -> bool {
        self.spec.no_stack_trace
    }

    /// The title is kept as rendered, without dynamic-part normalisation.
    pub fn verbatim(&self) -> bool {
        self.spec.verbatim
    }
}

/// Titles a report: among the group's formats, the one whose title pattern matches
/// earliest in `text` (ties: table order) and whose report pattern matches.
pub(crate) fn describe<'t>(oopses: &Oopses, group: &'t Group, text: &str) -> Description<'t> {
    let mut start = text.len();
    let mut found: Option<(String, bool, &Format)> = None;
    let mut matched_title = false;
    // A title match on the header line beats any later one, so when one exists the
    // single-line title patterns need not look past that line.
    let header = &text[..text.find('\n').map_or(text.len(), |p| p + 1)];
    let on_header = group.titles.matches(header);
    for (format_idx, format) in group.formats.iter().enumerate() {
        let header_only = on_header.matched_any() && !format.multiline;
        if header_only && !on_header.matched(format_idx) {
            continue;
        }
        let hay = if header_only { header } else { text };
        let Some(m) = format.title.find(hay) else {
            continue;
        };
        if m.start() > start || (m.start() == start && found.is_some()) {
            continue;
        }
        if m.start() < start {
            found = None;
            start = m.start();
        }
        matched_title = true;
        let caps = match &format.report {
            Some(report) => report.captures(text),
            None => format.title.captures(hay),
        };
        let Some(caps) = caps else { continue };
        let mut args: Vec<String> = caps
            .iter()
            .skip(1)
            .map(|c| c.map_or_else(String::new, |m| m.as_str().to_owned()))
            .collect();
        let mut corrupted = false;
        if let Some(stack) = &format.stack {
            let offset = caps.get(0).map_or(0, |m| m.start());
            let (frames, ok) = extract_frames(oopses, stack, &text[offset..]);
            corrupted = !ok;
            args.extend(frames);
        }
        found = Some((render(format.spec.fmt, &args), corrupted, format));
    }
    match found {
        Some((title, corrupted, format)) => Description {
            title,
            corrupted: corrupted || format.spec.corrupted,
            format: Some(format),
        },
        None => Description {
            title: header_line(text, group.spec.header),
            corrupted: matched_title,
            format: None,
        },
    }
}

/// The text from the header to the end of its line.
fn header_line(text: &str, header: &str) -> String {
    let from = text.find(header).map_or(text, |pos| &text[pos..]);
    from.lines().next().unwrap_or("").to_owned()
}

/// Runs the stack parts (then the fallback parts) over `text`; returns the key frame of
/// every stack and whether all were found.
fn extract_frames(oopses: &Oopses, stack: &Stack, text: &str) -> (Vec<String>, bool) {
    let first = run_parts(oopses, stack, &stack.parts, text);
    if first.1 || stack.parts2.is_empty() {
        return first;
    }
    run_parts(oopses, stack, &stack.parts2, text)
}

fn run_parts(oopses: &Oopses, stack: &Stack, parts: &[Part], text: &str) -> (Vec<String>, bool) {
    let mut checks = StackLines::new(text);
    let mut lines = hits::lines_at(text);
    let mut raw: Vec<String> = Vec::new();
    let mut keys = Vec::new();
    let mut ok = true;
    let mut traces = 0;
    let mut idx = 0;
    loop {
        if idx == parts.len() || (matches!(parts[idx], Part::Trace) && traces > 0) {
            match frames::pick(stack.pick, &raw) {
                Some((_, key)) => keys.push(key),
                None => {
                    keys.push("corrupted".to_owned());
                    ok = false;
                }
            }
            raw.clear();
        }
        let Some(part) = parts.get(idx) else { break };
        match part {
            Part::Trace => {
                traces += 1;
                let mut next = match parts.get(idx + 1) {
                    Some(Part::Line(re)) => Some(LineMatches::new(re)),
                    _ => None,
                };
                for (at, line) in lines.by_ref() {
                    if checks.is_corrupted(line) {
                        ok = false;
                        break;
                    }
                    if checks.is_stack_start(at, line) {
                        break;
                    }
                    if let Some(caps) = next.as_mut().and_then(|next| next.captures(text, at, line))
                    {
                        push_frames(oopses, stack, &mut raw, captured(&caps));
                        idx += 1;
                        break;
                    }
                    if let Some(names) = frames::frame_line_names(line) {
                        push_frames(oopses, stack, &mut raw, names.iter());
                    }
                }
            }
            Part::Line(re) => {
                let mut matches = LineMatches::new(re);
                for (at, line) in lines.by_ref() {
                    if checks.is_corrupted(line) {
                        ok = false;
                        break;
                    }
                    if let Some(caps) = matches.captures(text, at, line) {
                        push_frames(oopses, stack, &mut raw, captured(&caps));
                        break;
                    }
                }
            }
        }
        idx += 1;
    }
    (keys, ok)
}

/// A stack part's pattern matched against the lines of a text, in order. The pattern
/// never matches across lines and has no anchors (checked by the tests), so the first match
/// from a line on tells which of the following lines match: one search serves many lines.
struct LineMatches<'r> {
    re: &'r Regex,
    /// Start of the first match at or after the last line asked about (`usize::MAX` when
    /// there is none), once searched.
    next: Option<usize>,
}

impl<'r> LineMatches<'r> {
    fn new(re: &'r Regex) -> Self {
        LineMatches { re, next: None }
    }

    /// The captures of the pattern in `line`, which starts at byte `at` of `text` (lines
    /// must be asked about in order).
    fn captures<'h>(
        &mut self,
        text: &str,
        at: usize,
        line: &'h str,
    ) -> Option<regex::Captures<'h>> {
        if self.next.is_none_or(|next| next < at) {
            self.next = Some(self.re.find_at(text, at).map_or(usize::MAX, |m| m.start()));
        }
        if self.next.is_none_or(|next| next >= at + line.len()) {
            return None;
        }
        self.re.captures(line)
    }
}

/// The captured groups of a match.
fn captured<'c, 'h>(caps: &'c regex::Captures<'h>) -> impl Iterator<Item = &'h str> + 'c {
    caps.iter().skip(1).flatten().map(|m| m.as_str())
}

/// Adds the frames of `names` that are not skipped to `raw`. Only the first frame of a
/// stack counts for [`Pick::First`], so names after it are not even looked at.
fn push_frames<'h>(
    oopses: &Oopses,
    stack: &Stack,
    raw: &mut Vec<String>,
    names: impl Iterator<Item = &'h str>,
) {
    for name in names {
        if stack.pick == Pick::First && !raw.is_empty() {
            return;
        }
        let name = demangle(name);
        let skipped =
            oopses.is_generic(&name) || stack.skip.as_ref().is_some_and(|re| re.is_match(&name));
        if !skipped {
            raw.push(name.into_owned());
        }
    }
}

/// Reasons a titled report is unreliable, judged on its whole text.
pub(crate) fn is_corrupted(raw_title: &str, text: &str, format: Option<&Format>) -> bool {
    if super::title::has_timestamp(raw_title) {
        return true;
    }
    let Some(format) = format else { return false };
    if format.no_stack_trace() {
        return false;
    }
    let mut has_trace = false;
    for (i, start) in RULES.starts_in(text) {
        let Some(m) = start.find(text) else { continue };
        let mut lines = text[m.start()..].split('\n');
        let after: Vec<&str> = lines.by_ref().skip(1).take(15).collect();
        if after.len() < 3 {
            return true;
        }
        let mut found = false;
        for line in after {
            if RULES.is_stack_start(line) {
                break;
            }
            if line.contains("(stack is not available)") || frames::frame_line_names(line).is_some()
            {
                found = true;
                break;
            }
        }
        has_trace |= found;
        let riscv = frames::STACK_START
            .get(i)
            .is_some_and(|(pattern, _)| *pattern == frames::RISCV_STACK_START);
        if !found && !riscv {
            return true;
        }
    }
    !has_trace
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_compiles() {
        assert!(OOPSES.groups.len() > 20);
        assert!(OOPSES
            .match_line("WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2")
            .is_some());
        assert!(OOPSES.match_line("INFO: lockdep is turned off.").is_none());
    }

    #[test]
    fn stack_line_parts_stay_within_a_line() {
        let line_parts = GROUPS
            .iter()
            .flat_map(|group| group.formats)
            .filter_map(|format| format.stack.as_ref())
            .flat_map(|stack| stack.parts.iter().chain(stack.parts2))
            .filter(|part| **part != "TRACE");
        for part in line_parts {
            let pattern = super::super::pattern::expand(part);
            for unsafe_item in [
                "^",
                "$",
                "\\b",
                "\\B",
                "\\n",
                "\\s",
                "[:space:]",
                "\\W",
                "\\D",
                "(?",
            ] {
                let allowed = unsafe_item == "(?" && !pattern.replace("(?:", "").contains("(?");
                assert!(
                    allowed || !pattern.contains(unsafe_item),
                    "{part}: {unsafe_item}"
                );
            }
        }
    }

    #[test]
    fn describes_warning() {
        let text = "WARNING: CPU: 1 PID: 2 at fs/x.c:10 foo+0x1/0x2\nModules linked in:\n\
                    RIP: 0010:foo+0x1/0x2\nCall Trace:\n bar+0x1/0x2\n";
        let group = OOPSES.match_line(text).expect("test input");
        let d = describe(&OOPSES, group, text);
        assert_eq!(d.title, "WARNING in foo");
        assert!(!d.corrupted);
    }
}
