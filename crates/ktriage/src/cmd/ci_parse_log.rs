//! `ktriage ci parse-log FILE`: the kernel reports of one console log, with their
//! syzkaller-style signatures.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ktriage_ci::report::{self, Report};
use serde::Serialize;

use crate::output::Format;

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
}

/// Runs `ci parse-log`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // The log is streamed: memory stays bounded whatever its size.
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let reports = report::parse_reader_limited(file, args.max_reports)
        .with_context(|| format!("reading {}", args.file.display()))?;
    match args.format {
        Format::Json => {
            // Buffered: the pretty output of many reports is large, and stdout is line-buffered.
            let mut out = BufWriter::new(std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut out, &Output { reports: &reports })?;
            writeln!(out)?;
            out.flush()?;
        }
        Format::Text => print_text(&reports),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(reports: &[Report]) {
    if reports.is_empty() {
        println!("no kernel report found");
        return;
    }
    for (i, rep) in reports.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let primary = if i == 0 { " (primary)" } else { "" };
        println!("{}{primary}", rep.title);
        println!("  type:      {}", rep.kind);
        println!("  lines:     {}-{}", rep.start_line, rep.end_line);
        if let Some(frame) = &rep.frame {
            println!("  frame:     {frame}");
        }
        if let Some(file) = &rep.guilty_file {
            println!("  guilty:    {file}");
        }
        if rep.corrupted {
            println!("  corrupted: yes");
        }
        println!("  dedup:     {}", rep.dedup_key);
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
            println!(
                "    {unreliable}{}{}{module}{place}",
                frame.function,
                frame.offset.as_deref().unwrap_or("")
            );
        }
    }
}
