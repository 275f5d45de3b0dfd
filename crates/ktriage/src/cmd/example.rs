//! `ktriage example`: build the bundled example repository, index it and show what the
//! index knows. This is the README's first command.

use crate::progress::Bar;
use anyhow::Context;
use ktriage_index::Index;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Marks a directory as made by `ktriage example`, so that it may be replaced.
const MARKER: &str = "ktriage-example";

/// Arguments of `example`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to build the example repository (replaced if an earlier run made it).
    #[arg(long, default_value = "examples/out/minifs")]
    out: PathBuf,
    /// The history to build (default: the bundled one).
    #[arg(long)]
    history: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `example`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    prepare_out_dir(&args.out)?;
    let history = args.history.clone().unwrap_or_else(ktriage_example::bundled_history);
    let built = ktriage_example::build_repo(&history, &args.out)
        .with_context(|| format!("building the example repository from {}", history.display()))?;
    std::fs::write(args.out.join(".git").join(MARKER), "made by `ktriage example`\n")
        .with_context(|| format!("marking {}", args.out.display()))?;
    println!("== built {} with {} commits:", args.out.display(), built.commits.len());
    for commit in built.commits.iter().rev() {
        println!("   {}  {}", &commit.id.to_string()[..12], commit.subject);
    }

    let index = Index::open_or_create(&args.out, None)?;
    let progress = Bar::new(args.quiet);
    for commit in &built.commits {
        index.index_rev(&index.resolve(&commit.id.to_string())?, &progress)?;
    }
    println!("\n== indexed every commit's tree into {}", index.dir().display());

    let head = index.resolve("HEAD")?;
    let snapshot = index.snapshot(&head, &progress)?;
    println!("\n$ ktriage def minifs_discard_one_bucket");
    for d in snapshot.def("minifs_discard_one_bucket")? {
        println!("{}:{}-{}\t{}\t{}", d.path, d.line, d.end_line, d.kind.as_str(), d.signature);
    }
    println!("\n$ ktriage callers minifs_fs_emergency_read_only");
    for call in snapshot.callers("minifs_fs_emergency_read_only")? {
        println!("{}:{}\t{} -> {}", call.path, call.line, call.caller, call.callee);
    }
    println!("\n$ ktriage search \"discarded bucket need discard\" --limit 3");
    for hit in snapshot.search("discarded bucket need discard", 3)? {
        println!("{}:{}\t{:.2}\t{}\t{}", hit.path, hit.line, hit.score, hit.kind, hit.snippet);
    }
    if let Some(bug) = built.commits.iter().find(|c| c.step.contains("discard-panic")) {
        let at = index.resolve(&bug.id.to_string())?;
        let old = index.snapshot(&at, &progress)?;
        println!("\n$ ktriage grep 'panic\\(' --at {}", &bug.id.to_string()[..12]);
        for hit in old.grep(r"panic\(", 10)? {
            println!("{}:{}:{}", hit.path, hit.line, hit.text);
        }
    }
    println!("\n$ ktriage cat fs/bcachefs/minifs/discard.c:15-18   (a log's path, resolved by suffix)");
    let text = snapshot.read("fs/bcachefs/minifs/discard.c", Some(15), Some(18))?;
    println!("{}:", text.path);
    for (offset, line) in text.lines.iter().enumerate() {
        println!("{:>4}  {line}", text.start as usize + offset);
    }
    println!("\nTry: ktriage def minifs_fs_start --repo {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn prepare_out_dir(out: &Path) -> anyhow::Result<()> {
    if !out.exists() {
        return Ok(());
    }
    if !out.join(".git").join(MARKER).exists() {
        anyhow::bail!("{} exists and was not made by `ktriage example`; choose another --out", out.display());
    }
    std::fs::remove_dir_all(out).with_context(|| format!("removing the previous example at {}", out.display()))
}
