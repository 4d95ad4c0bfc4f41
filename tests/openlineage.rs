//! End-to-end tests of the OpenLineage events `sluice check` and `sluice publish` emit:
//! every event is validated against the OpenLineage JSON Schemas (the core schema and
//! each facet's, read from `../shared/fixtures/openlineage/`); events go to a file and to an
//! HTTP receiver on loopback; an endpoint that is down only warns; and sluice's own
//! OpenLineage importer reads back what sluice emitted.

mod common;
#[path = "common/openlineage.rs"]
mod ol;

use std::path::Path;
use std::process::Command;

use common::receiver::Receiver;
use common::{code, out, repo, run_env, sluice, stderr, stdout};
use serde_json::Value;

const CONFIG: &str = r#"version: 1
datasets:
  orders_raw:
    path: raw/orders.csv
    owner: ingest-team
    checks:
      - row_count: { min: 1 }
  orders_clean:
    path: clean/orders.csv
    owner: data-eng
    description: Cleaned orders, one row per order.
    checks:
      - not_null: [order_id, amount]
      - range: { column: amount, min: 0 }
      - accepted_values: { column: status, values: [placed, shipped], severity: warn }
    parity:
      - against: orders_raw
        row_count: { tolerance_pct: 0 }
  forecast:
    path: published/forecast/
    staging: staging/forecast/
    owner: fpa
    breaker: { reset: manual }
    checks:
      - range: { column: revenue, min: 0 }
stages:
  clean_orders:
    inputs: [orders_raw]
    outputs: [orders_clean]
    owner: data-eng
"#;

const PARENT_RUN: &str = "01932f4e-9a1b-7c3d-8e4f-0123456789ab";
const ROOT_RUN: &str = "01932f4e-0000-7000-8000-0000000000aa";

fn project(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sluice.yaml"), format!("{CONFIG}{extra}")).unwrap();
    for (file, csv) in [
        (
            "raw/orders.csv",
            "order_id,amount,status\n1,10.5,placed\n2,20,shipped\n3,7.25,placed\n",
        ),
        (
            "clean/orders.csv",
            "order_id,amount,status\n1,10.5,placed\n2,20,shipped\n3,7.25,placed\n",
        ),
    ] {
        std::fs::create_dir_all(d.join(file).parent().unwrap()).unwrap();
        std::fs::write(d.join(file), csv).unwrap();
    }
    stage(d, "day,revenue\n1,10\n2,12\n");
    dir
}

fn stage(d: &Path, csv: &str) {
    std::fs::create_dir_all(d.join("staging/forecast")).unwrap();
    std::fs::write(d.join("staging/forecast/part-0.csv"), csv).unwrap();
}

/// The absolute path OpenLineage names a file by.
fn abs(d: &Path, rel: &str) -> String {
    d.canonicalize()
        .unwrap()
        .join(rel)
        .display()
        .to_string()
        .trim_end_matches('/')
        .to_string()
}

fn input<'a>(event: &'a Value, name: &str) -> &'a Value {
    event["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no input {name} in {event:#}"))
}

fn assertion<'a>(dataset: &'a Value, name: &str) -> &'a Value {
    dataset["inputFacets"]["dataQualityAssertions"]["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no assertion {name} in {dataset:#}"))
}

#[test]
fn a_stage_check_posts_start_then_complete_nested_under_the_airflow_task() {
    let p = project("");
    let d = p.path();
    let receiver = Receiver::start(&[200]);
    let parent = format!("airflow-prod/orders_dag.check_clean/{PARENT_RUN}");
    let root = format!("airflow-prod/orders_dag/{ROOT_RUN}");
    let o = run_env(
        d,
        &["check", "--stage", "clean_orders", "--format", "json"],
        &[
            ("OPENLINEAGE_URL", receiver.url.as_str()),
            ("OPENLINEAGE_API_KEY", "s3cret"),
            ("OPENLINEAGE_PARENT_ID", parent.as_str()),
            ("OPENLINEAGE_ROOT_PARENT_ID", root.as_str()),
        ],
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let got = receiver.received();
    assert_eq!(got.len(), 2, "{got:?}");
    for r in &got {
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.path, "/api/v1/lineage",
            "the Python client's default endpoint"
        );
        assert_eq!(r.header("authorization"), Some("Bearer s3cret"));
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let (start, end) = (got[0].json(), got[1].json());
    assert!(
        ol::validate(&[start.clone(), end.clone()]) >= 15,
        "facets validated"
    );
    for e in [&start, &end] {
        // sluice's run id is the OpenLineage run id: a UUID v7.
        assert_eq!(e["run"]["runId"], report["run_id"]);
        assert_eq!(&e["run"]["runId"].as_str().unwrap()[14..15], "7");
        // Nested under the Airflow task, in its namespace.
        let parent = &e["run"]["facets"]["parent"];
        assert_eq!(parent["run"]["runId"], PARENT_RUN);
        assert_eq!(parent["job"]["namespace"], "airflow-prod");
        assert_eq!(parent["job"]["name"], "orders_dag.check_clean");
        assert_eq!(parent["root"]["run"]["runId"], ROOT_RUN);
        assert_eq!(parent["root"]["job"]["name"], "orders_dag");
        assert_eq!(e["job"]["namespace"], "airflow-prod");
        assert_eq!(e["job"]["name"], "clean_orders");
        assert_eq!(e["job"]["facets"]["jobType"]["jobType"], "CHECK");
        assert_eq!(
            e["job"]["facets"]["ownership"]["owners"][0]["name"],
            "data-eng"
        );
    }
    assert_eq!(start["eventType"], "START");
    assert_eq!(end["eventType"], "COMPLETE");
    // It reads the stage's output (checked) and its input (the parity compares with it).
    let clean = input(&end, &abs(d, "clean/orders.csv"));
    let raw = input(&end, &abs(d, "raw/orders.csv"));
    assert_eq!(clean["namespace"], "file");
    assert_eq!(
        clean["facets"]["symlinks"]["identifiers"][0]["name"],
        "orders_clean"
    );
    let fields: Vec<(&str, &str)> = clean["facets"]["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("order_id", "int64"),
            ("amount", "float64"),
            ("status", "string")
        ]
    );
    let m = &clean["inputFacets"]["dataQualityMetrics"];
    assert_eq!(m["rowCount"], 3);
    assert_eq!(m["fileCount"], 1);
    assert_eq!(m["columnMetrics"]["amount"]["nullCount"], 0);
    assert_eq!(m["columnMetrics"]["amount"]["count"], 3);
    assert_eq!(m["columnMetrics"]["amount"]["min"], 7.25);
    assert_eq!(m["columnMetrics"]["amount"]["max"], 20.0);
    // One assertion per check of the dataset, parity included.
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["dataset"] == "orders_clean")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let asserted: Vec<&str> = clean["inputFacets"]["dataQualityAssertions"]["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(asserted, names);
    assert!(names.contains(&"parity(orders_raw)"), "{names:?}");
    let a = assertion(clean, "not_null(amount)");
    assert_eq!(a["assertion"], "not_null");
    assert_eq!(a["success"], true);
    assert_eq!(a["column"], "amount");
    assert_eq!(a["severity"], "error");
    assert_eq!(a["expected"], "max_invalid = 0");
    assert_eq!(a["actual"], "0");
    assert_eq!(
        assertion(clean, "accepted_values(status)")["severity"],
        "warn"
    );
    // The START names what will be read; nothing is measured yet.
    assert!(
        input(&start, &abs(d, "clean/orders.csv"))
            .get("inputFacets")
            .is_none()
    );
    assert!(raw["inputFacets"].get("dataQualityAssertions").is_none());
    assert_eq!(end["outputs"], Value::Array(vec![]));
}

#[test]
fn failed_checks_end_in_fail_with_the_failures_and_every_assertion() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("events.ndjson");
    let config = repo().join("examples/orders/sluice.yaml");
    let o = sluice()
        .args(["check", "--format", "json", "--config"])
        .arg(&config)
        .arg("--openlineage-file")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let events = ol::events(&file);
    assert_eq!(events.len(), 2);
    ol::validate(&events);
    for e in &events {
        assert_eq!(e["run"]["runId"], report["run_id"]);
        assert_eq!(e["job"]["namespace"], "sluice", "the default namespace");
        assert_eq!(e["job"]["name"], "check", "several datasets");
        assert!(e["run"]["facets"].get("parent").is_none());
    }
    let end = &events[1];
    assert_eq!(end["eventType"], "FAIL");
    let message = end["run"]["facets"]["errorMessage"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("orders: not_null(customer_id)"),
        "{message}"
    );
    // Every check that ran is an assertion, on its dataset, with what it found.
    let orders_path = config
        .parent()
        .unwrap()
        .join("data/orders.parquet")
        .display()
        .to_string();
    let orders = input(end, &orders_path);
    for c in report["checks"].as_array().unwrap() {
        if c["status"] == "skipped" || c["dataset"] != "orders" {
            continue;
        }
        let a = assertion(orders, c["name"].as_str().unwrap());
        assert_eq!(a["success"], c["status"] == "pass", "{a}");
        assert_eq!(a["params"]["status"], c["status"]);
        assert_eq!(a["severity"], c["severity"]);
    }
    let nulls = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["dataset"] == "orders" && c["name"] == "not_null(customer_id)")
        .unwrap();
    let a = assertion(orders, "not_null(customer_id)");
    assert_eq!(a["success"], false);
    assert_eq!(a["actual"], nulls["observed"].to_string());
    assert_eq!(a["expected"], nulls["threshold"]);
    let m = &orders["inputFacets"]["dataQualityMetrics"];
    assert_eq!(
        m["columnMetrics"]["customer_id"]["nullCount"],
        nulls["observed"]
    );
    let rows = report["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "orders")
        .unwrap()["rows_scanned"]
        .clone();
    assert_eq!(m["rowCount"], rows);
    let freshness = assertion(orders, "freshness(created_at)");
    assert_eq!(
        (freshness["success"].clone(), freshness["severity"].clone()),
        (false.into(), "warn".into())
    );
}

#[test]
fn every_example_emits_events_that_follow_the_schemas() {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for example in ["orders", "reconcile", "lineage", "forecast_gate"] {
        let file = tmp.path().join(format!("{example}.ndjson"));
        let o = sluice()
            .args(["check", "-q", "--config"])
            .arg(repo().join(format!("examples/{example}/sluice.yaml")))
            .arg("--openlineage-file")
            .arg(&file)
            .output()
            .unwrap();
        let events = ol::events(&file);
        assert_eq!(events.len(), 2, "{example}: {}", out(&o));
        assert_eq!(events[0]["eventType"], "START");
        let expected = if code(&o) == 0 { "COMPLETE" } else { "FAIL" };
        assert_eq!(events[1]["eventType"], expected, "{example}");
        all.extend(events);
    }
    let facets = ol::validate(&all);
    assert!(facets > 40, "{facets} facets validated");
}

#[test]
fn an_endpoint_that_is_down_warns_and_changes_nothing_else() {
    let p = project("");
    let d = p.path();
    // A dataset that fails its checks: exit 1 with or without OpenLineage.
    std::fs::write(
        d.join("clean/orders.csv"),
        "order_id,amount,status\n1,-5,placed\n",
    )
    .unwrap();
    let args = ["check", "--stage", "clean_orders", "--json-summary"];
    let baseline = run_env(d, &args, &[]);
    assert_eq!(code(&baseline), 1, "{}", out(&baseline));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    // Both streams in one, as Airflow's log shows them: the warnings come before the
    // summary, which stays the last line.
    let o = Command::new("sh")
        .args(["-c", "exec \"$0\" --color never \"$@\" 2>&1"])
        .arg(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .args(["--openlineage-file", "events.ndjson"])
        .current_dir(d)
        .env("OPENLINEAGE_URL", &url)
        .env("SLUICE_NO_STATE", "1")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", out(&o));
    let text = stdout(&o);
    for event in ["START", "FAIL"] {
        assert!(
            text.contains(&format!("OpenLineage {event} event of run"))
                && text.contains("not delivered to http://127.0.0.1:"),
            "{text}"
        );
    }
    assert!(text.contains("WARN"), "{text}");
    let last = text.lines().last().unwrap();
    let summary: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(summary["exit_code"], 1);
    // The file still got both events.
    assert_eq!(ol::events(&d.join("events.ndjson")).len(), 2);

    // A backend that answers 500 is retried, then warned about.
    let receiver = Receiver::start(&[500]);
    let o = run_env(d, &args, &[("OPENLINEAGE_URL", receiver.url.as_str())]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("answered 500 after 3 attempt(s)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        receiver.received().len(),
        6,
        "3 attempts for each of 2 events"
    );
    let last: Value = serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
    assert_eq!(last["command"], "check");
    assert!(last["run_id"].is_string(), "{last}");
}

#[test]
fn publish_reads_the_staged_data_and_writes_the_published_dataset() {
    let p = project("openlineage: { file: lineage/events.ndjson, namespace: analytics }\n");
    let d = p.path();
    let o = run_env(d, &["publish", "forecast"], &[]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    let events = ol::events(&d.join("lineage/events.ndjson"));
    assert_eq!(events.len(), 2);
    for e in &events {
        assert_eq!(e["job"]["namespace"], "analytics");
        assert_eq!(e["job"]["name"], "forecast.publish");
        assert_eq!(e["job"]["facets"]["jobType"]["jobType"], "PUBLISH");
        assert_eq!(e["run"]["runId"], events[0]["run"]["runId"]);
    }
    let end = &events[1];
    assert_eq!(end["eventType"], "COMPLETE");
    let staged = input(end, &abs(d, "staging/forecast"));
    assert!(
        staged["facets"].get("symlinks").is_none(),
        "staging is not the dataset"
    );
    assert_eq!(staged["inputFacets"]["dataQualityMetrics"]["rowCount"], 2);
    assert_eq!(assertion(staged, "range(revenue)")["success"], true);
    let published = &end["outputs"][0];
    assert_eq!(published["name"], abs(d, "published/forecast"));
    assert_eq!(
        published["facets"]["symlinks"]["identifiers"][0]["name"],
        "forecast"
    );
    assert_eq!(published["outputFacets"]["outputStatistics"]["rowCount"], 2);
    assert_eq!(
        published["facets"]["schema"]["fields"][1]["name"],
        "revenue"
    );

    // Bad data: quarantined, FAIL, nothing written.
    stage(d, "day,revenue\n1,-3\n");
    let o = run_env(d, &["publish", "forecast"], &[]);
    assert_eq!(code(&o), 1, "{}", out(&o));
    // The breaker is open (reset: manual): the next publish is blocked before it runs.
    stage(d, "day,revenue\n1,3\n");
    let o = run_env(d, &["publish", "forecast"], &[]);
    assert_eq!(code(&o), 3, "{}", out(&o));
    // A rollback is not a run: no events (whatever it answers: here, nothing to roll
    // back to).
    run_env(d, &["publish", "forecast", "--rollback"], &[]);

    let events = ol::events(&d.join("lineage/events.ndjson"));
    assert_eq!(events.len(), 6, "two runs more, two events each");
    ol::validate(&events);
    let (failed, blocked) = (&events[3], &events[5]);
    assert_eq!(events[2]["eventType"], "START");
    assert_eq!(failed["eventType"], "FAIL");
    assert_eq!(failed["outputs"], Value::Array(vec![]));
    assert!(
        failed["run"]["facets"]["errorMessage"]["message"]
            .as_str()
            .unwrap()
            .contains("forecast: range(revenue)")
    );
    assert_eq!(
        assertion(input(failed, &abs(d, "staging/forecast")), "range(revenue)")["success"],
        false
    );
    assert_eq!(blocked["eventType"], "FAIL");
    let why = blocked["run"]["facets"]["errorMessage"]["message"]
        .as_str()
        .unwrap();
    assert!(
        why.contains("blocked") && why.contains("forecast (owner fpa)"),
        "{why}"
    );
    let ids: std::collections::HashSet<&str> = events
        .iter()
        .map(|e| e["run"]["runId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "one run id per run");
}

#[test]
fn sluices_own_importer_reads_back_what_sluice_emitted() {
    let p = project("");
    let d = p.path();
    let file = d.join("events.ndjson");
    let flag = ["--openlineage-file", file.to_str().unwrap()];
    let o = run_env(
        d,
        &[&["check", "--stage", "clean_orders"][..], &flag].concat(),
        &[],
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    let o = run_env(d, &[&["publish", "forecast"][..], &flag].concat(), &[]);
    assert_eq!(code(&o), 0, "{}", out(&o));

    ol::validate(&ol::events(&file));
    let graph = sluice_app::lineage::load(&sluice_app::lineage::GraphSources {
        config: None,
        dbt_manifests: vec![],
        openlineage: vec![file.clone()],
        allow_partial: false,
        read_columns: false,
    })
    .unwrap();
    let l = &graph.lineage;
    let node = |id: &str| {
        let ix = l.by_id(id).unwrap_or_else(|| panic!("no node {id}"));
        l.node(ix)
    };
    let check = node("job:sluice/clean_orders");
    assert_eq!(check.owner.as_deref(), Some("data-eng"));
    let publish = node("job:sluice/forecast.publish");
    assert_eq!(publish.owner.as_deref(), Some("fpa"));
    let clean = node(&format!("ol:file/{}", abs(d, "clean/orders.csv")));
    assert_eq!(clean.owner.as_deref(), Some("data-eng"));
    // The datasets answer to their sluice names too (the symlinks facet).
    assert_eq!(l.find("orders_clean").unwrap(), l.by_id(&clean.id).unwrap());
    let impact = |name: &str| -> Vec<String> {
        let imp = sluice_app::lineage::impact(
            &graph,
            &sluice_app::lineage::ImpactRequest {
                node: name.to_string(),
                upstream: false,
                depth: None,
                include_tests: false,
                column: None,
            },
        )
        .unwrap();
        imp.hits.iter().map(|h| l.node(h.node).id.clone()).collect()
    };
    assert_eq!(impact("orders_raw"), ["job:sluice/clean_orders"]);
    let staged = format!("ol:file/{}", abs(d, "staging/forecast"));
    let downstream = impact(&staged);
    assert!(
        downstream.contains(&"job:sluice/forecast.publish".to_string()),
        "{downstream:?}"
    );
    assert!(
        downstream.contains(&format!("ol:file/{}", abs(d, "published/forecast"))),
        "{downstream:?}"
    );
    // And through the CLI, as a user would: `sluice impact --openlineage`.
    let o = sluice()
        .args(["impact", "forecast", "--upstream", "--openlineage"])
        .arg(&file)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(stdout(&o).contains("forecast.publish"), "{}", stdout(&o));
}

#[test]
fn bad_openlineage_settings_are_usage_errors_and_nothing_runs() {
    let p = project("openlineage: { url: ftp://lineage.example, namespce: x }\n");
    let d = p.path();
    let o = run_env(d, &["check"], &[]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    let e = stderr(&o);
    let line = CONFIG.lines().count() + 1;
    assert!(e.contains(&format!("sluice.yaml:{line}:")), "{e}");
    assert!(
        e.contains("`url` `ftp://lineage.example` is not an http:// or https:// URL"),
        "{e}"
    );
    assert!(e.contains("did you mean `namespace`?"), "{e}");

    let p = project("openlineage: { file: events.ndjson }\n");
    let d = p.path();
    let o = run_env(
        d,
        &["check"],
        &[("OPENLINEAGE_PARENT_ID", "airflow/dag.task/not-a-uuid")],
    );
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(
        stderr(&o)
            .contains("--parent-id (OPENLINEAGE_PARENT_ID) run id `not-a-uuid` is not a UUID"),
        "{}",
        stderr(&o)
    );
    let o = run_env(d, &["check", "--parent-run-id", PARENT_RUN], &[]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(
        stderr(&o).contains("--parent-job-name and --parent-job-namespace missing"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("events.ndjson").exists(), "nothing ran");
    // Disabled: nothing is sent, and the parent is not even looked at.
    let o = run_env(
        d,
        &["check", "--stage", "clean_orders"],
        &[
            ("OPENLINEAGE_DISABLED", "true"),
            ("OPENLINEAGE_PARENT_ID", "junk"),
        ],
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(!d.join("events.ndjson").exists());
}
