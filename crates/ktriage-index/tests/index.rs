//! The source index over the bundled example history: queries as of any commit, renames,
//! moves, incremental indexing and bad input.

use ktriage_example::{build_repo, bundled_history, BuiltRepo};
use ktriage_index::{Error, Index, NoProgress};
use std::path::Path;

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

/// `path:line` of every definition (not prototype) of `symbol` at `rev`.
fn def_at(index: &Index, rev: &str, symbol: &str) -> Vec<String> {
    let rev = index.resolve(rev).expect("rev resolves");
    let snapshot = index.snapshot(&rev, &NoProgress).expect("snapshot");
    snapshot
        .def(symbol)
        .expect("def")
        .into_iter()
        .filter(|d| d.kind.is_definition())
        .map(|d| format!("{}:{}", d.path, d.line))
        .collect()
}

#[test]
fn symbols_exist_only_from_the_commit_that_adds_them() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    assert!(def_at(&index, &id(&built, "01-initial"), "minifs_inode_create").is_empty());
    assert_eq!(
        def_at(&index, &id(&built, "02-add-inode"), "minifs_inode_create"),
        ["fs/minifs/inode.c:14"]
    );
    // bucket_is_dirty comes in on a side branch and reaches master with the merge.
    assert!(def_at(
        &index,
        &id(&built, "06-inode-whitespace"),
        "bucket_is_dirty"
    )
    .is_empty());
    assert_eq!(
        def_at(&index, &id(&built, "07-util-helper"), "bucket_is_dirty"),
        ["fs/minifs/util.h:12"]
    );
    assert_eq!(
        def_at(&index, &id(&built, "08-merge-util"), "bucket_is_dirty"),
        ["fs/minifs/util.h:12"]
    );
}

#[test]
fn renamed_and_moved_code_is_found_where_it_is() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    assert_eq!(
        def_at(&index, &id(&built, "02-add-inode"), "btree_node_search"),
        ["fs/minifs/btree.c:15"]
    );
    assert_eq!(
        def_at(&index, &id(&built, "03-rename-btree"), "btree_node_search"),
        ["fs/minifs/btree_iter.c:15"]
    );
    assert_eq!(
        def_at(
            &index,
            &id(&built, "03-rename-btree"),
            "minifs_discard_one_bucket"
        ),
        ["fs/minifs/alloc.c:14"]
    );
    assert_eq!(
        def_at(&index, "HEAD", "minifs_discard_one_bucket"),
        ["fs/minifs/discard.c:14"]
    );
}

#[test]
fn callers_callees_search_grep_and_cat() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = index.resolve("HEAD").expect("HEAD");
    let snapshot = index.snapshot(&head, &NoProgress).expect("snapshot");

    let callers: Vec<String> = snapshot
        .callers("minifs_fs_emergency_read_only")
        .expect("callers")
        .into_iter()
        .map(|c| format!("{}:{} {}", c.path, c.line, c.caller))
        .collect();
    assert_eq!(
        callers,
        ["fs/minifs/discard.c:22 minifs_discard_one_bucket"]
    );

    let callees: Vec<String> = snapshot
        .callees("minifs_discard_one_bucket")
        .expect("callees")
        .into_iter()
        .map(|c| c.callee)
        .collect();
    for expected in [
        "bucket_is_empty",
        "minifs_fs_emergency_read_only",
        "discard_submit",
    ] {
        assert!(
            callees.iter().any(|c| c == expected),
            "{expected} in {callees:?}"
        );
    }

    let hits = snapshot.search("discard bucket", 5).expect("search");
    assert_eq!(
        hits.first().and_then(|hit| hit.symbol.as_deref()),
        Some("minifs_discard_one_bucket"),
        "{hits:?}"
    );
    let hits = snapshot
        .search("no longer need_discard", 5)
        .expect("search");
    assert!(
        hits.iter().any(|hit| hit.kind == "message"
            && hit.path == "fs/minifs/discard.c"
            && hit.line == 20),
        "{hits:?}"
    );

    let grep = snapshot.grep(r"EXPORT_SYMBOL\(", 100).expect("grep");
    let grep: Vec<String> = grep
        .into_iter()
        .map(|hit| format!("{}:{}", hit.path, hit.line))
        .collect();
    assert_eq!(
        grep,
        [
            "fs/minifs/discard.c:31",
            "fs/minifs/super.c:18",
            "fs/minifs/super.c:48"
        ]
    );
    assert!(matches!(snapshot.grep("(", 10), Err(Error::BadQuery(_))));

    let text = snapshot
        .read("fs/bcachefs/minifs/discard.c", Some(14), Some(15))
        .expect("alias resolves");
    assert_eq!(text.path, "fs/minifs/discard.c");
    assert_eq!(
        text.lines,
        [
            "int minifs_discard_one_bucket(struct minifs_fs *c, struct minifs_bucket *b)",
            "{"
        ]
    );
    assert!(matches!(
        snapshot.read("fs/minifs/nope.c", None, None),
        Err(Error::NoSuchPath { .. })
    ));
}

#[test]
fn a_line_between_functions_finds_the_nearest_one() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = index.resolve("HEAD").expect("HEAD");
    let snapshot = index.snapshot(&head, &NoProgress).expect("snapshot");
    let near = |line, within| {
        snapshot
            .function_near("fs/minifs/super.c", line, within)
            .expect("query")
            .map(|d| d.name)
    };
    let inside = near(14, 0);
    assert_eq!(inside.as_deref(), Some("minifs_fs_emergency_read_only"));
    assert_eq!(
        snapshot
            .function_at("fs/minifs/super.c", 14)
            .expect("query")
            .map(|d| d.name),
        inside
    );
    // Line 19 is blank, one line above the next function.
    assert_eq!(near(19, 0), None);
    assert_eq!(near(19, 12).as_deref(), Some("minifs_check_buckets"));
    // Line 10 is blank, one line above the first function.
    assert_eq!(
        near(10, 12).as_deref(),
        Some("minifs_fs_emergency_read_only")
    );
    // Nothing follows the last function.
    assert_eq!(near(10_000, 12), None);
}

#[test]
fn the_old_tree_does_not_see_newer_code() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    // Index HEAD first, then ask about an old commit: nothing of HEAD may leak into it.
    def_at(&index, "HEAD", "minifs_inode_create");
    let rev = index.resolve(&id(&built, "01-initial")).expect("rev");
    let snapshot = index.snapshot(&rev, &NoProgress).expect("snapshot");
    assert!(snapshot
        .search("inode creation", 10)
        .expect("search")
        .iter()
        .all(|hit| hit.path != "fs/minifs/inode.c"));
    assert!(snapshot
        .callers("minifs_bucket_alloc")
        .expect("callers")
        .is_empty());
    assert!(snapshot.grep("kzalloc", 10).expect("grep").is_empty());
}

#[test]
fn incremental_indexing_equals_a_fresh_index() {
    let (dir, built) = example();
    let incremental = Index::open_or_create(&built.path, None).expect("index");
    for commit in &built.commits {
        let rev = incremental.resolve(&commit.id.to_string()).expect("rev");
        incremental.index_rev(&rev, &NoProgress).expect("index rev");
    }
    let fresh =
        Index::open_or_create(&built.path, Some(&dir.path().join("fresh"))).expect("fresh index");
    for symbol in [
        "minifs_discard_one_bucket",
        "bucket_is_dirty",
        "minifs_err",
        "btree_node_search",
        "minifs_fs",
    ] {
        for commit in &built.commits {
            let rev = commit.id.to_string();
            assert_eq!(
                def_at(&incremental, &rev, symbol),
                def_at(&fresh, &rev, symbol),
                "{symbol} at {}",
                commit.step
            );
        }
    }
    let rev = fresh.resolve("HEAD").expect("HEAD");
    let (a, b) = (
        incremental.snapshot(&rev, &NoProgress).expect("a"),
        fresh.snapshot(&rev, &NoProgress).expect("b"),
    );
    let search = |s: &ktriage_index::Snapshot| -> Vec<String> {
        s.search("bucket dirty sectors", 10)
            .expect("search")
            .into_iter()
            .map(|h| format!("{}:{}", h.path, h.line))
            .collect()
    };
    assert_eq!(search(&a), search(&b));
}

#[test]
fn an_interrupted_index_is_finished_by_the_next_run() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let head = index.resolve("HEAD").expect("HEAD");
    let first = index.index_rev(&head, &NoProgress).expect("first run");
    assert!(first.new_blobs > 0);
    let again = index.index_rev(&head, &NoProgress).expect("second run");
    assert_eq!(again.new_blobs, 0, "nothing left to do");
    drop(index);
    // Reopening gives the same answers.
    let index = Index::open(&built.path, None).expect("reopen");
    assert_eq!(
        def_at(&index, "HEAD", "minifs_fs_start"),
        ["fs/minifs/super.c:35"]
    );
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = Index::open_or_create(dir.path(), None)
        .err()
        .expect("not a repo");
    assert!(matches!(err, Error::NotARepo { .. }), "{err}");
    assert!(err.to_string().contains("not a git repository"));

    let (_dir, built) = example();
    let err = Index::open(&built.path, None).err().expect("no index yet");
    assert!(err.to_string().contains("run `ktriage index`"), "{err}");
    let index = Index::open_or_create(&built.path, None).expect("index");
    let err = index.resolve("no-such-branch").expect_err("unknown rev");
    assert!(
        err.to_string()
            .contains("unknown revision `no-such-branch`"),
        "{err}"
    );
    let index_dir = index.dir().to_path_buf();
    drop(index);

    std::fs::write(index_dir.join("meta.json"), r#"{"schema": 999}"#).expect("write meta");
    let err = Index::open(&built.path, None).err().expect("old schema");
    assert!(matches!(err, Error::IndexVersion { .. }), "{err}");
    assert!(err.to_string().contains("--rebuild"));

    std::fs::write(
        index_dir.join("meta.json"),
        format!(r#"{{"schema": {}}}"#, ktriage_index::SCHEMA_VERSION),
    )
    .expect("write meta");
    std::fs::write(index_dir.join("store.redb"), b"this is not a database").expect("clobber store");
    let err = Index::open(&built.path, None).err().expect("corrupt store");
    assert!(matches!(err, Error::IndexCorrupt { .. }), "{err}");
}

#[test]
fn binary_huge_and_invalid_utf8_sources_do_not_break_indexing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = dir.path().join("history");
    let files = history.join("01-odd-files/files/fs/odd");
    std::fs::create_dir_all(&files).expect("mkdir");
    std::fs::write(
        history.join("01-odd-files/COMMIT"),
        "author: A <a@example.org>\ndate: 2026-01-01T00:00:00Z\n\nodd files\n",
    )
    .expect("commit file");
    std::fs::write(files.join("binary.c"), [0u8, 1, 2, 255, 0, 7].repeat(100)).expect("binary");
    let mut latin1 =
        b"int caf\xe9(void) { return 0; }\nint ok_fn(void)\n{\n\treturn 1;\n}\n".to_vec();
    latin1.extend_from_slice(b"/* \xff\xfe */\n");
    std::fs::write(files.join("latin1.c"), latin1).expect("latin1");
    let mut huge = String::new();
    while huge.len() < (5 << 20) {
        huge.push_str(
            "static int filler_table[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };\n",
        );
    }
    std::fs::write(files.join("huge.c"), huge).expect("huge");
    let built = build_repo(&history, &dir.path().join("repo")).expect("repo builds");
    let index = Index::open_or_create(&built.path, None).expect("index");
    let stats = index
        .index_rev(&index.resolve("HEAD").expect("HEAD"), &NoProgress)
        .expect("indexing succeeds");
    assert_eq!(stats.files, 3);
    assert_eq!(
        stats.skipped_blobs, 2,
        "binary and huge files are listed but not parsed"
    );
    assert_eq!(def_at(&index, "HEAD", "ok_fn"), ["fs/odd/latin1.c:2"]);
    assert!(Path::new(&built.path).join("fs/odd/huge.c").exists());
}

#[test]
fn read_only_indexes_share_the_index_and_never_write() {
    let (_dir, built) = example();
    let head = id(&built, "08-merge-util");
    let index = Index::open_or_create(&built.path, None).expect("index");
    let expected = def_at(&index, &head, "bucket_is_dirty");
    let index_dir = index.dir().to_path_buf();
    drop(index);
    let store = index_dir.join("store.redb");
    let before = std::fs::read(&store).expect("store");

    // Two readers at once see the indexed commit.
    let first = Index::open_read_only(&built.path, None).expect("first reader");
    let second = Index::open_read_only(&built.path, None).expect("second reader");
    assert_eq!(def_at(&first, &head, "bucket_is_dirty"), expected);
    assert_eq!(def_at(&second, &head, "bucket_is_dirty"), expected);

    // A commit not indexed yet needs a writer; the reader says so and writes nothing.
    let older = first.resolve(&id(&built, "01-initial")).expect("rev");
    let err = first
        .snapshot(&older, &NoProgress)
        .err()
        .expect("needs indexing");
    assert!(matches!(err, Error::ReadOnly { .. }), "{err}");
    let err = first
        .history(&older, &NoProgress)
        .err()
        .expect("needs history");
    assert!(matches!(err, Error::ReadOnly { .. }), "{err}");
    drop((first, second));
    assert_eq!(
        std::fs::read(&store).expect("store"),
        before,
        "readers wrote to the store"
    );

    // No index at all: a reader cannot open one.
    let (_other_dir, other) = example();
    let err = Index::open_read_only(&other.path, None)
        .err()
        .expect("no index yet");
    assert!(matches!(err, Error::IndexMissing { .. }), "{err}");
}

#[test]
fn head_is_read_from_the_ref_files_as_git_resolves_it() {
    let (_dir, built) = example();
    let git_dir = built.path.join(".git");
    let by_git = |path: &Path| {
        let repo = ktriage_index::repo::Repo::open(path).expect("opens");
        (
            repo.head_from_files(),
            repo.resolve("HEAD").expect("HEAD resolves").commit,
        )
    };
    // HEAD names a branch with a loose ref; from the work tree and from the git dir.
    for path in [built.path.as_path(), git_dir.as_path()] {
        let (from_files, head) = by_git(path);
        assert_eq!(from_files, Some(head), "{}", path.display());
    }
    // The branch packed, as `git pack-refs --all` leaves it.
    let branch = std::fs::read_to_string(git_dir.join("HEAD")).expect("HEAD");
    let branch = branch
        .trim()
        .strip_prefix("ref: ")
        .expect("HEAD is symbolic");
    let loose = git_dir.join(branch);
    let tip = std::fs::read_to_string(&loose).expect("loose ref");
    std::fs::remove_file(&loose).expect("removes the loose ref");
    let first = built.commits[0].id.to_string();
    std::fs::write(
        git_dir.join("packed-refs"),
        format!(
            "# pack-refs with: peeled fully-peeled sorted \n{first} refs/heads/elsewhere\n{} {branch}\n",
            tip.trim()
        ),
    )
    .expect("writes packed-refs");
    let (from_files, head) = by_git(&built.path);
    assert_eq!(from_files, Some(head));
    assert_eq!(head.to_string(), tip.trim());
    // A detached HEAD.
    std::fs::write(git_dir.join("HEAD"), format!("{first}\n")).expect("detaches HEAD");
    let (from_files, head) = by_git(&built.path);
    assert_eq!((from_files, head.to_string()), (Some(head), first));
    // A ref the files do not have (another ref storage): left to libgit2.
    std::fs::write(git_dir.join("HEAD"), "ref: refs/heads/.invalid\n").expect("writes HEAD");
    let repo = ktriage_index::repo::Repo::open(&built.path).expect("opens");
    assert_eq!(repo.head_from_files(), None);
}
