//! The events, built by pure functions from the run's plan and its report.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sluice_engine::{CheckResult, CheckStatus, DatasetReport, RunReport, RunStatus};

use super::{DatasetRef, JobPlan, Parent, RunRef, SPEC, producer};

/// One run's identity in its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunMeta {
    /// sluice's run id (a UUID v7).
    pub run_id: String,
    /// The job's namespace.
    pub namespace: String,
    /// The run it is nested under.
    pub parent: Option<Parent>,
    /// The logical time of the data it checks (`--partition ds=…`): `nominalTime`.
    pub nominal: Option<DateTime<Utc>>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug)]
pub enum End<'a> {
    /// It ran: its report decides COMPLETE (passed, warned) or FAIL (failed, errored).
    Ran(&'a RunReport),
    /// It was blocked before it ran (an open breaker): FAIL, with why.
    Blocked(&'a str),
    /// It stopped on an error: FAIL, with the error.
    Errored(&'a str),
}

impl End<'_> {
    /// `COMPLETE` or `FAIL`.
    pub fn event_type(&self) -> &'static str {
        match self {
            End::Ran(r) if matches!(r.status, RunStatus::Passed | RunStatus::Warned) => "COMPLETE",
            _ => "FAIL",
        }
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A facet: its fields, with `_producer` and `_schemaURL` (`file` names its schema in
/// OpenLineage's `spec/facets/`, `version` the facet's version).
fn facet(file: &str, version: &str, fields: Value) -> Value {
    let mut m = Map::new();
    m.insert("_producer".into(), Value::String(producer()));
    m.insert(
        "_schemaURL".into(),
        Value::String(format!(
            "https://openlineage.io/spec/facets/{version}/{file}.json#/$defs/{file}"
        )),
    );
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Value::Object(m)
}

fn run_ref_json(r: &RunRef) -> Value {
    json!({ "run": { "runId": r.run_id }, "job": { "namespace": r.namespace, "name": r.name } })
}

fn run_facets(meta: &RunMeta, error: Option<String>) -> Value {
    let mut f = Map::new();
    if let Some(p) = &meta.parent {
        let mut parent = run_ref_json(&p.run);
        if let Some(root) = &p.root {
            parent["root"] = run_ref_json(root);
        }
        f.insert("parent".into(), facet("ParentRunFacet", "1-2-0", parent));
    }
    f.insert(
        "processing_engine".into(),
        facet(
            "ProcessingEngineRunFacet",
            "1-1-1",
            json!({ "name": "sluice", "version": env!("CARGO_PKG_VERSION") }),
        ),
    );
    if let Some(t) = meta.nominal {
        f.insert(
            "nominalTime".into(),
            facet(
                "NominalTimeRunFacet",
                "1-0-1",
                json!({ "nominalStartTime": ts(t) }),
            ),
        );
    }
    if let Some(message) = error {
        f.insert(
            "errorMessage".into(),
            facet(
                "ErrorMessageRunFacet",
                "1-0-1",
                json!({ "message": message, "programmingLanguage": "Rust" }),
            ),
        );
    }
    Value::Object(f)
}

fn owners(owner: &str) -> Value {
    json!({ "owners": [ { "name": owner } ] })
}

fn job(meta: &RunMeta, plan: &JobPlan) -> Value {
    let mut f = Map::new();
    f.insert(
        "jobType".into(),
        facet(
            "JobTypeJobFacet",
            "2-0-4",
            json!({ "processingType": "BATCH", "integration": "SLUICE", "jobType": plan.kind.as_str() }),
        ),
    );
    if let Some(o) = &plan.owner {
        f.insert(
            "ownership".into(),
            facet("OwnershipJobFacet", "1-0-1", owners(o)),
        );
    }
    if let Some(d) = &plan.description {
        f.insert(
            "documentation".into(),
            facet(
                "DocumentationJobFacet",
                "1-1-0",
                json!({ "description": d }),
            ),
        );
    }
    json!({ "namespace": meta.namespace, "name": plan.name, "facets": f })
}

/// A dataset's identity and the facets known before a run: `symlinks`, `ownership`.
fn dataset(meta: &RunMeta, d: &DatasetRef, report: Option<&DatasetReport>) -> Map<String, Value> {
    let mut facets = Map::new();
    if let Some(r) = report.filter(|r| !r.columns.is_empty()) {
        facets.insert("schema".into(), schema_facet(r));
    }
    if let Some(s) = &d.symlink {
        facets.insert(
            "symlinks".into(),
            facet(
                "SymlinksDatasetFacet",
                "1-0-1",
                json!({ "identifiers": [ { "namespace": meta.namespace, "name": s, "type": "TABLE" } ] }),
            ),
        );
    }
    if let Some(o) = &d.owner {
        facets.insert(
            "ownership".into(),
            facet("OwnershipDatasetFacet", "1-0-1", owners(o)),
        );
    }
    let mut m = Map::new();
    m.insert("namespace".into(), Value::String(d.namespace.clone()));
    m.insert("name".into(), Value::String(d.name.clone()));
    m.insert("facets".into(), Value::Object(facets));
    m
}

/// The `schema` facet: the columns as read.
fn schema_facet(r: &DatasetReport) -> Value {
    let fields: Vec<Value> = r
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| json!({ "name": c.name, "type": c.data_type, "ordinal_position": i + 1 }))
        .collect();
    facet("SchemaDatasetFacet", "1-2-0", json!({ "fields": fields }))
}

/// The `dataQualityMetrics` input facet from what the dataset's scan measured: the row
/// count, the file count, and per checked column its null count, non-null count, min
/// and max (numeric columns). None when the dataset could not be read.
pub fn metrics_facet(r: &DatasetReport) -> Option<Value> {
    if r.status != "ok" {
        return None;
    }
    let rows = r
        .rows_scanned
        .or_else(|| r.metrics.get("row_count").map(|v| *v as u64));
    let mut columns: Map<String, Value> = Map::new();
    for (key, value) in &r.metrics {
        let Some((func, column)) = key.strip_suffix(')').and_then(|k| k.split_once('(')) else {
            continue;
        };
        let entry = columns
            .entry(column.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        let field = match func {
            "null_count" => {
                entry["nullCount"] = json!(*value as u64);
                if let Some(rows) = rows {
                    entry["count"] = json!(rows.saturating_sub(*value as u64));
                }
                continue;
            }
            "min" => "min",
            "max" => "max",
            _ => continue,
        };
        if value.is_finite() {
            entry[field] = json!(value);
        }
    }
    let mut fields = json!({ "columnMetrics": columns });
    if let Some(rows) = rows {
        fields["rowCount"] = json!(rows);
    }
    if let Some(files) = r.files {
        fields["fileCount"] = json!(files);
    }
    Some(facet(
        "DataQualityMetricsInputDatasetFacet",
        "1-0-3",
        fields,
    ))
}

/// One check as an assertion of the `dataQualityAssertions` facet (1-1-0): `assertion`
/// (the kind), `success` (it passed), `column`, `name`, `severity`, `expected` (the
/// threshold), `actual` (what was observed), `description` (the message), and `params`
/// (the status, failing rows, the columns of a multi-column check). A skipped check
/// asserted nothing: none.
pub fn assertion(c: &CheckResult) -> Option<Value> {
    if c.status == CheckStatus::Skipped {
        return None;
    }
    let mut a = json!({
        "assertion": c.kind,
        "success": c.status == CheckStatus::Pass,
        "name": c.name,
        "severity": c.severity.as_str(),
    });
    if let Some(col) = &c.column {
        a["column"] = json!(col);
    }
    if let Some(t) = &c.threshold {
        a["expected"] = json!(t);
    }
    let actual = match &c.observed {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    if let Some(v) = actual {
        a["actual"] = json!(v);
    }
    if !c.message.is_empty() {
        a["description"] = json!(c.message);
    }
    let mut params = json!({ "status": c.status.as_str() });
    if let Some(n) = c.failing_rows {
        params["failing_rows"] = json!(n);
    }
    if !c.columns.is_empty() {
        params["columns"] = json!(c.columns);
    }
    a["params"] = params;
    Some(a)
}

fn base_event(
    event_type: &str,
    at: DateTime<Utc>,
    meta: &RunMeta,
    plan: &JobPlan,
) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("eventType".into(), json!(event_type));
    e.insert("eventTime".into(), json!(ts(at)));
    e.insert("producer".into(), json!(producer()));
    e.insert("schemaURL".into(), json!(SPEC));
    e.insert("job".into(), job(meta, plan));
    e
}

/// The START event: the job, what it will read and write (names and logical names only;
/// nothing is measured yet).
pub fn start_event(meta: &RunMeta, plan: &JobPlan, at: DateTime<Utc>) -> Value {
    let mut e = base_event("START", at, meta, plan);
    e.insert(
        "run".into(),
        json!({ "runId": meta.run_id, "facets": run_facets(meta, None) }),
    );
    let list = |ds: &[DatasetRef]| -> Value {
        ds.iter()
            .map(|d| Value::Object(dataset(meta, d, None)))
            .collect()
    };
    e.insert("inputs".into(), list(&plan.inputs));
    e.insert("outputs".into(), list(&plan.outputs));
    Value::Object(e)
}

/// The closing event: COMPLETE or FAIL (see [`End::event_type`]), with each input's
/// schema, metrics and assertions from the report; outputs only when the run completed.
pub fn end_event(meta: &RunMeta, plan: &JobPlan, end: End<'_>, at: DateTime<Utc>) -> Value {
    let event_type = end.event_type();
    let report = match end {
        End::Ran(r) => Some(r),
        _ => None,
    };
    let error = match end {
        End::Ran(r) if event_type == "FAIL" => Some(failure_message(r)),
        End::Ran(_) => None,
        End::Blocked(why) | End::Errored(why) => Some(why.to_string()),
    };
    let mut e = base_event(event_type, at, meta, plan);
    e.insert(
        "run".into(),
        json!({ "runId": meta.run_id, "facets": run_facets(meta, error) }),
    );
    let home = |dataset: &str| -> String {
        plan.homes
            .iter()
            .find(|(group, _)| group == dataset)
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| dataset.to_string())
    };
    let mut assertions: HashMap<String, Vec<Value>> = HashMap::new();
    for c in report.map(|r| r.checks.as_slice()).unwrap_or_default() {
        if let Some(a) = assertion(c) {
            assertions.entry(home(&c.dataset)).or_default().push(a);
        }
    }
    let inputs: Vec<Value> = plan
        .inputs
        .iter()
        .map(|d| {
            let dr = report.and_then(|r| r.datasets.iter().find(|x| x.name == d.dataset));
            let mut m = dataset(meta, d, dr);
            let mut input_facets = Map::new();
            if let Some(f) = dr.and_then(metrics_facet) {
                input_facets.insert("dataQualityMetrics".into(), f);
            }
            if let Some(list) = assertions.remove(&d.dataset) {
                input_facets.insert(
                    "dataQualityAssertions".into(),
                    facet(
                        "DataQualityAssertionsDatasetFacet",
                        "1-1-0",
                        json!({ "assertions": list }),
                    ),
                );
            }
            if !input_facets.is_empty() {
                m.insert("inputFacets".into(), Value::Object(input_facets));
            }
            Value::Object(m)
        })
        .collect();
    e.insert("inputs".into(), Value::Array(inputs));
    let outputs: Vec<Value> = if event_type == "COMPLETE" {
        plan.outputs
            .iter()
            .map(|d| {
                let dr = report.and_then(|r| r.datasets.iter().find(|x| x.name == d.dataset));
                let mut m = dataset(meta, d, dr);
                if let Some(dr) = dr {
                    let mut stats = Map::new();
                    if let Some(rows) = dr.rows_scanned {
                        stats.insert("rowCount".into(), json!(rows));
                    }
                    if let Some(files) = dr.files {
                        stats.insert("fileCount".into(), json!(files));
                    }
                    if !stats.is_empty() {
                        m.insert(
                            "outputFacets".into(),
                            json!({ "outputStatistics": facet("OutputStatisticsOutputDatasetFacet", "1-0-2", Value::Object(stats)) }),
                        );
                    }
                }
                Value::Object(m)
            })
            .collect()
    } else {
        vec![]
    };
    e.insert("outputs".into(), Value::Array(outputs));
    Value::Object(e)
}

/// Why a run that ran failed: its failed and errored checks of severity error, by name.
fn failure_message(r: &RunReport) -> String {
    let names = |status: CheckStatus| -> Vec<String> {
        r.checks
            .iter()
            .filter(|c| c.status == status)
            .map(|c| format!("{}: {}", c.dataset, c.name))
            .collect()
    };
    let mut parts = Vec::new();
    let failed = names(CheckStatus::Fail);
    if !failed.is_empty() {
        parts.push(format!(
            "{} check(s) failed: {}",
            failed.len(),
            failed.join(", ")
        ));
    }
    let errored = names(CheckStatus::Error);
    if !errored.is_empty() {
        parts.push(format!(
            "{} check(s) could not be evaluated: {}",
            errored.len(),
            errored.join(", ")
        ));
    }
    if parts.is_empty() {
        format!("run {}", r.status.as_str())
    } else {
        parts.join("; ")
    }
}
