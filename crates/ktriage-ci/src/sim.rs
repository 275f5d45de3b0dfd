//! Simulated ktestci result trees with an answer key, for testing the readers and the
//! classifier.
//!
//! [`generate`] plans a window of commits × tests from a seed ([`SimParams`]): a class mix
//! that scales with the number of tests (regressions, some hitting several tests; flaky
//! tests, some sharing a bug; persistent; fixed), infrastructure events (one large event on
//! one worker, a few single-test ones; the logs never reach `========= TEST`), NOTRUN and
//! in-progress runs, and with [`SimParams::hard`] the hard cases: intermittent regressions,
//! flakes with a single failure, a new failure on the newest commit only, a known flaky
//! signature failing once on the newest commit in another test, infrastructure failures
//! on a regression's `last_good` or `first_bad`, and two bugs in one function (WARNING vs
//! KASAN). [`write_tree`] renders the same on-disk format as the shared fixtures: `5`-digit
//! elapsed prefixes, guest timestamps, kernel reports for x86_64 and arm64 with offsets
//! that drift between commits, fstests output mismatches, and passing tests that print
//! error-looking lines. [`score`] compares a [`Classification`] with the truth.
//!
//! The PRNG is splitmix64; every run's log is rendered from its own seeded stream, so a tree
//! is reproducible from `(seed, params)`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::classify::{Class, Classification};

/// A splitmix64 pseudo-random generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A random element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16)]))
            .collect()
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SimParams {
    /// PRNG seed.
    pub seed: u64,
    /// Commits in the window (at least 8).
    pub commits: usize,
    /// Tests per commit (at least 40).
    pub tests: usize,
    /// Include the hard cases (see the module docs).
    pub hard: bool,
    /// Pass-class tests still running on the newest commit.
    pub inprogress: usize,
}

impl Default for SimParams {
    fn default() -> Self {
        SimParams {
            seed: 1,
            commits: 12,
            tests: 200,
            hard: true,
            inprogress: 0,
        }
    }
}

/// Kinds of kernel report (see the fixture README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `kernel BUG in F`.
    Bug,
    /// `kernel BUG in F` in interrupt context, then a panic; a timeout.
    Panic,
    /// `WARNING in F`.
    Warn,
    /// `KASAN: <type> <Read|Write> in F`.
    Kasan,
    /// `general protection fault in F` (x86_64 only).
    Gpf,
    /// `INFO: task hung in F`; a timeout.
    Hung,
    /// `output mismatch in generic/NNN` (fstests only).
    Mismatch,
}

impl Kind {
    fn is_timeout(self) -> bool {
        matches!(self, Kind::Panic | Kind::Hung)
    }
}

/// Kinds that give the same title for one function (`Bug` and `Panic`).
fn kind_family(kind: Kind) -> Kind {
    if kind == Kind::Panic {
        Kind::Bug
    } else {
        kind
    }
}

impl Bug {
    fn kind_family(&self) -> Kind {
        kind_family(self.kind)
    }
}

/// One simulated bug.
#[derive(Debug, Clone, Serialize)]
pub struct Bug {
    /// Title, as the report parser should give it.
    pub title: String,
    /// Kind of report.
    pub kind: Kind,
    /// `fs/bcachefs/<file>:<line>` (empty for mismatches).
    pub location: String,
    /// bcachefs functions, innermost first.
    pub stack: Vec<String>,
    /// KASAN access, e.g. `use-after-free` and `Write`.
    kasan: (String, String),
}

/// Why a simulated run failed to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InfraKind {
    /// Out of disk for scratch devices.
    OutOfDisk,
    /// The VM did not start.
    VmStart,
    /// The root image could not be mounted: boot panic.
    BootFailure,
}

/// The plan of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Pass,
    NotRun,
    InProgress,
    Fail(usize),
    Infra(InfraKind),
}

/// The answer for one test.
#[derive(Debug, Clone, Serialize)]
pub struct TruthTest {
    /// Class.
    pub class: Class,
    /// Regression: first failing commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<String>,
    /// Fixed: first passing commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_good: Option<String>,
    /// Title of the bug.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Index of the bug in [`Truth::bugs`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bug: Option<usize>,
    /// Commits with an infrastructure failure, newest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub infra_commits: Vec<String>,
    /// Name of the hard case this test exercises.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hard: Option<&'static str>,
}

/// The answer key of a simulated tree.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// Seed it was generated from.
    pub seed: u64,
    /// Commits, newest first.
    pub commits: Vec<String>,
    /// Every test.
    pub tests: BTreeMap<String, TruthTest>,
    /// Every bug.
    pub bugs: Vec<Bug>,
}

/// A planned tree: call [`write_tree`] to render it.
#[derive(Debug, Clone)]
pub struct Sim {
    params: SimParams,
    /// Commit subjects, newest first.
    messages: Vec<String>,
    /// Test keys, sorted.
    tests: Vec<String>,
    /// `plans[age][test]`, age 0 = oldest commit.
    plans: Vec<Vec<Plan>>,
    /// Worker of each infrastructure event, by `(age, test)`.
    workers: BTreeMap<(usize, usize), String>,
    /// The answer key.
    pub truth: Truth,
}

impl Sim {
    /// Renames the window's commits, newest first, to `ids` (for a tree whose commits must
    /// exist in a real repository), in the plan and the answer key; with fewer ids than
    /// commits, the oldest commits keep their generated ids.
    pub fn relabel_commits(&mut self, ids: &[String]) {
        let renames: BTreeMap<String, String> = self
            .truth
            .commits
            .iter()
            .cloned()
            .zip(ids.iter().cloned())
            .collect();
        let rename = |id: &mut String| {
            if let Some(new) = renames.get(id.as_str()) {
                id.clone_from(new);
            }
        };
        self.truth.commits.iter_mut().for_each(rename);
        for test in self.truth.tests.values_mut() {
            test.first_bad
                .iter_mut()
                .chain(test.first_good.iter_mut())
                .chain(test.infra_commits.iter_mut())
                .for_each(rename);
        }
    }
}

const FAMILIES: &[(&str, &[&str])] = &[
    (
        "ec",
        &[
            "degraded_read",
            "device_remove_offline",
            "stripe_delete",
            "reconstruct",
            "ec_small",
        ],
    ),
    (
        "replicas",
        &[
            "kill_btree_node",
            "device_readd",
            "replicas_2",
            "rereplicate",
            "degraded_mount",
        ],
    ),
    (
        "device",
        &[
            "device_add",
            "device_add_remove_loop",
            "device_remove_busy",
            "device_resize",
            "device_offline",
        ],
    ),
    (
        "migrate",
        &[
            "migrate_from_ext4",
            "migrate_from_btrfs",
            "migrate_from_xfs",
        ],
    ),
    (
        "compression",
        &["compress_fsx", "gzip", "incompressible", "lz4", "zstd"],
    ),
    (
        "fsck",
        &[
            "fsck_hash_collision",
            "fsck_dirents",
            "fsck_snapshots",
            "fsck_alloc",
        ],
    ),
    (
        "subvol",
        &[
            "snapshot_delete",
            "snapshot_fsck",
            "subvol_create",
            "snapshot_rename",
        ],
    ),
    (
        "single_device",
        &[
            "casefold",
            "format_mount",
            "fsck_after_write",
            "large_files",
            "punch_hole",
        ],
    ),
    (
        "recovery",
        &[
            "journal_replay_crash",
            "journal_replay_early",
            "shutdown_recovery",
        ],
    ),
    ("encryption", &["basic", "unlock", "rekey"]),
];

/// Where a simulated bug is raised: a function, its file (under `fs/bcachefs/` in the
/// logs) and its callers, innermost first.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    /// The function the report names.
    pub function: &'static str,
    /// Its file, relative to `fs/bcachefs/`.
    pub file: &'static str,
    /// Its callers, innermost first.
    pub callers: &'static [&'static str],
}

/// The bcachefs sites [`generate`] draws bugs from.
pub const BCACHEFS_SITES: &[Site] = &[
    Site {
        function: "btree_split",
        file: "btree/interior.c",
        callers: &[
            "bch2_btree_split_leaf",
            "bch2_trans_commit_error",
            "__bch2_trans_commit",
            "bch2_extent_update",
        ],
    },
    Site {
        function: "bch2_read_endio",
        file: "data/read.c",
        callers: &[],
    },
    Site {
        function: "bch2_write_endio",
        file: "data/write.c",
        callers: &[],
    },
    Site {
        function: "btree_node_write_endio",
        file: "btree/write.c",
        callers: &[],
    },
    Site {
        function: "bch2_journal_flush_seq",
        file: "journal/journal.c",
        callers: &["bch2_fsync"],
    },
    Site {
        function: "discard_one_bucket_fast",
        file: "alloc/background.c",
        callers: &["bch2_do_discards_fast_work"],
    },
    Site {
        function: "bch2_dev_usrdata_drop",
        file: "data/migrate.c",
        callers: &[
            "bch2_dev_data_drop",
            "bch2_dev_remove",
            "bch2_ioctl_disk_remove",
            "bch2_fs_ioctl",
        ],
    },
    Site {
        function: "bch2_ec_read_extent",
        file: "ec.c",
        callers: &["__bch2_read_extent", "bchfs_read", "bch2_readahead"],
    },
    Site {
        function: "bch2_snapshot_node_delete",
        file: "snapshots/snapshot.c",
        callers: &[
            "bch2_delete_dead_snapshots",
            "bch2_ioctl_subvolume_destroy",
            "bch2_fs_ioctl",
        ],
    },
    Site {
        function: "bch2_trans_update_extent",
        file: "btree/update.c",
        callers: &[
            "bch2_trans_update",
            "bch2_extent_update",
            "bch2_write_index_default",
        ],
    },
    Site {
        function: "bch2_bucket_alloc_trans",
        file: "alloc/foreground.c",
        callers: &[
            "bch2_bucket_alloc_set_trans",
            "bch2_alloc_sectors_start_trans",
            "bch2_write",
        ],
    },
    Site {
        function: "bch2_inode_peek",
        file: "fs/inode.c",
        callers: &[
            "bch2_inode_find_by_inum_trans",
            "bch2_vfs_inode_get",
            "bch2_lookup",
        ],
    },
    Site {
        function: "bch2_fs_recovery",
        file: "init/recovery.c",
        callers: &["bch2_fs_start", "bch2_fs_get_tree", "vfs_get_tree"],
    },
    Site {
        function: "bch2_move_extent",
        file: "data/move.c",
        callers: &["bch2_move_data_btree", "bch2_move_data", "bch2_data_job"],
    },
    Site {
        function: "bch2_dirent_create",
        file: "fs/dirent.c",
        callers: &["bch2_create_trans", "__bch2_create", "bch2_mknod"],
    },
    Site {
        function: "bch2_journal_reclaim",
        file: "journal/reclaim.c",
        callers: &["bch2_journal_reclaim_thread"],
    },
];

const SUBJECTS: &[&str] = &[
    "Refactor device removal",
    "Rework btree node splits",
    "Optimize read completion",
    "Kill dead code in disk accounting",
    "Don't flush the journal unnecessarily",
    "Fix a race in bucket allocation",
    "Convert inode peek to btree_trans",
    "Simplify snapshot deletion",
    "Add a tracepoint for discards",
    "Improve erasure coding reads",
    "Move extent updates to a helper",
    "Fix null ptr deref in device removal",
];

/// Generates the plan and the answer key of a tree, with bugs in [`BCACHEFS_SITES`].
pub fn generate(params: SimParams) -> Sim {
    generate_with_sites(params, BCACHEFS_SITES)
}

/// Generates the plan and the answer key of a tree with bugs raised in `sites` (for trees
/// whose stacks name the functions of another repository); [`BCACHEFS_SITES`] when empty.
pub fn generate_with_sites(params: SimParams, sites: &[Site]) -> Sim {
    let sites = if sites.is_empty() {
        BCACHEFS_SITES
    } else {
        sites
    };
    let n = params.commits.max(8);
    let nt = params.tests.max(40);
    let mut rng = Rng::new(params.seed ^ 0x5eed_0000_0000_0000);
    let commits: Vec<String> = (0..n).map(|_| rng.hex(40)).collect(); // age order
    let messages = (0..n)
        .map(|_| format!("bcachefs: {}", rng.pick(SUBJECTS)))
        .collect();
    let tests = test_names(&mut rng, nt);
    let mut g = Gen {
        rng,
        n,
        plans: vec![vec![Plan::Pass; nt]; n],
        truth: BTreeMap::new(),
        bugs: Vec::new(),
        free: (0..nt).collect(),
        tests: &tests,
        sites,
    };
    g.populate(nt, params.hard);
    let mut workers = BTreeMap::new();
    g.infra_events(&mut workers);
    // Always-NOTRUN and in-progress tests come from the remaining pass tests.
    for _ in 0..(nt / 50).max(1) {
        if let Some(t) = g.take_free(|_| true) {
            for age in 0..n {
                g.plans[age][t] = Plan::NotRun;
            }
        }
    }
    for _ in 0..params.inprogress {
        if let Some(t) = g.take_free(|_| true) {
            g.plans[n - 1][t] = Plan::InProgress;
        }
    }
    let newest_first = |ages: &[usize]| -> Vec<String> {
        let mut v: Vec<usize> = ages.to_vec();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.into_iter().map(|a| commits[a].clone()).collect()
    };
    let mut truth_tests = BTreeMap::new();
    for (t, name) in tests.iter().enumerate() {
        let plan = g.truth.remove(&t).unwrap_or(Planned {
            class: Class::Pass,
            bug: None,
            change: None,
            hard: None,
        });
        let infra: Vec<usize> = (0..n)
            .filter(|&a| matches!(g.plans[a][t], Plan::Infra(_)))
            .collect();
        let class = if plan.class == Class::Pass && !infra.is_empty() {
            Class::Infra
        } else {
            plan.class
        };
        truth_tests.insert(
            name.clone(),
            TruthTest {
                class,
                first_bad: (class == Class::Regression)
                    .then(|| plan.change.map(|a| commits[a].clone()))
                    .flatten(),
                first_good: (class == Class::Fixed)
                    .then(|| plan.change.map(|a| commits[a].clone()))
                    .flatten(),
                signature: plan.bug.map(|b| g.bugs[b].title.clone()),
                bug: plan.bug,
                infra_commits: newest_first(&infra),
                hard: plan.hard,
            },
        );
    }
    let bugs = std::mem::take(&mut g.bugs);
    let plans = std::mem::take(&mut g.plans);
    Sim {
        params: SimParams {
            commits: n,
            tests: nt,
            ..params
        },
        messages,
        truth: Truth {
            seed: params.seed,
            commits: commits.iter().rev().cloned().collect(),
            tests: truth_tests,
            bugs,
        },
        tests,
        plans,
        workers,
    }
}

fn test_names(rng: &mut Rng, nt: usize) -> Vec<String> {
    let mut names = BTreeSet::new();
    let ktests: Vec<String> = FAMILIES
        .iter()
        .flat_map(|(f, subs)| subs.iter().map(move |s| format!("fs.bcachefs.{f}.{s}")))
        .collect();
    for name in ktests.iter().take(nt * 3 / 10) {
        names.insert(name.clone());
    }
    let suites = [
        "fstests",
        "fstests_nocow",
        "fstests_ec",
        "fstests_encrypted",
    ];
    while names.len() < nt {
        let suite = suites[(names.len() / 700).min(suites.len() - 1)];
        names.insert(format!(
            "fs.bcachefs.{suite}.generic.{:03}",
            rng.range(1, 799)
        ));
    }
    names.into_iter().collect()
}

/// Ground truth of one test while planning.
#[derive(Debug, Clone, Copy)]
struct Planned {
    class: Class,
    bug: Option<usize>,
    /// Age of `first_bad` (regression) or `first_good` (fixed).
    change: Option<usize>,
    hard: Option<&'static str>,
}

impl Planned {
    /// A regression caused by `bug`, first failing at age `first_bad`.
    fn regression(bug: usize, first_bad: usize, hard: Option<&'static str>) -> Planned {
        Planned {
            class: Class::Regression,
            bug: Some(bug),
            change: Some(first_bad),
            hard,
        }
    }
}

/// Planning state.
struct Gen<'a> {
    rng: Rng,
    n: usize,
    plans: Vec<Vec<Plan>>,
    truth: BTreeMap<usize, Planned>,
    bugs: Vec<Bug>,
    /// Tests not yet given a class.
    free: Vec<usize>,
    tests: &'a [String],
    /// Where bugs are raised.
    sites: &'a [Site],
}

impl Gen<'_> {
    fn is_fstest(&self, t: usize) -> bool {
        self.tests[t].contains(".fstests")
    }

    /// Takes a random unassigned test satisfying `ok`.
    fn take_free(&mut self, ok: impl Fn(&str) -> bool) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.free.len())
            .filter(|&i| ok(&self.tests[self.free[i]]))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let i = candidates[self.rng.below(candidates.len())];
        Some(self.free.swap_remove(i))
    }

    /// A random site where no bug of one of `kinds` exists yet (while there is one).
    fn free_site(&mut self, kinds: &[Kind]) -> usize {
        let mut s = self.rng.below(self.sites.len());
        for _ in 0..64 {
            let func = self.sites[s].function;
            let taken = self.bugs.iter().any(|b| {
                b.stack[0] == func && kinds.iter().any(|&k| kind_family(k) == b.kind_family())
            });
            if !taken {
                break;
            }
            s = self.rng.below(self.sites.len());
        }
        s
    }

    /// A new bug of `kind` in the site `site` (a free one when `None`).
    fn new_bug(&mut self, kind: Kind, site: Option<usize>, test: usize) -> usize {
        let s = site.unwrap_or_else(|| self.free_site(&[kind]));
        let Site {
            function: func,
            file,
            callers,
        } = self.sites[s];
        let kasan = (
            self.rng
                .pick(&["use-after-free", "slab-out-of-bounds"])
                .to_string(),
            self.rng.pick(&["Read", "Write"]).to_string(),
        );
        let title = match kind {
            Kind::Bug | Kind::Panic => format!("kernel BUG in {func}"),
            Kind::Warn => format!("WARNING in {func}"),
            Kind::Kasan => format!("KASAN: {} {} in {func}", kasan.0, kasan.1),
            Kind::Gpf => format!("general protection fault in {func}"),
            Kind::Hung => format!("INFO: task hung in {func}"),
            Kind::Mismatch => {
                let name = &self.tests[test];
                let num = name.rsplit('.').next().unwrap_or("000");
                format!("output mismatch in generic/{num}")
            }
        };
        let mut stack = vec![func.to_owned()];
        stack.extend(callers.iter().map(|c| (*c).to_owned()));
        let location = if kind == Kind::Mismatch {
            String::new()
        } else {
            format!("fs/bcachefs/{file}:{}", self.rng.range(100, 3000))
        };
        self.bugs.push(Bug {
            title,
            kind,
            location,
            stack,
            kasan,
        });
        self.bugs.len() - 1
    }

    fn random_kind(&mut self, fstest: bool) -> Kind {
        let kinds: &[Kind] = if fstest {
            &[
                Kind::Bug,
                Kind::Panic,
                Kind::Warn,
                Kind::Kasan,
                Kind::Gpf,
                Kind::Hung,
                Kind::Mismatch,
            ]
        } else {
            &[
                Kind::Bug,
                Kind::Panic,
                Kind::Warn,
                Kind::Kasan,
                Kind::Gpf,
                Kind::Hung,
            ]
        };
        *self.rng.pick(kinds)
    }

    fn assign(&mut self, t: usize, p: Planned, fails: &[usize]) {
        if let Some(b) = p.bug {
            for &age in fails {
                self.plans[age][t] = Plan::Fail(b);
            }
        }
        self.truth.insert(t, p);
    }

    /// Ages where a regression starting at `first_bad` fails; `intermittent` skips some
    /// later commits (never two in a row, never the newest).
    fn regression_fails(&mut self, first_bad: usize, intermittent: bool) -> Vec<usize> {
        let mut fails = vec![first_bad];
        for age in first_bad + 1..self.n {
            let prev_passed = fails.last() != Some(&(age - 1));
            if !intermittent || age == self.n - 1 || prev_passed || self.rng.chance(0.75) {
                fails.push(age);
            }
        }
        fails
    }

    /// Flaky failure ages: at least `min_fails` failures and two passes, not a block at
    /// either end, never the three newest in a row.
    fn flaky_fails(&mut self, rate: f64, min_fails: usize) -> Vec<usize> {
        let n = self.n;
        for _ in 0..1000 {
            let fails: Vec<usize> = (0..n).filter(|_| self.rng.chance(rate)).collect();
            let ok = fails.len() >= min_fails
                && n - fails.len() >= 2
                && !(fails.len() >= 3 && fails[fails.len() - 3..] == [n - 3, n - 2, n - 1])
                && fails.first() != Some(&0)
                && fails.last() != Some(&(n - 1))
                && (min_fails > 1 || fails.len() == 1);
            if ok {
                return fails;
            }
        }
        if min_fails > 1 {
            vec![1, n / 2, n - 3]
        } else {
            vec![n / 2]
        }
    }

    /// Assigns classes to tests.
    fn populate(&mut self, nt: usize, hard: bool) {
        let n = self.n;
        let scale = |per_200: usize| (per_200 * nt).div_ceil(200).max(1);
        // Regressions: some bugs hit several tests.
        for _ in 0..scale(4) {
            let Some(t) = self.take_free(|_| true) else {
                break;
            };
            let kind = self.random_kind(self.is_fstest(t));
            let bug = self.new_bug(kind, None, t);
            let first_bad = self.rng.range(3, n - 2);
            let mut members = vec![t];
            if kind != Kind::Mismatch && self.rng.chance(0.4) {
                members.extend(self.take_free(|_| true));
            }
            for m in members {
                let fails = self.regression_fails(first_bad, false);
                self.assign(m, Planned::regression(bug, first_bad, None), &fails);
            }
        }
        // Flaky tests: some share a bug.
        let mut f = 0;
        while f < scale(9) {
            let Some(t) = self.take_free(|_| true) else {
                break;
            };
            let kind = self.random_kind(self.is_fstest(t));
            let bug = self.new_bug(kind, None, t);
            let mut members = vec![t];
            if kind != Kind::Mismatch && self.rng.chance(0.3) {
                members.extend(self.take_free(|_| true));
            }
            for m in members {
                let rate = 0.05 + self.rng.unit() * 0.35;
                let fails = self.flaky_fails(rate, 2);
                self.assign(
                    m,
                    Planned {
                        class: Class::Flaky,
                        bug: Some(bug),
                        change: None,
                        hard: None,
                    },
                    &fails,
                );
                f += 1;
            }
        }
        for _ in 0..scale(3) {
            let Some(t) = self.take_free(|_| true) else {
                break;
            };
            let kind = self.random_kind(self.is_fstest(t));
            let bug = self.new_bug(kind, None, t);
            let fails: Vec<usize> = (0..n).collect();
            self.assign(
                t,
                Planned {
                    class: Class::Persistent,
                    bug: Some(bug),
                    change: None,
                    hard: None,
                },
                &fails,
            );
        }
        for _ in 0..scale(2) {
            let Some(t) = self.take_free(|_| true) else {
                break;
            };
            let kind = self.random_kind(self.is_fstest(t));
            let bug = self.new_bug(kind, None, t);
            let first_good = self.rng.range(2, n - 3);
            let fails: Vec<usize> = (0..first_good).collect();
            self.assign(
                t,
                Planned {
                    class: Class::Fixed,
                    bug: Some(bug),
                    change: Some(first_good),
                    hard: None,
                },
                &fails,
            );
        }
        if hard {
            self.hard_cases();
        }
    }

    fn hard_cases(&mut self) {
        let n = self.n;
        // Intermittent regression.
        if let Some(t) = self.take_free(|_| true) {
            let bug = self.new_bug(Kind::Warn, None, t);
            let first_bad = self.rng.range(3, n - 5);
            let fails = self.regression_fails(first_bad, true);
            self.assign(
                t,
                Planned::regression(bug, first_bad, Some("intermittent regression")),
                &fails,
            );
        }
        // Rare flakes: one failure in the window.
        for _ in 0..2 {
            if let Some(t) = self.take_free(|_| true) {
                let kind = self.random_kind(false);
                let bug = self.new_bug(kind, None, t);
                let fails = self.flaky_fails(0.05, 1);
                self.assign(
                    t,
                    Planned {
                        class: Class::Flaky,
                        bug: Some(bug),
                        change: None,
                        hard: Some("single-failure flake"),
                    },
                    &fails,
                );
            }
        }
        // A new failure on the newest commit only: a regression, with low confidence.
        if let Some(t) = self.take_free(|_| true) {
            let bug = self.new_bug(Kind::Bug, None, t);
            self.assign(
                t,
                Planned::regression(bug, n - 1, Some("newest-only new signature")),
                &[n - 1],
            );
        }
        // A known flaky signature failing once, on the newest commit, in another test.
        if let (Some(a), Some(b)) = (self.take_free(|_| true), self.take_free(|_| true)) {
            let bug = self.new_bug(Kind::Kasan, None, a);
            let fails = self.flaky_fails(0.3, 2);
            self.assign(
                a,
                Planned {
                    class: Class::Flaky,
                    bug: Some(bug),
                    change: None,
                    hard: None,
                },
                &fails,
            );
            self.assign(
                b,
                Planned {
                    class: Class::Flaky,
                    bug: Some(bug),
                    change: None,
                    hard: Some("newest-only known signature"),
                },
                &[n - 1],
            );
        }
        // Infrastructure failures at a regression's boundary: on last_good of a one-test
        // regression, on first_bad of one test of a two-test regression.
        if let Some(t) = self.take_free(|_| true) {
            let bug = self.new_bug(Kind::Gpf, None, t);
            let first_bad = self.rng.range(4, n - 3);
            let fails = self.regression_fails(first_bad, false);
            self.assign(
                t,
                Planned::regression(bug, first_bad, Some("infra on last_good")),
                &fails,
            );
            self.plans[first_bad - 1][t] = Plan::Infra(InfraKind::VmStart);
        }
        if let (Some(a), Some(b)) = (self.take_free(|_| true), self.take_free(|_| true)) {
            let bug = self.new_bug(Kind::Bug, None, a);
            let first_bad = self.rng.range(4, n - 3);
            let fails = self.regression_fails(first_bad, false);
            self.assign(a, Planned::regression(bug, first_bad, None), &fails);
            self.assign(
                b,
                Planned::regression(bug, first_bad, Some("infra on first_bad")),
                &fails,
            );
            self.plans[first_bad][b] = Plan::Infra(InfraKind::OutOfDisk);
        }
        // Two bugs in one function: a flaky WARNING and a KASAN regression; two assertions
        // (same title, different lines), one flaky and one a regression.
        for (ka, kb, case) in [
            (Kind::Warn, Kind::Kasan, "two bugs in one function"),
            (Kind::Bug, Kind::Bug, "two assertions in one function"),
        ] {
            let (Some(a), Some(b)) = (self.take_free(|_| true), self.take_free(|_| true)) else {
                break;
            };
            let site = self.free_site(&[ka, kb]);
            let first = self.new_bug(ka, Some(site), a);
            let second = self.new_bug(kb, Some(site), b);
            let fails = self.flaky_fails(0.3, 2);
            self.assign(
                a,
                Planned {
                    class: Class::Flaky,
                    bug: Some(first),
                    change: None,
                    hard: Some(case),
                },
                &fails,
            );
            let first_bad = self.rng.range(3, n - 2);
            let fails = self.regression_fails(first_bad, false);
            self.assign(
                b,
                Planned::regression(second, first_bad, Some(case)),
                &fails,
            );
        }
    }

    /// True when an infrastructure failure of test `t` at `age` keeps its class readable:
    /// never on a change point or the run before it, at least two visible runs on each
    /// side, and not on a flaky test's failure.
    fn infra_allowed(&self, t: usize, age: usize) -> bool {
        if !matches!(self.plans[age][t], Plan::Pass | Plan::Fail(_)) {
            return false;
        }
        let Some(p) = self.truth.get(&t) else {
            return true;
        };
        let visible = |range: std::ops::Range<usize>| {
            range
                .filter(|&a| a != age && matches!(self.plans[a][t], Plan::Pass | Plan::Fail(_)))
                .count()
        };
        match (p.class, p.change) {
            (Class::Regression | Class::Fixed, Some(c)) => {
                age + 1 != c && age != c && visible(0..c) >= 2 && visible(c..self.n) >= 2
            }
            (Class::Persistent, _) => visible(0..self.n) >= 2,
            _ => self.plans[age][t] == Plan::Pass,
        }
    }

    /// One large event (18–28 % of one commit's tests, one worker) and two single-test ones.
    fn infra_events(&mut self, workers: &mut BTreeMap<(usize, usize), String>) {
        let nt = self.tests.len();
        let causes = [
            InfraKind::OutOfDisk,
            InfraKind::VmStart,
            InfraKind::BootFailure,
        ];
        let big_age = self.rng.below(self.n);
        let cause = *self.rng.pick(&causes);
        let worker = format!("ci-x86-{}", self.rng.range(1, 3));
        let share = 0.18 + self.rng.unit() * 0.10;
        let mut hit = 0;
        let mut order: Vec<usize> = (0..nt).collect();
        for i in (1..order.len()).rev() {
            let j = self.rng.below(i + 1);
            order.swap(i, j);
        }
        for t in order {
            if (hit as f64) >= share * nt as f64 {
                break;
            }
            if self.infra_allowed(t, big_age) {
                self.plans[big_age][t] = Plan::Infra(cause);
                workers.insert((big_age, t), worker.clone());
                hit += 1;
            }
        }
        for _ in 0..2 {
            let (age, t) = (self.rng.below(self.n), self.rng.below(nt));
            if self.infra_allowed(t, age) {
                self.plans[age][t] = Plan::Infra(*self.rng.pick(&causes));
                workers.insert((age, t), format!("ci-arm-{}", self.rng.range(1, 2)));
            }
        }
    }
}

/// Writes the tree of `sim` into `dir`: `branch.json`, `<commit>.json`,
/// `<commit>/<test>/{status,duration,log}` and, when `with_truth`, `truth.json`.
pub fn write_tree(sim: &Sim, dir: &Path, with_truth: bool) -> std::io::Result<()> {
    let n = sim.params.commits;
    let ages_newest_first: Vec<usize> = (0..n).rev().collect();
    let mut branch = Vec::new();
    for &age in &ages_newest_first {
        let commit = &sim.truth.commits[n - 1 - age];
        let mut entries = Vec::new();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut total_duration = 0u64;
        for (t, name) in sim.tests.iter().enumerate() {
            let mut rng = Rng::new(sim.params.seed ^ (age as u64) << 32 ^ t as u64 ^ 0xa5a5_a5a5);
            let run = render(sim, age, t, &mut rng);
            let tdir = dir.join(commit).join(name);
            std::fs::create_dir_all(&tdir)?;
            std::fs::write(tdir.join("status"), format!("{}\n", run.status))?;
            if let Some(d) = run.duration {
                std::fs::write(tdir.join("duration"), format!("{d}\n"))?;
                total_duration += d;
            }
            std::fs::write(tdir.join("log"), &run.log)?;
            *counts.entry(run.json_status).or_default() += 1;
            entries.push(serde_json::json!({"name": name, "status": run.json_status, "duration": run.duration}));
        }
        let commit_json = serde_json::json!({"commit": commit, "tests": entries});
        std::fs::write(
            dir.join(format!("{commit}.json")),
            serde_json::to_vec(&commit_json)?,
        )?;
        let count = |s: &str| counts.get(s).copied().unwrap_or(0);
        branch.push(serde_json::json!({
            "commit": commit, "message": sim.messages[age],
            "passed": count("passed"), "failed": count("failed") + count("failed_timeout"),
            "notrun": count("notrun"), "failed_to_run": count("failed_to_run"),
            "inprogress": count("inprogress"), "unknown": 0, "duration": total_duration,
        }));
    }
    let mut f = std::fs::File::create(dir.join("branch.json"))?;
    f.write_all(&serde_json::to_vec_pretty(&branch)?)?;
    if with_truth {
        std::fs::write(
            dir.join("truth.json"),
            serde_json::to_vec_pretty(&sim.truth)?,
        )?;
    }
    Ok(())
}

/// One rendered run.
struct Rendered {
    status: &'static str,
    json_status: &'static str,
    duration: Option<u64>,
    log: String,
}

/// A log being written: elapsed seconds and the guest clock.
struct LogWriter {
    out: String,
    elapsed: f64,
}

impl LogWriter {
    fn host(&mut self, line: &str) {
        self.out
            .push_str(&format!("{:05} {line}\n", self.elapsed as u64));
    }

    fn kernel(&mut self, line: &str) {
        let ts = (self.elapsed - 1.0).max(0.0);
        self.out.push_str(&format!(
            "{:05} [{:5}.{:06}] {line}\n",
            self.elapsed as u64,
            ts as u64,
            ((ts.fract()) * 1e6) as u64
        ));
    }

    fn advance(&mut self, secs: f64) {
        self.elapsed += secs;
    }
}

fn render(sim: &Sim, age: usize, t: usize, rng: &mut Rng) -> Rendered {
    let name = &sim.tests[t];
    let n = sim.params.commits;
    let commit = &sim.truth.commits[n - 1 - age];
    let plan = sim.plans[age][t];
    let fstest = name.contains(".fstests");
    let (script, sub) = if fstest {
        let num = name.rsplit('.').next().unwrap_or("000");
        ("fstests".to_owned(), format!("generic/{num}"))
    } else {
        let mut parts = name.rsplit('.');
        let sub = parts.next().unwrap_or("test").to_owned();
        (parts.next().unwrap_or("misc").to_owned(), sub)
    };
    let bug = match plan {
        Plan::Fail(b) => Some(&sim.truth.bugs[b]),
        _ => None,
    };
    let x86 = bug.is_some_and(|b| b.kind == Kind::Gpf) || rng.chance(0.6);
    let worker = sim.workers.get(&(age, t)).cloned().unwrap_or_else(|| {
        if x86 {
            format!("ci-x86-{}", rng.range(1, 3))
        } else {
            format!("ci-arm-{}", rng.range(1, 2))
        }
    });
    let x86 = worker.contains("x86");
    let (arch, qemu) = if x86 {
        ("x86_64", "qemu-system-x86_64")
    } else {
        ("aarch64", "qemu-system-aarch64")
    };
    let mut w = LogWriter {
        out: String::new(),
        elapsed: 0.0,
    };
    let describe = format!("6.17.0-rc5-ktest-{:05}-g{}", 100 + age, &commit[..12]);
    w.host(&format!(
        "ktest: fs/bcachefs/{script}.ktest: {sub} on {worker} ({arch})"
    ));
    w.host(&format!("ktest: kernel {describe}, commit {commit}"));
    if let Plan::Infra(kind) = plan {
        infra_log(&mut w, kind, qemu, &describe, &worker);
        let d = w.elapsed as u64;
        return Rendered {
            status: "FAILED",
            json_status: "failed_to_run",
            duration: Some(d),
            log: w.out,
        };
    }
    if plan == Plan::InProgress {
        w.host(&format!(
            "ktest: starting VM: {qemu} -smp 4 -m 4G -nographic"
        ));
        return Rendered {
            status: "",
            json_status: "inprogress",
            duration: None,
            log: w.out,
        };
    }
    w.host(&format!(
        "ktest: starting VM: {qemu} -smp 4 -m 4G -nographic"
    ));
    w.advance(1.0);
    w.kernel(&format!(
        "Linux version {describe} (ktest@{worker}) #1 SMP PREEMPT"
    ));
    for dev in ["vda", "vdb", "vdc"] {
        w.advance(0.1);
        w.kernel(&format!(
            "virtio_blk: [{dev}] 16777216 512-byte logical blocks (8.59 GB/8.00 GiB)"
        ));
    }
    w.kernel("EXT4-fs (vda): mounted filesystem with ordered data mode. Quota mode: none.");
    w.kernel("Run /sbin/init as init process");
    w.host("");
    w.host(&format!("========= TEST   {sub}"));
    w.host("");
    if fstest {
        w.host("FSTYP         -- bcachefs");
        w.host("MKFS_OPTIONS  -- /dev/vdc");
        w.kernel(&format!("run fstests {sub} at 2025-10-09 17:08:00"));
    } else {
        w.host("+ bcachefs format --replicas=2 /dev/vdb /dev/vdc");
        w.host("+ mount -t bcachefs /dev/vdb:/dev/vdc /mnt");
    }
    w.advance(0.3);
    w.kernel("bcachefs (vdc): starting version 1.31 opts=errors=ro");
    w.kernel("bcachefs (vdc): going read-write");
    if plan == Plan::NotRun {
        w.host(&format!(
            "{sub}  [not run] this test requires a feature not present"
        ));
        w.host(&format!("========= NOTRUN {sub}"));
        w.host("");
        w.host("TEST SUCCESS");
        return Rendered {
            status: "NOTRUN",
            json_status: "notrun",
            duration: Some(w.elapsed as u64),
            log: w.out,
        };
    }
    // Passing tests sometimes print error-looking lines.
    if rng.chance(0.3) {
        w.advance(rng.range(1, 5) as f64);
        w.kernel(&format!(
            "I/O error, dev dm-0, sector {} op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2",
            rng.range(1000, 90000)
        ));
        w.kernel(&format!(
            "Buffer I/O error on dev dm-0, logical block {}, async page read",
            rng.range(1000, 90000)
        ));
        w.kernel("bcachefs (vdc): fsck: repairing: dirent points to missing inode");
    }
    w.advance(rng.range(5, 120) as f64);
    let Some(bug) = bug else {
        if fstest {
            w.host(&format!("Ran: {sub}"));
            w.host("Passed all 1 tests");
        }
        let d = w.elapsed as u64;
        w.host("");
        w.host(&format!("========= PASSED {sub} in {d}s"));
        w.host("");
        w.host("TEST SUCCESS");
        return Rendered {
            status: "PASSED",
            json_status: "passed",
            duration: Some(d),
            log: w.out,
        };
    };
    if bug.kind == Kind::Mismatch {
        w.host(&format!(
            "{sub}  - output mismatch (see /ktest-out/xfstests/{sub}.out.bad)"
        ));
        w.host(&format!(
            "    --- tests/{sub}.out\t2025-06-02 11:04:51.000000000 +0000"
        ));
        w.host(&format!(
            "    +++ /ktest-out/xfstests/{sub}.out.bad\t2025-10-07 09:28:00.059516690 +0000"
        ));
        w.host("    @@ -1,4 +1,4 @@");
        w.host(&format!(
            "     QA output created by {}",
            sub.rsplit('/').next().unwrap_or("")
        ));
        w.host("    -pwrite 512M");
        w.host(&format!("    +pwrite: error {}", rng.range(1, 99)));
    } else {
        kernel_report(&mut w, bug, x86, age, rng);
    }
    if bug.kind.is_timeout() {
        return Rendered {
            status: "FAILED TIMEOUT",
            json_status: "failed_timeout",
            duration: Some(7200),
            log: w.out,
        };
    }
    w.advance(rng.range(1, 60) as f64);
    if fstest {
        if bug.kind != Kind::Mismatch {
            w.host(&format!(
                "{sub}  _check_dmesg: something found (see /ktest-out/xfstests/{sub}.dmesg)"
            ));
        }
        w.host(&format!("Ran: {sub}"));
        w.host(&format!("Failures: {sub}"));
        w.host("Failed 1 of 1 tests");
    } else {
        w.host("ktest: kernel error in dmesg, failing test");
    }
    let d = w.elapsed as u64;
    w.host("");
    w.host(&format!("========= FAILED {sub} in {d}s"));
    w.host("");
    w.host("TEST FAILED");
    Rendered {
        status: "FAILED",
        json_status: "failed",
        duration: Some(d),
        log: w.out,
    }
}

fn infra_log(w: &mut LogWriter, kind: InfraKind, qemu: &str, describe: &str, worker: &str) {
    match kind {
        InfraKind::OutOfDisk => {
            w.host(&format!(
                "ktest: creating scratch devices in /var/lib/ktest/tmp/ktest-{worker}"
            ));
            w.advance(1.0);
            w.host("fallocate: fallocate failed: No space left on device");
            w.host(&format!(
                "ktest: error creating scratch device /var/lib/ktest/tmp/ktest-{worker}/vdb (8G)"
            ));
            w.host("ktest: test not started");
        }
        InfraKind::VmStart => {
            w.host(&format!(
                "ktest: starting VM: {qemu} -smp 4 -m 4G -nographic"
            ));
            w.advance(3.0);
            w.host(&format!(
                "{qemu}: failed to initialize kvm: Cannot allocate memory"
            ));
            w.host("ktest: VM exited with status 1 before the test started");
        }
        InfraKind::BootFailure => {
            w.host(&format!(
                "ktest: starting VM: {qemu} -smp 4 -m 4G -nographic"
            ));
            w.advance(1.0);
            w.kernel(&format!(
                "Linux version {describe} (ktest@{worker}) #1 SMP PREEMPT"
            ));
            w.kernel("EXT4-fs (vda): VFS: Can't find ext4 filesystem");
            w.kernel(
                "VFS: Cannot open root device \"/dev/vda\" or unknown-block(254,0): error -22",
            );
            w.kernel(
                "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(254,0)",
            );
            w.kernel("Call Trace:");
            w.kernel(" <TASK>");
            w.kernel(" dump_stack_lvl+0x10e/0x390");
            w.kernel(" panic+0x9b6/0xc70");
            w.kernel(" mount_root_generic+0x3b7/0x990");
            w.kernel(" </TASK>");
            w.advance(30.0);
            w.host("ktest: no test start from the VM within 30s, giving up");
        }
    }
}

/// `F+0xOFF/0xSIZE`, with offsets that depend on the commit (they drift) and the arch.
fn frame(rng: &mut Rng, func: &str) -> String {
    let size = rng.range(0x100, 0xc00);
    format!("{func}+0x{:x}/0x{size:x}", rng.range(0x10, size - 1))
}

fn kernel_report(w: &mut LogWriter, bug: &Bug, x86: bool, age: usize, rng: &mut Rng) {
    // Offsets: fixed per (bug, commit, arch), so they drift between commits.
    let mut offsets = Rng::new(fnv(&bug.title) ^ (age as u64) << 8 ^ u64::from(x86));
    let func = bug.stack[0].as_str();
    let (file_line, _) = (bug.location.trim_start_matches("fs/bcachefs/"), ());
    let loc = format!("fs/bcachefs/{file_line}");
    let pid = rng.range(200, 9000);
    let cpu = rng.range(0, 3);
    let cpu_line = format!(
        "CPU: {cpu} UID: 0 PID: {pid} Comm: kworker/u16:{} Not tainted 6.17.0-rc5-ktest #1 PREEMPT",
        rng.range(0, 9)
    );
    let hw = if x86 {
        "Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.3"
    } else {
        "Hardware name: linux,dummy-virt (DT)"
    };
    let tag = if x86 { " [bcachefs]" } else { "" };
    let callers: Vec<String> = bug.stack[1..]
        .iter()
        .map(|f| format!(" {}{tag}", frame(&mut offsets, f)))
        .collect();
    let core: &[&str] = if x86 {
        &[
            "process_one_work",
            "worker_thread",
            "kthread",
            "ret_from_fork",
            "ret_from_fork_asm",
        ]
    } else {
        &[
            "process_one_work",
            "worker_thread",
            "kthread",
            "ret_from_fork",
        ]
    };
    let core: Vec<String> = core
        .iter()
        .map(|f| format!(" {}", frame(&mut offsets, f)))
        .collect();
    let fn_frame = frame(&mut offsets, func);
    let trace = |w: &mut LogWriter, first: Option<String>| {
        w.kernel(if x86 { "Call Trace:" } else { "Call trace:" });
        if x86 {
            w.kernel(" <TASK>");
        }
        if let Some(f) = first {
            w.kernel(&f);
        }
        for l in callers.iter().chain(&core) {
            w.kernel(l);
        }
        if x86 {
            w.kernel(" </TASK>");
        }
    };
    let regs = |w: &mut LogWriter, rng: &mut Rng| {
        if x86 {
            w.kernel(&format!("RIP: 0010:{fn_frame}{tag}"));
            w.kernel(&format!(
                "RSP: 0018:ffffc900{} EFLAGS: 00010293",
                rng.hex(8)
            ));
            w.kernel(&format!("RAX: ffff888{} RBX: 0000000000000000", rng.hex(9)));
        } else {
            w.kernel(&format!("pc : {fn_frame}"));
            w.kernel(&format!("lr : {}", frame(rng, func)));
            w.kernel(&format!("sp : ffff8000{}", rng.hex(8)));
        }
    };
    let first_arm = (!x86).then(|| format!(" {fn_frame} (P)"));
    match bug.kind {
        Kind::Bug | Kind::Panic => {
            w.kernel(&format!(
                "bcachefs (vdc): {loc}: {func}: assertion failed: ref > 0"
            ));
            w.kernel("------------[ cut here ]------------");
            w.kernel(&format!("kernel BUG at {loc}!"));
            w.kernel(if x86 {
                "Oops: invalid opcode: 0000 [#1] SMP KASAN NOPTI"
            } else {
                "Internal error: Oops - BUG: 00000000f2000800 [#1]  SMP"
            });
            w.kernel(&cpu_line);
            w.kernel(hw);
            regs(w, rng);
            trace(w, first_arm);
            w.kernel("---[ end trace 0000000000000000 ]---");
            if bug.kind == Kind::Panic {
                w.kernel("Kernel panic - not syncing: Fatal exception in interrupt");
                w.kernel("Kernel Offset: disabled");
            }
        }
        Kind::Warn => {
            w.kernel("------------[ cut here ]------------");
            w.kernel(&format!(
                "WARNING: CPU: {cpu} PID: {pid} at {loc} {fn_frame}{tag}"
            ));
            w.kernel("Modules linked in:");
            w.kernel(&cpu_line);
            w.kernel(hw);
            regs(w, rng);
            trace(w, first_arm);
            w.kernel("---[ end trace 0000000000000000 ]---");
        }
        Kind::Kasan => {
            w.kernel("==================================================================");
            w.kernel(&format!("BUG: KASAN: {} in {fn_frame}{tag}", bug.kasan.0));
            w.kernel(&format!(
                "{} of size {} at addr ffff0000{} by task kworker/{pid}",
                bug.kasan.1,
                rng.pick(&[1, 4, 8]),
                rng.hex(8)
            ));
            w.kernel("");
            w.kernel(&cpu_line);
            w.kernel(hw);
            let mut first = vec![
                " dump_stack_lvl+0x348/0x630",
                " print_report+0x244/0x700",
                " kasan_report+0x3d0/0x450",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
            first.push(format!(" {fn_frame}{tag}"));
            w.kernel(if x86 { "Call Trace:" } else { "Call trace:" });
            for l in first.iter().chain(&callers).chain(&core) {
                w.kernel(l);
            }
            w.kernel("");
            w.kernel("The buggy address belongs to the object at ffff0000c1360a00");
            w.kernel("==================================================================");
        }
        Kind::Gpf => {
            w.kernel("Oops: general protection fault, probably for non-canonical address 0xdffffc0000000006: 0000 [#1] SMP KASAN NOPTI");
            w.kernel("KASAN: null-ptr-deref in range [0x0000000000000030-0x0000000000000037]");
            w.kernel(&cpu_line);
            w.kernel(hw);
            regs(w, rng);
            trace(w, None);
            w.kernel("---[ end trace 0000000000000000 ]---");
        }
        Kind::Hung => {
            for secs in [120, 245] {
                w.kernel(&format!(
                    "INFO: task fio:{pid} blocked for more than {secs} seconds."
                ));
                w.kernel("      Not tainted 6.17.0-rc5-ktest #1");
                w.kernel(
                    "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
                );
                w.kernel(&format!(
                    "task:fio             state:D stack:0     pid:{pid}"
                ));
                w.kernel(if x86 { "Call Trace:" } else { "Call trace:" });
                if x86 {
                    w.kernel(" <TASK>");
                } else {
                    w.kernel(" __switch_to+0xe8/0x170 (T)");
                }
                for f in [
                    " __schedule+0x1de/0x4f0",
                    " schedule+0x302/0x770",
                    " schedule_timeout+0x1df/0x2f0",
                ] {
                    w.kernel(f);
                }
                w.kernel(&format!(" {fn_frame}{tag}"));
                for l in callers.iter().chain(&core) {
                    w.kernel(l);
                }
                if x86 {
                    w.kernel(" </TASK>");
                }
                w.advance(123.0);
            }
        }
        Kind::Mismatch => {}
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Precision and recall of one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ClassScore {
    /// Tests of the class in the truth.
    pub support: usize,
    /// Tests predicted as the class.
    pub predicted: usize,
    /// Correctly predicted.
    pub tp: usize,
}

impl ClassScore {
    /// tp / predicted (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            1.0
        } else {
            self.tp as f64 / self.predicted as f64
        }
    }

    /// tp / support (1 when there is nothing to find).
    pub fn recall(&self) -> f64 {
        if self.support == 0 {
            1.0
        } else {
            self.tp as f64 / self.support as f64
        }
    }
}

/// How a classification compares with the truth.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Score {
    /// Per class.
    pub classes: BTreeMap<&'static str, ClassScore>,
    /// Truth regressions whose `first_bad` was predicted exactly.
    pub first_bad_correct: usize,
    /// Truth regressions.
    pub first_bad_total: usize,
    /// Pairs of failing tests: same bug and same predicted signature key.
    pub pairs_tp: usize,
    /// Pairs with the same predicted key but different bugs.
    pub pairs_fp: usize,
    /// Pairs of the same bug with different (or missing) predicted keys.
    pub pairs_fn: usize,
    /// Misclassified tests and wrong `first_bad`s, one line each, naming the hard case.
    pub errors: Vec<String>,
}

impl Score {
    /// Adds another score's counts to this one.
    pub fn merge(&mut self, other: &Score) {
        for (c, s) in &other.classes {
            let e = self.classes.entry(c).or_default();
            e.support += s.support;
            e.predicted += s.predicted;
            e.tp += s.tp;
        }
        self.first_bad_correct += other.first_bad_correct;
        self.first_bad_total += other.first_bad_total;
        self.pairs_tp += other.pairs_tp;
        self.pairs_fp += other.pairs_fp;
        self.pairs_fn += other.pairs_fn;
        self.errors.extend(other.errors.iter().cloned());
    }

    /// Pairwise grouping precision.
    pub fn pair_precision(&self) -> f64 {
        let d = self.pairs_tp + self.pairs_fp;
        if d == 0 {
            1.0
        } else {
            self.pairs_tp as f64 / d as f64
        }
    }

    /// Pairwise grouping recall.
    pub fn pair_recall(&self) -> f64 {
        let d = self.pairs_tp + self.pairs_fn;
        if d == 0 {
            1.0
        } else {
            self.pairs_tp as f64 / d as f64
        }
    }
}

/// Scores `c` against `truth` like `score_ci.py` (grouping by bug rather than title).
pub fn score(truth: &Truth, c: &Classification) -> Score {
    let predicted: BTreeMap<&str, &crate::classify::TestClass> =
        c.tests.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut s = Score::default();
    let all = [
        Class::Regression,
        Class::Flaky,
        Class::Persistent,
        Class::Fixed,
        Class::Infra,
        Class::Pass,
    ];
    for class in all {
        s.classes.insert(class.name(), ClassScore::default());
    }
    let mut sig_tests = Vec::new();
    for (name, t) in &truth.tests {
        let p = predicted.get(name.as_str());
        let pc = p.map_or(Class::Pass, |p| p.class);
        if let Some(e) = s.classes.get_mut(t.class.name()) {
            e.support += 1;
            e.tp += usize::from(pc == t.class);
        }
        if let Some(e) = s.classes.get_mut(pc.name()) {
            e.predicted += 1;
        }
        let hard = t.hard.unwrap_or("-");
        if pc != t.class {
            s.errors.push(format!(
                "{name}: truth {} predicted {} ({hard})",
                t.class.name(),
                pc.name()
            ));
        }
        if t.class == Class::Regression {
            s.first_bad_total += 1;
            let got = p.and_then(|p| p.first_bad.as_ref());
            if got == t.first_bad.as_ref() {
                s.first_bad_correct += 1;
            } else {
                let age =
                    |c: Option<&String>| c.and_then(|c| truth.commits.iter().position(|x| x == c));
                s.errors.push(format!(
                    "{name}: first_bad at age {:?}, predicted {:?} ({hard})",
                    age(t.first_bad.as_ref()),
                    age(got)
                ));
            }
        }
        if let Some(bug) = t.bug {
            sig_tests.push((bug, p.and_then(|p| p.signature_key.as_deref())));
        }
    }
    for (i, a) in sig_tests.iter().enumerate() {
        for b in &sig_tests[i + 1..] {
            let same_truth = a.0 == b.0;
            let same_pred = a.1.is_some() && a.1 == b.1;
            match (same_truth, same_pred) {
                (true, true) => s.pairs_tp += 1,
                (false, true) => s.pairs_fp += 1,
                (true, false) => s.pairs_fn += 1,
                (false, false) => {}
            }
        }
    }
    s
}
