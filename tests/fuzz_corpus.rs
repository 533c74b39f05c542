//! Replays every committed fuzz input — the seed corpus and every crash ever found — and
//! a deterministic sweep of pseudo-random inputs through the fuzz harness, so plain
//! `cargo test` on stable catches regressions without cargo-fuzz.

mod fuzz_harness;

use std::path::Path;

fn replay(dir: &Path, run: fn(&[u8])) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let result = std::panic::catch_unwind(|| run(&data));
        assert!(result.is_ok(), "fuzz input {} fails", f.display());
    }
    files.len()
}

#[test]
fn committed_corpus_and_regressions_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    if !root.join("corpus").is_dir() {
        // The published crate leaves fuzz/ out: nothing to replay there.
        eprintln!(
            "skipped: {} is not here (the packaged crate ships without fuzz/); the pseudo-random sweep still runs",
            root.join("corpus").display()
        );
        return;
    }
    let mut total = 0;
    for (name, run) in fuzz_harness::TARGETS {
        let n = replay(&root.join("corpus").join(name), run)
            + replay(&root.join("regressions").join(name), run);
        assert!(n > 0, "no committed inputs for fuzz target {name}");
        total += n;
    }
    eprintln!("replayed {total} committed fuzz inputs");
}

#[test]
fn pseudo_random_sweep() {
    let mut state: u64 = 0x5eed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u8
    };
    for (_, run) in fuzz_harness::TARGETS {
        for case in 0..300 {
            let len = case % 200;
            let data: Vec<u8> = (0..len).map(|_| next()).collect();
            run(&data);
        }
    }
}
