//! What the on-call engineer asks first: every dataset with its owner, tier, breaker and
//! what blocks it; and one dataset with its checks, their last results (with failing
//! samples), its recent runs and its breaker's audit log. `GET /api/datasets[/{name}]`
//! and the dashboard answer from here.

use serde::Serialize;
use sluice_breaker::RunRow;

use crate::error::Result;
use crate::runs::{self, RunQuery};
use crate::views::{LogEntry, StatusRow};
use crate::workspace::Workspace;

/// One dataset in the list.
///
/// JSON: the fields of a `sluice breaker status` row (`dataset`, `state`, `since`,
/// `reason`, `owner`, `last_run`, `manual`, `blocked_by`...) and `tier`, `description`,
/// `tags`, `path`, `checks` (how many are declared).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetRow {
    /// Its breaker and what blocks it.
    #[serde(flatten)]
    pub status: StatusRow,
    /// `tier:` (1 is the most critical).
    pub tier: Option<u8>,
    /// `description:`.
    pub description: Option<String>,
    /// `tags:`.
    pub tags: Vec<String>,
    /// `path:` as written.
    pub path: String,
    /// How many checks it declares.
    pub checks: usize,
}

/// A declared check and its last result.
///
/// JSON: `name`, `kind`, `severity`, `columns`, `where`, and `last`: the check's result in
/// the dataset's last recorded run (as in the run report: `status`, `observed`,
/// `message`, `failing_rows`, `samples`...), `null` if it has none.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckView {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: &'static str,
    /// Its severity.
    pub severity: sluice_spec::Severity,
    /// The columns it is about.
    pub columns: Vec<String>,
    /// Its `where:`.
    #[serde(rename = "where")]
    pub filter: Option<String>,
    /// Its result in the last run.
    pub last: Option<serde_json::Value>,
}

/// One dataset in detail.
///
/// JSON: `dataset` (a [`DatasetRow`]), `checks` ([`CheckView`]s in config order, then any
/// result of the last run the config no longer declares), `last_run_id`, `runs` (its last
/// ten runs, newest first) and `log` (its breaker's last twenty transitions, oldest first).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetDetail {
    /// The dataset.
    pub dataset: DatasetRow,
    /// Its checks and their last results.
    pub checks: Vec<CheckView>,
    /// The run the results are from.
    pub last_run_id: Option<String>,
    /// Its recent runs.
    pub runs: Vec<RunRow>,
    /// Its breaker's recent audit log.
    pub log: Vec<LogEntry>,
}

/// Every dataset of the config, in config order.
pub fn datasets(ws: &Workspace) -> Result<Vec<DatasetRow>> {
    let status = crate::breakers::status(ws, None)?;
    Ok(status.breakers.into_iter().map(|s| row(ws, s)).collect())
}

fn row(ws: &Workspace, status: StatusRow) -> DatasetRow {
    let ds = ws
        .config()
        .datasets
        .iter()
        .find(|d| d.name == status.breaker.breaker.dataset);
    DatasetRow {
        tier: ds.and_then(|d| d.tier),
        description: ds.and_then(|d| d.description.clone()),
        tags: ds.map(|d| d.tags.clone()).unwrap_or_default(),
        path: ds.map(|d| d.path.clone()).unwrap_or_default(),
        checks: ds.map_or(0, |d| d.checks.len()),
        status,
    }
}

/// One dataset: its checks with their last results, its recent runs and audit log.
pub fn dataset(ws: &Workspace, name: &str) -> Result<DatasetDetail> {
    let ds = ws.dataset(name)?;
    let status = crate::breakers::status(ws, Some(name))?;
    let row = row(
        ws,
        status
            .breakers
            .into_iter()
            .next()
            .expect("status of one dataset has its row"),
    );
    let recent = runs::list(
        ws,
        &RunQuery {
            dataset: Some(name.to_string()),
            limit: Some(10),
            ..RunQuery::default()
        },
    )?
    .runs;
    let last_run_id = recent.first().map(|r| r.run_id.clone());
    let mut results: Vec<serde_json::Value> = match &last_run_id {
        Some(id) => runs::get(ws, id)?
            .report
            .and_then(|r| r.get("checks").and_then(|c| c.as_array()).cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.get("dataset").and_then(|d| d.as_str()) == Some(name))
            .collect(),
        None => vec![],
    };
    let mut checks: Vec<CheckView> = ds
        .checks
        .iter()
        .map(|c| {
            let last = results
                .iter()
                .position(|r| r.get("name").and_then(|n| n.as_str()) == Some(&c.name))
                .map(|i| results.remove(i));
            CheckView {
                name: c.name.clone(),
                kind: c.kind.name(),
                severity: c.severity,
                columns: c.columns().into_iter().map(str::to_string).collect(),
                filter: c.filter.clone(),
                last,
            }
        })
        .collect();
    // Results of the last run the config does not declare (parity, reconciliation, or a
    // check since removed) are shown too.
    checks.extend(results.into_iter().map(|r| {
        let text = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        CheckView {
            name: text("name").to_string(),
            kind: "recorded",
            severity: serde_json::from_value(r.get("severity").cloned().unwrap_or_default())
                .unwrap_or(sluice_spec::Severity::Error),
            columns: vec![],
            filter: None,
            last: Some(r),
        }
    }));
    let log = crate::breakers::history(ws, name, 20)?;
    Ok(DatasetDetail {
        dataset: row,
        checks,
        last_run_id,
        runs: recent,
        log,
    })
}
