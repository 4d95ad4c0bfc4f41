//! Regression tests: one per defect fixed, each named after what it guards. Most run the
//! real binary on real files (like a user would meet the defect); a few call a library
//! directly where the binary cannot reach the case.
//!
//! The defects of issue 9's bad-input tour are grouped by where they live: the config
//! loader, the sources, the state store, the command line.

mod common;

use std::path::Path;
use std::process::Output;

use common::{sluice, transcript};

/// Writes `files` (path, contents) under `dir`.
fn write_files(dir: &Path, files: &[(&str, &[u8])]) {
    for (name, bytes) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, bytes).unwrap();
    }
}

/// Runs the binary in `dir` with `args`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    sluice().args(args).current_dir(dir).output().unwrap()
}

/// The exit code and the normalised transcript of a run in `dir`.
fn outcome(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = run_in(dir, args);
    (out.status.code().unwrap_or(-1), transcript(&out, dir))
}

// ---- the config loader ------------------------------------------------------------

// ---- sources --------------------------------------------------------------------------

// ---- the state store and publishing ---------------------------------------------------

/// A project with one dataset; its state store is wherever the test points it.
const PROJECT: &[(&str, &[u8])] = &[
    (
        "sluice.yaml",
        b"version: 1\ndatasets:\n  orders:\n    path: orders.csv\n    checks:\n      - row_count: { min: 1 }\n",
    ),
    ("orders.csv", b"id\n1\n"),
];

/// Runs the binary in `dir` with the state store on, at `state` (`SLUICE_STATE`).
fn run_with_state(dir: &Path, state: &str, args: &[&str]) -> Output {
    sluice()
        .args(args)
        .current_dir(dir)
        .env_remove("SLUICE_NO_STATE")
        .env("SLUICE_STATE", state)
        .output()
        .unwrap()
}

/// The files in `dir`, with their bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

/// The store used to open any SQLite file: on another application's database it added its
/// tables and switched the file to WAL. It now refuses a file that has tables but no sluice
/// schema before writing anything to it (exit 4); an empty file is still initialised.
#[test]
fn the_state_store_refuses_another_applications_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_files(d, PROJECT);
    let app = d.join("app.db");
    {
        let c = rusqlite::Connection::open(&app).unwrap();
        c.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE invoices (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL);
             INSERT INTO users VALUES (1, 'ana');",
        )
        .unwrap();
    }
    let before = snapshot(d);

    for args in [&["breaker", "status"][..], &["check"], &["guard", "orders"]] {
        let out = run_with_state(d, "sqlite:app.db", args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        for needle in [
            app.display().to_string().as_str(),
            "belongs to another application",
            "tables of its own (invoices, users)",
            "no sluice schema",
            "has not changed it",
            "`state:`",
            "SLUICE_STATE",
        ] {
            assert!(
                stderr.contains(needle),
                "{args:?}: `{needle}` missing: {stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            out.stdout.is_empty(),
            "nothing ran: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        // Nothing written: the same files with the same bytes (no -wal, no -shm, no
        // journal), still in its own journal mode, with only its own tables.
        assert_eq!(snapshot(d), before, "{args:?} changed the folder");
    }
    let c = rusqlite::Connection::open(&app).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    drop(c);

    // The same through `state:` in the config.
    let config = format!(
        "{}state: sqlite:app.db\n",
        String::from_utf8_lossy(PROJECT[0].1)
    );
    write_files(d, &[("sluice.yaml", config.as_bytes())]);
    let before = snapshot(d);
    let (code, transcript) = outcome(d, &["breaker", "status"]);
    assert_eq!(code, 4, "{transcript}");
    assert!(
        transcript.contains("[CASE]/app.db belongs to another application"),
        "{transcript}"
    );
    assert_eq!(snapshot(d), before);

    // An empty file, and a database without tables, are sluice's to initialise.
    std::fs::write(d.join("empty.db"), b"").unwrap();
    rusqlite::Connection::open(d.join("no_tables.db"))
        .unwrap()
        .execute_batch("PRAGMA user_version = 7;")
        .unwrap();
    for file in ["empty.db", "no_tables.db"] {
        let out = run_with_state(d, &format!("sqlite:{file}"), &["breaker", "status"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let c = rusqlite::Connection::open(d.join(file)).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert!(n > 0, "{file} initialised");
    }
}

/// Whether this process runs as root (the tests do, in CI too).
#[cfg(target_os = "linux")]
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// The binary, unable to write what the permission bits forbid, even as root.
///
/// Root ignores permission bits, so a `chmod 555` folder is no test by itself. Of the ways
/// to get a place root cannot write — a read-only mount or bind (needs CAP_SYS_ADMIN, which
/// containers lack), `chattr +i` (needs CAP_LINUX_IMMUTABLE and a file system that has the
/// flag; overlayfs and tmpfs may not), `/proc` or `/sys` (no real store can live there) —
/// this one works on any Linux machine where the tests run as root, containers included:
/// `setpriv` (util-linux, on every Debian and Ubuntu) drops CAP_DAC_OVERRIDE,
/// CAP_DAC_READ_SEARCH and CAP_FOWNER from the bounding set before running sluice, so the
/// process keeps uid 0 (the binary and the temp folder stay readable) but obeys the
/// permission bits like the service account that runs sluice in production. This needs
/// CAP_SETPCAP, which root has in Docker's default set too. As another user, the
/// permission bits are enough and sluice runs directly.
#[cfg(target_os = "linux")]
fn without_root_powers(dir: &Path, state: &str, args: &[&str]) -> Output {
    let mut c = if running_as_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--bounding-set=-dac_override,-dac_read_search,-fowner",
            "--",
            env!("CARGO_BIN_EXE_sluice"),
        ]);
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
    };
    // As common::sluice() does, but with the store on.
    for v in [
        "SLUICE_CONFIG",
        "SLUICE_FORMAT",
        "SLUICE_LOG",
        "NO_COLOR",
        "SLUICE_NO_STATE",
    ] {
        c.env_remove(v);
    }
    c.args(args)
        .current_dir(dir)
        .env("SLUICE_STATE", state)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sluice (through setpriv when root): {e}"))
}

/// A store in a read-only folder (or a read-only store file) was reported as SQLite's
/// "unable to open database file" or "attempt to write a readonly database". Now the
/// message names the folder or file, says it is not writable, and how to fix it; exit 4,
/// before anything runs, and nothing is written.
#[cfg(target_os = "linux")]
#[test]
fn a_state_store_that_cannot_be_written_names_the_folder_or_file_and_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_files(d, PROJECT);
    let store_dir = d.join(".sluice");
    let store = store_dir.join("state.db");
    // A store as a first run leaves it.
    let out = run_with_state(d, "sqlite:.sluice/state.db", &["breaker", "status"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chmod = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let check = |out: &Output, store: &Path, location: &Path, what: &str| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        for needle in [
            format!("cannot open the state store {}", store.display()),
            format!("{what} {} is not writable", location.display()),
            "make it writable".to_string(),
            "SLUICE_STATE".to_string(),
            "--no-state".to_string(),
            "Permission denied".to_string(),
        ] {
            assert!(stderr.contains(&needle), "`{needle}` missing: {stderr}");
        }
        assert!(!stderr.contains("unable to open database file"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            out.stdout.is_empty(),
            "nothing ran: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    };

    // The folder is read-only. First make sure this really is a place sluice cannot write
    // (see `without_root_powers`).
    chmod(&store_dir, 0o555);
    let before = snapshot(&store_dir);
    let mut touch = if running_as_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--bounding-set=-dac_override,-dac_read_search,-fowner",
            "--",
            "touch",
        ]);
        c
    } else {
        std::process::Command::new("touch")
    };
    let touched = touch
        .arg(store_dir.join("probe"))
        .output()
        .expect("setpriv (util-linux) runs");
    assert!(
        !touched.status.success(),
        "the read-only folder is writable after all: the test would prove nothing"
    );
    for args in [
        &["breaker", "status"][..],
        &["check"],
        &["breaker", "trip", "orders", "--reason", "x"],
    ] {
        check(
            &without_root_powers(d, "sqlite:.sluice/state.db", args),
            &store,
            &store_dir,
            "its folder",
        );
    }
    assert_eq!(snapshot(&store_dir), before, "nothing written");
    // A new store in that folder: the same, and nothing created.
    check(
        &without_root_powers(d, "sqlite:.sluice/new.db", &["breaker", "status"]),
        &store_dir.join("new.db"),
        &store_dir,
        "its folder",
    );
    assert_eq!(snapshot(&store_dir), before, "nothing created");
    chmod(&store_dir, 0o755);

    // The file is read-only, its folder writable.
    chmod(&store, 0o444);
    let before = snapshot(&store_dir);
    for args in [&["breaker", "status"][..], &["check"]] {
        check(
            &without_root_powers(d, "sqlite:.sluice/state.db", args),
            &store,
            &store,
            "the file",
        );
    }
    assert_eq!(
        snapshot(&store_dir),
        before,
        "nothing written, no -wal or -shm left"
    );
    chmod(&store, 0o644);
    // Writable again, it works.
    let out = without_root_powers(d, "sqlite:.sluice/state.db", &["breaker", "status"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- the command line -----------------------------------------------------------------

const SMALL: &str = "version: 1\ndatasets:\n  orders:\n    path: orders.csv\n    checks:\n      - row_count: { min: 1 }\n";

fn small_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("sluice.yaml", SMALL.as_bytes()),
            ("orders.csv", b"id,amount\n1,10\n"),
        ],
    );
    dir
}

/// Runs the binary in `dir` with stdout going to `stdout`.
fn run_to(dir: &Path, args: &[&str], stdout: std::process::Stdio) -> Output {
    sluice()
        .args(args)
        .current_dir(dir)
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A stdout whose reader has already gone: every write fails with EPIPE.
fn closed_pipe() -> std::process::Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

fn dev_full() -> std::process::Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
        .into()
}

#[test]
fn every_command_ends_quietly_when_its_reader_leaves() {
    let p = small_project();
    let d = p.path();
    for (args, code) in [
        (&["validate"][..], 0),
        (&["check"][..], 0),
        (&["check", "--format", "json"][..], 0),
        (&["impact", "orders"][..], 0),
        (&["lineage", "show"][..], 0),
        (&["breaker", "status"][..], 0),
        (&["guard", "orders"][..], 0),
    ] {
        let o = run_to(d, args, closed_pipe());
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}: quiet");
    }
}

#[test]
fn a_failed_write_to_stdout_exits_4_and_says_so() {
    let p = small_project();
    let d = p.path();
    // `validate > /dev/full` used to panic in println!; `breaker status > /dev/full` exited 0.
    for args in [
        &["validate"][..],
        &["check"][..],
        &["impact", "orders"][..],
        &["breaker", "status"][..],
        &["breaker", "history", "orders"][..],
        &["guard", "orders"][..],
    ] {
        let o = run_to(d, args, dev_full());
        assert_eq!(o.status.code(), Some(4), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("error: cannot write to stdout"),
            "{args:?}: {err}"
        );
        assert!(err.contains("No space left on device"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn output_onto_a_device_or_a_symlink_is_refused_and_leaves_it_alone() {
    let p = small_project();
    let d = p.path();
    // A device node: refused before anything runs, and still a device.
    let (code, out) = outcome(d, &["check", "--output", "/dev/null"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--output /dev/null is a device"), "{out}");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    // A symbolic link: refused; the link and the file it points at are untouched.
    std::fs::write(d.join("target.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink("target.txt", d.join("report.json")).unwrap();
    let (code, out) = outcome(d, &["check", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is a symbolic link"), "{out}");
    let meta = std::fs::symlink_metadata(d.join("report.json")).unwrap();
    assert!(meta.file_type().is_symlink());
    assert_eq!(
        std::fs::read_to_string(d.join("target.txt")).unwrap(),
        "keep me"
    );
    // A folder, for the lineage commands too.
    std::fs::create_dir(d.join("out")).unwrap();
    let (code, out) = outcome(d, &["impact", "orders", "--output", "out"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is a folder"), "{out}");
    // A regular file is replaced; a new path is created.
    std::fs::write(d.join("old.json"), "old").unwrap();
    let (code, out) = outcome(d, &["check", "--format", "json", "--output", "old.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        std::fs::read_to_string(d.join("old.json"))
            .unwrap()
            .contains("\"run_id\"")
    );
}

#[test]
fn a_failed_report_write_exits_4() {
    let p = small_project();
    let d = p.path();
    let (code, out) = outcome(d, &["check", "--output", "no/such/folder/r.json"]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("cannot write the report to no/such/folder/r.json"),
        "{out}"
    );
}

// ---- lineage --------------------------------------------------------------------------

/// `sluice impact -f json` gave every hit its whole path from the root: on a chain N deep
/// that is N(N+1)/2 names (5,000 deep: 200 MB). Each hit now names the node it is reached
/// from (`via`), and whole paths come only with `--paths`.
#[test]
fn impact_json_grows_linearly_with_the_depth_of_a_chain() {
    const N: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A dbt manifest of one chain, m0 -> m1 -> ... -> mN.
    let mut nodes = serde_json::Map::new();
    let mut parents = serde_json::Map::new();
    for i in 0..=N {
        let id = format!("model.chain.m{i}");
        nodes.insert(
            id.clone(),
            serde_json::json!({"resource_type": "model", "name": format!("m{i}"),
                               "package_name": "chain", "fqn": ["chain", format!("m{i}")]}),
        );
        let parent: Vec<String> = (i > 0)
            .then(|| format!("model.chain.m{}", i - 1))
            .into_iter()
            .collect();
        parents.insert(id, serde_json::json!(parent));
    }
    let manifest = serde_json::json!({
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
        "nodes": nodes,
        "parent_map": parents,
    });
    write_files(d, &[("manifest.json", manifest.to_string().as_bytes())]);
    let args = [
        "impact",
        "m0",
        "--dbt-manifest",
        "manifest.json",
        "-f",
        "json",
    ];

    let out = run_in(d, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // About 215 bytes a hit; with paths it was ~8 MB for this chain.
    assert!(
        out.stdout.len() < 300 * N,
        "{} bytes of JSON for {N} hits",
        out.stdout.len()
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits = j["impacted"].as_array().unwrap();
    assert_eq!(hits.len(), N);
    assert!(hits.iter().all(|h| h.get("path").is_none()));
    let via: std::collections::HashMap<&str, &str> = hits
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h["via"].as_str().unwrap()))
        .collect();
    // From the deepest hit, `via` leads back to the root in N steps.
    let deepest = hits.iter().find(|h| h["name"] == format!("m{N}")).unwrap();
    assert_eq!(deepest["depth"], N);
    let (mut at, mut steps) = (format!("m{N}"), 0);
    while at != "m0" {
        assert_eq!(via[at.as_str()], format!("m{}", N - steps - 1));
        at = via[at.as_str()].to_string();
        steps += 1;
    }
    assert_eq!(steps, N);

    // --paths: the whole path of each hit, as before.
    let mut with_paths = args.to_vec();
    with_paths.push("--paths");
    let out = run_in(d, &with_paths);
    assert_eq!(out.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let deepest = j["impacted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == format!("m{N}"))
        .unwrap();
    let path: Vec<String> = (0..=N).map(|i| format!("m{i}")).collect();
    assert_eq!(deepest["path"], serde_json::json!(path));
    assert_eq!(deepest["via"], format!("m{}", N - 1));
}
