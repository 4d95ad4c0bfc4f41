//! Check: run the checks a request selects, record the run (its results and metric history)
//! in the state store and move the breakers of the datasets it checked.
//!
//! History checks (`change`, `anomaly`) read the earlier values of their metrics from the
//! store before the run, for the run's series (its partition, dates as `*`) and earlier
//! logical dates; see `sluice_breaker::store::metrics`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sluice_breaker::publish::Layout;
use sluice_breaker::{
    CheckRecord, DatasetRun, MetricPoint, Outcome, Partition, PointQuery, RunRecord, RunRecording,
    Store, Transition,
};
use sluice_engine::history::{History, Point};
use sluice_engine::{CheckStatus, Progress, Published, RunOptions, RunReport};
use sluice_spec::Config;
use tracing::Instrument;

use crate::error::Result;
use crate::openlineage::{self, Emitter, End, JobPlan};
use crate::workspace::Workspace;

/// What to check, and how.
#[derive(Clone, Debug, Default)]
pub struct CheckRequest {
    /// Only these datasets (all when empty and no stage is given).
    pub datasets: Vec<String>,
    /// Only this stage: its outputs' checks, the parity between its inputs and outputs,
    /// and its reconciliations.
    pub stage: Option<String>,
    /// Write every keyed diff's differing rows to Parquet files in this folder.
    pub diff_output: Option<PathBuf>,
    /// "Now" for freshness checks (default: the workspace's clock).
    pub now: Option<DateTime<Utc>>,
    /// Bound on the query engine's memory, in bytes; spills to disk beyond it.
    pub memory_limit: Option<usize>,
    /// Parallelism of each query (default: the number of cores).
    pub target_partitions: Option<usize>,
    /// Live progress, for a progress display.
    pub progress: Option<Arc<Progress>>,
    /// Record the run and move breakers (`false`: `--no-state`).
    pub record: bool,
    /// The slice of the data this run checks (`--partition ds=2026-11-30`): history is
    /// recorded under it and compared within its series.
    pub partition: Partition,
    /// Announce the run as OpenLineage events (START, then COMPLETE or FAIL) through this.
    pub openlineage: Option<Emitter>,
    /// The run's id (default: a new one). A caller that hands the id out before the run
    /// ends (the HTTP server's background checks) makes it with
    /// [`sluice_engine::new_run_id`].
    pub run_id: Option<String>,
    /// In-memory frames standing in for datasets' `path` (by dataset name), from the
    /// Python module or a Rust program.
    pub frames: sluice_engine::frame::Frames,
}

/// Checks what `req` names (datasets, stage) without running anything: the error
/// [`check`] would stop with, found before a caller queues the run.
pub fn validate_request(ws: &Workspace, req: &CheckRequest) -> Result<()> {
    sluice_engine::select(ws.config(), &req.datasets, req.stage.as_deref())?;
    Ok(())
}

/// What a check did.
#[derive(Clone, Debug)]
pub struct CheckOutcome {
    /// The report.
    pub report: RunReport,
    /// The breakers it moved, in order (empty when not recorded).
    pub transitions: Vec<Transition>,
}

/// Runs the checks `req` selects. The names are checked first, then the store is opened
/// (when recording): if either fails, nothing runs. A dataset that cannot be read is in the
/// report (status `error`), not an error.
pub async fn check(ws: &Workspace, req: CheckRequest) -> Result<CheckOutcome> {
    let config = ws.config();
    let selection = sluice_engine::select(config, &req.datasets, req.stage.as_deref())?;
    if req.record {
        ws.open_store()?;
    }
    let run_id = req.run_id.clone().unwrap_or_else(sluice_engine::new_run_id);
    let announced = openlineage::announce(
        req.openlineage.as_ref(),
        &run_id,
        req.partition.logical(),
        || JobPlan::check(config, &selection, req.stage.as_deref()),
    );
    let checked: Vec<&str> = selection.checked.iter().map(|d| d.name.as_str()).collect();
    let result = run_and_record(ws, req, &checked, run_id).await;
    if let Some(a) = announced {
        match &result {
            Ok(o) => a.finish(End::Ran(&o.report)).await,
            Err(e) => a.finish(End::Errored(&e.to_string())).await,
        }
    }
    result
}

/// The run of [`check`] once its selection is known and announced.
async fn run_and_record(
    ws: &Workspace,
    req: CheckRequest,
    checked: &[&str],
    run_id: String,
) -> Result<CheckOutcome> {
    let config = ws.config();
    let history = history(ws, config, checked, &req.partition, req.record)?;
    let opts = RunOptions {
        datasets: req.datasets,
        stage: req.stage,
        diff_output: req.diff_output,
        now: req.now.unwrap_or_else(|| ws.now()),
        memory_limit: req.memory_limit,
        target_partitions: req.target_partitions,
        progress: req.progress,
        history: Arc::new(history),
        // Recorded as history, and reported to OpenLineage as `dataQualityMetrics`.
        dataset_metrics: req.record || req.openlineage.is_some(),
        published: previous_versions(config),
        run_id: Some(run_id),
        frames: req.frames,
        engine: ws.engine(),
    };
    let report = run(config, &opts).await?;
    let transitions = if req.record {
        let actor = ws.actor(None);
        let t = ws.with_store(|store| record(store, config, &report, &actor, &req.partition))?;
        crate::notify::after_run(ws, &report, &t).await;
        t
    } else {
        vec![]
    };
    Ok(CheckOutcome {
        report,
        transitions,
    })
}

/// Under `sluice check`, the data at a published dataset's `path` is its current version:
/// the checks that compare with "the published version" compare it with the version
/// before it (none: they pass with a note).
fn previous_versions(config: &Config) -> HashMap<String, Published> {
    config
        .datasets
        .iter()
        .filter(|d| d.staging.is_some())
        .filter(|d| d.checks.iter().any(sluice_engine::compare::uses_published))
        .filter_map(|d| {
            let layout = Layout::of(d);
            let current: u64 = layout.current()?.strip_prefix('v')?.parse().ok()?;
            let (_, previous) = layout.versions().into_iter().rfind(|(k, _)| *k < current)?;
            Some((
                d.name.clone(),
                Published {
                    location: layout.versions.join(&previous),
                    label: format!("the previous version {previous}"),
                },
            ))
        })
        .collect()
}

/// Runs the engine (the caller's runtime drives it).
pub(crate) async fn run(config: &Config, opts: &RunOptions) -> Result<RunReport> {
    let span = tracing::info_span!("check", config = %config.file.path().display());
    Ok(sluice_engine::run(config, opts).instrument(span).await?)
}

/// The earlier values the history checks of `datasets` compare with: for each watched
/// metric, the points of `partition`'s series before its logical date (the partition's
/// date, else now). Without the store (`record` false), none, and the checks say why.
pub(crate) fn history(
    ws: &Workspace,
    config: &Config,
    datasets: &[&str],
    partition: &Partition,
    record: bool,
) -> Result<History> {
    let logical = partition.logical().unwrap_or_else(|| ws.now());
    let mut h = History {
        logical: Some(logical),
        ..History::default()
    };
    let wanted: Vec<(String, String)> = config
        .datasets
        .iter()
        .filter(|d| datasets.contains(&d.name.as_str()))
        .flat_map(|d| sluice_engine::history::wanted(&d.name, &d.checks))
        .collect();
    if wanted.is_empty() {
        return Ok(h);
    }
    if !record {
        h.unavailable = Some("--no-state: no history is read".into());
        return Ok(h);
    }
    let series = partition.series();
    let _span = tracing::info_span!("history", metrics = wanted.len()).entered();
    ws.with_store(|store| {
        store.write(|tx| {
            for (dataset, metric) in wanted {
                let points = tx.metric_points(&PointQuery {
                    dataset: &dataset,
                    metric: Some(&metric),
                    series: Some(&series),
                    before: Some(logical),
                    last: None,
                })?;
                let points = points
                    .into_iter()
                    .map(|p| Point {
                        run_id: p.run_id,
                        logical: p.logical_at,
                        value: p.value,
                        passed: p.passed,
                    })
                    .collect();
                h.points.insert((dataset, metric), points);
            }
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(h)
}

/// Records a finished run (its results and metric history, under `partition`) and moves
/// the breakers of the datasets it checked; returns the transitions.
pub(crate) fn record(
    store: &mut Store,
    config: &Config,
    report: &RunReport,
    actor: &str,
    partition: &Partition,
) -> Result<Vec<Transition>> {
    let at = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now())
    };
    let finished = at(&report.finished_at);
    let run = RunRecord {
        run_id: report.run_id.clone(),
        started_at: at(&report.started_at),
        finished_at: finished,
        status: report.status,
        summary: serde_json::to_value(&report.summary).unwrap_or(serde_json::Value::Null),
        config: report.config.clone(),
        actor: actor.to_string(),
        report: serde_json::to_value(report).ok(),
        datasets: report
            .datasets
            .iter()
            .map(|d| DatasetRun {
                dataset: d.name.clone(),
                status: d.status.clone(),
                duration_ms: d.duration_ms,
                failed: report
                    .checks
                    .iter()
                    .filter(|c| c.dataset == d.name && c.status == CheckStatus::Fail)
                    .count() as u64,
            })
            .collect(),
    };
    let checks: Vec<CheckRecord> = report
        .checks
        .iter()
        .map(|c| CheckRecord {
            dataset: c.dataset.clone(),
            name: c.name.clone(),
            kind: c.kind.clone(),
            severity: c.severity,
            status: c.status,
            observed: c.observed.clone(),
            message: c.message.clone(),
        })
        .collect();
    let mut outcomes = Vec::new();
    let mut metrics = Vec::new();
    let logical = partition
        .logical()
        .unwrap_or_else(|| at(&report.started_at));
    for d in &report.datasets {
        let Ok(ds) = config.dataset(&d.name) else {
            continue;
        };
        // The cluster failed, not the data: the run is `error`, and no breaker moves.
        if report.checks.iter().any(|c| {
            c.dataset == d.name
                && c.status == CheckStatus::Error
                && sluice_engine::is_cluster_failure(&c.message)
        }) {
            continue;
        }
        let mut failing: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.dataset == d.name)
            .filter(|c| sluice_breaker::machine::counts(&ds.breaker, c.severity, c.status))
            .map(|c| c.name.clone())
            .collect();
        if d.status == "error" && failing.is_empty() {
            failing.push("unreadable".to_string());
        }
        let point = |metric: String, value: f64, status: &str| MetricPoint {
            run_id: report.run_id.clone(),
            dataset: d.name.clone(),
            metric,
            value,
            partition: partition.clone(),
            logical_at: logical,
            at: finished,
            status: status.to_string(),
            passed: failing.is_empty(),
        };
        for (name, v) in &d.metrics {
            metrics.push(point(name.clone(), *v, "ok"));
        }
        for c in report.checks.iter().filter(|c| c.dataset == d.name) {
            for (name, v) in c.metrics() {
                metrics.push(point(name, v, c.status.as_str()));
            }
        }
        let unverified: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.dataset == d.name)
            .filter(|c| sluice_breaker::machine::unverified(&ds.breaker, c.severity, c.status))
            .map(|c| c.name.clone())
            .collect();
        outcomes.push((
            ds.breaker,
            Outcome {
                run_id: report.run_id.clone(),
                at: finished,
                failing,
                unverified,
            },
            d.name.clone(),
        ));
    }
    let keep = chrono::Duration::from_std(config.history.keep).unwrap_or(chrono::Duration::MAX);
    let rec = RunRecording {
        run: &run,
        checks: &checks,
        metrics: &metrics,
        forget_before: finished.checked_sub_signed(keep),
    };
    Ok(sluice_breaker::record_run(store, &rec, &outcomes)?)
}
