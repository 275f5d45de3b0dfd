//! `ktriage triage` end to end: evidence-only notes without a model, one note per signature
//! of a result tree, and a run killed mid-investigation resumed without repeating answered
//! requests, against a fake model server.

use crate::fake_server::{message, tool_calls, FakeServer, Reply};
use crate::support::{command, example_repo, run, API_KEY};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn example_log() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/minifs/ci/discard-panic.log"
    ))
}

#[test]
fn without_a_model_the_note_is_evidence_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let bug = built.id("05-discard-panic").expect("step 05").to_string();
    let log = example_log().to_string_lossy().into_owned();
    let (code, stdout, stderr) = run(&mut command(
        dir.path(),
        &[
            "triage", "--repo", "repo", "--at", &bug, "--log", &log, "--out", "out", "-q",
        ],
        None,
    ));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("no model configured"), "{stderr}");
    assert!(stdout.contains("evidence-only note"), "{stdout}");
    let note = std::fs::read_to_string(dir.path().join("out/note.md")).expect("note.md");
    assert!(note.contains("Evidence-only note") && note.contains("minifs_discard_one_bucket"));
    for name in ["note.json", "note.txt", "journal.jsonl"] {
        assert!(dir.path().join("out").join(name).is_file(), "{name}");
    }
}

#[test]
fn without_a_failure_it_says_what_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    example_repo(dir.path());
    let (code, _, stderr) = run(&mut command(
        dir.path(),
        &["triage", "--repo", "repo", "--out", "out"],
        None,
    ));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("--log") || stderr.contains("--results"),
        "{stderr}"
    );
}

#[test]
fn results_tree_gives_one_note_per_signature_and_a_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let bug = built.id("05-discard-panic").expect("step 05").to_string();
    let log = std::fs::read_to_string(example_log()).expect("log");
    for (test, status) in [
        ("minifs.discard_race", "FAILED"),
        ("minifs.discard_stress", "FAILED"),
        ("minifs.mount", "PASSED"),
    ] {
        let test_dir = dir.path().join("results").join(&bug).join(test);
        std::fs::create_dir_all(&test_dir).expect("test dir");
        std::fs::write(test_dir.join("status"), status).expect("status");
        std::fs::write(
            test_dir.join("log"),
            log.replace("minifs.discard_race", test),
        )
        .expect("log");
    }
    let (code, stdout, stderr) = run(&mut command(
        dir.path(),
        &[
            "triage",
            "--repo",
            "repo",
            "--results",
            "results",
            "--commit",
            &bug[..12],
            "--out",
            "out",
            "-q",
        ],
        None,
    ));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let summary = std::fs::read_to_string(dir.path().join("out/summary.md")).expect("summary.md");
    assert!(
        summary.contains("1 distinct failure signature"),
        "{summary}"
    );
    assert!(
        summary.contains("minifs.discard_race, minifs.discard_stress"),
        "{summary}"
    );
    let note_dirs: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .expect("out")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    assert_eq!(note_dirs.len(), 1);
    assert!(note_dirs[0].path().join("note.md").is_file());
}

#[test]
fn killed_run_resumes_without_repeating_answered_requests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let bug = built.id("05-discard-panic").expect("step 05").to_string();
    let log = example_log().to_string_lossy().into_owned();
    let args = [
        "triage",
        "--repo",
        "repo",
        "--at",
        &bug,
        "--log",
        &log,
        "--out",
        "out",
        "-q",
        "--timeout",
        "60",
    ];
    let first = FakeServer::start(vec![
        tool_calls(&[("def", r#"{"name": "minifs_discard_one_bucket"}"#)]),
        tool_calls(&[(
            "read",
            r#"{"path": "fs/minifs/discard.c", "start": 14, "end": 29}"#,
        )]),
        Reply::Slow(Duration::from_secs(60), Box::new(message("never seen"))),
    ]);
    let mut child = command(dir.path(), &args, Some(&first))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let journal = dir.path().join("out/journal.jsonl");
    let started = Instant::now();
    while first.requests().len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the third request never came"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    let text = std::fs::read_to_string(&journal).expect("journal");
    assert_eq!(text.matches("\"type\":\"response\"").count(), 2);

    let note = r#"{"verdict": "likely-regression", "hypotheses": [{"title": "panic on a dirty discard", "confidence": "medium",
        "evidence": [{"kind": "code", "path": "fs/minifs/discard.c", "line": 22, "quote": "panic(\"minifs: discarded bucket"}]}]}"#;
    let second = FakeServer::start(vec![message(note)]);
    let mut resume_args = args.to_vec();
    resume_args.push("--resume");
    let (code, stdout, stderr) = run(&mut command(dir.path(), &resume_args, Some(&second)));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("resumed: 2 model answers replayed"),
        "{stdout}"
    );
    let requests = second.requests();
    assert_eq!(requests.len(), 1, "answered requests are not sent again");
    assert_eq!(requests[0].body, first.requests()[2].body);
    assert!(
        stdout.contains("citations 1/1 verified") || stdout.contains("verified"),
        "{stdout}"
    );
    for entry in std::fs::read_dir(dir.path().join("out")).expect("out") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("text");
        assert!(
            !text.contains(API_KEY),
            "{} contains the API key",
            path.display()
        );
    }
}
