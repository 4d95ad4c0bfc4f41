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
