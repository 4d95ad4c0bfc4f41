//! Data-driven cases, in the style of DataFusion's sqllogictest: every folder under
//! `tests/cases/` holding a `sluice.yaml` is one case. The harness runs the real binary in
//! that folder and compares exit code, stderr and stdout with the case's `expected.out`.
//!
//! - Arguments: `args` in the case folder (one per line) if present, else
//!   `check --format json --now 2025-01-01T00:00:00Z`. `--color never` is always added.
//! - Shared data lives in `tests/cases/data/`; cases refer to it with relative paths.
//! - Volatile values (run id, timestamps, durations, absolute paths) are replaced by
//!   placeholders before comparing.
//! - `SLUICE_BLESS=1 cargo test --test cases` rewrites every `expected.out`; review the
//!   diff like code.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn cases_root() -> PathBuf {
    common::cases_root()
}

fn run_case(dir: &Path) -> String {
    let args = common::case_args(dir);
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("--color")
        .arg("never")
        .args(&args)
        .current_dir(dir)
        .env_remove("SLUICE_CONFIG")
        .env_remove("SLUICE_FORMAT")
        .env_remove("SLUICE_LOG")
        .env_remove("SLUICE_LOG_FORMAT")
        .env_remove("AIRFLOW_CTX_DAG_ID")
        .env_remove("SLUICE_STATE")
        .env("SLUICE_NO_STATE", "1")
        .env("SLUICE_TEST_VAR", "from-env")
        .output()
        .expect("run sluice");
    common::transcript(&out, dir)
}

#[test]
fn cases() {
    let dirs: Vec<PathBuf> = common::configs_under(&cases_root())
        .iter()
        .map(|c| c.parent().unwrap().to_path_buf())
        .collect();
    assert!(
        dirs.len() >= 50,
        "expected the case folders, found {}",
        dirs.len()
    );
    let bless = std::env::var_os("SLUICE_BLESS").is_some();
    let mut failed = Vec::new();
    for dir in &dirs {
        let actual = run_case(dir);
        let file = dir.join("expected.out");
        if bless {
            std::fs::write(&file, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&file).unwrap_or_default();
        if expected != actual {
            let name = dir
                .strip_prefix(cases_root())
                .unwrap()
                .display()
                .to_string();
            let diff = first_difference(&expected, &actual);
            failed.push(format!("{name}: {diff}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases differ from expected.out (SLUICE_BLESS=1 to regenerate, then review the diff):\n{}",
        failed.len(),
        dirs.len(),
        failed.join("\n")
    );
}

fn first_difference(expected: &str, actual: &str) -> String {
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!("line {}:\n    expected: {e}\n    actual:   {a}", i + 1);
        }
    }
    format!(
        "expected {} lines, got {}",
        expected.lines().count(),
        actual.lines().count()
    )
}
