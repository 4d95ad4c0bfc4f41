//! OpenLineage events, one JSON object per line (what Marquez receives): each job reads its
//! inputs and writes its outputs.
//!
//! A job's lineage is that of its latest completed run: among its `COMPLETE` events the one
//! with the latest `eventTime` (the later line on a tie) picks the run, and the inputs and
//! outputs of every event of that run are taken together (the spec lets a run report them
//! across START, RUNNING and COMPLETE). A job that never completed keeps its latest run of
//! any state, so a new job is visible from its first START. Static `JobEvent`s (no run)
//! count as completed; `DatasetEvent`s add a dataset. Identity is namespace + name: jobs are
//! `job:<namespace>/<name>`, datasets `ol:<namespace>/<name>`; and `ownership` facets give
//! owners.
//!
//! - **Symlinks join, both ways.** A dataset's `symlinks` facet names the same data under
//!   other identifiers (the Hive/Glue table an S3 path is registered as): every event that
//!   names either one reaches one node (known by the id of the dataset whose facet names the
//!   others).
//! - **Superseded runs still name datasets.** A dataset seen only in an earlier run stays a
//!   node (without edges): impact on it answers "nothing downstream now", not "unknown".
//! - **A job that reads what it writes** keeps the read as a self-read of the job (no edge,
//!   no cycle), as stage SQL does.
//! - **Times without an offset** (`datetime.now().isoformat()` in the Python client) are
//!   read as UTC, with a warning naming the line, instead of rejecting the file.
//! - **Required fields** of the spec (`eventTime`, `producer`, `schemaURL`, `run.runId` of
//!   a RunEvent, `job.namespace`/`job.name`, a dataset's `namespace`/`name`) missing from an
//!   event reject it with `file:line` and the field.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
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
    let mut links = Links::default();
    let mut dataset_events = Vec::new();
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
        links.collect(&v);
        if let Some(d) = v.get("dataset").filter(|_| v.get("job").is_none()) {
            required(&v, false).map_err(|m| bad(line_no, m))?;
            if v.get("eventTime").and_then(Value::as_str).is_none() {
                return Err(bad(
                    line_no,
                    "the event has no `eventTime` (a required field)".into(),
                ));
            }
            dataset_events.push((line_no, d.clone()));
            continue;
        }
        let (key, event) = event(&v, line_no).map_err(|m| bad(line_no, m))?;
        jobs.entry(key).or_default().push(event);
    }
    for (line_no, d) in &dataset_events {
        add_dataset(&mut f, &mut datasets, &links, d).map_err(|m| bad(*line_no, m))?;
    }
    let mut keys: Vec<(String, String)> = jobs.keys().cloned().collect();
    keys.sort();
    for key in keys {
        add_job(&mut f, &mut datasets, &links, &key, &jobs[&key])
            .map_err(|(line, m)| bad(line, m))?;
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
    required(v, v.get("run").is_some() || event_type.is_some())?;
    let time = match v.get("eventTime").and_then(Value::as_str) {
        Some(t) => event_time(t, line_no)?,
        None => return Err("the event has no `eventTime` (a required field)".into()),
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

/// The fields the spec requires of every event (`producer`, `schemaURL`) and of a RunEvent
/// (`run.runId`).
fn required(v: &Value, run_event: bool) -> std::result::Result<(), String> {
    for field in ["producer", "schemaURL"] {
        if v.get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!(
                "the event has no `{field}` (a required field of every OpenLineage event)"
            ));
        }
    }
    if run_event && v.pointer("/run/runId").and_then(Value::as_str).is_none() {
        return Err("the RunEvent has no `run.runId` (a required field)".into());
    }
    Ok(())
}

/// An `eventTime`: RFC 3339; one without an offset is read as UTC, with a warning.
fn event_time(t: &str, line_no: usize) -> std::result::Result<DateTime<FixedOffset>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(t) {
        return Ok(time);
    }
    match NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        Ok(naive) => {
            tracing::warn!(
                line = line_no,
                event_time = t,
                "eventTime has no UTC offset: read as UTC (the spec asks for one, e.g. `{t}Z`)"
            );
            Ok(naive.and_utc().fixed_offset())
        }
        Err(_) => Err(format!(
            "eventTime `{t}` is not an RFC 3339 timestamp (e.g. 2026-11-30T05:00:00Z)"
        )),
    }
}

/// A job's node and edges, from its latest complete run (every event of that run), or
/// its latest event when none completed. An error carries the event's line.
fn add_job(
    f: &mut Fragment,
    datasets: &mut HashMap<String, usize>,
    links: &Links,
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
    // Datasets of superseded runs stay nodes (without edges).
    for e in events {
        for d in e.inputs.iter().chain(&e.outputs) {
            add_dataset(f, datasets, links, d).map_err(|m| (e.line, m))?;
        }
    }
    // A job that reads the table it writes (an incremental MERGE, a dedupe) updates it
    // in place: the output edge says so, and the read is kept as a self-read (an input
    // edge too would be a cycle).
    let written: std::collections::HashSet<String> = run
        .iter()
        .flat_map(|e| &e.outputs)
        .filter_map(names)
        .map(|(ns, name)| links.canonical(&dataset_id(&ns, &name)))
        .collect();
    let mut self_reads = Vec::new();
    for e in &run {
        for d in &e.inputs {
            let did = add_dataset(f, datasets, links, d).map_err(|m| (e.line, m))?;
            if written.contains(&did) {
                let n = f.nodes[datasets[&did]].name.clone();
                if !self_reads.contains(&n) {
                    self_reads.push(n);
                }
                continue;
            }
            f.edges.push(RawEdge {
                from: did,
                to: id.clone(),
            });
        }
        for d in &e.outputs {
            let did = add_dataset(f, datasets, links, d).map_err(|m| (e.line, m))?;
            column_lineage(f, links, d, &did);
            f.edges.push(RawEdge {
                from: id.clone(),
                to: did,
            });
        }
    }
    f.nodes.push(RawNode {
        id,
        name: name.clone(),
        kind: Some(NodeKind::Job),
        owner: events.iter().rev().find_map(|e| e.owner.clone()),
        alias_names: vec![format!("{ns}/{name}")],
        self_reads,
        ..RawNode::default()
    });
    Ok(())
}

/// An output's `columnLineage` facet: each field's input fields, and how (the facet's
/// `transformations` subtypes, or the older `transformationType`).
fn column_lineage(f: &mut Fragment, links: &Links, d: &Value, to: &str) {
    use crate::columns::{RawColumnEdge, Role};
    let Some(fields) = d
        .pointer("/facets/columnLineage/fields")
        .and_then(Value::as_object)
    else {
        return;
    };
    for (out, spec) in fields {
        let old = spec.get("transformationType").and_then(Value::as_str);
        for input in spec
            .get("inputFields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some((ns, name)), Some(field)) =
                (names(input), input.get("field").and_then(Value::as_str))
            else {
                continue;
            };
            let subtypes: Vec<&str> = input
                .get("transformations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.get("subtype").and_then(Value::as_str))
                .collect();
            let roles: Vec<Role> = if subtypes.is_empty() {
                vec![match old {
                    Some("IDENTITY") => Role::Identity,
                    _ => Role::Transformation,
                }]
            } else {
                subtypes
                    .iter()
                    .map(|s| match *s {
                        "IDENTITY" => Role::Identity,
                        "AGGREGATION" => Role::Aggregation,
                        "JOIN" => Role::JoinKey,
                        "FILTER" | "GROUP_BY" | "SORT" | "WINDOW" | "CONDITIONAL" => Role::Filter,
                        _ => Role::Transformation,
                    })
                    .collect()
            };
            for role in roles {
                f.column_edges.push(RawColumnEdge {
                    from: links.canonical(&dataset_id(&ns, &name)),
                    from_column: field.to_string(),
                    to: to.to_string(),
                    to_column: out.clone(),
                    role,
                });
            }
        }
    }
}

/// Datasets joined by `symlinks` facets: each id to the one its group is known by (the
/// dataset whose facet names the others).
#[derive(Default)]
struct Links {
    parent: HashMap<String, String>,
}

impl Links {
    fn canonical(&self, id: &str) -> String {
        let mut cur = id;
        while let Some(p) = self.parent.get(cur) {
            if p == cur {
                break;
            }
            cur = p;
        }
        cur.to_string()
    }

    /// `a` and `b` are the same data.
    fn join(&mut self, a: &str, b: &str) {
        let (ca, cb) = (self.canonical(a), self.canonical(b));
        if ca != cb {
            self.parent.insert(cb, ca);
        }
    }

    /// Every `symlinks` identifier of every dataset in an event line.
    fn collect(&mut self, v: &Value) {
        let datasets = ["inputs", "outputs"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(Value::as_array))
            .flatten()
            .chain(v.get("dataset"));
        for d in datasets {
            let Some((ns, name)) = names(d) else { continue };
            let id = dataset_id(&ns, &name);
            if let Some(ids) = d
                .pointer("/facets/symlinks/identifiers")
                .and_then(Value::as_array)
            {
                for l in ids {
                    if let Some((lns, lname)) = names(l) {
                        self.join(&id, &dataset_id(&lns, &lname));
                    }
                }
            }
        }
    }
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
    links: &Links,
    d: &Value,
) -> Result<String, String> {
    let (ns, name) = names(d).ok_or("every input and output needs a `namespace` and a `name`")?;
    let own = dataset_id(&ns, &name);
    let id = links.canonical(&own);
    let owner = owner(d);
    let mut alias_names = vec![format!("{ns}/{name}")];
    if id != own {
        // Known by another identifier of the same data: this name joins that node.
        alias_names.push(name.clone());
    }
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
{"producer":"p","schemaURL":"s","eventType":"START","eventTime":"2026-11-20T10:00:00Z","run":{"runId":"r1"},"job":{"namespace":"etl","name":"clean"},"inputs":[{"namespace":"pg","name":"public.old"}],"outputs":[]}
{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-11-20T10:05:00Z","run":{"runId":"r1"},"job":{"namespace":"etl","name":"clean"},"inputs":[],"outputs":[{"namespace":"pg","name":"public.clean"}]}
{"producer":"p","schemaURL":"s","eventType":"START","eventTime":"2026-11-21T10:00:00+02:00","run":{"runId":"r2"},"job":{"namespace":"etl","name":"clean"},"inputs":[{"namespace":"pg","name":"public.raw"}]}
{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-11-21T10:05:00+02:00","run":{"runId":"r2"},"job":{"namespace":"etl","name":"clean","facets":{"ownership":{"owners":[{"name":"team:data-eng"}]}}},"outputs":[{"namespace":"pg","name":"public.clean"}]}
{"producer":"p","schemaURL":"s","eventType":"FAIL","eventTime":"2026-11-22T10:00:00Z","run":{"runId":"r3"},"job":{"namespace":"etl","name":"clean"},"inputs":[{"namespace":"pg","name":"public.broken"}]}
{"producer":"p","schemaURL":"s","eventType":"START","eventTime":"2026-11-22T11:00:00Z","run":{"runId":"r4"},"job":{"namespace":"etl","name":"new_job"},"inputs":[{"namespace":"pg","name":"public.clean"}],"outputs":[{"namespace":"s3://b","name":"exports/clean","facets":{"symlinks":{"identifiers":[{"namespace":"hive","name":"exports.clean","type":"TABLE"}]}}}]}
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
        let text = r#"{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"r"},"job":{"namespace":"af","name":"dedupe"},"inputs":[{"namespace":"pg","name":"t"},{"namespace":"pg","name":"s"}],"outputs":[{"namespace":"pg","name":"t"}]}"#;
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
        assert!(err(r#"{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"yesterday","run":{"runId":"r"},"job":{"namespace":"a","name":"b"}}"#)
            .contains("e.ndjson:1: eventTime `yesterday` is not an RFC 3339 timestamp"));
        assert!(
            err(r#"{"producer":"p","schemaURL":"s","eventType":"COMPLETE"}"#)
                .contains("it has no `job`")
        );
        assert!(
            err(r#"{"schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"r"},"job":{"namespace":"a","name":"b"}}"#)
                .contains("e.ndjson:1: the event has no `producer`")
        );
        assert!(
            err(r#"{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","job":{"namespace":"a","name":"b"}}"#)
                .contains("e.ndjson:1: the RunEvent has no `run.runId`")
        );
        assert!(err(r#"{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"r"},"job":{"namespace":"a","name":"b"},"inputs":[{"name":"x"}]}"#)
            .contains("needs a `namespace` and a `name`"));
    }

    #[test]
    fn symlinks_join_both_ways_whichever_is_named_first() {
        let text = r#"{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"r1"},"job":{"namespace":"af","name":"report"},"inputs":[{"namespace":"hive","name":"lake.clicks"}],"outputs":[]}
{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"r2"},"job":{"namespace":"af","name":"load"},"inputs":[],"outputs":[{"namespace":"s3://lake","name":"clicks/","facets":{"symlinks":{"identifiers":[{"namespace":"hive","name":"lake.clicks","type":"TABLE"}]}}}]}"#;
        let f = import_str(Path::new("e.ndjson"), text).unwrap();
        assert_eq!(
            edges(&f),
            [
                "job:af/load -> ol:s3://lake/clicks/",
                "ol:s3://lake/clicks/ -> job:af/report",
            ]
        );
    }

    #[test]
    fn naive_times_are_utc_and_superseded_datasets_stay_nodes() {
        let text = r#"{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00.123456","run":{"runId":"r1"},"job":{"namespace":"af","name":"j"},"inputs":[{"namespace":"pg","name":"old_source"}],"outputs":[{"namespace":"pg","name":"out"}]}
{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-02T00:00:00","run":{"runId":"r2"},"job":{"namespace":"af","name":"j"},"inputs":[{"namespace":"pg","name":"new_source"}],"outputs":[{"namespace":"pg","name":"out"}]}"#;
        let f = import_str(Path::new("e.ndjson"), text).unwrap();
        assert_eq!(
            edges(&f),
            ["job:af/j -> ol:pg/out", "ol:pg/new_source -> job:af/j"],
            "the later run wins"
        );
        assert!(f.nodes.iter().any(|n| n.id == "ol:pg/old_source"));
    }

    #[test]
    fn a_job_reading_what_it_writes_keeps_a_self_read() {
        let text = r#"{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"r"},"job":{"namespace":"af","name":"dedupe"},"inputs":[{"namespace":"pg","name":"t"}],"outputs":[{"namespace":"pg","name":"t"}]}"#;
        let f = import_str(Path::new("e.ndjson"), text).unwrap();
        let job = f.nodes.iter().find(|n| n.id == "job:af/dedupe").unwrap();
        assert_eq!(job.self_reads, ["t"]);
    }

    #[test]
    fn column_lineage_facets_give_column_edges() {
        let text = r#"{"producer":"p","schemaURL":"s","eventType":"COMPLETE","eventTime":"2026-01-01T00:00:00Z","run":{"runId":"r"},"job":{"namespace":"af","name":"agg"},"inputs":[{"namespace":"pg","name":"orders"}],"outputs":[{"namespace":"pg","name":"daily","facets":{"columnLineage":{"fields":{"revenue":{"inputFields":[{"namespace":"pg","name":"orders","field":"amount","transformations":[{"type":"DIRECT","subtype":"AGGREGATION"}]},{"namespace":"pg","name":"orders","field":"status","transformations":[{"type":"INDIRECT","subtype":"FILTER"}]}]},"day":{"inputFields":[{"namespace":"pg","name":"orders","field":"day"}],"transformationType":"IDENTITY"}}}}}]}"#;
        let f = import_str(Path::new("e.ndjson"), text).unwrap();
        let mut got: Vec<String> = f
            .column_edges
            .iter()
            .map(|e| {
                format!(
                    "{}.{} -> {}.{} {}",
                    e.from,
                    e.from_column,
                    e.to,
                    e.to_column,
                    e.role.name()
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                "ol:pg/orders.amount -> ol:pg/daily.revenue aggregation",
                "ol:pg/orders.day -> ol:pg/daily.day identity",
                "ol:pg/orders.status -> ol:pg/daily.revenue filter",
            ]
        );
    }
}
