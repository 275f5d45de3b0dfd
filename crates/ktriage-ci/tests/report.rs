//! Report parsing on small hand-written console logs in ktest/bcachefs CI format, and a
//! no-panic property test over arbitrary and mutated logs.

use ktriage_ci::clean::clean_line;
use ktriage_ci::report::{parse_log, Report};
use proptest::prelude::*;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn primary(name: &str) -> Report {
    parse_log(&data(name))
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{name}: no report"))
}

#[test]
fn bcachefs_assertion_gives_kernel_bug_title() {
    let rep = primary("bcachefs_assert_x86.log");
    assert_eq!(rep.title, "kernel BUG in bch2_btree_insert_node");
    assert_eq!(rep.kind, "BUG");
    assert_eq!(rep.frame.as_deref(), Some("bch2_btree_insert_node"));
    assert!(!rep.corrupted);
    assert_eq!(rep.start_line, 6);
    assert_eq!(rep.end_line, 24);
    let first = &rep.frames[0];
    assert_eq!(first.function, "__die_body");
    assert!(!first.reliable);
    let split = &rep.frames[1];
    assert_eq!(split.function, "bch2_btree_split_leaf");
    assert_eq!(split.module.as_deref(), Some("bcachefs"));
    assert_eq!(split.offset.as_deref(), Some("+0x1c4/0x3a0"));
    assert_eq!(
        rep.dedup_key,
        "BUG|kernel BUG in bch2_btree_insert_node|fs/bcachefs/btree/update.c:321"
    );
}

#[test]
fn report_text_is_its_span_of_the_log() {
    let log = String::from_utf8(data("bcachefs_assert_x86.log")).expect("utf-8 log");
    let rep = primary("bcachefs_assert_x86.log");
    let text = rep.text(&log);
    assert_eq!(text.lines().count(), rep.end_line - rep.start_line + 1);
    assert_eq!(text.lines().next(), log.lines().nth(rep.start_line - 1));
    assert_eq!(
        rep.text("only one line"),
        "",
        "lines past the end of the log are left out"
    );
}

#[test]
fn arm64_bug_in_interrupt() {
    let reports = parse_log(&data("bcachefs_bug_arm64.log"));
    assert_eq!(reports[0].title, "kernel BUG in bch2_read_endio");
    assert!(!reports[0].corrupted);
    // The assertion message is a weak report of its own, ranked after the BUG.
    assert_eq!(
        reports.last().map(|r| r.title.as_str()),
        Some("bcachefs: assertion failed in bch2_read_endio")
    );
}

#[test]
fn hung_task_skips_scheduler_frames() {
    let rep = primary("hung_task.log");
    assert_eq!(rep.title, "INFO: task hung in bch2_ec_read_extent");
    assert_eq!(rep.kind, "HANG");
}

#[test]
fn fstests_output_mismatch() {
    let rep = primary("fstests_mismatch.log");
    assert_eq!(rep.title, "output mismatch in generic/715");
    assert_eq!(rep.kind, "TEST-OUTPUT-MISMATCH");
    assert_eq!(rep.frame.as_deref(), Some("generic/715"));
}

#[test]
fn bcachefs_fatal_error() {
    let rep = primary("emergency_ro.log");
    assert_eq!(rep.title, "bcachefs: fatal error in bch2_journal_write");
}

#[test]
fn kernel_report_outranks_test_mismatch_and_caller_context_filters_lines() {
    let reports = parse_log(&data("kasan_with_panic_and_mismatch.log"));
    let rep = &reports[0];
    assert_eq!(
        rep.title,
        "KASAN: slab-use-after-free Read in discard_one_bucket_fast"
    );
    assert_eq!(rep.kind, "KASAN-USE-AFTER-FREE-READ");
    assert!(!rep.corrupted);
    assert!(reports
        .iter()
        .any(|r| r.title == "output mismatch in generic/019"));
}

#[test]
fn passing_log_with_errors_has_no_report() {
    assert!(parse_log(&data("passing_with_io_errors.log")).is_empty());
}

#[test]
fn a_ktest_log_without_printk_timestamps_still_has_reports() {
    // The guest console prints no timestamps (printk.time=0): kernel lines look like the
    // host's, so the "no timestamp, not the kernel's" rule must not apply.
    let log = b"00010 ktest: running generic/001\n\
00255 ------------[ cut here ]------------\n\
00255 kernel BUG at fs/bcachefs/btree_iter.c:3348!\n\
00255 Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n\
00255 RIP: 0010:__bch2_trans_get+0x120/0x410\n\
00255 Call Trace:\n\
00255  <TASK>\n\
00255  __bch2_trans_get+0x120/0x410\n\
00255  bch2_read_io_err+0x48/0xb0\n\
00255  </TASK>\n";
    let reports = parse_log(log);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].title, "kernel BUG in __bch2_trans_get");

    // With timestamps on, a line without one is the host's, even if it looks like a report.
    let log = b"00010 [    1.000000] bcachefs: starting\n\
00011 WARNING: test script says hello\n\
00012 [    2.000000] bcachefs: done\n";
    assert!(parse_log(log).is_empty());
}

#[test]
fn degenerate_inputs() {
    assert!(parse_log(b"").is_empty());
    assert!(parse_log(b"\n\n\n").is_empty());
    let rep = &parse_log(b"BUG:")[0];
    assert!(rep.corrupted);
    let long = [b"WARNING: ".as_slice(), &vec![b'x'; 1 << 20]].concat();
    assert_eq!(parse_log(&long).len(), 1);
    assert_eq!(clean_line("00001 [    1.000000][  T1] x\r"), "x");
}

/// Real-looking lines to build mutated logs from.
fn corpus_lines() -> Vec<String> {
    [
        "bcachefs_assert_x86.log",
        "bcachefs_bug_arm64.log",
        "hung_task.log",
        "kasan_with_panic_and_mismatch.log",
    ]
    .iter()
    .flat_map(|name| {
        String::from_utf8_lossy(&data(name))
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse_log(&bytes);
    }

    #[test]
    fn mutated_logs_never_panic(
        picks in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..5, any::<u8>()), 0..80),
    ) {
        let lines = corpus_lines();
        let mut log = Vec::new();
        for (index, mutation, byte) in picks {
            let mut line = lines[index.index(lines.len())].clone().into_bytes();
            match mutation {
                0 => {}
                1 => line.truncate(usize::from(byte) % (line.len() + 1)),
                2 => line.insert(usize::from(byte) % (line.len() + 1), byte),
                3 => line.retain(|b| !b.is_ascii_digit()),
                _ => line.extend_from_slice(b" ? "),
            }
            log.extend_from_slice(&line);
            log.push(b'\n');
        }
        let reports = parse_log(&log);
        for rep in reports {
            prop_assert!(rep.start_line <= rep.end_line);
            prop_assert!(!rep.title.is_empty());
        }
    }
}
