//! Parity against ground truth: the shared benchmark generator's `orders` and
//! `orders_target` (tests/fixtures/gen5000, with the generator's manifest) differ in known
//! ways; sluice must find exactly those differences.

mod common;

use common::{repo, sluice};
use serde_json::Value;

fn manifest() -> Value {
    common::gen5000_manifest()
}

fn run(config: &str, args: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sluice.yaml");
    let data = repo().join("tests/fixtures/gen5000");
    std::fs::write(&cfg, config.replace("DATA", &data.display().to_string())).unwrap();
    let out = sluice()
        .args(["check", "--format", "json", "--config"])
        .arg(&cfg)
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), json)
}

const CONFIG: &str = common::PARITY_CONFIG;

#[test]
fn finds_exactly_the_generated_differences() {
    let m = manifest();
    let (code, report) = run(CONFIG, &[]);
    assert_eq!(code, 1);
    let check = |name: &str| common::check_named(&report, name).clone();

    let c19 = check("C19");
    assert_eq!(c19["status"], "fail");
    assert_eq!(c19["observed"]["row_count"]["source"], m["n_rows"]);
    assert_eq!(c19["observed"]["row_count"]["target"], m["target_rows"]);
    assert_eq!(
        c19["observed"]["row_count"]["diff"],
        -m["target_dropped_rows"].as_i64().unwrap()
    );

    let c20 = check("C20");
    assert_eq!(c20["status"], "fail");
    let agg = &c20["observed"]["aggregates"][0];
    let expected = m["sum_amount_target"].as_f64().unwrap() - m["sum_amount"].as_f64().unwrap();
    assert!(
        (agg["diff"].as_f64().unwrap() - expected).abs() < 1e-6,
        "{agg} vs {expected}"
    );

    let rows = check("rows");
    let o = &rows["observed"]["rows"];
    assert_eq!(o["missing"], m["target_dropped_rows"], "{o}");
    assert_eq!(o["extra"], 0);
    assert_eq!(o["changed"], m["target_changed_amounts"], "{o}");
    assert_eq!(
        o["changed_by_column"]["amount"],
        m["target_changed_amounts"]
    );
    let others: u64 = o["changed_by_column"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "amount")
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert_eq!(others, 0, "only amounts were changed: {o}");
    assert_eq!(
        o["duplicate_keys"]["source"],
        m["duplicate_order_id_values"]
    );
    assert_eq!(
        o["duplicate_keys"]["target"],
        m["duplicate_order_id_values"]
    );
    // Every changed sample moved by exactly +10.00, as the generator did.
    let changed: Vec<&Value> = rows["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["diff"] == "changed")
        .collect();
    assert_eq!(changed.len(), 7);
    for s in changed {
        let d =
            s["amount (orders_target)"].as_f64().unwrap() - s["amount (orders)"].as_f64().unwrap();
        assert!((d - 10.0).abs() < 1e-9, "{s}");
    }
}

#[test]
fn diff_output_holds_every_differing_row_and_is_readable() {
    let m = manifest();
    let out_dir = tempfile::tempdir().unwrap();
    let (_, report) = run(
        CONFIG,
        &[
            "--diff-output",
            out_dir.path().to_str().unwrap(),
            "--dataset",
            "orders_target",
        ],
    );
    let file = out_dir.path().join("orders_target.rows.parquet");
    assert!(file.exists(), "{report}");
    let rows = common::check_named(&report, "rows");
    assert_eq!(
        rows["observed"]["rows"]["diff_file"],
        file.display().to_string()
    );
    // Read it back with sluice itself: one row per difference, both sides' values.
    let missing = m["target_dropped_rows"].as_u64().unwrap();
    let changed = m["target_changed_amounts"].as_u64().unwrap();
    let cfg = format!(
        r#"
datasets:
  diff:
    path: {}
    checks:
      - row_count: {{ equals: {} }}
      - accepted_values: {{ column: diff, values: [missing, changed] }}
      - row_count: {{ name: missing, where: "diff = 'missing'", equals: {missing} }}
      - rows_satisfy: {{ name: changed_by_10, where: "diff = 'changed'", condition: "abs(\"amount (orders_target)\" - \"amount (orders)\" - 10) < 0.000001" }}
      - rows_satisfy: {{ name: missing_have_source_values, where: "diff = 'missing'", condition: "\"amount (orders)\" IS NOT NULL AND \"amount (orders_target)\" IS NULL" }}
"#,
        file.display(),
        missing + changed
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sluice.yaml"), cfg).unwrap();
    let out = sluice()
        .args(["--color", "never", "check"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn a_memory_limit_is_accepted_by_keyed_diffs() {
    let m = manifest();
    let (_, report) = run(
        CONFIG,
        &["--memory-limit", "8M", "--dataset", "orders_target"],
    );
    let rows = common::check_named(&report, "rows");
    let o = &rows["observed"]["rows"];
    assert_eq!(o["missing"], m["target_dropped_rows"], "{rows}");
    assert_eq!(o["changed"], m["target_changed_amounts"], "{rows}");
}
