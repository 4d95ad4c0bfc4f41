//! End-to-end tests of `sluice publish` (write–audit–publish) on real folders: a good run
//! publishes, a bad one is quarantined and opens the breaker, rollback and retention, bad
//! inputs, concurrent publishes of one dataset, and a publish killed at every step.

mod common;

use std::path::Path;

use common::{code, out, run, run_env, sluice};

const CONFIG: &str = r#"version: 1
datasets:
  revenue:
    path: published/revenue.csv
    owner: finance
    checks:
      - row_count: { min: 1 }
  forecast:
    path: published/forecast/
    staging: staging/forecast/
    owner: fpa
    keep_versions: 2
    breaker: { reset: manual }
    checks:
      - range: { column: revenue, min: 0 }
stages:
  fc: { inputs: [revenue], outputs: [forecast] }
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sluice.yaml"), CONFIG).unwrap();
    std::fs::create_dir_all(d.join("published")).unwrap();
    std::fs::write(d.join("published/revenue.csv"), "day,revenue\n1,10\n").unwrap();
    stage(d, "day,revenue\n1,10\n2,12\n");
    dir
}

fn stage(d: &Path, csv: &str) {
    std::fs::create_dir_all(d.join("staging/forecast")).unwrap();
    std::fs::write(d.join("staging/forecast/part-0.csv"), csv).unwrap();
}

/// What readers of `path` see.
fn published(d: &Path) -> Option<String> {
    std::fs::read_to_string(d.join("published/forecast/part-0.csv")).ok()
}

#[test]
fn publish_quarantine_reset_republish_rollback() {
    let p = project();
    let d = p.path();
    // A good run publishes v1; readers (sluice itself here) see it through `path`.
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("published forecast v1"), "{}", out(&o));
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,10\n2,12\n"));
    assert!(
        std::fs::symlink_metadata(d.join("published/forecast"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_dir(d.join("staging/forecast"))
            .unwrap()
            .count(),
        0,
        "staging emptied"
    );
    let o = run(d, &["check", "--dataset", "forecast", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("\"rows_scanned\": 2"), "{}", out(&o));
    // Nothing staged now: a clear error, exit 4.
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 4);
    assert!(
        out(&o).contains("nothing staged for `forecast`"),
        "{}",
        out(&o)
    );
    // A bad run is quarantined with its report, the breaker opens, `path` is untouched.
    stage(d, "day,revenue\n1,-5\n");
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 1, "{}", out(&o));
    assert!(out(&o).contains("quarantined at"), "{}", out(&o));
    let q: Vec<_> = std::fs::read_dir(d.join("quarantine/forecast"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(q.len(), 1);
    let qdir = q[0].path();
    assert_eq!(
        std::fs::read_to_string(qdir.join("data/part-0.csv")).unwrap(),
        "day,revenue\n1,-5\n"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(qdir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "failed");
    assert_eq!(
        report["run_id"].as_str(),
        qdir.file_name().unwrap().to_str()
    );
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,10\n2,12\n"));
    // Blocked now, even with good data staged: exit 3, nothing moves.
    stage(d, "day,revenue\n1,11\n");
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 3, "{}", out(&o));
    assert!(out(&o).contains("forecast (its own)  open"), "{}", out(&o));
    assert!(d.join("staging/forecast/part-0.csv").is_file());
    // A reset with a reason, and the rerun publishes v2.
    assert_eq!(
        code(&run(
            d,
            &["breaker", "reset", "forecast", "--reason", "feed fixed"]
        )),
        0
    );
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,11\n"));
    // v3, then retention keeps 2.
    stage(d, "day,revenue\n1,12\n");
    let o = run(d, &["publish", "forecast"]);
    assert!(out(&o).contains("removed v1"), "{}", out(&o));
    let mut versions: Vec<String> = std::fs::read_dir(d.join("published/.forecast.versions"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    versions.sort();
    assert_eq!(versions, ["v2", "v3"]);
    // Rollback to the previous version, audited; to an unknown one, refused.
    let o = run(d, &["publish", "forecast", "--rollback"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,11\n"));
    let o = run(d, &["publish", "forecast", "--rollback", "--to", "v9"]);
    assert_eq!(code(&o), 2);
    assert!(
        out(&o).contains("has no version v9; it has: v2, v3"),
        "{}",
        out(&o)
    );
    assert_eq!(
        code(&run(
            d,
            &["publish", "forecast", "--rollback", "--to", "v3"]
        )),
        0
    );
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,12\n"));
}

#[test]
fn bad_inputs() {
    let p = project();
    let d = p.path();
    let o = run(d, &["publish", "revenue"]);
    assert_eq!(code(&o), 2);
    assert!(
        out(&o).contains("has no `staging:`: add the folder"),
        "{}",
        out(&o)
    );
    let o = run(d, &["publish", "forecst"]);
    assert_eq!(code(&o), 2);
    assert!(out(&o).contains("did you mean `forecast`?"), "{}", out(&o));
    std::fs::remove_dir_all(d.join("staging")).unwrap();
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 4);
    assert!(out(&o).contains("(missing or empty)"), "{}", out(&o));
    assert!(!d.join("published/forecast").exists(), "nothing published");
    let o = run(d, &["publish", "forecast", "--rollback"]);
    assert_eq!(code(&o), 2, "{}", out(&o));
}

/// Four publishes of one dataset at once: one publishes, the others wait for the lock and
/// then find nothing staged; `path` is whole throughout.
#[test]
fn concurrent_publishes_of_one_dataset() {
    let p = project();
    let d = p.path();
    let children: Vec<_> = (0..4)
        .map(|_| {
            sluice()
                .args(["publish", "forecast", "--wait", "60s"])
                .current_dir(d)
                .env_remove("SLUICE_NO_STATE")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            let c = code(&o);
            assert!(
                c == 0 || (c == 4 && out(&o).contains("nothing staged")),
                "{c}: {}",
                out(&o)
            );
            c
        })
        .collect();
    assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 1, "{codes:?}");
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,10\n2,12\n"));
    // Without waiting, a publish in progress makes the other fail clearly (exit 4) — or
    // finish first; never a mix.
    stage(d, "day,revenue\n1,20\n");
    let a = sluice()
        .args(["publish", "forecast"])
        .current_dir(d)
        .env_remove("SLUICE_NO_STATE")
        .output();
    let b = run(d, &["publish", "forecast"]);
    let a = a.unwrap();
    for o in [&a, &b] {
        let c = code(o);
        assert!(c == 0 || c == 4, "{c}: {}", out(o));
        if c == 4 {
            assert!(
                out(o).contains("being published by") || out(o).contains("nothing staged"),
                "{}",
                out(o)
            );
        }
    }
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,20\n"));
}

/// Starts `sluice publish forecast`, waits until it pauses at `point`, and SIGKILLs it.
fn sigkill_at(d: &Path, point: &str) {
    let mut cmd = sluice();
    cmd.args(["publish", "forecast"])
        .current_dir(d)
        .env_remove("SLUICE_NO_STATE");
    common::kill_at(cmd, point);
}

/// A publish killed with SIGKILL at each step: `path` is always one whole version
/// published, staged or quarantined (never lost), and the next publish recovers.
#[test]
fn a_publish_killed_at_any_step_loses_nothing() {
    for point in [
        "publish:before-move",
        "publish:moved",
        "publish:before-switch",
        "publish:switched",
    ] {
        let p = project();
        let d = p.path();
        assert_eq!(code(&run(d, &["publish", "forecast"])), 0);
        let old = "day,revenue\n1,10\n2,12\n";
        let new = "day,revenue\n1,99\n";
        stage(d, new);
        sigkill_at(d, point);
        // Readers see one whole version.
        let seen = published(d);
        assert!(
            seen.as_deref() == Some(old) || seen.as_deref() == Some(new),
            "{point}: {seen:?}"
        );
        // The staged data is somewhere: staging, a version, or quarantine.
        let mut found = Vec::new();
        for entry in walk(d) {
            if entry.ends_with("part-0.csv")
                && std::fs::read_to_string(&entry).ok().as_deref() == Some(new)
            {
                found.push(entry);
            }
        }
        assert!(!found.is_empty(), "{point}: the staged data is gone");
        // The next publish recovers: the new data ends up published.
        let o = run(d, &["publish", "forecast"]);
        let c = code(&o);
        assert!(
            c == 0 || (c == 4 && out(&o).contains("nothing staged")),
            "{point}: {c} {}",
            out(&o)
        );
        if c == 4 {
            assert_eq!(
                point, "publish:switched",
                "only a finished switch leaves nothing staged"
            );
        }
        assert_eq!(published(d).as_deref(), Some(new), "{point}: {}", out(&o));
        let lines = out(&o);
        if point != "publish:before-move" {
            assert!(
                lines.contains("recovered an interrupted publish"),
                "{point}: {lines}"
            );
        }
        // And the one after that is a normal publish.
        stage(d, "day,revenue\n1,7\n");
        let o = run(d, &["publish", "forecast"]);
        assert_eq!(code(&o), 0, "{point}: {}", out(&o));
        assert!(!out(&o).contains("recovered"), "{point}: {}", out(&o));
        assert_eq!(published(d).as_deref(), Some("day,revenue\n1,7\n"));
    }
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).unwrap().flatten() {
                stack.push(e.path());
            }
        } else if meta.is_file() {
            out.push(p);
        }
    }
    out
}

/// While a publish switches versions, readers of `path` always get a whole version: never
/// an error, never a mix.
#[test]
fn readers_see_the_old_version_or_the_new_one() {
    let p = project();
    let d = p.path().to_path_buf();
    assert_eq!(code(&run(&d, &["publish", "forecast"])), 0);
    let versions: Vec<String> = (0..8)
        .map(|k| format!("day,revenue\n1,{k}\n2,{k}\n"))
        .collect();
    let mut whole: Vec<String> = versions.clone();
    whole.push("day,revenue\n1,10\n2,12\n".into());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (d, stop, whole) = (d.clone(), stop.clone(), whole.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let seen = std::fs::read_to_string(d.join("published/forecast/part-0.csv"));
                let seen = seen.unwrap_or_else(|e| panic!("read {reads}: {e}"));
                assert!(whole.contains(&seen), "read {reads}: {seen:?}");
                reads += 1;
            }
            reads
        })
    };
    for v in &versions {
        stage(&d, v);
        let o = run(&d, &["publish", "forecast"]);
        assert_eq!(code(&o), 0, "{}", out(&o));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader
        .join()
        .expect("no reader saw a missing or mixed version");
    assert!(reads > 100, "the reader ran throughout ({reads} reads)");
    assert_eq!(published(&d).as_deref(), Some(versions[7].as_str()));
}

/// A failing publish killed after its data moved to quarantine, before the report was
/// written: the data is in quarantine (not lost, not published), `path` is untouched, and
/// the next publish of good data goes through once the breaker is reset.
#[test]
fn a_quarantine_killed_halfway_loses_nothing() {
    let p = project();
    let d = p.path();
    assert_eq!(code(&run(d, &["publish", "forecast"])), 0);
    stage(d, "day,revenue\n1,-1\n");
    let o = run_env(
        d,
        &["publish", "forecast"],
        &[("SLUICE_FAULT", "publish:quarantined")],
    );
    assert!(o.status.code().is_none(), "killed: {}", out(&o));
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,10\n2,12\n"));
    let bad: Vec<_> = walk(&d.join("quarantine"))
        .into_iter()
        .filter(|p| std::fs::read_to_string(p).ok().as_deref() == Some("day,revenue\n1,-1\n"))
        .collect();
    assert_eq!(bad.len(), 1, "the failed data is in quarantine");
    assert_eq!(
        code(&run(
            d,
            &[
                "breaker",
                "reset",
                "forecast",
                "--reason",
                "bad batch set aside"
            ]
        )),
        0
    );
    stage(d, "day,revenue\n1,3\n");
    let o = run(d, &["publish", "forecast"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,3\n"));
}

/// A project whose dataset `daily` is one file, with `n\n1\n` staged.
fn file_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("sluice.yaml"),
        "version: 1\ndatasets:\n  daily:\n    path: out/daily.csv\n    staging: staging/daily.csv\n    checks:\n      - row_count: { min: 1 }\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("staging")).unwrap();
    std::fs::write(d.join("staging/daily.csv"), "n\n1\n").unwrap();
    dir
}

/// A dataset that is one file: versions hold the file, `path` links to it; a `path` that
/// was a real file before is kept as v0 and can be rolled back to.
#[test]
fn a_single_file_dataset_and_an_existing_path() {
    let dir = file_project();
    let d = dir.path();
    std::fs::create_dir_all(d.join("out")).unwrap();
    std::fs::write(d.join("out/daily.csv"), "n\n0\n").unwrap();
    let o = run(d, &["publish", "daily"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("out/daily.csv")).unwrap(),
        "n\n1\n"
    );
    assert!(
        std::fs::symlink_metadata(d.join("out/daily.csv"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!d.join("staging/daily.csv").exists(), "moved, not copied");
    // What was there before sluice is v0, and a rollback brings it back.
    assert_eq!(
        std::fs::read_to_string(d.join("out/.daily.csv.versions/v0/daily.csv")).unwrap(),
        "n\n0\n"
    );
    let o = run(d, &["publish", "daily", "--rollback"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("out/daily.csv")).unwrap(),
        "n\n0\n"
    );
    // Readers through the link: sluice's own check of the published path.
    let o = run(d, &["check", "--dataset", "daily"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
}

/// A single-file publish killed after its file moved into a version: the next publish puts
/// the file back in staging and publishes it.
#[test]
fn a_single_file_publish_killed_midway_recovers() {
    let dir = file_project();
    let d = dir.path();
    let o = run_env(
        d,
        &["publish", "daily"],
        &[("SLUICE_FAULT", "publish:moved")],
    );
    assert!(o.status.code().is_none(), "killed: {}", out(&o));
    assert!(!d.join("staging/daily.csv").exists());
    let o = run(d, &["publish", "daily"]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("moved back to"), "{}", out(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("out/daily.csv")).unwrap(),
        "n\n1\n"
    );
}
