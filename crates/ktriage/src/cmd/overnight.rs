//! `ktriage overnight`: one session over a CI result window (or, with `--watch`, one per new
//! commit): the failures that matter investigated within a budget, one note each, and a
//! session report (`report.md`, `report.json`, `index.html`). The logic is
//! `ktriage_agent::session`; this is its command line and progress display.

use super::common::{AtArgs, ModelArgs, RepoArgs};
use crate::progress::Bar;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use ktriage_agent::session::lock::SessionLock;
use ktriage_agent::session::stop::Stop;
use ktriage_agent::session::{self, Config, Event, Observer, Outcome};
use ktriage_ci::results::InputFormat;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

/// Exit status of a session stopped by a signal.
const STOPPED: u8 = 130;

/// Arguments of `overnight`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The CI result tree (ktestci tree, dashboard export, ktest output, ...).
    #[arg(long)]
    results: PathBuf,
    /// Directory for the report, the notes and the session memory (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Wall-time budget of the session, in minutes: no investigation starts after it.
    #[arg(long, default_value_t = 480)]
    budget_minutes: u64,
    /// Most failures investigated in the session (one note per signature).
    #[arg(long, default_value_t = 10)]
    max_failures: usize,
    /// Keep watching: poll the results and the repository's HEAD every SECONDS and run a
    /// session on each new commit, until SIGINT or SIGTERM.
    #[arg(long, value_name = "SECONDS")]
    watch: Option<u64>,
    /// Path prefix of the repository's own code (repeatable); a failure none of whose stack
    /// frames is defined under one is upstream, not ours. Default: the whole tree.
    #[arg(long = "owned", value_name = "PREFIX")]
    owned: Vec<String>,
    /// Layout of the results: auto, ktestci, dashboard, ktest-out, xfstests, ktap, junit.
    #[arg(long, default_value_t)]
    input_format: InputFormat,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    repo: RepoArgs,
    /// The revision tested, for result layouts that do not name their commit.
    #[command(flatten)]
    at: AtArgs,
}

/// Runs `overnight`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let lock = SessionLock::acquire(&args.out)?;
    let index = args.repo.open()?;
    let runtime = ktriage_agent::Runtime::new().context("starting the async runtime")?;
    let stop = Stop::new();
    stop.on_signals(&runtime)
        .context("listening for SIGINT and SIGTERM")?;
    let config = Config {
        results: &args.results,
        input_format: args.input_format,
        out: &args.out,
        at: &args.at.at,
        client: args.model.client(),
        budgets: args.model.budgets(),
        budget: Duration::from_secs(args.budget_minutes.saturating_mul(60)),
        max_failures: args.max_failures,
        owned: &args.owned,
    };
    if config.client.is_none() {
        eprintln!(
            "ktriage: no model configured (--model or KTRIAGE_MODEL): writing evidence-only notes"
        );
    }
    let console = Console::new(args.repo.quiet);
    if let Some(seconds) = args.watch {
        session::watch::watch(
            &runtime,
            &index,
            &config,
            &lock,
            &console,
            &stop,
            Duration::from_secs(seconds.max(1)),
        );
        eprintln!("ktriage: stopped watching");
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = session::run(&runtime, &index, &config, &lock, &console, &stop);
    console.finish();
    let outcome = outcome?;
    print_outcome(&outcome)?;
    Ok(if outcome.stopped {
        ExitCode::from(STOPPED)
    } else if outcome.model_error.is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints where the report went and what the session did.
fn print_outcome(outcome: &Outcome) -> std::io::Result<()> {
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", outcome.report.display())?;
    writeln!(
        stdout,
        "  session at {}: {} investigated now, {} notes reused, {} not dug into yet{}",
        outcome.commit.get(..12).unwrap_or(&outcome.commit),
        outcome.investigated,
        outcome.reused,
        outcome.not_dug_into,
        if outcome.stopped {
            "; stopped before the end (run again to finish)"
        } else {
            ""
        }
    )?;
    if let Some(error) = &outcome.model_error {
        eprintln!("ktriage: error: the model could not be reached ({error}); the rest was not dug into, run again to finish");
    }
    Ok(())
}

/// Progress on stderr: the index's bars, then one bar over the investigations.
struct Console {
    quiet: bool,
    index_bar: Bar,
    bar: Mutex<Option<ProgressBar>>,
}

impl Console {
    fn new(quiet: bool) -> Console {
        Console {
            quiet,
            index_bar: Bar::new(quiet),
            bar: Mutex::new(None),
        }
    }

    /// Clears the investigations' bar.
    fn finish(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut slot| slot.take()) {
            bar.finish_and_clear();
        }
    }

    /// Prints a line above the bar (or plainly when there is none).
    fn say(&self, line: &str) {
        match self.bar.lock().ok().as_deref().and_then(Option::as_ref) {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl Observer for Console {
    fn progress(&self) -> &dyn ktriage_index::Progress {
        &self.index_bar
    }

    fn event(&self, event: Event<'_>) {
        match event {
            Event::Planned {
                commit,
                investigate,
                reuse,
                left,
            } => {
                if !self.quiet {
                    let short = commit.get(..12).unwrap_or(commit);
                    self.say(&format!("ktriage: session at {short}: {investigate} to investigate, {reuse} notes that still hold, {left} left alone"));
                }
                if !self.quiet && investigate > 0 {
                    let bar = ProgressBar::new(investigate as u64);
                    if let Ok(style) = ProgressStyle::with_template(
                        "investigating [{bar:30}] {pos}/{len} {wide_msg}",
                    ) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    if let Ok(mut slot) = self.bar.lock() {
                        *slot = Some(bar);
                    }
                }
            }
            Event::Started {
                position,
                title,
                resumed,
                ..
            } => {
                if let Some(bar) = self.bar.lock().ok().as_deref().and_then(Option::as_ref) {
                    bar.set_position(position.saturating_sub(1) as u64);
                    bar.set_message(format!(
                        "{title}{}",
                        if resumed { " (resumed)" } else { "" }
                    ));
                }
            }
            Event::Finished { title, depth } => {
                if let Some(bar) = self.bar.lock().ok().as_deref().and_then(Option::as_ref) {
                    bar.inc(1);
                    bar.suspend(|| eprintln!("ktriage: {title}: {}", depth.name()));
                }
            }
            Event::Warning(message) => self.say(&format!("ktriage: warning: {message}")),
            Event::SessionDone(outcome) => {
                self.finish();
                // A closed stdout loses only this summary: the report is on disk, and the
                // session's own result says how it ended.
                let _ = print_outcome(outcome);
            }
        }
    }
}
