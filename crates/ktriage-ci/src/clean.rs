//! Console-line cleaning.
//!
//! A console line from our CI carries up to three prefixes before the kernel's text:
//! ktest's 5-digit elapsed-seconds field (`00012 `), the printk timestamp
//! (`[   12.345678]`) and, with `CONFIG_PRINTK_CALLER`, a caller id (`[T1234]`/`[ C1]`).
//! [`split_line`] parses them without allocating (the report parser needs to know
//! which caller printed a line); [`clean_line`] and [`clean_log`] additionally drop ANSI
//! colour escapes and carriage returns and give plain text. Invalid UTF-8 is replaced
//! lossily, never rejected.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

/// `<host> login: ` before a console line, searched in lines that do not start with `[`
/// (built once).
static LOGIN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b" login: "));

/// Who printed a console line, as far as the line tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context<'a> {
    /// No printk timestamp: host output, or a kernel without timestamps.
    None,
    /// A printk timestamp without a caller id.
    Console,
    /// A printk timestamp with a caller id; the text between the brackets, e.g. `T1234`.
    Caller(&'a [u8]),
}

impl Context<'_> {
    /// True for a `[C<n>]` (CPU, interrupt) caller id.
    pub fn is_cpu(&self) -> bool {
        matches!(self, Context::Caller(id) if id.first() == Some(&b'C'))
    }

    /// True for a `[T<n>]` (task) caller id.
    pub fn is_task(&self) -> bool {
        matches!(self, Context::Caller(id) if id.first() == Some(&b'T'))
    }
}

/// One console line split into its prefixes and the kernel's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split<'a> {
    /// The ktest elapsed-seconds field, when present.
    pub elapsed: Option<u32>,
    /// The printk context of the line.
    pub context: Context<'a>,
    /// The text after the prefixes (trailing `\r` removed).
    pub body: &'a [u8],
}

/// Splits one line (without its `\n`) into prefixes and body.
pub fn split_line(line: &[u8]) -> Split<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (elapsed, rest) = strip_elapsed(line);
    match printk_prefix(rest) {
        Some((context, body)) => Split {
            elapsed,
            context,
            body,
        },
        None => Split {
            elapsed,
            context: Context::None,
            body: rest,
        },
    }
}

/// Strips ktest's `00012 ` field.
fn strip_elapsed(line: &[u8]) -> (Option<u32>, &[u8]) {
    match line.get(..6) {
        Some(head) if head[5] == b' ' && head[..5].iter().all(u8::is_ascii_digit) => {
            let value = head[..5]
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            (Some(value), &line[6..])
        }
        _ => (None, line),
    }
}

/// Parses the printk prefix: optional `** N printk messages dropped ** `, optional
/// `<host> login: `, optional `<N>` log level, `[ secs.usecs]`, optional caller id, a space.
/// Returns the context and the text after the first `] ` of the line.
fn printk_prefix(line: &[u8]) -> Option<(Context<'_>, &[u8])> {
    let mut rest = skip_dropped(line);
    if !rest.starts_with(b"[") {
        if let Some(pos) = LOGIN.find(rest) {
            rest = &rest[pos + 8..];
        }
    }
    rest = skip_level(rest);
    let after_ts = timestamp(rest)?;
    let (context, after) = match caller(after_ts) {
        Some((id, after)) => (Context::Caller(id), after),
        None => (Context::Console, after_ts),
    };
    if after.first() != Some(&b' ') {
        return None;
    }
    let cut = prefix_end(line).map_or(line.len(), |pos| pos + 2);
    Some((context, &line[cut..]))
}

/// Position of the first `] ` of a line (the prefix's is near the start, so a `]` search
/// beats a substring search).
fn prefix_end(line: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b']', line).find(|&pos| line.get(pos + 1) == Some(&b' '))
}

fn skip_dropped(line: &[u8]) -> &[u8] {
    let Some(rest) = line.strip_prefix(b"** ") else {
        return line;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    match rest[digits..].strip_prefix(b" printk messages dropped ** ") {
        Some(after) if digits > 0 => after,
        _ => line,
    }
}

fn skip_level(line: &[u8]) -> &[u8] {
    let Some(rest) = line.strip_prefix(b"<") else {
        return line;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    match rest[digits..].strip_prefix(b">") {
        Some(after) if digits > 0 => after,
        _ => line,
    }
}

/// Matches `[ *[0-9]+\.[0-9]+\]` at the start; returns the rest.
fn timestamp(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"[")?;
    let rest = trim_spaces(rest);
    let rest = digits1(rest)?;
    let rest = digits1(rest.strip_prefix(b".")?)?;
    rest.strip_prefix(b"]")
}

/// Matches `\[ *[CT][0-9]+\]` at the start; returns the id and the rest.
fn caller(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = trim_spaces(line.strip_prefix(b"[")?);
    let kind = *rest.first()?;
    if kind != b'C' && kind != b'T' {
        return None;
    }
    let after = digits1(&rest[1..])?;
    let id = &rest[..rest.len() - after.len()];
    Some((id, after.strip_prefix(b"]")?))
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| b == b' ').count();
    &s[n..]
}

fn digits1(s: &[u8]) -> Option<&[u8]> {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    (n > 0).then(|| &s[n..])
}

/// Removes ANSI escape sequences (CSI `ESC [ ... final`, and two-byte `ESC x`).
pub fn strip_ansi(text: &str) -> Cow<'_, str> {
    if memchr::memchr(0x1b, text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
        }
    }
    Cow::Owned(out)
}

/// Cleans one line: drops the ktest elapsed field, printk timestamp, caller id, ANSI
/// colour escapes and carriage returns.
pub fn clean_line(line: &str) -> Cow<'_, str> {
    let body = split_line(line.as_bytes()).body;
    // `split_line` only cuts next to ASCII bytes, so `body` lies on char boundaries.
    let start = body.as_ptr() as usize - line.as_ptr() as usize;
    let body = line.get(start..start + body.len()).unwrap_or(line);
    let no_cr: Cow<'_, str> = if body.contains('\r') {
        Cow::Owned(body.replace('\r', ""))
    } else {
        Cow::Borrowed(body)
    };
    match no_cr {
        Cow::Borrowed(s) => strip_ansi(s),
        Cow::Owned(s) => Cow::Owned(strip_ansi(&s).into_owned()),
    }
}

/// Cleans a whole log into lines, replacing invalid UTF-8 lossily.
pub fn clean_log(log: &[u8]) -> Vec<String> {
    lines(log)
        .map(|line| clean_line(&String::from_utf8_lossy(line)).into_owned())
        .collect()
}

/// Iterates the lines of `log` without their `\n`; a final line without `\n` is included.
pub fn lines(log: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = (!log.is_empty()).then_some(log);
    std::iter::from_fn(move || {
        let cur = rest?;
        match memchr::memchr(b'\n', cur) {
            Some(pos) => {
                rest = (pos + 1 < cur.len()).then(|| &cur[pos + 1..]);
                Some(&cur[..pos])
            }
            None => {
                rest = None;
                Some(cur)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_all_prefixes() {
        assert_eq!(clean_line("00012 [   12.345678] hello"), "hello");
        assert_eq!(clean_line("[   12.345678][ T1234] hello\r"), "hello");
        assert_eq!(
            clean_line("[    1.000000][   C1] \x1b[1;31mred\x1b[0m"),
            "red"
        );
        assert_eq!(clean_line("00002 ========= TEST x"), "========= TEST x");
        assert_eq!(clean_line("plain"), "plain");
    }

    #[test]
    fn contexts() {
        let s = split_line(b"[   12.345678][ T1234] x");
        assert_eq!(s.context, Context::Caller(b"T1234"));
        assert!(s.context.is_task());
        assert_eq!(split_line(b"<6>[ 1.5] y").context, Context::Console);
        assert_eq!(split_line(b"[ 1.5]y").context, Context::None);
        assert_eq!(split_line(b"00007 x").elapsed, Some(7));
    }

    #[test]
    fn lossy_lines() {
        let log = b"a\xff\nb\n\nc";
        assert_eq!(clean_log(log), vec!["a\u{fffd}", "b", "", "c"]);
        assert!(clean_log(b"").is_empty());
    }
}
