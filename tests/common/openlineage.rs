//! Validates OpenLineage events against the spec's JSON Schemas, read from
//! `../shared/fixtures/openlineage/spec/` (beside the repository; never copied in) or the
//! folder `SLUICE_OPENLINEAGE_SPEC` names, with `tests/openlineage/validate.py` (Python's
//! `jsonschema`, pinned in `tests/openlineage/requirements.txt`; `.ci/run` installs it in a
//! virtualenv and sets `SLUICE_PYTHON`). The core schema validates each RunEvent, and each
//! facet is validated against its own schema file, found by the facet's key; a facet no
//! schema defines fails, and so does a `_schemaURL` naming another version than the file's.
//!
//! Why Python: the Rust `jsonschema` crate, even without default features, changes the
//! features of serde, serde_json, ahash and regex-automata in the test build, so Arrow and
//! DataFusion would build a second time (measured: 64 crates recompiled); the virtualenv
//! installs in about 30 s.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `../shared/fixtures/openlineage/spec`, or `SLUICE_OPENLINEAGE_SPEC`.
pub fn spec_dir() -> PathBuf {
    let dir = std::env::var_os("SLUICE_OPENLINEAGE_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/openlineage/spec")
        });
    assert!(
        dir.join("OpenLineage.json").is_file(),
        "the OpenLineage JSON Schemas are not at {}; check out the shared folder next to the repository or set SLUICE_OPENLINEAGE_SPEC",
        dir.display()
    );
    dir
}

/// The Python that has `jsonschema`: `SLUICE_PYTHON`, else `python3`.
fn python() -> String {
    std::env::var("SLUICE_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Validates `events` (RunEvents); panics with every error. Returns how many facets were
/// validated.
pub fn validate(events: &[Value]) -> usize {
    assert!(!events.is_empty(), "no events to validate");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson");
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openlineage/validate.py");
    let o = Command::new(python())
        .arg(&script)
        .arg(spec_dir())
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); set SLUICE_PYTHON", python()));
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("No module named"),
        "{} lacks the validator: `python3 -m venv V && V/bin/pip install -r tests/openlineage/requirements.txt`, then SLUICE_PYTHON=V/bin/python\n{err}",
        python()
    );
    assert!(
        o.status.success(),
        "the events do not follow the OpenLineage schemas:\n{out}{err}\n{}",
        events
            .iter()
            .map(|e| serde_json::to_string_pretty(e).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let facets = out
        .trim()
        .strip_prefix(&format!("ok: {} events, ", events.len()))
        .and_then(|r| r.strip_suffix(" facets"))
        .and_then(|n| n.parse().ok());
    facets.unwrap_or_else(|| panic!("unexpected validator output: {out}"))
}

/// The events of an NDJSON file, in order.
pub fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
