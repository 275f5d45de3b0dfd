//! Kernel C knowledge as data: attribute macros, message helpers, definer macros.
//!
//! Every table is a sorted `&[&str]` looked up by binary search on bytes (behind a check
//! of the first byte for the word tables); a unit test keeps them sorted.

/// Attribute-like words with no arguments. They are blanked before tree-sitter
/// sees the source and skipped by the lexical scanner.
static ATTRIBUTE_WORDS: WordTable = WordTable::new(&[
    "__always_inline",
    "__always_unused",
    "__cold",
    "__deprecated",
    "__exit",
    "__exitdata",
    "__flatten",
    "__force",
    "__gnu_inline",
    "__hot",
    "__init",
    "__initconst",
    "__initdata",
    "__iomem",
    "__kprobes",
    "__latent_entropy",
    "__malloc",
    "__maybe_unused",
    "__meminit",
    "__must_check",
    "__no_kcsan",
    "__no_sanitize_address",
    "__nocfi",
    "__noclone",
    "__noinline",
    "__nonstring",
    "__noreturn",
    "__packed",
    "__percpu",
    "__pure",
    "__randomize_layout",
    "__rcu",
    "__read_mostly",
    "__ref",
    "__ro_after_init",
    "__rust_helper",
    "__sched",
    "__used",
    "__user",
    "__visible",
    "__weak",
    "asmlinkage",
    "noinline",
    "noinline_for_stack",
    "notrace",
]);

/// Attribute-like macros taking arguments, blanked together with their `(...)`.
static ATTRIBUTE_CALLS: WordTable = WordTable::new(&[
    "__acquire",
    "__acquires",
    "__aligned",
    "__alloc_size",
    "__assume_aligned",
    "__attribute__",
    "__cond_acquires",
    "__counted_by",
    "__must_hold",
    "__printf",
    "__realloc_size",
    "__release",
    "__releases",
    "__scanf",
    "__section",
]);

/// Identifiers followed by `(` that are not calls.
static CALL_KEYWORDS: WordTable = WordTable::new(&[
    "_Alignas",
    "_Alignof",
    "_Generic",
    "_Static_assert",
    "__alignof__",
    "__asm",
    "__asm__",
    "__attribute",
    "__attribute__",
    "__typeof",
    "__typeof__",
    "__volatile__",
    "alignof",
    "asm",
    "case",
    "defined",
    "do",
    "else",
    "for",
    "if",
    "return",
    "sizeof",
    "static_assert",
    "switch",
    "typeof",
    "typeof_unqual",
    "volatile",
    "while",
]);

/// Type and declaration keywords: never a function name.
static DECL_KEYWORDS: WordTable = WordTable::new(&[
    "char", "const", "double", "enum", "extern", "float", "inline", "int", "long", "short",
    "signed", "static", "struct", "typedef", "union", "unsigned", "void",
]);

/// Message helpers matched by exact name.
static HELPER_EXACT: WordTable = WordTable::new(&[
    "bch2_fs_fatal_error",
    "bch_info",
    "bch_notice",
    "bch_verbose",
    "panic",
    "printk",
    "prt_printf",
    "prt_str",
    "prt_str_indented",
]);

/// Message helpers matched by name prefix.
const HELPER_PREFIXES: &[&str] = &[
    "WARN",
    "bch2_fs_inconsistent",
    "bch2_print",
    "bch2_trans_inconsistent",
    "bch_err",
    "bch_warn",
    "fsck_err",
    "pr_",
    "printk_",
];

/// The general rule: a name ending in one of these (after removing modifiers) is a
/// message helper, e.g. `dev_err`, `btrfs_warn`, `xfs_notice`.
const HELPER_SUFFIXES: &[&str] = &[
    "_alert", "_crit", "_dbg", "_emerg", "_err", "_info", "_notice", "_printk", "_warn",
];

/// Modifiers stripped (repeatedly) before the suffix rule: `dev_err_ratelimited`,
/// `dev_warn_once`, `dev_err_probe`, and the conditional form `bkey_fsck_err_on(cond, ...)`.
const HELPER_MODIFIERS: &[&str] = &["_on", "_once", "_probe", "_ratelimited"];

/// Macros defining a function from their first argument: macro name (a trailing
/// `#` stands for an argument count digit), and the prefix and suffix that make
/// the symbol name (`SYSCALL_DEFINE3(open, ...)` → `sys_open`).
const DEFINER_MACROS: &[(&str, &str, &str)] = &[
    ("BPF_CALL_#", "", ""),
    ("CLOSURE_CALLBACK", "", ""),
    ("COMPAT_SYSCALL_DEFINE#", "compat_sys_", ""),
    ("SHOW", "", "_to_text"),
    ("STORE", "", "_store_inner"),
    ("SYSCALL_DEFINE#", "sys_", ""),
];

/// File-scope `MACRO(args);` statements that define a variable, and which argument
/// names it. Any other `DEFINE_*`/`DECLARE_*` uses argument 0.
const VARIABLE_MACROS: &[(&str, usize)] = &[
    ("DECLARE_PER_CPU", 1),
    ("DEFINE_PER_CPU", 1),
    ("DEFINE_PER_CPU_ALIGNED", 1),
    ("DEFINE_PER_CPU_READ_MOSTLY", 1),
    ("DEFINE_PER_CPU_SHARED_ALIGNED", 1),
    ("LIST_HEAD", 0),
];

/// A sorted word list, with the set of its words' first bytes: most identifiers are
/// ruled out by one lookup before any comparison (these checks run on every identifier of
/// every file).
struct WordTable {
    words: &'static [&'static str],
    first_bytes: [bool; 256],
}

impl WordTable {
    const fn new(words: &'static [&'static str]) -> WordTable {
        let mut first_bytes = [false; 256];
        let mut i = 0;
        while i < words.len() {
            let word = words[i].as_bytes();
            if !word.is_empty() {
                first_bytes[word[0] as usize] = true;
            }
            i += 1;
        }
        WordTable { words, first_bytes }
    }

    fn contains(&self, word: &[u8]) -> bool {
        word.first().is_some_and(|b| self.first_bytes[*b as usize])
            && self
                .words
                .binary_search_by(|p| p.as_bytes().cmp(word))
                .is_ok()
    }
}

/// True for argument-less attribute macros like `__must_check`.
pub(crate) fn is_attribute_word(word: &[u8]) -> bool {
    ATTRIBUTE_WORDS.contains(word)
}

/// True for attribute macros with arguments like `__printf(2, 3)`.
pub(crate) fn is_attribute_call(word: &[u8]) -> bool {
    ATTRIBUTE_CALLS.contains(word)
}

/// True for loop-like macros used as `name(args) statement`: any name containing
/// `for_each`, and `scoped_*` guards. Their names are at least `while`'s length.
pub(crate) fn is_loop_macro(word: &[u8]) -> bool {
    word.len() >= 5
        && (word.starts_with(b"scoped_") || memchr::memmem::find(word, b"for_each").is_some())
}

/// An all-caps identifier such as `BCH_OPTS`: by kernel convention a macro.
pub(crate) fn is_macro_name(word: &[u8]) -> bool {
    word.iter().any(u8::is_ascii_uppercase) && !word.iter().any(u8::is_ascii_lowercase)
}

/// True for keywords that look like calls (`if (`, `sizeof(`).
pub(crate) fn is_call_keyword(word: &[u8]) -> bool {
    CALL_KEYWORDS.contains(word)
}

/// True for type/declaration keywords.
pub(crate) fn is_decl_keyword(word: &[u8]) -> bool {
    DECL_KEYWORDS.contains(word)
}

/// True if string literals passed to `name` are log/error messages.
pub(crate) fn is_message_helper(name: &[u8]) -> bool {
    if HELPER_EXACT.contains(name)
        || HELPER_PREFIXES
            .iter()
            .any(|p| name.starts_with(p.as_bytes()))
    {
        return true;
    }
    let mut base = name;
    while let Some(m) = HELPER_MODIFIERS
        .iter()
        .find(|m| base.ends_with(m.as_bytes()))
    {
        base = &base[..base.len() - m.len()];
    }
    HELPER_SUFFIXES
        .iter()
        .any(|s| base.len() > s.len() && base.ends_with(s.as_bytes()))
}

fn definer(name: &[u8]) -> Option<(&'static str, &'static str)> {
    DEFINER_MACROS.iter().find_map(|(m, prefix, suffix)| {
        let matched = match m.strip_suffix('#') {
            Some(stem) => name
                .strip_prefix(stem.as_bytes())
                .is_some_and(|rest| rest.len() == 1 && rest[0].is_ascii_digit()),
            None => name == m.as_bytes(),
        };
        matched.then_some((*prefix, *suffix))
    })
}

/// The function a definer macro use `name(first_arg, ...) { ... }` defines:
/// from the table (`SYSCALL_DEFINE3` with `open` gives `sys_open`), else for an
/// unknown all-caps macro its first argument (`FOO_CALLBACK(bar)` gives `bar`).
/// `None` if `name` is not macro-like.
pub(crate) fn defined_function(name: &[u8], first_arg: &[u8]) -> Option<String> {
    let (prefix, suffix) = definer(name).or(is_macro_name(name).then_some(("", "")))?;
    Some(format!(
        "{prefix}{}{suffix}",
        String::from_utf8_lossy(first_arg)
    ))
}

/// If a file-scope `name(args);` statement defines a variable, the index of the
/// argument naming it.
pub(crate) fn variable_macro_arg(name: &[u8]) -> Option<usize> {
    if let Ok(i) = VARIABLE_MACROS.binary_search_by(|(m, _)| m.as_bytes().cmp(name)) {
        return VARIABLE_MACROS.get(i).map(|(_, arg)| *arg);
    }
    (name.starts_with(b"DEFINE_") || name.starts_with(b"DECLARE_")).then_some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORD_TABLES: [&WordTable; 5] = [
        &ATTRIBUTE_WORDS,
        &ATTRIBUTE_CALLS,
        &CALL_KEYWORDS,
        &DECL_KEYWORDS,
        &HELPER_EXACT,
    ];

    #[test]
    fn tables_are_sorted() {
        for t in WORD_TABLES {
            let t = t.words;
            assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
        }
        assert!(VARIABLE_MACROS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn word_tables_find_their_words_and_only_them() {
        for t in WORD_TABLES {
            for word in t.words {
                assert!(t.contains(word.as_bytes()), "{word}");
                assert!(!t.contains(format!("{word}x").as_bytes()), "{word}x");
            }
            assert!(!t.contains(b""));
            assert!(!t.contains(b"bch2_trans_begin"));
        }
    }

    #[test]
    fn helpers() {
        for yes in [
            "pr_err",
            "dev_err_ratelimited",
            "bch_err_msg",
            "fsck_err_on",
            "bkey_fsck_err_on",
            "journal_entry_err_on",
            "WARN_ONCE",
            "xfs_warn",
        ] {
            assert!(is_message_helper(yes.as_bytes()), "{yes}");
        }
        for no in [
            "_err",
            "_err_on",
            "bch2_trans_begin",
            "IS_ERR",
            "kmalloc",
            "turn_on",
        ] {
            assert!(!is_message_helper(no.as_bytes()), "{no}");
        }
        assert_eq!(
            defined_function(b"SYSCALL_DEFINE3", b"open").as_deref(),
            Some("sys_open")
        );
        assert_eq!(
            defined_function(b"SHOW", b"bch2_fs").as_deref(),
            Some("bch2_fs_to_text")
        );
        assert_eq!(defined_function(b"FOO_CB", b"bar").as_deref(), Some("bar"));
        assert_eq!(defined_function(b"foo", b"bar"), None);
        assert_eq!(variable_macro_arg(b"DEFINE_PER_CPU"), Some(1));
        assert_eq!(variable_macro_arg(b"DEFINE_MUTEX"), Some(0));
    }
}
