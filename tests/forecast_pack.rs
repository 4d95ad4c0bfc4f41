//! End-to-end tests of the forecast pack's single-dataset kinds (`completeness`,
//! `quantiles_ordered`, `not_constant`, `interval_contains`, `metric` with `group_by`,
//! `unique` with `nulls: equal`): the binary on small CSV and Parquet files written here,
//! with exact counts worked out by hand in the comments.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{sluice, transcript};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use serde_json::Value;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// `sluice check --format json` in `dir`: exit code and report.
fn check_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let out = sluice()
        .args(["check", "--format", "json"])
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON report; stderr: {}; stdout: {}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// The result of check `name` of `dataset`.
fn result<'a>(report: &'a Value, dataset: &str, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["dataset"] == dataset && c["name"] == name)
        .unwrap_or_else(|| panic!("no check {dataset}.{name} in {report:#}"))
}

/// `(status, failing_rows)` of a check.
fn verdict(report: &Value, dataset: &str, name: &str) -> (String, u64) {
    let r = result(report, dataset, name);
    (
        r["status"].as_str().unwrap().to_string(),
        r["failing_rows"].as_u64().unwrap_or(u64::MAX),
    )
}

/// Ten rows of a wide daily forecast, 2026-12-01 to 12-03 per region:
/// north has 12-02 twice and crossed quantiles on 12-03 (p10 5 > p50 4, a drop of 1);
/// south lacks 12-02, has 12-05 past the horizon, and a constant p50 of 10;
/// east has p50 11 > p90 8 on 12-01 (a drop of 3).
const WIDE: &str = "region,ds,p10,p50,p90
north,2026-12-01,1,2,3
north,2026-12-02,2,3,4
north,2026-12-02,2,3,4
north,2026-12-03,5,4,6
south,2026-12-01,9,10,11
south,2026-12-03,9,10,11
south,2026-12-05,9,10,11
east,2026-12-01,7,11,8
east,2026-12-02,1,2,3
east,2026-12-03,1,3,5
";

const WIDE_CONFIG: &str = r#"version: 1
datasets:
  regions:
    path: regions.csv
  forecast:
    path: forecast.csv
    key: [region, ds]
    checks:
      - completeness: { name: grid, series: [region], date: ds, frequency: 1d, start: 2026-12-01, horizon: 3 }
      - completeness: { name: grid_from_earliest, series: region, date: ds, frequency: 1d, horizon: 3 }
      - completeness: { name: all_regions, series: region, series_from: regions.region, date: ds, frequency: 1d, start: "2026-12-01", horizon: 3 }
      - quantiles_ordered: [p10, p50, p90]
      - quantiles_ordered: { name: tolerant, columns: [p10, p50, p90], tolerance: 1.5 }
      - interval_contains: { lower: p10, point: p50, upper: p90 }
      - not_constant: { series: [region], column: p50 }
"#;

fn wide_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "forecast.csv", WIDE.as_bytes());
    write(
        dir.path(),
        "regions.csv",
        b"region\nnorth\nsouth\neast\nwest\n",
    );
    write(dir.path(), "sluice.yaml", WIDE_CONFIG.as_bytes());
    dir
}

#[test]
fn wide_layout_counts_missing_duplicated_and_off_grid_rows() {
    let dir = wide_dir();
    let (code, report) = check_json(dir.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    // 3 regions × 3 dates = 9 required: south 12-02 missing, north 12-02 once too many,
    // south 12-05 past the horizon.
    assert_eq!(verdict(&report, "forecast", "grid"), ("fail".into(), 3));
    let grid = result(&report, "forecast", "grid");
    assert_eq!(
        grid["message"],
        "3 failing of 9 required combinations of (region, ds): 1 missing, 1 duplicate row, 1 row off the grid"
    );
    let samples = grid["samples"].as_array().unwrap();
    assert_eq!(samples[0]["region"], "south");
    assert_eq!(samples[0]["ds"], "2026-12-02");
    assert_eq!(samples[0]["problem"], "missing");
    assert_eq!(samples[1]["problem"], "duplicated");
    assert_eq!(samples[1]["rows"], 2);
    assert_eq!(samples[2]["ds"], "2026-12-05");
    assert_eq!(samples[2]["problem"], "extra");
    // No `start`: the earliest date present, 12-01, gives the same grid.
    assert_eq!(
        verdict(&report, "forecast", "grid_from_earliest"),
        ("fail".into(), 3)
    );
    // The series from `regions` catch `west`, missing entirely: 4 × 3 = 12 required,
    // 1 + 3 missing, 1 copy, 1 off the grid.
    assert_eq!(
        verdict(&report, "forecast", "all_regions"),
        ("fail".into(), 6)
    );
    assert_eq!(
        result(&report, "forecast", "all_regions")["failing_pct"],
        50.0
    );
    // Crossed quantiles: north 12-03 and east 12-01; a tolerance of 1.5 lets north's
    // drop of 1 pass, not east's 3.
    assert_eq!(
        verdict(&report, "forecast", "quantiles_ordered(p10, p50, p90)"),
        ("fail".into(), 2)
    );
    assert_eq!(verdict(&report, "forecast", "tolerant"), ("fail".into(), 1));
    assert_eq!(
        verdict(&report, "forecast", "interval_contains(p10, p50, p90)"),
        ("fail".into(), 2)
    );
    // south's p50 is 10 on every row.
    let nc = result(&report, "forecast", "not_constant(p50)");
    assert_eq!(nc["failing_rows"], 1);
    assert_eq!(nc["message"], "1 of 3 series (region) have a constant p50");
    assert_eq!(nc["samples"][0]["region"], "south");
    assert_eq!(nc["samples"][0]["value"], 10);
}

#[test]
fn a_failing_wide_forecast_as_the_user_sees_it() {
    let dir = wide_dir();
    let out = sluice()
        .args(["--color", "never", "check", "--dataset", "forecast"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    insta::assert_snapshot!(transcript(&out, dir.path()));
}

/// A long (hub) forecast: location × horizon × output_type_id (quantile level) → value.
fn long_batch(rows: &[(&str, i64, f64, f64)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("location", DataType::Utf8, true),
        Field::new("horizon", DataType::Int64, true),
        Field::new("output_type_id", DataType::Float64, true),
        Field::new("value", DataType::Float64, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
    ];
    RecordBatch::try_new(schema, cols).unwrap()
}

fn parquet(batch: &RecordBatch) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    buf
}

const LONG_CONFIG: &str = r#"version: 1
datasets:
  locations:
    path: locations.csv
  hub:
    path: hub.parquet
    checks:
      - completeness:
          name: tasks
          keys:
            location: { from: locations.location }
            horizon: { from: 1, to: 2 }
            output_type_id: [0.1, 0.5, 0.9]
      - completeness:
          name: tasks_strict
          keys: { location: { values: [US], from: locations.location }, horizon: [1, 2], output_type_id: [0.1, 0.5, 0.9] }
          extra: fail
      - completeness:
          name: per_location
          keys: { horizon: [1, 2], output_type_id: [0.1, 0.5, 0.9] }
          by: [location]
      - quantiles_ordered: { level: output_type_id, value: value, by: [location, horizon] }
      - quantiles_ordered: { name: hub_tolerance, level: output_type_id, value: value, by: [location, horizon], tolerance: 1.0 }
      - metric: { name: total_per_task, sql: "sum(value)", group_by: [location, horizon], between: [0, 9] }
"#;

/// The long forecast of [`long_dir`]: US h2 decreases from 3 to 2 at level 0.5 and sums
/// to 10; CA h1 lacks 0.9 and has 0.5 twice; CA h3 is off the grid (one level).
const LONG_ROWS: [(&str, i64, f64, f64); 13] = [
    ("US", 1, 0.1, 1.0),
    ("US", 1, 0.5, 2.0),
    ("US", 1, 0.9, 3.0),
    ("US", 2, 0.1, 3.0),
    ("US", 2, 0.5, 2.0),
    ("US", 2, 0.9, 5.0),
    ("CA", 1, 0.1, 1.0),
    ("CA", 1, 0.5, 2.0),
    ("CA", 1, 0.5, 2.0),
    ("CA", 2, 0.1, 1.0),
    ("CA", 2, 0.5, 2.0),
    ("CA", 2, 0.9, 3.0),
    ("CA", 3, 0.5, 5.0),
];

fn long_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hub.parquet", &parquet(&long_batch(&LONG_ROWS)));
    write(dir.path(), "locations.csv", b"location\nUS\nCA\n");
    write(dir.path(), "sluice.yaml", LONG_CONFIG.as_bytes());
    dir
}

#[test]
fn long_layout_completeness_quantile_order_and_grouped_metrics() {
    let dir = long_dir();
    let (code, report) = check_json(dir.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    // 2 locations × 2 horizons × 3 levels = 12: CA/1/0.9 missing, CA/1/0.5 doubled.
    assert_eq!(verdict(&report, "hub", "tasks"), ("fail".into(), 2));
    let tasks = result(&report, "hub", "tasks");
    assert_eq!(
        tasks["message"],
        "2 failing of 12 required combinations of (location, horizon, output_type_id): 1 missing, 1 duplicate row"
    );
    assert_eq!(tasks["samples"][0]["location"], "CA");
    assert_eq!(tasks["samples"][0]["output_type_id"], 0.9);
    // `extra: fail` adds CA/3/0.5.
    assert_eq!(verdict(&report, "hub", "tasks_strict"), ("fail".into(), 3));
    // Per location present (US, CA): the same 12 required.
    assert_eq!(verdict(&report, "hub", "per_location"), ("fail".into(), 2));
    // 5 groups; US/2 decreases by 1 at level 0.5; CA/3 has one level and passes.
    let q = result(&report, "hub", "quantiles_ordered(output_type_id, value)");
    assert_eq!(q["failing_rows"], 1, "{q:#}");
    assert_eq!(
        q["message"],
        "1 of 5 groups (location, horizon) have quantiles decreasing as the level rises"
    );
    assert_eq!(q["samples"][0]["location"], "US");
    assert_eq!(q["samples"][0]["horizon"], 2);
    assert_eq!(q["samples"][0]["largest_decrease"], 1.0);
    assert_eq!(q["samples"][0]["decreases_at_level"], 0.5);
    assert_eq!(verdict(&report, "hub", "hub_tolerance"), ("pass".into(), 0));
    // Sums per task: US/1 6, US/2 10, CA/1 5, CA/2 6, CA/3 5: one outside [0, 9].
    let m = result(&report, "hub", "total_per_task");
    assert_eq!(m["status"], "fail");
    assert_eq!(m["failing_rows"], 1);
    assert_eq!(
        m["message"],
        "1 of 5 groups (location, horizon) have sum(value) outside the bounds"
    );
    assert_eq!(m["samples"][0]["value"], 10.0);
}

#[test]
fn a_complete_long_forecast_passes() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for loc in ["US", "CA"] {
        for h in 1..=2 {
            for (i, q) in [0.1, 0.5, 0.9].into_iter().enumerate() {
                rows.push((loc, h, q, i as f64 + h as f64));
            }
        }
    }
    write(dir.path(), "hub.parquet", &parquet(&long_batch(&rows)));
    write(dir.path(), "locations.csv", b"location\nUS\nCA\n");
    write(dir.path(), "sluice.yaml", LONG_CONFIG.as_bytes());
    let (code, report) = check_json(dir.path(), &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["passed"], 6);
}

#[test]
fn unique_with_nulls_equal_counts_null_keys_as_values() {
    let dir = tempfile::tempdir().unwrap();
    // Two `mean` rows of task 1 with no output_type_id are duplicates when NULL is a value.
    write(
        dir.path(),
        "hub.csv",
        b"task,output_type,output_type_id,value\n1,mean,,5\n1,mean,,6\n1,quantile,0.5,5\n2,mean,,7\n",
    );
    write(
        dir.path(),
        "sluice.yaml",
        br#"version: 1
datasets:
  hub:
    path: hub.csv
    checks:
      - unique: { name: nulls_distinct, columns: [task, output_type, output_type_id] }
      - unique: { name: nulls_equal, columns: [task, output_type, output_type_id], nulls: equal }
"#,
    );
    let (code, report) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        verdict(&report, "hub", "nulls_distinct"),
        ("pass".into(), 0)
    );
    assert_eq!(verdict(&report, "hub", "nulls_equal"), ("fail".into(), 1));
    let r = result(&report, "hub", "nulls_equal");
    assert_eq!(r["samples"][0]["task"], 1);
    assert_eq!(r["samples"][0]["output_type_id"], Value::Null);
    assert_eq!(r["samples"][0]["occurrences"], 2);
}

/// `sluice validate` of `config` in a fresh folder: exit code and stderr.
fn validate(config: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sluice.yaml", config.as_bytes());
    let out = sluice()
        .args(["--color", "never", "validate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout),
    )
}

#[test]
fn bad_pack_configs_are_config_errors_with_a_location_and_a_fix() {
    let head = "version: 1\ndatasets:\n  locations:\n    path: l.csv\n  f:\n    path: f.csv\n    checks:\n";
    for (check, says) in [
        (
            "      - completeness: { keys: { location: { from: locatons.location } } }\n",
            &[
                "sluice.yaml:8:9",
                "reads values from dataset `locatons`, which is not defined",
                "did you mean `locations`?",
            ][..],
        ),
        (
            "      - completeness: { series: [r], date: ds, frequency: daily, horizon: 3 }\n",
            &["sluice.yaml:8:", "`daily` is not a frequency", "e.g. `1d`"][..],
        ),
        (
            "      - completeness: { series: [r], date: ds, frequency: 1d, horizon: 0 }\n",
            &["sluice.yaml:8:", "`horizon` is 0", "at least 1"][..],
        ),
        (
            "      - completeness: { keys: { h: { from: 5, to: 1 } } }\n",
            &[
                "sluice.yaml:8:",
                "the range ends (1) before it starts (5)",
                "swap",
            ][..],
        ),
        (
            "      - completeness: { keys: { location: { from: locations } } }\n",
            &["sluice.yaml:8:", "`DATASET.COLUMN`"][..],
        ),
        (
            "      - quantiles_ordered: [p50]\n",
            &["sluice.yaml:8:", "at least two columns"][..],
        ),
        (
            "      - quantiles_ordered: { level: q, value: v, tolerance: -0.01 }\n",
            &[
                "sluice.yaml:8:",
                "`tolerance` is negative",
                "tolerance: 0.01",
            ][..],
        ),
        (
            "      - unique: { columns: [a, b], nulls: same }\n",
            &["sluice.yaml:8:", "`nulls` must be `equal` or `distinct`"][..],
        ),
    ] {
        let (code, out) = validate(&format!("{head}{check}"));
        assert_eq!(code, 2, "{check}: {out}");
        for s in says {
            assert!(out.contains(s), "{check}: expected {s:?} in:\n{out}");
        }
    }
}

#[test]
fn run_time_type_and_column_problems_are_check_errors_that_say_what_exists() {
    let dir = wide_dir();
    write(
        dir.path(),
        "sluice.yaml",
        br#"version: 1
datasets:
  regions:
    path: regions.csv
  forecast:
    path: forecast.csv
    checks:
      - quantiles_ordered: [region, p50]
      - completeness: { series: region, series_from: regions.name, date: ds, frequency: 1d, horizon: 3 }
      - completeness: { name: int_step_on_dates, series: region, date: ds, frequency: 1, horizon: 3 }
"#,
    );
    let (code, report) = check_json(dir.path(), &[]);
    assert_eq!(code, 4, "{report:#}");
    let msg = |n: &str| {
        result(&report, "forecast", n)["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        msg("quantiles_ordered(region, p50)"),
        "`quantiles_ordered` needs a numeric column, but `region` is string"
    );
    assert!(
        msg("completeness(region, ds)").contains("column `name` not found in `regions`")
            && msg("completeness(region, ds)").contains("Its columns: region (string)"),
        "{}",
        msg("completeness(region, ds)")
    );
    assert_eq!(
        msg("int_step_on_dates"),
        "`completeness` frequency `1` needs an integer column, but `ds` is date"
    );
}

/// The grouped checks computed inside the fused scan (no `where`) and by their own
/// queries (with a `where` every row meets) give the same verdicts, counts, messages and
/// samples.
#[test]
fn grouped_checks_in_the_scan_agree_with_their_own_queries() {
    let extra = "      - not_constant: { series: [location, horizon], column: value }\n";
    let dir = long_dir();
    write(
        dir.path(),
        "sluice.yaml",
        format!("{LONG_CONFIG}{extra}").as_bytes(),
    );
    let (_, in_scan) = check_json(dir.path(), &[]);
    let scoped = format!("{LONG_CONFIG}{extra}")
        .replace(
            "      - completeness:\n",
            "      - completeness:\n          where: \"horizon > 0\"\n",
        )
        .replace("{ level:", "{ where: \"horizon > 0\", level:")
        .replace("{ series:", "{ where: \"horizon > 0\", series:")
        .replace(
            "{ name: hub_tolerance,",
            "{ name: hub_tolerance, where: \"horizon > 0\",",
        );
    assert_eq!(scoped.matches("horizon > 0").count(), 6, "{scoped}");
    write(dir.path(), "sluice.yaml", scoped.as_bytes());
    let (_, own) = check_json(dir.path(), &[]);
    let names = [
        "tasks",
        "tasks_strict",
        "quantiles_ordered(output_type_id, value)",
        "hub_tolerance",
        "not_constant(value)",
    ];
    for name in names {
        let (a, b) = (result(&in_scan, "hub", name), result(&own, "hub", name));
        assert_eq!(a["status"], b["status"], "{name}");
        assert_eq!(a["failing_rows"], b["failing_rows"], "{name}");
        assert_eq!(
            a["message"].as_str().unwrap(),
            b["message"]
                .as_str()
                .unwrap()
                .replace(" (where horizon > 0)", ""),
            "{name}"
        );
        assert_eq!(a["samples"], b["samples"], "{name}");
    }
    let nc = result(&in_scan, "hub", "not_constant(value)");
    assert_eq!(
        nc["message"],
        "1 of 5 series (location, horizon) have a constant value"
    );
}

/// Rows in another order (levels out of order within groups, groups interleaved) give the
/// same verdicts: the checks the scan cannot settle from sorted runs count by their own
/// queries.
#[test]
fn row_order_does_not_change_the_verdicts() {
    let dir = long_dir();
    let (_, sorted) = check_json(dir.path(), &[]);
    let mut rows = LONG_ROWS.to_vec();
    rows.reverse();
    rows.swap(0, 7);
    write(dir.path(), "hub.parquet", &parquet(&long_batch(&rows)));
    let (_, shuffled) = check_json(dir.path(), &[]);
    for name in [
        "tasks",
        "tasks_strict",
        "per_location",
        "quantiles_ordered(output_type_id, value)",
        "hub_tolerance",
        "total_per_task",
    ] {
        let (a, b) = (result(&sorted, "hub", name), result(&shuffled, "hub", name));
        assert_eq!(a["status"], b["status"], "{name}");
        assert_eq!(a["failing_rows"], b["failing_rows"], "{name}");
        assert_eq!(a["message"], b["message"], "{name}");
    }
}
