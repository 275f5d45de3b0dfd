//! Subcommands whose arguments clap builds only when they are used.
//!
//! clap builds every subcommand's arguments before it parses anything: for ktriage's
//! command tree that is hundreds of allocations and ~90 page faults at each start, about
//! 0.3 ms of the ~4 ms a `def` took as a process (the query itself takes well under one).
//! Wrapping a subcommand's type in [`Lazy`] hands its arguments to [`clap::Command::defer`],
//! which builds them when the parser enters that subcommand (or help lists it in full).

use clap::{ArgMatches, Args, Command, FromArgMatches, Subcommand};

/// A subcommand's arguments (or nested subcommands) `T`, built only when it is used.
#[derive(Debug)]
pub struct Lazy<T>(pub T);

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Lazy)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }
}

impl<T: Args> Args for Lazy<T> {
    fn augment_args(cmd: Command) -> Command {
        cmd.defer(|cmd| keep_about(cmd, T::augment_args))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        cmd.defer(|cmd| keep_about(cmd, T::augment_args_for_update))
    }
}

impl<T: Subcommand> Subcommand for Lazy<T> {
    fn augment_subcommands(cmd: Command) -> Command {
        cmd.defer(|cmd| keep_about(cmd, T::augment_subcommands))
    }

    fn augment_subcommands_for_update(cmd: Command) -> Command {
        cmd.defer(|cmd| keep_about(cmd, T::augment_subcommands_for_update))
    }

    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}

/// Runs `augment` on `cmd` but keeps the help text `cmd` already has: the subcommand's own
/// doc comment, which the type's doc comment would otherwise replace when built late.
fn keep_about(cmd: Command, augment: fn(Command) -> Command) -> Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let mut cmd = augment(cmd);
    if let Some(about) = about {
        cmd = cmd.about(about);
    }
    if let Some(long_about) = long_about {
        cmd = cmd.long_about(long_about);
    }
    cmd
}
