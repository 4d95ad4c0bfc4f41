//! OpenLineage events, one JSON object per line (what Marquez receives): each job reads its
//! inputs and writes its outputs.
//!
//! A job's lineage is that of its latest completed run: among its `COMPLETE` events the one
//! with the latest `eventTime` (the later line on a tie) picks the run, and the inputs and
//! outputs of every event of that run are taken together (the spec lets a run report them
//! across START, RUNNING and COMPLETE). A job that never completed keeps its latest run of
//! any state, so a new job is visible from its first START. Static `JobEvent`s (no run)
//! count as completed; `DatasetEvent`s add a dataset. Identity is namespace + name: jobs are
//! `job:<namespace>/<name>`, datasets `ol:<namespace>/<name>`; a dataset's `symlinks` facet
//! gives it other names (a table name for a file path), and `ownership` facets give owners.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::error::{LineageError, Result};
use crate::graph::{Fragment, NodeKind, Origin, RawEdge, RawNode};

/// Id of an OpenLineage dataset.
pub fn dataset_id(namespace: &str, name: &str) -> String {
    format!("ol:{namespace}/{name}")
}

/// Id of an OpenLineage job.
pub fn job_id(namespace: &str, name: &str) -> String {
    format!("job:{namespace}/{name}")
}

struct Event {
    line: usize,
    complete: bool,
    time: DateTime<FixedOffset>,
    run: Option<String>,
    inputs: Vec<Value>,
    outputs: Vec<Value>,
    owner: Option<String>,
}

/// Reads an NDJSON file of events.
pub fn import(path: &Path) -> Result<Fragment> {
    let text = std::fs::read_to_string(path).map_err(|source| LineageError::Read {
        what: "OpenLineage events file",
        path: path.to_path_buf(),
        source,
    })?;
    import_str(path, &text)
}

/// Reads NDJSON events (`path` is for messages): every line is parsed first (events are
/// grouped by job), then each job's latest complete run becomes its node and edges.
pub fn import_str(path: &Path, text: &str) -> Result<Fragment> {
    let bad = |line: usize, message: String| LineageError::OpenLineage {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut jobs: HashMap<(String, String), Vec<Event>> = HashMap::new();
    let mut f = Fragment::new(Origin::OpenLineage);
    let mut datasets: HashMap<String, usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            bad(
                line_no,
                format!(
                    "not valid JSON at column {}: {e}; the file must hold one event per line",
                    e.column()
                ),
            )
        })?;
        if let Some(d) = v.get("dataset").filter(|_| v.get("job").is_none()) {
            add_dataset(&mut f, &mut datasets, d).map_err(|m| bad(line_no, m))?;
            continue;
        }
        let (key, event) = event(&v, line_no).map_err(|m| bad(line_no, m))?;
        jobs.entry(key).or_default().push(event);
    }
    let mut keys: Vec<(String, String)> = jobs.keys().cloned().collect();
    keys.sort();
    for key in keys {
        add_job(&mut f, &mut datasets, &key, &jobs[&key]).map_err(|(line, m)| bad(line, m))?;
    }
    Ok(f)
}

/// One RunEvent (or JobEvent) line: its job's `(namespace, name)` and what it says.
fn event(v: &Value, line_no: usize) -> std::result::Result<((String, String), Event), String> {
    let Some(job) = v.get("job") else {
        return Err("not an OpenLineage event: it has no `job` (a RunEvent has `eventType`, `eventTime`, `run`, `job`, `inputs`, `outputs`)".into());
    };
    let (ns, name) = names(job).ok_or("`job` needs a `namespace` and a `name`")?;
    let event_type = v.get("eventType").and_then(Value::as_str);
    let time = match v.get("eventTime").and_then(Value::as_str) {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map_err(|e| format!("eventTime `{t}` is not an RFC 3339 timestamp ({e})"))?,
        None if event_type.is_none() => DateTime::<FixedOffset>::MIN_UTC.fixed_offset(),
        None => return Err("the event has no `eventTime`".into()),
    };
    let list = |key: &str| -> Vec<Value> {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let event = Event {
        line: line_no,
        // A JobEvent (static lineage) has no eventType: it describes the job as it is.
        complete: matches!(event_type, Some("COMPLETE") | None),
        time,
        run: v
            .pointer("/run/runId")
            .and_then(Value::as_str)
            .map(str::to_string),
        inputs: list("inputs"),
        outputs: list("outputs"),
        owner: owner(job),
    };
    Ok(((ns, name), event))
}

/// A job's node and edges, from its latest complete run (every event of that run), or
/// its latest event when none completed. An error carries the event's line.
fn add_job(
    f: &mut Fragment,
    datasets: &mut HashMap<String, usize>,
    (ns, name): &(String, String),
    events: &[Event],
) -> std::result::Result<(), (usize, String)> {
    let latest = |complete_only: bool| {
        events
            .iter()
            .filter(|e| !complete_only || e.complete)
            .max_by_key(|e| (e.time, e.line))
    };
    let Some(chosen) = latest(true).or_else(|| latest(false)) else {
        return Ok(());
    };
    let run: Vec<&Event> = match &chosen.run {
        Some(r) => events
            .iter()
            .filter(|e| e.run.as_ref() == Some(r))
            .collect(),
        None => vec![chosen],
    };
    let id = job_id(ns, name);
    f.nodes.push(RawNode {
        id: id.clone(),
        name: name.clone(),
        kind: Some(NodeKind::Job),
        owner: events.iter().rev().find_map(|e| e.owner.clone()),
        alias_names: vec![format!("{ns}/{name}")],
        ..RawNode::default()
    });
    // A job that reads the table it writes (an incremental MERGE, a dedupe) updates it
    // in place: the output edge says so, and an input edge too would be a cycle.
    let written: std::collections::HashSet<String> = run
        .iter()
        .flat_map(|e| &e.outputs)
        .filter_map(names)
        .map(|(ns, name)| dataset_id(&ns, &name))
        .collect();
    for e in &run {
        for d in &e.inputs {
            let did = add_dataset(f, datasets, d).map_err(|m| (e.line, m))?;
            if written.contains(&did) {
                continue;
            }
            f.edges.push(RawEdge {
                from: did,
                to: id.clone(),
            });
        }
        for d in &e.outputs {
            let did = add_dataset(f, datasets, d).map_err(|m| (e.line, m))?;
            f.edges.push(RawEdge {
                from: id.clone(),
                to: did,
            });
        }
    }
    Ok(())
}

fn names(v: &Value) -> Option<(String, String)> {
    Some((
        v.get("namespace")?.as_str()?.to_string(),
        v.get("name")?.as_str()?.to_string(),
    ))
}

fn owner(v: &Value) -> Option<String> {
    v.pointer("/facets/ownership/owners")?
        .as_array()?
        .iter()
        .find_map(|o| o.get("name")?.as_str().map(str::to_string))
}

/// Adds (or completes) a dataset node; returns its id.
fn add_dataset(
    f: &mut Fragment,
    seen: &mut HashMap<String, usize>,
    d: &Value,
) -> Result<String, String> {
    let (ns, name) = names(d).ok_or("every input and output needs a `namespace` and a `name`")?;
    let id = dataset_id(&ns, &name);
    let owner = owner(d);
    let mut alias_names = vec![format!("{ns}/{name}")];
    if let Some(links) = d
        .pointer("/facets/symlinks/identifiers")
        .and_then(Value::as_array)
    {
        for l in links {
            if let Some((lns, lname)) = names(l) {
                alias_names.push(lname.clone());
                alias_names.push(format!("{lns}/{lname}"));
            }
        }
    }
    match seen.get(&id) {
        Some(&i) => {
            let node = &mut f.nodes[i];
            node.owner = node.owner.take().or(owner);
            for a in alias_names {
                if !node.alias_names.contains(&a) {
                    node.alias_names.push(a);
                }
            }
        }
        None => {
            seen.insert(id.clone(), f.nodes.len());
            f.nodes.push(RawNode {
                id: id.clone(),
                name,
                kind: Some(NodeKind::Table),
                owner,
                alias_names,
                ..RawNode::default()
            });
        }
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(f: &Fragment) -> Vec<String> {
        let mut e: Vec<String> = f
            .edges
            .iter()
            .map(|e| format!("{} -> {}", e.from, e.to))
            .collect();
        e.sort();
        e.dedup();
        e
    }

    #[test]
    fn the_latest_complete_run_wins_with_inputs_from_all_its_events() {
        let events = r#"
{"eventType":"START","eventTime":"2026-11-20T10:00:00Z","run":{"runId":"r1"},"job":{"namespace":"etl","name":"clean"},"inputs":[{"namespace":"pg","name":"public.old"}],"outputs":[]}
{"eventType":"COMPLETE","eventTime":"2026-11-20T10:05:00Z","run":{"runId":"r1"},"job":{"namespace":"etl","name":"clean"},"inputs":[],"outputs":[{"namespace":"pg","name":"public.clean"}]}
{"eventType":"START","eventTime":"2026-11-21T10:00:00+02:00","run":{"runId":"r2"},"job":{"namespace":"etl","name":"clean"},"inputs":[{"namespace":"pg","name":"public.raw"}]}
{"eventType":"COMPLETE","eventTime":"2026-11-21T10:05:00+02:00","run":{"runId":"r2"},"job":{"namespace":"etl","name":"clean","facets":{"ownership":{"owners":[{"name":"team:data-eng"}]}}},"outputs":[{"namespace":"pg","name":"public.clean"}]}
{"eventType":"FAIL","eventTime":"2026-11-22T10:00:00Z","run":{"runId":"r3"},"job":{"namespace":"etl","name":"clean"},"inputs":[{"namespace":"pg","name":"public.broken"}]}
{"eventType":"START","eventTime":"2026-11-22T11:00:00Z","run":{"runId":"r4"},"job":{"namespace":"etl","name":"new_job"},"inputs":[{"namespace":"pg","name":"public.clean"}],"outputs":[{"namespace":"s3://b","name":"exports/clean","facets":{"symlinks":{"identifiers":[{"namespace":"hive","name":"exports.clean","type":"TABLE"}]}}}]}
"#;
        let f = import_str(Path::new("e.ndjson"), events).unwrap();
        assert_eq!(
            edges(&f),
            [
                "job:etl/clean -> ol:pg/public.clean",
                "job:etl/new_job -> ol:s3://b/exports/clean",
                "ol:pg/public.clean -> job:etl/new_job",
                "ol:pg/public.raw -> job:etl/clean",
            ]
        );
        let job = f.nodes.iter().find(|n| n.id == "job:etl/clean").unwrap();
        assert_eq!(job.owner.as_deref(), Some("team:data-eng"));
        let out = f
            .nodes
            .iter()
            .find(|n| n.id == "ol:s3://b/exports/clean")
            .unwrap();
        assert!(out.alias_names.contains(&"exports.clean".to_string()));
    }

    #[test]
    fn a_job_updating_a_table_in_place_is_not_a_cycle() {
        let text = r#"{"eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"r"},"job":{"namespace":"af","name":"dedupe"},"inputs":[{"namespace":"pg","name":"t"},{"namespace":"pg","name":"s"}],"outputs":[{"namespace":"pg","name":"t"}]}"#;
        let f = import_str(Path::new("e.ndjson"), text).unwrap();
        assert_eq!(
            edges(&f),
            ["job:af/dedupe -> ol:pg/t", "ol:pg/s -> job:af/dedupe"]
        );
    }

    #[test]
    fn bad_lines_are_located() {
        let err = |t: &str| {
            import_str(Path::new("e.ndjson"), t)
                .unwrap_err()
                .to_string()
        };
        assert!(
            err("\n{oops}").starts_with("e.ndjson:2: not valid JSON at column 2"),
            "{}",
            err("\n{oops}")
        );
        assert!(err(r#"{"eventType":"COMPLETE","eventTime":"yesterday","job":{"namespace":"a","name":"b"}}"#)
            .contains("e.ndjson:1: eventTime `yesterday` is not an RFC 3339 timestamp"));
        assert!(err(r#"{"eventType":"COMPLETE"}"#).contains("it has no `job`"));
        assert!(err(r#"{"eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","job":{"namespace":"a","name":"b"},"inputs":[{"name":"x"}]}"#)
            .contains("needs a `namespace` and a `name`"));
    }
}
