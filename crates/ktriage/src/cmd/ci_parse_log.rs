//! `ktriage ci parse-log FILE`: the kernel reports of one console log, with their
//! syzkaller-style signatures.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ktriage_ci::report::{self, Report};
use serde::Serialize;

use crate::output::{print_json, print_text, Format};

/// Arguments of `ci parse-log`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The console log to read.
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: crate::output::Format,
    /// At most this many reports (a bound against logs repeating a header; raise it to
    /// measure throughput on large concatenated logs).
    #[arg(long, default_value_t = report::MAX_REPORTS)]
    max_reports: usize,
}

/// The JSON document printed with `--format json` (and by the MCP tool `parse_log`).
#[derive(Serialize)]
pub(super) struct Output<'a> {
    /// The reports, primary first.
    pub(super) reports: &'a [Report],
    /// The log held more reports than were asked for; the rest were not titled.
    pub(super) truncated: bool,
}

/// The reports of the log `reader` gives, at most `max`, and whether it held more.
pub(super) fn capped_reports<R: std::io::Read>(
    reader: R,
    max: usize,
) -> std::io::Result<(Vec<Report>, bool)> {
    let mut reports = report::parse_reader_limited(reader, max.saturating_add(1))?;
    let truncated = reports.len() > max;
    reports.truncate(max);
    Ok((reports, truncated))
}

/// Runs `ci parse-log`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // The log is streamed: memory stays bounded whatever its size.
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let (reports, truncated) = capped_reports(file, args.max_reports)
        .with_context(|| format!("reading {}", args.file.display()))?;
    if truncated {
        eprintln!(
            "ktriage: warning: {} holds more than {} reports; only the first {} are given \
             (--max-reports raises the bound)",
            args.file.display(),
            args.max_reports,
            args.max_reports
        );
    }
    match args.format {
        Format::Json => print_json(&Output {
            reports: &reports,
            truncated,
        })?,
        Format::Text => print_text(|out| write_reports(out, &reports))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn write_reports(out: &mut dyn Write, reports: &[Report]) -> std::io::Result<()> {
    if reports.is_empty() {
        return writeln!(out, "no kernel report found");
    }
    for (i, rep) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let primary = if i == 0 { " (primary)" } else { "" };
        writeln!(out, "{}{primary}", rep.title)?;
        writeln!(out, "  type:      {}", rep.kind)?;
        writeln!(out, "  lines:     {}-{}", rep.start_line, rep.end_line)?;
        if let Some(frame) = &rep.frame {
            writeln!(out, "  frame:     {frame}")?;
        }
        if let Some(file) = &rep.guilty_file {
            writeln!(out, "  guilty:    {file}")?;
        }
        if rep.corrupted {
            writeln!(out, "  corrupted: yes")?;
        }
        writeln!(out, "  dedup:     {}", rep.dedup_key)?;
        for frame in rep.frames.iter().take(12) {
            let unreliable = if frame.reliable { "" } else { "? " };
            let module = frame
                .module
                .as_deref()
                .map(|m| format!(" [{m}]"))
                .unwrap_or_default();
            let place = match (&frame.path, frame.line) {
                (Some(path), Some(line)) => format!(" {path}:{line}"),
                (Some(path), None) => format!(" {path}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "    {unreliable}{}{}{module}{place}",
                frame.function,
                frame.offset.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}
