//! The thread that owns the index and answers tool calls one at a time.
//!
//! The index (a git repository handle among others) stays on this one thread, and so do the
//! views it lends: the snapshot and history of each revision asked about lately are kept, so
//! a session's calls at the same revision pay for opening it once. The index is opened
//! read-only, so that other ktriage processes can query it meanwhile, until a call asks
//! about a revision not indexed yet: then it is reopened for writing for the rest of the
//! session.

use crate::cmd::common::RepoArgs;
use anyhow::Context;
use ktriage_agent::tools::{optional_string, Registry, ToolContext, ToolError};
use ktriage_index::{History, Index, NoProgress, Snapshot};
use rmcp::model::JsonObject;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::Instant;
use tokio::sync::oneshot;

/// Revisions whose views are kept.
const KEPT_VIEWS: usize = 4;

/// How calls are answered.
pub struct Settings {
    /// The revision of calls that give no `at`.
    pub default_at: String,
    /// Longest output of one call.
    pub max_output_bytes: usize,
}

/// The running worker thread.
pub struct Worker {
    calls: Calls,
    thread: std::thread::JoinHandle<()>,
}

/// A handle to send calls to the worker; cheap to clone.
#[derive(Clone)]
pub struct Calls {
    jobs: mpsc::Sender<Job>,
}

struct Job {
    tool: String,
    arguments: JsonObject,
    reply: oneshot::Sender<Result<String, ToolError>>,
}

impl Worker {
    /// Starts the thread, which opens the index of `repo` and owns it and `registry` from
    /// now on.
    pub fn start(repo: RepoArgs, registry: Registry, settings: Settings) -> anyhow::Result<Worker> {
        let (jobs, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ktriage-mcp-index".to_string())
            .spawn(move || serve(&repo, &registry, &settings, &receiver))
            .context("starting the index thread")?;
        Ok(Worker {
            calls: Calls { jobs },
            thread,
        })
    }

    /// A handle for sending calls.
    pub fn calls(&self) -> Calls {
        self.calls.clone()
    }

    /// Waits for the calls under way; the thread ends once every handle is dropped.
    pub fn stop(self) {
        drop(self.calls);
        if self.thread.join().is_err() {
            tracing::error!("the index thread panicked");
        }
    }
}

impl Calls {
    /// Runs `tool(arguments)` on the worker thread and waits for its answer.
    pub async fn call(&self, tool: String, arguments: JsonObject) -> Result<String, ToolError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || ToolError::Fatal("the index thread has stopped".to_string());
        self.jobs
            .send(Job {
                tool,
                arguments,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The snapshot and history of one revision.
struct View<'index> {
    snapshot: Snapshot<'index>,
    history: Result<History<'index>, String>,
}

/// The views of the revisions asked about last, newest first.
struct Views<'index> {
    index: &'index Index,
    kept: VecDeque<View<'index>>,
}

/// Why a call got no answer from a view.
enum CallError {
    /// The tool refused or failed.
    Tool(ToolError),
    /// The revision is not indexed yet and the index is open read-only.
    NeedsWrite,
}

impl From<ktriage_index::Error> for CallError {
    fn from(err: ktriage_index::Error) -> CallError {
        match err {
            ktriage_index::Error::ReadOnly { .. } => CallError::NeedsWrite,
            other => CallError::Tool(other.into()),
        }
    }
}

impl From<ToolError> for CallError {
    fn from(err: ToolError) -> CallError {
        CallError::Tool(err)
    }
}

impl<'index> Views<'index> {
    /// The view at revision `at`, opened (and indexed, the first time) when not kept.
    fn at(&mut self, at: &str) -> Result<&View<'index>, CallError> {
        let rev = self.index.resolve(at)?;
        match self
            .kept
            .iter()
            .position(|view| view.snapshot.rev().commit == rev.commit)
        {
            Some(kept_idx) => {
                let kept = self
                    .kept
                    .remove(kept_idx)
                    .expect("the position was just found");
                self.kept.push_front(kept);
            }
            None => {
                let snapshot = self.index.snapshot(&rev, &NoProgress)?;
                let history = match self.index.history(&rev, &NoProgress) {
                    Err(ktriage_index::Error::ReadOnly { .. }) => {
                        return Err(CallError::NeedsWrite)
                    }
                    other => other.map_err(|err| err.to_string()),
                };
                self.kept.push_front(View { snapshot, history });
                self.kept.truncate(KEPT_VIEWS);
            }
        }
        Ok(&self.kept[0])
    }
}

/// Answers jobs until the channel closes: on the index opened read-only while every call
/// finds its revision indexed, then on the index opened for writing.
fn serve(repo: &RepoArgs, registry: &Registry, settings: &Settings, jobs: &mpsc::Receiver<Job>) {
    let mut pending = None;
    let mut opened = repo.open_for_queries();
    loop {
        let (index, writable) = match opened {
            Ok(opened) => opened,
            Err(err) => {
                let fatal = format!("{err:#}");
                for job in pending.into_iter().chain(jobs.iter()) {
                    let _ = job.reply.send(Err(ToolError::Fatal(fatal.clone())));
                }
                return;
            }
        };
        match answer_jobs(
            &index,
            registry,
            settings,
            pending.take().into_iter().chain(jobs.iter()),
        ) {
            Some(job) if !writable => {
                tracing::info!("reopening the index for writing, to index a new revision");
                // The read-only handle's shared lock must go before the writer's.
                drop(index);
                pending = Some(job);
                opened = repo.open().map(|index| (index, true));
            }
            _ => return,
        }
    }
}

/// Answers `jobs` in order; stops at a job that needs the index opened for writing and
/// returns it unanswered.
fn answer_jobs(
    index: &Index,
    registry: &Registry,
    settings: &Settings,
    jobs: impl Iterator<Item = Job>,
) -> Option<Job> {
    let mut views = Views {
        index,
        kept: VecDeque::new(),
    };
    for job in jobs {
        let started = Instant::now();
        // A bug in one tool must not take the session down: it fails that call only.
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            answer(&mut views, registry, settings, &job.tool, &job.arguments)
        }))
        .unwrap_or_else(|_| {
            Err(CallError::Tool(ToolError::Fatal(format!(
                "the tool `{}` failed unexpectedly; this is a bug in ktriage",
                job.tool
            ))))
        });
        let answer = match answer {
            Ok(output) => Ok(output),
            Err(CallError::Tool(err)) => Err(err),
            Err(CallError::NeedsWrite) => return Some(job),
        };
        match &answer {
            Ok(output) => {
                tracing::info!(tool = %job.tool, ms = started.elapsed().as_millis() as u64, bytes = output.len(), "answered")
            }
            Err(err) => {
                tracing::info!(tool = %job.tool, ms = started.elapsed().as_millis() as u64, error = %err, "refused")
            }
        }
        // The client may have given up on the call; nobody is left to tell.
        let _ = job.reply.send(answer);
    }
    None
}

fn answer(
    views: &mut Views<'_>,
    registry: &Registry,
    settings: &Settings,
    tool: &str,
    arguments: &JsonObject,
) -> Result<String, CallError> {
    let arguments = Value::Object(arguments.clone());
    let at = optional_string(&arguments, "at")?.unwrap_or(&settings.default_at);
    let view = views.at(at)?;
    let context = ToolContext {
        snapshot: &view.snapshot,
        history: view.history.as_ref().map_err(Clone::clone),
        log: "",
        max_output_bytes: settings.max_output_bytes,
    };
    Ok(registry.call(&context, tool, &arguments.to_string())?)
}
