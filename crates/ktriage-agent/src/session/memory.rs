//! Memory across sessions: `memory.json` in the output directory.
//!
//! It records every finished note (number, signature key, directory, the commit it was
//! made at, the tests of its group, the suspect functions with the newest commit that had
//! changed each, and the model), and the wall time each session (newest commit) has spent.
//! A note is recorded only after its files were written, and the file is replaced
//! atomically, so a session killed at any point leaves a memory that is true.

use crate::journal::{redact, write_atomic};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The memory file's name in the output directory.
pub const MEMORY_FILE: &str = "memory.json";

/// Version of the `memory.json` format.
pub const MEMORY_FORMAT: u32 = 1;

/// Errors reading or writing the memory; each names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The memory file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a memory this version understands.
    #[error("{}: {message}; move it away to start the memory over (the notes stay)", path.display())]
    Invalid {
        /// The memory file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// What earlier sessions did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// [`MEMORY_FORMAT`].
    pub format: u32,
    /// Finished notes, in the order they were written.
    pub notes: Vec<NoteRecord>,
    /// Wall time spent per session, by the session's commit.
    pub sessions: BTreeMap<String, SessionRecord>,
}

/// A finished note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteRecord {
    /// The note's number, from 1, in the order notes were finished.
    pub number: u32,
    /// The signature key of its group.
    pub key: String,
    /// The group's signature as shown.
    pub title: String,
    /// The note's directory, relative to the output directory.
    pub dir: String,
    /// The commit the note was made at (full id).
    pub commit: String,
    /// The tests the group had.
    pub tests: Vec<String>,
    /// The evidence engine's top functions, with the newest commit that had changed each.
    pub suspects: Vec<Suspect>,
    /// The model that investigated; `None` for an evidence-only note.
    pub model: Option<String>,
    /// Why the failure was investigated again although an earlier note existed.
    #[serde(default)]
    pub revisit: Option<String>,
}

/// A suspect function and the newest commit that had changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspect {
    /// Function name.
    pub name: String,
    /// Its file.
    pub path: String,
    /// The newest commit that had changed its body, as of the note's commit.
    pub last_change: Option<String>,
}

/// What one session (newest commit) has spent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Wall time spent investigating, in milliseconds, over every run of the session.
    pub spent_ms: u64,
}

impl Memory {
    /// The memory of `out`; empty when there is none yet.
    pub fn load(out: &Path) -> Result<Memory, MemoryError> {
        let path = out.join(MEMORY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Memory {
                    format: MEMORY_FORMAT,
                    notes: Vec::new(),
                    sessions: BTreeMap::new(),
                })
            }
            Err(source) => return Err(MemoryError::Io { path, source }),
        };
        let memory: Memory = serde_json::from_str(&text).map_err(|err| MemoryError::Invalid {
            path: path.clone(),
            message: format!("not valid: {err}"),
        })?;
        if memory.format != MEMORY_FORMAT {
            return Err(MemoryError::Invalid {
                path,
                message: format!(
                    "format {} (this ktriage reads format {MEMORY_FORMAT})",
                    memory.format
                ),
            });
        }
        Ok(memory)
    }

    /// Writes the memory into `out` atomically, with `secrets` redacted.
    pub fn save(&self, out: &Path, secrets: &[String]) -> Result<(), MemoryError> {
        let path = out.join(MEMORY_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|err| MemoryError::Invalid {
            path: path.clone(),
            message: err.to_string(),
        })?;
        write_atomic(&path, redact(&(text + "\n"), secrets).as_bytes())
            .map_err(|source| MemoryError::Io { path, source })
    }

    /// The newest note about signature `key`.
    pub fn latest(&self, key: &str) -> Option<&NoteRecord> {
        self.notes
            .iter()
            .filter(|note| note.key == key)
            .max_by_key(|note| note.number)
    }

    /// The note number the next finished note gets.
    pub fn next_number(&self) -> u32 {
        self.notes.iter().map(|note| note.number).max().unwrap_or(0) + 1
    }

    /// Signatures with a note made at `commit` (the investigations of that session so far).
    pub fn notes_at(&self, commit: &str) -> usize {
        self.notes
            .iter()
            .filter(|note| note.commit == commit)
            .map(|note| note.key.as_str())
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// Wall time the session of `commit` has spent.
    pub fn spent_ms(&self, commit: &str) -> u64 {
        self.sessions
            .get(commit)
            .map_or(0, |session| session.spent_ms)
    }

    /// Sets the time spent by the session of `commit`.
    pub fn set_spent(&mut self, commit: &str, ms: u64) {
        self.sessions
            .entry(commit.to_string())
            .or_default()
            .spent_ms = ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_round_trips_and_names_a_bad_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut memory = Memory::load(dir.path()).expect("empty memory");
        assert_eq!(memory.next_number(), 1);
        memory.notes.push(NoteRecord {
            number: 1,
            key: "kernel BUG in f at a.c:1".into(),
            title: "kernel BUG in f".into(),
            dir: "notes/kernel-bug-in-f".into(),
            commit: "abc".into(),
            tests: vec!["t1".into()],
            suspects: vec![Suspect {
                name: "f".into(),
                path: "a.c".into(),
                last_change: Some("def".into()),
            }],
            model: Some("secret-model-sk-1234".into()),
            revisit: None,
        });
        memory.set_spent("abc", 1500);
        memory
            .save(dir.path(), &["sk-1234".to_string()])
            .expect("save");
        let text = std::fs::read_to_string(dir.path().join(MEMORY_FILE)).expect("read");
        assert!(!text.contains("sk-1234"));
        let loaded = Memory::load(dir.path()).expect("load");
        assert_eq!(loaded.notes_at("abc"), 1);
        assert_eq!(loaded.spent_ms("abc"), 1500);
        assert_eq!(
            loaded
                .latest("kernel BUG in f at a.c:1")
                .map(|note| note.number),
            Some(1)
        );
        assert_eq!(loaded.next_number(), 2);
        std::fs::write(dir.path().join(MEMORY_FILE), "{not json").expect("corrupt");
        let err = Memory::load(dir.path()).expect_err("corrupt memory");
        assert!(
            err.to_string().contains(MEMORY_FILE) && err.to_string().contains("move it away"),
            "{err}"
        );
    }
}
