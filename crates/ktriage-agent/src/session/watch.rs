//! Watching: run a session whenever the result tree changes (a new commit's results, or
//! late results for one already seen) or the repository's `HEAD` moves, until a stop is
//! asked for.

use super::lock::SessionLock;
use super::stop::Stop;
use super::{run, Config, Event, Observer};
use crate::Runtime;
use ktriage_index::Index;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Polls every `interval` and runs a session on each new state of the results and `HEAD`,
/// starting with the current one. A failed poll or session is reported to `observer` and
/// the watch goes on; it returns when `stop` is asked for.
pub fn watch(
    runtime: &Runtime,
    index: &Index,
    config: &Config<'_>,
    lock: &SessionLock,
    observer: &dyn Observer,
    stop: &Stop,
    interval: Duration,
) {
    let mut last_seen = None;
    while !stop.requested() {
        match probe(index, config) {
            Ok(seen) if last_seen.as_ref() != Some(&seen) => {
                match run(runtime, index, config, lock, observer, stop) {
                    Ok(outcome) => observer.event(Event::SessionDone(&outcome)),
                    Err(err) => observer.event(Event::Warning(&format!("session failed: {err}"))),
                }
                last_seen = Some(seen);
            }
            Ok(_) => {}
            Err(message) => observer.event(Event::Warning(&message)),
        }
        if stop.sleep(runtime, interval) {
            break;
        }
    }
}

/// What a poll sees: the results tree's shape and the repository's `HEAD`.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    results: TreeState,
    head: String,
}

fn probe(index: &Index, config: &Config<'_>) -> Result<Seen, String> {
    let results = tree_state(config.results, config.out)
        .map_err(|err| format!("polling the results {}: {err}", config.results.display()))?;
    let head = index
        .resolve("HEAD")
        .map_err(|err| format!("polling the repository: {err}"))?;
    Ok(Seen {
        results,
        head: head.commit.to_string(),
    })
}

/// How many files a tree holds, their total size and the newest modification time: any
/// result added, rewritten or removed changes it.
#[derive(Debug, Default, PartialEq, Eq)]
struct TreeState {
    files: u64,
    bytes: u64,
    newest: Option<SystemTime>,
}

/// The [`TreeState`] of a results directory (without the session's own output directory
/// `out`, should it lie inside), or of a single results file.
fn tree_state(path: &Path, out: &Path) -> std::io::Result<TreeState> {
    let canonical =
        |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let out = canonical(out);
    let mut state = TreeState::default();
    let mut pending = vec![(canonical(path), std::fs::metadata(path)?)];
    while let Some((path, meta)) = pending.pop() {
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                let entry = entry?;
                if entry.path() != out {
                    pending.push((entry.path(), entry.metadata()?));
                }
            }
            continue;
        }
        state.files += 1;
        state.bytes += meta.len();
        state.newest = state.newest.max(meta.modified().ok());
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::tree_state;

    #[test]
    fn late_results_change_the_tree_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = dir.path().join("abc123/xfstests");
        std::fs::create_dir_all(&run).expect("dirs");
        std::fs::write(run.join("generic-001"), "PASS\n").expect("write");
        let out = dir.path().join("triage");
        let state = || tree_state(dir.path(), &out).expect("state");
        let before = state();
        assert_eq!(before, state(), "a quiet tree looks the same");
        std::fs::create_dir_all(&out).expect("out");
        std::fs::write(out.join("report.md"), "# report\n").expect("write");
        assert_eq!(before, state(), "the session's own output does not count");
        std::fs::write(run.join("generic-002"), "FAIL\n").expect("write");
        let after = state();
        assert_ne!(before, after);
        assert_eq!(after.files, 2);
    }
}
