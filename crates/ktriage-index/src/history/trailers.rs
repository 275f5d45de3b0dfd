//! Trailer parsing, tolerant of how kernel commit messages are really written.
//!
//! The trailer block is the last paragraph that holds at least one `Key: value` line whose
//! key is a known trailer (`Signed-off-by`, `Fixes`, ...) or where most lines are
//! `Key: value`; in it every `Key: value` line is a trailer (any key), a line starting with
//! whitespace continues the previous value, and other lines (`[ editor's note ]`,
//! `(cherry picked from ...)`) are skipped. `Fixes:` lines found elsewhere in the body
//! are trailers too: they name a commit wherever they stand.

use super::Trailer;

/// Keys that make a paragraph a trailer block on their own (compared case-insensitively).
const KNOWN_KEYS: &[&str] = &[
    "signed-off-by",
    "fixes",
    "reported-by",
    "closes",
    "link",
    "co-developed-by",
    "co-authored-by",
    "assisted-by",
    "acked-by",
    "reviewed-by",
    "tested-by",
    "suggested-by",
    "cc",
];

/// The trailers of a commit message (subject included or not), in message order.
pub fn parse(message: &str) -> Vec<Trailer> {
    let paragraphs: Vec<&str> = split_paragraphs(message);
    let block = paragraphs
        .iter()
        .rposition(|paragraph| is_trailer_block(paragraph));
    let mut trailers = Vec::new();
    for (idx, paragraph) in paragraphs.iter().enumerate() {
        if Some(idx) == block {
            trailers.extend(block_trailers(paragraph));
        } else if idx > 0 {
            trailers.extend(
                paragraph
                    .lines()
                    .filter_map(key_value)
                    .filter(|(key, _)| key.eq_ignore_ascii_case("fixes"))
                    .map(|(key, value)| Trailer {
                        key: key.to_string(),
                        value: value.to_string(),
                    }),
            );
        }
    }
    trailers
}

fn split_paragraphs(message: &str) -> Vec<&str> {
    let mut paragraphs = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in message.split_inclusive('\n') {
        if line.trim().is_empty() {
            if let Some(begin) = start.take() {
                paragraphs.push(&message[begin..offset]);
            }
        } else if start.is_none() {
            start = Some(offset);
        }
        offset += line.len();
    }
    if let Some(begin) = start {
        paragraphs.push(&message[begin..]);
    }
    paragraphs
}

fn is_trailer_block(paragraph: &str) -> bool {
    let (mut lines, mut trailers, mut known) = (0, 0, false);
    for line in paragraph
        .lines()
        .filter(|line| !line.starts_with([' ', '\t']))
    {
        lines += 1;
        if let Some((key, _)) = key_value(line) {
            trailers += 1;
            known |= KNOWN_KEYS
                .iter()
                .any(|known_key| key.eq_ignore_ascii_case(known_key));
        }
    }
    trailers > 0 && (known || trailers * 2 > lines)
}

fn block_trailers(paragraph: &str) -> Vec<Trailer> {
    let mut trailers: Vec<Trailer> = Vec::new();
    let mut continues = false;
    for line in paragraph.lines() {
        if line.starts_with([' ', '\t']) {
            if let (true, Some(last)) = (continues, trailers.last_mut()) {
                last.value.push(' ');
                last.value.push_str(line.trim());
            }
            continue;
        }
        continues = match key_value(line) {
            Some((key, value)) => {
                trailers.push(Trailer {
                    key: key.to_string(),
                    value: value.to_string(),
                });
                true
            }
            None => false,
        };
    }
    trailers
}

/// `Key: value` with a key of letters, digits and `-` (no spaces), and a non-empty value.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let key = key.trim_end();
    let valid_key = !key.is_empty()
        && key.len() <= 40
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && key.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    let value = value.trim();
    (valid_key && !value.is_empty() && !value.starts_with("//")).then_some((key, value))
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn keys(message: &str) -> Vec<String> {
        parse(message)
            .into_iter()
            .map(|t| format!("{}={}", t.key, t.value))
            .collect()
    }

    #[test]
    fn last_paragraph_with_continuations_and_notes() {
        let message = "subj\n\nSome text: not a trailer here.\n\nFixes: 0123456789ab (\"a b\n  c\")\n[ kmo: fixed ]\nSigned-off-by: A <a@x>\n";
        assert_eq!(
            keys(message),
            ["Fixes=0123456789ab (\"a b c\")", "Signed-off-by=A <a@x>"]
        );
    }

    #[test]
    fn fixes_outside_the_block_and_urls() {
        let message = "subj\n\nFixes: abcdef1 (\"x\")\n\nbody\n\nLink: https://lore.kernel.org/r/1\nSigned-off-by: B <b@x>";
        assert_eq!(
            keys(message),
            [
                "Fixes=abcdef1 (\"x\")",
                "Link=https://lore.kernel.org/r/1",
                "Signed-off-by=B <b@x>"
            ]
        );
        assert!(keys("subj\n\nhttp://example.org: is a url line\n").is_empty());
    }
}
