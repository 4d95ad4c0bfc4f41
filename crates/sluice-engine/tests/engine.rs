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
