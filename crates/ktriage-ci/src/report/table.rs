//! The report table: which console lines start a report and how each kind of report is
//! titled. Facts follow syzkaller's Linux reporter conventions; the table is data only,
//! compiled once by [`super::oops`].
//!
//! Pattern placeholders: `{{PC}}` a `[<ffff...>]` address, `{{FUNC}}` a function name
//! followed by `+` or `.` (one capture), `{{SRC}}` a `path.c:123` location (one capture),
//! `{{TASK}}` a task name, `{{RIP}}` the faulting-function line (`RIP:`, `pc :`, ...; one
//! capture), `{{CALLTRACE}}` a `Call Trace:` line. In a stack part, `TRACE` means "parse a
//! stack trace here". Title templates refer to captures as `{1}`, `{2}`, ...; extracted
//! stack frames are numbered after the captures.

/// How the guilty frame is chosen from the parsed frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick {
    /// The first frame that is not skipped.
    First,
    /// Stalls and lockups: the frame just above the first dispatcher frame.
    Stall,
    /// Hung tasks: `rtnl_lock`/`synchronize_rcu` buckets, else skip wait frames.
    Hang,
}

/// How to find the guilty frame(s) of a report.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StackSpec {
    /// Patterns matched line by line, in order; `TRACE` parses a stack.
    pub parts: &'static [&'static str],
    /// Tried when `parts` yield no frame.
    pub parts2: &'static [&'static str],
    /// Extra function-name patterns to skip for this report kind.
    pub skip: &'static [&'static str],
    /// Frame choice.
    pub pick: Pick,
}

/// One title format of a report group.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FormatSpec {
    /// Matched anywhere in the report text; the earliest match wins.
    pub title: &'static str,
    /// When set, must also match (else the report is corrupted); its captures are used.
    pub report: Option<&'static str>,
    /// Title template.
    pub fmt: &'static str,
    /// How to find frames for the template.
    pub stack: Option<StackSpec>,
    /// The report has no stack trace by nature (skip the missing-trace check).
    pub no_stack_trace: bool,
    /// The format itself means the report is corrupted.
    pub corrupted: bool,
    /// The title's numbers are meaningful (test names): skip dynamic-part normalisation.
    pub verbatim: bool,
}

/// A group of formats sharing a header keyword.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupSpec {
    /// Literal that a report's first line contains.
    pub header: &'static str,
    /// Formats, in priority order.
    pub formats: &'static [FormatSpec],
    /// Lines containing the header but matching one of these do not start a report.
    pub suppress: &'static [&'static str],
    /// A weak report (bcachefs error messages, test output): ranked after real crashes.
    pub weak: bool,
}

const F: FormatSpec = FormatSpec {
    title: "",
    report: None,
    fmt: "",
    stack: None,
    no_stack_trace: false,
    corrupted: false,
    verbatim: false,
};

const S: StackSpec = StackSpec {
    parts: &[],
    parts2: &[],
    skip: &[],
    pick: Pick::First,
};

const RIP_TRACE: &[&str] = &["{{RIP}}", "{{CALLTRACE}}", "TRACE"];
const CALL_TRACE: &[&str] = &["{{CALLTRACE}}", "TRACE"];
const RIP_ONLY: &[&str] = &["{{RIP}}"];
/// A WARNING's stack starts at the RIP line (x86) or `--- interrupt:` (powerpc).
const WARN_PARTS: &[&str] = &["(?:{{RIP}}|--- interrupt: [0-9]+ at {{FUNC}})", "TRACE"];

const fn warning(skip: &'static [&'static str]) -> Option<StackSpec> {
    Some(StackSpec {
        parts: WARN_PARTS,
        parts2: CALL_TRACE,
        skip,
        pick: Pick::First,
    })
}

const fn rip_trace(skip: &'static [&'static str]) -> Option<StackSpec> {
    Some(StackSpec {
        parts: RIP_TRACE,
        skip,
        ..S
    })
}

const fn call_trace(skip: &'static [&'static str]) -> Option<StackSpec> {
    Some(StackSpec {
        parts: CALL_TRACE,
        skip,
        ..S
    })
}

/// A group with one format whose frame comes from `parts`.
macro_rules! simple_group {
    ($header:expr, $title:expr, $fmt:expr, $parts:expr $(,)?) => {
        GroupSpec {
            header: $header,
            formats: &[FormatSpec {
                title: $title,
                fmt: $fmt,
                stack: Some(StackSpec { parts: $parts, ..S }),
                ..F
            }],
            suppress: &[],
            weak: false,
        }
    };
}

/// A group with one format and no stack trace.
macro_rules! no_stack_group {
    ($header:expr, $title:expr, $fmt:expr $(,)?) => {
        GroupSpec {
            header: $header,
            formats: &[FormatSpec {
                title: $title,
                fmt: $fmt,
                no_stack_trace: true,
                ..F
            }],
            suppress: &[],
            weak: false,
        }
    };
}

/// Groups in priority order (for one line, the first group whose header it contains wins).
pub(crate) const GROUPS: &[GroupSpec] = &[
    GroupSpec { header: "BUG:", formats: BUG, suppress: BUG_SUPPRESS, weak: false },
    GroupSpec { header: "WARNING:", formats: WARNING, suppress: WARNING_SUPPRESS, weak: false },
    GroupSpec { header: "INFO:", formats: INFO, suppress: INFO_SUPPRESS, weak: false },
    GroupSpec {
        header: "Unable to handle kernel",
        formats: &[FormatSpec {
            title: "Unable to handle kernel (paging request|NULL pointer dereference|access to user memory)",
            fmt: "BUG: unable to handle kernel {1} in {2}",
            stack: rip_trace(&[]),
            ..F
        }],
        suppress: &[],
        weak: false,
    },
    GroupSpec {
        header: "general protection fault",
        formats: &[FormatSpec {
            title: "general protection fault.*:",
            fmt: "general protection fault in {1}",
            stack: rip_trace(&[]),
            ..F
        }],
        suppress: &[r"general protection fault .* error:\d+ in "],
        weak: false,
    },
    GroupSpec {
        header: "stack segment: ",
        formats: &[FormatSpec {
            title: "stack segment: ",
            fmt: "stack segment fault in {1}",
            stack: rip_trace(&[]),
            ..F
        }],
        suppress: &[],
        weak: false,
    },
    GroupSpec { header: "Kernel panic", formats: PANIC, suppress: &[], weak: false },
    GroupSpec {
        header: "PANIC: double fault",
        formats: &[FormatSpec {
            title: "PANIC: double fault",
            fmt: "PANIC: double fault in {1}",
            stack: Some(StackSpec { parts: RIP_ONLY, ..S }),
            ..F
        }],
        suppress: &[],
        weak: false,
    },
    GroupSpec {
        header: "rust_kernel: panicked",
        formats: &[FormatSpec {
            title: "rust_kernel: panicked",
            report: Some("rust_kernel: panicked at [^\n]*?\n(.+?)\n"),
            fmt: "{1} in {2}",
            stack: call_trace(&[r"__rustc::rust_begin_unwind"]),
            ..F
        }],
        suppress: &[],
        weak: false,
    },
    GroupSpec { header: "kernel BUG", formats: KERNEL_BUG, suppress: &[], weak: false },
    GroupSpec {
        header: "Kernel BUG",
        formats: &[FormatSpec { title: "Kernel BUG (.*)", fmt: "kernel BUG {1}", ..F }],
        suppress: &[],
        weak: false,
    },
    GroupSpec {
        header: "BUG kmalloc-",
        formats: &[FormatSpec {
            title: "BUG kmalloc-.*: Object already free",
            fmt: "BUG: Object already free",
            ..F
        }],
        suppress: &[],
        weak: false,
    },
    simple_group!("divide error:", "divide error: ", "divide error in {1}", RIP_ONLY),
    simple_group!("divide_error:", "divide_error: ", "divide error in {1}", RIP_ONLY),
    simple_group!("invalid opcode:", "invalid opcode: ", "invalid opcode in {1}", RIP_ONLY),
    simple_group!("int3:", "int3: ", "int3 in {1}", RIP_TRACE),
    GroupSpec { header: "UBSAN:", formats: UBSAN, suppress: &[], weak: false },
    GroupSpec {
        header: "Booting the kernel.",
        formats: &[FormatSpec {
            title: "^Booting the kernel",
            fmt: "unexpected kernel reboot",
            no_stack_trace: true,
            ..F
        }],
        suppress: &["Parsing ELF|Decompressing Linux|Unknown parameter '"],
        weak: false,
    },
    no_stack_group!(
        "unregister_netdevice: waiting for",
        "unregister_netdevice: waiting for (?:.*) to become free",
        "unregister_netdevice: waiting for DEV to become free",
    ),
    no_stack_group!(
        "VFS: Close: file count is 0",
        "VFS: Close: file count is 0",
        "VFS: Close: file count is zero (use-after-free)",
    ),
    no_stack_group!(
        "VFS: Busy inodes after unmount",
        "VFS: Busy inodes after unmount",
        "VFS: Busy inodes after unmount (use-after-free)",
    ),
    simple_group!("Internal error:", "Internal error:", "Internal error in {1}", RIP_TRACE),
    simple_group!("Unhandled fault:", "Unhandled fault:", "Unhandled fault in {1}", RIP_TRACE),
    simple_group!("Alignment trap:", "Alignment trap:", "Alignment trap in {1}", RIP_TRACE),
    GroupSpec { header: "trusty: panic", formats: TRUSTY, suppress: &[], weak: false },
    GroupSpec {
        header: "fatal error:",
        formats: &[FormatSpec {
            title: "fatal error:",
            fmt: "go runtime error",
            no_stack_trace: true,
            ..F
        }],
        suppress: &["ALSA", "fatal error: cannot create timer"],
        weak: false,
    },
    GroupSpec {
        header: "SYZFAIL:",
        formats: &[FormatSpec {
            title: "SYZFAIL:(.*)",
            fmt: "SYZFAIL:{1}",
            no_stack_trace: true,
            ..F
        }],
        suppress: &[],
        weak: false,
    },
    GroupSpec {
        header: "SYZFATAL:",
        formats: &[FormatSpec {
            title: "SYZFATAL:(.*)",
            fmt: "SYZFATAL:{1}",
            no_stack_trace: true,
            ..F
        }],
        suppress: &[],
        weak: false,
    },
    GroupSpec {
        header: "panic:",
        formats: &[
            FormatSpec {
                title: "panic: Sentry detected .* stuck task",
                fmt: "panic: Sentry detected stuck tasks",
                no_stack_trace: true,
                ..F
            },
            FormatSpec { title: "panic:(.*)", fmt: "panic:{1}", no_stack_trace: true, ..F },
        ],
        suppress: &["_panic:", "xlog_status:", r"ddb\.onpanic:", "evtlog_status:"],
        weak: false,
    },
    GroupSpec {
        header: "): fatal error",
        formats: &[FormatSpec {
            title: r"bcachefs \([^)]*\): (?:{{SRC}}: )?([a-zA-Z0-9_]+)\(\): fatal error",
            fmt: "bcachefs: fatal error in {2}",
            no_stack_trace: true,
            ..F
        }],
        suppress: &[],
        weak: true,
    },
    GroupSpec {
        header: "emergency read only",
        formats: &[FormatSpec {
            title: "emergency read only",
            fmt: "bcachefs: emergency read only",
            no_stack_trace: true,
            ..F
        }],
        suppress: &[],
        weak: true,
    },
    GroupSpec {
        header: "fsck_errors_not_fixed",
        formats: &[FormatSpec {
            title: r"bcachefs \([^)]*\): ([a-zA-Z0-9_]+)\(\): error fsck_errors_not_fixed",
            fmt: "bcachefs: fsck errors not fixed in {1}",
            no_stack_trace: true,
            ..F
        }],
        suppress: &[],
        weak: true,
    },
    GroupSpec {
        header: ": assertion failed: ",
        formats: &[FormatSpec {
            title: r"bcachefs \([^)]*\): {{SRC}}: ([a-zA-Z0-9_]+): assertion failed: ",
            fmt: "bcachefs: assertion failed in {2}",
            no_stack_trace: true,
            ..F
        }],
        suppress: &[],
        weak: true,
    },
    GroupSpec {
        header: " - output mismatch (see ",
        formats: &[FormatSpec {
            title: r"^([a-zA-Z0-9_\-]+/[0-9]+)\s+- output mismatch",
            fmt: "output mismatch in {1}",
            no_stack_trace: true,
            verbatim: true,
            ..F
        }],
        suppress: &[],
        weak: true,
    },
];

const KASAN_STACK_SKIP: &[&str] = &["kernel_fault", "tag_check", "mem_abort", "^el1_", "^el1h_"];
const KMSAN_PARTS: &[&str] = &[
    "TRACE",
    "(Local variable .* created at:|Uninit was created at:)",
    "TRACE",
];
const KFENCE_PARTS: &[&str] = &["BUG: KFENCE: (?:[a-z\\- ]+) in {{FUNC}}", "TRACE"];

const BUG: &[FormatSpec] = &[
    FormatSpec {
        title: "BUG: KASAN:",
        report: Some(r"BUG: KASAN: ([a-z\-]+) in {{FUNC}}(?:.*\n)+?.*(Read|Write) (?:of size|at addr) (?:[0-9a-f]+)"),
        fmt: "KASAN: {1} {3} in {4}",
        stack: Some(StackSpec {
            parts: &[r"BUG: KASAN: (?:[a-z\-]+) in {{FUNC}}", "{{CALLTRACE}}", "TRACE"],
            skip: KASAN_STACK_SKIP,
            ..S
        }),
        ..F
    },
    FormatSpec {
        title: "BUG: KASAN:",
        report: Some("BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}"),
        fmt: "KASAN: invalid-free in {2}",
        stack: Some(StackSpec {
            parts: &[
                "BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}",
                "{{CALLTRACE}}",
                "TRACE",
            ],
            skip: &["slab_", "kfree", "vunmap", "vfree"],
            ..S
        }),
        ..F
    },
    FormatSpec {
        title: r"BUG: KASAN: ([a-z\-]+) on address(?:.*\n)+?.*(Read|Write) of size ([0-9]+)",
        fmt: "KASAN: {1} {2}",
        ..F
    },
    FormatSpec { title: "BUG: KASAN: (.*)", fmt: "KASAN: {1}", corrupted: true, ..F },
    FormatSpec {
        title: "BUG: KMSAN: kernel-usb-infoleak",
        report: Some("BUG: KMSAN: kernel-usb-infoleak in {{FUNC}}"),
        fmt: "KMSAN: kernel-usb-infoleak in {2}",
        stack: Some(StackSpec {
            parts: KMSAN_PARTS,
            skip: &[
                "alloc_skb",
                "usb_submit_urb",
                "usb_start_wait_urb",
                "usb_bulk_msg",
                "usb_interrupt_msg",
                "usb_control_msg",
            ],
            ..S
        }),
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: KMSAN:",
        report: Some(r"BUG: KMSAN: ([a-z\-]+) in {{FUNC}}"),
        fmt: "KMSAN: {1} in {3}",
        stack: Some(StackSpec {
            parts: KMSAN_PARTS,
            skip: &[
                "alloc_skb",
                "netlink_ack",
                "netlink_rcv_skb",
                "_encrypt$",
                "^(?:crypto|cipher|drbg|rng)_",
            ],
            ..S
        }),
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: KCSAN: data-race",
        report: Some("BUG: KCSAN: (.*)"),
        fmt: "KCSAN: {1}",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: KCSAN:",
        report: Some("BUG: KCSAN: (.*)"),
        fmt: "KCSAN: {1}",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: KFENCE: (use-after-free|out-of-bounds) (read|write) in {{FUNC}}",
        fmt: "KFENCE: {1} {2} in {4}",
        stack: Some(StackSpec { parts: KFENCE_PARTS, ..S }),
        ..F
    },
    FormatSpec {
        title: "BUG: KFENCE: invalid free in {{FUNC}}",
        fmt: "KFENCE: invalid free in {2}",
        stack: Some(StackSpec { parts: KFENCE_PARTS, ..S }),
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: KFENCE: invalid (read|write) in {{FUNC}}",
        fmt: "KFENCE: invalid {1} in {3}",
        stack: Some(StackSpec { parts: KFENCE_PARTS, ..S }),
        ..F
    },
    FormatSpec {
        title: "BUG: KFENCE: memory corruption in {{FUNC}}",
        fmt: "KFENCE: memory corruption in {2}",
        stack: Some(StackSpec { parts: KFENCE_PARTS, ..S }),
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: (?:unable to handle kernel paging request|unable to handle page fault for address|Unable to handle kernel data access)",
        fmt: "BUG: unable to handle kernel paging request in {1}",
        stack: rip_trace(&[]),
        ..F
    },
    FormatSpec {
        title: "BUG: (?:unable to handle kernel NULL pointer dereference|kernel NULL pointer dereference|Kernel NULL pointer dereference)",
        fmt: "BUG: unable to handle kernel NULL pointer dereference in {1}",
        stack: rip_trace(&[]),
        ..F
    },
    FormatSpec {
        title: "BUG: (?:unable to handle kernel|Unable to handle kernel)",
        fmt: "BUG: unable to handle kernel",
        corrupted: true,
        ..F
    },
    FormatSpec {
        title: "BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|bad magic|wrong owner|wrong CPU|trylock failure on UP)",
        fmt: "BUG: {1} {2} in {3}",
        stack: call_trace(&["spin_", "_lock", "_unlock"]),
        ..F
    },
    FormatSpec {
        title: "BUG: soft lockup",
        fmt: "BUG: soft lockup in {1}",
        stack: Some(StackSpec { parts: RIP_TRACE, pick: Pick::Stall, ..S }),
        ..F
    },
    FormatSpec {
        title: "BUG: .*still has locks held!",
        report: Some(r"BUG: .*still has locks held!(?:.*\n)+?.*{{PC}} +{{FUNC}}"),
        fmt: "BUG: still has locks held in {1}",
        ..F
    },
    FormatSpec {
        title: "BUG: scheduling while atomic",
        fmt: "BUG: scheduling while atomic in {1}",
        stack: call_trace(&["schedule"]),
        ..F
    },
    FormatSpec {
        title: "BUG: lock held when returning to user space",
        report: Some(r"BUG: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}"),
        fmt: "BUG: lock held when returning to user space in {1}",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: bad unlock balance detected!",
        fmt: "BUG: bad unlock balance in {1}",
        stack: Some(StackSpec { parts: &["{{PC}} +{{FUNC}}", "{{CALLTRACE}}", "TRACE"], ..S }),
        ..F
    },
    FormatSpec {
        title: "BUG: held lock freed!",
        report: Some(r"BUG: held lock freed!(?:.*\n)+?.*{{PC}} +{{FUNC}}"),
        fmt: "BUG: held lock freed in {1}",
        ..F
    },
    FormatSpec {
        title: "BUG: Bad rss-counter state",
        fmt: "BUG: Bad rss-counter state",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: non-zero nr_ptes on freeing mm",
        fmt: "BUG: non-zero nr_ptes on freeing mm",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: non-zero nr_pmds on freeing mm",
        fmt: "BUG: non-zero nr_pmds on freeing mm",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: Dentry .* still in use",
        report: Some(r"BUG: Dentry .* still in use \([0-9]+\) \[(unmount) of ([^\]]+)\]"),
        fmt: "BUG: Dentry still in use in {1}",
        ..F
    },
    FormatSpec {
        title: "BUG: Bad page (state|cache)",
        fmt: "BUG: Bad page {1} in {2}",
        stack: Some(StackSpec {
            parts: &["page last allocated", "TRACE"],
            skip: &[
                "(free|put|get|update|release)_page",
                "free_unref",
                "^_*folio",
                "truncate_inode_pages",
                "page_frag_free",
                "alloc",
                "vmap",
                "page_owner",
            ],
            ..S
        }),
        ..F
    },
    FormatSpec { title: "BUG: Bad page map", fmt: "BUG: Bad page map", ..F },
    FormatSpec {
        title: "BUG: workqueue lockup",
        fmt: "BUG: workqueue lockup",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: sleeping function called from invalid context at (.*)",
        fmt: "BUG: sleeping function called from invalid context in {2}",
        stack: call_trace(&[]),
        ..F
    },
    FormatSpec {
        title: r"BUG: using ([a-z_]+)\(\) in preemptible",
        fmt: "BUG: using {1}() in preemptible code in {2}",
        stack: call_trace(&["dump_stack", "preemption", "preempt", "debug_", "processor_id", "this_cpu"]),
        ..F
    },
    FormatSpec {
        title: "BUG: workqueue leaked lock or atomic",
        report: Some(r"BUG: workqueue leaked lock or atomic(?:.*\n)+?.*last function: ([a-zA-Z0-9_]+)\n"),
        fmt: "BUG: workqueue leaked lock or atomic in {1}",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "BUG: memory leak",
        fmt: "memory leak in {1}",
        stack: Some(StackSpec {
            parts: &[r"backtrace(?: \(crc [[:xdigit:]]*\))?:", "TRACE"],
            skip: &[
                "kmemleak",
                "mmap",
                "kmem",
                "slab",
                "alloc",
                "create_object",
                "idr_get",
                "list_lru_init",
                "kasprintf",
                "kvasprintf",
                "pcpu_create",
                "strdup",
                "strndup",
                "memdup",
            ],
            ..S
        }),
        ..F
    },
    FormatSpec {
        title: "BUG: .*stack guard page was hit at",
        fmt: "BUG: stack guard page was hit in {1}",
        stack: Some(StackSpec { parts: RIP_TRACE, pick: Pick::Stall, ..S }),
        ..F
    },
    FormatSpec {
        title: "BUG: Invalid wait context",
        fmt: "WARNING: locking bug in {1}",
        stack: call_trace(&["lock_sock", "release_sock"]),
        ..F
    },
    FormatSpec { title: r"BUG:[[:space:]]*(?:\n|$)", fmt: "BUG: corrupted", corrupted: true, ..F },
];

const BUG_SUPPRESS: &[&str] = &[
    "ODEBUG:",
    "Boot_DEBUG:",
    "xlog_status:",
    "DEBUG:",
    "BUG: no syscalls can create resource",
];

const WARNING: &[FormatSpec] = &[
    FormatSpec {
        title: r"WARNING: .*lib/debugobjects\.c.* (?:debug_print|debug_check|at)",
        fmt: "WARNING: ODEBUG bug in {1}",
        stack: warning(&[
            "debug_",
            "rcu",
            "hrtimer_",
            "timer_",
            "work_",
            "percpu_",
            "vunmap",
            "vfree",
            "__free_",
            "debug_check",
            "kobject_",
        ]),
        ..F
    },
    FormatSpec {
        title: r"WARNING: .*mm/usercopy\.c.* (?:usercopy_warn|at)",
        fmt: "WARNING: bad usercopy in {1}",
        stack: warning(&["usercopy", "__check"]),
        ..F
    },
    FormatSpec {
        title: r"WARNING: .*lib/kobject\.c.* (?:kobject_|at)",
        fmt: "WARNING: kobject bug in {1}",
        stack: warning(&["kobject_"]),
        ..F
    },
    FormatSpec {
        title: r"WARNING: .*fs/proc/generic\.c.* (?:proc_register|at)",
        fmt: "WARNING: proc registration bug in {1}",
        stack: warning(&["proc_"]),
        ..F
    },
    FormatSpec {
        title: r"WARNING: .*lib/refcount\.c.* (?:refcount_|at)",
        fmt: "WARNING: refcount bug in {1}",
        stack: warning(&["refcount", "kobject_"]),
        ..F
    },
    FormatSpec {
        title: r"WARNING: .*kernel/locking/lockdep\.c.*lock_",
        fmt: "WARNING: locking bug in {1}",
        stack: warning(&["lock_sock", "release_sock"]),
        ..F
    },
    FormatSpec {
        title: "WARNING: .*still has locks held!",
        report: Some(r"WARNING: .*still has locks held!(?:.*\n)+?.*at: {{FUNC}}"),
        fmt: "WARNING: still has locks held in {1}",
        ..F
    },
    FormatSpec {
        title: "WARNING: Nested lock was not taken",
        fmt: "WARNING: nested lock was not taken in {1}",
        stack: warning(&[]),
        ..F
    },
    FormatSpec {
        title: "WARNING: lock held when returning to user space",
        report: Some(
            r"WARNING: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}",
        ),
        fmt: "WARNING: lock held when returning to user space in {1}",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: r"WARNING: .*mm/.*\.c.* k?.?malloc",
        fmt: "WARNING: kmalloc bug in {1}",
        stack: warning(&["kmalloc", "krealloc", "slab", "kmem"]),
        ..F
    },
    FormatSpec {
        title: r"WARNING: .*mm/vmalloc.c.*__vmalloc_node",
        fmt: "WARNING: zero-size vmalloc in {1}",
        stack: warning(&[]),
        ..F
    },
    FormatSpec {
        title: "WARNING: .* usb_submit_urb",
        fmt: "WARNING in {1}/usb_submit_urb",
        stack: warning(&[
            "usb_submit_urb",
            "usb_start_wait_urb",
            "usb_bulk_msg",
            "usb_interrupt_msg",
            "usb_control_msg",
        ]),
        ..F
    },
    FormatSpec {
        title: r"WARNING: {{SRC}} at 0x\d+, CPU#\d+",
        fmt: "WARNING in {2}",
        stack: warning(&[]),
        ..F
    },
    FormatSpec {
        title: "WARNING: .* at {{SRC}} {{FUNC}}",
        fmt: "WARNING in {3}",
        stack: warning(&[]),
        ..F
    },
    FormatSpec {
        title: "WARNING: {{SRC}} at {{FUNC}}",
        fmt: "WARNING in {3}",
        stack: warning(&[]),
        ..F
    },
    FormatSpec {
        title: r"WARNING: \[.*\] {{SRC}} at {{FUNC}}.*",
        fmt: "WARNING in {3}",
        stack: warning(&[]),
        ..F
    },
    FormatSpec {
        title: "WARNING: possible circular locking dependency detected",
        report: Some(
            r"WARNING: possible circular locking dependency detected(?:.*\n)+?.*is trying to acquire lock",
        ),
        fmt: "possible deadlock in {1}",
        stack: Some(StackSpec {
            parts: &[
                "at: (?:{{PC}} +)?{{FUNC}}",
                "at: (?:{{PC}} +)?{{FUNC}}",
                "TRACE",
            ],
            skip: &[
                "process_one_work",
                "flush_workqueue",
                "drain_workqueue",
                "destroy_workqueue",
            ],
            ..S
        }),
        ..F
    },
    FormatSpec {
        title: "WARNING: possible irq lock inversion dependency detected",
        report: Some(
            r"WARNING: possible irq lock inversion dependency detected(?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}",
        ),
        fmt: "possible deadlock in {1}",
        ..F
    },
    FormatSpec {
        title: "WARNING: .*-safe -> .*-unsafe lock order detected",
        fmt: "possible deadlock in {1}",
        stack: Some(StackSpec {
            parts: &["which became (?:.*) at:", "TRACE"],
            ..S
        }),
        ..F
    },
    FormatSpec {
        title: "WARNING: possible recursive locking detected",
        report: Some(
            r"WARNING: possible recursive locking detected(?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}",
        ),
        fmt: "possible deadlock in {1}",
        ..F
    },
    FormatSpec {
        title: "WARNING: inconsistent lock state",
        report: Some(
            r"WARNING: inconsistent lock state(?:.*\n)+?.*takes(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}",
        ),
        fmt: "inconsistent lock state in {2}",
        stack: call_trace(&[]),
        ..F
    },
    FormatSpec {
        title: "WARNING: suspicious RCU usage",
        report: Some(r"WARNING: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}"),
        fmt: "WARNING: suspicious RCU usage in {2}",
        stack: call_trace(&["rcu", "kmem", "slab"]),
        ..F
    },
    FormatSpec {
        title: "WARNING: kernel stack regs at [0-9a-f]+ in [^ ]* has bad '([^']+)' value",
        fmt: "WARNING: kernel stack regs has bad '{1}' value",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "WARNING: kernel stack frame pointer at [0-9a-f]+ in [^ ]* has bad value",
        fmt: "WARNING: kernel stack frame pointer has bad value",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "WARNING: bad unlock balance detected!",
        fmt: "WARNING: bad unlock balance in {1}",
        stack: Some(StackSpec {
            parts: &["{{PC}} +{{FUNC}}", "{{CALLTRACE}}", "TRACE"],
            ..S
        }),
        ..F
    },
    FormatSpec {
        title: "WARNING: held lock freed!",
        report: Some(r"WARNING: held lock freed!(?:.*\n)+?.*at:(?: {{PC}})? +{{FUNC}}"),
        fmt: "WARNING: held lock freed in {1}",
        ..F
    },
    FormatSpec {
        title: "WARNING: kernel stack regs .* has bad 'bp' value",
        fmt: "WARNING: kernel stack regs has bad value",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "WARNING: kernel stack frame pointer .* has bad value",
        fmt: "WARNING: kernel stack regs has bad value",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: r"WARNING:[[:space:]]*(?:\n|$)",
        fmt: "WARNING: corrupted",
        corrupted: true,
        ..F
    },
];

const WARNING_SUPPRESS: &[&str] = &[
    "WARNING: /etc/ssh/moduli does not exist, using fixed modulus",
    "WARNING: workqueue cpumask: online intersect > possible intersect",
    "WARNING: [Tt]he mand mount option",
    r"WARNING: Unsupported flag value\(s\) of 0x%x in DT_FLAGS_1",
    "WARNING: Unprivileged eBPF is enabled with eIBRS",
    r"WARNING: fbcon: Driver '(.*)' missed to adjust virtual screen size (\((?:\d+)x(?:\d+) vs\. (?:\d+)x(?:\d+)\))",
    "WARNING: See https.* for mitigation options.",
    "WARNING: kernel not compiled with CPU_SRSO",
    r"EXT4-[Ff][Ss](?: \(.*\))?:",
    "(?i)warning: .* uses (deprecated v2 capabilities|wireless extensions)",
    r"XFS \(\w+\): WARNING",
];

const INFO: &[FormatSpec] = &[
    FormatSpec {
        title: "INFO: possible circular locking dependency detected",
        report: Some(
            r"INFO: possible circular locking dependency detected \](?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
        ),
        fmt: "possible deadlock in {1}",
        ..F
    },
    FormatSpec {
        title: "INFO: possible irq lock inversion dependency detected",
        report: Some(
            r"INFO: possible irq lock inversion dependency detected \](?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
        ),
        fmt: "possible deadlock in {1}",
        ..F
    },
    FormatSpec {
        title: "INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected",
        report: Some(
            r"INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected \](?:.*\n)+?.*is trying to acquire(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
        ),
        fmt: "possible deadlock in {1}",
        ..F
    },
    FormatSpec {
        title: "INFO: possible recursive locking detected",
        report: Some(
            r"INFO: possible recursive locking detected \](?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
        ),
        fmt: "possible deadlock in {1}",
        ..F
    },
    FormatSpec {
        title: "INFO: inconsistent lock state",
        report: Some(
            r"INFO: inconsistent lock state \](?:.*\n)+?.*takes(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
        ),
        fmt: "inconsistent lock state in {1}",
        ..F
    },
    FormatSpec {
        title: "INFO: rcu_(?:preempt|sched|bh|tasks) (?:self-)?detected(?: expedited)? stall",
        fmt: "INFO: rcu detected stall in {1}",
        stack: Some(StackSpec {
            parts: &["apic_timer_interrupt", "{{RIP}}", "TRACE"],
            parts2: &[
                "(?:apic_timer_interrupt|Exception stack|el1h_64_irq)",
                "TRACE",
            ],
            skip: &["apic_timer_interrupt", "rcu"],
            pick: Pick::Stall,
        }),
        ..F
    },
    FormatSpec {
        title: "INFO: trying to register non-static key",
        fmt: "INFO: trying to register non-static key in {1}",
        stack: call_trace(&["stack", "lock", "IRQ"]),
        ..F
    },
    FormatSpec {
        title: "INFO: suspicious RCU usage",
        report: Some(r"INFO: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}"),
        fmt: "INFO: suspicious RCU usage in {2}",
        stack: call_trace(&["rcu", "kmem", "slab"]),
        ..F
    },
    FormatSpec {
        title: "INFO: task {{TASK}} blocked (?:in I/O wait )?for more than [0-9]+ seconds",
        fmt: "INFO: task hung in {1}",
        stack: Some(StackSpec {
            parts: CALL_TRACE,
            pick: Pick::Hang,
            ..S
        }),
        ..F
    },
    FormatSpec {
        title: "INFO: task {{TASK}} can't die for more than .* seconds",
        fmt: "INFO: task can't die in {1}",
        stack: call_trace(&["schedule"]),
        ..F
    },
    FormatSpec {
        title: "INFO: (Freed|Allocated) in (.*)",
        fmt: "INFO: {1} in {2}",
        corrupted: true,
        ..F
    },
    FormatSpec {
        title: r"INFO:[[:space:]]*(?:\n|$)",
        fmt: "INFO: corrupted",
        corrupted: true,
        ..F
    },
];

const INFO_SUPPRESS: &[&str] = &[
    "INFO: lockdep is turned off",
    "INFO: Stall ended before state dump start",
    "INFO: NMI handler",
    "INFO: recovery required on readonly filesystem",
    "(handler|interrupt).*took too long",
    "INFO: sys_.* is not present in /proc/kallsyms",
    "INFO: no syscalls can create resource",
    "rmt_storage:INFO:",
    "_INFO:",
];

const PANIC: &[FormatSpec] = &[
    FormatSpec {
        title: "Kernel panic - not syncing: stack-protector:",
        report: Some(
            "Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: {{FUNC}}",
        ),
        fmt: "kernel panic: stack is corrupted in {1}",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "Kernel panic - not syncing: stack-protector:",
        report: Some(
            "Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: [a-f0-9]+",
        ),
        fmt: "kernel panic: stack is corrupted in {1}",
        stack: call_trace(&["stack_chk"]),
        ..F
    },
    FormatSpec {
        title: "Kernel panic - not syncing: corrupted stack end",
        report: Some("Kernel panic - not syncing: corrupted stack end detected inside scheduler"),
        fmt: "kernel panic: corrupted stack end in {1}",
        stack: Some(StackSpec {
            parts: CALL_TRACE,
            skip: &["schedule", "retint_kernel"],
            pick: Pick::Stall,
            ..S
        }),
        ..F
    },
    FormatSpec {
        title: "Kernel panic - not syncing: kernel stack overflow",
        fmt: "kernel stack overflow in {1}",
        stack: Some(StackSpec {
            parts: CALL_TRACE,
            skip: &["bad_stack"],
            pick: Pick::Stall,
            ..S
        }),
        ..F
    },
    FormatSpec {
        title: "Kernel panic - not syncing: Attempted to kill init!",
        fmt: "kernel panic: Attempted to kill init!",
        ..F
    },
    FormatSpec {
        title: "Kernel panic - not syncing: Couldn't open N_TTY ldisc for [^ ]+ --- error -[0-9]+",
        fmt: "kernel panic: Couldn't open N_TTY ldisc",
        ..F
    },
    FormatSpec {
        title: "Kernel panic - not syncing: Fatal exception",
        fmt: "kernel panic: Fatal exception",
        corrupted: true,
        ..F
    },
    FormatSpec {
        title: "Kernel panic - not syncing: panic_on_warn set",
        fmt: "kernel panic: panic_on_warn set",
        corrupted: true,
        ..F
    },
    FormatSpec {
        title: "Kernel panic - not syncing: hung_task: blocked tasks",
        fmt: "kernel panic: hung_task: blocked tasks",
        corrupted: true,
        ..F
    },
    FormatSpec {
        title: "Kernel panic - not syncing: (.*)",
        fmt: "kernel panic: {1}",
        ..F
    },
];

const KERNEL_BUG: &[FormatSpec] = &[
    FormatSpec {
        title: "kernel BUG at mm/usercopy.c",
        fmt: "BUG: bad usercopy in {1}",
        stack: call_trace(&["usercopy", "__check"]),
        ..F
    },
    FormatSpec {
        title: "kernel BUG at lib/list_debug.c",
        fmt: "BUG: corrupted list in {1}",
        stack: call_trace(&[]),
        ..F
    },
    FormatSpec {
        title: "kernel BUG at (.*)",
        fmt: "kernel BUG in {2}",
        stack: rip_trace(&["^skb_"]),
        ..F
    },
];

const UBSAN_SKIP: &[&str] = &["ubsan", "overflow"];

const UBSAN: &[FormatSpec] = &[
    FormatSpec {
        title: "UBSAN:",
        report: Some("UBSAN: Undefined behaviour in"),
        fmt: "UBSAN: undefined-behaviour in {1}",
        stack: call_trace(UBSAN_SKIP),
        ..F
    },
    FormatSpec {
        title: "UBSAN: array-index-out-of-bounds in",
        fmt: "UBSAN: array-index-out-of-bounds in {1}",
        stack: call_trace(UBSAN_SKIP),
        ..F
    },
    FormatSpec {
        title: "UBSAN:",
        report: Some("UBSAN: (.*?) in"),
        fmt: "UBSAN: {1} in {2}",
        stack: call_trace(UBSAN_SKIP),
        ..F
    },
];

const TRUSTY: &[FormatSpec] = &[
    FormatSpec {
        title: "trusty: panic.* ASSERT FAILED",
        report: Some(r"trusty: panic \(.*?\):(?: DEBUG)? ASSERT FAILED at \(.*?\): (.+)"),
        fmt: "trusty: ASSERT FAILED: {1}",
        no_stack_trace: true,
        ..F
    },
    FormatSpec {
        title: "trusty: panic.* ASSERT FAILED.*: *(.*)",
        fmt: "trusty: ASSERT FAILED: {1}",
        corrupted: true,
        ..F
    },
    FormatSpec {
        title: "trusty: panic",
        report: Some(r"trusty: panic \(.*?\): (.+)"),
        fmt: "trusty: panic: {1}",
        no_stack_trace: true,
        ..F
    },
];
