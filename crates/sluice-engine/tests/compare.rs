//! The comparison checks through the engine's API, with known answers: `distribution`
//! against scipy.stats, `within_history`, `change_vs_published` and `forecast_accuracy`
//! against numbers worked out by hand.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sluice_engine::{CheckResult, CheckStatus, Published, RunOptions, run};
use sluice_spec::{Vars, load_str};

fn config(dir: &Path, yaml: &str) -> sluice_spec::Config {
    let path = dir.join("sluice.yaml");
    std::fs::write(&path, yaml).unwrap();
    load_str(&path, yaml.to_string(), &Vars::isolated(Default::default())).unwrap()
}

fn check_all(cfg: &sluice_spec::Config, opts: RunOptions) -> Vec<CheckResult> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(cfg, &opts)).unwrap().checks
}

fn by_dataset<'a>(checks: &'a [CheckResult], dataset: &str) -> &'a CheckResult {
    checks
        .iter()
        .find(|c| c.dataset == dataset)
        .unwrap_or_else(|| panic!("no check on {dataset}"))
}

fn num(c: &CheckResult, key: &str) -> f64 {
    c.observed
        .get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no {key} in {}", c.observed))
}

/// `|got − want| <= tol × |want|`.
fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol * want.abs(),
        "{what}: sluice {got}, scipy {want} (relative tolerance {tol})"
    );
}

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/distribution")
}

/// Identical distributions pass, shifted ones fail; the statistics equal scipy's.
///
/// The expected numbers are printed by `tests/data/distribution/expected.py` (scipy
/// 1.17, numpy 2.4) on the CSV files beside it: `ks_2samp` (D), `kstwobign.sf` (the
/// asymptotic p-value), PSI on the reference's deciles, `chi2_contingency(correction=False)`.
/// Tolerances: 1e-12 relative for D, PSI and chi²; 1e-9 for the p-values (series and
/// continued fractions summed to double precision).
#[test]
fn distribution_matches_scipy() {
    let dir = tempfile::tempdir().unwrap();
    let d = data();
    let ds = |name: &str, file: &str, check: &str| {
        format!(
            "  {name}:\n    path: {}\n    checks:\n      - {check}\n",
            d.join(file).display()
        )
    };
    let numeric = "distribution: { column: p50, reference: reference, reference_column: units, min_ks_p: 0.05, max_psi: 0.1 }";
    let categorical = "distribution: { column: region, reference: reference_regions, min_chi2_p: 0.05, max_psi: 0.1 }";
    let yaml = format!(
        "datasets:\n  reference:\n    path: {}\n  reference_regions:\n    path: {}\n{}{}{}{}",
        d.join("reference.csv").display(),
        d.join("reference_regions.csv").display(),
        ds("same", "same.csv", numeric),
        ds("shifted", "shifted.csv", numeric),
        ds("same_regions", "same_regions.csv", categorical),
        ds("shifted_regions", "shifted_regions.csv", categorical),
    );
    let checks = check_all(&config(dir.path(), &yaml), RunOptions::default());

    let same = by_dataset(&checks, "same");
    assert_eq!(same.status, CheckStatus::Pass, "{}", same.message);
    close(num(same, "ks_d"), 0.04250000000000004, 1e-12, "same: KS D");
    close(num(same, "ks_p"), 0.09041240440170761, 1e-9, "same: KS p");
    close(num(same, "psi"), 0.019260746024216315, 1e-12, "same: PSI");
    assert_eq!(num(same, "values"), 1500.0);
    assert_eq!(num(same, "reference_values"), 2000.0);
    assert_eq!(same.observed["quantiles"], "exact");
    assert_eq!(same.observed["bins"].as_array().unwrap().len(), 10);

    let shifted = by_dataset(&checks, "shifted");
    assert_eq!(shifted.status, CheckStatus::Fail, "{}", shifted.message);
    close(
        num(shifted, "ks_d"),
        0.14950000000000008,
        1e-12,
        "shifted: KS D",
    );
    close(
        num(shifted, "ks_p"),
        4.583117648116416e-17,
        1e-9,
        "shifted: KS p",
    );
    close(
        num(shifted, "psi"),
        0.13013151660542704,
        1e-12,
        "shifted: PSI",
    );
    assert!(
        shifted.message.starts_with("KS D = 0.1495"),
        "{}",
        shifted.message
    );
    assert!(
        shifted.message.ends_with("vs reference.units"),
        "{}",
        shifted.message
    );
    // The samples are the bins that weigh most in the PSI, heaviest first.
    let terms: Vec<f64> = shifted
        .samples
        .iter()
        .map(|s| s["psi"].as_f64().unwrap())
        .collect();
    assert_eq!(terms.len(), 5);
    assert!(terms.windows(2).all(|w| w[0] >= w[1]), "{terms:?}");

    let same_c = by_dataset(&checks, "same_regions");
    assert_eq!(same_c.status, CheckStatus::Pass, "{}", same_c.message);
    close(num(same_c, "psi"), 0.004272655522011287, 1e-12, "same: PSI");
    close(num(same_c, "chi2"), 5.10815253068262, 1e-12, "same: chi2");
    close(
        num(same_c, "chi2_p"),
        0.1640468385793359,
        1e-9,
        "same: chi2 p",
    );
    assert_eq!(same_c.observed["chi2_dof"], 3);
    assert_eq!(same_c.observed["type"], "categorical");

    let shifted_c = by_dataset(&checks, "shifted_regions");
    assert_eq!(shifted_c.status, CheckStatus::Fail, "{}", shifted_c.message);
    close(
        num(shifted_c, "psi"),
        0.11050268688501884,
        1e-12,
        "shifted: PSI",
    );
    close(
        num(shifted_c, "chi2"),
        134.93542189229643,
        1e-12,
        "shifted: chi2",
    );
    close(
        num(shifted_c, "chi2_p"),
        4.670162314422806e-29,
        1e-9,
        "shifted: chi2 p",
    );
}

/// A limit the column's type has no statistic for, and an unknown column, are the
/// check's errors, naming what to use instead and the columns that exist.
#[test]
fn distribution_errors_name_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = data();
    let yaml = format!(
        r#"
datasets:
  reference: {{ path: {r} }}
  same:
    path: {s}
    checks:
      - distribution: {{ column: p50, reference: reference, reference_column: units, min_chi2_p: 0.05 }}
      - distribution: {{ name: typo, column: p50, reference: reference, reference_column: unit }}
"#,
        r = d.join("reference.csv").display(),
        s = d.join("same.csv").display()
    );
    let checks = check_all(&config(dir.path(), &yaml), RunOptions::default());
    assert_eq!(checks[0].status, CheckStatus::Error);
    assert_eq!(
        checks[0].message,
        "`min_chi2_p` does not apply to `p50`, which is compared as numeric (float64); use `min_ks_p` or `max_psi`, or `categorical: true`"
    );
    assert_eq!(checks[1].status, CheckStatus::Error);
    assert_eq!(
        checks[1].message,
        "column `unit` not found in `reference`; did you mean `units`? Its columns: units (float64)"
    );
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// factor 2: A (history 100..200) allows [50, 400]; B (0..50) allows [0, 100]; C
/// (−10..20) allows [−20, 40]; D has no history.
#[test]
fn within_history_bands_and_series_without_history() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hist.csv",
        "region,units\nA,100\nA,150\nA,200\nB,0\nB,50\nC,-10\nC,20\n",
    );
    write(
        dir.path(),
        "fc.csv",
        "region,ds,p50\nA,1,50\nA,2,401\nA,3,300\nB,1,-1\nB,2,100\nC,1,-25\nC,2,40\nD,1,999\n",
    );
    let cfg = config(
        dir.path(),
        r#"
datasets:
  hist: { path: hist.csv }
  fc:
    path: fc.csv
    key: [region, ds]
    checks:
      - within_history: { actuals: hist, series: [region], column: p50, actual_column: units, factor: 2 }
      - within_history: { name: quantiles, actuals: hist, series: [region], column: p50, actual_column: units, factor: 1, q_low: 0.5, q_high: 0.5, max_invalid: 7 }
"#,
    );
    let checks = check_all(&cfg, RunOptions::default());
    let c = &checks[0];
    assert_eq!(c.status, CheckStatus::Fail);
    assert_eq!(c.failing_rows, Some(3));
    assert_eq!(
        c.message,
        "3 of 8 rows have p50 outside 2 × the historical range of hist.units per region, in 3 series; 1 rows in 1 series without history not judged"
    );
    assert_eq!(c.observed["rows_without_history"], 1);
    assert_eq!(c.observed["series_out_count"], 3);
    let samples: Vec<(String, f64)> = c
        .samples
        .iter()
        .map(|s| {
            (
                s["region"].as_str().unwrap().to_string(),
                s["p50"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        samples,
        [("A".into(), 401.0), ("B".into(), -1.0), ("C".into(), -25.0)]
    );
    assert_eq!(c.samples[0]["allowed_high"], json!(400.0));
    assert_eq!(c.samples[1]["allowed_low"], json!(0.0));
    assert_eq!(c.samples[2]["allowed_low"], json!(-20.0));
    // Medians × 1: A allows exactly 150, B 25, C 5: all 7 rows with history are out.
    let q = &checks[1];
    assert_eq!(q.failing_rows, Some(7));
    assert_eq!(q.status, CheckStatus::Pass, "max_invalid: 7");
}

/// Worked by hand, season 2:
///
/// - A: history 10 12 14 11 13 15 → |14−10| |11−12| |13−14| |15−11| → scale 2.5.
///   Forecast 14 [12, 18] vs 16 (error 2, covered), 15 [13, 17] vs 12 (error 3, not).
/// - B: history 20 20 22 22 24 24 → scale 2. Forecast 25 [20, 30] vs 26 (error 1,
///   covered), 30 [26, 34] vs 25 (error 5, not).
/// - C: history 5 5 (no value 2 rows back: no scale). Forecast 5 [4, 8] vs 6 (error 1,
///   covered).
/// - A, day 9: no actual yet, not evaluated.
///
/// Coverage 3/5 = 60 %; WAPE (2+3+1+5+1)/(16+12+26+25+6) = 12/85 = 14.1176 %;
/// MASE (2/2.5 + 3/2.5 + 1/2 + 5/2)/4 = 1.25 (C left out).
#[test]
fn forecast_accuracy_worked_example() {
    let dir = tempfile::tempdir().unwrap();
    let mut sales = String::from("region,ds,units\n");
    for (i, v) in [10, 12, 14, 11, 13, 15, 16, 12].iter().enumerate() {
        sales.push_str(&format!("A,{},{v}\n", i + 1));
    }
    for (i, v) in [20, 20, 22, 22, 24, 24, 26, 25].iter().enumerate() {
        sales.push_str(&format!("B,{},{v}\n", i + 1));
    }
    sales.push_str("C,5,5\nC,6,5\nC,7,6\n");
    write(dir.path(), "sales.csv", &sales);
    write(
        dir.path(),
        "fc.csv",
        "region,ds,p10,p50,p90\nA,7,12,14,18\nA,8,13,15,17\nA,9,10,14,20\nB,7,20,25,30\nB,8,26,30,34\nC,7,4,5,8\n",
    );
    let yaml = r#"
datasets:
  sales: { path: sales.csv }
  fc:
    path: fc.csv
    checks:
      - forecast_accuracy: { actuals: sales, keys: [region, ds], point: p50, actual_column: units,
                             lower: p10, upper: p90, min_coverage_pct: 70, max_mase: 1.5, season: 2, max_wape_pct: 20 }
      - forecast_accuracy: { name: passing, actuals: sales, keys: [region, ds], point: p50, actual_column: units,
                             lower: p10, upper: p90, min_coverage_pct: 60, max_mase: 1.25, season: 2 }
"#;
    let checks = check_all(&config(dir.path(), yaml), RunOptions::default());
    let c = &checks[0];
    assert_eq!(c.status, CheckStatus::Fail, "{}", c.message);
    assert_eq!(num(c, "rows_evaluated"), 5.0);
    assert_eq!(num(c, "forecast_rows"), 6.0);
    close(num(c, "coverage_pct"), 60.0, 1e-12, "coverage");
    close(num(c, "wape_pct"), 1200.0 / 85.0, 1e-12, "WAPE");
    close(num(c, "mase"), 1.25, 1e-12, "MASE");
    assert_eq!(c.observed["series_without_scale"], 1);
    assert_eq!(c.observed["worst_series"][0]["region"], "B");
    close(
        c.observed["worst_series"][0]["mase"].as_f64().unwrap(),
        1.5,
        1e-12,
        "B's MASE",
    );
    assert_eq!(
        c.message,
        "WAPE 14.12%, coverage 60% (3 of 5 actuals within [p10, p90]), MASE 1.25 (season 2) over 5 of 6 forecast rows with actuals in sales; 1 series without a MASE scale left out of MASE"
    );
    assert_eq!(
        c.threshold.as_deref(),
        Some("min_coverage_pct = 70, max_mase = 1.5, max_wape_pct = 20")
    );
    // The largest errors first.
    assert_eq!(c.samples[0]["abs_error"], json!(5.0));
    assert_eq!(checks[1].status, CheckStatus::Pass, "{}", checks[1].message);
}

/// Before any actual arrives the check passes, saying so.
#[test]
fn forecast_accuracy_without_actuals_passes_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sales.csv", "region,ds,units\nA,1,10\n");
    write(dir.path(), "fc.csv", "region,ds,p50\nA,2,11\n");
    let yaml = r#"
datasets:
  sales: { path: sales.csv }
  fc:
    path: fc.csv
    checks:
      - forecast_accuracy: { actuals: sales, keys: [region, ds], point: p50, actual_column: units, max_mase: 1 }
"#;
    let c = &check_all(&config(dir.path(), yaml), RunOptions::default())[0];
    assert_eq!(c.status, CheckStatus::Pass);
    assert_eq!(
        c.message,
        "no actuals in sales yet for any of the 1 forecast rows: nothing to evaluate"
    );
}

/// Overlapping keys A1, A2, B1, B2: |Δ| = 10, 50, 0, 5 over |old| = 100, 200, 50, 0:
/// WAPE 65/350 = 18.571 %; changes 10 %, 25 %, 0 %, from 0.
#[test]
fn change_vs_published_on_overlapping_keys() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "old.csv",
        "region,ds,p50\nA,1,100\nA,2,200\nB,1,50\nB,2,0\nC,1,10\n",
    );
    write(
        dir.path(),
        "new.csv",
        "region,ds,p50\nA,1,110\nA,2,150\nB,1,50\nB,2,5\nD,1,7\n",
    );
    let yaml = r#"
datasets:
  fc:
    path: new.csv
    staging: staged/
    checks:
      - change_vs_published: { keys: [region, ds], column: p50, max_wape_pct: 20, max_change_pct: 20 }
      - change_vs_published: { name: loose, keys: [region, ds], column: p50, max_wape_pct: 20 }
"#;
    let cfg = config(dir.path(), yaml);
    // Nothing published: a note.
    let checks = check_all(&cfg, RunOptions::default());
    assert_eq!(checks[0].status, CheckStatus::Pass);
    assert_eq!(
        checks[0].message,
        "no earlier published version of `fc` to compare with"
    );
    let published = HashMap::from([(
        "fc".to_string(),
        Published {
            location: dir.path().join("old.csv"),
            label: "the published version v1".into(),
        },
    )]);
    let checks = check_all(
        &cfg,
        RunOptions {
            published,
            ..RunOptions::default()
        },
    );
    let c = &checks[0];
    assert_eq!(c.status, CheckStatus::Fail, "{}", c.message);
    close(num(c, "wape_pct"), 6500.0 / 350.0, 1e-12, "WAPE");
    assert_eq!(
        c.observed["max_change_pct"],
        Value::Null,
        "from 0: infinite"
    );
    assert_eq!(c.observed["changed_from_zero"], 1);
    assert_eq!(c.observed["keys_compared"], 4);
    assert_eq!(c.observed["only_new"], 1);
    assert_eq!(c.observed["only_published"], 1);
    assert_eq!(c.failing_rows, Some(2));
    assert_eq!(
        c.message,
        "WAPE 18.57% vs the published version v1 over 4 keys in common; largest change from 0 at region=B ds=2; 2 keys changed by more than 20%"
    );
    let changes: Vec<Value> = c.samples.iter().map(|s| s["change_pct"].clone()).collect();
    assert_eq!(changes, [Value::Null, json!(25.0), json!(10.0), json!(0.0)]);
    assert_eq!(checks[1].status, CheckStatus::Pass, "{}", checks[1].message);
}
