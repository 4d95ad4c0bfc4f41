//! The performance regression guard (issue 16), with no timing: how many scans and queries
//! a suite runs and how many bytes of data pages they read, from DataFusion's metrics
//! (`bytes_scanned`, logged with every query at debug level). A change that makes a check
//! read the data again, or read data the Parquet footers already answer, fails here.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::sluice;
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use serde_json::Value;

/// One file of `rows` rows from `first`, in row groups of 1,000: `id` (unique), `qty`
/// (1..=100, a NULL every 97th row), `ts` (2024), `price` (float; NaN on row 500 when
/// `nan`), `name` (text).
fn write_part(path: &Path, first: i64, rows: i64, nan: bool) {
    let ids: Vec<i64> = (first..first + rows).collect();
    let qty: Int32Array = ids
        .iter()
        .map(|i| (i % 97 != 0).then_some((i % 100 + 1) as i32))
        .collect();
    let ts = TimestampMicrosecondArray::from_iter_values(
        ids.iter().map(|i| 1_704_067_200_000_000 + i * 60_000_000),
    );
    let price: Float64Array = ids
        .iter()
        .map(|&i| {
            Some(if nan && i == first + 500 {
                f64::NAN
            } else {
                i as f64 / 10.0
            })
        })
        .collect();
    let name = StringArray::from_iter_values(ids.iter().map(|i| format!("n{i}")));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("qty", DataType::Int32, true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("price", DataType::Float64, false),
        Field::new("name", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(qty),
        Arc::new(ts),
        Arc::new(price),
        Arc::new(name),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1_000))
        .build();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// A folder of two Parquet files (3,000 + 2,500 rows, 6 row groups), `price` with a NaN
/// when `nan`.
fn data(dir: &Path, nan: bool) {
    std::fs::create_dir_all(dir.join("t")).unwrap();
    write_part(&dir.join("t/part-0.parquet"), 0, 3_000, nan);
    write_part(&dir.join("t/part-1.parquet"), 3_000, 2_500, false);
}

/// What a run did: its report, and per query its kind and the bytes it scanned.
struct Run {
    report: Value,
    queries: Vec<(String, u64)>,
    answered_by_footers: bool,
}

impl Run {
    fn dataset_queries(&self) -> u64 {
        self.report["datasets"][0]["queries"].as_u64().unwrap()
    }

    fn bytes(&self) -> u64 {
        self.queries.iter().map(|(_, b)| b).sum()
    }

    fn observed(&self) -> Vec<(String, String, Value)> {
        self.report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["status"].as_str().unwrap().to_string(),
                    c["observed"].clone(),
                )
            })
            .collect()
    }
}

/// `sluice check --format json` in `dir` with `args`, the engine's debug events logged as
/// JSON; returns the exit code, the report and the events.
fn logged_check(dir: &Path, args: &[&str]) -> (Option<i32>, Value, Vec<Value>) {
    let o = sluice()
        .args([
            "--log-format",
            "json",
            "check",
            "--no-state",
            "--format",
            "json",
        ])
        .args(args)
        .env("SLUICE_LOG", "sluice_engine=debug")
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let report = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {stderr}\n{}", String::from_utf8_lossy(&o.stdout)));
    let events = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    (o.status.code(), report, events)
}

/// Runs `checks` (YAML list items, one per line) on the folder `t`.
fn run(dir: &Path, checks: &[&str]) -> Run {
    let mut yaml = String::from("datasets:\n  t:\n    path: t/\n    checks:\n");
    for c in checks {
        yaml.push_str(&format!("      - {c}\n"));
    }
    std::fs::write(dir.join("sluice.yaml"), yaml).unwrap();
    let (code, report, events) = logged_check(dir, &["--now", "2024-01-05T00:00:00Z"]);
    assert!(matches!(code, Some(0 | 1)), "{report}");
    let mut queries = vec![];
    let mut answered_by_footers = false;
    for v in &events {
        match v["message"].as_str() {
            Some("query finished") => queries.push((
                v["kind"].as_str().unwrap_or("").to_string(),
                v["bytes_scanned"].as_u64().unwrap(),
            )),
            Some("fused scan answered by the Parquet footers") => answered_by_footers = true,
            _ => {}
        }
    }
    Run {
        report,
        queries,
        answered_by_footers,
    }
}

/// The checks the footers answer, all passing on the data.
const FOOTER_CHECKS: &[&str] = &[
    "row_count: { between: [5000, 6000] }",
    "not_null: [id, ts]",
    "range: { column: qty, min: 1, max: 100 }",
    "range: { column: ts, min: '2024-01-01', max: '2024-12-31' }",
    "range: { column: id, min: -1, max: 10000, inclusive: false, name: id_open_range }",
    "freshness: { column: ts, max_age: 3d }",
    "schema: { columns: { id: int64, qty: int32, name: string } }",
];

/// The same checks scoped to every row (`where:`), which the footers do not answer.
fn scanned(checks: &[&str]) -> Vec<String> {
    checks
        .iter()
        .map(|c| match c.strip_prefix("not_null: ") {
            Some(cols) => format!("not_null: {{ columns: {cols}, where: 'true' }}"),
            None if c.starts_with("schema:") => c.to_string(),
            None => c.replacen(" }", ", where: 'true' }", 1),
        })
        .collect()
}

#[test]
fn a_dataset_of_footer_checks_reads_no_data_pages_and_gets_the_scans_answers() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path(), false);
    let footers = run(dir.path(), FOOTER_CHECKS);
    assert!(footers.answered_by_footers, "{:?}", footers.queries);
    assert_eq!(footers.dataset_queries(), 0, "{}", footers.report);
    assert_eq!(footers.queries, vec![], "no query ran, so no page was read");
    assert_eq!(footers.report["datasets"][0]["rows_scanned"], 5500);

    let owned: Vec<String> = scanned(FOOTER_CHECKS);
    let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
    let scan = run(dir.path(), &refs);
    assert_eq!(scan.dataset_queries(), 1, "{}", scan.report);
    assert!(scan.bytes() > 0, "{:?}", scan.queries);
    assert!(!scan.answered_by_footers);
    // The same verdicts and observed values as the scan of every row.
    assert_eq!(footers.observed(), scan.observed());
    assert!(footers.observed().iter().all(|(_, s, _)| s == "pass"));
}

#[test]
fn failing_footer_checks_are_counted_from_the_footers_and_only_their_samples_read_data() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path(), false);
    // qty has 57 NULLs; ts runs past 2024-01-02.
    let checks = ["not_null: qty", "range: { column: ts, max: '2024-01-02' }"];
    let footers = run(dir.path(), &checks);
    let owned = scanned(&checks);
    let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
    let scan = run(dir.path(), &refs);
    assert_eq!(footers.observed(), scan.observed());
    assert_eq!(footers.observed()[0].2, 57);
    // not_null from the footers; the range failed its bounds there, so it is scanned.
    let kinds: Vec<&str> = footers.queries.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["fused"], "{:?}", footers.queries);
    // Plus one sample query per failed check (not logged as aggregates).
    assert_eq!(footers.dataset_queries(), 3);
}

#[test]
fn floats_strings_and_where_are_left_to_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path(), true);
    // NaN is left out of Parquet statistics but compared by the scan: the footers'
    // maximum (549.9) says the range holds; the scan finds the NaN row.
    let checks = [
        "range: { column: price, min: 0, max: 1000 }",
        "range: { column: name, min: 'a' }",
        "row_count: { min: 1, where: 'qty > 50' }",
    ];
    let r = run(dir.path(), &checks);
    assert!(!r.answered_by_footers);
    assert_eq!(r.queries.len(), 1, "the fused scan: {:?}", r.queries);
    assert_eq!(r.dataset_queries(), 2, "and the failed range's samples");
    let observed = r.observed();
    assert_eq!(observed[0].1, "fail", "{observed:?}");
    assert_eq!(observed[0].2, 1, "the NaN row");
    assert_eq!(observed[1].1, "pass");
}

#[test]
fn a_mixed_dataset_scans_only_the_columns_the_footers_leave() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path(), false);
    let mut checks: Vec<&str> = FOOTER_CHECKS.to_vec();
    checks.push("range: { column: price, min: 0 }");
    let mixed = run(dir.path(), &checks);
    let owned = scanned(&checks);
    let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
    let all = run(dir.path(), &refs);
    assert_eq!(mixed.observed(), all.observed());
    assert_eq!(mixed.dataset_queries(), 1);
    assert_eq!(all.dataset_queries(), 1);
    // One scan each; the mixed one decodes `price` alone, the other id, qty, ts and price.
    assert!(
        mixed.bytes() * 2 < all.bytes(),
        "mixed {:?} vs all {:?}",
        mixed.queries,
        all.queries
    );
}

#[test]
fn the_example_suite_runs_one_fused_scan_per_dataset_and_an_own_query_per_unique() {
    // The bundled example: how many queries each dataset's checks cost. A check that
    // starts reading the data again (or stops sharing the fused scan) changes these.
    let (code, report, events) = logged_check(
        &common::repo(),
        &[
            "--config",
            "examples/orders/sluice.yaml",
            "--now",
            "2025-01-01T00:00:00Z",
        ],
    );
    assert_eq!(code, Some(1));
    let queries: Vec<(String, u64)> = report["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                d["queries"].as_u64().unwrap(),
            )
        })
        .collect();
    let snapshot: Vec<String> = queries.iter().map(|(n, q)| format!("{n}: {q}")).collect();
    let mut kinds = std::collections::BTreeMap::<String, u32>::new();
    for v in events.iter().filter(|v| v["message"] == "query finished") {
        let key = format!(
            "{}/{}",
            v["dataset"].as_str().unwrap_or("?"),
            v["kind"].as_str().unwrap_or("?")
        );
        *kinds.entry(key).or_default() += 1;
    }
    insta::assert_snapshot!(
        "example_queries",
        format!("{}\n{kinds:#?}", snapshot.join("\n"))
    );
}

#[test]
fn scanned_scopes_every_check_but_schema() {
    assert_eq!(
        scanned(&[
            "not_null: [id, ts]",
            "range: { column: qty, min: 1 }",
            "schema: { columns: { id: int64, qty: int32, name: string } }"
        ]),
        [
            "not_null: { columns: [id, ts], where: 'true' }",
            "range: { column: qty, min: 1, where: 'true' }",
            "schema: { columns: { id: int64, qty: int32, name: string } }"
        ]
    );
}

#[test]
fn a_recorded_run_answered_by_the_footers_records_their_metrics_but_not_the_mean() {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path(), false);
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "datasets:\n  t:\n    path: t/\n    checks:\n      - range: { column: qty, min: 1, max: 100 }\n",
    )
    .unwrap();
    let state = format!("sqlite:{}", dir.path().join("state.db").display());
    let o = sluice()
        .args(["check", "--format", "json"])
        .env("SLUICE_STATE", &state)
        .env_remove("SLUICE_NO_STATE")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = &report["datasets"][0];
    assert_eq!(d["queries"], 0, "{d}");
    let m = &d["metrics"];
    assert_eq!(m["row_count"], 5500.0, "{d}");
    assert_eq!(m["null_count(qty)"], 57.0);
    assert_eq!(m["min(qty)"], 1.0);
    assert_eq!(m["max(qty)"], 100.0);
    assert!(m.get("mean(qty)").is_none(), "the mean needs a scan: {m}");
}

#[test]
fn a_file_without_the_column_does_not_make_its_minimum_null() {
    // Schema evolution: part-2 has no `qty`. Its footer says "all NULL" for it; merged
    // with the others' bounds that must not become the column's minimum.
    let dir = tempfile::tempdir().unwrap();
    data(dir.path(), false);
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(9_000..9_010));
    let batch = RecordBatch::try_new(schema.clone(), vec![ids]).unwrap();
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(dir.path().join("t/part-2.parquet")).unwrap(),
        schema,
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let checks = [
        "metric: { name: min_qty, sql: 'min(qty)', min: 1 }",
        "metric: { name: max_qty, sql: 'max(qty)', max: 100 }",
        "not_null: qty",
        "row_count: { min: 1 }",
    ];
    let footers = run(dir.path(), &checks);
    let owned = scanned(&checks);
    let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
    let scan = run(dir.path(), &refs);
    assert_eq!(footers.observed(), scan.observed());
    assert_eq!(footers.observed()[0].2, 1.0, "{:?}", footers.observed());
    assert_eq!(
        footers.observed()[2].2,
        57 + 10,
        "the new file's rows are NULL"
    );
}
