//! End-to-end tests of alerts (`notify:`) through the binary, against a receiver on
//! loopback: one alert per breaker transition (open, override, expire, reset), retried
//! after a 500, none for a repeated failing run; Slack's body; an `exec:` hook; routing by
//! tier and owner; a receiver that is down changes no exit code; bad `notify:` config.

mod common;

use std::path::Path;

use common::receiver::Receiver;
use common::{code, json, run, run_env, stderr, stdout};

const DATASETS: &str = r#"version: 1
datasets:
  orders:
    path: orders.csv
    owner: ingest
    tier: 1
    checks:
      - not_null: id
  revenue:
    path: revenue.csv
    owner: finance
    tier: 2
    checks:
      - row_count: { min: 1 }
stages:
  sum: { inputs: [orders], outputs: [revenue] }
exposures:
  board: { depends_on: [revenue], owner: cfo, tier: 1 }
"#;

/// A project with failing `orders` (a NULL id) and passing `revenue`, and `notify`.
fn project(notify: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        format!("{DATASETS}{notify}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("orders.csv"), "id,amount\n1,2\n,3\n").unwrap();
    std::fs::write(dir.path().join("revenue.csv"), "total\n5\n").unwrap();
    dir
}

fn hook(retry: &str) -> String {
    format!("notify:\n  channels:\n    hook: {{ webhook: \"${{HOOK_URL}}\" }}\n  retry: {retry}\n")
}

const QUICK: &str = "{ attempts: 3, backoff: 0.1s, within: 5s }";

fn with_hook(url: &str) -> [(&str, &str); 1] {
    [("HOOK_URL", url)]
}

fn fix_orders(d: &Path) {
    std::fs::write(d.join("orders.csv"), "id,amount\n1,2\n2,3\n").unwrap();
}

#[test]
fn one_alert_per_transition_retried_after_a_500_and_none_for_a_repeated_failing_run() {
    let r = Receiver::start(&[500, 200]);
    let url = format!("{}/alerts/secret-token", r.url);
    let p = project(&hook(QUICK));
    let d = p.path();
    let env = with_hook(&url);
    // 1. The failing run opens the breaker: one alert, posted twice (500, then 200).
    let o = run_env(d, &["check", "-f", "json"], &env);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let run_id = json(&o)["run_id"].as_str().unwrap().to_string();
    let got = r.received();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].body, got[1].body, "the retry sends the same alert");
    assert_eq!(got[1].path, "/alerts/secret-token");
    assert_eq!(got[1].header("content-type"), Some("application/json"));
    let a = got[1].json();
    assert_eq!(a["schema"], "sluice.alert/v1");
    assert_eq!(a["kind"], "open");
    assert_eq!(a["dataset"], "orders");
    assert_eq!(
        (a["owner"].as_str(), a["tier"].as_u64()),
        (Some("ingest"), Some(1))
    );
    assert_eq!(a["breaker"]["from"], "closed");
    assert_eq!(a["breaker"]["to"], "open");
    assert_eq!(a["breaker"]["halts"], true);
    assert_eq!(a["actor"], "sluice");
    assert_eq!(a["run_id"], run_id.as_str());
    assert_eq!(a["reason"], "1 failing check: not_null(id)");
    assert_eq!(a["failed_checks"][0]["name"], "not_null(id)");
    assert_eq!(a["failed_checks"][0]["column"], "id");
    assert!(
        a["failed_checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("NULL"),
        "{a}"
    );
    let blocked: Vec<&str> = a["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(blocked, ["board", "revenue"]);
    assert_eq!(a["blocks"][0]["owner"], "cfo");
    assert_eq!(a["blocks_total"], 2);
    let time = a["time"].as_str().unwrap();
    assert!(
        time.len() == 20 && time.as_bytes()[10] == b'T' && time.ends_with('Z'),
        "{time}"
    );
    assert!(
        stderr(&o).contains("breaker orders: closed → open"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("secret-token"), "{}", stderr(&o));
    // 2. The same failing run again: the breaker is already open, nothing new is sent.
    let o = run_env(d, &["check"], &env);
    assert_eq!(code(&o), 1);
    assert_eq!(r.received().len(), 2, "no duplicate alert");
    // 3. A person overrides it: one alert, by that person, with the expiry.
    let o = run_env(
        d,
        &[
            "breaker",
            "override",
            "orders",
            "--reason",
            "known issue",
            "--until",
            "2s",
        ],
        &env,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let got = r.received();
    assert_eq!(got.len(), 3);
    let a = got[2].json();
    assert_eq!(
        (
            a["kind"].as_str(),
            a["actor"].as_str(),
            a["reason"].as_str()
        ),
        (Some("override"), Some("tester"), Some("known issue"))
    );
    assert_eq!(a["breaker"]["to"], "override");
    assert_eq!(a["breaker"]["halts"], false);
    assert!(a["breaker"]["until"].as_str().is_some(), "{a}");
    assert_eq!(a["blocks"].as_array().unwrap().len(), 0);
    // 4. The override runs out: the next command reading the breaker sends `expire`.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let o = run_env(d, &["guard", "revenue"], &env);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    let got = r.received();
    assert_eq!(got.len(), 4);
    let a = got[3].json();
    assert_eq!(a["kind"], "expire");
    assert_eq!(
        (a["breaker"]["from"].as_str(), a["breaker"]["to"].as_str()),
        (Some("override"), Some("open"))
    );
    assert_eq!(a["failed_checks"][0]["name"], "not_null(id)");
    assert_eq!(a["blocks_total"], 2);
    // Read again: already expired, nothing more.
    assert_eq!(code(&run_env(d, &["breaker", "status"], &env)), 0);
    assert_eq!(r.received().len(), 4);
    // 5. A reset closes it.
    let o = run_env(
        d,
        &["breaker", "reset", "orders", "--reason", "feed replaced"],
        &env,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let got = r.received();
    assert_eq!(got.len(), 5);
    let a = got[4].json();
    assert_eq!(
        (a["kind"].as_str(), a["breaker"]["to"].as_str()),
        (Some("reset"), Some("closed"))
    );
    // 6. Fixed data passes; the breaker was closed already: nothing.
    fix_orders(d);
    assert_eq!(code(&run_env(d, &["check"], &env)), 0);
    assert_eq!(r.received().len(), 5);
}

#[test]
fn a_failed_run_below_trip_after_sends_run_failed_then_open_then_nothing() {
    let r = Receiver::start(&[]);
    let p = project(&hook(QUICK));
    let d = p.path();
    let config = std::fs::read_to_string(d.join("sluice.yaml"))
        .unwrap()
        .replace(
            "    tier: 1\n",
            "    tier: 1\n    breaker: { trip_after: 2 }\n",
        );
    std::fs::write(d.join("sluice.yaml"), config).unwrap();
    let env = with_hook(&r.url);
    let kinds = || -> Vec<String> {
        r.received()
            .iter()
            .map(|x| x.json()["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(code(&run_env(d, &["check"], &env)), 1);
    assert_eq!(kinds(), ["run_failed"]);
    let a = r.received()[0].json();
    assert_eq!(
        (
            a["breaker"]["failing_runs"].as_u64(),
            a["breaker"]["trip_after"].as_u64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(a["breaker"]["to"], "closed");
    assert_eq!(code(&run_env(d, &["check"], &env)), 1);
    assert_eq!(kinds(), ["run_failed", "open"]);
    assert_eq!(code(&run_env(d, &["check"], &env)), 1);
    assert_eq!(kinds(), ["run_failed", "open"]);
    // Passing runs close it (`reset: auto`): `close`.
    fix_orders(d);
    assert_eq!(code(&run_env(d, &["check"], &env)), 0);
    assert_eq!(kinds(), ["run_failed", "open", "close"]);
}

#[test]
fn slack_gets_text_and_blocks_at_the_url_from_the_environment() {
    let r = Receiver::start(&[]);
    let p = project("notify:\n  channels:\n    team:\n      slack: { url_env: SLACK_URL }\n");
    let d = p.path();
    let url = format!("{}/services/T000/B000/XXXX", r.url);
    // Validating needs no secret: the variable is read when an alert is sent.
    assert_eq!(code(&run(d, &["validate"])), 0);
    let o = run_env(d, &["check"], &[("SLACK_URL", &url)]);
    assert_eq!(code(&o), 1);
    let got = r.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/services/T000/B000/XXXX");
    let s = got[0].json();
    let text = s["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            ":red_circle: sluice: breaker orders: closed → open (1 failing check: not_null(id))"
        ),
        "{text}"
    );
    let blocks = s["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(blocks[0]["text"]["text"], "Breaker opened: orders");
    assert_eq!(blocks[1]["type"], "section");
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    let fields: Vec<&str> = blocks[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        &fields[..4],
        [
            "*Dataset*\n`orders`",
            "*Breaker*\nclosed → open",
            "*Owner*\ningest",
            "*Tier*\n1"
        ]
    );
    assert!(
        blocks[2]["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with("*Failed checks*\n• `not_null(id)`: ")
    );
    assert!(
        blocks[3]["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with("*Blocks 2 downstream*\n• `board` (exposure, cfo, tier 1)")
    );
    assert_eq!(blocks.last().unwrap()["type"], "context");
    // Without the variable: a warning naming it, the exit code unchanged.
    fix_orders(d);
    assert_eq!(code(&run(d, &["check"])), 0);
    std::fs::write(d.join("orders.csv"), "id,amount\n,1\n").unwrap();
    let o = run(d, &["check"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains(
            "alert not delivered: the environment variable SLACK_URL (`url_env`) is not set"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_exec_hook_reads_the_alert_on_stdin_and_its_failure_is_a_warning() {
    let p = project(
        r#"notify:
  channels:
    log: { exec: [sh, -c, "cat > alert-$SLUICE_ALERT_KIND.json"] }
    broken: { exec: "echo pager is down >&2; exit 7" }
  retry: { attempts: 2, backoff: 0.1s }
"#,
    );
    let d = p.path();
    let o = run(d, &["check"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("alert-open.json")).unwrap()).unwrap();
    assert_eq!(a["schema"], "sluice.alert/v1");
    assert_eq!(a["kind"], "open");
    assert_eq!(a["dataset"], "orders");
    assert!(
        stderr(&o).contains(
            "alert not delivered: `sh` exited with code 7: pager is down (after 2 attempt(s))"
        ),
        "{}",
        stderr(&o)
    );
    let o = run(
        d,
        &[
            "breaker",
            "trip",
            "revenue",
            "--reason",
            "vendor outage",
            "-f",
            "json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    json(&o);
    let a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("alert-trip.json")).unwrap()).unwrap();
    assert_eq!(
        (a["dataset"].as_str(), a["breaker"]["to"].as_str()),
        (Some("revenue"), Some("tripped"))
    );
    assert_eq!(a["blocks"][0]["name"], "board");
}

#[test]
fn routes_send_tier_1_to_the_pager_and_finance_to_its_team() {
    let r = Receiver::start(&[]);
    let p = project(
        r#"notify:
  channels:
    pager: { webhook: "${BASE}/pager" }
    finance: { webhook: { url: "${BASE}/finance", headers: { X-Token: "${TOKEN}" } } }
  routes:
    - when: { tier: 1, event: [open, trip, expire] }
      to: pager
    - when: { owner: finance }
      to: finance
"#,
    );
    let d = p.path();
    std::fs::write(d.join("revenue.csv"), "total\n").unwrap();
    let env = [("BASE", r.url.as_str()), ("TOKEN", "t0k3n")];
    let o = run_env(d, &["check"], &env);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let mut got: Vec<(String, String)> = r
        .received()
        .iter()
        .map(|x| {
            (
                x.path.clone(),
                x.json()["dataset"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("/finance".to_string(), "revenue".to_string()),
            ("/pager".to_string(), "orders".to_string())
        ]
    );
    let fin = r
        .received()
        .into_iter()
        .find(|x| x.path == "/finance")
        .unwrap();
    assert_eq!(fin.header("x-token"), Some("t0k3n"));
    // A reset of the tier-1 dataset is not for the pager (events: open, trip, expire).
    let o = run_env(d, &["breaker", "reset", "orders", "--reason", "ok"], &env);
    assert_eq!(code(&o), 0);
    assert_eq!(r.received().len(), 2);
}

#[test]
fn a_receiver_that_is_down_leaves_the_exit_code_and_warns_without_the_secret() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hooks/s3cr3t-path");
    let p = project(&hook("{ attempts: 2, backoff: 0.1s, within: 3s }"));
    let d = p.path();
    let env = with_hook(&url);
    let started = std::time::Instant::now();
    let o = run_env(d, &["check", "--json-summary"], &env);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("WARN"), "{err}");
    assert!(
        err.contains(&format!("alert not delivered: could not reach http://127.0.0.1:{port}/hooks/… after 2 attempt(s)")),
        "{err}"
    );
    assert!(!err.contains("s3cr3t"), "{err}");
    // The summary is still the last line of stdout.
    let last = stdout(&o).lines().last().unwrap().to_string();
    assert!(
        last.starts_with('{') && last.contains("\"exit_code\":1"),
        "{last}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // A person's command too: exit 0, a warning.
    let o = run_env(
        d,
        &["breaker", "reset", "orders", "--reason", "fixed"],
        &env,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("alert not delivered"), "{}", stderr(&o));
    // And with no breaker moved, no attempt at all.
    fix_orders(d);
    let o = run_env(d, &["check"], &env);
    assert_eq!(code(&o), 0);
    assert!(!stderr(&o).contains("alert"), "{}", stderr(&o));
}

#[test]
fn bad_notify_config_is_refused_with_where_and_how_to_fix() {
    let cases = [
        (
            "notify:\n  channels:\n    hook: { webhook: \"http://x\" }\n  routes:\n    - when: { tier: 1 }\n      tos: hook\n",
            "sluice.yaml:24:7",
            "unknown key `tos` in a route",
            "did you mean `to`?",
        ),
        (
            "notify:\n  channels:\n    hook:\n      webhook: { headers: { X-Token: abc } }\n",
            "sluice.yaml:22:16",
            "`webhook` of channel `hook` is missing `url`",
            "`url_env: NAME`",
        ),
        (
            "notify:\n  channels:\n    hook: { webhook: \"http://x\" }\n  routes:\n    - to: hooks\n",
            "sluice.yaml:23:11",
            "unknown channel `hooks`",
            "did you mean `hook`?",
        ),
        (
            "notify:\n  channels:\n    hook: { webhook: \"http://x\" }\n  routes:\n    - when: { event: [opened] }\n      to: hook\n",
            "sluice.yaml:23:22",
            "unknown event `opened`",
            "did you mean `open`?",
        ),
        (
            "notify:\n  channels:\n    hook: { webhook: \"hooks.example.com/x\" }\n",
            "sluice.yaml:21:22",
            "the `webhook` URL of channel `hook` is not an http:// or https:// URL",
            "url_env",
        ),
        (
            "notify:\n  channels:\n    hook: { email: a@b.c }\n",
            "sluice.yaml:21:5",
            "channel `hook` has no destination",
            "exec:",
        ),
    ];
    for (notify, at, message, help) in cases {
        let p = project(notify);
        for args in [&["validate"][..], &["check"][..]] {
            let o = run(p.path(), args);
            let err = stderr(&o);
            assert_eq!(code(&o), 2, "{notify}\n{err}");
            assert!(err.contains(at), "{at} in\n{err}");
            assert!(err.contains(message), "{message} in\n{err}");
            assert!(err.contains(help), "{help} in\n{err}");
        }
    }
}

#[test]
fn a_quarantined_publish_sends_open_and_a_passing_one_nothing() {
    let r = Receiver::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("sluice.yaml"),
        r#"version: 1
datasets:
  forecast:
    path: published/forecast/
    staging: staging/forecast/
    owner: fpa
    tier: 1
    breaker: { reset: manual }
    checks:
      - range: { column: revenue, min: 0 }
notify:
  channels:
    hook: { webhook: "${HOOK_URL}" }
"#,
    )
    .unwrap();
    let stage = |csv: &str| {
        std::fs::create_dir_all(d.join("staging/forecast")).unwrap();
        std::fs::write(d.join("staging/forecast/part-0.csv"), csv).unwrap();
    };
    let env = with_hook(&r.url);
    stage("day,revenue\n1,10\n");
    assert_eq!(code(&run_env(d, &["publish", "forecast"], &env)), 0);
    assert!(r.received().is_empty());
    stage("day,revenue\n1,-5\n");
    let o = run_env(d, &["publish", "forecast"], &env);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let got = r.received();
    assert_eq!(got.len(), 1);
    let a = got[0].json();
    assert_eq!(
        (a["kind"].as_str(), a["dataset"].as_str()),
        (Some("open"), Some("forecast"))
    );
    assert_eq!(a["breaker"]["reset"], "manual");
    assert_eq!(a["failed_checks"][0]["name"], "range(revenue)");
    // Blocked by its own open breaker: no run, nothing new.
    assert_eq!(code(&run_env(d, &["publish", "forecast"], &env)), 3);
    assert_eq!(r.received().len(), 1);
}
