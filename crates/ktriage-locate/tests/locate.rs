//! The evidence engine on the bundled example: the bug's splat leads to the function, the file
//! and the commit that introduced it, and nothing after the revision is seen.

use ktriage_example::{build_repo, bundled_history, BuiltRepo};
use ktriage_index::{Index, NoProgress};
use ktriage_locate::{locate, Dossier, Options};

const SPLAT: &str = "\
00042 [   41.123456] Kernel panic - not syncing: minifs: discarded bucket 36 that is no longer need_discard, dirty 2016
00042 [   41.123500] CPU: 1 PID: 112 Comm: kworker/1:2 Not tainted 6.8.0-minifs #1
00042 [   41.123510] Call Trace:
00042 [   41.123520]  <TASK>
00042 [   41.123530]  dump_stack_lvl+0x4c/0x70
00042 [   41.123540]  panic+0x31a/0x370
00042 [   41.123550]  minifs_discard_one_bucket+0x9e/0xb0 [minifs]
00042 [   41.123560]  minifs_discard_worker+0x55/0x90 [minifs]
00042 [   41.123570]  process_one_work+0x1e5/0x3b0
00042 [   41.123580]  </TASK>
";

fn example() -> (tempfile::TempDir, BuiltRepo) {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = build_repo(&bundled_history(), &dir.path().join("repo")).expect("example builds");
    (dir, built)
}

fn locate_at(index: &Index, rev: &str, text: &str) -> Dossier {
    let rev = index.resolve(rev).expect("rev");
    let snapshot = index.snapshot(&rev, &NoProgress).expect("snapshot");
    let history = index.history(&rev, &NoProgress).expect("history");
    locate(&snapshot, Some(&history), text, &Options::with_limit(10)).expect("locate")
}

#[test]
fn the_splat_points_at_the_function_file_and_culprit() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let bug = built.id("05-discard-panic").expect("step").to_string();
    let dossier = locate_at(
        &index,
        &built.id("08-merge-util").expect("step").to_string(),
        SPLAT,
    );
    assert_eq!(
        dossier.files[0].path, "fs/minifs/discard.c",
        "{:#?}",
        dossier.files
    );
    assert_eq!(dossier.functions[0].name, "minifs_discard_one_bucket");
    assert!(!dossier.functions[0].why.is_empty());
    let position = dossier.commits.iter().position(|c| c.id == bug);
    assert!(
        position.is_some_and(|p| p < 3),
        "the bug commit ranks in the top 3: {:#?}",
        dossier.commits
    );
    assert!(dossier
        .snippets
        .iter()
        .any(|s| s.path == "fs/minifs/discard.c" && s.text.contains("panic(")));
}

#[test]
fn nothing_after_the_revision_influences_the_answer() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    // Index everything first, so the fix (whose message quotes the splat) is in the index.
    let head = index.resolve("HEAD").expect("HEAD");
    index.history(&head, &NoProgress).expect("history at HEAD");
    let fix = built.id("09-fix-discard").expect("step").to_string();
    let parent = built.id("08-merge-util").expect("step").to_string();
    let before = locate_at(&index, &parent, SPLAT);
    assert!(
        before.commits.iter().all(|c| c.id != fix),
        "the fix is invisible at its parent"
    );
    let later: Vec<String> = ["09-fix-discard", "10-fix-inode-leak"]
        .iter()
        .map(|s| built.id(s).expect("step").to_string())
        .collect();
    assert!(before.commits.iter().all(|c| !later.contains(&c.id)));
    // The same question asked of a fresh index that never saw the fix gives the same answer.
    let dir = tempfile::tempdir().expect("temp dir");
    let fresh = Index::open_or_create(&built.path, Some(dir.path())).expect("fresh index");
    let isolated = locate_at(&fresh, &parent, SPLAT);
    let ids = |d: &Dossier| {
        d.commits
            .iter()
            .map(|c| (c.id.clone(), format!("{:.6}", c.score)))
            .collect::<Vec<_>>()
    };
    let paths = |d: &Dossier| {
        d.files
            .iter()
            .map(|f| (f.path.clone(), format!("{:.6}", f.score)))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&before), ids(&isolated));
    assert_eq!(paths(&before), paths(&isolated));
    // At the fix itself, its message is visible and matches the splat.
    let at_fix = locate_at(&index, &fix, SPLAT);
    assert!(at_fix.commits.iter().any(|c| c.id == fix));
}

#[test]
fn compiler_diagnostics_and_messages_localize() {
    let (_dir, built) = example();
    let index = Index::open_or_create(&built.path, None).expect("index");
    let build = "fs/minifs/inode.c:33:3: error: implicit declaration of function 'kfree'\n";
    let dossier = locate_at(&index, "HEAD", build);
    assert_eq!(dossier.report.kind, ktriage_locate::clues::QueryKind::Build);
    assert_eq!(dossier.files[0].path, "fs/minifs/inode.c");
    assert_eq!(dossier.functions[0].name, "minifs_inode_create");
    let message = "minifs (vdb): bucket 12 needs discard but has 8 dirty sectors";
    let dossier = locate_at(&index, "HEAD", message);
    assert_eq!(
        dossier.functions[0].name, "minifs_check_buckets",
        "{:#?}",
        dossier.functions
    );
}

/// Locates `text` at HEAD of a one-commit repository holding `files`, built the way the
/// example's history is.
fn locate_in_one_commit(files: &[(&str, &str)], text: &str) -> Dossier {
    let dir = tempfile::tempdir().expect("temp dir");
    let step = dir.path().join("history").join("01-initial");
    std::fs::create_dir_all(&step).expect("step dir");
    std::fs::write(
        step.join("COMMIT"),
        "author: Dev <dev@example.org>\ndate: 2026-01-01T10:00:00Z\n\ninitial\n",
    )
    .expect("COMMIT");
    for (path, text) in files {
        let file = step.join("files").join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("files dir");
        std::fs::write(file, text).expect("file");
    }
    let built =
        build_repo(&dir.path().join("history"), &dir.path().join("repo")).expect("repo builds");
    let index = Index::open_or_create(&built.path, None).expect("index");
    locate_at(&index, "HEAD", text)
}

#[test]
fn a_function_pointer_in_a_named_macro_is_credited() {
    let source = "\
static int alpha_check(const struct fs *c, unsigned flags)
{
\treturn 0;
}

static int beta_check(const struct fs *c, enum key_flags flags)
{
\treturn 1;
}

#define ops_entry_one ((struct key_ops) {\t\\
\t.invalid = alpha_check,\t\\
})

const struct key_ops key_ops_table[] = {
\tops_entry_one,
};
";
    let error = "\
fs/keys.c:16:2: error: incompatible function pointer types initializing 'int (*)(const struct fs *, enum key_flags)' with an expression of type 'int (const struct fs *, unsigned int)'
fs/keys.c:11:17: note: expanded from macro 'ops_entry_one'
";
    let dossier = locate_in_one_commit(&[("fs/keys.c", source)], error);
    assert_eq!(dossier.files[0].path, "fs/keys.c");
    assert_eq!(
        dossier.functions[0].name, "alpha_check",
        "{:#?}",
        dossier.functions
    );
}

#[test]
fn a_kernel_path_outside_the_subsystem_is_not_the_trees_file_of_that_name() {
    let super_c = "\
void fs_stop(struct fs *c)
{
\tfs_read_only(c);
}
";
    let gc_c = "\
void gc_gens(struct fs *c)
{
\tdown_read(&c->state_lock);
}
";
    // The log names the subsystem's files under fs/minifs/ (the kernel's paths), so its
    // fs/super.c is the VFS's, not the tree's fs/super.c.
    let hang = "\
INFO: task tee:6182 blocked for more than 122 seconds.
Call trace:
 schedule (kernel/sched/core.c:6608)
 down_read (kernel/locking/rwsem.c:1529)
 gc_gens (fs/minifs/gc.c:3)
 generic_shutdown_super (fs/super.c:650)
 deactivate_locked_super (fs/super.c:434 fs/super.c:475)
";
    let dossier = locate_in_one_commit(&[("fs/super.c", super_c), ("fs/gc.c", gc_c)], hang);
    assert_eq!(dossier.files[0].path, "fs/gc.c", "{:#?}", dossier.files);
    assert!(
        dossier.files.iter().all(|file| file.path != "fs/super.c"),
        "{:#?}",
        dossier.files
    );
}

#[test]
fn the_stack_says_which_caller_of_the_crashing_function_ran() {
    let source = "\
static void check_bucket(struct fs *c, int b)
{
\tBUG_ON(b < 0);
}

void alloc_one(struct fs *c)
{
\tcheck_bucket(c, 1);
}

void alloc_two(struct fs *c)
{
\tcheck_bucket(c, 2);
}

void alloc_three(struct fs *c)
{
\tcheck_bucket(c, 3);
}
";
    let splat = "\
kernel BUG at fs/minifs/alloc.c:3!
Oops: invalid opcode: 0000 [#1] PREEMPT SMP
RIP: 0010:check_bucket+0x12/0x20 [minifs]
Call Trace:
 <TASK>
 check_bucket+0x12/0x20 [minifs]
 alloc_two+0x9/0x10 [minifs]
 </TASK>
";
    let dossier = locate_in_one_commit(&[("fs/alloc.c", source)], splat);
    let caller_credited = |name: &str| {
        dossier
            .functions
            .iter()
            .any(|f| f.name == name && f.why.iter().any(|w| w.starts_with("calls check_bucket")))
    };
    assert!(caller_credited("alloc_two"), "{:#?}", dossier.functions);
    assert!(!caller_credited("alloc_one"), "{:#?}", dossier.functions);
    assert!(!caller_credited("alloc_three"), "{:#?}", dossier.functions);
}

/// A splat at `fs/minifs/extent.c:LINE` in `lookup`, called from `move_one` in move.c.
fn bug_in_lookup(line: u32) -> String {
    format!(
        "\
kernel BUG at fs/minifs/extent.c:{line}!
Oops: invalid opcode: 0000 [#1] PREEMPT SMP
RIP: 0010:lookup+0x12/0x20 [minifs]
Call Trace:
 <TASK>
 move_one+0x9/0x10 [minifs]
 </TASK>
"
    )
}

#[test]
fn an_assertion_on_the_arguments_blames_the_caller_that_passed_them() {
    let extent_c = "\
int lookup(struct fs *c, long *offset, unsigned size)
{
\tBUG_ON(*offset >= size);
\tBUG_ON(c->broken);
\treturn 0;
}
";
    let move_c = "\
void move_one(struct fs *c)
{
\tlong offset = 8;
\tlookup(c, &offset, 4);
}
";
    let files = [("fs/extent.c", extent_c), ("fs/move.c", move_c)];
    // Line 3 checks only what the caller passed: the caller is to blame.
    let dossier = locate_in_one_commit(&files, &bug_in_lookup(3));
    assert_eq!(dossier.files[0].path, "fs/move.c", "{:#?}", dossier.files);
    assert_eq!(dossier.functions[0].name, "move_one");
    // Line 4 checks the filesystem's state, which the caller did not pass.
    let dossier = locate_in_one_commit(&files, &bug_in_lookup(4));
    assert_eq!(dossier.files[0].path, "fs/extent.c", "{:#?}", dossier.files);
}

#[test]
fn a_zero_length_array_warning_points_at_the_declaration() {
    let types_h = "\
struct table {
\tunsigned nr;
\tstruct table_entry {
\t\tunsigned long start;
\t} entries[0];
};
";
    let table_c = "\
unsigned long first_start(struct table *t)
{
\treturn t->entries[0].start;
}
";
    let warning = "\
fs/minifs/table.c:3:19: warning: array subscript 0 is outside array bounds of 'struct table_entry[0]' [-Warray-bounds=]
";
    let files = [("fs/types.h", types_h), ("fs/table.c", table_c)];
    let dossier = locate_in_one_commit(&files, warning);
    assert_eq!(dossier.files[0].path, "fs/types.h", "{:#?}", dossier.files);
}
