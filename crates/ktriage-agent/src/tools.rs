//! The read-only tools offered to the model: a registry of handlers keyed by name, their
//! descriptions and JSON schemas (from `prompts/tools.json`), bounded output, and the two
//! kinds of failure.
//!
//! Every tool answers from the index at the failure's revision (a [`Snapshot`] and a
//! [`History`] that never see later commits) or from the failing log held in memory. No tool
//! writes anything, runs a process or opens a connection: the model's arguments are only
//! ever query strings, paths inside the tree and numbers.

use crate::client::ToolSpec;
use ktriage_index::{History, Snapshot};
use serde_json::Value;
use std::collections::BTreeMap;

/// Tool descriptions and schemas, as the model sees them.
const TOOL_SPECS: &str = include_str!("../../../prompts/tools.json");

/// Why a tool call produced no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The model can recover: bad arguments, an unknown symbol or path, a commit outside the
    /// revision's history. The message goes back to the model as the tool's output.
    #[error("{0}")]
    RespondToModel(String),
    /// The investigation cannot go on (the index is missing or corrupt).
    #[error("{0}")]
    Fatal(String),
}

impl From<ktriage_index::Error> for ToolError {
    fn from(err: ktriage_index::Error) -> ToolError {
        match err {
            ktriage_index::Error::IndexMissing { .. }
            | ktriage_index::Error::IndexVersion { .. }
            | ktriage_index::Error::IndexCorrupt { .. }
            | ktriage_index::Error::NotARepo { .. } => ToolError::Fatal(err.to_string()),
            other => ToolError::RespondToModel(other.to_string()),
        }
    }
}

/// What the tools read.
pub struct ToolContext<'a> {
    /// The tree at the failure's revision.
    pub snapshot: &'a Snapshot<'a>,
    /// The history up to that revision, when it could be opened.
    pub history: Result<&'a History<'a>, String>,
    /// The failing log.
    pub log: &'a str,
    /// Longest output handed to the model; longer output is cut with a marker.
    pub max_output_bytes: usize,
}

/// One tool.
pub trait Tool: Send + Sync {
    /// The name the model calls it by.
    fn name(&self) -> &'static str;
    /// Runs it with the model's arguments (a JSON object).
    fn run(&self, context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError>;
}

type Handler = fn(&ToolContext<'_>, &Value) -> Result<String, ToolError>;

struct FnTool {
    name: &'static str,
    handler: Handler,
}

impl Tool for FnTool {
    fn name(&self) -> &'static str {
        self.name
    }

    fn run(&self, context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
        (self.handler)(context, args)
    }
}

/// The tools by name, with the specs offered to the model.
pub struct Registry {
    tools: BTreeMap<&'static str, Box<dyn Tool>>,
    specs: Vec<ToolSpec>,
}

impl Registry {
    /// Every read-only tool ktriage has.
    pub fn standard() -> Registry {
        let handlers: [(&'static str, Handler); 12] = [
            ("search", search),
            ("def", def),
            ("callers", callers),
            ("callees", callees),
            ("grep", grep),
            ("read", read),
            ("log", log),
            ("history", history_tool),
            ("show", show),
            ("blame", blame),
            ("fixes", fixes),
            ("log_excerpt", log_excerpt),
        ];
        let tools = handlers
            .into_iter()
            .map(|(name, handler)| (name, Box::new(FnTool { name, handler }) as Box<dyn Tool>))
            .collect::<BTreeMap<_, _>>();
        let specs: Vec<ToolSpec> =
            serde_json::from_str(TOOL_SPECS).expect("prompts/tools.json is checked by a test");
        Registry { tools, specs }
    }

    /// The same registry without the tools named in `names` (e.g. `log_excerpt` where there
    /// is no failing log).
    pub fn without(mut self, names: &[&str]) -> Registry {
        self.tools.retain(|name, _| !names.contains(name));
        self.specs
            .retain(|spec| !names.contains(&spec.name.as_str()));
        self
    }

    /// The same registry with one more tool (replacing one of the same name), offered as
    /// `spec`, whose name must be the tool's.
    pub fn with(mut self, tool: Box<dyn Tool>, spec: ToolSpec) -> Registry {
        debug_assert_eq!(
            tool.name(),
            spec.name,
            "a tool is offered under its own name"
        );
        self.specs.retain(|known| known.name != spec.name);
        self.specs.push(spec);
        self.tools.insert(tool.name(), tool);
        self
    }

    /// The specs of the tools, as sent to the model.
    pub fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    /// Runs the call `name(arguments)`: unknown tools and malformed arguments are answered
    /// with an error for the model, and the output is cut at the context's bound.
    pub fn call(
        &self,
        context: &ToolContext<'_>,
        name: &str,
        arguments: &str,
    ) -> Result<String, ToolError> {
        let Some(tool) = self.tools.get(name) else {
            let known: Vec<&str> = self.tools.keys().copied().collect();
            return Err(ToolError::RespondToModel(format!(
                "unknown tool `{}`; the tools are: {}",
                crate::client::clip(name, 60),
                known.join(", ")
            )));
        };
        let args = parse_arguments(arguments)?;
        let output = tool.run(context, &args)?;
        Ok(bound(output, context.max_output_bytes))
    }
}

/// Arguments as a JSON object; empty text means no arguments.
fn parse_arguments(arguments: &str) -> Result<Value, ToolError> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(ToolError::RespondToModel(format!(
            "arguments must be a JSON object, got {}",
            crate::client::clip(&other.to_string(), 80)
        ))),
        Err(err) => Err(ToolError::RespondToModel(format!(
            "arguments are not valid JSON ({err}): {}",
            crate::client::clip(arguments, 120)
        ))),
    }
}

/// Cuts `text` after `max` bytes at a line boundary, with a marker saying how much was cut.
pub fn bound(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let total = text.len();
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(newline) = text[..cut].rfind('\n') {
        cut = newline + 1;
    }
    text.truncate(cut);
    text.push_str(&format!(
        "[... output cut: {} of {total} bytes not shown; narrow the query ...]\n",
        total - cut
    ));
    text
}

/// A required non-empty string argument, trimmed.
pub fn string_arg<'v>(args: &'v Value, key: &str) -> Result<&'v str, ToolError> {
    match args.get(key) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.trim()),
        Some(other) if !other.is_null() => Err(ToolError::RespondToModel(format!(
            "argument `{key}` must be a non-empty string"
        ))),
        _ => Err(ToolError::RespondToModel(format!(
            "missing argument `{key}` (a string)"
        ))),
    }
}

/// An optional string argument, trimmed; absent, null and blank are `None`.
pub fn optional_string<'v>(args: &'v Value, key: &str) -> Result<Option<&'v str>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(_) => string_arg(args, key).map(Some),
    }
}

/// A non-negative integer argument; numeric strings are accepted (small models send them).
pub fn optional_number(args: &Value, key: &str) -> Result<Option<u32>, ToolError> {
    let bad =
        || ToolError::RespondToModel(format!("argument `{key}` must be a non-negative integer"));
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => number
            .as_u64()
            .map(|n| Some(n.min(u32::MAX as u64) as u32))
            .ok_or_else(bad),
        Some(Value::String(text)) => text.trim().parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

/// The `limit` argument, `default` when absent, clamped to `1..=max`.
pub fn limit_arg(args: &Value, default: u32, max: u32) -> Result<usize, ToolError> {
    Ok(optional_number(args, "limit")?
        .unwrap_or(default)
        .clamp(1, max) as usize)
}

fn history<'a>(context: &'a ToolContext<'_>) -> Result<&'a History<'a>, ToolError> {
    context
        .history
        .as_ref()
        .map(|history| *history)
        .map_err(|why| ToolError::RespondToModel(format!("history is not available: {why}")))
}

fn lines_or(lines: Vec<String>, empty: &str) -> String {
    if lines.is_empty() {
        format!("{empty}\n")
    } else {
        lines.join("\n") + "\n"
    }
}

fn search(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let query = string_arg(args, "query")?;
    let hits = context.snapshot.search(query, limit_arg(args, 10, 30)?)?;
    Ok(lines_or(
        hits.iter()
            .map(|hit| match (&hit.commit, &hit.subject) {
                (Some(commit), subject) => {
                    format!(
                        "commit {} \"{}\": {}",
                        short(commit),
                        subject.as_deref().unwrap_or(""),
                        hit.snippet
                    )
                }
                (None, _) => format!(
                    "{}:{}\t[{}{}]\t{}",
                    hit.path,
                    hit.line,
                    hit.kind,
                    hit.symbol
                        .as_ref()
                        .map(|symbol| format!(" in {symbol}"))
                        .unwrap_or_default(),
                    hit.snippet
                ),
            })
            .collect(),
        "no hits",
    ))
}

fn def(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let name = string_arg(args, "name")?;
    Ok(lines_or(
        context
            .snapshot
            .def(name)?
            .iter()
            .map(ToString::to_string)
            .collect(),
        &format!("`{name}` is not defined at this revision"),
    ))
}

fn callers(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let name = string_arg(args, "name")?;
    Ok(lines_or(
        context
            .snapshot
            .callers(name)?
            .iter()
            .map(ToString::to_string)
            .collect(),
        &format!("no calls to `{name}` at this revision"),
    ))
}

fn callees(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let name = string_arg(args, "name")?;
    Ok(lines_or(
        context
            .snapshot
            .callees(name)?
            .iter()
            .map(ToString::to_string)
            .collect(),
        &format!("`{name}` calls nothing, or is not a function defined at this revision"),
    ))
}

fn grep(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let pattern = string_arg(args, "pattern")?;
    if pattern.len() > 500 {
        return Err(ToolError::RespondToModel(
            "pattern is longer than 500 characters".to_string(),
        ));
    }
    let hits = context.snapshot.grep(pattern, limit_arg(args, 50, 200)?)?;
    Ok(lines_or(
        hits.iter()
            .map(|hit| format!("{}:{}:{}", hit.path, hit.line, hit.text))
            .collect(),
        "no matches",
    ))
}

fn read(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let path = string_arg(args, "path")?;
    let start = optional_number(args, "start")?.unwrap_or(1).max(1);
    let end = optional_number(args, "end")?
        .unwrap_or(start + 79)
        .max(start);
    let end = end.min(start + 199);
    let text = context.snapshot.read(path, Some(start), Some(end))?;
    let mut out = format!(
        "{} lines {}-{} of {}\n",
        text.path, text.start, text.end, text.total_lines
    );
    for (offset, line) in text.lines.iter().enumerate() {
        out.push_str(&format!("{:>5}\t{line}\n", text.start as usize + offset));
    }
    Ok(out)
}

fn log(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let target = optional_string(args, "target")?;
    let entries = history(context)?.log(target, None, limit_arg(args, 20, 100)?)?;
    Ok(lines_or(
        entries
            .iter()
            .map(|e| format!("{} {} {}  {}", short(&e.id), &e.date, e.author, e.subject))
            .collect(),
        "no commits",
    ))
}

fn history_tool(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let function = string_arg(args, "function")?;
    let path = optional_string(args, "path")?;
    let events = history(context)?.function_history(function, path)?;
    Ok(lines_or(
        events
            .iter()
            .map(|e| {
                format!(
                    "{} {} {} {}  {}  ({})",
                    short(&e.id),
                    e.date,
                    e.change.as_str(),
                    e.path,
                    e.subject,
                    e.author
                )
            })
            .collect(),
        &format!("no commit changed `{function}` up to this revision"),
    ))
}

fn show(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let commit = string_arg(args, "commit")?;
    let shown = history(context)?.show(commit, context.max_output_bytes / 2)?;
    let mut out = format!(
        "commit {}\nAuthor: {}\nDate:   {}\n\n    {}\n",
        shown.id, shown.author, shown.date, shown.subject
    );
    for line in shown.body.lines() {
        out.push_str(&format!("    {line}\n"));
    }
    for fix in &shown.fixes {
        out.push_str(&format!(
            "fixes: {} -> {}\n",
            fix.raw,
            fix.commit
                .as_deref()
                .map_or("(not resolved)".to_string(), short)
        ));
    }
    for function in &shown.functions {
        out.push_str(&format!(
            "function {} {} in {}\n",
            function.change.as_str(),
            function.name,
            function.path
        ));
    }
    out.push('\n');
    out.push_str(&shown.diff);
    Ok(out)
}

fn blame(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let path = context.snapshot.resolve_path(string_arg(args, "path")?)?;
    let start = optional_number(args, "start")?.unwrap_or(1).max(1);
    let end = optional_number(args, "end")?
        .unwrap_or(start)
        .max(start)
        .min(start + 199);
    let lines = history(context)?.blame(&path, start, end)?;
    Ok(lines_or(
        lines
            .iter()
            .map(|line| format!("{} {:>5}\t{}", short(&line.commit), line.line, line.text))
            .collect(),
        &format!("{path} has no lines {start}-{end}"),
    ))
}

fn fixes(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let commit = string_arg(args, "commit")?;
    let found = history(context)?.fixes(commit)?;
    let mut out = format!("commit {}\n", found.commit);
    for fix in &found.fixes {
        out.push_str(&format!(
            "it fixes: {} ({})\n",
            fix.raw,
            fix.commit
                .as_deref()
                .map_or("not resolved at this revision".to_string(), short)
        ));
    }
    for entry in &found.fixed_by {
        out.push_str(&format!(
            "fixed by: {} {}\n",
            short(&entry.id),
            entry.subject
        ));
    }
    if found.fixes.is_empty() && found.fixed_by.is_empty() {
        out.push_str("no Fixes: links either way\n");
    }
    Ok(out)
}

fn log_excerpt(context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
    let lines: Vec<&str> = context.log.lines().collect();
    let numbered = |(idx, line): (usize, &&str)| format!("{:>6}  {line}", idx + 1);
    if let Some(pattern) = optional_string(args, "pattern")? {
        let regex = regex::Regex::new(pattern).map_err(|err| {
            ToolError::RespondToModel(format!("bad regular expression `{pattern}`: {err}"))
        })?;
        let hits: Vec<String> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| regex.is_match(line))
            .take(200)
            .map(numbered)
            .collect();
        return Ok(lines_or(hits, "no log lines match"));
    }
    let start = optional_number(args, "start")?.unwrap_or(1).max(1) as usize;
    let end = (optional_number(args, "end")?.map_or(start + 79, |end| end as usize))
        .max(start)
        .min(start + 199);
    let shown: Vec<String> = lines
        .iter()
        .enumerate()
        .skip(start - 1)
        .take(end + 1 - start)
        .map(numbered)
        .collect();
    Ok(lines_or(
        shown,
        &format!("the log has {} lines", lines.len()),
    ))
}

/// The first 12 digits of a commit id.
pub fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_has_a_handler_and_every_handler_a_spec() {
        let registry = Registry::standard();
        let mut spec_names: Vec<&str> = registry
            .specs()
            .iter()
            .map(|spec| spec.name.as_str())
            .collect();
        spec_names.sort_unstable();
        let handler_names: Vec<&str> = registry.tools.keys().copied().collect();
        assert_eq!(spec_names, handler_names);
        for spec in registry.specs() {
            assert_eq!(registry.tools[spec.name.as_str()].name(), spec.name);
            assert_eq!(spec.parameters["type"], "object", "{}", spec.name);
        }
    }

    #[test]
    fn output_is_cut_at_a_line_with_a_marker() {
        let text = "aaaa\nbbbb\ncccc\n".to_string();
        let cut = bound(text, 8);
        assert_eq!(
            cut,
            "aaaa\n[... output cut: 10 of 15 bytes not shown; narrow the query ...]\n"
        );
    }

    #[test]
    fn malformed_arguments_are_for_the_model() {
        assert!(matches!(
            parse_arguments("{\"name\":"),
            Err(ToolError::RespondToModel(_))
        ));
        assert!(matches!(
            parse_arguments("[1]"),
            Err(ToolError::RespondToModel(_))
        ));
        assert_eq!(parse_arguments(" ").ok(), Some(serde_json::json!({})));
    }
}
