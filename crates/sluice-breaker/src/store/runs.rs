//! Recorded runs, as the run views (`GET /api/runs`, the dashboard) and the metrics endpoint
//! read them: newest first, filtered by dataset, status and start time, a page at a time.
//!
//! Pages are keyed by run id: ids are UUID v7, so ordering by id is ordering by start
//! time, and the cursor of the next page is the last id of this one (stable while runs
//! are being recorded, unlike an offset).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sluice_spec::RunStatus;

use super::{Result, RunRecord, StoreError, Tx, i, ot, parse_ts, t, ts};

/// One dataset of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetRun {
    /// The dataset.
    pub dataset: String,
    /// `ok`, `error`...: the report's dataset status.
    pub status: String,
    /// How long its scan and checks took.
    pub duration_ms: u64,
    /// Its checks that failed.
    pub failed: u64,
}

/// Which runs to list.
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    /// Only runs that checked this dataset.
    pub dataset: Option<String>,
    /// Only runs that ended so.
    pub status: Option<RunStatus>,
    /// Only runs started at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Only runs older than this run id (the cursor of the previous page).
    pub before: Option<String>,
    /// At most this many.
    pub limit: usize,
}

/// A recorded run, without its report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRow {
    /// Its id.
    pub run_id: String,
    /// Start.
    pub started_at: String,
    /// End.
    pub finished_at: String,
    /// How it ended.
    pub status: String,
    /// The report's summary (counts by status).
    pub summary: serde_json::Value,
    /// The config file.
    pub config: String,
    /// Who ran it.
    pub actor: String,
    /// The datasets it checked.
    pub datasets: Vec<DatasetRun>,
}

/// Counts over every recorded run, for `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunTotals {
    /// Runs by status.
    pub runs: Vec<(String, u64)>,
    /// Failed checks by dataset, over all runs.
    pub failed_checks: Vec<(String, u64)>,
    /// Each dataset's last run: the run's id, when it finished, and the dataset's part.
    pub last: Vec<(String, String, DatasetRun)>,
}

const RUN_COLUMNS: &str = "run_id, started_at, finished_at, status, summary, config, actor";

impl Tx<'_> {
    /// Records the datasets of a run (in the run's transaction).
    pub(super) fn record_datasets(&mut self, run: &RunRecord) -> Result<()> {
        for d in &run.datasets {
            self.exec(
                "INSERT INTO run_datasets (run_id, dataset, status, duration_ms, failed, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (run_id, dataset) DO UPDATE SET status = excluded.status, duration_ms = excluded.duration_ms, failed = excluded.failed",
                &[
                    t(&run.run_id),
                    t(&d.dataset),
                    t(&d.status),
                    i(i64::try_from(d.duration_ms).unwrap_or(i64::MAX)),
                    i(i64::try_from(d.failed).unwrap_or(i64::MAX)),
                    t(ts(run.finished_at)),
                ],
            )?;
        }
        Ok(())
    }

    /// Recorded runs, newest first, as `f` filters them.
    pub fn runs(&mut self, f: &RunFilter) -> Result<Vec<RunRow>> {
        let rows = self.rows(
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs
                 WHERE (CAST(?1 AS TEXT) IS NULL
                        OR EXISTS (SELECT 1 FROM run_datasets d WHERE d.run_id = runs.run_id AND d.dataset = ?1)
                        OR EXISTS (SELECT 1 FROM check_results c WHERE c.run_id = runs.run_id AND c.dataset = ?1))
                   AND (CAST(?2 AS TEXT) IS NULL OR status = ?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR started_at >= ?3)
                   AND (CAST(?4 AS TEXT) IS NULL OR run_id < ?4)
                 ORDER BY run_id DESC LIMIT ?5"
            ),
            &[
                ot(f.dataset.as_deref()),
                ot(f.status.map(|s| s.as_str())),
                ot(f.since.map(ts)),
                ot(f.before.as_deref()),
                i(i64::try_from(f.limit).unwrap_or(i64::MAX)),
            ],
        )?;
        // The page's datasets in one query (its ids span a range: ids sort by start time).
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r[0].text().unwrap_or_default())
            .collect();
        let mut datasets = match (ids.last(), ids.first()) {
            (Some(lo), Some(hi)) => self.datasets_between(lo, hi)?,
            _ => HashMap::new(),
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let d = datasets.remove(&r[0].text().unwrap_or_default());
                run_row(r, d.unwrap_or_default())
            })
            .collect())
    }

    /// One run, and its report when it was recorded with one.
    pub fn run(&mut self, run_id: &str) -> Result<Option<(RunRow, Option<serde_json::Value>)>> {
        let rows = self.rows(
            &format!("SELECT {RUN_COLUMNS}, report FROM runs WHERE run_id = ?1"),
            &[t(run_id)],
        )?;
        let Some(mut r) = rows.into_iter().next() else {
            return Ok(None);
        };
        let report = r.pop().and_then(|v| v.text());
        let report = match report {
            Some(text) => Some(
                serde_json::from_str(&text).map_err(|e| StoreError::Invalid {
                    what: self.what.to_string(),
                    dataset: run_id.to_string(),
                    field: "report",
                    value: e.to_string(),
                })?,
            ),
            None => None,
        };
        let mut datasets = self.datasets_between(run_id, run_id)?;
        let d = datasets.remove(run_id).unwrap_or_default();
        Ok(Some((run_row(r, d), report)))
    }

    /// Counts over every run, for a metrics endpoint.
    pub fn run_totals(&mut self) -> Result<RunTotals> {
        let count = |v: &super::Val| v.int().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        let runs = self
            .rows(
                "SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status",
                &[],
            )?
            .into_iter()
            .map(|r| (r[0].text().unwrap_or_default(), count(&r[1])))
            .collect();
        let failed_checks = self
            .rows(
                "SELECT dataset, COUNT(*) FROM check_results WHERE status = 'fail' GROUP BY dataset ORDER BY dataset",
                &[],
            )?
            .into_iter()
            .map(|r| (r[0].text().unwrap_or_default(), count(&r[1])))
            .collect();
        let last = self
            .rows(
                "SELECT d.run_id, d.at, d.dataset, d.status, d.duration_ms, d.failed FROM run_datasets d
                 WHERE d.run_id = (SELECT MAX(e.run_id) FROM run_datasets e WHERE e.dataset = d.dataset)
                 ORDER BY d.dataset",
                &[],
            )?
            .into_iter()
            .map(|r| {
                (
                    r[0].text().unwrap_or_default(),
                    r[1].text().unwrap_or_default(),
                    DatasetRun {
                        dataset: r[2].text().unwrap_or_default(),
                        status: r[3].text().unwrap_or_default(),
                        duration_ms: count(&r[4]),
                        failed: count(&r[5]),
                    },
                )
            })
            .collect();
        Ok(RunTotals {
            runs,
            failed_checks,
            last,
        })
    }

    /// The datasets of the runs whose ids are in `lo..=hi`, by run id.
    fn datasets_between(&mut self, lo: &str, hi: &str) -> Result<HashMap<String, Vec<DatasetRun>>> {
        let mut out: HashMap<String, Vec<DatasetRun>> = HashMap::new();
        for d in self.rows(
            "SELECT run_id, dataset, status, duration_ms, failed FROM run_datasets WHERE run_id >= ?1 AND run_id <= ?2 ORDER BY run_id, dataset",
            &[t(lo), t(hi)],
        )? {
            out.entry(d[0].text().unwrap_or_default())
                .or_default()
                .push(DatasetRun {
                    dataset: d[1].text().unwrap_or_default(),
                    status: d[2].text().unwrap_or_default(),
                    duration_ms: d[3].int().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                    failed: d[4].int().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                });
        }
        Ok(out)
    }
}

/// A run's row, with its datasets.
fn run_row(r: Vec<super::Val>, datasets: Vec<DatasetRun>) -> RunRow {
    let time = |v: &super::Val| {
        v.text()
            .as_deref()
            .and_then(parse_ts)
            .map(ts)
            .unwrap_or_default()
    };
    RunRow {
        run_id: r[0].text().unwrap_or_default(),
        started_at: time(&r[1]),
        finished_at: time(&r[2]),
        status: r[3].text().unwrap_or_default(),
        summary: r[4]
            .text()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null),
        config: r[5].text().unwrap_or_default(),
        actor: r[6].text().unwrap_or_default(),
        datasets,
    }
}
