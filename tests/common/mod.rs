//! Helpers shared by the end-to-end tests: run the binary, normalise what changes between
//! runs (run ids, timestamps, durations, absolute paths).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/cases/`.
pub fn cases_root() -> PathBuf {
    repo().join("tests/cases")
}

/// The arguments of the case in `dir`: its `args` file (one per line), else
/// `check --format json --now 2025-01-01T00:00:00Z`.
pub fn case_args(dir: &Path) -> Vec<String> {
    match std::fs::read_to_string(dir.join("args")) {
        Ok(a) => a
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        Err(_) => ["check", "--format", "json", "--now", "2025-01-01T00:00:00Z"]
            .map(String::from)
            .to_vec(),
    }
}

/// The parity ground-truth config over `tests/fixtures/gen5000` (`DATA` stands for that
/// folder): row counts (C19), sums (C20) and the keyed diff `rows` of orders_target
/// against orders.
pub const PARITY_CONFIG: &str = r#"
datasets:
  orders:
    path: DATA/orders.parquet
  orders_target:
    path: DATA/orders_target.parquet
    parity:
      - against: orders
        name: C19
        row_count: { tolerance: 0 }
      - against: orders
        name: C20
        sum: { columns: [amount], tolerance: 0.01 }
      - against: orders
        name: rows
        keys: [order_id]
        compare: all
        samples: 20
"#;

/// The manifest of `tests/fixtures/gen5000` (the shared generator's known differences).
pub fn gen5000_manifest() -> serde_json::Value {
    let text =
        std::fs::read_to_string(repo().join("tests/fixtures/gen5000/manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The check named `name` of a JSON report.
pub fn check_named<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check `{name}` in {report}"))
}

/// Every `sluice.yaml` below `dir`, in path order.
pub fn configs_under(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut out = Vec::new();
    for p in entries {
        if p.is_dir() {
            out.extend(configs_under(&p));
        } else if p.file_name().is_some_and(|n| n == "sluice.yaml") {
            out.push(p);
        }
    }
    out
}

/// The sluice binary under test, with the environment cleared of our variables.
pub fn sluice() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sluice"));
    for v in [
        "SLUICE_CONFIG",
        "SLUICE_FORMAT",
        "SLUICE_LOG",
        "SLUICE_LOG_FORMAT",
        "AIRFLOW_CTX_DAG_ID",
        "NO_COLOR",
        "SLUICE_STATE",
        "OPENLINEAGE_URL",
        "OPENLINEAGE_ENDPOINT",
        "OPENLINEAGE_API_KEY",
        "OPENLINEAGE_NAMESPACE",
        "OPENLINEAGE_PARENT_ID",
        "OPENLINEAGE_PARENT_RUN_ID",
        "OPENLINEAGE_PARENT_JOB_NAME",
        "OPENLINEAGE_PARENT_JOB_NAMESPACE",
        "OPENLINEAGE_ROOT_PARENT_ID",
        "OPENLINEAGE_DISABLED",
        "SLUICE_TOKEN",
        "SLUICE_ADDR",
    ] {
        c.env_remove(v);
    }
    // Runs leave no state behind in the repository; tests of the state store turn it on.
    c.env("SLUICE_NO_STATE", "1");
    c
}

/// Exit code, stderr and stdout in one normalised text, for snapshots.
pub fn transcript(out: &Output, dir: &Path) -> String {
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

/// Replaces what changes from run to run.
pub fn normalize(text: &str, case_dir: &Path) -> String {
    let root = cases_root();
    let repo_root = repo();
    let mut t = text
        .replace(&case_dir.display().to_string(), "[CASE]")
        .replace(&root.display().to_string(), "[CASES]")
        .replace(&repo_root.display().to_string(), "[REPO]");
    for key in ["run_id", "started_at", "finished_at"] {
        t = replace_json_string(&t, key);
    }
    t = replace_json_number(&t, "duration_ms");
    t = replace_uuids(&t);
    t = replace_attr(&t, "time");
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
        let unit = next == "s" || next.starts_with("ms");
        if is_num && unit && i > 0 && words[i - 1] == "·" {
            out.push("[T]".into());
        } else {
            out.push(w.to_string());
        }
    }
    out.join(" ")
}

/// Every UUID (8-4-4-4-12 hex digits) becomes `[UUID]`.
fn replace_uuids(t: &str) -> String {
    let is_uuid = |w: &[u8]| {
        w.len() == 36
            && w.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
    };
    let b = t.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if i + 36 <= b.len() && is_uuid(&b[i..i + 36]) {
            out.push_str("[UUID]");
            i += 36;
        } else {
            let ch = t[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// `name="..."` XML attributes become `name="[T]"`.
fn replace_attr(t: &str, name: &str) -> String {
    let pat = format!(" {name}=\"");
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find(&pat) {
        out.push_str(&rest[..i + pat.len()]);
        rest = &rest[i + pat.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push_str("[T]");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A fresh, empty Postgres database for one test, from `SLUICE_TEST_POSTGRES` (the URL of
/// a server's database, as `.ci/postgres.sh` prints it); `None` when the variable is unset,
/// unless `SLUICE_REQUIRE_POSTGRES=1` (CI), where that is a failure.
pub fn postgres_db(test: &str) -> Option<String> {
    let Some(url) = std::env::var("SLUICE_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var("SLUICE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "SLUICE_REQUIRE_POSTGRES=1 but SLUICE_TEST_POSTGRES is not set: start a server with .ci/postgres.sh"
        );
        eprintln!(
            "skipping the Postgres half of {test}: set SLUICE_TEST_POSTGRES=$(.ci/postgres.sh) to run it"
        );
        return None;
    };
    let name = format!(
        "sluice_{test}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut client = postgres::Client::connect(&url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("SLUICE_TEST_POSTGRES={url}: {e}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
    Some(format!("{base}/{name}"))
}

/// Runs sluice in `dir` with the state store on (as user `tester`, no Airflow context,
/// no colour), with `env` set.
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = sluice();
    c.args(["--color", "never"])
        .args(args)
        .current_dir(dir)
        .env_remove("SLUICE_NO_STATE")
        .env_remove("AIRFLOW_CTX_DAG_ID")
        .env("USER", "tester");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Runs sluice in `dir` with the state store on ([`run_env`] with no extra variable).
pub fn run(dir: &Path, args: &[&str]) -> Output {
    run_env(dir, args, &[])
}

/// The exit code (-1 for a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Standard output, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output then standard error.
pub fn out(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// Standard output as JSON (the test fails with the text if it is not).
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// Each check's `dataset/name`, status and observed value, sorted, for comparing two
/// reports of the same checks (a freshness check's observed age is left out: it moves
/// with the clock).
pub fn verdicts(report: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut v: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap_or("");
            (
                format!("{}/{name}", c["dataset"].as_str().unwrap_or("")),
                c["status"].as_str().unwrap_or("").to_string(),
                if name.starts_with("freshness") {
                    serde_json::Value::Null
                } else {
                    c["observed"].clone()
                },
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Runs `cmd` with `SLUICE_FAULT=<point>:pause`, waits until it says it paused there, and
/// SIGKILLs it (the crash tests); fails if it ends without reaching the point.
pub fn kill_at(mut cmd: Command, point: &str) {
    use std::io::BufRead;
    let mut child = cmd
        .env("SLUICE_FAULT", format!("{point}:pause"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let paused = line == format!("paused at {point}");
        seen.push(line);
        if paused {
            child.kill().unwrap(); // SIGKILL
            let status = child.wait().unwrap();
            assert!(status.code().is_none(), "{point}: killed by a signal");
            return;
        }
    }
    let status = child.wait().unwrap();
    panic!("{point}: the command never reached the point ({status}): {seen:?}");
}

pub mod receiver;
pub mod s3;
pub mod schema_check;
