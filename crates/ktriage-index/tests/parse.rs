//! Tests for `parse_c` on kernel-style C: symbols with exact lines, calls,
//! messages, recovery, and robustness on junk input.

use ktriage_index::facts::{FileFacts, Symbol, SymbolKind};
use ktriage_index::parse::{lexical_functions, parse_c};

const FIXTURE: &str = include_str!("data/c/kernel_idioms.c");

/// 1-based line of the first line containing `needle`.
fn line_of(src: &str, needle: &str) -> u32 {
    let idx = src
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in fixture"));
    src[..idx].matches('\n').count() as u32 + 1
}

fn symbol<'a>(facts: &'a FileFacts, name: &str, kind: SymbolKind) -> &'a Symbol {
    facts
        .symbols
        .iter()
        .find(|s| s.name == name && s.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} {name}; have {:#?}", facts.symbols))
}

/// First and last line of a symbol.
fn span(facts: &FileFacts, name: &str, kind: SymbolKind) -> (u32, u32) {
    let s = symbol(facts, name, kind);
    (s.line, s.end_line)
}

fn fixture() -> FileFacts {
    parse_c(FIXTURE.as_bytes())
}

fn calls_from<'a>(facts: &'a FileFacts, caller: &str) -> Vec<(&'a str, u32)> {
    facts
        .calls
        .iter()
        .filter(|c| c.caller == caller)
        .map(|c| (c.callee.as_str(), c.line))
        .collect()
}

#[test]
fn functions_with_attributes() {
    let f = fixture();
    let s = symbol(&f, "bch2_inline_helper", SymbolKind::Function);
    assert_eq!(
        s.line,
        line_of(FIXTURE, "static __always_inline int bch2_inline_helper")
    );
    assert_eq!(s.end_line, line_of(FIXTURE, "return bch_min(a, 3);") + 1);
    assert!(s.is_static);
    assert_eq!(
        s.signature,
        "static __always_inline int bch2_inline_helper(int a)"
    );

    let s = symbol(&f, "bch2_cold_fn", SymbolKind::Function);
    assert_eq!(
        s.signature,
        "static int __cold bch2_cold_fn(struct bch_fs *c) __acquires(c->lock)"
    );
    assert_eq!(s.line, line_of(FIXTURE, "static int __cold bch2_cold_fn"));
    assert_eq!(
        s.end_line,
        line_of(FIXTURE, "return c->ops->read(NULL, 0);") + 1
    );

    let s = symbol(&f, "bch2_loops", SymbolKind::Function);
    assert!(!s.is_static);
    assert_eq!(s.line, line_of(FIXTURE, "noinline void bch2_loops"));
    assert_eq!(
        s.end_line,
        line_of(FIXTURE, "BUILD_BUG_ON(sizeof(*c) > 4096);") + 1
    );

    let s = symbol(&f, "bch2_trans_things", SymbolKind::Function);
    assert_eq!(s.end_line, line_of(FIXTURE, "return ret ?: ({") + 1);
}

#[test]
fn definer_macros_and_ifdef_headers() {
    let f = fixture();
    let s = symbol(&f, "sys_bch_ioctl", SymbolKind::Function);
    assert_eq!(s.line, line_of(FIXTURE, "SYSCALL_DEFINE2(bch_ioctl"));
    assert_eq!(s.end_line, s.line + 3);
    let s = symbol(&f, "bch2_write_done", SymbolKind::Function);
    assert_eq!(
        s.line,
        line_of(FIXTURE, "CLOSURE_CALLBACK(bch2_write_done)")
    );
    let s = symbol(&f, "bch2_dup_header", SymbolKind::Function);
    assert_eq!(s.line, line_of(FIXTURE, "static void bch2_dup_header"));
    assert_eq!(s.end_line, line_of(FIXTURE, "WARN_ONCE(a,") + 1);
    assert!(s.is_static);
    assert_eq!(s.signature, "static void bch2_dup_header(int a , int b )");
    // Each function exactly once.
    let fns: Vec<&str> = f
        .symbols
        .iter()
        .filter(|s| s.kind == SymbolKind::Function)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        fns,
        [
            "bch2_inline_helper",
            "bch2_cold_fn",
            "bch2_loops",
            "bch2_trans_things",
            "sys_bch_ioctl",
            "bch2_write_done",
            "bch2_dup_header"
        ]
    );
    assert_eq!(f.stats.functions, 7);
    assert_eq!(f.stats.functions_scanned, 7, "{:?}", f.stats);
    assert_eq!(f.stats.functions_lost, 0, "{:?}", f.stats);
}

#[test]
fn types_enums_typedefs() {
    let f = fixture();
    let e = symbol(&f, "bch_errcode", SymbolKind::Enum);
    assert_eq!(e.line, line_of(FIXTURE, "enum bch_errcode {"));
    assert_eq!(e.end_line, line_of(FIXTURE, "BCH_ERR_END") + 1);
    assert_eq!(
        symbol(&f, "BCH_ERR_START", SymbolKind::Enumerator).line,
        line_of(FIXTURE, "BCH_ERR_START = 2048")
    );
    assert_eq!(
        symbol(&f, "BCH_ERR_START", SymbolKind::Enumerator).signature,
        "BCH_ERR_START = 2048"
    );
    assert_eq!(
        symbol(&f, "BCH_ERR_END", SymbolKind::Enumerator).line,
        line_of(FIXTURE, "BCH_ERR_END")
    );

    let s = symbol(&f, "bch_ops", SymbolKind::Struct);
    assert_eq!(
        (s.line, s.end_line),
        (
            line_of(FIXTURE, "struct bch_ops {"),
            line_of(FIXTURE, "} __packed;")
        )
    );
    assert_eq!(s.signature, "struct bch_ops");
    assert_eq!(
        symbol(&f, "inner_thing", SymbolKind::Struct).line,
        line_of(FIXTURE, "struct inner_thing {")
    );
    assert!(
        !f.symbols.iter().any(|s| s.name == "__packed"),
        "attribute taken for a declarator"
    );
    let u = symbol(&f, "bch_val", SymbolKind::Union);
    assert_eq!(u.end_line, u.line + 3);

    let t = symbol(&f, "bch_cb_fn", SymbolKind::Typedef);
    assert_eq!(t.line, line_of(FIXTURE, "typedef int (*bch_cb_fn)"));
    assert_eq!(t.signature, "typedef int (*bch_cb_fn)(struct bch_ops *)");
    let t = symbol(&f, "bch_anon_t", SymbolKind::Typedef);
    assert_eq!(
        (t.line, t.end_line),
        (
            line_of(FIXTURE, "typedef struct {"),
            line_of(FIXTURE, "} bch_anon_t;")
        )
    );
    assert_eq!(t.signature, "typedef struct { ... } bch_anon_t");
}

#[test]
fn variables_and_prototypes() {
    let f = fixture();
    let v = symbol(&f, "bch_default_ops", SymbolKind::Variable);
    assert_eq!(
        (v.line, v.end_line),
        (
            line_of(FIXTURE, "static const struct bch_ops bch_default_ops"),
            line_of(FIXTURE, ".inner\t= { .a = 1 },") + 1
        )
    );
    assert!(v.is_static);
    assert_eq!(v.signature, "static const struct bch_ops bch_default_ops");
    let v = symbol(&f, "bch_counter", SymbolKind::Variable);
    assert!(!v.is_static);
    assert_eq!(v.line, line_of(FIXTURE, "unsigned long bch_counter"));

    let v = symbol(&f, "bch_lock", SymbolKind::Variable);
    assert_eq!(v.line, line_of(FIXTURE, "static DEFINE_MUTEX(bch_lock);"));
    assert_eq!(v.signature, "static DEFINE_MUTEX(bch_lock)");
    assert!(v.is_static);
    let v = symbol(&f, "bch_pcpu", SymbolKind::Variable);
    assert_eq!(v.line, line_of(FIXTURE, "static DEFINE_PER_CPU("));
    for junk in ["DEFINE_MUTEX", "DEFINE_PER_CPU", "EXPORT_SYMBOL"] {
        assert!(
            !f.symbols.iter().any(|s| s.name == junk),
            "{junk} taken for a symbol"
        );
    }

    let p = symbol(&f, "bch2_proto", SymbolKind::Prototype);
    assert_eq!(p.line, line_of(FIXTURE, "int __must_check bch2_proto"));
    assert_eq!(
        p.signature,
        "int __must_check bch2_proto(struct bch_ops *ops, int flags)"
    );
    let p = symbol(&f, "bch2_log", SymbolKind::Prototype);
    assert_eq!(p.line, line_of(FIXTURE, "__printf(2, 3) void bch2_log"));
    let names: Vec<&str> = f.symbols.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names.iter().filter(|n| **n == "bch_lock").count(),
        1,
        "{names:?}"
    );
}

#[test]
fn macros() {
    let f = fixture();
    let m = symbol(&f, "BCH_ERR_MAX", SymbolKind::Macro);
    assert_eq!(
        (m.line, m.end_line),
        (
            line_of(FIXTURE, "#define BCH_ERR_MAX"),
            line_of(FIXTURE, "#define BCH_ERR_MAX")
        )
    );
    assert_eq!(m.signature, "BCH_ERR_MAX 128");
    let m = symbol(&f, "bch_min", SymbolKind::FunctionMacro);
    assert_eq!(
        (m.line, m.end_line),
        (
            line_of(FIXTURE, "#define bch_min"),
            line_of(FIXTURE, "_a < _b ?") + 1
        )
    );
    assert_eq!(m.signature, "bch_min(a, b)");
    let m = symbol(&f, "BCH_ERRS", SymbolKind::FunctionMacro);
    assert_eq!(m.end_line, line_of(FIXTURE, "x(EIO,"));
    let x = symbol(&f, "x", SymbolKind::FunctionMacro);
    assert_eq!(x.line, line_of(FIXTURE, "#define x(err, name)"));
    // Calls inside macro bodies belong to the macro; typeof is not a call.
    assert_eq!(
        calls_from(&f, "bch_min"),
        [("bch2_pick", line_of(FIXTURE, "bch2_pick(_b)"))]
    );
    assert_eq!(
        calls_from(&f, "BCH_ERRS"),
        [
            ("x", line_of(FIXTURE, "x(ENOMEM")),
            ("x", line_of(FIXTURE, "x(EIO"))
        ]
    );
}

#[test]
fn calls() {
    let f = fixture();
    assert_eq!(
        calls_from(&f, "bch2_inline_helper"),
        [("bch_min", line_of(FIXTURE, "return bch_min(a, 3)"))]
    );
    let cold = calls_from(&f, "bch2_cold_fn");
    assert_eq!(
        cold.iter().map(|c| c.0).collect::<Vec<_>>(),
        ["bch_err", "pr_err", "read"]
    );
    assert_eq!(cold[2].1, line_of(FIXTURE, "c->ops->read(NULL, 0)"));

    let loops: Vec<&str> = calls_from(&f, "bch2_loops").iter().map(|c| c.0).collect();
    assert_eq!(
        loops,
        [
            "for_each_member_device",
            "bch2_dev_put",
            "list_for_each_entry",
            "bch2_dev_get",
            "__bkey_for_each_ptr",
            "bch2_ptr_visit",
            "bch_info",
            "BUILD_BUG_ON"
        ]
    );
    let things: Vec<&str> = calls_from(&f, "bch2_trans_things")
        .iter()
        .map(|c| c.0)
        .collect();
    for callee in [
        "guard",
        "scoped_guard",
        "bch2_rcu_thing",
        "CLASS",
        "lockrestart_do",
        "bch2_do_thing",
        "for_each_btree_key",
        "bch2_check_key",
        "darray_for_each",
        "bch2_visit",
        "bch2_trans_run",
        "bch2_inner",
        "fsck_err_on",
        "bch2_last",
    ] {
        assert!(things.contains(&callee), "{callee} missing from {things:?}");
    }
    assert!(!things
        .iter()
        .any(|c| ["sizeof", "typeof", "if", "return"].contains(c)));
    assert_eq!(
        calls_from(&f, "sys_bch_ioctl"),
        [("bch2_ioctl", line_of(FIXTURE, "return bch2_ioctl"))]
    );
    assert!(calls_from(&f, "bch2_write_done").contains(&(
        "bch2_write_done_inner",
        line_of(FIXTURE, "bch2_write_done_inner(op)")
    )));
    // No calls attributed outside functions and macros.
    assert!(!f
        .calls
        .iter()
        .any(|c| c.callee == "EXPORT_SYMBOL" || c.callee == "DEFINE_MUTEX"));
}

#[test]
fn messages() {
    let f = fixture();
    let got: Vec<(&str, &str, Option<&str>, u32)> = f
        .messages
        .iter()
        .map(|m| {
            (
                m.helper.as_str(),
                m.text.as_str(),
                m.function.as_deref(),
                m.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "bch_err",
                "cold path failed: %s (%i)",
                Some("bch2_cold_fn"),
                line_of(FIXTURE, "bch_err(c, \"cold")
            ),
            (
                "pr_err",
                "plain %llu\\n",
                Some("bch2_cold_fn"),
                line_of(FIXTURE, "pr_err(\"plain")
            ),
            (
                "bch_info",
                "debug %u",
                Some("bch2_loops"),
                line_of(FIXTURE, "bch_info(c, \"debug")
            ),
            (
                "fsck_err_on",
                "fsck %s",
                Some("bch2_trans_things"),
                line_of(FIXTURE, "fsck_err_on(ret")
            ),
            (
                "WARN_ONCE",
                "dup header %d",
                Some("bch2_dup_header"),
                line_of(FIXTURE, "WARN_ONCE(a,")
            ),
        ]
    );
}

#[test]
fn message_forms() {
    let src = br#"
void f(struct device *dev)
{
	dev_err_ratelimited(dev, "rate " KERN_CONT "limited\n");
	printk(KERN_ERR "old style %d\n", 1);
	bch2_fs_inconsistent(c, "bad %s", "x");
	bch_err_msg(c, ret, "reading superblock");
	prt_printf(out, "%s:", name);
	panic("fatal\t\"quoted\"");
	pr_info("%s\n", fmt_it("not this"));
	snprintf(buf, 10, "not a helper");
	bch2_trans_inconsistent_on(cond, trans, "trans %u",
				   1);
}
"#;
    let f = parse_c(src);
    let got: Vec<(&str, &str)> = f
        .messages
        .iter()
        .map(|m| (m.helper.as_str(), m.text.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("dev_err_ratelimited", "rate limited\\n"),
            ("printk", "old style %d\\n"),
            ("bch2_fs_inconsistent", "bad %s"),
            ("bch_err_msg", "reading superblock"),
            ("prt_printf", "%s:"),
            ("panic", "fatal\\t\\\"quoted\\\""),
            ("pr_info", "%s\\n"),
            ("bch2_trans_inconsistent_on", "trans %u"),
        ]
    );
    assert_eq!(f.messages.last().map(|m| m.line), Some(12));
}

#[test]
fn recovery_matches_scanner() {
    let f = fixture();
    for l in lexical_functions(FIXTURE.as_bytes()) {
        assert!(
            f.symbols
                .iter()
                .any(|s| s.kind == SymbolKind::Function && s.name == l.name && s.line == l.line),
            "scanner function {} missing",
            l.name
        );
    }
}

#[test]
fn ifdef_brace_imbalance_and_if0() {
    let src = b"static int a(void)
{
#if defined(X)
	if (x) {
#else
	if (y) {
#endif
		foo();
	}
	return 0;
}

#if 0
this is prose that isn't C { at all
#endif

static int b(void)
{
	return bar();
}
";
    let f = parse_c(src);
    let fns: Vec<(&str, u32, u32)> = f
        .symbols
        .iter()
        .filter(|s| s.kind == SymbolKind::Function)
        .map(|s| (s.name.as_str(), s.line, s.end_line))
        .collect();
    assert_eq!(fns, [("a", 1, 11), ("b", 17, 20)]);
    let calls: Vec<(&str, &str)> = f
        .calls
        .iter()
        .map(|c| (c.caller.as_str(), c.callee.as_str()))
        .collect();
    assert_eq!(calls, [("a", "foo"), ("b", "bar")]);
}

#[test]
fn header_static_inline_and_crlf() {
    let src = b"#ifndef _H\r\n#define _H\r\nstatic inline bool h_ok(const struct x *p)\r\n{\r\n\treturn p && p->ok;\r\n}\r\n#endif\r\n";
    let f = parse_c(src);
    let s = symbol(&f, "h_ok", SymbolKind::Function);
    assert_eq!((s.line, s.end_line, s.is_static), (3, 6, true));
    assert_eq!(s.signature, "static inline bool h_ok(const struct x *p)");
    assert_eq!(symbol(&f, "_H", SymbolKind::Macro).line, 2);
}

#[test]
fn empty_and_junk_inputs_do_not_panic() {
    assert_eq!(parse_c(b""), FileFacts::default());
    let f = parse_c(b"\xff\xfe \x80\x81\nint f(void) { pr_err(\"\xff bad utf8\"); }");
    assert_eq!(
        f.messages.first().map(|m| m.text.as_str()),
        Some("\u{fffd} bad utf8")
    );
    for junk in [
        &b"{{{{{{{{"[..],
        b"}}}}}}}})))",
        b"\"unterminated",
        b"'",
        b"#define",
        b"#define X(",
        b"#define F(a) \\",
        b"/* unterminated comment",
        b"int f(",
        b"f() {",
        b"\0\0\0\0",
        b"SYSCALL_DEFINE1() {}",
        b"static DEFINE_MUTEX(",
        b"pr_err(\"x\"",
        b"for_each",
        b"__printf(",
    ] {
        let _ = parse_c(junk);
    }
}

#[test]
fn deep_nesting_does_not_overflow() {
    for open in ["(", "{", "[", "({", "struct a { ", "#if X\n"] {
        let mut src = String::from("int f(void)\n{\n");
        src.push_str(&open.repeat(50_000));
        let f = parse_c(src.as_bytes());
        assert!(f.symbols.len() < 10);
    }
}

#[test]
fn pseudo_random_bytes_do_not_panic() {
    // xorshift: deterministic pseudo-random inputs, biased toward C punctuation.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet = b"{}()[];,\"'\\/*#\n\t abcxyz_019=<>-!?:.";
    for round in 0..300 {
        let len = (round * 37) % 2000;
        let mut buf = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = if state.is_multiple_of(4) {
                (state >> 8) as u8
            } else {
                alphabet[(state >> 8) as usize % alphabet.len()]
            };
            buf.push(b);
        }
        let f = parse_c(&buf);
        for s in &f.symbols {
            assert!(s.line >= 1 && s.line <= s.end_line, "{s:?}");
        }
    }
}

#[test]
fn large_file() {
    let mut src = String::with_capacity(5 << 20);
    let mut n = 0;
    while src.len() < 5 << 20 {
        src.push_str(&format!(
            "static int __must_check fn_{n}(struct bch_fs *c)\n{{\n\tfor_each_member_device(c, ca)\n\t\tbch_err(c, \"fn {n} %u\", ca->idx);\n\treturn helper_{n}(c);\n}}\n\n"
        ));
        n += 1;
    }
    let f = parse_c(src.as_bytes());
    assert_eq!(f.stats.functions, n);
    assert_eq!(f.messages.len() as u32, n);
    let last = f.symbols.last().expect("symbols");
    assert_eq!(
        (last.line, last.end_line),
        (7 * (n - 1) + 1, 7 * (n - 1) + 6)
    );
}

#[test]
fn threads_share_nothing() {
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| parse_c(FIXTURE.as_bytes())))
        .collect();
    let expected = fixture();
    for h in handles {
        assert_eq!(h.join().expect("thread"), expected);
    }
}

/// Long whitespace runs are left out of tree-sitter's parse: a `//` comment or a
/// directive followed by trailing blanks and deep indentation must still end at
/// its newline, and declarations separated only by such runs stay apart.
#[test]
fn long_whitespace_runs_keep_tokens_apart() {
    let pad = " ".repeat(40);
    let src = format!(
        "// a comment{pad}\n{pad}static int counter;\n#if 1{pad}\n{pad}struct bucket {{\n\tint gen;{pad}\n}};\n#endif\n\
         int{pad}\n{pad}width(void);\nstatic void tick(void)\n{{\n{pad}counter++;{pad}\n{pad}\n}}\n"
    );
    let facts = parse_c(src.as_bytes());
    assert_eq!(symbol(&facts, "counter", SymbolKind::Variable).line, 2);
    assert_eq!(symbol(&facts, "bucket", SymbolKind::Struct).line, 4);
    assert_eq!(symbol(&facts, "width", SymbolKind::Prototype).line, 8);
    let tick = symbol(&facts, "tick", SymbolKind::Function);
    assert_eq!((tick.line, tick.end_line), (10, 14));
    assert_eq!(facts.stats.error_nodes, 0);
}

#[test]
fn initializers_at_file_scope_keep_their_neighbours() {
    // A data table, an x-macro table tree-sitter cannot parse, and an ops table; what
    // follows each must still be found, with the tables' own lines and spans.
    let rows: String = (0..200)
        .map(|i| format!("\t{i:#04x}, {i}, {i},\n"))
        .collect();
    let src = format!(
        "static const u8 big_table[] = {{\n{rows}}};\n\
         static const char * const names[] = {{\n\tBCH_NAMES()\n\tx(a, 1) x(b, 2)\n}};\n\
         static const struct file_operations fops = {{\n\t.open = do_open,\n\t.read = {{ 0 }},\n}}, other_ops;\n\
         struct after {{ int x; }};\n\
         int later(int a)\n{{\n\treturn helper(a, big_table[0]);\n}}\n"
    );
    let facts = parse_c(src.as_bytes());
    assert_eq!(span(&facts, "big_table", SymbolKind::Variable), (1, 202));
    assert_eq!(symbol(&facts, "names", SymbolKind::Variable).line, 203);
    assert_eq!(span(&facts, "fops", SymbolKind::Variable), (207, 210));
    assert_eq!(symbol(&facts, "other_ops", SymbolKind::Variable).line, 207);
    assert_eq!(symbol(&facts, "after", SymbolKind::Struct).line, 211);
    assert_eq!(span(&facts, "later", SymbolKind::Function), (212, 215));
    assert_eq!(calls_from(&facts, "later"), [("helper", 214)]);
    assert_eq!(facts.stats.error_nodes, 0);
}

#[test]
fn aggregate_bodies_keep_their_nested_types() {
    // Struct bodies without named types inside are blanked for tree-sitter; these have
    // a nested struct, a nested enum and an anonymous enum, whose names must survive.
    let src = b"struct plain {
	int a;
	u64 b[4];
} __packed;
struct outer {
	struct inner {
		int x;
	} in;
	union {
		enum mode { MODE_A, MODE_B } mode;
		enum { FLAG_X = 1 } flags;
	};
};
typedef struct {
	int y;
} plain_t;
int f(struct plain *p)
{
	return p->a;
}
";
    let facts = parse_c(src);
    assert_eq!(span(&facts, "plain", SymbolKind::Struct), (1, 4));
    assert_eq!(symbol(&facts, "inner", SymbolKind::Struct).line, 6);
    assert_eq!(symbol(&facts, "mode", SymbolKind::Enum).line, 10);
    for (name, line) in [("MODE_A", 10), ("MODE_B", 10), ("FLAG_X", 11)] {
        assert_eq!(symbol(&facts, name, SymbolKind::Enumerator).line, line);
    }
    assert_eq!(symbol(&facts, "plain_t", SymbolKind::Typedef).line, 14);
    assert_eq!(span(&facts, "f", SymbolKind::Function), (17, 20));
    assert_eq!(facts.stats.error_nodes, 0);
}

#[test]
fn macro_invocations_at_file_scope_are_not_parsed_as_declarations() {
    let src = b"TRACE_EVENT(lock_acquire,
	TP_PROTO(struct lockdep_map *lock, unsigned long ip),
	TP_fast_assign(
		__entry->flags = (trylock ? 1 : 0);
		__assign_str(name, lock->name);
	),
	TP_printk(\"%p\", __entry->lockdep_addr)
);

static DEFINE_MUTEX(trace_lock);

int after(void)
{
	return 0;
}
LE64_BITMASK(BCH_SB_CLEAN, struct bch_sb, flags[0], 1, 2);
DEFINE_GUARD(mutex, struct mutex *, mutex_lock(_T), mutex_unlock(_T))
int guarded(struct mutex *m)
{
	return after();
}
";
    let facts = parse_c(src);
    assert_eq!(symbol(&facts, "trace_lock", SymbolKind::Variable).line, 10);
    assert_eq!(span(&facts, "after", SymbolKind::Function), (12, 15));
    // Not swallowed into the invocation before it: its own line and signature.
    let guarded = symbol(&facts, "guarded", SymbolKind::Function);
    assert_eq!((guarded.line, guarded.end_line), (18, 21));
    assert_eq!(guarded.signature, "int guarded(struct mutex *m)");
    assert_eq!(facts.stats.error_nodes, 0);
    assert_eq!(facts.stats.functions_lost, 0);
}

#[test]
fn kernel_style_definitions_come_from_the_scan_and_the_rest_from_tree_sitter() {
    let src = b"\
__cold static void scanned(int a)
{
\tpr_err(\"scanned %d\", a);
}
static inline int one_liner(void) { return helper(); }
static enum ret { RET_OK, RET_ERR } enum_returner(int a)
{
\treturn a ? RET_ERR : RET_OK;
}
";
    let facts = parse_c(src);
    assert_eq!(facts.stats.functions, 3);
    assert_eq!(facts.stats.functions_scanned, 1, "{:?}", facts.stats);
    assert_eq!(facts.stats.functions_lost, 0);
    // The scan's definition starts where tree-sitter's would: after the attribute.
    let scanned = symbol(&facts, "scanned", SymbolKind::Function);
    assert_eq!((scanned.line, scanned.end_line), (1, 4));
    assert_eq!(scanned.signature, "static void scanned(int a)");
    assert!(scanned.is_static);
    assert_eq!(span(&facts, "one_liner", SymbolKind::Function), (5, 5));
    // A head that defines a type is left to tree-sitter, which reads the type too.
    assert_eq!(span(&facts, "enum_returner", SymbolKind::Function), (6, 9));
    assert_eq!(symbol(&facts, "RET_ERR", SymbolKind::Enumerator).line, 6);
    let calls: Vec<(&str, &str, u32)> = facts
        .calls
        .iter()
        .map(|c| (c.caller.as_str(), c.callee.as_str(), c.line))
        .collect();
    assert!(calls.contains(&("scanned", "pr_err", 3)), "{calls:?}");
    assert!(calls.contains(&("one_liner", "helper", 5)), "{calls:?}");
    let message = &facts.messages[0];
    assert_eq!(message.text, "scanned %d");
    assert_eq!(message.function.as_deref(), Some("scanned"));
}
