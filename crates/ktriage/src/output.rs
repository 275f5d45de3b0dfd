//! Output helpers shared by subcommands: `--format text|json` and JSON printing.

use std::io::{BufWriter, StdoutLock, Write};

/// Output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Standard output, locked and buffered: Rust's own stdout writes every line with a system
/// call of its own. Call `flush` when done, so that a write error is reported rather than
/// dropped with the buffer.
fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::new(std::io::stdout().lock())
}

/// Writes `value` as pretty JSON followed by a newline to stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Runs `write` over [`stdout`] and flushes it: text output in a few large writes.
pub fn print_text(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    let mut out = stdout();
    write(&mut out)?;
    out.flush()?;
    Ok(())
}
