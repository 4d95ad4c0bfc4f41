//! One run, step by step: open every dataset the selection touches (concurrently), plan
//! the comparisons (they ask each side's fused scan for counts and aggregates), run each
//! dataset's checks in one fused scan (concurrently, within one memory pool), then the
//! comparisons one at a time (keyed diffs are joins, each may use the whole pool), and
//! assemble the report. A panic while reading or checking a dataset is caught and becomes
//! that dataset's error; the others still finish.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use chrono::{SecondsFormat, Utc};
use datafusion::prelude::SessionContext;
use futures::FutureExt;
use futures::future::join_all;
use sluice_spec::{Config, Dataset, Parity, Reconcile};
use tracing::{Instrument, info, info_span};

use crate::dataset::{self, DatasetOutcome, RunContext};
use crate::error::{CheckError, Result, SourceError, SourceErrorKind};
use crate::parity::{self, Extra, ExtraValues, Extras, ParityPlan};
use crate::reconcile::{self, ReconcilePlan};
use crate::report::{CheckResult, DatasetReport, RunReport};
use crate::source::{self, Source};
use crate::{RunOptions, Selection, session};

/// A panic inside DataFusion or a format reader, as a message (the run goes on).
fn internal(panic: &(dyn std::any::Any + Send), doing: &str) -> String {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    format!(
        "internal error while {doing}: {what}; please report it at https://github.com/sluice-data/sluice/issues"
    )
}

/// Runs the selection `sel` of `config`.
pub(crate) async fn run(
    config: &Config,
    opts: &RunOptions,
    sel: &Selection<'_>,
) -> Result<RunReport> {
    let run_id = opts.run_id.clone().unwrap_or_else(crate::new_run_id);
    let span = info_span!("run", %run_id, datasets = tracing::field::Empty, checks = tracing::field::Empty);
    async {
        let started_at = Utc::now();
        let clock = Instant::now();
        // The run id on the events themselves too: the run span is not enabled when only
        // this target is (Airflow's default).
        info!(target: RUN_TARGET, %run_id, config = %config.file.path().display(), "run started");
        let session =
            session::for_engine(&opts.engine, opts.memory_limit, opts.target_partitions).await?;
        let sample_session = one_partition(&session);
        let to_open = datasets_to_open(config, sel);
        let mut sources = open_all(&session, &to_open, &opts.frames, &opts.engine).await;
        let baselines = published_to_open(sel, opts);
        let baseline_refs: Vec<&Dataset> = baselines.iter().collect();
        sources.extend(open_all(&session, &baseline_refs, &Default::default(), &opts.engine).await);
        // Test builds: a test changes the data here (deletes an object) to see a read fail.
        sluice_spec::fault::fault("sources-opened");

        let mut extras = Extras::default();
        let parity_plans: Vec<_> = sel
            .parities
            .iter()
            .map(|(ds, p)| (*ds, *p, parity::plan(ds, p, &sources, &mut extras)))
            .collect();
        let reconcile_plans: Vec<_> = sel
            .reconciles
            .iter()
            .map(|r| (*r, reconcile::plan(r, &sources, &mut extras)))
            .collect();

        let cx = RunContext {
            session: &session,
            sample_session: &sample_session,
            config,
            sources: &sources,
            now: opts.now,
            progress: opts.progress.as_deref(),
            history: &opts.history,
            dataset_metrics: opts.dataset_metrics,
            published: &opts.published,
            distributed: opts.engine.is_distributed(),
        };
        let scans = scan_all(&cx, opts, sel, &to_open, &extras).await;
        let comparisons = Comparisons {
            parities: &parity_plans,
            reconciles: &reconcile_plans,
        };
        let (datasets, checks) = assemble(&cx, opts, sel, scans, comparisons).await;

        let retries = session::retries(&session).await;
        let (summary, status) = RunReport::summarize(&checks);
        let span = tracing::Span::current();
        span.record("datasets", datasets.len());
        span.record("checks", checks.len());
        log_checks(&datasets, &checks);
        info!(
            target: RUN_TARGET,
            %run_id,
            status = status.as_str(),
            elapsed_ms = clock.elapsed().as_millis() as u64,
            "run finished"
        );
        Ok(RunReport {
            sluice_version: env!("CARGO_PKG_VERSION").to_string(),
            run_id: run_id.clone(),
            started_at: started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            finished_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            duration_ms: clock.elapsed().as_millis() as u64,
            now: opts.now.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            config: config.file.path().display().to_string(),
            status,
            summary,
            datasets,
            checks,
            retries,
        })
    }
    .instrument(span)
    .await
}

/// The target of a run's start and finish events (its run id, from the span): the CLI
/// turns it on by default where a run must be findable in a log (Airflow).
pub const RUN_TARGET: &str = "sluice::run";

/// One `info` event per check result (target `sluice::check`), for structured logs: the
/// dataset, the check, its kind, status and duration — its own query's, or else its
/// dataset's (the fused scan all its checks share).
fn log_checks(datasets: &[DatasetReport], checks: &[CheckResult]) {
    for c in checks {
        let duration_ms = c.duration_ms.or_else(|| {
            datasets
                .iter()
                .find(|d| d.name == c.dataset)
                .map(|d| d.duration_ms)
        });
        info!(
            target: "sluice::check",
            dataset = %c.dataset,
            check = %c.name,
            kind = %c.kind,
            status = c.status.as_str(),
            duration_ms,
            "check finished"
        );
    }
}

/// The session of sample queries: one partition, so files are read in order and the same
/// data always gives the same samples.
fn one_partition(session: &SessionContext) -> SessionContext {
    let mut state = session.state();
    state.config_mut().options_mut().execution.target_partitions = 1;
    SessionContext::new_with_state(state)
}

/// Every dataset the selection touches: checked ones, those their `references` checks
/// point at, both sides of each parity, every dataset of a reconciliation.
pub(crate) fn datasets_to_open<'c>(config: &'c Config, sel: &Selection<'c>) -> Vec<&'c Dataset> {
    let mut to_open: Vec<&Dataset> = Vec::new();
    let mut want = |name: &str| {
        if let Ok(d) = config.dataset(name)
            && !to_open.iter().any(|o| o.name == d.name)
        {
            to_open.push(d);
        }
    };
    for ds in &sel.checked {
        want(&ds.name);
        for c in &ds.checks {
            for dataset in c.kind.datasets() {
                want(dataset);
            }
            if let Some(other) = crate::compare::other_table(c, &ds.name) {
                want(&other);
            }
        }
    }
    for (ds, p) in &sel.parities {
        want(&ds.name);
        want(&p.against);
    }
    for r in &sel.reconciles {
        for d in &r.datasets {
            want(d);
        }
    }
    to_open
}

/// The published versions the checked datasets' checks compare with, as datasets of
/// their own (`<name>@published`: the same format and options, the published location).
fn published_to_open(sel: &Selection<'_>, opts: &RunOptions) -> Vec<Dataset> {
    sel.checked
        .iter()
        .filter(|d| d.checks.iter().any(crate::compare::uses_published))
        .filter_map(|d| {
            let p = opts.published.get(&d.name)?;
            let mut baseline = (*d).clone();
            baseline.name = crate::compare::published_table(&d.name);
            baseline.location = p.location.clone();
            baseline.path = p.location.display().to_string();
            baseline.checks = vec![];
            baseline.parity = vec![];
            Some(baseline)
        })
        .collect()
}

/// Opens every dataset concurrently: each a table of `session`, or why not.
async fn open_all(
    session: &SessionContext,
    to_open: &[&Dataset],
    frames: &crate::frame::Frames,
    engine: &crate::Engine,
) -> HashMap<String, std::result::Result<Source, SourceError>> {
    let opened = join_all(to_open.iter().map(|ds| async {
        if let Some(frame) = frames.get(&ds.name) {
            if engine.is_distributed() {
                let refused = source::not_on_cluster(ds, "an in-memory frame", engine);
                return (ds.name.clone(), Err(refused));
            }
            return (ds.name.clone(), crate::frame::open(session, ds, frame));
        }
        let opened = AssertUnwindSafe(source::open_for(session, ds, engine))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Err(SourceError::new(
                    SourceErrorKind::Internal,
                    &ds.location,
                    internal(&*panic, "opening the source"),
                ))
            });
        (ds.name.clone(), opened)
    }))
    .await;
    opened.into_iter().collect()
}

/// What scanning the datasets gave.
struct Scans {
    /// The extra aggregates' values, per dataset.
    values: ExtraValues,
    /// The checked datasets' reports, in scan order.
    datasets: Vec<DatasetReport>,
    /// Their checks' results.
    by_dataset: HashMap<String, Vec<CheckResult>>,
}

/// Scans every dataset that is checked or that a comparison asked aggregates of: each
/// in one fused scan, all concurrently.
async fn scan_all(
    cx: &RunContext<'_>,
    opts: &RunOptions,
    sel: &Selection<'_>,
    to_open: &[&Dataset],
    extras: &Extras,
) -> Scans {
    let scanned: Vec<(&Dataset, bool, Vec<Extra>)> = to_open
        .iter()
        .map(|d| {
            let checked = sel.checked.iter().any(|c| c.name == d.name);
            let x = extras.per_dataset.get(&d.name).cloned().unwrap_or_default();
            (*d, checked, x)
        })
        .filter(|(_, checked, x)| *checked || !x.is_empty())
        .collect();
    if let Some(p) = &opts.progress {
        p.set_total(scanned.len());
    }
    let outcomes = join_all(scanned.iter().map(|(ds, checked, x)| {
        let checks: &[sluice_spec::Check] = if *checked { &ds.checks } else { &[] };
        scan_one(cx, ds, checks, x)
    }))
    .await;
    let mut scans = Scans {
        values: HashMap::new(),
        datasets: Vec::new(),
        by_dataset: HashMap::new(),
    };
    for ((ds, checked, _), outcome) in scanned.iter().zip(outcomes) {
        scans.values.insert(ds.name.clone(), outcome.extras);
        if *checked {
            scans.datasets.push(outcome.report);
            scans.by_dataset.insert(ds.name.clone(), outcome.results);
        }
    }
    scans
}

/// One dataset's checks and extras; a panic becomes every check's error.
async fn scan_one(
    cx: &RunContext<'_>,
    ds: &Dataset,
    checks: &[sluice_spec::Check],
    extras: &[Extra],
) -> DatasetOutcome {
    match AssertUnwindSafe(dataset::run(cx, ds, checks, extras))
        .catch_unwind()
        .await
    {
        Ok(outcome) => outcome,
        Err(panic) => dataset::failed(
            cx,
            ds,
            checks,
            extras.len(),
            &internal(&*panic, "checking the dataset"),
        ),
    }
}

/// The planned comparisons of a run.
struct Comparisons<'p, 'c> {
    parities: &'p [(
        &'c Dataset,
        &'c Parity,
        std::result::Result<ParityPlan<'c>, CheckError>,
    )],
    reconciles: &'p [(
        &'c Reconcile,
        std::result::Result<ReconcilePlan<'c>, CheckError>,
    )],
}

/// Runs the comparisons one at a time and puts every result in report order: each checked
/// dataset's checks then its parity checks, parity declared on a stage's inputs, then the
/// reconciliations.
async fn assemble(
    cx: &RunContext<'_>,
    opts: &RunOptions,
    sel: &Selection<'_>,
    mut scans: Scans,
    comparisons: Comparisons<'_, '_>,
) -> (Vec<DatasetReport>, Vec<CheckResult>) {
    let (session, config) = (cx.session, cx.config);
    let settings = parity::DiffSettings {
        diff_output: opts.diff_output.as_ref(),
        memory_limit: opts.memory_limit,
    };
    let mut parity_results: Vec<(String, CheckResult)> = Vec::new();
    for (ds, p, plan) in comparisons.parities {
        let result = match plan {
            Ok(plan) => parity::evaluate(session, config, plan, &scans.values, &settings).await,
            Err(e) => CheckResult {
                message: e.message.clone(),
                ..parity::skeleton(config, ds, p)
            },
        };
        parity_results.push((ds.name.clone(), result));
    }
    let mut checks = Vec::new();
    for ds in &sel.checked {
        checks.extend(scans.by_dataset.remove(&ds.name).unwrap_or_default());
        checks.extend(
            parity_results
                .iter()
                .filter(|(d, _)| *d == ds.name)
                .map(|(_, r)| r.clone()),
        );
    }
    // Parity declared on a stage's inputs (not themselves checked).
    checks.extend(
        parity_results
            .iter()
            .filter(|(d, _)| !sel.checked.iter().any(|c| &c.name == d))
            .map(|(_, r)| r.clone()),
    );
    for (r, plan) in comparisons.reconciles {
        checks.push(match plan {
            Ok(plan) => reconcile::evaluate(session, config, plan, &scans.values).await,
            Err(e) => CheckResult {
                message: e.message.clone(),
                ..reconcile::skeleton(config, r)
            },
        });
    }
    (scans.datasets, checks)
}
