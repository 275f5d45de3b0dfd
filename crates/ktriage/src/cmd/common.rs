//! Arguments shared by the commands that read a repository's index.

use crate::output::Format;
use crate::progress::Bar;
use ktriage_index::{Index, Rev, Snapshot};
use std::path::PathBuf;

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
        Ok(Index::open_or_create(&self.repo, self.index_dir.as_deref())?)
    }

    /// The progress reporter these arguments ask for.
    pub fn progress(&self) -> Bar {
        Bar::new(self.quiet)
    }
}

/// Opens the index and the snapshot at `--at`, indexing that commit first if needed.
pub fn open_snapshot<'a>(index: &'a Index, repo: &RepoArgs, at: &AtArgs) -> anyhow::Result<(Rev, Snapshot<'a>)> {
    let rev = index.resolve(&at.at)?;
    let snapshot = index.snapshot(&rev, &repo.progress())?;
    Ok((rev, snapshot))
}
