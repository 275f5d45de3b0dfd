//! `locate` and `parse_log` as tools: the same library calls as `ktriage locate` and
//! `ktriage ci parse-log`, answering with the JSON those print with `--format json`.

use crate::cmd::ci_parse_log;
use crate::cmd::locate::report_text;
use ktriage_agent::tools::{limit_arg, optional_number, string_arg, Tool, ToolContext, ToolError};
use serde_json::Value;

/// Longest failure text `locate` reads, after a console log is cut to its kernel report.
const MAX_LOCATE_TEXT_BYTES: usize = 1 << 20;

/// Reports `parse_log` returns unless asked for another number, and at most.
const DEFAULT_REPORTS: u32 = 20;
const MAX_REPORTS: u32 = 200;

/// The tools of this module.
pub fn all() -> Vec<Box<dyn Tool>> {
    vec![Box::new(Locate), Box::new(ParseLog)]
}

/// `locate {text, report?, limit?}`: the evidence dossier of a failure.
struct Locate;

impl Tool for Locate {
    fn name(&self) -> &'static str {
        "locate"
    }

    fn run(&self, context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
        let report = optional_number(args, "report")?.unwrap_or(0) as usize;
        let limit = limit_arg(args, 10, 30)?;
        let text = report_text(text_arg(args)?, report)
            .map_err(|err| ToolError::RespondToModel(format!("argument `text`: {err:#}")))?;
        if text.len() > MAX_LOCATE_TEXT_BYTES {
            return Err(ToolError::RespondToModel(format!(
                "the failure text is {} bytes and holds no kernel report; locate reads at most {MAX_LOCATE_TEXT_BYTES}: give the error lines",
                text.len()
            )));
        }
        let history = context.history.as_ref().ok().copied();
        let dossier = ktriage_locate::locate(
            context.snapshot,
            history,
            &text,
            &ktriage_locate::Options::with_limit(limit),
        )?;
        to_json(&dossier)
    }
}

/// `parse_log {text, max_reports?}`: the kernel reports of a console log.
struct ParseLog;

impl Tool for ParseLog {
    fn name(&self) -> &'static str {
        "parse_log"
    }

    fn run(&self, _context: &ToolContext<'_>, args: &Value) -> Result<String, ToolError> {
        let max_reports = optional_number(args, "max_reports")?
            .unwrap_or(DEFAULT_REPORTS)
            .clamp(1, MAX_REPORTS) as usize;
        let text = text_arg(args)?;
        let (reports, truncated) = ci_parse_log::capped_reports(text.as_bytes(), max_reports)
            .map_err(|err| ToolError::Fatal(format!("reading the log from memory: {err}")))?;
        to_json(&ci_parse_log::Output {
            reports: &reports,
            truncated,
        })
    }
}

/// The `text` argument as given, not trimmed: report line numbers count from its first line.
fn text_arg(args: &Value) -> Result<&str, ToolError> {
    // Checks presence and type, with the messages every tool gives.
    string_arg(args, "text")?;
    Ok(args.get("text").and_then(Value::as_str).unwrap_or_default())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ToolError> {
    serde_json::to_string_pretty(value)
        .map(|json| json + "\n")
        .map_err(|err| ToolError::Fatal(format!("writing the answer as JSON: {err}")))
}
