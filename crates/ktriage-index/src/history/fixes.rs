//! `Fixes:` trailers: parsing `<id> ("<subject>")` tolerantly and resolving it to a commit.
//!
//! Resolution tries the abbreviated id first (any commit of the repository); when the id
//! names no commit, is ambiguous, or names a commit whose subject is not the quoted one
//! while the quoted subject names another, the exact quoted subject (whitespace folded) is
//! looked up among the indexed commits. What resolves neither way keeps only its raw text.

use super::{raw, FixRef, ResolvedBy};
use git2::{Oid, Repository};

/// The parts of a `Fixes:` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFix {
    /// The hexadecimal id as written (7 to 40 digits), if any.
    pub id: Option<String>,
    /// The quoted subject, whitespace folded, if any.
    pub subject: Option<String>,
}

/// Splits a `Fixes:` value such as `0123456789ab ("minifs: add inode creation")`.
pub fn parse_fix(value: &str) -> ParsedFix {
    let value = value.trim();
    let rest = value.strip_prefix("commit ").unwrap_or(value).trim_start();
    let hex_len = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
    let ends_word = rest[hex_len..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_ascii_alphanumeric());
    let id = (7..=40).contains(&hex_len) && ends_word;
    let after = if id { &rest[hex_len..] } else { rest };
    let subject = quoted(after)
        .map(fold_whitespace)
        .filter(|subject| !subject.is_empty());
    ParsedFix {
        id: id.then(|| rest[..hex_len].to_ascii_lowercase()),
        subject,
    }
}

/// The text inside `("...")`, `('...')` or `(...)`, tolerating a missing closing quote.
fn quoted(text: &str) -> Option<&str> {
    let open = text.find('(')?;
    let inner = &text[open + 1..];
    let inner = inner
        .strip_suffix(')')
        .or_else(|| inner.rfind(')').map(|close| &inner[..close]))
        .unwrap_or(inner);
    let inner = inner.trim();
    for quote in ['"', '\'', '\u{201c}'] {
        if let Some(unquoted) = inner.strip_prefix(quote) {
            return Some(unquoted.trim_end_matches(['"', '\'', '\u{201d}']));
        }
    }
    Some(inner)
}

/// Collapses runs of whitespace to one space.
pub(crate) fn fold_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Resolves one `Fixes:` value. `by_subject` finds an indexed commit by exact subject.
pub(crate) fn resolve(
    repo: &Repository,
    value: &str,
    by_subject: &mut dyn FnMut(&str) -> Option<Oid>,
) -> FixRef {
    let parsed = parse_fix(value);
    let by_id = parsed
        .id
        .as_deref()
        .and_then(|id| repo.find_commit_by_prefix(id).ok());
    let resolved = match (by_id, parsed.subject.as_deref()) {
        (Some(commit), None) => Some((commit.id(), ResolvedBy::Id)),
        (Some(commit), Some(subject)) => {
            let actual = fold_whitespace(
                &String::from_utf8_lossy(commit.message_bytes())
                    .split("\n\n")
                    .next()
                    .unwrap_or_default()
                    .replace('\n', " "),
            );
            if actual == subject {
                Some((commit.id(), ResolvedBy::Id))
            } else {
                by_subject(subject)
                    .map(|other| (other, ResolvedBy::Subject))
                    .or(Some((commit.id(), ResolvedBy::Id)))
            }
        }
        (None, Some(subject)) => by_subject(subject).map(|other| (other, ResolvedBy::Subject)),
        (None, None) => None,
    };
    FixRef {
        raw: value.to_string(),
        commit: resolved.map(|(commit, _)| raw(commit)),
        resolved_by: resolved.map(|(_, by)| by),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_fix;

    #[test]
    fn parses_kernel_forms() {
        let fix = parse_fix("0123456789ab (\"minifs: add  inode creation\")");
        assert_eq!(fix.id.as_deref(), Some("0123456789ab"));
        assert_eq!(fix.subject.as_deref(), Some("minifs: add inode creation"));
        let fix = parse_fix("commit ABCDEF1234(\"x (y)\")");
        assert_eq!(
            (fix.id.as_deref(), fix.subject.as_deref()),
            (Some("abcdef1234"), Some("x (y)"))
        );
        let fix = parse_fix("https://example.org/bug/1");
        assert_eq!((fix.id, fix.subject), (None, None));
        assert_eq!(parse_fix("deadbeefcafe").subject, None);
        assert_eq!(parse_fix("abc12 (\"short\")").id, None);
    }
}
