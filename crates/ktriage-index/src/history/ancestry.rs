//! The commits that exist for a query at a revision: the revision and its ancestors.

use crate::error::{Error, Result};
use git2::{Oid, Repository};
use std::collections::HashSet;

/// `commit` and all its ancestors.
pub(crate) fn ancestors(repo: &Repository, commit: Oid) -> Result<HashSet<Oid>> {
    let context = || format!("walking the ancestors of {commit}");
    let mut walk = repo.revwalk().map_err(Error::git(context()))?;
    walk.push(commit).map_err(Error::git(context()))?;
    walk.map(|id| id.map_err(Error::git(context()))).collect()
}
