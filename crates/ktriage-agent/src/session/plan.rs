//! The session's plan: which failures of the window are worth an investigation, in which
//! order, and which are left alone and why.
//!
//! Failing tests are taken one signature group at a time (one bug hitting many tests is one
//! candidate); a failing test without a signature is its own group. Regressions come first,
//! the newest first (by their first failing commit), then persistent failures; ties go to
//! the failure that breaks more tests. Flaky groups, fixed ones and
//! tests that only failed for infrastructure reasons are summarised, never investigated.

use ktriage_ci::classify::{Class, Classification, TestClass};
use ktriage_ci::results::ResultSet;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A failure worth investigating: one signature group.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The signature key (or `no signature: <test>`).
    pub key: String,
    /// The signature as shown (or the test's name).
    pub title: String,
    /// The group's class: regression or persistent.
    pub class: Class,
    /// Every test of the group, sorted.
    pub tests: Vec<String>,
    /// Failing runs of those tests over the window.
    pub failures: usize,
    /// For regressions, the first failing commit.
    pub first_bad: Option<String>,
    /// The newest failing run with this signature, whose log the investigation reads.
    pub exemplar: Option<Exemplar>,
}

/// One failing run: the commit and the test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemplar {
    /// The commit the run tested.
    pub commit: String,
    /// The test.
    pub test: String,
}

/// A failure the session does not investigate.
#[derive(Debug, Clone, PartialEq)]
pub struct Left {
    /// The signature as shown (or a summary, for infrastructure failures).
    pub title: String,
    /// The tests concerned, sorted.
    pub tests: Vec<String>,
    /// Why it is left.
    pub reason: Reason,
}

/// Why a failure is not investigated.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// It comes and goes: failures over visible runs, summed over its tests.
    Flaky {
        /// Failing runs.
        failures: usize,
        /// Runs that passed or failed.
        runs: usize,
    },
    /// It was fixed within the window.
    Fixed {
        /// The first passing commit after the failures.
        first_good: Option<String>,
    },
    /// The runs never started their test.
    Infra {
        /// The cause, e.g. `vm_start`.
        cause: String,
        /// The commits it happened on, newest first.
        commits: Vec<String>,
    },
    /// No frame of its stack (nor its guilty file) is in the repository's own code.
    Upstream {
        /// The stack's functions, innermost first.
        frames: Vec<String>,
    },
}

impl Reason {
    /// A short name: `flaky`, `fixed`, `infra` or `upstream`.
    pub fn name(&self) -> &'static str {
        match self {
            Reason::Flaky { .. } => "flaky",
            Reason::Fixed { .. } => "fixed",
            Reason::Infra { .. } => "infra",
            Reason::Upstream { .. } => "upstream",
        }
    }
}

/// Why a failure worth an investigation was not dug into (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Postponed {
    /// The session's cap on notes or its wall-time budget was reached before it came up.
    Budget {
        /// Which limit, in words.
        limit: String,
    },
    /// The model could not be reached, so no further investigation was started.
    ModelUnavailable {
        /// The model's error.
        error: String,
    },
    /// The session was asked to stop (SIGINT or SIGTERM) before it came up.
    Stopped,
}

impl Postponed {
    /// A short name: `budget`, `model` or `stopped`.
    pub fn name(&self) -> &'static str {
        match self {
            Postponed::Budget { .. } => "budget",
            Postponed::ModelUnavailable { .. } => "model",
            Postponed::Stopped => "stopped",
        }
    }

    /// Why, in words.
    pub fn describe(&self) -> String {
        match self {
            Postponed::Budget { limit } => format!("budget ({limit})"),
            Postponed::ModelUnavailable { error } => {
                format!("the model could not be reached ({error})")
            }
            Postponed::Stopped => "the session was stopped".to_string(),
        }
    }
}

/// The plan of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Failures to investigate, most important first.
    pub candidates: Vec<Candidate>,
    /// Failures left alone.
    pub left: Vec<Left>,
}

/// Plans the session over a result window and its classification.
pub fn plan(set: &ResultSet, classification: &Classification) -> Plan {
    let by_name: HashMap<&str, &TestClass> = classification
        .tests
        .iter()
        .map(|test| (test.name.as_str(), test))
        .collect();
    let exemplars = exemplars(set);
    let mut candidates = Vec::new();
    let mut left = Vec::new();
    let groups = classification
        .groups
        .iter()
        .map(|group| {
            (
                group.key.clone(),
                group.signature.clone(),
                group.class,
                group.tests.clone(),
                group.first_bad.clone(),
            )
        })
        .chain(
            classification
                .tests
                .iter()
                .filter(|test| test.signature_key.is_none() && test.failures > 0)
                .map(|test| {
                    (
                        unsigned_key(&test.name),
                        format!("{} (no kernel report)", test.name),
                        test.class,
                        vec![test.name.clone()],
                        test.first_bad.clone(),
                    )
                }),
        );
    for (key, title, class, tests, first_bad) in groups {
        let members: Vec<&TestClass> = tests
            .iter()
            .filter_map(|name| by_name.get(name.as_str()).copied())
            .collect();
        let failures = members.iter().map(|test| test.failures).sum();
        match class {
            Class::Regression | Class::Persistent => {
                let exemplar = exemplars.get(&key).cloned();
                candidates.push(Candidate {
                    key,
                    title,
                    class,
                    tests,
                    failures,
                    first_bad,
                    exemplar,
                });
            }
            Class::Flaky => {
                let runs = members.iter().map(|test| test.visible).sum();
                left.push(Left {
                    title,
                    tests,
                    reason: Reason::Flaky { failures, runs },
                });
            }
            Class::Fixed => {
                let first_good =
                    most_common(members.iter().filter_map(|test| test.first_good.clone()));
                left.push(Left {
                    title,
                    tests,
                    reason: Reason::Fixed { first_good },
                });
            }
            Class::Infra | Class::Pass => {}
        }
    }
    // The newest regressions first (by their first failing commit), then by how many tests
    // a failure breaks.
    let age = |candidate: &Candidate| {
        candidate.first_bad.as_deref().and_then(|first_bad| {
            set.commits
                .iter()
                .position(|commit| commit.commit == first_bad)
        })
    };
    candidates.sort_by(|a, b| {
        rank(a.class)
            .cmp(&rank(b.class))
            .then(
                age(a)
                    .unwrap_or(usize::MAX)
                    .cmp(&age(b).unwrap_or(usize::MAX)),
            )
            .then(b.tests.len().cmp(&a.tests.len()))
            .then(b.failures.cmp(&a.failures))
            .then(a.key.cmp(&b.key))
    });
    left.extend(infra(set, classification));
    Plan { candidates, left }
}

/// The key of a failing test without a signature.
fn unsigned_key(test: &str) -> String {
    format!("no signature: {test}")
}

/// Regressions before persistent failures.
fn rank(class: Class) -> u8 {
    match class {
        Class::Regression => 0,
        _ => 1,
    }
}

/// The newest failing (not infrastructure) run of each signature key.
fn exemplars(set: &ResultSet) -> HashMap<String, Exemplar> {
    let mut found = HashMap::new();
    for commit in &set.commits {
        for run in commit
            .runs
            .iter()
            .filter(|run| run.status.is_failure() && !run.is_infra())
        {
            let key = run.signature().map_or_else(
                || unsigned_key(&run.test),
                |signature| signature.key.clone(),
            );
            found.entry(key).or_insert_with(|| Exemplar {
                commit: commit.commit.clone(),
                test: run.test.clone(),
            });
        }
    }
    found
}

/// One entry per infrastructure cause for the tests that only failed for infrastructure
/// reasons.
fn infra(set: &ResultSet, classification: &Classification) -> Vec<Left> {
    let infra_tests: BTreeSet<&str> = classification
        .tests
        .iter()
        .filter(|test| test.class == Class::Infra)
        .map(|test| test.name.as_str())
        .collect();
    let mut by_cause: BTreeMap<String, (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    for commit in &set.commits {
        for run in commit
            .runs
            .iter()
            .filter(|run| run.is_infra() && infra_tests.contains(run.test.as_str()))
        {
            let cause = run
                .log
                .as_ref()
                .and_then(|log| log.infra)
                .map_or("failed_to_run", |cause| cause.name());
            let (tests, commits) = by_cause.entry(cause.to_string()).or_default();
            tests.insert(run.test.clone());
            if !commits.contains(&commit.commit) {
                commits.push(commit.commit.clone());
            }
        }
    }
    by_cause
        .into_iter()
        .map(|(cause, (tests, commits))| Left {
            title: format!("infrastructure: {cause}"),
            tests: tests.into_iter().collect(),
            reason: Reason::Infra { cause, commits },
        })
        .collect()
}

fn most_common(items: impl Iterator<Item = String>) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(item, _)| item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktriage_ci::results::{LogSummary, Run, Signature, Status};

    fn run(test: &str, status: Status, signature: Option<&str>, reached: bool) -> Run {
        Run {
            test: test.to_string(),
            status,
            duration: None,
            log: Some(LogSummary {
                reached_test: reached,
                infra: None,
                signature: signature.map(|title| Signature {
                    title: title.to_string(),
                    key: format!("{title} at a.c:1"),
                }),
                problem: None,
            }),
        }
    }

    #[test]
    fn regressions_come_first_and_flakes_and_infra_are_left() {
        use ktriage_ci::results::{CommitRuns, InputFormat};
        let pass = |test: &str| Run {
            test: test.to_string(),
            status: Status::Passed,
            duration: None,
            log: None,
        };
        let commit = |id: &str, runs: Vec<Run>| CommitRuns {
            commit: id.to_string(),
            message: None,
            runs,
        };
        // Newest first: `new` regresses in two tests, `old` fails everywhere, `flake` comes
        // and goes, `vm` never starts on one commit.
        let mut commits = Vec::new();
        for age in 0..8 {
            let regressed = age < 4;
            let mut runs = vec![
                if regressed {
                    run("a", Status::Failed, Some("BUG in new"), true)
                } else {
                    pass("a")
                },
                if regressed {
                    run("b", Status::Failed, Some("BUG in new"), true)
                } else {
                    pass("b")
                },
                run("c", Status::Failed, Some("WARNING in old"), true),
                if age % 3 == 1 {
                    run("d", Status::Failed, Some("KASAN in flake"), true)
                } else {
                    pass("d")
                },
                if age == 2 {
                    run("e", Status::Failed, None, false)
                } else {
                    pass("e")
                },
            ];
            runs.sort_by(|x, y| x.test.cmp(&y.test));
            commits.push(commit(&format!("{age:040x}"), runs));
        }
        let set = ResultSet {
            format: InputFormat::Ktestci,
            commits,
            warnings: Vec::new(),
        };
        let classification = ktriage_ci::classify::classify(&set);
        let plan = plan(&set, &classification);
        let titles: Vec<(&str, Class)> = plan
            .candidates
            .iter()
            .map(|c| (c.title.as_str(), c.class))
            .collect();
        assert_eq!(
            titles,
            [
                ("BUG in new", Class::Regression),
                ("WARNING in old", Class::Persistent)
            ]
        );
        assert_eq!(plan.candidates[0].tests, ["a", "b"]);
        assert_eq!(
            plan.candidates[0].exemplar,
            Some(Exemplar {
                commit: format!("{:040x}", 0),
                test: "a".into()
            })
        );
        let left: Vec<(&str, &str)> = plan
            .left
            .iter()
            .map(|l| (l.title.as_str(), l.reason.name()))
            .collect();
        assert_eq!(
            left,
            [
                ("KASAN in flake", "flaky"),
                ("infrastructure: failed_to_run", "infra")
            ]
        );
        assert_eq!(
            plan.left[0].reason,
            Reason::Flaky {
                failures: 3,
                runs: 8
            }
        );
    }
}
