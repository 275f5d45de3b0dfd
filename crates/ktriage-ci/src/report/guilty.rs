//! The guilty source file: the first `path.c:LINE` of a (symbolized) report outside
//! generic code, refined to a deeper path under the same directory.

use std::sync::LazyLock;

use regex::Regex;

use super::frames::any_of;
use super::pattern::compile;

/// Files whose code is rarely at fault: headers, libraries, sanitizers, allocators,
/// scheduling, locking, printk, core networking and traps.
const GENERIC_FILES: &[&str] = &[
    r".*\.h", "^lib/.*", "^virt/lib/.*", "^mm/kasan/.*", "^mm/kmsan/.*", "^kernel/kcov.c",
    "^mm/sl.b.c", "^mm/filemap.c", "^mm/folio-compat.c", "^mm/truncate.c", "^mm/memory.c",
    "^mm/percpu.*", "^mm/vmalloc.c", "^mm/page_alloc.c", "^mm/mempool.c", "^mm/util.c",
    "^kernel/rcu/.*", "^arch/.*/kernel/traps.c", "^arch/.*/kernel/unwind.*.c",
    "^arch/.*/mm/fault.c", "^arch/.*/mm/physaddr.c", "^arch/.*/kernel/stacktrace.c",
    "^arch/.*/kernel/apic/apic.c", "^arch/arm64/kernel/entry.*.c", r"^arch/arm64/kernel/process\.c",
    "^kernel/locking/.*", "^kernel/panic.c", "^kernel/printk/printk.*.c", "^kernel/softirq.c",
    "^kernel/kthread.c", "^kernel/sched/.*.c", "^kernel/stacktrace.c", "^kernel/time/timer.c",
    "^kernel/workqueue.c", "^net/core/dev.c", "^net/core/sock.c", "^net/core/skbuff.c",
    "^fs/proc/generic.c", "^trusty/", "^drivers/usb/core/urb.c", "^arch/.*/lib/crc.*",
];

/// Lines whose files say nothing about the culprit (lockdep `at:` lines, irq-state lines).
const GENERIC_LINES: &str = r"(hardirqs|softirqs)\s+last\s+(enabled|disabled)|,\s+at:\s+|^\s*#\d+:|^Register r\d+ information";

/// Where rcu-stall stacks leave the interrupt entry (the guilty code is below it).
const STALL_ENTRIES: &[&str] = &["apic_timer_interrupt+0x", "el1h_64_irq+0x", "Exception stack"];

struct Rules {
    /// Cheap pre-check: a `.c:`/`.h:` location.
    source: Regex,
    file: Regex,
    generic_file: Regex,
    generic_line: Regex,
    deeper: Regex,
}

static RULES: LazyLock<Rules> = LazyLock::new(|| Rules {
    source: compile(r"\.[ch]:"),
    file: compile(r"([a-zA-Z0-9_\-\./]*[a-zA-Z0-9_\-]+\.(c|h)):[0-9]+"),
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
    // Every candidate line holds a `.c:`/`.h:` location; most reports (unsymbolized) hold
    // none, and one search of the whole text is cheaper than a regex per line.
    if !has_source_location(report) {
        return None;
    }
    let rules = &*RULES;
    let mut lines = report.split('\n');
    let mut guilty: Option<String> = None;
    for line in lines.by_ref() {
        let Some(file) = source_file(line) else { continue };
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
        let Some(file) = source_file(line) else { continue };
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

/// The first `path.c:LINE` of a line.
/// `text` holds a `.c:` or `.h:` (the literal [`Rules::source`] looks for).
pub(crate) fn has_source_location(text: &str) -> bool {
    text.contains(".c:") || text.contains(".h:")
}

fn source_file(line: &str) -> Option<&str> {
    if !RULES.source.is_match(line) {
        return None;
    }
    RULES.file.captures(line).and_then(|c| c.get(1)).map(|m| m.as_str())
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
        assert_eq!(guilty_file("WARNING in baz", report).as_deref(), Some("net/ipv6/ila/x.c"));
    }

    #[test]
    fn falls_back_to_first_file() {
        let report = " f+0x1/0x2 include/linux/spinlock.h:3\n";
        assert_eq!(guilty_file("x", report).as_deref(), Some("include/linux/spinlock.h"));
        assert_eq!(clean_path("a//b/./c/../d.c"), "a/b/d.c");
    }
}
