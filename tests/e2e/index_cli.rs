//! `index`, `def`, `callers`, `callees`, `search`, `grep`, `cat` and `example` through the CLI.

use crate::support::{example_repo, ktriage, ktriage_into_closed_pipe};

#[test]
fn code_queries_answer_in_json_as_of_a_revision() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let repo = built.path.to_str().expect("utf-8 path");

    let out = ktriage(
        dir.path(),
        &["index", "--repo", repo, "--quiet", "--format", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["revs"][0]["files"], 7);

    let out = ktriage(
        dir.path(),
        &[
            "def",
            "minifs_discard_one_bucket",
            "--repo",
            repo,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let first = &out.json()["definitions"][0];
    assert_eq!(first["path"], "fs/minifs/discard.c");
    assert_eq!(first["kind"], "function");
    assert_eq!(first["line"], 14);
    assert_eq!(first["end_line"], 30);
    assert!(first["signature"]
        .as_str()
        .is_some_and(|s| s.starts_with("int minifs_discard_one_bucket(")));

    let before_move = built.id("03-rename-btree").expect("step").to_string();
    let out = ktriage(
        dir.path(),
        &[
            "def",
            "minifs_discard_one_bucket",
            "--repo",
            repo,
            "--at",
            &before_move,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.json()["definitions"][0]["path"], "fs/minifs/alloc.c");

    let out = ktriage(
        dir.path(),
        &[
            "callers",
            "bucket_is_empty",
            "--repo",
            repo,
            "--format",
            "json",
        ],
    );
    let callers: Vec<String> = out.json()["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|call| {
            format!(
                "{} {}",
                call["caller"].as_str().unwrap_or(""),
                call["path"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        callers,
        [
            "minifs_discard_one_bucket fs/minifs/discard.c",
            "minifs_check_buckets fs/minifs/super.c"
        ]
    );

    let out = ktriage(
        dir.path(),
        &[
            "search",
            "emergency read only",
            "--repo",
            repo,
            "--format",
            "json",
            "--limit",
            "3",
        ],
    );
    let hits = out.json()["hits"].as_array().expect("hits").clone();
    assert!(!hits.is_empty());
    for key in ["kind", "path", "line", "snippet", "score"] {
        assert!(hits[0].get(key).is_some(), "{key} in {}", hits[0]);
    }

    let out = ktriage(
        dir.path(),
        &[
            "grep",
            "BUG_ON|panic\\(",
            "--repo",
            repo,
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.code, 1,
        "no panic() left at HEAD: exit 1 means nothing found"
    );
    assert_eq!(out.json()["hits"].as_array().map(Vec::len), Some(0));

    let out = ktriage(
        dir.path(),
        &["cat", "fs/bcachefs/minifs/super.c:35-35", "--repo", repo],
    );
    assert_eq!(
        out.stdout,
        "int __must_check minifs_fs_start(struct minifs_fs *c)\n"
    );
}

#[test]
fn bad_input_exits_2_with_a_message_naming_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_repo = dir.path().to_str().expect("utf-8 path");
    let out = ktriage(dir.path(), &["def", "x", "--repo", not_repo]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("not a git repository"),
        "{}",
        out.stderr
    );

    let built = example_repo(dir.path());
    let repo = built.path.to_str().expect("utf-8 path");
    let out = ktriage(dir.path(), &["def", "x", "--repo", repo, "--at", "v99"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown revision `v99`"),
        "{}",
        out.stderr
    );

    let out = ktriage(
        dir.path(),
        &["cat", "fs/minifs/super.c:9-3", "--repo", repo],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("PATH:START-END"), "{}", out.stderr);

    let out = ktriage(dir.path(), &["cat", "fs/minifs/nothing.c", "--repo", repo]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("fs/minifs/nothing.c: no such file"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_example_command_builds_indexes_and_queries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = ktriage(dir.path(), &["example", "--out", "minifs", "--quiet"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("fs/minifs/discard.c:14-30\tfunction"),
        "{}",
        out.stdout
    );
    // Running it again replaces its own output.
    assert_eq!(
        ktriage(dir.path(), &["example", "--out", "minifs", "--quiet"]).code,
        0
    );
    // It refuses to delete a directory it did not make.
    std::fs::create_dir_all(dir.path().join("mine")).expect("mkdir");
    let out = ktriage(dir.path(), &["example", "--out", "mine", "--quiet"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("was not made by `ktriage example`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_query_while_the_index_is_being_written_says_it_is_in_use() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let repo = built.path.to_str().expect("utf-8 path");
    let out = ktriage(dir.path(), &["index", "--repo", repo, "--quiet"]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let writer = ktriage_index::Index::open_or_create(&built.path, None).expect("writer");
    let out = ktriage(
        dir.path(),
        &["def", "minifs_discard_one_bucket", "--repo", repo],
    );
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("in use by another ktriage process"),
        "{}",
        out.stderr
    );
    drop(writer);

    let out = ktriage(
        dir.path(),
        &["def", "minifs_discard_one_bucket", "--repo", repo],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn index_text_into_a_closed_pipe_ends_quietly() {
    // `ktriage index | head`, the reader gone before the summary line is written.
    let dir = tempfile::tempdir().expect("temp dir");
    let built = example_repo(dir.path());
    let repo = built.path.to_str().expect("utf-8 path");
    let (code, stderr) = ktriage_into_closed_pipe(dir.path(), &["index", "--repo", repo, "-q"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
