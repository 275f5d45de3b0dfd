//! Classification of tests across a window of commits, signature groups, and the noise band.
//!
//! # Observations
//!
//! For each test, the runs are ordered oldest to newest. Infrastructure failures
//! ([`Run::is_infra`]: `failed_to_run`, a log that never reached `========= TEST`, or a host
//! line naming an infrastructure cause), `NOTRUN`, in-progress and unknown runs are left out
//! of the sequence; what remains is a sequence of passes and failures, each failure with its
//! signature key when the log gave one. A test with no failures in the sequence is `infra`
//! when it has infrastructure failures, else `pass`.
//!
//! # Model
//!
//! Every other test is scored under four hypotheses by the marginal likelihood of its
//! sequence, times a prior, and the posterior picks the class ([`PRIORS`]):
//!
//! - **persistent**: every run fails with probability β, averaged over a prior on β
//!   ([`PERSISTENT_BETA_PRIOR`]) of solid failures: a failure that comes and goes with no
//!   change point is what a flake is.
//! - **regression at k**: runs before the change point `k` are *good*, from `k` on *bad*:
//!   they fail with probability β, averaged over a prior ([`BETA_PRIOR`]) that favours solid
//!   failures but allows intermittent regressions. `k` is uniform over the positions that leave at
//!   least one run on each side. The bug's signature `S` is the most common one after `k`.
//!   In the good part a pass costs nothing much (1 − ε), a failure with signature `S` is
//!   nearly impossible ([`EPS_SAME`]: the bug did not exist yet), a failure without a
//!   signature is unlikely ([`EPS_UNKNOWN`]), and a failure with a *different* signature is
//!   another bug and is ignored. Failures of `S` in *other* tests on or before the last run
//!   before `k` are evidence that the bug is older ([`EPS_CROSS`] each, at most
//!   [`CROSS_MAX`] counted); failures between that run and `k` (where this test was hidden
//!   by infrastructure failures) are not.
//! - **fixed at k**: the mirror image (bad, then good; `S` from the bad part; failures of `S`
//!   in other tests after the fix count against it).
//! - **flaky**: every run fails independently with an unknown rate `r`, averaged over a
//!   uniform prior on [[`FLAKY_MIN`], [`FLAKY_MAX`]].
//!
//! Averaging over `k`, β and `r` (rather than maximising) makes the comparison an honest
//! Bayes factor: a change-point model with many free positions does not win by fitting
//! noise. The confidence is the winning class's posterior probability; below
//! [`CLEAR_CONFIDENCE`] a result is flagged ambiguous. `first_bad` (`first_good`) is the
//! most likely change point. A single failure on the newest commit comes out as a
//! low-confidence regression when its signature is new, and as flaky when the same
//! signature failed in other tests before.
//!
//! When the commits between a regression's last visible pass and its first failure were
//! all infrastructure failures or skipped for this test, `first_bad` moves to the earliest
//! of them on which another test failed with the same signature.
//!
//! # Groups and noise
//!
//! Failing tests are grouped by signature key (the title plus the source location printed in
//! the report, see [`crate::results::default_signer`]; never offsets), so one bug hitting
//! many tests is one group, and two bugs in one function with different titles or
//! locations stay apart. When different keys share a title, the shown
//! signature gets a short key hash so that names stay distinct.
//!
//! The noise band is the range of per-commit failure counts (infrastructure failures left
//! out) over the other commits of the window; a commit outside it is worth a look.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::results::{ResultSet, Run, Status};

/// A test's class over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Passes, then fails from `first_bad` on.
    Regression,
    /// Fails now and then with no order.
    Flaky,
    /// Fails on every commit.
    Persistent,
    /// Fails, then passes from `first_good` on.
    Fixed,
    /// Failed only because the environment broke.
    Infra,
    /// No failures.
    Pass,
}

impl Class {
    /// Lowercase name, e.g. `regression`.
    pub fn name(self) -> &'static str {
        match self {
            Class::Regression => "regression",
            Class::Flaky => "flaky",
            Class::Persistent => "persistent",
            Class::Fixed => "fixed",
            Class::Infra => "infra",
            Class::Pass => "pass",
        }
    }
}

/// Prior probabilities of the failing classes (regression, fixed, persistent, flaky).
pub const PRIORS: [(Class, f64); 4] = [
    (Class::Regression, 0.2),
    (Class::Fixed, 0.1),
    (Class::Persistent, 0.25),
    (Class::Flaky, 0.45),
];
/// Prior on a bug's per-run failure probability β after a change point: `(β, weight)`.
pub const BETA_PRIOR: &[(f64, f64)] = &[(0.6, 0.05), (0.75, 0.15), (0.9, 0.3), (0.98, 0.5)];
/// Prior on β for persistent failures: a failure that comes and goes without a change point
/// is a flake, so persistent failures are solid.
pub const PERSISTENT_BETA_PRIOR: &[(f64, f64)] = &[(0.9, 0.4), (0.98, 0.6)];
/// Probability of a failure with the bug's own signature where the bug is absent.
pub const EPS_SAME: f64 = 0.003;
/// Probability of a failure without a signature where the bug is absent.
pub const EPS_UNKNOWN: f64 = 0.02;
/// Likelihood factor per failure of the bug's signature in another test where it is absent.
pub const EPS_CROSS: f64 = 0.05;
/// At most this many failures in other tests are counted against a change point.
pub const CROSS_MAX: usize = 3;
/// Lower end of the flaky-rate prior.
pub const FLAKY_MIN: f64 = 0.03;
/// Upper end of the flaky-rate prior.
pub const FLAKY_MAX: f64 = 0.6;
/// Confidence below which a result is flagged ambiguous.
pub const CLEAR_CONFIDENCE: f64 = 0.9;

/// One test's classification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestClass {
    /// Test key.
    pub name: String,
    /// Class.
    pub class: Class,
    /// Regression: first failing commit.
    pub first_bad: Option<String>,
    /// Regression: last commit with a visible pass before `first_bad`.
    pub last_good: Option<String>,
    /// Fixed: first passing commit after the failures.
    pub first_good: Option<String>,
    /// Fixed: last failing commit before `first_good`.
    pub last_bad: Option<String>,
    /// Failures / visible runs (infrastructure and skipped runs left out).
    pub fail_rate: f64,
    /// Number of failures in the sequence.
    pub failures: usize,
    /// Number of visible runs (passes and failures).
    pub visible: usize,
    /// Crash signature shown for the test (unique per signature key).
    pub signature: Option<String>,
    /// Signature key used for grouping.
    pub signature_key: Option<String>,
    /// Posterior probability of `class` (1 for `pass` and `infra`).
    pub confidence: f64,
    /// `confidence` is below [`CLEAR_CONFIDENCE`].
    pub ambiguous: bool,
    /// Commits where the test failed for infrastructure reasons, newest first.
    pub infra_commits: Vec<String>,
    /// Commits where the test failed, newest first.
    pub failed_commits: Vec<String>,
}

/// Tests failing with one signature: one bug.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureGroup {
    /// Signature as shown for the tests.
    pub signature: String,
    /// Grouping key.
    pub key: String,
    /// The most common class of the tests.
    pub class: Class,
    /// For regressions: the most common `first_bad`.
    pub first_bad: Option<String>,
    /// Test keys, sorted.
    pub tests: Vec<String>,
    /// Number of failing runs of the tests.
    pub failures: usize,
}

/// Per-commit failure counts of the other commits, and where one commit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NoiseBand {
    /// Fewest failures on another commit.
    pub min: usize,
    /// Most failures on another commit.
    pub max: usize,
    /// Failures on the commit looked at (the newest for [`classify`]).
    pub newest: usize,
    /// Number of other commits the band is taken over.
    pub commits: usize,
    /// `newest` is outside `min..=max`.
    pub outside_band: bool,
}

/// Where a commit stands against the noise band of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// More failures than any other commit.
    Above,
    /// Fewer failures than any other commit.
    Below,
    /// Inside the band.
    Within,
    /// There are no other commits.
    Alone,
}

impl Standing {
    /// `ABOVE band`, `below band`, `within band` or `no other commits`.
    pub fn name(self) -> &'static str {
        match self {
            Standing::Above => "ABOVE band",
            Standing::Below => "below band",
            Standing::Within => "within band",
            Standing::Alone => "no other commits",
        }
    }
}

impl NoiseBand {
    /// Where the commit stands against the band.
    pub fn standing(&self) -> Standing {
        if self.commits == 0 {
            Standing::Alone
        } else if self.newest > self.max {
            Standing::Above
        } else if self.newest < self.min {
            Standing::Below
        } else {
            Standing::Within
        }
    }
}

/// Status counts of one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitCounts {
    /// Commit id.
    pub commit: String,
    /// Commit subject, when known.
    pub message: Option<String>,
    /// Passed runs.
    pub passed: usize,
    /// Failed runs (including timeouts), infrastructure failures left out.
    pub failed: usize,
    /// Skipped runs.
    pub notrun: usize,
    /// Infrastructure failures.
    pub infra: usize,
    /// Runs still in progress or with an unknown status.
    pub other: usize,
    /// All runs.
    pub total: usize,
}

/// The classification of a result set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// Status counts per commit, newest first.
    pub commits: Vec<CommitCounts>,
    /// Every test, sorted by key.
    pub tests: Vec<TestClass>,
    /// Signature groups, regressions first, then by size.
    pub groups: Vec<SignatureGroup>,
    /// Noise band of the newest commit against the others.
    pub noise: NoiseBand,
}

/// One run of a test, reduced to what the model needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Obs {
    Pass,
    /// A failure with its signature key index.
    Fail(Option<usize>),
    Infra,
    Hidden,
}

fn observe(run: &Run, keys: &mut Interner) -> Obs {
    if run.is_infra() {
        return Obs::Infra;
    }
    match run.status {
        Status::Passed => Obs::Pass,
        Status::Failed | Status::FailedTimeout => {
            Obs::Fail(run.signature().map(|s| keys.intern(&s.key, &s.title)))
        }
        Status::FailedToRun => Obs::Infra,
        Status::NotRun | Status::InProgress | Status::Unknown => Obs::Hidden,
    }
}

/// Signature keys and their titles, by index.
#[derive(Default)]
struct Interner {
    index: HashMap<String, usize>,
    keys: Vec<(String, String)>,
}

impl Interner {
    fn intern(&mut self, key: &str, title: &str) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        self.keys.push((key.to_owned(), title.to_owned()));
        self.index.insert(key.to_owned(), self.keys.len() - 1);
        self.keys.len() - 1
    }

    /// Display names: the title, plus a key hash when several keys share the title.
    fn display_names(&self) -> Vec<String> {
        let mut per_title: HashMap<&str, usize> = HashMap::new();
        for (_, title) in &self.keys {
            *per_title.entry(title.as_str()).or_default() += 1;
        }
        self.keys
            .iter()
            .map(|(key, title)| {
                if per_title.get(title.as_str()).copied().unwrap_or(0) > 1 {
                    format!("{title} [{:08x}]", fnv1a(key.as_bytes()) as u32)
                } else {
                    title.clone()
                }
            })
            .collect()
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Classifies every test of `set`. See the module docs for the model.
pub fn classify(set: &ResultSet) -> Classification {
    let n = set.commits.len();
    let mut keys = Interner::default();
    // Per test, observations oldest first.
    let mut tests: BTreeMap<&str, Vec<Obs>> = BTreeMap::new();
    for (age, commit) in set.commits.iter().rev().enumerate() {
        for run in &commit.runs {
            let obs = observe(run, &mut keys);
            tests
                .entry(run.test.as_str())
                .or_insert_with(|| vec![Obs::Hidden; n])[age] = obs;
        }
    }
    let names = keys.display_names();
    let ids: Vec<&str> = set
        .commits
        .iter()
        .rev()
        .map(|c| c.commit.as_str())
        .collect();
    let occurrences = Occurrences::new(&tests, keys.keys.len());
    let results: Vec<TestClass> = tests
        .iter()
        .enumerate()
        .map(|(t, (name, obs))| classify_test(name, t, obs, &occurrences, &ids, &names, &keys))
        .collect();
    let commits: Vec<CommitCounts> = set.commits.iter().map(commit_counts).collect();
    let counts: Vec<usize> = commits.iter().map(|c| c.failed).collect();
    Classification {
        noise: noise_band(&counts, 0),
        groups: groups(&results),
        tests: results,
        commits,
    }
}

/// Where each signature failed: `(commit age index, test index)` pairs per key.
struct Occurrences {
    by_key: Vec<Vec<(usize, usize)>>,
}

impl Occurrences {
    fn new(tests: &BTreeMap<&str, Vec<Obs>>, nkeys: usize) -> Self {
        let mut by_key = vec![Vec::new(); nkeys];
        for (t, obs) in tests.values().enumerate() {
            for (age, o) in obs.iter().enumerate() {
                if let Obs::Fail(Some(k)) = o {
                    by_key[*k].push((age, t));
                }
            }
        }
        Occurrences { by_key }
    }

    /// Failures of `key` in tests other than `test` at commit ages in `range`.
    fn others(&self, key: usize, test: usize, range: std::ops::Range<usize>) -> usize {
        self.by_key[key]
            .iter()
            .filter(|(age, t)| *t != test && range.contains(age))
            .count()
    }

    /// The oldest commit age in `range` where another test failed with `key`.
    fn earliest_other(
        &self,
        key: usize,
        test: usize,
        range: std::ops::Range<usize>,
    ) -> Option<usize> {
        self.by_key[key]
            .iter()
            .filter(|(age, t)| *t != test && range.contains(age))
            .map(|p| p.0)
            .min()
    }
}

/// A visible run: commit age index and the failure's key (`None` for a pass).
#[derive(Debug, Clone, Copy)]
struct Visible {
    age: usize,
    fail: bool,
    key: Option<usize>,
}

fn log_sum_exp(xs: impl IntoIterator<Item = f64>) -> f64 {
    let xs: Vec<f64> = xs.into_iter().collect();
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + xs.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// Log marginal likelihood of runs failing with a β drawn from `prior`.
fn ln_bad(prior: &[(f64, f64)], fails: usize, passes: usize) -> f64 {
    log_sum_exp(
        prior
            .iter()
            .map(|&(b, w)| w.ln() + fails as f64 * b.ln() + passes as f64 * (1.0 - b).ln()),
    )
}

/// Log marginal likelihood under the flaky model (rate uniform on the prior range).
fn ln_flaky(fails: usize, passes: usize) -> f64 {
    const STEPS: usize = 24;
    let step = (FLAKY_MAX - FLAKY_MIN) / (STEPS - 1) as f64;
    log_sum_exp((0..STEPS).map(|i| {
        let r = FLAKY_MIN + step * i as f64;
        fails as f64 * r.ln() + passes as f64 * (1.0 - r).ln() - (STEPS as f64).ln()
    }))
}

/// Most common key among the failures of `runs`.
fn mode_key(runs: &[Visible]) -> Option<usize> {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for k in runs.iter().filter_map(|v| v.key) {
        *counts.entry(k).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(k, c)| (c, std::cmp::Reverse(k)))
        .map(|(k, _)| k)
}

/// Log likelihood of the part of a change-point model where the bug with key `bug` is
/// absent.
fn ln_good(runs: &[Visible], bug: Option<usize>) -> f64 {
    runs.iter()
        .map(|v| match (v.fail, v.key, bug) {
            (false, _, _) => (1.0 - EPS_UNKNOWN).ln(),
            (true, Some(k), Some(b)) if k == b => EPS_SAME.ln(),
            (true, Some(_), Some(_)) => 0.0,
            (true, _, _) => EPS_UNKNOWN.ln(),
        })
        .sum()
}

fn counts(runs: &[Visible]) -> (usize, usize) {
    let fails = runs.iter().filter(|v| v.fail).count();
    (fails, runs.len() - fails)
}

/// The best change point of one direction and the log marginal over all of them.
struct ChangePoint {
    ln_marginal: f64,
    best: usize,
    key: Option<usize>,
}

/// Scores regression (`rising`) or fixed change points over `seq`.
fn change_point(
    seq: &[Visible],
    n: usize,
    rising: bool,
    cross: impl Fn(usize, std::ops::Range<usize>) -> usize,
) -> Option<ChangePoint> {
    let m = seq.len();
    if m < 2 {
        return None;
    }
    let ln_k = -((m - 1) as f64).ln();
    let mut terms = Vec::with_capacity(m - 1);
    let mut best: Option<(f64, usize, Option<usize>)> = None;
    for k in 1..m {
        let (before, after) = seq.split_at(k);
        let (bad, good) = if rising {
            (after, before)
        } else {
            (before, after)
        };
        let key = mode_key(bad);
        let (f, p) = counts(bad);
        let mut ll = ln_k + ln_bad(BETA_PRIOR, f, p) + ln_good(good, key);
        if let Some(key) = key {
            // The change happened somewhere after the last run before `k`: other tests'
            // failures on or before it contradict a regression, on or after `k` a fix.
            let absent = if rising {
                0..seq[k - 1].age + 1
            } else {
                seq[k].age..n
            };
            ll += cross(key, absent).min(CROSS_MAX) as f64 * EPS_CROSS.ln();
        }
        terms.push(ll);
        if best.is_none_or(|(b, _, _)| ll > b) {
            best = Some((ll, k, key));
        }
    }
    let (_, best, key) = best?;
    Some(ChangePoint {
        ln_marginal: log_sum_exp(terms),
        best,
        key,
    })
}

fn classify_test(
    name: &str,
    t: usize,
    obs: &[Obs],
    occ: &Occurrences,
    ids: &[&str],
    names: &[String],
    keys: &Interner,
) -> TestClass {
    let n = obs.len();
    let newest_first = |ages: Vec<usize>| -> Vec<String> {
        ages.into_iter().rev().map(|a| ids[a].to_owned()).collect()
    };
    let seq: Vec<Visible> = obs
        .iter()
        .enumerate()
        .filter_map(|(age, o)| match o {
            Obs::Pass => Some(Visible {
                age,
                fail: false,
                key: None,
            }),
            Obs::Fail(key) => Some(Visible {
                age,
                fail: true,
                key: *key,
            }),
            Obs::Infra | Obs::Hidden => None,
        })
        .collect();
    let infra: Vec<usize> = (0..n).filter(|&a| obs[a] == Obs::Infra).collect();
    let (fails, _) = counts(&seq);
    let mut out = TestClass {
        name: name.to_owned(),
        class: if infra.is_empty() {
            Class::Pass
        } else {
            Class::Infra
        },
        first_bad: None,
        last_good: None,
        first_good: None,
        last_bad: None,
        fail_rate: if seq.is_empty() {
            0.0
        } else {
            fails as f64 / seq.len() as f64
        },
        failures: fails,
        visible: seq.len(),
        signature: None,
        signature_key: None,
        confidence: 1.0,
        ambiguous: false,
        infra_commits: newest_first(infra),
        failed_commits: newest_first(seq.iter().filter(|v| v.fail).map(|v| v.age).collect()),
    };
    if fails == 0 {
        return out;
    }
    let m = seq.len();
    let rising = change_point(&seq, n, true, |key, ages| occ.others(key, t, ages));
    let falling = change_point(&seq, n, false, |key, ages| occ.others(key, t, ages));
    let (f, p) = counts(&seq);
    let mut scores: Vec<(Class, f64)> = Vec::with_capacity(4);
    for (class, prior) in PRIORS {
        let ll = match class {
            Class::Regression => rising.as_ref().map(|c| c.ln_marginal),
            Class::Fixed => falling.as_ref().map(|c| c.ln_marginal),
            Class::Persistent => Some(ln_bad(PERSISTENT_BETA_PRIOR, f, p)),
            _ => Some(ln_flaky(f, p)),
        };
        if let Some(ll) = ll {
            scores.push((class, prior.ln() + ll));
        }
    }
    let total = log_sum_exp(scores.iter().map(|s| s.1));
    let Some(&(class, best)) = scores.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        return out;
    };
    out.class = class;
    out.confidence = (best - total).exp();
    out.ambiguous = out.confidence < CLEAR_CONFIDENCE;
    let key = match (class, &rising, &falling) {
        (Class::Regression, Some(cp), _) => {
            let mut first = seq[cp.best].age;
            let last_good = seq[cp.best - 1].age;
            if let Some(k) = cp.key {
                first = occ
                    .earliest_other(k, t, last_good + 1..first)
                    .unwrap_or(first);
            }
            out.first_bad = Some(ids[first].to_owned());
            out.last_good = Some(ids[last_good].to_owned());
            cp.key
        }
        (Class::Fixed, _, Some(cp)) => {
            out.last_bad = Some(ids[seq[cp.best - 1].age].to_owned());
            out.first_good = Some(ids[seq[cp.best].age].to_owned());
            cp.key
        }
        _ => mode_key(&seq[..m]),
    };
    if let Some(k) = key {
        out.signature = Some(names[k].clone());
        out.signature_key = Some(keys.keys[k].0.clone());
    }
    out
}

fn commit_counts(commit: &crate::results::CommitRuns) -> CommitCounts {
    let mut c = CommitCounts {
        commit: commit.commit.clone(),
        message: commit.message.clone(),
        passed: 0,
        failed: 0,
        notrun: 0,
        infra: 0,
        other: 0,
        total: commit.runs.len(),
    };
    for run in &commit.runs {
        let slot = match run.status {
            _ if run.is_infra() => &mut c.infra,
            Status::Passed => &mut c.passed,
            Status::Failed | Status::FailedTimeout => &mut c.failed,
            Status::FailedToRun => &mut c.infra,
            Status::NotRun => &mut c.notrun,
            Status::InProgress | Status::Unknown => &mut c.other,
        };
        *slot += 1;
    }
    c
}

/// The noise band of `counts[at]` against the other entries of `counts`.
pub fn noise_band(counts: &[usize], at: usize) -> NoiseBand {
    let newest = counts.get(at).copied().unwrap_or(0);
    let others: Vec<usize> = counts
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != at)
        .map(|(_, &c)| c)
        .collect();
    let min = others.iter().copied().min().unwrap_or(newest);
    let max = others.iter().copied().max().unwrap_or(newest);
    NoiseBand {
        min,
        max,
        newest,
        commits: others.len(),
        outside_band: newest < min || newest > max,
    }
}

fn groups(results: &[TestClass]) -> Vec<SignatureGroup> {
    let mut by_key: BTreeMap<&str, Vec<&TestClass>> = BTreeMap::new();
    for r in results {
        if let Some(key) = &r.signature_key {
            by_key.entry(key.as_str()).or_default().push(r);
        }
    }
    let mut out: Vec<SignatureGroup> = by_key
        .into_iter()
        .map(|(key, members)| {
            let class = most_common(members.iter().map(|m| m.class)).unwrap_or(Class::Flaky);
            let first_bad = most_common(
                members
                    .iter()
                    .filter(|m| m.class == Class::Regression)
                    .filter_map(|m| m.first_bad.clone()),
            );
            let signature = members
                .first()
                .and_then(|m| m.signature.clone())
                .unwrap_or_default();
            let failures = members.iter().map(|m| m.failures).sum();
            SignatureGroup {
                signature,
                key: key.to_owned(),
                class,
                first_bad,
                tests: members.iter().map(|m| m.name.clone()).collect(),
                failures,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.class
            .cmp(&b.class)
            .then(b.tests.len().cmp(&a.tests.len()))
            .then(a.key.cmp(&b.key))
    });
    out
}

fn most_common<T: Ord + Clone>(items: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(k, _)| k)
}
