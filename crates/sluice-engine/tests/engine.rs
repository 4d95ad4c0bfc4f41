//! The engine through its library API: one scan per dataset, isolation of failing checks,
//! progress, concurrency of datasets.

use std::path::Path;

use sluice_engine::{CheckStatus, Progress, RunOptions, RunStatus, run};
use sluice_spec::{Vars, load_str};

fn write_orders(dir: &Path) {
    let mut csv = String::from("order_id,customer_id,amount,quantity,status\n");
    for i in 1..=1000 {
        let cust = if i % 250 == 0 {
            String::new()
        } else {
            (i % 40).to_string()
        };
        csv.push_str(&format!("{i},{cust},{}.5,{},placed\n", i % 97, 1 + i % 5));
    }
    std::fs::write(dir.join("orders.csv"), csv).unwrap();
    std::fs::write(
        dir.join("customers.csv"),
        "customer_id\n".to_string() + &(0..40).map(|i| format!("{i}\n")).collect::<String>(),
    )
    .unwrap();
}

fn config(dir: &Path, yaml: &str) -> sluice_spec::Config {
    let path = dir.join("sluice.yaml");
    std::fs::write(&path, yaml).unwrap();
    load_str(&path, yaml.to_string(), &Vars::isolated(Default::default())).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn all_checks_of_a_dataset_share_one_scan() {
    let dir = tempfile::tempdir().unwrap();
    write_orders(dir.path());
    let cfg = config(
        dir.path(),
        r#"
datasets:
  orders:
    path: orders.csv
    checks:
      - row_count: { min: 1 }
      - not_null: [order_id, amount, quantity, status]
      - accepted_values: { column: status, values: [placed] }
      - forbidden_values: { column: status, values: [void] }
      - range: { column: quantity, min: 1, max: 5 }
      - matches: { column: status, regex: '^[a-z]+$' }
      - format: { column: status, format: uuid, max_invalid_pct: 100 }
      - length: { column: status, max: 10 }
      - rows_satisfy: { name: r, condition: "amount >= 0", where: "quantity > 1" }
      - metric: { name: m, sql: "avg(amount)", min: 0 }
      - metric: { name: m2, sql: "count(DISTINCT quantity)", equals: 5, where: "order_id > 10" }
      - schema: { columns: { order_id: int64 } }
"#,
    );
    let report = runtime()
        .block_on(run(&cfg, &RunOptions::default()))
        .unwrap();
    assert_eq!(report.status, RunStatus::Passed, "{:#?}", report.checks);
    assert_eq!(report.summary.total, 15);
    assert_eq!(report.datasets[0].queries, 1, "15 checks, one scan");
    assert_eq!(report.datasets[0].rows_scanned, Some(1000));
}

#[test]
fn own_queries_and_samples_are_counted_and_only_for_failures() {
    let dir = tempfile::tempdir().unwrap();
    write_orders(dir.path());
    let cfg = config(
        dir.path(),
        r#"
datasets:
  orders:
    path: orders.csv
    key: [order_id]
    checks:
      - not_null: customer_id              # fails: 4 NULLs -> one sample query
      - not_null: { column: customer_id, name: tolerated, max_invalid: 4 }   # passes: no samples
      - unique: [order_id, status]         # own query (passes: no sample query)
      - unique: { column: quantity, samples: 2 }   # own query (bitmap), fails: a sample query
      - references: { column: customer_id, dataset: customers, key: customer_id }   # own query
  customers:
    path: customers.csv
"#,
    );
    let report = runtime()
        .block_on(run(&cfg, &RunOptions::default()))
        .unwrap();
    let orders = report.datasets.iter().find(|d| d.name == "orders").unwrap();
    // The fused scan; three own queries; samples of not_null and of the dense unique.
    assert_eq!(orders.queries, 1 + 3 + 2);
    let failed = &report.checks[0];
    assert_eq!(failed.status, CheckStatus::Fail);
    assert_eq!(failed.failing_rows, Some(4));
    let ids: Vec<i64> = failed
        .samples
        .iter()
        .map(|s| s["order_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [250, 500, 750, 1000],
        "samples are the first failing rows in file order"
    );
    assert!(report.checks[1].samples.is_empty());
    let dup = &report.checks[3];
    assert_eq!(dup.name, "unique(quantity)");
    assert_eq!(dup.failing_rows, Some(995), "1000 rows, 5 distinct values");
    assert_eq!(
        dup.message,
        "995 duplicate rows in (quantity): 5 of 5 distinct values occur more than once"
    );
    assert_eq!(
        serde_json::Value::from(dup.samples.clone()),
        serde_json::json!([
            {"quantity": 1, "occurrences": 200}, {"quantity": 2, "occurrences": 200}
        ])
    );
}

#[test]
fn a_check_failing_at_run_time_does_not_sink_the_others() {
    let dir = tempfile::tempdir().unwrap();
    write_orders(dir.path());
    let cfg = config(
        dir.path(),
        r#"
datasets:
  orders:
    path: orders.csv
    checks:
      - row_count: { min: 1 }
      - metric: { name: boom, sql: "sum(quantity) / (count(*) - count(order_id))", min: 0 }
      - not_null: order_id
"#,
    );
    let report = runtime()
        .block_on(run(&cfg, &RunOptions::default()))
        .unwrap();
    let status: Vec<_> = report
        .checks
        .iter()
        .map(|c| (c.name.as_str(), c.status))
        .collect();
    assert_eq!(
        status,
        [
            ("row_count", CheckStatus::Pass),
            ("boom", CheckStatus::Error),
            ("not_null(order_id)", CheckStatus::Pass)
        ]
    );
    assert!(
        report.checks[1].message.contains("Divide by zero"),
        "{}",
        report.checks[1].message
    );
    assert_eq!(report.status, RunStatus::Error);
}

#[test]
fn progress_counts_datasets_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    write_orders(dir.path());
    let cfg = config(
        dir.path(),
        "datasets:\n  orders:\n    path: orders.csv\n    checks: [row_count]\n  customers:\n    path: customers.csv\n    checks: [row_count]\n",
    );
    let progress = Progress::new();
    let opts = RunOptions {
        progress: Some(progress.clone()),
        ..RunOptions::default()
    };
    runtime().block_on(run(&cfg, &opts)).unwrap();
    let s = progress.snapshot();
    assert_eq!(
        (s.datasets_done, s.datasets_total, s.rows_scanned),
        (2, 2, 1040)
    );
}

#[test]
fn unknown_dataset_selection_suggests_the_closest() {
    let dir = tempfile::tempdir().unwrap();
    write_orders(dir.path());
    let cfg = config(dir.path(), "datasets:\n  orders:\n    path: orders.csv\n");
    let opts = RunOptions {
        datasets: vec!["order".into()],
        ..RunOptions::default()
    };
    let err = runtime().block_on(run(&cfg, &opts)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown dataset `order`; did you mean `orders`?"
    );
}

#[test]
fn keyed_diffs_spill_when_the_hash_join_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    // 400,000 rows on each side; the target misses 3 and changes 2.
    rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new();
        for (name, sql) in [
            ("source", "SELECT value AS id, value * 3 AS amount, concat('customer-', CAST(value % 977 AS VARCHAR)) AS who FROM generate_series(1, 400000)"),
            ("target", "SELECT value AS id, CASE WHEN value IN (77, 300000) THEN value * 3 + 1 ELSE value * 3 END AS amount, concat('customer-', CAST(value % 977 AS VARCHAR)) AS who FROM generate_series(1, 400000) WHERE value NOT IN (5, 6, 399999)"),
        ] {
            let path = dir.path().join(format!("{name}.parquet"));
            ctx.sql(sql).await.unwrap().write_parquet(path.to_str().unwrap(), Default::default(), None).await.unwrap();
        }
    });
    let cfg = config(
        dir.path(),
        "datasets:\n  source:\n    path: source.parquet\n  target:\n    path: target.parquet\n    parity:\n      - { against: source, keys: [id], compare: all }\n",
    );
    let run_with = |limit: Option<usize>| {
        let opts = RunOptions {
            memory_limit: limit,
            ..RunOptions::default()
        };
        rt.block_on(run(&cfg, &opts)).unwrap()
    };
    // The light join (keys and row hashes) fits in 16 MB; 8 MB needs the spilling join.
    for (limit, join) in [
        (None, "hash"),
        (Some(16 << 20), "hash"),
        (Some(8 << 20), "sort_merge"),
    ] {
        let report = run_with(limit);
        let o = &report.checks[0].observed["rows"];
        assert_eq!(o["join"], join, "{limit:?}: {}", report.checks[0].message);
        assert_eq!(
            (
                o["missing"].as_u64(),
                o["extra"].as_u64(),
                o["changed"].as_u64()
            ),
            (Some(3), Some(0), Some(2)),
            "{limit:?}: {o}"
        );
        assert_eq!(o["changed_by_column"]["amount"], 2);
    }
}

/// `(name, status, message)` of each check.
fn outcomes(report: &sluice_engine::RunReport) -> Vec<(&str, CheckStatus, &str)> {
    report
        .checks
        .iter()
        .map(|c| (c.name.as_str(), c.status, c.message.as_str()))
        .collect()
}

#[test]
fn dependents_wait_for_own_queries_and_are_skipped_in_waves() {
    let dir = tempfile::tempdir().unwrap();
    write_orders(dir.path());
    let cfg = config(
        dir.path(),
        r#"
datasets:
  orders:
    path: orders.csv
    key: [order_id]
    checks:
      - references: { column: customer_id, dataset: customers, key: customer_id, after: ["unique(customer_id)"] }
      - unique: { column: customer_id, after: ["unique(order_id)"] }
      - unique: order_id
      - metric: { name: spend, sql: "sum(amount)", min: 0, after: ["references(customer_id)"] }
  customers:
    path: customers.csv
"#,
    );
    let report = runtime()
        .block_on(run(&cfg, &RunOptions::default()))
        .unwrap();
    use CheckStatus::*;
    assert_eq!(
        outcomes(&report),
        [
            (
                "references(customer_id)",
                Skipped,
                "skipped: unique(customer_id) failed"
            ),
            (
                "unique(customer_id)",
                Fail,
                "956 duplicate rows in (customer_id): 40 of 40 distinct values occur more than once"
            ),
            (
                "unique(order_id)",
                Pass,
                "0 duplicate rows in (order_id): 0 of 1000 distinct values occur more than once"
            ),
            (
                "spend",
                Skipped,
                "skipped: references(customer_id) was skipped (unique(customer_id) failed)"
            ),
        ]
    );
    assert_eq!(report.checks[0].skipped_by, ["unique(customer_id)"]);
    assert_eq!(report.checks[3].skipped_by, ["references(customer_id)"]);
    assert!(report.checks[0].samples.is_empty());
    assert_eq!(
        report.checks[0].duration_ms, None,
        "ran no query of its own"
    );
    // The fused scan, then `unique(order_id)`'s own query, then (its prerequisite passed)
    // `unique(customer_id)`'s and its samples. No anti-join.
    let orders = report.datasets.iter().find(|d| d.name == "orders").unwrap();
    assert_eq!(orders.queries, 4);
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!((report.summary.failed, report.summary.skipped), (1, 2));
}

#[test]
fn a_dependent_that_would_fail_on_the_data_is_skipped_not_errored() {
    let dir = tempfile::tempdir().unwrap();
    write_orders(dir.path());
    let cfg = config(
        dir.path(),
        r#"
datasets:
  orders:
    path: orders.csv
    checks:
      - row_count: { max: 10 }
      - metric: { name: boom, sql: "sum(quantity) / (count(*) - count(order_id))", min: 0, after: row_count }
      - not_null: { column: order_id, after: row_count }
"#,
    );
    let report = runtime()
        .block_on(run(&cfg, &RunOptions::default()))
        .unwrap();
    use CheckStatus::*;
    assert_eq!(
        outcomes(&report),
        [
            ("row_count", Fail, "1000 rows"),
            ("boom", Skipped, "skipped: row_count failed"),
            ("not_null(order_id)", Skipped, "skipped: row_count failed"),
        ]
    );
    // Failed, not error: the division by zero of a skipped check does not count.
    assert_eq!(report.status, RunStatus::Failed);
}

#[test]
fn a_failing_schema_skips_checks_needing_its_missing_columns() {
    let dir = tempfile::tempdir().unwrap();
    write_orders(dir.path());
    let cfg = config(
        dir.path(),
        r#"
datasets:
  orders:
    path: orders.csv
    checks:
      - schema: { columns: { order_id: int64, discount: float64, region: string } }
      - range: { column: discount, min: 0 }
      - not_null: { column: order_id, where: "region = 'eu'" }
      - rows_satisfy: { name: net, condition: "amount - discount >= 0" }
      - metric: { name: spend, sql: "sum(amount)", min: 0, after: net }
      - not_null: coupon
      - not_null: amount
"#,
    );
    let report = runtime()
        .block_on(run(&cfg, &RunOptions::default()))
        .unwrap();
    use CheckStatus::*;
    let got = outcomes(&report);
    assert_eq!(got[0].1, Fail);
    assert_eq!(
        &got[1..4],
        [
            (
                "range(discount)",
                Skipped,
                "skipped: schema failed: column `discount` is missing"
            ),
            // Its `where:` needs the column.
            (
                "not_null(order_id)",
                Skipped,
                "skipped: schema failed: column `region` is missing"
            ),
            (
                "net",
                Skipped,
                "skipped: schema failed: column `discount` is missing"
            ),
        ]
    );
    assert_eq!(
        got[4],
        (
            "spend",
            Skipped,
            "skipped: net was skipped (schema failed: column `discount` is missing)"
        )
    );
    // A column the schema check does not mention is still an error.
    assert_eq!(got[5].1, Error);
    assert!(
        got[5].2.starts_with("column `coupon` not found"),
        "{}",
        got[5].2
    );
    assert_eq!(got[6].1, Pass);
    assert_eq!(report.status, RunStatus::Error);
    assert_eq!(report.datasets[0].queries, 1);
}
