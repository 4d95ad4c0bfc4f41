//! Recorded runs: list them (newest first, filtered, a page at a time) and read one with
//! its report. The HTTP API's `GET /api/runs` and `GET /api/runs/{id}` and the dashboard's
//! run views answer from here.

use serde::Serialize;
use sluice_breaker::{RunFilter, RunRow};
use sluice_spec::RunStatus;

use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// The largest page.
pub const MAX_LIMIT: usize = 500;
/// The page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 50;

/// Which runs, as a caller writes it (strings, checked here).
#[derive(Clone, Debug, Default)]
pub struct RunQuery {
    /// Only runs that checked this dataset (it must be in the config).
    pub dataset: Option<String>,
    /// Only runs with this status: `passed`, `warned`, `failed`, `error`.
    pub status: Option<String>,
    /// Only runs started since: a time, or a duration back from now (`7d`).
    pub since: Option<String>,
    /// Page size (1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`]).
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of runs.
///
/// JSON: `runs` (newest first: `run_id`, `started_at`, `finished_at`, `status`, `summary`,
/// `config`, `actor`, `datasets`) and `next_cursor` (`null` on the last page).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunPage {
    /// The runs.
    pub runs: Vec<RunRow>,
    /// Pass as `cursor` for the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

/// One run and its report.
///
/// JSON: the run's fields, and `report`: the whole run report (the JSON of `sluice check
/// -f json`: datasets, checks, samples), `null` for runs recorded before reports were kept.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub run: RunRow,
    /// Its report.
    pub report: Option<serde_json::Value>,
}

/// Lists recorded runs.
pub fn list(ws: &Workspace, q: &RunQuery) -> Result<RunPage> {
    if let Some(d) = &q.dataset {
        ws.dataset(d)?;
    }
    let status = q
        .status
        .as_deref()
        .map(|s| {
            RunStatus::parse(s).ok_or_else(|| Error::BadParameter {
                name: "status",
                message: format!("`{s}` is not a run status: passed, warned, failed or error"),
            })
        })
        .transpose()?;
    let since = q
        .since
        .as_deref()
        .map(|s| crate::breakers::when(s, ws.now(), false))
        .transpose()
        .map_err(|message| Error::BadParameter {
            name: "since",
            message,
        })?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::BadParameter {
            name: "limit",
            message: format!("{limit} is out of range: 1 to {MAX_LIMIT}"),
        });
    }
    if let Some(c) = &q.cursor
        && !is_run_id(c)
    {
        return Err(Error::BadParameter {
            name: "cursor",
            message: format!(
                "`{c}` is not a cursor: pass the `next_cursor` of the previous page as it is"
            ),
        });
    }
    let filter = RunFilter {
        dataset: q.dataset.clone(),
        status,
        since,
        before: q.cursor.clone(),
        // One more than asked: whether there is a next page.
        limit: limit + 1,
    };
    let mut runs = ws.with_store(|s| Ok(s.read(|tx| tx.runs(&filter))?))?;
    let next_cursor = if runs.len() > limit {
        runs.truncate(limit);
        runs.last().map(|r| r.run_id.clone())
    } else {
        None
    };
    Ok(RunPage { runs, next_cursor })
}

/// One recorded run, with its report.
pub fn get(ws: &Workspace, run_id: &str) -> Result<RunDetail> {
    let found = if is_run_id(run_id) {
        ws.with_store(|s| Ok(s.read(|tx| tx.run(run_id))?))?
    } else {
        None
    };
    let (run, report) = found.ok_or_else(|| Error::UnknownRun {
        run_id: run_id.chars().take(80).collect(),
        store: ws
            .with_store(|s| Ok(s.what().to_string()))
            .unwrap_or_else(|_| "the state store".into()),
    })?;
    Ok(RunDetail { run, report })
}

/// Whether `s` can be a run id (a UUID's characters; nothing to escape or traverse).
pub fn is_run_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// Counts over every recorded run (runs by status, failed checks by dataset, each
/// dataset's last run), for a metrics endpoint.
pub fn totals(ws: &Workspace) -> Result<sluice_breaker::RunTotals> {
    ws.with_store(|s| Ok(s.read(|tx| tx.run_totals())?))
}
