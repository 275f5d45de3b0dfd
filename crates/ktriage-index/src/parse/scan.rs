//! A light lexical scanner for C: tokens, top-level function bodies, `#define`s,
//! and call/message extraction from a byte range.
//!
//! The scanner never builds a syntax tree. It knows comments, string and char
//! literals, preprocessor directives (with line continuations) and brace depth,
//! which is enough to find `name(args) {` at file scope and its matching `}` even
//! where tree-sitter gives up, and to list `ident(` call sites inside a body.
//! Everything works on byte offsets into the caller's buffer; nothing allocates
//! per token.

use super::kernel;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Identifier or keyword.
    Ident,
    /// String literal including quotes (possibly unterminated).
    Str,
    /// Character literal.
    Char,
    /// Numeric literal.
    Number,
    /// A single punctuation byte.
    Punct(u8),
    /// A whole preprocessor directive line (with continuations).
    Directive,
}

/// One token: kind, byte range and 1-based line of its first byte.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Kind of token.
    pub kind: Tok,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: u32,
}

impl Token {
    /// True if this is the punctuation byte `b`.
    pub fn is(&self, b: u8) -> bool {
        self.kind == Tok::Punct(b)
    }
}

/// Returns `src[start..end]`, or an empty slice when out of range.
pub(crate) fn slice(src: &[u8], start: usize, end: usize) -> &[u8] {
    src.get(start..end).unwrap_or(&[])
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Iterator of tokens over `src[pos..]`.
#[derive(Clone)]
pub(crate) struct Lexer<'a> {
    /// The text up to where lexing ends: a byte past it reads as the end of the text.
    src: &'a [u8],
    pos: usize,
    line: u32,
    at_line_start: bool,
    directives: bool,
}

impl<'a> Lexer<'a> {
    /// Lexes `src[start..end]`; `line` is the line of `start`. With `directives`,
    /// a `#` first on a line yields one [`Tok::Directive`] token for the whole
    /// directive; without, `#` is plain punctuation (for macro bodies).
    pub fn new(src: &'a [u8], start: usize, end: usize, line: u32, directives: bool) -> Self {
        let end = end.min(src.len());
        Lexer {
            src: &src[..end],
            pos: start.min(end),
            line,
            at_line_start: true,
            directives,
        }
    }

    /// Current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Current line.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// Goes on lexing at `pos`, on `line`, which must not be first on its line.
    pub fn jump_to(&mut self, pos: usize, line: u32) {
        self.pos = pos.min(self.src.len());
        self.line = line;
        self.at_line_start = false;
    }

    fn peek(&self, off: usize) -> u8 {
        self.src.get(self.pos + off).copied().unwrap_or(0)
    }

    /// Skips whitespace, comments and line continuations.
    fn skip_trivia(&mut self) {
        while self.pos < self.src.len() {
            match self.peek(0) {
                b'\n' => {
                    self.line += 1;
                    self.at_line_start = true;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => self.pos += 1,
                b'\\' if self.peek(1) == b'\n' => {
                    self.line += 1;
                    self.pos += 2;
                }
                b'\\' if self.peek(1) == b'\r' && self.peek(2) == b'\n' => {
                    self.line += 1;
                    self.pos += 3;
                }
                b'/' if self.peek(1) == b'*' => self.skip_block_comment(),
                b'/' if self.peek(1) == b'/' => self.skip_to_eol(),
                _ => return,
            }
        }
    }

    fn skip_block_comment(&mut self) {
        self.pos += 2;
        while self.pos < self.src.len() {
            match self.peek(0) {
                b'*' if self.peek(1) == b'/' => {
                    self.pos += 2;
                    return;
                }
                b'\n' => self.line += 1,
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Moves to the next newline (not consuming it).
    fn skip_to_eol(&mut self) {
        let rest = slice(self.src, self.pos, self.src.len());
        self.pos += memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    }

    fn skip_quoted(&mut self, quote: u8) {
        self.pos += 1;
        while self.pos < self.src.len() {
            match self.peek(0) {
                b'\\' => {
                    if self.peek(1) == b'\n' {
                        self.line += 1;
                    }
                    self.pos += 2;
                }
                b'\n' => return, // unterminated: stop at the line end
                b if b == quote => {
                    self.pos += 1;
                    return;
                }
                _ => self.pos += 1,
            }
        }
        self.pos = self.pos.min(self.src.len());
    }

    /// Consumes a directive up to its (unescaped) end of line.
    fn skip_directive(&mut self) {
        while self.pos < self.src.len() {
            match self.peek(0) {
                b'\n' => return,
                b'\\' if self.peek(1) == b'\n' => {
                    self.line += 1;
                    self.pos += 2;
                }
                b'\\' if self.peek(1) == b'\r' && self.peek(2) == b'\n' => {
                    self.line += 1;
                    self.pos += 3;
                }
                b'/' if self.peek(1) == b'*' => self.skip_block_comment(),
                b'/' if self.peek(1) == b'/' => self.skip_to_eol(),
                b'"' | b'\'' => {
                    let q = self.peek(0);
                    self.skip_quoted(q);
                }
                _ => self.pos += 1,
            }
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        self.skip_trivia();
        if self.pos >= self.src.len() {
            return None;
        }
        let start = self.pos;
        let line = self.line;
        let at_line_start = std::mem::replace(&mut self.at_line_start, false);
        let b = self.peek(0);
        let kind = if b == b'#' && at_line_start && self.directives {
            self.skip_directive();
            Tok::Directive
        } else if is_ident_start(b) {
            let rest = slice(self.src, self.pos, self.src.len());
            self.pos += rest
                .iter()
                .position(|&b| !is_ident_byte(b))
                .unwrap_or(rest.len());
            Tok::Ident
        } else if b.is_ascii_digit() || (b == b'.' && self.peek(1).is_ascii_digit()) {
            while self.pos < self.src.len() {
                let c = self.peek(0);
                let exponent_sign = (c == b'+' || c == b'-')
                    && matches!(
                        self.src.get(self.pos.wrapping_sub(1)),
                        Some(b'e' | b'E' | b'p' | b'P')
                    );
                if is_ident_byte(c) || c == b'.' || exponent_sign {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            Tok::Number
        } else if b == b'"' {
            self.skip_quoted(b'"');
            Tok::Str
        } else if b == b'\'' {
            self.skip_quoted(b'\'');
            Tok::Char
        } else {
            self.pos += 1;
            Tok::Punct(b)
        };
        Some(Token {
            kind,
            start,
            end: self.pos,
            line,
        })
    }
}

/// The directive's keyword (`define`, `ifdef`, ...) of a [`Tok::Directive`] token.
pub(crate) fn directive_keyword<'a>(src: &'a [u8], tok: &Token) -> &'a [u8] {
    let text = slice(src, tok.start, tok.end);
    let mut i = 1; // past '#'
    while matches!(text.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    let s = i;
    while text.get(i).is_some_and(|&b| is_ident_byte(b)) {
        i += 1;
    }
    slice(text, s, i)
}

/// A function definition found lexically at file scope.
#[derive(Debug, Clone)]
pub(crate) struct ScannedFn {
    /// Name byte range (the identifier before the parameter list).
    pub name: (usize, usize),
    /// The parameter list `(...)` following the name.
    pub params: (usize, usize),
    /// First byte of the definition (first token after the previous declaration).
    pub start: usize,
    /// Line of `start`.
    pub line: u32,
    /// Offset of the body's `{`.
    pub body_start: usize,
    /// Line of the body's `{`.
    pub body_line: u32,
    /// One past the body's `}`.
    pub body_end: usize,
    /// Line of the closing `}`.
    pub end_line: u32,
    /// `static` appeared before the name.
    pub is_static: bool,
}

/// A file-scope `[static] MACRO(args);` statement such as `DEFINE_MUTEX(lock);`.
#[derive(Debug, Clone)]
pub(crate) struct MacroStatement {
    /// The macro name's byte range.
    pub name: (usize, usize),
    /// Last identifier of each of the first [`MAX_ARGS`] arguments.
    pub arg_idents: [Option<(usize, usize)>; MAX_ARGS],
    /// First byte (including `static`).
    pub start: usize,
    /// One past the `;`.
    pub end: usize,
    /// First line.
    pub line: u32,
    /// Line of the `;`.
    pub end_line: u32,
    /// Preceded by `static`.
    pub is_static: bool,
}

/// Number of macro-statement arguments remembered.
pub(crate) const MAX_ARGS: usize = 4;

/// A `#define` directive.
#[derive(Debug, Clone)]
pub(crate) struct Define {
    /// Macro name byte range.
    pub name: (usize, usize),
    /// Parameter list range `(...)` for function-like macros.
    pub params: Option<(usize, usize)>,
    /// Body (replacement list) byte range.
    pub body: (usize, usize),
    /// Line of the body start.
    pub body_line: u32,
    /// First line of the directive.
    pub line: u32,
    /// Last line of the directive (continuations included).
    pub end_line: u32,
}

/// What a whole-file scan finds.
#[derive(Debug, Default)]
pub(crate) struct FileScan {
    /// Function definitions at brace depth 0.
    pub functions: Vec<ScannedFn>,
    /// `MACRO(args);` statements at file scope.
    pub macro_statements: Vec<MacroStatement>,
    /// `#define`s anywhere in the file.
    pub defines: Vec<Define>,
    /// Every token of the file, directives whole, for later passes over parts of it.
    pub tokens: Vec<Token>,
}

/// State of the declaration being read at brace depth 0.
#[derive(Default)]
struct Decl {
    start: Option<(usize, u32)>,
    tokens: u32,
    is_static: bool,
    typedef: bool,
    has_eq: bool,
    paren_depth: u32,
    /// Identifier before the most recent `(` opened at paren depth 0, and that `(`.
    open_ident: Option<(Token, usize)>,
    /// Identifier before the last closed non-attribute group, and the group's range.
    last_group: Option<(Token, usize, usize)>,
    /// Macro statement shape: `[static] IDENT ( ... )` so far.
    stmt: Option<MacroStatement>,
    stmt_closed: bool,
    stmt_arg: usize,
    prev: Option<Token>,
}

/// Scans a whole file for top-level function bodies, macro statements and `#define`s.
pub(crate) fn scan_file(src: &[u8]) -> FileScan {
    let mut out = FileScan::default();
    let mut depth: u32 = 0;
    // `#if` nesting: brace depth at the `#if`, and at the end of its first branch.
    let mut cond_stack: Vec<(u32, Option<u32>)> = Vec::new();
    let mut decl = Decl::default();
    // The function whose body is open at depth 1 and deeper.
    let mut open_fn: Option<ScannedFn> = None;

    for tok in Lexer::new(src, 0, src.len(), 1, true) {
        out.tokens.push(tok);
        match tok.kind {
            Tok::Directive => {
                handle_directive(src, &tok, &mut depth, &mut cond_stack, &mut out.defines);
                continue;
            }
            Tok::Punct(b'{') => {
                if depth == 0 {
                    if let Some(f) = function_start(src, &decl, &tok) {
                        open_fn = Some(f);
                    }
                }
                depth += 1;
            }
            Tok::Punct(b'}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some(mut f) = open_fn.take() {
                        f.body_end = tok.end;
                        f.end_line = tok.line;
                        out.functions.push(f);
                        decl = Decl::default();
                        continue;
                    }
                }
            }
            _ if depth > 0 => {}
            Tok::Punct(b';') => {
                if let Some(mut st) = decl.stmt.take() {
                    if decl.stmt_closed && decl.prev.is_some_and(|p| p.is(b')')) {
                        st.end_line = tok.line;
                        st.end = tok.end;
                        out.macro_statements.push(st);
                    }
                }
                decl = Decl::default();
                continue;
            }
            _ => {}
        }
        if depth == 0 || (depth == 1 && tok.is(b'{')) {
            decl_token(src, &mut decl, &tok);
        }
    }
    out
}

fn handle_directive(
    src: &[u8],
    tok: &Token,
    depth: &mut u32,
    cond_stack: &mut Vec<(u32, Option<u32>)>,
    defines: &mut Vec<Define>,
) {
    match directive_keyword(src, tok) {
        b"if" | b"ifdef" | b"ifndef" => cond_stack.push((*depth, None)),
        b"elif" | b"else" | b"elifdef" | b"elifndef" => {
            if let Some(top) = cond_stack.last_mut() {
                if top.1.is_none() {
                    top.1 = Some(*depth);
                }
                *depth = top.0;
            }
        }
        b"endif" => {
            if let Some((_, Some(first_end))) = cond_stack.pop() {
                *depth = first_end;
            }
        }
        b"define" => {
            if let Some(d) = parse_define(src, tok) {
                defines.push(d);
            }
        }
        _ => {}
    }
}

/// Parses `#define NAME[(params)] body` from a directive token.
fn parse_define(src: &[u8], tok: &Token) -> Option<Define> {
    let mut lx = Lexer::new(src, tok.start + 1, tok.end, tok.line, false);
    lx.next()?; // `define`
    let name = lx.next().filter(|t| t.kind == Tok::Ident)?;
    let mut params = None;
    if src.get(name.end) == Some(&b'(') {
        let mut depth = 0u32;
        for t in lx.by_ref() {
            if t.is(b'(') {
                depth += 1;
            } else if t.is(b')') {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    params = Some((name.end, t.end));
                    break;
                }
            }
        }
        params?;
    }
    let body_start = lx.pos();
    let mut end_line = lx.line();
    // The directive's last line: count newlines inside the rest.
    end_line += slice(src, body_start, tok.end)
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32;
    Some(Define {
        name: (name.start, name.end),
        params,
        body: (body_start, tok.end),
        body_line: lx.line(),
        line: tok.line,
        end_line,
    })
}

/// Feeds one depth-0 token into the declaration state.
fn decl_token(src: &[u8], d: &mut Decl, tok: &Token) {
    if d.start.is_none() {
        d.start = Some((tok.start, tok.line));
    }
    d.tokens += 1;
    let text = slice(src, tok.start, tok.end);
    match tok.kind {
        Tok::Ident if d.paren_depth == 0 => match text {
            b"static" => d.is_static = true,
            b"typedef" => d.typedef = true,
            _ => {}
        },
        Tok::Punct(b'=') if d.paren_depth == 0 => d.has_eq = true,
        Tok::Punct(b'(') => {
            if d.paren_depth == 0 {
                d.open_ident = d
                    .prev
                    .filter(|p| p.kind == Tok::Ident)
                    .map(|p| (p, tok.start));
                // Macro statement shape: first token(s) `[static] IDENT (`.
                let lead = if d.is_static { 3 } else { 2 };
                if d.tokens == lead {
                    if let Some((p, _)) = d.open_ident {
                        d.stmt = Some(MacroStatement {
                            name: (p.start, p.end),
                            arg_idents: [None; MAX_ARGS],
                            start: d.start.map_or(p.start, |s| s.0),
                            end: p.end,
                            line: d.start.map_or(p.line, |s| s.1),
                            end_line: p.line,
                            is_static: d.is_static,
                        });
                        d.stmt_arg = 0;
                    }
                }
            }
            d.paren_depth += 1;
        }
        Tok::Punct(b')') => {
            d.paren_depth = d.paren_depth.saturating_sub(1);
            if d.paren_depth == 0 {
                if let Some((id, open)) = d.open_ident.take() {
                    if !kernel::is_attribute_call(slice(src, id.start, id.end)) {
                        d.last_group = Some((id, open, tok.end));
                    }
                }
                if d.stmt.is_some() {
                    if d.stmt_closed {
                        d.stmt = None; // more than one group: not a plain statement
                    }
                    d.stmt_closed = true;
                }
            }
        }
        _ => {}
    }
    if d.paren_depth == 1 && !tok.is(b'(') {
        if tok.is(b',') {
            d.stmt_arg += 1;
        } else if tok.kind == Tok::Ident {
            if let Some(st) = d.stmt.as_mut().filter(|_| !d.stmt_closed) {
                if let Some(slot) = st.arg_idents.get_mut(d.stmt_arg) {
                    *slot = Some((tok.start, tok.end));
                }
            }
        }
    } else if d.stmt_closed && d.paren_depth == 0 && !tok.is(b')') {
        d.stmt = None; // something follows the group: not a plain statement
    }
    d.prev = Some(*tok);
}

/// Decides whether a `{` at depth 0 opens a function body.
fn function_start(src: &[u8], d: &Decl, brace: &Token) -> Option<ScannedFn> {
    if d.typedef || d.has_eq || d.paren_depth != 0 {
        return None;
    }
    let prev = d.prev?;
    let ok_prev = prev.is(b')')
        || (prev.kind == Tok::Ident && kernel::is_attribute_word(slice(src, prev.start, prev.end)));
    if !ok_prev {
        return None;
    }
    let (name, open, close) = d.last_group?;
    let text = slice(src, name.start, name.end);
    if kernel::is_call_keyword(text) || kernel::is_decl_keyword(text) {
        return None;
    }
    let (start, line) = d.start.unwrap_or((name.start, name.line));
    Some(ScannedFn {
        name: (name.start, name.end),
        params: (open, close),
        start,
        line,
        body_start: brace.start,
        body_line: brace.line,
        body_end: brace.end,
        end_line: brace.line,
        is_static: d.is_static,
    })
}

/// The first argument of `src[start..end]` (a `(...)` group) if it is a lone identifier.
pub(crate) fn first_arg_ident(src: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    let mut lx = Lexer::new(src, start, end, 1, false);
    let (open, arg, next) = (lx.next()?, lx.next()?, lx.next()?);
    (open.is(b'(') && arg.kind == Tok::Ident && (next.is(b',') || next.is(b')')))
        .then_some((arg.start, arg.end))
}

/// A call or message found in a byte range, with offsets into the source.
pub(crate) enum Found {
    /// `callee(` at `line`.
    Call { callee: (usize, usize), line: u32 },
    /// A message: literal tokens joined, passed to `helper`.
    Message {
        helper: (usize, usize),
        text: String,
        line: u32,
    },
}

/// Lists call sites and helper messages in a function body or macro replacement list,
/// given as its `tokens`, in order.
pub(crate) fn scan_calls(
    src: &[u8],
    mut tokens: impl Iterator<Item = Token> + Clone,
    mut emit: impl FnMut(Found),
) {
    let mut prev: Option<Token> = None;
    while let Some(tok) = tokens.next() {
        if tok.kind == Tok::Directive {
            continue;
        }
        if tok.is(b'(') {
            if let Some(p) = prev.filter(|p| p.kind == Tok::Ident) {
                let name = slice(src, p.start, p.end);
                if !kernel::is_call_keyword(name) && !kernel::is_decl_keyword(name) {
                    emit(Found::Call {
                        callee: (p.start, p.end),
                        line: p.line,
                    });
                    if kernel::is_message_helper(name) {
                        if let Some((text, line)) = message_arg(src, tokens.clone()) {
                            emit(Found::Message {
                                helper: (p.start, p.end),
                                text,
                                line,
                            });
                        }
                    }
                }
            }
        }
        prev = Some(tok);
    }
}

/// Reads a call's arguments (`tokens` start just after the `(`) and returns the first
/// argument made only of string literals and identifiers, with at least one literal: the
/// literals' contents joined, as written, and the first literal's line.
fn message_arg(src: &[u8], tokens: impl Iterator<Item = Token>) -> Option<(String, u32)> {
    let mut depth = 1u32;
    let mut only_lits = true;
    let mut first_lit: Option<u32> = None;
    let mut text: Vec<u8> = Vec::new();
    for tok in tokens {
        match tok.kind {
            Tok::Punct(b'(' | b'[' | b'{') => {
                depth += 1;
                only_lits = false;
            }
            Tok::Punct(b')' | b']' | b'}') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                only_lits = false;
            }
            Tok::Punct(b',') if depth == 1 => {
                if only_lits {
                    if let Some(line) = first_lit {
                        return Some((String::from_utf8_lossy(&text).into_owned(), line));
                    }
                }
                only_lits = true;
                first_lit = None;
                text.clear();
            }
            Tok::Str if depth == 1 => {
                first_lit.get_or_insert(tok.line);
                let body = slice(src, tok.start + 1, tok.end);
                let body = body.strip_suffix(b"\"").unwrap_or(body);
                text.extend_from_slice(body);
            }
            Tok::Ident if depth == 1 => {}
            Tok::Directive => {}
            _ => only_lits = false,
        }
    }
    match (only_lits, first_lit) {
        (true, Some(line)) => Some((String::from_utf8_lossy(&text).into_owned(), line)),
        _ => None,
    }
}

/// Folds `src[start..end]` to one line: comments dropped, whitespace runs (and line
/// continuations) collapsed to one space, trimmed, capped at `max` bytes.
pub(crate) fn fold(src: &[u8], start: usize, end: usize, max: usize) -> String {
    let text = slice(src, start, end);
    let mut out: Vec<u8> = Vec::with_capacity(text.len().min(max));
    let mut i = 0;
    let mut space = false;
    let mut line_start = true;
    while i < text.len() && out.len() < max {
        let b = text.get(i).copied().unwrap_or(b' ');
        let next = text.get(i + 1).copied().unwrap_or(0);
        if b == b'#' && line_start {
            // A directive inside a signature (`#ifdef` in a parameter list): drop it.
            let mut lx = Lexer::new(text, i, text.len(), 1, true);
            lx.next();
            i = lx.pos();
            space = true;
            continue;
        }
        if b == b'\n' {
            line_start = true;
        } else if !b.is_ascii_whitespace() {
            line_start = false;
        }
        if b == b'/' && next == b'*' {
            i = memchr::memmem::find(slice(text, i + 2, text.len()), b"*/")
                .map_or(text.len(), |p| i + 4 + p);
            space = true;
        } else if b == b'/' && next == b'/' {
            i = memchr::memchr(b'\n', slice(text, i, text.len())).map_or(text.len(), |p| i + p);
            space = true;
        } else if b.is_ascii_whitespace() || (b == b'\\' && matches!(next, b'\n' | b'\r')) {
            space = true;
            i += 1;
        } else {
            if space && !out.is_empty() {
                out.push(b' ');
            }
            space = false;
            out.push(b);
            i += 1;
        }
    }
    let mut s = String::from_utf8_lossy(&out).into_owned();
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}
