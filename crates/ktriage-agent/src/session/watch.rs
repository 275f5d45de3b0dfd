//! Watching: run a session whenever the result tree's newest commit or the repository's
//! `HEAD` changes, until a stop is asked for.

use super::lock::SessionLock;
use super::stop::Stop;
use super::{run, Config, Event, Observer};
use crate::Runtime;
use ktriage_index::Index;
use std::time::Duration;

/// Polls every `interval` and runs a session on each new (newest commit, `HEAD`) pair,
/// starting with the current one. A failed poll or session is reported to `observer` and
/// the watch goes on; it returns when `stop` is asked for.
pub fn watch(runtime: &Runtime, index: &Index, config: &Config<'_>, lock: &SessionLock, observer: &dyn Observer, stop: &Stop, interval: Duration) {
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

/// The newest commit of the results (when the layout names one) and the repository's
/// `HEAD`.
fn probe(index: &Index, config: &Config<'_>) -> Result<(Option<String>, String), String> {
    let newest = ktriage_ci::results::newest_commit(config.results).map_err(|err| format!("polling the results: {err}"))?;
    let head = index.resolve("HEAD").map_err(|err| format!("polling the repository: {err}"))?;
    Ok((newest, head.commit.to_string()))
}
