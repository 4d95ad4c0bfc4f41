//! The same checks on an Apache Ballista cluster (`--engine ballista://…`, a build with
//! `--features ballista`): a scheduler and two executors started as local processes on
//! loopback (`sluice ballista scheduler|executor`), and every report compared with the
//! in-process one. Run with `cargo test --features ballista --test ballista`
//! (`bench/ballista.sh` runs it and prints the figures).

#![cfg(feature = "ballista")]

mod common;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{repo, sluice};
use serde_json::Value;

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A scheduler and its executors, killed on drop.
struct Cluster {
    engine: String,
    scheduler: Child,
    executors: Vec<Child>,
    _work: tempfile::TempDir,
}

impl Cluster {
    /// A scheduler and `executors` executors of two task slots each; `config` gives them
    /// its `storage:` settings, `env` is added to theirs.
    fn start(executors: usize, config: Option<&Path>, env: &[(&str, String)]) -> Cluster {
        Cluster::start_with(executors, 2, config, env)
    }

    /// As [`Cluster::start`], with `slots` concurrent tasks per executor.
    fn start_with(
        executors: usize,
        slots: usize,
        config: Option<&Path>,
        env: &[(&str, String)],
    ) -> Cluster {
        let work = tempfile::tempdir().unwrap();
        let port = free_port();
        let spawn = |args: Vec<String>, log: &str| -> Child {
            let mut c = Command::new(env!("CARGO_BIN_EXE_sluice"));
            c.args(["ballista"]).args(&args);
            if let Some(cfg) = config {
                c.arg("--config").arg(cfg);
            }
            for (k, v) in env {
                c.env(k, v);
            }
            let log = std::fs::File::create(work.path().join(log)).unwrap();
            c.stdout(Stdio::null()).stderr(log).spawn().unwrap()
        };
        let scheduler = spawn(
            vec![
                "scheduler".into(),
                "--bind".into(),
                format!("127.0.0.1:{port}"),
                "--executor-timeout".into(),
                "10".into(),
            ],
            "scheduler.log",
        );
        wait_for_port(port, "the scheduler");
        let mut children = Vec::new();
        for i in 0..executors {
            let (flight, grpc) = (free_port(), free_port());
            children.push(spawn(
                vec![
                    "executor".into(),
                    "--scheduler".into(),
                    format!("127.0.0.1:{port}"),
                    "--flight-port".into(),
                    flight.to_string(),
                    "--grpc-port".into(),
                    grpc.to_string(),
                    "--concurrent-tasks".into(),
                    slots.to_string(),
                    "--work-dir".into(),
                    work.path()
                        .join(format!("executor{i}"))
                        .display()
                        .to_string(),
                ],
                &format!("executor{i}.log"),
            ));
            wait_for_port(flight, "an executor");
        }
        let cluster = Cluster {
            engine: format!("ballista://127.0.0.1:{port}"),
            scheduler,
            executors: children,
            _work: work,
        };
        cluster.wait_ready();
        cluster
    }

    /// Until a query runs (the executors have registered).
    fn wait_ready(&self) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.csv"), "a\n1\n2\n").unwrap();
        std::fs::write(
            dir.path().join("sluice.yaml"),
            "datasets:\n  t:\n    path: t.csv\n    checks:\n      - range: { column: a, min: 0 }\n",
        )
        .unwrap();
        let start = Instant::now();
        loop {
            let out = sluice()
                .args(["check", "--engine", &self.engine])
                .current_dir(dir.path())
                .output()
                .unwrap();
            if out.status.code() == Some(0) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the cluster never ran a query: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.executors.iter_mut().chain([&mut self.scheduler]) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A scheduler and two executors with no settings, for one test (a cluster shared through
/// a static would outlive the test process: statics are not dropped).
fn cluster() -> Cluster {
    Cluster::start(2, None, &[])
}

/// sluice in `dir` with `args`, in-process or on `engine`.
fn run_in(dir: &Path, args: &[String], engine: Option<&str>) -> Output {
    let mut c = sluice();
    c.args(["--color", "never"])
        .args(args)
        .current_dir(dir)
        .env("SLUICE_TEST_VAR", "from-env");
    match engine {
        Some(e) => c.env("SLUICE_ENGINE", e),
        None => c.env_remove("SLUICE_ENGINE"),
    };
    c.output().unwrap()
}

/// Datasets that cannot run on a cluster, by design (see the README): their reports say so.
fn not_for_a_cluster(dir: &Path) -> bool {
    let text = std::fs::read_to_string(dir.join("sluice.yaml")).unwrap_or_default();
    text.contains("format: delta") || text.contains("_delta_log")
}

#[test]
fn the_check_catalogue_gives_the_same_reports() {
    let cluster = cluster();
    let mut compared = 0;
    let mut failed = Vec::new();
    for config in common::configs_under(&common::cases_root()) {
        let dir = config.parent().unwrap();
        let args = common::case_args(dir);
        if args.first().map(String::as_str) != Some("check") || not_for_a_cluster(dir) {
            continue;
        }
        let here = common::transcript(&run_in(dir, &args, None), dir);
        let there = common::transcript(&run_in(dir, &args, Some(&cluster.engine)), dir);
        compared += 1;
        if here != there {
            let name = dir
                .strip_prefix(common::cases_root())
                .unwrap()
                .display()
                .to_string();
            failed.push(format!(
                "{name}:\n--- in-process\n{here}\n--- ballista\n{there}"
            ));
        }
    }
    assert!(compared >= 50, "only {compared} cases compared");
    assert!(
        failed.is_empty(),
        "{} of {compared} cases differ on Ballista:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
}

/// The report without what changes between any two runs.
fn stable(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in ["run_id", "started_at", "finished_at", "duration_ms", "now"] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

#[test]
fn parity_finds_exactly_the_generated_differences_on_the_cluster() {
    let cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    let data = repo().join("tests/fixtures/gen5000");
    std::fs::write(
        dir.path().join("sluice.yaml"),
        common::PARITY_CONFIG.replace("DATA", &data.display().to_string()),
    )
    .unwrap();
    let args: Vec<String> = ["check", "--format", "json"].map(String::from).to_vec();
    let here = run_in(dir.path(), &args, None);
    let there = run_in(dir.path(), &args, Some(&cluster.engine));
    assert_eq!(
        there.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&there.stderr)
    );
    let m = common::gen5000_manifest();
    let r = report(&there);
    let rows = common::check_named(&r, "rows");
    let o = &rows["observed"]["rows"];
    assert_eq!(o["missing"], m["target_dropped_rows"], "{o}");
    assert_eq!(o["extra"], 0);
    assert_eq!(o["changed"], m["target_changed_amounts"], "{o}");
    assert_eq!(
        o["duplicate_keys"]["source"],
        m["duplicate_order_id_values"]
    );
    assert_eq!(
        o["duplicate_keys"]["target"],
        m["duplicate_order_id_values"]
    );
    assert_eq!(stable(report(&here)), stable(r));
}

#[test]
fn the_reconciliation_example_gives_the_same_report() {
    let cluster = cluster();
    let dir = repo().join("examples/reconcile");
    let args: Vec<String> = ["check", "--format", "json", "--now", "2025-01-01T00:00:00Z"]
        .map(String::from)
        .to_vec();
    let here = run_in(&dir, &args, None);
    let there = run_in(&dir, &args, Some(&cluster.engine));
    assert_eq!(here.status.code(), there.status.code());
    assert_eq!(stable(report(&here)), stable(report(&there)));
}

#[test]
fn an_unreachable_scheduler_is_exit_4_naming_it() {
    let dir = repo().join("examples/reconcile");
    let port = free_port();
    let engine = format!("ballista://127.0.0.1:{port}");
    let out = run_in(&dir, &["check".to_string()], Some(&engine));
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot reach the Ballista scheduler at {engine}")),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing ran: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A dataset big enough to still be scanning when an executor is killed.
fn big_csv(dir: &Path) -> PathBuf {
    let path = dir.join("big.csv");
    let mut text = String::with_capacity(60_000_000);
    text.push_str("id,amount,email\n");
    for i in 0..2_000_000u64 {
        text.push_str(&format!(
            "{i},{}.{:02},user{i}@example.com\n",
            i % 1000,
            i % 100
        ));
    }
    std::fs::write(&path, text).unwrap();
    path
}

const BIG: &str = "datasets:\n  big:\n    path: big.csv\n    checks:\n      - unique: id\n      - matches: { column: email, regex: '^user[0-9]+@example[.]com$' }\n      - range: { column: amount, min: -1 }\n";

/// `sluice check` of [`BIG`] on `cluster`, recording state, with `kill` run once the
/// query is under way.
fn check_while(cluster: &mut Cluster, dir: &Path, kill: impl FnOnce(&mut Cluster)) -> Output {
    let mut run = sluice();
    run.args([
        "--color",
        "never",
        "check",
        "--format",
        "json",
        "--engine",
        &cluster.engine,
    ])
    .current_dir(dir)
    .env_remove("SLUICE_NO_STATE")
    .env("USER", "tester")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = run.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    kill(cluster);
    child.wait_with_output().unwrap()
}

fn big_dataset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    big_csv(dir.path());
    std::fs::write(dir.path().join("sluice.yaml"), BIG).unwrap();
    dir
}

/// No breaker is open in `dir`'s state store.
fn nothing_tripped(dir: &Path) {
    let status = common::run(dir, &["breaker", "status", "--format", "json"]);
    assert_eq!(common::code(&status), 0, "{}", common::stderr(&status));
    let v = common::json(&status);
    let breakers = v["breakers"].as_array().unwrap_or_else(|| panic!("{v}"));
    for b in breakers {
        assert_ne!(b["state"], "open", "{v}");
    }
}

#[test]
fn losing_every_executor_mid_query_is_exit_4_and_trips_nothing() {
    let mut cluster = cluster();
    let dir = big_dataset();
    let out = check_while(&mut cluster, dir.path(), |c| {
        for e in &mut c.executors {
            let _ = e.kill();
            let _ = e.wait();
        }
    });
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{err}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let r = report(&out);
    assert_eq!(r["status"], "error", "{r}");
    let cluster_failed = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "error")
        .any(|c| {
            c["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("the Ballista cluster failed the query: Job "))
        });
    assert!(cluster_failed, "{r}");
    nothing_tripped(dir.path());
}

#[test]
fn losing_one_executor_mid_query_is_a_reported_retry_or_an_error_never_a_trip() {
    // One task slot each: the scan's tasks are spread over both executors, so the one
    // killed is running one (with two slots, one executor could take them all).
    let mut cluster = Cluster::start_with(2, 1, None, &[]);
    let dir = big_dataset();
    let here = run_in(
        dir.path(),
        &["check".into(), "--format".into(), "json".into()],
        None,
    );
    let out = check_while(&mut cluster, dir.path(), |c| {
        let _ = c.executors[0].kill();
        let _ = c.executors[0].wait();
    });
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    match out.status.code() {
        // Ballista ran the lost executor's tasks on the other one: the same verdicts, and
        // the report says which tasks were run again and why.
        Some(0) => {
            let r = report(&out);
            assert_eq!(
                common::verdicts(&report(&here)),
                common::verdicts(&r),
                "{err}"
            );
            let retries = r["retries"].as_array().unwrap_or_else(|| panic!("{r}"));
            assert!(!retries.is_empty(), "{r}");
            eprintln!("retried: {}", r["retries"]);
            for retry in retries {
                assert!(retry["tasks"].as_u64().unwrap() >= 1, "{r}");
                let reason = retry["reason"].as_str().unwrap();
                assert!(
                    reason.starts_with("Task failure due to Executor ")
                        && reason.ends_with(" lost"),
                    "{r}"
                );
            }
        }
        // Or the job failed: the run is an error, and nothing moved.
        Some(4) => {
            eprintln!("failed: {err}");
            assert_eq!(report(&out)["status"], "error");
            nothing_tripped(dir.path());
        }
        other => panic!("exit {other:?}: {err}"),
    }
}

#[test]
fn object_store_datasets_run_on_the_cluster() {
    let Some(s3) = common::s3::server("ballista_s3") else {
        return;
    };
    let prefix = s3.prefix("ballista");
    s3.upload(
        &repo().join("tests/fixtures/gen5000/orders.parquet"),
        &format!("{prefix}orders.parquet"),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sluice.yaml");
    std::fs::write(
        &config,
        format!(
            "datasets:\n  orders:\n    path: {prefix}orders.parquet\n    checks:\n      - unique: order_id\n      - not_null: [customer_id]\n      - matches: {{ column: email, regex: '@' }}\n{}",
            s3.storage_yaml()
        ),
    )
    .unwrap();
    let env: Vec<(&str, String)> = s3.env();
    let cluster = Cluster::start(2, Some(&config), &env);
    let args: Vec<String> = ["check", "--format", "json"].map(String::from).to_vec();
    let with_env = |engine: Option<&str>| {
        let mut c = sluice();
        c.args(["--color", "never"])
            .args(&args)
            .current_dir(dir.path());
        for (k, v) in &env {
            c.env(k, v);
        }
        if let Some(e) = engine {
            c.env("SLUICE_ENGINE", e);
        }
        c.output().unwrap()
    };
    let here = with_env(None);
    let there = with_env(Some(&cluster.engine));
    assert_eq!(
        here.status.code(),
        there.status.code(),
        "{}",
        String::from_utf8_lossy(&there.stderr)
    );
    assert_eq!(stable(report(&here)), stable(report(&there)));
}

#[test]
fn a_delta_table_on_the_cluster_is_an_error_saying_why() {
    let cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "datasets:\n  t:\n    path: table/\n    format: delta\n    checks:\n      - row_count: { min: 1 }\n",
    )
    .unwrap();
    let args: Vec<String> = ["check", "--format", "json"].map(String::from).to_vec();
    let out = run_in(dir.path(), &args, Some(&cluster.engine));
    assert_eq!(out.status.code(), Some(4));
    let r = report(&out);
    let message = r["checks"][0]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("is a Delta table: it cannot run on ballista://"),
        "{message}"
    );
    assert!(message.contains("--engine datafusion"), "{message}");
}
