//! Measures `parse_c` on a directory of kernel C: speed and function recovery.
//!
//! ```text
//! parse_stats DIR            # totals over every .c/.h file under DIR
//! parse_stats --dump FILE    # the file's facts as JSON
//! parse_stats --dump-all DIR # every file's path and facts (stats left out), a line
//!                            # each: compare two builds' outputs to see what a parser
//!                            # change changes
//! parse_stats --sexp FILE    # tree-sitter's raw tree, for debugging
//! ```
//!
//! Definitions of the numbers printed:
//! * `taken from the scan`: kernel-style definitions (`}` alone at column 0) that
//!   `parse_c` takes from its lexical scan alone (`ParseStats::functions_scanned`).
//! * `lost by tree-sitter`: of the other definitions, which `parse_c` gives to
//!   tree-sitter, those its extraction did not produce (`ParseStats::functions_lost`).
//! * `lost by unprepared tree-sitter`: for comparison, functions the lexical scan
//!   finds that plain tree-sitter, on the file as it is, has no `function_definition`
//!   node for (same last line, first line within the scan's span).
//! * `lost after recovery`: scanner functions still missing from the final symbols.
//! * `col-0 braces uncovered`: an independent check, kernel style puts a function's
//!   opening `{` alone at column 0; such lines not inside any function symbol's span.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ktriage_index::facts::{FileFacts, SymbolKind};
use ktriage_index::parse::{lexical_functions, parse_c};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "c" || e == "h") {
            out.push(path);
        }
    }
    Ok(())
}

/// This thread's CPU time in seconds (Linux `schedstat`), to measure under load.
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(stat.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, file] if flag == "--dump" => {
            let facts = parse_c(&std::fs::read(file)?);
            println!("{}", serde_json::to_string_pretty(&facts)?);
        }
        [flag, dir] if flag == "--dump-all" => {
            let mut paths = Vec::new();
            collect(Path::new(dir), &mut paths)?;
            paths.sort();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for path in paths {
                let facts = FileFacts {
                    stats: Default::default(),
                    ..parse_c(&std::fs::read(&path)?)
                };
                writeln!(
                    out,
                    "{}\t{}",
                    path.display(),
                    serde_json::to_string(&facts)?
                )?;
            }
        }
        [flag, file] if flag == "--sexp" => {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&tree_sitter_c::LANGUAGE.into())?;
            let tree = parser
                .parse(std::fs::read(file)?, None)
                .ok_or("parse failed")?;
            println!("{}", tree.root_node().to_sexp());
        }
        [dir] => stats(Path::new(dir))?,
        _ => {
            return Err(
                "usage: parse_stats DIR | --dump FILE | --dump-all DIR | --sexp FILE".into(),
            )
        }
    }
    Ok(())
}

fn stats(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut paths = Vec::new();
    collect(dir, &mut paths)?;
    paths.sort();
    let files: Vec<(PathBuf, Vec<u8>)> = paths
        .into_iter()
        .map(|p| std::fs::read(&p).map(|b| (p, b)))
        .collect::<Result<_, _>>()?;
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();

    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_c::LANGUAGE.into())?;
    let t = Instant::now();
    let raw_cpu = cpu_secs();
    let mut slowest: Vec<(f64, &Path)> = Vec::new();
    let mut raw_trees = Vec::new();
    for (p, b) in &files {
        let one = Instant::now();
        let tree = parser.parse(b, None);
        slowest.push((one.elapsed().as_secs_f64() * 1e6 / b.len().max(1) as f64, p));
        raw_trees.push(tree);
    }
    let raw_secs = t.elapsed().as_secs_f64();
    let raw_cpu = raw_cpu.zip(cpu_secs()).map(|(a, b)| b - a);
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));

    let t = Instant::now();
    let cpu = cpu_secs();
    let all: Vec<_> = files.iter().map(|(_, b)| parse_c(b)).collect();
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu.zip(cpu_secs()).map(|(a, b)| b - a);

    let (mut functions, mut lost, mut errors, mut after, mut braces, mut uncovered) =
        (0, 0, 0, 0, 0, 0);
    let (mut scanned, mut raw_lost) = (0, 0);
    let (mut symbols, mut calls, mut messages) = (0, 0, 0);
    let mut worst: Vec<(u32, u32, &Path)> = Vec::new();
    for (((path, src), facts), raw) in files.iter().zip(&all).zip(&raw_trees) {
        let raw_spans = raw.as_ref().map(function_spans).unwrap_or_default();
        functions += facts.stats.functions;
        lost += facts.stats.functions_lost;
        scanned += facts.stats.functions_scanned;
        errors += facts.stats.error_nodes;
        symbols += facts.symbols.len();
        calls += facts.calls.len();
        messages += facts.messages.len();
        let fns: Vec<_> = facts
            .symbols
            .iter()
            .filter(|s| s.kind == SymbolKind::Function)
            .collect();
        let lexical = lexical_functions(src);
        raw_lost += lexical
            .iter()
            .filter(|l| {
                !raw_spans
                    .iter()
                    .any(|&(start, end)| end == l.end_line && l.line <= start && start <= end)
            })
            .count() as u32;
        let missing = lexical
            .iter()
            .filter(|l| {
                !fns.iter()
                    .any(|f| f.name == l.name && f.line <= l.end_line && l.line <= f.end_line)
            })
            .count() as u32;
        after += missing;
        let mut file_uncovered = 0;
        for (i, line) in src.split(|&b| b == b'\n').enumerate() {
            if line == b"{" {
                braces += 1;
                let n = i as u32 + 1;
                if !fns.iter().any(|f| f.line <= n && n <= f.end_line) {
                    file_uncovered += 1;
                    if std::env::var_os("VERBOSE").is_some() {
                        println!("uncovered {}:{n}", path.display());
                    }
                }
            }
        }
        uncovered += file_uncovered;
        if facts.stats.functions_lost + file_uncovered > 0 {
            worst.push((facts.stats.functions_lost, file_uncovered, path));
        }
    }
    worst.sort_by_key(|w| std::cmp::Reverse(w.0 + w.1));

    let pct = |n: u32| 100.0 * f64::from(n) / f64::from(functions.max(1));
    println!("files                    {}", files.len());
    println!("bytes                    {bytes}");
    let mbs = |s: f64| bytes as f64 / 1e6 / s;
    println!(
        "parse time               {secs:.3} s wall ({:.2} MB/s, single thread)",
        mbs(secs)
    );
    if let Some(cpu) = cpu {
        println!("parse cpu time           {cpu:.3} s ({:.2} MB/s)", mbs(cpu));
    }
    println!(
        "raw tree-sitter parse    {raw_secs:.3} s wall ({:.2} MB/s)",
        mbs(raw_secs)
    );
    if let Some(cpu) = raw_cpu {
        println!("raw tree-sitter cpu      {cpu:.3} s ({:.2} MB/s)", mbs(cpu));
    }
    println!("symbols / calls / msgs   {symbols} / {calls} / {messages}");
    println!("functions found          {functions}");
    println!("taken from the scan      {scanned}");
    let given = functions - scanned;
    println!(
        "lost by tree-sitter      {lost} of {given} given to it ({:.2}%)",
        100.0 * f64::from(lost) / f64::from(given.max(1))
    );
    println!(
        "lost by unprepared tree-sitter {raw_lost} ({:.2}%)",
        pct(raw_lost)
    );
    println!("lost after recovery      {after} ({:.2}%)", pct(after));
    println!("error nodes              {errors}");
    println!("col-0 braces uncovered   {uncovered} of {braces}");
    for (l, u, p) in worst.iter().take(10) {
        println!("  lost {l:3} uncovered {u:3}  {}", p.display());
    }
    println!("slowest raw tree-sitter parses (us/byte):");
    println!(
        "  median {:.3}",
        slowest.get(slowest.len() / 2).map_or(0.0, |s| s.0)
    );
    for (us, p) in slowest.iter().take(5) {
        println!("  {us:8.3}  {}", p.display());
    }
    Ok(())
}

/// First and last lines of every `function_definition` node in a tree.
fn function_spans(tree: &tree_sitter::Tree) -> Vec<(u32, u32)> {
    let mut spans = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "function_definition" {
            let line = |p: tree_sitter::Point| p.row as u32 + 1;
            spans.push((line(node.start_position()), line(node.end_position())));
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    spans
}
