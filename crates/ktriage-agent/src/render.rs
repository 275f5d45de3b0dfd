//! Templates: the prompts sent to the model and the renderings of a note (`note.md`,
//! `note.txt` wrapped at [`TEXT_WIDTH`] columns, and a run's `summary.md`), all from the
//! `minijinja` templates in `prompts/`, embedded at compile time.

use minijinja::Environment;
use serde::Serialize;
use std::sync::OnceLock;

/// Width of `note.txt`, for mailing lists.
pub const TEXT_WIDTH: usize = 78;

const TEMPLATES: [(&str, &str); 6] = [
    ("system.md.j2", include_str!("../../../prompts/system.md.j2")),
    ("dossier.md.j2", include_str!("../../../prompts/dossier.md.j2")),
    ("final.md.j2", include_str!("../../../prompts/final.md.j2")),
    ("note.md.j2", include_str!("../../../prompts/note.md.j2")),
    ("note.txt.j2", include_str!("../../../prompts/note.txt.j2")),
    ("summary.md.j2", include_str!("../../../prompts/summary.md.j2")),
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
        env.add_filter("short", |id: String| id.chars().take(12).collect::<String>());
        env.add_filter("lines", |text: String| text.lines().map(str::to_string).collect::<Vec<_>>());
        env.add_filter("oneline", |text: String| text.split_whitespace().collect::<Vec<_>>().join(" "));
        for (name, source) in TEMPLATES {
            env.add_template(name, source).expect("the embedded templates are checked by a test");
        }
        env
    })
}

/// Renders template `name` (a file of `prompts/`) with `context`.
pub fn render<S: Serialize>(name: &str, context: &S) -> Result<String, RenderError> {
    let error = |err: minijinja::Error| RenderError { name: name.to_string(), message: format!("{err:#}") };
    let template = environment().get_template(name).map_err(error)?;
    template.render(minijinja::Value::from_serialize(context)).map_err(error)
}

/// Wraps every line of `text` at `width` columns, keeping its indentation on continuation
/// lines and breaking words longer than a line.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push_str(line.trim_end());
            out.push('\n');
            continue;
        }
        let indent_len = line.len() - line.trim_start().len();
        let indent: String = line[..indent_len].chars().take(width / 2).collect();
        let mut current = String::new();
        let push_line = |current: &mut String, out: &mut String| {
            out.push_str(current.trim_end());
            out.push('\n');
            current.clear();
        };
        for word in line.split_whitespace() {
            let mut word: String = word.to_string();
            loop {
                let prefix_len = if current.is_empty() { indent.chars().count() } else { current.chars().count() + 1 };
                let room = width.saturating_sub(prefix_len);
                let word_len = word.chars().count();
                if word_len <= room {
                    if current.is_empty() {
                        current.push_str(&indent);
                    } else {
                        current.push(' ');
                    }
                    current.push_str(&word);
                    break;
                }
                if !current.is_empty() && word_len <= width - indent.chars().count() {
                    push_line(&mut current, &mut out);
                    continue;
                }
                let room = if current.is_empty() { width - indent.chars().count() } else { room };
                if room == 0 {
                    push_line(&mut current, &mut out);
                    continue;
                }
                let split: usize = word.char_indices().nth(room).map_or(word.len(), |(at, _)| at);
                if current.is_empty() {
                    current.push_str(&indent);
                } else {
                    current.push(' ');
                }
                current.push_str(&word[..split]);
                word = word[split..].to_string();
                push_line(&mut current, &mut out);
                if word.is_empty() {
                    break;
                }
            }
        }
        if !current.is_empty() {
            push_line(&mut current, &mut out);
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
        assert!(wrapped.lines().all(|line| line.chars().count() <= 20), "{wrapped}");
        assert!(wrapped.lines().take(3).all(|line| line.starts_with("  word")));
        assert_eq!(wrapped.matches('x').count(), 100);
        assert!(wrapped.contains("\nshort\n"));
    }
}
