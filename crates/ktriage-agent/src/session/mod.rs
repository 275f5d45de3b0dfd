//! Overnight sessions: a result window in, notes for the failures that matter and one
//! session report out.
//!
//! A session is about the newest commit of a result window. [`run`] reads and classifies
//! the window, brings the index up to that commit (source and history), plans the work
//! ([`plan`]: regressions first, then persistent failures by how many tests they break;
//! flakes, fixed failures and infrastructure failures are summarised), sets aside the
//! failures whose stacks never touch the repository's own code ([`scope`]), and investigates
//! the rest in order, one note per signature group, until the cap on notes or the wall-time
//! budget is reached. It writes `report.md`, `report.json` and `index.html` ([`report`],
//! [`html`]).
//!
//! Invariants:
//! - Memory ([`memory`]): a note is recorded in `memory.json` only after its files were
//!   written; a recorded note is not investigated again unless its evidence changed (a new
//!   failing test in the group, a new commit changing one of its suspect functions) or it was
//!   evidence-only and a model is now configured. A note from an earlier commit that still
//!   holds is shown as "seen before".
//! - Resumability: a note's directory depends only on its signature and commit, and an
//!   investigation that finds its journal there resumes from it, so a session killed at any
//!   point and run again finishes with the same report, without repeating finished notes or
//!   answered model requests. The cap and the budget are per session (commit), across runs.
//! - Determinism: the report holds no timestamps and no absolute paths; running a finished
//!   session again changes nothing and writes the same report.
//! - One session per output directory at a time ([`lock`]); stopping is clean ([`stop`]).
//! - The API key is redacted from every file written.

mod compose;
mod failure;
pub mod html;
pub mod lock;
pub mod memory;
pub mod plan;
pub mod report;
mod revisit;
pub mod scope;
pub mod stop;
pub mod watch;

use crate::client::ClientConfig;
use crate::investigate::Budgets;
use crate::{Case, Runtime, Settings, Written};
use compose::State;
use failure::Failure;
use ktriage_ci::classify::classify;
use ktriage_ci::results::{read_results_with, InputFormat, ReadOptions};
use ktriage_index::{History, Index, Progress, Snapshot};
use lock::SessionLock;
use memory::{Memory, MemoryError, NoteRecord};
use plan::{Left, Postponed, Reason};
use report::{Depth, ReportError};
use revisit::Decision;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use stop::Stop;

/// The directory of the notes, under the output directory.
pub const NOTES_DIR: &str = "notes";

/// What a session works on and its limits.
pub struct Config<'a> {
    /// The result tree.
    pub results: &'a Path,
    /// Its layout.
    pub input_format: InputFormat,
    /// The output directory: notes, memory, report, lock.
    pub out: &'a Path,
    /// The revision tested, for result layouts that do not name their commit.
    pub at: &'a str,
    /// The model; `None` makes evidence-only notes.
    pub client: Option<ClientConfig>,
    /// Limits of each investigation.
    pub budgets: Budgets,
    /// Wall time the session may spend before it stops starting investigations.
    pub budget: Duration,
    /// Most notes the session makes.
    pub max_failures: usize,
    /// Path prefixes of the repository's own code; empty for the whole tree.
    pub owned: &'a [String],
}

/// Receives a session's progress.
pub trait Observer {
    /// Progress of index updates.
    fn progress(&self) -> &dyn Progress;
    /// Something happened.
    fn event(&self, event: Event<'_>);
}

/// What a session tells its [`Observer`].
pub enum Event<'a> {
    /// The plan is made.
    Planned {
        /// The session's commit.
        commit: &'a str,
        /// Failures that need an investigation.
        investigate: usize,
        /// Failures whose notes hold from earlier runs or sessions.
        reuse: usize,
        /// Failures left alone.
        left: usize,
    },
    /// An investigation starts.
    Started {
        /// Its position among the investigations planned (from 1).
        position: usize,
        /// Investigations planned.
        of: usize,
        /// The failure.
        title: &'a str,
        /// It continues an interrupted one.
        resumed: bool,
    },
    /// An investigation ended with a note.
    Finished {
        /// The failure.
        title: &'a str,
        /// How far it got.
        depth: Depth,
    },
    /// A problem that does not stop the session.
    Warning(&'a str),
    /// A session of a watch ended.
    SessionDone(&'a Outcome),
}

/// What a session did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The session's commit.
    pub commit: String,
    /// `report.md`.
    pub report: PathBuf,
    /// Notes made in this run.
    pub investigated: usize,
    /// Notes of earlier runs or sessions that still hold.
    pub reused: usize,
    /// Failures worth a look that were not dug into.
    pub not_dug_into: usize,
    /// The model's error, when it could not be reached.
    pub model_error: Option<String>,
    /// The session was stopped before it finished.
    pub stopped: bool,
}

/// Errors that stop a session; each names what failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The result tree could not be read.
    #[error("reading the results: {0}")]
    Results(#[from] ktriage_ci::results::Error),
    /// The result tree has no commits.
    #[error("{}: the results hold no commits", path.display())]
    NoCommits {
        /// The result tree.
        path: PathBuf,
    },
    /// The session's commit is not in the repository.
    #[error("the tested commit {commit} is not in the repository ({source}); fetch it first")]
    Commit {
        /// The commit.
        commit: String,
        /// The index's error.
        source: ktriage_index::Error,
    },
    /// The index could not answer.
    #[error("index: {0}")]
    Index(#[from] ktriage_index::Error),
    /// The memory could not be read or written.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// The report could not be written.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A note could not be written.
    #[error(transparent)]
    Triage(#[from] crate::Error),
}

/// What the session needs from the repository at its commit.
pub(crate) struct World<'a> {
    rev: ktriage_index::Rev,
    commit: String,
    subject: String,
    snapshot: Snapshot<'a>,
    history: History<'a>,
}

/// Runs one session (see the module docs); `_lock` shows the output directory is ours.
pub fn run(
    runtime: &Runtime,
    index: &Index,
    config: &Config<'_>,
    _lock: &SessionLock,
    observer: &dyn Observer,
    stop: &Stop,
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let options = ReadOptions {
        format: config.input_format,
        ..ReadOptions::default()
    };
    let set = read_results_with(config.results, &options)?;
    for warning in &set.warnings {
        observer.event(Event::Warning(warning));
    }
    let newest = set.commits.first().ok_or_else(|| Error::NoCommits {
        path: config.results.to_path_buf(),
    })?;
    let classification = classify(&set);
    let world = world(
        index,
        config,
        &newest.commit,
        newest.message.as_deref(),
        observer.progress(),
    )?;
    let plan = plan::plan(&set, &classification);
    let mut warnings = Vec::new();
    let mut failures = Vec::new();
    let mut left_upstream = Vec::new();
    for candidate in plan.candidates {
        let failure = failure::read_failure(config.results, candidate, &mut warnings);
        match scope::scope(&world.snapshot, &failure.log, config.owned)? {
            scope::Scope::Ours => failures.push(failure),
            scope::Scope::NotOurs(frames) => left_upstream.push(Left {
                title: failure.candidate.title,
                tests: failure.candidate.tests,
                reason: Reason::Upstream { frames },
            }),
        }
    }
    let mut memory = Memory::load(config.out)?;
    let secrets: Vec<String> = config
        .client
        .as_ref()
        .and_then(|client| client.api_key.clone())
        .into_iter()
        .collect();
    let spent_before = memory.spent_ms(&world.commit);
    let mut decisions = Vec::with_capacity(failures.len());
    for failure in &failures {
        decisions.push(revisit::decide(
            &memory,
            &failure.candidate,
            &world,
            config.client.is_some(),
            config.out,
            &mut warnings,
        )?);
    }
    let needed = decisions
        .iter()
        .filter(|decision| matches!(decision, Decision::Investigate(_)))
        .count();
    let planned = needed.min(
        config
            .max_failures
            .saturating_sub(memory.notes_at(&world.commit)),
    );
    observer.event(Event::Planned {
        commit: &world.commit,
        investigate: planned,
        reuse: failures.len() - needed,
        left: plan.left.len() + left_upstream.len(),
    });
    let mut states = Vec::with_capacity(failures.len());
    let (mut investigated, mut model_error) = (0, None);
    for (failure, decision) in failures.iter().zip(decisions) {
        let revisit = match decision {
            Decision::Reuse(record, note) => {
                states.push(State::Noted {
                    dir: record.dir.clone(),
                    revisit: record.revisit.clone(),
                    note,
                    record: Some(record),
                });
                continue;
            }
            Decision::Investigate(revisit) => revisit,
        };
        let spent_ms = spent_before + started.elapsed().as_millis() as u64;
        let dossier = failure::dossier(&world, failure)?;
        if let Some(postponed) = postponement(
            config,
            &memory,
            &world.commit,
            spent_ms,
            stop,
            model_error.as_deref(),
        ) {
            states.push(State::NotDugInto {
                postponed,
                next: failure::next_steps(&dossier),
            });
            continue;
        }
        let dir = failure::note_dir(&failure.candidate, &world.commit);
        observer.event(Event::Started {
            position: investigated + 1,
            of: planned,
            title: &failure.candidate.title,
            resumed: config.out.join(&dir).join("journal.jsonl").is_file(),
        });
        let Some(written) = investigate(
            runtime,
            index,
            &world,
            config,
            failure,
            &config.out.join(&dir),
            stop,
        )?
        else {
            states.push(State::NotDugInto {
                postponed: Postponed::Stopped,
                next: failure::next_steps(&dossier),
            });
            continue;
        };
        investigated += 1;
        let note = failure::load_note(&config.out.join(&dir))
            .unwrap_or_else(|_| Box::new(written.note.clone()));
        observer.event(Event::Finished {
            title: &failure.candidate.title,
            depth: Depth::of(&note),
        });
        let record = match written.model_error {
            Some(error) => {
                model_error = Some(error);
                None
            }
            None => {
                let record = NoteRecord {
                    number: memory.next_number(),
                    key: failure.candidate.key.clone(),
                    title: failure.candidate.title.clone(),
                    dir: dir.clone(),
                    commit: world.commit.clone(),
                    tests: failure.candidate.tests.clone(),
                    suspects: failure::suspects(&dossier, &world.history)?,
                    model: note.run.model.clone(),
                    revisit: revisit.clone(),
                };
                memory.notes.push(record.clone());
                memory.set_spent(
                    &world.commit,
                    spent_before + started.elapsed().as_millis() as u64,
                );
                memory.save(config.out, &secrets)?;
                Some(record)
            }
        };
        states.push(State::Noted {
            note,
            record,
            dir,
            revisit,
        });
    }
    let report = compose::build_report(
        &world,
        &classification,
        &failures,
        &states,
        plan.left,
        left_upstream,
        warnings,
    );
    let path = report::write(&report, config.out, &secrets)?;
    let noted = states
        .iter()
        .filter(|state| matches!(state, State::Noted { .. }))
        .count();
    Ok(Outcome {
        commit: world.commit,
        report: path,
        investigated,
        reused: noted - investigated,
        not_dug_into: states.len() - noted,
        model_error,
        stopped: stop.requested(),
    })
}

/// Why the next investigation may not start: a stop was asked for, the model failed, the
/// session's cap on notes is reached or its wall time (`spent_ms` so far) is spent.
fn postponement(
    config: &Config<'_>,
    memory: &Memory,
    commit: &str,
    spent_ms: u64,
    stop: &Stop,
    model_error: Option<&str>,
) -> Option<Postponed> {
    if stop.requested() {
        Some(Postponed::Stopped)
    } else if let Some(error) = model_error {
        Some(Postponed::ModelUnavailable {
            error: error.to_string(),
        })
    } else if memory.notes_at(commit) >= config.max_failures {
        Some(Postponed::Budget {
            limit: format!(
                "the session's cap of {} notes is reached",
                config.max_failures
            ),
        })
    } else if u128::from(spent_ms) >= config.budget.as_millis() {
        Some(Postponed::Budget {
            limit: format!(
                "the session's {} minutes of wall time are spent",
                config.budget.as_secs() / 60
            ),
        })
    } else {
        None
    }
}

/// Investigates `failure` into `dir` (resuming from a journal there); `None` when a stop was
/// asked for first.
fn investigate(
    runtime: &Runtime,
    index: &Index,
    world: &World<'_>,
    config: &Config<'_>,
    failure: &Failure,
    dir: &Path,
    stop: &Stop,
) -> Result<Option<Written>, Error> {
    let settings = Settings {
        client: config.client.clone(),
        budgets: config.budgets.clone(),
        resume: dir.join("journal.jsonl").is_file(),
    };
    let case = Case {
        log: &failure.log,
        log_path: failure.log_path.as_deref(),
        test: failure
            .candidate
            .exemplar
            .as_ref()
            .map(|exemplar| exemplar.test.as_str()),
    };
    let written = runtime.block_on(async {
        tokio::select! {
            written = crate::triage(index, &world.rev, &case, dir, &settings) => Some(written),
            () = stop.stopped() => None,
        }
    });
    Ok(written.transpose()?)
}

/// The session's commit, indexed (source and history) with `progress`.
fn world<'a>(
    index: &'a Index,
    config: &Config<'_>,
    newest: &str,
    message: Option<&str>,
    progress: &dyn Progress,
) -> Result<World<'a>, Error> {
    // Layouts without commit ids name their single commit `local`.
    let tested = if newest == "local" { config.at } else { newest };
    let rev = index.resolve(tested).map_err(|source| Error::Commit {
        commit: tested.to_string(),
        source,
    })?;
    let commit = rev.commit.to_string();
    let snapshot = index.snapshot(&rev, progress)?;
    let history = index.history(&rev, progress)?;
    let subject = match message {
        Some(message) => message.to_string(),
        None => history.resolve_commit(&commit)?.subject,
    };
    Ok(World {
        rev,
        commit,
        subject,
        snapshot,
        history,
    })
}
