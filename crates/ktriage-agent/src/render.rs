//! Templates: the prompts sent to the model and the renderings of a note (`note.md`,
//! `note.txt` wrapped at [`TEXT_WIDTH`] columns, and a run's `summary.md`), all from the
//! `minijinja` templates in `prompts/`, embedded at compile time.

use minijinja::Environment;
use serde::Serialize;
use std::sync::OnceLock;

/// Width of `note.txt`, for mailing lists.
pub const TEXT_WIDTH: usize = 78;

const TEMPLATES: [(&str, &str); 12] = [
    (
        "system.md.j2",
        include_str!("../../../prompts/system.md.j2"),
    ),
    (
        "dossier.md.j2",
        include_str!("../../../prompts/dossier.md.j2"),
    ),
    ("final.md.j2", include_str!("../../../prompts/final.md.j2")),
    ("note.md.j2", include_str!("../../../prompts/note.md.j2")),
    ("note.txt.j2", include_str!("../../../prompts/note.txt.j2")),
    (
        "summary.md.j2",
        include_str!("../../../prompts/summary.md.j2"),
    ),
    (
        "ask_system.md.j2",
        include_str!("../../../prompts/ask_system.md.j2"),
    ),
    (
        "ask_question.md.j2",
        include_str!("../../../prompts/ask_question.md.j2"),
    ),
    (
        "ask_final.md.j2",
        include_str!("../../../prompts/ask_final.md.j2"),
    ),
    ("ask.md.j2", include_str!("../../../prompts/ask.md.j2")),
    (
        "report.md.j2",
        include_str!("../../../prompts/report.md.j2"),
    ),
    (
        "index.html.j2",
        include_str!("../../../prompts/index.html.j2"),
    ),
];

/// A template failed to render.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {message}")]
pub struct RenderError {
    /// The template.
    pub name: String,
    /// What went wrong.
    pub message: String,
}

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.add_filter("short", |id: String| {
            id.chars().take(12).collect::<String>()
        });
        env.add_filter("lines", |text: String| {
            text.lines().map(str::to_string).collect::<Vec<_>>()
        });
        env.add_filter("oneline", |text: String| {
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        });
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("the embedded templates are checked by a test");
        }
        env
    })
}

/// Renders template `name` (a file of `prompts/`) with `context`.
pub fn render<S: Serialize>(name: &str, context: &S) -> Result<String, RenderError> {
    let error = |err: minijinja::Error| RenderError {
        name: name.to_string(),
        message: format!("{err:#}"),
    };
    let template = environment().get_template(name).map_err(error)?;
    template
        .render(minijinja::Value::from_serialize(context))
        .map_err(error)
}

/// Wraps every line of `text` at `width` columns: continuation lines are indented under the
/// text of a list item (`- `, `1. `, `1) `), and words longer than a line are broken.
pub fn wrap(text: &str, width: usize) -> String {
    static MARKER: OnceLock<regex::Regex> = OnceLock::new();
    let marker =
        MARKER.get_or_init(|| regex::Regex::new(r"^\s*(- |\d+[.)] )?").expect("valid regex"));
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.lines() {
        let line = line.trim_end();
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let hanging = " ".repeat(
            marker
                .find(line)
                .map_or(0, |found| found.as_str().chars().count())
                .min(width / 2),
        );
        let mut current: String = line
            .chars()
            .take_while(|c| c.is_whitespace())
            .take(width / 2)
            .collect();
        let mut has_words = false;
        for mut word in line.split_whitespace() {
            loop {
                let used = current.chars().count();
                if used + word.chars().count() + usize::from(has_words) <= width {
                    if has_words {
                        current.push(' ');
                    }
                    current.push_str(word);
                    has_words = true;
                    break;
                }
                if !has_words {
                    // The word alone is longer than the line: break it.
                    let room = width.saturating_sub(used).max(1);
                    let at = word
                        .char_indices()
                        .nth(room)
                        .map_or(word.len(), |(at, _)| at);
                    current.push_str(&word[..at]);
                    word = &word[at..];
                    if word.is_empty() {
                        has_words = true;
                        break;
                    }
                }
                out.push_str(&current);
                out.push('\n');
                current = hanging.clone();
                has_words = false;
            }
        }
        if has_words {
            out.push_str(&current);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(environment().get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn wrapping_keeps_indentation_and_breaks_long_words() {
        let text = format!("  {}\nshort\n{}", "word ".repeat(30), "x".repeat(100));
        let wrapped = wrap(&text, 20);
        assert!(
            wrapped.lines().all(|line| line.chars().count() <= 20),
            "{wrapped}"
        );
        assert!(wrapped
            .lines()
            .take(3)
            .all(|line| line.starts_with("  word")));
        let item = wrap(&format!("   - {}", "item ".repeat(10)), 20);
        assert!(
            item.lines()
                .skip(1)
                .all(|line| line.starts_with("     item")),
            "{item}"
        );
        assert_eq!(wrapped.matches('x').count(), 100);
        assert!(wrapped.contains("\nshort\n"));
    }
}
