//! Title post-processing: normalisation of dynamic parts, crash type, and the frame named
//! by a title.

use std::sync::LazyLock;

use regex::Regex;

/// Dynamic parts and their replacements, applied in order, each until nothing changes.
const DYNAMIC: &[(&str, &str)] = &[
    (r"syz-executor\.?[0-9]+((/|:)[0-9]+)?", "syz-executor"),
    (r"syzkaller[0-9]+((/|:)[0-9]+)?", "syzkaller"),
    (r"([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}", "${1}ADDR"),
    (r"([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})", "IP"),
    (r"(\.\w+)(:[0-9]+)+", "${1}:LINE"),
    (r"([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+/0x[0-9a-z]+", "${1}"),
    (r"CPU#[0-9]+", "CPU"),
    (r"(\W)(\d+)(\W|$)", "${1}NUM${3}"),
    (r"(\d+){7,}", "NUM"),
];

/// Longest title kept (intermixed lines can be very long).
const MAX_TITLE: usize = 120;

/// Crash type by title prefix; the first matching row wins.
const TYPES: &[(&[&str], &str)] = &[
    (
        &["KFENCE: use-after-free write"],
        "KFENCE-USE-AFTER-FREE-WRITE",
    ),
    (
        &["KFENCE: use-after-free read", "KFENCE: use-after-free"],
        "KFENCE-USE-AFTER-FREE-READ",
    ),
    (
        &["KFENCE: invalid write", "KFENCE: out-of-bounds write"],
        "KFENCE-WRITE",
    ),
    (
        &[
            "KFENCE: invalid read",
            "KFENCE: out-of-bounds read",
            "KFENCE: out-of-bounds",
        ],
        "KFENCE-READ",
    ),
    (&["KFENCE: memory corruption"], "KFENCE-MEMORY-CORRUPTION"),
    (&["KFENCE: invalid free"], "KFENCE-INVALID-FREE"),
    (&["KMSAN: uninit-value"], "KMSAN-UNINIT-VALUE"),
    (
        &[
            "KMSAN: kernel-infoleak-after-free",
            "KMSAN: kernel-usb-infoleak-after-free",
            "KMSAN: use-after-free",
        ],
        "KMSAN-USE-AFTER-FREE-READ",
    ),
    (
        &["KMSAN: kernel-infoleak", "KMSAN: kernel-usb-infoleak"],
        "KMSAN-INFO-LEAK",
    ),
    (
        &["KASAN: null-ptr-deref Write"],
        "KASAN-NULL-POINTER-DEREFERENCE-WRITE",
    ),
    (
        &["KASAN: null-ptr-deref Read"],
        "KASAN-NULL-POINTER-DEREFERENCE-READ",
    ),
    (
        &["BUG: unable to handle kernel NULL pointer dereference in"],
        "NULL-POINTER-DEREFERENCE",
    ),
    (
        &[
            "KASAN: global-out-of-bounds Write",
            "KASAN: out-of-bounds Write",
            "KASAN: slab-out-of-bounds Write",
            "KASAN: stack-out-of-bounds Write",
            "KASAN: user-memory-access Write",
            "KASAN: vmalloc-out-of-bounds Write",
            "KASAN: wild-memory-access Write",
        ],
        "KASAN-WRITE",
    ),
    (
        &[
            "KASAN: global-out-of-bounds Read",
            "KASAN: invalid-access Read",
            "KASAN: out-of-bounds Read",
            "KASAN: slab-out-of-bounds Read",
            "KASAN: slab-out-of-bounds",
            "KASAN: stack-out-of-bounds Read",
            "KASAN: stack-out-of-bounds",
            "KASAN: unknown-crash Read",
            "KASAN: user-memory-access Read",
            "KASAN: vmalloc-out-of-bounds Read",
            "KASAN: wild-memory-access Read",
            "KASAN: wild-memory-access",
        ],
        "KASAN-READ",
    ),
    (
        &["KASAN: double-free or invalid-free", "KASAN: invalid-free"],
        "KASAN-INVALID-FREE",
    ),
    (
        &[
            "KASAN: slab-use-after-free Write",
            "KASAN: use-after-free Write",
        ],
        "KASAN-USE-AFTER-FREE-WRITE",
    ),
    (
        &[
            "KASAN: slab-use-after-free Read",
            "KASAN: use-after-free Read",
            "KASAN: use-after-free",
        ],
        "KASAN-USE-AFTER-FREE-READ",
    ),
    (
        &[
            "BUG: corrupted list",
            "BUG: unable to handle kernel paging request",
        ],
        "MEMORY_SAFETY_BUG",
    ),
    (&["WARNING: refcount bug"], "REFCOUNT_WARNING"),
    (&["UBSAN: array-index-out-of-bounds"], "MEMORY_SAFETY_UBSAN"),
    (&["KCSAN: data-race"], "KCSAN-DATARACE"),
    (&["KCSAN: assert: race in"], "KCSAN-ASSERT"),
    (
        &[
            "BUG: bad unlock balance in",
            "BUG: held lock freed in",
            "BUG: rwlock",
            "BUG: spinlock",
            "BUG: still has locks held in",
            "BUG: using",
            "WARNING: bad unlock balance in",
            "WARNING: held lock freed in",
            "WARNING: lock held",
            "WARNING: locking bug in",
            "WARNING: nested lock was not taken in",
            "WARNING: still has locks held in",
            "WARNING: suspicious RCU usage in",
            "inconsistent lock state in",
            "possible deadlock in",
        ],
        "LOCKDEP",
    ),
    (
        &[
            "BUG: scheduling while atomic in",
            "BUG: sleeping function called from invalid context in",
        ],
        "ATOMIC_SLEEP",
    ),
    (&["memory leak in"], "LEAK"),
    (&["BUG: bad usercopy in", "kernel BUG"], "BUG"),
    (&["WARNING in"], "WARNING"),
    (
        &[
            "BUG: stack guard page was hit in",
            "WARNING: corrupted",
            "WARNING: kernel stack frame pointer has bad value",
            "WARNING: kernel stack regs has bad",
        ],
        UNKNOWN,
    ),
    (
        &[
            "BUG: soft lockup in",
            "INFO: rcu detected stall in",
            "INFO: task can't die in",
            "INFO: task hung in",
        ],
        "HANG",
    ),
    (
        &[
            "Alignment trap in",
            "BUG: Object already free",
            "Internal error in",
            "PANIC: double fault",
            "Unhandled fault in",
            "VFS: Busy inodes after unmount (use-after-free)",
            "VFS: Close: file count is zero (use-after-free)",
            "divide error in",
            "general protection fault in",
            "go runtime error",
            "int3 in",
            "invalid opcode in",
            "kernel panic:",
            "kernel stack overflow",
            "panic:",
            "rust_kernel panicked",
            "stack segment fault in",
            "trusty:",
            "unregister_netdevice: waiting for DEV to become free",
        ],
        "DoS",
    ),
    (&["unexpected kernel reboot"], "REBOOT"),
    (&["SYZFAIL", "SYZFATAL:"], "SYZ_FAILURE"),
    (&["bcachefs: emergency read only"], "BCACHEFS-EMERGENCY-RO"),
    (&["bcachefs: fatal error"], "BCACHEFS-FATAL-ERROR"),
    (&["bcachefs: fsck errors not fixed"], "BCACHEFS-FSCK-ERRORS"),
    (&["bcachefs: assertion failed"], "BCACHEFS-ASSERT"),
    (&["output mismatch in"], "TEST-OUTPUT-MISMATCH"),
    (&["WARNING:"], "WARNING"),
    (&["BUG:", "INFO:"], UNKNOWN),
    (&["KASAN:"], "KASAN-UNKNOWN"),
    (&["KFENCE:"], "KFENCE-UNKNOWN"),
    (&["KMSAN:"], "KMSAN-UNKNOWN"),
    (&["UBSAN:"], "UBSAN"),
    (&["KCSAN:"], "KCSAN-UNKNOWN"),
];

/// The type of titles no row classifies.
pub(crate) const UNKNOWN: &str = "UNKNOWN";

static DYNAMIC_RES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    DYNAMIC
        .iter()
        .map(|(re, with)| (super::pattern::compile(re), *with))
        .collect()
});

static TIMESTAMP: LazyLock<Regex> =
    LazyLock::new(|| super::pattern::compile(r"\[ *[0-9]+\.[0-9]+\]"));

/// Replaces dynamic parts (pids, addresses, line numbers, numbers) and sanitises.
pub(crate) fn normalize(title: &str) -> String {
    let mut title = title.to_owned();
    for (re, with) in DYNAMIC_RES.iter() {
        // Overlapping matches (`0,1,2`) need several passes; each pass shortens or keeps
        // the string, and the loop stops as soon as it is unchanged.
        for _ in 0..64 {
            let next = re.replace_all(&title, *with);
            if next == title {
                break;
            }
            title = next.into_owned();
        }
    }
    sanitize(&title)
}

/// Drops control characters, collapses spaces, cuts at [`MAX_TITLE`] bytes.
fn sanitize(title: &str) -> String {
    let mut out = String::with_capacity(title.len().min(MAX_TITLE));
    let mut prev = ' ';
    for (i, c) in title.char_indices() {
        if i >= MAX_TITLE {
            break;
        }
        let c = if c == '\t' { ' ' } else { c };
        if (c as u32) < 0x20 || (c as u32) >= 0x7f || (c == ' ' && prev == ' ') {
            continue;
        }
        out.push(c);
        prev = c;
    }
    out.trim().to_owned()
}

/// The crash type of a normalised title.
pub(crate) fn crash_type(title: &str) -> &'static str {
    TYPES
        .iter()
        .find(|(prefixes, _)| prefixes.iter().any(|p| title.starts_with(p)))
        .map_or(UNKNOWN, |(_, kind)| kind)
}

/// The frame a title names: the name after the last ` in ` that is followed by one
/// (`[a-zA-Z0-9_:]+`, optionally after a `<[a-zA-Z0-9_: ]+>` type), in the first line that
/// has one. This is what the regex `.* in ((?:<[a-zA-Z0-9_: ]+>)?[a-zA-Z0-9_:]+)` captures.
pub(crate) fn frame_of(title: &str) -> Option<String> {
    title.split('\n').find_map(frame_in_line).map(str::to_owned)
}

/// [`frame_of`] within one line.
fn frame_in_line(line: &str) -> Option<&str> {
    let mut end = line.len();
    while let Some(at) = line[..end].rfind(" in ") {
        if let Some(frame) = frame_at(&line[at + 4..]) {
            return Some(frame);
        }
        // Occurrences of ` in ` may overlap by their space.
        end = at + 3;
    }
    None
}

/// The frame name that `rest` starts with, if any.
fn frame_at(rest: &str) -> Option<&str> {
    let name_len = |s: &str| {
        s.bytes()
            .take_while(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
            .count()
    };
    let type_len = match rest.strip_prefix('<') {
        Some(inner) => {
            let len = inner
                .bytes()
                .take_while(|&b| b.is_ascii_alphanumeric() || b"_: ".contains(&b))
                .count();
            let closed = len > 0 && inner.as_bytes().get(len) == Some(&b'>');
            // Without a closed type and a name after it, a name cannot start at `<`.
            if !closed || name_len(&inner[len + 1..]) == 0 {
                return None;
            }
            len + 2
        }
        None => 0,
    };
    let len = type_len + name_len(&rest[type_len..]);
    (len > 0).then(|| &rest[..len])
}

/// A raw title holding a console timestamp comes from intermixed lines.
pub(crate) fn has_timestamp(title: &str) -> bool {
    TIMESTAMP.is_match(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_dynamic_parts() {
        assert_eq!(
            normalize("INFO: Allocated in fasync_helper+0x29/0x90 age=11 cpu=1 pid=5"),
            "INFO: Allocated in fasync_helper age=NUM cpu=NUM pid=NUM"
        );
        assert_eq!(
            normalize("KASAN: x in f at addr ffff88006a3c8d40"),
            "KASAN: x in f at addr ADDR"
        );
        assert_eq!(
            normalize("kernel BUG at fs/x.c:12!"),
            "kernel BUG at fs/x.c:LINE!"
        );
    }

    #[test]
    fn types() {
        assert_eq!(
            crash_type("KASAN: use-after-free Read in f"),
            "KASAN-USE-AFTER-FREE-READ"
        );
        assert_eq!(crash_type("INFO: task hung in f"), "HANG");
        assert_eq!(crash_type("BUG: Bad page map"), UNKNOWN);
        assert_eq!(
            crash_type("output mismatch in generic/001"),
            "TEST-OUTPUT-MISMATCH"
        );
    }

    #[test]
    fn frames() {
        assert_eq!(
            frame_of("WARNING in a/usb_submit_urb").as_deref(),
            Some("a")
        );
        assert_eq!(frame_of("KCSAN: data-race in a / b").as_deref(), Some("a"));
        assert_eq!(frame_of("go runtime error"), None);
    }

    proptest::proptest! {
        #[test]
        fn frame_of_is_the_regex_capture(title in "[ in<>:_a\\n.]{0,24}") {
            let regex = super::super::pattern::compile(r".* in ((?:<[a-zA-Z0-9_: ]+>)?[a-zA-Z0-9_:]+)");
            let expected = regex.captures(&title).and_then(|c| c.get(1)).map(|m| m.as_str().to_owned());
            proptest::prop_assert_eq!(frame_of(&title), expected);
        }
    }
}
