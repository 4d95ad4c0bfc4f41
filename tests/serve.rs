//! End-to-end tests of `sluice serve`: the binary listening on loopback over a real SQLite
//! state store that CLI runs write to, asked over real HTTP. The API's answers, the token,
//! bad input (4xx with a JSON error, never a 500), background checks, reloading the config
//! without a restart, and stopping on SIGTERM after the requests in flight finish.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{code, run, sluice, stderr};
use serde_json::Value;

const CONFIG: &str = r#"version: 1
datasets:
  orders_raw:
    path: raw.csv
    owner: ingest
    tier: 1
    description: Orders as the shop exports them
    checks:
      - not_null: { column: id, samples: 3 }
  orders_clean:
    path: clean.csv
    owner: analytics
    tier: 2
    checks:
      - row_count: { min: 1 }
stages:
  clean: { inputs: [orders_raw], outputs: [orders_clean] }
"#;

const TOKEN: &str = "s3cret-token";

/// A project whose `orders_raw` fails (a NULL id), checked once by the CLI: its breaker
/// is open and `orders_clean` is blocked.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path(), CONFIG);
    let out = run(dir.path(), &["check"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    dir
}

/// The config and its data (one NULL id in `raw.csv`).
fn write_project(dir: &Path, config: &str) {
    std::fs::write(dir.join("sluice.yaml"), config).unwrap();
    std::fs::write(dir.join("raw.csv"), "id,amount\n1,10\n,20\n3,30\n").unwrap();
    std::fs::write(dir.join("clean.csv"), "id,amount\n1,10\n3,30\n").unwrap();
}

/// A running `sluice serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
    log: mpsc::Receiver<String>,
}

impl Server {
    fn start(dir: &Path, token: Option<&str>, extra: &[&str]) -> Server {
        let env: Vec<(&str, &str)> = token.map(|t| ("SLUICE_TOKEN", t)).into_iter().collect();
        Server::start_env(dir, &env, extra)
    }

    // The child is waited for in `wait` or `Drop`.
    #[allow(clippy::zombie_processes)]
    fn start_env(dir: &Path, env: &[(&str, &str)], extra: &[&str]) -> Server {
        let mut c = sluice();
        c.args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .current_dir(dir)
            .env_remove("SLUICE_NO_STATE")
            .env("USER", "tester")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap();
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("the server says where it listens");
            if let Some(url) = line.split("listening on ").nth(1) {
                return Server {
                    child,
                    base: url.trim().to_string(),
                    log: rx,
                };
            }
        }
    }

    fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    /// Sends SIGTERM and waits for the exit code.
    fn terminate(self) -> (i32, String) {
        self.signal("-TERM");
        self.wait()
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap();
    }

    /// Waits for the exit code (and the log).
    fn wait(mut self) -> (i32, String) {
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        let log: Vec<String> = self.log.try_iter().collect();
        (code, log.join("\n"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// GET: status and body.
fn get(s: &Server, path: &str) -> (u16, String) {
    let mut r = agent().get(format!("{}{path}", s.base)).call().unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().unwrap())
}

fn get_json(s: &Server, path: &str) -> Value {
    let (status, body) = get(s, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// POST with a JSON body and an optional token: status and body.
fn post(s: &Server, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = agent()
        .post(format!("{}{path}", s.base))
        .header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut r = req.send(body).unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, v)
}

fn dataset<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dataset"] == name)
        .unwrap_or_else(|| panic!("{name} in {list}"))
}

#[test]
fn the_api_answers_what_is_red_what_it_blocks_and_whom_to_call() {
    let dir = project();
    let s = Server::start(dir.path(), Some(TOKEN), &[]);
    let health = get_json(&s, "/healthz");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["reload_error"], Value::Null);

    let list = get_json(&s, "/api/datasets");
    let raw = dataset(&list, "orders_raw");
    assert_eq!(raw["state"], "open");
    assert_eq!(raw["owner"], "ingest");
    assert_eq!(raw["tier"], 1);
    assert_eq!(raw["failing_checks"], serde_json::json!(["not_null(id)"]));
    let clean = dataset(&list, "orders_clean");
    assert_eq!(clean["state"], "closed");
    assert_eq!(clean["blocked_by"], serde_json::json!(["orders_raw"]));

    // One dataset: its failing check, with the failing row as a sample.
    let d = get_json(&s, "/api/datasets/orders_raw");
    assert_eq!(
        d["dataset"]["description"],
        "Orders as the shop exports them"
    );
    let check = &d["checks"][0];
    assert_eq!(check["name"], "not_null(id)");
    assert_eq!(check["last"]["status"], "fail");
    assert_eq!(check["last"]["samples"], serde_json::json!([{"id": null}]));
    assert_eq!(check["last"]["failing_rows"], 1);
    assert_eq!(d["runs"].as_array().unwrap().len(), 1);

    // Impact and lineage, as the CLI's JSON.
    let imp = get_json(&s, "/api/impact/orders_raw?direction=downstream&depth=5");
    let names: Vec<&str> = imp["impacted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"orders_clean"), "{imp}");
    let up = get_json(&s, "/api/impact/orders_clean?direction=upstream");
    assert!(up.to_string().contains("orders_raw"), "{up}");
    let g = get_json(&s, "/api/lineage");
    assert!(g["nodes"].as_array().unwrap().len() >= 3, "{g}");
    assert_eq!(g["truncated"], false);
    let one = get_json(&s, "/api/lineage?select=orders_raw&limit=1");
    assert_eq!(one["nodes"].as_array().unwrap().len(), 1);

    // Metrics: breaker states, last runs, failures, runs.
    let (status, metrics) = get(&s, "/metrics");
    assert_eq!(status, 200);
    for line in [
        "sluice_breaker_state{dataset=\"orders_raw\",state=\"open\"} 1",
        "sluice_breaker_state{dataset=\"orders_clean\",state=\"closed\"} 1",
        "sluice_breaker_blocked{dataset=\"orders_clean\"} 1",
        "sluice_dataset_last_run_status{dataset=\"orders_raw\",status=\"failed\"} 1",
        "sluice_check_failures_total{dataset=\"orders_raw\"} 1",
        "sluice_runs_total{status=\"failed\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains("sluice_dataset_last_run_duration_seconds{dataset=\"orders_raw\"}"));

    // A reset needs the token; with it, the breaker closes and the audit log says who and why.
    let (st, e) = post(
        &s,
        "/api/breakers/orders_raw/reset",
        None,
        r#"{"reason":"x"}"#,
    );
    assert_eq!(
        (st, e["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (st, _) = post(
        &s,
        "/api/breakers/orders_raw/reset",
        Some("wrong-token"),
        r#"{"reason":"x"}"#,
    );
    assert_eq!(st, 401);
    let (st, e) = post(&s, "/api/breakers/orders_raw/reset", Some(TOKEN), "{}");
    assert_eq!(st, 400);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("reason"),
        "{e}"
    );
    let (st, v) = post(
        &s,
        "/api/breakers/orders_raw/reset",
        Some(TOKEN),
        r#"{"reason": "the shop re-sent the file", "by": "alice"}"#,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["breaker"]["state"], "closed");
    let log = get_json(&s, "/api/breakers/orders_raw/history");
    let last = log["log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "reset");
    assert_eq!(last["by"], "alice");
    assert_eq!(last["reason"], "the shop re-sent the file");
    let list = get_json(&s, "/api/datasets");
    assert_eq!(
        dataset(&list, "orders_clean")["blocked_by"],
        serde_json::json!([])
    );

    // Trip and override take `until`.
    let (st, v) = post(
        &s,
        "/api/breakers/orders_clean/override",
        Some(TOKEN),
        r#"{"reason": "known issue", "until": "2h"}"#,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["breaker"]["state"], "override");
    let (st, v) = post(
        &s,
        "/api/breakers/orders_clean/override",
        Some(TOKEN),
        r#"{"reason": "no end"}"#,
    );
    assert_eq!(st, 400, "{v}");
    let b = get_json(&s, "/api/breakers");
    assert_eq!(b["breakers"].as_array().unwrap().len(), 2);
    let inc = get_json(&s, "/api/incidents?since=30d");
    assert!(inc.is_object(), "{inc}");
}

#[test]
fn runs_are_listed_a_page_at_a_time_and_read_with_their_report() {
    let dir = project();
    for _ in 0..2 {
        run(dir.path(), &["check"]);
    }
    let s = Server::start(dir.path(), None, &[]);
    let all = get_json(&s, "/api/runs");
    let ids: Vec<String> = all["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert_eq!(all["next_cursor"], Value::Null);

    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/runs?limit=2&cursor={c}"),
            None => "/api/runs?limit=2".to_string(),
        };
        let page = get_json(&s, &path);
        seen.extend(
            page["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["run_id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen, ids,
        "the pages together are the whole list, once each"
    );

    let failed = get_json(&s, "/api/runs?status=failed&dataset=orders_raw");
    assert_eq!(failed["runs"].as_array().unwrap().len(), 3);
    let passed = get_json(&s, "/api/runs?status=passed");
    assert_eq!(passed["runs"].as_array().unwrap().len(), 0);
    let recent = get_json(&s, "/api/runs?since=1h");
    assert_eq!(recent["runs"].as_array().unwrap().len(), 3);

    let one = get_json(&s, &format!("/api/runs/{}", ids[0]));
    assert_eq!(one["run_id"], ids[0].as_str());
    assert_eq!(one["status"], "failed");
    assert_eq!(one["report"]["run_id"], ids[0].as_str());
    let ds: Vec<&str> = one["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(ds, ["orders_clean", "orders_raw"]);

    let h = get_json(&s, "/api/history/orders_raw?check=row_count");
    assert_eq!(
        h["metrics"][0]["points"].as_array().unwrap().len(),
        3,
        "{h}"
    );
}

#[test]
fn bad_input_gets_a_4xx_with_a_json_error_never_a_500() {
    let dir = project();
    let s = Server::start(dir.path(), Some(TOKEN), &["--body-limit", "1024"]);
    let cases: &[(&str, u16, &str)] = &[
        ("/api/datasets/nope", 404, "not_found"),
        ("/api/datasets/..%2F..%2Fetc%2Fpasswd", 404, "not_found"),
        ("/api/datasets/%2e%2e", 404, "not_found"),
        ("/assets/..%2F..%2FCargo.toml", 404, "not_found"),
        ("/api/impact/nope", 404, "not_found"),
        ("/api/impact/orders_raw?direction=sideways", 400, "invalid"),
        ("/api/impact/orders_raw?depth=-1", 400, "invalid"),
        (
            "/api/impact/orders_raw?depth=99999999999999999999",
            400,
            "invalid",
        ),
        ("/api/runs?limit=0", 400, "invalid"),
        ("/api/runs?limit=abc", 400, "invalid"),
        ("/api/runs?status=green", 400, "invalid"),
        ("/api/runs?since=yesterday-ish", 400, "invalid"),
        ("/api/runs?cursor=../../x", 400, "invalid"),
        ("/api/runs?limit=1&limit=2", 400, "invalid"),
        ("/api/runs?dataset=nope", 404, "not_found"),
        (
            "/api/runs/0190c0de-0000-7000-8000-000000000000",
            404,
            "not_found",
        ),
        ("/api/runs/%3BDROP%20TABLE%20runs", 404, "not_found"),
        ("/api/history/orders_raw?check=nope", 404, "not_found"),
        ("/api/history/orders_raw?partition=nokey", 400, "invalid"),
        ("/api/breakers/nope/history", 404, "not_found"),
        ("/api/datasets?x=1", 400, "invalid"),
        ("/api/nothing", 404, "not_found"),
    ];
    for (path, want, code) in cases {
        let (status, body) = get(&s, path);
        assert_eq!(status, *want, "GET {path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        assert_eq!(v["error"]["code"], *code, "GET {path}: {body}");
        assert_eq!(v["error"]["status"], *want);
    }
    let long = format!("/api/datasets/{}", "a".repeat(600));
    assert_eq!(get(&s, &long).0, 400);

    let posts: &[(&str, &str, u16)] = &[
        ("/api/breakers/orders_raw/reset", "{not json", 400),
        ("/api/breakers/orders_raw/reset", r#"{"reason": 5}"#, 400),
        (
            "/api/breakers/orders_raw/reset",
            r#"{"reason": "x", "extra": 1}"#,
            400,
        ),
        (
            "/api/breakers/orders_raw/explode",
            r#"{"reason": "x"}"#,
            404,
        ),
        ("/api/breakers/nope/trip", r#"{"reason": "x"}"#, 404),
        (
            "/api/breakers/orders_raw/reset",
            r#"{"reason": "x", "until": "2h"}"#,
            400,
        ),
        (
            "/api/breakers/orders_raw/trip",
            r#"{"reason": "x", "until": "2001-01-01T00:00:00Z"}"#,
            400,
        ),
        ("/api/check", "{}", 400),
        ("/api/check", r#"{"dataset": "nope"}"#, 404),
        ("/api/check", r#"{"stage": "nope"}"#, 404),
        (
            "/api/check",
            r#"{"dataset": "orders_raw", "partition": ["bad"]}"#,
            400,
        ),
    ];
    for (path, body, want) in posts {
        let (status, v) = post(&s, path, Some(TOKEN), body);
        assert_eq!(status, *want, "POST {path} {body}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let big = format!(r#"{{"reason": "{}"}}"#, "x".repeat(4096));
    let (status, v) = post(&s, "/api/breakers/orders_raw/trip", Some(TOKEN), &big);
    assert_eq!(status, 413, "{v}");
    assert_eq!(v["error"]["code"], "payload_too_large");

    // Wrong method: a JSON 405.
    let mut r = agent()
        .delete(format!("{}/api/datasets", s.base))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(v["error"]["code"], "method_not_allowed");

    // CORS is off: another origin gets no Access-Control-Allow-Origin.
    let r = agent()
        .get(format!("{}/api/datasets", s.base))
        .header("Origin", "https://evil.example")
        .call()
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");

    // Nothing of that reached the state: the breaker is still open, by the CLI's reading.
    let out = run(
        dir.path(),
        &["breaker", "status", "orders_raw", "-f", "json"],
    );
    assert!(common::stdout(&out).contains("\"state\": \"open\""));
    let (code, log) = s.terminate();
    assert_eq!(code, 0, "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn with_no_token_configured_mutations_are_refused_with_403_saying_how_to_configure_one() {
    let dir = project();
    let s = Server::start(dir.path(), None, &[]);
    for path in ["/api/breakers/orders_raw/reset", "/api/check"] {
        let (status, v) = post(&s, path, Some("anything"), r#"{"reason": "x"}"#);
        assert_eq!(status, 403, "{v}");
        let m = v["error"]["message"].as_str().unwrap();
        assert!(m.contains("SLUICE_TOKEN") && m.contains("token_env"), "{m}");
    }
    // Reads need no token.
    get_json(&s, "/api/datasets");
}

#[test]
fn the_token_comes_from_the_variable_the_config_names() {
    let dir = project();
    let config = format!("{CONFIG}serve: {{ token_env: ORDERS_API_TOKEN }}\n");
    std::fs::write(dir.path().join("sluice.yaml"), config).unwrap();
    // SLUICE_TOKEN is not the configured variable: it does not count.
    let s = Server::start_env(
        dir.path(),
        &[("ORDERS_API_TOKEN", "from-config"), ("SLUICE_TOKEN", TOKEN)],
        &[],
    );
    let (status, _) = post(
        &s,
        "/api/breakers/orders_raw/trip",
        Some(TOKEN),
        r#"{"reason": "x"}"#,
    );
    assert_eq!(status, 401);
    let (status, v) = post(
        &s,
        "/api/breakers/orders_raw/trip",
        Some("from-config"),
        r#"{"reason": "x"}"#,
    );
    assert_eq!(status, 200, "{v}");
}

#[test]
fn a_check_asked_for_over_http_runs_in_the_background_and_is_recorded() {
    let dir = project();
    let s = Server::start(dir.path(), Some(TOKEN), &["--max-runs", "1"]);
    let (status, v) = post(
        &s,
        "/api/check",
        Some(TOKEN),
        r#"{"dataset": "orders_raw", "by": "ops"}"#,
    );
    assert_eq!(status, 202, "{v}");
    let id = v["run_id"].as_str().unwrap().to_string();
    assert!(["queued", "running"].contains(&v["status"].as_str().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let run = loop {
        let r = get_json(&s, &format!("/api/runs/{id}"));
        if r.get("report").is_some() {
            break r;
        }
        assert_ne!(r["status"], "error", "{r}");
        assert!(Instant::now() < deadline, "the run finishes: {r}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(run["status"], "failed");
    assert_eq!(run["report"]["checks"][0]["name"], "not_null(id)");
    let runs = get_json(&s, "/api/runs?dataset=orders_raw");
    assert_eq!(runs["runs"][0]["run_id"], id.as_str());
}

#[test]
fn the_config_is_reloaded_on_change_and_a_broken_one_keeps_the_previous() {
    let dir = project();
    let s = Server::start(dir.path(), None, &[]);
    let wait_for = |what: &dyn Fn(&Value) -> bool, path: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = get_json(&s, path);
            if what(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "{path}: {v}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let cfg = dir.path().join("sluice.yaml");
    let added = format!("{CONFIG}  # edited\n").replace(
        "stages:",
        "  refunds:\n    path: clean.csv\n    owner: finance\n    checks:\n      - row_count: { min: 1 }\nstages:",
    );
    std::fs::write(&cfg, &added).unwrap();
    wait_for(
        &|v| v["datasets"].as_array().unwrap().len() == 3,
        "/api/datasets",
    );
    // A broken config: the previous one stays in use, /healthz says why.
    std::fs::write(&cfg, format!("{added}\n  bogus: [\n")).unwrap();
    let h = wait_for(&|v| !v["reload_error"].is_null(), "/healthz");
    assert!(
        h["reload_error"].as_str().unwrap().contains("sluice.yaml"),
        "{h}"
    );
    assert_eq!(
        get_json(&s, "/api/datasets")["datasets"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Fixed, and a SIGHUP reloads at once.
    std::fs::write(&cfg, CONFIG).unwrap();
    s.signal("-HUP");
    wait_for(&|v| v["reload_error"].is_null(), "/healthz");
    wait_for(
        &|v| v["datasets"].as_array().unwrap().len() == 2,
        "/api/datasets",
    );
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let dir = project();
    let s = Server::start(dir.path(), Some(TOKEN), &[]);
    // A request half sent: headers and part of the body.
    let body = r#"{"reason": "in flight when SIGTERM came"}"#;
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    write!(
        conn,
        "POST /api/breakers/orders_raw/trip HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.signal("-TERM");
    std::thread::sleep(Duration::from_millis(300));
    // The rest of the body: the request completes.
    conn.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"tripped\""), "{answer}");
    let (code, log) = s.wait();
    assert_eq!(code, 0, "{log}");
    // New connections are refused once it stopped; the trip is in the store.
    let out = run(
        dir.path(),
        &["breaker", "status", "orders_raw", "-f", "json"],
    );
    assert!(common::stdout(&out).contains("\"state\": \"tripped\""));
}

#[test]
fn a_non_loopback_address_needs_allow_remote_and_a_token() {
    let dir = project();
    let out = sluice()
        .args(["serve", "--addr", "0.0.0.0:0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--allow-remote"), "{}", stderr(&out));
    let out = sluice()
        .args(["serve", "--addr", "0.0.0.0:0", "--allow-remote"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("needs a token"), "{}", stderr(&out));
    // An invalid config: exit 2 with its diagnostics, before listening.
    std::fs::write(dir.path().join("sluice.yaml"), "version: 1\ndatasets: [\n").unwrap();
    let out = sluice()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("sluice.yaml:"), "{}", stderr(&out));
}

#[test]
fn the_server_reads_and_writes_a_postgres_store_beside_cli_runs() {
    let Some(url) = common::postgres_db("serve") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path(), &format!("{CONFIG}state: {url}\n"));
    assert_eq!(code(&run(dir.path(), &["check"])), 1);
    let s = Server::start(dir.path(), Some(TOKEN), &[]);
    assert_eq!(
        dataset(&get_json(&s, "/api/datasets"), "orders_raw")["state"],
        "open"
    );
    // A CLI run while the server serves: the server sees it.
    assert_eq!(code(&run(dir.path(), &["check"])), 1);
    assert_eq!(
        get_json(&s, "/api/runs")["runs"].as_array().unwrap().len(),
        2
    );
    let (st, v) = post(
        &s,
        "/api/breakers/orders_raw/reset",
        Some(TOKEN),
        r#"{"reason": "fixed upstream"}"#,
    );
    assert_eq!(st, 200, "{v}");
    // And the CLI sees the server's reset.
    let out = run(
        dir.path(),
        &["breaker", "status", "orders_raw", "-f", "json"],
    );
    assert!(common::stdout(&out).contains("\"state\": \"closed\""));
    let (code, log) = s.terminate();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_stage_whose_sql_does_not_parse_leaves_the_graph_partial_not_blind() {
    let dir = tempfile::tempdir().unwrap();
    let config = CONFIG.replace(
        "stages:\n",
        "stages:\n  broken: { sql: \"INSERT INTO x SELECT * FROM\" }\n",
    );
    write_project(dir.path(), &config);
    let s = Server::start(dir.path(), None, &[]);
    let g = get_json(&s, "/api/lineage");
    assert_eq!(g["partial"], true, "{g}");
    assert_eq!(g["missing"][0]["source"], "stage `broken`");
    let imp = get_json(&s, "/api/impact/orders_raw");
    assert_eq!(imp["partial"], true, "{imp}");
    assert!(imp.to_string().contains("orders_clean"), "{imp}");
    // Column lineage over HTTP.
    let c = get_json(&s, "/api/impact/orders_raw?column=id");
    assert_eq!(c["root"]["column"], "id", "{c}");
}
