//! The session report from what became of each failure worth a look and what was left.

use super::failure::Failure;
use super::memory::NoteRecord;
use super::plan::{Left, Postponed};
use super::report::{self, Depth, Finding, NoteLink, Report, Section};
use super::World;
use crate::note::{Mode, Note};
use ktriage_ci::classify::Classification;
use std::collections::BTreeSet;

/// What became of a failure worth a look.
pub(super) enum State {
    /// It has a note: made now, earlier in the session, or in an earlier session.
    Noted {
        /// The note.
        note: Box<Note>,
        /// Its record in the memory (`None` when the model failed: it is made again).
        record: Option<NoteRecord>,
        /// Its directory, relative to the output directory.
        dir: String,
        /// Why it was made again although an earlier note existed.
        revisit: Option<String>,
    },
    /// It was not dug into.
    NotDugInto {
        /// Why not.
        postponed: Postponed,
        /// What to look at next.
        next: Vec<String>,
    },
}

/// The report of a session.
pub(super) fn build_report(
    world: &World<'_>,
    classification: &Classification,
    failures: &[Failure],
    states: &[State],
    left: Vec<Left>,
    left_upstream: Vec<Left>,
    warnings: Vec<String>,
) -> Report {
    let anchors = report::anchors(
        failures
            .iter()
            .map(|failure| failure.candidate.title.as_str()),
    );
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
            State::Noted {
                note,
                record,
                dir,
                revisit,
            } => {
                if matches!(note.run.mode, Mode::Investigation | Mode::ProseFallback) {
                    models.extend(note.run.model.clone());
                }
                let seen_before = record
                    .as_ref()
                    .is_some_and(|record| record.commit != world.commit);
                section.depth = if seen_before {
                    Depth::SeenBefore
                } else {
                    Depth::of(note)
                };
                section.note = Some(NoteLink {
                    number: record.as_ref().map(|record| record.number),
                    link: format!("{dir}/note.md"),
                    commit: record
                        .as_ref()
                        .map_or_else(|| world.commit.clone(), |record| record.commit.clone()),
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
    let not_looking_at = not_dug
        .into_iter()
        .chain(left_upstream.iter().chain(&left).map(report::skip))
        .collect();
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
