//! Where an added function's code came from.
//!
//! A commit that adds a function under a new name often made it out of an existing one:
//! a rename (`bch_foo` → `bch2_foo`), or a part split out of a larger function; a commit
//! that removes a function may have merged its body into another one. `git log -L`
//! follows such code because it tracks lines, not names: the added function's lines map
//! through the commit's diff to lines of the parent's version of the file, unchanged
//! lines one to one and changed lines to the whole pre-image of their hunk. This module
//! does the same for one added function and names the parent's function holding most
//! of those lines, so that its history can carry on under the old name.

use super::blame::line_diff;
use super::functions::FnSpan;

/// Fewest lines of the parent's function the added function must map to: a function
/// inserted next to a small edit of its neighbour is new code, not that neighbour's.
const MIN_ORIGIN_LINES: usize = 3;

/// A further origin needs this share of the main origin's lines: a function made of two
/// (two triggers unified into one) has two origins, a stray neighbouring line none.
const MIN_SHARE: f64 = 0.25;

/// Most origins named for one function.
const MAX_ORIGINS: usize = 3;

/// The functions of `before` (the parent's version of the file, whose function spans are
/// `before_spans`), among those whose name `candidate` accepts, that the lines of the
/// function at `line..=end` (1-based) of `after` map to, most lines first: each with at least [`MIN_ORIGIN_LINES`] lines and a
/// [`MIN_SHARE`] of the first one's, at most [`MAX_ORIGINS`]. Empty when the function is
/// new code (a pure insertion).
pub(super) fn origins(
    before: &[u8],
    before_spans: &[FnSpan],
    after: &[u8],
    (line, end): (u32, u32),
    candidate: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let diff = line_diff(before, after);
    let span = line.saturating_sub(1)..end;
    let mut old_lines: Vec<u32> = Vec::new();
    let mut shift: i64 = 0;
    let mut next = span.start;
    for hunk in diff.hunks() {
        if hunk.after.start >= span.end {
            break;
        }
        // Unchanged lines before this hunk map one to one.
        for at in next.max(span.start)..hunk.after.start.min(span.end) {
            old_lines.push((i64::from(at) + shift) as u32);
        }
        if hunk.after.end > span.start || (hunk.after.is_empty() && hunk.after.start >= span.start)
        {
            old_lines.extend(hunk.before.clone());
        }
        shift += i64::from(hunk.before.len() as u32) - i64::from(hunk.after.len() as u32);
        next = hunk.after.end;
    }
    for at in next.max(span.start)..span.end {
        old_lines.push((i64::from(at) + shift) as u32);
    }
    let mut found: Vec<(usize, &str)> = before_spans
        .iter()
        .filter(|old| candidate(&old.name))
        .map(|old| {
            let inside = old_lines
                .iter()
                .filter(|at| (old.line.saturating_sub(1)..old.end_line).contains(*at))
                .count();
            (inside, old.name.as_str())
        })
        .filter(|(inside, _)| *inside >= MIN_ORIGIN_LINES)
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let most = found.first().map_or(0, |(inside, _)| *inside);
    found
        .into_iter()
        .take_while(|(inside, _)| *inside as f64 >= MIN_SHARE * most as f64)
        .take(MAX_ORIGINS)
        .map(|(_, name)| name.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::history::functions::spans;

    /// [`super::origins`] with the spans scanned from `before`.
    fn origins(
        before: &[u8],
        after: &[u8],
        line: u32,
        end: u32,
        candidate: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        super::origins(before, &spans(before), after, (line, end), candidate)
    }

    const BEFORE: &str = "\
int helper(void)
{
\treturn 0;
}

int big(int x)
{
\tint a = x + 1;
\tint b = a * 2;
\tint c = b - 3;
\treturn a + b + c;
}
";

    #[test]
    fn renamed_and_split_out_functions_have_an_origin() {
        let renamed = BEFORE.replace("int big(int x)", "int big2(int x)");
        assert_eq!(
            origins(BEFORE.as_bytes(), renamed.as_bytes(), 6, 12, &|name| name
                != "big2"),
            ["big"]
        );
        let split = "\
int helper(void)
{
\treturn 0;
}

static int part(int x)
{
\tint a = x + 1;
\tint b = a * 2;
\tint c = b - 3;
\treturn a + b + c;
}

int big(int x)
{
\treturn part(x);
}
";
        assert_eq!(
            origins(BEFORE.as_bytes(), split.as_bytes(), 6, 12, &|name| name
                != "part"),
            ["big"]
        );
    }

    #[test]
    fn a_function_merged_into_another_is_its_origin() {
        let before = "\
static int prepare(int x)
{
\tint a = x + 1;
\tint b = a * 2;
\treturn a + b;
}

int run(int x)
{
\treturn prepare(x);
}
";
        let after = "\
int run(int x)
{
\tint a = x + 1;
\tint b = a * 2;
\treturn a + b;
}
";
        assert_eq!(
            origins(before.as_bytes(), after.as_bytes(), 1, 6, &|name| name
                == "prepare"),
            ["prepare"]
        );
    }

    #[test]
    fn inserted_code_has_none() {
        let added = format!("{BEFORE}\nint fresh(void)\n{{\n\treturn 7;\n}}\n");
        assert!(
            origins(BEFORE.as_bytes(), added.as_bytes(), 14, 17, &|name| name
                != "fresh")
            .is_empty()
        );
    }
}
