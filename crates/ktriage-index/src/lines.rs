//! Where a text's lines start, to slice a symbol's lines out of it.

use std::ops::Range;

/// The byte offsets at which the lines of one text start.
pub(crate) struct LineStarts {
    starts: Vec<usize>,
    len: usize,
}

impl LineStarts {
    /// The line starts of `text`.
    pub(crate) fn new(text: &[u8]) -> LineStarts {
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text).map(|at| at + 1))
            .collect();
        LineStarts {
            starts,
            len: text.len(),
        }
    }

    /// The bytes of lines `first` to `last` (1-based, inclusive), clamped to the text;
    /// empty when `last` comes before `first`. Both ends are line starts (or the text's
    /// end), so the range cuts a UTF-8 text at character boundaries.
    pub(crate) fn span(&self, first: u32, last: u32) -> Range<usize> {
        let at = |line: u32| {
            self.starts
                .get(line as usize)
                .copied()
                .unwrap_or(self.len)
                .min(self.len)
        };
        let start = at(first.saturating_sub(1));
        start..at(last).max(start)
    }
}

#[cfg(test)]
mod tests {
    use super::LineStarts;

    #[test]
    fn spans_of_lines() {
        let text = b"a\nbb\nccc\n";
        let lines = LineStarts::new(text);
        assert_eq!(lines.span(1, 1), 0..2);
        assert_eq!(lines.span(2, 3), 2..9);
        assert_eq!(lines.span(3, 99), 5..9);
        assert_eq!(lines.span(5, 6), 9..9);
        assert_eq!(lines.span(3, 1), 5..5);
        assert_eq!(LineStarts::new(b"x").span(1, 1), 0..1);
    }
}
