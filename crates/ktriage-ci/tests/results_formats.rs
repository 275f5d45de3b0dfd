//! The result-tree readers on small fixtures: ktestci trees (plain, brotli, truncated
//! brotli, infra, in-progress), dashboard JSON, ktest-out, xfstests, KTAP, JUnit, and errors.

use std::io::Write;
use std::path::{Path, PathBuf};

use ktriage_ci::results::{
    detect, read_results, read_results_with, Error, InfraCause, InputFormat, ReadOptions,
    ResultSet, Run, Signature, Status,
};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/results")
        .join(rel)
}

/// A signer independent of the report parser: the first WARNING or mismatch line.
fn line_signer(log: &[u8]) -> Option<Signature> {
    let text = String::from_utf8_lossy(log);
    let line = text
        .lines()
        .find(|l| l.contains("WARNING:") || l.contains("output mismatch"))?;
    let title = line.split("] ").last().unwrap_or(line).trim().to_owned();
    Some(Signature {
        key: title.clone(),
        title,
    })
}

fn read_with_line_signer(path: &Path) -> ResultSet {
    let opts = ReadOptions {
        signer: line_signer,
        ..ReadOptions::default()
    };
    read_results_with(path, &opts).expect("read")
}

fn run<'a>(set: &'a ResultSet, commit: usize, test: &str) -> &'a Run {
    set.commits[commit]
        .runs
        .iter()
        .find(|r| r.test == test)
        .unwrap_or_else(|| panic!("no run {test}: {:?}", set.commits[commit].runs))
}

fn write(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, content).expect("write");
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).expect("compress");
    }
    out
}

const FAILING_LOG: &str = "00000 ktest: fs/x.ktest: t on w (x86_64)\n\
00002 ========= TEST   t\n\
00010 [    9.000000] WARNING: CPU: 1 PID: 7 at fs/bcachefs/a.c:10 f+0x1/0x2 [bcachefs]\n\
00011 ========= FAILED t in 9s\n";

const C1: &str = "1111111111111111111111111111111111111111";
const C2: &str = "2222222222222222222222222222222222222222";

/// A two-commit ktestci tree covering every status and log form.
fn ktestci_tree(dir: &Path, with_branch: bool) {
    if with_branch {
        let branch = format!(
            r#"[{{"commit": "{C2}", "message": "newer", "passed": 1}}, {{"commit": "{C1}", "message": "older"}}]"#
        );
        write(&dir.join("branch.json"), branch.as_bytes());
    }
    for c in [C1, C2] {
        let t = dir.join(c);
        write(&t.join("a.pass/status"), b"PASSED\n");
        write(&t.join("a.pass/duration"), b"12\n");
        write(
            &t.join("a.pass/log"),
            b"\xff\xfe never read for passing tests",
        );
        write(&t.join("b.plain/status"), b"FAILED\n");
        write(&t.join("b.plain/log"), FAILING_LOG.as_bytes());
        write(&t.join("c.brotli/status"), b"FAILED TIMEOUT\n");
        write(&t.join("c.brotli/duration"), b"7200");
        write(&t.join("c.brotli/log.br"), &brotli(FAILING_LOG.as_bytes()));
        let mut truncated = brotli(FAILING_LOG.repeat(50).as_bytes());
        truncated.truncate(truncated.len() / 2);
        write(&t.join("d.truncated/status"), b"FAILED");
        write(&t.join("d.truncated/full_log.br"), &truncated);
        write(&t.join("e.infra/status"), b"FAILED");
        write(
            &t.join("e.infra/log"),
            b"00000 ktest: starting VM\n00003 qemu-system-x86_64: failed to initialize kvm: Cannot allocate memory\n",
        );
        write(&t.join("f.running/status"), b"");
        write(&t.join("g.garbage/status"), b"\x00\x01 what is this");
        write(&t.join("g.garbage/duration"), b"soon");
        write(&t.join("h.notrun/status"), b"NOTRUN");
    }
}

#[test]
fn ktestci_tree_reads_every_status_and_log_form() {
    let dir = tempfile::tempdir().expect("tempdir");
    ktestci_tree(dir.path(), true);
    assert_eq!(detect(dir.path()).expect("detect"), InputFormat::Ktestci);
    let set = read_with_line_signer(dir.path());
    assert_eq!(set.format, InputFormat::Ktestci);
    let ids: Vec<&str> = set.commits.iter().map(|c| c.commit.as_str()).collect();
    assert_eq!(ids, [C2, C1], "newest first, from branch.json");
    assert_eq!(set.commits[0].message.as_deref(), Some("newer"));

    let pass = run(&set, 0, "a.pass");
    assert_eq!((pass.status, pass.duration), (Status::Passed, Some(12)));
    assert!(pass.log.is_none(), "passing logs are not read");

    let plain = run(&set, 0, "b.plain");
    assert_eq!(plain.status, Status::Failed);
    let log = plain.log.as_ref().expect("log");
    assert!(log.reached_test && log.infra.is_none());
    assert!(plain
        .signature()
        .expect("sig")
        .title
        .starts_with("WARNING: CPU: 1"));

    let br = run(&set, 0, "c.brotli");
    assert_eq!(
        (br.status, br.duration),
        (Status::FailedTimeout, Some(7200))
    );
    assert_eq!(br.signature(), plain.signature());

    let truncated = run(&set, 0, "d.truncated").log.as_ref().expect("log");
    assert!(
        truncated
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("brotli")),
        "{truncated:?}"
    );
    assert!(set.warnings.iter().any(|w| w.contains("full_log.br")));

    let infra = run(&set, 0, "e.infra");
    assert_eq!(infra.status, Status::FailedToRun);
    assert!(infra.is_infra());
    assert_eq!(
        infra.log.as_ref().and_then(|l| l.infra),
        Some(InfraCause::VmStart)
    );

    assert_eq!(run(&set, 0, "f.running").status, Status::InProgress);
    let garbage = run(&set, 0, "g.garbage");
    assert_eq!((garbage.status, garbage.duration), (Status::Unknown, None));
    assert_eq!(run(&set, 1, "h.notrun").status, Status::NotRun);
}

#[test]
fn ktestci_tree_without_branch_json_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    ktestci_tree(dir.path(), false);
    let set = read_with_line_signer(dir.path());
    assert_eq!(set.commits.len(), 2);
    assert!(set.warnings.iter().any(|w| w.contains("no branch.json")));
}

#[test]
fn dashboard_json_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let branch = format!(r#"[{{"commit": "{C2}"}}, {{"commit": "{C1}"}}]"#);
    write(&dir.path().join("branch.json"), branch.as_bytes());
    let tests = r#"{"commit": "x", "tests": [
        {"name": "t.a", "status": "passed", "duration": 3},
        {"name": "t.b", "status": "failed_to_run", "duration": 1},
        {"name": "t.c", "status": "failed_timeout", "duration": 7200.0},
        {"name": "t.d", "status": null, "duration": null}]}"#;
    write(&dir.path().join(format!("{C2}.json")), tests.as_bytes());
    assert_eq!(detect(dir.path()).expect("detect"), InputFormat::Dashboard);
    let set = read_results(dir.path()).expect("read");
    assert_eq!(run(&set, 0, "t.b").status, Status::FailedToRun);
    assert_eq!(run(&set, 0, "t.c").status, Status::FailedTimeout);
    assert_eq!(run(&set, 0, "t.d").status, Status::InProgress);
    assert!(set.commits[1].runs.is_empty());
    assert!(set.warnings.iter().any(|w| w.contains(C1)));
}

#[test]
fn ktest_out_directory() {
    let path = data("ktest-out");
    assert_eq!(detect(&path).expect("detect"), InputFormat::KtestOut);
    let set = read_with_line_signer(&path);
    assert_eq!(set.commits.len(), 1);
    assert_eq!(
        set.commits[0].commit,
        "5661dbef7ba47b6f159b17aa4bb7aaa42675c672"
    );
    let fail = run(&set, 0, "fs.simple.fail");
    assert_eq!(fail.status, Status::Failed);
    // "No space left on device" printed by the test itself is not an infra failure.
    assert!(!fail.is_infra());
    assert!(fail.signature().is_some());
    assert_eq!(run(&set, 0, "fs.simple.pass").status, Status::Passed);
}

#[test]
fn xfstests_check_log_last_run_wins() {
    let path = data("xfstests");
    assert_eq!(detect(&path).expect("detect"), InputFormat::Xfstests);
    let set = read_results(&path).expect("read");
    assert_eq!(run(&set, 0, "generic/001").status, Status::Passed);
    let mismatch = run(&set, 0, "generic/002");
    assert_eq!(mismatch.status, Status::Failed);
    assert_eq!(
        mismatch.signature().map(|s| s.title.as_str()),
        Some("output mismatch in generic/002")
    );
    assert_eq!(run(&set, 0, "generic/003").status, Status::Failed);
    assert_eq!(run(&set, 0, "generic/004").status, Status::NotRun);
}

#[test]
fn xfstests_result_xml() {
    let set = read_results(&data("xfstests-xml")).expect("read");
    assert_eq!(set.format, InputFormat::Xfstests);
    assert_eq!(run(&set, 0, "generic/001").status, Status::Passed);
    assert_eq!(run(&set, 0, "generic/002").status, Status::Failed);
    assert_eq!(run(&set, 0, "generic/002").duration, Some(7));
    assert_eq!(run(&set, 0, "generic/004").status, Status::NotRun);
}

#[test]
fn ktap_nested_and_kselftest() {
    let file = data("ktap/kunit.ktap");
    assert_eq!(detect(&file).expect("detect"), InputFormat::Ktap);
    assert_eq!(
        detect(&data("ktap")).expect("detect dir"),
        InputFormat::Ktap
    );
    let set = read_results(&file).expect("read");
    let names: Vec<&str> = set.commits[0]
        .runs
        .iter()
        .map(|r| r.test.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "bcachefs_btree.btree_iter_basic",
            "bcachefs_btree.btree_node_merge",
            "bcachefs_btree.btree_node_split",
            "selftests.filesystems.fat_test",
        ]
    );
    assert_eq!(
        run(&set, 0, "bcachefs_btree.btree_node_merge").status,
        Status::NotRun
    );
    assert_eq!(
        run(&set, 0, "bcachefs_btree.btree_node_split").status,
        Status::Failed
    );
    assert_eq!(
        run(&set, 0, "selftests.filesystems.fat_test").status,
        Status::FailedTimeout
    );
}

#[test]
fn junit_cases() {
    let set = read_results(&data("junit")).expect("read");
    assert_eq!(set.format, InputFormat::Junit);
    let pass = run(&set, 0, "ltp.fs.fsstress01");
    assert_eq!((pass.status, pass.duration), (Status::Passed, Some(13)));
    let fail = run(&set, 0, "ltp.fs.fsx&co");
    assert_eq!(fail.status, Status::Failed);
    assert_eq!(
        fail.signature().map(|s| s.title.as_str()),
        Some("output mismatch in generic/999")
    );
    assert_eq!(run(&set, 0, "ltp.fs.quota01").status, Status::NotRun);
    assert_eq!(run(&set, 0, "standalone").status, Status::Passed);
}

#[test]
fn input_format_names_round_trip() {
    for f in InputFormat::ALL {
        assert_eq!(f.name().parse::<InputFormat>(), Ok(f));
    }
    assert!("tarball"
        .parse::<InputFormat>()
        .is_err_and(|e| e.contains("ktest-out")));
}

#[test]
fn errors_name_the_file() {
    let missing = read_results(Path::new("/nonexistent/ktriage-results"));
    assert!(matches!(&missing, Err(Error::Io { path, .. }) if path.ends_with("ktriage-results")));

    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        read_results(dir.path()),
        Err(Error::NotFound { .. })
    ));

    write(&dir.path().join("branch.json"), br#"[{"commit": 17}]"#);
    let err = read_results(dir.path()).expect_err("wrong type");
    assert!(
        matches!(&err, Error::Json { path, .. } if path.ends_with("branch.json")),
        "{err}"
    );
    assert!(err.to_string().contains("branch.json"));

    let forced = read_results_with(
        dir.path(),
        &ReadOptions {
            format: InputFormat::Junit,
            ..ReadOptions::default()
        },
    );
    assert!(forced.is_err());
}

#[test]
fn huge_line_and_binary_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path().join(C1).join("t.big");
    write(&t.join("status"), b"FAILED");
    let mut log = b"00000 ========= TEST   big\n".to_vec();
    log.extend(std::iter::repeat_n(b'x', 10 << 20));
    log.extend_from_slice(b"\n\x00\xff\xfe garbage\n");
    write(&t.join("log"), &log);
    let set = read_results(dir.path()).expect("read");
    assert_eq!(set.commits[0].runs[0].status, Status::Failed);
}
