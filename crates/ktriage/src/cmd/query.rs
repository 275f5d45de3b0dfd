//! Code queries at a revision: `def`, `callers`, `callees`, `search`, `grep`, `cat`.

use super::common::{open_snapshot, QueryArgs};
use crate::output::{print_json, print_text, Format};
use ktriage_index::Index;
use std::process::ExitCode;

/// Arguments of `def`, `callers` and `callees`.
#[derive(Debug, clap::Args)]
pub struct SymbolArgs {
    /// The symbol's exact name.
    symbol: String,
    #[command(flatten)]
    scope: QueryArgs,
}

/// Arguments of `search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Words, identifiers or a message to look for.
    query: String,
    /// How many hits at most.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[command(flatten)]
    scope: QueryArgs,
}

/// Arguments of `grep`.
#[derive(Debug, clap::Args)]
pub struct GrepArgs {
    /// A regular expression (Rust regex syntax), matched line by line.
    pattern: String,
    /// How many hits at most.
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    #[command(flatten)]
    scope: QueryArgs,
}

/// Arguments of `cat`.
#[derive(Debug, clap::Args)]
pub struct CatArgs {
    /// `PATH`, `PATH:LINE` or `PATH:START-END`; the path may be written as a log writes it.
    target: String,
    #[command(flatten)]
    scope: QueryArgs,
}

/// Which symbol query to run.
#[derive(Debug, Clone, Copy)]
pub enum SymbolQuery {
    /// `def`.
    Def,
    /// `callers`.
    Callers,
    /// `callees`.
    Callees,
}

/// Runs `def`, `callers` or `callees`; exit status 1 when nothing is found.
pub fn run_symbol(args: SymbolArgs, query: SymbolQuery) -> anyhow::Result<ExitCode> {
    args.scope
        .repo
        .with_index(|index| symbol_query(index, &args, query))
}

fn symbol_query(index: &Index, args: &SymbolArgs, query: SymbolQuery) -> anyhow::Result<ExitCode> {
    let (_, snapshot) = open_snapshot(index, &args.scope.repo, &args.scope.at)?;
    let found = match query {
        SymbolQuery::Def => {
            let definitions = snapshot.def(&args.symbol)?;
            match args.scope.format {
                Format::Json => print_json(&serde_json::json!({ "definitions": definitions }))?,
                Format::Text => print_text(|out| {
                    for d in &definitions {
                        writeln!(out, "{d}")?;
                    }
                    Ok(())
                })?,
            }
            !definitions.is_empty()
        }
        SymbolQuery::Callers | SymbolQuery::Callees => {
            let calls = match query {
                SymbolQuery::Callers => snapshot.callers(&args.symbol)?,
                _ => snapshot.callees(&args.symbol)?,
            };
            match args.scope.format {
                Format::Json => print_json(&serde_json::json!({ "calls": calls }))?,
                Format::Text => print_text(|out| {
                    for call in &calls {
                        writeln!(out, "{call}")?;
                    }
                    Ok(())
                })?,
            }
            !calls.is_empty()
        }
    };
    Ok(exit_found(found))
}

/// Runs `search`.
pub fn run_search(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let hits = args.scope.repo.with_index(|index| {
        let (_, snapshot) = open_snapshot(index, &args.scope.repo, &args.scope.at)?;
        Ok(snapshot.search(&args.query, args.limit)?)
    })?;
    match args.scope.format {
        Format::Json => print_json(&serde_json::json!({ "hits": hits }))?,
        Format::Text => print_text(|out| {
            for hit in &hits {
                let symbol = hit
                    .symbol
                    .as_deref()
                    .map(|s| format!(" [{s}]"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}:{}\t{:.2}\t{}{}\t{}",
                    hit.path, hit.line, hit.score, hit.kind, symbol, hit.snippet
                )?;
            }
            Ok(())
        })?,
    }
    Ok(exit_found(!hits.is_empty()))
}

/// Runs `grep`.
pub fn run_grep(args: GrepArgs) -> anyhow::Result<ExitCode> {
    let hits = args.scope.repo.with_index(|index| {
        let (_, snapshot) = open_snapshot(index, &args.scope.repo, &args.scope.at)?;
        Ok(snapshot.grep(&args.pattern, args.limit)?)
    })?;
    match args.scope.format {
        Format::Json => print_json(&serde_json::json!({ "hits": hits }))?,
        Format::Text => print_text(|out| {
            for hit in &hits {
                writeln!(out, "{}:{}:{}", hit.path, hit.line, hit.text)?;
            }
            Ok(())
        })?,
    }
    Ok(exit_found(!hits.is_empty()))
}

/// Runs `cat`.
pub fn run_cat(args: CatArgs) -> anyhow::Result<ExitCode> {
    let (path, start, end) = parse_target(&args.target)?;
    let text = args.scope.repo.with_index(|index| {
        let (_, snapshot) = open_snapshot(index, &args.scope.repo, &args.scope.at)?;
        Ok(snapshot.read(path, start, end)?)
    })?;
    match args.scope.format {
        Format::Json => print_json(&text)?,
        Format::Text => print_text(|out| {
            for line in &text.lines {
                writeln!(out, "{line}")?;
            }
            Ok(())
        })?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Splits `PATH[:START[-END]]`.
pub(super) fn parse_target(target: &str) -> anyhow::Result<(&str, Option<u32>, Option<u32>)> {
    let Some((path, range)) = target.rsplit_once(':') else {
        return Ok((target, None, None));
    };
    let bad = || anyhow::format_err!("`{target}`: expected PATH, PATH:LINE or PATH:START-END");
    let (start, end) = match range.split_once('-') {
        Some((start, end)) => (
            start.parse().map_err(|_| bad())?,
            end.parse().map_err(|_| bad())?,
        ),
        None => {
            let line = range.parse().map_err(|_| bad())?;
            (line, line)
        }
    };
    if start == 0 || end < start {
        return Err(bad());
    }
    Ok((path, Some(start), Some(end)))
}

fn exit_found(found: bool) -> ExitCode {
    if found {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
