//! Whether a failure's newest note still holds: the same tests, no new commit changing its
//! suspect functions, and not an evidence-only note when a model is configured now.

use super::failure::load_note;
use super::memory::{Memory, NoteRecord};
use super::plan::Candidate;
use super::{Error, World};
use crate::note::Note;
use crate::tools::short;
use ktriage_index::History;
use std::path::Path;

/// Whether a failure needs an investigation.
pub(super) enum Decision {
    /// Its recorded note holds.
    Reuse(NoteRecord, Box<Note>),
    /// It needs one; why again, when it had a note.
    Investigate(Option<String>),
}

/// Decides whether `candidate`'s newest note still holds.
pub(super) fn decide(
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
        Some(format!(
            "note {number} was evidence-only and a model is configured now"
        ))
    } else if let Some(test) = candidate
        .tests
        .iter()
        .find(|test| !record.tests.contains(test))
    {
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
            warnings.push(format!(
                "note {number}: {problem}; investigating `{}` again",
                candidate.title
            ));
            Ok(Decision::Investigate(Some(format!(
                "note {number} could not be read"
            ))))
        }
    }
}

/// Why a note's suspects changed since it was made: the first suspect function whose newest
/// change is not the one recorded.
fn changed_suspect(record: &NoteRecord, history: &History<'_>) -> Result<Option<String>, Error> {
    for suspect in &record.suspects {
        let newest = history
            .function_changes(&suspect.name, None)?
            .into_iter()
            .next();
        if newest.as_ref().map(|event| &event.id) != suspect.last_change.as_ref() {
            let by = match &newest {
                Some(event) => format!("commit `{}` (\"{}\")", short(&event.id), event.subject),
                None => "a commit".to_string(),
            };
            return Ok(Some(format!(
                "{by} changed `{}` since note {}",
                suspect.name, record.number
            )));
        }
    }
    Ok(None)
}
