//! Object stores end to end, against a real S3 API server on loopback (`.ci/s3.sh`: moto
//! with request signing enforced): the example's checks read from S3 give the local
//! verdicts; parity of S3 against local finds the generator's known differences; the bad
//! cases (no such bucket, wrong credentials, an object deleted mid-run, an unreachable
//! endpoint) are errors naming the URL and the cause, exit 4, with no secret printed; and
//! write–audit–publish on S3 (pointer, quarantine, rollback, a concurrent publisher, a
//! publish killed at every step).

mod common;

use std::io::BufRead;
use std::path::Path;

use common::s3::{S3, server, server_bucket};
use common::{code, out, repo, run_env, sluice, verdicts};
use serde_json::Value;

/// Runs sluice in `dir` with the S3 credentials in the environment.
fn run_s3(s3: &S3, dir: &Path, args: &[&str]) -> std::process::Output {
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_env(dir, args, &env)
}

fn report(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

#[test]
fn the_example_read_from_s3_gives_the_local_verdicts() {
    let Some(s3) = server("example") else { return };
    let prefix = s3.prefix("example");
    let example = repo().join("examples/orders");
    s3.upload(&example.join("data"), &prefix);
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example.join("sluice.yaml"))
        .unwrap()
        .replace("path: data/", &format!("path: {prefix}"));
    std::fs::write(
        dir.path().join("sluice.yaml"),
        format!("{text}\n{}", s3.storage_yaml()),
    )
    .unwrap();
    let o = run_s3(
        &s3,
        dir.path(),
        &["check", "--format", "json", "--no-state"],
    );
    assert_eq!(code(&o), 1, "{}", out(&o));
    let remote = report(&o);
    let o = sluice()
        .args(["check", "--format", "json", "--no-state", "--config"])
        .arg(example.join("sluice.yaml"))
        .output()
        .unwrap();
    let local = report(&o);
    assert_eq!(verdicts(&remote), verdicts(&local));
    assert!(verdicts(&remote).len() > 20);
    // CSV, Parquet and hive-partitioned NDJSON all came from the store.
    let paths: Vec<&str> = remote["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["path"].as_str())
        .collect();
    assert!(paths.iter().all(|p| p.starts_with("s3://")), "{paths:?}");
}

#[test]
fn parity_of_s3_against_local_finds_the_known_differences() {
    let Some(s3) = server("parity") else { return };
    let prefix = s3.prefix("parity");
    let data = repo().join("tests/fixtures/gen5000");
    s3.upload(
        &data.join("orders_target.parquet"),
        &format!("{prefix}orders_target.parquet"),
    );
    let config = |target: &str| {
        format!(
            "datasets:\n  orders:\n    path: {}/orders.parquet\n  orders_target:\n    path: {target}\n    parity:\n      - against: orders\n        name: rows\n        keys: [order_id]\n        compare: all\n        sum: {{ columns: [amount], tolerance: 0.01 }}\n{}",
            data.display(),
            s3.storage_yaml()
        )
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        config(&format!("{prefix}orders_target.parquet")),
    )
    .unwrap();
    let remote = run_s3(
        &s3,
        dir.path(),
        &["check", "--format", "json", "--no-state"],
    );
    std::fs::write(
        dir.path().join("sluice.yaml"),
        config(&data.join("orders_target.parquet").display().to_string()),
    )
    .unwrap();
    let local = run_s3(
        &s3,
        dir.path(),
        &["check", "--format", "json", "--no-state"],
    );
    assert_eq!(code(&remote), 1, "{}", out(&remote));
    let (remote, local) = (report(&remote), report(&local));
    assert_eq!(verdicts(&remote), verdicts(&local));
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("manifest.json")).unwrap())
            .unwrap();
    let rows = &remote["checks"][0]["observed"]["rows"];
    assert_eq!(rows["missing"], m["target_dropped_rows"], "{rows}");
    assert_eq!(rows["changed"], m["target_changed_amounts"], "{rows}");
}

/// A config with one dataset at `path` and `storage`, in a fresh folder.
fn one_dataset(path: &str, storage: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        format!("datasets:\n  orders:\n    path: {path}\n    checks:\n      - row_count: {{ min: 1 }}\n{storage}"),
    )
    .unwrap();
    dir
}

#[test]
fn a_missing_bucket_is_named_with_its_cause_exit_4() {
    let Some(s3) = server("missing_bucket") else {
        return;
    };
    let storage = s3
        .storage_yaml()
        .replace("s3://sluice-test/", "s3://no-such-bucket-here/");
    let dir = one_dataset("s3://no-such-bucket-here/orders/", &storage);
    let o = run_s3(&s3, dir.path(), &["check", "--no-state"]);
    assert_eq!(code(&o), 4, "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("s3://no-such-bucket-here/orders/"), "{text}");
    assert!(text.contains("no such bucket"), "{text}");
}

#[test]
fn a_missing_object_or_prefix_is_not_found_exit_4() {
    let Some(s3) = server("missing_object") else {
        return;
    };
    let prefix = s3.prefix("missing_object");
    let dir = one_dataset(&format!("{prefix}orders.parquet"), &s3.storage_yaml());
    let o = run_s3(&s3, dir.path(), &["check", "--no-state"]);
    assert_eq!(code(&o), 4, "{}", out(&o));
    assert!(
        out(&o).contains(&format!("nothing found at {prefix}orders.parquet")),
        "{}",
        out(&o)
    );
}

#[test]
fn wrong_credentials_are_refused_exit_4_and_no_secret_is_printed() {
    let Some(s3) = server("wrong_credentials") else {
        return;
    };
    let prefix = s3.prefix("wrong_credentials");
    s3.upload(
        &repo().join("examples/orders/data/orders.parquet"),
        &format!("{prefix}orders.parquet"),
    );
    let dir = one_dataset(&format!("{prefix}orders.parquet"), &s3.storage_yaml());
    let secret = "WRONGsecretVALUE0123456789abcdefWRONG";
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        format!("[sluice-test]\naws_access_key_id = AKIAWRONGKEY0000\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    for env in [
        vec![("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap())],
        vec![
            ("AWS_ACCESS_KEY_ID", "AKIAWRONGKEY0000"),
            ("AWS_SECRET_ACCESS_KEY", secret),
        ],
    ] {
        for format in ["text", "json"] {
            let o = run_env(
                dir.path(),
                &[
                    "check",
                    "--no-state",
                    "--format",
                    format,
                    "--log-format",
                    "json",
                    "-v",
                ],
                &env,
            );
            assert_eq!(code(&o), 4, "{}", out(&o));
            let text = out(&o);
            assert!(text.contains("the credentials were refused"), "{text}");
            assert!(text.contains(&format!("{prefix}orders.parquet")), "{text}");
            assert!(!text.contains(secret), "the secret leaked: {text}");
        }
    }
}

#[test]
fn an_unreachable_endpoint_fails_in_seconds_exit_4() {
    let Some(s3) = server("unreachable") else {
        return;
    };
    let storage = s3
        .storage_yaml()
        .replace(&s3.endpoint, "http://127.0.0.1:9");
    let dir = one_dataset("s3://sluice-test/x/orders.parquet", &storage);
    let started = std::time::Instant::now();
    let o = run_s3(&s3, dir.path(), &["check", "--no-state"]);
    assert_eq!(code(&o), 4, "{}", out(&o));
    assert!(out(&o).contains("cannot be reached"), "{}", out(&o));
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn an_object_deleted_mid_run_is_an_error_naming_it_exit_4() {
    let Some(s3) = server("deleted_mid_run") else {
        return;
    };
    let prefix = s3.prefix("deleted_mid_run");
    let data = repo().join("tests/fixtures/gen5000");
    s3.upload(
        &data.join("orders.parquet"),
        &format!("{prefix}orders/part-0.parquet"),
    );
    s3.upload(
        &data.join("orders_target.parquet"),
        &format!("{prefix}orders/part-1.parquet"),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        // A check the Parquet footers cannot answer (a float's range), so the data is read.
        format!("datasets:\n  orders:\n    path: {prefix}orders/\n    checks:\n      - range: {{ column: amount, min: -1000000 }}\n{}", s3.storage_yaml()),
    )
    .unwrap();
    let go = dir.path().join("go");
    let mut child = sluice()
        .args(["check", "--no-state", "--color", "never"])
        .current_dir(dir.path())
        .env("AWS_SHARED_CREDENTIALS_FILE", &s3.credentials)
        .env(
            "SLUICE_FAULT",
            format!("sources-opened:until={}", go.display()),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        if line.unwrap() == "paused at sources-opened" {
            break;
        }
    }
    // Listed and its footers read: now the object goes away.
    s3.delete(&format!("{prefix}orders/part-1.parquet"));
    std::fs::write(&go, "").unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let o = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), rest.join("\n"));
    assert_eq!(o.status.code(), Some(4), "{text}");
    assert!(text.contains(&format!("{prefix}orders/")), "{text}");
    assert!(
        text.contains("no such object") || text.contains("not found"),
        "{text}"
    );
}

#[test]
fn an_https_file_is_read_with_its_checks() {
    // A plain HTTP server (Python's, which has no listing API, like most) serving a CSV.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("examples/orders/data/customers.csv"),
        dir.path().join("customers.csv"),
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let Ok(mut server) = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        eprintln!("skipping: no python3 for an HTTP server");
        return;
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg.path().join("sluice.yaml"),
        format!("datasets:\n  customers:\n    path: http://127.0.0.1:{port}/customers.csv\n    checks:\n      - row_count: {{ min: 800, max: 800 }}\n      - unique: customer_id\n  folder:\n    path: http://127.0.0.1:{port}/\n    checks:\n      - row_count: {{ min: 1 }}\n"),
    )
    .unwrap();
    let o = run_env(
        cfg.path(),
        &[
            "check",
            "--no-state",
            "--format",
            "json",
            "--dataset",
            "customers",
        ],
        &[],
    );
    let folder = run_env(
        cfg.path(),
        &["check", "--no-state", "--dataset", "folder"],
        &[],
    );
    let _ = server.kill();
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(report(&o)["checks"][0]["status"], "pass");
    assert_eq!(code(&folder), 4, "{}", out(&folder));
    assert!(
        out(&folder).contains("HTTP(S) paths must name one file"),
        "{}",
        out(&folder)
    );
}

// --- write–audit–publish on S3 ------------------------------------------------------------

/// A publishing project on S3: `forecast` at `<prefix>published/forecast/`, staged at
/// `<prefix>staging/forecast/`, checks `revenue >= 0`.
fn wap_project(s3: &S3, prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        format!(
            "datasets:\n  forecast:\n    path: {prefix}published/forecast/\n    staging: {prefix}staging/forecast/\n    keep_versions: 2\n    checks:\n      - range: {{ column: revenue, min: 0 }}\n{}",
            s3.storage_yaml()
        ),
    )
    .unwrap();
    dir
}

fn stage(s3: &S3, prefix: &str, csv: &str) {
    s3.put(
        &format!("{prefix}staging/forecast/part-0.csv"),
        csv.as_bytes().to_vec(),
    );
}

/// What `sluice check` reads at `path` (through the pointer): its rows' revenues.
fn published_rows(s3: &S3, dir: &Path) -> Option<u64> {
    let o = run_s3(s3, dir, &["check", "--no-state", "--format", "json"]);
    let r: Value = serde_json::from_slice(&o.stdout).ok()?;
    r["datasets"][0]["rows_scanned"].as_u64()
}

#[test]
fn publish_on_s3_switches_the_pointer_quarantines_and_rolls_back() {
    let Some(s3) = server_bucket("wap", "sluice-wap") else {
        return;
    };
    let prefix = s3.prefix("wap");
    let dir = wap_project(&s3, &prefix);
    let d = dir.path();
    stage(&s3, &prefix, "day,revenue\n1,10\n2,12\n");
    let o = run_s3(&s3, d, &["publish", "forecast"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("published forecast v1"), "{}", out(&o));
    let pointer: Value = serde_json::from_slice(
        &s3.get(&format!(
            "{prefix}published/forecast/_sluice_published.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(pointer["version"], "v1");
    assert_eq!(
        pointer["location"],
        format!("{prefix}published/forecast/v1/")
    );
    assert!(
        s3.list(&format!("{prefix}staging/forecast/")).is_empty(),
        "staging emptied"
    );
    assert_eq!(published_rows(&s3, d), Some(2));

    // v2 with three rows.
    stage(&s3, &prefix, "day,revenue\n1,10\n2,12\n3,14\n");
    assert_eq!(code(&run_s3(&s3, d, &["publish", "forecast"])), 0);
    assert_eq!(published_rows(&s3, d), Some(3));

    // Bad data: quarantined under _quarantine/<run>/ with its report; v2 stays.
    stage(&s3, &prefix, "day,revenue\n1,-5\n");
    let o = run_s3(&s3, d, &["publish", "forecast"]);
    assert_eq!(code(&o), 1, "{}", out(&o));
    let quarantined = s3.list(&format!("{prefix}published/forecast/_quarantine/"));
    assert!(
        quarantined.iter().any(|u| u.ends_with("/part-0.csv")),
        "{quarantined:?}"
    );
    assert!(
        quarantined.iter().any(|u| u.ends_with("/report.json")),
        "{quarantined:?}"
    );
    assert!(s3.list(&format!("{prefix}staging/forecast/")).is_empty());
    assert_eq!(published_rows(&s3, d), Some(3));

    // Reset and publish v3: keep_versions 2 removes v1.
    let o = run_s3(
        &s3,
        d,
        &["breaker", "reset", "forecast", "--reason", "fixed upstream"],
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    stage(&s3, &prefix, "day,revenue\n1,1\n");
    assert_eq!(code(&run_s3(&s3, d, &["publish", "forecast"])), 0);
    assert_eq!(published_rows(&s3, d), Some(1));
    assert!(
        s3.list(&format!("{prefix}published/forecast/v1/"))
            .is_empty(),
        "v1 removed by keep_versions"
    );

    // Rollback to v2.
    let o = run_s3(&s3, d, &["publish", "forecast", "--rollback"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(published_rows(&s3, d), Some(3));
    let o = run_s3(&s3, d, &["publish", "forecast", "--rollback", "--to", "v9"]);
    assert_eq!(code(&o), 2, "{}", out(&o));
    assert!(out(&o).contains("has no version v9"), "{}", out(&o));
}

#[test]
fn a_concurrent_publisher_cannot_also_switch_the_pointer() {
    let Some(s3) = server_bucket("concurrent", "sluice-wap") else {
        return;
    };
    let prefix = s3.prefix("concurrent");
    let dir = wap_project(&s3, &prefix);
    let d = dir.path();
    stage(&s3, &prefix, "day,revenue\n1,10\n");
    assert_eq!(code(&run_s3(&s3, d, &["publish", "forecast"])), 0);
    stage(&s3, &prefix, "day,revenue\n1,10\n2,20\n");
    // This publish pauses after copying; meanwhile another publisher (another state store,
    // so no shared lock) switches the pointer.
    let go = d.join("go");
    let mut child = sluice()
        .args(["publish", "forecast", "--color", "never"])
        .current_dir(d)
        .env_remove("SLUICE_NO_STATE")
        .env("AWS_SHARED_CREDENTIALS_FILE", &s3.credentials)
        .env(
            "SLUICE_FAULT",
            format!("publish:moved:until={}", go.display()),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap() == "paused at publish:moved" {
            break;
        }
    }
    let pointer_url = format!("{prefix}published/forecast/_sluice_published.json");
    let mut other: Value = serde_json::from_slice(&s3.get(&pointer_url).unwrap()).unwrap();
    other["published_at"] = Value::from("2026-11-30T00:00:00Z");
    s3.put(&pointer_url, serde_json::to_vec(&other).unwrap());
    std::fs::write(&go, "").unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let o = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), rest.join("\n"));
    assert_eq!(o.status.code(), Some(4), "{text}");
    assert!(text.contains("was published by someone else"), "{text}");
    // The other publisher's pointer stands; this publish's data is still staged.
    let now: Value = serde_json::from_slice(&s3.get(&pointer_url).unwrap()).unwrap();
    assert_eq!(now, other);
    assert_eq!(s3.list(&format!("{prefix}staging/forecast/")).len(), 1);
}

/// Starts `sluice publish forecast`, waits until it pauses at `point`, and SIGKILLs it.
fn sigkill_at(s3: &S3, d: &Path, point: &str) {
    let mut cmd = sluice();
    cmd.args(["publish", "forecast"])
        .current_dir(d)
        .env_remove("SLUICE_NO_STATE")
        .env("AWS_SHARED_CREDENTIALS_FILE", &s3.credentials);
    common::kill_at(cmd, point);
}

/// A publish (or quarantine) on S3 killed at each step: readers see one whole version,
/// the staged data is never lost, and the next publish recovers.
#[test]
fn a_publish_on_s3_killed_at_any_step_loses_nothing() {
    let Some(s3) = server_bucket("crash", "sluice-wap") else {
        return;
    };
    let old = "day,revenue\n1,10\n2,12\n";
    for (point, new, rows_after) in [
        ("publish:before-move", "day,revenue\n1,99\n", 1),
        ("publish:moved", "day,revenue\n1,99\n", 1),
        ("publish:before-switch", "day,revenue\n1,99\n", 1),
        ("publish:switched", "day,revenue\n1,99\n", 1),
        ("publish:quarantined", "day,revenue\n1,-99\n", 2),
    ] {
        let prefix = s3.prefix("crash");
        let dir = wap_project(&s3, &prefix);
        let d = dir.path();
        stage(&s3, &prefix, old);
        assert_eq!(code(&run_s3(&s3, d, &["publish", "forecast"])), 0);
        stage(&s3, &prefix, new);
        sigkill_at(&s3, d, point);
        // Readers see one whole version.
        let rows = published_rows(&s3, d);
        assert!(rows == Some(2) || rows == Some(1), "{point}: {rows:?}");
        // The staged data is somewhere: staged, in a version, or in quarantine.
        let everywhere = s3.list(&prefix);
        let copies = everywhere
            .iter()
            .filter(|u| u.ends_with("part-0.csv"))
            .filter(|u| s3.get(u).as_deref() == Some(new.as_bytes()))
            .count();
        assert!(
            copies >= 1,
            "{point}: the staged data is gone: {everywhere:?}"
        );
        // The next publish recovers; then the data ends where it belongs.
        let o = run_s3(&s3, d, &["publish", "forecast"]);
        let text = out(&o);
        assert!(
            text.contains("recovered") || text.contains("nothing staged"),
            "{point}: {text}"
        );
        if s3.list(&format!("{prefix}staging/forecast/")).is_empty() {
            assert_eq!(published_rows(&s3, d), Some(rows_after), "{point}");
        } else {
            let o = run_s3(&s3, d, &["publish", "forecast"]);
            assert!(matches!(code(&o), 0 | 1), "{point}: {}", out(&o));
            assert_eq!(published_rows(&s3, d), Some(rows_after), "{point}");
        }
        assert!(
            s3.list(&format!("{prefix}staging/forecast/")).is_empty(),
            "{point}: staging left"
        );
        // No partial version is left behind.
        for u in s3.list(&format!("{prefix}published/forecast/")) {
            assert!(!u.contains("/v3/"), "{point}: a partial version {u}");
        }
    }
}

/// The standard AWS environment alone (endpoint, region, profile: no `storage:` block)
/// reaches the store, e.g. for `sluice init --from s3://…`.
#[test]
fn init_from_an_s3_url_with_only_the_aws_environment() {
    let Some(s3) = server("init") else { return };
    let prefix = s3.prefix("init");
    s3.upload(
        &repo().join("examples/orders/data/orders.parquet"),
        &format!("{prefix}orders.parquet"),
    );
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{prefix}orders.parquet");
    let creds = s3.credentials.display().to_string();
    let env = [
        ("AWS_SHARED_CREDENTIALS_FILE", creds.as_str()),
        ("AWS_PROFILE", "sluice-test"),
        ("AWS_ENDPOINT_URL", s3.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
    ];
    let o = run_env(
        dir.path(),
        &["init", "--from", &url, "-o", "sluice.yaml"],
        &env,
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    let yaml = std::fs::read_to_string(dir.path().join("sluice.yaml")).unwrap();
    assert!(yaml.contains(&format!("path: \"{url}\"")), "{yaml}");
    let o = run_env(dir.path(), &["check", "--no-state"], &env);
    assert_eq!(code(&o), 0, "{}", out(&o));
}

#[test]
fn a_store_that_does_not_answer_times_out_exit_4() {
    let Some(s3) = server("timeout") else { return };
    // Accepts connections (the kernel completes the handshake) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let storage = s3.storage_yaml().replace(&s3.endpoint, &endpoint).replace(
        "    region: us-east-1\n",
        "    region: us-east-1\n    timeout: 1s\n",
    );
    let dir = one_dataset("s3://sluice-test/x/orders.parquet", &storage);
    let started = std::time::Instant::now();
    let o = run_s3(&s3, dir.path(), &["check", "--no-state"]);
    assert_eq!(code(&o), 4, "{}", out(&o));
    assert!(out(&o).contains("timed out"), "{}", out(&o));
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
    drop(silent);
}

#[test]
fn globs_on_s3_select_objects_and_one_matching_nothing_says_so() {
    let Some(s3) = server("globs") else { return };
    let prefix = s3.prefix("globs");
    let data = repo().join("tests/fixtures/gen5000");
    s3.upload(
        &data.join("orders.parquet"),
        &format!("{prefix}orders/part-0.parquet"),
    );
    s3.upload(
        &data.join("orders.parquet"),
        &format!("{prefix}orders/part-1.parquet"),
    );
    s3.put(&format!("{prefix}orders/_SUCCESS"), Vec::new());
    s3.put(&format!("{prefix}orders/notes.txt"), b"not data".to_vec());
    let rows = |path: &str| {
        let dir = one_dataset(path, &s3.storage_yaml());
        let o = run_s3(
            &s3,
            dir.path(),
            &["check", "--no-state", "--format", "json"],
        );
        (
            code(&o),
            report(&o)["datasets"][0]["rows_scanned"].as_u64(),
            out(&o),
        )
    };
    let (c, one, o) = rows(&format!("{prefix}orders/part-1*.parquet"));
    assert_eq!(c, 0, "{o}");
    let (c, both, o) = rows(&format!("{prefix}orders/part-*.parquet"));
    assert_eq!(c, 0, "{o}");
    assert_eq!(both, one.map(|n| n * 2));
    // The prefix itself: the two data objects, not `_SUCCESS` or the stray text file.
    let (c, folder, o) = rows(&format!("{prefix}orders/"));
    assert_eq!((c, folder), (0, both), "{o}");
    let (c, _, o) = rows(&format!("{prefix}orders/part-9*.parquet"));
    assert_eq!(c, 4, "{o}");
    assert!(o.contains("no files match"), "{o}");
}
