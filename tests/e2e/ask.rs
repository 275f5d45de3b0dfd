//! `ktriage ask` end to end on the example repository: search results without a model, and
//! a model answer whose citations are checked, against a fake model server.

use crate::fake_server::{message, tool_calls, FakeServer};
use crate::support::{command, example_repo, run, API_KEY};
use serde_json::Value;

fn ask_json(
    dir: &std::path::Path,
    question: &str,
    server: Option<&FakeServer>,
) -> (i32, Value, String) {
    let (code, stdout, stderr) = run(&mut command(
        dir,
        &["ask", "--repo", "repo", "-q", "--format", "json", question],
        server,
    ));
    let value = serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {stdout}\n{stderr}"));
    (code, value, stderr)
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn without_a_model_a_named_commit_shows_what_it_did_and_what_fixed_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let bug = built.id("05-discard-panic").expect("step 05").to_string();
    let fix = built.id("09-fix-discard").expect("step 09").to_string();
    let (code, answer, stderr) = ask_json(
        dir.path(),
        &format!("what does commit {} do and what did it break?", &bug[..8]),
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(answer["mode"], "search_results");
    assert!(answer["label"]
        .as_str()
        .is_some_and(|label| label.contains("not an answer")));
    let first = &answer["findings"]["commits"][0];
    assert_eq!(first["id"], bug.as_str());
    assert!(
        first["functions"]
            .to_string()
            .contains("minifs_discard_one_bucket"),
        "{first}"
    );
    assert!(
        first["fixed_by"][0]
            .as_str()
            .is_some_and(|later| later.starts_with(&fix)),
        "{first}"
    );
}

#[test]
fn without_a_model_a_file_question_lists_its_authors_in_the_window() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let (code, answer, stderr) = ask_json(
        dir.path(),
        "who has been changing discard.c since February 2026?",
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let file = &answer["findings"]["files"][0];
    assert_eq!(file["path"], "fs/minifs/discard.c");
    let authors: Vec<&str> = file["authors"]
        .as_array()
        .expect("authors")
        .iter()
        .filter_map(|a| a["author"].as_str())
        .collect();
    assert!(
        authors.iter().any(|a| a.starts_with("Carol"))
            && authors.iter().any(|a| a.starts_with("Ada")),
        "{authors:?}"
    );
    let initial = built.id("01-initial").expect("step 01").to_string();
    assert!(
        !ids(&answer["findings"]["commits"]).contains(&initial),
        "a commit before the window is listed"
    );
}

#[test]
fn without_a_model_at_an_old_revision_nothing_newer_appears() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let bug = built.id("05-discard-panic").expect("step 05").to_string();
    let fix = built.id("09-fix-discard").expect("step 09").to_string();
    let (code, stdout, stderr) = run(&mut command(
        dir.path(),
        &[
            "ask",
            "--repo",
            "repo",
            "-q",
            "--at",
            &bug,
            "--format",
            "json",
            "what changed in minifs_discard_one_bucket?",
        ],
        None,
    ));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stdout.contains(&fix[..12]),
        "the fix after --at appears:\n{stdout}"
    );
    let answer: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(
        answer["findings"]["functions"][0]["name"],
        "minifs_discard_one_bucket"
    );
    assert_eq!(
        answer["findings"]["functions"][0]["changes"][0]["id"],
        bug.as_str()
    );
}

#[test]
fn with_a_model_the_answer_is_checked_and_labelled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let bug = built.id("05-discard-panic").expect("step 05").to_string();
    let prose = format!(
        "Commit {} made the dirty-discard check fatal (fs/minifs/discard.c:14). Commit deadbeefdeadbeef did not exist.",
        &bug[..12]
    );
    let server = FakeServer::start(vec![
        tool_calls(&[("history", r#"{"function":"minifs_discard_one_bucket"}"#)]),
        message(&prose),
    ]);
    let (code, answer, stderr) = ask_json(
        dir.path(),
        "which commit made the discard check panic instead of going read-only?",
        Some(&server),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(answer["mode"], "model");
    assert!(answer["label"]
        .as_str()
        .is_some_and(|label| label.starts_with("AI-assisted")));
    let text = answer["answer"].as_str().expect("an answer");
    assert!(text.contains("deadbeefdeadbeef [UNVERIFIED]"), "{text}");
    assert!(
        !text.contains("discard.c:14 [UNVERIFIED]")
            && !text.contains(&format!("{} [UNVERIFIED]", &bug[..12])),
        "{text}"
    );
    assert_eq!(answer["citations"]["unverified"], 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let tools = requests[0].body["tools"].to_string();
    assert!(
        tools.contains("\"history\"") && !tools.contains("log_excerpt"),
        "{tools}"
    );
    let tool_result = requests[1].body["messages"]
        .as_array()
        .and_then(|messages| messages.last())
        .expect("a last message");
    assert_eq!(tool_result["role"], "tool");
    assert!(
        tool_result["content"]
            .to_string()
            .contains("minifs: make discarding a dirty bucket fatal"),
        "{tool_result}"
    );
    let journal = std::fs::read_to_string(dir.path().join("repo/.git/ktriage/ask-journal.jsonl"))
        .expect("journal");
    assert!(!journal.contains(API_KEY) && !answer.to_string().contains(API_KEY));
}
