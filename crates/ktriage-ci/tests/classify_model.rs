//! The classifier on hand-built sequences: each class, the ambiguous single failure on the
//! newest commit, signature evidence, groups and the noise band.

use ktriage_ci::classify::{classify, noise_band, Class, Classification, TestClass};
use ktriage_ci::results::{
    CommitRuns, InfraCause, InputFormat, LogSummary, ResultSet, Run, Signature, Status,
};

/// One test's history, oldest first: `.` pass, a letter = failure with signature `WARNING
/// in <letter>`, `?` failure without signature, `i` infra, `-` not run.
fn set(tests: &[(&str, &str)]) -> ResultSet {
    let n = tests.iter().map(|t| t.1.len()).max().unwrap_or(0);
    let commits = (0..n)
        .rev()
        .map(|age| CommitRuns {
            commit: format!("{age:040x}"),
            message: None,
            runs: tests
                .iter()
                .map(|(name, h)| make_run(name, h.as_bytes()[age]))
                .collect(),
        })
        .collect();
    ResultSet {
        format: InputFormat::Ktestci,
        commits,
        warnings: Vec::new(),
    }
}

fn make_run(name: &str, c: u8) -> Run {
    let summary = |signature: Option<Signature>, infra: Option<InfraCause>| LogSummary {
        reached_test: infra.is_none(),
        infra,
        signature,
        problem: None,
    };
    let (status, log) = match c {
        b'.' => (Status::Passed, None),
        b'-' => (Status::NotRun, None),
        b'i' => (
            Status::FailedToRun,
            Some(summary(None, Some(InfraCause::VmStart))),
        ),
        b'?' => (Status::Failed, Some(summary(None, None))),
        letter => {
            let title = format!("WARNING in {}", char::from(letter));
            (
                Status::Failed,
                Some(summary(
                    Some(Signature {
                        key: title.clone(),
                        title,
                    }),
                    None,
                )),
            )
        }
    };
    Run {
        test: name.to_owned(),
        status,
        duration: Some(1),
        log,
    }
}

fn get<'a>(c: &'a Classification, name: &str) -> &'a TestClass {
    c.tests.iter().find(|t| t.name == name).expect("test")
}

/// Commit id of age `age` (oldest = 0), as [`set`] names them.
fn id(age: usize) -> String {
    format!("{age:040x}")
}

#[test]
fn each_class() {
    let c = classify(&set(&[
        ("reg", "......aaaaaa"),
        ("fix", "bbbb........"),
        ("per", "cccccccccccc"),
        ("flk", "..d...d..d.."),
        ("inf", "...i........"),
        ("pas", "............"),
        ("skp", "------------"),
    ]));
    let class = |n| get(&c, n).class;
    assert_eq!(class("reg"), Class::Regression);
    assert_eq!(get(&c, "reg").first_bad, Some(id(6)));
    assert_eq!(get(&c, "reg").last_good, Some(id(5)));
    assert!(!get(&c, "reg").ambiguous);
    assert_eq!(class("fix"), Class::Fixed);
    assert_eq!(get(&c, "fix").first_good, Some(id(4)));
    assert_eq!(class("per"), Class::Persistent);
    assert_eq!(class("flk"), Class::Flaky);
    assert!((get(&c, "flk").fail_rate - 0.25).abs() < 1e-9);
    assert_eq!(class("inf"), Class::Infra);
    assert_eq!(get(&c, "inf").infra_commits, [id(3)]);
    assert_eq!(class("pas"), Class::Pass);
    assert_eq!(class("skp"), Class::Pass);
}

#[test]
fn intermittent_regression_and_infra_at_boundary() {
    let c = classify(&set(&[("reg", ".....a.aaa.a"), ("brd", "....iaaaaaaa")]));
    assert_eq!(get(&c, "reg").class, Class::Regression);
    assert_eq!(get(&c, "reg").first_bad, Some(id(5)));
    assert_eq!(get(&c, "brd").class, Class::Regression);
    assert_eq!(get(&c, "brd").first_bad, Some(id(5)));
    assert_eq!(get(&c, "brd").last_good, Some(id(3)));
}

#[test]
fn infra_on_first_bad_uses_the_other_tests_of_the_bug() {
    let c = classify(&set(&[("one", "......aaaaaa"), ("two", "......iaaaaa")]));
    assert_eq!(get(&c, "two").first_bad, Some(id(6)));
}

#[test]
fn single_failure_on_newest_commit() {
    // A new signature: a regression, but not a clear one.
    let c = classify(&set(&[("new", "...........a")]));
    let t = get(&c, "new");
    assert_eq!(t.class, Class::Regression);
    assert_eq!(t.first_bad, Some(id(11)));
    assert!(t.ambiguous && t.confidence < 0.9, "{t:?}");
    // The same signature failed before in another test: a known flake.
    let c = classify(&set(&[("new", "...........a"), ("old", "..a....a....")]));
    assert_eq!(get(&c, "new").class, Class::Flaky);
}

#[test]
fn failures_of_another_bug_before_the_change_do_not_count() {
    let c = classify(&set(&[("reg", ".b..b...aaaa")]));
    let t = get(&c, "reg");
    assert_eq!(t.class, Class::Regression);
    assert_eq!(t.first_bad, Some(id(8)));
    assert_eq!(t.signature.as_deref(), Some("WARNING in a"));
}

#[test]
fn groups_by_signature() {
    let c = classify(&set(&[
        ("x1", "......aaaaaa"),
        ("x2", "......aaaaaa"),
        ("y1", "..b...b..b.."),
    ]));
    assert_eq!(c.groups.len(), 2);
    assert_eq!(c.groups[0].tests, ["x1", "x2"]);
    assert_eq!(c.groups[0].class, Class::Regression);
    assert_eq!(c.groups[0].first_bad, Some(id(6)));
    assert_eq!(c.groups[1].tests, ["y1"]);
}

#[test]
fn noise_band_of_newest_commit() {
    let c = classify(&set(&[
        ("a", "..a.a......a"),
        ("b", ".b...bb..b.b"),
        ("c", "...........c"),
    ]));
    // Failures per commit, newest first: 3, then the others range over 0..=1.
    assert_eq!(c.noise.newest, 3);
    assert_eq!((c.noise.min, c.noise.max, c.noise.commits), (0, 1, 11));
    assert!(c.noise.outside_band);
    let band = noise_band(&[5, 4, 6, 5], 0);
    assert!(!band.outside_band);
    assert_eq!((band.min, band.max), (4, 6));
}

#[test]
fn empty_set() {
    let c = classify(&ResultSet {
        format: InputFormat::Auto,
        commits: Vec::new(),
        warnings: Vec::new(),
    });
    assert!(c.tests.is_empty() && c.groups.is_empty());
    assert_eq!(c.noise.commits, 0);
}
