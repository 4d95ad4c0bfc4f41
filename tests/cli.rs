//! End-to-end tests of the `sluice` binary: what a user sees (text, JSON, JUnit, Markdown,
//! config errors), snapshotted with insta, plus the CLI contracts (exit codes, `--output`,
//! `| head`, `--json-summary`, `-q`, logging).

mod common;

use std::io::Read;
use std::process::Stdio;

use common::{repo, sluice, transcript};

const NOW: &str = "2025-01-01T00:00:00Z";

fn example() -> std::path::PathBuf {
    repo().join("examples/orders/sluice.yaml")
}

fn run(args: &[&str]) -> String {
    let out = sluice().args(args).current_dir(repo()).output().unwrap();
    transcript(&out, &repo())
}

#[test]
fn example_text_report() {
    let cfg = example();
    insta::assert_snapshot!(run(&[
        "--color",
        "never",
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--now",
        NOW
    ]));
}

#[test]
fn example_text_report_in_colour() {
    let cfg = example();
    let out = run(&[
        "--color",
        "always",
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--now",
        NOW,
        "--dataset",
        "events",
    ]);
    assert!(out.contains("\u{1b}[1;31mFAIL \u{1b}[0m"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn example_json_report() {
    let cfg = example();
    let out = run(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    insta::assert_snapshot!(out);
    // The JSON is the documented contract: parse it and check its shape.
    let json: serde_json::Value =
        serde_json::from_str(out.split("--- stdout\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["status"], "failed");
    assert_eq!(json["summary"]["total"], 29);
    let check = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["dataset"] == "orders" && c["name"] == "not_null(customer_id)")
        .unwrap();
    for key in [
        "dataset",
        "name",
        "kind",
        "column",
        "severity",
        "status",
        "observed",
        "threshold",
        "rows_scanned",
        "failing_rows",
        "samples",
        "message",
        "location",
    ] {
        assert!(check.get(key).is_some(), "missing {key} in {check}");
    }
    assert_eq!(check["observed"], 4);
    assert_eq!(check["samples"].as_array().unwrap().len(), 3);
    assert_eq!(check["location"], "[CASE]/examples/orders/sluice.yaml:41:9");
}

#[test]
fn example_junit_report() {
    let cfg = example();
    insta::assert_snapshot!(run(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "junit"
    ]));
}

#[test]
fn example_markdown_report() {
    let cfg = example();
    insta::assert_snapshot!(run(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "markdown",
        "--dataset",
        "orders"
    ]));
}

const BAD_CONFIG: &str = r#"version: 1
defaults:
  samples: many
datasets:
  orders:
    path: data/orders.parquet
    checks:
      - not_nul: customer_id
      - row_count: { min: 1, mx: 10 }
      - references: { column: customer_id, dataset: customer }
  customers:
    path: data/customers.csv
"#;

fn bad_config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sluice.yaml"), BAD_CONFIG).unwrap();
    dir
}

#[test]
fn config_errors_are_rendered_like_rustc() {
    let dir = bad_config_dir();
    let out = sluice()
        .args(["--color", "never", "validate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    insta::assert_snapshot!(transcript(&out, dir.path()));
}

#[test]
fn config_errors_in_colour() {
    let dir = bad_config_dir();
    let out = sluice()
        .args(["--color", "always", "check"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out, dir.path()));
}

#[test]
fn validate_ok_and_version() {
    let cfg = example();
    insta::assert_snapshot!(run(&[
        "--color",
        "never",
        "validate",
        "--config",
        cfg.to_str().unwrap()
    ]));
    let out = sluice().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("sluice {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn finds_sluice_yaml_in_the_current_folder_or_says_how() {
    let empty = tempfile::tempdir().unwrap();
    let out = sluice()
        .args(["check"])
        .current_dir(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: no sluice.yaml in the current folder; pass --config PATH (or set SLUICE_CONFIG)\n"
    );
    let out = sluice()
        .args(["validate"])
        .current_dir(repo().join("examples/orders"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sluice()
        .args(["validate"])
        .env("SLUICE_CONFIG", example())
        .current_dir(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn output_file_gets_the_format_and_stdout_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let cfg = example();
    let out = sluice()
        .args([
            "--color",
            "never",
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--now",
            NOW,
            "--format",
            "junit",
            "--output",
        ])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuite name=\"orders\" tests=\"19\" failures=\"5\" errors=\"0\""),
        "{xml}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL   unique(order_id)"), "{stdout}");
    // No temporary file is left beside the report.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // An unwritable destination is a runtime error, and says where.
    let out = sluice()
        .args([
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--output",
            "/nonexistent-dir/r.json",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("cannot write the report to /nonexistent-dir/r.json")
    );
}

#[test]
fn json_summary_is_the_last_line_for_xcom() {
    let cfg = example();
    let out = sluice()
        .args([
            "check",
            "-q",
            "--config",
            cfg.to_str().unwrap(),
            "--now",
            NOW,
            "--json-summary",
            "--dataset",
            "customers",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        1,
        "-q leaves only the summary: {stdout}"
    );
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], "passed");
    assert_eq!(last["exit_code"], 0);
    assert_eq!(last["summary"]["total"], 6);
}

#[test]
fn a_closed_pipe_exits_quietly() {
    let cfg = example();
    let mut child = sluice()
        .args([
            "--color",
            "never",
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--now",
            NOW,
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head -c 10`: read a little, then hang up.
    let mut buf = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut buf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the run's own exit code, not a crash"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn verbose_logs_spans_on_stderr_and_quiet_hides_the_report() {
    let cfg = example();
    let out = sluice()
        .args([
            "-vv",
            "--color",
            "never",
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--now",
            NOW,
            "--dataset",
            "customers",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("run{run_id="), "{err}");
    assert!(err.contains("dataset{dataset=customers"), "{err}");
    assert!(
        err.contains("query{kind=\"fused\"") || err.contains("query{kind=fused"),
        "{err}"
    );
    assert!(err.contains("run finished"), "{err}");
    let out = sluice()
        .args([
            "-q",
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--now",
            NOW,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
}

#[test]
fn memory_limit_is_accepted_and_validated() {
    let cfg = example();
    let out = sluice()
        .args([
            "--color",
            "never",
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--now",
            NOW,
            "--memory-limit",
            "64M",
            "--dataset",
            "orders",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sluice()
        .args([
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--memory-limit",
            "lots",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`lots` is not a size"));
}

fn reconcile_example() -> std::path::PathBuf {
    repo().join("examples/reconcile/sluice.yaml")
}

#[test]
fn reconcile_example_text_report() {
    let cfg = reconcile_example();
    insta::assert_snapshot!(run(&[
        "--color",
        "never",
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--now",
        NOW
    ]));
}

#[test]
fn reconcile_example_markdown_and_junit() {
    let cfg = reconcile_example();
    let md = run(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "markdown",
        "--stage",
        "book_redemptions",
    ]);
    assert!(
        md.contains("| ❌ fail | redemptions | `reconcile(redemptions)` |"),
        "{md}"
    );
    insta::assert_snapshot!("reconcile_markdown", md);
    let xml = run(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "junit",
        "--stage",
        "book_redemptions",
    ]);
    assert!(
        xml.contains("<testsuite name=\"redemptions\" tests=\"1\" failures=\"1\" errors=\"0\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"ledger\" tests=\"1\" failures=\"1\" errors=\"0\""),
        "{xml}"
    );
    insta::assert_snapshot!("reconcile_junit", xml);
}

#[test]
fn unknown_stage_is_a_usage_error() {
    let cfg = reconcile_example();
    let out = sluice()
        .args([
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--stage",
            "book",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: unknown stage `book`; did you mean `book_redemptions`?\n"
    );
}

/// A build without the `ballista` feature refuses a Ballista engine, from the flag, the
/// environment or the config, with exit 2 and how to get one; nothing runs.
#[cfg(not(feature = "ballista"))]
#[test]
fn a_ballista_engine_without_the_feature_is_exit_2_saying_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "a\n1\n").unwrap();
    let cfg = "datasets:\n  t:\n    path: t.csv\n    checks:\n      - not_null: a\n";
    std::fs::write(dir.path().join("sluice.yaml"), cfg).unwrap();
    let check = |args: &[&str], engine_env: Option<&str>| {
        let mut c = sluice();
        c.arg("check").args(args).current_dir(dir.path());
        if let Some(e) = engine_env {
            c.env("SLUICE_ENGINE", e);
        }
        c.output().unwrap()
    };
    let refused = |out: std::process::Output| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("built without Ballista support"), "{err}");
        assert!(err.contains("--features ballista"), "{err}");
        assert!(out.stdout.is_empty());
    };
    let engine = "ballista://127.0.0.1:50050";
    refused(check(&["--engine", engine], None));
    refused(check(&[], Some(engine)));
    std::fs::write(
        dir.path().join("sluice.yaml"),
        format!("engine: {engine}\n{cfg}"),
    )
    .unwrap();
    refused(check(&[], None));
    // `--engine datafusion` overrides the config's engine.
    let out = check(&["--engine", "datafusion"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // Not an engine at all: clap says what is accepted.
    let out = check(&["--engine", "spark://m:7077"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ballista://HOST:PORT"));
}
