//! Score accumulation: each signal adds to an item's score and says why.

use std::collections::HashMap;
use std::hash::Hash;

/// Items with accumulated scores and the reasons behind them.
pub struct Ranking<K> {
    items: HashMap<K, (f64, Vec<String>)>,
}

impl<K: Hash + Eq + Clone + Ord> Ranking<K> {
    /// An empty ranking.
    pub fn new() -> Self {
        Ranking {
            items: HashMap::new(),
        }
    }

    /// Adds `score` to `key`, recording `why` (once per distinct reason).
    pub fn add(&mut self, key: K, score: f64, why: impl Into<String>) {
        if score <= 0.0 {
            return;
        }
        let entry = self.items.entry(key).or_insert_with(|| (0.0, Vec::new()));
        entry.0 += score;
        let why = why.into();
        if !entry.1.contains(&why) {
            entry.1.push(why);
        }
    }

    /// Items by descending score (ties by key), at most `limit`.
    pub fn ranked(&self, limit: usize) -> Vec<(K, f64, Vec<String>)> {
        let mut items: Vec<(K, f64, Vec<String>)> = self
            .items
            .iter()
            .map(|(key, (score, why))| (key.clone(), *score, why.clone()))
            .collect();
        items.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        items.truncate(limit);
        items
    }
}
