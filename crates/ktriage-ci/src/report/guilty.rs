//! The guilty source file: the first `path.c:LINE` of a (symbolized) report outside
//! generic code, refined to a deeper path under the same directory.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::frames::any_of;
use super::hits;
use super::pattern::compile;

/// Files whose code is rarely at fault: headers, libraries, sanitizers, allocators,
/// scheduling, locking, printk, core networking and traps.
const GENERIC_FILES: &[&str] = &[
    r".*\.h",
    "^lib/.*",
    "^virt/lib/.*",
    "^mm/kasan/.*",
    "^mm/kmsan/.*",
    "^kernel/kcov.c",
    "^mm/sl.b.c",
    "^mm/filemap.c",
    "^mm/folio-compat.c",
    "^mm/truncate.c",
    "^mm/memory.c",
    "^mm/percpu.*",
    "^mm/vmalloc.c",
    "^mm/page_alloc.c",
    "^mm/mempool.c",
    "^mm/util.c",
    "^kernel/rcu/.*",
    "^arch/.*/kernel/traps.c",
    "^arch/.*/kernel/unwind.*.c",
    "^arch/.*/mm/fault.c",
    "^arch/.*/mm/physaddr.c",
    "^arch/.*/kernel/stacktrace.c",
    "^arch/.*/kernel/apic/apic.c",
    "^arch/arm64/kernel/entry.*.c",
    r"^arch/arm64/kernel/process\.c",
    "^kernel/locking/.*",
    "^kernel/panic.c",
    "^kernel/printk/printk.*.c",
    "^kernel/softirq.c",
    "^kernel/kthread.c",
    "^kernel/sched/.*.c",
    "^kernel/stacktrace.c",
    "^kernel/time/timer.c",
    "^kernel/workqueue.c",
    "^net/core/dev.c",
    "^net/core/sock.c",
    "^net/core/skbuff.c",
    "^fs/proc/generic.c",
    "^trusty/",
    "^drivers/usb/core/urb.c",
    "^arch/.*/lib/crc.*",
];

/// Lines whose files say nothing about the culprit (lockdep `at:` lines, irq-state lines).
const GENERIC_LINES: &str = r"(hardirqs|softirqs)\s+last\s+(enabled|disabled)|,\s+at:\s+|^\s*#\d+:|^Register r\d+ information";

/// Where rcu-stall stacks leave the interrupt entry (the guilty code is below it).
const STALL_ENTRIES: &[&str] = &[
    "apic_timer_interrupt+0x",
    "el1h_64_irq+0x",
    "Exception stack",
];

struct Rules {
    /// `.c:` and `.h:`: every line naming a source location holds one.
    location: AhoCorasick,
    generic_file: Regex,
    generic_line: Regex,
    deeper: Regex,
}

static RULES: LazyLock<Rules> = LazyLock::new(|| Rules {
    location: hits::automaton([".c:", ".h:"]),
    generic_file: compile(&any_of(GENERIC_FILES)),
    generic_line: compile(GENERIC_LINES),
    deeper: compile(r"^/[a-zA-Z0-9_\-\./]+/[a-zA-Z0-9_\-]+\.(c|h)$"),
});

/// The guilty file of a report with `title` and text `report`.
pub(crate) fn guilty_file(title: &str, report: &str) -> Option<String> {
    if title.starts_with("INFO: rcu detected stall") {
        for entry in STALL_ENTRIES {
            if let Some(pos) = report.find(entry) {
                if let Some(file) = first_guilty(&report[pos..]) {
                    return Some(file);
                }
            }
        }
    }
    first_guilty(report)
}

fn first_guilty(report: &str) -> Option<String> {
    let rules = &*RULES;
    // Only lines holding `.c:`/`.h:` can name a file; one search of the whole text finds
    // them (most reports, unsymbolized, have none).
    let mut lines = location_lines(report);
    let mut guilty: Option<String> = None;
    for line in lines.by_ref() {
        let Some(file) = source_file(line) else {
            continue;
        };
        if guilty.is_none() {
            guilty = Some(file.to_owned());
        }
        if !is_generic(file, line) {
            guilty = Some(clean_path(file));
            break;
        }
    }
    let mut guilty = guilty?;
    let mut dir = parent(&guilty).to_owned();
    for line in lines {
        let Some(file) = source_file(line) else {
            continue;
        };
        if is_generic(file, line) {
            continue;
        }
        let clean = clean_path(file);
        if let Some(suffix) = clean.strip_prefix(dir.as_str()) {
            if rules.deeper.is_match(suffix) {
                dir = parent(&clean).to_owned();
                guilty = clean;
            }
        }
    }
    Some(guilty)
}

/// The lines of `text` that hold `.c:` or `.h:`.
fn location_lines(text: &str) -> impl Iterator<Item = &str> {
    hits::lines_with(&RULES.location, text)
}

/// The first `path.c:NNN` (or `.h`) word of `text`, delimited by whitespace, `!` or `,`
/// (the location a `kernel BUG at`, `WARNING: ... at` or assertion line prints).
pub(crate) fn first_location(text: &str) -> Option<&str> {
    location_lines(text).find_map(|line| {
        line.split(|c: char| c.is_whitespace() || c == '!' || c == ',')
            .find(|word| {
                word.rsplit_once(':').is_some_and(|(path, number)| {
                    (path.ends_with(".c") || path.ends_with(".h"))
                        && !number.is_empty()
                        && number.bytes().all(|b| b.is_ascii_digit())
                })
            })
    })
}

/// The file of the first `path.c:NNN` (or `.h`) of a line: the longest run of
/// `[a-zA-Z0-9_\-./]` ending in `<name char>.c` right before `:` and a digit, which is
/// what the regex `([a-zA-Z0-9_\-\./]*[a-zA-Z0-9_\-]+\.(c|h)):[0-9]+` captures first.
fn source_file(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let is_path = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/');
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-');
    memchr::memchr_iter(b':', bytes).find_map(|colon| {
        let ext = colon.checked_sub(2)?;
        let valid = bytes[ext] == b'.'
            && matches!(bytes[ext + 1], b'c' | b'h')
            && bytes.get(colon + 1).is_some_and(u8::is_ascii_digit)
            && ext
                .checked_sub(1)
                .is_some_and(|before| is_name(bytes[before]));
        if !valid {
            return None;
        }
        let start = bytes[..ext]
            .iter()
            .rposition(|&b| !is_path(b))
            .map_or(0, |pos| pos + 1);
        Some(&line[start..colon])
    })
}

fn is_generic(file: &str, line: &str) -> bool {
    RULES.generic_file.is_match(file) || RULES.generic_line.is_match(line)
}

/// The directory part of a path (`.` when there is none).
fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(pos) => &path[..pos],
        None => ".",
    }
}

/// Lexically cleans a path: collapses `//`, drops `.`, resolves `..`.
fn clean_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_generic_files() {
        let report = "WARNING: at lib/foo.c:1\n bar+0x1/0x2 include/linux/x.h:3\n \
                      baz+0x1/0x2 net/ipv6/route.c:10\n qux+0x1/0x2 net/ipv6/ila/x.c:2\n";
        assert_eq!(
            guilty_file("WARNING in baz", report).as_deref(),
            Some("net/ipv6/ila/x.c")
        );
    }

    #[test]
    fn source_file_is_the_regex_capture() {
        let regex = compile(r"([a-zA-Z0-9_\-\./]*[a-zA-Z0-9_\-]+\.(c|h)):[0-9]+");
        let lines = [
            "at fs/x.c:12 and lib/y.h:3",
            "a /.c:1 b.c:x c-d/e.c:7",
            "x.c.c:5",
            "é/a.c:1",
            ".c:1 .h:",
            "[<ffff>] f+0x1/0x2 ./fs/../a_b.h:99",
            "",
            "a.c:",
        ];
        for line in lines {
            let expected = regex
                .captures(line)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str());
            assert_eq!(source_file(line), expected, "{line:?}");
        }
        assert_eq!(
            first_location("WARNING: at fs/a.c:10, x\nkernel BUG at b.c:3!"),
            Some("fs/a.c:10")
        );
        assert_eq!(first_location("f+0x1/0x2 (fs/a.c:1x)"), None);
    }

    proptest::proptest! {
        #[test]
        fn source_file_matches_the_regex(line in "[a.ch:1/é _-]{0,24}") {
            let regex = compile(r"([a-zA-Z0-9_\-\./]*[a-zA-Z0-9_\-]+\.(c|h)):[0-9]+");
            let expected = regex.captures(&line).and_then(|c| c.get(1)).map(|m| m.as_str());
            proptest::prop_assert_eq!(source_file(&line), expected);
        }
    }

    #[test]
    fn falls_back_to_first_file() {
        let report = " f+0x1/0x2 include/linux/spinlock.h:3\n";
        assert_eq!(
            guilty_file("x", report).as_deref(),
            Some("include/linux/spinlock.h")
        );
        assert_eq!(clean_path("a//b/./c/../d.c"), "a/b/d.c");
    }
}
