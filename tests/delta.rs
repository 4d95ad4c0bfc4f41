//! Delta Lake tables end to end (`format: delta`), on tables written by the reference
//! implementation (`tests/lake/make_delta.py`, delta-rs' Python package): the latest
//! version, time travel by `version:` and `timestamp:`, a subset of the check catalogue,
//! parity of the table against a Parquet export, the bad cases, the same table on the
//! loopback S3 server, and `format: iceberg` refused on a real Iceberg table
//! (`tests/lake/make_iceberg.py`, pyiceberg).
//!
//! The test table's delete and update rewrite files, so its folder keeps Parquet files its
//! log has removed: a reader that ignored `remove` actions would see 52 rows, duplicate ids,
//! cancelled rows and negative amounts, and the tests on the latest version would fail.
//!
//! The Python writers run with `SLUICE_LAKE_PYTHON` (the venv `.ci/s3.sh` makes); unset,
//! the tests skip, saying so, unless `SLUICE_REQUIRE_LAKE=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{code, json, out, run, run_env, verdicts};
use serde_json::Value;

/// The reference writers' Python, or `None` (skipping `test`) when it is not configured.
fn python(test: &str) -> Option<PathBuf> {
    match std::env::var("SLUICE_LAKE_PYTHON") {
        Ok(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var("SLUICE_REQUIRE_LAKE").as_deref() != Ok("1"),
                "SLUICE_REQUIRE_LAKE=1 but SLUICE_LAKE_PYTHON is not set: point it at the venv .ci/s3.sh makes"
            );
            eprintln!(
                "skipping {test}: set SLUICE_LAKE_PYTHON to a python with deltalake and pyiceberg (.ci/s3.sh makes one)"
            );
            None
        }
    }
}

/// Runs `tests/lake/<script>` with `args`; its JSON summary.
fn script(python: &Path, name: &str, args: &[&str]) -> Value {
    let o = Command::new(python)
        .arg(common::repo().join("tests/lake").join(name))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{name}: {}", out(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(&o)))
}

/// A temp folder with the test table at `orders/` and its exports at `export/`.
fn table(python: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("orders");
    let e = dir.path().join("export");
    let summary = script(
        python,
        "make_delta.py",
        &[t.to_str().unwrap(), "--export", e.to_str().unwrap()],
    );
    assert_eq!(
        summary["rows"],
        serde_json::json!({"0": 10, "1": 20, "2": 16, "3": 16})
    );
    dir
}

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("sluice.yaml"), yaml).unwrap();
}

/// `check --format json` in `dir`.
fn check(dir: &Path) -> (i32, Value) {
    let o = run(dir, &["check", "--format", "json", "--no-state"]);
    let c = code(&o);
    assert!(c == 0 || c == 1, "exit {c}: {}", out(&o));
    (c, json(&o))
}

fn verdict<'a>(v: &'a [(String, String, Value)], name: &str) -> (&'a str, &'a Value) {
    let (_, s, o) = v
        .iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no check {name} in {v:?}"));
    (s.as_str(), o)
}

/// The checks each dataset of the tests runs: they pass on the latest version only.
const CHECKS: &str = "    checks:
      - row_count: { min: 16, max: 16 }
      - unique: id
      - not_null: [id, status]
      - accepted_values: { column: status, values: [paid, shipped, pending] }
      - range: { column: amount, min: 0 }
";

#[test]
fn the_latest_version_is_read_through_the_log() {
    let Some(py) = python("the_latest_version_is_read_through_the_log") else {
        return;
    };
    let dir = table(&py);
    // Every Parquet file of the folder, one dataset each (as a reader ignoring the log
    // would read them; their schemas differ, so not as one glob).
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join("orders"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".parquet"))
        .collect();
    files.sort();
    let mut yaml = format!("datasets:\n  orders:\n    path: orders/\n    format: delta\n{CHECKS}");
    for (i, f) in files.iter().enumerate() {
        yaml.push_str(&format!(
            "  file{i}:\n    path: orders/{f}\n    checks:\n      - row_count: {{ min: 1 }}\n      - accepted_values: {{ column: status, values: [paid, shipped, pending] }}\n      - range: {{ column: amount, min: 0 }}\n"
        ));
    }
    write(dir.path(), &yaml);
    let (c, report) = check(dir.path());
    assert_eq!(c, 1, "{report}");
    let v = verdicts(&report);
    for name in [
        "row_count",
        "unique(id)",
        "not_null(id)",
        "not_null(status)",
        "accepted_values(status)",
        "range(amount)",
    ] {
        assert_eq!(verdict(&v, &format!("orders/{name}")).0, "pass", "{v:?}");
    }
    assert_eq!(verdict(&v, "orders/row_count").1, 16);
    // Every file, removed ones included: 10 + 10 + 16 (delete) + 16 (update); the removed
    // ones hold the cancelled rows and the negative amounts.
    let sum = |check: &str| -> u64 {
        (0..files.len())
            .map(|i| verdict(&v, &format!("file{i}/{check}")).1.as_u64().unwrap())
            .sum()
    };
    assert_eq!(files.len(), 4, "{files:?}");
    assert_eq!(sum("row_count"), 52);
    assert_eq!(sum("accepted_values(status)"), 4);
    assert!(sum("range(amount)") >= 2);
    let ds = &report["datasets"][0];
    assert_eq!(ds["name"], "orders");
    assert_eq!(
        (ds["format"].as_str(), ds["files"].as_u64()),
        (Some("delta"), Some(1))
    );
}

#[test]
fn time_travel_by_version_and_timestamp() {
    let Some(py) = python("time_travel_by_version_and_timestamp") else {
        return;
    };
    let dir = table(&py);
    let at = |name: &str, key: &str| {
        format!("  {name}:\n    path: orders/\n    format: delta\n    {key}\n{CHECKS}")
    };
    // Version k was committed at 2026-01-0(k+1) (make_delta.py sets the log's times).
    write(
        dir.path(),
        &format!(
            "datasets:\n{}{}{}{}{}",
            at("v0", "version: 0"),
            at("v1", "version: 1"),
            at("v2", "version: 2"),
            at("t1", "timestamp: 2026-01-02T12:00:00Z"),
            at("t2", "timestamp: '2026-01-03T01:00:00+01:00'"),
        ),
    );
    let (_, report) = check(dir.path());
    let v = verdicts(&report);
    let rows = |d: &str| verdict(&v, &format!("{d}/row_count")).1.as_u64().unwrap();
    assert_eq!(
        [rows("v0"), rows("v1"), rows("v2"), rows("t1"), rows("t2")],
        [10, 20, 16, 20, 16]
    );
    // Version 0: no cancelled row deleted yet, no negative amount yet.
    assert_eq!(verdict(&v, "v0/accepted_values(status)").1, 2);
    assert_eq!(verdict(&v, "v0/range(amount)").0, "pass");
    // Version 1 (and the instant a day after it): 4 cancelled, 2 negative, no duplicate.
    for d in ["v1", "t1"] {
        assert_eq!(verdict(&v, &format!("{d}/accepted_values(status)")).1, 4);
        assert_eq!(verdict(&v, &format!("{d}/range(amount)")).1, 2);
        assert_eq!(verdict(&v, &format!("{d}/unique(id)")).0, "pass");
    }
    // Version 2 (= 2026-01-03T00:00Z): deleted, not yet updated.
    for d in ["v2", "t2"] {
        assert_eq!(
            verdict(&v, &format!("{d}/accepted_values(status)")).0,
            "pass"
        );
        assert_eq!(verdict(&v, &format!("{d}/range(amount)")).1, 2);
    }
}

#[test]
fn parity_of_the_table_against_its_parquet_export() {
    let Some(py) = python("parity_of_the_table_against_its_parquet_export") else {
        return;
    };
    let dir = table(&py);
    let parity = |against: &str| {
        format!(
            "      - against: {against}\n        name: rows_{against}\n        keys: [id]\n        compare: all\n        sum: {{ columns: [amount], tolerance: 0.001 }}\n"
        )
    };
    write(
        dir.path(),
        &format!(
            "datasets:\n  latest:\n    path: export/latest.parquet\n  first:\n    path: export/v0.parquet\n  orders:\n    path: orders/\n    format: delta\n    parity:\n{}{}",
            parity("latest"),
            parity("first"),
        ),
    );
    let (c, report) = check(dir.path());
    assert_eq!(c, 1, "{report}");
    let v = verdicts(&report);
    let (status, observed) = verdict(&v, "orders/rows_latest");
    assert_eq!(status, "pass", "{observed}");
    let (status, observed) = verdict(&v, "orders/rows_first");
    assert_eq!(status, "fail", "{observed}");
    // Against version 0: ids 3 and 8 deleted since, ids 11-20 but 13 and 18 added.
    assert_eq!(observed["rows"]["missing"], 2, "{observed}");
    assert_eq!(observed["rows"]["extra"], 8, "{observed}");
}

#[test]
fn bad_tables_and_versions_are_named_exit_4() {
    let Some(py) = python("bad_tables_and_versions_are_named_exit_4") else {
        return;
    };
    let dir = table(&py);
    let one = |body: &str| {
        write(
            dir.path(),
            &format!("datasets:\n  orders:\n{body}    checks:\n      - row_count: {{ min: 1 }}\n"),
        );
        let o = run(dir.path(), &["check", "--no-state"]);
        (code(&o), out(&o))
    };
    let table = dir.path().join("orders");
    let shown = table.display().to_string();
    let (c, text) = one("    path: orders/\n    format: delta\n    version: 9\n");
    assert_eq!(c, 4, "{text}");
    assert!(
        text.contains(&format!(
            "{shown} has no version 9: its log holds versions 0 to 3"
        )),
        "{text}"
    );
    let (c, text) =
        one("    path: orders/\n    format: delta\n    timestamp: 2025-12-31T23:59:59Z\n");
    assert_eq!(c, 4, "{text}");
    assert!(
        text.contains("did not exist yet at 2025-12-31T23:59:59Z"),
        "{text}"
    );
    assert!(text.contains("committed at 2026-01-01T00:00:00Z"), "{text}");
    let (c, text) = one("    path: export/\n    format: delta\n");
    assert_eq!(c, 4, "{text}");
    assert!(
        text.contains("export is not a Delta table: it has no `_delta_log/`"),
        "{text}"
    );
    let (c, text) = one("    path: nowhere/\n    format: delta\n");
    assert_eq!(c, 4, "{text}");
    assert!(text.contains("path not found"), "{text}");
    // The folder read as Parquet files would count removed files: refused, with the fix.
    let (c, text) = one("    path: orders/\n");
    assert_eq!(c, 4, "{text}");
    assert!(
        text.contains("is a Delta Lake table (it holds `_delta_log/`)"),
        "{text}"
    );
    assert!(text.contains("add `format: delta`"), "{text}");
}

#[test]
fn time_travel_keys_are_checked_when_the_config_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "datasets:\n  a:\n    path: a/\n    version: 1\n  b:\n    path: b/\n    format: delta\n    version: 1\n    timestamp: 2026-01-01T00:00:00Z\n  c:\n    path: c/\n    format: delta\n    timestamp: 2026-02-30T00:00:00Z\n  d:\n    path: d/\n    format: delta\n    timestamp: 2026-02-01T00:00:00\n  e:\n    path: e/\n    format: delta\n    delta_mode: apend\n",
    );
    let o = run(dir.path(), &["check", "--no-state"]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    let text = out(&o);
    for expected in [
        "sluice.yaml:4:14",
        "`version` on a dataset that is not a Delta table",
        "sluice.yaml:9:16",
        "`version` and `timestamp` both given",
        "sluice.yaml:13:16",
        "February 2026 has 28 days",
        "sluice.yaml:17:16",
        "is not a timestamp with a zone",
        "sluice.yaml:21:17",
        "did you mean `append`",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
}

#[test]
fn format_iceberg_is_refused_on_a_real_iceberg_table() {
    let Some(py) = python("format_iceberg_is_refused_on_a_real_iceberg_table") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("warehouse");
    let summary = script(&py, "make_iceberg.py", &[warehouse.to_str().unwrap()]);
    assert_eq!(summary["rows"], 16);
    let location = summary["location"].as_str().unwrap().to_string();
    write(
        dir.path(),
        &format!(
            "datasets:\n  orders:\n    path: {location}\n    format: iceberg\n    checks:\n      - row_count: {{ min: 16, max: 16 }}\n"
        ),
    );
    // Update this test the day an Iceberg reader pairs with sluice's DataFusion.
    let o = run(dir.path(), &["check", "--no-state"]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("sluice.yaml:4:13"), "{text}");
    assert!(
        text.contains("`format: iceberg` is not supported yet"),
        "{text}"
    );
    assert!(text.contains("iceberg-datafusion 0.10"), "{text}");
    assert!(text.contains("DataFusion 53"), "{text}");
    // Its folder read as plain files is refused too (deleted rows would count).
    let folder = location.strip_prefix("file://").unwrap();
    write(
        dir.path(),
        &format!(
            "datasets:\n  orders:\n    path: {folder}\n    checks:\n      - row_count: {{ min: 16, max: 16 }}\n"
        ),
    );
    let o = run(dir.path(), &["check", "--no-state"]);
    assert_eq!(code(&o), 4, "{}", out(&o));
    assert!(out(&o).contains("is an Iceberg table"), "{}", out(&o));
}

#[test]
fn the_table_on_s3_gives_the_local_verdicts() {
    let Some(py) = python("the_table_on_s3_gives_the_local_verdicts") else {
        return;
    };
    let Some(s3) = common::s3::server("the_table_on_s3_gives_the_local_verdicts") else {
        return;
    };
    let (endpoint, creds) = (s3.endpoint.clone(), s3.credentials.display().to_string());
    let prefix = s3.prefix("delta");
    let url = format!("{prefix}orders");
    let summary = script(
        &py,
        "make_delta.py",
        &[&url, "--endpoint", &endpoint, "--credentials", &creds],
    );
    assert_eq!(summary["rows"]["3"], 16);
    let local = table(&py);
    let config = |path: &str| {
        format!(
            "datasets:\n  orders:\n    path: {path}\n    format: delta\n{CHECKS}  first:\n    path: {path}\n    format: delta\n    version: 1\n{CHECKS}{}",
            s3.storage_yaml()
        )
    };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &config(&format!("{url}/")));
    let env = [("AWS_SHARED_CREDENTIALS_FILE", creds.as_str())];
    let o = run_env(
        dir.path(),
        &["check", "--format", "json", "--no-state"],
        &env,
    );
    assert_eq!(code(&o), 1, "{}", out(&o));
    let remote = json(&o);
    write(local.path(), &config("orders/"));
    let (_, local) = check(local.path());
    assert_eq!(verdicts(&remote), verdicts(&local));
    let v = verdicts(&remote);
    assert_eq!(verdict(&v, "orders/row_count"), ("pass", &Value::from(16)));
    assert_eq!(verdict(&v, "first/row_count").1, 20);
    assert_eq!(remote["datasets"][0]["path"], format!("{url}/"));
    // A version the table on S3 does not have, and a prefix that is no table.
    write(
        dir.path(),
        &format!(
            "datasets:\n  orders:\n    path: {url}\n    format: delta\n    version: 7\n    checks:\n      - row_count: {{ min: 1 }}\n  none:\n    path: {prefix}nothing/\n    format: delta\n    checks:\n      - row_count: {{ min: 1 }}\n{}",
            s3.storage_yaml()
        ),
    );
    let o = run_env(dir.path(), &["check", "--no-state"], &env);
    assert_eq!(code(&o), 4, "{}", out(&o));
    let text = out(&o);
    assert!(
        text.contains(&format!(
            "{url} has no version 7: its log holds versions 0 to 3"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{prefix}nothing/ is not a Delta table")),
        "{text}"
    );
}

/// Writes a Parquet file of `ids` (amount = 10 × id, or `amounts`) at `path`.
fn parquet(py: &Path, path: &Path, ids: &[i64], amounts: &[f64]) {
    let o = Command::new(py)
        .args([
            "-c",
            "import sys, json, pyarrow as pa, pyarrow.parquet as pq; ids, amounts = json.loads(sys.argv[2]), json.loads(sys.argv[3]); pq.write_table(pa.table({'id': pa.array(ids, pa.int64()), 'amount': pa.array(amounts, pa.float64())}), sys.argv[1])",
            path.to_str().unwrap(),
            &serde_json::to_string(ids).unwrap(),
            &serde_json::to_string(amounts).unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
}

/// The latest rows and version of the table, as `sluice check` reads it.
fn rows_now(dir: &Path) -> u64 {
    let o = run(
        dir,
        &["check", "--format", "json", "--no-state", "-d", "orders"],
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    json(&o)["datasets"][0]["rows_scanned"].as_u64().unwrap()
}

#[test]
fn publish_commits_passing_data_and_quarantines_failing_data() {
    let Some(py) = python("publish_commits_passing_data_and_quarantines_failing_data") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("staging")).unwrap();
    write(
        d,
        "datasets:\n  orders:\n    path: table/\n    format: delta\n    staging: staging/\n    checks:\n      - range: { column: amount, min: 0 }\n      - unique: id\n",
    );
    let log = |v: u32| d.join(format!("table/_delta_log/{v:020}.json"));
    // 1. Passing data: committed as version 0 (the table is created), staging emptied.
    parquet(
        &py,
        &d.join("staging/a.parquet"),
        &[1, 2, 3],
        &[10.0, 20.0, 30.0],
    );
    let o = run(d, &["publish", "orders"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("published orders v0"), "{}", out(&o));
    assert!(log(0).exists() && !d.join("staging/a.parquet").exists());
    assert_eq!(rows_now(d), 3);
    let commit = std::fs::read_to_string(log(0)).unwrap();
    assert!(commit.contains("sluice.run_id"), "{commit}");
    // 2. Failing data: quarantined with its report, the table untouched.
    parquet(&py, &d.join("staging/b.parquet"), &[4, 5], &[40.0, -5.0]);
    let o = run(d, &["publish", "orders"]);
    assert_eq!(code(&o), 1, "{}", out(&o));
    assert!(out(&o).contains("quarantined at"), "{}", out(&o));
    assert!(!log(1).exists());
    assert!(!d.join("staging/b.parquet").exists());
    let quarantined: Vec<_> = std::fs::read_dir(d.join("quarantine/orders"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(quarantined.len(), 1);
    assert!(quarantined[0].join("report.json").exists());
    assert!(quarantined[0].join("data/b.parquet").exists());
    assert_eq!(rows_now(d), 3);
    // 3. Fixed data (after the breaker is reset): appended as version 1.
    let o = run(
        d,
        &["breaker", "reset", "orders", "--reason", "fixed upstream"],
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    parquet(&py, &d.join("staging/b.parquet"), &[4, 5], &[40.0, 50.0]);
    let o = run(d, &["publish", "orders"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("published orders v1"), "{}", out(&o));
    assert_eq!(rows_now(d), 5);
    // 4. Rollback: a Delta restore of version 0 (as version 2); then back to v1 by name.
    let o = run(d, &["publish", "orders", "--rollback"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(log(2).exists());
    assert_eq!(rows_now(d), 3);
    let o = run(d, &["publish", "orders", "--rollback", "--to", "v1"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(rows_now(d), 5);
    let o = run(d, &["publish", "orders", "--rollback", "--to", "v9"]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(out(&o).contains("has no version v9"), "{}", out(&o));
    // Every version stays readable by time travel.
    write(
        d,
        "datasets:\n  orders:\n    path: table/\n    format: delta\n    version: 1\n",
    );
    assert_eq!(rows_now(d), 5);
}

#[test]
fn delta_mode_overwrite_replaces_the_rows_in_one_commit() {
    let Some(py) = python("delta_mode_overwrite_replaces_the_rows_in_one_commit") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("staging")).unwrap();
    write(
        d,
        "datasets:\n  orders:\n    path: table/\n    format: delta\n    staging: staging/\n    delta_mode: overwrite\n    checks:\n      - row_count: { min: 1 }\n",
    );
    parquet(
        &py,
        &d.join("staging/a.parquet"),
        &[1, 2, 3],
        &[1.0, 2.0, 3.0],
    );
    assert_eq!(code(&run(d, &["publish", "orders"])), 0);
    parquet(&py, &d.join("staging/b.parquet"), &[7, 8], &[7.0, 8.0]);
    let o = run(d, &["publish", "orders"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(rows_now(d), 2);
}

/// Starts `sluice publish orders` in `dir`, waits until it pauses at `point`, SIGKILLs it.
fn sigkill_at(dir: &Path, env: &[(&str, &str)], point: &str) {
    let mut cmd = common::sluice();
    cmd.args(["publish", "orders"])
        .current_dir(dir)
        .env_remove("SLUICE_NO_STATE")
        .envs(env.iter().copied());
    common::kill_at(cmd, point);
}

/// Publishing into a Delta table on S3 from staging on S3: a pass is one commit, a
/// failure is quarantined beside the table; killed before or after its commit, readers see
/// the table before or after it whole, the staged rows are never lost, and the next
/// publish neither loses nor commits them twice.
#[test]
fn publish_into_a_delta_table_on_s3_and_killed_around_the_commit() {
    let Some(py) = python("publish_into_a_delta_table_on_s3") else {
        return;
    };
    let Some(s3) = common::s3::server("publish_into_a_delta_table_on_s3") else {
        return;
    };
    let creds = s3.credentials.display().to_string();
    let env = [("AWS_SHARED_CREDENTIALS_FILE", creds.as_str())];
    let rows = |d: &Path| {
        let o = run_env(
            d,
            &["check", "--format", "json", "--no-state", "-d", "orders"],
            &env,
        );
        assert_eq!(code(&o), 0, "{}", out(&o));
        json(&o)["datasets"][0]["rows_scanned"].as_u64().unwrap()
    };
    let local = tempfile::tempdir().unwrap();
    let stage = |prefix: &str, name: &str, ids: &[i64], amounts: &[f64]| {
        let file = local.path().join(name);
        parquet(&py, &file, ids, amounts);
        s3.upload(&file, &format!("{prefix}staging/{name}"));
    };
    let project = |prefix: &str| {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &format!(
                "datasets:\n  orders:\n    path: {prefix}table/\n    format: delta\n    staging: {prefix}staging/\n    checks:\n      - range: {{ column: amount, min: 0 }}\n{}",
                s3.storage_yaml()
            ),
        );
        dir
    };
    // Pass, then fail.
    let prefix = s3.prefix("delta-publish");
    let dir = project(&prefix);
    let d = dir.path();
    stage(&prefix, "a.parquet", &[1, 2, 3], &[10.0, 20.0, 30.0]);
    let o = run_env(d, &["publish", "orders"], &env);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(rows(d), 3);
    assert!(s3.list(&format!("{prefix}staging/")).is_empty());
    stage(&prefix, "b.parquet", &[4], &[-1.0]);
    let o = run_env(d, &["publish", "orders"], &env);
    assert_eq!(code(&o), 1, "{}", out(&o));
    assert_eq!(rows(d), 3);
    let quarantined = s3.list(&format!("{prefix}table/_quarantine/"));
    assert!(
        quarantined.iter().any(|u| u.ends_with("b.parquet")),
        "{quarantined:?}"
    );
    assert!(s3.list(&format!("{prefix}staging/")).is_empty());

    // Killed before and after the commit.
    for point in ["publish:before-move", "publish:switched"] {
        let prefix = s3.prefix("delta-crash");
        let dir = project(&prefix);
        let d = dir.path();
        stage(&prefix, "a.parquet", &[1, 2, 3], &[10.0, 20.0, 30.0]);
        assert_eq!(code(&run_env(d, &["publish", "orders"], &env)), 0);
        stage(&prefix, "b.parquet", &[4, 5], &[40.0, 50.0]);
        sigkill_at(d, &env, point);
        let seen = rows(d);
        assert!(seen == 3 || seen == 5, "{point}: {seen}");
        let staged = s3.list(&format!("{prefix}staging/"));
        assert!(
            seen == 5 || !staged.is_empty(),
            "{point}: the staged rows are lost"
        );
        // The next publish recovers, and a second one finds nothing more to do.
        let o = run_env(d, &["publish", "orders"], &env);
        assert!(matches!(code(&o), 0 | 4), "{point}: {}", out(&o));
        let _ = run_env(d, &["publish", "orders"], &env);
        assert_eq!(rows(d), 5, "{point}: committed exactly once");
        assert!(s3.list(&format!("{prefix}staging/")).is_empty(), "{point}");
    }

    // Killed in the middle of a quarantine (copied, staged copy not yet deleted): the
    // next publish finishes it; the table never saw the data.
    let prefix = s3.prefix("delta-quarantine-crash");
    let dir = project(&prefix);
    let d = dir.path();
    stage(&prefix, "a.parquet", &[1, 2, 3], &[10.0, 20.0, 30.0]);
    assert_eq!(code(&run_env(d, &["publish", "orders"], &env)), 0);
    stage(&prefix, "b.parquet", &[4], &[-4.0]);
    sigkill_at(d, &env, "publish:quarantined");
    assert_eq!(rows(d), 3);
    let o = run_env(d, &["publish", "orders"], &env);
    assert!(
        out(&o).contains("was interrupted; finished: the data is at"),
        "{}",
        out(&o)
    );
    assert!(s3.list(&format!("{prefix}staging/")).is_empty());
    let quarantined = s3.list(&format!("{prefix}table/_quarantine/"));
    assert!(
        quarantined.iter().any(|u| u.ends_with("b.parquet")),
        "{quarantined:?}"
    );
    assert_eq!(rows(d), 3);
}
