//! What a question names: commit ids, files, functions and a time window, read with plain
//! patterns (no model). Every clue is checked against the index before it is used, so a word
//! that merely looks like an id or a path never becomes a citation.

use ktriage_index::history::date;
use regex::Regex;
use std::sync::OnceLock;

/// Longest list of each kind of clue taken from one question.
const MAX_CLUES: usize = 8;

/// The clues of a question, before they are checked against the index.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Clues {
    /// Hex words that may be commit ids (7 to 40 digits).
    pub commit_ids: Vec<String>,
    /// Words that look like file paths (`ec.c`, `fs/alloc/discard.c`, `fs/alloc/`).
    pub paths: Vec<String>,
    /// Words that look like C identifiers worth looking up.
    pub identifiers: Vec<String>,
    /// The start of the time window the question asks about, in seconds since the epoch.
    pub since: Option<i64>,
}

/// Reads the clues of `question`; `now` (the revision's commit time) anchors relative dates.
pub fn read(question: &str, now: i64) -> Clues {
    static COMMIT: OnceLock<Regex> = OnceLock::new();
    static PATH: OnceLock<Regex> = OnceLock::new();
    static IDENT: OnceLock<Regex> = OnceLock::new();
    let commit = COMMIT.get_or_init(|| Regex::new(r"\b[0-9a-f]{7,40}\b").expect("valid regex"));
    let path = PATH.get_or_init(|| {
        Regex::new(r"[A-Za-z0-9_][A-Za-z0-9_./-]*(?:\.[ch]\b|/)").expect("valid regex")
    });
    let ident =
        IDENT.get_or_init(|| Regex::new(r"\b[A-Za-z_][A-Za-z0-9_]{2,}\b").expect("valid regex"));
    let mut clues = Clues {
        since: since(question, now),
        ..Clues::default()
    };
    for found in commit.find_iter(question) {
        // An all-digit word is a number far more often than a commit id.
        if found
            .as_str()
            .bytes()
            .any(|byte| byte.is_ascii_alphabetic())
        {
            push(&mut clues.commit_ids, found.as_str());
        }
    }
    for found in path.find_iter(question) {
        let text = found.as_str().trim_end_matches('.');
        if text.len() > 2 && !text.starts_with("http") {
            push(&mut clues.paths, text);
        }
    }
    for found in ident.find_iter(question) {
        let word = found.as_str();
        let looks_like_code = word.contains('_')
            || word.bytes().any(|byte| byte.is_ascii_digit())
            || question[found.end()..].starts_with("()");
        let in_path = clues.paths.iter().any(|path| path.contains(word));
        if looks_like_code && !in_path && !clues.commit_ids.iter().any(|id| id == word) {
            push(&mut clues.identifiers, word);
        }
    }
    clues
}

fn push(list: &mut Vec<String>, item: &str) {
    if list.len() < MAX_CLUES && !list.iter().any(|known| known == item) {
        list.push(item.to_string());
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// `since YYYY-MM-DD`, `since March [2026]`, `in the last N days|weeks|months|years`,
/// `lately`/`recently` (90 days); relative forms count back from `now`.
fn since(question: &str, now: i64) -> Option<i64> {
    static SINCE: OnceLock<Regex> = OnceLock::new();
    static LAST: OnceLock<Regex> = OnceLock::new();
    let since_re = SINCE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:since|after)\s+([A-Za-z]+|\d{4}-\d{2}-\d{2})(?:\s+(\d{4}))?")
            .expect("valid regex")
    });
    let last_re = LAST.get_or_init(|| {
        Regex::new(r"(?i)\b(?:last|past)\s+(\d+)?\s*(day|week|month|year)s?\b")
            .expect("valid regex")
    });
    const DAY: i64 = 86_400;
    if let Some(found) = since_re.captures(question) {
        if let Some(time) = date::parse(&found[1]) {
            return Some(time);
        }
        let word = found[1].to_ascii_lowercase();
        if let Some(month) = MONTHS
            .iter()
            .position(|name| word.len() >= 3 && name.starts_with(&word))
        {
            let now_date = date::format(now, 0);
            let this_year: i64 = now_date.get(..4).and_then(|year| year.parse().ok())?;
            let year = match found.get(2).and_then(|year| year.as_str().parse().ok()) {
                Some(year) => year,
                None => {
                    let this_month: usize =
                        now_date.get(5..7).and_then(|month| month.parse().ok())?;
                    if month + 1 > this_month {
                        this_year - 1
                    } else {
                        this_year
                    }
                }
            };
            return date::parse(&format!("{year:04}-{:02}-01", month + 1));
        }
    }
    if let Some(found) = last_re.captures(question) {
        let count: i64 = found
            .get(1)
            .and_then(|count| count.as_str().parse().ok())
            .unwrap_or(1);
        let unit = match found[2].to_ascii_lowercase().as_str() {
            "day" => DAY,
            "week" => 7 * DAY,
            "month" => 30 * DAY,
            _ => 365 * DAY,
        };
        return Some(now - count * unit);
    }
    let lower = question.to_ascii_lowercase();
    (lower.contains("lately") || lower.contains("recently") || lower.contains("recent "))
        .then_some(now - 90 * DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        date::parse("2026-03-10").expect("a date")
    }

    #[test]
    fn reads_commit_ids_paths_and_identifiers() {
        let clues = read("what does commit c845031 do to bch2_discard_one_bucket() in fs/alloc/discard.c and ec.c?", now());
        assert_eq!(clues.commit_ids, ["c845031"]);
        assert_eq!(clues.paths, ["fs/alloc/discard.c", "ec.c"]);
        assert_eq!(clues.identifiers, ["bch2_discard_one_bucket"]);
        assert_eq!(clues.since, None);
    }

    #[test]
    fn plain_words_and_numbers_are_not_clues() {
        let clues = read(
            "which commit made the discard check panic in 2024 instead of going read-only?",
            now(),
        );
        assert_eq!(clues, Clues::default());
    }

    #[test]
    fn reads_time_windows() {
        assert_eq!(
            read("what changed since March?", now()).since,
            date::parse("2026-03-01")
        );
        assert_eq!(
            read("what changed since april?", now()).since,
            date::parse("2025-04-01")
        );
        assert_eq!(
            read("changes since 2025-12-24", now()).since,
            date::parse("2025-12-24")
        );
        assert_eq!(
            read("in the last 2 weeks", now()).since,
            Some(now() - 14 * 86_400)
        );
        assert_eq!(
            read("who touched it lately", now()).since,
            Some(now() - 90 * 86_400)
        );
    }
}
