//! Clues read from a failure's text: stack frames, `file:line` locations, functions named by
//! compilers, message lines and identifiers. Pure text processing; no repository access.

use ktriage_ci::report::{parse_log, Report};
use regex::Regex;
use std::sync::OnceLock;

/// What kind of text a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryKind {
    /// A kernel report with a stack.
    Splat,
    /// Compiler, linker or modpost diagnostics.
    Build,
    /// Anything else: an error message or log excerpt.
    Errmsg,
}

/// A stack frame from the text, innermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameClue {
    /// Function name without offset or compiler clone suffix.
    pub function: String,
    /// Source location when the frame was symbolized.
    pub location: Option<(String, u32)>,
    /// The unwinder marked it unreliable (`? func`).
    pub unreliable: bool,
}

/// A `path:line` the text names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationClue {
    /// The path as written.
    pub path: String,
    /// The line.
    pub line: u32,
    /// The line names an error (not a warning or a note).
    pub is_error: bool,
    /// The diagnostic quotes a zero-length array type (`'struct foo[0]'`, a pre-C99 fake
    /// flexible array): its declaration, not this use, is what needs the fix.
    pub zero_length_array_of: Option<String>,
}

/// Everything read from a failure's text.
#[derive(Debug, Clone)]
pub struct Clues {
    /// What kind of failure this is.
    pub kind: QueryKind,
    /// Kernel reports found by the CI parser, primary first.
    pub reports: Vec<Report>,
    /// Stack frames, innermost first, from the primary report or from frame-shaped lines.
    pub frames: Vec<FrameClue>,
    /// Locations, in order of appearance, deduplicated.
    pub locations: Vec<LocationClue>,
    /// Functions named by `In function 'f'` lines, and by message lines that start with a
    /// function's name (`check_dirents(): error ...`, the kernel's `%s(): ` idiom).
    pub in_functions: Vec<String>,
    /// Lines that may be logged messages, cleaned of console prefixes.
    pub message_lines: Vec<String>,
    /// Identifiers that look like kernel symbols, in order of appearance.
    pub identifiers: Vec<String>,
}

fn frame_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?x)^\s*(?:\[<?[0-9a-fA-F]+>?\]\s*)?(?P<unrel>\?\s+)?(?P<func>[A-Za-z_][A-Za-z0-9_.]*)
              (?:\+0x[0-9a-fA-F]+/0x[0-9a-fA-F]+|\s+\((?P<path>[\w./-]+\.[ch]):(?P<line>\d+)\))",
        )
        .expect("the frame pattern is valid")
    })
}

fn location_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?P<path>[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.[ch]):(?P<line>\d+)(?::\d+)?(?::\s*(?P<sev>[a-z ]+):)?")
            .expect("the location pattern is valid")
    })
}

/// A message line that starts with the name of the function reporting it.
fn reporter_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^([a-z_][a-z0-9_]*[a-z0-9])(\(\))?: ").expect("the reporter pattern is valid")
    })
}

/// A quoted zero-length array type in a compiler diagnostic: `'struct foo[0]'`.
fn zero_length_array_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[‘'](?:const\s+)?(?:struct|union)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\[0\][’']")
            .expect("the zero-length array pattern is valid")
    })
}

fn in_function_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?:In function|in function|In member function)\s+[‘'`]([A-Za-z_][A-Za-z0-9_]*)[’'`]",
        )
        .expect("the in-function pattern is valid")
    })
}

/// C identifiers, as whole words (not the `x1f` of `0x1f`).
pub(crate) fn identifier_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b[A-Za-z_][A-Za-z0-9_]*\b").expect("the identifier pattern is valid")
    })
}

fn prefix_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:\d{5} )?(?:\[\s*\d+\.\d+\]\s*)?(?:\[\s*[TC]\d+\]\s*)?")
            .expect("the prefix pattern is valid")
    })
}

/// The word at `start..end` of `line` is a code address given as context: an entry of a
/// held-locks list (` #1: ... at: __bch2_trans_get+0x1c0/0x440`) or an interrupt-state
/// stamp (`enabled at (327): [<...>] finish_task_switch+0xbc/0x2a0`) says where a lock was
/// taken or interrupts were last enabled, not what failed. (Lockdep's own `at:` lines,
/// naming the lock being taken and the one held, are not list entries and stay.)
fn is_context_address(line: &str, start: usize, end: usize) -> bool {
    // A compiler clone suffix may sit between the name and its offset (`.isra.0+0xbc`).
    let after = line[end..].trim_start_matches(|c: char| c == '.' || c.is_ascii_alphanumeric());
    if !after.starts_with("+0x") {
        return false;
    }
    let held_lock_entry = line
        .trim_start()
        .strip_prefix('#')
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    held_lock_entry || line[..start].contains("at (")
}

/// `line` without its source locations (`fs/bcachefs/btree_iter.c:3332`): a path's words
/// are not message text, and would match literals that share them (`" at btree "`).
pub fn without_locations(line: &str) -> std::borrow::Cow<'_, str> {
    location_regex().replace_all(line, " ")
}

/// Strips a compiler clone suffix (`.isra.0`, `.constprop.0`, `.part.0`, `.cold`).
pub fn base_function(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// Reads the clues of a failure's text.
pub fn read_clues(text: &str) -> Clues {
    let reports = parse_log(text.as_bytes());
    let mut frames: Vec<FrameClue> = Vec::new();
    let mut locations: Vec<LocationClue> = Vec::new();
    let mut in_functions: Vec<String> = Vec::new();
    let mut message_lines = Vec::new();
    let mut identifiers: Vec<String> = Vec::new();
    let mut n_diagnostics = 0;
    for raw_line in text.lines() {
        let line = prefix_regex().replace(raw_line, "");
        let line = line.trim_end();
        if let Some(caps) = frame_regex().captures(line) {
            let function = base_function(&caps["func"]).to_string();
            let location = match (caps.name("path"), caps.name("line")) {
                (Some(path), Some(number)) => number
                    .as_str()
                    .parse()
                    .ok()
                    .map(|n| (path.as_str().to_string(), n)),
                _ => None,
            };
            frames.push(FrameClue {
                function,
                location,
                unreliable: caps.name("unrel").is_some(),
            });
            continue;
        }
        for caps in location_regex().captures_iter(line) {
            let Ok(number) = caps["line"].parse() else {
                continue;
            };
            let severity = caps.name("sev").map(|m| m.as_str().trim());
            if severity.is_some() {
                n_diagnostics += 1;
            }
            let path = caps["path"].to_string();
            let is_error = matches!(severity, Some("error") | Some("fatal error"));
            let zero_length_array_of = severity
                .and_then(|_| zero_length_array_regex().captures(line))
                .map(|quoted| quoted[1].to_string());
            if let Some(existing) = locations
                .iter_mut()
                .find(|l| l.path == path && l.line == number)
            {
                existing.is_error |= is_error;
                if existing.zero_length_array_of.is_none() {
                    existing.zero_length_array_of = zero_length_array_of;
                }
            } else {
                locations.push(LocationClue {
                    path,
                    line: number,
                    is_error,
                    zero_length_array_of,
                });
            }
        }
        let reporter = reporter_regex()
            .captures(line.trim_start())
            .filter(|caps| caps.get(2).is_some() || caps[1].contains('_'));
        for caps in in_function_regex().captures_iter(line).chain(reporter) {
            if !in_functions.iter().any(|f| f == &caps[1]) {
                in_functions.push(caps[1].to_string());
            }
        }
        for found in identifier_regex().find_iter(line) {
            let word = found.as_str();
            let context = is_context_address(line, found.start(), found.end());
            if looks_like_symbol(word) && !context && !identifiers.iter().any(|w| w == word) {
                identifiers.push(word.to_string());
            }
        }
        let trimmed = line.trim();
        if trimmed.len() >= 12 && trimmed.contains(' ') {
            message_lines.push(trimmed.to_string());
        }
    }
    if let Some(primary) = reports.first() {
        if primary.frames.len() >= frames.len() {
            frames = primary
                .frames
                .iter()
                .map(|f| FrameClue {
                    function: base_function(&f.function).to_string(),
                    location: f.path.clone().zip(f.line),
                    unreliable: !f.reliable,
                })
                .collect();
        }
    }
    let kind = if n_diagnostics > 0 {
        QueryKind::Build
    } else if !reports.is_empty() || frames.len() >= 2 {
        QueryKind::Splat
    } else {
        QueryKind::Errmsg
    };
    Clues {
        kind,
        reports,
        frames,
        locations,
        in_functions,
        message_lines,
        identifiers,
    }
}

/// Literal runs of message lines between dynamic parts (numbers, ids, punctuation), of at
/// least two words and 12 characters, longest first, at most `limit`, each with the index of
/// the first line it was found in.
pub fn message_fragments(lines: &[String], limit: usize) -> Vec<(String, usize)> {
    static SPLIT: OnceLock<Regex> = OnceLock::new();
    let split = SPLIT.get_or_init(|| {
        Regex::new(r#"0x[0-9a-fA-F]+|[0-9a-fA-F]*[0-9][0-9a-fA-F]*|[\[\](){}<>:;,="'`|]|\s-\s"#)
            .expect("the fragment split pattern is valid")
    });
    let mut fragments: Vec<(String, usize)> = Vec::new();
    for (line_index, line) in lines.iter().enumerate() {
        for piece in split.split(line) {
            let words: Vec<&str> = piece.split_whitespace().collect();
            let fragment = words.join(" ");
            if words.len() >= 2
                && fragment.len() >= 12
                && !fragments.iter().any(|(known, _)| *known == fragment)
            {
                fragments.push((fragment, line_index));
            }
        }
    }
    fragments.sort_by_key(|(fragment, _)| std::cmp::Reverse(fragment.len()));
    fragments.truncate(limit);
    fragments
}

/// Words for a full-text query: identifiers first, then alphabetic words of message lines.
pub fn search_words(clues: &Clues, limit: usize) -> Vec<String> {
    let mut words: Vec<String> = clues.identifiers.clone();
    for line in &clues.message_lines {
        for word in line.split(|c: char| !c.is_ascii_alphabetic() && c != '_') {
            if word.len() >= 3 && !words.iter().any(|w| w == word) {
                words.push(word.to_string());
            }
        }
    }
    words.truncate(limit);
    words
}

/// The identifiers of a source line worth looking up as symbols (see [`looks_like_symbol`]).
pub fn symbol_words(line: &str) -> impl Iterator<Item = &str> {
    identifier_regex()
        .find_iter(line)
        .map(|m| m.as_str())
        .filter(|word| looks_like_symbol(word))
}

/// Identifiers worth looking up: with an underscore or a digit, not all-caps noise words.
fn looks_like_symbol(word: &str) -> bool {
    word.len() >= 4
        && word.contains('_')
        && !word.starts_with("0x")
        && word
            .bytes()
            .any(|b| b.is_ascii_lowercase() || b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_not_message_text() {
        assert_eq!(
            without_locations("kernel BUG at fs/bcachefs/btree_iter.c:3332!").trim(),
            "kernel BUG at  !"
        );
        assert_eq!(
            without_locations("no journal entries found"),
            "no journal entries found"
        );
    }

    #[test]
    fn held_lock_entries_and_irq_stamps_are_context_not_identifiers() {
        let clues = read_clues(
            "BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321\n\
             but task is already holding lock:\n\
             ffff80de30abf8 (&bc->lock){+.+.}-{4:4}, at: bch2_btree_cache_exit+0x74/0x430\n\
             2 locks held by bch-reclaim/618:\n \
             #0: ffffff80d7ccad68 (&j->reclaim_lock){+.+.}-{4:4}, at: bch2_journal_reclaim_thread+0x84/0x198\n \
             #1: ffffff80d7c84218 (&c->btree_trans_barrier){.+.+}-{0:0}, at: __bch2_trans_get+0x1c0/0x440\n\
             hardirqs last  enabled at (327): [<ffffffc080073a14>] finish_task_switch.isra.0+0xbc/0x2a0\n\
             Call trace:\n \
             bch2_printbuf_make_room+0x9c/0x120\n \
             btree_node_write_endio+0x1b0/0x2d8\n",
        );
        assert!(clues
            .identifiers
            .iter()
            .any(|w| w == "bch2_btree_cache_exit"));
        for context in [
            "bch2_journal_reclaim_thread",
            "__bch2_trans_get",
            "finish_task_switch",
        ] {
            assert!(
                !clues.identifiers.iter().any(|w| w == context),
                "{context} in {:?}",
                clues.identifiers
            );
        }
        let frames: Vec<&str> = clues.frames.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(
            frames,
            ["bch2_printbuf_make_room", "btree_node_write_endio"]
        );
    }

    #[test]
    fn build_diagnostics_give_locations_and_functions() {
        let clues = read_clues(
            "fs/bcachefs/str_hash.c: In function ‘bch2_hash_check’:\n\
             fs/bcachefs/str_hash.c:164:2: error: expected expression\n\
             fs/bcachefs/str_hash.c:165:30: error: use of undeclared identifier 'inode'\n",
        );
        assert_eq!(clues.kind, QueryKind::Build);
        assert_eq!(clues.in_functions, ["bch2_hash_check"]);
        assert_eq!(
            clues.locations[0],
            LocationClue {
                path: "fs/bcachefs/str_hash.c".into(),
                line: 164,
                is_error: true,
                zero_length_array_of: None,
            }
        );
    }

    #[test]
    fn a_zero_length_array_in_a_diagnostic_names_its_type() {
        let clues = read_clues(
            "fs/bcachefs/x.c:148:26: warning: array subscript idx is outside array bounds of \
             'struct x_entry[0]' [-Warray-bounds=]\n\
             fs/bcachefs/x.c:150:3: warning: unused variable 'i' [-Wunused-variable]\n",
        );
        let types: Vec<Option<&str>> = clues
            .locations
            .iter()
            .map(|l| l.zero_length_array_of.as_deref())
            .collect();
        assert_eq!(types, [Some("x_entry"), None]);
    }

    #[test]
    fn frames_without_a_header_still_count() {
        let clues = read_clues(
            "00677  ? bch2_foo.isra.0+0x10/0x20 [bcachefs]\n00677  bch2_bar+0x1c/0x30\n00677  baz (fs/x.c:12)\n",
        );
        assert_eq!(clues.kind, QueryKind::Splat);
        let names: Vec<&str> = clues.frames.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(names, ["bch2_foo", "bch2_bar", "baz"]);
        assert!(clues.frames[0].unreliable);
        assert_eq!(clues.frames[2].location, Some(("fs/x.c".into(), 12)));
    }

    #[test]
    fn a_message_line_led_by_a_function_name_names_the_reporter() {
        let clues = read_clues(
            "check_dirents(): error transaction_restart_nested\n\
             bch2_check_key_has_inode: error finding live keys\n\
             error: not a function\n",
        );
        assert_eq!(clues.kind, QueryKind::Errmsg);
        assert_eq!(
            clues.in_functions,
            ["check_dirents", "bch2_check_key_has_inode"]
        );
        let fragments = message_fragments(&clues.message_lines, 16);
        assert!(
            fragments.contains(&("error finding live keys".to_string(), 1)),
            "{fragments:?}"
        );
    }

    #[test]
    fn plain_messages_are_errmsg() {
        let clues = read_clues("no journal entries found");
        assert_eq!(clues.kind, QueryKind::Errmsg);
        assert_eq!(clues.message_lines, ["no journal entries found"]);
    }
}
