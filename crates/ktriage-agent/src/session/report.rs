//! The session report: `report.json` (format [`REPORT_FORMAT`]) and its renderings,
//! `report.md` (template `prompts/report.md.j2`) and `index.html` (see [`super::html`]).
//!
//! A report holds the headline (failures and tests at the newest commit, the noise band of
//! the window and where the commit stands), the failure counts per commit, one section per
//! signature group worth an investigation (a hypothesis, a partial analysis, an
//! evidence-only note, a note seen before, or what to look at next when it was not dug into
//! yet) and what was not looked at and why. It holds no timestamps and no absolute paths:
//! the same session gives the same report, byte for byte.

use super::html;
use super::plan::{Left, Postponed, Reason};
use crate::journal::{redact, write_atomic};
use crate::note::{slug, CitationCounts, Hypothesis, Mode, Note, Verdict};
use crate::render;
use ktriage_ci::classify::{Classification, NoiseBand, Standing};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Version of the `report.json` format.
pub const REPORT_FORMAT: u32 = 1;

/// Lines of a note's log excerpt shown in its section.
const EXCERPT_LINES: usize = 8;

/// A session report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`REPORT_FORMAT`].
    pub format: u32,
    /// The newest commit of the window (full id): the commit the session is about.
    pub commit: String,
    /// Its subject.
    pub subject: String,
    /// Whether a model took part: the AI-assistance statement, or that the report is
    /// evidence-only.
    pub assistance: String,
    /// The headline numbers.
    pub headline: Headline,
    /// Failures per commit, oldest first.
    pub counts: Vec<CommitPoint>,
    /// One section per failure worth an investigation, most important first.
    pub sections: Vec<Section>,
    /// What was not looked at, and why.
    pub not_looking_at: Vec<Skip>,
    /// Problems that did not stop the session.
    pub warnings: Vec<String>,
}

/// Failures and tests at the newest commit, and the noise band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// Failed runs (infrastructure failures left out).
    pub failed: usize,
    /// Infrastructure failures.
    pub infra: usize,
    /// All runs.
    pub total: usize,
    /// The band of the other commits' failure counts.
    pub noise: NoiseBand,
    /// `within band`, `ABOVE band`, `below band` or `no other commits`.
    pub verdict: String,
    /// What that means, in a sentence.
    pub reading: String,
}

/// One commit's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitPoint {
    /// Commit id.
    pub commit: String,
    /// Failed runs (infrastructure failures left out).
    pub failed: usize,
    /// Infrastructure failures.
    pub infra: usize,
    /// All runs.
    pub total: usize,
}

/// How far a failure was looked into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Depth {
    /// A model investigation ended in a hypothesis of medium or high confidence.
    Hypothesis,
    /// A model looked, but its hypothesis is weak or its investigation was cut short.
    Partial,
    /// The evidence engine's note, without a model.
    EvidenceOnly,
    /// A note of an earlier session still holds: nothing in the evidence changed.
    SeenBefore,
    /// Not looked into in this session; what to look at next instead.
    NotDugInto,
}

/// A failure's section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// The HTML anchor of the section.
    pub anchor: String,
    /// The signature as shown.
    pub title: String,
    /// `regression` or `persistent`.
    pub class: String,
    /// Every test the signature hits.
    pub tests: Vec<String>,
    /// For regressions, the first failing commit.
    pub first_bad: Option<String>,
    /// How far it was looked into.
    pub depth: Depth,
    /// Its note, when there is one.
    pub note: Option<NoteLink>,
    /// What the note found.
    pub finding: Option<Finding>,
    /// Why it was investigated again although an earlier note existed.
    pub revisit: Option<String>,
    /// Why it was not dug into, for [`Depth::NotDugInto`].
    pub not_dug_into: Option<String>,
    /// What to look at next (the evidence engine's top functions and commits), when it was
    /// not dug into.
    pub next: Vec<String>,
}

/// A link to a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteLink {
    /// The note's number in the session memory (`None` for a note that is not recorded
    /// because the model failed).
    pub number: Option<u32>,
    /// `note.md`, relative to the report.
    pub link: String,
    /// The commit the note was made at.
    pub commit: String,
}

/// What a note found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub verdict_reason: String,
    /// The note's summary.
    pub summary: String,
    /// How the note was made.
    pub mode: Mode,
    /// The model, when one was used.
    pub model: Option<String>,
    /// The first lines of the failure's report in the log.
    pub excerpt: Vec<String>,
    /// The most likely hypothesis.
    pub hypothesis: Option<Hypothesis>,
    /// Citation counts.
    pub citations: CitationCounts,
}

/// An entry of the "not looking at" list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skip {
    /// The signature, or a summary.
    pub title: String,
    /// The tests concerned.
    pub tests: Vec<String>,
    /// `flaky`, `fixed`, `infra`, `upstream`, `budget`, `model` or `stopped`.
    pub reason: String,
    /// The reason in words.
    pub detail: String,
    /// The anchor of its section, when it has one.
    pub section: Option<String>,
}

impl Depth {
    /// `hypothesis`, `partial`, `evidence-only`, `seen-before` or `not-dug-into`.
    pub fn name(self) -> &'static str {
        match self {
            Depth::Hypothesis => "hypothesis",
            Depth::Partial => "partial",
            Depth::EvidenceOnly => "evidence-only",
            Depth::SeenBefore => "seen-before",
            Depth::NotDugInto => "not-dug-into",
        }
    }

    /// The depth a note reached.
    pub fn of(note: &Note) -> Depth {
        match note.run.mode {
            Mode::EvidenceOnly | Mode::ModelFailed => Depth::EvidenceOnly,
            Mode::ProseFallback => Depth::Partial,
            Mode::Investigation => {
                if note
                    .hypotheses
                    .first()
                    .is_some_and(|h| h.confidence.level >= crate::note::Level::Medium)
                {
                    Depth::Hypothesis
                } else {
                    Depth::Partial
                }
            }
        }
    }
}

impl Finding {
    /// What `note` found.
    pub fn of(note: &Note) -> Finding {
        Finding {
            verdict: note.verdict,
            verdict_reason: note.verdict_reason.clone(),
            summary: note.summary.clone(),
            mode: note.run.mode,
            model: note.run.model.clone(),
            excerpt: note
                .failure
                .log_excerpt
                .iter()
                .take(EXCERPT_LINES)
                .cloned()
                .collect(),
            hypothesis: note.hypotheses.first().cloned(),
            citations: note.citations,
        }
    }
}

impl Headline {
    /// The headline of the newest commit of `classification`.
    pub fn of(classification: &Classification) -> Headline {
        let newest = classification.commits.first();
        let noise = classification.noise;
        let reading = match noise.standing() {
            Standing::Above => {
                "more failures than any other commit of the window: start with the regressions"
            }
            Standing::Below => "fewer failures than any other commit of the window",
            Standing::Within => {
                "not a clear regression at this commit, just noise on top of existing bugs"
            }
            Standing::Alone => "the window has no other commit to compare with",
        };
        Headline {
            failed: newest.map_or(0, |commit| commit.failed),
            infra: newest.map_or(0, |commit| commit.infra),
            total: newest.map_or(0, |commit| commit.total),
            noise,
            verdict: noise.standing().name().to_string(),
            reading: reading.to_string(),
        }
    }
}

/// The counts of `classification`'s commits, oldest first.
pub fn counts(classification: &Classification) -> Vec<CommitPoint> {
    classification
        .commits
        .iter()
        .rev()
        .map(|commit| CommitPoint {
            commit: commit.commit.clone(),
            failed: commit.failed,
            infra: commit.infra,
            total: commit.total,
        })
        .collect()
}

/// The assistance statement for a report whose notes were made by `models` (none: the
/// report is evidence-only).
pub fn assistance(models: &BTreeSet<String>, commit: &str) -> String {
    let short: String = commit.chars().take(12).collect();
    if models.is_empty() {
        return format!(
            "Evidence-only: no model was used. The notes are ktriage's evidence engine's ranking of the code and commits behind each failure, every citation checked against the repository at {short}."
        );
    }
    let names: Vec<String> = models.iter().map(|model| format!("`{model}`")).collect();
    format!(
        "AI-assisted: the investigations were drafted by the model {} through ktriage. Every citation in the notes was checked against the repository and the failing log; those that could not be verified are flagged. Review before acting.",
        names.join(", ")
    )
}

/// The "not looking at" entry of a failure left alone.
pub fn skip(left: &Left) -> Skip {
    let short = |id: &str| id.chars().take(12).collect::<String>();
    let detail = match &left.reason {
        Reason::Flaky { failures, runs } => {
            let percent = if *runs == 0 {
                0
            } else {
                (failures * 100 + runs / 2) / runs
            };
            format!("flaky: fails {percent}% of runs ({failures}/{runs}) with no change point")
        }
        Reason::Fixed { first_good } => match first_good {
            Some(commit) => format!("fixed: passes since `{}`", short(commit)),
            None => "fixed within the window".to_string(),
        },
        Reason::Infra { cause, commits } => format!(
            "infrastructure ({cause}): the runs never started their test, on {}",
            commits
                .iter()
                .map(|commit| format!("`{}`", short(commit)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Reason::Upstream { frames } => format!(
            "upstream, not ours: no stack frame is in the repository's code ({})",
            frames
                .iter()
                .map(|frame| format!("`{frame}`"))
                .collect::<Vec<_>>()
                .join(" < ")
        ),
    };
    Skip {
        title: left.title.clone(),
        tests: left.tests.clone(),
        reason: left.reason.name().to_string(),
        detail,
        section: None,
    }
}

/// The "not looking at" entry of a failure not dug into, pointing at its section.
pub fn postponed(section: &Section, postponed: &Postponed) -> Skip {
    Skip {
        title: section.title.clone(),
        tests: section.tests.clone(),
        reason: postponed.name().to_string(),
        detail: format!("not dug into yet: {}", postponed.describe()),
        section: Some(section.anchor.clone()),
    }
}

/// Anchors for section titles: their slugs, made unique.
pub fn anchors<'a>(titles: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    titles
        .into_iter()
        .map(|title| {
            let base = match slug(title) {
                slug if slug.is_empty() => "failure".to_string(),
                slug => slug,
            };
            let mut anchor = base.clone();
            let mut n = 1;
            while !seen.insert(anchor.clone()) {
                n += 1;
                anchor = format!("{base}-{n}");
            }
            anchor
        })
        .collect()
}

/// Errors writing a report; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A template failed.
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// A file could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Writes `report.md`, `report.json` and `index.html` into `out`, each atomically, with
/// `secrets` redacted; returns the path of `report.md`.
pub fn write(report: &Report, out: &Path, secrets: &[String]) -> Result<PathBuf, ReportError> {
    let json = serde_json::to_string_pretty(report).unwrap_or_default() + "\n";
    let markdown = render::render("report.md.j2", report)?;
    let page = html::render(report)?;
    for (name, content) in [
        ("report.json", json),
        ("report.md", markdown),
        ("index.html", page),
    ] {
        let path = out.join(name);
        write_atomic(&path, redact(&content, secrets).as_bytes())
            .map_err(|source| ReportError::Write { path, source })?;
    }
    Ok(out.join("report.md"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_unique_slugs() {
        assert_eq!(
            anchors(["WARNING in f", "WARNING in f", "!!"]),
            ["warning-in-f", "warning-in-f-2", "failure"]
        );
    }

    #[test]
    fn skips_say_why() {
        let left = |reason| Left {
            title: "t".into(),
            tests: vec!["a".into()],
            reason,
        };
        assert_eq!(
            skip(&left(Reason::Flaky {
                failures: 3,
                runs: 10
            }))
            .detail,
            "flaky: fails 30% of runs (3/10) with no change point"
        );
        let upstream = skip(&left(Reason::Upstream {
            frames: vec!["f".into(), "g".into()],
        }));
        assert_eq!(upstream.reason, "upstream");
        assert!(upstream.detail.contains("`f` < `g`"), "{}", upstream.detail);
    }
}
