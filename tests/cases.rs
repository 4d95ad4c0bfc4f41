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

use std::path::{Path, PathBuf};
use std::process::Command;

fn cases_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn find_cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.join("sluice.yaml").is_file() {
                out.push(p);
            } else {
                find_cases(&p, out);
            }
        }
    }
}

/// Replaces what changes from run to run.
pub fn normalize(text: &str, case_dir: &Path) -> String {
    let root = cases_root();
    let mut t = text
        .replace(&case_dir.display().to_string(), "[CASE]")
        .replace(&root.display().to_string(), "[CASES]");
    for key in ["run_id", "started_at", "finished_at"] {
        t = replace_json_string(&t, key);
    }
    for key in ["duration_ms"] {
        t = replace_json_number(&t, key);
    }
    // Text-format timings: "· 12 ms", "· 0.25 s".
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(&redact_timings(line));
        out.push('\n');
    }
    out
}

fn replace_json_string(t: &str, key: &str) -> String {
    let pat = format!("\"{key}\": \"");
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find(&pat) {
        out.push_str(&rest[..i + pat.len()]);
        rest = &rest[i + pat.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push_str("[redacted]");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn replace_json_number(t: &str, key: &str) -> String {
    let pat = format!("\"{key}\": ");
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find(&pat) {
        out.push_str(&rest[..i + pat.len()]);
        rest = &rest[i + pat.len()..];
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        out.push('0');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn redact_timings(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let mut out: Vec<String> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or("");
        let is_num = !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '.');
        if is_num && (next == "ms" || next == "s") && i > 0 && words[i - 1] == "·" {
            out.push("[T]".into());
        } else {
            out.push(w.to_string());
        }
    }
    out.join(" ")
}

fn run_case(dir: &Path) -> String {
    let args: Vec<String> = match std::fs::read_to_string(dir.join("args")) {
        Ok(a) => a
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        Err(_) => ["check", "--format", "json", "--now", "2025-01-01T00:00:00Z"]
            .map(String::from)
            .to_vec(),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("--color")
        .arg("never")
        .args(&args)
        .current_dir(dir)
        .env_remove("SLUICE_CONFIG")
        .env_remove("SLUICE_FORMAT")
        .env_remove("SLUICE_LOG")
        .env("SLUICE_TEST_VAR", "from-env")
        .output()
        .expect("run sluice");
    let code = out
        .status
        .code()
        .map(|c| c.to_string())
        .unwrap_or("signal".into());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    normalize(
        &format!("exit: {code}\n--- stderr\n{stderr}--- stdout\n{stdout}"),
        dir,
    )
}

#[test]
fn cases() {
    let mut dirs = Vec::new();
    find_cases(&cases_root(), &mut dirs);
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
