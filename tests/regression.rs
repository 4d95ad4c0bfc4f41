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

// ---- sources --------------------------------------------------------------------------

// ---- the state store and publishing ---------------------------------------------------

// ---- the command line -----------------------------------------------------------------
