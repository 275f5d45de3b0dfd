//! Property: the result-tree reader (and the classifier after it) never panics on garbage
//! files in any position of a tree: status, duration, logs (plain and brotli), JSON.

use std::path::Path;

use ktriage_ci::classify::classify;
use ktriage_ci::results::{read_results_with, InputFormat, ReadOptions};
use proptest::prelude::*;

const COMMITS: [&str; 2] = [
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
];
const FILES: [&str; 6] = [
    "status",
    "duration",
    "log",
    "log.br",
    "full_log.br",
    "full_log",
];

/// Bytes that are sometimes plausible (status words, JSON, markers), sometimes random.
fn content() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        Just(b"FAILED\n".to_vec()),
        Just(b"FAILED TIMEOUT".to_vec()),
        Just(
            b"00001 ========= TEST   x\n00002 WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2\n".to_vec()
        ),
        Just(
            br#"[{"commit": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, {"commit": 3}]"#.to_vec()
        ),
        Just(br#"{"tests": [{"name": "t", "status": 5, "duration": "x"}]}"#.to_vec()),
        Just(
            br#"[{"commit": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "message": null}]"#
                .to_vec()
        ),
        "[ -~\n]{0,200}".prop_map(String::into_bytes),
    ]
}

/// `(relative path, content)` entries of a tree.
fn tree() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let entry = (
        0..COMMITS.len(),
        0..3usize,
        0..FILES.len(),
        0..4usize,
        content(),
    )
        .prop_map(|(c, t, f, top, bytes)| {
            let path = match top {
                0 => "branch.json".to_owned(),
                1 => format!("{}.json", COMMITS[c]),
                _ => format!("{}/test.{t}/{}", COMMITS[c], FILES[f]),
            };
            (path, bytes)
        });
    proptest::collection::vec(entry, 1..12)
}

fn write_tree(dir: &Path, entries: &[(String, Vec<u8>)]) {
    for (rel, bytes) in entries {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, bytes).expect("write");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn garbage_trees_never_panic(entries in tree(), format in 0..InputFormat::ALL.len()) {
        let dir = tempfile::tempdir().expect("tempdir");
        write_tree(dir.path(), &entries);
        let opts = ReadOptions { format: InputFormat::ALL[format], ..ReadOptions::default() };
        if let Ok(set) = read_results_with(dir.path(), &opts) {
            let c = classify(&set);
            prop_assert_eq!(c.commits.len(), set.commits.len());
        }
    }
}
