//! What the source index knows about one file's content (one git blob).
//!
//! These are plain data, produced by [`crate::parse::parse_c`] and stored once per blob.

use crate::codec;
use serde::{Deserialize, Serialize};

/// Kind of a symbol found in C source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    /// A function definition (with a body).
    Function,
    /// A function declaration without a body.
    Prototype,
    /// `struct name { ... }`.
    Struct,
    /// `union name { ... }`.
    Union,
    /// `enum name { ... }`.
    Enum,
    /// An enumerator inside an enum body.
    Enumerator,
    /// `typedef ... name;`.
    Typedef,
    /// `#define NAME value`.
    Macro,
    /// `#define NAME(args) body`.
    FunctionMacro,
    /// A file-scope variable definition or declaration.
    Variable,
}

impl SymbolKind {
    /// The lowercase name used in JSON and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::Prototype => "prototype",
            SymbolKind::Struct => "struct",
            SymbolKind::Union => "union",
            SymbolKind::Enum => "enum",
            SymbolKind::Enumerator => "enumerator",
            SymbolKind::Typedef => "typedef",
            SymbolKind::Macro => "macro",
            SymbolKind::FunctionMacro => "function_macro",
            SymbolKind::Variable => "variable",
        }
    }

    /// True for kinds that define something (everything but prototypes).
    pub fn is_definition(self) -> bool {
        self != SymbolKind::Prototype
    }
}

/// A named symbol and where it is, 1-based inclusive lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symbol {
    /// The symbol's name.
    pub name: String,
    /// What it is.
    pub kind: SymbolKind,
    /// First line (1-based).
    pub line: u32,
    /// Last line (1-based, inclusive).
    pub end_line: u32,
    /// One-line signature: for functions the declarator up to the body, whitespace folded.
    pub signature: String,
    /// Declared `static` (file-local).
    pub is_static: bool,
}

/// A call site: `caller` calls `callee` at `line`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The enclosing function (or macro) name.
    pub caller: String,
    /// The called function or function-like macro name.
    pub callee: String,
    /// Line of the call (1-based).
    pub line: u32,
}

/// A string literal passed to a logging or error helper (`pr_err`, `bch_err`, `panic`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The literal's text with adjacent literals joined and escapes kept as written.
    pub text: String,
    /// The helper it is passed to, e.g. `bch_err`.
    pub helper: String,
    /// The enclosing function, if any.
    pub function: Option<String>,
    /// Line of the literal (1-based).
    pub line: u32,
}

/// Parse quality numbers for one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseStats {
    /// Functions found (definitions).
    pub functions: u32,
    /// Of those, kernel-style definitions taken from the lexical scan alone; tree-sitter
    /// is given the others.
    pub functions_scanned: u32,
    /// Functions tree-sitter was given and lost to ERROR nodes (the scan recovers them).
    pub functions_lost: u32,
    /// Number of ERROR or MISSING nodes in the tree.
    pub error_nodes: u32,
}

/// Everything extracted from one C source or header file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    /// Definitions and declarations, in source order. First, so that [`FileSymbols`] can
    /// decode them alone.
    pub symbols: Vec<Symbol>,
    /// Call sites, in source order.
    pub calls: Vec<Call>,
    /// Messages passed to logging/error helpers, in source order.
    pub messages: Vec<Message>,
    /// Parse quality.
    pub stats: ParseStats,
}

impl FileFacts {
    /// The facts as the store keeps them: the symbols in a zstd frame of their own, then
    /// the rest ([`codec::pack_in_two`]), so that [`FileSymbols`] decompresses only them.
    pub(crate) fn pack(&self) -> Result<Vec<u8>, String> {
        // The fields in their declared order: postcard writes a struct as just that.
        let FileFacts {
            symbols,
            calls,
            messages,
            stats,
        } = self;
        codec::pack_in_two(symbols, &(calls, messages, stats))
    }
}

/// The first field of stored [`FileFacts`], decoded without the rest (queries about
/// definitions need nothing else, and calls and messages are most of a file's facts).
#[derive(Debug, Deserialize)]
pub(crate) struct FileSymbols {
    pub symbols: Vec<Symbol>,
}
