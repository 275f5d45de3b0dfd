//! A failure worth a look: its exemplar's log, the evidence engine's dossier of it at the
//! session's commit, the suspect functions a note is remembered by, what to look at next,
//! and where its note goes.

use super::memory::Suspect;
use super::plan::Candidate;
use super::{Error, World, NOTES_DIR};
use crate::evidence;
use crate::note::{slug, Note};
use crate::tools::short;
use ktriage_ci::results::{find_log, read_log};
use ktriage_index::History;
use ktriage_locate::Dossier;
use std::path::Path;

/// Functions of the evidence engine recorded as a note's suspects (and shown as next steps).
const SUSPECTS: usize = 3;

/// Least score of a suspect function, as a share of the best one's.
const SUSPECT_SHARE: f64 = 0.25;

/// Commits of the evidence engine shown as next steps.
const NEXT_COMMITS: usize = 2;

/// A failure worth a look, with its log.
pub(super) struct Failure {
    /// The failure.
    pub(super) candidate: Candidate,
    /// The exemplar's log (its signature's title when no log was found).
    pub(super) log: String,
    /// Where the log was read from.
    pub(super) log_path: Option<String>,
}

/// Reads the log of `candidate`'s exemplar; without one, its title stands in (and a warning
/// says so).
pub(super) fn read_failure(
    results: &Path,
    candidate: Candidate,
    warnings: &mut Vec<String>,
) -> Failure {
    let found = candidate
        .exemplar
        .as_ref()
        .and_then(|exemplar| find_log(results, &exemplar.commit, &exemplar.test));
    let test = candidate
        .exemplar
        .as_ref()
        .map_or(candidate.title.as_str(), |exemplar| exemplar.test.as_str());
    let read = match &found {
        Some(path) => read_log(path).map_err(|err| err.to_string()),
        None => Err(format!("{test}: no log found")),
    };
    match read {
        Ok((log, problem)) => {
            warnings.extend(problem);
            let log_path = found.map(|path| path.to_string_lossy().into_owned());
            Failure {
                candidate,
                log,
                log_path,
            }
        }
        Err(message) => {
            warnings.push(format!(
                "{message}; `{}` is looked at from its signature only",
                candidate.title
            ));
            Failure {
                log: candidate.title.clone(),
                candidate,
                log_path: None,
            }
        }
    }
}

/// The evidence engine's dossier of a failure at the session's commit.
pub(super) fn dossier(world: &World<'_>, failure: &Failure) -> Result<Dossier, Error> {
    let test = failure
        .candidate
        .exemplar
        .as_ref()
        .map(|exemplar| exemplar.test.as_str());
    let text = evidence::read_failure(
        &failure.log,
        failure.log_path.as_deref(),
        test,
        &world.commit,
        &world.subject,
    );
    let options = ktriage_locate::Options::with_limit(5);
    Ok(ktriage_locate::locate(
        &world.snapshot,
        Some(&world.history),
        &text.report_text,
        &options,
    )?)
}

/// The top functions of `dossier` (those scoring at least [`SUSPECT_SHARE`] of the best
/// one: the tail of weak word matches is noise) with the newest commit that changed each.
pub(super) fn suspects(dossier: &Dossier, history: &History<'_>) -> Result<Vec<Suspect>, Error> {
    let best = dossier
        .functions
        .first()
        .map_or(0.0, |function| function.score);
    let mut suspects = Vec::new();
    for function in dossier
        .functions
        .iter()
        .take(SUSPECTS)
        .filter(|function| function.score >= best * SUSPECT_SHARE)
    {
        let last_change = history
            .function_changes(&function.name, None)?
            .into_iter()
            .next()
            .map(|event| event.id);
        suspects.push(Suspect {
            name: function.name.clone(),
            path: function.path.clone(),
            last_change,
        });
    }
    Ok(suspects)
}

/// What to look at next, from the evidence engine: its top functions and commits.
pub(super) fn next_steps(dossier: &Dossier) -> Vec<String> {
    let functions = dossier.functions.iter().take(SUSPECTS).map(|function| {
        format!(
            "`{}` ({}:{}): {}",
            function.name,
            function.path,
            function.line,
            function.why.join("; ")
        )
    });
    let commits = dossier.commits.iter().take(NEXT_COMMITS).map(|commit| {
        format!(
            "commit `{}` (\"{}\"): {}",
            short(&commit.id),
            commit.subject,
            commit.why.join("; ")
        )
    });
    functions.chain(commits).collect()
}

/// The directory of a failure's note at `commit`, relative to the output directory: its
/// title's slug and a hash of its signature key and the commit.
pub(super) fn note_dir(candidate: &Candidate, commit: &str) -> String {
    let hash = format!("{}\u{0}{commit}", candidate.key)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{NOTES_DIR}/{}-{:08x}", slug(&candidate.title), hash as u32)
}

/// Reads `note.json` from a note's directory.
pub(super) fn load_note(dir: &Path) -> Result<Box<Note>, String> {
    let path = dir.join("note.json");
    let text =
        std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    serde_json::from_str(&text)
        .map(Box::new)
        .map_err(|err| format!("{}: not a note: {err}", path.display()))
}
