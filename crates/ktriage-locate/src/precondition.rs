//! Argument checks: an assertion (`BUG_ON(*offset >= p.k->size)`) whose condition reads only
//! the enclosing function's parameters checks what its caller passed in. When it fires, the
//! caller broke the contract, so the blame moves one frame out. Pure text processing.

use crate::clues;
use regex::Regex;
use std::sync::OnceLock;

/// Assertion macros whose first argument is the condition that failed.
fn assertion_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^\s*[A-Z_]*(?:BUG_ON|WARN_ON|WARN_ON_ONCE|WARN|WARN_ONCE)\s*\(")
            .expect("the assertion pattern is valid")
    })
}

/// Words of C that are not variables: keywords and the kernel's basic type names.
const NOT_VARIABLES: &[&str] = &[
    "sizeof", "struct", "union", "enum", "const", "unsigned", "signed", "int", "long", "short",
    "char", "bool", "void", "true", "false", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
    "size_t", "ssize_t",
];

/// The statement starting `text` (which may run on over the next lines) is an assertion
/// whose condition reads variables, all of them parameters of the function `signature`
/// declares.
pub fn checks_only_parameters(text: &str, signature: &str) -> bool {
    let Some(open) = assertion_regex().find(text) else {
        return false;
    };
    let Some(arguments) = argument_list(&text[open.end()..]) else {
        return false;
    };
    let condition = split_top_level(arguments)
        .into_iter()
        .next()
        .unwrap_or_default();
    let parameters = parameter_names(signature);
    let variables = variables(condition);
    // A condition on what an object points at (`c->flags`) checks the object's state, not
    // a value the caller chose; one value read directly (`*offset`, `k.k`, `b`) is needed.
    variables.iter().all(|(v, _)| parameters.contains(v))
        && variables
            .iter()
            .any(|(_, through_pointer)| !through_pointer)
}

/// The identifiers of `expression` that name variables: not called, not members, not
/// upper-case macros or constants, not keywords or type names, not the type after
/// `struct`; each with whether it is read through `->`.
fn variables(expression: &str) -> Vec<(&str, bool)> {
    let mut found = Vec::new();
    let mut after_tag = false;
    for m in clues::identifier_regex().find_iter(expression) {
        let name = m.as_str();
        let before = expression[..m.start()].trim_end();
        let after = expression[m.end()..].trim_start();
        let member = before.ends_with("->") || before.ends_with('.');
        let called = after.starts_with('(');
        let constant = !name.bytes().any(|b| b.is_ascii_lowercase());
        let tagged = std::mem::replace(&mut after_tag, matches!(name, "struct" | "union" | "enum"));
        if !(member || called || constant || tagged || NOT_VARIABLES.contains(&name)) {
            found.push((name, after.starts_with("->")));
        }
    }
    found
}

/// The parameter names of a one-line C function signature.
fn parameter_names(signature: &str) -> Vec<&str> {
    static POINTER: OnceLock<Regex> = OnceLock::new();
    let pointer = POINTER.get_or_init(|| {
        Regex::new(r"\(\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)").expect("the pattern is valid")
    });
    let Some(open) = signature.find('(') else {
        return Vec::new();
    };
    let Some(list) = argument_list(&signature[open + 1..]) else {
        return Vec::new();
    };
    split_top_level(list)
        .into_iter()
        .filter_map(|parameter| match pointer.captures(parameter) {
            Some(caps) => caps.get(1).map(|m| m.as_str()),
            None => parameter
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .find(|w| !w.is_empty()),
        })
        .collect()
}

/// The text up to the `)` matching an already-read `(`.
fn argument_list(rest: &str) -> Option<&str> {
    let mut depth = 0usize;
    for (at, byte) in rest.bytes().enumerate() {
        match byte {
            b'(' | b'[' => depth += 1,
            b')' | b']' if depth == 0 => return Some(&rest[..at]),
            b')' | b']' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `list` split at commas outside parentheses and brackets.
fn split_top_level(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (at, byte) in list.bytes().enumerate() {
        match byte {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                parts.push(&list[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNATURE: &str = "struct bkey_s_c lookup(struct btree_trans *trans, s64 *offset, \
                             struct bkey_s_c_reflink_p p, int (*cb)(int), unsigned flags)";

    #[test]
    fn parameter_names_are_read_from_a_signature() {
        assert_eq!(
            parameter_names(SIGNATURE),
            ["trans", "offset", "p", "cb", "flags"]
        );
        assert!(parameter_names("void f(void)").iter().all(|p| *p == "void"));
    }

    #[test]
    fn an_assertion_on_parameters_checks_the_caller() {
        for check in [
            "\tBUG_ON(*offset >= p.k->size + le32_to_cpu(p.v->back_pad));",
            "EBUG_ON(flags & BTREE_ITER_FILTER_SNAPSHOTS && !p.k->p.snapshot);",
            "WARN_ONCE(!cb, \"no callback for %s\", name);",
            "BUG_ON(*offset < -((s64) le32_to_cpu(p.v->front_pad)));",
            "BUG_ON(*offset > 0x1fULL);",
        ] {
            assert!(checks_only_parameters(check, SIGNATURE), "{check}");
        }
    }

    #[test]
    fn other_lines_are_not_argument_checks() {
        for line in [
            "BUG_ON(trans->locked && !local);",
            "BUG_ON(1);",
            "BUG_ON(current->journal_info);",
            "BUG_ON(trans->locked);",
            "ret = bch2_btree_iter_peek(trans, iter);",
            "pr_err(\"offset %lli\", *offset);",
        ] {
            assert!(!checks_only_parameters(line, SIGNATURE), "{line}");
        }
    }
}
