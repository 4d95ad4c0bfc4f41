//! End-to-end tests of metric history through the binary, on a real state store in a
//! temporary folder: runs record their metrics under their `--partition`; `change` and
//! `anomaly` compare with earlier runs of the same series by logical date; `sluice
//! history` shows them; retention forgets old values; bad inputs.

mod common;

use std::path::Path;

use common::{code, json, postgres_db, run, stderr, stdout};

fn project(checks: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "version: 1\n{extra}datasets:\n  sales:\n    path: sales.csv\n    checks:\n{checks}"
    );
    std::fs::write(dir.path().join("sluice.yaml"), config).unwrap();
    dir
}

/// `sales.csv` with `rows` rows whose `units` are `base`, `base + 1`, `base + 2`, ...
fn data(dir: &Path, rows: usize, base: f64) {
    let mut s = String::from("id,units\n");
    for i in 0..rows {
        s.push_str(&format!("{i},{}\n", base + (i % 5) as f64));
    }
    std::fs::write(dir.join("sales.csv"), s).unwrap();
}

/// The JSON result of check `name` of a `check --partition ds=DAY -f json` run.
fn check_on(dir: &Path, day: &str, name: &str) -> (i32, serde_json::Value) {
    let o = run(
        dir,
        &["check", "--partition", &format!("ds={day}"), "-f", "json"],
    );
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let j = json(&o);
    let c = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {j}"))
        .clone();
    (code(&o), c)
}

#[test]
fn change_compares_with_the_last_passing_run_of_the_series() {
    let dir = project(
        "      - row_count: { min: 50 }\n      - change: { metric: row_count, between_pct: [-20, 20] }\n",
        "",
    );
    let d = dir.path();
    // The first run has nothing to compare with: it passes, and says so.
    data(d, 100, 10.0);
    let (exit, c) = check_on(d, "2026-11-02", "change(row_count)");
    assert_eq!(exit, 0);
    assert_eq!(c["status"], "pass");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("no earlier run to compare with"),
        "{c}"
    );
    // +10 %: within bounds.
    data(d, 110, 10.0);
    let (exit, c) = check_on(d, "2026-11-03", "change(row_count)");
    assert_eq!((exit, c["status"].as_str()), (0, Some("pass")));
    assert_eq!(c["observed"]["baseline"], 100.0);
    assert_eq!(c["observed"]["change"], 10.0);
    assert_eq!(c["observed"]["change_pct"], 10.0);
    // 40 rows: the row_count check fails, so does the change (-63.6 %).
    data(d, 40, 10.0);
    let (exit, c) = check_on(d, "2026-11-04", "change(row_count)");
    assert_eq!((exit, c["status"].as_str()), (1, Some("fail")));
    assert_eq!(c["observed"]["baseline"], 110.0);
    assert_eq!(c["observed"]["baseline_date"], "2026-11-03");
    // The next day compares with the 3rd, the last run in which the dataset passed.
    data(d, 120, 10.0);
    let (exit, c) = check_on(d, "2026-11-05", "change(row_count)");
    assert_eq!((exit, c["status"].as_str()), (0, Some("pass")));
    assert_eq!(c["observed"]["baseline"], 110.0);
    assert_eq!(c["observed"]["baseline_run"].as_str().unwrap().len(), 36);
    // A backfill of the 3rd compares with the 2nd (by logical date), not with the 5th.
    data(d, 100, 10.0);
    let (_, c) = check_on(d, "2026-11-03", "change(row_count)");
    assert_eq!(c["observed"]["baseline"], 100.0);
    assert_eq!(c["observed"]["baseline_date"], "2026-11-02");
}

#[test]
fn each_partition_series_has_its_own_history() {
    let dir = project("      - change: { metric: row_count, max_pct: 10 }\n", "");
    let d = dir.path();
    data(d, 100, 1.0);
    let eu = |day: &str| {
        run(
            d,
            &[
                "check",
                "--partition",
                &format!("ds={day}"),
                "--partition",
                "region=EU",
                "-f",
                "json",
            ],
        )
    };
    assert_eq!(code(&eu("2026-11-01")), 0);
    data(d, 1000, 1.0);
    // US's first run: no history of its own, though EU has some.
    let o = run(
        d,
        &[
            "check",
            "--partition",
            "ds=2026-11-02",
            "--partition",
            "region=US",
            "-f",
            "json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(
        json(&o)["checks"][0]["observed"]["baseline"],
        serde_json::Value::Null
    );
    // EU's second run compares with EU's first: +900 %.
    let o = eu("2026-11-02");
    assert_eq!(code(&o), 1);
    assert_eq!(json(&o)["checks"][0]["observed"]["change_pct"], 900.0);
}

#[test]
fn same_weekday_and_runs_ago_pick_the_right_run() {
    let dir = project(
        "      - change: { name: wow, metric: row_count, vs: same_weekday, max: 5 }\n      - change: { name: three_back, metric: row_count, vs: { runs_ago: 3 }, equals: 7 }\n",
        "",
    );
    let d = dir.path();
    // Nov 1..=8: 100 + day rows.
    for day in 1..=8 {
        data(d, 100 + day, 1.0);
        run(
            d,
            &["check", "--partition", &format!("ds=2026-11-{day:02}")],
        );
    }
    data(d, 120, 1.0);
    let o = run(d, &["check", "--partition", "ds=2026-11-09", "-f", "json"]);
    let j = json(&o);
    // Same weekday: the 2nd (102 rows), +18 > 5: fail.
    assert_eq!(j["checks"][0]["observed"]["baseline"], 102.0);
    assert_eq!(j["checks"][0]["status"], "fail");
    // Three logical dates back: the 6th (106 rows): +14, not 7.
    assert_eq!(j["checks"][1]["observed"]["baseline"], 106.0);
    assert_eq!(j["checks"][1]["status"], "fail");
}

#[test]
fn anomaly_judges_against_the_spread_of_history_and_waits_for_enough_of_it() {
    let dir = project(
        "      - anomaly: { metric: row_count, min_history: 5 }\n      - anomaly: { name: early, metric: row_count, min_history: 5, too_little_history: warn, method: zscore }\n",
        "",
    );
    let d = dir.path();
    // Rows 100, 104, 98, 102, 96, 100 (median 100, MAD 2).
    for (day, rows) in [100, 104, 98, 102, 96, 100].iter().enumerate() {
        data(d, *rows, 1.0);
        let (_, c) = check_on(d, &format!("2026-11-{:02}", day + 1), "anomaly(row_count)");
        if day < 5 {
            assert_eq!(c["status"], "pass");
            assert!(
                c["message"].as_str().unwrap().contains("of the 5 needed"),
                "{c}"
            );
        }
    }
    // Too little history, asked to warn.
    let dir2 = project(
        "      - anomaly: { metric: row_count, too_little_history: warn }\n",
        "",
    );
    data(dir2.path(), 10, 1.0);
    let (exit, c) = check_on(dir2.path(), "2026-11-01", "anomaly(row_count)");
    assert_eq!((exit, c["status"].as_str()), (0, Some("warn")));
    // 112 rows: modified z = 0.6745 × 12 / 2 = 4.05 > 3.5.
    data(d, 112, 1.0);
    let (exit, c) = check_on(d, "2026-11-07", "anomaly(row_count)");
    assert_eq!((exit, c["status"].as_str()), (1, Some("fail")));
    assert_eq!(c["observed"]["baseline"], 100.0);
    assert_eq!(c["observed"]["history"], 6);
    assert!(
        (c["observed"]["score"].as_f64().unwrap() - 4.047).abs() < 1e-3,
        "{c}"
    );
    let band = c["observed"]["band"].as_array().unwrap();
    assert!((band[1].as_f64().unwrap() - (100.0 + 3.5 * 2.0 / 0.6745)).abs() < 1e-6);
    // 104 rows: score 1.35, passes. (The failed run of the 7th is a value of its own date,
    // replaced by this rerun.)
    data(d, 104, 1.0);
    let (exit, c) = check_on(d, "2026-11-07", "anomaly(row_count)");
    assert_eq!((exit, c["status"].as_str()), (0, Some("pass")), "{c}");
}

#[test]
fn weekly_seasonality_compares_mondays_with_mondays() {
    let dir = project(
        "      - anomaly: { metric: row_count, seasonality: weekly, min_history: 3 }\n",
        "",
    );
    let d = dir.path();
    // Three weeks: Mondays (2, 9, 16 Nov 2026) have 1000 rows, other days 100.
    for day in 1..=21u32 {
        let monday = (day + 5) % 7 == 0;
        data(d, if monday { 1000 } else { 100 }, 1.0);
        run(
            d,
            &["check", "--partition", &format!("ds=2026-11-{day:02}")],
        );
    }
    // Monday the 23rd with 1000 rows: normal for a Monday.
    data(d, 1000, 1.0);
    let (exit, c) = check_on(d, "2026-11-23", "anomaly(row_count)");
    assert_eq!((exit, c["status"].as_str()), (0, Some("pass")), "{c}");
    assert!(c["message"].as_str().unwrap().contains("on this weekday"));
    // Tuesday the 24th with 1000 rows: every earlier Tuesday had 100.
    let (exit, c) = check_on(d, "2026-11-24", "anomaly(row_count)");
    assert_eq!((exit, c["status"].as_str()), (1, Some("fail")), "{c}");
}

#[test]
fn history_shows_every_metric_and_one_metric_run_by_run() {
    let dir = project("      - not_null: units\n", "");
    let d = dir.path();
    for (day, rows) in [(1, 10), (2, 20), (3, 15)] {
        data(d, rows, 2.0);
        assert_eq!(
            code(&run(
                d,
                &["check", "--partition", &format!("ds=2026-11-0{day}")]
            )),
            0
        );
    }
    let o = run(d, &["history", "sales"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(
        text,
        "sales — 6 metrics, the last 3 runs (oldest first)
  max(units)         ▄▄▄  last 6  (min 6, max 6)
  mean(units)        ▄▄▄  last 4  (min 4, max 4)
  min(units)         ▄▄▄  last 2  (min 2, max 2)
  not_null(units)    ▄▄▄  last 0  (min 0, max 0)
  null_count(units)  ▄▄▄  last 0  (min 0, max 0)
  row_count          ▁█▅  last 15  (min 10, max 20)
"
    );
    let o = run(
        d,
        &[
            "history",
            "sales",
            "--check",
            "row_count",
            "--last",
            "2",
            "-f",
            "json",
        ],
    );
    let j = json(&o);
    let points = j["metrics"][0]["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["value"], 20.0);
    assert_eq!(points[1]["partition"], "ds=2026-11-03");
    assert_eq!(points[1]["logical_at"], "2026-11-03T00:00:00Z");
    let o = run(
        d,
        &[
            "history",
            "sales",
            "--check",
            "row_count",
            "--partition",
            "ds=2026-11-02",
        ],
    );
    let text = stdout(&o);
    assert!(text.starts_with("sales row_count — 1 run"), "{text}");
    assert!(
        text.contains("2026-11-02  ds=2026-11-02  20  ok  run "),
        "{text}"
    );
}

#[test]
fn the_report_shows_the_dataset_metrics_it_records() {
    let dir = project("      - range: { column: units, min: 0 }\n", "");
    std::fs::write(
        dir.path().join("sales.csv"),
        "id,units\n1,2\n2,\n3,7\n4,3\n",
    )
    .unwrap();
    let o = run(dir.path(), &["check", "-f", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        json(&o)["datasets"][0]["metrics"],
        serde_json::json!({"row_count": 4.0, "null_count(units)": 1.0, "min(units)": 2.0,
                           "max(units)": 7.0, "mean(units)": 4.0})
    );
    // Without the store nothing is recorded, and the scan computes none of them.
    let o = run(dir.path(), &["check", "--no-state", "-f", "json"]);
    assert_eq!(json(&o)["datasets"][0].get("metrics"), None);
}

#[test]
fn history_bad_inputs_name_what_is_wrong() {
    let dir = project("      - not_null: units\n", "");
    let d = dir.path();
    data(d, 10, 1.0);
    run(d, &["check"]);
    let o = run(d, &["history", "sales", "--check", "row_cont"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("records no metric `row_cont`; did you mean `row_count`?"),
        "{}",
        stderr(&o)
    );
    let o = run(d, &["history", "sale"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("sales"), "{}", stderr(&o));
    let o = run(d, &["check", "--partition", "ds"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("partition `ds` is not KEY=VALUE: no `=`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn without_the_state_store_history_checks_pass_and_say_why() {
    let dir = project("      - change: { metric: row_count, max_pct: 10 }\n", "");
    data(dir.path(), 10, 1.0);
    let o = run(dir.path(), &["check", "--no-state", "-f", "json"]);
    assert_eq!(code(&o), 0);
    let m = json(&o)["checks"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.ends_with("(--no-state: no history is read)"), "{m}");
}

#[test]
fn retention_forgets_values_older_than_keep() {
    let dir = project("      - not_null: units\n", "history: { keep: 1s }\n");
    let d = dir.path();
    data(d, 10, 1.0);
    run(d, &["check"]);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    run(d, &["check"]);
    let o = run(
        d,
        &["history", "sales", "--check", "row_count", "-f", "json"],
    );
    assert_eq!(
        json(&o)["metrics"][0]["points"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn history_checks_config_errors_point_at_the_check() {
    let cases = [
        (
            "      - change: { metric: row_count }\n",
            "a `change` check needs a threshold",
        ),
        (
            "      - change: { metric: not_nul(units), max_pct: 5 }\n      - not_null: units\n",
            "did you mean `not_null(units)`?",
        ),
        (
            "      - anomaly: { metric: row_count, window: 5, min_history: 7 }\n",
            "`min_history` 7 is more than the `window` of 5 runs",
        ),
        (
            "      - change: { metric: row_count, vs: yesterday, max: 1 }\n",
            "unknown `vs` `yesterday`",
        ),
        (
            "      - change: { metric: row_count, max: 1, max_pct: 2 }\n",
            "bounds on the change and on the change in percent together",
        ),
        (
            "      - anomaly: { metric: row_count, method: prophet }\n",
            "unknown `method` `prophet`",
        ),
    ];
    for (checks, wanted) in cases {
        let dir = project(checks, "");
        let o = run(dir.path(), &["validate"]);
        assert_eq!(code(&o), 2, "{checks}");
        let err = stderr(&o);
        assert!(err.contains(wanted), "{checks}: {err}");
        assert!(err.contains("sluice.yaml:6:"), "{checks}: {err}");
    }
}

#[test]
fn a_history_check_watching_a_skipped_check_is_skipped_too() {
    let dir = project(
        "      - schema: { columns: { amount: float64 } }\n      - not_null: { column: amount, after: [schema] }\n      - change: { metric: not_null(amount), max: 0 }\n",
        "",
    );
    data(dir.path(), 10, 1.0);
    let o = run(dir.path(), &["check", "-f", "json"]);
    assert_eq!(code(&o), 1);
    let j = json(&o);
    assert_eq!(j["checks"][2]["status"], "skipped", "{j}");
    assert_eq!(
        j["checks"][2]["message"],
        "skipped: it watches not_null(amount), which was skipped"
    );
    // And nothing may wait for a history check: it is judged last.
    let dir = project(
        "      - change: { name: growth, metric: row_count, max_pct: 5 }\n      - not_null: { column: units, after: [growth] }\n",
        "",
    );
    let o = run(dir.path(), &["validate"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("`not_null(units)` waits for `growth`, a history check"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn metric_history_lives_in_postgres_too() {
    let Some(url) = postgres_db("metric_history") else {
        return;
    };
    let dir = project(
        "      - change: { metric: mean(units), max_pct: 10 }\n",
        &format!("state: {url}\n"),
    );
    let d = dir.path();
    data(d, 10, 1.5);
    assert_eq!(code(&run(d, &["check", "--partition", "ds=2026-11-01"])), 0);
    data(d, 10, 3.0);
    let (exit, c) = check_on(d, "2026-11-02", "change(mean(units))");
    assert_eq!(exit, 1);
    assert_eq!(c["observed"]["baseline"], 3.5);
}
