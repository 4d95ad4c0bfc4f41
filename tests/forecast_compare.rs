//! End-to-end tests of the checks that compare a forecast with other data: against the
//! published version through `sluice publish` (publish once, stage a changed forecast,
//! see it quarantined), against the actuals (`within_history`, `forecast_accuracy`,
//! `distribution`), and the mistakes a user sees.

mod common;

use std::path::Path;
use std::process::Output;

use common::{code, out, run, transcript};

const CONFIG: &str = r#"version: 1
datasets:
  sales:
    path: sales.csv
  forecast:
    path: published/forecast/
    staging: staging/forecast/
    key: [region, ds]
    breaker: { reset: manual }
    checks:
      - change_vs_published: { keys: [region, ds], column: p50, max_wape_pct: 20, max_change_pct: 50 }
      - distribution: { column: p50, reference: published, min_ks_p: 0.01 }
      - within_history: { actuals: sales, series: [region], column: p50, actual_column: units, factor: 3 }
"#;

/// Ten days of sales for two regions: A sells 100..109, B 20..29.
fn sales() -> String {
    let mut s = String::from("region,ds,units\n");
    for r in ["A", "B"] {
        for ds in 1..=10 {
            let base = if r == "A" { 100 } else { 20 };
            s.push_str(&format!("{r},{ds},{}\n", base + ds - 1));
        }
    }
    s
}

/// A forecast of days `from..from+4` for both regions, `a` and `b` a day.
fn forecast(from: u32, a: f64, b: f64) -> String {
    let mut s = String::from("region,ds,p50\n");
    for ds in from..from + 4 {
        s.push_str(&format!("A,{ds},{a}\nB,{ds},{b}\n"));
    }
    s
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sluice.yaml"), CONFIG).unwrap();
    std::fs::write(d.join("sales.csv"), sales()).unwrap();
    std::fs::create_dir_all(d.join("published")).unwrap();
    dir
}

fn stage(d: &Path, csv: &str) {
    std::fs::create_dir_all(d.join("staging/forecast")).unwrap();
    std::fs::write(d.join("staging/forecast/part-0.csv"), csv).unwrap();
}

fn json_checks(o: &Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["checks"].as_array().unwrap().clone()
}

fn named<'a>(checks: &'a [serde_json::Value], kind: &str) -> &'a serde_json::Value {
    checks.iter().find(|c| c["kind"] == kind).unwrap()
}

#[test]
fn publish_compares_with_the_published_version_and_quarantines_a_jump() {
    let p = project();
    let d = p.path();
    // 1. Nothing published yet: v1 is published. A check of it has no earlier version to
    //    compare with: a pass with a note.
    stage(d, &forecast(11, 110.0, 30.0));
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("published forecast v1"), "{}", out(&o));
    let o = run(d, &["check", "--dataset", "forecast", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    let checks = json_checks(&o);
    let change = named(&checks, "change_vs_published");
    assert_eq!(change["status"], "pass");
    assert_eq!(
        change["message"],
        "no earlier published version of `forecast` to compare with"
    );

    // 2. The next cycle moves a little: 3 days overlap, WAPE 15/420 = 3.57 %; v2. A plain
    //    check of the published path compares v2 with the version before it, as the
    //    publish did.
    stage(d, &forecast(12, 115.0, 30.0));
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("published forecast v2"), "{}", out(&o));
    let o = run(d, &["check", "--dataset", "forecast", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    let checks = json_checks(&o);
    let change = named(&checks, "change_vs_published");
    assert_eq!(change["status"], "pass");
    assert_eq!(change["observed"]["published"], "the previous version v1");
    assert_eq!(change["observed"]["keys_compared"], 6);
    let wape = change["observed"]["wape_pct"].as_f64().unwrap();
    assert!((wape - 15.0 / 420.0 * 100.0).abs() < 1e-9, "{wape}");

    // 3. An implausible jump in B (30 → 90): WAPE 180/435 = 41.4 %, +200 % per key, and
    //    90 is beyond 3 × B's best day (29 × 3 = 87). Quarantined with its report; `path`
    //    stays on v2.
    stage(d, &forecast(13, 115.0, 90.0));
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 1, "{}", out(&o));
    let quarantined: Vec<_> = std::fs::read_dir(d.join("quarantine/forecast"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(quarantined.len(), 1);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(quarantined[0].path().join("report.json")).unwrap(),
    )
    .unwrap();
    let checks = report["checks"].as_array().unwrap().clone();
    let change = named(&checks, "change_vs_published");
    assert_eq!(change["status"], "fail");
    assert_eq!(change["observed"]["published"], "the published version v2");
    let wape = change["observed"]["wape_pct"].as_f64().unwrap();
    assert!((wape - 180.0 / 435.0 * 100.0).abs() < 1e-9, "{wape}");
    assert_eq!(change["failing_rows"], 3, "B's three days in common");
    assert_eq!(change["samples"][0]["region"], "B");
    assert_eq!(change["samples"][0]["change_pct"], 200.0);
    let history = named(&checks, "within_history");
    assert_eq!(history["status"], "fail");
    assert_eq!(history["failing_rows"], 4);
    assert_eq!(
        std::fs::read_to_string(quarantined[0].path().join("data/part-0.csv")).unwrap(),
        forecast(13, 115.0, 90.0)
    );
    assert_eq!(
        std::fs::read_to_string(d.join("published/forecast/part-0.csv")).unwrap(),
        forecast(12, 115.0, 30.0),
        "readers still see v2"
    );
}

/// What a user sees when a staged forecast jumps: the snapshot of `sluice publish`.
#[test]
fn a_jump_against_the_published_forecast_as_text() {
    let p = project();
    let d = p.path();
    stage(d, &forecast(11, 110.0, 30.0));
    assert_eq!(code(&run(d, &["publish", "forecast"])), 0);
    stage(d, &forecast(12, 110.0, 90.0));
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 1, "{}", out(&o));
    insta::assert_snapshot!(transcript(&o, d));
}

#[test]
fn accuracy_and_distribution_against_the_actuals() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sales.csv"), sales()).unwrap();
    // Last cycle's forecast of days 9 and 10, now that their actuals are in.
    std::fs::write(
        d.join("forecast.csv"),
        "region,ds,p10,p50,p90\nA,9,100,105,110\nA,10,100,104,106\nB,9,20,30,40\nB,10,25,26,27\n",
    )
    .unwrap();
    std::fs::write(
        d.join("sluice.yaml"),
        r#"datasets:
  sales: { path: sales.csv }
  forecast:
    path: forecast.csv
    checks:
      - forecast_accuracy: { actuals: sales, keys: [region, ds], point: p50, actual_column: units,
                             lower: p10, upper: p90, min_coverage_pct: 70, max_mase: 3 }
      - distribution: { column: p50, reference: sales, reference_column: units, bins: 4, max_psi: 100 }
"#,
    )
    .unwrap();
    let o = run(d, &["check", "--no-state", "--format", "json"]);
    // A: 108 in [100, 110], 109 not in [100, 106]; B: 28 in [20, 40], 29 not in [25, 27].
    assert_eq!(code(&o), 1, "{}", out(&o));
    let checks = json_checks(&o);
    let acc = named(&checks, "forecast_accuracy");
    assert_eq!(acc["status"], "fail");
    assert_eq!(acc["observed"]["coverage_pct"], 50.0);
    // Naive (season 1) scale is 1 for both series: MASE = mean(3, 5, 2, 3) = 3.25.
    assert_eq!(acc["observed"]["mase"], 3.25);
    let dist = named(&checks, "distribution");
    assert_eq!(dist["status"], "pass", "{}", dist["message"]);
    assert_eq!(dist["observed"]["reference_values"], 20);
    // Table formats show the statistics, short.
    let o = run(d, &["check", "--no-state", "--format", "markdown"]);
    assert!(
        out(&o).contains("coverage 50%, MASE 3.25, WAPE 4.744526%"),
        "{}",
        out(&o)
    );
}

#[test]
fn mistakes_a_user_makes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sales.csv"), sales()).unwrap();
    std::fs::write(d.join("forecast.csv"), forecast(11, 1.0, 2.0)).unwrap();
    // An unknown dataset is a config error at its place, with a did-you-mean: exit 2.
    std::fs::write(
        d.join("sluice.yaml"),
        "datasets:\n  sales: { path: sales.csv }\n  forecast:\n    path: forecast.csv\n    checks:\n      - within_history: { actuals: sale, column: p50, factor: 3 }\n",
    )
    .unwrap();
    let o = run(d, &["check", "--no-state"]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("sluice.yaml:6:36"), "{text}");
    assert!(
        text.contains("refers to dataset `sale`, which is not defined"),
        "{text}"
    );
    assert!(text.contains("did you mean `sales`?"), "{text}");
    // An unknown column is the check's error, naming the columns that exist.
    std::fs::write(
        d.join("sluice.yaml"),
        "datasets:\n  sales: { path: sales.csv }\n  forecast:\n    path: forecast.csv\n    checks:\n      - within_history: { actuals: sales, column: p50, actual_column: unit, factor: 3 }\n",
    )
    .unwrap();
    let o = run(d, &["check", "--no-state"]);
    let text = out(&o);
    assert_ne!(code(&o), 0, "{text}");
    assert!(
        text.contains("column `unit` not found in `sales`; did you mean `units`? Its columns: region (string), ds (int64), units (int64)"),
        "{text}"
    );
}
