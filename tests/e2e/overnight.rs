//! `ktriage overnight` end to end, over a generated result window whose commits are the
//! example repository's and whose stacks name its functions: the report against the
//! generator's truth, a second run that investigates nothing, a killed session resumed to
//! the same report, the lock, the API key never written, a run without a model, the
//! well-formed chart, and `--watch` stopped by SIGTERM.

use crate::fake_server::{message, tool_calls, FakeServer, Reply};
use crate::support::{command, example_repo, run, API_KEY};
use ktriage_ci::classify::Class;
use ktriage_ci::sim::{generate_with_sites, write_tree, Sim, SimParams, Site};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The example's first-parent commits, newest first: the window of the generated results.
const WINDOW: [&str; 8] = [
    "10-fix-inode-leak",
    "09-fix-discard",
    "08-merge-util",
    "06-inode-whitespace",
    "05-discard-panic",
    "04-move-discard",
    "03-rename-btree",
    "02-add-inode",
];

/// A function of the block layer, not in the example: failures raised there are upstream.
const UPSTREAM: &str = "blk_mq_dispatch_rq_list";

/// Where the generated bugs are raised: the example's functions, and one upstream.
const SITES: &[Site] = &[
    Site {
        function: "minifs_discard_one_bucket",
        file: "discard.c",
        callers: &["minifs_discard_work"],
    },
    Site {
        function: "minifs_bucket_alloc",
        file: "alloc.c",
        callers: &["minifs_inode_create"],
    },
    Site {
        function: "minifs_inode_create",
        file: "inode.c",
        callers: &[],
    },
    Site {
        function: "minifs_btree_lookup",
        file: "btree_iter.c",
        callers: &["minifs_fs_start"],
    },
    Site {
        function: "minifs_fs_start",
        file: "super.c",
        callers: &[],
    },
    Site {
        function: UPSTREAM,
        file: "blk-mq.c",
        callers: &["__blk_mq_sched_dispatch_requests", "blk_mq_run_work_fn"],
    },
];

/// Notes per session in these tests: fewer than the failures worth a look.
const MAX_FAILURES: &str = "3";

/// A repository, a generated window over it, and the generator's answer key.
struct Fixture {
    dir: tempfile::TempDir,
    sim: Sim,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let built = example_repo(dir.path());
        let ids: Vec<String> = WINDOW
            .iter()
            .map(|step| built.id(step).expect("the step exists").to_string())
            .collect();
        // Seed 1: the classifier agrees with the truth on every test, and two regressions
        // are upstream.
        let mut sim = generate_with_sites(
            SimParams {
                seed: 1,
                commits: WINDOW.len(),
                tests: 40,
                hard: true,
                inprogress: 0,
            },
            SITES,
        );
        sim.relabel_commits(&ids);
        write_tree(&sim, &dir.path().join("results"), false).expect("the tree is written");
        Fixture { dir, sim }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn args<'a>(&self, out: &'a str) -> Vec<&'a str> {
        vec![
            "overnight",
            "--repo",
            "repo",
            "--results",
            "results",
            "--out",
            out,
            "--max-failures",
            MAX_FAILURES,
            "--timeout",
            "60",
            "-q",
        ]
    }

    /// Runs a session into `out` to its end.
    fn session(&self, out: &str, server: Option<&FakeServer>) -> (i32, String, String) {
        run(&mut command(self.dir.path(), &self.args(out), server))
    }

    /// Starts a session into `out` in the background.
    fn spawn(&self, out: &str, server: &FakeServer) -> Child {
        command(self.dir.path(), &self.args(out), Some(server))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn")
    }

    fn report(&self, out: &str) -> Value {
        let text = read(&self.path(out).join("report.json"));
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("report.json: {err}"))
    }

    /// Titles of the generator's bugs whose tests are all of `class`.
    fn bugs(&self, class: Class) -> BTreeSet<(String, String)> {
        let truth = &self.sim.truth;
        truth
            .bugs
            .iter()
            .enumerate()
            .filter(|(idx, _)| {
                let tests: Vec<_> = truth
                    .tests
                    .values()
                    .filter(|test| test.bug == Some(*idx))
                    .collect();
                !tests.is_empty() && tests.iter().all(|test| test.class == class)
            })
            .map(|(_, bug)| (bug.title.clone(), bug.stack[0].clone()))
            .collect()
    }
}

/// One investigation: a tool call, then the note.
fn investigation() -> [Reply; 2] {
    let note = r#"{"verdict": "likely-regression", "verdict_reason": "the failure starts with the change under test",
        "summary": "The failing path runs through minifs_discard_one_bucket.",
        "hypotheses": [{"title": "a dirty bucket reaches the discard path", "confidence": {"level": "medium", "reason": "the stack and the code agree"},
            "mechanism": ["the discard worker picks a bucket", "the bucket is dirty"],
            "evidence": [{"kind": "code", "path": "fs/minifs/discard.c", "line": 14, "quote": "int minifs_discard_one_bucket(struct minifs_fs *c, struct minifs_bucket *b)", "why": "the function in the stack"}],
            "candidate_fixes": [{"description": "check the bucket under the lock", "tradeoffs": "slower discards"}]}],
        "not_looked_at": []}"#;
    [
        tool_calls(&[("def", r#"{"name": "minifs_discard_one_bucket"}"#)]),
        message(note),
    ]
}

fn script(investigations: usize) -> Vec<Reply> {
    (0..investigations).flat_map(|_| investigation()).collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| entry.expect("entry").path())
    {
        if entry.is_dir() {
            found.extend(files(&entry));
        } else {
            found.push(entry);
        }
    }
    found
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().map(str::to_string))
        .collect()
}

/// Waits until `server` has received `count` requests.
fn wait_for_requests(server: &FakeServer, count: usize) {
    let started = Instant::now();
    while server.requests().len() < count {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "request {count} never came"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn session_report_matches_the_window_and_a_second_run_is_free() {
    let fixture = Fixture::new();
    let server = FakeServer::start(script(3));
    let (code, stdout, stderr) = fixture.session("out", Some(&server));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        server.requests().len(),
        6,
        "three investigations of two requests each"
    );
    let report = fixture.report("out");

    // The headline and the noise band are the generator's counts.
    let branch: Value =
        serde_json::from_str(&read(&fixture.path("results/branch.json"))).expect("branch.json");
    let failed: Vec<u64> = branch
        .as_array()
        .expect("list")
        .iter()
        .map(|commit| commit["failed"].as_u64().expect("failed"))
        .collect();
    let headline = &report["headline"];
    assert_eq!(report["commit"], fixture.sim.truth.commits[0].as_str());
    assert_eq!(headline["failed"].as_u64(), Some(failed[0]));
    assert_eq!(
        headline["noise"]["min"].as_u64(),
        failed[1..].iter().min().copied()
    );
    assert_eq!(
        headline["noise"]["max"].as_u64(),
        failed[1..].iter().max().copied()
    );
    assert_eq!(headline["noise"]["commits"].as_u64(), Some(7));
    let markdown = read(&fixture.path("out/report.md"));
    assert!(
        markdown.contains(&format!(
            "**{} fails / 40 tests at `{}`**",
            failed[0],
            &fixture.sim.truth.commits[0][..12]
        )),
        "{markdown}"
    );
    assert!(
        markdown.contains("AI-assisted") && markdown.contains("`fake-model`"),
        "{markdown}"
    );

    // One section per regression signature, none twice; upstream ones are not looked at.
    let sections = report["sections"].as_array().expect("sections");
    let titles: Vec<&str> = sections
        .iter()
        .filter_map(|section| section["title"].as_str())
        .collect();
    assert_eq!(
        titles.iter().collect::<BTreeSet<_>>().len(),
        titles.len(),
        "a section twice: {titles:?}"
    );
    let skipped = report["not_looking_at"].as_array().expect("not_looking_at");
    let skipped_as = |reason: &str, title: &str| {
        skipped.iter().any(|skip| {
            skip["reason"] == reason && skip["title"].as_str().is_some_and(|t| t.starts_with(title))
        })
    };
    let regressions = fixture.bugs(Class::Regression);
    assert!(
        regressions.len() >= 4 && regressions.iter().any(|(_, function)| function == UPSTREAM),
        "{regressions:?}"
    );
    for (title, function) in &regressions {
        if function == UPSTREAM {
            assert!(
                skipped_as("upstream", title),
                "{title} is upstream: {skipped:?}"
            );
        } else {
            assert!(
                titles.iter().any(|t| t.starts_with(title.as_str())),
                "no section for {title}: {titles:?}"
            );
        }
    }
    for (title, _) in fixture.bugs(Class::Flaky) {
        assert!(skipped_as("flaky", &title), "{title} is flaky: {skipped:?}");
    }
    let flaky = skipped
        .iter()
        .find(|skip| skip["reason"] == "flaky")
        .expect("a flaky entry");
    assert!(
        flaky["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("% of runs")),
        "{flaky}"
    );
    let infra_tests: BTreeSet<String> = skipped
        .iter()
        .filter(|skip| skip["reason"] == "infra")
        .flat_map(|skip| strings(&skip["tests"]))
        .collect();
    for (name, test) in &fixture.sim.truth.tests {
        if test.class == Class::Infra {
            assert!(
                infra_tests.contains(name),
                "{name} failed for infrastructure reasons only"
            );
        }
    }

    // The newest regressions first, then persistent failures.
    let age = |section: &Value| {
        section["first_bad"]
            .as_str()
            .and_then(|id| fixture.sim.truth.commits.iter().position(|c| c == id))
    };
    let classes: Vec<&str> = sections
        .iter()
        .filter_map(|section| section["class"].as_str())
        .collect();
    assert!(
        classes
            .windows(2)
            .all(|pair| pair != ["persistent", "regression"]),
        "{classes:?}"
    );
    let ages: Vec<usize> = sections
        .iter()
        .filter(|section| section["class"] == "regression")
        .filter_map(age)
        .collect();
    assert!(
        ages.windows(2).all(|pair| pair[0] <= pair[1]) && ages.first() == Some(&0),
        "{ages:?}"
    );

    // Three notes, linked and written; the rest not dug into, with what to look at next.
    let noted: Vec<&Value> = sections
        .iter()
        .filter(|section| section["note"].is_object())
        .collect();
    assert_eq!(noted.len(), 3);
    for section in &noted {
        assert_eq!(section["depth"], "hypothesis");
        let link = section["note"]["link"].as_str().expect("link");
        assert!(fixture.path("out").join(link).is_file(), "{link}");
        assert!(
            markdown.contains(&format!("]({link})")),
            "{link} is not linked"
        );
        assert!(read(&fixture.path("out").join(link)).contains("AI-assisted"));
    }
    let postponed: Vec<&Value> = sections
        .iter()
        .filter(|section| section["depth"] == "not-dug-into")
        .collect();
    assert!(!postponed.is_empty());
    for section in &postponed {
        assert!(
            section["not_dug_into"]
                .as_str()
                .is_some_and(|why| why.starts_with("budget")),
            "{section}"
        );
        assert!(skipped
            .iter()
            .any(|skip| skip["reason"] == "budget" && skip["section"] == section["anchor"]));
        assert!(
            !section["next"].as_array().expect("next").is_empty(),
            "{section}"
        );
    }
    assert!(markdown.contains("## Not looking at") && markdown.contains("not dug into yet"));

    // The chart is well-formed SVG with the band and one point per commit.
    let page = read(&fixture.path("out/index.html"));
    let svg = &page[page.find("<svg").expect("an svg")
        ..page.find("</svg>").expect("its end") + "</svg>".len()];
    let document = roxmltree::Document::parse(svg)
        .unwrap_or_else(|err| panic!("the chart is not well-formed: {err}\n{svg}"));
    let elements = |name: &str| {
        document
            .descendants()
            .filter(|node| node.tag_name().name() == name)
            .count()
    };
    assert_eq!(elements("circle"), WINDOW.len());
    assert_eq!(elements("rect"), 1);
    for section in &noted {
        // HTML escaping writes `/` as `&#x2f;`.
        let link = section["note"]["link"]
            .as_str()
            .expect("link")
            .replace('/', "&#x2f;");
        assert!(
            page.contains(&format!("href=\"{link}\"")),
            "{link} is not linked from index.html"
        );
    }

    // A second run investigates nothing and writes the same report.
    let before: Vec<String> = ["report.md", "report.json", "index.html"]
        .iter()
        .map(|name| read(&fixture.path("out").join(name)))
        .collect();
    let idle = FakeServer::start(Vec::new());
    let (code, stdout, stderr) = fixture.session("out", Some(&idle));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(idle.requests().is_empty(), "the second run asked the model");
    assert!(
        stdout.contains("0 investigated now, 3 notes reused"),
        "{stdout}"
    );
    for (name, text) in ["report.md", "report.json", "index.html"]
        .iter()
        .zip(before)
    {
        assert_eq!(
            read(&fixture.path("out").join(name)),
            text,
            "{name} changed"
        );
    }
    for path in files(&fixture.path("out")) {
        assert!(
            !std::fs::read(&path)
                .expect("read")
                .windows(API_KEY.len())
                .any(|w| w == API_KEY.as_bytes()),
            "{} has the key",
            path.display()
        );
    }
}

#[test]
fn a_killed_session_resumes_to_the_same_report_and_the_lock_holds_meanwhile() {
    let fixture = Fixture::new();
    let whole = FakeServer::start(script(3));
    let (code, stdout, stderr) = fixture.session("whole", Some(&whole));
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    // The second investigation's note never comes: the session is killed waiting for it.
    let [tool_call, note] = investigation();
    let stalling = FakeServer::start(vec![
        tool_call.clone(),
        note.clone(),
        tool_call,
        Reply::Slow(Duration::from_secs(90), Box::new(note)),
    ]);
    let mut child = fixture.spawn("killed", &stalling);
    wait_for_requests(&stalling, 4);
    let (code, _, stderr) = fixture.session("killed", Some(&stalling));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("another ktriage overnight session") && stderr.contains("session.lock"),
        "{stderr}"
    );
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(
        fixture.path("killed/session.lock").is_file(),
        "a killed session leaves its lock"
    );
    assert!(!fixture.path("killed/report.md").exists());

    // The next run finds the lock stale, keeps the first note, resumes the second from its
    // journal (one request left) and makes the third.
    let resumed = FakeServer::start({
        let [_, note] = investigation();
        std::iter::once(note).chain(script(1)).collect()
    });
    let (code, stdout, stderr) = fixture.session("killed", Some(&resumed));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        resumed.requests().len(),
        3,
        "answered requests are not sent again"
    );
    assert_eq!(
        read(&fixture.path("killed/report.md")),
        read(&fixture.path("whole/report.md"))
    );
    assert!(
        !fixture.path("killed/session.lock").exists(),
        "the lock is released"
    );
    for out in ["whole", "killed"] {
        for path in files(&fixture.path(out)) {
            assert!(
                !read(&path).contains(API_KEY),
                "{} has the key",
                path.display()
            );
        }
    }
}

#[test]
fn notes_of_an_earlier_commit_are_seen_before_unless_their_evidence_changed() {
    let fixture = Fixture::new();
    // Last night's window: the same results without the newest commit.
    let old = fixture.path("results-old");
    write_tree(&fixture.sim, &old, false).expect("the tree is written");
    let newest = &fixture.sim.truth.commits[0];
    std::fs::remove_dir_all(old.join(newest)).expect("remove the newest commit");
    let branch: Vec<Value> =
        serde_json::from_str(&read(&old.join("branch.json"))).expect("branch.json");
    std::fs::write(
        old.join("branch.json"),
        serde_json::to_string(&branch[1..]).expect("json"),
    )
    .expect("write branch.json");
    let mut args = fixture.args("out");
    (args[4], args[8]) = ("results-old", "20");
    let (code, stdout, stderr) = run(&mut command(fixture.dir.path(), &args, None));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let last_night = fixture.report("out");
    assert_eq!(last_night["commit"], fixture.sim.truth.commits[1].as_str());

    // Tonight: notes whose tests and suspect functions are unchanged are seen before; the
    // newest commit changes `minifs_inode_create`, so failures pointing there are looked at
    // again, and so are groups with a new failing test.
    args[4] = "results";
    let (code, stdout, stderr) = run(&mut command(fixture.dir.path(), &args, None));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report = fixture.report("out");
    let sections = report["sections"].as_array().expect("sections");
    let seen: Vec<&Value> = sections
        .iter()
        .filter(|section| section["depth"] == "seen-before")
        .collect();
    let revisited: Vec<&Value> = sections
        .iter()
        .filter(|section| section["revisit"].is_string())
        .collect();
    assert!(!seen.is_empty() && !revisited.is_empty(), "{sections:?}");
    let markdown = read(&fixture.path("out/report.md"));
    for section in &seen {
        assert_eq!(
            section["note"]["commit"],
            fixture.sim.truth.commits[1].as_str()
        );
        let number = section["note"]["number"].as_u64().expect("number");
        assert!(
            markdown.contains(&format!("seen before, see note {number}")),
            "{markdown}"
        );
    }
    let changed_by_newest = format!("commit `{}`", &newest[..12]);
    assert!(
        revisited
            .iter()
            .any(|section| section["revisit"].as_str().is_some_and(|why| why
                .contains(&changed_by_newest)
                && why.contains("minifs_inode_create"))),
        "{revisited:?}"
    );
    let remade = sections
        .iter()
        .filter(|section| section["note"]["commit"] == newest.as_str())
        .count();
    assert!(
        stdout.contains(&format!(
            "{remade} investigated now, {} notes reused",
            seen.len()
        )),
        "{stdout}"
    );
}

#[test]
fn an_unreachable_model_stops_the_investigations_and_the_next_run_retries() {
    let fixture = Fixture::new();
    let failing = FakeServer::start(vec![Reply::Status {
        code: 500,
        retry_after: None,
        body: "down".into(),
    }]);
    let mut args = fixture.args("out");
    args.extend(["--retries", "0"]);
    let (code, stdout, stderr) = run(&mut command(fixture.dir.path(), &args, Some(&failing)));
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the model could not be reached"),
        "{stderr}"
    );
    assert_eq!(
        failing.requests().len(),
        1,
        "no investigation starts after the model failed"
    );
    let report = fixture.report("out");
    let sections = report["sections"].as_array().expect("sections");
    assert_eq!(sections[0]["depth"], "evidence-only");
    assert!(
        sections[0]["note"]["number"].is_null(),
        "a note made without the model is not remembered"
    );
    assert!(sections[1..].iter().all(|section| section["not_dug_into"]
        .as_str()
        .is_some_and(|why| why.starts_with("the model could not be reached"))));
    let server = FakeServer::start(script(3));
    let (code, stdout, stderr) = fixture.session("out", Some(&server));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(server.requests().len(), 6);
    assert_eq!(fixture.report("out")["sections"][0]["depth"], "hypothesis");
}

#[test]
fn without_a_model_the_report_and_notes_are_evidence_only() {
    let fixture = Fixture::new();
    let (code, stdout, stderr) = fixture.session("out", None);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("no model configured"), "{stderr}");
    let report = fixture.report("out");
    assert!(
        report["assistance"]
            .as_str()
            .is_some_and(|text| text.starts_with("Evidence-only")),
        "{report}"
    );
    let noted: Vec<&Value> = report["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .filter(|s| s["note"].is_object())
        .collect();
    assert_eq!(noted.len(), 3);
    for section in noted {
        assert_eq!(section["depth"], "evidence-only");
        let note = read(
            &fixture
                .path("out")
                .join(section["note"]["link"].as_str().expect("link")),
        );
        assert!(note.contains("Evidence-only note"), "{note}");
    }
    assert!(!read(&fixture.path("out/report.md")).contains("AI-assisted"));
}

#[test]
fn a_spent_budget_starts_no_investigation() {
    let fixture = Fixture::new();
    let mut args = fixture.args("out");
    args.extend(["--budget-minutes", "0"]);
    let (code, stdout, stderr) = run(&mut command(fixture.dir.path(), &args, None));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report = fixture.report("out");
    let sections = report["sections"].as_array().expect("sections");
    assert!(!sections.is_empty());
    for section in sections {
        assert_eq!(section["depth"], "not-dug-into");
        assert!(
            section["not_dug_into"]
                .as_str()
                .is_some_and(|why| why.contains("0 minutes of wall time")),
            "{section}"
        );
    }
    assert!(!fixture.path("out/notes").exists());
}

#[test]
fn watch_runs_a_session_and_stops_cleanly_on_sigterm() {
    let fixture = Fixture::new();
    let mut args = fixture.args("out");
    args.extend(["--watch", "1"]);
    let mut child = command(fixture.dir.path(), &args, None)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while !fixture.path("out/report.md").is_file() {
        assert!(started.elapsed() < Duration::from_secs(90), "no report");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        fixture.path("out/session.lock").is_file(),
        "the watch holds the lock"
    );
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the watch did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    assert!(
        !fixture.path("out/session.lock").exists(),
        "the lock is released"
    );
}
