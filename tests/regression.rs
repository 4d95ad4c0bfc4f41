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
