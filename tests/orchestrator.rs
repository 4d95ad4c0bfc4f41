//! The contract with orchestrators, on the Airflow example (`examples/airflow/`):
//! `--json-summary` makes the last line a task prints a one-line JSON summary, with nothing
//! after it on stdout or stderr — on passing, failing, quarantined, blocked and erroring
//! runs, with debug logging on — and `--blocked-exit-code N` replaces exit 3 (blocked) with
//! N for `guard` and `publish`. Airflow's BashOperator reads stdout and stderr as one
//! stream (`stderr=STDOUT`) and pushes its last line to XCom, so these tests do the same:
//! both go to one pipe. tests/airflow/run.sh runs the same DAG on a real Airflow.

mod common;

use std::path::Path;
use std::process::Command;

use common::repo;

const DAY: &str = "2026-11-30";
const BAD_DAY: &str = "2026-12-01";

/// A scratch copy of examples/airflow/ (config, data, transform; not the DAG).
fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let src = repo().join("examples/airflow");
    for f in ["sluice.yaml", "transform.awk"] {
        std::fs::copy(src.join(f), d.path().join(f)).unwrap();
    }
    for dir in ["incoming", "reference"] {
        std::fs::create_dir(d.path().join(dir)).unwrap();
        for e in std::fs::read_dir(src.join(dir)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), d.path().join(dir).join(e.file_name())).unwrap();
        }
    }
    d
}

/// What the DAG's `ingest` and `transform` tasks do for `day`.
fn ingest_and_transform(d: &Path, day: &str) {
    let landing = d.join(format!("landing/orders/ds={day}"));
    std::fs::create_dir_all(&landing).unwrap();
    std::fs::copy(
        d.join(format!("incoming/orders_{day}.csv")),
        landing.join("orders.csv"),
    )
    .unwrap();
    std::fs::create_dir_all(d.join("staging/daily_revenue")).unwrap();
    let out = Command::new("awk")
        .args(["-v", &format!("ds={day}"), "-f", "transform.awk"])
        .arg("reference/fx_rates.csv")
        .arg(landing.join("orders.csv"))
        .current_dir(d)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::write(d.join("staging/daily_revenue/part-0.csv"), out.stdout).unwrap();
}

/// `sh -c 'exec sluice "$@" 2>&1'`: the two streams in the order they were written.
fn merged(d: &Path, args: &[&str]) -> (i32, String) {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("exec \"$0\" \"$@\" 2>&1")
        .arg(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(d)
        .env_remove("SLUICE_NO_STATE")
        .env_remove("SLUICE_STATE")
        .env_remove("SLUICE_CONFIG")
        .env_remove("AIRFLOW_CTX_DAG_ID")
        .env("SLUICE_LOG", "debug")
        .env("USER", "tester");
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The last line of a task's output, which must end it and be one JSON object.
fn summary(output: &str) -> serde_json::Value {
    assert!(
        output.ends_with("}\n"),
        "the summary must end the output:\n{output}"
    );
    let last = output.lines().last().unwrap();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: the last line is `{last}`"))
}

#[test]
fn check_summary_is_last_when_passing_and_failing() {
    let p = project();
    let d = p.path();
    ingest_and_transform(d, DAY);
    let var = format!("ds={DAY}");
    let args = [
        "check",
        "--dataset",
        "orders",
        "--var",
        &var,
        "--partition",
        &var,
    ];
    let (code, out) = merged(d, &[&args[..], &["--json-summary"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("DEBUG"), "debug logs are on: {out}");
    let s = summary(&out);
    assert_eq!(s["command"], "check");
    assert_eq!(s["status"], "passed");
    assert_eq!(s["exit_code"], 0);
    assert_eq!(s["summary"]["total"], 9);
    assert!(s["run_id"].is_string());

    // A duplicated order: the checks fail, the breaker opens (a note on stderr, before).
    let landed = d.join(format!("landing/orders/ds={DAY}/orders.csv"));
    let mut csv = std::fs::read_to_string(&landed).unwrap();
    csv.push_str("10001,north,EUR,1.00\n");
    std::fs::write(&landed, csv).unwrap();
    let (code, out) = merged(d, &[&args[..], &["--json-summary"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("breaker orders: closed → open"), "{out}");
    let s = summary(&out);
    assert_eq!(s["status"], "failed");
    assert_eq!(s["exit_code"], 1);
    assert_eq!(s["summary"]["failed"], 1);
}

#[test]
fn publish_summary_is_last_when_published_quarantined_and_blocked() {
    let p = project();
    let d = p.path();
    ingest_and_transform(d, DAY);
    let var = format!("ds={DAY}");
    let publish = [
        "publish",
        "daily_revenue",
        "--var",
        &var,
        "--partition",
        &var,
        "--json-summary",
    ];
    let (code, out) = merged(d, &publish);
    assert_eq!(code, 0, "{out}");
    let s = summary(&out);
    assert_eq!(s["command"], "publish");
    assert_eq!(s["status"], "published");
    assert_eq!(s["version"], "v1");
    assert_eq!(s["run_status"], "passed");
    assert_eq!(s["exit_code"], 0);

    // The bad day: a region nets negative; quarantined, the breaker opens.
    ingest_and_transform(d, BAD_DAY);
    let bad = format!("ds={BAD_DAY}");
    let publish_bad = [
        "publish",
        "daily_revenue",
        "--var",
        &bad,
        "--partition",
        &bad,
        "--json-summary",
    ];
    let (code, out) = merged(d, &publish_bad);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL   range(revenue_eur)"), "{out}");
    let s = summary(&out);
    assert_eq!(s["status"], "quarantined");
    assert_eq!(s["exit_code"], 1);
    let at = Path::new(s["quarantine"].as_str().unwrap());
    assert!(at.join("data/part-0.csv").is_file(), "{at:?}");
    assert!(at.join("report.json").is_file(), "{at:?}");

    // The next run is blocked by its own open breaker: exit 3, or the code asked for.
    ingest_and_transform(d, BAD_DAY);
    let (code, out) = merged(d, &publish_bad);
    assert_eq!(code, 3, "{out}");
    let s = summary(&out);
    assert_eq!(s["status"], "blocked");
    assert_eq!(s["exit_code"], 3);
    assert_eq!(s["blocked_by"][0]["dataset"], "daily_revenue");
    assert_eq!(s["blocked_by"][0]["owner"], "finance-analytics");
    let (code, out) = merged(
        d,
        &[&publish_bad[..], &["--blocked-exit-code", "99"]].concat(),
    );
    assert_eq!(code, 99, "{out}");
    assert!(out.contains("daily_revenue (its own)  open since"), "{out}");
    assert_eq!(summary(&out)["exit_code"], 99);
    assert!(
        d.join("staging/daily_revenue/part-0.csv").is_file(),
        "a blocked publish leaves the staged data alone"
    );
}

#[test]
fn guard_summary_and_blocked_exit_code() {
    let p = project();
    let d = p.path();
    let var = format!("ds={DAY}");
    let guard = ["guard", "daily_revenue", "--var", &var, "--json-summary"];
    let (code, out) = merged(d, &guard);
    assert_eq!(code, 0, "{out}");
    let s = summary(&out);
    assert_eq!(s["command"], "guard");
    assert_eq!(s["status"], "may_publish");
    assert_eq!(s["blocked_by"], serde_json::json!([]));

    // The treasury's rates fail their checks: fx_rates, upstream, opens.
    let rates = d.join("reference/fx_rates.csv");
    let good = std::fs::read_to_string(&rates).unwrap();
    std::fs::write(&rates, format!("{good}JPY,-0.0061\n")).unwrap();
    let (code, out) = merged(d, &["check", "--dataset", "fx_rates", "--var", &var]);
    assert_eq!(code, 1, "{out}");
    std::fs::write(&rates, good).unwrap();

    for (extra, want) in [(&[][..], 3), (&["--blocked-exit-code", "99"][..], 99)] {
        let (code, out) = merged(d, &[&guard[..], extra].concat());
        assert_eq!(code, want, "{out}");
        assert!(
            out.contains("fx_rates (upstream)  open since") && out.contains("owner treasury"),
            "{out}"
        );
        let s = summary(&out);
        assert_eq!(s["status"], "blocked");
        assert_eq!(s["exit_code"], want);
        assert_eq!(s["blocked_by"][0]["dataset"], "fx_rates");
        assert_eq!(s["blocked_by"][0]["owner"], "treasury");
    }

    // Codes that already mean something else are refused (exit 2, nothing run).
    let (code, out) = merged(d, &[&guard[..], &["--blocked-exit-code", "0"]].concat());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("0 would make a blocked dataset look published"),
        "{out}"
    );
}

#[test]
fn an_error_ends_with_a_summary_too() {
    let p = project();
    let d = p.path();
    let var = format!("ds={DAY}");
    // Nothing staged: exit 4, the error on stderr, then the summary.
    let (code, out) = merged(
        d,
        &["publish", "daily_revenue", "--var", &var, "--json-summary"],
    );
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("error: nothing staged for `daily_revenue`"),
        "{out}"
    );
    let s = summary(&out);
    assert_eq!(s["command"], "publish");
    assert_eq!(s["status"], "error");
    assert_eq!(s["exit_code"], 4);
    assert!(s["error"].as_str().unwrap().starts_with("nothing staged"));

    // A config error (no value for ${ds}): exit 2.
    let (code, out) = merged(d, &["check", "--dataset", "orders", "--json-summary"]);
    assert_eq!(code, 2, "{out}");
    let s = summary(&out);
    assert_eq!(s["command"], "check");
    assert_eq!(s["status"], "error");
    assert_eq!(s["exit_code"], 2);
}
