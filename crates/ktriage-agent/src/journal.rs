//! The journal: an append-only JSON Lines record of one investigation (`journal.jsonl`),
//! and resuming from it.
//!
//! Each line is one object with a `type`:
//! `start` (failure, model), `request` (`seq`, `hash`, `body` as sent, without headers),
//! `retry` (`seq`, `attempt`, `error`, `delay_ms`), `response` (`seq`, `hash`, parsed
//! `response`), `tool_call` and `tool_result` (`seq`, `id`, `name`, `arguments` / `output`),
//! `event` (`message`: compaction, loop warnings, budgets) and `end` (`stop_reason`).
//!
//! A line is written whole and flushed before the run goes on, so a run killed at any point
//! leaves at most one torn last line, which [`Journal::resume`] drops. Resuming replays the
//! recorded responses for requests whose body hash matches, so finished model calls are
//! never repeated. Secrets (the API key) are replaced by `[redacted]` in every line, and
//! request headers are never journaled.

use crate::client::ChatResponse;
use serde_json::{json, Value};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors of the journal; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading or writing failed.
    #[error("journal {}: {source}", path.display())]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// An open journal.
pub struct Journal {
    path: PathBuf,
    file: File,
    secrets: Vec<String>,
    replay: Vec<(u64, ChatResponse)>,
}

impl Journal {
    /// Starts a new journal at `path`, replacing an earlier one.
    pub fn create(path: &Path, secrets: Vec<String>) -> Result<Journal, JournalError> {
        write_atomic(path, b"").map_err(io(path))?;
        Self::open_append(path, secrets, Vec::new())
    }

    /// Reopens the journal at `path` to continue it, remembering its answered requests; a
    /// missing journal starts a new one.
    pub fn resume(path: &Path, secrets: Vec<String>) -> Result<Journal, JournalError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Self::create(path, secrets)
            }
            Err(err) => return Err(io(path)(err)),
        };
        let mut kept = String::new();
        let mut replay = Vec::new();
        for line in text.split_inclusive('\n') {
            let Some(entry) = line
                .strip_suffix('\n')
                .and_then(|line| serde_json::from_str::<Value>(line).ok())
            else {
                break;
            };
            kept.push_str(line);
            if entry["type"] == "response" {
                let hash = entry["hash"]
                    .as_str()
                    .and_then(|hash| u64::from_str_radix(hash, 16).ok());
                let response =
                    serde_json::from_value::<ChatResponse>(entry["response"].clone()).ok();
                if let (Some(hash), Some(response)) = (hash, response) {
                    replay.push((hash, response));
                }
            }
        }
        if kept.len() != text.len() {
            write_atomic(path, kept.as_bytes()).map_err(io(path))?;
        }
        Self::open_append(path, secrets, replay)
    }

    fn open_append(
        path: &Path,
        secrets: Vec<String>,
        replay: Vec<(u64, ChatResponse)>,
    ) -> Result<Journal, JournalError> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(io(path))?;
        let secrets = secrets
            .into_iter()
            .filter(|secret| secret.len() >= 4)
            .collect();
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            secrets,
            replay,
        })
    }

    /// The recorded response of request `seq` (0-based), when the journal has one for the
    /// same request body.
    pub fn replayed(&self, seq: usize, hash: u64) -> Option<ChatResponse> {
        self.replay
            .get(seq)
            .filter(|(recorded, _)| *recorded == hash)
            .map(|(_, response)| response.clone())
    }

    /// How many responses the journal had when it was resumed.
    pub fn replayable(&self) -> usize {
        self.replay.len()
    }

    /// Appends one entry (an object with a `type`), redacted, as one flushed line.
    pub fn append(&mut self, entry: &Value) -> Result<(), JournalError> {
        let mut line = redact(&entry.to_string(), &self.secrets);
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(io(&self.path))?;
        self.file.flush().map_err(io(&self.path))?;
        self.file.sync_data().map_err(io(&self.path))
    }

    /// Appends an `event` entry.
    pub fn event(&mut self, message: &str) -> Result<(), JournalError> {
        self.append(&json!({"type": "event", "message": message}))
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// FNV-1a of a request body, to recognise the same request on resume.
pub fn request_hash(body: &Value) -> u64 {
    body.to_string()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3)
        })
}

/// `text` with every secret replaced by `[redacted]`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|secret| secret.len() >= 4)
        .fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), "[redacted]")
        })
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |name| name.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_drops_a_torn_line_and_replays_responses() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("journal.jsonl");
        let response = ChatResponse {
            id: None,
            content: Some("hi".into()),
            tool_calls: vec![],
            finish_reason: None,
            usage: None,
        };
        let mut journal = Journal::create(&path, vec!["sk-secret-key".into()]).expect("journal");
        journal
            .append(&json!({"type": "request", "seq": 0, "body": "has sk-secret-key"}))
            .expect("append");
        journal.append(&json!({"type": "response", "seq": 0, "hash": format!("{:x}", 7u64), "response": response})).expect("append");
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(b"{\"type\":\"requ").expect("torn write");
        drop(file);
        let journal = Journal::resume(&path, vec![]).expect("resume");
        assert_eq!(journal.replayed(0, 7), Some(response));
        assert_eq!(journal.replayed(0, 8), None);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains("sk-secret-key") && text.contains("[redacted]"));
        assert!(text.ends_with("}\n"));
    }
}
