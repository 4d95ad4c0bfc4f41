//! End-to-end tests of dependent checks (`after:`) through the binary, on real CSV files:
//! a failing prerequisite skips what waits for it (transitively), a failing `schema` check
//! skips the checks on the columns it reports missing, `skipped` in every report format and
//! in the summary, exit codes, the state store and the breaker, and the config errors.

mod common;

use std::path::Path;
use std::process::Output;

use common::{postgres_db, sluice, transcript};

const NOW: &str = "2025-01-01T00:00:00Z";

/// A forecast whose `p90` column is missing: the structural failure `after:` is for.
const NO_P90: &str = "region,ds,p10,p50\n\
north,2026-12-01,8.0,10.0\n\
north,2026-12-02,9.0,11.0\n\
south,2026-12-01,4.0,5.0\n\
south,2026-12-02,4.5,6.0\n";

const SCHEMA_FIRST: &str = r#"version: 1
datasets:
  forecast:
    path: forecast.csv
    key: [region, ds]
    checks:
      - schema: { columns: { region: string, p50: float64, p90: float64 } }
      - row_count: { min: 1 }
      - not_null: [region, p90]
      - unique: { columns: [region, ds], after: schema }
      - range: { column: p50, min: 0, after: ["unique(region, ds)"] }
      - rows_satisfy: { name: p10_below_p50, condition: "p10 <= p50", after: row_count }
      - rows_satisfy: { name: p50_below_p90, condition: "p50 <= p90" }
"#;

/// A forecast with a NULL `p50` and a duplicated `(region, ds)`.
const NULL_AND_DUPLICATE: &str = "region,ds,p10,p50,p90\n\
north,2026-12-01,8.0,10.0,12.0\n\
north,2026-12-01,8.0,10.0,12.0\n\
south,2026-12-01,4.0,,7.0\n\
south,2026-12-02,4.5,6.0,7.5\n";

const DATA_FIRST: &str = r#"version: 1
datasets:
  forecast:
    path: forecast.csv
    key: [region, ds]
    checks:
      - not_null: p50
      - unique: { columns: [region, ds], after: ["not_null(p50)"] }
      - metric: { name: mean_p50, sql: "avg(p50)", min: 100, after: ["not_null(p50)"] }
      - row_count: { min: 1 }
      - unique: { columns: [region, ds], name: key_unique, after: row_count }
      - rows_satisfy: { name: ordered, condition: "p10 <= p50 AND p50 <= p90", after: key_unique }
"#;

/// A project folder with `sluice.yaml` and `forecast.csv`.
fn project(config: &str, data: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sluice.yaml"), config).unwrap();
    std::fs::write(dir.path().join("forecast.csv"), data).unwrap();
    dir
}

/// Runs `sluice check` in `dir` with `args` (state store off).
fn check(dir: &Path, args: &[&str]) -> Output {
    sluice()
        .args(["--color", "never", "check", "--now", NOW])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

/// `(name, status, message)` of every check in a JSON report.
fn statuses(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_failing_schema_skips_what_waits_for_it_text() {
    let dir = project(SCHEMA_FIRST, NO_P90);
    let out = check(dir.path(), &[]);
    // The only failure is the prerequisite: the run still fails.
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&out, dir.path()));
}

#[test]
fn a_failing_schema_skips_what_waits_for_it_json() {
    let dir = project(SCHEMA_FIRST, NO_P90);
    let out = check(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = transcript(&out, dir.path());
    insta::assert_snapshot!(text);
    let r = json(&out);
    assert_eq!(r["status"], "failed");
    assert_eq!(
        r["summary"],
        serde_json::json!({ "total": 8, "passed": 3, "warned": 0, "failed": 1, "errored": 0, "skipped": 4 })
    );
    let s = |name: &str| {
        statuses(&r)
            .into_iter()
            .find(|(n, _, _)| n == name)
            .unwrap()
    };
    assert_eq!(
        s("not_null(p90)").2,
        "skipped: schema failed: column `p90` is missing"
    );
    assert_eq!(s("unique(region, ds)").2, "skipped: schema failed");
    assert_eq!(
        s("range(p50)").2,
        "skipped: unique(region, ds) was skipped (schema failed)"
    );
    assert_eq!(
        s("p50_below_p90").2,
        "skipped: schema failed: column `p90` is missing"
    );
    assert_eq!(s("p10_below_p50").1, "pass");
    let range = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "range(p50)")
        .unwrap();
    assert_eq!(
        range["skipped_by"],
        serde_json::json!(["unique(region, ds)"])
    );
    assert_eq!(range["observed"], serde_json::Value::Null);
    assert_eq!(range["samples"], serde_json::json!([]));
    // One query: the fused scan. The skipped `unique` ran no query of its own.
    assert_eq!(r["datasets"][0]["queries"], 1);
}

#[test]
fn a_failing_schema_skips_what_waits_for_it_junit_and_markdown() {
    let dir = project(SCHEMA_FIRST, NO_P90);
    let out = check(dir.path(), &["--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let text = transcript(&out, dir.path());
    assert!(
        text.contains("<skipped message=\"skipped: schema failed\"/>"),
        "{text}"
    );
    insta::assert_snapshot!(text);
    let out = check(dir.path(), &["--format", "markdown"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.starts_with(
            "### sluice: failed — 8 checks: 3 passed, 0 warned, 1 failed, 0 errors, 4 skipped\n"
        ),
        "{md}"
    );
    assert!(
        md.contains("| ⏭️ skipped | forecast | `range(p50)` | null | max_invalid = 0 | skipped: unique(region, ds) was skipped (schema failed) |"),
        "{md}"
    );
}

#[test]
fn a_prerequisite_failing_on_the_data_skips_own_queries_and_samples() {
    let dir = project(DATA_FIRST, NULL_AND_DUPLICATE);
    let out = check(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&out, dir.path()));
    let r = json(&out);
    let got: Vec<(String, String)> = statuses(&r).into_iter().map(|(n, s, _)| (n, s)).collect();
    let want = [
        ("not_null(p50)", "fail"),
        ("unique(region, ds)", "skipped"),
        ("mean_p50", "skipped"),
        ("row_count", "pass"),
        ("key_unique", "fail"),
        ("ordered", "skipped"),
    ];
    assert_eq!(
        got,
        want.map(|(n, s)| (n.to_string(), s.to_string())).to_vec()
    );
    // The fused scan, `key_unique`'s own query (its duplicates come with it), and
    // `not_null(p50)`'s samples; not the skipped `unique`'s own query.
    assert_eq!(r["datasets"][0]["queries"], 3);
    let key_unique = &r["checks"][4];
    assert_eq!(key_unique["failing_rows"], 1);
    assert_eq!(r["checks"][5]["message"], "skipped: key_unique failed");
    // The same check without `after:` runs its own query: four queries.
    let without = DATA_FIRST.replace(", after: [\"not_null(p50)\"]", "");
    let dir = project(&without, NULL_AND_DUPLICATE);
    let r = json(&check(dir.path(), &["--format", "json"]));
    assert_eq!(r["checks"][1]["status"], "fail");
    assert_eq!(r["checks"][2]["status"], "fail");
    assert_eq!(r["datasets"][0]["queries"], 4);
}

#[test]
fn a_warned_prerequisite_does_not_skip_and_passed_prerequisites_let_checks_run() {
    let config = r#"version: 1
datasets:
  forecast:
    path: forecast.csv
    checks:
      - row_count: { min: 100, severity: warn }
      - not_null: { column: p50, after: row_count }
      - unique: { columns: [region, ds], after: ["not_null(p50)"] }
"#;
    let data = "region,ds,p50\nnorth,2026-12-01,1.0\nsouth,2026-12-01,2.0\n";
    let dir = project(config, data);
    let out = check(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let r = json(&out);
    assert_eq!(r["status"], "warned");
    let got: Vec<String> = statuses(&r).into_iter().map(|(_, s, _)| s).collect();
    assert_eq!(got, ["warn", "pass", "pass"]);
    assert_eq!(r["summary"]["skipped"], 0);
}

#[test]
fn a_warn_schema_check_does_not_turn_errors_into_skips() {
    // `severity: warn` on the schema: its failure only warns, so it skips nothing; the
    // check on the missing column cannot run, and says why.
    let config = r#"version: 1
datasets:
  forecast:
    path: forecast.csv
    checks:
      - schema: { columns: { p90: float64 }, severity: warn }
      - not_null: p90
"#;
    let dir = project(config, NO_P90);
    let out = check(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(4));
    let got: Vec<String> = statuses(&json(&out))
        .into_iter()
        .map(|(_, s, _)| s)
        .collect();
    assert_eq!(got, ["warn", "error"]);
}

#[test]
fn skipped_checks_are_recorded_and_hold_the_breaker() {
    skipped_in_the_store(None);
}

#[test]
fn skipped_checks_are_recorded_and_hold_the_breaker_postgres() {
    if let Some(url) = postgres_db("dependent") {
        skipped_in_the_store(Some(&url));
    }
}

/// A `severity: warn` prerequisite errors (it does not count against the breaker), so the
/// `severity: error` check after it is skipped: unverified. The run is recorded with the
/// skipped status, and the breaker neither trips nor counts it as a passing run.
fn skipped_in_the_store(state: Option<&str>) {
    let mut config = String::from(
        r#"version: 1
datasets:
  forecast:
    path: forecast.csv
    breaker: { reset: auto }
    checks:
      - metric: { name: spread, sql: "avg(p90 - p10)", max: 10, severity: warn }
      - not_null: { column: p50, after: spread }
"#,
    );
    if let Some(url) = state {
        config.push_str(&format!("state: {url}\n"));
    }
    let dir = project(&config, NO_P90);
    let run = |args: &[&str]| {
        sluice()
            .args(["--color", "never"])
            .args(args)
            .current_dir(dir.path())
            .env_remove("SLUICE_NO_STATE")
            .env("USER", "tester")
            .output()
            .unwrap()
    };
    let out = run(&["check", "--now", NOW, "--format", "json"]);
    assert_eq!(out.status.code(), Some(4), "the prerequisite errored");
    let r = json(&out);
    let (_, status, message) = statuses(&r).remove(1);
    assert_eq!(
        (status.as_str(), message.as_str()),
        ("skipped", "skipped: spread errored")
    );
    let out = run(&["breaker", "status", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let status = json(&out);
    let b = &status["breakers"][0];
    assert_eq!(b["state"], "closed", "{status}");
    assert_eq!(b["last_run"]["status"], "error", "{status}");
    // The check results keep `skipped`.
    let run_id = r["run_id"].as_str().unwrap().to_string();
    let query = "SELECT name, status FROM check_results WHERE run_id = $1 ORDER BY name";
    let rows: Vec<(String, String)> = match state {
        None => {
            let db = rusqlite::Connection::open(dir.path().join(".sluice/state.db")).unwrap();
            let mut st = db.prepare(&query.replace("$1", "?1")).unwrap();
            st.query_map([&run_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
        Some(url) => {
            let url = url.to_string();
            std::thread::spawn(move || {
                let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                c.query(query, &[&run_id])
                    .unwrap()
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect()
            })
            .join()
            .unwrap()
        }
    };
    assert_eq!(
        rows,
        [
            ("not_null(p50)".to_string(), "skipped".to_string()),
            ("spread".to_string(), "error".to_string()),
        ]
    );
}

#[test]
fn after_mistakes_are_config_errors() {
    let config = r#"version: 1
datasets:
  forecast:
    path: forecast.csv
    checks:
      - schema: { columns: { p50: float64 } }
      - not_null: { column: p50, after: [schemaa] }
      - row_count: { min: 1, after: [ordered] }
      - rows_satisfy: { name: ordered, condition: "p10 <= p50", after: [row_count] }
      - range: { column: p50, min: 0, after: ["range(p50)"] }
"#;
    let dir = project(config, NO_P90);
    let out = check(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out, dir.path()));
}
