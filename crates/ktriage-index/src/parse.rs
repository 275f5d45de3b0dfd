//! C source parsing with tree-sitter-c, tolerant of kernel idioms.
//!
//! [`parse_c`] turns one file's bytes into [`FileFacts`] in five steps:
//!
//! 1. A lexical scan ([`scan`]) finds every `name(args) {` body at brace depth 0
//!    with its matching `}` (following the first branch of `#if`/`#else` for
//!    brace counting), every `#define` (with continuations), and file-scope
//!    `MACRO(args);` statements such as `DEFINE_MUTEX(lock);`.
//! 2. Definitions in kernel style (the closing `}` alone at column 0, so the scan's
//!    brace matching is trustworthy) whose head defines no type are taken from the
//!    scan alone: name, span, signature and `static` (the head starts after the
//!    attribute macros and definer invocations step 3 blanks, where tree-sitter
//!    would start it). They are nearly all definitions of a kernel tree, and were
//!    most of tree-sitter's time.
//! 3. Tree-sitter parses a prepared copy of the same length, so lines and byte
//!    offsets are unchanged: the definitions of step 2 (whole), attribute macros
//!    (`__must_check`, `__printf(2, 3)`, `__acquires(x)`, ... see [`kernel`]),
//!    `#define`/`#undef`/`#include` lines, lone x-macro expansion lines
//!    (`BCH_OPTS()`), file-scope macro invocations that end a statement, and the
//!    inside of initializers and of struct bodies that define no type become
//!    spaces; a loop macro starting a statement (`for_each_x(a, b) {`,
//!    `scoped_guard(m) {`) becomes `while` padded with spaces; and the inside of
//!    the other kernel-style bodies is blanked, since facts from bodies come from
//!    the lexical scan. Symbols come from the top level of the tree (through `#if`
//!    blocks and ERROR nodes, never into bodies): the other functions, prototypes,
//!    structs/unions/enums, enumerators, typedefs and file-scope variables. Text is
//!    always sliced from the original bytes.
//! 4. Recovery: a scanned function given to tree-sitter that it did not produce
//!    (same name, overlapping lines) counts in [`ParseStats::functions_lost`] and is
//!    added from the scan. Tree-sitter symbols starting inside a scanned body are
//!    dropped (error-recovery artefacts; C has no nested functions), and a
//!    tree-sitter function containing errors takes its span from the scan.
//! 5. Calls and messages are listed lexically from each function body and each
//!    `#define` replacement list (attributed to the macro), so they survive
//!    anything tree-sitter makes of a body.
//!
//! Rates: [`ParseStats::functions_scanned`] counts the definitions of step 2, and
//! `functions_lost` is out of the others, the ones tree-sitter is given; after
//! recovery every scanned function is among the symbols, so the loss after recovery
//! is 0 by construction ([`lexical_functions`] lets tools check that).
//! `error_nodes` counts ERROR and MISSING nodes in the tree of the prepared text.

mod kernel;
mod scan;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use tree_sitter::{Node, Parser, Tree};

use crate::facts::{Call, FileFacts, Message, ParseStats, Symbol, SymbolKind};
use scan::{fold, slice, Found, Lexer, Tok, Token};

/// Longest signature kept, in bytes.
const MAX_SIGNATURE: usize = 400;
/// Longest object-like macro signature (`NAME value`) kept, in bytes.
const MAX_MACRO_SIGNATURE: usize = 160;

thread_local! {
    static PARSER: RefCell<Option<Parser>> = RefCell::new(new_parser());
}

fn new_parser() -> Option<Parser> {
    let mut parser = Parser::new();
    parser.set_language(&tree_sitter_c::LANGUAGE.into()).ok()?;
    Some(parser)
}

/// Parses with this thread's parser; `None` if tree-sitter is unavailable.
///
/// Long runs of whitespace (mostly the blanked bodies) are left out of the parse
/// with included ranges, so tree-sitter's lexer does not step through them byte by
/// byte; offsets and positions stay those of `src`.
fn ts_parse(src: &[u8]) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut borrow = cell.try_borrow_mut().ok()?;
        let parser = borrow.as_mut()?;
        parser.set_included_ranges(&included_ranges(src)).ok()?;
        parser.parse(src, None)
    })
}

/// Shortest whitespace run worth leaving out of the parse.
const MIN_SKIPPED_WHITESPACE: usize = 16;

/// The ranges of `src` outside its long whitespace runs. A run keeps its last byte
/// and its first byte or, if it has one, its first newline, so the tokens around it
/// stay apart and a directive or `//` comment still ends where it did.
fn included_ranges(src: &[u8]) -> Vec<tree_sitter::Range> {
    let mut cursor = PointCursor::default();
    let mut ranges = Vec::new();
    let mut from = 0;
    let mut i = 0;
    while i < src.len() {
        if !src[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let run = i;
        i += whitespace_len(&src[i..]);
        let newline = memchr::memchr(b'\n', &src[run..i]).map(|at| run + at);
        let cut = newline.unwrap_or(run) + 1;
        if i.saturating_sub(cut) > MIN_SKIPPED_WHITESPACE {
            let start_point = cursor.at(src, from);
            ranges.push(tree_sitter::Range {
                start_byte: from,
                end_byte: cut,
                start_point,
                end_point: cursor.at(src, cut),
            });
            from = i - 1;
        }
    }
    ranges.push(tree_sitter::Range {
        start_byte: from,
        end_byte: src.len(),
        start_point: cursor.at(src, from),
        end_point: cursor.at(src, src.len()),
    });
    ranges
}

/// Length of the whitespace `text` starts with; blanked text is long runs of spaces, read
/// eight bytes at a time.
fn whitespace_len(text: &[u8]) -> usize {
    let mut i = 0;
    loop {
        while text.get(i..i + 8).is_some_and(|chunk| chunk == b"        ") {
            i += 8;
        }
        match text.get(i) {
            Some(b) if b.is_ascii_whitespace() => i += 1,
            _ => return i,
        }
    }
}

/// Turns increasing byte offsets into tree-sitter points (row, byte column).
#[derive(Default)]
struct PointCursor {
    offset: usize,
    row: usize,
    line_start: usize,
}

impl PointCursor {
    fn at(&mut self, src: &[u8], offset: usize) -> tree_sitter::Point {
        let skipped = slice(src, self.offset, offset);
        if let Some(last) = memchr::memrchr(b'\n', skipped) {
            self.row += memchr::memchr_iter(b'\n', skipped).count();
            self.line_start = self.offset + last + 1;
        }
        self.offset = offset;
        tree_sitter::Point::new(self.row, offset - self.line_start)
    }
}

/// Parses one C file's bytes (any encoding; invalid UTF-8 is tolerated) into facts.
pub fn parse_c(source: &[u8]) -> FileFacts {
    let file = scan::scan_file(source);
    let mut blanked = prepare_for_tree_sitter(source, &file.functions);
    let (scanned, parsed) = split_definitions(source, &mut blanked, &file.functions);
    let mut ex = Extractor::new(source, &file.macro_statements);
    let mut error_nodes = 0;
    if let Some(tree) = ts_parse(&blanked) {
        let root = tree.root_node();
        ex.walk(root);
        error_nodes = count_errors(root);
    }
    let functions_lost = ex.recover(&file.functions, &parsed);
    ex.add_scanned_functions(&scanned);
    ex.add_macro_variables(&file.macro_statements);
    ex.add_defines(&file.defines);
    let mut facts = ex.finish(&file.tokens);
    facts.stats = ParseStats {
        functions: facts
            .symbols
            .iter()
            .filter(|s| s.kind == SymbolKind::Function)
            .count() as u32,
        functions_scanned: scanned.len() as u32,
        functions_lost,
        error_nodes,
    };
    facts
}

/// A definition the scan takes alone, and where its head starts.
struct ScannedDefinition<'f> {
    function: &'f scan::ScannedFn,
    start: usize,
}

/// Splits the scan's definitions between the scan and tree-sitter, and blanks them in
/// `prepared` accordingly. The scan takes alone, and blanks whole, those in kernel style
/// (the closing `}` alone at column 0, so its brace matching is trustworthy) whose head
/// holds no braces (unlike `enum x { ... } f(void) {`, whose enum tree-sitter reads); a
/// head starts where tree-sitter would start it, after the attribute macros and definer
/// invocations the preparation blanked. The others go to tree-sitter, with their
/// kernel-style bodies blanked: facts from bodies come from the lexical scan.
fn split_definitions<'f>(
    src: &[u8],
    prepared: &mut Cow<'_, [u8]>,
    functions: &'f [scan::ScannedFn],
) -> (Vec<ScannedDefinition<'f>>, Vec<&'f scan::ScannedFn>) {
    let (mut scanned, mut parsed) = (Vec::new(), Vec::new());
    for f in functions {
        if !is_kernel_style(src, f) {
            parsed.push(f);
        } else if !is_taken_by_scan(src, f) {
            blank(prepared, f.body_start + 1, f.body_end - 1);
            parsed.push(f);
        } else {
            let head = slice(prepared, f.start, f.name.0);
            let blanks = head.iter().take_while(|b| b.is_ascii_whitespace()).count();
            scanned.push(ScannedDefinition {
                function: f,
                start: f.start + blanks,
            });
            blank(prepared, f.start, f.body_end);
        }
    }
    (scanned, parsed)
}

/// Function definitions a lexical brace scanner finds at file scope, as symbols.
///
/// This is the reference [`ParseStats::functions_lost`] is measured against;
/// it is public so tools can check the final symbols against it.
pub fn lexical_functions(source: &[u8]) -> Vec<Symbol> {
    scan::scan_file(source)
        .functions
        .iter()
        .map(|f| scanned_symbol(source, f))
        .collect()
}

/// True if a scanned definition's closing `}` is alone at column 0, so its brace matching
/// is trustworthy.
fn is_kernel_style(src: &[u8], f: &scan::ScannedFn) -> bool {
    f.body_end >= f.body_start + 3 && src.get(f.body_end - 2) == Some(&b'\n')
}

/// True if the scan takes a definition alone (see [`split_definitions`]).
fn is_taken_by_scan(src: &[u8], f: &scan::ScannedFn) -> bool {
    is_kernel_style(src, f) && !slice(src, f.start, f.body_start).contains(&b'{')
}

/// Replaces attribute macros, `#define`, `#undef` and `#include` lines, x-macro expansion lines
/// (a lone `BCH_OPTS()`), statement-holding macro invocations at file scope
/// (`TRACE_EVENT(...);`) and the bodies [`FileScopeBodies`] finds (initializers,
/// struct and union definitions) with spaces (newlines kept), and the name of a loop
/// macro starting a statement (`for_each_x(a, b) {`, `scoped_guard(m) {`) with `while`
/// padded to the same length, so tree-sitter sees plain C. Macros come from the
/// lexical scan instead, and x-macro tables inside struct, enum and initializer
/// bodies no longer derail what follows. What is blanked declares nothing tree-sitter
/// is asked for, and large data tables (a RAID or Unicode table of hundreds of
/// kilobytes) were most of tree-sitter's time. `functions` are the scan's function
/// definitions: no blanked body may hold one, and the bodies of those the scan takes
/// alone are not read (they are blanked whole afterwards).
fn prepare_for_tree_sitter<'s>(src: &'s [u8], functions: &[scan::ScannedFn]) -> Cow<'s, [u8]> {
    let mut out = Cow::Borrowed(src);
    let mut lx = Lexer::new(src, 0, src.len(), 1, true);
    let mut prev_line = 0;
    let mut prev: Option<Token> = None;
    let mut bodies = FileScopeBodies::default();
    // Where the trivia (whitespace and comments) before the next token starts.
    let mut trivia_start = 0;
    // The next definition whose body may be skipped.
    let mut next_function = 0;
    while let Some(tok) = lx.next() {
        blank_comments(&mut out, src, trivia_start, tok.start);
        trivia_start = tok.end;
        // The bodies of definitions the scan takes alone are blanked whole afterwards.
        next_function += functions[next_function..].partition_point(|f| f.body_start < tok.start);
        if let Some(f) = functions
            .get(next_function)
            .filter(|f| f.body_start == tok.start && is_taken_by_scan(src, f))
        {
            lx.jump_to(f.body_end, f.end_line);
            trivia_start = f.body_end;
            prev_line = f.end_line;
            prev = Some(Token {
                kind: Tok::Punct(b'}'),
                start: f.body_end - 1,
                end: f.body_end,
                line: f.end_line,
            });
            continue;
        }
        let first_on_line = std::mem::replace(&mut prev_line, lx.line()) < tok.line;
        let after = prev.replace(tok);
        if let Some((start, end)) = bodies.step(src, after, tok) {
            // What follows a body ends its declaration (`};`, `} x, y;`, `} __packed;`);
            // and no function may be inside, in case `#if` branches unbalanced the braces.
            let ends_declaration = lx
                .clone()
                .next()
                .is_some_and(|t| t.is(b';') || t.is(b',') || t.kind == Tok::Ident);
            let first_function = functions.partition_point(|f| f.body_start < start);
            let holds_function = functions
                .get(first_function)
                .is_some_and(|f| f.body_start < end);
            if ends_declaration && !holds_function {
                blank(&mut out, start, end);
            }
        }
        let word = slice(src, tok.start, tok.end);
        if tok.kind == Tok::Ident && kernel::is_loop_macro(word) && starts_statement(src, after) {
            if let Some(bytes) = out.to_mut().get_mut(tok.start..tok.end) {
                bytes.fill(b' ');
                if let Some(head) = bytes.get_mut(..5) {
                    head.copy_from_slice(b"while");
                }
            }
            continue;
        }
        let end = if tok.kind == Tok::Directive {
            if !matches!(
                scan::directive_keyword(src, &tok),
                b"define" | b"undef" | b"include"
            ) {
                continue;
            }
            tok.end
        } else if tok.kind != Tok::Ident {
            continue;
        } else if kernel::is_attribute_word(word) {
            tok.end
        } else if first_on_line && kernel::is_macro_name(word) {
            let end = match x_macro_line(&mut lx) {
                None if bodies.at_file_scope() => macro_statement(&mut lx),
                end => end,
            };
            match end {
                Some(end) => end,
                None => continue,
            }
        } else if kernel::is_attribute_call(word) {
            match skip_group(&mut lx) {
                Some(end) => end,
                None => continue,
            }
        } else {
            continue;
        };
        trivia_start = end;
        blank(&mut out, tok.start, end);
    }
    blank_comments(&mut out, src, trivia_start, src.len());
    out
}

/// Follows braces at file scope to find bodies tree-sitter need not parse: those of
/// initializers (`x = { ... }`), which declare nothing, and of struct and union
/// definitions that define no named type or enumerator inside (fields are not symbols).
#[derive(Default)]
struct FileScopeBodies {
    /// Braces open at this point.
    depth: usize,
    /// Where the body being read starts (after its `{`), while it may be blanked.
    body_start: Option<usize>,
    /// The token before the previous one.
    before_prev: Option<Token>,
}

impl FileScopeBodies {
    /// True outside any braces.
    fn at_file_scope(&self) -> bool {
        self.depth == 0
    }

    /// Takes the next token, which follows `prev`; when it closes such a body at file
    /// scope, returns the byte range inside its braces.
    fn step(&mut self, src: &[u8], prev: Option<Token>, tok: Token) -> Option<(usize, usize)> {
        let keyword = |token: Option<Token>, words: &[&[u8]]| {
            token.is_some_and(|t| {
                t.kind == Tok::Ident && words.contains(&slice(src, t.start, t.end))
            })
        };
        let mut closed = None;
        match tok.kind {
            Tok::Punct(b'{') => {
                let aggregate: &[&[u8]] = &[b"struct", b"union"];
                let named = prev.is_some_and(|p| p.kind == Tok::Ident);
                if self.depth == 0 {
                    let opens = prev.is_some_and(|p| p.is(b'='))
                        || keyword(prev, aggregate)
                        || (named && keyword(self.before_prev, aggregate));
                    self.body_start = opens.then_some(tok.end);
                } else if keyword(prev, &[b"enum"])
                    || (named && keyword(self.before_prev, &[b"struct", b"union", b"enum"]))
                {
                    self.body_start = None;
                }
                self.depth += 1;
            }
            Tok::Punct(b'}') => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    closed = self.body_start.take().map(|start| (start, tok.start));
                }
            }
            _ => {}
        }
        self.before_prev = prev;
        closed
    }
}

/// Blanks the trivia between two tokens if it holds a comment: tree-sitter would lex the
/// comment byte by byte, while blanks can be left out of its parse.
fn blank_comments(out: &mut Cow<'_, [u8]>, src: &[u8], start: usize, end: usize) {
    if memchr::memchr(b'/', slice(src, start, end)).is_some() {
        blank(out, start, end);
    }
}

/// Replaces `text[start..end]` with spaces, newlines kept (so lines and offsets stay),
/// copying `text` on first use.
fn blank(text: &mut Cow<'_, [u8]>, start: usize, end: usize) {
    if let Some(bytes) = text.to_mut().get_mut(start..end) {
        bytes
            .iter_mut()
            .filter(|b| **b != b'\n')
            .for_each(|b| *b = b' ');
    }
}

/// True if a token after `prev` starts a statement (inside a body).
fn starts_statement(src: &[u8], prev: Option<Token>) -> bool {
    prev.is_some_and(|p| match p.kind {
        Tok::Punct(b) => matches!(b, b';' | b'{' | b'}' | b')' | b':'),
        Tok::Ident => slice(src, p.start, p.end) == b"else",
        Tok::Directive => true,
        _ => false,
    })
}

/// After a macro name first on its line: if `()` follows and ends the line,
/// consumes it and returns its end.
fn x_macro_line(lx: &mut Lexer<'_>) -> Option<usize> {
    let mut probe = lx.clone();
    let (open, close) = (probe.next()?, probe.next()?);
    if !open.is(b'(') || !close.is(b')') {
        return None;
    }
    let line = probe.line();
    let ends_line = probe
        .clone()
        .next()
        .is_none_or(|next| next.line > line || next.is(b'}'));
    if ends_line && close.line == line {
        *lx = probe;
        Some(close.end)
    } else {
        None
    }
}

/// After a macro name first on its line at file scope: if a parenthesized group
/// follows and ends the statement (a `;`, or the end of the line with no body after),
/// consumes them and returns the end. Such an invocation defines through the macro
/// (`LE64_BITMASK(BCH_SB_CLEAN, struct bch_sb, flags[0], 1, 2);`,
/// `DEFINE_GUARD(mutex, struct mutex *, mutex_lock(_T), mutex_unlock(_T))`,
/// `TRACE_EVENT(...);`): tree-sitter takes it for a declaration gone wrong and spends
/// long recovering, and what it would make of it is not used. Symbols such invocations
/// define (`DEFINE_MUTEX(m);`) come from the lexical scan's macro statements, whose
/// tree-sitter declarations the extractor skips.
fn macro_statement(lx: &mut Lexer<'_>) -> Option<usize> {
    let mut probe = lx.clone();
    if !probe.next()?.is(b'(') {
        return None;
    }
    let mut depth = 1u32;
    let close = loop {
        let tok = probe.next()?;
        match tok.kind {
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') => {
                depth -= 1;
                if depth == 0 {
                    break tok;
                }
            }
            Tok::Directive => return None,
            _ => {}
        }
    };
    let mut after = probe.clone();
    match after.next() {
        Some(tok) if tok.is(b';') => {
            *lx = after;
            Some(tok.end)
        }
        Some(tok) if tok.line == close.line || tok.is(b'{') => None,
        _ => {
            *lx = probe;
            Some(close.end)
        }
    }
}

/// If the next token is `(`, consumes the balanced group and returns its end.
fn skip_group(lx: &mut Lexer<'_>) -> Option<usize> {
    let mut probe = lx.clone();
    if !probe.next()?.is(b'(') {
        return None;
    }
    let mut depth = 1u32;
    for tok in probe.by_ref() {
        match tok.kind {
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') => {
                depth -= 1;
                if depth == 0 {
                    *lx = probe;
                    return Some(tok.end);
                }
            }
            Tok::Punct(b';' | b'{' | b'}') | Tok::Directive => return None,
            _ => {}
        }
    }
    None
}

/// Counts ERROR and MISSING nodes, descending only into subtrees with errors.
fn count_errors(root: Node<'_>) -> u32 {
    let mut n = 0;
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            n += 1;
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return n;
            }
        }
    }
}

fn start_line(node: Node<'_>) -> u32 {
    node.start_position().row as u32 + 1
}

/// Last line of a node, not counting a trailing newline it swallowed.
fn end_line(node: Node<'_>) -> u32 {
    let (s, e) = (node.start_position(), node.end_position());
    if e.column == 0 && e.row > s.row {
        e.row as u32
    } else {
        e.row as u32 + 1
    }
}

fn text_string(src: &[u8], start: usize, end: usize) -> String {
    String::from_utf8_lossy(slice(src, start, end)).into_owned()
}

/// The function a `name(params) {` definition defines, resolving definer macros.
fn function_name(src: &[u8], name: &[u8], params: (usize, usize)) -> String {
    scan::first_arg_ident(src, params.0, params.1)
        .and_then(|(s, e)| kernel::defined_function(name, slice(src, s, e)))
        .unwrap_or_else(|| String::from_utf8_lossy(name).into_owned())
}

fn scanned_name(src: &[u8], f: &scan::ScannedFn) -> String {
    function_name(src, slice(src, f.name.0, f.name.1), f.params)
}

fn scanned_symbol(src: &[u8], f: &scan::ScannedFn) -> Symbol {
    scanned_symbol_from(src, f, f.start)
}

/// The scan's symbol for `f`, its head starting at `start` (at or after `f.start`).
fn scanned_symbol_from(src: &[u8], f: &scan::ScannedFn, start: usize) -> Symbol {
    let skipped = slice(src, f.start, start);
    Symbol {
        name: scanned_name(src, f),
        kind: SymbolKind::Function,
        line: f.line + memchr::memchr_iter(b'\n', skipped).count() as u32,
        end_line: f.end_line,
        signature: fold(src, start, f.body_start, MAX_SIGNATURE),
        is_static: f.is_static,
    }
}

/// A function body (or macro body) to scan for calls, owned by `owner`.
struct Region {
    start: usize,
    end: usize,
    line: u32,
    owner: String,
    /// A function body, whose tokens are the file's; a macro body is lexed again, without
    /// directives.
    in_file_tokens: bool,
}

/// A function definition from the tree.
struct TsFunction {
    symbol: usize,
    start: usize,
    body: (usize, usize, u32),
    has_error: bool,
    keep: bool,
}

/// Collects symbols and regions while walking the tree.
struct Extractor<'a> {
    src: &'a [u8],
    symbols: Vec<(usize, Symbol)>,
    functions: Vec<TsFunction>,
    regions: Vec<Region>,
    /// Sorted byte ranges of file-scope macro statements: declarations starting
    /// there are tree-sitter's reading of `DEFINE_MUTEX(x);`, not symbols.
    macro_stmts: Vec<(usize, usize)>,
}

impl<'a> Extractor<'a> {
    fn new(src: &'a [u8], stmts: &[scan::MacroStatement]) -> Self {
        let mut macro_stmts: Vec<(usize, usize)> = stmts.iter().map(|m| (m.start, m.end)).collect();
        macro_stmts.sort_unstable();
        Extractor {
            src,
            symbols: Vec::new(),
            functions: Vec::new(),
            regions: Vec::new(),
            macro_stmts,
        }
    }

    fn text(&self, node: Node<'_>) -> &'a [u8] {
        slice(self.src, node.start_byte(), node.end_byte())
    }

    fn push(
        &mut self,
        offset: usize,
        name: &[u8],
        kind: SymbolKind,
        node: Node<'_>,
        signature: String,
        is_static: bool,
    ) {
        let symbol = Symbol {
            name: String::from_utf8_lossy(name).into_owned(),
            kind,
            line: start_line(node),
            end_line: end_line(node),
            signature,
            is_static,
        };
        self.symbols.push((offset, symbol));
    }

    /// Walks file-scope items (through `#if` blocks and ERROR nodes).
    fn walk(&mut self, root: Node<'_>) {
        let mut stack = vec![root];
        let mut cursor = root.walk();
        while let Some(node) = stack.pop() {
            match node.kind() {
                "translation_unit"
                | "preproc_if"
                | "preproc_ifdef"
                | "preproc_else"
                | "preproc_elif"
                | "preproc_elifdef"
                | "linkage_specification"
                | "declaration_list"
                | "ERROR" => {
                    let len = stack.len();
                    stack.extend(node.named_children(&mut cursor));
                    stack[len..].reverse();
                }
                "function_definition" => self.function(node),
                "declaration" => self.declaration(node),
                "type_definition" => self.typedef(node),
                "struct_specifier" | "union_specifier" | "enum_specifier" => {
                    self.type_specifier(node)
                }
                _ => {}
            }
        }
    }

    fn is_static(&self, node: Node<'_>) -> bool {
        let mut cursor = node.walk();
        let is_static = node
            .children(&mut cursor)
            .any(|c| c.kind() == "storage_class_specifier" && self.text(c) == b"static");
        is_static
    }

    fn function(&mut self, node: Node<'_>) {
        let (Some(decl), Some(body)) = (
            node.child_by_field_name("declarator"),
            node.child_by_field_name("body"),
        ) else {
            return;
        };
        let Some(d) = unwrap_declarator(decl) else {
            return;
        };
        let ty = node.child_by_field_name("type");
        let name = match (d.is_function, d.params, ty) {
            (true, Some(p), _) => {
                function_name(self.src, self.text(d.name), (p.start_byte(), p.end_byte()))
            }
            // `MACRO(arg) {` read as type `MACRO` and declarator `(arg)`.
            (false, _, Some(t)) if decl.kind() == "parenthesized_declarator" => {
                match kernel::defined_function(self.text(t), self.text(d.name)) {
                    Some(name) => name,
                    None => return,
                }
            }
            _ => return, // not a function declarator: left to the lexical scan
        };
        if let Some(t) = ty {
            self.type_specifier(t);
        }
        let signature = fold(
            self.src,
            node.start_byte(),
            body.start_byte(),
            MAX_SIGNATURE,
        );
        let is_static = self.is_static(node);
        self.functions.push(TsFunction {
            symbol: self.symbols.len(),
            start: node.start_byte(),
            body: (body.start_byte(), body.end_byte(), start_line(body)),
            has_error: node.has_error(),
            keep: true,
        });
        self.push(
            node.start_byte(),
            name.as_bytes(),
            SymbolKind::Function,
            node,
            signature,
            is_static,
        );
    }

    fn declaration(&mut self, node: Node<'_>) {
        if let Some(t) = node.child_by_field_name("type") {
            self.type_specifier(t);
        }
        if within(&self.macro_stmts, node.start_byte()) {
            return;
        }
        let is_static = self.is_static(node);
        let mut cursor = node.walk();
        for decl in node.children_by_field_name("declarator", &mut cursor) {
            let Some(d) = unwrap_declarator(decl) else {
                continue;
            };
            let name = self.text(d.name);
            let (kind, sig_end) = if d.is_function {
                (SymbolKind::Prototype, decl.end_byte())
            } else {
                (SymbolKind::Variable, d.sig_end)
            };
            let signature = fold(self.src, node.start_byte(), sig_end, MAX_SIGNATURE);
            self.push(decl.start_byte(), name, kind, node, signature, is_static);
        }
    }

    fn typedef(&mut self, node: Node<'_>) {
        if let Some(t) = node.child_by_field_name("type") {
            self.type_specifier(t);
        }
        let mut cursor = node.walk();
        for decl in node.children_by_field_name("declarator", &mut cursor) {
            let Some(d) = unwrap_declarator(decl) else {
                continue;
            };
            let signature = self.elided_signature(node);
            self.push(
                decl.start_byte(),
                self.text(d.name),
                SymbolKind::Typedef,
                node,
                signature,
                false,
            );
        }
    }

    /// The node's text folded, with any `{ ... }` body shown as `{ ... }`.
    fn elided_signature(&self, node: Node<'_>) -> String {
        let (start, end) = (node.start_byte(), node.end_byte());
        let body = self.text(node).iter().position(|&b| b == b'{');
        let close = self.text(node).iter().rposition(|&b| b == b'}');
        match (body, close) {
            (Some(o), Some(c)) if o < c => {
                let head = fold(self.src, start, start + o, MAX_SIGNATURE);
                let tail = fold(self.src, start + c + 1, end, MAX_SIGNATURE);
                format!("{head} {{ ... }} {tail}")
                    .trim_end_matches([' ', ';'])
                    .to_string()
            }
            _ => fold(self.src, start, end, MAX_SIGNATURE)
                .trim_end_matches([' ', ';'])
                .to_string(),
        }
    }

    /// Records named struct/union/enum definitions (and enumerators, and nested
    /// named definitions inside struct bodies).
    fn type_specifier(&mut self, node: Node<'_>) {
        let mut stack = vec![node];
        let mut cursor = node.walk();
        while let Some(n) = stack.pop() {
            let kind = match n.kind() {
                "struct_specifier" => SymbolKind::Struct,
                "union_specifier" => SymbolKind::Union,
                "enum_specifier" => SymbolKind::Enum,
                "field_declaration_list" => {
                    for field in n.named_children(&mut cursor) {
                        if let Some(t) = field.child_by_field_name("type") {
                            stack.push(t);
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            let Some(body) = n.child_by_field_name("body") else {
                continue;
            };
            if let Some(name) = n.child_by_field_name("name") {
                let keyword = kind.as_str();
                let signature = format!("{keyword} {}", String::from_utf8_lossy(self.text(name)));
                self.push(n.start_byte(), self.text(name), kind, n, signature, false);
            }
            if kind == SymbolKind::Enum {
                self.enumerators(body);
            } else {
                stack.push(body);
            }
        }
    }

    fn enumerators(&mut self, list: Node<'_>) {
        let mut cursor = list.walk();
        for e in list.named_children(&mut cursor) {
            if e.kind() != "enumerator" {
                continue;
            }
            if let Some(name) = e.child_by_field_name("name") {
                let signature = fold(self.src, e.start_byte(), e.end_byte(), MAX_SIGNATURE);
                self.push(
                    e.start_byte(),
                    self.text(name),
                    SymbolKind::Enumerator,
                    e,
                    signature,
                    false,
                );
            }
        }
    }

    /// Reconciles tree-sitter functions with the lexical scan (`scanned`, all of its
    /// definitions; `parsed`, those tree-sitter was given); returns how many of `parsed`
    /// tree-sitter lost (they are added from the scan).
    fn recover(&mut self, scanned: &[scan::ScannedFn], parsed: &[&scan::ScannedFn]) -> u32 {
        // Drop tree-sitter functions starting inside a scanned body.
        let mut bodies: Vec<(usize, usize)> =
            scanned.iter().map(|f| (f.body_start, f.body_end)).collect();
        bodies.sort_unstable();
        for f in &mut self.functions {
            if within(&bodies, f.start) {
                f.keep = false;
            }
        }
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, f) in self.functions.iter().enumerate() {
            if let Some((_, s)) = self.symbols.get(f.symbol).filter(|_| f.keep) {
                by_name.entry(s.name.as_str()).or_default().push(i);
            }
        }
        let mut lost = 0;
        let mut updates: Vec<(usize, &scan::ScannedFn)> = Vec::new();
        let mut recovered: Vec<(usize, Symbol, &scan::ScannedFn)> = Vec::new();
        for &f in parsed {
            let name = scanned_name(self.src, f);
            let matched = by_name.get(name.as_str()).and_then(|v| {
                v.iter().copied().find(|&i| {
                    let s = self
                        .functions
                        .get(i)
                        .and_then(|tf| self.symbols.get(tf.symbol));
                    s.is_some_and(|(_, s)| s.line <= f.end_line && f.line <= s.end_line)
                })
            });
            match matched {
                Some(i) => updates.push((i, f)),
                None => {
                    lost += 1;
                    recovered.push((f.start, scanned_symbol(self.src, f), f));
                }
            }
        }
        for (i, f) in updates {
            if let Some(tf) = self.functions.get_mut(i).filter(|tf| tf.has_error) {
                tf.body = (f.body_start, f.body_end, f.body_line);
                if let Some((_, s)) = self.symbols.get_mut(tf.symbol) {
                    s.end_line = f.end_line;
                }
            }
        }
        for f in &self.functions {
            if let Some((_, s)) = self.symbols.get(f.symbol).filter(|_| f.keep) {
                let (start, end, line) = f.body;
                self.regions.push(Region {
                    start,
                    end,
                    line,
                    owner: s.name.clone(),
                    in_file_tokens: true,
                });
            }
        }
        // Drop artefacts: functions judged above, and declarations starting
        // inside a scanned body (locals leaking out of ERROR nodes).
        let dropped: HashSet<usize> = self
            .functions
            .iter()
            .filter(|f| !f.keep)
            .map(|f| f.symbol)
            .collect();
        let mut i = 0;
        self.symbols.retain(|(offset, s)| {
            i += 1;
            let inside = s.kind != SymbolKind::Function && within(&bodies, *offset);
            !dropped.contains(&(i - 1)) && !inside
        });
        for (start, symbol, f) in recovered {
            self.add_function(start, symbol, f);
        }
        lost
    }

    /// Adds a function from the scan, and its body as a region.
    fn add_function(&mut self, start: usize, symbol: Symbol, f: &scan::ScannedFn) {
        self.regions.push(Region {
            start: f.body_start,
            end: f.body_end,
            line: f.body_line,
            owner: symbol.name.clone(),
            in_file_tokens: true,
        });
        self.symbols.push((start, symbol));
    }

    /// Adds functions taken from the scan alone (tree-sitter never saw them).
    fn add_scanned_functions(&mut self, scanned: &[ScannedDefinition<'_>]) {
        for &ScannedDefinition { function: f, start } in scanned {
            let symbol = scanned_symbol_from(self.src, f, start);
            self.add_function(start, symbol, f);
        }
    }

    /// Adds variables defined by file-scope `DEFINE_MUTEX(x);`-style statements.
    fn add_macro_variables(&mut self, stmts: &[scan::MacroStatement]) {
        for st in stmts {
            let name = slice(self.src, st.name.0, st.name.1);
            let Some(arg) = kernel::variable_macro_arg(name) else {
                continue;
            };
            let Some(Some((s, e))) = st.arg_idents.get(arg) else {
                continue;
            };
            let Some(last) = st.arg_idents.iter().flatten().last() else {
                continue;
            };
            let symbol = Symbol {
                name: text_string(self.src, *s, *e),
                kind: SymbolKind::Variable,
                line: st.line,
                end_line: st.end_line,
                signature: format!("{})", fold(self.src, st.start, last.1, MAX_SIGNATURE)),
                is_static: st.is_static,
            };
            self.symbols.push((st.start, symbol));
        }
    }

    /// Adds `#define` symbols and their bodies as call regions.
    fn add_defines(&mut self, defines: &[scan::Define]) {
        for d in defines {
            let name = text_string(self.src, d.name.0, d.name.1);
            let (kind, signature) = match d.params {
                Some((_, pe)) => (
                    SymbolKind::FunctionMacro,
                    fold(self.src, d.name.0, pe, MAX_SIGNATURE),
                ),
                None => (
                    SymbolKind::Macro,
                    fold(self.src, d.name.0, d.body.1, MAX_MACRO_SIGNATURE),
                ),
            };
            let (start, end) = d.body;
            self.regions.push(Region {
                start,
                end,
                line: d.body_line,
                owner: name.clone(),
                in_file_tokens: false,
            });
            let symbol = Symbol {
                name,
                kind,
                line: d.line,
                end_line: d.end_line,
                signature,
                is_static: false,
            };
            self.symbols.push((d.name.0, symbol));
        }
    }

    /// Scans regions for calls and messages, function bodies in the file's `tokens`;
    /// sorts everything into source order.
    fn finish(mut self, tokens: &[Token]) -> FileFacts {
        let mut facts = FileFacts::default();
        self.symbols.sort_by_key(|(offset, _)| *offset);
        facts.symbols = self.symbols.into_iter().map(|(_, s)| s).collect();
        self.regions.sort_by_key(|r| r.start);
        let mut covered = 0;
        let src = self.src;
        for r in &self.regions {
            if r.start < covered {
                continue; // nested in or overlapping an earlier region
            }
            covered = r.end;
            let mut emit = |found| match found {
                Found::Call { callee, line } => facts.calls.push(Call {
                    caller: r.owner.clone(),
                    callee: text_string(src, callee.0, callee.1),
                    line,
                }),
                Found::Message { helper, text, line } => facts.messages.push(Message {
                    text,
                    helper: text_string(src, helper.0, helper.1),
                    function: Some(r.owner.clone()),
                    line,
                }),
            };
            if r.in_file_tokens {
                let first = tokens.partition_point(|t| t.start < r.start);
                let end = tokens.partition_point(|t| t.start < r.end);
                scan::scan_calls(src, tokens[first..end].iter().copied(), &mut emit);
            } else {
                let lexer = Lexer::new(src, r.start, r.end, r.line, false);
                scan::scan_calls(src, lexer, &mut emit);
            }
        }
        facts
    }
}

/// True if `offset` lies at or after the start of one of the sorted,
/// non-overlapping `ranges` and before its end.
fn within(ranges: &[(usize, usize)], offset: usize) -> bool {
    let i = ranges.partition_point(|r| r.0 <= offset);
    i > 0 && ranges.get(i - 1).is_some_and(|r| offset < r.1)
}

/// A declarator unwrapped to its name.
struct Declarator<'t> {
    /// The identifier.
    name: Node<'t>,
    /// A function declarator applies directly to the name (prototype/definition).
    is_function: bool,
    /// That function declarator's parameter list.
    params: Option<Node<'t>>,
    /// End of the declarator proper (before any `= initializer`).
    sig_end: usize,
}

/// Unwraps pointer/array/function/init/parenthesized declarators to the name.
fn unwrap_declarator(node: Node<'_>) -> Option<Declarator<'_>> {
    let mut n = node;
    let mut sig_end = node.end_byte();
    let mut is_function = false;
    let mut params = None;
    loop {
        match n.kind() {
            "identifier" | "type_identifier" | "field_identifier" | "primitive_type" => {
                return Some(Declarator {
                    name: n,
                    is_function,
                    params,
                    sig_end,
                });
            }
            "init_declarator" => {
                n = n.child_by_field_name("declarator")?;
                sig_end = n.end_byte();
            }
            "function_declarator" => {
                let inner = n.child_by_field_name("declarator")?;
                if matches!(
                    inner.kind(),
                    "identifier" | "type_identifier" | "primitive_type"
                ) {
                    is_function = true;
                    params = n.child_by_field_name("parameters");
                }
                n = inner;
            }
            "pointer_declarator" | "array_declarator" => n = n.child_by_field_name("declarator")?,
            "parenthesized_declarator" | "attributed_declarator" => n = n.named_child(0)?,
            _ => return None,
        }
    }
}
