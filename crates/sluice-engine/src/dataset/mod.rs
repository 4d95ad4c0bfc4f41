//! Runs every check of one dataset: each check planned on its own ([`plan`]), one fused
//! aggregate scan for all of them ([`scan`]), the few own queries some checks need
//! ([`own`]), the verdicts, then LIMITed sample queries for the checks that failed
//! ([`samples`]).

mod explain;
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
use crate::evaluate::errored;
use crate::parity::Extra;
use crate::progress::Progress;
use crate::report::{CheckResult, DatasetReport};
use crate::source::Source;
use plan::{CheckPlan, extra_unit};

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
    /// Published versions to compare with, by dataset.
    pub published: &'a HashMap<String, crate::compare::Published>,
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

    // 1. Plan each check on its own, so one bad check can't sink the scan; and the
    //    aggregates other comparisons asked of this dataset.
    let mut plans: Vec<CheckPlan> = checks
        .iter()
        .map(|c| CheckPlan::new(cx, ds, source, &df, c))
        .collect();
    let mut extra_units: Vec<_> = extras.iter().map(|x| extra_unit(&df, x)).collect();

    // 2. The fused scan.
    let units: scan::Units = plans
        .iter_mut()
        .map(|p| (&mut p.unit, Some(p.check)))
        .chain(extra_units.iter_mut().map(|u| (u, None)))
        .collect();
    let total_rows = match scan::fused(cx, ds, source, &df, units, &mut report).await {
        Ok(n) => n,
        Err(e) => return source_failed(cx, ds, checks, extras.len(), report, &e, started),
    };
    tracing::Span::current().record("rows", total_rows);
    report.rows_scanned = Some(total_rows);

    // 3. Own queries (`unique`, `references`), after the fused scan so their memory does
    //    not add to its, concurrently with each other.
    let owns = join_all(plans.iter().map(|p| own::run(cx, ds, source, p))).await;
    report.queries += owns.iter().filter(|o| o.is_some()).count() as u32;
    for (p, o) in plans.iter_mut().zip(owns) {
        p.own = o;
    }

    // 4. The verdicts, then 5. samples for failed (and warned) checks.
    let mut results: Vec<CheckResult> =
        plans.iter().map(|p| p.result(cx, ds, total_rows)).collect();
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
