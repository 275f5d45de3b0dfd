//! Path aliases: logs name files as the kernel build saw them (`fs/bcachefs/alloc/discard.c`)
//! while a tree may hold them elsewhere (`fs/alloc/discard.c`, `libbcachefs/alloc/discard.c`).
//! A log path resolves to a tree path by explicit prefix maps first, then by the longest
//! matching run of trailing path components; ties are reported as ambiguous.

/// How a path given by a user or a log maps onto a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// The path exists as given (after normalisation).
    Exact(String),
    /// The path resolved to another tree path.
    Alias(String),
    /// Several tree paths match equally well, best first by path order.
    Ambiguous(Vec<String>),
    /// Nothing in the tree has this file name.
    NotFound,
}

impl PathMatch {
    /// The resolved path, or the first candidate of an ambiguous match.
    pub fn best(&self) -> Option<&str> {
        match self {
            PathMatch::Exact(path) | PathMatch::Alias(path) => Some(path),
            PathMatch::Ambiguous(candidates) => candidates.first().map(String::as_str),
            PathMatch::NotFound => None,
        }
    }
}

/// Strips what logs and diffs add around a path: `./`, `a/` or `b/` before a directory,
/// and a trailing `:LINE` or `:LINE:COL`.
pub fn normalize(path: &str) -> &str {
    let mut path = path.trim();
    while let Some((head, tail)) = path.rsplit_once(':') {
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            path = head;
        } else {
            break;
        }
    }
    let path = path.strip_prefix("./").unwrap_or(path);
    for prefix in ["a/", "b/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            if rest.contains('/') {
                return rest;
            }
        }
    }
    path
}

/// Resolves `wanted` against the paths of a tree (`tree_paths` sorted or not).
pub fn resolve<'a>(
    tree_paths: impl IntoIterator<Item = &'a str> + Clone,
    wanted: &str,
    prefix_maps: &[(String, String)],
) -> PathMatch {
    let wanted = normalize(wanted);
    if tree_paths.clone().into_iter().any(|path| path == wanted) {
        return PathMatch::Exact(wanted.to_string());
    }
    for (from, to) in prefix_maps {
        if let Some(rest) = wanted.strip_prefix(from.as_str()) {
            let mapped = format!("{to}{rest}");
            if tree_paths.clone().into_iter().any(|path| path == mapped) {
                return PathMatch::Alias(mapped);
            }
        }
    }
    let wanted_parts: Vec<&str> = wanted.rsplit('/').collect();
    let mut best_len = 0;
    let mut best: Vec<&str> = Vec::new();
    for path in tree_paths {
        let common = path
            .rsplit('/')
            .zip(&wanted_parts)
            .take_while(|(a, b)| a == *b)
            .count();
        if common == 0 || common < best_len {
            continue;
        }
        if common > best_len {
            best_len = common;
            best.clear();
        }
        best.push(path);
    }
    best.sort_unstable();
    if best.len() > 1 {
        if let Some(preferred) = prefer_inserted_components(wanted, &best, best_len) {
            return PathMatch::Alias(preferred.to_string());
        }
    }
    match best.as_slice() {
        [] => PathMatch::NotFound,
        [only] => PathMatch::Alias(only.to_string()),
        many => PathMatch::Ambiguous(many.iter().map(|path| path.to_string()).collect()),
    }
}

/// The directories a log path has in place of its tree path's, when it is the tree path
/// with directories inserted: `("fs/bcachefs/", "fs/")` for `fs/bcachefs/super.c` found as
/// `fs/super.c`. A log that names files so uses the kernel's paths: its `fs/super.c` is the
/// kernel's own file, not the tree's.
pub fn inserted_directories(wanted: &str, tree_path: &str) -> Option<(String, String)> {
    let wanted = normalize(wanted);
    let common = wanted
        .rsplit('/')
        .zip(tree_path.rsplit('/'))
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return None;
    }
    let log_dirs = strip_components(wanted, common);
    let tree_dirs = strip_components(tree_path, common);
    (log_dirs != tree_dirs && log_dirs.starts_with(tree_dirs))
        .then(|| (log_dirs.to_string(), tree_dirs.to_string()))
}

/// Breaks a tie between equally long suffix matches: a log path usually is a tree path with
/// directories inserted (`fs/` + `bcachefs/` + `check.c` for `fs/check.c`), so prefer the
/// candidate whose unmatched directory part is the longest prefix of the log path's.
fn prefer_inserted_components<'a>(
    wanted: &str,
    candidates: &[&'a str],
    n_common: usize,
) -> Option<&'a str> {
    let wanted_prefix = strip_components(wanted, n_common);
    let mut fitting: Vec<(&'a str, usize)> = candidates
        .iter()
        .map(|path| (*path, strip_components(path, n_common)))
        .filter(|(_, prefix)| wanted_prefix.starts_with(prefix))
        .map(|(path, prefix)| (path, prefix.len()))
        .collect();
    fitting.sort_by_key(|(_, len)| std::cmp::Reverse(*len));
    match fitting.as_slice() {
        [(path, _)] => Some(path),
        [(path, first), (_, second), ..] if first > second => Some(path),
        _ => None,
    }
}

/// `path` without its last `n` components (keeping the trailing `/`).
fn strip_components(path: &str, n: usize) -> &str {
    if n == 0 {
        return path;
    }
    let mut end = path.len();
    for _ in 0..n {
        end = path[..end].rfind('/').unwrap_or(0);
    }
    if end == 0 {
        ""
    } else {
        &path[..=end]
    }
}

#[cfg(test)]
mod tests {
    use super::{inserted_directories, normalize, resolve, PathMatch};

    #[test]
    fn inserted_directories_are_found() {
        let found = |wanted, tree| inserted_directories(wanted, tree);
        assert_eq!(
            found("fs/bcachefs/super.c", "fs/super.c"),
            Some(("fs/bcachefs/".to_string(), "fs/".to_string()))
        );
        assert_eq!(
            found("fs/bcachefs/btree/iter.c:12", "btree/iter.c"),
            Some(("fs/bcachefs/".to_string(), String::new()))
        );
        assert_eq!(found("fs/super.c", "fs/super.c"), None);
        assert_eq!(found("fs/bcachefs/super.c", "libbcachefs/super.c"), None);
        assert_eq!(found("fs/bcachefs/super.c", "fs/inode.c"), None);
    }

    const TREE: &[&str] = &[
        "fs/alloc/discard.c",
        "fs/fs/check.c",
        "fs/check.c",
        "libbcachefs/super.c",
    ];

    #[test]
    fn normalizes_log_decorations() {
        assert_eq!(normalize("./fs/x.c:12:3"), "fs/x.c");
        assert_eq!(normalize("b/fs/x.c"), "fs/x.c");
        assert_eq!(normalize("a.c"), "a.c");
    }

    #[test]
    fn resolves_by_suffix_and_prefix_map() {
        let tree = TREE.iter().copied();
        assert_eq!(
            resolve(tree.clone(), "fs/alloc/discard.c", &[]),
            PathMatch::Exact("fs/alloc/discard.c".into())
        );
        assert_eq!(
            resolve(tree.clone(), "fs/bcachefs/alloc/discard.c", &[]),
            PathMatch::Alias("fs/alloc/discard.c".into())
        );
        assert_eq!(
            resolve(tree.clone(), "fs/bcachefs/super.c", &[]),
            PathMatch::Alias("libbcachefs/super.c".into())
        );
        assert_eq!(
            resolve(tree.clone(), "fs/bcachefs/fs/check.c", &[]),
            PathMatch::Alias("fs/fs/check.c".into())
        );
        assert_eq!(
            resolve(tree.clone(), "fs/bcachefs/check.c", &[]),
            PathMatch::Alias("fs/check.c".into())
        );
        assert_eq!(
            resolve(tree.clone(), "check.c", &[]),
            PathMatch::Ambiguous(vec!["fs/check.c".into(), "fs/fs/check.c".into()])
        );
        let maps = [("kernel/".to_string(), "fs/".to_string())];
        assert_eq!(
            resolve(tree.clone(), "kernel/check.c", &maps),
            PathMatch::Alias("fs/check.c".into())
        );
        assert_eq!(resolve(tree, "nothing.c", &[]), PathMatch::NotFound);
    }
}
