//! Stack-frame rules: what a frame line looks like, which functions are too generic to
//! blame, syscall-wrapper prefixes, and the representative-frame choice for stalls and
//! hung tasks.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::hits::{self, Hits};
use super::pattern::compile;
use super::table::Pick;
use crate::report::Frame;

/// Lines that start a stack trace (or an allocation/free stack), each with a literal of
/// [`STACK_START_LITERALS`] that all its matches contain (a cheap pre-check).
pub(crate) const STACK_START: &[(&str, &str)] = &[
    ("Call (?:T|t)race", "race"),
    ("Allocated:", "Allocated"),
    ("Allocated by task [0-9]+:", "Allocated"),
    ("Freed:", "Freed"),
    ("Freed by task [0-9]+:", "Freed"),
    (r"[^k] backtrace(?: \(crc [[:xdigit:]]*\))?:", "acktrace"),
    ("Backtrace:", "acktrace"),
    ("Uninit was stored to memory at", "Uninit was stored"),
    (RISCV_STACK_START, "badaddr: "),
];

/// riscv prints its stack after this register line, without a header.
pub(crate) const RISCV_STACK_START: &str =
    "status: [0-9a-f]{16} badaddr: [0-9a-f]{16} cause: [0-9a-f]{16}";

/// Literals one of which every [`STACK_START`] line contains; none is a prefix of another.
const STACK_START_LITERALS: &[&str] = &[
    "race",
    "Allocated",
    "Freed",
    "acktrace",
    "Uninit was stored",
    "badaddr: ",
];

/// Fault-injection stacks are often intermixed with reports: seeing one corrupts it.
const CORRUPTED_LINES: &[&str] =
    &[r"^( \[<?(?:0x)?[0-9a-f]+>?\])? should_fail(slab)?(\.[a-z0-9.]+)?\+0x"];
/// A literal every [`CORRUPTED_LINES`] match contains.
const CORRUPTED_LITERAL: &str = " should_fail";

/// Syscall-wrapper prefixes stripped from frame names (the shortest result wins).
pub(crate) const STRIP_PREFIXES: &[&str] = &[
    "SYSC_",
    "SyS_",
    "sys_",
    "__x64_",
    "__ia32_",
    "__arm64_",
    "____sys_",
    "___sys_",
    "__sys_",
    "__se_",
    "__se_sys_",
    "__do_sys_",
    "compat_SYSC_",
    "compat_SyS_",
    "ksys_",
];

/// Functions never blamed: sanitizer and report machinery, locking, allocators, string
/// and list helpers, printk, workqueue plumbing, device-core teardown, ... (substring
/// regexps over the function name).
pub(crate) const GENERIC_FRAMES: &[&str] = &[
    "__sanitizer",
    "__asan",
    "kasan",
    "hwasan",
    "__msan",
    "kmsan",
    "kcsan_setup_watchpoint",
    "check_memory_region",
    "check_heap_object",
    "check_object",
    "read_word_at_a_time",
    "(read|write)_once_.*nocheck",
    "print_address_description",
    "panic",
    "invalid_op",
    "report_bug",
    "fixup_bug",
    "print_report",
    "print_usage_bug",
    "do_error",
    "_trap$|do_trap",
    "show_stack",
    "dump_stack",
    "walk_stack",
    "dump_backtrace",
    "warn_slowpath",
    "warn_alloc",
    "warn_bogus",
    "__warn",
    "alloc_page",
    "k?v?(?:m|z|c)alloc",
    "krealloc",
    "kmem_cache",
    "allocate_slab",
    "__alloc_frozen_pages_noprof",
    "folio_(?:alloc|unlock)",
    "filemap_alloc_folio",
    "__filemap_get_folio",
    "find_or_create_page",
    "do_read_cache_folio",
    "read_cache_page",
    "pagecache_get_page",
    "grab_cache_page_write_begin",
    "slab_",
    "debug_object",
    "timer_is_static_object",
    "work_is_static_object",
    "__might_fault",
    "print_unlock",
    "imbalance_bug",
    "lockdep",
    "bh_enable",
    "bh_disable",
    "perf_trace",
    "lock_acquire",
    "lock_release",
    "lock_class",
    "mark_lock",
    "(reacquire|mark)_held_locks",
    "raw_spin_rq",
    "spin_lock",
    "spin_trylock",
    "spin_unlock",
    "read_lock",
    "read_trylock",
    "write_lock",
    "write_trylock",
    "read_unlock",
    "write_unlock",
    "^down$",
    "down_read",
    "down_write",
    "down_read_trylock",
    "down_write_trylock",
    "down_trylock",
    "up_read",
    "up_write",
    "^mutex_",
    "^__mutex_",
    "^rt_mutex_",
    "owner_on_cpu",
    "osq_lock",
    "osq_unlock",
    "atomic(64)?_(dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)",
    "(set|clear|change|test)_bit",
    "__wake_up",
    "^refcount_",
    "^kref_",
    "ref_tracker",
    "seqprop_assert",
    "memcpy",
    "memcmp",
    "memset",
    "memchr",
    "memmove",
    "memdup",
    "strcmp",
    "strncmp",
    "strcpy",
    "strlcpy",
    "strncpy",
    "strscpy",
    "strlen",
    "strstr",
    "strnstr",
    "strnlen",
    "strchr",
    "strdup",
    "strndup",
    "copy_to_user",
    "copy_from_user",
    "copy_to_iter",
    "copy_from_iter",
    "copy_page_to_iter",
    "copy_page_from_iter",
    "copy_folio_to_iter",
    "^copyin$",
    "^copyout$",
    "put_user",
    "get_user",
    "might_fault",
    "might_sleep",
    "list_add",
    "list_del",
    "list_replace",
    "list_move",
    "list_splice",
    "^rb_",
    "^__rb_",
    "_indirect_thunk_",
    "string",
    "pointer",
    "snprintf",
    "scnprintf",
    "kasprintf",
    "kvasprintf",
    "printk",
    "va_format",
    "dev_info",
    "dev_notice",
    "dev_warn",
    "dev_err",
    "dev_alert",
    "dev_crit",
    "dev_emerg",
    "program_check_exception",
    "program_check_common",
    "del_timer",
    "flush_work",
    "__cancel_work_timer",
    "cancel_work_sync",
    "try_to_grab_pending",
    "flush_workqueue",
    "drain_workqueue",
    "destroy_workqueue",
    "queue_work",
    "finish_wait",
    "kthread_stop",
    "kobject_",
    "add_uevent_var",
    "get_device_parent",
    "device_add",
    "device_del",
    "device_unregister",
    "device_destroy",
    "device_release",
    "devres_release_all",
    "hwrng_unregister",
    "i2c_del_adapter",
    "__unregister_client",
    "device_for_each_child",
    "rollback_registered",
    "unregister_netdev",
    "sysfs_remove",
    "device_remove_file",
    "tty_unregister_device",
    "dummy_urb_enqueue",
    "usb_kill_urb",
    "usb_kill_anchored_urbs",
    "usb_control_msg",
    "usb_hcd_submit_urb",
    "usb_submit_urb",
    "^complete$",
    "wait_for_completion",
    "^kv?free$",
    "kfree_skb",
    "readb$",
    "readw$",
    "readl$",
    "readq$",
    "writeb$",
    "writew$",
    "writel$",
    "writeq$",
    "logic_in",
    "logic_out",
    r"^crc\d+",
    "crc_itu_t",
    "__might_resched",
    "assertfail",
    "^iput$",
    "^iput_final$",
    "^ihold$",
    "hex_dump_to_buffer",
    "print_hex_dump",
    "^klist_",
    "(trace|lockdep)_(hard|soft)irq",
    "^(un)?lock_page",
    "stack_trace_consume_entry",
    "arch_stack_walk",
    "stack_trace_save",
    "insert_work",
    "__queue_delayed_work",
    "queue_delayed_work_on",
    "ida_free",
    "do_(kernel|translation)_fault",
    "do_mem_abort",
    "el1_abort",
    "el1h_64_sync(?:_handler)?",
    "print_tainted",
    "xas_(?:start|load|find)",
    "find_lock_entries",
    "truncate_inode_pages_range",
    "__phys_addr",
    "__fortify_report",
    "cleanup_srcu_struct",
    "rhashtable_lookup",
    "extract_(user|iter)_to_sg",
    "drop_nlink",
    "^get_taint$",
    "^put_device$",
    "lock_timer_base",
    "__timer_delete_sync",
    "sk_stop_timer_sync",
    "__mod_timer",
    "fast_dput",
    "dput",
    "mark_buffer_dirty",
];

/// Dispatcher frames for stalls: the frame just above the first of these is blamed.
const STALL_ANCHORS: &[&str] = &[
    "process_one_work",
    "do_syscall_",
    "do_fast_syscall_",
    "sysenter_dispatch",
    "tracesys_phase2",
    "el0_svc_handler",
    "invoke_syscall",
    "ret_fast_syscall",
    "netif_receive_skb",
    "do_softirq",
    "call_timer_fn",
    "_run_timers",
    "run_timer_softirq",
    "hrtimer_run",
    "run_ksoftirqd",
    "smpboot_thread_fn",
    "^kthread$",
    "start_secondary",
    "cpu_startup_entry",
    "ret_from_fork",
    "vfs_write",
    "vfs_read",
    "vfs_iter_read",
    "vfs_iter_write",
    "do_iter_read",
    "do_iter_write",
    "call_read_iter",
    "call_write_iter",
    "new_sync_read",
    "new_sync_write",
    "vfs_ioctl",
    "ksys_ioctl",
    "compat_ioctl",
    "compat_sys_ioctl",
    "blkdev_driver_ioctl",
    "blkdev_ioctl",
    "^call_read_iter",
    "^call_write_iter",
    "do_iter_readv_writev",
    "^call_mmap",
    "mmap_region",
    "do_mmap",
    "do_dentry_open",
    "vfs_open",
    "^sock_sendmsg",
    "^sock_recvmsg",
    "^sock_release",
    "^__sock_release",
    "^setsockopt$",
    "kernel_setsockopt",
    "sock_common_setsockopt",
    "^listen$",
    "kernel_listen",
    "sk_common_release",
    "^sock_mmap",
    "^accept$",
    "kernel_accept",
    "^sock_do_ioctl",
    "^sock_ioctl",
    "^compat_sock_ioctl",
    "^nfnetlink_rcv_msg",
    "^rtnetlink_rcv_msg",
    "^netlink_dump",
    "^(sys_)?(socketpair|connect|ioctl)",
    "__do_fault",
    "do_page_fault",
    "^page_fault$",
    "__fput",
    "task_work_run",
    "exit_to_usermode",
    "smp_call_function",
    "tasklet_action",
    "tasklet_hi_action",
];

/// Hung tasks: waits in these are bucketed under one name (`None` keeps the frame).
const HANG_BUCKETS: &[(&str, Option<&str>)] = &[
    ("rtnl_lock", None),
    ("synchronize_rcu", Some("synchronize_rcu")),
    ("synchronize_srcu", Some("synchronize_rcu")),
    ("synchronize_net", Some("synchronize_rcu")),
    ("synchronize_sched", Some("synchronize_rcu")),
];

/// Hung tasks: frames containing these are waits, not culprits.
const HANG_SKIP: &[&str] = &[
    "sched",
    "_lock",
    "_slowlock",
    "down",
    "rwsem",
    "completion",
    "kthread",
    "wait",
    "synchronize",
    "context_switch",
    "__switch_to",
    "cancel_delayed_work",
    "rcu_barrier",
];

/// Compiled stack rules.
pub(crate) struct StackRules {
    /// Each stack-start pattern.
    start: Vec<Regex>,
    /// The index in [`STACK_START_LITERALS`] of each stack-start pattern's literal.
    start_literal: Vec<usize>,
    /// Any stack-start pattern.
    start_any: Regex,
    /// Pre-check for `start_any`.
    start_literals: AhoCorasick,
    /// Fault-injection frames.
    corrupted: Regex,
    stall: Regex,
}

/// The compiled rules.
pub(crate) static RULES: LazyLock<StackRules> = LazyLock::new(|| {
    let patterns: Vec<&str> = STACK_START.iter().map(|(pattern, _)| *pattern).collect();
    StackRules {
        start: patterns.iter().map(|p| compile(p)).collect(),
        start_literal: STACK_START
            .iter()
            .map(|(_, literal)| literal_index(literal))
            .collect(),
        start_any: compile(&any_of(&patterns)),
        start_literals: hits::automaton(STACK_START_LITERALS),
        corrupted: compile(&CORRUPTED_LINES.join("|")),
        stall: compile(&any_of(STALL_ANCHORS)),
    }
});

/// Index of a stack-start literal in [`STACK_START_LITERALS`] (the table is checked by the
/// tests, so a missing literal is a programming error).
fn literal_index(literal: &str) -> usize {
    STACK_START_LITERALS
        .iter()
        .position(|l| *l == literal)
        .unwrap_or_else(|| panic!("stack-start literal {literal:?} is not in STACK_START_LITERALS"))
}

impl StackRules {
    /// The line starts a stack trace.
    pub fn is_stack_start(&self, line: &str) -> bool {
        self.start_literals.is_match(line) && self.start_any.is_match(line)
    }

    /// The stack-start patterns (with their index in [`StackRules::start`]) that may match
    /// somewhere in `text`: those whose literal it holds.
    pub fn starts_in<'r>(&'r self, text: &str) -> impl Iterator<Item = (usize, &'r Regex)> + 'r {
        let present = hits::present(&self.start_literals, text.as_bytes());
        self.start
            .iter()
            .enumerate()
            .filter(move |(i, _)| present & (1 << self.start_literal[*i]) != 0)
    }
}

/// Line checks of a stack walk through one text, lines visited in order.
pub(crate) struct StackLines<'t> {
    text: &'t str,
    /// Lines holding a stack-start literal.
    starts: Hits<'static>,
    /// The text holds [`CORRUPTED_LITERAL`] (else no line can be a fault-injection frame).
    may_be_corrupted: bool,
}

impl<'t> StackLines<'t> {
    /// Checks for the lines of `text`.
    pub fn new(text: &'t str) -> Self {
        StackLines {
            text,
            starts: Hits::new(&RULES.start_literals, 0),
            may_be_corrupted: memchr::memmem::find(text.as_bytes(), CORRUPTED_LITERAL.as_bytes())
                .is_some(),
        }
    }

    /// The line is a fault-injection frame, which corrupts the report.
    pub fn is_corrupted(&self, line: &str) -> bool {
        self.may_be_corrupted && RULES.corrupted.is_match(line)
    }

    /// The line at byte `at` of the text starts a stack trace (lines must be asked for in
    /// order).
    pub fn is_stack_start(&mut self, at: usize, line: &str) -> bool {
        self.starts
            .any_in(self.text.as_bytes(), at, at + line.len())
            && RULES.start_any.is_match(line)
    }
}

/// Joins patterns into one alternation.
pub(crate) fn any_of(patterns: &[&str]) -> String {
    patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|")
}

/// Strips syscall-wrapper prefixes, picking the shortest result.
pub(crate) fn strip_prefix(frame: &str) -> &str {
    STRIP_PREFIXES
        .iter()
        .filter_map(|p| frame.strip_prefix(p))
        .min_by_key(|s| s.len())
        .unwrap_or(frame)
}

/// Chooses the key frame among `frames` (already filtered by skip rules); returns its
/// index and the canonical (possibly bucketed) name.
pub(crate) fn pick(pick: Pick, frames: &[String]) -> Option<(usize, String)> {
    let stripped: Vec<&str> = frames.iter().map(|f| strip_prefix(f)).collect();
    match pick {
        Pick::First => stripped.first().map(|f| (0, (*f).to_owned())),
        Pick::Stall => pick_stall(&stripped),
        Pick::Hang => pick_hang(&stripped),
    }
}

fn pick_stall(frames: &[&str]) -> Option<(usize, String)> {
    let mut prev = (0, *frames.first()?);
    for (i, &frame) in frames.iter().enumerate() {
        if RULES.stall.is_match(frame) {
            if frame.contains("smp_call_function") {
                return Some((i, "smp_call_function".to_owned()));
            }
            return Some((prev.0, prev.1.to_owned()));
        }
        prev = (i, frame);
    }
    None
}

fn pick_hang(frames: &[&str]) -> Option<(usize, String)> {
    for (i, &frame) in frames.iter().enumerate() {
        if let Some((_, bucket)) = HANG_BUCKETS
            .iter()
            .find(|(anchor, _)| frame.contains(anchor))
        {
            return Some((i, bucket.unwrap_or(frame).to_owned()));
        }
    }
    frames
        .iter()
        .position(|f| !HANG_SKIP.iter().any(|s| f.contains(s)))
        .map(|i| (i, frames[i].to_owned()))
}

/// The bytes a name may hold (a table, since names are scanned byte by byte in every frame).
type NameClass = [bool; 256];

/// `[a-zA-Z0-9_]` plus `extra`.
const fn name_class(extra: &[u8]) -> NameClass {
    let mut class = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        class[byte] = (byte as u8).is_ascii_alphanumeric() || byte == b'_' as usize;
        byte += 1;
    }
    let mut idx = 0;
    while idx < extra.len() {
        class[extra[idx] as usize] = true;
        idx += 1;
    }
    class
}

/// A symbol name.
const SYMBOL: NameClass = name_class(b"");
/// A symbol with a `.isra.0`-style suffix, or a module name.
const DOTTED: NameClass = name_class(b".");
/// A function as a full frame prints it (C++-like and Rust names included).
const FUNCTION: NameClass = name_class(b".$<>:");
/// A source path.
const PATH: NameClass = name_class(b"-./");

/// A cursor over one line for the hand-written frame parsers below.
struct Cursor<'a> {
    s: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let n = self.s.bytes().take_while(|&b| f(b)).count();
        let (head, rest) = self.s.split_at(n);
        self.s = rest;
        head
    }

    fn eat(&mut self, prefix: &str) -> bool {
        match self.s.strip_prefix(prefix) {
            Some(rest) => {
                self.s = rest;
                true
            }
            None => false,
        }
    }

    /// `[<ffffffff81000000>]` (brackets' `<>` and `0x` optional).
    fn pc(&mut self) -> bool {
        let save = self.s;
        let ok = self.eat("[")
            && {
                self.eat("<");
                self.eat("0x");
                !self
                    .skip_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                    .is_empty()
            }
            && {
                self.eat(">");
                self.eat("]")
            };
        if !ok {
            self.s = save;
        }
        ok
    }

    /// The longest prefix of bytes in `class`.
    fn name(&mut self, class: &NameClass) -> &'a str {
        self.skip_while(|b| class[usize::from(b)])
    }

    fn hex(&mut self) -> &'a str {
        self.skip_while(|b| b.is_ascii_hexdigit())
    }
}

/// The function names a stack-trace line shows: one, or arm's callee and caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineNames<'a> {
    first: &'a str,
    second: Option<&'a str>,
}

impl<'a> LineNames<'a> {
    /// The names, innermost first.
    pub fn iter(self) -> impl Iterator<Item = &'a str> {
        std::iter::once(self.first).chain(self.second)
    }
}

/// Function names shown by a stack-trace line: `  [<pc>] [<pc>] name+0x..` (or
/// `name.isra..`), or arm's `[<pc>] (callee) from [<pc>] (caller+0x..)`.
pub(crate) fn frame_line_names(line: &str) -> Option<LineNames<'_>> {
    let mut c = Cursor { s: line };
    c.skip_while(|b| b == b' ');
    let after_spaces = c.s;
    let mut pcs = 0;
    while pcs < 2 && c.pc() {
        if !c.eat(" ") {
            break;
        }
        pcs += 1;
    }
    let name = c.name(&SYMBOL);
    if !name.is_empty() && (c.s.starts_with('.') || c.s.starts_with('+')) {
        return Some(LineNames {
            first: name,
            second: None,
        });
    }
    let mut c = Cursor { s: after_spaces };
    if !(c.pc() && c.eat(" (")) {
        return None;
    }
    let callee = c.name(&DOTTED);
    if callee.is_empty() || !(c.eat(") from ") && c.pc() && c.eat(" (")) {
        return None;
    }
    let caller = c.name(&SYMBOL);
    (!caller.is_empty() && (c.s.starts_with('.') || c.s.starts_with('+'))).then_some(LineNames {
        first: callee,
        second: Some(caller),
    })
}

/// Parses one report line as a full stack frame, if it is one:
/// `[<pc>] ? name+0xOFF/0xSIZE [module] path/file.c:LINE`.
pub(crate) fn parse_frame(line: &str) -> Option<Frame> {
    let mut c = Cursor {
        s: line.trim_start(),
    };
    if c.pc() {
        c.s = c.s.trim_start();
    }
    let questionable = c.eat("? ");
    c.eat("(");
    let function = c.name(&FUNCTION);
    let offset_start = c.s;
    if function.is_empty() || !c.eat("+0x") {
        return None;
    }
    if c.hex().is_empty() || !c.eat("/0x") || c.hex().is_empty() {
        return None;
    }
    // `+0xOFF/0xSIZE`, as printed.
    let offset = offset_start[..offset_start.len() - c.s.len()].to_owned();
    c.eat(" ");
    let module = if c.eat("[") {
        let module = c.name(&DOTTED);
        c.skip_while(|b| b != b']');
        c.eat("]");
        (!module.is_empty()).then(|| module.to_owned())
    } else {
        None
    };
    c.eat(")");
    c.s = c.s.trim_start();
    let path = c.name(&PATH);
    let (path, line_no) = match (
        path.contains('.') && c.eat(":"),
        c.skip_while(|b| b.is_ascii_digit()),
    ) {
        (true, digits) if !digits.is_empty() => (Some(path.to_owned()), digits.parse().ok()),
        _ => (None, None),
    };
    Some(Frame {
        function: super::demangle::demangle(function).into_owned(),
        offset: Some(offset),
        module,
        path,
        line: line_no,
        reliable: !questionable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_shortest_prefix() {
        assert_eq!(strip_prefix("__se_sys_futex"), "futex");
        assert_eq!(strip_prefix("__x64_sys_read"), "sys_read");
        assert_eq!(strip_prefix("do_foo"), "do_foo");
    }

    #[test]
    fn stall_picks_caller_of_dispatcher() {
        let frames: Vec<String> = ["foo", "bar", "vfs_write", "ksys_write"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(pick(Pick::Stall, &frames), Some((1, "bar".to_owned())));
    }

    #[test]
    fn hang_buckets() {
        let frames: Vec<String> = ["schedule", "synchronize_rcu_expedited", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            pick(Pick::Hang, &frames),
            Some((1, "synchronize_rcu".to_owned()))
        );
    }

    #[test]
    fn frame_line_names_like_the_kernel_prints_them() {
        let names = |line| frame_line_names(line).map(|names| names.iter().collect::<Vec<_>>());
        assert_eq!(names("  foo+0x1/0x2"), Some(vec!["foo"]));
        assert_eq!(
            names(" [<ffffffff8100>] [<ffffffff8200>] bar.isra.0+0x1/0x2"),
            Some(vec!["bar"])
        );
        assert_eq!(
            names("[<c0100>] (callee) from [<c0200>] (caller+0x4/0x8)"),
            Some(vec!["callee", "caller"])
        );
        assert_eq!(names("Call Trace:"), None);
        assert_eq!(names("RIP: 0010:foo+0x1/0x2"), None);
    }

    #[test]
    fn stack_start_literals_cover_their_patterns() {
        for (i, (pattern, literal)) in STACK_START.iter().enumerate() {
            assert_eq!(
                STACK_START_LITERALS[RULES.start_literal[i]], *literal,
                "{pattern}"
            );
        }
        let mut lines = StackLines::new("x\nCall Trace:\n f+0x1/0x2\n");
        assert!(!lines.is_stack_start(0, "x"));
        assert!(lines.is_stack_start(2, "Call Trace:"));
        assert!(!lines.is_stack_start(14, " f+0x1/0x2"));
        assert!(
            !lines.is_corrupted(" should_fail+0x1/0x2"),
            "the text holds no should_fail"
        );
    }

    #[test]
    fn parses_frames() {
        let f = parse_frame(" ? bch2_foo+0x1a/0x2b [bcachefs] fs/bcachefs/foo.c:12")
            .expect("test input");
        assert_eq!(f.function, "bch2_foo");
        assert_eq!(f.offset.as_deref(), Some("+0x1a/0x2b"));
        assert_eq!(f.module.as_deref(), Some("bcachefs"));
        assert_eq!(f.path.as_deref(), Some("fs/bcachefs/foo.c"));
        assert_eq!(f.line, Some(12));
        assert!(!f.reliable);
    }
}
