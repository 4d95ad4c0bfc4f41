//! Runs every check of one dataset: each check planned on its own ([`plan`]), one fused
//! aggregate scan for all of them ([`scan`]), the few own queries some checks need
//! ([`own`]), the verdicts, then LIMITed sample queries for the checks that failed
//! ([`samples`]). Checks that wait for others (`after:`) are settled in order, and skipped
//! when what they wait for fails ([`after`]).

mod after;
mod explain;
mod footer;
mod metrics;
mod own;
mod plan;
mod samples;
mod scan;

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use datafusion::common::{ScalarValue, TableReference};
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use futures::future::join_all;
use sluice_spec::{Check, Config, Dataset};
use tracing::instrument;

use crate::error::{CheckError, SourceError, SourceErrorKind, df_message};
use crate::evaluate::{errored, skipped};
use crate::history::{self, History};
use crate::parity::Extra;
use crate::progress::Progress;
use crate::report::{CheckResult, DatasetReport};
use crate::source::Source;
use after::Order;
use plan::{CheckPlan, extra_unit, plans_together};

/// What every dataset of a run shares.
pub(crate) struct RunContext<'a> {
    pub session: &'a SessionContext,
    /// One partition: sample queries read files in order and stop at the first N rows,
    /// so the same data always gives the same samples.
    pub sample_session: &'a SessionContext,
    pub config: &'a Config,
    pub sources: &'a HashMap<String, Result<Source, SourceError>>,
    pub now: DateTime<Utc>,
    pub progress: Option<&'a Progress>,
    /// Earlier metric values, for history checks.
    pub history: &'a History,
    /// Compute the dataset metrics (for recording) even without history checks.
    pub dataset_metrics: bool,
    /// Published versions to compare with, by dataset.
    pub published: &'a HashMap<String, crate::compare::Published>,
    /// The queries run on a cluster (Ballista): only plans its executors can run.
    pub distributed: bool,
}

/// What running a dataset produced.
pub(crate) struct DatasetOutcome {
    /// Its part of the report.
    pub report: DatasetReport,
    /// Its checks' results.
    pub results: Vec<CheckResult>,
    /// The values of the extra aggregates, in request order.
    pub extras: Vec<Result<ScalarValue, CheckError>>,
}

fn new_report(ds: &Dataset) -> DatasetReport {
    DatasetReport {
        name: ds.name.clone(),
        path: ds.path.clone(),
        format: None,
        status: "ok".into(),
        rows_scanned: None,
        files: None,
        queries: 0,
        duration_ms: 0,
        error: None,
        metrics: Default::default(),
        columns: vec![],
    }
}

/// The dataset's opened source and its table.
async fn table<'s>(
    cx: &'s RunContext<'_>,
    ds: &Dataset,
) -> Result<(&'s Source, DataFrame), SourceError> {
    let source = match cx.sources.get(&ds.name) {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(e.clone()),
        None => {
            return Err(SourceError::new(
                SourceErrorKind::Internal,
                &ds.location,
                "dataset was not opened",
            ));
        }
    };
    let df = cx
        .session
        .table(TableReference::bare(ds.name.as_str()))
        .await
        .map_err(|e| SourceError::new(SourceErrorKind::Invalid, &ds.location, df_message(&e)))?;
    Ok((source, df))
}

/// Runs `checks` of one dataset (all of them, or none when it is only scanned for other
/// comparisons) and the `extras` other comparisons need, in one fused scan.
#[instrument(name = "dataset", skip_all, fields(dataset = %ds.name, checks = checks.len(), rows = tracing::field::Empty, elapsed_ms = tracing::field::Empty))]
pub(crate) async fn run(
    cx: &RunContext<'_>,
    ds: &Dataset,
    checks: &[Check],
    extras: &[Extra],
) -> DatasetOutcome {
    let started = Instant::now();
    let mut report = new_report(ds);
    let (source, df) = match table(cx, ds).await {
        Ok(t) => t,
        Err(e) => return source_failed(cx, ds, checks, extras.len(), report, &e, started),
    };
    report.format = Some(source.format.name().to_string());
    report.files = Some(source.files);
    report.columns = source
        .schema
        .fields()
        .iter()
        .map(|f| crate::report::Column {
            name: f.name().clone(),
            data_type: crate::compile::type_name(f.data_type()),
            nullable: f.is_nullable(),
        })
        .collect();

    // 1. Plan each check on its own, so one bad check can't sink the scan; and the
    //    aggregates other comparisons asked of this dataset.
    //    All of them planned as one query first: when that plans, so does each.
    let mut plans: Vec<CheckPlan> = checks
        .iter()
        .map(|c| CheckPlan::new(cx, ds, source, &df, c, false))
        .collect();
    if !plans_together(&df, &plans) {
        plans = checks
            .iter()
            .map(|c| CheckPlan::new(cx, ds, source, &df, c, true))
            .collect();
    }
    for p in plans.iter_mut() {
        report.queries += p.attach_native(cx, source).await;
    }
    let mut extra_units: Vec<_> = extras.iter().map(|x| extra_unit(&df, x)).collect();
    let has_history = checks.iter().any(|c| c.kind.kind().is_history());
    let mut metric_units = if cx.dataset_metrics || has_history {
        metrics::plan(&df, checks, &source.schema)
    } else {
        vec![]
    };
    if !has_history {
        // Recorded for history if the data is read anyway; not a reason to read it.
        for (_, u) in metric_units.iter_mut() {
            u.optional = true;
        }
    }

    // 2. What planning alone decides (`schema` checks, checks that cannot be planned):
    //    the checks waiting for one of those that failed are skipped, left out of the scan.
    let mut order = Order::new(&plans, &source.schema);
    order.settle(
        |i| plans[i].settled_by_planning(),
        |i| plans[i].result(cx, ds, 0).status,
    );

    // 3. The fused scan.
    let units: scan::Units = plans
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| order.skipped(*i).is_none())
        .map(|(_, p)| (&mut p.unit, Some(p.check)))
        .chain(extra_units.iter_mut().map(|u| (u, None)))
        .chain(metric_units.iter_mut().map(|(_, u)| (u, None)))
        .collect();
    let total_rows = match scan::fused(cx, ds, source, &df, units, &mut report).await {
        Ok(n) => n,
        Err(e) => return source_failed(cx, ds, checks, extras.len(), report, &e, started),
    };
    tracing::Span::current().record("rows", total_rows);
    report.rows_scanned = Some(total_rows);

    // 4. The verdicts in dependency order, with the own queries (`unique`, `references`)
    //    after the fused scan so their memory does not add to its, concurrently with each
    //    other, in waves: a check's only once the checks it waits for passed.
    let mut tried = vec![false; plans.len()];
    loop {
        let waiting = order.settle(
            |i| tried[i] || !plans[i].has_own_query(),
            |i| plans[i].result(cx, ds, total_rows).status,
        );
        let wave: Vec<usize> = waiting.into_iter().filter(|&i| !tried[i]).collect();
        if wave.is_empty() {
            break;
        }
        let owns = join_all(wave.iter().map(|&i| own::run(cx, ds, source, &plans[i]))).await;
        report.queries += wave
            .iter()
            .zip(&owns)
            .filter(|(i, o)| o.is_some() && plans[**i].native_totals().is_none())
            .count() as u32;
        for (&i, o) in wave.iter().zip(owns) {
            plans[i].own = o;
            tried[i] = true;
        }
    }

    // 5. The results (the skipped ones say why), then samples for failed (and warned)
    //    checks.
    let mut results: Vec<CheckResult> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| match order.skipped(i) {
            Some(skip) => {
                tracing::debug!(check = %p.check.name, reason = %skip.message, "skipped");
                let location = cx.config.location(p.check.span).to_string();
                skipped(
                    p.check,
                    &ds.name,
                    location,
                    skip.by.clone(),
                    skip.message.clone(),
                )
            }
            None => p.result(cx, ds, total_rows),
        })
        .collect();
    if cx.dataset_metrics || has_history {
        report.metrics = metrics::values(metric_units, total_rows);
    }
    // History checks last: they watch the other checks' values and the dataset metrics.
    for (i, p) in plans.iter().enumerate() {
        let metric = match &p.check.kind {
            sluice_spec::CheckKind::Change { metric, .. } => metric,
            sluice_spec::CheckKind::Anomaly(a) => &a.metric,
            _ => continue,
        };
        if order.skipped(i).is_some() {
            continue;
        }
        let location = cx.config.location(p.check.span).to_string();
        // Watching a check that was skipped: skipped too, for the same reason.
        let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
        if let Some(w) = metric
            .check_name(&names)
            .and_then(|n| results.iter().find(|r| r.name == n))
            .filter(|r| r.status == crate::report::CheckStatus::Skipped)
        {
            let message = format!("skipped: it watches {}, which was skipped", w.name);
            results[i] = skipped(p.check, &ds.name, location, vec![w.name.clone()], message);
            continue;
        }
        let current = metrics::current(metric, &results, &report.metrics, &source.schema);
        results[i] = history::judge(p.check, &ds.name, location, total_rows, current, cx.history);
    }
    samples::fetch_all(cx, ds, source, &plans, &mut results, &mut report).await;

    report.duration_ms = started.elapsed().as_millis() as u64;
    tracing::Span::current().record("elapsed_ms", report.duration_ms);
    if let Some(p) = cx.progress {
        p.dataset_done();
    }
    DatasetOutcome {
        report,
        results,
        extras: extra_units.into_iter().map(|u| u.into_value()).collect(),
    }
}

/// Every check of `ds` errored with `message` (e.g. after a panic while checking it).
pub(crate) fn failed(
    cx: &RunContext<'_>,
    ds: &Dataset,
    checks: &[Check],
    extras: usize,
    message: &str,
) -> DatasetOutcome {
    let e = SourceError::new(SourceErrorKind::Internal, &ds.location, message);
    source_failed(cx, ds, checks, extras, new_report(ds), &e, Instant::now())
}

/// The outcome of a dataset that could not be read: every check `error` with why.
fn source_failed(
    cx: &RunContext<'_>,
    ds: &Dataset,
    checks: &[Check],
    extras: usize,
    mut report: DatasetReport,
    e: &SourceError,
    started: Instant,
) -> DatasetOutcome {
    report.status = "error".into();
    report.error = Some(e.message.clone());
    report.duration_ms = started.elapsed().as_millis() as u64;
    if let Some(p) = cx.progress {
        p.dataset_done();
    }
    let results = checks
        .iter()
        .map(|c| {
            errored(
                c,
                &ds.name,
                cx.config.location(c.span).to_string(),
                None,
                e.message.clone(),
            )
        })
        .collect();
    DatasetOutcome {
        report,
        results,
        extras: (0..extras)
            .map(|_| Err(CheckError::from(e.clone())))
            .collect(),
    }
}
