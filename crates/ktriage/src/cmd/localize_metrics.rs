//! Metrics of the localization benchmark, computed the way `shared/bench/score_localize.py`
//! computes them (path and function normalisation, hit@k, MRR), so both agree.

use std::collections::{BTreeMap, HashSet};

/// First 1-based rank of each kind of target in one prediction; 0 = missed, `None` = the
/// case has no such target.
#[derive(Debug, Clone, Default)]
pub struct CaseRanks {
    /// First ground-truth file.
    pub file: usize,
    /// First ground-truth function.
    pub function: Option<usize>,
    /// The `Fixes:` culprit.
    pub culprit: Option<usize>,
    /// Any SZZ commit.
    pub szz: Option<usize>,
}

/// Normalises a path as the scorer does: drop `:LINE[:COL]`, `./`, `a/`/`b/`, then one prefix.
pub fn norm_path(path: &str) -> String {
    let mut path = path.trim().replace('\\', "/");
    while let Some((head, tail)) = path.rsplit_once(':') {
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            path = head.to_string();
        } else {
            break;
        }
    }
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    for ab in ["a/", "b/"] {
        if let Some(rest) = path.strip_prefix(ab) {
            if rest.starts_with("fs/") || rest.starts_with("libbcachefs/") {
                path = rest.to_string();
            }
        }
    }
    for prefix in ["fs/bcachefs/", "libbcachefs/", "fs/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    path
}

/// Normalises a function name: drop `()` and compiler clone suffixes.
pub fn norm_function(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_suffix("()").unwrap_or(name);
    let mut base = name;
    for marker in [
        ".isra",
        ".constprop",
        ".part",
        ".cold",
        ".lto_priv",
        ".llvm",
        ".specialized",
    ] {
        if let Some(at) = base.find(marker) {
            base = &base[..at];
        }
    }
    base.to_string()
}

fn first_rank<T>(items: &[T], is_hit: impl Fn(&T) -> bool) -> usize {
    items.iter().position(is_hit).map_or(0, |idx| idx + 1)
}

fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items.filter(|item| seen.insert(item.clone())).collect()
}

fn commit_match(predicted: &str, truth: &str) -> bool {
    let predicted = predicted.trim().to_ascii_lowercase();
    predicted.len() >= 12
        && predicted.bytes().all(|b| b.is_ascii_hexdigit())
        && truth.to_ascii_lowercase().starts_with(&predicted)
}

/// Scores one case's ranked predictions.
pub fn rank_case(
    case: &serde_json::Value,
    files: &[String],
    functions: &[String],
    commits: &[String],
) -> CaseRanks {
    let strings = |key: &str| -> Vec<String> {
        case[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let truth_files: HashSet<String> = strings("files").iter().map(|p| norm_path(p)).collect();
    let truth_functions: HashSet<String> = strings("functions")
        .iter()
        .map(|f| norm_function(f))
        .collect();
    let files = dedup(files.iter().map(|p| norm_path(p)));
    let functions = dedup(functions.iter().map(|f| norm_function(f)));
    let commits = dedup(commits.iter().map(|c| c.trim().to_ascii_lowercase()));
    let szz = strings("culprit_szz");
    CaseRanks {
        file: first_rank(&files, |p| truth_files.contains(p)),
        function: (!truth_functions.is_empty())
            .then(|| first_rank(&functions, |f| truth_functions.contains(f))),
        culprit: case["culprit"]
            .as_str()
            .map(|culprit| first_rank(&commits, |c| commit_match(c, culprit))),
        szz: (!szz.is_empty())
            .then(|| first_rank(&commits, |c| szz.iter().any(|s| commit_match(c, s)))),
    }
}

/// hit@k and MRR over ranks (0 = miss), `None` for an empty set.
fn block(
    ranks: &[usize],
    ks: &[usize],
    out: &mut BTreeMap<String, Option<f64>>,
    name: &str,
    with_mrr: bool,
) {
    let n = ranks.len() as f64;
    for k in ks {
        let hits = ranks.iter().filter(|r| **r > 0 && **r <= *k).count() as f64;
        out.insert(
            format!("{name}_hit@{k}"),
            (!ranks.is_empty()).then(|| hits / n),
        );
    }
    if with_mrr {
        let mrr: f64 = ranks
            .iter()
            .filter(|r| **r > 0)
            .map(|r| 1.0 / *r as f64)
            .sum();
        out.insert(format!("{name}_mrr"), (!ranks.is_empty()).then(|| mrr / n));
    }
}

/// The scorer's metrics over a set of cases.
pub fn aggregate(cases: &[&CaseRanks]) -> BTreeMap<String, Option<f64>> {
    let mut out = BTreeMap::new();
    let files: Vec<usize> = cases.iter().map(|c| c.file).collect();
    let functions: Vec<usize> = cases.iter().filter_map(|c| c.function).collect();
    let culprits: Vec<usize> = cases.iter().filter_map(|c| c.culprit).collect();
    let szz: Vec<usize> = cases.iter().filter_map(|c| c.szz).collect();
    block(&files, &[1, 5, 10], &mut out, "file", true);
    block(&functions, &[1, 5, 10], &mut out, "func", true);
    block(&culprits, &[1, 10], &mut out, "culprit", true);
    block(&szz, &[10], &mut out, "szz", false);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_the_scorer() {
        assert_eq!(norm_path("fs/bcachefs/btree/iter.c:12:3"), "btree/iter.c");
        assert_eq!(norm_path("b/fs/btree/iter.c"), "btree/iter.c");
        assert_eq!(norm_path("libbcachefs/super.c"), "super.c");
        assert_eq!(norm_path("fs/fs/check.c"), "fs/check.c");
        assert_eq!(norm_function("foo.isra.0()"), "foo");
    }
}
