//! `ktriage example`: build the bundled example repository, index it and show what the
//! index knows. This is the README's first command.

use crate::progress::Bar;
use anyhow::Context;
use ktriage_index::Index;
use std::io::Write;
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
    #[command(flatten)]
    model: super::common::ModelArgs,
}

/// Runs `example`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout();
    prepare_out_dir(&args.out)?;
    let history = args
        .history
        .clone()
        .unwrap_or_else(ktriage_example::bundled_history);
    let built = ktriage_example::build_repo(&history, &args.out)
        .with_context(|| format!("building the example repository from {}", history.display()))?;
    std::fs::write(
        args.out.join(".git").join(MARKER),
        "made by `ktriage example`\n",
    )
    .with_context(|| format!("marking {}", args.out.display()))?;
    writeln!(
        stdout,
        "== built {} with {} commits:",
        args.out.display(),
        built.commits.len()
    )?;
    for commit in built.commits.iter().rev() {
        writeln!(
            stdout,
            "   {}  {}",
            &commit.id.to_string()[..12],
            commit.subject
        )?;
    }

    let index = Index::open_or_create(&args.out, None)?;
    let progress = Bar::new(args.quiet);
    for commit in &built.commits {
        index.index_rev(&index.resolve(&commit.id.to_string())?, &progress)?;
    }
    writeln!(
        stdout,
        "\n== indexed every commit's tree into {}",
        index.dir().display()
    )?;

    let head = index.resolve("HEAD")?;
    let snapshot = index.snapshot(&head, &progress)?;
    writeln!(stdout, "\n$ ktriage def minifs_discard_one_bucket")?;
    for d in snapshot.def("minifs_discard_one_bucket")? {
        writeln!(stdout, "{d}")?;
    }
    writeln!(stdout, "\n$ ktriage callers minifs_fs_emergency_read_only")?;
    for call in snapshot.callers("minifs_fs_emergency_read_only")? {
        writeln!(stdout, "{call}")?;
    }
    writeln!(
        stdout,
        "\n$ ktriage search \"discarded bucket need discard\" --limit 3"
    )?;
    for hit in snapshot.search("discarded bucket need discard", 3)? {
        writeln!(
            stdout,
            "{}:{}\t{:.2}\t{}\t{}",
            hit.path, hit.line, hit.score, hit.kind, hit.snippet
        )?;
    }
    if let Some(bug) = built
        .commits
        .iter()
        .find(|c| c.step.contains("discard-panic"))
    {
        let at = index.resolve(&bug.id.to_string())?;
        let old = index.snapshot(&at, &progress)?;
        writeln!(
            stdout,
            "\n$ ktriage grep 'panic\\(' --at {}",
            &bug.id.to_string()[..12]
        )?;
        for hit in old.grep(r"panic\(", 10)? {
            writeln!(stdout, "{}:{}:{}", hit.path, hit.line, hit.text)?;
        }
    }
    writeln!(
        stdout,
        "\n$ ktriage cat fs/bcachefs/minifs/discard.c:15-18   (a log's path, resolved by suffix)"
    )?;
    let text = snapshot.read("fs/bcachefs/minifs/discard.c", Some(15), Some(18))?;
    writeln!(stdout, "{}:", text.path)?;
    for (offset, line) in text.lines.iter().enumerate() {
        writeln!(stdout, "{:>4}  {line}", text.start as usize + offset)?;
    }
    writeln!(
        stdout,
        "\nTry: ktriage def minifs_fs_start --repo {}",
        args.out.display()
    )?;
    triage_example_log(&index, &built, &args.out, &args.model)?;
    Ok(ExitCode::SUCCESS)
}

/// The bundled CI log of the panic introduced by step 05.
const EXAMPLE_LOG: &str = include_str!("../../../../examples/minifs/ci/discard-panic.log");

/// Triages the bundled CI log at the commit that introduced the panic, with the model of
/// `--model` (or `KTRIAGE_MODEL`) when one is configured and evidence-only otherwise, and prints the note.
fn triage_example_log(
    index: &Index,
    built: &ktriage_example::BuiltRepo,
    out: &Path,
    model: &super::common::ModelArgs,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout();
    let Some(bug) = built
        .commits
        .iter()
        .find(|c| c.step.contains("discard-panic"))
    else {
        return Ok(());
    };
    let triage_dir = out.with_file_name(format!(
        "{}-triage",
        out.file_name()
            .map_or("example".into(), |name| name.to_string_lossy())
    ));
    std::fs::create_dir_all(&triage_dir)
        .with_context(|| format!("creating {}", triage_dir.display()))?;
    let log_path = triage_dir.join("discard-panic.log");
    std::fs::write(&log_path, EXAMPLE_LOG)
        .with_context(|| format!("writing {}", log_path.display()))?;
    let settings = ktriage_agent::Settings {
        client: model.client(),
        budgets: model.budgets(),
        resume: false,
    };
    let short_id = &bug.id.to_string()[..12];
    writeln!(
        stdout,
        "\n$ ktriage triage --repo {} --at {short_id} --log {} --out {}{}",
        out.display(),
        log_path.display(),
        triage_dir.display(),
        if settings.client.is_none() {
            "   (no model configured: evidence-only)"
        } else {
            ""
        }
    )?;
    let rev = index.resolve(&bug.id.to_string())?;
    let log_name = log_path.to_string_lossy();
    let case = ktriage_agent::Case {
        log: EXAMPLE_LOG,
        log_path: Some(&log_name),
        test: Some("minifs.discard_race"),
    };
    let runtime = ktriage_agent::Runtime::new().context("starting the async runtime")?;
    let written = runtime.triage(index, &rev, &case, &triage_dir, &settings)?;
    if let Some(error) = &written.model_error {
        eprintln!("ktriage: the model failed ({error}); the note is evidence-only");
    }
    let note_path = triage_dir.join("note.txt");
    write!(
        stdout,
        "{}",
        std::fs::read_to_string(&note_path)
            .with_context(|| format!("reading {}", note_path.display()))?
    )?;
    writeln!(
        stdout,
        "\n(also {}, note.json and journal.jsonl)",
        triage_dir.join("note.md").display()
    )?;
    Ok(())
}

fn prepare_out_dir(out: &Path) -> anyhow::Result<()> {
    if !out.exists() {
        return Ok(());
    }
    if !out.join(".git").join(MARKER).exists() {
        anyhow::bail!(
            "{} exists and was not made by `ktriage example`; choose another --out",
            out.display()
        );
    }
    std::fs::remove_dir_all(out)
        .with_context(|| format!("removing the previous example at {}", out.display()))
}
