//! The forecast gate example (`examples/forecast_gate/`), end to end through the binary, in
//! a scratch copy: a good forecast publishes; a bad one (a missing region-day, crossed
//! quantiles, a jump against the published forecast) is quarantined and opens the breaker;
//! impact names the planning dashboard and its owner; guard on the downstream dataset exits
//! 3; a reset with a reason and a corrected run publish again; history shows the runs.

mod common;

use std::path::{Path, PathBuf};

use common::{code, out, repo, run};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn example() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("forecast_gate");
    copy_dir(&repo().join("examples/forecast_gate"), &root);
    (dir, root)
}

fn stage(dir: &Path, file: &str) {
    let staging = dir.join("staging/forecast");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::copy(
        dir.join("forecasts").join(file),
        staging.join("forecast.csv"),
    )
    .unwrap();
}

#[test]
fn the_forecast_gate_example_runs_end_to_end() {
    let (_tmp, d) = example();
    let d = d.as_path();
    let o = run(d, &["validate"]);
    assert_eq!(code(&o), 0, "{}", out(&o));

    // Day 1: the good forecast publishes.
    stage(d, "2026-11-30.csv");
    let o = run(d, &["publish", "forecast", "--partition", "ds=2026-11-30"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("published forecast v1"), "{}", out(&o));

    // Day 2: the bad forecast is quarantined, and says why.
    stage(d, "2026-12-01-bad.csv");
    let o = run(d, &["publish", "forecast", "--partition", "ds=2026-12-01"]);
    let text = out(&o);
    assert_eq!(code(&o), 1, "{text}");
    for wanted in [
        "breaker forecast: closed → open",
        "FAIL   completeness                      1 failing of 42 required combinations of (region, ds): 1 missing",
        "west    2026-12-05  missing  0",
        "FAIL   quantiles_ordered(p10, p50, p90)  1 of 41 rows have quantiles out of order",
        "south   2026-12-03  66   48   72",
        "FAIL   change_vs_published(p50)          WAPE 107.44% vs the published version v1 over 38 keys in common",
        "FAIL   volume_change                     mean(p50) = 131.926829 against 63.333333 on 2026-11-30 (the previous passing run)",
        "not published: forecast quarantined at",
    ] {
        assert!(text.contains(wanted), "missing {wanted:?} in:\n{text}");
    }
    let quarantined: Vec<_> = std::fs::read_dir(d.join("quarantine/forecast"))
        .unwrap()
        .collect();
    assert_eq!(quarantined.len(), 1);
    let q = quarantined[0].as_ref().unwrap().path();
    assert!(q.join("report.json").is_file());
    // The published forecast is still day 1's.
    let published = std::fs::read_to_string(d.join("published/forecast/forecast.csv")).unwrap();
    assert!(published.contains("north,2026-11-30,"), "{published}");

    // Impact names the dashboard and its owner; the downstream dataset is blocked.
    let o = run(d, &["impact", "forecast"]);
    assert_eq!(code(&o), 0);
    let text = out(&o);
    assert!(
        text.contains("planning_dashboard  tier 1  depth 2  demand-planning"),
        "{text}"
    );
    let o = run(d, &["guard", "planning_extract"]);
    assert_eq!(code(&o), 3, "{}", out(&o));
    assert!(out(&o).contains("forecast (upstream)  open since"));
    assert!(out(&o).contains("owner forecasting-team"));

    // A person resets it with a reason; the corrected run publishes.
    let o = run(d, &["breaker", "reset", "forecast"]);
    assert_eq!(code(&o), 2, "a reset needs a reason");
    let o = run(
        d,
        &[
            "breaker",
            "reset",
            "forecast",
            "--reason",
            "north scaling bug fixed in model v2.3.1",
        ],
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    stage(d, "2026-12-01.csv");
    let o = run(d, &["publish", "forecast", "--partition", "ds=2026-12-01"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("published forecast v2"));
    assert_eq!(code(&run(d, &["guard", "planning_extract"])), 0);

    // History shows the three runs: the good one, the bad one, the corrected one.
    let o = run(
        d,
        &["history", "forecast", "--check", "mean(p50)", "-f", "json"],
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let points = j["metrics"][0]["points"].as_array().unwrap();
    let days: Vec<(&str, bool)> = points
        .iter()
        .map(|p| {
            (
                p["partition"].as_str().unwrap(),
                p["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("ds=2026-11-30", true),
            ("ds=2026-12-01", false),
            ("ds=2026-12-01", true)
        ]
    );
}

#[test]
fn the_example_script_runs_with_only_the_binary() {
    let (_tmp, d) = example();
    let work = d.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let o = std::process::Command::new("sh")
        .arg(d.join("run.sh"))
        .env("SLUICE", env!("CARGO_BIN_EXE_sluice"))
        .env("WORK", &work)
        .env_remove("SLUICE_NO_STATE")
        .env_remove("SLUICE_CONFIG")
        .env_remove("SLUICE_STATE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    let exits: Vec<&str> = text.lines().filter(|l| l.starts_with("[exit ")).collect();
    assert_eq!(
        exits,
        [
            "[exit 0]", "[exit 1]", "[exit 0]", "[exit 3]", "[exit 0]", "[exit 0]", "[exit 0]",
            "[exit 0]"
        ],
        "{text}"
    );
}
