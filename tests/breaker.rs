//! End-to-end tests of circuit breakers through the binary, on a real SQLite state store in
//! a temporary folder: a failing run opens the breaker, `guard` blocks what is downstream,
//! a reset needs a reason, a passing run closes an automatic breaker; bad inputs; and many
//! processes at once losing no update.

mod common;

use common::{code, json, postgres_db, run, sluice, stderr, stdout};

const CONFIG: &str = r#"version: 1
datasets:
  orders_raw:
    path: raw.csv
    owner: ingest
    checks:
      - not_null: id
  orders_clean:
    path: clean.csv
    owner: analytics
    breaker: { reset: manual }
    checks:
      - row_count: { min: 1 }
  revenue:
    path: clean.csv
    owner: finance
stages:
  clean: { inputs: [orders_raw], outputs: [orders_clean] }
  sum: { inputs: [orders_clean], outputs: [revenue] }
"#;

fn project() -> tempfile::TempDir {
    project_with(None)
}

/// The project, with its state in `state` (a Postgres URL) instead of the default SQLite.
fn project_with(state: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = match state {
        Some(url) => format!("{CONFIG}state: {url}\n"),
        None => CONFIG.to_string(),
    };
    std::fs::write(dir.path().join("sluice.yaml"), config).unwrap();
    std::fs::write(dir.path().join("raw.csv"), "id,amount\n1,2\n,3\n").unwrap();
    std::fs::write(dir.path().join("clean.csv"), "id,amount\n1,2\n").unwrap();
    dir
}

#[test]
fn a_failing_run_opens_the_breaker_and_blocks_downstream_until_fixed() {
    lifecycle(None);
}

#[test]
fn a_failing_run_opens_the_breaker_and_blocks_downstream_until_fixed_postgres() {
    if let Some(url) = postgres_db("lifecycle") {
        lifecycle(Some(&url));
    }
}

fn lifecycle(state: Option<&str>) {
    let p = project_with(state);
    let d = p.path();
    // 1. The raw data has a NULL id: the check fails, the breaker opens.
    let o = run(d, &["check"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("breaker orders_raw: closed → open (1 failing check: not_null(id))"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        d.join(".sluice/state.db").is_file(),
        state.is_none(),
        "created on first use"
    );
    // 2. Everything downstream is blocked; the dataset itself too.
    for ds in ["orders_raw", "orders_clean", "revenue"] {
        let o = run(d, &["guard", ds]);
        assert_eq!(code(&o), 3, "{ds}: {}", stdout(&o));
        assert!(stdout(&o).contains("orders_raw ("), "{}", stdout(&o));
        assert!(stdout(&o).contains("owner ingest"), "{}", stdout(&o));
    }
    let g = json(&run(d, &["guard", "revenue", "-f", "json"]));
    assert_eq!(g["may_publish"], false);
    assert_eq!(g["blocked_by"][0]["dataset"], "orders_raw");
    assert_eq!(g["blocked_by"][0]["failing_checks"][0], "not_null(id)");
    assert!(g["blocked_by"][0]["run_id"].as_str().is_some());
    let s = json(&run(d, &["breaker", "status", "-f", "json"]));
    if let Some(url) = state {
        assert!(
            s["store"]
                .as_str()
                .unwrap()
                .starts_with("postgres://postgres@127.0.0.1"),
            "{s}"
        );
        assert!(url.starts_with("postgres://"));
    }
    let clean = &s["breakers"][1];
    assert_eq!(
        (clean["dataset"].as_str(), clean["state"].as_str()),
        (Some("orders_clean"), Some("closed"))
    );
    assert_eq!(clean["blocked_by"][0], "orders_raw");
    // 3. Fixed data, rerun: the automatic breaker closes, publishing may go on.
    std::fs::write(d.join("raw.csv"), "id,amount\n1,2\n3,3\n").unwrap();
    let o = run(d, &["check"]);
    assert_eq!(code(&o), 0);
    assert!(
        stderr(&o).contains("breaker orders_raw: open → closed (1 passing run in a row)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(code(&run(d, &["guard", "revenue"])), 0);
    // 4. The manual breaker of orders_clean: an empty file trips it and only a reset closes it.
    std::fs::write(d.join("clean.csv"), "id,amount\n").unwrap();
    assert_eq!(code(&run(d, &["check", "--dataset", "orders_clean"])), 1);
    std::fs::write(d.join("clean.csv"), "id,amount\n1,2\n").unwrap();
    assert_eq!(code(&run(d, &["check", "--dataset", "orders_clean"])), 0);
    let o = run(d, &["guard", "revenue"]);
    assert_eq!(
        code(&o),
        3,
        "a manual breaker stays open after a passing run"
    );
    let o = run(d, &["breaker", "reset", "orders_clean"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("needs a reason"), "{}", stderr(&o));
    let o = run(
        d,
        &[
            "breaker",
            "reset",
            "orders_clean",
            "--reason",
            "reloaded from the source",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(code(&run(d, &["guard", "revenue"])), 0);
    // 5. The audit log has it all, with who and why.
    let h = json(&run(
        d,
        &["breaker", "history", "orders_clean", "-f", "json"],
    ));
    let events: Vec<(&str, &str, &str)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["event"].as_str().unwrap(),
                t["to"].as_str().unwrap(),
                t["by"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [("trip", "open", "sluice"), ("reset", "closed", "tester")]
    );
    assert_eq!(h[1]["reason"], "reloaded from the source");
    // 6. The report counts both incidents, both recovered.
    let r = json(&run(
        d,
        &["breaker", "report", "--since", "30d", "-f", "json"],
    ));
    assert_eq!(r["incidents"], 2);
    assert_eq!(r["recovery"]["recovered"], 2);
    assert_eq!(r["recovery"]["ongoing"], 0);
    let datasets: Vec<&str> = r["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(datasets, ["orders_clean", "orders_raw"]);
    assert_eq!(
        r["per_month"].as_array().unwrap().last().unwrap()["incidents"],
        2
    );
    let o = run(d, &["breaker", "report"]);
    assert!(
        stdout(&o).contains("Incidents: 2 · time to recover: median"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        code(&run(d, &["breaker", "report", "--since", "last week"])),
        2
    );
}

#[test]
fn manual_trip_and_override() {
    let p = project();
    let d = p.path();
    std::fs::write(d.join("raw.csv"), "id,amount\n1,2\n").unwrap();
    assert_eq!(code(&run(d, &["check"])), 0);
    let o = run(
        d,
        &[
            "breaker",
            "trip",
            "orders_raw",
            "--reason",
            "vendor outage",
            "--by",
            "ana",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("breaker orders_raw: closed → tripped (vendor outage)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(code(&run(d, &["guard", "revenue"])), 3);
    // A passing run does not undo a manual trip.
    assert_eq!(code(&run(d, &["check"])), 0);
    assert_eq!(code(&run(d, &["guard", "orders_raw"])), 3);
    // An override needs an expiry; with one, the dataset may publish.
    let o = run(
        d,
        &[
            "breaker",
            "override",
            "orders_clean",
            "--reason",
            "known issue",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("always expires"), "{}", stderr(&o));
    let o = run(
        d,
        &[
            "breaker",
            "override",
            "orders_clean",
            "--reason",
            "known issue",
            "--until",
            "1970-01-01T00:00:00Z",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("in the past"), "{}", stderr(&o));
    let o = run(
        d,
        &[
            "breaker",
            "override",
            "orders_clean",
            "--reason",
            "known issue",
            "--until",
            "2h",
            "--by",
            "bo",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(d, &["guard", "orders_clean"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("overridden by bo until"),
        "{}",
        stdout(&o)
    );
    // Not what is downstream of it, which still sees orders_raw tripped.
    assert_eq!(code(&run(d, &["guard", "revenue"])), 3);
    // The actor from Airflow's environment.
    let o = sluice()
        .args(["breaker", "reset", "orders_raw", "--reason", "vendor back"])
        .current_dir(d)
        .env_remove("SLUICE_NO_STATE")
        .env("AIRFLOW_CTX_DAG_ID", "shop")
        .env("AIRFLOW_CTX_TASK_ID", "publish_orders")
        .env("AIRFLOW_CTX_DAG_RUN_ID", "scheduled__2026-11-22")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let h = json(&run(d, &["breaker", "history", "orders_raw", "-f", "json"]));
    let last = h.as_array().unwrap().last().unwrap();
    assert_eq!(
        last["by"],
        "airflow:shop.publish_orders (scheduled__2026-11-22)"
    );
    assert_eq!(last["event"], "reset");
}

#[test]
fn bad_inputs_are_refused_without_effect() {
    let p = project();
    let d = p.path();
    // Unknown dataset: did-you-mean, exit 2.
    let o = run(d, &["guard", "orders_cleen"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("did you mean `orders_clean`?"),
        "{}",
        stderr(&o)
    );
    let o = run(d, &["breaker", "trip", "orders_rw", "--reason", "x"]);
    assert_eq!(code(&o), 2);
    assert!(
        !d.join(".sluice").exists(),
        "a refused command creates no store"
    );
    // A corrupt store: exit 4, no check run, the file untouched.
    std::fs::create_dir_all(d.join(".sluice")).unwrap();
    let junk = b"not a database ".repeat(200);
    std::fs::write(d.join(".sluice/state.db"), &junk).unwrap();
    let o = run(d, &["check"]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("damaged or not a SQLite database"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty(), "no check ran: {}", stdout(&o));
    assert_eq!(std::fs::read(d.join(".sluice/state.db")).unwrap(), junk);
    assert_eq!(code(&run(d, &["guard", "revenue"])), 4);
    // An unreachable store (its folder is a file): exit 4.
    let o = sluice()
        .args(["breaker", "status"])
        .current_dir(d)
        .env_remove("SLUICE_NO_STATE")
        .env("SLUICE_STATE", "sqlite:raw.csv/state.db")
        .output()
        .unwrap();
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot open the state store"),
        "{}",
        stderr(&o)
    );
    // An unreachable Postgres server: exit 4, nothing run.
    let o = sluice()
        .args(["check"])
        .current_dir(d)
        .env_remove("SLUICE_NO_STATE")
        .env("SLUICE_STATE", "postgres://sluice:secret@127.0.0.1:1/state")
        .output()
        .unwrap();
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot open the state store postgres://sluice:***@127.0.0.1:1/state"),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("secret"),
        "the password is not printed"
    );
    assert!(stdout(&o).is_empty(), "no check ran");
    // --no-state runs the checks and touches nothing.
    std::fs::remove_dir_all(d.join(".sluice")).unwrap();
    let o = run(d, &["check", "--no-state"]);
    assert_eq!(code(&o), 1);
    assert!(!d.join(".sluice").exists());
    // A bad SLUICE_STATE is a usage error.
    let o = sluice()
        .args(["breaker", "status"])
        .current_dir(d)
        .env("SLUICE_STATE", "mysql://x")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

/// 32 processes at once (check runs, trips, resets, overrides, publishes), against one
/// store: every operation lands in the audit log exactly once, the final states agree with
/// it, and the staged data is published exactly once.
#[test]
fn concurrent_processes_lose_no_update() {
    concurrent(None);
}

#[test]
fn concurrent_processes_lose_no_update_postgres() {
    if let Some(url) = postgres_db("concurrent") {
        concurrent(Some(&url));
    }
}

fn concurrent(state: Option<&str>) {
    let p = project_with(state);
    let d = p.path();
    // A dataset to publish too, staged once: one publish wins, the others wait and find
    // nothing left to publish.
    let config = std::fs::read_to_string(d.join("sluice.yaml")).unwrap().replace(
        "stages:",
        "  forecast:\n    path: published/forecast/\n    staging: staging/forecast/\n    checks:\n      - row_count: { min: 1 }\nstages:",
    );
    std::fs::write(d.join("sluice.yaml"), config).unwrap();
    std::fs::create_dir_all(d.join("staging/forecast")).unwrap();
    std::fs::write(d.join("staging/forecast/part-0.csv"), "day,revenue\n1,10\n").unwrap();
    let checked = ["--dataset", "orders_raw", "--dataset", "orders_clean"];
    let o = run(d, &[&["check"][..], &checked].concat());
    assert_eq!(code(&o), 1, "{}", stderr(&o)); // creates the store, opens orders_raw
    let mut children = Vec::new();
    let n = 32;
    for i in 0..n {
        let mut c = sluice();
        c.current_dir(d)
            .env_remove("SLUICE_NO_STATE")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let reason = format!("op {i}");
        match i % 5 {
            0 => c.args([&["check", "-q"][..], &checked].concat()),
            1 => c.args([
                "breaker", "trip", "revenue", "--reason", &reason, "--by", "p",
            ]),
            2 => c.args([
                "breaker", "reset", "revenue", "--reason", &reason, "--by", "p",
            ]),
            3 => c.args([
                "breaker",
                "override",
                "orders_clean",
                "--reason",
                &reason,
                "--until",
                "1h",
                "--by",
                "p",
            ]),
            _ => c.args(["publish", "forecast", "--wait", "120s"]),
        };
        children.push((i, c.spawn().unwrap()));
    }
    let mut published = 0;
    for (i, c) in children {
        let o = c.wait_with_output().unwrap();
        let code = o.status.code().unwrap_or(-1);
        let err = String::from_utf8_lossy(&o.stderr);
        let ok = match i % 5 {
            0 => code == 1,
            4 => code == 0 || (code == 4 && err.contains("nothing staged")),
            _ => code == 0,
        };
        assert!(ok, "op {i} exited {code}: {err}");
        published += usize::from(i % 5 == 4 && code == 0);
    }
    assert_eq!(published, 1, "exactly one publish of the staged data");
    assert_eq!(
        std::fs::read_to_string(d.join("published/forecast/part-0.csv")).unwrap(),
        "day,revenue\n1,10\n"
    );
    let count = |k: usize| (0..n).filter(|i| i % 5 == k).count();
    let h = json(&run(
        d,
        &[
            "breaker", "history", "revenue", "-f", "json", "--limit", "1000",
        ],
    ));
    let manual: Vec<&serde_json::Value> = h
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["by"] == "p")
        .collect();
    assert_eq!(
        manual.len(),
        count(1) + count(2),
        "every trip and reset of revenue is logged once"
    );
    let mut reasons: Vec<&str> = manual
        .iter()
        .map(|t| t["reason"].as_str().unwrap())
        .collect();
    reasons.sort();
    reasons.dedup();
    assert_eq!(reasons.len(), count(1) + count(2));
    // Each logged transition starts where the previous one ended: no lost update.
    let all = h.as_array().unwrap();
    for w in all.windows(2) {
        assert_eq!(w[0]["to"], w[1]["from"], "{} then {}", w[0], w[1]);
    }
    // The final state is the last transition's.
    let s = json(&run(d, &["breaker", "status", "revenue", "-f", "json"]));
    assert_eq!(s["breakers"][0]["state"], all.last().unwrap()["to"]);
    let o = json(&run(
        d,
        &["breaker", "history", "orders_clean", "-f", "json"],
    ));
    assert_eq!(
        o.as_array()
            .unwrap()
            .iter()
            .filter(|t| t["event"] == "override")
            .count(),
        count(3)
    );
    let raw = json(&run(d, &["breaker", "status", "orders_raw", "-f", "json"]));
    assert_eq!(raw["breakers"][0]["state"], "open");
}

/// Many processes creating the store at once (the first run of a fleet of Airflow tasks):
/// one creates and migrates it, the others wait; every command lands once.
#[test]
fn concurrent_first_use_of_a_new_store() {
    let p = project();
    let d = p.path();
    let children: Vec<_> = (0..24)
        .map(|i| {
            sluice()
                .args([
                    "breaker",
                    "trip",
                    "revenue",
                    "--reason",
                    &format!("r{i}"),
                    "--by",
                    "x",
                ])
                .current_dir(d)
                .env_remove("SLUICE_NO_STATE")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let h = json(&run(d, &["breaker", "history", "revenue", "-f", "json"]));
    assert_eq!(h.as_array().unwrap().len(), 24);
}
