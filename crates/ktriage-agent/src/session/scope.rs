//! Whether a failure is in the repository's own code: a report none of whose stack frames
//! (nor its guilty file) is found in the tree, or under the paths the project owns, is an
//! upstream bug, not ours.

use ktriage_index::facts::SymbolKind;
use ktriage_index::Snapshot;

/// Where a failure's report points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Some frame or the guilty file is the project's, or the log says nothing either way.
    Ours,
    /// Nothing in the report is the project's; the stack's functions, innermost first.
    NotOurs(Vec<String>),
}

/// Most frames named for a failure that is not ours.
const MAX_FRAMES_SHOWN: usize = 6;

/// The scope of the primary report of `log` at `snapshot`: ours when the guilty frame's or
/// a stack frame's function is defined, or the guilty file exists, under one of `owned`
/// path prefixes (anywhere in the tree when `owned` is empty).
pub fn scope(
    snapshot: &Snapshot<'_>,
    log: &str,
    owned: &[String],
) -> Result<Scope, ktriage_index::Error> {
    let Some(report) = ktriage_ci::report::parse_log(log.as_bytes())
        .into_iter()
        .next()
    else {
        return Ok(Scope::Ours);
    };
    let is_owned = |path: &str| {
        owned.is_empty() || owned.iter().any(|prefix| path.starts_with(prefix.as_str()))
    };
    // The guilty frame first: a fault's stack may leave out the faulting function. (An
    // fstests mismatch's "frame" is the test's name: not a function.)
    let functions = report
        .frame
        .iter()
        .chain(
            report
                .frames
                .iter()
                .filter(|frame| frame.reliable)
                .map(|frame| &frame.function),
        )
        .filter(|name| is_identifier(name));
    let mut frames: Vec<String> = Vec::new();
    for function in functions {
        if frames.contains(function) {
            continue;
        }
        let defined = snapshot.def(function)?;
        if defined
            .iter()
            .any(|def| def.kind == SymbolKind::Function && is_owned(&def.path))
        {
            return Ok(Scope::Ours);
        }
        frames.push(function.clone());
    }
    if let Some(file) = &report.guilty_file {
        match snapshot.resolve_path(file) {
            Ok(path) if is_owned(&path) => return Ok(Scope::Ours),
            Ok(_) | Err(ktriage_index::Error::NoSuchPath { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    if frames.is_empty() {
        return Ok(Scope::Ours);
    }
    frames.truncate(MAX_FRAMES_SHOWN);
    Ok(Scope::NotOurs(frames))
}

/// True for a C identifier (a function's name, not a test's).
fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}
