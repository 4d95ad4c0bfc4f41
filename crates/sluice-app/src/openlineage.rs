//! OpenLineage out: `check` and `publish` announce their runs as OpenLineage RunEvents, to
//! an HTTP endpoint (Marquez, or any backend speaking the OpenLineage API) and/or an NDJSON
//! file: START when the run starts, then COMPLETE — or FAIL when a check of severity
//! `error` failed, the run errored, or a publish was blocked by an open breaker.
//!
//! - The **job** is the stage (`check --stage`), the dataset (`check -d X`, or `X.publish`
//!   for `publish X`), or `check` for a run over several datasets; its namespace is
//!   configurable (default: the parent's, else `sluice`).
//! - The **run id** is sluice's own run id (a UUID v7), so the JSON report, the state store
//!   and the lineage backend name the same run.
//! - **Inputs** are every dataset the run reads, named as OpenLineage names files
//!   (namespace `file`, name the absolute path), with their sluice name as a `symlinks`
//!   facet, the `schema` facet, and as input facets `dataQualityMetrics` (what the one scan
//!   measured: row count, null counts, min and max of the checked columns) and
//!   `dataQualityAssertions` (one assertion per check). `publish X` reads X's staging
//!   folder and writes X's path (its **output**).
//! - The **parent** run facet nests the run under the orchestrator's task (Airflow's
//!   OpenLineage macros give its namespace, job and run id).
//!
//! The events are built by pure functions ([`start_event`], [`end_event`]) from a
//! [`JobPlan`] (what the run reads and writes, known before it starts) and the run's report;
//! an [`Emitter`] delivers them. Delivery never decides a run's outcome: a failed delivery
//! is recorded in the emitter ([`Emitter::failures`]) for the surface to show as a warning.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sluice_engine::{CheckResult, CheckStatus, DatasetReport, RunReport, RunStatus};
use sluice_spec::{Config, Dataset, OpenLineageSettings};

use crate::error::{Error, Result};
use crate::http::{self, Retry};

/// The OpenLineage spec version the events follow.
const SPEC: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
/// The namespace of sluice's jobs when nothing else is given.
pub const DEFAULT_NAMESPACE: &str = "sluice";
/// Where the endpoint sits under the URL, as the OpenLineage Python client has it.
pub const DEFAULT_ENDPOINT: &str = "api/v1/lineage";
/// One HTTP attempt's timeout, as the OpenLineage Python client has it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Three attempts, 0.5 s then 1 s apart, for at most 10 s: a backend that is down delays a
/// run by seconds, never fails it.
const RETRY: Retry = Retry {
    attempts: 3,
    initial_backoff: Duration::from_millis(500),
    max_total: Duration::from_secs(10),
};

/// The producer URI in every event and facet: this sluice's source.
fn producer() -> String {
    format!(
        "{}/tree/v{}",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    )
}

// ---------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------

/// What a surface was told (its flags and environment), before the config's
/// `openlineage:` block fills the gaps. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The endpoint's base URL (`--openlineage-url`, `OPENLINEAGE_URL`).
    pub url: Option<String>,
    /// The path under it (`OPENLINEAGE_ENDPOINT`; default `api/v1/lineage`).
    pub endpoint: Option<String>,
    /// A bearer token (`OPENLINEAGE_API_KEY`).
    pub api_key: Option<String>,
    /// The jobs' namespace (`--openlineage-namespace`, `OPENLINEAGE_NAMESPACE`).
    pub namespace: Option<String>,
    /// An NDJSON file to append events to (`--openlineage-file`).
    pub file: Option<PathBuf>,
    /// The parent run as `namespace/job/runId` (`--parent-id`, `OPENLINEAGE_PARENT_ID`).
    pub parent_id: Option<String>,
    /// The parent's run id (`--parent-run-id`); wins over `parent_id`'s.
    pub parent_run_id: Option<String>,
    /// The parent's job name (`--parent-job-name`); wins over `parent_id`'s.
    pub parent_job_name: Option<String>,
    /// The parent's job namespace (`--parent-job-namespace`); wins over `parent_id`'s.
    pub parent_job_namespace: Option<String>,
    /// The root run (the DAG run) as `namespace/job/runId` (`--root-parent-id`,
    /// `OPENLINEAGE_ROOT_PARENT_ID`).
    pub root_parent_id: Option<String>,
    /// Send nothing, whatever is configured (`--no-openlineage`, `OPENLINEAGE_DISABLED`).
    pub disabled: bool,
}

/// Where events go and how they are labelled: the options and the config resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The jobs' namespace.
    pub namespace: String,
    /// The HTTP endpoint, if any.
    pub http: Option<HttpTarget>,
    /// The NDJSON file, if any.
    pub file: Option<PathBuf>,
    /// The run this one is nested under, if any.
    pub parent: Option<Parent>,
}

/// An HTTP endpoint receiving events.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// The URL events are POSTed to (base URL and endpoint joined).
    pub url: String,
    /// Sent as `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// One attempt's timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for HttpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTarget")
            .field("url", &http::redact_url(&self.url))
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A run of another job: the parent of a run, or the root of its hierarchy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRef {
    /// The job's namespace.
    pub namespace: String,
    /// The job's name.
    pub name: String,
    /// The run's id (a UUID).
    pub run_id: String,
}

/// The run this one is nested under (an Airflow task's), and the root of that hierarchy
/// (the DAG run), when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    /// The parent run.
    pub run: RunRef,
    /// The root run.
    pub root: Option<RunRef>,
}

impl Settings {
    /// Resolves `opts` over the config's `openlineage:` block (the options win). `None`
    /// when there is nowhere to send events (no URL, no file) or when disabled; then the
    /// parent settings are not looked at. A malformed parent is the caller's mistake.
    pub fn resolve(config: &OpenLineageSettings, opts: &Options) -> Result<Option<Settings>> {
        if opts.disabled {
            return Ok(None);
        }
        let url = opts.url.clone().or_else(|| config.url.clone());
        let file = opts.file.clone().or_else(|| config.file.clone());
        if url.is_none() && file.is_none() {
            return Ok(None);
        }
        let http = match url {
            Some(url) => {
                let endpoint = opts
                    .endpoint
                    .clone()
                    .or_else(|| config.endpoint.clone())
                    .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
                let url = join_url(url.trim(), endpoint.trim()).map_err(|message| {
                    Error::OpenLineageSetting {
                        setting: "the OpenLineage URL",
                        message,
                    }
                })?;
                Some(HttpTarget {
                    url,
                    api_key: opts.api_key.clone().or_else(|| config.api_key.clone()),
                    timeout: config.timeout.unwrap_or(DEFAULT_TIMEOUT),
                })
            }
            None => None,
        };
        let parent = parent(opts)?;
        let namespace = opts
            .namespace
            .clone()
            .or_else(|| config.namespace.clone())
            .or_else(|| parent.as_ref().map(|p| p.run.namespace.clone()))
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
        Ok(Some(Settings {
            namespace,
            http,
            file,
            parent,
        }))
    }
}

/// `url` and `endpoint` joined as the OpenLineage Python client joins them (`urljoin`): an
/// endpoint starting with `/` replaces the URL's path, otherwise it is appended to the
/// URL's folder (`http://h:5000` + `api/v1/lineage` = `http://h:5000/api/v1/lineage`); an
/// empty endpoint leaves the URL as it is.
pub fn join_url(url: &str, endpoint: &str) -> std::result::Result<String, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "`{}` is not an http:// or https:// URL",
            http::redact_url(url)
        ));
    };
    if !(scheme == "http" || scheme == "https") || rest.is_empty() {
        return Err(format!(
            "`{}` is not an http:// or https:// URL",
            http::redact_url(url)
        ));
    }
    if endpoint.is_empty() {
        return Ok(url.to_string());
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let joined = if endpoint.starts_with('/') {
        endpoint.to_string()
    } else {
        let folder = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let folder = if folder.is_empty() { "/" } else { folder };
        format!("{folder}{endpoint}")
    };
    Ok(format!("{scheme}://{authority}{joined}"))
}

/// `namespace/job/runId`: the namespace up to the first `/`, the run id after the last,
/// the job name between (it may hold `/`).
fn parse_run_ref(setting: &'static str, text: &str) -> Result<RunRef> {
    let bad = |why: &str| Error::OpenLineageSetting {
        setting,
        message: format!(
            "`{text}` {why}; it takes `namespace/job/runId`, as Airflow's `{{{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}}}` gives it"
        ),
    };
    let (namespace, rest) = text.split_once('/').ok_or_else(|| bad("has no `/`"))?;
    let (name, run_id) = rest
        .rsplit_once('/')
        .ok_or_else(|| bad("has only one `/`"))?;
    if namespace.is_empty() || name.is_empty() {
        return Err(bad("has an empty namespace or job name"));
    }
    Ok(RunRef {
        namespace: namespace.to_string(),
        name: name.to_string(),
        run_id: run_id_of(setting, run_id)?,
    })
}

/// A run id must be a UUID (the OpenLineage schema says so); returned lower-case.
fn run_id_of(setting: &'static str, text: &str) -> Result<String> {
    uuid::Uuid::parse_str(text.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|e| Error::OpenLineageSetting {
            setting,
            message: format!("run id `{text}` is not a UUID ({e})"),
        })
}

/// A setting that was given, trimmed (an empty one was not given).
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The parent from `--parent-id` and the discrete flags (which win), and the root.
fn parent(opts: &Options) -> Result<Option<Parent>> {
    let from_id = opts
        .parent_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_run_ref("--parent-id (OPENLINEAGE_PARENT_ID)", s.trim()))
        .transpose()?;
    let run_id = match given(&opts.parent_run_id) {
        Some(r) => Some(run_id_of("--parent-run-id", r)?),
        None => from_id.as_ref().map(|p| p.run_id.clone()),
    };
    let name = given(&opts.parent_job_name)
        .map(str::to_string)
        .or_else(|| from_id.as_ref().map(|p| p.name.clone()));
    let namespace = given(&opts.parent_job_namespace)
        .map(str::to_string)
        .or_else(|| from_id.as_ref().map(|p| p.namespace.clone()));
    let run = match (run_id, name, namespace) {
        (None, None, None) => None,
        (Some(run_id), Some(name), Some(namespace)) => Some(RunRef {
            namespace,
            name,
            run_id,
        }),
        (run_id, name, namespace) => {
            let missing: Vec<&str> = [
                (run_id.is_none(), "--parent-run-id"),
                (name.is_none(), "--parent-job-name"),
                (namespace.is_none(), "--parent-job-namespace"),
            ]
            .into_iter()
            .filter_map(|(m, flag)| m.then_some(flag))
            .collect();
            return Err(Error::OpenLineageSetting {
                setting: "the parent run",
                message: format!(
                    "is incomplete: {} missing; give all three, or --parent-id namespace/job/runId",
                    missing.join(" and ")
                ),
            });
        }
    };
    let root = opts
        .root_parent_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_run_ref("--root-parent-id (OPENLINEAGE_ROOT_PARENT_ID)", s.trim()))
        .transpose()?;
    Ok(match (run, root) {
        (Some(run), root) => Some(Parent { run, root }),
        (None, Some(_)) => {
            return Err(Error::OpenLineageSetting {
                setting: "the parent run",
                message: "a root run was given without a parent run; give --parent-id too".into(),
            });
        }
        (None, None) => None,
    })
}

// ---------------------------------------------------------------------------------------
// What a run reads and writes
// ---------------------------------------------------------------------------------------

/// The kind of job a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// `sluice check`.
    Check,
    /// `sluice publish`.
    Publish,
}

impl JobKind {
    /// `CHECK`, `PUBLISH`: the `jobType` facet's `jobType`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Check => "CHECK",
            JobKind::Publish => "PUBLISH",
        }
    }
}

/// A dataset as OpenLineage names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetRef {
    /// The sluice dataset it is (its name in the run's report).
    pub dataset: String,
    /// The datasource: `file` for local files, `scheme://authority` for object stores.
    pub namespace: String,
    /// The path.
    pub name: String,
    /// Its sluice name, given as a `symlinks` facet in the job's namespace (none for a
    /// staging folder: it is not the dataset consumers read).
    pub symlink: Option<String>,
    /// `owner:`.
    pub owner: Option<String>,
}

impl DatasetRef {
    /// `ds` at `location` (its `path`, or its staging folder).
    pub fn new(ds: &Dataset, location: &Path, logical: bool) -> DatasetRef {
        let (namespace, name) = dataset_identity(location);
        DatasetRef {
            dataset: ds.name.clone(),
            namespace,
            name,
            symlink: logical.then(|| ds.name.clone()),
            owner: ds.owner.clone(),
        }
    }
}

/// OpenLineage's identity of a location: `scheme://authority` and the path for a URL,
/// `file` and the absolute path for a local file or folder (a trailing `/` dropped).
pub fn dataset_identity(location: &Path) -> (String, String) {
    let text = location.to_string_lossy();
    if let Some((scheme, rest)) = text.split_once("://")
        && scheme != "file"
    {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        return (
            format!("{scheme}://{authority}"),
            path.trim_end_matches('/').to_string(),
        );
    }
    let path = text.strip_prefix("file://").unwrap_or(&text);
    let absolute = std::path::absolute(path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_string());
    let trimmed = absolute.trim_end_matches('/');
    let name = if trimmed.is_empty() { "/" } else { trimmed };
    ("file".to_string(), name.to_string())
}

/// What a run is, as OpenLineage sees it: a job, what it reads, what it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobPlan {
    /// The job's name.
    pub name: String,
    /// Check or publish.
    pub kind: JobKind,
    /// The owner of the stage or dataset.
    pub owner: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// What it reads.
    pub inputs: Vec<DatasetRef>,
    /// What it writes.
    pub outputs: Vec<DatasetRef>,
    /// Results whose `dataset` is not one of the inputs (a reconciliation's group name),
    /// and the input whose assertions they join.
    pub homes: Vec<(String, String)>,
}

impl JobPlan {
    /// The job of `sluice check` over `selection`: named after the stage, else the one
    /// dataset, else `check`; it reads every dataset the run reads.
    pub fn check<'c>(
        config: &'c Config,
        selection: &sluice_engine::Selection<'c>,
        stage: Option<&str>,
    ) -> JobPlan {
        let stage = stage.and_then(|s| config.stage(s).ok());
        let (name, owner, description) = match (stage, selection.checked.as_slice()) {
            (Some(s), _) => (s.name.clone(), s.owner.clone(), s.description.clone()),
            (None, [one]) => (one.name.clone(), one.owner.clone(), one.description.clone()),
            (None, _) => ("check".to_string(), None, None),
        };
        let inputs = selection
            .datasets_read(config)
            .into_iter()
            .map(|d| DatasetRef::new(d, &d.location, true))
            .collect();
        JobPlan {
            name,
            kind: JobKind::Check,
            owner,
            description,
            inputs,
            outputs: vec![],
            homes: homes(&selection.reconciles),
        }
    }

    /// The job of `sluice publish ds`: `<ds>.publish`, reading the staging folder (and
    /// whatever its checks compare with), writing the dataset's path.
    pub fn publish(config: &Config, ds: &Dataset, staging: &Path) -> JobPlan {
        let others = sluice_engine::select(config, std::slice::from_ref(&ds.name), None)
            .map(|sel| {
                sel.datasets_read(config)
                    .into_iter()
                    .filter(|d| d.name != ds.name)
                    .map(|d| DatasetRef::new(d, &d.location, true))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let mut inputs = vec![DatasetRef::new(ds, staging, false)];
        inputs.extend(others);
        JobPlan {
            name: format!("{}.publish", ds.name),
            kind: JobKind::Publish,
            owner: ds.owner.clone(),
            description: ds.description.clone(),
            inputs,
            outputs: vec![DatasetRef::new(ds, &ds.location, true)],
            homes: vec![],
        }
    }
}

fn homes(reconciles: &[&sluice_spec::Reconcile]) -> Vec<(String, String)> {
    reconciles
        .iter()
        .filter_map(|r| Some((r.name.clone(), r.datasets.first()?.clone())))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Events (pure)
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------

/// An event that did not reach one of its targets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("OpenLineage {event} event of run {run_id} not delivered to {target}: {message}")]
pub struct Failure {
    /// `START`, `COMPLETE`, `FAIL`.
    pub event: String,
    /// The run.
    pub run_id: String,
    /// The file, or the URL (redacted).
    pub target: String,
    /// What went wrong.
    pub message: String,
}

/// Delivers events to the targets of its [`Settings`]; remembers what failed.
#[derive(Clone, Debug)]
pub struct Emitter {
    settings: Arc<Settings>,
    failures: Arc<Mutex<Vec<Failure>>>,
}

impl Emitter {
    /// An emitter for `settings`.
    pub fn new(settings: Settings) -> Emitter {
        Emitter {
            settings: Arc::new(settings),
            failures: Arc::default(),
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Every delivery that failed so far, in order.
    pub fn failures(&self) -> Vec<Failure> {
        self.failures.lock().expect("not poisoned").clone()
    }

    /// Delivers `event` to every target (blocking): appends it to the file as one line,
    /// POSTs it to the endpoint (with retries). A failure is recorded, never returned.
    pub fn deliver(&self, event: &Value) {
        let kind = event["eventType"].as_str().unwrap_or("?").to_string();
        let run_id = event["run"]["runId"].as_str().unwrap_or("?").to_string();
        let fail = |to: String, message: String| {
            tracing::debug!(%to, %message, "OpenLineage delivery failed");
            self.failures.lock().expect("not poisoned").push(Failure {
                event: kind.clone(),
                run_id: run_id.clone(),
                target: to,
                message,
            });
        };
        if let Some(path) = &self.settings.file
            && let Err(e) = append_line(path, event)
        {
            fail(path.display().to_string(), e.to_string());
        }
        if let Some(h) = &self.settings.http {
            let bearer = h.api_key.as_ref().map(|k| format!("Bearer {k}"));
            let headers: Vec<(&str, &str)> = bearer
                .as_deref()
                .map(|b| ("authorization", b))
                .into_iter()
                .collect();
            match http::post_json(&h.url, &headers, event, h.timeout, RETRY) {
                Ok(_) => {
                    tracing::debug!(url = %http::redact_url(&h.url), event = %kind, "OpenLineage event delivered")
                }
                Err(e) => fail(http::redact_url(&h.url), e.to_string()),
            }
        }
    }
}

/// Appends `event` to `path` as one line (one write, in append mode: concurrent writers
/// never interleave a line), creating the file and its folder.
fn append_line(path: &Path, event: &Value) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_vec(event).expect("a JSON value serialises");
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(&line)
}

/// A run announced to OpenLineage: its START is being delivered in the background; its
/// end follows with [`Announced::finish`].
pub(crate) struct Announced {
    emitter: Emitter,
    meta: RunMeta,
    plan: JobPlan,
    start: Option<tokio::task::JoinHandle<()>>,
}

impl Announced {
    /// Builds the START event and delivers it on a blocking thread (the run does not wait
    /// for a slow endpoint). Needs the caller's tokio runtime.
    pub(crate) fn start(emitter: &Emitter, meta: RunMeta, plan: JobPlan) -> Announced {
        let event = start_event(&meta, &plan, Utc::now());
        let e = emitter.clone();
        let start = tokio::task::spawn_blocking(move || e.deliver(&event));
        Announced {
            emitter: emitter.clone(),
            meta,
            plan,
            start: Some(start),
        }
    }

    /// Delivers the closing event, after the START (events of a run arrive in order).
    pub(crate) async fn finish(mut self, end: End<'_>) {
        if let Some(start) = self.start.take() {
            let _ = start.await;
        }
        let at = match end {
            End::Ran(r) => DateTime::parse_from_rfc3339(&r.finished_at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|_| Utc::now()),
            _ => Utc::now(),
        };
        let event = end_event(&self.meta, &self.plan, end, at);
        let e = self.emitter.clone();
        let _ = tokio::task::spawn_blocking(move || e.deliver(&event)).await;
    }
}

/// Announces a run when `emitter` is set: the run's id and its START.
pub(crate) fn announce(
    emitter: Option<&Emitter>,
    run_id: &str,
    nominal: Option<DateTime<Utc>>,
    plan: impl FnOnce() -> JobPlan,
) -> Option<Announced> {
    let emitter = emitter?;
    let s = emitter.settings();
    let meta = RunMeta {
        run_id: run_id.to_string(),
        namespace: s.namespace.clone(),
        parent: s.parent.clone(),
        nominal,
    };
    Some(Announced::start(emitter, meta, plan()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_engine::report::Column;
    use sluice_spec::Severity;

    const RUN: &str = "01932f4e-9a1b-7c3d-8e4f-0123456789ab";

    fn opts() -> Options {
        Options {
            file: Some("events.ndjson".into()),
            ..Options::default()
        }
    }

    #[test]
    fn urls_join_like_the_python_client() {
        let j = |u, e| join_url(u, e).unwrap();
        assert_eq!(
            j("http://m:5000", "api/v1/lineage"),
            "http://m:5000/api/v1/lineage"
        );
        assert_eq!(
            j("http://m:5000/", "api/v1/lineage"),
            "http://m:5000/api/v1/lineage"
        );
        assert_eq!(
            j("https://h/ol/", "api/v1/lineage"),
            "https://h/ol/api/v1/lineage"
        );
        assert_eq!(
            j("https://h/ol", "api/v1/lineage"),
            "https://h/api/v1/lineage"
        );
        assert_eq!(j("https://h/x/y", "/events"), "https://h/events");
        assert_eq!(j("https://h/custom/path", ""), "https://h/custom/path");
        assert!(join_url("ftp://h", "x").is_err());
        assert!(join_url("marquez:5000", "x").is_err());
    }

    #[test]
    fn settings_flags_win_over_the_config_and_nothing_configured_is_none() {
        let config = OpenLineageSettings {
            url: Some("http://from-config:5000".into()),
            namespace: Some("analytics".into()),
            api_key: Some("k1".into()),
            timeout: Some(Duration::from_secs(2)),
            ..OpenLineageSettings::default()
        };
        let s = Settings::resolve(&config, &Options::default())
            .unwrap()
            .unwrap();
        assert_eq!(s.namespace, "analytics");
        let h = s.http.unwrap();
        assert_eq!(h.url, "http://from-config:5000/api/v1/lineage");
        assert_eq!(
            (h.api_key.as_deref(), h.timeout),
            (Some("k1"), Duration::from_secs(2))
        );
        assert!(
            !format!("{h:?}").contains("k1"),
            "the key never shows in debug output"
        );

        let flags = Options {
            url: Some("http://flag:1".into()),
            endpoint: Some("/v2/events".into()),
            namespace: Some("ns".into()),
            ..Options::default()
        };
        let s = Settings::resolve(&config, &flags).unwrap().unwrap();
        assert_eq!(s.namespace, "ns");
        assert_eq!(s.http.unwrap().url, "http://flag:1/v2/events");

        let none = OpenLineageSettings::default();
        assert_eq!(Settings::resolve(&none, &Options::default()).unwrap(), None);
        let disabled = Options {
            disabled: true,
            parent_id: Some("junk".into()),
            ..Options::default()
        };
        assert_eq!(Settings::resolve(&config, &disabled).unwrap(), None);
        let s = Settings::resolve(&none, &opts()).unwrap().unwrap();
        assert_eq!((s.namespace.as_str(), s.http), (DEFAULT_NAMESPACE, None));
    }

    #[test]
    fn the_parent_comes_from_airflows_macros_and_is_checked() {
        let resolve = |o: Options| Settings::resolve(&OpenLineageSettings::default(), &o);
        let s = resolve(Options {
            parent_id: Some(format!("airflow/dag.task/{RUN}")),
            root_parent_id: Some(format!("airflow/dag/{}", RUN.to_uppercase())),
            ..opts()
        })
        .unwrap()
        .unwrap();
        let p = s.parent.unwrap();
        assert_eq!(
            p.run,
            RunRef {
                namespace: "airflow".into(),
                name: "dag.task".into(),
                run_id: RUN.into()
            }
        );
        assert_eq!(p.root.unwrap().run_id, RUN, "lower-cased");
        assert_eq!(s.namespace, "airflow", "the parent's namespace by default");

        // A job name may hold `/`; the discrete flags win over --parent-id's parts.
        let s = resolve(Options {
            parent_id: Some(format!("ns/a/b/{RUN}")),
            parent_job_name: Some("other".into()),
            ..opts()
        })
        .unwrap()
        .unwrap();
        let p = s.parent.unwrap().run;
        assert_eq!((p.namespace.as_str(), p.name.as_str()), ("ns", "other"));
        let s = resolve(Options {
            parent_id: Some(format!("ns/a/b/{RUN}")),
            ..opts()
        })
        .unwrap()
        .unwrap();
        assert_eq!(s.parent.unwrap().run.name, "a/b");

        let err = |o: Options| resolve(o).unwrap_err().to_string();
        assert!(
            err(Options {
                parent_id: Some("airflow/dag.task/123".into()),
                ..opts()
            })
            .contains("run id `123` is not a UUID")
        );
        assert!(
            err(Options {
                parent_id: Some(RUN.into()),
                ..opts()
            })
            .contains("has no `/`; it takes `namespace/job/runId`")
        );
        assert!(
            err(Options {
                parent_run_id: Some(RUN.into()),
                parent_job_name: Some("t".into()),
                ..opts()
            })
            .contains("--parent-job-namespace missing")
        );
        assert!(
            err(Options {
                root_parent_id: Some(format!("a/b/{RUN}")),
                ..opts()
            })
            .contains("without a parent run")
        );
        assert_eq!(
            resolve(Options {
                parent_run_id: Some("not-a-uuid".into()),
                ..opts()
            })
            .unwrap_err()
            .kind(),
            crate::ErrorKind::Invalid
        );
    }

    #[test]
    fn datasets_are_named_as_openlineage_names_files() {
        assert_eq!(
            dataset_identity(Path::new("/data/orders/")),
            ("file".into(), "/data/orders".into())
        );
        assert_eq!(
            dataset_identity(Path::new("file:///data/x.csv")),
            ("file".into(), "/data/x.csv".into())
        );
        assert_eq!(
            dataset_identity(Path::new("s3://bucket/a/b.parquet")),
            ("s3://bucket".into(), "a/b.parquet".into())
        );
        let (ns, name) = dataset_identity(Path::new("relative/x.csv"));
        assert_eq!(ns, "file");
        assert!(Path::new(&name).is_absolute(), "{name}");
    }

    fn check(kind: &str, status: CheckStatus, observed: Value) -> CheckResult {
        CheckResult {
            status,
            observed,
            column: Some("amount".into()),
            threshold: Some("max_invalid = 0".into()),
            message: "2 of 10 rows".into(),
            failing_rows: Some(2),
            ..CheckResult::blank(
                "orders",
                &format!("{kind}(amount)"),
                kind,
                Severity::Warn,
                String::new(),
            )
        }
    }

    #[test]
    fn one_assertion_per_check_that_ran() {
        let a = assertion(&check("not_null", CheckStatus::Warn, json!(2))).unwrap();
        assert_eq!(
            a,
            json!({
                "assertion": "not_null", "success": false, "name": "not_null(amount)",
                "severity": "warn", "column": "amount", "expected": "max_invalid = 0",
                "actual": "2", "description": "2 of 10 rows",
                "params": { "status": "warn", "failing_rows": 2 }
            })
        );
        let a = assertion(&check(
            "distribution",
            CheckStatus::Pass,
            json!({"psi": 0.1}),
        ))
        .unwrap();
        assert_eq!(
            (a["success"].clone(), a["actual"].clone()),
            (json!(true), json!(r#"{"psi":0.1}"#))
        );
        let a = assertion(&check("freshness", CheckStatus::Error, Value::Null)).unwrap();
        assert!(a.get("actual").is_none());
        assert_eq!(a["success"], false);
        assert_eq!(
            assertion(&check("range", CheckStatus::Skipped, Value::Null)),
            None
        );
    }

    fn dataset_report() -> DatasetReport {
        DatasetReport {
            name: "orders".into(),
            path: "orders.csv".into(),
            format: Some("csv".into()),
            status: "ok".into(),
            rows_scanned: Some(10),
            files: Some(2),
            queries: 1,
            duration_ms: 3,
            error: None,
            metrics: [
                ("row_count", 10.0),
                ("null_count(amount)", 2.0),
                ("min(amount)", -1.5),
                ("max(amount)", 99.0),
                ("mean(amount)", 12.0),
                ("null_count(status)", 0.0),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            columns: vec![Column {
                name: "amount".into(),
                data_type: "float64".into(),
                nullable: true,
            }],
        }
    }

    #[test]
    fn metrics_are_what_the_scan_measured() {
        let f = metrics_facet(&dataset_report()).unwrap();
        assert_eq!(f["rowCount"], 10);
        assert_eq!(f["fileCount"], 2);
        assert_eq!(
            f["columnMetrics"],
            json!({
                "amount": { "nullCount": 2, "count": 8, "min": -1.5, "max": 99.0 },
                "status": { "nullCount": 0, "count": 10 }
            })
        );
        assert!(
            f["_schemaURL"]
                .as_str()
                .unwrap()
                .contains("1-0-3/DataQualityMetricsInputDatasetFacet.json#")
        );
        let unreadable = DatasetReport {
            status: "error".into(),
            ..dataset_report()
        };
        assert_eq!(metrics_facet(&unreadable), None);
    }

    fn plan() -> JobPlan {
        let r = |dataset: &str, name: &str, symlink: bool| DatasetRef {
            dataset: dataset.into(),
            namespace: "file".into(),
            name: name.into(),
            symlink: symlink.then(|| dataset.to_string()),
            owner: Some("team".into()),
        };
        JobPlan {
            name: "orders.publish".into(),
            kind: JobKind::Publish,
            owner: Some("team".into()),
            description: None,
            inputs: vec![r("orders", "/s/orders", false)],
            outputs: vec![r("orders", "/p/orders", true)],
            homes: vec![("group".into(), "orders".into())],
        }
    }

    fn meta() -> RunMeta {
        RunMeta {
            run_id: RUN.into(),
            namespace: "ns".into(),
            parent: None,
            nominal: Some(
                DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z")
                    .unwrap()
                    .into(),
            ),
        }
    }

    fn report(checks: Vec<CheckResult>) -> RunReport {
        let (summary, status) = RunReport::summarize(&checks);
        RunReport {
            sluice_version: "0".into(),
            run_id: RUN.into(),
            started_at: "2026-11-30T10:00:00.000Z".into(),
            finished_at: "2026-11-30T10:00:01.000Z".into(),
            duration_ms: 1000,
            now: "2026-11-30T10:00:00Z".into(),
            config: "sluice.yaml".into(),
            status,
            summary,
            datasets: vec![dataset_report()],
            checks,
        }
    }

    #[test]
    fn events_carry_the_run_the_job_and_what_the_checks_found() {
        let at = Utc::now();
        let start = start_event(&meta(), &plan(), at);
        assert_eq!(start["eventType"], "START");
        assert_eq!(start["run"]["runId"], RUN);
        assert_eq!(
            start["run"]["facets"]["nominalTime"]["nominalStartTime"],
            "2026-11-30T00:00:00.000Z"
        );
        assert_eq!(
            start["outputs"][0]["name"], "/p/orders",
            "what it will write"
        );
        assert!(start["inputs"][0].get("inputFacets").is_none());

        let mut group = check("reconcile", CheckStatus::Pass, json!(0));
        group.dataset = "group".into();
        let passed = report(vec![check("not_null", CheckStatus::Pass, json!(0)), group]);
        let e = end_event(&meta(), &plan(), End::Ran(&passed), at);
        assert_eq!(e["eventType"], "COMPLETE");
        assert!(e["run"]["facets"].get("errorMessage").is_none());
        let assertions = &e["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"];
        assert_eq!(
            assertions.as_array().unwrap().len(),
            2,
            "the reconciliation joins its first dataset"
        );
        assert_eq!(
            e["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"],
            10
        );
        assert_eq!(
            e["outputs"][0]["facets"]["schema"]["fields"][0]["type"],
            "float64"
        );

        let warned = report(vec![check("not_null", CheckStatus::Warn, json!(2))]);
        assert_eq!(
            End::Ran(&warned).event_type(),
            "COMPLETE",
            "a warning does not fail the run"
        );
        let mut failing = check("not_null", CheckStatus::Fail, json!(2));
        failing.severity = Severity::Error;
        let failed = report(vec![failing]);
        let e = end_event(&meta(), &plan(), End::Ran(&failed), at);
        assert_eq!(e["eventType"], "FAIL");
        assert_eq!(e["outputs"], json!([]), "nothing was written");
        assert_eq!(
            e["run"]["facets"]["errorMessage"]["message"],
            "1 check(s) failed: orders: not_null(amount)"
        );
        let e = end_event(&meta(), &plan(), End::Blocked("blocked: x"), at);
        assert_eq!(
            (
                e["eventType"].clone(),
                e["run"]["facets"]["errorMessage"]["message"].clone()
            ),
            (json!("FAIL"), json!("blocked: x"))
        );
        assert!(e["inputs"][0].get("inputFacets").is_none());
    }

    #[test]
    fn a_file_target_gets_one_line_per_event_and_a_failure_is_recorded_not_raised() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/events.ndjson");
        let emitter = Emitter::new(Settings {
            namespace: "ns".into(),
            http: None,
            file: Some(file.clone()),
            parent: None,
        });
        let e = start_event(&meta(), &plan(), Utc::now());
        emitter.deliver(&e);
        emitter.deliver(&e);
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            serde_json::from_str::<Value>(text.lines().next().unwrap()).unwrap(),
            e
        );
        assert!(emitter.failures().is_empty());

        let bad = Emitter::new(Settings {
            namespace: "ns".into(),
            http: None,
            file: Some(dir.path().to_path_buf()),
            parent: None,
        });
        bad.deliver(&e);
        let f = bad.failures();
        assert_eq!(f.len(), 1);
        assert!(
            f[0].to_string().starts_with(&format!(
                "OpenLineage START event of run {RUN} not delivered to {}",
                dir.path().display()
            )),
            "{}",
            f[0]
        );
    }
}
