//! The `polars` feature: a polars `DataFrame` checked from Rust, its columns handed over
//! through the Arrow C Data Interface without a copy.
#![cfg(feature = "polars")]

use std::sync::Arc;

use datafusion::arrow::array::{Array, Float64Array, Int64Array};
use polars_core::df;
use polars_core::prelude::*;
use sluice_engine::{CheckStatus, RunOptions, run};
use sluice_spec::{Vars, load_str};

fn frame() -> DataFrame {
    let ids: Vec<i64> = (0..1000).collect();
    let amount: Vec<Option<f64>> = (0..1000)
        .map(|i| match i {
            7 | 8 => None,
            13 => Some(-1.0),
            _ => Some(i as f64 / 10.0),
        })
        .collect();
    let status: Vec<&str> = (0..1000)
        .map(|i| {
            if i == 99 {
                "lost"
            } else {
                ["placed", "shipped"][i % 2]
            }
        })
        .collect();
    let paid: Vec<bool> = (0..1000).map(|i| i % 3 == 0).collect();
    df!("id" => ids, "amount" => amount, "status" => status, "paid" => paid).unwrap()
}

#[test]
fn primitive_columns_are_not_copied() {
    let df = frame();
    let ids = df
        .column("id")
        .unwrap()
        .i64()
        .unwrap()
        .cont_slice()
        .unwrap()
        .as_ptr();
    let amount = df
        .column("amount")
        .unwrap()
        .f64()
        .unwrap()
        .downcast_iter()
        .next()
        .unwrap()
        .values()
        .as_ptr();
    let f = sluice_engine::polars::frame(&df, "orders").unwrap();
    assert_eq!(f.rows(), 1000);
    let b = &f.batches()[0];
    let got = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(
        got.values().as_ptr(),
        ids,
        "the id column is polars' buffer"
    );
    let got = b.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(
        got.values().as_ptr(),
        amount,
        "the amount column is polars' buffer"
    );
    assert_eq!(got.null_count(), 2);
}

#[test]
fn a_polars_frame_is_checked_like_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "datasets:\n  orders:\n    path: orders.parquet\n    checks:\n      - row_count: { min: 1 }\n      - not_null: [amount]\n      - unique: id\n      - range: { column: amount, min: 0 }\n      - accepted_values: { column: status, values: [placed, shipped] }\n      - rows_satisfy: { name: paid_is_bool, condition: \"paid OR NOT paid\" }\n";
    let path = dir.path().join("sluice.yaml");
    std::fs::write(&path, yaml).unwrap();
    let cfg = load_str(&path, yaml.to_string(), &Vars::isolated(Default::default())).unwrap();
    // Three chunks of different lengths: one batch each.
    let df = frame();
    let mut chunked = df.slice(0, 10);
    chunked.vstack_mut(&df.slice(10, 500)).unwrap();
    chunked.vstack_mut(&df.slice(510, 490)).unwrap();
    assert_eq!(chunked.first_col_n_chunks(), 3);
    let f = Arc::new(sluice_engine::polars::frame(&chunked, "orders").unwrap());
    assert_eq!(f.batches().len(), 3);
    let mut opts = RunOptions::default();
    opts.frames.insert("orders".into(), f);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let report = rt.block_on(run(&cfg, &opts)).unwrap();
    let got: Vec<(&str, CheckStatus, Option<u64>)> = report
        .checks
        .iter()
        .map(|c| (c.name.as_str(), c.status, c.failing_rows))
        .collect();
    assert_eq!(
        got,
        vec![
            ("row_count", CheckStatus::Pass, None),
            ("not_null(amount)", CheckStatus::Fail, Some(2)),
            ("unique(id)", CheckStatus::Pass, Some(0)),
            ("range(amount)", CheckStatus::Fail, Some(1)),
            ("accepted_values(status)", CheckStatus::Fail, Some(1)),
            ("paid_is_bool", CheckStatus::Pass, Some(0)),
        ]
    );
    assert_eq!(report.datasets[0].format.as_deref(), Some("frame"));
}
