//! Changed functions: the function spans of a blob, and what changed between two blobs.
//!
//! Spans come from the lexical brace scanner of the source parser
//! ([`crate::parse::lexical_functions`]: every `name(args) { ... }` at file scope), not
//! from tree-sitter: the history holds tens of thousands of blob versions and the scanner
//! is what makes scanning each of them once affordable; the same scanner is used for every
//! blob, so spans of two versions of a file are always comparable. Each span keeps two
//! hashes of its text, exact and with all whitespace removed, so comparing versions needs
//! neither the contents nor a diff.

use super::{Change, FunctionChange};
use crate::lines::LineStarts;
use crate::parse;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One function definition of a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnSpan {
    /// The function's name.
    pub name: String,
    /// First line (1-based).
    pub line: u32,
    /// Last line (inclusive).
    pub end_line: u32,
    /// Hash of the span's text.
    pub hash: u64,
    /// Hash of the span's text without whitespace.
    pub squeezed_hash: u64,
}

/// The function spans of a C file's content.
pub fn spans(content: &[u8]) -> Vec<FnSpan> {
    let lines = LineStarts::new(content);
    parse::lexical_functions(content)
        .into_iter()
        .map(|symbol| {
            let text = &content[lines.span(symbol.line, symbol.end_line)];
            FnSpan {
                name: symbol.name,
                line: symbol.line,
                end_line: symbol.end_line,
                hash: fnv1a(text.iter().copied()),
                squeezed_hash: fnv1a(text.iter().copied().filter(|b| !b.is_ascii_whitespace())),
            }
        })
        .collect()
}

/// 64-bit FNV-1a: stable across builds, which the stored hashes need.
fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One changed C file: its spans before and after (`None`: the file did not exist).
pub(crate) struct FileSpans<'a> {
    /// Path after the change (before it, when deleted).
    pub path: &'a str,
    /// Path before the change, when renamed.
    pub old_path: Option<&'a str>,
    /// Spans before.
    pub old: Option<&'a [FnSpan]>,
    /// Spans after.
    pub new: Option<&'a [FnSpan]>,
}

/// The functions whose bodies differ between the two versions of a file, by name;
/// definitions sharing a name within a file are paired in order.
pub(crate) fn changed_in_file(file: &FileSpans<'_>) -> Vec<FunctionChange> {
    let mut by_name: HashMap<&str, (Vec<&FnSpan>, Vec<&FnSpan>)> = HashMap::new();
    for span in file.old.unwrap_or_default() {
        by_name.entry(&span.name).or_default().0.push(span);
    }
    for span in file.new.unwrap_or_default() {
        by_name.entry(&span.name).or_default().1.push(span);
    }
    let mut changes = Vec::new();
    for (name, (old, new)) in by_name {
        let change = |change: Change, whitespace_only: bool| FunctionChange {
            name: name.to_string(),
            path: file.path.to_string(),
            old_path: file
                .old_path
                .filter(|old_path| *old_path != file.path)
                .map(str::to_string),
            change,
            whitespace_only,
        };
        for pair in 0..old.len().max(new.len()) {
            match (old.get(pair), new.get(pair)) {
                (Some(before), Some(after)) if before.hash != after.hash => {
                    changes.push(change(
                        Change::Modified,
                        before.squeezed_hash == after.squeezed_hash,
                    ));
                }
                (Some(_), None) => changes.push(change(Change::Removed, false)),
                (None, Some(_)) => changes.push(change(Change::Added, false)),
                _ => {}
            }
        }
    }
    changes
}

/// Turns a function removed from one file and added to another by the same commit into
/// one `moved` change at the new path; sorts the result by path and name.
pub(crate) fn pair_moves(mut changes: Vec<FunctionChange>) -> Vec<FunctionChange> {
    let mut out: Vec<FunctionChange> = Vec::with_capacity(changes.len());
    changes.sort_by(|a, b| {
        (a.change != Change::Added, &a.name, &a.path).cmp(&(
            b.change != Change::Added,
            &b.name,
            &b.path,
        ))
    });
    for change in changes {
        if change.change == Change::Removed {
            if let Some(added) = out.iter_mut().find(|added| {
                added.change == Change::Added
                    && added.name == change.name
                    && added.old_path.is_none()
            }) {
                added.change = Change::Moved;
                added.old_path = Some(change.path);
                continue;
            }
        }
        out.push(change);
    }
    out.sort_by(|a, b| (&a.path, &a.name).cmp(&(&b.path, &b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "int a(void)\n{\n\treturn 1;\n}\n\nint b(void)\n{\n\treturn 2;\n}\n";
    const V2: &str = "/* new */\nint a(void)\n{\n\treturn  1;\n}\n\nint b(void)\n{\n\treturn 3;\n}\n\nint c(void)\n{\n}\n";

    #[test]
    fn modified_whitespace_added_removed_moved() {
        let (v1, v2) = (spans(V1.as_bytes()), spans(V2.as_bytes()));
        let file = FileSpans {
            path: "x.c",
            old_path: None,
            old: Some(&v1),
            new: Some(&v2),
        };
        let mut got: Vec<_> = changed_in_file(&file)
            .into_iter()
            .map(|c| (c.name, c.change, c.whitespace_only))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [
                ("a".into(), Change::Modified, true),
                ("b".into(), Change::Modified, false),
                ("c".into(), Change::Added, false)
            ]
        );
        let removed = changed_in_file(&FileSpans {
            path: "x.c",
            old_path: None,
            old: Some(&v1),
            new: None,
        });
        let added = changed_in_file(&FileSpans {
            path: "y.c",
            old_path: None,
            old: None,
            new: Some(&v1),
        });
        let moved = pair_moves(removed.into_iter().chain(added).collect());
        assert!(moved.iter().all(|c| c.change == Change::Moved
            && c.path == "y.c"
            && c.old_path.as_deref() == Some("x.c")));
        assert_eq!(moved.len(), 2);
    }
}
