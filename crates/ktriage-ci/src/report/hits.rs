//! Lazy multi-literal search through a text, line by line.
//!
//! Report parsing asks of many lines whether they hold one of a few rare literals (report
//! markers, stack-trace headers, source locations). Searching each line costs a call per
//! line; [`Hits`] instead runs one automaton ahead through the text in bounded stretches
//! and hands out the occurrences in order, so lines without any cost nothing.

use aho_corasick::{AhoCorasick, Input, MatchKind};

/// Builds the automaton for [`Hits`]. The literals are fixed table data (not input), so a
/// build failure is a programming error.
pub(crate) fn automaton<I, P>(literals: I) -> AhoCorasick
where
    I: IntoIterator<Item = P>,
    P: AsRef<[u8]>,
{
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(literals)
        .unwrap_or_else(|err| panic!("literal table compiles: {err}"))
}

/// Bytes searched past the asked-for limit, so that the few occurrences of a stretch of
/// lines are found with a handful of searches rather than one per line.
const LOOKAHEAD: usize = 2 << 10;

/// One occurrence: its start in the text and the index of its literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub at: usize,
    pub literal: usize,
}

/// The occurrences of an automaton's literals in a text, in order.
///
/// Every literal occurrence is found as long as no literal is a prefix of another (the
/// search resumes one byte past each hit). Literals must not contain `\n`: a search
/// stretch ends at a line end.
pub(crate) struct Hits<'a> {
    automaton: &'a AhoCorasick,
    /// The first occurrence at or after `from`, when one was found.
    found: Option<Hit>,
    /// Occurrences before this were handed out or skipped.
    from: usize,
    /// No occurrence lies in `from..clear_to` (unless `found` holds one).
    clear_to: usize,
}

impl<'a> Hits<'a> {
    /// Starts at byte `from` of the text.
    pub fn new(automaton: &'a AhoCorasick, from: usize) -> Self {
        Hits {
            automaton,
            found: None,
            from,
            clear_to: from,
        }
    }

    /// The next occurrence in `text` that starts before `limit`, skipping those before
    /// `start`. Calls must not go backwards: `start` and `limit` never decrease.
    pub fn next_in(&mut self, text: &[u8], start: usize, limit: usize) -> Option<Hit> {
        self.from = self.from.max(start);
        loop {
            if let Some(hit) = self.found {
                if hit.at >= limit {
                    return None;
                }
                self.found = None;
                self.from = hit.at + 1;
                if hit.at >= start {
                    return Some(hit);
                }
                continue;
            }
            let from = self.from.max(self.clear_to);
            if from >= limit.min(text.len()) {
                return None;
            }
            let ahead = (limit + LOOKAHEAD).min(text.len());
            let to = memchr::memchr(b'\n', &text[ahead..]).map_or(text.len(), |pos| ahead + pos);
            match self.automaton.find(Input::new(text).span(from..to)) {
                Some(m) => {
                    self.found = Some(Hit {
                        at: m.start(),
                        literal: m.pattern().as_usize(),
                    })
                }
                None => self.clear_to = to,
            }
        }
    }

    /// Whether `start..limit` holds an occurrence (consuming those before `limit`).
    pub fn any_in(&mut self, text: &[u8], start: usize, limit: usize) -> bool {
        let mut any = false;
        while self.next_in(text, start, limit).is_some() {
            any = true;
        }
        any
    }
}

/// Each literal of `automaton` that occurs in `text`, as a bit set (literal `i` is bit `i`;
/// at most 64 literals).
pub(crate) fn present(automaton: &AhoCorasick, text: &[u8]) -> u64 {
    let mut hits = Hits::new(automaton, 0);
    let mut set = 0u64;
    while let Some(hit) = hits.next_in(text, 0, text.len()) {
        set |= 1 << hit.literal;
    }
    set
}

/// The lines of `text` (as `str::split('\n')` gives them) that hold a literal of
/// `automaton`, in order.
pub(crate) fn lines_with<'t>(
    automaton: &'t AhoCorasick,
    text: &'t str,
) -> impl Iterator<Item = &'t str> + 't {
    let bytes = text.as_bytes();
    let mut hits = Hits::new(automaton, 0);
    // Hits before this (in lines already given) are skipped.
    let mut from = 0;
    std::iter::from_fn(move || {
        let hit = hits.next_in(bytes, from, bytes.len())?;
        let start = memchr::memrchr(b'\n', &bytes[..hit.at]).map_or(0, |pos| pos + 1);
        let end = memchr::memchr(b'\n', &bytes[hit.at..]).map_or(bytes.len(), |pos| hit.at + pos);
        from = end;
        Some(&text[start..end])
    })
}

/// The lines of `text` with their start offsets (like `str::split('\n')`, with a faster
/// newline search).
pub(crate) fn lines_at(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut next = Some(0);
    std::iter::from_fn(move || {
        let start = next?;
        let rest = &text[start..];
        let line = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(end) => {
                next = Some(start + end + 1);
                &rest[..end]
            }
            None => {
                next = None;
                rest
            }
        };
        Some((start, line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_occurrence_line_by_line() {
        let ac = automaton(["ab", "bc", "x"]);
        let text = b"abc\nxx\n\nab";
        let mut hits = Hits::new(&ac, 0);
        assert_eq!(hits.next_in(text, 0, 3), Some(Hit { at: 0, literal: 0 }));
        assert_eq!(hits.next_in(text, 0, 3), Some(Hit { at: 1, literal: 1 }));
        assert_eq!(hits.next_in(text, 0, 3), None);
        assert!(!hits.any_in(text, 7, 7));
        assert_eq!(
            hits.next_in(text, 8, 10),
            Some(Hit { at: 8, literal: 0 }),
            "line 2 was skipped"
        );
        assert_eq!(present(&ac, text), 0b111);
        assert_eq!(present(&ac, b""), 0);
        let lines: Vec<_> = lines_with(&ac, "abc\nyy\nxx\nx").collect();
        assert_eq!(lines, vec!["abc", "xx", "x"]);
    }

    #[test]
    fn line_offsets() {
        let lines: Vec<_> = lines_at("a\n\nbc").collect();
        assert_eq!(lines, vec![(0, "a"), (2, ""), (3, "bc")]);
    }
}
