//! Pattern placeholders shared by the report table and compilation of table patterns.

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

/// A `[<ffffffff81234567>]` address.
const PC: &str = r"\[<?(?:0x)?[0-9a-f]+>?\]";
/// A function name followed by `+0x..` or a `.isra`-style suffix; one capture.
const FUNC: &str = r"([a-zA-Z0-9_]+)(?:\.|\+)";
/// A `path/file.c:123` location; one capture.
const SRC: &str = r"([a-zA-Z0-9_/.\-]+\.[a-z]+:[0-9]+)";
/// A task name (may contain anything, even `:`).
const TASK: &str = r"[\s\S]{0,100}?";
/// A `Call Trace:` header.
const CALLTRACE: &str = r"(?:Call (?:T|t)race:)|(?:Backtrace:)";

/// The faulting-function line of an oops (`RIP:`, `IP:`, `NIP:`, `pc :`, `PC is at`);
/// captures the function when printed.
fn rip() -> String {
    format!(
        r"(?:IP|NIP|pc |PC is at):? (?:(?:[0-9]+:)?(?:{PC} +){{0,2}}{FUNC}|(?:[0-9]+:)?0x[0-9a-f]+|(?:[0-9]+:)?{PC} +\[< *\(null\)>\] +\(null\)|[0-9]+: +\(null\))"
    )
}

/// Expands the placeholders of a table pattern.
pub(crate) fn expand(pattern: &str) -> String {
    pattern
        .replace("{{RIP}}", &rip())
        .replace("{{PC}}", PC)
        .replace("{{FUNC}}", FUNC)
        .replace("{{SRC}}", SRC)
        .replace("{{TASK}}", TASK)
        .replace("{{CALLTRACE}}", CALLTRACE)
}

/// Compiles a table pattern. Table patterns are fixed strings (not input), all compiled
/// by the tests, so failing here is a programming error.
pub(crate) fn compile(pattern: &str) -> Regex {
    RegexBuilder::new(&expand(pattern))
        .size_limit(1 << 24)
        .build()
        .unwrap_or_else(|err| panic!("bad table pattern {pattern:?}: {err}"))
}

/// Compiles table patterns into one set (same rules as [`compile`]).
pub(crate) fn compile_set<'p>(patterns: impl Iterator<Item = &'p str>) -> RegexSet {
    let patterns: Vec<String> = patterns.map(expand).collect();
    RegexSetBuilder::new(&patterns)
        .size_limit(1 << 24)
        .build()
        .unwrap_or_else(|err| panic!("bad table patterns {patterns:?}: {err}"))
}

/// Fills a title template: `{N}` is replaced by `args[N-1]`.
pub(crate) fn render(template: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let index = after
            .find('}')
            .and_then(|close| Some((after[..close].parse::<usize>().ok()?, close)));
        match index {
            Some((n, close)) => {
                out.push_str(args.get(n.wrapping_sub(1)).map_or("", String::as_str));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders() {
        let args = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(render("x {2} in {1}", &args), "x b in a");
        assert_eq!(render("{3}{", &args), "{");
    }

    #[test]
    fn rip_captures() {
        let re = compile("{{RIP}}");
        let caps = re
            .captures("RIP: 0010:foo_bar+0x12/0x30")
            .expect("test input");
        assert_eq!(caps.get(1).expect("test input").as_str(), "foo_bar");
        assert!(re.captures("pc : btree_split+0xb4/0xd0").is_some());
    }
}
