//! Regression tests: one per defect fixed, each named after what it guards. Most run the
//! real binary on real files (like a user would meet the defect); a few call a library
//! directly where the binary cannot reach the case.
//!
//! The defects of issue 9's bad-input tour are grouped by where they live: the config
//! loader, the sources, the state store, the command line.

mod common;

use std::path::Path;
use std::process::Output;

use common::{sluice, transcript};

/// Writes `files` (path, contents) under `dir`.
fn write_files(dir: &Path, files: &[(&str, &[u8])]) {
    for (name, bytes) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, bytes).unwrap();
    }
}

/// Runs the binary in `dir` with `args`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    sluice().args(args).current_dir(dir).output().unwrap()
}

/// The exit code and the normalised transcript of a run in `dir`.
fn outcome(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = run_in(dir, args);
    (out.status.code().unwrap_or(-1), transcript(&out, dir))
}

// ---- the config loader ------------------------------------------------------------

/// Validates `config` (the text of a sluice.yaml) in a fresh folder: exit code and transcript.
fn validate(config: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("sluice.yaml", config.as_bytes())]);
    outcome(dir.path(), &["validate", "--config", "sluice.yaml"])
}

/// Asserts a config error: exit 2, no panic, and every `needle` in the output.
#[track_caller]
fn assert_config_error(config: &str, needles: &[&str]) -> String {
    let (code, out) = validate(config);
    assert_eq!(code, 2, "{out}");
    assert!(!out.contains("panicked"), "{out}");
    for n in needles {
        assert!(out.contains(n), "missing {n:?} in:\n{out}");
    }
    out
}

#[test]
fn an_overlong_max_age_is_a_config_error_not_a_panic() {
    assert_config_error(
        "datasets:\n  o:\n    path: o.csv\n    checks:\n      - freshness: { column: t, max_age: 99999999999999w }\n",
        &[
            "error: `99999999999999w` is too long; a duration is at most 52000w",
            "--> sluice.yaml:5:42",
            "^^^^^^^^^^^^^^^ too long",
        ],
    );
    // In seconds, too.
    assert_config_error(
        "datasets:\n  o:\n    path: o.csv\n    checks:\n      - freshness: { column: t, max_age: 9223372036854775807 }\n",
        &["is too long", "sluice.yaml:5:42"],
    );
}

#[test]
fn overlong_durations_on_the_command_line_are_usage_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "sluice.yaml",
            b"datasets:\n  o:\n    path: pub/o.csv\n    staging: stage/o.csv\n",
        )],
    );
    for args in [
        &["publish", "o", "--wait", "1e20"][..],
        &["breaker", "trip", "o", "--reason", "r", "--until", "1e20"],
        &[
            "breaker",
            "override",
            "o",
            "--reason",
            "r",
            "--until",
            "99999999999999w",
        ],
        &["breaker", "report", "--since", "1e20"],
    ] {
        let (code, out) = outcome(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(!out.contains("panicked"), "{args:?}: {out}");
        assert!(
            out.contains("is too long; a duration is at most"),
            "{args:?}: {out}"
        );
    }
}

#[test]
fn a_billion_laughs_alias_bomb_is_a_config_error_not_13_gb() {
    // Nine levels of nine aliases: 800 bytes that would expand to 387 million nodes.
    let mut config =
        String::from("version: 1\nx:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let mut prev = 'a';
    for c in 'b'..='i' {
        let items = vec![format!("*{prev}"); 9].join(", ");
        config.push_str(&format!("  {c}: &{c} [{items}]\n"));
        prev = c;
    }
    config.push_str("datasets:\n  o:\n    path: o.csv\n    tags: *i\n");
    assert!(config.len() < 800);
    let started = std::time::Instant::now();
    assert_config_error(
        &config,
        &[
            "error: YAML aliases expand this file beyond 1000000 nodes",
            "--> sluice.yaml:9:",
            "aliases of aliases multiply",
        ],
    );
    // Refused after a million nodes, not after 13 GB (generous: debug build, busy CI).
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

// ---- sources --------------------------------------------------------------------------

// ---- the state store and publishing ---------------------------------------------------

// ---- the command line -----------------------------------------------------------------
