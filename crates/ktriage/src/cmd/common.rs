//! Arguments shared by the commands that read a repository's index.

use crate::output::Format;
use crate::progress::Bar;
use ktriage_agent::client::{ClientConfig, DEFAULT_BASE_URL};
use ktriage_agent::investigate::Budgets;
use ktriage_index::{Index, Rev, Snapshot};
use std::path::PathBuf;
use std::time::Duration;

/// `--repo`, `--index`, `--quiet`.
#[derive(Debug, Clone, clap::Args)]
pub struct RepoArgs {
    /// The git repository (work tree, .git dir or bare repository).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Index directory (default: `<git dir>/ktriage`).
    #[arg(long = "index")]
    pub index_dir: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--repo`, `--index`, `--quiet`, `--at` and `--format`: what every query command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub at: AtArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `--at`.
#[derive(Debug, Clone, clap::Args)]
pub struct AtArgs {
    /// The revision to answer for: only its tree (and history) exists for the query.
    #[arg(long, default_value = "HEAD")]
    pub at: String,
}

impl RepoArgs {
    /// Opens the index, creating it on first use.
    pub fn open(&self) -> anyhow::Result<Index> {
        Ok(Index::open_or_create(
            &self.repo,
            self.index_dir.as_deref(),
        )?)
    }

    /// Runs `work` on the index opened read-only, so that any number of ktriage processes
    /// can query it at once. When there is no index yet, or `work` has to index something
    /// first (a commit or history not indexed yet), runs it again on the index opened for
    /// writing, created if needed. `work` must not print before it has its snapshot or
    /// history, since it may run twice.
    pub fn with_index<T>(&self, work: impl Fn(&Index) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let (index, writable) = self.open_for_queries()?;
        match work(&index) {
            Err(err) if !writable && needs_write(&err) => {
                // The read-only handle's shared lock must go before the writer's.
                drop(index);
                work(&self.open()?)
            }
            done => done,
        }
    }

    /// The index for queries, and whether it is open for writing: read-only when it
    /// exists and opens that way, otherwise for writing (created if needed). A writer
    /// holding it is an error at once: opening it for writing would only wait as long again.
    pub fn open_for_queries(&self) -> anyhow::Result<(Index, bool)> {
        match Index::open_read_only(&self.repo, self.index_dir.as_deref()) {
            Ok(index) => Ok((index, false)),
            Err(err @ ktriage_index::Error::IndexBusy { .. }) => Err(err.into()),
            Err(_) => Ok((self.open()?, true)),
        }
    }

    /// The progress reporter these arguments ask for.
    pub fn progress(&self) -> Bar {
        Bar::new(self.quiet)
    }
}

/// True when `err` says a read-only index would have had to be written.
fn needs_write(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<ktriage_index::Error>(),
            Some(ktriage_index::Error::ReadOnly { .. })
        )
    })
}

/// Opens the index and the snapshot at `--at`, indexing that commit first if needed.
pub fn open_snapshot<'a>(
    index: &'a Index,
    repo: &RepoArgs,
    at: &AtArgs,
) -> anyhow::Result<(Rev, Snapshot<'a>)> {
    let rev = index.resolve(&at.at)?;
    let snapshot = index.snapshot(&rev, &repo.progress())?;
    Ok((rev, snapshot))
}

/// The model and its limits: `--model` (or `KTRIAGE_MODEL`), `OPENAI_BASE_URL`,
/// `OPENAI_API_KEY` (only ever sent as a header), budgets, timeouts and retries.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// Model name; without one (and without KTRIAGE_MODEL) no model is asked.
    #[arg(long, env = "KTRIAGE_MODEL")]
    pub model: Option<String>,
    /// Model requests before the final answer is asked for.
    #[arg(long, default_value_t = 30)]
    pub max_turns: u32,
    /// Tool calls before the final answer is asked for.
    #[arg(long, default_value_t = 60)]
    pub max_tool_calls: u32,
    /// Ask the server to stream its answers (server-sent events).
    #[arg(long)]
    pub stream: bool,
    /// Seconds a model request may take (and a stream may stay silent).
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Retries of a failed model request (429, 5xx, timeouts, dropped connections).
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
    /// Delay before the first retry, in milliseconds (doubled for each further one).
    #[arg(long, default_value_t = 1000)]
    pub retry_delay_ms: u64,
}

impl ModelArgs {
    /// The client for the model at `OPENAI_BASE_URL` with `OPENAI_API_KEY`; `None` when no
    /// model is named.
    pub fn client(&self) -> Option<ClientConfig> {
        let model = self
            .model
            .as_deref()
            .filter(|model| !model.trim().is_empty())?;
        let base_url = std::env::var("OPENAI_BASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty());
        let api_key = std::env::var("OPENAI_API_KEY").ok();
        let mut config = ClientConfig::new(
            base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            api_key,
            model,
        );
        config.stream = self.stream;
        config.request_timeout = Duration::from_secs(self.timeout.max(1));
        config.stream_idle_timeout = Duration::from_secs(self.timeout.max(1));
        config.retry.max_retries = self.retries;
        config.retry.base_delay = Duration::from_millis(self.retry_delay_ms);
        Some(config)
    }

    /// The investigation's budgets.
    pub fn budgets(&self) -> Budgets {
        let mut budgets = Budgets::standard(self.max_turns);
        budgets.max_tool_calls = self.max_tool_calls;
        budgets
    }
}
