//! The history index over the bundled example history: log, function history across
//! renames and moves, show, blame, fixes, commit search, `--at` and incremental indexing.

use ktriage_example::{build_repo, bundled_history, BuiltRepo};
use ktriage_index::history::Change;
use ktriage_index::{History, Index, NoProgress};

fn example() -> (tempfile::TempDir, BuiltRepo) {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = build_repo(&bundled_history(), &dir.path().join("repo")).expect("example builds");
    (dir, built)
}

fn id(built: &BuiltRepo, step: &str) -> String {
    built
        .id(step)
        .unwrap_or_else(|| panic!("step {step} exists"))
        .to_string()
}

/// The step names of a list of commit ids, in order.
fn steps<'a>(built: &BuiltRepo, ids: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    ids.into_iter()
        .map(|commit| {
            built
                .commits
                .iter()
                .find(|c| c.id.to_string() == *commit)
                .map_or_else(|| commit.clone(), |c| c.step.clone())
        })
        .collect()
}

fn history_at<'a>(index: &'a Index, rev: &str) -> History<'a> {
    let rev = index.resolve(rev).expect("rev resolves");
    index.history(&rev, &NoProgress).expect("history")
}

fn function_steps(
    built: &BuiltRepo,
    history: &History<'_>,
    name: &str,
    path: Option<&str>,
) -> Vec<String> {
    let events = history
        .function_history(name, path)
        .expect("function history");
    steps(built, events.iter().map(|e| &e.id))
        .into_iter()
        .zip(&events)
        .map(|(step, e)| format!("{step} {} {}", e.change.as_str(), e.path))
        .collect()
}

#[test]
fn function_history_follows_renames_and_moves() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = history_at(&index, "HEAD");
    let discard = [
        "09-fix-discard modified fs/minifs/discard.c",
        "05-discard-panic modified fs/minifs/discard.c",
        "04-move-discard moved fs/minifs/discard.c",
        "01-initial added fs/minifs/alloc.c",
    ];
    assert_eq!(
        function_steps(&built, &head, "minifs_discard_one_bucket", None),
        discard
    );
    assert_eq!(
        function_steps(
            &built,
            &head,
            "minifs_discard_one_bucket",
            Some("fs/minifs/discard.c")
        ),
        discard
    );
    let moved = head
        .function_history("minifs_discard_one_bucket", None)
        .expect("history");
    assert_eq!(moved[2].old_path.as_deref(), Some("fs/minifs/alloc.c"));
    // The whitespace-only commit counts (as for `git log -L`), flagged.
    let inode = head
        .function_history("minifs_inode_create", None)
        .expect("history");
    assert_eq!(
        function_steps(&built, &head, "minifs_inode_create", None),
        [
            "10-fix-inode-leak modified fs/minifs/inode.c",
            "06-inode-whitespace modified fs/minifs/inode.c",
            "02-add-inode added fs/minifs/inode.c"
        ]
    );
    assert_eq!(
        inode.iter().map(|e| e.whitespace_only).collect::<Vec<_>>(),
        [false, true, false]
    );
    // A pure file rename changes no function; the path lineage still reaches the old name.
    assert_eq!(
        function_steps(
            &built,
            &head,
            "btree_node_search",
            Some("fs/minifs/btree_iter.c")
        ),
        ["01-initial added fs/minifs/btree.c"]
    );
    // A branch's change is the branch commit's, not the merge's.
    assert_eq!(
        function_steps(&built, &head, "bucket_is_dirty", None),
        ["07-util-helper added fs/minifs/util.h"]
    );
}

#[test]
fn at_hides_descendants() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let at05 = history_at(&index, &id(&built, "05-discard-panic"));
    assert_eq!(
        function_steps(&built, &at05, "minifs_discard_one_bucket", None),
        [
            "05-discard-panic modified fs/minifs/discard.c",
            "04-move-discard moved fs/minifs/discard.c",
            "01-initial added fs/minifs/alloc.c"
        ]
    );
    assert!(at05
        .fixes(&id(&built, "05-discard-panic"))
        .expect("fixes")
        .fixed_by
        .is_empty());
    assert!(at05.show(&id(&built, "09-fix-discard"), 1000).is_err());
    // The side branch (07, dated before 06) is not in 06's history.
    let at06 = history_at(&index, &id(&built, "06-inode-whitespace"));
    let log = at06.log(None, None, 100).expect("log");
    assert_eq!(
        steps(&built, log.iter().map(|e| &e.id)),
        [
            "06-inode-whitespace",
            "05-discard-panic",
            "04-move-discard",
            "03-rename-btree",
            "02-add-inode",
            "01-initial"
        ]
    );
    assert!(at06
        .function_history("bucket_is_dirty", None)
        .expect("history")
        .is_empty());
    let rev = index.resolve(&id(&built, "05-discard-panic")).expect("rev");
    let snapshot = index.snapshot(&rev, &NoProgress).expect("snapshot");
    let hits = snapshot
        .search("go read-only instead of panicking", 50)
        .expect("search");
    assert!(hits.iter().all(|hit| hit.kind != "commit"
        || hit.commit.as_deref() != Some(id(&built, "09-fix-discard").as_str())));
}

#[test]
fn log_by_path_symbol_since_and_limit() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = history_at(&index, "HEAD");
    let log_steps = |target: Option<&str>, since: Option<&str>, limit: usize| {
        let since = since.map(|s| ktriage_index::history::date::parse(s).expect("date"));
        steps(
            &built,
            head.log(target, since, limit)
                .expect("log")
                .iter()
                .map(|e| &e.id),
        )
    };
    assert_eq!(
        log_steps(Some("fs/minifs/inode.c"), None, 100),
        ["10-fix-inode-leak", "06-inode-whitespace", "02-add-inode"]
    );
    assert_eq!(
        log_steps(Some("minifs_discard_one_bucket"), None, 100),
        [
            "09-fix-discard",
            "05-discard-panic",
            "04-move-discard",
            "01-initial"
        ]
    );
    assert_eq!(
        log_steps(Some("fs/minifs/btree.c"), None, 100),
        ["03-rename-btree", "01-initial"]
    );
    assert_eq!(
        log_steps(None, None, 3),
        ["10-fix-inode-leak", "09-fix-discard", "08-merge-util"]
    );
    assert_eq!(
        log_steps(None, Some("2026-02-16"), 100),
        ["10-fix-inode-leak", "09-fix-discard", "08-merge-util"]
    );
    assert_eq!(
        log_steps(Some("fs/"), None, 2),
        ["10-fix-inode-leak", "09-fix-discard"]
    );
    let merge = head.log(None, None, 3).expect("log");
    assert!(
        merge[2].merge && merge[2].paths == ["fs/minifs/util.h"],
        "{merge:?}"
    );
}

#[test]
fn show_trailers_files_functions_and_diff() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = history_at(&index, "HEAD");
    let fix = head
        .show(&id(&built, "09-fix-discard")[..10], 100_000)
        .expect("show");
    let keys: Vec<&str> = fix.trailers.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "Fixes",
            "Reported-by",
            "Closes",
            "Link",
            "Tested-by",
            "Co-developed-by",
            "Signed-off-by",
            "Co-Authored-By",
            "Assisted-by",
            "Signed-off-by"
        ]
    );
    assert_eq!(fix.trailers[8].value, "Helper Bot:model-x");
    assert_eq!(fix.files.len(), 1);
    assert_eq!(fix.files[0].path, "fs/minifs/discard.c");
    assert!(fix.files[0].added > 0 && fix.files[0].removed > 0);
    let functions: Vec<(&str, Change)> = fix
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.change))
        .collect();
    assert_eq!(functions, [("minifs_discard_one_bucket", Change::Modified)]);
    assert!(
        fix.diff.contains("+\t\tminifs_fs_emergency_read_only(c);") && !fix.diff_truncated,
        "{}",
        fix.diff
    );
    let cut = head.show(&id(&built, "09-fix-discard"), 100).expect("show");
    assert!(cut.diff_truncated && cut.diff.ends_with("...]\n") && cut.diff.len() < 200);

    let rename = head
        .show(&id(&built, "03-rename-btree"), 1000)
        .expect("show");
    assert_eq!(rename.files.len(), 1);
    assert_eq!(
        (
            rename.files[0].path.as_str(),
            rename.files[0].old_path.as_deref()
        ),
        ("fs/minifs/btree_iter.c", Some("fs/minifs/btree.c"))
    );
    assert!(rename.functions.is_empty());

    let whitespace = head
        .show(&id(&built, "06-inode-whitespace"), 1000)
        .expect("show");
    assert_eq!(whitespace.functions.len(), 1);
    assert!(
        whitespace.functions[0].whitespace_only
            && whitespace.functions[0].change == Change::Modified
    );

    let merge = head.show(&id(&built, "08-merge-util"), 1000).expect("show");
    assert!(merge.merge && merge.parents.len() == 2 && merge.functions.is_empty());
}

#[test]
fn fixes_by_id_and_by_subject() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = history_at(&index, "HEAD");
    let by_id = head.fixes(&id(&built, "09-fix-discard")).expect("fixes");
    assert_eq!(by_id.fixes.len(), 1);
    assert_eq!(
        by_id.fixes[0].commit.as_deref(),
        Some(id(&built, "05-discard-panic").as_str())
    );
    let by_subject = head.fixes(&id(&built, "10-fix-inode-leak")).expect("fixes");
    assert_eq!(
        by_subject.fixes[0].commit.as_deref(),
        Some(id(&built, "02-add-inode").as_str())
    );
    assert!(by_subject.fixes[0].raw.starts_with("0123456789ab"));
    let fixed = head.fixes(&id(&built, "05-discard-panic")).expect("fixes");
    assert_eq!(
        steps(&built, fixed.fixed_by.iter().map(|e| &e.id)),
        ["09-fix-discard"]
    );
    let fixed = head.fixes(&id(&built, "02-add-inode")).expect("fixes");
    assert_eq!(
        steps(&built, fixed.fixed_by.iter().map(|e| &e.id)),
        ["10-fix-inode-leak"]
    );
}

#[test]
fn blame_names_the_last_change() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = history_at(&index, "HEAD");
    let lines = head.blame("fs/minifs/discard.c", 1, 200).expect("blame");
    let of = |text: &str| {
        let line = lines
            .iter()
            .find(|l| l.text.contains(text))
            .unwrap_or_else(|| panic!("{text} in discard.c"));
        steps(&built, [&line.commit]).remove(0)
    };
    assert_eq!(of("minifs_fs_emergency_read_only(c);"), "09-fix-discard");
    assert_eq!(
        of("EXPORT_SYMBOL(minifs_discard_one_bucket)"),
        "04-move-discard"
    );
    let at05 = history_at(&index, &id(&built, "05-discard-panic"));
    let old = at05.blame("fs/minifs/discard.c", 1, 200).expect("blame");
    assert!(old.iter().all(|l| l.commit != id(&built, "09-fix-discard")));
    // Several ranges in one walk: each line once, in order, as blamed alone.
    let together = head
        .blame_ranges("fs/minifs/discard.c", &[(8, 12), (3, 9), (500, 600)])
        .expect("blame");
    let alone: Vec<_> = lines
        .iter()
        .filter(|l| (3..=12).contains(&l.line))
        .map(|l| (l.line, l.commit.clone()))
        .collect();
    assert_eq!(
        together
            .iter()
            .map(|l| (l.line, l.commit.clone()))
            .collect::<Vec<_>>(),
        alone
    );
}

#[test]
fn search_finds_commit_messages() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    history_at(&index, "HEAD");
    let rev = index.resolve("HEAD").expect("HEAD");
    let snapshot = index.snapshot(&rev, &NoProgress).expect("snapshot");
    let hits = snapshot
        .search("go read-only instead of panicking", 10)
        .expect("search");
    let commit = hits
        .iter()
        .find(|hit| hit.kind == "commit")
        .expect("a commit hit");
    assert_eq!(
        commit.commit.as_deref(),
        Some(id(&built, "09-fix-discard").as_str())
    );
    assert_eq!(
        commit.subject.as_deref(),
        Some("minifs: go read-only instead of panicking on a dirty discard")
    );
}

/// Everything the history answers, as text, for comparing two indexes.
fn dump(built: &BuiltRepo, index: &Index) -> String {
    let head = history_at(index, "HEAD");
    let mut out = String::new();
    for commit in &built.commits {
        let show = head.show(&commit.id.to_string(), 100_000).expect("show");
        out.push_str(&format!("{show:?}\n"));
    }
    for name in [
        "minifs_discard_one_bucket",
        "minifs_inode_create",
        "bucket_is_dirty",
    ] {
        out.push_str(&format!(
            "{:?}\n",
            head.function_history(name, None).expect("history")
        ));
    }
    let rev = index.resolve("HEAD").expect("HEAD");
    let hits = index
        .snapshot(&rev, &NoProgress)
        .expect("snapshot")
        .search("minifs", 100)
        .expect("search");
    let mut commits: Vec<_> = hits.into_iter().filter_map(|hit| hit.commit).collect();
    commits.sort();
    out.push_str(&format!("{commits:?}\n"));
    out
}

#[test]
fn incremental_equals_fresh() {
    let (dir, built) = example();
    let fresh = Index::open_or_create(&built.path, Some(&dir.path().join("fresh"))).expect("index");
    let stats = fresh
        .index_history(&[fresh.resolve("HEAD").expect("HEAD")], &NoProgress)
        .expect("index");
    assert_eq!(
        (
            stats.commits,
            stats.merges,
            stats.fixes,
            stats.fixes_resolved
        ),
        (10, 1, 2, 2)
    );

    let incremental =
        Index::open_or_create(&built.path, Some(&dir.path().join("incremental"))).expect("index");
    for step in ["03-rename-btree", "07-util-helper", "06-inode-whitespace"] {
        incremental
            .index_history(
                &[incremental.resolve(&id(&built, step)).expect("rev")],
                &NoProgress,
            )
            .expect("index");
    }
    let stats = incremental
        .index_history(&[incremental.resolve("HEAD").expect("HEAD")], &NoProgress)
        .expect("index");
    assert_eq!(stats.commits, 3, "only the new commits are indexed");
    // Re-running is a no-op.
    let again = incremental
        .index_history(&[incremental.resolve("HEAD").expect("HEAD")], &NoProgress)
        .expect("index");
    assert_eq!(again.commits, 0);
    assert_eq!(dump(&built, &fresh), dump(&built, &incremental));
}

/// Writes one step of a scripted history (see `ktriage_example`).
fn write_step(
    root: &std::path::Path,
    step: &str,
    headers: &str,
    ops: &str,
    files: &[(&str, &str)],
) {
    let dir = root.join(step);
    std::fs::create_dir_all(&dir).expect("step dir");
    std::fs::write(
        dir.join("COMMIT"),
        format!("author: Dev <dev@example.org>\n{headers}\n\n{step}\n"),
    )
    .expect("COMMIT");
    if !ops.is_empty() {
        std::fs::write(dir.join("ops"), ops).expect("ops");
    }
    for (path, text) in files {
        let file = dir.join("files").join(path);
        std::fs::create_dir_all(file.parent().expect("file has a parent")).expect("files dir");
        std::fs::write(file, text).expect("file");
    }
}

/// Ten lines `line N of x.c`, with some replaced.
fn x_c(replace: &[(usize, &str)]) -> String {
    (1..=10)
        .map(|n| {
            replace.iter().find(|(at, _)| *at == n).map_or_else(
                || format!("line {n} of x.c\n"),
                |(_, text)| format!("{text}\n"),
            )
        })
        .collect()
}

#[test]
fn blame_follows_merge_second_parent_and_renames() {
    // Like bcachefs-tools: a sync commit on the main line copies a change made on a side
    // history that had already moved the file; the merge takes the side's file (its second
    // parent's blob exactly, at the new path). `git blame` passes every line of the merge
    // to the second parent, then follows the renames back.
    let dir = tempfile::tempdir().expect("temp dir");
    let steps_dir = dir.path().join("history");
    write_step(
        &steps_dir,
        "01-initial",
        "date: 2026-01-01T10:00:00Z",
        "",
        &[("lib/x.c", &x_c(&[]))],
    );
    let side = x_c(&[(3, "line 3 changed on the side")]);
    write_step(
        &steps_dir,
        "02-side-move",
        "date: 2026-01-02T10:00:00Z\nparent: 01-initial",
        "rm lib/x.c\n",
        &[("fs/x.c", &side)],
    );
    let sync = x_c(&[
        (3, "line 3 changed on the side"),
        (8, "line 8 only on the main line"),
    ]);
    write_step(
        &steps_dir,
        "03-main-sync",
        "date: 2026-01-03T10:00:00Z\nparent: 01-initial",
        "",
        &[("lib/x.c", &sync)],
    );
    write_step(
        &steps_dir,
        "04-merge",
        "date: 2026-01-04T10:00:00Z\nparent: 03-main-sync\nmerge: 02-side-move",
        "rm lib/x.c\n",
        &[("fs/x.c", &side)],
    );
    let late = x_c(&[
        (3, "line 3 changed on the side"),
        (5, "line 5 changed after the merge"),
    ]);
    write_step(
        &steps_dir,
        "05-late-move",
        "date: 2026-01-05T10:00:00Z\nparent: 04-merge",
        "rm fs/x.c\n",
        &[("fs/sub/x.c", &late)],
    );
    let built = build_repo(&steps_dir, &dir.path().join("repo")).expect("history builds");
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = history_at(&index, "HEAD");
    let lines = head.blame("fs/sub/x.c", 1, 10).expect("blame");
    let blamed: Vec<String> = steps(&built, lines.iter().map(|l| &l.commit));
    // What `git blame fs/sub/x.c` names.
    let mut expected = vec!["01-initial"; 10];
    expected[2] = "02-side-move";
    expected[4] = "05-late-move";
    assert_eq!(blamed, expected);
    // Cross-checked with the git CLI where there is one.
    let git = std::process::Command::new("git")
        .arg("-C")
        .arg(&built.path)
        .args(["blame", "--porcelain", "HEAD", "--", "fs/sub/x.c"])
        .output();
    if let Some(out) = git.ok().filter(|out| out.status.success()) {
        let text = String::from_utf8_lossy(&out.stdout);
        let git_commits: Vec<String> = text
            .lines()
            .filter(|line| {
                line.len() > 41
                    && line.as_bytes()[40] == b' '
                    && line[..40].bytes().all(|b| b.is_ascii_hexdigit())
            })
            .map(|line| line[..40].to_string())
            .collect();
        assert_eq!(steps(&built, &git_commits), expected, "git blame");
    }
    assert_eq!(lines[2].text, "line 3 changed on the side");
    assert_eq!(lines[2].author, "Dev <dev@example.org>");
    assert!(lines[2].date.starts_with("2026-01-02"), "{}", lines[2].date);
    // A range is blamed alone, and as of an older revision.
    let one = head.blame("fs/sub/x.c", 8, 8).expect("blame");
    assert_eq!(steps(&built, one.iter().map(|l| &l.commit)), ["01-initial"]);
    let at03 = history_at(&index, &id(&built, "03-main-sync"));
    let old = at03.blame("lib/x.c", 3, 8).expect("blame");
    assert_eq!(
        steps(&built, old.iter().map(|l| &l.commit)),
        [
            "03-main-sync",
            "01-initial",
            "01-initial",
            "01-initial",
            "01-initial",
            "03-main-sync"
        ]
    );
}

/// `mover.c` with the body of `do_move` (or a renamed copy) under `name`.
fn mover_c(name: &str, step: u32, tail: &str) -> String {
    format!(
        "int helper(void)\n{{\n\treturn 0;\n}}\n\nint {name}(int x)\n{{\n\tint a = x + {step};\n\tint b = a * 2;\n\tint c = b - 3;\n\tint d = c + a;\n\treturn a + b + c + d;\n}}\n{tail}"
    )
}

#[test]
fn history_follows_code_into_the_function_it_came_from() {
    let dir = tempfile::tempdir().expect("temp dir");
    let steps_dir = dir.path().join("history");
    write_step(
        &steps_dir,
        "01-initial",
        "date: 2026-01-01T10:00:00Z",
        "",
        &[("fs/mover.c", &mover_c("do_move", 1, ""))],
    );
    write_step(
        &steps_dir,
        "02-tweak",
        "date: 2026-01-02T10:00:00Z\nparent: 01-initial",
        "",
        &[("fs/mover.c", &mover_c("do_move", 2, ""))],
    );
    let fresh = "\nint unrelated(void)\n{\n\treturn 42;\n}\n";
    write_step(
        &steps_dir,
        "03-rename",
        "date: 2026-01-03T10:00:00Z\nparent: 02-tweak",
        "",
        &[("fs/mover.c", &mover_c("move_data", 2, fresh))],
    );
    write_step(
        &steps_dir,
        "04-change",
        "date: 2026-01-04T10:00:00Z\nparent: 03-rename",
        "",
        &[("fs/mover.c", &mover_c("move_data", 4, fresh))],
    );
    let built = build_repo(&steps_dir, &dir.path().join("repo")).expect("history builds");
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = history_at(&index, "HEAD");
    let events = head
        .function_history("move_data", Some("fs/mover.c"))
        .expect("history");
    let got: Vec<(String, &str, Option<&str>)> = steps(&built, events.iter().map(|e| &e.id))
        .into_iter()
        .zip(&events)
        .map(|(step, e)| {
            (
                step,
                e.function.as_str(),
                e.origins.first().map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("04-change".to_string(), "move_data", None),
            ("03-rename".to_string(), "move_data", Some("do_move")),
            ("02-tweak".to_string(), "do_move", None),
            ("01-initial".to_string(), "do_move", None),
        ]
    );
    // The name alone stops at the rename; a function inserted as new code has no origin.
    assert_eq!(
        head.function_changes("move_data", None)
            .expect("changes")
            .len(),
        2
    );
    let unrelated = head.function_history("unrelated", None).expect("history");
    assert_eq!(unrelated.len(), 1);
    assert!(unrelated[0].origins.is_empty());
}

#[test]
fn history_follows_a_moved_wrapper_into_the_code_it_took_over() {
    let dir = tempfile::tempdir().expect("temp dir");
    let steps_dir = dir.path().join("history");
    let wrapper = "static inline int lock_try(int x)\n{\n\treturn __lock_try(x);\n}\n";
    write_step(
        &steps_dir,
        "01-initial",
        "date: 2026-01-01T10:00:00Z",
        "",
        &[
            ("fs/lock.c", &mover_c("__lock_try", 1, "")),
            ("fs/lock.h", wrapper),
        ],
    );
    write_step(
        &steps_dir,
        "02-tweak",
        "date: 2026-01-02T10:00:00Z\nparent: 01-initial",
        "",
        &[
            ("fs/lock.c", &mover_c("__lock_try", 2, "")),
            ("fs/lock.h", wrapper),
        ],
    );
    write_step(
        &steps_dir,
        "03-fold",
        "date: 2026-01-03T10:00:00Z\nparent: 02-tweak",
        "",
        &[
            ("fs/lock.c", &mover_c("lock_try", 2, "")),
            ("fs/lock.h", "int lock_try(int x);\n"),
        ],
    );
    let built = build_repo(&steps_dir, &dir.path().join("repo")).expect("history builds");
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = history_at(&index, "HEAD");
    let events = head
        .function_history("lock_try", Some("fs/lock.c"))
        .expect("history");
    let mut got: Vec<(String, String, String)> = steps(&built, events.iter().map(|e| &e.id))
        .into_iter()
        .zip(&events)
        .map(|(step, e)| (step, e.function.clone(), format!("{:?}", e.change)))
        .collect();
    got.sort();
    let expect = [
        ("01-initial", "__lock_try", "Added"),
        ("01-initial", "lock_try", "Added"),
        ("02-tweak", "__lock_try", "Modified"),
        ("03-fold", "lock_try", "Moved"),
    ];
    assert_eq!(
        got,
        expect.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );
    assert_eq!(events[0].origins, ["__lock_try"]);
}
