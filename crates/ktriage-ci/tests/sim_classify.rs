//! End to end over simulated trees: generate, read back, classify, score against the truth.

use ktriage_ci::classify::{classify, Class};
use ktriage_ci::results::read_results;
use ktriage_ci::sim::{generate, score, write_tree, Score, SimParams};

fn run(params: SimParams) -> Score {
    let sim = generate(params);
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(&sim, dir.path(), false).expect("write tree");
    let set = read_results(dir.path()).expect("read tree");
    assert_eq!(set.commits.len(), params.commits);
    assert_eq!(set.commits[0].commit, sim.truth.commits[0]);
    let c = classify(&set);
    score(&sim.truth, &c)
}

fn report(label: &str, s: &Score) {
    eprintln!("{label}:");
    for (class, cs) in &s.classes {
        eprintln!(
            "  {class:<11} support {:4} predicted {:4} tp {:4}  precision {:.3} recall {:.3}",
            cs.support,
            cs.predicted,
            cs.tp,
            cs.precision(),
            cs.recall()
        );
    }
    eprintln!("  first_bad {}/{}", s.first_bad_correct, s.first_bad_total);
    eprintln!(
        "  pairs precision {:.3} recall {:.3}",
        s.pair_precision(),
        s.pair_recall()
    );
    for e in &s.errors {
        eprintln!("  error: {e}");
    }
}

#[test]
fn classification_over_seeds() {
    let mut total = Score::default();
    for seed in 1..=6 {
        let commits = if seed % 2 == 0 { 16 } else { 12 };
        let s = run(SimParams {
            seed,
            commits,
            tests: 200,
            hard: true,
            inprogress: 3,
        });
        report(&format!("seed {seed}, {commits} commits"), &s);
        total.merge(&s);
    }
    report("all seeds", &total);
    for (class, cs) in &total.classes {
        assert!(
            cs.precision() >= 0.95,
            "{class}: precision {:.3}",
            cs.precision()
        );
        assert!(cs.recall() >= 0.95, "{class}: recall {:.3}", cs.recall());
    }
    let fb = total.first_bad_correct as f64 / total.first_bad_total as f64;
    assert!(fb >= 0.95, "first_bad {fb:.3}");
    assert!(
        total.pair_precision() >= 0.95,
        "pair precision {:.3}",
        total.pair_precision()
    );
    assert!(
        total.pair_recall() >= 0.95,
        "pair recall {:.3}",
        total.pair_recall()
    );
}

#[test]
fn larger_tree_without_hard_cases() {
    let s = run(SimParams {
        seed: 42,
        commits: 20,
        tests: 600,
        hard: false,
        inprogress: 0,
    });
    report("seed 42, 600 tests", &s);
    for (class, cs) in &s.classes {
        assert!(cs.recall() >= 0.95, "{class}: recall {:.3}", cs.recall());
    }
}

#[test]
fn generator_is_deterministic() {
    let p = SimParams::default();
    let a = generate(p);
    let b = generate(p);
    assert_eq!(a.truth.commits, b.truth.commits);
    let classes = |s: &ktriage_ci::sim::Sim| -> Vec<Class> {
        s.truth.tests.values().map(|t| t.class).collect()
    };
    assert_eq!(classes(&a), classes(&b));
}
