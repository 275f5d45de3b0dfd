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

pub mod html;
pub mod lock;
pub mod memory;
pub mod plan;
pub mod report;
pub mod scope;
pub mod stop;
pub mod watch;

use crate::client::ClientConfig;
use crate::investigate::Budgets;
use crate::note::{slug, Mode, Note};
use crate::tools::short;
use crate::{evidence, Case, Runtime, Settings};
use ktriage_ci::classify::classify;
use ktriage_ci::results::{find_log, read_log, read_results_with, InputFormat, ReadOptions};
use ktriage_index::{History, Index, Progress, Snapshot};
use ktriage_locate::Dossier;
use lock::SessionLock;
use memory::{Memory, MemoryError, NoteRecord, Suspect};
use plan::{Candidate, Left, Postponed, Reason};
use report::{Depth, Finding, NoteLink, Report, ReportError, Section};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use stop::Stop;

/// The directory of the notes, under the output directory.
pub const NOTES_DIR: &str = "notes";

/// Functions of the evidence engine recorded as a note's suspects.
const SUSPECTS: usize = 3;

/// Commits of the evidence engine shown as next steps.
const NEXT_COMMITS: usize = 2;

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

/// A failure worth a look, with its log.
struct Failure {
    candidate: Candidate,
    /// The exemplar's log (its signature's title when no log was found).
    log: String,
    log_path: Option<String>,
}

/// What became of a failure worth a look.
enum State {
    /// It has a note: made now, earlier in the session, or in an earlier session.
    Noted { note: Box<Note>, record: Option<NoteRecord>, revisit: Option<String> },
    /// It was not dug into.
    NotDugInto { postponed: Postponed, next: Vec<String> },
}

/// What the session needs from the repository at its commit.
struct World<'a> {
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
    let options = ReadOptions { format: config.input_format, ..ReadOptions::default() };
    let set = read_results_with(config.results, &options)?;
    for warning in &set.warnings {
        observer.event(Event::Warning(warning));
    }
    let newest = set.commits.first().ok_or_else(|| Error::NoCommits { path: config.results.to_path_buf() })?;
    let classification = classify(&set);
    let world = world(index, config, &newest.commit, newest.message.as_deref(), observer.progress())?;
    let plan = plan::plan(&set, &classification);
    let mut warnings = Vec::new();
    let mut failures = Vec::new();
    let mut left_upstream = Vec::new();
    for candidate in plan.candidates {
        let failure = read_failure(config.results, candidate, &mut warnings);
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
    let secrets: Vec<String> = config.client.as_ref().and_then(|client| client.api_key.clone()).into_iter().collect();
    let spent_before = memory.spent_ms(&world.commit);
    let mut decisions = Vec::with_capacity(failures.len());
    for failure in &failures {
        decisions.push(decide(&memory, &failure.candidate, &world, config.client.is_some(), config.out, &mut warnings)?);
    }
    let planned = decisions.iter().filter(|decision| matches!(decision, Decision::Investigate(_))).count();
    observer.event(Event::Planned {
        commit: &world.commit,
        investigate: planned,
        reuse: failures.len() - planned,
        left: plan.left.len() + left_upstream.len(),
    });
    let mut states = Vec::with_capacity(failures.len());
    let (mut investigated, mut position) = (0, 0);
    let mut model_error: Option<String> = None;
    for (failure, decision) in failures.iter().zip(decisions) {
        let revisit = match decision {
            Decision::Reuse(record, note) => {
                states.push(State::Noted { revisit: record.revisit.clone(), note, record: Some(record) });
                continue;
            }
            Decision::Investigate(revisit) => revisit,
        };
        let spent = spent_before + started.elapsed().as_millis() as u64;
        let postponed = if stop.requested() {
            Some(Postponed::Stopped)
        } else if let Some(error) = &model_error {
            Some(Postponed::ModelUnavailable { error: error.clone() })
        } else if memory.notes_at(&world.commit) >= config.max_failures {
            Some(Postponed::Budget { limit: format!("the session's cap of {} notes is reached", config.max_failures) })
        } else if spent >= config.budget.as_millis() as u64 {
            Some(Postponed::Budget { limit: format!("the session's {} minutes of wall time are spent", config.budget.as_secs() / 60) })
        } else {
            None
        };
        let dossier = dossier(&world, failure)?;
        if let Some(postponed) = postponed {
            states.push(State::NotDugInto { postponed, next: next_steps(&dossier) });
            continue;
        }
        position += 1;
        let dir_name = note_dir(&failure.candidate, &world.commit);
        let dir = config.out.join(&dir_name);
        let resume = dir.join("journal.jsonl").is_file();
        observer.event(Event::Started { position, of: planned, title: &failure.candidate.title, resumed: resume });
        let settings = Settings { client: config.client.clone(), budgets: config.budgets.clone(), resume };
        let case = Case {
            log: &failure.log,
            log_path: failure.log_path.as_deref(),
            test: failure.candidate.exemplar.as_ref().map(|exemplar| exemplar.test.as_str()),
        };
        let written = runtime.block_on(async {
            tokio::select! {
                written = crate::triage(index, &world.rev, &case, &dir, &settings) => Some(written),
                () = stop.stopped() => None,
            }
        });
        let Some(written) = written else {
            states.push(State::NotDugInto { postponed: Postponed::Stopped, next: next_steps(&dossier) });
            continue;
        };
        let written = written?;
        investigated += 1;
        let note = load_note(&dir).unwrap_or_else(|_| Box::new(written.note.clone()));
        observer.event(Event::Finished { title: &failure.candidate.title, depth: Depth::of(&note) });
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
                    dir: dir_name,
                    commit: world.commit.clone(),
                    tests: failure.candidate.tests.clone(),
                    suspects: suspects(&dossier, &world.history)?,
                    model: note.run.model.clone(),
                    revisit: revisit.clone(),
                };
                memory.notes.push(record.clone());
                memory.set_spent(&world.commit, spent_before + started.elapsed().as_millis() as u64);
                memory.save(config.out, &secrets)?;
                Some(record)
            }
        };
        states.push(State::Noted { note, record, revisit });
    }
    let report = build_report(&world, &classification, &failures, &states, plan.left, left_upstream, warnings);
    let path = report::write(&report, config.out, &secrets)?;
    Ok(Outcome {
        commit: world.commit,
        report: path,
        investigated,
        reused: states.iter().filter(|state| matches!(state, State::Noted { .. })).count() - investigated,
        not_dug_into: states.iter().filter(|state| matches!(state, State::NotDugInto { .. })).count(),
        model_error,
        stopped: stop.requested(),
    })
}

/// The session's commit, indexed (source and history) with `progress`.
fn world<'a>(index: &'a Index, config: &Config<'_>, newest: &str, message: Option<&str>, progress: &dyn Progress) -> Result<World<'a>, Error> {
    // Layouts without commit ids name their single commit `local`.
    let tested = if newest == "local" { config.at } else { newest };
    let rev = index.resolve(tested).map_err(|source| Error::Commit { commit: tested.to_string(), source })?;
    let commit = rev.commit.to_string();
    let snapshot = index.snapshot(&rev, progress)?;
    let history = index.history(&rev, progress)?;
    let subject = match message {
        Some(message) => message.to_string(),
        None => history.resolve_commit(&commit)?.subject,
    };
    Ok(World { rev, commit, subject, snapshot, history })
}

/// Reads the log of `candidate`'s exemplar; without one, its title stands in (and a warning
/// says so).
fn read_failure(results: &Path, candidate: Candidate, warnings: &mut Vec<String>) -> Failure {
    let found = candidate.exemplar.as_ref().and_then(|exemplar| find_log(results, &exemplar.commit, &exemplar.test));
    let test = candidate.exemplar.as_ref().map_or(candidate.title.as_str(), |exemplar| exemplar.test.as_str());
    let read = match &found {
        Some(path) => read_log(path).map_err(|err| err.to_string()),
        None => Err(format!("{test}: no log found")),
    };
    match read {
        Ok((log, problem)) => {
            warnings.extend(problem);
            let log_path = found.map(|path| path.to_string_lossy().into_owned());
            Failure { candidate, log, log_path }
        }
        Err(message) => {
            warnings.push(format!("{message}; `{}` is looked at from its signature only", candidate.title));
            Failure { log: candidate.title.clone(), candidate, log_path: None }
        }
    }
}

/// Whether a failure needs an investigation.
enum Decision {
    /// Its recorded note holds.
    Reuse(NoteRecord, Box<Note>),
    /// It needs one; why again, when it had a note.
    Investigate(Option<String>),
}

/// Decides whether `candidate`'s newest note still holds.
fn decide(
    memory: &Memory,
    candidate: &Candidate,
    world: &World<'_>,
    has_model: bool,
    out: &Path,
    warnings: &mut Vec<String>,
) -> Result<Decision, Error> {
    let Some(record) = memory.latest(&candidate.key) else {
        return Ok(Decision::Investigate(None));
    };
    let number = record.number;
    let why = if has_model && record.model.is_none() {
        Some(format!("note {number} was evidence-only and a model is configured now"))
    } else if let Some(test) = candidate.tests.iter().find(|test| !record.tests.contains(test)) {
        Some(format!("`{test}` fails with it too since note {number}"))
    } else if record.commit != world.commit {
        changed_suspect(record, &world.history)?
    } else {
        None
    };
    if let Some(why) = why {
        return Ok(Decision::Investigate(Some(why)));
    }
    match load_note(&out.join(&record.dir)) {
        Ok(note) => Ok(Decision::Reuse(record.clone(), note)),
        Err(problem) => {
            warnings.push(format!("note {number}: {problem}; investigating `{}` again", candidate.title));
            Ok(Decision::Investigate(Some(format!("note {number} could not be read"))))
        }
    }
}

/// Why a note's suspects changed since it was made: the first suspect function whose newest
/// change is not the one recorded.
fn changed_suspect(record: &NoteRecord, history: &History<'_>) -> Result<Option<String>, Error> {
    for suspect in &record.suspects {
        let newest = history.function_history(&suspect.name, None)?.into_iter().next();
        if newest.as_ref().map(|event| &event.id) != suspect.last_change.as_ref() {
            let by = match &newest {
                Some(event) => format!("commit `{}` (\"{}\")", short(&event.id), event.subject),
                None => "a commit".to_string(),
            };
            return Ok(Some(format!("{by} changed `{}` since note {}", suspect.name, record.number)));
        }
    }
    Ok(None)
}

/// The evidence engine's dossier of a failure at the session's commit.
fn dossier(world: &World<'_>, failure: &Failure) -> Result<Dossier, Error> {
    let test = failure.candidate.exemplar.as_ref().map(|exemplar| exemplar.test.as_str());
    let text = evidence::read_failure(&failure.log, failure.log_path.as_deref(), test, &world.commit, &world.subject);
    let options = ktriage_locate::Options::with_limit(5);
    Ok(ktriage_locate::locate(&world.snapshot, Some(&world.history), &text.report_text, &options)?)
}

/// The top functions of `dossier` with the newest commit that changed each.
fn suspects(dossier: &Dossier, history: &History<'_>) -> Result<Vec<Suspect>, Error> {
    let mut suspects = Vec::new();
    for function in dossier.functions.iter().take(SUSPECTS) {
        let last_change = history.function_history(&function.name, None)?.into_iter().next().map(|event| event.id);
        suspects.push(Suspect { name: function.name.clone(), path: function.path.clone(), last_change });
    }
    Ok(suspects)
}

/// What to look at next, from the evidence engine: its top functions and commits.
fn next_steps(dossier: &Dossier) -> Vec<String> {
    let functions = dossier
        .functions
        .iter()
        .take(SUSPECTS)
        .map(|function| format!("`{}` ({}:{}): {}", function.name, function.path, function.line, function.why.join("; ")));
    let commits = dossier
        .commits
        .iter()
        .take(NEXT_COMMITS)
        .map(|commit| format!("commit `{}` (\"{}\"): {}", short(&commit.id), commit.subject, commit.why.join("; ")));
    functions.chain(commits).collect()
}

/// The directory of a failure's note at `commit`, relative to the output directory: its
/// title's slug and a hash of its signature key and the commit.
fn note_dir(candidate: &Candidate, commit: &str) -> String {
    let hash = format!("{}\u{0}{commit}", candidate.key)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    format!("{NOTES_DIR}/{}-{:08x}", slug(&candidate.title), hash as u32)
}

/// Reads `note.json` from a note's directory.
fn load_note(dir: &Path) -> Result<Box<Note>, String> {
    let path = dir.join("note.json");
    let text = std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    serde_json::from_str(&text).map(Box::new).map_err(|err| format!("{}: not a note: {err}", path.display()))
}

/// The report of a session.
fn build_report(
    world: &World<'_>,
    classification: &ktriage_ci::classify::Classification,
    failures: &[Failure],
    states: &[State],
    left: Vec<Left>,
    left_upstream: Vec<Left>,
    warnings: Vec<String>,
) -> Report {
    let anchors = report::anchors(failures.iter().map(|failure| failure.candidate.title.as_str()));
    let mut sections = Vec::with_capacity(failures.len());
    let mut not_dug = Vec::new();
    let mut models = BTreeSet::new();
    for ((failure, state), anchor) in failures.iter().zip(states).zip(anchors) {
        let candidate = &failure.candidate;
        let mut section = Section {
            anchor: anchor.clone(),
            title: candidate.title.clone(),
            class: candidate.class.name().to_string(),
            tests: candidate.tests.clone(),
            first_bad: candidate.first_bad.clone(),
            depth: Depth::NotDugInto,
            note: None,
            finding: None,
            revisit: None,
            not_dug_into: None,
            next: Vec::new(),
        };
        match state {
            State::Noted { note, record, revisit } => {
                if matches!(note.run.mode, Mode::Investigation | Mode::ProseFallback) {
                    models.extend(note.run.model.clone());
                }
                let seen_before = record.as_ref().is_some_and(|record| record.commit != world.commit);
                section.depth = if seen_before { Depth::SeenBefore } else { Depth::of(note) };
                section.note = Some(NoteLink {
                    number: record.as_ref().map(|record| record.number),
                    link: format!("{}/note.md", record.as_ref().map_or_else(|| note_dir(candidate, &world.commit), |record| record.dir.clone())),
                    commit: record.as_ref().map_or_else(|| world.commit.clone(), |record| record.commit.clone()),
                });
                section.finding = Some(Finding::of(note));
                section.revisit.clone_from(revisit);
            }
            State::NotDugInto { postponed, next } => {
                section.not_dug_into = Some(postponed.describe());
                section.next.clone_from(next);
                not_dug.push(report::postponed(&section, postponed));
            }
        }
        sections.push(section);
    }
    let not_looking_at = not_dug.into_iter().chain(left_upstream.iter().chain(&left).map(report::skip)).collect();
    Report {
        format: report::REPORT_FORMAT,
        commit: world.commit.clone(),
        subject: world.subject.clone(),
        assistance: report::assistance(&models, &world.commit),
        headline: report::Headline::of(classification),
        counts: report::counts(classification),
        sections,
        not_looking_at,
        warnings,
    }
}
